"""ecomlab.engines.clean_log: the event log cleaned once in the engine (a temporary
Parquet copy) gives the same cleaning report as ``compute("events_quality")`` and
``traffic.clean_events``, and every behaviour metric on the copy equals the same metric on
the raw log cleaned per query and the pandas helper on the cleaned log — on DuckDB and
Spark; the copy is deleted (``close``, the ``with`` block, garbage collection, a failure
half-way). Missing session ids: the engines refuse them exactly where the pandas helpers do
(only on rows the cleaning keeps, only for metrics by session). The by-segment funnel with
the segment as an aggregate of the per-unit pass: a segment whose units reach no step is
listed with zeros, as in pandas.
"""

from __future__ import annotations

import gc

import pandas as pd
import pytest
from test_engines_funnel import STEPS, WINDOW, _trap_log, engine  # noqa: F401 (engine: the duckdb/spark fixture)

from ecomlab import engines, traffic
from ecomlab.datasets import data_path

METRICS = [
    ("funnel", {"steps": STEPS, "mode": "strict"}),
    ("funnel", {"steps": STEPS, "mode": "loose"}),
    ("funnel", {"steps": STEPS, "mode": "strict", "by": "device"}),
    ("funnel", {"steps": STEPS, "mode": "loose", "by": "source"}),
    ("funnel", {"steps": ("pv", "fav", "cart", "buy"), "mode": "unordered", "unit": "visitor", "by": "device"}),
    ("cart_abandonment", {}),
    ("hourly_activity", {}),
    ("top_paths", {"n": 8}),
]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    diffs = engines.differences(a, b)
    assert not diffs, "\n".join(diffs)


def _same_report(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a[["reason", "rows", "flagged", "action"]].reset_index(drop=True),
                                  b[["reason", "rows", "flagged", "action"]].reset_index(drop=True), check_dtype=False)
    for k in ("window", "window_rule", "visitors", "sessions", "event_types", "has_device"):
        assert a.attrs[k] == b.attrs[k], (k, a.attrs[k], b.attrs[k])


@pytest.fixture(scope="module")
def trap_dir(tmp_path_factory):
    src = tmp_path_factory.mktemp("clean_traps")
    _trap_log().to_parquet(src / "events.parquet", index=False)
    return src


@pytest.mark.parametrize("window", [{}, {"start": "2025-11-03", "end": "2025-11-20"}], ids=["derived", "given"])
def test_bundled_log_cleaned_once_equals_cleaned_per_query(engine, window, tmp_path) -> None:  # noqa: F811 (fixture)
    src = data_path()
    frames = engines._read_pandas(src, ("events",))
    with engines.clean_log(src, engine=engine, temp_dir=tmp_path, **window) as log:
        assert log.path.parent == tmp_path and (log.path / "events").is_dir()
        _same_report(log.report, engines.compute("events_quality", src, engine="pandas", frames=frames, **window))
        if engine == "duckdb":  # the per-query report on Spark: tests/test_engines_funnel.py
            _same_report(log.report, engines.compute("events_quality", src, engine=engine, **window))
        lo, hi = log.report.attrs["window"]
        for name, params in METRICS if engine == "duckdb" else METRICS[::3]:
            once = engines.compute(name, log.source, engine=engine, **params)
            ref = engines.compute(name, src, engine="pandas", frames=frames, start=lo, end=hi, **params)
            _same(ref, once)
            if engine == "duckdb":
                _same(engines.compute(name, src, engine=engine, start=lo, end=hi, **params), once)
    assert log.closed and not log.path.exists()
    assert list(tmp_path.iterdir()) == []


def test_trap_log_report_and_metrics_by_hand(trap_dir) -> None:
    """The hand-checked trap log (tests/test_engines_funnel.py): duplicates with missing
    values, rows without a timestamp, stray edge days, same-second ties."""
    with engines.clean_log(trap_dir, **WINDOW) as log:
        q = log.report.set_index("reason")
        assert q.loc["exact duplicate row", ["rows", "flagged"]].tolist() == [2, 2]
        assert q.loc["before 2025-11-01", ["rows", "flagged"]].tolist() == [1, 2]
        assert q.loc["missing device", ["rows", "flagged"]].tolist() == [2, 3]
        assert q.loc["rows out", "rows"] == len(pd.read_parquet(log.source["events"]))
        assert engines.compute("funnel", log.source, steps=STEPS, mode="strict")["units"].tolist() == [909, 5, 2]
        for name, params in [(n, p) for n, p in METRICS if p.get("by") != "source"]:  # the trap log has no source
            _same(engines.compute(name, trap_dir, engine="pandas", **WINDOW, **params),
                  engines.compute(name, log.source, **params))
    _, rep = traffic.clean_events(_trap_log(), **WINDOW)
    _same_report(log.report, _with_attrs(rep, log.report))


def _with_attrs(rep: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """clean_events' report with the attributes only the engine's report carries."""
    out = rep.copy()
    out.attrs.update({k: other.attrs[k] for k in ("visitors", "sessions", "event_types", "has_device")})
    return out


def test_copy_removed_when_collected_or_on_failure(trap_dir, tmp_path, monkeypatch) -> None:
    log = engines.clean_log(trap_dir, temp_dir=tmp_path)
    path = log.path
    assert path.exists() and "CleanedLog(engine='duckdb'" in repr(log)
    del log
    gc.collect()
    assert not path.exists()
    monkeypatch.setattr(engines.d, "cleaned_counts_sql", lambda device: "SELECT no_such_column FROM events")
    with pytest.raises(Exception, match="no_such_column"):
        engines.clean_log(trap_dir, temp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_empty_window_gives_an_empty_copy_the_metrics_refuse(trap_dir) -> None:
    with engines.clean_log(trap_dir, start="2024-01-01", end="2024-02-01") as log:
        q = log.report.set_index("reason")["rows"]
        assert q["rows out"] == 0 and q["before 2024-01-01"] == 0 and q["on/after 2024-02-01"] > 0
        assert log.report.attrs["sessions"] == 0 and log.report.attrs["event_types"] == []
        with pytest.raises(ValueError, match="events is empty"):
            engines.compute("funnel", log.source, steps=STEPS)


def test_refusals(trap_dir, tmp_path) -> None:
    with pytest.raises(ValueError, match="engine must be 'duckdb' or 'spark'"):
        engines.clean_log(trap_dir, engine="pandas")
    with pytest.raises(ValueError, match="must be before"):
        engines.clean_log(trap_dir, start="2025-11-10", end="2025-11-01")
    with pytest.raises(ValueError, match="temp_dir must be an existing folder"):
        engines.clean_log(trap_dir, temp_dir=tmp_path / "absent")
    no_session = _trap_log().drop(columns="session_id")
    no_session.to_parquet(tmp_path / "events.parquet", index=False)
    with pytest.raises(ValueError, match="missing column"):
        engines.clean_log(tmp_path)


def _log_with_missing_sessions(kept: bool) -> pd.DataFrame:
    """The trap log with missing session ids on rows the cleaning removes (no timestamp,
    before the window, a duplicated pair out of the window) and, with ``kept``, on one
    row it keeps."""
    ev = _trap_log()
    removed = ev.index[ev["ts"].isna() | (ev["ts"] < pd.Timestamp("2025-11-01"))]
    ev.loc[removed, "session_id"] = None
    if kept:
        ev.loc[0, "session_id"] = None  # s1's pv, inside the window
    return ev


@pytest.mark.parametrize("kept", [False, True], ids=["on_removed_rows", "on_a_kept_row"])
def test_missing_session_ids_as_in_pandas(engine, kept, tmp_path) -> None:  # noqa: F811 (fixture)
    """pandas: clean_events keeps rows without a session id (it neither drops nor counts
    them); the session metrics refuse them on the cleaned log; visitor and hour metrics
    and the report do not need them (sessions = distinct non-missing ids). The engines:
    the same, on the raw log cleaned per query and on the copy."""
    ev = _log_with_missing_sessions(kept)
    assert ev["session_id"].isna().sum() == 3 + kept
    ev.to_parquet(tmp_path / "events.parquet", index=False)
    frames = {"events": ev}
    session_metrics = [("funnel", {"steps": STEPS, "mode": "strict"}), ("funnel", {"steps": STEPS, "by": "device"}),
                       ("cart_abandonment", {}), ("top_paths", {"n": 5})]
    other_metrics = [("funnel", {"steps": STEPS, "mode": "strict", "unit": "visitor"}), ("hourly_activity", {})]
    _same_report(engines.compute("events_quality", tmp_path, engine="pandas", frames=frames, **WINDOW),
                 engines.compute("events_quality", tmp_path, engine=engine, **WINDOW))
    with engines.clean_log(tmp_path, engine=engine, temp_dir=tmp_path, **WINDOW) as log:
        _same_report(engines.compute("events_quality", tmp_path, engine="pandas", frames=frames, **WINDOW),
                     log.report)
        for name, params in session_metrics if engine == "duckdb" else session_metrics[:1]:
            if kept:
                with pytest.raises(ValueError, match="session_id.*1 missing"):
                    engines.compute(name, tmp_path, engine="pandas", frames=frames, **WINDOW, **params)
                with pytest.raises(ValueError, match="session_id.*1 missing value.*cleaned log"):
                    engines.compute(name, tmp_path, engine=engine, **WINDOW, **params)
                with pytest.raises(ValueError, match="session_id.*1 missing"):
                    engines.compute(name, log.source, engine=engine, **params)
            else:
                ref = engines.compute(name, tmp_path, engine="pandas", frames=frames, **WINDOW, **params)
                _same(ref, engines.compute(name, tmp_path, engine=engine, **WINDOW, **params))
                _same(ref, engines.compute(name, log.source, engine=engine, **params))
        for name, params in other_metrics:
            ref = engines.compute(name, tmp_path, engine="pandas", frames=frames, **WINDOW, **params)
            _same(ref, engines.compute(name, tmp_path, engine=engine, **WINDOW, **params))
            _same(ref, engines.compute(name, log.source, engine=engine, **params))


def test_segment_without_steps_is_listed_with_zeros(engine, tmp_path) -> None:  # noqa: F811 (fixture)
    """A device whose sessions reach no step, a session whose first event is not a step
    and a missing device: the per-unit pass gives every unit its segment, steps or not."""
    t = pd.Timestamp("2025-11-10 10:00")
    m = pd.Timedelta(minutes=1)
    rows = [("v1", "s1", t, "fav", "watch"), ("v1", "s1", t + m, "fav", "watch"),
            ("v2", "s2", t, "fav", "pc"), ("v2", "s2", t + m, "pv", "ios"), ("v2", "s2", t + 2 * m, "cart", "ios"),
            ("v3", "s3", t, "pv", None), ("v3", "s3", t + m, "buy", "pc"),
            ("v4", "s4", t, "pv", "ios"), ("v4", "s4", t + m, "cart", "ios"), ("v4", "s4", t + 2 * m, "buy", "ios")]
    ev = pd.DataFrame(rows, columns=["visitor_id", "session_id", "ts", "event", "device"])
    ev["ts"] = ev["ts"].astype("datetime64[us]")
    ev.to_parquet(tmp_path / "events.parquet", index=False)
    for mode in ("strict", "loose", "unordered"):
        ref = engines.compute("funnel", tmp_path, engine="pandas", frames={"events": ev}, steps=STEPS, mode=mode,
                              by="device")
        _same(ref, engines.compute("funnel", tmp_path, engine=engine, steps=STEPS, mode=mode, by="device"))
    strict = engines.compute("funnel", tmp_path, engine=engine, steps=STEPS, mode="strict", by="device")
    units = strict.pivot_table(index="device", columns="step_index", values="units", observed=True)
    assert units.loc["watch"].tolist() == [0, 0, 0]  # s1: favourites only
    assert units.loc["pc"].tolist() == [1, 1, 0]  # s2: its first event's device, not its steps'
    assert units.loc["missing"].tolist() == [1, 0, 0]  # s3: buy without a cart
    assert units.loc["ios"].tolist() == [1, 1, 1]
