"""The KPI-tree metrics of ecomlab.engines (the kpi_tree template's big-table work):
``daily_kpis`` with ``by=`` a segment, ``period_kpis`` and ``orders_kpis`` give the same
tables through pandas, DuckDB and Spark (exact counts, sums to 1e-9 relative, the same
segment order) on the bundled world, on a generated hive-partitioned world with its
blemishes and on the traps: days without events or orders (zero rows, not missing), day
boundaries, NULL segment keys (kept as the segment 'missing', as ``kpi.daily_kpis`` keeps
them), NULL ids/amounts/timestamps (counted), integer division. The report built on them:
tests/test_engines_kpi_template.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engines import _ids, bundled_frames  # noqa: F401 (fixture)
from test_engines_templates import worlds  # noqa: F401 (fixture)

from ecomlab import datasets, engines, kpi, traffic
from ecomlab.datasets import data_path

# on_inconsistent="warn" cases warn about days with more buyers than visitors (that is their point)
pytestmark = pytest.mark.filterwarnings("ignore:.*more buyers \\(from orders\\) than UV:UserWarning")

#: (metric, params) compared on every engine
CASES = [
    ("daily_kpis", {"start": "2025-11-01", "end": "2025-12-01", "by": "device"}),
    ("daily_kpis", {"start": "2025-11-01", "end": "2025-12-01", "by": "source", "on_inconsistent": "warn"}),
    ("period_kpis", {"start": "2025-11-17", "end": "2025-11-24"}),
    ("period_kpis", {"start": "2025-11-01", "end": "2025-12-01", "by": "device"}),
    ("orders_kpis", {}),
    ("orders_kpis", {"daily": False}),
    ("orders_kpis", {"daily": False, "start": "2025-11-17", "end": "2025-11-24"}),
    ("orders_kpis", {"start": "2025-06-01", "end": "2025-06-20 12:00"}),
]


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    diffs = engines.differences(a, b)
    assert not diffs, "\n".join(diffs)
    for c in a.columns:  # the segment order is part of the result (the alerts table follows it)
        if isinstance(a[c].dtype, pd.CategoricalDtype):
            assert list(a[c].cat.categories) == list(b[c].cat.categories), c


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_bundled_world_pandas_equals_duckdb(case, bundled_frames) -> None:  # noqa: F811
    name, params = case
    ref = engines.compute(name, None, engine="pandas", frames=bundled_frames, **params)
    got = engines.compute(name, data_path(), engine="duckdb", **params)
    assert_same(ref, got)


def test_engine_tables_are_the_helpers_on_the_cleaned_log() -> None:
    """What the template computed before (the kpi helpers on traffic.clean_events' log, the
    orders grouped by day) is what the engine returns: same rows, segments, order."""
    ev, od = datasets.load("events"), datasets.load("orders")
    clean, report = traffic.clean_events(ev)
    lo, hi = report.attrs["window"]
    for by in (None, "device", "source"):
        ref = kpi.daily_kpis(clean, od, by=by, on_inconsistent="warn" if by == "source" else "raise")
        got = engines.compute("daily_kpis", data_path(), start=lo, end=hi, by=by,
                              on_inconsistent="warn" if by == "source" else "raise")
        cols = [c for c in ref.columns if c in got.columns]
        assert list(got.columns) == list(ref.columns)
        a = ref[cols].reset_index(drop=True).assign(date=ref["date"].astype("datetime64[us]"))
        a.attrs, b = {}, got[cols].copy()
        b.attrs = {}  # the rows left out differ by design: the helper was given the cleaned log
        assert not engines.differences(a, b), by
        if by:
            assert list(got[by].cat.categories) == list(ref[by].cat.categories)
    assert list(got["source"].cat.categories)[:2] == ["search_ads", "feed_ads"]  # schema order, not sorted
    p = engines.compute("period_kpis", data_path(), start="2025-11-17", end="2025-11-24")
    r = kpi.period_kpis(clean, od, start="2025-11-17", end="2025-11-24")
    r.attrs, p.attrs = {}, {}
    assert not engines.differences(r, p)
    placed = od[od["status"].isin(("completed", "refunded"))]
    daily = engines.compute("orders_kpis", data_path())
    assert daily["orders"].sum() == len(placed) and len(daily) == daily["date"].nunique()
    assert (daily["date"].diff().dropna() == pd.Timedelta(days=1)).all()  # every calendar day
    np.testing.assert_allclose(daily["gmv"].sum(), placed["paid_amount"].sum(), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_generated_partitioned_world_pandas_equals_duckdb(case, worlds) -> None:  # noqa: F811
    """The world as files (pandas) and as day=/month= hive parts (DuckDB), with its
    blemishes: cancelled/refunded orders, duplicated and out-of-window events, missing devices."""
    files, parts = worlds
    name, params = case
    ref = engines.compute(name, files, engine="pandas", **params)
    got = engines.compute(name, parts, engine="duckdb", **params)
    assert_same(ref, got)
    if name == "daily_kpis" and params["by"] == "device":
        assert "missing" in list(got["device"].cat.categories)  # NULL devices: a segment, counted
        assert got.attrs["excluded"]["events_outside_window"] > 0 and got.attrs["excluded"]["cancelled_orders"] > 0


# -------------------------------------------------------------------------------------
# Traps
# -------------------------------------------------------------------------------------
def _write(folder, **tables):
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _trap_tables():
    ev = pd.DataFrame({
        "visitor_id": ["v1", "v2", "v3", "v1", "v4", "v4", "v5", "v6"],
        "ts": pd.to_datetime(["2025-11-01 00:00:00", "2025-11-01 23:59:59.999999", "2025-11-01 10:00",
                              "2025-11-02 00:00:00", "2025-11-04 09:00", "2025-11-04 09:00", None,
                              "2025-11-05 08:00"], format="ISO8601"),
        "device": ["ios", None, "pc", "ios", "android", "android", "ios", "pc"],
    })  # no event on 2025-11-03; a duplicated row; a missing timestamp; a missing device
    od = pd.DataFrame({
        "order_id": [str(i) for i in range(1, 10)],
        "customer_id": ["c1", "c1", "c2", "c3", None, "c4", "c5", "c6", "c7"],
        "order_ts": pd.to_datetime(["2025-11-01 09:00", "2025-11-01 23:59:59.999999", "2025-11-02 00:00",
                                    "2025-11-03 12:00", "2025-11-04 10:00", "2025-11-04 11:00",
                                    "2025-10-28 10:00", "2025-11-08 10:00", "2025-11-01 12:00"], format="ISO8601"),
        "status": ["completed", "refunded", "cancelled", "completed", "completed", "completed", "completed",
                   "cancelled", "completed"],
        "paid_amount": [10.0, 5.0, 99.0, 7.0, 4.0, np.nan, 1.0, 50.0, 3.0],
        "device": ["ios", "ios", "pc", "pc", "android", None, "pc", "ios", None],
        "traffic_source": ["direct"] * 9,
    })
    return ev, od


def _known(od: pd.DataFrame) -> pd.DataFrame:
    """The trap orders with every placed order's id and amount (``kpi.daily_kpis`` refuses missing ones)."""
    return od.assign(customer_id=od["customer_id"].fillna("c8"), paid_amount=od["paid_amount"].fillna(2.0))


def test_orders_kpis_traps(tmp_path) -> None:
    """Every calendar day from the first placed order to the last (11-03's only orders
    elsewhere; 10-29..10-31 without any: zeros), 23:59:59.999999 on its own day, NULL ids
    not buyers, NULL amounts 0 in GMV, each counted; a cancelled-only last day is no day."""
    ev, od = _trap_tables()
    src = _write(tmp_path, events=ev, orders=od)
    for engine in ("pandas", "duckdb"):
        d = engines.compute("orders_kpis", src, engine=engine)
        assert d["date"].dt.strftime("%m-%d").tolist() == ["10-28", "10-29", "10-30", "10-31", "11-01", "11-02",
                                                             "11-03", "11-04"], engine
        assert d["orders"].tolist() == [1, 0, 0, 0, 3, 0, 1, 2]
        assert d["buyers"].tolist() == [1, 0, 0, 0, 2, 0, 1, 1]  # c1 twice on 11-01 is one buyer; NULL is none
        assert d["gmv"].tolist() == [1.0, 0.0, 0.0, 0.0, 18.0, 0.0, 7.0, 4.0]
        assert d["order_value"].iloc[4] == 6.0 and d["spend_per_buyer"].iloc[4] == 9.0  # 18/3, 18/2: no // anywhere
        assert np.isnan(d["order_value"].iloc[1])
        assert d.attrs["excluded"] == {"cancelled_orders": 2, "placed_without_customer_id (not buyers)": 1,
                                       "placed_without_paid_amount (0 in GMV)": 1}
        w = engines.compute("orders_kpis", src, engine=engine, daily=False, start="2025-11-01", end="2025-11-02")
        assert w[["orders", "buyers"]].iloc[0].tolist() == [3, 2] and w["gmv"].iloc[0] == 18.0
        assert w.attrs["excluded"] == {"cancelled_orders": 0} or w.attrs["excluded"] == {}
        empty = engines.compute("orders_kpis", src, engine=engine, daily=False, start="2025-11-10", end="2025-11-11")
        assert empty["orders"].iloc[0] == 0 and np.isnan(empty["spend_per_buyer"].iloc[0])
        with pytest.raises(ValueError, match="no placed order"):
            engines.compute("orders_kpis", src, engine=engine, start="2025-11-10", end="2025-11-11")
    a = engines.compute("orders_kpis", src, engine="pandas", daily=False)
    assert_same(a, engines.compute("orders_kpis", src, engine="duckdb", daily=False))


def test_orders_kpis_null_timestamps_counted_not_dropped(tmp_path) -> None:
    """A placed order without a time is in the whole period's tree (as metrics.gmv counts
    it) but on no day: SQL keeps it as a NULL day group, pandas' groupby drops it; both say so."""
    _, od = _trap_tables()
    od.loc[0, "order_ts"] = pd.NaT
    src = _write(tmp_path, orders=od)
    for engine in ("pandas", "duckdb"):
        d = engines.compute("orders_kpis", src, engine=engine)
        assert d.attrs["excluded"]["placed_without_order_ts (on no day)"] == 1
        assert d["orders"].sum() == 6
        assert engines.compute("orders_kpis", src, engine=engine, daily=False)["orders"].iloc[0] == 7


def test_zone_aware_timestamps_fall_on_their_utc_day_on_every_engine(tmp_path) -> None:
    """A zone-aware column (TIMESTAMPTZ) is cut into days in UTC by the SQL engines (their
    sessions run in UTC); the pandas reference cuts it the same way: 01:00 in Shanghai on
    11-02 is 17:00 UTC on 11-01. Course tables hold naive wall-clock times (ecomlab.io
    converts to the shop's zone), for which the day is the wall-clock day."""
    ev, od = _trap_tables()
    ev = ev.dropna(subset=["ts"]).assign(ts=lambda f: f["ts"].dt.tz_localize("UTC"))
    od = _known(od).assign(order_ts=lambda f: (f["order_ts"] + pd.Timedelta(hours=8)).dt.tz_localize("Asia/Shanghai"))
    src = _write(tmp_path, events=ev, orders=od)
    for name, params in [("orders_kpis", {}), ("daily_kpis", {"by": "device", "on_inconsistent": "warn"})]:
        ref = engines.compute(name, src, engine="pandas", **params)
        assert_same(ref, engines.compute(name, src, engine="duckdb", **params))
    naive = _known(_trap_tables()[1])
    assert engines.compute("orders_kpis", src)["orders"].tolist() == engines.compute(
        "orders_kpis", None, engine="pandas", frames={"orders": naive})["orders"].tolist()


def test_daily_kpis_by_device_traps(tmp_path) -> None:
    """The full day x device grid on the log's days (11-03 has no event: no row; a device
    without visitors on a day: a zero row), NULL devices in the segment 'missing' (events
    and orders), the duplicated row counted once, the missing timestamp outside the window."""
    ev, od = _trap_tables()
    src = _write(tmp_path, events=ev, orders=_known(od))
    res = {}
    for engine in ("pandas", "duckdb"):
        k = engines.compute("daily_kpis", src, engine=engine, by="device", start="2025-11-01", end="2025-11-06",
                            on_inconsistent="warn")
        res[engine] = k
        assert list(k["device"].cat.categories) == ["ios", "android", "pc", "missing"]
        assert k["date"].dt.strftime("%m-%d").unique().tolist() == ["11-01", "11-02", "11-04", "11-05"]
        assert len(k) == 16  # 4 days x 4 segments, zero rows kept
        one = k.set_index(["date", "device"])
        assert one.loc[(pd.Timestamp("2025-11-01"), "missing"), ["uv", "buyers", "gmv"]].tolist() == [1, 1, 3.0]
        assert one.loc[(pd.Timestamp("2025-11-04"), "android"), "uv"] == 1  # the duplicate once
        assert one.loc[(pd.Timestamp("2025-11-05"), "ios"), ["uv", "orders"]].tolist() == [0, 0]
        assert k.attrs["excluded"] == {"cancelled_orders": 2, "orders_on_days_without_events": 2,
                                       "events_outside_window": 1}
    assert_same(res["pandas"], res["duckdb"])
    with pytest.raises(ValueError, match="ts.*missing"):  # no window: the missing time is refused, as kpi does
        engines.compute("daily_kpis", src, engine="duckdb", by="device")


def test_missing_segment_only_when_some_row_lacks_it(tmp_path) -> None:
    ev, od = _trap_tables()
    ev, od = ev.dropna(subset=["device"]), _known(od).assign(device=od["device"].fillna("pc"))
    src = _write(tmp_path, events=ev, orders=od)
    for engine in ("pandas", "duckdb"):
        k = engines.compute("daily_kpis", src, engine=engine, by="device", start="2025-11-01", end="2025-11-06",
                            on_inconsistent="warn")
        assert list(k["device"].cat.categories) == ["ios", "android", "pc"], engine
        p = engines.compute("period_kpis", src, engine=engine, by="device", start="2025-11-01", end="2025-11-06",
                            on_inconsistent="warn")
        assert p["device"].astype(str).tolist() == ["ios", "android", "pc"]
        assert p["uv"].tolist() == [1, 1, 2]  # v1 on two days is one visitor of the period


def test_unknown_segment_and_value(tmp_path) -> None:
    ev, od = _trap_tables()
    ev.loc[0, "device"] = "watch"  # not a declared device: after the declared ones
    src = _write(tmp_path, events=ev, orders=_known(od))
    for engine in ("pandas", "duckdb"):
        k = engines.compute("daily_kpis", src, engine=engine, by="device", start="2025-11-01", end="2025-11-06",
                            on_inconsistent="warn")
        assert list(k["device"].cat.categories) == ["ios", "android", "pc", "watch", "missing"]
        with pytest.raises(ValueError, match="by must be None or one of"):
            engines.compute("daily_kpis", src, engine=engine, by="city")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_logs_pandas_equals_duckdb(tmp_path_factory, data) -> None:
    """Random small logs (a few days, devices with NULLs, statuses): the same tables."""
    n_ev = data.draw(st.integers(1, 30))
    n_od = data.draw(st.integers(1, 20))
    day = st.integers(0, 5 * 24 * 60 - 1).map(lambda m: pd.Timestamp("2025-11-01") + pd.Timedelta(minutes=m))
    dev = st.sampled_from(["ios", "android", "pc", None])
    ev = pd.DataFrame({"visitor_id": data.draw(st.lists(st.sampled_from(list("abcdefg")), min_size=n_ev,
                                                        max_size=n_ev)),
                       "ts": data.draw(st.lists(day, min_size=n_ev, max_size=n_ev)),
                       "device": data.draw(st.lists(dev, min_size=n_ev, max_size=n_ev))})
    od = pd.DataFrame({"order_id": [str(i) for i in range(n_od)],
                       "customer_id": data.draw(st.lists(st.sampled_from(list("abcd")), min_size=n_od,
                                                         max_size=n_od)),
                       "order_ts": data.draw(st.lists(day, min_size=n_od, max_size=n_od)),
                       "status": data.draw(st.lists(st.sampled_from(["completed", "refunded", "cancelled"]),
                                                    min_size=n_od, max_size=n_od)),
                       "paid_amount": data.draw(st.lists(st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 2)),
                                                         min_size=n_od, max_size=n_od)),
                       "device": data.draw(st.lists(dev, min_size=n_od, max_size=n_od))})
    src = _write(tmp_path_factory.mktemp("kpi_prop"), events=ev, orders=od)
    cases = [("daily_kpis", {"by": "device", "on_inconsistent": "warn"}),
             ("period_kpis", {"start": "2025-11-02", "end": "2025-11-04", "on_inconsistent": "warn"}),
             ("daily_kpis", {"on_inconsistent": "warn"})]
    if (od["status"] != "cancelled").any():
        cases.append(("orders_kpis", {}))
    cases.append(("orders_kpis", {"daily": False}))
    for name, params in cases:
        try:
            ref = engines.compute(name, src, engine="pandas", **params)
        except ValueError as exc:  # e.g. no events in the period: the engine refuses alike
            with pytest.raises(ValueError, match=str(exc)[:20].replace("(", r"\(").replace("[", r"\[")):
                engines.compute(name, src, engine="duckdb", **params)
            continue
        assert_same(ref, engines.compute(name, src, engine="duckdb", **params))


# -------------------------------------------------------------------------------------
# Spark
# -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark(java):  # noqa: ARG001 (tests/conftest.py: skip without Java, fail under CI)
    s = engines.spark_session("local[2]")
    yield s
    engines.stop_spark()


def test_bundled_and_traps_pandas_equal_spark(spark, bundled_frames, tmp_path) -> None:  # noqa: ARG001, F811
    problems = []
    for name, params in CASES:
        ref = engines.compute(name, None, engine="pandas", frames=bundled_frames, **params)
        got = engines.compute(name, data_path(), engine="spark", **params)
        problems += [f"{name} {params}: {p}" for p in engines.differences(ref, got)]
        for c in ref.columns:
            if isinstance(ref[c].dtype, pd.CategoricalDtype) and list(ref[c].cat.categories) != list(
                    got[c].cat.categories):
                problems.append(f"{name} {params}: categories of {c}")
    ev, od = _trap_tables()
    _write(tmp_path / "known", events=ev, orders=_known(od))
    _write(tmp_path / "raw", events=ev, orders=od)
    for name, params in [("daily_kpis", {"by": "device", "start": "2025-11-01", "end": "2025-11-06",
                                         "on_inconsistent": "warn"}),
                         ("period_kpis", {"by": "device", "start": "2025-11-01", "end": "2025-11-06",
                                          "on_inconsistent": "warn"}),
                         ("orders_kpis", {}), ("orders_kpis", {"daily": False})]:
        where = tmp_path / ("raw" if name == "orders_kpis" else "known")
        ref = engines.compute(name, where, engine="pandas", **params)
        got = engines.compute(name, where, engine="spark", **params)
        problems += [f"trap {name} {params}: {p}" for p in engines.differences(ref, got)]
    assert not problems, "\n".join(problems)


def test_partitioned_world_pandas_equals_spark(spark, worlds) -> None:  # noqa: ARG001, F811
    files, parts = worlds
    for name, params in CASES[:1] + CASES[3:6]:
        assert_same(engines.compute(name, files, engine="pandas", **params),
                    engines.compute(name, parts, engine="spark", **params))
