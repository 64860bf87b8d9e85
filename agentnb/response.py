"""The response object: what a cell returns and what the next cell can use."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property


@dataclass
class Response:
    """One answer. ``text`` is the answer as the model wrote it; ``usage`` holds the four token counts;
    ``cost_usd`` is the list price of the call (None for a model without a known price), billed only
    when ``replayed`` is false."""

    text: str
    agent: str
    model: str
    thread: str = "default"
    stop_reason: str | None = None
    usage: dict = field(default_factory=dict)
    cost_usd: float | None = None
    replayed: bool = False
    latency_s: float | None = None
    ttft_s: float | None = None
    recording: str | None = None
    warnings: list[str] = field(default_factory=list)
    notebook_total_usd: float | None = None   # billed in this session so far, this call included
    prompt: str = ""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"<Response {self.agent} {self.model} {len(self.text):,} chars: {first[:60]!r}>"

    @property
    def input_tokens(self) -> int:
        return sum(self.usage.get(k, 0) or 0 for k in
                   ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))

    @property
    def output_tokens(self) -> int:
        return self.usage.get("output_tokens", 0) or 0

    @property
    def truncated(self) -> bool:
        return self.stop_reason == "max_tokens"

    @cached_property
    def artifacts(self):
        """The answer's fenced blocks, typed (see ``agentnb.artifacts``)."""
        from .artifacts import extract

        return extract(self.text)

    def footer(self) -> str:
        u = self.usage
        parts = [self.model,
                 f"in {u.get('input_tokens', 0):,}",
                 f"cache write {u.get('cache_creation_input_tokens', 0):,}",
                 f"cache read {u.get('cache_read_input_tokens', 0):,}",
                 f"out {u.get('output_tokens', 0):,}"]
        if self.cost_usd is None:
            parts.append("cost unknown")
        elif self.replayed:
            parts.append(f"${self.cost_usd:.4f} at list price, replayed: not billed")
        else:
            parts.append(f"${self.cost_usd:.4f}")
        if self.notebook_total_usd is not None:
            parts.append(f"notebook ${self.notebook_total_usd:.4f} billed")
        return " · ".join(parts)

    def _notes(self) -> list[str]:
        notes = list(self.warnings)
        if self.truncated:
            notes.append("the answer stopped at max_tokens: it is incomplete. Run again with a larger "
                         "--max-tokens, or ask the agent to continue.")
        return notes

    def _repr_markdown_(self) -> str:
        notes = "".join(f"> ⚠️ {n}\n\n" for n in self._notes())
        return f"{notes}{self.text}\n\n---\n<sub>{html.escape(self.footer())}</sub>\n"

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("agent", "model", "thread", "stop_reason", "usage", "cost_usd",
                                              "replayed", "recording", "warnings", "text")}
