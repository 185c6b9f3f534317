"""Exercises for 05_data_iteration/01_kpi_tree (KPI tree and monitoring, 指标体系与监控).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (the events cleaned with
:func:`ecomlab.traffic.clean_events`, the orders as loaded), never typed in.
"""

from __future__ import annotations

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
NORMAL_DAY = "2025-11-18"


def _events() -> pd.DataFrame:
    raw = data("events")
    return derived(("ch05_kpi", ("events",)), lambda: traffic.clean_events(raw)[0])


def _daily(by: str | None = None) -> pd.DataFrame:
    ev, od = _events(), data("orders")
    return derived(("ch05_kpi", ("daily", by)), lambda: kpi.daily_kpis(ev, od, by=by))


def _day(table: pd.DataFrame, day: str) -> pd.DataFrame:
    return table[table["date"] == pd.Timestamp(day)].drop(columns="date")


# -- q1 ---------------------------------------------------------------------------------
def _android_cr() -> float:
    d = _daily("device")
    row = d[(d["date"] == pd.Timestamp(INCIDENT_DAY)) & (d["device"].astype(str) == "android")]
    return float(row["cr"].iloc[0])


q1 = Question(
    prompt=f"What was the conversion rate (CR 转化率, buyers / UV, per visitor) of **Android** "
    f"visitors on {INCIDENT_DAY}? Give a fraction in [0, 1].",
    kind=NumberAnswer(expected=_android_cr, abs_tol=1e-4),
    hints=[
        "Build the daily KPI table by device: `kpi.daily_kpis(events, orders, by='device')`.",
        "Pick the row with `date == '2025-11-20'` and `device == 'android'`; read its `cr`.",
    ],
    solution=(
        "d = kpi.daily_kpis(events, orders, by='device')\n"
        "answer = d.loc[(d['date'] == '2025-11-20') & (d['device'] == 'android'), 'cr'].item()"
    ),
)


# -- q2 ---------------------------------------------------------------------------------
def _wow_cr_effect() -> float:
    ev, od = _events(), data("orders")
    w1 = kpi.period_kpis(ev, od, start="2025-11-17", end="2025-11-24")
    w2 = kpi.period_kpis(ev, od, start="2025-11-24", end="2025-12-01")
    return float(kpi.decompose_change(w1, w2)["cr_effect"].iloc[0])


q2 = Question(
    prompt="Week over week (环比): compare the week **Nov 24-30** with the week before "
    "(**Nov 17-23**). Split the GMV change into UV, CR and AOV effects with LMDI. "
    "What is the **CR effect**, in CNY?",
    kind=NumberAnswer(expected=_wow_cr_effect, abs_tol=1.0),
    hints=[
        "UV of a week is the number of *distinct* visitors in the week, not the sum of daily "
        "UV: use `kpi.period_kpis(events, orders, start=..., end=...)` (end is exclusive).",
        "`kpi.decompose_change(week_before, week_after)` — before first, after second.",
    ],
    solution=(
        "w1 = kpi.period_kpis(events, orders, start='2025-11-17', end='2025-11-24')\n"
        "w2 = kpi.period_kpis(events, orders, start='2025-11-24', end='2025-12-01')\n"
        "answer = kpi.decompose_change(w1, w2)['cr_effect'].item()"
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
def lmdi_reference(before: dict, after: dict) -> pd.Series:
    """LMDI-I effects of uv, cr, aov (a Series indexed uv, cr, aov), in CNY."""
    r = kpi.decompose_change(before, after)
    return pd.Series({f: float(r[f"{f}_effect"]) for f in ("uv", "cr", "aov")})


def _lmdi_cases() -> list[Case]:
    d = _daily().set_index("date")
    row = lambda day: {k: float(d.loc[pd.Timestamp(day), k]) for k in ("uv", "cr", "aov")}  # noqa: E731
    return [
        Case(row(NORMAL_DAY), row(DOUBLE11)),
        Case(row(WEEK_BEFORE), row(INCIDENT_DAY)),
        Case({"uv": 1000.0, "cr": 0.04, "aov": 200.0}, {"uv": 1000.0, "cr": 0.03, "aov": 200.0}),
        # GMV unchanged but its drivers moved: L(a, a) = a, not 0/0
        Case({"uv": 1000.0, "cr": 0.04, "aov": 200.0}, {"uv": 2000.0, "cr": 0.02, "aov": 200.0}),
    ]


q4 = Question(
    prompt="Write `lmdi(before, after)`: given two dicts with keys `uv`, `cr`, `aov`, return a "
    "`pd.Series` indexed `['uv', 'cr', 'aov']` with each factor's LMDI contribution to the "
    "GMV change, `L(GMV1, GMV0) * ln(x1 / x0)`, where `L(a, b) = (a - b) / ln(a / b)`. "
    "The three must add up exactly to GMV1 - GMV0. (All factors are > 0 here.)",
    kind=FunctionAnswer(lmdi_reference, cases=_lmdi_cases, rtol=1e-6, atol=1e-6, name="lmdi"),
    hints=[
        "GMV = uv * cr * aov for each period; L = (g1 - g0) / math.log(g1 / g0).",
        "When g1 == g0 the formula is 0/0: the logarithmic mean of two equal numbers is the "
        "number itself, L(a, a) = a.",
    ],
    solution=(
        "def lmdi(before, after):\n"
        "    g0 = before['uv'] * before['cr'] * before['aov']\n"
        "    g1 = after['uv'] * after['cr'] * after['aov']\n"
        "    L = g0 if g1 == g0 else (g1 - g0) / math.log(g1 / g0)\n"
        "    return pd.Series({f: L * math.log(after[f] / before[f]) for f in ['uv', 'cr', 'aov']})"
    ),
)


# -- q5 ---------------------------------------------------------------------------------
def _metrics_alerting_on_double11_without_calendar() -> list[str]:
    al = kpi.anomaly_alerts(_daily(), baseline="centered", calendar=[])
    return sorted(al.loc[al["date"] == pd.Timestamp(DOUBLE11), "metric"].astype(str).unique())


q5 = Question(
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

__all__ = ["q1", "q2", "q3", "q4", "q5", "lmdi_reference"]
