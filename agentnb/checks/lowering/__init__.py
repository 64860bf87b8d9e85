"""PostgreSQL DDL lowered for DuckDB: :func:`lower` rewrites what DuckDB rejects and lists every change.

One lowerer, on PostgreSQL's own parse tree (pglast): the tree is rewritten in place and deparsed, so
what reaches DuckDB is always the lowering's own text, never the answer's. Its parts, by job:

- ``result``: what a lowering gives: the statements for DuckDB and every change, listed;
- ``policy``: which statement kinds reach DuckDB at all, and how the ones left out are named;
- ``notes``: the change list and every message in it, with the PostgreSQL-to-DuckDB maps they describe
  and the bookkeeping they need (tables created so far, sequences added for SERIAL and identity);
- ``rewrite``: the lowerer itself: the script split and parsed, types and function calls anywhere,
  the statements other than tables;
- ``tables``: CREATE TABLE, its columns and constraints, indexes, ALTER TABLE folded into its table;
- ``order``: the order the statements go out in (whatever a statement needs comes first);
- ``pgtree``: pglast access: the deparser (quoting DuckDB's reserved words), walks, the split at
  semicolons used when the whole script does not parse.

Loading into DuckDB and reading its catalog back is :mod:`agentnb.checks.duckdb`.
"""

from __future__ import annotations

from agentnb.checks.lowering.result import Lowered, LoweredStatement, Lowering

__all__ = ["Lowered", "LoweredStatement", "Lowering", "lower"]


def lower(pg_ddl: str) -> Lowered:
    """Rewrite PostgreSQL DDL into DDL DuckDB accepts, listing every change in ``.changes``.

    Works on PostgreSQL's own parse tree (pglast), rewritten in place and deparsed. Only statements
    that build a schema are kept; every other one (and any PostgreSQL cannot parse) is left out and
    listed as such.
    """
    from agentnb.checks.lowering.notes import _init_tables
    from agentnb.checks.lowering.rewrite import _Lowerer

    _init_tables()
    return _Lowerer(pg_ddl).run()
