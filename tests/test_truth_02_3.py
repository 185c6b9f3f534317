"""Lesson 02-3 (inventory and forecasting) recovers the planted stockouts and policy failure.

Tolerances and why:

- Lost units estimated from censored sales (``units_sold`` + ``stockout`` only) within ±15% of
  ``truth["stockouts"]["total_lost_units"]`` (the issue's bar): the Poisson SKU × day model
  understates promotion peaks a little; and the truth must equal ``units_demanded −
  units_sold`` summed (the lesson prints both).
- The share of estimated losses around 双11 within 0.1 of the planted share
  (``lost_units_around_double11 / total_lost_units``): the planted rule has no promotion
  forecast, so most losses fall in the 双11 run-up.
- The promotion-aware rule must beat the planted (backward-looking) one on both service
  levels and on lost units around 双11 2025; for one policy the cycle service level and the
  fill rate must differ (by > 5 points), as the lesson states.
- Forecasts: only the calendar-aware ETS beats the seasonal naive (median MASE < 1 and below
  both others); all under-forecast (bias < 0), since the world grows through 2025.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("02-3")


@pytest.fixture(scope="module")
def truth():
    from ecomlab import datasets

    return datasets.truth()["stockouts"]


def test_lost_sales_from_censored_sales(got, truth):
    assert got["lost_units_true"] == truth["total_lost_units"]
    assert got["lost_units_est"] == pytest.approx(truth["total_lost_units"], rel=0.15)
    planted_share = truth["lost_units_around_double11"] / truth["total_lost_units"]
    assert got["lost_share_double11"] == pytest.approx(planted_share, abs=0.1)
    assert got["lost_margin"] > 0


def test_planted_policy_fails_before_double11_and_the_fix_does_not(got):
    assert got["lost_nov_aware"] < 0.1 * got["lost_nov_planted"]
    assert got["csl_aware"] > got["csl_planted"] and got["fill_aware"] > got["fill_planted"]
    assert got["fill_planted"] - got["csl_planted"] > 0.05
    assert got["stock_increase"] > 0


def test_forecasts(got):
    m, b = got["mase"], got["bias"]
    assert m["ets_promo"] < 1 and m["ets_promo"] < m["snaive"] and m["ets_promo"] < m["ets"]
    assert all(v < 0 for v in b.values())
    assert got["forecast_skus"] >= 200 and got["forecast_seconds"] < 2


def test_newsvendor_prebuild(got, truth):
    assert 0.5 < got["cr_min"] <= got["cr_max"] < 1
    assert got["nv_short"] < got["planted_lost_11"]
    assert 0 < got["nv_covered"] <= 1
    assert got["ss_top_sigma_l"] > got["ss_top"] > 0
