"""plots.growth_share and plots.price_band_bars: what they draw, and hostile input refused."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ecomlab import plots  # noqa: E402

pytestmark = pytest.mark.usefixtures("plot_theme")  # tests/conftest.py


def _gs() -> pd.DataFrame:
    return pd.DataFrame({"category": ["收纳 storage", "decor"], "relative_share": [0.36, 1.8],
                         "growth": [0.31, -0.11], "sales": [800.0, 430.0]})


def test_growth_share_draws_bubbles_quadrant_lines_and_labels():
    ax = plots.growth_share(_gs(), y_threshold=0.1, title="Storage grows fastest")
    assert ax.get_xscale() == "log" and ax.get_title(loc="left") == "Storage grows fastest"
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], [0.36, 1.8])
    np.testing.assert_allclose(offsets[:, 1], [0.31, -0.11])
    sizes = ax.collections[0].get_sizes()
    assert sizes[0] > sizes[1]                           # bubble area follows sales
    lines = [ln.get_xdata()[0] for ln in ax.lines] + [ln.get_ydata()[0] for ln in ax.lines]
    assert 1.0 in lines and 0.1 in lines                 # relative share 1 and the growth threshold
    assert [t.get_text() for t in ax.texts] == ["收纳 storage", "decor"]
    lo, hi = ax.get_xlim()
    assert lo < 0.36 and hi > 1.8
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.5", "1", "2"]   # plain numbers, not 10^k
    assert "%" in ax.yaxis.get_major_formatter()(0.31, 0)


@pytest.mark.parametrize("bad, msg", [
    (lambda d: d.drop(columns="growth"), "missing column"),
    (lambda d: d.assign(relative_share=[0.0, 1.0]), "positive for a log axis"),
    (lambda d: d.assign(growth=[np.nan, 0.1]), "missing value"),
    (lambda d: d.iloc[:0], "non-empty"),
])
def test_growth_share_refuses_hostile_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        plots.growth_share(bad(_gs()))


def _bands() -> pd.DataFrame:
    return pd.DataFrame({"economy": [0.0, 60.0], "mid": [30.0, 40.0], "premium": [70.0, 0.0]},
                        index=pd.Index(["Nestwell", "Rival"], name="brand"))


def test_price_band_bars_stack_each_brands_mix():
    ax = plots.price_band_bars(_bands(), highlight="Nestwell", title="Nestwell sells mid and premium")
    widths = np.array([p.get_width() for p in ax.patches]).reshape(3, 2)  # bands × brands
    np.testing.assert_allclose(widths.sum(axis=0), 1.0)                  # each bar is 100% of its brand
    np.testing.assert_allclose(widths[:, 0], [0.0, 0.3, 0.7])
    black = [t.get_text() for t in ax.get_yticklabels() if t.get_color() == "black"]
    assert black == ["Nestwell"]
    outlined = {p.get_y() for p in ax.patches if p.get_linewidth() > 0 and p.get_edgecolor()[3] > 0}
    assert len(outlined) == 1                              # one bar (Nestwell's) outlined
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["economy", "mid", "premium"]
    assert all(h.get_linewidth() == 0 or h.get_edgecolor()[3] == 0 or h.get_edgecolor() == h.get_facecolor()
               for h in ax.get_legend().legend_handles)                  # the outline is not in the legend
    raw = plots.price_band_bars(_bands(), normalize=False)
    assert max(p.get_width() for p in raw.patches) == 70.0


def test_price_band_bars_refuses_hostile_input():
    with pytest.raises(ValueError, match="highlight"):
        plots.price_band_bars(_bands(), highlight="Nobody")
    with pytest.raises(ValueError, match="no sales"):
        plots.price_band_bars(_bands() * 0)
    with pytest.raises(ValueError, match="non-negative"):
        plots.price_band_bars(-_bands())
    with pytest.raises(ValueError, match="non-empty"):
        plots.price_band_bars(pd.DataFrame())
