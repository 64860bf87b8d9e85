"""Test support for agentnb: a local fake of Anthropic's Messages API (see ``server``).

The names below are imported from ``server`` on first use, not here: importing ``server`` with the
package would make ``python -m agentnb.testing.server`` warn that the module was already imported.
"""

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


def __getattr__(name: str):
    if name in __all__:
        from agentnb.testing import server

        return getattr(server, name)
    raise AttributeError(f"module 'agentnb.testing' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
