"""A SWOT backed by numbers (数据驱动的 SWOT) and the TOWS matrix (lesson 01-3).

Every SWOT item is an :class:`SwotItem`: its statement, the metric behind it, the
metric's value and where it comes from (table and lesson). An item without evidence
cannot be built (``ValueError``): no value, a NaN value, no metric or no source.
:class:`Strategy` crosses the items (Weihrich 1982, "The TOWS matrix"): SO strategies
use strengths to seize opportunities, ST use strengths against threats, WO fix
weaknesses to seize opportunities, WT limit weaknesses exposed to threats; each names
the items it rests on and the course chapter that will test it.

>>> s = SwotItem("S1", "strength", "Leads storage", "value share in storage", 0.10, "market", "01-1")
>>> o = SwotItem("O1", "opportunity", "Storage searches rise", "search index yoy", 0.2, "search_trends", "01-1")
>>> st = Strategy("SO1", "SO", "Push storage", ("S1", "O1"), "02 product: pricing")
>>> tows_matrix([s, o], [st])[["code", "uses"]].values.tolist()
[['SO1', 'S1, O1']]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import pandas as pd

__all__ = ["KINDS", "TOWS", "Strategy", "SwotItem", "swot_table", "tows_matrix"]

#: The four SWOT kinds and the letter that starts each item's code.
KINDS: dict[str, str] = {"strength": "S", "weakness": "W", "opportunity": "O", "threat": "T"}
#: TOWS strategy types and the two kinds each one crosses.
TOWS: dict[str, tuple[str, str]] = {"SO": ("strength", "opportunity"), "ST": ("strength", "threat"),
                                    "WO": ("weakness", "opportunity"), "WT": ("weakness", "threat")}


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class SwotItem:
    """One SWOT item with its evidence.

    code : short id starting with the kind's letter (``S1``, ``W2`` …)
    kind : ``strength``, ``weakness`` (internal) or ``opportunity``, ``threat`` (external)
    statement : the claim in words
    metric : what was measured (with its unit / definition)
    value : the metric's value (a finite number)
    source : the table(s) it is computed from
    lesson : the lesson that computes it (``"01-1"``)
    fmt : how to print ``value`` (a format spec such as ``".1%"``)
    """

    code: str
    kind: str
    statement: str
    metric: str
    value: float
    source: str
    lesson: str
    fmt: str = ".3g"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        _text(self.code, "code")
        if not self.code.startswith(KINDS[self.kind]):
            raise ValueError(f"code of a {self.kind} must start with {KINDS[self.kind]!r}, got {self.code!r}")
        for f in ("statement", "metric", "source", "lesson"):
            _text(getattr(self, f), f"SwotItem.{f} ({self.code})")
        if isinstance(self.value, bool) or not isinstance(self.value, Real) or not math.isfinite(self.value):
            raise ValueError(f"SwotItem {self.code}: value must be a finite number (the evidence), got {self.value!r}")
        object.__setattr__(self, "value", float(self.value))
        try:
            format(self.value, self.fmt)
        except (TypeError, ValueError) as e:
            raise ValueError(f"SwotItem {self.code}: fmt {self.fmt!r} cannot format a number ({e})") from None

    @property
    def shown(self) -> str:
        """The value formatted with :attr:`fmt`."""
        return format(self.value, self.fmt)


@dataclass(frozen=True)
class Strategy:
    """One TOWS strategy: ``code`` (``SO1`` …), ``kind`` (SO/ST/WO/WT), the ``action``,
    the SWOT item codes it ``uses`` (at least one of each of its two kinds) and the
    ``chapter`` whose analysis will test it."""

    code: str
    kind: str
    action: str
    uses: tuple[str, ...]
    chapter: str

    def __post_init__(self) -> None:
        if self.kind not in TOWS:
            raise ValueError(f"Strategy kind must be one of {list(TOWS)}, got {self.kind!r}")
        for f in ("code", "action", "chapter"):
            _text(getattr(self, f), f"Strategy.{f}")
        if isinstance(self.uses, str) or not self.uses:
            raise ValueError(f"Strategy {self.code}: uses must be a tuple of item codes, got {self.uses!r}")
        object.__setattr__(self, "uses", tuple(self.uses))


def swot_table(items: Sequence[SwotItem]) -> pd.DataFrame:
    """The items as a table (one row each, in S, W, O, T order), with the shown value.

    ``ValueError`` for an empty list, duplicate codes or a kind with no item (a SWOT
    needs all four quadrants).

    >>> t = swot_table([SwotItem("S1", "strength", "a", "m", 0.5, "t", "01-1", ".0%"),
    ...                 SwotItem("W1", "weakness", "b", "m", 2, "t", "01-3"),
    ...                 SwotItem("O1", "opportunity", "c", "m", 3, "t", "01-1"),
    ...                 SwotItem("T1", "threat", "d", "m", -0.1, "t", "01-1", "+.0%")])
    >>> t["shown"].tolist()
    ['50%', '2', '3', '-10%']
    """
    items = list(items)
    if not items or not all(isinstance(i, SwotItem) for i in items):
        raise ValueError("items must be a non-empty list of SwotItem")
    codes = [i.code for i in items]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise ValueError(f"SWOT item codes must be unique; duplicated: {dup}")
    missing = [k for k in KINDS if k not in {i.kind for i in items}]
    if missing:
        raise ValueError(f"a SWOT needs at least one item of each kind; none for {missing}")
    order = {k: n for n, k in enumerate(KINDS)}
    rows = sorted(items, key=lambda i: order[i.kind])
    return pd.DataFrame({"code": [i.code for i in rows], "kind": [i.kind for i in rows],
                         "statement": [i.statement for i in rows], "metric": [i.metric for i in rows],
                         "value": [i.value for i in rows], "shown": [i.shown for i in rows],
                         "source": [i.source for i in rows], "lesson": [i.lesson for i in rows]})


def tows_matrix(items: Sequence[SwotItem], strategies: Sequence[Strategy]) -> pd.DataFrame:
    """The TOWS strategies as a table, each checked against the SWOT items it uses.

    A strategy must use only known item codes, and at least one item of each of the
    two kinds its type crosses (an SO strategy uses a strength and an opportunity).

    >>> s = SwotItem("S1", "strength", "a", "m", 1, "t", "01-1")
    >>> t = SwotItem("T1", "threat", "b", "m", 1, "t", "01-1")
    >>> tows_matrix([s, t], [Strategy("ST1", "ST", "defend", ("S1", "T1"), "02")])["kind"].tolist()
    ['ST']
    """
    by_code = {i.code: i for i in items}
    if len(by_code) != len(list(items)):
        raise ValueError("SWOT item codes must be unique")
    strategies = list(strategies)
    if not strategies:
        raise ValueError("strategies must hold at least one Strategy")
    rows = []
    for s in strategies:  # a handful of strategies
        unknown = [c for c in s.uses if c not in by_code]
        if unknown:
            raise ValueError(f"Strategy {s.code} uses unknown SWOT item(s) {unknown}; known: {sorted(by_code)}")
        kinds = {by_code[c].kind for c in s.uses}
        need = [k for k in TOWS[s.kind] if k not in kinds]
        if need:
            raise ValueError(f"Strategy {s.code} ({s.kind}) must use at least one {need[0]}; it uses {list(s.uses)}")
        rows.append({"code": s.code, "kind": s.kind, "action": s.action, "uses": ", ".join(s.uses),
                     "evidence": "; ".join(f"{c} {by_code[c].shown}" for c in s.uses), "chapter": s.chapter})
    codes = [r["code"] for r in rows]
    if len(set(codes)) != len(codes):
        raise ValueError(f"strategy codes must be unique, got {codes}")
    return pd.DataFrame(rows)
