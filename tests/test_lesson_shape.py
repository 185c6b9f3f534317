"""Lessons are short, state an honest time, and list only glossary terms (DESIGN §4-§5).

How the time is measured is documented in :mod:`ecomlab.lessons` (and the README): prose
at 130 words a minute, 1 minute per code cell, 6 minutes per exercise. The stated time
must be at least 80% and at most 160% of that estimate.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from ecomlab import glossary, lessons
from ecomlab.notebooks import is_lesson, lesson_paths, notebooks_dir

LESSONS = [p for p in lesson_paths() if is_lesson(p)]
IDS = [p.relative_to(notebooks_dir()).as_posix() for p in LESSONS]
MAX_WORDS = 2_600  # "≤ ~2,500 words of prose" (DESIGN §4)


def _norm(text: str) -> str:
    text = re.sub(r"\([^)]*\)|（[^）]*）", "", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def _glossary_names() -> tuple[set[str], set[str]]:
    frame = glossary.terms()
    en = {_norm(t) for t in frame["term_en"]}
    zh = {_norm(part) for t in frame["term_zh"] for part in re.split(r"[/／、]", t)}
    return en, zh


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_lesson_is_short(path):
    words = lessons.prose_words(nbformat.read(str(path), as_version=4))
    assert words <= MAX_WORDS, f"{words:,} words of prose; a lesson holds one decision in ≤ ~2,500"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_stated_time_is_honest(path):
    nb = nbformat.read(str(path), as_version=4)
    stated = lessons.stated_minutes(nb)
    assert stated is not None, "state the time in the first cell: **Time needed:** about N minutes"
    estimate = lessons.study_minutes(nb)
    low, high = stated
    assert high >= 0.8 * estimate, f"states {low}-{high} min; the course's estimate is {estimate:.0f} min"
    assert low <= 1.6 * estimate, f"states {low}-{high} min; the course's estimate is {estimate:.0f} min"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_terms_section_lists_only_glossary_terms(path):
    listed = lessons.terms_listed(nbformat.read(str(path), as_version=4))
    assert listed, "the lesson needs a terms table (| English | 中文 | meaning |) under **Terms**"
    en, zh = _glossary_names()
    missing = [f"{e} / {z}" for e, z in listed
               if _norm(e) not in en and not any(_norm(p) in zh for p in re.split(r"[/／、]", z))]
    assert not missing, f"terms not in ecomlab/glossary.py: {missing}"


def test_time_rule_catches_an_understated_lesson():
    cells = [nbformat.v4.new_markdown_cell("**Time needed:** about 10 minutes\n\n" + "word " * 2000)]
    cells += [nbformat.v4.new_code_cell("x = 1") for _ in range(20)]
    nb = nbformat.v4.new_notebook(cells=cells)
    assert lessons.study_minutes(nb) == pytest.approx(2001 / 130 + 20, abs=0.1)
    assert lessons.stated_minutes(nb) == (10, 10)
    with pytest.raises(ValueError, match="nb must be a notebook"):
        lessons.study_minutes(3)
