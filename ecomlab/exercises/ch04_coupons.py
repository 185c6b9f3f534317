"""Exercises for 04_private_domain/04_coupons_uplift (lesson 04-4, coupons and uplift:
优惠券与增量营销).

Every expected answer is computed at run time from :func:`ecomlab.exercises.data` (the data
chosen by :func:`ecomlab.exercises.use_data`) with the :mod:`ecomlab.users` and
:mod:`ecomlab.metrics` helpers or the formula the question states. Five of the six make
the student compute the method by hand:

- q1 — the coupon's uplift in the ``lapsing`` segment (treated minus control purchase
  rate), not its response rate.
- q2 — the lower bound of the 99% Wald interval of the ``at_risk`` uplift, by hand.
- q3 — Holm's step-down adjustment of the five segments' p-values, by hand (a Series).
- q4 — the break-even uplift of the ``active`` segment: redemption rate × coupon / gross
  profit per purchase.
- q5 — a Qini point by hand: incremental buyers when targeting ``recency_days >= 91``.
- q6 — write ``profit_per_coupon(campaign)``: treated minus control mean gross profit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import metrics, users
from ecomlab.exercises import (
    Case,
    FrameAnswer,
    FunctionAnswer,
    NumberAnswer,
    Question,
    data,
    derived,
)

#: The campaign's segment column and outcome (passed to the helpers explicitly).
SEGMENT = "segment_at_send"
OUTCOME = "purchased_30d"
#: Family-wise error rate, and the Bonferroni level of one of the five segment intervals.
FAMILY_ALPHA = 0.05
N_SEGMENTS = 5
#: Targeting rule of q5: customers who have not bought for three months.
RECENCY_CUTOFF_DAYS = 91


def _campaign() -> pd.DataFrame:
    return data("coupon_campaign")


def _segment(name: str) -> pd.DataFrame:
    c = _campaign()
    return c[c[SEGMENT] == name]


def _uplift_table(**options) -> pd.DataFrame:
    return users.uplift_by_segment(_campaign(), segment=SEGMENT, outcome=OUTCOME, **options).set_index("segment")


def wald_interval(frame: pd.DataFrame, alpha: float) -> tuple[float, float]:
    """Wald interval of treated − control purchase rate: û ± z_(1−α/2) √(Σ p(1−p)/n).

    >>> f = pd.DataFrame({"treatment": [True] * 4 + [False] * 4, "purchased_30d": [1, 1, 0, 0, 1, 0, 0, 0]})
    >>> [round(x, 3) for x in wald_interval(f, 0.05)]
    [-0.398, 0.898]
    """
    from scipy import stats  # imported here: scipy.stats costs ~0.5 s at lesson start

    p = frame.groupby("treatment")[OUTCOME].agg(["mean", "size"])
    u = p.loc[True, "mean"] - p.loc[False, "mean"]
    se = float(np.sqrt((p["mean"] * (1 - p["mean"]) / p["size"]).sum()))
    z = stats.norm.ppf(1 - alpha / 2)
    return float(u - z * se), float(u + z * se)


def _segment_p_values() -> pd.Series:
    return _uplift_table().drop(index="all")["p_value"].rename(None).rename_axis("segment")


def _holm_p_values() -> pd.Series:
    from statsmodels.stats.multitest import multipletests  # imported here: costly at lesson start

    p = _segment_p_values()
    return pd.Series(multipletests(p.to_numpy(), method="holm")[1], index=p.index)


def _margin_rate() -> float:
    def make() -> float:
        kept = metrics.valid_orders(data("orders"))[["order_id"]]
        lines = data("order_items").merge(kept, on="order_id")  # merge: a hash join, fast on str ids
        cost = lines["sku_id"].map(data("products").set_index("sku_id")["unit_cost"])
        return float(metrics.gross_margin((lines["quantity"] * lines["unit_price"]).sum(),
                                          (lines["quantity"] * cost).sum()))

    return derived(("ch04_coupons", "margin_rate"), make)


def _coupon_cost() -> float:
    c = _campaign()
    return float(c.loc[c["treatment"], "coupon_value"].max())


def _gp_per_purchase() -> float:
    c = _campaign()
    return _margin_rate() * float(c.loc[c[OUTCOME] & ~c["treatment"], "revenue_30d"].mean())


def _break_even(segment: str) -> float:
    t = _segment(segment)
    return float(t.loc[t["treatment"], "redeemed"].mean()) * _coupon_cost() / _gp_per_purchase()


def _qini_point() -> float:
    c = _campaign()
    tgt = c[c["recency_days"] >= RECENCY_CUTOFF_DAYS]
    t = tgt["treatment"]
    yt, nt = float(tgt.loc[t, OUTCOME].sum()), float(t.sum())
    yc, nc = float(tgt.loc[~t, OUTCOME].sum()), float((~t).sum())
    return yt - yc * nt / nc


def profit_per_coupon(campaign: pd.DataFrame) -> float:
    """Profit per coupon sent: mean ``gross_profit_30d`` of treated − of control rows.

    >>> profit_per_coupon(pd.DataFrame({"treatment": [True, True, False], "gross_profit_30d": [10.0, 0.0, 2.0]}))
    3.0
    """
    means = campaign.groupby("treatment")["gross_profit_30d"].mean()
    return float(means[True] - means[False])


def _with_gross_profit() -> pd.DataFrame:
    """The campaign with the lesson's per-customer gross profit after the coupon."""
    c = _campaign()
    m, cost = _margin_rate(), _coupon_cost()
    return c.assign(gross_profit_30d=m * (c["revenue_30d"] + cost * c["redeemed"]) - cost * c["redeemed"])


def _profit_cases() -> list[Case]:
    c = _with_gross_profit()[["treatment", SEGMENT, "gross_profit_30d"]]
    tiny = pd.DataFrame({"treatment": [True, True, True, False, False],
                         "gross_profit_30d": [30.0, 0.0, -9.0, 40.0, 0.0]})
    cases = [Case(tiny)]
    for seg in ("loyal", "lapsing"):
        cases.append(Case(c[c[SEGMENT] == seg].reset_index(drop=True)))
    cases.append(Case(c))
    return cases


q1 = Question(
    prompt="In the randomised coupon campaign, compute the coupon's **uplift** (增量) on the "
    "30-day purchase rate in the `lapsing` segment: purchase rate of treated minus purchase "
    "rate of control customers. A fraction.",
    kind=NumberAnswer(expected=lambda: float(_uplift_table().loc["lapsing", "uplift"]), abs_tol=1e-6),
    hints=["Keep the rows with `segment_at_send == 'lapsing'`.",
           "`groupby('treatment')['purchased_30d'].mean()` gives both rates.",
           "Last hint: uplift is treated rate − control rate; the treated rate alone is the "
           "response rate, which counts customers who would have bought anyway."],
    solution=(
        "lap = campaign[campaign['segment_at_send'] == 'lapsing']\n"
        "rate = lap.groupby('treatment')['purchased_30d'].mean()\n"
        "answer = rate[True] - rate[False]"
    ),
)

q2 = Question(
    prompt="For the `at_risk` segment, compute by hand the **lower bound** of the 99% Wald "
    "interval of the uplift (the Bonferroni level for five segments): "
    "û − z₀.₉₉₅ · √(p_T(1−p_T)/n_T + p_C(1−p_C)/n_C). A fraction.",
    kind=NumberAnswer(expected=lambda: wald_interval(_segment("at_risk"), FAMILY_ALPHA / N_SEGMENTS)[0],
                      abs_tol=1e-6),
    hints=["Per arm you need the purchase rate p and the number of customers n: "
           "`groupby('treatment')['purchased_30d'].agg(['mean', 'size'])`.",
           "The standard error adds the two variances p(1−p)/n before the square root.",
           "Last hint: 99% two-sided means z = `scipy.stats.norm.ppf(1 - 0.01 / 2)` ≈ 2.576, "
           "not 1.96."],
    solution=(
        "risk = campaign[campaign['segment_at_send'] == 'at_risk']\n"
        "p = risk.groupby('treatment')['purchased_30d'].agg(['mean', 'size'])\n"
        "se = np.sqrt((p['mean'] * (1 - p['mean']) / p['size']).sum())\n"
        "answer = p.loc[True, 'mean'] - p.loc[False, 'mean'] - stats.norm.ppf(1 - 0.01 / 2) * se"
    ),
)

q3 = Question(
    prompt="Adjust the five segments' purchase-uplift p-values with **Holm**'s method, by "
    "hand: sort them from smallest to largest, multiply the i-th smallest by 5 − i + 1, take "
    "the running maximum and cap at 1. A Series of adjusted p-values indexed by segment.",
    kind=FrameAnswer(expected=_holm_p_values, check_index=True, ignore_row_order=True),
    hints=["`users.uplift_by_segment(campaign, segment='segment_at_send', "
           "outcome='purchased_30d')` has a `p_value` per segment; leave out the `all` row "
           "(the family is the five segments) and index by `segment`.",
           "`p.sort_values()`, then multiply by `np.arange(5, 0, -1)`; the running maximum "
           "(`.cummax()`) keeps the adjusted values in the order of the sorted raw ones.",
           "Last hint: multiplying every p-value by 5 is Bonferroni, not Holm; check yourself "
           "with `statsmodels.stats.multitest.multipletests(p, method='holm')[1]`."],
    solution=(
        "t = users.uplift_by_segment(campaign, segment='segment_at_send', outcome='purchased_30d')\n"
        "p = t[t['segment'] != 'all'].set_index('segment')['p_value'].sort_values()\n"
        "answer = (p * np.arange(len(p), 0, -1)).cummax().clip(upper=1)"
    ),
)

q4 = Question(
    prompt="Compute the **break-even uplift** (盈亏平衡增量) of the `active` segment: the "
    "redemption rate of its treated customers × the coupon value / the gross profit per "
    "purchase (`gp_per_purchase` from the lesson: margin rate × mean `revenue_30d` of "
    "control buyers). A fraction.",
    kind=NumberAnswer(expected=lambda: _break_even("active"), rel_tol=1e-4),
    hints=["Redemption rate: the mean of `redeemed` among *treated* `active` customers "
           "(control customers never got a coupon).",
           "A coupon sent costs redemption rate × 20 CNY on average; an incremental purchase "
           "earns `gp_per_purchase`.",
           "Last hint: divide the expected cost per coupon sent by the profit per incremental "
           "purchase; the result is an uplift (a fraction), comparable with the segment's."],
    solution=(
        "act = campaign[(campaign['segment_at_send'] == 'active') & campaign['treatment']]\n"
        "answer = act['redeemed'].mean() * 20 / gp_per_purchase"
    ),
)

q5 = Question(
    prompt="A Qini point by hand: target the customers with `recency_days >= 91`. How many "
    "**incremental buyers** does that produce: Y_T − Y_C · N_T / N_C over those customers "
    "(Y buyers, N customers, of the treated T and control C arms)?",
    kind=NumberAnswer(expected=_qini_point, rel_tol=1e-6),
    hints=["Keep the targeted rows first; every count is within them.",
           "Y_T is the number of treated buyers, N_T the number of treated customers; "
           "the same for control.",
           "Last hint: the control buyers are rescaled to the treated arm's size "
           "(× N_T / N_C) before subtracting; Y_T − Y_C alone is wrong when the arms differ."],
    solution=(
        "tgt = campaign[campaign['recency_days'] >= 91]\n"
        "yt, nt = tgt.loc[tgt['treatment'], 'purchased_30d'].agg(['sum', 'size'])\n"
        "yc, nc = tgt.loc[~tgt['treatment'], 'purchased_30d'].agg(['sum', 'size'])\n"
        "answer = yt - yc * nt / nc"
    ),
)

q6 = Question(
    prompt="Write a function `profit_per_coupon(campaign)` that returns the mean of "
    "`gross_profit_30d` among treated rows minus the mean among control rows, as a float, for "
    "any frame with columns `treatment` (bool) and `gross_profit_30d`.",
    kind=FunctionAnswer(profit_per_coupon, cases=_profit_cases, name="profit_per_coupon"),
    hints=["`campaign.groupby('treatment')['gross_profit_30d'].mean()` gives both means.",
           "Last hint: treated minus control, so a coupon that pays gives a positive number; "
           "return `float(...)`."],
    solution=(
        "def profit_per_coupon(campaign):\n"
        "    means = campaign.groupby('treatment')['gross_profit_30d'].mean()\n"
        "    return float(means[True] - means[False])\n"
        "answer = profit_per_coupon"
    ),
)
