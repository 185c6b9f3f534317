"""04-1 RFM and value segments: :func:`rfm_table`, :func:`rfm_scores`,
:func:`rfm_segments`, :func:`segment_summary`, :func:`kmeans_rfm`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ecomlab import metrics
from ecomlab.users._common import (
    _DAY_US,
    _numeric,
    _prepare_orders,
    _require,
    _Result,
    _timestamps_us,
    _ts,
    _us,
)

#: The eight value segments (English), in display order: R, F, M each high/low.
SEGMENTS = (
    "important value",
    "important develop",
    "important retain",
    "important win-back",
    "general value",
    "general develop",
    "general retain",
    "general win-back",
)
#: Chinese names of :data:`SEGMENTS`, same order.
SEGMENTS_ZH = (
    "重要价值客户",
    "重要发展客户",
    "重要保持客户",
    "重要挽留客户",
    "一般价值客户",
    "一般发展客户",
    "一般保持客户",
    "一般挽留客户",
)
# (r_high, f_high, m_high) -> segment index
_SEGMENT_KEY = {
    (1, 1, 1): 0,
    (1, 0, 1): 1,
    (0, 1, 1): 2,
    (0, 0, 1): 3,
    (1, 1, 0): 4,
    (1, 0, 0): 5,
    (0, 1, 0): 6,
    (0, 0, 0): 7,
}
#: A concrete recommended action per segment (keys: :data:`SEGMENTS`).
SEGMENT_ACTIONS: dict[str, str] = {
    "important value": "VIP care: early access to new launches and 618/双11 presales, "
    "member-only gifts; no discount coupons (they buy anyway).",
    "important develop": "Recent big spender with few orders: invite to the fan group, "
    "recommend complementary categories, 2nd-order coupon with a high threshold (满199减20).",
    "important retain": "Frequent high spender going quiet: 1-to-1 WeChat check-in from a "
    "consultant, replenishment reminders, points-expiry nudge.",
    "important win-back": "High value but lapsed: win-back coupon (满150减30) by SMS/WeChat, "
    "survey why they left; stop if no response after two touches.",
    "general value": "Frequent but low basket: bundle offers and 满减 thresholds to lift order "
    "value, points for larger baskets.",
    "general develop": "New, low spend: welcome series, fan-group invitation, entry-price "
    "best-sellers (收纳 starters).",
    "general retain": "Used to buy often, low spend, drifting: low-cost reminders (content, "
    "replenishment); small coupon only in big promotions.",
    "general win-back": "Low value and lapsed: only free, automated touches (mass push at "
    "双11); do not spend coupon budget.",
}


@dataclass(frozen=True, eq=False)
class RFMResult(_Result):
    """RFM table of one snapshot.

    Fields
    ------
    table : DataFrame, one row per customer with a kept purchase before ``as_of``:
        ``customer_id``; ``recency_days`` (calendar days from the last purchase's day to
        ``as_of``'s day, >= 1 when ``as_of`` is a midnight after the data); ``frequency``
        (number of purchase orders); ``monetary_amount`` (sum of paid amount, CNY).
    as_of : the reference date (default: the day after the last order in the data).
    statuses : the order statuses counted as purchases.
    n_orders_used : purchase orders that made the table.
    excluded : orders left out, by reason (``status=cancelled``, ``status=refunded``,
        ``on/after <as_of>``).
    n_customers_without_purchase : customers in the input whose every order was excluded.
    """

    table: pd.DataFrame
    as_of: pd.Timestamp
    statuses: tuple[str, ...]
    n_orders_used: int
    excluded: dict[str, int]
    n_customers_without_purchase: int


def _rfm_frame(rfm: Any, arg: str = "rfm") -> pd.DataFrame:
    df = rfm.table if isinstance(rfm, RFMResult) else rfm
    _require(df, ["recency_days", "frequency", "monetary_amount"], arg)
    for c in ("recency_days", "frequency", "monetary_amount"):
        _numeric(df[c], c)
    return df


def rfm_table(
    orders: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    *,
    statuses: Sequence[str] = metrics.VALID_STATUSES,
    amount: str = "paid_amount",
    check_ids: bool = True,
) -> RFMResult:
    """Recency, frequency, monetary value per customer (RFM, Hughes 1994).

    R = days from the last purchase to ``as_of`` (calendar days), F = number of
    purchase orders, M = sum of ``amount``. Purchases are orders with ``status`` in
    ``statuses`` (default :data:`ecomlab.metrics.VALID_STATUSES`: cancelled and refunded
    orders are not kept purchases) and ``order_ts < as_of``; the rest are counted in
    ``result.excluded``. ``as_of`` defaults to the end of the data (midnight after the
    last order), never today, so a lesson gives the same answer every day.

    Raises ValueError on a missing column, an empty frame, duplicated ``order_id``
    (skip that check with ``check_ids=False`` when the source guarantees unique ids —
    it is the slowest step at 10M rows), non-numeric amounts, missing values, or an
    ``as_of`` on/before the first order.

    >>> o = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2025-01-01", "2025-01-10", "2025-01-05"]),
    ...     "paid_amount": [100.0, 50.0, 80.0], "status": ["completed"] * 3})
    >>> rfm_table(o).table.to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'customer_id': ['a', 'b'], 'recency_days': [1, 6], 'frequency': [2, 1],
     'monetary_amount': [150.0, 80.0]}
    """
    _require(orders, ["order_id", "customer_id", "order_ts", "status", amount], "orders")
    ts_all = _timestamps_us(orders["order_ts"], "order_ts")
    first_day = pd.Timestamp(int(ts_all.min()), unit="us")
    if as_of is None:
        as_of_t = pd.Timestamp(int(ts_all.max()), unit="us").normalize() + pd.Timedelta(days=1)
    else:
        as_of_t = _ts(as_of, "as_of")
        if as_of_t <= first_day:
            raise ValueError(
                f"as_of={as_of_t} is on/before the first order ({first_day}); "
                "expected a date after the first order"
            )
    po = _prepare_orders(orders, statuses=statuses, amount=amount, before=as_of_t, check_ids=check_ids)
    k = len(po.customers)
    last = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, po.codes, po.ts_us)
    last_day = np.floor_divide(last, _DAY_US)
    as_of_day = _us(as_of_t) // _DAY_US
    freq = np.bincount(po.codes, minlength=k).astype(np.int64)
    money = np.bincount(po.codes, weights=po.amount, minlength=k)
    table = pd.DataFrame(
        {
            "customer_id": po.customers,
            "recency_days": (as_of_day - last_day).astype(np.int64),
            "frequency": freq,
            "monetary_amount": money,
        }
    )
    n_all = po.n_customers_all
    return RFMResult(
        table=table,
        as_of=as_of_t,
        statuses=tuple(statuses),
        n_orders_used=int(len(po.codes)),
        excluded=po.excluded,
        n_customers_without_purchase=int(n_all - k),
    )


def _score(values: pd.Series, q: int, ascending: bool) -> np.ndarray:
    n = len(values)
    if n == 1:
        return np.array([(q + 1) // 2], dtype=np.int64)
    ranks = values.rank(method="first", ascending=ascending)
    return pd.qcut(ranks, q, labels=False).to_numpy().astype(np.int64) + 1


def rfm_scores(rfm: RFMResult | pd.DataFrame, q: int = 5) -> pd.DataFrame:
    """Quantile scores 1..q for R, F and M (rank-based ``qcut``).

    Each of recency, frequency and monetary is ranked with ``rank(method="first")``
    (ties broken by row order, so heavy ties in frequency still give equal-sized
    groups) and cut into ``q`` equal-count groups. Recency is reversed: the most
    recent customers get ``q``. Adds ``r_score``, ``f_score``, ``m_score`` (int),
    ``rfm_cell`` (e.g. ``"545"``) and ``rfm_score_sum``. A one-customer table gets the
    middle score. Reference: Hughes (1994), *Strategic Database Marketing*.

    >>> rfm = pd.DataFrame({"customer_id": list("abcde"), "recency_days": [1, 5, 9, 30, 60],
    ...                     "frequency": [5, 4, 3, 2, 1], "monetary_amount": [9., 7., 5., 3., 1.]})
    >>> rfm_scores(rfm)["r_score"].tolist()
    [5, 4, 3, 2, 1]
    """
    df = _rfm_frame(rfm)
    if not isinstance(q, (int, np.integer)) or isinstance(q, bool) or q < 2:
        raise ValueError(f"q must be an integer >= 2, got {q!r}")
    out = df.copy()
    out["r_score"] = _score(df["recency_days"], q, ascending=False)
    out["f_score"] = _score(df["frequency"], q, ascending=True)
    out["m_score"] = _score(df["monetary_amount"], q, ascending=True)
    out["rfm_cell"] = (
        out["r_score"].astype("str") + out["f_score"].astype("str") + out["m_score"].astype("str")
    )
    out["rfm_score_sum"] = out["r_score"] + out["f_score"] + out["m_score"]
    return out


def rfm_segments(rfm: RFMResult | pd.DataFrame) -> pd.DataFrame:
    """The eight value segments (RFM 八大客户分层) used by Chinese ops teams.

    Each of R, F, M is "high" or "low" against its mean over the customers: R high
    means ``recency_days < mean`` (bought recently); F high means ``frequency > mean``;
    M high means ``monetary_amount > mean`` (a value equal to the mean is "low").
    M decides 重要 (important) vs 一般 (general); R and F decide value / develop /
    retain / win-back:

    ===== ===== ===== ================== =============
    R     F     M     segment            segment_zh
    ===== ===== ===== ================== =============
    high  high  high  important value    重要价值客户
    high  low   high  important develop  重要发展客户
    low   high  high  important retain   重要保持客户
    low   low   high  important win-back 重要挽留客户
    high  high  low   general value      一般价值客户
    high  low   low   general develop    一般发展客户
    low   high  low   general retain     一般保持客户
    low   low   low   general win-back   一般挽留客户
    ===== ===== ===== ================== =============

    Adds ``r_high``, ``f_high``, ``m_high`` (bool) and ``segment`` / ``segment_zh``
    (ordered categoricals in the table's order, all eight categories always present).

    >>> rfm = pd.DataFrame({"customer_id": ["a", "b"], "recency_days": [3, 90],
    ...                     "frequency": [4, 1], "monetary_amount": [800.0, 60.0]})
    >>> rfm_segments(rfm)["segment"].tolist()
    ['important value', 'general win-back']
    """
    df = _rfm_frame(rfm)
    out = df.copy()
    r = df["recency_days"].to_numpy(dtype=float)
    f = df["frequency"].to_numpy(dtype=float)
    m = df["monetary_amount"].to_numpy(dtype=float)
    rh, fh, mh = r < r.mean(), f > f.mean(), m > m.mean()
    lut = np.empty(8, dtype=np.int64)
    for (a, b, c), idx in _SEGMENT_KEY.items():
        lut[a * 4 + b * 2 + c] = idx
    seg = lut[rh.astype(int) * 4 + fh.astype(int) * 2 + mh.astype(int)]
    out["r_high"], out["f_high"], out["m_high"] = rh, fh, mh
    out["segment"] = pd.Categorical.from_codes(seg, categories=list(SEGMENTS), ordered=True)
    out["segment_zh"] = pd.Categorical.from_codes(seg, categories=list(SEGMENTS_ZH), ordered=True)
    return out


def segment_summary(rfm_with_segments: pd.DataFrame) -> pd.DataFrame:
    """Size, revenue and the recommended action of each value segment.

    Columns: ``segment``, ``segment_zh``, ``customers``, ``customer_share``,
    ``revenue_amount`` (sum of ``monetary_amount``), ``revenue_share``, the mean
    ``recency_days`` / ``frequency`` / ``monetary_amount`` and ``action`` (from
    :data:`SEGMENT_ACTIONS`). All eight segments are listed, empty ones with 0.
    Shares are fractions of all customers / all revenue in the input.

    >>> rfm = pd.DataFrame({"customer_id": ["a", "b"], "recency_days": [3, 90],
    ...                     "frequency": [4, 1], "monetary_amount": [800.0, 60.0]})
    >>> segment_summary(rfm_segments(rfm))["customers"].sum()
    np.int64(2)
    """
    _require(rfm_with_segments, ["segment", "recency_days", "frequency", "monetary_amount"], "rfm_with_segments")
    seg = rfm_with_segments["segment"]
    if not isinstance(seg.dtype, pd.CategoricalDtype) or list(seg.cat.categories) != list(SEGMENTS):
        raise ValueError("column 'segment' must be the categorical made by rfm_segments()")
    codes = seg.cat.codes.to_numpy()
    n = np.bincount(codes, minlength=8)
    money = rfm_with_segments["monetary_amount"].to_numpy(dtype=float)
    rev = np.bincount(codes, weights=money, minlength=8)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = {
            c: np.bincount(codes, weights=rfm_with_segments[c].to_numpy(dtype=float), minlength=8) / n
            for c in ("recency_days", "frequency", "monetary_amount")
        }
    total_rev = rev.sum()
    return pd.DataFrame(
        {
            "segment": pd.Categorical(list(SEGMENTS), categories=list(SEGMENTS), ordered=True),
            "segment_zh": pd.Categorical(list(SEGMENTS_ZH), categories=list(SEGMENTS_ZH), ordered=True),
            "customers": n.astype(np.int64),
            "customer_share": n / n.sum(),
            "revenue_amount": rev,
            "revenue_share": rev / total_rev if total_rev != 0 else np.full(8, np.nan),
            "mean_recency_days": mean["recency_days"],
            "mean_frequency": mean["frequency"],
            "mean_monetary_amount": mean["monetary_amount"],
            "action": [SEGMENT_ACTIONS[s] for s in SEGMENTS],
        }
    )


@dataclass(frozen=True, eq=False)
class KMeansRFMResult(_Result):
    """k-means clusters on RFM.

    Fields
    ------
    labels : Series of cluster numbers 0..k-1 aligned with the input rows; clusters are
        numbered by decreasing mean ``monetary_amount`` (0 = most valuable).
    profiles : one row per cluster: ``customers``, ``customer_share``, mean
        ``recency_days`` / ``frequency`` / ``monetary_amount``, ``revenue_share``.
    k, seed : the settings; inertia : within-cluster sum of squares (standardised space).
    """

    labels: pd.Series
    profiles: pd.DataFrame
    k: int
    seed: int
    inertia: float

    def to_frame(self) -> pd.DataFrame:
        """The cluster profiles."""
        return self.profiles.copy()


def kmeans_rfm(rfm: RFMResult | pd.DataFrame, k: int = 4, seed: int = 0) -> KMeansRFMResult:
    """Cluster customers with k-means on standardised ``log1p`` R, F, M.

    RFM variables are heavily right-skewed, so each is transformed with ``log1p`` and
    standardised (z-score) before scikit-learn ``KMeans(n_clusters=k, n_init=10,
    random_state=seed)`` (Lloyd's algorithm; MacQueen 1967). Amounts must be >= 0.
    The fit runs on one thread: with three features the threading overhead
    outweighs the gain, and on a busy 2-core machine (parallel tests) OpenMP threads
    competing for cores made the fit about 10x slower. Labels are the same either way.

    >>> rfm = pd.DataFrame({"recency_days": [1, 2, 80, 90, 3, 85], "frequency": [5, 6, 1, 1, 5, 1],
    ...                     "monetary_amount": [900., 800., 50., 40., 850., 60.]})
    >>> kmeans_rfm(rfm, k=2).profiles["customers"].tolist()
    [3, 3]
    """
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    df = _rfm_frame(rfm)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > len(df):
        raise ValueError(f"k={k} exceeds the number of customers ({len(df)})")
    X = df[["recency_days", "frequency", "monetary_amount"]].to_numpy(dtype=float)
    if (X < 0).any():
        raise ValueError("recency_days, frequency and monetary_amount must be >= 0 for log1p")
    Z = StandardScaler().fit_transform(np.log1p(X))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(Z)
    raw = km.labels_
    n = np.bincount(raw, minlength=k)
    money = np.bincount(raw, weights=X[:, 2], minlength=k)
    order = np.argsort(-(money / np.maximum(n, 1)), kind="stable")
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    lab = relabel[raw]
    n = np.bincount(lab, minlength=k)
    sums = np.stack([np.bincount(lab, weights=X[:, j], minlength=k) for j in range(3)], axis=1)
    profiles = pd.DataFrame(
        {
            "cluster": np.arange(k),
            "customers": n.astype(np.int64),
            "customer_share": n / n.sum(),
            "mean_recency_days": sums[:, 0] / n,
            "mean_frequency": sums[:, 1] / n,
            "mean_monetary_amount": sums[:, 2] / n,
            "revenue_share": sums[:, 2] / sums[:, 2].sum() if sums[:, 2].sum() > 0 else np.nan,
        }
    )
    return KMeansRFMResult(
        labels=pd.Series(lab, index=df.index, name="cluster"),
        profiles=profiles,
        k=int(k),
        seed=int(seed),
        inertia=float(km.inertia_),
    )
