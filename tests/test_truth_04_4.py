"""Lesson 04-4 (coupons and uplift) recovers the planted coupon uplifts and targets by uplift.

Tolerances and why:

- Segment uplift: each segment's **simultaneous** interval (Bonferroni, α = 0.05 / 5 per
  segment, so all five cover together with probability ≥ 95%) must cover the planted
  ``truth["coupon_uplift"]["uplift_purchase_30d"][segment]``. A fixed ± tolerance would be
  wrong here: the loyal segment has ~1,500 customers at a 45% base rate (interval ±0.07),
  the lapsing one ~10,000 at 2.5% (interval ±0.015).
- Who responds (the planted story): lapsing and at-risk gain most, loyal least; those two
  intervals exclude zero and their Holm-adjusted p-values are below 0.01; loyal customers
  have the highest response rate but the lowest uplift (response ≠ uplift).
- Money, measured directly from revenue: coupons to lapsing and at-risk customers pay
  (simultaneous interval of gross profit per coupon sent above 0). Against the planted
  uplifts the lesson's break-even line gives the right decision: planted lapsing and at-risk
  uplifts lie above their break-even uplift, the planted loyal uplift (0.01) below its own.
- Targeting, judged on the hold-out half only: the uplift ranking's Qini coefficient is
  positive and the response ranking's is not; at the lesson's budget the uplift ranking's
  gain in incremental buyers and in gross profit over the response ranking has a 95%
  bootstrap interval above 0; at the chosen share response targeting earns less than sending
  to everyone. The uplift policy's gain over "everyone" is *not* asserted: its interval
  covers 0, and the lesson says so.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks

SEGMENTS = ("new", "active", "loyal", "at_risk", "lapsing")


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("04-4")


@pytest.fixture(scope="module")
def planted():
    from ecomlab import datasets

    return datasets.truth()["coupon_uplift"]["uplift_purchase_30d"]


def test_uplift_intervals_are_simultaneous(got):
    assert got["uplift_ci_alpha"] == pytest.approx(0.05 / 5)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_segment_interval_covers_planted_uplift(got, planted, segment):
    true = planted[segment]
    low, high = got["uplift_ci_low"][segment], got["uplift_ci_high"][segment]
    assert low <= true <= high, f"{segment}: [{low:.4f}, {high:.4f}] misses {true}"
    assert low <= got["uplift"][segment] <= high


def test_who_responds_to_coupons(got):
    u = got["uplift"]
    assert min(u["lapsing"], u["at_risk"]) > max(u["new"], u["active"], u["loyal"])
    assert u["loyal"] == min(u.values())
    assert got["uplift_ci_low"]["lapsing"] > 0 and got["uplift_ci_low"]["at_risk"] > 0
    assert got["p_holm"]["lapsing"] < 0.01 and got["p_holm"]["at_risk"] < 0.01
    assert all(got["p_holm"][s] >= got["p_value"][s] for s in SEGMENTS)
    r = got["response_rate"]
    assert r["loyal"] == max(r.values())  # responds most, gains least


def test_coupons_pay_where_planted_uplift_is_high(got, planted):
    assert got["gp_ci_low"]["lapsing"] > 0 and got["gp_ci_low"]["at_risk"] > 0
    assert got["gp_uplift"]["loyal"] < 0
    be = got["break_even"]
    assert planted["lapsing"] > be["lapsing"] and planted["at_risk"] > be["at_risk"]
    assert planted["loyal"] < be["loyal"]


def test_uplift_targeting_beats_response_out_of_sample(got):
    q = got["qini_holdout"]
    assert q["uplift"] > 0 >= q["response"]
    b = got["budget"]
    assert b["buyers_gain_low"] > 0 and b["profit_gain_low"] > 0
    h = got["holdout"]
    assert h["uplift_total"] > h["response_total"]
    assert h["response_gain_high"] < 0  # ranking by response loses against sending to everyone
    assert h["uplift_gain_low"] <= h["uplift_gain"] <= h["uplift_gain_high"]
    assert 0.4 < got["n_holdout"] / got["n_customers"] < 0.6
