"""Lesson 05-2 — A/B testing done right: power, SRM, tests, CUPED, peeking, the memo.

Methods follow Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*
(Cambridge UP): ch. 17 (statistics behind experiments), ch. 18 (variance, delta method),
ch. 21 (sample ratio mismatch), ch. 22 (CUPED). Every statistic comes from statsmodels
or SciPy; this module validates inputs, wires the calls and returns typed results that
display as a table in a notebook (``_repr_html_``) and convert with ``to_frame()``.

Results (NamedTuples, fields documented on each class): :class:`SampleSize`,
:class:`SRMResult`, :class:`EffectResult`, :class:`CupedResult`,
:class:`PeekingResult`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from ecomlab.validation import require_columns as _require

__all__ = [
    "SampleSize",
    "SRMResult",
    "EffectResult",
    "CupedResult",
    "PeekingResult",
    "sample_size",
    "duration_days",
    "srm_check",
    "proportion_test",
    "mean_test",
    "cuped",
    "obrien_fleming_boundary",
    "peeking_simulation",
    "cumulative_looks",
    "Recommendation",
    "decide",
    "decision_rates",
    "recommendation",
    "decision_memo",
]

MIN_PER_ARM = 30  # below this the normal approximations are not trustworthy


# --------------------------------------------------------------------------------------
# display mixin for NamedTuple results
# --------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return str(v)
        a = abs(v)
        return f"{v:.3g}" if (a != 0 and (a < 1e-3 or a >= 1e6)) else f"{v:.4f}".rstrip("0").rstrip(".")
    if isinstance(v, (pd.Series, pd.DataFrame)):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in (v.items() if isinstance(v, pd.Series) else []))
    if isinstance(v, tuple) and not v:
        return "—"
    if isinstance(v, tuple):
        return "; ".join(map(str, v))
    return str(v)


def _is_result(v) -> bool:
    return isinstance(v, tuple) and hasattr(v, "_asdict") and hasattr(v, "to_frame")


def _to_frame(self) -> pd.DataFrame:
    """One-row DataFrame of the fields (nested results and Series are flattened)."""
    row = {}
    for k, v in self._asdict().items():
        if _is_result(v):
            for k2, v2 in v.to_frame().iloc[0].items():
                row[f"{k}.{k2}"] = v2
        elif isinstance(v, pd.Series):
            for k2, v2 in v.items():
                row[f"{k}[{k2}]"] = v2
        elif isinstance(v, tuple):
            row[k] = "; ".join(map(str, v))
        else:
            row[k] = v
    return pd.DataFrame([row])


def _repr_html_(self) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>"
        f"{type(v).__name__ + ' (see .' + k + ')' if _is_result(v) else _fmt(v)}</td></tr>"
        for k, v in self._asdict().items()
    )
    return f"<table><caption style='text-align:left'><b>{type(self).__name__}</b></caption>{rows}</table>"


def _display(cls):
    """Give a NamedTuple result ``to_frame()`` and a notebook table (``_repr_html_``)."""
    cls.to_frame = _to_frame
    cls._repr_html_ = _repr_html_
    return cls


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _check_prob(x, name, lo_open=True, hi_open=True) -> float:
    if not isinstance(x, (int, float, np.floating, np.integer)) or isinstance(x, bool) or not np.isfinite(x):
        raise ValueError(f"{name} must be a number, got {x!r}")
    if (x <= 0 if lo_open else x < 0) or (x >= 1 if hi_open else x > 1):
        raise ValueError(f"{name} must be in (0, 1), got {x!r}")
    return float(x)


def _two_arms(df: pd.DataFrame, variant: str, control: str, treatment: str) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the control and treatment rows; errors on anything else."""
    _require(df, [variant])
    v = df[variant]
    if v.isna().any():
        raise ValueError(f"column {variant!r} has {int(v.isna().sum())} missing value(s)")
    # codes + the few distinct labels: comparing labels, not every row's string (~20x faster)
    codes, uniques = pd.factorize(v)
    labels = np.array([str(u) for u in uniques], dtype=object)
    unknown = sorted(set(labels) - {control, treatment})
    if unknown:
        raise ValueError(
            f"column {variant!r} has variant(s) {unknown} besides control={control!r} and "
            f"treatment={treatment!r}; this test compares exactly two arms (filter the frame, "
            "or test each treatment against control separately with a multiple-testing correction)"
        )
    c, t = (np.isin(codes, np.flatnonzero(labels == arm)) for arm in (control, treatment))
    for name, m in ((control, c), (treatment, t)):
        if not m.any():
            raise ValueError(f"variant {name!r} has no rows in column {variant!r}")
    return c, t


def _numeric(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        if not pd.api.types.is_bool_dtype(s):
            raise ValueError(f"column {col!r} must be numeric, got {s.dtype}")
    if s.isna().any():
        raise ValueError(f"column {col!r} has {int(s.isna().sum())} missing value(s); impute or drop them explicitly")
    x = s.to_numpy(dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"column {col!r} has infinite values")
    return x


def _binary(df: pd.DataFrame, col: str) -> np.ndarray:
    """A bool or 0/1 column as an int64 array (1 = converted); errors name the column."""
    y = df[col]
    if y.isna().any():
        raise ValueError(f"column {col!r} has {int(y.isna().sum())} missing value(s)")
    if pd.api.types.is_bool_dtype(y):
        return y.to_numpy(dtype=bool).astype(np.int64)
    if pd.api.types.is_numeric_dtype(y):
        yv = y.to_numpy(dtype=float)
        if not np.isin(yv, (0.0, 1.0)).all():
            raise ValueError(f"column {col!r} must be binary (bool or 0/1); found values {np.unique(yv)[:5].tolist()}...")
        return yv.astype(np.int64)
    raise ValueError(f"column {col!r} must be bool or 0/1, got dtype {y.dtype}")


# --------------------------------------------------------------------------------------
# power and duration
# --------------------------------------------------------------------------------------
@_display
class SampleSize(NamedTuple):
    """Required sample size for a two-proportion test.

    Fields: ``n_control``, ``n_treatment`` (units per arm, rounded up), ``n_total``;
    ``baseline_rate`` and ``target_rate`` (= baseline + absolute MDE); ``mde_abs``,
    ``mde_rel``; ``effect_size`` (Cohen's h); ``alpha``, ``power``, ``ratio``
    (n_treatment / n_control).
    """

    n_control: int
    n_treatment: int
    n_total: int
    baseline_rate: float
    target_rate: float
    mde_abs: float
    mde_rel: float
    effect_size: float
    alpha: float
    power: float
    ratio: float


def sample_size(
    baseline_rate: float,
    mde_abs: float | None = None,
    mde_rel: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Units per arm to detect a change in a conversion rate (two-sided z-test).

    Effect size is Cohen's ``h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p0))``
    (:func:`statsmodels.stats.proportion.proportion_effectsize`), solved with
    :class:`statsmodels.stats.power.NormalIndPower`. Give exactly one of ``mde_abs``
    (e.g. 0.004 = +0.4 pp) or ``mde_rel`` (e.g. 0.10 = +10 %). Kohavi et al. (2020)
    ch. 17 rule of thumb ``n ≈ 16 p(1-p)/δ²`` per arm gives nearly the same answer.

    >>> s = sample_size(0.032, mde_abs=0.004)
    >>> s.n_control, s.n_total
    (32197, 64394)
    """
    p0 = _check_prob(baseline_rate, "baseline_rate")
    if (mde_abs is None) == (mde_rel is None):
        raise ValueError("give exactly one of mde_abs or mde_rel")
    if mde_abs is not None:
        if not np.isfinite(mde_abs) or mde_abs == 0:
            raise ValueError(f"mde_abs must be a non-zero number, got {mde_abs!r}")
        p1 = p0 + float(mde_abs)
    else:
        if not np.isfinite(mde_rel) or mde_rel == 0:
            raise ValueError(f"mde_rel must be a non-zero number, got {mde_rel!r}")
        p1 = p0 * (1 + float(mde_rel))
    if not 0 < p1 < 1:
        raise ValueError(f"baseline_rate + MDE = {p1:.4g} is outside (0, 1)")
    alpha = _check_prob(alpha, "alpha")
    power = _check_prob(power, "power")
    if not (isinstance(ratio, (int, float)) and ratio > 0):
        raise ValueError(f"ratio must be > 0, got {ratio!r}")
    h = float(proportion_effectsize(p1, p0))
    n1 = NormalIndPower().solve_power(effect_size=abs(h), nobs1=None, alpha=alpha, power=power, ratio=ratio)
    n_c = int(math.ceil(float(n1)))
    n_t = int(math.ceil(float(n1) * ratio))
    return SampleSize(n_c, n_t, n_c + n_t, p0, p1, p1 - p0, p1 / p0 - 1, h, alpha, power, float(ratio))


def duration_days(n_per_arm: int | SampleSize, daily_visitors: float, arms: int = 2) -> int:
    """Days to run = ceil(n_per_arm x arms / eligible daily visitors), at least 7.

    Kohavi et al. (2020) ch. 17: run whole weeks (at least one) to cover the weekday
    cycle, so the result is rounded **up to whole weeks**. ``daily_visitors`` must be
    *new* eligible visitors per day: returning visitors are not new units. Passing a
    :class:`SampleSize` uses its ``n_total``.

    >>> duration_days(32197, daily_visitors=5000)
    14
    """
    if isinstance(n_per_arm, SampleSize):
        total = n_per_arm.n_total
    else:
        if not (isinstance(n_per_arm, (int, np.integer)) and n_per_arm > 0):
            raise ValueError(f"n_per_arm must be a positive int, got {n_per_arm!r}")
        if not (isinstance(arms, (int, np.integer)) and arms >= 2):
            raise ValueError(f"arms must be an int >= 2, got {arms!r}")
        total = int(n_per_arm) * int(arms)
    if not (isinstance(daily_visitors, (int, float, np.integer, np.floating)) and daily_visitors > 0):
        raise ValueError(f"daily_visitors must be > 0, got {daily_visitors!r}")
    days = math.ceil(total / float(daily_visitors))
    return int(7 * math.ceil(days / 7))


# --------------------------------------------------------------------------------------
# SRM
# --------------------------------------------------------------------------------------
@_display
class SRMResult(NamedTuple):
    """Sample ratio mismatch check (chi-square goodness of fit).

    Fields: ``counts`` (observed units per variant, Series), ``expected_counts``,
    ``expected_shares``, ``observed_shares``; ``chi2`` statistic, ``dof``, ``pvalue``;
    ``alpha`` (threshold, 0.001 by convention); ``srm`` (True = mismatch: do not trust
    the experiment's results until the cause is found).
    """

    counts: pd.Series
    expected_counts: pd.Series
    expected_shares: pd.Series
    observed_shares: pd.Series
    chi2: float
    dof: int
    pvalue: float
    alpha: float
    srm: bool


def srm_check(
    df: pd.DataFrame,
    variant: str = "variant",
    expected: Mapping[str, float] | Sequence[float] | None = None,
    alpha: float = 0.001,
) -> SRMResult:
    """Sample ratio mismatch 样本比例失衡: are the arm sizes what the design said?

    Pearson chi-square goodness of fit (:func:`scipy.stats.chisquare`) of the observed
    units per variant against the design shares (``expected``: dict variant -> share,
    a sequence in the order of the variants, or None = equal split). Kohavi et al.
    (2020) ch. 21 and Fabijan et al. (2019, KDD) flag an SRM at p < 0.001; with an SRM
    the assignment or logging is broken and the effect estimate is not trustworthy.
    Variants of a categorical column with 0 units are kept (0 observed is itself a
    mismatch).

    >>> df = pd.DataFrame({"variant": ["control"] * 51_500 + ["treatment"] * 48_500})
    >>> r = srm_check(df)
    >>> r.srm, round(r.chi2, 1)
    (True, 90.0)
    """
    _require(df, [variant])
    alpha = _check_prob(alpha, "alpha")
    v = df[variant]
    if v.isna().any():
        raise ValueError(f"column {variant!r} has {int(v.isna().sum())} missing value(s)")
    if isinstance(v.dtype, pd.CategoricalDtype):
        counts = v.value_counts(sort=False)
    else:
        counts = v.astype(str).value_counts().sort_index()
    counts.index = pd.Index(counts.index.astype(str), name=variant)
    counts = counts.astype(np.int64).rename("units")
    if len(counts) < 2:
        raise ValueError(f"column {variant!r} has {len(counts)} variant(s); an SRM check needs at least 2")
    if counts.sum() == 0:
        raise ValueError("df is empty")
    if expected is None:
        shares = pd.Series(1.0 / len(counts), index=counts.index)
    elif isinstance(expected, Mapping):
        keys = {str(k) for k in expected}
        if keys != set(counts.index):
            raise ValueError(f"expected has variants {sorted(keys)}, data has {sorted(counts.index)}")
        shares = pd.Series({str(k): float(x) for k, x in expected.items()}).reindex(counts.index)
    else:
        shares = pd.Series(np.asarray(expected, dtype=float), index=counts.index) if len(expected) == len(counts) else None
        if shares is None:
            raise ValueError(f"expected has {len(expected)} shares for {len(counts)} variants {list(counts.index)}")
    if (shares <= 0).any() or not np.isfinite(shares).all():
        raise ValueError("expected shares must be positive numbers")
    shares = shares / shares.sum()
    exp_counts = shares * counts.sum()
    res = stats.chisquare(counts.to_numpy(float), exp_counts.to_numpy())
    p = float(res.pvalue)
    return SRMResult(
        counts,
        exp_counts.rename("expected_units"),
        shares.rename("expected_share"),
        (counts / counts.sum()).rename("observed_share"),
        float(res.statistic),
        len(counts) - 1,
        p,
        alpha,
        bool(p < alpha),
    )


# --------------------------------------------------------------------------------------
# two-sample tests
# --------------------------------------------------------------------------------------
@_display
class EffectResult(NamedTuple):
    """Treatment vs control comparison of one metric (tea-tasting style).

    Fields:

    - ``metric`` — column analysed; ``method`` — the test and interval used.
    - ``control_value``, ``treatment_value`` — rate (proportion) or mean per unit.
    - ``n_control``, ``n_treatment`` — units per arm.
    - ``effect``, ``effect_ci_lower``, ``effect_ci_upper`` — absolute lift
      (treatment - control) and its ``1 - alpha`` confidence interval.
    - ``rel_effect``, ``rel_effect_ci_lower``, ``rel_effect_ci_upper`` — relative lift
      (treatment / control - 1) and its interval (delta method; see each function).
    - ``statistic`` — z (proportions) or Welch t (means); ``pvalue`` — two-sided.
    - ``alpha`` — significance level; ``significant`` — ``pvalue < alpha``.
    - ``warnings`` — tuple of caveats (small samples, ...); empty when none.
    """

    metric: str
    method: str
    control_value: float
    treatment_value: float
    n_control: int
    n_treatment: int
    effect: float
    effect_ci_lower: float
    effect_ci_upper: float
    rel_effect: float
    rel_effect_ci_lower: float
    rel_effect_ci_upper: float
    statistic: float
    pvalue: float
    alpha: float
    significant: bool
    warnings: tuple = ()


def _small_sample_warnings(n_c: int, n_t: int) -> list[str]:
    w = []
    for name, n in (("control", n_c), ("treatment", n_t)):
        if n < MIN_PER_ARM:
            w.append(f"only {n} units in {name} (< {MIN_PER_ARM}): normal approximation unreliable")
    return w


def proportion_test(
    df: pd.DataFrame,
    *,
    variant: str = "variant",
    outcome: str = "converted",
    control: str = "control",
    treatment: str = "treatment",
    alpha: float = 0.05,
    method: str = "wald",
) -> EffectResult:
    """Two-proportion z-test of a binary outcome with absolute and relative CIs.

    - z and p-value: :func:`statsmodels.stats.proportion.test_proportions_2indep`
      (``compare="diff"``, ``method="wald"`` = unpooled standard error, as in Kohavi
      et al. 2020 ch. 17, so the CI excludes 0 exactly when p < alpha; ``"score"``
      and ``"agresti-caffo"`` are also accepted).
    - Absolute CI: :func:`~statsmodels.stats.proportion.confint_proportions_2indep`
      with the same ``method``.
    - Relative lift CI: delta method on the **log ratio** (Katz log interval,
      ``confint_proportions_2indep(compare="ratio", method="log")``):
      ``Var(ln(p_t/p_c)) ≈ (1-p_t)/(n_t p_t) + (1-p_c)/(n_c p_c)``, then
      ``exp(.) - 1``; it stays above -100 % and is asymmetric like the ratio.

    ``outcome`` must be bool or 0/1 without missing values; exactly the two named
    variants may appear. Fewer than 30 units in an arm adds a note to ``warnings``.

    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"variant": np.repeat(["control", "treatment"], 20_000),
    ...                    "converted": rng.random(40_000) < np.repeat([0.032, 0.036], 20_000)})
    >>> r = proportion_test(df, variant="variant", outcome="converted")
    >>> r.significant, r.effect_ci_lower < r.effect < r.effect_ci_upper
    (True, True)
    """
    _require(df, [variant, outcome])
    alpha = _check_prob(alpha, "alpha")
    if method not in ("wald", "score", "agresti-caffo"):
        raise ValueError(f"method must be 'wald', 'score' or 'agresti-caffo', got {method!r}")
    c, t = _two_arms(df, variant, control, treatment)
    yv = _binary(df, outcome)
    n_c, n_t = int(c.sum()), int(t.sum())
    x_c, x_t = int(yv[c].sum()), int(yv[t].sum())
    if x_c + x_t == 0 or x_c + x_t == n_c + n_t:
        raise ValueError(f"column {outcome!r} has no variation (all {'0' if x_c + x_t == 0 else '1'}); nothing to test")
    warns = _small_sample_warnings(n_c, n_t)
    p_c, p_t = x_c / n_c, x_t / n_t
    # statsmodels also computes ratio and odds ratio (divide by zero when an arm has no
    # conversions); we report the difference here and handle the relative lift below
    with np.errstate(divide="ignore", invalid="ignore"):
        res = test_proportions_2indep(x_t, n_t, x_c, n_c, method=method, compare="diff", correction=False)
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method=method, compare="diff", alpha=alpha)
    if x_c > 0 and x_t > 0:
        rlo, rhi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="log", compare="ratio", alpha=alpha)
        rlo, rhi = float(rlo) - 1, float(rhi) - 1
    else:
        rlo = rhi = float("nan")
        warns.append("a zero count in one arm: relative CI undefined")
    rel = p_t / p_c - 1 if p_c > 0 else float("nan")
    stat, p = float(res.statistic), float(res.pvalue)
    if not np.isfinite(stat):
        raise ValueError(f"the test statistic is undefined (zero variance in {outcome!r} within both arms)")
    return EffectResult(
        outcome, f"two-proportion z-test ({method}); relative CI: delta method on log ratio",
        p_c, p_t, n_c, n_t, p_t - p_c, float(lo), float(hi), rel, rlo, rhi, stat, p, alpha, bool(p < alpha), tuple(warns),
    )


def _rel_ci_means(m_t, m_c, v_t, v_c, n_t, n_c, alpha):
    """Delta-method CI for m_t/m_c - 1 on the ratio scale (Kohavi et al. 2020 ch. 18)."""
    if m_c <= 0:
        return float("nan"), float("nan"), float("nan")
    r = m_t / m_c
    var = (v_t / n_t) / m_c**2 + (m_t**2) * (v_c / n_c) / m_c**4
    zc = stats.norm.ppf(1 - alpha / 2)
    se = math.sqrt(var)
    return r - 1, r - zc * se - 1, r + zc * se - 1


def mean_test(
    df: pd.DataFrame,
    *,
    variant: str = "variant",
    metric: str = "revenue",
    control: str = "control",
    treatment: str = "treatment",
    alpha: float = 0.05,
) -> EffectResult:
    """Welch's t-test of a per-unit metric (e.g. revenue per visitor) with CIs.

    - t, df and p-value: :class:`statsmodels.stats.weightstats.CompareMeans`
      ``ttest_ind(usevar="unequal")`` (Welch; identical to
      ``scipy.stats.ttest_ind(equal_var=False)``); absolute CI from ``tconfint_diff``.
    - Relative lift CI: delta method for the ratio of two independent means
      (Kohavi et al. 2020 ch. 18; Deng, Knoblich & Lu 2018):
      ``Var(m_t/m_c) ≈ s_t²/(n_t m_c²) + m_t² s_c²/(n_c m_c⁴)``, normal interval,
      minus 1. Undefined (NaN + warning) if the control mean is <= 0.

    Zero variance in both arms raises ``ValueError`` (t is undefined).

    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"variant": np.repeat(["control", "treatment"], 500),
    ...                    "revenue": rng.gamma(2.0, 50.0, 1000)})
    >>> r = mean_test(df, variant="variant", metric="revenue")
    >>> 0 <= r.pvalue <= 1, r.effect_ci_lower < r.effect < r.effect_ci_upper
    (True, True)
    """
    _require(df, [variant, metric])
    alpha = _check_prob(alpha, "alpha")
    c, t = _two_arms(df, variant, control, treatment)
    y = _numeric(df, metric)
    yc, yt = y[c], y[t]
    n_c, n_t = len(yc), len(yt)
    if n_c < 2 or n_t < 2:
        raise ValueError(f"need at least 2 units per arm for a t-test, got control={n_c}, treatment={n_t}")
    v_c, v_t = yc.var(ddof=1), yt.var(ddof=1)
    if v_c == 0 and v_t == 0:
        raise ValueError(f"column {metric!r} has zero variance in both arms; the t-test is undefined")
    warns = _small_sample_warnings(n_c, n_t)
    cm = CompareMeans(DescrStatsW(yt), DescrStatsW(yc))
    tstat, p, dof = cm.ttest_ind(usevar="unequal")
    lo, hi = cm.tconfint_diff(alpha=alpha, usevar="unequal")
    m_c, m_t = float(yc.mean()), float(yt.mean())
    rel, rlo, rhi = _rel_ci_means(m_t, m_c, v_t, v_c, n_t, n_c, alpha)
    if not np.isfinite(rel):
        warns.append("control mean <= 0: relative lift undefined")
    return EffectResult(
        metric, f"Welch t-test (df={float(dof):.1f}); relative CI: delta method on ratio",
        m_c, m_t, n_c, n_t, m_t - m_c, float(lo), float(hi), rel, rlo, rhi,
        float(tstat), float(p), alpha, bool(p < alpha), tuple(warns),
    )


@_display
class CupedResult(NamedTuple):
    """CUPED (Deng et al. 2013) variance-reduced comparison.

    Fields: ``adjusted`` (:class:`EffectResult` on ``Y - θ(X - mean X)``),
    ``unadjusted`` (the plain Welch test on ``Y``), ``theta`` = cov(Y, X)/var(X)
    (pooled over arms), ``rho`` = corr(Y, X), ``variance_reduction`` = 1 -
    var(Y_adj)/var(Y) (pooled within-arm variances), ``expected_reduction`` = ρ² (theory:
    the two agree), ``ci_width_ratio`` = adjusted / unadjusted CI width (≈ sqrt(1-ρ²)).
    """

    adjusted: EffectResult
    unadjusted: EffectResult
    theta: float
    rho: float
    variance_reduction: float
    expected_reduction: float
    ci_width_ratio: float


def cuped(
    df: pd.DataFrame,
    *,
    metric: str = "revenue",
    covariate: str = "pre_revenue",
    variant: str = "variant",
    control: str = "control",
    treatment: str = "treatment",
    alpha: float = 0.05,
) -> CupedResult:
    """CUPED: use a pre-experiment covariate to shrink the variance of a metric.

    ``θ = cov(Y, X) / var(X)`` over both arms pooled, ``Y_adj = Y - θ (X - mean(X))``,
    then :func:`mean_test` on ``Y_adj``. ``X`` must be measured *before* assignment
    (e.g. ``pre_revenue``), so it is independent of treatment and the estimate stays
    unbiased; the variance shrinks by the factor ``1 - ρ²`` (Deng, Xu, Kohavi & Walker
    2013, WSDM; Kohavi et al. 2020 ch. 22). The relative lift is relative to the
    adjusted control mean (an unbiased estimate of the control mean).

    >>> rng = np.random.default_rng(3)
    >>> x = rng.gamma(2.0, 50.0, 4000)
    >>> df = pd.DataFrame({"variant": np.repeat(["control", "treatment"], 2000),
    ...                    "pre_revenue": x, "revenue": x + rng.normal(0, 100, 4000)})
    >>> r = cuped(df)
    >>> round(r.variance_reduction, 2), round(r.expected_reduction, 2)
    (0.34, 0.34)
    """
    _require(df, [variant, metric, covariate])
    c, t = _two_arms(df, variant, control, treatment)
    y = _numeric(df, metric)
    x = _numeric(df, covariate)
    vx = x.var(ddof=1)
    if not vx > 0:
        raise ValueError(f"covariate {covariate!r} has zero variance; CUPED needs a varying pre-period metric")
    theta = float(np.cov(y, x, ddof=1)[0, 1] / vx)
    rho = float(np.corrcoef(y, x)[0, 1])
    adj_col = f"{metric}_cuped"
    adj = pd.DataFrame({variant: df[variant].to_numpy(), metric: y, adj_col: y - theta * (x - x.mean())})
    un = mean_test(adj, variant=variant, metric=metric, control=control, treatment=treatment, alpha=alpha)
    ad = mean_test(adj, variant=variant, metric=adj_col, control=control, treatment=treatment, alpha=alpha)

    def pooled_var(v):
        return (v[c].var(ddof=1) * (c.sum() - 1) + v[t].var(ddof=1) * (t.sum() - 1)) / (len(v) - 2)

    vr = 1 - pooled_var(adj[adj_col].to_numpy()) / pooled_var(y)
    width = (ad.effect_ci_upper - ad.effect_ci_lower) / (un.effect_ci_upper - un.effect_ci_lower)
    ad = ad._replace(metric=metric, method="CUPED-adjusted " + ad.method)
    return CupedResult(ad, un, theta, rho, float(vr), rho**2, float(width))


# --------------------------------------------------------------------------------------
# peeking
# --------------------------------------------------------------------------------------
def obrien_fleming_boundary(
    n_looks: int, alpha: float = 0.05, *, n_sims: int = 200_000, seed: int = 0
) -> np.ndarray:
    """Two-sided O'Brien-Fleming group-sequential z boundaries for equally spaced looks.

    O'Brien & Fleming (1979): reject at look k of K when ``|Z_k| >= c sqrt(K/k)``;
    early looks need overwhelming evidence, the last look is close to the fixed-horizon
    1.96. The constant ``c`` makes the overall type-I error ``alpha``; it is the
    ``1 - alpha`` quantile of ``max_k |S_k| / sqrt(K)`` for a Gaussian random walk
    ``S_k`` (independent increments of the cumulative z-statistic), computed here by a
    seeded, vectorised Monte Carlo (error in c about ±0.01). Tables: Jennison &
    Turnbull (2000), *Group Sequential Methods*, Table 2.3 (K = 5, alpha = 0.05:
    c = 2.040). Kohavi et al. (2020) ch. 17 discuss why peeking without it inflates
    false positives.

    >>> b = obrien_fleming_boundary(5)
    >>> round(float(b[-1]), 1), bool(b[0] > 4)
    (2.0, True)
    """
    if not (isinstance(n_looks, (int, np.integer)) and n_looks >= 1):
        raise ValueError(f"n_looks must be an int >= 1, got {n_looks!r}")
    alpha = _check_prob(alpha, "alpha")
    if n_looks == 1:
        return np.array([stats.norm.ppf(1 - alpha / 2)])
    rng = np.random.default_rng(seed)
    chunk = max(1, 4_000_000 // n_looks)
    maxima = []
    done = 0
    while done < n_sims:
        m = min(chunk, n_sims - done)
        s = np.cumsum(rng.standard_normal((m, n_looks)), axis=1)
        maxima.append(np.abs(s).max(axis=1) / math.sqrt(n_looks))
        done += m
    c = float(np.quantile(np.concatenate(maxima), 1 - alpha))
    k = np.arange(1, n_looks + 1)
    return c * np.sqrt(n_looks / k)


@_display
class PeekingResult(NamedTuple):
    """A/A peeking simulation.

    Fields: ``n_sims``, ``n_days`` (looks), ``daily_n`` (new units per arm per day),
    ``p`` (true conversion rate in both arms), ``alpha``;
    ``fpr_fixed`` — false positive rate testing once at the end (≈ alpha);
    ``fpr_peeking`` — stopping at the first daily look with p < alpha (inflated);
    ``fpr_obrien_fleming`` — daily looks against O'Brien-Fleming boundaries (≈ alpha);
    ``first_significant_day`` — Series: share of simulations first "significant" on each day.
    """

    n_sims: int
    n_days: int
    daily_n: int
    p: float
    alpha: float
    fpr_fixed: float
    fpr_peeking: float
    fpr_obrien_fleming: float
    first_significant_day: pd.Series


def peeking_simulation(
    n_sims: int = 2000,
    n_days: int = 28,
    daily_n: int = 1000,
    p: float = 0.032,
    alpha: float = 0.05,
    seed: int = 0,
) -> PeekingResult:
    """Why you must not stop an A/B test the first day it looks significant.

    Simulates ``n_sims`` A/A tests (both arms convert at ``p``) with ``daily_n`` new
    units per arm per day, and runs the pooled two-proportion z-test on the cumulative
    data after every day (vectorised: one ``(n_sims, n_days)`` array of cumulative
    counts, no loop over simulations). Reports the false positive rate of (a) one test
    at the planned end, (b) stopping at the first day with p < alpha — well above alpha
    (Johari et al. 2017 "Peeking at A/B tests", KDD; Kohavi et al. 2020 ch. 17) — and (c)
    daily looks with O'Brien-Fleming boundaries (:func:`obrien_fleming_boundary`), which
    keep it at alpha.

    >>> r = peeking_simulation(n_sims=2000, seed=0)
    >>> r.fpr_peeking > 0.15, abs(r.fpr_fixed - 0.05) < 0.02
    (True, True)
    """
    for name, val in (("n_sims", n_sims), ("n_days", n_days), ("daily_n", daily_n)):
        if not (isinstance(val, (int, np.integer)) and val >= 1):
            raise ValueError(f"{name} must be a positive int, got {val!r}")
    p = _check_prob(p, "p")
    alpha = _check_prob(alpha, "alpha")
    rng = np.random.default_rng(seed)
    xc = np.cumsum(rng.binomial(daily_n, p, size=(n_sims, n_days)), axis=1)
    xt = np.cumsum(rng.binomial(daily_n, p, size=(n_sims, n_days)), axis=1)
    n = daily_n * np.arange(1, n_days + 1)  # per arm, same for all sims
    pooled = (xc + xt) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * (2 / n))
    with np.errstate(divide="ignore", invalid="ignore"):
        zstat = np.where(se > 0, (xt - xc) / n / se, 0.0)
    zcrit = stats.norm.ppf(1 - alpha / 2)
    sig = np.abs(zstat) >= zcrit
    fixed = float(sig[:, -1].mean())
    any_sig = sig.any(axis=1)
    peek = float(any_sig.mean())
    obf = obrien_fleming_boundary(n_days, alpha, seed=seed + 1)
    fpr_obf = float((np.abs(zstat) >= obf[None, :]).any(axis=1).mean())
    first = np.where(any_sig, sig.argmax(axis=1) + 1, 0)
    share = pd.Series(np.bincount(first, minlength=n_days + 1)[1:] / n_sims, index=pd.RangeIndex(1, n_days + 1, name="day"), name="share_first_significant")
    return PeekingResult(int(n_sims), int(n_days), int(daily_n), p, alpha, fixed, peek, fpr_obf, share)


def cumulative_looks(
    df: pd.DataFrame,
    *,
    time_col: str = "assigned_at",
    freq: str = "D",
    outcome: str = "converted",
    variant: str = "variant",
    control: str = "control",
    treatment: str = "treatment",
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """What a peeker would have seen: the z-test re-run on the cumulative data each period.

    Units are grouped by the period of ``time_col`` (``freq``: a fixed pandas frequency
    such as ``"D"`` or ``"7D"``; each period with at least one unit is one look). At look
    ``k`` the two-proportion Wald z-test of :func:`proportion_test` (``method="wald"``,
    unpooled SE ``sqrt(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t)``) is applied to every unit
    assigned up to the end of that period, so the last look equals the fixed-horizon
    test. ``obf_boundary`` is the O'Brien-Fleming critical |z| for that look out of
    ``K`` (:func:`obrien_fleming_boundary`, which assumes equally spaced looks, i.e.
    similar traffic per period).

    Caveat: outcomes are those recorded at the end of the test. A live dashboard on
    day ``k`` sees the recent units' outcomes still incomplete, which adds noise but
    does not change the lesson (Kohavi et al. 2020 ch. 17; Johari et al. 2017).

    Returns one row per look with columns ``look`` (1..K), ``period`` (start of the
    period), ``n_control``, ``n_treatment``, ``control_rate``, ``treatment_rate``,
    ``effect`` (treatment - control), ``z``, ``pvalue``, ``significant``
    (``pvalue < alpha``: what stopping at the first significant look would act on),
    ``obf_boundary`` and ``obf_significant`` (``|z| >= obf_boundary``). ``z`` and
    ``pvalue`` are NaN while neither arm has variation.

    >>> rng = np.random.default_rng(4)
    >>> df = pd.DataFrame({"variant": rng.choice(["control", "treatment"], 7000),
    ...                    "assigned_at": pd.Timestamp("2025-10-06") + pd.to_timedelta(rng.uniform(0, 7, 7000), unit="D"),
    ...                    "converted": rng.random(7000) < 0.03})
    >>> looks = cumulative_looks(df)
    >>> len(looks), int(looks["n_control"].iloc[-1] + looks["n_treatment"].iloc[-1])
    (7, 7000)
    >>> bool(abs(looks["pvalue"].iloc[-1] - proportion_test(df).pvalue) < 1e-9)
    True
    """
    _require(df, [variant, outcome, time_col])
    alpha = _check_prob(alpha, "alpha")
    ts = df[time_col]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        raise ValueError(f"column {time_col!r} must be a datetime column, got {ts.dtype}")
    if ts.isna().any():
        raise ValueError(f"column {time_col!r} has {int(ts.isna().sum())} missing value(s)")
    try:
        period = ts.dt.floor(freq)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"freq must be a fixed pandas frequency such as 'D' or '7D', got {freq!r} ({exc})") from None
    c, t = _two_arms(df, variant, control, treatment)
    y = _binary(df, outcome)
    per = pd.DataFrame({"period": period.to_numpy(), "nc": c.astype(np.int64), "nt": t.astype(np.int64),
                        "xc": y * c, "xt": y * t})
    cum = per.groupby("period", sort=True).sum().cumsum()
    nc, nt = cum["nc"].to_numpy(float), cum["nt"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pc, pt = cum["xc"].to_numpy() / nc, cum["xt"].to_numpy() / nt
        se = np.sqrt(pc * (1 - pc) / nc + pt * (1 - pt) / nt)
        z = np.where(se > 0, (pt - pc) / se, np.nan)
    pval = 2 * stats.norm.sf(np.abs(z))
    k = len(cum)
    bound = obrien_fleming_boundary(k, alpha, seed=seed)
    with np.errstate(invalid="ignore"):
        sig, obf_sig = pval < alpha, np.abs(z) >= bound
    return pd.DataFrame({
        "look": np.arange(1, k + 1), "period": cum.index.to_numpy(),
        "n_control": cum["nc"].to_numpy(), "n_treatment": cum["nt"].to_numpy(),
        "control_rate": pc, "treatment_rate": pt, "effect": pt - pc, "z": z, "pvalue": pval,
        "significant": sig, "obf_boundary": bound, "obf_significant": obf_sig,
    })


# --------------------------------------------------------------------------------------
# the memo
# --------------------------------------------------------------------------------------
def _pct(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"


@_display
class Recommendation(NamedTuple):
    """The decision rule's verdict: ``decision`` (one of :data:`DECISIONS`) and ``reason``
    (one sentence), plus ``worse_guardrails`` (names of guardrails significantly worse)."""

    decision: str
    reason: str
    worse_guardrails: tuple = ()


#: The possible decisions of :func:`recommendation`, from "act" to "do not act".
DECISIONS = ("Ship", "Ship only if cheap", "Inconclusive", "Do not ship", "Do not decide")


def _primary(result) -> EffectResult:
    if isinstance(result, CupedResult):
        return result.adjusted
    if isinstance(result, EffectResult):
        return result
    raise ValueError(f"result must be an EffectResult or CupedResult, got {type(result).__name__}")


def _guardrail_items(guardrails) -> list[tuple[str, EffectResult]]:
    g_items = list(guardrails.items()) if isinstance(guardrails, Mapping) else [(g.metric, g) for g in guardrails]
    for gname, g in g_items:
        if not isinstance(g, EffectResult):
            raise ValueError(f"guardrail {gname!r} must be an EffectResult")
    return g_items


def recommendation(
    result: EffectResult | CupedResult,
    srm: SRMResult,
    *,
    mde: float,
    guardrails: Sequence[EffectResult] | Mapping[str, EffectResult] = (),
    guardrail_tolerance: float = 0.0,
    lower_is_better: Sequence[str] = (),
) -> Recommendation:
    """Apply the pre-registered decision rule to a test's results.

    Rule (Kohavi et al. 2020 ch. 2-3, "statistical vs practical significance"), with
    ``mde`` the smallest *absolute* lift worth shipping (the practical-significance
    boundary, the MDE the test was powered for) and the primary metric's ``1 - alpha``
    CI ``[lo, hi]``:

    1. SRM (p < srm.alpha) → **Do not decide**: fix the assignment/logging first.
    2. A guardrail significantly worse by more than ``guardrail_tolerance`` → **Do not
       ship**. "Worse" is a significant fall (CI upper bound < -tolerance), or a
       significant rise (CI lower bound > tolerance) for a guardrail named in
       ``lower_is_better`` (refund rate, page load time...).
    3-7. The primary metric, by :func:`decide` (``lo > 0`` and ``hi ≥ mde`` → **Ship**;
       ``lo > 0``, ``hi < mde`` → **Ship only if cheap**; ``hi < 0`` or ``hi < mde`` →
       **Do not ship**; otherwise **Inconclusive**).

    The ship condition is significance (``lo > 0``), not "estimate ≥ mde": a test sized
    with :func:`sample_size` for ``mde`` at power 1 − β then ships a true lift of
    ``mde`` with probability ≈ 1 − β (:func:`decision_rates` checks it by simulation),
    whereas "estimate ≥ mde" would ship it only half the time.

    >>> df = pd.DataFrame({"variant": np.repeat(["control", "treatment"], 100_000),
    ...                    "converted": np.r_[np.arange(100_000) < 3200, np.arange(100_000) < 3250]})
    >>> recommendation(proportion_test(df), srm_check(df), mde=0.004).decision  # CI -0.10 to +0.20 pp
    'Do not ship'
    """
    primary = _primary(result)
    if not isinstance(srm, SRMResult):
        raise ValueError(f"srm must be an SRMResult (from srm_check), got {type(srm).__name__}")
    _check_mde(mde)
    if not (isinstance(guardrail_tolerance, (int, float)) and np.isfinite(guardrail_tolerance)):
        raise ValueError(f"guardrail_tolerance must be a number, got {guardrail_tolerance!r}")
    g_items = _guardrail_items(guardrails)
    if isinstance(lower_is_better, str):
        lower_is_better = (lower_is_better,)
    unknown = sorted(set(lower_is_better) - {n for n, _ in g_items})
    if unknown:
        raise ValueError(f"lower_is_better names {unknown}, which are not guardrails {[n for n, _ in g_items]}")
    tol = abs(float(guardrail_tolerance))
    bad = tuple(n for n, g in g_items if g.significant and (
        g.effect_ci_lower > tol if n in lower_is_better else g.effect_ci_upper < -tol))
    lo, hi = primary.effect_ci_lower, primary.effect_ci_upper
    if srm.srm:
        return Recommendation("Do not decide", f"sample ratio mismatch (p = {srm.pvalue:.2g} < {srm.alpha}): "
                              "the result is not trustworthy until the cause is fixed.", bad)
    if bad:
        return Recommendation("Do not ship", f"guardrail(s) {', '.join(bad)} significantly worse.", bad)
    decision = str(decide(lo, hi, mde=mde))
    return Recommendation(decision, _REASONS[(decision, bool(hi < 0))])


_REASONS = {
    ("Ship", False): "the lift is statistically significant and a worthwhile lift (≥ MDE) is within its CI.",
    ("Ship only if cheap", False): "the lift is real but its whole CI is below the minimum worthwhile effect.",
    ("Do not ship", True): "the change significantly hurts the primary metric.",
    ("Do not ship", False): "no effect of worthwhile size: the CI excludes the MDE.",
    ("Inconclusive", False): "the CI includes both 0 and the MDE — the test lacks power; collect more units.",
}


def _check_mde(mde) -> None:
    if not (isinstance(mde, (int, float, np.integer, np.floating)) and not isinstance(mde, bool)
            and np.isfinite(mde) and mde > 0):
        raise ValueError(f"mde must be a positive number (absolute lift), got {mde!r}")


def decide(lo, hi, *, mde: float) -> str | np.ndarray:
    """The primary-metric part of the decision rule, vectorised over CI bounds.

    With ``[lo, hi]`` the CI of the absolute lift and ``mde`` the smallest lift worth
    shipping (> 0): ``lo > 0`` and ``hi ≥ mde`` → "Ship"; ``lo > 0`` and ``hi < mde`` →
    "Ship only if cheap" (real, but a worthwhile lift is ruled out); ``hi < mde`` (incl.
    ``hi < 0``) → "Do not ship"; otherwise "Inconclusive". Scalars give a ``str``, arrays
    an array of labels. :func:`recommendation` adds the SRM and guardrail checks.

    >>> decide(0.001, 0.006, mde=0.003), decide(-0.001, 0.002, mde=0.003)
    ('Ship', 'Do not ship')
    >>> decide(np.array([0.001, -0.002]), np.array([0.002, 0.004]), mde=0.003).tolist()
    ['Ship only if cheap', 'Inconclusive']
    """
    _check_mde(mde)
    lo_a, hi_a = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if lo_a.shape != hi_a.shape:
        raise ValueError(f"lo and hi must have the same shape, got {lo_a.shape} and {hi_a.shape}")
    if np.isnan(lo_a).any() or np.isnan(hi_a).any():
        raise ValueError("lo and hi must not contain NaN (an undefined CI has no decision)")
    if (lo_a > hi_a).any():
        raise ValueError(f"lo must be <= hi; found lo > hi in {int((lo_a > hi_a).sum())} pair(s)")
    out = np.select([(lo_a > 0) & (hi_a >= mde), lo_a > 0, hi_a < mde],
                    ["Ship", "Ship only if cheap", "Do not ship"], default="Inconclusive").astype(object)
    return str(out) if out.ndim == 0 else out


def decision_rates(
    baseline_rate: float,
    n_per_arm: int,
    true_lifts: Sequence[float],
    *,
    mde: float,
    alpha: float = 0.05,
    n_sims: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """How often the decision rule ships, by simulation, for each true lift.

    For each true absolute lift δ, simulates ``n_sims`` tests with ``n_per_arm`` units per
    arm, converters ~ Binomial(n, p0) and Binomial(n, p0 + δ), computes the Wald CI of
    the difference (as :func:`proportion_test`) and applies :func:`decide`. Returns one
    row per δ: the share of each decision, ``estimate_ge_mde`` (share of tests that are
    significant with estimate ≥ ``mde``: the naive "ship if the estimate clears the bar"
    rule) and ``ship_formula``, the normal approximation of P(lo > 0) =
    Φ(δ / SE − z_{1−α/2}) with SE = sqrt(p0(1−p0)/n + p1(1−p1)/n) — the power of a
    two-sided z-test (Kohavi et al. 2020 ch. 17). At δ = ``mde`` and ``n_per_arm`` from
    :func:`sample_size` (power 0.8), "Ship" ≈ 0.8 while ``estimate_ge_mde`` ≈ 0.5.

    >>> r = decision_rates(0.032, 57_000, [0.0, 0.003], mde=0.003, n_sims=4000, seed=1)
    >>> bool(abs(r.loc[0.003, "Ship"] - 0.8) < 0.03), bool(abs(r.loc[0.003, "estimate_ge_mde"] - 0.5) < 0.03)
    (True, True)
    """
    p0 = _check_prob(baseline_rate, "baseline_rate")
    alpha = _check_prob(alpha, "alpha")
    for name, val in (("n_per_arm", n_per_arm), ("n_sims", n_sims)):
        if not (isinstance(val, (int, np.integer)) and not isinstance(val, bool) and val >= 1):
            raise ValueError(f"{name} must be a positive int, got {val!r}")
    lifts = np.atleast_1d(np.asarray(true_lifts, dtype=float))
    if lifts.size == 0 or not np.isfinite(lifts).all():
        raise ValueError(f"true_lifts must be a non-empty list of finite numbers, got {true_lifts!r}")
    bad = lifts[(p0 + lifts <= 0) | (p0 + lifts >= 1)]
    if bad.size:
        raise ValueError(f"baseline_rate + true lift must be in (0, 1); bad lift(s): {bad.tolist()}")
    _check_mde(mde)
    rng = np.random.default_rng(seed)
    n = int(n_per_arm)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for d in lifts:  # a handful of scenarios; each one vectorised over n_sims
        pc = rng.binomial(n, p0, n_sims) / n
        pt = rng.binomial(n, p0 + d, n_sims) / n
        eff = pt - pc
        se = np.sqrt(pc * (1 - pc) / n + pt * (1 - pt) / n)
        labels = decide(eff - z * se, eff + z * se, mde=mde)
        share = {k: float(np.mean(labels == k)) for k in DECISIONS[:4]}
        share["estimate_ge_mde"] = float(np.mean((eff - z * se > 0) & (eff >= mde)))
        se_true = math.sqrt(p0 * (1 - p0) / n + (p0 + d) * (1 - p0 - d) / n)
        share["ship_formula"] = float(stats.norm.cdf(d / se_true - z))
        rows.append(share)
    return pd.DataFrame(rows, index=pd.Index(lifts, name="true_lift"))


def decision_memo(
    result: EffectResult | CupedResult,
    srm: SRMResult,
    *,
    name: str,
    mde: float,
    hypothesis: str | None = None,
    guardrails: Sequence[EffectResult] | Mapping[str, EffectResult] = (),
    guardrail_tolerance: float = 0.0,
    lower_is_better: Sequence[str] = (),
    owner: str = "",
    heading_level: int = 1,
) -> str:
    """A one-page Markdown decision memo (实验结论备忘录) filled from the results.

    The recommendation comes from :func:`recommendation` (same ``mde``, ``guardrails``,
    ``guardrail_tolerance`` and ``lower_is_better``; see its decision rule). The memo
    states the hypothesis, the SRM trust check, the primary metric with absolute and
    relative lifts and CIs, the CUPED details when ``result`` is a :class:`CupedResult`,
    the guardrails, the decision rule and any caveats. ``heading_level`` sets the level
    of the memo's title (1 = ``#``; 3 suits a memo shown inside a lesson); its sections
    are one level below.

    >>> df = pd.DataFrame({"variant": np.repeat(["control", "treatment"], 20_000),
    ...                    "converted": np.r_[np.arange(20_000) < 640, np.arange(20_000) < 760]})
    >>> memo = decision_memo(proportion_test(df), srm_check(df), name="exp_checkout", mde=0.004)
    >>> "**Recommendation: Ship**" in memo
    True
    >>> decision_memo(proportion_test(df), srm_check(df), name="x", mde=0.004, heading_level=3)[:4]
    '### '
    """
    primary = _primary(result)
    cuped_line = ""
    if isinstance(result, CupedResult):
        cuped_line = (f"CUPED on the pre-period covariate: θ = {result.theta:.3g}, ρ = {result.rho:.2f}, "
                      f"variance −{_pct(result.variance_reduction, 0)} (theory 1−ρ²: −{_pct(result.expected_reduction, 0)}), "
                      f"CI width × {result.ci_width_ratio:.2f}.")
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if not (isinstance(heading_level, int) and not isinstance(heading_level, bool) and 1 <= heading_level <= 5):
        raise ValueError(f"heading_level must be an int from 1 to 5, got {heading_level!r}")
    verdict = recommendation(result, srm, mde=mde, guardrails=guardrails,
                             guardrail_tolerance=guardrail_tolerance, lower_is_better=lower_is_better)
    rec, why, bad_guard = verdict
    g_items = _guardrail_items(guardrails)
    h1, h2 = "#" * heading_level, "#" * (heading_level + 1)

    is_rate = primary.method.startswith("two-proportion")
    fmt = (lambda v: _pct(v, 2)) if is_rate else (lambda v: f"{v:,.4g}")
    dfmt = (lambda v: "n/a" if not np.isfinite(v) else f"{100 * v:+.2f} pp") if is_rate else (lambda v: f"{v:+,.4g}")
    lo, hi, eff = primary.effect_ci_lower, primary.effect_ci_upper, primary.effect

    counts = ", ".join(f"{k}: {v:,}" for k, v in srm.counts.items())
    shares = ", ".join(f"{k}: {_pct(v, 1)}" for k, v in srm.expected_shares.items())
    lines = [
        f"{h1} Experiment decision memo — {name}",
        "",
        f"**Recommendation: {rec}** — {why}",
        "",
        f"{h2} Hypothesis",
        hypothesis or f"Changing the experience in *{name}* raises `{primary.metric}`; the smallest lift worth shipping is {dfmt(mde)} (absolute).",
        "",
        f"{h2} Trust check: sample ratio",
        f"Units {counts} (design {shares}); χ² = {srm.chi2:.2f}, p = {srm.pvalue:.3g} → "
        + ("**SRM detected — stop.**" if srm.srm else "no SRM."),
        "",
        f"{h2} Primary metric: `{primary.metric}`",
        "| | control | treatment |",
        "|---|---|---|",
        f"| units | {primary.n_control:,} | {primary.n_treatment:,} |",
        f"| value | {fmt(primary.control_value)} | {fmt(primary.treatment_value)} |",
        "",
        f"Absolute lift {dfmt(eff)} ({int(round(100 * (1 - primary.alpha)))}% CI {dfmt(lo)} to {dfmt(hi)}); "
        f"relative lift {_pct(primary.rel_effect, 1)} (CI {_pct(primary.rel_effect_ci_lower, 1)} to {_pct(primary.rel_effect_ci_upper, 1)}); "
        f"p = {primary.pvalue:.3g} ({primary.method}).",
    ]
    if cuped_line:
        lines += ["", cuped_line]
    lines += ["", f"{h2} Guardrails"]
    if g_items:
        lines += ["| metric | lift | CI | p | status |", "|---|---|---|---|---|"]
        for gname, g in g_items:
            gf = (lambda v: f"{100 * v:+.2f} pp") if g.method.startswith("two-proportion") else (lambda v: f"{v:+,.4g}")
            status = "worse" if gname in bad_guard else "ok"
            lines.append(f"| {gname} | {gf(g.effect)} | {gf(g.effect_ci_lower)} to {gf(g.effect_ci_upper)} | {g.pvalue:.3g} | {status} |")
    else:
        lines.append("None specified — name at least one (e.g. refund rate, page load time) before the next test.")
    lines += [
        "",
        f"{h2} Decision rule (fixed before the test)",
        f"Ship if no SRM, no guardrail significantly worse, and the {int(round(100 * (1 - primary.alpha)))}% CI of the lift is above 0 "
        f"and does not rule out the MDE {dfmt(mde)} (the lift the test was powered for); "
        "analysed once at the planned horizon (no peeking).",
    ]
    notes = list(primary.warnings) + [w for _, g in g_items for w in g.warnings]
    if notes:
        lines += ["", f"{h2} Caveats", *[f"- {w}" for w in notes]]
    if owner:
        lines += ["", f"_Owner: {owner}_"]
    return "\n".join(lines) + "\n"
