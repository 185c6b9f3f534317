"""Timing for the benchmarks: best of N, with the contenders interleaved.

On a shared VM the speed drifts over minutes (page reclaim, neighbours). Timing one
contender N times and then the next lets that drift favour whichever ran in a quiet
spell; running them in turn (A, B, C, A, B, C, ...) exposes all to the same spells, and
the best of N per contender is the least disturbed run of each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Fastest of ``repeat`` runs (seconds) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def interleaved(fns: Mapping[str, Callable[[], Any]], rounds: int = 5) -> tuple[dict[str, float], dict[str, Any]]:
    """Best time per contender over ``rounds`` rounds, each round running every contender once."""
    best = {name: float("inf") for name in fns}
    out: dict[str, Any] = {}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            out[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best, out
