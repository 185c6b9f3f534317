"""Confinement for one graded submission: limits, a clean environment, Landlock, cleanup.

What a graded kernel gets (see ``docs/trainers.md`` for the full threat model):

- **its own copy** in a fresh private folder (``mkdtemp``, mode 0700) that is its home,
  working directory and ``TMPDIR``;
- **a clean environment**: only ``PATH``, locale, the run folder's Jupyter/IPython/
  Matplotlib folders and the grading variable — none of the trainer's variables;
- **its own session and process group**; the worker that drives it is a *child
  subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``), so even a double-forked, detached
  process stays its descendant and is killed at the end (:func:`kill_tree`);
- **resource limits** (``setrlimit``): address space (``--memory``), file size, no core
  dumps, processes (a fork bomb stops at 256 more than the user runs, except as root);
  output is capped by the worker;
- **Landlock** (Linux ≥ 5.13, unprivileged, cannot be undone by the process): writes only
  inside its run folder; reads only the Python installation, the ``ecomlab`` package and
  its bundled data, system libraries, a few files of ``/etc`` and its run folder (so not
  the returned folder, other submissions, the gradebook, ``/etc/shadow`` or ``/proc`` —
  where other processes' environments are); no TCP (ABI ≥ 4, kernels talk over Unix sockets); no
  signals to processes outside the sandbox (ABI ≥ 6, so it cannot kill the grader).
  Where Landlock is missing the grader says so and runs without it.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path

# Landlock constants (linux/landlock.h)
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS = {
    "execute": 1 << 0, "write_file": 1 << 1, "read_file": 1 << 2, "read_dir": 1 << 3,
    "remove_dir": 1 << 4, "remove_file": 1 << 5, "make_char": 1 << 6, "make_dir": 1 << 7,
    "make_reg": 1 << 8, "make_sock": 1 << 9, "make_fifo": 1 << 10, "make_block": 1 << 11,
    "make_sym": 1 << 12, "refer": 1 << 13, "truncate": 1 << 14, "ioctl_dev": 1 << 15,
}
_NET_ALL = 1 | 2  # bind_tcp | connect_tcp (ABI 4)
_SCOPE_ALL = 1 | 2  # abstract unix socket | signal (ABI 6)
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0 when Landlock is unavailable).

    >>> isinstance(landlock_abi(), int)
    True
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        r = _libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return int(r) if r > 0 else 0


def _fs_mask(abi: int) -> int:
    mask = 0
    for name, bit in _FS.items():
        if name == "refer" and abi < 2 or name == "truncate" and abi < 3 \
                or name == "ioctl_dev" and abi < 5:
            continue
        mask |= bit
    return mask


def read_paths() -> list[Path]:
    """Folders a graded kernel may read: Python, site-packages, ecomlab, its data, system."""
    import ecomlab
    from ecomlab import datasets

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(sys.executable).resolve().parent.parent,
             Path(ecomlab.__file__).resolve().parent}
    try:
        paths.add(datasets.data_path().resolve())
    except FileNotFoundError:
        pass
    for p in sys.path:
        if p and Path(p).is_dir() and "site-packages" in p:
            paths.add(Path(p).resolve())
    for p in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/opt", "/sys", *_ETC):
        paths.add(Path(p))
    return sorted(p for p in paths if p.exists())


#: The parts of /etc a Python kernel reads (loader cache, time zone, users, fonts,
#: certificates, MIME types). Not /etc as a whole (``shadow`` is readable by root), and
#: not /proc: same-user processes' ``/proc/PID/environ`` would show the grader's
#: environment (Landlock does not guard it).
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
        "/etc/timezone", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts",
        "/etc/host.conf", "/etc/fonts", "/etc/ssl", "/etc/pki", "/etc/ca-certificates",
        "/etc/mime.types", "/etc/os-release", "/etc/matplotlibrc", "/etc/jupyter",
        "/etc/ipython")


def list_only_paths() -> list[Path]:
    """Folders on ``sys.path`` a kernel may *list* but not read (an editable install's root)."""
    out = []
    for p in sys.path:
        if p and Path(p).is_dir() and "site-packages" not in p:
            out.append(Path(p).resolve())
    return out


def apply_landlock(write_dir: str | os.PathLike[str], *, extra_read: Iterable[Path] = ()) -> int:
    """Confine this process and its future children; return the ABI used (0 = not applied).

    Writes are allowed only beneath ``write_dir`` (and ``/dev``); reads beneath
    :func:`read_paths` and ``extra_read``; listing beneath :func:`list_only_paths`; TCP
    is refused (ABI ≥ 4) and signals/abstract sockets outside the sandbox are refused
    (ABI ≥ 6). Irreversible for this process.
    """
    abi = landlock_abi()
    if abi < 1:
        return 0
    libc = _libc()
    fs_all = _fs_mask(abi)
    attr = _RulesetAttr(fs_all, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    fd = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    read = _FS["execute"] | _FS["read_file"] | _FS["read_dir"]

    def allow(path: Path, access: int) -> None:
        try:
            pfd = os.open(str(path), os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            is_dir = os.path.isdir(path)
            rule = _PathBeneath(access if is_dir else access & (_FS["execute"] | _FS["read_file"]
                                                                | _FS["write_file"]
                                                                | (_FS["truncate"] if abi >= 3 else 0)
                                                                | (_FS["ioctl_dev"] if abi >= 5 else 0)),
                                pfd)
            if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(_RULE_PATH_BENEATH),
                            ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(pfd)

    try:
        for p in [*read_paths(), *extra_read]:
            allow(p, read)
        for p in list_only_paths():
            allow(p, _FS["read_dir"])
        allow(Path("/dev"), read | _FS["write_file"] | (_FS["ioctl_dev"] if abi >= 5 else 0))
        allow(Path(write_dir), fs_all)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT, ctypes.c_int(fd), ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)
    return abi


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process (Linux); True when it worked."""
    if not sys.platform.startswith("linux"):
        return False
    return _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ``/proc/PID/task/*/children``)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:
            continue
        out.extend(int(x) for x in text.split())
    return out


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid``, parents before children."""
    seen: list[int] = []
    stack = children(pid)
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.append(p)
        stack.extend(children(p))
    return seen


def kill_tree(pid: int, *, include_self: bool = False, rounds: int = 5) -> int:
    """Stop then kill every descendant of ``pid`` (and ``pid`` itself if asked).

    Processes are first stopped (SIGSTOP) so they cannot fork while being collected,
    then killed (SIGKILL); repeated until none is left. Returns how many were killed.
    """
    killed: set[int] = set()
    for _ in range(rounds):
        pids = descendants(pid)
        if include_self:
            pids = [pid, *pids]
        pids = [p for p in pids if p not in killed or _alive(p)]
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        killed.update(pids)
        time.sleep(0.02)
    return len(killed)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def limits(memory_mb: int | None, file_mb: int, extra_processes: int | None = 256) -> list[str]:
    """Apply resource limits to this process and its future children (the worker calls it).

    Address space ``memory_mb`` MiB, files ``file_mb`` MiB, no core dumps and — for a
    non-root user — at most ``extra_processes`` more processes/threads than the user runs
    now (a fork bomb stops there; ``RLIMIT_NPROC`` counts per user, and root ignores it).
    Returns the limits applied (a platform that refuses one skips it).
    """
    applied: list[str] = []

    def cap(which: int, value: int, name: str) -> None:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(which, (value, value if name != "processes" else hard))
            applied.append(name)
        except (ValueError, OSError):  # e.g. RLIMIT_AS on macOS: the limit is skipped
            pass

    if memory_mb:
        cap(resource.RLIMIT_AS, int(memory_mb) * 1024 * 1024, "memory")
    cap(resource.RLIMIT_FSIZE, int(file_mb) * 1024 * 1024, "file size")
    cap(resource.RLIMIT_CORE, 0, "core dumps")
    if extra_processes is not None and os.getuid() != 0:  # root is exempt from RLIMIT_NPROC
        cap(resource.RLIMIT_NPROC, _processes_of_user(os.getuid()) + int(extra_processes),
            "processes")
    return applied


def _processes_of_user(uid: int) -> int:
    """How many processes (threads count for RLIMIT_NPROC) ``uid`` runs now."""
    n = 0
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if d.stat().st_uid == uid:
                n += len(os.listdir(d / "task"))
        except OSError:
            continue
    return n


def clean_env(run_dir: Path) -> dict[str, str]:
    """The whole environment of a graded worker and kernel: nothing of the trainer's."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(run_dir / "home"),
        "TMPDIR": str(run_dir / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLCONFIGDIR": str(run_dir / "home" / ".matplotlib"),
        "IPYTHONDIR": str(run_dir / "home" / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(run_dir / "home" / ".jupyter"),
        "JUPYTER_DATA_DIR": str(run_dir / "home" / ".local" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(run_dir / "home" / ".jupyter" / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
