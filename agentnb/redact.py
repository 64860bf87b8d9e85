"""The credentials agentnb knows, and their removal from text it shows, writes or sends.

``known_secrets()`` reads them when called (tests and users change the environment): the values of
``ANTHROPIC_API_KEY`` and ``ANTHROPIC_AUTH_TOKEN`` and the password in ``AGENTNB_POSTGRES_URL`` (URL or
``key=value`` form), each as written and URL-decoded. Values shorter than 8 characters are left out:
replacing a password such as ``app`` would mangle every message that says "app".
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

__all__ = ["MIN_LENGTH", "REDACTED", "known_secrets", "redact", "redact_data"]

MIN_LENGTH = 8
REDACTED = "[redacted]"
_KEY_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
_URL_VAR = "AGENTNB_POSTGRES_URL"
_CONNINFO_PASSWORD = re.compile(r"""(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)""")


def _postgres_passwords(url: str) -> list[str]:
    found = []
    if "://" in url:
        try:
            password = urlsplit(url).password
        except ValueError:                       # a port that is not a number, ...
            password = None
        if password is None:                     # urlsplit gives up on some odd URLs: read it by hand
            m = re.match(r"^[^:/]+://[^:@/]*:([^@]*)@", url)
            password = m.group(1) if m else None
        if password:
            found += [password, unquote(password)]
    for m in _CONNINFO_PASSWORD.finditer(url):
        value = m.group(1)
        found.append(value)
        if value.startswith("'") and value.endswith("'"):
            found.append(re.sub(r"\\(.)", r"\1", value[1:-1]))
    return found


def known_secrets() -> list[str]:
    """The credential values of this process, longest first (so a value holding another goes whole)."""
    values = [os.environ.get(var, "").strip() for var in _KEY_VARS]
    values += _postgres_passwords(os.environ.get(_URL_VAR, "").strip())
    return sorted({v for v in values if len(v) >= MIN_LENGTH}, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every known secret replaced by ``[redacted]``."""
    for secret in known_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_data(value, secrets: list[str] | None = None):
    """A copy of ``value`` (strings, and dicts, lists and tuples of them, at any depth) redacted; the
    value itself when there is no known secret."""
    secrets = known_secrets() if secrets is None else secrets
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact_data(k, secrets): redact_data(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(v, secrets) for v in value)
    return value
