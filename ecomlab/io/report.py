"""The reading report: what a reader mapped, coerced, excluded and why, with counts.

Every reader in :mod:`ecomlab.io` (and :func:`ecomlab.datasets.load` on your own files)
writes one line per decision into a :class:`Report`: a source column mapped onto a
course column, values converted by a stated rule (``¥1,229.80`` → ``1229.8``), rows
excluded (a title row, a 合计 total row), warnings an analyst must read (masked buyer
names). It prints as a plain table in a terminal and as an HTML table in a notebook.

>>> r = Report("orders", source="export.csv")
>>> r.add("mapped", "order_id", "from column '订单编号'")
>>> r.add("coerced", "paid_amount", "currency symbol '¥' removed", count=3)
>>> print(r)  # doctest: +NORMALIZE_WHITESPACE
Reading report: orders from export.csv
  mapped   order_id     from column '订单编号'
  coerced  paid_amount  currency symbol '¥' removed  (3 values)
>>> r.count("coerced")
3
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Report", "ReportLine", "DataError", "Reported"]

#: the kinds of line a report holds, in display order
KINDS = ("source", "mapped", "coerced", "excluded", "derived", "warning", "note")


class DataError(ValueError):
    """A value, column or file a reader refuses; the message names table, column,
    the expected form and an example of what was found."""


@dataclass(frozen=True)
class ReportLine:
    """One decision: ``kind`` (one of :data:`KINDS`), the course ``column`` it concerns
    (or ``""`` for the whole table), a sentence saying what and why, and how many values
    or rows it touched (``None`` when not a count, e.g. a column mapping)."""

    kind: str
    column: str
    detail: str
    count: int | None = None
    unit: str = ""

    @property
    def counted(self) -> str:
        """``"(3 values)"``: the count with its unit (rows for exclusions, values otherwise)."""
        if self.count is None:
            return ""
        return f"({self.count:,} {self.unit or ('rows' if self.kind == 'excluded' else 'values')})"


@dataclass
class Report:
    """What a reader did to one table; build with :meth:`add`, read with ``print``,
    in a notebook (HTML), or as a frame with :meth:`to_frame`."""

    table: str
    source: str = ""
    lines: list[ReportLine] = field(default_factory=list)
    rows_read: int | None = None
    rows_out: int | None = None

    def add(self, kind: str, column: str, detail: str, count: int | None = None, unit: str = "") -> None:
        """Record one decision (``count`` = values or rows touched, in ``unit``; zero counts are skipped)."""
        if kind not in KINDS:
            raise ValueError(f"report kind must be one of {KINDS}, got {kind!r}")
        if count is not None:
            count = int(count)
            if count == 0:
                return
        self.lines.append(ReportLine(kind, column, detail, count, unit))

    def count(self, kind: str) -> int:
        """Total count over the lines of one kind (values or rows touched)."""
        return sum(line.count or 0 for line in self.lines if line.kind == kind)

    def of(self, kind: str) -> list[ReportLine]:
        """The lines of one kind, in the order they were added."""
        return [line for line in self.lines if line.kind == kind]

    def to_frame(self) -> pd.DataFrame:
        """One row per line: kind, column, detail, count (nullable Int64), unit."""
        return pd.DataFrame(
            {
                "kind": pd.Series([x.kind for x in self.lines], dtype="str"),
                "column": pd.Series([x.column for x in self.lines], dtype="str"),
                "detail": pd.Series([x.detail for x in self.lines], dtype="str"),
                "count": pd.array([x.count for x in self.lines], dtype="Int64"),
                "unit": pd.Series([x.counted.split(" ")[-1].rstrip(")") if x.count is not None else ""
                                   for x in self.lines], dtype="str"),
            }
        )

    def _ordered(self) -> list[ReportLine]:
        return sorted(self.lines, key=lambda x: KINDS.index(x.kind))

    def _title(self) -> str:
        t = f"Reading report: {self.table}" + (f" from {self.source}" if self.source else "")
        if self.rows_read is not None and self.rows_out is not None:
            t += f" ({self.rows_read:,} rows read, {self.rows_out:,} out)"
        return t

    def __str__(self) -> str:
        lines = self._ordered()
        if not lines:
            return self._title() + "\n  (nothing to report)"
        wk = max(len(x.kind) for x in lines)
        wc = max(len(x.column) for x in lines)
        out = [self._title()]
        for x in lines:
            out.append(f"  {x.kind:<{wk}}  {x.column:<{wc}}  {x.detail}  {x.counted}".rstrip())
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = {"warning": "#b45309", "excluded": "#b91c1c", "coerced": "#1d4ed8"}
        rows = "".join(
            f"<tr><td style='color:{colour.get(x.kind, 'inherit')}'>{x.kind}</td>"
            f"<td><code>{html.escape(x.column)}</code></td><td>{html.escape(x.detail)}</td>"
            f"<td style='text-align:right'>{'' if x.count is None else f'{x.count:,}'}</td></tr>"
            for x in self._ordered()
        )
        return (
            f"<div><strong>{html.escape(self._title())}</strong>"
            "<table><thead><tr><th>kind</th><th>column</th><th>what and why</th><th>count</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )


class Reported:
    """Base of a reader's result: it shows as its ``report`` (terminal and notebook)."""

    report: Report

    def _repr_html_(self) -> str:
        return self.report._repr_html_()

    def __str__(self) -> str:
        return str(self.report)

    __repr__ = __str__
