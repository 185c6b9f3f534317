"""Chapter 06 — measuring a programme end to end and writing its review (复盘).

The pieces the case study (lessons 06-1 and 06-2) shares with any shop's own review:

* :func:`naive_programme_figures` — the marketer's repurchase gap and "ROI" (a ROAS), with
  their definitions, so the claim can be reproduced before it is checked;
* :func:`programme_value` — what an effect on members' purchase rate is worth: incremental
  orders, revenue and gross profit (after coupons and returns), ROAS (投产比) and profit
  ROI (投资回报率), each with the interval the effect's interval implies;
* :func:`category_units` and :func:`category_did` — a category push measured on the shop's own
  orders: the pushed category against the others, before vs after, as a Poisson
  difference-in-differences with day and category effects, monthly leads and lags, and the
  joint test of the leads;
* :func:`synthetic_control` — the same push against the market: the brand's sales in the
  category against a weighted combination of competitors fitted on the pre-period, with a
  placebo-in-space over the competitors;
* :func:`spend_push_increment` — what a spend increase added, from a media-mix fit
  (:mod:`ecomlab.channels`): the channel's modelled sales with the observed spend vs the
  spend without the increase;
* :func:`report_notebook` and :func:`report_html` — a standalone HTML page from markdown
  sections and matplotlib figures (:func:`ecomlab.site.standalone_html`), and
  :func:`report_pdf` when a headless Chromium is installed.

Nothing here knows Nestwell's dates or categories: the lessons pass them.

References: Angrist & Pischke (2009) *Mostly Harmless Econometrics* ch. 5 (DiD, event
studies); Wooldridge (2023) for the Poisson DiD; Abadie, Diamond & Hainmueller (2010) for the
synthetic control and its placebo-in-space inference; Doudchenko & Imbens (2016) and Ferman &
Pinto (2021) for the intercept ("demeaned") variant used when the treated unit's level lies
outside the donors'.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecomlab import metrics
from ecomlab.users._common import _ts
from ecomlab.validation import require_columns

__all__ = [
    "naive_programme_figures",
    "programme_value",
    "category_units",
    "CategoryDiD",
    "category_did",
    "SyntheticControl",
    "synthetic_control",
    "spend_push_increment",
    "report_notebook",
    "report_html",
    "report_pdf",
]


def _positive(value: Any, arg: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{arg} must be a number > 0, got {value!r}") from exc
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{arg} must be a number > 0, got {value!r}")
    return v


# ---------------------------------------------------------------------------------------
def naive_programme_figures(orders: pd.DataFrame, customers: pd.DataFrame, *, start: Any, end: Any,
                            cost: float, join_col: str = "joined_fan_group_date") -> dict[str, float]:
    """The marketer's figures: members' repurchase rate vs the rest, and revenue / cost.

    * repurchase rate (复购率) = share of the customers who first ordered before ``start``
      with at least one order not cancelled in ``[start, end)``, members (non-empty
      ``join_col``) vs the rest; ``repurchase_gap`` = ratio − 1;
    * "ROI" = paid amount of members' orders (not cancelled) in ``[start, end)`` on or after
      their join day / ``cost``: revenue over cost, i.e. a **ROAS** (投产比), not a return.

    Refunded orders count (the marketer counts every order not cancelled); nothing here is
    causal. Returns a dict with ``repurchase_rate_members``, ``repurchase_rate_non_members``,
    ``repurchase_gap``, ``member_revenue_after_joining``, ``revenue_roi`` and the counts.

    >>> o = pd.DataFrame({"customer_id": ["a", "b", "a", "c"], "status": ["completed"] * 4,
    ...     "order_ts": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-07-09", "2025-08-01"]),
    ...     "paid_amount": [50.0, 60.0, 100.0, 40.0]})
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "first_order_date": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-08-01"]),
    ...     "joined_fan_group_date": pd.to_datetime(["2025-07-02", None, None])})
    >>> f = naive_programme_figures(o, c, start="2025-07-01", end="2026-01-01", cost=50.0)
    >>> f["repurchase_rate_members"], f["repurchase_rate_non_members"], f["revenue_roi"]
    (1.0, 0.0, 2.0)
    """
    require_columns(orders, ["customer_id", "order_ts", "status", "paid_amount"], "orders")
    require_columns(customers, ["customer_id", "first_order_date", join_col], "customers")
    start, end = _ts(start, "start"), _ts(end, "end")
    if not start < end:
        raise ValueError(f"start must be before end; got start={start:%Y-%m-%d}, end={end:%Y-%m-%d}")
    cost = _positive(cost, "cost")
    if customers["customer_id"].duplicated().any():
        dup = customers.loc[customers["customer_id"].duplicated(), "customer_id"].iloc[0]
        raise ValueError(f"customers.customer_id must be unique; {dup!r} appears more than once")
    kept = orders[orders["status"].astype(str) != "cancelled"]
    during = kept[(kept["order_ts"] >= start) & (kept["order_ts"] < end)]
    old = customers[customers["first_order_date"] < start]
    member = old[join_col].notna().to_numpy()
    if member.all() or not member.any():
        raise ValueError(f"customers who first ordered before {start:%Y-%m-%d} must include members and "
                         f"non-members (column {join_col!r}); found {int(member.sum())} members of {len(old)}")
    bought = old["customer_id"].isin(during["customer_id"]).to_numpy()
    rate_m, rate_n = float(bought[member].mean()), float(bought[~member].mean())
    join = during["customer_id"].map(customers.set_index("customer_id")[join_col])
    after = join.notna() & (during["order_ts"] >= join)
    revenue = float(during.loc[after.to_numpy(), "paid_amount"].sum())
    return {
        "members": int(member.sum()), "non_members": int((~member).sum()),
        "repurchase_rate_members": rate_m, "repurchase_rate_non_members": rate_n,
        "repurchase_gap": rate_m / rate_n - 1 if rate_n > 0 else float("nan"),
        "member_revenue_after_joining": revenue, "revenue_roi": revenue / cost,
    }


# ---------------------------------------------------------------------------------------
def programme_value(orders: pd.DataFrame, order_items: pd.DataFrame, products: pd.DataFrame,
                    returns: pd.DataFrame, customers: pd.DataFrame, effect: Sequence[float], *,
                    start: Any, end: Any, cost: float,
                    join_col: str = "joined_fan_group_date") -> pd.DataFrame:
    """Incremental orders, revenue and gross profit of a rate effect, ROAS and profit ROI.

    ``effect``: the relative effect on members' purchase rate and its interval, e.g.
    ``(did.relative_effect, did.ci_low, did.ci_high)``. Members' kept orders
    (:func:`ecomlab.metrics.valid_orders`) placed in ``[start, end)`` on or after their join
    day number ``N``; with a rate effect ``e`` the orders they would have placed anyway are
    ``N/(1 + e)``, so incremental orders ``= N·e/(1 + e)``. Per member order:

    * net revenue = paid amount (after coupons and other discounts) − refunds of returned lines;
    * gross profit = net revenue − shipping fee − cost of the goods kept (a returned line
      comes back whole and is restocked, so its goods cost nothing; ``unit_cost``).

    Incremental revenue / gross profit = incremental orders × the per-order mean; ROAS
    (投产比) = incremental net revenue / ``cost``; profit ROI (投资回报率) = (incremental gross
    profit − cost) / cost (:func:`ecomlab.metrics.roi`). Rows ``estimate``, ``ci_low``,
    ``ci_high``; ``attrs`` hold the per-order means and ``N``.

    >>> o = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["a", "a"], "status": ["completed"] * 2,
    ...     "order_ts": pd.to_datetime(["2025-07-05", "2025-08-05"]), "paid_amount": [110.0, 90.0],
    ...     "shipping_fee": [0.0, 0.0]})
    >>> it = pd.DataFrame({"order_id": ["o1", "o2"], "sku_id": ["s", "s"], "quantity": [1, 1]})
    >>> pr = pd.DataFrame({"sku_id": ["s"], "unit_cost": [40.0]})
    >>> rt = pd.DataFrame({"order_id": ["o2"], "sku_id": ["s"], "refund_amount": [90.0]})
    >>> cu = pd.DataFrame({"customer_id": ["a"], "joined_fan_group_date": pd.to_datetime(["2025-07-01"])})
    >>> v = programme_value(o, it, pr, rt, cu, (1.0, 0.5, 3.0), start="2025-07-01", end="2026-01-01", cost=10.0)
    >>> v.loc["estimate", ["incremental_orders", "incremental_revenue", "incremental_gross_profit"]].tolist()
    [1.0, 55.0, 35.0]
    """
    require_columns(orders, ["order_id", "customer_id", "order_ts", "status", "paid_amount", "shipping_fee"], "orders")
    require_columns(order_items, ["order_id", "sku_id", "quantity"], "order_items")
    require_columns(products, ["sku_id", "unit_cost"], "products")
    require_columns(returns, ["order_id", "sku_id", "refund_amount"], "returns")
    require_columns(customers, ["customer_id", join_col], "customers")
    start, end, cost = _ts(start, "start"), _ts(end, "end"), _positive(cost, "cost")
    try:
        eff = np.asarray(effect, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"effect must be (estimate, ci_low, ci_high), finite and > -1; got {effect!r}") from exc
    if eff.shape != (3,) or not np.isfinite(eff).all() or (eff <= -1).any():
        raise ValueError(f"effect must be (estimate, ci_low, ci_high), finite and > -1; got {effect!r}")
    kept = metrics.valid_orders(orders)
    joiners = customers.loc[customers[join_col].notna(), ["customer_id", join_col]]
    m = kept[(kept["order_ts"] >= start) & (kept["order_ts"] < end)].merge(joiners, on="customer_id")
    m = m[m["order_ts"] >= m[join_col]]
    if m.empty:
        raise ValueError(f"no member placed a kept order on or after joining between {start:%Y-%m-%d} and {end:%Y-%m-%d}")
    unit_cost = products.drop_duplicates("sku_id").set_index("sku_id")["unit_cost"]
    items = order_items[order_items["order_id"].isin(m["order_id"])]
    missing = ~items["sku_id"].isin(unit_cost.index)
    if missing.any():
        raise ValueError(f"order_items has {int(missing.sum())} line(s) of members' orders whose sku_id is not in "
                         f"products, e.g. {items.loc[missing, 'sku_id'].iloc[0]!r}")
    cogs = (items["quantity"] * items["sku_id"].map(unit_cost)).groupby(items["order_id"]).sum()
    ret = returns[returns["order_id"].isin(m["order_id"])]
    refund = ret.groupby("order_id")["refund_amount"].sum()
    ret_units = ret.merge(items[["order_id", "sku_id", "quantity"]], on=["order_id", "sku_id"], how="left")
    ret_cogs = (ret_units["quantity"].fillna(0) * ret_units["sku_id"].map(unit_cost)).groupby(ret_units["order_id"]).sum()
    oid = m["order_id"]
    net_rev = m["paid_amount"].to_numpy() - oid.map(refund).fillna(0.0).to_numpy()
    gp = (net_rev - m["shipping_fee"].to_numpy() - oid.map(cogs).fillna(0.0).to_numpy()
          + oid.map(ret_cogs).fillna(0.0).to_numpy())
    n = len(m)
    inc = n * eff / (1 + eff)
    out = pd.DataFrame({"rate_effect": eff, "incremental_orders": inc,
                        "incremental_revenue": inc * net_rev.mean(),
                        "incremental_gross_profit": inc * gp.mean()},
                       index=pd.Index(["estimate", "ci_low", "ci_high"], name="bound"))
    out["roas"] = metrics.roas(out["incremental_revenue"], cost)
    out["profit_roi"] = metrics.roi(out["incremental_gross_profit"], cost)
    out.attrs.update({"member_orders": n, "revenue_per_order": float(net_rev.mean()),
                      "gross_profit_per_order": float(gp.mean()), "refunds": float(refund.sum()),
                      "discounts": float(m["discount_amount"].sum()) if "discount_amount" in m else float("nan"),
                      "cost": cost})
    return out


# ---------------------------------------------------------------------------------------
def category_units(orders: pd.DataFrame, order_items: pd.DataFrame, products: pd.DataFrame, *,
                   start: Any, end: Any) -> pd.DataFrame:
    """Units and lines sold per category and day, kept orders in ``[start, end)``.

    Long frame ``date, category, units, lines``: every category × day, zeros included (a
    day without a sale in a category is a count of 0, not a missing row).

    >>> o = pd.DataFrame({"order_id": ["o1", "o2"], "status": ["completed", "cancelled"],
    ...                   "order_ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-02 09:00"])})
    >>> it = pd.DataFrame({"order_id": ["o1", "o1", "o2"], "sku_id": ["s1", "s2", "s1"], "quantity": [2, 1, 5]})
    >>> p = pd.DataFrame({"sku_id": ["s1", "s2"], "category": ["storage", "decor"]})
    >>> category_units(o, it, p, start="2025-01-01", end="2025-01-03")["units"].tolist()
    [1, 2, 0, 0]
    """
    require_columns(orders, ["order_id", "order_ts", "status"], "orders")
    require_columns(order_items, ["order_id", "sku_id", "quantity"], "order_items")
    require_columns(products, ["sku_id", "category"], "products")
    start, end = _ts(start, "start"), _ts(end, "end")
    if not start < end:
        raise ValueError(f"start must be before end; got {start:%Y-%m-%d} and {end:%Y-%m-%d}")
    kept = metrics.valid_orders(orders)
    kept = kept[(kept["order_ts"] >= start) & (kept["order_ts"] < end)]
    lines = order_items.merge(kept[["order_id", "order_ts"]], on="order_id")
    cat = products.drop_duplicates("sku_id").set_index("sku_id")["category"]
    unknown = ~lines["sku_id"].isin(cat.index)
    if unknown.any():
        raise ValueError(f"order_items has {int(unknown.sum())} line(s) whose sku_id is not in products, "
                         f"e.g. {lines.loc[unknown, 'sku_id'].iloc[0]!r}")
    lines["category"] = lines["sku_id"].map(cat).astype(str)
    lines["date"] = lines["order_ts"].dt.normalize()
    g = lines.groupby(["date", "category"]).agg(units=("quantity", "sum"), lines=("sku_id", "size"))
    days = pd.date_range(start, end - pd.Timedelta(days=1), freq="D")
    cats = sorted(products["category"].astype(str).unique())
    full = pd.MultiIndex.from_product([days, cats], names=["date", "category"])
    return g.reindex(full, fill_value=0).astype("int64").reset_index()


@dataclass(frozen=True)
class CategoryDiD:
    """A category push measured against the other categories (see :func:`category_did`)."""

    ratio: float               # exp(δ): the pushed category's units × this, relative to the others
    ci_low: float
    ci_high: float
    p_value: float
    event_study: pd.DataFrame  # bin, event_time, ratio, ci_low, ci_high, lead, reference
    leads_chi2: float
    leads_df: int
    leads_p_value: float
    n_days: int
    empty_days: int            # days without any sale (left out)
    alpha: float
    assumptions: str


def _logit_cluster(k, n, X, groups):
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM

    return GLM(np.column_stack([k, n - k]), X, family=Binomial()).fit(cov_type="cluster", cov_kwds={"groups": groups})


def category_did(panel: pd.DataFrame, *, treated: str, start: Any, outcome: str = "units",
                 bin_freq: str = "M", cluster_freq: str = "W", alpha: float = 0.05) -> CategoryDiD:
    """Poisson DiD of one category against the others pooled, with an event study of leads and lags.

    ``panel``: ``date, category`` and ``outcome`` counts, e.g. :func:`category_units`. Model,
    with ``y_{g,d}`` the count of the treated category (g = 1) and of all others (g = 0) on day d::

        log E[y_{g,d}] = α_g + γ_d + δ · g · 1[d ≥ start]

    The day effects γ_d absorb everything that moves all categories alike (season,
    promotions, the shop's growth, who is buying); ``exp(δ)`` is the factor by which the
    treated category's count moved relative to the others. Conditioning on each day's total
    turns this Poisson model into a logit of the treated category's share of the day's count,
    ``logit p_d = (α_1 − α_0) + δ·1[d ≥ start]``, which is how it is fitted (same δ, no 700 day
    dummies). The event study replaces δ by one term per ``bin_freq`` period (a pandas period
    alias; months), relative to the last period before ``start``: the **leads** test parallel
    trends (joint Wald test), the **lags** trace the effect. Standard errors are clustered by
    ``cluster_freq`` period (weeks): days of the same week may share shocks, and counts are
    over-dispersed. Reference: Wooldridge (2023); Angrist & Pischke (2009) ch. 5.

    Assumption: absent the push, the treated category's share would have moved like the
    others' — false if something else that favours the category started at the same time.

    >>> d = pd.date_range("2025-01-01", periods=120)
    >>> rng = np.random.default_rng(0)
    >>> p = pd.DataFrame({"date": np.repeat(d, 2), "category": ["a", "b"] * 120})
    >>> mu = 50 * np.where((p["category"] == "a") & (p["date"] >= "2025-03-01"), 1.25, 1.0)
    >>> p["units"] = rng.poisson(mu)
    >>> r = category_did(p, treated="a", start="2025-03-01")
    >>> bool(r.ci_low < 1.25 < r.ci_high), r.leads_df
    (True, 1)
    """
    require_columns(panel, ["date", "category", outcome], "panel")
    start = _ts(start, "start")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    cats = panel["category"].astype(str)
    if treated not in set(cats):
        raise ValueError(f"treated must be one of the panel's categories {sorted(set(cats))}; got {treated!r}")
    if cats.nunique() < 2:
        raise ValueError("panel needs the treated category and at least one other")
    y = pd.to_numeric(panel[outcome], errors="coerce").to_numpy(float)
    if not np.isfinite(y).all() or (y < 0).any():
        raise ValueError(f"panel[{outcome!r}] must be counts >= 0 without NaN; "
                         f"found e.g. {y[~np.isfinite(y) | (y < 0)][:3].tolist()}")
    if pd.DataFrame({"d": panel["date"], "c": cats}).duplicated().any():
        raise ValueError("panel must have one row per date and category; found duplicates")
    day = pd.DataFrame({"date": pd.DatetimeIndex(panel["date"]), "k": y * (cats == treated).to_numpy(), "n": y})
    day = day.groupby("date").sum()
    empty = int((day["n"] == 0).sum())
    day = day[day["n"] > 0]                     # a day without any sale says nothing about shares
    d = pd.DatetimeIndex(day.index)
    post = np.asarray(d >= start)
    if post.all() or not post.any():
        raise ValueError(f"panel must hold days with sales before and after start {start:%Y-%m-%d}")
    k, n = day["k"].to_numpy(), day["n"].to_numpy()
    groups = pd.factorize(d.to_period(cluster_freq))[0]
    fit = _logit_cluster(k, n, np.column_stack([np.ones(len(d)), post.astype(float)]), groups)
    b, lo_hi = float(fit.params[1]), np.asarray(fit.conf_int(alpha))[1]
    bins = d.to_period(bin_freq).to_timestamp()
    ubins = sorted(set(bins))
    pre_bins = [t for t in ubins if t < start]
    if not pre_bins:
        raise ValueError(f"no {bin_freq} period before start {start:%Y-%m-%d}")
    ref = pre_bins[-1]
    terms = [t for t in ubins if t != ref]
    B = np.column_stack([np.ones(len(d))] + [np.asarray(bins == t, float) for t in terms])
    fes = _logit_cluster(k, n, B, groups)
    coef, ci = np.asarray(fes.params)[1:], np.asarray(fes.conf_int(alpha))[1:]
    ref_i = ubins.index(ref)
    es = pd.DataFrame({"bin": terms, "event_time": [ubins.index(t) - ref_i for t in terms],
                       "ratio": np.exp(coef), "ci_low": np.exp(ci[:, 0]), "ci_high": np.exp(ci[:, 1]),
                       "lead": [bool(t < start) for t in terms], "reference": False})
    es = pd.concat([es, pd.DataFrame({"bin": [ref], "event_time": [0], "ratio": [1.0], "ci_low": [1.0],
                                      "ci_high": [1.0], "lead": [True], "reference": [True]})])
    es = es.sort_values("bin").reset_index(drop=True)
    lead_idx = [i for i, t in enumerate(terms) if t < start]
    if lead_idx:
        from scipy import stats

        cov = np.asarray(fes.cov_params())[1:, 1:][np.ix_(lead_idx, lead_idx)]
        v = coef[lead_idx]
        chi2 = float(v @ np.linalg.solve(cov, v))
        p_leads = float(stats.chi2.sf(chi2, len(lead_idx)))
    else:
        chi2, p_leads = float("nan"), float("nan")
    return CategoryDiD(
        ratio=math.exp(b), ci_low=math.exp(lo_hi[0]), ci_high=math.exp(lo_hi[1]), p_value=float(fit.pvalues[1]),
        event_study=es, leads_chi2=chi2, leads_df=len(lead_idx), leads_p_value=p_leads,
        n_days=len(d), empty_days=empty, alpha=alpha,
        assumptions=f"absent the push, {treated}'s count would have moved by the same factor as the other "
                    "categories' (parallel trends on the log scale); nothing else favouring it started at "
                    f"{start:%Y-%m-%d}")


# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyntheticControl:
    """A synthetic-control comparison (see :func:`synthetic_control`)."""

    ratio: float                 # actual / synthetic over the post-period (geometric mean)
    ci_low: float
    ci_high: float
    weights: pd.Series           # donor weights (≥ 0, sum 1)
    intercept: float             # level gap on the log scale, fitted on the pre-period
    path: pd.DataFrame           # period, actual, synthetic, gap (log)
    pre_rmse: float              # on the log scale
    placebos: pd.DataFrame       # unit, ratio, pre_rmse, post_pre_rmse_ratio
    p_value: float               # rank of the treated unit's post/pre RMSE ratio among all units
    alpha: float


def _sc_fit(y: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights w ≥ 0, Σw = 1 and intercept a minimising Σ_pre (y − a − D w)² (demeaned SC)."""
    from scipy import optimize

    yc, Dc = y - y.mean(), D - D.mean(axis=0)
    n = D.shape[1]
    res = optimize.minimize(lambda w: float(((yc - Dc @ w) ** 2).sum()), np.full(n, 1 / n),
                            jac=lambda w: -2 * Dc.T @ (yc - Dc @ w), method="SLSQP",
                            bounds=[(0, 1)] * n, constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}])
    w = np.clip(res.x, 0, None)
    w = w / w.sum()
    return w, float(y.mean() - D.mean(axis=0) @ w)


def synthetic_control(wide: pd.DataFrame, treated: str, start: Any, *, alpha: float = 0.05) -> SyntheticControl:
    """The treated unit's sales against a weighted combination of donors fitted before ``start``.

    ``wide``: one row per period (a sorted date index), one column per unit (the treated
    brand and its competitors), sales > 0. On the log scale, weights ``w ≥ 0, Σw = 1`` and an
    intercept ``a`` minimise the pre-period squared gap between the treated series and
    ``a + Σ_j w_j log(donor_j)`` (Abadie, Diamond & Hainmueller 2010, with the intercept of
    Doudchenko & Imbens 2016 / Ferman & Pinto 2021, because a small brand's level lies below
    every convex combination of larger ones). The effect is the post-period geometric mean of
    actual / synthetic. Interval: the mean post-period log gap ± t_{n_pre−1} × the pre-period
    gap's standard deviation × √(1/n_post + 1/n_pre) — it assumes the gap's month-to-month
    noise is independent and the same before and after. Inference that assumes less: the
    **placebo in space** refits with each donor as the "treated" unit (the real one left out of
    the donors) and ranks the post/pre RMSE ratios; the p-value is the treated unit's rank /
    number of units, so with J donors it cannot be below 1/(J + 1).

    >>> idx = pd.date_range("2024-01-01", periods=24, freq="MS")
    >>> rng = np.random.default_rng(1)
    >>> market = np.exp(np.linspace(0, 0.5, 24))
    >>> w = pd.DataFrame({b: s * market * np.exp(rng.normal(0, .03, 24)) for b, s in
    ...                   [("us", 10), ("x", 40), ("y", 30), ("z", 20)]}, index=idx)
    >>> w.loc["2025-07-01":, "us"] *= 1.25
    >>> r = synthetic_control(w, "us", "2025-07-01")
    >>> bool(r.ci_low < 1.25 < r.ci_high), round(float(r.weights.sum()), 6)
    (True, 1.0)
    """
    if not isinstance(wide, pd.DataFrame) or treated not in wide.columns:
        raise ValueError(f"wide must be a DataFrame with a column for the treated unit {treated!r}; "
                         f"columns found: {list(getattr(wide, 'columns', []))[:8]}")
    if wide.shape[1] < 3:
        raise ValueError(f"wide needs the treated unit and at least two donors; found columns {list(wide.columns)}")
    start = _ts(start, "start")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    vals = wide.apply(pd.to_numeric, errors="coerce")
    bad = ~(vals > 0).to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(f"wide must hold sales > 0 without NaN; found {wide.iat[r, c]!r} at "
                         f"{wide.index[r]} / {wide.columns[c]!r}")
    idx = pd.DatetimeIndex(wide.index)
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise ValueError("wide's index must be sorted periods without duplicates")
    pre = np.asarray(idx < start)
    n_pre, n_post = int(pre.sum()), int((~pre).sum())
    if n_pre < 3 or n_post < 1:
        raise ValueError(f"wide needs at least 3 periods before start {start:%Y-%m-%d} and 1 after; "
                         f"found {n_pre} and {n_post}")
    logs = np.log(vals)

    def one(unit: str, donors: list[str]):
        y, D = logs[unit].to_numpy(), logs[donors].to_numpy()
        w, a = _sc_fit(y[pre], D[pre])
        gap = y - (a + D @ w)
        rmse_pre = float(np.sqrt((gap[pre] ** 2).mean()))
        rmse_post = float(np.sqrt((gap[~pre] ** 2).mean()))
        return w, a, gap, rmse_pre, rmse_post

    donors = [c for c in wide.columns if c != treated]
    w, a, gap, rmse_pre, rmse_post = one(treated, donors)
    from scipy import stats

    sd = float(gap[pre].std(ddof=1))
    half = stats.t.ppf(1 - alpha / 2, n_pre - 1) * sd * math.sqrt(1 / n_post + 1 / n_pre)
    m = float(gap[~pre].mean())
    rows = [{"unit": treated, "ratio": math.exp(m), "pre_rmse": rmse_pre, "post_pre_rmse_ratio": rmse_post / rmse_pre}]
    for u in donors:
        _, _, g_u, rp, rq = one(u, [c for c in donors if c != u])
        rows.append({"unit": u, "ratio": math.exp(float(g_u[~pre].mean())), "pre_rmse": rp,
                     "post_pre_rmse_ratio": rq / rp})
    plc = pd.DataFrame(rows)
    rank = int((plc["post_pre_rmse_ratio"] >= plc["post_pre_rmse_ratio"].iloc[0]).sum())
    path = pd.DataFrame({"period": idx, "actual": vals[treated].to_numpy(),
                         "synthetic": np.exp(logs[treated].to_numpy() - gap), "gap": gap})
    return SyntheticControl(ratio=math.exp(m), ci_low=math.exp(m - half), ci_high=math.exp(m + half),
                            weights=pd.Series(w, index=pd.Index(donors, name="donor"), name="weight"),
                            intercept=a, path=path, pre_rmse=rmse_pre, placebos=plc,
                            p_value=rank / len(plc), alpha=alpha)


# ---------------------------------------------------------------------------------------
def spend_push_increment(fit: Any, channel: str, start: Any, multiplier: float, *, end: Any = None,
                         th: np.ndarray | None = None) -> dict[str, float]:
    """What a spend increase added, by a media-mix fit: sales with the observed spend vs without the push.

    From ``start`` (to ``end``, inclusive; default the last fitted day) the channel's spend
    was × ``multiplier``. The counterfactual divides that window's spend by ``multiplier``;
    the added sales = Σ_window contribution(observed) − Σ_window contribution(counterfactual)
    (carry-over into the window's later days included; carry-over past the fitted days is
    not counted). Returns the window's spend, the push's extra spend, the channel's sales
    with and without the push, the added sales and their ratio to the extra spend (the push's
    incremental return per unit of spend, in the fit's sales units). ``th``: a bootstrap draw.

    >>> from ecomlab import channels
    >>> d = pd.date_range("2024-01-01", periods=300)
    >>> x = pd.DataFrame({"tv": np.where(d >= "2024-07-01", 160.0, 100.0)}, index=d)
    >>> f = channels.fit_mmm(x, pd.Series(20 + 40 * channels.hill(x["tv"].to_numpy(), 100.0), index=d))
    >>> r = spend_push_increment(f, "tv", "2024-07-01", 1.6)
    >>> round(r["added_sales"] / r["days"], 1)    # 40·(160/260 − 100/200) per day
    4.6
    """
    if channel not in fit.channels:
        raise ValueError(f"channel must be one of {fit.channels}; got {channel!r}")
    mult = _positive(multiplier, "multiplier")
    start = _ts(start, "start")
    end = fit.dates[-1] if end is None else _ts(end, "end")
    win = np.asarray((fit.dates >= start) & (fit.dates <= end))
    if not win.any():
        raise ValueError(f"no fitted day between {start:%Y-%m-%d} and {end:%Y-%m-%d} "
                         f"(fitted {fit.dates[0]:%Y-%m-%d} to {fit.dates[-1]:%Y-%m-%d})")
    i = fit.channels.index(channel)
    cf = fit.spend.copy()
    cf[i, win] = cf[i, win] / mult
    with_push = float(fit.contributions(th=th)[i, win].sum())
    without = float(fit.contributions(cf, th=th)[i, win].sum())
    spend = float(fit.spend[i, win].sum())
    extra = spend - float(cf[i, win].sum())
    return {"days": int(win.sum()), "spend": spend, "extra_spend": extra, "sales_with_push": with_push,
            "sales_without_push": without, "added_sales": with_push - without,
            "added_per_extra_spend": (with_push - without) / extra if extra > 0 else float("nan")}


# ---------------------------------------------------------------------------------------
def report_notebook(parts: Sequence[Any]) -> Any:
    """A report as a notebook: each string a markdown cell, each matplotlib figure a figure output.

    A figure becomes a code cell without source whose output is the PNG (150 dpi) with the
    figure's title as its alt text (:func:`ecomlab.site.standalone_html` keeps outputs only).
    Figures are closed once rendered. Anything else raises ValueError naming its position.

    >>> nb = report_notebook(["# Review", "One **finding**."])
    >>> [c.cell_type for c in nb.cells]
    ['markdown', 'markdown']
    """
    import base64
    import io

    import nbformat
    from matplotlib.figure import Figure

    cells = []
    for i, part in enumerate(parts):
        if isinstance(part, str):
            cells.append(nbformat.v4.new_markdown_cell(part))
        elif isinstance(part, Figure):
            import matplotlib.pyplot as plt

            buf = io.BytesIO()
            part.savefig(buf, format="png", dpi=150, bbox_inches="tight")
            # a theme may put titles on the left (axes.titlelocation): read every position
            titles = [t for ax in part.axes for loc in ("left", "center", "right") if (t := ax.get_title(loc))]
            alt = part._suptitle.get_text() if part._suptitle is not None else "; ".join(titles) or "Figure"
            plt.close(part)
            out = nbformat.v4.new_output("display_data", data={
                "image/png": base64.b64encode(buf.getvalue()).decode(), "text/plain": f"<Figure: {alt}>"},
                metadata={"image/png": {"alt": alt}})
            cells.append(nbformat.v4.new_code_cell("", outputs=[out]))
        else:
            raise ValueError(f"parts[{i}] must be a markdown string or a matplotlib Figure, got {type(part).__name__}")
    if not cells:
        raise ValueError("parts is empty: a report needs at least one section")
    return nbformat.v4.new_notebook(cells=cells)


def report_html(nb: Any, title: str, out: str | os.PathLike[str] | None = None) -> str:
    """A standalone HTML page of a report notebook's outputs (:func:`ecomlab.site.standalone_html`).

    Code, prompts and the results cell are left out; nothing is loaded from outside, so the
    file can be mailed. Written to ``out`` when given; the HTML is returned.

    >>> import nbformat
    >>> page = report_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 复盘")]), "复盘")
    >>> "<html" in page
    True
    """
    from ecomlab.site import standalone_html

    page = standalone_html(nb, title)
    if out is not None:
        Path(out).write_text(page, encoding="utf-8")
    return page


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def report_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
               timeout: float = 60.0) -> Path | None:
    """Print a standalone HTML report to PDF with a headless Chromium, offline; None if none is installed.

    Optional by design: the pinned Python stack has no PDF engine, so the PDF needs a system
    Chromium (Debian's ``chromium`` package, as CI installs for the browser tests). Runs
    ``chromium --headless --no-sandbox --disable-gpu --print-to-pdf=PDF file://HTML`` with no
    network access needed (the HTML embeds its fonts and figures).
    """
    exe = _chromium()
    if exe is None:
        return None
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    if not html_path.is_file():
        raise ValueError(f"html_path must be an existing file; {html_path} does not exist")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RuntimeError(f"{exe} ran but wrote no PDF to {pdf_path}")
    return pdf_path
