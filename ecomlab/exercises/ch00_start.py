"""Exercises for 00_start_here: warm-ups on the Nestwell orders and products.

Every expected answer is computed at run time from :func:`ecomlab.exercises.data`, so a
lesson run on another export (``exercises.use_data(data_dir)``) checks against that data.

- q1 — how many orders were placed in 2025 (every status counts: an order is a row)?
- q2 — GMV of 2025 with :func:`ecomlab.metrics.gmv` (cancelled orders excluded).
- q3 — the set of product categories.
- q4 — the share of 2025 orders that were cancelled (a fraction, not a percentage).
"""

from __future__ import annotations

import pandas as pd

from ecomlab import metrics
from ecomlab.exercises import NumberAnswer, Question, SetAnswer, data

#: The calendar year the warm-ups ask about.
YEAR = 2025


def orders_in_year(orders: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    """The orders whose ``order_ts`` falls in calendar ``year`` (every status).

    >>> df = pd.DataFrame({"order_ts": pd.to_datetime(["2024-12-31 23:59", "2025-01-01 00:00"])})
    >>> len(orders_in_year(df, 2025))
    1
    """
    if "order_ts" not in orders.columns:
        raise ValueError(f"orders is missing column 'order_ts'; it has {list(orders.columns)}")
    return orders[orders["order_ts"].dt.year == year]


def _orders_year() -> pd.DataFrame:
    return orders_in_year(data("orders"))


q1 = Question(
    prompt=f"How many orders were placed in {YEAR}? Count every order (one row of `orders`), "
    "whatever its `status`.",
    kind=NumberAnswer(expected=lambda: len(_orders_year()), abs_tol=0.5),
    hints=[
        "`orders['order_ts'].dt.year` gives the year of each order.",
        f"Keep the rows where it equals {YEAR}, then take `len(...)`.",
    ],
    solution=f"n_orders = len(orders[orders['order_ts'].dt.year == {YEAR}])",
)

q2 = Question(
    prompt=f"What was Nestwell's GMV (成交总额) in {YEAR}, in CNY? Use `metrics.gmv`, which "
    "sums `paid_amount` over placed orders (cancelled orders excluded, refunds kept).",
    kind=NumberAnswer(expected=lambda: metrics.gmv(_orders_year()), rel_tol=1e-6, abs_tol=0.01),
    hints=[
        f"First keep the {YEAR} orders, as in q1.",
        "Pass them to `metrics.gmv(...)`: it drops cancelled orders for you.",
    ],
    solution=f"gmv = metrics.gmv(orders[orders['order_ts'].dt.year == {YEAR}])",
)

q3 = Question(
    prompt="Which product categories does Nestwell sell? Give the set of `category` values "
    "of the `products` table (English labels, any order).",
    kind=SetAnswer(expected=lambda: set(data("products")["category"].dropna().astype(str))),
    hints=[
        "Look at `products['category']`.",
        "`set(products['category'].astype(str))` or `products['category'].unique()`.",
    ],
    solution="categories = set(products['category'].astype(str))",
)

q4 = Question(
    prompt=f"What share of the orders placed in {YEAR} were cancelled? A fraction in [0, 1]; "
    "refunded orders do not count as cancelled.",
    kind=NumberAnswer(expected=lambda: float((_orders_year()["status"] == "cancelled").mean()),
                      abs_tol=1e-5),
    hints=[
        f"Work on the {YEAR} orders from q1.",
        "The mean of a True/False column is the share of True: "
        f"`(orders_{YEAR}['status'] == 'cancelled').mean()`.",
    ],
    solution=(f"orders_{YEAR} = orders[orders['order_ts'].dt.year == {YEAR}]\n"
              f"share = (orders_{YEAR}['status'] == 'cancelled').mean()"),
)
