"""Exercise bank ch01_personas (lesson 01-2): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import metrics, positioning
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch01_personas as ex


@pytest.fixture(scope="module")
def survey():
    use_data(None)
    from ecomlab import datasets as ds

    return ds.load("survey")


def test_q1_z_score_by_hand(survey):
    x = survey["q_design_matters"].astype(float)
    z = (x - x.mean()) / x.std(ddof=0)
    right = z[survey["respondent_id"] == "R00003"].iloc[0]
    assert ex.q1.check(right).status == "correct"
    # the sample sd (ddof = 1) differs by 1.7e-5 on 3,000 rows: within the stated 1e-4
    assert ex.q1.check(((x - x.mean()) / x.std(ddof=1))[survey["respondent_id"] == "R00003"].iloc[0]).status == "correct"
    # the raw answer is diagnosed
    raw = float(survey.loc[survey["respondent_id"] == "R00003", "q_design_matters"].iloc[0])
    res = ex.q1.check(raw)
    assert res.status == "incorrect" and "raw" in res.message
    # another respondent's z-score
    assert ex.q1.check(z[survey["respondent_id"] == "R00001"].iloc[0]).status == "incorrect"
    assert ex.q1.check(____).status == "not_attempted"


def _ari_right(a, b):
    t = pd.crosstab(np.asarray(a), np.asarray(b)).to_numpy()
    c2 = lambda m: m * (m - 1) / 2  # noqa: E731
    s, sa, sb = c2(t).sum(), c2(t.sum(axis=1)).sum(), c2(t.sum(axis=0)).sum()
    e = sa * sb / c2(t.sum())
    return float((s - e) / ((sa + sb) / 2 - e))


def _rand_index_unadjusted(a, b):  # the usual slip: the plain Rand index (no chance correction)
    t = pd.crosstab(np.asarray(a), np.asarray(b)).to_numpy()
    c2 = lambda m: m * (m - 1) / 2  # noqa: E731
    n = t.sum()
    s, sa, sb = c2(t).sum(), c2(t.sum(axis=1)).sum(), c2(t.sum(axis=0)).sum()
    return float((c2(n) + 2 * s - sa - sb) / c2(n))


def _accuracy(a, b):  # labels compared as if cluster numbers meant something
    return float(np.mean(np.asarray(a, dtype=str) == np.asarray(b, dtype=str)))


def test_q2_ari_function():
    assert ex.q2.check(_ari_right).status == "correct"
    for wrong in (_rand_index_unadjusted, _accuracy):
        res = ex.q2.check(wrong)
        assert res.status == "incorrect" and "case" in res.message, wrong.__name__
    assert ex.q2.check(lambda *a: ____).status == "not_attempted"
    res = ex.q2.check(0.9)
    assert res.status == "incorrect" and "function" in res.message


def test_q3_gifter_profile_mean(survey):
    p = positioning.persona_clusters(survey, 4, seed=0)
    g = p.profiles["q_buys_gifts"].idxmax()
    right = survey.loc[p.labels == g, "monthly_home_spend"].mean()
    assert ex.q3.check(right).status == "correct"
    # another seed moves a few respondents at most: still within 1%
    p7 = positioning.persona_clusters(survey, 4, seed=7)
    g7 = p7.profiles["q_buys_gifts"].idxmax()
    assert ex.q3.check(survey.loc[p7.labels == g7, "monthly_home_spend"].mean()).status == "correct"
    res = ex.q3.check(survey["monthly_home_spend"].mean())
    assert res.status == "incorrect" and "all respondents" in res.message
    res = ex.q3.check(survey.loc[p.labels == g, "monthly_home_spend"].median())
    assert res.status == "incorrect" and "median" in res.message
    # the persona with the highest spend is not the gifters
    top = survey["monthly_home_spend"].groupby(p.labels).mean().max()
    assert ex.q3.check(top).status == "incorrect"


def test_q4_order_value_label(survey):
    from ecomlab import datasets as ds

    valid = metrics.valid_orders(ds.load("orders"))
    resp = survey.assign(persona=ex.personas())[["customer_id", "persona"]].dropna()
    mean = valid.merge(resp, on="customer_id").groupby("persona")["paid_amount"].mean()
    assert ex.q4.check(mean.idxmax()).status == "correct"
    assert ex.q4.check(mean.idxmax().upper()).status == "correct"   # case ignored
    assert ex.q4.check(mean.idxmin()).status == "incorrect"
    res = ex.q4.check("gifters")
    assert res.status == "incorrect"
    # the answer follows the planted order-value multipliers (gifters and design lovers highest)
    assert mean.idxmax() in ("occasional gifter", "design lover")
    assert mean.idxmin() == "budget organiser"


def test_q5_rule_with_looser_thresholds():
    kt = ex.k_table()
    ok = (kt["stability"] >= 0.85) & (kt["silhouette"] / kt["silhouette"].max() >= 0.6)
    right = int(kt.loc[ok, "k"].max())
    assert ex.q5.check(right).status == "correct"
    res = ex.q5.check(4)
    assert right != 4 and res.status == "incorrect" and "lesson's k" in res.message
    # the best silhouette alone is another answer
    assert ex.q5.check(int(kt.loc[kt["silhouette"].idxmax(), "k"])).status == "incorrect"


def test_expected_answers_are_finite_and_from_the_data():
    for v in (ex.z_score(), ex.gifter_spend(), float(ex.looser_k())):
        assert np.isfinite(v)
    assert ex.personas().nunique() == 4
    assert set(ex.personas()) == set(ex.SIGNATURES)
