"""Exercises for 04_private_domain/05_fan_groups (lesson 04-5, fan groups: did they cause
repurchase? 私域社群的因果评估).

Every expected answer is computed at run time from :func:`ecomlab.exercises.data` (the data
chosen by :func:`ecomlab.exercises.use_data`) with the :mod:`ecomlab.causal` helpers, on the
lesson's design: the dates below are the lesson's parameters, passed explicitly.

- q1 — a Poisson DiD by hand: the ratio of ratios of the four weighted cell rates of the
  matched panel (the saturated Poisson model's estimate).
- q2 — the standardised mean difference (SMD) of ``crm_orders`` before matching.
- q3 — write ``smd(x, treated, weights)``: the SMD after weighting, with the unweighted
  pooled SD.
- q4 — a placebo DiD: 2025 Q1 → Q2 on the matched monthly panel (nothing happened).
- q5 — why months used to select and match the groups cannot test parallel trends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecomlab import causal
from ecomlab.exercises import (
    Case,
    FunctionAnswer,
    LabelAnswer,
    NumberAnswer,
    Question,
    data,
    derived,
)

#: The lesson's design (its parameters cell): programme start, CRM snapshot, end of data.
PROGRAMME_START = "2025-07-01"
CRM_DATE = "2025-01-01"
DATA_END = "2026-01-01"
#: The CRM view the invitations were built from: the matching covariates.
CRM_VIEW = ("crm_orders", "crm_recency_days", "crm_member")

#: Options of q5.
REASONS = [
    "they were used to select and match the groups",
    "there are too few orders in 2024",
    "the fan groups already existed in 2024",
    "parallel trends can only be tested after the programme starts",
]


def _prepost() -> pd.DataFrame:
    """The lesson's pre (2025 H1) / post (after joining) panel, without weights."""
    return derived(("ch04_fan_groups", "prepost"), lambda: causal.fan_group_panel(
        data("orders"), data("customers"), PROGRAMME_START, (CRM_DATE, PROGRAMME_START),
        (PROGRAMME_START, DATA_END), crm_date=CRM_DATE))


def _units() -> pd.DataFrame:
    """One row per customer: joined, the CRM view, tenure and the CEM weight."""

    def make() -> pd.DataFrame:
        p = _prepost()
        units = p.loc[p["post"] == 1, ["customer_id", "joined", *CRM_VIEW, "tenure_days"]].reset_index(drop=True)
        units["weight"] = causal.cem_weights(units, covariates=CRM_VIEW).to_numpy()
        return units

    return derived(("ch04_fan_groups", "units"), make)


def _panel() -> pd.DataFrame:
    """The lesson's pre/post panel with the matching weight."""
    return derived(("ch04_fan_groups", "panel"), lambda: _prepost().merge(
        _units()[["customer_id", "weight"]], on="customer_id", validate="many_to_one"))


def _monthly() -> pd.DataFrame:
    return derived(("ch04_fan_groups", "monthly"), lambda: causal.customer_period_panel(
        data("orders"), _units()[["customer_id", "joined", "weight"]], start=CRM_DATE, end=DATA_END))


def _matched_did() -> float:
    return causal.did_estimate(_panel(), weights="weight").relative_effect


def _raw_did() -> float:
    return causal.did_estimate(_prepost()).relative_effect


def _per_customer_did() -> float:
    p = _panel()
    m = (p["orders"] / p["exposure_days"]).groupby([p["joined"], p["post"]]).mean()
    return float((m[1, 1] / m[1, 0]) / (m[0, 1] / m[0, 0]) - 1)


def _crm_orders_by_group() -> pd.api.typing.SeriesGroupBy:
    return _units().groupby("joined")["crm_orders"]


def _smd_unstandardised() -> float:
    g = _crm_orders_by_group().mean()
    return float(g[1] - g[0])


def _smd_mean_of_sds() -> float:
    g = _crm_orders_by_group()
    return float((g.mean()[1] - g.mean()[0]) / ((g.std()[1] + g.std()[0]) / 2))


def _placebo_with_programme_months() -> float:
    m = _monthly()
    m = m.assign(after=m["period"] >= "2025-04-01", wy=m["weight"] * m["orders"], we=m["weight"] * m["exposure_days"])
    cell = m.groupby(["joined", "after"])[["wy", "we"]].sum()
    r = cell["wy"] / cell["we"]
    return float((r[1, True] / r[1, False]) / (r[0, True] / r[0, False]) - 1)


def _smd_before() -> float:
    t = causal.balance_table(_units(), covariates=["crm_orders"]).set_index("covariate")
    return float(t.loc["crm_orders", "smd_before"])


def _placebo_q1_q2() -> float:
    months = pd.date_range(CRM_DATE, periods=6, freq="MS")
    r = causal.placebo_tests(_monthly(), {"Q1 → Q2": (list(months[:3]), list(months[3:]))}, weights="weight")
    return float(r.loc[0, "relative_effect"])


def smd(x, treated, weights) -> float:
    """Standardised mean difference after weighting, unweighted pooled SD (Austin 2009).

    >>> round(smd([2.0, 4.0, 0.0, 2.0], [1, 1, 0, 0], [1.0, 1.0, 0.0, 2.0]), 3)
    0.707
    """
    x, t, w = np.asarray(x, float), np.asarray(treated).astype(bool), np.asarray(weights, float)
    sd = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
    return float((np.average(x[t], weights=w[t]) - np.average(x[~t], weights=w[~t])) / sd)


def _smd_cases() -> list[Case]:
    u = _units()
    tiny = Case(np.array([2.0, 4.0, 0.0, 2.0]), np.array([1, 1, 0, 0]), np.array([1.0, 1.0, 0.0, 2.0]))
    return [tiny] + [Case(u[c], u["joined"], u["weight"]) for c in ("crm_orders", "crm_recency_days", "tenure_days")]


q1 = Question(
    prompt="A Poisson DiD by hand. On the matched `panel` (columns `joined`, `post`, `orders`, "
    "`exposure_days`, `weight`), compute each of the four cells' weighted rate "
    "Σ weight·orders / Σ weight·exposure_days (by `joined` × `post`), then "
    "(rate₁,after / rate₁,before) / (rate₀,after / rate₀,before) − 1.",
    kind=NumberAnswer(expected=_matched_did, rel_tol=1e-4, mistakes=[
        ("the unweighted (raw) DiD: weight each row by `weight`", _raw_did),
        ("a ratio of mean per-customer rates: sum orders and exposure per cell first", _per_customer_did)]),
    hints=["Add columns `weight * orders` and `weight * exposure_days`, then "
           "`groupby(['joined', 'post'])[[...]].sum()`.",
           "Divide the two sums cell by cell: four rates. Do not average per-customer rates, "
           "and do not forget the weights (without them you get the raw DiD).",
           "Last hint: joiners' after/before ratio divided by non-joiners', minus 1; it equals "
           "`causal.did_estimate(panel, weights='weight').relative_effect`."],
    solution=(
        "w = panel.assign(wy=panel['weight'] * panel['orders'], we=panel['weight'] * panel['exposure_days'])\n"
        "cell = w.groupby(['joined', 'post'])[['wy', 'we']].sum()\n"
        "r = cell['wy'] / cell['we']\n"
        "answer = (r[1, 1] / r[1, 0]) / (r[0, 1] / r[0, 0]) - 1"
    ),
)

q2 = Question(
    prompt="In `units` (one row per customer), what was the standardised mean difference of "
    "`crm_orders` between joiners and non-joiners **before** matching: (mean of joiners − mean "
    "of non-joiners) / √((variance of joiners + variance of non-joiners) / 2), sample variances?",
    kind=NumberAnswer(expected=_smd_before, rel_tol=1e-4, mistakes=[
        ("the raw difference in means: divide by the pooled standard deviation", _smd_unstandardised),
        ("divided by the mean of the two SDs: average the variances, then take the root", _smd_mean_of_sds),
        ("non-joiners minus joiners: the sign is joiners minus non-joiners", lambda: -_smd_before())]),
    hints=["`units.groupby('joined')['crm_orders']` gives both groups; `.mean()` and `.var()`.",
           "Average the two *variances*, then take the square root (not the average of SDs).",
           "Last hint: joiners minus non-joiners, so a positive number means joiners had more orders."],
    solution=(
        "g = units.groupby('joined')['crm_orders']\n"
        "answer = (g.mean()[1] - g.mean()[0]) / np.sqrt((g.var()[1] + g.var()[0]) / 2)"
    ),
)

q3 = Question(
    prompt="Write `smd(x, treated, weights)`: the weighted means of `x` among treated and "
    "control rows (`np.average(..., weights=...)`), their difference (treated − control) divided "
    "by the **unweighted** pooled standard deviation √((var_treated + var_control) / 2) with "
    "sample variances. It must work on NumPy arrays and pandas Series.",
    kind=FunctionAnswer(smd, cases=_smd_cases, rtol=1e-6, name="smd"),
    hints=["Convert first: `x = np.asarray(x, float)`, `t = np.asarray(treated).astype(bool)`, "
           "`w = np.asarray(weights, float)`.",
           "The denominator ignores the weights (`x[t].var(ddof=1)`), so before and after are on "
           "one scale.",
           "Last hint: `(np.average(x[t], weights=w[t]) - np.average(x[~t], weights=w[~t])) / sd`."],
    solution=(
        "def smd(x, treated, weights):\n"
        "    x, t, w = np.asarray(x, float), np.asarray(treated).astype(bool), np.asarray(weights, float)\n"
        "    sd = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)\n"
        "    return float((np.average(x[t], weights=w[t]) - np.average(x[~t], weights=w[~t])) / sd)\n"
        "answer = smd"
    ),
)

q4 = Question(
    prompt="A placebo estimate. On the matched `monthly` panel, pretend the programme started on "
    "2025-04-01: with January–March 2025 as *before* and April–June 2025 as *after* (ignore the "
    "later months), compute the weighted DiD (ratio of ratios − 1) of the four cell rates "
    "Σ weight·orders / Σ weight·exposure_days.",
    kind=NumberAnswer(expected=_placebo_q1_q2, rel_tol=1e-4, mistakes=[
        ("with the programme months (July–December) in 'after': keep January–June only",
         _placebo_with_programme_months)]),
    hints=["Keep `period < '2025-07-01'`, then flag `after = period >= '2025-04-01'`.",
           "The same ratio of ratios as in Q1, with `after` in place of `post`.",
           "Last hint: a good design gives a number near 0 here; "
           "`causal.placebo_tests(monthly, {...}, weights='weight')` gives the same number."],
    solution=(
        "h1 = monthly[monthly['period'] < '2025-07-01']\n"
        "m = h1.assign(after=h1['period'] >= '2025-04-01', wy=h1['weight'] * h1['orders'],\n"
        "              we=h1['weight'] * h1['exposure_days'])\n"
        "cell = m.groupby(['joined', 'after'])[['wy', 'we']].sum()\n"
        "r = cell['wy'] / cell['we']\n"
        "answer = (r[1, True] / r[1, False]) / (r[0, True] / r[0, False]) - 1"
    ),
)

q5 = Question(
    prompt="Why can the months of 2024 not test parallel trends for the comparison matched on the "
    f"CRM view of {CRM_DATE}? One of: {', '.join(repr(r) for r in REASONS)}.",
    kind=LabelAnswer(REASONS[0], choices=REASONS),
    hints=["What do `crm_orders` and `crm_recency_days` summarise?",
           "Last hint: a test must use information the selection (and the matching) did not use."],
    solution=f"answer = {REASONS[0]!r}",
)
