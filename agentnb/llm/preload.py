"""The Anthropic SDK imported in the background while a person reads or types (a kernel's first answer
would otherwise wait about a second for it), and the wait a first use does before importing it itself:
two threads importing the same package at once can hand one of them a partially initialized module."""

from __future__ import annotations

import threading

_thread: threading.Thread | None = None


def start() -> None:
    """Import the SDK in a daemon thread (once per process)."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_import, name="agentnb-preload", daemon=True)
        _thread.start()


def wait() -> None:
    """Return once a background import started by :func:`start` has ended (at once when none was)."""
    if _thread is not None and _thread is not threading.current_thread():
        _thread.join()


def _import() -> None:
    try:
        import anthropic  # noqa: F401
        import httpx2  # noqa: F401
    except Exception:  # noqa: BLE001 - the first use imports it again and says why
        pass
