"""Reflection: what a script made on PostgreSQL, read back as a ``Schema`` through SQLAlchemy's Inspector.

``sqlalchemy.inspect(s.sa)`` on the check's own connection, inside its transaction: the script's
uncommitted tables and types are visible to it. The ``get_multi_*`` methods reflect a whole schema
in one query each (the per-table methods made one query per table and method: 89 ms against 21 ms
for 30 tables), types spelled as PostgreSQL spells them (``bigint``, ``text[]``, ``numeric(8,2)``,
``timestamp with time zone``). pg_catalog is read only for what the Inspector cannot say, each marked
below: which objects the script made (by oid), partitions, exclusion constraints, and the names of
types SQLAlchemy does not know (``xml``, ...).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from agentnb.checks.schema import Column, ForeignKey, Index, Schema, Table

__all__ = ["Baseline", "baseline", "reflect_schema"]


@dataclass
class Baseline:
    tables: list[int]
    types: list[int]


def baseline(s) -> Baseline:
    """The tables and enum types there before the script, by oid (pg_catalog: the Inspector knows
    objects by name only, so it cannot tell a user server's own tables, or one dropped and created
    again, from what the script made)."""
    row = s.execute("SELECT array(SELECT oid FROM pg_class WHERE relkind IN ('r','p')),"
                    " array(SELECT oid FROM pg_type WHERE typtype = 'e')").fetchone()
    return Baseline([int(x) for x in row[0]], [int(x) for x in row[1]])


# pg_catalog: the tables the script made outside the scratch schema and its enum types (new since the
# baseline, by oid), and the partitions, which get_table_names lists as ordinary tables (nothing in
# the Inspector tells them apart)
_Q_NEW_OBJECTS = """
SELECT 'table', n.nspname, c.relname, c.relispartition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT (c.oid = ANY(%(tables)s::oid[]))
  AND (n.nspname <> %(home)s OR c.relispartition)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
UNION ALL
SELECT 'enum', n.nspname, t.typname, false
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND NOT (t.oid = ANY(%(types)s::oid[]))
"""
# pg_catalog: exclusion constraints; the Inspector reports only the index behind one (an index that
# "duplicates" a constraint), never the constraint. Read only when such an index is there.
_Q_EXCLUSIONS = """
SELECT n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid, true)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'x' AND n.nspname = ANY(%s)
ORDER BY con.conname
"""
# pg_catalog: the spelling of column types SQLAlchemy does not know (xml, point, ...: it reflects them
# as NullType, which has no name left). Read only when there are some.
_Q_TYPE_NAMES = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname, c.relname, a.attname) IN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))
  AND a.attnum > 0 AND NOT a.attisdropped
"""


def reflect_schema(s, baseline: Baseline, home: str | None = None) -> Schema:
    """The tables and enum types created since ``baseline``; those in ``home`` get ``schema=None``.

    ``home`` (the check's scratch schema) is new, so all its tables are the script's.
    """
    from sqlalchemy import inspect

    home = home or s.schema
    other: dict[str, list[str]] = {}         # schema -> the script's tables outside home
    new_enums: set[tuple[str, str]] = set()
    partitions: set[tuple[str, str]] = set()
    for kind, nsp, name, is_partition in s.execute(_Q_NEW_OBJECTS, {
            "tables": baseline.tables, "types": baseline.types, "home": home}):
        if kind == "enum":
            new_enums.add((nsp, name))
        elif is_partition:
            partitions.add((nsp, name))
        else:
            other.setdefault(nsp, []).append(name)
    spaces = sorted(other)
    # names print unqualified when their schema is on the path: home first, then the script's own
    s.set_path(home, *spaces)
    on_path = {home, *spaces}
    insp = inspect(s.sa)
    schema = Schema()
    found: dict[tuple[str, str], Table] = {}
    untyped: list[tuple[str, str, str]] = []
    excluded = False
    for space in [home, *spaces]:
        if space == home:
            names = sorted(n for n in insp.get_table_names(schema=home) if (home, n) not in partitions)
        else:
            names = sorted(other[space])
        if not names:
            continue
        tables = {n: Table(n, schema=None if space == home else space) for n in names}
        schema.tables += tables.values()
        found.update({(space, n): t for n, t in tables.items()})
        excluded |= _reflect_tables(insp, space, tables, None if space == home else names, on_path, untyped)
    if untyped:
        _type_names(s, found, untyped)
    if excluded:
        for nsp, rel, _, definition in s.execute(_Q_EXCLUSIONS, ([home, *spaces],)):
            if (nsp, rel) in found:
                found[nsp, rel].checks.append(definition)
    # all schemas at once: the same query (and the Inspector's cache) as for the enum-typed columns
    enums = {(e["schema"], e["name"]): e["labels"] for e in insp.get_enums(schema="*")}
    for space, name in sorted(new_enums, key=lambda k: (k[0] != home, k)):
        if (space, name) in enums:
            schema.enums[name if space == home else f"{space}.{name}"] = list(enums[space, name])
    s.reset_path()        # as the next script would find it: a new session's search path
    return schema


def _reflect_tables(insp, space: str, tables: dict[str, Table], filter_names: list[str] | None,
                    on_path: set[str], untyped: list[tuple[str, str, str]]) -> bool:
    """Fill ``tables`` (of ``space``) from the Inspector; True when an exclusion constraint is there."""
    import warnings

    from sqlalchemy.exc import SAWarning

    kw = {"schema": space, "filter_names": filter_names}
    # types it does not know: spelled from pg_catalog instead. A lasting filter, not catch_warnings:
    # this runs in a worker thread, and catch_warnings puts back the whole filter list on exit,
    # undoing what the main thread added meanwhile (requests' own filter: its warning then shows)
    warnings.filterwarnings("ignore", "Did not recognize type", SAWarning)
    columns = insp.get_multi_columns(**kw)
    pks = insp.get_multi_pk_constraint(**kw)
    fks = insp.get_multi_foreign_keys(**kw)
    uniques = insp.get_multi_unique_constraints(**kw)
    indexes = insp.get_multi_indexes(**kw)
    checks = insp.get_multi_check_constraints(**kw)
    excluded = False
    for name, t in tables.items():
        key = (space, name)
        for c in columns.get(key, ()):
            typ = _type_text(c["type"])
            if typ is None:
                untyped.append((space, name, c["name"]))
            t.columns.append(Column(c["name"], typ or "", bool(c["nullable"]), _default_text(c, space)))
        t.primary_key = list(pks.get(key, {}).get("constrained_columns") or [])
        for fk in sorted(fks.get(key, ()), key=lambda f: f["name"] or ""):
            ref_schema, ref = fk["referred_schema"], fk["referred_table"]
            if ref_schema is not None and ref_schema not in on_path:
                ref = f"{ref_schema}.{ref}"
            on_delete = fk.get("options", {}).get("ondelete")
            if on_delete:       # "SET NULL (col, ...)" (PostgreSQL 15+): the action only, as before
                on_delete = re.sub(r"\s*\(.*\)$", "", on_delete).upper()
            t.foreign_keys.append(ForeignKey(list(fk["constrained_columns"]), ref,
                                             list(fk["referred_columns"]), fk["name"], on_delete or None))
        constraint_names = set()
        for u in sorted(uniques.get(key, ()), key=lambda u: u["name"] or ""):
            t.unique.append(list(u["column_names"]))
            constraint_names.add(u["name"])
        for ix in sorted(indexes.get(key, ()), key=lambda i: i["name"] or ""):
            if ix.get("duplicates_constraint"):      # the index behind a unique or exclusion constraint
                excluded |= ix["duplicates_constraint"] not in constraint_names
                continue
            cols = ix.get("column_names") or []
            exprs = ix.get("expressions")
            if exprs:
                cols = [c if c is not None else e for c, e in zip(cols, exprs, strict=False)]
            where = (ix.get("dialect_options") or {}).get("postgresql_where")
            t.indexes.append(Index(ix["name"], list(cols), bool(ix["unique"]),
                                   _strip_parens(where) if where else None))
        for chk in sorted(checks.get(key, ()), key=lambda c: c["name"] or ""):
            opts = chk.get("dialect_options") or {}
            t.checks.append(f"CHECK ({chk['sqltext']})" + (" NO INHERIT" if opts.get("no_inherit") else "")
                            + (" NOT VALID" if opts.get("not_valid") else ""))
    return excluded


def _default_text(c: dict, space: str) -> str | None:
    if c.get("identity"):
        return "generated {} as identity".format("always" if c["identity"].get("always") else "by default")
    if c.get("computed"):
        kind = "stored" if c["computed"].get("persisted", True) else "virtual"
        return f"generated always as ({c['computed']['sqltext']}) {kind}"
    default = c.get("default")
    if default and default.startswith(f"nextval('\"{space}\"."):
        # SQLAlchemy qualifies the sequence of a serial column; PostgreSQL printed it as on the path
        default = "nextval('" + default[len(space) + 12:]
    return default


_PG_DIALECT = None


def _type_text(sa_type) -> str | None:
    """A reflected type as PostgreSQL's ``format_type`` spells it; None when SQLAlchemy cannot."""
    global _PG_DIALECT
    from sqlalchemy.exc import CompileError
    from sqlalchemy.types import NullType
    if isinstance(sa_type, NullType):
        return None
    if _PG_DIALECT is None:
        from sqlalchemy.dialects import postgresql
        _PG_DIALECT = postgresql.dialect()
    try:
        return _pg_spelling(str(sa_type.compile(dialect=_PG_DIALECT)))
    except CompileError:
        return None


@functools.lru_cache(maxsize=1024)
def _pg_spelling(text: str) -> str:
    """SQLAlchemy's spelling to PostgreSQL's: ``NUMERIC(8, 2)`` -> ``numeric(8,2)``, ``VARCHAR(20)[]`` ->
    ``character varying(20)[]``, ``TIMESTAMP WITH TIME ZONE`` -> ``timestamp with time zone``."""
    # lower case outside quoted names ('"Mood"' stays)
    text = re.sub(r'"(?:[^"]|"")*"|[^"]+', lambda m: m.group(0) if m.group(0)[0] == '"' else m.group(0).lower(),
                  text)
    text = re.sub(r"\((\d+), (\d+)\)", r"(\1,\2)", text)
    text = re.sub(r"^varchar\b", "character varying", text)
    return re.sub(r"^char\b", "character", text)


def _type_names(s, found: dict[tuple[str, str], Table], untyped: list[tuple[str, str, str]]) -> None:
    spaces, tables, columns = (list(x) for x in zip(*untyped, strict=True))
    for nsp, rel, col, typ in s.execute(_Q_TYPE_NAMES, (spaces, tables, columns)):
        c = found[nsp, rel].column(col)
        if c is not None:
            c.type = typ


def _strip_parens(text: str) -> str:
    """``(a IS NULL)`` -> ``a IS NULL``: one pair of parentheses around the whole text, if there is one."""
    text = text.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth, quoted = 0, None
    for i, ch in enumerate(text):
        if quoted:
            if ch == quoted:
                quoted = None
        elif ch in "'\"":
            quoted = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return text
    return text[1:-1].strip()
