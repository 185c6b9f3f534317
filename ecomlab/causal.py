"""Causal evaluation of programmes that customers opt into (chapters 04 and 06).

When customers choose to join (a fan group 粉丝群, a membership, a programme), the naive
member vs non-member gap mixes the programme's effect with who joins. This module holds
the designs that separate them, each with the diagnostics that make its claim credible:

* :func:`fan_group_panel` — a customer x period panel (pre / post) with the covariates
  the selection used;
* :func:`naive_member_gap` — what a dashboard shows (not causal);
* :func:`did_estimate` — difference-in-differences (Poisson or OLS), cluster-robust;
* :func:`matching_estimate` — coarsened exact or nearest-neighbour matching (ATT);
  :func:`cem_weights` — the matching weights, for a *matched* DiD or event study;
* :func:`balance_table` — standardised mean differences before / after matching;
* :func:`customer_period_panel` and :func:`event_study` — leads and lags with intervals
  and the joint test of the leads (the testable part of parallel trends);
* :func:`placebo_tests` — DiD on periods when nothing happened.

References: Angrist & Pischke (2009) *Mostly Harmless Econometrics*, ch. 5; Iacus, King &
Porro (2012) for coarsened exact matching; Wooldridge (2023) for the Poisson DiD.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ecomlab import metrics
from ecomlab.users._common import (
    _DAY_US,
    _binary,
    _codes,
    _group_min_max,
    _numeric,
    _prepare_orders,
    _require,
    _Result,
    _ts,
    _us,
)
from ecomlab.validation import require_columns


def fan_group_panel(
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    start: str | pd.Timestamp,
    pre: tuple[str | pd.Timestamp, str | pd.Timestamp],
    post: tuple[str | pd.Timestamp, str | pd.Timestamp],
    *,
    join_col: str = "joined_fan_group_date",
    statuses: Sequence[str] = metrics.VALID_STATUSES,
    crm_date: str | pd.Timestamp | None = None,
    member_col: str = "member_join_date",
) -> pd.DataFrame:
    """Customer x period panel (pre / post) for the fan-group (私域社群) evaluation.

    ``start`` (the programme's launch), ``pre`` and ``post`` (half-open date ranges) have
    no defaults: they are the study's design and come from the analyst, not the library.

    Rules (all stated, all counted in ``panel.attrs["excluded"]``):

    * eligible customers were acquired before ``pre[0]`` (first purchase earlier), so
      both periods are fully observed and the first order is not in the pre period;
    * ``joined`` = joined the group in ``[post[0], post[1])``; customers joining after
      ``post[1]`` are excluded (they are neither treated nor clean controls);
    * ``orders`` = purchases in the period; for joiners the post period starts at
      their join date (``exposure_days`` is shortened to match), so the estimate is
      the effect *after joining*;
    * covariates for matching: ``pre_orders``, ``recency_days`` (days from the last
      purchase before ``start`` to ``start``), ``tenure_days`` (days since the first
      purchase at ``start``);
    * the CRM view the invitation list was built from, at ``crm_date`` (default
      ``pre[0]``): ``crm_orders`` (purchases before it), ``crm_recency_days`` (days
      since the last of them) and, when ``customers`` has ``member_col``,
      ``crm_member`` (1 if a member by then). Matching on what selection actually used
      is what makes a matching estimate credible (:func:`matching_estimate`).

    Columns: ``customer_id``, ``period`` ("pre"/"post"), ``post`` (0/1), ``joined``
    (0/1), ``orders``, ``exposure_days``, ``pre_orders``, ``recency_days``,
    ``tenure_days``, ``crm_orders``, ``crm_recency_days`` [, ``crm_member``]. Two rows
    per customer.

    >>> o = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2024-06-01", "2025-08-01", "2024-03-01"]),
    ...     "status": ["completed"] * 3})
    >>> c = pd.DataFrame({"customer_id": ["a", "b"], "joined_fan_group_date": pd.to_datetime(["2025-07-10", None])})
    >>> fan_group_panel(o, c, "2025-07-01", ("2025-01-01", "2025-07-01"), ("2025-07-01", "2026-01-01"))["orders"].tolist()
    [0, 1, 0, 0]
    """
    _require(customers, ["customer_id", join_col], "customers")
    start_t = _ts(start, "start")
    pre0, pre1 = _ts(pre[0], "pre[0]"), _ts(pre[1], "pre[1]")
    post0, post1 = _ts(post[0], "post[0]"), _ts(post[1], "post[1]")
    if not (pre0 < pre1 <= post0 < post1):
        raise ValueError("expected pre[0] < pre[1] <= post[0] < post[1]")
    if customers["customer_id"].duplicated().any():
        raise ValueError("customers has duplicated 'customer_id'; expected one row per customer")
    jc = customers[join_col]
    if not pd.api.types.is_datetime64_any_dtype(jc):
        raise ValueError(f"customers[{join_col!r}] must be datetime (NaT = never joined), got {jc.dtype}")
    po = _prepare_orders(orders, statuses=statuses, amount=None, before=post1)
    k = len(po.customers)
    first, _ = _group_min_max(po.codes, po.ts_us, k)
    before_start = po.ts_us < _us(start_t)
    last_before = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_before, po.codes[before_start], po.ts_us[before_start])
    join = customers.set_index("customer_id")[join_col].reindex(po.customers)
    join_us = join.to_numpy(dtype="datetime64[us]").view("int64")
    has_join = ~np.isnat(join.to_numpy(dtype="datetime64[us]"))
    eligible = first < _us(pre0)
    late_join = has_join & (join_us >= _us(post1))
    joined = has_join & ~late_join
    post_start = np.where(joined, np.maximum(join_us, _us(post0)), _us(post0))
    keep = eligible & ~late_join
    c, tsu = po.codes, po.ts_us
    in_pre = (tsu >= _us(pre0)) & (tsu < _us(pre1))
    in_post = (tsu >= post_start[c]) & (tsu < _us(post1))
    n_pre = np.bincount(c, weights=in_pre, minlength=k).astype(np.int64)
    n_post = np.bincount(c, weights=in_post, minlength=k).astype(np.int64)
    pre_days = (pre1 - pre0) / pd.Timedelta(days=1)
    post_days = (_us(post1) - post_start) / _DAY_US
    sel = np.flatnonzero(keep)
    m = len(sel)
    if m == 0:
        raise ValueError(f"no customer acquired before pre[0]={pre0:%Y-%m-%d}; nothing to compare")
    rec = np.where(last_before[sel] > np.iinfo(np.int64).min, (_us(start_t) - last_before[sel]) / _DAY_US, np.nan)
    crm_t = pre0 if crm_date is None else _ts(crm_date, "crm_date")
    before_crm = po.ts_us < _us(crm_t)
    n_crm = np.bincount(po.codes[before_crm], minlength=k).astype(np.int64)
    last_crm = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_crm, po.codes[before_crm], po.ts_us[before_crm])
    crm_rec = np.where(last_crm[sel] > np.iinfo(np.int64).min, (_us(crm_t) - last_crm[sel]) / _DAY_US, np.nan)
    base = {
        "customer_id": np.repeat(np.asarray(po.customers)[sel], 2),
        "period": pd.Categorical(np.tile(["pre", "post"], m), categories=["pre", "post"], ordered=True),
        "post": np.tile([0, 1], m).astype(np.int64),
        "joined": np.repeat(joined[sel].astype(np.int64), 2),
        "orders": np.column_stack([n_pre[sel], n_post[sel]]).ravel(),
        "exposure_days": np.column_stack([np.full(m, pre_days), post_days[sel]]).ravel(),
        "pre_orders": np.repeat(n_pre[sel], 2),
        "recency_days": np.repeat(rec, 2),
        "tenure_days": np.repeat((_us(start_t) - first[sel]) / _DAY_US, 2),
        "crm_orders": np.repeat(n_crm[sel], 2),
        "crm_recency_days": np.repeat(crm_rec, 2),
    }
    if member_col in customers.columns:
        mj = customers.set_index("customer_id")[member_col].reindex(np.asarray(po.customers)[sel])
        if not pd.api.types.is_datetime64_any_dtype(mj):
            raise ValueError(f"customers[{member_col!r}] must be datetime (NaT = never), got {mj.dtype}")
        base["crm_member"] = np.repeat((mj < crm_t).to_numpy(dtype=bool).astype(np.int64), 2)
    panel = pd.DataFrame(base)
    panel["customer_id"] = panel["customer_id"].astype("str")
    # hash lookup: Series.isin on Arrow-backed strings loops in Python (~1 s at 30k)
    not_in_orders = int((pd.Index(po.customers).get_indexer(customers["customer_id"]) < 0).sum())
    panel.attrs["excluded"] = {
        **po.excluded,
        "customers: acquired on/after pre[0]": int((~eligible).sum()),
        "customers: joined after post[1]": int((eligible & late_join).sum()),
        "customers: no purchase before post[1]": not_in_orders,
    }
    return panel


@dataclass(frozen=True, eq=False)
class EffectResult(_Result):
    """A relative (multiplicative) effect estimate with a confidence interval.

    Fields
    ------
    method : how it was estimated. relative_effect : rate ratio - 1 (0.30 = +30%).
    ci_low, ci_high : its ``1 - alpha`` confidence interval. p_value : H0 no effect.
    n_treated, n_control : customers. alpha : level.
    assumptions : what must hold for a causal reading.
    details : supporting table (group means, strata, ...).
    excluded : customers left out by reason.
    """

    method: str
    relative_effect: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_control: int
    alpha: float
    assumptions: str
    details: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The estimate as a one-row frame."""
        return pd.DataFrame(
            [{k: getattr(self, k) for k in ("method", "relative_effect", "ci_low", "ci_high", "p_value", "n_treated", "n_control")}]
        )


def _panel(panel: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    _require(panel, list(cols), "panel")
    for c in cols:
        if c in ("customer_id", "period"):
            continue
        _numeric(panel[c], c)
    return panel


def _fit_robust(model, groups):
    """Fit a GLM with cluster-robust (or HC0) standard errors.

    With ``var_weights`` statsmodels warns "cov_type not fully supported"; for fixed
    weights its sandwich is the textbook one (Σ_g s_g s_g' between inverse weighted
    Hessians, with the usual G/(G-1)·(N-1)/(N-k) correction) — tests/test_causal.py
    checks it against a hand-computed sandwich — so that warning alone is silenced.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="cov_type not fully supported with var_weights")
        if groups is not None:
            return model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        return model.fit(cov_type="HC0")


def _poisson_ratio(y, X, offset, groups, alpha, weights=None, term: int = -1):
    # the model modules only: statsmodels.api also loads every other model family (~0.5 s)
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    model = GLM(y, X, family=Poisson(), offset=offset, var_weights=weights)
    fit = _fit_robust(model, groups)
    beta = float(fit.params[term])
    lo, hi = np.asarray(fit.conf_int(alpha))[term]
    return math.expm1(beta), math.expm1(lo), math.expm1(hi), float(fit.pvalues[term])


def did_estimate(
    panel: pd.DataFrame,
    *,
    outcome: str = "orders",
    treated: str = "joined",
    post: str = "post",
    exposure: str | None = "exposure_days",
    cluster: str = "customer_id",
    model: str = "poisson",
    weights: str | None = None,
    alpha: float = 0.05,
) -> EffectResult:
    """Difference-in-differences effect of joining (relative, with cluster-robust CI).

    ``model="poisson"``: GLM Poisson with log link,
    ``log E[orders] = β0 + β1 joined + β2 post + β3 joined·post + log(exposure)``;
    the effect is ``exp(β3) - 1`` (a % lift in the purchase rate), SEs clustered by
    customer. ``model="ols"``: OLS on the rate (orders per 30 days) with the same
    terms; relative effect = β3 / (treated post-period mean - β3), CI scaled the same
    way (denominator treated as fixed). Reference: Angrist & Pischke (2009), ch. 5;
    Wooldridge (2023) for the Poisson (ratio) form.

    ``weights``: a column of non-negative weights (e.g. :func:`cem_weights`, which makes
    the comparison a *matched* DiD): rows with weight 0 are left out (counted in
    ``excluded``); the Poisson fit uses them as variance weights (the weights are taken
    as fixed, as is usual for coarsened exact matching).

    Assumption: **parallel trends** — without the fan group, joiners' purchase rate
    would have changed by the same *factor* (Poisson) / *amount* (OLS) as
    non-joiners'. It fails if joining is triggered by a shock (a customer joins
    *because* they are in a buying phase), or if joiners were selected on being alive.

    >>> p = pd.DataFrame({"customer_id": np.repeat(["a", "b", "c", "d"], 2), "post": [0, 1] * 4,
    ...     "joined": np.repeat([1, 1, 0, 0], 2), "orders": [2, 4, 2, 3, 1, 1, 1, 1], "exposure_days": 30.0})
    >>> round(did_estimate(p).relative_effect, 3)
    0.75
    """
    if model not in ("poisson", "ols"):
        raise ValueError(f"model must be 'poisson' or 'ols', got {model!r}")
    cols = [outcome, treated, post, cluster] + ([exposure] if exposure else []) + ([weights] if weights else [])
    df = _panel(panel, cols)
    if len(df) == 0:
        raise ValueError("panel is empty")
    excluded = dict(panel.attrs.get("excluded", {}))
    wt = None
    if weights:
        wt = _numeric(df[weights], weights)
        if (wt < 0).any():
            raise ValueError(f"column {weights!r} must be >= 0, found {float(wt.min())}")
        if (wt == 0).any():
            excluded[f"rows: {weights} == 0"] = int((wt == 0).sum())
            df, wt = df[wt > 0], wt[wt > 0]
    d = _binary(df[treated], treated).astype(float)
    p = _binary(df[post], post).astype(float)
    y = _numeric(df[outcome], outcome)
    if (y < 0).any():
        raise ValueError(f"column {outcome!r} must be >= 0 counts")
    e = _numeric(df[exposure], exposure) if exposure else np.ones(len(df))
    if (e <= 0).any():
        raise ValueError(f"column {exposure!r} must be > 0")
    if d.min() == d.max() or p.min() == p.max():
        raise ValueError("panel needs treated and control customers in both periods")
    groups, _ = _codes(df[cluster], cluster)
    X = np.column_stack([np.ones(len(df)), d, p, d * p])
    rate30 = y / e * 30
    w1 = np.ones(len(df)) if wt is None else wt
    cell = pd.DataFrame({"joined": d.astype(int), "post": p.astype(int), "wr": w1 * rate30, "w": w1}).groupby(["joined", "post"])[["wr", "w"]].sum()
    means = cell["wr"] / cell["w"]
    details = means.unstack("post").rename(columns={0: "pre_orders_per_30d", 1: "post_orders_per_30d"})
    if model == "poisson":
        rel, lo, hi, pv = _poisson_ratio(y, X, np.log(e), groups, alpha, weights=wt)
    else:
        from statsmodels.regression.linear_model import OLS, WLS

        reg = OLS(rate30, X) if wt is None else WLS(rate30, X, weights=wt)
        fit = reg.fit(cov_type="cluster", cov_kwds={"groups": groups})
        b3 = float(fit.params[3])
        ci = np.asarray(fit.conf_int(alpha))[3]
        denom = float(details.loc[1, "post_orders_per_30d"]) - b3
        rel, lo, hi, pv = b3 / denom, ci[0] / denom, ci[1] / denom, float(fit.pvalues[3])
    cust_t = int(pd.Series(d).groupby(groups).max().sum())
    n_cust = int(groups.max() + 1)
    return EffectResult(
        method=f"difference-in-differences ({model}, cluster-robust by {cluster}"
        + (f", weighted by {weights})" if weights else ")"),
        relative_effect=rel,
        ci_low=lo,
        ci_high=hi,
        p_value=pv,
        n_treated=cust_t,
        n_control=n_cust - cust_t,
        alpha=alpha,
        assumptions="parallel trends: absent the programme, joiners' purchase rate would have "
        "moved by the same factor as non-joiners'; no other change hit joiners only.",
        details=details.reset_index(),
        excluded=excluded,
    )


def naive_member_gap(
    panel: pd.DataFrame,
    *,
    outcome: str = "orders",
    treated: str = "joined",
    post: str = "post",
    exposure: str | None = "exposure_days",
    alpha: float = 0.05,
) -> EffectResult:
    """Naive members vs non-members gap in the post period (what a dashboard shows).

    ``rate_members / rate_non_members - 1`` over post-period rows, from a Poisson GLM
    ``orders ~ joined`` with ``log(exposure)`` offset and robust (HC0) SEs. It is *not*
    a causal effect: members self-select (they bought more before joining too), so
    the gap mixes the programme's effect with who joins.

    >>> p = pd.DataFrame({"post": [1, 1, 1, 1], "joined": [1, 1, 0, 0], "orders": [4, 3, 1, 1],
    ...                   "exposure_days": 30.0})
    >>> round(naive_member_gap(p).relative_effect, 2)
    2.5
    """
    cols = [outcome, treated, post] + ([exposure] if exposure else [])
    df = _panel(panel, cols)
    pp = _binary(df[post], post).astype(bool)
    df = df[pp]
    if len(df) == 0:
        raise ValueError("panel has no post-period rows (post == 1)")
    d = _binary(df[treated], treated).astype(float)
    if d.min() == d.max():
        raise ValueError("panel needs members and non-members in the post period")
    y = _numeric(df[outcome], outcome)
    e = _numeric(df[exposure], exposure) if exposure else np.ones(len(df))
    X = np.column_stack([np.ones(len(df)), d])
    rel, lo, hi, pv = _poisson_ratio(y, X, np.log(e), None, alpha)
    details = pd.DataFrame(
        {"joined": [0, 1], "customers": [int((d == 0).sum()), int((d == 1).sum())],
         "orders_per_30d": [float((y[d == 0]).sum() / e[d == 0].sum() * 30), float(y[d == 1].sum() / e[d == 1].sum() * 30)]}
    )
    return EffectResult(
        method="naive member vs non-member gap (post period, Poisson, HC0)",
        relative_effect=rel,
        ci_low=lo,
        ci_high=hi,
        p_value=pv,
        n_treated=int((d == 1).sum()),
        n_control=int((d == 0).sum()),
        alpha=alpha,
        assumptions="none that make it causal: members self-select; the gap = effect + selection.",
        details=details,
        excluded=dict(panel.attrs.get("excluded", {})),
    )


#: Default coarsening of the covariates :func:`fan_group_panel` builds (bin edges).
DEFAULT_BINS: dict[str, list[float]] = {
    "crm_orders": [-np.inf, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 7.5, np.inf],
    "crm_recency_days": [-np.inf, 15, 30, 45, 60, 90, 120, 150, 180, 240, 300, 365, np.inf],
    "crm_member": [-np.inf, 0.5, np.inf],
    "pre_orders": [-np.inf, 0.5, 1.5, 2.5, 3.5, np.inf],
    "recency_days": [-np.inf, 30, 90, 180, 365, np.inf],
    "tenure_days": [-np.inf, 365, 548, np.inf],
}


def cem_weights(
    frame: pd.DataFrame,
    *,
    covariates: Sequence[str],
    bins: Mapping[str, Sequence[float]] | None = None,
    treated: str = "joined",
) -> pd.Series:
    """Coarsened exact matching (CEM) weights for the effect on the treated (ATT).

    Each covariate is cut at its ``bins`` edges (:data:`DEFAULT_BINS` for the columns
    :func:`fan_group_panel` builds; a missing value is a bin of its own); the strata are
    the combinations of bins. A treated row gets weight 1 if its stratum holds a
    control, else 0 (unmatched, counted); a control in stratum *s* gets
    ``n_treated(s) / n_control(s)``, so the controls are re-weighted to the treated
    mix of strata and their weights sum to the matched treated count (Iacus, King &
    Porro 2012, *Political Analysis* 20(1)). One row per unit: pass one period of a
    panel. ``attrs``: ``strata_with_both``, ``treated_unmatched``,
    ``controls_unmatched``.

    >>> f = pd.DataFrame({"joined": [1, 0, 0, 1, 0], "x": [1, 1, 1, 5, 9]})
    >>> cem_weights(f, covariates=["x"], bins={"x": [-np.inf, 2, 6, np.inf]}).tolist()
    [1.0, 0.5, 0.5, 0.0, 0.0]
    """
    if isinstance(covariates, str) or len(covariates) == 0:
        raise ValueError(f"covariates must list at least one column name, got {covariates!r}")
    require_columns(frame, [treated, *covariates], "frame")
    d = _binary(frame[treated], treated).astype(bool)
    edges = {**DEFAULT_BINS, **(bins or {})}
    key = np.zeros(len(frame), dtype=np.int64)
    for c in covariates:  # loop over the 2-4 covariates, not rows
        if c not in edges:
            raise ValueError(f"no bins for covariate {c!r}; pass bins={{{c!r}: [...]}}")
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            raise ValueError(f"column {c!r} must be numeric, got dtype {s.dtype}")
        v = s.to_numpy(dtype=float, na_value=np.nan)
        b = np.digitize(v, edges[c][1:-1])
        b = np.where(np.isnan(v), len(edges[c]), b)  # missing = own bin
        key = key * (len(edges[c]) + 1) + b
    codes, _ = pd.factorize(key)
    g = int(codes.max()) + 1 if len(codes) else 0
    nt = np.bincount(codes, weights=d, minlength=g)
    nc = np.bincount(codes, weights=~d, minlength=g)
    matched_t = d & (nc[codes] > 0)
    w = np.where(d, matched_t.astype(float), np.where(nt[codes] > 0, nt[codes] / np.maximum(nc[codes], 1), 0.0))
    out = pd.Series(w, index=frame.index, name="weight")
    out.attrs = {
        "strata_with_both": int(((nt > 0) & (nc > 0)).sum()),
        "treated_unmatched": int((d & ~matched_t).sum()),
        "controls_unmatched": int((~d & (w == 0)).sum()),
    }
    return out


def matching_estimate(
    panel: pd.DataFrame,
    *,
    covariates: Sequence[str] = ("crm_orders", "crm_recency_days", "crm_member"),
    method: str = "exact",
    bins: Mapping[str, Sequence[float]] | None = None,
    outcome: str = "orders",
    treated: str = "joined",
    post: str = "post",
    exposure: str | None = "exposure_days",
    alpha: float = 0.05,
) -> EffectResult:
    """Effect on the treated (ATT) by matching joiners to similar non-joiners.

    The default covariates are the CRM view the programme's invitations were based on
    (``crm_orders``, ``crm_recency_days``, ``crm_member`` from :func:`fan_group_panel`):
    match on what drove selection, not on whatever history is at hand — matching on
    pre-period activity alone leaves selection on intent in place.

    ``method="exact"``: coarsened exact matching (:func:`cem_weights`) — each covariate
    is cut into ``bins`` (defaults :data:`DEFAULT_BINS`: crm_orders 0..5, 6-7, 8+;
    crm_recency in 15-60-day steps up to a year; crm_member 0/1; pre_orders 0,1,2,3,4+;
    recency 0-30, 30-90, 90-180, 180-365, 365+ days (never bought before start = own
    bin); tenure 0-1, 1-1.5, 1.5+ years), controls are re-weighted to the joiners'
    distribution over strata (Iacus, King & Porro 2012).
    ``method="nn"``: 1-nearest-neighbour matching with replacement on standardised
    covariates (scikit-learn ``NearestNeighbors``). Then the post-period purchase
    rates are compared with a weighted Poisson GLM (robust HC0 CI):
    relative effect = rate(joiners) / rate(matched controls) - 1. Joiners without any
    control in their stratum are excluded and counted.

    Assumption: **no unmeasured confounders given the matched covariates** — after
    matching on them (by default the CRM view the invitations used), joining is as good
    as random with respect to future buying. Selection on anything not matched on
    (unobserved intent, or a CRM field left out) breaks it.

    >>> p = pd.DataFrame({"post": [1] * 4, "joined": [1, 0, 1, 0], "orders": [3, 2, 1, 1],
    ...     "exposure_days": 30.0, "pre_orders": [2, 2, 0, 0], "recency_days": [20., 25., 200., 210.],
    ...     "tenure_days": [400., 420., 500., 480.]})
    >>> round(matching_estimate(p, covariates=("pre_orders", "recency_days", "tenure_days")).relative_effect, 3)
    0.333
    """
    if method not in ("exact", "nn"):
        raise ValueError(f"method must be 'exact' or 'nn', got {method!r}")
    cols = [outcome, treated, post, *covariates] + ([exposure] if exposure else [])
    require_columns(panel, cols, "panel")
    pp = _binary(panel[post], post).astype(bool)
    df = panel[pp]
    if len(df) == 0:
        raise ValueError("panel has no post-period rows (post == 1)")
    d = _binary(df[treated], treated).astype(bool)
    if d.all() or (~d).all():
        raise ValueError("panel needs joiners and non-joiners in the post period")
    y = _numeric(df[outcome], outcome)
    e = _numeric(df[exposure], exposure) if exposure else np.ones(len(df))
    w = np.zeros(len(df))
    w[d] = 1.0
    if method == "exact":
        cw = cem_weights(df, covariates=covariates, bins=bins, treated=treated)
        w = cw.to_numpy()
        n_unmatched = cw.attrs["treated_unmatched"]
        details = pd.DataFrame({"strata_with_both": [cw.attrs["strata_with_both"]], "joiners_unmatched": [n_unmatched]})
    else:
        from sklearn.neighbors import NearestNeighbors

        Z = df[list(covariates)].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(Z).any():
            fill = np.nanmax(Z, axis=0) * 2 + 1
            Z = np.where(np.isnan(Z), fill, Z)  # never bought before: far away
        Z = (Z - Z.mean(0)) / np.where(Z.std(0) > 0, Z.std(0), 1)
        ctrl = np.flatnonzero(~d)
        nn = NearestNeighbors(n_neighbors=1).fit(Z[ctrl])
        _, j = nn.kneighbors(Z[d])
        uses = np.bincount(j[:, 0], minlength=len(ctrl))
        w = np.zeros(len(df))
        w[d] = 1.0
        w[ctrl] = uses
        n_unmatched = 0
        details = pd.DataFrame({"controls_used": [int((uses > 0).sum())], "max_reuse": [int(uses.max())]})
    keep = w > 0
    X = np.column_stack([np.ones(keep.sum()), d[keep].astype(float)])
    rel, lo, hi, pv = _poisson_ratio(y[keep], X, np.log(e[keep]), None, alpha, weights=w[keep])
    rt = y[d & keep].sum() / e[d & keep].sum() * 30
    rc = (w * y)[~d].sum() / (w * e)[~d].sum() * 30
    details = details.assign(joiners_orders_per_30d=rt, matched_controls_orders_per_30d=rc)
    return EffectResult(
        method=f"matching ({method}) on {', '.join(covariates)}; weighted Poisson, HC0",
        relative_effect=rel,
        ci_low=lo,
        ci_high=hi,
        p_value=pv,
        n_treated=int((d & keep).sum()),
        n_control=int((~d & keep).sum()),
        alpha=alpha,
        assumptions=f"no unmeasured confounders given the matched covariates ({', '.join(covariates)}); "
        "overlap: every matched joiner has comparable non-joiners.",
        details=details,
        excluded={**dict(panel.attrs.get("excluded", {})), "joiners: no control in stratum": n_unmatched},
    )


def balance_table(
    frame: pd.DataFrame,
    *,
    covariates: Sequence[str],
    treated: str = "joined",
    weights: str | pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Covariate balance: standardised mean differences (SMD) before and after matching.

    ``SMD = (mean_treated - mean_control) / sqrt((var_treated + var_control) / 2)``, the
    denominator from the *unmatched* sample in both columns so that before and after are
    on one scale (Austin 2009, *Statistics in Medicine* 28; Stuart 2010, *Statistical
    Science* 25(1)). After matching, both means are weighted by ``weights`` (e.g.
    :func:`cem_weights`; a treated row with weight 0 is an unmatched joiner). The usual
    rule of thumb calls ``|SMD| < 0.1`` balanced. One row per unit; missing values
    raise (fill or drop them first, and say how many).

    >>> f = pd.DataFrame({"joined": [1, 1, 0, 0], "x": [2.0, 4.0, 0.0, 2.0], "w": [1.0, 1.0, 0.0, 2.0]})
    >>> balance_table(f, covariates=["x"], weights="w")[["smd_before", "smd_after"]].round(3).to_dict("records")
    [{'smd_before': 1.414, 'smd_after': 0.707}]
    """
    if isinstance(covariates, str) or len(covariates) == 0:
        raise ValueError(f"covariates must list at least one column name, got {covariates!r}")
    require_columns(frame, [treated, *covariates], "frame")
    d = _binary(frame[treated], treated).astype(bool)
    if d.all() or (~d).all():
        raise ValueError(f"frame needs treated and control rows in {treated!r}")
    if weights is None:
        w = None
    else:
        if isinstance(weights, str):
            require_columns(frame, [weights], "frame")
            w = _numeric(frame[weights], weights)
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (len(frame),) or np.isnan(w).any():
                raise ValueError(f"weights must be {len(frame)} non-missing numbers, got shape {w.shape}")
        if (w < 0).any() or w[d].sum() == 0 or w[~d].sum() == 0:
            raise ValueError("weights must be >= 0 with a positive total in both groups")
    rows = []
    for c in covariates:  # a handful of covariates, vectorised within each
        x = _numeric(frame[c] if not pd.api.types.is_bool_dtype(frame[c]) else frame[c].astype("int8"), c)
        sd = math.sqrt((x[d].var(ddof=1) + x[~d].var(ddof=1)) / 2) if min(d.sum(), (~d).sum()) > 1 else float("nan")
        row = {"covariate": c, "mean_treated": x[d].mean(), "mean_control": x[~d].mean()}
        row["smd_before"] = (row["mean_treated"] - row["mean_control"]) / sd if sd > 0 else 0.0
        if w is not None:
            row["mean_treated_matched"] = np.average(x[d], weights=w[d])
            row["mean_control_matched"] = np.average(x[~d], weights=w[~d])
            diff = row["mean_treated_matched"] - row["mean_control_matched"]
            row["smd_after"] = diff / sd if sd > 0 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def customer_period_panel(
    orders: pd.DataFrame,
    units: pd.DataFrame,
    *,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    freq: str = "MS",
    customer: str = "customer_id",
    statuses: Sequence[str] = metrics.VALID_STATUSES,
) -> pd.DataFrame:
    """Customer x calendar-period order counts (the input of :func:`event_study`).

    ``units`` has one row per customer (``customer`` plus any columns to carry, e.g.
    ``joined`` and a matching ``weight``); periods are ``pd.date_range(start, end,
    freq=freq)`` edges, half-open ``[edge_i, edge_i+1)``, and ``end`` must be an edge so
    no day is cut off. Columns: the ``units`` columns, ``period`` (the period's first
    day), ``orders`` (purchases with status in ``statuses``), ``exposure_days``
    (period length). Customers in ``units`` without orders get zeros; orders outside
    ``[start, end)`` or by customers not in ``units`` are counted in
    ``attrs["excluded"]``.

    >>> o = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-01-09"]), "status": "completed"})
    >>> p = customer_period_panel(o, pd.DataFrame({"customer_id": ["a", "c"]}), start="2025-01-01", end="2025-03-01")
    >>> p["orders"].tolist(), p.attrs["excluded"]["orders: customer not in units"]
    ([1, 1, 0, 0], 1)
    """
    require_columns(units, [customer], "units")
    if units[customer].isna().any() or units[customer].duplicated().any():
        raise ValueError(f"units[{customer!r}] must be unique and non-missing; found "
                         f"{int(units[customer].duplicated().sum())} duplicate(s), {int(units[customer].isna().sum())} missing")
    t0, t1 = _ts(start, "start"), _ts(end, "end")
    try:
        edges = pd.date_range(t0, t1, freq=freq)
    except ValueError as exc:
        raise ValueError(f"freq must be a pandas frequency such as 'MS' or 'W-MON', got {freq!r}") from exc
    if len(edges) < 2 or edges[0] != t0 or edges[-1] != t1:
        raise ValueError(f"start and end must be period edges of freq={freq!r} with at least one period "
                         f"between them; got {t0:%Y-%m-%d}..{t1:%Y-%m-%d}, edges {list(edges[:3])}...")
    po = _prepare_orders(orders, statuses=statuses, amount=None, customer=customer)
    e_us = np.array([_us(t) for t in edges], dtype=np.int64)
    n_p = len(edges) - 1
    b = np.searchsorted(e_us, po.ts_us, side="right") - 1
    in_window = (b >= 0) & (b < n_p)
    unit_of = pd.Index(units[customer]).get_indexer(po.customers)[po.codes]
    known = unit_of >= 0
    ok = in_window & known
    n = len(units)
    counts = np.bincount(unit_of[ok] * n_p + b[ok], minlength=n * n_p).astype(np.int64)
    panel = units.loc[units.index.repeat(n_p)].reset_index(drop=True)
    panel["period"] = np.tile(edges[:-1].to_numpy(), n)
    panel["orders"] = counts
    panel["exposure_days"] = np.tile(np.diff(e_us) / _DAY_US, n)
    panel.attrs["excluded"] = {**po.excluded, "orders: outside [start, end)": int((known & ~in_window).sum()),
                               "orders: customer not in units": int((~known).sum())}
    return panel


@dataclass(frozen=True, eq=False)
class EventStudyResult(_Result):
    """Leads and lags of a programme's effect, with the joint test of the leads.

    Fields
    ------
    table : one row per period: ``period``, ``event_time`` (periods since
        ``event_start``; leads < 0), ``relative_effect`` (treated/control rate ratio
        relative to the reference period, - 1), ``ci_low``, ``ci_high``, ``p_value``,
        ``lead`` (bool), ``reference`` (bool; effect 0 by construction).
    leads_chi2, leads_df, leads_p_value : cluster-robust Wald test that every lead
        coefficient is 0 (H0: no pre-trend relative to the reference period).
    reference : the omitted period. alpha : level of the intervals. method : model.
    n_treated, n_control : units with positive weight. excluded : rows left out.
    """

    table: pd.DataFrame
    leads_chi2: float
    leads_df: int
    leads_p_value: float
    reference: pd.Timestamp
    alpha: float
    method: str
    n_treated: int
    n_control: int
    excluded: dict[str, int] = field(default_factory=dict)


def _long_panel(panel, period, outcome, treated, exposure, weights, cluster):
    cols = [period, outcome, treated, cluster] + ([exposure] if exposure else []) + ([weights] if weights else [])
    require_columns(panel, cols, "panel")
    if len(panel) == 0:
        raise ValueError("panel is empty")
    y = _numeric(panel[outcome], outcome)
    if (y < 0).any():
        raise ValueError(f"column {outcome!r} must be >= 0 counts")
    e = _numeric(panel[exposure], exposure) if exposure else np.ones(len(panel))
    if (e <= 0).any():
        raise ValueError(f"column {exposure!r} must be > 0")
    d = _binary(panel[treated], treated).astype(float)
    w = _numeric(panel[weights], weights) if weights else np.ones(len(panel))
    if (w < 0).any():
        raise ValueError(f"column {weights!r} must be >= 0")
    if panel[period].isna().any():
        raise ValueError(f"column {period!r} has {int(panel[period].isna().sum())} missing value(s)")
    return y, e, d, w


def _saturated_poisson(y, e, g, t, ref, n_p, w, groups):
    """Interaction coefficients and their cluster-robust covariance of the saturated
    Poisson model ``log E[y] = a_t + b·g + Σ_{k≠ref} γ_k·g·1[t=k] + log e`` (weights ``w``).

    The model has one parameter per group x period cell, so its MLE is closed-form: each
    cell's fitted rate is Σwy / Σwe. The covariance is the sandwich
    ``H⁻¹ (Σ_c s_c s_c') H⁻¹ · G/(G−1) · (N−1)/(N−K)`` (scores summed by cluster; the
    factor statsmodels uses), so no iterative fit over a large design is needed
    (statsmodels' IRLS takes seconds on 10^5 rows; tests check the two agree).
    """
    cell = g * n_p + t
    sy = np.bincount(cell, weights=w * y, minlength=2 * n_p)
    se_ = np.bincount(cell, weights=w * e, minlength=2 * n_p)
    if (sy <= 0).any() or (se_ <= 0).any():
        empty = [f"{'treated' if c >= n_p else 'control'} period {c % n_p}" for c in np.flatnonzero((sy <= 0) | (se_ <= 0))]
        raise ValueError(f"every group x period cell needs orders for a rate ratio; none in: {empty[:4]}")
    lr = np.log(sy / se_)
    b = lr[n_p + ref] - lr[ref]
    inter = np.array([k for k in range(n_p) if k != ref])
    gamma = lr[n_p + inter] - lr[inter] - b
    mu = e * np.exp(lr[cell])
    n, K = len(y), 2 * n_p
    X = np.zeros((n, K))
    X[np.arange(n), t] = 1.0
    X[:, n_p] = g
    col = np.full(n_p, -1)
    col[inter] = n_p + 1 + np.arange(len(inter))
    rows = np.flatnonzero((g == 1) & (col[t] >= 0))
    X[rows, col[t[rows]]] = 1.0
    H = X.T @ (X * (w * mu)[:, None])
    U = X * (w * (y - mu))[:, None]
    G = int(groups.max()) + 1
    S = np.column_stack([np.bincount(groups, weights=U[:, j], minlength=G) for j in range(K)])  # K columns, not rows
    Hinv = np.linalg.inv(H)
    V = Hinv @ (S.T @ S) @ Hinv * (G / (G - 1)) * ((n - 1) / (n - K))
    idx = n_p + 1 + np.arange(len(inter))
    return gamma, V[np.ix_(idx, idx)]


def event_study(
    panel: pd.DataFrame,
    *,
    event_start: object,
    reference: object | None = None,
    period: str = "period",
    outcome: str = "orders",
    treated: str = "joined",
    exposure: str | None = "exposure_days",
    weights: str | None = None,
    cluster: str = "customer_id",
    alpha: float = 0.05,
) -> EventStudyResult:
    """Event study: the treated-vs-control rate ratio period by period (leads and lags).

    Poisson model on a unit x period panel (:func:`customer_period_panel`):
    ``log E[y] = a_t + b·treated + Σ_{k≠ref} g_k·treated·1[t=k] + log(exposure)``, so
    ``exp(g_k) - 1`` is how much the treated/control rate ratio in period *k* differs
    from the reference period (default: the last period before ``event_start``).
    Periods before ``event_start`` are **leads**: if the groups trend alike without the
    programme, the leads are near 0 — the testable part of *parallel trends*; the
    joint cluster-robust Wald χ² test of all leads = 0 is in ``leads_p_value``. The
    lags trace the effect over time. ``weights`` (e.g. matching weights, constant per
    unit) enter as variance weights; rows with weight 0 are left out and counted.
    Standard errors are clustered by ``cluster``. The model is saturated in group x
    period, so the fit is closed-form (cell rates) with the same cluster-robust sandwich
    as statsmodels' GLM. Reference: Freyaldenhoven et al.
    (2021) "Visualization, identification and estimation in the linear panel
    event-study design"; Wooldridge (2023) for the Poisson form.

    >>> rng = np.random.default_rng(0); n = 400
    >>> units = pd.DataFrame({"customer_id": np.arange(n), "joined": np.arange(n) % 2})
    >>> p = units.loc[units.index.repeat(4)].assign(period=np.tile([1, 2, 3, 4], n), exposure_days=30.0)
    >>> p["orders"] = rng.poisson(np.where((p["joined"] == 1) & (p["period"] >= 3), 1.3, 1.0) * 2)
    >>> es = event_study(p, event_start=3)
    >>> es.table["event_time"].tolist(), bool(es.leads_p_value > 0.01)
    ([-2, -1, 0, 1], True)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    y, e, d, w = _long_panel(panel, period, outcome, treated, exposure, weights, cluster)
    excluded = dict(panel.attrs.get("excluded", {}))
    keep = w > 0
    if not keep.all():
        excluded[f"rows: {weights} == 0"] = int((~keep).sum())
    df = panel[keep]
    y, e, d, w = y[keep], e[keep], d[keep], w[keep]
    per_codes, periods = pd.factorize(df[period], sort=True)
    n_p = len(periods)
    try:
        n_leads = int((periods < event_start).sum())
    except TypeError as exc:
        raise ValueError(f"event_start={event_start!r} cannot be compared with {period!r} values such as {periods[0]!r}") from exc
    ref = periods[n_leads - 1] if reference is None and n_leads else reference
    if n_leads < 2 or ref not in set(periods[:n_leads]):
        raise ValueError(f"need at least two periods before event_start={event_start!r} and a reference among "
                         f"them; found {n_leads} lead period(s), reference={ref!r}")
    if d.min() == d.max():
        raise ValueError(f"panel needs treated and control units ({treated!r} 0 and 1)")
    ref_i = int(np.flatnonzero(periods == ref)[0])
    groups, _ = _codes(df[cluster], cluster)
    beta, cov = _saturated_poisson(y, e, d.astype(np.int64), per_codes, ref_i, n_p, w, groups)
    from scipy.special import chdtrc, ndtr, ndtri

    se = np.sqrt(np.diag(cov))
    z = ndtri(1 - alpha / 2)
    inter = [k for k in range(n_p) if k != ref_i]
    eff, lo, hi, pp = np.zeros(n_p), np.zeros(n_p), np.zeros(n_p), np.full(n_p, np.nan)
    eff[inter], lo[inter], hi[inter] = np.expm1(beta), np.expm1(beta - z * se), np.expm1(beta + z * se)
    pp[inter] = 2 * ndtr(-np.abs(beta / se))
    lead_pos = [j for j, k in enumerate(inter) if k < n_leads]
    b_l, v_l = beta[lead_pos], cov[np.ix_(lead_pos, lead_pos)]
    chi2 = float(b_l @ np.linalg.solve(v_l, b_l))

    table = pd.DataFrame({
        period: periods, "event_time": np.arange(n_p) - n_leads, "relative_effect": eff, "ci_low": lo,
        "ci_high": hi, "p_value": pp, "lead": np.arange(n_p) < n_leads, "reference": np.arange(n_p) == ref_i,
    })
    cust_t = pd.Series(d).groupby(groups).max()
    return EventStudyResult(
        table=table, leads_chi2=chi2, leads_df=len(lead_pos), leads_p_value=float(chdtrc(len(lead_pos), chi2)),
        reference=ref, alpha=alpha,
        method="event study: Poisson, period effects + treated x period, cluster-robust by "
        + cluster + (f", weighted by {weights}" if weights else ""),
        n_treated=int(cust_t.sum()), n_control=int((cust_t == 0).sum()), excluded=excluded,
    )


def _lab(x: object) -> str:
    return f"{x:%Y-%m-%d}" if isinstance(x, (pd.Timestamp, np.datetime64)) else str(x)


def placebo_tests(
    panel: pd.DataFrame,
    splits: Mapping[str, tuple[Sequence[object], Sequence[object]]],
    *,
    period: str = "period",
    outcome: str = "orders",
    treated: str = "joined",
    exposure: str | None = "exposure_days",
    weights: str | None = None,
    cluster: str = "customer_id",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Placebo difference-in-differences on periods when nothing happened.

    For each named split ``(before_periods, after_periods)`` — all of them before the
    programme — the unit x period panel is collapsed to a before and a fake "after"
    period per unit (orders and exposure summed) and :func:`did_estimate` (Poisson,
    cluster-robust, optionally weighted) is run. A design that identifies the effect
    should give placebo effects near 0 with intervals covering 0; a placebo that
    excludes 0 shows the groups were already drifting apart (parallel trends fail).
    Several placebos are several tests: at ``alpha`` each, one in 20 true nulls is
    rejected by chance. Reference: Angrist & Pischke (2009), §5.2; Abadie (2005).

    Columns: ``placebo``, ``before``, ``after`` (period ranges as text),
    ``relative_effect``, ``ci_low``, ``ci_high``, ``p_value``, ``covers_zero``.

    >>> rng = np.random.default_rng(1); n = 600
    >>> units = pd.DataFrame({"customer_id": np.arange(n), "joined": np.arange(n) % 2})
    >>> p = units.loc[units.index.repeat(4)].assign(period=np.tile([1, 2, 3, 4], n), exposure_days=30.0)
    >>> p["orders"] = rng.poisson(2, len(p))
    >>> placebo_tests(p, {"1-2 vs 3-4": ([1, 2], [3, 4])})["covers_zero"].tolist()
    [True]
    """
    if not splits:
        raise ValueError("splits must name at least one (before_periods, after_periods) pair")
    _long_panel(panel, period, outcome, treated, exposure, weights, cluster)
    rows = []
    for name, (before, after) in splits.items():  # a few placebos, each one vectorised
        before, after = list(before), list(after)
        if not before or not after or set(before) & set(after):
            raise ValueError(f"placebo {name!r}: before and after must be non-empty and disjoint")
        missing = [p for p in before + after if not (panel[period] == p).any()]
        if missing:
            raise ValueError(f"placebo {name!r}: period(s) {missing[:3]} not in panel[{period!r}]")
        sub = panel[panel[period].isin(before + after)]
        post = sub[period].isin(after).astype("int8").rename("post")
        agg = {outcome: "sum", treated: "first"} | ({exposure: "sum"} if exposure else {}) | ({weights: "first"} if weights else {})
        two = sub.assign(post=post).groupby([cluster, "post"], sort=False, observed=True).agg(agg).reset_index()
        r = did_estimate(two, outcome=outcome, treated=treated, post="post", exposure=exposure,
                         cluster=cluster, weights=weights, alpha=alpha)
        rows.append({"placebo": name, "before": f"{_lab(min(before))}..{_lab(max(before))}",
                     "after": f"{_lab(min(after))}..{_lab(max(after))}",
                     "relative_effect": r.relative_effect, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "p_value": r.p_value, "covers_zero": bool(r.ci_low <= 0 <= r.ci_high)})
    return pd.DataFrame(rows)
