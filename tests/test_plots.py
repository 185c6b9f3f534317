"""The course theme renders Chinese with the bundled font; the recurring charts work."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from ecomlab import plots  # noqa: E402
from ecomlab.fonts import CJK_FAMILY, cjk_font_path  # noqa: E402

CHINESE_TITLE = "复购率与客单价 Repurchase rate & AOV：栖居良品（¥）"


pytestmark = pytest.mark.usefixtures("plot_theme")  # tests/conftest.py


def _chars(font_path: str) -> set[int]:
    return set(FT2Font(font_path).get_charmap())


# --- fonts -------------------------------------------------------------------------
def test_bundled_font_is_small_licensed_and_covers_common_chinese():
    path = cjk_font_path()
    assert path.is_file()
    assert path.stat().st_size < 10 * 1024 * 1024
    assert (path.parent / "LICENSE-OFL.txt").is_file()
    cmap = _chars(str(path))
    # every CJK Unified Ideograph of the basic block (all GBK hanzi) plus CJK punctuation
    assert all(cp in cmap for cp in range(0x4E00, 0x9FA6))
    assert all(ord(c) in cmap for c in "，。：；！？（）【】《》“”、¥")


def test_chinese_title_renders_without_warnings(tmp_path, caplog):
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.1, 0.3, 0.2])
    ax.set_title(CHINESE_TITLE)
    ax.set_xlabel("月份 (month)")
    ax.set_ylabel("复购率 (%)")
    out = tmp_path / "chinese.png"
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # matplotlib's PDF backend leaves the embedded font's file to the garbage collector;
            # that ResourceWarning is not a rendering problem (missing glyphs are what is tested)
            warnings.filterwarnings("ignore", category=ResourceWarning)
            fig.savefig(out)
            fig.savefig(tmp_path / "chinese.pdf")
            fig.savefig(tmp_path / "chinese.svg")
    assert out.stat().st_size > 1000
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]


def test_title_font_chain_puts_latin_first_and_cjk_for_chinese_glyphs():
    fig, ax = plt.subplots()
    title = ax.set_title(CHINESE_TITLE)
    families = title.get_fontproperties().get_family()
    assert families[-1] == CJK_FAMILY
    resolved = [
        font_manager.findfont(font_manager.FontProperties(family=[f]), fallback_to_default=False)
        for f in families
    ]
    assert os.path.basename(resolved[0]) == "DejaVuSans.ttf"  # Latin text keeps DejaVu Sans
    assert os.path.samefile(resolved[-1], cjk_font_path())
    latin, cjk = _chars(resolved[0]), _chars(resolved[-1])
    chinese = [c for c in CHINESE_TITLE if ord(c) not in latin]
    assert "复" in chinese and chinese, "the title must hold glyphs the Latin font lacks"
    assert all(ord(c) in cjk for c in chinese)
    assert font_manager.findfont(font_manager.FontProperties(family=[CJK_FAMILY]),
                                 fallback_to_default=False) == str(cjk_font_path())


def test_rc_params_after_set_theme():
    rc = matplotlib.rcParams
    assert rc["font.family"] == ["sans-serif", CJK_FAMILY]
    assert rc["font.sans-serif"][:2] == [plots.LATIN_FAMILY, CJK_FAMILY]
    assert rc["axes.prop_cycle"].by_key()["color"][:2] == [c.lower() for c in plots.PALETTE[:2]] \
        or rc["axes.prop_cycle"].by_key()["color"][:2] == list(plots.PALETTE[:2])
    assert rc["axes.spines.top"] is False


@pytest.mark.parametrize("context", ["paper", "notebook", "talk", "poster"])
@pytest.mark.parametrize("font_scale", [1.0, 1.3])
def test_theme_rc_equals_seaborn_whitegrid(context, font_scale):
    """set_theme applies seaborn's whitegrid/context rc without importing seaborn."""
    sns = pytest.importorskip("seaborn")
    overridden = ("font.family", "font.sans-serif", "image.cmap")  # set_theme sets its own
    assert plots._WHITEGRID == {
        k: v for k, v in sns.axes_style("whitegrid").items() if k not in overridden
    }
    expected = dict(sns.plotting_context(context, font_scale=font_scale))
    got = plots._context_rc(context, font_scale)
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v), k


def test_set_theme_does_not_import_seaborn():
    code = "import sys; from ecomlab import plots; plots.set_theme(); print('seaborn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_set_theme_is_idempotent_and_validates():
    before = sum(f.name == CJK_FAMILY for f in font_manager.fontManager.ttflist)
    plots.set_theme()
    plots.set_theme(context="talk", font_scale=1.2)
    after = sum(f.name == CJK_FAMILY for f in font_manager.fontManager.ttflist)
    assert before == after >= 1
    with pytest.raises(ValueError, match="context"):
        plots.set_theme(context="huge")
    with pytest.raises(ValueError, match="font_scale"):
        plots.set_theme(font_scale=0)
    with pytest.raises(ValueError, match="palette"):
        plots.set_theme(palette=["not-a-colour"])


# --- charts ------------------------------------------------------------------------
def _draw_strict(fig, tmp_path, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(tmp_path / f"{name}.png")


def test_funnel(tmp_path):
    counts = pd.Series({"浏览 pv": 1000, "加购 cart": 300, "下单 buy": 90})
    ax = plots.funnel(counts, title="9% of visitors buy 九成流失")
    assert ax.get_title(loc="left") == "9% of visitors buy 九成流失"
    assert ax.get_xlabel() == "Visitors (count)"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(counts.index)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "step 30.0%" in texts and "overall 9.0%" in texts
    _draw_strict(ax.figure, tmp_path, "funnel")


@pytest.mark.parametrize(
    "bad, match",
    [
        ([1000, 300], "counts must be a pandas Series"),
        (pd.Series([1000]), "at least 2 stages"),
        (pd.Series([1000, -1]), "non-negative"),
        (pd.Series([0, 0]), "first stage must be positive"),
        (pd.Series([1000, np.nan]), "missing"),
        (pd.Series(["a", "b"]), "numeric"),
        (pd.Series([3, 2], index=["x", "x"]), "duplicated"),
    ],
)
def test_funnel_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        plots.funnel(bad)


def test_funnel_rejects_bad_ax_and_title():
    with pytest.raises(ValueError, match="ax"):
        plots.funnel(pd.Series([2, 1]), ax="left")
    with pytest.raises(ValueError, match="title"):
        plots.funnel(pd.Series([2, 1]), title=3)


def _cohorts() -> pd.DataFrame:
    m = pd.DataFrame(
        [[1.0, 0.3, 0.2], [1.0, 0.25, np.nan], [1.0, np.nan, np.nan]],
        index=pd.period_range("2025-01", periods=3, freq="M"),
        columns=[0, 1, 2],
    )
    return m


def test_cohort_heatmap(tmp_path):
    ax = plots.cohort_heatmap(_cohorts(), title="首单月留存 Retention")
    labels = {t.get_text() for t in ax.texts}
    assert {"100%", "30%", "25%"} <= labels
    assert ax.get_xlabel() == "Months since first order"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2025-01", "2025-02", "2025-03"]
    _draw_strict(ax.figure, tmp_path, "cohort")
    fig, ax2 = plt.subplots()
    plots.cohort_heatmap(_cohorts() * 100, ax=ax2, fmt="number", ylabel="Cohort")
    assert "100" in {t.get_text() for t in ax2.texts}
    fig, ax3 = plt.subplots()
    plots.cohort_heatmap(_cohorts(), ax=ax3, fmt=lambda v: f"{v:.2f}")
    assert "0.30" in {t.get_text() for t in ax3.texts}


def test_heatmap_layout_contrast_and_options(tmp_path):
    m = pd.DataFrame([[0.0, 1.0], [0.5, np.nan]], index=["a", "b"], columns=["x", "y"])
    ax = plots.heatmap(m, title="t", xlabel="next", ylabel="current", colorbar=False)
    cells = {t.get_text(): t for t in ax.texts}
    assert set(cells) == {"0%", "100%", "50%"}  # the NaN cell is blank
    assert cells["0%"].get_position() == (0.5, 0.5)  # first row on top, first column left
    assert cells["100%"].get_position() == (1.5, 0.5)
    assert mpl.colors.to_rgb(cells["100%"].get_color()) == (1.0, 1.0, 1.0)  # light on dark
    assert mpl.colors.to_rgb(cells["0%"].get_color()) != (1.0, 1.0, 1.0)
    assert ax.get_ylim() == (2.0, 0.0)
    assert len(ax.figure.axes) == 1  # no colour bar
    ax2 = plots.heatmap(m, title="t", xlabel="x", ylabel="y", annotate=False)
    assert len(ax2.texts) == 0 and len(ax2.figure.axes) == 2  # not annotated: a colour bar
    ax3 = plots.heatmap(m, title="t", xlabel="x", ylabel="y")  # annotated: no bar by default
    assert len(ax3.texts) == 3 and len(ax3.figure.axes) == 1
    ax4 = plots.heatmap(m, title="t", xlabel="x", ylabel="y", colorbar=True)
    assert len(ax4.texts) == 3 and len(ax4.figure.axes) == 2
    _draw_strict(ax2.figure, tmp_path, "heatmap")
    with pytest.raises(ValueError, match="annotate and colorbar"):
        plots.heatmap(m, title="t", xlabel="x", ylabel="y", colorbar="yes")


@pytest.mark.parametrize(
    "bad, kwargs, match",
    [
        (pd.Series([1.0]), {}, "matrix must be a pandas DataFrame"),
        (pd.DataFrame(), {}, "empty"),
        (pd.DataFrame({"a": ["x"]}), {}, "non-numeric"),
        (pd.DataFrame({"a": [np.nan]}), {}, "only missing"),
        (pd.DataFrame({"a": [1.0]}), {"fmt": "pct"}, "fmt"),
        (pd.DataFrame({"a": [1.0]}), {"cmap": "nope"}, "cmap"),
    ],
)
def test_cohort_heatmap_rejects_bad_input(bad, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.cohort_heatmap(bad, **kwargs)


def test_pareto(tmp_path):
    values = pd.Series([10, 50, 3, 30, 10], index=["D", "A", "E", "B", "C"])
    ax = plots.pareto(values, title="2 SKUs bring 77% of revenue 头部商品")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B", "D", "C", "E"]
    share_ax = ax.pareto_share_ax
    line = share_ax.get_lines()[0]
    assert np.allclose(line.get_ydata(), np.cumsum([50, 30, 10, 10, 3]) / 103)
    ref = [ln for ln in share_ax.get_lines() if list(ln.get_ydata()) == [0.8, 0.8]]
    assert ref, "80% reference line missing"
    assert any("3 of 5 items" in t.get_text() for t in share_ax.texts)
    _draw_strict(ax.figure, tmp_path, "pareto")
    many = pd.Series(np.arange(100, 0, -1), index=[f"sku{i}" for i in range(100)])
    ax2 = plots.pareto(many, ax=plt.subplots()[1])
    assert ax2.get_xticklabels() == [] or not any(t.get_text() for t in ax2.get_xticklabels())


@pytest.mark.parametrize(
    "bad, kwargs, match",
    [
        ([1, 2], {}, "values must be a pandas Series"),
        (pd.Series([], dtype=float), {}, "empty"),
        (pd.Series([1, -2]), {}, "non-negative"),
        (pd.Series([0, 0]), {}, "positive total"),
        (pd.Series([1, 2]), {"reference": 80}, "reference"),
    ],
)
def test_pareto_rejects_bad_input(bad, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.pareto(bad, **kwargs)


def test_response_curve(tmp_path):
    rng = np.random.default_rng(0)
    spend = rng.uniform(0, 1000, 40)
    response = 5000 * spend / (400 + spend) + rng.normal(0, 100, 40)
    ax = plots.response_curve(spend, response, curve=lambda s: 5000 * s / (400 + s),
                              current_spend=600, title="直通车 diminishing returns")
    assert ax.get_xlabel() == "Spend (CNY per day)"
    assert ax.get_ylabel() == "Incremental revenue (CNY per day)"
    assert len(ax.get_lines()) == 2  # fitted curve + current-spend line
    marginal = [t.get_text() for t in ax.texts if "marginal ROAS" in t.get_text()]
    assert marginal == ["marginal ROAS 2.00"]  # d/ds 5000 s/(400+s) at 600 = 5000*400/1000^2
    _draw_strict(ax.figure, tmp_path, "response")
    plots.response_curve(pd.Series([1.0, 2.0]), [3.0, 4.0], ax=plt.subplots()[1])


@pytest.mark.parametrize(
    "spend, response, kwargs, match",
    [
        ("abc", [1], {}, "spend must be a sequence"),
        ([1, 2], [1], {}, "same length"),
        ([], [], {}, "spend is empty"),
        ([1, -2], [1, 2], {}, "non-negative"),
        ([1, np.nan], [1, 2], {}, "spend holds missing"),
        ([1, 2], [1, np.inf], {}, "response holds"),
        ([1, 2], ["a", "b"], {}, "response must hold numbers"),
        ([1, 2], [1, 2], {"curve": 3}, "curve must be a callable"),
        ([1, 2], [1, 2], {"curve": lambda s: s[:3]}, "one value per spend level"),
        ([1, 2], [1, 2], {"current_spend": -1}, "current_spend"),
    ],
)
def test_response_curve_rejects_bad_input(spend, response, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.response_curve(spend, response, **kwargs)


def test_kpi_tree(tmp_path):
    tree = {"GMV 成交总额": {"UV 访客数": {}, "CR 转化率": {}, "AOV 客单价": None}}
    ax = plots.kpi_tree(tree, values={"GMV 成交总额": "¥1.2M (−8% WoW)"}, title="GMV = UV × CR × AOV")
    texts = [t.get_text() for t in ax.texts]
    assert "GMV 成交总额\n¥1.2M (−8% WoW)" in texts and "AOV 客单价" in texts
    _draw_strict(ax.figure, tmp_path, "kpi_tree")
    with pytest.raises(ValueError, match="exactly one root"):
        plots.kpi_tree({"a": {}, "b": {}})
    with pytest.raises(ValueError, match="appears twice"):
        plots.kpi_tree({"a": {"b": {"a": {}}}})
    with pytest.raises(ValueError, match="values names nodes"):
        plots.kpi_tree({"a": {"b": {}}}, values={"c": "1"})
    with pytest.raises(ValueError, match="children of 'a'"):
        plots.kpi_tree({"a": ["b"]})
