"""ecomlab.engines: the funnel template's metrics — the event log's cleaning report,
strict/loose/unordered funnels on the cleaned log (overall and by segment), cart
abandonment, activity by hour, top paths — give the pandas helpers' results on DuckDB and
Spark (exact counts, shares to 1e-9 relative): on the bundled log, on a hand-made log with
the traps (same-second ties between steps, duplicate rows with missing values, missing
timestamps and devices, stray edge days, ties between path counts, rows in another
order), and on random small logs (hypothesis, DuckDB). Spark: one local session, the
same cases, skipped only without Java (a failure under ``CI=true``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecomlab import engines, traffic
from ecomlab.datasets import data_path
from ecomlab.engines import definitions as d

WINDOW = {"start": "2025-11-01", "end": "2025-12-01"}
STEPS = ("pv", "cart", "buy")

#: (metric, params) on the bundled log; cleaned in the window the data give
CASES = [
    ("events_quality", {}),
    ("events_quality", {"start": "2025-11-03", "end": "2025-11-20"}),
    ("funnel", {"steps": STEPS, "mode": "strict", **WINDOW}),
    ("funnel", {"steps": STEPS, "mode": "loose", **WINDOW}),
    ("funnel", {"steps": ("pv", "fav", "cart", "buy"), "mode": "unordered", "unit": "visitor", **WINDOW}),
    ("funnel", {"steps": STEPS, "mode": "strict", "by": "device", **WINDOW}),
    ("funnel", {"steps": STEPS, "mode": "strict", "by": "source", **WINDOW}),
    ("funnel", {"steps": STEPS, "mode": "loose", "by": "device", **WINDOW}),
    ("cart_abandonment", WINDOW),
    ("cart_abandonment", {"unit": "visitor", **WINDOW}),
    ("hourly_activity", WINDOW),
    ("top_paths", {"n": 8, **WINDOW}),
    ("top_paths", {"n": 40, "max_len": 3, "buy": None, **WINDOW}),
]


def _ids(case):
    return f"{case[0]}-" + "-".join(f"{k}={v}" for k, v in case[1].items() if k not in ("start", "end"))


@pytest.fixture(scope="module", params=["duckdb", "spark"])
def engine(request):
    if request.param == "spark":
        request.getfixturevalue("java")  # tests/conftest.py: skip without Java, fail under CI
        engines.spark_session("local[2]")
        yield "spark"
        engines.stop_spark()
    else:
        yield "duckdb"


@pytest.fixture(scope="module")
def bundled_events():
    return engines._read_pandas(data_path(), ("events",))


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    diffs = engines.differences(a, b)
    assert not diffs, "\n".join(diffs)
    for k in ("window", "window_rule", "visitors", "sessions", "event_types", "has_device"):
        assert a.attrs.get(k) == b.attrs.get(k), (k, a.attrs.get(k), b.attrs.get(k))


def both(name, source, engine, frames=None, **params):
    ref = engines.compute(name, source, engine="pandas", frames=frames, **params)
    got = engines.compute(name, source, engine=engine, **params)
    assert_same(ref, got)
    return ref, got


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_bundled_log_pandas_equals_engine(case, engine, bundled_events) -> None:
    name, params = case
    ref, _ = both(name, data_path(), engine, bundled_events, **params)
    assert len(ref) > 0


def test_bundled_quality_report_is_the_helpers(bundled_events) -> None:
    """The engine's cleaning report is clean_events' own report, row by row."""
    _, rep = traffic.clean_events(bundled_events["events"])
    got = engines.compute("events_quality", data_path())
    pd.testing.assert_frame_equal(got[["reason", "rows", "flagged", "action"]], rep, check_dtype=False)
    assert got.attrs["window"] == rep.attrs["window"]
    assert rep.set_index("reason").loc["exact duplicate row", "rows"] > 0  # the bundled log has them


def _trap_log() -> pd.DataFrame:
    t = pd.Timestamp("2025-11-10 10:00")
    m = pd.Timedelta(minutes=1)
    rows = [
        # s1: pv and cart in the same second (in order by the tie rule), then buy
        ("v1", "s1", t, "pv", "ios"), ("v1", "s1", t, "cart", "ios"), ("v1", "s1", t + m, "buy", "ios"),
        # s2: cart before pv: strict reaches pv only
        ("v2", "s2", t, "cart", "pc"), ("v2", "s2", t + m, "pv", "pc"),
        # s3: a double-fired row with a missing device (NULLs compare equal), buy now without a cart
        ("v3", "s3", t, "pv", None), ("v3", "s3", t, "pv", None), ("v3", "s3", t + m, "buy", None),
        # s4: a long path, cut at max_len; pv repeated (collapsed)
        *[("v4", "s4", t + i * m, e, "android") for i, e in
          enumerate(["pv", "pv", "fav", "pv", "cart", "pv", "cart", "buy", "pv"])],
        # s5, s6: the same path pv > fav, counted 2 (a tie with s7 + s8's pv > cart, first id wins)
        ("v5", "s5", t, "pv", "ios"), ("v5", "s5", t + m, "fav", "ios"),
        ("v5", "s6", t + 3 * m, "pv", "ios"), ("v5", "s6", t + 4 * m, "fav", "ios"),
        ("v7", "s7", t, "pv", "pc"), ("v7", "s7", t, "cart", "pc"),
        ("v8", "s8", t, "pv", "pc"), ("v8", "s8", t + m, "cart", "pc"), ("v8", "s8", t + 2 * m, "cart", "pc"),
        # s9: an abandoned cart; its ts ties with pv and fav of the same second
        ("v9", "s9", t, "fav", "ios"), ("v9", "s9", t, "pv", "ios"), ("v9", "s9", t, "cart", "ios"),
        # rows the cleaning removes: no timestamp, before/after the window (one duplicated), stray edge days
        ("v10", "s10", pd.NaT, "pv", "ios"),
        ("v11", "s11", pd.Timestamp("2025-10-31 23:59"), "pv", "ios"),
        ("v11", "s11", pd.Timestamp("2025-10-31 23:59"), "pv", "ios"),
        ("v12", "s12", pd.Timestamp("2025-12-01 00:00"), "buy", "pc"),
    ]
    # full days inside the window, so the derived window is November
    for k, day in enumerate(pd.date_range("2025-11-01", "2025-11-30")):
        rows += [(f"w{k}", f"w{k}-{j}", day + pd.Timedelta(hours=j % 24), "pv", "pc") for j in range(30)]
    ev = pd.DataFrame(rows, columns=["visitor_id", "session_id", "ts", "event", "device"])
    ev["ts"] = ev["ts"].astype("datetime64[us]")
    return ev


@pytest.fixture(scope="module")
def trap_dirs(tmp_path_factory):
    """The trap log as written, and the same rows in reverse order."""
    ev = _trap_log()
    a, b = tmp_path_factory.mktemp("traps"), tmp_path_factory.mktemp("traps_reversed")
    ev.to_parquet(a / "events.parquet", index=False)
    ev.iloc[::-1].to_parquet(b / "events.parquet", index=False)
    return a, b


TRAP_CASES = [
    ("events_quality", {}),
    ("funnel", {"steps": STEPS, "mode": "strict", **WINDOW}),
    ("funnel", {"steps": STEPS, "mode": "loose", **WINDOW}),
    ("funnel", {"steps": STEPS, "mode": "unordered", **WINDOW}),
    ("funnel", {"steps": STEPS, "mode": "strict", "by": "device", **WINDOW}),
    ("funnel", {"steps": ("pv", "fav", "cart", "buy"), "mode": "strict", "unit": "visitor", **WINDOW}),
    ("cart_abandonment", WINDOW),
    ("hourly_activity", WINDOW),
    ("top_paths", {"n": 6, **WINDOW}),
    ("top_paths", {"n": 6, "max_len": 2, **WINDOW}),
]


@pytest.mark.parametrize("case", TRAP_CASES, ids=_ids)
def test_traps_pandas_equals_engine_in_any_row_order(case, engine, trap_dirs) -> None:
    name, params = case
    ref, got = both(name, trap_dirs[0], engine, **params)
    again = engines.compute(name, trap_dirs[1], engine=engine, **params)
    assert_same(got, again)


def test_trap_figures_by_hand(trap_dirs) -> None:
    src = trap_dirs[0]
    q = engines.compute("events_quality", src, **WINDOW).set_index("reason")
    assert q.loc["missing timestamp", "rows"] == 1
    # s3's and s11's second copies; duplicates come before the window rule, so s11 is
    # removed once as a duplicate and once as before the window, and flagged twice there
    assert q.loc["exact duplicate row", ["rows", "flagged"]].tolist() == [2, 2]
    assert q.loc["before 2025-11-01", ["rows", "flagged"]].tolist() == [1, 2]
    assert q.loc["on/after 2025-12-01", "rows"] == 1
    assert q.loc["missing device", ["rows", "flagged"]].tolist() == [2, 3]
    strict = engines.compute("funnel", src, steps=STEPS, mode="strict", **WINDOW)
    # pv: s1-s9 (s2 reaches pv last) + 900 filler sessions; cart: s1 (tie), s4, s7 (tie), s8, s9 (tie); buy: s1, s4
    assert strict["units"].tolist() == [909, 5, 2]
    loose = engines.compute("funnel", src, steps=STEPS, mode="loose", **WINDOW)
    assert loose["units"].tolist() == [909, 6, 3]
    by = engines.compute("funnel", src, steps=STEPS, mode="strict", by="device", **WINDOW)
    assert list(by["device"].cat.categories) == ["android", "ios", "pc", "missing"]
    aband = engines.compute("cart_abandonment", src, **WINDOW)
    assert aband[["carts", "abandoned"]].iloc[0].tolist() == [6.0, 4.0]  # s1, s2, s4, s7, s8, s9; s1 and s4 bought
    # s9's fav, pv, cart in one second are ordered pv > fav > cart (causal order); pv > fav
    # (s5, s6) and pv > cart (s7, s8) tie at 2: s5 < s7; then the paths of one session, s1 first
    paths = engines.compute("top_paths", src, n=4, **WINDOW)
    assert paths["path"].tolist() == ["pv", "pv > fav", "pv > cart", "pv > cart > buy"]
    assert paths["units"].tolist() == [900, 2, 2, 1]
    cut = engines.compute("top_paths", src, n=50, **WINDOW).set_index("path")
    assert cut.loc["pv > fav > pv > cart > pv > …", "units"] == 1 and not cut.loc["pv > fav > pv > cart > pv > …",
                                                                                     "ends_in_buy"]
    assert cut.loc["pv > fav > cart", "units"] == 1


def test_segment_tie_is_the_smallest_label_in_any_row_order(tmp_path) -> None:
    """Two first events of one session in the same second with different devices: the
    pandas helper takes the earlier row; the engines, reading rows in no fixed order,
    take the smallest label — the same whatever the order the rows are stored in."""
    t = pd.Timestamp("2025-11-10 10:00")
    ev = pd.DataFrame({"visitor_id": ["v", "v", "v"], "session_id": ["s", "s", "s"],
                       "ts": pd.to_datetime([t, t, t + pd.Timedelta(minutes=1)]).astype("datetime64[us]"),
                       "event": ["pv", "cart", "buy"], "device": ["pc", "android", "pc"]})
    for i, order in enumerate((ev, ev.iloc[::-1])):
        (tmp_path / str(i)).mkdir()
        order.to_parquet(tmp_path / str(i) / "events.parquet", index=False)
        f = engines.compute("funnel", tmp_path / str(i), steps=STEPS, mode="strict", by="device")
        assert f["device"].astype(str).unique().tolist() == ["android"]
        assert f["units"].tolist() == [1, 1, 1]
    pandas_first = traffic.funnel(ev, STEPS, mode="strict", by="device")
    assert pandas_first["device"].astype(str).unique().tolist() == ["pc"]  # the helper's row order


def test_refusals(trap_dirs, tmp_path) -> None:
    src = trap_dirs[0]
    with pytest.raises(ValueError, match="go together"):
        engines.compute("funnel", src, steps=STEPS, start="2025-11-01")
    with pytest.raises(ValueError, match="must be before"):
        engines.compute("events_quality", src, start="2025-11-10", end="2025-11-01")
    with pytest.raises(ValueError, match="different events"):
        engines.compute("cart_abandonment", src, cart="buy", buy="buy")
    with pytest.raises(ValueError, match="outside steps"):
        engines.compute("top_paths", src, steps=("pv", "buy"), **WINDOW)
    with pytest.raises(ValueError, match="by must be a column name"):
        engines.compute("funnel", src, steps=STEPS, by="device; DROP TABLE events", **WINDOW)
    with pytest.raises(ValueError, match="n must be"):
        engines.compute("top_paths", src, n=0)
    ev = _trap_log()
    ev.loc[0, "session_id"] = None
    (tmp_path / "null").mkdir()
    ev.to_parquet(tmp_path / "null" / "events.parquet", index=False)
    with pytest.raises(ValueError, match="session_id.*missing"):
        engines.compute("funnel", tmp_path / "null", steps=STEPS, **WINDOW)


def test_window_rule_equals_the_helpers() -> None:
    ev = pd.DataFrame({"ts": pd.to_datetime(["2023-02-28 23:50"] + ["2023-03-01 10:00"] * 40
                                            + ["2023-03-02 09:00"] * 35 + ["2023-03-04 00:10"])})
    days = ev["ts"].dt.floor("D").value_counts().sort_index()
    epoch = ((days.index - pd.Timestamp("1970-01-01")).days).to_numpy()
    for share in (0.0, 0.05, 0.5):
        assert engines.window_from_day_counts(epoch, days.to_numpy(), share) == traffic.event_window(
            ev, sparse_share=share)
    with pytest.raises(ValueError, match="no timestamps"):
        engines.window_from_day_counts(np.array([]), np.array([]))


@st.composite
def logs(draw):
    """Small logs with many same-second ties, sessions of one device (some missing; a
    visitor's sessions may differ, so ``by`` is drawn per session: the tie rule between two
    first events of different devices is test_segment_tie_...), a few
    duplicated rows and missing timestamps, events a day or two either side of the window."""
    n_sessions = draw(st.integers(1, 12))
    rows = [("f", "f0", pd.Timestamp("2025-11-05 12:00") + pd.Timedelta(minutes=i), e, "pc")
            for i, e in enumerate(STEPS)]  # every step present in the window
    for s in range(n_sessions):
        dev = draw(st.sampled_from(["ios", "pc", None]))
        day = draw(st.sampled_from(["2025-10-31", "2025-11-02", "2025-11-29", "2025-12-01"]))
        for _ in range(draw(st.integers(1, 7))):
            ts = pd.Timestamp(day) + pd.Timedelta(minutes=draw(st.integers(0, 3)))
            if draw(st.integers(0, 20)) == 0:
                ts = pd.NaT
            rows.append((f"v{s % 4}", f"s{s}", ts, draw(st.sampled_from(["pv", "fav", "cart", "buy"])), dev))
    ev = pd.DataFrame(rows, columns=["visitor_id", "session_id", "ts", "event", "device"])
    dup = draw(st.lists(st.integers(0, len(ev) - 1), max_size=3))
    ev = pd.concat([ev, ev.iloc[dup]], ignore_index=True)
    order = draw(st.permutations(range(len(ev))))
    out = ev.iloc[list(order)].reset_index(drop=True)
    out["ts"] = out["ts"].astype("datetime64[us]")
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=logs())
def test_random_logs_pandas_equals_duckdb(ev, tmp_path_factory) -> None:
    src = tmp_path_factory.mktemp("random_log")
    ev.to_parquet(src / "events.parquet", index=False)
    frames = {"events": ev}
    window = {"start": "2025-11-01", "end": "2025-12-01"}
    for name, params in [("events_quality", window),
                         ("funnel", {"steps": STEPS, "mode": "strict", **window}),
                         ("funnel", {"steps": STEPS, "mode": "loose", "by": "device", **window}),
                         ("funnel", {"steps": STEPS, "mode": "strict", "by": "device", **window}),
                         ("funnel", {"steps": STEPS, "mode": "unordered", "unit": "visitor", **window}),
                         ("cart_abandonment", window), ("hourly_activity", window),
                         ("top_paths", {"n": 5, "max_len": 3, **window})]:
        both(name, src, "duckdb", frames, **params)


def test_definitions_are_spark_sql() -> None:
    """Every new definition transpiles to Spark SQL (window functions kept, no DuckDB-only syntax)."""
    clean = d.clean_events_sql(d.timestamp_literal("2025-11-01", "s"), d.timestamp_literal("2025-12-01", "e"))
    sqls = [d.funnel_sql(STEPS, "strict", "session", by="device", events=clean),
            d.events_quality_sql(["visitor_id", "ts", "device"], "TIMESTAMP '2025-11-01'", "TIMESTAMP '2025-12-01'",
                                 True),
            d.clean_summary_sql(clean), d.cart_abandonment_sql("cart", "buy", "session", clean),
            d.hourly_activity_sql(clean), d.top_paths_sql(("pv", "fav", "cart", "buy"), 5, 8, clean),
            d.event_days_sql()]
    for q in sqls:
        s = engines.to_spark_sql(q)
        assert "SELECT" in s
    # the window order is kept whole (DuckDB's NULLS LAST made explicit for Spark)
    assert "LAG(st) OVER (PARTITION BY u ORDER BY ts NULLS LAST, st NULLS LAST)" in engines.to_spark_sql(sqls[5])
