"""Prose and output cannot disagree (DESIGN §5 honesty rules, ecomlab.prose).

* Unit and property tests of the figure parser and the rounding rule.
* ``test_lesson_prose``: for every lesson, every figure its markdown states is bound to a
  recorded result, agrees with it as the prose rounds it, and is printed by a cell; no
  figure is left unbound.
* ``test_changing_a_stated_figure_fails``: the check bites — a copy of a real lesson with
  one stated figure changed fails, with the executed lesson's own results and outputs.
"""

from __future__ import annotations

import copy
import re

import nbformat
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ecomlab import prose
from ecomlab.notebooks import is_lesson, lesson_id, lesson_paths, notebooks_dir
from ecomlab.results import read

LESSONS = [p for p in lesson_paths() if is_lesson(p)]


def _rel(p) -> str:
    return p.relative_to(notebooks_dir()).as_posix()


# --- parsing -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("md", "text", "numbers", "decimals", "unit", "sign", "qualifier", "keys"),
    [
        ("PC converts **83%**<!--r:pc--> of carts", "83%", (83,), (0,), "%", "", "exact", ("pc",)),
        ("about 4,100<!--r:lost--> orders", "about 4,100", (4100,), (0,), "", "", "approx", ("lost",)),
        ("fell by −65.3%<!-- r:drop -->", "−65.3%", (65.3,), (1,), "%", "-", "exact", ("drop",)),
        ("+0.4 pp<!--r:lift-->", "+0.4 pp", (0.4,), (1,), "pp", "+", "exact", ("lift",)),
        ("a 2.5×<!--r:ratio--> gap", "2.5×", (2.5,), (1,), "×", "", "exact", ("ratio",)),
        ("¥1,229.80<!--r:v--> per buyer", "¥1,229.80", (1229.8,), (2,), "CNY", "", "exact", ("v",)),
        ("720 CNY<!--r:clv-->", "720 CNY", (720,), (0,), "CNY", "", "exact", ("clv",)),
        ("from 10–16%<!--r:lo|hi-->", "10–16%", (10, 16), (0, 0), "%", "", "exact", ("lo", "hi")),
        ("more than 30%<!--r:x-->", "more than 30%", (30,), (0,), "%", "", "gt", ("x",)),
        ("at least 0.25<!--r:x-->", "at least 0.25", (0.25,), (2,), "", "", "ge", ("x",)),
        ("≈ 54<!--r:d--> days", "≈ 54", (54,), (0,), "", "", "approx", ("d",)),
        ("about **30%**<!--r:x-->", "about 30%", (30,), (0,), "%", "", "approx", ("x",)),
        ("the 1.3 k<!--r:x-->", "1.3 k", (1.3,), (1,), "k", "", "exact", ("x",)),
        ("gain ¥27.1k<!--r:x-->", "¥27.1k", (27.1,), (1,), "k", "", "exact", ("x",)),
        ("2025 rate 38%<!--r:rate_2025-->", "38%", (38,), (0,), "%", "", "exact", ("rate_2025",)),
    ],
)
def test_figures_are_parsed(md, text, numbers, decimals, unit, sign, qualifier, keys):
    (f,) = prose.figures(md)
    assert (f.text, f.numbers, f.decimals, f.unit, f.sign, f.qualifier, f.keys) == (
        text, numbers, decimals, unit, sign, qualifier, keys)
    assert not f.fixed


def test_fixed_figures_and_untagged_ones():
    md = "Allow 40 minutes<!--fixed-->. Sales rose 12% and 3.5 pp; 1,200 orders; 7 days; 15 SKUs."
    assert [f.fixed for f in prose.figures(md)] == [True]
    assert prose.untagged(md) == ["12%", "3.5 pp", "1,200", "15"]


@pytest.mark.parametrize(
    "md",
    [
        "Lesson 04-2, 2025-11-11, 2024Q2, 2025 H1 and 21:00 on 双11, 618 and 38节.",
        "Code `rfm_table(q=10)` and math $x_{12} = 0.5$ and $$\\sum_{i=1}^{100} i$$.",
        "A [link](https://example.org/page/2024/12.5) and <img width=\"640\">.",
        "```python\nx = 123.4\n```\nNames like p95, H2, top10 and v1.2 are not figures.",
        "In 2026. Four segments, k = 5 clusters.",
    ],
)
def test_non_figures_are_ignored(md):
    assert prose.untagged(md) == []


def test_figures_rejects_non_text():
    with pytest.raises(ValueError, match="markdown must be a string"):
        prose.figures(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="qualifier"):
        prose.matches(1.0, 1.0, qualifier="roughly")


# --- the rounding rule -------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "stated", "kw", "ok"),
    [
        (0.833, 83, {"unit": "%"}, True),
        (0.833, 84, {"unit": "%"}, False),          # 05-3 "PC … 84%" vs 83.3% printed
        (-0.65, 60, {"unit": "%", "qualifier": "approx"}, True),
        (-0.71, 60, {"unit": "%", "qualifier": "approx"}, False),  # 05-1 "about 60%" vs −71%
        (-0.653, 65, {"unit": "%", "sign": "-"}, True),
        (0.653, 65, {"unit": "%", "sign": "-"}, False),
        (4120, 4100, {"qualifier": "approx"}, True),
        (4160, 4100, {"qualifier": "approx"}, False),
        (0.004, 0.4, {"unit": "pp", "decimals": 1}, True),
        (0.2534, 0.253, {"decimals": 3}, True),
        (0.2536, 0.253, {"decimals": 3}, False),
        (0.31, 30, {"unit": "%", "qualifier": "gt"}, True),
        (0.29, 30, {"unit": "%", "qualifier": "gt"}, False),
        (float("nan"), 30, {}, False),
        (True, 1, {}, False),
    ],
)
def test_matches(value, stated, kw, ok):
    assert prose.matches(value, stated, **kw) is ok


@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 3))
def test_a_value_matches_its_own_rounding(value, decimals):
    stated = float(f"{abs(value):.{decimals}f}")
    sign = "-" if value < 0 and stated != 0 else ""
    assert prose.matches(value, stated, decimals=decimals, sign=sign)


@given(st.floats(0, 1e6, allow_nan=False), st.integers(0, 3), st.sampled_from([-1, 1]))
@example(1.3125, 3, 1)
def test_one_unit_off_never_matches(value, decimals, direction):
    # an exact tie (1.3125 at 3 decimals) rounds either way, so both neighbours are right
    assume(abs((value * 10**decimals) % 1 - 0.5) > 1e-9)
    stated = float(f"{value:.{decimals}f}") + direction * 10.0 ** -decimals
    if stated >= 0:
        assert not prose.matches(value, stated, decimals=decimals)


def test_check_markdown_reports_each_kind_of_problem():
    md = ("CR is 3.9%<!--r:cr-->, AOV 120<!--r:missing-->, segment <!--r:name--> "
          "is 7.0<!--r:name--> and 12% grew; range 1–2<!--r:cr-->.")
    problems = prose.check_markdown(md, {"cr": 0.05, "name": "loyal"})
    text = "\n".join(problems)
    assert "untagged figure '12%'" in text
    assert "'3.9%' (key 'cr'): the results say 0.05, which the prose would state as 5.0%" in text
    assert "key 'missing' is not among the recorded results" in text
    assert "key 'name' holds 'loyal', not a number" in text
    assert "2 number(s) but 1 key(s)" in text
    with pytest.raises(ValueError, match="values must be a mapping"):
        prose.check_markdown("x", [1, 2])  # type: ignore[arg-type]


def test_check_notebook_needs_the_figure_printed():
    nb = new_notebook(cells=[
        new_markdown_cell("Repeat rate is 31%<!--r:rep--> and a dict entry 0.5<!--r:d.a-->."),
        new_code_cell("x", outputs=[new_output("execute_result", data={"text/html": "<td>0.5</td>"})]),
    ])
    problems = prose.check_notebook(nb, {"rep": 0.312, "d": {"a": 0.5}})
    assert problems == ["cell 0: '31%' (key 'rep') is printed by no cell: show the number in an "
                        "output where the lesson discusses it"]
    nb.cells[1].outputs.append(new_output("stream", text="repeat rate 31.2%\n"))
    assert prose.check_notebook(nb, {"rep": 0.312, "d": {"a": 0.5}}) == []
    results = new_code_cell("record()", outputs=[new_output("stream", text="0.312")])
    results.metadata["tags"] = ["results"]
    nb2 = new_notebook(cells=[nb.cells[0], results])
    assert any("printed by no cell" in p for p in prose.check_notebook(nb2, {"rep": 0.312, "d": {"a": 0.5}}))
    with pytest.raises(ValueError, match="nb must be a notebook"):
        prose.check_notebook(42, {})


# --- every lesson ------------------------------------------------------------------
def _executed(notebook_cache, path):
    run = notebook_cache.run(path)
    assert run.error is None, f"{_rel(path)} failed to execute:\n{run.error}"
    nb = nbformat.read(str(run.out_path), as_version=4)
    return nb, read(lesson_id(path), run.results_dir)


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=[_rel(p) for p in LESSONS])
def test_lesson_prose(path, notebook_cache):
    nb, values = _executed(notebook_cache, path)
    problems = prose.check_notebook(nb, values)
    assert not problems, f"{_rel(path)}:\n  - " + "\n  - ".join(problems)


def _first_bound_figure(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for f in prose.figures(cell.source):
                if f.keys and not f.fixed and f.qualifier == "exact":
                    return i, f
    return None, None


@pytest.mark.notebooks
def test_changing_a_stated_figure_fails(notebook_cache):
    """Edit one stated figure in a copy of a real lesson: the check must fail on it."""
    candidates = []
    for path in LESSONS:
        nb = nbformat.read(str(path), as_version=4)
        i, f = _first_bound_figure(nb)
        if f is not None:
            candidates.append((path, i, f))
    assert candidates, "no lesson binds a figure to its results yet"
    path, i, f = candidates[0]
    nb, values = _executed(notebook_cache, path)
    assert not [p for p in prose.check_notebook(nb, values) if p.startswith(f"cell {i}:")]
    changed = copy.deepcopy(nb)
    number = re.search(r"\d[\d,]*(?:\.\d+)?", f.text).group(0)
    digits = number.replace(",", "")
    bumped = f"{float(digits) + 3 * 10.0 ** -f.decimals[0]:,.{f.decimals[0]}f}"
    changed.cells[i].source = changed.cells[i].source.replace(number, bumped, 1)
    problems = [p for p in prose.check_notebook(changed, values) if p.startswith(f"cell {i}:")]
    assert problems and f.keys[0] in problems[0], problems
