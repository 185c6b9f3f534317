"""The process that runs one submission inside its sandbox (``python -m ecomlab.trainer._worker RUN``).

Started by :func:`ecomlab.trainer.grading.grade` with a clean environment in a new
session. It applies the resource limits and Landlock to itself (inherited by the kernel
it starts), becomes a child subreaper, executes ``RUN/work/submission.ipynb`` with
nbclient (every cell, errors allowed, like nbgrader's autograde), writes
``RUN/worker.json`` (which cells raised, why the run stopped) and kills every
descendant before it exits. Nothing it writes decides a score: scores come from the
answers in ``RUN/answers`` judged by the grader's own process.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any


def _write_status(run: Path, status: dict[str, Any]) -> None:
    tmp = run / ".worker.json.tmp"
    tmp.write_text(json.dumps(status), encoding="utf-8")
    tmp.replace(run / "worker.json")


def main(argv: list[str]) -> int:
    """Run the job described by ``RUN/job.json``; always exit 0 unless killed."""
    run = Path(argv[0])
    job = json.loads((run / "job.json").read_text(encoding="utf-8"))
    from ecomlab.trainer import sandbox

    applied = sandbox.limits(job.get("memory_mb"), job["file_mb"])
    status: dict[str, Any] = {"stopped": None, "errors": [], "landlock": 0, "subreaper": False,
                              "limits": applied}
    status["subreaper"] = sandbox.become_subreaper()
    if job.get("landlock", True):
        try:
            status["landlock"] = sandbox.apply_landlock(run)
        except OSError as exc:
            status["landlock_error"] = str(exc)
    _write_status(run, status)
    os.environ[job["submit_env"]] = str(run / "answers")

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    cap = int(job["output_bytes"])
    used = [0]

    class _Client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):  # noqa: ANN001 - nbclient API
            used[0] += len(json.dumps(msg.get("content", {}), default=str))
            if used[0] > cap:
                status["stopped"] = (f"the notebook printed more than the output cap of "
                                     f"{cap / 1e6:.1f} MB (in cell {cell_index})")
                _write_status(run, status)
                sandbox.kill_tree(os.getpid())
                os._exit(0)
            return super().output(outs, msg, display_id, cell_index)

    work = run / "work"
    try:
        nb = nbformat.read(str(work / "submission.ipynb"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - the grader validated it; be safe anyway
        status["stopped"] = f"not a readable notebook ({type(exc).__name__}: {exc})"
        _write_status(run, status)
        return 0
    cfg = Config()
    cfg.KernelManager.transport = "ipc"
    (run / "k").mkdir(exist_ok=True)
    cfg.KernelManager.ip = str(run / "k" / "kernel")
    limit = float(job["timeout"])
    deadline = time.monotonic() + limit

    def remaining(cell: Any) -> int:  # the whole-notebook limit, spread over the cells
        left = deadline - time.monotonic()
        if left <= 0:
            raise CellTimeoutError(f"no time left of the {limit:g} s limit")
        return max(1, int(left))

    client = _Client(nb, timeout=int(limit), timeout_func=remaining, allow_errors=True,
                     kernel_name="python3", resources={"metadata": {"path": str(work)}},
                     config=cfg, record_timing=False, startup_timeout=max(30, int(limit)))
    try:
        client.execute()
    except DeadKernelError as exc:
        status["stopped"] = f"the kernel died ({exc})"
        status["crashed"] = True
    except CellTimeoutError:
        status["stopped"] = f"stopped at the whole-notebook time limit of {limit:g} s"
    except Exception as exc:  # noqa: BLE001 - e.g. a cell timeout
        name = type(exc).__name__
        text = str(exc).strip().splitlines()
        status["stopped"] = f"{name}: {text[-1] if text else ''}"[:500]
        status["crashed"] = True
        status["trace"] = traceback.format_exc()[-2000:]
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                status["errors"].append({"cell": i, "error": f"{out.get('ename')}: "
                                                             f"{str(out.get('evalue'))[:300]}"})
                break
    _write_status(run, status)
    try:
        nbformat.write(nb, str(run / "executed.ipynb"))
    except Exception:  # noqa: BLE001 - the executed copy is a convenience only
        pass
    sandbox.kill_tree(os.getpid())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
