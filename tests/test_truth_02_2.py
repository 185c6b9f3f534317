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
- The pull-forward (truth["promo_pull_forward"]: 30% of each promotion's extra demand taken
  evenly from the 7 days before and after it) is recovered on returning customers' orders within
  ±0.1 of the planted share, and the 95% jackknife interval covers it. Why ±0.1: the jackknife
  standard error over the 12 promotion windows is about 0.03 (checked below to stay under
  0.05), so 0.1 is about three standard errors; returning customers are the orders the planted
  shape moves and nothing else lifts on promotion days (all orders also carry first orders won
  by the bigger promotion-day ad budget, which are not pulled from anywhere, so their share is
  only required to be positive and not above the planted share + 0.1).
- The dips themselves: the mean dip (share of the 14 days' orders lost) over the multi-day
  promotions (年货节, 618, 双11) is within 0.05 of the planted mean dip of the same promotions
  (each window's dip has a standard error near 0.02-0.03, the mean of six about 0.01; 0.05
  leaves room for the baseline's own error), and discounts add lift on top of the festival's own.
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


@pytest.fixture(scope="module")
def pull_forward():
    from ecomlab import datasets

    return datasets.truth()["promo_pull_forward"]


def test_pull_forward_share_recovered_on_returning_customers_orders(got, pull_forward):
    share = pull_forward["share"]
    assert got["pf_repeat_se"] < 0.05
    assert got["pf_share_repeat"] == pytest.approx(share, abs=0.1)
    assert got["pf_repeat_low"] <= share <= got["pf_repeat_high"]


def test_pull_forward_detected_on_all_orders_and_not_overstated(got, pull_forward):
    assert got["pf_windows"] >= 10
    assert 0 < got["pf_low"] <= got["pf_share"] <= got["pf_high"] < 1
    assert got["pf_share"] <= pull_forward["share"] + 0.1
    assert got["pf_net_share"] == pytest.approx(1 - got["pf_share"])


def test_dips_around_the_long_promotions_match_the_planted_dips(got, pull_forward):
    planted = {(k.split()[0], k.split()[-1]): v for k, v in pull_forward["dip_by_promotion"].items()}
    long_ones = [k for k in got["dip_fraction"] if k.split()[0] in ("年货节", "618", "双11")]
    assert len(long_ones) == 6
    measured = sum(got["dip_fraction"][k] for k in long_ones) / len(long_ones)
    truth = sum(planted[(k.split()[0], k.split()[-1])] for k in long_ones) / len(long_ones)
    assert measured == pytest.approx(truth, abs=0.05)
    assert got["dip_pre"] > 0 and got["dip_post"] > 0


def test_discounts_add_lift_on_top_of_the_festival(got):
    assert got["lift_deep"] > got["lift_no_discount"] > 1
