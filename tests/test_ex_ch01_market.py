"""Exercise bank ch01_market (lesson 01-1): right answers pass, the usual wrong answers fail
with a reason that names the mistake, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab.calendar import promotion_calendar
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch01_market as ex


@pytest.fixture(scope="module")
def market():
    use_data(None)
    from ecomlab import datasets as ds

    return ds.load("market")


def _year_cat(market, cat):
    return market[(market["month"].dt.year == 2025) & (market["category"] == cat)]


def test_q1_hhi_by_hand(market):
    sales = _year_cat(market, "kitchen").groupby("brand", observed=True)["sales_amount"].sum()
    share = sales / sales.sum()
    right = ((100 * share) ** 2).sum()
    assert 1000 < right < 10_000
    assert ex.q1.check(right).status == "correct"
    res = ex.q1.check((share ** 2).sum())               # squared fractions
    assert res.status == "incorrect" and "× 100" in res.message
    units = _year_cat(market, "kitchen").groupby("brand", observed=True)["units"].sum()
    res = ex.q1.check(((100 * units / units.sum()) ** 2).sum())
    assert res.status == "incorrect" and "unit shares" in res.message
    # the mean of the monthly HHIs is close but not the year's HHI the prompt asks for
    monthly = market[(market["month"].dt.year == 2025) & (market["category"] == "kitchen")]
    s = monthly.groupby(["month", "brand"], observed=True)["sales_amount"].sum()
    m_hhi = ((100 * s / s.groupby(level=0).transform("sum")) ** 2).groupby(level=0).sum().mean()
    assert m_hhi != pytest.approx(right, rel=1e-6) and ex.q1.check(m_hhi).status == "incorrect"
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_double11_growth_uses_the_calendar(market):
    cal = promotion_calendar([2024, 2025])
    peak = cal.loc[cal["name"] == "双11", "peak_date"].dt.to_period("M").dt.to_timestamp()
    s = market[market["category"] == "cleaning"].groupby("month")["sales_amount"].sum()
    right = s.loc[peak.iloc[1]] / s.loc[peak.iloc[0]] - 1
    assert ex.q2.check(right).status == "correct"
    res = ex.q2.check(s.loc["2025-11-01"] / s.loc["2025-10-01"] - 1)
    assert res.status == "incorrect" and "环比" in res.message
    full = s[s.index.year == 2025].sum() / s[s.index.year == 2024].sum() - 1
    res = ex.q2.check(full)
    assert res.status == "incorrect" and "full-year" in res.message
    res = ex.q2.check(100 * right)
    assert res.status == "incorrect" and "fraction" in res.message
    res = ex.q2.check(right + 1)
    assert res.status == "incorrect" and "ratio" in res.message


def test_q3_relative_share(market):
    sales = _year_cat(market, "decor").groupby("brand", observed=True)["sales_amount"].sum()
    share = sales / sales.sum()
    right = share["Nestwell"] / share.drop("Nestwell").max()
    assert 0 < right < 1
    assert ex.q3.check(right).status == "correct"
    res = ex.q3.check(share["Nestwell"])
    assert res.status == "incorrect" and "own share" in res.message
    res = ex.q3.check(1 / right)
    assert res.status == "incorrect" and "other way round" in res.message


def test_q4_price_index(market):
    t = _year_cat(market, "storage").groupby("brand", observed=True)[["sales_amount", "units"]].sum()
    t = t / t.sum()
    right = t.loc["Nestwell", "sales_amount"] / t.loc["Nestwell", "units"]
    assert right > 1
    assert ex.q4.check(right).status == "correct"
    res = ex.q4.check(1 / right)
    assert res.status == "incorrect" and "other way round" in res.message
    y = _year_cat(market, "storage")
    avg = y.groupby("month")["sales_amount"].sum() / y.groupby("month")["units"].sum()
    own = y[y["brand"] == "Nestwell"].set_index("month")["avg_price"]
    res = ex.q4.check((own / avg).mean())
    assert res.status == "incorrect" and "monthly price ratios" in res.message


def test_q5_shrinking_category(market):
    assert ex.q5.check("decor").status == "correct"
    assert ex.q5.check(pd.Series(["decor"])).status == "correct"
    assert ex.q5.check("storage").status == "incorrect"
    assert ex.q5.check(____).status == "not_attempted"


def test_expected_answers_are_finite(market):
    for v in (ex.hhi_of(), ex.promo_yoy(), ex.relative_share(), ex.price_index()):
        assert np.isfinite(v)
