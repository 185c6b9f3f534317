"""Cohorts, repurchase and historical LTV (lessons 04-2 and 04-3): :func:`cohort_matrix`,
:func:`calendar_effects`, :func:`time_to_second_purchase`, :func:`historical_ltv`,
:func:`ltv_cac`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ecomlab import metrics
from ecomlab.users._common import (
    _DAY_US,
    _WEEK_OFFSET_DAYS,
    _check_unique_ids,
    _codes,
    _group_min_max,
    _isin,
    _numeric,
    _prepare_orders,
    _require,
    _Result,
    _timestamps_us,
    _ts,
    _unique_keys,
    _us,
)


@dataclass(frozen=True, eq=False)
class CohortResult(_Result):
    """First-purchase cohorts x periods since the first purchase.

    Fields
    ------
    matrix : DataFrame indexed by cohort (first day of the cohort's month/week), columns
        0, 1, 2, ... periods since the first purchase; NaN where the period is after the
        end of the data (not observed — *not* zero). ``retention``: share of the cohort
        buying in the period (period 0 = 1); ``customers``: number buying; ``revenue``:
        paid amount of the cohort's purchases in the period.
    cohort_sizes : customers per cohort.
    metric, freq : the settings. last_period : first day of the last (possibly partial)
        period in the data. excluded : orders left out by reason.
    """

    matrix: pd.DataFrame
    cohort_sizes: pd.Series
    metric: str
    freq: str
    last_period: pd.Timestamp
    excluded: dict[str, int]

    def to_frame(self) -> pd.DataFrame:
        """The cohort matrix."""
        return self.matrix.copy()


def _data_end(ts_us: np.ndarray) -> pd.Timestamp:
    """Midnight after the last order: the end of the observed data."""
    return pd.Timestamp(int(ts_us.max()), unit="us").normalize() + pd.Timedelta(days=1)


def _check_in_data(t: pd.Timestamp, ts_us: np.ndarray, arg: str) -> None:
    """A reference date must lie in (first order, midnight after the last order]."""
    first = pd.Timestamp(int(ts_us.min()), unit="us")
    end = _data_end(ts_us)
    if _us(t) <= ts_us.min():
        raise ValueError(f"{arg}={t} is on/before the first order ({first}); expected a date inside the data")
    if t > end:
        raise ValueError(
            f"{arg}={t} is after the end of the data (last order {pd.Timestamp(int(ts_us.max()), unit='us')}; "
            f"latest allowed {end}): a date outside the data counts unobserved days as silence; "
            f"expected a date in ({first}, {end}]"
        )


def _period_index(ts_us: np.ndarray, freq: str) -> np.ndarray:
    if freq == "M":
        return ts_us.view("datetime64[us]").astype("datetime64[M]").view("int64")
    days = np.floor_divide(ts_us, _DAY_US)
    if freq == "W":
        return np.floor_divide(days - _WEEK_OFFSET_DAYS, 7)
    return days  # "D"


def _period_start(p: np.ndarray, freq: str) -> pd.DatetimeIndex:
    p = np.asarray(p, dtype=np.int64)
    if freq == "M":
        return pd.DatetimeIndex(p.view("datetime64[M]").astype("datetime64[us]"))
    days = p * 7 + _WEEK_OFFSET_DAYS if freq == "W" else p
    return pd.DatetimeIndex(days.astype("datetime64[D]").astype("datetime64[us]"))


def cohort_matrix(
    orders: pd.DataFrame,
    *,
    freq: str = "M",
    metric: str = "retention",
    statuses: Sequence[str] = metrics.VALID_STATUSES,
    amount: str = "paid_amount",
    check_ids: bool = True,
) -> CohortResult:
    """Cohort table: customers grouped by the month (or week) of their first purchase.

    Cell (c, k) counts the cohort-c customers with a purchase k periods after their
    first purchase's period (calendar months for ``freq="M"``, Monday weeks for
    ``"W"``). ``metric="retention"`` divides by the cohort size with
    :func:`ecomlab.metrics.retention` (so period 0 is exactly 1); ``"customers"`` keeps
    the counts; ``"revenue"`` sums ``amount``. Cells later than the last period in the
    data are NaN (not observed); the last period may be partial. Vectorised: codes +
    one ``bincount`` over (cohort, period) of the distinct (customer, period) pairs.

    >>> o = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2025-01-03", "2025-02-05", "2025-01-20"]),
    ...     "paid_amount": [10.0, 20.0, 30.0], "status": ["completed"] * 3})
    >>> cohort_matrix(o).matrix.to_numpy().tolist()
    [[1.0, 0.5]]
    """
    if freq not in ("M", "W"):
        raise ValueError(f"freq must be 'M' (months) or 'W' (weeks), got {freq!r}")
    if metric not in ("retention", "customers", "revenue"):
        raise ValueError(f"metric must be 'retention', 'customers' or 'revenue', got {metric!r}")
    po = _prepare_orders(
        orders, statuses=statuses, amount=amount if metric == "revenue" else None, check_ids=check_ids
    )
    k = len(po.customers)
    p = _period_index(po.ts_us, freq)
    first, _ = _group_min_max(po.codes, p, k)
    pmin, pmax = int(first.min()), int(p.max())
    n_coh, n_per = pmax - pmin + 1, pmax - pmin + 1
    coh_of_cust = first - pmin
    since = p - first[po.codes]
    sizes = np.bincount(coh_of_cust, minlength=n_coh)
    if metric == "revenue":
        cells = np.bincount(coh_of_cust[po.codes] * n_per + since, weights=po.amount, minlength=n_coh * n_per)
    else:
        pairs = _unique_keys(po.codes * n_per + since, k * n_per)
        cust, per = np.divmod(pairs, n_per)
        cells = np.bincount(coh_of_cust[cust] * n_per + per, minlength=n_coh * n_per).astype(float)
    mat = cells.reshape(n_coh, n_per).astype(float)
    if metric == "retention":
        mat = metrics.retention(mat, np.broadcast_to(sizes[:, None], mat.shape))
    # unobserved cells: cohort index + k beyond the last period
    ci, kk = np.indices(mat.shape)
    mat = np.where(ci + kk <= n_per - 1, mat, np.nan)
    present = sizes > 0
    label = "months_since_first" if freq == "M" else "weeks_since_first"
    idx = _period_start(np.arange(pmin, pmax + 1), freq)[present]
    matrix = pd.DataFrame(mat[present], index=pd.Index(idx, name="cohort"), columns=pd.RangeIndex(n_per, name=label))
    return CohortResult(
        matrix=matrix,
        cohort_sizes=pd.Series(sizes[present], index=matrix.index, name="cohort_size"),
        metric=metric,
        freq=freq,
        last_period=_period_start(np.array([pmax]), freq)[0],
        excluded=po.excluded,
    )


@dataclass(frozen=True, eq=False)
class SecondPurchaseResult(_Result):
    """Time from first to second purchase, in survival form (censored, not dropped).

    Fields
    ------
    table : one row per customer: ``customer_id``, ``first_order_ts``,
        ``second_order_ts`` (NaT if none yet), ``duration_days`` (days to the second
        purchase, or days observed so far when censored), ``observed`` (True = second
        purchase seen, False = censored at ``as_of``).
    as_of : end of observation. n_customers, n_censored : counts.
    median_days_observed : median days among customers with a second purchase (biased
        low: use :meth:`km` for a censoring-aware curve). excluded : orders left out.
    """

    table: pd.DataFrame
    as_of: pd.Timestamp
    n_customers: int
    n_censored: int
    median_days_observed: float
    excluded: dict[str, int]

    def km(self) -> pd.DataFrame:
        """Kaplan-Meier estimate of P(no second purchase yet by day t) (statsmodels).

        Columns: ``days`` (event times), ``survival`` (share still without a 2nd
        purchase), ``repurchased`` (1 - survival), ``se`` (Greenwood standard error of
        either), ``at_risk`` (customers still observed and without a 2nd purchase just
        before ``days``). Ties: events before censoring, as in Kaplan & Meier (1958).
        """
        from statsmodels.duration.survfunc import SurvfuncRight

        sf = SurvfuncRight(self.table["duration_days"].to_numpy(float), self.table["observed"].to_numpy(int))
        return pd.DataFrame({"days": sf.surv_times, "survival": sf.surv_prob, "repurchased": 1 - sf.surv_prob,
                             "se": sf.surv_prob_se, "at_risk": sf.n_risk.astype(np.int64)})


def time_to_second_purchase(
    orders: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    *,
    statuses: Sequence[str] = metrics.VALID_STATUSES,
) -> SecondPurchaseResult:
    """Days from each customer's first purchase to their second (survival data).

    Customers without a second purchase by ``as_of`` (default: midnight after the last
    order; a date outside the data raises ``ValueError``) are kept as *censored* at
    ``as_of - first purchase`` — dropping them would
    make repurchase look faster than it is. Two purchase orders at the same moment give
    0 days. Analyse with :meth:`SecondPurchaseResult.km` (Kaplan & Meier 1958).

    >>> o = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2025-01-01", "2025-01-11", "2025-01-05"]),
    ...     "status": ["completed"] * 3})
    >>> time_to_second_purchase(o).table["observed"].tolist()
    [True, False]
    """
    _require(orders, ["order_id", "customer_id", "order_ts", "status"], "orders")
    ts_all = _timestamps_us(orders["order_ts"], "order_ts")
    if as_of is None:
        as_of_t = _data_end(ts_all)
    else:
        as_of_t = _ts(as_of, "as_of")
        _check_in_data(as_of_t, ts_all, "as_of")
    po = _prepare_orders(orders, statuses=statuses, amount=None, before=as_of_t)
    k = len(po.customers)
    order = np.lexsort((po.ts_us, po.codes))
    c_sorted = po.codes[order]
    t_sorted = po.ts_us[order]
    counts = np.bincount(po.codes, minlength=k)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first = t_sorted[starts]
    has2 = counts >= 2
    second = np.where(has2, t_sorted[np.minimum(starts + 1, len(c_sorted) - 1)], np.iinfo(np.int64).min)
    end = _us(as_of_t)
    dur = np.where(has2, second - first, end - first) / _DAY_US
    table = pd.DataFrame(
        {
            "customer_id": po.customers,
            "first_order_ts": pd.to_datetime(first, unit="us"),
            "second_order_ts": pd.to_datetime(np.where(has2, second, np.iinfo(np.int64).min).view("datetime64[us]")),
            "duration_days": dur,
            "observed": has2,
        }
    )
    obs = dur[has2]
    return SecondPurchaseResult(
        table=table,
        as_of=as_of_t,
        n_customers=int(k),
        n_censored=int((~has2).sum()),
        median_days_observed=float(np.median(obs)) if obs.size else float("nan"),
        excluded=po.excluded,
    )


@dataclass(frozen=True, eq=False)
class LTVResult(_Result):
    """Historical LTV per group.

    Fields
    ------
    table : one row per group value (``by``): ``customers`` (with a full window),
        ``ltv_amount`` (mean paid amount per customer within ``months`` of the first
        order, CNY), ``revenue_amount`` (sum), ``repeat_share`` (share with >= 2
        purchases in the window).
    months : window length. cutoff : last first-order time with a full window
        (data end minus ``months``). excluded : customers left out by reason (window
        not complete, no orders, not in the customers table) and orders left out.
    values : one row per averaged customer: ``customer_id``, the ``by`` column,
        ``value_amount`` (paid amount in the window), ``purchases`` (in the window) —
        for tests of group differences (e.g. ``scipy.stats.kruskal``).
    """

    table: pd.DataFrame
    by: str
    months: int
    cutoff: pd.Timestamp
    excluded: dict[str, int]
    values: pd.DataFrame


def historical_ltv(
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    months: int = 12,
    by: str = "acquisition_channel",
    *,
    statuses: Sequence[str] = metrics.VALID_STATUSES,
    amount: str = "paid_amount",
    data_end: str | pd.Timestamp | None = None,
) -> LTVResult:
    """Historical (observed) LTV: mean paid amount per customer in their first ``months``.

    A customer's clock starts at their first order of any status (the acquisition;
    a customer whose purchases were all refunded is acquired but worth 0). Their value
    is the sum of ``amount`` over purchases (``status`` in ``statuses``) in
    ``[first, first + months)``. Only customers whose whole window lies inside the
    data (``first + months <= data_end``, default: midnight after the last order; a
    ``data_end`` outside the data raises ``ValueError``) are averaged — younger cohorts would bias LTV down; they are counted in ``excluded``.
    Revenue, not margin: multiply by a gross margin (:func:`ecomlab.metrics.gross_margin`)
    for profit LTV.

    >>> o = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"]),
    ...     "paid_amount": [100.0, 50.0, 80.0], "status": ["completed"] * 3})
    >>> c = pd.DataFrame({"customer_id": ["a", "b"], "acquisition_channel": ["feed_ads", "feed_ads"]})
    >>> historical_ltv(o, c, months=1, data_end="2024-03-02").table["ltv_amount"].tolist()
    [90.0]
    """
    if not isinstance(months, (int, np.integer)) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    _require(customers, ["customer_id", by], "customers")
    if customers["customer_id"].duplicated().any():
        raise ValueError("customers has duplicated 'customer_id'; expected one row per customer")
    _require(orders, ["order_id", "customer_id", "order_ts", "status", amount], "orders")
    _check_unique_ids(orders, "order_id")
    ts_all = _timestamps_us(orders["order_ts"], "order_ts")
    amt = _numeric(orders[amount], amount)
    end_t = _data_end(ts_all) if data_end is None else _ts(data_end, "data_end")
    _check_in_data(end_t, ts_all, "data_end")
    codes, uniq = _codes(orders["customer_id"], "customer_id")
    k = len(uniq)
    first, _ = _group_min_max(codes, ts_all, k)
    first_ts = pd.DatetimeIndex(first.view("datetime64[us]"))
    win_end = (first_ts + pd.DateOffset(months=int(months))).as_unit("us").asi8
    valid = _isin(orders["status"], statuses)
    in_win = valid & (ts_all < win_end[codes])
    value = np.bincount(codes, weights=np.where(in_win, amt, 0.0), minlength=k)
    n_purch = np.bincount(codes, weights=in_win.astype(float), minlength=k)
    full = win_end <= _us(end_t)
    cust = customers.set_index("customer_id")[by]
    grp = cust.reindex(uniq)
    # membership by hash lookup: Index.isin on Arrow-backed strings loops in Python
    in_customers = cust.index.get_indexer(uniq) >= 0
    known = grp.notna().to_numpy() & in_customers
    not_in_customers = ~in_customers
    use = full & known
    excluded = {
        "customers: window not complete": int((~full & known).sum()),
        "customers: not in customers table": int(not_in_customers.sum()),
        "customers: missing " + by: int((~not_in_customers & ~grp.notna().to_numpy()).sum()),
        "customers: no orders": int((pd.Index(uniq).get_indexer(cust.index) < 0).sum()),
        "orders: not a purchase (status)": int((~valid).sum()),
    }
    df = pd.DataFrame({"customer_id": uniq[use], by: grp.to_numpy()[use], "value": value[use],
                       "purchases": n_purch[use].astype(np.int64), "repeat": n_purch[use] >= 2})
    if isinstance(cust.dtype, pd.CategoricalDtype):
        df[by] = pd.Categorical(df[by], categories=cust.cat.categories, ordered=cust.cat.ordered)
    g = df.groupby(by, observed=True, sort=True)
    table = pd.DataFrame(
        {
            "customers": g.size(),
            "ltv_amount": g["value"].mean(),
            "revenue_amount": g["value"].sum(),
            "repeat_share": g["repeat"].mean(),
        }
    ).reset_index()
    cutoff = (end_t - pd.DateOffset(months=int(months)))
    values = df.drop(columns="repeat").rename(columns={"value": "value_amount"}).reset_index(drop=True)
    return LTVResult(table=table, by=by, months=int(months), cutoff=cutoff, excluded=excluded, values=values)


def ltv_cac(
    ltv_by_channel: LTVResult | pd.DataFrame,
    marketing_daily: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    channel: str = "acquisition_channel",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """LTV / CAC per acquisition channel.

    CAC = spend / new customers acquired through the channel
    (:func:`ecomlab.metrics.cac`), both over ``[start, end)`` (default: the whole
    marketing table's date range; customers by ``first_order_date`` when given).
    Organic channels (zero spend) have CAC 0; their ratio is set to ``inf`` explicitly
    and flagged ``organic=True``. A channel with spend but no new customers has an
    undefined CAC (NaN) and ratio NaN. LTV is revenue LTV unless you pass margin LTV.

    >>> ltv = pd.DataFrame({"acquisition_channel": ["feed_ads", "organic_search"], "ltv_amount": [300.0, 200.0]})
    >>> mk = pd.DataFrame({"channel": ["feed_ads", "organic_search"], "date": pd.to_datetime(["2025-01-01"] * 2),
    ...                    "spend": [1000.0, 0.0]})
    >>> cu = pd.DataFrame({"customer_id": ["a", "b", "c"], "acquisition_channel": ["feed_ads", "feed_ads", "organic_search"],
    ...                    "first_order_date": pd.to_datetime(["2025-01-01"] * 3)})
    >>> ltv_cac(ltv, mk, cu)["ltv_cac_ratio"].tolist()
    [0.6, inf]
    """
    ltv = ltv_by_channel.table if isinstance(ltv_by_channel, LTVResult) else ltv_by_channel
    _require(ltv, [channel, "ltv_amount"], "ltv_by_channel")
    _require(marketing_daily, ["channel", "date", "spend"], "marketing_daily")
    _require(customers, ["customer_id", channel], "customers")
    spend = _numeric(marketing_daily["spend"], "spend")
    if (spend < 0).any():
        raise ValueError("marketing_daily['spend'] must be >= 0")
    d = marketing_daily["date"]
    if not pd.api.types.is_datetime64_any_dtype(d):
        raise ValueError(f"marketing_daily['date'] must be datetime, got {d.dtype}")
    lo = _ts(start, "start") if start is not None else d.min()
    hi = _ts(end, "end") if end is not None else d.max() + pd.Timedelta(days=1)
    mk = marketing_daily[(d >= lo) & (d < hi)]
    spend_by = mk.groupby(mk["channel"].astype("str"))["spend"].sum()
    cu = customers
    if "first_order_date" in customers.columns:
        fo = customers["first_order_date"]
        cu = customers[(fo >= lo) & (fo < hi)]
    new_by = cu[channel].astype("str").value_counts()
    out = ltv[[channel, "ltv_amount"]].copy()
    key = out[channel].astype("str")
    out["spend"] = key.map(spend_by).fillna(0.0).to_numpy(float)
    out["new_customers"] = key.map(new_by).fillna(0).to_numpy(np.int64)
    out["cac"] = np.asarray(metrics.cac(out["spend"].to_numpy(), out["new_customers"].to_numpy()), dtype=float)
    out["organic"] = out["spend"].to_numpy() == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out["ltv_amount"].to_numpy(float) / out["cac"].to_numpy()
    ratio = np.where(out["organic"] & (out["new_customers"] > 0), np.inf, ratio)
    out["ltv_cac_ratio"] = ratio
    return out.reset_index(drop=True)


@dataclass(frozen=True, eq=False, repr=False)
class CalendarEffectsResult(_Result):
    """Retention cells split into an age curve and calendar month-of-year effects.

    Fields
    ------
    table : one row per calendar month of the year (1-12): ``effect`` (percentage
        points as a fraction, deviation from the average month: the 12 effects sum to
        0), ``se``, ``ci_low``, ``ci_high`` (95%), ``cells`` (cohort cells in that month).
    f_stat, f_pvalue, df_num, df_denom : F test that all 12 month effects are 0.
    age_curve : fitted retention by age at the average calendar month.
    n_cells : cells used (ages 1..max_age, observed, complete months only).
    """

    table: pd.DataFrame
    f_stat: float
    f_pvalue: float
    df_num: int
    df_denom: int
    age_curve: pd.Series
    n_cells: int


def calendar_effects(cohorts: CohortResult, *, max_age: int = 12) -> CalendarEffectsResult:
    """Are retention cells higher in some calendar months (双11, 618) than the age says?

    Fits ``retention_{c,k} = age_k + month_m(c,k) + ε`` by weighted least squares
    (``statsmodels`` WLS, weights = cohort size, so each cell counts like its
    customers) on the cells with age ``1..max_age``, where ``m(c, k)`` is the calendar
    month of the year in which cell (c, k) falls. Month effects use sum-to-zero
    (deviation) coding, so each is the difference from the average month in
    retention points; the F test asks whether they are all 0. A cohort table mixes
    three clocks (cohort, age, calendar) that are collinear (calendar = cohort + age),
    so this separates age from *seasonal* calendar effects only, assuming no cohort
    effect (see Yang & Land 2013 on age-period-cohort models). Needs a monthly
    ``metric="retention"`` or ``"customers"`` result; the last (possibly partial)
    month of the data is left out.

    >>> rng = np.random.default_rng(0)
    >>> o = pd.DataFrame({"order_id": np.arange(4000).astype(str),
    ...     "customer_id": rng.integers(0, 800, 4000).astype(str),
    ...     "order_ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, 4000), unit="D"),
    ...     "status": "completed"})
    >>> ce = calendar_effects(cohort_matrix(o))
    >>> round(float(ce.table["effect"].sum()), 12), ce.f_pvalue > 0.01  # no planted season
    (0.0, True)
    """
    from statsmodels.regression.linear_model import WLS  # lazy: keeps `import ecomlab` fast

    if not isinstance(cohorts, CohortResult):
        raise ValueError(f"cohorts must be a CohortResult from cohort_matrix, got {type(cohorts).__name__}")
    if cohorts.freq != "M" or cohorts.metric not in ("retention", "customers"):
        raise ValueError(
            "cohorts must be monthly retention or customer counts (freq='M', metric='retention' or "
            f"'customers'), got freq={cohorts.freq!r}, metric={cohorts.metric!r}"
        )
    if not isinstance(max_age, (int, np.integer)) or max_age < 1:
        raise ValueError(f"max_age must be a positive integer, got {max_age!r}")
    mat = cohorts.matrix
    sizes = cohorts.cohort_sizes.to_numpy(float)
    vals = mat.to_numpy(float)
    if cohorts.metric == "customers":
        vals = vals / sizes[:, None]
    ci, age = np.indices(vals.shape)
    cohort_month = mat.index.month.to_numpy() - 1
    cal = (cohort_month[ci] + age) % 12 + 1
    last = (mat.index.year.to_numpy()[ci] * 12 + cohort_month[ci] + age) < (
        cohorts.last_period.year * 12 + cohorts.last_period.month - 1
    )
    use = (age >= 1) & (age <= max_age) & ~np.isnan(vals) & last
    y, a_, m_, w = vals[use], age[use], cal[use], sizes[ci[use]]
    ages = np.unique(a_)
    if len(y) < len(ages) + 12 + 1 or len(np.unique(m_)) < 12:
        raise ValueError(
            f"need cells in all 12 calendar months and more cells than parameters; got {len(y)} cells "
            f"in {len(np.unique(m_))} calendar month(s) — use at least ~2 years of monthly cohorts"
        )
    X_age = (a_[:, None] == ages[None, :]).astype(float)  # one level per age: no intercept
    X_m = (m_[:, None] == np.arange(1, 12)[None, :]).astype(float) - (m_ == 12)[:, None]
    fit = WLS(y, np.hstack([X_age, X_m]), weights=w).fit()
    na = len(ages)
    # contrast rows: the 12 month effects (the 12th is minus the sum of the other 11)
    L = np.zeros((12, na + 11))
    L[:11, na:] = np.eye(11)
    L[11, na:] = -1.0
    eff = L @ fit.params
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, fit.cov_params(), L))
    z = 1.959963984540054
    ft = fit.f_test(L[:11])
    table = pd.DataFrame(
        {
            "month": np.arange(1, 13),
            "effect": eff,
            "se": se,
            "ci_low": eff - z * se,
            "ci_high": eff + z * se,
            "cells": np.bincount(m_, minlength=13)[1:],
        }
    )
    return CalendarEffectsResult(
        table=table,
        f_stat=float(np.squeeze(ft.fvalue)),
        f_pvalue=float(ft.pvalue),
        df_num=int(ft.df_num),
        df_denom=int(ft.df_denom),
        age_curve=pd.Series(fit.params[:na], index=pd.Index(ages, name="age"), name="retention"),
        n_cells=int(len(y)),
    )
