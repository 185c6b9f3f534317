"""The ``kpi_tree`` report template with ``engine="duckdb"`` / ``"spark"`` gives the same
report as with pandas (issue 18 item 3): the orders' tree (every day from the first order
to the last, days without orders kept as zeros), the log's cleaning counts, the full tree
on the cleaned log's days, the two periods' trees and their LMDI splits, the alerts on the
daily tables and by device — the tables from the orders/events computed in the engine
(``orders_kpis``, ``events_quality``, ``daily_kpis`` with ``by=``, ``period_kpis``), the
rest from those small tables by the same pandas code. Compared as
tests/test_engines_templates.py compares the cohorts report (the same text from the first
section on, byte-identical figures). The metrics themselves: tests/test_engines_kpi.py.
"""

from __future__ import annotations

import io

import pytest
from test_engines_templates import FIRST_SECTION, _assert_same_report, _report, worlds  # noqa: F401 (fixture)

from ecomlab import reports

FIRST_SECTION.setdefault("kpi_tree", "The orders' tree")


def test_kpi_tree_contract_names_its_engine_metrics() -> None:
    from ecomlab import engines

    assert "kpi_tree" in reports.engine_templates()
    assert set(reports.CONTRACTS["kpi_tree"].engine_metrics) == {
        "orders_kpis", "events_quality", "daily_kpis", "period_kpis"}
    assert set(reports.CONTRACTS["kpi_tree"].engine_metrics) <= set(engines.METRICS)


def test_kpi_tree_report_pandas_equals_duckdb_on_bundled_data(tmp_path) -> None:
    ref = _report("kpi_tree", tmp_path, "pandas")
    got = _report("kpi_tree", tmp_path, "duckdb")
    for sentence in ("placed orders", "cancelled orders are not GMV", "Visitors come from the event log",
                     "In the full tree GMV moved", "Watching cr, buyers, gmv", "By device, conversion"):
        assert sentence in ref[0], sentence  # every section ran, the full tree and the device alerts included
    assert "Skipped" not in ref[0]
    assert len(ref[1]) == 3  # full tree, drivers, alerts
    _assert_same_report(ref, got)


def test_kpi_tree_report_with_set_periods_pandas_equals_duckdb(tmp_path) -> None:
    """Periods set by hand (two weeks of the log) and a trailing baseline: the same report."""
    params = {"after_start": "2025-11-17", "after_end": "2025-11-24", "before_start": "2025-11-03",
              "before_end": "2025-11-10", "baseline": "trailing", "z": "3"}

    def run(engine):
        import html
        import re

        out = reports.render("kpi_tree", tmp_path / f"p_{engine}.html", engine=engine, stream=io.StringIO(),
                             params=params)
        body = out.read_text(encoding="utf-8")
        figures = re.findall(r'<img[^>]*src="([^"]+)"', body)
        body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", body))))
        return text[text.index("The orders' tree"):], figures

    ref = run("pandas")
    assert "the periods you set" in ref[0] and "2025-11-17 to 2025-11-23" in ref[0]
    _assert_same_report(ref, run("duckdb"))


def test_kpi_tree_report_pandas_equals_duckdb_on_partitioned_folder(worlds, tmp_path) -> None:  # noqa: F811
    """A generated world with its blemishes (cancelled orders, duplicated and out-of-window
    events, missing devices): the tables as files (pandas) and as day=/month= parts (DuckDB)."""
    files, parts = worlds
    assert (parts / "events").is_dir() and (parts / "orders").is_dir()
    ref = _report("kpi_tree", tmp_path, "pandas", files)
    assert "Visitors come from the event log" in ref[0] and "By device" in ref[0]
    _assert_same_report(ref, _report("kpi_tree", tmp_path, "duckdb", parts))


def test_kpi_tree_orders_only_folder_pandas_equals_duckdb(tmp_path) -> None:
    """Orders alone (no event log): the orders' tree with its zero days, the two-factor
    splits and the alerts on orders — the same on both paths; the full tree is skipped."""
    import pandas as pd

    from ecomlab import datasets

    o = datasets.load("orders")
    o = o[(o["order_ts"] < "2024-04-01") & ~o["order_ts"].dt.strftime("%Y-%m-%d").isin(["2024-03-05", "2024-03-06"])]
    o.to_parquet(tmp_path / "orders.parquet", index=False)
    ref = _report("kpi_tree", tmp_path, "pandas", tmp_path)
    assert "Skipped" in ref[0] and "placed orders" in ref[0]
    got = _report("kpi_tree", tmp_path, "duckdb", tmp_path)
    _assert_same_report(ref, got)
    from ecomlab import engines

    daily = engines.compute("orders_kpis", tmp_path)
    zero = daily.set_index("date").loc[[pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06")]]
    assert (zero[["orders", "buyers"]] == 0).all().all() and (zero["gmv"] == 0).all()


def test_kpi_tree_report_pandas_equals_spark(java, tmp_path) -> None:  # noqa: F811 (fixture)
    _assert_same_report(_report("kpi_tree", tmp_path, "pandas"), _report("kpi_tree", tmp_path, "spark"))


def test_kpi_tree_engine_refuses_export_options() -> None:
    with pytest.raises(ValueError, match="timezone"):
        reports.load("kpi_tree", None, engine="duckdb", timezone="Asia/Shanghai")


def test_validate_on_engine_keeps_the_optional_event_log_on_disk() -> None:
    lines = "\n".join(reports.validate(None, "kpi_tree", engine="duckdb").lines)
    assert "optional  events: visitor_id, ts  392,554 rows found (left on disk)" in lines
    assert "The full tree: visitors × conversion × spend per buyer: will run" in lines
