"""The committed lesson notebooks carry what students browse: figures, no warnings."""

from __future__ import annotations

import json

import pytest

from ecomlab import notebooks as nbrun

LESSONS = [p for p in nbrun.lesson_paths() if "appendix" not in p.parts]


def _outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            yield from cell.get("outputs", [])


@pytest.mark.parametrize("path", LESSONS, ids=[str(p.parent.name + "/" + p.stem) for p in LESSONS])
def test_lesson_stores_figures_and_no_warnings(path):
    outs = list(_outputs(path))
    assert any("image/png" in o.get("data", {}) for o in outs), "no stored figure: re-run with `make notebooks`"
    for o in outs:
        assert o.get("output_type") != "error", o.get("ename")
        assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), "".join(o.get("text", []))[:200]
        text = "".join(o.get("text", [])) + "".join(o.get("data", {}).get("text/plain", []))
        assert "Warning" not in text, text[:200]


def test_data_card_lists_the_lessons_that_load_each_table():
    """schema.TABLES[...].lessons (rendered into the data card) names every lesson loading it."""
    import re

    from ecomlab import schema

    for path in (p for p in LESSONS if nbrun.is_lesson(p)):  # templates read the user's data
        lid = nbrun.lesson_id(path)
        nb = json.loads(path.read_text(encoding="utf-8"))
        src = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        for table in set(re.findall(r'(?:load|data)\("(\w+)"', src)):
            assert lid in schema.table(table).lessons, f"{table} is loaded by {lid}; add it to schema.py"


@pytest.mark.parametrize("path", LESSONS, ids=[str(p.parent.name + "/" + p.stem) for p in LESSONS])
def test_papermill_sees_the_parameters(path):
    """Analysts run `papermill LESSON out.ipynb -p data_dir DIR`: papermill must recognise the
    parameters (its parser skips a line whose comment holds '=')."""
    import papermill as pm

    params = pm.inspect_notebook(str(path))
    # lessons take the bundled data's folder; report templates take the user's data
    assert ("data" if "templates" in path.parts else "data_dir") in params
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    assigned = [ln.split("=")[0].strip() for ln in "".join(cell["source"]).splitlines()
                if "=" in ln.split("#")[0]]
    assert set(assigned) <= set(params), set(assigned) - set(params)
