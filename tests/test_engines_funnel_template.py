"""The ``funnel`` report template with ``engine="duckdb"`` / ``"spark"`` gives the same
report as with pandas (issue 18 item 3): every figure — the log's cleaning counts, strict
and loose funnels, cart abandonment, the funnels by device and by source, activity by
hour, the top paths — computed in the engine on the log cleaned there, compared as
tests/test_engines_templates.py compares the cohorts report (the same text from the first
section on, byte-identical figures). The metrics themselves: tests/test_engines_funnel.py.
"""

from __future__ import annotations

import io

import pytest
from test_engines_templates import FIRST_SECTION, _assert_same_report, _report, worlds  # noqa: F401 (fixture)

from ecomlab import reports

FIRST_SECTION.setdefault("funnel", "Data quality")


def test_funnel_contract_names_its_engine_metrics() -> None:
    from ecomlab import engines

    assert "funnel" in reports.engine_templates()
    assert set(reports.CONTRACTS["funnel"].engine_metrics) == {
        "events_quality", "funnel", "cart_abandonment", "hourly_activity", "top_paths"}
    assert set(reports.CONTRACTS["funnel"].engine_metrics) <= set(engines.METRICS)


def test_funnel_report_pandas_equals_duckdb_on_bundled_data(tmp_path) -> None:
    ref = _report("funnel", tmp_path, "pandas")
    got = _report("funnel", tmp_path, "duckdb")
    for sentence in ("exact duplicates", "went on through every step", "cart abandonment rate",
                     "Sessions with device", "Sessions with source", "Activity peaks", "most common session path"):
        assert sentence in ref[0], sentence  # every section ran, the segment ones included
    assert "Skipped" not in ref[0]
    assert len(ref[1]) == 4  # funnels, device, source, hours
    _assert_same_report(ref, got)


def test_funnel_report_with_a_given_window_pandas_equals_duckdb(tmp_path) -> None:
    """A window set by hand (more events outside it) and fewer paths: still the same report."""
    def run(engine):
        out = reports.render("funnel", tmp_path / f"w_{engine}.html", engine=engine, stream=io.StringIO(),
                             params={"window_start": "2025-11-03", "window_end": "2025-11-20", "top_n_paths": 3,
                                     "funnel_steps": "pv,fav,cart,buy"})
        return out.read_text(encoding="utf-8")

    import html
    import re

    texts = []
    for engine in ("pandas", "duckdb"):
        body = run(engine)
        figures = re.findall(r'<img[^>]*src="([^"]+)"', body)
        body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", body))))
        texts.append((text[text.index("Data quality"):], figures))
    assert "the window you set" in texts[0][0]
    _assert_same_report(*texts)


def test_funnel_report_pandas_equals_duckdb_on_partitioned_folder(worlds, tmp_path) -> None:  # noqa: F811
    """A generated world: the events as one file (pandas) and as day=…/ parts (DuckDB, whose
    view has the extra partition column; it changes neither the duplicates nor the paths)."""
    files, parts = worlds
    assert (parts / "events").is_dir() and not (parts / "events.parquet").exists()
    _assert_same_report(_report("funnel", tmp_path, "pandas", files), _report("funnel", tmp_path, "duckdb", parts))


def test_funnel_engine_refuses_clickstream_file_options(tmp_path) -> None:
    with pytest.raises(ValueError, match="event_map"):
        reports.load("funnel", None, engine="duckdb", event_map="view_item:pv")


def test_funnel_report_pandas_equals_spark(java, tmp_path) -> None:  # noqa: F811 (fixture)
    _assert_same_report(_report("funnel", tmp_path, "pandas"), _report("funnel", tmp_path, "spark"))


def test_validate_on_engine_reads_optional_columns_from_disk() -> None:
    """The table stays on disk: its optional columns are looked up in the file's schema
    (they were listed as absent while their sections ran)."""
    lines = "\n".join(reports.validate(None, "funnel", engine="duckdb").lines)
    assert "device (found)" in lines and "source (found)" in lines and "sku_id (found)" in lines
    assert "Funnel by device: will run" in lines
