"""Tests for ecomlab.kpi (lesson 05-1): KPI table, LMDI decomposition, drill-down, alerts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import kpi, metrics


def _toy(seed=0, n_vis=400, days=5):
    rng = np.random.default_rng(seed)
    n_ev = 3000
    ev = pd.DataFrame({
        "visitor_id": pd.Series([f"V{i}" for i in rng.integers(0, n_vis, n_ev)], dtype="str"),
        "ts": pd.Timestamp("2025-11-01") + pd.to_timedelta(rng.integers(0, days * 86400, n_ev), unit="s"),
        "device": pd.Categorical(rng.choice(["ios", "android", "pc", None], n_ev, p=[.4, .4, .15, .05]), categories=["ios", "android", "pc"]),
        "source": pd.Categorical(rng.choice(["direct", "feed_ads"], n_ev)),
    })
    n_o = 120
    od = pd.DataFrame({
        "order_id": [f"O{i}" for i in range(n_o)],
        "customer_id": pd.Series([f"C{i}" for i in rng.integers(0, 60, n_o)], dtype="str"),
        "order_ts": pd.Timestamp("2025-10-30") + pd.to_timedelta(rng.integers(0, (days + 3) * 86400, n_o), unit="s"),
        "status": pd.Categorical(rng.choice(["completed", "cancelled", "refunded"], n_o, p=[.85, .1, .05])),
        "paid_amount": rng.gamma(2, 80, n_o),
        "device": pd.Categorical(rng.choice(["ios", "android", "pc", None], n_o), categories=["ios", "android", "pc"]),
        "traffic_source": pd.Categorical(rng.choice(["direct", "feed_ads"], n_o)),
    })
    return ev, od


def test_daily_kpis_definitions_and_identity():
    ev, od = _toy()
    d = kpi.daily_kpis(ev, od)
    assert list(d["date"]) == list(pd.date_range("2025-11-01", periods=5))
    # independent pandas computation
    day = ev["ts"].dt.normalize()
    uv = ev.groupby(day)["visitor_id"].nunique()
    placed = metrics.placed_orders(od)
    placed = placed[placed["order_ts"].dt.normalize().isin(uv.index)]
    pday = placed["order_ts"].dt.normalize()
    buyers = placed.groupby(pday)["customer_id"].nunique().reindex(uv.index, fill_value=0)
    gmv = placed.groupby(pday)["paid_amount"].sum().reindex(uv.index, fill_value=0.0)
    np.testing.assert_array_equal(d["uv"], uv.to_numpy())
    np.testing.assert_array_equal(d["buyers"], buyers.to_numpy())
    np.testing.assert_allclose(d["gmv"], gmv.to_numpy())
    np.testing.assert_allclose(d["uv"] * d["cr"] * d["spend_per_buyer"], d["gmv"], rtol=1e-12)
    ex = d.attrs["excluded"]
    assert ex["cancelled_orders"] == int((od["status"] == "cancelled").sum())
    assert ex["orders_on_days_without_events"] == len(metrics.placed_orders(od)) - len(placed)


@pytest.mark.parametrize("by,col", [("device", "device"), ("source", "source"), ("traffic_source", "source")])
def test_daily_kpis_by_segment_consistent(by, col):
    ev, od = _toy()
    tot = kpi.daily_kpis(ev, od)
    seg = kpi.daily_kpis(ev, od, by=by)
    assert col in seg.columns
    g = seg.groupby("date")["gmv"].sum().to_numpy()
    np.testing.assert_allclose(g, tot["gmv"].to_numpy())  # GMV adds up over segments
    assert (seg.groupby("date")["uv"].sum().to_numpy() >= tot["uv"].to_numpy()).all()
    if by == "device":
        assert "missing" in set(seg["device"].astype(str))  # missing device kept


def test_daily_kpis_validation():
    ev, od = _toy()
    with pytest.raises(ValueError, match="by must be"):
        kpi.daily_kpis(ev, od, by="city")
    with pytest.raises(ValueError, match="missing column"):
        kpi.daily_kpis(ev.drop(columns="visitor_id"), od)
    with pytest.raises(ValueError, match="datetime64"):
        kpi.daily_kpis(ev.assign(ts=ev["ts"].astype(str)), od)
    with pytest.raises(ValueError, match="empty"):
        kpi.daily_kpis(ev.iloc[:0], od)
    # more buyers than visitors -> clear error, or NaN with warn
    one = ev.iloc[:1]
    many = od.assign(order_ts=one["ts"].iloc[0], status="completed")
    with pytest.raises(ValueError, match="more buyers"):
        kpi.daily_kpis(one, many)
    with pytest.warns(UserWarning):
        d = kpi.daily_kpis(one, many, on_inconsistent="warn")
    assert d["cr"].isna().all()


def test_period_kpis_uv_is_distinct_over_period():
    ev, od = _toy()
    p = kpi.period_kpis(ev, od, start="2025-11-01", end="2025-11-04")
    sub = ev[(ev["ts"] >= "2025-11-01") & (ev["ts"] < "2025-11-04")]
    assert p["uv"].iloc[0] == sub["visitor_id"].nunique()
    assert p.attrs["excluded"]["events_outside_window"] == len(ev) - len(sub)


factor = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(factor, st.floats(1e-4, 1.0), factor, factor, st.floats(1e-4, 1.0), factor)
def test_lmdi_exact_and_symmetric(uv0, cr0, aov0, uv1, cr1, aov1):
    b = {"uv": uv0, "cr": cr0, "spend_per_buyer": aov0}
    a = {"uv": uv1, "cr": cr1, "spend_per_buyer": aov1}
    r = kpi.decompose_change(b, a)
    total = r["uv_effect"] + r["cr_effect"] + r["spend_per_buyer_effect"]
    scale = max(abs(r["gmv_before"]), abs(r["gmv_after"]))
    assert abs(total - r["delta_gmv"]) <= 1e-9 * scale
    back = kpi.decompose_change(a, b)
    for c in ("uv_effect", "cr_effect", "spend_per_buyer_effect"):
        assert back[c] == pytest.approx(-r[c], rel=1e-9, abs=1e-9 * scale)


def test_lmdi_known_values_and_vectorised():
    b = pd.DataFrame({"uv": [1000.0, 500.0], "cr": [0.03, 0.02], "spend_per_buyer": [200.0, 100.0]}, index=["wk1", "wk2"])
    a = pd.DataFrame({"uv": [1100.0, 500.0], "cr": [0.027, 0.02], "spend_per_buyer": [210.0, 100.0]}, index=["wk1", "wk2"])
    r = kpi.decompose_change(b, a)
    L = (6237.0 - 6000.0) / np.log(6237.0 / 6000.0)
    assert r.loc["wk1", "uv_effect"] == pytest.approx(L * np.log(1.1))
    assert r.loc["wk1", "cr_effect"] == pytest.approx(L * np.log(0.9))
    assert (r.loc["wk2", ["uv_effect", "cr_effect", "spend_per_buyer_effect", "delta_gmv"]] == 0).all()
    # buyers/gmv inputs give the same answer
    b2 = pd.DataFrame({"uv": [1000.0], "buyers": [30.0], "gmv": [6000.0]})
    a2 = pd.DataFrame({"uv": [1100.0], "buyers": [29.7], "gmv": [6237.0]})
    r2 = kpi.decompose_change(b2, a2)
    assert r2["cr_effect"].iloc[0] == pytest.approx(r.loc["wk1", "cr_effect"])


def test_lmdi_zero_handling():
    b = {"uv": 100.0, "cr": 0.05, "spend_per_buyer": 80.0}
    a = {"uv": 100.0, "buyers": 0.0, "gmv": 0.0}
    r = kpi.decompose_change(b, a)
    assert r["cr_effect"] == pytest.approx(-400.0) and r["uv_effect"] == 0 and r["spend_per_buyer_effect"] == 0
    with pytest.raises(ValueError, match="zero"):
        kpi.decompose_change(b, a, zero="raise")
    with pytest.raises(ValueError, match=">= 0"):
        kpi.decompose_change(b, {"uv": -1.0, "cr": 0.1, "spend_per_buyer": 1.0})
    with pytest.raises(ValueError, match="needs keys"):
        kpi.decompose_change(b, {"uv": 1.0})
    with pytest.raises(ValueError, match="uv \\* cr \\* spend_per_buyer"):
        kpi.decompose_change(b, {"uv": 1.0, "cr": 0.1, "spend_per_buyer": 1.0, "gmv": 5.0})
    with pytest.raises(ValueError, match="same index"):
        kpi.decompose_change(pd.DataFrame([b], index=[0]), pd.DataFrame([b], index=[1]))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 50), st.floats(1, 500),
                          st.integers(1, 5000), st.integers(0, 50), st.floats(1, 500)), min_size=1, max_size=6))
def test_drilldown_adds_up(rows):
    segs = [f"s{i}" for i in range(len(rows))]
    b = pd.DataFrame({"device": segs, "uv": [r[0] for r in rows], "buyers": [min(r[1], r[0]) for r in rows]})
    b["gmv"] = b["buyers"] * [r[2] for r in rows]
    a = pd.DataFrame({"device": segs, "uv": [r[3] for r in rows], "buyers": [min(r[4], r[3]) for r in rows]})
    a["gmv"] = a["buyers"] * [r[5] for r in rows]
    d = kpi.drilldown(b, a)
    body = d.drop(index="Total")
    scale = max(b["gmv"].sum(), a["gmv"].sum(), 1.0)
    assert abs(body["delta_gmv"].sum() - (a["gmv"].sum() - b["gmv"].sum())) <= 1e-9 * scale
    eff = body[["uv_effect", "cr_effect", "spend_per_buyer_effect"]].sum(axis=1)
    np.testing.assert_allclose(eff, body["delta_gmv"], atol=1e-9 * scale)


def test_drilldown_new_segment_and_gmv_only():
    b = pd.DataFrame({"category": ["storage", "decor"], "gmv": [100.0, 50.0]})
    a = pd.DataFrame({"category": ["storage", "bath"], "gmv": [160.0, 10.0]})
    d = kpi.drilldown(b, a)
    assert d.loc["Total", "delta_gmv"] == pytest.approx(20.0)
    assert d.loc["decor", "gmv_after"] == 0 and d.loc["bath", "gmv_before"] == 0
    assert d.loc["storage", "share_of_delta"] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="duplicated"):
        kpi.drilldown(pd.concat([b, b]), a)


#: A promotion calendar passed explicitly, as the lessons do (no built-in calendar in kpi).
WINDOWS = [("618", "2025-06-01", "2025-06-18"), ("99", "2025-09-09", "2025-09-09"),
           ("双11", "2025-10-31", "2025-11-11"), ("双12", "2025-12-12", "2025-12-12")]
PROMO = kpi.promo_days(WINDOWS)


def test_promo_days_from_windows_or_frame():
    for day in ["2025-10-31", "2025-11-11", "2025-06-18", "2025-09-09", "2025-12-12"]:
        assert pd.Timestamp(day) in PROMO
    for day in ["2025-11-12", "2025-06-19", "2025-10-30"]:
        assert pd.Timestamp(day) not in PROMO
    assert len(PROMO) == 18 + 1 + 12 + 1 and PROMO.is_monotonic_increasing and PROMO.is_unique
    frame = pd.DataFrame({"name": [w[0] for w in WINDOWS],
                          "start_date": pd.to_datetime([w[1] for w in WINDOWS]),
                          "end_date": pd.to_datetime([w[2] for w in WINDOWS])})
    assert kpi.promo_days(frame).equals(PROMO)
    assert kpi.promo_days(frame.rename(columns={"start_date": "start", "end_date": "end"})).equals(PROMO)
    assert len(kpi.promo_days([])) == 0
    # overlapping windows count a day once
    assert len(kpi.promo_days([("a", "2025-01-01", "2025-01-03"), ("b", "2025-01-03", "2025-01-04")])) == 4
    with pytest.raises(ValueError, match="before it starts"):
        kpi.promo_days([("x", "2025-11-11", "2025-11-01")])
    with pytest.raises(ValueError, match="name, first day, last day"):
        kpi.promo_days([("2025-11-11",)])
    with pytest.raises(ValueError, match="start_date"):
        kpi.promo_days(frame.drop(columns="end_date"))
    with pytest.raises(ValueError, match="string"):
        kpi.promo_days("2025-11-11")
    assert not hasattr(kpi, "PROMO_DAYS_2024_2025")  # no hidden Nestwell calendar


def test_anomaly_alerts_need_an_explicit_calendar():
    df = _simulated_daily(days=60)
    with pytest.raises(TypeError, match="calendar"):
        kpi.anomaly_alerts(df, by="device", metrics=["cr"])  # required keyword
    with pytest.raises(ValueError, match="calendar is required"):
        kpi.anomaly_alerts(df, by="device", metrics=["cr"], calendar=None)
    off = kpi.anomaly_alerts(df, by="device", metrics=["cr"], calendar=[], return_all=True)
    on = kpi.anomaly_alerts(df, by="device", metrics=["cr"], calendar=PROMO, return_all=True)
    assert off.attrs["promo_days_skipped"] == 0 and on.attrs["promo_days_skipped"] > 0
    assert not on["date"].isin(PROMO).any() and off["date"].isin(PROMO).any()


def test_anomaly_alerts_zero_baseline_gives_no_infinite_z():
    """A segment with 0 buyers every day has MAD = 0 and median 0: no z-score exists.
    The day is not scored (never z = inf), and a change from that constant is reported."""
    dates = pd.date_range("2025-09-01", periods=40)
    buyers = np.zeros(40)
    buyers[30] = 2.0  # the first buyers ever in this tiny segment
    s = pd.Series(buyers, index=dates, name="buyers")
    al = kpi.anomaly_alerts(s, calendar=[], min_history=14, return_all=True)
    assert np.isfinite(al["robust_z"]).all()
    assert len(al) == 0  # every candidate day has a zero-spread baseline
    assert al.attrs["days_zero_spread"] == 40 - 14
    changes = al.attrs["zero_spread_changes"]
    assert len(changes) == 1 and changes[0][0] == dates[30] and changes[0][3] == 2.0 and changes[0][4] == 0.0
    # a rate at 0 with the binomial floor: e = 0 gives se = 0, still no inf
    df = pd.DataFrame({"date": dates, "uv": 50, "buyers": buyers, "cr": buyers / 50})
    r = kpi.anomaly_alerts(df, metrics=["cr"], calendar=[], rate_denominators={"cr": "uv"}, return_all=True)
    assert np.isfinite(r["robust_z"]).all() and r.attrs["days_zero_spread"] > 0
    # a non-zero constant baseline is still scored (1% floor), so no regression there
    flat = pd.Series(100.0, index=dates, name="uv")
    flat.iloc[35] = 50.0
    fl = kpi.anomaly_alerts(flat, calendar=[])
    assert list(fl["date"]) == [dates[35]] and np.isfinite(fl["robust_z"]).all()


def _simulated_daily(planted=True, days=70, seed=3):
    """Daily CR per device with weekday seasonality, a 双11 window and a planted incident."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-09-20", periods=days)
    rows = []
    wd_factor = np.array([1.0, 0.97, 0.98, 1.0, 1.05, 1.15, 1.12])
    promo = dates.isin(PROMO)
    for dev, base, uv in (("ios", 0.035, 6000), ("android", 0.030, 7000), ("pc", 0.025, 2000)):
        u = rng.poisson(uv * wd_factor[dates.day_of_week] * np.where(promo, 2.5, 1.0))
        p = base * wd_factor[dates.day_of_week] * np.where(promo, 1.8, 1.0)
        if planted and dev == "android":
            p = np.where(dates == pd.Timestamp("2025-11-20"), p * 0.4, p)
        b = rng.binomial(u, p)
        rows.append(pd.DataFrame({"date": dates, "device": dev, "uv": u, "buyers": b, "cr": b / u}))
    return pd.concat(rows, ignore_index=True)


def test_anomaly_alerts_find_planted_android_drop_and_not_promo():
    df = _simulated_daily()
    al = kpi.anomaly_alerts(df, calendar=PROMO, by="device", metrics=["cr"], z=3.5, min_history=14)
    hit = al[(al["date"] == "2025-11-20") & (al["segment"] == "android")]
    assert len(hit) == 1 and hit["direction"].iloc[0] == "drop" and hit["robust_z"].iloc[0] < -3.5
    assert not al["date"].isin(PROMO).any()  # no flood on 双11
    assert len(al) <= 3
    assert al.attrs["promo_days_skipped"] > 0
    # without the incident: (almost) silent
    quiet = kpi.anomaly_alerts(_simulated_daily(planted=False), calendar=PROMO, by="device", metrics=["cr"])
    assert len(quiet) <= 2


def test_anomaly_alerts_centered_and_all_rows():
    df = _simulated_daily()
    al = kpi.anomaly_alerts(df, calendar=PROMO, by="device", metrics=["cr"], baseline="centered", return_all=True)
    assert {"alert", "expected", "rel_change"} <= set(al.columns)
    hit = al[(al["date"] == "2025-11-20") & (al["segment"] == "android")]
    assert bool(hit["alert"].iloc[0])
    assert hit["rel_change"].iloc[0] < -0.4


def test_anomaly_alerts_validation():
    df = _simulated_daily(days=30)
    with pytest.raises(ValueError, match="duplicated"):
        kpi.anomaly_alerts(df, calendar=PROMO, metrics=["cr"])  # three devices per day without by
    with pytest.raises(ValueError, match="numeric"):
        kpi.anomaly_alerts(df.assign(cr=df["cr"].astype(str)), calendar=PROMO, by="device", metrics=["cr"])
    with pytest.raises(ValueError, match="min_history"):
        kpi.anomaly_alerts(df, calendar=PROMO, by="device", min_history=1)
    with pytest.raises(ValueError, match="segment column"):
        kpi.anomaly_alerts(df, calendar=PROMO, by="city")
    empty = kpi.anomaly_alerts(df[df["device"] == "pc"].head(5), calendar=PROMO, by="device", metrics=["cr"])
    assert len(empty) == 0 and list(empty.columns[:6]) == ["date", "segment", "metric", "value", "expected", "robust_z"]


# --- GMV by category (allocation of paid_amount to lines) ----------------------------
def _orders_items():
    od = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "customer_id": ["c1", "c2", "c1", "c3"],
        "order_ts": pd.to_datetime(["2025-11-11 10:00", "2025-11-11 12:00", "2025-11-12 09:00", "2025-11-11 13:00"]),
        "status": ["completed", "refunded", "completed", "cancelled"],
        "paid_amount": [90.0, 50.0, 30.0, 999.0],
    })
    oi = pd.DataFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o3", "o4"],
        "sku_id": ["a", "b", "a", "b", "c", "a"],
        "quantity": [1, 2, 1, 1, 1, 5],
        "unit_price": [60.0, 20.0, 40.0, 0.0, 0.0, 10.0],
    })
    pr = pd.DataFrame({"sku_id": ["a", "b", "c"],
                       "category": pd.Categorical(["storage", "bath", "bath"], categories=["storage", "bath", "decor"])})
    return od, oi, pr


def test_allocate_paid_amount_rule_and_totals():
    od, oi, _ = _orders_items()
    lines = kpi.allocate_paid_amount(od, oi)
    assert "o4" not in set(lines["order_id"])  # cancelled: not GMV
    got = lines.set_index(["order_id", "sku_id"])["line_paid_amount"]
    assert got[("o1", "a")] == pytest.approx(90.0 * 60 / 100) and got[("o1", "b")] == pytest.approx(36.0)
    assert got[("o3", "b")] == pytest.approx(15.0) and got[("o3", "c")] == pytest.approx(15.0)  # all-zero lines: equal split
    per_order = lines.groupby("order_id")["line_paid_amount"].sum()
    expected = metrics.placed_orders(od).set_index("order_id")["paid_amount"]
    np.testing.assert_allclose(per_order.reindex(expected.index), expected)
    assert lines.attrs["orders_without_lines"] == 0
    no_lines = kpi.allocate_paid_amount(od, oi[oi["order_id"] != "o2"])
    assert no_lines.attrs["orders_without_lines"] == 1


def test_allocate_paid_amount_validation():
    od, oi, _ = _orders_items()
    with pytest.raises(ValueError, match="missing column"):
        kpi.allocate_paid_amount(od, oi.drop(columns="unit_price"))
    with pytest.raises(ValueError, match=">= 0"):
        kpi.allocate_paid_amount(od, oi.assign(quantity=-1))
    with pytest.raises(ValueError, match="duplicates"):
        kpi.allocate_paid_amount(pd.concat([od, od]), oi)


def test_category_gmv_adds_up_and_keeps_every_category():
    od, oi, pr = _orders_items()
    c = kpi.category_gmv(od, oi, pr, start="2025-11-11", end="2025-11-12")
    assert list(c["category"]) == ["storage", "bath", "decor"]
    day = od[(od["order_ts"] >= "2025-11-11") & (od["order_ts"] < "2025-11-12")]
    assert c["gmv"].sum() == pytest.approx(metrics.gmv(day))
    assert c.set_index("category").loc["decor", "gmv"] == 0
    assert c.set_index("category").loc["storage", "orders"] == 2  # o1 and o2
    d = kpi.drilldown(c[["category", "gmv"]], kpi.category_gmv(od, oi, pr)[["category", "gmv"]])
    assert d.loc["Total", "delta_gmv"] == pytest.approx(30.0)
    with pytest.raises(ValueError, match="not in products"):
        kpi.category_gmv(od, oi, pr[pr["sku_id"] != "c"])
    with pytest.raises(ValueError, match="duplicates"):
        kpi.category_gmv(od, oi, pd.concat([pr, pr]))


def test_category_gmv_matches_daily_gmv_on_bundled_data():
    from ecomlab import datasets as ds

    od, oi, pr = ds.load("orders"), ds.load("order_items"), ds.load("products")
    c = kpi.category_gmv(od, oi, pr, start="2025-11-11", end="2025-11-12")
    day = od[(od["order_ts"] >= "2025-11-11") & (od["order_ts"] < "2025-11-12")]
    assert c["gmv"].sum() == pytest.approx(metrics.gmv(day), rel=1e-12)


# --- sampling-noise floor for rate metrics --------------------------------------------
def test_rate_denominators_floor_suppresses_noise_not_incidents():
    df = _simulated_daily()
    # a small segment: shrink pc's traffic so its daily CR is mostly sampling noise
    small = df.assign(uv=np.where(df["device"] == "pc", 300, df["uv"]))
    plain = kpi.anomaly_alerts(small, calendar=PROMO, by="device", metrics=["cr"], return_all=True)
    floored = kpi.anomaly_alerts(small, calendar=PROMO, by="device", metrics=["cr"], return_all=True,
                                 rate_denominators={"cr": "uv"})
    assert (floored["robust_z"].abs() <= plain["robust_z"].abs() + 1e-12).all()  # floor only widens the scale
    pc_plain = plain[plain["segment"] == "pc"]["robust_z"].abs()
    pc_floor = floored[floored["segment"] == "pc"]["robust_z"].abs()
    assert pc_floor.max() < pc_plain.max()
    hit = floored[(floored["date"] == "2025-11-20") & (floored["segment"] == "android")]
    assert bool(hit["alert"].iloc[0])  # the 60% drop survives the floor
    # every scored row: the implied scale (|value - expected| / |z|) is at least the binomial SE
    rows = floored.merge(small[["date", "device", "uv"]], left_on=["date", "segment"], right_on=["date", "device"])
    rows = rows[rows["robust_z"].abs() > 1e-9]
    se = np.sqrt(rows["expected"] * (1 - rows["expected"]) / rows["uv"])
    implied = (rows["value"] - rows["expected"]).abs() / rows["robust_z"].abs()
    assert (implied >= se * (1 - 1e-9)).all()
    assert "binomial noise floor" in floored.attrs["rule"]


def test_rate_denominators_validation():
    df = _simulated_daily(days=30)
    with pytest.raises(ValueError, match="not scored"):
        kpi.anomaly_alerts(df, calendar=PROMO, by="device", metrics=["uv"], rate_denominators={"cr": "uv"})
    with pytest.raises(ValueError, match="count column"):
        kpi.anomaly_alerts(df, calendar=PROMO, by="device", metrics=["cr"], rate_denominators={"cr": "visits"})
    with pytest.raises(ValueError, match=r"rate in \[0, 1\]"):
        kpi.anomaly_alerts(df, calendar=PROMO, by="device", metrics=["uv"], rate_denominators={"uv": "buyers"})
    s = df[df["device"] == "ios"].set_index("date")["cr"]
    with pytest.raises(ValueError, match="DataFrame"):
        kpi.anomaly_alerts(s, calendar=PROMO, rate_denominators={"cr": "uv"})


def test_daily_kpis_on_zone_aware_timestamps_use_the_local_day():
    """A shop export in its own zone (Asia/Shanghai) gives the same table as the same
    wall-clock times stored naive: days are local days, not UTC days."""
    ev, od = _toy()
    tz = "Asia/Shanghai"
    aware = kpi.daily_kpis(ev.assign(ts=ev["ts"].dt.tz_localize(tz)),
                           od.assign(order_ts=od["order_ts"].dt.tz_localize(tz)))
    naive = kpi.daily_kpis(ev, od)
    cols = ["uv", "buyers", "orders", "gmv"]
    pd.testing.assert_frame_equal(aware[cols].reset_index(drop=True), naive[cols].reset_index(drop=True))
