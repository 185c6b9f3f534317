"""Unit and property tests of ecomlab.review (chapter 06: measuring a programme, the review report)."""

from __future__ import annotations

import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomlab import channels, review


# --- naive_programme_figures --------------------------------------------------------------
def _shop():
    o = pd.DataFrame({"order_id": ["o1", "o2", "o3", "o4", "o5"], "customer_id": ["a", "b", "a", "c", "b"],
                      "status": ["completed", "completed", "completed", "completed", "cancelled"],
                      "order_ts": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-07-09", "2025-08-01", "2025-08-02"]),
                      "paid_amount": [50.0, 60.0, 100.0, 40.0, 70.0], "shipping_fee": [0.0] * 5,
                      "discount_amount": [0.0] * 5})
    c = pd.DataFrame({"customer_id": ["a", "b", "c"],
                      "first_order_date": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-08-01"]),
                      "joined_fan_group_date": pd.to_datetime(["2025-07-02", None, "2025-08-01"])})
    return o, c


def test_naive_figures_follow_the_marketers_definitions():
    o, c = _shop()
    f = review.naive_programme_figures(o, c, start="2025-07-01", end="2026-01-01", cost=35.0)
    # a (member) bought in H2; b (non-member) only a cancelled order; c first ordered in H2 (not counted)
    assert (f["repurchase_rate_members"], f["repurchase_rate_non_members"]) == (1.0, 0.0)
    assert np.isnan(f["repurchase_gap"])  # no non-member repurchased: the gap is undefined, not inf
    # members' revenue after joining: a's 100 and c's 40 (c joined on the day of the order)
    assert f["member_revenue_after_joining"] == 140.0 and f["revenue_roi"] == 4.0
    o.loc[4, "status"] = "refunded"  # a refunded order counts for the marketer
    f = review.naive_programme_figures(o, c, start="2025-07-01", end="2026-01-01", cost=35.0)
    assert f["repurchase_rate_non_members"] == 1.0 and f["repurchase_gap"] == 0.0


@pytest.mark.parametrize("kw, match", [
    ({"cost": 0}, "cost"), ({"cost": float("nan")}, "cost"), ({"cost": "a lot"}, "cost"),
    ({"start": "2026-02-01"}, "start must be before end"), ({"start": "not a date"}, "start"),
])
def test_naive_figures_reject_bad_arguments(kw, match):
    o, c = _shop()
    args = {"start": "2025-07-01", "end": "2026-01-01", "cost": 10.0, **kw}
    with pytest.raises(ValueError, match=match):
        review.naive_programme_figures(o, c, **args)


def test_naive_figures_reject_bad_tables():
    o, c = _shop()
    with pytest.raises(ValueError, match="paid_amount"):
        review.naive_programme_figures(o.drop(columns="paid_amount"), c, start="2025-07-01", end="2026-01-01", cost=1.0)
    with pytest.raises(ValueError, match="unique"):
        review.naive_programme_figures(o, pd.concat([c, c.iloc[:1]]), start="2025-07-01", end="2026-01-01", cost=1.0)
    with pytest.raises(ValueError, match="members and non-members"):
        review.naive_programme_figures(o, c.assign(joined_fan_group_date=pd.NaT), start="2025-07-01",
                                       end="2026-01-01", cost=1.0)


# --- programme_value -------------------------------------------------------------------------
def _value(effect=(0.25, 0.1, 0.5), returns=None):
    o, c = _shop()
    it = pd.DataFrame({"order_id": ["o1", "o2", "o3", "o4", "o5"], "sku_id": ["s"] * 5, "quantity": [1, 1, 2, 1, 1]})
    pr = pd.DataFrame({"sku_id": ["s"], "unit_cost": [10.0]})
    rt = returns if returns is not None else pd.DataFrame({"order_id": ["o3"], "sku_id": ["s"], "refund_amount": [50.0]})
    return review.programme_value(o, it, pr, rt, c, effect, start="2025-07-01", end="2026-01-01", cost=20.0)


def test_programme_value_formulas():
    v = _value()
    # member orders after joining: o3 (a) and o4 (c); net revenue (100 − 50) and 40; gross profit:
    # o3: 50 − cogs 20 + 20 (a returned line comes back whole, goods restocked), o4: 40 − 10 = 30
    assert v.attrs["member_orders"] == 2
    assert v.attrs["revenue_per_order"] == pytest.approx(45.0)
    assert v.attrs["gross_profit_per_order"] == pytest.approx(40.0)
    inc = 2 * 0.25 / 1.25
    assert v.loc["estimate", "incremental_orders"] == pytest.approx(inc)
    assert v.loc["estimate", "roas"] == pytest.approx(inc * 45.0 / 20.0)
    assert v.loc["estimate", "profit_roi"] == pytest.approx((inc * 40.0 - 20.0) / 20.0)
    assert (v["incremental_orders"].diff().iloc[1:].abs() > 0).all()
    assert v.loc["ci_low", "profit_roi"] < v.loc["estimate", "profit_roi"] < v.loc["ci_high", "profit_roi"]


@pytest.mark.parametrize("effect", [(0.1, 0.2), (0.1, -1.0, 0.3), (np.nan, 0, 1), "big"])
def test_programme_value_rejects_bad_effects(effect):
    with pytest.raises(ValueError, match="effect"):
        _value(effect=effect)


def test_programme_value_rejects_unknown_skus():
    o, c = _shop()
    it = pd.DataFrame({"order_id": ["o3"], "sku_id": ["nope"], "quantity": [1]})
    with pytest.raises(ValueError, match="not in products"):
        review.programme_value(o, it, pd.DataFrame({"sku_id": ["s"], "unit_cost": [1.0]}),
                               pd.DataFrame(columns=["order_id", "sku_id", "refund_amount"]), c, (0.1, 0, 0.2),
                               start="2025-07-01", end="2026-01-01", cost=1.0)


# --- category_units / category_did ---------------------------------------------------------------
def test_category_units_fills_zero_days_and_excludes_cancelled():
    o, _ = _shop()
    it = pd.DataFrame({"order_id": ["o1", "o1", "o5"], "sku_id": ["s1", "s2", "s1"], "quantity": [2, 1, 9]})
    p = pd.DataFrame({"sku_id": ["s1", "s2"], "category": ["storage", "decor"]})
    u = review.category_units(o, it, p, start="2025-01-05", end="2025-01-07")
    assert len(u) == 4 and u["units"].sum() == 3 and u["lines"].sum() == 2
    with pytest.raises(ValueError, match="not in products"):
        review.category_units(o, it.assign(sku_id="x"), p, start="2025-01-01", end="2025-02-01")


def _category_panel(k=1.25, n_days=240, seed=0, trend=0.0):
    d = pd.date_range("2025-01-01", periods=n_days)
    rng = np.random.default_rng(seed)
    p = pd.DataFrame({"date": np.repeat(d, 3), "category": ["storage", "decor", "bath"] * n_days})
    t = np.repeat(np.arange(n_days) / 365, 3)
    day = np.repeat(np.exp(rng.normal(0, 0.3, n_days)), 3)  # day shocks shared by all categories
    mu = 40 * day * np.where((p["category"] == "storage") & (p["date"] >= "2025-05-01"), k, 1.0)
    mu = mu * np.exp(trend * t * (p["category"] == "storage"))
    p["units"] = rng.poisson(mu)
    return p


def test_category_did_recovers_a_push_and_flat_leads():
    r = review.category_did(_category_panel(), treated="storage", start="2025-05-01")
    assert r.ci_low < 1.25 < r.ci_high and r.ratio == pytest.approx(1.25, abs=0.05)
    assert r.leads_df == 3 and r.leads_p_value > 0.01
    es = r.event_study
    assert es["reference"].sum() == 1 and es.loc[es["reference"], "bin"].item() == pd.Timestamp("2025-04-01")
    assert (es.loc[~es["lead"], "ratio"] > 1.1).all()


def test_category_did_leads_catch_a_pre_trend():
    r = review.category_did(_category_panel(k=1.0, trend=1.0), treated="storage", start="2025-05-01")
    assert r.leads_p_value < 0.01


def test_category_did_drops_days_without_sales_and_validates():
    p = _category_panel(n_days=150)
    p.loc[p["date"] == "2025-02-01", "units"] = 0
    r = review.category_did(p, treated="storage", start="2025-05-01")
    assert r.empty_days == 1 and r.n_days == 149
    with pytest.raises(ValueError, match="treated"):
        review.category_did(p, treated="kitchen", start="2025-05-01")
    with pytest.raises(ValueError, match="counts"):
        review.category_did(p.assign(units=-1), treated="storage", start="2025-05-01")
    with pytest.raises(ValueError, match="duplicates"):
        review.category_did(pd.concat([p, p.iloc[:1]]), treated="storage", start="2025-05-01")
    with pytest.raises(ValueError, match="before and after"):
        review.category_did(p, treated="storage", start="2027-01-01")
    with pytest.raises(ValueError, match="at least one other"):
        review.category_did(p[p["category"] == "storage"], treated="storage", start="2025-05-01")


# --- synthetic_control ----------------------------------------------------------------------------
def _market(k=1.25, seed=1, noise=0.03):
    idx = pd.date_range("2024-01-01", periods=24, freq="MS")
    rng = np.random.default_rng(seed)
    growth = np.exp(np.linspace(0, 0.6, 24))
    w = pd.DataFrame({b: s * growth * np.exp(rng.normal(0, noise, 24))
                      for b, s in [("us", 5.0), ("x", 40.0), ("y", 30.0), ("z", 20.0), ("v", 12.0)]}, index=idx)
    w.loc["2025-07-01":, "us"] *= k
    return w


def test_synthetic_control_recovers_the_effect_and_ranks_first():
    r = review.synthetic_control(_market(), "us", "2025-07-01")
    assert r.ci_low < 1.25 < r.ci_high
    assert r.weights.sum() == pytest.approx(1.0) and (r.weights >= 0).all()
    assert r.p_value == pytest.approx(1 / 5)
    assert (r.placebos["ratio"].iloc[1:] - 1).abs().max() < 0.1
    assert len(r.path) == 24 and r.path["gap"].iloc[:18].mean() == pytest.approx(0.0, abs=1e-9)


def test_synthetic_control_no_effect_covers_one():
    r = review.synthetic_control(_market(k=1.0), "us", "2025-07-01")
    assert r.ci_low < 1.0 < r.ci_high


@settings(max_examples=15)
@given(st.floats(0.5, 2.0), st.floats(0.2, 5.0))
def test_synthetic_control_is_scale_invariant(k, scale):
    """Multiplying every unit's sales by one factor changes nothing (logs, intercept)."""
    w = _market(k=k)
    a, b = review.synthetic_control(w, "us", "2025-07-01"), review.synthetic_control(w * scale, "us", "2025-07-01")
    assert a.ratio == pytest.approx(b.ratio, rel=1e-5)
    assert a.ratio == pytest.approx(k, rel=0.1)


def test_synthetic_control_validates():
    w = _market()
    with pytest.raises(ValueError, match="treated unit"):
        review.synthetic_control(w, "nobody", "2025-07-01")
    with pytest.raises(ValueError, match="two donors"):
        review.synthetic_control(w[["us", "x"]], "us", "2025-07-01")
    bad = w.copy()
    bad.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="sales > 0"):
        review.synthetic_control(bad, "us", "2025-07-01")
    with pytest.raises(ValueError, match="3 periods before"):
        review.synthetic_control(w, "us", "2024-02-01")
    with pytest.raises(ValueError, match="sorted"):
        review.synthetic_control(w.iloc[::-1], "us", "2025-07-01")


# --- spend_push_increment ------------------------------------------------------------------------
def test_spend_push_increment_matches_the_curve():
    d = pd.date_range("2024-01-01", periods=300)
    x = pd.DataFrame({"tv": np.where(d >= "2024-07-01", 160.0, 100.0)}, index=d)
    f = channels.fit_mmm(x, pd.Series(20 + 40 * channels.hill(x["tv"].to_numpy(), 100.0), index=d))
    r = review.spend_push_increment(f, "tv", "2024-07-01", 1.6)
    assert r["extra_spend"] == pytest.approx(r["spend"] * (1 - 1 / 1.6))
    assert r["added_sales"] > 0 and r["added_per_extra_spend"] < 40 / 100  # below the slope at 0
    assert review.spend_push_increment(f, "tv", "2024-07-01", 1.0)["added_sales"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="channel"):
        review.spend_push_increment(f, "radio", "2024-07-01", 1.6)
    with pytest.raises(ValueError, match="no fitted day"):
        review.spend_push_increment(f, "tv", "2030-01-01", 1.6)
    with pytest.raises(ValueError, match="multiplier"):
        review.spend_push_increment(f, "tv", "2024-07-01", 0)


# --- report_html / report_pdf ----------------------------------------------------------------------
def test_report_html_is_standalone(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 运营复盘 review\n\nprofit ROI −49%")])
    out = tmp_path / "r.html"
    page = review.report_html(nb, "复盘", out)
    assert out.read_text(encoding="utf-8") == page and "profit ROI" in page
    assert "src=\"http" not in page and "href=\"http" not in page


def test_report_pdf_is_optional(tmp_path, monkeypatch):
    monkeypatch.setattr(review, "_chromium", lambda: None)
    assert review.report_pdf(tmp_path / "missing.html", tmp_path / "r.pdf") is None
    monkeypatch.setattr(review, "_chromium", lambda: "/bin/true")
    with pytest.raises(ValueError, match="html_path"):
        review.report_pdf(tmp_path / "missing.html", tmp_path / "r.pdf")


def test_report_notebook_embeds_figures_with_alt_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_title("Sales doubled")
    nb = review.report_notebook(["# Review", fig])
    out = nb.cells[1].outputs[0]
    assert nb.cells[1].cell_type == "code" and out["metadata"]["image/png"]["alt"] == "Sales doubled"
    assert out["data"]["image/png"] and not plt.fignum_exists(fig.number)  # closed once rendered
    page = review.report_html(nb, "Review")
    assert 'alt="Sales doubled"' in page and "data:image/png;base64," in page
    with pytest.raises(ValueError, match=r"parts\[1\]"):
        review.report_notebook(["ok", 42])
    with pytest.raises(ValueError, match="empty"):
        review.report_notebook([])
