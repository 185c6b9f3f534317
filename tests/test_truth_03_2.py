"""Lesson 03-2 (search keywords) recovers the planted rank → CTR curve through its results cell.

The world draws each keyword's clicks as Binomial(impressions, ctr_rank1 · rank^−decay)
(``truth["ctr_by_rank"]``, form stated there). The lesson fits that power form by a Poisson
GLM with a log(impressions) offset, so it must recover both parameters.

Tolerances and why:

- ``ctr_rank1`` within 0.01 (absolute, about 3.5% relative): ~254,000 clicks over 252
  keywords give the lesson's rank-1 CTR a standard error of about 0.001, so 0.01 is about
  ten standard errors — wide enough for a regenerated world at another seed or scale,
  tight enough that a rank-1 CTR read off the few rank-1 keywords' raw CTR, or a geometric
  curve (0.15 at rank 1), fails.
- ``decay_exponent`` within 0.03 (SE about 0.0025; same reasoning): the Sistrix web-search
  benchmark's exponent (~0.87) is within it, a geometric decay is not comparable.
- The truth must also lie inside the lesson's 95% interval for both, and the power form must
  fit (dispersion near 1: the world has binomial noise only) while the geometric form must not.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("03-2")


@pytest.fixture(scope="module")
def truth():
    from ecomlab import datasets

    return datasets.truth()["ctr_by_rank"]


def test_rank1_ctr_recovered(got, truth):
    assert truth["form"].startswith("ctr = ctr_rank1 * rank ** -decay_exponent")
    assert got["ctr_a"] == pytest.approx(truth["ctr_rank1"], abs=0.01)
    assert got["ctr_a_lo"] <= truth["ctr_rank1"] <= got["ctr_a_hi"]
    assert got["ctr_1"] == pytest.approx(got["ctr_a"])


def test_decay_recovered(got, truth):
    assert got["ctr_b"] == pytest.approx(truth["decay_exponent"], abs=0.03)
    assert got["ctr_b_lo"] <= truth["decay_exponent"] <= got["ctr_b_hi"]
    assert got["ctr_1"] > got["ctr_2"] > got["ctr_3"] > 0


def test_the_power_form_fits_and_the_geometric_does_not(got):
    assert 0.7 < got["disp_power"] < 1.5
    assert got["disp_geo"] > 10 * got["disp_power"]


def test_bid_verdicts_and_sensitivity_are_consistent(got):
    assert got["n_push"] + got["n_hold"] + got["n_cut"] == got["n_keywords"]
    assert got["n_cut"] <= got["n_above"]  # a clear cut is above break-even at the point CR too
    # every scenario makes an input worse or the decay steeper: none beats the base case by much
    assert 0 < got["sens_min"] <= got["sens_max"] <= 1.05 * got["top_total"]
    assert got["kept_min"] >= 5  # the shortlist is robust
    assert got["top_total_rank1"] > got["top_total"]
