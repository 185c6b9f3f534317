"""The notebook harness: every course notebook runs, and every lesson follows the template.

* ``test_notebook_executes`` runs each notebook under ``notebooks/`` with papermill from a
  fresh kernel, in an empty temporary working directory, and fails on any error; its wall
  time is reported in the session's closing table (see conftest.py).
* ``test_lesson_template`` checks the committed file of each lesson (chapter folders and
  00_start_here) against the lesson template of DESIGN.md section 5.
* The remaining tests exercise :mod:`ecomlab.notebooks` itself on a tiny notebook built
  here, so the runner is tested even before any lesson exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ecomlab import notebooks as nbrun
from ecomlab.notebooks import is_lesson, lesson_id, lesson_paths, notebooks_dir
from ecomlab.site import build_site

ALL_NOTEBOOKS = lesson_paths()
LESSONS = [p for p in ALL_NOTEBOOKS if is_lesson(p)]


def _rel(path: Path) -> str:
    return path.relative_to(notebooks_dir()).as_posix()


# --- every notebook executes --------------------------------------------------------
@pytest.mark.notebooks
@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=[_rel(p) for p in ALL_NOTEBOOKS])
def test_notebook_executes(path: Path, notebook_cache, record_property) -> None:
    run = notebook_cache.run(path)
    record_property("notebook_seconds", (_rel(path), round(run.seconds, 2)))
    print(f"{_rel(path)}: {run.seconds:.1f} s")
    assert run.error is None, f"{_rel(path)} failed:\n{run.error}"
    if is_lesson(path):
        recorded = sorted(p.stem for p in run.results_dir.glob("*.json"))
        assert recorded, f"{_rel(path)}: the results cell recorded nothing"
        assert lesson_id(path) in recorded, (
            f"{_rel(path)}: record() should use lesson id {lesson_id(path)!r}, got {recorded}"
        )


def test_lesson_ids_are_unique() -> None:
    ids = [lesson_id(p) for p in ALL_NOTEBOOKS]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"notebooks share lesson ids: {dupes}"


# --- every lesson follows the template ----------------------------------------------
def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("path", LESSONS, ids=[_rel(p) for p in LESSONS])
def test_lesson_template(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    name = _rel(path)
    problems: list[str] = []

    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name must be 'python3', got {kernel!r}")

    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if len(params) != 1:
        problems.append(f"expected one code cell tagged 'parameters', found {len(params)}")
    elif not re.search(r"^\s*data_dir\s*(:[^=]+)?=\s*None\b", params[0].source, re.M):
        problems.append("the 'parameters' cell must set `data_dir = None`")

    if not code or "results" not in code[-1].metadata.get("tags", []):
        problems.append("the final code cell must be tagged 'results'")
    elif "record(" not in code[-1].source:
        problems.append("the 'results' cell must call ecomlab.results.record(...)")

    text = _markdown(nb).lower()
    for needle, alternatives in {
        "objectives": ("objective", "学习目标"),
        "exercises": ("exercise", "练习"),
        "takeaways": ("takeaway", "要点"),
    }.items():
        if not any(a in text for a in alternatives):
            problems.append(f"markdown must include the {needle} section")

    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} stores an error output ({out.get('ename')})")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                first = "".join(out.get("text", "")).strip().splitlines()[:1]
                problems.append(f"cell {i} stores a stderr stream: {first}")

    assert not problems, f"{name}:\n  - " + "\n  - ".join(problems)


# --- the runner itself, on a tiny notebook ------------------------------------------
def _tiny_course(root: Path, fail: bool = False, chapter: str = "04_private_domain") -> Path:
    """Write ``root/notebooks/`` with a start page and one lesson; return the lesson."""
    params = new_code_cell("data_dir = None\nscale = 2")
    params.metadata["tags"] = ["parameters"]
    body = "import os\nfrom pathlib import Path\nvalue = scale * 21\n"
    if fail:
        body += "raise RuntimeError('boom')\n"
    results = new_code_cell(
        "from ecomlab.results import record\n"
        f"record('{chapter[:2]}-1', answer=value, cwd=os.getcwd(),\n"
        "       backend=__import__('matplotlib').get_backend().lower())"
    )
    results.metadata["tags"] = ["results"]
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Tiny RFM 小测试\n\nObjectives: test.\n"),
            params,
            new_code_cell(body),
            new_markdown_cell("## Exercises 练习\n\n## Key takeaways\n"),
            results,
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
    )
    lesson = root / "notebooks" / chapter / "01_tiny.ipynb"
    lesson.parent.mkdir(parents=True)
    nbformat.write(nb, str(lesson))
    start = new_notebook(
        cells=[new_markdown_cell("# Start here 从这里开始"), new_code_cell("1 + 1")],
        metadata=nb.metadata,
    )
    nbformat.write(start, str(root / "notebooks" / "00_start_here.ipynb"))
    return lesson


def test_lesson_paths_and_ids(tmp_path: Path) -> None:
    lesson = _tiny_course(tmp_path)
    ckpt = tmp_path / "notebooks" / "04_private_domain" / ".ipynb_checkpoints"
    ckpt.mkdir()
    (ckpt / "01_tiny-checkpoint.ipynb").write_text("{}")
    paths = lesson_paths(tmp_path)
    assert [p.relative_to(tmp_path / "notebooks").as_posix() for p in paths] == [
        "00_start_here.ipynb",
        "04_private_domain/01_tiny.ipynb",
    ]
    assert lesson_id(lesson, tmp_path) == "04-1"
    assert lesson_id(paths[0], tmp_path) == "00"
    assert lesson_id(tmp_path / "notebooks/appendix/02_sql.ipynb", tmp_path) == "A-2"
    assert is_lesson(lesson, tmp_path) and is_lesson(paths[0], tmp_path)
    assert not is_lesson(tmp_path / "notebooks/appendix/02_sql.ipynb", tmp_path)
    assert lesson_paths(tmp_path / "nowhere") == []


@pytest.mark.notebooks
def test_execute_runs_in_cwd_with_results_and_parameters(tmp_path: Path) -> None:
    lesson = _tiny_course(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    secs = nbrun.execute(lesson, tmp_path / "out.ipynb", parameters={"scale": 3},
                         cwd=work, results_dir=tmp_path / "res")
    assert secs > 0
    values = json.loads((tmp_path / "res" / "04-1.json").read_text())["values"]
    assert values["answer"] == 63  # the parameter was injected
    assert Path(values["cwd"]).resolve() == work.resolve()
    # figures are stored: the kernel draws inline even when the caller has MPLBACKEND=Agg
    assert "inline" in values["backend"]
    assert "ECOMLAB_RESULTS_DIR" not in __import__("os").environ


def test_execute_validates_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="path must be an existing .ipynb"):
        nbrun.execute(tmp_path / "missing.ipynb", tmp_path / "out.ipynb")
    lesson = _tiny_course(tmp_path)
    with pytest.raises(ValueError, match="timeout"):
        nbrun.execute(lesson, tmp_path / "out.ipynb", timeout=0)


@pytest.mark.notebooks
@pytest.mark.slow
def test_run_course_and_build_site(tmp_path: Path, capsys) -> None:
    _tiny_course(tmp_path)
    out = tmp_path / "build" / "notebooks"
    results = nbrun.run_course(out_dir=out, root=tmp_path)
    assert [r.ok for r in results] == [True, True]
    printed = capsys.readouterr().out
    assert re.search(r"^\[[12]/2\] 00_start_here\.ipynb  \d+\.\d s$", printed, re.M)
    assert re.search(r"^\[[12]/2\] 04_private_domain/01_tiny\.ipynb  \d+\.\d s$", printed, re.M)
    assert "2 notebooks in" in printed
    assert (tmp_path / "build" / "results" / "04-1.json").is_file()

    index = build_site(out, tmp_path / "build" / "site")
    page = index.read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    assert "04 Private domain 用户运营/私域" in text and "00 Start here" in text
    assert re.search(r'href="04_private_domain/01_tiny.html">Tiny RFM <span lang="zh-Hans">小测试</span></a>', page)
    assert (tmp_path / "build/site/04_private_domain/01_tiny.html").stat().st_size > 1000


@pytest.mark.notebooks
def test_run_course_reports_failures_and_in_place_strips_metadata(tmp_path: Path, capsys) -> None:
    lesson = _tiny_course(tmp_path, fail=True)
    before = lesson.read_bytes()
    results = nbrun.run_course(in_place=True, root=tmp_path, notebooks=[lesson])
    assert not results[0].ok and "RuntimeError: boom" in results[0].error
    assert lesson.read_bytes() == before  # a failed run leaves the source alone
    assert "FAILED" in capsys.readouterr().out
    start = tmp_path / "notebooks" / "00_start_here.ipynb"
    nbrun.run_course(in_place=True, root=tmp_path, notebooks=[start])
    nb = nbformat.read(str(start), as_version=4)
    assert "papermill" not in nb.metadata
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "2"
    assert all("papermill" not in c.metadata for c in nb.cells)


def test_build_site_needs_notebooks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="holds no notebooks"):
        build_site(tmp_path / "empty", tmp_path / "site")


@pytest.mark.notebooks
def test_notebook_cache_runs_once_in_an_empty_cwd(tmp_path: Path, notebook_cache) -> None:
    lesson = _tiny_course(tmp_path, chapter="99_harness_selftest")
    first = notebook_cache.run(lesson)
    assert first.error is None and first.lesson == "99-1"
    values = first.results()
    assert values["answer"] == 42
    assert Path(values["cwd"]).name == "cwd" and not any(Path(values["cwd"]).iterdir())
    mtime = first.out_path.stat().st_mtime_ns
    again = notebook_cache.run(lesson)
    assert again.seconds == first.seconds and again.out_path.stat().st_mtime_ns == mtime
