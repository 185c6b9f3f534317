"""ecomlab.traffic_quality: value per visitor, click economics and visitor type, by hand,
on edge cases and hostile input, plus the KPI identity value per visitor = GMV / UV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from ecomlab import traffic_quality as tq

W = dict(start="2025-11-01", end="2025-12-01")


def _events():
    return pd.DataFrame({
        "visitor_id": ["v1", "v1", "v2", "v3", "v3", "v4", "v5"],
        "event": ["pv", "buy", "pv", "pv", "buy", "pv", "pv"],
        "source": ["ads", "ads", "ads", "ads", "ads", "seo", None],
    })


def _orders():
    return pd.DataFrame({
        "customer_id": ["c1", "c1", "c3", "c9", "c8"],
        "order_ts": pd.to_datetime(["2025-11-02", "2025-11-20", "2025-11-05", "2025-10-30", "2025-11-06"]),
        "traffic_source": ["ads", "ads", "ads", "ads", "ads"],
        "status": ["completed", "refunded", "completed", "completed", "cancelled"],
        "paid_amount": [100.0, 50.0, 90.0, 999.0, 500.0],
    })


def test_visitor_value_by_hand():
    t = tq.visitor_value(_events(), _orders(), by="source", order_by="traffic_source", **W).set_index("source")
    ads = t.loc["ads"]
    assert (ads["visitors"], ads["buyers"]) == (3, 2)
    assert ads["cr"] == pytest.approx(2 / 3)
    lo, hi = proportion_confint(2, 3, alpha=0.05, method="wilson")
    assert (ads["cr_lo"], ads["cr_hi"]) == pytest.approx((lo, hi))
    # placed orders in the window: c1 100 + 50 (refunded counts in GMV), c3 90; c9 outside, c8 cancelled
    assert ads["gmv"] == pytest.approx(240.0)
    assert ads["paying_customers"] == 2
    assert ads["spend_per_buyer"] == pytest.approx(120.0)
    assert ads["value_per_visitor"] == pytest.approx(240.0 / 3)  # = GMV / UV
    assert ads["vpv_lo"] < ads["value_per_visitor"] < ads["vpv_hi"]
    assert t.attrs["orders_in_window"] == 3
    # a missing source is its own segment, never dropped; a segment without buyers has no value
    assert t.loc["missing", "visitors"] == 1 and t.loc["missing", "buyers"] == 0
    assert np.isnan(t.loc["seo", "spend_per_buyer"]) and t.loc["seo", "cr"] == 0


def test_delta_interval_by_hand():
    ev = pd.DataFrame({"visitor_id": [f"v{i}" for i in range(100)] + ["v0", "v1"],
                       "event": ["pv"] * 100 + ["buy", "buy"], "source": ["a"] * 102})
    od = pd.DataFrame({"customer_id": ["c0", "c1"], "order_ts": pd.to_datetime(["2025-11-02", "2025-11-03"]),
                       "source": ["a", "a"], "status": ["completed"] * 2, "paid_amount": [100.0, 300.0]})
    r = tq.visitor_value(ev, od, by="source", **W).iloc[0]
    cr, spb, s = 0.02, 200.0, np.std([100.0, 300.0], ddof=1)
    se = cr * spb * np.sqrt((1 - cr) / (100 * cr) + s**2 / (2 * spb**2))
    assert r["value_per_visitor"] == pytest.approx(4.0)
    assert r["vpv_hi"] - r["value_per_visitor"] == pytest.approx(1.959964 * se, rel=1e-5)


def test_a_segment_only_in_orders_is_kept_and_has_no_cr():
    od = _orders().assign(traffic_source=["ads", "ads", "live", "ads", "ads"])
    t = tq.visitor_value(_events(), od, by="source", order_by="traffic_source", **W).set_index("source")
    assert t.loc["live", "visitors"] == 0 and np.isnan(t.loc["live", "cr"])
    assert t.loc["live", "gmv"] == pytest.approx(90.0)


@pytest.mark.parametrize("change, match", [
    (lambda e, o: (e.drop(columns="event"), o), r"events.*event"),
    (lambda e, o: (e, o.drop(columns="paid_amount")), r"orders.*paid_amount"),
    (lambda e, o: (e.iloc[:0], o), "empty"),
    (lambda e, o: (e.assign(visitor_id=[None] + list(e["visitor_id"][1:])), o), "visitor_id"),
    (lambda e, o: (e, o.assign(order_ts=o["order_ts"].astype(str))), "datetime64"),
    (lambda e, o: (e, o.assign(paid_amount=o["paid_amount"].astype(str))), "numeric"),
    (lambda e, o: (e, o.assign(customer_id=[None, "c1", "c3", "c9", "c8"])), "customer_id"),
])
def test_visitor_value_hostile_input(change, match):
    e, o = change(_events(), _orders())
    with pytest.raises(ValueError, match=match):
        tq.visitor_value(e, o, by="source", order_by="traffic_source", **W)


def test_visitor_value_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        tq.visitor_value(_events(), _orders(), by="source", order_by="traffic_source", alpha=1.5, **W)
    with pytest.raises(ValueError, match="before end"):
        tq.visitor_value(_events(), _orders(), by="source", order_by="traffic_source", start="2025-12-01", end="2025-11-01")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["a", "b", "c"]), st.booleans(),
                          st.floats(1, 1000)), min_size=1, max_size=60))
def test_value_per_visitor_is_gmv_per_visitor(rows):
    ev = pd.DataFrame({"visitor_id": [f"v{v}" for v, *_ in rows], "source": [s for _, s, *_ in rows],
                       "event": ["buy" if b else "pv" for _, _, b, _ in rows]})
    buys = [(v, s, x) for v, s, b, x in rows if b]
    od = pd.DataFrame({"customer_id": [f"v{v}" for v, _, _ in buys], "source": [s for _, s, _ in buys],
                       "order_ts": pd.Timestamp("2025-11-10"), "status": "completed",
                       "paid_amount": [x for *_, x in buys]})
    t = tq.visitor_value(ev, od, by="source", **W).set_index("source")
    has = t["buyers"] > 0
    assert np.allclose(t.loc[has, "value_per_visitor"], t.loc[has, "gmv"] / t.loc[has, "visitors"])
    assert (t["cr_lo"] <= t["cr"] + 1e-12).all() and (t["cr"] <= t["cr_hi"] + 1e-12).all()
    assert (t["buyers"] <= t["visitors"]).all()


def _mkt():
    return pd.DataFrame({"channel": ["a", "a", "a", "b", "org"],
                         "date": pd.to_datetime(["2025-10-31", "2025-11-01", "2025-11-02", "2025-11-01", "2025-11-01"]),
                         "spend": [999.0, 100.0, 50.0, 30.0, 0.0], "clicks": [1, 100, 50, 10, 500]})


def test_click_economics_by_hand():
    ce = tq.click_economics(_mkt(), pd.Series({"a": 3.0, "b": 1.5, "org": 2.0}), **W)
    assert list(ce.index) == ["a", "b"]
    assert ce.loc["a", "cpc"] == pytest.approx(1.0)  # 150 / 150: the day before the window is out
    assert ce.loc["b", "value_to_cost"] == pytest.approx(0.5)
    assert ce.attrs["unpaid_channels"] == ["org"]


def test_click_economics_hostile_input():
    with pytest.raises(ValueError, match="no value for paid channel"):
        tq.click_economics(_mkt(), pd.Series({"a": 3.0}), **W)
    with pytest.raises(ValueError, match="negative"):
        tq.click_economics(_mkt().assign(spend=[-1.0, 1, 1, 1, 0]), pd.Series({"a": 3.0, "b": 1.0}), **W)
    with pytest.raises(ValueError, match="no clicks"):
        tq.click_economics(_mkt().assign(clicks=[1, 0, 0, 10, 5]), pd.Series({"a": 3.0, "b": 1.0}), **W)
    with pytest.raises(ValueError, match="no rows"):
        tq.click_economics(_mkt(), pd.Series({"a": 3.0, "b": 1.0}), start="2024-01-01", end="2024-02-01")
    with pytest.raises(ValueError, match=r"marketing_daily.*clicks"):
        tq.click_economics(_mkt().drop(columns="clicks"), pd.Series({"a": 3.0}), **W)
    with pytest.raises(ValueError, match="numeric"):
        tq.click_economics(_mkt().assign(spend="x"), pd.Series({"a": 3.0}), **W)


def test_visitor_type_uses_the_first_event_in_time_order():
    ev = pd.DataFrame({"visitor_id": ["a", "b", "a", "c"], "customer_id": ["C1", "C2", None, None],
                       "ts": pd.to_datetime(["2025-11-02", "2025-11-01", "2025-11-01", "2025-11-03"])},
                      index=[10, 11, 12, 13])
    out = tq.visitor_type(ev)
    assert out.to_dict() == {10: "new", 11: "returning", 12: "new", 13: "new"}
    with pytest.raises(ValueError, match="datetime64"):
        tq.visitor_type(ev.assign(ts=ev["ts"].astype(str)))
    with pytest.raises(ValueError, match="customer_id"):
        tq.visitor_type(ev.drop(columns="customer_id"))
