"""When to start PostgreSQL before the answer has finished streaming (a policy of the session).

Starting the throwaway server takes most of a second; starting it in a thread while the answer streams
hides that. It is worth it when the answer will likely hold SQL: the agent must give a schema, its
conversation already has one, or an SQL fence has been seen in the answer so far.
"""

from __future__ import annotations

from typing import Iterable

_FENCE = "```sql"


def should_warm_up(text_so_far: str, required: Iterable[str] = (), has_schema: bool = False) -> bool:
    """Whether to start PostgreSQL now, given the end of the answer streamed so far (``""`` before it
    starts), what the agent's answer-format requires and whether the conversation holds a schema."""
    return "schema" in required or has_schema or _FENCE in text_so_far.lower()


class WarmUp:
    """Watches a streamed answer and starts PostgreSQL (once) as soon as :func:`should_warm_up` says so."""

    def __init__(self, enabled: bool, required: Iterable[str] = (), has_schema: bool = False):
        self.pending = enabled
        self._tail = ""
        if enabled and should_warm_up("", tuple(required), has_schema):
            self._start()

    def see(self, delta: str) -> None:
        if not self.pending:
            return
        # a fence may straddle deltas: keep just enough of the previous ones to see it whole
        self._tail = (self._tail + delta)[-(len(delta) + len(_FENCE)):]
        if should_warm_up(self._tail):
            self._start()

    def _start(self) -> None:
        from agentnb.checks.postgres import warm_up

        self.pending = False
        warm_up()
