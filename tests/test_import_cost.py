"""Lessons start fast: importing the package and setting the theme loads no heavy library.

Not a timed test (timings on shared machines are noisy): it checks *which* modules get
imported. SciPy's stats/optimize, statsmodels, scikit-learn and seaborn each add 0.3-1.7 s
to a lesson's first cell, so the package imports them inside the functions that need them.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy.stats", "scipy.optimize", "statsmodels", "sklearn", "seaborn")

LIGHT_MODULES = [
    "ecomlab.datasets", "ecomlab.metrics", "ecomlab.users", "ecomlab.causal", "ecomlab.traffic", "ecomlab.kpi",
    "ecomlab.plots", "ecomlab.glossary", "ecomlab.results",
    "ecomlab.exercises.ch00_start", "ecomlab.exercises.ch04_rfm",
    "ecomlab.exercises.ch04_cohorts", "ecomlab.exercises.ch04_coupons",
    "ecomlab.exercises.ch05_kpi", "ecomlab.exercises.ch05_behaviour",
]


def test_importing_lesson_modules_loads_no_heavy_library() -> None:
    code = (
        "import sys, json, importlib\n"
        "from ecomlab import plots; plots.set_theme()\n"
        "found, seen = {}, set()\n"
        f"for module in {LIGHT_MODULES!r}:\n"
        "    importlib.import_module(module)\n"
        f"    heavy = [m for m in {HEAVY!r} if m in sys.modules and m not in seen]\n"
        "    if heavy: found[module] = heavy; seen.update(heavy)\n"
        "print(json.dumps(found))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {}, f"modules that load a heavy library: {out.stdout.strip()}"


def test_estimators_load_only_the_statsmodels_modules_they_use() -> None:
    """DiD (Poisson and OLS) and the naive gap import statsmodels' model modules, not
    ``statsmodels.api``, which also loads every other model family, time series, etc. (~0.5 s)."""
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from ecomlab import causal\n"
        "rng = np.random.default_rng(0); n = 400\n"
        "joined = rng.random(n) < 0.3; pre = rng.poisson(2, n); post = rng.poisson(2, n)\n"
        "panel = pd.DataFrame({'customer_id': np.repeat([f'C{i:05d}' for i in range(n)], 2),\n"
        "    'post': np.tile([0, 1], n), 'joined': np.repeat(joined.astype(int), 2),\n"
        "    'orders': np.column_stack([pre, post]).ravel(), 'exposure_days': 180.0})\n"
        "causal.did_estimate(panel); causal.did_estimate(panel, model='ols'); causal.naive_member_gap(panel)\n"
        "print(sorted(m for m in ('statsmodels.api', 'statsmodels.tsa', 'statsmodels.discrete') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
