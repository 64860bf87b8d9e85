"""Checks that run SQL on a real PostgreSQL server: schemas, migration round trips, schema diffs.

Each check runs its scripts in a scratch transaction (``pgscratch``: as a sandbox role that owns one
scratch database and nothing else, one statement at a time, bounded in time and size, always rolled
back), reads back what they made (``pgreflect``), compares (``schema.compare_schemas``) and, for a diff,
renders the migration the change implies (``alembic``). The server comes from ``pgserver``, the
sandbox from ``pgsandbox``. Every check gives a row: passed, failed with the server's own message and
where, or skipped saying why (no server, a user's server that cannot give a sandbox).

Warm checks (30-table schema, busy machine; ``bench/bench_postgres.py``): check_schema 0.13-0.16 s,
check_migration 0.18-0.23 s, diff_schemas 0.55-0.8 s (Alembic reflection and running the implied
migration included); most of it is the server executing the DDL. check_schema reflects once,
check_migration three times, diff_schemas four (two when given check_schema's reflection of the new
schema: the new DDL then runs only for the implied migration).
"""

from __future__ import annotations

import time

from agentnb.checks.pgreflect import Baseline, baseline, reflect_schema
from agentnb.checks.pgscratch import Scratch, SQLFailure, scratch
from agentnb.checks.pgserver import (
    ENV_URL, ConnectionFailed, NoPostgresError, PostgresServer, get_server, load_drivers, warm_up)
from agentnb.checks.result import FAILED, PASSED, CheckResult
from agentnb.checks.schema import Schema, compare_schemas, plural, schema_summary

__all__ = [
    "check_schema", "check_migration", "diff_schemas",
    # re-exported for callers that import them from here
    "scratch", "SQLFailure", "NoPostgresError", "ConnectionFailed", "PostgresServer", "get_server",
    "warm_up", "ENV_URL", "compare_schemas", "reflect_schema", "schema_summary",
]


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


def _run(name: str, server: PostgresServer | None, body):
    """``body(s, base)`` in a scratch transaction; what stops it becomes the check's row: skipped when
    there is no server or sandbox, failed when the answer's SQL broke what follows it (a cancel past
    the time limit can land in reflection too)."""
    server, skipped = _server_or_skipped(name, server)
    if skipped is not None:
        return skipped
    load_drivers()
    import psycopg
    import sqlalchemy.exc

    try:
        with scratch(server) as s:
            try:
                return body(s, baseline(s))
            except (psycopg.Error, sqlalchemy.exc.DBAPIError) as exc:
                if isinstance(exc, (psycopg.OperationalError, sqlalchemy.exc.OperationalError)) \
                        and s.conn.closed:
                    raise ConnectionFailed(server, exc) from None
                diag = getattr(getattr(exc, "orig", exc), "diag", None)
                message = diag.message_primary if diag is not None and diag.message_primary else str(exc)
                if s.guard is not None and s.guard.tripped:
                    message = s.guard.message()
                return CheckResult(name, FAILED, message.strip().splitlines()[0],
                                   _notes({"phase": "reflection", "sqlstate": getattr(diag, "sqlstate", None)}, s))
    except NoPostgresError as exc:
        return _no_server(name, exc)


def _notes(details: dict, s: Scratch) -> dict:
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

    def body(s: Scratch, base: Baseline):
        try:
            n = s.run_script(ddl, "schema")
        except SQLFailure as f:
            return _failed(name, f, "schema", **_notes({}, s)), None
        schema = reflect_schema(s, base)
        details = _notes({"statements": n, "seconds": round(time.perf_counter() - t0, 4)}, s)
        return CheckResult(name, PASSED, schema_summary(schema), details), schema

    result = _run(name, server, body)
    return (result, None) if isinstance(result, CheckResult) else result


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

    def body(s: Scratch, base: Baseline) -> CheckResult:
        phase = "schema"
        up_changes: list[dict] = []
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

    return _run(name, server, body)


def diff_schemas(old_ddl: str, new_ddl: str, name: str = "Schema changes",
                 *, server: PostgresServer | None = None, implied: bool = True,
                 new_schema: Schema | None = None) -> CheckResult:
    """What changed from ``old_ddl`` to ``new_ddl``, and the migration that change implies.

    Passed with ``details["differences"]`` (readable list), ``details["changes"]`` (structured),
    ``details["upgrade_sql"]`` / ``details["downgrade_sql"]`` (PostgreSQL, rendered by Alembic's
    autogenerate), ``details["alembic_upgrade"]`` / ``details["alembic_downgrade"]`` (Alembic ops as
    Python). Failed when either script does not run (``details["phase"]`` = "old" | "new").
    ``implied=False`` skips rendering and verifying the implied migration (the answer has its own).
    ``new_schema``: ``new_ddl`` as :func:`check_schema` reflected it; new_ddl then runs only when the
    implied migration needs it.
    """
    t0 = time.perf_counter()

    def body(s: Scratch, base: Baseline) -> CheckResult:
        # each script runs from the same savepoint, so both see the same names (extensions,
        # explicit schemas) and never each other: old, then new, then (when they differ) old again
        # with new's reflected MetaData for Alembic, and the implied migration run on it
        s.execute("SAVEPOINT agentnb_old")
        reflected = []
        for phase, ddl in (("old", old_ddl), ("new", new_ddl)):
            if phase == "new" and new_schema is not None:
                reflected.append(new_schema)
                break
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

                if new_schema is not None:          # Alembic's metadata comes from the database itself
                    s.run_script(new_ddl, "new")
                new_metadata = alembic.reflect_metadata(s.sa)
                s.execute("ROLLBACK TO SAVEPOINT agentnb_old")
                s.run_script(old_ddl, "old")
                details.update(alembic.implied_migration(s.sa, new_metadata, changes))
            except Exception as exc:   # rendering is a bonus: the differences stand on their own
                details["migration_error"] = f"{type(exc).__name__}: {exc}"
            else:
                _verify_migration(s, base, old, new, details)
            s.notes = notes
        details["seconds"] = round(time.perf_counter() - t0, 4)
        msg = plural(len(changes), "difference") if changes else "no differences"
        return CheckResult(name, PASSED, msg, details)

    return _run(name, server, body)


def _verify_migration(s: Scratch, base: Baseline, old: Schema, new: Schema, details: dict) -> None:
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
