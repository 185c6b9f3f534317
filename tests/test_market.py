"""ecomlab.market: shares, concentration, price bands, year-on-year growth with a promotion
calendar, growth–share and the Granger lead test — unit tests with hand-computed values,
hostile inputs, and hypothesis properties (shares sum to 1 per category and month, HHI in
[0, 10,000], price bands partition sales)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import market as mk
from ecomlab.calendar import promotion_calendar


def _toy() -> pd.DataFrame:
    return pd.DataFrame({
        "category": ["a"] * 3 + ["b"] * 3,
        "brand": ["X", "Y", "Z"] * 2,
        "month": pd.Timestamp("2025-01-01"),
        "sales_amount": [50.0, 30.0, 20.0, 10.0, 10.0, 80.0],
        "units": [5, 5, 1, 1, 2, 4],
        "avg_price": [10.0, 6.0, 20.0, 10.0, 5.0, 20.0],
    })


# --- brand_shares ------------------------------------------------------------------------
def test_brand_shares_by_hand():
    s = mk.brand_shares(_toy(), within="category", units="units").set_index(["category", "brand"])
    assert s.loc[("a", "X"), "value_share"] == pytest.approx(0.5)
    assert s.loc[("a", "X"), "unit_share"] == pytest.approx(5 / 11)
    # value share / unit share = brand price / the market's average price
    assert s.loc[("a", "Z"), "price_index"] == pytest.approx((20 / 1) / (100 / 11))
    assert s.loc[("b", "Z"), "value_share"] == pytest.approx(0.8)


def test_brand_shares_sums_duplicate_rows_per_period():
    two_months = pd.concat([_toy(), _toy().assign(month=pd.Timestamp("2025-02-01"))])
    s = mk.brand_shares(two_months, within=["category"]).set_index(["category", "brand"])
    assert s.loc[("a", "X"), "sales_amount"] == 100.0
    assert s.loc[("a", "X"), "value_share"] == pytest.approx(0.5)


@pytest.mark.parametrize("bad, msg", [
    (lambda d: d.drop(columns="brand"), "missing column"),
    (lambda d: d.assign(sales_amount=-d["sales_amount"]), "non-negative"),
    (lambda d: d.assign(sales_amount=np.nan), "missing or infinite"),
    (lambda d: d.assign(sales_amount="12"), "numeric"),
    (lambda d: d.assign(sales_amount=0.0), "undefined"),
    (lambda d: d.iloc[:0], "empty"),
])
def test_brand_shares_refuses_hostile_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        mk.brand_shares(bad(_toy()), within="category")


def test_brand_shares_one_row():
    s = mk.brand_shares(_toy().head(1), within="category", units="units")
    assert s["value_share"].item() == 1.0 and s["price_index"].item() == 1.0


# --- concentration -------------------------------------------------------------------------
def test_hhi_by_hand_and_bounds():
    assert mk.hhi([1.0]) == 10_000
    assert mk.hhi([0.5, 0.3, 0.2]) == pytest.approx(3800)
    assert mk.hhi(np.full(10, 0.1)) == pytest.approx(1000)
    with pytest.raises(ValueError, match="sum to 1"):
        mk.hhi([50, 30, 20])
    with pytest.raises(ValueError, match="fractions"):
        mk.hhi([0.5, np.nan, 0.5])
    with pytest.raises(ValueError, match="non-empty"):
        mk.hhi([])


def test_concentration_by_hand():
    c = mk.concentration(_toy(), k=[1, 2]).set_index("category")
    assert c.loc["a", "hhi"] == pytest.approx(2500 + 900 + 400)
    assert c.loc["b", "cr1"] == pytest.approx(0.8) and c.loc["b", "leader"] == "Z"
    assert c.loc["a", "cr2"] == pytest.approx(0.8)
    assert c.loc["a", "equivalent_firms"] == pytest.approx(10_000 / 3800)
    # k larger than the number of brands: all of them
    assert mk.concentration(_toy(), k=[5])["cr5"].tolist() == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="positive integers"):
        mk.concentration(_toy(), k=[0])


# --- price bands ----------------------------------------------------------------------------
def test_price_bands_absolute_and_relative():
    b = mk.price_bands(_toy(), [0, 8, 15, np.inf], labels=["low", "mid", "high"])
    assert b["price_band"].astype(str).tolist() == ["mid", "low", "high", "mid", "low", "high"]
    assert b["price_band"].cat.ordered
    r = mk.price_bands(_toy(), [0, 1, np.inf], relative_to="category")
    # category a: average price 100 / 11 = 9.09; X at 10 is above it
    assert r.loc[0, "price_index"] == pytest.approx(10 / (100 / 11))
    assert r["price_band"].astype(str).tolist()[0] == "[1, inf)"


def test_price_bands_refuse_rows_outside_and_bad_edges():
    with pytest.raises(ValueError, match="outside the edges"):
        mk.price_bands(_toy(), [0, 8, 15])
    with pytest.raises(ValueError, match="strictly increasing"):
        mk.price_bands(_toy(), [0, 15, 8])
    with pytest.raises(ValueError, match="distinct names"):
        mk.price_bands(_toy(), [0, 8, np.inf], labels=["a"])
    with pytest.raises(ValueError, match="positive"):
        mk.price_bands(_toy().assign(avg_price=0.0), [0, np.inf])


# --- year on year with a promotion calendar -----------------------------------------------------
def _two_years(level=100.0, growth=0.1):
    months = pd.date_range("2024-01-01", periods=24, freq="MS")
    sales = np.r_[np.full(12, level), np.full(12, level * (1 + growth))]
    return pd.DataFrame({"category": "c", "month": months, "sales_amount": sales})


def test_yoy_growth_matches_months_and_reports_unmatched():
    g = mk.yoy_growth(_two_years(), 2025)
    assert g["yoy"].item() == pytest.approx(0.1) and g["n_months"].item() == 12
    assert g["yoy_low"].item() == pytest.approx(0.1) and g["yoy_high"].item() == pytest.approx(0.1)
    partial = _two_years().iloc[:-3]  # 2025 ends in September: compared with Jan-Sep 2024
    p = mk.yoy_growth(partial, 2025)
    assert p["n_months"].item() == 9 and p["n_unmatched"].item() == 3
    assert p["sales_prev"].item() == 900


def test_yoy_growth_compares_a_moved_promotion_with_itself():
    d = _two_years()
    d.loc[d["month"] == "2024-02-01", "sales_amount"] = 200.0   # 年货节 2024 falls in February
    d.loc[d["month"] == "2025-01-01", "sales_amount"] = 220.0   # ... and in January in 2025
    pm = mk.promotion_months(promotion_calendar([2024, 2025]), ["年货节"])
    g = mk.yoy_growth(d, 2025, promotions=pm)
    assert g["yoy_年货节"].item() == pytest.approx(0.1)       # promotion month vs promotion month
    assert g["yoy_other"].item() == pytest.approx(0.1)        # Jan and Feb left out of the rest
    naive = mk.yoy_growth(d, 2025)      # month by month: January +120%, February -45%: a wide interval
    assert naive["yoy_low"].item() < 0 < 0.3 < naive["yoy_high"].item()


def test_yoy_growth_refuses_bad_input():
    with pytest.raises(ValueError, match="integer year"):
        mk.yoy_growth(_two_years(), "2025")
    with pytest.raises(ValueError, match="must be dates"):
        mk.yoy_growth(_two_years().assign(month="2025-01"), 2025)
    with pytest.raises(ValueError, match="no month of 2025"):
        mk.yoy_growth(_two_years().iloc[12:], 2025)
    with pytest.raises(ValueError, match="promotions of the calendar"):
        mk.promotion_months(promotion_calendar(2025), ["Black Friday"])


# --- growth–share ---------------------------------------------------------------------------
def test_growth_share_by_hand_and_no_hidden_focal_brand():
    gs = mk.growth_share(_toy(), {"a": 0.3, "b": -0.1}, "X", growth_threshold=0.0).set_index("category")
    assert gs.loc["a", "relative_share"] == pytest.approx(0.5 / 0.3)
    assert gs.loc["a", "quadrant"] == "star"
    assert gs.loc["b", "relative_share"] == pytest.approx(0.1 / 0.8)
    assert gs.loc["b", "quadrant"] == "dog"
    with pytest.raises(ValueError, match="focal must be one of"):
        mk.growth_share(_toy(), {"a": 0.3, "b": -0.1}, "Nestwell")
    with pytest.raises(ValueError, match="no value for market"):
        mk.growth_share(_toy(), {"a": 0.3}, "X")


# --- Granger ----------------------------------------------------------------------------------
def test_granger_finds_a_planted_lead_and_not_a_fake_one():
    rng = np.random.default_rng(1)
    n = 60
    x = np.exp(np.cumsum(rng.normal(0, 0.1, n)))
    lead = np.r_[1.0, x[:-1]] * np.exp(rng.normal(0, 0.01, n))  # follows x one period later
    noise = np.exp(np.cumsum(rng.normal(0, 0.1, n)))
    months = pd.date_range("2020-01-01", periods=n, freq="MS")
    panel = pd.concat([pd.DataFrame({"category": "led", "month": months, "x": x, "y": lead}),
                       pd.DataFrame({"category": "unrelated", "month": months, "x": x, "y": noise})])
    g = mk.granger_lead(panel, leader="x", follower="y").set_index("category")
    assert g.loc["led", "p_holm"] < 0.001
    assert g.loc["unrelated", "p_value"] > 0.01
    assert (g["p_holm"] >= g["p_value"]).all()
    with pytest.raises(ValueError, match="usable periods"):
        mk.granger_lead(panel.groupby("category").head(6), leader="x", follower="y")
    with pytest.raises(ValueError, match="sharing the same"):
        mk.granger_lead(pd.concat([panel, panel]), leader="x", follower="y")
    exact = panel[panel["category"] == "led"].assign(y=np.r_[1.0, x[:-1]])   # no noise: a perfect fit
    with pytest.raises(ValueError, match="exactly"):
        mk.granger_lead(exact, leader="x", follower="y")


# --- properties -----------------------------------------------------------------------------
_market = st.integers(1, 4).flatmap(lambda n_brands: st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["2025-01-01", "2025-02-01"]),
              st.integers(0, n_brands - 1), st.floats(0.01, 1e6), st.integers(1, 10_000)),
    min_size=1, max_size=40))


def _frame(rows):
    d = pd.DataFrame(rows, columns=["category", "month", "brand", "sales_amount", "units"])
    d["brand"] = "B" + d["brand"].astype(str)
    d["month"] = pd.to_datetime(d["month"])
    d["avg_price"] = d["sales_amount"] / d["units"]
    return d


@settings(max_examples=60, deadline=None)
@given(_market)
def test_property_shares_sum_to_one_per_category_and_month(rows):
    s = mk.brand_shares(_frame(rows), within=["category", "month"], units="units")
    sums = s.groupby(["category", "month"])[["value_share", "unit_share"]].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-9)
    assert s["value_share"].between(0, 1).all()


@settings(max_examples=60, deadline=None)
@given(_market)
def test_property_hhi_within_bounds(rows):
    c = mk.concentration(_frame(rows), within=["category", "month"], k=[1, 3])
    assert c["hhi"].between(0, 10_000 + 1e-6).all()
    # at least the equal-share floor 10,000 / n and CR-1 ≤ CR-3 ≤ 1
    assert (c["hhi"] >= 10_000 / c["n_brands"] - 1e-6).all()
    assert (c["cr1"] <= c["cr3"] + 1e-12).all() and (c["cr3"] <= 1 + 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(_market, st.lists(st.floats(0.05, 5.0), min_size=1, max_size=4, unique=True))
def test_property_price_bands_partition_sales(rows, inner):
    d = _frame(rows)
    edges = [0.0, *sorted(inner), np.inf]
    b = mk.price_bands(d, edges, relative_to=["category", "month"])
    by_band = b.groupby("price_band", observed=False)["sales_amount"].sum()
    assert by_band.sum() == pytest.approx(d["sales_amount"].sum(), rel=1e-9)
    assert b["price_band"].notna().all() and len(b) == len(d)
