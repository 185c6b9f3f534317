"""ecomlab.engines: each core metric gives the same result through pandas and DuckDB
(exact counts, sums to 1e-9 relative) on the bundled world, on a generated world with its
blemishes in a hive-partitioned layout, and on the known traps. Spark: test_engines_spark.py."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecomlab import engines, metrics, users
from ecomlab.datasets import data_path
from ecomlab.engines import definitions as d

#: (metric, params) run on every engine; shared with tests/test_engines_spark.py by name.
CASES = [
    ("rfm", {}),
    ("rfm", {"as_of": "2025-07-01", "statuses": ("completed", "refunded")}),
    ("rfm_thresholds", {}),
    ("cohort_matrix", {}),
    ("cohort_matrix", {"freq": "W", "metric": "revenue"}),
    ("cohort_matrix", {"metric": "customers"}),
    ("rfm_summary", {"calibration_end": "2025-10-01"}),
    ("rfm_summary", {"calibration_end": "2025-06-15 12:00", "freq": "D"}),
    ("funnel", {"mode": "strict"}),
    ("funnel", {"mode": "loose"}),
    ("funnel", {"mode": "unordered", "unit": "visitor"}),
    ("funnel", {"mode": "strict", "steps": ("pv", "fav", "cart", "buy"), "unit": "visitor"}),
    ("daily_kpis", {"start": "2025-11-01", "end": "2025-12-01"}),
    ("repurchase_rate", {"start": "2025-01-01", "end": "2025-07-01"}),
    ("repurchase_rate", {}),
    ("return_purchase_rate", {"period1": ("2025-01-01", "2025-04-01"), "period2": ("2025-04-01", "2025-07-01")}),
]


def _ids(case):
    return f"{case[0]}-" + "-".join(f"{k}={v}" for k, v in case[1].items())


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    diffs = engines.differences(a, b)
    assert not diffs, "\n".join(diffs)


@pytest.fixture(scope="module")
def bundled_frames():
    return engines._read_pandas(data_path(), ("orders", "events"))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_bundled_world_pandas_equals_duckdb(case, bundled_frames) -> None:
    name, params = case
    ref = engines.compute(name, None, engine="pandas", frames=bundled_frames, **params)
    got = engines.compute(name, data_path(), engine="duckdb", **params)
    assert_same(ref, got)
    assert got.attrs["engine"] == "duckdb" and ref.attrs["engine"] == "pandas"


def test_bundled_world_matches_the_helpers_directly(bundled_frames) -> None:
    """Not only compute()'s pandas path: the numbers are the helpers' own."""
    o = bundled_frames["orders"]
    got = engines.compute("rfm", data_path())
    table = users.rfm_table(o).table.sort_values("customer_id")
    assert got["frequency"].sum() == table["frequency"].sum() == int((o["status"] == "completed").sum())
    np.testing.assert_allclose(got["monetary_amount"].sum(), table["monetary_amount"].sum(), rtol=1e-9)
    rate = engines.compute("repurchase_rate", data_path(), start="2025-01-01", end="2025-07-01")["rate"].iloc[0]
    assert rate == metrics.repurchase_rate(metrics.valid_orders(o), "2025-01-01", "2025-07-01")
    strict = engines.compute("funnel", data_path(), mode="strict")
    loose = engines.compute("funnel", data_path(), mode="loose")
    # about one buying session in six used "buy now" (no cart): strict counts fewer buyers
    assert strict["units"].iloc[2] < loose["units"].iloc[2]


@pytest.fixture(scope="module")
def blemished_world(tmp_path_factory):
    """A generated world (two shards, partitioned layout) with the generator's blemishes:
    cancelled/refunded orders, duplicated and out-of-window events, missing devices."""
    from ecomlab.simulate import write_world_chunked

    out = tmp_path_factory.mktemp("blemished")
    done = write_world_chunked(out, scale=0.12, seed=11, layout="partitioned", shard_scale=0.06)
    assert done["shards"] == 2
    return out


@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "rfm_thresholds"], ids=_ids)
def test_generated_partitioned_world_pandas_equals_duckdb(case, blemished_world) -> None:
    name, params = case
    ref = engines.compute(name, blemished_world, engine="pandas", **params)
    got = engines.compute(name, blemished_world, engine="duckdb", **params)
    assert_same(ref, got)


def test_generated_world_has_its_blemishes(blemished_world) -> None:
    ev = engines.compute("daily_kpis", blemished_world, start="2025-11-01", end="2025-12-01")
    assert ev.attrs["excluded"]["events_outside_window"] > 0
    assert ev.attrs["excluded"]["cancelled_orders"] > 0
    rfm = engines.compute("rfm", blemished_world)
    assert {"status=cancelled", "status=refunded"} <= set(rfm.attrs["excluded"])


def test_csv_folder_and_mapping_sources(tmp_path, bundled_frames) -> None:
    """A folder of CSV parts (hive layout) and a {table: path} mapping read like Parquet."""
    o = bundled_frames["orders"]
    o = o[o["order_ts"] < "2024-03-01"]
    for month, part in o.groupby(o["order_ts"].dt.strftime("%Y-%m")):
        folder = tmp_path / "csv" / "orders" / f"month={month}"
        folder.mkdir(parents=True)
        part.to_csv(folder / "part-0.csv", index=False)
    one = tmp_path / "one.csv"
    o.to_csv(one, index=False)
    a = engines.compute("rfm", tmp_path / "csv", engine="duckdb")
    b = engines.compute("rfm", {"orders": one}, engine="pandas")
    c = engines.compute("rfm", {"orders": one}, engine="duckdb")
    assert_same(b, a)
    assert_same(b, c)


# -------------------------------------------------------------------------------------
# Traps
# -------------------------------------------------------------------------------------
def _orders(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_ts", "status", "paid_amount"])
    df["order_ts"] = pd.to_datetime(df["order_ts"], format="ISO8601")
    return df


def _write(tmp_path, name: str, df: pd.DataFrame):
    tmp_path.mkdir(parents=True, exist_ok=True)
    df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    return tmp_path


def test_null_group_keys_left_out_and_counted_like_pandas_groupby(tmp_path) -> None:
    """SQL keeps a NULL customer as a group; pandas' groupby drops it. The rates drop it on
    every engine and say so; SQL without the filter would count one more buyer."""
    o = _orders([
        ("1", "a", "2025-01-02", "completed", 10.0), ("2", "a", "2025-01-03", "completed", 10.0),
        ("3", None, "2025-01-04", "completed", 10.0), ("4", None, "2025-01-05", "completed", 10.0),
        ("5", "b", "2025-01-06", "completed", 10.0),
    ])
    src = _write(tmp_path, "orders", o)
    for e in ("pandas", "duckdb"):
        r = engines.compute("repurchase_rate", src, engine=e)
        assert (r["buyers"].iloc[0], r["repeat_buyers"].iloc[0], r["rate"].iloc[0]) == (2, 1, 0.5)
        assert r.attrs["excluded"] == {"customer_id missing": 2}
        p = engines.compute("return_purchase_rate", src, engine=e, period1=("2025-01-01", "2025-01-04"),
                            period2=("2025-01-04", "2025-02-01"))
        assert (p["buyers"].iloc[0], p["returning_buyers"].iloc[0]) == (1, 0)
    with pytest.warns(UserWarning, match="missing 'customer_id'"):  # the helper agrees, and says what it left out
        assert metrics.repurchase_rate(o) == 0.5
    con = engines.duckdb_connection()
    naive = con.execute(f"SELECT COUNT(*) FROM (SELECT customer_id FROM '{src}/orders.parquet' "
                        "GROUP BY customer_id)").fetchone()[0]
    assert naive == 3  # the trap: the NULL group


def test_null_keys_refused_where_the_helper_refuses(tmp_path) -> None:
    o = _orders([("1", "a", "2025-01-02", "completed", 10.0), ("2", None, "2025-01-03", "completed", 5.0)])
    src = _write(tmp_path, "orders", o)
    for e in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match="customer_id.*missing"):
            engines.compute("rfm", src, engine=e)


def test_duplicate_order_ids_refused_like_the_helper(tmp_path) -> None:
    o = _orders([("1", "a", "2025-01-02", "completed", 10.0), ("1", "b", "2025-01-03", "completed", 5.0)])
    src = _write(tmp_path, "orders", o)
    for e in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match="duplicated order id"):
            engines.compute("cohort_matrix", src, engine=e)
    assert len(engines.compute("cohort_matrix", src, check_ids=False)) == 1


def _events(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["session_id", "visitor_id", "ts", "event"])
    df["ts"] = pd.to_datetime(df["ts"], format="ISO8601")
    return df


def test_strict_funnel_ties_and_row_order(tmp_path) -> None:
    """Same-second steps count as in order whatever the file's row order; a cart before
    the first pv does not count; a window ORDER BY ts would be ambiguous on these ties."""
    t = "2025-11-01 10:00:00"
    ev = _events([
        ("s1", "v1", t, "cart"), ("s1", "v1", t, "pv"), ("s1", "v1", t, "buy"),       # all tied
        ("s2", "v2", "2025-11-01 09:00", "cart"), ("s2", "v2", "2025-11-01 09:05", "pv"),
        ("s2", "v2", "2025-11-01 09:06", "buy"),                                          # cart too early
        ("s3", "v3", "2025-11-01 11:00", "pv"), ("s3", "v3", "2025-11-01 11:01", "cart"),
        ("s3", "v3", "2025-11-01 11:00:30", "buy"),                                       # buy before cart
    ])
    for order in (ev, ev.iloc[::-1]):
        src = _write(tmp_path / str(len(order)) / ("rev" if order is not ev else "fwd"), "events", order)
        for e in ("pandas", "duckdb"):
            f = engines.compute("funnel", src, engine=e, mode="strict")
            assert f["units"].tolist() == [3, 2, 1], (e, f)
            u = engines.compute("funnel", src, engine=e, mode="unordered")
            assert u["units"].tolist() == [3, 3, 3]


def test_integer_division_gives_fractions(tmp_path) -> None:
    ev = _events([("s1", "v1", "2025-11-01 10:00", "pv"), ("s2", "v2", "2025-11-01 10:00", "pv"),
                  ("s3", "v3", "2025-11-01 10:00", "pv"), ("s1", "v1", "2025-11-01 10:01", "cart")])
    src = _write(tmp_path, "events", ev)
    f = engines.compute("funnel", src, mode="loose")
    assert f["step_conversion"].iloc[1] == pytest.approx(1 / 3, rel=1e-15)
    con = engines.duckdb_connection()
    assert con.execute("SELECT 1 // 3, 1 / 3").fetchone() == (0, pytest.approx(1 / 3))
    assert "DIV" in engines.to_spark_sql("SELECT 1 // 3")  # the dialects' integer division


def test_day_boundaries_use_the_wall_clock_not_the_process_time_zone(tmp_path, monkeypatch) -> None:
    """Naive timestamps are wall-clock times: 23:59:59.999999 belongs to its day and 00:00
    to the next, whatever TZ the process or the DuckDB client defaults to."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    ev = pd.DataFrame({"visitor_id": ["v1", "v2", "v3"],
                       "ts": pd.to_datetime(["2025-11-01 23:59:59.999999", "2025-11-02 00:00:00",
                                             "2025-11-01 00:00:00"], format="ISO8601")})
    od = _orders([("1", "c1", "2025-11-01 23:59:59.999999", "completed", 5.0)])
    src = _write(tmp_path, "events", ev)
    _write(tmp_path, "orders", od)
    for e in ("pandas", "duckdb"):
        k = engines.compute("daily_kpis", src, engine=e)
        assert k["uv"].tolist() == [2, 1] and k["buyers"].tolist() == [1, 0], e
        assert k["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-11-01", "2025-11-02"]


def test_zone_aware_timestamps_are_read_in_utc(tmp_path) -> None:
    """A zone-aware column (TIMESTAMPTZ) is cut into days in UTC by the SQL engines: the
    sessions set their zone explicitly (a client default of Asia/Shanghai would move
    20:00 UTC to the next day). ``kpi.daily_kpis`` itself takes naive timestamps (the
    course's convention), so the reference is the same instants as naive UTC."""
    ts = pd.to_datetime(["2025-11-01 20:00", "2025-11-02 01:00"])
    ev = pd.DataFrame({"visitor_id": ["v1", "v2"], "ts": ts.tz_localize("UTC")})
    od = _orders([("1", "c1", "2025-11-01 21:00", "completed", 5.0)])
    src = _write(tmp_path, "events", ev)
    _write(tmp_path, "orders", od)
    a = engines.compute("daily_kpis", None, engine="pandas", frames={"events": ev.assign(ts=ts), "orders": od})
    b = engines.compute("daily_kpis", src, engine="duckdb")
    assert_same(a, b)
    assert a["uv"].tolist() == [1, 1]
    con = engines.duckdb_connection()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    shifted = con.execute(f"SELECT CAST(ts AS DATE) AS d FROM '{src}/events.parquet' ORDER BY ts").fetchall()
    assert str(shifted[0][0]) == "2025-11-02"  # the trap the UTC session avoids


def test_float_sums_differ_in_the_last_bits_and_are_compared_with_a_tolerance() -> None:
    x = np.random.default_rng(0).uniform(0, 1000, 100_001).round(2)
    s1, s2 = float(np.sum(x)), float(sum(x.tolist()))
    a, b = pd.DataFrame({"gmv": [s1]}), pd.DataFrame({"gmv": [s2]})
    assert engines.differences(a, b) == []
    assert engines.differences(a, pd.DataFrame({"gmv": [s1 * (1 + 1e-8)]}))


def test_definitions_use_exact_aggregates_only() -> None:
    """No approximate distinct counts or quantiles in any definition, in either dialect."""
    params = {"as_of": "2025-07-01", "calibration_end": "2025-10-01",
              "period1": ("2025-01-01", "2025-02-01"), "period2": ("2025-02-01", "2025-03-01")}
    names = ["rfm", "cohort_matrix", "rfm_summary", "funnel", "daily_kpis", "repurchase_rate",
             "return_purchase_rate"]
    for name in names:
        for spark in (False, True):
            sql = engines.sql_of(name, spark=spark, **params).lower()
            assert not re.search(r"approx|percentile|quantile|row_number|lag\(|lead\(", sql), (name, sql)
    assert "count(distinct" in engines.sql_of("daily_kpis", spark=True).lower()


def test_literals_are_quoted_not_injected(tmp_path) -> None:
    o = _orders([("1", "a", "2025-01-02", "it's done", 10.0), ("2", "a", "2025-01-09", "it's done", 5.0)])
    src = _write(tmp_path, "orders", o)
    r = engines.compute("rfm", src, statuses=("it's done",))
    assert r["frequency"].tolist() == [2]
    with pytest.raises(ValueError, match="control characters"):
        d.sql_literal("a\n; DROP TABLE orders", "statuses")


# -------------------------------------------------------------------------------------
# Validation
# -------------------------------------------------------------------------------------
def test_bad_arguments_name_what_was_expected(tmp_path) -> None:
    src = data_path()
    with pytest.raises(ValueError, match="name must be one of the metrics"):
        engines.compute("ltv", src)
    with pytest.raises(ValueError, match="engine must be one of"):
        engines.compute("rfm", src, engine="polars")
    with pytest.raises(ValueError, match="mode must be"):
        engines.compute("funnel", src, mode="sideways")
    with pytest.raises(ValueError, match="steps must be >= 2 distinct"):
        engines.compute("funnel", src, steps=("pv", "pv"))
    with pytest.raises(ValueError, match="freq must be"):
        engines.compute("cohort_matrix", src, freq="Q")
    with pytest.raises(ValueError, match="calibration_end=.*after the end of the data"):
        engines.compute("rfm_summary", src, calibration_end="2030-01-01")
    with pytest.raises(ValueError, match="no orders table"):
        engines.compute("rfm", tmp_path)
    bad = _write(tmp_path / "x", "orders", pd.DataFrame({"order_id": ["1"], "customer_id": ["a"]}))
    with pytest.raises(ValueError, match=r"orders is missing column\(s\) \['order_ts', 'status', 'paid_amount'\]"):
        engines.compute("rfm", bad)
    txt = _orders([("1", "a", "2025-01-02", "completed", 10.0)])
    txt["order_ts"] = txt["order_ts"].astype(str)
    with pytest.raises(ValueError, match="order_ts.*must be a timestamp, got varchar"):
        engines.compute("rfm", _write(tmp_path / "y", "orders", txt))
    empty = _orders([("1", "a", "2025-01-02", "completed", 10.0)]).iloc[:0]
    with pytest.raises(ValueError, match="orders is empty"):
        engines.compute("cohort_matrix", _write(tmp_path / "z", "orders", empty))


def test_one_row_and_all_excluded(tmp_path) -> None:
    one = _orders([("1", "a", "2025-01-02 10:00", "completed", 10.0)])
    src = _write(tmp_path / "one", "orders", one)
    for e in ("pandas", "duckdb"):
        r = engines.compute("rfm", src, engine=e)
        assert r[["recency_days", "frequency"]].values.tolist() == [[1, 1]]
        assert engines.compute("repurchase_rate", src, engine=e, start="2026-01-01")["rate"].isna().all()
    gone = _orders([("1", "a", "2025-01-02 10:00", "cancelled", 10.0), ("2", "b", "2025-01-03", "refunded", 1.0)])
    src = _write(tmp_path / "gone", "orders", gone)
    for e in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match="no purchases left"):
            engines.compute("rfm", src, engine=e)


# -------------------------------------------------------------------------------------
# Model fits stay local
# -------------------------------------------------------------------------------------
def test_bgnbd_and_gamma_gamma_fit_on_the_engines_compressed_summary(bundled_frames) -> None:
    summary = users.rfm_summary(bundled_frames["orders"], "2025-10-01")
    local = users.fit_bgnbd(summary)
    remote = engines.fit_bgnbd(data_path(), calibration_end="2025-10-01")
    for p in ("r", "alpha", "a", "b"):
        assert getattr(remote, p) == pytest.approx(getattr(local, p), rel=1e-6)
    assert remote.n_customers == local.n_customers == len(summary)
    gg_local = users.fit_gamma_gamma(summary)
    gg = engines.fit_gamma_gamma(data_path(), calibration_end="2025-10-01")
    for p in ("p", "q", "gamma"):
        assert getattr(gg, p) == pytest.approx(getattr(gg_local, p), rel=1e-5)
    assert gg.excluded == gg_local.excluded


def test_compressed_summary_is_small() -> None:
    s = users.rfm_summary(engines._read_pandas(data_path(), ("orders",))["orders"], "2025-10-01")
    c = engines.compressed_summary(s)
    assert c["customers"].sum() == len(s) and len(c) < len(s) / 3


# -------------------------------------------------------------------------------------
# Property: random order logs agree on every engine
# -------------------------------------------------------------------------------------
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 400 * 24), st.sampled_from(["completed", "cancelled",
                                                                                         "refunded"]),
                          st.floats(0.01, 5000, allow_nan=False).map(lambda x: round(x, 2))),
                min_size=1, max_size=60))
def test_random_orders_agree(tmp_path_factory, rows) -> None:
    o = pd.DataFrame({
        "order_id": [f"O{i:05d}" for i in range(len(rows))],
        "customer_id": [f"C{r[0]}" for r in rows],
        "order_ts": pd.Timestamp("2024-12-30") + pd.to_timedelta([r[1] for r in rows], unit="h"),
        "status": [r[2] for r in rows],
        "paid_amount": [r[3] for r in rows],
    })
    src = _write(tmp_path_factory.mktemp("prop"), "orders", o)
    frames = {"orders": o}
    cases = [("repurchase_rate", {}),
             ("return_purchase_rate", {"period1": ("2025-01-01", "2025-04-01"),
                                       "period2": ("2025-04-01", "2026-01-01")})]
    if (o["status"] == "completed").any():
        cases += [("rfm", {}), ("cohort_matrix", {"metric": "revenue"}), ("cohort_matrix", {"freq": "W"})]
    else:  # nothing kept: both refuse, with the same reason
        for e in ("pandas", "duckdb"):
            with pytest.raises(ValueError, match="no purchases left"):
                engines.compute("cohort_matrix", src if e == "duckdb" else None, engine=e, frames=frames)
    for name, params in cases:
        assert_same(engines.compute(name, None, engine="pandas", frames=frames, **params),
                    engines.compute(name, src, engine="duckdb", **params))
