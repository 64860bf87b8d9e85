"""A database schema as a database reports it: the one shape reflection, diffs and diagrams share, and
the pure comparison of two of them (``compare_schemas``), with no database involved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Column:
    name: str
    type: str                      # as the database spells it: "bigint", "text[]", "timestamp with time zone"
    nullable: bool = True
    default: str | None = None


@dataclass
class ForeignKey:
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    name: str | None = None
    on_delete: str | None = None   # "CASCADE", "SET NULL", ... or None


@dataclass
class Index:
    name: str
    columns: list[str]             # column names, or expressions as text
    unique: bool = False
    where: str | None = None       # partial index predicate


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique: list[list[str]] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    schema: str | None = None      # None for the default schema

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Schema:
    tables: list[Table] = field(default_factory=list)
    enums: dict[str, list[str]] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


def schema_summary(schema: Schema) -> str:
    n_t = len(schema.tables)
    n_fk = sum(len(t.foreign_keys) for t in schema.tables)
    n_ix = sum(len(t.indexes) for t in schema.tables)
    parts = [plural(n_t, "table"), plural(n_fk, "foreign key"), plural(n_ix, "index", "indexes")]
    if schema.enums:
        parts.append(plural(len(schema.enums), "enum"))
    return ", ".join(parts)


def plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _tname(t: Table) -> str:
    return f"{t.schema}.{t.name}" if t.schema else t.name


def _fk_text(fk: ForeignKey) -> str:
    text = f"foreign key ({', '.join(fk.columns)}) → {fk.ref_table}({', '.join(fk.ref_columns)})"
    return text + (f" ON DELETE {fk.on_delete}" if fk.on_delete else "")


def _col_text(c: Column) -> str:
    text = c.type + ("" if c.nullable else " NOT NULL")
    return text + (f" DEFAULT {c.default}" if c.default else "")


def _index_text(ix: Index) -> str:
    text = ("unique " if ix.unique else "") + f"({', '.join(ix.columns)})"
    return text + (f" WHERE {ix.where}" if ix.where else "")


def compare_schemas(old: Schema, new: Schema) -> list[dict]:
    """What changed from ``old`` to ``new``: dicts with ``object``, ``change``, ``text`` (readable)."""
    out: list[dict] = []

    def add(obj: str, change: str, text: str, table: str | None = None, name: str | None = None,
            old_value: Any = None, new_value: Any = None) -> None:
        d = {"object": obj, "change": change, "text": text}
        if table is not None:
            d["table"] = table
        if name is not None:
            d["name"] = name
        if old_value is not None or new_value is not None:
            d["old"], d["new"] = old_value, new_value
        out.append(d)

    for name in [n for n in old.enums if n not in new.enums]:
        add("enum", "removed", f"enum {name} removed ({', '.join(old.enums[name])})", name=name)
    for name in [n for n in new.enums if n not in old.enums]:
        add("enum", "added", f"enum {name} added ({', '.join(new.enums[name])})", name=name)
    for name in sorted(old.enums.keys() & new.enums.keys()):
        if old.enums[name] != new.enums[name]:
            add("enum", "changed", f"enum {name} values changed: ({', '.join(old.enums[name])}) → "
                f"({', '.join(new.enums[name])})", name=name, old_value=old.enums[name],
                new_value=new.enums[name])

    old_t = {_tname(t): t for t in old.tables}
    new_t = {_tname(t): t for t in new.tables}
    for name in [n for n in old_t if n not in new_t]:
        add("table", "removed", f"table {name} removed", table=name)
    for name in [n for n in new_t if n not in old_t]:
        t = new_t[name]
        add("table", "added", f"table {name} added ({plural(len(t.columns), 'column')})", table=name)
    for name in [n for n in old_t if n in new_t]:
        a, b = old_t[name], new_t[name]
        pre = f"table {name}: "
        ac, bc = {c.name: c for c in a.columns}, {c.name: c for c in b.columns}
        for c in a.columns:
            if c.name not in bc:
                add("column", "removed", f"{pre}column {c.name} removed ({_col_text(c)})", name, c.name)
        for c in b.columns:
            if c.name not in ac:
                add("column", "added", f"{pre}column {c.name} added ({_col_text(c)})", name, c.name)
        for c in a.columns:
            d = bc.get(c.name)
            if d is None:
                continue
            if c.type != d.type:
                add("column", "changed", f"{pre}column {c.name} type changed: {c.type} → {d.type}",
                    name, c.name, c.type, d.type)
            if c.nullable != d.nullable:
                add("column", "changed", f"{pre}column {c.name} " + ("now nullable" if d.nullable else "now NOT NULL"),
                    name, c.name, c.nullable, d.nullable)
            if c.default != d.default:
                add("column", "changed", f"{pre}column {c.name} default changed: {c.default or 'none'} → "
                    f"{d.default or 'none'}", name, c.name, c.default, d.default)
        if a.primary_key != b.primary_key:
            add("primary key", "changed", f"{pre}primary key changed: ({', '.join(a.primary_key)}) → "
                f"({', '.join(b.primary_key)})", name, None, a.primary_key, b.primary_key)

        def fk_key(fk: ForeignKey) -> tuple:
            return tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns), fk.on_delete

        afk, bfk = {fk_key(f): f for f in a.foreign_keys}, {fk_key(f): f for f in b.foreign_keys}
        for k in [k for k in afk if k not in bfk]:
            add("foreign key", "removed", f"{pre}{_fk_text(afk[k])} removed", name, afk[k].name)
        for k in [k for k in bfk if k not in afk]:
            add("foreign key", "added", f"{pre}{_fk_text(bfk[k])} added", name, bfk[k].name)
        au, bu = {tuple(u) for u in a.unique}, {tuple(u) for u in b.unique}
        for u in sorted(au - bu):
            add("unique", "removed", f"{pre}unique ({', '.join(u)}) removed", name)
        for u in sorted(bu - au):
            add("unique", "added", f"{pre}unique ({', '.join(u)}) added", name)
        ai, bi = {i.name: i for i in a.indexes}, {i.name: i for i in b.indexes}
        for n in [n for n in ai if n not in bi]:
            add("index", "removed", f"{pre}index {n} removed {_index_text(ai[n])}", name, n)
        for n in [n for n in bi if n not in ai]:
            add("index", "added", f"{pre}index {n} added {_index_text(bi[n])}", name, n)
        for n in sorted(ai.keys() & bi.keys()):
            if (ai[n].columns, ai[n].unique, ai[n].where) != (bi[n].columns, bi[n].unique, bi[n].where):
                add("index", "changed", f"{pre}index {n} changed: {_index_text(ai[n])} → {_index_text(bi[n])}",
                    name, n)
        for chk in sorted(set(a.checks) - set(b.checks)):
            add("check", "removed", f"{pre}{chk} removed", name)
        for chk in sorted(set(b.checks) - set(a.checks)):
            add("check", "added", f"{pre}{chk} added", name)
    return out

