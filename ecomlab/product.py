"""Product strategy helpers (商品运营): price elasticity from exogenous price tests.

Method (chapter 02): for every SKU and period (half-year by default), average daily units
sold at each shelf price it carried on ordinary days (promotion days excluded: price and
demand move together there for reasons other than price), then a log-log regression with
SKU and period fixed effects, per category::

    log(units per day)_{s,t,p} = β · log(price)_{s,t,p} + α_s + γ_t + ε

β is the price elasticity of demand. Cells are weighted by units sold (the inverse
variance of a log count), which avoids the attenuation that zero-heavy SKU-day data
cause in plain log-log OLS. The period effects γ_t absorb demand shifts over time (a
category push, growth): a cell pooled over two years would mix those levels into its
mean. Promotions: :func:`promotion_lift` (lift against depth) and :func:`promotion_dip`
(the demand a promotion pulls forward from the days around it).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from ecomlab.metrics import placed_orders
from ecomlab.validation import require_columns


class PricePoints(NamedTuple):
    """SKU x period x price cells on non-promotion days.

    table : sku_id, category, period (first month of the period), price, days, units, units_per_day
    excluded : rows of ``daily_prices`` left out, by reason (counts)
    """

    table: pd.DataFrame
    excluded: dict[str, int]


def price_points(order_items: pd.DataFrame, orders: pd.DataFrame, daily_prices: pd.DataFrame,
                 products: pd.DataFrame, *, min_days: int = 14, period_months: int | None = 6) -> PricePoints:
    """Average daily units of each SKU at each shelf price in each period (non-promotion days).

    Periods are blocks of ``period_months`` calendar months (6: half-years starting in
    January and July; ``None``: one period, cells pooled over the whole data). Demand counts
    placed orders (:func:`ecomlab.metrics.placed_orders`: cancelled orders never shipped and
    are left out; later refunds still were demand). SKU-days before launch, promotion days,
    and price cells seen on fewer than ``min_days`` days or SKUs with a single price are
    excluded and counted in ``excluded``.

    >>> from ecomlab import datasets as ds
    >>> pp = price_points(ds.load("order_items"), ds.load("orders"), ds.load("daily_prices"), ds.load("products"))
    >>> sorted(pp.excluded)
    ['before_launch', 'price_cell_fewer_than_min_days', 'price_cell_with_no_sales', 'promotion_day', 'sku_with_one_price']
    """
    require_columns(order_items, ["order_id", "sku_id", "quantity"], "order_items")
    require_columns(orders, ["order_id", "order_ts", "status"], "orders")
    require_columns(daily_prices, ["sku_id", "date", "price", "on_promotion"], "daily_prices")
    require_columns(products, ["sku_id", "category", "launch_date"], "products")
    if min_days < 1:
        raise ValueError(f"min_days must be >= 1, got {min_days}")
    if period_months is not None and (int(period_months) != period_months or not 1 <= period_months <= 12
                                      or 12 % period_months):
        raise ValueError(f"period_months must be None or a divisor of 12 (1, 2, 3, 4, 6, 12), got {period_months!r}")
    o = placed_orders(orders)[["order_id", "order_ts"]]
    x = order_items[["order_id", "sku_id", "quantity"]].merge(o, on="order_id")
    x["date"] = x["order_ts"].dt.normalize()
    units = x.groupby(["sku_id", "date"], observed=True)["quantity"].sum().rename("units")
    dp = daily_prices.merge(products[["sku_id", "category", "launch_date"]], on="sku_id")
    before = dp["date"] < dp["launch_date"]
    promo = dp["on_promotion"] & ~before
    excluded = {"before_launch": int(before.sum()), "promotion_day": int(promo.sum())}
    dp = dp[~before & ~dp["on_promotion"]]
    dp = dp.join(units, on=["sku_id", "date"]).fillna({"units": 0})
    if period_months is None:
        dp["period"] = dp["date"].min().to_period("M").to_timestamp()
    else:
        month = dp["date"].dt.month - 1
        dp["period"] = pd.to_datetime({"year": dp["date"].dt.year, "month": month - month % period_months + 1, "day": 1})
    cells = dp.groupby(["sku_id", "category", "period", "price"], observed=True).agg(
        days=("units", "size"), units=("units", "sum")).reset_index()
    short = cells["days"] < min_days
    excluded["price_cell_fewer_than_min_days"] = int(cells.loc[short, "days"].sum())
    cells = cells[~short]
    single = cells.groupby("sku_id")["price"].transform("nunique") < 2
    excluded["sku_with_one_price"] = int(cells.loc[single, "days"].sum())
    cells = cells[~single]
    zero = cells["units"] == 0
    excluded["price_cell_with_no_sales"] = int(cells.loc[zero, "days"].sum())
    cells = cells[~zero].copy()
    cells["units_per_day"] = cells["units"] / cells["days"]
    return PricePoints(cells.reset_index(drop=True), excluded)


class Elasticity(NamedTuple):
    """Per-category elasticity estimates.

    table : category, elasticity, ci_low, ci_high, std_error, n_cells, n_skus
    method : a one-line description of the model
    """

    table: pd.DataFrame
    method: str

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        return f"<p><b>Price elasticity</b> — {self.method}</p>" + self.table.to_html(index=False, float_format="%.3f")


def estimate_elasticity(points: pd.DataFrame | PricePoints, *, by: str = "category",
                        alpha: float = 0.05) -> Elasticity:
    """Log-log elasticity with SKU (and period) fixed effects, weighted by units, per ``by`` group.

    ``log(units_per_day) ~ log(price) + C(sku_id) + C(period)`` (statsmodels WLS, weights =
    units); the period term only if ``points`` has a ``period`` column with two or more values.
    Without it, a demand shift over time (a category push) lands in cells that pool periods
    with different price mixes and biases the slope.

    >>> from ecomlab import datasets as ds
    >>> pp = price_points(ds.load("order_items"), ds.load("orders"), ds.load("daily_prices"), ds.load("products"))
    >>> e = estimate_elasticity(pp)
    >>> bool((e.table["elasticity"] < 0).all())
    True
    """
    df = points.table if isinstance(points, PricePoints) else points
    require_columns(df, ["sku_id", "price", "units", "units_per_day", by], "points")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if len(df) == 0:
        raise ValueError("points is empty: no SKU had sales at two or more prices")
    if (df["units_per_day"] <= 0).any() or (df["price"] <= 0).any():
        raise ValueError("points: units_per_day and price must be > 0 (log scale)")
    with_period = "period" in df.columns and df["period"].nunique() > 1
    rows = []
    for g, d in df.groupby(by, observed=True):
        if d["sku_id"].nunique() < 2 or len(d) < 5:
            raise ValueError(f"{by}={g!r}: too few SKU-price cells ({len(d)}) to estimate an elasticity")
        d = d.assign(log_units=np.log(d["units_per_day"]), log_price=np.log(d["price"]))
        f = "log_units ~ log_price + C(sku_id)" + (" + C(period)" if with_period else "")
        with threadpool_limits(1):
            m = smf.wls(f, data=d, weights=d["units"]).fit()
        b = m.params["log_price"]
        lo, hi = m.conf_int(alpha).loc["log_price"]
        rows.append({by: g, "elasticity": b, "ci_low": lo, "ci_high": hi,
                     "std_error": m.bse["log_price"], "n_cells": len(d), "n_skus": d["sku_id"].nunique()})
    table = pd.DataFrame(rows)
    fe = "SKU and period fixed effects" if with_period else "SKU fixed effects"
    return Elasticity(table, f"WLS of log(units/day) on log(price) with {fe}, weights = units; "
                             f"{int((1 - alpha) * 100)}% CI")


# -- the SKU-day panel, the naive estimator and the Poisson fixed-effects estimator ---------

def sku_days(order_items: pd.DataFrame, orders: pd.DataFrame, daily_prices: pd.DataFrame,
             products: pd.DataFrame) -> PricePoints:
    """One row per SKU and day on sale: shelf price, promotion flag and units ordered (0 if none).

    Demand counts placed orders (:func:`ecomlab.metrics.placed_orders`). Days before a SKU's
    launch are excluded and counted in ``excluded``.

    >>> from ecomlab import datasets as ds
    >>> p = sku_days(ds.load("order_items"), ds.load("orders"), ds.load("daily_prices"), ds.load("products"))
    >>> sorted(p.table.columns)
    ['category', 'date', 'on_promotion', 'price', 'sku_id', 'unit_cost', 'units']
    """
    require_columns(order_items, ["order_id", "sku_id", "quantity"], "order_items")
    require_columns(orders, ["order_id", "order_ts", "status"], "orders")
    require_columns(daily_prices, ["sku_id", "date", "price", "on_promotion"], "daily_prices")
    require_columns(products, ["sku_id", "category", "launch_date", "unit_cost"], "products")
    o = placed_orders(orders)[["order_id", "order_ts"]]
    x = order_items[["order_id", "sku_id", "quantity"]].merge(o, on="order_id")
    x["date"] = x["order_ts"].dt.normalize()
    units = x.groupby(["sku_id", "date"], observed=True)["quantity"].sum().rename("units")
    dp = daily_prices.merge(products[["sku_id", "category", "launch_date", "unit_cost"]], on="sku_id")
    before = dp["date"] < dp["launch_date"]
    dp = dp[~before].join(units, on=["sku_id", "date"]).fillna({"units": 0})
    cols = ["sku_id", "category", "date", "price", "on_promotion", "unit_cost", "units"]
    return PricePoints(dp[cols].reset_index(drop=True), {"before_launch": int(before.sum())})


def _panel(panel: pd.DataFrame | PricePoints, by: str) -> pd.DataFrame:
    df = panel.table if isinstance(panel, PricePoints) else panel
    require_columns(df, ["sku_id", "date", "price", "on_promotion", "units", by], "panel")
    if len(df) == 0:
        raise ValueError("panel is empty: no SKU-day rows")
    if (df["price"] <= 0).any():
        raise ValueError(f"panel.price must be > 0 (log scale); found {df.loc[df['price'] <= 0, 'price'].iloc[0]}")
    return df


def naive_loglog(panel: pd.DataFrame | PricePoints, *, by: str = "category") -> pd.DataFrame:
    """The usual mistake: OLS of log(units) on log(price) + SKU dummies on SKU-days with a sale.

    Days with zero units have no logarithm and are dropped, so the days kept at a high price
    are the lucky ones: the slope is biased toward zero. Returns one row per group with the
    estimate and the share of SKU-days dropped.

    >>> toy = pd.DataFrame({"sku_id": ["a"] * 4 + ["b"] * 4, "category": "x", "date": 0, "on_promotion": False,
    ...                     "price": [1, 1, 2, 2] * 2, "units": [4, 4, 1, 0, 8, 8, 2, 0]})
    >>> naive_loglog(toy)[["category", "elasticity", "dropped_share"]].round(2).to_dict("records")
    [{'category': 'x', 'elasticity': -2.0, 'dropped_share': 0.25}]
    """
    df = _panel(panel, by)
    df = df[~df["on_promotion"]]
    rows = []
    for g, d in df.groupby(by, observed=True):
        pos = d[d["units"] > 0].assign(log_units=lambda z: np.log(z["units"]), log_price=lambda z: np.log(z["price"]))
        if pos["sku_id"].nunique() < 1 or pos["price"].nunique() < 2:
            raise ValueError(f"{by}={g!r}: fewer than two prices with sales; cannot fit log-log OLS")
        f = "log_units ~ log_price + C(sku_id)" if pos["sku_id"].nunique() > 1 else "log_units ~ log_price"
        with threadpool_limits(1):
            m = smf.ols(f, data=pos).fit()
        rows.append({by: g, "elasticity": m.params["log_price"], "dropped_share": 1 - len(pos) / len(d),
                     "n_days": len(d)})
    return pd.DataFrame(rows)


def week_cells(panel: pd.DataFrame | PricePoints, *, origin: str | pd.Timestamp) -> pd.DataFrame:
    """Aggregate non-promotion SKU-days to SKU x week x price cells (units, days).

    Weeks count from ``origin`` (pass the first day of your data). Zero-sale cells are kept:
    a Poisson model uses them, unlike a log.

    >>> toy = pd.DataFrame({"sku_id": "a", "category": "x", "date": pd.date_range("2024-01-01", periods=8),
    ...                     "price": 1.0, "on_promotion": False, "units": [0, 1, 0, 2, 0, 0, 1, 3]})
    >>> week_cells(toy, origin="2024-01-01")[["week", "days", "units"]].to_dict("records")
    [{'week': 0, 'days': 7, 'units': 4}, {'week': 1, 'days': 1, 'units': 3}]
    """
    df = _panel(panel, "category")
    df = df[~df["on_promotion"]]
    week = (df["date"] - pd.Timestamp(origin)).dt.days // 7
    if (week < 0).any():
        raise ValueError(f"origin {origin} is after the first date in panel ({df['date'].min()})")
    return (df.assign(week=week).groupby(["sku_id", "category", "week", "price"], observed=True)
            .agg(days=("units", "size"), units=("units", "sum")).reset_index())


def poisson_elasticity(cells: pd.DataFrame, *, by: str = "category", period_weeks: int = 1,
                       alpha: float = 0.05) -> Elasticity:
    """Poisson regression with SKU and time fixed effects, per ``by`` group.

    ``E[units] = days · exp(β·log(price) + α_sku + γ_period)`` (statsmodels GLM Poisson, log
    link, offset log(days), Newton fit); β is the elasticity. The cells are SKU-weeks; the time
    effects are per block of ``period_weeks`` weeks (1, the default: a week effect; 4 makes the
    model smaller). Fitted on one BLAS thread (small dense fits run far faster so). Zero-sale cells stay in. Standard errors are scaled
    by the Pearson dispersion (quasi-Poisson: counts vary more than Poisson), reported as
    ``dispersion``. Reference: Santos Silva & Tenreyro (2006), "The log of gravity", *REStat*.

    >>> rng = np.random.default_rng(1)
    >>> c = pd.DataFrame({"sku_id": np.repeat(["a", "b", "c"], 40), "category": "x", "week": np.tile(np.arange(20), 6),
    ...                   "price": rng.choice([0.8, 1.0, 1.2], 120), "days": 7})
    >>> c["units"] = rng.poisson(7 * 2 * c["price"] ** -2.0)
    >>> e = float(poisson_elasticity(c).table["elasticity"].iloc[0])
    >>> bool(abs(e - (-2.0)) < 0.2)
    True
    """
    require_columns(cells, ["sku_id", "week", "price", "days", "units", by], "cells")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if len(cells) == 0:
        raise ValueError("cells is empty")
    if (cells["price"] <= 0).any() or (cells["days"] <= 0).any() or (cells["units"] < 0).any():
        raise ValueError("cells: price and days must be > 0 and units >= 0")
    if period_weeks < 1:
        raise ValueError(f"period_weeks must be >= 1, got {period_weeks}")
    rows = []
    for g, d in cells.groupby(by, observed=True):
        # a SKU or a period with no sale at all has a fixed effect of -inf and says nothing
        # about the slope (Poisson FE): left out and counted, else the fit cannot converge
        period = d["week"] // period_weeks
        keep = (d.groupby("sku_id", observed=True)["units"].transform("sum") > 0) & \
               (d["units"].groupby(period).transform("sum") > 0)
        dropped = int((~keep).sum())
        d, period = d[keep], period[keep]
        if d["price"].nunique() < 2 or d["sku_id"].nunique() < 1:
            raise ValueError(f"{by}={g!r}: fewer than two prices with sales; no elasticity can be estimated")
        X = pd.concat([np.log(d["price"]).rename("log_price"),
                       pd.get_dummies(d["sku_id"].astype(str), prefix="sku", dtype=float),
                       pd.get_dummies(period, prefix="t", drop_first=True, dtype=float)], axis=1)
        with threadpool_limits(1):  # small dense fits: one BLAS thread avoids oversubscription (30x faster)
            model = sm.GLM(d["units"].astype(float), X, family=sm.families.Poisson(),
                           offset=np.log(d["days"].astype(float)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                m = model.fit(method="newton", scale="X2", maxiter=100)
            if not m.mle_retvals.get("converged", True):
                m = model.fit(scale="X2", maxiter=200)  # IRLS, which handles near-flat directions
                if not m.converged:
                    raise ValueError(f"{by}={g!r}: the Poisson fit did not converge (too few sales?)")
        lo, hi = m.conf_int(alpha).loc["log_price"]
        rows.append({by: g, "elasticity": m.params["log_price"], "ci_low": lo, "ci_high": hi,
                     "std_error": m.bse["log_price"], "dispersion": m.scale, "n_cells": len(d),
                     "n_skus": d["sku_id"].nunique(), "cells_without_sales_info": dropped})
    return Elasticity(pd.DataFrame(rows), f"Poisson GLM of units on log(price) with SKU and {period_weeks}-week fixed effects, "
                                          f"offset log(days), quasi-Poisson SEs; {int((1 - alpha) * 100)}% CI")


# -- the margin-optimal price --------------------------------------------------------------

def optimal_price(cost: float | np.ndarray, elasticity: float | np.ndarray) -> np.ndarray:
    """Margin-optimal price under constant elasticity: p* = c · e / (1 + e), for e < −1.

    Profit (p − c)·A·p^e is maximal where its derivative is zero: p* = c·e/(1+e) (the Lerner
    rule (p − c)/p = −1/e). For e ≥ −1 demand is inelastic and profit rises without bound
    with price: no optimum, a ValueError.

    >>> float(optimal_price(10.0, -2.0))
    20.0
    """
    c = np.asarray(cost, dtype=float)
    e = np.asarray(elasticity, dtype=float)
    if np.isnan(c).any() or np.isnan(e).any():
        raise ValueError("cost and elasticity must not be NaN")
    if (c <= 0).any():
        raise ValueError(f"cost must be > 0, got {c[c <= 0].ravel()[0]}")
    if (e >= -1).any():
        raise ValueError(f"elasticity must be < -1 for a finite margin-optimal price, got {e[e >= -1].ravel()[0]}")
    return c * e / (1 + e)


def optimal_price_interval(cost: float, elasticity: float, ci_low: float, ci_high: float) -> tuple[float, float, float]:
    """p* and its interval from the elasticity's CI (p* is monotone in e, so the ends map to ends).

    A more elastic demand (e further below −1) gives a lower p*; if the CI's upper end is
    ≥ −1 the upper price limit is unbounded (inf).

    >>> optimal_price_interval(10.0, -2.0, -3.0, -1.5)
    (20.0, 15.0, 30.0)
    """
    if not ci_low <= elasticity <= ci_high:
        raise ValueError(f"need ci_low <= elasticity <= ci_high, got {ci_low}, {elasticity}, {ci_high}")
    p = float(optimal_price(cost, elasticity))
    lo = float(optimal_price(cost, ci_low))
    hi = float(optimal_price(cost, ci_high)) if ci_high < -1 else float("inf")
    return p, lo, hi


def profit_curve(prices: np.ndarray, *, cost: float, elasticity: float, ref_price: float,
                 ref_units: float) -> pd.DataFrame:
    """What-if profit per period at each price: units = ref_units · (p / ref_price)^e.

    >>> profit_curve(np.array([15.0, 20.0]), cost=10.0, elasticity=-2.0, ref_price=20.0, ref_units=100)["profit"].tolist()
    [888.8888888888889, 1000.0]
    """
    p = np.asarray(prices, dtype=float)
    if (p <= 0).any() or ref_price <= 0 or ref_units < 0:
        raise ValueError("prices and ref_price must be > 0, ref_units >= 0")
    units = ref_units * (p / ref_price) ** elasticity
    return pd.DataFrame({"price": p, "units": units, "revenue": p * units, "profit": (p - cost) * units})


# -- promotions: lift against depth, and the dip around them -------------------------------

def promotion_windows(panel: pd.DataFrame | PricePoints) -> pd.DataFrame:
    """Runs of consecutive promotion days (from the ``on_promotion`` flags): start, end, days.

    >>> toy = pd.DataFrame({"sku_id": "a", "category": "x", "date": pd.date_range("2024-01-01", periods=6),
    ...                     "price": 1.0, "on_promotion": [False, True, True, False, True, False], "units": 0})
    >>> promotion_windows(toy)[["start", "days"]].astype(str).to_dict("records")
    [{'start': '2024-01-02', 'days': '2'}, {'start': '2024-01-05', 'days': '1'}]
    """
    df = _panel(panel, "category")
    return _runs(df.groupby("date")["on_promotion"].any().sort_index())


def _runs(day: pd.Series) -> pd.DataFrame:
    """Runs of consecutive True values of a boolean series indexed by sorted dates: start, end, days."""
    run = (day != day.shift()).cumsum()
    w = day[day].index.to_series().groupby(run[day]).agg(["min", "max", "size"])
    return w.set_axis(["start", "end", "days"], axis=1).reset_index(drop=True)


def _ratio_ci(a: np.ndarray, b: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = a / b
    se = np.sqrt(1 / a + 1 / b)
    return r, r * np.exp(-z * se), r * np.exp(z * se)


def promotion_lift(panel: pd.DataFrame | PricePoints, *, baseline_days: int = 14, gap_days: int = 0,
                   bins: tuple[float, ...] = (-1.0, 0.0, 0.1, 0.2, 1.0), alpha: float = 0.05) -> pd.DataFrame:
    """Units lift of each SKU on promotion days against its own baseline, by discount depth.

    For every promotion window (a run of ``on_promotion`` days) and SKU, the baseline is the
    SKU's ordinary (not on promotion) days in the ``baseline_days`` calendar days that end
    ``gap_days`` days before the window starts, i.e. days [start − gap − baseline, start − gap).
    depth = 1 − promotion price / the SKU's mean shelf price over the baseline; lift = units per
    day in the window / units per day in the baseline. Pooled per depth bin (sum of units / sum of
    baseline units, each scaled per day) with a Poisson log-ratio interval (an underestimate if
    counts are overdispersed). Every SKU shares the calendar lift, so the slope across bins is the
    price effect.

    ``gap_days`` leaves out the days just before a promotion: when customers wait for it, those
    days are dipped (pulled-forward demand, measured by :func:`promotion_dip` on the ``around``
    days either side), a dipped baseline overstates the lift, and the gap should cover that dip
    zone. ``gap_days=0`` uses the days right before the window. A window whose baseline holds no
    ordinary SKU-day (at the start of the data) is left out and counted in
    ``result.attrs["windows_without_baseline"]``.

    >>> d = pd.DataFrame({"sku_id": "a", "category": "x", "date": pd.date_range("2024-01-01", periods=40),
    ...                   "price": 10.0, "on_promotion": False, "units": 10})
    >>> d.loc[30:32, ["on_promotion", "units"]] = [True, 30]     # a 3-day promotion at 3x ...
    >>> d.loc[23:29, "units"] = 7                                 # ... and a dip in the 7 days before it
    >>> round(float(promotion_lift(d, baseline_days=14)["lift"].iloc[0]), 2)   # dipped baseline
    3.53
    >>> round(float(promotion_lift(d, baseline_days=14, gap_days=7)["lift"].iloc[0]), 2)   # the dip left out
    3.0
    """
    df = _panel(panel, "category")
    for name, v, lo in (("baseline_days", baseline_days, 1), ("gap_days", gap_days, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    win = promotion_windows(df)
    if len(win) == 0:
        raise ValueError("panel.on_promotion: no promotion day flagged (expected at least one True)")
    parts, without = [], 0
    for i, w in win.iterrows():
        end = w["start"] - pd.Timedelta(days=gap_days)
        base = df[(df["date"] >= end - pd.Timedelta(days=baseline_days)) & (df["date"] < end) & ~df["on_promotion"]]
        if len(base) == 0:
            without += 1
            continue
        on = df[(df["date"] >= w["start"]) & (df["date"] <= w["end"])]
        b = base.groupby("sku_id").agg(ref_price=("price", "mean"), base_units=("units", "sum"),
                                       base_days=("units", "size"))
        p = on.groupby("sku_id").agg(category=("category", "first"), promo_price=("price", "mean"),
                                     promo_units=("units", "sum"), promo_days=("units", "size"))
        parts.append(p.join(b, how="inner").assign(window=i, window_start=w["start"]))
    if not parts:
        raise ValueError(f"no promotion window has ordinary days in its baseline ({baseline_days} days ending "
                         f"{gap_days} days before it); first window starts {win['start'].iloc[0].date()}")
    x = pd.concat(parts).reset_index()
    x["depth"] = 1 - x["promo_price"] / x["ref_price"]
    x["depth_bin"] = pd.cut(x["depth"], list(bins))
    g = x.groupby("depth_bin", observed=True).agg(
        sku_windows=("sku_id", "size"), mean_depth=("depth", "mean"), promo_units=("promo_units", "sum"),
        promo_days=("promo_days", "sum"), base_units=("base_units", "sum"), base_days=("base_days", "sum"))
    from scipy.stats import norm
    z = norm.ppf(1 - alpha / 2)
    r, lo, hi = _ratio_ci(g["promo_units"].to_numpy(float), g["base_units"].to_numpy(float), z)
    scale = (g["base_days"] / g["promo_days"]).to_numpy(float)
    out = g.assign(lift=r * scale, lift_low=lo * scale, lift_high=hi * scale).reset_index()
    out.attrs["windows_without_baseline"] = without
    return out


def daily_demand(orders: pd.DataFrame, daily_prices: pd.DataFrame) -> pd.DataFrame:
    """One row per day of ``daily_prices``: placed orders (all, first, repeat) and the promotion flag.

    A day is a promotion day if any SKU is ``on_promotion``. Orders are placed orders
    (:func:`ecomlab.metrics.placed_orders`); a day without an order counts 0. ``first_orders``
    are each customer's first placed order in the data (a customer who bought before the data
    starts counts as new once), ``repeat_orders`` all others; both only when ``orders`` has a
    ``customer_id`` column. Orders are the purchase occasions
    a promotion can move in time (its bigger baskets are not moved from anywhere), so
    :func:`promotion_dip` measures the pull-forward on them.

    >>> o = pd.DataFrame({"order_id": ["a", "b", "c", "d"], "customer_id": ["x", "y", "x", "y"],
    ...                   "status": ["completed", "cancelled", "completed", "completed"],
    ...                   "order_ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-03 09:00",
    ...                                               "2024-01-03 10:00"])})
    >>> dp = pd.DataFrame({"sku_id": "s", "date": pd.date_range("2024-01-01", periods=3), "on_promotion": [False, False, True]})
    >>> daily_demand(o, dp)[["orders", "first_orders", "repeat_orders"]].values.tolist()
    [[1, 1, 0], [0, 0, 0], [2, 1, 1]]
    """
    require_columns(orders, ["order_id", "order_ts", "status"], "orders")
    require_columns(daily_prices, ["date", "on_promotion"], "daily_prices")
    if len(daily_prices) == 0:
        raise ValueError("daily_prices is empty: no days to count orders on")
    promo = daily_prices.groupby("date")["on_promotion"].any().sort_index()
    placed = placed_orders(orders)
    day = placed["order_ts"].dt.normalize()
    out = pd.DataFrame({"date": promo.index, "on_promotion": promo.to_numpy()})
    parts = [("orders", pd.Series(True, index=placed.index))]
    if "customer_id" in placed.columns:
        first = placed["order_ts"].eq(placed.groupby("customer_id", observed=True)["order_ts"].transform("min"))
        first &= ~placed[["customer_id", "order_ts"]].duplicated()
        parts += [("first_orders", first), ("repeat_orders", ~first)]
    for col, rows in parts:
        counts = day[rows].groupby(day[rows]).size()
        out[col] = counts.reindex(promo.index, fill_value=0).to_numpy()
    return out[["date", *[c for c, _ in parts], "on_promotion"]]


class PullForward(NamedTuple):
    """Demand pulled forward into promotions from the days around them.

    share, ci_low, ci_high : pooled pulled-forward share Σ dip / Σ extra over the windows used,
        with a leave-one-window-out jackknife interval (t with windows − 1 df)
    std_error : the jackknife standard error of ``share``
    windows : one row per promotion window: start, end, days, used, reason (why left out, '' if
        used), reference_days, trend (linear or flat baseline), baseline (its units during the
        window), extra (volume over baseline during the window), dip_before, dip_after (volume
        under baseline in the ``around`` days either side), dip, share, dip_fraction_before,
        dip_fraction_after (dip / baseline volume of those days), net_extra = extra − dip
    profile : one row per day offset from the window (−around..−1 before the start, 1..around after
        the end): ratio = Σ actual / Σ baseline over the windows used
    excluded : windows left out, by reason
    method : a one-line description
    """

    share: float
    ci_low: float
    ci_high: float
    std_error: float
    windows: pd.DataFrame
    profile: pd.DataFrame
    excluded: dict[str, int]
    method: str

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        return (f"<p><b>Pulled-forward share</b> {self.share:.3f} ({self.ci_low:.3f}–{self.ci_high:.3f}) — "
                f"{self.method}</p>" + self.windows.to_html(index=False, float_format="%.3f"))


def _weekday_factors(day: pd.Series, y: pd.Series) -> pd.Series:
    """Multiplicative weekday factors (mean 1) from a Poisson GLM y ~ weekday + month on clean days."""
    X = pd.concat([pd.get_dummies(day.dt.day_of_week, prefix="wd", dtype=float),
                   pd.get_dummies(day.dt.to_period("M").astype(str), prefix="m", drop_first=True, dtype=float)], axis=1)
    with threadpool_limits(1):
        m = sm.GLM(y.astype(float).to_numpy(), X.to_numpy(), family=sm.families.Poisson()).fit()
    coef = pd.Series(m.params, index=X.columns)
    wd = np.exp(coef[[f"wd_{k}" for k in range(7)]].to_numpy())
    return pd.Series(wd / wd.mean(), index=range(7))


def promotion_dip(daily: pd.DataFrame, *, value: str = "orders", around: int = 7, reference: int = 28,
                  min_reference: int = 14, alpha: float = 0.05) -> PullForward:
    """Share of a promotion's extra demand pulled forward from the ``around`` days either side.

    Per promotion window (a run of ``on_promotion`` days): a baseline for every day from the
    *clean* ordinary days within ``reference`` days beyond its dip zones — clean means not a
    promotion day and not within ``around`` days of ANY promotion, so a previous promotion's dip
    never enters the baseline. Baseline_d = weekday factor_d × (a + b·t_d), the level and
    trend fitted (OLS) on those days divided by their weekday factors (flat, b = 0, when the
    reference days lie on one side only, e.g. at the edge of the data); the weekday factors come
    from a Poisson GLM ``value ~ weekday + month`` on all clean days. Then

    - extra = Σ over the window of (actual − baseline); dip = Σ over the ``around`` days before
      and after of (baseline − actual);
    - share = Σ dip / Σ extra pooled over the windows used (a ratio estimator: big promotions
      weigh by their extra volume), with a leave-one-window-out jackknife standard error
      (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 11) and a t interval with
      windows − 1 degrees of freedom: the windows are the independent units.

    Windows are left out (and counted in ``excluded``) when a dip zone is cut by the start or end
    of the data, overlaps another promotion, has fewer than ``min_reference`` clean reference days,
    or shows no extra demand. A net lift (extra − dip) is what a promotion really adds.

    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=400), "on_promotion": False})
    >>> lam = np.full(400, 100.0)
    >>> for s in range(40, 380, 60):           # 3-day promotions at 3x, 30% of the extra taken from 7 days either side
    ...     d.loc[s:s + 2, "on_promotion"] = True
    ...     lam[s:s + 3] = 300.0
    ...     lam[s - 7:s] -= 0.3 * 600 / 14
    ...     lam[s + 3:s + 10] -= 0.3 * 600 / 14
    >>> d["orders"] = rng.poisson(lam)
    >>> pf = promotion_dip(d)
    >>> bool(pf.ci_low < 0.3 < pf.ci_high), len(pf.windows)
    (True, 6)
    """
    require_columns(daily, ["date", value, "on_promotion"], "daily")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    for name, v, lo in (("around", around, 1), ("reference", reference, 1), ("min_reference", min_reference, 2)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if len(daily) == 0:
        raise ValueError("daily is empty: no days")
    if daily["date"].duplicated().any():
        raise ValueError(f"daily.date must be unique (one row per day); found {daily.loc[daily['date'].duplicated(), 'date'].iloc[0]} twice")
    y = pd.to_numeric(daily[value], errors="coerce")
    if y.isna().any() or (y < 0).any():
        bad = daily.loc[y.isna() | (y < 0), value].iloc[0]
        raise ValueError(f"daily.{value} must be counts >= 0 with no missing value; found {bad!r}")
    d = daily.assign(_y=y).sort_values("date").set_index("date")
    full = pd.date_range(d.index[0], d.index[-1], freq="D")
    if len(full) != len(d):
        missing = full.difference(d.index)
        raise ValueError(f"daily must have one row for every day from {full[0].date()} to {full[-1].date()}; "
                         f"{len(missing)} missing, e.g. {missing[0].date()}")
    promo = d["on_promotion"].astype(bool)
    near = promo.astype(int).rolling(2 * around + 1, center=True, min_periods=1).max().astype(bool)
    clean = ~near
    if clean.sum() < 14 or d.index[clean].day_of_week.nunique() < 7:
        raise ValueError(f"daily: too few ordinary days away from promotions ({int(clean.sum())}) to estimate a baseline")
    wf = _weekday_factors(d.index[clean].to_series(), d.loc[clean, "_y"])
    d["_wf"] = wf.to_numpy()[d.index.day_of_week]
    t = np.asarray((d.index - d.index[0]).days, dtype=float)
    pos = pd.Series(np.arange(len(d)), index=d.index)
    win = _runs(promo)
    rows, prof = [], []
    yv, wfv, promov, cleanv = d["_y"].to_numpy(float), d["_wf"].to_numpy(), promo.to_numpy(), clean.to_numpy()
    for s, e, n in win.itertuples(index=False):
        i0, i1 = int(pos[s]), int(pos[e])
        row = {"start": s, "end": e, "days": int(n), "used": False, "reason": "", "reference_days": 0, "trend": ""}
        b0, a1 = i0 - around, i1 + around
        if b0 < 0:
            row["reason"] = "dip_zone_cut_by_data_start"
        elif a1 >= len(d):
            row["reason"] = "dip_zone_cut_by_data_end"
        elif promov[b0:i0].any() or promov[i1 + 1:a1 + 1].any():
            row["reason"] = "dip_zone_overlaps_another_promotion"
        if row["reason"]:
            rows.append(row)
            continue
        idx = np.arange(max(b0 - reference, 0), min(a1 + reference, len(d) - 1) + 1)
        ref = idx[((idx < b0) | (idx > a1)) & cleanv[idx]]
        row["reference_days"] = len(ref)
        if len(ref) < min_reference:
            rows.append({**row, "reason": "too_few_reference_days"})
            continue
        two_sided = (ref < b0).sum() >= 2 and (ref > a1).sum() >= 2
        z = yv[ref] / wfv[ref]
        slope, level = np.polyfit(t[ref], z, 1) if two_sided else (0.0, z.mean())
        zone = np.arange(b0, a1 + 1)
        base = wfv[zone] * (level + slope * t[zone])
        act = yv[zone]
        inside = (zone >= i0) & (zone <= i1)
        before, after = zone < i0, zone > i1
        extra = float((act - base)[inside].sum())
        dip_b, dip_a = float((base - act)[before].sum()), float((base - act)[after].sum())
        row.update(trend="linear" if two_sided else "flat", baseline=float(base[inside].sum()), extra=extra,
                   dip_before=dip_b, dip_after=dip_a, dip=dip_b + dip_a,
                   dip_fraction_before=dip_b / float(base[before].sum()),
                   dip_fraction_after=dip_a / float(base[after].sum()))
        if extra <= 0:
            rows.append({**row, "reason": "no_extra_demand"})
            continue
        row.update(used=True, share=row["dip"] / extra, net_extra=extra - row["dip"])
        rows.append(row)
        off = np.where(before, zone - i0, zone - i1)
        prof.append(pd.DataFrame({"offset": off[~inside], "actual": act[~inside], "baseline": base[~inside]}))
    cols = ["start", "end", "days", "used", "reason", "reference_days", "trend", "baseline", "extra", "dip_before",
            "dip_after", "dip", "share", "net_extra", "dip_fraction_before", "dip_fraction_after"]
    w = pd.DataFrame(rows).reindex(columns=cols)
    used = w[w["used"]]
    excluded = {k: int(v) for k, v in w.loc[~w["used"], "reason"].value_counts().items()}
    if len(used) < 2:
        raise ValueError(f"daily: {len(used)} promotion window(s) usable (left out: {excluded or 'none'}); "
                         "at least two are needed for an interval")
    from scipy.stats import t as tdist
    dip, ext = used["dip"].to_numpy(), used["extra"].to_numpy()
    share = float(dip.sum() / ext.sum())
    loo = (dip.sum() - dip) / (ext.sum() - ext)
    k = len(used)
    se = float(np.sqrt((k - 1) / k * ((loo - loo.mean()) ** 2).sum()))
    h = float(tdist.ppf(1 - alpha / 2, k - 1)) * se
    p = pd.concat(prof).groupby("offset")[["actual", "baseline"]].sum()
    profile = p.assign(ratio=p["actual"] / p["baseline"]).reset_index()
    return PullForward(share, share - h, share + h, se, w, profile, excluded,
                       f"Σ dip / Σ extra over {k} promotion windows ({around} days either side; baseline = weekday "
                       f"factor × linear trend on clean days within {reference} days); jackknife "
                       f"{int((1 - alpha) * 100)}% CI")
