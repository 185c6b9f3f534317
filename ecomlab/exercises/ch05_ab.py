"""Exercises for 05_data_iteration/02_ab_testing (lesson 05-2, A/B testing done right).

Every expected answer is computed from ``data("experiments")`` (the data chosen by
:func:`ecomlab.exercises.use_data`) at run time. Four of the six questions make the
student compute the method: a sample size by formula (q2), the Wald z statistic (q3),
the CUPED θ (q4), a delta-method CI bound (q5) and the power of the decision rule (q6).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from ecomlab import experiments
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    data,
)


def _exp(experiment_id: str) -> pd.DataFrame:
    """Rows of one experiment from the experiments table (index reset)."""
    e = data("experiments")
    return e[e["experiment_id"] == experiment_id].reset_index(drop=True)


#: The lesson's three A/B tests; the table also holds lift_short_video, a conversion-lift
#: holdout of short-video ads that lesson 03-1 analyses.
AB_TESTS = ("exp_checkout", "exp_pdp_video", "exp_free_shipping")


def _srm_failures() -> list[str]:
    e = data("experiments")
    e = e[e["experiment_id"].isin(AB_TESTS)]
    return [str(k) for k, g in e.groupby("experiment_id", observed=True) if experiments.srm_check(g).srm]


def n_per_arm_formula(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Visitors per arm for a two-sided two-proportion z-test (Kohavi et al. 2020 ch. 17):
    n = (z_{1-α/2} + z_{1-β})² [p0(1-p0) + p1(1-p1)] / (p1 - p0)²."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z**2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2)


def _fs_p0() -> float:
    fs = _exp("exp_free_shipping")
    return float(fs.loc[fs["variant"] == "control", "converted"].mean())


def _n_free_shipping() -> float:
    return n_per_arm_formula(_fs_p0(), _fs_p0() * 1.10)


def z_wald(x_c: int, n_c: int, x_t: int, n_t: int) -> float:
    """Two-proportion z with the unpooled (Wald) SE: (p_t - p_c) / sqrt(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t)."""
    p_c, p_t = x_c / n_c, x_t / n_t
    return (p_t - p_c) / math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)


def _z_cases() -> list[Case]:
    cases = [Case(5, 100, 20, 100)]  # small arms first: here pooled and unpooled z differ visibly
    for eid in AB_TESTS:
        g = _exp(eid)
        s = g.groupby("variant", observed=True)["converted"].agg(["sum", "count"])
        cases.append(Case(int(s.loc["control", "sum"]), int(s.loc["control", "count"]),
                          int(s.loc["treatment", "sum"]), int(s.loc["treatment", "count"])))
    cases.append(Case(30, 1000, 45, 2000))
    return cases


def _cuped_theta() -> float:
    fs = _exp("exp_free_shipping")
    return float(fs["pre_revenue"].cov(fs["revenue"]) / fs["pre_revenue"].var())


def _rel_ci_low() -> float:
    return float(experiments.proportion_test(_exp("exp_checkout")).rel_effect_ci_lower)


def _rel_ci_high() -> float:
    return float(experiments.proportion_test(_exp("exp_checkout")).rel_effect_ci_upper)


def _naive_rel_ci_low() -> float:
    r = experiments.proportion_test(_exp("exp_checkout"))
    return float(r.effect_ci_lower / r.control_value)


def _plan() -> tuple[float, int]:
    """The lesson's plan: pre-period baseline of exp_checkout and n per arm for +0.3 pp."""
    c = _exp("exp_checkout")
    baseline = float((c["pre_revenue"] > 0).mean())
    return baseline, experiments.sample_size(baseline, mde_abs=0.003).n_control


def ship_probability(delta: float, p0: float, n: int, alpha: float = 0.05) -> float:
    """P(the CI lies above 0 | true lift delta) ≈ Φ(δ/SE − z_{1−α/2}), SE at p0 and p0 + δ."""
    se = math.sqrt(p0 * (1 - p0) / n + (p0 + delta) * (1 - p0 - delta) / n)
    return float(stats.norm.cdf(delta / se - stats.norm.ppf(1 - alpha / 2)))


def _ship_at_02() -> float:
    p0, n = _plan()
    return ship_probability(0.002, p0, n)


q1 = Question(
    prompt="Run the sample-ratio-mismatch check on each of the three experiments. Which "
    "experiment ids fail it (p < 0.001)? Give a list or set of `experiment_id` values.",
    kind=SetAnswer(expected=_srm_failures),
    hints=["Group the experiments table by `experiment_id` (`observed=True`).",
           "`experiments.srm_check(g).srm` is True when p < 0.001 — p = 0.02 is not an SRM at that line."],
    solution=(
        "answer = [k for k, g in exps.groupby('experiment_id', observed=True)\n"
        "          if experiments.srm_check(g).srm]"
    ),
)

q2 = Question(
    prompt="With the control conversion rate of `exp_free_shipping` as p0, compute **by the "
    "formula** the visitors **per arm** needed to detect a **+10% relative** lift "
    "(p1 = 1.1 p0) with α = 0.05 (two-sided) and power 0.8.",
    kind=NumberAnswer(expected=_n_free_shipping, rel_tol=0.01, mistakes=[
        ("the total over both arms, not per arm", lambda: 2 * _n_free_shipping()),
        ("the size for +10 percentage points (p1 = p0 + 0.10), not +10% relative",
         lambda: n_per_arm_formula(_fs_p0(), _fs_p0() + 0.10)),
        ("a one-sided test (z = 1.645): the test is two-sided, z_(1−α/2) = 1.96",
         lambda: n_per_arm_formula(_fs_p0(), _fs_p0() * 1.10, alpha=0.10)),
        ("Kohavi's rule of thumb n ≈ 16·σ²/δ² with σ² = p0(1−p0): a quick approximation that "
         "rounds 2·(1.96 + 0.84)² ≈ 15.7 up to 16 and uses the control's variance for both arms. "
         "Good for planning on a napkin; the question asks for the exact formula, which counts "
         "p1(1−p1) for the treatment arm and differs by a few percent here",
         lambda: 16 * _fs_p0() * (1 - _fs_p0()) / (0.10 * _fs_p0()) ** 2),
    ]),
    hints=["p0 = mean of `converted` in the control arm; p1 = p0 × 1.10 (+10% relative, not +10 pp).",
           "z-values: `stats.norm.ppf(0.975)` ≈ 1.96 and `stats.norm.ppf(0.8)` ≈ 0.84.",
           "n = (z_a + z_b)² × (p0(1−p0) + p1(1−p1)) / (p1 − p0)² — per arm, not both arms together."],
    solution=(
        "p0 = fs.loc[fs['variant'] == 'control', 'converted'].mean()\n"
        "p1 = p0 * 1.10\n"
        "answer = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2"
    ),
)

q3 = Question(
    prompt="Write `z_wald(x_c, n_c, x_t, n_t)`: the two-proportion z statistic with the "
    "**unpooled** standard error, `(p_t − p_c) / sqrt(p_c(1−p_c)/n_c + p_t(1−p_t)/n_t)`, "
    "where `x` are converters and `n` visitors per arm.",
    kind=FunctionAnswer(z_wald, cases=_z_cases, name="z_wald"),
    hints=["Rates first: `p_c = x_c / n_c`, `p_t = x_t / n_t`.",
           "Each arm contributes its own variance p(1−p)/n (no pooled rate); add them, then take the square root.",
           "Treatment minus control on top, so a lift gives a positive z."],
    solution=(
        "def z_wald(x_c, n_c, x_t, n_t):\n"
        "    p_c, p_t = x_c / n_c, x_t / n_t\n"
        "    se = (p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t) ** 0.5\n"
        "    return (p_t - p_c) / se\n"
        "answer = z_wald"
    ),
)

q4 = Question(
    prompt="In `exp_free_shipping`, compute the CUPED coefficient θ = cov(X, Y) / var(X) for "
    "Y = `revenue` and X = `pre_revenue`, pooled over both arms.",
    kind=NumberAnswer(expected=_cuped_theta, rel_tol=0.001, mistakes=[
        ("the correlation ρ, not θ = cov(X, Y) / var(X)",
         lambda: float(_exp("exp_free_shipping")["pre_revenue"].corr(_exp("exp_free_shipping")["revenue"]))),
        ("cov(X, Y) / var(Y): divide by the variance of the covariate X (`pre_revenue`)",
         lambda: float(_exp("exp_free_shipping")["pre_revenue"].cov(_exp("exp_free_shipping")["revenue"])
                       / _exp("exp_free_shipping")["revenue"].var())),
    ]),
    hints=["`fs['pre_revenue'].cov(fs['revenue'])` is cov(X, Y).",
           "Divide by the variance of the covariate X (`pre_revenue`), not of Y — and θ is not the "
           "correlation ρ."],
    solution="answer = fs['pre_revenue'].cov(fs['revenue']) / fs['pre_revenue'].var()",
)

q5 = Question(
    prompt="For `exp_checkout`, compute the **lower bound** of the 95% CI of the relative lift "
    "p_t/p_c − 1 by the delta method on the log ratio: "
    "exp(ln(p_t/p_c) − 1.96 SE) − 1 with SE² = (1−p_t)/(n_t p_t) + (1−p_c)/(n_c p_c). A fraction.",
    kind=NumberAnswer(expected=_rel_ci_low, abs_tol=0.0005, mistakes=[
        ("the absolute CI's lower bound divided by p_c, which ignores the noise in p_c",
         lambda: _naive_rel_ci_low()),
        ("the upper bound (+ 1.96 SE), not the lower", lambda: _rel_ci_high()),
    ]),
    hints=["Per arm: p = mean of `converted`, n = number of visitors.",
           "Work on the log scale: ln(p_t/p_c) ± 1.96 SE, then exp(.) − 1. Dividing the absolute CI by "
           "p_c ignores the noise in p_c and gives a different number."],
    solution=(
        "g = checkout.groupby('variant', observed=True)['converted'].agg(['mean', 'size'])\n"
        "pc, nc = g.loc['control']; pt, nt = g.loc['treatment']\n"
        "se = np.sqrt((1 - pt) / (nt * pt) + (1 - pc) / (nc * pc))\n"
        "answer = np.exp(np.log(pt / pc) - stats.norm.ppf(0.975) * se) - 1"
    ),
)

q6 = Question(
    prompt="With the lesson's plan (`plan.n_control` visitors per arm, baseline `baseline`), what is "
    "the probability that the rule 'ship when the 95% CI lies above 0' ships a true lift of "
    "**+0.2 pp**? Use Φ(δ/SE − z_{0.975}) with SE = sqrt(p0(1−p0)/n + p1(1−p1)/n). A fraction.",
    kind=NumberAnswer(expected=_ship_at_02, abs_tol=0.005, mistakes=[
        ("the planned power at the MDE (+0.3 pp), not at +0.2 pp", lambda: 0.8),
        ("a one-sided z = 1.645: the rule uses the two-sided 95% CI, z = 1.96",
         lambda: ship_probability(0.002, *_plan(), alpha=0.10)),
    ]),
    hints=["δ = 0.002, p1 = baseline + δ, n = plan.n_control (per arm).",
           "`stats.norm.cdf(delta / se - stats.norm.ppf(0.975))` — two-sided α = 0.05 puts 1.96 in the "
           "formula, not 1.645."],
    solution=(
        "d = 0.002\n"
        "se = np.sqrt(baseline * (1 - baseline) / plan.n_control + (baseline + d) * (1 - baseline - d) / plan.n_control)\n"
        "answer = stats.norm.cdf(d / se - stats.norm.ppf(0.975))"
    ),
)
