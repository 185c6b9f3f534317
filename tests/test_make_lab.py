"""`make lab` opens the student edition (solutions stripped), and never overwrites a
student's work when run again (DESIGN §1, issue 10 item 5)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ecomlab.notebooks import repo_root

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make_lab(student_dir: Path) -> str:
    out = subprocess.run(
        ["make", "-s", "lab", f"STUDENT_DIR={student_dir}", "JUPYTER=echo"],
        cwd=repo_root(), capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_make_lab_opens_the_student_edition_and_keeps_student_work(tmp_path):
    student = tmp_path / "course"
    printed = _make_lab(student)
    assert f"lab {student}/" in printed  # JupyterLab is started on the student copy
    lesson = student / "04_private_domain" / "01_rfm.ipynb"
    text = lesson.read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" not in text and "____" in text
    nb = json.loads(text)
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "my notes"})
    lesson.write_text(json.dumps(nb), encoding="utf-8")
    _make_lab(student)
    assert "my notes" in lesson.read_text(encoding="utf-8")
