"""What to get ready while the answer is still streaming (a policy of the session).

Starting the throwaway PostgreSQL takes most of a second; starting it in a thread while the answer
streams hides that. It is worth it when the answer will likely hold SQL: the agent must give a schema, its
conversation already has one, or an SQL fence has been seen in the answer so far.

The contract validators are the other first-use cost: importing ``openapi_spec_validator`` and
``jsonschema`` takes about a second (jsonschema's optional format checkers build parsers on import), paid
by the first OpenAPI or AsyncAPI check of a kernel. They are imported in a thread as soon as the answer
shows such a document.
"""

from __future__ import annotations

import threading
from typing import Iterable

_FENCE = "```sql"
# what starts an OpenAPI or AsyncAPI document (YAML or JSON), and the modules its check imports
_CONTRACT_MARKS = ("openapi:", "asyncapi:", '"openapi"', '"asyncapi"', "swagger:")
_CONTRACT_MODULES = ("jsonschema", "openapi_spec_validator")
_LONGEST = max(len(m) for m in (_FENCE, *_CONTRACT_MARKS))
_imported: set[str] = set()
_import_lock = threading.Lock()


def should_warm_up(text_so_far: str, required: Iterable[str] = (), has_schema: bool = False) -> bool:
    """Whether to start PostgreSQL now, given the end of the answer streamed so far (``""`` before it
    starts), what the agent's answer-format requires and whether the conversation holds a schema."""
    return "schema" in required or has_schema or _FENCE in text_so_far.lower()


def shows_contract(text_so_far: str) -> bool:
    """Whether the answer streamed so far shows an OpenAPI or AsyncAPI document starting."""
    lowered = text_so_far.lower()
    return any(mark in lowered for mark in _CONTRACT_MARKS)


def import_in_background(modules: Iterable[str]) -> threading.Thread | None:
    """Import ``modules`` in a daemon thread (each once per process); None when all were asked before.
    A module that fails to import is left to the check that needs it, which reports why in its row."""
    with _import_lock:
        wanted = [m for m in modules if m not in _imported]
        _imported.update(wanted)
    if not wanted:
        return None

    def run() -> None:
        from importlib import import_module

        for name in wanted:
            try:
                import_module(name)
            except Exception:  # noqa: BLE001 - the check importing it again says why, in its row
                pass

    thread = threading.Thread(target=run, name="agentnb-import-warm-up", daemon=True)
    thread.start()
    return thread


class WarmUp:
    """Watches a streamed answer: starts PostgreSQL (once) as soon as :func:`should_warm_up` says so, and
    imports the contract validators (once) as soon as :func:`shows_contract` does."""

    def __init__(self, enabled: bool, required: Iterable[str] = (), has_schema: bool = False):
        self.pending = enabled
        self.contracts_pending = enabled
        self.threads: list[threading.Thread] = []
        self._tail = ""
        if enabled and should_warm_up("", tuple(required), has_schema):
            self._start()

    def see(self, delta: str) -> None:
        if not (self.pending or self.contracts_pending):
            return
        # a mark may straddle deltas: keep just enough of the previous ones to see it whole
        self._tail = (self._tail + delta)[-(len(delta) + _LONGEST):]
        if self.pending and should_warm_up(self._tail):
            self._start()
        if self.contracts_pending and shows_contract(self._tail):
            self.contracts_pending = False
            thread = import_in_background(_CONTRACT_MODULES)
            if thread is not None:
                self.threads.append(thread)

    def _start(self) -> None:
        from agentnb.checks.postgres import warm_up

        self.pending = False
        thread = warm_up()
        if thread is not None:
            self.threads.append(thread)
