"""The schema read back from DuckDB's own catalog (``duckdb_tables()``, ``duckdb_constraints()``...):
duckdb-engine's reflection returns no keys. Loading the DDL is :mod:`agentnb.checks.duckdb`."""

from __future__ import annotations

from agentnb.checks.lowering import Lowered
from agentnb.checks.lowering.pgtree import _pg
from agentnb.checks.schema import Column, ForeignKey, Index, Schema, Table

__all__ = ["read_schema"]

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
    actions, partial index predicates, foreign keys across schemas."""
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
    tables = {f"{t.schema}.{t.name}" if t.schema else t.name: t for t in schema.tables}
    for key, cols, ref, ref_cols, name, on_delete in lowered.cross_schema_fks:
        if key in tables:
            tables[key].foreign_keys.append(ForeignKey(list(cols), ref, list(ref_cols), name, on_delete))
