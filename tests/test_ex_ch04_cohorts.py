"""Exercise bank ch04_cohorts (lesson 04-2): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pytest

from ecomlab import metrics, users
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch04_cohorts as ex


@pytest.fixture(scope="module")
def orders():
    use_data(None)
    from ecomlab import datasets as ds

    return ds.load("orders")


def test_q1_repurchase_rate_2024(orders):
    valid = metrics.valid_orders(orders)
    right = metrics.repurchase_rate(valid, "2024-01-01", "2025-01-01")
    assert ex.q1.check(right).status == "correct"
    res = ex.q1.check(100 * right)
    assert res.status == "incorrect" and "fraction" in res.message
    # counting cancelled and refunded orders as purchases inflates it
    wrong = metrics.repurchase_rate(orders, "2024-01-01", "2025-01-01")
    assert abs(wrong - right) > 1e-3
    assert ex.q1.check(wrong).status == "incorrect"
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_return_purchase_rate(orders):
    valid = metrics.valid_orders(orders)
    p24, p25 = ("2024-01-01", "2025-01-01"), ("2025-01-01", "2026-01-01")
    right = metrics.return_purchase_rate(valid, p24, p25)
    assert ex.q2.check(right).status == "correct"
    # the denominator swapped: 2025 buyers who had bought in 2024
    swapped = metrics.return_purchase_rate(valid, p25, p24)
    res = ex.q2.check(swapped)
    assert res.status == "incorrect" and "too low" in res.message
    # 复购率 of 2025 is a different KPI
    assert ex.q2.check(metrics.repurchase_rate(valid, *p25)).status == "incorrect"


def test_q3_cohort_cell_by_hand(orders):
    v = metrics.valid_orders(orders)
    month = v["order_ts"].dt.year * 12 + v["order_ts"].dt.month
    first = month.groupby(v["customer_id"]).transform("min")
    in_cohort = (first == 2024 * 12 + 11)
    size = v.loc[in_cohort, "customer_id"].nunique()
    back = v.loc[in_cohort & (month - first == 1), "customer_id"].nunique()
    assert ex.q3.check(back / size).status == "correct"
    assert 0 < ex.cohort_cell() < 1 and not np.isnan(ex.cohort_cell())
    # orders instead of customers: too high
    n_orders = int((in_cohort & (month - first == 1)).sum())
    assert n_orders > back
    res = ex.q3.check(n_orders / size)
    assert res.status == "incorrect" and "too high" in res.message
    # cohorts from all orders (a cancelled first order starts the clock): a different cell
    o_month = orders["order_ts"].dt.year * 12 + orders["order_ts"].dt.month
    o_first = o_month.groupby(orders["customer_id"]).transform("min")
    c_all = o_first == 2024 * 12 + 11
    wrong = orders.loc[c_all & (o_month - o_first == 1), "customer_id"].nunique() / orders.loc[c_all, "customer_id"].nunique()
    assert abs(wrong - back / size) > 1e-4
    assert ex.q3.check(wrong).status == "incorrect"
    # the same cell as the helper computes
    assert ex.q3.check(users.cohort_matrix(orders).matrix.loc["2024-11-01", 1]).status == "correct"


def _km_right(durations, observed, t):
    d = np.asarray(durations, float)
    e = np.asarray(observed, int)
    times = np.unique(d[(e == 1) & (d <= t)])
    at_risk = (d[None, :] >= times[:, None]).sum(axis=1)
    events = ((d[None, :] == times[:, None]) & (e[None, :] == 1)).sum(axis=1)
    return float(np.prod(1 - events / at_risk))


def _km_drops_censored(durations, observed, t):  # the usual slip: censored customers thrown away
    d = np.asarray(durations, float)
    e = np.asarray(observed, int)
    return float(1 - ((d <= t) & (e == 1)).sum() / (e == 1).sum())


def _km_censored_as_failures(durations, observed, t):  # the other slip: "not yet" counted as "never"
    d = np.asarray(durations, float)
    e = np.asarray(observed, int)
    return float(1 - ((d <= t) & (e == 1)).sum() / len(d))


def _km_ties_wrong(durations, observed, t):  # censored at t_i taken out of the risk set at t_i
    d = np.asarray(durations, float)
    e = np.asarray(observed, int)
    times = np.unique(d[(e == 1) & (d <= t)])
    at_risk = ((d[None, :] > times[:, None]) | ((d[None, :] == times[:, None]) & (e[None, :] == 1))).sum(axis=1)
    events = ((d[None, :] == times[:, None]) & (e[None, :] == 1)).sum(axis=1)
    return float(np.prod(1 - events / at_risk))


def test_q4_kaplan_meier_function():
    assert ex.q4.check(_km_right).status == "correct"
    for wrong in (_km_drops_censored, _km_censored_as_failures, _km_ties_wrong):
        res = ex.q4.check(wrong)
        assert res.status == "incorrect" and "case" in res.message, wrong.__name__
    assert ex.q4.check(lambda *args: ____).status == "not_attempted"
    res = ex.q4.check(0.5)
    assert res.status == "incorrect" and "function" in res.message


def test_q4_reference_agrees_with_the_helper(orders):
    sp = users.time_to_second_purchase(orders)
    km = sp.km()
    t = sp.table
    want = float(km.loc[km["days"] <= 30, "survival"].iloc[-1])
    got = ex.km_survival_reference(t["duration_days"], t["observed"].astype(int), 30)
    assert got == pytest.approx(want)
    assert _km_right(t["duration_days"].to_numpy(), t["observed"].to_numpy(int), 30) == pytest.approx(want)


def test_q5_km_share_within_90_days(orders):
    sp = users.time_to_second_purchase(orders)
    km = sp.km()
    right = km.loc[km["days"] <= 90, "repurchased"].iloc[-1]
    assert ex.q5.check(right).status == "correct"
    t = sp.table
    within = t["observed"] & (t["duration_days"] <= 90)
    # censored customers counted as "no repeat": biased low
    assert ex.q5.check(within.mean()).status == "incorrect"
    # censored customers dropped: biased high
    res = ex.q5.check(within[t["observed"]].mean())
    assert res.status == "incorrect" and "too high" in res.message
