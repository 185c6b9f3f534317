"""Exercises for 05_data_iteration/01_kpi_tree (KPI tree and monitoring, 指标体系与监控).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (the events cleaned with
:func:`ecomlab.traffic.clean_events`, the orders as loaded), never typed in. Four of the
six questions make the student compute the method by hand (a CR from the raw tables, an
LMDI term, the whole LMDI split, a robust z-score); two read a helper's output.

- q1 — Android CR on the incident day, by hand from events and orders.
- q2 — the LMDI CR effect of a week-over-week (环比) change, by hand.
- q3 — which traffic source lost most GMV through conversion (drill-down).
- q4 — write the LMDI split as a function.
- q5 — the robust z-score of the incident day, by hand (median and MAD).
- q6 — which KPIs flood on 双11 without the promotion calendar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import kpi, traffic
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    SetAnswer,
    data,
    derived,
)
from ecomlab.schema import TRAFFIC_SOURCES

#: The days the questions are about (Nestwell's November 2025 behaviour log).
INCIDENT_DAY = "2025-11-20"
WEEK_BEFORE = "2025-11-13"
DOUBLE11 = "2025-11-11"
#: Nestwell's promotion windows that touch the log (passed to kpi explicitly: the helpers
#: have no built-in calendar).
PROMOTIONS = (("双11 Singles' Day", "2025-10-31", "2025-11-11"),)
#: Robust-z settings of lesson 05-1's monitor (centered baseline over a 28-day window).
WINDOW = 28
MAD_TO_SD = 1.4826


def _events() -> pd.DataFrame:
    raw = data("events")
    return derived(("ch05_kpi", ("events",)), lambda: traffic.clean_events(raw)[0])


def _daily(by: str | None = None) -> pd.DataFrame:
    ev, od = _events(), data("orders")
    return derived(("ch05_kpi", ("daily", by)), lambda: kpi.daily_kpis(ev, od, by=by))


def _day(table: pd.DataFrame, day: str) -> pd.DataFrame:
    return table[table["date"] == pd.Timestamp(day)].drop(columns="date")


def _android_daily() -> pd.DataFrame:
    d = _daily("device")
    return d[d["device"].astype(str) == "android"].set_index("date")


# -- q1 ---------------------------------------------------------------------------------
def _android_cr() -> float:
    return float(_android_daily().loc[pd.Timestamp(INCIDENT_DAY), "cr"])


def _android_orders_per_visitor() -> float:
    row = _android_daily().loc[pd.Timestamp(INCIDENT_DAY)]
    return float(row["orders"] / row["uv"])


q1 = Question(
    prompt=f"By hand, from the raw tables: what was the conversion rate (CR 转化率) of "
    f"**Android** visitors on {INCIDENT_DAY}? CR = buyers / UV, where UV = distinct "
    "`visitor_id` in the cleaned `events` with `device == 'android'` that day, and buyers = "
    "distinct `customer_id` of that day's **placed** orders (`metrics.placed_orders`: "
    "cancelled excluded) with `device == 'android'`. A fraction in [0, 1].",
    kind=NumberAnswer(expected=_android_cr, abs_tol=1e-6,
                      mistakes=[("placed orders per visitor, not distinct buyers per visitor",
                                 _android_orders_per_visitor)]),
    hints=[
        "Filter `events` on `events['ts'].dt.normalize() == '2025-11-20'` and "
        "`events['device'] == 'android'`; `.nunique()` the `visitor_id`.",
        "For buyers: `p = metrics.placed_orders(orders)`, the same day and device filters on "
        "`p['order_ts']` and `p['device']`, then `.nunique()` the `customer_id` (a customer "
        "who orders twice is one buyer).",
        "Divide buyers by UV; check with "
        "`kpi.daily_kpis(events, orders, by='device')` if you like.",
    ],
    solution=(
        "day = pd.Timestamp('2025-11-20')\n"
        "ev = events[(events['ts'].dt.normalize() == day) & (events['device'] == 'android')]\n"
        "p = metrics.placed_orders(orders)\n"
        "od = p[(p['order_ts'].dt.normalize() == day) & (p['device'] == 'android')]\n"
        "answer = od['customer_id'].nunique() / ev['visitor_id'].nunique()"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def _weeks() -> tuple[pd.DataFrame, pd.DataFrame]:
    ev, od = _events(), data("orders")
    return (kpi.period_kpis(ev, od, start="2025-11-17", end="2025-11-24"),
            kpi.period_kpis(ev, od, start="2025-11-24", end="2025-12-01"))


def _wow_laspeyres_cr() -> float:
    w1, w2 = _weeks()
    return float(w1["uv"].item() * (w2["cr"].item() - w1["cr"].item()) * w1["spend_per_buyer"].item())


def _wow_cr_effect() -> float:
    w1, w2 = _weeks()
    return float(kpi.decompose_change(w1, w2)["cr_effect"].iloc[0])


q2 = Question(
    prompt="Week over week (环比): compare the week **24-30 November** with the week before "
    "(**17-23 November**). Get each week's KPI tree with `kpi.period_kpis` (UV of a week "
    "counts each visitor once), then compute the **CR effect** of the LMDI split **by hand**: "
    "`L(GMV1, GMV0) * ln(CR1 / CR0)`, with `L(a, b) = (a - b) / ln(a / b)`. In CNY.",
    kind=NumberAnswer(expected=_wow_cr_effect, abs_tol=1.0,
                      mistakes=[("the CR effect with the weeks swapped (after over before gives the sign)",
                                 lambda: -_wow_cr_effect()),
                                ("the Laspeyres 'CR alone' term UV0 × ΔCR × SPB0, not the LMDI effect",
                                 _wow_laspeyres_cr)]),
    hints=[
        "`w1 = kpi.period_kpis(events, orders, start='2025-11-17', end='2025-11-24')` (end is "
        "exclusive), and `w2` for 24 November to 1 December.",
        "`g0, g1 = w1['gmv'].item(), w2['gmv'].item()`; `L = (g1 - g0) / math.log(g1 / g0)`.",
        "Multiply L by `math.log(w2['cr'].item() / w1['cr'].item())` — after over "
        "before, or the sign flips.",
    ],
    solution=(
        "w1 = kpi.period_kpis(events, orders, start='2025-11-17', end='2025-11-24')\n"
        "w2 = kpi.period_kpis(events, orders, start='2025-11-24', end='2025-12-01')\n"
        "g0, g1 = w1['gmv'].item(), w2['gmv'].item()\n"
        "L = (g1 - g0) / math.log(g1 / g0)\n"
        "answer = L * math.log(w2['cr'].item() / w1['cr'].item())"
    ),
)


# -- q3 ---------------------------------------------------------------------------------
SOURCES = TRAFFIC_SOURCES


def _source_with_largest_cr_loss() -> str:
    d = _daily("source")
    dd = kpi.drilldown(_day(d, WEEK_BEFORE), _day(d, INCIDENT_DAY)).drop(index="Total")
    return str(dd["cr_effect"].idxmin())


q3 = Question(
    prompt=f"Drill the change from {WEEK_BEFORE} to the incident day {INCIDENT_DAY} down by "
    "**traffic source**. Which source lost the most GMV through conversion (the most "
    "negative `cr_effect`)?",
    kind=LabelAnswer(_source_with_largest_cr_loss, choices=list(SOURCES)),
    hints=[
        "`d = kpi.daily_kpis(events, orders, by='source')`, then take the two days' rows "
        "without the `date` column.",
        "`kpi.drilldown(before, after)` gives one row per source with `cr_effect`; drop the "
        "`Total` row and use `idxmin()`.",
    ],
    solution=(
        "d = kpi.daily_kpis(events, orders, by='source')\n"
        "day = lambda s: d[d['date'] == s].drop(columns='date')\n"
        "dd = kpi.drilldown(day('2025-11-13'), day('2025-11-20')).drop(index='Total')\n"
        "answer = dd['cr_effect'].idxmin()"
    ),
)


# -- q4 ---------------------------------------------------------------------------------
FACTORS = ("uv", "cr", "spend_per_buyer")


def lmdi_reference(before: dict, after: dict) -> pd.Series:
    """LMDI-I effects of uv, cr, spend_per_buyer (a Series with those index labels), in CNY."""
    r = kpi.decompose_change(before, after)
    return pd.Series({f: float(r[f"{f}_effect"]) for f in FACTORS})


def _lmdi_cases() -> list[Case]:
    d = _daily().set_index("date")
    row = lambda day: {k: float(d.loc[pd.Timestamp(day), k]) for k in FACTORS}  # noqa: E731
    return [
        Case(row(WEEK_BEFORE), row(DOUBLE11)),
        Case(row(WEEK_BEFORE), row(INCIDENT_DAY)),
        Case({"uv": 1000.0, "cr": 0.04, "spend_per_buyer": 200.0},
             {"uv": 1000.0, "cr": 0.03, "spend_per_buyer": 200.0}),
        # GMV unchanged but its drivers moved: L(a, a) = a, not 0/0
        Case({"uv": 1000.0, "cr": 0.04, "spend_per_buyer": 200.0},
             {"uv": 2000.0, "cr": 0.02, "spend_per_buyer": 200.0}),
    ]


q4 = Question(
    prompt="Write `lmdi(before, after)`: given two dicts with keys `uv`, `cr`, "
    "`spend_per_buyer` (客单价, GMV per buyer), return a `pd.Series` indexed "
    "`['uv', 'cr', 'spend_per_buyer']` with each factor's LMDI contribution to the GMV "
    "change, `L(GMV1, GMV0) * ln(x1 / x0)`, where `L(a, b) = (a - b) / ln(a / b)`. The three "
    "must add up exactly to GMV1 - GMV0. (All factors are > 0 here.)",
    kind=FunctionAnswer(lmdi_reference, cases=_lmdi_cases, rtol=1e-6, atol=1e-6, name="lmdi"),
    hints=[
        "GMV = uv * cr * spend_per_buyer for each period; L = (g1 - g0) / math.log(g1 / g0).",
        "When g1 == g0 the formula is 0/0; the logarithmic mean of two equal "
        "numbers is the number itself, L(a, a) = a.",
    ],
    solution=(
        "def lmdi(before, after):\n"
        "    f = ['uv', 'cr', 'spend_per_buyer']\n"
        "    g0 = before['uv'] * before['cr'] * before['spend_per_buyer']\n"
        "    g1 = after['uv'] * after['cr'] * after['spend_per_buyer']\n"
        "    L = g0 if g1 == g0 else (g1 - g0) / math.log(g1 / g0)\n"
        "    return pd.Series({k: L * math.log(after[k] / before[k]) for k in f})"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def baseline_days(day: str | pd.Timestamp, available: pd.DatetimeIndex,
                  promo: pd.DatetimeIndex, window: int = WINDOW) -> pd.DatetimeIndex:
    """The days a centered baseline uses for ``day``: within ``window // 2`` days either
    side, in ``available``, not a promotion day, not ``day`` itself.

    >>> days = pd.date_range("2025-11-01", "2025-11-30")
    >>> promo = pd.date_range("2025-10-31", "2025-11-11")
    >>> b = baseline_days("2025-11-20", days, promo)
    >>> len(b), b.min().day, b.max().day
    (18, 12, 30)
    """
    day = pd.Timestamp(day)
    h = pd.Timedelta(days=window // 2)
    keep = ((available >= day - h) & (available <= day + h) & (available != day)
            & ~available.isin(promo))
    return available[keep]


def _robust_z_by_alerts() -> float:
    """The monitor's own robust z for Android CR on the incident day (no noise floor)."""
    al = kpi.anomaly_alerts(_daily("device"), by="device", metrics=["cr"], baseline="centered",
                            window=WINDOW, calendar=kpi.promo_days(PROMOTIONS), return_all=True)
    hit = al[(al["date"] == pd.Timestamp(INCIDENT_DAY)) & (al["segment"] == "android")]
    return float(hit["robust_z"].iloc[0])


def _z_parts() -> tuple[float, float, float]:
    """Median, MAD and the classic (mean/sd) z of Android CR on the incident day."""
    a = _android_daily()["cr"]
    base = a.loc[baseline_days(INCIDENT_DAY, a.index, kpi.promo_days(PROMOTIONS))]
    med = float(base.median())
    mad = float((base - med).abs().median())
    classic = (float(a.loc[pd.Timestamp(INCIDENT_DAY)]) - float(base.mean())) / float(base.std())
    return med, mad, classic


def _robust_z() -> float:
    med, mad, _ = _z_parts()
    x = float(_android_daily().loc[pd.Timestamp(INCIDENT_DAY), "cr"])
    z = (x - med) / max(MAD_TO_SD * mad, 0.01 * abs(med))
    if not np.isclose(z, _robust_z_by_alerts(), rtol=1e-9):  # pragma: no cover - a course bug
        raise RuntimeError("q5: the hand formula and kpi.anomaly_alerts disagree")
    return z


q5 = Question(
    prompt=f"By hand: the robust z-score of Android CR on {INCIDENT_DAY}. The baseline is "
    f"Android's daily CR on the days within 14 days either side, leaving out the day itself "
    "and the promotion days (双11 window, 31 October to 11 November): on the bundled data "
    "12-30 November without the 20th. Compute the median `m`, the MAD = median(|x - m|) of "
    "those days, and `z = (x - m) / (1.4826 * MAD)` for the 20th.",
    kind=NumberAnswer(expected=_robust_z, rel_tol=1e-4, abs_tol=1e-3,
                      mistakes=[("(x − m) / MAD without the factor 1.4826 that scales the MAD to a standard deviation",
                                 lambda: _robust_z() * MAD_TO_SD),
                                ("a classic z-score (mean and standard deviation), not the robust one",
                                 lambda: _z_parts()[2])]),
    hints=[
        "`a = by_device[by_device['device'] == 'android'].set_index('date')['cr']`.",
        "`base = a['2025-11-12':'2025-11-30'].drop(pd.Timestamp('2025-11-20'))`; "
        "`m = base.median()`; `mad = (base - m).abs().median()`.",
        "`(a['2025-11-20'] - m) / (1.4826 * mad)`; a drop gives a negative z.",
    ],
    solution=(
        "a = by_device[by_device['device'] == 'android'].set_index('date')['cr']\n"
        "base = a['2025-11-12':'2025-11-30'].drop(pd.Timestamp('2025-11-20'))\n"
        "m = base.median()\n"
        "mad = (base - m).abs().median()\n"
        "answer = (a[pd.Timestamp('2025-11-20')] - m) / (1.4826 * mad)"
    ),
)


# -- q6 ---------------------------------------------------------------------------------
def _metrics_alerting_on_double11_without_calendar() -> list[str]:
    al = kpi.anomaly_alerts(_daily(), baseline="centered", calendar=[])
    return sorted(al.loc[al["date"] == pd.Timestamp(DOUBLE11), "metric"].astype(str).unique())


q6 = Question(
    prompt="Switch the promotion calendar **off** (`calendar=[]`) and run "
    "`kpi.anomaly_alerts` on the *total* daily KPI table (all six KPIs, "
    "`baseline='centered'`). Which metrics raise an alert on 双11 (2025-11-11)? "
    "Give their names as a set, e.g. `{'uv', 'gmv'}`.",
    kind=SetAnswer(_metrics_alerting_on_double11_without_calendar, ignore_case=True),
    hints=[
        "`al = kpi.anomaly_alerts(daily, baseline='centered', calendar=[])`",
        "Keep the rows with `date == '2025-11-11'` and collect their `metric` column.",
    ],
    solution=(
        "al = kpi.anomaly_alerts(daily, baseline='centered', calendar=[])\n"
        "answer = set(al.loc[al['date'] == '2025-11-11', 'metric'])"
    ),
)

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "lmdi_reference", "baseline_days"]
