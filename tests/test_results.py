"""Tests for ecomlab.results: what a lesson's results cell records and how it is read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecomlab.results import RESULTS_DIR_ENV, read, record, to_frame


@pytest.fixture
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RESULTS_DIR_ENV, str(tmp_path / "res"))
    return tmp_path / "res"


def test_record_writes_json_and_returns_table(results_dir: Path) -> None:
    table = record("04-1", champions_share=0.12, n_segments=5, winner="B", srm=False)
    assert isinstance(table, pd.DataFrame)
    assert table.index.tolist() == ["champions_share", "n_segments", "winner", "srm"]
    assert table.loc["n_segments", "value"] == 5
    payload = json.loads((results_dir / "04-1.json").read_text(encoding="utf-8"))
    assert payload == {
        "lesson": "04-1",
        "values": {"champions_share": 0.12, "n_segments": 5, "winner": "B", "srm": False},
    }


def test_record_converts_numpy_scalars_and_dicts(results_dir: Path) -> None:
    record(
        "03-2",
        roas=np.float64(3.5),
        orders=np.int64(42),
        flag=np.bool_(True),
        by_channel={"search_ads": np.float32(0.5), "feed_ads": 2},
    )
    values = read("03-2", results_dir)
    assert values == {
        "roas": 3.5,
        "orders": 42,
        "flag": True,
        "by_channel": {"search_ads": 0.5, "feed_ads": 2},
    }
    assert type(values["orders"]) is int and type(values["flag"]) is bool


def test_record_without_env_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(RESULTS_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    table = record("05-1", lift=0.03)
    assert table.loc["lift", "value"] == 0.03
    assert list(tmp_path.iterdir()) == []


def test_record_overwrites_previous_run(results_dir: Path) -> None:
    record("02-1", x=1)
    record("02-1", x=2)
    assert read("02-1", results_dir) == {"x": 2}
    assert [p.name for p in results_dir.iterdir()] == ["02-1.json"]  # no temp files left


def test_dict_values_display_as_dotted_rows() -> None:
    frame = to_frame({"lift": 0.1, "roi": {"coupon": 1.5, "video": 0.8}})
    assert frame.index.tolist() == ["lift", "roi.coupon", "roi.video"]
    assert frame.columns.tolist() == ["value"]


@pytest.mark.parametrize("lesson", ["", "   ", None, 41, "../escape", "a/b", "-x"])
def test_record_rejects_bad_lesson_ids(lesson, results_dir: Path) -> None:
    with pytest.raises(ValueError, match="lesson"):
        record(lesson, x=1)


def test_record_needs_values(results_dir: Path) -> None:
    with pytest.raises(ValueError, match="at least one value"):
        record("04-1")


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"when": pd.Timestamp("2025-01-01")}, "when"),
        ({"arr": np.array([1.0, 2.0])}, "arr"),
        ({"missing": None}, "missing"),
        ({"bad": float("nan")}, "bad"),
        ({"inf": np.float64("inf")}, "inf"),
        ({"nested": {"a": [1, 2]}}, "nested.a"),
        ({"nested": {"a": {"b": 1}}}, "nested.a"),
        ({"empty": {}}, "empty"),
    ],
)
def test_record_rejects_unserialisable_values_naming_the_key(values, key, results_dir) -> None:
    with pytest.raises(ValueError, match=f"'{key}'"):
        record("04-1", **values)
    assert not (results_dir / "04-1.json").exists()


def test_read_reports_what_is_there(results_dir: Path) -> None:
    record("01-1", share=0.3)
    with pytest.raises(FileNotFoundError, match="01-1"):
        read("01-2", results_dir)
    with pytest.raises(FileNotFoundError, match="nothing"):
        read("01-2", results_dir / "missing")
