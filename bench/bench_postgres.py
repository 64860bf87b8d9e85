"""How long the PostgreSQL checks take: server start (each embedded option), schema, migration, diff,
and the checks of the shipped design session.

    /work/venv/bin/python bench/bench_postgres.py [--runs N] [--session-only]

Server starts are cold (a new cluster each time). Check times are medians on a warm server, for a
generated 30-table schema with identity keys, enums, JSONB, arrays, foreign keys and partial indexes;
``reflect_schema`` alone too (one reflection; check_schema makes one, check_migration three).
"design session": ``agentnb.checks.run`` on the four answers of ``data/answers/design_session`` in turn,
each with the previous answer's schema (as a notebook session runs them: schema, migrations on each
base, the diff and its implied migration, DuckDB and the code checks alongside), median of the
session's total over ``--runs * 2`` passes; the PostgreSQL calls alone are timed apart too.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from agentnb.checks import pgreflect, pgserver, postgres
from agentnb.checks.schema import schema_summary


def make_schema(n_tables: int = 30) -> str:
    parts = ["CREATE TYPE item_state AS ENUM ('new', 'active', 'archived');"]
    for i in range(n_tables):
        fk = f",\n    parent_id bigint REFERENCES t{i - 1} (id) ON DELETE CASCADE" if i else ""
        parts.append(f"""CREATE TABLE t{i} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE,
    state item_state NOT NULL DEFAULT 'new',
    tags text[] NOT NULL DEFAULT '{{}}',
    data jsonb,
    amount numeric(10, 2) CHECK (amount >= 0),
    created_at timestamptz NOT NULL DEFAULT now(){fk}
);
CREATE INDEX t{i}_active_idx ON t{i} (created_at) WHERE state = 'active';""")
    return "\n".join(parts) + "\n"


UP = "ALTER TABLE t5 ADD COLUMN note text;\nCREATE TABLE extra (id bigint PRIMARY KEY, t0_id bigint REFERENCES t0 (id));\n"
DOWN = "DROP TABLE extra;\nALTER TABLE t5 DROP COLUMN note;\n"


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_start(runs: int) -> None:
    for label, starter in (("machine binaries", pgserver._start_system),
                           ("pgserver", pgserver._start_pgserver)):
        times = []
        for _ in range(runs):
            reasons: list[str] = []
            t0 = time.perf_counter()
            server = starter(reasons)
            if server is None:
                print(f"start {label:17s} unavailable: {'; '.join(reasons)}")
                break
            with server.connect() as conn:
                conn.execute("select 1")
            times.append(time.perf_counter() - t0)
            server.stop()
        if times:
            print(f"start {label:17s} to select 1: median {statistics.median(times):.3f} s "
                  f"(min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)")


def bench_design_session(server, runs: int) -> None:
    from agentnb import checks
    from agentnb.artifacts import extract

    folder = Path(__file__).resolve().parents[1] / "data" / "answers" / "design_session"
    answers = [extract(p.read_text()) for p in sorted(folder.glob("0*.md"))]

    def session() -> list[str]:
        previous, statuses = None, []
        for artifacts in answers:
            report = checks.run(artifacts, previous_ddl=previous)
            statuses += [r.status for r in report.rows if r.name.startswith(checks.FIXABLE + ("Schema changes",))]
            previous = artifacts.schema or previous
        return statuses

    def postgres_only() -> None:      # the PostgreSQL calls a session makes, nothing else
        previous = None
        for artifacts in answers:
            ddl = artifacts.schema
            if ddl:
                postgres.check_schema(ddl, server=server)
            for pair in artifacts.migrations:
                if pair.up is not None and pair.down is not None:
                    postgres.check_migration(previous or "", pair.up.code, pair.down.code, server=server)
            if ddl and previous and previous.strip() != ddl.strip():
                postgres.diff_schemas(previous, ddl, server=server,
                                      implied=not any(p.up is not None for p in artifacts.migrations))
            previous = ddl or previous

    session()                                  # imports, first connections
    secs, statuses = timed(session, runs * 2)
    print(f"design session, checks.run on 4 answers: {secs * 1000:.0f} ms — "
          f"{statuses.count('passed')}/{len(statuses)} SQL rows passed")
    secs, _ = timed(postgres_only, runs * 2)
    print(f"design session, PostgreSQL calls only: {secs * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--session-only", action="store_true", help="only the design session figure")
    args = ap.parse_args()
    if args.session_only:
        bench_design_session(postgres.get_server(), args.runs)
        return
    bench_start(args.runs)

    t0 = time.perf_counter()
    server = postgres.get_server()
    print(f"get_server ({server.kind}): {time.perf_counter() - t0:.3f} s")
    ddl = make_schema(30)
    t0 = time.perf_counter()
    result, _ = postgres.check_schema(ddl, server=server)
    print(f"check_schema first call (imports included): {time.perf_counter() - t0:.3f} s")
    secs, (result, _) = timed(lambda: postgres.check_schema(ddl, server=server), args.runs * 3)
    print(f"check_schema 30 tables: {secs * 1000:.0f} ms — {result.message}")
    with postgres.scratch(server) as s:        # reflection alone (SQLAlchemy's Inspector, get_multi_*)
        base = pgreflect.baseline(s)
        s.run_script(ddl)
        secs, schema = timed(lambda: pgreflect.reflect_schema(s, base), args.runs * 5)
    print(f"reflect_schema 30 tables: {secs * 1000:.1f} ms — {schema_summary(schema)}")
    secs, result = timed(lambda: postgres.check_migration(ddl, UP, DOWN, "bench", server=server), args.runs * 3)
    print(f"check_migration 30 tables: {secs * 1000:.0f} ms — {result.status}: {result.message}")
    new = ddl.replace("CREATE TABLE t7 (", "CREATE TABLE t7 (\n    extra_col int,") + UP.split("\n")[1]
    postgres.diff_schemas(ddl, new, server=server)          # imports Alembic
    secs, result = timed(lambda: postgres.diff_schemas(ddl, new, server=server), args.runs * 3)
    print(f"diff_schemas 30 tables: {secs * 1000:.0f} ms — {result.message}, "
          f"upgrade verified: {result.details.get('upgrade_verified')}")
    bench_design_session(server, args.runs)


if __name__ == "__main__":
    main()
