"""Exercises for 03_traffic/02_keywords (lesson 03-2, search keywords, 搜索关键词).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (the keywords, orders, order lines and products as
loaded), never typed in. All four questions make the student compute: a CTR at a rank
from the fitted power curve (q1), a keyword's opportunity by the formula (q2), a
break-even CPC (q3) and the keywords bid above it (q4).
"""

from __future__ import annotations

import pandas as pd

from ecomlab import search
from ecomlab.exercises import NumberAnswer, Question, SetAnswer, data, derived

#: q1: the rank whose CTR is asked.
Q1_RANK = 5
#: q2: the keyword whose opportunity is asked and the target rank.
Q2_KEYWORD, Q2_TARGET = "storage box", 3
#: q3: the keyword whose break-even CPC is asked.
Q3_KEYWORD = "nonstick pan"
#: q4: the category whose keywords bid above break-even are asked.
Q4_CATEGORY = "bedding"


def _curve() -> search.CtrCurve:
    kw = data("keywords")
    return derived(("ch03_keywords", "curve"), lambda: search.fit_ctr_curve(kw, form="power"))


def _profit() -> pd.Series:
    o, li, p = data("orders"), data("order_items"), data("products")
    return derived(("ch03_keywords", "profit"),
                   lambda: search.profit_per_order(o, li, p)["profit_per_order"])


def _row(keyword: str) -> pd.Series:
    kw = data("keywords")
    hit = kw.loc[kw["keyword"] == keyword]
    if len(hit) != 1:
        raise ValueError(f"keywords.keyword must hold {keyword!r} exactly once, found {len(hit)}")
    return hit.iloc[0]


# -- q1 ---------------------------------------------------------------------------------
def ctr_at_rank() -> float:
    """CTR at :data:`Q1_RANK` from the fitted power curve a · rank^−b."""
    c = _curve()
    return float(c.a * Q1_RANK ** -c.b)


def _empirical_ctr() -> float:
    kw = data("keywords")
    at = kw.loc[kw["our_rank"] == Q1_RANK]
    return float(at["clicks"].sum() / at["impressions"].sum()) if len(at) else float("nan")


q1 = Question(
    prompt=f"From the fitted power curve CTR(rank) = a · rank^−b (`power.a`, `power.b`), what CTR "
    f"does a listing get at **rank {Q1_RANK}**? A fraction in [0, 1] (accepted within 0.1%).",
    kind=NumberAnswer(
        expected=ctr_at_rank, rel_tol=1e-3,
        mistakes=[
            (f"the observed CTR of the keywords at rank {Q1_RANK}, not the fitted curve", _empirical_ctr),
            ("a · rank^b: the exponent's sign is negative", lambda: _curve().a * Q1_RANK ** _curve().b),
            ("the CTR at rank 1, not at rank 5", lambda: _curve().a),
        ],
    ),
    hints=[
        "The power form: CTR(r) = a · r ** (−b), with a = `power.a` and b = `power.b`.",
        f"Last hint: `power.a * {Q1_RANK} ** -power.b` (or `power.predict({Q1_RANK})[0]`).",
    ],
    solution=f"answer = power.a * {Q1_RANK} ** -power.b",
)


# -- q2 ---------------------------------------------------------------------------------
def _opportunity(cost: bool = True, base: str = "monthly_searches") -> float:
    r, c, gp = _row(Q2_KEYWORD), _curve(), _profit()
    gain = c.a * min(int(r["our_rank"]), Q2_TARGET) ** -c.b - c.a * float(r["our_rank"]) ** -c.b
    extra = float(r[base]) * gain
    cr = r["orders"] / r["clicks"]
    return float(search.opportunity(r[base], c.a * float(r["our_rank"]) ** -c.b,
                                    c.a * min(int(r["our_rank"]), Q2_TARGET) ** -c.b, cr,
                                    gp.loc[r["category"]], cost=extra * r["cpc"] if cost else 0.0)[0])


q2 = Question(
    prompt=f"Compute by the formula the **opportunity** of the keyword `{Q2_KEYWORD}` at rank "
    f"{Q2_TARGET}: searches × (CTR({Q2_TARGET}) − CTR(current rank)) × its CR (orders / clicks) × "
    "its category's gross profit per order − cost, where cost = the extra clicks (searches × CTR "
    "gain) bought at its CPC. CTRs from the fitted power curve. CNY per month (within 0.1%).",
    kind=NumberAnswer(
        expected=_opportunity, rel_tol=1e-3,
        mistakes=[
            ("the opportunity before the cost of the extra clicks", lambda: _opportunity(cost=False)),
            ("computed on impressions instead of searches", lambda: _opportunity(base="impressions")),
        ],
    ),
    hints=[
        "CTR gain = power.a · 3^−b − power.a · rank^−b; extra clicks = searches × CTR gain.",
        "The gross profit per order of the keyword's category comes from "
        "`search.profit_per_order(orders, order_items, products)`.",
        "Last hint: extra clicks × (CR × profit per order − CPC).",
    ],
    solution=(
        f"row = kw.set_index('keyword').loc['{Q2_KEYWORD}']\n"
        f"g = power.a * {Q2_TARGET} ** -power.b - power.a * row['our_rank'] ** -power.b\n"
        "answer = row['monthly_searches'] * g * (row['orders'] / row['clicks'] "
        "* gp.loc[row['category'], 'profit_per_order'] - row['cpc'])"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def break_even() -> float:
    """Break-even CPC of :data:`Q3_KEYWORD`: its CR × its category's profit per order."""
    r = _row(Q3_KEYWORD)
    return float(search.break_even_cpc(r["orders"] / r["clicks"], _profit().loc[r["category"]])[0])


def _category_cr_break_even() -> float:
    kw, r = data("keywords"), _row(Q3_KEYWORD)
    cat = kw.loc[kw["category"] == r["category"]]
    return float(cat["orders"].sum() / cat["clicks"].sum() * _profit().loc[r["category"]])


q3 = Question(
    prompt=f"What is the **break-even CPC** of the keyword `{Q3_KEYWORD}`: its CR (orders / clicks) × "
    "the gross profit per order of its category? CNY per click (within 0.1%).",
    kind=NumberAnswer(
        expected=break_even, rel_tol=1e-3,
        mistakes=[
            ("the category's CR, not the keyword's own", _category_cr_break_even),
            ("the gross profit per order, not per click (multiply by the CR)",
             lambda: float(_profit().loc[_row(Q3_KEYWORD)["category"]])),
        ],
    ),
    hints=[
        "A click converts with probability CR = orders / clicks of the keyword.",
        "Last hint: CR × `gp.loc[category, 'profit_per_order']`.",
    ],
    solution=(
        f"row = kw.set_index('keyword').loc['{Q3_KEYWORD}']\n"
        "answer = row['orders'] / row['clicks'] * gp.loc[row['category'], 'profit_per_order']"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def bid_above() -> set[str]:
    """Keywords of :data:`Q4_CATEGORY` whose CPC is above their point break-even CPC."""
    kw = data("keywords")
    k = kw.loc[kw["category"] == Q4_CATEGORY]
    be = search.break_even_cpc(k["orders"] / k["clicks"], _profit().loc[Q4_CATEGORY])
    return set(k.loc[k["cpc"].to_numpy() > be, "keyword"])


q4 = Question(
    prompt=f"Which **{Q4_CATEGORY}** keywords have a CPC above their break-even CPC (the keyword's "
    "CR as measured, no interval)? A list of keyword names.",
    kind=SetAnswer(bid_above, column="keyword"),
    hints=[
        f"Keep the {Q4_CATEGORY} rows, compute CR = orders / clicks per keyword, then the "
        "break-even CPC = CR × the category's gross profit per order.",
        "Last hint: `k.loc[k['cpc'] > be, 'keyword']`.",
    ],
    solution=(
        f"k = kw.loc[kw['category'] == '{Q4_CATEGORY}']\n"
        f"be = k['orders'] / k['clicks'] * gp.loc['{Q4_CATEGORY}', 'profit_per_order']\n"
        "answer = k.loc[k['cpc'] > be, 'keyword'].tolist()"
    ),
)

__all__ = ["q1", "q2", "q3", "q4", "ctr_at_rank", "break_even", "bid_above"]
