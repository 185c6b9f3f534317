"""Lesson 02-2 (pricing) recovers the elasticities the world plants.

Tolerances and why:

- Each category's elasticity within ±0.2 of ``truth["elasticity"]`` through BOTH sound
  estimators (price-cell WLS and Poisson with SKU and week fixed effects): two years of
  random weekly price tests give standard errors of 0.05–0.11 per category, so ±0.2 is about
  two standard errors at the worst category; the issue asks for ±0.2.
- The two estimators agree with each other within 0.25 (each within 0.2 of the same truth
  makes 0.4 possible; they share the data, so they must be closer).
- The naive log-log OLS on SKU-days with a sale is biased toward zero: for every category it
  is less negative than the truth by more than 0.4 (dropping the zero days, the lesson's point).
- Every planted elasticity lies inside the Poisson 95% interval widened by 0.1 (the interval
  is quasi-Poisson; the world's demand is overdispersed by baskets and quantities).
- The margin-optimal price is reported only for categories whose estimate is below −1, and
  the world plants decor at −0.9: decor must have no p*.
- No pull-forward is planted (the world only has a short, unrecorded post-festival lull), so
  nothing is recovered: the test checks the dip is reported with a finite interval over at
  least four windows, and that discounts add lift on top of the festival's own.
"""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("02-2")


@pytest.fixture(scope="module")
def planted():
    from ecomlab import datasets

    return datasets.truth()["elasticity"]


@pytest.mark.parametrize("estimator", ["wls", "poisson"])
def test_both_estimators_recover_the_planted_elasticities(got, planted, estimator):
    assert set(got[estimator]) == set(planted)
    for cat, e in planted.items():
        assert got[estimator][cat] == pytest.approx(e, abs=0.2), (estimator, cat)


def test_the_two_estimators_agree(got):
    for cat in got["wls"]:
        assert abs(got["wls"][cat] - got["poisson"][cat]) < 0.25, cat
    assert got["wls_poisson_gap"] < 0.25


def test_naive_loglog_is_biased_toward_zero(got, planted):
    for cat, e in planted.items():
        assert got["naive"][cat] > e + 0.4, cat
    assert got["naive_ratio"] < 0.6


def test_poisson_intervals_cover_the_truth(got, planted):
    for cat, e in planted.items():
        assert got["poisson_low"][cat] - 0.1 <= e <= got["poisson_high"][cat] + 0.1, cat


def test_margin_optimal_price_only_where_elastic(got, planted):
    assert "decor" not in got["p_star_rel"]
    for cat, p in got["p_star_rel"].items():
        assert got["poisson"][cat] < -1 and p > 0
        assert got["p_star_rel_low"][cat] <= p <= got["p_star_rel_high"].get(cat, math.inf)
    # storage (planted −2.2) must price lower against list than kitchen (−1.6)
    assert got["p_star_rel"]["storage"] < got["p_star_rel"]["kitchen"]


def test_no_pull_forward_claimed_beyond_the_data(got):
    assert got["dip_windows"] >= 4
    assert 0 < got["dip_after_low"] <= got["dip_after"] <= got["dip_after_high"] < math.inf
    assert got["lift_deep"] > got["lift_no_discount"] > 1
