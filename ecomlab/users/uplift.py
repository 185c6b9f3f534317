"""Coupons and uplift: randomised-campaign uplift by segment, the T-learner, Qini
curves and targeting value."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ecomlab.users._common import (
    _binary,
    _codes,
    _require,
    _Result,
)


def uplift_by_segment(
    campaign: pd.DataFrame,
    *,
    segment: str | None = "segment_at_send",
    treatment: str = "treatment",
    outcome: str = "purchased_30d",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Randomised uplift (treated minus control purchase rate) per segment, with CI.

    For each segment (and an ``"all"`` row): ``n_treated``, ``n_control``,
    ``response_rate_treated`` (what a response report shows), ``rate_control``,
    ``uplift`` = difference, its ``1 - alpha`` CI (Newcombe hybrid score interval via
    ``statsmodels.stats.proportion.confint_proportions_2indep``) and the two-sided
    p-value (``test_proportions_2indep``). Response ≠ uplift: a segment can respond a
    lot and gain nothing. Valid because treatment was randomised (Neyman 1923).

    >>> c = pd.DataFrame({"segment_at_send": ["x"] * 4, "treatment": [True, True, False, False],
    ...                   "purchased_30d": [True, False, False, False]})
    >>> uplift_by_segment(c)["uplift"].tolist()
    [0.5, 0.5]
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    cols = [treatment, outcome] + ([segment] if segment else [])
    _require(campaign, cols, "campaign")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    t = _binary(campaign[treatment], treatment)
    y = _binary(campaign[outcome], outcome)
    if segment:
        if campaign[segment].isna().any():
            raise ValueError(f"column {segment!r} has missing values")
        seg = campaign[segment]
        codes, uniq = (seg.cat.codes.to_numpy(), list(seg.cat.categories)) if isinstance(
            seg.dtype, pd.CategoricalDtype
        ) else _codes(seg, segment)
        uniq = list(uniq)
    else:
        codes, uniq = np.zeros(len(t), dtype=np.int64), []
    g = len(uniq)
    codes = np.concatenate([codes, np.full(len(t), g)])  # append the "all" group
    tt, yy = np.concatenate([t, t]), np.concatenate([y, y])
    nt = np.bincount(codes, weights=tt, minlength=g + 1)
    nc = np.bincount(codes, weights=1 - tt, minlength=g + 1)
    yt = np.bincount(codes, weights=tt * yy, minlength=g + 1)
    yc = np.bincount(codes, weights=(1 - tt) * yy, minlength=g + 1)
    labels = [str(u) for u in uniq] + ["all"]
    keep = np.arange(g + 1)
    if segment is None:
        keep = np.array([g])
    nt, nc, yt, yc = nt[keep], nc[keep], yt[keep], yc[keep]
    labels = [labels[i] for i in keep]
    ok = (nt > 0) & (nc > 0)
    lo = np.full(len(nt), np.nan)
    hi = np.full(len(nt), np.nan)
    pv = np.full(len(nt), np.nan)
    if ok.any():
        # statsmodels also computes ratio and odds ratio, which divide by zero when a
        # control rate is 0; the difference and its interval are fine, so silence that
        with np.errstate(divide="ignore", invalid="ignore"):
            lo_, hi_ = confint_proportions_2indep(yt[ok], nt[ok], yc[ok], nc[ok], method="newcomb", compare="diff", alpha=alpha)
            pv_ = test_proportions_2indep(yt[ok], nt[ok], yc[ok], nc[ok], compare="diff").pvalue
        lo[ok], hi[ok] = lo_, hi_
        pv[ok] = np.asarray(pv_)
    with np.errstate(invalid="ignore", divide="ignore"):
        rt, rc = yt / nt, yc / nc
    return pd.DataFrame(
        {
            "segment": labels,
            "n_treated": nt.astype(np.int64),
            "n_control": nc.astype(np.int64),
            "response_rate_treated": rt,
            "rate_control": rc,
            "uplift": rt - rc,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": pv,
        }
    )


@dataclass(frozen=True, eq=False)
class TLearnerResult(_Result):
    """Out-of-fold T-learner uplift scores.

    Fields
    ------
    uplift : Series, P(outcome | treated, x) - P(outcome | control, x), one per row,
        each predicted by models that never saw that row (K-fold cross-fitting).
    p_treated, p_control : the two predicted probabilities (p_treated is the
        "response model" score that response targeting uses).
    model : name of the classifier; n_splits, seed : settings.
    """

    uplift: pd.Series
    p_treated: pd.Series
    p_control: pd.Series
    model: str
    n_splits: int
    seed: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"uplift": self.uplift, "p_treated": self.p_treated, "p_control": self.p_control})


def _design(campaign: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    X = campaign[list(features)]
    parts = []
    for c in features:
        s = X[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.to_numpy(dtype=float, na_value=np.nan)[:, None])
        else:
            parts.append(pd.get_dummies(s.astype("category"), prefix=c, dtype=float).to_numpy())
    return np.hstack(parts)


def t_learner(
    campaign: pd.DataFrame,
    features: Sequence[str],
    outcome: str = "purchased_30d",
    treatment: str = "treatment",
    model: Any = None,
    seed: int = 0,
    *,
    n_splits: int = 5,
) -> TLearnerResult:
    """Individual uplift scores from a T-learner (two-model approach), out of fold.

    Fits one classifier on treated rows and one on control rows and scores
    ``uplift(x) = P̂_T(y=1|x) - P̂_C(y=1|x)`` (Künzel et al. 2019, "Metalearners for
    estimating heterogeneous treatment effects", PNAS). Scores are cross-fitted with
    ``KFold(n_splits, shuffle=True, random_state=seed)``: each row is scored by models
    trained on the other folds, so Qini curves on the same data are not in-sample.
    Default model: scikit-learn ``GradientBoostingClassifier`` (100 depth-3 trees,
    learning rate 0.05, subsample 0.8). Non-numeric features are one-hot encoded. Assumes randomised
    treatment (or no unmeasured confounders given ``features``).

    >>> rng = np.random.default_rng(0)
    >>> c = pd.DataFrame({"x": rng.normal(size=200), "treatment": rng.random(200) < .5})
    >>> c["purchased_30d"] = rng.random(200) < .2 + .2 * c["treatment"] * (c["x"] > 0)
    >>> len(t_learner(c, ["x"]).uplift)
    200
    """
    from sklearn.base import clone
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import KFold

    if not features:
        raise ValueError("features must list at least one column")
    _require(campaign, list(features) + [outcome, treatment], "campaign")
    t = _binary(campaign[treatment], treatment).astype(bool)
    y = _binary(campaign[outcome], outcome)
    if t.all() or (~t).all():
        raise ValueError(f"column {treatment!r} needs both treated and control rows")
    if len(campaign) < 2 * n_splits:
        raise ValueError(f"campaign has {len(campaign)} rows; need at least {2 * n_splits} for {n_splits}-fold scoring")
    X = _design(campaign, features)
    base = model if model is not None else GradientBoostingClassifier(
        n_estimators=100, learning_rate=0.05, max_depth=3, subsample=0.8, min_samples_leaf=40, random_state=seed
    )
    pt = np.empty(len(y))
    pc = np.empty(len(y))
    for tr, te in KFold(n_splits, shuffle=True, random_state=seed).split(X):  # folds, not rows
        for arm, dest in ((True, pt), (False, pc)):
            sel = tr[t[tr] == arm]
            if len(np.unique(y[sel])) < 2:
                dest[te] = float(y[sel].mean()) if len(sel) else np.nan
                continue
            m = clone(base).fit(X[sel], y[sel])
            dest[te] = m.predict_proba(X[te])[:, 1]
    idx = campaign.index
    return TLearnerResult(
        uplift=pd.Series(pt - pc, index=idx, name="uplift"),
        p_treated=pd.Series(pt, index=idx, name="p_treated"),
        p_control=pd.Series(pc, index=idx, name="p_control"),
        model=type(base).__name__,
        n_splits=int(n_splits),
        seed=int(seed),
    )


def _uplift_inputs(scores, treatment, outcome):
    s = np.asarray(scores.uplift if isinstance(scores, TLearnerResult) else scores, dtype=float)
    t = np.asarray(treatment)
    y = np.asarray(outcome)
    if not (len(s) == len(t) == len(y)):
        raise ValueError(f"uplift_scores, treatment and outcome must have equal length, got {len(s)}, {len(t)}, {len(y)}")
    if len(s) == 0:
        raise ValueError("uplift_scores is empty")
    if np.isnan(s).any():
        raise ValueError("uplift_scores has missing values")
    t = _binary(pd.Series(t), "treatment").astype(float)
    y = _binary(pd.Series(y), "outcome").astype(float)
    return s, t, y


def qini_curve(uplift_scores, treatment, outcome) -> pd.DataFrame:
    """Qini curve: incremental responders when targeting the top-k by score.

    Sort by score (descending); at each cut-off k,
    ``Q(k) = Y_T(k) - Y_C(k) · N_T(k) / N_C(k)`` where ``Y`` are responders and ``N``
    customers among the top k of each arm (Radcliffe 2007, "Using control groups to
    target on predicted lift"). Tied scores are treated as one block (points only at
    block ends). Columns: ``n_targeted``, ``fraction_targeted``, ``qini``
    (incremental responders), ``random`` (the straight line of random targeting).
    Starts at (0, 0).

    >>> qini_curve([0.9, 0.1, 0.5, 0.2], [1, 0, 1, 0], [1, 0, 0, 1])["qini"].tolist()
    [0.0, 1.0, 1.0, -1.0, 0.0]
    """
    s, t, y = _uplift_inputs(uplift_scores, treatment, outcome)
    order = np.argsort(-s, kind="stable")
    s, t, y = s[order], t[order], y[order]
    nt, nc = np.cumsum(t), np.cumsum(1 - t)
    yt, yc = np.cumsum(t * y), np.cumsum((1 - t) * y)
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(nc[ends] > 0, yt[ends] - yc[ends] * nt[ends] / nc[ends], yt[ends])
    n = len(s)
    k = ends + 1
    return pd.DataFrame(
        {
            "n_targeted": np.r_[0, k],
            "fraction_targeted": np.r_[0.0, k / n],
            "qini": np.r_[0.0, q],
            "random": np.r_[0.0, k / n * q[-1]],
        }
    )


def qini_coefficient(uplift_scores, treatment, outcome, *, normalize: bool = True) -> float:
    """Qini coefficient: area between the Qini curve and the random line.

    Areas are trapezoidal over the fraction targeted. With ``normalize=True`` (default)
    it is divided by the same area for the perfect ordering (treated responders first,
    control responders last), as in scikit-uplift's ``qini_auc_score`` — 1 is perfect,
    0 is random. Raw (un-normalised) areas are in responders. Radcliffe (2007).

    >>> round(qini_coefficient([0.9, 0.1, 0.5, 0.2], [1, 0, 1, 0], [1, 0, 0, 1]), 3)
    0.333
    """
    s, t, y = _uplift_inputs(uplift_scores, treatment, outcome)

    def area(score):
        c = qini_curve(score, t, y)
        x = c["fraction_targeted"].to_numpy()
        return float(np.trapezoid(c["qini"].to_numpy() - c["random"].to_numpy(), x))

    a = area(s)
    if not normalize:
        return a
    perfect = area(y * t - y * (1 - t))
    return a / perfect if perfect != 0 else float("nan")


def uplift_at_k(uplift_scores, treatment, outcome, k: float = 0.3) -> float:
    """Uplift among the top ``k`` by score: treated rate - control rate in that group.

    ``k`` is a fraction in (0, 1] or a number of customers (int >= 1). The top group is
    ``ceil(k · n)`` rows by descending score (stable order for ties). NaN if one arm is
    empty in the top group.

    >>> uplift_at_k([0.9, 0.8, 0.1, 0.0], [1, 0, 1, 0], [1, 0, 0, 0], k=0.5)
    1.0
    """
    s, t, y = _uplift_inputs(uplift_scores, treatment, outcome)
    n = len(s)
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1:
        m = int(min(k, n))
    elif isinstance(k, float) and 0 < k <= 1:
        m = int(math.ceil(k * n))
    else:
        raise ValueError(f"k must be a fraction in (0, 1] or a count >= 1, got {k!r}")
    top = np.argsort(-s, kind="stable")[:m]
    tt, yy = t[top], y[top]
    if tt.sum() == 0 or (1 - tt).sum() == 0:
        return float("nan")
    return float(yy[tt == 1].mean() - yy[tt == 0].mean())


def targeting_value(
    campaign: pd.DataFrame,
    scores: pd.Series | TLearnerResult,
    k: float,
    margin: float,
    coupon_cost: float,
    *,
    response_scores: pd.Series | None = None,
    treatment: str = "treatment",
    outcome: str = "purchased_30d",
    redeemed: str = "redeemed",
) -> pd.DataFrame:
    """Incremental margin after coupon cost of targeting policies, from randomised data.

    For a targeted set S: incremental purchases = (rate_T(S) - rate_C(S)) · |S|;
    coupons redeemed = redemption rate of treated in S · |S|; value =
    incremental purchases · ``margin`` (gross profit per purchase, CNY) - redeemed ·
    ``coupon_cost`` (CNY per redeemed coupon). Policies: ``top k by uplift`` (by
    ``scores``), ``top k by response`` (by ``response_scores`` or, for a
    :class:`TLearnerResult`, its ``p_treated``), ``everyone``. Because treatment was
    randomised inside every S, each estimate is unbiased (Radcliffe 2007; Gutierrez &
    Gérardy 2017). ``k`` as in :func:`uplift_at_k`.

    >>> c = pd.DataFrame({"treatment": [1, 0, 1, 0], "purchased_30d": [1, 0, 1, 1], "redeemed": [1, 0, 1, 0]})
    >>> targeting_value(c, pd.Series([.9, .8, .1, 0.]), 0.5, 50.0, 10.0)["policy"].tolist()
    ['top k by uplift', 'everyone']
    """
    _require(campaign, [treatment, outcome, redeemed], "campaign")
    if margin < 0 or coupon_cost < 0:
        raise ValueError("margin and coupon_cost must be >= 0 (CNY)")
    t = _binary(campaign[treatment], treatment).astype(float)
    y = _binary(campaign[outcome], outcome).astype(float)
    r = _binary(campaign[redeemed], redeemed).astype(float)
    up = scores.uplift if isinstance(scores, TLearnerResult) else scores
    resp = response_scores
    if resp is None and isinstance(scores, TLearnerResult):
        resp = scores.p_treated
    n = len(t)
    if len(up) != n:
        raise ValueError(f"scores has {len(up)} values; campaign has {n} rows")
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1:
        m = int(min(k, n))
    elif isinstance(k, float) and 0 < k <= 1:
        m = int(math.ceil(k * n))
    else:
        raise ValueError(f"k must be a fraction in (0, 1] or a count >= 1, got {k!r}")

    def value(sel: np.ndarray, name: str) -> dict[str, Any]:
        tt, yy, rr = t[sel], y[sel], r[sel]
        nt, nc = tt.sum(), (1 - tt).sum()
        rate_t = yy[tt == 1].mean() if nt else np.nan
        rate_c = yy[tt == 0].mean() if nc else np.nan
        size = len(sel)
        inc = (rate_t - rate_c) * size
        red = (rr[tt == 1].mean() if nt else np.nan) * size
        return {
            "policy": name,
            "customers_targeted": size,
            "uplift": rate_t - rate_c,
            "incremental_purchases": inc,
            "coupons_redeemed": red,
            "incremental_margin_amount": inc * margin - red * coupon_cost,
        }

    rows = [value(np.argsort(-np.asarray(up, float), kind="stable")[:m], "top k by uplift")]
    if resp is not None:
        rows.append(value(np.argsort(-np.asarray(resp, float), kind="stable")[:m], "top k by response"))
    rows.append(value(np.arange(n), "everyone"))
    return pd.DataFrame(rows)
