"""Exercise bank ch02_inventory (lesson 02-3): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch02_inventory as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    return ds.load("inventory"), ds.load("products").set_index("sku_id")


def test_the_sku_and_its_window(tables):
    inv, _ = tables
    assert ex.q_sku() == inv.groupby("sku_id")["units_sold"].sum().idxmax()
    x = ex.daily_sales()
    assert 30 < len(x) <= ex.WINDOW_DAYS and x.notna().all() and x.std() > 0
    assert x.index.max() < np.datetime64(ex.DECISION)


def test_q1_safety_stock_and_q2_reorder_point(tables):
    _, products = tables
    x, L = ex.daily_sales(), products.loc[ex.q_sku(), "lead_time_days"]
    ss = stats.norm.ppf(0.95) * x.std() * np.sqrt(L)
    assert ex.q1.check(ss).status == "correct"
    res = ex.q1.check(stats.norm.ppf(0.95) * x.std())
    assert res.status == "incorrect" and "lead time" in res.message
    assert ex.q1.check(1.96 * x.std() * np.sqrt(L)).status == "incorrect"
    assert ex.q1.check(____).status == "not_attempted"
    assert ex.q2.check(x.mean() * L + ss).status == "correct"
    res = ex.q2.check(x.mean() * L)
    assert res.status == "incorrect" and "safety stock" in res.message


def test_q3_ratio_and_q4_quantity(tables):
    inv, products = tables
    p, c = products.loc[ex.q_sku(), ["list_price", "unit_cost"]]
    cu, co = 0.8 * p - c, c * 0.25 * 60 / 365 + 0.10 * p
    r = cu / (cu + co)
    assert ex.q3.check(r).status == "correct"
    res = ex.q3.check(co / (cu + co))
    assert res.status == "incorrect" and "leftover" in res.message
    m = inv.loc[(inv["sku_id"] == ex.q_sku()) & inv["date"].between("2024-10-31", "2024-11-11"), "units_sold"].sum()
    assert m > 0
    assert ex.q4.check(m + 0.3 * m * stats.norm.ppf(r)).status == "correct"
    res = ex.q4.check(float(m))
    assert res.status == "incorrect" and "quantile" in res.message


def test_q5_mase(tables):
    inv, _ = tables
    w = inv[inv["sku_id"] == ex.q_sku()].set_index("date")["units_sold"].resample("W-SUN").sum()
    tr = w[w.index < ex.DECISION].to_numpy(float)
    te = w[w.index >= ex.DECISION].to_numpy(float)[:13]
    mae = np.abs(te - tr[-52:][:13]).mean()
    right = mae / np.abs(tr[52:] - tr[:-52]).mean()
    assert ex.q5.check(right).status == "correct"
    res = ex.q5.check(mae)
    assert res.status == "incorrect" and "divide" in res.message
    # the lag-1 naive scale is a different MASE
    wrong = mae / np.abs(np.diff(tr)).mean()
    assert abs(wrong - right) > 1e-3 and ex.q5.check(wrong).status == "incorrect"
