"""Exercise bank ch01_swot (lesson 01-3): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pytest

from ecomlab import metrics
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch01_swot as ex


@pytest.fixture(scope="module")
def t():
    use_data(None)
    from ecomlab import datasets as ds

    return {n: ds.load(n) for n in ("market", "search_trends", "orders", "order_items", "products", "returns")}


def test_q1_value_share(t):
    h2 = t["market"][t["market"]["month"] >= "2025-07-01"]
    st = h2[h2["category"] == "storage"]
    right = st.loc[st["brand"] == "Nestwell", "sales_amount"].sum() / st["sales_amount"].sum()
    assert ex.q1.check(right).status == "correct"
    res = ex.q1.check(st.loc[st["brand"] == "Nestwell", "units"].sum() / st["units"].sum())
    assert res.status == "incorrect" and "unit share" in res.message
    res = ex.q1.check(st.loc[st["brand"] == "Nestwell", "sales_amount"].sum() / h2["sales_amount"].sum())
    assert res.status == "incorrect" and "whole market" in res.message
    # the whole of 2025 instead of the months since the storage focus began (the share rose in July)
    m25 = t["market"][t["market"]["month"].dt.year == 2025]
    st25 = m25[m25["category"] == "storage"]
    year = st25.loc[st25["brand"] == "Nestwell", "sales_amount"].sum() / st25["sales_amount"].sum()
    assert right - year > 0.003
    res = ex.q1.check(year)
    assert res.status == "incorrect" and "whole year" in res.message
    # both years
    st2 = t["market"][t["market"]["category"] == "storage"]
    both = st2.loc[st2["brand"] == "Nestwell", "sales_amount"].sum() / st2["sales_amount"].sum()
    assert abs(both - right) > 1e-4 and ex.q1.check(both).status == "incorrect"
    res = ex.q1.check(100 * right)
    assert res.status == "incorrect" and "fraction" in res.message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_return_rate(t):
    skus = t["products"].loc[t["products"]["category"] == "decor", "sku_id"]
    items = t["order_items"]
    shipped = items[items["order_id"].isin(metrics.placed_orders(t["orders"])["order_id"])]
    right = t["returns"]["sku_id"].isin(skus).sum() / shipped["sku_id"].isin(skus).sum()
    assert ex.q2.check(right).status == "correct"
    # cancelled orders' lines in the denominator
    with_cancelled = t["returns"]["sku_id"].isin(skus).sum() / items["sku_id"].isin(skus).sum()
    assert abs(with_cancelled - right) > 1e-5
    res = ex.q2.check(with_cancelled)
    assert res.status == "incorrect" and "cancelled" in res.message
    res = ex.q2.check(len(t["returns"]) / len(shipped))
    assert res.status == "incorrect" and "all categories" in res.message
    # refund money over sales money is another metric
    assert ex.q2.check(0.0).status == "incorrect"


def test_q3_search_change(t):
    cl = t["search_trends"][t["search_trends"]["category"] == "cleaning"]
    a = cl.loc[cl["week"].dt.year == 2024, "search_index"].mean()
    b = cl.loc[cl["week"].dt.year == 2025, "search_index"].mean()
    assert ex.q3.check(b / a - 1).status == "correct"
    res = ex.q3.check(b / a)
    assert res.status == "incorrect" and "ratio" in res.message
    res = ex.q3.check(b - a)
    assert res.status == "incorrect" and "index points" in res.message


def test_q4_price_index(t):
    m = t["market"]
    k25 = m[(m["month"].dt.year == 2025) & (m["category"] == "kitchen")]
    hm = k25[k25["brand"] == "HomeMax"]
    vs, us = hm["sales_amount"].sum() / k25["sales_amount"].sum(), hm["units"].sum() / k25["units"].sum()
    assert ex.q4.check(vs / us).status == "correct"
    # the same as average price ÷ market average price
    assert ex.q4.check((hm["sales_amount"].sum() / hm["units"].sum())
                       / (k25["sales_amount"].sum() / k25["units"].sum())).status == "correct"
    res = ex.q4.check(us / vs)
    assert res.status == "incorrect" and "upside down" in res.message
    # the mean of monthly avg_price ratios is not the index
    naive = hm["avg_price"].mean() / k25["avg_price"].mean()
    assert abs(naive - vs / us) > 1e-3 and ex.q4.check(naive).status == "incorrect"


def test_q5_tows_label():
    assert ex.q5.check("SO").status == "correct"
    assert ex.q5.check(" so ").status == "correct"
    res = ex.q5.check("ST")
    assert res.status == "incorrect"
    res = ex.q5.check("OS")
    assert res.status == "incorrect" and "SO" in res.message


def test_expected_answers_are_finite():
    for f in (ex.value_share, ex.return_rate, ex.search_change, ex.price_index):
        v = f()
        assert np.isfinite(v) and v != 0, f.__name__
    assert 0 < ex.value_share() < 1 and 0 < ex.return_rate() < 1
