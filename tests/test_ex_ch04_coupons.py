"""Exercise bank ch04_coupons (lesson 04-3): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import pytest

from ecomlab import causal, datasets, metrics, users
from ecomlab import exercises as exr
from ecomlab.exercises import ____
from ecomlab.exercises import ch04_coupons as ex


@pytest.fixture(scope="module")
def campaign():
    exr.use_data(None)
    return datasets.load("coupon_campaign")


@pytest.fixture(scope="module")
def panel():
    exr.use_data(None)
    return causal.fan_group_panel(datasets.load("orders"), datasets.load("customers"), "2025-07-01",
                                  ("2025-01-01", "2025-07-01"), ("2025-07-01", "2026-01-01"))


def test_q1_lapsing_uplift(campaign):
    t = users.uplift_by_segment(campaign).set_index("segment")
    assert ex.q1.check(t.loc["lapsing", "uplift"])
    r = ex.q1.check(t.loc["lapsing", "response_rate_treated"])  # response, not uplift
    assert r.status == "incorrect" and "too high" in r.message
    r = ex.q1.check(100 * t.loc["lapsing", "uplift"])
    assert r.status == "incorrect" and "percentage" in r.message


def test_q2_bonferroni_segments(campaign):
    t = users.uplift_by_segment(campaign, alpha=0.05 / 5)
    t = t[t["segment"] != "all"]
    right = set(t.loc[t["ci_low"] > 0, "segment"])
    assert right == {"at_risk", "lapsing"}
    assert ex.q2.check(right) and ex.q2.check(sorted(right))
    u = users.uplift_by_segment(campaign, alpha=0.05)  # unadjusted: 'new' sneaks in
    u = u[u["segment"] != "all"]
    unadjusted = set(u.loc[u["ci_low"] > 0, "segment"])
    assert unadjusted != right
    r = ex.q2.check(unadjusted)
    assert r.status == "incorrect" and "extra" in r.message and "new" in r.message
    r = ex.q2.check(set(u.loc[u["ci_low"] > 0, "segment"]) | {"all"})
    assert r.status == "incorrect"


def test_q3_uplift_function():
    assert ex.q3.check(ex.uplift)

    def response_rate(campaign):
        return float(campaign.loc[campaign["treatment"], "purchased_30d"].mean())

    r = ex.q3.check(response_rate)
    assert r.status == "incorrect" and "case 1" in r.message

    def reversed_sign(campaign):
        return -ex.uplift(campaign)

    assert ex.q3.check(reversed_sign).status == "incorrect"

    def unfinished(campaign):
        return ____

    assert ex.q3.check(unfinished).status == "not_attempted"


def test_q4_pre_period_gap(panel):
    pre = panel[panel["post"] == 0].groupby("joined")[["orders", "exposure_days"]].sum()
    rate = pre["orders"] / pre["exposure_days"]
    right = rate[1] / rate[0] - 1
    assert right > 1  # joiners bought far more before the groups existed
    assert ex.q4.check(right)
    naive_post = causal.naive_member_gap(panel).relative_effect  # the post-period gap
    r = ex.q4.check(naive_post)
    assert r.status == "incorrect" and "too high" in r.message
    assert ex.q4.check(rate[1] / rate[0]).status == "incorrect"  # forgot the − 1


def test_q5_margin_rate():
    orders, items, products = (datasets.load(n) for n in ("orders", "order_items", "products"))
    sold = items.merge(metrics.valid_orders(orders)[["order_id"]], on="order_id")
    cost = sold["sku_id"].map(products.set_index("sku_id")["unit_cost"])
    revenue, cogs = (sold["quantity"] * sold["unit_price"]).sum(), (sold["quantity"] * cost).sum()
    assert ex.q5.check(metrics.gross_margin(revenue, cogs))
    assert ex.q5.check(cogs / revenue).status == "incorrect"  # cost share, not margin
    r = ex.q5.check(revenue / cogs - 1)  # markup
    assert r.status == "incorrect" and "too high" in r.message
    at_list = metrics.gross_margin((sold["quantity"] * sold["list_price"]).sum(), cogs)
    assert ex.q5.check(at_list).status == "incorrect"  # list price, not the price paid


def test_q6_did_assumption():
    assert ex.q6.check("parallel trends") and ex.q6.check("Parallel Trends")
    r = ex.q6.check("no unmeasured confounders given the matched covariates")
    assert r.status == "incorrect"
    r = ex.q6.check("common support")
    assert r.status == "incorrect" and "options" in r.message
