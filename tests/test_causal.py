"""Tests for ecomlab.causal: the fan-group panel, difference-in-differences, the naive
member gap and matching, on simulated customers with a planted effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import causal as C

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
    p = C.fan_group_panel(o, c)
    a = p[p["customer_id"] == "a"].set_index("period", observed=True) if False else p[p["customer_id"] == "a"]
    assert a["orders"].tolist() == [1, 0]  # the 07-05 order is before joining (07-10)
    assert a["exposure_days"].tolist()[1] == (pd.Timestamp("2026-01-01") - pd.Timestamp("2025-07-10")).days
    assert p[p["customer_id"] == "b"]["orders"].tolist() == [0, 1]
    assert "c" not in set(p["customer_id"])  # acquired in 2025: excluded, counted
    assert p.attrs["excluded"]["customers: acquired on/after pre[0]"] == 1
    assert len(p) == 4
    with pytest.raises(ValueError, match="joined_fan_group_date"):
        C.fan_group_panel(o, c.drop(columns="joined_fan_group_date"))


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
    p = C.fan_group_panel(o, c).drop_duplicates("customer_id").set_index("customer_id")
    assert p.loc["a", "crm_orders"] == 2 and p.loc["b", "crm_orders"] == 1
    assert p.loc["a", "crm_recency_days"] == 31 and p.loc["b", "crm_recency_days"] == 306
    assert p.loc["a", "crm_member"] == 1 and p.loc["b", "crm_member"] == 0
    with pytest.raises(ValueError, match="member_join_date"):
        C.fan_group_panel(o, c.assign(member_join_date="2024-07-01"))


def test_fan_group_panel_counts_customers_without_orders_with_arrow_strings():
    """``customers: no purchase before post[1]`` counts by hash lookup on ``str`` ids (which
    replaced ``Series.isin``: that loops in Python on Arrow-backed strings, ~1 s at 30k)."""
    o = pd.DataFrame({"order_id": pd.array(["1", "2", "3"], dtype="str"),
                      "customer_id": pd.array(["a", "a", "b"], dtype="str"),
                      "order_ts": pd.to_datetime(["2024-06-01", "2025-08-01", "2024-03-01"]),
                      "status": ["completed"] * 3})
    c = pd.DataFrame({"customer_id": pd.array(["a", "b", "x", "y"], dtype="str"),
                      "joined_fan_group_date": pd.to_datetime(["2025-07-10", None, None, "2025-08-01"])})
    p = C.fan_group_panel(o, c)
    assert p.attrs["excluded"]["customers: no purchase before post[1]"] == 2  # x, y
    assert sorted(set(p["customer_id"])) == ["a", "b"]


def test_matching_assumptions_name_the_matched_covariates(fan_panel):
    ex = C.matching_estimate(fan_panel, covariates=("pre_orders", "tenure_days"))
    assert "pre_orders, tenure_days" in ex.assumptions and "unmeasured confounders" in ex.assumptions


