"""Grading returned notebooks into a gradebook the trainer can trust.

How a score is decided (why student code cannot change it)
----------------------------------------------------------
1. The **questions** come from the trainer's solution notebook (``lesson=``) or named
   banks (``banks=``), imported in the grader's own process: only those question ids
   get rows, whatever a submission prints or writes (an invented ``q99_bonus`` is
   ignored).
2. The **expected answers** are computed in the grader's process from the bundled data
   (``use_data(None)``): a submission that patches ``ecomlab``, calls ``use_data`` on a
   tiny world or edits a question in its kernel changes nothing here.
3. In the graded kernel ``q.check(x)`` judges nothing: it writes ``x`` *as data*
   (JSON + Parquet, never pickle; :mod:`ecomlab.exercises._submit`) into the run's
   private ``answers/`` folder; ``q.expected`` raises and ``q.solution()`` is withheld.
   The grader reads the newest answer per known question after the run's processes are
   all dead, and judges it with :meth:`Question.grade` against its own expected value.
   A student can only choose the answer it submits — which is the point of an exercise.
   Forged log lines, printed "Correct" lines and files elsewhere are never read.
4. Statuses that carry no points (error / not reached / not attempted) are told apart
   with the executed notebook's error list; a forged list can only change which
   zero-point label a question gets.

What this does not prove: that the student wrote the code. The course's code (banks,
helpers, solution notebooks in the repository) is readable by design; a student can copy
it as they could copy a friend's. The ``flags`` column points at submissions that touch
``.expected``, ``.solution()``, the grading folder or ``use_data``, for a human look.

Isolation is :mod:`ecomlab.trainer.sandbox`; the gradebook layout is :func:`grade`.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import csv
import hashlib
import html
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

COLUMNS = ["student", "submission", "question_id", "status", "points", "max_points", "reason",
           "flags", "sha256"]
GRADE_STATUSES = ("correct", "incorrect", "not_attempted", "not_reached", "error")
#: Largest returned notebook read (bytes); a larger file is one error row per question.
MAX_NOTEBOOK_BYTES = 50_000_000
_BANK_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_NOT_BANKS = {"core", "_submit", "____"}


# ------------------------------------------------------------------------ questions
def _code_cells(nb: Any) -> list[str]:
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append("".join(src) if isinstance(src, list) else str(src))
    return out


def _parse(code: str) -> ast.AST | None:
    lines = [ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def bank_aliases(nb: Any) -> dict[str, str]:
    """``{alias: bank}`` for every ``from ecomlab.exercises import <bank> as <alias>`` in ``nb``."""
    aliases: dict[str, str] = {}
    for code in _code_cells(nb):
        tree = _parse(code)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "ecomlab.exercises":
                for a in node.names:
                    if _BANK_RE.match(a.name) and a.name not in _NOT_BANKS:
                        aliases[a.asname or a.name] = a.name
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("ecomlab.exercises.") and a.asname:
                        aliases[a.asname] = a.name.rsplit(".", 1)[1]
    return aliases


def lesson_questions(lesson: str | os.PathLike[str]) -> list[str]:
    """Question ids a solution notebook checks, in order of first use.

    Reads ``from ecomlab.exercises import <bank> as <alias>`` (or ``import
    ecomlab.exercises.<bank> as <alias>``) and every ``<alias>.qN`` it then uses.

    >>> import nbformat, tempfile, pathlib
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "from ecomlab.exercises import _demo as ex\\nex.q2.check(1)\\nex.q1.hint()")])
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "l.ipynb"; nbformat.write(nb, str(p))
    >>> lesson_questions(p)
    ['_demo.q2', '_demo.q1']
    """
    import nbformat

    nb = nbformat.read(str(lesson), as_version=4)
    aliases = bank_aliases(nb)
    ids: list[str] = []
    for code in _code_cells(nb):
        tree = _parse(code)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and re.fullmatch(r"q\d+", node.attr)):
                qid = f"{aliases[node.value.id]}.{node.attr}"
                if qid not in ids:
                    ids.append(qid)
    if not ids:
        raise ValueError(f"lesson {str(lesson)!r} checks no question of an ecomlab.exercises bank "
                         "(expected e.g. `from ecomlab.exercises import ch04_rfm as ex` and "
                         "`ex.q1.check(...)`)")
    return ids


def bank_questions(bank: str) -> list[str]:
    """Ids of the numbered questions ``q1``, ``q2``, … of bank ``bank``.

    >>> bank_questions("_demo")
    ['_demo.q1', '_demo.q2', '_demo.q3', '_demo.q4', '_demo.q5']
    """
    from ecomlab.exercises import Question

    mod = _import_bank(bank)
    names = sorted((n for n, v in vars(mod).items()
                    if isinstance(v, Question) and re.fullmatch(r"q\d+", n)), key=lambda n: int(n[1:]))
    if not names:
        raise ValueError(f"bank {bank!r} has no questions named q1, q2, …")
    return [f"{bank}.{n}" for n in names]


def _import_bank(bank: str) -> Any:
    if not isinstance(bank, str) or not _BANK_RE.match(bank) or bank in _NOT_BANKS:
        raise ValueError(f"bank must be a module name under ecomlab.exercises such as "
                         f"'ch04_rfm', got {bank!r}")
    try:
        return importlib.import_module(f"ecomlab.exercises.{bank}")
    except ModuleNotFoundError:
        raise ValueError(f"no question bank ecomlab.exercises.{bank}") from None


def _question(qid: str) -> Any:
    from ecomlab.exercises import Question

    bank, name = qid.rsplit(".", 1)
    q = getattr(_import_bank(bank), name, None)
    if not isinstance(q, Question):
        raise ValueError(f"{qid}: bank {bank!r} has no question {name!r}")
    return q


# ------------------------------------------------------------------------- running
@dataclass
class Limits:
    """Per-submission limits (see :func:`grade`)."""

    timeout: float = 600.0
    memory_mb: int | None = 4096
    output_mb: float = 20.0
    file_mb: int = 200
    landlock: bool = True


@dataclass
class _Submission:
    path: Path
    rel: str
    student: str
    data: bytes
    sha256: str
    too_large: bool = False


@dataclass
class _Outcome:
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # qid -> {"value", ...} or {"error"}
    stopped: str | None = None
    crashed: bool = False  # killed or crashed (error rows) rather than stopped by a limit
    errors: list[dict[str, Any]] = field(default_factory=list)
    unreadable: str | None = None
    landlock: int = 0
    seconds: float = 0.0


class _Batch:
    """Bookkeeping shared by the worker threads: active workers and the grader's children."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: set[int] = set()
        self.initial_children = set(_children_of_self())


def _children_of_self() -> list[int]:
    from ecomlab.trainer.sandbox import children

    return children(os.getpid())


def _cleanup_orphans(batch: _Batch) -> None:
    """Kill processes re-parented to the grader (orphans of a dead worker)."""
    from ecomlab.trainer.sandbox import kill_tree

    with batch.lock:
        for pid in _children_of_self():
            if pid not in batch.active and pid not in batch.initial_children:
                kill_tree(pid, include_self=True)
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass


def _read_capped(path: Path, cap: int = 1_000_000) -> str | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > cap:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _run(sub: _Submission, limits: Limits, batch: _Batch) -> _Outcome:
    from ecomlab.exercises._submit import SUBMIT_ENV, AnswerFileError, read_answer
    from ecomlab.trainer.sandbox import clean_env, kill_tree

    outcome = _Outcome()
    run = Path(tempfile.mkdtemp(prefix="ecomlab-grade-"))
    start = time.perf_counter()
    try:
        for d in ("work", "answers", "home", "tmp", "home/.matplotlib"):
            (run / d).mkdir(parents=True, exist_ok=True)
        _seed_matplotlib_cache(run / "home" / ".matplotlib")
        (run / "work" / "submission.ipynb").write_bytes(sub.data)
        job = {"timeout": limits.timeout, "memory_mb": limits.memory_mb, "file_mb": limits.file_mb,
               "output_bytes": int(limits.output_mb * 1e6), "landlock": limits.landlock,
               "submit_env": SUBMIT_ENV}
        (run / "job.json").write_text(json.dumps(job), encoding="utf-8")
        with open(run / "worker.log", "wb") as log, batch.lock:
            proc = subprocess.Popen([sys.executable, "-m", "ecomlab.trainer._worker", str(run)],
                                    env=clean_env(run), cwd=run / "work", stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                    close_fds=True)
            batch.active.add(proc.pid)
        try:
            proc.wait(timeout=limits.timeout + _GRACE)  # + worker start-up and shutdown
        except subprocess.TimeoutExpired:
            outcome.stopped = f"stopped at the whole-notebook time limit of {limits.timeout:g} s"
        finally:
            kill_tree(proc.pid, include_self=True)
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            with batch.lock:
                batch.active.discard(proc.pid)
            _cleanup_orphans(batch)
        status_text = _read_capped(run / "worker.json")
        status: dict[str, Any] = {}
        if status_text:
            try:
                status = json.loads(status_text)
            except json.JSONDecodeError:
                status = {}
        if not isinstance(status, dict):
            status = {}
        outcome.landlock = int(status.get("landlock", 0) or 0) if str(
            status.get("landlock", 0)).isdigit() else 0
        if outcome.stopped is None:
            outcome.crashed = proc.returncode != 0 or not status_text or status.get("crashed") is True
            if status.get("stopped"):
                outcome.stopped = str(status["stopped"])[:500]
            elif proc.returncode != 0:
                outcome.stopped = (f"the run was killed (exit code {proc.returncode})"
                                   if proc.returncode < 0 else
                                   f"the run crashed (exit code {proc.returncode})")
            elif not status_text:
                outcome.stopped = "the run ended without reporting (its files were tampered with)"
        errors = status.get("errors", [])
        outcome.errors = [e for e in errors if isinstance(e, dict)][:1000] if isinstance(errors, list) else []
        # the newest readable answer per question, in the order the kernel wrote them
        files = sorted(p for p in (run / "answers").glob("*.json") if p.name[:1].isdigit())
        for p in files[-5000:]:
            qid = p.stem.split("-", 3)[-1] if p.stem.count("-") >= 3 else ""
            try:
                ans = read_answer(p)
            except AnswerFileError as exc:
                if qid:
                    outcome.answers[qid] = {"error": f"unreadable answer file ({exc})"}
                continue
            if ans["question_id"] != qid:
                continue
            outcome.answers[qid] = ans
    finally:
        outcome.seconds = time.perf_counter() - start
        shutil.rmtree(run, ignore_errors=True)
    return outcome


_MPL_CACHE: list[Path | None] = []
#: Seconds allowed beyond ``timeout`` for the worker to start and shut the kernel down;
#: the worker itself stops the notebook at ``timeout``.
_GRACE = 15.0


def _seed_matplotlib_cache(dst: Path) -> None:
    """Copy the grader's matplotlib font list so each kernel does not rebuild it (~seconds)."""
    if not _MPL_CACHE:
        try:
            import matplotlib

            _MPL_CACHE.append(Path(matplotlib.get_cachedir()))
        except Exception:  # noqa: BLE001 - an optimisation only
            _MPL_CACHE.append(None)
    src = _MPL_CACHE[0]
    if src is None or not src.is_dir():
        return
    for f in src.glob("fontlist-*.json"):
        shutil.copy2(f, dst / f.name)


# ------------------------------------------------------------------------- judging
_FLAG_PATTERNS = [
    (re.compile(r"\.expected\b|_expected\b"), "uses `.expected`"),
    (re.compile(r"\.solution\s*\("), "calls `.solution()`"),
    (re.compile(r"ECOMLAB_SUBMIT_DIR|_submit\b|write_answer"), "touches the grading folder"),
    (re.compile(r"use_data\s*\(\s*(?!data_dir\s*\)|None\s*\))"), "calls `use_data` on other data"),
    (re.compile(r"os\.kill|killpg|signal\.|subprocess|os\.fork|multiprocessing"),
     "starts or signals processes"),
]


def _flags(nb: Any) -> str:
    code = "\n".join(_code_cells(nb))
    return "; ".join(text for pat, text in _FLAG_PATTERNS if pat.search(code))


def _check_cells(nb: Any) -> dict[str, list[int]]:
    """``qN`` -> indices of the code cells that mention ``qN.check``."""
    out: dict[str, list[int]] = {}
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        for m in re.finditer(r"\b(q\d+)\s*\.\s*check\b", src):
            out.setdefault(m.group(1), []).append(i)
    return out


def _judge(sub: _Submission, nb: Any, outcome: _Outcome, qids: Sequence[str],
           flags: str) -> list[dict[str, Any]]:
    from ecomlab.exercises.core import CourseBugError

    cells = _check_cells(nb) if nb is not None else {}
    errors = {e.get("cell"): str(e.get("error", ""))[:300] for e in outcome.errors}
    rows = []
    for qid in qids:
        q = _question(qid)
        max_points = float(getattr(q, "points", 1.0))
        ans = outcome.answers.get(qid)
        if outcome.unreadable:
            status, reason = "error", outcome.unreadable
        elif ans is not None and "error" in ans:
            status, reason = "error", ans["error"]
        elif ans is not None:
            try:
                res = q.grade(ans["value"], function_outputs=ans["function_outputs"])
                status, reason = res.status, res.message
            except CourseBugError as exc:
                status, reason = "error", f"grader: {exc}"
        else:
            short = qid.rsplit(".", 1)[1]
            raised = [errors[c] for c in cells.get(short, []) if c in errors]
            if raised:
                status, reason = "error", f"the cell that checks {short} raised {raised[0]}"
            elif outcome.stopped and outcome.crashed:
                status, reason = "error", f"no answer before the run ended: {outcome.stopped}"
            elif outcome.stopped:
                status, reason = "not_reached", f"no answer before the run stopped: {outcome.stopped}"
            elif short not in cells:
                status, reason = ("not_attempted",
                                  f"no cell checks {short} (the exercise cell was deleted or changed)")
            else:
                status, reason = "not_attempted", f"{short}.check(...) never ran"
        if status == "not_attempted" and not reason:
            reason = "answer left as `____`"
        rows.append({"student": sub.student, "submission": sub.rel, "question_id": qid,
                     "status": status, "points": max_points if status == "correct" else 0.0,
                     "max_points": max_points, "reason": reason, "flags": flags,
                     "sha256": sub.sha256})
    return rows


# ------------------------------------------------------------------------ gradebook
def _student_of(rel: Path) -> str:
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _check_out(out_csv: Path) -> None:
    if out_csv.exists() and out_csv.is_dir():
        raise ValueError(f"out_csv {str(out_csv)!r} is a folder; give a .csv file path")
    parent = out_csv.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with open(out_csv, "a", encoding="utf-8"):
            pass
        probe = parent / f".{out_csv.name}.probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"out_csv {str(out_csv)!r} is not writable ({exc.strerror or exc})") from None


def _load_done(out_csv: Path, n_questions: int) -> dict[str, str]:
    """Submissions already complete in ``out_csv`` (submission -> sha256); drop partial ones."""
    text = out_csv.read_text(encoding="utf-8") if out_csv.exists() else ""
    if not text.strip():
        out_csv.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
        return {}
    cut = not text.endswith("\n")
    if cut:  # a row cut by a crash (reasons hold no newline, so a line is a row)
        text = text[: text.rfind("\n") + 1]
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if list(df.columns) != COLUMNS:
        raise ValueError(f"out_csv {str(out_csv)!r} exists but is not an ecomlab gradebook "
                         f"(columns {list(df.columns)[:5]}…); choose another --out")
    sizes = df.groupby(["submission", "sha256"]).size()
    complete = sizes[sizes == n_questions]
    keep = df.set_index(["submission", "sha256"]).index.isin(complete.index)
    if cut or not keep.all():
        buf = io.StringIO()
        df[keep].to_csv(buf, index=False)
        out_csv.write_text(buf.getvalue(), encoding="utf-8")
    return {s: h for s, h in complete.index}


def _append_rows(out_csv: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    for r in rows:
        w.writerow({k: " ".join(v.split()) if isinstance(v, str) else v for k, v in r.items()})
    with open(out_csv, "a", encoding="utf-8") as f:
        f.write(buf.getvalue())
        f.flush()
        os.fsync(f.fileno())


def summarise(gradebook: pd.DataFrame) -> pd.DataFrame:
    """One row per submission: points, the same maximum for everyone, counts per status.

    >>> rows = pd.DataFrame({"student": ["a", "a"], "submission": ["a.ipynb"] * 2,
    ...     "question_id": ["b.q1", "b.q2"], "status": ["correct", "error"],
    ...     "points": [1.0, 0.0], "max_points": [1.0, 1.0]})
    >>> summarise(rows)[["student", "points", "max_points", "correct", "error"]].to_dict("records")
    [{'student': 'a', 'points': 1.0, 'max_points': 2.0, 'correct': 1, 'error': 1}]
    """
    g = gradebook.assign(points=pd.to_numeric(gradebook["points"]),
                         max_points=pd.to_numeric(gradebook["max_points"]))
    base = g.groupby(["student", "submission"], sort=True).agg(points=("points", "sum"),
                                                               max_points=("max_points", "sum"))
    counts = pd.crosstab([g["student"], g["submission"]], g["status"]).reindex(
        columns=list(GRADE_STATUSES), fill_value=0)
    out = base.join(counts).reset_index()
    out["score"] = out["points"] / out["max_points"]
    out.columns.name = None
    return out


def _feedback_html(student: str, rows: list[dict[str, Any]], lesson: str, outcome: _Outcome) -> str:
    total = sum(r["points"] for r in rows)
    maximum = sum(r["max_points"] for r in rows)
    colours = {"correct": "#1b7f3b", "incorrect": "#b3261e", "not_attempted": "#5f6368",
               "not_reached": "#8a5a00", "error": "#b3261e"}
    trs = "\n".join(
        f"<tr><td>{html.escape(r['question_id'])}</td>"
        f"<td style='color:{colours[r['status']]}'><b>{r['status'].replace('_', ' ')}</b></td>"
        f"<td>{r['points']:g} / {r['max_points']:g}</td><td>{html.escape(r['reason'])}</td></tr>"
        for r in rows)
    note = (f"<p>The run stopped early: {html.escape(outcome.stopped)}</p>" if outcome.stopped else "")
    return (f"<!doctype html><meta charset='utf-8'><title>Feedback: {html.escape(student)}</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
            "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
            "table{border-collapse:collapse}</style>"
            f"<h1>Feedback for {html.escape(student)}</h1>"
            f"<p>{html.escape(lesson)}: <b>{total:g} of {maximum:g} points</b>.</p>{note}"
            "<table><tr><th>question</th><th>result</th><th>points</th><th>why</th></tr>"
            f"{trs}</table>")


@dataclass
class GradeReport:
    """What :func:`grade` did.

    Fields
    ------
    gradebook : one row per submission × expected question (:data:`COLUMNS`).
    summary : one row per submission (:func:`summarise`).
    graded, skipped : submissions graded now / already complete in the gradebook.
    landlock : the Landlock ABI the runs used (0: not available, see the docs).
    paths : the gradebook CSV, the summary CSV and the feedback folder.
    """

    gradebook: pd.DataFrame
    summary: pd.DataFrame
    graded: int
    skipped: int
    landlock: int
    paths: dict[str, Path]

    def to_frame(self) -> pd.DataFrame:
        """The gradebook."""
        return self.gradebook


def grade(
    returned: str | os.PathLike[str],
    out_csv: str | os.PathLike[str],
    *,
    lesson: str | os.PathLike[str] | None = None,
    banks: Sequence[str] = (),
    timeout: float = 600.0,
    memory_mb: int | None = 4096,
    output_mb: float = 20.0,
    jobs: int = 1,
    landlock: bool = True,
    progress: Callable[[str], None] | None = None,
) -> GradeReport:
    """Run every returned notebook in its own sandbox and judge its answers here.

    Parameters
    ----------
    returned : folder of returned notebooks (``alice.ipynb`` or nbgrader's
        ``alice/<assignment>/<notebook>.ipynb``); the student id is the file's stem, or the
        first folder when nested.
    out_csv : the gradebook CSV. Checked before anything runs; rows are appended and
        flushed as each notebook finishes; if it already holds complete rows for a
        submission with the same content (sha256), that submission is skipped (resume).
        Next to it: ``<stem>_summary.csv`` and ``<stem>_feedback/<student>.html``.
    lesson : the trainer's solution notebook; its checked questions are the expected ones.
    banks : or bank names (``"ch04_rfm"``): every numbered question of each.
    timeout : whole-notebook limit in seconds (default 600).
    memory_mb : address-space limit of the kernel in MiB (None: no limit).
    output_mb : cap on a notebook's total output; beyond it the run is stopped.
    jobs : notebooks run at once.
    landlock : confine file access and signals with Landlock when the kernel has it.
    progress : called with one line per finished notebook (the CLI prints them).

    Returns a :class:`GradeReport`. Raises ``ValueError`` for a missing folder, an
    unwritable or foreign ``out_csv``, or no questions.
    """
    import nbformat

    from ecomlab.exercises import use_data

    root = Path(returned)
    if not root.is_dir():
        raise ValueError(f"returned {str(root)!r} is not a folder of notebooks")
    if lesson is None and not banks:
        raise ValueError("pass lesson= (the solution notebook) or banks= (e.g. ['ch04_rfm']) so "
                         "the grader knows which questions to expect")
    for name, v in (("timeout", timeout), ("output_mb", output_mb)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    if memory_mb is not None and (isinstance(memory_mb, bool) or not isinstance(memory_mb, int)
                                  or memory_mb < 256):
        raise ValueError(f"memory_mb must be an integer ≥ 256 or None, got {memory_mb!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    qids = lesson_questions(lesson) if lesson is not None else []
    for b in banks:
        qids += [q for q in bank_questions(b) if q not in qids]
    use_data(None)  # expected answers from the bundled data, in this process
    for qid in qids:
        _question(qid)
    out_csv = Path(out_csv)
    _check_out(out_csv)
    try:
        returned_res = root.resolve()
        if out_csv.resolve().is_relative_to(returned_res):
            raise ValueError(f"out_csv {str(out_csv)!r} is inside the returned folder; write the "
                             "gradebook elsewhere")
    except OSError:
        pass
    done = _load_done(out_csv, len(qids))
    feedback_dir = out_csv.with_name(out_csv.stem + "_feedback")
    summary_csv = out_csv.with_name(out_csv.stem + "_summary.csv")
    feedback_dir.mkdir(parents=True, exist_ok=True)

    # snapshot every submission before any student code runs
    subs: list[_Submission] = []
    for p in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in p.parts or not p.is_file() or p.is_symlink():
            continue
        rel = p.relative_to(root)
        if p.stat().st_size > MAX_NOTEBOOK_BYTES:
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            subs.append(_Submission(p, rel.as_posix(), _student_of(rel), b"", h.hexdigest(), True))
            continue
        data = p.read_bytes()
        subs.append(_Submission(p, rel.as_posix(), _student_of(rel), data,
                                hashlib.sha256(data).hexdigest()))
    for s in subs:
        if s.rel in done and done[s.rel] != s.sha256:
            raise ValueError(f"{str(out_csv)!r} already grades {s.rel} from a different file "
                             "(content changed); use a new --out")
    todo = [s for s in subs if done.get(s.rel) != s.sha256]
    limits = Limits(timeout=float(timeout), memory_mb=memory_mb, output_mb=float(output_mb),
                    landlock=landlock)
    from ecomlab.trainer.sandbox import become_subreaper

    become_subreaper()
    batch = _Batch()
    landlock_used = [0]
    lesson_name = Path(lesson).name if lesson is not None else ", ".join(banks)
    n_done = [len(subs) - len(todo)]

    def prepare(sub: _Submission) -> tuple[Any, _Outcome]:
        if sub.too_large:
            return None, _Outcome(unreadable=f"the notebook is larger than the "
                                             f"{MAX_NOTEBOOK_BYTES / 1e6:.0f} MB limit")
        try:
            nb = nbformat.reads(sub.data.decode("utf-8"), as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # noqa: BLE001 - invalid JSON, wrong schema, bad encoding
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            return None, _Outcome(unreadable=f"not a readable notebook ({type(exc).__name__}: {first})")
        return nb, _run(sub, limits, batch)

    def finish(sub: _Submission, nb: Any, outcome: _Outcome) -> None:
        rows = _judge(sub, nb, outcome, qids, _flags(nb) if nb is not None else "")
        _append_rows(out_csv, rows)
        landlock_used[0] = max(landlock_used[0], outcome.landlock)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", sub.rel.removesuffix(".ipynb"))
        (feedback_dir / f"{safe}.html").write_text(
            _feedback_html(sub.student, rows, lesson_name, outcome), encoding="utf-8")
        n_done[0] += 1
        if progress is not None:
            pts = sum(r["points"] for r in rows)
            mx = sum(r["max_points"] for r in rows)
            extra = f"; stopped: {outcome.stopped}" if outcome.stopped else ""
            extra += f"; {outcome.unreadable}" if outcome.unreadable else ""
            progress(f"[{n_done[0]}/{len(subs)}] {sub.rel}: {pts:g}/{mx:g} points "
                     f"({outcome.seconds:.1f} s){extra}")

    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(prepare, s): s for s in todo}
        for fut in cf.as_completed(futures):
            sub = futures[fut]
            try:
                nb, outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - a grader-side failure is one row set
                nb, outcome = None, _Outcome(unreadable=f"grader failed on this file "
                                                        f"({type(exc).__name__}: {exc})")
            finish(sub, nb, outcome)

    gradebook = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    gradebook["points"] = pd.to_numeric(gradebook["points"])
    gradebook["max_points"] = pd.to_numeric(gradebook["max_points"])
    summary = summarise(gradebook) if len(gradebook) else pd.DataFrame()
    summary.to_csv(summary_csv, index=False)
    return GradeReport(gradebook=gradebook, summary=summary, graded=len(todo),
                       skipped=len(subs) - len(todo), landlock=landlock_used[0],
                       paths={"gradebook": out_csv, "summary": summary_csv, "feedback": feedback_dir})
