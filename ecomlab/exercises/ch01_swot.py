"""Exercises for 01_positioning/03_swot (lesson 01-3, SWOT → TOWS backed by numbers, 数据驱动的 SWOT).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (market, search_trends, orders, order_items,
products, returns as loaded), never typed in. Four of the five questions make the
student compute the metric behind a SWOT item with pandas: a value share since the
storage focus began (q1), a
return rate (q2), a search-interest change (q3) and a rival's price index (q4); q5
places a strategy in the TOWS matrix.
"""

from __future__ import annotations

import pandas as pd

from ecomlab import market, metrics
from ecomlab.exercises import LabelAnswer, NumberAnswer, Question, data

#: The brand, year and categories the questions ask about.
FOCAL, YEAR = "Nestwell", 2025
Q1_CATEGORY, Q2_CATEGORY, Q3_CATEGORY = "storage", "decor", "cleaning"
Q4_BRAND, Q4_CATEGORY = "HomeMax", "kitchen"
#: The month FOCAL's storage focus (its H2-2025 programme) began: S1 and q1 count the months from it.
PUSH_START = "2025-07-01"


def _year(m: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    return m[m["month"].dt.year == year]


# -- q1 ---------------------------------------------------------------------------------
def _from_push(m: pd.DataFrame) -> pd.DataFrame:
    return m[m["month"] >= pd.Timestamp(PUSH_START)]


def value_share() -> float:
    """FOCAL's value share of Q1_CATEGORY sales from PUSH_START on (via ``ecomlab.market.brand_shares``)."""
    s = market.brand_shares(_from_push(data("market")), within="category", units="units")
    row = s[(s["category"] == Q1_CATEGORY) & (s["brand"] == FOCAL)]
    return float(row["value_share"].iloc[0])


def _unit_share() -> float:
    s = market.brand_shares(_from_push(data("market")), within="category", units="units")
    return float(s.loc[(s["category"] == Q1_CATEGORY) & (s["brand"] == FOCAL), "unit_share"].iloc[0])


def _share_of_all_categories() -> float:
    m = _from_push(data("market"))
    return float(m.loc[(m["brand"] == FOCAL) & (m["category"] == Q1_CATEGORY), "sales_amount"].sum()
                 / m["sales_amount"].sum())


def _share_whole_year() -> float:
    s = market.brand_shares(_year(data("market")), within="category")
    return float(s.loc[(s["category"] == Q1_CATEGORY) & (s["brand"] == FOCAL), "value_share"].iloc[0])


q1 = Question(
    prompt=f"Compute the metric behind S1 with pandas: {FOCAL}'s **value share of {Q1_CATEGORY} sales "
    f"from {PUSH_START[:7]}** (the months from `{PUSH_START}` on, when its {Q1_CATEGORY} focus began: "
    f"{FOCAL}'s {Q1_CATEGORY} `sales_amount` ÷ all brands' {Q1_CATEGORY} `sales_amount`). A fraction in [0, 1].",
    kind=NumberAnswer(expected=value_share, abs_tol=1e-4,
                      mistakes=[("the unit share, not the value share", _unit_share),
                                ("a share of the whole market, not of the category", _share_of_all_categories),
                                (f"the share of the whole year {YEAR}; S1 counts the months from {PUSH_START[:7]}",
                                 _share_whole_year)]),
    hints=[
        f"Keep the rows from {PUSH_START[:7]} on (`market['month'] >= '{PUSH_START}'`) and of the category.",
        f"Last hint: `h2 = market[market['month'] >= '{PUSH_START}']; st = h2[h2['category'] == '{Q1_CATEGORY}']; "
        f"st.loc[st['brand'] == '{FOCAL}', 'sales_amount'].sum() / st['sales_amount'].sum()`.",
    ],
    solution=(
        f"h2 = market[market['month'] >= '{PUSH_START}']\n"
        f"st = h2[h2['category'] == '{Q1_CATEGORY}']\n"
        f"answer = st.loc[st['brand'] == '{FOCAL}', 'sales_amount'].sum() / st['sales_amount'].sum()"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def _lines(category: str) -> tuple[int, int, int]:
    o, it, pr, rt = data("orders"), data("order_items"), data("products"), data("returns")
    skus = pr.loc[pr["category"] == category, "sku_id"]
    shipped = it[it["order_id"].isin(metrics.placed_orders(o)["order_id"])]
    return int(rt["sku_id"].isin(skus).sum()), int(shipped["sku_id"].isin(skus).sum()), int(it["sku_id"].isin(skus).sum())


def return_rate() -> float:
    """Returned Q2_CATEGORY lines ÷ Q2_CATEGORY lines of shipped (not cancelled) orders."""
    r, shipped, _ = _lines(Q2_CATEGORY)
    return r / shipped


def _with_cancelled() -> float:
    r, _, all_lines = _lines(Q2_CATEGORY)
    return r / all_lines


def _overall() -> float:
    o, it, rt = data("orders"), data("order_items"), data("returns")
    return len(rt) / int(it["order_id"].isin(metrics.placed_orders(o)["order_id"]).sum())


q2 = Question(
    prompt=f"Compute the **return rate of {Q2_CATEGORY}**: returned {Q2_CATEGORY} lines (`returns`) ÷ "
    f"{Q2_CATEGORY} lines of shipped orders (`order_items` of orders that were not cancelled: "
    "`metrics.placed_orders`). A fraction in [0, 1].",
    kind=NumberAnswer(expected=return_rate, abs_tol=1e-5,
                      mistakes=[("the lines of cancelled orders are in the denominator (they never shipped)",
                                 _with_cancelled),
                                ("the return rate of all categories, not of this one", _overall)]),
    hints=[
        "A line's category comes from `products` (`sku_id` → `category`).",
        "Cancelled orders never shipped: their lines cannot be returned, so leave them out of the denominator.",
        "Last hint: `skus = products.loc[products['category'] == 'decor', 'sku_id']; "
        "shipped = items[items['order_id'].isin(metrics.placed_orders(orders)['order_id'])]; "
        "returns['sku_id'].isin(skus).sum() / shipped['sku_id'].isin(skus).sum()`.",
    ],
    solution=(
        f"skus = products.loc[products['category'] == '{Q2_CATEGORY}', 'sku_id']\n"
        "shipped = items[items['order_id'].isin(metrics.placed_orders(orders)['order_id'])]\n"
        "answer = returns['sku_id'].isin(skus).sum() / shipped['sku_id'].isin(skus).sum()"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def _search_means() -> tuple[float, float]:
    t = data("search_trends")
    c = t[t["category"] == Q3_CATEGORY]
    return (float(c.loc[c["week"].dt.year == YEAR - 1, "search_index"].mean()),
            float(c.loc[c["week"].dt.year == YEAR, "search_index"].mean()))


def search_change() -> float:
    """Mean weekly search index of Q3_CATEGORY in YEAR ÷ that of YEAR − 1, minus 1."""
    a, b = _search_means()
    return b / a - 1


q3 = Question(
    prompt=f"Compute the change in **search interest for {Q3_CATEGORY}**: the mean weekly `search_index` of "
    f"{YEAR} ÷ that of {YEAR - 1} − 1 (weeks by the year of their `week` date). A fraction (0.05 = +5%).",
    kind=NumberAnswer(expected=search_change, abs_tol=1e-4,
                      mistakes=[("the difference in index points, not the relative change",
                                 lambda: _search_means()[1] - _search_means()[0])]),
    hints=[
        "Filter the category, then average `search_index` per year.",
        f"Last hint: `cl = trends[trends['category'] == '{Q3_CATEGORY}']; "
        f"cl.loc[cl['week'].dt.year == {YEAR}, 'search_index'].mean() / "
        f"cl.loc[cl['week'].dt.year == {YEAR - 1}, 'search_index'].mean() - 1`.",
    ],
    solution=(
        f"cl = trends[trends['category'] == '{Q3_CATEGORY}']\n"
        f"answer = (cl.loc[cl['week'].dt.year == {YEAR}, 'search_index'].mean()\n"
        f"          / cl.loc[cl['week'].dt.year == {YEAR - 1}, 'search_index'].mean() - 1)"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def price_index() -> float:
    """Q4_BRAND's value share ÷ unit share in Q4_CATEGORY, YEAR (``market.brand_shares``)."""
    s = market.brand_shares(_year(data("market")), within="category", units="units")
    return float(s.loc[(s["category"] == Q4_CATEGORY) & (s["brand"] == Q4_BRAND), "price_index"].iloc[0])


def _inverse_index() -> float:
    return 1 / price_index()


q4 = Question(
    prompt=f"Compute the **price index** of the rival {Q4_BRAND} in {Q4_CATEGORY} in {YEAR}: its value "
    f"share ÷ its unit share of the {Q4_CATEGORY} market (= its average price ÷ the market's). Below 1 "
    "it sells cheaper than the market.",
    kind=NumberAnswer(expected=price_index, abs_tol=1e-4,
                      mistakes=[("unit share ÷ value share (upside down)", _inverse_index)]),
    hints=[
        "Value share = the brand's sales ÷ the category's sales; unit share the same with `units`.",
        f"Last hint: `k25 = market[(market['month'].dt.year == {YEAR}) & (market['category'] == "
        f"'{Q4_CATEGORY}')]; hm = k25[k25['brand'] == '{Q4_BRAND}']; (hm['sales_amount'].sum() / "
        "k25['sales_amount'].sum()) / (hm['units'].sum() / k25['units'].sum())`.",
    ],
    solution=(
        f"k25 = market[(market['month'].dt.year == {YEAR}) & (market['category'] == '{Q4_CATEGORY}')]\n"
        f"hm = k25[k25['brand'] == '{Q4_BRAND}']\n"
        "answer = (hm['sales_amount'].sum() / k25['sales_amount'].sum()) / (hm['units'].sum() / k25['units'].sum())"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
q5 = Question(
    prompt="Which TOWS type is the strategy \"use Nestwell's storage share (a strength) to capture the "
    "rising storage searches (an opportunity)\"? One of SO, ST, WO, WT.",
    kind=LabelAnswer("SO", choices=["SO", "ST", "WO", "WT"]),
    hints=["The first letter is the internal factor (S or W), the second the external one (O or T)."],
    solution='answer = "SO"',
)

__all__ = ["price_index", "q1", "q2", "q3", "q4", "q5", "return_rate", "search_change", "value_share"]
