"""The channel ROI and media-mix template (notebooks/templates/channels.ipynb): bundled data
with an experiment that agrees with the model, a folder whose marketing_daily lacks the
platform-attributed columns (that section skipped) with an experiment that does not agree,
through the CLI. CAC, platform ROAS and the shares of days beyond the observed spend are
recomputed here with pandas; the model's numbers by refitting ecomlab.channels the way the
template is documented to (one fit per paid channel, bootstrap seed = the channel's rank by
spend)."""

from __future__ import annotations

import html
import io
import re

import pandas as pd
import pytest

from ecomlab import calendar, channels, datasets, reports
from ecomlab.cli import main

N_BOOT = 8  # the template's default


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="module")
def tables():
    return datasets.load("marketing_daily"), datasets.load("customers")


@pytest.fixture(scope="module")
def model(tables):
    """Spend, new customers, one fit per paid channel, as the template's contract describes."""
    mk, cu = tables
    mk = mk.assign(channel=mk["channel"].astype(str))
    spent = mk.groupby("channel")["spend"].sum()
    paid = spent[spent > 0].sort_values(ascending=False).index.tolist()
    spend = mk.pivot_table(index="date", columns="channel", values="spend", aggfunc="sum")[paid]
    spend.index = pd.DatetimeIndex(spend.index)
    new = (cu.assign(ch=cu["acquisition_channel"].astype(str)).groupby(["first_order_date", "ch"]).size()
           .unstack().reindex(index=spend.index, columns=paid).fillna(0.0))
    promo = calendar.promotion_calendar(sorted(set(spend.index.year)))
    fits = {c: channels.fit_mmm(spend[[c]], new[c], promo, baseline=False) for c in paid}
    return mk, cu, paid, spend, new, fits


def _model_roas_interval(fits, paid, channel, value):
    draws = channels.bootstrap_mmm(fits[channel], n_boot=N_BOOT, seed=paid.index(channel))
    t = channels.bootstrap_table(fits[channel], draws, level=0.9).loc[channel]
    return value * t["incremental_roas"], value * t["incremental_roas_lo"], value * t["incremental_roas_hi"]


def _shop(tmp_path, mk, cu, ext):
    """A folder whose marketing_daily has no platform-attributed columns."""
    folder = tmp_path / "shop"
    folder.mkdir()
    mk = mk.drop(columns=["platform_attributed_orders", "platform_attributed_revenue"])
    mk.to_csv(folder / "marketing_daily.csv", index=False) if ext == ".csv" else mk.to_parquet(
        folder / "marketing_daily.parquet")
    cu.to_parquet(folder / "customers.parquet")
    return folder


def test_contract_and_validation(tmp_path, tables):
    c = reports.CONTRACTS["channels"]
    assert c.lesson == "03_traffic/01_channels"
    mk, cu = tables
    mk.drop(columns=["platform_attributed_orders", "platform_attributed_revenue"]).to_csv(
        tmp_path / "marketing_daily.csv", index=False)
    cu.to_parquet(tmp_path / "customers.parquet")
    d = reports.load("channels", tmp_path)
    assert "platform_attributed_orders" not in d.tables["marketing_daily"].columns
    assert "platform_attributed_orders" in d.sections["Platform ROAS against incremental ROAS"]
    assert reports.load("channels").sections["Platform ROAS against incremental ROAS"] is None
    cu[["customer_id", "acquisition_channel"]].to_parquet(tmp_path / "customers.parquet")
    with pytest.raises(ValueError, match="first_order_date"):
        reports.load("channels", tmp_path)


@pytest.mark.notebooks
def test_report_on_bundled_data_with_an_experiment_that_agrees(tmp_path, model):
    mk, cu, paid, spend, new, fits = model
    pl = mk.groupby("channel")[["platform_attributed_orders", "platform_attributed_revenue", "spend"]].sum().loc[paid]
    value = pl["platform_attributed_revenue"] / pl["platform_attributed_orders"]
    m, lo, hi = _model_roas_interval(fits, paid, "search_ads", value["search_ads"])
    params = {"experiment_channel": "search_ads", "experiment_roas": round(m + 0.2, 2),
              "experiment_ci_low": round(m - 0.1, 2), "experiment_ci_high": round(m + 0.5, 2)}
    page = reports.render("channels", tmp_path / "c.html", params=params,
                          stream=io.StringIO()).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page and "fit_mmm" not in page
    text = _text(page)
    # data and CAC, by hand
    paid_new = cu["acquisition_channel"].astype(str).isin(paid)
    assert f"{int(paid_new.sum()):,} new customers whose first order came through one of them" in text
    assert f"{int((~paid_new).sum()):,} new customers came through channels without spend" in text
    n_by = cu.loc[paid_new, "acquisition_channel"].astype(str).value_counts()
    overall = pl["spend"] / n_by.reindex(paid)
    assert f"runs from {overall.min():,.1f} CNY ({overall.idxmin()}) to {overall.max():,.1f} CNY" in text
    q = lambda s: pd.to_datetime(s).dt.to_period("Q")  # noqa: E731
    sp_q = mk.loc[mk["channel"].isin(paid)].groupby(["channel", q(mk["date"])])["spend"].sum()
    n_q = cu.groupby([cu["acquisition_channel"].astype(str), q(cu["first_order_date"])]).size()
    cac_q = (sp_q / n_q.reindex(sp_q.index)).unstack()
    for c in paid:
        a, b = cac_q.loc[c].iloc[0], cac_q.loc[c].iloc[-1]
        assert f"{c} {a:,.1f} → {b:,.1f} CNY ({b / a - 1:+.0%})" in text
    # platform against incremental
    plat = pl["platform_attributed_revenue"] / pl["spend"]
    incr = pd.Series({c: value[c] * fits[c].contributions().sum() / spend[c].sum() for c in paid})
    for c in paid:
        assert f"{c} {plat[c]:.2f} against {incr[c]:.2f}" in text
    over = pl["platform_attributed_orders"] / pd.Series({c: fits[c].contributions().sum() for c in paid})
    assert f"attribute {over.min():.2f}× ({over.idxmin()}) to {over.max():.2f}× ({over.idxmax()})" in text
    # calibration: the intervals overlap
    assert (f"The experiment measured an incremental ROAS of {params['experiment_roas']:.2f} "
            f"({params['experiment_ci_low']:.2f}–{params['experiment_ci_high']:.2f}) for search_ads; the model "
            f"estimates {m:.2f} ({lo:.2f}–{hi:.2f}, 90% bootstrap interval). They agree within the intervals") in text
    assert "do not agree" not in text
    # marginal ROAS and the plan (point estimates), limits by hand
    mroas = pd.Series({c: channels.marginal_roas(fits[c], window=91).iloc[0] * value[c] for c in paid})
    best = mroas.idxmax()
    assert f"the next unit of spend brings {mroas[best]:.2f} CNY per CNY in {best}" in text
    plan = channels.allocate_budget(fits, bounds=(0.8, 1.2), window=91)
    gain = float((plan["new_sales"] - plan["current_sales"]) @ value.reindex(plan.index).to_numpy())
    assert f"Modelled gain: {gain:,.0f} CNY" in text
    moved = spend.iloc[-91:] * plan["multiplier"].reindex(paid)
    beyond = ((moved > spend.max()) | (moved < spend.min())).mean()
    assert "; ".join(f"{c} {beyond[c]:.0%}" for c in paid) + " of days" in text
    assert "Skipped" not in text and "Warning" not in text


@pytest.mark.notebooks
def test_folder_without_platform_columns_and_an_experiment_that_disagrees_via_the_cli(tmp_path, tables, model):
    mk, cu = tables
    _, _, paid, _, _, fits = model
    folder = _shop(tmp_path, mk.drop(columns=["impressions"]), cu, ".csv")
    m, lo, hi = _model_roas_interval(fits, paid, "feed_ads", 150.0)
    e, e_lo, e_hi = round(hi + 0.6, 2), round(hi + 0.3, 2), round(hi + 0.9, 2)
    out = tmp_path / "c.html"
    argv = ["report", "channels", "--data", str(folder), "--out", str(out), "--param", "value_per_customer=150",
            "--param", "experiment_channel=feed_ads", "--param", f"experiment_roas={e}",
            "--param", f"experiment_ci_low={e_lo}", "--param", f"experiment_ci_high={e_hi}"]
    assert main(argv) == 0
    text = _text(out.read_text(encoding="utf-8"))
    assert ("Skipped: it needs a platform_attributed_orders column and a platform_attributed_revenue column, "
            "which the data do not have.") in text
    assert (f"The experiment measured an incremental ROAS of {e:.2f} ({e_lo:.2f}–{e_hi:.2f}) for feed_ads; the model "
            f"estimates {m:.2f} ({lo:.2f}–{hi:.2f}, 90% bootstrap interval). They do not agree within the intervals "
            f"(the two intervals do not overlap): the model understates feed_ads's incremental ROAS by a factor of "
            f"{m / e:.2f}") in text
    assert "They agree" not in text


def test_template_source_has_no_word_about_the_course_brand_and_no_dates():
    import nbformat

    nb = nbformat.read(str(reports.template_path("channels")), as_version=4)
    src = "\n".join(c.source for c in nb.cells)
    assert "Nestwell" not in src and "栖居" not in src
    assert not re.search(r"20\d\d-\d\d", src)
    assert "03_traffic/01_channels" in nb.cells[0].source


@pytest.mark.notebooks
def test_without_a_value_per_customer_the_report_speaks_in_new_customers(tmp_path, tables, model):
    mk, cu = tables
    _, _, paid, spend, _, fits = model
    folder = _shop(tmp_path, mk, cu, ".parquet")
    page = reports.render("channels", tmp_path / "c.html", data=folder,
                          params={"experiment_channel": "feed_ads", "experiment_roas": 1.0, "experiment_ci_low": 0.5,
                                  "experiment_ci_high": 1.5, "max_change": 0.1},
                          stream=io.StringIO()).read_text(encoding="utf-8")
    text = _text(page)
    assert "Skipped: an experiment's incremental ROAS needs a value per new customer" in text
    plan = channels.allocate_budget(fits, bounds=(0.9, 1.1), window=91)
    gain = float((plan["new_sales"] - plan["current_sales"]).sum())
    assert "each channel within ±10%" in text and f"Modelled gain: {gain:,.1f} new customers per 91 days" in text
    mroas = pd.Series({c: 1000 * channels.marginal_roas(fits[c], window=91).iloc[0] for c in paid})
    best = mroas.idxmax()
    assert f"brings {mroas[best]:.2f} new customers per 1,000 CNY in {best}" in text


@pytest.mark.notebooks
def test_calibrated_path_with_the_lift_test_rows_and_with_a_summary_csv(tmp_path, model):
    """The bundled conversion-lift test (experiments table, rows) calibrates short video's model; the
    same test given as a one-row summary CSV gives the same sentence. Recomputed by hand here."""
    mk, cu, paid, spend, new, fits = model
    pl = mk.groupby("channel")[["platform_attributed_orders", "platform_attributed_revenue"]].sum().loc[paid]
    value = (pl["platform_attributed_revenue"] / pl["platform_attributed_orders"])["short_video"]
    ex = datasets.load("experiments")
    rows = ex.loc[ex["experiment_id"] == "lift_short_video"]
    w0, w1 = pd.Timestamp("2025-08-04"), pd.Timestamp("2025-08-31")
    s_w = float(spend.loc[w0:w1, "short_video"].sum())
    t, c = rows.loc[rows["variant"] == "treatment", "revenue"], rows.loc[rows["variant"] == "control", "revenue"]
    inc = len(t) * (t.mean() - c.mean())
    se = len(t) * (t.var() / len(t) + c.var() / len(c)) ** 0.5
    calib = pd.DataFrame({"channel": ["short_video"], "start": [w0], "end": [w1], "incremental": [inc / value],
                          "se": [se / value]})
    promo = calendar.promotion_calendar(sorted(set(spend.index.year)))
    fit_cal = channels.fit_mmm(spend[["short_video"]], new["short_video"], promo, baseline=False, lift=calib)
    m0 = channels.window_roas(fits["short_video"], w0, w1) * value
    m1 = channels.window_roas(fit_cal, w0, w1) * value
    want = (f"measured an incremental revenue of {inc:,.0f} CNY (standard error {se:,.0f}) on {s_w:,.0f} CNY of "
            f"spend: an incremental ROAS of {inc / s_w:.2f} (95% CI {(inc - 1.96 * se) / s_w:.2f}–"
            f"{(inc + 1.96 * se) / s_w:.2f}). The model, fitted without it, says {m0:.2f} for the same days")
    params = {"experiment_channel": "short_video", "experiment": "lift_short_video",
              "experiment_start": "2025-08-04", "experiment_end": "2025-08-31", "n_boot": 4}
    text = _text(reports.render("channels", tmp_path / "a.html", params=params,
                                stream=io.StringIO()).read_text(encoding="utf-8"))
    assert want in text and f"{len(t):,} exposed and {len(c):,} holdout users" in text
    assert f"the window's ROAS is {m1:.2f}" in text
    assert "the test validates the model" in text          # 1.24 inside 0.70–1.34 on the bundled world
    assert "The sections below use the calibrated model for short_video" in text
    # the calibrated model drives the plan
    plan = channels.allocate_budget({**fits, "short_video": fit_cal}, bounds=(0.8, 1.2), window=91)
    v = (pl["platform_attributed_revenue"] / pl["platform_attributed_orders"]).reindex(plan.index).to_numpy()
    assert f"Modelled gain: {float((plan['new_sales'] - plan['current_sales']) @ v):,.0f} CNY" in text
    # the same test as a summary CSV
    csv = tmp_path / "lift.csv"
    pd.DataFrame({"channel": ["short_video"], "start": ["2025-08-04"], "end": ["2025-08-31"],
                  "incremental_revenue": [inc], "se": [se]}).to_csv(csv, index=False)
    params = {"experiment_channel": "short_video", "experiment": str(csv), "n_boot": 4}
    text2 = _text(reports.render("channels", tmp_path / "b.html", params=params,
                                 stream=io.StringIO()).read_text(encoding="utf-8"))
    assert want in text2 and "the summary you gave" in text2 and f"the window's ROAS is {m1:.2f}" in text2
    # an experiment without its channel, or rows without their window, are refused by name
    for bad, msg in (({"experiment": "lift_short_video"}, "experiment_channel"),
                     ({"experiment": "lift_short_video", "experiment_channel": "short_video"}, "experiment_start"),
                     ({"experiment": "no_such_test", "experiment_channel": "short_video"}, "no such experiment_id")):
        with pytest.raises(Exception, match=msg):
            reports.render("channels", tmp_path / "x.html", params={**bad, "n_boot": 2}, stream=io.StringIO())
