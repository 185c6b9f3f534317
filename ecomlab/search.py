"""Lesson 03-2 — search keywords (搜索关键词): the rank → CTR curve, keyword opportunity and
break-even bids for search ads (直通车).

- :func:`fit_ctr_curve` fits ``CTR(rank) = a · rank^(−b)`` (power form) or
  ``CTR(rank) = a · q^(rank − 1)`` (geometric form) to keyword-level clicks and
  impressions with a Poisson GLM with log link and ``log(impressions)`` as offset, the
  quasi-likelihood scale estimated from Pearson's χ² (McCullagh & Nelder 1989, §6.2 and
  §9.2). For CTRs well below 1 it is the binomial likelihood's mean model with a
  conservative variance; every keyword is weighted by its impressions.
- :func:`opportunity`: ``searches × (CTR(target rank) − CTR(current rank)) × CR ×
  profit per order − cost``.
- :func:`break_even_cpc`: ``CR × gross profit per order`` — the most a click can cost
  before the order it brings loses money (a click is worth what it is expected to earn).
- :func:`bid_verdicts`: keyword CRs with Wilson intervals against the bid (CPC).
- :func:`profit_per_order`: gross profit per order of a category after order-level
  discounts, from orders, order lines and unit costs.

The published benchmark the lesson compares with: Sistrix (2020), "Why (almost)
everything you knew about Google CTR is no longer valid", 80 million keywords: average
organic CTR 28.5% at position 1, 15.7% at 2, 11.0% at 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ecomlab.validation import require_columns

__all__ = [
    "CtrCurve",
    "fit_ctr_curve",
    "opportunity",
    "break_even_cpc",
    "bid_verdicts",
    "profit_per_order",
]

Form = Literal["power", "geometric"]


def _numeric(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float) if not isinstance(x, (str, bytes)) else None
    if arr is None:
        raise ValueError(f"{name} must be numeric, got {x!r}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN, got {x!r}")
    return arr


@dataclass(frozen=True)
class CtrCurve:
    """A fitted rank → CTR curve.

    ``form`` is ``"power"`` (``ctr = a · rank^−b``) or ``"geometric"`` (``ctr = a ·
    q^(rank−1)``, reported as ``b = −log q`` so that ``ctr = a · exp(−b (rank − 1))``).
    ``a`` is the CTR at rank 1; ``a_ci``/``b_ci`` are 95% Wald intervals (``a``'s from the
    log scale); ``dispersion`` is Pearson χ² / residual df (1 = binomial noise only);
    ``excluded`` counts the rows left out and why.
    """

    form: str
    a: float
    b: float
    a_ci: tuple[float, float]
    b_ci: tuple[float, float]
    dispersion: float
    n: int
    excluded: dict = field(default_factory=dict)

    def predict(self, rank) -> np.ndarray | float:
        """CTR at ``rank``: a float for a scalar rank, an array otherwise (ranks are ≥ 1).

        >>> curve = CtrCurve("power", 0.3, 1.0, (0.3, 0.3), (1, 1), 1.0, 10)
        >>> curve.predict([1, 2, 3]).round(3), curve.predict(2)
        (array([0.3 , 0.15, 0.1 ]), 0.15)
        """
        r = _numeric(rank, "rank")
        if (r < 1).any():
            raise ValueError(f"rank must be >= 1 (1 = top), got {np.atleast_1d(r)[np.atleast_1d(r) < 1][:3].tolist()}")
        out = _curve(self.form, self.a, self.b, r)
        return float(out) if out.ndim == 0 else out


def _curve(form: str, a, b, rank: np.ndarray) -> np.ndarray:
    if form == "power":
        return a * rank ** (-b)
    return a * np.exp(-b * (rank - 1))


def fit_ctr_curve(
    keywords: pd.DataFrame,
    *,
    form: Form = "power",
    rank: str = "our_rank",
    impressions: str = "impressions",
    clicks: str = "clicks",
) -> CtrCurve:
    """Fit the rank → CTR curve to one row per keyword (clicks out of impressions at a rank).

    Model (Poisson GLM, log link, offset ``log impressions``, quasi-likelihood scale from
    Pearson's χ²)::

        power:     log E[clicks] = log impressions + log a − b · log rank
        geometric: log E[clicks] = log impressions + log a − b · (rank − 1)

    Rows with no impressions carry no information on the CTR and are excluded (counted in
    ``excluded``). Ranks must be ≥ 1, clicks between 0 and impressions.

    >>> kw = pd.DataFrame({"our_rank": [1, 2, 4, 8], "impressions": [1000] * 4,
    ...                    "clicks": [300, 150, 75, 38]})
    >>> fit = fit_ctr_curve(kw)
    >>> round(fit.a, 2), round(fit.b, 2)
    (0.3, 1.0)
    """
    import statsmodels.api as sm

    if form not in ("power", "geometric"):
        raise ValueError(f"form must be 'power' or 'geometric', got {form!r}")
    require_columns(keywords, [rank, impressions, clicks], "keywords")
    df = keywords[[rank, impressions, clicks]]
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raise ValueError(f"keywords.{c} must be numeric, got dtype {df[c].dtype} "
                             f"(e.g. {df[c].iloc[0]!r})" if len(df) else f"keywords.{c} must be numeric")
        if df[c].isna().any():
            raise ValueError(f"keywords.{c} has {int(df[c].isna().sum())} missing value(s); "
                             "fill or drop them explicitly first")
    bad_rank = df[rank] < 1
    if bad_rank.any():
        raise ValueError(f"keywords.{rank} must be >= 1 (1 = top), found {df.loc[bad_rank, rank].iloc[0]!r}")
    bad = (df[clicks] < 0) | (df[clicks] > df[impressions])
    if bad.any():
        row = df.loc[bad].iloc[0]
        raise ValueError(f"keywords.{clicks} must be between 0 and {impressions}, found "
                         f"{row[clicks]!r} clicks for {row[impressions]!r} impressions")
    no_imp = df[impressions] <= 0
    excluded = {"no impressions": int(no_imp.sum())} if no_imp.any() else {}
    df = df.loc[~no_imp]
    if len(df) < 3 or df[rank].nunique() < 2:
        raise ValueError(f"keywords needs at least 3 rows with impressions at 2 or more ranks to fit a "
                         f"curve, got {len(df)} rows at {df[rank].nunique()} rank(s)")
    r = df[rank].to_numpy(float)
    x = np.log(r) if form == "power" else r - 1
    X = sm.add_constant(x, has_constant="add")
    res = sm.GLM(df[clicks].to_numpy(float), X, family=sm.families.Poisson(),
                 offset=np.log(df[impressions].to_numpy(float))).fit(scale="X2")
    (la, slope), ci = res.params, res.conf_int(0.05)
    return CtrCurve(
        form=form, a=float(np.exp(la)), b=float(-slope),
        a_ci=(float(np.exp(ci[0, 0])), float(np.exp(ci[0, 1]))),
        b_ci=(float(-ci[1, 1]), float(-ci[1, 0])),
        dispersion=float(res.scale), n=len(df), excluded=excluded,
    )


def opportunity(searches, ctr_now, ctr_target, cr, profit_per_order, cost=0.0) -> np.ndarray:
    """Monthly profit from a better rank: ``searches × (ctr_target − ctr_now) × cr ×
    profit_per_order − cost`` (all broadcast element-wise, CNY).

    ``ctr_target − ctr_now`` is the CTR gain from the better rank (read from the fitted
    curve); ``cost`` is what the better rank costs over the same month (ad spend for the
    extra clicks, content work …). Negative values are reported, not clipped: the
    keyword loses money at that rank.

    >>> opportunity(10_000, 0.05, 0.15, 0.04, 50.0, cost=1_000.0)
    array([1000.])
    """
    s = _numeric(searches, "searches")
    c0, c1 = _numeric(ctr_now, "ctr_now"), _numeric(ctr_target, "ctr_target")
    conv, gp, k = _numeric(cr, "cr"), _numeric(profit_per_order, "profit_per_order"), _numeric(cost, "cost")
    if (s < 0).any():
        raise ValueError(f"searches must be >= 0, got {s[s < 0][:3].tolist()}")
    for name, v in (("ctr_now", c0), ("ctr_target", c1), ("cr", conv)):
        if ((v < 0) | (v > 1)).any():
            raise ValueError(f"{name} must be a fraction in [0, 1], got {v[(v < 0) | (v > 1)][:3].tolist()}")
    return np.atleast_1d(s * (c1 - c0) * conv * gp - k)


def break_even_cpc(cr, profit_per_order) -> np.ndarray:
    """Break-even cost per click = ``cr × profit_per_order`` (CNY per click).

    A click converts with probability ``cr`` and an order earns ``profit_per_order``
    gross profit, so a click is worth ``cr × profit_per_order``; paying more per click
    loses money on average (before any repeat purchase).

    >>> break_even_cpc([0.04, 0.02], 60.0)
    array([2.4, 1.2])
    """
    conv, gp = _numeric(cr, "cr"), _numeric(profit_per_order, "profit_per_order")
    if ((conv < 0) | (conv > 1)).any():
        raise ValueError(f"cr must be a fraction in [0, 1], got {conv[(conv < 0) | (conv > 1)][:3].tolist()}")
    return np.atleast_1d(conv * gp)


def bid_verdicts(
    keywords: pd.DataFrame,
    profit: pd.Series | float,
    *,
    by: str = "category",
    clicks: str = "clicks",
    orders: str = "orders",
    cpc: str = "cpc",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Each keyword's CR (orders / clicks) with its Wilson interval, break-even CPC and a
    verdict on its bid.

    ``profit`` is the gross profit per order: a number, or a Series indexed by the values
    of ``keywords[by]`` (e.g. per category). Verdicts: ``"cut"`` when the CPC is above
    the break-even CPC even at the CR's upper limit; ``"push"`` when it is below even at
    the lower limit; ``"hold"`` when the interval cannot tell (Wilson 1927, via
    ``statsmodels.stats.proportion.proportion_confint``). Rows without clicks get ``"hold"``.

    >>> kw = pd.DataFrame({"category": ["a", "a"], "clicks": [1000, 1000],
    ...                    "orders": [50, 10], "cpc": [1.0, 1.0]})
    >>> bid_verdicts(kw, pd.Series({"a": 40.0}))["verdict"].tolist()
    ['push', 'cut']
    """
    from statsmodels.stats.proportion import proportion_confint

    require_columns(keywords, [clicks, orders, cpc] + ([by] if isinstance(profit, pd.Series) else []),
                    "keywords")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    n, k = keywords[clicks].to_numpy(float), keywords[orders].to_numpy(float)
    if np.isnan(n).any() or np.isnan(k).any() or (k > n).any() or (k < 0).any():
        raise ValueError(f"keywords.{orders} must be between 0 and {clicks} with no missing values")
    if isinstance(profit, pd.Series):
        gp = keywords[by].map(profit).to_numpy(float)
        if np.isnan(gp).any():
            missing = sorted(set(keywords.loc[np.isnan(gp), by].astype(str)))
            raise ValueError(f"profit has no value for keywords.{by} = {missing[:3]}; it has {list(profit.index)}")
    else:
        gp = np.full(len(keywords), float(profit))
    safe = np.where(n > 0, n, 1)
    lo, hi = proportion_confint(k, safe, alpha=alpha, method="wilson")
    cr = np.where(n > 0, k / safe, np.nan)
    out = pd.DataFrame({"cr": cr, "cr_low": np.where(n > 0, lo, np.nan), "cr_high": np.where(n > 0, hi, np.nan),
                        "profit_per_order": gp}, index=keywords.index)
    out["break_even_cpc"] = out["cr"] * gp
    out["cpc"] = keywords[cpc].to_numpy(float)
    out["profit_per_click"] = out["break_even_cpc"] - out["cpc"]
    verdict = np.select([out["cpc"] > out["cr_high"] * gp, out["cpc"] < out["cr_low"] * gp], ["cut", "push"], "hold")
    out["verdict"] = pd.Categorical(verdict, categories=["push", "hold", "cut"])
    return out


def profit_per_order(
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    products: pd.DataFrame,
    *,
    by: str = "category",
    statuses: Sequence[str] = ("completed",),
) -> pd.DataFrame:
    """Gross profit per order of each ``products[by]`` group, after order-level discounts.

    For every line: ``quantity × (unit_price − unit_cost)`` minus its pro-rata share of the
    order's ``discount_amount`` (share = line amount / ``items_amount``). A group's profit
    per order = its lines' profit / the number of orders holding one of its lines. Only
    orders whose status is in ``statuses`` count (a cancelled or refunded order earns
    nothing); shipping and platform fees are not included.

    >>> o = pd.DataFrame({"order_id": ["o1", "o2"], "status": ["completed", "cancelled"],
    ...                   "items_amount": [100.0, 50.0], "discount_amount": [10.0, 0.0]})
    >>> li = pd.DataFrame({"order_id": ["o1", "o2"], "sku_id": ["s", "s"], "quantity": [2, 1],
    ...                    "unit_price": [50.0, 50.0]})
    >>> p = pd.DataFrame({"sku_id": ["s"], "category": ["bath"], "unit_cost": [20.0]})
    >>> profit_per_order(o, li, p)
               orders  gross_profit  profit_per_order
    category
    bath            1          50.0              50.0
    """
    require_columns(orders, ["order_id", "status", "items_amount", "discount_amount"], "orders")
    require_columns(order_items, ["order_id", "sku_id", "quantity", "unit_price"], "order_items")
    require_columns(products, ["sku_id", "unit_cost", by], "products")
    if products["sku_id"].duplicated().any():
        raise ValueError(f"products.sku_id must be unique, found {products.loc[products['sku_id'].duplicated(), 'sku_id'].iloc[0]!r} twice")
    kept = orders.loc[orders["status"].isin(list(statuses)), ["order_id", "items_amount", "discount_amount"]]
    li = order_items.merge(kept, on="order_id", how="inner", validate="many_to_one")
    li = li.merge(products[["sku_id", "unit_cost", by]], on="sku_id", how="left", validate="many_to_one")
    if li["unit_cost"].isna().any():
        raise ValueError(f"order_items.sku_id {li.loc[li['unit_cost'].isna(), 'sku_id'].iloc[0]!r} is not in products")
    amount = li["quantity"] * li["unit_price"]
    share = np.where(li["items_amount"] > 0, amount / li["items_amount"].where(li["items_amount"] > 0, 1), 0.0)
    li["gp"] = amount - li["quantity"] * li["unit_cost"] - share * li["discount_amount"]
    g = li.groupby(by, observed=True)
    out = pd.DataFrame({"orders": g["order_id"].nunique(), "gross_profit": g["gp"].sum()})
    out["profit_per_order"] = out["gross_profit"] / out["orders"]
    return out
