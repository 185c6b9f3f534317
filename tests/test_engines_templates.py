"""Report templates run with ``engine="duckdb"`` / ``"spark"`` give the same report as with
pandas (issue 18 item 3): the same generated sentences, numbers and tables, and the same
figures (byte-identical PNGs), on the bundled data and on a generated world whose orders
are a hive-partitioned folder. Only the data summary above the first section differs (it
names the engine and says the orders stay on disk). rfm: tests/test_reports_engines.py.

Spark: one cohorts report (the template's kernel starts a local Spark session). Under
``CI=true`` a missing Java runtime is a failure, not a skip.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from test_reports_engines import _assert_same  # tests/ is on sys.path

from ecomlab import reports

#: template -> its first analysis section (the report is compared from there on)
FIRST_SECTION = {"cohorts": "Your orders"}


def _report(name: str, tmp: Path, engine: str, data=None) -> tuple[str, list[str]]:
    """(visible text from the first analysis section on, the embedded figures)."""
    out = reports.render(name, tmp / f"{name}_{engine}.html", data=data, engine=engine, stream=io.StringIO())
    body = out.read_text(encoding="utf-8")
    figures = re.findall(r'<img[^>]*src="([^"]+)"', body)
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", body))))
    first = FIRST_SECTION[name]
    assert first in text, f"the {name} report lacks its first section {first!r}"
    return text[text.index(first):], figures


def _assert_same_report(a: tuple[str, list[str]], b: tuple[str, list[str]]) -> None:
    _assert_same(a[0], b[0])
    assert len(a[1]) == len(b[1]) > 0, (len(a[1]), len(b[1]))
    differ = [i for i, (x, y) in enumerate(zip(a[1], b[1], strict=True)) if x != y]
    assert not differ, f"figures {differ} differ"


def test_templates_with_engine_metrics() -> None:
    assert {"rfm", "cohorts"} <= set(reports.engine_templates())
    assert set(reports.CONTRACTS["cohorts"].engine_metrics) == {
        "orders_overview", "repurchase_rate", "return_purchase_rate", "cohort_matrix", "second_purchase"}


def test_cohorts_report_pandas_equals_duckdb_on_bundled_data(tmp_path) -> None:
    ref = _report("cohorts", tmp_path, "pandas")
    got = _report("cohorts", tmp_path, "duckdb")
    for sentence in ("kept purchases", "复购率", "回购率", "cohorts", "Kaplan–Meier", "acquired through"):
        assert sentence in ref[0], sentence  # every section ran, the channel one included
    assert "Skipped" not in ref[0]
    _assert_same_report(ref, got)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> tuple[Path, Path]:
    """One small generated world written as files (pandas) and hive-partitioned (engines)."""
    from ecomlab.simulate import write_world_chunked

    root = tmp_path_factory.mktemp("template_worlds")
    files, parts = root / "files", root / "partitioned"
    write_world_chunked(files, scale=0.05, seed=11, layout="files")
    write_world_chunked(parts, scale=0.05, seed=11, layout="partitioned")
    return files, parts


def test_cohorts_report_pandas_equals_duckdb_on_partitioned_folder(worlds, tmp_path) -> None:
    files, parts = worlds
    assert (parts / "orders").is_dir() and not (parts / "orders.parquet").exists()
    _assert_same_report(_report("cohorts", tmp_path, "pandas", files), _report("cohorts", tmp_path, "duckdb", parts))


def test_cohorts_report_pandas_equals_spark(java, tmp_path) -> None:
    _assert_same_report(_report("cohorts", tmp_path, "pandas"), _report("cohorts", tmp_path, "spark"))


def test_cohorts_report_refuses_duplicated_order_ids_on_every_engine(tmp_path) -> None:
    """The engine path checks order ids once (its first cohort call) and skips the check in
    the later calls; a duplicated id is still refused, as the pandas path refuses it."""
    import pandas as pd

    from ecomlab import datasets

    o = datasets.load("orders")
    o = o[o["order_ts"] < "2024-05-01"]
    pd.concat([o, o.iloc[:1]], ignore_index=True).to_parquet(tmp_path / "orders.parquet", index=False)
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match="duplicate"):
            reports.render("cohorts", tmp_path / f"dup_{engine}.html", data=tmp_path, engine=engine,
                           stream=io.StringIO())
        assert not (tmp_path / f"dup_{engine}.html").exists()


def test_cohorts_report_same_when_a_channel_has_no_kept_purchase(tmp_path) -> None:
    """A channel whose customers only cancelled or refunded has no cohort: both paths leave
    it out of the channel table (the pandas path used to stop on it) and say the same."""
    from ecomlab import datasets, metrics

    o = datasets.load("orders")
    cust = datasets.load("customers")
    small = cust["acquisition_channel"].value_counts().index[-1]  # the rarest channel keeps only its non-purchases
    ids = cust.loc[cust["acquisition_channel"] == small, "customer_id"]
    o = o[(o["order_ts"] < "2024-09-01")
          & ~(o["customer_id"].isin(ids) & o["status"].isin(metrics.VALID_STATUSES))]
    assert o["customer_id"].isin(ids).any()
    o.to_parquet(tmp_path / "orders.parquet", index=False)
    cust.to_parquet(tmp_path / "customers.parquet", index=False)
    ref = _report("cohorts", tmp_path, "pandas", tmp_path)
    assert "acquired through" in ref[0] and f" {small} " not in ref[0].split("acquired through")[1]
    _assert_same_report(ref, _report("cohorts", tmp_path, "duckdb", tmp_path))
