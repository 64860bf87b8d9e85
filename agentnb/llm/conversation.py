"""Conversations: the history of one agent's thread, and the request body built from it.

History is stored without cache breakpoints; ``build_request`` adds two: on the system prompt and on
the newest turn. A lookup at the newest turn finds the prefix the previous turn wrote (lookups reach up
to 20 blocks back), so each turn pays full price only for the last answer and the new prompt.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from agentnb.llm import models

CACHE = {"type": "ephemeral"}
# Keep the request under this share of the context window; the rest is for the answer and slack.
CONTEXT_BUDGET = 0.85


@dataclass
class Turn:
    prompt: list[dict]          # the user's content blocks
    answer: str                 # the assistant's text
    stop_reason: str | None = None


@dataclass
class Conversation:
    agent: str
    thread: str = "default"
    turns: list[Turn] = field(default_factory=list)
    dropped: int = 0            # turns dropped so far to fit the context window
    schema: str | None = None   # the latest DDL that passed the checks, and its DuckDB copy
    schema_db: object | None = field(default=None, repr=False)
    from_database: bool = False  # started from an existing database (--with-db): migrations move its schema

    def messages(self, new_prompt: list[dict]) -> list[dict]:
        out: list[dict] = []
        for turn in self.turns:
            out.append({"role": "user", "content": copy.deepcopy(turn.prompt)})
            out.append({"role": "assistant", "content": [{"type": "text", "text": turn.answer}]})
        out.append({"role": "user", "content": copy.deepcopy(new_prompt)})
        return out

    def add(self, prompt: list[dict], answer: str, stop_reason: str | None) -> None:
        # An empty assistant turn is refused by the API: a turn without text is not kept.
        if answer.strip():
            self.turns.append(Turn(prompt, answer, stop_reason))


def estimate_tokens(value) -> int:
    """A deliberately generous estimate (3 characters a token) used only to decide trimming."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(text) // 3 + 1


def build_request(*, model: str, system: str, conversation: Conversation, prompt: list[dict],
                  max_tokens: int) -> tuple[dict, list[str], int]:
    """The Messages API body for the next turn, notes for the user, and how many of the oldest turns it
    leaves out to fit the context window. The conversation itself is not changed: a dry run or a failed
    call must leave it as it was (Session drops those turns once a call succeeds)."""
    notes: list[str] = []
    window = models.context_window(model)
    limit = int(window * CONTEXT_BUDGET) - max_tokens
    fixed = estimate_tokens(system) + estimate_tokens(prompt)
    if fixed > limit:
        notes.append(f"the prompt alone (~{fixed:,} tokens) nears the context window of {model} "
                     f"({window:,}); the API may refuse it")
    sizes = [estimate_tokens(t.prompt) + estimate_tokens(t.answer) for t in conversation.turns]
    drop = 0
    while drop < len(sizes) and fixed + sum(sizes[drop:]) > limit:
        drop += 1
    if conversation.dropped + drop:
        notes.append(f"the conversation neared the context window of {model} ({window:,} tokens): "
                     f"{conversation.dropped + drop} oldest turn(s) dropped from what is sent "
                     "(use --new to start afresh)")

    kept = Conversation(conversation.agent, conversation.thread, conversation.turns[drop:])
    messages = kept.messages(prompt)
    messages[-1]["content"][-1]["cache_control"] = dict(CACHE)
    body = {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": system, "cache_control": dict(CACHE)}] if system else [],
        "messages": messages,
    }
    if not system:
        del body["system"]
    return body, notes, drop
