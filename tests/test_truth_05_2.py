"""Lesson 05-2 (A/B testing): the lesson's readouts recover the planted experiments.

Truth: ``truth.json["experiments"]`` — exp_checkout has a true lift of +0.4 pp on a 3.2%
base and corr(pre_revenue, revenue) written as ``corr_pre_revenue_revenue``;
exp_pdp_video has no true effect but lost ~10% of treatment (the least engaged) to a
tracking bug; exp_free_shipping has no effect.

Tolerances and why:
- Checkout: the lesson's 95% CI of the absolute lift must contain ``true_lift_abs`` and
  its relative CI ``true_lift_rel`` (a 95% CI misses the truth 1 time in 20 over seeds;
  on this seed it must cover — that is the claim the lesson makes). The estimate must be
  within 2 standard errors (CI half-width / 1.96 × 2) of the truth, and significant.
- SRM: pdp p < 0.001 (the lesson's threshold; the planted 10% loss gives ~1e-90);
  checkout and free shipping p >= 0.001 (no bug planted).
- The pdp naive lift is an artefact: its CI lies above the true lift of 0, and the
  pre-period sessions differ between arms at p < 0.001 (they cannot differ after a
  correct randomisation).
- Free shipping: the CI contains the true lift 0.
- Peeking, 2,000 simulated A/A tests: the fixed-horizon false-positive rate has a
  binomial SE of ~0.005, so ±0.02 (4 SE) around alpha = 0.05; O'Brien-Fleming likewise
  (its constant is itself a Monte Carlo estimate); daily peeking over 28 looks gives
  ~0.25-0.30 in theory, so > 0.10 (the lesson's claim: "well above 5%") is safe.
- CUPED: variance reduction equals ρ² within 0.01 (pooled within-arm variances versus
  the overall correlation; they differ only through the tiny treatment effect), and ρ
  equals the planted correlation within 0.02 (the same data; the truth is the realised
  correlation, rounded to 4 decimals).
- Plan: the sample size per arm for the smallest worthwhile lift, +0.3 pp, is within 8% of
  Kohavi's rule of thumb 16 p(1-p)/δ² at the planted base rate (the rule uses the baseline
  variance for both arms; the lesson's pre-period baseline differs from 3.2% by noise).
- Decision rule: 20,000 simulated tests per lift, binomial SE ~0.003, so ±0.015 around
  the planned power 0.8 (and 0.5 for the naive "estimate ≥ MDE" rule).
- Free shipping by profit: the planted effect on conversion and revenue is 0, so the true
  profit change per visitor is minus the fees waived; the profit CIs must cover it.
"""

from __future__ import annotations

import pytest

from ecomlab import datasets

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results) -> dict:
    return lesson_results("05-2")


@pytest.fixture(scope="module")
def exps_truth() -> dict:
    return datasets.truth()["experiments"]


def test_checkout_ci_covers_the_planted_lift(got, exps_truth):
    t = exps_truth["exp_checkout"]
    assert got["checkout_ci_low"] <= t["true_lift_abs"] <= got["checkout_ci_high"]
    assert got["checkout_rel_ci_low"] <= t["true_lift_rel"] <= got["checkout_rel_ci_high"]
    se = (got["checkout_ci_high"] - got["checkout_ci_low"]) / (2 * 1.96)
    assert abs(got["checkout_lift_abs"] - t["true_lift_abs"]) < 2 * se
    assert got["checkout_ci_low"] > 0
    assert got["checkout_decision"] == "Ship"


def test_srm_flags_only_the_pdp_video_test(got):
    assert got["pdp_srm_pvalue"] < 0.001
    assert got["checkout_srm_pvalue"] >= 0.001


def test_pdp_naive_lift_is_an_artefact(got, exps_truth):
    t = exps_truth["exp_pdp_video"]
    assert t["n_logged"] < t["n_assigned"]
    assert got["pdp_naive_ci_low"] > t["true_lift_abs"]  # "significant", yet the truth is 0
    assert got["pdp_naive_lift"] > 0
    assert got["pdp_pre_sessions_pvalue"] < 0.001  # logged populations differ before the test


def test_free_shipping_ci_covers_zero(got, exps_truth):
    t = exps_truth["exp_free_shipping"]
    assert got["free_shipping_ci_low"] <= t["true_lift_abs"] <= got["free_shipping_ci_high"]
    assert got["free_shipping_pvalue"] > 0.05


def test_peeking_inflates_and_fixed_horizon_holds_alpha(got):
    assert got["peeking_fpr"] > 0.10
    assert got["fixed_fpr"] == pytest.approx(0.05, abs=0.02)
    assert got["obf_fpr"] == pytest.approx(0.05, abs=0.02)


def test_cuped_reduction_is_rho_squared(got, exps_truth):
    assert got["cuped_variance_reduction"] == pytest.approx(got["rho"] ** 2, abs=0.01)
    rho_true = exps_truth["exp_checkout"]["corr_pre_revenue_revenue"]
    assert got["rho"] == pytest.approx(rho_true, abs=0.02)
    assert got["cuped_variance_reduction"] == pytest.approx(rho_true**2, abs=0.02)
    assert got["cuped_ci_width_ratio"] == pytest.approx((1 - got["rho"] ** 2) ** 0.5, abs=0.01)


def test_plan_matches_the_rule_of_thumb(got, exps_truth):
    """The plan is for the smallest worthwhile lift, +0.3 pp, at the planted base rate."""
    t = exps_truth["exp_checkout"]
    p, d = t["base_cr"], 0.003
    assert got["n_per_arm_plan"] == pytest.approx(16 * p * (1 - p) / d**2, rel=0.08)
    assert got["n_per_arm_by_hand"] == pytest.approx(got["n_per_arm_plan"], rel=0.005)
    assert got["plan_days"] % 7 == 0 and got["plan_days"] <= t["days"]
    # planning traffic is pre-test data, not the test's own intake; the stopping rule on
    # counts ends within the planted 28 days
    assert got["pretest_daily_visits"] != pytest.approx(got["realised_daily_visitors"], rel=0.01)
    assert got["day_reached"] <= t["days"]


def test_decision_rule_has_the_planned_power(got):
    """20,000 simulated tests: binomial SE ~0.003, so ±0.015 (5 SE)."""
    assert got["rule_ship_at_mde"] == pytest.approx(0.8, abs=0.015)
    assert got["naive_ship_at_mde"] == pytest.approx(0.5, abs=0.015)
    assert got["rule_ship_at_zero"] == pytest.approx(0.025, abs=0.006)


def test_free_shipping_judged_by_profit_covers_the_planted_truth(got):
    """Planted: no change in conversion or revenue, so the true profit change per visitor is
    minus the fees waived (fee rate x revenue per treated visitor). Every CI must cover it,
    the estimate must be within 2 SE, and the decision must be "Do not ship"."""
    truth = -got["lost_fees_per_visitor"]
    for k in ("raw", "cuped"):
        lo, hi = got[f"free_shipping_profit_{k}_low"], got[f"free_shipping_profit_{k}_high"]
        assert lo <= truth <= hi
        assert abs(got[f"free_shipping_profit_{k}"] - truth) < 2 * (hi - lo) / (2 * 1.96)
    assert got["free_shipping_profit_capped_high"] < got["free_shipping_profit_raw_high"]
    assert 0.3 < got["margin"] < 0.7 and 0 < got["fee_rate"] < 0.05
    assert got["breakeven_lift"] < 0.003  # Finance's +0.3 pp is not the break-even
    assert got["free_shipping_decision"] == "Do not ship"
