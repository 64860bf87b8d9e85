"""Credentials out of every text agentnb shows, saves or sends: the one redaction rule.

The secrets are the values agentnb knows of, read now (not at import): ``ANTHROPIC_API_KEY``,
``ANTHROPIC_AUTH_TOKEN`` and the password in ``AGENTNB_POSTGRES_URL``. Anything shaped like an
Anthropic key (``sk-ant-...``) goes too, whoever's it is.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8      # shorter values would blank ordinary words
_KEY_RE = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")


def known_secrets() -> list[str]:
    """The credential values of this process, longest first (so that one containing another goes whole)."""
    from agentnb.settings import postgres_url

    values = [os.environ.get("ANTHROPIC_API_KEY", ""), os.environ.get("ANTHROPIC_AUTH_TOKEN", "")]
    url = postgres_url()
    if url:
        try:
            password = urlsplit(url).password
        except ValueError:       # a malformed URL (bad port...) still has its password redacted
            password = None
        if password:
            values += [password, unquote(password)]
    return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every known secret, and anything shaped like an Anthropic key, replaced by
    ``[redacted]``."""
    return _scrub(text, known_secrets()) if text else text


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_RE.sub("sk-ant-" + REDACTED, text) if "sk-ant-" in text else text


def redact_all(value):
    """Every string inside ``value`` (dicts, lists, as JSON holds them) redacted; other values as they are."""
    secrets = known_secrets()

    def walk(v):
        if isinstance(v, str):
            return _scrub(v, secrets)
        if isinstance(v, dict):
            return {walk(k): walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value)
