"""Lesson 06-1 (measuring the H2-2025 programme) recovers every planted lever through its results.

Tolerances and why:

- The marketer's figures (``truth["programme"]["naive"]``) are deterministic functions of the
  data with the definitions written in truth.json, so the lesson must reproduce them to the
  rounding truth.json stores (4 decimals for rates and the ROI, 2 for revenue).
- Fan groups: the planted rate multiplier is 1.3 (+30%); the matched Poisson DiD has a standard
  error of about ±0.09, so its point must lie within ±0.08 of the planted +30% and of the
  realised ATT (``att_orders_h2``), and its 95% CI must cover both; its diagnostics must pass
  (flat leads p > 0.05, every placebo covering 0, balance |SMD| < 0.1). The profit ROI must be
  within ±0.15 of ``truth["programme"]["profit_roi"]`` (the effect's ±0.09 moves incremental
  profit by about ±30%, i.e. the ROI by about ±0.15) and its interval must cover it; the ROAS
  of incremental revenue is a revenue ratio far below the marketer's 5.2.
- Storage push (planted ×1.25 storage demand from 2025-07-01, others unchanged):
  (a) own orders: units *sold* are censored by stockouts (the lesson shows lost demand rising
  from under 1% to about 4–6% of storage demand), so the sold-units ratio must lie in
  [1.10, 1.30] and below the demand ratio; the demand ratio (sold + lost units) must be within
  ±0.08 of 1.25 with a 95% CI covering 1.25 (its half-width is about ±0.055). The 2024
  placebo must cover 1; the 2025 leads must be flat (p > 0.05) while the 18-month leads fail
  (p < 0.01: the January-2025 step the lesson warns about).
  (b) market: Nestwell's storage sales ×1.25 exactly in the panel, the competitors' noise is
  about 4% a month, so the synthetic control's ratio must be within ±0.06 of 1.25 with a 95%
  CI covering it; no competitor's placebo may move more than 8%; the naive year-on-year
  growth must exceed the push by the market's growth (naive > synthetic-control ratio × 1.15).
- Short video (truth["channels"]["short_video"], truth["experiments"]["lift_short_video"]):
  the lift test's 95% CI must cover the planted incremental ROAS of its window (1.26); the
  model's ROAS on the same days must be within ±0.3 of it (the model is fitted on
  observational spend; ±0.3 is the lift test's own half-width); the push's added revenue
  must be within ±35% of the planted added revenue computed from the planted Hill curve on
  the observed spend (the planted curve is multiplied by the day's demand shape, which the
  check sets to 1, so it is only approximate), and its marginal ROAS must be below the
  channel's planted average incremental ROAS (2.2) — the channel is saturated at H2 spend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from ecomlab import datasets

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("06-1")


def test_naive_figures_reproduce_the_marketers_exactly(got, truth):
    naive = truth["programme"]["naive"]
    for key in ("repurchase_rate_members", "repurchase_rate_non_members", "repurchase_gap", "revenue_roi"):
        assert round(got["naive"][key], 4) == pytest.approx(naive[key], abs=1e-9), key
    assert round(got["naive"]["member_revenue_after_joining"], 2) == pytest.approx(
        naive["member_revenue_after_joining"], abs=1e-6)
    assert got["programme_cost"] == truth["programme"]["cost"]


def test_fan_group_effect_recovered_with_passing_diagnostics(got, truth):
    fg = truth["fan_group_effect"]
    planted, realised = fg["rate_multiplier"] - 1, fg["att_orders_h2"]
    fan = got["fan"]
    for target in (planted, realised):
        assert fan["effect"] == pytest.approx(target, abs=0.08)
        assert fan["ci_low"] <= target <= fan["ci_high"]
    assert fan["leads_p_value"] > 0.05
    assert fan["placebos_cover_zero"] == fan["placebos"] >= 3
    assert fan["smd_max_after"] < 0.1
    assert got["naive"]["repurchase_gap"] > fan["ci_high"]  # the naive gap overstates


def test_profit_roi_and_roas(got, truth):
    v = got["fan_value"]
    target = truth["programme"]["profit_roi"]
    assert v["profit_roi"] == pytest.approx(target, abs=0.15)
    assert v["profit_roi_ci_low"] <= target <= v["profit_roi_ci_high"]
    assert v["incremental_gross_profit_ci_low"] <= truth["fan_group_effect"]["incremental_gross_profit"] \
        <= v["incremental_gross_profit_ci_high"]
    assert v["roas_ci_low"] <= v["roas"] <= v["roas_ci_high"] < got["naive"]["revenue_roi"] / 2
    assert v["profit_roi_ci_high"] < 0  # the programme loses money even at the top of the interval


def test_storage_push_recovered_from_own_orders(got, truth):
    k = truth["storage_push"]["demand_multiplier"]
    assert truth["market"]["nestwell_storage_push"]["demand_multiplier"] == k
    s = got["storage"]
    assert 1.10 <= s["ratio"] <= 1.30 and s["ci_low"] <= s["ratio"] <= s["ci_high"]
    assert s["ratio"] < s["demand_ratio"]
    assert s["demand_ratio"] == pytest.approx(k, abs=0.08)
    assert s["demand_ci_low"] <= k <= s["demand_ci_high"]
    assert s["lost_share_h2"] > s["lost_share_h1"] + 0.02
    assert s["leads_p_value"] > 0.05 and s["long_leads_p_value"] < 0.01
    assert s["placebo_2024_ci_low"] <= 1 <= s["placebo_2024_ci_high"]


def test_storage_push_recovered_against_the_market(got, truth):
    k = truth["market"]["nestwell_storage_push"]["demand_multiplier"]
    s = got["storage"]
    assert s["sc_ratio"] == pytest.approx(k, abs=0.06)
    assert s["sc_ci_low"] <= k <= s["sc_ci_high"]
    assert s["placebo_max_abs"] < 0.08
    assert s["sc_p_value"] == pytest.approx(1 / 6)  # Nestwell ranks first of six units
    assert s["naive_growth"] > s["sc_ratio"] * 1.15  # a before/after credits the market's growth


def _planted_added_revenue(truth) -> float:
    """Planted short-video revenue in H2 2025 with vs without the ×1.6 spend (demand shape set to 1)."""
    p = truth["channels"]["short_video"]
    push = truth["programme"]["short_video_push"]
    mk = datasets.load("marketing_daily")
    sv = mk[mk["channel"] == "short_video"].sort_values("date")
    x = sv["spend"].to_numpy()
    on = (sv["date"] >= pd.Timestamp(push["start"])).to_numpy()

    def hill(spend):
        a = signal.lfilter([1.0], [1.0, -p["adstock_decay"]], spend)
        return p["max_daily_revenue"] * a / (a + p["half_saturation"])

    return float((hill(x) - hill(np.where(on, x / push["spend_multiplier"], x)))[on].sum())


def test_short_video_push_and_lift_test(got, truth):
    v = got["video"]
    lift = truth["experiments"]["lift_short_video"]
    assert v["lift_roas_ci_low"] <= lift["incremental_roas"] <= v["lift_roas_ci_high"]
    assert v["lift_spend"] == pytest.approx(lift["spend"], abs=0.01)
    assert v["model_window_roas"] == pytest.approx(lift["incremental_roas"], abs=0.3)
    assert v["added_revenue"] == pytest.approx(_planted_added_revenue(truth), rel=0.35)
    assert v["added_revenue_lo"] <= v["added_revenue"] <= v["added_revenue_hi"]
    assert v["marginal_roas"] < truth["channels"]["short_video"]["incremental_roas"]
    assert v["marginal_roas_lo"] <= v["marginal_roas"] <= v["marginal_roas_hi"]
    assert v["extra_spend"] == pytest.approx(v["spend_h2"] * (1 - 1 / truth["programme"]["short_video_push"]["spend_multiplier"]))
