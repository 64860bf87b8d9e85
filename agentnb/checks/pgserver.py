"""The PostgreSQL server the checks run on: found, or started and stopped with its owner.

Where the server comes from (``get_server``), first that answers:

1. ``AGENTNB_POSTGRES_URL``: a server of the user's (or one a parent agentnb process started and
   shares: ``agentnb run``, the test session). Nothing is started; ``pgsandbox`` decides how the
   answer's SQL runs there.
2. The machine's PostgreSQL binaries (``pg_config --bindir``, ``/usr/lib/postgresql/*/bin`` newest
   first, ``PATH``): a throwaway cluster in ``agentnb-pg-*`` under the temp dir.
3. pgserver's bundled binaries (PyPI, PostgreSQL 16), if installed: the same throwaway cluster.

The throwaway cluster: ``initdb -A trust --no-sync``, started with ``fsync=off``, listening on no TCP
port, only on a Unix socket inside its data folder (mode 0700: only its owner, or root, can connect; a
trusting TCP port on 127.0.0.1 would let any local user in as superuser). As root it runs as the
``postgres`` user (else ``pgserver``) through ``runuser``. It is started with a clean environment
(``PATH``, ``LC_ALL``, ``TZ``: no API key, no secret of the kernel's reaches the server), and each of
its processes may allocate at most ``MEMORY_LIMIT_KB`` of private memory.

It dies with the process that started it, however that process dies: a watchdog (``pgwatchdog``),
started detached in a session of its own before ``initdb``, waits for the owner's exit and then stops
the cluster and removes its folder; a clean exit does the same at once (``atexit``). Each folder holds
``owner.json`` (owner pid and start time, the ``pg_ctl`` to stop it): a start also cleans the folders
of dead owners that no watchdog cleaned (``pgwatchdog.sweep``). Folders without that file were not made
by this version and are left alone.

Measured on the project's machines (2 cores; ``bench/bench_postgres.py``), cold start to a working
``select 1``: machine binaries (PostgreSQL 15) 0.75-0.9 s (initdb 0.6 s, start 0.12 s); pgserver's
binaries about the same (both 1.0-2 s when the machine is busy). The machine's binaries come first:
they have the contrib extensions (pgserver's wheel has none: ``CREATE EXTENSION pgcrypto`` /
``citext`` fail there). pgserver is the fallback where no PostgreSQL is installed; its binaries are
used, not its server manager (which inherits the kernel's environment and stops only at ``atexit``).
"""

from __future__ import annotations

import atexit
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from agentnb.errors import AgentnbError

__all__ = ["ENV_URL", "NoPostgresError", "ConnectionFailed", "PostgresServer", "get_server", "warm_up",
           "find_bindirs"]

ENV_URL = "AGENTNB_POSTGRES_URL"
MEMORY_LIMIT_KB = 1 << 20          # per server process, private memory (see _launch)


class NoPostgresError(AgentnbError):
    """No PostgreSQL server could be had for the checks that need one."""

    def __init__(self, reasons: list[str], message: str | None = None):
        self.reasons = list(reasons)
        if message is None:
            lines = ["No PostgreSQL server for the SQL checks:"]
            lines += [f"- {r}" for r in reasons]
            lines.append(f"Fix: set {ENV_URL}=postgresql://user:password@host:port/dbname, or "
                         "`pip install pgserver` (bundles PostgreSQL), or install PostgreSQL "
                         "(e.g. `apt-get install postgresql`).")
            message = "\n".join(lines)
        super().__init__(message)


class ConnectionFailed(AgentnbError):
    """A server was named (or started) but a connection to it failed."""

    def __init__(self, server: "PostgresServer", error: Exception):
        where = f"{ENV_URL} ({server.description})" if server.kind == "url" else server.description
        detail = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
        fix = (f"check {ENV_URL}, or unset it to let agentnb start its own server" if server.kind == "url"
               else "the embedded server stopped; restart the kernel to start a new one")
        super().__init__(f"could not connect to PostgreSQL at {where}: {detail}. Fix: {fix}.")


def hide_password(url: str) -> str:
    """The URL with its password (in the authority or a ``password=`` parameter) as ``***``."""
    url = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)




_import_lock = threading.Lock()


def load_drivers() -> None:
    """Import psycopg and SQLAlchemy (with its PostgreSQL dialect) once, one thread at a time.

    The warm-up thread and the checks' thread may both reach them first: SQLAlchemy imported from two
    threads at once can hand one a partly initialised module ("partially initialized module
    'sqlalchemy.util' has no attribute 'MemoizedSlots'"), seen in a notebook replay.
    """
    with _import_lock:
        import psycopg  # noqa: F401
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
        import sqlalchemy.engine  # noqa: F401
        import sqlalchemy.exc  # noqa: F401
        import sqlalchemy.pool  # noqa: F401


@dataclass
class PostgresServer:
    """A server the checks can use. ``url`` is for SQLAlchemy (``postgresql+psycopg://...``), with the
    rights of whoever started or named it (a superuser on agentnb's own cluster): the answer's SQL never
    runs with them (``pgsandbox``)."""

    url: str
    kind: str                       # "url" (AGENTNB_POSTGRES_URL), "system", "pgserver"
    description: str = ""           # for "url": the URL as the user wrote it, password hidden
    start_seconds: float = 0.0
    folder: str | None = None       # the throwaway cluster's folder (agentnb-pg-*)
    _stop: Any = field(default=None, repr=False)
    _engine: Any = field(default=None, repr=False)
    sandbox: Any = field(default=None, repr=False)     # pgsandbox's per-process scratch database, if any

    @property
    def owned(self) -> bool:
        """A cluster this process started (and will stop)."""
        return self.kind != "url"

    @property
    def conninfo(self) -> str:
        """The URL as libpq / psycopg take it."""
        load_drivers()
        from sqlalchemy.engine import make_url
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    def connect(self, **kwargs):
        """A new psycopg connection (not autocommit); the caller closes it."""
        conninfo = self.conninfo
        import psycopg
        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(conninfo, **kwargs)

    def engine(self):
        """A SQLAlchemy engine on this server (NullPool: every connection is closed after use)."""
        if self._engine is None:
            load_drivers()
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
_url_servers: dict[str, PostgresServer] = {}
_server_lock = threading.Lock()


def get_server() -> PostgresServer:
    """The server for this process: ``AGENTNB_POSTGRES_URL``, else one started on first use.

    Raises ``NoPostgresError`` (saying why, and what to do) when none can be had, or when the variable
    does not hold a PostgreSQL URL.
    """
    global _server, _failure
    url = os.environ.get(ENV_URL, "").strip()
    if url:
        with _server_lock:
            if url not in _url_servers:
                _url_servers[url] = PostgresServer(_url_from_env(url), "url", hide_password(url))
            return _url_servers[url]
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
    """Get PostgreSQL ready in the background (a live answer streams for seconds, a replay imports the
    SDK meanwhile), so that the first check finds it ready: agentnb's own cluster started (or the one
    shared through AGENTNB_POSTGRES_URL reached), and this process's scratch database made on it.
    Nothing to do when that is done. Failures are not lost: the check that needs the server tries again
    and reports why in its row."""
    url = os.environ.get(ENV_URL, "").strip()
    server = _url_servers.get(url) if url else _server
    if server is not None and server.sandbox is not None and (url or server._stop is not None):
        return None

    def start():
        from agentnb.checks import pgsandbox
        try:
            pgsandbox.prepare(get_server())
        except Exception:  # noqa: BLE001 - the check that needs it tries again and reports why in its row
            pass

    thread = threading.Thread(target=start, name="agentnb-postgres-warm-up", daemon=True)
    thread.start()
    return thread


def _url_from_env(url: str) -> str:
    """``AGENTNB_POSTGRES_URL`` as a SQLAlchemy URL for psycopg; NoPostgresError if it is none."""
    load_drivers()
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = hide_password(url)[:200]
    try:
        u = make_url(url)
    except (ArgumentError, ValueError) as exc:
        problem = f"it does not parse as a URL ({exc})"
    else:
        if u.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
            return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        problem = f"its scheme {u.drivername!r} is not PostgreSQL's"
    problem = problem.replace(url, shown)
    raise NoPostgresError([f"{ENV_URL}={shown}: {problem}"], (
        f"{ENV_URL} is not a PostgreSQL URL: {shown!r}: {problem}. Fix: set it to "
        "postgresql://user:password@host:port/dbname, or unset it to let agentnb start its own server."))


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
    return [d for d in dict.fromkeys(os.path.realpath(d) for d in found) if _has_server_binaries(d)]


def _has_server_binaries(bindir: str) -> bool:
    return all(os.access(os.path.join(bindir, x), os.X_OK) for x in ("initdb", "pg_ctl", "postgres"))


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
    version = os.path.basename(os.path.dirname(bindirs[0]))
    return _launch(bindirs[0], "system", f"PostgreSQL {version} from {bindirs[0]}", reasons)


def _start_pgserver(reasons: list[str]) -> PostgresServer | None:
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    bindir = os.path.join(os.path.dirname(spec.origin), "pginstall", "bin") if spec and spec.origin else None
    if bindir is None or not _has_server_binaries(bindir):
        reasons.append("pgserver is not installed")
        return None
    return _launch(bindir, "pgserver", "pgserver's bundled PostgreSQL", reasons)


# the server's whole environment: nothing of the kernel's (API keys, tokens, passwords) reaches it
def _clean_env() -> dict[str, str]:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "LANG": "C"}
    if os.environ.get("TZ"):
        env["TZ"] = os.environ["TZ"]
    return env


_swept = False


def _sweep_leftovers(parents: list[str]) -> None:
    """Once per process, in the background: the clusters of dead owners that no watchdog cleaned."""
    global _swept
    if _swept:
        return
    _swept = True
    from agentnb.checks import pgwatchdog

    threading.Thread(target=pgwatchdog.sweep, args=(parents,), name="agentnb-postgres-sweep",
                     daemon=True).start()


def _launch(bindir: str, kind: str, label: str, reasons: list[str]) -> PostgresServer | None:
    """A throwaway cluster from ``bindir``'s binaries, owned by this process (see the module docstring)."""
    from agentnb.checks import pgwatchdog

    prefix: list[str] = []
    owner = None
    runas = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd
        for name in ("postgres", "pgserver"):
            try:
                owner, runas = pwd.getpwnam(name), name
                break
            except KeyError:
                continue
        if owner is None:
            reasons.append(f"{bindir}: running as root and there is no 'postgres' user to run "
                           "the server as (PostgreSQL refuses root)")
            return None
        runuser = shutil.which("runuser")
        if not runuser:
            reasons.append(f"{bindir}: running as root and `runuser` is missing")
            return None
        prefix = [runuser, "-u", runas, "--"]

    parent = tempfile.gettempdir()
    if owner is not None and not _traversable_by_others(parent):
        parent = "/tmp"
    _sweep_leftovers([parent, "/tmp"])
    t0 = time.perf_counter()
    top = tempfile.mkdtemp(prefix=pgwatchdog.PREFIX, dir=parent)   # mode 0700
    data = os.path.join(top, "data")
    pg_ctl = os.path.join(bindir, "pg_ctl")
    env = _clean_env()
    with open(os.path.join(top, pgwatchdog.OWNER_FILE), "w") as f:
        json.dump({"pid": os.getpid(), "start": pgwatchdog.process_start(os.getpid()),
                   "pg_ctl": pg_ctl, "user": runas}, f)
    # before initdb: a kill from here on leaves nothing behind
    watchdog = subprocess.Popen([sys.executable, "-I", "-S", pgwatchdog.__file__, top], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True)

    def run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(prefix + args, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)

    pid = os.getpid()

    def stop() -> None:
        if os.getpid() != pid:    # a forked child inherited the atexit hook: not ours to stop
            return
        try:
            if os.path.exists(os.path.join(data, "postmaster.pid")):
                run([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], 30)
        except (OSError, subprocess.SubprocessError):
            pass
        shutil.rmtree(top, ignore_errors=True)
        watchdog.terminate()      # its job is done
        try:
            watchdog.wait(5)
        except subprocess.TimeoutExpired:
            pass

    try:
        if owner is not None:
            os.chown(top, owner.pw_uid, owner.pw_gid)
        r = run([os.path.join(bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                 "--no-sync", "-E", "UTF8", "--locale=C"], 60)
        if r.returncode != 0:
            reasons.append(f"{bindir}/initdb failed: {(r.stderr or r.stdout).strip()[-500:]}")
            stop()
            return None
        # no TCP port: the socket alone, in the 0700 data folder; the port only names the socket file.
        # agentnb.cluster marks the cluster as agentnb's own for processes it is shared with.
        opts = (f"-p 5432 -k {data} -c listen_addresses= -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c agentnb.cluster=throwaway")
        # each server process may allocate MEMORY_LIMIT_KB of private memory (RLIMIT_DATA, inherited by
        # every backend): an answer's `SET work_mem = '2GB'` and a huge sort get "out of memory", not the
        # machine's RAM (shared buffers are not counted). Set by a shell before exec: a limit can only
        # be lowered, and no thread-unsafe preexec_fn is needed
        limited = ["/bin/sh", "-c", f'ulimit -d {MEMORY_LIMIT_KB} 2>/dev/null; exec "$@"', "agentnb-pg"]
        r = run(limited + [pg_ctl, "-D", data, "-l", os.path.join(data, "server.log"), "-o", opts, "-w", "-t",
                           "30", "start"], 60)
        if r.returncode != 0:
            log = ""
            try:
                with open(os.path.join(data, "server.log")) as f:
                    log = f.read()[-500:]
            except OSError:
                pass
            reasons.append(f"{bindir}/pg_ctl start failed: {(r.stderr or r.stdout).strip()[-300:]} {log}")
            stop()
            return None
    except (OSError, subprocess.SubprocessError) as exc:
        reasons.append(f"{bindir}: {type(exc).__name__}: {exc}")
        stop()
        return None

    return PostgresServer(f"postgresql+psycopg://postgres@/postgres?host={data}&port=5432", kind,
                          f"{label}, throwaway cluster in {top}", time.perf_counter() - t0, top, stop)

