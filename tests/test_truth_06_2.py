"""Lesson 06-2 (the ops review report): every figure the report states is one of 06-1's recorded
results, as rounded; the HTML file shows them; the decisions follow the planted truth.

- The report's markdown (recorded by 06-2 as ``report_markdown``) is checked with the course's
  prose checker (:func:`ecomlab.prose.check_markdown`) against **06-1's** results as the 06-1
  lesson run records them: every figure-like token must be bound to a key or marked fixed, and
  each bound figure must equal the recorded value as the report rounds it. 06-2 computes its
  numbers from a run of 06-1 of its own (or a results folder), so this also checks the two runs
  agree.
- The check bites: a copy of the report with one stated figure changed fails it.
- The HTML file (standalone: nothing loaded from outside) shows each bound figure's text and
  the three figures as embedded images with alt text.
- Decisions: the planted fan-group profit ROI is negative (``truth["programme"]["profit_roi"]``)
  and its effect positive, so the rule gives "change"; the planted storage push (×1.25) gives
  "continue"; the short-video decision must agree with the recorded marginal ROAS interval.
- PDF: optional. When the lesson wrote one (a Chromium was installed), it must be a PDF file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecomlab import prose

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def got(lesson_results):
    return lesson_results("06-2")


@pytest.fixture(scope="module")
def measured(lesson_results):
    return lesson_results("06-1")


def test_every_report_figure_is_a_recorded_result(got, measured):
    md = got["report_markdown"]
    assert prose.check_markdown(md, measured) == []
    bound = [f for f in prose.figures(md) if not f.fixed]
    assert len(bound) == got["report_figures"] >= 30 and got["report_problems"] == 0
    keys = {k for f in bound for k in f.keys}
    for needed in ("naive.repurchase_gap", "naive.revenue_roi", "fan.effect", "fan.ci_low", "fan.ci_high",
                   "fan_value.profit_roi", "fan_value.roas", "storage.ratio", "storage.sc_ratio",
                   "video.marginal_roas", "video.lift_roas"):
        assert needed in keys, needed


def test_changing_a_report_figure_fails_the_check(got, measured):
    md = got["report_markdown"]
    f = next(f for f in prose.figures(md) if f.keys == ("fan_value.profit_roi",))
    wrong = md.replace(f"{f.text}<!--r:fan_value.profit_roi-->", "−10%<!--r:fan_value.profit_roi-->", 1)
    assert wrong != md
    assert any("fan_value.profit_roi" in p for p in prose.check_markdown(wrong, measured))
    untagged = md.replace("<!--r:fan.effect-->", "", 1)
    assert any("untagged" in p for p in prose.check_markdown(untagged, measured))


def test_html_report_shows_the_figures_and_is_standalone(got):
    page = Path(got["report_html"]).read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    for f in prose.figures(got["report_markdown"]):
        if not f.fixed:
            assert f.text.replace("about ", "") in text, f.text
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', page)) == 3
    assert len(re.findall(r'<img[^>]+alt="[^"]+"', page)) >= 3
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_decisions_follow_the_truth(got, measured, truth):
    d = got["decision"]
    assert truth["programme"]["profit_roi"] < 0 < truth["fan_group_effect"]["rate_multiplier"] - 1
    assert d["fan groups"] == "change"
    assert truth["storage_push"]["demand_multiplier"] > 1 and d["storage focus"] == "continue"
    assert d["short video"] == ("change" if measured["video"]["marginal_roas_hi"] < 1 else "continue")
    assert got["fan_effect"] == pytest.approx(measured["fan"]["effect"], rel=1e-9)
    assert got["storage_sc_ratio"] == pytest.approx(measured["storage"]["sc_ratio"], rel=1e-9)


def test_pdf_when_written_is_a_pdf(got):
    if not got["pdf_written"]:
        pytest.skip("no Chromium on this machine: the PDF is optional")
    pdf = Path(got["report_html"]).with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
