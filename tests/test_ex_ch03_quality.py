"""Exercise bank ch03_quality (lesson 03-3): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from ecomlab import metrics, traffic
from ecomlab import traffic_quality as tq
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch03_quality as ex


@pytest.fixture(scope="module")
def t():
    use_data(None)
    from ecomlab import datasets as ds

    ev, orders, mkt = ds.load("events"), ds.load("orders"), ds.load("marketing_daily")
    start, end = traffic.event_window(ev)
    clean = traffic.clean_events(ev, start, end)[0]
    src = tq.visitor_value(clean, orders, by="source", order_by="traffic_source", start=start, end=end)
    return clean, orders, mkt, start, end, src.set_index("source")


def _src(clean, name):
    return clean[clean["source"] == name]


def test_q1_value_per_visitor(t):
    clean, orders, _, start, end, src = t
    s = _src(clean, "live_stream")
    n, b = s["visitor_id"].nunique(), s.loc[s["event"] == "buy", "visitor_id"].nunique()
    o = metrics.placed_orders(orders[(orders["order_ts"] >= start) & (orders["order_ts"] < end)])
    o = o[o["traffic_source"] == "live_stream"]
    right = b / n * o["paid_amount"].sum() / o["customer_id"].nunique()
    assert right == pytest.approx(src.loc["live_stream", "value_per_visitor"])
    assert ex.q1.check(right).status == "correct"
    per_session = o["paid_amount"].sum() / s["session_id"].nunique()
    res = ex.q1.check(per_session)
    assert res.status == "incorrect" and "session" in res.message
    assert ex.q1.check(b / n).status == "incorrect"
    # all orders ever, not the window's
    assert ex.q1.check(b / n * orders.loc[orders["traffic_source"] == "live_stream", "paid_amount"].mean()).status == "incorrect"
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_wilson_lower_limit(t):
    clean, *_ = t
    s = _src(clean, "social_seeding")
    n, k = s["visitor_id"].nunique(), s.loc[s["event"] == "buy", "visitor_id"].nunique()
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert ex.q2.check(lo).status == "correct"
    p = k / n
    res = ex.q2.check(p - 1.96 * np.sqrt(p * (1 - p) / n))
    assert res.status == "incorrect" and "Wald" in res.message
    assert ex.q2.check(hi).status == "incorrect"
    assert ex.q2.check(proportion_confint(k, n, alpha=0.10, method="wilson")[0]).status == "incorrect"
    assert ex.q2.check(____).status == "not_attempted"


def test_q3_value_per_click_against_cpc(t):
    _, _, mkt, start, end, src = t
    m = mkt[(mkt["channel"] == "feed_ads") & (mkt["date"] >= start) & (mkt["date"] < end)]
    cpc = m["spend"].sum() / m["clicks"].sum()
    right = src.loc["feed_ads", "value_per_visitor"] / cpc
    assert ex.q3.check(right).status == "correct"
    res = ex.q3.check(1 / right)
    assert res.status == "incorrect" and "upside down" in res.message
    every = mkt[mkt["channel"] == "feed_ads"]
    wrong = src.loc["feed_ads", "value_per_visitor"] / (every["spend"].sum() / every["clicks"].sum())
    assert abs(wrong - right) > 0.005 * right  # outside the question's 0.5% tolerance
    res = ex.q3.check(wrong)
    assert res.status == "incorrect" and "window" in res.message
    assert ex.q3.check(____).status == "not_attempted"


def test_q4_new_vs_returning_gap(t):
    clean, *_ = t
    first = clean.sort_values("ts", kind="stable").drop_duplicates("visitor_id")
    returning = set(first.loc[first["customer_id"].notna(), "visitor_id"])
    is_ret = clean["visitor_id"].isin(returning)
    buy = clean["event"] == "buy"
    cr_r = clean.loc[is_ret & buy, "visitor_id"].nunique() / clean.loc[is_ret, "visitor_id"].nunique()
    cr_n = clean.loc[~is_ret & buy, "visitor_id"].nunique() / clean.loc[~is_ret, "visitor_id"].nunique()
    right = cr_r - cr_n
    assert right > 0
    assert ex.q4.check(right).status == "correct"
    res = ex.q4.check(-right)
    assert res.status == "incorrect" and "sign" in res.message
    res = ex.q4.check(100 * right)
    assert res.status == "incorrect"
    assert ex.q4.check(____).status == "not_attempted"
