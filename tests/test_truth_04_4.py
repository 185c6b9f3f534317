"""Lesson 04-3 (membership, coupons and fan groups) recovers the planted coupon uplifts and
the fan-group effect.

Tolerances and why:

- Coupon uplift: each segment's **simultaneous** interval (Bonferroni, α = 0.05 / 5 per
  segment, so all five cover together with probability ≥ 95%) must cover the planted
  ``truth["coupon_uplift"]["uplift_purchase_30d"][segment]``. A fixed ± tolerance would be
  wrong here: the loyal segment has ~1,500 customers at a 45% base rate (interval ±0.07),
  the lapsing one ~10,000 at 2.5% (interval ±0.015). The lesson's key finding must also
  hold: lapsing and at-risk gain most, loyal least, and those two intervals exclude zero.
- Fan-group effect: the planted rate multiplier is 1.3 (+30%). The realised ATT on this
  seed differs from 0.30 by chance (truth's ``att_orders_h2``), and the DiD standard error
  is about ±0.07, so the DiD point estimate must lie within ±0.08 of 0.30 and its 95% CI
  must cover 0.30. Exact matching on the CRM view has a wider interval (post period only,
  reweighted strata; about ±0.13), so its point must be within ±0.12 and its CI must cover.
- The naive member gap must exceed 3 × the DiD effect (selection dominates; the planted
  joiners have several times the baseline rate), and matching on H1 activity only must
  overshoot (it is the lesson's counter-example).
- Membership: the planted membership effect is 1.0 (none), so members' spend ratio over
  non-members must not grow at joining (after ≤ before × 1.1, allowing for noise).
- Programme ROI: profit ROI from the DiD effect within ±0.15 of truth["programme"]
  ["profit_roi"] (the ±0.07 DiD error moves incremental profit by about ±25%, i.e. the
  ROI by about ±0.1).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks

SEGMENTS = ("new", "active", "loyal", "at_risk", "lapsing")


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("04-3")


@pytest.fixture(scope="module")
def world():
    from ecomlab import datasets

    return datasets.truth()


def test_uplift_intervals_are_simultaneous(got):
    assert got["uplift_ci_alpha"] == pytest.approx(0.05 / 5)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_segment_interval_covers_planted_uplift(got, world, segment):
    true = world["coupon_uplift"]["uplift_purchase_30d"][segment]
    low, high = got["uplift_ci_low"][segment], got["uplift_ci_high"][segment]
    assert low <= true <= high, f"{segment}: [{low:.4f}, {high:.4f}] misses {true}"
    assert low <= got["uplift_by_segment"][segment] <= high


def test_who_responds_to_coupons(got):
    u = got["uplift_by_segment"]
    assert min(u["lapsing"], u["at_risk"]) > max(u["new"], u["active"], u["loyal"])
    assert u["loyal"] == min(u.values())
    assert got["uplift_ci_low"]["lapsing"] > 0 and got["uplift_ci_low"]["at_risk"] > 0


def test_uplift_targeting_beats_response_and_everyone(got):
    assert got["qini_coefficient"] > 0
    assert got["best_policy"].endswith("by uplift")
    assert got["best_policy_margin"] >= got["everyone_margin"]


def test_did_recovers_fan_group_effect(got, world):
    true = world["fan_group_effect"]["rate_multiplier"] - 1
    assert got["did_effect"] == pytest.approx(true, abs=0.08)
    assert got["did_ci_low"] <= true <= got["did_ci_high"]


def test_matching_on_crm_view_recovers_fan_group_effect(got, world):
    true = world["fan_group_effect"]["rate_multiplier"] - 1
    assert got["matching_effect"] == pytest.approx(true, abs=0.12)
    assert got["matching_ci_low"] <= true <= got["matching_ci_high"]


def test_naive_gap_and_h1_matching_overstate(got, world):
    true = world["fan_group_effect"]["rate_multiplier"] - 1
    assert got["naive_gap"] > 3 * got["did_effect"]
    assert got["matching_h1_only_effect"] > true + 0.12


def test_membership_gap_is_selection(got, world):
    assert world["membership"]["effect_on_purchase_rate"] == 1.0
    assert got["member_spend_ratio_before"] > 2  # members were heavier buyers before joining
    assert got["member_spend_ratio_after"] <= 1.1 * got["member_spend_ratio_before"]


def test_programme_profit_roi(got, world):
    assert got["programme_roi"] == pytest.approx(world["programme"]["profit_roi"], abs=0.15)
