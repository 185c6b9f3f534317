"""The single definition of every KPI in the course.

Every notebook and helper computes its KPIs through these functions, so a number
called "CR" means the same thing everywhere. Rates are fractions in [0, 1]; format
them as percentages only for display.

Definitions used throughout (the identity ``GMV = UV x CR x spend per buyer`` holds exactly):

============================  ==========================================================
GMV 成交总额                   sum of ``paid_amount`` over *placed* orders (cancelled
                               orders excluded, later refunds included — the platform
                               convention; net sales subtract refunds)
UV 访客数                      distinct visitors in the period
CR 转化率                      buyers / UV (per visitor, not per session)
spend per buyer 客单价         GMV / buyers (per *buyer*: what the Chinese trade calls
                               客单价; :func:`spend_per_buyer`)
order value 笔单价             GMV / placed orders (per *order*: what English-language
                               tools call AOV, average order value; :func:`order_value`)
repurchase rate 复购率          share of a period's buyers with >= 2 orders in the period
return-purchase rate 回购率     share of period-1 buyers who buy again in period 2
CAC 获客成本                    spend / new customers acquired
ROAS 广告支出回报率 (投产比)     revenue / spend
ROI 投资回报率                   (incremental gross profit - cost) / cost
gross margin 毛利率             (revenue - cost of goods) / revenue
retention 留存率                active customers in period k / cohort size
============================  ==========================================================
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ecomlab.validation import require_columns

#: Order statuses that count as a *placed order* (下单且未取消) for GMV: every order that was
#: not cancelled. "Placed orders" means these everywhere in the course (lessons, helpers,
#: exercises); "orders" alone means every row of the orders table, whatever its status.
PLACED_STATUSES = ("completed", "refunded")
#: Order statuses that count as a *valid purchase* for customer analytics (RFM,
#: repurchase, LTV): the customer kept the goods.
VALID_STATUSES = ("completed",)

Number = float | int | np.ndarray | pd.Series


def _ratio(num: Number, den: Number, name: str, *, signed_num: bool = False,
           den_name: str = "denominator") -> Number:
    """num / den with NaN where den == 0 (a rate with no denominator is undefined).

    ``signed_num`` allows a negative numerator (profit, margin); the denominator must
    always be >= 0. A Series input keeps its index in the result.
    """
    num_a = np.asarray(num, dtype="float64")
    den_a = np.asarray(den, dtype="float64")
    if signed_num:
        if np.any(den_a < 0):
            raise ValueError(f"{name}: {den_name} must be >= 0")
    elif np.any(den_a < 0) or np.any(num_a < 0):
        raise ValueError(f"{name}: numerator and denominator must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den_a > 0, num_a / np.where(den_a > 0, den_a, 1.0), np.nan)
    if isinstance(num, pd.Series):
        return pd.Series(out, index=num.index, name=name)
    if isinstance(den, pd.Series):
        return pd.Series(out, index=den.index, name=name)
    return float(out) if out.ndim == 0 else out


def placed_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Placed orders: status in :data:`PLACED_STATUSES` (every order except cancelled ones).

    These are the orders GMV sums over and :func:`order_value` divides by.

    >>> df = pd.DataFrame({"status": ["completed", "cancelled", "refunded"]})
    >>> len(placed_orders(df))
    2
    """
    require_columns(orders, ["status"], "orders")
    return orders[orders["status"].isin(PLACED_STATUSES)]


def valid_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders that count as kept purchases: status in :data:`VALID_STATUSES`.

    Customer analytics (RFM, repurchase, LTV) use these: a cancelled or fully refunded
    order is not a purchase the customer kept.

    >>> df = pd.DataFrame({"status": ["completed", "cancelled", "refunded"]})
    >>> len(valid_orders(df))
    1
    """
    require_columns(orders, ["status"], "orders")
    return orders[orders["status"].isin(VALID_STATUSES)]


def gmv(orders: pd.DataFrame, amount: str = "paid_amount") -> float:
    """GMV 成交总额 = sum of ``amount`` over placed (non-cancelled) orders.

    >>> df = pd.DataFrame({"status": ["completed", "cancelled"], "paid_amount": [100.0, 50.0]})
    >>> gmv(df)
    100.0
    """
    require_columns(orders, ["status", amount], "orders")
    if not pd.api.types.is_numeric_dtype(orders[amount]):
        raise ValueError(f"orders[{amount!r}] must be numeric, got {orders[amount].dtype}")
    return float(placed_orders(orders)[amount].sum())


def conversion_rate(buyers: Number, visitors: Number) -> Number:
    """CR 转化率 = buyers / visitors (per visitor). NaN when there are no visitors.

    >>> conversion_rate(30, 1000)
    0.03
    """
    out = _ratio(buyers, visitors, "conversion_rate")
    if np.any(np.asarray(buyers, dtype=float) > np.asarray(visitors, dtype=float)):
        raise ValueError("conversion_rate: buyers cannot exceed visitors")
    return out


def spend_per_buyer(gmv_amount: Number, buyers: Number) -> Number:
    """Spend per buyer 客单价 = GMV / buyers (revenue per paying customer in the period).

    This is the Chinese 客单价: per *buyer*, so a customer who orders twice in the period
    counts once and both orders' amounts are in the numerator. It is the third factor of
    the KPI tree ``GMV = UV x CR x spend per buyer``. English-language tools' "AOV"
    (average order value) is per *order*: see :func:`order_value`; the two agree only
    when every buyer places one order. NaN when there are no buyers.

    >>> spend_per_buyer(3000.0, 20)
    150.0
    """
    return _ratio(gmv_amount, buyers, "spend_per_buyer")


def order_value(gmv_amount: Number, n_placed_orders: Number) -> Number:
    """Order value 笔单价 = GMV / placed orders (average value per *order*, "AOV" in English tools).

    Count placed orders with :func:`placed_orders` (cancelled excluded), the same
    orders GMV sums over. ``order_value <= spend_per_buyer`` always, since every buyer
    places at least one order. NaN when there are no orders.

    >>> order_value(3000.0, 25)
    120.0
    """
    return _ratio(gmv_amount, n_placed_orders, "order_value")


def cac(spend: Number, new_customers: Number) -> Number:
    """CAC 获客成本 = marketing spend / new customers acquired.

    >>> cac(5000.0, 100)
    50.0
    """
    return _ratio(spend, new_customers, "cac")


def roas(revenue: Number, spend: Number) -> Number:
    """ROAS 广告支出回报率 (often called 投产比) = revenue / spend.

    >>> roas(12000.0, 4000.0)
    3.0
    """
    return _ratio(revenue, spend, "roas")


def roi(incremental_gross_profit: Number, cost: Number) -> Number:
    """ROI 投资回报率 = (incremental gross profit - cost) / cost.

    Unlike ROAS it uses profit, not revenue, and nets out the cost: ROI > 0 means the
    programme earned back more than it cost.

    >>> roi(15000.0, 10000.0)
    0.5
    """
    profit = np.asarray(incremental_gross_profit, dtype="float64") - np.asarray(cost, dtype="float64")
    return _ratio(profit, cost, "roi", signed_num=True, den_name="cost")


def gross_margin(revenue: Number, cogs: Number) -> Number:
    """Gross margin 毛利率 = (revenue - cost of goods) / revenue.

    >>> gross_margin(200.0, 120.0)
    0.4
    """
    profit = np.asarray(revenue, dtype="float64") - np.asarray(cogs, dtype="float64")
    return _ratio(profit, revenue, "gross_margin", signed_num=True, den_name="revenue")


def retention(active: Number, cohort_size: Number) -> Number:
    """Retention 留存率 = customers of a cohort active in period k / cohort size.

    >>> retention(25, 100)
    0.25
    """
    out = _ratio(active, cohort_size, "retention")
    if np.any(np.asarray(active, dtype=float) > np.asarray(cohort_size, dtype=float)):
        raise ValueError("retention: active cannot exceed cohort_size")
    return out


def _order_counts(orders: pd.DataFrame, customer: str) -> pd.Series:
    return orders.groupby(customer, observed=True).size()


def _known_customers(orders: pd.DataFrame, customer: str, metric: str) -> pd.DataFrame:
    """The rows with a customer; rows without one are left out and counted in a warning
    (an order nobody can be matched to is neither a buyer nor a repeat buyer)."""
    missing = orders[customer].isna()
    n = int(missing.sum())
    if n:
        warnings.warn(f"{metric}: left out {n:,} order(s) with a missing {customer!r} "
                      f"(e.g. row {orders.index[missing.to_numpy()][0]!r})", UserWarning, stacklevel=3)
        return orders[~missing.to_numpy()]
    return orders


def repurchase_rate(
    orders: pd.DataFrame,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    customer: str = "customer_id",
    ts: str = "order_ts",
) -> float:
    """Repurchase rate 复购率 = buyers with >= 2 orders in [start, end) / buyers in it.

    Counts *orders* (not days): two orders on one day count as a repurchase. Pass
    valid orders (see :func:`valid_orders`). Orders without a customer are left out with a
    warning that counts them (as :func:`return_purchase_rate` and the engines do).

    >>> df = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                    "order_ts": pd.to_datetime(["2025-01-02", "2025-02-01", "2025-01-05"])})
    >>> repurchase_rate(df)
    0.5
    """
    require_columns(orders, [customer, ts], "orders")
    o = _known_customers(_window(orders, ts, start, end), customer, "repurchase_rate")
    counts = _order_counts(o, customer)
    if len(counts) == 0:
        return float("nan")
    return float((counts >= 2).mean())


def return_purchase_rate(
    orders: pd.DataFrame,
    period1: tuple[str | pd.Timestamp, str | pd.Timestamp],
    period2: tuple[str | pd.Timestamp, str | pd.Timestamp],
    *,
    customer: str = "customer_id",
    ts: str = "order_ts",
) -> float:
    """Return-purchase rate 回购率 = period-1 buyers who also buy in period 2 / period-1 buyers.

    Periods are half-open ``[start, end)``. Orders without a customer are left out with a
    warning that counts them.

    >>> df = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                    "order_ts": pd.to_datetime(["2025-01-02", "2025-02-01", "2025-01-05"])})
    >>> return_purchase_rate(df, ("2025-01-01", "2025-02-01"), ("2025-02-01", "2025-03-01"))
    0.5
    """
    require_columns(orders, [customer, ts], "orders")
    o = _known_customers(orders, customer, "return_purchase_rate")
    b1 = pd.Index(_window(o, ts, *period1)[customer].unique())
    b2 = pd.Index(_window(o, ts, *period2)[customer].unique())
    if len(b1) == 0:
        return float("nan")
    # hash lookup (Index.isin on Arrow strings loops in Python in pandas 3)
    return float((b2.get_indexer(b1) >= 0).mean())


def _window(df: pd.DataFrame, ts: str, start, end) -> pd.DataFrame:
    if not pd.api.types.is_datetime64_any_dtype(df[ts]):
        raise ValueError(f"column {ts!r} must be datetime, got {df[ts].dtype}")
    mask = pd.Series(True, index=df.index)
    if start is not None:
        mask &= df[ts] >= pd.Timestamp(start)
    if end is not None:
        mask &= df[ts] < pd.Timestamp(end)
    return df[mask]
