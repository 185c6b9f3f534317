"""A small example bank on an in-memory frame (used by the tests and the docs).

Six orders from four customers; every expected answer is computed from :func:`orders`.
"""

from __future__ import annotations

import pandas as pd

from ecomlab.exercises import (
    Case,
    FrameAnswer,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
)


def orders() -> pd.DataFrame:
    """The demo orders: ``order_id``, ``customer_id``, ``paid_amount`` (CNY), ``channel``."""
    return pd.DataFrame(
        {
            "order_id": pd.array(["o1", "o2", "o3", "o4", "o5", "o6"], dtype="string"),
            "customer_id": pd.array(["c1", "c1", "c2", "c3", "c3", "c4"], dtype="string"),
            "paid_amount": [120.0, 80.0, 200.0, 50.0, 70.0, 30.0],
            "channel": pd.Categorical(
                ["marketplace", "mini_program", "marketplace", "live_room", "marketplace",
                 "mini_program"]
            ),
        }
    )


def customer_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: ``customer_id``, ``orders``, ``paid_amount`` (sorted by id)."""
    return (
        frame.groupby("customer_id", observed=True)
        .agg(orders=("order_id", "count"), paid_amount=("paid_amount", "sum"))
        .reset_index()
        .sort_values("customer_id", ignore_index=True)
    )


def repurchase_rate(frame: pd.DataFrame) -> float:
    """复购率: customers with ≥ 2 orders / customers with ≥ 1 order."""
    counts = frame.groupby("customer_id", observed=True)["order_id"].count()
    return float((counts >= 2).mean())


q1 = Question(
    prompt="What is the spend per buyer (客单价, GMV per buyer) of the demo orders, in CNY?",
    kind=NumberAnswer(
        expected=lambda: orders()["paid_amount"].sum() / orders()["customer_id"].nunique(),
        abs_tol=0.01,
    ),
    hints=["GMV is the sum of `paid_amount`.", "Divide by the number of distinct buyers."],
    solution="spend_per_buyer = orders['paid_amount'].sum() / orders['customer_id'].nunique()",
)

q2 = Question(
    prompt="Build one row per customer with columns `customer_id`, `orders`, `paid_amount`, "
    "sorted by `customer_id`.",
    kind=FrameAnswer(expected=lambda: customer_summary(orders())),
    hints=["Group by `customer_id`.", "Use `.agg(orders=(...), paid_amount=(...))`."],
    solution="summary = customer_summary(orders)",
)

q3 = Question(
    prompt="Which customers ordered at least twice? Give their ids (any order).",
    kind=SetAnswer(
        expected=lambda: customer_summary(orders()).query("orders >= 2")["customer_id"].tolist()
    ),
    hints=["Count orders per customer, then keep counts ≥ 2."],
    solution="repeaters = set(summary.loc[summary['orders'] >= 2, 'customer_id'])",
)

q4 = Question(
    prompt="In Chinese e-commerce reports, 投产比 usually means which metric?",
    kind=LabelAnswer("ROAS", choices=["ROI", "ROAS", "CAC", "GMV"]),
    hints=["It divides revenue by ad spend, not profit by cost."],
    solution='answer = "ROAS"',
)

q5 = Question(
    prompt="Write `repurchase_rate(orders)`: the share of customers with at least 2 orders.",
    kind=FunctionAnswer(
        repurchase_rate,
        cases=lambda: [
            Case(orders()),
            Case(orders().iloc[[0, 2]]),
            Case(orders().iloc[[0, 1, 3, 4]]),
        ],
    ),
    hints=["Count orders per customer with `groupby`.", "`(counts >= 2).mean()`"],
    solution=(
        "def repurchase_rate(orders):\n"
        "    counts = orders.groupby('customer_id')['order_id'].count()\n"
        "    return (counts >= 2).mean()"
    ),
)
