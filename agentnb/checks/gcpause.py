"""Python's cyclic garbage collector held off while a large schema is read, lowered or drawn.

Those phases build hundreds of thousands of objects that all stay alive until the phase ends (pglast's
parse trees, tokens, the diagram's boxes), so every collection the allocations trigger walks them and
frees nothing: on a 500-table schema that was a third of the DuckDB copy's time, and it grows faster
than the schema. Collections resume when the last phase running (checks run in threads) ends; the
cycles the phases leave are collected then.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

__all__ = ["gc_paused"]

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic collection inside the block (nested and concurrent blocks share one pause; a
    collector the user disabled stays disabled)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
