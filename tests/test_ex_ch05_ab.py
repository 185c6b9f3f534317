"""Exercise bank ch05_ab (lesson 05-2): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ecomlab import datasets, experiments
from ecomlab import exercises as exr
from ecomlab.exercises import ____
from ecomlab.exercises import ch05_ab as ex


@pytest.fixture(scope="module")
def exps():
    exr.use_data(None)
    return datasets.load("experiments")


def _one(exps, eid):
    return exps[exps["experiment_id"] == eid]


def test_q1_srm_failures(exps):
    ours = exps[exps["experiment_id"].isin(ex.AB_TESTS)]
    assert set(exps["experiment_id"].astype(str)) - set(ex.AB_TESTS) == {"lift_short_video"}  # 03-1's
    right = [k for k, g in ours.groupby("experiment_id", observed=True) if experiments.srm_check(g).srm]
    assert right == ["exp_pdp_video"]
    assert ex.q1.check(set(right))
    r = ex.q1.check(["exp_pdp_video", "exp_free_shipping"])  # p = 0.02 is not an SRM at 0.001
    assert r.status == "incorrect" and "exp_free_shipping" in r.message
    assert ex.q1.check([]).status == "incorrect"
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_sample_size_by_formula(exps):
    fs = _one(exps, "exp_free_shipping")
    p0 = fs.loc[fs["variant"] == "control", "converted"].mean()
    p1 = 1.1 * p0
    n = (1.959964 + 0.841621) ** 2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2
    assert ex.q2.check(n)
    assert ex.q2.check(experiments.sample_size(p0, mde_rel=0.10).n_control)  # the helper agrees within 1%
    r = ex.q2.check(2 * n)  # both arms
    assert r.status == "incorrect" and "both arms" in r.message
    p1_pp = p0 + 0.10  # +10 percentage points instead of +10 %
    wrong = (1.959964 + 0.841621) ** 2 * (p0 * (1 - p0) + p1_pp * (1 - p1_pp)) / 0.10**2
    assert "percentage points" in ex.q2.check(wrong).message
    one_sided = (1.644854 + 0.841621) ** 2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2
    assert "one-sided" in ex.q2.check(one_sided).message
    kohavi = 16 * p0 * (1 - p0) / (0.10 * p0) ** 2  # the rule of thumb: explained, not just "wrong"
    assert abs(kohavi / n - 1) > 0.01
    r = ex.q2.check(kohavi)
    assert r.status == "incorrect" and "rule of thumb" in r.message and "exact formula" in r.message


def test_q3_z_function():
    assert ex.q3.check(ex.z_wald)

    def pooled(x_c, n_c, x_t, n_t):
        p = (x_c + x_t) / (n_c + n_t)
        return (x_t / n_t - x_c / n_c) / math.sqrt(p * (1 - p) * (1 / n_c + 1 / n_t))

    r = ex.q3.check(pooled)
    assert r.status == "incorrect" and "case 1" in r.message

    def reversed_sign(x_c, n_c, x_t, n_t):
        return -ex.z_wald(x_c, n_c, x_t, n_t)

    assert ex.q3.check(reversed_sign).status == "incorrect"

    def unfinished(x_c, n_c, x_t, n_t):
        return ____

    assert ex.q3.check(unfinished).status == "not_attempted"


def test_q4_cuped_theta(exps):
    fs = _one(exps, "exp_free_shipping")
    x, y = fs["pre_revenue"], fs["revenue"]
    theta = x.cov(y) / x.var()
    assert ex.q4.check(theta)
    assert ex.q4.check(np.cov(x, y)[0, 1] / np.var(x, ddof=1))  # NumPy route
    assert "correlation" in ex.q4.check(x.corr(y)).message  # rho, not theta
    assert "var(Y)" in ex.q4.check(x.cov(y) / y.var()).message  # var of Y in the denominator
    assert ex.q4.check(experiments.cuped(fs).variance_reduction).status == "incorrect"
    assert ex.q4.check("0.26").status == "incorrect"


def test_q5_delta_method_lower_bound(exps):
    c = _one(exps, "exp_checkout")
    g = c.groupby("variant", observed=True)["converted"].agg(["mean", "size"])
    pc, nc = g.loc["control"]
    pt, nt = g.loc["treatment"]
    se = np.sqrt((1 - pt) / (nt * pt) + (1 - pc) / (nc * pc))
    right = np.exp(np.log(pt / pc) - stats.norm.ppf(0.975) * se) - 1
    assert ex.q5.check(right)
    assert ex.q5.check(experiments.proportion_test(c).rel_effect_ci_lower)
    naive = experiments.proportion_test(c).effect_ci_lower / pc  # absolute CI / control rate
    assert "noise in p_c" in ex.q5.check(naive).message
    assert "upper bound" in ex.q5.check(np.exp(np.log(pt / pc) + stats.norm.ppf(0.975) * se) - 1).message
    r = ex.q5.check(100 * right)
    assert r.status == "incorrect" and "percentage" in r.message


def test_q6_power_of_the_rule(exps):
    c = _one(exps, "exp_checkout")
    p0 = float((c["pre_revenue"] > 0).mean())
    n = experiments.sample_size(p0, mde_abs=0.003).n_control
    right = ex.ship_probability(0.002, p0, n)
    assert 0.4 < right < 0.55  # a lift two thirds of the MDE ships about half the time
    assert ex.q6.check(right)
    sim = experiments.decision_rates(p0, n, [0.002], mde=0.003, n_sims=20_000, seed=0).loc[0.002, "Ship"]
    assert ex.q6.check(sim)  # the simulation agrees within the tolerance
    assert "one-sided" in ex.q6.check(ex.ship_probability(0.002, p0, n, alpha=0.10)).message  # 1.645
    assert "at the MDE" in ex.q6.check(0.8).message  # the power at the MDE, not at +0.2 pp
    assert ex.q6.check(____).status == "not_attempted"


def test_last_hint_is_announced():
    for q in (ex.q1, ex.q2, ex.q3, ex.q4, ex.q5, ex.q6):
        assert len(q.hints) >= 2 and all("last hint" not in h for h in q.hints)  # the machinery says it


def test_every_expected_answer_is_finite():
    for q in (ex.q2, ex.q4, ex.q5, ex.q6):
        assert np.isfinite(q.kind.expected)
