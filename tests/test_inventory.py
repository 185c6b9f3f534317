"""ecomlab.inventory: textbook worked examples, properties, censored lost sales, the replay.

Worked examples: Chopra & Meindl, *Supply Chain Management* ch. 12 (safety inventory:
weekly demand 2,500 ± 500, 2-week lead time, ROP 6,000 -> CSL 0.92; daily demand 2,500 ±
500 with lead time 7 ± 7 days -> σ_L 17,550 and SS 22,491 at CSL 0.90); the unit normal
loss table of Silver, Pyke & Thomas (2017, appendix B: G(0) = 0.3989, G(1) = 0.0833,
G(2) = 0.0085); the newsvendor of Nahmias (2009, §5.3) with normal demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import inventory as iv


# --- textbook checks --------------------------------------------------------------------
def test_chopra_meindl_fixed_lead_time():
    sd_ltd = iv.lead_time_demand_sd(500, 2)            # weekly sd 500, L = 2 weeks
    assert sd_ltd == pytest.approx(707.1, abs=0.1)
    assert iv.reorder_point(2500, 2, 1000) == 6000
    assert iv.cycle_service_level(6000 - 5000, sd_ltd) == pytest.approx(0.92, abs=0.005)


def test_chopra_meindl_variable_lead_time():
    assert iv.lead_time_demand_sd(500, 7, 2500, 7) == pytest.approx(17550, abs=1)
    assert iv.safety_stock(0.90, 500, 7, 2500, 7) == pytest.approx(22491, abs=2)


def test_normal_loss_table():
    assert iv.normal_loss([0.0, 1.0, 2.0]) == pytest.approx([0.3989, 0.0833, 0.0085], abs=1e-4)


def test_newsvendor_normal_and_sample():
    assert iv.critical_ratio(60, 20) == 0.75
    assert iv.newsvendor_quantity(0.75, 100, 20) == pytest.approx(100 + 0.67449 * 20, abs=1e-3)
    assert iv.newsvendor_quantity(0.5, 100, 20) == pytest.approx(100)
    assert iv.newsvendor_quantity(0.5, demand_sample=[1, 2, 3, 4, 5]) == 3


def test_newsvendor_quantile_maximises_expected_profit():
    rng = np.random.default_rng(1)
    d = rng.normal(200, 40, 200_000)
    cu, co = 30.0, 10.0
    q_star = iv.newsvendor_quantity(iv.critical_ratio(cu, co), 200, 40)

    def profit(q):
        return np.mean(cu * np.minimum(d, q) - co * np.maximum(q - d, 0))
    assert profit(q_star) > profit(q_star - 10) and profit(q_star) > profit(q_star + 10)


def test_fill_rate_formula_by_hand():
    k, sd, q = 1.0, 50.0, 400.0
    assert iv.fill_rate(k * sd, sd, q) == pytest.approx(1 - sd * 0.0833 / q, abs=1e-4)


# --- properties ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.floats(-200, 200), st.floats(0.01, 100), st.floats(0.1, 300), st.floats(1, 1000))
def test_service_levels_monotone_in_safety_stock(ss, extra, sd, q):
    assert iv.cycle_service_level(ss + extra, sd) >= iv.cycle_service_level(ss, sd)
    assert iv.fill_rate(ss + extra, sd, q) >= iv.fill_rate(ss, sd, q)
    assert 0 <= iv.fill_rate(ss, sd, q) <= 1


@settings(max_examples=40, deadline=None)
@given(st.floats(0.51, 0.999), st.floats(0.01, 0.4), st.floats(1, 100))
def test_safety_stock_monotone_in_service_level(level, step, sd):
    hi = min(level + step, 0.9999)
    assert iv.safety_stock(hi, sd, 4) >= iv.safety_stock(level, sd, 4)


def test_fill_rate_above_cycle_service_level_is_not_a_law():
    """Large orders: fill rate > CSL; small orders and low k: fill rate < CSL. Both happen."""
    assert iv.fill_rate(0, 100, 500) > iv.cycle_service_level(0, 100)
    assert iv.fill_rate(0, 100, 40) < iv.cycle_service_level(0, 100)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.5, 8), st.integers(1, 10), st.integers(5, 60))
def test_replay_accounting_and_what_is_a_law(seed, lam, lead, q):
    """sold + lost = demand; fill rate in [0, 1]; a stockout cycle implies a fill rate below 1."""
    d = np.random.default_rng(seed).poisson(lam, (200, 3))
    r = iv.simulate_policy(d, lead, lam * lead, q, q)
    assert np.allclose(r.sold + r.lost, d)
    assert (r.stock >= -1e-9).all()
    assert 0 <= r.fill_rate <= 1
    if r.cycle_service_level < 1:
        assert r.fill_rate < 1


def test_replay_small_example_by_hand():
    # 4 units/day, lead time 2, ROP 4, Q 6, start 6: day 0 sells 4 (stock 2 <= 4: order 6),
    # day 1 sells 2 of 4 (2 lost), day 2 receives 6 and sells 4 (stock 2: order), ...
    r = iv.simulate_policy(np.full((4, 1), 4), 2, 4, 6, 6)
    assert r.sold[:, 0].tolist() == [4, 2, 4, 2]
    assert r.lost[:, 0].tolist() == [0, 2, 0, 2]
    assert r.by_sku.loc[0, "cycles"] == 1 and r.by_sku.loc[0, "stockout_cycles"] == 1
    assert r.fill_rate == pytest.approx(12 / 16)


# --- lost sales from censored sales ------------------------------------------------------
def _censored_world(seed=0, n_days=300, n_sku=8):
    rng = np.random.default_rng(seed)
    a = rng.uniform(2, 12, n_sku)
    b = np.where(rng.random(n_days) < 0.05, 4.0, 1.0) * rng.uniform(0.8, 1.2, n_days)
    demand = rng.poisson(b[:, None] * a[None, :])
    cap = np.where(rng.random((n_days, n_sku)) < 0.06, rng.integers(0, 4, (n_days, n_sku)), 10**6)
    sold = np.minimum(demand, cap)
    days = pd.date_range("2025-01-01", periods=n_days)
    inv = pd.DataFrame({"sku_id": np.tile([f"S{i}" for i in range(n_sku)], n_days),
                        "date": np.repeat(days, n_sku), "units_sold": sold.ravel(),
                        "stockout": (demand > sold).ravel()})
    return inv, int((demand - sold).sum())


def test_lost_sales_recovers_planted_losses():
    inv, true_lost = _censored_world()
    res = iv.lost_sales(inv)
    assert true_lost > 200
    assert res.total == pytest.approx(true_lost, rel=0.1)
    assert res.n_censored == int(inv["stockout"].sum())
    assert (res.table.loc[~inv["stockout"].to_numpy(), "lost"] == 0).all()
    assert len(res.table) == len(inv)


def test_lost_sales_validation():
    inv, _ = _censored_world(n_days=20, n_sku=3)
    with pytest.raises(ValueError, match="missing column"):
        iv.lost_sales(inv.drop(columns="stockout"))
    with pytest.raises(ValueError, match="empty"):
        iv.lost_sales(inv.iloc[:0])
    with pytest.raises(ValueError, match="duplicate"):
        iv.lost_sales(pd.concat([inv, inv.iloc[:1]]))
    bad = inv.copy()
    bad.loc[0, "units_sold"] = -1
    with pytest.raises(ValueError, match="non-negative"):
        iv.lost_sales(bad)
    out = inv.copy()
    out.loc[out["date"] == out["date"].min(), "stockout"] = True
    with pytest.raises(ValueError, match="every SKU is out of stock"):
        iv.lost_sales(out)


@pytest.mark.parametrize("call, match", [
    (lambda: iv.safety_stock(1.0, 10, 4), "strictly between"),
    (lambda: iv.safety_stock(0.9, -1, 4), "non-negative"),
    (lambda: iv.safety_stock(float("nan"), 1, 4), "strictly between"),
    (lambda: iv.cycle_service_level(10, 0), "positive"),
    (lambda: iv.fill_rate(10, 5, 0), "positive"),
    (lambda: iv.critical_ratio(0, 0), "positive"),
    (lambda: iv.newsvendor_quantity(0.8), "demand_mean"),
    (lambda: iv.newsvendor_quantity(0.8, demand_sample=[]), "non-empty"),
    (lambda: iv.simulate_policy(np.ones(5), 1, 1, 1, 1), "days × SKUs"),
    (lambda: iv.simulate_policy(np.ones((5, 1)), 0, 1, 1, 1), "at least 1 day"),
    (lambda: iv.simulate_policy(np.full((5, 1), np.nan), 1, 1, 1, 1), "without NaN"),
])
def test_hostile_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
