"""Exercise bank ch04_fan_groups (lesson 04-5): right answers pass, typical wrong answers fail
with a useful reason, and the placeholder ``____`` reports "not attempted"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import causal
from ecomlab import exercises as exr
from ecomlab.exercises import ____
from ecomlab.exercises import ch04_fan_groups as ex


@pytest.fixture(scope="module")
def units():
    exr.use_data(None)
    return ex._units()


@pytest.fixture(scope="module")
def panel(units):
    return ex._panel()


def _cell_rates(frame, flag, weighted=True):
    w = frame["weight"] if weighted else 1.0
    f = frame.assign(wy=w * frame["orders"], we=w * frame["exposure_days"])
    cell = f.groupby(["joined", flag])[["wy", "we"]].sum()
    return cell["wy"] / cell["we"]


def test_q1_poisson_did_by_hand(panel):
    r = _cell_rates(panel, "post")
    right = (r[1, 1] / r[1, 0]) / (r[0, 1] / r[0, 0]) - 1
    assert ex.q1.check(right)
    assert right == pytest.approx(0.30, abs=0.08)  # the matched design recovers the planted +30%
    assert ex.q1.check(right + 1).status == "incorrect"  # ratio, not ratio − 1
    u = _cell_rates(panel, "post", weighted=False)  # forgot the weights: the raw DiD
    raw = (u[1, 1] / u[1, 0]) / (u[0, 1] / u[0, 0]) - 1
    assert raw == pytest.approx(causal.did_estimate(panel).relative_effect, rel=1e-6)
    r = ex.q1.check(raw)
    assert r.status == "incorrect" and "unweighted" in r.message
    per_customer = panel.assign(rate=panel["orders"] / panel["exposure_days"]).groupby(["joined", "post"])["rate"].mean()
    wrong = (per_customer[1, 1] / per_customer[1, 0]) / (per_customer[0, 1] / per_customer[0, 0]) - 1
    r = ex.q1.check(wrong)  # mean of per-customer rates
    assert r.status == "incorrect" and "per-customer" in r.message
    assert ex.q1.check(____).status == "not_attempted"


def test_q2_smd_before(units):
    g = units.groupby("joined")["crm_orders"]
    right = (g.mean()[1] - g.mean()[0]) / np.sqrt((g.var()[1] + g.var()[0]) / 2)
    assert ex.q2.check(right) and right > 0.5
    sd_mean = (g.std()[1] + g.std()[0]) / 2  # averaged SDs, not variances
    assert "average the variances" in ex.q2.check((g.mean()[1] - g.mean()[0]) / sd_mean).message
    assert "pooled standard deviation" in ex.q2.check(g.mean()[1] - g.mean()[0]).message  # not standardised
    assert "sign" in ex.q2.check(-right).message  # control minus treated


def test_q3_smd_function(units):
    assert ex.q3.check(ex.smd)

    def weighted_sd(x, treated, weights):  # weights in the denominator too
        x, t, w = np.asarray(x, float), np.asarray(treated).astype(bool), np.asarray(weights, float)
        mt, mc = np.average(x[t], weights=w[t]), np.average(x[~t], weights=w[~t])
        vt = np.average((x[t] - mt) ** 2, weights=w[t])
        vc = np.average((x[~t] - mc) ** 2, weights=w[~t])
        return float((mt - mc) / np.sqrt((vt + vc) / 2))

    assert ex.q3.check(weighted_sd).status == "incorrect"

    def unweighted(x, treated, weights):
        x, t = np.asarray(x, float), np.asarray(treated).astype(bool)
        return float((x[t].mean() - x[~t].mean()) / np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2))

    r = ex.q3.check(unweighted)
    assert r.status == "incorrect" and "case" in r.message

    def series_only(x, treated, weights):  # works on Series only: fails on the NumPy case
        return ex.smd(x.to_numpy(), treated.to_numpy(), weights.to_numpy())

    r = ex.q3.check(series_only)
    assert r.status == "incorrect" and "AttributeError" in r.message

    def unfinished(x, treated, weights):
        return ____

    assert ex.q3.check(unfinished).status == "not_attempted"
    # the reference agrees with the library's balance table
    t = causal.balance_table(units, covariates=["crm_orders"], weights="weight")
    assert ex.smd(units["crm_orders"], units["joined"], units["weight"]) == pytest.approx(t["smd_after"].item())


def test_q4_placebo(units):
    monthly = ex._monthly()
    h1 = monthly[monthly["period"] < "2025-07-01"]
    r = _cell_rates(h1.assign(after=h1["period"] >= "2025-04-01"), "after")
    right = (r[1, True] / r[1, False]) / (r[0, True] / r[0, False]) - 1
    assert ex.q4.check(right)
    pl = causal.placebo_tests(monthly, {"Q1→Q2": (list(pd.date_range("2025-01-01", periods=3, freq="MS")),
                                                 list(pd.date_range("2025-04-01", periods=3, freq="MS")))},
                              weights="weight")
    assert pl.loc[0, "covers_zero"]  # the matched design passes this placebo
    all_months = _cell_rates(monthly.assign(after=monthly["period"] >= "2025-04-01"), "after")
    wrong = (all_months[1, True] / all_months[1, False]) / (all_months[0, True] / all_months[0, False]) - 1
    r = ex.q4.check(wrong)  # kept the programme months in "after"
    assert r.status == "incorrect" and "programme months" in r.message


def test_q5_reason():
    assert ex.q5.check("they were used to select and match the groups")
    r = ex.q5.check("the fan groups already existed in 2024")
    assert r.status == "incorrect"
    assert ex.q5.check("something else").status == "incorrect"


def test_expected_answers_follow_use_data(tmp_path):
    """Expected answers are recomputed from the chosen data, never typed in: a folder
    without the tables fails loudly instead of answering from the bundled data."""
    exr.use_data(tmp_path)
    try:
        with pytest.raises(FileNotFoundError):
            ex.q1.kind.expected  # noqa: B018
    finally:
        exr.use_data(None)
