"""Exercise bank ch05_kpi (lesson 05-1): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ecomlab import kpi, metrics, traffic
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch05_kpi as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    events = traffic.clean_events(ds.load("events"))[0]
    orders = ds.load("orders")
    return events, orders


def test_q1_android_cr_by_hand(tables):
    events, orders = tables
    day = pd.Timestamp("2025-11-20")
    ev = events[(events["ts"].dt.normalize() == day) & (events["device"] == "android")]
    p = metrics.placed_orders(orders)
    od = p[(p["order_ts"].dt.normalize() == day) & (p["device"] == "android")]
    right = od["customer_id"].nunique() / ev["visitor_id"].nunique()
    assert ex.q1.check(right).status == "correct"
    d = kpi.daily_kpis(events, orders, by="device")  # the helper agrees with the hand count
    assert d.loc[(d["date"] == day) & (d["device"] == "android"), "cr"].item() == pytest.approx(right)
    res = ex.q1.check(100 * right)
    assert res.status == "incorrect" and "fraction" in res.message
    # orders instead of buyers, or cancelled orders kept: both wrong
    all_od = orders[(orders["order_ts"].dt.normalize() == day) & (orders["device"] == "android")]
    per_order = len(od) / ev["visitor_id"].nunique()
    with_cancelled = all_od["customer_id"].nunique() / ev["visitor_id"].nunique()
    # the diagnosed mistake is exactly this one
    assert ex._android_orders_per_visitor() == pytest.approx(per_order)
    for wrong in {per_order, with_cancelled} - {right}:
        assert ex.q1.check(wrong).status == "incorrect"
    if per_order != right:
        assert "orders per visitor" in ex.q1.check(per_order).message
    else:  # the world drew no repeat Android buyer that day: the two counts cannot differ
        assert od["customer_id"].is_unique
    if with_cancelled == right:  # ... and no cancelled order from a new Android buyer
        assert not (set(all_od["customer_id"]) - set(od["customer_id"]))
    # the whole store's CR that day, not Android's
    tot = kpi.daily_kpis(events, orders)
    assert ex.q1.check(tot.loc[tot["date"] == day, "cr"].item()).status == "incorrect"


def _weeks(events, orders):
    return (kpi.period_kpis(events, orders, start="2025-11-17", end="2025-11-24"),
            kpi.period_kpis(events, orders, start="2025-11-24", end="2025-12-01"))


def test_q2_lmdi_cr_term_by_hand(tables):
    events, orders = tables
    w1, w2 = _weeks(events, orders)
    g0, g1 = w1["gmv"].item(), w2["gmv"].item()
    L = (g1 - g0) / math.log(g1 / g0)
    right = L * math.log(w2["cr"].item() / w1["cr"].item())
    assert ex.q2.check(right).status == "correct"
    assert right == pytest.approx(kpi.decompose_change(w1, w2)["cr_effect"].item())
    # before/after swapped: the sign flips
    res = ex.q2.check(-right)
    assert res.status == "incorrect" and "swapped" in res.message
    # Laspeyres "CR alone" term instead of LMDI
    lasp = w1["uv"].item() * (w2["cr"].item() - w1["cr"].item()) * w1["spend_per_buyer"].item()
    res = ex.q2.check(lasp)
    assert res.status == "incorrect" and "Laspeyres" in res.message
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
    g0 = before["uv"] * before["cr"] * before["spend_per_buyer"]
    g1 = after["uv"] * after["cr"] * after["spend_per_buyer"]
    L = g0 if g1 == g0 else (g1 - g0) / math.log(g1 / g0)
    return pd.Series({f: L * math.log(after[f] / before[f]) for f in ["uv", "cr", "spend_per_buyer"]})


def _lmdi_no_equal_case(before, after):  # forgets L(a, a) = a
    g0 = before["uv"] * before["cr"] * before["spend_per_buyer"]
    g1 = after["uv"] * after["cr"] * after["spend_per_buyer"]
    L = (g1 - g0) / math.log(g1 / g0)
    return pd.Series({f: L * math.log(after[f] / before[f]) for f in ["uv", "cr", "spend_per_buyer"]})


def _one_at_a_time(before, after):  # sequential substitution: leaves the order-dependent split
    uv0, cr0, a0 = before["uv"], before["cr"], before["spend_per_buyer"]
    uv1, cr1, a1 = after["uv"], after["cr"], after["spend_per_buyer"]
    return pd.Series({"uv": (uv1 - uv0) * cr0 * a0, "cr": uv1 * (cr1 - cr0) * a0,
                      "spend_per_buyer": uv1 * cr1 * (a1 - a0)})


def test_q4_lmdi_function():
    assert ex.q4.check(_lmdi_right).status == "correct"
    res = ex.q4.check(_lmdi_no_equal_case)
    assert res.status == "incorrect" and "ZeroDivisionError" in res.message
    res = ex.q4.check(_one_at_a_time)
    assert res.status == "incorrect" and "expected" in res.message and "case" in res.message
    assert ex.q4.check(lambda b, a: ____).status == "not_attempted"


def test_q5_robust_z_by_hand(tables):
    events, orders = tables
    by_device = kpi.daily_kpis(events, orders, by="device")
    a = by_device[by_device["device"] == "android"].set_index("date")["cr"]
    base = a["2025-11-12":"2025-11-30"].drop(pd.Timestamp("2025-11-20"))
    assert len(base) == 18
    m = base.median()
    mad = (base - m).abs().median()
    right = (a[pd.Timestamp("2025-11-20")] - m) / (1.4826 * mad)
    assert right < -3.5
    assert ex.q5.check(right).status == "correct"
    # typical mistakes: the standard deviation instead of the MAD; forgetting 1.4826;
    # the mean instead of the median; the day itself left in the baseline
    wrongs = [
        (a[pd.Timestamp("2025-11-20")] - base.mean()) / base.std(),
        (a[pd.Timestamp("2025-11-20")] - m) / mad,
        (a[pd.Timestamp("2025-11-20")] - base.mean()) / (1.4826 * mad),
    ]
    with_day = a["2025-11-12":"2025-11-30"]
    md = with_day.median()
    wrongs.append((a[pd.Timestamp("2025-11-20")] - md) / (1.4826 * (with_day - md).abs().median()))
    for w in wrongs:
        assert ex.q5.check(w).status == "incorrect", w
    assert "1.4826" in ex.q5.check(wrongs[1]).message
    assert "classic z-score" in ex.q5.check(wrongs[0]).message
    assert ex.q5.check(-right).status == "incorrect"


def test_baseline_days_helper():
    days = pd.date_range("2025-11-01", "2025-11-30")
    promo = kpi.promo_days(ex.PROMOTIONS)
    b = ex.baseline_days("2025-11-20", days, promo)
    assert list(b) == [d for d in pd.date_range("2025-11-12", "2025-11-30") if d != pd.Timestamp("2025-11-20")]
    assert len(ex.baseline_days("2025-11-05", days, promo)) == 8  # 12-19 Nov only
    assert len(ex.baseline_days("2025-11-20", days[:0], promo)) == 0


def test_q6_metrics_alerting_without_calendar(tables):
    events, orders = tables
    al = kpi.anomaly_alerts(kpi.daily_kpis(events, orders), baseline="centered", calendar=[])
    right = set(al.loc[al["date"] == "2025-11-11", "metric"])
    assert {"uv", "gmv"} <= right and "cr" not in right  # volumes flood, the rate does not
    assert ex.q6.check(right).status == "correct"
    res = ex.q6.check(right | {"cr"})
    assert res.status == "incorrect" and "cr" in res.message
    res = ex.q6.check({"gmv"})
    assert res.status == "incorrect" and "missing" in res.message.lower()
