"""The market landscape template (notebooks/templates/market.ipynb) and the reading of a
market-intelligence export by reports.load: bundled data, a messy export of the same
layout (Chinese headers with a stray space, ¥ amounts with thousands separators,
year-month periods, an unused column) mapped with the column parameters, sections
skipped when units are absent or no brand is named; the sentences checked here are
recomputed by hand with pandas, not with ecomlab.market."""

from __future__ import annotations

import html
import io
import re

import numpy as np
import pandas as pd
import pytest

from ecomlab import datasets, reports
from ecomlab.cli import main
from ecomlab.io.report import Report

MESSY = {"category_col": "类目 ", "brand_col": "品牌", "period_col": "月份", "sales_col": "销售额",
         "units_col": "销量", "price_col": "None"}


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="module")
def market() -> pd.DataFrame:
    return datasets.load("market")


@pytest.fixture(scope="module")
def messy_csv(market, tmp_path_factory):
    """The panel as a market tool exports it: its own headers, ¥ and separators, year-month."""
    raw = pd.DataFrame({
        "类目 ": market["category"].astype(str), "品牌": market["brand"].astype(str),
        "月份": market["month"].dt.strftime("%Y年%-m月"),
        "销售额": market["sales_amount"].map(lambda v: f"¥{v:,.0f}"),
        "销量": market["units"].map(lambda v: f"{v:,}"), "备注": "panel estimate",
    })
    path = tmp_path_factory.mktemp("market_export") / "市场 export.csv"
    raw.to_csv(path, index=False)
    return path


def _by_hand_growth(m: pd.DataFrame, year: int) -> pd.Series:
    y = m.assign(y=m["month"].dt.year).groupby(["category", "y"], observed=True)["sales_amount"].sum().unstack()
    return (y[year] / y[year - 1] - 1).rename(index=str)


# --- reading ---------------------------------------------------------------------------------
def test_messy_export_is_read_and_reported(messy_csv, market):
    d = reports.load("market", messy_csv, **MESSY)
    t = d.tables["market"]
    assert list(t.columns) == ["category", "brand", "month", "sales_amount", "units"]
    assert t["month"].min() == pd.Timestamp("2024-01-01") and t["month"].dt.day.eq(1).all()
    np.testing.assert_allclose(t["sales_amount"], market["sales_amount"].round(0))
    assert (t["units"].to_numpy() == market["units"].to_numpy()).all()
    notes = "\n".join(d.notes)
    assert "year-month values read as the first day of their month" in notes
    assert "from column '类目 '" in notes and "currency sign(s) ¥ removed" in notes
    assert "other columns not used: ['备注']" in notes
    assert d.sections == {"Price position: value share against unit share": None, "Price bands": None}


def test_without_units_the_unit_sections_are_skipped(messy_csv):
    d = reports.load("market", messy_csv, **{**MESSY, "units_col": "None"})
    assert "units" not in d.tables["market"].columns
    for why in d.sections.values():
        assert why.startswith("it needs a units column (parameter units_col not set)")


def test_year_month_forms_and_what_is_left_to_the_date_parser():
    rep = Report("market")
    got = reports._year_month(pd.Series(["2025-01", " 2025/2 ", "2025年12月", None]), "month", rep)
    assert got.tolist()[:3] == ["2025-01-01", "2025-02-01", "2025-12-01"] and pd.isna(got.iloc[3])
    assert "(3 values)" in str(rep)
    mixed = pd.Series(["2025-01", "2025-01-15"])                      # full dates: not touched
    assert reports._year_month(mixed, "month", Report("market")) is mixed


@pytest.mark.parametrize(("cells", "match"), [
    ({"月份": ["2025-13", "2025-01"]}, r"market.month"),              # no 13th month
    ({"销售额": ["12", "lots"]}, r"market.sales_amount.*'lots'"),
    ({"品牌": ["A", None]}, r"market.brand.*missing"),
])
def test_hostile_cells_get_a_clear_error(tmp_path, cells, match):
    base = {"类目 ": ["a", "a"], "品牌": ["A", "B"], "月份": ["2025-01", "2025-01"], "销售额": ["10", "20"],
            "销量": ["1", "2"]}
    base.update(cells)
    path = tmp_path / "m.csv"
    pd.DataFrame(base).to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        reports.load("market", path, **MESSY)


def test_a_missing_required_column_names_its_parameter(messy_csv):
    with pytest.raises(ValueError, match=r"no column 'category' for category \(set category_col="):
        reports.load("market", messy_csv)
    v = reports.validate(messy_csv, "market", **MESSY)
    assert v.ok and "units (found)" in str(v) and "Price bands: will run" in str(v)


# --- the report -----------------------------------------------------------------------------
@pytest.mark.notebooks
def test_report_on_bundled_data(tmp_path, market):
    page = reports.render("market", tmp_path / "m.html", params={"focal_brand": "Nestwell"},
                          stream=io.StringIO()).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page and "mk.yoy_growth" not in page
    text = _text(page)
    g = _by_hand_growth(market, 2025)
    top = g.idxmax()
    assert f"**{top}** grows fastest".replace("**", "") in text and f"{g[top]:+.1%}" in text
    nov = market[market["category"] == top].groupby("month")["sales_amount"].sum()
    assert f"In the 双11 month (2025-11 against 2024-11) it grew {nov['2025-11-01'] / nov['2024-11-01'] - 1:+.1%}" in text
    assert f"Shrinking, with the whole interval below zero: {g.idxmin()}" in text
    y = market[market["month"].dt.year == 2025]
    s = y.groupby(["category", "brand"], observed=True)["sales_amount"].sum()
    share = s / s.groupby(level=0).transform("sum")
    hhi = ((100 * share) ** 2).groupby(level=0).sum()
    assert f"runs from {hhi.min():,.0f} ({hhi.idxmin()}) to {hhi.max():,.0f} ({hhi.idxmax()})" in text
    own = share.xs("Nestwell", level="brand")
    assert f"Nestwell's largest share is in {own.idxmax()}: {own.max():.1%}" in text
    rival = share.drop("Nestwell", level="brand").groupby(level=0).max()
    rel = own / rival
    fast = g[g >= np.average(g, weights=y.groupby("category", observed=True)["sales_amount"].sum()[g.index])]
    best = rel[fast.index].idxmax()
    assert f"its strongest relative position is {best} ({rel[best]:.2f}" in text
    assert "Skipped" not in text


def test_template_source_has_no_word_about_the_course_brand():
    import nbformat

    nb = nbformat.read(str(reports.template_path("market")), as_version=4)
    src = "\n".join(c.source for c in nb.cells)
    assert "Nestwell" not in src and "栖居" not in src


@pytest.mark.notebooks
def test_report_on_a_messy_export_without_units_via_the_cli(tmp_path, messy_csv, market, capsys):
    out = tmp_path / "m.html"
    cal = tmp_path / "calendar.csv"                   # another market's calendar
    pd.DataFrame({"name": ["Black Friday"] * 2, "start_date": ["2024-11-29", "2025-11-28"],
                  "end_date": ["2024-11-29", "2025-11-28"]}).to_csv(cal, index=False)
    argv = ["report", "market", "--data", str(messy_csv), "--out", str(out), "--param", "currency=CNY",
            "--param", "promotions=Black Friday", "--param", f"calendar_csv={cal}"]
    for k, v in {**MESSY, "units_col": "None"}.items():
        argv += ["--param", f"{k}={v}"]
    assert main(argv) == 0
    text = _text(out.read_text(encoding="utf-8"))
    assert "Skipped: it needs a units column (parameter units_col not set)" in text
    assert text.count("Skipped: it needs a units column") == 2
    assert "Skipped: set focal_brand to your brand's name" in text
    g = _by_hand_growth(market.assign(sales_amount=market["sales_amount"].round(0)), 2025)
    assert f"{g.idxmax()} grows fastest, {g.max():+.1%}" in text
    nov = market[market["category"] == g.idxmax()].groupby("month")["sales_amount"].sum().round(0)
    assert (f"In the Black Friday month (2025-11 against 2024-11) it grew "
            f"{nov['2025-11-01'] / nov['2024-11-01'] - 1:+.1%}") in text
    assert "双11 month" not in text
    size = market[market["month"].dt.year == 2025].groupby("category", observed=True)["sales_amount"].sum().round(0)
    assert f"In 2025 the largest market is {size.idxmax()} ({size.max():,.0f} CNY, {size.max() / size.sum():.0%}" in text
