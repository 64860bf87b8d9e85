"""A database schema as a database reports it: the one shape reflection, diffs and diagrams share."""

from __future__ import annotations

from dataclasses import dataclass, field


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
