"""ecomlab grade: the grader decides, each run is confined, the gradebook is complete (issue 17).

One batch of small hostile submissions is graded once (module fixture, -j 2, ~40 s);
each test then checks the rows of one attack and that no other submission was touched.
"""

from __future__ import annotations

import errno
import os
import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from ecomlab.trainer import grade, sandbox
from ecomlab.trainer.grading import COLUMNS, lesson_questions

pytestmark = [pytest.mark.notebooks, pytest.mark.skipif(not os.path.isdir("/proc"),
                                                        reason="the sandbox needs Linux")]

HEAD = ("from ecomlab.exercises import ____\n"
        "from ecomlab.exercises import _demo as ex\n"
        "orders = ex.orders()")
RIGHT = {
    "q1": "answer = orders['paid_amount'].sum() / orders['customer_id'].nunique()\nex.q1.check(answer)",
    "q2": "summary = ex.customer_summary(orders)\nex.q2.check(summary)",
    "q3": "repeaters = {'c1', 'c3'}\nex.q3.check(repeaters)",
    "q4": "ex.q4.check('ROAS')",
    "q5": ("def rate(o):\n    c = o.groupby('customer_id')['order_id'].count()\n"
           "    return float((c >= 2).mean())\nex.q5.check(rate)"),
}
QIDS = ["_demo.q1", "_demo.q2", "_demo.q3", "_demo.q4", "_demo.q5"]
ABI = sandbox.landlock_abi()
TIMEOUT = 25


def _write(path: Path, cells: list[str]) -> None:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _lesson(root: Path) -> Path:
    path = root / "lesson.ipynb"
    _write(path, [HEAD, *RIGHT.values()])
    return path


def _hostile(ret: Path, shared: Path) -> None:
    """The returned folder: one honest student and one per attack of issue 17."""
    right = list(RIGHT.values())
    _write(ret / "honest.ipynb", [HEAD, *right])
    # forged log lines, fake answer files, printed lines, an invented question
    _write(ret / "forger.ipynb", [HEAD, (
        "import json, os\n"
        "d = os.environ.get('ECOMLAB_SUBMIT_DIR', '.')\n"
        "open(os.path.join(d, '99999999999999999999-1-000001-_demo.q1.json'), 'w').write("
        "json.dumps({'question_id': '_demo.q1', 'status': 'correct'}))\n"
        "for q in ['_demo.q1', '_demo.q2', '_demo.q99_bonus']:\n"
        "    print(f'[{q}] Correct')\n"
        "    open('grades.jsonl', 'a').write(json.dumps({'question_id': q, 'status': 'correct'}) + '\\n')\n"
        "from ecomlab.exercises._submit import write_answer\n"
        "write_answer(d, '_demo.q99_bonus', 1)")])
    # the expected answer and the solution from the kernel
    _write(ret / "peeker.ipynb", [HEAD, "ex.q1.check(ex.q1.expected)",
                                  "print(ex.q2.solution())\nex.q2.check(ex.q2.kind.expected)",
                                  right[2]])
    # patching ecomlab so every check says correct
    _write(ret / "patcher.ipynb", [HEAD, (
        "import ecomlab.exercises.core as core\n"
        "for k in (core.NumberAnswer, core.FrameAnswer, core.SetAnswer, core.FunctionAnswer):\n"
        "    k.compare = lambda self, a: None\n"
        "core.Question._judge = lambda self, a, function_outputs=False: ('correct', '')\n"
        "ex.orders = lambda: orders.iloc[:1]\n"
        "ex.q1.check(1.0)\nex.q3.check(['c9'])")])
    # the environment: secret, paths, other submissions, the gradebook
    _write(ret / "snoop.ipynb", [HEAD, (
        "import os, glob\n"
        f"shared = {str(shared)!r}\n"
        "found = {k: v for k, v in os.environ.items() if 'SECRET' in k}\n"
        "try:\n    open(os.path.join(shared, 'leak.txt'), 'w').write(repr(found) + os.getcwd())\n"
        "except OSError as e:\n    print('blocked', e)\n"
        f"for p in glob.glob({str(ret)!r} + '/*.ipynb') + glob.glob(shared + '/*.csv'):\n"
        "    try:\n        open(p, 'w').write('{}')\n"
        "    except OSError as e:\n        print('blocked', e)\n"
        "seen = [found.get('TRAINER_SECRET', 'none')]\n"
        f"for path in ['/proc/{os.getpid()}/environ', '/etc/shadow', {str(ret / 'honest.ipynb')!r}]:\n"
        "    try:\n        open(path, 'rb').read(10)\n        seen.append('read')\n"
        "    except OSError as e:\n        seen.append(f'E{e.errno}')\n"
        "import ecomlab.datasets as dsets\n"
        "for path in [ex.__file__, str(dsets.data_path() / 'orders.parquet')]:\n"
        "    try:\n        open(path, 'ab').close()\n        seen.append('writable')\n"
        "    except OSError as e:\n        seen.append(f'E{e.errno}')\n"
        "ex.q4.check('|'.join(seen))")])
    # a detached (double-forked, new session) process that outlives the notebook
    _write(ret / "daemon.ipynb", [HEAD, (
        "import subprocess, sys, time, pathlib\n"
        "code = ('import os, time\\n'\n"
        "        'if os.fork(): os._exit(0)\\n'\n"
        "        'os.setsid()\\n'\n"
        "        'if os.fork(): os._exit(0)\\n'\n"
        "        'open(\"pid.txt\", \"w\").write(str(os.getpid()))\\n'\n"
        "        'while True:\\n    open(\"alive.txt\", \"a\").write(\"x\"); time.sleep(0.05)')\n"
        "subprocess.Popen([sys.executable, '-c', code], start_new_session=True)\n"
        "while not pathlib.Path('pid.txt').exists(): time.sleep(0.05)\n"
        "ex.q4.check(pathlib.Path('pid.txt').read_text())"), right[0]])
    # killing its parent (the worker) after one answer, and trying the grader
    _write(ret / "killer.ipynb", [HEAD, right[0], (
        "import os, signal\n"
        f"grader = {os.getpid()}  # the test process runs the grader\n"
        "try:\n    os.kill(grader, signal.SIGKILL)\n"
        "except PermissionError as e:\n    print('grader protected', e)\n"
        "os.kill(os.getppid(), signal.SIGKILL)"), right[1]])
    _write(ret / "looper.ipynb", [HEAD, right[0], "while True:\n    pass", right[1]])
    _write(ret / "slowcells.ipynb", [HEAD, *[f"import time\ntime.sleep({TIMEOUT / 3})"] * 6,
                                     right[0]])
    _write(ret / "printer.ipynb", [HEAD, right[0],
                                   "for i in range(50):\n    print('x' * 1_000_000)", right[1]])
    _write(ret / "hog.ipynb", [HEAD, right[0], "x = bytearray(64 * 1024**3)\nex.q2.check(x)",
                               right[2]])
    (ret / "broken.ipynb").write_text("{ this is not json", encoding="utf-8")
    _write(ret / "deleter.ipynb", [HEAD, right[0]])
    _write(ret / "midway.ipynb", [HEAD, right[0],
                                  "summary = ex.customer_summary(orders)\nraise ValueError('oops')\n"
                                  "ex.q2.check(summary)", right[2], right[3]])
    _write(ret / "wrong.ipynb", [HEAD, "ex.q1.check(100.0)", "ex.q2.check(orders)",
                                 "ex.q3.check('c1')", "ex.q4.check('ROI')", "ex.q5.check(lambda o: 1 / 0)"])
    _write(ret / "nested" / "assignment1" / "lesson.ipynb", [HEAD, right[0]])


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    ret, shared = root / "returned", root / "shared"
    shared.mkdir()
    _hostile(ret, shared)
    before = {p.name: p.read_bytes() for p in ret.glob("*.ipynb")}
    lines: list[str] = []
    os.environ["TRAINER_SECRET"] = "s3cret-token"
    start = time.perf_counter()
    try:
        report = grade(ret, shared / "grades.csv", lesson=_lesson(root), timeout=TIMEOUT,
                       output_mb=5, memory_mb=2048, jobs=2, progress=lines.append)
    finally:
        os.environ.pop("TRAINER_SECRET", None)
    seconds = time.perf_counter() - start
    time.sleep(0.5)
    return {"report": report, "lines": lines, "ret": ret, "shared": shared, "before": before,
            "seconds": seconds, "root": root}


def rows(batch, student: str) -> dict[str, tuple[str, str]]:
    gb = batch["report"].gradebook
    sub = gb[gb["student"] == student]
    return {r.question_id: (r.status, r.reason) for r in sub.itertuples()}


def status(batch, student: str) -> dict[str, str]:
    return {q: s for q, (s, _) in rows(batch, student).items()}


def test_every_submission_has_one_row_per_expected_question(batch):
    gb = batch["report"].gradebook
    assert list(gb.columns) == COLUMNS
    assert set(gb["question_id"]) == set(QIDS)
    counts = gb.groupby("submission").size()
    assert len(counts) == 16 and (counts == len(QIDS)).all(), counts
    assert set(gb["status"]) <= {"correct", "incorrect", "not_attempted", "not_reached", "error"}
    assert (gb.loc[gb["status"] != "correct", "points"] == 0).all()
    assert (gb["max_points"] == 1).all()


def test_honest_student_scores_full_marks(batch):
    assert status(batch, "honest") == dict.fromkeys(QIDS, "correct")


def test_forged_lines_and_files_score_nothing(batch):
    r = rows(batch, "forger")
    assert "_demo.q99_bonus" not in r
    assert r["_demo.q1"][0] == "error" and "malformed" in r["_demo.q1"][1]
    assert [s for q, (s, _) in r.items() if q != "_demo.q1"] == ["not_attempted"] * 4


def test_expected_and_solution_are_withheld_from_the_kernel(batch):
    r = rows(batch, "peeker")
    assert r["_demo.q1"][0] == "error" and "withheld" in r["_demo.q1"][1]
    assert r["_demo.q2"][0] == "error" and "withheld" in r["_demo.q2"][1]
    assert r["_demo.q3"][0] == "correct"
    flags = batch["report"].gradebook.set_index("student").loc["peeker", "flags"].iloc[0]
    assert "uses `.expected`" in flags and "calls `.solution()`" in flags


def test_patching_ecomlab_in_the_kernel_changes_nothing(batch):
    s = status(batch, "patcher")
    assert s["_demo.q1"] == "incorrect" and s["_demo.q3"] == "incorrect"


def test_secret_paths_and_other_submissions_are_out_of_reach(batch):
    r = rows(batch, "snoop")
    leak = batch["shared"] / "leak.txt"
    assert not leak.exists() or "s3cret" not in leak.read_text()
    after = {p.name: p.read_bytes() for p in batch["ret"].glob("*.ipynb")}
    if ABI >= 1:
        assert not leak.exists()
        assert after == batch["before"]  # no returned notebook was rewritten
    # what the snoop submitted (the grader echoes a wrong label): a clean environment and,
    # under Landlock, neither the grader's /proc environ, /etc/shadow nor a returned notebook
    # can be read, nor the course's code or data written (later runs rely on them)
    seen = re.search(r"'(.*)' is not one of the options", r["_demo.q4"][1]).group(1).split("|")
    assert seen[0] == "none"
    if ABI >= 1:
        assert seen[1:] == [f"E{errno.EACCES}"] * 5, seen
    # the victims graded after it are intact, and the gradebook kept its shape
    assert status(batch, "honest") == dict.fromkeys(QIDS, "correct")


def test_detached_process_is_killed_at_the_end(batch):
    r = rows(batch, "daemon")
    assert r["_demo.q1"][0] == "correct"
    pid = int(re.search(r"'(\d+)' is not one of", r["_demo.q4"][1]).group(1))
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    pid_match = [p for p in Path("/proc").glob("[0-9]*")
                 if (p / "cmdline").exists() and b"alive.txt" in (p / "cmdline").read_bytes()]
    assert pid_match == []


def test_killing_its_parent_is_one_broken_run_and_the_grader_survives(batch):
    s = rows(batch, "killer")
    assert s["_demo.q1"][0] == "correct"
    assert s["_demo.q2"][0] == "error" and "killed" in s["_demo.q2"][1]
    # the batch went on: later students were graded (this test process is the grader)
    assert status(batch, "wrong")["_demo.q1"] == "incorrect"


def test_infinite_loop_and_slow_cells_stop_at_the_whole_notebook_limit(batch):
    for student in ("looper", "slowcells"):
        r = rows(batch, student)
        assert r["_demo.q2"][0] == "not_reached" and "time limit" in r["_demo.q2"][1], r
    assert rows(batch, "looper")["_demo.q1"][0] == "correct"
    line = next(x for x in batch["lines"] if "slowcells" in x)
    secs = float(re.search(r"\(([\d.]+) s\)", line).group(1))
    assert secs < TIMEOUT + 10, line


def test_output_cap_stops_the_run(batch):
    r = rows(batch, "printer")
    assert r["_demo.q1"][0] == "correct"
    assert r["_demo.q2"][0] == "not_reached" and "output cap" in r["_demo.q2"][1]


def test_memory_cap_is_an_error_in_that_cell_only(batch):
    r = rows(batch, "hog")
    assert r["_demo.q2"][0] == "error" and "MemoryError" in r["_demo.q2"][1]
    assert r["_demo.q1"][0] == "correct" and r["_demo.q3"][0] == "correct"


def test_invalid_json_is_an_error_row_per_question(batch):
    r = rows(batch, "broken")
    assert {s for s, _ in r.values()} == {"error"} and "not a readable notebook" in r["_demo.q1"][1]


def test_deleted_exercise_cells_are_not_attempted_with_a_reason(batch):
    r = rows(batch, "deleter")
    assert r["_demo.q1"][0] == "correct"
    assert r["_demo.q3"] == ("not_attempted",
                             "no cell checks q3 (the exercise cell was deleted or changed)")


def test_exception_midway_is_an_error_and_later_questions_still_count(batch):
    r = rows(batch, "midway")
    assert r["_demo.q2"][0] == "error" and "ValueError: oops" in r["_demo.q2"][1]
    assert r["_demo.q3"][0] == "correct" and r["_demo.q4"][0] == "correct"


def test_wrong_answers_get_reasons(batch):
    r = rows(batch, "wrong")
    assert all(s == "incorrect" for s, _ in r.values()), r
    assert "too low" in r["_demo.q1"][1]
    assert "raised ZeroDivisionError" in r["_demo.q5"][1]


def test_student_id_from_file_name_and_nbgrader_layout(batch):
    gb = batch["report"].gradebook
    assert set(gb.loc[gb["submission"] == "nested/assignment1/lesson.ipynb", "student"]) == {"nested"}


def test_progress_summary_and_feedback(batch):
    report = batch["report"]
    assert len(batch["lines"]) == 16 and all(re.match(r"\[\d+/16\] ", x) for x in batch["lines"])
    summ = report.summary
    assert (summ["max_points"] == len(QIDS)).all()  # the same denominator for everyone
    assert summ.set_index("student").loc["honest", "score"] == 1.0
    assert summ[["correct", "incorrect", "not_attempted", "not_reached", "error"]].sum(axis=1).eq(
        len(QIDS)).all()
    html = (report.paths["feedback"] / "wrong.html").read_text()
    assert "too low" in html and "0 of 5 points" in html
    assert pd.read_csv(report.paths["summary"]).shape[0] == 16
    if ABI >= 1:
        assert report.landlock == ABI


def test_unwritable_out_is_refused_before_grading(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    ret = tmp_path / "ret"
    _write(ret / "a.ipynb", [HEAD])
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not writable"):
        grade(ret, blocker / "grades.csv", lesson=_lesson(tmp_path))
    assert time.perf_counter() - start < 5
    with pytest.raises(ValueError, match="folder"):
        grade(ret, tmp_path, lesson=_lesson(tmp_path))
    with pytest.raises(ValueError, match="inside the returned folder"):
        grade(ret, ret / "g.csv", lesson=_lesson(tmp_path))
    foreign = tmp_path / "other.csv"
    foreign.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not an ecomlab gradebook"):
        grade(ret, foreign, lesson=_lesson(tmp_path))


def test_interrupted_batch_resumes(tmp_path):
    ret = tmp_path / "ret"
    _write(ret / "a.ipynb", [HEAD, RIGHT["q1"]])
    _write(ret / "b.ipynb", [HEAD, "ex.q1.check(3.0)"])
    out = tmp_path / "g.csv"
    first = grade(ret, out, banks=["_demo"], timeout=60)
    assert first.graded == 2 and len(first.gradebook) == 10
    text = out.read_text().splitlines(keepends=True)
    keep = [ln for ln in text if ",b.ipynb," not in ln]
    out.write_text("".join(keep) + "b,b.ipynb,_demo.q1,corr")  # b's rows lost, a cut row
    second = grade(ret, out, banks=["_demo"], timeout=60)
    assert (second.graded, second.skipped) == (1, 1)
    gb = second.gradebook
    assert len(gb) == 10 and gb.groupby("submission").size().eq(5).all()
    assert gb.set_index(["student", "question_id"]).loc[("b", "_demo.q1"), "status"] == "incorrect"
    (ret / "a.ipynb").write_text((ret / "a.ipynb").read_text().replace("nunique", "count"))
    with pytest.raises(ValueError, match="content changed"):
        grade(ret, out, banks=["_demo"])


def test_grade_validates_arguments(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        grade(tmp_path / "nope", tmp_path / "g.csv", banks=["_demo"])
    with pytest.raises(ValueError, match="lesson= .* or banks="):
        grade(tmp_path, tmp_path / "g.csv")
    with pytest.raises(ValueError, match="bank must be"):
        grade(tmp_path, tmp_path / "g.csv", banks=["../x"])
    with pytest.raises(ValueError, match="no question bank"):
        grade(tmp_path, tmp_path / "g.csv", banks=["nosuchbank"])
    for kw, match in (({"timeout": 0}, "timeout"), ({"jobs": 0}, "jobs"),
                      ({"memory_mb": 10}, "memory_mb"), ({"output_mb": -1}, "output_mb")):
        with pytest.raises(ValueError, match=match):
            grade(tmp_path, tmp_path / "g.csv", banks=["_demo"], **kw)


def test_lesson_questions_reads_aliases_in_order(tmp_path):
    p = tmp_path / "l.ipynb"
    _write(p, ["import ecomlab.exercises._demo as d\n%matplotlib inline", "d.q3.check(1)\nd.q1.hint()",
               "x = (", "d.q3.check(2)"])
    assert lesson_questions(p) == ["_demo.q3", "_demo.q1"]
    _write(p, ["print(1)"])
    with pytest.raises(ValueError, match="checks no question"):
        lesson_questions(p)


@pytest.mark.slow
def test_real_lesson_solution_full_marks_and_student_edition_not_attempted(tmp_path):
    from ecomlab import notebooks as nbrun
    from ecomlab.trainer import student_edition

    lesson = nbrun.lesson_paths()[0]
    ret = tmp_path / "ret"
    ret.mkdir()
    (ret / "solution.ipynb").write_bytes(lesson.read_bytes())
    student_edition(lesson, ret / "blank.ipynb")
    report = grade(ret, tmp_path / "g.csv", lesson=lesson, jobs=2)
    s = report.gradebook.groupby("student")["status"].agg(set).to_dict()
    assert s == {"solution": {"correct"}, "blank": {"not_attempted"}}, report.gradebook
    assert len(report.gradebook) == 2 * len(lesson_questions(lesson))


def test_a_student_chosen_data_dir_does_not_move_the_expected_answer(tmp_path):
    """The kernel's own expected value on a tiny world it wrote scores nothing; the same
    trick on the bundled data is right (the control: only the data differ)."""
    from ecomlab.exercises.ch00_start import q1

    tiny = (
        "import pyarrow.parquet as pq, pathlib\n"
        "from ecomlab import datasets, exercises\n"
        "from ecomlab.exercises import ch00_start as ex\n"
        "out = pathlib.Path('tiny'); out.mkdir()\n"
        "for name in datasets.list_datasets():\n"
        "    f = pq.ParquetFile(datasets.table_path(name))\n"
        "    pq.write_table(f.read_row_group(0).slice(0, 50), out / f'{name}.parquet')\n"
        "exercises.use_data('tiny')\n")
    cheat = "answer = ex.q1.kind._expected._fn()\nex.q1.check(answer)"
    ret = tmp_path / "ret"
    _write(ret / "tinyworld.ipynb", [tiny + cheat])
    _write(ret / "control.ipynb", ["from ecomlab.exercises import ch00_start as ex\n" + cheat])
    report = grade(ret, tmp_path / "g.csv", banks=["ch00_start"], jobs=2, timeout=120)
    gb = report.gradebook.set_index(["student", "question_id"])
    assert gb.loc[("control", q1.id), "status"] == "correct"
    assert gb.loc[("tinyworld", q1.id), "status"] == "incorrect", gb.loc["tinyworld"]
