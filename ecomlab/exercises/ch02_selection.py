"""Exercises for 02_product/01_selection (lesson 02-1, selection, 选品).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data`, never typed in. Four of the five questions make the
student compute the method: an ABC class count by hand (q1), one SKU's gross margin
after discounts and returns from the raw tables (q2), the weighted score as a function
(q3) and a rank change under a weight change (q4); q5 reads the category return rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import market, selection
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    data,
    derived,
)

#: The year analysed (against the year before), as in the lesson's parameters.
YEAR = 2025
#: The lesson's default score weights (a negative weight: less is better).
WEIGHTS = {"gross_margin": 0.35, "margin_rate": 0.15, "growth": 0.2, "market_growth": 0.2, "return_rate": -0.1}
#: The lesson's share of returned units sold again as new (the rest written off).
RESOLD = 0.5
#: q4: the weight raised, by how much, and the base rank followed.
Q4_WEIGHT, Q4_CHANGE, Q4_RANK = "growth", 0.2, 8


def _margin(y: int) -> pd.DataFrame:
    return derived(("ch02_selection", "margin", y), lambda: selection.sku_margin(
        data("order_items"), data("orders"), data("products"), data("returns"),
        start=f"{y}-01-01", end=f"{y + 1}-01-01", resold=RESOLD).table.set_index("sku_id"))


def features() -> pd.DataFrame:
    """The lesson's score criteria for SKUs on sale all of YEAR − 1 and YEAR."""
    def make() -> pd.DataFrame:
        t, p = _margin(YEAR), _margin(YEAR - 1)
        launch = data("products").set_index("sku_id")["launch_date"]
        both = (launch < f"{YEAR - 1}-01-01") & (p["gmv"] > 0)
        mk = data("market").groupby(["category", "month"], observed=True, as_index=False)["sales_amount"].sum()
        mg = market.yoy_growth(mk, YEAR).set_index("category")["yoy"]
        f = pd.DataFrame({"gross_margin": t["gross_margin"], "margin_rate": t["margin_rate"],
                          "growth": (t["gmv"] / p["gmv"] - 1).where(both),
                          "market_growth": t["category"].map(mg).astype(float), "return_rate": t["return_rate"]})
        return f[both]
    return derived(("ch02_selection", "features"), make)


# -- q1 ---------------------------------------------------------------------------------
def a_by_margin() -> int:
    """Number of class-A SKUs by YEAR's gross margin (80% cut)."""
    return int((selection.abc_classes(_margin(YEAR)["gross_margin"])["class"] == "A").sum())


q1 = Question(
    prompt=f"Compute by hand (pandas, not `selection.abc_classes`): how many SKUs are in class **A by "
    f"gross margin** in {YEAR}? Sort the SKUs by margin, high to low; a SKU is A when the cumulative "
    "share of the positive margin total **before** it is below 80% (the SKU that crosses 80% is A). "
    "A count.",
    kind=NumberAnswer(expected=a_by_margin, abs_tol=0.5, mistakes=[
        ("the A class by GMV, not by gross margin",
         lambda: int((selection.abc_classes(_margin(YEAR)["gmv"])["class"] == "A").sum())),
        ("the cumulative share including the SKU itself: the SKU that crosses 80% belongs to A",
         lambda: a_by_margin() - 1),
    ]),
    hints=[
        "`gm = cur.table.set_index('sku_id')['gross_margin'].sort_values(ascending=False)`",
        "Last hint: `before = (gm.cumsum() - gm) / gm.clip(lower=0).sum()`; count `before < 0.8`.",
    ],
    solution=(
        "gm = cur.table.set_index('sku_id')['gross_margin'].sort_values(ascending=False)\n"
        "pos = gm.clip(lower=0)\n"
        "before = (pos.cumsum() - pos) / pos.sum()\n"
        "answer = int(((before < 0.8) & (gm > 0)).sum())"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def top_sku_margin() -> float:
    """YEAR gross margin (CNY) of the SKU with the highest YEAR GMV."""
    t = _margin(YEAR)
    return float(t.loc[t["gmv"].idxmax(), "gross_margin"])


q2 = Question(
    prompt=f"From the raw tables, what was the {YEAR} **gross margin (CNY) of the SKU with the highest "
    f"{YEAR} GMV**? Line GMV (quantity × unit_price), minus the line's share of its order's "
    "`discount_amount` (in proportion to GMV), minus refunds, minus unit cost × (units − 0.5 × returned units): half "
    "of the returned units are sold again, half written off. Leave out cancelled orders. Within 1 CNY.",
    kind=NumberAnswer(expected=top_sku_margin, abs_tol=1.0, mistakes=[
        ("the GMV, not the gross margin", lambda: float(_margin(YEAR)["gmv"].max())),
        ("the margin before refunds: returned lines gave their money back",
         lambda: top_sku_margin() + float(_margin(YEAR).loc[_margin(YEAR)["gmv"].idxmax(), "refunds"])
         - RESOLD * float(data("products").set_index("sku_id").loc[_margin(YEAR)["gmv"].idxmax(), "unit_cost"])
         * float(_margin(YEAR).loc[_margin(YEAR)["gmv"].idxmax(), "returned_units"])),
        ("every returned unit restocked: half are written off",
         lambda: top_sku_margin() + (1 - RESOLD) * float(data("products").set_index("sku_id").loc[
             _margin(YEAR)["gmv"].idxmax(), "unit_cost"]) * float(_margin(YEAR).loc[_margin(YEAR)["gmv"].idxmax(),
                                                                                     "returned_units"])),
        ("the margin before order discounts (coupons, 满减)",
         lambda: top_sku_margin() + float(_margin(YEAR).loc[_margin(YEAR)["gmv"].idxmax(), "discount"])),
    ]),
    hints=[
        "Merge order_items with the year's non-cancelled orders (items_amount, discount_amount).",
        "A line's discount share is discount_amount × line GMV / items_amount.",
        "Last hint: merge returns on ['order_id', 'sku_id'] (how='left'); kept units = quantity − "
        "0.5 × returned quantity; margin = GMV − discount share − refund − unit_cost × that.",
    ],
    solution=(
        "o = orders[(orders['status'] != 'cancelled') & (orders['order_ts'] >= start) & (orders['order_ts'] < end)]\n"
        "x = items.merge(o[['order_id', 'items_amount', 'discount_amount']], on='order_id')\n"
        "x['gmv'] = x['quantity'] * x['unit_price']\n"
        "top = x.groupby('sku_id')['gmv'].sum().idxmax()\n"
        "x = x[x['sku_id'] == top].merge(returns[['order_id', 'sku_id', 'refund_amount']], "
        "on=['order_id', 'sku_id'], how='left')\n"
        "kept = x['quantity'] - 0.5 * x['quantity'].where(x['refund_amount'].notna(), 0)\n"
        "cost = products.set_index('sku_id').loc[top, 'unit_cost']\n"
        "answer = (x['gmv'] - x['discount_amount'] * x['gmv'] / x['items_amount'] "
        "- x['refund_amount'].fillna(0) - cost * kept).sum()"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
def score_reference(features: pd.DataFrame, weights: dict) -> pd.Series:
    """Σ_k w_k · pct_rank(x_k) / Σ_k |w_k| (ties averaged, missing ranks 0.5), in ``features``' order."""
    return selection.weighted_score(features, weights).reindex(features.index)


def _score_cases() -> list[Case]:
    f = pd.DataFrame({"a": [1.0, 2.0, 3.0, 3.0], "b": [0.4, np.nan, 0.1, 0.2]}, index=list("wxyz"))
    return [
        Case(f, {"a": 1.0, "b": -1.0}),               # a negative weight, ties and a missing value
        Case(f, {"a": 0.7, "b": 0.3}),
        Case(f, {"a": 2.0}),                          # weights need not sum to 1
        Case(features().head(40), dict(WEIGHTS)),     # the lesson's criteria
    ]


q3 = Question(
    prompt="Write `score(features, weights)`: each criterion named in `weights` becomes its percentile "
    "rank (`rank(pct=True)`, ties averaged, a missing rank set to 0.5); the score is "
    "Σ w·rank / Σ|w|. Return a Series indexed like `features` (any order).",
    kind=FunctionAnswer(score_reference, cases=_score_cases, rtol=1e-9, atol=1e-12, name="score"),
    hints=[
        "`features[list(weights)].rank(pct=True)` ranks each column from 1/n to 1.",
        "Divide by the sum of the absolute weights, so a negative weight keeps the score in [−1, 1].",
        "Last hint: `w = pd.Series(weights); r = features[list(w.index)].rank(pct=True).fillna(0.5); "
        "(r * w).sum(axis=1) / w.abs().sum()`",
    ],
    solution=(
        "def score(features, weights):\n"
        "    w = pd.Series(weights, dtype=float)\n"
        "    r = features[list(w.index)].rank(pct=True).fillna(0.5)\n"
        "    return (r * w).sum(axis=1) / w.abs().sum()"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
def rank_after_change() -> int:
    """New rank of the base rank-Q4_RANK SKU after Q4_WEIGHT × (1 + Q4_CHANGE)."""
    f = features()
    base = selection.weighted_score(f, WEIGHTS)
    w2 = dict(WEIGHTS, **{Q4_WEIGHT: WEIGHTS[Q4_WEIGHT] * (1 + Q4_CHANGE)})
    new = selection.weighted_score(f, w2)
    return int(new.index.get_loc(base.index[Q4_RANK - 1])) + 1


q4 = Question(
    prompt=f"With the lesson's `features` and weights `ex.WEIGHTS`, raise the weight of `{Q4_WEIGHT}` by "
    f"{Q4_CHANGE:.0%} (others unchanged, no renormalising). What rank (1 = best) does the SKU ranked "
    f"**{Q4_RANK}th** with the base weights get now? An integer.",
    kind=NumberAnswer(expected=rank_after_change, abs_tol=0.5, mistakes=[
        ("the base rank: did you change the weight?", lambda: Q4_RANK),
    ]),
    hints=[
        "`base = selection.weighted_score(features, ex.WEIGHTS)`; the SKU is `base.index[7]`.",
        "Last hint: `new = selection.weighted_score(features, dict(ex.WEIGHTS, growth=ex.WEIGHTS['growth'] * 1.2))`; "
        "its rank is `new.index.get_loc(sku) + 1`.",
    ],
    solution=(
        "base = selection.weighted_score(features, ex.WEIGHTS)\n"
        "new = selection.weighted_score(features, dict(ex.WEIGHTS, growth=ex.WEIGHTS['growth'] * 1.2))\n"
        "answer = int(new.index.get_loc(base.index[7])) + 1"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def worst_return_category() -> str:
    t = _margin(YEAR)
    c = t.groupby("category", observed=True)[["returned_lines", "lines"]].sum()
    return str((c["returned_lines"] / c["lines"]).idxmax())


q5 = Question(
    prompt=f"Which category had the **highest share of returned lines** in {YEAR}? A category name.",
    kind=LabelAnswer(worst_return_category, choices=["storage", "kitchen", "bedding", "bath", "decor", "cleaning"]),
    hints=["Last hint: `cat['return_rate'].idxmax()` in the lesson's returns table."],
    solution="answer = cat['return_rate'].idxmax()",
)

__all__ = ["Q4_CHANGE", "Q4_RANK", "Q4_WEIGHT", "WEIGHTS", "YEAR", "a_by_margin", "features", "q1", "q2", "q3",
           "q4", "q5", "rank_after_change", "score_reference", "top_sku_margin", "worst_return_category"]
