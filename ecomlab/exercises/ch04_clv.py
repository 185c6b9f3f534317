"""Exercises for 04_private_domain/03_clv (lesson 04-3, customer lifetime value, CLV /
用户生命周期价值).

Expected answers are computed at run time: from the data chosen by
:func:`ecomlab.exercises.use_data` (orders, customers, marketing_daily) or, for the
formula questions, by the reference implementations in :mod:`ecomlab.users` on the
cases listed. Three of the five questions make the student implement the method:
BG/NBD P(alive) (q1), MBG/NBD P(alive) (q2) and a discounted CLV (q3); q4 counts the
customers BG/NBD cannot rank, q5 reads LTV : CAC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import users
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

_CDNOW = (0.243, 4.414, 0.793, 2.426)  # the paper's weekly CDNOW estimates (Fader, Hardie & Lee 2005)


# -- q1 ---------------------------------------------------------------------------------
def p_alive_reference(r: float, alpha: float, a: float, b: float, x: float, t_x: float,
                      T: float) -> float:
    """BG/NBD P(alive | x, t_x, T) (Fader, Hardie & Lee 2005, eq. 11)."""
    return float(users.p_alive((r, alpha, a, b), x, t_x, T))


def _p_alive_cases() -> list[Case]:
    return [
        Case(*_CDNOW, 2, 30.43, 38.86),
        Case(*_CDNOW, 2, 5.0, 38.86),
        Case(*_CDNOW, 7, 20.0, 52.0),
        Case(*_CDNOW, 0, 0.0, 30.0),  # no repeat purchase: cannot have dropped out
        Case(0.25, 4.5, 0.8, 2.4, 1, 50.0, 52.0),
    ]


q1 = Question(
    prompt="Write `p_alive(r, alpha, a, b, x, t_x, T)`: the BG/NBD probability that a customer "
    "with `x` repeat purchases, the last at `t_x`, observed until `T`, is still alive: "
    "1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)) when x > 0, "
    "and 1 when x = 0. Return a float.",
    kind=FunctionAnswer(p_alive_reference, cases=_p_alive_cases, rtol=1e-6, atol=1e-9,
                        name="p_alive"),
    hints=[
        "In BG/NBD a customer can only drop out right after a repeat purchase, so x = 0 "
        "means alive for sure.",
        "Last hint: the longer the silence T - t_x, the larger ((alpha + T) / (alpha + t_x)) ** "
        "(r + x) and the smaller P(alive) — more so for frequent buyers (large x).",
    ],
    solution=(
        "def p_alive(r, alpha, a, b, x, t_x, T):\n"
        "    if x == 0:\n"
        "        return 1.0\n"
        "    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def p_alive_mbg_reference(r: float, alpha: float, a: float, b: float, x: float, t_x: float,
                          T: float) -> float:
    """MBG/NBD P(alive | x, t_x, T) (Batislam, Denizel & Filiztekin 2007)."""
    return float(users.p_alive((r, alpha, a, b), x, t_x, T, model="MBG/NBD"))


q2 = Question(
    prompt="Write `p_alive_mbg(r, alpha, a, b, x, t_x, T)`: the **MBG/NBD** P(alive), where a "
    "customer may also drop out right after the *first* purchase: "
    "1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)) for **every** x ≥ 0 "
    "(t_x = 0 when x = 0). Return a float.",
    kind=FunctionAnswer(p_alive_mbg_reference, cases=_p_alive_cases, rtol=1e-6, atol=1e-9,
                        name="p_alive_mbg"),
    hints=[
        "Two changes from BG/NBD: b + x replaces b + x − 1, and there is no special case for x = 0.",
        "Last hint: for a one-time buyer (x = 0, t_x = 0) it is 1 / (1 + a / b * ((alpha + T) / "
        "alpha) ** r): it falls as T grows, unlike BG/NBD's constant 1.",
    ],
    solution=(
        "def p_alive_mbg(r, alpha, a, b, x, t_x, T):\n"
        "    return 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def discounted_clv_reference(cum_purchases, spend: float, margin: float,
                             annual_discount_rate: float) -> float:
    """Discounted CLV from cumulative expected purchases at months 0, 1, ..., n.

    ``CLV = margin × spend × Σ_{m=1..n} (E[Y(m)] − E[Y(m−1)]) / (1 + d)^m`` with the monthly
    rate ``d = (1 + annual_discount_rate)^(1/12) − 1`` (as in :func:`ecomlab.users.clv`).
    """
    cum = np.asarray(cum_purchases, dtype=float)
    d = (1 + annual_discount_rate) ** (1 / 12) - 1
    return float(margin * spend * (np.diff(cum) / (1 + d) ** np.arange(1, len(cum))).sum())


def _clv_cases() -> list[Case]:
    """Cumulative expected purchases of real-looking customers from the paper's model."""
    months = np.arange(13) * 365.25 / 12 / 7  # weeks
    cases = []
    for x, tx, T, spend in ((2, 30.43, 38.86, 230.0), (0, 0.0, 20.0, 210.0), (6, 50.0, 52.0, 260.0)):
        cum = [float(users.expected_purchases(_CDNOW, t, x, tx, T)) for t in months]
        cases.append(Case(cum, spend, 0.47, 0.10))
    cases.append(Case([0.0, 0.5, 1.0], 100.0, 0.5, 0.0))  # no discounting: 0.5 × 100 × 1
    return cases


q3 = Question(
    prompt="Write `discounted_clv(cum_purchases, spend, margin, annual_discount_rate)`: "
    "`cum_purchases[m]` is a customer's cumulative expected purchases after m months "
    "(m = 0, 1, …, n; `cum_purchases[0]` = 0). Each month's purchases (the difference) bring "
    "`margin × spend` of gross profit and are discounted at the monthly rate "
    "d = (1 + annual_discount_rate) ** (1/12) − 1: month m is divided by (1 + d) ** m. Return "
    "the sum (a float).",
    kind=FunctionAnswer(discounted_clv_reference, cases=_clv_cases, rtol=1e-9, atol=1e-12,
                        name="discounted_clv"),
    hints=[
        "Purchases in month m: `np.diff(cum_purchases)` (n values for months 1..n).",
        "Do not divide the annual rate by 12: (1 + 10%) ** (1/12) − 1 ≈ 0.797% a month, not 0.833%.",
        "Last hint: `d = (1 + rate) ** (1 / 12) - 1; m = np.arange(1, len(cum)); "
        "margin * spend * (np.diff(cum) / (1 + d) ** m).sum()`.",
    ],
    solution=(
        "def discounted_clv(cum_purchases, spend, margin, annual_discount_rate):\n"
        "    cum = np.asarray(cum_purchases, float)\n"
        "    d = (1 + annual_discount_rate) ** (1 / 12) - 1\n"
        "    m = np.arange(1, len(cum))\n"
        "    return float(margin * spend * (np.diff(cum) / (1 + d) ** m).sum())"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def end_summary() -> pd.DataFrame:
    """(x, t_x, T) per customer at the end of the data, daily periods, kept purchases."""
    o = data("orders")

    def make():
        end = o["order_ts"].max().normalize() + pd.Timedelta(days=1)
        return users.rfm_summary(o, calibration_end=end, freq="D")

    return derived(("ch04_clv", "end_summary"), make)


q4 = Question(
    prompt="Score every customer at the **end of the data** (`calibration_end` = midnight after "
    "the last order, daily periods). For how many customers is the BG/NBD P(alive) exactly 1, "
    "whatever the fitted parameters? A count.",
    kind=NumberAnswer(expected=lambda: float((end_summary()["frequency"] == 0).sum()), abs_tol=0.5),
    hints=[
        "`users.rfm_summary(orders, calibration_end=end, freq='D')` with `end` the day after the "
        "last order.",
        "Last hint: BG/NBD lets a customer drop out only after a *repeat* purchase; count the "
        "customers with `frequency == 0`.",
    ],
    solution=(
        "end = orders['order_ts'].max().normalize() + pd.Timedelta(days=1)\n"
        "s = users.rfm_summary(orders, calibration_end=end, freq='D')\n"
        "answer = int((s['frequency'] == 0).sum())"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def ltv_cac_2024() -> pd.DataFrame:
    """Revenue LTV (12 months) : CAC of the 2024 acquisitions, per channel."""
    o, c, m = data("orders"), data("customers"), data("marketing_daily")

    def make():
        ltv = users.historical_ltv(o, c, months=12)
        return users.ltv_cac(ltv, m, c, start="2024-01-01", end="2025-01-01")

    return derived(("ch04_clv", "ltv_cac"), make)


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
        "Last hint: the channel with the lowest LTV is not necessarily the one with the lowest "
        "LTV : CAC — a cheap channel can afford lower-value customers.",
    ],
    solution=(
        "t = users.ltv_cac(users.historical_ltv(orders, customers, months=12), marketing, customers,\n"
        "                  start='2024-01-01', end='2025-01-01')\n"
        "answer = t[~t['organic']].set_index('acquisition_channel')['ltv_cac_ratio'].idxmin()"
    ),
)

__all__ = ["PAID_CHANNELS", "discounted_clv_reference", "end_summary", "ltv_cac_2024",
           "p_alive_mbg_reference", "p_alive_reference", "q1", "q2", "q3", "q4", "q5"]
