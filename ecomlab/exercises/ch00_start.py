"""Exercises for 00_start_here: warm-ups on the Nestwell orders and products.

Every expected answer is computed at run time from :func:`ecomlab.exercises.data`, so a
lesson run on another export (``exercises.use_data(data_dir)``) checks against that data.
Words as the course uses them everywhere: an *order* is one row of ``orders`` (any
status); a *placed order* is an order that was not cancelled
(:func:`ecomlab.metrics.placed_orders`), the orders GMV sums over.

- q1 — how many placed orders were there in 2024 (the lesson prints 2025)?
- q2 — spend per buyer (客单价) of 2024, by hand: GMV / buyers.
- q3 — write ``headline_kpis(orders)``: GMV, placed orders, buyers, spend per buyer and
  order value for any orders table.
- q4 — the set of product categories.
- q5 — the share of 2025 orders that were cancelled (a fraction, not a percentage).

q1-q3 and q5 make the student compute; q4 reads a column.
"""

from __future__ import annotations

import pandas as pd

from ecomlab import metrics
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    data,
)

#: The calendar year the lesson's headline numbers describe.
YEAR = 2025
#: The year the exercises ask about, so the student computes rather than copies.
PREVIOUS_YEAR = YEAR - 1


def orders_in_year(orders: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    """The orders whose ``order_ts`` falls in calendar ``year`` (every status).

    >>> df = pd.DataFrame({"order_ts": pd.to_datetime(["2024-12-31 23:59", "2025-01-01 00:00"])})
    >>> len(orders_in_year(df, 2025))
    1
    """
    if "order_ts" not in orders.columns:
        raise ValueError(f"orders is missing column 'order_ts'; it has {list(orders.columns)}")
    return orders[orders["order_ts"].dt.year == year]


def headline_kpis(orders: pd.DataFrame) -> pd.Series:
    """GMV, placed orders, buyers, spend per buyer (客单价) and order value of ``orders``.

    Reference answer of q3, through :mod:`ecomlab.metrics` (placed orders = not cancelled).

    >>> o = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "paid_amount": [100.0, 50.0, 30.0, 80.0],
    ...                   "status": ["completed", "refunded", "completed", "cancelled"]})
    >>> headline_kpis(o).round(2).to_dict()
    {'gmv': 180.0, 'placed_orders': 3.0, 'buyers': 2.0, 'spend_per_buyer': 90.0, 'order_value': 60.0}
    """
    placed = metrics.placed_orders(orders)
    gmv = metrics.gmv(orders)
    buyers = placed["customer_id"].nunique()
    return pd.Series({
        "gmv": gmv,
        "placed_orders": float(len(placed)),
        "buyers": float(buyers),
        "spend_per_buyer": metrics.spend_per_buyer(gmv, buyers),
        "order_value": metrics.order_value(gmv, len(placed)),
    })


def _orders_year(year: int = YEAR) -> pd.DataFrame:
    return orders_in_year(data("orders"), year)


q1 = Question(
    prompt=f"How many **placed orders** were there in {PREVIOUS_YEAR}? A placed order is an "
    "order that was not cancelled (refunded orders count: they were placed, then returned).",
    kind=NumberAnswer(expected=lambda: len(metrics.placed_orders(_orders_year(PREVIOUS_YEAR))),
                      abs_tol=0.5,
                      mistakes=[("every order, cancelled ones included; placed orders leave them out",
                                 lambda: len(_orders_year(PREVIOUS_YEAR))),
                                ("completed orders only; refunded orders were placed too",
                                 lambda: len(metrics.valid_orders(_orders_year(PREVIOUS_YEAR)))),
                                (f"the count for {YEAR}, the lesson's year; the question asks for {PREVIOUS_YEAR}",
                                 lambda: len(metrics.placed_orders(_orders_year(YEAR))))]),
    hints=[
        "`orders['order_ts'].dt.year` gives the year of each order.",
        f"Keep the {PREVIOUS_YEAR} rows whose `status` is not `'cancelled'` "
        "(or pass them to `metrics.placed_orders`) and take `len(...)`.",
    ],
    solution=(f"o = orders[orders['order_ts'].dt.year == {PREVIOUS_YEAR}]\n"
              "answer = len(o[o['status'] != 'cancelled'])"),
)

q2 = Question(
    prompt=f"By hand: what was the **spend per buyer** (客单价) in {PREVIOUS_YEAR}, in CNY? "
    "GMV (Σ `paid_amount` over placed orders) divided by the number of distinct buyers "
    "(`customer_id`) of those placed orders — per buyer, not per order.",
    kind=NumberAnswer(expected=lambda: float(headline_kpis(_orders_year(PREVIOUS_YEAR))["spend_per_buyer"]),
                      rel_tol=1e-6, abs_tol=0.01,
                      mistakes=[("GMV per placed order (the order value, English 'AOV'), not per buyer",
                                 lambda: float(headline_kpis(_orders_year(PREVIOUS_YEAR))["order_value"])),
                                ("per buyer but with cancelled orders kept in GMV",
                                 lambda: float(_orders_year(PREVIOUS_YEAR)["paid_amount"].sum()
                                               / metrics.placed_orders(_orders_year(PREVIOUS_YEAR))["customer_id"].nunique()))]),
    hints=[
        f"Keep the {PREVIOUS_YEAR} orders that are not cancelled.",
        "GMV is the sum of their `paid_amount`; buyers is `['customer_id'].nunique()`.",
        "A buyer who ordered three times counts once in the denominator, so this "
        "is larger than GMV / placed orders (the order value).",
    ],
    solution=(f"o = orders[orders['order_ts'].dt.year == {PREVIOUS_YEAR}]\n"
              "placed = o[o['status'] != 'cancelled']\n"
              "answer = placed['paid_amount'].sum() / placed['customer_id'].nunique()"),
)


def _kpi_cases() -> list[Case]:
    orders = data("orders")
    tiny = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c"],
        "paid_amount": [100.0, 50.0, 30.0, 80.0],
        "status": ["completed", "refunded", "completed", "cancelled"],
    })
    return [Case(tiny), Case(orders_in_year(orders, PREVIOUS_YEAR)), Case(orders_in_year(orders, YEAR))]


q3 = Question(
    prompt="Write `headline_kpis(orders)` that returns a `pd.Series` indexed `['gmv', "
    "'placed_orders', 'buyers', 'spend_per_buyer', 'order_value']` for any orders table: GMV "
    "and the counts over placed orders (not cancelled), spend per buyer (客单价) = GMV / "
    "buyers, order value = GMV / placed orders. It is checked on a tiny table and on each year.",
    kind=FunctionAnswer(headline_kpis, cases=_kpi_cases, rtol=1e-9, atol=1e-6, name="headline_kpis"),
    hints=[
        "`placed = orders[orders['status'] != 'cancelled']` (or `metrics.placed_orders(orders)`).",
        "`gmv = placed['paid_amount'].sum()`; `buyers = placed['customer_id'].nunique()`.",
        "`pd.Series({'gmv': gmv, 'placed_orders': len(placed), 'buyers': buyers, "
        "'spend_per_buyer': gmv / buyers, 'order_value': gmv / len(placed)})`.",
    ],
    solution=(
        "def headline_kpis(orders):\n"
        "    placed = orders[orders['status'] != 'cancelled']\n"
        "    gmv = placed['paid_amount'].sum()\n"
        "    buyers = placed['customer_id'].nunique()\n"
        "    return pd.Series({'gmv': gmv, 'placed_orders': len(placed), 'buyers': buyers,\n"
        "                      'spend_per_buyer': gmv / buyers, 'order_value': gmv / len(placed)})\n"
        "answer = headline_kpis"
    ),
)

q4 = Question(
    prompt="Which product categories does Nestwell sell? Give the set of `category` values "
    "of the `products` table (English labels, any order).",
    kind=SetAnswer(expected=lambda: set(data("products")["category"].dropna().astype(str))),
    hints=[
        "Look at `products['category']`.",
        "`set(products['category'].astype(str))` or `products['category'].unique()`.",
    ],
    solution="answer = set(products['category'].astype(str))",
)

q5 = Question(
    prompt=f"What share of all the orders of {YEAR} (every status) were cancelled? A fraction "
    "in [0, 1]; refunded orders do not count as cancelled.",
    kind=NumberAnswer(expected=lambda: float((_orders_year()["status"] == "cancelled").mean()),
                      abs_tol=1e-5),
    hints=[
        f"Work on every {YEAR} order (one row each), not only the placed ones.",
        "The mean of a True/False column is the share of True: "
        f"`(orders_{YEAR}['status'] == 'cancelled').mean()`.",
    ],
    solution=(f"orders_{YEAR} = orders[orders['order_ts'].dt.year == {YEAR}]\n"
              f"answer = (orders_{YEAR}['status'] == 'cancelled').mean()"),
)
