"""Exercises for 04_private_domain/03_membership_coupons (lesson 04-3, membership, coupons
and fan groups: 会员、优惠券与私域社群).

Every expected answer is computed at run time from :func:`ecomlab.exercises.data` (the data
chosen by :func:`ecomlab.exercises.use_data`) with the :mod:`ecomlab.users` and
:mod:`ecomlab.metrics` helpers.

- q1 — the coupon's uplift in the ``lapsing`` segment (treated minus control 30-day
  purchase rate), not its response rate.
- q2 — the segments whose *simultaneous* (Bonferroni, α = 0.05/5) uplift interval lies
  wholly above zero.
- q3 — write ``uplift(campaign)``: treated minus control purchase rate of any frame.
- q4 — before the fan groups existed, how much more did future joiners buy per day than
  non-joiners (the selection a naive comparison mistakes for an effect)?
- q5 — the gross margin rate (毛利率) of the goods sold, from order lines and unit costs.
- q6 — the assumption that makes a difference-in-differences estimate causal.
"""

from __future__ import annotations

import pandas as pd

from ecomlab import causal, metrics, users
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    data,
)

#: Number of CRM segments in the campaign: the Bonferroni family size.
N_SEGMENTS = 5
#: Family-wise error rate of the simultaneous intervals.
FAMILY_ALPHA = 0.05

#: Options of q6.
ASSUMPTIONS = [
    "parallel trends",
    "no unmeasured confounders given the matched covariates",
    "random assignment of the treatment",
    "none: comparing members with non-members is enough",
]


def _uplift_table(alpha: float) -> pd.DataFrame:
    return users.uplift_by_segment(data("coupon_campaign"), alpha=alpha).set_index("segment")


def _segments_surely_positive() -> list[str]:
    t = _uplift_table(FAMILY_ALPHA / N_SEGMENTS).drop(index="all")
    return [str(s) for s in t.index[t["ci_low"] > 0]]


def uplift(campaign: pd.DataFrame) -> float:
    """Uplift = purchase rate of the treated − purchase rate of the control rows.

    >>> c = pd.DataFrame({"treatment": [True, True, False, False], "purchased_30d": [True, False, False, False]})
    >>> uplift(c)
    0.5
    """
    rate = campaign.groupby("treatment")["purchased_30d"].mean()
    return float(rate[True] - rate[False])


def _uplift_cases() -> list[Case]:
    c = data("coupon_campaign")
    tiny = pd.DataFrame({"treatment": [True, True, True, False, False],
                         "purchased_30d": [True, True, False, True, False]})
    cases = [Case(tiny)]
    for seg in ("loyal", "lapsing"):
        cases.append(Case(c[c["segment_at_send"] == seg].reset_index(drop=True)))
    cases.append(Case(c))
    return cases


def _fan_panel() -> pd.DataFrame:
    return causal.fan_group_panel(data("orders"), data("customers"), "2025-07-01",
                                  ("2025-01-01", "2025-07-01"), ("2025-07-01", "2026-01-01"))


def _pre_period_gap() -> float:
    pre = _fan_panel().query("post == 0")
    sums = pre.groupby("joined")[["orders", "exposure_days"]].sum()
    rate = sums["orders"] / sums["exposure_days"]
    return float(rate[1] / rate[0] - 1)


def _margin_rate() -> float:
    kept = metrics.valid_orders(data("orders"))[["order_id"]]
    lines = data("order_items").merge(kept, on="order_id")  # merge: a hash join, fast on str ids
    cost = lines["sku_id"].map(data("products").set_index("sku_id")["unit_cost"])
    return float(metrics.gross_margin((lines["quantity"] * lines["unit_price"]).sum(),
                                      (lines["quantity"] * cost).sum()))


q1 = Question(
    prompt="In the randomised coupon campaign, what is the coupon's **uplift** (增量) on the "
    "30-day purchase rate in the `lapsing` segment: purchase rate of treated minus purchase "
    "rate of control customers? A fraction.",
    kind=NumberAnswer(expected=lambda: float(_uplift_table(0.05).loc["lapsing", "uplift"]),
                      abs_tol=1e-6),
    hints=["Keep the rows with `segment_at_send == 'lapsing'`.",
           "Uplift is a difference of two rates; the treated rate alone is the response rate.",
           "`users.uplift_by_segment(campaign)` has an `uplift` column per segment."],
    solution=(
        "table = users.uplift_by_segment(campaign).set_index('segment')\n"
        "answer = table.loc['lapsing', 'uplift']"
    ),
)

q2 = Question(
    prompt="With **simultaneous** 95% intervals for the five segments (Bonferroni: "
    "`alpha = 0.05 / 5` for each), in which segments is the coupon's uplift surely positive "
    "(the whole interval above 0)? Give a list or set of segment names.",
    kind=SetAnswer(expected=_segments_surely_positive),
    hints=["`users.uplift_by_segment(campaign, alpha=0.05 / 5)`.",
           "Keep the segments (not the `all` row) whose `ci_low` is above 0.",
           "With alpha = 0.05 per segment the intervals are narrower: five chances to be "
           "fooled instead of one."],
    solution=(
        "t = users.uplift_by_segment(campaign, alpha=0.05 / 5)\n"
        "t = t[t['segment'] != 'all']\n"
        "answer = set(t.loc[t['ci_low'] > 0, 'segment'])"
    ),
)

q3 = Question(
    prompt="Write a function `uplift(campaign)` that returns the uplift of any campaign frame "
    "(with boolean columns `treatment` and `purchased_30d`): the purchase rate of the treated "
    "rows minus the purchase rate of the control rows, as a float.",
    kind=FunctionAnswer(uplift, cases=_uplift_cases, name="uplift"),
    hints=["`campaign.groupby('treatment')['purchased_30d'].mean()` gives both rates.",
           "Treated minus control, so a coupon that works gives a positive number."],
    solution=(
        "def uplift(campaign):\n"
        "    rate = campaign.groupby('treatment')['purchased_30d'].mean()\n"
        "    return float(rate[True] - rate[False])\n"
        "answer = uplift"
    ),
)

q4 = Question(
    prompt="In the fan-group panel (`causal.fan_group_panel(orders, customers)`), look at the "
    "**pre** period (2025 H1, before any fan group existed). By how much was the purchase "
    "rate (orders per day of exposure) of future joiners higher than that of non-joiners? "
    "Give the rate ratio − 1 (1.0 = twice as high).",
    kind=NumberAnswer(expected=_pre_period_gap, rel_tol=1e-4),
    hints=["Keep the rows with `post == 0`.",
           "Per group (`joined`), sum `orders` and `exposure_days`, then divide: a pooled rate.",
           "Joiners' rate / non-joiners' rate − 1. This gap exists before the programme, so it "
           "cannot be its effect."],
    solution=(
        "pre = panel[panel['post'] == 0].groupby('joined')[['orders', 'exposure_days']].sum()\n"
        "rate = pre['orders'] / pre['exposure_days']\n"
        "answer = rate[1] / rate[0] - 1"
    ),
)

q5 = Question(
    prompt="What is the gross margin rate (毛利率) of the goods Nestwell sold, over the lines "
    "of kept orders (`metrics.valid_orders`): (Σ quantity × unit_price − Σ quantity × "
    "unit_cost) / Σ quantity × unit_price? A fraction.",
    kind=NumberAnswer(expected=_margin_rate, abs_tol=5e-4),
    hints=["Keep the `order_items` rows of kept orders: merge them with "
           "`metrics.valid_orders(orders)[['order_id']]` on `order_id`.",
           "Bring `unit_cost` from `products` by `sku_id` (`map` or `merge`).",
           "`metrics.gross_margin(revenue, cogs)`: revenue at the price paid (`unit_price`), "
           "not the list price."],
    solution=(
        "lines = order_items.merge(metrics.valid_orders(orders)[['order_id']], on='order_id')\n"
        "cost = lines['sku_id'].map(products.set_index('sku_id')['unit_cost'])\n"
        "answer = metrics.gross_margin((lines['quantity'] * lines['unit_price']).sum(),\n"
        "                              (lines['quantity'] * cost).sum())"
    ),
)

q6 = Question(
    prompt="Which assumption must hold for the difference-in-differences (双重差分) estimate "
    f"of the fan-group effect to be causal? One of: {', '.join(repr(a) for a in ASSUMPTIONS)}.",
    kind=LabelAnswer("parallel trends", choices=ASSUMPTIONS),
    hints=["DiD compares *changes*, so fixed differences between joiners and the others "
           "cancel out.",
           "What it needs is that, without the programme, both groups' rates would have "
           "*changed* alike."],
    solution="answer = 'parallel trends'",
)
