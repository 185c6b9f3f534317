"""ecomlab.selection: per-SKU margin after discounts and returns, ABC classes, weighted score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecomlab import selection


def _world():
    items = pd.DataFrame({"order_id": ["o1", "o1", "o2", "o3"], "sku_id": ["a", "b", "a", "b"],
                          "quantity": [1, 2, 1, 1], "unit_price": [100.0, 50.0, 100.0, 50.0]})
    orders = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "status": ["completed", "refunded", "cancelled"],
                           "order_ts": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"]),
                           "items_amount": [200.0, 100.0, 50.0], "discount_amount": [20.0, 0.0, 0.0]})
    products = pd.DataFrame({"sku_id": ["a", "b", "c"], "category": ["x", "y", "y"],
                             "unit_cost": [40.0, 20.0, 5.0]})
    rets = pd.DataFrame({"order_id": ["o2"], "sku_id": ["a"], "refund_amount": [100.0]})
    return items, orders, products, rets


def test_sku_margin_by_hand():
    m = selection.sku_margin(*_world())
    t = m.table.set_index("sku_id")
    # a: o1 100 - 10 discount, cost 40; o2 100 refunded, returned unit restocked (cost 0)
    assert t.loc["a", "gmv"] == 200 and t.loc["a", "discount"] == pytest.approx(10)
    assert t.loc["a", "net_sales"] == pytest.approx(90) and t.loc["a", "gross_margin"] == pytest.approx(50)
    assert t.loc["a", "return_rate"] == 0.5
    # b: the cancelled order o3 is left out and counted
    assert t.loc["b", "units"] == 2 and m.excluded["cancelled_orders"] == 1
    # c sold nothing: a row of zeros, no margin rate
    assert t.loc["c", "gmv"] == 0 and np.isnan(t.loc["c", "margin_rate"])
    # every return written off: a's margin falls by its unit cost
    w = selection.sku_margin(*_world(), resold=0.0).table.set_index("sku_id")
    assert w.loc["a", "gross_margin"] == pytest.approx(10)


def test_sku_margin_window_and_unmatched_returns():
    items, orders, products, rets = _world()
    m = selection.sku_margin(items, orders, products, rets, start="2025-01-01", end="2025-01-02")
    assert m.excluded["orders_outside_window"] == 1           # o2; the cancelled o3 is counted apart
    assert m.excluded["returns_without_a_line_in_window"] == 1
    assert m.table.set_index("sku_id").loc["a", "refunds"] == 0


def test_sku_margin_totals_add_up_on_bundled_data():
    from ecomlab import datasets as ds

    oi, o, p, r = ds.load("order_items"), ds.load("orders"), ds.load("products"), ds.load("returns")
    t = selection.sku_margin(oi, o, p, r).table
    placed = o[o["status"] != "cancelled"]
    assert t["gmv"].sum() == pytest.approx(placed["items_amount"].sum(), rel=1e-9)
    assert t["discount"].sum() == pytest.approx(placed["discount_amount"].sum(), rel=1e-9)
    assert t["refunds"].sum() == pytest.approx(r["refund_amount"].sum(), rel=1e-9)
    assert len(t) == len(p)


@pytest.mark.parametrize("bad, match", [
    (lambda w: (w[0].drop(columns="quantity"), *w[1:]), "order_items"),
    (lambda w: (w[0].assign(quantity=w[0]["quantity"].astype(str)), *w[1:]), r"order_items\.quantity must be numeric"),
    (lambda w: (w[0], w[1], pd.concat([w[2], w[2].iloc[:1]]), w[3]), "products.sku_id must be unique"),
    (lambda w: (w[0].assign(sku_id=["a", "zz", "a", "b"]), *w[1:]), "not in products.*'zz'"),
])
def test_sku_margin_rejects_hostile_input(bad, match):
    with pytest.raises(ValueError, match=match):
        selection.sku_margin(*bad(_world()))
    with pytest.raises(ValueError, match="resold"):
        selection.sku_margin(*_world(), resold=1.5)


def test_abc_classes_edge_cases():
    one = selection.abc_classes(pd.Series({"x": 3.0}))
    assert one["class"].tolist() == ["A"] and one["cum_share"].iloc[0] == 1
    neg = selection.abc_classes(pd.Series({"x": 10.0, "y": -5.0, "z": 0.0}))
    assert neg.loc["y", "class"] == "C" and neg.loc["z", "class"] == "C" and neg.loc["x", "class"] == "A"
    # the item that crosses a cut stays in the class below it
    exact = selection.abc_classes(pd.Series({"x": 50.0, "y": 30.0, "z": 15.0, "w": 5.0}))
    assert exact["class"].tolist() == ["A", "A", "B", "C"]
    for bad, match in [(pd.Series(dtype=float), "positive total"), (pd.Series({"x": -1.0}), "positive total"),
                       (pd.Series({"x": np.nan, "y": 1.0}), "missing"), (pd.Series(["1", "2"]), "numeric"),
                       (pd.Series([1.0, 2.0], index=["x", "x"]), "unique"), ([1.0, 2.0], "Series")]:
        with pytest.raises(ValueError, match=match):
            selection.abc_classes(bad)
    with pytest.raises(ValueError, match="0 < a < b"):
        selection.abc_classes(pd.Series({"x": 1.0}), a=0.9, b=0.8)


values = st.lists(st.floats(-50, 1e6, allow_nan=False), min_size=1, max_size=60).filter(lambda v: max(v) > 0)


@given(values, st.floats(0.05, 0.9))
def test_abc_classes_partition_and_monotone(v, a):
    s = pd.Series(v, index=[f"s{i}" for i in range(len(v))])
    out = selection.abc_classes(s, a=a, b=min(a + 0.05, 1.0))
    assert sorted(out.index) == sorted(s.index)                       # every SKU exactly once
    assert set(out["class"]) <= {"A", "B", "C"}
    assert out["cum_share"].is_monotonic_increasing                   # cumulative share monotone
    assert out["cum_share"].iloc[-1] == pytest.approx(1.0)
    assert out["value"].is_monotonic_decreasing
    order = out["class"].map({"A": 0, "B": 1, "C": 2})
    assert order.is_monotonic_increasing                              # A before B before C
    assert out["class"].iloc[0] == "A"                                # the largest is always A
    assert (out.loc[out["value"] <= 0, "class"] == "C").all()


def test_weighted_score_and_validation():
    f = pd.DataFrame({"m": [1.0, 2.0, 3.0], "r": [0.3, np.nan, 0.1]}, index=["a", "b", "c"])
    s = selection.weighted_score(f, {"m": 1.0, "r": -1.0})
    assert s.index[0] == "c" and s.attrs["imputed"] == 1
    assert s.between(-1, 1).all()
    for w, match in [({}, "at least one"), ({"zz": 1.0}, "missing from features"), ({"m": 0.0}, "not all zero")]:
        with pytest.raises(ValueError, match=match):
            selection.weighted_score(f, w)
    with pytest.raises(ValueError, match="non-empty"):
        selection.weighted_score(f.iloc[:0], {"m": 1.0})
    with pytest.raises(ValueError, match="numeric"):
        selection.weighted_score(f.assign(m=list("xyz")), {"m": 1.0})


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 1)), min_size=3, max_size=30, unique=True),
       st.floats(0.1, 5))
def test_weighted_score_scale_free(rows, k):
    f = pd.DataFrame(rows, columns=["m", "g"])
    a = selection.weighted_score(f, {"m": 2.0, "g": 1.0})
    b = selection.weighted_score(f, {"m": 2.0 * k, "g": 1.0 * k})      # scaling all weights changes nothing
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())


def test_score_sensitivity():
    f = pd.DataFrame({"m": np.arange(10.0), "g": np.arange(10.0)[::-1] ** 0.5}, index=list("abcdefghij"))
    out = selection.score_sensitivity(f, {"m": 3.0, "g": 1.0}, top=3)
    assert len(out) == 3 and (out["scenarios"] == 4).all() and out["survives"].all()
    # two criteria that disagree and equal weights: the top pick depends on the weights
    g = pd.DataFrame({"m": [1.0, 2.0, 3.0, 4.0], "g": [4.0, 3.0, 2.0, 1.0]}, index=list("abcd"))
    fragile = selection.score_sensitivity(g, {"m": 1.0, "g": 1.0}, top=1)
    assert not fragile["survives"].iloc[0]
    with pytest.raises(ValueError, match="top"):
        selection.score_sensitivity(f, {"m": 1.0}, top=0)
    with pytest.raises(ValueError, match="change"):
        selection.score_sensitivity(f, {"m": 1.0}, change=1.5)
