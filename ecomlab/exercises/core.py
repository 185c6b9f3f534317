"""The exercise machinery: placeholder, questions, answer kinds, results, registry.

See the package docstring (:mod:`ecomlab.exercises`) for how a lesson bank is written.
"""

from __future__ import annotations

import copy
import html
import itertools
import math
import os
import re
import sys
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "Case",
    "CheckResult",
    "FrameAnswer",
    "FunctionAnswer",
    "LabelAnswer",
    "NumberAnswer",
    "Question",
    "SetAnswer",
    "registry",
    "statuses",
    "____",
]

Status = Literal["correct", "incorrect", "not_attempted", "submitted"]
STATUSES: tuple[str, ...] = ("correct", "incorrect", "not_attempted", "submitted")


# ---------------------------------------------------------------------- placeholder
class _Placeholder:
    """The blank a student replaces: ``answer = ____``. Checking it means "not attempted".

    Only this object means "not attempted": ``None``, ``0`` or an empty frame are
    answers (usually wrong ones) and are checked like any other.
    """

    _instance: _Placeholder | None = None

    def __new__(cls) -> _Placeholder:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __bool__(self) -> bool:
        return False

    def __copy__(self) -> _Placeholder:
        return self

    def __deepcopy__(self, memo: dict) -> _Placeholder:
        return self

    def __reduce__(self) -> str:
        return "____"


____ = _Placeholder()

_NOT_GIVEN = object()


def _is_placeholder(value: Any) -> bool:
    return value is ____


# -------------------------------------------------------------------------- results
_STYLE = {
    "correct": ("#1b7f3b", "#e8f5ec", "Correct"),
    "incorrect": ("#b3261e", "#fdecea", "Incorrect"),
    "not_attempted": ("#5f6368", "#f1f3f4", "Not attempted"),
    "submitted": ("#0072B2", "#eef5fb", "Submitted for grading"),
}


def _md_to_html(text: str) -> str:
    """Escape ``text`` and turn `backticks` into <code> (the only markup messages use)."""
    escaped = html.escape(text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped).replace("\n", "<br>")


@dataclass(frozen=True)
class CheckResult:
    """What ``question.check(answer)`` found.

    Fields
    ------
    status : ``"correct"``, ``"incorrect"`` or ``"not_attempted"``.
    message : why (for incorrect: what is wrong — type, shape, columns, value).
    question_id : the question's id, e.g. ``"ch04_rfm.q1"``.

    Renders green/red/grey in Jupyter and as one line in a terminal; truthy only when
    correct, so ``assert q1.check(x)`` works in tests.
    """

    status: Status
    message: str = ""
    question_id: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def correct(self) -> bool:
        """True when the answer was accepted."""
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.correct

    @property
    def label(self) -> str:
        """``"Correct"``, ``"Incorrect"`` or ``"Not attempted"``."""
        return _STYLE[self.status][2]

    def __str__(self) -> str:
        prefix = f"[{self.question_id}] " if self.question_id else ""
        return f"{prefix}{self.label}" + (f": {self.message}" if self.message else "")

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        fg, bg, label = _STYLE[self.status]
        body = f": {_md_to_html(self.message)}" if self.message else ""
        qid = (f'<span style="color:#5f6368;font-size:smaller"> ({html.escape(self.question_id)})'
               "</span>") if self.question_id else ""
        return (
            f'<div class="ecomlab-check ecomlab-{self.status.replace("_", "-")}" '
            f'style="border-left:4px solid {fg};background:{bg};padding:6px 10px;'
            f'margin:4px 0"><strong style="color:{fg}">{label}</strong>{body}{qid}</div>'
        )


@dataclass(frozen=True)
class _Text:
    """A hint or solution: text in a terminal, styled HTML in Jupyter."""

    title: str
    body: str
    code: bool = False

    def __str__(self) -> str:
        return f"{self.title}\n{self.body}" if self.title else self.body

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        if self.code:
            inner = f"<pre><code>{html.escape(self.body)}</code></pre>"
        else:
            inner = f"<div>{_md_to_html(self.body)}</div>"
        return (
            '<div style="border-left:4px solid #0072B2;background:#eef5fb;padding:6px 10px;'
            f'margin:4px 0"><strong style="color:#0072B2">{html.escape(self.title)}</strong>'
            f"{inner}</div>"
        )


# ---------------------------------------------------------------------- describing
def _type_name(value: Any) -> str:
    if value is None:
        return "None"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    """A short description of a value for messages (frames by shape, not content)."""
    if isinstance(value, pd.DataFrame):
        return f"DataFrame({value.shape[0]}×{value.shape[1]})"
    if isinstance(value, pd.Series):
        return f"Series(len {len(value)})"
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"array(shape {value.shape})"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt_names(names: Iterable[Any]) -> str:
    return ", ".join(f"`{n}`" for n in names)


# ------------------------------------------------------------------- answer kinds
class _Lazy:
    """A zero-argument callable evaluated on first use and cached."""

    def __init__(self, expected: Callable[[], Any], name: str = "expected") -> None:
        if not callable(expected):
            raise ValueError(
                f"{name} must be a zero-argument callable computing the answer from the "
                f"data (e.g. `{name}=lambda: ...`), got {_type_name(expected)}"
            )
        self._fn = expected
        self._value: Any = _NOT_GIVEN

    def get(self) -> Any:
        if self._value is _NOT_GIVEN:
            self._value = self._fn()
        return self._value

    def reset(self) -> None:
        self._value = _NOT_GIVEN


class AnswerKind:
    """Base class: holds the lazily computed expected answer and compares answers.

    Subclasses implement :meth:`compare`, returning ``None`` when ``answer`` is right
    or a message saying what is wrong.
    """

    def __init__(self, expected: Callable[[], Any]) -> None:
        self._expected = _Lazy(expected)

    @property
    def expected(self) -> Any:
        """The expected answer, computed on first access and cached.

        Withheld (``RuntimeError``) while ``ecomlab grade`` runs the notebook.
        """
        _refuse_while_grading("the expected answer")
        return self._expected.get()

    def reset(self) -> None:
        """Forget the cached expected answer (recomputed on next use)."""
        self._expected.reset()

    def compare(self, answer: Any) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError


def _check_tol(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def _as_number(answer: Any) -> float | None:
    """The answer as a float if it is a real number (incl. NumPy scalars), else None."""
    if isinstance(answer, (bool, np.bool_)):
        return None
    if isinstance(answer, (Real, np.integer, np.floating)):
        return float(answer)
    if isinstance(answer, np.ndarray) and answer.ndim == 0 and np.issubdtype(
        answer.dtype, np.number
    ):
        return float(answer)
    return None


def _within(got: float, want: float, rel_tol: float, abs_tol: float) -> bool:
    """The course's one tolerance rule: ``|got − want| ≤ max(rel_tol × |want|, abs_tol)``."""
    return abs(got - want) <= max(rel_tol * abs(want), abs_tol)


def _sig(x: float, digits: int = 2) -> str:
    """``x`` with ``digits`` significant digits, never rounded to zero (0.00047, not 0.0)."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    text = f"{x:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}e{int(exp)}"
    return text


def _show(x: float) -> str:
    """The answer as the student sees it (up to 12 significant digits, no float noise)."""
    return f"{x:.12g}"


def _is_whole(x: float) -> bool:
    return math.isfinite(x) and float(x).is_integer()


def _diagnose(got: float, want: float, rel_tol: float, abs_tol: float) -> str | None:
    """Name a usual mistake when ``got`` matches one (checked after the tolerance test)."""
    tol = (max(rel_tol, 1e-6), abs_tol)
    if want != 0 and _within(got, want * 100, *tol):
        return ("it looks like a percentage; give rates as fractions in [0, 1] "
                "(e.g. 0.25, not 25)")
    if want != 0 and abs(want) >= 2 and _within(got * 100, want, *tol):
        return "it looks like a fraction where a percentage is asked (multiply by 100)"
    if 0 <= want <= 1 and not _is_whole(want) and _is_whole(got) and got > 1:
        return ("it looks like a count; the question asks for a share, a fraction in "
                "[0, 1] (divide by the number of units it is a share of)")
    if _is_whole(want) and abs(want) >= 2 and 0 < got < 1:
        return "it looks like a share; the question asks for a count"
    if _is_whole(want) and _is_whole(got):  # counts: a difference of one is not a ratio slip
        return None
    if want != 0 and -1 < want < 10 and _within(got, want + 1, *tol):
        return ("it looks like the ratio itself; the question asks for the relative change "
                "(ratio − 1)")
    if -1 < want - 1 < 10 and _within(got, want - 1, *tol):
        return ("it looks like the relative change (ratio − 1); the question asks for the "
                "ratio itself")
    return None


def _compare_numbers(got: float, want: float, rel_tol: float, abs_tol: float,
                     mistakes: Sequence[tuple[str, float]] = ()) -> str | None:
    """``None`` when ``got`` is within tolerance of ``want``, else a reason with a diagnosis.

    The reason never shows the expected value; it shows the answer with enough digits and
    how far off it is relative to the expected value, with two significant digits, so a
    near miss reads "too high by 0.047%", never "off by 0.0%".

    >>> _compare_numbers(0.2504, 0.25, 1e-6, 1e-9)
    'got 0.2504, which is too high by 0.16%'
    """
    if math.isnan(want):
        return None if math.isnan(got) else f"got {got:.6g}, expected NaN"
    if math.isnan(got):
        return "got NaN; check for a division by zero or missing values"
    if _within(got, want, rel_tol, abs_tol):
        return None
    shown = _show(got)
    for label, alt in mistakes:
        if _within(got, alt, max(rel_tol, 1e-9), abs_tol):
            return f"got {shown}, which is {label}"
    direction = "too high" if got > want else "too low"
    diagnosis = _diagnose(got, want, rel_tol, abs_tol)
    if diagnosis:
        return f"got {shown}, which is {direction}: {diagnosis}"
    if want != 0:
        return f"got {shown}, which is {direction} by {_sig(abs(got - want) / abs(want) * 100)}%"
    return f"got {shown}, which is {direction}"


class NumberAnswer(AnswerKind):
    """A single number, accepted within a tolerance.

    Tolerance policy (one rule for the whole course): an answer is accepted when
    ``|answer − expected| ≤ max(rel_tol × |expected|, abs_tol)`` — relative to the
    expected value, with an absolute floor for expected values near zero. Defaults
    ``rel_tol=1e-6`` (agreement to about six significant digits, i.e. the same
    computation) and ``abs_tol=1e-9``; a bank loosens them only where a legitimate
    method difference exists (e.g. ``abs_tol=0.5`` for a count, ``abs_tol=0.01`` CNY for
    money) and says so in the prompt. ``int``, ``float`` and NumPy scalars are numbers;
    ``bool``, strings, Series and DataFrames are not ("expected a number, got DataFrame").

    A wrong answer is diagnosed: first against the bank's declared ``mistakes`` (a list
    of ``(message, lambda: wrong_value)`` pairs, e.g. ``("the count, not the share",
    lambda: n)``, ``("the total over both arms, not per arm", ...)``, ``("the
    redemption rate, not the uplift", ...)``), then against the usual slips: percent
    for fraction (×100), count for share, share for count, ratio for ratio − 1 and back.
    Otherwise it says too high/too low and by how much, relative to the expected value,
    with two significant digits (never "off by 0.0%").

    >>> kind = NumberAnswer(expected=lambda: 0.25, abs_tol=0.001,
    ...                     mistakes=[("the count of customers, not their share", lambda: 40)])
    >>> kind.compare(0.2504) is None
    True
    >>> kind.compare(25)
    'got 25, which is too high: it looks like a percentage; give rates as fractions in [0, 1] (e.g. 0.25, not 25)'
    >>> kind.compare(40)
    'got 40, which is the count of customers, not their share'
    >>> kind.compare(1.25)
    'got 1.25, which is too high: it looks like the ratio itself; the question asks for the relative change (ratio − 1)'
    """

    def __init__(
        self,
        expected: Callable[[], Any],
        *,
        rel_tol: float = 1e-6,
        abs_tol: float = 1e-9,
        mistakes: Sequence[tuple[str, Callable[[], Any]]] = (),
    ) -> None:
        super().__init__(expected)
        self.rel_tol = _check_tol(rel_tol, "rel_tol")
        self.abs_tol = _check_tol(abs_tol, "abs_tol")
        if isinstance(mistakes, (str, Mapping)) or not all(
                isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str) and m[0].strip()
                and callable(m[1]) for m in mistakes):
            raise ValueError("mistakes must be a list of (message, zero-argument callable) pairs, "
                             f"e.g. [('the count, not the share', lambda: n)], got {mistakes!r}")
        self._mistakes = [(label, _Lazy(fn, name="mistakes")) for label, fn in mistakes]

    def reset(self) -> None:
        """Forget the cached expected answer and mistake values."""
        super().reset()
        for _, lazy in self._mistakes:
            lazy.reset()

    def compare(self, answer: Any) -> str | None:
        got = _as_number(answer)
        if got is None:
            extra = ""
            if isinstance(answer, (pd.Series, pd.DataFrame)) and answer.size == 1:
                extra = " (use `.item()` to take its single value)"
            elif isinstance(answer, str):
                extra = " (a string; remove the quotes)"
            return f"expected a number, got {_type_name(answer)}{extra}"
        want = _as_number(self.expected)
        if want is None:
            raise TypeError(f"expected answer is not a number: {_type_name(self.expected)}")
        alts = []
        for label, lazy in self._mistakes:
            value = _as_number(lazy.get())
            if value is not None and not math.isnan(value) and not _within(
                    value, want, self.rel_tol, self.abs_tol):
                alts.append((label, value))
        return _compare_numbers(got, want, self.rel_tol, self.abs_tol, alts)


# -------------------------------------------------------------------------- frames
def _is_num(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _sort_key(s: pd.Series) -> pd.Series:
    """A sort key that ignores dtype differences: numbers as floats, the rest as text."""
    if _is_num(s):
        return s.astype(float)
    return s.astype("string").fillna("\uffff")


def _sorted_rows(frame: pd.DataFrame, by_index: bool) -> pd.DataFrame:
    keys = pd.DataFrame({f"c{i}": _sort_key(frame.iloc[:, i]) for i in range(frame.shape[1])},
                        index=frame.index)
    if by_index:
        idx = frame.index.to_frame(index=False)
        for j in range(idx.shape[1]):
            keys.insert(j, f"i{j}", _sort_key(idx.iloc[:, j]).to_numpy())
    if keys.shape[1] == 0:
        return frame
    order = keys.reset_index(drop=True).sort_values(list(keys.columns), kind="mergesort").index
    return frame.iloc[order.to_numpy()]


def _values_equal(want: pd.Series, got: pd.Series, rtol: float, atol: float) -> np.ndarray:
    """Element-wise equality; numbers within tolerance; NaN equals NaN."""
    if _is_num(want) and _is_num(got):
        a = want.to_numpy(dtype=float, na_value=np.nan)
        b = got.to_numpy(dtype=float, na_value=np.nan)
        return np.isclose(b, a, rtol=rtol, atol=atol, equal_nan=True)
    a_na = want.isna().to_numpy()
    b_na = got.isna().to_numpy()
    a_txt = want.astype("string").to_numpy(dtype=object, na_value=None)
    b_txt = got.astype("string").to_numpy(dtype=object, na_value=None)
    same = np.array([x == y for x, y in zip(a_txt, b_txt, strict=True)], dtype=bool)
    return (a_na & b_na) | (~a_na & ~b_na & same)


def _first_mismatch(want: pd.Series, got: pd.Series, rtol: float, atol: float,
                    label: str, index: pd.Index | None = None) -> str | None:
    """Compare position by position; describe the first difference (row, index label)."""
    ok = _values_equal(want, got, rtol, atol)
    if ok.all():
        return None
    bad = np.flatnonzero(~ok)
    i = int(bad[0])
    where = f"row {i}"
    if index is not None and not isinstance(index, pd.RangeIndex):
        where += f" (index {index[i]!r})"
    return (f"{label} differs in {len(bad)} of {len(ok)} rows; first at {where}: "
            f"expected {_short(want.iloc[i])}, got {_short(got.iloc[i])}")


class FrameAnswer(AnswerKind):
    """A pandas DataFrame or Series, checked step by step with a reason on failure.

    Ids may come as index or as column: a column the expected frame has that the answer
    holds as a named index level is moved to the columns (``rfm.set_index("customer_id")``
    is fine), and with ``check_index`` named expected index levels found as columns are
    moved to the index.

    Checks, in order: type; columns (names, not order: "expected 6 columns, got 5:
    missing `m_score`"); number of rows; the index when ``check_index``; dtypes when
    ``check_dtype``; then values (numbers within ``rtol``/``atol``, NaN equals NaN,
    other values compared as text so ``category`` vs ``string`` does not matter).

    Options (keyword-only)
    ----------------------
    check_index : compare the index too (default False: only the values, row by row).
    ignore_row_order : sort both frames by their index (when ``check_index``) and all
        columns before comparing (default False: rows must be in the expected order).
    check_dtype : require the same dtypes (default False).
    check_names : for a Series, require the same ``name`` (default False).
    rtol, atol : tolerance for numeric values (:func:`numpy.isclose`).
    """

    def __init__(
        self,
        expected: Callable[[], pd.DataFrame | pd.Series],
        *,
        check_index: bool = False,
        ignore_row_order: bool = False,
        check_dtype: bool = False,
        check_names: bool = False,
        rtol: float = 1e-6,
        atol: float = 1e-9,
    ) -> None:
        super().__init__(expected)
        for flag, name in ((check_index, "check_index"), (ignore_row_order, "ignore_row_order"),
                           (check_dtype, "check_dtype"), (check_names, "check_names")):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be True or False, got {flag!r}")
        self.check_index = check_index
        self.ignore_row_order = ignore_row_order
        self.check_dtype = check_dtype
        self.check_names = check_names
        self.rtol = _check_tol(rtol, "rtol")
        self.atol = _check_tol(atol, "atol")

    def compare(self, answer: Any) -> str | None:
        want = self.expected
        if not isinstance(want, (pd.DataFrame, pd.Series)):
            raise TypeError(f"expected answer is not a DataFrame or Series: {_type_name(want)}")
        if isinstance(want, pd.Series):
            if not isinstance(answer, pd.Series):
                extra = ""
                if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
                    extra = f" with one column (take it with `df[{answer.columns[0]!r}]`)"
                return f"expected a Series, got {_type_name(answer)}{extra}"
            if self.check_names and answer.name != want.name:
                return f"expected the Series to be named {want.name!r}, got {answer.name!r}"
            want_f = want.to_frame(name="values")
            got_f = answer.to_frame(name="values")
        else:
            if not isinstance(answer, pd.DataFrame):
                extra = ""
                if isinstance(answer, pd.Series):
                    extra = " (turn it into a table with `.reset_index()` or `.to_frame()`)"
                return f"expected a DataFrame, got {_type_name(answer)}{extra}"
            answer = self._ids_where_expected(want, answer)
            problem = self._check_columns(want, answer)
            if problem:
                return problem
            want_f = want
            got_f = answer[list(want.columns)]
        return self._compare_frames(want_f, got_f, is_series=isinstance(want, pd.Series))

    def _ids_where_expected(self, want: pd.DataFrame, got: pd.DataFrame) -> pd.DataFrame:
        """Accept ids as index or as column: move them to where the expected frame has them."""
        names = [n for n in got.index.names if n is not None]
        to_columns = [n for n in names if n in want.columns and n not in got.columns]
        if to_columns:
            got = got.reset_index(level=to_columns)
        if self.check_index:
            want_idx = [n for n in want.index.names if n is not None]
            if want_idx and all(n in got.columns for n in want_idx) and \
                    not any(n in (got.index.names or []) for n in want_idx) and \
                    not any(n in want.columns for n in want_idx):
                got = got.set_index(want_idx)
        return got

    @staticmethod
    def _check_columns(want: pd.DataFrame, got: pd.DataFrame) -> str | None:
        if got.columns.has_duplicates:
            dup = got.columns[got.columns.duplicated()].unique()
            return f"your DataFrame has duplicated columns: {_fmt_names(dup)}"
        want_cols = list(want.columns)
        got_cols = list(got.columns)
        missing = [c for c in want_cols if c not in set(got_cols)]
        extra = [c for c in got_cols if c not in set(want_cols)]
        if not missing and not extra:
            return None
        parts = []
        if missing:
            parts.append(f"missing {_fmt_names(missing)}")
        if extra:
            parts.append(f"unexpected {_fmt_names(extra)}")
        counts = (f"expected {len(want_cols)} columns, got {len(got_cols)}: "
                  if len(want_cols) != len(got_cols) else "")
        return counts + "; ".join(parts)

    def _compare_frames(self, want: pd.DataFrame, got: pd.DataFrame, *,
                        is_series: bool) -> str | None:
        if len(want) != len(got):
            return f"expected {len(want)} rows, got {len(got)}"
        if self.check_dtype:
            for col in want.columns:
                if want[col].dtype != got[col].dtype:
                    what = "the Series" if is_series else f"column `{col}`"
                    return f"{what}: expected dtype {want[col].dtype}, got {got[col].dtype}"
        problem = self._compare_values(want, got, self.ignore_row_order, is_series)
        if problem and not self.ignore_row_order:
            if self._compare_values(want, got, True, is_series) is None:
                return ("the rows are right but in a different order; sort them as the "
                        "question asks")
        return problem

    def _compare_values(self, want: pd.DataFrame, got: pd.DataFrame, sort: bool,
                        is_series: bool) -> str | None:
        if sort:
            want = _sorted_rows(want, self.check_index)
            got = _sorted_rows(got, self.check_index)
        if self.check_index:
            if want.index.nlevels != got.index.nlevels:
                return (f"expected an index with {want.index.nlevels} level(s), "
                        f"got {got.index.nlevels}")
            wi = want.index.to_frame(index=False)
            gi = got.index.to_frame(index=False)
            for j in range(wi.shape[1]):
                problem = _first_mismatch(wi.iloc[:, j], gi.iloc[:, j], self.rtol, self.atol,
                                          "the index")
                if problem:
                    return problem
        for col in want.columns:
            label = "the values" if is_series else f"column `{col}`"
            problem = _first_mismatch(want[col], got[col], self.rtol, self.atol, label,
                                      index=want.index)
            if problem:
                return problem
        return None


# --------------------------------------------------------------------------- labels
def _normalise(label: Any, loose: bool) -> Any:
    if loose and isinstance(label, str):
        return " ".join(label.split()).casefold()
    return label


class SetAnswer(AnswerKind):
    """A collection of labels whose order does not matter (a set).

    The answer may be a set, list, tuple, Index, Series (its values) or array;
    duplicates are ignored. With ``ignore_case=True`` labels are compared
    case-insensitively and with whitespace trimmed/collapsed (``" Champions "`` =
    ``"champions"``). The message names what is missing and what is extra.

    Ids may come as a column or as the index: a DataFrame answer is read from the
    ``column`` named by the bank (as a column or an index level), else its index unless
    it is the default 0, 1, 2, …, else its only column; a Series indexed by ``column``
    gives its index.

    >>> kind = SetAnswer(lambda: {"c1", "c3"}, column="customer_id")
    >>> frame = pd.DataFrame({"customer_id": ["c1", "c3"], "orders": [2, 2]})
    >>> kind.compare(frame) is None, kind.compare(frame.set_index("customer_id")) is None
    (True, True)
    """

    def __init__(self, expected: Callable[[], Iterable[Any]], *, ignore_case: bool = False,
                 column: str | None = None) -> None:
        super().__init__(expected)
        if not isinstance(ignore_case, bool):
            raise ValueError(f"ignore_case must be True or False, got {ignore_case!r}")
        if column is not None and (not isinstance(column, str) or not column):
            raise ValueError(f"column must be a column name such as 'customer_id' or None, "
                             f"got {column!r}")
        self.ignore_case = ignore_case
        self.column = column

    def _as_set(self, values: Iterable[Any]) -> dict[Any, Any]:
        """normalised label -> label as given (first occurrence)."""
        out: dict[Any, Any] = {}
        for v in values:
            if isinstance(v, np.generic):
                v = v.item()
            out.setdefault(_normalise(v, self.ignore_case), v)
        return out

    def _labels_of_frame(self, frame: pd.DataFrame) -> Any:
        """The ids in a DataFrame: the ``column`` (as column or index level), a single
        column, or a meaningful index; ``None`` when it is ambiguous."""
        if self.column is not None:
            if self.column in frame.columns:
                return frame[self.column]
            if self.column in (frame.index.names or []):
                return frame.index.get_level_values(self.column)
        if not isinstance(frame.index, pd.RangeIndex) and frame.index.nlevels == 1:
            return frame.index
        if frame.shape[1] == 1:
            return frame.iloc[:, 0]
        return None

    def compare(self, answer: Any) -> str | None:
        if isinstance(answer, pd.DataFrame):
            labels = self._labels_of_frame(answer)
            if labels is None:
                where = f"`{self.column}`" if self.column else "the ids"
                return (f"expected a collection of labels; got a DataFrame with "
                        f"{answer.shape[1]} columns and no column or index holding {where} "
                        "(give a list or set, or one column)")
            answer = labels
        elif isinstance(answer, pd.Series) and self.column is not None \
                and answer.index.name == self.column and answer.name != self.column:
            answer = answer.index  # e.g. a per-customer Series indexed by customer_id
        if isinstance(answer, (str, bytes)) or not (
            isinstance(answer, Iterable)
        ):
            return f"expected a collection of labels (a set or list), got {_type_name(answer)}"
        if isinstance(answer, np.ndarray) and answer.ndim != 1:
            return f"expected a flat collection of labels, got an array of shape {answer.shape}"
        try:
            got = self._as_set(answer)
        except TypeError as exc:
            return f"could not read your labels: {exc}"
        want = self._as_set(self.expected)
        missing = [want[k] for k in want if k not in got]
        extra = [got[k] for k in got if k not in want]
        if not missing and not extra:
            return None
        parts = []
        if missing:
            parts.append(f"missing {len(missing)}: {_fmt_names(sorted(missing, key=str)[:10])}"
                         + (" …" if len(missing) > 10 else ""))
        if extra:
            parts.append(f"{len(extra)} extra: {_fmt_names(sorted(extra, key=str)[:10])}"
                         + (" …" if len(extra) > 10 else ""))
        return f"expected {len(want)} labels, got {len(got)}; " + "; ".join(parts)


class LabelAnswer(AnswerKind):
    """A single label, e.g. the name of a segment or the right option of a choice.

    ``expected`` is a zero-argument callable — or, for a genuinely conceptual
    single-choice question only, a constant string (e.g. ``"ROAS"``). ``choices``, when
    given, lists the allowed options: an answer outside them is told so. With
    ``ignore_case=True`` (the default) case and surrounding/repeated spaces are ignored.
    A collection of exactly one label (``{"ROAS"}``, ``["ROAS"]``, a one-row Series or
    Index) is accepted as that label.

    >>> LabelAnswer("ROAS").compare({"roas"}) is None
    True
    """

    def __init__(
        self,
        expected: Callable[[], Any] | str,
        *,
        choices: Sequence[Any] | None = None,
        ignore_case: bool = True,
    ) -> None:
        if isinstance(expected, str):
            value = expected
            expected = lambda: value  # noqa: E731 - conceptual constant
        super().__init__(expected)
        if not isinstance(ignore_case, bool):
            raise ValueError(f"ignore_case must be True or False, got {ignore_case!r}")
        if choices is not None:
            if isinstance(choices, str) or not isinstance(choices, Sequence) or not choices:
                raise ValueError(f"choices must be a non-empty list of options, got {choices!r}")
            choices = list(choices)
        self.choices = choices
        self.ignore_case = ignore_case

    def compare(self, answer: Any) -> str | None:
        if isinstance(answer, (pd.Series, pd.Index, list, tuple, set, frozenset, np.ndarray)) \
                and not isinstance(answer, str):
            values = list(np.asarray(answer).reshape(-1)) if isinstance(answer, np.ndarray) \
                else list(answer)
            if len(values) != 1:  # a set of one label is that label; more is not one answer
                return (f"expected a single label, got {_type_name(answer)} of {len(values)} "
                        "labels")
            answer = values[0]
        if isinstance(answer, np.generic):
            answer = answer.item()
        if isinstance(answer, (pd.DataFrame, dict)):
            return f"expected a single label, got {_type_name(answer)}"
        got = _normalise(answer, self.ignore_case)
        if self.choices is not None:
            options = [_normalise(c, self.ignore_case) for c in self.choices]
            if got not in options:
                return (f"{_short(answer)} is not one of the options: "
                        f"{_fmt_names(self.choices)}")
        want = _normalise(self.expected, self.ignore_case)
        if got == want:
            return None
        return f"{_short(answer)} is not the right label"


# ------------------------------------------------------------------------ functions
@dataclass(frozen=True, init=False)
class Case:
    """One test case for a :class:`FunctionAnswer`: the arguments to call with.

    >>> Case(10, 2, method="loose")
    Case(10, 2, method='loose')
    """

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "kwargs", dict(kwargs))

    def call_text(self, name: str) -> str:
        parts = [_short(a, 30) for a in self.args]
        parts += [f"{k}={_short(v, 30)}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(parts)})"

    def __repr__(self) -> str:
        return self.call_text("Case")


def _as_case(case: Any) -> Case:
    if isinstance(case, Case):
        return case
    if isinstance(case, tuple):
        return Case(*case)
    if isinstance(case, Mapping):
        return Case(**case)
    return Case(case)


def compare_values(want: Any, got: Any, *, rtol: float = 1e-6, atol: float = 1e-9) -> str | None:
    """Compare two values of any kind the course uses; ``None`` if equal, else why not.

    Numbers within tolerance; Series/DataFrames as :class:`FrameAnswer` (index checked);
    sets as :class:`SetAnswer`; anything else by ``==``.
    """
    if _as_number(want) is not None:
        got_n = _as_number(got)
        if got_n is None:
            return f"expected a number, got {_type_name(got)}"
        return _compare_numbers(got_n, _as_number(want), rtol, atol)  # type: ignore[arg-type]
    if isinstance(want, (pd.DataFrame, pd.Series)):
        return FrameAnswer(lambda: want, check_index=True, rtol=rtol, atol=atol).compare(got)
    if isinstance(want, (set, frozenset)):
        return SetAnswer(lambda: want).compare(got)
    try:
        same = bool(want == got)
    except (TypeError, ValueError):
        same = False
    return None if same else f"expected {_short(want)}, got {_short(got)}"


class FunctionAnswer(AnswerKind):
    """A function the student writes, run on test cases against a reference function.

    ``reference`` is the correct implementation; ``cases`` is a list of :class:`Case`
    (or tuples of positional arguments, or dicts of keyword arguments), or a
    zero-argument callable returning that list (built from the data at run time).
    Each case's expected output is ``reference(*args, **kwargs)``; outputs are
    compared by :func:`compare_values`. Arguments are deep-copied for each call, so a
    function that mutates its input cannot spoil the next case. The first failing
    case is reported; an exception raised by the student's function is reported with
    its type and text.
    """

    def __init__(
        self,
        reference: Callable[..., Any],
        cases: Sequence[Any] | Callable[[], Sequence[Any]],
        *,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        name: str | None = None,
    ) -> None:
        if not callable(reference):
            raise ValueError(f"reference must be a function, got {_type_name(reference)}")
        if callable(cases):
            lazy_cases = cases
        elif isinstance(cases, Sequence) and not isinstance(cases, str) and len(cases) > 0:
            fixed = list(cases)
            lazy_cases = lambda: fixed  # noqa: E731
        else:
            raise ValueError("cases must be a non-empty list of test cases or a callable "
                             f"returning one, got {cases!r}")
        self.reference = reference
        self.rtol = _check_tol(rtol, "rtol")
        self.atol = _check_tol(atol, "atol")
        self.name = name or getattr(reference, "__name__", "f")

        def built_cases() -> list[Case]:
            built = [_as_case(c) for c in lazy_cases()]
            if not built:
                raise ValueError("cases is empty")
            return built

        self._cases = _Lazy(built_cases, name="cases")

        def expected() -> list[tuple[Case, Any]]:
            return [(c, reference(*copy.deepcopy(c.args), **copy.deepcopy(dict(c.kwargs))))
                    for c in self._cases.get()]

        super().__init__(expected)

    def reset(self) -> None:
        """Forget the cached cases and expected outputs (recomputed on next use)."""
        super().reset()
        self._cases.reset()

    def run_cases(self, function: Callable[..., Any]) -> list[Any]:
        """``function``'s output on every case (an exception becomes a ``Raised`` record).

        Used while grading: the kernel hands these outputs to the grader, which compares
        them with the reference outputs it computed itself (:meth:`compare_outputs`).
        """
        from ecomlab.exercises._submit import Raised

        outputs: list[Any] = []
        for case in self._cases.get():
            try:
                outputs.append(function(*copy.deepcopy(case.args), **copy.deepcopy(dict(case.kwargs))))
            except Exception as exc:  # the student's code: recorded, judged by the grader
                outputs.append(Raised(type(exc).__name__, str(exc)))
        return outputs

    def compare_outputs(self, outputs: Any, *, name: str | None = None) -> str | None:
        """Compare outputs recorded by :meth:`run_cases` with the reference outputs."""
        from ecomlab.exercises._submit import Raised

        pairs = self.expected
        if not isinstance(outputs, list) or len(outputs) != len(pairs):
            n = len(outputs) if isinstance(outputs, list) else "no"
            return (f"expected your function's outputs on {len(pairs)} cases, got {n} "
                    "(the course's test cases were changed in your notebook)")
        for i, ((case, want), got) in enumerate(zip(pairs, outputs, strict=True), start=1):
            call = case.call_text(name or self.name)
            if isinstance(got, Raised):
                return f"case {i} of {len(pairs)}: {call} raised {got.type_name}: {got.message}"
            if _is_placeholder(got):
                raise _NotAttempted(f"your function returns `____` (case {i}: {call})")
            problem = compare_values(want, got, rtol=self.rtol, atol=self.atol)
            if problem:
                return f"case {i} of {len(pairs)}: {call}: {problem}"
        return None

    def compare(self, answer: Any) -> str | None:
        if not callable(answer):
            return f"expected a function, got {_type_name(answer)}"
        return self.compare_outputs(self.run_cases(answer),
                                    name=getattr(answer, "__name__", self.name))


class _NotAttempted(Exception):
    """Raised inside a comparison when the answer turns out to be unfinished."""


# -------------------------------------------------------------------------- registry
_REGISTRY: list[weakref.ReferenceType[Question]] = []
_counter = itertools.count(1)


def _live_questions() -> list[Question]:
    alive = [q for ref in _REGISTRY if (q := ref()) is not None]
    _REGISTRY[:] = [weakref.ref(q) for q in alive]
    return alive


def registry() -> pd.DataFrame:
    """Every question created in this process, in creation order, with its last status.

    Columns: ``question_id`` (string), ``status`` (category: correct / incorrect /
    not_attempted / submitted / unchecked; *submitted*
    only while ``ecomlab grade`` runs the notebook), ``checks`` (int), ``hints_seen`` (int),
    ``solution_seen`` (bool). A question re-created under the same id (a reloaded bank)
    appears once, as its newest version.
    """
    rows: dict[str, dict[str, Any]] = {}
    for q in _live_questions():
        rows[q.id] = {
            "question_id": q.id,
            "status": q.last_status or "unchecked",
            "checks": q.checks,
            "hints_seen": q.hints_seen,
            "solution_seen": q.solution_seen,
        }
    frame = pd.DataFrame(list(rows.values()),
                         columns=["question_id", "status", "checks", "hints_seen",
                                  "solution_seen"])
    return frame.astype({
        "question_id": "string",
        "status": pd.CategoricalDtype([*STATUSES, "unchecked"]),
        "checks": "int64",
        "hints_seen": "int64",
        "solution_seen": "bool",
    })


def statuses() -> dict[str, str]:
    """``{question_id: last status}`` for every question (``"unchecked"`` if never checked)."""
    reg = registry()
    return dict(zip(reg["question_id"].tolist(), reg["status"].astype(str).tolist(), strict=True))


# -------------------------------------------------------------------------- question
class Question:
    """One exercise: a prompt, an answer kind, hints in order and a solution.

    >>> q = Question(kind=NumberAnswer(expected=lambda: 2 + 2), prompt="2 + 2?",
    ...              hints=["Add them."], solution="answer = 2 + 2", id="demo.q")
    >>> q.check(____).status, q.check(4).status, q.last_status
    ('not_attempted', 'correct', 'correct')

    Parameters (keyword-only)
    -------------------------
    kind : an answer kind (:class:`NumberAnswer`, :class:`FrameAnswer`, ...).
    prompt : the task as shown to the student (Markdown).
    hints : hints, shown one per :meth:`hint` call in order.
    solution : the solution code, shown as text by :meth:`solution`.
    id : a stable id such as ``"ch04_rfm.q1"``. When omitted it is ``<bank>.<name>``,
        the name the question is bound to in the module that created it (``q1`` in
        ``ecomlab/exercises/ch04_rfm.py`` gives ``"ch04_rfm.q1"``).
    points : what the question is worth in a gradebook (default 1).
    """

    def __init__(
        self,
        *,
        kind: AnswerKind,
        prompt: str,
        hints: Sequence[str] = (),
        solution: str = "",
        id: str | None = None,  # noqa: A002 - the natural name
        points: float = 1,
    ) -> None:
        if not isinstance(kind, AnswerKind):
            raise ValueError(f"kind must be an answer kind such as NumberAnswer(...), got "
                             f"{_type_name(kind)}")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        if isinstance(hints, str) or not all(isinstance(h, str) and h.strip() for h in hints):
            raise ValueError("hints must be a list of non-empty strings")
        if not isinstance(solution, str):
            raise ValueError(f"solution must be a string of code, got {_type_name(solution)}")
        if id is not None and (not isinstance(id, str) or not id.strip()):
            raise ValueError(f"id must be a non-empty string or None, got {id!r}")
        if isinstance(points, bool) or not isinstance(points, Real) or not points > 0:
            raise ValueError(f"points must be a positive number, got {points!r}")
        self.points = float(points)
        self.kind = kind
        self.prompt = prompt
        self.hints = tuple(hints)
        self._solution = solution
        self._id = id
        self._module = sys._getframe(1).f_globals.get("__name__", "__main__")
        self._serial = next(_counter)
        self.last_status: Status | None = None
        self.last_result: CheckResult | None = None
        self.checks = 0
        self.hints_seen = 0
        self.solution_seen = False
        self._next_hint = 0
        _REGISTRY.append(weakref.ref(self))

    # -- identity
    @property
    def id(self) -> str:
        """The question id, e.g. ``"ch04_rfm.q1"`` (see the class docstring)."""
        if self._id is not None:
            return self._id
        bank = self._module.removeprefix("ecomlab.exercises.")
        module = sys.modules.get(self._module)
        if module is not None:
            for name, value in vars(module).items():
                if value is self:
                    return f"{bank}.{name}"
        return f"{bank}.question{self._serial}"

    def __repr__(self) -> str:
        return f"<Question {self.id}: {self.last_status or 'unchecked'}>"

    @property
    def expected(self) -> Any:
        """The expected answer (computed from the data on first use). For trainers.

        Withheld (``RuntimeError``) while ``ecomlab grade`` runs the notebook.
        """
        return self.kind.expected

    # -- checking
    def check(self, answer: Any = _NOT_GIVEN) -> CheckResult:
        """Check ``answer``; return and remember Correct / Incorrect (why) / Not attempted."""
        folder = os.environ.get(SUBMIT_ENV)
        if folder:
            return self._submit(answer, folder)
        if answer is _NOT_GIVEN:
            result = self._record("not_attempted",
                                  "pass your answer to check it, e.g. `q.check(answer)`")
        elif _is_placeholder(answer):
            result = self._record("not_attempted",
                                  "replace `____` with your answer, then run the check again")
        else:
            result = self._check(answer)
        return result

    def _check(self, answer: Any) -> CheckResult:
        status, message = self._judge(answer, function_outputs=False)
        return self._record(status, message)

    def _judge(self, answer: Any, *, function_outputs: bool) -> tuple[Status, str]:
        """(status, message) for ``answer``; raises ``CourseBugError`` for a bad expected value."""
        from ecomlab.exercises._submit import Unsupported

        try:
            want = self.kind._expected.get()
        except Exception as exc:
            raise CourseBugError(
                f"could not compute the expected answer of {self.id} "
                f"({type(exc).__name__}: {exc}); this is a course bug, not your mistake"
            ) from exc
        problem = _unusable_expected(want)
        if problem:
            raise CourseBugError(f"the expected answer of {self.id} is {problem}; this is a "
                                 "course bug, not your mistake (a NaN or empty answer is never "
                                 "accepted as correct)")
        if _is_placeholder(answer):
            return "not_attempted", "replace `____` with your answer, then run the check again"
        if isinstance(answer, Unsupported):
            return "incorrect", (f"an answer of type {answer} cannot be graded; give a number, "
                                 "a label, a list/set, a DataFrame or Series, or a function")
        try:
            if function_outputs and isinstance(self.kind, FunctionAnswer):
                problem = self.kind.compare_outputs(answer)
            else:
                problem = self.kind.compare(answer)
        except _NotAttempted as exc:
            return "not_attempted", str(exc)
        except Exception as exc:  # an odd answer the comparison could not handle
            return "incorrect", f"could not compare your answer ({type(exc).__name__}: {exc})"
        if problem is None:
            return "correct", ""
        return "incorrect", problem

    def grade(self, answer: Any, *, function_outputs: bool = False) -> CheckResult:
        """Judge a submitted answer without recording it (the grader's entry point).

        ``answer`` is the value read back by :func:`ecomlab.exercises._submit.read_answer`;
        for a :class:`FunctionAnswer` it is the list of the function's outputs on the
        cases (``function_outputs=True``). Raises :class:`CourseBugError` when the
        expected answer cannot be computed or is NaN/empty.

        >>> q = Question(kind=NumberAnswer(expected=lambda: 4), prompt="2 + 2?", id="demo.g")
        >>> q.grade(4.0).status, q.checks
        ('correct', 0)
        """
        status, message = self._judge(answer, function_outputs=function_outputs)
        return CheckResult(status=status, message=message, question_id=self.id)

    def _submit(self, answer: Any, folder: str) -> CheckResult:
        """Grading mode: write the answer as data for the grader; judge nothing here."""
        from ecomlab.exercises._submit import write_answer

        if answer is _NOT_GIVEN:
            answer = ____
        outputs = False
        if isinstance(self.kind, FunctionAnswer) and callable(answer):
            answer = self.kind.run_cases(answer)
            outputs = True
        write_answer(folder, self.id, answer, function_outputs=outputs)
        return self._record("submitted", "your answer was recorded; the grader checks it "
                                         "outside this notebook")

    def _record(self, status: Status, message: str) -> CheckResult:
        result = CheckResult(status=status, message=message, question_id=self.id)
        self.checks += 1
        self.last_status = status
        self.last_result = result
        return result

    # -- help
    def hint(self, n: int | None = None) -> _Text:
        """Show a hint: the next one in turn (1, 2, …, then from 1 again) or hint ``n``."""
        if not self.hints:
            return _Text("Hint", "No hints for this question; try `.solution()`.")
        if n is None:
            index = self._next_hint % len(self.hints)
            self._next_hint = index + 1
        else:
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(self.hints):
                raise ValueError(f"n must be between 1 and {len(self.hints)}, got {n!r}")
            index = n - 1
        self.hints_seen = max(self.hints_seen, index + 1)
        title = f"Hint {index + 1} of {len(self.hints)}"
        if index + 1 == len(self.hints):
            title += (" — the last hint" if len(self.hints) > 1 else " — the only hint")
            body = self.hints[index] + "\n\nThat was the last hint; `.solution()` shows the answer."
        else:
            body = self.hints[index]
        return _Text(title, body)

    def solution(self) -> _Text:
        """Show the solution code (as text; it is not run). Withheld while grading."""
        self.solution_seen = True
        if os.environ.get(SUBMIT_ENV):
            return _Text("Solution", "Solutions are withheld while the notebook is graded.")
        if not self._solution.strip():
            return _Text("Solution", "No solution code for this question.")
        return _Text("Solution", self._solution.strip("\n"), code=True)


# ----------------------------------------------------------------------- the data
_DATA_DIR: list = [None]
_DATA_CACHE: dict = {}


def use_data(data_dir: Any = None) -> None:
    """Compute expected answers from ``data_dir`` (``None`` = the bundled Nestwell data).

    A lesson calls ``exercises.use_data(data_dir)`` right after its ``parameters`` cell,
    so that when an analyst runs it on their own export the checks compare with answers
    computed from *that* data. Clears every cached table and expected answer.

    >>> use_data(None)
    """
    _DATA_DIR[0] = data_dir
    _DATA_CACHE.clear()
    for q in _live_questions():
        q.kind.reset()


def data(name: str) -> pd.DataFrame:
    """Table ``name`` from the data chosen by :func:`use_data`, loaded once and cached.

    Question banks compute expected answers from this, never from typed-in numbers::

        q1 = Question(kind=NumberAnswer(expected=lambda: data("orders")["paid_amount"].sum()), ...)
    """
    from ecomlab import datasets

    key = (str(_DATA_DIR[0]), name)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = datasets.load(name, _DATA_DIR[0])
    return _DATA_CACHE[key]


def derived(key: Any, make: Callable[[], Any]) -> Any:
    """``make()`` computed once per data choice and cached like :func:`data`.

    For expensive intermediate results that several questions of a bank share (a cleaned
    event log, a KPI table); :func:`use_data` clears them with the tables. Keys should
    name the bank, e.g. ``derived(("ch05_kpi", "events"), lambda: ...)``.

    >>> derived(("doc", "answer"), lambda: 42)
    42
    """
    full = ("derived", str(_DATA_DIR[0]), key)
    if full not in _DATA_CACHE:
        _DATA_CACHE[full] = make()
    return _DATA_CACHE[full]


# ------------------------------------------------------------------- grading mode
#: Environment variable set by ``ecomlab grade`` in a graded kernel: the folder where
#: ``check`` writes answers as data (see :mod:`ecomlab.exercises._submit`).
SUBMIT_ENV = "ECOMLAB_SUBMIT_DIR"


class CourseBugError(RuntimeError):
    """The expected answer could not be computed or is unusable (NaN, empty): a course bug."""


def _refuse_while_grading(what: str) -> None:
    if os.environ.get(SUBMIT_ENV):
        raise RuntimeError(f"{what} is withheld while the notebook is graded; compute your "
                           "own answer")


def _unusable_expected(want: Any) -> str | None:
    """Why an expected value cannot be used (NaN, empty), or None when it can."""
    if isinstance(want, (pd.DataFrame, pd.Series, pd.Index)):
        return "empty" if len(want) == 0 else None
    if isinstance(want, np.ndarray):
        return "empty" if want.size == 0 else None
    if isinstance(want, (set, frozenset, list, tuple, dict)):
        return "empty" if len(want) == 0 else None
    if isinstance(want, str):
        return "an empty string" if not want.strip() else None
    number = _as_number(want)
    if number is not None and math.isnan(number):
        return "NaN"
    if want is None:
        return "None"
    return None
