"""Lesson 05-1 (KPI tree and monitoring) recovers the planted checkout incident.

Tolerances and why:

- ``incident_date`` / ``incident_device`` must equal ``truth["incident"]`` exactly: the
  lesson's recommended monitor (CR by device, promotion calendar, sampling-noise floor)
  must point at the planted day and device, not near it.
- ``n_alerts`` <= 3 and no alert on a promotion day: "few alerts" — a monitor that rings
  more than a few times a month, or on 双11, is ignored in practice. The planted world has
  exactly one fault in November, so anything beyond it is a false alarm.
- ``incident_cr_rel_change`` within 0.15 of ``-truth["incident"]["drop"]``: the planted
  drop is in the share of Android *checkouts* that fail; daily CR also moves by sampling
  noise (about 60 Android buyers a day, so ±13% relative per day) and the expected CR is a
  median of ~18 normal days.
- ``incident_lost_buyers`` within 40% of ``truth["incident"]["lost_orders"]``: the same
  sampling noise on ~40 lost buyers (Poisson sd ≈ 8 on the day's ~60 expected buyers, plus
  the baseline's own error).
- The LMDI decomposition is exact arithmetic: its three effects must add up to the GMV
  change within 1e-6 CNY (floating point only), the recorded residual must be ~0.
- The normal-day baseline: the world plants a pull-forward (``truth["promo_pull_forward"]``):
  30% of each promotion's extra demand is removed evenly from the 7 days before and the 7 days
  after it, a dip of about 22% for 双11 2025. The lesson's lull must be exactly those
  ``days_after`` days, and its dip measured on placed orders (the lull week against the normal
  days after it) within 0.08 of the planted dip: Poisson noise on ~800 and ~1,700 orders gives
  a standard error of about 0.03 on the dip. The dip before the window is measured against the
  4 weeks before it, across a seasonal drift of a few per cent, so it gets 0.10. The normal days
  exclude the promotion window, the lull and the incident day, so at most 30 - 11 - 1 - lull
  remain and at least 10 (enough for a stable average).
- "双11 is a traffic event" must hold against *every* single normal day, not only the
  average one: the UV share's minimum over single-day baselines > 0.6 and the CR share
  stays within ±0.15 (the planted lift is in visits, not conversion).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("05-1")


@pytest.fixture(scope="module")
def incident():
    from ecomlab import datasets

    return datasets.truth()["incident"]


def test_alert_on_planted_incident(got, incident):
    assert got["incident_date"] == incident["date"]
    assert got["incident_device"] == incident["device"]


def test_few_alerts_and_none_on_promotion_days(got):
    assert 1 <= got["n_alerts"] <= 3
    assert got["n_alerts_on_promo_days"] == 0


def test_size_of_the_incident(got, incident):
    assert got["incident_cr_rel_change"] == pytest.approx(-incident["drop"], abs=0.15)
    assert got["incident_lost_buyers"] == pytest.approx(incident["lost_orders"], rel=0.40)


def test_decomposition_adds_up_exactly(got):
    total = (got["double11_gmv_uv_effect"] + got["double11_gmv_cr_effect"]
             + got["double11_gmv_spend_per_buyer_effect"])
    assert total == pytest.approx(got["double11_delta_gmv"], abs=1e-6)
    assert abs(got["decomposition_residual"]) < 1e-6


def test_double11_is_a_traffic_event(got):
    """双11's planted lift works through traffic (promotion multiplies visits); conversion
    per visitor is not planted to change, so the UV effect dominates and CR is small."""
    delta = got["double11_delta_gmv"]
    assert delta > 0
    assert got["double11_gmv_uv_effect"] / delta > 0.6
    assert abs(got["double11_gmv_cr_effect"]) / delta < 0.15


def test_diagnosis_points_at_the_device(got, incident):
    assert got["incident_week_before_cr_effect"] < 0
    assert got["incident_top_device_cr_effect"] == incident["device"]


def test_normal_day_baseline_leaves_out_promotion_lull_and_fault(got):
    from ecomlab import datasets

    pf = datasets.truth()["promo_pull_forward"]
    assert got["lull_days"] == pf["days_after"]
    assert got["lull_dip"] == pytest.approx(pf["dip_by_promotion"]["双11 2025"], abs=0.08)
    assert got["pre_promo_dip"] == pytest.approx(pf["dip_by_promotion"]["双11 2025"], abs=0.10)
    assert 10 <= got["n_normal_days"] <= 30 - 11 - 1 - got["lull_days"]
    assert got["pre_promo_orders_per_day"] > 0


def test_double11_conclusion_holds_for_every_single_normal_day(got):
    assert got["double11_share_min"]["uv"] > 0.6
    assert got["double11_share_min"]["uv"] <= got["double11_share"]["uv"] <= got["double11_share_max"]["uv"]
    assert max(abs(got["double11_share_min"]["cr"]), abs(got["double11_share_max"]["cr"])) < 0.15
    assert sum(got["double11_share"].values()) == pytest.approx(1.0, abs=1e-9)


def test_device_drilldown_signs(got, incident):
    """Android's CR effect carries the loss and exceeds the store's (the other devices together
    offset part of it). Only Android's checkout was planted to fail: the other devices' CR
    effects week over week are sampling noise of either sign (a device has a few dozen buyers a
    day, so about ±20% relative CR noise), so none of them may lose even half as much as
    Android, but no sign is required of any single one. The alert rows of the fault (its day
    and device) must each show the planted drop within the same ±0.15 as the CR change."""
    eff = got["device_cr_effect"]
    assert eff["android"] == min(eff.values()) < got["incident_week_before_cr_effect"] < 0
    assert all(v > eff["android"] / 2 for k, v in eff.items() if k != "android")
    rows = got["incident_rows_drop"]
    assert rows["min"] <= rows["max"]
    assert rows["min"] == pytest.approx(incident["drop"], abs=0.15)
    assert rows["max"] == pytest.approx(incident["drop"], abs=0.15)
