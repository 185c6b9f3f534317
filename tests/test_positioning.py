"""ecomlab.positioning (personas: standardise, clusters, the k rule, naming, profiles,
behaviour) and ecomlab.swot (items with evidence, the TOWS check): unit and property tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import adjusted_rand_score

from ecomlab import positioning
from ecomlab.swot import Strategy, SwotItem, swot_table, tows_matrix

ITEMS = ["q_a", "q_b", "q_c"]


def planted_survey(n_per: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three well-separated groups on three Likert items, plus demographics."""
    rng = np.random.default_rng(seed)
    means = np.array([[4.6, 1.5, 2.0], [1.5, 4.6, 2.0], [2.0, 2.0, 4.7]])
    g = np.repeat(np.arange(3), n_per)
    x = np.clip(np.round(means[g] + rng.normal(0, 0.5, (len(g), 3))), 1, 5).astype(int)
    df = pd.DataFrame(x, columns=ITEMS)
    df["gender"] = rng.choice(["female", "male"], len(g))
    df["spend"] = np.where(g == 0, 200.0, 600.0) + rng.normal(0, 10, len(g))
    df["channel"] = np.where(g == 2, "live", "market")
    return df, g


# ------------------------------------------------------------------ standardise
def test_standardise_matches_the_formula():
    s = pd.DataFrame({"q1": [1, 3, 5, 5], "q2": [2, 2, 4, 1]})
    z = positioning.standardise(s, ["q1", "q2"])
    want = (s - s.mean()) / s.std(ddof=0)
    pd.testing.assert_frame_equal(z, want.astype(float))


@pytest.mark.parametrize("bad, msg", [
    (pd.DataFrame({"q1": [1, np.nan, 3]}), "missing answers"),
    (pd.DataFrame({"q1": ["a", "b", "c"]}), "must be numeric"),
    (pd.DataFrame({"q1": [True, False, True]}), "must be numeric"),
    (pd.DataFrame({"q1": [3, 3, 3]}), "same answer for every respondent"),
    (pd.DataFrame({"q1": pd.Series([], dtype=float)}), "empty"),
    (pd.DataFrame({"q2": [1, 2]}), "missing column"),
])
def test_standardise_rejects_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        positioning.standardise(bad, ["q1"])


def test_standardise_rejects_a_string_or_duplicate_items():
    s = pd.DataFrame({"q1": [1, 2]})
    with pytest.raises(ValueError, match="list of column names"):
        positioning.standardise(s, "q1")
    with pytest.raises(ValueError, match="duplicate"):
        positioning.standardise(s, ["q1", "q1"])


@given(arrays(np.int64, st.tuples(st.integers(3, 40), st.integers(1, 4)), elements=st.integers(1, 5)))
def test_standardise_gives_mean_zero_sd_one(x):
    df = pd.DataFrame(x, columns=[f"q{i}" for i in range(x.shape[1])])
    if (df.nunique() < 2).any():
        with pytest.raises(ValueError):
            positioning.standardise(df, list(df))
        return
    z = positioning.standardise(df, list(df))
    assert np.allclose(z.mean(), 0, atol=1e-9)
    assert np.allclose(z.std(ddof=0), 1)
    # an affine change of the scale (1-5 -> 0-100) leaves the z-scores unchanged
    assert np.allclose(positioning.standardise(df * 25 - 25, list(df)), z)


# ------------------------------------------------------------------- clusters
@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_persona_clusters_recover_planted_groups(method):
    s, g = planted_survey()
    p = positioning.persona_clusters(s, 3, items=ITEMS, method=method)
    assert adjusted_rand_score(g, p.labels) > 0.9
    assert p.labels.index.equals(s.index)
    assert int(p.profiles["size"].sum()) == len(s)
    assert p.profiles["share"].sum() == pytest.approx(1)
    assert p.centres.shape == (3, 3) and -1 <= p.silhouette <= 1 and p.inertia > 0
    assert p.method == method


def test_rounding_variance_is_the_smallest_step_squared_over_12():
    likert = np.array([[1, 2], [3, 2], [5, 4], [2, 5]], dtype=float)       # steps 1 (q1) and 1 (q2)
    assert positioning.rounding_variance(likert) == pytest.approx(1 / 12)
    assert positioning.rounding_variance(likert * 0.5) == pytest.approx(0.25 / 12)
    z = positioning.standardise(pd.DataFrame(likert, columns=["q1", "q2"]), ["q1", "q2"])
    # standardised: the step of item j is 1 / sd_j, so the floor is 1 / (12 * max_j var_j)
    assert positioning.rounding_variance(z) == pytest.approx(1 / (12 * likert.var(axis=0).max()))
    # continuous answers: the floor is tiny and does not constrain the fit
    cont = np.random.default_rng(0).normal(size=(200, 3))
    assert positioning.rounding_variance(cont) < 1e-4


@pytest.mark.parametrize("bad, msg", [(np.array([1.0, 2.0]), "2-d"), (np.array([[1.0, 2.0]]), "at least 2 rows"),
                                      (np.array([[1.0, 2.0], [1.0, 3.0]]), "single answer")])
def test_rounding_variance_validates(bad, msg):
    with pytest.raises(ValueError, match=msg):
        positioning.rounding_variance(bad)


def test_gmm_does_not_collapse_onto_one_answer_on_the_bundled_survey():
    """Without the floor, EM on the Nestwell survey finds a higher-likelihood mixture whose
    component sits on the respondents who gave one answer to one item (variance ~0): it
    agrees with k-means and with the planted personas at ARI ~0.54. With the floor both
    methods find the same four groups."""
    from sklearn.mixture import GaussianMixture

    from ecomlab import datasets as ds

    survey = ds.load("survey")
    z = positioning.standardise(survey).to_numpy()
    raw = GaussianMixture(4, covariance_type="diag", n_init=5, random_state=0).fit(z)
    assert raw.covariances_.min() < 1e-3                     # the degenerate optimum exists
    km = positioning.persona_clusters(survey, 4)
    gm = positioning.persona_clusters(survey, 4, method="gmm", n_init=5)
    assert adjusted_rand_score(km.labels, raw.predict(z)) < 0.8
    assert adjusted_rand_score(km.labels, gm.labels) > 0.9


@pytest.mark.parametrize("k", [1, 0, 2.5, True, "4"])
def test_persona_clusters_rejects_bad_k(k):
    s, _ = planted_survey(5)
    with pytest.raises(ValueError, match="k must be an integer"):
        positioning.persona_clusters(s, k, items=ITEMS)


def test_persona_clusters_rejects_too_few_rows_and_unknown_method():
    s, _ = planted_survey(1)
    with pytest.raises(ValueError, match="need more than k"):
        positioning.persona_clusters(s, 3, items=ITEMS)
    with pytest.raises(ValueError, match="method must be one of"):
        positioning.persona_clusters(planted_survey()[0], 3, items=ITEMS, method="dbscan")


def test_bootstrap_stability_high_for_real_k_and_validated():
    s, _ = planted_survey()
    a = positioning.bootstrap_stability(s, 3, items=ITEMS, n_boot=5)
    assert a.shape == (5,) and (a > 0.9).all() and (a <= 1).all()
    # same seed, same answer
    np.testing.assert_array_equal(a, positioning.bootstrap_stability(s, 3, items=ITEMS, n_boot=5))
    with pytest.raises(ValueError, match="n_boot"):
        positioning.bootstrap_stability(s, 3, items=ITEMS, n_boot=1)


def test_choose_k_applies_the_stated_rule():
    s, _ = planted_survey()
    c = positioning.choose_k(s, [2, 3, 4, 5], items=ITEMS, n_boot=6)
    assert c.k == 3
    t = c.table.set_index("k")
    assert t.loc[3, "passes"] and not t.loc[4, "passes"] and not t.loc[5, "passes"]
    # the rule recomputed from the table
    ok = (t["stability"] >= 0.9) & (t["silhouette"] / t["silhouette"].max() >= 0.8)
    assert int(ok[ok].index.max()) == c.k
    assert "largest k" in c.rule and "0.9" in c.rule


def test_choose_k_raises_when_no_k_passes_and_for_bad_thresholds():
    rng = np.random.default_rng(3)
    noise = pd.DataFrame(rng.integers(1, 6, (120, 3)), columns=ITEMS)
    with pytest.raises(ValueError, match="no k in"):
        positioning.choose_k(noise, [4, 5], items=ITEMS, n_boot=4, min_stability=0.99,
                             min_silhouette_ratio=1.0)
    with pytest.raises(ValueError, match="min_stability"):
        positioning.choose_k(noise, [2], items=ITEMS, min_stability=1.5)
    with pytest.raises(ValueError, match="at least one k"):
        positioning.choose_k(noise, [], items=ITEMS)


# --------------------------------------------------------------------- naming
def test_name_personas_is_one_to_one_even_when_greedy_would_clash():
    # cluster 0 scores highest on both names; the assignment must still give each a name
    c = pd.DataFrame({"q_a": [2.0, 1.5], "q_b": [1.9, 0.1]})
    names = positioning.name_personas(c, {"A": ["q_a"], "B": ["q_b"]})
    assert sorted(names) == ["A", "B"]
    assert names.loc[0] == "B" and names.loc[1] == "A"  # total 1.9 + 1.5 > 2.0 + 0.1


@given(arrays(float, st.tuples(st.integers(2, 5), st.just(5)), elements=st.floats(-3, 3)))
def test_name_personas_property_bijection(centres):
    c = pd.DataFrame(centres, columns=[f"q{i}" for i in range(5)])
    sig = {f"n{j}": [f"q{j}"] for j in range(len(c))}
    names = positioning.name_personas(c, sig)
    assert sorted(names) == sorted(sig) and names.index.equals(c.index)


def test_name_personas_validates():
    c = pd.DataFrame({"q_a": [1.0, 0.0]})
    with pytest.raises(ValueError, match="one persona per cluster"):
        positioning.name_personas(c, {"A": ["q_a"]})
    with pytest.raises(ValueError, match="missing column"):
        positioning.name_personas(c, {"A": ["q_a"], "B": ["q_zz"]})
    with pytest.raises(ValueError, match="non-empty"):
        positioning.name_personas(pd.DataFrame(), {})


# ------------------------------------------------------------------- profiles
def test_persona_profiles_values_and_mixes():
    s, g = planted_survey()
    lab = pd.Series(np.array(["x", "y", "z"])[g], index=s.index)
    p = positioning.persona_profiles(s, lab, items=ITEMS, demographics=["gender"], spend="spend",
                                     channel="channel")
    assert p["size"].tolist() == [60, 60, 60]
    assert p.loc["x", "q_a"] == pytest.approx(s.loc[g == 0, "q_a"].mean())
    assert p.loc["x", "spend_median"] == pytest.approx(s.loc[g == 0, "spend"].median())
    assert np.allclose(p.filter(like="gender=").sum(axis=1), 1)
    assert p.loc["z", "top_channel"] == "live" and p.loc["x", "top_channel"] == "market"


def test_persona_profiles_rejects_misaligned_or_missing_labels():
    s, g = planted_survey(5)
    kw = dict(items=ITEMS, demographics=["gender"], spend="spend", channel="channel")
    with pytest.raises(ValueError, match="survey's index"):
        positioning.persona_profiles(s, pd.Series(g[:-1]), **kw)
    with pytest.raises(ValueError, match="missing personas"):
        positioning.persona_profiles(s, pd.Series([None] * len(s), index=s.index), **kw)
    with pytest.raises(ValueError, match="must be numeric"):
        positioning.persona_profiles(s.assign(spend="lots"), pd.Series(g, index=s.index), **kw)


# ------------------------------------------------------------------ behaviour
def _shop():
    r = pd.DataFrame({"persona": ["a", "a", "b", "b"], "customer_id": ["c1", "c2", "c3", None]})
    o = pd.DataFrame({"order_id": [1, 2, 3, 4, 5], "customer_id": ["c1", "c1", "c2", "c3", "c9"],
                      "paid_amount": [100.0, 50.0, 30.0, 80.0, 999.0],
                      "order_ts": pd.to_datetime(["2025-11-11 09:00", "2025-11-20 10:00", "2025-06-18 23:00",
                                                  "2025-03-01 08:00", "2025-11-11 12:00"])})
    it = pd.DataFrame({"order_id": [1, 2, 3, 4, 5], "sku_id": ["s1", "s2", "s1", "s2", "s1"],
                       "quantity": [1, 1, 3, 2, 1], "unit_price": [100.0, 50.0, 10.0, 40.0, 999.0]})
    pr = pd.DataFrame({"sku_id": ["s1", "s2"], "category": ["storage", "decor"]})
    promo = pd.DatetimeIndex(["2025-11-11", "2025-06-18"])
    return r, o, it, pr, promo


def test_behaviour_by_persona_by_hand():
    b = positioning.behaviour_by_persona(*_shop())
    assert b.loc["a", "customers"] == 2 and b.loc["a", "orders"] == 3
    assert b.loc["a", "order_value"] == pytest.approx(60.0)
    assert b.loc["a", "promo_day_share"] == pytest.approx(2 / 3)       # 11-11 and 06-18 (late evening counts)
    assert b.loc["a", "cat=storage"] == pytest.approx(130 / 180)
    assert b.loc["b", "cat=decor"] == pytest.approx(1.0) and b.loc["b", "cat=storage"] == 0
    assert b.attrs["not_customers"] == 1 and b.attrs["customers_without_orders"] == 0
    assert np.allclose(b.filter(like="cat=").sum(axis=1), 1)


def test_behaviour_by_persona_validates():
    r, o, it, pr, promo = _shop()
    with pytest.raises(ValueError, match="answered twice"):
        positioning.behaviour_by_persona(pd.concat([r, r.iloc[:1]]), o, it, pr, promo)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        positioning.behaviour_by_persona(r, o, it, pr, ["2025-11-11"])
    with pytest.raises(ValueError, match="not in products"):
        positioning.behaviour_by_persona(r, o, it, pr.iloc[:1], promo)
    with pytest.raises(ValueError, match="missing column"):
        positioning.behaviour_by_persona(r, o.drop(columns="paid_amount"), it, pr, promo)


# ----------------------------------------------------------------------- SWOT
def _items():
    return [SwotItem("S1", "strength", "Leads storage", "share", 0.1, "market", "01-1", ".1%"),
            SwotItem("W1", "weakness", "Bedding returns", "return rate", 0.12, "returns", "01-3", ".1%"),
            SwotItem("O1", "opportunity", "Storage searches", "search yoy", 0.3, "search_trends", "01-1", "+.0%"),
            SwotItem("T1", "threat", "Decor shrinks", "market yoy", -0.11, "market", "01-1", "+.0%")]


@pytest.mark.parametrize("field, value, msg", [
    ("value", float("nan"), "finite number"), ("value", None, "finite number"), ("value", "10%", "finite number"),
    ("value", True, "finite number"), ("value", math.inf, "finite number"),
    ("metric", "", "metric"), ("source", "  ", "source"), ("lesson", None, "lesson"),
    ("statement", "", "statement"), ("kind", "hope", "kind"), ("code", "X1", "must start with"),
    ("fmt", "q", "fmt"),
])
def test_no_swot_item_without_evidence(field, value, msg):
    kw = dict(code="S1", kind="strength", statement="Leads storage", metric="share", value=0.1,
              source="market", lesson="01-1", fmt=".1%")
    kw[field] = value
    with pytest.raises(ValueError, match=msg):
        SwotItem(**kw)


def test_swot_table_orders_kinds_and_formats():
    t = swot_table(list(reversed(_items())))
    assert t["kind"].tolist() == ["strength", "weakness", "opportunity", "threat"]
    assert t["shown"].tolist() == ["10.0%", "12.0%", "+30%", "-11%"]
    assert t["value"].notna().all() and (t["metric"].str.len() > 0).all()


def test_swot_table_needs_all_quadrants_and_unique_codes():
    with pytest.raises(ValueError, match="none for \\['threat'\\]"):
        swot_table(_items()[:3])
    with pytest.raises(ValueError, match="unique"):
        swot_table([*_items(), _items()[0]])
    with pytest.raises(ValueError, match="non-empty list"):
        swot_table([])


def test_tows_matrix_checks_the_items_a_strategy_uses():
    items = _items()
    t = tows_matrix(items, [Strategy("SO1", "SO", "Push storage", ("S1", "O1"), "02 pricing"),
                            Strategy("WT1", "WT", "Fix returns", ("W1", "T1"), "05 A/B")])
    assert t["evidence"].tolist() == ["S1 10.0%; O1 +30%", "W1 12.0%; T1 -11%"]
    with pytest.raises(ValueError, match="must use at least one opportunity"):
        tows_matrix(items, [Strategy("SO1", "SO", "x", ("S1", "T1"), "02")])
    with pytest.raises(ValueError, match="unknown SWOT item"):
        tows_matrix(items, [Strategy("SO1", "SO", "x", ("S1", "O9"), "02")])
    with pytest.raises(ValueError, match="unique"):
        tows_matrix(items, [Strategy("SO1", "SO", "x", ("S1", "O1"), "02")] * 2)
    with pytest.raises(ValueError, match="kind must be one of"):
        Strategy("XX1", "XX", "x", ("S1",), "02")
    with pytest.raises(ValueError, match="tuple of item codes"):
        Strategy("SO1", "SO", "x", "S1", "02")
    with pytest.raises(ValueError, match="chapter"):
        Strategy("SO1", "SO", "x", ("S1", "O1"), "")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_swot_item_value_property(v):
    if math.isfinite(v):
        assert SwotItem("O1", "opportunity", "s", "m", v, "t", "01-1").value == v
    else:
        with pytest.raises(ValueError):
            SwotItem("O1", "opportunity", "s", "m", v, "t", "01-1")
