"""ecomlab.channels: known identities, hypothesis properties, a planted-truth fit, hostile input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import channels

spends = st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=60)
decays = st.floats(0, 0.95)


# -- identities --------------------------------------------------------------------------
@pytest.mark.parametrize("theta", [0.0, 0.3, 0.5, 0.9])
def test_steady_state_gain_of_geometric_adstock(theta):
    x = np.full(2000, 250.0)
    assert channels.geometric_adstock(x, theta)[-1] == pytest.approx(250.0)              # normalised: gain 1
    assert channels.geometric_adstock(x, theta, normalised=False)[-1] == pytest.approx(250.0 / (1 - theta))


def test_adstock_by_hand_and_robyn_conversion():
    x = np.array([100.0, 50.0, 0.0])
    a = channels.geometric_adstock(x, 0.4)
    assert a.tolist() == pytest.approx([60.0, 0.6 * 50 + 0.4 * 60, 0.4 * (0.6 * 50 + 0.4 * 60)])
    assert channels.geometric_adstock(x, 0.4, normalised=False) == pytest.approx(a / 0.6)
    assert channels.robyn_half_saturation(300.0, 0.4) == pytest.approx(500.0)
    # the Hill value is the same in either unit system once K is converted
    assert channels.hill(a / 0.6, 500.0) == pytest.approx(channels.hill(a, 300.0))


@given(st.floats(1e-3, 1e4), st.floats(1e-4, 10))
def test_logistic_saturation_is_tanh_half(a, lam):
    assert channels.logistic_saturation(a, lam) == pytest.approx(np.tanh(lam * a / 2), abs=1e-12)


@given(st.floats(1e-2, 1e6), st.floats(0.2, 5))
def test_hill_is_half_at_the_half_saturation_point(k, shape):
    assert channels.hill(k, k, shape) == pytest.approx(0.5)
    assert channels.hill(0.0, k, shape) == 0.0


# -- properties --------------------------------------------------------------------------
@given(spends, decays)
@settings(max_examples=60, deadline=None)
def test_normalised_adstock_preserves_total_spend(x, theta):
    x = np.asarray(x + [0.0] * 3000)           # a long tail of zero spend lets the carry-over run out
    a = channels.geometric_adstock(x, theta)
    assert a.sum() == pytest.approx(x.sum(), rel=1e-9, abs=1e-6)
    assert (a >= 0).all()


@given(st.floats(1.0, 1e4), st.floats(0.1, 1.0), st.floats(0, 0.9))
@settings(max_examples=40, deadline=None)
def test_response_curve_monotone_and_concave_for_shape_at_most_one(k, shape, theta):
    d = pd.date_range("2025-01-01", periods=60)
    x = np.linspace(50, 150, 60)
    beta, m = 10.0, np.linspace(0, 3, 31)
    rev = np.array([(beta * channels.hill(channels.geometric_adstock(x * v, theta), k, shape)).sum() for v in m])
    assert (np.diff(rev) >= -1e-9).all()
    assert (np.diff(rev, 2) <= 1e-7 * max(rev.max(), 1)).all()
    assert len(d) == len(x)


def test_response_curve_of_a_fit_is_monotone_and_concave(planted):
    fit, _ = planted
    rc = channels.response_curve(fit, "tv", np.linspace(0, 2, 21), window=60)
    r = rc["revenue"].to_numpy()
    # at m = 0 only the carry-over of spend before the window is left
    sp = fit.spend.copy()
    sp[0, -60:] = 0
    assert r[0] == pytest.approx(fit.contributions(sp)[0, -60:].sum()) and 0 < r[0] < r[10]
    assert (np.diff(r) > 0).all() and (np.diff(r, 2) < 1e-9).all()
    mr = channels.marginal_roas(fit, window=60)["tv"]
    assert 0 < mr < r[10] / rc["spend"].iloc[10]     # marginal below average under saturation


# -- a planted two-channel world ---------------------------------------------------------
@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(7)
    d = pd.date_range("2024-01-01", periods=500)
    week = np.arange(500) // 7
    x = pd.DataFrame({"tv": 300 * np.exp(rng.normal(0, 0.4, week.max() + 1))[week] * np.exp(rng.normal(0, .1, 500)),
                      "search": 200 * np.exp(rng.normal(0, 0.4, week.max() + 1))[week]}, index=d)
    mu = 5 + 30 * channels.hill(channels.geometric_adstock(x["tv"], 0.6), 250.0) \
        + 20 * channels.hill(channels.geometric_adstock(x["search"], 0.2), 150.0)
    y = pd.Series(rng.poisson(mu).astype(float), index=d)
    return channels.fit_mmm(x, y), {"tv": (0.6, 250.0), "search": (0.2, 150.0)}


def test_fit_recovers_a_planted_world(planted):
    fit, want = planted
    p = fit.params
    for c, (theta, k) in want.items():
        assert p.loc[c, "decay"] == pytest.approx(theta, abs=0.15)
        assert p.loc[c, "half_saturation"] == pytest.approx(k, rel=0.5)
    assert p["half_saturation_robyn"].to_numpy() == pytest.approx(p["half_saturation"] / (1 - p["decay"]))
    # quasi-Poisson fit reproduces the total (the Pearson-χ² fit would overshoot it)
    assert fit.predict().sum() == pytest.approx(fit.y.sum(), rel=0.01)


def test_bootstrap_intervals_bracket_the_estimate(planted):
    fit, _ = planted
    draws = channels.bootstrap_mmm(fit, n_boot=5, seed=1)
    t = channels.bootstrap_table(fit, draws)
    for c in ("decay", "half_saturation", "incremental_roas"):
        assert (t[f"{c}_lo"] <= t[f"{c}_hi"]).all()


def test_allocation_keeps_the_total_and_moves_to_the_higher_marginal_roas(planted):
    fit, _ = planted
    x = pd.DataFrame({"tv": fit.spend[0], "search": fit.spend[1]}, index=fit.dates)
    fits = {c: channels.fit_mmm(x[[c]], pd.Series(fit.contributions()[i], index=fit.dates), baseline=False)
            for i, c in enumerate(["tv", "search"])}
    plan = channels.allocate_budget(fits, bounds=(0.5, 1.5), window=60)
    assert plan["new_spend"].sum() == pytest.approx(plan["current_spend"].sum(), rel=1e-6)
    assert plan["new_sales"].sum() >= plan["current_sales"].sum() - 1e-9
    mr = pd.Series({c: channels.marginal_roas(f, window=60).iloc[0] for c, f in fits.items()})
    assert plan.loc[mr.idxmax(), "multiplier"] > 1 > plan.loc[mr.idxmin(), "multiplier"]
    g = channels.allocation_gain_draws(fits, plan["multiplier"], {c: [f.theta] for c, f in fits.items()}, window=60)
    assert g[0] == pytest.approx(plan["new_sales"].sum() - plan["current_sales"].sum())


def test_cac_by_channel_counts_and_inf():
    s = pd.DataFrame({"channel": ["a", "a", "b", "organic"], "spend": [100.0, 200.0, 50.0, 0.0],
                      "date": pd.to_datetime(["2025-01-05", "2025-04-02", "2025-01-09", "2025-01-01"])})
    c = pd.DataFrame({"acquisition_channel": ["a", "a", "a", "organic"],
                      "first_order_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-05-01", "2025-01-01"])})
    out = channels.cac_by_channel(s, c).set_index(["channel", "period"])
    assert out.loc[("a", pd.Timestamp("2025-01-01")), "cac"] == 50.0
    assert out.loc[("a", pd.Timestamp("2025-04-01")), "cac"] == 200.0
    assert np.isinf(out.loc[("b", pd.Timestamp("2025-01-01")), "cac"])     # spend, no customer: inf, kept
    assert "organic" not in out.index.get_level_values("channel")


# -- hostile input -----------------------------------------------------------------------
def test_hostile_input_is_named():
    with pytest.raises(ValueError, match="decay"):
        channels.geometric_adstock([1.0], 1.0)
    with pytest.raises(ValueError, match="NaN"):
        channels.geometric_adstock([1.0, np.nan], 0.5)
    with pytest.raises(ValueError, match="≥ 0"):
        channels.geometric_adstock([-1.0], 0.5)
    with pytest.raises(ValueError, match="one-dimensional"):
        channels.geometric_adstock([[1.0]], 0.5)
    assert channels.geometric_adstock([], 0.5).size == 0
    with pytest.raises(ValueError, match="half"):
        channels.hill(1.0, 0.0)
    with pytest.raises(ValueError, match="lam"):
        channels.logistic_saturation(1.0, -1.0)
    with pytest.raises(ValueError, match="customers"):
        channels.cac_by_channel(pd.DataFrame({"channel": [], "date": [], "spend": []}), pd.DataFrame({"x": []}))
    d = pd.date_range("2025-01-01", periods=10)
    x = pd.DataFrame({"tv": np.ones(10)}, index=d)
    with pytest.raises(ValueError, match="date index"):
        channels.fit_mmm(x, pd.Series(np.ones(9), index=d[:9]))
    gap = d.delete(3)
    with pytest.raises(ValueError, match="consecutive"):
        channels.fit_mmm(x.iloc[:9].set_axis(gap), pd.Series(np.ones(9), index=gap))
    with pytest.raises(ValueError, match="one column"):
        channels.fit_mmm(pd.DataFrame(index=d), pd.Series(np.ones(10), index=d))
    with pytest.raises(ValueError, match="bounds"):
        channels.allocate_budget({"tv": None}, bounds=(1.2, 1.5))
    with pytest.raises(ValueError, match="at least one"):
        channels.allocate_budget({})
