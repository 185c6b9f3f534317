"""Exercises for 04_private_domain/02_cohorts_repurchase (lesson 04-2, cohorts and
repurchase, 同期群与复购).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (the orders as loaded), never typed in. Customer
analytics count kept purchases only (:func:`ecomlab.metrics.valid_orders`: cancelled
and refunded orders are not purchases). Three of the five questions make the student
compute the method: a cohort cell by hand (q3), the Kaplan-Meier product-limit
estimator as a function (q4) and a share from the Kaplan-Meier curve (q5); q1 and q2
apply the two repeat KPIs with their windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import metrics, users
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    NumberAnswer,
    Question,
    data,
    derived,
)

#: q3: the cohort (month of the first kept purchase) whose month-1 retention is asked.
Q3_COHORT = "2024-11"


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
        "Last hint: `metrics.repurchase_rate(valid, '2024-01-01', '2025-01-01')` — the end is "
        "exclusive.",
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
        "Last hint: `metrics.return_purchase_rate(valid, ('2024-01-01', '2025-01-01'), "
        "('2025-01-01', '2026-01-01'))`",
    ],
    solution=(
        "answer = metrics.return_purchase_rate(valid, ('2024-01-01', '2025-01-01'), "
        "('2025-01-01', '2026-01-01'))"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def cohort_cell() -> float:
    """Month-1 retention of cohort :data:`Q3_COHORT` (kept purchases only)."""
    o = data("orders")
    m = derived(("ch04_cohorts", "cohorts"), lambda: users.cohort_matrix(o).matrix)
    return float(m.loc[pd.Timestamp(Q3_COHORT + "-01"), 1])


q3 = Question(
    prompt=f"Compute one cohort cell **by hand** with pandas (not with `users.cohort_matrix`): "
    f"of the customers whose first kept purchase was in **{Q3_COHORT}** (the 双11 month), what "
    "share made a kept purchase in the **next calendar month** (month 1)? A fraction in [0, 1].",
    kind=NumberAnswer(expected=cohort_cell, abs_tol=1e-4),
    hints=[
        "Start from `valid = metrics.valid_orders(orders)`; a customer's cohort is the month "
        "of their first *kept* purchase: `valid.groupby('customer_id')['order_ts'].min()`.",
        "Count customers, not orders: a customer with three December orders counts once.",
        "Last hint: month number `ts.dt.year * 12 + ts.dt.month`; k = month − the customer's first "
        "month; retention = customers of the cohort with an order at k = 1 / customers in the cohort.",
    ],
    solution=(
        "v = metrics.valid_orders(orders)\n"
        "month = v['order_ts'].dt.year * 12 + v['order_ts'].dt.month\n"
        "first = month.groupby(v['customer_id']).transform('min')\n"
        "cohort = v.groupby('customer_id')['order_ts'].transform('min').dt.strftime('%Y-%m')\n"
        f"in_cohort = cohort == '{Q3_COHORT}'\n"
        "size = v.loc[in_cohort, 'customer_id'].nunique()\n"
        "back = v.loc[in_cohort & (month - first == 1), 'customer_id'].nunique()\n"
        "answer = back / size"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def km_survival_reference(durations, observed, t: float) -> float:
    """Kaplan-Meier S(t) = Π_{event times t_i <= t} (1 − d_i / n_i) (Kaplan & Meier 1958).

    ``n_i``: customers still at risk just before ``t_i`` (duration >= t_i, censored ones
    included until their censoring time); ``d_i``: events at ``t_i``. Computed with
    ``statsmodels.duration.survfunc.SurvfuncRight``.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=int)
    sf = SurvfuncRight(d, e)
    times, surv = np.asarray(sf.surv_times), np.asarray(sf.surv_prob)
    i = np.searchsorted(times, t, side="right")
    return 1.0 if i == 0 else float(surv[i - 1])


def _km_cases() -> list[Case]:
    return [
        Case([2, 3, 3, 5, 5, 8, 9], [1, 1, 0, 1, 0, 0, 1], 5),  # ties: event and censoring at 3 and 5
        Case([2, 3, 3, 5, 5, 8, 9], [1, 1, 0, 1, 0, 0, 1], 1),  # before the first event
        Case([2, 3, 3, 5, 5, 8, 9], [1, 1, 0, 1, 0, 0, 1], 9),  # the last one at risk has the event
        Case([4, 4, 4, 10, 12], [1, 1, 0, 0, 1], 11),          # two events at one time
        Case([30, 45, 60, 60, 90, 120], [0, 1, 1, 0, 1, 0], 100),
    ]


q4 = Question(
    prompt="Write `km_survival(durations, observed, t)`: the **Kaplan-Meier** estimate of "
    "S(t), the share still without a second purchase at day `t`, from each customer's "
    "`durations` (days to the second purchase, or days observed if censored) and `observed` "
    "(1 = second purchase seen, 0 = censored). S(t) = Π over event times t_i ≤ t of "
    "(1 − d_i / n_i). Return a float; use NumPy or pandas, not a survival library.",
    kind=FunctionAnswer(km_survival_reference, cases=_km_cases, rtol=1e-9, atol=1e-12,
                        name="km_survival"),
    hints=[
        "At each distinct event time t_i: d_i = events at t_i, n_i = customers with "
        "duration ≥ t_i (those censored at t_i are still at risk at t_i).",
        "A censored customer leaves the risk set without an event: it never multiplies S by "
        "anything, it only shrinks later n_i.",
        "Last hint: `times = np.unique(d[e == 1]); times = times[times <= t]`, then "
        "`np.prod([1 - ((d == u) & (e == 1)).sum() / (d >= u).sum() for u in times])`.",
    ],
    solution=(
        "def km_survival(durations, observed, t):\n"
        "    d = np.asarray(durations, float)\n"
        "    e = np.asarray(observed, int)\n"
        "    times = np.unique(d[(e == 1) & (d <= t)])\n"
        "    at_risk = (d[None, :] >= times[:, None]).sum(axis=1)\n"
        "    events = ((d[None, :] == times[:, None]) & (e[None, :] == 1)).sum(axis=1)\n"
        "    return float(np.prod(1 - events / at_risk))"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def km_share_within(days: float) -> float:
    """Kaplan-Meier share of new customers with a second purchase within ``days``."""
    o = data("orders")
    km = derived(("ch04_cohorts", "km"), lambda: users.time_to_second_purchase(o).km())
    return float(km.loc[km["days"] <= days, "repurchased"].iloc[-1])


q5 = Question(
    prompt="Using the Kaplan-Meier curve of the time to the second purchase (censored customers "
    "kept), what share of new customers makes a **second purchase within 90 days** of the "
    "first? A fraction in [0, 1].",
    kind=NumberAnswer(expected=lambda: km_share_within(90), abs_tol=0.002),
    hints=[
        "`km = users.time_to_second_purchase(orders).km()` gives `days` and `repurchased`.",
        "Last hint: take the last row with `days <= 90`. Do not divide by the customers who "
        "already repurchased (that drops the censored) or by everyone (that counts a customer "
        "acquired last week as a non-repurchaser).",
    ],
    solution=(
        "km = users.time_to_second_purchase(orders).km()\n"
        "answer = km.loc[km['days'] <= 90, 'repurchased'].iloc[-1]"
    ),
)

__all__ = ["Q3_COHORT", "cohort_cell", "km_share_within", "km_survival_reference",
           "q1", "q2", "q3", "q4", "q5"]
