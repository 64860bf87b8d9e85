"""What a lowering gives: the statements for DuckDB, and every change made on the way, listed."""

from __future__ import annotations

from dataclasses import dataclass, field

_KIND_ORDER = ["identity", "serial", "cascade", "partial index", "alter table", "deferrable", "exclude",
               "index skipped", "USING gin", "USING gist", "cycle", "trigger", "function", "extension"]


@dataclass
class Lowering:
    """One change made so that DuckDB accepts the DDL (or one statement left out)."""

    kind: str                  # short code: "identity", "cascade", "partial index", "extension", ...
    message: str               # what was changed and why, for a reader
    statement: int             # 1-based position of the source statement
    table: str | None = None
    skipped: bool = False      # the whole statement was left out

    def __str__(self) -> str:
        return f"statement {self.statement}: {self.message}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "statement": self.statement,
                "table": self.table, "skipped": self.skipped}


@dataclass
class LoweredStatement:
    sql: str
    source: int                # 1-based position of the source statement it came from
    kind: str = ""             # node type, e.g. "CreateStmt"
    table: str | None = None


@dataclass
class Lowered:
    statements: list[LoweredStatement] = field(default_factory=list)
    changes: list[Lowering] = field(default_factory=list)
    source_count: int = 0
    # What DuckDB forgets but the PostgreSQL DDL said: put back into the schema read from DuckDB.
    fk_info: dict[tuple[str, tuple[str, ...]], tuple[str | None, str | None]] = field(default_factory=dict)
    index_where: dict[str, str] = field(default_factory=dict)
    # foreign keys across schemas (DuckDB has none): (table, columns, referenced table, its columns,
    # constraint name, ON DELETE action)
    cross_schema_fks: list[tuple] = field(default_factory=list)

    @property
    def sql(self) -> str:
        return "".join(s.sql + ";\n" for s in self.statements)

    def kinds(self) -> list[str]:
        """The kinds of change made, each once: the ones that weaken the check most first, then in
        order of first appearance."""
        seen = list(dict.fromkeys(c.kind for c in self.changes))
        return sorted(seen, key=lambda k: (_KIND_ORDER.index(k) if k in _KIND_ORDER else len(_KIND_ORDER),
                                           seen.index(k)))
