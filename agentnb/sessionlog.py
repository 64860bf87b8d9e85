"""The session log: every exchange with the model, kept on disk and queryable with SQL (DuckDB).

Where it lives: ``$AGENTNB_HOME/log/`` (default ``.agentnb/log/`` in the current directory; the
variable is read at each call, not at import).

Design. A DuckDB file can be open for writing by one process only, and papermill runs notebooks in
parallel kernels, so the log is not one ``.duckdb`` file. Each process appends JSON lines to a file of
its own (``log/<yyyymmdd>-<pid>-<random>.jsonl``, created on its first row), one ``os.write`` per row on
an ``O_APPEND`` descriptor; reading runs DuckDB's ``read_json`` over the glob with an explicit column
schema. Weighed against:

- one ``.duckdb`` file and retry on the lock: each row pays an open, insert and close (~20 ms measured),
  a notebook holding even a read-only connection locks every writer out for as long as it keeps it, and
  a retry that runs out is exactly the lock error the user must never see;
- SQLite in WAL mode with a busy timeout: concurrent writers mostly work, but DuckDB reads it only
  through the ``sqlite`` extension (a download, offline machines fail) and ``SQLITE_BUSY`` remains.

Per-process files take no lock at all, an append costs ~0.08 ms, a crash loses at most the row
being written, and the files stay greppable text. A reader that catches a row half written sees a line
that does not parse; ``ignore_errors`` turns it into an all-NULL row that the view drops (``v`` is
never NULL in a real row); the row shows up complete at the next query. Reads parse JSON every time:
about 10,000 rows in tens of milliseconds (``bench/bench_sessionlog.py``), ample for a session log.

Schema versions. Every row carries ``v`` (``SCHEMA_VERSION`` when written). ``MIGRATIONS`` is a list of
plain functions, in the spirit of simonw/llm's ``migrations.py``: ``MIGRATIONS[i]`` takes the SQL of a
query whose rows are at version ``i + 1`` or newer and returns the SQL of a query whose rows are at
``i + 2`` or newer, rewriting only the rows at ``v = i + 1``. They run in order inside the ``exchanges``
view, so old files are never rewritten (other processes may still be appending to them). A column a
later version adds needs only a line in ``COLUMNS``: older rows read it as NULL. A column it drops stays
in ``COLUMNS`` (its migration may need it) and leaves ``VIEW_COLUMNS``.

Two rows a call (v2). A call writes a ``started`` row before its request is sent and a ``done`` row at
its end (answer, usage, cost, error), both with the same ``call_id``; the view keeps one row a call, the
``done`` one when there is one. A call whose process was killed keeps its ``started`` row, which the
budget counts at ``max_cost_usd``, the most that call could have cost (:func:`spent_since`). Once the
answer's checks have run, a ``checked`` row with the same ``call_id`` carries their counts
(``checks_passed``, ``checks_failed``); the view folds them into the call's row. Every row carries
``run_id`` when ``agentnb run`` started the process, so a batch totals what each run really called.

Tool calls. A tools cell (``--tools``) logs each request of its loop as a call of its own, and each tool
call as a ``tool`` row: ``tool`` (its name), ``tool_input`` (a short line of its input, redacted),
``tool_status`` (``allowed``, ``denied``, ``error``, or ``unanswered`` when the loop ended first),
``latency_s`` (how long it ran) and ``call_id``, the request whose answer asked for it. These rows are not
calls: ``exchanges`` leaves them out, and the view ``tool_calls`` shows them (``latency_s`` named
``duration_s``): ``query("select tool, tool_status, count(*) from tool_calls group by all")``.

Reading, for a notebook user (``agentnb.log()`` is meant to call :func:`query`):

- ``query()`` gives a DuckDB relation over every exchange, oldest first: it shows as a table, and
  ``.fetchall()``, ``.filter("model like '%opus%'")``, ``.aggregate(...)``, ``.df()`` (pandas) work on
  it, and each of them reads the log again (DuckDB 2 relations keep no result), so it stays current;
  ``query("select model, sum(cost_usd) from exchanges group by all")`` runs any SQL;
- ``connect()`` gives the in-memory connection holding the view ``exchanges``, to keep and query again
  (rows appended later show up: the glob is read at each query);
- ``rows(notebook=..., replayed=False)`` gives plain dicts (keys are :class:`Exchange`'s fields);
- ``totals()`` gives the counts and sums ``%agentnb usage`` prints.

``time`` is stored as ISO 8601 text in UTC (so that a row reads back exactly as written); it sorts
correctly as text, and ``time::TIMESTAMPTZ`` makes it a timestamp in SQL.

Credentials never reach the disk: :func:`agentnb.redact.redact` runs over every text field before the
row is written.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from agentnb import settings
from agentnb.errors import AgentnbError
from agentnb.llm.models import USAGE_KEYS
from agentnb.redact import redact
from agentnb.text import sql_literal, without_surrogates

if TYPE_CHECKING:  # duckdb is imported inside the functions that need it: `import agentnb` stays cheap
    import duckdb

__all__ = [
    "Exchange", "append", "connect", "query", "rows", "totals", "home_dir", "log_dir",
    "session_id", "SCHEMA_VERSION", "MIGRATIONS",
]

SCHEMA_VERSION = 2

# Every field any schema version has written, with its DuckDB type (the explicit schema read_json uses).
COLUMNS: dict[str, str] = {
    "v": "INTEGER",
    "time": "VARCHAR",
    "notebook": "VARCHAR",
    "agent": "VARCHAR",
    "thread": "VARCHAR",
    "model": "VARCHAR",
    "prompt": "VARCHAR",
    "answer": "VARCHAR",
    "stop_reason": "VARCHAR",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "cache_creation_input_tokens": "BIGINT",
    "cache_read_input_tokens": "BIGINT",
    "cost_usd": "DOUBLE",
    "latency_s": "DOUBLE",
    "ttft_s": "DOUBLE",
    "replayed": "BOOLEAN",
    "error": "VARCHAR",
    "request_hash": "VARCHAR",
    "session": "VARCHAR",
    # v2: a call writes a "started" row before it is sent and a "done" row at its end (same call_id)
    "call_id": "VARCHAR",
    "state": "VARCHAR",
    "max_cost_usd": "DOUBLE",
    "request_id": "VARCHAR",
    # a call's checks, in a "checked" row of their own written after them (the view folds it into the call)
    "run_id": "VARCHAR",
    "checks_passed": "INTEGER",
    "checks_failed": "INTEGER",
    # a tools cell's tool call, in a "tool" row of its own (call_id: the request that asked for it)
    "tool": "VARCHAR",
    "tool_input": "VARCHAR",
    "tool_status": "VARCHAR",
}

Migration = Callable[[str], str]


def _v1_to_v2(sql: str) -> str:
    """v1 wrote one row per call, at its end: each is a finished call of its own."""
    return f"select * replace (if(v = 1, 'done', state) as state, greatest(v, 2) as v) from ({sql})"


# MIGRATIONS[i] upgrades rows at version i + 1 to i + 2 (see the module docstring).
MIGRATIONS: list[Migration] = [_v1_to_v2]

_TOKEN_FIELDS = USAGE_KEYS
_CHECK_FIELDS = ("checks_passed", "checks_failed")
_FLOAT_FIELDS = ("cost_usd", "latency_s", "ttft_s", "max_cost_usd")
_PLACEHOLDER = "_empty.jsonl"   # lets the view bind before the first row; zero bytes, sorts first


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


_session: tuple[int, str] | None = None     # (pid, id): a fork gets an id of its own


def session_id() -> str:
    """An id for this process's run (a kernel, a papermill run): ``<utc start>-<pid>-<random>``."""
    global _session
    pid = os.getpid()
    if _session is None or _session[0] != pid:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        _session = (pid, f"{stamp}-{pid}-{os.urandom(3).hex()}")
    return _session[1]


@dataclass
class Exchange:
    """One exchange with the model, as the session log keeps it."""

    time: str = field(default_factory=_now)        # ISO 8601, UTC
    notebook: str | None = None
    agent: str | None = None
    thread: str | None = None
    model: str = ""
    prompt: str = ""
    answer: str = ""
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float | None = None                 # request sent to last event
    ttft_s: float | None = None                    # request sent to first text
    replayed: bool = False                         # served from a recording, not the API
    error: str | None = None
    request_hash: str | None = None                # the recording's file name, without .json
    session: str = field(default_factory=session_id)
    call_id: str | None = None                     # a call's "started" and "done" rows share it
    state: str = "done"                            # "started": sent, and no outcome logged (yet)
    max_cost_usd: float | None = None              # the most a live call could cost (the budget's worst case)
    request_id: str | None = None                  # the API's id for the call (support asks for it)
    run_id: str | None = field(default_factory=settings.run_id)   # the agentnb run's id, in a batch
    checks_passed: int | None = None               # None: the checks did not run (yet)
    checks_failed: int | None = None
    tool: str | None = None                        # a "tool" row: the tool's name (Bash, Write, Agent...)
    tool_input: str | None = None                  # a short line of its input (the command, the file)
    tool_status: str | None = None                 # allowed, denied, error, or unanswered


TOOL_STATUSES = ("allowed", "denied", "error", "unanswered")
# What the tool_calls view shows of a "tool" row (latency_s is the call's duration)
TOOL_COLUMNS = ("time", "notebook", "agent", "thread", "session", "run_id", "call_id", "tool", "tool_input",
                "tool_status", "latency_s", "error", "replayed")


VIEW_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Exchange))

# ------------------------------------------------------------------------------------------------ places

def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """``home``, else ``$AGENTNB_HOME``, else ``.agentnb`` in the current directory (read now)."""
    return Path(home) if home is not None else settings.home_dir()


def log_dir(home: str | os.PathLike[str] | None = None) -> Path:
    return home_dir(home) / "log"


# --------------------------------------------------------------------------------------------------- write

class _LogFile:
    """This process's file in one log folder: opened on the first row, reopened after a fork."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.pid = -1
        self.fd = -1
        self.path: Path | None = None
        self.torn = False           # a write failed midway: start the next row on a fresh line

    def _open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            day = datetime.now(timezone.utc).strftime("%Y%m%d")
            path = self.folder / f"{day}-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _unwritable(self.folder, exc) from exc
        if self.fd >= 0:
            os.close(self.fd)       # after a fork, only the child's copy of the parent's descriptor
        self.fd, self.pid, self.path = fd, os.getpid(), path

    def write(self, data: bytes) -> None:
        # a fork inherits the parent's descriptor: the child opens its own file, the parent keeps its;
        # a file deleted under us (rm -rf .agentnb) is reopened rather than written into the void
        if self.pid != os.getpid() or os.fstat(self.fd).st_nlink == 0:
            self._open()
        if self.torn:
            data = b"\n" + data
        try:
            view = memoryview(data)
            while view:                 # one call in practice; the loop only guards short writes
                view = view[os.write(self.fd, view):]
            self.torn = False
        except OSError as exc:
            self.torn = True
            raise _unwritable(self.path or self.folder, exc) from exc


def _unwritable(path: Path, exc: OSError) -> AgentnbError:
    return AgentnbError(
        f"Cannot write the session log at {path}: {exc.strerror or exc}. "
        "Set AGENTNB_HOME to a folder you can write (e.g. %env AGENTNB_HOME=/tmp/agentnb), "
        "or fix the permissions or free space there.")


_files: dict[Path, _LogFile] = {}
_lock = threading.Lock()


def _after_fork() -> None:          # a fork taken while another thread held the lock must not hang
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def _clean(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return without_surrogates(redact(value))    # lone surrogates: keep the row, not the bad characters
    if name in _TOKEN_FIELDS:
        return int(value or 0)
    if name in _FLOAT_FIELDS and value is not None:
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _line(exchange: Exchange) -> bytes:
    row = {"v": SCHEMA_VERSION}
    row.update((k, _clean(v, k)) for k, v in asdict(exchange).items())
    return (json.dumps(row, ensure_ascii=False, default=lambda o: redact(str(o))) + "\n").encode("utf-8")


def append(exchange: Exchange, home: str | os.PathLike[str] | None = None) -> None:
    """Write one exchange to this process's log file (one ``write`` call; no lock with other kernels).

    Raises :class:`~agentnb.errors.AgentnbError`, naming the path, when the log folder cannot be
    written."""
    data = _line(exchange)
    folder = log_dir(home).absolute()
    with _lock:
        log_file = _files.get(folder)
        if log_file is None:
            log_file = _files[folder] = _LogFile(folder)
        log_file.write(data)


# ---------------------------------------------------------------------------------------------------- read

def _rows_sql(source: str) -> str:
    """Every row of the log files matching ``source``, read with the columns' types and migrated to the
    current version (both views read these)."""
    schema = "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(t)}" for k, t in COLUMNS.items()) + "}"
    sql = (f"select * from read_json({sql_literal(source)}, format='newline_delimited', columns={schema},"
           f" ignore_errors=true, maximum_object_size=268435456) where v is not null")
    for migrate in MIGRATIONS:
        sql = migrate(sql)
    return sql


def _empty_sql(names: dict[str, str]) -> str:
    """A view with no row and the right columns (``names``: log column -> view column), for a log
    folder that is missing and cannot be made."""
    return "select " + ", ".join(f"cast(null as {COLUMNS[c]}) as {n}" for c, n in names.items()) + " where false"


def _view_sql(source: str | None) -> str:
    if source is None:
        return _empty_sql({c: c for c in VIEW_COLUMNS})
    # one row a call: its "done" row, else (killed, or still running) its "started" one; an anti-join on
    # the few started rows costs less than a window over every row (bench/bench_sessionlog.py)
    # A "checked" row (written after the checks) lends its counts to its call's row and is not a call.
    cols = ", ".join(f"coalesce(r.{c}, k.{c}) as {c}" if c in _CHECK_FIELDS else f"r.{c}" for c in VIEW_COLUMNS)
    checked = ", ".join(f"any_value({c}) as {c}" for c in _CHECK_FIELDS)
    return (f"with rows as materialized ({_rows_sql(source)}),"
            f" checked as (select call_id, {checked} from rows where state = 'checked' group by call_id)"
            f" select {cols} from rows r left join checked k on k.call_id = r.call_id"
            " where r.state is distinct from 'started' and r.state is distinct from 'checked'"
            " and r.state is distinct from 'tool'"
            f" union all select {cols} from rows r left join checked k on k.call_id = r.call_id"
            " where r.state = 'started' and not exists"
            " (select 1 from rows d where d.call_id = r.call_id and d.state = 'done')")


def _tools_sql(source: str | None) -> str:
    """The ``tool_calls`` view: one row a tool call of a tools cell (``duration_s``: how long it ran)."""
    names = {c: "duration_s" if c == "latency_s" else c for c in TOOL_COLUMNS}
    if source is None:
        return _empty_sql(names)
    cols = ", ".join(c if c == n else f"{c} as {n}" for c, n in names.items())
    return f"select {cols} from ({_rows_sql(source)}) where state = 'tool'"


def _source(folder: Path) -> str | None:
    """The glob to read, after making sure it matches a file (DuckDB refuses a glob matching none)."""
    glob = str(folder / "*.jsonl")
    if any(folder.glob("*.jsonl")):
        return glob
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _PLACEHOLDER).touch()
        return glob
    except OSError:
        return None


def connect(home: str | os.PathLike[str] | None = None) -> "duckdb.DuckDBPyConnection":
    """An in-memory DuckDB connection with the views ``exchanges`` (one row a call) and ``tool_calls``
    (one row a tool call of a tools cell) over the session log.

    The view reads the files at each query, so rows other kernels append later show up. (In the one
    case where the log folder is missing and cannot be created, the view is empty and stays so.)"""
    import duckdb

    folder = log_dir(home).absolute()
    con = duckdb.connect()
    source = _source(folder)
    con.execute(f"create view exchanges as {_view_sql(source)}")
    con.execute(f"create view tool_calls as {_tools_sql(source)}")
    return con


def query(sql: str | None = None, home: str | os.PathLike[str] | None = None) -> "duckdb.DuckDBPyRelation":
    """A DuckDB relation: every exchange oldest first, or the result of ``sql`` over ``exchanges``.

    In a notebook it shows as a table; ``.fetchall()``, ``.filter(...)``, ``.df()`` (with pandas) work; each call
    reads the log again, so a kept relation shows rows appended since."""
    return connect(home).sql(sql or "select * from exchanges order by time")


def _where(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for name, value in filters.items():
        if name not in VIEW_COLUMNS:
            raise TypeError(f"rows() got an unknown filter {name!r}; "
                            f"the columns are {', '.join(VIEW_COLUMNS)}")
        if value is None:
            clauses.append(f"{name} is null")
        elif isinstance(value, (list, tuple, set, frozenset)):
            values = list(value)
            clauses.append(f"{name} in ({', '.join('?' * len(values))})" if values else "false")
            params.extend(values)
        else:
            clauses.append(f"{name} = ?")
            params.append(value)
    return (" where " + " and ".join(clauses) if clauses else ""), params


def rows(home: str | os.PathLike[str] | None = None, *, limit: int | None = None,
         **filters: Any) -> list[dict[str, Any]]:
    """Exchanges as dicts (keys are :class:`Exchange`'s fields), oldest first.

    Each keyword filters on a column: a value matches equal, ``None`` matches NULL, a list matches any
    of its items: ``rows(notebook="eda.ipynb", replayed=False)``. ``limit`` keeps the latest ones."""
    where, params = _where(filters)
    sql = f"select * from exchanges{where} order by time"
    if limit is not None:
        sql = (f"select * from (select * from exchanges{where} order by time desc limit {int(limit)})"
               " order by time")
    con = connect(home)
    try:
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def totals(home: str | os.PathLike[str] | None = None, notebook: str | None = None,
           session: str | None = None) -> dict[str, Any]:
    """Counts and sums for ``%agentnb usage``.

    ``exchanges``, ``live``, ``replayed``, ``errors`` count rows; tokens and ``cost_usd`` add up the
    live exchanges only (a replay costs nothing); ``unpriced`` counts finished live ones with no known
    cost; ``unfinished`` counts calls started and never finished (killed, or running now)."""
    filters = {k: v for k, v in (("notebook", notebook), ("session", session)) if v is not None}
    where, params = _where(filters)
    live = "filter (where not coalesce(replayed, false))"
    sums = ", ".join(f"coalesce(sum({t}) {live}, 0)::BIGINT" for t in _TOKEN_FIELDS)
    sql = (f"select count(*), count(*) {live}, count(*) filter (where replayed), count(error),"
           f" {sums}, coalesce(sum(cost_usd) {live}, 0)::DOUBLE,"
           f" count(*) filter (where not coalesce(replayed, false) and cost_usd is null and state = 'done'),"
           f" count(*) filter (where state = 'started')"
           f" from exchanges{where}")
    con = connect(home)
    try:
        values = con.execute(sql, params).fetchone()
    finally:
        con.close()
    keys = ("exchanges", "live", "replayed", "errors", *_TOKEN_FIELDS, "cost_usd", "unpriced", "unfinished")
    return dict(zip(keys, values))


def spent_since(since: str, home: str | os.PathLike[str] | None = None) -> float:
    """Dollars of the live calls logged since ``since`` (ISO time), by any process: a finished call at
    its cost, one started and never finished (a killed kernel) at the most it could have cost."""
    sql = ("select coalesce(sum(if(state = 'started', coalesce(max_cost_usd, 0), coalesce(cost_usd, 0))), 0)"
           " from exchanges where not coalesce(replayed, false) and time >= ?")
    con = connect(home)
    try:
        return float(con.execute(sql, [since]).fetchone()[0])
    finally:
        con.close()
