"""Exercise bank ch02_pricing (lesson 02-2): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import product
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch02_pricing as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    return {n: ds.load(n) for n in ("products", "orders", "order_items", "daily_prices")}


@pytest.fixture(scope="module")
def pp(tables):
    return product.price_points(tables["order_items"], tables["orders"], tables["daily_prices"], tables["products"])


@pytest.fixture(scope="module")
def pois(tables):
    p = product.sku_days(tables["order_items"], tables["orders"], tables["daily_prices"], tables["products"]).table
    return product.poisson_elasticity(product.week_cells(p, origin=p["date"].min())).table.set_index("category")


@pytest.fixture(scope="module")
def sku_cost(pp, tables):
    t = pp.table[pp.table["category"] == ex.CATEGORY]
    sku = t.groupby("sku_id")["units"].sum().idxmax()
    return sku, float(tables["products"].set_index("sku_id").loc[sku, "unit_cost"])


def test_q1_arc_elasticity_by_hand(pp, sku_cost):
    c = pp.table[(pp.table["sku_id"] == sku_cost[0]) & (pp.table["period"] == ex.PERIOD)].sort_values("price")
    assert len(c) >= 2
    p1, q1 = c["price"].iloc[0], c["units_per_day"].iloc[0]
    p2, q2 = c["price"].iloc[-1], c["units_per_day"].iloc[-1]
    right = ((q2 - q1) / ((q1 + q2) / 2)) / ((p2 - p1) / ((p1 + p2) / 2))
    assert right < -1  # storage is elastic
    assert ex.q1.check(right).status == "correct"
    slope = float(np.log(q2 / q1) / np.log(p2 / p1))
    res = ex.q1.check(slope)
    assert res.status == "incorrect" and "log-log" in res.message
    base = ((q2 - q1) / q1) / ((p2 - p1) / p1)
    res = ex.q1.check(base)
    assert res.status == "incorrect" and "midpoints" in res.message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_margin_optimal_price(pois, sku_cost):
    e = pois.loc[ex.CATEGORY, "elasticity"]
    c = sku_cost[1]
    assert ex.q2.check(c * e / (1 + e)).status == "correct"
    assert c * e / (1 + e) == pytest.approx(float(product.optimal_price(c, e)))
    res = ex.q2.check(c * (1 + e) / e)
    assert res.status == "incorrect" and "upside down" in res.message
    res = ex.q2.check(c * e / (1 + e) - c)
    assert res.status == "incorrect" and "markup" in res.message


def test_q3_upper_limit_from_the_ci(pois, sku_cost):
    c = sku_cost[1]
    hi = pois.loc[ex.CATEGORY, "ci_high"]
    lo = pois.loc[ex.CATEGORY, "ci_low"]
    assert ex.q3.check(c * hi / (1 + hi)).status == "correct"
    res = ex.q3.check(c * lo / (1 + lo))
    assert res.status == "incorrect" and "LOWER" in res.message


def test_q4_promotion_lift_from_raw_tables(tables):
    o = tables["orders"][tables["orders"]["status"] != "cancelled"]
    x = tables["order_items"].merge(o[["order_id", "order_ts"]], on="order_id")
    daily = x.groupby(x["order_ts"].dt.normalize())["quantity"].sum()
    s, e = pd.Timestamp(ex.WINDOW[0]), pd.Timestamp(ex.WINDOW[1])
    d = pd.Timedelta(days=1)
    right = daily.loc[s:e].mean() / daily.loc[s - 21 * d:s - 8 * d].mean()     # 14 days ending 7 before
    assert right > 1.5
    assert ex.q4.check(right).status == "correct"
    res = ex.q4.check(right - 1)
    assert res.status == "incorrect" and "ratio" in res.message
    dipped = daily.loc[s:e].mean() / daily.loc[s - 14 * d:s - d].mean()      # the days right before: dipped
    assert dipped > right + 0.1
    res = ex.q4.check(dipped)
    assert res.status == "incorrect" and "dipped" in res.message


def test_q5_categories_without_a_finite_optimum(pois):
    right = set(pois.index[pois["ci_high"] >= -1])
    assert "decor" in right
    assert ex.q5.check(right).status == "correct"
    assert ex.q5.check(right | {"storage"}).status == "incorrect"


def test_q6_pulled_forward_share_by_hand(tables):
    o = tables["orders"][tables["orders"]["status"] != "cancelled"]
    daily = o.groupby(o["order_ts"].dt.normalize()).size()
    promo_day = tables["daily_prices"].groupby("date")["on_promotion"].any()
    s, e = pd.Timestamp(ex.WINDOW[0]), pd.Timestamp(ex.WINDOW[1])
    d = pd.Timedelta(days=1)
    ref = daily.loc[s - 35 * d:s - 8 * d]
    base = ref[~promo_day.reindex(ref.index)].mean()
    extra = (daily.loc[s:e] - base).sum()
    before = (base - daily.loc[s - 7 * d:s - d]).sum()
    after = (base - daily.loc[e + d:e + 7 * d]).sum()
    right = (before + after) / extra
    assert 0.1 < right < 0.5           # a real dip: the world pulls 30% forward
    assert ex.q6.check(right).status == "correct"
    for wrong, word in [((before + after) / (extra + before + after), "extra plus dip"),
                        (after / extra, "before"), (before / extra, "after"),
                        (extra / (before + after), "upside down"), (100 * right, "fraction")]:
        res = ex.q6.check(wrong)
        assert res.status == "incorrect" and word in res.message, (wrong, res.message)
    assert ex.q6.check(____).status == "not_attempted"
