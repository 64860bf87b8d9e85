"""Small text helpers every part of agentnb shares, defined once."""

from __future__ import annotations


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """``1 table``, ``2 tables``, ``3 indexes`` (with ``plural_form``)."""
    return f"{n} {word if n == 1 else (plural_form or word + 's')}"


def first_line(text: str | None) -> str:
    """The first line of ``text`` once the whole is stripped ("" for blank text)."""
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


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
