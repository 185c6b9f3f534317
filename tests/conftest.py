"""Shared test fixtures: the notebook execution cache and ``lesson_results``.

Each course notebook is executed at most once per test session, from a fresh kernel,
with its working directory a fresh temporary folder (so no lesson may rely on relative
paths) and ``ECOMLAB_RESULTS_DIR`` pointing to a per-notebook results folder. The
execution test (tests/test_notebooks.py) and the truth-recovery tests of each chapter
share that one run, also across pytest-xdist workers (a file lock guards each notebook).

Truth-recovery tests use the ``lesson_results`` fixture::

    def test_rfm_recovers_champions(lesson_results, truth):
        got = lesson_results("04-1")          # dict recorded by the lesson's results cell
        assert abs(got["champions_share"] - truth[...]) < 0.02

Lesson ids come from :func:`ecomlab.notebooks.lesson_id`
(``notebooks/04_private_domain/01_rfm.ipynb`` -> ``"04-1"``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as _hyp_settings

from ecomlab.notebooks import _relative, execute, lesson_id, lesson_paths, notebooks_dir

# Property tests check invariants, not speed: no per-example deadline on a shared 2-core machine.
_hyp_settings.register_profile("ecomlab", deadline=None)
_hyp_settings.load_profile("ecomlab")

try:  # POSIX: lock a notebook's run so parallel workers execute it only once
    import fcntl
except ImportError:  # pragma: no cover - Windows: each worker may run a notebook itself
    fcntl = None  # type: ignore[assignment]

NOTEBOOK_TIMEOUT = float(os.environ.get("ECOMLAB_NOTEBOOK_TIMEOUT", "300"))


@dataclass(frozen=True)
class NotebookRun:
    """One cached execution: where it went, how long it took, and any error."""

    path: Path
    lesson: str
    out_path: Path
    results_dir: Path
    seconds: float
    error: str | None

    def results(self) -> dict:
        """The values the notebook recorded (see :mod:`ecomlab.results`)."""
        if self.error:
            pytest.fail(f"{self.path.name} failed to execute: {self.error}", pytrace=False)
        preferred = self.results_dir / f"{self.lesson}.json"
        files = sorted(self.results_dir.glob("*.json"))
        if preferred.is_file():
            chosen = preferred
        elif len(files) == 1:
            chosen = files[0]
        else:
            pytest.fail(
                f"{self.path.name}: expected its results cell to record lesson "
                f"{self.lesson!r}; found {[f.stem for f in files] or 'nothing'} "
                f"in {self.results_dir}",
                pytrace=False,
            )
        return json.loads(chosen.read_text(encoding="utf-8"))["values"]


class NotebookCache:
    """Execute notebooks lazily, once per session (shared by xdist workers)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._memo: dict[Path, NotebookRun] = {}

    def run(self, path: Path) -> NotebookRun:
        path = Path(path).resolve()
        if path in self._memo:
            return self._memo[path]
        lesson = lesson_id(path)
        key = _relative(path, None).with_suffix("").as_posix()
        work = self.root / key.replace("/", "__")
        work.mkdir(parents=True, exist_ok=True)
        status_file = work / "status.json"
        with self._lock(work / ".lock"):
            if not status_file.is_file():
                status = self._execute(path, work)
                status_file.write_text(json.dumps(status), encoding="utf-8")
            status = json.loads(status_file.read_text(encoding="utf-8"))
        run = NotebookRun(
            path=path,
            lesson=lesson,
            out_path=work / "executed.ipynb",
            results_dir=work / "results",
            seconds=status["seconds"],
            error=status["error"],
        )
        self._memo[path] = run
        return run

    @staticmethod
    def _execute(path: Path, work: Path) -> dict:
        cwd = work / "cwd"  # an empty folder: proves the lesson uses no relative paths
        cwd.mkdir(exist_ok=True)
        start = time.perf_counter()
        error = None
        try:
            execute(path, work / "executed.ipynb", cwd=cwd, results_dir=work / "results",
                    timeout=NOTEBOOK_TIMEOUT)
        except Exception as exc:  # stored, then reported by every test that needs it
            ename = getattr(exc, "ename", None)
            error = f"{ename}: {getattr(exc, 'evalue', '')}" if ename else f"{exc!r}"
            if ename and getattr(exc, "traceback", None):
                error += "\n" + "\n".join(exc.traceback[-6:])
        return {"seconds": time.perf_counter() - start, "error": error}

    @staticmethod
    @contextlib.contextmanager
    def _lock(lock_path: Path) -> Iterator[None]:
        if fcntl is None:  # pragma: no cover
            yield
            return
        with open(lock_path, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def truth() -> dict:
    """The planted ground truth of the bundled world (``datasets/truth.json``)."""
    from ecomlab import datasets

    return datasets.truth()


@pytest.fixture(scope="session")
def notebook_cache(tmp_path_factory: pytest.TempPathFactory) -> NotebookCache:
    """Session cache of notebook executions (one folder shared by all xdist workers)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # xdist: basetemp is <session>/popen-gwN
        base = base.parent
    return NotebookCache(base / "notebook-runs")


@pytest.fixture(scope="session")
def lesson_results(notebook_cache: NotebookCache) -> Callable[[str], dict]:
    """Return a function ``lesson_results(lesson_id) -> dict`` of recorded values.

    Executes the lesson's notebook on first use (cached for the session). Accepts a
    lesson id (``"04-1"``) or a path below ``notebooks/`` (``"04_private_domain/01_rfm"``).
    """
    by_id = {lesson_id(p): p for p in lesson_paths()}
    base = notebooks_dir()

    def _get(lesson: str) -> dict:
        path = by_id.get(lesson)
        if path is None:
            candidate = base / (lesson if lesson.endswith(".ipynb") else f"{lesson}.ipynb")
            path = candidate if candidate.is_file() else None
        if path is None:
            pytest.fail(
                f"no notebook for lesson {lesson!r}; known lesson ids: "
                f"{', '.join(sorted(by_id)) or 'none (notebooks/ is empty)'}",
                pytrace=False,
            )
        return notebook_cache.run(path).results()

    return _get


# --- per-notebook time table at the end of the session ------------------------------
_NOTEBOOK_TIMES: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the wall times the notebook tests recorded with ``record_property``."""
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "notebook_seconds":
            nb, secs = value
            _NOTEBOOK_TIMES[nb] = float(secs)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    """Print one line per executed notebook with its wall time, and the total."""
    if not _NOTEBOOK_TIMES:
        return
    tr = terminalreporter
    tr.section("notebook execution times")
    width = max(len(k) for k in _NOTEBOOK_TIMES)
    for nb, secs in sorted(_NOTEBOOK_TIMES.items()):
        tr.write_line(f"{nb:<{width}}  {secs:6.1f} s")
    tr.write_line(f"{'total':<{width}}  {sum(_NOTEBOOK_TIMES.values()):6.1f} s "
                  f"({len(_NOTEBOOK_TIMES)} notebooks)")


@pytest.fixture
def plot_theme():
    """The course theme inside an rc context (Agg backend), figures closed afterwards.

    Plot test modules use it with ``pytestmark = pytest.mark.usefixtures("plot_theme")``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecomlab import plots

    with matplotlib.rc_context():
        plots.set_theme()
        yield
    plt.close("all")


# --- Spark needs a Java runtime: one rule for every engine test module ---------------
HAVE_JAVA = bool(os.environ.get("JAVA_HOME") or shutil.which("java"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def java() -> None:
    """Skip Spark tests without Java locally; under CI a missing Java is a failure, never a skip."""
    if not HAVE_JAVA:
        msg = "no Java runtime (java not on PATH, JAVA_HOME unset): .ci/run installs default-jre-headless"
        if IN_CI:
            pytest.fail(f"Spark tests cannot run under CI: {msg}", pytrace=False)
        pytest.skip(msg)
