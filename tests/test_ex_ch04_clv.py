"""Exercise bank ch04_clv (lesson 04-3): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import users
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch04_clv as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    return ds.load("orders"), ds.load("customers"), ds.load("marketing_daily")


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


def test_q1_bgnbd_p_alive_function():
    assert ex.q1.check(_p_alive_right).status == "correct"
    res = ex.q1.check(_p_alive_no_zero_case)
    assert res.status == "incorrect" and "case 4" in res.message
    res = ex.q1.check(_p_alive_ratio_inverted)
    assert res.status == "incorrect" and "case 1" in res.message
    assert ex.q1.check(lambda *args: ____).status == "not_attempted"


def _mbg_right(r, alpha, a, b, x, t_x, T):
    return 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def test_q2_mbgnbd_p_alive_function():
    assert ex.q2.check(_mbg_right).status == "correct"
    # the BG/NBD formula is the typical slip: wrong already on case 1 (b + x − 1)
    res = ex.q2.check(_p_alive_right)
    assert res.status == "incorrect" and "case 1" in res.message
    # b + x but still 1 for one-time buyers: wrong on case 4 only
    res = ex.q2.check(lambda r, alpha, a, b, x, t_x, T: 1.0 if x == 0 else _mbg_right(r, alpha, a, b, x, t_x, T))
    assert res.status == "incorrect" and "case 4" in res.message
    assert 0 < ex.p_alive_mbg_reference(0.243, 4.414, 0.793, 2.426, 0, 0.0, 30.0) < 1


def _clv_right(cum, spend, margin, rate):
    cum = np.asarray(cum, float)
    d = (1 + rate) ** (1 / 12) - 1
    return float(margin * spend * (np.diff(cum) / (1 + d) ** np.arange(1, len(cum))).sum())


def test_q3_discounted_clv_function():
    assert ex.q3.check(_clv_right).status == "correct"
    # the reference agrees with users.clv on one customer
    s = pd.DataFrame({"frequency": [2.0], "recency": [30.43], "T": [38.86], "monetary_value": [30.0]})
    bg = users.BGNBDResult(0.243, 4.414, 0.793, 2.426, 0.0, 1, True, "", {})
    gg = users.GammaGammaResult(6.25, 3.74, 15.44, 0.0, 1, True, "", {}, {})
    row = users.clv(bg, gg, s, margin=0.4)
    months = np.arange(13) * 365.25 / 12 / 7
    cum = [float(users.expected_purchases(bg, t, 2, 30.43, 38.86)) for t in months]
    assert ex.discounted_clv_reference(cum, float(row["expected_spend"].iloc[0]), 0.4, 0.1) == pytest.approx(
        float(row["clv_amount"].iloc[0]))
    # annual rate / 12: slightly wrong, caught by the tight tolerance
    res = ex.q3.check(lambda c, s_, m, r: _clv_right(c, s_, m, 0) if r == 0 else float(
        m * s_ * (np.diff(np.asarray(c)) / (1 + r / 12) ** np.arange(1, len(c))).sum()))
    assert res.status == "incorrect" and "case 1" in res.message
    # no discounting at all
    res = ex.q3.check(lambda c, s_, m, r: float(m * s_ * (c[-1] - c[0])))
    assert res.status == "incorrect" and "too high" in res.message
    # cumulative values summed instead of monthly increments
    res = ex.q3.check(lambda c, s_, m, r: float(m * s_ * np.sum(c)))
    assert res.status == "incorrect"


def test_q4_customers_with_p_alive_one(tables):
    orders, _, _ = tables
    end = orders["order_ts"].max().normalize() + pd.Timedelta(days=1)
    s = users.rfm_summary(orders, calibration_end=end, freq="D")
    right = int((s["frequency"] == 0).sum())
    assert ex.q4.check(right).status == "correct"
    assert 0 < right < len(s)
    # all customers, or a share instead of a count
    assert ex.q4.check(len(s)).status == "incorrect"
    assert ex.q4.check(right / len(s)).status == "incorrect"
    # P(alive) = 1 exactly for these customers whatever the parameters
    pa = users.p_alive((0.3, 30.0, 0.8, 2.3), s["frequency"], s["recency"], s["T"])
    assert int((pa == 1.0).sum()) == right


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
