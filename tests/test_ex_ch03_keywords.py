"""Exercise bank ch03_keywords (lesson 03-2): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pytest

from ecomlab import search
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch03_keywords as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    kw = ds.load("keywords")
    gp = search.profit_per_order(ds.load("orders"), ds.load("order_items"), ds.load("products"))
    return kw, search.fit_ctr_curve(kw), gp


def test_q1_ctr_at_rank_from_the_curve(tables):
    kw, power, _ = tables
    right = power.a * 5 ** -power.b
    assert ex.q1.check(right).status == "correct"
    assert ex.q1.check(power.predict(5)).status == "correct"
    # the exponent's sign flipped
    res = ex.q1.check(power.a * 5 ** power.b)
    assert res.status == "incorrect" and "sign" in res.message
    # the observed CTR at rank 5 instead of the curve
    at5 = kw.loc[kw["our_rank"] == 5]
    observed = at5["clicks"].sum() / at5["impressions"].sum()
    assert abs(observed - right) > 1e-3 * right
    assert ex.q1.check(observed).status == "incorrect"
    res = ex.q1.check(100 * right)
    assert res.status == "incorrect" and "percent" in res.message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_opportunity_by_the_formula(tables):
    kw, power, gp = tables
    row = kw.set_index("keyword").loc["storage box"]
    assert row["our_rank"] > 3  # a better rank exists, so the gain is not zero
    g = power.a * 3 ** -power.b - power.a * row["our_rank"] ** -power.b
    cr = row["orders"] / row["clicks"]
    profit = gp.loc[row["category"], "profit_per_order"]
    right = row["monthly_searches"] * g * (cr * profit - row["cpc"])
    assert ex.q2.check(right).status == "correct"
    no_cost = row["monthly_searches"] * g * cr * profit
    res = ex.q2.check(no_cost)
    assert res.status == "incorrect" and "cost" in res.message
    on_impressions = row["impressions"] * g * (cr * profit - row["cpc"])
    res = ex.q2.check(on_impressions)
    assert res.status == "incorrect" and "impressions" in res.message
    assert ex.q2.check("12000").status == "incorrect"


def test_q3_break_even_cpc(tables):
    kw, _, gp = tables
    row = kw.set_index("keyword").loc["nonstick pan"]
    profit = gp.loc[row["category"], "profit_per_order"]
    right = row["orders"] / row["clicks"] * profit
    assert ex.q3.check(right).status == "correct"
    assert ex.q3.check(float(search.break_even_cpc(row["orders"] / row["clicks"], profit)[0])).status == "correct"
    res = ex.q3.check(profit)
    assert res.status == "incorrect" and "per click" in res.message
    cat = kw.loc[kw["category"] == row["category"]]
    cat_be = cat["orders"].sum() / cat["clicks"].sum() * profit
    assert abs(cat_be - right) > 1e-3 * right
    res = ex.q3.check(cat_be)
    assert res.status == "incorrect" and "category" in res.message


def test_q4_keywords_bid_above_break_even(tables):
    kw, _, gp = tables
    k = kw.loc[kw["category"] == "bedding"]
    be = k["orders"] / k["clicks"] * gp.loc["bedding", "profit_per_order"]
    right = k.loc[k["cpc"] > be, "keyword"].tolist()
    assert 0 < len(right) < len(k)
    assert ex.q4.check(right).status == "correct"
    assert ex.q4.check(k.loc[k["cpc"] > be]).status == "correct"  # a frame with a keyword column
    # the reverse comparison: the profitable ones
    assert ex.q4.check(k.loc[k["cpc"] <= be, "keyword"].tolist()).status == "incorrect"
    # one missing
    res = ex.q4.check(right[1:])
    assert res.status == "incorrect" and right[0] in res.message
    assert ex.q4.check(____).status == "not_attempted"


def test_expected_answers_are_finite():
    use_data(None)
    for v in (ex.ctr_at_rank(), ex.break_even()):
        assert np.isfinite(v) and v > 0
    assert isinstance(ex.bid_above(), set)
