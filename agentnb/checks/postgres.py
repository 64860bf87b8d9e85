"""Checks that run SQL on a real PostgreSQL server: schemas, migration round trips, schema diffs.

Where the server comes from (``get_server``), first that answers:

1. ``AGENTNB_POSTGRES_URL``: used as is, nothing is started.
2. The machine's PostgreSQL binaries (``pg_config --bindir``, ``/usr/lib/postgresql/*/bin`` newest
   first, ``PATH``): a throwaway cluster under the temp dir, ``initdb -A trust --no-sync``, started
   with ``fsync=off`` on a free port of 127.0.0.1 with its socket inside the data directory; as root
   it runs as the ``postgres`` user through ``runuser``. Stopped and deleted at exit.
3. pgserver (PyPI, bundles PostgreSQL 16), if importable.

Measured on the project's machines (2 cores; ``bench/bench_postgres.py``), cold start to a working
``select 1``: machine binaries (PostgreSQL 15) 0.75-0.9 s (initdb 0.6 s, start 0.12 s);
pgserver 0.75-0.85 s (both 1.0-1.6 s when the machine is busy). The machine's binaries come first:
as fast, they have the contrib extensions (pgserver's wheel has none: ``CREATE EXTENSION pgcrypto``
/ ``citext`` fail there), and they change nothing on the machine, while pgserver, as root, creates
a system user ``pgserver`` and changes permissions on the folders above its binaries and data. It
is the fallback where no PostgreSQL is installed. Warm checks (30-table schema, busy machine):
check_schema 0.13-0.16 s, check_migration 0.18-0.23 s, diff_schemas 0.55-0.8 s (Alembic reflection
and running the implied migration included); most of it is the server executing the DDL. One
reflection through SQLAlchemy's Inspector takes 20-30 ms (reading pg_catalog by hand took 5 ms:
check_schema reflects once, check_migration three times, diff_schemas four).

Every check runs in one transaction that is always rolled back, inside a fresh schema
(``agentnb_check_<hex>``) set with ``SET LOCAL search_path``: PostgreSQL's DDL is transactional
(CREATE TYPE, CREATE EXTENSION, CREATE INDEX, CREATE SCHEMA all roll back), so checks never see
each other and a user's server (``AGENTNB_POSTGRES_URL``) keeps nothing. Statements that cannot run
in a transaction: ``CREATE INDEX CONCURRENTLY`` / ``DROP INDEX CONCURRENTLY`` / ``REINDEX ...
CONCURRENTLY`` run without ``CONCURRENTLY`` (same effect on the schema; noted in the details);
``CREATE/DROP DATABASE``, ``VACUUM``, tablespaces and ``ALTER SYSTEM`` are skipped and named in the
details; ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` in a script are ignored. Reflection goes through
SQLAlchemy's ``Inspector`` on the same connection and transaction (the script's uncommitted objects
are visible to it), one query per kind of object for a whole schema (``get_multi_*``), types spelled
as PostgreSQL spells them (``bigint``, ``text[]``, ``numeric(8,2)``, ``timestamp with time zone``).
``pg_catalog`` is read only for what the Inspector cannot say: which objects the script made (by oid),
partitions, exclusion constraints, and the names of types SQLAlchemy does not know (``xml``, ...).
"""

from __future__ import annotations

import atexit
import functools
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from agentnb.checks.result import FAILED, PASSED, CheckResult
from agentnb.checks.schema import Column, ForeignKey, Index, Schema, Table
from agentnb.errors import AgentnbError

__all__ = [
    "NoPostgresError", "PostgresServer", "get_server", "check_schema", "check_migration",
    "diff_schemas", "compare_schemas", "reflect_schema", "SQLFailure", "ConnectionFailed",
]

ENV_URL = "AGENTNB_POSTGRES_URL"
STATEMENT_TIMEOUT_MS = 10_000


class NoPostgresError(AgentnbError):
    """No PostgreSQL server could be had for the checks that need one."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        lines = ["No PostgreSQL server for the SQL checks:"]
        lines += [f"- {r}" for r in reasons]
        lines.append(f"Fix: set {ENV_URL}=postgresql://user:password@host:port/dbname, or "
                     "`pip install pgserver` (bundles PostgreSQL), or install PostgreSQL "
                     "(e.g. `apt-get install postgresql`).")
        super().__init__("\n".join(lines))


class ConnectionFailed(AgentnbError):
    """A server was named (or started) but a connection to it failed."""

    def __init__(self, server: "PostgresServer", error: Exception):
        where = f"{ENV_URL} ({_hide_password(server.url)})" if server.kind == "url" else server.description
        detail = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
        fix = (f"check {ENV_URL}, or unset it to let agentnb start its own server" if server.kind == "url"
               else "the embedded server stopped; restart the kernel to start a new one")
        super().__init__(f"could not connect to PostgreSQL at {where}: {detail}. Fix: {fix}.")


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


# --------------------------------------------------------------------------------------------------
# The server

@dataclass
class PostgresServer:
    """A server the checks can use. ``url`` is for SQLAlchemy (``postgresql+psycopg://...``)."""

    url: str
    kind: str                       # "url" (AGENTNB_POSTGRES_URL), "system", "pgserver"
    description: str = ""
    start_seconds: float = 0.0
    _stop: Any = field(default=None, repr=False)
    _engine: Any = field(default=None, repr=False)

    @property
    def conninfo(self) -> str:
        """The URL as libpq / psycopg take it."""
        from sqlalchemy.engine import make_url
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    def connect(self, **kwargs):
        """A new psycopg connection (not autocommit); the caller closes it."""
        import psycopg
        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(self.conninfo, **kwargs)

    def engine(self):
        """A SQLAlchemy engine on this server (NullPool: every connection is closed after use)."""
        if self._engine is None:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool
            self._engine = create_engine(self.url, poolclass=NullPool)
        return self._engine

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._stop is not None:
            stop, self._stop = self._stop, None
            stop()


_server: PostgresServer | None = None
_failure: NoPostgresError | None = None
_server_lock = threading.Lock()


def get_server() -> PostgresServer:
    """The server for this process: ``AGENTNB_POSTGRES_URL``, else one started on first use.

    Raises ``NoPostgresError`` (saying why, and what to do) when none can be had.
    """
    global _server, _failure
    url = os.environ.get(ENV_URL, "").strip()
    if url:
        return PostgresServer(_sqlalchemy_url(url), "url", f"{ENV_URL}")
    with _server_lock:
        if _server is not None and _server._stop is not None:
            return _server
        if _failure is not None:      # starting failed once: initdb and pg_ctl again would fail alike
            raise _failure
        reasons: list[str] = []
        for starter in (_start_system, _start_pgserver):
            try:
                server = starter(reasons)
            except Exception as exc:  # a starter that broke: say so and try the next
                reasons.append(f"{starter.__name__[7:]}: {type(exc).__name__}: {exc}")
                continue
            if server is not None:
                _server = server
                atexit.register(server.stop)
                return server
        _failure = NoPostgresError(reasons)
        raise _failure


def warm_up() -> threading.Thread | None:
    """Start the embedded server in the background (a live answer streams for seconds, a replay
    imports the SDK meanwhile), so that the first check finds it ready. Failures are not lost: the
    check that needs the server calls get_server() again and reports why in its row."""
    if os.environ.get(ENV_URL, "").strip() or (_server is not None and _server._stop is not None):
        return None

    def start():
        try:
            get_server()
        except NoPostgresError:
            pass    # reported by the check itself, with the reasons

    thread = threading.Thread(target=start, name="agentnb-postgres-warm-up")
    thread.start()
    return thread


def _sqlalchemy_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def find_bindirs() -> list[str]:
    """Folders holding initdb, pg_ctl and postgres: pg_config's, /usr/lib/postgresql/*, PATH."""
    found: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=5)
            if out.returncode == 0:
                found.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: str) -> tuple:
        m = re.search(r"/(\d+)(?:\.(\d+))?/bin$", path)
        return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)

    found += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    found += sorted(glob.glob("/usr/pgsql-*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        found.append(os.path.dirname(os.path.realpath(initdb)))
    result = []
    for d in found:
        d = os.path.realpath(d)
        if d not in result and all(os.access(os.path.join(d, x), os.X_OK)
                                   for x in ("initdb", "pg_ctl", "postgres")):
            result.append(d)
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _traversable_by_others(path: str) -> bool:
    path = os.path.realpath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _start_system(reasons: list[str]) -> PostgresServer | None:
    bindirs = find_bindirs()
    if not bindirs:
        reasons.append("no PostgreSQL binaries (initdb, pg_ctl) found via pg_config, "
                       "/usr/lib/postgresql/*/bin or PATH")
        return None
    bindir = bindirs[0]
    prefix: list[str] = []
    owner = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            reasons.append(f"{bindir}: running as root and there is no 'postgres' user to run "
                           "the server as (PostgreSQL refuses root)")
            return None
        runuser = shutil.which("runuser")
        if not runuser:
            reasons.append(f"{bindir}: running as root and `runuser` is missing")
            return None
        prefix = [runuser, "-u", "postgres", "--"]

    parent = tempfile.gettempdir()
    if owner is not None and not _traversable_by_others(parent):
        parent = "/tmp"
    t0 = time.perf_counter()
    top = tempfile.mkdtemp(prefix="agentnb-pg-", dir=parent)   # mode 0700
    data = os.path.join(top, "data")
    if owner is not None:
        try:
            os.chown(top, owner.pw_uid, owner.pw_gid)
        except OSError as exc:
            shutil.rmtree(top, ignore_errors=True)
            reasons.append(f"{bindir}: cannot hand {top} to the postgres user ({exc})")
            return None

    def run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(prefix + args, capture_output=True, text=True, timeout=timeout)

    def cleanup() -> None:
        shutil.rmtree(top, ignore_errors=True)

    try:
        r = run([os.path.join(bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                 "--no-sync", "-E", "UTF8", "--locale=C"], 60)
        if r.returncode != 0:
            reasons.append(f"{bindir}/initdb failed: {(r.stderr or r.stdout).strip()[-500:]}")
            cleanup()
            return None
        for _ in range(3):   # a port taken between the probe and the start: try another
            port = _free_port()
            opts = (f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off")
            r = run([os.path.join(bindir, "pg_ctl"), "-D", data, "-l", os.path.join(data, "server.log"),
                     "-o", opts, "-w", "-t", "30", "start"], 60)
            if r.returncode == 0:
                break
        else:
            log = ""
            try:
                with open(os.path.join(data, "server.log")) as f:
                    log = f.read()[-500:]
            except OSError:
                pass
            reasons.append(f"{bindir}/pg_ctl start failed: {(r.stderr or r.stdout).strip()[-300:]} {log}")
            cleanup()
            return None
    except (OSError, subprocess.SubprocessError) as exc:
        reasons.append(f"{bindir}: {type(exc).__name__}: {exc}")
        cleanup()
        return None

    pid = os.getpid()

    def stop() -> None:
        if os.getpid() != pid:    # a forked child inherited the atexit hook: not ours to stop
            return
        try:
            run([os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], 30)
        except (OSError, subprocess.SubprocessError):
            pass
        cleanup()

    version = os.path.basename(os.path.dirname(bindir))
    return PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", "system",
                          f"PostgreSQL {version} from {bindir}, throwaway cluster in {top}",
                          time.perf_counter() - t0, stop)


def _start_pgserver(reasons: list[str]) -> PostgresServer | None:
    try:
        import pgserver
    except ImportError:
        reasons.append("pgserver is not installed")
        return None
    t0 = time.perf_counter()
    top = tempfile.mkdtemp(prefix="agentnb-pgserver-")
    try:
        srv = pgserver.get_server(top, cleanup_mode="delete")
    except BaseException:
        shutil.rmtree(top, ignore_errors=True)      # the caller says why; the folder must not stay
        raise
    pid = os.getpid()

    def stop() -> None:
        if os.getpid() == pid:
            srv.cleanup()
            shutil.rmtree(top, ignore_errors=True)

    return PostgresServer(_sqlalchemy_url(srv.get_uri()), "pgserver",
                          f"pgserver (bundled PostgreSQL) in {top}", time.perf_counter() - t0, stop)


# --------------------------------------------------------------------------------------------------
# Running scripts in a rolled-back transaction

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


# --------------------------------------------------------------------------------------------------
# Reflection through SQLAlchemy's Inspector
#
# ``sqlalchemy.inspect(s.sa)`` on the check's own connection, inside its transaction: the script's
# uncommitted tables and types are visible to it. The ``get_multi_*`` methods reflect a whole schema
# in one query each (the per-table methods made one query per table and method: 89 ms against 21 ms
# for 30 tables). pg_catalog is read only for what the Inspector cannot say, each marked below.

@dataclass
class _Baseline:
    tables: list[int]
    types: list[int]


def _baseline(s: _Scratch) -> _Baseline:
    """The tables and enum types there before the script, by oid (pg_catalog: the Inspector knows
    objects by name only, so it cannot tell a user server's own tables, or one dropped and created
    again, from what the script made)."""
    row = s.execute("SELECT array(SELECT oid FROM pg_class WHERE relkind IN ('r','p')),"
                    " array(SELECT oid FROM pg_type WHERE typtype = 'e')").fetchone()
    return _Baseline([int(x) for x in row[0]], [int(x) for x in row[1]])


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


def reflect_schema(s: _Scratch, baseline: _Baseline, home: str | None = None) -> Schema:
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
    s.set_path(home)
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


def _type_names(s: _Scratch, found: dict[tuple[str, str], Table], untyped: list[tuple[str, str, str]]) -> None:
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


def schema_summary(schema: Schema) -> str:
    n_t = len(schema.tables)
    n_fk = sum(len(t.foreign_keys) for t in schema.tables)
    n_ix = sum(len(t.indexes) for t in schema.tables)
    parts = [_plural(n_t, "table"), _plural(n_fk, "foreign key"), _plural(n_ix, "index", "indexes")]
    if schema.enums:
        parts.append(_plural(len(schema.enums), "enum"))
    return ", ".join(parts)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# --------------------------------------------------------------------------------------------------
# Comparing two reflected schemas

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
        add("table", "added", f"table {name} added ({_plural(len(t.columns), 'column')})", table=name)
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


# --------------------------------------------------------------------------------------------------
# The checks

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
def _session(server: PostgresServer) -> Iterator[tuple[_Scratch, _Baseline]]:
    """A scratch transaction, and what the database held before the check's scripts."""
    with scratch(server) as s:
        yield s, _baseline(s)


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
    msg = f"up: {_plural(len(up_changes), 'change')}; down restores the schema"
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
                new_metadata = _reflect_metadata(s)
                s.execute("ROLLBACK TO SAVEPOINT agentnb_old")
                s.run_script(old_ddl, "old")
                details.update(_alembic_migration(s, new_metadata, changes))
            except Exception as exc:   # rendering is a bonus: the differences stand on their own
                details["migration_error"] = f"{type(exc).__name__}: {exc}"
            else:
                _verify_migration(s, base, old, new, details)
            s.notes = notes
    details["seconds"] = round(time.perf_counter() - t0, 4)
    msg = _plural(len(changes), "difference") if changes else "no differences"
    return CheckResult(name, PASSED, msg, details)


def _verify_migration(s: _Scratch, base: _Baseline, old: Schema, new: Schema, details: dict) -> None:
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


def _reflect_metadata(s: _Scratch):
    from sqlalchemy import MetaData
    metadata = MetaData()
    metadata.reflect(s.sa, schema=s.schema)
    return metadata


def _alembic_migration(s: _Scratch, new_metadata, changes: list[dict]) -> dict:
    """Alembic's autogenerate (database: the old schema; metadata: the new), as SQL and as ops."""
    import io

    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from agentnb.checks.migration_order import stable

    space = s.schema

    def include_name(name, type_, parent_names):
        return name == space if type_ == "schema" else True

    ctx = MigrationContext.configure(s.sa, opts={
        "compare_type": True, "compare_server_default": True, "include_schemas": True,
        "include_name": include_name})
    up_ops, down_ops = stable(produce_migrations(ctx, new_metadata).upgrade_ops)   # hash-seed free order
    _no_enum_creation(up_ops)
    _no_enum_creation(down_ops)
    enum_sql = _enum_sql(changes)
    result = {
        "alembic_upgrade": _clean_python(render_python_code(up_ops), space),
        "alembic_downgrade": _clean_python(render_python_code(down_ops), space),
    }
    for key, ops in (("upgrade_sql", up_ops), ("downgrade_sql", down_ops)):
        buf = io.StringIO()
        offline = MigrationContext.configure(dialect_name="postgresql",
                                             opts={"as_sql": True, "output_buffer": buf})
        operations = Operations(offline)
        for op in ops.ops:
            _invoke(operations, op)
        pre, post = enum_sql[key]
        result[key] = "\n".join(x for x in (*pre, _clean_sql(buf.getvalue(), space), *post) if x)
    return result


def _no_enum_creation(ops) -> None:
    """Enum types are created, changed and dropped by ``_enum_sql``, not inside CREATE TABLE."""
    from alembic.operations import ops as alembic_ops
    from sqlalchemy.dialects.postgresql import ENUM
    for op in ops.ops:
        if isinstance(op, alembic_ops.ModifyTableOps):
            _no_enum_creation(op)
            continue
        columns = list(getattr(op, "columns", None) or [])
        if getattr(op, "column", None) is not None:
            columns.append(op.column)
        for col in columns:
            if isinstance(getattr(col, "type", None), ENUM):
                col.type.create_type = False


def _ident(name: str) -> str:
    return ".".join(p if re.fullmatch(r"[a-z_][a-z0-9_$]*", p) else _quote_ident(p) for p in name.split("."))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _enum_sql(changes: list[dict]) -> dict:
    """SQL for enum changes, which Alembic's autogenerate does not see: (before, after) per direction."""
    up_pre: list[str] = []
    up_post: list[str] = []
    down_pre: list[str] = []
    down_post: list[str] = []

    def create(name: str, labels: list[str]) -> str:
        return f"CREATE TYPE {_ident(name)} AS ENUM ({', '.join(_literal(x) for x in labels)});"

    for ch in changes:
        if ch["object"] != "enum":
            continue
        name = ch["name"]
        if ch["change"] == "added":
            labels = ch["text"][ch["text"].index("(") + 1:-1].split(", ")
            up_pre.append(create(name, labels))
            down_post.append(f"DROP TYPE {_ident(name)};")
        elif ch["change"] == "removed":
            labels = ch["text"][ch["text"].index("(") + 1:-1].split(", ")
            up_post.append(f"DROP TYPE {_ident(name)};")
            down_pre.append(create(name, labels))
        else:
            old, new = ch["old"], ch["new"]
            kept = [x for x in new if x in old]
            if kept == old:
                for i, label in enumerate(new):
                    if label in old:
                        continue
                    after = new[i - 1] if i > 0 else None
                    place = f" AFTER {_literal(after)}" if after is not None else (
                        f" BEFORE {_literal(old[0])}" if old else "")
                    up_pre.append(f"ALTER TYPE {_ident(name)} ADD VALUE {_literal(label)}{place};")
                down_pre.append(f"-- PostgreSQL cannot drop values from enum {name}: create a type "
                                "without them, ALTER the columns to it, then drop the old type.")
            else:
                up_pre.append(f"-- enum {name} lost or reordered values: create a new type "
                              f"({', '.join(new)}), ALTER the columns to it, then drop the old type.")
                down_pre.append(f"-- enum {name}: recreate it as ({', '.join(old)}) the same way.")
    return {"upgrade_sql": (up_pre, up_post), "downgrade_sql": (down_pre, down_post)}


def _invoke(operations, op) -> None:
    from alembic.operations import ops as alembic_ops
    if isinstance(op, alembic_ops.ModifyTableOps):
        for sub in op.ops:
            _invoke(operations, sub)
    else:
        operations.invoke(op)


def _clean_python(code: str, space: str) -> str:
    code = re.sub(r",\s*(?:source_|referent_)?schema='" + re.escape(space) + "'", "", code)
    return code.replace(f"'{space}.", "'")


def _clean_sql(sql: str, space: str) -> str:
    sql = sql.replace(f'"{space}".', "").replace(f"{space}.", "")
    lines = [ln for ln in sql.splitlines() if ln.strip()]
    return "\n".join(lines).strip()
