"""What a lesson asks of a student: prose length, an honest study time, the terms it lists.

DESIGN §4 keeps lessons short (one decision, ≤ ~2,500 words of prose) and asks for an
honest stated time. The course measures time the same way for every lesson, from the
notebook itself (:func:`study_minutes`):

* reading the prose at **130 words a minute** — technical reading with formulas, tables
  and Chinese terms by a learner, about half of the 238 wpm average for English
  non-fiction (Brysbaert 2019, *J. Memory and Language* 109: 104047);
* **1 minute per code cell** outside the exercises — read it, run it, look at the output;
* **6 minutes per exercise** (a code cell tagged ``solution``) — most exercises ask the
  student to compute or implement something, with a hint or two.

A lesson states its time in its first cell as ``**Time needed:** about N minutes`` (or
``N–M minutes``); a test checks the stated time is at least 80% and at most 160% of the
estimate, so a lesson neither promises half the time it takes nor pads it.

Example
-------
>>> import nbformat.v4 as v4
>>> nb = v4.new_notebook(cells=[v4.new_markdown_cell("**Time needed:** about 20 minutes. " + "word " * 1300),
...                            v4.new_code_cell("x = 1")])
>>> prose_words(nb), study_minutes(nb), stated_minutes(nb)
(1305, 11.0, (20, 20))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["READING_WPM", "MINUTES_PER_CELL", "MINUTES_PER_EXERCISE", "prose_words",
           "stated_minutes", "study_minutes", "terms_listed"]

#: Reading speed for lesson prose, words per minute (see the module docstring).
READING_WPM = 130
#: Minutes per code cell outside the exercises.
MINUTES_PER_CELL = 1.0
#: Minutes per exercise (code cell tagged ``solution``).
MINUTES_PER_EXERCISE = 6.0

_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’\-.,][A-Za-z0-9]+)*|[\u3400-\u9fff]+")
_TIME_RE = re.compile(
    r"time needed:?\**:?\s*(?:about|around|roughly|≈|~)?\s*(\d+)(?:\s*(?:–|-|to)\s*(\d+))?\s*min",
    re.IGNORECASE,
)


def _cells(nb: Any) -> list[Mapping[str, Any]]:
    cells = nb["cells"] if isinstance(nb, Mapping) else getattr(nb, "cells", None)
    if cells is None:
        raise ValueError("nb must be a notebook (nbformat node or dict with 'cells')")
    return cells


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _prose(text: str) -> str:
    text = re.sub(r"```.*?```|<!--.*?-->|\$\$.*?\$\$", " ", text, flags=re.S)
    return re.sub(r"\]\([^)]*\)|<[^>]+>", " ", text)


def prose_words(nb: Any) -> int:
    """Words of markdown prose (a run of Chinese characters counts as one word).

    Code blocks, HTML comments, display math, link targets and tags are not prose.

    >>> import nbformat.v4 as v4
    >>> prose_words(v4.new_notebook(cells=[v4.new_markdown_cell("RFM 客户分层 in 3.5 steps")]))
    5
    """
    return sum(len(_WORD_RE.findall(_prose(_source(c))))
               for c in _cells(nb) if c.get("cell_type") == "markdown")


def _exercise(cell: Mapping[str, Any]) -> bool:
    return "solution" in cell.get("metadata", {}).get("tags", [])


def study_minutes(nb: Any) -> float:
    """Estimated minutes a student needs: words / 130 + 1 per code cell + 6 per exercise.

    Results-tagged cells and nbgrader's locked test cells are not counted (students do not
    work on them; the student edition leaves the test cells out).
    """
    cells = _cells(nb)
    code = [c for c in cells if c.get("cell_type") == "code"
            and not {"results", "nbgrader-test"} & set(c.get("metadata", {}).get("tags", []))]
    n_ex = sum(_exercise(c) for c in code)
    minutes = (prose_words(nb) / READING_WPM + MINUTES_PER_CELL * (len(code) - n_ex)
               + MINUTES_PER_EXERCISE * n_ex)
    return round(minutes, 1)


def stated_minutes(nb: Any) -> tuple[int, int] | None:
    """The time the lesson states (``**Time needed:** about N minutes``), as (low, high).

    Returns None when the first markdown cells state no time.
    """
    for cell in _cells(nb)[:4]:
        if cell.get("cell_type") == "markdown":
            m = _TIME_RE.search(re.sub(r"<!--.*?-->", "", _source(cell)))
            if m:
                low = int(m.group(1))
                return low, int(m.group(2) or low)
    return None


def terms_listed(nb: Any) -> list[tuple[str, str]]:
    """(English, 中文) pairs from the lesson's terms table (under a "Terms"/"术语" heading).

    The table's first column is the English term, its second the Chinese term.

    >>> import nbformat.v4 as v4
    >>> md = "**Terms**\\n\\n| English | 中文 | meaning |\\n|---|---|---|\\n| CR | 转化率 | buyers/UV |"
    >>> terms_listed(v4.new_notebook(cells=[v4.new_markdown_cell(md)]))
    [('CR', '转化率')]
    """
    out: list[tuple[str, str]] = []
    for cell in _cells(nb):
        if cell.get("cell_type") != "markdown":
            continue
        text = _source(cell)
        m = re.search(r"(?:^|\n)\s*(?:#+\s*|\*\*)[^\n]*(?:Terms|术语)[^\n]*\n", text)
        if not m:
            continue
        for line in text[m.end():].splitlines():
            cols = [c.strip() for c in line.strip().strip("|").split("|")]
            if (not line.strip().startswith("|") or len(cols) < 2 or set(cols[0]) <= set("-: ")
                    or cols[0].lower() in ("english", "term", "en")):
                continue
            out.append((cols[0].replace("**", ""), cols[1].replace("**", "")))
    return out
