"""Exercise bank ch02_selection (lesson 02-1): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import pandas as pd
import pytest

from ecomlab import selection
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch02_selection as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    return {n: ds.load(n) for n in ("products", "orders", "order_items", "returns")}


@pytest.fixture(scope="module")
def cur(tables):
    return selection.sku_margin(tables["order_items"], tables["orders"], tables["products"], tables["returns"],
                                start="2025-01-01", end="2026-01-01", resold=ex.RESOLD).table


def test_q1_abc_by_hand(cur):
    gm = cur.set_index("sku_id")["gross_margin"].sort_values(ascending=False)
    pos = gm.clip(lower=0)
    before = (pos.cumsum() - pos) / pos.sum()
    right = int(((before < 0.8) & (gm > 0)).sum())
    assert ex.q1.check(right).status == "correct"
    # cumulative share including the SKU itself: one fewer
    incl = int(((pos.cumsum() / pos.sum() < 0.8) & (gm > 0)).sum())
    assert incl == right - 1
    res = ex.q1.check(incl)
    assert res.status == "incorrect" and "crosses" in res.message
    by_gmv = int((selection.abc_classes(cur.set_index("sku_id")["gmv"])["class"] == "A").sum())
    if by_gmv != right:
        res = ex.q1.check(by_gmv)
        assert res.status == "incorrect" and "GMV" in res.message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_margin_of_the_top_sku_from_raw_tables(tables):
    o, items, rets, prods = tables["orders"], tables["order_items"], tables["returns"], tables["products"]
    o = o[(o["status"] != "cancelled") & (o["order_ts"] >= "2025-01-01") & (o["order_ts"] < "2026-01-01")]
    x = items.merge(o[["order_id", "items_amount", "discount_amount"]], on="order_id")
    x["gmv"] = x["quantity"] * x["unit_price"]
    top = x.groupby("sku_id")["gmv"].sum().idxmax()
    x = x[x["sku_id"] == top].merge(rets[["order_id", "sku_id", "refund_amount"]], on=["order_id", "sku_id"],
                                    how="left")
    returned = x["quantity"].where(x["refund_amount"].notna(), 0)
    cost = prods.set_index("sku_id").loc[top, "unit_cost"]
    base = x["gmv"] - x["discount_amount"] * x["gmv"] / x["items_amount"] - x["refund_amount"].fillna(0)
    right = float((base - cost * (x["quantity"] - 0.5 * returned)).sum())
    assert ex.q2.check(right).status == "correct"
    # every return restocked: too high, diagnosed
    restocked = float((base - cost * (x["quantity"] - returned)).sum())
    res = ex.q2.check(restocked)
    assert res.status == "incorrect" and "written off" in res.message
    # coupons forgotten
    res = ex.q2.check(right + float((x["discount_amount"] * x["gmv"] / x["items_amount"]).sum()))
    assert res.status == "incorrect" and "discount" in res.message
    # GMV instead of margin
    assert ex.q2.check(float(x["gmv"].sum())).status == "incorrect"


def test_q3_score_function():
    def score(features, weights):
        w = pd.Series(weights, dtype=float)
        r = features[list(w.index)].rank(pct=True).fillna(0.5)
        return (r * w).sum(axis=1) / w.abs().sum()

    assert ex.q3.check(score).status == "correct"

    def no_abs(features, weights):  # divides by Σw: wrong with a negative weight
        w = pd.Series(weights, dtype=float)
        r = features[list(w.index)].rank(pct=True).fillna(0.5)
        return (r * w).sum(axis=1) / w.sum()

    assert ex.q3.check(no_abs).status == "incorrect"

    def drops_missing(features, weights):  # NaN ranks left as NaN
        w = pd.Series(weights, dtype=float)
        return (features[list(w.index)].rank(pct=True) * w).sum(axis=1, skipna=False) / w.abs().sum()

    assert ex.q3.check(drops_missing).status == "incorrect"
    assert ex.q3.check(____).status == "not_attempted"


def test_q4_rank_change():
    f = ex.features()
    base = selection.weighted_score(f, ex.WEIGHTS)
    new = selection.weighted_score(f, dict(ex.WEIGHTS, growth=ex.WEIGHTS["growth"] * 1.2))
    right = int(new.index.get_loc(base.index[ex.Q4_RANK - 1])) + 1
    assert right == ex.rank_after_change()
    assert ex.q4.check(right).status == "correct"
    assert right != ex.Q4_RANK, "the exercise must follow a SKU whose rank changes"
    res = ex.q4.check(ex.Q4_RANK)
    assert res.status == "incorrect" and "weight" in res.message
    assert ex.q4.check(right + 5).status == "incorrect"


def test_q5_category_with_most_returns():
    assert ex.q5.check("bedding").status == "correct"
    assert ex.q5.check("Bedding").status == "correct"
    assert ex.q5.check("decor").status == "incorrect"
    assert ex.q5.check("garden").status == "incorrect"


def test_expected_answers_are_finite():
    import math

    assert ex.a_by_margin() > 0
    assert math.isfinite(ex.top_sku_margin()) and ex.top_sku_margin() > 0
    assert ex.worst_return_category() == "bedding"
    assert ex.features().notna().all(axis=None) or ex.features()["growth"].notna().all()
