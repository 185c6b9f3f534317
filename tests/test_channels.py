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


# -- lift tests and calibration ----------------------------------------------------------
def _lift_rows(rng, n=40_000, base=0.01, extra=0.004, value=150.0):
    hold = rng.random(n) < 0.5
    conv = (rng.random(n) < base) | (~hold & (rng.random(n) < extra))
    return pd.DataFrame({"experiment_id": "lift", "variant": np.where(hold, "control", "treatment"),
                         "converted": conv, "revenue": np.where(conv, rng.gamma(2.0, value / 2, n), 0.0)})


def test_lift_test_roas_by_hand_and_against_a_bootstrap():
    rows = _lift_rows(np.random.default_rng(3))
    r = channels.lift_test_roas(rows, spend=5_000.0)
    t, c = rows.loc[rows["variant"] == "treatment", "revenue"], rows.loc[rows["variant"] == "control", "revenue"]
    assert r.n_exposed == len(t) and r.n_holdout == len(c)
    assert r.incremental_revenue == pytest.approx(len(t) * (t.mean() - c.mean()))
    assert r.se == pytest.approx(len(t) * np.sqrt(t.var() / len(t) + c.var() / len(c)))
    assert r.incremental_roas == pytest.approx(r.incremental_revenue / 5_000.0)
    assert r.roas_ci_low * 5_000.0 == pytest.approx(r.ci_low) and r.ci_low < r.incremental_revenue < r.ci_high
    assert (r.ci_high - r.ci_low) / 2 == pytest.approx(1.96 * r.se, rel=0.01)        # Welch t ≈ normal here
    ct, cc = rows.loc[rows["variant"] == "treatment", "converted"], rows.loc[rows["variant"] == "control", "converted"]
    assert r.incremental_conversions == pytest.approx(len(t) * (ct.mean() - cc.mean()))
    # the delta-method standard error agrees with a bootstrap of users within each arm
    rng = np.random.default_rng(0)
    tv, cv = t.to_numpy(), c.to_numpy()
    boot = [len(tv) * (rng.choice(tv, len(tv)).mean() - rng.choice(cv, len(cv)).mean()) for _ in range(300)]
    assert np.std(boot) == pytest.approx(r.se, rel=0.12)


def test_lift_test_roas_covers_the_planted_effect_in_most_replications():
    # 0.4 pp extra conversion × 20,000 exposed × 150 CNY = 12,000 CNY planted; 95% intervals
    hits = [channels.lift_test_roas(_lift_rows(np.random.default_rng(s)), 6_000.0, converted=None) for s in range(40)]
    planted = 0.004 * 150.0 * np.array([h.n_exposed for h in hits]) / 6_000.0
    inside = np.mean([h.roas_ci_low <= p <= h.roas_ci_high for h, p in zip(hits, planted, strict=True)])
    assert inside >= 0.85


def test_lift_test_roas_hostile_input():
    rows = _lift_rows(np.random.default_rng(1), n=2_000)
    with pytest.raises(ValueError, match="one experiment"):
        channels.lift_test_roas(rows.assign(experiment_id=np.arange(len(rows)) % 2), 100.0)
    for bad in (0.0, -5.0, np.nan, "100"):
        with pytest.raises(ValueError, match="spend"):
            channels.lift_test_roas(rows, bad)
    with pytest.raises(ValueError, match="missing"):
        channels.lift_test_roas(rows.assign(revenue=rows["revenue"].where(rows.index != 3)), 100.0)
    with pytest.raises(ValueError, match="besides"):
        channels.lift_test_roas(rows.assign(variant=rows["variant"].where(rows.index != 5, "exposed")), 100.0)
    with pytest.raises(ValueError, match="revenue"):
        channels.lift_test_roas(rows.drop(columns="revenue"), 100.0)
    # without a conversion column the conversions are not guessed
    assert channels.lift_test_roas(rows.drop(columns="converted"), 100.0).incremental_conversions is None


@pytest.fixture(scope="module")
def one_channel():
    """A single-channel world whose decay is poorly identified (little spend variation)."""
    rng = np.random.default_rng(11)
    d = pd.date_range("2024-01-01", periods=400)
    week = np.arange(400) // 7
    x = pd.DataFrame({"sv": 400 * np.exp(rng.normal(0, 0.15, week.max() + 1))[week]}, index=d)
    mu = 40 * channels.hill(channels.geometric_adstock(x["sv"], 0.6), 300.0)
    y = pd.Series(rng.poisson(mu).astype(float), index=d)
    return x, y, pd.Series(mu, index=d)


def test_window_roas_is_window_contribution_over_window_spend(one_channel):
    x, y, mu = one_channel
    f = channels.fit_mmm(x, y, baseline=False)
    w = slice("2024-08-01", "2024-08-28")
    assert channels.window_roas(f, "2024-08-01", "2024-08-28") == pytest.approx(
        f.contributions()[0][(x.index >= "2024-08-01") & (x.index <= "2024-08-28")].sum() / x.loc[w, "sv"].sum())
    with pytest.raises(ValueError, match="no fitted day"):
        channels.window_roas(f, "2026-01-01", "2026-01-28")
    with pytest.raises(ValueError, match="channel"):
        channels.window_roas(f, "2024-08-01", "2024-08-28", channel="tv")


def test_calibration_moves_the_window_towards_the_experiment_by_its_precision(one_channel):
    x, y, mu = one_channel
    free = channels.fit_mmm(x, y, baseline=False)
    a, b = "2024-08-01", "2024-08-28"
    inw = (x.index >= a) & (x.index <= b)
    m0 = free.contributions()[0][inw].sum()
    target = 1.3 * m0                                    # an experiment saying the model is 30% low
    lift = lambda se: pd.DataFrame({"channel": ["sv"], "start": [a], "end": [b], "incremental": [target], "se": [se]})  # noqa: E731
    sharp = channels.fit_mmm(x, y, baseline=False, lift=lift(target * 1e-4))
    vague = channels.fit_mmm(x, y, baseline=False, lift=lift(target * 1e3))
    mid = channels.fit_mmm(x, y, baseline=False, lift=lift(np.sqrt(m0)))
    got = lambda f: f.contributions()[0][inw].sum()     # noqa: E731
    assert got(sharp) == pytest.approx(target, rel=0.01)          # a precise experiment pins the window
    assert got(vague) == pytest.approx(m0, rel=0.01)              # a vague one changes nothing
    assert m0 < got(mid) < target                                  # in between: a compromise
    assert free.dispersion == pytest.approx(1.0, abs=0.2)          # Poisson data
    assert sharp.predict().sum() == pytest.approx(y.sum(), rel=0.05)


def test_calibrated_jacobian_matches_finite_differences(one_channel):
    from scipy.optimize import approx_fprime

    from ecomlab.channels import _jac, _resid

    x, y, _ = one_channel
    lift = pd.DataFrame({"channel": ["sv"], "start": ["2024-08-01"], "end": ["2024-08-28"],
                         "incremental": [600.0], "se": [40.0]})
    f = channels.fit_mmm(x.iloc[:200], y.iloc[:200], lift=lift.assign(start="2024-05-01", end="2024-05-28"))
    w = np.maximum(f.predict(), 1.0)
    th = f.theta + 0.05
    num = np.column_stack([approx_fprime(th, lambda t, j=j: _resid(t, f, f.y, w)[j], 1e-6)
                           for j in range(len(f.y) + 1)]).T
    assert _jac(th, f, f.y, w) == pytest.approx(num, rel=1e-3, abs=1e-4)


def test_calibrated_bootstrap_carries_the_experiments_error(one_channel):
    x, y, _ = one_channel
    a, b = "2024-08-01", "2024-08-28"
    f = channels.fit_mmm(x, y, baseline=False)
    m0 = channels.window_roas(f, a, b) * x.loc[a:b, "sv"].sum()
    lift = pd.DataFrame({"channel": ["sv"], "start": [a], "end": [b], "incremental": [m0], "se": [0.1 * m0]})
    cal = channels.fit_mmm(x, y, baseline=False, lift=lift)
    draws = channels.bootstrap_mmm(cal, n_boot=6, seed=2)
    wr = [channels.window_roas(cal, a, b, th=d) for d in draws]
    assert np.std(wr) > 0 and all(np.isfinite(wr))
    t = channels.bootstrap_table(cal, draws)
    assert (t["decay_lo"] <= t["decay_hi"]).all()


def test_lift_spec_hostile_input(one_channel):
    x, y, _ = one_channel
    ok = {"channel": ["sv"], "start": ["2024-08-01"], "end": ["2024-08-28"], "incremental": [500.0], "se": [50.0]}
    cases = [({**ok, "channel": ["tv"]}, "fitted channels"), ({**ok, "se": [0.0]}, "se"),
             ({**ok, "se": [np.nan]}, "se"), ({**ok, "incremental": ["a lot"]}, "incremental"),
             ({**ok, "start": ["2030-01-01"], "end": ["2030-01-28"]}, "holds none")]
    for spec, msg in cases:
        with pytest.raises(ValueError, match=msg):
            channels.fit_mmm(x, y, baseline=False, lift=pd.DataFrame(spec))
    with pytest.raises(ValueError, match="se"):
        channels.fit_mmm(x, y, baseline=False, lift=pd.DataFrame(ok).drop(columns="se"))
    with pytest.raises(ValueError, match="at least one row"):
        channels.fit_mmm(x, y, baseline=False, lift=pd.DataFrame(ok).iloc[:0])
