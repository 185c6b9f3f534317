"""ecomlab.product: pricing helpers (elasticity estimators, margin-optimal price, promotions).

Textbook checks: the Lerner rule (p − c)/p = −1/e at p* = c·e/(1+e) (Lerner 1934); the
profit curve peaks at p*. Simulated worlds with a known elasticity check the estimators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import product


# -- the margin-optimal price ------------------------------------------------------------
def test_optimal_price_worked_example_and_lerner_rule():
    assert float(product.optimal_price(10.0, -2.0)) == pytest.approx(20.0)
    assert float(product.optimal_price(30.0, -4.0)) == pytest.approx(40.0)
    p = float(product.optimal_price(7.0, -1.6))
    assert (p - 7.0) / p == pytest.approx(1 / 1.6)
    np.testing.assert_allclose(product.optimal_price(np.array([1.0, 2.0]), np.array([-2.0, -3.0])), [2.0, 3.0])


@pytest.mark.parametrize("e", [-1.0, -0.9, 0.0, 0.5])
def test_optimal_price_refused_when_not_elastic(e):
    with pytest.raises(ValueError, match="elasticity must be < -1"):
        product.optimal_price(10.0, e)


@pytest.mark.parametrize("cost, e", [(0.0, -2.0), (-1.0, -2.0), (np.nan, -2.0), (10.0, np.nan)])
def test_optimal_price_hostile_input(cost, e):
    with pytest.raises(ValueError):
        product.optimal_price(cost, e)


@settings(max_examples=200, deadline=None)
@given(c=st.floats(0.01, 1e4), e1=st.floats(-50, -1.001), e2=st.floats(-50, -1.001))
def test_p_star_decreasing_in_abs_elasticity_and_above_cost(c, e1, e2):
    p1, p2 = float(product.optimal_price(c, e1)), float(product.optimal_price(c, e2))
    assert p1 > c and p2 > c
    if e1 < e2:          # more elastic (larger |e|) -> lower price
        assert p1 <= p2


@settings(max_examples=100, deadline=None)
@given(e=st.floats(-1.0, 10.0))
def test_p_star_undefined_for_inelastic_demand(e):
    with pytest.raises(ValueError):
        product.optimal_price(5.0, e)


def test_optimal_price_interval_maps_ci_ends_and_opens_at_minus_one():
    assert product.optimal_price_interval(10.0, -2.0, -3.0, -1.5) == (20.0, 15.0, 30.0)
    p, lo, hi = product.optimal_price_interval(10.0, -1.5, -2.0, -0.9)
    assert lo == pytest.approx(20.0) and p == pytest.approx(30.0) and hi == np.inf
    with pytest.raises(ValueError, match="ci_low <= elasticity <= ci_high"):
        product.optimal_price_interval(10.0, -2.0, -1.5, -3.0)


def test_profit_curve_peaks_at_p_star():
    grid = np.linspace(10.5, 60, 2000)
    cu = product.profit_curve(grid, cost=10.0, elasticity=-2.0, ref_price=20.0, ref_units=100.0)
    assert cu.loc[cu["profit"].idxmax(), "price"] == pytest.approx(20.0, abs=0.05)
    assert (cu["units"].diff().dropna() < 0).all()
    with pytest.raises(ValueError):
        product.profit_curve(np.array([0.0, 1.0]), cost=1.0, elasticity=-2.0, ref_price=1.0, ref_units=1.0)


# -- the estimators on a simulated world with a known elasticity ----------------------------
def _world(e: float = -2.0, n_sku: int = 30, n_days: int = 364, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n_days)
    week = np.arange(n_days) // 7
    mult = rng.choice([0.8, 0.9, 1.0, 1.1, 1.2], (week.max() + 1, n_sku))[week]
    base = rng.gamma(2.0, 0.2, n_sku)                              # sparse: most days sell nothing
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(n_days) / 364)
    lam = base[None, :] * season[:, None] * mult ** e
    return pd.DataFrame({"sku_id": np.tile([f"s{i:02d}" for i in range(n_sku)], n_days),
                         "category": "x", "date": np.repeat(dates, n_sku),
                         "price": (10 * mult).ravel(), "on_promotion": False,
                         "unit_cost": 5.0, "units": rng.poisson(lam).ravel()})


def test_naive_loglog_is_attenuated_and_poisson_recovers_the_truth():
    w = _world()
    naive = float(product.naive_loglog(w)["elasticity"].iloc[0])
    pois = product.poisson_elasticity(product.week_cells(w, origin="2024-01-01")).table.iloc[0]
    assert naive > -1.5                                   # far too close to zero
    assert pois["elasticity"] == pytest.approx(-2.0, abs=0.2)
    assert pois["ci_low"] < -2.0 < pois["ci_high"] or abs(pois["elasticity"] + 2) < 0.2
    assert float(product.naive_loglog(w)["dropped_share"].iloc[0]) > 0.3


def test_week_cells_keep_zero_cells_and_count_days():
    w = _world(n_sku=2, n_days=14)
    c = product.week_cells(w, origin="2024-01-01")
    assert c["days"].sum() == len(w) and c["units"].sum() == w["units"].sum()
    with pytest.raises(ValueError, match="origin"):
        product.week_cells(w, origin="2024-01-05")


def test_poisson_elasticity_hostile_input():
    c = product.week_cells(_world(n_sku=3, n_days=28), origin="2024-01-01")
    with pytest.raises(ValueError, match="cells"):
        product.poisson_elasticity(c.drop(columns="days"))
    with pytest.raises(ValueError, match="empty"):
        product.poisson_elasticity(c.iloc[0:0])
    with pytest.raises(ValueError, match="fewer than two prices"):
        product.poisson_elasticity(c.assign(price=10.0))
    with pytest.raises(ValueError, match="price and days"):
        product.poisson_elasticity(c.assign(units=-1))
    with pytest.raises(ValueError, match="period_weeks"):
        product.poisson_elasticity(c, period_weeks=0)


def test_panel_helpers_name_the_problem():
    w = _world(n_sku=2, n_days=14)
    with pytest.raises(ValueError, match="panel"):
        product.naive_loglog(w.drop(columns="units"))
    with pytest.raises(ValueError, match="empty"):
        product.naive_loglog(w.iloc[0:0])
    with pytest.raises(ValueError, match="price"):
        product.naive_loglog(w.assign(price=0.0))


# -- promotions ------------------------------------------------------------------------------
def _promo_world(lift: float = 3.0, after: float = 1.0, seed: int = 1, before: float = 1.0) -> pd.DataFrame:
    """40 SKUs, a 5-day promotion every 60 days from day 50; ``before`` / ``after`` scale the 7 days
    before / after each one (a planted dip)."""
    rng = np.random.default_rng(seed)
    n_days, n_sku = 400, 40
    dates = pd.date_range("2024-01-01", periods=n_days)
    promo = np.zeros(n_days, bool)
    mult = np.ones(n_days)
    for s in range(50, n_days - 20, 60):
        promo[s:s + 5] = True
        mult[s:s + 5] = lift
        mult[s + 5:s + 12] = after
        mult[s - 7:s] = before
    lam = 2.0 * mult[:, None] * np.ones((1, n_sku))
    return pd.DataFrame({"sku_id": np.tile([f"s{i}" for i in range(n_sku)], n_days), "category": "x",
                         "date": np.repeat(dates, n_sku), "price": 10.0, "on_promotion": np.repeat(promo, n_sku),
                         "unit_cost": 5.0, "units": rng.poisson(lam).ravel()})


def test_promotion_windows_are_runs_of_flagged_days():
    w = product.promotion_windows(_promo_world())
    assert len(w) == 6 and (w["days"] == 5).all()
    assert (w["end"] - w["start"]).dt.days.eq(4).all()


def test_promotion_lift_recovers_a_planted_lift_without_price_change():
    lift = product.promotion_lift(_promo_world(lift=3.0))
    assert len(lift) == 1 and lift["mean_depth"].iloc[0] == pytest.approx(0.0)
    assert lift["lift_low"].iloc[0] < 3.0 < lift["lift_high"].iloc[0] or lift["lift"].iloc[0] == pytest.approx(3.0, rel=0.05)
    with pytest.raises(ValueError, match="baseline_days"):
        product.promotion_lift(_promo_world(), baseline_days=0)


def test_promotion_lift_gap_days_removes_the_bias_of_a_dipped_baseline():
    w = _promo_world(lift=3.0, before=0.7)            # 30% dip in the 7 days before each promotion
    biased = product.promotion_lift(w, baseline_days=14)
    fixed = product.promotion_lift(w, baseline_days=14, gap_days=7)
    # the dipped baseline is (7 + 7 x 0.7) / 14 = 0.85 of normal: lift 3 / 0.85 = 3.53
    assert biased["lift_low"].iloc[0] > 3.2 and biased["lift"].iloc[0] == pytest.approx(3 / 0.85, rel=0.05)
    assert fixed["lift_low"].iloc[0] < 3.0 < fixed["lift_high"].iloc[0]
    assert fixed.attrs["windows_without_baseline"] == 0
    # a gap shorter than the dip zone leaves part of the bias
    part = product.promotion_lift(w, baseline_days=14, gap_days=3)
    assert fixed["lift"].iloc[0] < part["lift"].iloc[0] < biased["lift"].iloc[0]


def test_promotion_lift_default_gap_is_the_days_right_before():
    w = _promo_world(before=0.7)
    pd.testing.assert_frame_equal(product.promotion_lift(w), product.promotion_lift(w, gap_days=0))


@settings(max_examples=10, deadline=None)
@given(gap=st.integers(1, 10), k=st.integers(0, 50), price=st.floats(1.0, 50.0))
def test_promotion_lift_ignores_units_and_prices_in_the_gap(gap, k, price):
    w = _promo_world(seed=3)
    starts = product.promotion_windows(w)["start"]
    off = (w["date"].to_numpy()[:, None] - starts.to_numpy()[None, :]) / pd.Timedelta(days=1)
    in_gap = ((off >= -gap) & (off < 0)).any(axis=1)
    changed = w.assign(units=w["units"].where(~in_gap, k), price=w["price"].where(~in_gap, price))
    pd.testing.assert_frame_equal(product.promotion_lift(w, gap_days=gap), product.promotion_lift(changed, gap_days=gap))


def test_promotion_lift_windows_without_baseline_are_counted_or_refused():
    w = _promo_world()                                 # first promotion starts on day 50
    lift = product.promotion_lift(w, baseline_days=14, gap_days=50)
    assert lift.attrs["windows_without_baseline"] == 1 and lift["sku_windows"].sum() == 5 * 40
    first = w[w["date"] < pd.Timestamp("2024-01-01") + pd.Timedelta(days=100)]   # that window only
    with pytest.raises(ValueError, match="no promotion window has ordinary days in its baseline"):
        product.promotion_lift(first, baseline_days=14, gap_days=50)


@pytest.mark.parametrize("kwargs, match", [
    ({"gap_days": -1}, "gap_days must be an integer >= 0, got -1"),
    ({"gap_days": 1.5}, "gap_days must be an integer"),
    ({"gap_days": "7"}, "gap_days must be an integer"),
    ({"gap_days": True}, "gap_days must be an integer"),
    ({"baseline_days": 2.5}, "baseline_days must be an integer"),
    ({"alpha": 0.0}, "alpha must be in"),
])
def test_promotion_lift_hostile_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        product.promotion_lift(_promo_world(), **kwargs)


def test_promotion_lift_hostile_panels():
    w = _promo_world()
    with pytest.raises(ValueError, match="no promotion day"):
        product.promotion_lift(w.assign(on_promotion=False))
    with pytest.raises(ValueError, match="empty"):
        product.promotion_lift(w.iloc[0:0])
    with pytest.raises(ValueError, match="units"):
        product.promotion_lift(w.drop(columns="units"))


def _pf_world(share: float = 0.3, n_days: int = 500, gap: int = 60, first: int = 40, days: int = 3,
              lift: float = 3.0, weekday: bool = True, seed: int = 2) -> pd.DataFrame:
    """Daily orders with promotions of ``days`` days every ``gap`` days; ``share`` of each one's
    extra demand taken evenly from the 7 days before and the 7 after (as the world plants it)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n_days)
    wk = np.array([0.9, 0.9, 0.95, 1.0, 1.05, 1.1, 1.1]) if weekday else np.ones(7)
    base = 200.0 * wk[dates.day_of_week] * (1 + 0.2 * np.sin(2 * np.pi * np.arange(n_days) / 365))
    lam, promo = base.copy(), np.zeros(n_days, bool)
    for s in range(first, n_days, gap):
        e = min(s + days, n_days)
        promo[s:e] = True
        lam[s:e] = base[s:e] * lift
        extra = (base[s:e] * (lift - 1)).sum()
        around = np.r_[max(s - 7, 0):s, e:min(e + 7, n_days)]
        lam[around] *= 1 - share * extra / base[around].sum()
    return pd.DataFrame({"date": dates, "orders": rng.poisson(lam), "on_promotion": promo})


@pytest.mark.parametrize("share", [0.0, 0.3, 0.6])
def test_promotion_dip_recovers_a_planted_pull_forward_share(share):
    pf = product.promotion_dip(_pf_world(share=share))
    assert pf.ci_low <= share <= pf.ci_high
    assert pf.share == pytest.approx(share, abs=0.06)
    assert pf.windows["used"].all() and pf.excluded == {}
    assert len(pf.profile) == 14 and set(pf.profile["offset"]) == set(range(-7, 0)) | set(range(1, 8))
    if share > 0:   # the dip days sit below their baseline, and net = extra - dip
        assert (pf.profile["ratio"] < 1).all()
    np.testing.assert_allclose(pf.windows["net_extra"], pf.windows["extra"] - pf.windows["dip"])


def test_promotion_dip_baseline_leaves_out_a_neighbouring_promotions_dip_days():
    # promotions 24 days apart: each one's 28-day reference reaches the next one's dip zone;
    # a baseline that took those dipped days would be too low and the dips would shrink
    w = _pf_world(share=0.5, gap=24, n_days=400, weekday=False)
    pf = product.promotion_dip(w)
    assert pf.share == pytest.approx(0.5, abs=0.06)
    assert pf.windows["reference_days"].max() < 28 * 2


def test_promotion_dip_windows_at_the_data_edges_are_left_out_and_counted():
    w = _pf_world(first=3, gap=60, n_days=250)          # the first starts on day 3; the last ends on day 245 of 249
    pf = product.promotion_dip(w)
    assert pf.excluded == {"dip_zone_cut_by_data_start": 1, "dip_zone_cut_by_data_end": 1}
    assert list(pf.windows.loc[~pf.windows["used"], "reason"]) == ["dip_zone_cut_by_data_start", "dip_zone_cut_by_data_end"]
    assert pf.windows["used"].sum() == len(pf.windows) - 2


def test_promotion_dip_flat_baseline_when_reference_is_on_one_side_only():
    w = _pf_world(first=8, gap=80, n_days=420)         # first window: one reference day (day 0) before its dip zone
    pf = product.promotion_dip(w, min_reference=3)
    assert pf.windows["trend"].iloc[0] == "flat" and (pf.windows["trend"].iloc[1:] == "linear").all()
    assert pf.windows["used"].all()


def test_promotion_dip_overlapping_promotions_are_left_out():
    w = _pf_world(gap=60)
    w.loc[w.index[47], "on_promotion"] = True          # a one-day promotion inside the first one's after-dip
    pf = product.promotion_dip(w)
    assert pf.excluded.get("dip_zone_overlaps_another_promotion", 0) == 2


@settings(max_examples=15, deadline=None)
@given(k=st.integers(2, 50), seed=st.integers(0, 10_000))
def test_promotion_dip_share_is_scale_free_and_inside_its_interval(k, seed):
    w = _pf_world(seed=seed, n_days=300)
    a = product.promotion_dip(w)
    b = product.promotion_dip(w.assign(orders=w["orders"] * k))
    assert b.share == pytest.approx(a.share, rel=1e-6, abs=1e-9)
    assert a.ci_low <= a.share <= a.ci_high and a.std_error >= 0


def test_promotion_dip_hostile_input():
    w = _pf_world()
    with pytest.raises(ValueError, match="daily"):
        product.promotion_dip(w.drop(columns="orders"))
    with pytest.raises(ValueError, match="unique"):
        product.promotion_dip(pd.concat([w, w.iloc[[5]]]))
    with pytest.raises(ValueError, match="missing"):
        product.promotion_dip(w.drop(index=100))
    with pytest.raises(ValueError, match="counts >= 0"):
        product.promotion_dip(w.assign(orders=w["orders"].where(w.index != 9, -1)))
    with pytest.raises(ValueError, match="counts >= 0"):
        product.promotion_dip(w.assign(orders=w["orders"].astype(float).where(w.index != 9)))
    with pytest.raises(ValueError, match="around"):
        product.promotion_dip(w, around=0)
    with pytest.raises(ValueError, match="alpha"):
        product.promotion_dip(w, alpha=1.0)
    with pytest.raises(ValueError, match="empty"):
        product.promotion_dip(w.iloc[0:0])
    with pytest.raises(ValueError, match="at least two"):
        product.promotion_dip(w.iloc[:100])            # one usable window: no interval
    with pytest.raises(ValueError, match="ordinary days"):
        product.promotion_dip(w.assign(on_promotion=True))


def test_daily_demand_counts_placed_first_and_repeat_orders():
    o = pd.DataFrame({"order_id": list("abcde"), "customer_id": ["x", "y", "x", "y", "z"],
                      "status": ["completed", "cancelled", "refunded", "completed", "cancelled"],
                      "order_ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-02 09:00",
                                                  "2024-01-03 10:00", "2024-01-03 12:00"])})
    dp = pd.DataFrame({"sku_id": np.repeat(["s", "t"], 3), "date": np.tile(pd.date_range("2024-01-01", periods=3), 2),
                       "on_promotion": [False, True, False, False, False, False]})
    d = product.daily_demand(o, dp)
    assert d["orders"].tolist() == [1, 1, 1] and d["first_orders"].tolist() == [1, 0, 1]
    assert d["repeat_orders"].tolist() == [0, 1, 0] and d["on_promotion"].tolist() == [False, True, False]
    assert list(product.daily_demand(o.drop(columns="customer_id"), dp).columns) == ["date", "orders", "on_promotion"]
    with pytest.raises(ValueError, match="order_ts"):
        product.daily_demand(o.drop(columns="order_ts"), dp)
    with pytest.raises(ValueError, match="empty"):
        product.daily_demand(o, dp.iloc[0:0])


def test_period_effects_remove_the_bias_of_a_demand_shift_over_time():
    # period 2 tests higher prices AND has 1.6x demand: pooled cells read the shift as a
    # weaker price response; period fixed effects absorb it
    rng = np.random.default_rng(4)
    rows = []
    for t, (prices, level) in enumerate([((0.8, 1.0), 1.0), ((1.0, 1.2), 1.6)]):
        for s in range(20):
            for p in prices:
                rows.append({"sku_id": f"s{s}", "category": "x", "period": t, "price": p, "days": 90,
                             "units": rng.poisson(90 * 3.0 * level * p ** -2.0)})
    c = pd.DataFrame(rows)
    with_fe = float(product.estimate_elasticity(c.assign(units_per_day=c["units"] / c["days"])).table["elasticity"].iloc[0])
    pooled = c.groupby(["sku_id", "category", "price"], as_index=False)[["days", "units"]].sum()
    without = float(product.estimate_elasticity(pooled.assign(units_per_day=pooled["units"] / pooled["days"]))
                    .table["elasticity"].iloc[0])
    assert with_fe == pytest.approx(-2.0, abs=0.15)
    assert without > -2.0 + 0.4


def test_price_points_period_months_validated():
    with pytest.raises(ValueError, match="period_months"):
        product.price_points(pd.DataFrame(columns=["order_id", "sku_id", "quantity"]),
                             pd.DataFrame(columns=["order_id", "order_ts", "status"]),
                             pd.DataFrame(columns=["sku_id", "date", "price", "on_promotion"]),
                             pd.DataFrame(columns=["sku_id", "category", "launch_date"]), period_months=5)


def test_price_cell_wls_agrees_with_poisson_on_the_simulated_world():
    w = _world(seed=3)
    cells = w.groupby(["sku_id", "category", "price"], as_index=False).agg(days=("units", "size"), units=("units", "sum"))
    cells = cells[cells["units"] > 0].assign(units_per_day=lambda d: d["units"] / d["days"])
    wls = float(product.estimate_elasticity(cells).table["elasticity"].iloc[0])
    pois = float(product.poisson_elasticity(product.week_cells(w, origin="2024-01-01")).table["elasticity"].iloc[0])
    assert wls == pytest.approx(-2.0, abs=0.2) and abs(wls - pois) < 0.2


def test_poisson_leaves_out_skus_and_weeks_without_sales_and_counts_them():
    w = _world(n_sku=10, n_days=140, seed=5)
    dead = w["sku_id"].eq("s00") | (w["date"] < "2024-01-08")     # one SKU and the first week sell nothing
    w.loc[dead, "units"] = 0
    t = product.poisson_elasticity(product.week_cells(w, origin="2024-01-01")).table.iloc[0]
    assert t["cells_without_sales_info"] == 20 + 9                 # s00's 20 weeks + week 0 of the 9 others
    assert t["n_skus"] == 9 and t["elasticity"] == pytest.approx(-2.0, abs=0.4)
