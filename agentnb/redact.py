"""Credentials out of every text agentnb shows, saves or sends: the one redaction rule.

The secrets are the values agentnb knows of, read when asked (tests and users change the environment):
``ANTHROPIC_API_KEY``, ``ANTHROPIC_AUTH_TOKEN`` and the password in ``AGENTNB_POSTGRES_URL`` (URL or
``key=value`` form), each as written and URL-decoded. Values shorter than 8 characters are left out:
replacing a password such as ``app`` would mangle every message that says "app". Anything shaped like
an Anthropic key (``sk-ant-...``) goes too, whoever's it is. A password agentnb was handed in
another way (``--with-db URL``) is registered with ``register_secret`` and redacted from then on.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "known_secrets", "redact", "redact_data", "register_secret"]

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8      # shorter values would blank ordinary words
_KEY_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
_KEY_RE = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")
_registered: set[str] = set()      # passwords of URLs given to agentnb (--with-db), for the process's life
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


def register_secret(value: str) -> None:
    """Redact ``value`` (as written and URL-decoded) from every text from now on."""
    if value:
        _registered.update({value, unquote(value)})


def register_url(url: str) -> None:
    """Redact the password of a database URL (or ``key=value`` conninfo) from every text from now on."""
    for password in _postgres_passwords(url):
        register_secret(password)


def known_secrets() -> list[str]:
    """The credential values of this process, longest first (so that one containing another goes whole)."""
    from agentnb.settings import postgres_url

    values = [os.environ.get(var, "").strip() for var in _KEY_VARS]
    values += _postgres_passwords(postgres_url() or "")
    values += _registered
    return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every known secret, and anything shaped like an Anthropic key, replaced by
    ``[redacted]``."""
    if not text:
        return text
    for secret in known_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_RE.sub("sk-ant-" + REDACTED, text) if "sk-ant-" in text else text


def redact_data(value, secrets: list[str] | None = None):
    """A copy of ``value`` with every string inside it (dicts, lists and tuples, at any depth) redacted;
    other values as they are."""
    secrets = known_secrets() if secrets is None else secrets

    def walk(v):
        if isinstance(v, str):
            return redact(v, secrets)
        if isinstance(v, dict):
            return {walk(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(walk(x) for x in v)
        return v

    return walk(value)

