"""Tests for ecomlab.users (chapter 04 helpers).

Includes a vectorised BG/NBD simulator (Fader, Hardie & Lee 2005 generative story) and
Gamma-Gamma simulator used for parameter-recovery tests. Tolerances (stated):
BG/NBD on 20k simulated customers, T ~ U(40, 64) weeks: r and alpha within 15%,
a and b within 35%; Gamma-Gamma on the simulated repeat buyers: p, q, gamma within 25%
and the population mean spend within 5%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from ecomlab import metrics
from ecomlab import users as U
from ecomlab.users import _common as UCM
from ecomlab.users import cohorts as UCO
from ecomlab.users import lifetime as UC

# ------------------------------------------------------------------------------------
# fixtures and simulators
# ------------------------------------------------------------------------------------


def make_orders(n_orders=400, n_customers=60, seed=0, start="2024-01-01", days=700, cancel=0.05):
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n_orders)
    ts = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days * 86400, n_orders), unit="s")
    status = np.where(rng.random(n_orders) < cancel, "cancelled", "completed")
    status = np.where(rng.random(n_orders) < cancel, "refunded", status)
    return pd.DataFrame(
        {
            "order_id": pd.array([f"O{i:08d}" for i in range(n_orders)], dtype="str"),
            "customer_id": pd.array([f"C{c:07d}" for c in cust], dtype="str"),
            "order_ts": pd.DatetimeIndex(ts).as_unit("us"),
            "paid_amount": np.round(rng.lognormal(4.5, 0.8, n_orders), 2),
            "status": pd.Categorical(status, categories=["completed", "cancelled", "refunded"]),
        }
    )


def simulate_bgnbd(n, r, alpha, a, b, T, rng):
    """Vectorised BG/NBD: λ~Gamma(r, rate α), p~Beta(a, b); Poisson purchases while
    alive; after each *repeat* purchase the customer drops out with probability p."""
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    N = rng.poisson(lam * T)  # purchases an immortal customer would make in (0, T]
    J = rng.geometric(p)  # the repeat purchase after which the customer dies (>= 1)
    x = np.minimum(N, J)
    # given N arrivals in (0, T], the x-th arrival is T * Beta(x, N - x + 1)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = T[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1)
    return pd.DataFrame({"frequency": x.astype(float), "recency": tx, "T": T})


def simulate_gg(x, p, q, gamma, rng):
    nu = rng.gamma(q, 1.0 / gamma, len(x))
    return rng.gamma(p * x, 1.0 / nu) / x  # mean of x Gamma(p, ν) spends


@pytest.fixture(scope="module")
def orders():
    return make_orders()


@pytest.fixture(scope="module")
def bg_sim():
    rng = np.random.default_rng(42)
    n = 20_000
    T = rng.uniform(40, 64, n)
    return simulate_bgnbd(n, 0.25, 4.5, 0.8, 2.4, T, rng)


# ------------------------------------------------------------------------------------
# RFM
# ------------------------------------------------------------------------------------


def test_rfm_table_matches_naive_groupby(orders):
    res = U.rfm_table(orders)
    v = metrics.valid_orders(orders)
    as_of = orders["order_ts"].max().normalize() + pd.Timedelta(days=1)
    g = v.groupby("customer_id").agg(last=("order_ts", "max"), f=("order_id", "size"), m=("paid_amount", "sum"))
    t = res.table.set_index("customer_id").loc[g.index]
    assert (t["frequency"] == g["f"]).all()
    np.testing.assert_allclose(t["monetary_amount"], g["m"])
    assert (t["recency_days"] == (as_of - g["last"].dt.normalize()).dt.days).all()
    assert res.as_of == as_of
    n_cancel = int((orders["status"] == "cancelled").sum())
    assert res.excluded["status=cancelled"] == n_cancel
    assert res.n_orders_used + sum(res.excluded.values()) == len(orders)
    assert res.table["recency_days"].min() >= 1
    assert "RFMResult" in res._repr_html_() and len(res.to_frame()) == len(t)


def test_rfm_table_as_of_excludes_later_orders(orders):
    res = U.rfm_table(orders, as_of="2025-01-01")
    assert any(k.startswith("on/after") for k in res.excluded)
    assert res.n_orders_used + sum(res.excluded.values()) == len(orders)
    assert (res.table["recency_days"] >= 1).all()


def test_rfm_table_one_row():
    o = make_orders(1, 1, cancel=0)
    res = U.rfm_table(o)
    assert res.table[["recency_days", "frequency"]].to_numpy().tolist() == [[1, 1]]


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda o: o.drop(columns="paid_amount"), "paid_amount"),
        (lambda o: o.iloc[:0], "empty"),
        (lambda o: o.assign(paid_amount=o["paid_amount"].astype("str")), "numeric"),
        (lambda o: o.assign(order_id="O1"), "duplicated"),
        (lambda o: o.assign(paid_amount=np.where(np.arange(len(o)) == 3, np.nan, o["paid_amount"])), "missing"),
        (lambda o: o.assign(order_ts=o["order_ts"].astype("str")), "datetime"),
        (lambda o: o.assign(customer_id=pd.Series([None] * len(o), dtype="str")), "missing"),
    ],
)
def test_rfm_table_errors(orders, mutate, match):
    with pytest.raises(ValueError, match=match):
        U.rfm_table(mutate(orders))


def test_rfm_table_as_of_before_first(orders):
    with pytest.raises(ValueError, match="as_of"):
        U.rfm_table(orders, as_of="2023-01-01")


def test_rfm_table_all_excluded(orders):
    with pytest.raises(ValueError, match="no purchases"):
        U.rfm_table(orders, statuses=("nonexistent",))


def test_rfm_scores_basic(orders):
    s = U.rfm_scores(U.rfm_table(orders))
    for c in ("r_score", "f_score", "m_score"):
        assert s[c].between(1, 5).all()
        assert s[c].value_counts().max() - s[c].value_counts().min() <= 1  # equal groups
    # recent = high R score
    assert s.loc[s["recency_days"].idxmin(), "r_score"] == 5
    assert s.loc[s["monetary_amount"].idxmax(), "m_score"] == 5
    with pytest.raises(ValueError, match="q"):
        U.rfm_scores(s, q=1)


def test_rfm_scores_one_customer():
    s = U.rfm_scores(pd.DataFrame({"recency_days": [3], "frequency": [1], "monetary_amount": [9.0]}))
    assert s["r_score"].tolist() == [3]


rfm_frames = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 700), min_size=n, max_size=n),
        st.lists(st.integers(1, 6), min_size=n, max_size=n),
        st.lists(st.floats(0, 5000, allow_nan=False), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rfm_frames)
def test_property_scores_and_segments(data):
    r, f, m = data
    rfm = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(r))], "recency_days": r, "frequency": f, "monetary_amount": m})
    s = U.rfm_scores(rfm)
    for c in ("r_score", "f_score", "m_score"):
        assert s[c].between(1, 5).all()
    seg = U.rfm_segments(rfm)
    summ = U.segment_summary(seg)
    assert summ["customers"].sum() == len(rfm)
    assert len(summ) == 8
    assert np.isclose(summ["customer_share"].sum(), 1.0)


def test_rfm_segments_rules():
    rfm = pd.DataFrame(
        {
            "customer_id": list("abcdefgh"),
            # mean recency 50.5, frequency 2.5, monetary 500
            "recency_days": [1, 1, 100, 100, 1, 1, 100, 100],
            "frequency": [4, 1, 4, 1, 4, 1, 4, 1],
            "monetary_amount": [900, 900, 900, 900, 100, 100, 100, 100],
        }
    )
    seg = U.rfm_segments(rfm)
    assert seg["segment"].tolist() == list(U.SEGMENTS)
    assert seg["segment_zh"].tolist() == list(U.SEGMENTS_ZH)
    assert seg["segment"].cat.ordered
    summ = U.segment_summary(seg)
    assert set(summ["action"]) == set(U.SEGMENT_ACTIONS.values())
    assert np.isclose(summ["revenue_share"].sum(), 1.0)
    with pytest.raises(ValueError, match="segment"):
        U.segment_summary(rfm.assign(segment="x"))


def test_kmeans_rfm(orders):
    rfm = U.rfm_table(orders)
    res = U.kmeans_rfm(rfm, k=3, seed=0)
    assert res.profiles["customers"].sum() == len(rfm.table)
    assert res.profiles["mean_monetary_amount"].is_monotonic_decreasing
    assert set(res.labels) == {0, 1, 2}
    res2 = U.kmeans_rfm(rfm, k=3, seed=0)
    assert (res.labels == res2.labels).all()
    with pytest.raises(ValueError, match="exceeds"):
        U.kmeans_rfm(rfm.table.head(2), k=3)


# ------------------------------------------------------------------------------------
# cohorts, second purchase, historical LTV, LTV/CAC
# ------------------------------------------------------------------------------------


def test_cohort_matrix_matches_naive(orders):
    res = U.cohort_matrix(orders, metric="customers")
    v = metrics.valid_orders(orders).copy()
    v["m"] = v["order_ts"].dt.to_period("M")
    first = v.groupby("customer_id")["m"].transform("min")
    v["k"] = (v["m"] - first).apply(lambda d: d.n)
    v["cohort"] = first.dt.to_timestamp()
    naive = v.groupby(["cohort", "k"])["customer_id"].nunique().unstack()
    got = res.matrix.loc[naive.index, naive.columns]
    np.testing.assert_array_equal(got.fillna(0).to_numpy(), naive.fillna(0).to_numpy())
    ret = U.cohort_matrix(orders)
    assert (ret.matrix[0] == 1).all()
    rev = U.cohort_matrix(orders, metric="revenue")
    assert np.isclose(np.nansum(rev.matrix.to_numpy()), metrics.valid_orders(orders)["paid_amount"].sum())
    # unobserved cells (after the last month of data) are NaN, observed ones are not
    last = rev.last_period.to_period("M")
    for cohort, row in rev.matrix.iterrows():
        n_obs = (last - cohort.to_period("M")).n + 1
        assert row.iloc[n_obs:].isna().all() and row.iloc[:n_obs].notna().all()


def test_cohort_matrix_weekly_and_errors(orders):
    res = U.cohort_matrix(orders, freq="W")
    assert (res.matrix.index.day_of_week == 0).all()  # Mondays
    assert (res.matrix[0] == 1).all()
    with pytest.raises(ValueError, match="metric"):
        U.cohort_matrix(orders, metric="gmv")
    with pytest.raises(ValueError, match="freq"):
        U.cohort_matrix(orders, freq="Q")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 300), st.integers(1, 40), st.integers(0, 10_000))
def test_property_retention(n_orders, n_customers, seed):
    o = make_orders(n_orders, n_customers, seed=seed, cancel=0)
    m = U.cohort_matrix(o).matrix.to_numpy()
    obs = m[~np.isnan(m)]
    assert ((obs >= 0) & (obs <= 1)).all()
    assert (m[:, 0] == 1).all()


def test_time_to_second_purchase():
    o = pd.DataFrame(
        {
            "order_id": ["1", "2", "3", "4", "5"],
            "customer_id": ["a", "a", "a", "b", "c"],
            "order_ts": pd.to_datetime(["2025-01-01", "2025-01-11", "2025-01-05", "2025-01-02", "2025-01-03"]),
            "status": ["completed", "completed", "completed", "completed", "cancelled"],
        }
    )
    res = U.time_to_second_purchase(o)
    t = res.table.set_index("customer_id")
    assert t.loc["a", "duration_days"] == 4.0 and t.loc["a", "observed"]
    assert not t.loc["b", "observed"] and t.loc["b", "duration_days"] == 10.0  # censored, kept
    assert res.n_censored == 1 and res.excluded == {"status=cancelled": 1}
    km = res.km()
    assert km["survival"].between(0, 1).all()
    with pytest.raises(ValueError, match="as_of.*after the end of the data"):
        U.time_to_second_purchase(o, as_of="2025-02-01")
    assert U.time_to_second_purchase(o, as_of="2025-01-12").as_of == pd.Timestamp("2025-01-12")


def test_km_matches_hand_product_limit():
    """Kaplan-Meier by hand: S(t) = Π_{t_i <= t} (1 - d_i / n_i), events before censoring at ties."""
    dur = np.array([2.0, 3.0, 3.0, 5.0, 5.0, 8.0, 9.0])
    obs = np.array([1, 1, 0, 1, 0, 0, 1])
    res = UCO.SecondPurchaseResult(
        table=pd.DataFrame({"duration_days": dur, "observed": obs.astype(bool)}),
        as_of=pd.Timestamp("2025-01-01"), n_customers=7, n_censored=3, median_days_observed=4.0, excluded={},
    )
    km = res.km().set_index("days")["survival"]
    hand = {2.0: 6 / 7, 3.0: 6 / 7 * 5 / 6, 5.0: 6 / 7 * 5 / 6 * 3 / 4, 9.0: 6 / 7 * 5 / 6 * 3 / 4 * 0 / 1}
    for t, s_t in hand.items():
        assert km[t] == pytest.approx(s_t)
    full = res.km().set_index("days")
    assert full["at_risk"].to_dict() == {2.0: 7, 3.0: 6, 5.0: 4, 9.0: 1}
    assert (full["se"].iloc[:-1] > 0).all()  # Greenwood; undefined (NaN) once S = 0


def _seasonal_orders(n_customers=3000, seed=5, bump_month=11, bump=0.08):
    """Two years of monthly activity with a planted calendar-month bump in retention."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2024-01", "2025-12", freq="M")
    start = rng.integers(0, len(months), n_customers)
    rows_c, rows_m = [start.astype(np.int64)], [start.astype(np.int64)]
    k = np.arange(len(months))
    active = rng.random((n_customers, len(months))) < (0.08 + bump * ((k[None, :] % 12 + 1) == bump_month))
    active &= k[None, :] > start[:, None]
    ci, mi = np.nonzero(active)
    rows_c.append(ci)
    rows_m.append(mi)
    c = np.concatenate(rows_c)
    m = np.concatenate(rows_m)
    ts = months.to_timestamp()[m] + pd.to_timedelta(rng.integers(0, 27, len(m)), unit="D")
    return pd.DataFrame({"order_id": np.arange(len(c)).astype(str), "customer_id": (c + 10_000).astype(str),
                         "order_ts": ts, "status": "completed"})


def test_calendar_effects_recovers_a_planted_month():
    o = _seasonal_orders()
    ce = U.calendar_effects(U.cohort_matrix(o), max_age=12)
    t = ce.table.set_index("month")
    assert t["effect"].idxmax() == 11
    # planted +8 pp in November vs 8% elsewhere: deviation from the mean month = 8 * 11/12 pp
    assert t.loc[11, "effect"] == pytest.approx(0.08 * 11 / 12, abs=0.015)
    assert t.loc[11, "ci_low"] > 0 and ce.f_pvalue < 1e-6
    assert t["effect"].sum() == pytest.approx(0.0, abs=1e-12)
    # same data as counts gives the same answer
    ce2 = U.calendar_effects(U.cohort_matrix(o, metric="customers"), max_age=12)
    np.testing.assert_allclose(ce2.table["effect"], ce.table["effect"])
    # no season planted: no month effect detected at the 0.1% level
    flat = U.calendar_effects(U.cohort_matrix(_seasonal_orders(bump=0.0, seed=6)))
    assert flat.f_pvalue > 1e-3


def test_calendar_effects_errors(orders):
    with pytest.raises(ValueError, match="monthly"):
        U.calendar_effects(U.cohort_matrix(orders, freq="W"))
    with pytest.raises(ValueError, match="monthly"):
        U.calendar_effects(U.cohort_matrix(orders, metric="revenue"))
    with pytest.raises(ValueError, match="CohortResult"):
        U.calendar_effects(pd.DataFrame())
    with pytest.raises(ValueError, match="max_age"):
        U.calendar_effects(U.cohort_matrix(orders), max_age=0)
    short = orders[orders["order_ts"] < "2024-06-01"]
    with pytest.raises(ValueError, match="12 calendar months"):
        U.calendar_effects(U.cohort_matrix(short))


def test_historical_ltv():
    o = pd.DataFrame(
        {
            "order_id": list("12345"),
            "customer_id": ["a", "a", "b", "c", "d"],
            "order_ts": pd.to_datetime(["2024-01-01", "2024-06-01", "2024-02-01", "2025-06-01", "2024-03-01"]),
            "paid_amount": [100.0, 50.0, 80.0, 70.0, 60.0],
            "status": ["completed", "completed", "completed", "completed", "refunded"],
        }
    )
    c = pd.DataFrame({"customer_id": list("abcde"), "acquisition_channel": ["x", "y", "x", "x", "y"]})
    res = U.historical_ltv(o, c, months=12)  # data end: midnight after the last order
    t = res.table.set_index("acquisition_channel")
    # x: a (150) and d (refunded: acquired, worth 0); c's window is not complete -> excluded
    assert t.loc["x", "ltv_amount"] == 75.0 and t.loc["x", "customers"] == 2
    assert t.loc["y", "ltv_amount"] == 80.0
    assert res.excluded["customers: window not complete"] == 1
    assert res.excluded["customers: no orders"] == 1
    v = res.values.set_index("customer_id")
    assert v.loc["a", "value_amount"] == 150.0 and v.loc["a", "purchases"] == 2 and v.loc["d", "purchases"] == 0
    assert sorted(v.index) == ["a", "b", "d"]  # c's window is not complete
    np.testing.assert_allclose(v.groupby("acquisition_channel")["value_amount"].mean().to_numpy(), t["ltv_amount"])
    with pytest.raises(ValueError, match="months"):
        U.historical_ltv(o, c, months=0)
    with pytest.raises(ValueError, match="acquisition_channel"):
        U.historical_ltv(o, c.drop(columns="acquisition_channel"))
    # a data end after the data would count unfinished windows as complete (issue 11)
    with pytest.raises(ValueError, match="data_end.*after the end of the data"):
        U.historical_ltv(o, c, months=12, data_end="2025-12-31")
    with pytest.raises(ValueError, match="data_end.*before the first order"):
        U.historical_ltv(o, c, months=12, data_end="2023-12-31")



def test_historical_ltv_membership_counts_with_arrow_strings():
    """Customers missing on either side are counted (hash lookups on ``str`` ids, which
    replaced ``Index.isin``: that loops in Python on Arrow-backed strings, ~1 s at 30k)."""
    o = pd.DataFrame(
        {
            "order_id": pd.array(list("12345"), dtype="str"),
            "customer_id": pd.array(["a", "a", "b", "z", "a"], dtype="str"),
            "order_ts": pd.to_datetime(["2024-01-01", "2024-06-01", "2024-02-01", "2024-02-03", "2025-12-30"]),
            "paid_amount": [100.0, 50.0, 80.0, 70.0, 20.0],
            "status": ["completed"] * 4 + ["cancelled"],
        }
    )
    c = pd.DataFrame({"customer_id": pd.array(list("abe"), dtype="str"),
                      "acquisition_channel": ["x", "y", "x"]})
    res = U.historical_ltv(o, c, months=12, data_end="2025-12-31")
    assert res.excluded["customers: not in customers table"] == 1  # z
    assert res.excluded["customers: no orders"] == 1  # e
    t = res.table.set_index("acquisition_channel")
    assert t.loc["x", "ltv_amount"] == 150.0 and t.loc["y", "customers"] == 1

def test_ltv_cac_organic_and_zero_customers():
    ltv = pd.DataFrame({"acquisition_channel": ["feed_ads", "organic_search", "live_stream"], "ltv_amount": [300.0, 200.0, 100.0]})
    mk = pd.DataFrame(
        {"channel": ["feed_ads", "organic_search", "live_stream"], "date": pd.to_datetime(["2025-01-01"] * 3), "spend": [1000.0, 0.0, 500.0]}
    )
    cu = pd.DataFrame({"customer_id": list("abc"), "acquisition_channel": ["feed_ads", "feed_ads", "organic_search"]})
    out = U.ltv_cac(ltv, mk, cu).set_index("acquisition_channel")
    assert out.loc["feed_ads", "cac"] == metrics.cac(1000.0, 2) == 500.0
    assert out.loc["organic_search", "cac"] == 0 and np.isinf(out.loc["organic_search", "ltv_cac_ratio"])
    assert out.loc["organic_search", "organic"]
    assert np.isnan(out.loc["live_stream", "cac"])  # spend but no customers: undefined
    with pytest.raises(ValueError, match="spend"):
        U.ltv_cac(ltv, mk.assign(spend=-1.0), cu)


# ------------------------------------------------------------------------------------
# rfm_summary
# ------------------------------------------------------------------------------------


def naive_summary(orders, cal, obs=None):
    """lifetimes-style reference with groupby (weekly periods)."""
    v = metrics.valid_orders(orders)
    end = pd.Timestamp(obs or cal)
    v = v[v["order_ts"] < end].copy()
    v["p"] = v["order_ts"].dt.to_period("W").apply(lambda p: p.ordinal)
    calv = v[v["order_ts"] < pd.Timestamp(cal)]
    per = calv.groupby(["customer_id", "p"])["paid_amount"].sum().reset_index()
    g = per.groupby("customer_id")
    first = g["p"].min()
    pc = (pd.Timestamp(cal) - pd.Timedelta(microseconds=1)).to_period("W").ordinal
    out = pd.DataFrame({"frequency": g.size() - 1, "recency": g["p"].max() - first, "T": pc - first})
    rep = per[per["p"] != per["customer_id"].map(first)]
    out["monetary_value"] = rep.groupby("customer_id")["paid_amount"].mean().reindex(out.index).fillna(0.0)
    return out.astype(float)


def test_rfm_summary_matches_naive(orders):
    s = U.rfm_summary(orders, "2025-06-01", "2025-11-01")
    ref = naive_summary(orders, "2025-06-01")
    got = s.loc[ref.index, ["frequency", "recency", "T", "monetary_value"]]
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy())
    assert s.attrs["time_unit"] == "W"
    assert (s["recency"] <= s["T"]).all()
    assert "frequency_holdout" in s and (s["frequency_holdout"] >= 0).all()
    assert any("calibration_end" in k for k in s.attrs["excluded"]) or len(s) == orders["customer_id"].nunique()


def test_rfm_summary_errors(orders):
    with pytest.raises(ValueError, match="observation_end"):
        U.rfm_summary(orders, "2025-06-01", "2025-01-01")
    with pytest.raises(ValueError, match="calibration_end"):
        U.rfm_summary(orders, "2020-01-01")
    with pytest.raises(ValueError, match="freq"):
        U.rfm_summary(orders, "2025-06-01", freq="M")



def test_rfm_summary_dates_outside_the_data_raise(orders):
    """Issue 11: a calibration date after the data gave a "converged" fit and CLV 0."""
    end = orders["order_ts"].max().normalize() + pd.Timedelta(days=1)
    with pytest.raises(ValueError, match="calibration_end.*after the end of the data"):
        U.rfm_summary(orders, end + pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="observation_end.*after the end of the data"):
        U.rfm_summary(orders, "2025-06-01", end + pd.Timedelta(days=30))
    s = U.rfm_summary(orders, end)  # scoring at the end of the data is allowed
    assert (s["T"] >= s["recency"]).all() and len(s) > 0


# ------------------------------------------------------------------------------------
# BG/NBD
# ------------------------------------------------------------------------------------


def _individual_integrated_ll(params, x, tx, T):
    """Integrate the individual-level likelihood (FHL 2005 eq. 3) over λ ~ Gamma(r, α) and
    p ~ Beta(a, b) by quadrature. Each term is a product of a λ-integral and a p-integral,
    so two 1-D quadratures per term suffice."""
    r, alpha, a, b = params
    g = lambda f: integrate.quad(lambda lam: f(lam) * stats.gamma.pdf(lam, r, scale=1 / alpha), 0, np.inf, limit=200)[0]  # noqa: E731
    h = lambda f: integrate.quad(lambda p: f(p) * stats.beta.pdf(p, a, b), 0, 1, limit=200)[0]  # noqa: E731
    val = h(lambda p: (1 - p) ** x) * g(lambda lam: lam**x * np.exp(-lam * T))
    if x > 0:
        val += h(lambda p: p * (1 - p) ** (x - 1)) * g(lambda lam: lam**x * np.exp(-lam * tx))
    return np.log(val)


def test_bgnbd_ll_hand_computed():
    # r = alpha = a = b = 1, x = 0, T = 1: L = 1 * 1 / 2 = 0.5
    assert np.isclose(U.bgnbd_log_likelihood((1, 1, 1, 1), 0, 0, 1), np.log(0.5))
    # x = 1, t_x = 1, T = 2: B(1,2)/B(1,1)/3^2 + B(2,1)/B(1,1)/2^2 = 0.5/9 + 0.5/4
    assert np.isclose(U.bgnbd_log_likelihood((1, 1, 1, 1), 1, 1, 2), np.log(0.5 / 9 + 0.5 / 4))


@pytest.mark.parametrize("x, tx, T", [(0, 0, 38.86), (2, 30.43, 38.86), (5, 10.0, 30.0)])
def test_bgnbd_ll_matches_numerical_integration(x, tx, T):
    params = (0.243, 4.414, 0.793, 2.426)  # the CDNOW estimates
    assert np.isclose(U.bgnbd_log_likelihood(params, x, tx, T), _individual_integrated_ll(params, x, tx, T), rtol=1e-6)


def test_bgnbd_gradient_is_analytic_derivative(bg_sim):
    d = bg_sim.head(500)
    x, tx, T = (d[c].to_numpy() for c in ("frequency", "recency", "T"))
    theta = np.array([0.3, 4.0, 0.9, 2.0])
    _, g = UC._bgnbd_ll_terms(theta, x, tx, T, grad=True)
    num = optimize.approx_fprime(theta, lambda th: UC._bgnbd_ll_terms(th, x, tx, T, grad=False)[0].sum(), 1e-7)
    np.testing.assert_allclose(g.sum(axis=1), num, rtol=1e-4)


def test_bgnbd_recovers_simulated_parameters(bg_sim):
    fit = U.fit_bgnbd(bg_sim)
    assert fit.converged
    true = {"r": 0.25, "alpha": 4.5, "a": 0.8, "b": 2.4}
    tol = {"r": 0.15, "alpha": 0.15, "a": 0.35, "b": 0.35}
    for k, v in true.items():
        assert abs(fit.params[k] / v - 1) < tol[k], (k, fit.params[k])
    assert all(np.isfinite(list(fit.se.values())))
    assert fit.n_customers == len(bg_sim)
    # the MLE beats the truth on the likelihood it maximises
    ll_true = U.bgnbd_log_likelihood(tuple(true.values()), bg_sim["frequency"], bg_sim["recency"], bg_sim["T"]).sum()
    assert fit.log_likelihood >= ll_true - 1e-6
    assert set(fit.to_frame()["param"]) == {"r", "alpha", "a", "b"}


def test_expected_purchases_paper_values():
    cd = (0.243, 4.414, 0.793, 2.426)
    assert round(float(U.expected_purchases(cd, 39, 2, 30.43, 38.86)), 3) == 1.226  # FHL 2005, sec. 5
    assert U.expected_purchases(cd, 0, 2, 30.43, 38.86) == 0.0
    s = pd.Series([0.0, 1.0, 5.0])
    out = U.expected_purchases(cd, 10, s, pd.Series([0.0, 5.0, 30.0]), pd.Series([40.0, 40.0, 40.0]))
    assert isinstance(out, pd.Series) and (out > 0).all()


def test_unconditional_expectation_by_simulation():
    rng = np.random.default_rng(1)
    params = (0.25, 4.5, 0.8, 2.4)
    n, t = 400_000, 39.0
    sim = simulate_bgnbd(n, *params, np.full(n, t), rng)
    mc = sim["frequency"].mean()
    se = sim["frequency"].std() / np.sqrt(n)
    assert abs(U.expected_purchases_unconditional(params, t) - mc) < 4 * se


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.01, 5), st.floats(0.1, 50), st.floats(0.05, 5), st.floats(0.05, 5),
    st.integers(0, 50), st.floats(0, 1), st.floats(0.1, 200),
)
def test_property_p_alive_in_unit_interval(r, alpha, a, b, x, frac, T):
    tx = 0.0 if x == 0 else frac * T
    p = U.p_alive((r, alpha, a, b), x, tx, T)
    assert 0.0 <= p <= 1.0
    if x == 0:
        assert p == 1.0


def simulate_mbgnbd(n, r, alpha, a, b, T, rng):
    """Vectorised MBG/NBD: as BG/NBD, but the customer may also drop out right after the
    first purchase: they die after purchase number J - 1 (J ~ Geometric(p) >= 1)."""
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    N = rng.poisson(lam * T)
    x = np.minimum(N, rng.geometric(p) - 1)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = T[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1)
    return pd.DataFrame({"frequency": x.astype(float), "recency": tx, "T": T})


def _mbg_integrated_ll(params, x, tx, T):
    """Individual MBG/NBD likelihood (1-p)^(x+1) λ^x e^(-λT) + p (1-p)^x λ^x e^(-λ t_x),
    integrated over λ ~ Gamma(r, α) and p ~ Beta(a, b) by quadrature."""
    r, alpha, a, b = params
    g = lambda f: integrate.quad(lambda lam: f(lam) * stats.gamma.pdf(lam, r, scale=1 / alpha), 0, np.inf, limit=200)[0]  # noqa: E731
    h = lambda f: integrate.quad(lambda p: f(p) * stats.beta.pdf(p, a, b), 0, 1, limit=200)[0]  # noqa: E731
    val = h(lambda p: (1 - p) ** (x + 1)) * g(lambda lam: lam**x * np.exp(-lam * T))
    val += h(lambda p: p * (1 - p) ** x) * g(lambda lam: lam**x * np.exp(-lam * tx))
    return np.log(val)


@pytest.mark.parametrize("x, tx, T", [(0, 0, 38.86), (2, 30.43, 38.86), (5, 10.0, 30.0)])
def test_mbgnbd_ll_matches_numerical_integration(x, tx, T):
    params = (0.243, 4.414, 0.793, 2.426)
    assert np.isclose(U.mbgnbd_log_likelihood(params, x, tx, T), _mbg_integrated_ll(params, x, tx, T), rtol=1e-6)


def test_mbgnbd_gradient_is_analytic_derivative(bg_sim):
    d = bg_sim.head(500)
    x, tx, T = (d[c].to_numpy() for c in ("frequency", "recency", "T"))
    theta = np.array([0.3, 4.0, 0.9, 2.0])
    _, g = UC._bgnbd_ll_terms(theta, x, tx, T, grad=True, modified=True)
    num = optimize.approx_fprime(
        theta, lambda th: UC._bgnbd_ll_terms(th, x, tx, T, grad=False, modified=True)[0].sum(), 1e-7)
    np.testing.assert_allclose(g.sum(axis=1), num, rtol=1e-4)


def test_mbgnbd_recovers_simulated_parameters():
    rng = np.random.default_rng(11)
    n = 20_000
    sim = simulate_mbgnbd(n, 0.25, 4.5, 0.8, 2.4, rng.uniform(40, 64, n), rng)
    fit = U.fit_mbgnbd(sim)
    assert fit.converged and fit.model == "MBG/NBD"
    tol = {"r": 0.15, "alpha": 0.15, "a": 0.35, "b": 0.35}
    for k, v in {"r": 0.25, "alpha": 4.5, "a": 0.8, "b": 2.4}.items():
        assert abs(fit.params[k] / v - 1) < tol[k], (k, fit.params[k])
    # the MBG/NBD fit explains MBG data better than BG/NBD does
    assert fit.log_likelihood > U.fit_bgnbd(sim).log_likelihood


def _posterior_expected_purchases(params, t, x, tx, T, modified):
    """E[Y(t) | x, t_x, T] by integrating over the posterior of (λ, p): alive at T with
    likelihood (1-p)^(x+m) λ^x e^(-λT) (m = 1 for MBG/NBD), then E[purchases in t | λ, p,
    alive] = (1 - e^(-λ p t)) / p (drop-out after each purchase). The λ-integrals are the
    elementary Gamma integrals ∫ λ^x e^(-λc) dGamma(r, α) ∝ (α + c)^-(r+x); p by quadrature."""
    r, alpha, a, b = params
    m = 1 if modified else 0
    k = r + x
    beta = lambda p: stats.beta.pdf(p, a, b)  # noqa: E731
    num = integrate.quad(
        lambda p: (1 - p) ** (x + m) / p * ((alpha + T) ** -k - (alpha + T + p * t) ** -k) * beta(p), 0, 1,
        epsabs=1e-14, limit=200)[0]
    den = integrate.quad(lambda p: (1 - p) ** (x + m) * (alpha + T) ** -k * beta(p), 0, 1, epsabs=1e-14, limit=200)[0]
    if x + m > 0:
        den += integrate.quad(lambda p: p * (1 - p) ** (x + m - 1) * (alpha + tx) ** -k * beta(p), 0, 1,
                              epsabs=1e-14, limit=200)[0]
    return num / den


@pytest.mark.parametrize("model", ["BG/NBD", "MBG/NBD"])
@pytest.mark.parametrize("x, tx, T", [(0, 0.0, 30.0), (3, 20.0, 30.0)])
def test_expected_purchases_match_posterior_integration(model, x, tx, T):
    params = (0.8, 6.0, 1.6, 2.5)  # a > 1: finite expectations
    got = U.expected_purchases(params, 20.0, x, tx, T, model=model)
    want = _posterior_expected_purchases(params, 20.0, x, tx, T, modified=model == "MBG/NBD")
    assert got == pytest.approx(want, rel=1e-4)


def test_mbgnbd_p_alive_of_one_time_buyers_falls_with_silence():
    cd = (0.243, 4.414, 0.793, 2.426)
    T = np.array([1.0, 10.0, 40.0, 80.0])
    bg = U.p_alive(cd, np.zeros(4), np.zeros(4), T)
    mbg = U.p_alive(cd, np.zeros(4), np.zeros(4), T, model="MBG/NBD")
    assert (bg == 1.0).all()  # the BG/NBD property the lesson explains
    assert (np.diff(mbg) < 0).all() and (mbg < 1).all() and (mbg > 0).all()
    fit = U.BGNBDResult(*cd, 0.0, 1, True, "", {}, model="MBG/NBD")
    np.testing.assert_allclose(U.p_alive(fit, np.zeros(4), np.zeros(4), T), mbg)
    with pytest.raises(ValueError, match="model"):
        U.p_alive(cd, 0, 0, 1.0, model="Pareto")
    # clv follows the fit's model: a one-time buyer's P(alive) < 1 and a positive CLV
    s = pd.DataFrame({"frequency": [0.0, 3.0], "recency": [0.0, 30.0], "T": [40.0, 40.0],
                      "monetary_value": [0.0, 50.0]})
    gg = U.GammaGammaResult(6.0, 4.0, 15.0, 0.0, 1, True, "", {}, {})
    c_m = U.clv(fit, gg, s, margin=0.4)
    c_b = U.clv(U.BGNBDResult(*cd, 0.0, 1, True, "", {}), gg, s, margin=0.4)
    assert c_m.loc[0, "p_alive"] < 1 == c_b.loc[0, "p_alive"]
    assert (c_m["clv_amount"] > 0).all() and c_m.loc[0, "clv_amount"] < c_b.loc[0, "clv_amount"]


def test_bgnbd_input_validation():
    with pytest.raises(ValueError, match="recency"):
        U.fit_bgnbd(pd.DataFrame({"frequency": [1.0], "recency": [5.0], "T": [3.0]}))
    with pytest.raises(ValueError, match="T"):
        U.fit_bgnbd(pd.DataFrame({"frequency": [1.0], "recency": [5.0]}))
    with pytest.raises(ValueError, match="whole"):
        U.p_alive((1, 1, 1, 1), 1.5, 1, 2)
    with pytest.raises(ValueError, match="missing"):
        U.fit_bgnbd(pd.DataFrame({"frequency": [np.nan], "recency": [0.0], "T": [3.0]}))


# ------------------------------------------------------------------------------------
# Gamma-Gamma and CLV
# ------------------------------------------------------------------------------------


def test_gg_ll_matches_numerical_integration():
    p, q, g = 6.25, 3.74, 15.44
    x, m = 3, 30.0
    # density of the mean of x Gamma(p, ν) spends, ν ~ Gamma(q, rate g)
    f = lambda nu: stats.gamma.pdf(m, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(nu, q, scale=1 / g)  # noqa: E731
    val, _ = integrate.quad(f, 0, np.inf, epsabs=1e-14)
    assert np.isclose(U.gamma_gamma_log_likelihood((p, q, g), x, m), np.log(val), rtol=1e-7)


def test_gamma_gamma_recovers_parameters(bg_sim):
    rng = np.random.default_rng(7)
    s = bg_sim.copy()
    rep = s["frequency"] > 0
    s["monetary_value"] = 0.0
    s.loc[rep, "monetary_value"] = simulate_gg(s.loc[rep, "frequency"].to_numpy(), 6.0, 4.0, 15.0, rng)
    fit = U.fit_gamma_gamma(s)
    assert fit.converged and fit.n_customers == int(rep.sum())
    for k, v in {"p": 6.0, "q": 4.0, "gamma": 15.0}.items():
        assert abs(fit.params[k] / v - 1) < 0.25, (k, fit.params[k])
    assert abs(fit.mean_spend / (6.0 * 15.0 / 3.0) - 1) < 0.05
    assert fit.excluded["no repeat purchase (frequency = 0)"] == int((~rep).sum())
    corr = U.spend_frequency_correlation(s)
    assert abs(corr.spearman) < 0.1 and "plausible" in corr.verdict
    # CLV: positive, discounting lowers it, more months raise it
    bg = U.BGNBDResult(0.25, 4.5, 0.8, 2.4, 0.0, len(s), True, "", {})
    head = s.head(200)
    c12 = U.clv(bg, fit, head, margin=0.4)
    c12_nodisc = U.clv(bg, fit, head, margin=0.4, annual_discount_rate=0.0)
    c24 = U.clv(bg, fit, head, months=24, margin=0.4)
    assert (c12["clv_amount"] > 0).all()
    assert (c12["clv_amount"] <= c12_nodisc["clv_amount"] + 1e-12).all()
    assert (c24["clv_amount"] >= c12["clv_amount"]).all()
    np.testing.assert_allclose(
        c12_nodisc["clv_amount"], 0.4 * c12["expected_spend"] * c12["expected_purchases"], rtol=1e-9
    )
    with pytest.raises(ValueError, match="margin"):
        U.clv(bg, fit, head, margin=40)


def test_conditional_expected_spend_shrinks_to_population_mean():
    gg = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    pop = 6.0 * 15.0 / 3.0
    assert np.isclose(U.conditional_expected_spend(gg, 0, 0.0), pop)
    big = U.conditional_expected_spend(gg, 1000, 50.0)
    assert abs(big - 50.0) < 0.1
    with pytest.raises(ValueError, match="q"):
        U.conditional_expected_spend({"p": 1, "q": 0.9, "gamma": 1}, 1, 1.0)


def test_gamma_gamma_errors():
    with pytest.raises(ValueError, match="at least 3"):
        U.fit_gamma_gamma(pd.DataFrame({"frequency": [0.0, 1.0], "monetary_value": [0.0, 2.0]}))


# ------------------------------------------------------------------------------------
# uplift
# ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def campaign():
    rng = np.random.default_rng(3)
    n = 6000
    seg = rng.choice(["loyal", "lapsing"], n)
    x = rng.normal(size=n)
    t = rng.random(n) < 0.5
    base = np.where(seg == "loyal", 0.40, 0.08)
    true_uplift = np.where(seg == "loyal", 0.01, 0.12) * (1 + 0.5 * (x > 0))
    y = rng.random(n) < base + t * true_uplift
    redeemed = t & y & (rng.random(n) < 0.9)
    return pd.DataFrame(
        {
            "segment_at_send": pd.Categorical(seg, categories=["loyal", "lapsing"]),
            "x": x,
            "treatment": t,
            "purchased_30d": y,
            "redeemed": redeemed,
            "true_uplift": true_uplift,
        }
    )


def test_uplift_by_segment_recovers_truth(campaign):
    out = U.uplift_by_segment(campaign, segment="segment_at_send", outcome="purchased_30d").set_index("segment")
    truth = campaign.groupby("segment_at_send", observed=True)["true_uplift"].mean()
    for s in ("loyal", "lapsing"):
        assert out.loc[s, "ci_low"] <= truth[s] <= out.loc[s, "ci_high"]
    # response != uplift: loyal respond most but gain least
    assert out.loc["loyal", "response_rate_treated"] > out.loc["lapsing", "response_rate_treated"]
    assert out.loc["loyal", "uplift"] < out.loc["lapsing", "uplift"]
    assert out.loc["all", "n_treated"] + out.loc["all", "n_control"] == len(campaign)
    with pytest.raises(ValueError, match="purchased_30d"):
        U.uplift_by_segment(campaign.drop(columns="purchased_30d"), segment="segment_at_send", outcome="purchased_30d")
    with pytest.raises(ValueError, match="bool or 0/1"):
        U.uplift_by_segment(campaign.assign(treatment="yes"), segment="segment_at_send", outcome="purchased_30d")
    with pytest.raises(ValueError, match="measure"):
        U.uplift_by_segment(campaign, segment=None, outcome="purchased_30d", measure="median")
    with pytest.raises(ValueError, match="alpha"):
        U.uplift_by_segment(campaign, segment=None, outcome="purchased_30d", alpha=5)
    with pytest.raises(ValueError, match="missing"):
        U.uplift_by_segment(campaign.assign(segment_at_send=None), segment="segment_at_send", outcome="purchased_30d")
    with pytest.raises(TypeError):  # no hidden defaults for the segment and outcome columns
        U.uplift_by_segment(campaign)


def test_uplift_by_segment_adjusted_p_values_match_statsmodels(campaign):
    from statsmodels.stats.multitest import multipletests

    c = campaign.assign(seg3=np.where(campaign["x"] > 0.5, "a", np.where(campaign["x"] > -0.5, "b", "c")))
    for method in ("holm", "bonferroni"):
        out = U.uplift_by_segment(c, segment="seg3", outcome="purchased_30d", p_adjust=method)
        seg = out[out["segment"] != "all"]
        assert seg["p_adjusted"].to_numpy() == pytest.approx(multipletests(seg["p_value"], method=method)[1])
        assert (seg["p_adjusted"] >= seg["p_value"] - 1e-15).all()
        allrow = out[out["segment"] == "all"].iloc[0]
        assert allrow["p_adjusted"] == allrow["p_value"]  # not part of the segment family
    one = U.uplift_by_segment(c, segment=None, outcome="purchased_30d")
    assert len(one) == 1 and one["segment"].item() == "all"


def test_uplift_by_segment_mean_matches_welch(campaign):
    from scipy import stats

    rng = np.random.default_rng(5)
    c = campaign.assign(revenue=np.where(campaign["purchased_30d"], rng.lognormal(5, 0.8, len(campaign)), 0.0))
    out = U.uplift_by_segment(c, segment="segment_at_send", outcome="revenue", measure="mean", alpha=0.01)
    out = out.set_index("segment")
    assert {"mean_treated", "mean_control"} <= set(out.columns) and "rate_control" not in out.columns
    for s in ("loyal", "lapsing"):
        g = c[c["segment_at_send"] == s]
        a, b = g.loc[g["treatment"], "revenue"], g.loc[~g["treatment"], "revenue"]
        assert out.loc[s, "uplift"] == pytest.approx(a.mean() - b.mean())
        res = stats.ttest_ind(a, b, equal_var=False)
        assert out.loc[s, "p_value"] == pytest.approx(res.pvalue, rel=1e-9)
        lo, hi = res.confidence_interval(0.99)
        assert (out.loc[s, "ci_low"], out.loc[s, "ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
    with pytest.raises(ValueError, match="numeric"):
        U.uplift_by_segment(c.assign(revenue="12"), segment=None, outcome="revenue", measure="mean")
    # a segment with a single treated customer: no interval, no warning
    tiny = pd.DataFrame({"s": ["a"] * 3 + ["b"] * 4, "treatment": [1, 0, 0, 1, 1, 0, 0],
                         "v": [5.0, 1.0, 2.0, 3.0, 4.0, 1.0, 1.0]})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = U.uplift_by_segment(tiny, segment="s", outcome="v", measure="mean").set_index("segment")
    assert np.isnan(t.loc["a", "ci_low"]) and t.loc["a", "uplift"] == pytest.approx(3.5)
    assert np.isfinite(t.loc["b", "ci_low"])


def test_t_learner_qini_targeting(campaign):
    from sklearn.ensemble import GradientBoostingClassifier

    light = GradientBoostingClassifier(n_estimators=40, max_depth=2, learning_rate=0.1, random_state=0)
    res = U.t_learner(campaign, ["segment_at_send", "x"], outcome="purchased_30d", model=light, seed=0, n_splits=3)
    assert res.uplift.index.equals(campaign.index)
    assert np.corrcoef(res.uplift, campaign["true_uplift"])[0, 1] > 0.5
    q = U.qini_coefficient(res.uplift, campaign["treatment"], campaign["purchased_30d"])
    shuffled = np.random.default_rng(0).permutation(res.uplift.to_numpy())
    q_random = U.qini_coefficient(shuffled, campaign["treatment"], campaign["purchased_30d"])
    assert q > 0.03 and q > q_random + 0.02  # normalised by the (unreachable) perfect curve
    assert U.qini_coefficient(np.zeros(len(campaign)), campaign["treatment"], campaign["purchased_30d"]) == pytest.approx(0.0)
    top = U.uplift_at_k(res.uplift, campaign["treatment"], campaign["purchased_30d"], k=0.3)
    overall = U.uplift_at_k(res.uplift, campaign["treatment"], campaign["purchased_30d"], k=1.0)
    assert top > overall
    curve = U.qini_curve(res.uplift, campaign["treatment"], campaign["purchased_30d"])
    assert curve["n_targeted"].iloc[-1] == len(campaign) and curve["qini"].iloc[0] == 0
    tv = U.targeting_value(campaign, res, 0.3, margin=60.0, coupon_cost=20.0, outcome="purchased_30d",
                           redeemed="redeemed").set_index("policy")
    assert tv.loc["top k by uplift", "incremental_margin_amount"] > tv.loc["top k by response", "incremental_margin_amount"]
    with pytest.raises(ValueError, match="k must"):
        U.uplift_at_k(res.uplift, campaign["treatment"], campaign["purchased_30d"], k=1.5)


def test_t_learner_scores_new_data_with_models_fitted_on_campaign(campaign):
    from sklearn.tree import DecisionTreeClassifier

    train, hold = campaign.iloc[:4000], campaign.iloc[4000:]
    tree = DecisionTreeClassifier(max_depth=3, min_samples_leaf=100, random_state=0)
    res = U.t_learner(train, ["segment_at_send", "x"], outcome="purchased_30d", model=tree, new_data=hold)
    assert res.uplift.index.equals(hold.index)
    # the same two trees fitted by hand on all training rows
    X = pd.get_dummies(campaign[["segment_at_send"]], dtype=float).assign(x=campaign["x"])
    X = X[["x"] + [c for c in X.columns if c != "x"]].to_numpy()
    t = train["treatment"].to_numpy()
    pt = DecisionTreeClassifier(max_depth=3, min_samples_leaf=100, random_state=0).fit(
        X[:4000][t], train["purchased_30d"][t]).predict_proba(X[4000:])[:, 1]
    pc = DecisionTreeClassifier(max_depth=3, min_samples_leaf=100, random_state=0).fit(
        X[:4000][~t], train["purchased_30d"][~t]).predict_proba(X[4000:])[:, 1]
    assert res.uplift.to_numpy() == pytest.approx(pt - pc)
    assert np.corrcoef(res.uplift, hold["true_uplift"])[0, 1] > 0.5
    with pytest.raises(ValueError, match="new_data is missing"):
        U.t_learner(train, ["x"], outcome="purchased_30d", new_data=hold.drop(columns="x"))


def test_policy_value_equals_targeting_value_and_covers(campaign):
    margin, cost = 60.0, 20.0
    c = campaign.assign(profit=campaign["purchased_30d"] * margin - campaign["redeemed"] * cost)
    score = pd.Series(campaign["x"].to_numpy())
    tv = U.targeting_value(c, score, 0.4, margin, cost, outcome="purchased_30d", redeemed="redeemed",
                           response_scores=-score).set_index("policy")
    top = score.rank(ascending=False, method="first").to_numpy() <= np.ceil(0.4 * len(c))
    bottom = (-score).rank(ascending=False, method="first").to_numpy() <= np.ceil(0.4 * len(c))
    pv = U.policy_value(c, {"top": top, "bottom": bottom, "everyone": np.ones(len(c), bool)}, value="profit",
                        reference="everyone", n_boot=400, seed=1).set_index("policy")
    assert pv.loc["top", "total"] == pytest.approx(tv.loc["top k by uplift", "incremental_margin_amount"])
    assert pv.loc["bottom", "total"] == pytest.approx(tv.loc["top k by response", "incremental_margin_amount"])
    assert pv.loc["everyone", "total"] == pytest.approx(tv.loc["everyone", "incremental_margin_amount"])
    assert (pv["total_ci_low"] < pv["total"]).all() and (pv["total"] < pv["total_ci_high"]).all()
    assert pv.loc["top", "gain"] == pytest.approx(pv.loc["top", "total"] - pv.loc["everyone", "total"])
    assert pv.loc["everyone", ["gain", "gain_ci_low", "gain_ci_high"]].tolist() == [0.0, 0.0, 0.0]
    assert pv.loc["top", "gain_ci_low"] < pv.loc["top", "gain"] < pv.loc["top", "gain_ci_high"]
    # same seed, same intervals; no reference, no gain columns
    again = U.policy_value(c, {"top": top}, value="profit", n_boot=400, seed=1)
    assert "gain" not in again.columns and again["total"].item() == pytest.approx(pv.loc["top", "total"])


def test_policy_value_interval_covers_truth_in_most_simulations():
    """Coverage of the percentile bootstrap for a difference of means: ~95% nominal."""
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(40):
        n = 800
        t = rng.random(n) < 0.5
        v = rng.exponential(10, n) + 3.0 * t  # true value per targeted customer: 3
        out = U.policy_value(pd.DataFrame({"treatment": t, "v": v}), {"all": np.ones(n, bool)}, value="v",
                             n_boot=300, seed=int(rng.integers(1_000_000)))
        covered += out["total_ci_low"].item() <= 3.0 * n <= out["total_ci_high"].item()
    assert covered >= 34  # 40 draws at 95%: fewer than 34 has probability < 1%


def test_policy_value_validation(campaign):
    c = campaign.assign(v=1.0)
    full = np.ones(len(c), bool)
    with pytest.raises(ValueError, match="at least one policy"):
        U.policy_value(c, {}, value="v")
    with pytest.raises(ValueError, match="reference must be one of"):
        U.policy_value(c, {"a": full}, value="v", reference="b")
    with pytest.raises(ValueError, match="boolean mask with one value per campaign row"):
        U.policy_value(c, {"a": full[:-1]}, value="v")
    with pytest.raises(ValueError, match="boolean mask"):
        U.policy_value(c, {"a": np.full(len(c), 0.5)}, value="v")
    with pytest.raises(ValueError, match="n_boot"):
        U.policy_value(c, {"a": full}, value="v", n_boot=10)
    with pytest.raises(ValueError, match="alpha"):
        U.policy_value(c, {"a": full}, value="v", alpha=0)
    with pytest.raises(ValueError, match="numeric"):
        U.policy_value(c.assign(v="x"), {"a": full}, value="v")
    with pytest.raises(ValueError, match="missing"):
        U.policy_value(c.assign(v=np.nan), {"a": full}, value="v")
    only_treated = c["treatment"].to_numpy()
    with pytest.raises(ValueError, match="both arms"):
        U.policy_value(c, {"treated only": only_treated}, value="v")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(4, 300), st.integers(0, 10_000))
def test_property_policy_value_agrees_with_uplift_and_qini(n, seed):
    """Three helpers, one quantity: for the whole list, policy_value's total is n × the mean
    uplift of uplift_by_segment, and the last Qini point is that total × N_T / n."""
    rng = np.random.default_rng(seed)
    t = np.r_[True, False, rng.random(n - 2) < 0.5]
    y = rng.random(n) < 0.3
    c = pd.DataFrame({"treatment": t, "bought": y, "spend": rng.exponential(50, n) * y})
    everyone = {"all": np.ones(n, bool)}
    for col in ("bought", "spend"):
        total = U.policy_value(c, everyone, value=col, n_boot=None)["total"].item()
        measure = "proportion" if col == "bought" else "mean"
        u = U.uplift_by_segment(c, segment=None, outcome=col, measure=measure)["uplift"].item()
        assert total == pytest.approx(n * u, rel=1e-9, abs=1e-9)
    q = U.qini_curve(np.zeros(n), c["treatment"], c["bought"])["qini"].iloc[-1]
    total = U.policy_value(c, everyone, value="bought", n_boot=None)["total"].item()
    assert q == pytest.approx(total * t.sum() / n, rel=1e-9, abs=1e-9)


def test_uplift_inputs_validation():
    with pytest.raises(ValueError, match="equal length"):
        U.qini_curve([0.1, 0.2], [1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        U.qini_curve([], [], [])
    with pytest.raises(ValueError, match="both treated and control"):
        U.t_learner(pd.DataFrame({"x": np.arange(20.0), "treatment": True, "purchased_30d": np.arange(20) % 2 == 0}),
                    ["x"], outcome="purchased_30d")
    with pytest.raises(ValueError, match="scores has 2 values"):
        U.targeting_value(pd.DataFrame({"treatment": [1, 0, 1], "y": [1, 0, 0], "r": [1, 0, 0]}), pd.Series([0.1, 0.2]),
                          0.5, 10.0, 1.0, outcome="y", redeemed="r")


def test_uplift_by_segment_zero_control_rate_is_silent():
    """A segment whose control group never bought (rate 0) gives an interval, no warning."""
    import warnings

    c = pd.DataFrame({"segment_at_send": ["x"] * 6, "treatment": [True] * 3 + [False] * 3,
                      "purchased_30d": [True, True, False, False, False, False]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = U.uplift_by_segment(c, segment="segment_at_send", outcome="purchased_30d")
    assert t["uplift"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert (t["ci_low"] < t["uplift"]).all() and (t["uplift"] < t["ci_high"]).all()


@pytest.mark.parametrize("dtype", ["category", "str", object])
def test_isin_matches_pandas_with_missing_and_unused_categories(dtype):
    values = pd.Series(["completed", None, "refunded", "completed", "cancelled"], dtype=dtype)
    if dtype == "category":
        values = values.cat.add_categories(["unused"])
    allowed = ("completed", "unused")
    assert UCM._isin(values, allowed).tolist() == values.isin(list(allowed)).tolist()


# --- weighted (grouped) BG/NBD summaries: what the engines bring back ------------------
@pytest.mark.parametrize("fit", ["fit_bgnbd", "fit_mbgnbd"])
def test_grouped_summary_with_weights_fits_the_same_optimum(fit, bg_sim):
    s = bg_sim[["frequency", "recency", "T"]].round(0)   # whole weeks, as an engine summary has
    n = len(s)
    g = s.groupby(["frequency", "recency", "T"], as_index=False).size()
    a, b = getattr(U, fit)(s), getattr(U, fit)(g, weights="size")
    assert b.n_customers == n
    for k in ("r", "alpha", "a", "b"):
        assert getattr(b, k) == pytest.approx(getattr(a, k), rel=1e-4)  # same optimum, optimiser tolerance
    assert b.log_likelihood == pytest.approx(a.log_likelihood, rel=1e-8)
    # a zero-count row changes nothing
    z = pd.concat([g, pd.DataFrame({"frequency": [3.0], "recency": [2.0], "T": [50.0], "size": [0]})])
    assert getattr(U, fit)(z, weights="size").r == pytest.approx(b.r, rel=1e-4)


@pytest.mark.parametrize("bad, msg", [([1, -1], ">= 0"), ([1, np.nan], "missing"), ([0, 0], "sum to 0")])
def test_weights_must_be_counts(bad, msg):
    s = pd.DataFrame({"frequency": [1.0, 0.0], "recency": [3.0, 0.0], "T": [10.0, 12.0], "n": bad})
    with pytest.raises(ValueError, match=msg):
        U.fit_bgnbd(s, weights="n")
    with pytest.raises(ValueError, match="n_customers"):
        U.fit_bgnbd(s.drop(columns="n"), weights="n_customers")
