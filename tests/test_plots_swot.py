"""plots.swot_grid: four quadrants with their items and evidence, and hostile input refused."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ecomlab import plots  # noqa: E402
from ecomlab.swot import SwotItem, swot_table  # noqa: E402

pytestmark = pytest.mark.usefixtures("plot_theme")  # tests/conftest.py


def _table() -> pd.DataFrame:
    return swot_table([
        SwotItem("S1", "strength", "Leads 收纳 storage", "share", 0.1, "market", "01-1", ".1%"),
        SwotItem("S2", "strength", "Premium price", "price index", 1.14, "market", "01-1", ".2f"),
        SwotItem("W1", "weakness", "Bedding returns", "return rate", 0.118, "returns", "01-3", ".1%"),
        SwotItem("O1", "opportunity", "Storage searches rise", "search yoy", 0.32, "search_trends", "01-1", "+.0%"),
        SwotItem("T1", "threat", "Decor shrinks", "market yoy", -0.11, "market", "01-1", "+.0%"),
    ])


def test_swot_grid_draws_four_quadrants_with_items_and_values():
    ax = plots.swot_grid(_table(), title="Strong in storage, exposed in decor")
    assert "Strong in storage, exposed in decor" in (ax.get_title(), ax.get_title(loc="left"))
    assert len(ax.patches) == 4
    text = "\n".join(t.get_text() for t in ax.texts)
    for head in ("Strengths 优势", "Weaknesses 劣势", "Opportunities 机会", "Threats 威胁"):
        assert head in text
    for piece in ("S1  Leads 收纳 storage (10.0%)", "S2  Premium price (1.14)", "(11.8%)", "(+32%)", "(-11%)"):
        assert piece in text.replace("\n     ", " ")
    # strengths top-left, threats bottom-right
    pos = {t.get_text().split(" ")[0]: t.get_position() for t in ax.texts if t.get_text()[:2] in ("S1", "T1")}
    assert pos["S1"][0] < 1 < pos["T1"][0] and pos["S1"][1] > 1 > pos["T1"][1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Helpful", "Harmful"]


def test_swot_grid_wraps_long_statements():
    t = _table()
    t.loc[0, "statement"] = "word " * 40
    ax = plots.swot_grid(t, width=30)
    s1 = next(x.get_text() for x in ax.texts if x.get_text().startswith("S1"))
    assert max(len(line) for line in s1.splitlines()) <= 30


@pytest.mark.parametrize("mutate, msg", [
    (lambda t: t[t["kind"] != "threat"], "none for \\['threat'\\]"),
    (lambda t: t.drop(columns="shown"), "missing column"),
    (lambda t: t.assign(kind="hope"), "must be one of"),
    (lambda t: t.iloc[:0], "non-empty"),
    (lambda t: list(t["code"]), "non-empty DataFrame"),
])
def test_swot_grid_refuses_bad_tables(mutate, msg):
    with pytest.raises(ValueError, match=msg):
        plots.swot_grid(mutate(_table()))


@pytest.mark.parametrize("kw, msg", [({"width": 5}, "width"), ({"width": True}, "width"),
                                     ({"title": 3}, "title"), ({"ax": "axes"}, "ax must be")])
def test_swot_grid_refuses_bad_arguments(kw, msg):
    with pytest.raises(ValueError, match=msg):
        plots.swot_grid(_table(), **kw)
