"""Tests for ecomlab.experiments (lesson 05-2), checked against statsmodels and SciPy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize, proportions_ztest
from statsmodels.stats.proportion import test_proportions_2indep as sm_2indep

from ecomlab import experiments as ex


def _ab(n=20_000, pc=0.032, pt=0.036, seed=0, rho=0.5):
    rng = np.random.default_rng(seed)
    v = np.repeat(["control", "treatment"], n)
    conv = rng.random(2 * n) < np.repeat([pc, pt], n)
    x = rng.normal(0, 1, 2 * n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(0, 1, 2 * n) + np.repeat([0.0, 0.02], n)
    return pd.DataFrame({"variant": pd.Categorical(v, categories=["control", "treatment"]), "converted": conv,
                         "revenue": 100 + 30 * y, "pre_revenue": 100 + 30 * x})


def test_sample_size_matches_statsmodels():
    r = ex.sample_size(0.032, mde_abs=0.004)
    h = proportion_effectsize(0.036, 0.032)
    n = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8)
    assert r.n_control == int(np.ceil(n)) and r.n_total == 2 * r.n_control
    assert r.n_control == pytest.approx(16 * 0.032 * 0.968 / 0.004**2, rel=0.1)  # Kohavi rule of thumb
    rel = ex.sample_size(0.032, mde_rel=0.125)
    assert rel.target_rate == pytest.approx(0.036)
    r2 = ex.sample_size(0.032, mde_abs=0.004, ratio=2.0)
    assert r2.n_treatment == pytest.approx(2 * r2.n_control, abs=1)
    for kwargs in ({}, {"mde_abs": 0.01, "mde_rel": 0.1}, {"mde_abs": 0.99}, {"mde_abs": 0.01, "alpha": 1.5}):
        with pytest.raises(ValueError):
            ex.sample_size(0.032, **kwargs)
    with pytest.raises(ValueError, match="baseline_rate"):
        ex.sample_size(0.0, mde_abs=0.01)


def test_duration_days():
    assert ex.duration_days(32197, 5000) == 14
    assert ex.duration_days(100, 10_000) == 7  # at least a whole week
    assert ex.duration_days(ex.sample_size(0.032, mde_abs=0.004), 5000) == 14
    with pytest.raises(ValueError, match="daily_visitors"):
        ex.duration_days(100, 0)
    with pytest.raises(ValueError, match="arms"):
        ex.duration_days(100, 10, arms=1)


def test_srm_flags_515_485_at_100k():
    df = pd.DataFrame({"variant": ["control"] * 51_500 + ["treatment"] * 48_500})
    r = ex.srm_check(df)
    ref = stats.chisquare([51_500, 48_500])
    assert r.srm and r.pvalue == pytest.approx(ref.pvalue) and r.chi2 == pytest.approx(90.0)
    ok = ex.srm_check(pd.DataFrame({"variant": ["control"] * 50_100 + ["treatment"] * 49_900}))
    assert not ok.srm
    weighted = ex.srm_check(pd.DataFrame({"variant": ["control"] * 9_000 + ["treatment"] * 1_000}),
                            expected={"control": 0.9, "treatment": 0.1})
    assert not weighted.srm and weighted.pvalue == pytest.approx(1.0)
    assert isinstance(r.to_frame(), pd.DataFrame) and "<table>" in r._repr_html_()


def test_srm_validation():
    with pytest.raises(ValueError, match="at least 2"):
        ex.srm_check(pd.DataFrame({"variant": ["control"] * 10}))
    with pytest.raises(ValueError, match="missing"):
        ex.srm_check(pd.DataFrame({"variant": ["control", None]}))
    with pytest.raises(ValueError, match="expected has"):
        ex.srm_check(pd.DataFrame({"variant": ["a", "b"]}), expected={"a": 0.5, "c": 0.5})
    with pytest.raises(ValueError, match="missing column"):
        ex.srm_check(pd.DataFrame({"arm": ["a"]}))
    # zero units in a declared category still counts
    cat = pd.Categorical(["control"] * 30, categories=["control", "treatment"])
    assert ex.srm_check(pd.DataFrame({"variant": cat})).srm


def test_proportion_test_matches_statsmodels():
    df = _ab()
    r = ex.proportion_test(df, variant="variant", outcome="converted")
    xc, xt = int(df.loc[df.variant == "control", "converted"].sum()), int(df.loc[df.variant == "treatment", "converted"].sum())
    ref = sm_2indep(xt, 20_000, xc, 20_000, method="wald", compare="diff")
    assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)
    # Wald z agrees with the classical pooled z-test to 3 decimals at this n
    z_pooled, p_pooled = proportions_ztest([xt, xc], [20_000, 20_000])
    assert r.statistic == pytest.approx(z_pooled, rel=1e-2)
    assert r.effect == pytest.approx(xt / 20_000 - xc / 20_000)
    # relative CI by hand: Katz log interval
    pt, pc = xt / 20_000, xc / 20_000
    se = np.sqrt((1 - pt) / xt + (1 - pc) / xc)
    lo = np.exp(np.log(pt / pc) - 1.959964 * se) - 1
    assert r.rel_effect_ci_lower == pytest.approx(lo, rel=1e-4)
    # CI excludes 0 exactly when p < alpha (wald test + wald CI)
    assert (r.effect_ci_lower > 0 or r.effect_ci_upper < 0) == (r.pvalue < 0.05)
    s = ex.proportion_test(df, variant="variant", outcome="converted", method="score")
    ref_s = sm_2indep(xt, 20_000, xc, 20_000, method="score", compare="diff", correction=False)
    assert s.pvalue == pytest.approx(ref_s.pvalue)


@settings(max_examples=25, deadline=None)
@given(st.integers(30, 400), st.integers(30, 400), st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.integers(0, 10_000))
def test_proportion_test_properties(nc, nt, pc, pt, seed):
    rng = np.random.default_rng(seed)
    y = np.r_[rng.random(nc) < pc, rng.random(nt) < pt]
    if y.all() or not y.any():
        return
    df = pd.DataFrame({"variant": ["control"] * nc + ["treatment"] * nt, "converted": y.astype(int)})
    r = ex.proportion_test(df, variant="variant", outcome="converted")
    assert 0 <= r.pvalue <= 1
    assert r.effect_ci_lower <= r.effect <= r.effect_ci_upper
    if np.isfinite(r.rel_effect_ci_lower):
        assert r.rel_effect_ci_lower <= r.rel_effect <= r.rel_effect_ci_upper


def test_proportion_test_validation():
    df = _ab(n=100)
    with pytest.raises(ValueError, match="besides control"):
        ex.proportion_test(df.assign(variant=df["variant"].astype(str).replace({"treatment": "B"})), variant="variant", outcome="converted")
    three = pd.concat([df, df.head(5).assign(variant="treatment_2")])
    with pytest.raises(ValueError, match="treatment_2"):
        ex.proportion_test(three, variant="variant", outcome="converted")
    with pytest.raises(ValueError, match="binary"):
        ex.proportion_test(df.assign(converted=2.0), variant="variant", outcome="converted")
    with pytest.raises(ValueError, match="bool or 0/1"):
        ex.proportion_test(df.assign(converted="yes"), variant="variant", outcome="converted")
    with pytest.raises(ValueError, match="missing"):
        ex.proportion_test(df.assign(converted=df["converted"].astype(float).where(df.index > 0)), variant="variant", outcome="converted")
    with pytest.raises(ValueError, match="no variation"):
        ex.proportion_test(df.assign(converted=False), variant="variant", outcome="converted")
    with pytest.raises(ValueError, match="has no rows"):
        ex.proportion_test(df[df["variant"] == "control"], variant="variant", outcome="converted")
    with pytest.raises(ValueError, match="missing column"):
        ex.proportion_test(df, variant="arm", outcome="converted")
    with pytest.raises(ValueError, match="pandas DataFrame"):
        ex.proportion_test([1, 2], variant="variant", outcome="converted")
    tiny = pd.DataFrame({"variant": ["control"] * 10 + ["treatment"] * 10, "converted": [0, 1] * 10})
    r = ex.proportion_test(tiny, variant="variant", outcome="converted")
    assert len(r.warnings) == 2


def test_mean_test_matches_scipy_welch():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"variant": ["control"] * 300 + ["treatment"] * 500,
                       "revenue": np.r_[rng.gamma(2, 50, 300), rng.gamma(2, 60, 500)]})
    r = ex.mean_test(df, variant="variant", metric="revenue")
    ref = stats.ttest_ind(df.revenue[300:], df.revenue[:300], equal_var=False)
    assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert r.effect_ci_lower == pytest.approx(ci.low) and r.effect_ci_upper == pytest.approx(ci.high)
    assert r.effect_ci_lower <= r.effect <= r.effect_ci_upper
    assert r.rel_effect_ci_lower <= r.rel_effect <= r.rel_effect_ci_upper
    assert r.rel_effect == pytest.approx(r.treatment_value / r.control_value - 1)
    fr = r.to_frame()
    assert fr.shape[0] == 1 and "pvalue" in fr.columns and "<table>" in r._repr_html_()


def test_mean_test_validation():
    df = pd.DataFrame({"variant": ["control", "control", "treatment", "treatment"], "revenue": [1.0, 1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match="zero variance"):
        ex.mean_test(df, variant="variant", metric="revenue")
    with pytest.raises(ValueError, match="numeric"):
        ex.mean_test(df.assign(revenue="1"), variant="variant", metric="revenue")
    with pytest.raises(ValueError, match="missing"):
        ex.mean_test(df.assign(revenue=[1.0, np.nan, 2.0, 3.0]), variant="variant", metric="revenue")
    with pytest.raises(ValueError, match="at least 2"):
        ex.mean_test(df.iloc[1:], variant="variant", metric="revenue")
    with pytest.raises(ValueError, match="has no rows"):
        ex.mean_test(df.iloc[:0], variant="variant", metric="revenue")


def test_cuped_variance_reduction_matches_rho_squared():
    df = _ab(n=20_000, rho=0.5)
    r = ex.cuped(df, metric="revenue", covariate="pre_revenue", variant="variant")
    assert r.rho == pytest.approx(0.5, abs=0.02)
    assert r.variance_reduction == pytest.approx(r.expected_reduction, abs=0.01)
    assert r.variance_reduction == pytest.approx(0.25, abs=0.02)
    assert r.ci_width_ratio == pytest.approx(np.sqrt(1 - r.rho**2), abs=0.01)
    assert r.adjusted.effect == pytest.approx(r.unadjusted.effect, abs=3 * (r.unadjusted.effect_ci_upper - r.unadjusted.effect_ci_lower))
    assert r.adjusted.metric == "revenue" and r.to_frame().shape[0] == 1
    with pytest.raises(ValueError, match="zero variance"):
        ex.cuped(df.assign(pre_revenue=1.0))


def test_peeking_inflates_fpr_and_obf_controls_it():
    r = ex.peeking_simulation(n_sims=2000, n_days=28, daily_n=1000, p=0.032, seed=0)
    assert r.fpr_peeking > 0.15
    assert abs(r.fpr_fixed - 0.05) < 0.015
    assert abs(r.fpr_obrien_fleming - 0.05) < 0.015
    assert r.first_significant_day.sum() == pytest.approx(r.fpr_peeking)
    with pytest.raises(ValueError, match="n_sims"):
        ex.peeking_simulation(n_sims=0)


def test_obrien_fleming_constant_matches_tables():
    b = ex.obrien_fleming_boundary(5, 0.05)
    assert b[-1] == pytest.approx(2.040, abs=0.02)  # Jennison & Turnbull Table 2.3
    assert b[0] == pytest.approx(2.040 * np.sqrt(5), abs=0.05)
    assert ex.obrien_fleming_boundary(1)[0] == pytest.approx(1.959964)


def test_decision_memo_rules():
    df = _ab(n=20_000, pc=0.032, pt=0.040)
    srm = ex.srm_check(df)
    res = ex.proportion_test(df, variant="variant", outcome="converted")
    memo = ex.decision_memo(res, srm, name="exp_checkout", mde=0.004, guardrails={"revenue": ex.mean_test(df)})
    assert "**Recommendation: Ship**" in memo and "## Guardrails" in memo and "pp" in memo
    bad = pd.DataFrame({"variant": ["control"] * 51_500 + ["treatment"] * 48_500})
    assert "Do not decide" in ex.decision_memo(res, ex.srm_check(bad), name="x", mde=0.004)
    null = _ab(n=2_000, pc=0.032, pt=0.032, seed=2)
    inc = ex.decision_memo(ex.proportion_test(null), ex.srm_check(null), name="x", mde=0.004)
    assert "Inconclusive" in inc or "Do not ship" in inc
    assert "CUPED" in ex.decision_memo(ex.cuped(df), srm, name="x", mde=1.0)
    with pytest.raises(ValueError, match="mde"):
        ex.decision_memo(res, srm, name="x", mde=-1)
    with pytest.raises(ValueError, match="srm"):
        ex.decision_memo(res, None, name="x", mde=0.01)


def _timed(n=6_000, days=7, seed=4, pc=0.03, pt=0.03):
    rng = np.random.default_rng(seed)
    v = rng.choice(["control", "treatment"], n)
    p = np.where(v == "treatment", pt, pc)
    return pd.DataFrame({"variant": v, "converted": rng.random(n) < p,
                         "assigned_at": pd.Timestamp("2025-10-06") + pd.to_timedelta(rng.uniform(0, days, n), unit="D")})


def test_cumulative_looks_match_proportion_test_at_every_look():
    df = _timed()
    looks = ex.cumulative_looks(df)
    assert len(looks) == 7 and list(looks["look"]) == list(range(1, 8))
    assert (looks["n_control"].diff().dropna() > 0).all()
    for _, row in looks.iterrows():
        upto = df[df["assigned_at"] < row["period"] + pd.Timedelta(days=1)]
        ref = ex.proportion_test(upto)
        assert row["pvalue"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert row["z"] == pytest.approx(ref.statistic, rel=1e-9)
        assert row["effect"] == pytest.approx(ref.effect)
        assert row["n_treatment"] == ref.n_treatment
    assert np.allclose(looks["obf_boundary"], ex.obrien_fleming_boundary(7))
    assert (looks["significant"] == (looks["pvalue"] < 0.05)).all()
    assert (looks["obf_significant"] == (looks["z"].abs() >= looks["obf_boundary"])).all()
    weekly = ex.cumulative_looks(df, freq="7D")
    assert len(weekly) <= 2 and weekly["n_control"].iloc[-1] == looks["n_control"].iloc[-1]


def test_cumulative_looks_no_variation_and_validation():
    df = _timed(n=200, days=3, pc=0.0, pt=0.0)
    df.loc[df.index[-1], "converted"] = True  # variation only at the last unit
    df = df.sort_values("assigned_at")
    looks = ex.cumulative_looks(df)
    assert looks["z"].isna().sum() >= 1 and not looks["significant"].iloc[0]
    with pytest.raises(ValueError, match="datetime"):
        ex.cumulative_looks(df.assign(assigned_at="2025-10-06"))
    with pytest.raises(ValueError, match="freq"):
        ex.cumulative_looks(df, freq="nonsense")
    with pytest.raises(ValueError, match="missing column"):
        ex.cumulative_looks(df, time_col="ts")
    with pytest.raises(ValueError, match="binary"):
        ex.cumulative_looks(df.assign(converted=3))


def test_recommendation_rules_and_guardrail_direction():
    srm_ok = ex.srm_check(pd.DataFrame({"variant": ["control", "treatment"] * 50}))

    def eff(lo, hi, metric="m", method="Welch t-test"):
        return ex.EffectResult(metric, method, 1.0, 1.0, 1000, 1000, (lo + hi) / 2, lo, hi, 0.0, 0.0, 0.0,
                               0.0, 0.01 if (lo > 0 or hi < 0) else 0.5, 0.05, bool(lo > 0 or hi < 0))

    assert ex.recommendation(eff(0.2, 1.0), srm_ok, mde=0.5).decision == "Ship"
    # significant with a worthwhile lift inside the CI ships even when the estimate (0.3) < mde
    assert ex.recommendation(eff(0.1, 0.5), srm_ok, mde=0.5).decision == "Ship"
    assert ex.recommendation(eff(0.1, 0.45), srm_ok, mde=0.5).decision == "Ship only if cheap"
    assert ex.recommendation(eff(-1.0, -0.1), srm_ok, mde=0.5).decision == "Do not ship"
    assert ex.recommendation(eff(-0.2, 0.3), srm_ok, mde=0.5).decision == "Do not ship"
    assert ex.recommendation(eff(-0.2, 0.8), srm_ok, mde=0.5).decision == "Inconclusive"
    bad = ex.srm_check(pd.DataFrame({"variant": ["control"] * 51_500 + ["treatment"] * 48_500}))
    assert ex.recommendation(eff(0.2, 1.0), bad, mde=0.5).decision == "Do not decide"
    # a guardrail that rose significantly is bad only when lower is better
    refunds_up = eff(0.01, 0.03, metric="refund_rate")
    assert ex.recommendation(eff(0.2, 1.0), srm_ok, mde=0.5, guardrails=[refunds_up]).decision == "Ship"
    r = ex.recommendation(eff(0.2, 1.0), srm_ok, mde=0.5, guardrails=[refunds_up], lower_is_better=["refund_rate"])
    assert r.decision == "Do not ship" and r.worse_guardrails == ("refund_rate",)
    rev_down = eff(-2.0, -0.5, metric="revenue")
    assert ex.recommendation(eff(0.2, 1.0), srm_ok, mde=0.5, guardrails={"rpv": rev_down}).decision == "Do not ship"
    assert ex.recommendation(eff(0.2, 1.0), srm_ok, mde=0.5, guardrails={"rpv": rev_down},
                             guardrail_tolerance=3.0).decision == "Ship"
    assert r.decision in ex.DECISIONS and "<table>" in r._repr_html_()
    with pytest.raises(ValueError, match="lower_is_better"):
        ex.recommendation(eff(0.2, 1.0), srm_ok, mde=0.5, lower_is_better=["nope"])
    with pytest.raises(ValueError, match="result"):
        ex.recommendation("x", srm_ok, mde=0.5)


def test_decision_memo_heading_level_and_agrees_with_recommendation():
    df = _ab(n=20_000, pc=0.032, pt=0.040)
    res, srm = ex.proportion_test(df), ex.srm_check(df)
    memo = ex.decision_memo(res, srm, name="exp_checkout", mde=0.004, heading_level=3)
    assert memo.startswith("### Experiment decision memo") and "\n#### Hypothesis" in memo
    assert f"**Recommendation: {ex.recommendation(res, srm, mde=0.004).decision}**" in memo
    with pytest.raises(ValueError, match="heading_level"):
        ex.decision_memo(res, srm, name="x", mde=0.004, heading_level=0)


def test_docstring_examples_run():
    import doctest

    failures, tried = doctest.testmod(ex, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 25 and failures == 0


@pytest.mark.parametrize(
    "values",
    [
        ["control", "treatment", "treatment", "control", "control"],  # str
        pd.Categorical(["control", "treatment", "treatment", "control", "control"],
                       categories=["treatment", "control", "unused"]),  # unused category is fine
        pd.array(["control", "treatment", "treatment", "control", "control"], dtype="object"),
    ],
)
def test_two_arms_masks_match_string_comparison(values):
    df = pd.DataFrame({"variant": values})
    c, t = ex._two_arms(df, "variant", "control", "treatment")
    as_str = df["variant"].astype(str).to_numpy()
    assert c.tolist() == (as_str == "control").tolist()
    assert t.tolist() == (as_str == "treatment").tolist()


def test_two_arms_compares_labels_as_text():
    """Integer arms are matched by their text, as the error messages name them."""
    c, t = ex._two_arms(pd.DataFrame({"arm": [0, 1, 1, 0]}), "arm", "0", "1")
    assert c.tolist() == [True, False, False, True] and t.tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match=r"variant\(s\) \['2'\]"):
        ex._two_arms(pd.DataFrame({"arm": [0, 1, 2]}), "arm", "0", "1")


def test_decide_scalar_array_and_validation():
    assert ex.decide(0.001, 0.003, mde=0.003) == "Ship"  # hi == mde still ships
    assert ex.decide(0.001, 0.0029, mde=0.003) == "Ship only if cheap"
    assert ex.decide(0.0, 0.004, mde=0.003) == "Inconclusive"  # lo == 0 is not significant
    assert ex.decide(-0.004, -0.001, mde=0.003) == "Do not ship"
    out = ex.decide(np.array([0.001, -0.002, -0.001]), np.array([0.004, 0.004, 0.002]), mde=0.003)
    assert out.tolist() == ["Ship", "Inconclusive", "Do not ship"]
    assert ex.decide(np.array([]), np.array([]), mde=0.003).tolist() == []
    with pytest.raises(ValueError, match="mde"):
        ex.decide(0.0, 0.1, mde=0)
    with pytest.raises(ValueError, match="mde"):
        ex.decide(0.0, 0.1, mde=True)
    with pytest.raises(ValueError, match="NaN"):
        ex.decide(np.nan, 0.1, mde=0.01)
    with pytest.raises(ValueError, match="lo must be <= hi"):
        ex.decide(0.2, 0.1, mde=0.01)
    with pytest.raises(ValueError, match="same shape"):
        ex.decide(np.zeros(2), np.zeros(3), mde=0.01)


@given(lo=st.floats(-1, 1), width=st.floats(0, 2), mde=st.floats(0.001, 1))
@settings(max_examples=200, deadline=None)
def test_decide_agrees_with_recommendation(lo, width, mde):
    srm_ok = ex.srm_check(pd.DataFrame({"variant": ["control", "treatment"] * 50}))
    hi = lo + width
    r = ex.EffectResult("m", "Welch t-test", 1.0, 1.0, 1000, 1000, (lo + hi) / 2, lo, hi, 0.0, 0.0, 0.0,
                        0.0, 0.01, 0.05, bool(lo > 0 or hi < 0))
    d = ex.decide(lo, hi, mde=mde)
    assert d == ex.recommendation(r, srm_ok, mde=mde).decision
    # shifting the whole CI up keeps a "Ship" and never creates a "Do not ship"
    up = ex.decide(lo + 0.5, hi + 0.5, mde=mde)
    assert up == "Ship" or d != "Ship"
    assert up != "Do not ship" or d == "Do not ship"


def test_decision_rates_power_matches_the_plan():
    plan = ex.sample_size(0.032, mde_abs=0.003, power=0.8)
    r = ex.decision_rates(0.032, plan.n_control, [0.0, 0.003, 0.006], mde=0.003, n_sims=8000, seed=3)
    assert list(r.index) == [0.0, 0.003, 0.006]
    assert r.loc[0.003, "Ship"] == pytest.approx(0.8, abs=0.02)  # the rule has the planned power
    assert r.loc[0.003, "estimate_ge_mde"] == pytest.approx(0.5, abs=0.02)  # the naive rule: a coin flip
    assert r.loc[0.0, "Ship"] == pytest.approx(0.025, abs=0.01)  # one-sided false ships
    assert r.loc[0.003, "ship_formula"] == pytest.approx(0.8, abs=0.005)
    assert r.loc[0.006, "Ship"] > 0.99
    assert np.allclose(r[["Ship", "Ship only if cheap", "Inconclusive", "Do not ship"]].sum(axis=1), 1.0)
    again = ex.decision_rates(0.032, plan.n_control, [0.0, 0.003, 0.006], mde=0.003, n_sims=8000, seed=3)
    pd.testing.assert_frame_equal(r, again)  # reproducible with a seed


def test_decision_rates_validation():
    with pytest.raises(ValueError, match="baseline_rate"):
        ex.decision_rates(0.0, 1000, [0.01], mde=0.01)
    with pytest.raises(ValueError, match="n_per_arm"):
        ex.decision_rates(0.03, 0, [0.01], mde=0.01)
    with pytest.raises(ValueError, match="n_per_arm"):
        ex.decision_rates(0.03, 10.5, [0.01], mde=0.01)
    with pytest.raises(ValueError, match="true_lifts"):
        ex.decision_rates(0.03, 1000, [], mde=0.01)
    with pytest.raises(ValueError, match="true_lifts"):
        ex.decision_rates(0.03, 1000, [np.nan], mde=0.01)
    with pytest.raises(ValueError, match="bad lift"):
        ex.decision_rates(0.03, 1000, [0.98], mde=0.01)
    with pytest.raises(ValueError, match="mde"):
        ex.decision_rates(0.03, 1000, [0.01], mde=-0.01)
