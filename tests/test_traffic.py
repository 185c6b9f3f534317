"""Tests for ecomlab.traffic (lessons 05-3 / 03): cleaning, sessions, funnels, paths, heatmaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ecomlab import traffic as tr

EV = pd.CategoricalDtype(["pv", "fav", "cart", "buy"], ordered=True)


def _events(n_sessions=300, seed=0):
    rng = np.random.default_rng(seed)
    k = rng.integers(1, 8, n_sessions)
    sid = np.repeat(np.arange(n_sessions), k)
    ev = rng.choice(["pv", "fav", "cart", "buy"], len(sid), p=[.6, .1, .2, .1])
    ts = pd.Timestamp("2025-11-01") + pd.to_timedelta(rng.integers(0, 29 * 86400, n_sessions)[sid] + rng.integers(0, 1800, len(sid)), unit="s")
    dev = np.array(["ios", "android", "pc", None], dtype=object)[rng.integers(0, 4, n_sessions)][sid]
    return pd.DataFrame({
        "visitor_id": pd.Series([f"V{i // 2}" for i in sid], dtype="str"),
        "session_id": pd.Series([f"S{i:09d}" for i in sid], dtype="str"),
        "ts": ts.astype("datetime64[us]"),
        "event": pd.Categorical(ev, dtype=EV),
        "sku_id": "SKU0001",
        "source": pd.Categorical(np.array(["direct", "feed_ads"])[rng.integers(0, 2, n_sessions)][sid]),
        "device": pd.Categorical(dev, categories=["ios", "android", "pc"]),
    })


def _naive_strict(df, steps):
    """Reference: per-session Python loop (slow, obviously correct)."""
    counts = np.zeros(len(steps), int)
    for _, g in df.sort_values("ts").groupby("session_id"):
        t_prev = None
        for k, s in enumerate(steps):
            ts = g.loc[g["event"].astype(str) == s, "ts"]
            if t_prev is not None:
                ts = ts[ts >= t_prev]
            if len(ts) == 0:
                break
            t_prev = ts.min()
            counts[k] += 1
    return counts


def test_clean_events_reports_every_reason():
    ev = _events().drop_duplicates(ignore_index=True)
    dup = ev.iloc[:7]
    early = ev.iloc[:3].assign(ts=pd.Timestamp("2025-10-30") + pd.to_timedelta([0, 1, 2], unit="s"))
    late = ev.iloc[:2].assign(ts=pd.Timestamp("2025-12-01") + pd.to_timedelta([0, 1], unit="s"))
    nat = ev.iloc[:1].assign(ts=pd.NaT)
    raw = pd.concat([ev, dup, early, late, nat], ignore_index=True)
    clean, rep = tr.clean_events(raw, "2025-11-01", "2025-12-01")
    r = rep.set_index("reason")["rows"]
    assert r["exact duplicate row"] == 7 and r["before 2025-11-01"] == 3 and r["on/after 2025-12-01"] == 2
    assert r["missing timestamp"] == 1
    assert r["rows out"] == len(clean) == len(ev)
    assert r["rows in"] - rep.loc[rep["action"] == "removed", "rows"].sum() == r["rows out"]
    assert r["missing device"] == int(ev["device"].isna().sum()) > 0  # kept
    # a duplicated out-of-window row is removed once (as a duplicate) but flagged by both rules
    both = ev.iloc[[5]].assign(ts=pd.Timestamp("2025-12-02"))
    c2, rep2 = tr.clean_events(pd.concat([ev, both, both], ignore_index=True), "2025-11-01", "2025-12-01")
    r2 = rep2.set_index("reason")
    assert r2.loc["exact duplicate row", ["rows", "flagged"]].tolist() == [1, 1]
    assert r2.loc["on/after 2025-12-01", ["rows", "flagged"]].tolist() == [1, 2]
    assert len(c2) == len(ev) and r2.loc["rows in", "rows"] - len(c2) == 2
    assert r2.loc["missing device", "flagged"] >= r2.loc["missing device", "rows"]
    with pytest.raises(ValueError, match="datetime64"):
        tr.clean_events(raw.assign(ts=raw["ts"].astype(str)))
    with pytest.raises(ValueError, match="before end"):
        tr.clean_events(raw, start="2025-12-01", end="2025-11-01")
    c0, r0 = tr.clean_events(ev.iloc[:0], "2025-11-01", "2025-12-01")
    assert len(c0) == 0
    with pytest.raises(ValueError, match="no timestamps"):
        tr.clean_events(ev.iloc[:0])


def test_sessions_table():
    ev = _events()
    s = tr.sessions(ev)
    assert len(s) == ev["session_id"].nunique()
    assert s["n_events"].sum() == len(ev)
    g = ev.groupby("session_id")
    ref_cart = g["event"].apply(lambda e: (e == "cart").any()).sort_index()
    assert (s.set_index("session_id").sort_index()["reached_cart"].to_numpy() == ref_cart.to_numpy()).all()
    assert (s["end_ts"] >= s["start_ts"]).all()
    with pytest.raises(ValueError, match="empty"):
        tr.sessions(ev.iloc[:0])


@pytest.mark.parametrize("steps", [("pv", "cart", "buy"), ("pv", "fav", "cart", "buy")])
def test_strict_funnel_matches_naive_loop(steps):
    ev = _events(80)
    f = tr.funnel(ev, steps, mode="strict")
    np.testing.assert_array_equal(f["units"].to_numpy(), _naive_strict(ev, steps))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 120), st.integers(0, 10_000), st.sampled_from(["session", "visitor"]))
def test_funnel_non_increasing_and_strict_le_loose(n, seed, unit):
    ev = _events(n, seed)
    unordered = tr.funnel(ev, mode="unordered", unit=unit)["units"].to_numpy()
    strict = tr.funnel(ev, mode="strict", unit=unit)["units"].to_numpy()
    loose = tr.funnel(ev, mode="loose", unit=unit)["units"].to_numpy()
    assert (np.diff(unordered) <= 0).all() and (np.diff(strict) <= 0).all()
    assert (strict <= unordered).all() and (unordered <= loose).all()
    assert strict[0] == unordered[0] == loose[0]
    np.testing.assert_array_equal(tr.funnel(ev, mode="independent", unit=unit)["units"], loose)  # alias


def test_loose_funnel_counts_buy_now_sessions_that_strict_drops():
    """Glossary: a loose funnel counts everyone who reached a step (宽松漏斗)."""
    t = pd.to_datetime(["2025-11-01 10:00", "2025-11-01 10:01", "2025-11-01 10:02"])
    ev = pd.DataFrame({
        "session_id": ["s1"] * 3 + ["s2"] * 2 + ["s3"] * 2,
        "ts": list(t) + list(t[:2]) + list(t[:2]),
        "event": ["pv", "cart", "buy", "pv", "buy", "buy", "pv"],  # s2 buy now; s3 buy logged before pv
    })
    by_mode = {m: tr.funnel(ev, mode=m)["units"].tolist() for m in ("strict", "unordered", "loose")}
    assert by_mode == {"strict": [3, 1, 1], "unordered": [3, 1, 1], "loose": [3, 1, 3]}
    f = tr.funnel(ev, mode="loose")
    assert f["step_conversion"].iloc[2] == 3.0  # a ratio of counts, not a conversion


def test_funnel_by_segment_and_rates():
    ev = _events()
    f = tr.funnel(ev, by="device")
    tot = tr.funnel(ev)
    assert "missing" in set(f["device"].astype(str))
    np.testing.assert_array_equal(f.groupby("step", observed=True)["units"].sum().to_numpy(), tot["units"].to_numpy())
    first = tot.iloc[0]
    assert first["step_conversion"] == 1 and first["overall_conversion"] == 1
    assert tot["overall_conversion"].iloc[-1] == pytest.approx(tot["units"].iloc[-1] / tot["units"].iloc[0])
    fs = tr.funnel(ev, by="traffic_source")
    assert "source" in fs.columns


def test_funnel_validation_and_edge_cases():
    ev = _events(20)
    with pytest.raises(ValueError, match="mode"):
        tr.funnel(ev, mode="fuzzy")
    with pytest.raises(ValueError, match="steps"):
        tr.funnel(ev, steps=("pv",))
    with pytest.raises(ValueError, match="not among the event types"):
        tr.funnel(ev, steps=("pv", "checkout"))
    with pytest.raises(ValueError, match="unit"):
        tr.funnel(ev, unit="device")
    with pytest.raises(ValueError, match="empty"):
        tr.funnel(ev.iloc[:0])
    with pytest.raises(ValueError, match="missing"):
        tr.funnel(ev.assign(session_id=ev["session_id"].where(ev.index > 0)))
    with pytest.raises(ValueError, match="datetime64"):
        tr.funnel(ev.assign(ts=ev["ts"].astype(str)))
    one = tr.funnel(ev.iloc[:1].assign(event=pd.Categorical(["pv"], dtype=EV)))
    assert one["units"].tolist() == [1, 0, 0]
    # duplicates do not change unit counts; string event column works too
    dd = pd.concat([ev, ev])
    np.testing.assert_array_equal(tr.funnel(dd)["units"], tr.funnel(ev.assign(event=ev["event"].astype(str)))["units"])


def test_transition_matrix_and_paths():
    ev = _events()
    m = tr.transition_matrix(ev)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    counts = tr.transition_matrix(ev, normalize=False)
    assert counts.loc["start"].sum() == ev["session_id"].nunique()
    assert counts["exit"].sum() == ev["session_id"].nunique()
    assert counts.to_numpy().sum() == len(ev) + ev["session_id"].nunique()
    p = tr.top_paths(ev, n=5, max_len=3)
    assert len(p) == 5 and (np.diff(p["units"]) <= 0).all() and p["share"].between(0, 1).all()
    allp = tr.top_paths(ev, n=10_000, max_len=20)
    assert allp["units"].sum() == ev["session_id"].nunique()
    with pytest.raises(ValueError, match="max_len"):
        tr.top_paths(ev, max_len=0)


def test_cart_abandonment():
    ev = _events()
    a = tr.cart_abandonment(ev)
    s = tr.sessions(ev)
    assert a["carts"].iloc[0] == s["reached_cart"].sum()
    assert a["abandoned"].iloc[0] == (s["reached_cart"] & ~s["reached_buy"]).sum()
    b = tr.cart_abandonment(ev, by="device")
    assert b["carts"].sum() == a["carts"].iloc[0] and b["abandonment_rate"].between(0, 1).all()


def test_activity_heatmap():
    ev = _events()
    h = tr.activity_heatmap(ev)
    assert h.shape == (24, 7) and h.to_numpy().sum() == len(ev)
    ref = pd.crosstab(ev["ts"].dt.hour, ev["ts"].dt.day_of_week).reindex(index=range(24), columns=range(7), fill_value=0)
    np.testing.assert_array_equal(h.to_numpy(), ref.to_numpy())
    assert tr.activity_heatmap(ev, normalize=True).to_numpy().sum() == pytest.approx(1.0)
    assert tr.activity_heatmap(ev, event="buy").to_numpy().sum() == int((ev["event"] == "buy").sum())
    per_day = tr.activity_heatmap(ev, per_day=True)
    n_days = ev["ts"].dt.normalize().drop_duplicates().dt.day_of_week.value_counts().reindex(range(7), fill_value=0)
    np.testing.assert_allclose(per_day.to_numpy() * np.where(n_days > 0, n_days, 1).astype(float), h.to_numpy())
    with pytest.raises(ValueError, match="not both"):
        tr.activity_heatmap(ev, normalize=True, per_day=True)


def _clicks(seed=0):
    rng = np.random.default_rng(seed)
    n = 4000
    ver = np.repeat(["A", "B"], n // 2)
    el = np.r_[rng.choice(["image_gallery", "buy_now", "reviews"], n // 2, p=[.5, .2, .3]),
               rng.choice(["image_gallery", "buy_now", "reviews"], n // 2, p=[.4, .35, .25])]
    return pd.DataFrame({"session_id": "S1", "page_version": pd.Categorical(ver), "x": rng.uniform(0, 375, n),
                         "y": rng.uniform(0, 1500, n), "element": pd.Categorical(el)})


def test_click_heatmap_and_element_share():
    pc = _clicks()
    g = tr.click_heatmap(pc, bins=(5, 10))
    assert set(g) == {"A", "B"} and g["A"].shape == (10, 5)
    assert g["B"].to_numpy().sum() == pytest.approx(1.0)
    raw = tr.click_heatmap(pc, bins=(5, 10), normalize=False)
    assert raw["A"].to_numpy().sum() == 2000
    with pytest.raises(ValueError, match="outside"):
        tr.click_heatmap(pc.assign(x=pc["x"] + 400))
    r = tr.element_click_share(pc)
    ref = stats.chi2_contingency(pd.crosstab(pc["element"], pc["page_version"]).to_numpy(), correction=False)
    assert r.pvalue == pytest.approx(ref.pvalue) and r.significant
    assert r.residuals.loc["buy_now", "B"] > 2
    np.testing.assert_allclose(r.shares.sum(axis=0), 1.0)
    assert "χ²" in r._repr_html_() and len(r.to_frame()) == 3
    with pytest.raises(ValueError, match="version"):
        tr.element_click_share(pc[pc["page_version"] == "A"].assign(page_version="A"))


def test_page_heatmap_draws_click_grid_to_scale():
    """plots.page_heatmap (the lesson's PDP figure) draws traffic.click_heatmap grids."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecomlab import plots

    grids = tr.click_heatmap(_clicks(), bins=(5, 20))
    vmax = max(g.to_numpy().max() for g in grids.values())
    fig, axes = plt.subplots(1, 2)
    try:
        for ax, v in zip(axes, "AB", strict=True):
            out = plots.page_heatmap(grids[v], ax, title=f"Version {v} 热力图", vmax=vmax,
                                     marks={"buy now": (270.0, 784.0)})
            assert out is ax and ax.get_xlim() == (0.0, 375.0)
            assert ax.get_ylim()[0] > ax.get_ylim()[1]  # top of the page at the top
        assert axes[1].images[0].get_clim() == (0.0, vmax)
        with pytest.raises(ValueError, match="grid must be a pandas DataFrame"):
            plots.page_heatmap(grids["A"].to_numpy(), axes[0])
        with pytest.raises(ValueError, match="non-negative"):
            plots.page_heatmap(-grids["A"], axes[0])
        with pytest.raises(ValueError, match="fold"):
            plots.page_heatmap(grids["A"], axes[0], fold=-1)
        with pytest.raises(ValueError, match="cmap"):
            plots.page_heatmap(grids["A"], axes[0], cmap="not-a-map")
    finally:
        plt.close(fig)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["s1", "s2", None]), st.sampled_from([0.0, 1.0, np.nan])),
             min_size=0, max_size=25)
)
def test_duplicated_rows_equals_pandas(rows):
    """The probe-first duplicate search gives pandas' ``duplicated(keep='first')`` exactly,
    with repeated and missing timestamps, ids and values."""
    ts = [pd.NaT if r[0] == 3 else pd.Timestamp("2025-11-01") + pd.Timedelta(seconds=r[0]) for r in rows]
    df = pd.DataFrame({"ts": pd.Series(ts, dtype="datetime64[us]"),
                       "session_id": pd.Series([r[1] for r in rows], dtype="str"),
                       "v": [r[2] for r in rows]})
    assert tr._duplicated_rows(df, "ts").tolist() == df.duplicated(keep="first").tolist()


def _shop_log(year=2019, n_days=10, seed=3):
    """A shop's own log: its own event names (strings), another year, stray edge rows."""
    rng = np.random.default_rng(seed)
    n = 40 * n_days
    day = rng.integers(0, n_days, n)
    ts = pd.Timestamp(f"{year}-03-01") + pd.to_timedelta(day * 86400 + rng.integers(8 * 3600, 22 * 3600, n), unit="s")
    sid = np.arange(n) // 3
    ts = ts.to_numpy()[sid * 3]  + pd.to_timedelta(np.arange(n) % 3 * 60, unit="s").to_numpy()
    names = np.array(["view_item", "add_to_cart", "purchase"])[np.minimum(np.arange(n) % 3, rng.integers(0, 3, n))]
    ev = pd.DataFrame({"session_id": [f"s{i}" for i in sid], "visitor_id": [f"v{i}" for i in sid],
                       "ts": pd.Series(ts).astype("datetime64[us]"), "event": names})
    stray = pd.DataFrame({"session_id": ["x1", "x2"], "visitor_id": ["x1", "x2"], "event": ["view_item"] * 2,
                          "ts": pd.to_datetime([f"{year}-02-28 23:40", f"{year}-03-{n_days + 1:02d} 00:20"])})
    return pd.concat([ev, stray], ignore_index=True).astype({"ts": "datetime64[us]"})


def test_clean_events_window_comes_from_the_data_not_a_built_in_date():
    """The issue's analyst lost 100% of their rows to a 2025 default window: any year now."""
    ev = _shop_log(2019)
    lo, hi = tr.event_window(ev)
    assert (lo, hi) == (pd.Timestamp("2019-03-01"), pd.Timestamp("2019-03-11"))
    clean, rep = tr.clean_events(ev)
    r = rep.set_index("reason")["rows"]
    assert r["before 2019-03-01"] == 1 and r["on/after 2019-03-11"] == 1
    assert len(clean) == len(ev) - 2
    assert rep.attrs["window"] == (lo, hi) and rep.attrs["window_rule"].startswith("from the data")
    # one end given, the other from the data; sparse_share=0 keeps the data's whole span
    _, rep1 = tr.clean_events(ev, start="2019-03-02")
    assert rep1.attrs["window"] == (pd.Timestamp("2019-03-02"), hi) and "start given" in rep1.attrs["window_rule"]
    assert tr.event_window(ev, sparse_share=0) == (pd.Timestamp("2019-02-28"), pd.Timestamp("2019-03-12"))
    # the bundled log's derived window is its documented month (so exercises need no dates)
    from ecomlab import datasets

    assert tr.event_window(datasets.load("events")) == (pd.Timestamp("2025-11-01"), pd.Timestamp("2025-12-01"))
    for bad in (-0.1, 1, "5%"):
        with pytest.raises(ValueError, match="sparse_share"):
            tr.event_window(ev, sparse_share=bad)
    with pytest.raises(ValueError, match="datetime64"):
        tr.event_window(ev.assign(ts=ev["ts"].astype(str)))


@given(st.lists(st.integers(0, 30), min_size=1, max_size=40), st.floats(0, 0.99))
@settings(max_examples=60, deadline=None)
def test_event_window_holds_every_full_day(days, share):
    """Property: the window is whole days, holds every day with >= share x median events,
    and only sparse edge days fall outside it."""
    ts = pd.Series(pd.Timestamp("2021-06-01") + pd.to_timedelta(days, unit="D") + pd.Timedelta(hours=5))
    lo, hi = tr.event_window(pd.DataFrame({"ts": ts.astype("datetime64[us]")}), sparse_share=share)
    counts = ts.dt.normalize().value_counts()
    full = counts.index[counts >= share * counts.median()]
    assert lo == full.min() and hi == full.max() + pd.Timedelta(days=1)
    assert lo.normalize() == lo and hi.normalize() == hi


def test_unknown_event_names_are_errors_not_zeros():
    """cart_abandonment said 100% because the purchase event was not called 'buy'."""
    ev = _shop_log()
    with pytest.raises(ValueError, match=r"\['buy'\] not among the event types"):
        tr.cart_abandonment(ev, cart="add_to_cart")
    with pytest.raises(ValueError, match="not among the event types"):
        tr.funnel(ev)
    with pytest.raises(ValueError, match="not among the event types"):
        tr.sessions(ev)
    with pytest.raises(ValueError, match="cart and buy must be different"):
        tr.cart_abandonment(ev, cart="purchase", buy="purchase")
    a = tr.cart_abandonment(ev, cart="add_to_cart", buy="purchase")
    per = ev.groupby("session_id")["event"].agg(set)
    carts = per.map(lambda s: "add_to_cart" in s)
    bought = per.map(lambda s: "purchase" in s)
    assert a["carts"].iloc[0] == carts.sum() and a["abandoned"].iloc[0] == (carts & ~bought).sum()
    assert 0 < a["abandonment_rate"].iloc[0] < 1
    steps = ("view_item", "add_to_cart", "purchase")
    f = tr.funnel(ev, steps, mode="loose")
    assert f["units"].tolist() == [int(per.map(lambda s, k=k: k in s).sum()) for k in steps]
    s = tr.sessions(ev, view="view_item", cart="add_to_cart", buy="purchase")
    assert s["reached_buy"].sum() == bought.sum() and s["n_pv"].sum() == (ev["event"] == "view_item").sum()
    assert "reached_cart" not in tr.sessions(ev, view="view_item", cart=None, buy="purchase")
    # a categorical log knows a step with no rows: a real zero, not an error
    none_bought = ev[ev["event"] != "purchase"].astype({"event": pd.CategoricalDtype(steps)})
    assert tr.cart_abandonment(none_bought, cart="add_to_cart", buy="purchase")["abandonment_rate"].iloc[0] == 1.0


def test_paths_and_transitions_follow_the_logs_vocabulary():
    ev = _shop_log()
    steps = ("view_item", "add_to_cart", "purchase")
    with pytest.raises(ValueError, match="not among the event types"):
        tr.top_paths(ev)  # buy='buy' unknown
    p = tr.top_paths(ev, buy="purchase", steps=steps)
    assert p["units"].sum() <= ev["session_id"].nunique()
    assert (p["ends_in_buy"] == p["path"].str.endswith("purchase")).all()
    assert "ends_in_buy" not in tr.top_paths(ev, buy=None)
    m = tr.transition_matrix(ev, steps=steps, normalize=False)
    assert list(m.index) == ["start", *steps] and m.to_numpy().sum() == len(ev) + ev["session_id"].nunique()
    # without steps: the values present (alphabetical); a categorical's own order wins
    assert list(tr.transition_matrix(ev).columns) == sorted(steps) + ["exit"]
    cat = ev.astype({"event": pd.CategoricalDtype(["view_item", "add_to_cart", "begin_checkout", "purchase"])})
    assert list(tr.transition_matrix(cat).index)[1:] == ["view_item", "add_to_cart", "begin_checkout", "purchase"]
    with pytest.raises(ValueError, match="outside steps"):
        tr.transition_matrix(ev, steps=("view_item", "purchase"))
    many = ev.assign(event=[f"e{i % 12}" for i in range(len(ev))])
    with pytest.raises(ValueError, match="64-bit"):
        tr.top_paths(many, max_len=20, buy=None)


def test_by_accepts_any_segment_column():
    ev = _events().assign(country=lambda d: np.where(d["session_id"].str[-1] < "5", "DE", "FR"))
    f = tr.funnel(ev, by="country", mode="strict")
    assert set(f["country"].astype(str)) == {"DE", "FR"}
    total = tr.funnel(ev, mode="strict")
    np.testing.assert_array_equal(f.groupby("step", observed=True)["units"].sum().to_numpy(), total["units"])
    a = tr.cart_abandonment(ev, by="country")
    assert list(a.columns[:1]) == ["country"] and a["carts"].sum() == tr.cart_abandonment(ev)["carts"].iloc[0]
    with pytest.raises(ValueError, match="country2"):
        tr.funnel(ev, by="country2")
