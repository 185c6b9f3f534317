"""`ecomlab report NAME --engine pandas|duckdb|spark --data PATH` (issue 18 item 3): the same
template gives the same report — the same generated sentences, numbers and tables — whether
its core metric is computed by the pandas helpers or by ecomlab.engines on DuckDB / Spark,
on the bundled data and on a hive-partitioned Parquet folder; ``reports.load`` leaves the
orders on disk with an engine; a template without engine metrics refuses an engine.

Spark: one report through engine="spark" (the template's kernel starts one local Spark
session). Under ``CI=true`` a missing Java runtime is a failure, not a skip (as in
tests/test_engines_spark.py).
"""

from __future__ import annotations

import difflib
import html
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from ecomlab import datasets, metrics, reports
from ecomlab.cli import main
from ecomlab.simulate import write_world_chunked

FIRST_SECTION = "Customers and their RFM values"


def _report_text(path: Path) -> str:
    """The report's visible text from its first analysis section on (figures and styles
    dropped; the data summary above it names the engine, so it is left out)."""
    body = path.read_text(encoding="utf-8")
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<img[^>]*>", " ", body)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
    assert FIRST_SECTION in text, "the report lacks its first section"
    return text[text.index(FIRST_SECTION):]


def _render(tmp: Path, engine: str, data=None) -> str:
    out = reports.render("rfm", tmp / f"rfm_{engine}.html", data=data, engine=engine, stream=io.StringIO())
    return _report_text(out)


def _assert_same(a: str, b: str) -> None:
    if a != b:
        diff = difflib.unified_diff(a.split(". "), b.split(". "), "pandas", "engine", lineterm="", n=0)
        pytest.fail("reports differ:\n" + "\n".join(list(diff)[:12]))


def test_rfm_report_pandas_equals_duckdb_on_bundled_data(tmp_path) -> None:
    ref, got = _render(tmp_path, "pandas"), _render(tmp_path, "duckdb")
    kept = metrics.valid_orders(datasets.load("orders"))
    assert f"{kept['customer_id'].nunique():,} customers made {len(kept):,} purchases" in ref
    assert "Orders left out: " in ref and "status=refunded" in ref
    _assert_same(ref, got)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> tuple[Path, Path]:
    """The same small generated world written twice: files (read by pandas) and a
    hive-partitioned layout (orders/ and events/ folders of parts, read by the engines)."""
    root = tmp_path_factory.mktemp("report_worlds")
    files, parts = root / "files", root / "partitioned"
    assert write_world_chunked(files, scale=0.05, seed=11, layout="files")["shards"] == 1
    assert write_world_chunked(parts, scale=0.05, seed=11, layout="partitioned")["shards"] == 1
    return files, parts


def test_rfm_report_pandas_equals_duckdb_on_partitioned_folder(worlds, tmp_path) -> None:
    files, parts = worlds
    assert (parts / "orders").is_dir() and not (parts / "orders.parquet").exists()
    ref = _render(tmp_path, "pandas", files)
    got = _render(tmp_path, "duckdb", parts)
    _assert_same(ref, got)
    n = len(pd.read_parquet(files / "orders.parquet", columns=["customer_id"]).drop_duplicates())
    assert n > 100 and "customers made" in got


def test_load_with_an_engine_leaves_orders_on_disk(worlds) -> None:
    _, parts = worlds
    loaded = reports.load("rfm", parts, engine="duckdb")
    assert "orders" not in loaded.tables and loaded.engine == "duckdb"
    rows = len(pd.read_parquet(parts / "orders", columns=["order_id"]))
    assert loaded.rows("orders") == rows == loaded.on_disk["orders"][0]
    assert Path(loaded.data_path) == parts.resolve()
    check = reports.validate(parts, "rfm", engine="duckdb")
    assert check.ok and f"{rows:,} rows found (left on disk)" in str(check)


def test_load_with_an_engine_checks_columns_from_the_schema(tmp_path) -> None:
    (tmp_path / "orders").mkdir()
    pd.DataFrame({"order_id": ["o1"], "customer_id": ["c1"], "order_ts": [pd.Timestamp("2025-01-01")],
                  "status": ["paid"]}).to_parquet(tmp_path / "orders" / "part-0.parquet")
    with pytest.raises(ValueError, match=r"table 'orders' .* lacks columns \['paid_amount'\]"):
        reports.load("rfm", tmp_path, engine="duckdb")
    with pytest.raises(ValueError, match="not a folder"):
        reports.load("rfm", tmp_path / "orders" / "part-0.parquet", engine="duckdb")
    with pytest.raises(ValueError, match=r"engine must be one of"):
        reports.load("rfm", tmp_path, engine="polars")
    with pytest.raises(ValueError, match=r"options \['preset', 'timezone'\] apply to engine='pandas' only"):
        reports.load("rfm", tmp_path, engine="duckdb", preset="shopify", timezone="Asia/Shanghai")


def test_template_without_engine_refuses_naming_those_that_have_one(tmp_path, capsys) -> None:
    assert "rfm" in reports.engine_templates() and "ab_test" not in reports.engine_templates()
    with pytest.raises(ValueError, match=r"'ab_test' runs on pandas only; engine='duckdb' is supported by the "
                                         r"templates \[.*'rfm'.*\]"):
        reports.render("ab_test", tmp_path / "ab.html", engine="duckdb", stream=io.StringIO())
    assert not (tmp_path / "ab.html").exists()
    assert main(["report", "ab_test", "--engine", "duckdb", "--out", str(tmp_path / "ab.html")]) == 2
    assert f"supported by the templates {reports.engine_templates()}" in capsys.readouterr().err
    assert main(["validate", str(tmp_path), "--template", "ab_test", "--engine", "spark"]) == 1
    assert "runs on pandas only" in capsys.readouterr().out


def test_cli_report_duckdb_equals_pandas_with_an_as_of_inside_the_data(tmp_path, capsys) -> None:
    texts = {}
    for engine in ("pandas", "duckdb"):
        out = tmp_path / f"rfm_{engine}.html"
        assert main(["report", "rfm", "--engine", engine, "--param", "as_of=2025-10-01", "--out", str(out)]) == 0
        texts[engine] = _report_text(out)
    assert "with engine duckdb" in capsys.readouterr().out
    kept = metrics.valid_orders(datasets.load("orders"))  # left out by status first, then by date
    late = int((kept["order_ts"] >= "2025-10-01").sum())
    assert f"{late:,} on/after 2025-10-01" in texts["pandas"]  # orders after as_of are counted, not dropped
    _assert_same(texts["pandas"], texts["duckdb"])


def test_rfm_report_pandas_equals_spark(java, tmp_path) -> None:
    _assert_same(_render(tmp_path, "pandas"), _render(tmp_path, "spark"))
