"""ecomlab.forecast: ETS(A,N,N) equals statsmodels at a fixed α, seasonal naive, MASE
(Hyndman & Koehler 2006) and bias by hand, promotion factors, speed on hundreds of SKUs."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from ecomlab import forecast as fc


def _weekly(n_weeks=104, n_sku=5, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.poisson(rng.uniform(5, 50, n_sku), (n_weeks, n_sku)).astype(float),
                        columns=[f"S{i}" for i in range(n_sku)])


@pytest.mark.parametrize("alpha", [0.1, 0.3, 0.8])
def test_ets_equals_statsmodels_at_a_fixed_alpha(alpha):
    y = _weekly()
    got = fc.ets_forecast(y, 4, alphas=[alpha]).forecast
    for c in y.columns:
        x = y[c].to_numpy()
        fit = ExponentialSmoothing(x, initialization_method="known", initial_level=x[0]).fit(
            smoothing_level=alpha, optimized=False)
        assert got[c].to_numpy() == pytest.approx(fit.forecast(4), rel=1e-9)


def test_ets_picks_the_alpha_with_the_smallest_sse():
    y = _weekly(n_sku=3)
    grid = [0.1, 0.4, 0.9]
    best = fc.ets_forecast(y, 1, alphas=grid)
    for c in y.columns:
        sses = [fc.ets_forecast(y[[c]], 1, alphas=[a]).sse[c] for a in grid]
        assert best.alpha[c] == grid[int(np.argmin(sses))]
        assert best.sse[c] == pytest.approx(min(sses))


def test_ets_known_driver_scales_the_forecast():
    y = pd.DataFrame({"a": [10.0, 20, 10, 10]})
    idx = np.array([1.0, 2.0, 1.0, 1.0])
    f = fc.ets_forecast(y, 2, idx, [1.0, 3.0], alphas=[0.5])
    assert f.forecast["a"].tolist() == pytest.approx([10.0, 30.0])   # the promo week is removed


@settings(max_examples=40, deadline=None)
@given(st.floats(0.1, 1000), st.integers(3, 30), st.integers(1, 8))
def test_constant_series_forecasts_itself(level, n, h):
    f = fc.ets_forecast(pd.DataFrame({"a": [level] * n}), h).forecast["a"]
    assert f.to_numpy() == pytest.approx(level)


def test_seasonal_naive_and_mase_by_hand():
    train = pd.DataFrame({"a": [1.0, 5, 2, 6, 3, 7]})
    f = fc.seasonal_naive(train, 3, 2)
    assert f["a"].tolist() == [3.0, 7.0, 3.0]
    actual = pd.DataFrame({"a": [4.0, 8, 4]})
    # in-sample lag-2 naive errors: |2-1|, |6-5|, |3-2|, |7-6| = 1; hold-out MAE = 1
    assert fc.mase(actual, f, train, 2)["a"] == pytest.approx(1.0)
    assert fc.bias(actual, f)["a"] == pytest.approx((13 - 16) / 16)


def test_mase_below_one_for_a_perfect_forecast_and_scale_free():
    y = _weekly(n_sku=2)
    train, test = y.iloc[:80], y.iloc[80:]
    assert (fc.mase(test, test, train, 52) == 0).all()
    f = fc.seasonal_naive(train, len(test), 52)
    assert fc.mase(test * 10, f * 10, train * 10, 52).to_numpy() == pytest.approx(
        fc.mase(test, f, train, 52).to_numpy())


def test_promo_index_learns_from_history_and_applies_to_the_future():
    d = pd.date_range("2024-01-01", periods=28)          # a Monday
    total = pd.Series(10.0, index=d)
    total.iloc[[5, 6]] = 40.0
    lab = pd.Series("", index=d)
    lab.iloc[[5, 6]] = "sale"
    assert fc.promo_index(total, lab).round(3).tolist() == [round((5 + 8) / 7, 3), 1.0, 1.0, 1.0]
    fut = pd.Series("", index=pd.date_range("2024-02-05", periods=7))
    fut.iloc[0] = "sale"
    assert fc.promo_index(total, lab, fut).round(3).tolist() == [round(10 / 7, 3)]
    fut.iloc[1] = "unknown"
    with pytest.raises(ValueError, match="never seen"):
        fc.promo_index(total, lab, fut)


def test_hundreds_of_skus_in_well_under_a_second():
    y = _weekly(n_weeks=104, n_sku=500, seed=3)
    t0 = time.perf_counter()
    f = fc.ets_forecast(y, 13)
    elapsed = time.perf_counter() - t0
    assert f.forecast.shape == (13, 500) and f.forecast.notna().all().all()
    assert elapsed < 2.0, f"{elapsed:.2f} s for 500 SKUs"


@pytest.mark.parametrize("call, match", [
    (lambda: fc.ets_forecast([1, 2, 3], 2), "DataFrame"),
    (lambda: fc.ets_forecast(pd.DataFrame({"a": [1.0]}), 2), "at least 2 periods"),
    (lambda: fc.ets_forecast(pd.DataFrame({"a": [1.0, np.nan]}), 2), "missing values"),
    (lambda: fc.ets_forecast(pd.DataFrame({"a": ["x", "y"]}), 2), "numeric"),
    (lambda: fc.ets_forecast(pd.DataFrame({"a": [1.0, 2]}), 0), "horizon"),
    (lambda: fc.ets_forecast(pd.DataFrame({"a": [1.0, 2]}), 1, alphas=[1.5]), "alphas"),
    (lambda: fc.ets_forecast(pd.DataFrame({"a": [1.0, 2]}), 1, [1.0]), "positive factors"),
    (lambda: fc.seasonal_naive(pd.DataFrame({"a": [1.0, 2]}), 1, 3), "season"),
    (lambda: fc.mase(pd.DataFrame({"a": [1.0, 2]}), pd.DataFrame({"a": [1.0, 2, 3]}),
                     pd.DataFrame({"a": [1.0, 2, 3]})), "same shape"),
    (lambda: fc.mase(pd.DataFrame({"a": [1.0, 2]}), pd.DataFrame({"a": [1.0, 2]}),
                     pd.DataFrame({"a": [1.0, 1, 1]})), "constant"),
    (lambda: fc.bias(pd.DataFrame({"a": [0.0, 0]}), pd.DataFrame({"a": [1.0, 2]})), "sums to 0"),
])
def test_hostile_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
