"""Answers as data (ecomlab.exercises._submit): round trips, hostile files, grading mode."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab.exercises import ____, _submit
from ecomlab.exercises import _demo as demo
from ecomlab.exercises._submit import (
    AnswerFileError,
    Raised,
    Unsupported,
    read_answer,
    write_answer,
)


def roundtrip(tmp_path, value):
    return read_answer(write_answer(tmp_path, "t.q1", value))["value"]


@pytest.mark.parametrize("value", [1, -2**70, 0.1, True, None, "标签", [1, "a"], (1, 2.5), {"x", "y"},
                                   {"a": [1, {"b": None}]}])
def test_plain_values_round_trip(tmp_path, value):
    assert roundtrip(tmp_path, value) == value


def test_nan_inf_placeholder_and_numpy_scalars(tmp_path):
    got = roundtrip(tmp_path, [float("nan"), float("inf"), np.float32(0.5), np.int64(3), ____])
    assert np.isnan(got[0]) and got[1] == float("inf") and got[2:4] == [0.5, 3] and got[4] is ____


def test_frames_series_index_arrays_round_trip(tmp_path):
    df = pd.DataFrame({"a": [1, 2], 3: pd.Categorical(["x", "y"]), ("t", 1): [0.5, None]},
                      index=pd.MultiIndex.from_tuples([("k", 1), ("k", 2)], names=["g", None]))
    got = roundtrip(tmp_path, df)
    pd.testing.assert_frame_equal(got, df)
    s = pd.Series([1.5, 2.5], index=pd.Index(["u", "v"], name="id"), name=("m", 2))
    pd.testing.assert_series_equal(roundtrip(tmp_path, s), s)
    idx = pd.Index(["c1", "c2"], name="customer_id")
    pd.testing.assert_index_equal(roundtrip(tmp_path, idx), idx)
    arr = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(roundtrip(tmp_path, arr), arr)
    assert roundtrip(tmp_path, pd.Timestamp("2025-11-11")) == pd.Timestamp("2025-11-11")
    rng = pd.DataFrame({"a": [1]})
    assert isinstance(roundtrip(tmp_path, rng).index, pd.RangeIndex)


def test_objects_become_unsupported_and_raised_survives(tmp_path):
    got = roundtrip(tmp_path, [object(), Raised("KeyError", "'x'"),
                               pd.DataFrame({"a": [object()]})])
    assert isinstance(got[0], Unsupported) and got[0] == "object"
    assert isinstance(got[1], Raised) and got[1].type_name == "KeyError"
    assert isinstance(got[2], Unsupported)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(allow_nan=False) | st.integers(-10**6, 10**6) | st.text(max_size=5),
                max_size=8))
def test_property_lists_round_trip(tmp_path_factory, values):
    d = tmp_path_factory.mktemp("rt")
    assert roundtrip(d, values) == values


def test_hostile_files_are_refused(tmp_path, monkeypatch):
    p = tmp_path / "1-1-1-t.q1.json"
    p.write_text("{not json")
    with pytest.raises(AnswerFileError, match="not valid JSON"):
        read_answer(p)
    p.write_text(json.dumps({"question_id": "t.q1", "value": {"t": "frame", "file": "../etc/passwd",
                                                              "columns": []}}))
    with pytest.raises(AnswerFileError, match="bad side-file"):
        read_answer(p)
    p.write_text(json.dumps({"question_id": "t.q1", "value": {"t": "pickle", "v": "gASV"}}))
    with pytest.raises(AnswerFileError, match="unknown value type"):
        read_answer(p)
    link = tmp_path / "2-1-1-t.q1.json"
    link.symlink_to(p)
    with pytest.raises(AnswerFileError, match="not a regular file"):
        read_answer(link)
    big = write_answer(tmp_path, "t.q1", pd.DataFrame({"a": np.arange(1000)}))
    monkeypatch.setattr(_submit, "MAX_CELLS", 10)
    with pytest.raises(AnswerFileError, match="cap"):
        read_answer(big)
    monkeypatch.setattr(_submit, "MAX_FILE_BYTES", 10)
    with pytest.raises(AnswerFileError, match="bytes"):
        read_answer(big)
    with pytest.raises(ValueError, match="question_id"):
        write_answer(tmp_path, "../x", 1)


def test_grading_mode_submits_and_withholds(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOMLAB_SUBMIT_DIR", str(tmp_path))
    res = demo.q1.check(137.5)
    assert res.status == "submitted" and not res
    with pytest.raises(RuntimeError, match="withheld"):
        demo.q1.expected  # noqa: B018
    assert "withheld" in demo.q2.solution().body
    demo.q5.check(demo.repurchase_rate)
    demo.q3.check()
    files = sorted(tmp_path.glob("*.json"))
    answers = [read_answer(f) for f in files]
    assert [a["question_id"] for a in answers] == ["_demo.q1", "_demo.q5", "_demo.q3"]
    monkeypatch.delenv("ECOMLAB_SUBMIT_DIR")
    assert demo.q1.grade(answers[0]["value"]).status == "correct"
    assert answers[1]["function_outputs"] and demo.q5.grade(answers[1]["value"],
                                                            function_outputs=True).correct
    assert demo.q3.grade(answers[2]["value"]).status == "not_attempted"
    assert demo.q5.grade([1.0], function_outputs=True).status == "incorrect"
    assert demo.q1.grade(Unsupported("Figure")).status == "incorrect"
