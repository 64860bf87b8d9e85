"""What the bench scripts share: timing a function over repeated runs, and scratch folders
(``python bench/X.py`` puts this folder on the import path)."""

from __future__ import annotations

import atexit
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def scratch_folder(prefix: str) -> Path:
    """A new temporary folder, removed when the bench exits (a bench leaves nothing in /tmp)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def samples(fn, runs: int) -> list[float]:
    """Seconds of ``runs`` calls of ``fn``, after one call that warms caches and imports."""
    fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def ms_columns(times: list[float]) -> str:
    """Median, min and max of ``times`` in milliseconds, as three aligned columns."""
    return f"{statistics.median(times) * 1000:9.2f} {min(times) * 1000:9.2f} {max(times) * 1000:9.2f}"
