"""Checks that run SQL on a real PostgreSQL server: schemas, migration round trips, schema diffs.

Every check runs in one transaction that is always rolled back, inside a fresh schema
(``agentnb_check_<hex>``) set with ``SET LOCAL search_path``: PostgreSQL's DDL is transactional
(CREATE TYPE, CREATE EXTENSION, CREATE INDEX, CREATE SCHEMA all roll back), so checks never see
each other and a user's server (``AGENTNB_POSTGRES_URL``) keeps nothing. Statements that cannot run
in a transaction: ``CREATE INDEX CONCURRENTLY`` / ``DROP INDEX CONCURRENTLY`` / ``REINDEX ...
CONCURRENTLY`` run without ``CONCURRENTLY`` (same effect on the schema; noted in the details);
``CREATE/DROP DATABASE``, ``VACUUM``, tablespaces and ``ALTER SYSTEM`` are skipped and named in the
details; ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` in a script are ignored. What the scripts made is read
back by ``pgreflect``; the comparison of two schemas is ``schema.compare_schemas``, the migration a
change implies is rendered by ``alembic``; the server comes from ``pgserver``.

Warm checks (30-table schema, busy machine; ``bench/bench_postgres.py``): check_schema 0.13-0.16 s,
check_migration 0.18-0.23 s, diff_schemas 0.55-0.8 s (Alembic reflection and running the implied
migration included); most of it is the server executing the DDL. check_schema reflects once,
check_migration three times, diff_schemas four.
"""

from __future__ import annotations

import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from agentnb.checks.pgreflect import Baseline, baseline, reflect_schema
from agentnb.checks.pgserver import (
    ENV_URL, ConnectionFailed, NoPostgresError, PostgresServer, get_server, warm_up)
from agentnb.checks.result import FAILED, PASSED, CheckResult
from agentnb.checks.schema import Schema, compare_schemas, plural, schema_summary

__all__ = [
    "check_schema", "check_migration", "diff_schemas", "scratch", "SQLFailure",
    # re-exported for callers that import them from here
    "NoPostgresError", "ConnectionFailed", "PostgresServer", "get_server", "warm_up", "ENV_URL",
    "compare_schemas", "reflect_schema", "schema_summary",
]

STATEMENT_TIMEOUT_MS = 10_000


@dataclass
class SQLFailure(Exception):
    """A statement the server refused: its message and where it is in the script."""

    message: str
    statement: str
    line: int | None = None
    column: int | None = None
    position: int | None = None          # the server's 1-based position within the statement
    sqlstate: str | None = None
    detail: str | None = None
    hint: str | None = None
    position_guessed: bool = False

    def to_details(self) -> dict:
        first = self.statement.strip().splitlines()[0] if self.statement.strip() else ""
        d = {"statement": first, "statement_text": self.statement, "line": self.line,
             "column": self.column, "position": self.position, "sqlstate": self.sqlstate}
        if self.detail:
            d["detail"] = self.detail
        if self.hint:
            d["hint"] = self.hint
        if self.position_guessed:
            d["position_guessed"] = True
        return d


_NO_TRANSACTION = {
    "CreatedbStmt": "CREATE DATABASE cannot run inside a transaction",
    "DropdbStmt": "DROP DATABASE cannot run inside a transaction",
    "CreateTableSpaceStmt": "tablespaces are outside a check's scratch schema",
    "DropTableSpaceStmt": "tablespaces are outside a check's scratch schema",
    "AlterSystemStmt": "ALTER SYSTEM changes the server, not the schema",
}


class _Scratch:
    """One check's connection, transaction and scratch schema."""

    def __init__(self, conn, schema: str):
        self.conn = conn
        self.schema = schema
        self.notes: list[dict] = []      # statements skipped or rewritten, for details
        self.sa = None                   # the SQLAlchemy Connection over ``conn``, same transaction

    def execute(self, query: str, params: Any = None):
        return self.conn.execute(query, params)

    def set_path(self, *schemas: str) -> None:
        path = ", ".join(_quote_ident(s) for s in schemas) or "pg_catalog"
        self.conn.execute(f"SET LOCAL search_path TO {path}")

    def run_script(self, sql: str, phase: str = "") -> int:
        """Run every statement of ``sql``; raise ``SQLFailure`` at the first the server refuses."""
        from pglast import parser

        from agentnb.checks.sql import line_col, statement_spans
        try:
            spans = statement_spans(sql)
        except parser.ParseError as exc:
            index = exc.args[1] if len(exc.args) > 1 else None
            line, col = line_col(sql, index) if index is not None else (None, None)
            raise SQLFailure(exc.args[0], sql.splitlines()[line - 1] if line else sql, line, col,
                             sqlstate="42601") from None
        count = 0
        for span in spans:
            text, skip = self._prepare(span.text)
            if skip:
                self.notes.append({"phase": phase, "line": span.line, "statement": _first_line(span.text),
                                   "action": "skipped", "reason": skip})
                continue
            if text != span.text:
                self.notes.append({"phase": phase, "line": span.line, "statement": _first_line(span.text),
                                   "action": "ran without CONCURRENTLY",
                                   "reason": "CONCURRENTLY cannot run inside a transaction"})
            try:
                self.conn.execute(text)
            except Exception as exc:
                diag = getattr(exc, "diag", None)
                if diag is None:
                    raise
                raise self._failure(exc, sql, span) from None
            count += 1
        return count

    def _prepare(self, text: str) -> tuple[str, str | None]:
        from pglast import parser
        try:
            stmts = parser.parse_sql(text)
        except parser.ParseError:
            return text, None        # the server will say what is wrong, with its position
        if not stmts:
            return text, "empty statement"
        node = stmts[0].stmt
        kind = type(node).__name__
        if kind == "TransactionStmt":
            return text, "transaction control: the check runs the script in its own transaction"
        if kind in _NO_TRANSACTION:
            return text, _NO_TRANSACTION[kind]
        if kind == "VacuumStmt" and getattr(node, "is_vacuumcmd", True):
            return text, "VACUUM cannot run inside a transaction"
        concurrent = False
        if kind in ("IndexStmt", "DropStmt"):
            concurrent = bool(getattr(node, "concurrent", False))
        elif kind == "ReindexStmt":
            concurrent = any(getattr(p, "defname", "") == "concurrently" for p in (node.params or ()))
        if concurrent:
            # blank the keyword out: same length, so the server's positions still match the script
            for tok in parser.scan(text):
                if tok.name == "CONCURRENTLY":
                    text = text[:tok.start] + " " * (tok.end - tok.start + 1) + text[tok.end + 1:]
        return text, None

    def _failure(self, exc, sql: str, span) -> SQLFailure:
        from agentnb.checks.sql import line_col
        diag = exc.diag
        message = diag.message_primary or str(exc).splitlines()[0]
        position = int(diag.statement_position) if diag.statement_position else None
        guessed = False
        index = position - 1 if position else None
        if index is None:
            index = _guess_position(span.text, message)
            guessed = index is not None
            if guessed:
                position = index + 1
        line = column = None
        if index is not None:
            line, column = line_col(sql, span.start + index)
        else:
            line = span.line
        return SQLFailure(message, span.text, line, column, position, diag.sqlstate,
                          diag.message_detail, diag.message_hint, guessed)


def _guess_position(statement: str, message: str) -> int | None:
    """Where the name a message quotes first appears in the statement (the server gave none)."""
    m = re.match(r'(?:relation|type|column|function|schema|constraint|index|extension) "([^"]+)"', message)
    if not m:
        return None
    wanted = m.group(1).split(".")[-1].lower()
    from pglast import parser
    try:
        tokens = parser.scan(statement)
    except parser.ParseError:
        return None
    for tok in tokens:
        word = statement[tok.start:tok.end + 1]
        if word.startswith('"'):
            word = word[1:-1]
        elif tok.name != "IDENT" and tok.kind == "NO_KEYWORD":
            continue
        if word.lower() == wanted:
            return tok.start
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def scratch(server: PostgresServer | None = None, *, sqlalchemy: bool = True) -> Iterator[_Scratch]:
    """A connection in a transaction with a fresh schema first on the search path; always rolled back.

    The connection comes from the server's engine: ``.conn`` is the psycopg connection the scripts
    run on, ``.sa`` the SQLAlchemy ``Connection`` over it, in the same transaction (reflection through
    the Inspector, ``MetaData``, Alembic). ``sqlalchemy`` is kept for callers; both are always there.
    """
    server = server or get_server()
    import sqlalchemy.exc

    try:
        sa_conn = server.engine().connect()
    except sqlalchemy.exc.OperationalError as err:
        raise ConnectionFailed(server, err) from None
    conn = sa_conn.connection.driver_connection
    try:
        name = f"agentnb_check_{uuid.uuid4().hex[:10]}"
        conn.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        conn.execute("SET LOCAL lock_timeout = 2000")
        conn.execute(f"CREATE SCHEMA {name}")
        s = _Scratch(conn, name)
        s.sa = sa_conn
        s.set_path(name)
        yield s
    finally:
        try:
            conn.rollback()
        finally:
            sa_conn.close()


def _no_server(name: str, exc: NoPostgresError) -> CheckResult:
    return CheckResult(name, "skipped", str(exc), {"reasons": exc.reasons})


def _failed(name: str, failure: SQLFailure, phase: str | None = None, **extra) -> CheckResult:
    details = failure.to_details()
    if phase:
        details["phase"] = phase
    details.update(extra)
    return CheckResult(name, FAILED, failure.message, details)


def _server_or_skipped(name: str, server: PostgresServer | None
                       ) -> tuple[PostgresServer | None, CheckResult | None]:
    """The server a check runs on, or (None, the skipped result saying why there is none)."""
    try:
        return server or get_server(), None
    except NoPostgresError as exc:
        return None, _no_server(name, exc)


@contextmanager
def _session(server: PostgresServer) -> Iterator[tuple[_Scratch, Baseline]]:
    """A scratch transaction, and what the database held before the check's scripts."""
    with scratch(server) as s:
        yield s, baseline(s)


def _notes(details: dict, s: _Scratch) -> dict:
    if s.notes:
        details["statement_notes"] = list(s.notes)
    return details


def check_schema(ddl: str, name: str = "Schema on PostgreSQL", *,
                 server: PostgresServer | None = None) -> tuple[CheckResult, Schema | None]:
    """Run ``ddl`` on PostgreSQL in a rolled-back transaction and reflect what it made.

    Failed: ``message`` is the server's own; ``details`` has ``statement`` (first line),
    ``statement_text``, ``line`` / ``column`` in ``ddl``, ``position`` (the server's, in the statement),
    ``sqlstate``. Passed: ``message`` like "7 tables, 9 foreign keys, 5 indexes" and the ``Schema``.
    Skipped (no server): the ``NoPostgresError`` message.
    """
    t0 = time.perf_counter()
    server, skipped = _server_or_skipped(name, server)
    if skipped is not None:
        return skipped, None
    with _session(server) as (s, base):
        try:
            n = s.run_script(ddl, "schema")
        except SQLFailure as f:
            return _failed(name, f, "schema", **_notes({}, s)), None
        schema = reflect_schema(s, base)
    details = _notes({"statements": n, "seconds": round(time.perf_counter() - t0, 4)}, s)
    return CheckResult(name, PASSED, schema_summary(schema), details), schema


def check_migration(schema_ddl: str, up: str, down: str, name: str = "Migration",
                    *, server: PostgresServer | None = None) -> CheckResult:
    """Schema, then ``up``, then ``down``: passes when ``down`` brings back exactly the schema.

    ``details["up_changes"]`` lists what ``up`` changed; on failure ``details["differences"]`` lists
    what ``down`` left different, or (``details["phase"]`` = "schema" | "up" | "down") the server's
    message and the statement it refused.
    """
    if not name.endswith("up/down"):
        name = f"{name} up/down"
    t0 = time.perf_counter()
    server, skipped = _server_or_skipped(name, server)
    if skipped is not None:
        return skipped
    with _session(server) as (s, base):
        phase = "schema"
        try:
            s.run_script(schema_ddl, "schema")
            a = reflect_schema(s, base)
            phase = "up"
            s.run_script(up, "up")
            b = reflect_schema(s, base)
            up_changes = compare_schemas(a, b)
            phase = "down"
            s.run_script(down, "down")
            c = reflect_schema(s, base)
        except SQLFailure as f:
            extra = {}
            if phase == "down":
                extra["up_changes"] = [d["text"] for d in up_changes]
            return _failed(name, f, phase, **_notes(extra, s))
    remaining = compare_schemas(a, c)
    details = _notes({"up_changes": [d["text"] for d in up_changes],
                      "seconds": round(time.perf_counter() - t0, 4)}, s)
    if not up_changes:
        details["warnings"] = ["up changed nothing in the schema"]
    if remaining:
        details["differences"] = [d["text"] for d in remaining]
        details["changes"] = remaining
        head = "; ".join(details["differences"][:3])
        more = f" (and {len(remaining) - 3} more)" if len(remaining) > 3 else ""
        return CheckResult(name, FAILED, f"down does not restore the schema: {head}{more}", details)
    msg = f"up: {plural(len(up_changes), 'change')}; down restores the schema"
    return CheckResult(name, PASSED, msg, details)


def diff_schemas(old_ddl: str, new_ddl: str, name: str = "Schema changes",
                 *, server: PostgresServer | None = None, implied: bool = True) -> CheckResult:
    """What changed from ``old_ddl`` to ``new_ddl``, and the migration that change implies.

    Passed with ``details["differences"]`` (readable list), ``details["changes"]`` (structured),
    ``details["upgrade_sql"]`` / ``details["downgrade_sql"]`` (PostgreSQL, rendered by Alembic's
    autogenerate), ``details["alembic_upgrade"]`` / ``details["alembic_downgrade"]`` (Alembic ops as
    Python). Failed when either script does not run (``details["phase"]`` = "old" | "new").
    ``implied=False`` skips rendering and verifying the implied migration (the answer has its own).
    """
    t0 = time.perf_counter()
    server, skipped = _server_or_skipped(name, server)
    if skipped is not None:
        return skipped
    with _session(server) as (s, base):
        # each script runs from the same savepoint, so both see the same names (extensions,
        # explicit schemas) and never each other: old, then new, then (when they differ) old again
        # with new's reflected MetaData for Alembic, and the implied migration run on it
        s.execute("SAVEPOINT agentnb_old")
        reflected = []
        for phase, ddl in (("old", old_ddl), ("new", new_ddl)):
            try:
                s.run_script(ddl, phase)
            except SQLFailure as f:
                return _failed(name, f, phase, **_notes({}, s))
            reflected.append(reflect_schema(s, base))
            if phase == "old":
                s.execute("ROLLBACK TO SAVEPOINT agentnb_old")
        old, new = reflected
        changes = compare_schemas(old, new)
        details = _notes({"differences": [d["text"] for d in changes], "changes": changes}, s)
        if changes and implied:
            notes = list(s.notes)
            try:
                from agentnb.checks import alembic

                new_metadata = alembic.reflect_metadata(s.sa, s.schema)
                s.execute("ROLLBACK TO SAVEPOINT agentnb_old")
                s.run_script(old_ddl, "old")
                details.update(alembic.implied_migration(s.sa, s.schema, new_metadata, changes))
            except Exception as exc:   # rendering is a bonus: the differences stand on their own
                details["migration_error"] = f"{type(exc).__name__}: {exc}"
            else:
                _verify_migration(s, base, old, new, details)
            s.notes = notes
    details["seconds"] = round(time.perf_counter() - t0, 4)
    msg = plural(len(changes), "difference") if changes else "no differences"
    return CheckResult(name, PASSED, msg, details)


def _verify_migration(s: _Scratch, base: Baseline, old: Schema, new: Schema, details: dict) -> None:
    """Run the implied migration on old: upgrade must give new, and downgrade old again."""
    for key, goal in (("upgrade", new), ("downgrade", old)):
        try:
            s.run_script(details[f"{key}_sql"], key)
        except SQLFailure as f:
            details[f"{key}_verified"] = False
            details[f"{key}_error"] = f"{f.message} (in: {f.statement.strip().splitlines()[0]})"
            return
        left = compare_schemas(goal, reflect_schema(s, base))
        details[f"{key}_verified"] = not left
        if left:
            details[f"{key}_leaves"] = [d["text"] for d in left]
            return
