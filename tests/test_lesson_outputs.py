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
