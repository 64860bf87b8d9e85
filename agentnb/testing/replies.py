"""Scripted answers for the fake Messages API: what the next request gets (a message, an HTTP error,
an error inside a stream, a cut or slow stream)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

#: Anthropic error type for each HTTP status (the body's ``error.type``).
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
#: HTTP status for each Anthropic error type (used for ``stream_error`` on a non-streamed call).
ERROR_STATUS: dict[str, int] = {v: k for k, v in ERROR_TYPES.items()}

DEFAULT_MESSAGES = {
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}


# --------------------------------------------------------------------------------------------------
# Replies


@dataclass
class Reply:
    """One scripted answer. Build it with the factory functions (:func:`text`, :func:`error`, ...).

    ``kind`` is one of ``message`` (content blocks, streamed or not), ``error`` (an HTTP error),
    ``stream_error`` (a 200 stream that carries ``event: error`` after ``after_chunks`` deltas) and
    ``cut`` (the body ends after ``after_chunks`` deltas, without ``message_stop``).
    ``times`` is how many requests the reply answers before it leaves the queue (``None``: forever).
    """

    kind: str = "message"
    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    chunk_size: int = 16
    delay: float = 0.0
    status: int = 200
    error_type: str = ""
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    after_chunks: int = 2
    abrupt: bool = False
    times: int | None = 1


def text_block(s: str) -> dict[str, Any]:
    return {"type": "text", "text": s}


def text(
    s: str,
    stop_reason: str = "end_turn",
    chunk_size: int = 16,
    *,
    delay: float = 0.0,
    times: int | None = 1,
) -> Reply:
    """A text answer, streamed in ``chunk_size``-character ``text_delta`` events."""
    return Reply(blocks=[text_block(s)], stop_reason=stop_reason, chunk_size=chunk_size, delay=delay, times=times)


def tool_use(
    name: str,
    input: dict[str, Any],
    text_before: str = "",
    *,
    id: str | None = None,
    chunk_size: int = 16,
    times: int | None = 1,
) -> Reply:
    """A ``tool_use`` block (after an optional text block), its input streamed as ``input_json_delta``."""
    blocks: list[dict[str, Any]] = []
    if text_before:
        blocks.append(text_block(text_before))
    blocks.append({"type": "tool_use", "id": id, "name": name, "input": dict(input)})
    return Reply(blocks=blocks, stop_reason="tool_use", chunk_size=chunk_size, times=times)


def error(
    status: int,
    type: str | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    times: int | None = 1,
    repeat: bool = False,
    retry_after: float | None = 0.001,
) -> Reply:
    """An HTTP error with Anthropic's body ``{"type": "error", "error": {"type", "message"}}``.

    The SDK retries 408, 409, 429 and >= 500 (twice by default) and every attempt takes one reply:
    pass ``times=3`` (or ``repeat=True``) to fail all of them. Those statuses carry
    ``retry-after-ms`` = ``retry_after`` seconds (plus ``retry-after`` in whole seconds on a 429),
    so the SDK's retries in tests are immediate; ``retry_after=None`` leaves the SDK to its own
    backoff (0.5 s, 1 s, ...). Headers given in ``headers`` win.
    """
    etype = type or ERROR_TYPES.get(status, "api_error")
    hdrs: dict[str, str] = {}
    if retry_after is not None and (status in (408, 409, 429) or status >= 500):
        hdrs["retry-after-ms"] = f"{retry_after * 1000:g}"
        if status == 429:
            hdrs["retry-after"] = str(int(retry_after))
    hdrs.update(headers or {})
    return Reply(
        kind="error",
        status=status,
        error_type=etype,
        message=message or DEFAULT_MESSAGES.get(etype, etype),
        headers=hdrs,
        times=None if repeat else times,
    )


def stream_error(
    type: str = "overloaded_error",
    after_chunks: int = 2,
    message: str | None = None,
    *,
    text: str = "This answer will be interrupted by a server error before it ends.",
    chunk_size: int = 16,
    times: int | None = 1,
) -> Reply:
    """A 200 stream that sends ``event: error`` after ``after_chunks`` text deltas.

    On a non-streamed call it is an HTTP error with the status that goes with ``type`` (529 for
    ``overloaded_error``).
    """
    return Reply(
        kind="stream_error",
        blocks=[text_block(text)],
        chunk_size=chunk_size,
        error_type=type,
        message=message or DEFAULT_MESSAGES.get(type, type),
        after_chunks=after_chunks,
        status=ERROR_STATUS.get(type, 500),
        times=times,
    )


def cut(
    after_chunks: int = 2,
    *,
    text: str = "This answer is cut off in the middle and never reaches its",
    chunk_size: int = 16,
    abrupt: bool = False,
    times: int | None = 1,
) -> Reply:
    """A stream whose body ends after ``after_chunks`` deltas: no ``content_block_stop``,
    ``message_delta`` or ``message_stop``. The connection is then closed.

    By default the chunked body is terminated properly, so the SDK sees a clean end of stream and
    ends silently. ``abrupt=True`` closes the socket mid-body instead (what a dropped connection
    looks like). On a non-streamed call the connection is closed without any response.
    """
    return Reply(
        kind="cut", blocks=[text_block(text)], chunk_size=chunk_size, after_chunks=after_chunks,
        abrupt=abrupt, times=times,
    )


def slow(s: str, delay: float = 0.05, chunk_size: int = 8, *, times: int | None = 1) -> Reply:
    """A text answer that waits ``delay`` seconds before each chunk (a non-streamed call waits for
    all of them)."""
    return Reply(blocks=[text_block(s)], chunk_size=chunk_size, delay=delay, times=times)


def max_tokens(s: str, chunk_size: int = 16, *, times: int | None = 1) -> Reply:
    """A text answer that stops with ``stop_reason="max_tokens"``."""
    return Reply(blocks=[text_block(s)], stop_reason="max_tokens", chunk_size=chunk_size, times=times)


FACTORIES: dict[str, Callable[..., Reply]] = {
    "text": text,
    "tool_use": tool_use,
    "error": error,
    "stream_error": stream_error,
    "cut": cut,
    "slow": slow,
    "max_tokens": max_tokens,
}


def reply_from_dict(d: dict[str, Any]) -> Reply:
    """Build a reply from JSON: ``{"kind": "text", "s": "Hi"}``; the other keys are the factory's
    arguments (``text`` also accepted for the text of ``text``, ``slow`` and ``max_tokens``)."""
    d = dict(d)
    kind = d.pop("kind", None) or d.pop("type", None)
    if kind not in FACTORIES:
        raise ValueError(f"unknown reply kind {kind!r}; expected one of {sorted(FACTORIES)}")
    if kind in ("text", "slow", "max_tokens") and "text" in d:
        d["s"] = d.pop("text")
    if kind == "error" and "error_type" in d:
        d["type"] = d.pop("error_type")
    return FACTORIES[kind](**d)
