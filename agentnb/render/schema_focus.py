"""The Schema tab's diagram for a schema too large to read as one picture (over ``READABLE`` tables):
the tables the answer touched and their neighbours (the tables they reference or that reference
them), with the whole diagram one click away in a nested ``<details>``."""

from __future__ import annotations

import re

from agentnb.checks.schema import Schema, Table
from agentnb.text import plural

__all__ = ["READABLE", "touched_tables", "focus"]

READABLE = 40        # tables a person can follow in one diagram


def _qualified(t: Table) -> str:
    return f"{t.schema}.{t.name}" if t.schema else t.name


def touched_tables(schema: Schema, response) -> set[str]:
    """Qualified names of the tables the answer changed: those in the schema changes since the previous
    schema, else those its migrations name."""
    report = getattr(response, "check_report", None)
    diff = getattr(report, "diff", None) if report is not None else None
    names: set[str] = set()
    for change in (diff.details.get("changes") or []) if diff is not None else []:
        if change.get("table"):
            names.add(change["table"])
    if names:
        return names
    texts = [a.code for pair in response.artifacts.migrations for a in (pair.up, pair.down) if a is not None]
    if not texts:
        return set()
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?", "\n".join(texts).lower()))
    return {_qualified(t) for t in schema.tables
            if _qualified(t).lower() in words or t.name.lower() in words}


def focus(schema: Schema, touched: set[str]) -> Schema:
    """The touched tables and their neighbours, in the schema's order."""
    keep = set(touched)
    by_key = {_qualified(t): t for t in schema.tables}
    names = {t.name: _qualified(t) for t in schema.tables}
    for t in schema.tables:
        key = _qualified(t)
        for fk in t.foreign_keys:
            ref = f"{t.schema}.{fk.ref_table}" if t.schema and f"{t.schema}.{fk.ref_table}" in by_key \
                else names.get(fk.ref_table)
            if ref is None:
                continue
            if key in touched:
                keep.add(ref)
            if ref in touched:
                keep.add(key)
    return Schema(tables=[t for t in schema.tables if _qualified(t) in keep], enums=schema.enums)


def large_schema_html(schema: Schema, response, diagram) -> str:
    """The diagram section of a schema over ``READABLE`` tables; ``diagram(schema)`` gives one image."""
    touched = touched_tables(schema, response)
    n = len(schema.tables)
    whole = (f"<details style='margin-top:4px'><summary>The whole diagram ({n} tables)</summary>"
             + diagram(schema) + "</details>")
    if not touched:
        return (f"<div style='margin-top:8px;font-weight:600'>ER diagram: {n} tables, too many for one "
                "picture; the answer changed none in particular</div>" + whole)
    part = focus(schema, touched)
    return (f"<div style='margin-top:8px;font-weight:600'>ER diagram: the {plural(len(touched), 'table')} "
            "this answer changed and their neighbours "
            f"({len(part.tables)} of {n})</div>" + diagram(part) + whole)
