"""The student edition: solution notebooks with their answers stripped.

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

Grading is :mod:`ecomlab.trainer.grading`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

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
    nbgrader test cells (tag ``nbgrader-test``, see :mod:`ecomlab.trainer.nbgrader`) are
    left out. nbgrader metadata on the stripped cells is kept.
    """
    nb = nbformat.read(str(src), as_version=4)
    # nbgrader's locked test cells (ecomlab.trainer.nbgrader) assert the answer; the ecomlab
    # student edition checks it with `ex.qN.check` instead, so they are left out
    nb.cells = [c for c in nb.cells if "nbgrader-test" not in c.get("metadata", {}).get("tags", [])]
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
    """Student edition of every notebook under ``src_dir`` into ``out_dir`` (same layout).

    Refuses an ``out_dir`` equal to or inside ``src_dir`` (it would overwrite the
    solutions). Symbolic links are resolved first, so a link cannot sneak past the check.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    if not src_dir.is_dir():
        raise ValueError(f"src_dir {str(src_dir)!r} is not a directory")
    src_res, out_res = src_dir.resolve(), out_dir.resolve()
    if out_res == src_res or out_res.is_relative_to(src_res):
        raise ValueError(f"out_dir {str(out_dir)!r} is the same as or inside src_dir "
                         f"{str(src_dir)!r}; writing there would overwrite or mix with the "
                         "solution notebooks — choose a folder outside it (e.g. build/student)")
    written = []
    for p in sorted(src_dir.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in p.parts:
            continue
        dst = out_dir / p.relative_to(src_dir)
        student_edition(p, dst)
        written.append(dst)
    return written
