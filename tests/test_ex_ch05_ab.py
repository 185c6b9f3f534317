"""Exercise bank ch05_ab (lesson 05-2): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import math

import pytest

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
    right = [k for k, g in exps.groupby("experiment_id", observed=True) if experiments.srm_check(g).srm]
    assert right == ["exp_pdp_video"]
    assert ex.q1.check(set(right))
    r = ex.q1.check(["exp_pdp_video", "exp_free_shipping"])  # p = 0.02 is not an SRM at 0.001
    assert r.status == "incorrect" and "exp_free_shipping" in r.message
    assert ex.q1.check([]).status == "incorrect"


def test_q2_sample_size(exps):
    fs = _one(exps, "exp_free_shipping")
    base = fs.loc[fs["variant"] == "control", "converted"].mean()
    s = experiments.sample_size(base, mde_rel=0.10)
    assert ex.q2.check(s.n_control)
    r = ex.q2.check(s.n_total)  # both arms
    assert r.status == "incorrect" and "too high" in r.message
    wrong_abs = experiments.sample_size(base, mde_abs=0.10).n_control  # +10 pp instead of +10 %
    assert ex.q2.check(wrong_abs).status == "incorrect"


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


def test_q4_cuped_reduction(exps):
    r = experiments.cuped(_one(exps, "exp_free_shipping"))
    assert ex.q4.check(r.variance_reduction)
    assert ex.q4.check(r.rho).status == "incorrect"  # rho, not rho squared
    assert ex.q4.check(100 * r.variance_reduction).status == "incorrect"


def test_q5_zero_session_gap(exps):
    pdp = _one(exps, "exp_pdp_video")
    share = (pdp["pre_sessions"] == 0).groupby(pdp["variant"], observed=True).mean()
    gap = share["treatment"] - share["control"]
    assert gap < -0.01  # treatment lost zero-session visitors
    assert ex.q5.check(gap)
    assert ex.q5.check(-gap).status == "incorrect"
    r = ex.q5.check(100 * gap)
    assert r.status == "incorrect" and "percentage" in r.message


def test_q6_decision(exps):
    fs = _one(exps, "exp_free_shipping")
    d = experiments.recommendation(experiments.proportion_test(fs), experiments.srm_check(fs), mde=0.003)
    assert d.decision == "Do not ship"
    assert ex.q6.check("Do not ship") and ex.q6.check("do not ship")
    assert ex.q6.check("Inconclusive").status == "incorrect"
    r = ex.q6.check("Maybe")
    assert r.status == "incorrect" and "options" in r.message
