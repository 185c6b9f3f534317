"""Exercise bank ch03_channels (lesson 03-1): right answers pass, typical wrong answers fail
with a helpful message, and the placeholder means "not attempted"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import calendar, channels
from ecomlab.exercises import ____, use_data
from ecomlab.exercises import ch03_channels as ex


@pytest.fixture(scope="module")
def tables():
    use_data(None)
    from ecomlab import datasets as ds

    return ds.load("marketing_daily"), ds.load("customers")


def _spend(mk, c):
    s = mk.loc[mk["channel"] == c].set_index("date")["spend"].sort_index()
    s.index = pd.DatetimeIndex(s.index)
    return s


def test_q1_cac_of_a_quarter(tables):
    mk, cu = tables
    s = _spend(mk, "live_stream").loc["2025-10-01":"2025-12-31"]
    d = pd.to_datetime(cu["first_order_date"])
    n = ((cu["acquisition_channel"] == "live_stream") & (d >= "2025-10-01") & (d <= "2025-12-31")).sum()
    right = s.sum() / n
    assert ex.q1.check(right).status == "correct"
    m = mk.loc[(mk["channel"] == "live_stream") & (mk["date"] >= "2025-10-01") & (mk["date"] <= "2025-12-31")]
    res = ex.q1.check(m["spend"].sum() / m["platform_attributed_orders"].sum())
    assert res.status == "incorrect" and "platform" in res.message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_adstock_by_hand(tables):
    mk, _ = tables
    x = _spend(mk, "search_ads").loc["2025-01-01":"2025-01-07"].to_numpy()
    a = 0.0
    for v in x:
        a = 0.7 * v + 0.3 * a
    assert len(x) == 7
    assert ex.q2.check(a).status == "correct"
    robyn = a / 0.7
    res = ex.q2.check(robyn)
    assert res.status == "incorrect" and "Robyn" in res.message
    assert ex.q2.check(float(x[-1])).status == "incorrect"      # no carry-over at all


def test_q3_and_q4_from_the_fitted_curves(tables):
    mk, cu = tables
    promo = calendar.promotion_calendar([2024, 2025])
    fits = {}
    for c in ("feed_ads", "short_video"):
        s = _spend(mk, c)
        y = cu.loc[cu["acquisition_channel"] == c].groupby("first_order_date").size().astype(float)
        y.index = pd.DatetimeIndex(y.index)
        fits[c] = channels.fit_mmm(s.to_frame(c), y.reindex(s.index, fill_value=0.0), promo, baseline=False)
    p = fits["feed_ads"].params.loc["feed_ads"]
    h = 600 / (600 + p["half_saturation"])
    assert ex.q3.check(h).status == "correct"
    res = ex.q3.check(600 / (600 + p["half_saturation_robyn"]))
    assert res.status == "incorrect" and "Robyn" in res.message
    assert ex.q3.check(1 - h).status == "incorrect"
    m = mk.loc[mk["channel"] == "short_video"]
    value = m["platform_attributed_revenue"].sum() / m["platform_attributed_orders"].sum()
    rc = channels.response_curve(fits["short_video"], "short_video", [0.99, 1.01], window=91)
    slope = (rc["revenue"].iloc[1] - rc["revenue"].iloc[0]) / (rc["spend"].iloc[1] - rc["spend"].iloc[0])
    assert ex.q4.check(slope * value).status == "correct"
    res = ex.q4.check(slope)
    assert res.status == "incorrect" and "value" in res.message
    avg = channels.response_curve(fits["short_video"], "short_video", [1.0], window=91)
    res = ex.q4.check(float(avg["revenue"].iloc[0] / avg["spend"].iloc[0] * value))
    assert res.status == "incorrect" and "average" in res.message
    assert np.isfinite(slope) and 0 < slope * value < 5


def test_q5_lift_test_incremental_roas_by_hand(tables):
    from ecomlab import datasets as ds

    mk, _ = tables
    ex_rows = ds.load("experiments")
    rows = ex_rows.loc[ex_rows["experiment_id"] == "lift_short_video"]
    s = _spend(mk, "short_video").loc["2025-08-04":"2025-08-31"].sum()
    t = rows.loc[rows["variant"] == "treatment", "revenue"]
    c = rows.loc[rows["variant"] == "control", "revenue"]
    right = (t.mean() - c.mean()) * len(t) / s
    assert ex.q5.check(right).status == "correct"
    # the same as the course helper, and near the experiment's planted truth (its 95% interval)
    r = channels.lift_test_roas(rows, float(s))
    assert right == pytest.approx(r.incremental_roas)
    res = ex.q5.check((t.sum() - c.sum()) / s)
    assert res.status == "incorrect" and "size" in res.message
    res = ex.q5.check(t.mean() - c.mean())
    assert res.status == "incorrect" and "exposed users" in res.message
    w = mk.loc[(mk["channel"] == "short_video") & mk["date"].between(pd.Timestamp("2025-08-04"), pd.Timestamp("2025-08-31"))]
    res = ex.q5.check(w["platform_attributed_revenue"].sum() / s)
    assert res.status == "incorrect" and "platform" in res.message
    assert ex.q5.check(____).status == "not_attempted"
    assert ex.q5.check(np.nan).status == "incorrect"
