"""Lesson 03-3 (traffic quality) recovers the planted session conversion rates by device and
source through its results cell.

The world plants P(buy | session) = device rate × source multiplier (``truth["funnel"]
["planted_session_cr"]``, device × source, unit "session"); the lesson measures the share of
sessions that bought in each device × source cell of the cleaned log.

Tolerances and why:

- each cell within 4 binomial standard errors √(p(1−p)/n) plus 3% of the planted rate: the
  cells hold about 1,100 to 17,600 sessions, so 4 SE keeps a false alarm below 1 in 10,000 per cell
  across the 24 cells; the 3% allows for the planted incident (one day of failed Android
  checkouts lowers Android's month by about 2%) and for sessions whose device went missing.
  A visitor-level CR (about 1.4× the session CR) or a swapped source fails it.
- the source multiplier relative to ``direct`` (the same on every device, as planted), averaged
  over the three devices, within 3 relative standard errors of the planted ratio; the relative
  SE of the average, √(Σ_d 1/buyers(s, d) + 1/buyers(direct, d)) / 3, is computed from the
  recorded counts (5–9% on the bundled data). The planted multipliers range from 0.50 to 1.46
  of direct's, so a swapped source fails.
- the lesson's value per visitor must equal CR × spend per buyer (the KPI identity), and the
  source with the highest planted multiplier (private_domain) must have the highest value.
"""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.notebooks

DEVICES = ("ios", "android", "pc")


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("03-3")


@pytest.fixture(scope="module")
def planted():
    from ecomlab import datasets

    funnel = datasets.truth()["funnel"]
    assert funnel["unit"] == "session"
    return funnel["planted_session_cr"]


def test_session_cr_by_device_and_source_recovered(got, planted):
    for d in DEVICES:
        for s, p in planted[d].items():
            obs, n = got[f"session_cr_{d}"][s], got[f"sessions_{d}"][s]
            tol = 4 * math.sqrt(p * (1 - p) / n) + 0.03 * p
            assert abs(obs - p) <= tol, f"{d}/{s}: measured {obs:.4f}, planted {p:.4f}, n={n}, tol {tol:.4f}"


def test_source_multipliers_recovered(got, planted):
    def buyers(s, d):
        return got[f"session_cr_{d}"][s] * got[f"sessions_{d}"][s]

    for s in (s for s in planted["ios"] if s != "direct"):
        want = planted["ios"][s] / planted["ios"]["direct"]
        measured = sum(got[f"session_cr_{d}"][s] / got[f"session_cr_{d}"]["direct"] for d in DEVICES) / 3
        rel_se = math.sqrt(sum(1 / buyers(s, d) + 1 / buyers("direct", d) for d in DEVICES)) / 3
        assert 0.04 < rel_se < 0.12, (s, rel_se)
        assert abs(measured / want - 1) <= 3 * rel_se, (s, measured, want, rel_se)


def test_value_per_visitor_identity_and_ranking(got, planted):
    for s, v in got["vpv"].items():
        assert v > 0 and v == pytest.approx(got["cr"][s] * got["spb"][s]), s
    best = max(planted["ios"], key=planted["ios"].get)
    assert max(got["vpv"], key=got["vpv"].get) == best
    assert got["cr_lo"][best] <= got["cr"][best] <= got["cr_hi"][best]
    assert got["gap_nr"] == pytest.approx(got["cr_ret"] - got["cr_new"])
    assert got["pick"] in got["cpc"]
