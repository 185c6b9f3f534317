"""Exercises for 05_data_iteration/02_ab_testing (lesson 05-2, A/B testing done right).

Every expected answer is computed from ``data("experiments")`` (the data chosen by
:func:`ecomlab.exercises.use_data`) with the :mod:`ecomlab.experiments` helpers.
"""

from __future__ import annotations

import math

import pandas as pd

from ecomlab import experiments
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    data,
)


def _exp(experiment_id: str) -> pd.DataFrame:
    """Rows of one experiment from the experiments table (index reset)."""
    e = data("experiments")
    return e[e["experiment_id"] == experiment_id].reset_index(drop=True)


def _srm_failures() -> list[str]:
    e = data("experiments")
    return [str(k) for k, g in e.groupby("experiment_id", observed=True) if experiments.srm_check(g).srm]


def _n_per_arm_free_shipping() -> int:
    fs = _exp("exp_free_shipping")
    base = fs.loc[fs["variant"] == "control", "converted"].mean()
    return experiments.sample_size(float(base), mde_rel=0.10).n_control


def z_wald(x_c: int, n_c: int, x_t: int, n_t: int) -> float:
    """Two-proportion z with the unpooled (Wald) SE: (p_t - p_c) / sqrt(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t)."""
    p_c, p_t = x_c / n_c, x_t / n_t
    return (p_t - p_c) / math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)


def _z_cases() -> list[Case]:
    cases = [Case(5, 100, 20, 100)]  # small arms first: here pooled and unpooled z differ visibly
    for eid in ("exp_checkout", "exp_free_shipping", "exp_pdp_video"):
        g = _exp(eid)
        s = g.groupby("variant", observed=True)["converted"].agg(["sum", "count"])
        cases.append(Case(int(s.loc["control", "sum"]), int(s.loc["control", "count"]),
                          int(s.loc["treatment", "sum"]), int(s.loc["treatment", "count"])))
    cases.append(Case(30, 1000, 45, 2000))
    return cases


def _zero_session_gap() -> float:
    pdp = _exp("exp_pdp_video")
    share = (pdp["pre_sessions"] == 0).groupby(pdp["variant"], observed=True).mean()
    return float(share["treatment"] - share["control"])


def _free_shipping_decision() -> str:
    fs = _exp("exp_free_shipping")
    return experiments.recommendation(experiments.proportion_test(fs), experiments.srm_check(fs),
                                      mde=0.003).decision


q1 = Question(
    prompt="Run the sample-ratio-mismatch check on each of the three experiments. Which "
    "experiment ids fail it (p < 0.001)? Give a list or set of `experiment_id` values.",
    kind=SetAnswer(expected=_srm_failures),
    hints=["Group the experiments table by `experiment_id` (`observed=True`).",
           "`experiments.srm_check(g).srm` is True when p < 0.001."],
    solution=(
        "answer = [k for k, g in exps.groupby('experiment_id', observed=True)\n"
        "          if experiments.srm_check(g).srm]"
    ),
)

q2 = Question(
    prompt="Free shipping might be re-tested with a bolder offer. Using the control "
    "conversion rate of `exp_free_shipping` as the baseline, how many visitors **per arm** "
    "are needed to detect a **+10% relative** lift with 80% power at α = 5% (two-sided)?",
    kind=NumberAnswer(expected=_n_per_arm_free_shipping, rel_tol=0.01),
    hints=["Baseline: the mean of `converted` in the control arm of exp_free_shipping.",
           "`experiments.sample_size(base, mde_rel=0.10)` — and read `n_control`, not `n_total`.",
           "+10% relative is `mde_rel=0.10`, not `mde_abs=0.10` (that would be +10 percentage points)."],
    solution=(
        "fs = exps[exps['experiment_id'] == 'exp_free_shipping']\n"
        "base = fs.loc[fs['variant'] == 'control', 'converted'].mean()\n"
        "answer = experiments.sample_size(base, mde_rel=0.10).n_control"
    ),
)

q3 = Question(
    prompt="Write `z_wald(x_c, n_c, x_t, n_t)`: the two-proportion z statistic with the "
    "**unpooled** standard error, `(p_t − p_c) / sqrt(p_c(1−p_c)/n_c + p_t(1−p_t)/n_t)`, "
    "where `x` are converters and `n` visitors per arm.",
    kind=FunctionAnswer(z_wald, cases=_z_cases, name="z_wald"),
    hints=["Rates first: `p_c = x_c / n_c`, `p_t = x_t / n_t`.",
           "Each arm contributes its own variance p(1−p)/n; add them, then take the square root.",
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
    prompt="In `exp_free_shipping`, what fraction of the variance of revenue per visitor "
    "does CUPED with `pre_revenue` remove? A fraction in [0, 1].",
    kind=NumberAnswer(expected=lambda: experiments.cuped(_exp("exp_free_shipping")).variance_reduction,
                      abs_tol=0.002),
    hints=["`experiments.cuped(fs, metric='revenue', covariate='pre_revenue')`.",
           "Read `variance_reduction` — it is about ρ², not ρ."],
    solution="answer = experiments.cuped(fs).variance_reduction",
)

q5 = Question(
    prompt="In `exp_pdp_video`, by how much does the share of visitors with **zero** "
    "pre-period sessions differ between the arms (treatment share − control share)? "
    "A fraction (negative if treatment has fewer).",
    kind=NumberAnswer(expected=_zero_session_gap, abs_tol=5e-4),
    hints=["`(pdp['pre_sessions'] == 0)` is True for visitors with no sessions in the 28 days before.",
           "Group that by `variant` and take the mean: a share per arm. Then treatment − control."],
    solution=(
        "pdp = exps[exps['experiment_id'] == 'exp_pdp_video']\n"
        "share = (pdp['pre_sessions'] == 0).groupby(pdp['variant'], observed=True).mean()\n"
        "answer = share['treatment'] - share['control']"
    ),
)

q6 = Question(
    prompt="Apply the decision rule to `exp_free_shipping` (primary metric: conversion; the "
    "smallest lift worth shipping is +0.3 pp = 0.003). What is the recommendation?",
    kind=LabelAnswer(_free_shipping_decision, choices=list(experiments.DECISIONS)),
    hints=["First the SRM check, then the CI of the conversion lift from `proportion_test`.",
           "`experiments.recommendation(result, srm, mde=0.003).decision`. "
           "Is the whole CI below the smallest worthwhile lift?"],
    solution=(
        "answer = experiments.recommendation(experiments.proportion_test(fs),\n"
        "                                    experiments.srm_check(fs), mde=0.003).decision"
    ),
)
