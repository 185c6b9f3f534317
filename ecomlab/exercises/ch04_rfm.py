"""Exercises for 04_private_domain/01_rfm (lesson 04-1, RFM and value segments / RFM 客户分层).

Every expected answer is computed from ``data("orders")`` (the data chosen by
:func:`ecomlab.exercises.use_data`) with the :mod:`ecomlab.users` RFM helpers; none is
typed in. Five of the six questions make the student compute: the RFM table by hand
(q1), the segment rule as a function (q3), a median-threshold variant (q4), segment
stability between two snapshots (q5) and an M quintile score by hand (q6); q2 reads the
segment summary.
"""

from __future__ import annotations

import pandas as pd

from ecomlab import users
from ecomlab.exercises import (
    Case,
    FrameAnswer,
    FunctionAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    data,
)

#: q5 compares the segments at the end of the data with those this many months earlier
#: (on the bundled data: 2025-07-01, the day the fan-group programme started).
MONTHS_EARLIER = 6


def _rfm(as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    return users.rfm_table(data("orders"), as_of).table


def earlier_date() -> pd.Timestamp:
    """The reference date of the end of the data minus :data:`MONTHS_EARLIER` months."""
    return users.rfm_table(data("orders")).as_of - pd.DateOffset(months=MONTHS_EARLIER)


def _over_indexed_segments() -> list[str]:
    summ = users.segment_summary(users.rfm_segments(_rfm()))
    return summ.loc[summ["revenue_share"] > summ["customer_share"], "segment"].astype(str).tolist()


def segment_name(r_high: bool, f_high: bool, m_high: bool) -> str:
    """English name of the value segment (one of :data:`ecomlab.users.SEGMENTS`).

    M decides important (重要) vs general (一般); R and F decide value / develop /
    retain / win-back. Reference answer of q3.
    """
    level = "important" if m_high else "general"
    kind = {(True, True): "value", (True, False): "develop",
            (False, True): "retain", (False, False): "win-back"}[(bool(r_high), bool(f_high))]
    return f"{level} {kind}"


def _median_value_share() -> float:
    t = _rfm()
    high = ((t["recency_days"] < t["recency_days"].median())
            & (t["frequency"] > t["frequency"].median())
            & (t["monetary_amount"] > t["monetary_amount"].median()))
    return float(high.mean())


def _value_kept_share() -> float:
    mid = users.rfm_segments(_rfm(earlier_date()))
    end = users.rfm_segments(_rfm())
    vip = mid.loc[mid["segment"] == "important value", ["customer_id"]]
    now = vip.merge(end[["customer_id", "segment"]], on="customer_id", how="left")
    return float((now["segment"] == "important value").mean())


def _m_quintile_revenue_share(score: int) -> float:
    scores = users.rfm_scores(_rfm())
    m = scores["monetary_amount"]
    return float(m[scores["m_score"] == score].sum() / m.sum())


def _top_m_quintile_revenue_share() -> float:
    return _m_quintile_revenue_share(5)


def _bottom_m_quintile_revenue_share() -> float:
    return _m_quintile_revenue_share(1)


q1 = Question(
    prompt="Build the RFM table of **all** customers by hand in pandas: one row per customer "
    "with a kept purchase, columns `customer_id`, `recency_days`, `frequency`, "
    "`monetary_amount`. Keep only orders whose `status` is in `metrics.VALID_STATUSES`; the "
    "reference date is midnight after the last order in the data (any status); "
    "`recency_days` counts calendar days from the day of the last purchase to that date.",
    kind=FrameAnswer(expected=_rfm, ignore_row_order=True),
    hints=["`kept = orders[orders['status'].isin(metrics.VALID_STATUSES)]`, and "
           "`as_of = orders['order_ts'].max().normalize() + pd.Timedelta(days=1)` (all orders).",
           "`kept.groupby('customer_id').agg(last=('order_ts', 'max'), frequency=('order_id', "
           "'size'), monetary_amount=('paid_amount', 'sum'))`.",
           "Recency in calendar days: `(as_of - last.dt.normalize()).dt.days`; "
           "then `.reset_index()` so `customer_id` is a column."],
    solution=(
        "kept = orders[orders['status'].isin(metrics.VALID_STATUSES)]\n"
        "as_of = orders['order_ts'].max().normalize() + pd.Timedelta(days=1)\n"
        "g = kept.groupby('customer_id').agg(last=('order_ts', 'max'),\n"
        "    frequency=('order_id', 'size'), monetary_amount=('paid_amount', 'sum'))\n"
        "g['recency_days'] = (as_of - g['last'].dt.normalize()).dt.days\n"
        "answer = g.reset_index()[['customer_id', 'recency_days', 'frequency', 'monetary_amount']]"
    ),
)

q2 = Question(
    prompt="Which segments earn a larger share of revenue than their share of customers "
    "(they *over-index* on value)? Give the English segment names (any order).",
    kind=SetAnswer(expected=_over_indexed_segments),
    hints=["`users.segment_summary(users.rfm_segments(rfm))` has `customer_share` and "
           "`revenue_share` per segment.",
           "Keep the rows where `revenue_share > customer_share` and take `segment`."],
    solution=(
        "summ = users.segment_summary(users.rfm_segments(rfm))\n"
        "answer = set(summ.loc[summ['revenue_share'] > summ['customer_share'], 'segment'])"
    ),
)

q3 = Question(
    prompt="Write `segment_name(r_high, f_high, m_high)` that returns the English segment "
    "name (as in `users.SEGMENTS`, e.g. `'important value'`) for a customer whose R, F and M "
    "are high (`True`) or low (`False`) against the mean.",
    kind=FunctionAnswer(
        segment_name,
        cases=[Case(r, f, m) for m in (True, False) for r in (True, False) for f in (True, False)],
        name="segment_name",
    ),
    hints=["M alone decides the first word: `'important'` when M is high, else `'general'`.",
           "R and F give the second word: both high -> value; only R high -> develop; "
           "only F high -> retain; neither -> win-back."],
    solution=(
        "def segment_name(r_high, f_high, m_high):\n"
        "    level = 'important' if m_high else 'general'\n"
        "    kind = {(True, True): 'value', (True, False): 'develop',\n"
        "            (False, True): 'retain', (False, False): 'win-back'}[(r_high, f_high)]\n"
        "    return f'{level} {kind}'\n"
        "answer = segment_name"
    ),
)

q4 = Question(
    prompt="Sensitivity of the scheme: judge high/low against the **median** instead of the "
    "mean (R high: `recency_days` < median; F high: `frequency` > median; M high: "
    "`monetary_amount` > median). What share of customers is then 重要价值 (important "
    "value)? A fraction in [0, 1].",
    kind=NumberAnswer(expected=_median_value_share, abs_tol=1e-4),
    hints=["Build three boolean Series from `rfm` with `.median()` in place of `.mean()`.",
           "Important value = all three high: `(r_high & f_high & m_high).mean()`.",
           "Use strict `>` for F: the median frequency is 1, so F high means bought twice or more."],
    solution=(
        "r_high = rfm['recency_days'] < rfm['recency_days'].median()\n"
        "f_high = rfm['frequency'] > rfm['frequency'].median()\n"
        "m_high = rfm['monetary_amount'] > rfm['monetary_amount'].median()\n"
        "answer = (r_high & f_high & m_high).mean()"
    ),
)

q5 = Question(
    prompt=f"Segment stability: segment the customers as of **{MONTHS_EARLIER} months before the "
    "reference date** (orders before that day only; 2025-07-01 on the bundled data), and again "
    "at the end of the data. Of the customers who were 重要价值 (important value) at the "
    "earlier date, what share are still 重要价值 at the end? A fraction.",
    kind=NumberAnswer(expected=_value_kept_share, abs_tol=1e-4),
    hints=["`mid_date = users.rfm_table(orders).as_of - pd.DateOffset(months=6)`; then "
           "`users.rfm_segments(users.rfm_table(orders, as_of=mid_date))` gives the earlier "
           "segments, and without `as_of` you get the end-of-data ones.",
           "Merge the two on `customer_id`, keep the customers who were important value at the "
           "earlier date, and take the mean of `segment_end == 'important value'`.",
           "The denominator is the earlier 重要价值 customers, not everyone."],
    solution=(
        "end_result = users.rfm_table(orders)\n"
        "mid_date = end_result.as_of - pd.DateOffset(months=6)\n"
        "mid = users.rfm_segments(users.rfm_table(orders, as_of=mid_date))\n"
        "end = users.rfm_segments(end_result)\n"
        "m = mid[['customer_id', 'segment']].merge(end[['customer_id', 'segment']],\n"
        "    on='customer_id', suffixes=('_mid', '_end'))\n"
        "vip = m[m['segment_mid'] == 'important value']\n"
        "answer = (vip['segment_end'] == 'important value').mean()"
    ),
)

q6 = Question(
    prompt="Score M by hand: rank `rfm['monetary_amount']` with `rank(method='first')` and cut "
    "the ranks into five equal groups with `pd.qcut(..., 5, labels=False) + 1` (5 = the top "
    "spenders). What share of all revenue (the sum of M) comes from the customers with M "
    "score 5? A fraction in [0, 1].",
    kind=NumberAnswer(expected=_top_m_quintile_revenue_share, abs_tol=1e-4,
                      mistakes=[("the top group's share of customers (a fifth by construction), "
                                 "not its share of revenue", lambda: 0.2),
                                ("the share of the bottom group (score 1): 5 is the top spenders",
                                 _bottom_m_quintile_revenue_share)]),
    hints=["`m_score = pd.qcut(rfm['monetary_amount'].rank(method='first'), 5, labels=False) + 1`.",
           "Revenue of the top group: `rfm.loc[m_score == 5, 'monetary_amount'].sum()`.",
           "Divide by `rfm['monetary_amount'].sum()`. The top fifth of customers by "
           "definition is 20% of customers; the question asks for their share of revenue."],
    solution=(
        "m_score = pd.qcut(rfm['monetary_amount'].rank(method='first'), 5, labels=False) + 1\n"
        "answer = rfm.loc[m_score == 5, 'monetary_amount'].sum() / rfm['monetary_amount'].sum()"
    ),
)
