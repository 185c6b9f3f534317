"""Find and execute the course notebooks (the site is built by :mod:`ecomlab.site`).

Used by ``ecomlab run`` (see :mod:`ecomlab.cli`), by ``make course``
and by the notebook tests. Execution goes through papermill with the ``python3`` kernel
of the current environment, from a fresh kernel, headless (the kernel draws with the
inline backend, so figures are stored in the notebook even when the calling process
runs with ``MPLBACKEND=Agg``).

Layout of ``notebooks/``::

    00_start_here.ipynb
    01_positioning/01_market.ipynb ...      chapter folders named NN_<slug>
    appendix/01_glossary.ipynb ...

Example
-------
>>> from ecomlab.notebooks import lesson_paths, lesson_id
>>> [lesson_id(p) for p in lesson_paths()][:1]  # doctest: +SKIP
['00']
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CHAPTER_DIR_RE = re.compile(r"^(\d\d)_[A-Za-z0-9_]+$")
_LESSON_FILE_RE = re.compile(r"^(\d+)_")



#: Environment for every kernel the course starts. ``MPLBACKEND`` is set to the inline
#: backend explicitly: a caller's ``MPLBACKEND=Agg`` (the Makefile, CI) would otherwise
#: be inherited by the kernel and stop figures from being stored in the notebook.
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


@contextlib.contextmanager
def kernel_config() -> Iterator[Any]:
    """Kernel-manager config for one execution: IPC sockets in a private temporary folder.

    With the default TCP transport, kernels started at the same moment (parallel course
    runs, pytest-xdist) can be handed the same free port and die with "Address already
    in use". Unix sockets in a folder of their own cannot collide, and the folder is
    removed afterwards. Pass the yielded config to ``papermill.execute_notebook(config=...)``.
    """
    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="ecomlab-kernel-") as d:
        cfg = Config()
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = str(Path(d) / "kernel")
        yield cfg

def repo_root() -> Path:
    """Return the course checkout: the package's parent when it holds ``notebooks/``
    (a source or editable install), else the current directory (an installed wheel).

    Example
    -------
    >>> (repo_root() / "notebooks").is_dir() or repo_root() == Path.cwd()
    True
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "notebooks").is_dir() or (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


def notebooks_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """Return ``<root>/notebooks`` (``root`` defaults to :func:`repo_root`)."""
    return (Path(root) if root is not None else repo_root()) / "notebooks"


def lesson_paths(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Return every course notebook under ``<root>/notebooks``, sorted, no checkpoints.

    ``root`` is the repository root (default: the checkout this package lives in).
    Returns an empty list when there is no ``notebooks/`` folder.

    Example
    -------
    >>> all(p.suffix == ".ipynb" for p in lesson_paths())
    True
    """
    base = notebooks_dir(root)
    if not base.is_dir():
        return []
    paths = [
        p
        for p in base.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
    ]
    return sorted(paths, key=lambda p: p.relative_to(base).as_posix())


def is_lesson(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> bool:
    """True for notebooks that follow the lesson template: chapter folders and 00_start_here.

    Appendix notebooks are course material but not template lessons.

    Example
    -------
    >>> is_lesson("notebooks/04_private_domain/01_rfm.ipynb", root=".")
    True
    >>> is_lesson("notebooks/appendix/01_glossary.ipynb", root=".")
    False
    """
    rel = _relative(path, root)
    if len(rel.parts) == 1:
        return rel.name == "00_start_here.ipynb"
    return bool(_CHAPTER_DIR_RE.match(rel.parts[0]))


def lesson_id(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """Return the lesson id a notebook records its results under.

    ``00_start_here.ipynb`` -> ``"00"``; ``04_private_domain/01_rfm.ipynb`` -> ``"04-1"``;
    ``appendix/02_sql.ipynb`` -> ``"A-2"``. Other names fall back to the slash-free
    relative path without suffix.

    Example
    -------
    >>> lesson_id("notebooks/04_private_domain/01_rfm.ipynb", root=".")
    '04-1'
    """
    rel = _relative(path, root)
    if len(rel.parts) == 1:
        m = re.match(r"^(\d\d)_", rel.name)
        return m.group(1) if m else rel.stem
    chapter, name = rel.parts[0], rel.parts[-1]
    m_file = _LESSON_FILE_RE.match(name)
    m_dir = _CHAPTER_DIR_RE.match(chapter)
    if m_file and m_dir and len(rel.parts) == 2:
        return f"{m_dir.group(1)}-{int(m_file.group(1))}"
    if m_file and chapter == "appendix" and len(rel.parts) == 2:
        return f"A-{int(m_file.group(1))}"
    return rel.with_suffix("").as_posix().replace("/", "__")


def _relative(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> Path:
    """``path`` relative to ``<root>/notebooks`` (or as given if it is already relative)."""
    p = Path(path)
    base = notebooks_dir(root)
    for candidate in (p, p.resolve()):
        for b in (base, base.resolve()):
            with contextlib.suppress(ValueError):
                return candidate.relative_to(b)
    parts = p.parts
    if "notebooks" in parts:
        return Path(*parts[len(parts) - parts[::-1].index("notebooks") :])
    return Path(p.name)


@contextlib.contextmanager
def _environ(updates: Mapping[str, str]) -> Iterator[None]:
    """Temporarily set environment variables (inherited by the kernel subprocess)."""
    saved = {k: os.environ.get(k) for k in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(
    path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    timeout: float = 600,
    env: Mapping[str, str] | None = None,
) -> float:
    """Execute one notebook top to bottom in a fresh ``python3`` kernel; return seconds.

    Parameters
    ----------
    path, out_path
        Source notebook and where to write the executed copy (may be the same file).
    parameters
        papermill parameters, injected after the cell tagged ``parameters``.
    cwd
        Working directory of the kernel (default: the notebook's folder).
    results_dir
        Folder for :func:`ecomlab.results.record` (sets ``ECOMLAB_RESULTS_DIR``).
    timeout
        Per-cell timeout in seconds.
    env
        Extra environment variables for the kernel (e.g. the grading log of
        :func:`ecomlab.trainer.grade`), on top of :data:`KERNEL_ENV`.

    Raises
    ------
    ValueError
        If ``path`` is not an existing ``.ipynb`` file or ``timeout`` is not positive.
    papermill.PapermillExecutionError
        If a cell raises; the executed copy with the traceback is still written.

    Example
    -------
    >>> secs = execute("notebooks/00_start_here.ipynb", "/tmp/out.ipynb")  # doctest: +SKIP
    """
    import papermill as pm

    src = Path(path)
    if src.suffix != ".ipynb" or not src.is_file():
        raise ValueError(f"path must be an existing .ipynb file, got {str(src)!r}")
    if not timeout or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    dst = Path(out_path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    env = {**KERNEL_ENV, **(env or {})}
    if results_dir is not None:
        Path(results_dir).mkdir(parents=True, exist_ok=True)
        env["ECOMLAB_RESULTS_DIR"] = str(Path(results_dir).resolve())
    work_dir = Path(cwd) if cwd is not None else src.resolve().parent
    start = time.perf_counter()
    with _environ(env), kernel_config() as kcfg:
        pm.execute_notebook(
            str(src),
            str(dst),
            parameters=dict(parameters) if parameters else None,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            # write the notebook once at the end, not after every cell (~2 s per lesson)
            request_save_on_cell_execute=False,
            # every output is in hand when the last cell ends: stop the kernel at once
            # instead of a graceful shutdown that waits on it (~0.5 s per notebook)
            shutdown_kernel="immediate",
            config=kcfg,
            cwd=str(work_dir),
            execution_timeout=timeout,
        )
    return time.perf_counter() - start


def strip_run_metadata(path: str | os.PathLike[str]) -> None:
    """Remove papermill's timing metadata from a notebook so committed copies diff cleanly.

    Example
    -------
    >>> strip_run_metadata("notebooks/00_start_here.ipynb")  # doctest: +SKIP
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, str(path))


@dataclass(frozen=True)
class RunResult:
    """Outcome of executing one notebook in :func:`run_course`.

    Attributes
    ----------
    path: the source notebook. out_path: the executed copy.
    seconds: wall time. error: ``None`` on success, else a one-line reason.
    """

    path: Path
    out_path: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_course(
    out_dir: str | os.PathLike[str] = "build/notebooks",
    in_place: bool = False,
    notebooks: Sequence[str | os.PathLike[str]] | None = None,
    root: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    timeout: float = 600,
    stream=None,
    jobs: int | None = None,
) -> list[RunResult]:
    """Execute every course notebook (or ``notebooks``), printing one line each.

    ``jobs`` notebooks run at once, each in its own worker process and kernel
    (default: the number of CPUs, at most 4); ``jobs=1`` runs them one after another.

    Executed copies go to ``out_dir`` keeping the ``notebooks/`` layout, or back over
    the sources with ``in_place=True`` (only when the run succeeds; papermill's timing
    metadata is then removed so committed notebooks diff cleanly). The kernel runs in the
    folder of the written copy. Results are recorded in ``results_dir``
    (default: ``results`` beside ``out_dir``, e.g. ``build/results``; not set for
    ``in_place`` unless given). A failing
    notebook is reported and the run continues.

    Example
    -------
    >>> results = run_course("build/notebooks")  # doctest: +SKIP
    [1/12] 00_start_here.ipynb  1.9 s
    ...
    """
    stream = stream or sys.stdout
    base = notebooks_dir(root)
    paths = [Path(p) for p in notebooks] if notebooks else lesson_paths(root)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ValueError(f"notebooks not found: {', '.join(missing)}")
    out_base = Path(out_dir)
    if results_dir is None and not in_place:
        results_dir = out_base.parent / "results"
    if not paths:
        print(f"no notebooks found under {base}", file=stream)
        return []
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 4)
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    outcomes: list[RunResult | None] = [None] * len(paths)
    total_start = time.perf_counter()
    tasks = []
    for src in paths:
        rel = _relative(src, root)
        dst = src if in_place else out_base / rel
        tasks.append((src, dst, rel, in_place, results_dir, timeout))
    done = 0

    def report(i: int, res: RunResult, rel: Path) -> None:
        nonlocal done
        done += 1
        outcomes[i] = res
        status = f"  FAILED: {res.error}" if res.error else ""
        print(f"[{done}/{len(paths)}] {rel.as_posix()}  {res.seconds:.1f} s{status}", file=stream, flush=True)

    if jobs == 1 or len(tasks) == 1:
        _import_runner()
        for i, t in enumerate(tasks):
            report(i, _run_one(*t), t[2])
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, initializer=_import_runner) as pool:
            futures = {pool.submit(_run_one, *t): i for i, t in enumerate(tasks)}
            for fut in as_completed(futures):
                i = futures[fut]
                report(i, fut.result(), tasks[i][2])
    total = time.perf_counter() - total_start
    outcomes = [r for r in outcomes if r is not None]
    failed = sum(not r.ok for r in outcomes)
    print(
        f"{len(outcomes)} notebooks in {total:.1f} s"
        + (f", {failed} FAILED" if failed else ", all ok"),
        file=stream,
        flush=True,
    )
    return outcomes


def _import_runner() -> None:
    """Import papermill once per process, before any notebook's clock starts.

    The import takes ~3 s (nbformat -> jsonschema -> rfc3987_syntax builds ~35 Lark
    parsers at import; jsonschema issue #1428). It is the runner's start-up, not the
    lesson's run time, so it counts in the course total but not per notebook.
    """
    import papermill  # noqa: F401


def _run_one(src: Path, dst: Path, rel: Path, in_place: bool, results_dir, timeout: float) -> RunResult:
    """Execute one notebook (in a worker process when run in parallel)."""
    start = time.perf_counter()
    error = None
    try:
        if in_place:  # replace the source only when the run succeeded
            with tempfile.TemporaryDirectory() as tmp:
                staged = Path(tmp) / src.name
                execute(src, staged, cwd=src.resolve().parent, results_dir=results_dir, timeout=timeout)
                strip_run_metadata(staged)
                shutil.copyfile(staged, src)
        else:
            execute(src, dst, cwd=dst.resolve().parent, results_dir=results_dir, timeout=timeout)
    except Exception as exc:  # report and keep going; the summary fails the run
        error = _one_line(exc)
    return RunResult(src, dst, time.perf_counter() - start, error)


def _one_line(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        cell = getattr(exc, "exec_count", None)
        where = f" in cell [{cell}]" if cell else ""
        return f"{ename}: {evalue}{where}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
