"""Tests for ecomlab.causal: the fan-group panel, difference-in-differences, the naive
member gap, matching, balance, the event study and placebo tests, on simulated customers
with a planted effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import causal as C

DATES = ("2025-07-01", ("2025-01-01", "2025-07-01"), ("2025-07-01", "2026-01-01"))

# ------------------------------------------------------------------------------------
# fan groups: panel, DiD, naive gap, matching
# ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fan_panel():
    """Customers with λ ~ Gamma; joiners self-select on λ; joining multiplies the rate by 1.3."""
    rng = np.random.default_rng(11)
    n = 8000
    lam = rng.gamma(1.5, 1 / 1.5, n) * 0.4  # orders per 30 days
    p_join = 1 / (1 + np.exp(-(np.log(lam) + 0.3) * 2))
    joined = rng.random(n) < 0.5 * p_join
    pre = rng.poisson(lam * 6)
    exposure_post = np.where(joined, rng.uniform(60, 184, n), 184.0)
    post = rng.poisson(lam * exposure_post / 30 * np.where(joined, 1.3, 1.0))
    ids = np.array([f"C{i:07d}" for i in range(n)])
    return pd.DataFrame(
        {
            "customer_id": np.repeat(ids, 2),
            "post": np.tile([0, 1], n),
            "joined": np.repeat(joined.astype(int), 2),
            "orders": np.column_stack([pre, post]).ravel(),
            "exposure_days": np.column_stack([np.full(n, 181.0), exposure_post]).ravel(),
            "pre_orders": np.repeat(pre, 2),
            "recency_days": np.repeat(rng.uniform(1, 300, n), 2),
            "tenure_days": np.repeat(rng.uniform(200, 700, n), 2),
        }
    )


def test_did_recovers_effect_and_naive_overstates(fan_panel):
    did = C.did_estimate(fan_panel)
    assert did.ci_low <= 0.30 <= did.ci_high, did
    naive = C.naive_member_gap(fan_panel)
    assert naive.relative_effect > did.ci_high  # selection inflates the naive gap
    ols = C.did_estimate(fan_panel, model="ols")
    assert ols.ci_low <= 0.30 <= ols.ci_high
    assert "parallel trends" in did.assumptions
    assert len(did.to_frame()) == 1 and "EffectResult" in did._repr_html_()


def test_matching_reduces_selection_bias(fan_panel):
    naive = C.naive_member_gap(fan_panel)
    ex = C.matching_estimate(fan_panel, covariates=("pre_orders", "recency_days", "tenure_days"),
                             bins={"pre_orders": [-np.inf, *np.arange(0.5, 12.5), np.inf]})
    nn = C.matching_estimate(fan_panel, method="nn", covariates=("pre_orders",))
    assert ex.relative_effect < naive.relative_effect and nn.relative_effect < naive.relative_effect
    assert "unmeasured confounders" in ex.assumptions
    # matching on a noisy proxy of λ (pre-period orders) leaves some selection bias:
    assert ex.relative_effect > 0.30


def test_matching_recovers_effect_when_selection_is_on_observables():
    """Joining depends only on pre-period orders (observed): matching on them is unbiased."""
    rng = np.random.default_rng(5)
    n = 10_000
    lam = rng.gamma(1.5, 1 / 1.5, n) * 0.4
    pre = rng.poisson(lam * 6)
    joined = rng.random(n) < np.minimum(0.1 + 0.1 * pre, 0.8)
    post = rng.poisson(lam * 6 * np.where(joined, 1.3, 1.0))
    panel = pd.DataFrame(
        {"post": 1, "joined": joined.astype(int), "orders": post, "exposure_days": 184.0, "pre_orders": pre}
    )
    naive = C.naive_member_gap(panel)
    bins = {"pre_orders": [-np.inf, *np.arange(0.5, 10.5), np.inf]}
    ex = C.matching_estimate(panel, covariates=("pre_orders",), bins=bins)
    nn = C.matching_estimate(panel, covariates=("pre_orders",), method="nn")
    assert naive.relative_effect > 0.5
    for est in (ex, nn):
        assert est.ci_low <= 0.30 <= est.ci_high, est
    with pytest.raises(ValueError, match="method"):
        C.matching_estimate(fan_panel, method="psm")


def test_fan_group_panel_rules():
    o = pd.DataFrame(
        {
            "order_id": list("123456"),
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "order_ts": pd.to_datetime(["2024-06-01", "2025-03-01", "2025-07-05", "2024-05-01", "2025-09-01", "2025-02-01"]),
            "status": ["completed"] * 6,
        }
    )
    c = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "joined_fan_group_date": pd.to_datetime(["2025-07-10", None, "2025-08-01"])}
    )
    p = C.fan_group_panel(o, c, *DATES)
    a = p[p["customer_id"] == "a"].set_index("period", observed=True) if False else p[p["customer_id"] == "a"]
    assert a["orders"].tolist() == [1, 0]  # the 07-05 order is before joining (07-10)
    assert a["exposure_days"].tolist()[1] == (pd.Timestamp("2026-01-01") - pd.Timestamp("2025-07-10")).days
    assert p[p["customer_id"] == "b"]["orders"].tolist() == [0, 1]
    assert "c" not in set(p["customer_id"])  # acquired in 2025: excluded, counted
    assert p.attrs["excluded"]["customers: acquired on/after pre[0]"] == 1
    assert len(p) == 4
    with pytest.raises(ValueError, match="joined_fan_group_date"):
        C.fan_group_panel(o, c.drop(columns="joined_fan_group_date"), *DATES)


def test_did_validation(fan_panel):
    with pytest.raises(ValueError, match="model"):
        C.did_estimate(fan_panel, model="logit")
    with pytest.raises(ValueError, match="treated and control"):
        C.did_estimate(fan_panel.assign(joined=1))
    with pytest.raises(ValueError, match="exposure_days"):
        C.did_estimate(fan_panel.assign(exposure_days=0.0))


def test_fan_group_panel_crm_view_and_default_matching():
    """The CRM view at crm_date (default pre[0]) is in the panel and is what matching uses."""
    o = pd.DataFrame({"order_id": ["1", "2", "3", "4"], "customer_id": ["a", "a", "b", "a"],
                      "order_ts": pd.to_datetime(["2024-06-01", "2024-12-01", "2024-03-01", "2025-08-01"]),
                      "status": ["completed"] * 4})
    c = pd.DataFrame({"customer_id": ["a", "b"],
                      "joined_fan_group_date": pd.to_datetime(["2025-07-10", None]),
                      "member_join_date": pd.to_datetime(["2024-07-01", None])})
    p = C.fan_group_panel(o, c, *DATES).drop_duplicates("customer_id").set_index("customer_id")
    assert p.loc["a", "crm_orders"] == 2 and p.loc["b", "crm_orders"] == 1
    assert p.loc["a", "crm_recency_days"] == 31 and p.loc["b", "crm_recency_days"] == 306
    assert p.loc["a", "crm_member"] == 1 and p.loc["b", "crm_member"] == 0
    with pytest.raises(ValueError, match="member_join_date"):
        C.fan_group_panel(o, c.assign(member_join_date="2024-07-01"), *DATES)


def test_fan_group_panel_counts_customers_without_orders_with_arrow_strings():
    """``customers: no purchase before post[1]`` counts by hash lookup on ``str`` ids (which
    replaced ``Series.isin``: that loops in Python on Arrow-backed strings, ~1 s at 30k)."""
    o = pd.DataFrame({"order_id": pd.array(["1", "2", "3"], dtype="str"),
                      "customer_id": pd.array(["a", "a", "b"], dtype="str"),
                      "order_ts": pd.to_datetime(["2024-06-01", "2025-08-01", "2024-03-01"]),
                      "status": ["completed"] * 3})
    c = pd.DataFrame({"customer_id": pd.array(["a", "b", "x", "y"], dtype="str"),
                      "joined_fan_group_date": pd.to_datetime(["2025-07-10", None, None, "2025-08-01"])})
    p = C.fan_group_panel(o, c, *DATES)
    assert p.attrs["excluded"]["customers: no purchase before post[1]"] == 2  # x, y
    assert sorted(set(p["customer_id"])) == ["a", "b"]


def test_matching_assumptions_name_the_matched_covariates(fan_panel):
    ex = C.matching_estimate(fan_panel, covariates=("pre_orders", "tenure_days"))
    assert "pre_orders, tenure_days" in ex.assumptions and "unmeasured confounders" in ex.assumptions




def test_fan_group_panel_dates_are_required():
    o = pd.DataFrame({"order_id": ["1"], "customer_id": ["a"], "order_ts": pd.to_datetime(["2024-06-01"]),
                      "status": ["completed"]})
    c = pd.DataFrame({"customer_id": ["a"], "joined_fan_group_date": pd.to_datetime([None])})
    with pytest.raises(TypeError):
        C.fan_group_panel(o, c)  # no Nestwell dates as hidden defaults
    with pytest.raises(ValueError, match="pre\\[0\\] < pre\\[1\\]"):
        C.fan_group_panel(o, c, "2025-07-01", ("2025-07-01", "2025-01-01"), ("2025-07-01", "2026-01-01"))


# ------------------------------------------------------------------------------------
# matching weights and balance
# ------------------------------------------------------------------------------------


def test_cem_weights_reweight_controls_to_treated_strata():
    f = pd.DataFrame({"joined": [1, 1, 0, 0, 0, 1, 0], "x": [1, 1, 1, 2, 2, 5, np.nan]})
    w = C.cem_weights(f, covariates=["x"], bins={"x": [-np.inf, 1.5, 3, 4, np.inf]})
    # stratum x<1.5: 2 treated, 1 control -> control weight 2; x in [1.5,3): controls only -> 0;
    # x=5: treated without control -> unmatched; NaN: its own stratum, control only -> 0
    assert w.tolist() == [1.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0]
    assert w.attrs == {"strata_with_both": 1, "treated_unmatched": 1, "controls_unmatched": 3}
    assert w[f["joined"] == 0].sum() == w[f["joined"] == 1].sum()  # controls sum to matched treated
    with pytest.raises(ValueError, match="no bins for covariate 'y'"):
        C.cem_weights(f.assign(y=1.0), covariates=["y"])
    with pytest.raises(ValueError, match="'x' must be numeric"):
        C.cem_weights(f.assign(x="a"), covariates=["x"], bins={"x": [-np.inf, np.inf]})
    with pytest.raises(ValueError, match="covariates"):
        C.cem_weights(f, covariates="x")
    with pytest.raises(ValueError, match="joined"):
        C.cem_weights(f.assign(joined=2), covariates=["x"], bins={"x": [-np.inf, np.inf]})


def test_balance_table_smd_before_and_after():
    rng = np.random.default_rng(2)
    n = 4000
    x = rng.normal(size=n)
    d = rng.random(n) < 1 / (1 + np.exp(-2 * x))
    f = pd.DataFrame({"joined": d.astype(int), "x": x, "z": rng.normal(size=n), "flag": x > 0})
    bins = {"x": np.r_[-np.inf, np.linspace(-2.5, 2.5, 41), np.inf]}
    f["w"] = C.cem_weights(f, covariates=["x"], bins=bins).to_numpy()
    t = C.balance_table(f, covariates=["x", "z", "flag"], weights="w").set_index("covariate")
    sd = np.sqrt((x[d].var(ddof=1) + x[~d].var(ddof=1)) / 2)
    assert t.loc["x", "smd_before"] == pytest.approx((x[d].mean() - x[~d].mean()) / sd)
    assert t.loc["x", "smd_before"] > 0.8 and abs(t.loc["x", "smd_after"]) < 0.05
    assert abs(t.loc["z", "smd_before"]) < 0.1  # an irrelevant covariate stays balanced
    assert "smd_after" not in C.balance_table(f, covariates=["x"]).columns
    with pytest.raises(ValueError, match="treated and control"):
        C.balance_table(f.assign(joined=1), covariates=["x"])
    with pytest.raises(ValueError, match="'x' has 1 missing"):
        C.balance_table(f.assign(x=np.r_[np.nan, x[1:]]), covariates=["x"])
    with pytest.raises(ValueError, match="positive total"):
        C.balance_table(f, covariates=["x"], weights=np.where(d, 0.0, 1.0))


def test_weighted_cluster_se_is_the_textbook_sandwich():
    """statsmodels warns that cluster SEs are 'not fully supported' with var_weights; for
    fixed weights they equal the hand-computed sandwich (with its small-sample factor)."""
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    rng = np.random.default_rng(3)
    n = 1500
    g = np.repeat(np.arange(n), 2)
    d = np.repeat(rng.random(n) < 0.3, 2).astype(float)
    p = np.tile([0.0, 1.0], n)
    y = rng.poisson(np.repeat(rng.gamma(1, 1, n), 2) * (1 + 0.3 * d * p))
    w = np.repeat(rng.choice([0.5, 1.0, 3.0], n), 2)
    X = np.column_stack([np.ones(2 * n), d, p, d * p])
    fit = C._fit_robust(GLM(y, X, family=Poisson(), var_weights=w), g)
    mu = fit.predict()
    hinv = np.linalg.inv((X * (w * mu)[:, None]).T @ X)
    s = pd.DataFrame(X * (w * (y - mu))[:, None]).groupby(g).sum().to_numpy()
    v = hinv @ (s.T @ s) @ hinv * n / (n - 1) * (2 * n - 1) / (2 * n - 4)
    np.testing.assert_allclose(fit.bse, np.sqrt(np.diag(v)), rtol=1e-6)


def test_weighted_did_equals_ratio_of_weighted_cell_rates(fan_panel):
    rng = np.random.default_rng(4)
    w = np.repeat(rng.choice([0.0, 0.5, 2.0], len(fan_panel) // 2), 2)
    p = fan_panel.assign(w=w)
    res = C.did_estimate(p, weights="w")
    q = p[p["w"] > 0]
    cell = q.assign(wy=q["w"] * q["orders"], we=q["w"] * q["exposure_days"]).groupby(["joined", "post"])[["wy", "we"]].sum()
    r = cell["wy"] / cell["we"]
    assert res.relative_effect == pytest.approx(r[1, 1] / r[1, 0] / (r[0, 1] / r[0, 0]) - 1, rel=1e-6)
    assert res.excluded["rows: w == 0"] == int((w == 0).sum())
    assert "weighted by w" in res.method
    with pytest.raises(ValueError, match="'w' must be >= 0"):
        C.did_estimate(p.assign(w=-1.0), weights="w")


# ------------------------------------------------------------------------------------
# customer x period panel, event study, placebo tests
# ------------------------------------------------------------------------------------


def test_customer_period_panel_counts_and_exclusions():
    o = pd.DataFrame({"order_id": list("12345"), "customer_id": ["a", "a", "b", "z", "a"],
                      "order_ts": pd.to_datetime(["2025-01-31 23:59", "2025-02-01 00:00", "2025-02-27 00:00", "2025-01-03 00:00", "2025-03-01 00:00"]),
                      "status": ["completed", "completed", "completed", "completed", "cancelled"]})
    units = pd.DataFrame({"customer_id": ["a", "b", "c"], "joined": [1, 0, 0]})
    p = C.customer_period_panel(o, units, start="2025-01-01", end="2025-03-01")
    assert p["orders"].tolist() == [1, 1, 0, 1, 0, 0]
    assert p["exposure_days"].tolist() == [31.0, 28.0] * 3
    assert p["joined"].tolist() == [1, 1, 0, 0, 0, 0]
    assert p.attrs["excluded"] == {"status=cancelled": 1, "orders: outside [start, end)": 0,
                                   "orders: customer not in units": 1}
    with pytest.raises(ValueError, match="period edges"):
        C.customer_period_panel(o, units, start="2025-01-15", end="2025-03-01")
    with pytest.raises(ValueError, match="unique"):
        C.customer_period_panel(o, pd.concat([units, units]), start="2025-01-01", end="2025-03-01")
    with pytest.raises(ValueError, match="freq"):
        C.customer_period_panel(o, units, start="2025-01-01", end="2025-03-01", freq="bogus")


def _event_panel(n, effect, drift, seed):
    """Monthly panel: 6 leads, 4 lags; treated rate × effect after period 6; treated
    rate drifting by ``drift`` per period before (a parallel-trends failure)."""
    rng = np.random.default_rng(seed)
    units = pd.DataFrame({"customer_id": np.arange(n), "joined": (rng.random(n) < 0.3).astype(int)})
    lam = rng.gamma(2, 0.5, n)
    p = units.loc[units.index.repeat(10)].reset_index(drop=True)
    p["period"] = np.tile(np.arange(10), n)
    p["exposure_days"] = 30.0
    tr = p["joined"].to_numpy() == 1
    t = p["period"].to_numpy()
    mult = np.where(tr & (t >= 6), effect, 1.0) * np.where(tr, (1 + drift) ** np.minimum(t - 6, 0), 1.0)
    p["orders"] = rng.poisson(np.repeat(lam, 10) * mult)
    return p


def test_event_study_flat_leads_and_effect_in_lags():
    p = _event_panel(6000, 1.3, 0.0, 7)
    es = C.event_study(p, event_start=6)
    t = es.table.set_index("event_time")
    assert t.loc[-1, "reference"] and t.loc[-1, "relative_effect"] == 0
    assert list(t.index) == list(range(-6, 4)) and t["lead"].sum() == 6
    assert es.leads_df == 5 and es.leads_p_value > 0.01
    lags = t[~t["lead"]]
    assert ((lags["ci_low"] < 0.3) & (lags["ci_high"] > 0.3)).mean() >= 0.75
    assert (lags["relative_effect"] > 0.1).all()
    assert es.n_treated + es.n_control == 6000 and "EventStudyResult" in es._repr_html_()


def test_event_study_rejects_a_pre_trend_and_placebo_finds_it():
    p = _event_panel(6000, 1.0, 0.08, 8)
    es = C.event_study(p, event_start=6)
    assert es.leads_p_value < 0.001
    pl = C.placebo_tests(p, {"0-2 vs 3-5": ([0, 1, 2], [3, 4, 5])})
    assert not pl.loc[0, "covers_zero"] and pl.loc[0, "relative_effect"] > 0.1
    flat = C.placebo_tests(_event_panel(6000, 1.3, 0.0, 9), {"0-2 vs 3-5": ([0, 1, 2], [3, 4, 5])})
    assert flat.loc[0, "ci_low"] < 0 < flat.loc[0, "ci_high"]


def test_event_study_weights_and_validation():
    p = _event_panel(3000, 1.3, 0.0, 10)
    p["w"] = np.where(p["customer_id"] % 3 == 0, 0.0, 1.0)
    es = C.event_study(p, event_start=6, weights="w", reference=2)
    assert es.excluded["rows: w == 0"] == int((p["w"] == 0).sum())
    assert es.table.loc[es.table["reference"], "period"].item() == 2
    with pytest.raises(ValueError, match="two periods before"):
        C.event_study(p, event_start=1)
    with pytest.raises(ValueError, match="reference"):
        C.event_study(p, event_start=6, reference=7)
    with pytest.raises(ValueError, match="treated and control"):
        C.event_study(p.assign(joined=1), event_start=6)
    with pytest.raises(ValueError, match="cannot be compared"):
        C.event_study(p, event_start="2025-07")
    with pytest.raises(ValueError, match="'orders' must be >= 0"):
        C.event_study(p.assign(orders=-1), event_start=6)
    with pytest.raises(ValueError, match="alpha"):
        C.event_study(p, event_start=6, alpha=5)
    with pytest.raises(ValueError, match="empty"):
        C.event_study(p.iloc[:0], event_start=6)


def test_placebo_tests_validation():
    p = _event_panel(500, 1.0, 0.0, 11)
    with pytest.raises(ValueError, match="at least one"):
        C.placebo_tests(p, {})
    with pytest.raises(ValueError, match="disjoint"):
        C.placebo_tests(p, {"x": ([0, 1], [1, 2])})
    with pytest.raises(ValueError, match="not in panel"):
        C.placebo_tests(p, {"x": ([0], [42])})
    dated = p.assign(period=pd.Timestamp("2025-01-01") + pd.to_timedelta(p["period"] * 31, unit="D"))
    r = C.placebo_tests(dated, {"Jan vs Feb": ([pd.Timestamp("2025-01-01")], [pd.Timestamp("2025-02-01")])})
    assert r.loc[0, "before"] == "2025-01-01..2025-01-01"


def test_event_study_closed_form_equals_statsmodels_glm():
    """The closed-form saturated fit and its sandwich equal statsmodels' GLM (cluster-robust)."""
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    p = _event_panel(800, 1.3, 0.02, 12)
    p["w"] = np.where(p["customer_id"] % 4 == 0, 0.5, 2.0)
    p["exposure_days"] = np.where(p["period"] == 3, 28.0, 31.0)
    es = C.event_study(p, event_start=6, weights="w", reference=4, alpha=0.1)
    n_p, ref = 10, 4
    per = p["period"].to_numpy()
    d = p["joined"].to_numpy().astype(float)
    P = (per[:, None] == np.arange(n_p)).astype(float)
    inter = [k for k in range(n_p) if k != ref]
    X = np.column_stack([P, d, P[:, inter] * d[:, None]])
    fit = C._fit_robust(GLM(p["orders"].to_numpy(), X, family=Poisson(), offset=np.log(p["exposure_days"].to_numpy()),
                            var_weights=p["w"].to_numpy()), p["customer_id"].to_numpy())
    ci = np.asarray(fit.conf_int(0.1))[n_p + 1:]
    t = es.table[~es.table["reference"]]
    np.testing.assert_allclose(t["relative_effect"], np.expm1(fit.params[n_p + 1:]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(t["ci_low"], np.expm1(ci[:, 0]), rtol=1e-5)
    np.testing.assert_allclose(t["p_value"], fit.pvalues[n_p + 1:], rtol=1e-4, atol=1e-10)
    lead = [j for j, k in enumerate(inter) if k < 6]
    b, v = fit.params[n_p + 1:][lead], fit.cov_params()[n_p + 1:, n_p + 1:][np.ix_(lead, lead)]
    assert es.leads_chi2 == pytest.approx(float(b @ np.linalg.solve(v, b)), rel=1e-5)


def test_event_study_needs_orders_in_every_cell():
    p = _event_panel(300, 1.0, 0.0, 13)
    p.loc[(p["joined"] == 1) & (p["period"] == 2), "orders"] = 0
    with pytest.raises(ValueError, match="treated period 2"):
        C.event_study(p, event_start=6)
