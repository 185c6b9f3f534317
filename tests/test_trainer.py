"""Student edition and grading (DESIGN §6)."""

from __future__ import annotations

import nbformat
import pytest

from ecomlab import notebooks as nbrun
from ecomlab.trainer import build_student_edition, grade, strip_solution, student_edition


def test_strip_solution_binds_every_assigned_name():
    src = "x = 1\n### BEGIN SOLUTION\na, b = 1, 2\nc = a + b\n### END SOLUTION\nex.q1.check(c)"
    out = strip_solution(src)
    assert out.splitlines() == ["x = 1", "from ecomlab.exercises import ____", "a = ____  # your answer here",
                                "b = ____  # your answer here", "c = ____  # your answer here", "ex.q1.check(c)"]
    assert "1 + 2" not in out and "a + b" not in out


def test_strip_solution_keeps_indentation_and_functions():
    src = "if True:\n    ### BEGIN SOLUTION\n    def f(x):\n        return x\n    ### END SOLUTION\n    pass"
    out = strip_solution(src)
    assert "    f = ____  # your answer here" in out
    compile(out, "<cell>", "exec")


@pytest.mark.parametrize("src, msg", [
    ("### BEGIN SOLUTION\nx = 1\n", "without a matching"),
    ("x = 1\n### END SOLUTION", "without a preceding"),
    ("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION", "must assign"),
    ("### BEGIN SOLUTION\nx = (\n### END SOLUTION", "does not parse"),
])
def test_strip_solution_errors(src, msg):
    with pytest.raises(ValueError, match=msg):
        strip_solution(src)


def test_no_markers_is_unchanged():
    assert strip_solution("x = 1") == "x = 1"


def _toy_notebook(path, answer: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("from ecomlab.exercises import Question, NumberAnswer\n"
                                  "q = Question(kind=NumberAnswer(expected=lambda: 4), prompt='2+2?', id='toy.q1')"),
        nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\nanswer = {answer}\n### END SOLUTION\nq.check(answer)",
                                  metadata={"tags": ["solution"]}),
    ]
    nbformat.write(nb, str(path))


def test_grade_scores_last_check(tmp_path):
    d = tmp_path / "returned"
    d.mkdir()
    _toy_notebook(d / "alice.ipynb", "2 + 2")
    _toy_notebook(d / "bob.ipynb", "5")
    student_edition(d / "alice.ipynb", d / "carol.ipynb")       # handed in blank
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    broken.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(broken, str(d / "dave.ipynb"))
    df = grade(d, tmp_path / "grades.csv").set_index("notebook")
    assert df.loc["alice.ipynb", "status"] == "correct" and df.loc["alice.ipynb", "score"] == 1
    assert df.loc["bob.ipynb", "status"] == "incorrect"
    assert df.loc["carol.ipynb", "status"] == "not_attempted"
    assert df.loc["dave.ipynb", "status"] == "error" and "ZeroDivisionError" in df.loc["dave.ipynb", "error"]
    assert (tmp_path / "grades.csv").exists()


LESSONS = [p for p in nbrun.lesson_paths() if any(c.get("metadata", {}).get("tags", []) == ["solution"] or
                                                    "solution" in c.get("metadata", {}).get("tags", [])
                                                    for c in nbformat.read(str(p), as_version=4).cells)]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_student_edition_runs_and_every_check_is_not_attempted(path, tmp_path):
    out = tmp_path / "student"
    student_edition(path, out / path.name)
    df = grade(out, timeout=300)
    assert "error" not in set(df["status"]), df[df["status"] == "error"]["error"].tolist()
    assert len(df) >= 3 and (df["status"] == "not_attempted").all(), df


def test_build_student_edition_rejects_missing_dir(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        build_student_edition(tmp_path / "nope", tmp_path / "out")
