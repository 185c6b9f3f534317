"""Student edition and grading (DESIGN §6)."""

from __future__ import annotations

import nbformat
import pytest

from ecomlab import notebooks as nbrun
from ecomlab.trainer import build_student_edition, grade, strip_solution, student_edition
from ecomlab.trainer.nbgrader import stamp_notebook


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


LESSONS = [p for p in nbrun.lesson_paths() if any(c.get("metadata", {}).get("tags", []) == ["solution"] or
                                                    "solution" in c.get("metadata", {}).get("tags", [])
                                                    for c in nbformat.read(str(p), as_version=4).cells)]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_student_edition_runs_and_every_check_is_not_attempted(path, tmp_path):
    out = tmp_path / "student"
    student_edition(path, out / path.name)
    df = grade(out, tmp_path / "grades.csv", lesson=path, timeout=600).gradebook
    assert "error" not in set(df["status"]), df[df["status"] == "error"]["reason"].tolist()
    assert len(df) >= 3 and (df["status"] == "not_attempted").all(), df


def test_build_student_edition_rejects_missing_dir(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        build_student_edition(tmp_path / "nope", tmp_path / "out")


@pytest.mark.parametrize("out", ["src", "src/student", "src/a/b"])
def test_build_student_edition_refuses_out_in_src(tmp_path, out):
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), str(src / "l.ipynb"))
    before = (src / "l.ipynb").read_bytes()
    with pytest.raises(ValueError, match="same as or inside src_dir"):
        build_student_edition(src, tmp_path / out)
    assert (src / "l.ipynb").read_bytes() == before


def test_build_student_edition_refuses_a_link_into_src(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "link").symlink_to(src)
    with pytest.raises(ValueError, match="inside src_dir"):
        build_student_edition(src, tmp_path / "link" / "out")


def test_cli_student_refuses_out_equal_to_src(tmp_path, capsys):
    from ecomlab.cli import main

    (tmp_path / "nb").mkdir()
    assert main(["student", "--src", str(tmp_path / "nb"), "--out", str(tmp_path / "nb")]) == 2
    assert "inside src_dir" in capsys.readouterr().err


def test_python_dash_m_ecomlab_works():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "ecomlab", "--version"], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("ecomlab "), done


def test_student_edition_drops_nbgrader_test_cells(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from ecomlab.exercises import _demo as ex"),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION\nex.q1.check(answer)",
                                  metadata={"tags": ["solution"]})])
    assert stamp_notebook(nb) == 1 and len(nb.cells) == 3
    nbformat.write(nb, str(tmp_path / "l.ipynb"))
    student_edition(tmp_path / "l.ipynb", tmp_path / "s.ipynb")
    out = nbformat.read(str(tmp_path / "s.ipynb"), as_version=4)
    assert len(out.cells) == 2 and "answer = ____" in out.cells[1].source
    assert out.cells[1].metadata["nbgrader"]["solution"] is True


def test_cli_grade_refuses_bad_out_and_missing_questions(tmp_path, capsys):
    from ecomlab.cli import main

    (tmp_path / "ret").mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["grade", str(tmp_path / "ret"), "--bank", "_demo", "--out",
                 str(blocker / "g.csv")]) == 2
    assert "not writable" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "ret"), "--out", str(tmp_path / "g.csv")]) == 2
    assert "lesson=" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "ret"), "--bank", "_demo", "-j", "0"]) == 2


def test_cli_grade_empty_folder_writes_an_empty_gradebook(tmp_path, capsys):
    from ecomlab.cli import main

    (tmp_path / "ret").mkdir()
    assert main(["grade", str(tmp_path / "ret"), "--bank", "_demo", "--out",
                 str(tmp_path / "g.csv")]) == 0
    assert "0 graded, 0 already in the gradebook" in capsys.readouterr().out
    assert (tmp_path / "g.csv").read_text().startswith("student,submission,question_id,status")
