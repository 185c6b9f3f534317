"""Exercises for 01_positioning/01_market (lesson 01-1, market landscape and competitors,
市场格局与竞品分析).

Every expected answer is computed from the ``market`` table chosen by
:func:`ecomlab.exercises.use_data`, never typed in. Four of the five questions make the
student compute the method by hand: an HHI from shares (q1), a year-on-year growth of
the 双11 month against the 双11 month a year earlier, placed by the promotion calendar
(q2), a relative share (q3) and a price index from value and unit shares (q4); q5 reads
the growth table to name the shrinking market.
"""

from __future__ import annotations

import pandas as pd

from ecomlab import market as mk
from ecomlab.calendar import promotion_calendar
from ecomlab.exercises import LabelAnswer, NumberAnswer, Question, data, derived

#: The lesson's focal brand and year (the questions are about this lesson's shop).
FOCAL = "Nestwell"
YEAR = 2025
Q1_CATEGORY = "kitchen"
Q2_CATEGORY = "cleaning"
Q3_CATEGORY = "decor"
Q4_CATEGORY = "storage"


def _year(year: int = YEAR) -> pd.DataFrame:
    m = data("market")
    return derived(("ch01_market", "year", year), lambda: m[m["month"].dt.year == year])


def _shares(category: str, year: int = YEAR) -> pd.DataFrame:
    y = _year(year)
    s = mk.brand_shares(y[y["category"] == category], within="category", units="units")
    s["brand"] = s["brand"].astype(str)
    return s.set_index("brand")


# -- q1 ---------------------------------------------------------------------------------
def hhi_of(category: str = Q1_CATEGORY) -> float:
    """HHI of ``category`` in :data:`YEAR`, from the year's value shares."""
    return mk.hhi(_shares(category)["value_share"])


q1 = Question(
    prompt=f"Compute **by hand** (pandas, not `market.concentration`) the **HHI** of the "
    f"**{Q1_CATEGORY}** market in {YEAR}: sum each brand's sales over the year, take value "
    "shares, and add up the squared shares in percent. A number between 0 and 10,000.",
    kind=NumberAnswer(
        expected=hhi_of, rel_tol=1e-6,
        mistakes=[
            ("the sum of squared shares as fractions; HHI squares shares in percent (× 100 first), "
             "so it runs to 10,000", lambda: hhi_of() / 10_000),
            ("the HHI of unit shares; concentration here is measured on sales value",
             lambda: mk.hhi(_shares(Q1_CATEGORY)["unit_share"])),
        ],
    ),
    hints=[
        f"`y = market[(market['month'].dt.year == {YEAR}) & (market['category'] == '{Q1_CATEGORY}')]`, "
        "then `y.groupby('brand', observed=True)['sales_amount'].sum()`.",
        "Shares = each brand's sales ÷ the total. HHI = Σ (100 × share)².",
    ],
    solution=(
        f"y = market[(market['month'].dt.year == {YEAR}) & (market['category'] == '{Q1_CATEGORY}')]\n"
        "sales = y.groupby('brand', observed=True)['sales_amount'].sum()\n"
        "answer = ((100 * sales / sales.sum()) ** 2).sum()"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def _category_month(category: str) -> pd.Series:
    m = data("market")
    return derived(("ch01_market", "monthly", category),
                   lambda: m[m["category"] == category].groupby("month")["sales_amount"].sum())


def promo_yoy(category: str = Q2_CATEGORY, name: str = "双11", year: int = YEAR) -> float:
    """Sales in ``name``'s month of ``year`` ÷ sales in its month a year earlier − 1."""
    pm = mk.promotion_months(promotion_calendar([year - 1, year]), [name]).set_index("year")["month"]
    s = _category_month(category)
    return float(s.loc[pm[year]] / s.loc[pm[year - 1]] - 1)


def _month_on_month(category: str = Q2_CATEGORY) -> float:
    pm = mk.promotion_months(promotion_calendar([YEAR]), ["双11"])["month"].iloc[0]
    s = _category_month(category)
    return float(s.loc[pm] / s.loc[pm - pd.offsets.MonthBegin(1)] - 1)


q2 = Question(
    prompt=f"Seasonality-aware growth: use `ecomlab.calendar.promotion_calendar` to find the month of "
    f"**双11** (its peak day) in {YEAR - 1} and {YEAR}, and compute the **year-on-year growth** (同比) "
    f"of the **{Q2_CATEGORY}** market's sales in the 双11 month of {YEAR} against the 双11 month of "
    f"{YEAR - 1}. A fraction (0.12 for +12%).",
    kind=NumberAnswer(
        expected=promo_yoy, rel_tol=1e-6,
        mistakes=[
            ("the month-on-month change (环比) from October: the 双11 spike against a normal month, "
             "not growth", _month_on_month),
            ("the full-year growth; the question asks about the 双11 month only",
             lambda: float(mk.yoy_growth(data("market")[data("market")["category"] == Q2_CATEGORY],
                                         YEAR)["yoy"].item())),
        ],
    ),
    hints=[
        f"`cal = promotion_calendar([{YEAR - 1}, {YEAR}])`; the 双11 rows' `peak_date` gives the month "
        "(`.dt.to_period('M')`).",
        f"Total the {Q2_CATEGORY} sales of all brands in each of the two months; growth = this year ÷ "
        "last year − 1.",
    ],
    solution=(
        f"cal = promotion_calendar([{YEAR - 1}, {YEAR}])\n"
        "peak = cal.loc[cal['name'] == '双11', 'peak_date'].dt.to_period('M').dt.to_timestamp()\n"
        f"s = market[market['category'] == '{Q2_CATEGORY}'].groupby('month')['sales_amount'].sum()\n"
        "answer = s.loc[peak.iloc[1]] / s.loc[peak.iloc[0]] - 1"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def relative_share(category: str = Q3_CATEGORY, focal: str = FOCAL) -> float:
    """``focal``'s value share ÷ the largest rival's value share in ``category``, :data:`YEAR`."""
    s = _shares(category)["value_share"]
    return float(s[focal] / s.drop(focal).max())


q3 = Question(
    prompt=f"What is {FOCAL}'s **relative share** in **{Q3_CATEGORY}** in {YEAR}: its value share "
    "divided by the value share of its **largest rival**? A ratio (1 would mean level with the leader).",
    kind=NumberAnswer(
        expected=relative_share, rel_tol=1e-6,
        mistakes=[
            (f"{FOCAL}'s own share, not relative to the largest rival",
             lambda: float(_shares(Q3_CATEGORY)["value_share"][FOCAL])),
            ("the rival's share ÷ ours: the ratio is the other way round",
             lambda: 1 / relative_share()),
            ("a relative share in units; use value shares",
             lambda: float(_shares(Q3_CATEGORY)["unit_share"][FOCAL]
                           / _shares(Q3_CATEGORY)["unit_share"].drop(FOCAL).max())),
        ],
    ),
    hints=[
        f"Value shares of the {YEAR} {Q3_CATEGORY} market by brand, as in Q1.",
        f"The largest rival is the largest share among the brands other than {FOCAL}.",
    ],
    solution=(
        f"y = market[(market['month'].dt.year == {YEAR}) & (market['category'] == '{Q3_CATEGORY}')]\n"
        "share = y.groupby('brand', observed=True)['sales_amount'].sum()\n"
        "share = share / share.sum()\n"
        f"answer = share['{FOCAL}'] / share.drop('{FOCAL}').max()"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def price_index(category: str = Q4_CATEGORY, focal: str = FOCAL) -> float:
    """``focal``'s value share ÷ unit share in ``category``, :data:`YEAR`."""
    return float(_shares(category).loc[focal, "price_index"])


def _mean_monthly_ratio() -> float:
    y = _year()
    y = y[y["category"] == Q4_CATEGORY]
    avg = y.groupby("month")["sales_amount"].sum() / y.groupby("month")["units"].sum()
    own = y[y["brand"] == FOCAL].set_index("month")["avg_price"]
    return float((own / avg).mean())


q4 = Question(
    prompt=f"{FOCAL}'s **price position** in **{Q4_CATEGORY}**, {YEAR}: divide its share of the year's "
    "**sales value** by its share of the year's **units**. A ratio: above 1, it sells dearer than "
    "the market's average unit.",
    kind=NumberAnswer(
        expected=price_index, rel_tol=1e-6,
        mistakes=[
            ("unit share ÷ value share: the ratio is the other way round", lambda: 1 / price_index()),
            ("an average of the monthly price ratios; compute the year's shares, then divide",
             _mean_monthly_ratio),
        ],
    ),
    hints=[
        "Sum `sales_amount` and `units` by brand over the year, then divide each by its column total.",
        "Value share ÷ unit share equals the brand's average price ÷ the market's average price.",
    ],
    solution=(
        f"y = market[(market['month'].dt.year == {YEAR}) & (market['category'] == '{Q4_CATEGORY}')]\n"
        "t = y.groupby('brand', observed=True)[['sales_amount', 'units']].sum()\n"
        "t = t / t.sum()\n"
        f"answer = t.loc['{FOCAL}', 'sales_amount'] / t.loc['{FOCAL}', 'units']"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def _growth() -> pd.DataFrame:
    m = data("market")
    return derived(("ch01_market", "growth"), lambda: mk.yoy_growth(m, YEAR))


def shrinking() -> str:
    """The category whose sales fell most year on year in :data:`YEAR`."""
    g = _growth()
    return str(g.loc[g["yoy"].idxmin(), "category"])


q5 = Question(
    prompt=f"Which category's market **shrank** from {YEAR - 1} to {YEAR} (the most negative "
    "year-on-year growth)? Give its name as in the `category` column.",
    kind=LabelAnswer(expected=shrinking),
    hints=[f"`mk.yoy_growth(market, {YEAR})` (with `from ecomlab import market as mk`) gives one row "
           "per category with `yoy`."],
    solution=f"g = mk.yoy_growth(market, {YEAR})\nanswer = g.loc[g['yoy'].idxmin(), 'category']",
)

__all__ = ["FOCAL", "YEAR", "hhi_of", "price_index", "promo_yoy", "q1", "q2", "q3", "q4", "q5",
           "relative_share", "shrinking"]
