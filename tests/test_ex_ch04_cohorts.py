"""Exercise bank ch04_cohorts (lesson 04-2): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import pytest

from ecomlab import metrics, users
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch04_cohorts as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    return ds.load("orders"), ds.load("customers"), ds.load("marketing_daily")


def test_q1_repurchase_rate_2024(tables):
    orders, _, _ = tables
    valid = metrics.valid_orders(orders)
    right = metrics.repurchase_rate(valid, "2024-01-01", "2025-01-01")
    assert ex.q1.check(right).status == "correct"
    res = ex.q1.check(100 * right)
    assert res.status == "incorrect" and "fraction" in res.message
    # counting cancelled and refunded orders as purchases inflates it
    wrong = metrics.repurchase_rate(orders, "2024-01-01", "2025-01-01")
    assert abs(wrong - right) > 1e-3
    assert ex.q1.check(wrong).status == "incorrect"


def test_q2_return_purchase_rate(tables):
    orders, _, _ = tables
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


def test_q3_km_share_within_90_days(tables):
    orders, _, _ = tables
    sp = users.time_to_second_purchase(orders)
    km = sp.km()
    right = km.loc[km["days"] <= 90, "repurchased"].iloc[-1]
    assert ex.q3.check(right).status == "correct"
    t = sp.table
    within = t["observed"] & (t["duration_days"] <= 90)
    # censored customers counted as "no repeat": biased low
    assert ex.q3.check(within.mean()).status == "incorrect"
    # censored customers dropped: biased high
    res = ex.q3.check(within[t["observed"]].mean())
    assert res.status == "incorrect" and "too high" in res.message


def _p_alive_right(r, alpha, a, b, x, t_x, T):
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def _p_alive_no_zero_case(r, alpha, a, b, x, t_x, T):  # forgets that x = 0 means alive
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def _p_alive_ratio_inverted(r, alpha, a, b, x, t_x, T):
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + t_x) / (alpha + T)) ** (r + x))


def test_q4_p_alive_function():
    assert ex.q4.check(_p_alive_right).status == "correct"
    res = ex.q4.check(_p_alive_no_zero_case)
    assert res.status == "incorrect" and "case 4" in res.message
    res = ex.q4.check(_p_alive_ratio_inverted)
    assert res.status == "incorrect" and "case 1" in res.message
    assert ex.q4.check(lambda *args: ____).status == "not_attempted"


def test_q5_lowest_ltv_cac_channel(tables):
    orders, customers, marketing = tables
    ltv = users.historical_ltv(orders, customers, months=12)
    t = users.ltv_cac(ltv, marketing, customers, start="2024-01-01", end="2025-01-01")
    paid = t[~t["organic"]].set_index("acquisition_channel")
    right = paid["ltv_cac_ratio"].idxmin()
    assert ex.q5.check(right).status == "correct"
    # the typical slip: the channel with the lowest LTV, not the lowest LTV : CAC
    lowest_ltv = paid["ltv_amount"].idxmin()
    assert lowest_ltv != right
    assert ex.q5.check(lowest_ltv).status == "incorrect"
    res = ex.q5.check("organic_search")
    assert res.status == "incorrect" and "search_ads" in res.message  # lists the choices
