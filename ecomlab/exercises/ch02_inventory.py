"""Exercises for 02_product/03_inventory (lesson 02-3, inventory and forecasting, 库存与预测).

Every expected answer is computed from the data chosen by
:func:`ecomlab.exercises.use_data` (``inventory`` and ``products`` as loaded), never
typed in. All five make the student compute a method: a safety stock (q1), a reorder
point (q2), a newsvendor critical ratio (q3) and quantity (q4), and the MASE of a
seasonal-naive forecast (q5). The SKU is the one with the most units sold
(:func:`q_sku`); the demand statistics use the ordinary (non-promotion) days without a
stockout in the :data:`WINDOW_DAYS` days before :data:`DECISION`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ecomlab import calendar
from ecomlab.exercises import NumberAnswer, Question, data, derived

#: The 双11 ordering decision date (first day of the forecast hold-out).
DECISION = "2025-09-29"
#: Days before :data:`DECISION` whose daily sales give the demand statistics.
WINDOW_DAYS = 91
#: Cycle service level of q1/q2.
SERVICE = 0.95
#: q3: the 双11 price as a share of list price, holding rate a year, days held, markdown share.
PROMO_PRICE, HOLDING, CARRY_DAYS, MARKDOWN = 0.8, 0.25, 60, 0.10
#: q4: the 2024 双11 window and the demand sd as a share of its mean.
WINDOW_2024, CV = ("2024-10-31", "2024-11-11"), 0.3
#: q5: hold-out weeks and season length (weeks).
HORIZON, SEASON = 13, 52


def _inv() -> pd.DataFrame:
    return data("inventory")


def q_sku() -> str:
    """The SKU with the most units sold in the ``inventory`` table."""
    inv = _inv()
    return str(inv.groupby("sku_id")["units_sold"].sum().idxmax())


def daily_sales(sku: str | None = None) -> pd.Series:
    """Daily ``units_sold`` of ``sku`` (default :func:`q_sku`) on ordinary in-stock days of the window."""
    sku = q_sku() if sku is None else sku
    inv = _inv()
    end = pd.Timestamp(DECISION)
    start = end - pd.Timedelta(days=WINDOW_DAYS)
    s = inv[(inv["sku_id"] == sku) & (inv["date"] >= start) & (inv["date"] < end) & ~inv["stockout"]]
    cal = calendar.promotion_calendar(sorted(set(s["date"].dt.year)))
    promo = np.zeros(len(s), dtype=bool)
    for row in cal.itertuples():
        promo |= s["date"].between(row.start_date, row.end_date).to_numpy()
    return s.loc[~promo].set_index("date")["units_sold"].astype(float)


def _product(col: str) -> float:
    return float(data("products").set_index("sku_id").loc[q_sku(), col])


def safety() -> float:
    x = daily_sales()
    return float(stats.norm.ppf(SERVICE) * x.std() * np.sqrt(_product("lead_time_days")))


def rop() -> float:
    return float(daily_sales().mean() * _product("lead_time_days") + safety())


def _costs() -> tuple[float, float]:
    p, c = _product("list_price"), _product("unit_cost")
    return PROMO_PRICE * p - c, c * HOLDING * CARRY_DAYS / 365 + MARKDOWN * p


def ratio() -> float:
    cu, co = _costs()
    return cu / (cu + co)


def _m24() -> float:
    inv = _inv()
    return float(inv.loc[(inv["sku_id"] == q_sku()) & inv["date"].between(*WINDOW_2024), "units_sold"].sum())


def quantity() -> float:
    m = _m24()
    return float(m + CV * m * stats.norm.ppf(ratio()))


def _weekly() -> tuple[np.ndarray, np.ndarray]:
    inv = _inv()
    w = inv[inv["sku_id"] == q_sku()].set_index("date")["units_sold"].resample("W-SUN").sum()
    tr = w[w.index < DECISION].to_numpy(float)
    te = w[w.index >= DECISION].to_numpy(float)[:HORIZON]
    return tr, te


def mase_snaive() -> float:
    def calc():
        tr, te = _weekly()
        pred = tr[-SEASON:][np.arange(len(te)) % SEASON]
        return float(np.abs(te - pred).mean() / np.abs(tr[SEASON:] - tr[:-SEASON]).mean())
    return derived(("ch02_inventory", "mase", q_sku()), calc)


q1 = Question(
    prompt=f"Safety stock of `ex.q_sku()` for a {SERVICE:.0%} cycle service level: "
    "Φ⁻¹(0.95) × sample sd of daily sales × √(lead time), with `ex.daily_sales()` and the "
    "SKU's `lead_time_days` (lead time taken as certain). Units.",
    kind=NumberAnswer(expected=safety, rel_tol=1e-3,
                      mistakes=[("the sd of the daily sales without √(lead time)",
                                 lambda: safety() / np.sqrt(_product("lead_time_days"))),
                                ("z for 97.5% (1.96, a two-sided 95%) instead of 1.645",
                                 lambda: safety() * 1.959964 / stats.norm.ppf(SERVICE)),
                                ("the lead time multiplied, not its square root",
                                 lambda: safety() * np.sqrt(_product("lead_time_days")))]),
    hints=["σ_LTD = σ_d √L when the lead time is certain.",
           "Last hint: `stats.norm.ppf(0.95) * x.std() * np.sqrt(L)`."],
    solution="x = ex.daily_sales()\nL = products.loc[ex.q_sku(), 'lead_time_days']\n"
             "answer = stats.norm.ppf(0.95) * x.std() * np.sqrt(L)",
)

q2 = Question(
    prompt="Reorder point of the same SKU: mean daily sales × lead time + the q1 safety stock. Units.",
    kind=NumberAnswer(expected=rop, rel_tol=1e-3,
                      mistakes=[("the expected lead-time demand only: add the safety stock",
                                 lambda: rop() - safety()),
                                ("the safety stock only: add the expected lead-time demand", safety)]),
    hints=["ROP = d L + SS.", "Last hint: `x.mean() * L + safety_stock`."],
    solution="answer = x.mean() * L + stats.norm.ppf(0.95) * x.std() * np.sqrt(L)",
)

q3 = Question(
    prompt=f"Critical ratio of the 双11 pre-build of `ex.q_sku()`: c_u = {PROMO_PRICE:.0%} of list price − "
    f"unit cost; c_o = unit cost × {HOLDING:.0%} a year × {CARRY_DAYS}/365 + {MARKDOWN:.0%} of list price. "
    "A fraction.",
    kind=NumberAnswer(expected=ratio, abs_tol=1e-4,
                      mistakes=[("c_o / (c_u + c_o): the chance of a leftover, not of covering demand",
                                 lambda: 1 - ratio()),
                                ("c_u / c_o: divide by c_u + c_o", lambda: _costs()[0] / _costs()[1])]),
    hints=["Underage = margin lost per unit short; overage = cost of a unit left over.",
           "Last hint: `cu / (cu + co)`."],
    solution="p, c = products.loc[ex.q_sku(), ['list_price', 'unit_cost']]\n"
             "cu, co = 0.8 * p - c, c * 0.25 * 60 / 365 + 0.10 * p\nanswer = cu / (cu + co)",
)

q4 = Question(
    prompt="Newsvendor quantity: demand normal with mean = the SKU's `units_sold` in the 2024 双11 window "
    f"({WINDOW_2024[0]} to {WINDOW_2024[1]}, both included) and sd = {CV:.0%} of that mean; order at the q3 ratio. Units.",
    kind=NumberAnswer(expected=quantity, rel_tol=1e-3,
                      mistakes=[("the mean: the newsvendor stocks the critical-ratio quantile", _m24),
                                ("the quantile of 1 − ratio", lambda: _m24() + CV * _m24() * stats.norm.ppf(1 - ratio()))]),
    hints=["q* = μ + σ Φ⁻¹(ratio).", "Last hint: `m + 0.3 * m * stats.norm.ppf(ratio)`."],
    solution="m = inv.loc[(inv['sku_id'] == ex.q_sku()) & inv['date'].between('2024-10-31', '2024-11-11'), "
             "'units_sold'].sum()\nanswer = m + 0.3 * m * stats.norm.ppf(cu / (cu + co))",
)

q5 = Question(
    prompt="MASE of the seasonal-naive forecast (each hold-out week = the same week 52 weeks earlier) "
    f"for `ex.q_sku()`'s weekly `units_sold` (weeks ending Sunday; train before {DECISION}; the next "
    f"{HORIZON} weeks held out); scale = in-sample MAE of the lag-{SEASON} naive. A ratio.",
    kind=NumberAnswer(expected=mase_snaive, rel_tol=1e-3,
                      mistakes=[("the hold-out MAE in units: divide by the in-sample naive MAE",
                                 lambda: mase_snaive() * np.abs(_weekly()[0][SEASON:] - _weekly()[0][:-SEASON]).mean())]),
    hints=["Forecast for hold-out week h: the training value 52 weeks before it, `tr[-52:][:13]`.",
           "Last hint: `np.abs(te - pred).mean() / np.abs(tr[52:] - tr[:-52]).mean()`."],
    solution="w = inv[inv['sku_id'] == ex.q_sku()].set_index('date')['units_sold'].resample('W-SUN').sum()\n"
             "tr, te = w[w.index < '2025-09-29'].to_numpy(float), w[w.index >= '2025-09-29'].to_numpy(float)[:13]\n"
             "answer = np.abs(te - tr[-52:][:13]).mean() / np.abs(tr[52:] - tr[:-52]).mean()",
)

__all__ = ["DECISION", "WINDOW_DAYS", "q_sku", "daily_sales", "safety", "rop", "ratio", "quantity",
           "mase_snaive", "q1", "q2", "q3", "q4", "q5"]
