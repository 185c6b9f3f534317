"""One course theme, CJK-safe fonts and the charts that recur across chapters.

Call :func:`set_theme` once at the top of every lesson::

    from ecomlab import plots
    plots.set_theme()

It applies a seaborn ``whitegrid``-style theme with readable sizes and the course
palette, and registers the bundled CJK font "EcomLab Sans SC" (a subset of Noto Sans
CJK SC, SIL OFL 1.1, shipped in :mod:`ecomlab.fonts`). Latin text keeps DejaVu Sans;
any glyph DejaVu Sans lacks (汉字, full-width punctuation) falls back, glyph by glyph,
to the CJK font, so ``ax.set_title("复购率 Repurchase rate")`` renders both scripts with
no "Glyph missing" warning, on any machine, with no network and no system fonts.

The recurring charts each take the data, an optional ``ax``, a ``title`` (state the
finding, e.g. "Repeat buyers are 18% of customers but 47% of revenue") and axis
labels with units, and return the :class:`~matplotlib.axes.Axes` they drew on:

- :func:`funnel` — stage counts as horizontal bars with step and overall conversion.
- :func:`heatmap` — an annotated matrix (cross-tabs, transition matrices);
  :func:`cohort_heatmap` — cohort × period matrix (retention, revenue per customer).
- :func:`pareto` — sorted bars, cumulative-share line and the 80% reference.
- :func:`response_curve` — spend vs response points with an optional fitted curve.
- :func:`kpi_tree` — a KPI decomposition (GMV = UV × CR × spend per buyer) as a box tree.
- :func:`page_heatmap` — a click heatmap 热力图 drawn to scale on the page (PDP).

Every function validates its inputs and raises :class:`ValueError` naming the argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ecomlab.fonts import CJK_FAMILY, cjk_font_path

__all__ = [
    "CJK_FAMILY",
    "LATIN_FAMILY",
    "PALETTE",
    "cohort_heatmap",
    "funnel",
    "growth_share",
    "heatmap",
    "kpi_tree",
    "page_heatmap",
    "pareto",
    "price_band_bars",
    "register_cjk_font",
    "response_curve",
    "set_theme",
]

#: The Latin face. DejaVu Sans ships with matplotlib, so figures look the same everywhere.
LATIN_FAMILY = "DejaVu Sans"

#: The course palette (colour-blind-safe, after Okabe & Ito 2008): blue first for
#: "ours"/Nestwell, orange for the comparison, then the rest in a fixed order.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#CC79A7",  # pink
    "#56B4E9",  # sky blue
    "#D55E00",  # vermilion
    "#F0E442",  # yellow
    "#7F7F7F",  # grey
)

#: Colour for reference lines and annotations that are not data.
REFERENCE_COLOR = "#555555"


# --------------------------------------------------------------------------- theme
def register_cjk_font() -> str:
    """Register the bundled CJK font with matplotlib; return its family name.

    Idempotent: a second call does nothing. Uses
    :meth:`matplotlib.font_manager.FontManager.addfont`, so no system install is needed.

    >>> register_cjk_font()
    'EcomLab Sans SC'
    """
    path = cjk_font_path()
    if not path.is_file():  # pragma: no cover - broken install
        raise FileNotFoundError(
            f"bundled CJK font not found at {path}; reinstall ecomlab (package data missing)"
        )
    known = {font.fname for font in font_manager.fontManager.ttflist}
    if str(path) not in known:
        font_manager.fontManager.addfont(str(path))
    return CJK_FAMILY


#: seaborn's ``whitegrid`` style (``seaborn.axes_style("whitegrid")``, seaborn 0.13), kept
#: here so the theme does not import seaborn (and SciPy with it, ~1 s) in every lesson.
#: ``tests/test_plots.py`` checks it still equals seaborn's.
_WHITEGRID: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": ".8",
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.labelcolor": ".15",
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "text.color": ".15",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.top": False,
    "ytick.right": False,
    "xtick.bottom": False,
    "ytick.left": False,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
}

#: seaborn's ``notebook`` context (``seaborn.plotting_context("notebook")``) and its
#: scale per context; font sizes are also multiplied by ``font_scale``.
_NOTEBOOK_CONTEXT: dict[str, float] = {
    "axes.linewidth": 1.25,
    "grid.linewidth": 1.0,
    "lines.linewidth": 1.5,
    "lines.markersize": 6.0,
    "patch.linewidth": 1.0,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1.0,
    "ytick.minor.width": 1.0,
    "xtick.major.size": 6.0,
    "ytick.major.size": 6.0,
    "xtick.minor.size": 4.0,
    "ytick.minor.size": 4.0,
    "font.size": 12.0,
    "axes.labelsize": 12.0,
    "axes.titlesize": 12.0,
    "xtick.labelsize": 11.0,
    "ytick.labelsize": 11.0,
    "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0,
}
_CONTEXT_SCALE = {"paper": 0.8, "notebook": 1.0, "talk": 1.5, "poster": 2.0}
_FONT_KEYS = frozenset(
    {"font.size", "axes.labelsize", "axes.titlesize", "xtick.labelsize", "ytick.labelsize",
     "legend.fontsize", "legend.title_fontsize"}
)


def _context_rc(context: str, font_scale: float) -> dict[str, float]:
    """seaborn's ``plotting_context(context, font_scale)``: notebook sizes × the scale."""
    scale = _CONTEXT_SCALE[context]
    return {
        k: v * scale * (font_scale if k in _FONT_KEYS else 1.0) for k, v in _NOTEBOOK_CONTEXT.items()
    }


def set_theme(
    *,
    context: Literal["paper", "notebook", "talk", "poster"] = "notebook",
    font_scale: float = 1.0,
    palette: Sequence[str] = PALETTE,
) -> None:
    """Apply the course theme and make Chinese text render (one call per lesson).

    Seaborn's ``whitegrid`` style and ``context`` sizes (applied from rc values, so
    seaborn is not imported), with the course ``palette``, no top/right spines,
    left-aligned titles, 8×4.5 in figures, and ``font.family = ["sans-serif",
    "EcomLab Sans SC"]`` with ``font.sans-serif = ["DejaVu Sans", "EcomLab Sans SC"]``:
    matplotlib (≥ 3.6) takes each glyph from the first font in that list that has it.

    >>> set_theme()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["font.family"]
    ['sans-serif', 'EcomLab Sans SC']
    """
    if context not in _CONTEXT_SCALE:
        raise ValueError(f"context must be one of {tuple(_CONTEXT_SCALE)}, got {context!r}")
    if not isinstance(font_scale, (int, float)) or isinstance(font_scale, bool) or not (
        0 < font_scale <= 5
    ):
        raise ValueError(f"font_scale must be a number in (0, 5], got {font_scale!r}")
    palette = list(palette)
    if not palette:
        raise ValueError("palette must hold at least one colour")
    bad = [c for c in palette if not mpl.colors.is_color_like(c)]
    if bad:
        raise ValueError(f"palette holds values that are not colours: {bad}")

    family = register_cjk_font()
    # Both faces ship with the course, so no other fallback is ever reached; a short
    # list also keeps matplotlib's per-text font lookup cheap (~10% of drawing time).
    sans = [LATIN_FAMILY, family]
    mpl.rcParams.update(_WHITEGRID)
    mpl.rcParams.update(_context_rc(context, font_scale))
    mpl.rcParams.update(
        {
            "font.family": ["sans-serif", family],
            "font.sans-serif": sans,
            "axes.unicode_minus": True,  # DejaVu Sans has U+2212
            "figure.figsize": (8.0, 4.5),
            "figure.dpi": 100,
            "figure.constrained_layout.use": True,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "axes.titlesize": "large",
            "axes.titlelocation": "left",
            "axes.titlepad": 10.0,
            "axes.labelsize": "medium",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": mpl.cycler(color=palette),
            "legend.frameon": False,
            "image.cmap": "Blues",
        }
    )
    _store_titles_with_figures()


def figure_title(fig: mpl.figure.Figure) -> str:
    """A figure's title for alt text: its suptitle, else its axes' titles joined by "; ".

    >>> fig, ax = plt.subplots(); _ = ax.set_title("Repeat buyers are 18% of customers")
    >>> figure_title(fig); plt.close(fig)
    'Repeat buyers are 18% of customers'
    """
    sup = fig.get_suptitle().strip()
    if sup:
        return " ".join(sup.split())
    titles = [ax.get_title(loc).strip() for ax in fig.axes for loc in ("left", "center", "right")]
    return "; ".join(" ".join(t.split()) for t in titles if t)


def _store_titles_with_figures() -> None:
    """In IPython, store each figure's title with its PNG output as ``metadata["alt"]``.

    The inline backend's PNG formatter is wrapped so the notebook output carries
    ``{"image/png": {"alt": figure_title(fig)}}`` (IPython formatters may return
    ``(data, metadata)``); :mod:`ecomlab.site` uses it as the image's alt text.
    Outside IPython, or before the inline backend registered a formatter, nothing changes.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the kernel
        return
    shell = get_ipython()
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", {})
    png = formatters.get("image/png")
    if png is None:
        return
    if "inline" in mpl.get_backend():  # its formatter is registered when the module loads
        import matplotlib_inline.backend_inline  # noqa: F401
    try:
        base = png.lookup_by_type(mpl.figure.Figure)
    except KeyError:
        return
    if getattr(base, "_ecomlab_alt", False):
        return

    def png_with_alt(fig: mpl.figure.Figure) -> Any:
        data = base(fig)
        alt = figure_title(fig)
        return (data, {"alt": alt}) if data is not None and alt else data

    png_with_alt._ecomlab_alt = True  # type: ignore[attr-defined]
    png.for_type(mpl.figure.Figure, png_with_alt)


# ----------------------------------------------------------------------- helpers
def _get_ax(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots()
    elif not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _numeric_series(values: Any, name: str, *, allow_negative: bool = False) -> pd.Series:
    if not isinstance(values, pd.Series):
        raise ValueError(f"{name} must be a pandas Series, got {type(values).__name__}")
    if values.empty:
        raise ValueError(f"{name} is empty; it needs at least one value")
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise ValueError(f"{name} must be numeric, got dtype {values.dtype}")
    if values.isna().any():
        raise ValueError(
            f"{name} has {int(values.isna().sum())} missing value(s); drop or fill them first"
        )
    arr = values.to_numpy(dtype=float)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds infinite values")
    if not allow_negative and (arr < 0).any():
        raise ValueError(f"{name} must be non-negative; found {int((arr < 0).sum())} negative")
    return values.astype(float)


def _check_str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _labels(index: pd.Index) -> list[str]:
    return [str(x) for x in index]


# --------------------------------------------------------------------------- funnel
def funnel(
    counts: pd.Series,
    ax: Axes | None = None,
    *,
    title: str = "Conversion funnel",
    xlabel: str = "Visitors (count)",
    ylabel: str = "",
    show_rates: bool = True,
) -> Axes:
    """Horizontal funnel: one bar per stage, top to bottom, in the order of ``counts``.

    Each bar is labelled with its count, the step rate (stage / previous stage) and
    the overall rate (stage / first stage).

    Parameters
    ----------
    counts : Series
        Visitors (or sessions) reaching each stage, indexed by stage name, first stage
        first, e.g. ``pd.Series({"pv": 1000, "cart": 300, "buy": 90})``.

    Example: step rate of ``buy`` = 90 / 300 = 30%; overall = 90 / 1000 = 9%.
    """
    counts = _numeric_series(counts, "counts")
    if len(counts) < 2:
        raise ValueError(f"counts needs at least 2 stages, got {len(counts)}")
    if counts.index.has_duplicates:
        dup = counts.index[counts.index.duplicated()].unique().tolist()
        raise ValueError(f"counts has duplicated stage names: {dup}")
    if counts.iloc[0] <= 0:
        raise ValueError("counts: the first stage must be positive (it is the rate's base)")
    title, xlabel, ylabel = (_check_str(v, n) for v, n in
                             ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel")))
    ax = _get_ax(ax)
    labels = _labels(counts.index)
    y = np.arange(len(counts))
    colors = [PALETTE[0]] * len(counts)
    ax.barh(y, counts.to_numpy(), color=colors, height=0.6)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, counts.max() * 1.35 if counts.max() > 0 else 1)
    if show_rates:
        first = counts.iloc[0]
        prev = counts.shift(1)
        for i, (value, before) in enumerate(zip(counts, prev, strict=True)):
            text = f"{value:,.0f}"
            if i > 0:
                step = value / before if before > 0 else np.nan
                step_txt = f"{step:.1%}" if np.isfinite(step) else "n/a"
                text += f"  (step {step_txt}, overall {value / first:.1%})"
            ax.annotate(text, (value, i), xytext=(4, 0), textcoords="offset points",
                        va="center", ha="left", fontsize="small")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", visible=False)
    return ax


# ------------------------------------------------------------------- cohort heatmap
def _percent(v: float) -> str:
    return f"{v:.0%}"


def _number(v: float) -> str:
    return f"{v:,.0f}"


def cohort_heatmap(
    matrix: pd.DataFrame,
    ax: Axes | None = None,
    *,
    title: str = "Retention by cohort",
    fmt: Literal["percent", "number"] | Callable[[float], str] = "percent",
    xlabel: str = "Months since first order",
    ylabel: str = "Cohort (first-order month)",
    cmap: str = "Blues",
    annotate: bool | None = None,
    colorbar: bool | None = None,
) -> Axes:
    """Cohort × period heatmap, one row per cohort, one column per period since start.

    ``matrix.loc[c, k]`` is the value for cohort ``c`` ``k`` periods after its start,
    e.g. retention = active customers of cohort c in period k / cohort size; cells not
    yet observed are NaN and left blank. :func:`heatmap` with cohort axis labels.
    """
    return heatmap(matrix, ax, title=title, fmt=fmt, xlabel=xlabel, ylabel=ylabel,
                   cmap=cmap, annotate=annotate, colorbar=colorbar)


def heatmap(
    matrix: pd.DataFrame,
    ax: Axes | None = None,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    fmt: Literal["percent", "number"] | Callable[[float], str] = "percent",
    cmap: str = "Blues",
    annotate: bool | None = None,
    colorbar: bool | None = None,
) -> Axes:
    """Annotated heatmap of a numeric matrix: rows top to bottom, columns left to right.

    For cohort matrices, transition matrices (row shares) and cross-tabs. NaN cells are
    left blank. ``fmt`` formats the annotations and colour bar: ``"percent"``
    (fractions shown as 0–100%), ``"number"`` or a callable. ``annotate`` defaults to
    True for matrices up to 24 × 24. ``colorbar`` defaults to a colour bar only when the
    cells are not annotated (annotated cells already say what a colour means, and the
    bar costs ~0.2 s of drawing). Drawn with
    :meth:`~matplotlib.axes.Axes.pcolormesh` (like ``seaborn.heatmap``, without
    importing seaborn and SciPy, which costs a lesson ~1 s).

    >>> m = pd.DataFrame([[1.0, 0.4], [1.0, np.nan]], index=["2025-01", "2025-02"])
    >>> heatmap(m, title="Retention", xlabel="month", ylabel="cohort").get_title()
    'Retention'
    """
    if not isinstance(matrix, pd.DataFrame):
        raise ValueError(f"matrix must be a pandas DataFrame, got {type(matrix).__name__}")
    if matrix.empty:
        raise ValueError("matrix is empty; it needs at least one cohort and one period")
    non_numeric = [c for c in matrix.columns if not (
        pd.api.types.is_numeric_dtype(matrix[c]) and not pd.api.types.is_bool_dtype(matrix[c]))]
    if non_numeric:
        raise ValueError(f"matrix has non-numeric columns: {non_numeric}")
    values = matrix.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).all():
        raise ValueError("matrix holds only missing values")
    if np.isinf(values).any():
        raise ValueError("matrix holds infinite values")
    if fmt == "percent":
        formatter: Callable[[float], str] = _percent
    elif fmt == "number":
        formatter = _number
    elif callable(fmt):
        formatter = fmt
    else:
        raise ValueError(f"fmt must be 'percent', 'number' or a callable, got {fmt!r}")
    if cmap not in mpl.colormaps:
        raise ValueError(f"cmap {cmap!r} is not a registered matplotlib colormap")
    for v, n in ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel")):
        _check_str(v, n)
    if annotate is None:
        annotate = max(values.shape) <= 24
    if colorbar is None:
        colorbar = not annotate
    if not isinstance(annotate, bool) or not isinstance(colorbar, bool):
        raise ValueError(f"annotate and colorbar must be True or False, got {annotate!r}, {colorbar!r}")
    ax = _get_ax(ax)
    frame = pd.DataFrame(values, index=_labels(matrix.index), columns=_labels(matrix.columns))
    masked = np.ma.masked_invalid(frame.to_numpy())
    mesh = ax.pcolormesh(masked, cmap=cmap, edgecolors="white", linewidth=0.5)
    ax.set_xlim(0, values.shape[1])
    ax.set_ylim(values.shape[0], 0)  # first cohort on top
    ax.set_xticks(np.arange(values.shape[1]) + 0.5, frame.columns)
    ax.set_yticks(np.arange(values.shape[0]) + 0.5, frame.index)
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, format=FuncFormatter(lambda v, _pos: formatter(v)),
                           fraction=0.05, pad=0.02).outline.set_visible(False)
    if annotate:  # one label per cell (≤ 24 × 24), dark or light by the cell's luminance
        # digits and % need no CJK fallback: one font per label draws ~15% faster
        family = LATIN_FAMILY if fmt in ("percent", "number") else None
        rows, cols = np.nonzero(~masked.mask)
        rgba = mesh.cmap(mesh.norm(masked[rows, cols].filled(np.nan)))
        luminance = rgba[:, :3] @ np.array([0.2126, 0.7152, 0.0722])
        for r, c, lum in zip(rows, cols, luminance, strict=True):
            ax.text(c + 0.5, r + 0.5, formatter(float(values[r, c])), ha="center", va="center",
                    fontsize="x-small", color=".15" if lum > 0.408 else "white",
                    in_layout=False, fontfamily=family)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="y", rotation=0)
    ax.grid(False)
    return ax


# --------------------------------------------------------------------------- pareto
def pareto(
    values: pd.Series,
    ax: Axes | None = None,
    *,
    title: str = "Pareto chart",
    xlabel: str = "Item (sorted by value)",
    ylabel: str = "Revenue (CNY)",
    reference: float = 0.8,
    max_labels: int = 30,
) -> Axes:
    """Bars sorted high to low, cumulative share on a right axis, and a reference line.

    cumulative share_k = Σ_{i≤k} value_i / Σ value. The marker shows how many items
    (and what share of items) reach ``reference`` (80% by default: the "80/20" check).
    Tick labels are hidden when there are more than ``max_labels`` items. The right
    axis is returned as ``ax.pareto_share_ax``.

    Example: values 50, 30, 10, 10 → cumulative 50%, 80%, 90%, 100%; 2 of 4 items
    (50%) reach 80%.
    """
    values = _numeric_series(values, "values")
    total = float(values.sum())
    if total <= 0:
        raise ValueError("values must have a positive total")
    if not (isinstance(reference, (int, float)) and 0 < reference < 1):
        raise ValueError(f"reference must be a fraction in (0, 1), got {reference!r}")
    if not isinstance(max_labels, int) or max_labels < 0:
        raise ValueError(f"max_labels must be a non-negative int, got {max_labels!r}")
    for v, n in ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel")):
        _check_str(v, n)
    ax = _get_ax(ax)
    ordered = values.sort_values(ascending=False, kind="stable")
    share = ordered.cumsum() / total
    x = np.arange(len(ordered))
    ax.bar(x, ordered.to_numpy(), color=PALETTE[0], width=0.8)
    if len(ordered) <= max_labels:
        ax.set_xticks(x, _labels(ordered.index), rotation=45, ha="right")
    else:
        ax.set_xticks([])
    right = ax.twinx()
    right.plot(x, share.to_numpy(), color=PALETTE[1], marker="o" if len(x) <= 50 else None,
               markersize=3, linewidth=2, label="Cumulative share")
    right.axhline(reference, color=REFERENCE_COLOR, linestyle="--", linewidth=1)
    right.set_ylim(0, 1.05)
    right.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    right.set_ylabel("Cumulative share (%)")
    right.grid(False)
    k = int(np.searchsorted(share.to_numpy(), reference - 1e-12)) + 1
    k = min(k, len(ordered))
    right.annotate(
        f"{k} of {len(ordered)} items ({k / len(ordered):.0%}) reach {reference:.0%}",
        xy=(k - 1, share.iloc[k - 1]), xytext=(8, -14), textcoords="offset points",
        fontsize="small", color=REFERENCE_COLOR,
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.pareto_share_ax = right  # type: ignore[attr-defined]
    return ax


# ------------------------------------------------------------------- response curve
def response_curve(
    spend: Sequence[float] | np.ndarray | pd.Series,
    response: Sequence[float] | np.ndarray | pd.Series,
    ax: Axes | None = None,
    *,
    curve: Callable[[np.ndarray], np.ndarray] | None = None,
    current_spend: float | None = None,
    title: str = "Response to spend",
    xlabel: str = "Spend (CNY per day)",
    ylabel: str = "Incremental revenue (CNY per day)",
    label: str = "Observed",
) -> Axes:
    """Observed (spend, response) points and, optionally, a fitted response curve.

    ``curve`` maps an array of spend levels to expected response, e.g. a Hill curve
    ``lambda s: vmax * s / (half + s)``; it is drawn from 0 to 1.2 × the largest spend.
    ``current_spend`` draws a vertical reference line (today's budget), annotated with
    the marginal ROAS there, d response / d spend, when ``curve`` is given.
    """
    s = _float_array(spend, "spend")
    r = _float_array(response, "response")
    if s.ndim != 1 or r.ndim != 1:
        raise ValueError("spend and response must be one-dimensional")
    if len(s) != len(r):
        raise ValueError(f"spend and response must have the same length, got {len(s)} and {len(r)}")
    if len(s) == 0:
        raise ValueError("spend is empty; it needs at least one point")
    if not np.isfinite(s).all():
        raise ValueError("spend holds missing or infinite values")
    if not np.isfinite(r).all():
        raise ValueError("response holds missing or infinite values")
    if (s < 0).any():
        raise ValueError(f"spend must be non-negative; found {int((s < 0).sum())} negative")
    if curve is not None and not callable(curve):
        raise ValueError(f"curve must be a callable or None, got {type(curve).__name__}")
    if current_spend is not None and not (
        isinstance(current_spend, (int, float)) and np.isfinite(current_spend)
        and current_spend >= 0
    ):
        raise ValueError(f"current_spend must be a non-negative number, got {current_spend!r}")
    for v, n in ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel"), (label, "label")):
        _check_str(v, n)
    ax = _get_ax(ax)
    ax.scatter(s, r, s=14, alpha=0.6, color=PALETTE[0], label=label)
    if curve is not None:
        top = max(float(s.max()), float(current_spend or 0)) * 1.2 or 1.0
        grid = np.linspace(0, top, 200)
        fitted = np.asarray(curve(grid), dtype=float)
        if fitted.shape != grid.shape:
            raise ValueError(
                f"curve must return one value per spend level: got shape {fitted.shape} "
                f"for input shape {grid.shape}"
            )
        if not np.isfinite(fitted).all():
            raise ValueError("curve returned missing or infinite values on [0, 1.2 × max spend]")
        ax.plot(grid, fitted, color=PALETTE[1], linewidth=2, label="Fitted response")
    if current_spend is not None:
        ax.axvline(current_spend, color=REFERENCE_COLOR, linestyle="--", linewidth=1,
                   label="Current spend")
        if curve is not None:
            h = max(current_spend * 1e-3, 1e-6)
            lo = max(current_spend - h, 0.0)
            ends = np.asarray(curve(np.array([lo, current_spend + h])), dtype=float)
            marginal = (ends[1] - ends[0]) / (current_spend + h - lo)
            ax.annotate(f"marginal ROAS {marginal:.2f}", xy=(current_spend, 1),
                        xycoords=("data", "axes fraction"), xytext=(4, -12),
                        textcoords="offset points", fontsize="small", color=REFERENCE_COLOR)
    ax.set_xlim(left=0)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower right")
    return ax


def _float_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise ValueError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers only") from None


# ------------------------------------------------------------------------- KPI tree
def kpi_tree(
    tree: Mapping[str, Any],
    ax: Axes | None = None,
    *,
    values: Mapping[str, str] | None = None,
    title: str = "KPI tree",
) -> Axes:
    """Draw a KPI decomposition as boxes joined by lines, root on the left.

    ``tree`` is a nested mapping ``{node: {child: {...}, ...}}`` with exactly one root,
    e.g. ``{"GMV 成交总额": {"UV 访客数": {}, "CR 转化率": {}, "客单价 spend per buyer": {}}}``
    for GMV = UV × CR × spend per buyer. ``values`` optionally maps a node to a second line of text
    (e.g. ``"¥1.2M (−8% WoW)"``).
    """
    if not isinstance(tree, Mapping) or len(tree) != 1:
        raise ValueError("tree must be a mapping with exactly one root node")
    values = dict(values or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
        raise ValueError("values must map node names (str) to display text (str)")
    _check_str(title, "title")

    positions: dict[str, tuple[float, float]] = {}
    edges: list[tuple[str, str]] = []
    seen: set[str] = set()
    leaf_counter = [0]

    def place(node: str, children: Any, depth: int) -> float:
        if not isinstance(node, str):
            raise ValueError(f"tree: node names must be strings, got {node!r}")
        if node in seen:
            raise ValueError(f"tree: node {node!r} appears twice")
        seen.add(node)
        if children is None:
            children = {}
        if not isinstance(children, Mapping):
            raise ValueError(f"tree: children of {node!r} must be a mapping, got "
                             f"{type(children).__name__}")
        if not children:
            y = float(leaf_counter[0])
            leaf_counter[0] += 1
        else:
            ys = []
            for child, grand in children.items():
                ys.append(place(child, grand, depth + 1))
                edges.append((node, child))
            y = float(np.mean(ys))
        positions[node] = (float(depth), y)
        return y

    (root, children), = tree.items()
    place(root, children, 0)
    unknown = sorted(set(values) - set(positions))
    if unknown:
        raise ValueError(f"values names nodes that are not in tree: {unknown}")

    ax = _get_ax(ax)
    for parent, child in edges:
        (x0, y0), (x1, y1) = positions[parent], positions[child]
        xm = (x0 + x1) / 2
        ax.plot([x0 + 0.3, xm, xm, x1 - 0.3], [y0, y0, y1, y1], color=REFERENCE_COLOR,
                linewidth=1, zorder=1)
    for node, (x, y) in positions.items():
        text = node if node not in values else f"{node}\n{values[node]}"
        ax.text(x, y, text, ha="center", va="center", fontsize="small", zorder=2,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": "white",
                      "edgecolor": PALETTE[0]})
    depth = max(x for x, _ in positions.values())
    ax.set_xlim(-0.6, depth + 0.6)
    ax.set_ylim(leaf_counter[0] - 0.5, -0.5)
    ax.set_axis_off()
    ax.set_title(title)
    return ax


# --------------------------------------------------------------------- page heatmap
def page_heatmap(
    grid: pd.DataFrame,
    ax: Axes | None = None,
    *,
    title: str = "Where visitors click",
    page_width: float = 375.0,
    fold: float | None = 812.0,
    marks: Mapping[str, tuple[float, float]] | None = None,
    vmax: float | None = None,
    cmap: str = "magma_r",
    colorbar: bool = True,
    cbar_label: str = "Share of clicks",
) -> Axes:
    """Click heatmap 热力图 drawn on the page itself (x = 0 .. ``page_width`` pt).

    ``grid`` is one version's density from :func:`ecomlab.traffic.click_heatmap`: rows
    = y-bin centres in pt from the top of the page (ascending), columns = x-bin centres
    in pt; values are click shares (or counts). The page is drawn to scale (equal
    aspect) with the top at the top; ``fold`` draws the end of the first screen
    (812 pt on a 375 × 812 phone; ``None`` for none). ``marks`` labels page elements,
    ``{"add to cart": (x, y)}``. Pass the same ``vmax`` to compare two versions side
    by side.

    Example: two versions side by side on one colour scale::

        grids = traffic.click_heatmap(page_clicks)
        vmax = max(g.to_numpy().max() for g in grids.values())
        fig, axes = plt.subplots(1, 2)
        for ax, v in zip(axes, "AB"):
            page_heatmap(grids[v], ax, title=f"Version {v}", vmax=vmax)
    """
    if not isinstance(grid, pd.DataFrame):
        raise ValueError(f"grid must be a pandas DataFrame, got {type(grid).__name__}")
    if grid.empty:
        raise ValueError("grid is empty; it needs at least one cell")
    values = grid.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("grid must hold finite, non-negative values (click shares or counts)")
    try:
        ys = np.asarray(grid.index, dtype=float)
        xs = np.asarray(grid.columns, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("grid index (y) and columns (x) must be numeric bin centres in pt") from exc
    if len(ys) > 1 and not (np.diff(ys) > 0).all():
        raise ValueError("grid index (y-bin centres) must be strictly increasing")
    if len(xs) > 1 and not (np.diff(xs) > 0).all():
        raise ValueError("grid columns (x-bin centres) must be strictly increasing")
    if not (isinstance(page_width, (int, float)) and page_width > 0):
        raise ValueError(f"page_width must be a positive number of pt, got {page_width!r}")
    if vmax is not None and not (isinstance(vmax, (int, float)) and vmax > 0):
        raise ValueError(f"vmax must be a positive number or None, got {vmax!r}")
    if cmap not in mpl.colormaps:
        raise ValueError(f"cmap {cmap!r} is not a registered matplotlib colormap")
    if fold is not None and not (isinstance(fold, (int, float)) and fold > 0):
        raise ValueError(f"fold must be a positive number of pt or None, got {fold!r}")
    for v, n in ((title, "title"), (cbar_label, "cbar_label")):
        _check_str(v, n)
    half_y = (ys[1] - ys[0]) / 2 if len(ys) > 1 else ys[0]
    y_top, y_bottom = max(0.0, ys[0] - half_y), ys[-1] + half_y
    ax = _get_ax(ax)
    ax.add_patch(mpl.patches.Rectangle((0.0, y_top), float(page_width), y_bottom - y_top,
                                       facecolor="#f4f4f4", edgecolor="#bbbbbb", zorder=0))
    shown = np.where(values > 0, values, np.nan)  # no clicks: the grey page shows through
    image = ax.imshow(shown, extent=(0.0, float(page_width), y_bottom, y_top), origin="upper",
                      aspect="equal", cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest",
                      zorder=1)
    if fold is not None:
        ax.axhline(fold, color=PALETTE[4], linestyle="--", linewidth=1.5, zorder=2)
        ax.annotate(f"first screen ends ({fold:.0f} pt)", (page_width, fold), xytext=(-2, -3),
                    textcoords="offset points", ha="right", va="top", fontsize="x-small",
                    color="#1f5f8b", zorder=3)
    for label, (x, y) in (marks or {}).items():
        ax.annotate(str(label), (x, y), xytext=(0, 0), textcoords="offset points", ha="center",
                    va="center", fontsize="x-small", color="black",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85,
                          "edgecolor": "none"}, zorder=4)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.6)
        bar.set_label(cbar_label)
        if vmax is None or vmax <= 1:
            bar.formatter = PercentFormatter(1.0, decimals=1)
            bar.update_ticks()
    ax.set_xlim(0, page_width)
    ax.set_ylim(y_bottom, y_top)
    ax.set_title(title)
    ax.set_xlabel("x (pt from the left edge)")
    ax.set_ylabel("y (pt from the top of the page)")
    ax.grid(False)
    return ax


# ------------------------------------------------------------ growth–share and price bands
def growth_share(
    table: pd.DataFrame,
    ax: Axes | None = None,
    *,
    x: str = "relative_share",
    y: str = "growth",
    size: str | None = "sales",
    label: str = "category",
    y_threshold: float | None = None,
    title: str = "Growth–share view",
    xlabel: str = "Relative share (own ÷ largest rival, log scale)",
    ylabel: str = "Market growth, year on year (%)",
) -> Axes:
    """Growth–share chart (BCG matrix): one bubble per market, relative share on a log
    x axis, growth (a fraction, shown in %) on the y axis, bubble area ∝ ``size``.

    A dashed line at relative share 1 (leader vs follower) and, with ``y_threshold``, at
    that growth split the four quadrants (star, question mark, cash cow, dog). ``table``
    is e.g. :func:`ecomlab.market.growth_share`'s result.
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("table must be a non-empty DataFrame (one row per market)")
    cols = [x, y, label, *([size] if size else [])]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"table is missing column(s) {missing}; it has {list(table.columns)}")
    xs = _numeric_series(table[x].reset_index(drop=True), x)
    if (xs <= 0).any():
        raise ValueError(f"{x} must be positive for a log axis; found {int((xs <= 0).sum())} value(s) <= 0")
    ys = _numeric_series(table[y].reset_index(drop=True), y, allow_negative=True)
    area = (np.full(len(xs), 200.0) if not size else
            80 + 1500 * (lambda v: v / v.max())(_numeric_series(table[size].reset_index(drop=True), size)))
    for v, n in ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel")):
        _check_str(v, n)
    ax = _get_ax(ax)
    ax.scatter(xs, ys, s=area, color=PALETTE[0], alpha=0.55, edgecolor="white")
    # labels to the right, alternately above and below in order of growth, so neighbours do not collide
    rank = ys.rank(method="first").astype(int).to_numpy()
    for xi, yi, name, r in zip(xs, ys, table[label].astype(str), rank, strict=True):
        ax.annotate(name, (xi, yi), xytext=(8, 5 if r % 2 else -11), textcoords="offset points",
                    fontsize="small")
    ax.set_xscale("log")
    ax.axvline(1.0, color=REFERENCE_COLOR, linestyle="--", linewidth=1)
    if y_threshold is not None:
        ax.axhline(float(y_threshold), color=REFERENCE_COLOR, linestyle="--", linewidth=1)
    lo, hi = float(min(xs.min(), 1.0)) / 1.6, float(max(xs.max(), 1.0)) * 1.6
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def price_band_bars(
    sales: pd.DataFrame,
    ax: Axes | None = None,
    *,
    highlight: str | None = None,
    normalize: bool = True,
    title: str = "Sales by price band",
    xlabel: str = "Share of the brand's sales (%)",
    ylabel: str = "Brand",
) -> Axes:
    """Horizontal stacked bars: one bar per row (a brand), one segment per price band.

    ``sales`` has brands as rows and price bands as columns, in band order (cheapest
    first), e.g. ``banded.pivot_table(index="brand", columns="price_band",
    values="sales_amount", aggfunc="sum")``. With ``normalize`` each bar shows the
    brand's sales mix in % (else the amounts). ``highlight`` outlines one brand's bar in
    black and greys the other brands' labels.
    """
    if not isinstance(sales, pd.DataFrame) or sales.empty:
        raise ValueError("sales must be a non-empty DataFrame (brands × price bands)")
    for c in sales.columns:
        _numeric_series(sales[c], f"sales[{c!r}]")
    totals = sales.sum(axis=1)
    if normalize and (totals <= 0).any():
        raise ValueError(f"row(s) {list(totals.index[totals <= 0])} have no sales; cannot show their mix")
    if highlight is not None and highlight not in [str(i) for i in sales.index]:
        raise ValueError(f"highlight must be one of the rows {[str(i) for i in sales.index]}, got {highlight!r}")
    for v, n in ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel")):
        _check_str(v, n)
    ax = _get_ax(ax)
    data = sales.div(totals, axis=0) if normalize else sales
    left = np.zeros(len(data))
    ypos = np.arange(len(data))[::-1]
    names = _labels(data.index)
    edges = ["black" if n == highlight else "none" for n in names]
    for i, band in enumerate(data.columns):
        vals = data[band].to_numpy(dtype=float)
        ax.barh(ypos, vals, left=left, color=PALETTE[i % len(PALETTE)], label=str(band), height=0.7,
                edgecolor=edges, linewidth=1.5)
        left += vals
    ax.set_yticks(ypos, names)
    if highlight is not None:
        for tick in ax.get_yticklabels():
            tick.set_color("black" if tick.get_text() == highlight else REFERENCE_COLOR)
    if normalize:
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    handles = [mpl.patches.Patch(color=PALETTE[i % len(PALETTE)], label=str(b)) for i, b in enumerate(data.columns)]
    ax.legend(handles=handles, title="Price band", loc="upper center", bbox_to_anchor=(0.5, -0.18),
              ncol=min(len(data.columns), 5), frameon=False)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def swot_grid(
    table: pd.DataFrame,
    ax: Axes | None = None,
    *,
    title: str = "SWOT",
    width: int = 56,
) -> Axes:
    """A SWOT grid: four quadrants (strengths, weaknesses / opportunities, threats), each
    listing its items as ``code  statement  (value)``.

    ``table`` has one row per item with ``code``, ``kind`` (strength, weakness,
    opportunity, threat), ``statement`` and ``shown`` (the formatted evidence), e.g.
    :func:`ecomlab.swot.swot_table`'s result; every kind needs at least one item. Lines
    wrap at ``width`` characters. Internal factors on top, external below; helpful on
    the left, harmful on the right.
    """
    import textwrap

    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("table must be a non-empty DataFrame (one row per SWOT item)")
    missing = [c for c in ("code", "kind", "statement", "shown") if c not in table.columns]
    if missing:
        raise ValueError(f"table is missing column(s) {missing}; it has {list(table.columns)}")
    kinds = ("strength", "weakness", "opportunity", "threat")
    unknown = sorted(set(table["kind"].astype(str)) - set(kinds))
    if unknown:
        raise ValueError(f"table.kind must be one of {kinds}; found {unknown}")
    empty = [k for k in kinds if not (table["kind"] == k).any()]
    if empty:
        raise ValueError(f"every SWOT quadrant needs an item; none for {empty}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 10:
        raise ValueError(f"width must be an integer >= 10 characters, got {width!r}")
    _check_str(title, "title")
    ax = _get_ax(ax)
    heads = {"strength": "Strengths 优势 (S)", "weakness": "Weaknesses 劣势 (W)",
             "opportunity": "Opportunities 机会 (O)", "threat": "Threats 威胁 (T)"}
    where = {"strength": (0, 1), "weakness": (1, 1), "opportunity": (0, 0), "threat": (1, 0)}
    colors = {"strength": PALETTE[2], "weakness": PALETTE[3], "opportunity": PALETTE[0], "threat": PALETTE[1]}
    for kind in kinds:
        x0, y0 = where[kind]
        ax.add_patch(mpl.patches.Rectangle((x0, y0), 1, 1, facecolor=colors[kind], alpha=0.12,
                                           edgecolor="white", linewidth=3))
        ax.text(x0 + 0.04, y0 + 0.93, heads[kind], va="top", color=colors[kind], fontsize="large")
        rows = table[table["kind"] == kind]
        lines = [textwrap.fill(f"{c}  {s} ({v})", width, subsequent_indent="     ")
                 for c, s, v in zip(rows["code"].astype(str), rows["statement"].astype(str),
                                    rows["shown"].astype(str), strict=True)]
        ax.text(x0 + 0.04, y0 + 0.8, "\n".join(lines), va="top", fontsize="small", linespacing=1.35)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xticks([0.5, 1.5], ["Helpful", "Harmful"])
    ax.set_yticks([0.5, 1.5], ["External", "Internal"])
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title)
    return ax
