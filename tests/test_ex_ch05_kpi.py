"""Exercise bank ch05_kpi (lesson 05-1): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ecomlab import kpi, traffic
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch05_kpi as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    events = traffic.clean_events(ds.load("events"))[0]
    orders = ds.load("orders")
    return events, orders


def test_q1_android_cr(tables):
    events, orders = tables
    d = kpi.daily_kpis(events, orders, by="device")
    row = d[(d["date"] == "2025-11-20") & (d["device"] == "android")]
    assert ex.q1.check(row["cr"].item()).status == "correct"
    # as a percentage: told to give a fraction
    res = ex.q1.check(100 * row["cr"].item())
    assert res.status == "incorrect" and "fraction" in res.message
    # the whole store's CR that day, not Android's
    tot = kpi.daily_kpis(events, orders)
    wrong = tot.loc[tot["date"] == "2025-11-20", "cr"].item()
    assert ex.q1.check(wrong).status == "incorrect"


def test_q2_week_over_week_cr_effect(tables):
    events, orders = tables
    w1 = kpi.period_kpis(events, orders, start="2025-11-17", end="2025-11-24")
    w2 = kpi.period_kpis(events, orders, start="2025-11-24", end="2025-12-01")
    right = kpi.decompose_change(w1, w2)["cr_effect"].item()
    assert ex.q2.check(right).status == "correct"
    # before/after swapped: the sign flips
    res = ex.q2.check(kpi.decompose_change(w2, w1)["cr_effect"].item())
    assert res.status == "incorrect" and "too low" in res.message
    # summing daily UV (a visitor counted every day) gives a different CR
    d = kpi.daily_kpis(events, orders).set_index("date")
    wk = lambda a, b: d.loc[a:b, ["uv", "buyers", "gmv"]].sum()  # noqa: E731
    res = ex.q2.check(kpi.decompose_change(wk("2025-11-17", "2025-11-23"),
                                           wk("2025-11-24", "2025-11-30"))["cr_effect"])
    assert res.status == "incorrect"


def test_q3_source(tables):
    events, orders = tables
    d = kpi.daily_kpis(events, orders, by="source")
    day = lambda s: d[d["date"] == s].drop(columns="date")  # noqa: E731
    dd = kpi.drilldown(day("2025-11-13"), day("2025-11-20")).drop(index="Total")
    assert ex.q3.check(dd["cr_effect"].idxmin()).status == "correct"
    # the source with the largest GMV drop is a different (typical wrong) reading
    wrong = dd["delta_gmv"].idxmin()
    assert wrong != dd["cr_effect"].idxmin()
    assert ex.q3.check(wrong).status == "incorrect"
    res = ex.q3.check("android")
    assert res.status == "incorrect" and "search_ads" in res.message  # lists the choices


def _lmdi_right(before, after):
    g0 = before["uv"] * before["cr"] * before["aov"]
    g1 = after["uv"] * after["cr"] * after["aov"]
    L = g0 if g1 == g0 else (g1 - g0) / math.log(g1 / g0)
    return pd.Series({f: L * math.log(after[f] / before[f]) for f in ["uv", "cr", "aov"]})


def _lmdi_no_equal_case(before, after):  # forgets L(a, a) = a
    g0 = before["uv"] * before["cr"] * before["aov"]
    g1 = after["uv"] * after["cr"] * after["aov"]
    L = (g1 - g0) / math.log(g1 / g0)
    return pd.Series({f: L * math.log(after[f] / before[f]) for f in ["uv", "cr", "aov"]})


def _one_at_a_time(before, after):  # sequential substitution: leaves the order-dependent split
    uv0, cr0, a0 = before["uv"], before["cr"], before["aov"]
    uv1, cr1, a1 = after["uv"], after["cr"], after["aov"]
    return pd.Series({"uv": (uv1 - uv0) * cr0 * a0, "cr": uv1 * (cr1 - cr0) * a0,
                      "aov": uv1 * cr1 * (a1 - a0)})


def test_q4_lmdi_function():
    assert ex.q4.check(_lmdi_right).status == "correct"
    res = ex.q4.check(_lmdi_no_equal_case)
    assert res.status == "incorrect" and "ZeroDivisionError" in res.message
    res = ex.q4.check(_one_at_a_time)
    assert res.status == "incorrect" and "expected" in res.message and "case" in res.message
    assert ex.q4.check(lambda b, a: ____).status == "not_attempted"


def test_q5_metrics_alerting_without_calendar(tables):
    events, orders = tables
    al = kpi.anomaly_alerts(kpi.daily_kpis(events, orders), baseline="centered", calendar=[])
    right = set(al.loc[al["date"] == "2025-11-11", "metric"])
    assert {"uv", "gmv"} <= right and "cr" not in right  # volumes flood, the rate does not
    assert ex.q5.check(right).status == "correct"
    res = ex.q5.check(right | {"cr"})
    assert res.status == "incorrect" and "cr" in res.message
    res = ex.q5.check({"gmv"})
    assert res.status == "incorrect" and "missing" in res.message.lower()
