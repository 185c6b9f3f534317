"""CLV: the BG/NBD purchase model (Fader, Hardie & Lee 2005), its MBG/NBD variant
(Batislam, Denizel & Filiztekin 2007) and the Gamma-Gamma spend model (Fader, Hardie &
Lee 2005b): :func:`rfm_summary`, :func:`fit_bgnbd`, :func:`fit_mbgnbd`,
:func:`expected_purchases`, :func:`p_alive`, :func:`fit_gamma_gamma`, :func:`clv`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ecomlab import metrics
from ecomlab.users._common import (
    _DAYS_PER_MONTH,
    _numeric,
    _prepare_orders,
    _require,
    _Result,
    _timestamps_us,
    _ts,
    _unique_keys,
    _us,
)
from ecomlab.users.cohorts import _check_in_data, _period_index


def rfm_summary(
    orders: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    observation_end: str | pd.Timestamp | None = None,
    *,
    freq: str = "W",
    statuses: Sequence[str] = metrics.VALID_STATUSES,
    amount: str = "paid_amount",
    check_ids: bool = True,
) -> pd.DataFrame:
    """Per-customer (frequency, recency, T, monetary_value) for BG/NBD + Gamma-Gamma.

    Follows the ``lifetimes`` convention (``summary_data_from_transaction_data``):
    purchases are first collapsed to distinct periods of ``freq`` ("W": Monday weeks,
    "D": days); then, over the calibration period ``order_ts < calibration_end``:

    * ``frequency`` = distinct purchase periods - 1 (repeat purchases);
    * ``recency`` = last purchase period - first purchase period (0 if no repeat);
    * ``T`` = period of the last calibration instant - first purchase period;
    * ``monetary_value`` = mean per-period spend over the repeat periods (0 if none);

    all in units of ``freq`` (weeks by default). With ``observation_end`` the holdout
    ``[calibration_end, observation_end)`` adds ``frequency_holdout`` (distinct purchase
    periods), ``monetary_value_holdout`` and ``duration_holdout``. Customers whose first
    purchase is on/after ``calibration_end`` and orders on/after the end are excluded
    and counted in ``summary.attrs["excluded"]``; ``attrs["time_unit"]`` holds ``freq``.
    Index: ``customer_id``. Vectorised (codes, ``ufunc.at``, ``bincount``).

    Both dates must lie inside the data: after the first order and no later than
    midnight after the last order (``ValueError`` otherwise — a calibration end after
    the data would count days nobody could buy as silence and make everyone look gone).
    To score customers for decisions about the future, set ``calibration_end`` to the
    end of the data (midnight after the last order).

    >>> o = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "order_ts": pd.to_datetime(["2025-01-06", "2025-01-20", "2025-01-13"]),
    ...     "paid_amount": [100.0, 50.0, 80.0], "status": ["completed"] * 3})
    >>> rfm_summary(o, "2025-01-21")[["frequency", "recency", "T"]].to_numpy().tolist()
    [[1.0, 2.0, 2.0], [0.0, 0.0, 1.0]]
    """
    if freq not in ("W", "D"):
        raise ValueError(f"freq must be 'W' (weeks) or 'D' (days), got {freq!r}")
    cal = _ts(calibration_end, "calibration_end")
    obs = _ts(observation_end, "observation_end") if observation_end is not None else None
    end = obs if obs is not None else cal
    _require(orders, ["order_id", "customer_id", "order_ts", "status", amount], "orders")
    ts_all = _timestamps_us(orders["order_ts"], "order_ts")
    _check_in_data(cal, ts_all, "calibration_end")  # first: a date outside the data is the usual mistake
    if obs is not None and obs <= cal:
        raise ValueError(f"observation_end ({obs}) must be after calibration_end ({cal})")
    if obs is not None:
        _check_in_data(obs, ts_all, "observation_end")
    po = _prepare_orders(orders, statuses=statuses, amount=amount, before=end, check_ids=check_ids)
    p = _period_index(po.ts_us, freq)
    in_cal = po.ts_us < _us(cal)
    k = len(po.customers)
    big = np.iinfo(np.int64).max
    first = np.full(k, big, dtype=np.int64)
    np.minimum.at(first, po.codes[in_cal], p[in_cal])
    has_cal = first != big
    p_cal_end = int(_period_index(np.array([_us(cal) - 1]), freq)[0])
    pmin = int(p.min())
    span = int(p.max()) - pmin + 1
    c_cal, p_c = po.codes[in_cal], p[in_cal]
    pairs = _unique_keys(c_cal * span + (p_c - pmin), k * span)
    n_periods = np.bincount(pairs // span, minlength=k)
    last = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, c_cal, p_c)
    amt_c = po.amount[in_cal]
    total = np.bincount(c_cal, weights=amt_c, minlength=k)
    first_val = np.bincount(c_cal, weights=np.where(p_c == first[c_cal], amt_c, 0.0), minlength=k)
    freq_rep = np.maximum(n_periods - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mon = np.where(freq_rep > 0, (total - first_val) / np.maximum(freq_rep, 1), 0.0)
    out = pd.DataFrame(
        {
            "frequency": freq_rep.astype(float),
            "recency": np.where(has_cal, last - first, 0).astype(float),
            "T": np.where(has_cal, p_cal_end - first, 0).astype(float),
            "monetary_value": mon,
        },
        index=pd.Index(po.customers, name="customer_id"),
    )
    excluded = dict(po.excluded)
    if obs is not None:
        hold = ~in_cal
        c_h, p_h = po.codes[hold], p[hold]
        keys_h = _unique_keys(c_h * span + (p_h - pmin), k * span)
        fh = np.bincount(keys_h // span, minlength=k)
        rev_h = np.bincount(c_h, weights=po.amount[hold], minlength=k)
        out["frequency_holdout"] = fh.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["monetary_value_holdout"] = np.where(fh > 0, rev_h / np.maximum(fh, 1), 0.0)
        p_obs_end = int(_period_index(np.array([_us(obs) - 1]), freq)[0])
        out["duration_holdout"] = float(p_obs_end - p_cal_end)
    n_new = int((~has_cal).sum())
    if n_new:
        excluded["customers: first purchase on/after calibration_end"] = n_new
        if obs is not None:
            excluded["orders: of those customers (holdout)"] = int((~has_cal[po.codes]).sum())
    out = out[has_cal]
    out.attrs["time_unit"] = freq
    out.attrs["excluded"] = excluded
    out.attrs["calibration_end"] = str(cal)
    return out


def _bgnbd_params(params: Any) -> tuple[float, float, float, float]:
    if isinstance(params, BGNBDResult):
        return params.r, params.alpha, params.a, params.b
    if isinstance(params, Mapping):
        return float(params["r"]), float(params["alpha"]), float(params["a"]), float(params["b"])
    r, alpha, a, b = (float(x) for x in params)
    return r, alpha, a, b


def _check_bgnbd_data(x, tx, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    if not (x.shape == tx.shape == T.shape):
        x, tx, T = np.broadcast_arrays(x, tx, T)
    for name, v in (("frequency", x), ("recency", tx), ("T", T)):
        if np.isnan(v).any():
            raise ValueError(f"{name} has missing values")
        if (v < 0).any():
            raise ValueError(f"{name} must be >= 0")
    if (tx > T + 1e-9).any():
        raise ValueError("recency must be <= T for every customer")
    if (np.abs(x - np.round(x)) > 1e-9).any():
        raise ValueError("frequency must be whole numbers (repeat purchase counts)")
    return x, tx, T


def _bgnbd_ll_terms(theta: np.ndarray, x, tx, T, grad: bool, xinv=None, modified: bool = False):
    """Log-likelihood per row and its gradient w.r.t. (r, alpha, a, b).

    ``modified=False``: BG/NBD (drop-out possible after each *repeat* purchase);
    ``modified=True``: MBG/NBD (Batislam, Denizel & Filiztekin 2007: also right after
    the first purchase), whose "alive" and "dropped out" terms use B(a, b+x+1) and
    B(a+1, b+x) for every x. Special functions depend on x only: with ``xinv``
    (x = x_unique[xinv]) they are evaluated on the distinct x values and gathered,
    which makes a 1M-row evaluation cost a few array passes.
    """
    r, alpha, a, b = theta
    if xinv is None:
        xu, xinv = np.unique(x, return_inverse=True)
    else:
        xu = x
    dg = special.digamma
    lb_ab = special.betaln(a, b)
    psi_ab = dg(a + b)
    if modified:
        posu = np.ones(xu.shape, dtype=bool)
        c2u = special.betaln(a, b + xu + 1) - lb_ab
        c3u = special.betaln(a + 1, b + xu) - lb_ab
    else:
        posu = xu > 0
        xbu = np.where(posu, xu, 1.0)  # keep b + x - 1 > 0 where the term is unused
        c2u = special.betaln(a, b + xu) - lb_ab
        c3u = np.where(posu, special.betaln(a + 1, b + xbu - 1) - lb_ab, -np.inf)
    c1 = (special.gammaln(r + xu) - special.gammaln(r) + r * np.log(alpha))[xinv]
    c2, c3 = c2u[xinv], c3u[xinv]
    rx = (r + xu)[xinv]
    log_aT = np.log(alpha + T)
    log_atx = np.log(alpha + tx)
    A2 = c2 - rx * log_aT
    A3 = c3 - rx * log_atx
    M = np.logaddexp(A2, A3)
    ll = c1 + M
    if not grad:
        return ll, None
    w2 = np.exp(A2 - M)
    w3 = 1.0 - w2
    d_r = (dg(r + xu) - dg(r) + np.log(alpha))[xinv] - w2 * log_aT - w3 * log_atx
    d_alpha = r / alpha - rx * (w2 / (alpha + T) + w3 / (alpha + tx))
    if modified:
        psi_abx = dg(a + b + xu + 1)
        g2a = (psi_ab - psi_abx)[xinv]
        g3a = (dg(a + 1) - psi_abx - dg(a) + psi_ab)[xinv]
        g2b = (dg(b + xu + 1) - psi_abx - dg(b) + psi_ab)[xinv]
        g3b = (dg(b + xu) - psi_abx - dg(b) + psi_ab)[xinv]
    else:
        psi_abx = dg(a + b + xu)
        g2a = (psi_ab - psi_abx)[xinv]
        g3a = (dg(a + 1) - psi_abx - dg(a) + psi_ab)[xinv]
        g2b = (dg(b + xu) - psi_abx - dg(b) + psi_ab)[xinv]
        g3b = np.where(posu, dg(b + xbu - 1) - psi_abx - dg(b) + psi_ab, 0.0)[xinv]
    d_a = w2 * g2a + w3 * g3a
    d_b = w2 * g2b + w3 * g3b
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


def bgnbd_log_likelihood(params: Any, frequency, recency, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6).

    ``L = B(a, b+x)/B(a, b) * Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))``,
    summed in log space with ``logaddexp`` (``gammaln``, ``betaln``).

    >>> float(bgnbd_log_likelihood((1.0, 1.0, 1.0, 1.0), 0, 0, 1))  # = log(0.5)
    -0.6931471805599453
    """
    x, tx, T = _check_bgnbd_data(frequency, recency, T)
    ll, _ = _bgnbd_ll_terms(np.array(_bgnbd_params(params)), x, tx, T, grad=False)
    return ll


def mbgnbd_log_likelihood(params: Any, frequency, recency, T) -> np.ndarray:
    """Per-customer MBG/NBD log-likelihood (Batislam, Denizel & Filiztekin 2007).

    Same story as BG/NBD except that a customer may also drop out right after the
    *first* purchase, so a one-time buyer is not certainly alive:
    ``L = Γ(r+x) α^r / Γ(r) · [B(a, b+x+1)/B(a, b) (α+T)^-(r+x)
    + B(a+1, b+x)/B(a, b) (α+t_x)^-(r+x)]`` for every x ≥ 0 (the second term: dropped
    out after the last purchase, at t_x = 0 when x = 0), summed in log space.

    >>> round(float(mbgnbd_log_likelihood((1.0, 1.0, 1.0, 1.0), 0, 0, 1)), 6)  # log(1/2 * 1/2 + 1/2)
    -0.287682
    """
    x, tx, T = _check_bgnbd_data(frequency, recency, T)
    ll, _ = _bgnbd_ll_terms(np.array(_bgnbd_params(params)), x, tx, T, grad=False, modified=True)
    return ll


@dataclass(frozen=True, eq=False)
class BGNBDResult(_Result):
    """Maximum-likelihood BG/NBD fit (Fader, Hardie & Lee 2005).

    Fields
    ------
    r, alpha : Gamma(shape r, rate alpha) heterogeneity of the purchase rate λ while
        alive (mean rate r/alpha purchases per time unit).
    a, b : Beta(a, b) heterogeneity of the drop-out probability p after each purchase
        (mean a/(a+b)).
    log_likelihood : maximised total log-likelihood. n_customers : customers fitted.
    converged : optimiser success flag; message : optimiser message.
    se : standard errors of (r, alpha, a, b) from the inverse of a numerical Hessian
        (forward differences of the analytic gradient), delta method from log space;
        NaN when the Hessian is singular.
    time_unit : unit of recency/T the parameters refer to ("W" = weeks).
    model : "BG/NBD" (:func:`fit_bgnbd`) or "MBG/NBD" (:func:`fit_mbgnbd`); the
        prediction functions read it.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    se: dict[str, float]
    time_unit: str = "W"
    model: str = "BG/NBD"

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def to_frame(self) -> pd.DataFrame:
        """Parameters with standard errors and 95% Wald intervals (in log space)."""
        from scipy import stats  # lazy: keeps `import ecomlab` fast
        est = pd.Series(self.params)
        se = pd.Series(self.se)
        z = stats.norm.ppf(0.975)
        with np.errstate(invalid="ignore", divide="ignore"):
            se_log = se / est
        return pd.DataFrame(
            {
                "estimate": est,
                "se": se,
                "ci_low": est * np.exp(-z * se_log),
                "ci_high": est * np.exp(z * se_log),
            }
        ).rename_axis("param").reset_index()


def _compress(cols: Sequence[np.ndarray], weights: np.ndarray | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns with their counts (sufficient for the likelihood);
    with ``weights``, each row already stands for that many customers."""
    n = len(cols[0])
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    probe = cols[-1][: min(n, 20_000)]
    if n > 50_000 and len(np.unique(probe)) > 0.5 * len(probe):  # continuous: nothing to gain
        return [np.asarray(c, float) for c in cols], w
    df = pd.DataFrame({i: c for i, c in enumerate(cols)})
    g = df.assign(_w=w).groupby(list(range(len(cols))), sort=False)["_w"].sum()
    g = g[g > 0]
    idx = g.index
    return [idx.get_level_values(i).to_numpy(float) for i in range(len(cols))], g.to_numpy(float)


def _weights(summary: pd.DataFrame, weights: str | None) -> np.ndarray | None:
    """The ``weights`` column as counts of customers per row (finite, >= 0, total > 0)."""
    if weights is None:
        return None
    _require(summary, [weights], "summary")
    w = _numeric(summary[weights], weights)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ValueError(f"summary column {weights!r}: expected finite counts >= 0 (customers per row), "
                         f"found {w[bad][:3].tolist()} in {int(bad.sum())} row(s)")
    if len(w) and w.sum() <= 0:
        raise ValueError(f"summary column {weights!r}: the counts sum to 0; nothing to fit")
    return w


def _numerical_hessian(grad_fn, z: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Forward differences of the analytic gradient (one gradient call per parameter)."""
    n = len(z)
    g0 = grad_fn(z)
    H = np.empty((n, n))
    for i in range(n):  # loop over the 3-4 parameters, not over data
        e = np.zeros(n)
        e[i] = eps
        H[:, i] = (grad_fn(z + e) - g0) / eps
    return (H + H.T) / 2


def _se_from_hessian(H: np.ndarray, theta: np.ndarray) -> np.ndarray:
    try:
        cov = np.linalg.inv(H)
        v = np.diag(cov)
        return np.where(v > 0, np.sqrt(np.abs(v)), np.nan) * theta
    except np.linalg.LinAlgError:
        return np.full(len(theta), np.nan)


def fit_bgnbd(
    summary: pd.DataFrame,
    *,
    init: Mapping[str, float] | None = None,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    weights: str | None = None,
) -> BGNBDResult:
    """Fit the BG/NBD model by maximum likelihood (Fader, Hardie & Lee 2005).

    Maximises the sum of :func:`bgnbd_log_likelihood` over customers with
    ``scipy.optimize.minimize(method="L-BFGS-B")`` on log-parameters (so r, α, a, b
    stay positive) with the analytic gradient. Customers with identical
    (frequency, recency, T) are collapsed with counts first, which makes weekly data
    with a million customers fit in about a second. Standard errors: inverse numerical
    Hessian. Published CDNOW optimum for comparison: r=0.243, α=4.414, a=0.793,
    b=2.426, LL=-9582.4 (weeks; Fader, Hardie & Lee 2005).

    ``weights`` names a column of customer counts per row: a summary already grouped to
    distinct (frequency, recency, T) rows (what :func:`ecomlab.engines.fit_bgnbd` brings
    back from DuckDB or Spark) fits to the same optimum as the per-customer table.

    >>> s = pd.DataFrame({"frequency": [0, 1, 2, 0, 5, 1], "recency": [0, 3, 8, 0, 20, 2],
    ...                   "T": [10, 12, 20, 30, 30, 5]})
    >>> fit_bgnbd(s).converged
    True
    >>> g = s.groupby(["frequency", "recency", "T"], as_index=False).size()
    >>> round(fit_bgnbd(g, weights="size").r, 3) == round(fit_bgnbd(s).r, 3)
    True
    """
    return _fit_nbd(summary, init=init, frequency=frequency, recency=recency, T=T, weights=weights,
                    modified=False)


def fit_mbgnbd(
    summary: pd.DataFrame,
    *,
    init: Mapping[str, float] | None = None,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    weights: str | None = None,
) -> BGNBDResult:
    """Fit the MBG/NBD model by maximum likelihood (Batislam, Denizel & Filiztekin 2007).

    As :func:`fit_bgnbd` (same optimiser, gradient, compression and standard errors) on
    :func:`mbgnbd_log_likelihood`. The difference matters for one-time buyers: BG/NBD
    lets a customer drop out only after a repeat purchase, so every customer with x = 0
    has P(alive) = 1 however long they have been silent; MBG/NBD also allows drop-out
    right after the first purchase, so their P(alive) falls with T. The result has
    ``model="MBG/NBD"``, which :func:`p_alive`, :func:`expected_purchases` and
    :func:`clv` follow.

    >>> s = pd.DataFrame({"frequency": [0, 1, 2, 0, 5, 1], "recency": [0, 3, 8, 0, 20, 2],
    ...                   "T": [10, 12, 20, 30, 30, 5]})
    >>> fit_mbgnbd(s).model
    'MBG/NBD'
    """
    return _fit_nbd(summary, init=init, frequency=frequency, recency=recency, T=T, weights=weights,
                    modified=True)


def _fit_nbd(summary, *, init, frequency, recency, T, weights, modified: bool) -> BGNBDResult:
    from scipy import optimize  # lazy: keeps `import ecomlab` fast
    _require(summary, [frequency, recency, T], "summary")
    x, tx, TT = _check_bgnbd_data(
        _numeric(summary[frequency], frequency), _numeric(summary[recency], recency), _numeric(summary[T], T)
    )
    (xu, txu, Tu), w = _compress([x, tx, TT], _weights(summary, weights))
    n = float(w.sum())
    xs, xinv = np.unique(xu, return_inverse=True)
    if init is None:
        mean_rate = (xu * w).sum() / max((Tu * w).sum(), 1e-9)
        theta0 = np.array([1.0, 1.0 / max(mean_rate, 1e-6), 1.0, 1.0])
    else:
        theta0 = np.array([init["r"], init["alpha"], init["a"], init["b"]], dtype=float)

    def f(z):
        theta = np.exp(z)
        ll, g = _bgnbd_ll_terms(theta, xs, txu, Tu, grad=True, xinv=xinv, modified=modified)
        return -(w @ ll) / n, -(g @ w) * theta / n

    res = optimize.minimize(
        f, np.log(theta0), jac=True, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * 4,
        options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-7},
    )
    theta = np.exp(res.x)
    H = _numerical_hessian(lambda z: f(z)[1] * n, res.x)
    se = _se_from_hessian(H, theta)
    ll = float(-res.fun * n)
    return BGNBDResult(
        r=float(theta[0]),
        alpha=float(theta[1]),
        a=float(theta[2]),
        b=float(theta[3]),
        log_likelihood=ll,
        n_customers=int(n),
        converged=bool(res.success),
        message=str(res.message),
        se=dict(zip(("r", "alpha", "a", "b"), map(float, se), strict=True)),
        time_unit=str(summary.attrs.get("time_unit", "W")),
        model="MBG/NBD" if modified else "BG/NBD",
    )


def _like(template, values: np.ndarray, name: str):
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index, name=name)
    return values if np.ndim(values) else float(values)


_MODELS = ("BG/NBD", "MBG/NBD")


def _model_of(params: Any, model: str | None) -> bool:
    """True for MBG/NBD: from ``model`` or, when None, from a fitted result's ``model``."""
    if model is None:
        model = params.model if isinstance(params, BGNBDResult) else "BG/NBD"
    if model not in _MODELS:
        raise ValueError(f"model must be one of {_MODELS}, got {model!r}")
    return model == "MBG/NBD"


def _log_odds_dead(r, alpha, a, b, x, tx, TT, modified: bool) -> np.ndarray:
    """log of P(dropped out) / P(alive) given (x, t_x, T); -inf where impossible."""
    if modified:  # MBG/NBD: a/(b+x) for every x
        return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + TT) - np.log(alpha + tx))
    pos = x > 0
    lo = np.log(a) - np.log(np.where(pos, b + x - 1, 1.0)) + (r + x) * (np.log(alpha + TT) - np.log(alpha + tx))
    return np.where(pos, lo, -np.inf)


def expected_purchases(params: Any, t, frequency, recency, T, *, model: str | None = None):
    """Expected purchases in the next ``t`` periods given (x, t_x, T).

    BG/NBD (Fader, Hardie & Lee 2005, eq. 10):
    ``E[Y(t)|x, t_x, T] = (a+b+x-1)/(a-1) * [1 - ((α+T)/(α+T+t))^(r+x)
    2F1(r+x, b+x; a+b+x-1; t/(α+T+t))] / (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x))``.
    MBG/NBD (Batislam, Denizel & Filiztekin 2007):
    ``(a+b+x)/(a-1) * [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]
    / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))``. ``model`` (default: the fitted result's,
    else "BG/NBD"); ``scipy.special.hyp2f1``. Returns a Series when ``frequency`` is
    one. ``t`` may be a scalar or an array broadcastable with the data.

    >>> round(float(expected_purchases((0.243, 4.414, 0.793, 2.426), 39, 2, 30.43, 38.86)), 3)
    1.226
    """
    modified = _model_of(params, model)
    r, alpha, a, b = _bgnbd_params(params)
    x, tx, TT = _check_bgnbd_data(frequency, recency, T)
    t = np.asarray(t, dtype=float)
    if (t < 0).any():
        raise ValueError("t must be >= 0")
    k = 1.0 if modified else 0.0  # MBG/NBD shifts b + x and a + b + x by one
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        log_ratio = (r + x) * np.log((alpha + TT) / (alpha + TT + t))
        hyp = special.hyp2f1(r + x, b + x + k, a + b + x - 1 + k, t / (alpha + TT + t))
        num = (a + b + x - 1 + k) / (a - 1) * (1 - np.exp(log_ratio) * hyp)
        out = num / (1 + np.exp(_log_odds_dead(r, alpha, a, b, x, tx, TT, modified)))
    out = np.where(t == 0, 0.0, out)
    return _like(frequency, out, "expected_purchases")


def p_alive(params: Any, frequency, recency, T, *, model: str | None = None):
    """P(customer still alive | x, t_x, T) under BG/NBD or MBG/NBD.

    BG/NBD: ``P = 1 / (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x))`` (Fader, Hardie &
    Lee 2005, eq. 11) — exactly 1 when x = 0, because a customer can only drop out
    right after a repeat purchase. MBG/NBD: ``P = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))``
    for every x (Batislam, Denizel & Filiztekin 2007), so a one-time buyer's P(alive)
    falls with the silence T. Computed as a logistic of the log-odds; in [0, 1].
    ``model``: default the fitted result's, else "BG/NBD".

    >>> float(p_alive((0.243, 4.414, 0.793, 2.426), 0, 0, 38.86))
    1.0
    >>> round(float(p_alive((0.243, 4.414, 0.793, 2.426), 0, 0, 38.86, model="MBG/NBD")), 3)
    0.637
    """
    modified = _model_of(params, model)
    r, alpha, a, b = _bgnbd_params(params)
    x, tx, TT = _check_bgnbd_data(frequency, recency, T)
    out = special.expit(-_log_odds_dead(r, alpha, a, b, x, tx, TT, modified))
    return _like(frequency, out, "p_alive")


def expected_purchases_unconditional(params: Any, t):
    """Expected purchases by a *new* customer in ``(0, t]``: BG/NBD eq. (9).

    ``E[X(t)] = (a+b-1)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]``.
    Used for the calibration/holdout tracking chart: sum it over customers at their
    own ages (Fader, Hardie & Lee 2005, Fig. 1).

    >>> round(float(expected_purchases_unconditional((0.243, 4.414, 0.793, 2.426), 39)), 3)
    1.197
    """
    r, alpha, a, b = _bgnbd_params(params)
    t = np.asarray(t, dtype=float)
    if (t < 0).any():
        raise ValueError("t must be >= 0")
    out = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    out = np.where(t == 0, 0.0, out)
    return out if out.ndim else float(out)


@dataclass(frozen=True, eq=False)
class GammaGammaResult(_Result):
    """Maximum-likelihood Gamma-Gamma spend model (Fader, Hardie & Lee 2005b).

    Fields
    ------
    p : shape of each transaction's Gamma(p, ν) value; q, gamma : Gamma(q, γ)
        heterogeneity of ν across customers. Population mean spend per transaction
        = p γ / (q - 1) (finite only when q > 1).
    log_likelihood, n_customers (repeat buyers used), converged, message, se (inverse
    numerical Hessian), excluded (customers left out by reason: no repeat purchase,
    monetary_value <= 0).
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    se: dict[str, float]
    excluded: dict[str, int]

    @property
    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_spend(self) -> float:
        """Population mean spend per transaction p γ / (q - 1) (inf if q <= 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"estimate": pd.Series(self.params), "se": pd.Series(self.se)}).rename_axis("param").reset_index()


def _gg_terms(theta, x, m, grad: bool):
    p, q, g = theta
    px = p * x
    ll = (
        special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
        + q * np.log(g) + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + g)
    )
    if not grad:
        return ll, None
    dg = special.digamma
    lxm = np.log(x * m + g)
    d_p = x * (dg(px + q) - dg(px) + np.log(m) + np.log(x) - lxm)
    d_q = dg(px + q) - dg(q) + np.log(g) - lxm
    d_g = q / g - (px + q) / (x * m + g)
    return ll, np.stack([d_p, d_q, d_g])


def gamma_gamma_log_likelihood(params: Any, frequency, monetary_value) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` over ``x`` purchases.

    ``log f(m | x) = lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln γ + (px-1) ln m + px ln x
    - (px+q) ln(γ + x m)`` (Fader, Hardie & Lee 2005b; Fader & Hardie 2013 note).

    >>> round(float(gamma_gamma_log_likelihood((6.25, 3.74, 15.44), 1, 30.0)), 4)
    -3.9485
    """
    p, q, g = (params.p, params.q, params.gamma) if isinstance(params, GammaGammaResult) else (
        (params["p"], params["q"], params["gamma"]) if isinstance(params, Mapping) else params
    )
    x = np.asarray(frequency, float)
    m = np.asarray(monetary_value, float)
    if (x <= 0).any() or (m <= 0).any():
        raise ValueError("frequency and monetary_value must be > 0 (repeat buyers only)")
    return _gg_terms(np.array([p, q, g], float), x, m, grad=False)[0]


def fit_gamma_gamma(
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    monetary_value: str = "monetary_value",
) -> GammaGammaResult:
    """Fit the Gamma-Gamma spend model by maximum likelihood on repeat buyers.

    Uses customers with ``frequency > 0`` and ``monetary_value > 0`` (the mean spend of
    their repeat purchases, as in :func:`rfm_summary`); others are counted in
    ``excluded``. L-BFGS-B on log-parameters with the analytic gradient. The model
    assumes spend is independent of purchase frequency — check with
    :func:`spend_frequency_correlation`. Reference: Fader, Hardie & Lee (2005),
    "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4).

    >>> s = pd.DataFrame({"frequency": [1, 2, 3, 1, 4, 2, 0], "monetary_value": [30., 45., 20., 80., 35., 25., 0.]})
    >>> fit_gamma_gamma(s).excluded
    {'no repeat purchase (frequency = 0)': 1, 'monetary_value <= 0': 0}
    """
    from scipy import optimize  # lazy: keeps `import ecomlab` fast
    _require(summary, [frequency, monetary_value], "summary")
    x = _numeric(summary[frequency], frequency)
    m = _numeric(summary[monetary_value], monetary_value)
    rep = x > 0
    pos = m > 0
    use = rep & pos
    excluded = {"no repeat purchase (frequency = 0)": int((~rep).sum()), "monetary_value <= 0": int((rep & ~pos).sum())}
    if use.sum() < 3:
        raise ValueError(f"need at least 3 repeat buyers with monetary_value > 0, got {int(use.sum())}")
    (xu, mu), w = _compress([x[use], m[use]])
    n = float(w.sum())
    mbar = float((mu * w).sum() / n)

    def f(z):
        theta = np.exp(z)
        ll, g = _gg_terms(theta, xu, mu, grad=True)
        return -(w @ ll) / n, -(g @ w) * theta / n

    theta0 = np.array([2.0, 3.0, 2.0 * mbar / 2.0])  # p γ/(q-1) = mbar at the start
    res = optimize.minimize(
        f, np.log(theta0), jac=True, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * 3,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
    )
    theta = np.exp(res.x)
    H = _numerical_hessian(lambda z: f(z)[1] * n, res.x)
    se = _se_from_hessian(H, theta)
    return GammaGammaResult(
        p=float(theta[0]),
        q=float(theta[1]),
        gamma=float(theta[2]),
        log_likelihood=float(-res.fun * n),
        n_customers=int(n),
        converged=bool(res.success),
        message=str(res.message),
        se=dict(zip(("p", "q", "gamma"), map(float, se), strict=True)),
        excluded=excluded,
    )


def conditional_expected_spend(gg: GammaGammaResult | Mapping[str, float], frequency, monetary_value):
    """Expected spend per future transaction given x repeat purchases of mean m_x.

    ``E[M | p, q, γ, m_x, x] = (q-1)/(px+q-1) · pγ/(q-1) + px/(px+q-1) · m_x`` — a
    weighted average of the population mean and the customer's own mean (Fader,
    Hardie & Lee 2005b, eq. 5). Customers with x = 0 get the population mean.
    Requires q > 1.

    >>> round(float(conditional_expected_spend({"p": 6.25, "q": 3.74, "gamma": 15.44}, 2, 30.0)), 2)
    30.94
    """
    p, q, g = (gg.p, gg.q, gg.gamma) if isinstance(gg, GammaGammaResult) else (gg["p"], gg["q"], gg["gamma"])
    if q <= 1:
        raise ValueError(f"Gamma-Gamma q must be > 1 for a finite mean spend, got q={q:.4g}")
    x = np.asarray(frequency, float)
    m = np.asarray(monetary_value, float)
    if (x < 0).any() or np.isnan(x).any() or np.isnan(m).any():
        raise ValueError("frequency must be >= 0 and values not missing")
    px = p * x
    out = ((q - 1) / (px + q - 1)) * (p * g / (q - 1)) + (px / (px + q - 1)) * np.where(x > 0, m, 0.0)
    return _like(frequency, out, "expected_spend")


def clv(
    bgnbd: BGNBDResult,
    gg: GammaGammaResult,
    summary: pd.DataFrame,
    months: int = 12,
    *,
    margin: float,
    annual_discount_rate: float = 0.1,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Discounted customer lifetime value over the next ``months`` (BG/NBD x Gamma-Gamma).

    ``bgnbd`` may be a :func:`fit_bgnbd` or a :func:`fit_mbgnbd` result: expected purchases
    and P(alive) follow its ``model``. Score at the end of the data (``rfm_summary`` with
    ``calibration_end`` = the day after the last order) for decisions about the future.

    ``CLV_i = margin * E[spend_i] * Σ_{m=1..months} (E[Y_i(t_m)] - E[Y_i(t_{m-1})]) / (1+d)^m``
    with ``t_m`` = m months in the model's time unit (a month = 365.25/12 days),
    ``d = (1 + annual_discount_rate)^(1/12) - 1`` and ``E[spend_i]`` from
    :func:`conditional_expected_spend`. ``margin`` is the gross margin fraction
    (e.g. from :func:`ecomlab.metrics.gross_margin`), so the result is profit CLV.
    Reference: Fader, Hardie & Lee (2005b). Returns per customer
    ``expected_purchases``, ``p_alive``, ``expected_spend``, ``clv_amount``.

    >>> s = pd.DataFrame({"frequency": [2.0], "recency": [30.43], "T": [38.86], "monetary_value": [30.0]})
    >>> bg = BGNBDResult(0.243, 4.414, 0.793, 2.426, 0.0, 1, True, "", {})
    >>> g = GammaGammaResult(6.25, 3.74, 15.44, 0.0, 1, True, "", {}, {})
    >>> round(float(clv(bg, g, s, margin=0.4)["clv_amount"].iloc[0]), 2)
    18.44
    """
    if not 0 < margin <= 1:
        raise ValueError(f"margin must be a gross-margin fraction in (0, 1], got {margin!r}")
    if not 0 <= annual_discount_rate < 1:
        raise ValueError(f"annual_discount_rate must be in [0, 1), got {annual_discount_rate!r}")
    if not isinstance(months, (int, np.integer)) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    unit = time_unit or bgnbd.time_unit
    if unit not in ("W", "D"):
        raise ValueError(f"time_unit must be 'W' or 'D', got {unit!r}")
    _require(summary, ["frequency", "recency", "T", "monetary_value"], "summary")
    per_month = _DAYS_PER_MONTH / (7.0 if unit == "W" else 1.0)
    x, tx, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    t = per_month * np.arange(0, months + 1)[:, None]  # months x customers, loop-free
    cum = np.asarray(expected_purchases(bgnbd, t, x[None, :], tx[None, :], T[None, :]))  # model of the fit
    d = (1 + annual_discount_rate) ** (1 / 12) - 1
    disc = 1 / (1 + d) ** np.arange(1, months + 1)
    disc_purch = (np.diff(cum, axis=0) * disc[:, None]).sum(axis=0)
    spend = np.asarray(conditional_expected_spend(gg, x, summary["monetary_value"].to_numpy(float)))
    return pd.DataFrame(
        {
            "expected_purchases": cum[-1],
            "p_alive": np.asarray(p_alive(bgnbd, x, tx, T)),
            "expected_spend": spend,
            "clv_amount": margin * spend * disc_purch,
        },
        index=summary.index,
    )


@dataclass(frozen=True, eq=False)
class CorrelationResult(_Result):
    """Correlation between purchase frequency and mean spend among repeat buyers.

    Fields: pearson, pearson_p, spearman, spearman_p, n (repeat buyers), verdict
    ("independence plausible" when |Spearman| < 0.1, else a warning).
    """

    pearson: float
    pearson_p: float
    spearman: float
    spearman_p: float
    n: int
    verdict: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self._scalars()])


def spend_frequency_correlation(summary: pd.DataFrame) -> CorrelationResult:
    """Check the Gamma-Gamma independence assumption: is spend related to frequency?

    Pearson and Spearman correlations (``scipy.stats``) of ``frequency`` and
    ``monetary_value`` over repeat buyers (frequency > 0). Fader, Hardie & Lee (2005b)
    report 0.11 on CDNOW and call that weak enough. Rule of thumb used here:
    |Spearman| < 0.1 → independence plausible.

    >>> s = pd.DataFrame({"frequency": [1, 2, 3, 4, 1], "monetary_value": [30., 31., 29., 30., 32.]})
    >>> spend_frequency_correlation(s).n
    5
    """
    from scipy import stats  # lazy: keeps `import ecomlab` fast
    _require(summary, ["frequency", "monetary_value"], "summary")
    x = _numeric(summary["frequency"], "frequency")
    m = _numeric(summary["monetary_value"], "monetary_value")
    use = x > 0
    if use.sum() < 3:
        raise ValueError(f"need at least 3 repeat buyers, got {int(use.sum())}")
    pr = stats.pearsonr(x[use], m[use])
    sr = stats.spearmanr(x[use], m[use])
    rho = float(sr.statistic)
    verdict = (
        "independence plausible (|Spearman| < 0.1)"
        if abs(rho) < 0.1
        else f"spend and frequency are correlated (Spearman {rho:.2f}): Gamma-Gamma assumption questionable"
    )
    return CorrelationResult(float(pr.statistic), float(pr.pvalue), rho, float(sr.pvalue), int(use.sum()), verdict)
