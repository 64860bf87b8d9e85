"""What the fake Messages API knows of the protocol besides HTTP: the requests it received, token
estimates, the prompt cache it simulates, and the request checks the real API makes."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass
from typing import Any

# The API looks for earlier cache entries up to this many blocks before a breakpoint.
CACHE_LOOKBACK_BLOCKS = 20
MAX_CACHE_BREAKPOINTS = 4


def estimate_tokens(s: str) -> int:
    """The fake's token estimate for a piece of text: about four characters a token, at least one."""
    return max(1, math.ceil(len(s) / 4))


# --------------------------------------------------------------------------------------------------
# Recorded requests


@dataclass
class RecordedRequest:
    """What the server received. ``headers`` has lower-case names; ``body`` is the parsed JSON (or
    ``None``). ``status`` is the HTTP status sent back and ``outcome`` how the answer ended:
    ``complete``, ``error``, ``stream_error``, ``cut`` or ``disconnected`` (the client went away
    mid-stream, e.g. an interrupted cell)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    time: float
    status: int | None = None
    outcome: str | None = None
    request_id: str = ""
    client_address: tuple[str, int] | None = None  # tells whether calls shared a keep-alive connection

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def stream(self) -> bool:
        return bool(isinstance(self.body, dict) and self.body.get("stream"))

    @property
    def api_key(self) -> str | None:
        """The credential sent, from ``Authorization: Bearer`` or ``x-api-key``."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return self.headers.get("x-api-key")


# --------------------------------------------------------------------------------------------------
# Prompt analysis: token estimates and the prompt cache


def strip_cache_control(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: strip_cache_control(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [strip_cache_control(v) for v in obj]
    return obj


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def text_of(obj: Any) -> str:
    """All the strings inside a block, for a token estimate that ignores JSON punctuation."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return " ".join(text_of(v) for k, v in obj.items() if k not in ("cache_control", "type", "id"))
    if isinstance(obj, list):
        return " ".join(text_of(v) for v in obj)
    if obj is None or isinstance(obj, bool):
        return ""
    return str(obj)


def prompt_blocks(body: dict[str, Any]) -> list[tuple[Any, int, bool]]:
    """The request as the cache sees it, in cache order (tools, system, messages):
    ``(identity, tokens, is_breakpoint)`` for each block."""
    out: list[tuple[Any, int, bool]] = []
    for tool in body.get("tools") or []:
        out.append((("tool", strip_cache_control(tool)), estimate_tokens(text_of(tool)) + 8, bool(
            isinstance(tool, dict) and tool.get("cache_control"))))
    system = body.get("system")
    if isinstance(system, str) and system:
        out.append((("system", system), estimate_tokens(system), False))
    elif isinstance(system, list):
        for b in system:
            out.append((("system", strip_cache_control(b)), estimate_tokens(text_of(b)),
                        bool(isinstance(b, dict) and b.get("cache_control"))))
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        role, content = m.get("role"), m.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else (content or [])
        for i, b in enumerate(blocks):
            # Every message costs a few tokens of framing, counted on its first block.
            overhead = 4 if i == 0 else 0
            out.append(((role, strip_cache_control(b)), estimate_tokens(text_of(b)) + overhead,
                        bool(isinstance(b, dict) and b.get("cache_control"))))
    return out


def count_input_tokens(body: dict[str, Any]) -> int:
    return sum(t for _, t, _ in prompt_blocks(body))


def last_user_text(body: dict[str, Any]) -> str:
    for m in reversed(body.get("messages") or []):
        if not isinstance(m, dict) or m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]
        if texts:
            return "\n".join(texts)
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content or []):
            return "(tool result received)"
        return ""
    return ""


def default_reply_text(body: dict[str, Any]) -> str:
    """The answer given when the queue is empty: deterministic, echoing the model and the first
    non-empty line of the last user message, with a fenced Python block that runs."""
    model = body.get("model", "?")
    first = next((ln.strip() for ln in last_user_text(body).splitlines() if ln.strip()), "")
    return (
        f"Fake answer from {model} to: {first}\n\n"
        "```python\n"
        f"print({first!r})\n"
        "```\n"
    )


class PromptCache:
    """Deterministic prompt-cache simulation, keyed by the hash of the prefix up to a breakpoint."""

    def __init__(self, min_tokens: int) -> None:
        self.min_tokens = min_tokens
        self.entries: set[str] = set()
        self.lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        blocks = prompt_blocks(body)
        model = body.get("model", "")
        hashes: list[str] = []
        cum: list[int] = []
        h = hashlib.sha256(canonical(["model", model]).encode())
        total = 0
        for ident, tokens, _ in blocks:
            h.update(canonical(ident).encode())
            hashes.append(h.copy().hexdigest())
            total += tokens
            cum.append(total)
        breakpoints = [i for i, (_, _, bp) in enumerate(blocks) if bp]
        read_end = -1  # index of the last block served from the cache
        with self.lock:
            for bp in breakpoints:
                for i in range(bp, max(-1, bp - CACHE_LOOKBACK_BLOCKS), -1):
                    if i > read_end and hashes[i] in self.entries:
                        read_end = i
                        break
            cached = cum[read_end] if read_end >= 0 else 0
            written_end = read_end
            for bp in breakpoints:
                if bp > read_end and cum[bp] >= self.min_tokens:
                    self.entries.add(hashes[bp])
                    written_end = max(written_end, bp)
        created = (cum[written_end] if written_end >= 0 else 0) - cached
        return {
            "input_tokens": total - cached - created,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": cached,
        }

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


# --------------------------------------------------------------------------------------------------
# Request validation (the checks of the real API that most often catch client bugs)


class ApiError(Exception):
    def __init__(self, status: int, etype: str, message: str) -> None:
        super().__init__(message)
        self.status, self.etype, self.message = status, etype, message


def validate(body: Any) -> None:
    def bad(msg: str) -> ApiError:
        return ApiError(400, "invalid_request_error", msg)

    if not isinstance(body, dict):
        raise bad("Request body must be a JSON object")
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            raise bad(f"{key}: Field required")
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        raise bad("max_tokens: must be a positive integer")
    msgs = body["messages"]
    if not isinstance(msgs, list) or not msgs:
        raise bad("messages: at least one message is required")
    n_bp = sum(1 for _, _, bp in prompt_blocks(body) if bp)
    if n_bp > MAX_CACHE_BREAKPOINTS:
        raise bad(f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {n_bp}.")
    pending: set[str] = set()
    for i, m in enumerate(msgs):
        if isinstance(m, dict) and m.get("role") == "system":
            continue     # per-turn system messages (Claude Code's per-turn-control beta): context only
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = m.get("content")
        blocks = content if isinstance(content, list) else []
        if m["role"] == "user":
            results = {b.get("tool_use_id") for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"}
            if pending - results:
                raise bad(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    + ", ".join(sorted(pending - results))
                )
            if results - pending:
                raise bad(
                    f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    + ", ".join(sorted(str(r) for r in results - pending))
                )
            pending = set()
        else:
            if pending:
                raise bad(f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after")
            pending = {b.get("id") for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"}
