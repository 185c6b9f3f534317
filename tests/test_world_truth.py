"""Every planted parameter group in truth.json is recoverable from the tables alone,
with the standard method the course teaches, within a stated tolerance.

Tolerances and why:
- elasticity: ±0.2 per category (the issue's bar); the estimator's SE is 0.06-0.11.
- BG/NBD: r and α within 15%, a and b within 30%. With ~14k calibration customers the
  ML standard errors are about 5% (r, α) and 12-15% (a, b); the fit runs on calendar
  weeks while the world runs in promotion-calendar time, which adds a little bias.
- experiments / coupons: 95% CIs cover the truth; for the five coupon segments we use
  simultaneous (Bonferroni, 99%) intervals, the honest choice with five comparisons.
- fan group: DiD within ±0.08 of the planted +30% (its realised value on this seed is
  in truth["fan_group_effect"]["att_orders_h2"]); matching on the CRM view within ±0.12
  (coarsened exact matching has the wider CI); the naive gap at least 3x larger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import adjusted_rand_score

from ecomlab import (
    causal,
    datasets,
    experiments,
    kpi,
    metrics,
    positioning,
    product,
    traffic,
    users,
)


@pytest.fixture(scope="module")
def t() -> dict[str, pd.DataFrame]:
    return datasets.load_all()



def test_elasticity_by_category(t, truth):
    pp = product.price_points(t["order_items"], t["orders"], t["daily_prices"], t["products"])
    est = product.estimate_elasticity(pp).table.set_index("category")["elasticity"]
    for cat, true in truth["elasticity"].items():
        assert abs(est[cat] - true) <= 0.2, (cat, est[cat], true)


def test_bgnbd_parameters(t, truth):
    # daily periods: weekly buckets would merge same-week purchases of heavy buyers
    summary = users.rfm_summary(t["orders"], calibration_end="2025-01-01", freq="D")
    fit = users.fit_bgnbd(summary)
    assert fit.converged
    est = dict(fit.params, alpha=fit.params["alpha"] / 7)  # rate per day -> per week
    tb = truth["bgnbd"]
    for k, tol in (("r", 0.15), ("alpha", 0.15), ("a", 0.30), ("b", 0.30)):
        assert abs(est[k] / tb[k] - 1) <= tol, (k, est[k], tb[k])


def test_checkout_lift_ci_covers_truth(t, truth):
    d = t["experiments"][t["experiments"]["experiment_id"] == "exp_checkout"]
    assert not experiments.srm_check(d).srm
    res = experiments.proportion_test(d)
    true = truth["experiments"]["exp_checkout"]["true_lift_abs"]
    assert res.effect_ci_lower <= true <= res.effect_ci_upper
    assert res.effect_ci_lower > 0, "the real lift is detectable at bundled scale"


def test_pdp_video_fails_srm_and_naive_readout_misleads(t, truth):
    d = t["experiments"][t["experiments"]["experiment_id"] == "exp_pdp_video"]
    srm = experiments.srm_check(d)
    assert srm.srm and srm.pvalue < 0.001
    naive = experiments.proportion_test(d)
    assert truth["experiments"]["exp_pdp_video"]["true_lift_abs"] == 0
    assert naive.effect_ci_lower > 0, "the biased readout claims a win"


def test_free_shipping_null_within_noise(t, truth):
    d = t["experiments"][t["experiments"]["experiment_id"] == "exp_free_shipping"]
    res = experiments.proportion_test(d)
    assert res.effect_ci_lower <= 0 <= res.effect_ci_upper


def test_checkout_cuped_covariate_correlation(t, truth):
    d = t["experiments"][t["experiments"]["experiment_id"] == "exp_checkout"]
    rho = np.corrcoef(d["pre_revenue"], d["revenue"])[0, 1]
    assert 0.4 <= rho <= 0.6


def test_coupon_uplift_by_segment(t, truth):
    k = len(truth["coupon_uplift"]["uplift_purchase_30d"])
    res = users.uplift_by_segment(t["coupon_campaign"], segment="segment_at_send",
                                  outcome="purchased_30d", alpha=0.05 / k).set_index("segment")
    for seg, true in truth["coupon_uplift"]["uplift_purchase_30d"].items():
        lo, hi = res.loc[seg, ["ci_low", "ci_high"]]
        assert lo <= true <= hi, (seg, lo, hi, true)
    # lapsing/at-risk respond most, loyal barely
    assert res.loc["lapsing", "uplift"] > res.loc["active", "uplift"]


def test_fan_group_did_recovers_effect_naive_is_larger(t, truth):
    panel = causal.fan_group_panel(t["orders"], t["customers"], truth["fan_group_effect"]["start"],
                                   ("2025-01-01", "2025-07-01"), ("2025-07-01", "2026-01-01"))
    did = causal.did_estimate(panel)
    naive = causal.naive_member_gap(panel)
    planted = truth["fan_group_effect"]["rate_multiplier"] - 1
    assert abs(did.relative_effect - planted) <= 0.08, did.relative_effect
    assert did.ci_low <= truth["fan_group_effect"]["att_orders_h2"] <= did.ci_high
    assert naive.relative_effect > 3 * did.relative_effect
    # matching on the CRM view the invitations were based on (selection on observables)
    match = causal.matching_estimate(panel)
    assert abs(match.relative_effect - planted) <= 0.12, match.relative_effect
    assert match.ci_low <= planted <= match.ci_high


def test_channels_platform_roas_overstates_incremental(t, truth):
    m = t["marketing_daily"]
    g = m[m["spend"] > 0].groupby("channel", observed=True)[["platform_attributed_revenue", "spend"]].sum()
    platform = metrics.roas(g["platform_attributed_revenue"], g["spend"])
    for ch, tr in truth["channels"].items():
        assert platform[ch] > tr["incremental_roas"], ch
        assert platform[ch] == pytest.approx(tr["platform_roas"], rel=1e-3)


def test_checkout_incident_stands_out(t, truth):
    clean, _ = traffic.clean_events(t["events"])
    daily = kpi.daily_kpis(clean, t["orders"], by="device")
    # a retrospective review of one month: baseline = the days around each day
    from ecomlab.simulate import promo_calendar

    alerts = kpi.anomaly_alerts(daily, metrics=["cr"], by="device", baseline="centered",
                                calendar=kpi.promo_days(promo_calendar()))
    inc = truth["incident"]
    hit = alerts[(alerts["date"] == pd.Timestamp(inc["date"])) & (alerts["segment"] == inc["device"])]
    assert len(hit) == 1 and (hit["direction"] == "drop").all()
    assert hit["robust_z"].abs().iloc[0] == alerts["robust_z"].abs().max()
    # does not flood: the incident is (nearly) the only CR alert of the month
    assert len(alerts) <= 3


def test_personas_recovered_by_kmeans(t, truth):
    s = t["survey"]
    p = positioning.persona_clusters(s, k=4)
    labels = pd.Series(truth["personas"]["survey_persona_by_respondent"]).reindex(s["respondent_id"]).to_numpy()
    assert adjusted_rand_score(labels, p.labels) >= 0.5


def test_ctr_by_rank_curve(t, truth):
    k = t["keywords"]
    k = k[k["impressions"] > 0]
    ctr = k["clicks"] / k["impressions"]
    ok = ctr > 0
    slope, intercept, *_ = stats.linregress(np.log(k.loc[ok, "our_rank"]), np.log(ctr[ok]))
    assert abs(-slope - truth["ctr_by_rank"]["decay_exponent"]) <= 0.15
    assert abs(np.exp(intercept) / truth["ctr_by_rank"]["ctr_rank1"] - 1) <= 0.25


def test_returns_highest_for_bedding(t, truth):
    it = t["order_items"].merge(t["products"][["sku_id", "category"]], on="sku_id")
    r = t["returns"].merge(t["products"][["sku_id", "category"]], on="sku_id")
    rate = r.groupby("category", observed=True).size() / it.groupby("category", observed=True).size()
    assert rate.idxmax() == "bedding"
    for c, v in truth["returns"]["return_rate_by_category"].items():
        assert abs(rate[c] - v) <= 0.02, c


def test_market_growth_storage_fastest_decor_shrinking(t, truth):
    m = t["market"]
    y = m.groupby(["category", m["month"].dt.year], observed=True)["sales_amount"].sum().unstack()
    growth = y[2025] / y[2024] - 1
    assert growth.idxmax() == "storage" and growth.idxmin() == "decor" and growth["decor"] < 0
    st = t["search_trends"]
    sy = st.groupby(["category", st["week"].dt.year], observed=True)["search_index"].mean().unstack()
    assert (sy[2025] / sy[2024]).idxmax() == "storage"


def test_promo_lift_double11_largest(t, truth):
    daily = t["orders"].groupby(t["orders"]["order_ts"].dt.normalize()).size()
    base = daily.rolling(28, center=True, min_periods=7).median()
    lift = (daily / base).groupby(daily.index.strftime("%m-%d")).mean()
    assert lift.idxmax() == "11-11"


def test_stockouts_recorded_before_double11(t, truth):
    inv = t["inventory"]
    so = inv[inv["stockout"]]
    lost = (so["units_demanded"] - so["units_sold"]).groupby(so["sku_id"]).sum()
    assert lost.to_dict() == truth["stockouts"]["lost_units_by_sku"]
    near = so[(so["date"].dt.month.isin([10, 11]))]
    assert len(near) > 0
