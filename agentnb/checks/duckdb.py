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

Nothing here raises for bad SQL: statements DuckDB refuses are reported.
The lowering itself lives in :mod:`agentnb.checks.lowering`, the catalog read in
:mod:`agentnb.checks.duckdb_catalog`; their public names are importable from here.

What runs here was written by a model, in the kernel's own process, so DuckDB gets as little as works:

- only the statements that build a schema (tables, types, sequences, indexes, views, comments, ALTER
  TABLE, DROP of those), as the lowering writes them from PostgreSQL's parse tree, never the answer's
  text; everything else (COPY, ATTACH, INSTALL, PRAGMA, CREATE MACRO, INSERT, what PostgreSQL cannot
  parse...) is left out and listed in the row; DuckDB's own parser must then read each lowered
  statement as one CREATE, ALTER or DROP;
- a connection (:func:`connect`) with external access off (no file, no network, no ATTACH, no
  extension install or load), a memory and thread limit, and its configuration locked, so no
  statement can lift any of it;
- no query of the answer's runs: a CREATE TABLE AS becomes an empty table of its query's columns,
  read from a view (bound, never run); and should a statement take long all the same, a time limit
  per statement: past it, a watchdog thread interrupts DuckDB and the row says it was cancelled.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from agentnb.checks.duckdb_catalog import read_schema
from agentnb.checks.gcpause import gc_paused
from agentnb.checks.lowering import Lowered, LoweredStatement, Lowering, lower
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.checks.schema import Schema

__all__ = ["Failure", "LoadResult", "Lowered", "LoweredStatement", "Lowering", "connect", "execute", "load",
           "lower", "read_schema"]

CHECK_NAME = "Schema on DuckDB"
STATEMENT_TIMEOUT = 5.0        # seconds one lowered statement may run before it is cancelled
MEMORY_LIMIT = "512MB"
# The settings of every connection agentnb opens for an answer's DDL; lock_configuration comes last
# and makes the rest final (SET, SET GLOBAL, PRAGMA are refused afterwards).
_LOCKED_DOWN = {
    "enable_external_access": False,          # files, ATTACH, COPY, EXPORT, INSTALL, LOAD, secrets
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "temp_directory": "",                      # never spill to disk
    "threads": 1,                              # on a schema, more threads cost more than they give
}
_DUCKDB_KINDS = ("CREATE", "ALTER", "DROP")    # how DuckDB's parser must read each lowered statement


def connect(*, memory_limit: str = MEMORY_LIMIT):
    """A new in-memory DuckDB connection locked down for a model's DDL: no file or network access,
    no extension install or load, ``memory_limit``, one thread, and its configuration locked so
    that nothing run on it (``SET``, ``PRAGMA``) can change any of that."""
    import duckdb

    return duckdb.connect(config={**_LOCKED_DOWN, "memory_limit": memory_limit, "lock_configuration": True})


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

    def missing_tables(self) -> dict[str, str]:
        """The tables the lowered DDL creates that the DuckDB copy lacks, each with why: the
        statement that failed and DuckDB's message."""
        present = {f"{t.schema}.{t.name}" if t.schema else t.name for t in self.schema.tables}
        failed = {f.statement: f for f in self.failures}
        missing = {}
        for i, st in enumerate(self.lowered.statements, 1):
            if st.kind in ("CreateStmt", "CreateTableAsStmt") and st.table and st.table not in present \
                    and st.table not in missing:
                f = failed.get(i)
                missing[st.table] = (f"statement {f.source} failed: {f.message.splitlines()[0]}" if f
                                     else "dropped by a later statement")
        return missing

    def check(self) -> CheckResult:
        lowered = self.lowered
        details: dict = {
            "tables": len(self.schema.tables),
            "statements": len(lowered.statements),
            "lowerings": [c.to_dict() for c in lowered.changes],
            "failures": [f.to_dict() for f in self.failures],
        }
        if not lowered.statements and not self.failures:
            left = [c.message for c in lowered.changes if c.kind == "left out"]
            return CheckResult(CHECK_NAME, SKIPPED, "no statement DuckDB could run"
                               + ("; " + "; ".join(left[:8]) if left else ""), details)
        kinds = [k for k in lowered.kinds() if k != "left out"]
        summary = f"{len(lowered.changes)} lowering{'s' if len(lowered.changes) != 1 else ''}"
        if kinds:
            shown = ", ".join(kinds[:8]) + ("..." if len(kinds) > 8 else "")
            summary += f" ({shown})"
        left_out = list(dict.fromkeys(c.message.split(" left out:")[0] for c in lowered.changes
                                      if c.kind == "left out"))
        if left_out:
            summary += "; left out: " + ", ".join(left_out[:8]) + ("..." if len(left_out) > 8 else "")
        if self.failures:
            lines = [f"{len(self.failures)} of {len(lowered.statements)} statements failed in DuckDB "
                     f"({summary}):"]
            for f in self.failures:
                first = " ".join(f.sql.split())[:80]
                lines.append(f"statement {f.source} ({first}): {_without_duckdb_position(f.message)}")
            missing = self.missing_tables()
            if missing:
                details["missing_tables"] = missing
                n = len(self.schema.tables)
                lines.append(f"schema_db() holds {n} table{'s' if n != 1 else ''}; missing from it: "
                             + ", ".join(missing))
            return CheckResult(CHECK_NAME, FAILED, "\n".join(lines), details)
        n = len(self.schema.tables)
        message = f"loaded into DuckDB: {n} table{'s' if n != 1 else ''}; {summary}"
        return CheckResult(CHECK_NAME, PASSED, message, details)


# --------------------------------------------------------------------------------------------------
# Loading, contained

def load(pg_ddl: str, con=None, *, timeout: float = STATEMENT_TIMEOUT) -> LoadResult:
    """Lower ``pg_ddl``, run it statement by statement in DuckDB, read the schema back.

    ``con`` is a DuckDB connection (when None, a new locked-down one from :func:`connect`). Failing
    statements are collected with DuckDB's exact message in ``.failures``, and so is a statement
    cancelled after ``timeout`` seconds; nothing is raised for bad SQL.
    """
    with gc_paused():
        lowered = lower(pg_ddl)
        if con is None:
            con = connect()
        failures = execute(con, lowered, timeout=timeout)
        return LoadResult(con, lowered, failures, read_schema(con, lowered))


def execute(con, lowered: Lowered, *, timeout: float = STATEMENT_TIMEOUT) -> list[Failure]:
    """Run the lowered statements on ``con``; every failing statement with DuckDB's exact message.

    First all of them in one transaction, in one call (statement by statement when a CREATE TABLE AS,
    lowered to a view of its query, must then become an empty table of the view's columns). When a
    statement fails, nothing stays and they run again one by one, each on its own, to collect every
    failure. No lowered statement runs a query, but should one take long all the same, a statement
    (or that one call) may run ``timeout`` seconds: past it a watchdog interrupts DuckDB and the
    statement is reported as cancelled. On a connection whose configuration is not locked, the
    statements run on one DuckDB thread (on an empty schema, DuckDB's task scheduling costs more than
    it gives) and the thread count is put back afterwards."""
    import duckdb

    if not lowered.statements:
        return []
    refused, parsed = _refused_by_duckdbs_parser(con, lowered)
    threads = _one_thread(con, duckdb)
    try:
        with _Watchdog(con, timeout) as watchdog:
            at, failure = _run_in_transaction(con, lowered, refused, parsed, watchdog, duckdb)
            if at is None:
                return list(refused.values())
            failures = []
            for i, st in enumerate(lowered.statements, 1):
                if i in refused:
                    failures.append(refused[i])
                elif i == at:
                    failures.append(failure)
                else:
                    f = _run_one(con, i, st, watchdog, duckdb)
                    if f is not None:
                        failures.append(f)
            return failures
    finally:
        if threads is not None and threads != 1:
            try:
                con.execute(f"SET threads = {int(threads)}")
            except duckdb.Error:
                pass


def _one_thread(con, duckdb):
    """The connection's thread count, set to 1 for the load (None: its configuration is locked)."""
    try:
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        if threads != 1:
            con.execute("SET threads = 1")
        return threads
    except duckdb.Error:
        return None


def _refused_by_duckdbs_parser(con, lowered: Lowered) -> tuple[dict[int, Failure], list | None]:
    """The lowered statements DuckDB's own parser does not read as one CREATE, ALTER or DROP each (a
    second lock behind the lowering's allowlist): they are reported, never run. When none is, also
    the statements as DuckDB parsed them, one per lowered statement: those are what runs (None when
    the script had to be read statement by statement)."""
    import duckdb

    def kinds(sql):
        return [st.type.name for st in con.extract_statements(sql)]

    try:
        whole = con.extract_statements(lowered.sql)
        if len(whole) == len(lowered.statements) and all(st.type.name in _DUCKDB_KINDS for st in whole):
            return {}, whole
    except duckdb.Error:
        pass
    refused = {}
    for i, st in enumerate(lowered.statements, 1):
        try:
            found = kinds(st.sql)
        except duckdb.Error:
            continue            # a syntax error: running it reports DuckDB's message
        if len(found) != 1 or found[0] not in _DUCKDB_KINDS:
            refused[i] = Failure(i, st.source, st.sql, "refused: DuckDB reads this lowered statement as "
                                 f"{', '.join(found) or 'nothing'}, not one {'/'.join(_DUCKDB_KINDS)}",
                                 "Refused")
    return refused, None


def _run_in_transaction(con, lowered: Lowered, refused: dict, parsed: list | None, watchdog, duckdb):
    """Every statement in one transaction: ``(None, None)`` when all ran and were committed, else
    ``(position, Failure)`` of the first that failed (0, None when no transaction could start: the
    caller's connection is already in one), with nothing changed. ``parsed``: the statements as
    DuckDB's parser read them (run as they are, not parsed again)."""
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.Error:
        return 0, None
    if parsed is not None and not any(st.kind == "CreateTableAsStmt" for st in lowered.statements):
        watchdog.arm()       # the time limit of one statement, for them all
        try:
            for statement in parsed:
                con.execute(statement)
            con.execute("COMMIT")
            return None, None
        except duckdb.Error:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            return 0, None
        finally:
            watchdog.disarm()
    for i, st in enumerate(lowered.statements, 1):
        if i in refused:
            continue
        failure = _run_one(con, i, st, watchdog, duckdb)
        if failure is not None:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            return i, failure
    try:
        con.execute("COMMIT")
        return None, None
    except duckdb.Error:
        return 0, None


def _run_one(con, i: int, st: LoweredStatement, watchdog, duckdb) -> Failure | None:
    watchdog.arm()
    try:
        con.execute(st.sql)
        if st.kind == "CreateTableAsStmt":
            _view_to_empty_table(con, st.table)
        return None
    except duckdb.InterruptException:
        return Failure(i, st.source, st.sql, f"cancelled: still running after {watchdog.limit:g} s "
                       "(the time limit of one DuckDB statement)", "Cancelled")
    except duckdb.Error as e:
        return Failure(i, st.source, st.sql, str(e), type(e).__name__)
    finally:
        watchdog.disarm()


def _view_to_empty_table(con, key: str) -> None:
    """A CREATE TABLE AS arrives as a view of its query (bound, never run): the view makes way for
    an empty table of the same columns."""
    schema, _, name = key.rpartition(".")
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = ? "
        "ORDER BY column_index", [name, schema or "main"]).fetchall()
    qualified = (_quote(schema) + "." if schema else "") + _quote(name)
    con.execute(f"DROP VIEW {qualified}")
    con.execute(f"CREATE TABLE {qualified} (" + ", ".join(f"{_quote(c)} {t}" for c, t in columns) + ")")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Watchdog:
    """One thread that interrupts the connection when a statement runs past ``limit`` seconds
    (``con.interrupt()`` is DuckDB's own cancel; an interrupt that lands between statements is
    harmless: the next one starts afresh)."""

    def __init__(self, con, limit: float):
        self.con, self.limit = con, limit
        self._deadline: float | None = None
        self._stopped = False
        self._idle = False          # the thread waits with no deadline: arm() must wake it
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._watch, name="agentnb-duckdb-watchdog", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        with self._cv:
            self._stopped = True
            self._cv.notify()
        self._thread.join()

    def arm(self):
        with self._cv:
            self._deadline = time.monotonic() + self.limit
            if self._idle:      # else it wakes at an earlier deadline and waits on for this one
                self._cv.notify()

    def disarm(self):
        with self._cv:
            self._deadline = None

    def _watch(self):
        with self._cv:
            while not self._stopped:
                if self._deadline is None:
                    self._idle = True
                    self._cv.wait()
                    self._idle = False
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cv.wait(left)
                    continue
                self._deadline = None
                self.con.interrupt()


_POSITION = re.compile(r"\n*LINE \d+:[^\n]*(?:\n[ ^]*\^[ ^]*)?\s*$")


def _without_duckdb_position(message: str) -> str:
    """DuckDB's message without its ``LINE n:`` quote and caret: they point into the rewritten statement,
    which the reader never sees (the row names the answer's statement by its number instead). The full
    message stays in the row's details."""
    return _POSITION.sub("", message).rstrip() or message
