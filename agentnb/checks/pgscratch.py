"""One check's transaction on PostgreSQL: the answer's statements run one at a time, bounded, and undone.

``scratch()`` connects as the sandbox role (``pgsandbox``: a role owning one scratch database and
nothing else) and opens one transaction that is always rolled back: PostgreSQL's DDL is transactional
(CREATE TYPE, CREATE EXTENSION, CREATE INDEX, CREATE SCHEMA all roll back), so checks never see each
other, and the script finds an empty database of its own with its own ``public`` schema.

``run_script`` cuts the script with PostgreSQL's own parser (pglast) and sends one statement per call
over the extended protocol, which the server refuses to run more than one statement from: no text in
an answer can end the check's transaction. What cannot run in a transaction is handled, and noted in
the row's details: transaction control (``BEGIN``, ``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``, ``SET
TRANSACTION``...) is reported and not run; ``CREATE INDEX CONCURRENTLY`` / ``DROP INDEX
CONCURRENTLY`` / ``REINDEX ... CONCURRENTLY`` run without ``CONCURRENTLY`` (same effect on the
schema); ``CREATE/DROP DATABASE``, ``VACUUM``, tablespaces and ``COPY ... FROM STDIN`` are skipped;
``ALTER SYSTEM`` fails the row.

Limits an answer cannot lift: ``statement_timeout`` is set on the role and again for the transaction,
but any role may ``SET statement_timeout = 0``, so a guard thread on the client side cancels the running
statement when the check's SQL has run ``TIME_LIMIT_SECONDS`` in all, or when the scratch database grows
past ``DISK_LIMIT_MB`` (table files are not temporary files: ``temp_file_limit`` does not bound them).
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from agentnb.checks.pgserver import ConnectionFailed, PostgresServer, get_server, load_drivers

__all__ = ["SQLFailure", "Scratch", "scratch", "TIME_LIMIT_SECONDS", "DISK_LIMIT_MB"]

TIME_LIMIT_SECONDS = 10.0       # a check's SQL, all statements together
DISK_LIMIT_MB = 256             # the scratch database's size while a check runs
_GUARD_IDLE_SECONDS = 1.0       # statements shorter than this never cost a size query


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
}
# refused, failing the row: no schema needs them, and they reach past the check's database
_REFUSED = {
    "AlterSystemStmt": "ALTER SYSTEM changes the server's configuration, which no check may do",
}
# statements that may return rows: sent as text (some types have no binary output); the others ask for
# binary results, which makes psycopg use the extended protocol too (one statement per call, no more)
_ROWS = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "ExplainStmt",
         "VariableShowStmt", "FetchStmt", "ExecuteStmt", "CallStmt"}


# DDL on tables that cannot hold rows yet runs in batches of up to BATCH statements, one round trip each:
# every piece was read by PostgreSQL's own parser as exactly one statement of these kinds, and batching
# ends for good at the first statement of any other kind (rows may exist from then on, and a setting
# such as standard_conforming_strings or client_encoding could make the server cut the text elsewhere)
BATCH = 200
_BATCHABLE = {"CreateStmt", "IndexStmt", "AlterTableStmt", "CreateSeqStmt", "AlterSeqStmt", "CommentStmt",
              "CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt", "ViewStmt", "CreateSchemaStmt"}
# settings a pg_dump header makes that change nothing about how the server reads the text
_HARMLESS_SETTINGS = {"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
                      "client_min_messages", "check_function_bodies", "xmloption", "row_security",
                      "default_tablespace", "default_table_access_method", "search_path", "default_with_oids",
                      "transaction_timeout"}


def _keeps_batching(node) -> bool:
    """A statement that leaves the tables empty and the server's reading of the text as it was."""
    kind = type(node).__name__
    if kind == "VariableSetStmt":
        name = (node.name or "").lower()
        values = [str(getattr(getattr(a, "val", None), "sval", "")).lower() for a in (node.args or ())]
        if name == "standard_conforming_strings":
            return values == ["on"]
        if name == "client_encoding":          # the connection's own: psycopg's text stays as it is
            return values in (["utf8"], ["utf-8"])
        return name in _HARMLESS_SETTINGS
    if kind == "SelectStmt":           # pg_dump's SELECT pg_catalog.set_config('search_path', '', false)
        try:
            [target] = node.targetList
            call = target.val
            name = ".".join(n.sval for n in call.funcname)
            return (name in ("set_config", "pg_catalog.set_config") and node.fromClause is None
                    and getattr(call.args[0].val, "sval", None) == "search_path")
        except (AttributeError, TypeError, ValueError, IndexError):
            return False
    return False


class _Guard:
    """Cancels the check's running statement past its time, or when its database grows too big."""

    def __init__(self, conn, box, seconds: float, disk_mb: int):
        self.conn, self.box, self.seconds, self.disk_mb = conn, box, seconds, disk_mb
        self.deadline = time.monotonic() + seconds
        self.tripped: str | None = None            # "time" | "disk"
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="agentnb-postgres-guard", daemon=True)
        self._thread.start()

    def message(self) -> str:
        if self.tripped == "disk":
            return (f"size limit: the check's database grew past {self.disk_mb} MB, and its statement "
                    "was stopped")
        return f"time limit: the check's SQL ran past {self.seconds:g} s and was stopped"

    def _watch(self) -> None:
        if self._done.wait(min(_GUARD_IDLE_SECONDS, self.seconds)):
            return
        monitor = None
        try:
            while not self._done.wait(max(0.0, min(0.25, self.deadline - time.monotonic()))):
                if time.monotonic() >= self.deadline:
                    return self._trip("time")
                try:
                    monitor = monitor or self.box.connect(autocommit=True)
                    size = monitor.execute("SELECT pg_database_size(current_database())").fetchone()[0]
                except Exception:  # noqa: BLE001 - no size to read: the time limit still holds
                    continue
                if size > self.disk_mb * 1024 * 1024:
                    return self._trip("disk")
        finally:
            if monitor is not None:
                monitor.close()

    def _trip(self, why: str) -> None:
        with self._lock:
            if self._done.is_set():
                return
            self.tripped = why
            try:
                self.conn.cancel_safe(timeout=5)
            except Exception:  # noqa: BLE001 - statement_timeout remains, and the check stops at the next statement
                pass

    def close(self) -> None:
        with self._lock:
            self._done.set()
        self._thread.join(1)


class Scratch:
    """One check's connection and transaction, in the sandbox's database (``schema``: where it lands)."""

    def __init__(self, conn, schema: str = "public", guard: _Guard | None = None):
        self.conn = conn
        self.schema = schema
        self.guard = guard
        self.notes: list[dict] = []      # statements skipped or rewritten, for details
        self.sa = None                   # the SQLAlchemy Connection over ``conn``, same transaction
        self._binary = conn.cursor(binary=True)
        self._text = conn.cursor()

    def execute(self, query: str, params: Any = None):
        return self.conn.execute(query, params)

    def set_path(self, *schemas: str) -> None:
        path = ", ".join(_quote_ident(s) for s in schemas) or "pg_catalog"
        self.conn.execute(f"SET LOCAL search_path TO {path}")

    def reset_path(self) -> None:
        """The database's default search path, as the next script would find it in a new session."""
        self.conn.execute("SET LOCAL search_path TO DEFAULT")

    def run_script(self, sql: str, phase: str = "") -> int:
        """Run every statement of ``sql``; raise ``SQLFailure`` at the first the server refuses."""
        from pglast import parser

        from agentnb.checks.sql import line_col
        try:
            statements = _statements(sql)
        except parser.ParseError as exc:
            index = exc.args[1] if len(exc.args) > 1 else None
            line, col = line_col(sql, index) if index is not None else (None, None)
            raise SQLFailure(exc.args[0], sql.splitlines()[line - 1] if line else sql, line, col,
                             sqlstate="42601") from None
        count = 0
        batch: list[tuple[str, Any, Any]] = []
        batching = True
        for span, node in statements:
            if type(node).__name__ in _REFUSED:
                raise SQLFailure(_REFUSED[type(node).__name__], span.text, span.line, sqlstate="42501")
            text, skip = _prepare(span.text, node)
            if skip:
                self.notes.append({"phase": phase, "line": span.line, "statement": _first_line(span.text),
                                   "action": "skipped", "reason": skip})
                continue
            if text != span.text:
                self.notes.append({"phase": phase, "line": span.line, "statement": _first_line(span.text),
                                   "action": "ran without CONCURRENTLY",
                                   "reason": "CONCURRENTLY cannot run inside a transaction"})
            count += 1
            if batching and type(node).__name__ in _BATCHABLE:
                batch.append((text, node, span))
                if len(batch) >= BATCH:
                    self._run_batch(batch, sql)
                    batch = []
                continue
            if batch:
                self._run_batch(batch, sql)
                batch = []
            batching = batching and node is not None and _keeps_batching(node)
            self._run(text, node, sql, span)
        if batch:
            self._run_batch(batch, sql)
        return count

    def _run_batch(self, batch: list[tuple[str, Any, Any]], sql: str) -> None:
        """Several statements in one round trip, under a savepoint; when one fails, they run again one
        by one from the savepoint, so the failure is the statement's own, with its own position."""
        if len(batch) == 1:
            self._run(batch[0][0], batch[0][1], sql, batch[0][2])
            return
        first = batch[0][2]
        if self.guard is not None and self.guard.tripped:
            raise SQLFailure(self.guard.message(), first.text, first.line, sqlstate="57014")
        body = ";\n".join(text for text, _, _ in batch)
        try:
            self._text.execute(f"SAVEPOINT agentnb_batch;\n{body};\nRELEASE SAVEPOINT agentnb_batch")
            return
        except Exception as exc:
            if self.guard is not None and self.guard.tripped:     # no rerun after the guard's cancel
                raise self._failure(exc, sql, first) from None
        self._text.execute("ROLLBACK TO SAVEPOINT agentnb_batch")
        self._text.execute("RELEASE SAVEPOINT agentnb_batch")
        for text, node, span in batch:
            self._run(text, node, sql, span)

    def _run(self, text: str, node, sql: str, span) -> None:
        if self.guard is not None and self.guard.tripped:
            raise SQLFailure(self.guard.message(), span.text, span.line, sqlstate="57014")
        try:
            if type(node).__name__ in _ROWS:
                with self.conn.pipeline():       # text results, still the extended protocol
                    self._text.execute(text)
            else:
                self._binary.execute(text)
        except Exception as exc:
            raise self._failure(exc, sql, span) from None

    def _failure(self, exc, sql: str, span) -> SQLFailure:
        from agentnb.checks.sql import line_col
        diag = getattr(exc, "diag", None)
        if diag is None or not diag.sqlstate:       # refused by psycopg itself (COPY ... TO STDOUT...)
            return SQLFailure(_first_line(str(exc)) or type(exc).__name__, span.text, span.line)
        message = diag.message_primary or str(exc).splitlines()[0]
        if diag.sqlstate == "57014":                # the guard's cancel, or statement_timeout
            message = (self.guard.message() if self.guard is not None and self.guard.tripped
                       else f"time limit: a statement ran past {TIME_LIMIT_SECONDS:g} s and was stopped")
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


def _statements(sql: str) -> list[tuple[Any, Any]]:
    """``(span, parse node or None)`` per statement: cut by PostgreSQL's parser (its scanner when the
    script does not parse), each piece then read by its parser; a piece the parser reads as several
    statements is cut again where it says."""
    from pglast import parser

    from agentnb.checks.sql import Statement, line_col, statement_spans

    out = []
    for span in statement_spans(sql):
        try:
            # the kind first, from the parser's JSON (C only): a Python tree only where a field is read
            js = parser.parse_sql_json(span.text)
            found = _ONE_KIND.match(js)
            if found is not None and '"stmt_location":' not in js:     # one statement (only a second has it)
                kind = found.group(1)
                if kind in _READ_BY_KIND or (kind == "IndexStmt" and '"concurrent":true' not in js):
                    out.append((span, _by_kind(kind)))
                    continue
            raws = parser.parse_sql(span.text)
        except parser.ParseError:
            out.append((span, None))      # the server will say what is wrong, with its position
            continue
        if len(raws) <= 1:
            out.append((span, raws[0].stmt if raws else None))
            continue
        for raw in raws:
            end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(span.text)
            piece = span.text[raw.stmt_location:end]
            lead = len(piece) - len(piece.lstrip())
            start = span.start + raw.stmt_location + lead
            text = piece.strip()
            out.append((Statement(text, start, start + len(text), line_col(sql, start)[0]), raw.stmt))
    return out


# the parser's JSON of one statement begins with its kind (a key never holds a quote: see the JSON)
_ONE_KIND = re.compile(r'\{"version":\d+,"stmts":\[\{"stmt":\{"(\w+)":')
# kinds nothing here reads a field of: their node stands for its kind alone (building pglast's Python
# tree is most of the cost of reading a large schema); an IndexStmt too, unless CONCURRENTLY (a key
# in the JSON: text inside a string has its quotes escaped, so it cannot read as one)
_READ_BY_KIND = {"CreateStmt", "AlterTableStmt", "CreateSeqStmt", "AlterSeqStmt", "CommentStmt",
                 "CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt", "ViewStmt"}
_KIND_TYPES: dict[str, type] = {}


def _by_kind(kind: str):
    """A stand-in node whose type is named ``kind``."""
    if kind not in _KIND_TYPES:
        _KIND_TYPES[kind] = type(kind, (), {"__slots__": (), "__doc__": f"a {kind}, read by its kind only"})
    return _KIND_TYPES[kind]()


def _prepare(text: str, node) -> tuple[str, str | None]:
    if node is None:
        return text, None
    kind = type(node).__name__
    if kind == "TransactionStmt":
        return text, "transaction control: the check runs the script in its own transaction, which it rolls back"
    if kind == "VariableSetStmt" and (node.name or "").lower() == "client_encoding":
        return text, "the connection's encoding is the check's (UTF8): an answer does not change how it reads replies"
    if kind in _NO_TRANSACTION:
        return text, _NO_TRANSACTION[kind]
    if kind == "VacuumStmt" and getattr(node, "is_vacuumcmd", True):
        return text, "VACUUM cannot run inside a transaction"
    if kind == "CopyStmt" and node.filename is None and not node.is_program:
        return text, "COPY ... FROM STDIN / TO STDOUT: a check sends and reads no data"
    concurrent = False
    if kind in ("IndexStmt", "DropStmt"):
        concurrent = bool(getattr(node, "concurrent", False))
    elif kind == "ReindexStmt":
        concurrent = any(getattr(p, "defname", "") == "concurrently" for p in (node.params or ()))
    if concurrent:
        from pglast import parser

        # blank the keyword out: same length, so the server's positions still match the script
        for tok in parser.scan(text):
            if tok.name == "CONCURRENTLY":
                text = text[:tok.start] + " " * (tok.end - tok.start + 1) + text[tok.end + 1:]
    return text, None


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
def scratch(server: PostgresServer | None = None, *, sqlalchemy: bool = True) -> Iterator[Scratch]:
    """A connection as the sandbox role, in a transaction that is always rolled back.

    ``.conn`` is the psycopg connection the scripts run on, ``.sa`` the SQLAlchemy ``Connection`` over
    it, in the same transaction (reflection through the Inspector, ``MetaData``, Alembic).
    ``sqlalchemy`` is kept for callers; both are always there. Raises ``NoPostgresError`` (a
    ``SandboxUnavailable``) when a user's server cannot give a sandbox, ``ConnectionFailed`` when
    the server cannot be reached.
    """
    from agentnb.checks import pgsandbox

    server = server or get_server()
    load_drivers()
    import sqlalchemy.exc

    with pgsandbox.sandbox(server) as box:
        try:
            sa_conn = box.engine().connect()
        except sqlalchemy.exc.OperationalError as err:
            raise ConnectionFailed(server, err) from None
        conn = sa_conn.connection.driver_connection
        guard = _Guard(conn, box, TIME_LIMIT_SECONDS, DISK_LIMIT_MB)
        try:
            conn.execute(f"SET LOCAL statement_timeout = {int(TIME_LIMIT_SECONDS * 1000)}")
            s = Scratch(conn, "public", guard)
            s.sa = sa_conn
            yield s
        finally:
            guard.close()
            try:
                conn.rollback()
            except Exception:  # noqa: BLE001 - a late cancel can hit the rollback: closing rolls back too
                pass
            finally:
                sa_conn.close()
