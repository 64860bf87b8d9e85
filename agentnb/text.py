"""Small text helpers every part of agentnb shares, defined once."""

from __future__ import annotations

import re


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """``1 table``, ``2 tables``, ``3 indexes`` (with ``plural_form``)."""
    return f"{n} {word if n == 1 else (plural_form or word + 's')}"


def first_line(text: str | None) -> str:
    """The first line of ``text`` once the whole is stripped ("" for blank text)."""
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def magic_name(agent_name: str) -> str:
    """``backend-dev`` -> ``backend_dev``: lower case, anything not valid in an identifier -> ``_`` (an
    agent's cell magic, and the suffix of its ``AGENTNB_MODEL_<AGENT>`` variable)."""
    name = re.sub(r"\W", "_", agent_name.strip().lower(), flags=re.ASCII)
    if not name or name[0].isdigit():
        name = "_" + name
    return name


def sql_literal(text: str) -> str:
    """``text`` as an SQL string literal (standard quoting, for PostgreSQL and DuckDB)."""
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier, whatever it holds."""
    return '"' + name.replace('"', '""') + '"'


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate (which no UTF-8 file or terminal accepts) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def indent_rest(text: str | None, indent: str = "    ") -> str:
    """``text``'s first line, then each of its other lines indented by ``indent``: a multi-line message
    shown after a label (``name: first line``) in a terminal or a text/plain output."""
    lines = (text or "").strip().splitlines()
    return "\n".join(lines[:1] + [indent + line for line in lines[1:] if line.strip()])


def one_line(text: str | None, limit: int = 200) -> str:
    """A multi-line message on one line, for a table cell or a summary: its lines joined ("a:" and the
    next line by a space, others by " · "), at most ``limit`` characters. Never just a heading that
    ends at a colon."""
    out = ""
    for line in (text or "").strip().splitlines():
        line = " ".join(line.split())
        if line:
            out += (line if not out else (" " if out.endswith(":") else " · ") + line)
    return out if len(out) <= limit else out[:limit - 1] + "…"
