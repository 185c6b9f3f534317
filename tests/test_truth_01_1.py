"""Lesson 01-1 (market landscape) recovers the planted market truths through its results cell.

Tolerances and why:

- Growth: the world grows each category's size by ``(1 + g) ** (months / 12)`` with a 3%
  monthly noise and a shared season, so the ratio of a year's sales to the previous
  year's is ``1 + g`` up to noise: storage's year-on-year growth within 0.03 of its
  planted 0.32 and its 95% interval holding the planted value; decor negative, within
  0.03 of its planted −0.12, with its whole interval below zero.
- Shares: ``truth["market"]["nestwell_share_2025"]`` is Nestwell's share of each
  category's 2025 sales, the same quantity the lesson computes, rounded to four decimals
  in truth.json: agreement within 0.0001.
- The storage push (``truth["market"]["nestwell_storage_push"]``): the world keeps every
  brand's share constant up to a 4% monthly noise, then multiplies Nestwell's storage
  sales by m = 1.25 from July 2025. A half-year share then has an sd of about
  s·0.04/√6 ≈ 0.001 (s ≈ 0.06), so: the half-years before the push lie within 0.005 of each
  other (no drift; the previous world drifted +50% a year, a range of ~0.025); the share
  from the push matches m·s / (1 + (m − 1)·s) of the pre-push share within 0.004; every
  other category's share moves by less than 0.006 (4 sd of a 6-month vs 18-month gap).
- Search: the world generates search and sales from the same growth and season with
  independent noise (no lead), so the lesson's Granger tests must not find a lead after
  the Holm correction, and the same-month correlation must be strongly positive.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("01-1")


@pytest.fixture(scope="module")
def truth():
    from ecomlab import datasets

    return datasets.truth()["market"]


def test_storage_grows_fastest_near_its_planted_growth(got, truth):
    assert got["fastest_growing"] == truth["fastest_growing"] == "storage"
    planted = truth["annual_growth"]["storage"]
    assert got["growth"]["storage"] == pytest.approx(planted, abs=0.03)
    assert got["growth_low"]["storage"] < planted < got["growth_high"]["storage"]
    others = [v for k, v in got["growth"].items() if k != "storage"]
    assert len(others) == 5 and max(others) < got["growth_low"]["storage"]


def test_decor_is_shrinking(got, truth):
    assert got["shrinking"] == truth["shrinking"] == "decor"
    planted = truth["annual_growth"]["decor"]
    assert got["growth"]["decor"] == pytest.approx(planted, abs=0.03)
    assert got["growth_high"]["decor"] < 0


def test_every_category_growth_is_near_its_planted_value(got, truth):
    for cat, planted in truth["annual_growth"].items():
        assert got["growth"][cat] == pytest.approx(planted, abs=0.04), cat


def test_nestwell_share_per_category(got, truth):
    for cat, share in truth["nestwell_share_2025"].items():
        assert got["nestwell_share"][cat] == pytest.approx(share, abs=1e-4), cat


def test_storage_share_is_flat_then_steps_up_with_the_push(got, truth):
    push = truth["nestwell_storage_push"]
    assert push["start"] == "2025-07-01"
    halves = got["storage_share_half"]
    before = [v for h, v in halves.items() if h < "2025 H2"]
    assert len(before) == 3 and max(before) - min(before) < 0.005          # no drift before the push
    m, s = push["demand_multiplier"], got["share_before"]["storage"]
    assert got["share_from"]["storage"] == pytest.approx(m * s / (1 + (m - 1) * s), abs=0.004)
    assert halves["2025 H2"] == pytest.approx(got["share_from"]["storage"], abs=1e-12)
    for cat in truth["nestwell_share_2025"]:
        if cat != "storage":
            assert abs(got["share_from"][cat] - got["share_before"][cat]) < 0.006, cat
    assert got["other_shift_max"] < 0.006


def test_investment_case_and_search_test(got):
    assert got["quadrant"]["storage"] == "question mark" and got["quadrant"]["decor"] == "dog"
    rel = got["relative_share"]
    growing = [c for c, q in got["quadrant"].items() if q == "question mark"]
    assert max(growing, key=rel.get) == "storage"            # the best position among growing markets
    assert 0 <= got["hhi_min"] <= got["hhi_max"] <= 10_000
    assert got["granger_n_significant"] == 0 and got["granger_min_p_holm"] > 0.05
    assert got["corr_min"] > 0.5
    assert got["band_nestwell"]["economy"] == 0 and got["band_nestwell"]["mid"] > got["band_nestwell"]["premium"]
