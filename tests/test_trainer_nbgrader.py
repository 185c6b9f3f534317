"""nbgrader compatibility (issue 17 item 4): stamping, and nbgrader's own commands on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ecomlab import notebooks as nbrun
from ecomlab.trainer.nbgrader import TEST_TAG, grade_id, stamp, stamp_notebook, stamp_paths

HEAD = "from ecomlab.exercises import ____\nfrom ecomlab.exercises import _demo as ex\norders = ex.orders()"
Q1 = "### BEGIN SOLUTION\nanswer = orders['paid_amount'].sum() / orders['customer_id'].nunique()\n" \
     "### END SOLUTION\nex.q1.check(answer)"
Q3 = "### BEGIN SOLUTION\nrepeaters = {'c1', 'c3'}\n### END SOLUTION\nex.q3.check(repeaters)"
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def tiny() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# Tiny"), new_code_cell(HEAD),
        new_code_cell(Q1, metadata={"tags": ["solution"]}),
        new_code_cell(Q3, metadata={"tags": ["solution", "hidden-tests"]}),
    ], metadata=KERNEL)


def test_stamp_adds_answer_and_locked_test_cells():
    nb = tiny()
    assert stamp_notebook(nb) == 2
    kinds = [(c.metadata.get("nbgrader", {}).get("grade_id"), TEST_TAG in c.metadata.get("tags", []))
             for c in nb.cells]
    assert kinds == [(None, False), (None, False), ("_demo-q1-answer", False), ("_demo-q1", True),
                     ("_demo-q3-answer", False), ("_demo-q3", True)]
    test = nb.cells[3].metadata["nbgrader"]
    assert test["grade"] and test["locked"] and not test["solution"] and test["points"] == 1.0
    assert nb.cells[5].source.splitlines()[1:] == [
        "ex.q3.check(repeaters)", "### BEGIN HIDDEN TESTS",
        "assert ex.q3.check(repeaters), ex.q3.check(repeaters)", "### END HIDDEN TESTS"]
    nbformat.validate(nb)


def test_stamp_is_idempotent(tmp_path):
    p = tmp_path / "l.ipynb"
    nbformat.write(tiny(), str(p))
    assert stamp(p) == 2
    once = p.read_bytes()
    assert stamp_paths([tmp_path]) == [(p, 2)]
    assert p.read_bytes() == once


def test_stamp_errors():
    nb = tiny()
    nb.cells[3].source = Q1
    with pytest.raises(ValueError, match="two solution cells check _demo.q1"):
        stamp_notebook(nb)
    nb = tiny()
    nb.cells[2].source = "### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION\nprint(answer)"
    with pytest.raises(ValueError, match="no `ex.qN.check"):
        stamp_notebook(nb)
    with pytest.raises(ValueError, match="neither a notebook nor a folder"):
        stamp_paths(["/nonexistent/x.txt"])
    assert grade_id("ch04_rfm.q12") == "ch04_rfm-q12"


def test_cli_stamp(tmp_path, capsys):
    from ecomlab.cli import main

    nbformat.write(tiny(), str(tmp_path / "l.ipynb"))
    assert main(["nbgrader-stamp", str(tmp_path)]) == 0
    assert "2 graded question(s)" in capsys.readouterr().out
    assert main(["nbgrader-stamp", str(tmp_path / "missing.txt")]) == 2


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                          cwd=course, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _scores(course: Path, notebook: str, assignment: str, student: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(notebook, assignment, student)
        return {g.name: (g.score, g.max_score) for g in sub.grades}


STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


@pytest.mark.notebooks
def test_nbgrader_generate_assignment_and_autograde_a_returned_notebook(tmp_path):
    import nbgrader  # noqa: F401  (the lock installs it: a missing nbgrader fails, not skips)
    course = tmp_path / "course"
    src = course / "source" / "ps1" / "tiny.ipynb"
    src.parent.mkdir(parents=True)
    nb = tiny()
    stamp_notebook(nb)
    nbformat.write(nb, str(src))
    _nbgrader(course, "generate_assignment", "ps1", "--force")
    release = nbformat.read(str(course / "release" / "ps1" / "tiny.ipynb"), as_version=4)
    assert all("BEGIN SOLUTION" not in c.source and "HIDDEN" not in c.source for c in release.cells)
    # a returned notebook: q1 right, q3 wrong (caught only by the hidden test)
    release.cells[2].source = release.cells[2].source.replace(STUB, "answer = 137.5")
    release.cells[4].source = release.cells[4].source.replace(STUB, "repeaters = {'c1'}")
    # the student also edits the locked test cell; nbgrader restores it
    release.cells[3].source = "pass"
    dst = course / "submitted" / "alice" / "ps1" / "tiny.ipynb"
    dst.parent.mkdir(parents=True)
    nbformat.write(release, str(dst))
    _nbgrader(course, "autograde", "ps1", "--force")
    assert _scores(course, "tiny", "ps1", "alice") == {"_demo-q1": (1.0, 1.0), "_demo-q3": (0.0, 1.0)}


@pytest.mark.notebooks
@pytest.mark.slow
def test_nbgrader_accepts_a_real_lesson(tmp_path):
    """The start-here lesson, stamped, through generate_assignment; its solution autogrades full."""
    import nbgrader  # noqa: F401  (the lock installs it: a missing nbgrader fails, not skips)
    lesson = nbrun.lesson_paths()[0]
    course = tmp_path / "course"
    src = course / "source" / "start" / "start.ipynb"
    src.parent.mkdir(parents=True)
    shutil.copy(lesson, src)
    n = stamp(src)
    assert n >= 4
    _nbgrader(course, "generate_assignment", "start", "--force")
    dst = course / "submitted" / "bob" / "start" / "start.ipynb"
    dst.parent.mkdir(parents=True)
    shutil.copy(src, dst)  # the solutions as bob's answers
    _nbgrader(course, "autograde", "start", "--force")
    scores = _scores(course, "start", "start", "bob")
    assert len(scores) == n and all(s == m == 1.0 for s, m in scores.values()), scores


@pytest.mark.parametrize("path", nbrun.lesson_paths(), ids=lambda p: p.stem)
def test_committed_lessons_are_stamped(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    before = copy.read_bytes()
    stamp(copy)
    assert copy.read_bytes() == before, f"run `ecomlab nbgrader-stamp {path}`"
