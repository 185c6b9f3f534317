"""Lesson 05-1 — the KPI tree, change decomposition and anomaly alerts (数据迭代).

The KPI tree of the course is the exact identity (see :mod:`ecomlab.metrics`)::

    GMV = UV x CR x SPB      CR = buyers / UV,  SPB = spend per buyer (客单价) = GMV / buyers

This module builds daily (or period) KPI tables from the behaviour log and the orders,
splits a change in GMV into exact contributions of UV, CR and spend per buyer (LMDI-I), drills a
change down into segments, and raises robust anomaly alerts that know about weekday
seasonality and the promotion calendar the caller passes in (:func:`promo_days`; there is
no built-in calendar, since dates differ by year, platform and market). A baseline with no
spread at all is reported, never scored with an infinite z.

Every KPI is computed through :mod:`ecomlab.metrics`; nothing is redefined here.

References
----------
- Ang, B. W. (2004). Decomposition analysis for policymaking in energy: which is the
  preferred method? *Energy Policy* 32, 1131-1139.
- Ang, B. W. & Liu, N. (2007). Handling zero values in the logarithmic mean Divisia
  index decomposition approach. *Energy Policy* 35, 238-246.
- Kohavi, R., Tang, D. & Xu, Y. (2020). *Trustworthy Online Controlled Experiments*,
  ch. 6-7 (metrics, KPI trees).
- Leys, C. et al. (2013). Detecting outliers: do not use standard deviation around the
  mean, use absolute deviation around the median. *J. Exp. Soc. Psych.* 49, 764-766.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from ecomlab import keys, metrics
from ecomlab.validation import require_columns as _require

__all__ = [
    "KPI_COLUMNS",
    "add_rates",
    "promo_days",
    "daily_kpis",
    "period_kpis",
    "decompose_change",
    "drilldown",
    "allocate_paid_amount",
    "category_gmv",
    "anomaly_alerts",
]

#: KPI columns of the tables this module returns (rates are fractions).
KPI_COLUMNS = ("uv", "buyers", "orders", "gmv", "cr", "spend_per_buyer")

_SEGMENTS = {
    # by=  -> (output column, events column, orders column)
    "device": ("device", "device", "device"),
    "source": ("source", "source", "traffic_source"),
    "traffic_source": ("source", "source", "traffic_source"),
}
MISSING_LABEL = "missing"


def promo_days(windows: Iterable[tuple[str, str, str]] | pd.DataFrame) -> pd.DatetimeIndex:
    """Every day inside the promotion ``windows``, as a sorted DatetimeIndex.

    ``windows`` is your shop's promotion calendar — there is no built-in default, since
    dates differ by year, platform and market: an iterable of ``(name, first day, last
    day)`` (inclusive), or a DataFrame with ``start``/``end`` or ``start_date``/``end_date``
    columns (e.g. ``ecomlab.simulate.promo_calendar()`` for Nestwell). A window whose last
    day is before its first raises ``ValueError``.

    >>> d = promo_days([("双11", "2025-10-31", "2025-11-11"), ("双12", "2025-12-12", "2025-12-12")])
    >>> len(d), pd.Timestamp("2025-11-05") in d, pd.Timestamp("2025-11-20") in d
    (13, True, False)
    """
    if isinstance(windows, pd.DataFrame):
        cols = next((c for c in (("start", "end"), ("start_date", "end_date")) if set(c) <= set(windows.columns)), None)
        if cols is None:
            raise ValueError("windows DataFrame needs 'start'/'end' or 'start_date'/'end_date' columns; "
                             f"it has {list(windows.columns)}")
        windows = list(zip(["promotion"] * len(windows), windows[cols[0]], windows[cols[1]], strict=True))
    if isinstance(windows, (str, bytes)):
        raise ValueError(f"windows must be (name, first, last) tuples or a DataFrame, got the string {windows!r}")
    parts = []
    for w in windows:
        try:
            name, a, b = w
            first, last = pd.Timestamp(a).normalize(), pd.Timestamp(b).normalize()
        except (TypeError, ValueError) as e:
            raise ValueError(f"each promotion window must be (name, first day, last day); got {w!r} ({e})") from None
        if last < first:
            raise ValueError(f"promotion window {name!r} ends ({last:%Y-%m-%d}) before it starts ({first:%Y-%m-%d})")
        parts.append(pd.date_range(first, last, freq="D"))
    if not parts:
        return pd.DatetimeIndex([], dtype="datetime64[us]")
    return pd.DatetimeIndex(np.unique(np.concatenate([p.values.astype("datetime64[us]") for p in parts]))).as_unit("us")


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _require_datetime(df: pd.DataFrame, col: str, arg: str) -> None:
    if not pd.api.types.is_datetime64_any_dtype(df[col]):
        raise ValueError(f"{arg}[{col!r}] must be datetime64, got {df[col].dtype}")
    if df[col].isna().any():
        raise ValueError(
            f"{arg}[{col!r}] has {int(df[col].isna().sum())} missing timestamp(s); "
            "clean them first (ecomlab.traffic.clean_events reports them)"
        )


_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _days(ts: pd.Series) -> np.ndarray:
    """Calendar day of each timestamp as int64 days since 1970-01-01 (integer floor division).
    Zone-aware timestamps count in their own zone's local calendar (a Shanghai order at
    00:30 belongs to that Shanghai day, not to the previous UTC day)."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)
    v = ts.to_numpy()
    unit = np.datetime_data(v.dtype)[0]
    if unit in _PER_DAY:
        return v.view(np.int64) // _PER_DAY[unit]
    return v.astype("datetime64[D]").astype(np.int64)


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (missing -> -1) and the uniques, fast for categoricals."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(np.int64), pd.Index(values.cat.categories)
    return keys.factorize(values, sort=True)


def _id_codes(values: pd.Series) -> np.ndarray:
    """Integer codes of an id column (missing -> -1), without building the labels."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(np.int64)
    return keys.codes(values, sort=True)[0]


def _segment_codes(ev: pd.Series, od: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Common segment codes for the events and the orders column (missing = last code)."""
    e_codes, e_uni = _codes(ev)
    o_codes, o_uni = _codes(od)
    labels = pd.Index(e_uni.astype(str)).append(pd.Index(o_uni.astype(str))).unique()
    e_map = labels.get_indexer(e_uni.astype(str))
    o_map = labels.get_indexer(o_uni.astype(str))
    k = len(labels)
    e = np.where(e_codes >= 0, e_map[np.clip(e_codes, 0, None)] if len(e_map) else 0, k)
    o = np.where(o_codes >= 0, o_map[np.clip(o_codes, 0, None)] if len(o_map) else 0, k)
    return e.astype(np.int64), o.astype(np.int64), labels.append(pd.Index([MISSING_LABEL]))


def _distinct_per_group(group: np.ndarray, item: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of distinct ``item`` per ``group`` (both non-negative int codes)."""
    if len(group) == 0:
        return np.zeros(n_groups, dtype=np.int64)
    n_item = int(item.max()) + 1
    key = group.astype(np.int64) * n_item + item
    if n_groups * n_item <= 300_000_000:  # a bitmap of (group, item) pairs: O(n), no hashing
        seen = np.zeros(n_groups * n_item, dtype=bool)
        seen[key] = True
        return np.count_nonzero(seen.reshape(n_groups, n_item), axis=1).astype(np.int64)
    uniq = pd.unique(key)  # hash based, O(n)
    return np.bincount(uniq // n_item, minlength=n_groups).astype(np.int64)


def _kpi_core(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    by: str | None,
    daily: bool,
    start=None,
    end=None,
    on_inconsistent: str = "raise",
) -> pd.DataFrame:
    if by is not None and by not in _SEGMENTS:
        raise ValueError(f"by must be None or one of {sorted(_SEGMENTS)}, got {by!r}")
    if on_inconsistent not in ("raise", "warn"):
        raise ValueError(f"on_inconsistent must be 'raise' or 'warn', got {on_inconsistent!r}")
    seg_out, seg_ev, seg_od = _SEGMENTS[by] if by else (None, None, None)
    _require(events, ["visitor_id", "ts"] + ([seg_ev] if by else []), "events")
    _require(orders, ["customer_id", "order_ts", "status", "paid_amount"] + ([seg_od] if by else []), "orders")
    _require_datetime(events, "ts", "events")
    _require_datetime(orders, "order_ts", "orders")
    if not pd.api.types.is_numeric_dtype(orders["paid_amount"]):
        raise ValueError(f"orders['paid_amount'] must be numeric, got {orders['paid_amount'].dtype}")
    if events["visitor_id"].isna().any():
        raise ValueError(f"events['visitor_id'] has {int(events['visitor_id'].isna().sum())} missing value(s)")
    if len(events) == 0:
        raise ValueError("events is empty: UV (the KPI tree's root) needs a behaviour log")

    n_orders_in = len(orders)
    placed = metrics.placed_orders(orders)
    n_cancelled = n_orders_in - len(placed)
    if placed["paid_amount"].isna().any() or placed["customer_id"].isna().any():
        raise ValueError("orders has missing paid_amount or customer_id on placed orders")

    e_day = _days(events["ts"])
    o_day = _days(placed["order_ts"])
    lo = pd.Timestamp(start).to_datetime64().astype("datetime64[D]").astype(np.int64) if start is not None else None
    hi = pd.Timestamp(end).to_datetime64().astype("datetime64[D]").astype(np.int64) if end is not None else None
    if lo is None and hi is None:
        e_keep = slice(None)
        n_events_outside = 0
        e_in = e_day
    else:
        e_keep = np.ones(len(e_day), bool)
        if lo is not None:
            e_keep &= e_day >= lo
        if hi is not None:
            e_keep &= e_day < hi
        n_events_outside = int((~e_keep).sum())
        e_in = e_day[e_keep]
    if len(e_in) == 0:
        raise ValueError(f"no events in the window [{start}, {end})")
    d0 = int(e_in.min())
    present = np.bincount(e_in - d0) > 0
    ev_days = np.flatnonzero(present) + d0
    lut = np.cumsum(present) - 1  # day offset -> index among event days
    o_rel = o_day - d0
    o_keep = (o_rel >= 0) & (o_rel < len(present))
    o_keep[o_keep] = present[o_rel[o_keep]]  # restrict orders to days the behaviour log covers
    n_orders_outside = int((~o_keep).sum())

    if by:
        e_seg, o_seg, labels = _segment_codes(events[seg_ev], placed[seg_od])
    else:
        e_seg = np.zeros(len(events), np.int64)
        o_seg = np.zeros(len(placed), np.int64)
        labels = pd.Index(["all"])
    n_seg = len(labels)

    if daily:
        e_t = lut[e_in - d0]
        o_t = lut[o_rel[o_keep]]
        n_t = len(ev_days)
    else:
        e_t = np.zeros(len(e_in), np.int64)
        o_t = np.zeros(int(o_keep.sum()), np.int64)
        n_t = 1
    e_g = e_t * n_seg + e_seg[e_keep] if by else e_t
    o_g = o_t * n_seg + o_seg[o_keep]
    n_g = n_t * n_seg

    v_codes = _id_codes(events["visitor_id"])
    c_codes = _id_codes(placed["customer_id"])
    uv = _distinct_per_group(e_g, v_codes[e_keep], n_g)
    buyers = _distinct_per_group(o_g, c_codes[o_keep], n_g)
    n_ord = np.bincount(o_g, minlength=n_g)
    gmv = np.bincount(o_g, weights=placed["paid_amount"].to_numpy(np.float64)[o_keep], minlength=n_g)

    out = pd.DataFrame({"uv": uv, "buyers": buyers, "orders": n_ord, "gmv": gmv})
    if daily:
        out.insert(0, "date", np.repeat(ev_days.astype("datetime64[D]").astype("datetime64[us]"), n_seg))
    if by:
        seg_vals = np.tile(np.arange(n_seg), n_t)
        out.insert(1 if daily else 0, seg_out, pd.Categorical.from_codes(seg_vals, categories=labels))
        # keep the full day x segment grid (a segment with 0 UV on a day is news, e.g. a
        # tracking outage); the "missing" segment only if some row lacks the segment
        is_missing = seg_vals == n_seg - 1
        if not (out["uv"].to_numpy()[is_missing].any() or out["orders"].to_numpy()[is_missing].any()):
            out = out[~is_missing].reset_index(drop=True)
            out[seg_out] = out[seg_out].cat.remove_unused_categories()

    add_rates(out, on_inconsistent=on_inconsistent, unit="row")
    out.attrs["excluded"] = {
        "cancelled_orders": n_cancelled,
        "orders_on_days_without_events": n_orders_outside,
        "events_outside_window": n_events_outside,
    }
    out.attrs["note"] = (
        "Days restricted to those present in the behaviour log; GMV over placed orders "
        f"(status in {metrics.PLACED_STATUSES}). UV of segments need not add up to the total "
        "UV (a visitor can use two devices); GMV, orders and buyers-per-segment follow the orders."
    )
    return out


def add_rates(table: pd.DataFrame, *, on_inconsistent: str = "raise", unit: str = "row") -> pd.DataFrame:
    """Add ``cr`` = buyers / UV and ``spend_per_buyer`` (客单价) = GMV / buyers to a table of counts.

    ``table`` needs ``uv``, ``buyers`` and ``gmv`` (the daily KPI table, pandas- or
    engine-computed). A row with more buyers (from orders) than UV (from the behaviour log)
    would give CR > 1: the orders hold buyers the log does not see. It raises (default), or
    with ``on_inconsistent="warn"`` warns and leaves NaN CR and spend per buyer there. Both
    rates come from :mod:`ecomlab.metrics`. Modifies and returns ``table``.

    >>> t = pd.DataFrame({"uv": [100, 50], "buyers": [4, 2], "gmv": [400.0, 100.0]})
    >>> add_rates(t)[["cr", "spend_per_buyer"]].to_dict("list")
    {'cr': [0.04, 0.04], 'spend_per_buyer': [100.0, 50.0]}
    """
    if on_inconsistent not in ("raise", "warn"):
        raise ValueError(f"on_inconsistent must be 'raise' or 'warn', got {on_inconsistent!r}")
    _require(table, ["uv", "buyers", "gmv"], "table")
    bad = table["buyers"].to_numpy() > table["uv"].to_numpy()
    if bad.any():
        msg = (
            f"{int(bad.sum())} {unit}(s) have more buyers (from orders) than UV (from events), "
            "so CR would exceed 1 — the orders include buyers the behaviour log does not see "
            "(e.g. other sales channels, segments labelled differently, days outside the log). "
            "Filter the orders to what the log covers, or pass on_inconsistent='warn' to get NaN "
            "CR/spend per buyer there."
        )
        if on_inconsistent == "raise":
            raise ValueError(msg)
        import warnings

        warnings.warn(msg, stacklevel=3)
    ok = ~bad
    cr = np.full(len(table), np.nan)
    cr[ok] = metrics.conversion_rate(table["buyers"].to_numpy()[ok], table["uv"].to_numpy()[ok])
    table["cr"] = cr
    a = np.asarray(metrics.spend_per_buyer(table["gmv"].to_numpy(), table["buyers"].to_numpy()), dtype=float)
    a[bad] = np.nan
    table["spend_per_buyer"] = a
    return table


def daily_kpis(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    by: Literal["device", "source", "traffic_source"] | None = None,
    on_inconsistent: Literal["raise", "warn"] = "raise",
) -> pd.DataFrame:
    """Daily KPI tree: UV, buyers, orders, GMV, CR = buyers/UV, spend per buyer = GMV/buyers.

    Definitions (all through :mod:`ecomlab.metrics`, so ``gmv == uv * cr * spend_per_buyer``):

    - **UV** — distinct ``visitor_id`` in ``events`` that day (segment).
    - **buyers** — distinct ``customer_id`` with a *placed* order that day
      (:func:`ecomlab.metrics.placed_orders`: cancelled orders excluded); a customer
      who orders twice in a day is one buyer. Buyers come from ``orders``, not from
      ``buy`` events, so GMV and buyers reconcile with finance.
    - **GMV** — sum of ``paid_amount`` over those placed orders (as :func:`metrics.gmv`).

    The behaviour log covers a shorter period (Nestwell: Nov 2025) than the orders
    (2024-2025), so **only days present in ``events`` are returned** and orders on other
    days are excluded; the counts are in ``result.attrs["excluded"]``.

    ``by`` drills down consistently: ``"device"`` uses ``events.device`` and
    ``orders.device``; ``"source"`` (alias ``"traffic_source"``) uses ``events.source``
    and ``orders.traffic_source``. A missing device becomes the segment ``"missing"``
    (kept, never dropped). Segment UVs need not sum to the total UV.

    Raises ``ValueError`` for missing columns, non-datetime timestamps, and rows with
    more buyers than visitors (CR > 1) unless ``on_inconsistent="warn"``.

    Reference: Kohavi, Tang & Xu (2020), ch. 7 (metric taxonomy / KPI trees).

    >>> ev = pd.DataFrame({"visitor_id": ["v1", "v2", "v3"],
    ...     "ts": pd.to_datetime(["2025-11-01 09:00", "2025-11-01 10:00", "2025-11-02 11:00"])})
    >>> od = pd.DataFrame({"customer_id": ["c1"], "order_ts": pd.to_datetime(["2025-11-01 09:30"]),
    ...     "status": ["completed"], "paid_amount": [120.0]})
    >>> daily_kpis(ev, od)[["date", "uv", "buyers", "gmv", "cr", "spend_per_buyer"]]
            date  uv  buyers    gmv   cr  spend_per_buyer
    0 2025-11-01   2       1  120.0  0.5            120.0
    1 2025-11-02   1       0    0.0  0.0              NaN
    """
    return _kpi_core(events, orders, by=by, daily=True, on_inconsistent=on_inconsistent)


def period_kpis(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    by: Literal["device", "source", "traffic_source"] | None = None,
    on_inconsistent: Literal["raise", "warn"] = "raise",
) -> pd.DataFrame:
    """KPI tree over a whole period ``[start, end)`` (UV = distinct visitors in the period).

    Use it to compare two weeks (UV is not additive over days: a visitor who comes on
    Monday and Tuesday is one UV of the week). Same definitions and day restriction as
    :func:`daily_kpis`; one row per segment (or one row). Feed two of these to
    :func:`decompose_change` or :func:`drilldown`.

    >>> ev = pd.DataFrame({"visitor_id": ["v1", "v1", "v2"],
    ...     "ts": pd.to_datetime(["2025-11-01 09:00", "2025-11-02 10:00", "2025-11-02 11:00"])})
    >>> od = pd.DataFrame({"customer_id": ["c1"], "order_ts": pd.to_datetime(["2025-11-01 09:30"]),
    ...     "status": ["completed"], "paid_amount": [120.0]})
    >>> period_kpis(ev, od)[["uv", "buyers", "gmv"]]
       uv  buyers    gmv
    0   2       1  120.0
    """
    return _kpi_core(events, orders, by=by, daily=False, start=start, end=end, on_inconsistent=on_inconsistent)


# --------------------------------------------------------------------------------------
# LMDI decomposition
# --------------------------------------------------------------------------------------
_FACTORS = ("uv", "cr", "spend_per_buyer")


def _as_frame(x, arg: str) -> tuple[pd.DataFrame, bool]:
    if isinstance(x, pd.DataFrame):
        return x, False
    if isinstance(x, pd.Series):
        return x.to_frame().T, True
    if isinstance(x, Mapping):
        return pd.DataFrame([dict(x)]), True
    raise ValueError(f"{arg} must be a dict, Series or DataFrame, got {type(x).__name__}")


def _factors(df: pd.DataFrame, arg: str) -> pd.DataFrame:
    """uv, cr, spend_per_buyer, gmv as float, deriving cr/spend_per_buyer from buyers/gmv via metrics if needed."""
    cols = set(df.columns)
    if not {"uv", "cr", "spend_per_buyer"} <= cols:
        if {"uv", "buyers", "gmv"} <= cols:
            df = df.assign(
                cr=metrics.conversion_rate(df["buyers"].astype(float), df["uv"].astype(float)),
                spend_per_buyer=metrics.spend_per_buyer(df["gmv"].astype(float), df["buyers"].astype(float)),
            )
        else:
            raise ValueError(
                f"{arg} needs keys/columns uv, cr, spend_per_buyer (or uv, buyers, gmv); it has {sorted(map(str, cols))}"
            )
    out = pd.DataFrame(index=df.index)
    for c in _FACTORS:
        try:
            out[c] = pd.to_numeric(df[c]).astype(float)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{arg}[{c!r}] must be numeric: {e}") from None
        if (out[c] < 0).any():
            raise ValueError(f"{arg}[{c!r}] must be >= 0 (LMDI is defined for non-negative factors)")
    prod = out["uv"].fillna(0) * out["cr"].fillna(0) * out["spend_per_buyer"].fillna(0)
    if "gmv" in df.columns:
        g = pd.to_numeric(df["gmv"]).astype(float)
        if g.isna().any():
            raise ValueError(f"{arg}['gmv'] has missing values")
        if not np.allclose(g, prod, rtol=1e-9, atol=1e-9):
            raise ValueError(f"{arg}: gmv != uv * cr * spend_per_buyer; the KPI tree must hold exactly")
        out["gmv"] = g
    else:
        out["gmv"] = prod
    # NaN factors are only legitimate below a zero (CR when UV = 0, spend per buyer when buyers = 0)
    nan_cr = out["cr"].isna() & (out["uv"] > 0)
    nan_spb = out["spend_per_buyer"].isna() & (out["uv"].fillna(0) * out["cr"].fillna(0) > 0)
    if nan_cr.any() or nan_spb.any() or out["uv"].isna().any():
        raise ValueError(f"{arg} has missing uv/cr/spend_per_buyer where they are defined")
    return out


def _log_ratio(x1: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """ln(x1/x0), accurate near 1 via log1p((x1 - x0)/x0) (the difference is exact there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = x1 / x0
        return np.where(np.abs(r - 1) < 0.5, np.log1p((x1 - x0) / x0), np.log(r))


def _logmean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Logarithmic mean L(a, b) = (a - b)/ln(a/b), L(a, a) = a, L(a, 0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = _log_ratio(a, b)
        out = np.where(a == b, a, (a - b) / lr)
    return np.where((a == 0) | (b == 0), 0.0, out)


def decompose_change(
    before: Mapping | pd.Series | pd.DataFrame,
    after: Mapping | pd.Series | pd.DataFrame,
    *,
    zero: Literal["limit", "raise"] = "limit",
) -> pd.Series | pd.DataFrame:
    """Split ΔGMV exactly into UV, CR and spend per buyer contributions (additive LMDI-I).

    With ``GMV = UV x CR x SPB`` (SPB = spend per buyer) and ``L(a, b) = (a - b) / ln(a / b)`` the logarithmic
    mean, the contribution of factor ``x`` is::

        effect_x = L(GMV_after, GMV_before) * ln(x_after / x_before)

    and ``effect_uv + effect_cr + effect_spb == GMV_after - GMV_before`` exactly,
    because the logs of a product add up. Why LMDI-I (Ang 2004): it is *perfect* (no
    unexplained residual, unlike "change one factor at a time" or Laspeyres splits), it
    is *symmetric* in time (swapping before/after flips every sign), the result does
    not depend on the order of the factors, and it aggregates consistently over
    sub-groups.

    Zeros: ``ln(0)`` is undefined. With ``zero="limit"`` (default) we use the limit of
    LMDI as the zero value tends to 0 (Ang & Liu 2007): the factor that becomes (or
    was) zero takes the whole change, and factors below it that are undefined (CR when
    UV = 0, spend per buyer when buyers = 0) contribute 0. ``zero="raise"`` raises ``ValueError``
    instead. Negative factors always raise.

    ``before``/``after`` are dicts or Series with ``uv, cr, spend_per_buyer`` (or ``uv, buyers,
    gmv``), giving a Series, or two DataFrames with the same index (periods or
    segments), giving one row per index value (vectorised).

    >>> r = decompose_change({"uv": 1000, "cr": 0.03, "spend_per_buyer": 200.0},
    ...                      {"uv": 1100, "cr": 0.027, "spend_per_buyer": 210.0})
    >>> r[["uv_effect", "cr_effect", "spend_per_buyer_effect", "delta_gmv"]].round(2).tolist()
    [583.08, -644.57, 298.49, 237.0]
    """
    if zero not in ("limit", "raise"):
        raise ValueError(f"zero must be 'limit' or 'raise', got {zero!r}")
    b_df, scalar_b = _as_frame(before, "before")
    a_df, scalar_a = _as_frame(after, "after")
    if scalar_a != scalar_b:
        raise ValueError("before and after must both be dict/Series or both DataFrames")
    if not scalar_b:
        if len(b_df) == 0:
            raise ValueError("before is empty")
        if not b_df.index.equals(a_df.index):
            raise ValueError("before and after DataFrames must have the same index (periods/segments)")
        if b_df.index.has_duplicates:
            raise ValueError("before has duplicated index values")
    else:
        a_df.index = b_df.index
    f0, f1 = _factors(b_df, "before"), _factors(a_df, "after")
    g0, g1 = f0["gmv"].to_numpy(), f1["gmv"].to_numpy()
    L = _logmean(g1, g0)
    res = pd.DataFrame({"gmv_before": g0, "gmv_after": g1, "delta_gmv": g1 - g0}, index=f0.index)

    zero_any = (g0 == 0) | (g1 == 0)
    if zero_any.any() and zero == "raise":
        raise ValueError(
            f"{int(zero_any.sum())} row(s) have GMV = 0 in one period (a factor is 0); "
            "ln(0) is undefined — use zero='limit' (Ang & Liu 2007) or drop them explicitly"
        )
    upstream_zero0 = np.zeros(len(res), bool)
    upstream_zero1 = np.zeros(len(res), bool)
    assigned = np.zeros(len(res), bool)
    effects = {}
    for c in _FACTORS:
        x0 = f0[c].to_numpy()
        x1 = f1[c].to_numpy()
        lr = _log_ratio(np.nan_to_num(x1), np.nan_to_num(x0))
        with np.errstate(invalid="ignore"):
            eff = L * lr
        # limit rules where some GMV is zero
        z0 = (np.nan_to_num(x0) == 0) & ~upstream_zero0
        z1 = (np.nan_to_num(x1) == 0) & ~upstream_zero1
        takes_all = zero_any & ~assigned & (z0 | z1)
        eff = np.where(zero_any, 0.0, eff)
        eff = np.where(takes_all, g1 - g0, eff)
        assigned |= takes_all
        upstream_zero0 |= np.nan_to_num(x0) == 0
        upstream_zero1 |= np.nan_to_num(x1) == 0
        effects[c] = eff
    for c in _FACTORS:
        res[f"{c}_effect"] = effects[c]
    for c in _FACTORS:
        res[f"{c}_before"] = f0[c].to_numpy()
        res[f"{c}_after"] = f1[c].to_numpy()
    if scalar_b:
        return res.iloc[0].rename("decomposition")
    return res


def drilldown(
    kpis_by_segment_before: pd.DataFrame,
    kpis_by_segment_after: pd.DataFrame,
    *,
    segment: str | None = None,
) -> pd.DataFrame:
    """Which segment drove ΔGMV, and through which factor?

    GMV is additive over segments that partition the orders (device, traffic source,
    category), so ``ΔGMV_total = Σ_s ΔGMV_s`` exactly; each segment's change is then
    split by :func:`decompose_change` (LMDI-I) into UV, CR and spend per buyer effects when the
    tables carry them. A segment present in only one period counts as zero in the
    other (its whole change is a UV effect, by the zero limit rule).

    ``kpis_by_segment_*``: tables with a segment column ``segment`` (default: the
    first non-KPI column, e.g. from :func:`period_kpis` ``by="device"``) or a segment
    index, and ``gmv`` plus optionally ``uv, buyers`` or ``uv, cr, spend_per_buyer``. For a
    category drill-down only ``gmv`` is needed. Returns one row per segment, sorted by
    ``|ΔGMV|``, plus a final ``"Total"`` row; ``share_of_delta`` = ΔGMV_s / ΔGMV.

    >>> b = pd.DataFrame({"device": ["ios", "android"], "uv": [100, 200], "buyers": [5, 6], "gmv": [500.0, 600.0]})
    >>> a = pd.DataFrame({"device": ["ios", "android"], "uv": [100, 200], "buyers": [5, 2], "gmv": [500.0, 200.0]})
    >>> d = drilldown(b, a)
    >>> d[["delta_gmv", "uv_effect", "cr_effect", "spend_per_buyer_effect"]]  # doctest: +NORMALIZE_WHITESPACE
             delta_gmv  uv_effect  cr_effect  spend_per_buyer_effect
    device
    android     -400.0        0.0     -400.0         0.0
    ios            0.0        0.0        0.0         0.0
    Total       -400.0        0.0     -400.0         0.0
    """
    frames = []
    for arg, df in (("kpis_by_segment_before", kpis_by_segment_before), ("kpis_by_segment_after", kpis_by_segment_after)):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"{arg} must be a DataFrame, got {type(df).__name__}")
        if "gmv" not in df.columns:
            raise ValueError(f"{arg} needs a 'gmv' column; it has {list(df.columns)}")
        seg = segment
        if seg is None:
            others = [c for c in df.columns if c not in KPI_COLUMNS and c != "date"]
            seg = others[0] if others else None
        if seg is not None:
            if seg not in df.columns:
                raise ValueError(f"{arg} has no segment column {seg!r}")
            df = df.set_index(seg)
        if df.index.has_duplicates:
            raise ValueError(
                f"{arg} has duplicated segments {list(df.index[df.index.duplicated()].unique())}; "
                "aggregate to one row per segment first (e.g. period_kpis(by=...))"
            )
        df = df.copy()
        df.index = pd.Index(df.index.astype(str), name=seg or "segment")
        frames.append(df)
    b, a = frames
    idx = b.index.union(a.index, sort=False)
    has_factors = all({"uv", "buyers"} <= set(f.columns) or {"uv", "cr", "spend_per_buyer"} <= set(f.columns) for f in frames)
    cols = ["gmv"] + (["uv", "buyers"] if all({"uv", "buyers"} <= set(f.columns) for f in frames) else
                      (["uv", "cr", "spend_per_buyer"] if has_factors else []))
    b = b[cols].reindex(idx).astype(float)
    a = a[cols].reindex(idx).astype(float)
    b = b.fillna(0.0) if "buyers" in cols or not has_factors else b.fillna({"gmv": 0.0, "uv": 0.0})
    a = a.fillna(0.0) if "buyers" in cols or not has_factors else a.fillna({"gmv": 0.0, "uv": 0.0})
    out = pd.DataFrame({"gmv_before": b["gmv"], "gmv_after": a["gmv"], "delta_gmv": a["gmv"] - b["gmv"]})
    if has_factors:
        dec = decompose_change(b, a, zero="limit")
        out[["uv_effect", "cr_effect", "spend_per_buyer_effect"]] = dec[["uv_effect", "cr_effect", "spend_per_buyer_effect"]]
    total = out.sum(axis=0)
    out = out.loc[out["delta_gmv"].abs().sort_values(ascending=False, kind="stable").index]
    out.loc["Total"] = total
    d = total["delta_gmv"]
    out["share_of_delta"] = out["delta_gmv"] / d if d != 0 else np.nan
    return out


# --------------------------------------------------------------------------------------
# GMV by category: allocate each order's paid amount to its lines
# --------------------------------------------------------------------------------------
def allocate_paid_amount(orders: pd.DataFrame, order_items: pd.DataFrame) -> pd.DataFrame:
    """Split each placed order's ``paid_amount`` across its lines, by line value share.

    An order's discount (coupon, 满减) and shipping fee belong to the whole order, so
    GMV has no natural split by category. The rule used here (and stated in lesson
    05-1): each line gets the order's ``paid_amount`` in proportion to its value at
    the price paid, ``line_items_amount = quantity x unit_price``::

        line_paid_amount = paid_amount x line_items_amount / Σ_order line_items_amount

    so the lines of an order add up to its ``paid_amount`` and category GMVs add up to
    the total GMV (:func:`ecomlab.metrics.gmv`). An order whose lines are all worth 0
    is split equally between its lines. Cancelled orders are dropped
    (:func:`ecomlab.metrics.placed_orders`); placed orders without any line are
    reported in ``attrs["orders_without_lines"]`` (their GMV cannot be allocated).

    Returns one row per line of a placed order: ``order_id, sku_id, quantity,
    line_items_amount, line_paid_amount`` plus ``order_ts`` and ``customer_id``.

    >>> od = pd.DataFrame({"order_id": ["o1"], "customer_id": ["c1"], "status": ["completed"],
    ...     "order_ts": pd.to_datetime(["2025-11-11"]), "paid_amount": [90.0]})
    >>> oi = pd.DataFrame({"order_id": ["o1", "o1"], "sku_id": ["a", "b"],
    ...     "quantity": [1, 2], "unit_price": [60.0, 20.0]})
    >>> allocate_paid_amount(od, oi)[["sku_id", "line_items_amount", "line_paid_amount"]]
      sku_id  line_items_amount  line_paid_amount
    0      a               60.0              54.0
    1      b               40.0              36.0
    """
    _require(orders, ["order_id", "customer_id", "order_ts", "status", "paid_amount"], "orders")
    _require(order_items, ["order_id", "sku_id", "quantity", "unit_price"], "order_items")
    for col in ("quantity", "unit_price"):
        if not pd.api.types.is_numeric_dtype(order_items[col]):
            raise ValueError(f"order_items[{col!r}] must be numeric, got {order_items[col].dtype}")
        if (order_items[col] < 0).any():
            raise ValueError(f"order_items[{col!r}] must be >= 0")
    if not pd.api.types.is_numeric_dtype(orders["paid_amount"]):
        raise ValueError(f"orders['paid_amount'] must be numeric, got {orders['paid_amount'].dtype}")
    if not keys.is_unique(orders["order_id"]):
        raise ValueError("orders['order_id'] has duplicates; one row per order expected")
    placed = metrics.placed_orders(orders)[["order_id", "customer_id", "order_ts", "paid_amount"]]
    # hash lookup (Series.isin with many Arrow-string values is slow); ids are unique
    items = order_items[pd.Index(placed["order_id"]).get_indexer(order_items["order_id"]) >= 0]
    lines = items[["order_id", "sku_id", "quantity"]].assign(
        line_items_amount=items["quantity"].to_numpy(float) * items["unit_price"].to_numpy(float)
    )
    out = lines.merge(placed, on="order_id", how="inner")
    grp = out.groupby("order_id", sort=False)["line_items_amount"]
    total = grp.transform("sum").to_numpy()
    n_lines = grp.transform("size").to_numpy()
    share = np.where(total > 0, out["line_items_amount"].to_numpy() / np.where(total > 0, total, 1.0), 1.0 / n_lines)
    out["line_paid_amount"] = out["paid_amount"].to_numpy() * share
    out = out.drop(columns="paid_amount").reset_index(drop=True)
    out.attrs["orders_without_lines"] = int(len(placed) - out["order_id"].nunique())
    out.attrs["rule"] = "paid_amount split by line share of quantity x unit_price (equal split if all lines are 0)"
    return out


def category_gmv(
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    products: pd.DataFrame,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """GMV by product category over ``[start, end)``, allocated by :func:`allocate_paid_amount`.

    Returns one row per category (every category of ``products``, zero when nothing was
    sold) with ``gmv`` (CNY), ``orders`` (placed orders with at least one line of the
    category — an order can count in two categories) and ``units``. The ``gmv`` column
    adds up to the GMV of the placed orders in the window, so two of these tables can be
    fed to :func:`drilldown` to split a GMV change by category. There is no UV per
    category in this table (a visitor browses many categories), so the drill-down is on
    GMV only.

    >>> od = pd.DataFrame({"order_id": ["o1"], "customer_id": ["c1"], "status": ["completed"],
    ...     "order_ts": pd.to_datetime(["2025-11-11"]), "paid_amount": [90.0]})
    >>> oi = pd.DataFrame({"order_id": ["o1", "o1"], "sku_id": ["a", "b"],
    ...     "quantity": [1, 2], "unit_price": [60.0, 20.0]})
    >>> pr = pd.DataFrame({"sku_id": ["a", "b"], "category": ["storage", "bath"]})
    >>> category_gmv(od, oi, pr)
      category   gmv  orders  units
    0     bath  36.0       1      2
    1  storage  54.0       1      1
    """
    _require(products, ["sku_id", "category"], "products")
    if products["sku_id"].duplicated().any():
        raise ValueError("products['sku_id'] has duplicates; one row per SKU expected")
    _require(orders, ["order_ts"], "orders")
    _require_datetime(orders, "order_ts", "orders")
    o = orders
    if start is not None:
        o = o[o["order_ts"] >= pd.Timestamp(start)]
    if end is not None:
        o = o[o["order_ts"] < pd.Timestamp(end)]
    lines = allocate_paid_amount(o, order_items)
    cat = products.set_index("sku_id")["category"]
    lines["category"] = lines["sku_id"].map(cat)
    unknown = lines["category"].isna()
    if unknown.any():
        raise ValueError(
            f"{int(unknown.sum())} order line(s) have a sku_id not in products "
            f"(e.g. {list(lines.loc[unknown, 'sku_id'].unique()[:3])})"
        )
    cats = (products["category"].cat.categories if isinstance(products["category"].dtype, pd.CategoricalDtype)
            else pd.Index(sorted(products["category"].astype(str).unique())))
    g = lines.groupby(lines["category"].astype(str))
    out = pd.DataFrame({
        "gmv": g["line_paid_amount"].sum(),
        "orders": g["order_id"].nunique(),
        "units": g["quantity"].sum(),
    }).reindex(pd.Index(cats.astype(str), name="category"), fill_value=0)
    out = out.astype({"orders": "int64", "units": "int64"}).reset_index()
    out.attrs["orders_without_lines"] = lines.attrs.get("orders_without_lines", 0)
    return out


# --------------------------------------------------------------------------------------
# anomaly alerts
# --------------------------------------------------------------------------------------
def _calendar_days(calendar) -> np.ndarray:
    """Promo calendar -> sorted int days. Accepts dates, a DatetimeIndex, or a DataFrame
    with a ``date`` column or ``start``/``end`` columns (inclusive windows)."""
    if calendar is None:
        raise ValueError("calendar is required: pass your promotion days (e.g. kpi.promo_days(windows)) "
                         "or [] to score every day")
    if isinstance(calendar, pd.DataFrame):
        if "date" in calendar.columns:
            vals = pd.to_datetime(calendar["date"])
        else:
            vals = promo_days(calendar)
    else:
        try:
            vals = pd.to_datetime(pd.Index(list(calendar)))
        except (TypeError, ValueError) as e:
            raise ValueError(f"calendar must hold dates: {e}") from None
    return np.unique(pd.DatetimeIndex(vals).to_numpy().astype("datetime64[D]").astype(np.int64))


def _window_stats(x: np.ndarray, valid: np.ndarray, window: int, centered: bool):
    """Median, MAD and count of valid baseline values around each position (vectorised)."""
    from numpy.lib.stride_tricks import sliding_window_view

    y = np.where(valid, x, np.nan)
    n = len(y)
    if centered:
        h = window // 2
        pad = np.r_[np.full(h, np.nan), y, np.full(h, np.nan)]
        w = sliding_window_view(pad, 2 * h + 1)[:n]
        w = np.delete(w, h, axis=1)  # leave the day itself out
    else:
        pad = np.r_[np.full(window, np.nan), y]
        w = sliding_window_view(pad, window)[:n]  # the `window` days before t
    cnt = np.sum(~np.isnan(w), axis=1)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(w, axis=1)
            mad = np.nanmedian(np.abs(w - med[:, None]), axis=1)
    return med, mad, cnt


def anomaly_alerts(
    series: pd.Series | pd.DataFrame,
    *,
    metrics: Iterable[str] | None = None,
    by: str | None = None,
    date: str = "date",
    calendar,
    z: float = 3.5,
    min_history: int = 14,
    window: int = 28,
    baseline: Literal["trailing", "centered"] = "trailing",
    weekday: bool = True,
    rate_denominators: Mapping[str, str] | None = None,
    return_all: bool = False,
) -> pd.DataFrame:
    """Robust daily KPI alerts that do not flood on 双11.

    Method, per segment and metric (vectorised over days):

    1. **Weekday seasonality** — values are divided by multiplicative weekday factors
       ``f_d = median(x on weekday d) / median(x)`` estimated on non-promo days, when
       every weekday has at least 3 such days (else no adjustment, noted in
       ``attrs``). With ``weekday=False`` no adjustment is made.
    2. **Baseline** — the median of the adjusted values over the ``window`` preceding
       non-promo days (``baseline="trailing"``, what an online monitor sees) or the
       ``window`` days around the day, itself excluded (``"centered"``, for a
       retrospective review of a short log such as one month); at least
       ``min_history`` baseline days are required, otherwise the day is not scored.
    3. **Robust z** — ``(x - median) / (1.4826 * MAD)`` (median absolute deviation,
       Leys et al. 2013; 1.4826 makes it a standard-deviation estimate for normal
       data). The scale is floored at 1% of the expected value so a flat history does
       not turn tiny wobbles into alerts. ``expected = median * f_weekday``.
       **Sampling-noise floor** (optional): for a rate metric listed in
       ``rate_denominators`` (e.g. ``{"cr": "uv"}``: CR = buyers / UV) the scale is
       also floored at the binomial standard error ``sqrt(e (1 - e) / n_t)`` of the
       day's own denominator ``n_t`` (``e`` = expected rate). A median/MAD from a few
       weeks can understate the noise of a small segment (a PC segment with 400
       visitors a day); the floor means "never alert on a move that chance alone
       produces on this day's traffic".
    4. **Promotions (stated rule)** — days in ``calendar`` (required: your shop's
       promotion days, e.g. :func:`promo_days` of its promotion windows, or ``[]`` to
       switch the rule off; there is no built-in calendar) are *neither scored nor used
       in baselines*: their uplift is planned, and they would poison the median. Check
       promo days against the promotion plan instead. Their count is in
       ``attrs["promo_days_skipped"]``.
    5. **Zero spread (stated rule)** — when the baseline has no spread at all (every
       baseline day equal, e.g. a segment with 0 buyers on each of its days, so MAD = 0
       and a median of 0) a z-score is undefined (it would be ±inf). Such a day is not
       scored; the count is in ``attrs["days_zero_spread"]`` and the days whose value
       differs from that constant baseline in ``attrs["zero_spread_changes"]`` (a list of
       ``(date, segment, metric, value, expected)``) — look at them by hand.

    An alert is a scored day with ``|robust_z| >= z`` (3.5 is the Iglewicz & Hoaglin
    cut-off for modified z-scores).

    ``series``: a Series indexed by date (metric = its name), or a DataFrame with a
    ``date`` column, optional segment column ``by`` and KPI columns (``metrics``,
    default every one of uv, buyers, orders, gmv, cr, spend_per_buyer present) — e.g. the output of
    :func:`daily_kpis`. ``rate_denominators`` maps rate metrics to their count
    column in ``series`` (a DataFrame); the rates must lie in [0, 1]. Returns columns
    ``date, segment, metric, value, expected,
    robust_z, direction`` ("drop"/"spike"), ``rel_change``; all scored rows if
    ``return_all=True`` (with an ``alert`` flag).

    >>> s = pd.Series(100.0 + np.tile([0, 1, -1, 2, -2, 1, 0], 6), name="cr",
    ...               index=pd.date_range("2025-08-01", periods=42))
    >>> s.iloc[35] = 40.0
    >>> anomaly_alerts(s, calendar=[])[["date", "metric", "direction"]]
            date metric direction
    0 2025-09-05     cr      drop
    """
    if not (isinstance(z, (int, float)) and z > 0):
        raise ValueError(f"z must be a positive number, got {z!r}")
    if not (isinstance(min_history, (int, np.integer)) and min_history >= 3):
        raise ValueError(f"min_history must be an int >= 3, got {min_history!r}")
    if not (isinstance(window, (int, np.integer)) and window >= min_history):
        raise ValueError(f"window must be an int >= min_history ({min_history}), got {window!r}")
    if baseline not in ("trailing", "centered"):
        raise ValueError(f"baseline must be 'trailing' or 'centered', got {baseline!r}")

    if isinstance(series, pd.Series):
        name = series.name if series.name is not None else "value"
        df = pd.DataFrame({date: series.index, name: series.to_numpy()})
        metrics_ = [name]
        if by is not None:
            raise ValueError("by needs a DataFrame input with a segment column")
    elif isinstance(series, pd.DataFrame):
        df = series
        if date not in df.columns:
            raise ValueError(f"series has no date column {date!r}; columns: {list(df.columns)}")
        metrics_ = list(metrics) if metrics is not None else [c for c in KPI_COLUMNS if c in df.columns]
        if not metrics_:
            raise ValueError(f"no metric columns given or found (looked for {KPI_COLUMNS})")
    else:
        raise ValueError(f"series must be a Series or DataFrame, got {type(series).__name__}")
    if metrics is not None and isinstance(series, pd.Series):
        raise ValueError("metrics only applies to a DataFrame input")
    rate_den = dict(rate_denominators or {})
    if rate_den:
        if not isinstance(series, pd.DataFrame):
            raise ValueError("rate_denominators needs a DataFrame input with the count columns")
        for m, c in rate_den.items():
            if m not in metrics_:
                raise ValueError(f"rate_denominators names metric {m!r}, which is not scored ({metrics_})")
            if c not in df.columns or not pd.api.types.is_numeric_dtype(df[c]):
                raise ValueError(f"rate_denominators: count column {c!r} for {m!r} must be a numeric column of series")
            if (df[c] < 0).any():
                raise ValueError(f"rate_denominators: count column {c!r} must be >= 0")
            vals = df[m].to_numpy(dtype=float, na_value=np.nan)
            if np.any((vals < 0) | (vals > 1)):
                raise ValueError(f"rate_denominators: metric {m!r} must be a rate in [0, 1]")
    if by is not None and by not in df.columns:
        raise ValueError(f"series has no segment column by={by!r}; columns: {list(df.columns)}")
    for m in metrics_:
        if m not in df.columns:
            raise ValueError(f"series has no metric column {m!r}")
        if not pd.api.types.is_numeric_dtype(df[m]):
            raise ValueError(f"metric column {m!r} must be numeric, got {df[m].dtype}")
    try:
        dates = pd.to_datetime(df[date])
    except (TypeError, ValueError) as e:
        raise ValueError(f"series[{date!r}] must hold dates: {e}") from None
    if dates.isna().any():
        raise ValueError(f"series[{date!r}] has missing dates")

    day = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    seg = df[by].astype(str).to_numpy() if by is not None else np.full(len(df), "all", dtype=object)
    key = pd.DataFrame({"seg": seg, "day": day})
    if key.duplicated().any():
        raise ValueError(f"series has duplicated (date{', ' + by if by else ''}) rows; one row per day and segment expected")
    promo = _calendar_days(calendar)
    rows = []
    notes = {"promo_days_skipped": 0, "days_without_history": 0, "days_zero_spread": 0,
             "zero_spread_changes": [], "weekday_adjusted": {}}
    for s_val in pd.unique(seg):
        m_seg = seg == s_val
        d_seg = day[m_seg]
        lo, hi = d_seg.min(), d_seg.max()
        grid = np.arange(lo, hi + 1)  # regular daily grid: missing days are NaN, not skipped
        pos = d_seg - lo
        is_promo = np.isin(grid, promo)
        wd = (grid + 3) % 7  # 1970-01-01 was a Thursday -> Monday = 0
        for m in metrics_:
            x = np.full(len(grid), np.nan)
            x[pos] = df[m].to_numpy(dtype=float, na_value=np.nan)[m_seg]
            base_ok = ~is_promo & np.isfinite(x)
            f = np.ones(len(grid))
            adjusted = False
            if weekday:
                med_all = np.median(x[base_ok]) if base_ok.any() else np.nan
                cnt = np.bincount(wd[base_ok], minlength=7)
                if cnt.min() >= 3 and np.isfinite(med_all) and med_all > 0:
                    fac = np.array([np.median(x[base_ok & (wd == k)]) for k in range(7)]) / med_all
                    if np.all(fac > 0):
                        f = fac[wd]
                        adjusted = True
            notes["weekday_adjusted"][(s_val, m)] = adjusted
            xa = x / f
            med, mad, cnt = _window_stats(xa, base_ok, window, baseline == "centered")
            scale = np.maximum(1.4826 * mad, 0.01 * np.abs(med))
            expected = med * f
            if m in rate_den:
                n_t = np.full(len(grid), np.nan)
                n_t[pos] = df[rate_den[m]].to_numpy(dtype=float, na_value=np.nan)[m_seg]
                e = np.clip(expected, 0.0, 1.0)
                with np.errstate(all="ignore"):
                    se = np.where(n_t > 0, np.sqrt(e * (1 - e) / n_t) / f, 0.0)
                scale = np.maximum(scale, np.nan_to_num(se))
            zero_spread = ~(scale > 0)  # MAD = 0 and median = 0 (or NaN): no z-score exists
            with np.errstate(all="ignore"):
                rz = np.where(zero_spread, np.nan, (xa - med) / np.where(zero_spread, 1.0, scale))
            candidate = np.isfinite(x) & ~is_promo & (cnt >= min_history)
            flat = candidate & zero_spread
            notes["days_zero_spread"] += int(flat.sum())
            changed = flat & (xa != med)
            notes["zero_spread_changes"].extend(
                (pd.Timestamp(int(g), unit="D"), str(s_val), m, float(x[i]), float(expected[i]))
                for i, g in zip(np.flatnonzero(changed), grid[changed], strict=True))
            scored = candidate & ~zero_spread
            notes["promo_days_skipped"] += int((np.isfinite(x) & is_promo).sum())
            notes["days_without_history"] += int((np.isfinite(x) & ~is_promo & (cnt < min_history)).sum())
            keep = scored if return_all else scored & (np.abs(rz) >= z)
            if keep.any():
                rows.append(pd.DataFrame({
                    "date": grid[keep].astype("datetime64[D]").astype("datetime64[us]"),
                    "segment": s_val,
                    "metric": m,
                    "value": x[keep],
                    "expected": expected[keep],
                    "robust_z": rz[keep],
                }))
    cols = ["date", "segment", "metric", "value", "expected", "robust_z"]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(cols, ["datetime64[us]", "str", "str", "float", "float", "float"], strict=True)})
    out["direction"] = np.where(out["robust_z"] < 0, "drop", "spike")
    with np.errstate(all="ignore"):
        out["rel_change"] = np.where(out["expected"] != 0, out["value"] / out["expected"] - 1, np.nan)
    if return_all:
        out["alert"] = out["robust_z"].abs() >= z
    out = out.sort_values(["date", "segment", "metric"], kind="stable").reset_index(drop=True)
    if by is None:
        out["segment"] = out["segment"].astype("str")
    out.attrs.update(notes)
    out.attrs["rule"] = (
        f"|robust z| >= {z}; baseline = {baseline} median/MAD over {window} days (min {min_history}); "
        "promo days neither scored nor used in baselines; days with a zero-spread baseline not scored"
        + (f"; binomial noise floor for {sorted(rate_den)}" if rate_den else "")
    )
    return out
