"""ecomlab.engines on Spark (local[2]): the same results as pandas on the bundled world,
on a generated hive-partitioned world with blemishes, and on the traps (ties, day
boundaries, NULL keys). Few tests sharing one Spark session (the JVM takes ~10 s to start).

Spark needs a Java runtime: ``.ci/run`` installs one when ``java`` is missing. Under
``CI=true`` a missing Java is a failure, not a skip (a skipped engine test is not a passed
one); on a laptop without Java these tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib

import pandas as pd
import pytest

from ecomlab import engines
from ecomlab.datasets import data_path

CASES = [
    ("rfm", {}),
    ("cohort_matrix", {}),
    ("cohort_matrix", {"freq": "W", "metric": "revenue"}),
    ("rfm_summary", {"calibration_end": "2025-10-01"}),
    ("funnel", {"mode": "strict"}),
    ("funnel", {"mode": "loose", "unit": "visitor"}),
    ("daily_kpis", {"start": "2025-11-01", "end": "2025-12-01"}),
    ("return_purchase_rate", {"period1": ("2025-01-01", "2025-04-01"), "period2": ("2025-04-01", "2025-07-01")}),
]


@pytest.fixture(scope="module")
def spark(java):  # noqa: ARG001 (tests/conftest.py: skip without Java, fail under CI)
    s = engines.spark_session("local[2]")
    yield s
    engines.stop_spark()


def _same(a: pd.DataFrame, b: pd.DataFrame, label: str) -> list[str]:
    return [f"{label}: {x}" for x in engines.differences(a, b)]


def test_bundled_world_pandas_equals_spark(spark) -> None:
    from test_engines_cohorts import (
        COHORT_CASES,  # the cohorts template's metrics (tests/ is on sys.path)
    )

    frames = engines._read_pandas(data_path(), ("orders", "events", "customers"))
    problems = []
    for name, params in CASES + COHORT_CASES:  # one test, one session: each case is a few Spark jobs
        ref = engines.compute(name, None, engine="pandas", frames=frames, **params)
        got = engines.compute(name, data_path(), engine="spark", **params)
        problems += _same(ref, got, f"{name} {params}")
    assert not problems, "\n".join(problems)


def _warns_if(expected: bool, match: str):
    return pytest.warns(UserWarning, match=match) if expected else contextlib.nullcontext()


def test_generated_partitioned_world_pandas_equals_spark(spark, tmp_path_factory) -> None:
    from ecomlab.simulate import write_world_chunked

    out = tmp_path_factory.mktemp("spark_world")
    write_world_chunked(out, scale=0.08, seed=5, layout="partitioned", shard_scale=0.04)
    problems = []
    for name, params in [("funnel", {"mode": "strict", "steps": ("pv", "fav", "cart", "buy")}),
                         ("daily_kpis", {"on_inconsistent": "warn"}), ("cohort_matrix", {"freq": "W"}),
                         ("rfm_summary", {"calibration_end": "2025-12-01"})]:
        # the blemished world has a day with more buyers than visitors: both engines say so
        with _warns_if(name == "daily_kpis", "more buyers"):
            ref = engines.compute(name, out, engine="pandas", **params)
        with _warns_if(name == "daily_kpis", "more buyers"):
            got = engines.compute(name, out, engine="spark", **params)
        problems += _same(ref, got, f"{name} {params}")
    assert not problems, "\n".join(problems)


def test_traps_on_spark(spark, tmp_path) -> None:
    """Ties in the strict funnel, wall-clock day boundaries, NULL customers, integer
    division, exact distinct counts — in one Spark round."""
    t = "2025-11-01 10:00:00"
    ev = pd.DataFrame(
        [("s1", "v1", t, "cart"), ("s1", "v1", t, "pv"), ("s1", "v1", t, "buy"),
         ("s2", "v2", "2025-11-01 09:00:00", "cart"), ("s2", "v2", "2025-11-01 09:05:00", "pv"),
         ("s2", "v2", "2025-11-01 09:06:00", "buy"),
         ("s3", "v3", "2025-11-01 23:59:59.999999", "pv"), ("s3", "v3", "2025-11-02 00:00:00", "cart")],
        columns=["session_id", "visitor_id", "ts", "event"])
    ev["ts"] = pd.to_datetime(ev["ts"], format="ISO8601")
    od = pd.DataFrame({"order_id": ["1", "2", "3", "4"], "customer_id": ["a", "a", None, "b"],
                       "order_ts": pd.to_datetime(["2025-11-01 23:59:59", "2025-11-02 00:00:00",
                                                   "2025-11-01 12:00:00", "2025-11-01 13:00:00"]),
                       "status": ["completed"] * 4, "paid_amount": [0.1, 0.2, 5.0, 0.3]})
    ev.iloc[::-1].to_parquet(tmp_path / "events.parquet", index=False)
    od.to_parquet(tmp_path / "orders.parquet", index=False)
    strict = engines.compute("funnel", tmp_path, engine="spark", mode="strict")
    assert strict["units"].tolist() == [3, 2, 1]
    assert strict["step_conversion"].iloc[1] == pytest.approx(2 / 3, rel=1e-15)
    rep = engines.compute("repurchase_rate", tmp_path, engine="spark")
    assert (rep["buyers"].iloc[0], rep["repeat_buyers"].iloc[0]) == (2, 1)
    assert rep.attrs["excluded"] == {"customer_id missing": 1}
    od.dropna().to_parquet(tmp_path / "known.parquet", index=False)
    kpis = engines.compute("daily_kpis", {"events": tmp_path / "events.parquet", "orders": tmp_path / "known.parquet"},
                           engine="spark")
    ref = engines.compute("daily_kpis", None, engine="pandas", frames={"events": ev, "orders": od.dropna()})
    assert not engines.differences(ref, kpis), engines.differences(ref, kpis)
    assert kpis["uv"].tolist() == [3, 1] and kpis["buyers"].tolist() == [2, 1]
    assert kpis["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-11-01", "2025-11-02"]
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    with pytest.raises(ValueError, match="orders has missing paid_amount or customer_id"):
        engines.compute("daily_kpis", tmp_path, engine="spark")


def test_cohort_traps_on_spark(spark, tmp_path) -> None:
    """Ties at the first purchase (0 days), customers without a channel (a NULL group in
    SQL) left out and counted, a cohort whose own month 1 is not observed — as pandas."""
    od = pd.DataFrame({
        "order_id": list("1234567"), "customer_id": list("aaabcdb"),
        "order_ts": pd.to_datetime(["2025-01-03 10:00", "2025-01-03 10:00", "2025-02-03", "2025-01-10",
                                    "2025-02-10", "2025-02-11", "2025-03-02"], format="ISO8601"),
        "status": ["completed"] * 6 + ["refunded"], "paid_amount": [10.0, 0.1, 0.2, 5.0, 7.0, 8.0, 9.0]})
    od.to_parquet(tmp_path / "orders.parquet", index=False)
    pd.DataFrame({"customer_id": ["a", "b", "c"], "acquisition_channel": ["x", "y", None]}).to_parquet(
        tmp_path / "customers.parquet", index=False)
    problems = []
    for name, params in [("second_purchase", {}), ("orders_overview", {}),
                         ("cohort_matrix", {"by": "acquisition_channel", "metric": "revenue", "end": "2025-03-01"})]:
        ref = engines.compute(name, tmp_path, engine="pandas", **params)
        got = engines.compute(name, tmp_path, engine="spark", **params)
        problems += _same(ref, got, f"{name} {params}")
    assert not problems, "\n".join(problems)
    assert got.attrs["excluded"]["customers without acquisition_channel"] == 2  # c (None), d (not listed)
    sp = engines.compute("second_purchase", tmp_path, engine="spark")
    assert sp["duration_days"].iloc[0] == 0.0 and sp["observed"].tolist() == [True, False, False, False]
