"""Lesson 01-3 (SWOT → TOWS) rests on evidence that recovers the planted market and returns.

Tolerances and why:

- fastest-growing and shrinking categories equal ``truth["market"]`` exactly; growth
  within 0.05 of the planted annual growth (the lesson compares 2025 with 2024 month by
  month with seasonal noise; the planted figure is the trend).
- Nestwell's 2025 value share per category within 0.002 of ``nestwell_share_2025`` (the
  same definition on the same table; rounding of the truth only).
- the storage push (``truth["market"]["nestwell_storage_push"]``, ×1.25 on Nestwell's
  storage sales from July 2025): S1's share from July is m·s / (1 + (m − 1)·s) of the
  share before within 0.004 (a 6-month share has an sd of ~0.001), and T1 calls decor
  Nestwell's largest share exactly when the planted 2025 shares say so.
- return rate per category within 0.01 of the planted rate (lines of shipped orders; a
  category has ~11k-44k lines, a binomial sd below 0.003), bedding the highest.
- every SWOT item carries evidence (a finite value: the recorded count equals the item
  count), all four kinds, and strategies of all four TOWS types pointing at the chapters
  for pricing, inventory, channels and private domain.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("01-3")


@pytest.fixture(scope="module")
def truth():
    from ecomlab import datasets

    return datasets.truth()


def test_market_truths(got, truth):
    m = truth["market"]
    assert got["fastest"] == m["fastest_growing"] and got["shrinking"] == m["shrinking"]
    for cat, g in m["annual_growth"].items():
        assert got["growth"][cat] == pytest.approx(g, abs=0.05), cat
    for cat, s in m["nestwell_share_2025"].items():
        assert got["share"][cat] == pytest.approx(s, abs=0.002), cat


def test_returns_truth(got, truth):
    planted = truth["returns"]["return_rate_by_category"]
    assert got["worst_returns"] == max(planted, key=planted.get) == "bedding"
    for cat, r in planted.items():
        assert got["return_rate"][cat] == pytest.approx(r, abs=0.01), cat
    assert got["return_ratio"] > 1.5


def test_every_item_has_evidence_and_tows_is_complete(got):
    assert got["n_items"] >= 8 and got["items_with_evidence"] == got["n_items"]
    assert got["swot_kinds"] == "opportunity,strength,threat,weakness"
    assert got["tows_kinds"] == "SO,ST,WO,WT"
    chapters = got["tows_chapters"].lower()
    for topic in ("pricing", "inventory", "channels", "private domain"):
        assert topic in chapters, topic
    # the storage leader prices below the market, Nestwell above it
    assert got["leader_price_index"] < 1 < got["price_index_fastest"]


def test_storage_push_and_share_ranks(got, truth):
    m = truth["market"]
    push = m["nestwell_storage_push"]
    mult, before = push["demand_multiplier"], got["share_fastest_before"]
    assert got["share_fastest_from"] == pytest.approx(mult * before / (1 + (mult - 1) * before), abs=0.004)
    planted = m["nestwell_share_2025"]
    rank = sorted(planted, key=planted.get, reverse=True).index(m["shrinking"]) + 1
    assert got["shrinking_share_rank"] == rank
    assert got["largest_share"] == max(planted, key=planted.get)
