"""Exercises for 02_product/02_pricing (lesson 02-2, pricing, 定价).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data`, never typed in. Four of the five questions make the
student compute: an arc elasticity by hand from two price cells (q1), the margin-optimal
price p* = c·e/(1+e) (q2), its upper limit from the elasticity's CI (q3), a promotion
lift from the raw tables (q4) and the share of a promotion's extra orders pulled forward
from the weeks around it (q6); q5 reads which categories have no finite p*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import product
from ecomlab.exercises import NumberAnswer, Question, SetAnswer, data, derived

#: q1-q3: the category studied.
CATEGORY = "storage"
#: q1: the half-year (first day) whose price cells the arc elasticity uses.
PERIOD = "2025-01-01"
#: q4: the promotion window (first and last day), the baseline days, and the gap: the days just
#: before the window left out of the baseline because customers waiting for it dip them (q6's AROUND).
WINDOW = ("2025-10-31", "2025-11-11")
BASELINE_DAYS = 14
GAP_DAYS = 7
#: q6: days either side of WINDOW checked for a dip, and the reference days for the baseline
#: (``REFERENCE`` = days before the start, counted back from the day before the dip zone).
AROUND = 7
REFERENCE = (35, 8)


def panel() -> pd.DataFrame:
    """The SKU-day panel of the lesson (units of placed orders, 0 on days without a sale)."""
    return derived(("ch02_pricing", "panel"), lambda: product.sku_days(
        data("order_items"), data("orders"), data("daily_prices"), data("products")).table)


def points() -> pd.DataFrame:
    """The lesson's SKU x price cells on ordinary days."""
    return derived(("ch02_pricing", "points"), lambda: product.price_points(
        data("order_items"), data("orders"), data("daily_prices"), data("products")).table)


def poisson() -> pd.DataFrame:
    """The lesson's Poisson (SKU and week fixed effects) elasticities, indexed by category."""
    def make() -> pd.DataFrame:
        p = panel()
        return product.poisson_elasticity(product.week_cells(p, origin=p["date"].min())).table.set_index("category")
    return derived(("ch02_pricing", "poisson"), make)


def top_sku() -> str:
    """The CATEGORY SKU with the most units in the price cells."""
    pts = points()
    return str(pts[pts["category"] == CATEGORY].groupby("sku_id")["units"].sum().idxmax())


# -- q1 ---------------------------------------------------------------------------------
def _two_cells() -> tuple[float, float, float, float]:
    c = points().query("sku_id == @top_sku() and period == @pd.Timestamp(@PERIOD)").sort_values("price")
    lo, hi = c.iloc[0], c.iloc[-1]
    return float(lo["price"]), float(lo["units_per_day"]), float(hi["price"]), float(hi["units_per_day"])


def arc_elasticity() -> float:
    """Midpoint (arc) elasticity between the lowest and the highest price cell of the top SKU."""
    p1, q1_, p2, q2_ = _two_cells()
    return ((q2_ - q1_) / ((q1_ + q2_) / 2)) / ((p2 - p1) / ((p1 + p2) / 2))


q1 = Question(
    prompt=f"Take the {CATEGORY} SKU with the most units in `pp.table` (the price cells). From its "
    f"**lowest** and **highest** price cells in the half-year starting {PERIOD} (column `period`), compute the **arc (midpoint) elasticity**: "
    "(Δq / mean q) / (Δp / mean p), with q = units_per_day. Within 0.01.",
    kind=NumberAnswer(expected=arc_elasticity, abs_tol=0.01, mistakes=[
        ("the log-log slope, not the midpoint formula",
         lambda: float(np.log(_two_cells()[3] / _two_cells()[1]) / np.log(_two_cells()[2] / _two_cells()[0]))),
        ("percentage changes from the low price as the base, not the midpoints",
         lambda: ((_two_cells()[3] - _two_cells()[1]) / _two_cells()[1])
         / ((_two_cells()[2] - _two_cells()[0]) / _two_cells()[0])),
    ]),
    hints=[
        "`c = pp.table[(pp.table['sku_id'] == sku) & (pp.table['period'] == ex.PERIOD)].sort_values('price')`; "
        "take `c.iloc[0]` and `c.iloc[-1]`.",
        "Last hint: `((q2 - q1) / ((q1 + q2) / 2)) / ((p2 - p1) / ((p1 + p2) / 2))` with q = units_per_day.",
    ],
    solution=(
        "t = pp.table[pp.table['category'] == ex.CATEGORY]\n"
        "sku = t.groupby('sku_id')['units'].sum().idxmax()\n"
        "c = t[(t['sku_id'] == sku) & (t['period'] == ex.PERIOD)].sort_values('price')\n"
        "p1, q1 = c['price'].iloc[0], c['units_per_day'].iloc[0]\n"
        "p2, q2 = c['price'].iloc[-1], c['units_per_day'].iloc[-1]\n"
        "answer = ((q2 - q1) / ((q1 + q2) / 2)) / ((p2 - p1) / ((p1 + p2) / 2))"
    ),
)


# -- q2, q3 -----------------------------------------------------------------------------
def _cost() -> float:
    return float(data("products").set_index("sku_id").loc[top_sku(), "unit_cost"])


def p_star() -> float:
    """p* = c·e/(1+e) of the top SKU with CATEGORY's Poisson elasticity."""
    e = float(poisson().loc[CATEGORY, "elasticity"])
    return _cost() * e / (1 + e)


q2 = Question(
    prompt=f"With the Poisson estimate of {CATEGORY}'s elasticity (`pois.table`), what is the "
    "**margin-optimal price** p* = c·e/(1+e) (CNY) of that same SKU (its `unit_cost` in `products`)? "
    "Within 0.05 CNY.",
    kind=NumberAnswer(expected=p_star, abs_tol=0.05, mistakes=[
        ("c·(1+e)/e: the fraction upside down",
         lambda: _cost() * (1 + float(poisson().loc[CATEGORY, "elasticity"])) / float(poisson().loc[CATEGORY, "elasticity"])),
        ("the markup only, c·e/(1+e) − c", lambda: p_star() - _cost()),
    ]),
    hints=["`e = pois.table.set_index('category').loc[ex.CATEGORY, 'elasticity']`",
           "Last hint: `answer = cost * e / (1 + e)` with the SKU's `unit_cost`."],
    solution=(
        "e = pois.table.set_index('category').loc[ex.CATEGORY, 'elasticity']\n"
        "t = pp.table[pp.table['category'] == ex.CATEGORY]\n"
        "cost = products.set_index('sku_id').loc[t.groupby('sku_id')['units'].sum().idxmax(), 'unit_cost']\n"
        "answer = cost * e / (1 + e)"
    ),
)


def p_star_high() -> float:
    """Upper limit of p*: from the CI end nearest −1 (the least elastic)."""
    e = float(poisson().loc[CATEGORY, "ci_high"])
    return _cost() * e / (1 + e)


q3 = Question(
    prompt="Propagate the elasticity's 95% CI to p*: what is the **upper limit** of the same SKU's p* "
    "(CNY)? p* is monotone in e, so an end of the CI gives an end of p*'s interval. Within 0.05 CNY.",
    kind=NumberAnswer(expected=p_star_high, abs_tol=0.05, mistakes=[
        ("the lower limit: the more elastic end (ci_low) gives the LOWER price",
         lambda: _cost() * float(poisson().loc[CATEGORY, "ci_low"]) / (1 + float(poisson().loc[CATEGORY, "ci_low"]))),
        ("p* plus 1.96 standard errors of e: propagate the ends through the formula instead", lambda: p_star() + 1.96
         * float(poisson().loc[CATEGORY, "std_error"])),
    ]),
    hints=["Which end of the CI is closer to −1? Demand less elastic means a higher optimal price.",
           "Last hint: `e = ...loc[ex.CATEGORY, 'ci_high']`; `answer = cost * e / (1 + e)`."],
    solution=(
        "e_hi = pois.table.set_index('category').loc[ex.CATEGORY, 'ci_high']\n"
        "answer = cost * e_hi / (1 + e_hi)"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def window_lift(gap: int = GAP_DAYS) -> float:
    """Units per day in WINDOW / units per day in the BASELINE_DAYS ordinary days ending ``gap`` days
    before it (``gap=0``: the dipped days right before it, the usual mistake)."""
    p = panel()
    daily = p.groupby("date").agg(units=("units", "sum"), promo=("on_promotion", "any"))
    s, e = pd.Timestamp(WINDOW[0]), pd.Timestamp(WINDOW[1])
    on = daily.loc[s:e, "units"].mean()
    end = s - pd.Timedelta(days=gap)
    base = daily.loc[end - pd.Timedelta(days=BASELINE_DAYS):end - pd.Timedelta(days=1)]
    return float(on / base.loc[~base["promo"], "units"].mean())


q4 = Question(
    prompt=f"From `orders` and `order_items` (placed orders: leave out cancelled), what is the **lift** of the "
    f"{WINDOW[0]} – {WINDOW[1]} promotion: total units per day during it divided by total units per day "
    f"in the {BASELINE_DAYS} days that end {GAP_DAYS} days before it starts (the {GAP_DAYS} days just before "
    f"are left out: customers waiting for the promotion dip them)? (A ratio, within 0.02.)",
    kind=NumberAnswer(expected=window_lift, abs_tol=0.02, mistakes=[
        ("the extra units (lift − 1), not the ratio", lambda: window_lift() - 1),
        (f"a baseline from the {BASELINE_DAYS} days right before the promotion: those are dipped by customers "
         f"waiting for it, so the lift comes out too high; end the baseline {GAP_DAYS} days before the start",
         lambda: window_lift(0)),
    ]),
    hints=["Daily units: merge items with the non-cancelled orders, `order_ts.dt.normalize()`, sum `quantity`.",
           f"Last hint: mean daily units over the window's days / mean over the days from "
           f"start − {GAP_DAYS + BASELINE_DAYS} to start − {GAP_DAYS + 1} days."],
    solution=(
        "o = orders[orders['status'] != 'cancelled']\n"
        "x = items.merge(o[['order_id', 'order_ts']], on='order_id')\n"
        "daily = x.groupby(x['order_ts'].dt.normalize())['quantity'].sum()\n"
        "s, e = pd.Timestamp(ex.WINDOW[0]), pd.Timestamp(ex.WINDOW[1])\n"
        "D = pd.Timedelta(days=1)\n"
        "base = daily.loc[s - (ex.GAP_DAYS + ex.BASELINE_DAYS) * D:s - (ex.GAP_DAYS + 1) * D]\n"
        "answer = daily.loc[s:e].mean() / base.mean()"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def no_finite_optimum() -> set[str]:
    """Categories whose Poisson CI reaches −1 or above: p* has no finite upper limit."""
    t = poisson()
    return {str(c) for c in t.index[t["ci_high"] >= -1]}


q5 = Question(
    prompt="For which categories does the 95% CI of the Poisson elasticity reach −1 or above, so that the "
    "margin-optimal price has no finite upper limit? (A set of category names.)",
    kind=SetAnswer(expected=no_finite_optimum),
    hints=["Last hint: `set(pois.table.loc[pois.table['ci_high'] >= -1, 'category'])`."],
    solution="answer = set(pois.table.loc[pois.table['ci_high'] >= -1, 'category'])",
)



# -- q6 ---------------------------------------------------------------------------------
def _orders_around() -> tuple[pd.Series, float]:
    """Daily placed orders and the flat baseline: mean orders on the ordinary days
    REFERENCE[0]..REFERENCE[1] days before WINDOW's start."""
    d = derived(("ch02_pricing", "daily_demand"), lambda: product.daily_demand(data("orders"), data("daily_prices")))
    daily = d.set_index("date")
    s = pd.Timestamp(WINDOW[0])
    ref = daily.loc[s - pd.Timedelta(days=REFERENCE[0]):s - pd.Timedelta(days=REFERENCE[1])]
    return daily["orders"], float(ref.loc[~ref["on_promotion"], "orders"].mean())


def _extra_and_dip() -> tuple[float, float, float, float]:
    orders, base = _orders_around()
    s, e = pd.Timestamp(WINDOW[0]), pd.Timestamp(WINDOW[1])
    a = pd.Timedelta(days=AROUND)
    extra = float((orders.loc[s:e] - base).sum())
    before = float((base - orders.loc[s - a:s - pd.Timedelta(days=1)]).sum())
    after = float((base - orders.loc[e + pd.Timedelta(days=1):e + a]).sum())
    return extra, before, after, base


def pulled_forward_share() -> float:
    """(dip before + dip after) / extra orders during WINDOW, against the flat baseline."""
    extra, before, after, _ = _extra_and_dip()
    return (before + after) / extra


q6 = Question(
    prompt=f"Pull-forward by hand for the {WINDOW[0]} – {WINDOW[1]} promotion, on daily **placed orders** "
    f"(leave out cancelled). Baseline: mean orders per day on the ordinary days {REFERENCE[0]} to "
    f"{REFERENCE[1]} days before its start. Extra = Σ (orders − baseline) over the promotion's days; "
    f"dip = Σ (baseline − orders) over the {AROUND} days before it and the {AROUND} days after it. "
    "What share of the extra orders was pulled forward, dip / extra? (A fraction, within 0.01.)",
    kind=NumberAnswer(expected=pulled_forward_share, abs_tol=0.01, mistakes=[
        ("dip / (extra + dip): the share is of the promotion's extra orders, not of extra plus dip",
         lambda: (lambda x: (x[1] + x[2]) / (x[0] + x[1] + x[2]))(_extra_and_dip())),
        ("only the dip after the promotion: customers also wait for it (a dip before)",
         lambda: (lambda x: x[2] / x[0])(_extra_and_dip())),
        ("only the dip before the promotion: customers also stock up (a dip after)",
         lambda: (lambda x: x[1] / x[0])(_extra_and_dip())),
        ("extra / dip: the ratio upside down", lambda: 1 / pulled_forward_share()),
        ("a percentage: give the fraction (0.25, not 25)", lambda: 100 * pulled_forward_share()),
    ]),
    hints=["Daily orders: `o = orders[orders['status'] != 'cancelled']`, then count by `o['order_ts'].dt.normalize()`; "
           "a day is ordinary if no SKU in `prices` is `on_promotion`.",
           "Baseline: `daily.loc[s - 35 days : s - 8 days]` on ordinary days, `.mean()`. Extra: "
           "`(daily.loc[s:e] - base).sum()`.",
           "Last hint: `dip = (base - daily.loc[s - 7 days : s - 1 day]).sum() + (base - daily.loc[e + 1 day : e + 7 days]).sum()`; "
           "`answer = dip / extra`."],
    solution=(
        "o = orders[orders['status'] != 'cancelled']\n"
        "daily = o.groupby(o['order_ts'].dt.normalize()).size()\n"
        "promo_day = prices.groupby('date')['on_promotion'].any()\n"
        "s, e = pd.Timestamp(ex.WINDOW[0]), pd.Timestamp(ex.WINDOW[1])\n"
        "D = pd.Timedelta(days=1)\n"
        "ref = daily.loc[s - 35 * D:s - 8 * D]\n"
        "base = ref[~promo_day.reindex(ref.index)].mean()\n"
        "extra = (daily.loc[s:e] - base).sum()\n"
        "dip = (base - daily.loc[s - 7 * D:s - D]).sum() + (base - daily.loc[e + D:e + 7 * D]).sum()\n"
        "answer = dip / extra"
    ),
)
