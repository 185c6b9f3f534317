"""ecomlab.search: the rank → CTR curve, opportunity, break-even bids, profit per order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import search


def _world(a=0.3, b=0.9, n=200, seed=1, form="power"):
    rng = np.random.default_rng(seed)
    rank = rng.integers(1, 40, n)
    imp = rng.integers(2_000, 50_000, n)
    ctr = a * rank ** -b if form == "power" else a * np.exp(-b * (rank - 1))
    return pd.DataFrame({"our_rank": rank, "impressions": imp, "clicks": rng.binomial(imp, ctr)})


# -- fit_ctr_curve ----------------------------------------------------------------------
def test_power_fit_recovers_known_parameters_with_intervals():
    fit = search.fit_ctr_curve(_world(a=0.3, b=0.9))
    assert fit.a == pytest.approx(0.3, abs=0.01) and fit.b == pytest.approx(0.9, abs=0.03)
    assert fit.a_ci[0] < fit.a < fit.a_ci[1] and fit.b_ci[0] < fit.b < fit.b_ci[1]
    assert 0.6 < fit.dispersion < 1.5  # binomial noise only
    assert fit.n == 200 and fit.excluded == {}


def test_geometric_fit_recovers_its_own_form_and_misfit_shows_in_dispersion():
    kw = _world(a=0.2, b=0.15, form="geometric")
    geo = search.fit_ctr_curve(kw, form="geometric")
    assert geo.a == pytest.approx(0.2, abs=0.01) and geo.b == pytest.approx(0.15, abs=0.01)
    assert search.fit_ctr_curve(kw, form="power").dispersion > 10 * geo.dispersion


def test_exact_curve_is_recovered_exactly():
    rank = np.arange(1, 11)
    kw = pd.DataFrame({"our_rank": rank, "impressions": 10**6, "clicks": np.round(10**6 * 0.25 * rank ** -0.7)})
    fit = search.fit_ctr_curve(kw)
    assert fit.a == pytest.approx(0.25, rel=1e-4) and fit.b == pytest.approx(0.7, rel=1e-4)


def test_rows_without_impressions_are_excluded_and_counted():
    kw = pd.concat([_world(), pd.DataFrame({"our_rank": [3, 4], "impressions": [0, 0], "clicks": [0, 0]})])
    assert search.fit_ctr_curve(kw).excluded == {"no impressions": 2}


def test_custom_column_names():
    kw = _world().rename(columns={"our_rank": "pos", "impressions": "imp", "clicks": "clk"})
    assert search.fit_ctr_curve(kw, rank="pos", impressions="imp", clicks="clk").n == 200


@pytest.mark.parametrize("bad, match", [
    (pd.DataFrame({"our_rank": [1, 2]}), "missing column"),
    (pd.DataFrame({"our_rank": [0, 2, 3], "impressions": [10] * 3, "clicks": [1] * 3}), ">= 1"),
    (pd.DataFrame({"our_rank": [1, 2, 3], "impressions": [10] * 3, "clicks": [1, 11, 1]}), "between 0"),
    (pd.DataFrame({"our_rank": [1, 2, 3], "impressions": [10] * 3, "clicks": [1, np.nan, 1]}), "missing value"),
    (pd.DataFrame({"our_rank": ["1", "2", "3"], "impressions": [10] * 3, "clicks": [1] * 3}), "numeric"),
    (pd.DataFrame({"our_rank": [1, 1, 1], "impressions": [10] * 3, "clicks": [1] * 3}), "2 or more ranks"),
    (pd.DataFrame({"our_rank": [], "impressions": [], "clicks": []}, dtype=float), "at least 3"),
    ("not a frame", "DataFrame"),
])
def test_fit_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        search.fit_ctr_curve(bad)


def test_fit_rejects_unknown_form():
    with pytest.raises(ValueError, match="form"):
        search.fit_ctr_curve(_world(), form="linear")


def test_predict_scalar_array_and_bad_rank():
    fit = search.CtrCurve("power", 0.3, 1.0, (0.3, 0.3), (1, 1), 1.0, 10)
    assert fit.predict(3) == pytest.approx(0.1) and isinstance(fit.predict(3), float)
    assert fit.predict(np.array([1, 2])).shape == (2,)
    with pytest.raises(ValueError, match=">= 1"):
        fit.predict([0, 1])
    with pytest.raises(ValueError, match="NaN"):
        fit.predict([np.nan])


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.01, 0.9), b=st.floats(0.0, 3.0), form=st.sampled_from(["power", "geometric"]),
       ranks=st.lists(st.floats(1, 500), min_size=2, max_size=20))
def test_curve_is_monotone_non_increasing_in_rank(a, b, form, ranks):
    fit = search.CtrCurve(form, a, b, (a, a), (b, b), 1.0, 10)
    r = np.sort(np.asarray(ranks))
    ctr = fit.predict(r)
    assert np.all(np.diff(ctr) <= 1e-15) and ctr[0] <= a + 1e-15 and np.all(ctr >= 0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), b=st.floats(0.3, 1.5))
def test_fitted_decay_is_non_negative_when_ctr_falls(seed, b):
    fit = search.fit_ctr_curve(_world(a=0.3, b=b, n=60, seed=seed))
    assert fit.b > 0
    assert np.all(np.diff(fit.predict(np.arange(1, 51))) <= 0)


# -- opportunity and break-even -----------------------------------------------------------
def test_opportunity_formula_and_broadcasting():
    got = search.opportunity([10_000, 20_000], 0.05, [0.15, 0.05], 0.04, 50.0, cost=[1_000.0, 0.0])
    np.testing.assert_allclose(got, [10_000 * 0.10 * 0.04 * 50 - 1_000, 0.0])


def test_opportunity_reports_losses_unclipped():
    assert search.opportunity(1000, 0.1, 0.2, 0.01, 10.0, cost=500.0)[0] == pytest.approx(-490.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"searches": -1}, "searches"), ({"ctr_now": 1.5}, "ctr_now"), ({"cr": -0.1}, "cr"),
    ({"profit_per_order": [np.nan]}, "NaN"), ({"searches": "many"}, "numeric"),
])
def test_opportunity_rejects_bad_input(kwargs, match):
    args = {"searches": 100, "ctr_now": 0.1, "ctr_target": 0.2, "cr": 0.03, "profit_per_order": 50.0} | kwargs
    with pytest.raises(ValueError, match=match):
        search.opportunity(**args)


@settings(max_examples=80, deadline=None)
@given(s1=st.floats(0, 1e6), extra=st.floats(0, 1e6), c0=st.floats(0, 0.5), gain=st.floats(0, 0.5),
       cr=st.floats(0, 1), gp=st.floats(0, 500), cost=st.floats(0, 1e5))
def test_opportunity_is_monotone_in_searches(s1, extra, c0, gain, cr, gp, cost):
    lo = search.opportunity(s1, c0, c0 + gain, cr, gp, cost)[0]
    hi = search.opportunity(s1 + extra, c0, c0 + gain, cr, gp, cost)[0]
    assert hi >= lo - 1e-6 * max(1.0, abs(lo))


def test_break_even_cpc():
    np.testing.assert_allclose(search.break_even_cpc([0.04, 0.0], 60.0), [2.4, 0.0])
    with pytest.raises(ValueError, match="cr"):
        search.break_even_cpc(1.2, 10.0)


# -- bid_verdicts -------------------------------------------------------------------------
def _kw():
    return pd.DataFrame({"category": ["a", "a", "b", "b"], "clicks": [5000, 5000, 20, 0],
                         "orders": [250, 25, 1, 0], "cpc": [1.0, 1.0, 1.0, 1.0]})


def test_bid_verdicts_push_cut_hold():
    v = search.bid_verdicts(_kw(), pd.Series({"a": 40.0, "b": 40.0}))
    assert v["verdict"].tolist() == ["push", "cut", "hold", "hold"]  # few clicks or none: cannot tell
    assert v.loc[0, "break_even_cpc"] == pytest.approx(0.05 * 40)
    assert np.isnan(v.loc[3, "cr"])
    assert (v["cr_low"].dropna() <= v["cr"].dropna()).all() and (v["cr"].dropna() <= v["cr_high"].dropna()).all()


def test_bid_verdicts_scalar_profit_and_point_rule_consistency():
    v = search.bid_verdicts(_kw(), 40.0)
    above = v["cpc"] > v["break_even_cpc"]
    assert not (v["verdict"].eq("cut") & ~above).any()  # a clear cut is above break-even at the point CR
    assert not (v["verdict"].eq("push") & above).any()


@pytest.mark.parametrize("profit, kw, match", [
    (pd.Series({"a": 40.0}), _kw(), "no value"),
    (40.0, _kw().assign(orders=[6000, 1, 1, 0]), "between 0"),
    (40.0, _kw().drop(columns="cpc"), "missing column"),
])
def test_bid_verdicts_rejects_bad_input(profit, kw, match):
    with pytest.raises(ValueError, match=match):
        search.bid_verdicts(kw, profit)


# -- profit_per_order ---------------------------------------------------------------------
def test_profit_per_order_allocates_discounts_and_skips_unkept_orders():
    o = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "status": ["completed", "completed", "refunded"],
                      "items_amount": [150.0, 50.0, 50.0], "discount_amount": [30.0, 0.0, 0.0]})
    li = pd.DataFrame({"order_id": ["o1", "o1", "o2", "o3"], "sku_id": ["s", "t", "s", "s"],
                       "quantity": [2, 1, 1, 1], "unit_price": [50.0, 50.0, 50.0, 50.0]})
    p = pd.DataFrame({"sku_id": ["s", "t"], "category": ["bath", "decor"], "unit_cost": [20.0, 30.0]})
    out = search.profit_per_order(o, li, p)
    # bath: o1 lines 100 - 40 - 30*(100/150) = 40, o2 50 - 20 = 30 -> 70 over 2 orders
    assert out.loc["bath", "orders"] == 2 and out.loc["bath", "profit_per_order"] == pytest.approx(35.0)
    # decor: 50 - 30 - 10 = 10 over 1 order
    assert out.loc["decor", "profit_per_order"] == pytest.approx(10.0)


def test_profit_per_order_rejects_unknown_sku_and_duplicate_products():
    o = pd.DataFrame({"order_id": ["o1"], "status": ["completed"], "items_amount": [10.0], "discount_amount": [0.0]})
    li = pd.DataFrame({"order_id": ["o1"], "sku_id": ["x"], "quantity": [1], "unit_price": [10.0]})
    p = pd.DataFrame({"sku_id": ["s"], "category": ["bath"], "unit_cost": [2.0]})
    with pytest.raises(ValueError, match="not in products"):
        search.profit_per_order(o, li, p)
    with pytest.raises(ValueError, match="unique"):
        search.profit_per_order(o, li, pd.concat([p, p]))
