"""Every report template runs on a world it was not written on.

A session fixture generates another Nestwell world with the command an analyst's trainer
would use (``ecomlab generate --scale K --seed S --out DIR``: another seed, a twentieth of
the bundled size, a few seconds), and each template in :data:`ecomlab.reports.CONTRACTS`
is rendered on that folder of tables. The test is parametrised over CONTRACTS, so a
template added later is covered without touching this file. A rendered report must be a
standalone page with no code, no warning, at least one embedded figure and no word about
the bundled brand (every sentence comes from the data, DESIGN §8).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest

from ecomlab import datasets, reports

SCALE, SEED = 0.05, 11


@pytest.fixture(scope="session")
def other_world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world") / f"seed{SEED}"
    proc = subprocess.run([sys.executable, "-m", "ecomlab", "generate", "--scale", str(SCALE), "--seed", str(SEED),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_world_is_another_one(other_world):
    truth = json.loads((other_world / "truth.json").read_text(encoding="utf-8"))
    assert (truth["seed"], truth["scale"]) == (SEED, SCALE)
    assert datasets.truth()["seed"] != SEED
    ours, bundled = datasets.load("orders", other_world), datasets.load("orders")
    assert 0 < len(ours) < len(bundled) / 5


@pytest.mark.notebooks
@pytest.mark.parametrize("name", sorted(reports.CONTRACTS))
def test_every_template_renders_on_another_world(name, other_world, tmp_path):
    log = io.StringIO()
    out = reports.render(name, tmp_path / f"{name}.html", data=other_world, stream=log)
    page = out.read_text(encoding="utf-8")
    assert f"wrote {out}" in log.getvalue()
    assert f"the tables in {other_world}" in page                   # it read the generated world
    assert not re.search(r'class="[^"]*jp-InputArea-editor', page) and "hl-ipython3" not in page  # no code
    assert "reports.load(" not in page
    assert not re.search(r"Traceback|Error</span>|[A-Za-z]+Error:", page)
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page   # no warnings printed
    # the template writes nothing about Nestwell; a brand of that name may appear only where
    # the user's own data name it (the market table lists the generated world's brands)
    named_in_data = any("Nestwell" in str(v) for df in reports.load(name, other_world).tables.values()
                        for c in df.select_dtypes(exclude="number").columns for v in df[c].unique()[:200])
    assert named_in_data or "Nestwell" not in page
    assert page.count("data:image/png;base64,") >= 1
