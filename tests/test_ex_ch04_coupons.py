"""Exercise bank ch04_coupons (lesson 04-4): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ecomlab import datasets, metrics, users
from ecomlab import exercises as exr
from ecomlab.exercises import ____
from ecomlab.exercises import ch04_coupons as ex


@pytest.fixture(scope="module")
def campaign():
    exr.use_data(None)
    return datasets.load("coupon_campaign")


def _seg(campaign, name):
    return campaign[campaign["segment_at_send"] == name]


def _margin_rate():
    orders, items, products = (datasets.load(n) for n in ("orders", "order_items", "products"))
    sold = items.merge(metrics.valid_orders(orders)[["order_id"]], on="order_id")
    cost = sold["sku_id"].map(products.set_index("sku_id")["unit_cost"])
    return metrics.gross_margin((sold["quantity"] * sold["unit_price"]).sum(), (sold["quantity"] * cost).sum())


def test_q1_lapsing_uplift(campaign):
    lap = _seg(campaign, "lapsing")
    rate = lap.groupby("treatment")["purchased_30d"].mean()
    right = rate[True] - rate[False]
    assert 0.09 < right < 0.12
    assert ex.q1.check(right)
    r = ex.q1.check(rate[True])  # the response rate, not the uplift
    assert r.status == "incorrect" and "too high" in r.message
    r = ex.q1.check(100 * right)
    assert r.status == "incorrect" and "percentage" in r.message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_wald_lower_bound_by_hand(campaign):
    risk = _seg(campaign, "at_risk")
    p = risk.groupby("treatment")["purchased_30d"].agg(["mean", "size"])
    u = p.loc[True, "mean"] - p.loc[False, "mean"]
    se = np.sqrt((p["mean"] * (1 - p["mean"]) / p["size"]).sum())
    right = u - stats.norm.ppf(0.995) * se
    assert ex.q2.check(right)
    assert ex.wald_interval(risk, 0.01)[0] == pytest.approx(right)
    r = ex.q2.check(u - 1.96 * se)  # the unadjusted 95% bound
    assert r.status == "incorrect" and "too high" in r.message
    newcombe = users.uplift_by_segment(risk, segment=None, outcome="purchased_30d", alpha=0.01)["ci_low"].item()
    assert ex.q2.check(newcombe).status == "incorrect"  # the helper's Newcombe bound is not Wald's
    se_wrong = np.sqrt((p["mean"] * (1 - p["mean"])).sum() / p["size"].sum())  # pooled n
    assert ex.q2.check(u - stats.norm.ppf(0.995) * se_wrong).status == "incorrect"


def test_q3_holm_by_hand(campaign):
    t = users.uplift_by_segment(campaign, segment="segment_at_send", outcome="purchased_30d")
    p = t[t["segment"] != "all"].set_index("segment")["p_value"]
    right = pd.Series(multipletests(p, method="holm")[1], index=p.index)
    assert ex.q3.check(right)
    assert ex.q3.check(right.sort_values())  # any row order, ids as the index
    assert not np.isnan(ex.q3.kind.expected).any()
    for wrong in (p, (p * len(p)).clip(upper=1)):  # unadjusted; Bonferroni instead of Holm
        r = ex.q3.check(wrong)
        assert r.status == "incorrect" and "expected" in r.message
    r = ex.q3.check(right.reset_index(drop=True))  # lost the segment labels
    assert r.status == "incorrect" and "index" in r.message
    assert ex.q3.check(____).status == "not_attempted"


def test_q4_break_even_uplift(campaign):
    margin = _margin_rate()
    gp_per_purchase = margin * campaign.loc[campaign["purchased_30d"] & ~campaign["treatment"], "revenue_30d"].mean()
    act = _seg(campaign, "active")
    redemption = act.loc[act["treatment"], "redeemed"].mean()
    right = redemption * 20 / gp_per_purchase
    assert 0.02 < right < 0.08
    assert ex.q4.check(right)
    r = ex.q4.check(act["redeemed"].mean() * 20 / gp_per_purchase)  # redemption over both arms
    assert r.status == "incorrect" and "too low" in r.message
    r = ex.q4.check(20 / gp_per_purchase)  # as if every coupon were redeemed
    assert r.status == "incorrect" and "too high" in r.message


def test_q5_qini_point(campaign):
    tgt = campaign[campaign["recency_days"] >= 91]
    t = tgt["treatment"]
    yt, nt = tgt.loc[t, "purchased_30d"].sum(), t.sum()
    yc, nc = tgt.loc[~t, "purchased_30d"].sum(), (~t).sum()
    right = yt - yc * nt / nc
    assert right > 0
    assert ex.q5.check(right) and ex.q5.check(float(right))
    # the same point from the library's Qini curve, scoring the targeted rows first
    curve = users.qini_curve((campaign["recency_days"] >= 91).astype(float), campaign["treatment"],
                             campaign["purchased_30d"])
    assert curve.loc[curve["n_targeted"] == len(tgt), "qini"].item() == pytest.approx(right)
    assert ex.q5.check(yt - yc).status == "incorrect"  # control buyers not rescaled
    assert ex.q5.check(yt / nt - yc / nc).status == "incorrect"  # a rate, not a count


def test_q6_profit_per_coupon_function():
    assert ex.q6.check(ex.profit_per_coupon)

    def treated_mean(campaign):  # the "response" of money: forgets the control group
        return float(campaign.loc[campaign["treatment"], "gross_profit_30d"].mean())

    r = ex.q6.check(treated_mean)
    assert r.status == "incorrect" and "case 1" in r.message

    def reversed_sign(campaign):
        return -ex.profit_per_coupon(campaign)

    assert ex.q6.check(reversed_sign).status == "incorrect"

    def unfinished(campaign):
        return ____

    assert ex.q6.check(unfinished).status == "not_attempted"


def test_wald_interval_doctest_values():
    f = pd.DataFrame({"treatment": [True] * 4 + [False] * 4, "purchased_30d": [1, 1, 0, 0, 1, 0, 0, 0]})
    low, high = ex.wald_interval(f, 0.05)
    assert (low + high) / 2 == pytest.approx(0.25)
    assert high - low == pytest.approx(2 * 1.959964 * np.sqrt(0.25 / 4 + 0.1875 / 4), rel=1e-5)
