"""PostgreSQL DDL lowered for DuckDB, loaded into it, and read back from DuckDB's own catalog.

DuckDB is the fast, in-process stand-in for PostgreSQL: it catches missing tables, bad references and
broken constraints in milliseconds. It rejects a fair share of ordinary PostgreSQL DDL, though (identity
columns, SERIAL, ON DELETE CASCADE, partial indexes, extensions, triggers, ALTER TABLE ADD CONSTRAINT,
INET, CITEXT...). :func:`lower` rewrites that DDL on PostgreSQL's own parse tree (pglast) and lists every
change it made, so a passing DuckDB load never hides what was not checked::

    result = load(ddl)
    result.failures        # [] when every lowered statement ran
    result.schema          # dbschema.Schema from duckdb_tables()/duckdb_constraints()/...
    result.check()         # CheckResult "Schema on DuckDB"

Nothing here raises for bad SQL: statements PostgreSQL cannot parse or DuckDB refuses are reported.
The lowering itself lives in :mod:`agentnb.checks.lowering`; its names are importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.checks.schema import Column, ForeignKey, Index, Schema, Table
from agentnb.checks.lowering import Lowered, LoweredStatement, Lowering, _pg, lower

__all__ = ["Failure", "LoadResult", "Lowered", "LoweredStatement", "Lowering", "execute", "load", "lower",
           "read_schema"]

CHECK_NAME = "Schema on DuckDB"


@dataclass
class Failure:
    statement: int             # 1-based position in Lowered.statements
    source: int                # 1-based position of the source statement
    sql: str
    message: str               # DuckDB's exact message
    error: str = ""            # DuckDB's exception class, e.g. "CatalogException"

    def to_dict(self) -> dict:
        return {"statement": self.statement, "source": self.source, "sql": self.sql,
                "message": self.message, "error": self.error}


@dataclass
class LoadResult:
    con: Any                   # duckdb.DuckDBPyConnection
    lowered: Lowered
    failures: list[Failure] = field(default_factory=list)
    schema: Schema = field(default_factory=Schema)

    @property
    def ok(self) -> bool:
        return not self.failures

    def check(self) -> CheckResult:
        lowered = self.lowered
        details: dict = {
            "tables": len(self.schema.tables),
            "statements": len(lowered.statements),
            "lowerings": [c.to_dict() for c in lowered.changes],
            "failures": [f.to_dict() for f in self.failures],
        }
        if not lowered.statements and not self.failures:
            return CheckResult(CHECK_NAME, SKIPPED, "no statement DuckDB could run", details)
        kinds = lowered.kinds()
        summary = f"{len(lowered.changes)} lowering{'s' if len(lowered.changes) != 1 else ''}"
        if kinds:
            shown = ", ".join(kinds[:8]) + ("..." if len(kinds) > 8 else "")
            summary += f" ({shown})"
        if self.failures:
            lines = [f"{len(self.failures)} of {len(lowered.statements)} statements failed in DuckDB "
                     f"({summary}):"]
            for f in self.failures:
                first = " ".join(f.sql.split())[:80]
                lines.append(f"statement {f.source} ({first}): {f.message}")
            return CheckResult(CHECK_NAME, FAILED, "\n".join(lines), details)
        n = len(self.schema.tables)
        message = f"loaded into DuckDB: {n} table{'s' if n != 1 else ''}; {summary}"
        return CheckResult(CHECK_NAME, PASSED, message, details)


# --------------------------------------------------------------------------------------------------
# Loading and reading back

def load(pg_ddl: str, con=None) -> LoadResult:
    """Lower ``pg_ddl``, run it statement by statement in DuckDB, read the schema back.

    ``con`` is a DuckDB connection (a new in-memory one when None). Failing statements are collected
    with DuckDB's exact message in ``.failures``; nothing is raised for bad SQL.
    """
    import duckdb

    lowered = lower(pg_ddl)
    if con is None:
        con = duckdb.connect()
    failures = execute(con, lowered)
    return LoadResult(con, lowered, failures, read_schema(con, lowered))


def execute(con, lowered: Lowered) -> list[Failure]:
    """Run the lowered statements on ``con``; every failing statement with DuckDB's exact message.

    The fast path runs the whole script at once, in one transaction, on one DuckDB thread (on an empty
    schema, DuckDB's task scheduling costs more than it gives: a third of the time for CREATE INDEX);
    the connection's thread count is put back afterwards. When a statement fails, nothing stays and
    the statements run one by one, each on its own, to collect every failure."""
    import duckdb

    if not lowered.statements:
        return []
    threads = None
    try:
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        if threads != 1:
            con.execute("SET threads = 1")
    except duckdb.Error:
        threads = None
    try:
        if _run_in_transaction(con, lowered, duckdb):
            return []
        failures = []
        for i, st in enumerate(lowered.statements, 1):
            try:
                con.execute(st.sql)
            except duckdb.Error as e:
                failures.append(Failure(i, st.source, st.sql, str(e), type(e).__name__))
        return failures
    finally:
        if threads is not None and threads != 1:
            try:
                con.execute(f"SET threads = {int(threads)}")
            except duckdb.Error:
                pass


def _run_in_transaction(con, lowered: Lowered, duckdb) -> bool:
    """The fast path: the whole script in one ``execute``, in one transaction. False, with nothing
    changed, when a statement fails (or the caller's connection is already in a transaction)."""
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.Error:            # the caller's connection is already in a transaction
        return False
    try:
        con.execute(lowered.sql)
        con.execute("COMMIT")
        return True
    except duckdb.Error:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        return False


_CATALOG_FILTER = ("database_name = current_database() AND NOT internal "
                   "AND schema_name NOT IN ('information_schema', 'pg_catalog')")


def read_schema(con, lowered: Lowered | None = None) -> Schema:
    """A :class:`dbschema.Schema` from DuckDB's own catalog functions (duckdb-engine reflection
    returns no keys): tables, columns, primary/foreign/unique keys, checks, indexes, enums. With the
    ``lowered`` DDL that built it, what DuckDB discards is put back (constraint names, ON DELETE
    actions, partial index predicates).

    The rows are sorted here, not with ORDER BY: on a few hundred catalog rows DuckDB's sort costs
    several times the scan."""
    tables: dict[tuple[str, str], Table] = {}
    for _, schema_name, table_name in sorted(con.execute(
            f"SELECT table_oid, schema_name, table_name FROM duckdb_tables() WHERE {_CATALOG_FILTER} "
            "AND NOT temporary").fetchall()):
        tables[(schema_name, table_name)] = Table(table_name, schema=None if schema_name == "main"
                                                  else schema_name)
    enums = _read_enums(con)
    if not tables:
        return Schema(enums=enums)
    schema = _read_tables(con, tables, enums)
    if lowered is not None:
        _enrich(schema, lowered)
    return schema


def _read_tables(con, tables: dict, enums: dict) -> Schema:
    # DuckDB spells an enum column's type as ENUM('a', 'b'): give it back its name
    by_labels = {}
    for name, labels in enums.items():
        by_labels.setdefault("ENUM(" + ", ".join("'" + v.replace("'", "''") + "'" for v in labels) + ")",
                             name)
    for schema_name, table_name, _, name, dtype, nullable, default in sorted(con.execute(
            "SELECT schema_name, table_name, column_index, column_name, data_type, is_nullable, "
            f"column_default FROM duckdb_columns() WHERE {_CATALOG_FILTER}").fetchall(),
            key=lambda r: r[:3]):
        t = tables.get((schema_name, table_name))
        if t is not None:
            dtype = by_labels.get(dtype, dtype) if dtype.startswith("ENUM(") else dtype
            t.columns.append(Column(name, _type_text(dtype), bool(nullable), default))
    for schema_name, table_name, _, ctype, cols, text, name, ref_table, ref_cols in sorted(con.execute(
            "SELECT schema_name, table_name, constraint_index, constraint_type, constraint_column_names, "
            "constraint_text, constraint_name, referenced_table, referenced_column_names "
            f"FROM duckdb_constraints() WHERE {_CATALOG_FILTER.replace(' AND NOT internal', '')}"
            ).fetchall(), key=lambda r: r[:3]):
        t = tables.get((schema_name, table_name))
        if t is None:
            continue
        if ctype == "PRIMARY KEY":
            t.primary_key = list(cols)
        elif ctype == "FOREIGN KEY":
            t.foreign_keys.append(ForeignKey(list(cols), ref_table, list(ref_cols or ())))
        elif ctype == "UNIQUE":
            if list(cols) not in t.unique:
                t.unique.append(list(cols))
        elif ctype == "CHECK":
            t.checks.append(text[len("CHECK"):] if text.upper().startswith("CHECK") else text)
    rows = sorted(con.execute(
        "SELECT schema_name, table_name, index_name, is_unique, sql, expressions "
        f"FROM duckdb_indexes() WHERE {_CATALOG_FILTER.replace(' AND NOT internal', '')}").fetchall(),
        key=lambda r: r[:3])
    columns = _index_columns_all([(sql, exprs) for *_, sql, exprs in rows])
    for (schema_name, table_name, name, unique, _, _), cols in zip(rows, columns):
        t = tables.get((schema_name, table_name))
        if t is not None:
            t.indexes.append(Index(name, cols, bool(unique)))
    return Schema(list(tables.values()), enums)


def _read_enums(con) -> dict[str, list[str]]:
    enums = {}
    for schema_name, name, labels in sorted(con.execute(
            "SELECT schema_name, type_name, labels FROM duckdb_types() WHERE logical_type = 'ENUM' "
            f"AND {_CATALOG_FILTER}").fetchall(), key=lambda r: r[:2]):
        enums[name if schema_name == "main" else f"{schema_name}.{name}"] = list(labels or ())
    return enums


def _index_columns_all(indexes: list[tuple[str | None, str | None]]) -> list[list[str]]:
    """``_index_columns`` for every index at once: one raw parse of all their SQL; only an index on
    an expression (which must be deparsed) or SQL pglast cannot parse goes the long way."""
    import json

    from pglast import parser

    sqls = [sql for sql, _ in indexes]
    parsed = None
    if sqls and all(sqls):
        try:
            stmts = json.loads(parser.parse_sql_json(";\n".join(s.rstrip().rstrip(";") for s in sqls)))
            parsed = [st["stmt"].get("IndexStmt") for st in stmts.get("stmts", ())]
        except Exception:
            parsed = None
        if parsed is not None and len(parsed) != len(sqls):
            parsed = None
    out = []
    for i, (sql, exprs) in enumerate(indexes):
        stmt = parsed[i] if parsed is not None else None
        elems = [p.get("IndexElem", {}) for p in (stmt or {}).get("indexParams") or ()]
        if stmt is not None and elems and all(e.get("name") for e in elems):
            out.append([e["name"] for e in elems])
        else:
            out.append(_index_columns(sql, exprs))
    return out


def _type_text(dtype: str) -> str:
    # DuckDB spells built-in types in capitals (INTEGER, VARCHAR[]); user types (enums) as created
    return dtype.lower() if dtype == dtype.upper() else dtype


def _index_columns(sql: str | None, exprs: str | None) -> list[str]:
    if sql:
        try:
            pglast, ast, _, RawStream = _pg()
            stmt = pglast.parse_sql(sql)[0].stmt
            return [p.name if p.name else RawStream()(p.expr) for p in stmt.indexParams or ()]
        except Exception:  # DuckDB-only syntax: fall back on DuckDB's own list text
            pass
    text = (exprs or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [p.strip().strip("'") for p in text.split(",") if p.strip()]


def _enrich(schema: Schema, lowered: Lowered) -> None:
    """Put back what DuckDB discards but the PostgreSQL DDL said: constraint names, ON DELETE
    actions, partial index predicates."""
    for t in schema.tables:
        key = f"{t.schema}.{t.name}" if t.schema else t.name
        for fk in t.foreign_keys:
            info = lowered.fk_info.get((key, tuple(fk.columns)))
            if info:
                fk.name = fk.name or info[0]
                fk.on_delete = fk.on_delete or info[1]
        for ix in t.indexes:
            if ix.name in lowered.index_where:
                ix.where = lowered.index_where[ix.name]
