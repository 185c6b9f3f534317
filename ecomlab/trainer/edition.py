"""Trainer tools: the student edition (solutions stripped) and grading returned notebooks.

The solution notebooks are the source. A code cell tagged ``solution`` holds its answer
between nbgrader-style markers::

    ### BEGIN SOLUTION
    rfm = users.rfm_table(orders).table
    ### END SOLUTION
    ex.q1.check(rfm)

:func:`student_edition` replaces the marked lines by a stub that binds every name the
solution assigned to the placeholder ``____`` (``rfm = ____``), clears the cell's outputs
and keeps everything else, so the student notebook still runs top to bottom and every
check reports "Not attempted". The markers are nbgrader's, so a trainer can move to
nbgrader without rewriting the lessons.

:func:`grade` executes each returned notebook (papermill, fresh kernel) with the grading
log switched on (:data:`ecomlab.exercises.core.GRADES_ENV`) and writes one row per
student and question: the status of the *last* check of that question.
"""

from __future__ import annotations

import ast
import json
import tempfile
from pathlib import Path

import nbformat
import pandas as pd

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


def _assigned_names(code: str) -> list[str]:
    """Names bound at top level by ``code`` (assignments, augmented/annotated, defs)."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValueError(f"solution block does not parse: {exc}") from exc
    names: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                add(t)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                add(t)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            add(node.target)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return list(dict.fromkeys(names))


def strip_solution(source: str) -> str:
    """Replace every ``BEGIN/END SOLUTION`` block in ``source`` by placeholder stubs.

    >>> print(strip_solution("### BEGIN SOLUTION\\nx = 1 + 1\\n### END SOLUTION\\nex.q1.check(x)"))
    from ecomlab.exercises import ____
    x = ____  # your answer here
    ex.q1.check(x)
    """
    lines = source.splitlines()
    out: list[str] = []
    i = 0
    found = False
    while i < len(lines):
        if lines[i].strip() == BEGIN:
            try:
                j = next(k for k in range(i + 1, len(lines)) if lines[k].strip() == END)
            except StopIteration:
                raise ValueError(f"'{BEGIN}' without a matching '{END}'") from None
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            block = "\n".join(line[len(indent):] if line.startswith(indent) else line for line in lines[i + 1:j])
            names = _assigned_names(block)
            if not names:
                raise ValueError("a solution block must assign the answer to a name (e.g. `answer = ...`)")
            out.append(f"{indent}from ecomlab.exercises import ____")
            out.extend(f"{indent}{n} = ____  # your answer here" for n in names)
            found = True
            i = j + 1
        elif lines[i].strip() == END:
            raise ValueError(f"'{END}' without a preceding '{BEGIN}'")
        else:
            out.append(lines[i])
            i += 1
    if not found:
        return source
    return "\n".join(out)


def student_edition(src: str | Path, dst: str | Path) -> int:
    """Write the student edition of notebook ``src`` to ``dst``; return solution cells stripped.

    Every code cell tagged ``solution`` (or containing the markers) is stripped and its
    outputs cleared; stored outputs of other cells are kept so students can browse them.
    """
    nb = nbformat.read(str(src), as_version=4)
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tagged = "solution" in cell.get("metadata", {}).get("tags", [])
        if tagged or BEGIN in cell.source:
            if BEGIN not in cell.source:
                raise ValueError(f"{src}: a cell tagged 'solution' has no '{BEGIN}' marker")
            cell.source = strip_solution(cell.source)
            cell.outputs = []
            cell.execution_count = None
            n += 1
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dst))
    return n


def build_student_edition(src_dir: str | Path = "notebooks", out_dir: str | Path = "build/student") -> list[Path]:
    """Student edition of every notebook under ``src_dir`` into ``out_dir`` (same layout)."""
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    if not src_dir.is_dir():
        raise ValueError(f"src_dir {str(src_dir)!r} is not a directory")
    written = []
    for p in sorted(src_dir.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in p.parts:
            continue
        dst = out_dir / p.relative_to(src_dir)
        student_edition(p, dst)
        written.append(dst)
    return written


def grade(returned: str | Path, out_csv: str | Path | None = None, *, timeout: int = 300) -> pd.DataFrame:
    """Execute every notebook under ``returned`` and score each question by its last check.

    Returns (and writes to ``out_csv`` if given) a frame with columns ``notebook``,
    ``question_id``, ``status`` (correct / incorrect / not_attempted / error) and
    ``score`` (1 for correct, else 0). A notebook that fails to execute gets one row
    with ``question_id = "<execution>"``, status ``error`` and the error text.
    """
    from ecomlab.exercises.core import GRADES_ENV
    from ecomlab.notebooks import _one_line, execute

    root = Path(returned)
    if not root.is_dir():
        raise ValueError(f"returned {str(root)!r} is not a directory of notebooks")
    rows = []
    for nb in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb.parts:
            continue
        name = str(nb.relative_to(root))
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "grades.jsonl"
            try:
                execute(nb, Path(tmp) / "out.ipynb", cwd=tmp, timeout=timeout,
                        env={GRADES_ENV: str(log)})
                error = None
            except Exception as exc:  # noqa: BLE001 - any failure is reported in the CSV
                error = _one_line(exc)
            last: dict[str, str] = {}
            if log.exists():
                for line in log.read_text(encoding="utf-8").splitlines():
                    rec = json.loads(line)
                    last[rec["question_id"]] = rec["status"]
        for qid, status in last.items():
            rows.append({"notebook": name, "question_id": qid, "status": status,
                         "score": int(status == "correct"), "error": ""})
        if error:
            rows.append({"notebook": name, "question_id": "<execution>", "status": "error", "score": 0,
                         "error": error})
    df = pd.DataFrame(rows, columns=["notebook", "question_id", "status", "score", "error"])
    if out_csv is not None:
        Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out_csv, index=False)
    return df
