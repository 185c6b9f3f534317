"""Product strategy helpers (商品运营): price elasticity from exogenous price tests.

Method (chapter 02): for every SKU, average daily units sold at each shelf price it
carried on ordinary days (promotion days excluded: price and demand move together
there for reasons other than price), then a log-log regression with SKU fixed effects,
per category::

    log(units per day)_{s,p} = β · log(price)_{s,p} + α_s + ε

β is the price elasticity of demand. Cells are weighted by units sold (the inverse
variance of a log count), which avoids the attenuation that zero-heavy SKU-day data
cause in plain log-log OLS.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from ecomlab.metrics import placed_orders
from ecomlab.validation import require_columns


class PricePoints(NamedTuple):
    """SKU x price cells on non-promotion days.

    table : sku_id, category, price, days, units, units_per_day
    excluded : rows of ``daily_prices`` left out, by reason (counts)
    """

    table: pd.DataFrame
    excluded: dict[str, int]


def price_points(order_items: pd.DataFrame, orders: pd.DataFrame, daily_prices: pd.DataFrame,
                 products: pd.DataFrame, *, min_days: int = 14) -> PricePoints:
    """Average daily units of each SKU at each shelf price (non-promotion days).

    Demand counts placed orders (:func:`ecomlab.metrics.placed_orders`: cancelled orders
    never shipped and are left out; later refunds still were demand). SKU-days before
    launch, promotion days, and price cells seen on fewer than ``min_days`` days or
    SKUs with a single price are excluded and counted in ``excluded``.

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
    cells = dp.groupby(["sku_id", "category", "price"], observed=True).agg(
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
    """Log-log elasticity with SKU fixed effects, weighted by units, per ``by`` group.

    ``log(units_per_day) ~ log(price) + C(sku_id)`` (statsmodels WLS, weights = units).

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
    rows = []
    for g, d in df.groupby(by, observed=True):
        if d["sku_id"].nunique() < 2 or len(d) < 5:
            raise ValueError(f"{by}={g!r}: too few SKU-price cells ({len(d)}) to estimate an elasticity")
        d = d.assign(log_units=np.log(d["units_per_day"]), log_price=np.log(d["price"]))
        m = smf.wls("log_units ~ log_price + C(sku_id)", data=d, weights=d["units"]).fit()
        b = m.params["log_price"]
        lo, hi = m.conf_int(alpha).loc["log_price"]
        rows.append({by: g, "elasticity": b, "ci_low": lo, "ci_high": hi,
                     "std_error": m.bse["log_price"], "n_cells": len(d), "n_skus": d["sku_id"].nunique()})
    table = pd.DataFrame(rows)
    return Elasticity(table, "WLS of log(units/day) on log(price) with SKU fixed effects, weights = units; "
                             f"{int((1 - alpha) * 100)}% CI")
