"""Test support for agentnb: a local fake of Anthropic's Messages API (see ``server``)."""

from agentnb.testing.server import (
    MessagesServer,
    RecordedRequest,
    Reply,
    cut,
    error,
    max_tokens,
    slow,
    stream_error,
    text,
    tool_use,
)

__all__ = [
    "MessagesServer",
    "RecordedRequest",
    "Reply",
    "cut",
    "error",
    "max_tokens",
    "slow",
    "stream_error",
    "text",
    "tool_use",
]
