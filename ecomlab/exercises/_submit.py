"""Answers as data: how a graded kernel hands an answer to the grader without pickle.

While ``ecomlab grade`` runs a returned notebook, ``q.check(answer)`` does not judge the
answer in the student's kernel: it writes the answer *as data* into the run's private
``answers/`` folder (:func:`write_answer`) and the grader, in its own process, reads it
back (:func:`read_answer`) and compares it with the expected value it computed itself.

The format is data-only, so reading a file a student made can never run code:

- one JSON document per answer (``<seq>-<question id>.json``) describing the value;
- numbers, strings, booleans, ``None``, lists, tuples, sets and dicts inline in JSON
  (floats as ``repr`` text so NaN and ±inf survive);
- DataFrames, Series, Index and NumPy arrays as Parquet side files read with
  :mod:`pyarrow` (typed columns, no Python objects; column and index names are stored in
  the JSON, the Parquet columns are named ``c0``, ``c1``, … and ``i0``, … so any label
  survives);
- anything else (a model object, a figure) becomes ``{"t": "unsupported"}`` with its type
  name, which the grader reports as an answer it cannot grade.

Pickle is never used: unpickling a student-made file runs arbitrary code in the grader.
The reader refuses files above a size cap and Parquet files with more cells than a cap,
so a crafted file cannot exhaust the grader's memory either.

>>> import tempfile, pandas as pd
>>> d = tempfile.mkdtemp()
>>> p = write_answer(d, "demo.q1", pd.Series([1.5, None], index=["a", "b"], name="x"))
>>> read_answer(p)["value"]
a    1.5
b    NaN
Name: x, dtype: float64
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Environment variable naming the folder where a graded kernel writes its answers.
SUBMIT_ENV = "ECOMLAB_SUBMIT_DIR"
#: Largest answer file (JSON or Parquet) the grader reads, in bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Largest table (rows × columns) the grader reads from one Parquet file.
MAX_CELLS = 20_000_000
#: Deepest nesting of lists/dicts accepted.
MAX_DEPTH = 20

_ID_RE = re.compile(r"^[A-Za-z0-9_.]+$")
_counter = itertools.count(1)


class Unsupported(str):
    """Marker for an answer the format cannot carry; its text is the type name."""


class Raised:
    """A student's function that raised on a case: exception type and message."""

    def __init__(self, type_name: str, message: str) -> None:
        self.type_name = type_name
        self.message = message

    def __repr__(self) -> str:
        return f"{self.type_name}: {self.message}"


class _Writer:
    def __init__(self, folder: Path, stem: str) -> None:
        self.folder = folder
        self.stem = stem
        self.n = 0

    def parquet(self, frame: pd.DataFrame) -> str:
        self.n += 1
        name = f"{self.stem}.{self.n}.parquet"
        frame.to_parquet(self.folder / name, engine="pyarrow", index=False)
        return name

    def encode(self, value: Any, depth: int = 0) -> dict[str, Any]:
        from ecomlab.exercises.core import _is_placeholder

        if depth > MAX_DEPTH:
            return {"t": "unsupported", "type": "nesting deeper than 20 levels"}
        if _is_placeholder(value):
            return {"t": "placeholder"}
        if value is None:
            return {"t": "none"}
        if isinstance(value, Raised):
            return {"t": "raised", "type": value.type_name, "message": value.message[:2000]}
        if isinstance(value, np.generic) and not isinstance(value, (np.datetime64, np.timedelta64)):
            value = value.item()
        if isinstance(value, bool):
            return {"t": "bool", "v": value}
        if isinstance(value, int):
            return {"t": "int", "v": str(value)}
        if isinstance(value, float):
            return {"t": "float", "v": repr(value)}
        if isinstance(value, str):
            return {"t": "str", "v": value}
        if isinstance(value, (list, tuple, set, frozenset)):
            kind = {list: "list", tuple: "tuple"}.get(type(value), "set")
            if isinstance(value, (set, frozenset)):
                items = sorted(value, key=repr)
            else:
                items = list(value)
            return {"t": kind, "items": [self.encode(v, depth + 1) for v in items]}
        if isinstance(value, dict):
            return {"t": "dict", "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                           for k, v in value.items()]}
        if isinstance(value, pd.DataFrame):
            return self._frame(value, "frame", depth)
        if isinstance(value, pd.Series):
            return self._frame(value.to_frame(name=0), "series", depth,
                               name=self.encode(value.name, depth + 1))
        if isinstance(value, pd.Index):
            return self._frame(pd.DataFrame({0: value}), "index", depth,
                               name=self.encode(value.name, depth + 1))
        if isinstance(value, np.ndarray):
            flat = pd.DataFrame({0: value.reshape(-1)})
            out = self._frame(flat, "ndarray", depth)
            out["shape"] = list(value.shape)
            return out
        if isinstance(value, (pd.Timestamp, pd.Timedelta, np.datetime64, np.timedelta64)):
            return self._frame(pd.DataFrame({0: [value]}), "scalar", depth)
        return {"t": "unsupported", "type": type(value).__name__}

    def _frame(self, frame: pd.DataFrame, kind: str, depth: int, **extra: Any) -> dict[str, Any]:
        columns = [self.encode(c, depth + 1) for c in frame.columns]
        range_index = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 \
            and frame.index.step == 1
        index_names = [self.encode(n, depth + 1) for n in frame.index.names]
        flat = frame.copy()
        flat.columns = [f"c{i}" for i in range(frame.shape[1])]
        if not range_index:
            idx = frame.index.to_frame(index=False)
            idx.columns = [f"i{j}" for j in range(idx.shape[1])]
            flat = pd.concat([idx, flat.reset_index(drop=True)], axis=1)
        else:
            flat = flat.reset_index(drop=True)
        try:
            file = self.parquet(flat)
        except Exception as exc:  # e.g. a column of arbitrary Python objects
            return {"t": "unsupported", "type": f"{type(frame).__name__} ({type(exc).__name__}: "
                                                 f"{str(exc)[:120]})"}
        return {"t": kind, "file": file, "columns": columns, "index_names": index_names,
                "range_index": range_index, "n_index": 0 if range_index else frame.index.nlevels,
                **extra}


def write_answer(folder: str | os.PathLike[str], question_id: str, value: Any, *,
                 function_outputs: bool = False) -> Path:
    """Write ``value`` as the newest answer to ``question_id`` in ``folder``; return the JSON path.

    ``function_outputs=True`` marks ``value`` as the list of a student's function outputs
    on the question's cases (:class:`~ecomlab.exercises.FunctionAnswer`).
    """
    if not _ID_RE.match(question_id):
        raise ValueError(f"question_id must be letters, digits, '_' or '.', got {question_id!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}-{question_id}"
    writer = _Writer(folder, stem)
    doc = {"question_id": question_id, "function_outputs": function_outputs,
           "value": writer.encode(value)}
    tmp = folder / f".{stem}.json.tmp"
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    path = folder / f"{stem}.json"
    tmp.replace(path)
    return path


class AnswerFileError(ValueError):
    """An answer file the grader refuses to read (too large, malformed)."""


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if path.is_symlink() or not path.is_file():
        raise AnswerFileError(f"{path.name} is missing or not a regular file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise AnswerFileError(f"{path.name} is {size:,} bytes; the cap is {MAX_FILE_BYTES:,}")
    meta = pq.ParquetFile(path).metadata
    if meta.num_rows * max(meta.num_columns, 1) > MAX_CELLS:
        raise AnswerFileError(f"{path.name} holds {meta.num_rows:,} rows × {meta.num_columns} "
                              f"columns; the cap is {MAX_CELLS:,} cells")
    return pq.read_table(path).to_pandas()


def _decode(doc: Any, folder: Path, depth: int = 0) -> Any:
    from ecomlab.exercises.core import ____

    if depth > MAX_DEPTH + 2 or not isinstance(doc, dict):
        raise AnswerFileError("malformed answer document")
    t = doc.get("t")
    if t == "placeholder":
        return ____
    if t == "none":
        return None
    if t == "bool":
        return bool(doc["v"])
    if t == "int":
        text = str(doc["v"])
        if len(text) > 400:
            raise AnswerFileError("integer too long")
        return int(text)
    if t == "float":
        return float(doc["v"])
    if t == "str":
        return str(doc["v"])
    if t in ("list", "tuple", "set"):
        items = [_decode(v, folder, depth + 1) for v in doc["items"]]
        if t == "list":
            return items
        if t == "tuple":
            return tuple(items)
        try:
            return set(items)
        except TypeError:
            return items
    if t == "dict":
        return {_hashable(_decode(k, folder, depth + 1)): _decode(v, folder, depth + 1)
                for k, v in doc["items"]}
    if t == "unsupported":
        return Unsupported(str(doc.get("type", "?")))
    if t == "raised":
        return Raised(str(doc.get("type", "Exception")), str(doc.get("message", "")))
    if t in ("frame", "series", "index", "ndarray", "scalar"):
        name = str(doc["file"])
        if "/" in name or "\\" in name or name.startswith("."):
            raise AnswerFileError(f"bad side-file name {name!r}")
        flat = _read_parquet(folder / name)
        n_index = int(doc.get("n_index", 0))
        n_cols = len(doc["columns"])
        if flat.shape[1] != n_index + n_cols:
            raise AnswerFileError(f"{name}: expected {n_index + n_cols} columns")
        columns = [_hashable(_decode(c, folder, depth + 1)) for c in doc["columns"]]
        body = flat.iloc[:, n_index:]
        body.columns = columns
        if n_index:
            idx = flat.iloc[:, :n_index]
            names = [_hashable(_decode(n, folder, depth + 1)) for n in doc["index_names"]]
            if n_index > 1:
                index = pd.MultiIndex.from_frame(idx, names=names)
            else:
                index = pd.Index(idx.iloc[:, 0])
                index.name = names[0]
            body.index = index
        if t == "frame":
            return body
        col = body.iloc[:, 0]
        if t == "series":
            col.name = _hashable(_decode(doc.get("name", {"t": "none"}), folder, depth + 1))
            return col
        if t == "index":
            index = pd.Index(col)
            index.name = _hashable(_decode(doc.get("name", {"t": "none"}), folder, depth + 1))
            return index
        if t == "scalar":
            return col.iloc[0]
        shape = tuple(int(s) for s in doc.get("shape", [len(col)]))
        return col.to_numpy().reshape(shape)
    raise AnswerFileError(f"unknown value type {t!r}")


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, (set, dict)):
        return repr(value)
    return value


def read_answer(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read one answer file written by :func:`write_answer`.

    Returns ``{"question_id": str, "function_outputs": bool, "value": Any}``.

    Raises
    ------
    AnswerFileError
        If the file is larger than :data:`MAX_FILE_BYTES`, not JSON, not the expected
        layout, or refers to a Parquet file that is too large or missing.
    """
    p = Path(path)
    if p.is_symlink() or not p.is_file():
        raise AnswerFileError(f"{p.name} is missing or not a regular file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise AnswerFileError(f"{p.name} is {size:,} bytes; the cap is {MAX_FILE_BYTES:,}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnswerFileError(f"{p.name} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("question_id"), str):
        raise AnswerFileError(f"{p.name} is not an answer document")
    try:
        value = _decode(doc.get("value"), p.parent)
    except AnswerFileError:
        raise
    except (KeyError, TypeError, ValueError, RecursionError, OSError) as exc:
        raise AnswerFileError(f"{p.name}: malformed answer ({type(exc).__name__}: {exc})") from None
    return {"question_id": doc["question_id"], "function_outputs": bool(doc.get("function_outputs")),
            "value": value}

