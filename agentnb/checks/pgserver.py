"""The PostgreSQL server the checks run on: found, or started and stopped.

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
is the fallback where no PostgreSQL is installed.
"""

from __future__ import annotations

import atexit
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from agentnb.errors import AgentnbError

__all__ = ["ENV_URL", "NoPostgresError", "ConnectionFailed", "PostgresServer", "get_server", "warm_up",
           "find_bindirs"]

ENV_URL = "AGENTNB_POSTGRES_URL"


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
