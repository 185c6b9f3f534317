"""Read a shop's clickstream into the course's ``events`` layout: :func:`read_events`.

The method: find the columns (``mapping=`` or the usual names), type them strictly
(:mod:`ecomlab.io.parse`), map the shop's event names onto funnel steps with
``event_map=`` (an unmapped name is an error listing them; mapping a name to ``None``
drops its rows, counted), and, when the export has no session id, build sessions the
usual web-analytics way: a visitor's events sorted by time start a new session after
more than ``session_gap`` of inactivity (30 minutes by default, the Google Analytics
convention).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecomlab import keys, schema
from ecomlab.io import parse as P
from ecomlab.io.presets import resolve_columns
from ecomlab.io.report import DataError, Report, Reported

__all__ = ["EventsRead", "read_events", "EVENT_COLUMNS"]

#: course column → usual header names (first present wins); ``mapping=`` overrides
EVENT_COLUMNS = {
    "visitor_id": ("visitor_id", "user_id", "userid", "client_id", "distinct_id", "anonymous_id"),
    "customer_id": ("customer_id",),
    "session_id": ("session_id", "session"),
    "ts": ("ts", "timestamp", "event_time", "event_timestamp", "time", "datetime"),
    "event": ("event", "event_name", "event_type", "behavior_type", "action"),
    "sku_id": ("sku_id", "item_id", "product_id"),
    "source": ("source", "traffic_source", "utm_source"),
    "device": ("device", "device_type", "platform"),
}
REQUIRED = ("visitor_id", "ts", "event")


@dataclass(frozen=True, repr=False)
class EventsRead(Reported):
    """What :func:`read_events` returns: ``events`` (``visitor_id, customer_id, session_id,
    ts, event, sku_id, source, device, source_event``; ``event`` an ordered categorical of
    ``steps``), ``steps`` (the funnel steps, in order), ``report``, ``timezone``."""

    events: pd.DataFrame
    steps: tuple[str, ...]
    report: Report
    timezone: str | None


def read_events(
    path: str | Path | pd.DataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    event_map: Mapping[str, str | None] | None = None,
    steps: Sequence[str] | None = None,
    session_gap: str | pd.Timedelta = "30min",
    timezone: str | None = None,
    dayfirst: bool | None = None,
    epoch_unit: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet_name: str | int = 0,
) -> EventsRead:
    """Read a clickstream export (CSV/Excel/Parquet or a DataFrame) into the course layout.

    Parameters
    ----------
    mapping : course column → your header (defaults: :data:`EVENT_COLUMNS`).
    event_map : your event name → funnel step (``{"view_item": "pv", "add_to_cart": "cart",
        "begin_checkout": "checkout", "purchase": "buy"}``) or ``None`` to drop that event
        (counted). Without it, names must already be steps. Unknown names are an error.
    steps : the funnel steps in order. Default without ``event_map``: the course's
        ``pv, fav, cart, buy``; with it: those of ``pv, fav, cart`` it names, then its other
        steps (checkout steps, in the order first named), then ``buy`` if named.
    session_gap : inactivity that starts a new session when the export has no session id.
    timezone, dayfirst : as in :func:`ecomlab.io.read_orders`; ``epoch_unit`` ("s", "ms")
        reads epoch numbers (refused otherwise) as UTC, converted to ``timezone``.

    >>> raw = pd.DataFrame({"user_id": ["u1", "u1", "u1", "u2"],
    ...     "event_time": ["2025-11-01 10:00:00", "2025-11-01 10:05:00", "2025-11-01 12:00:00", "2025-11-01 09:00:00"],
    ...     "event_name": ["view_item", "begin_checkout", "view_item", "purchase"]})
    >>> r = read_events(raw, event_map={"view_item": "pv", "begin_checkout": "checkout", "purchase": "buy"})
    >>> r.steps
    ('pv', 'checkout', 'buy')
    >>> r.events["session_id"].tolist()
    ['u1-1', 'u1-1', 'u1-2', 'u2-1']
    """
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(EVENT_COLUMNS))
    if unknown:
        raise ValueError(f"mapping keys must be course event columns {list(EVENT_COLUMNS)}; got {unknown}")
    gap = pd.Timedelta(session_gap)
    if gap <= pd.Timedelta(0):
        raise ValueError(f"session_gap must be a positive duration, got {session_gap!r}")
    report = Report("events")
    if isinstance(path, pd.DataFrame):
        if len(path) == 0:
            raise DataError("events: the DataFrame has no rows")
        raw = path.reset_index(drop=True)
        report.source, report.rows_read = "a DataFrame", len(raw)
    else:
        raw = P.read_table_file(path, table="events", report=report, encoding=encoding,
                                encodings=("utf-8-sig", "gb18030"), sep=sep, sheet_name=sheet_name,
                                header_names=[h for c in EVENT_COLUMNS.values() for h in c] + list(mapping.values()))
    cols = resolve_columns(raw, {c: (mapping[c],) if c in mapping else v for c, v in EVENT_COLUMNS.items()}, {},
                    report, "events")
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise DataError(f"events: no column for {missing}; looked for { {c: EVENT_COLUMNS[c] for c in missing} }; "
                        f"the file has {list(raw.columns)[:25]}: pass mapping={{course column: your header}}")
    out: dict[str, pd.Series] = {}
    out["visitor_id"] = P.parse_id(raw[cols["visitor_id"]], "events", "visitor_id", report, source=cols["visitor_id"])
    for c in ("customer_id", "sku_id", "session_id"):
        if c in cols:
            out[c] = P.parse_id(raw[cols[c]], "events", c, report, source=cols[c], nullable=c != "session_id")
    out["ts"] = P.parse_datetime(raw[cols["ts"]], "events", "ts", report, source=cols["ts"], dayfirst=dayfirst,
                                 timezone=timezone, epoch_unit=epoch_unit)
    for c in ("source", "device"):
        if c in cols:
            out[c] = P._blank_to_na(raw[cols[c]])
    name = P._blank_to_na(raw[cols["event"]])
    P.require_not_null(name, "events", "event", source=cols["event"])
    step_of, order = _event_steps(name, event_map, steps, cols["event"])
    keep = step_of.notna()
    dropped = int((~keep).sum())
    if dropped:
        names = sorted(pd.unique(name[~keep]))
        report.add("excluded", "event", f"events mapped to None in event_map: {names[:6]}", count=dropped)
    if event_map:
        pairs = pd.DataFrame({"n": name, "s": step_of}).dropna().value_counts(sort=False)
        for (a, b), c in pairs.items():
            report.add("mapped", "event", f"{a!r} → {b}", count=int(c))
    ev = pd.DataFrame({k: v[keep].reset_index(drop=True) for k, v in out.items()})
    ev["event"] = pd.Categorical(step_of[keep].reset_index(drop=True), categories=list(order), ordered=True)
    ev["source_event"] = name[keep].reset_index(drop=True).astype("category")
    if "session_id" not in ev:
        ev["session_id"] = _sessions(ev["visitor_id"], ev["ts"], gap)
        report.add("derived", "session_id", f"sessions built: a visitor's events more than {_human(gap)} apart start a "
                   f"new session ({ev['session_id'].nunique():,} sessions)", count=len(ev))
    dup = ev.duplicated().sum()
    report.add("note", "", "exact duplicate rows kept (ecomlab.traffic.clean_events removes them)", count=int(dup))
    for c in ("customer_id", "sku_id", "source", "device"):
        if c not in ev:
            ev[c] = pd.Series(np.nan, index=ev.index, dtype=P.STR)
    ev = ev[["visitor_id", "customer_id", "session_id", "ts", "event", "sku_id", "source", "device", "source_event"]]
    report.rows_out = len(ev)
    ev.attrs["timezone"] = timezone
    return EventsRead(ev, tuple(order), report, timezone)


def _event_steps(name: pd.Series, event_map, steps, src: str) -> tuple[pd.Series, tuple[str, ...]]:
    base = schema.EVENT_TYPES
    if event_map is None:
        step_of = name
        named = list(base)
    else:
        bad = {k: v for k, v in event_map.items() if v is not None and not isinstance(v, str)}
        if bad:
            raise ValueError(f"event_map values must be step names or None, got {bad}")
        emap = dict(event_map)
        step_of = name.map(emap)
        known = name.isin(list(emap))
        step_of = step_of.where(known)
        unknown = ~known
        if unknown.any():
            vals = sorted(pd.unique(name[unknown]))[:8]
            raise DataError(f"events.event (column {src!r}): expected event names in event_map {sorted(emap)}; "
                            f"found {vals} ({int(unknown.sum()):,} rows): add them to event_map (a step name, or "
                            "None to drop them)")
        named = [v for v in emap.values() if v is not None]
    if steps is None and event_map is None:
        order = tuple(base)
    elif steps is None:
        seen = list(dict.fromkeys(named))
        extra = [x for x in seen if x not in base]
        order = tuple([x for x in ("pv", "fav", "cart") if x in seen] + extra + (["buy"] if "buy" in seen else []))
    else:
        order = tuple(steps)
        if len(set(order)) != len(order):
            raise ValueError(f"steps must be distinct, got {order}")
    have = step_of.dropna()
    bad = ~have.isin(order)
    if bad.any():
        vals = sorted(pd.unique(have[bad]))[:8]
        raise DataError(f"events.event (column {src!r}): expected funnel steps {list(order)}; found {vals} "
                        f"({int(bad.sum()):,} rows): pass event_map={{your name: step}} (or steps=)")
    return step_of, order


def _human(gap: pd.Timedelta) -> str:
    secs = int(gap.total_seconds())
    for unit, n in (("h", 3600), ("min", 60)):
        if secs % n == 0:
            return f"{secs // n} {unit}"
    return f"{secs} s"


def _sessions(visitor: pd.Series, ts: pd.Series, gap: pd.Timedelta) -> pd.Series:
    """Session ids ``<visitor>-<k>`` (k = 1, 2, … in time order per visitor)."""
    codes, _ = keys.codes(visitor)
    t = ts.to_numpy(dtype="datetime64[us]").astype(np.int64)
    order = np.lexsort((t, codes))
    c, tt = codes[order], t[order]
    new = np.ones(len(c), dtype=bool)
    new[1:] = (c[1:] != c[:-1]) | (np.diff(tt) > gap.value // 1000)
    run = np.cumsum(new)
    start_of_visitor = np.ones(len(c), dtype=bool)
    start_of_visitor[1:] = c[1:] != c[:-1]
    first_run = np.maximum.accumulate(np.where(start_of_visitor, run, 0))
    k = np.empty(len(c), dtype=np.int64)
    k[order] = run - first_run + 1
    return visitor.str.cat(pd.Series(k, index=visitor.index).astype(P.STR), sep="-")
