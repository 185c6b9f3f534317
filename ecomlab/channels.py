"""Lesson 03-1 — channel economics and media mix (渠道投放与 ROI).

Adstock, saturation, a small media-mix model (MMM) fitted with SciPy, response curves,
marginal ROAS and a budget allocation under a fixed total.

**Adstock convention.** :func:`geometric_adstock` uses *normalised* weights, as
pymc-marketing (``GeometricAdstock(normalize=True)``) and Google Meridian do: with decay
``θ`` the carry-over is ``a_t = (1 − θ)·x_t + θ·a_{t−1}`` (weights ``(1 − θ)θ^l`` summing
to 1), so a constant spend ``x`` settles at ``a = x`` and the total is preserved. Robyn
uses the unnormalised recursion ``A_t = x_t + θ·A_{t−1}`` whose steady-state gain is
``1/(1 − θ)``. The two differ by that factor only: ``A = a/(1 − θ)``, so a Robyn
half-saturation ``K_R`` equals ``K_N/(1 − θ)`` in normalised units
(:func:`robyn_half_saturation`). ``normalised=False`` gives Robyn's recursion.

**Saturation.** Hill: ``h(a) = a^s/(a^s + K^s)`` (``K`` the half-saturation point,
``h(K) = ½``); logistic as in pymc-marketing: ``(1 − e^{−λa})/(1 + e^{−λa}) = tanh(λa/2)``.

**Model** (:func:`fit_mmm`), for daily sales ``y_t`` driven by paid channels ``c``::

    y_t = s_t · ( b·e^{g·t} + Σ_c β_c · h(a_{c,t}; K_c, shape) ),
    log s_t = weekday effects + yearly Fourier terms + one effect per promotion

fitted as a quasi-Poisson model by iteratively reweighted non-linear least squares
(:func:`scipy.optimize.least_squares`, analytic Jacobian); intervals by a moving-block
bootstrap of those residuals (Künsch 1989). The multiplicative season matches a world in
which promotions raise baseline and paid sales alike.

References: Jin, Wang, Sun, Chan & Koehler (2017), "Bayesian methods for media mix
modeling with carryover and shape effects", Google; Robyn documentation (Meta,
"Adstock"); pymc-marketing and Meridian documentation; Künsch (1989), *Ann. Statist.*
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, signal

from ecomlab.validation import require_columns

__all__ = [
    "geometric_adstock",
    "robyn_half_saturation",
    "hill",
    "logistic_saturation",
    "cac_by_channel",
    "season_design",
    "MediaMixFit",
    "fit_mmm",
    "window_roas",
    "LiftTestResult",
    "lift_test_roas",
    "bootstrap_mmm",
    "response_curve",
    "marginal_roas",
    "allocate_budget",
    "allocation_gain_draws",
    "bootstrap_table",
]


def _as_1d(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} has {int(np.isnan(arr).sum())} NaN value(s), e.g. at position "
                         f"{int(np.argmax(np.isnan(arr)))}; fill or drop them first")
    if (arr < 0).any():
        raise ValueError(f"{name} must be ≥ 0; found {arr[arr < 0][0]!r}")
    return arr


def geometric_adstock(x, decay: float, normalised: bool = True) -> np.ndarray:
    """Geometric carry-over of spend ``x`` (one value per day, in date order).

    ``normalised=True``: ``a_t = (1 − θ)x_t + θ a_{t−1}`` (pymc-marketing, Meridian);
    ``False``: Robyn's ``A_t = x_t + θ A_{t−1}`` = normalised ``/(1 − θ)``.
    Infinite lag (``scipy.signal.lfilter``), starting from ``a_{−1} = 0``.

    >>> geometric_adstock([100, 0, 0], 0.5).tolist()
    [50.0, 25.0, 12.5]
    >>> geometric_adstock([100, 0, 0], 0.5, normalised=False).tolist()
    [100.0, 50.0, 25.0]
    """
    arr = _as_1d(x, "x")
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1); got {decay!r}")
    gain = (1 - decay) if normalised else 1.0
    return signal.lfilter([gain], [1.0, -decay], arr)


def robyn_half_saturation(k_normalised: float, decay: float) -> float:
    """Half-saturation in Robyn's unnormalised adstock units: ``K_R = K_N / (1 − θ)``.

    >>> robyn_half_saturation(600.0, 0.5)
    1200.0
    """
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1); got {decay!r}")
    return float(k_normalised) / (1 - decay)


def hill(a, half: float, shape: float = 1.0) -> np.ndarray:
    """Hill saturation ``a^s / (a^s + K^s)`` in [0, 1); equals ½ at ``a = K``.

    >>> float(hill(800.0, 800.0))
    0.5
    >>> round(float(hill(2400.0, 800.0)), 3)
    0.75
    """
    arr = np.asarray(a, dtype=float)
    if half <= 0 or shape <= 0:
        raise ValueError(f"half and shape must be > 0; got half={half!r}, shape={shape!r}")
    if (arr < 0).any():
        raise ValueError(f"a must be ≥ 0; found {arr[arr < 0].ravel()[0]!r}")
    return arr**shape / (arr**shape + half**shape)


def logistic_saturation(a, lam: float) -> np.ndarray:
    """Logistic saturation ``(1 − e^{−λa}) / (1 + e^{−λa})`` (= ``tanh(λa/2)``), pymc-marketing's form.

    >>> round(float(logistic_saturation(1.0, 2.0)), 6) == round(float(np.tanh(1.0)), 6)
    True
    """
    if lam <= 0:
        raise ValueError(f"lam must be > 0; got {lam!r}")
    e = np.exp(-lam * np.asarray(a, dtype=float))
    return (1 - e) / (1 + e)


def cac_by_channel(spend: pd.DataFrame, customers: pd.DataFrame, freq: str = "QS") -> pd.DataFrame:
    """Customer acquisition cost per channel and period: spend / new customers.

    ``spend``: ``channel, date, spend``; ``customers``: ``acquisition_channel,
    first_order_date``. Channels without spend (organic) are left out (CAC undefined).
    Periods with spend but no new customer get ``inf`` — counted, never dropped.

    >>> s = pd.DataFrame({"channel": ["a", "a"], "date": pd.to_datetime(["2025-01-01", "2025-01-02"]),
    ...                   "spend": [300.0, 300.0]})
    >>> c = pd.DataFrame({"acquisition_channel": ["a"] * 4, "first_order_date": pd.to_datetime(["2025-01-01"] * 4)})
    >>> cac_by_channel(s, c)[["channel", "spend", "new_customers", "cac"]].values.tolist()
    [['a', 600.0, 4, 150.0]]
    """
    require_columns(spend, ["channel", "date", "spend"], "spend")
    require_columns(customers, ["acquisition_channel", "first_order_date"], "customers")
    sp = spend.loc[spend["spend"] > 0].assign(
        channel=lambda d: d["channel"].astype(str),
        period=lambda d: pd.to_datetime(d["date"]).dt.to_period(freq[0]).dt.start_time)
    sp = sp.groupby(["channel", "period"], as_index=False)["spend"].sum()
    cu = customers.assign(channel=customers["acquisition_channel"].astype(str),
                          period=pd.to_datetime(customers["first_order_date"]).dt.to_period(freq[0]).dt.start_time)
    n = cu.groupby(["channel", "period"]).size().rename("new_customers").reset_index()
    out = sp.merge(n, on=["channel", "period"], how="left")
    out["new_customers"] = out["new_customers"].fillna(0).astype("int64")
    with np.errstate(divide="ignore"):
        out["cac"] = out["spend"] / out["new_customers"].to_numpy(dtype=float)
    return out


# ------------------------------------------------------------------------------------
def season_design(dates: pd.DatetimeIndex, promo_days: pd.DataFrame | None, n_fourier: int = 3,
                  after_days: int = 4) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Season design: weekday dummies, yearly Fourier terms and promotion-day effects.

    Per promotion name: its first day (pre-sale) and its last (peak) day; pooled over
    promotions: the days in between with a linear ramp, and ``after_days`` days after a
    multi-day window (the post-festival lull). Returns ``(t in years, X, column names)``.

    >>> t, X, names = season_design(pd.date_range("2025-01-01", periods=14), None, n_fourier=1)
    >>> X.shape, names[-2:]
    ((14, 8), ['sin1', 'cos1'])
    """
    t = ((dates - dates[0]).days / 365.25).to_numpy()
    wd = (dates.day_of_week.to_numpy()[:, None] == np.arange(1, 7)[None, :]).astype(float)   # Monday baseline
    doy = 2 * np.pi * dates.day_of_year.to_numpy() / 365.25
    four = np.column_stack([f(k * doy) for k in range(1, n_fourier + 1) for f in (np.sin, np.cos)])
    cols = [wd, four]
    names = [f"weekday_{i}" for i in range(1, 7)] + [f"{f}{k}" for k in range(1, n_fourier + 1) for f in ("sin", "cos")]
    if promo_days is not None and len(promo_days):
        require_columns(promo_days, ["name", "start_date", "end_date"], "promo_days")
        d = dates.to_numpy()
        a = pd.to_datetime(promo_days["start_date"]).to_numpy()
        b = pd.to_datetime(promo_days["end_date"]).to_numpy()
        nm = promo_days["name"].astype(str).to_numpy()
        day = np.timedelta64(1, "D")
        middle = np.zeros(len(d))
        ramp = np.zeros(len(d))
        after = np.zeros(len(d))
        for name in sorted(set(nm)):
            k = nm == name
            first = np.isin(d, a[k][b[k] > a[k]])
            last = np.isin(d, b[k])
            for arr, lab in ((first, "first"), (last, "peak")):
                if arr.any():
                    cols.append(arr.astype(float)[:, None])
                    names.append(f"promo:{name}:{lab}")
        inside = (d[:, None] > a[None, :]) & (d[:, None] < b[None, :])
        frac = ((d[:, None] - a[None, :]) / np.maximum((b - a)[None, :], day)).astype(float)
        middle = inside.any(axis=1).astype(float)
        ramp = (inside * frac).sum(axis=1)
        post = (d[:, None] > b[None, :]) & (d[:, None] <= b[None, :] + after_days * day) & (b > a)[None, :]
        after = post.any(axis=1).astype(float)
        for arr, lab in ((middle, "promo:middle"), (ramp, "promo:ramp"), (after, "promo:after")):
            if arr.any():
                cols.append(arr[:, None])
                names.append(lab)
    return t, np.column_stack(cols), names


@dataclass
class MediaMixFit:
    """A fitted media-mix model (see the module docstring for its form)."""

    channels: list[str]
    dates: pd.DatetimeIndex
    spend: np.ndarray            # channels x days
    y: np.ndarray
    t: np.ndarray
    X: np.ndarray                # season design (weekday, Fourier, promotions)
    season_names: list[str]
    shape: float
    theta: np.ndarray            # raw parameter vector
    residuals: np.ndarray = field(repr=False)
    cost: float = 0.0
    bounds: tuple = field(default=(), repr=False)
    #: experiments the fit is calibrated to: (channel index, day masks, incremental sales,
    #: √φ/se, se) per experiment, or None (see :func:`fit_mmm`, ``lift=``)
    lift: tuple | None = field(default=None, repr=False)
    dispersion: float = 1.0      # Pearson χ²/(n − p) of the fit without experiments

    # parameter layout: [log b, g, season..., per channel (logit decay, log K, log beta)]
    def _unpack(self, th=None):
        return _unpack(th if th is not None else self.theta, self.X.shape[1], len(self.channels))

    @property
    def params(self) -> pd.DataFrame:
        """Decay, half-saturation (normalised and Robyn units), β and incremental ROAS per channel."""
        lb, g, sea, dec, logk, logb = self._unpack()
        k = np.exp(logk)
        contrib = self.contributions()
        roas = contrib.sum(axis=1) / self.spend.sum(axis=1)
        return pd.DataFrame({
            "decay": dec, "half_saturation": k, "half_saturation_robyn": k / (1 - dec),
            "beta": np.exp(logb), "incremental_roas": roas}, index=pd.Index(self.channels, name="channel"))

    def season(self, th=None) -> np.ndarray:
        lb, g, sea, *_ = self._unpack(th)
        return np.exp(self.X @ sea)

    def contributions(self, spend: np.ndarray | None = None, th=None) -> np.ndarray:
        """Sales due to each channel per day (channels x days), for ``spend`` (default: observed)."""
        lb, g, sea, dec, logk, logb = self._unpack(th)
        sp = self.spend if spend is None else spend
        s = self.season(th)
        ad = np.vstack([geometric_adstock(sp[i], dec[i]) for i in range(len(dec))])
        sat = ad**self.shape / (ad**self.shape + np.exp(logk)[:, None] ** self.shape)
        return np.exp(logb)[:, None] * sat * s

    def baseline(self, th=None) -> np.ndarray:
        lb, g, *_ = self._unpack(th)
        return np.exp(lb + g * self.t) * self.season(th)

    def predict(self, spend: np.ndarray | None = None, th=None) -> np.ndarray:
        return self.baseline(th) + self.contributions(spend, th).sum(axis=0)


def _unpack(th, n_season: int, n_ch: int):
    th = np.asarray(th, dtype=float)
    lb, g = th[0], th[1]
    sea = th[2:2 + n_season]
    ch = th[2 + n_season:].reshape(n_ch, 3)
    dec = 1 / (1 + np.exp(-ch[:, 0]))
    return lb, g, sea, dec, ch[:, 1], ch[:, 2]


def _lift_rows(th, m: MediaMixFit, jac: bool = False):
    """The experiments' penalty rows ``√φ·(Σ_W contribution_c − incremental)/se`` (and their Jacobian)."""
    spec = m.lift
    if spec is None:
        return np.zeros((0, len(th))) if jac else np.zeros(0)
    ch_idx, masks, target, scale, _ = spec
    if not jac:
        contrib = m.contributions(th=th)
        return scale * ((contrib[ch_idx] * masks).sum(axis=1) - target)
    grads = _channel_grads(th, m)
    rows = np.vstack([(grads[i] * masks[k][:, None]).sum(axis=0) for k, i in enumerate(ch_idx)])
    return scale[:, None] * rows


def _channel_grads(th, m: MediaMixFit) -> list[np.ndarray]:
    """∂(contribution of channel i per day)/∂θ for every channel: a days × parameters matrix each."""
    lb, g, sea, dec, logk, logb = m._unpack(th)
    s = np.exp(m.X @ sea)
    n = m.shape
    n_s = m.X.shape[1]
    out = []
    for i in range(len(dec)):
        x = m.spend[i]
        a = geometric_adstock(x, dec[i])
        k = np.exp(logk[i])
        h = a**n / (a**n + k**n)
        beta = np.exp(logb[i])
        a_prev = np.concatenate([[0.0], a[:-1]])
        da = signal.lfilter([1.0], [1.0, -dec[i]], a_prev - x) * dec[i] * (1 - dec[i])   # d a / d logit θ
        dh_da = np.divide(n * h * (1 - h), a, out=np.zeros_like(a), where=a > 0)
        gr = np.zeros((len(x), len(th)))
        gr[:, 2:2 + n_s] = (s * beta * h)[:, None] * m.X
        j = 2 + n_s + 3 * i
        gr[:, j], gr[:, j + 1], gr[:, j + 2] = s * beta * dh_da * da, -s * beta * n * h * (1 - h), s * beta * h
        out.append(gr)
    return out


def _resid(th, m: MediaMixFit, y, w):
    return np.concatenate([(y - m.predict(th=th)) / np.sqrt(w), _lift_rows(th, m)])


def _jac(th, m: MediaMixFit, y, w):
    """Analytic Jacobian of the weighted residuals (chain rule through the adstock recursion)."""
    lb, g, sea, *_ = m._unpack(th)
    s = np.exp(m.X @ sea)
    base = s * np.exp(lb + g * m.t)
    dmu = np.zeros((len(y), len(th)))
    dmu[:, 0], dmu[:, 1] = base, base * m.t
    dmu[:, 2:2 + m.X.shape[1]] = base[:, None] * m.X
    for gr in _channel_grads(th, m):
        dmu += gr
    return np.vstack([-dmu / np.sqrt(w)[:, None], _lift_rows(th, m, jac=True)])


def _irls(m: MediaMixFit, y: np.ndarray, th0: np.ndarray, lo, hi, n_iter: int = 4, w0: np.ndarray | None = None):
    """Quasi-Poisson fit: weighted least squares with weights μ from the previous pass (IRLS).

    At convergence the estimating equations are the Poisson score Σ (y − μ)/μ · ∂μ/∂θ = 0
    (McCullagh & Nelder 1989, §9); minimising Pearson's χ² with μ inside the weight
    instead biases μ upwards at small counts.
    """
    w = np.maximum(y, 1.0) if w0 is None else w0
    th = th0
    for _ in range(n_iter):
        # trial steps far from the optimum can overflow exp() (and inf x 0 saturation gives
        # NaN); the solver shrinks its step on a non-finite residual, so both are expected and
        # not reported; a non-finite result is refused below
        with np.errstate(over="ignore", invalid="ignore"):
            res = optimize.least_squares(_resid, np.clip(th, lo + 1e-12, hi - 1e-12), jac=_jac,
                                         args=(m, y, w), bounds=(lo, hi), x_scale="jac")
        if not np.all(np.isfinite(res.x)) or not np.isfinite(res.cost):
            raise ValueError("the media-mix fit diverged (non-finite parameters or cost); check the "
                             "spend and outcome series, or pass start= values")
        th = res.x
        w = np.maximum(m.predict(th=th), 1e-6)
    return th, (y - m.predict(th=th)) / np.sqrt(w), float(res.cost)


def fit_mmm(spend: pd.DataFrame, sales: pd.Series, promo_days: pd.DataFrame | None = None,
            shape: float = 1.0, n_fourier: int = 3, after_days: int = 4, growth: float | None = None,
            baseline: bool = True, start: Mapping[str, float] | None = None,
            lift: pd.DataFrame | None = None) -> MediaMixFit:
    """Fit the media-mix model to daily ``sales`` (indexed by date) and wide daily ``spend``.

    ``spend``: one column per paid channel, indexed by the same dates (no gaps, no NaN).
    ``promo_days``: promotion windows (``name, start_date, end_date``), e.g. from
    :func:`ecomlab.calendar.promotion_calendar`. ``shape``: the Hill shape, fixed (1 keeps
    the curve concave and the fit identifiable on two years of daily data).
    ``start``: initial decays by channel (default 0.4).

    ``lift``: incrementality experiments to **calibrate** the fit to, one row each with
    ``channel, start, end`` (the window, inclusive), ``incremental`` (the channel's incremental
    sales in the window, in the units of ``sales``) and ``se`` (its standard error), e.g. from
    :func:`lift_test_roas`. Each adds a Gaussian likelihood term for the experiment to the
    quasi-Poisson objective (a penalised likelihood)::

        Σ_t (y_t − μ_t)²/(φ μ_t) + Σ_e (Σ_{t∈W_e} contribution_{c_e,t} − incremental_e)² / se_e²

    with the dispersion ``φ`` from the fit without experiments (Pearson χ²/(n − p)), so the
    experiment weighs as its standard error says against the data's own noise: equivalent to a
    normal prior on the window's modelled incremental sales centred at the experiment's
    estimate. Not a hard constraint: the experiment is itself an estimate. pymc-marketing's
    ``add_lift_test_measurements`` adds the same kind of term to its likelihood.

    >>> d = pd.date_range("2024-01-01", periods=400)
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame({"tv": 100 * np.exp(rng.normal(0, .4, 400))}, index=d)
    >>> y = pd.Series(500 + 300 * hill(geometric_adstock(x["tv"], .5), 100.0), index=d)
    >>> f = fit_mmm(x, y)
    >>> round(float(f.params.loc["tv", "decay"]), 2), round(float(f.params.loc["tv", "half_saturation"]))
    (0.5, 100)
    """
    if not isinstance(spend, pd.DataFrame) or spend.shape[1] == 0:
        raise ValueError("spend must be a DataFrame with one column per paid channel")
    if not spend.index.equals(sales.index):
        raise ValueError(f"spend and sales must share their date index; spend has {len(spend)} days "
                         f"from {spend.index.min()}, sales {len(sales)} from {sales.index.min()}")
    dates = pd.DatetimeIndex(spend.index)
    if (np.diff(dates.values).astype("timedelta64[D]").astype(int) != 1).any():
        raise ValueError("spend/sales dates must be consecutive days without gaps or duplicates")
    sp = np.vstack([_as_1d(spend[c], f"spend[{c!r}]") for c in spend.columns])
    y = _as_1d(sales, "sales")
    t, X, names = season_design(dates, promo_days, n_fourier, after_days)
    chans = [str(c) for c in spend.columns]
    dec0 = np.array([(start or {}).get(c, 0.4) for c in chans])
    k0 = sp.mean(axis=1)
    share = y.mean() * 0.5 / len(chans)
    th0 = np.concatenate([[np.log(y.mean() * 0.5), 0.0], np.zeros(X.shape[1]),
                          np.column_stack([np.log(dec0 / (1 - dec0)), np.log(k0), np.full(len(chans), np.log(2 * share))]).ravel()])
    m = MediaMixFit(chans, dates, sp, y, t, X, names, shape, th0, np.zeros_like(y))
    lo = np.full_like(th0, -np.inf)
    hi = np.full_like(th0, np.inf)
    nb = 2 + X.shape[1]
    lo[nb::3], hi[nb::3] = -6, 4          # decay in (0.0025, 0.98)
    lo[nb + 1::3] = np.log(k0 / 50)
    hi[nb + 1::3] = np.log(k0 * 50)       # K within 1/50–50× the mean spend
    if growth is not None:                # baseline growth fixed from outside the sales (see docstring)
        th0[1], lo[1], hi[1] = growth, growth - 1e-9, growth + 1e-9
    if not baseline:                      # sales that exist only through the media (b = e^-30 ≈ 0)
        th0[:2], lo[:2], hi[:2] = (-30.0, 0.0), (-30.0 - 1e-9, -1e-9), (-30.0 + 1e-9, 1e-9)
    m.theta, m.residuals, m.cost = _irls(m, y, th0, lo, hi)
    m.bounds = (lo, hi)
    m.dispersion = float((m.residuals**2).sum() / max(len(y) - len(th0), 1))
    if lift is not None:
        m.lift = _lift_spec(m, lift)
        m.theta, m.residuals, m.cost = _irls(m, y, m.theta, lo, hi)
    return m


def _lift_spec(m: MediaMixFit, lift: pd.DataFrame) -> tuple:
    """Validate ``lift`` rows against the fit and turn them into penalty-row arrays."""
    if not isinstance(lift, pd.DataFrame) or lift.empty:
        raise ValueError("lift must be a DataFrame with at least one row of channel, start, end, incremental, se")
    require_columns(lift, ["channel", "start", "end", "incremental", "se"], "lift")
    bad = sorted(set(lift["channel"].astype(str)) - set(m.channels))
    if bad:
        raise ValueError(f"lift.channel must be one of the fitted channels {m.channels}; found {bad}")
    inc = pd.to_numeric(lift["incremental"], errors="coerce").to_numpy(dtype=float)
    se = pd.to_numeric(lift["se"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(inc).all():
        raise ValueError(f"lift.incremental must be finite numbers; found {lift['incremental'].tolist()}")
    if not (np.isfinite(se) & (se > 0)).all():
        raise ValueError(f"lift.se must be finite and > 0; found {lift['se'].tolist()}")
    a, b = pd.to_datetime(lift["start"]).to_numpy(), pd.to_datetime(lift["end"]).to_numpy()
    d = m.dates.to_numpy()
    masks = ((d[None, :] >= a[:, None]) & (d[None, :] <= b[:, None])).astype(float)
    empty = masks.sum(axis=1) == 0
    if empty.any():
        k = int(np.argmax(empty))
        raise ValueError(f"lift row {k}: its window {lift['start'].iloc[k]} to {lift['end'].iloc[k]} holds none of "
                         f"the fitted days ({m.dates[0]:%Y-%m-%d} to {m.dates[-1]:%Y-%m-%d})")
    ch_idx = np.array([m.channels.index(str(c)) for c in lift["channel"]])
    return ch_idx, masks, inc, np.sqrt(m.dispersion) / se, se


def window_roas(fit: MediaMixFit, start, end, channel: str | None = None, th=None) -> float:
    """Modelled incremental ROAS of ``channel`` in the window ``start..end`` (inclusive).

    ``Σ_{t∈W} contribution_t / Σ_{t∈W} spend_t`` in sales units per unit of spend: the
    window's sales due to the channel (including carry-over of earlier spend into it) over
    the window's spend, as a lift test that withholds the ads during the window measures it.

    >>> d = pd.date_range("2024-01-01", periods=200)
    >>> x = pd.DataFrame({"tv": np.full(200, 100.0)}, index=d)
    >>> f = fit_mmm(x, pd.Series(10 + 30 * hill(geometric_adstock(x["tv"], .5), 100.0), index=d))
    >>> round(window_roas(f, "2024-06-01", "2024-06-28"), 3)   # 30·½ per 100 spent per day
    0.15
    """
    channel = fit.channels[0] if channel is None and len(fit.channels) == 1 else channel
    if channel not in fit.channels:
        raise ValueError(f"channel must be one of {fit.channels}; got {channel!r}")
    i = fit.channels.index(channel)
    d = fit.dates
    w = np.asarray((d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end)))
    if not w.any() or fit.spend[i, w].sum() <= 0:
        raise ValueError(f"the window {start} to {end} has no fitted day with {channel} spend "
                         f"(fitted days {d[0]:%Y-%m-%d} to {d[-1]:%Y-%m-%d})")
    return float(fit.contributions(th=th)[i, w].sum() / fit.spend[i, w].sum())


class LiftTestResult(NamedTuple):
    """A conversion-lift test's incremental revenue and incremental ROAS (see :func:`lift_test_roas`)."""

    n_exposed: int
    n_holdout: int
    revenue_per_user_exposed: float
    revenue_per_user_holdout: float
    incremental_revenue: float
    se: float
    ci_low: float
    ci_high: float
    spend: float
    incremental_roas: float
    roas_ci_low: float
    roas_ci_high: float
    incremental_conversions: float | None
    pvalue: float
    level: float


def lift_test_roas(rows: pd.DataFrame, spend: float, *, level: float = 0.95, variant: str = "variant",
                   metric: str = "revenue", control: str = "control", treatment: str = "treatment",
                   converted: str | None = "converted") -> LiftTestResult:
    """Incremental revenue and incremental ROAS of a channel from a randomised conversion-lift test.

    ``rows``: one row per user of ONE experiment, ``variant`` = ``control`` (the holdout whose
    ads were withheld) or ``treatment`` (exposed), ``metric`` = the user's revenue in the test
    window. ``spend``: the channel's spend in the window (all of it reached the exposed users).

    Incremental revenue ``I = n_T·(ȳ_T − ȳ_C)`` (what the exposed users bought beyond what they
    would have without the ads, estimated by the holdout), incremental ROAS ``I / spend``.
    Standard error by the delta method for a linear function of two independent means:
    ``se(I) = n_T·√(s_T²/n_T + s_C²/n_C)``; ``n_T`` and the spend are fixed, so the interval of
    the ROAS is the interval of ``I`` divided by the spend. The difference and its interval are
    Welch's (:func:`ecomlab.experiments.mean_test`). Incremental conversions likewise from
    ``converted`` when that column exists (:func:`ecomlab.experiments.proportion_test`).
    Reference: Gordon, Zettelmeyer, Bhargava & Chapsky (2019), "A comparison of approaches to
    advertising measurement: evidence from big field experiments at Facebook", *Marketing Science*.

    >>> r = pd.DataFrame({"variant": ["control"] * 4 + ["treatment"] * 4,
    ...                   "revenue": [0, 0, 0, 100.0, 0, 0, 100.0, 200.0]})
    >>> res = lift_test_roas(r, spend=100.0, converted=None)
    >>> res.incremental_revenue, res.incremental_roas     # 4 × (75 − 25), / 100
    (200.0, 2.0)
    """
    from ecomlab import experiments

    if "experiment_id" in rows.columns and rows["experiment_id"].nunique() > 1:
        raise ValueError(f"rows must hold one experiment; experiment_id has "
                         f"{sorted(map(str, rows['experiment_id'].unique()))} (filter it first)")
    if not isinstance(spend, (int, float, np.integer, np.floating)) or not np.isfinite(spend) or spend <= 0:
        raise ValueError(f"spend must be the channel's spend in the window, a number > 0; got {spend!r}")
    alpha = 1 - level
    mt = experiments.mean_test(rows, variant=variant, metric=metric, control=control, treatment=treatment,
                               alpha=alpha)
    arms = rows.groupby(rows[variant].astype(str), observed=True)[metric].agg(["var", "count"])
    n_t, n_c = mt.n_treatment, mt.n_control
    se = n_t * float(np.sqrt(arms.loc[treatment, "var"] / n_t + arms.loc[control, "var"] / n_c))
    conv = None
    if converted is not None and converted in rows.columns:
        conv = n_t * experiments.proportion_test(rows, variant=variant, outcome=converted, control=control,
                                                 treatment=treatment, alpha=alpha).effect
    inc, lo, hi = n_t * mt.effect, n_t * mt.effect_ci_lower, n_t * mt.effect_ci_upper
    return LiftTestResult(n_t, n_c, mt.treatment_value, mt.control_value, float(inc), se, float(lo), float(hi),
                          float(spend), float(inc / spend), float(lo / spend), float(hi / spend),
                          None if conv is None else float(conv), mt.pvalue, float(level))


def bootstrap_mmm(fit: MediaMixFit, n_boot: int = 20, block: int = 28, seed: int = 0) -> list[np.ndarray]:
    """Moving-block bootstrap of the standardised residuals (blocks of ``block`` days); refits warm-started.

    A fit calibrated to experiments (``fit_mmm(..., lift=)``) redraws each experiment's
    estimate from its normal sampling distribution in every refit, so the intervals carry the
    experiment's uncertainty.

    Returns the parameter vectors; use them with ``fit.params``-style summaries via
    :func:`bootstrap_table`.
    """
    if n_boot < 1 or block < 1:
        raise ValueError(f"n_boot and block must be ≥ 1; got {n_boot}, {block}")
    rng = np.random.default_rng(seed)
    mu = fit.predict()
    n = len(fit.y)
    out = []
    lo, hi = fit.bounds
    for _ in range(n_boot):
        starts = rng.integers(0, n - block + 1, n // block + 1)
        idx = (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]
        y_b = np.maximum(mu + np.sqrt(mu) * fit.residuals[idx], 0.0)
        m_b = fit
        if fit.lift is not None:          # the experiment is an estimate too: redraw it within its error
            ch_idx, masks, inc, scale, se = fit.lift
            m_b = replace(fit, lift=(ch_idx, masks, inc + se * rng.standard_normal(len(se)), scale, se))
        out.append(_irls(m_b, y_b, fit.theta, lo, hi, n_iter=1, w0=np.maximum(mu, 1e-6))[0])
    return out


def bootstrap_table(fit: MediaMixFit, draws: Sequence[np.ndarray], level: float = 0.9) -> pd.DataFrame:
    """Percentile intervals of decay, half-saturation and incremental ROAS per channel."""
    rows = []
    for th in draws:
        _, _, _, dec, logk, _ = fit._unpack(th)
        roas = fit.contributions(th=th).sum(axis=1) / fit.spend.sum(axis=1)
        rows.append(np.column_stack([dec, np.exp(logk), roas]))
    arr = np.stack(rows)                                        # draws x channels x 3
    q = [(1 - level) / 2, (1 + level) / 2]
    lo, hi = np.quantile(arr, q, axis=0)
    cols = ["decay", "half_saturation", "incremental_roas"]
    out = fit.params[cols].copy()
    for j, c in enumerate(cols):
        out[f"{c}_lo"], out[f"{c}_hi"] = lo[:, j], hi[:, j]
    return out


def response_curve(fit: MediaMixFit, channel: str, multipliers, window: int = 91, th=None) -> pd.DataFrame:
    """Sales due to ``channel`` over the last ``window`` days if its spend there were × m.

    Other channels unchanged. Columns ``multiplier, spend, revenue`` (sales units over the
    window; they include the carry-over of spend before the window, so ``m = 0`` is not 0).
    """
    if channel not in fit.channels:
        raise ValueError(f"channel must be one of {fit.channels}; got {channel!r}")
    i = fit.channels.index(channel)
    ms = _as_1d(multipliers, "multipliers")
    sl = slice(len(fit.y) - window, None)
    rev = []
    for mlt in ms:
        sp = fit.spend.copy()
        sp[i, sl] *= mlt
        rev.append(fit.contributions(sp, th)[i, sl].sum())
    return pd.DataFrame({"multiplier": ms, "spend": fit.spend[i, sl].sum() * ms, "revenue": rev})


def marginal_roas(fit: MediaMixFit, window: int = 91, eps: float = 0.01, th=None) -> pd.Series:
    """Extra sales per extra CNY at the current spend (central difference, spend × (1 ± eps))."""
    out = {}
    for c in fit.channels:
        r = response_curve(fit, c, [1 - eps, 1 + eps], window, th)
        out[c] = (r["revenue"].iloc[1] - r["revenue"].iloc[0]) / (r["spend"].iloc[1] - r["spend"].iloc[0])
    return pd.Series(out, name="marginal_roas")


def _window_revenue(fits: Mapping[str, MediaMixFit], mult: np.ndarray, window: int,
                    draws: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Sales due to each single-channel fit over its last ``window`` days with spend × mult."""
    out = []
    for (c, f), m in zip(fits.items(), mult, strict=True):
        th = None if draws is None else draws[c]
        out.append(response_curve(f, f.channels[0], [m], window, th)["revenue"].iloc[0])
    return np.asarray(out)


def allocate_budget(fits: Mapping[str, MediaMixFit], bounds: tuple[float, float] = (0.7, 1.3),
                    window: int = 91) -> pd.DataFrame:
    """Spend multipliers per channel maximising modelled sales over ``window`` days, total fixed.

    ``fits``: one single-channel :class:`MediaMixFit` per channel. Maximises
    Σ_c revenue_c(m_c) subject to Σ_c m_c·S_c = Σ_c S_c (``S_c`` the channel's spend in
    the window) with ``bounds[0] ≤ m_c ≤ bounds[1]``: keep the bounds inside the spend
    range each channel has seen (the curve is not known beyond it). SLSQP
    (:func:`scipy.optimize.minimize`).
    """
    if not fits:
        raise ValueError("fits must hold at least one channel's fit")
    lo_b, hi_b = bounds
    if not 0 <= lo_b <= 1 <= hi_b:
        raise ValueError(f"bounds must satisfy 0 ≤ low ≤ 1 ≤ high; got {bounds}")
    for c, f in fits.items():
        if len(f.channels) != 1:
            raise ValueError(f"fits[{c!r}] must be a single-channel fit; it has {f.channels}")
        if window < 1 or window > len(f.y):
            raise ValueError(f"window must be 1..{len(f.y)} days; got {window}")
    S = np.array([f.spend[0, len(f.y) - window:].sum() for f in fits.values()])
    base = _window_revenue(fits, np.ones(len(S)), window)
    res = optimize.minimize(lambda m: -_window_revenue(fits, m, window).sum() / base.sum(), np.ones(len(S)),
                            method="SLSQP", bounds=[bounds] * len(S),
                            constraints=[{"type": "eq", "fun": lambda m: (m @ S - S.sum()) / S.sum()}])
    new = _window_revenue(fits, res.x, window)
    return pd.DataFrame({"current_spend": S, "new_spend": res.x * S, "multiplier": res.x,
                         "current_sales": base, "new_sales": new},
                        index=pd.Index(list(fits), name="channel"))


def allocation_gain_draws(fits: Mapping[str, MediaMixFit], multipliers, draws: Mapping[str, Sequence[np.ndarray]],
                          window: int = 91, value=1.0) -> np.ndarray:
    """Modelled gain of a reallocation (new − current sales, × ``value`` per channel) under each bootstrap draw."""
    mult = np.asarray(multipliers, dtype=float)
    v = np.broadcast_to(np.asarray(value, dtype=float), mult.shape)
    n = min(len(v) for v in draws.values())
    gains = []
    for b in range(n):
        d = {c: draws[c][b] for c in fits}
        gains.append((_window_revenue(fits, mult, window, d) - _window_revenue(fits, np.ones(len(mult)), window, d)) @ v)
    return np.asarray(gains)
