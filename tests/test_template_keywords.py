"""The search keyword template (notebooks/templates/keywords.ipynb): bundled data with a
profit per order, an export with its own (Chinese) headers and only the required columns
through the CLI, refusals; the sentences checked here are recomputed by hand with
statsmodels and pandas, not with ecomlab.search."""

from __future__ import annotations

import html
import io
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from ecomlab import datasets, reports
from ecomlab.cli import main

HEADERS = {"keyword_col": "关键词", "rank_col": "平均排名", "impressions_col": "展现量", "clicks_col": "点击量",
           "searches_col": "None", "cpc_col": "None", "orders_col": "None"}


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="module")
def kw() -> pd.DataFrame:
    return datasets.load("keywords")


def _power_fit(kw):
    X = sm.add_constant(np.log(kw["our_rank"].to_numpy(float)))
    res = sm.GLM(kw["clicks"].to_numpy(float), X, family=sm.families.Poisson(),
                 offset=np.log(kw["impressions"].to_numpy(float))).fit()
    return np.exp(res.params[0]), -res.params[1]


@pytest.fixture(scope="module")
def export(kw, tmp_path_factory):
    raw = pd.DataFrame({"关键词": kw["keyword_zh"], "平均排名": kw["our_rank"],
                        "展现量": kw["impressions"].map("{:,}".format), "点击量": kw["clicks"], "备注": "x"})
    path = tmp_path_factory.mktemp("kw_export") / "关键词 export.csv"
    raw.to_csv(path, index=False)
    return path


def test_contract_and_validation(export):
    c = reports.CONTRACTS["keywords"]
    assert c.lesson == "03_traffic/02_keywords"
    d = reports.load("keywords", export, **HEADERS)
    assert list(d.tables["keywords"].columns) == ["keyword", "our_rank", "impressions", "clicks"]
    assert d.tables["keywords"]["impressions"].dtype.kind in "if"
    assert all(why is not None for why in d.sections.values())
    with pytest.raises(ValueError, match=r"keyword.*keyword_col"):
        reports.load("keywords", export)


@pytest.mark.notebooks
def test_report_on_bundled_data(tmp_path, kw):
    profit = 70.0
    page = reports.render("keywords", tmp_path / "k.html", params={"profit_per_order": profit},
                          stream=io.StringIO()).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "reports.load(" not in page and "fit_ctr_curve" not in page
    text = _text(page)
    a, b = _power_fit(kw)
    assert f"CTR(rank) = {a:.1%} × rank^−{b:.2f}" in text
    cr = kw["orders"] / kw["clicks"]
    above = int((kw["cpc"] > cr * profit).sum())
    assert f"{above:,} of {len(kw):,} keywords have a CPC above it" in text
    lo, hi = proportion_confint(kw["orders"], kw["clicks"], alpha=0.05, method="wilson")
    cut, push = int((kw["cpc"] > hi * profit).sum()), int((kw["cpc"] < lo * profit).sum())
    assert f"cut the bid on {cut:,}" in text and f"push {push:,}" in text
    ctr = lambda r: a * r ** -b  # noqa: E731
    rank = kw["our_rank"].to_numpy(float)
    extra = kw["monthly_searches"] * (ctr(np.minimum(rank, 3)) - ctr(rank))
    opp = (extra * (cr * profit - kw["cpc"])).sort_values(ascending=False)
    assert f"led by {kw.loc[opp.index[0], 'keyword']} ({opp.iloc[0]:,.0f} CNY)" in text
    assert f"the top 10 together {opp.head(10).sum():,.0f} CNY" in text
    assert "Skipped" not in text and "Warning" not in text


@pytest.mark.notebooks
def test_report_on_an_export_with_only_the_required_columns_via_the_cli(tmp_path, export, kw):
    out = tmp_path / "k.html"
    argv = ["report", "keywords", "--data", str(export), "--out", str(out), "--param", "currency=CNY"]
    for k, v in HEADERS.items():
        argv += ["--param", f"{k}={v}"]
    assert main(argv) == 0
    text = _text(out.read_text(encoding="utf-8"))
    assert text.count("Skipped: it needs") == 2
    a, _ = _power_fit(kw)
    assert f"CTR(rank) = {a:.1%}" in text


def test_template_source_has_no_word_about_the_course_brand():
    import nbformat

    nb = nbformat.read(str(reports.template_path("keywords")), as_version=4)
    src = "\n".join(c.source for c in nb.cells)
    assert "Nestwell" not in src and "栖居" not in src
    assert "03_traffic/02_keywords" in nb.cells[0].source
