"""Exercises for 03_traffic/03_quality (lesson 03-3, traffic quality, 流量质量).

Every expected answer is computed from the data chosen by :func:`ecomlab.exercises.use_data`
(the behaviour log cleaned to its own window, the orders and ``marketing_daily`` as loaded),
never typed in. All four questions make the student compute: a source's value per visitor
= CR × spend per buyer (q1), a Wilson interval's lower limit for a source's CR (q2), what a
click is worth against its CPC (q3) and the new-vs-returning CR gap (q4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import metrics, traffic
from ecomlab import traffic_quality as tq
from ecomlab.exercises import NumberAnswer, Question, data, derived

#: q1: the source whose value per visitor is asked.
Q1_SOURCE = "live_stream"
#: q2: the source whose CR interval is asked, and its level.
Q2_SOURCE, Q2_Z = "social_seeding", 1.959963984540054
#: q3: the paid channel whose value-to-cost ratio is asked.
Q3_CHANNEL = "feed_ads"


def _clean() -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    def make():
        ev = data("events")
        start, end = traffic.event_window(ev)
        return traffic.clean_events(ev, start, end)[0], start, end
    return derived(("ch03_quality", "clean"), make)


def _by_source() -> pd.DataFrame:
    clean, start, end = _clean()
    return derived(("ch03_quality", "source"), lambda: tq.visitor_value(
        clean, data("orders"), by="source", order_by="traffic_source", start=start, end=end).set_index("source"))


# -- q1 ---------------------------------------------------------------------------------
def value_per_visitor() -> float:
    """Value per visitor of :data:`Q1_SOURCE`: CR × spend per buyer (= GMV / visitors)."""
    return float(_by_source().loc[Q1_SOURCE, "value_per_visitor"])


def _per_session() -> float:
    clean, _, _ = _clean()
    s = clean.loc[clean["source"] == Q1_SOURCE]
    return float(_by_source().loc[Q1_SOURCE, "gmv"] / s["session_id"].nunique())


def _per_order() -> float:
    clean, start, end = _clean()
    o = data("orders")
    o = metrics.placed_orders(o[(o["order_ts"] >= start) & (o["order_ts"] < end) & (o["traffic_source"] == Q1_SOURCE)])
    return float(_by_source().loc[Q1_SOURCE, "cr"] * metrics.order_value(o["paid_amount"].sum(), len(o)))


q1 = Question(
    prompt=f"Compute the **value per visitor** of the source `{Q1_SOURCE}` in the event window: its CR "
    "(distinct visitors with a `buy` event / distinct visitors, in `clean`) × its spend per buyer "
    "(GMV of the window's placed orders with that `traffic_source` / their distinct customers). "
    "CNY per visitor (within 0.5%).",
    kind=NumberAnswer(
        expected=value_per_visitor, rel_tol=5e-3,
        mistakes=[
            ("GMV per *session*: the course's CR and value are per visitor (UV)", _per_session),
            ("CR × order value (per order); spend per buyer 客单价 is per buyer", _per_order),
            ("the CR alone, not multiplied by spend per buyer", lambda: float(_by_source().loc[Q1_SOURCE, "cr"])),
        ],
    ),
    hints=[
        "CR: `s = clean[clean['source'] == ...]`; buyers = `s.loc[s['event'] == 'buy', 'visitor_id'].nunique()`, "
        "visitors = `s['visitor_id'].nunique()`; use `metrics.conversion_rate`.",
        "Spend per buyer: keep orders with `start <= order_ts < end`, `metrics.placed_orders`, the source's "
        "rows; `metrics.spend_per_buyer(GMV, distinct customer_id)`.",
        "Last hint: answer = CR × spend per buyer.",
    ],
    solution=(
        f"s = clean[clean['source'] == '{Q1_SOURCE}']\n"
        "cr = metrics.conversion_rate(s.loc[s['event'] == 'buy', 'visitor_id'].nunique(), s['visitor_id'].nunique())\n"
        "o = metrics.placed_orders(orders[(orders['order_ts'] >= start) & (orders['order_ts'] < end)])\n"
        f"o = o[o['traffic_source'] == '{Q1_SOURCE}']\n"
        "answer = cr * metrics.spend_per_buyer(o['paid_amount'].sum(), o['customer_id'].nunique())"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def _wilson(z: float, upper: bool = False) -> float:
    r = _by_source().loc[Q2_SOURCE]
    n, p = float(r["visitors"]), float(r["buyers"]) / float(r["visitors"])
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(centre + half if upper else centre - half)


def wilson_lower() -> float:
    """Lower limit of the 95% Wilson interval of :data:`Q2_SOURCE`'s CR."""
    return _wilson(Q2_Z)


def _wald_lower() -> float:
    r = _by_source().loc[Q2_SOURCE]
    n, p = float(r["visitors"]), float(r["buyers"]) / float(r["visitors"])
    return float(p - Q2_Z * np.sqrt(p * (1 - p) / n))


q2 = Question(
    prompt=f"Compute by the formula the **lower limit of the 95% Wilson interval** of the CR of "
    f"`{Q2_SOURCE}` (buyers / visitors in `clean`, z = 1.96): "
    "(p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n). A fraction (within 0.1%).",
    kind=NumberAnswer(
        expected=wilson_lower, rel_tol=1e-3,
        mistakes=[
            ("the Wald limit p − z·√(p(1−p)/n); Wilson's is pulled toward ½", _wald_lower),
            ("a 90% interval (z = 1.645), not 95%", lambda: _wilson(1.6448536269514722)),
            ("the upper limit", lambda: _wilson(Q2_Z, upper=True)),
        ],
    ),
    hints=[
        "n = distinct visitors of the source, p = distinct buyers / n.",
        "Check yourself with `statsmodels.stats.proportion.proportion_confint(k, n, method='wilson')`.",
        "Last hint: `(p + z**2/(2*n) - z*np.sqrt(p*(1-p)/n + z**2/(4*n**2))) / (1 + z**2/n)`.",
    ],
    solution=(
        f"s = clean[clean['source'] == '{Q2_SOURCE}']\n"
        "n = s['visitor_id'].nunique(); p = s.loc[s['event'] == 'buy', 'visitor_id'].nunique() / n; z = 1.96\n"
        "answer = (p + z**2 / (2*n) - z * np.sqrt(p*(1-p)/n + z**2 / (4*n**2))) / (1 + z**2/n)"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def _cpc(all_dates: bool = False) -> float:
    clean, start, end = _clean()
    md = data("marketing_daily")
    if not all_dates:
        md = md[(md["date"] >= start) & (md["date"] < end)]
    m = md[md["channel"] == Q3_CHANNEL]
    return float(m["spend"].sum() / m["clicks"].sum())


def value_to_cost() -> float:
    """Value per click (= the source's value per visitor) / CPC of :data:`Q3_CHANNEL` in the window."""
    return float(_by_source().loc[Q3_CHANNEL, "value_per_visitor"]) / _cpc()


q3 = Question(
    prompt=f"What is a click on `{Q3_CHANNEL}` worth against what it costs? Compute the CPC = spend / "
    "clicks from `marketing_daily` over the event window's days, take one click as one visitor "
    f"(value per click = the value per visitor of `{Q3_CHANNEL}`) and give **value per click / CPC** "
    "(a ratio, within 0.5%).",
    kind=NumberAnswer(
        expected=value_to_cost, rel_tol=5e-3,
        mistakes=[
            ("the CPC over every date of marketing_daily, not the event window",
             lambda: float(_by_source().loc[Q3_CHANNEL, "value_per_visitor"]) / _cpc(all_dates=True)),
            ("CPC / value: the ratio is upside down", lambda: 1 / value_to_cost()),
            ("the mean of the daily CPCs instead of total spend / total clicks", lambda: float(
                _by_source().loc[Q3_CHANNEL, "value_per_visitor"]) / float((lambda m: (m["spend"] / m["clicks"]).mean())(
                    (lambda md: md[(md["channel"] == Q3_CHANNEL) & (md["date"] >= _clean()[1]) & (md["date"] < _clean()[2])])(
                        data("marketing_daily"))))),
        ],
    ),
    hints=[
        "`m = md[(md['channel'] == ...) & (md['date'] >= start) & (md['date'] < end)]`; CPC = total spend / total clicks.",
        "Value per click: the source's value per visitor from the table `src` (or q1's method).",
        "Last hint: `src.set_index('source').loc[...,'value_per_visitor'] / cpc`.",
    ],
    solution=(
        f"m = md[(md['channel'] == '{Q3_CHANNEL}') & (md['date'] >= start) & (md['date'] < end)]\n"
        f"answer = src.set_index('source').loc['{Q3_CHANNEL}', 'value_per_visitor'] / (m['spend'].sum() / m['clicks'].sum())"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def _cr_by_type(unit: str = "visitor_id") -> pd.Series:
    clean, _, _ = _clean()
    kind = derived(("ch03_quality", "type"), lambda: tq.visitor_type(clean))
    n = clean[unit].groupby(kind).nunique()
    b = clean.loc[clean["event"] == "buy", unit].groupby(kind[clean["event"] == "buy"]).nunique()
    return metrics.conversion_rate(b.reindex(n.index, fill_value=0), n)


def new_returning_gap() -> float:
    """CR of returning visitors − CR of new visitors (a fraction)."""
    cr = _cr_by_type()
    return float(cr["returning"] - cr["new"])


q4 = Question(
    prompt="A visitor is **returning** when their first event in `clean` already carries a `customer_id` "
    "(they had bought before the window), else **new**. Compute CR(returning) − CR(new), per visitor. "
    "A fraction, e.g. 0.012 for 1.2 pp (within 0.5%).",
    kind=NumberAnswer(
        expected=new_returning_gap, rel_tol=5e-3,
        mistakes=[
            ("CR(new) − CR(returning): the sign is flipped", lambda: -new_returning_gap()),
            ("per session, not per visitor", lambda: float(np.diff(_cr_by_type("session_id")[["new", "returning"]])[0])),
        ],
    ),
    hints=[
        "Sort by `ts`, keep each visitor's first row (`drop_duplicates('visitor_id')`): returning = "
        "`customer_id.notna()`. Map that back to every event of the visitor.",
        "Per type: buyers = distinct visitors with a `buy` event, visitors = distinct visitors.",
        "Last hint: `tq.visitor_type(clean)` gives the label per event; CR(returning) − CR(new).",
    ],
    solution=(
        "kind = tq.visitor_type(clean)\n"
        "n = clean['visitor_id'].groupby(kind).nunique()\n"
        "b = clean.loc[clean['event'] == 'buy', 'visitor_id'].groupby(kind[clean['event'] == 'buy']).nunique()\n"
        "cr = b / n\nanswer = cr['returning'] - cr['new']"
    ),
)

__all__ = ["q1", "q2", "q3", "q4", "value_per_visitor", "wilson_lower", "value_to_cost", "new_returning_gap"]
