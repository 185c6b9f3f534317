"""nbgrader compatibility: cell metadata so nbgrader's own commands accept a lesson unchanged.

:func:`stamp` adds nbgrader's cell metadata (schema 3) to a solution notebook:

- every code cell tagged ``solution`` (holding ``### BEGIN SOLUTION`` …) becomes an
  *autograded answer* (``solution: true, grade: false``) with grade id ``<qid>-answer``;
- right after it, a locked *autograder tests* cell (``grade: true, locked: true``) with
  grade id ``<bank>-qN`` and the question's ``points``: ``assert ex.q1.check(answer), …``.
  When the solution cell is also tagged ``hidden-tests`` the assertion sits between
  ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``, so students see only the
  check while nbgrader's autograde runs the assertion.

Stamping is idempotent (a stamped notebook is left as it is) and touches nothing else.
The test cells carry the tag ``nbgrader-test``; :func:`ecomlab.trainer.student_edition`
drops them, so the ecomlab student edition still runs top to bottom.

In the nbgrader path nbgrader's trust model applies (its checksums restore locked cells;
the assertion runs in the student's kernel). ``ecomlab grade`` is the path where the
grader, not the kernel, decides (see :mod:`ecomlab.trainer.grading`).

>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[
...     nbformat.v4.new_code_cell("from ecomlab.exercises import _demo as ex"),
...     nbformat.v4.new_code_cell("### BEGIN SOLUTION\\nanswer = 1\\n### END SOLUTION\\nex.q1.check(answer)",
...                               metadata={"tags": ["solution"]})])
>>> stamp_notebook(nb)
1
>>> nb.cells[2].source.splitlines()[-1]
'assert ex.q1.check(answer), ex.q1.check(answer)'
>>> nb.cells[2].metadata["nbgrader"]["grade_id"], nb.cells[2].metadata["nbgrader"]["points"]
('_demo-q1', 1.0)
"""

from __future__ import annotations

import ast
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from ecomlab.trainer.edition import BEGIN

TEST_TAG = "nbgrader-test"
HIDDEN_TAG = "hidden-tests"
SCHEMA = 3


def _check_call(source: str, aliases: dict[str, str]) -> tuple[str, str, str]:
    """(question id, ``alias.qN``, argument text) of the ``alias.qN.check(arg)`` in ``source``."""
    from ecomlab.trainer.grading import _parse

    tree = _parse(source)
    if tree is None:
        raise ValueError("a solution cell does not parse")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "check" and isinstance(node.func.value, ast.Attribute)
                and isinstance(node.func.value.value, ast.Name)
                and node.func.value.value.id in aliases and len(node.args) == 1):
            alias, qn = node.func.value.value.id, node.func.value.attr
            return f"{aliases[alias]}.{qn}", f"{alias}.{qn}", ast.unparse(node.args[0])
    raise ValueError("a solution cell has no `ex.qN.check(answer)` call after its solution block "
                     f"(found: {source.strip().splitlines()[-1][:80]!r})")


def grade_id(qid: str) -> str:
    """nbgrader grade id of question ``qid`` (nbgrader allows letters, digits, ``_`` and ``-``).

    >>> grade_id("ch04_rfm.q1")
    'ch04_rfm-q1'
    """
    return qid.replace(".", "-")


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool,
          points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                            "schema_version": SCHEMA, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def stamp_notebook(nb: Any) -> int:
    """Add nbgrader metadata and test cells to ``nb`` in place; return graded questions.

    Raises ``ValueError`` when a solution cell has no check call or two cells check the
    same question (nbgrader grade ids must be unique).
    """
    from ecomlab.trainer.grading import _question, bank_aliases

    aliases = bank_aliases(nb)
    cells = list(nb.cells)
    out: list[Any] = []
    seen: set[str] = set()
    n = 0
    i = 0
    while i < len(cells):
        cell = cells[i]
        out.append(cell)
        i += 1
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if TEST_TAG in tags:
            continue
        if "solution" not in tags and BEGIN not in cell.source:
            continue
        qid, call, arg = _check_call(cell.source, aliases)
        if qid in seen:
            raise ValueError(f"two solution cells check {qid}; nbgrader grade ids must be unique")
        seen.add(qid)
        points = float(getattr(_question(qid), "points", 1.0))
        gid = grade_id(qid)
        cell.metadata["nbgrader"] = _meta(f"{gid}-answer", solution=True, grade=False, locked=False)
        assertion = f"assert {call}.check({arg}), {call}.check({arg})"
        if HIDDEN_TAG in tags:
            body = f"{call}.check({arg})\n### BEGIN HIDDEN TESTS\n{assertion}\n### END HIDDEN TESTS"
        else:
            body = assertion
        source = f"# Autograder test for {qid} (nbgrader; locked)\n{body}"
        nxt = cells[i] if i < len(cells) else None
        if nxt is not None and TEST_TAG in nxt.get("metadata", {}).get("tags", []):
            nxt.source = source
            nxt.metadata["nbgrader"] = _meta(gid, solution=False, grade=True, locked=True,
                                             points=points)
        else:
            test = nbformat.v4.new_code_cell(source, metadata={
                "tags": [TEST_TAG],
                "nbgrader": _meta(gid, solution=False, grade=True, locked=True, points=points),
            })
            if nb.get("nbformat_minor", 5) < 5:
                test.pop("id", None)
            out.append(test)
        n += 1
    nb.cells = out
    return n


def stamp(path: str | os.PathLike[str]) -> int:
    """Stamp the notebook at ``path`` in place (see :func:`stamp_notebook`)."""
    nb = nbformat.read(str(path), as_version=4)
    n = stamp_notebook(nb)
    if n:
        nbformat.write(nb, str(path))
    return n


def stamp_paths(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, int]]:
    """Stamp every notebook given or found under the folders given; return (path, questions)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += [q for q in sorted(p.rglob("*.ipynb")) if ".ipynb_checkpoints" not in q.parts]
        elif p.suffix == ".ipynb" and p.is_file():
            found.append(p)
        else:
            raise ValueError(f"{str(p)!r} is neither a notebook nor a folder")
    return [(p, stamp(p)) for p in found]
