"""Checks that really run, on one answer's artifacts: the one place that decides which check runs on what.

PostgreSQL decides what is valid (its parser, then a real server); DuckDB holds a lowered copy for the
user's own queries; OpenAPI, code, secrets and the answer's format are checked by ``codechecks``.
Every check gives a row (passed, failed with the exact message, or skipped with the reason); none
raises for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentnb.checks.result import FAILED, SKIPPED, CheckResult

SQL_KINDS = ("schema", "migration", "query")
# the checks whose failures --fix sends back to the agent (DuckDB's only when no PostgreSQL judged the
# schema: otherwise a DuckDB failure is DuckDB's own limit, not the agent's mistake)
FIXABLE = ("SQL syntax", "Schema on PostgreSQL", "Migration")
DUCKDB_CHECK = "Schema on DuckDB"


@dataclass
class CheckReport:
    rows: list[CheckResult] = field(default_factory=list)
    schema: object | None = None          # dbschema.Schema as PostgreSQL (else DuckDB) reflects it
    duck: object | None = None            # duckschema.LoadResult: the lowered copy, for schema_db()
    schema_valid: bool = False
    diff: CheckResult | None = None       # what changed since the conversation's previous schema
    implied_migration: dict | None = None  # {"up": sql, "down": sql} when the agent wrote none

    def failures(self, fixable_only: bool = False) -> list[CheckResult]:
        if not fixable_only:
            return [r for r in self.rows if r.status == FAILED]
        postgres_judged = any(r.name == "Schema on PostgreSQL" and r.status != SKIPPED for r in self.rows)
        fixable = FIXABLE if postgres_judged else FIXABLE + (DUCKDB_CHECK,)
        return [r for r in self.rows if r.status == FAILED and r.name.startswith(fixable)]


def _label(artifact) -> str:
    return artifact.filename or artifact.title or f"block {artifact.index + 1} ({artifact.kind})"


def run(artifacts, *, answer_text: str = "", previous_ddl: str | None = None,
        required: tuple[str, ...] | list[str] = ()) -> CheckReport:
    report = CheckReport()
    if not len(artifacts):
        return report
    from agentnb.checks import sql as sqlcheck

    for artifact in artifacts:
        if artifact.kind in SQL_KINDS and artifact.language in ("sql", ""):   # artifacts calls every SQL dialect "sql"
            row = sqlcheck.check_syntax(artifact.code, name=f"SQL syntax: {_label(artifact)}")
            if row.status != SKIPPED:
                report.rows.append(row)

    ddl = artifacts.schema
    # PostgreSQL's checks wait on the server (the GIL is released meanwhile): they run in a thread while
    # DuckDB and the code checks run here. Rows keep one order whatever finishes first.
    from concurrent.futures import ThreadPoolExecutor

    from agentnb.checks import code as codechecks

    with ThreadPoolExecutor(1, thread_name_prefix="agentnb-postgres") as pool:
        on_postgres = pool.submit(_postgres_checks, artifacts, ddl, previous_ddl)
        duck = _load_duckdb(ddl) if ddl else None
        code_rows = codechecks.run_all(answer_text, artifacts, list(required))
        pg_row, schema, migration_rows, diff = on_postgres.result()
    if pg_row is not None:
        report.rows.append(pg_row)
        report.schema = schema
    if duck is not None:
        report.rows.append(duck.check())
        report.duck = duck
        pg_ok = pg_row.status == "passed"
        report.schema_valid = pg_ok or (pg_row.status == SKIPPED and duck.ok)
        if report.schema is None and report.schema_valid:
            report.schema = duck.schema      # no server: the diagram comes from DuckDB's catalog
    report.rows.extend(migration_rows)
    if diff is not None:
        report.diff = diff
        if diff.details.get("upgrade_sql"):
            report.implied_migration = {"up": diff.details.get("upgrade_sql", ""),
                                        "down": diff.details.get("downgrade_sql", "")}
            diff.message += (" — no migration in the answer: the migration these changes imply is in the "
                             "Migrations tab")
        report.rows.append(diff)
    report.rows.extend(code_rows)
    return report


def _load_duckdb(ddl: str):
    from agentnb.checks import duckdb as duckschema

    return duckschema.load(ddl)


def _postgres_checks(artifacts, ddl: str | None, previous_ddl: str | None):
    """Schema, migrations and evolution on PostgreSQL: (schema row, reflected schema, migration rows,
    evolution row). A server that cannot be reached makes every row a skipped one saying why."""
    from agentnb.checks import postgres

    try:
        return _postgres_rows(artifacts, ddl, previous_ddl)
    except postgres.ConnectionFailed as err:
        skipped = CheckResult("Schema on PostgreSQL", SKIPPED, str(err))
        migrations = [CheckResult(f"Migration {p.id} up/down", SKIPPED, str(err))
                      for p in artifacts.migrations if p.up is not None and p.down is not None]
        return (skipped if ddl else None), None, migrations, None


def _postgres_rows(artifacts, ddl: str | None, previous_ddl: str | None):
    from agentnb.checks import postgres

    row = schema = diff = None
    if ddl:
        row, schema = postgres.check_schema(ddl)
    migration_rows = _check_migrations(artifacts, ddl, previous_ddl)
    if row is not None and row.status == "passed" and previous_ddl and previous_ddl.strip() != ddl.strip():
        has_migration = any(p.up is not None for p in artifacts.migrations)
        diff = postgres.diff_schemas(previous_ddl, ddl, name="Schema changes since the previous answer",
                                     implied=not has_migration)
    return row, schema, migration_rows, diff


def _check_migrations(artifacts, ddl: str | None, previous_ddl: str | None) -> list[CheckResult]:
    from agentnb.checks import postgres

    rows: list[CheckResult] = []

    pairs = [p for p in artifacts.migrations
             if p.up is not None and p.down is not None and p.up is not p.down
             and p.up.language in ("sql", "") and p.down.language in ("sql", "")]
    for pair in pairs:
        # Where the migration starts from: the conversation's previous schema (the usual case: the
        # answer evolves it), nothing (an initial migration), or this answer's schema.
        bases = []
        for label, base in (("previous schema", previous_ddl), ("empty database", ""), ("this answer's schema", ddl)):
            if base is not None and all(base != b for _, b in bases):
                bases.append((label, base))
        row = None
        for label, base in bases:
            row = postgres.check_migration(base, pair.up.code, pair.down.code, name=f"Migration {pair.id}")
            row.details["base"] = label
            if not (row.status == FAILED and row.details.get("phase") in ("up", "schema")):
                break
        if row is not None:
            if row.status != SKIPPED:
                row.message = f"{row.message} (applied on: {row.details['base']})"
            rows.append(row)
    for pair in artifacts.migrations:
        if pair.up is None or pair.down is None:
            missing = "down" if pair.down is None else "up"
            prisma = pair.up is not None and (pair.up.filename or "").endswith("/migration.sql")
            if prisma and missing == "down":
                # Prisma Migrate writes forward-only migrations: there is nothing to round-trip
                rows.append(CheckResult(f"Migration {pair.id}", SKIPPED,
                                        "a Prisma migration (forward only): no down migration to apply"))
            else:
                rows.append(CheckResult(f"Migration {pair.id}", FAILED,
                                        f"the {missing} migration is missing: every up needs its down"))
    return rows


def fix_prompt(failures: list[CheckResult]) -> str:
    """The next turn of a ``--fix`` round: the exact errors, and what to send back. In English, which
    every agent reads; the agent answers in its own language."""
    lines = ["Automatic checks failed on your previous answer. Here are the exact errors (PostgreSQL is the "
             "judge):", ""]
    for row in failures:
        lines.append(f"- {row.name}: {row.message}")
        statement = row.details.get("statement")
        if statement:
            lines.append(f"  statement: {statement}")
    lines += ["", "Fix these errors and give the affected blocks again, complete (schema and migrations), in "
              "the same format."]
    return "\n".join(lines)
