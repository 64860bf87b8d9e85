"""What the bench scripts share: timing a function over repeated runs (``python bench/X.py`` puts this
folder on the import path)."""

from __future__ import annotations

import time


def samples(fn, runs: int) -> list[float]:
    """Seconds of ``runs`` calls of ``fn``, after one call that warms caches and imports."""
    fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out
