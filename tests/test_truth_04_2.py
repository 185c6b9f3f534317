"""Lesson 04-2 (cohorts and repurchase) recovers the planted purchase process and calendar.

Tolerances and why:

- ``share_repeat_39w`` (Kaplan-Meier at 273 days) within 0.03 of
  ``truth["bgnbd"]["share_repeat_within_39_weeks"]``: the truth counts refunded orders as
  repeat purchases and uses only customers with a full 39-week window; the lesson counts
  kept purchases only (a ~1 point difference) and uses every customer with censoring.
- Calendar effects: the world runs its purchase clock in promotion-calendar time with 双11
  the largest promotion multiplier (``truth["promo_lift"]``), so the cells falling in
  November must be above the average month with the F test rejecting "no month effect"
  (p < 0.001; ~200 cells); July, with no promotion, below it.
- Kaplan-Meier ordering and the censoring bias: the naive median among customers already
  seen twice must be below the conditional median the lesson states (half of the
  within-a-year repeaters), which must itself be within the first year.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("04-2")


@pytest.fixture(scope="module")
def truth():
    from ecomlab import datasets

    return datasets.truth()


def test_share_repeat_within_39_weeks(got, truth):
    assert got["share_repeat_39w"] == pytest.approx(truth["bgnbd"]["share_repeat_within_39_weeks"], abs=0.03)
    assert 0 < got["km_90"] < got["share_repeat_39w"] < got["km_365"] < 1


def test_calendar_effects_follow_the_promotion_calendar(got, truth):
    lift = truth["promo_lift"]
    assert max(lift, key=lift.get) == "双11"
    assert got["cal_nov"] > 0.005 and got["cal_nov"] >= got["cal_jan"]
    assert got["cal_jul"] < 0
    assert got["cal_f_p"] < 1e-3


def test_cohorts_differ_and_month_one_is_the_peak(got):
    assert got["cohort_chi2_p"] < 0.05
    assert 0 < got["m1_min"] <= got["m1_mean"] <= got["m1_max"] < 1
    assert got["later_mean"] < got["m1_mean"]


def test_censoring_bias_and_the_stated_median(got):
    assert got["naive_median_days"] < got["half_of_year_days"] < 365
    assert got["km_median_days"] > 365 or got["km_median_days"] != got["km_median_days"]  # NaN: not reached
    assert 0 < got["km_365_ci"] < 0.02
    assert got["n_customers"] > 20_000


def test_repeat_kpis(got):
    for key in ("repurchase_rate_2025", "repurchase_rate_2025_h1", "return_purchase_rate_h1_h2"):
        assert 0 < got[key] < 1, key
    # a longer window gives more time for a second order
    assert got["repurchase_rate_2025"] > got["repurchase_rate_2025_h1"]
