"""Truth recovery for lesson 05-3 (user behaviour analysis): the notebook's results vs truth.json.

Tolerances and why:
- cleaning counts (duplicates, out-of-window rows) are exact: the generator plants exactly
  ``truth["blemishes"]`` rows and ``clean_events`` must remove exactly those;
- peak and trough hours are exact: the planted hour shape (``truth["seasonality"]``) has a
  clear maximum (21:00) and minimum (04:00) and ~375k events leave no doubt;
- strict < loose buying sessions: ~30% of bought lines are "buy now" without a cart, so
  the strict pv -> cart -> buy funnel must lose buyers; the loose count is every buying
  session, within 1% of the planted ``truth["funnel"]["buying_sessions"]`` (only the
  handful of buys among the out-of-window rows may differ);
- element click shares: ~15.5k clicks per page version give a standard error of about
  0.002 on a 5-10% share, so 0.01 (about 5 SE) around the planted share; B's add-to-cart
  share must be higher than A's, and the chi-square test must find the mix moved.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("05-3")



def test_cleaning_removes_exactly_the_planted_blemishes(got, truth):
    assert got["rows_removed_duplicates"] == truth["blemishes"]["events_duplicated_rows"]
    assert got["rows_removed_window"] == truth["blemishes"]["events_outside_window"]


def test_activity_peak_and_trough_hours(got, truth):
    assert got["peak_hour"] == truth["seasonality"]["peak_hour"]
    assert got["trough_hour"] == truth["seasonality"]["trough_hour"]


def test_strict_funnel_loses_buy_now_buyers(got, truth):
    assert got["strict_buy_sessions"] < got["loose_buy_sessions"]
    planted = truth["funnel"]["buying_sessions"]
    assert got["loose_buy_sessions"] == pytest.approx(planted, rel=0.01)
    assert 0.05 < got["buy_now_session_share"] < 0.5  # ~30% of lines; fewer whole sessions


def test_cart_abandonment_is_a_rate(got):
    assert 0.5 < got["cart_abandonment_rate"] < 0.95


def test_version_b_lifts_add_to_cart_clicks(got, truth):
    planted = truth["page_clicks"]["element_click_share"]
    assert got["add_to_cart_share_B"] > got["add_to_cart_share_A"]
    assert got["add_to_cart_share_A"] == pytest.approx(planted["A"]["add_to_cart"], abs=0.01)
    assert got["add_to_cart_share_B"] == pytest.approx(planted["B"]["add_to_cart"], abs=0.01)
    assert got["buy_now_share_B"] > got["buy_now_share_A"]
    assert got["element_mix_pvalue"] < 0.001


def test_buy_now_share_of_lines_matches_the_plant(got, truth):
    """~5k bought lines: SE of a 30% share ~0.007, so ±0.03 (about 4 SE)."""
    planted = truth["funnel"]["buy_now_share_of_bought_lines"]
    assert got["buy_now_line_share"] == pytest.approx(planted, abs=0.03)
    assert got["buy_now_session_share"] < got["buy_now_line_share"]  # sessions that also carted stay


def test_device_gap_is_not_the_incident(got, truth):
    """The planted incident hit Android on one day; the planted session CR is ordered
    ios > android > pc for every source, so carts are abandoned in the reverse order, and
    Android still trails iOS without the incident day."""
    assert truth["incident"]["device"] == "android"
    assert got["android_incident_day"] > got["android_other_days"]
    assert got["drop_buy"]["pc"] > got["drop_buy"]["android"] > got["drop_buy"]["ios"]
    assert got["android_other_days"] > got["ios_other_days"]
    cr = truth["funnel"]["planted_session_cr"]["ios"]
    best, worst = max(cr, key=cr.get), min(cr, key=cr.get)
    assert got["drop_buy"][best] == min(got["drop_buy"][k] for k in cr)  # private domain
    assert got["drop_buy"][worst] == max(got["drop_buy"][k] for k in cr)  # feed ads
