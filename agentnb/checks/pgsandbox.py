"""Where an answer's SQL runs: a role that owns one scratch database and nothing else.

The role (``agentnb_sandbox_*``) logs in, and is no superuser, cannot create roles or databases, is a
member of no role (so none of ``pg_read_server_files``, ``pg_write_server_files``,
``pg_execute_server_program``): ``COPY ... TO PROGRAM``, server files, ``lo_export``, untrusted
extensions (``dblink``, ``file_fdw``), ``ALTER SYSTEM`` and event triggers are refused to it, while
trusted extensions (pgcrypto, citext, uuid-ossp, pg_trgm, btree_gist, hstore...) work: it owns its
database. Its database (``agentnb_scratch_*``) is made from ``template0``: the script finds an empty
database of its own, its own ``public`` schema, the default ``search_path``. Set on the role by the
server's administrator: ``statement_timeout``, ``lock_timeout``, and where that is a superuser,
``temp_file_limit`` (which no other role can change); the checks add limits an answer cannot lift
from the client side (``postgres``).

- **agentnb's own cluster** (``pgserver`` started it, or a parent agentnb process shares it through
  ``AGENTNB_POSTGRES_URL`` as a superuser: the cluster carries ``agentnb.cluster=throwaway``): one
  role and database per process, made once (``prepare``, from ``warm_up``) and kept, as every check
  runs in a transaction that is rolled back; they die with the cluster.
- **A user's server** (``AGENTNB_POSTGRES_URL``): the URL's own rights never run an answer's SQL.
  Per check, agentnb creates the role and the database, runs the check, and drops both: after any
  check nothing of agentnb's is left. The URL's role needs ``CREATEDB`` and ``CREATEROLE`` (or
  superuser); without them ``SandboxUnavailable`` says what to grant and the rows are skipped. What a
  killed process left there (databases with no connection, older than ten minutes) is dropped by the
  next check.

Measured (PostgreSQL 15, ``fsync=off``): ``CREATE DATABASE`` takes 70 ms (``STRATEGY file_copy``) to
245 ms (the default ``wal_log``), which is why agentnb's own cluster keeps one per process instead of
one per check (+50% on a 150 ms check otherwise). With it, the shipped design session's checks take
as long as with the former scratch schema in the ``postgres`` database (``bench/bench_postgres.py``:
best of 24 interleaved runs, 490 ms against 503 ms). On a user's server each check pays for making
and dropping its role and database (about 0.2 s on a local PostgreSQL 15).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from agentnb.checks.pgserver import (
    ENV_URL, ConnectionFailed, NoPostgresError, PostgresServer, hide_password, load_drivers)

__all__ = ["Sandbox", "SandboxUnavailable", "sandbox", "prepare", "STATEMENT_SECONDS", "TEMP_FILE_LIMIT"]

ROLE_PREFIX = "agentnb_sandbox_"
DATABASE_PREFIX = "agentnb_scratch_"
STATEMENT_SECONDS = 10          # server side, per statement; the client side bounds the whole check
TEMP_FILE_LIMIT = "256MB"
LEFTOVER_SECONDS = 600


class SandboxUnavailable(NoPostgresError):
    """The server named by AGENTNB_POSTGRES_URL cannot give agentnb a scratch database and role."""

    def __init__(self, server: PostgresServer, problem: str, fix: str):
        where = f"{ENV_URL} ({server.description or hide_password(server.url)})"
        super().__init__([f"{where}: {problem}"],
                         f"{where}: {problem}. agentnb runs an answer's SQL only in a scratch database of "
                         f"its own, as a role that can touch nothing else, and drops both after each "
                         f"check. Fix: {fix}")


@dataclass
class Sandbox:
    """The role and database one check (or, on agentnb's own cluster, every check of a process) runs in."""

    url: str                       # SQLAlchemy URL: the role, its password, the scratch database
    role: str
    database: str
    kept: bool                     # True: one per process; False: dropped after the check
    force_drop: bool = True        # DROP DATABASE ... WITH (FORCE): PostgreSQL 13+
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _engine: Any = field(default=None, repr=False)

    def engine(self):
        if self._engine is None:
            load_drivers()
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool
            self._engine = create_engine(self.url, poolclass=NullPool)
        return self._engine

    def connect(self, **kwargs):
        """A new psycopg connection as the sandbox role (a monitor's, beside the check's)."""
        load_drivers()
        import psycopg
        from sqlalchemy.engine import make_url

        kwargs.setdefault("connect_timeout", 10)
        conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, **kwargs)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


_prepare_lock = threading.Lock()


def prepare(server: PostgresServer) -> Sandbox | None:
    """The process's kept sandbox on agentnb's own cluster, made on first use; None on a user's server."""
    load_drivers()
    if server.sandbox is None:
        with _prepare_lock:
            if server.sandbox is None:
                with _admin(server) as admin:
                    facts = _facts(admin)
                    own = server.owned or (facts["marker"] == "throwaway" and facts["superuser"])
                    # False: a user's server, a sandbox per check
                    server.sandbox = _create(server, admin, facts, kept=True) if own else False
    return server.sandbox or None


@contextmanager
def sandbox(server: PostgresServer) -> Iterator[Sandbox]:
    """The sandbox for one check: the process's kept one (held for the check), or one made for it."""
    box = prepare(server)
    if box is not None:
        with box.lock:
            yield box
        return
    with _admin(server) as admin:
        facts = _facts(admin)
        if not (facts["superuser"] or (facts["createrole"] and facts["createdb"])):
            missing = " ".join(x for x, ok in (("CREATEDB", facts["createdb"]), ("CREATEROLE", facts["createrole"]))
                               if not ok)
            raise SandboxUnavailable(
                server, f"the role {facts['user']} may not create databases and roles (it lacks {missing})",
                f"as a superuser, `ALTER ROLE {_quote(facts['user'])} {missing};`, or point {ENV_URL} at a "
                "role that has them, or unset it to let agentnb start its own server.")
        _drop_leftovers(admin)
        box = _create(server, admin, facts, kept=False)
        try:
            _check_login(server, admin, box)
            yield box
        finally:
            box.dispose()
            _drop(admin, box)


@contextmanager
def _admin(server: PostgresServer):
    """An autocommit connection with the server's own rights: it makes and drops sandboxes, nothing else."""
    try:
        conn = server.connect(autocommit=True)
    except Exception as err:  # noqa: BLE001 - psycopg's OperationalError and libpq's URL errors alike
        raise ConnectionFailed(server, err) from None
    try:
        yield conn
    finally:
        conn.close()


def _facts(admin) -> dict:
    row = admin.execute(
        "SELECT current_setting('agentnb.cluster', true), r.rolsuper, r.rolcreaterole, r.rolcreatedb,"
        " current_user, current_setting('server_version_num')::int"
        " FROM pg_roles r WHERE r.rolname = current_user").fetchone()
    return dict(zip(("marker", "superuser", "createrole", "createdb", "user", "version"), row, strict=True))


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _create(server: PostgresServer, admin, facts: dict, *, kept: bool) -> Sandbox:
    from sqlalchemy.engine import make_url

    suffix = f"{int(time.time())}_{secrets.token_hex(4)}"
    role, database = ROLE_PREFIX + suffix, DATABASE_PREFIX + suffix
    password = secrets.token_urlsafe(24)
    # the verifier, not the password, goes to the server (and to its log, if it logs statements)
    verifier = admin.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    box = Sandbox(make_url(server.url).set(username=role, password=password, database=database)
                  .render_as_string(hide_password=False), role, database, kept, facts["version"] >= 130000)
    made = []
    try:
        admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                      f"NOBYPASSRLS CONNECTION LIMIT 4 PASSWORD '{verifier}'")
        made.append("role")
        if not facts["superuser"]:
            # to create a database owned by the role, and to drop it later, the URL's role must be able
            # to act as it; the sandbox gets nothing of the URL's role in return
            admin.execute(f"GRANT {role} TO {_quote(facts['user'])}")
        strategy = " STRATEGY file_copy" if kept and facts["version"] >= 150000 else ""
        admin.execute(f"CREATE DATABASE {database} OWNER {role} TEMPLATE template0{strategy}")
        made.append("database")
        admin.execute(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")      # its owner alone connects
        settings = {"statement_timeout": f"{STATEMENT_SECONDS}s", "lock_timeout": "2s",
                    "idle_in_transaction_session_timeout": "60s"}
        if facts["superuser"]:
            settings["temp_file_limit"] = TEMP_FILE_LIMIT      # a superuser's setting: the role cannot lift it
        for name, value in settings.items():
            admin.execute(f"ALTER ROLE {role} SET {name} = '{value}'")
    except Exception as exc:
        if made:
            _drop(admin, box)
        import psycopg
        if isinstance(exc, psycopg.Error) and not server.owned:
            raise SandboxUnavailable(server, f"could not create agentnb's scratch role and database: "
                                     f"{_first_line(exc)}",
                                     f"let the role of {ENV_URL} create roles and databases, or unset it.") from None
        raise
    return box


def _check_login(server: PostgresServer, admin, box: Sandbox) -> None:
    """A user's pg_hba.conf may refuse the new role: say so (rather than fail each statement)."""
    try:
        box.connect().close()
    except Exception as exc:  # noqa: BLE001
        _drop(admin, box)
        raise SandboxUnavailable(
            server, f"the role agentnb made ({box.role}) could not log in: {_first_line(exc)}",
            f"allow roles named {ROLE_PREFIX}* to connect to databases named {DATABASE_PREFIX}* with a "
            f"password in pg_hba.conf, or unset {ENV_URL}.") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _drop(admin, box: Sandbox) -> None:
    force = " WITH (FORCE)" if box.force_drop else ""
    for statement in (f"DROP DATABASE IF EXISTS {box.database}{force}", f"DROP ROLE IF EXISTS {box.role}"):
        try:
            admin.execute(statement)
        except Exception:  # noqa: BLE001 - the next check's leftover sweep tries again
            pass


def _drop_leftovers(admin) -> None:
    """Sandboxes of processes killed mid-check: no connection, and older than any check runs."""
    oldest = int(time.time()) - LEFTOVER_SECONDS
    rows = admin.execute(
        "SELECT d.datname FROM pg_database d WHERE d.datname LIKE %s"
        " AND NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.datid = d.oid)",
        (DATABASE_PREFIX.replace("_", r"\_") + "%",)).fetchall()
    for (name,) in rows:
        m = re.fullmatch(DATABASE_PREFIX + r"(\d+)_([0-9a-f]{8})", name)
        if m and int(m.group(1)) < oldest:
            _drop(admin, Sandbox("", ROLE_PREFIX + m.group(1) + "_" + m.group(2), name, False, False))
