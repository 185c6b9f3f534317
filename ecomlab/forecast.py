"""Demand forecasts for many SKUs at once: ETS(A,N,N), seasonal naive, MASE and bias.

:func:`ets_forecast` fits simple exponential smoothing — ETS(A,N,N), the local-level
state-space model (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd
ed. 2021, §8.1 and §8.5) — to every column of a weeks × SKUs frame *at once*: the
recursion ``ℓ_t = ℓ_{t−1} + α (y_t − ℓ_{t−1})`` runs over time with NumPy across all
SKUs and a grid of α, and each SKU keeps the α with the smallest in-sample one-step
squared error. With a fixed α it equals statsmodels' ``ExponentialSmoothing`` (tested),
but hundreds of SKUs take milliseconds instead of one optimiser run per SKU.

A known driver (a promotion calendar) enters multiplicatively: pass ``index`` (one
factor per week, 1 = an ordinary week); the level is fitted on ``y / index`` and the
forecast multiplied back. :func:`promo_index` estimates such factors from history.

:func:`mase` is the mean absolute scaled error (Hyndman & Koehler 2006, "Another look at
measures of forecast accuracy", IJF 22): the hold-out MAE divided by the in-sample MAE of
the seasonal-naive forecast; below 1 beats that benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ets_forecast", "EtsForecast", "seasonal_naive", "mase", "bias", "promo_index"]

_ALPHAS = np.round(np.arange(0.02, 1.0, 0.02), 2)


def _frame(y, name: str) -> pd.DataFrame:
    if isinstance(y, pd.Series):
        y = y.to_frame()
    if not isinstance(y, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame (periods × series), got {type(y).__name__}")
    if y.shape[0] < 2 or y.shape[1] == 0:
        raise ValueError(f"{name} needs at least 2 periods and 1 series, got shape {y.shape}")
    bad = ~y.apply(pd.api.types.is_numeric_dtype)
    if bad.any():
        raise ValueError(f"{name} columns must be numeric; {list(y.columns[bad])[:3]} are not")
    if y.isna().any().any():
        col = y.columns[y.isna().any()][0]
        raise ValueError(f"{name} has missing values (e.g. column {col!r}); fill or drop them first and say how many")
    return y.astype(float)


@dataclass(frozen=True)
class EtsForecast:
    """Result of :func:`ets_forecast`: ``forecast`` (horizon × SKUs), ``alpha`` and ``level`` per SKU."""

    forecast: pd.DataFrame
    alpha: pd.Series
    level: pd.Series
    sse: pd.Series


def ets_forecast(y: pd.DataFrame, horizon: int, index_train=None, index_future=None,
                 alphas=_ALPHAS) -> EtsForecast:
    """ETS(A,N,N) forecasts for every column of ``y`` (periods × SKUs), vectorised.

    Initial level: the first observation (statsmodels' ``initialization_method="known"``
    with ``initial_level=y[0]``); α chosen per SKU on ``alphas`` by in-sample one-step
    SSE. ``index_train`` (len(y)) and ``index_future`` (``horizon``): multiplicative
    known-driver factors (e.g. :func:`promo_index`), default 1.

    >>> y = pd.DataFrame({"a": [10.0, 12, 11, 13, 12], "b": [5.0, 5, 5, 5, 5]})
    >>> f = ets_forecast(y, 2, alphas=[0.5])
    >>> f.forecast.round(3).to_dict("list")
    {'a': [12.0, 12.0], 'b': [5.0, 5.0]}
    """
    Y = _frame(y, "y")
    h = int(horizon)
    if h < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon!r}")
    a_grid = np.asarray(alphas, dtype=float)
    if a_grid.size == 0 or (a_grid <= 0).any() or (a_grid > 1).any():
        raise ValueError(f"alphas must lie in (0, 1], got {alphas!r}")
    it = np.ones(len(Y)) if index_train is None else np.asarray(index_train, dtype=float)
    if_ = np.ones(h) if index_future is None else np.asarray(index_future, dtype=float)
    if it.shape != (len(Y),) or if_.shape != (h,) or (it <= 0).any() or (if_ <= 0).any():
        raise ValueError(f"index_train must have {len(Y)} and index_future {h} positive factors")
    x = Y.to_numpy() / it[:, None]                          # periods × SKUs, driver removed
    level = np.broadcast_to(x[0], (a_grid.size, x.shape[1])).copy()  # alphas × SKUs
    sse = np.zeros_like(level)
    for t in range(1, len(x)):                              # the recursion runs over time only
        err = x[t] - level
        sse += err**2
        level += a_grid[:, None] * err
    best = sse.argmin(0)
    cols = np.arange(x.shape[1])
    lv = level[best, cols]
    fc = pd.DataFrame(if_[:, None] * lv[None, :], columns=Y.columns)
    return EtsForecast(forecast=fc, alpha=pd.Series(a_grid[best], index=Y.columns, name="alpha"),
                       level=pd.Series(lv, index=Y.columns, name="level"),
                       sse=pd.Series(sse[best, cols], index=Y.columns, name="sse"))


def seasonal_naive(y: pd.DataFrame, horizon: int, season: int) -> pd.DataFrame:
    """Seasonal-naive forecast: each future period repeats the value one ``season`` earlier.

    >>> seasonal_naive(pd.DataFrame({"a": [1.0, 2, 3, 4]}), 3, 2)["a"].tolist()
    [3.0, 4.0, 3.0]
    """
    Y = _frame(y, "y")
    m, h = int(season), int(horizon)
    if m < 1 or h < 1 or len(Y) < m:
        raise ValueError(f"need season ≥ 1, horizon ≥ 1 and at least season={m} periods; got {len(Y)} periods")
    last = Y.to_numpy()[-m:]
    return pd.DataFrame(last[np.arange(h) % m], columns=Y.columns)


def mase(actual, forecast, train, season: int = 1):
    """Mean absolute scaled error per series: hold-out MAE / in-sample seasonal-naive MAE.

    ``actual`` and ``forecast``: hold-out periods × series; ``train``: the training
    periods. ``season=1`` scales by the naive forecast (Hyndman & Koehler 2006).

    >>> mase(pd.DataFrame({"a": [3.0, 5]}), pd.DataFrame({"a": [4.0, 4]}), pd.DataFrame({"a": [1.0, 2, 3]})).tolist()
    [1.0]
    """
    A, F, T = _frame(actual, "actual"), _frame(forecast, "forecast"), _frame(train, "train")
    if A.shape != F.shape:
        raise ValueError(f"actual {A.shape} and forecast {F.shape} must have the same shape")
    m = int(season)
    if len(T) <= m:
        raise ValueError(f"train needs more than season={m} periods, got {len(T)}")
    t = T.to_numpy()
    scale = np.abs(t[m:] - t[:-m]).mean(0)
    if (scale == 0).any():
        raise ValueError(f"train is constant at lag {m} for {list(T.columns[scale == 0])[:3]}: MASE undefined")
    return pd.Series(np.abs(A.to_numpy() - F.to_numpy()).mean(0) / scale, index=A.columns, name="mase")


def bias(actual, forecast):
    """Relative bias per series: ``Σ(forecast − actual) / Σ actual`` (> 0: over-forecast).

    >>> bias(pd.DataFrame({"a": [10.0, 10]}), pd.DataFrame({"a": [12.0, 9]})).tolist()
    [0.05]
    """
    A, F = _frame(actual, "actual"), _frame(forecast, "forecast")
    if A.shape != F.shape:
        raise ValueError(f"actual {A.shape} and forecast {F.shape} must have the same shape")
    tot = A.to_numpy().sum(0)
    if (tot == 0).any():
        raise ValueError("actual sums to 0 for some series: relative bias undefined")
    return pd.Series((F.to_numpy() - A.to_numpy()).sum(0) / tot, index=A.columns, name="bias")


def promo_index(total: pd.Series, promo_days: pd.Series, future_days: pd.Series | None = None,
                freq: str = "W-SUN") -> pd.Series:
    """Weekly multiplicative promotion factors from daily history and a promotion-day label.

    ``total``: daily units (DatetimeIndex); ``promo_days``: the promotion name on each of
    those days ('' or NaN on ordinary days), e.g. from :func:`ecomlab.calendar.promotion_calendar`.
    A promotion's daily factor is its mean daily total over the mean ordinary day. A
    week's factor is the mean daily factor of its days, for the history or, with
    ``future_days`` (labels of the days to forecast, e.g. next year's calendar), for them:
    the factors learnt from history are applied to the future calendar (no look-ahead).

    >>> d = pd.date_range("2025-01-06", periods=14)
    >>> tot = pd.Series([10.0] * 7 + [10, 10, 10, 10, 10, 30, 30], index=d)
    >>> lab = pd.Series([""] * 12 + ["sale"] * 2, index=d)
    >>> promo_index(tot, lab).round(3).tolist()
    [1.0, 1.571]
    """
    if not isinstance(total.index, pd.DatetimeIndex) or not total.index.equals(promo_days.index):
        raise ValueError("total and promo_days must share one DatetimeIndex of days")
    lab = promo_days.fillna("").astype(str)
    ordinary = total[lab == ""]
    if ordinary.empty or ordinary.mean() <= 0:
        raise ValueError("total needs ordinary (non-promotion) days with positive sales to scale against")
    factors = (total[lab != ""] / ordinary.mean()).groupby(lab[lab != ""]).mean()
    target = lab if future_days is None else future_days.fillna("").astype(str)
    if not isinstance(target.index, pd.DatetimeIndex):
        raise ValueError("future_days must have a DatetimeIndex of days")
    unknown = sorted(set(target[target != ""]) - set(factors.index))
    if unknown:
        raise ValueError(f"future_days names promotions never seen in the history: {unknown}")
    daily = target.map(factors).where(target != "", 1.0).astype(float)
    return daily.resample(freq).mean().rename("promo_index")
