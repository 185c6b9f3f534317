"""Inventory policy: safety stock, reorder point, service levels, newsvendor, lost sales.

Formulas (normal lead-time demand; daily demand mean ``d``, sd ``σ_d``; lead time mean
``L``, sd ``σ_L`` in days):

- lead-time demand sd ``σ_LTD = sqrt(L σ_d² + d² σ_L²)`` (Silver, Pyke & Thomas,
  *Inventory and Production Management in Supply Chains*, 4th ed. 2017, §6.10; Chopra &
  Meindl, *Supply Chain Management*, ch. 12);
- safety stock ``SS = k σ_LTD`` and reorder point ``ROP = d L + SS``;
- cycle service level (P1, 周期服务水平) ``CSL = Φ(k)``: the share of replenishment cycles
  without a stockout;
- fill rate (P2, 满足率) ``1 − σ_LTD G(k) / Q`` with the unit normal loss function
  ``G(k) = φ(k) − k (1 − Φ(k))`` (Silver, Pyke & Thomas §6.7.3): the share of demand
  served from stock, for an order quantity ``Q``;
- newsvendor (报童模型): order ``q* = F⁻¹(c_u / (c_u + c_o))`` with underage cost ``c_u``
  (the margin lost per unit short) and overage cost ``c_o`` (cost of a unit left over:
  holding plus markdown loss) (Nahmias, *Production and Operations Analysis*, 6th ed.
  2009, §5.3).

:func:`lost_sales` estimates demand lost to stockouts from *censored* sales (what a shop
sees: units sold and a stockout flag) and :func:`simulate_policy` replays a reorder-point
policy on a demand history, counting both service measures for the same policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ecomlab.validation import require_columns

__all__ = [
    "lead_time_demand_sd", "safety_stock", "reorder_point", "normal_loss", "cycle_service_level",
    "fill_rate", "critical_ratio", "newsvendor_quantity", "lost_sales", "LostSales",
    "simulate_policy", "PolicyResult",
]


def _nonneg(name: str, value) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if np.isnan(a).any() or (a < 0).any():
        raise ValueError(f"{name} must be non-negative numbers, got {value!r}")
    return a


def _out(a: np.ndarray):
    return float(a) if np.ndim(a) == 0 else a


def lead_time_demand_sd(demand_sd, lead_time, demand_mean=0.0, lead_time_sd=0.0):
    """Standard deviation of demand over a random lead time: ``sqrt(L σ_d² + d² σ_L²)``.

    Demand per period i.i.d. (mean ``demand_mean``, sd ``demand_sd``), lead time in
    periods (mean ``lead_time``, sd ``lead_time_sd``), independent (Silver, Pyke & Thomas
    2017, §6.10). Chopra & Meindl's variable-lead-time example (d = 2,500, σ_d = 500,
    L = 7, σ_L = 7 days):

    >>> round(lead_time_demand_sd(500, 7, demand_mean=2500, lead_time_sd=7))
    17550
    """
    sd, lt = _nonneg("demand_sd", demand_sd), _nonneg("lead_time", lead_time)
    mu, slt = _nonneg("demand_mean", demand_mean), _nonneg("lead_time_sd", lead_time_sd)
    return _out(np.sqrt(lt * sd**2 + mu**2 * slt**2))


def _z(service_level) -> np.ndarray:
    s = np.asarray(service_level, dtype=float)
    if np.isnan(s).any() or (s <= 0).any() or (s >= 1).any():
        raise ValueError(f"service_level must be a fraction strictly between 0 and 1, got {service_level!r}")
    return stats.norm.ppf(s)


def safety_stock(service_level, demand_sd, lead_time, demand_mean=0.0, lead_time_sd=0.0):
    """Safety stock (安全库存) for a cycle service level: ``Φ⁻¹(CSL) · σ_LTD``.

    >>> round(safety_stock(0.90, 500, 7, demand_mean=2500, lead_time_sd=7))  # Chopra & Meindl
    22491
    >>> round(safety_stock(0.95, 10, 4), 2)   # 1.645 × 10 × √4
    32.9
    """
    return _out(_z(service_level) * lead_time_demand_sd(demand_sd, lead_time, demand_mean, lead_time_sd))


def reorder_point(demand_mean, lead_time, safety):
    """Reorder point (补货点): expected lead-time demand plus safety stock, ``d L + SS``.

    >>> reorder_point(2500, 2, 1000)
    6000.0
    """
    return _out(_nonneg("demand_mean", demand_mean) * _nonneg("lead_time", lead_time)
                + np.asarray(safety, dtype=float))


def normal_loss(k):
    """Unit normal loss ``G(k) = φ(k) − k (1 − Φ(k))`` = E[(Z − k)⁺] (Silver et al. table B.1).

    >>> round(normal_loss(0), 4), round(normal_loss(1), 4)
    (0.3989, 0.0833)
    """
    k = np.asarray(k, dtype=float)
    return _out(stats.norm.pdf(k) - k * stats.norm.sf(k))


def cycle_service_level(safety, sd_ltd):
    """Cycle service level (P1): ``Φ(SS / σ_LTD)``, the share of cycles without a stockout.

    Chopra & Meindl: ROP 6,000 against lead-time demand 5,000 ± 707 gives 92%:

    >>> round(cycle_service_level(1000, 707.1), 2)
    0.92
    """
    sd = _nonneg("sd_ltd", sd_ltd)
    if (sd == 0).any():
        raise ValueError("sd_ltd must be positive (with no uncertainty the service level is 0 or 1)")
    return _out(stats.norm.cdf(np.asarray(safety, dtype=float) / sd))


def fill_rate(safety, sd_ltd, order_qty):
    """Fill rate (P2): ``1 − σ_LTD G(SS / σ_LTD) / Q``, the share of demand served from stock.

    Backorder approximation (Silver, Pyke & Thomas §6.7.3); clipped at 0.

    >>> round(fill_rate(0, 100, 500), 3)    # k = 0: CSL 50%, but 92% of units served
    0.92
    """
    sd, q = _nonneg("sd_ltd", sd_ltd), _nonneg("order_qty", order_qty)
    if (sd == 0).any() or (q == 0).any():
        raise ValueError("sd_ltd and order_qty must be positive")
    k = np.asarray(safety, dtype=float) / sd
    return _out(np.clip(1 - sd * normal_loss(k) / q, 0, 1))


def critical_ratio(unit_margin, overage_cost):
    """Newsvendor critical ratio ``c_u / (c_u + c_o)``.

    ``unit_margin`` (c_u): profit lost per unit of unmet demand; ``overage_cost`` (c_o):
    loss per unit left over (holding until sold plus the markdown, cost − salvage).

    >>> critical_ratio(60, 20)
    0.75
    """
    cu, co = _nonneg("unit_margin", unit_margin), _nonneg("overage_cost", overage_cost)
    if ((cu + co) == 0).any():
        raise ValueError("unit_margin + overage_cost must be positive")
    return _out(cu / (cu + co))


def newsvendor_quantity(ratio, demand_mean=None, demand_sd=None, demand_sample=None):
    """Newsvendor order quantity ``F⁻¹(ratio)`` for normal demand or an empirical sample.

    Give ``demand_mean`` and ``demand_sd`` (normal) or ``demand_sample`` (the quantile of
    the sample, e.g. simulated or past promotion demand scaled to this year).

    >>> round(newsvendor_quantity(0.75, 100, 20), 2)   # 100 + 0.6745 × 20
    113.49
    >>> newsvendor_quantity(0.5, demand_sample=[80, 100, 120])
    100.0
    """
    r = np.asarray(ratio, dtype=float)
    if np.isnan(r).any() or (r <= 0).any() or (r >= 1).any():
        raise ValueError(f"ratio must be strictly between 0 and 1, got {ratio!r}")
    if demand_sample is not None:
        s = np.asarray(demand_sample, dtype=float)
        if s.size == 0 or np.isnan(s).any():
            raise ValueError("demand_sample must be a non-empty sample without NaN")
        return _out(np.quantile(s, r))
    if demand_mean is None or demand_sd is None:
        raise ValueError("give demand_mean and demand_sd, or demand_sample")
    return _out(np.asarray(demand_mean, float) + _nonneg("demand_sd", demand_sd) * stats.norm.ppf(r))


@dataclass(frozen=True)
class LostSales:
    """Result of :func:`lost_sales`: one row per SKU-day (``expected_demand``, ``lost``)."""

    table: pd.DataFrame
    n_censored: int
    iterations: int

    @property
    def total(self) -> float:
        return float(self.table["lost"].sum())


def lost_sales(inv: pd.DataFrame, sku: str = "sku_id", date: str = "date", sold: str = "units_sold",
               stockout: str = "stockout", tol: float = 1e-8, max_iter: int = 500) -> LostSales:
    """Demand lost to stockouts, estimated from censored sales.

    On a stockout day sales only show that demand was *at least* ``units_sold``. Fit
    Poisson demand ``μ_it = a_i b_t`` (a SKU level times a day level shared by all SKUs —
    promotions, weekdays) by maximum likelihood on the uncensored SKU-days (iterative
    proportional fitting, the closed-form Poisson ML updates), then for each stockout day
    take the expected demand beyond the sales, given demand exceeded them:
    ``E[D − s | D ≥ s] = μ P(D ≥ s − 1) / P(D ≥ s) − s`` for Poisson ``D`` (Nahmias 2009,
    §5.3 on lost sales; censored-demand estimation as in Conrad 1976, "Sales data and the
    estimation of demand", Oper. Res. Q. 27). A day level needs at least one uncensored SKU.

    >>> inv = pd.DataFrame({"sku_id": ["a", "b"] * 3, "date": np.repeat([1, 2, 3], 2),
    ...                     "units_sold": [4, 8, 4, 8, 1, 8], "stockout": [0, 0, 0, 0, 1, 0]})
    >>> res = lost_sales(inv)
    >>> round(res.total, 1)   # SKU a sells half of b: about 4 expected, 1 sold
    3.1
    """
    require_columns(inv, [sku, date, sold, stockout], "inv")
    if inv.empty:
        raise ValueError("inv is empty: no SKU-days to estimate lost sales from")
    if inv.duplicated([sku, date]).any():
        ex = inv.loc[inv.duplicated([sku, date]), [sku, date]].iloc[0].tolist()
        raise ValueError(f"inv has duplicate ({sku}, {date}) rows, e.g. {ex}")
    s_col = pd.to_numeric(inv[sold], errors="coerce")
    if s_col.isna().any() or (s_col < 0).any():
        raise ValueError(f"inv.{sold} must be non-negative numbers; found e.g. {inv.loc[s_col.isna() | (s_col < 0), sold].iloc[0]!r}")
    flag = inv[stockout]
    if flag.isna().any():
        raise ValueError(f"inv.{stockout} has missing values")
    S = inv.pivot(index=date, columns=sku, values=sold).astype(float)
    C = inv.assign(_c=flag.astype(bool)).pivot(index=date, columns=sku, values="_c")
    present = S.notna().to_numpy()
    cens = C.fillna(False).to_numpy(dtype=bool)
    obs = present & ~cens
    s = np.nan_to_num(S.to_numpy())
    w = obs.astype(float)
    a = np.ones(S.shape[1])
    b = np.ones(S.shape[0])
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007  (alternating Poisson ML updates)
        b_new = (s * w).sum(1) / np.maximum((w * a[None, :]).sum(1), 1e-12)
        a_new = (s * w).sum(0) / np.maximum((w * b_new[:, None]).sum(0), 1e-12)
        done = np.allclose(a_new, a, rtol=tol) and np.allclose(b_new, b, rtol=tol)
        a, b = a_new, b_new
        if done:
            break
    no_day = cens.any(1) & (w.sum(1) == 0)
    if no_day.any():
        raise ValueError(f"every SKU is out of stock on {S.index[no_day][0]}: no uncensored sales to estimate that day")
    mu = b[:, None] * a[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = mu * stats.poisson.sf(s - 2, mu) / stats.poisson.sf(s - 1, mu)
    lost = np.where(cens & present, np.maximum(np.nan_to_num(cond, nan=s) - s, 0), 0.0)
    table = pd.DataFrame({
        "expected_demand": pd.DataFrame(mu, index=S.index, columns=S.columns).stack(),
        "lost": pd.DataFrame(lost, index=S.index, columns=S.columns).stack(),
    }).reset_index()
    key = inv[[sku, date]].merge(table, on=[sku, date], how="left")
    return LostSales(table=key, n_censored=int((cens & present).sum()), iterations=it)


@dataclass(frozen=True)
class PolicyResult:
    """Result of :func:`simulate_policy`: per SKU cycles, stockout cycles, CSL and fill rate;
    days × SKUs arrays of units ``sold``, ``lost`` and ``stock`` left at the end of each day."""

    by_sku: pd.DataFrame
    sold: np.ndarray
    lost: np.ndarray
    stock: np.ndarray

    @property
    def cycle_service_level(self) -> float:
        return float(1 - self.by_sku["stockout_cycles"].sum() / max(self.by_sku["cycles"].sum(), 1))

    @property
    def fill_rate(self) -> float:
        d = self.sold.sum() + self.lost.sum()
        return float(self.sold.sum() / d) if d > 0 else float("nan")


def simulate_policy(demand: np.ndarray, lead_time, reorder_points: np.ndarray, order_qty: np.ndarray,
                    start_stock) -> PolicyResult:
    """Replay a continuous-review (ROP, Q) policy with lost sales on a demand history.

    ``demand``: days × SKUs units; ``reorder_points`` and ``order_qty``: days × SKUs
    (what the policy would have said each day) or one value per SKU; ``lead_time`` in
    days per SKU. Each day: receive, sell ``min(stock, demand)``, and if the inventory
    position (stock + on order) is at or below the reorder point, order ``Q``. A
    **cycle** runs from one order to the next; it is a stockout cycle if any demand was
    lost in it. Returns both service measures for the same policy: the cycle service
    level (share of cycles without a stockout) and the fill rate (share of units served).

    >>> r = simulate_policy(np.full((30, 1), 2), [3], np.array([8]), np.array([10]), [10])
    >>> r.cycle_service_level, r.fill_rate
    (1.0, 1.0)
    """
    D = np.asarray(demand, dtype=float)
    if D.ndim != 2 or D.shape[0] == 0:
        raise ValueError(f"demand must be a days × SKUs array, got shape {D.shape}")
    if np.isnan(D).any() or (D < 0).any():
        raise ValueError("demand must be non-negative numbers without NaN")
    n, m = D.shape
    lt = np.broadcast_to(np.asarray(lead_time, dtype=int), (m,))
    if (lt < 1).any():
        raise ValueError(f"lead_time must be at least 1 day, got {lead_time!r}")
    R = np.broadcast_to(np.asarray(reorder_points, dtype=float), (n, m))
    Q = np.broadcast_to(np.asarray(order_qty, dtype=float), (n, m))
    stock = np.broadcast_to(np.asarray(start_stock, dtype=float), (m,)).copy()
    pipe = np.zeros((n + int(lt.max()) + 1, m))
    on_order = np.zeros(m)
    sold, lost, held = np.zeros((n, m)), np.zeros((n, m)), np.zeros((n, m))
    cycles, bad = np.zeros(m), np.zeros(m)
    cycle_lost = np.zeros(m, dtype=bool)
    cols = np.arange(m)
    for t in range(n):  # the days are sequential; every SKU moves at once
        stock += pipe[t]
        on_order -= pipe[t]
        sold[t] = np.minimum(stock, D[t])
        lost[t] = D[t] - sold[t]
        stock -= sold[t]
        held[t] = stock
        cycle_lost |= lost[t] > 0
        order = stock + on_order <= R[t]
        bad += order & cycle_lost & (cycles > 0)
        cycles += order
        cycle_lost[order] = False
        pipe[t + lt[order], cols[order]] += Q[t, order]
        on_order += np.where(order, Q[t], 0)
    # cycles completed: between consecutive orders (the first order opens the first cycle)
    by_sku = pd.DataFrame({"cycles": np.maximum(cycles - 1, 0).astype(int), "stockout_cycles": bad.astype(int),
                           "units_demanded": D.sum(0), "units_lost": lost.sum(0)})
    by_sku["cycle_service_level"] = 1 - by_sku["stockout_cycles"] / by_sku["cycles"].where(by_sku["cycles"] > 0)
    by_sku["fill_rate"] = 1 - by_sku["units_lost"] / by_sku["units_demanded"].where(by_sku["units_demanded"] > 0)
    return PolicyResult(by_sku=by_sku, sold=sold, lost=lost, stock=held)
