"""Read a daily visitors table (a shop's traffic report: one row per day with its visitor
count, UV 访客数) for the KPI tree when there is no event log: :func:`read_daily_visitors`.

Typing is strict, by the rules of :mod:`ecomlab.io.parse`: dates in one unambiguous format
(``dayfirst`` for day/month), counts whole, one row per day, nothing missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ecomlab.io import parse as P
from ecomlab.io.report import DataError, Report

__all__ = ["read_daily_visitors", "VISITOR_COLUMNS"]

#: course column -> usual header names (first present wins); ``mapping=`` overrides
VISITOR_COLUMNS = {
    "date": ("date", "day", "日期", "统计日期"),
    "uv": ("uv", "visitors", "users", "sessions_users", "访客数", "UV"),
}


def read_daily_visitors(
    path: str | Path | pd.DataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int = 0,
) -> tuple[pd.DataFrame, Report]:
    """A daily visitors table as ``date`` (``datetime64[us]`` days) and ``uv`` (int64), sorted.

    ``mapping``: ``{"date": your header, "uv": your header}``; defaults :data:`VISITOR_COLUMNS`.
    A duplicated day, a missing or fractional count and a negative count are refused with
    the column and an example. Returns ``(table, report)``.

    >>> t, _ = read_daily_visitors(pd.DataFrame({"日期": ["2025-03-02", "2025-03-01"], "访客数": ["1,200", "950"]}))
    >>> t.to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'date': [Timestamp('2025-03-01 00:00:00'), Timestamp('2025-03-02 00:00:00')], 'uv': [950, 1200]}
    """
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(VISITOR_COLUMNS))
    if unknown:
        raise ValueError(f"mapping keys must be {list(VISITOR_COLUMNS)}; got {unknown}")
    report = Report("visitors")
    if isinstance(path, pd.DataFrame):
        if len(path) == 0:
            raise DataError("visitors: the DataFrame has no rows")
        raw = path.reset_index(drop=True).astype(str).where(path.notna().reset_index(drop=True))
        report.source, report.rows_read = "a DataFrame", len(raw)
    else:
        raw = P.read_table_file(path, table="visitors", report=report, encoding=encoding,
                                encodings=("utf-8-sig", "gb18030"), sep=sep, sheet_name=sheet_name,
                                header_names=[h for c in VISITOR_COLUMNS.values() for h in c] + list(mapping.values()))
    heads = {str(c).strip(): c for c in raw.columns}
    cols = {}
    for col, names in VISITOR_COLUMNS.items():
        wanted = (mapping[col],) if col in mapping else names
        found = next((heads[h] for h in wanted if h in heads), None)
        if found is None:
            raise DataError(f"visitors: no column for {col}; looked for {list(wanted)}; the file has "
                            f"{list(raw.columns)[:25]}: pass mapping={{'{col}': your header}}")
        cols[col] = found
        if found != col:
            report.add("mapped", col, f"from column {found!r}")
    date = P.parse_datetime(raw[cols["date"]], "visitors", "date", report, source=cols["date"], dayfirst=dayfirst,
                            date_only=True)
    uv = P.parse_count(raw[cols["uv"]], "visitors", "uv", report, source=cols["uv"])
    if (uv < 0).any():
        raise DataError(f"visitors.uv (column {cols['uv']!r}): expected counts >= 0; found {int(uv.min())}")
    dup = date.duplicated(keep=False)
    if dup.any():
        raise DataError(f"visitors.date (column {cols['date']!r}): expected one row per day; "
                        f"{int(dup.sum())} rows share a day, e.g. {date[dup].iloc[0]:%Y-%m-%d}")
    out = pd.DataFrame({"date": date.to_numpy(), "uv": uv.astype("int64").to_numpy()})
    out = out.sort_values("date", ignore_index=True)
    report.rows_out = len(out)
    return out, report
