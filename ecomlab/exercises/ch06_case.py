"""Exercises for chapter 06, the case study (lessons 06-1 measuring the programme 复盘：效果评估,
and 06-2 the ops review report 运营复盘报告).

Every expected answer is computed at run time from :func:`ecomlab.exercises.data` (the data
chosen by :func:`ecomlab.exercises.use_data`) with the :mod:`ecomlab.review` and
:mod:`ecomlab.causal` helpers, on the lessons' design: the dates and the cost below are the
lessons' parameters, passed explicitly.

- q1 (06-1) — the storage DiD by hand: (storage H2 / other H2) / (storage H1 / other H1) of
  2025 units sold.
- q2 (06-1) — the fan groups' profit ROI if the effect on the purchase rate were +20%.
- q3 (06-1) — which figure answers "should we continue the fan groups?".
- q4 (06-2) — the marketer's repurchase gap by hand (members vs non-members, ratio − 1).
- q5 (06-2) — the break-even effect: the rate effect at which the fan groups' profit ROI is 0.
- q6 (06-2) — the report's decision rule applied to a lever that works but does not pay.
"""

from __future__ import annotations

import pandas as pd

from ecomlab import review
from ecomlab.exercises import LabelAnswer, NumberAnswer, Question, data, derived

#: The lessons' design (their parameters cells).
PROGRAMME_START = "2025-07-01"
CRM_DATE = "2025-01-01"
DATA_END = "2026-01-01"
PROGRAMME_COST = 18_000.0 * 6
#: The effect q2 assumes.
Q2_EFFECT = 0.20

#: Options of q6: the report's decisions.
DECISIONS = ["continue", "change", "stop"]

#: Options of q3.
FIGURES = [
    "profit ROI",
    "ROAS of the incremental revenue",
    "the marketer's ROI (members' revenue / cost)",
    "the repurchase gap between members and non-members",
]


def _units_2025() -> pd.DataFrame:
    return derived(("ch06_case", "units_2025"), lambda: review.category_units(
        data("orders"), data("order_items"), data("products"), start=CRM_DATE, end=DATA_END))


def _storage_table(column: str = "units") -> pd.Series:
    d = _units_2025()
    return d.groupby([d["category"] == "storage", d["date"] >= PROGRAMME_START])[column].sum()


def _storage_ratio(column: str = "units") -> float:
    t = _storage_table(column)
    return float((t[True, True] / t[False, True]) / (t[True, False] / t[False, False]))


def _storage_before_after() -> float:
    t = _storage_table()
    return float(t[True, True] / t[True, False])


def _value_attrs() -> dict:
    def make() -> dict:
        v = review.programme_value(data("orders"), data("order_items"), data("products"), data("returns"),
                                   data("customers"), (Q2_EFFECT, Q2_EFFECT, Q2_EFFECT),
                                   start=PROGRAMME_START, end=DATA_END, cost=PROGRAMME_COST)
        return {**v.attrs, "incremental_revenue": float(v.loc["estimate", "incremental_revenue"])}

    return derived(("ch06_case", "value"), make)


def _profit_roi(incremental_orders: float | None = None) -> float:
    a = _value_attrs()
    inc = a["member_orders"] * Q2_EFFECT / (1 + Q2_EFFECT) if incremental_orders is None else incremental_orders
    return (inc * a["gross_profit_per_order"] - PROGRAMME_COST) / PROGRAMME_COST


def _naive() -> dict:
    return derived(("ch06_case", "naive"), lambda: review.naive_programme_figures(
        data("orders"), data("customers"), start=PROGRAMME_START, end=DATA_END, cost=PROGRAMME_COST))


def _gap_kept_only() -> float:
    """The gap with refunded orders left out too (metrics.valid_orders): not the marketer's definition."""
    o = data("orders")
    return review.naive_programme_figures(o[o["status"].astype(str) == "completed"], data("customers"),
                                          start=PROGRAMME_START, end=DATA_END, cost=PROGRAMME_COST)["repurchase_gap"]


q1 = Question(
    prompt="The storage DiD by hand. From `units_daily`, keep 2025 (from `crm_date`); sum the units of "
    "storage and of all other categories before `programme_start` (H1) and from it (H2). Compute "
    "(storage H2 / other H2) / (storage H1 / other H1).",
    kind=NumberAnswer(expected=_storage_ratio, rel_tol=1e-4, mistakes=[
        ("storage's own before/after ratio: divide by the other categories' ratio, or the market's and "
         "the season's growth count as the push", _storage_before_after),
        ("the ratio minus 1: the question asks for the ratio itself", lambda: _storage_ratio() - 1),
        ("counted lines, not units: sum the `units` column", lambda: _storage_ratio("lines"))]),
    hints=["Group by two flags: `d['category'] == 'storage'` and `d['date'] >= programme_start`, "
           "then `['units'].sum()`.",
           "Four sums: storage H1, storage H2, other H1, other H2. Divide storage by other within each half.",
           "Last hint: the H2 storage/other ratio divided by the H1 one; "
           "`review.category_did(...)` fits the same comparison day by day."],
    solution=(
        "d = units_daily[units_daily['date'] >= crm_date]\n"
        "tab = d.groupby([d['category'] == 'storage', d['date'] >= programme_start])['units'].sum()\n"
        "answer = (tab[True, True] / tab[False, True]) / (tab[True, False] / tab[False, False])"
    ),
)

q2 = Question(
    prompt="Profit ROI from an effect. Members placed `value.attrs['member_orders']` orders after joining, "
    "each worth `value.attrs['gross_profit_per_order']` CNY of gross profit. If the groups raised their "
    "purchase rate by +20%, what is the profit ROI at `programme_cost`: (incremental gross profit − cost) / cost?",
    kind=NumberAnswer(expected=_profit_roi, rel_tol=1e-4, mistakes=[
        ("counted 20% of all member orders as incremental: with a rate effect e the orders they would have "
         "placed anyway are N/(1 + e), so the increment is N·e/(1 + e)",
         lambda: _profit_roi(_value_attrs()["member_orders"] * Q2_EFFECT)),
        ("incremental gross profit / cost: profit ROI subtracts the cost first",
         lambda: _profit_roi() + 1),
        ("used revenue (a ROAS-like ratio): use the gross profit per order",
         lambda: (_value_attrs()["incremental_revenue"] - PROGRAMME_COST) / PROGRAMME_COST)]),
    hints=["Incremental orders = N·e/(1 + e) with e = 0.20.",
           "Multiply by the gross profit per order, subtract the cost, divide by the cost.",
           "Last hint: a negative answer is possible and here expected — the cost exceeds the extra profit."],
    solution=(
        "e = 0.20\n"
        "incremental_orders = value.attrs['member_orders'] * e / (1 + e)\n"
        "answer = (incremental_orders * value.attrs['gross_profit_per_order'] - programme_cost) / programme_cost"
    ),
)

q3 = Question(
    prompt="Which figure answers the director's question *should we continue the fan groups?* One of "
    "`ex.FIGURES`.",
    kind=LabelAnswer("profit ROI", choices=FIGURES),
    hints=["Continuing is worth it only if the programme leaves more money than it costs.",
           "Revenue ratios (ROAS, the marketer's ROI) ignore the cost of the goods; the repurchase gap is not "
           "even an effect.",
           "Last hint: the one that nets the cost out of the incremental gross profit."],
    solution="answer = 'profit ROI'",
)

q4 = Question(
    prompt="The marketer's repurchase gap by hand. Of the customers whose `first_order_date` is before "
    "`programme_start`, take the share with at least one order that is **not cancelled** between "
    "`programme_start` and `data_end`, for fan-group members (`joined_fan_group_date` set) and the rest. "
    "Answer the gap: members' rate / non-members' rate − 1.",
    kind=NumberAnswer(expected=lambda: _naive()["repurchase_gap"], rel_tol=1e-4, mistakes=[
        ("the ratio, not the ratio minus 1", lambda: _naive()["repurchase_gap"] + 1),
        ("the difference in rates (percentage points), not the relative gap",
         lambda: _naive()["repurchase_rate_members"] - _naive()["repurchase_rate_non_members"]),
        ("left out refunded orders too: the marketer counts every order that is not cancelled",
         _gap_kept_only)]),
    hints=["`old = customers[customers['first_order_date'] < programme_start]`; the H2 orders are those with "
           "`order_ts` in [programme_start, data_end) and `status != 'cancelled'`.",
           "`bought = old['customer_id'].isin(h2['customer_id'])`, then its mean by "
           "`old['joined_fan_group_date'].notna()`.",
           "Last hint: members' share divided by non-members' share, minus 1 (about +50%)."],
    solution=(
        "old = customers[customers['first_order_date'] < programme_start]\n"
        "h2 = orders[(orders['status'] != 'cancelled') & (orders['order_ts'] >= programme_start)\n"
        "            & (orders['order_ts'] < data_end)]\n"
        "rate = old['customer_id'].isin(h2['customer_id']).groupby(old['joined_fan_group_date'].notna()).mean()\n"
        "answer = rate[True] / rate[False] - 1"
    ),
)


def _break_even(gp_key: str = "gross_profit_per_order") -> float:
    a = _value_attrs()
    n, g = a["member_orders"], a[gp_key]
    return PROGRAMME_COST / (n * g - PROGRAMME_COST)


q5 = Question(
    prompt="Break-even effect. With N = `value['member_orders']` orders after joining, g = "
    "`value['gross_profit_per_order']` CNY of gross profit per order and the cost C = `r['programme_cost']`, "
    "what rate effect e makes the profit ROI exactly 0? Solve N·e/(1 + e)·g = C.",
    kind=NumberAnswer(expected=_break_even, rel_tol=1e-4, mistakes=[
        ("solved N·e·g = C: the increment is N·e/(1 + e), not N·e",
         lambda: PROGRAMME_COST / (_value_attrs()["member_orders"] * _value_attrs()["gross_profit_per_order"])),
        ("used revenue per order (a ROAS break-even): use the gross profit per order",
         lambda: _break_even("revenue_per_order")),
        ("the multiplier 1 + e: answer the effect e", lambda: 1 + _break_even())]),
    hints=["N·e/(1 + e)·g = C gives e/(1 + e) = C/(N·g).",
           "Let x = C/(N·g); then e = x/(1 − x).",
           "Last hint: e = C / (N·g − C); compare it with the measured effect and its interval."],
    solution=(
        "N, g, C = value['member_orders'], value['gross_profit_per_order'], r['programme_cost']\n"
        "answer = C / (N * g - C)"
    ),
)

q6 = Question(
    prompt="The report's rule: *continue* if the lever works (its effect interval excludes no effect) and pays, "
    "*change* if it works but does not pay, *stop* if its effect is not shown. A lever's effect interval is "
    "entirely above zero and its profit ROI interval entirely below zero: which decision? One of `ex.DECISIONS`.",
    kind=LabelAnswer("change", choices=DECISIONS),
    hints=["Does it work? Its effect interval excludes zero.",
           "Does it pay? Its profit ROI is below zero across the interval.",
           "Last hint: it works but does not pay."],
    solution="answer = 'change'",
)
