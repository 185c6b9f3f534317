"""Exercises for 03_traffic/01_channels (lesson 03-1, channel economics and media mix, 渠道投放与 ROI).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (marketing_daily and customers as loaded), never
typed in. All five questions make the student compute: a quarter's CAC (q1), a normalised
geometric adstock by hand (q2), a Hill value at a fitted half-saturation point (q3), a
marginal ROAS by a central difference of the response curve (q4) and a lift test's
incremental ROAS from its per-user rows (q5, experiments table).
"""

from __future__ import annotations

import pandas as pd

from ecomlab import calendar, channels
from ecomlab.exercises import NumberAnswer, Question, data, derived

#: q1: channel and quarter whose CAC is asked.
Q1_CHANNEL, Q1_START, Q1_END = "live_stream", "2025-10-01", "2025-12-31"
#: q2: channel, days and decay of the adstock by hand.
Q2_CHANNEL, Q2_START, Q2_END, Q2_DECAY = "search_ads", "2025-01-01", "2025-01-07", 0.3
#: q3: channel and adstock level of the Hill value.
Q3_CHANNEL, Q3_ADSTOCK = "feed_ads", 600.0
#: q4: channel, window and step of the marginal ROAS.
Q4_CHANNEL, Q4_WINDOW, Q4_EPS = "short_video", 91, 0.01
#: q5: the conversion-lift test, its channel and its window (start, 28 days).
Q5_EXPERIMENT, Q5_CHANNEL, Q5_START, Q5_END = "lift_short_video", "short_video", "2025-08-04", "2025-08-31"


def _spend(channel: str) -> pd.Series:
    mk = data("marketing_daily")
    s = mk.loc[mk["channel"] == channel].set_index("date")["spend"].sort_index()
    s.index = pd.DatetimeIndex(s.index)
    if s.empty:
        raise ValueError(f"marketing_daily.channel has no rows for {channel!r}")
    return s


def _fit(channel: str) -> channels.MediaMixFit:
    def make():
        s = _spend(channel)
        cu = data("customers")
        y = cu.loc[cu["acquisition_channel"] == channel].groupby("first_order_date").size().astype(float)
        y.index = pd.DatetimeIndex(y.index)
        y = y.reindex(s.index, fill_value=0.0)
        promo = calendar.promotion_calendar(sorted(set(s.index.year)))
        return channels.fit_mmm(s.to_frame(channel), y, promo, baseline=False)
    return derived(("ch03_channels", "fit", channel), make)


def _value(channel: str) -> float:
    """The platform's revenue per attributed order of ``channel`` (the lesson's value per customer)."""
    mk = data("marketing_daily")
    m = mk.loc[mk["channel"] == channel]
    return float(m["platform_attributed_revenue"].sum() / m["platform_attributed_orders"].sum())


# -- q1 ---------------------------------------------------------------------------------
def _cac(start: str = Q1_START, end: str = Q1_END, whole: bool = False) -> float:
    s = _spend(Q1_CHANNEL)
    cu = data("customers")
    spend = s.sum() if whole else s.loc[start:end].sum()
    d = pd.to_datetime(cu["first_order_date"])
    n = ((cu["acquisition_channel"] == Q1_CHANNEL) & (d >= start) & (d <= end)).sum()
    return float(spend / n)


def _cac_platform() -> float:
    mk = data("marketing_daily")
    m = mk.loc[(mk["channel"] == Q1_CHANNEL) & (mk["date"] >= Q1_START) & (mk["date"] <= Q1_END)]
    return float(m["spend"].sum() / m["platform_attributed_orders"].sum())


q1 = Question(
    prompt=f"What was the **CAC** of `{Q1_CHANNEL}` from {Q1_START} to {Q1_END}: its spend in "
    "that quarter divided by the customers whose first order came through it in the quarter? CNY "
    "per new customer (within 0.1%).",
    kind=NumberAnswer(
        expected=_cac, rel_tol=1e-3,
        mistakes=[
            ("divided by the platform's attributed orders, not by new customers", _cac_platform),
            ("the whole two years' spend over the quarter's customers", lambda: _cac(whole=True)),
        ],
    ),
    hints=[
        "Spend: `mk` rows of the channel with dates in the quarter. Customers: `cu` rows with that "
        "acquisition_channel and first_order_date in the quarter.",
        "Last hint: spend.sum() / number of those customers.",
    ],
    solution=(f"q = mk.loc[(mk['channel'] == '{Q1_CHANNEL}') & (mk['date'] >= '{Q1_START}') & "
              f"(mk['date'] <= '{Q1_END}'), 'spend'].sum()\n"
              f"n = ((cu['acquisition_channel'] == '{Q1_CHANNEL}') & (cu['first_order_date'] >= '{Q1_START}') "
              f"& (cu['first_order_date'] <= '{Q1_END}')).sum()\nanswer = q / n"),
)


# -- q2 ---------------------------------------------------------------------------------
def _adstock(normalised: bool = True, decay: float = Q2_DECAY) -> float:
    x = _spend(Q2_CHANNEL).loc[Q2_START:Q2_END].to_numpy()
    return float(channels.geometric_adstock(x, decay, normalised=normalised)[-1])


q2 = Question(
    prompt=f"By hand: the **normalised** geometric adstock a_t = (1 − θ)·x_t + θ·a_(t−1) of "
    f"`{Q2_CHANNEL}` spend from {Q2_START} to {Q2_END} with θ = {Q2_DECAY}, starting from "
    "a = 0 before the first day. The adstock on the last day, CNY (within 0.1%).",
    kind=NumberAnswer(
        expected=_adstock, rel_tol=1e-3,
        mistakes=[
            ("Robyn's unnormalised recursion a_t = x_t + θ·a_(t−1): multiply by (1 − θ)",
             lambda: _adstock(normalised=False)),
            ("the decay and its complement swapped (θ = 0.7)", lambda: _adstock(decay=1 - Q2_DECAY)),
        ],
    ),
    hints=[
        "Take the seven spends in date order; loop a = 0.7 * x + 0.3 * a.",
        "Last hint: the value of a after the seventh day.",
    ],
    solution=(f"x = spend.loc['{Q2_START}':'{Q2_END}', '{Q2_CHANNEL}'].to_numpy()\na = 0.0\n"
              "for v in x:\n    a = 0.7 * v + 0.3 * a\nanswer = a"),
)


# -- q3 ---------------------------------------------------------------------------------
def _hill(robyn: bool = False) -> float:
    p = _fit(Q3_CHANNEL).params.loc[Q3_CHANNEL]
    k = p["half_saturation_robyn"] if robyn else p["half_saturation"]
    return float(channels.hill(Q3_ADSTOCK, float(k)))


q3 = Question(
    prompt=f"With the fitted half-saturation point K of `{Q3_CHANNEL}` (normalised units), what "
    f"is the Hill value h(a) = a / (a + K) at an adstock of {Q3_ADSTOCK:.0f} CNY a day? A fraction "
    "(within 0.5%).",
    kind=NumberAnswer(
        expected=_hill, rel_tol=5e-3,
        mistakes=[
            ("K in Robyn's units: the lesson's adstock is normalised", lambda: _hill(robyn=True)),
            ("K / (a + K): that is 1 − h", lambda: 1 - _hill()),
        ],
    ),
    hints=[
        f"K = fits['{Q3_CHANNEL}'].params.loc['{Q3_CHANNEL}', 'half_saturation'].",
        f"Last hint: {Q3_ADSTOCK:.0f} / ({Q3_ADSTOCK:.0f} + K).",
    ],
    solution=(f"K = fits['{Q3_CHANNEL}'].params.loc['{Q3_CHANNEL}', 'half_saturation']\n"
              f"answer = {Q3_ADSTOCK:.0f} / ({Q3_ADSTOCK:.0f} + K)"),
)


# -- q4 ---------------------------------------------------------------------------------
def _mroas(value: bool = True, average: bool = False) -> float:
    f = _fit(Q4_CHANNEL)
    if average:
        rc = channels.response_curve(f, Q4_CHANNEL, [1.0], window=Q4_WINDOW)
        r = rc["revenue"].iloc[0] / rc["spend"].iloc[0]
    else:
        r = float(channels.marginal_roas(f, window=Q4_WINDOW, eps=Q4_EPS).iloc[0])
    return float(r * (_value(Q4_CHANNEL) if value else 1.0))


q4 = Question(
    prompt=f"The **marginal ROAS** of `{Q4_CHANNEL}`: from `channels.response_curve` over the last "
    f"{Q4_WINDOW} days at multipliers {1 - Q4_EPS} and {1 + Q4_EPS}, the change in new customers "
    "over the change in spend, times the channel's value per order `value['short_video']` (platform "
    "revenue / platform orders). CNY per CNY "
    "(within 0.5%).",
    kind=NumberAnswer(
        expected=_mroas, rel_tol=5e-3,
        mistakes=[
            ("new customers per CNY: multiply by the value per order", lambda: _mroas(value=False)),
            ("the average ROAS (revenue / spend), not the slope", lambda: _mroas(average=True)),
        ],
    ),
    hints=[
        f"rc = channels.response_curve(fits['{Q4_CHANNEL}'], '{Q4_CHANNEL}', [0.99, 1.01], window=91)",
        "Last hint: (rc.revenue[1] − rc.revenue[0]) / (rc.spend[1] − rc.spend[0]) × value['short_video'].",
    ],
    solution=(f"rc = channels.response_curve(fits['{Q4_CHANNEL}'], '{Q4_CHANNEL}', [0.99, 1.01], window=91)\n"
              "answer = (rc['revenue'].iloc[1] - rc['revenue'].iloc[0]) / (rc['spend'].iloc[1] - "
              "rc['spend'].iloc[0]) * value['short_video']"),
)



def _lift(how: str = "right") -> float:
    ex = data("experiments")
    rows = ex.loc[ex["experiment_id"] == Q5_EXPERIMENT]
    by = rows.groupby(rows["variant"].astype(str))["revenue"].agg(["mean", "sum", "count"])
    s = float(_spend(Q5_CHANNEL).loc[Q5_START:Q5_END].sum())
    if how == "totals":
        return float(by.loc["treatment", "sum"] - by.loc["control", "sum"]) / s
    if how == "per_user":
        return float(by.loc["treatment", "mean"] - by.loc["control", "mean"])
    if how == "platform":
        mk = data("marketing_daily")
        m = (mk["channel"] == Q5_CHANNEL) & mk["date"].between(pd.Timestamp(Q5_START), pd.Timestamp(Q5_END))
        return float(mk.loc[m, "platform_attributed_revenue"].sum()) / s
    return float((by.loc["treatment", "mean"] - by.loc["control", "mean"]) * by.loc["treatment", "count"]) / s


q5 = Question(
    prompt=f"The **incremental ROAS** of `{Q5_CHANNEL}` measured by the conversion-lift test "
    f"(`experiment_id == '{Q5_EXPERIMENT}'` in `experiments`; control = holdout without the ads, "
    f"treatment = exposed) over its window {Q5_START} to {Q5_END}: the difference in revenue per "
    "user (exposed − holdout) times the number of exposed users, divided by the channel's spend in "
    "the window (from `marketing_daily`). CNY per CNY (within 0.5%).",
    kind=NumberAnswer(
        expected=_lift, rel_tol=5e-3,
        mistakes=[
            ("difference of the arms' TOTAL revenue: the arms differ in size; use revenue per user × exposed users",
             lambda: _lift("totals")),
            ("revenue per user difference only: multiply by the exposed users and divide by the window's spend",
             lambda: _lift("per_user")),
            ("the platform-reported ROAS of the window, not the experiment's", lambda: _lift("platform")),
        ],
    ),
    hints=[
        f"rows = ds.load('experiments').query(\"experiment_id == '{Q5_EXPERIMENT}'\"); "
        "rows.groupby('variant', observed=True)['revenue'].agg(['mean', 'count'])",
        f"Last hint: (mean_treatment − mean_control) × n_treatment / spend['{Q5_CHANNEL}'].loc['{Q5_START}':'{Q5_END}'].sum().",
    ],
    solution=(f"rows = ds.load('experiments', data_dir).query(\"experiment_id == '{Q5_EXPERIMENT}'\")\n"
              "by = rows.groupby('variant', observed=True)['revenue'].agg(['mean', 'count'])\n"
              f"s = spend['{Q5_CHANNEL}'].loc['{Q5_START}':'{Q5_END}'].sum()\n"
              "answer = (by.loc['treatment', 'mean'] - by.loc['control', 'mean']) * by.loc['treatment', 'count'] / s"),
)

QUESTIONS = [q1, q2, q3, q4, q5]
__all__ = ["q1", "q2", "q3", "q4", "q5", "QUESTIONS"]
