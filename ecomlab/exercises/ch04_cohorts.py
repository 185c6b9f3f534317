"""Exercises for 04_private_domain/02_cohorts_ltv (cohorts, repurchase and LTV, 复购 & LTV).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (orders, customers and marketing_daily as loaded),
never typed in. Customer analytics count kept purchases only
(:func:`ecomlab.metrics.valid_orders`: cancelled and refunded orders are not purchases).
"""

from __future__ import annotations

import pandas as pd

from ecomlab import metrics, users
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    data,
    derived,
)
from ecomlab.schema import PAID_CHANNELS

#: Paid acquisition channels (organic_search has no spend, so no finite LTV : CAC).

def _valid() -> pd.DataFrame:
    o = data("orders")
    return derived(("ch04_cohorts", "valid"), lambda: metrics.valid_orders(o))


# -- q1 ---------------------------------------------------------------------------------
q1 = Question(
    prompt="What was Nestwell's **repurchase rate (复购率) in 2024**: the share of 2024's buyers "
    "with at least two kept purchases (status `completed`) in 2024? A fraction in [0, 1].",
    kind=NumberAnswer(
        expected=lambda: metrics.repurchase_rate(_valid(), "2024-01-01", "2025-01-01"),
        abs_tol=1e-4,
    ),
    hints=[
        "Keep the kept purchases first: `metrics.valid_orders(orders)` drops cancelled and "
        "refunded orders.",
        "`metrics.repurchase_rate(valid, '2024-01-01', '2025-01-01')` — the end is exclusive.",
    ],
    solution=(
        "valid = metrics.valid_orders(orders)\n"
        "answer = metrics.repurchase_rate(valid, '2024-01-01', '2025-01-01')"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
q2 = Question(
    prompt="What was the **return-purchase rate (回购率) from 2024 to 2025**: the share of 2024's "
    "buyers who bought again (a kept purchase) in 2025? A fraction in [0, 1].",
    kind=NumberAnswer(
        expected=lambda: metrics.return_purchase_rate(
            _valid(), ("2024-01-01", "2025-01-01"), ("2025-01-01", "2026-01-01")
        ),
        abs_tol=1e-4,
    ),
    hints=[
        "The denominator is the buyers of the *first* period (2024), not of 2025.",
        "`metrics.return_purchase_rate(valid, ('2024-01-01', '2025-01-01'), "
        "('2025-01-01', '2026-01-01'))`",
    ],
    solution=(
        "answer = metrics.return_purchase_rate(valid, ('2024-01-01', '2025-01-01'), "
        "('2025-01-01', '2026-01-01'))"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def _km_share_within(days: float) -> float:
    o = data("orders")
    km = derived(("ch04_cohorts", "km"), lambda: users.time_to_second_purchase(o).km())
    return float(km.loc[km["days"] <= days, "repurchased"].iloc[-1])


q3 = Question(
    prompt="Using the Kaplan-Meier curve of the time to the second purchase (censored customers "
    "kept), what share of new customers makes a **second purchase within 90 days** of the "
    "first? A fraction in [0, 1].",
    kind=NumberAnswer(expected=lambda: _km_share_within(90), abs_tol=0.002),
    hints=[
        "`km = users.time_to_second_purchase(orders).km()` gives `days` and `repurchased`.",
        "Take the last row with `days <= 90`. Do not divide by the customers who already "
        "repurchased (that drops the censored) or by everyone (that counts a customer "
        "acquired last week as a non-repurchaser).",
    ],
    solution=(
        "km = users.time_to_second_purchase(orders).km()\n"
        "answer = km.loc[km['days'] <= 90, 'repurchased'].iloc[-1]"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def p_alive_reference(r: float, alpha: float, a: float, b: float, x: float, t_x: float,
                      T: float) -> float:
    """BG/NBD P(alive | x, t_x, T) (Fader, Hardie & Lee 2005, eq. 11)."""
    return float(users.p_alive((r, alpha, a, b), x, t_x, T))


def _p_alive_cases() -> list[Case]:
    cdnow = (0.243, 4.414, 0.793, 2.426)  # the paper's weekly CDNOW estimates
    return [
        Case(*cdnow, 2, 30.43, 38.86),
        Case(*cdnow, 2, 5.0, 38.86),
        Case(*cdnow, 7, 20.0, 52.0),
        Case(*cdnow, 0, 0.0, 30.0),  # no repeat purchase: cannot have dropped out
        Case(0.25, 4.5, 0.8, 2.4, 1, 50.0, 52.0),
    ]


q4 = Question(
    prompt="Write `p_alive(r, alpha, a, b, x, t_x, T)`: the BG/NBD probability that a customer "
    "with `x` repeat purchases, the last at `t_x`, observed until `T`, is still alive: "
    "1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)) when x > 0, "
    "and 1 when x = 0. Return a float.",
    kind=FunctionAnswer(p_alive_reference, cases=_p_alive_cases, rtol=1e-6, atol=1e-9,
                        name="p_alive"),
    hints=[
        "In BG/NBD a customer can only drop out right after a repeat purchase, so x = 0 "
        "means alive for sure.",
        "The longer the silence T - t_x, the larger ((alpha + T) / (alpha + t_x)) ** (r + x) "
        "and the smaller P(alive) — more so for frequent buyers (large x).",
    ],
    solution=(
        "def p_alive(r, alpha, a, b, x, t_x, T):\n"
        "    if x == 0:\n"
        "        return 1.0\n"
        "    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def ltv_cac_2024() -> pd.DataFrame:
    """Revenue LTV (12 months) : CAC of the 2024 acquisitions, per channel."""
    o, c, m = data("orders"), data("customers"), data("marketing_daily")

    def make():
        ltv = users.historical_ltv(o, c, months=12)
        return users.ltv_cac(ltv, m, c, start="2024-01-01", end="2025-01-01")

    return derived(("ch04_cohorts", "ltv_cac"), make)


def _lowest_paid_ltv_cac() -> str:
    t = ltv_cac_2024()
    paid = t[~t["organic"]].set_index("acquisition_channel")["ltv_cac_ratio"]
    return str(paid.idxmin())


q5 = Question(
    prompt="Customers acquired in 2024 (full 12-month window): which **paid** acquisition "
    "channel has the lowest LTV : CAC, with CAC = 2024 spend / customers acquired through "
    "the channel in 2024?",
    kind=LabelAnswer(_lowest_paid_ltv_cac, choices=list(PAID_CHANNELS)),
    hints=[
        "`ltv = users.historical_ltv(orders, customers, months=12)` then "
        "`users.ltv_cac(ltv, marketing, customers, start='2024-01-01', end='2025-01-01')`.",
        "The channel with the lowest LTV is not necessarily the one with the lowest "
        "LTV : CAC — a cheap channel can afford lower-value customers.",
    ],
    solution=(
        "t = users.ltv_cac(users.historical_ltv(orders, customers, months=12), marketing, customers,\n"
        "                  start='2024-01-01', end='2025-01-01')\n"
        "answer = t[~t['organic']].set_index('acquisition_channel')['ltv_cac_ratio'].idxmin()"
    ),
)

__all__ = ["PAID_CHANNELS", "ltv_cac_2024", "p_alive_reference", "q1", "q2", "q3", "q4", "q5"]
