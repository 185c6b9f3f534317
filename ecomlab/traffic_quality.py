"""Lesson 03-3 — traffic quality (流量质量): what a visitor and a click from each source are worth.

Value per visitor (UV价值) = CR × spend per buyer (客单价) = GMV / UV, both factors from
:mod:`ecomlab.metrics` (the course's one definition of each KPI). Visitors and buyers come
from the behaviour log (a buyer = a visitor with a purchase event in the segment); GMV and
the buyers who paid it from the orders of the same window and segment. The CR gets a
Wilson (1927) interval; value per visitor a delta-method interval (Casella & Berger 2002,
§5.5.4) that treats the CR and spend-per-buyer estimates as independent.

What a click is worth against what it costs: CPC = spend / clicks per paid channel
(``marketing_daily``) against the value per visitor of that source. The per-click value is
descriptive and attribution-free: it says what the visitors a source brought were worth,
not what one more unit of spend would add (that marginal, incremental view is a media-mix
question, lesson 03-1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import metrics
from ecomlab.validation import require_columns

__all__ = ["visitor_value", "click_economics", "visitor_type"]

MISSING_LABEL = "missing"


def _segment(s: pd.Series) -> pd.Series:
    """Segment labels as strings; a missing value is its own segment, never dropped."""
    return s.astype("string").fillna(MISSING_LABEL)


def visitor_value(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    by: str,
    order_by: str | None = None,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    buy: str = "buy",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Visitors, CR, spend per buyer and value per visitor by segment, with intervals.

    - ``visitors`` = distinct ``visitor_id`` with an event in the segment (``events[by]``:
      a visitor who came from two sources counts in both); ``buyers`` = distinct visitors
      with a ``buy`` event in the segment; ``cr`` = :func:`ecomlab.metrics.conversion_rate`,
      ``cr_lo``/``cr_hi`` its Wilson interval at level 1 − ``alpha``.
    - ``gmv`` = :func:`ecomlab.metrics.gmv` of the orders placed in ``[start, end)`` with
      ``orders[order_by]`` equal to the segment (``order_by`` defaults to ``by``);
      ``paying_customers`` = their distinct ``customer_id``; ``spend_per_buyer`` =
      :func:`ecomlab.metrics.spend_per_buyer` (GMV / paying customers).
    - ``value_per_visitor`` = cr × spend_per_buyer, and a normal interval from the delta
      method: se² / vpv² = cr(1 − cr) / (visitors · cr²) + s² / (paying · spb²), with s the
      standard deviation of spend across paying customers.

    The events must already be cleaned and restricted to the window (see
    :func:`ecomlab.traffic.clean_events`); a missing segment value is the segment
    ``"missing"``. ``attrs["orders_in_window"]`` counts the placed orders used.

    >>> ev = pd.DataFrame({"visitor_id": ["v1", "v1", "v2", "v3"], "event": ["pv", "buy", "pv", "pv"],
    ...                    "source": ["ads", "ads", "ads", "seo"]})
    >>> od = pd.DataFrame({"customer_id": ["c1"], "order_ts": pd.to_datetime(["2025-11-03"]),
    ...                    "traffic_source": ["ads"], "status": ["completed"], "paid_amount": [120.0]})
    >>> t = visitor_value(ev, od, by="source", order_by="traffic_source", start="2025-11-01", end="2025-12-01")
    >>> t[["visitors", "buyers", "cr", "spend_per_buyer", "value_per_visitor"]].round(2).values.tolist()
    [[2.0, 1.0, 0.5, 120.0, 60.0], [1.0, 0.0, 0.0, nan, nan]]
    """
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    order_by = by if order_by is None else order_by
    require_columns(events, ["visitor_id", "event", by], "events")
    require_columns(orders, ["customer_id", "order_ts", "status", "paid_amount", order_by], "orders")
    if not (0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if len(events) == 0:
        raise ValueError("events is empty: pass the cleaned log of the window")
    if events["visitor_id"].isna().any():
        raise ValueError(f"events['visitor_id'] has {int(events['visitor_id'].isna().sum())} missing value(s)")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if not start < end:
        raise ValueError(f"start must be before end, got start={start} end={end}")
    if not pd.api.types.is_datetime64_any_dtype(orders["order_ts"]):
        raise ValueError(f"orders['order_ts'] must be datetime64, got {orders['order_ts'].dtype}")
    if not pd.api.types.is_numeric_dtype(orders["paid_amount"]):
        raise ValueError(f"orders['paid_amount'] must be numeric, got {orders['paid_amount'].dtype}")

    seg = _segment(events[by])
    vis = events["visitor_id"].groupby(seg, sort=False).nunique()
    is_buy = (events["event"].astype(str) == buy).to_numpy()
    buyers = events.loc[is_buy, "visitor_id"].groupby(seg[is_buy], sort=False).nunique()

    win = orders[(orders["order_ts"] >= start) & (orders["order_ts"] < end)]
    placed = metrics.placed_orders(win)
    if placed["customer_id"].isna().any():
        raise ValueError(f"orders['customer_id'] has {int(placed['customer_id'].isna().sum())} missing value(s) "
                         "among the placed orders of the window")
    per_cust = placed.groupby([_segment(placed[order_by]), placed["customer_id"].astype("string")],
                              sort=False)["paid_amount"].sum()
    g = per_cust.groupby(level=0, sort=False)
    spend = pd.DataFrame({"gmv": g.sum(), "paying_customers": g.size(), "spend_sd": g.std(ddof=1)})

    out = pd.DataFrame({"visitors": vis}).join(buyers.rename("buyers")).join(spend, how="outer")
    out.index.name = by
    out = out.fillna({"visitors": 0, "buyers": 0, "gmv": 0.0, "paying_customers": 0}).astype(
        {"visitors": float, "buyers": float, "paying_customers": float})
    n, k = out["visitors"].to_numpy(), out["buyers"].to_numpy()
    out["cr"] = metrics.conversion_rate(out["buyers"], out["visitors"])
    safe = np.where(n > 0, n, 1)
    lo, hi = proportion_confint(k, safe, alpha=alpha, method="wilson")
    out["cr_lo"], out["cr_hi"] = np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)
    out["spend_per_buyer"] = metrics.spend_per_buyer(out["gmv"], out["paying_customers"])
    vpv = out["cr"] * out["spend_per_buyer"]
    out["value_per_visitor"] = vpv
    b = out["paying_customers"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rel2 = (1 - out["cr"]) / (n * out["cr"]) + out["spend_sd"].fillna(0.0) ** 2 / (b * out["spend_per_buyer"] ** 2)
    z = float(stats.norm.ppf(1 - alpha / 2))
    se = vpv * np.sqrt(rel2)
    out["vpv_lo"], out["vpv_hi"] = vpv - z * se, vpv + z * se
    out = out.drop(columns="spend_sd").sort_values("visitors", ascending=False, kind="stable")
    out.attrs["orders_in_window"] = int(len(placed))
    return out.reset_index()


def click_economics(
    marketing_daily: pd.DataFrame,
    value_per_visitor: pd.Series,
    *,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    channel: str = "channel",
) -> pd.DataFrame:
    """What a click costs and what it is worth, per paid channel, in ``[start, end)``.

    ``cpc`` = spend / clicks (CPC 点击成本) summed over the window's days;
    ``value_per_click`` = the source's value per visitor (index = channel names, e.g. from
    :func:`visitor_value`), i.e. one click = one visitor (an approximation: stated, not
    checked); ``value_to_cost`` = value_per_click / cpc (above 1: the visitors a click
    brought paid back its cost in GMV; descriptive and attribution-free, not incremental).
    Channels without spend in the window (organic) are left out and counted in
    ``attrs["unpaid_channels"]``; a paid channel with no value raises.

    >>> md = pd.DataFrame({"channel": ["a", "a", "b"], "date": pd.to_datetime(["2025-11-01", "2025-11-02", "2025-11-01"]),
    ...                    "spend": [100.0, 100.0, 0.0], "clicks": [100, 60, 50]})
    >>> click_economics(md, pd.Series({"a": 2.5, "b": 3.0}), start="2025-11-01", end="2025-12-01")[["cpc", "value_to_cost"]].values.tolist()
    [[1.25, 2.0]]
    """
    require_columns(marketing_daily, [channel, "date", "spend", "clicks"], "marketing_daily")
    for c in ("spend", "clicks"):
        if not pd.api.types.is_numeric_dtype(marketing_daily[c]):
            raise ValueError(f"marketing_daily[{c!r}] must be numeric, got {marketing_daily[c].dtype}")
        if (marketing_daily[c] < 0).any():
            raise ValueError(f"marketing_daily[{c!r}] has {int((marketing_daily[c] < 0).sum())} negative value(s)")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if not start < end:
        raise ValueError(f"start must be before end, got start={start} end={end}")
    md = marketing_daily[(marketing_daily["date"] >= start) & (marketing_daily["date"] < end)]
    if len(md) == 0:
        raise ValueError(f"marketing_daily has no rows in [{start.date()}, {end.date()})")
    tot = md.groupby(md[channel].astype("string"), sort=False)[["spend", "clicks"]].sum()
    paid = tot[tot["spend"] > 0].copy()
    unpaid = [str(c) for c in tot.index[tot["spend"] <= 0]]
    missing = [c for c in paid.index if c not in value_per_visitor.index or pd.isna(value_per_visitor.get(c))]
    if missing:
        raise ValueError(f"value_per_visitor has no value for paid channel(s) {missing}; "
                         f"its index holds {list(value_per_visitor.index)[:10]}")
    if (paid["clicks"] <= 0).any():
        raise ValueError(f"paid channel(s) with spend but no clicks: {list(paid.index[paid['clicks'] <= 0])}")
    paid["cpc"] = paid["spend"] / paid["clicks"]
    paid["value_per_click"] = value_per_visitor.reindex(paid.index).astype(float).to_numpy()
    paid["value_to_cost"] = paid["value_per_click"] / paid["cpc"]
    paid.index.name = channel
    paid.attrs["unpaid_channels"] = unpaid
    return paid


def visitor_type(events: pd.DataFrame, *, ts: str = "ts", customer: str = "customer_id") -> pd.Series:
    """``"returning"`` or ``"new"`` for each event's visitor: returning = the visitor's
    first event in the log (time order, first row on ties) already carries a customer id,
    i.e. they had bought before the window; new = an anonymous first visit (a prospect,
    or a customer-to-be whose id appears only from their first order on).

    >>> ev = pd.DataFrame({"visitor_id": ["a", "a", "b"], "customer_id": [None, "C1", "C2"],
    ...                    "ts": pd.to_datetime(["2025-11-01 10:00", "2025-11-01 10:05", "2025-11-01 11:00"])})
    >>> visitor_type(ev).tolist()
    ['new', 'new', 'returning']
    """
    require_columns(events, ["visitor_id", ts, customer], "events")
    if not pd.api.types.is_datetime64_any_dtype(events[ts]):
        raise ValueError(f"events[{ts!r}] must be datetime64, got {events[ts].dtype}")
    first = events.sort_values(ts, kind="stable").drop_duplicates("visitor_id")
    known = pd.Series(first[customer].notna().to_numpy(), index=first["visitor_id"].to_numpy())
    kind = np.where(known.reindex(events["visitor_id"].to_numpy()).to_numpy(bool), "returning", "new")
    return pd.Series(kind, index=events.index, name="visitor_type")
