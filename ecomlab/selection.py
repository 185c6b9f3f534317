"""Catalogue selection helpers (选品, chapter 02 lesson 02-1; the ``product`` family).

- :func:`sku_margin` — per-SKU GMV, discounts, refunds, COGS and gross margin after
  discounts and returns, from order lines, orders, returns and product costs.
- :func:`abc_classes` — Pareto / ABC classification on any value column.
- :func:`weighted_score` and :func:`score_sensitivity` — an explicit weighted score of
  SKUs on percentile-ranked criteria, and whether its top picks survive weight changes.

Pricing helpers (elasticity) live in :mod:`ecomlab.product`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from ecomlab.metrics import placed_orders
from ecomlab.validation import require_columns

__all__ = ["SkuMargin", "abc_classes", "score_sensitivity", "sku_margin", "weighted_score"]


class SkuMargin(NamedTuple):
    """Per-SKU economics.

    table : sku_id, category, units, gmv, discount, refunds, returned_units, net_sales,
        cogs, gross_margin, margin_rate (gross_margin / net_sales), return_rate
        (returned lines / lines)
    excluded : rows left out, by reason (counts)
    """

    table: pd.DataFrame
    excluded: dict[str, int]


def sku_margin(order_items: pd.DataFrame, orders: pd.DataFrame, products: pd.DataFrame,
               returns: pd.DataFrame, *, start: str | pd.Timestamp | None = None,
               end: str | pd.Timestamp | None = None, resold: float = 1.0) -> SkuMargin:
    """Gross margin (毛利) per SKU after discounts and returns, orders placed in [start, end).

    For each order line of a placed order (:func:`ecomlab.metrics.placed_orders`:
    cancelled orders never shipped and are left out, refunded ones count)::

        gmv        = quantity · unit_price                (promotion price, before coupons)
        discount   = order discount_amount · line gmv / order items_amount   (pro rata)
        refunds    = refund_amount of the returned line (returns table)
        net_sales  = gmv − discount − refunds
        cogs       = unit_cost · (quantity − resold · returned quantity)
        gross_margin = net_sales − cogs

    ``resold`` is the share of returned units that go back to stock and are sold as new
    (1: every return is restocked, its cost recovered; 0: every return is written off).
    Summed per SKU. ``return_rate`` = returned lines / lines. Returns are matched to
    lines on (order_id, sku_id); returns without a line in the window are counted in
    ``excluded``. Every SKU of ``products`` gets a row (zeros when it sold nothing).

    >>> items = pd.DataFrame({"order_id": ["o1", "o1", "o2"], "sku_id": ["a", "b", "a"],
    ...                       "quantity": [1, 2, 1], "unit_price": [100.0, 50.0, 100.0]})
    >>> orders = pd.DataFrame({"order_id": ["o1", "o2"], "status": ["completed", "refunded"],
    ...     "order_ts": pd.to_datetime(["2025-01-01", "2025-01-02"]),
    ...     "items_amount": [200.0, 100.0], "discount_amount": [20.0, 0.0]})
    >>> products = pd.DataFrame({"sku_id": ["a", "b"], "category": ["x", "y"], "unit_cost": [40.0, 20.0]})
    >>> rets = pd.DataFrame({"order_id": ["o2"], "sku_id": ["a"], "refund_amount": [100.0]})
    >>> sku_margin(items, orders, products, rets).table[["sku_id", "gmv", "net_sales", "cogs", "gross_margin"]]
      sku_id    gmv  net_sales  cogs  gross_margin
    0      a  200.0       90.0  40.0          50.0
    1      b  100.0       90.0  40.0          50.0
    """
    require_columns(order_items, ["order_id", "sku_id", "quantity", "unit_price"], "order_items")
    if not 0 <= resold <= 1:
        raise ValueError(f"resold must be a share in [0, 1], got {resold!r}")
    require_columns(orders, ["order_id", "order_ts", "status", "items_amount", "discount_amount"], "orders")
    require_columns(products, ["sku_id", "category", "unit_cost"], "products")
    require_columns(returns, ["order_id", "sku_id", "refund_amount"], "returns")
    if products["sku_id"].duplicated().any():
        dup = products.loc[products["sku_id"].duplicated(), "sku_id"].iloc[0]
        raise ValueError(f"products.sku_id must be unique, found {dup!r} twice")
    for name, df, cols in (("order_items", order_items, ["quantity", "unit_price"]),
                           ("returns", returns, ["refund_amount"]),
                           ("orders", orders, ["items_amount", "discount_amount"]),
                           ("products", products, ["unit_cost"])):
        for c in cols:
            if not pd.api.types.is_numeric_dtype(df[c]):
                raise ValueError(f"{name}.{c} must be numeric, found dtype {df[c].dtype} "
                                 f"(e.g. {df[c].iloc[0]!r})" if len(df) else f"{name}.{c} must be numeric")
    o = placed_orders(orders)
    excluded = {"cancelled_orders": len(orders) - len(o)}
    if start is not None or end is not None:
        keep = pd.Series(True, index=o.index)
        if start is not None:
            keep &= o["order_ts"] >= pd.Timestamp(start)
        if end is not None:
            keep &= o["order_ts"] < pd.Timestamp(end)
        excluded["orders_outside_window"] = int((~keep).sum())
        o = o[keep]
    lines = order_items[["order_id", "sku_id", "quantity", "unit_price"]].merge(
        o[["order_id", "items_amount", "discount_amount"]], on="order_id")
    unknown = ~lines["sku_id"].isin(products["sku_id"])
    if unknown.any():
        raise ValueError(f"order_items.sku_id: {int(unknown.sum())} lines name SKUs not in products, "
                         f"e.g. {lines.loc[unknown, 'sku_id'].iloc[0]!r}")
    lines["gmv"] = lines["quantity"] * lines["unit_price"]
    share = (lines["gmv"] / lines["items_amount"]).where(lines["items_amount"] > 0, 0.0)
    lines["discount"] = lines["discount_amount"] * share
    r = returns[["order_id", "sku_id", "refund_amount"]]
    matched = r.merge(lines[["order_id", "sku_id", "quantity"]], on=["order_id", "sku_id"], how="left",
                      indicator=True)
    excluded["returns_without_a_line_in_window"] = int((matched["_merge"] == "left_only").sum())
    matched = matched[matched["_merge"] == "both"]
    ret = matched.groupby(["order_id", "sku_id"])[["refund_amount", "quantity"]].sum()
    ret["returned_lines"] = matched.groupby(["order_id", "sku_id"]).size()
    lines = lines.join(ret.rename(columns={"refund_amount": "refunds", "quantity": "returned_units"}),
                       on=["order_id", "sku_id"])
    lines = lines.fillna({"refunds": 0.0, "returned_units": 0, "returned_lines": 0})
    lines["returned_units"] = lines["returned_units"].clip(upper=lines["quantity"])
    cost = products.set_index("sku_id")["unit_cost"]
    lines["cogs"] = lines["sku_id"].map(cost) * (lines["quantity"] - resold * lines["returned_units"])
    agg = lines.groupby("sku_id").agg(
        lines=("gmv", "size"), units=("quantity", "sum"), gmv=("gmv", "sum"), discount=("discount", "sum"),
        refunds=("refunds", "sum"), returned_units=("returned_units", "sum"),
        returned_lines=("returned_lines", "sum"), cogs=("cogs", "sum"))
    t = products[["sku_id", "category"]].join(agg, on="sku_id")
    num = ["lines", "units", "gmv", "discount", "refunds", "returned_units", "returned_lines", "cogs"]
    t[num] = t[num].fillna(0)
    t["net_sales"] = t["gmv"] - t["discount"] - t["refunds"]
    t["gross_margin"] = t["net_sales"] - t["cogs"]
    t["margin_rate"] = (t["gross_margin"] / t["net_sales"]).where(t["net_sales"] > 0)
    t["return_rate"] = (t["returned_lines"] / t["lines"]).where(t["lines"] > 0)
    cols = ["sku_id", "category", "lines", "units", "gmv", "discount", "refunds", "returned_units",
            "returned_lines", "net_sales", "cogs", "gross_margin", "margin_rate", "return_rate"]
    return SkuMargin(t[cols].reset_index(drop=True), excluded)


def abc_classes(values: pd.Series, *, a: float = 0.8, b: float = 0.95) -> pd.DataFrame:
    """ABC (Pareto) classes: sort high to low, cumulative share of the positive total.

    ``share_i = v_i / Σ_{v>0} v``; ``cum_share`` is its running sum over the sorted items.
    An item is **A** while the cumulative share *before* it is below ``a`` (so the item
    that crosses ``a`` is still A), **B** while below ``b``, else **C**. Items with a
    value ≤ 0 (e.g. a loss-making SKU) add nothing to the total and are always C
    (their share is ≤ 0; cum_share stays at 1). Returns one row per item, sorted, with
    value, share, cum_share, rank (1 = largest) and class. Reference: the ABC
    inventory classification (Dickie 1951); the 80% cut is a convention.

    >>> abc_classes(pd.Series({"x": 50.0, "y": 30.0, "z": 15.0, "w": 5.0}))["class"].tolist()
    ['A', 'A', 'B', 'C']
    """
    if not isinstance(values, pd.Series):
        raise ValueError(f"values must be a pandas Series indexed by item, got {type(values).__name__}")
    if not pd.api.types.is_numeric_dtype(values):
        raise ValueError(f"values must be numeric, found dtype {values.dtype}")
    if values.isna().any():
        raise ValueError(f"values has {int(values.isna().sum())} missing values, "
                         f"e.g. at {values[values.isna()].index[0]!r}; fill or drop them first")
    if values.index.duplicated().any():
        raise ValueError(f"values index must be unique, found {values.index[values.index.duplicated()][0]!r} twice")
    if not 0 < a < b <= 1:
        raise ValueError(f"need 0 < a < b <= 1, got a={a}, b={b}")
    v = values.astype(float).sort_values(ascending=False, kind="stable")
    pos = v.clip(lower=0)
    total = pos.sum()
    if total <= 0:
        raise ValueError("values must have a positive total (at least one value > 0)")
    share = v / total
    cum = pos.cumsum() / total
    before = pos.cumsum().shift(fill_value=0.0) / total
    cls = np.where((v > 0) & (before < a), "A", np.where((v > 0) & (before < b), "B", "C"))
    return pd.DataFrame({"value": v, "share": share, "cum_share": cum,
                         "rank": np.arange(1, len(v) + 1), "class": cls}, index=v.index)


def _check_weights(features: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    if not isinstance(features, pd.DataFrame) or features.empty:
        raise ValueError("features must be a non-empty DataFrame (one row per item, one column per criterion)")
    w = pd.Series(dict(weights), dtype=float)
    if w.empty:
        raise ValueError("weights must name at least one criterion")
    missing = [c for c in w.index if c not in features.columns]
    if missing:
        raise ValueError(f"weights name criteria missing from features: {missing}; "
                         f"features has {list(features.columns)}")
    if w.isna().any() or (w.abs().sum() == 0):
        raise ValueError(f"weights must be finite and not all zero, got {dict(w)}")
    bad = [c for c in w.index if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise ValueError(f"features columns must be numeric, found {bad}")
    return w


def weighted_score(features: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Explicit weighted score: Σ_k w_k · pct_rank(x_k) / Σ_k |w_k|, in [−1, 1].

    Each criterion is replaced by its percentile rank (0–1, ties averaged) so units do
    not matter; a negative weight means "less is better" (e.g. the return rate). Items
    with a missing criterion get that criterion's median rank (0.5), and the number of
    such cells is in ``score.attrs["imputed"]``. Sorted high to low.

    >>> f = pd.DataFrame({"margin": [1.0, 2.0, 3.0], "returns": [0.3, 0.1, 0.2]}, index=["a", "b", "c"])
    >>> weighted_score(f, {"margin": 1.0, "returns": -1.0}).round(3).to_dict()
    {'c': 0.167, 'b': 0.167, 'a': -0.333}
    """
    w = _check_weights(features, weights)
    ranks = features[list(w.index)].rank(pct=True)
    imputed = int(ranks.isna().sum().sum())
    ranks = ranks.fillna(0.5)
    score = (ranks * w).sum(axis=1) / w.abs().sum()
    score = score.sort_values(ascending=False, kind="stable").rename("score")
    score.attrs["imputed"] = imputed
    return score


def score_sensitivity(features: pd.DataFrame, weights: Mapping[str, float], *, top: int = 10,
                      change: float = 0.2) -> pd.DataFrame:
    """Do the top picks survive weight changes? Each weight in turn × (1 ± ``change``).

    For each scenario (one weight raised or lowered, the others unchanged) the top
    ``top`` items are recomputed with :func:`weighted_score`; the result has one row per
    item in the base top ``top``: ``base_rank``, ``kept`` (scenarios in which it stays in
    the top ``top``), ``scenarios``, ``worst_rank`` and ``survives`` (kept in every
    scenario).

    >>> f = pd.DataFrame({"m": [3.0, 2.0, 1.0, 0.0], "g": [0.0, 1.0, 2.0, 3.0]}, index=list("abcd"))
    >>> score_sensitivity(f, {"m": 2.0, "g": 1.0}, top=2)["survives"].tolist()
    [True, True]
    """
    w = _check_weights(features, weights)
    if not isinstance(top, int) or not 1 <= top <= len(features):
        raise ValueError(f"top must be an int in [1, {len(features)}], got {top!r}")
    if not 0 < change < 1:
        raise ValueError(f"change must be a fraction in (0, 1), got {change!r}")
    base = weighted_score(features, w)
    picks = base.index[:top]
    ranks = {}
    for k in w.index:
        for sign in (+1, -1):
            ww = w.copy()
            ww[k] *= 1 + sign * change
            s = weighted_score(features, ww)
            ranks[f"{k} {'+' if sign > 0 else '−'}{change:.0%}"] = pd.Series(np.arange(1, len(s) + 1), index=s.index)
    r = pd.DataFrame(ranks).loc[picks]
    out = pd.DataFrame({"base_rank": np.arange(1, top + 1), "kept": (r <= top).sum(axis=1),
                        "scenarios": r.shape[1], "worst_rank": r.max(axis=1)}, index=picks)
    out["survives"] = out["kept"] == out["scenarios"]
    return out
