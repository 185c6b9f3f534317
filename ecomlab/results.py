"""Record a lesson's key numbers so tests can compare them with the planted truth.

Every lesson notebook ends with a cell tagged ``results`` that calls :func:`record`
with the handful of numbers the lesson found (an elasticity, a lift, a share...).
Students see them as a small table; when the environment variable
``ECOMLAB_RESULTS_DIR`` is set (the test harness and ``ecomlab run`` set it), the
values are also written to ``$ECOMLAB_RESULTS_DIR/<lesson>.json``, where the
truth-recovery tests read them back with :func:`read`.

Example
-------
>>> from ecomlab.results import record
>>> record("04-1", champions_share=0.12, n_segments=5)  # doctest: +NORMALIZE_WHITESPACE
                  value
key
champions_share    0.12
n_segments            5
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Environment variable naming the folder where :func:`record` writes JSON files.
RESULTS_DIR_ENV = "ECOMLAB_RESULTS_DIR"

_LESSON_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Scalar = bool | int | float | str
Value = Scalar | dict[str, Scalar]


def _check_lesson(lesson: object) -> str:
    if not isinstance(lesson, str) or not lesson.strip():
        raise ValueError(f"lesson must be a non-empty string such as '04-1', got {lesson!r}")
    if not _LESSON_RE.match(lesson):
        raise ValueError(
            "lesson must contain only letters, digits, '.', '_' or '-' (it names a file), "
            f"got {lesson!r}"
        )
    return lesson


def _scalar(key: str, value: object) -> Scalar:
    """Return ``value`` as a plain JSON-safe Python scalar, or raise naming ``key``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"value {key!r} must be a finite number, got {value!r}")
        return float(value)
    if isinstance(value, str):
        return value
    raise ValueError(
        f"value {key!r} must be a bool, int, float or str (or a dict of them), "
        f"got {type(value).__name__}: {value!r}"
    )


def _normalise(values: Mapping[str, object]) -> dict[str, Value]:
    if not values:
        raise ValueError("record() needs at least one value, e.g. record('04-1', lift=0.08)")
    out: dict[str, Value] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            if not value:
                raise ValueError(f"value {key!r} is an empty dict; record at least one entry")
            inner: dict[str, Scalar] = {}
            for sub, sub_value in value.items():
                if not isinstance(sub, str):
                    raise ValueError(
                        f"value {key!r} has a non-string key {sub!r}; use str keys"
                    )
                inner[sub] = _scalar(f"{key}.{sub}", sub_value)
            out[key] = inner
        else:
            out[key] = _scalar(key, value)
    return out


def to_frame(values: Mapping[str, Value]) -> pd.DataFrame:
    """Return recorded ``values`` as a one-column table, dict entries as ``key.sub`` rows.

    Example
    -------
    >>> to_frame({"lift": 0.08, "roi": {"coupon": 1.5}}).index.tolist()
    ['lift', 'roi.coupon']
    """
    rows: list[tuple[str, Scalar]] = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            rows.extend((f"{key}.{sub}", sub_value) for sub, sub_value in value.items())
        else:
            rows.append((key, value))
    index = pd.Index([k for k, _ in rows], name="key", dtype="string")
    return pd.Series([v for _, v in rows], index=index, dtype=object, name="value").to_frame()


def record(lesson: str, **values: Any) -> pd.DataFrame:
    """Record a lesson's key numbers; return them as a small table for display.

    Parameters
    ----------
    lesson
        The lesson id, e.g. ``"04-1"`` for ``notebooks/04_private_domain/01_*.ipynb``
        (see :func:`ecomlab.notebooks.lesson_id`). Used as the file name.
    **values
        The numbers to record: ``bool``, ``int``, ``float`` (finite) or ``str``, or a
        ``dict`` of them. NumPy scalars are converted to Python ones.

    Returns
    -------
    pandas.DataFrame
        One row per value (dict entries as ``key.sub``), column ``value``.

    Raises
    ------
    ValueError
        If ``lesson`` is empty or not file-name safe, no values are given, or a value
        is not one of the types above (the message names the key).

    Example
    -------
    >>> import numpy as np
    >>> table = record("04-1", champions_share=np.float64(0.12), segments={"champions": 410})
    >>> table.loc["segments.champions", "value"]
    410
    """
    lesson = _check_lesson(lesson)
    clean = _normalise(values)
    results_dir = os.environ.get(RESULTS_DIR_ENV)
    if results_dir:
        _write(Path(results_dir), lesson, clean)
    return to_frame(clean)


def _write(results_dir: Path, lesson: str, values: dict[str, Value]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{lesson}.json"
    payload = {"lesson": lesson, "values": values}
    text = json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False)
    # write atomically so a reader never sees half a file
    fd, tmp = tempfile.mkstemp(dir=results_dir, prefix=f".{lesson}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(lesson: str, results_dir: str | os.PathLike[str]) -> dict[str, Value]:
    """Return the values :func:`record` wrote for ``lesson`` in ``results_dir``.

    Raises
    ------
    ValueError
        If ``lesson`` is not a valid id.
    FileNotFoundError
        If the lesson recorded nothing there (the message lists what is there).

    Example
    -------
    >>> import os, tempfile
    >>> os.environ["ECOMLAB_RESULTS_DIR"] = d = tempfile.mkdtemp()
    >>> _ = record("demo", lift=0.08)
    >>> read("demo", d)
    {'lift': 0.08}
    >>> del os.environ["ECOMLAB_RESULTS_DIR"]
    """
    lesson = _check_lesson(lesson)
    folder = Path(results_dir)
    path = folder / f"{lesson}.json"
    if not path.is_file():
        found = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        raise FileNotFoundError(
            f"no results recorded for lesson {lesson!r} in {str(folder)!r}; "
            f"found: {', '.join(found) or 'nothing'}"
        )
    payload = json.loads(path.read_text(encoding="utf-8"))
    return payload["values"]
