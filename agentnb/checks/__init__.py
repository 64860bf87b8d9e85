"""Checks that really run, on one answer's artifacts: the one place that decides which check runs on what.

PostgreSQL decides what is valid (its parser, then a real server); DuckDB holds a lowered copy for the
user's own queries; ``openapi``, ``code``, ``secrets`` and ``answer_format`` check the rest.
Every check gives a row (passed, failed with the exact message, or skipped with the reason); none
raises for bad input.

The public names (``__all__``) are what a notebook may call; the check functions are imported from
their modules on first use, so ``import agentnb.checks`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from agentnb.checks.result import FAILED, SKIPPED, CheckResult

__all__ = [
    "CheckReport", "CheckResult", "run",
    "check_syntax", "check_schema", "check_migration", "diff_schemas",
    "check_openapi", "check_python", "check_typescript", "check_secrets", "check_env", "check_answer_format",
    "check_graphql", "check_security", "check_dockerfile", "check_compose", "check_proto",
    "check_asyncapi", "check_mongodb", "check_prisma",
]

# public name -> the module that defines it, imported on first use
_LAZY = {
    "check_syntax": "agentnb.checks.sql",
    "check_schema": "agentnb.checks.postgres",
    "check_migration": "agentnb.checks.postgres",
    "diff_schemas": "agentnb.checks.postgres",
    "check_openapi": "agentnb.checks.openapi",
    "check_python": "agentnb.checks.code",
    "check_typescript": "agentnb.checks.code",
    "check_secrets": "agentnb.checks.secrets",
    "check_env": "agentnb.checks.secrets",
    "check_answer_format": "agentnb.checks.answer_format",
    "check_graphql": "agentnb.checks.graphql",
    "check_security": "agentnb.checks.security",
    "check_dockerfile": "agentnb.checks.docker",
    "check_compose": "agentnb.checks.docker",
    "check_proto": "agentnb.checks.proto",
    "check_asyncapi": "agentnb.checks.asyncapi",
    "check_mongodb": "agentnb.checks.mongodb",
    "check_prisma": "agentnb.checks.prisma",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
        required: tuple[str, ...] | list[str] = (), sql: bool = True, timeout: float | None = None,
        extra_checks: Sequence[tuple[str, Callable]] = ()) -> CheckReport:
    """Every check on one answer's artifacts (``agentnb.extract(answer_text)``), one row each, in display
    order. ``required``: the agent's answer-format parts. ``sql=False``: the checks on code only (no
    PostgreSQL, no DuckDB). ``timeout``: seconds for all the checks together (default
    ``AGENTNB_CHECK_TIMEOUT``, else 30). ``extra_checks``: more checks, ``(row name, function of the
    artifacts returning a row or a list of rows)``, run after the others under the same limits.

    Never raises for an answer: a check that raises, overruns its limit or never gets its turn gives one
    failed row of its own, and the other rows stand."""
    from agentnb.checks import where
    from agentnb.checks.limits import CHECK_LIMIT, Job, run_lanes

    report = CheckReport()
    if not len(artifacts):
        return report
    from agentnb.artifacts import Artifacts

    if not isinstance(artifacts, Artifacts):
        artifacts = Artifacts(artifacts)
    main: list[Job] = []
    syntax_jobs = duck_job = pg_job = models_job = None
    ddl = artifacts.schema if sql else None
    if sql:
        from agentnb.checks import sql as sqlcheck

        checked = [a for a in artifacts if a.kind in SQL_KINDS and a.language in ("sql", "")]   # every dialect is "sql"
        syntax_jobs = [Job(f"SQL syntax: {_label(a)}", partial(sqlcheck.check_syntax, a.code,
                                                                name=f"SQL syntax: {_label(a)}"), CHECK_LIMIT)
                       for a in checked]
        syntax_blocks = dict(zip(map(id, syntax_jobs), checked))
        main += syntax_jobs
        if ddl:
            duck_job = Job(DUCKDB_CHECK, partial(_load_duckdb, ddl), CHECK_LIMIT)
            main.append(duck_job)
        if ddl or artifacts.migrations:
            # PostgreSQL's checks wait on the server: they run in a lane of their own meanwhile, the
            # models (compared with the schema PostgreSQL reflects) after them, within the same total
            pg_done: dict = {}
            pg_job = Job("Schema on PostgreSQL" if ddl else "Migrations",
                         partial(_postgres_checks, artifacts, ddl, previous_ddl, pg_done))
            models_job = _models_job(artifacts, pg_done) if ddl else None
    code_jobs = [Job(name, check, CHECK_LIMIT) for name, check in _code_checks(answer_text, artifacts, required)]
    code_jobs += [Job(name, partial(_extra, check, artifacts), CHECK_LIMIT) for name, check in extra_checks]
    main += code_jobs
    lanes = [main] + ([[pg_job] + ([models_job] if models_job else [])] if pg_job else [])
    outcomes = dict(zip(map(id, (job for lane in lanes for job in lane)),
                        (o for lane in run_lanes(lanes, timeout) for o in lane)))

    for job in syntax_jobs or ():
        row = outcomes[id(job)].row or outcomes[id(job)].value
        if row.status != SKIPPED:
            where.locate(row, [(1, syntax_blocks[id(job)])])
            report.rows.append(row)
    pg_row, schema, migration_rows, diff = None, None, [], None
    if pg_job is not None:
        done = outcomes[id(pg_job)]
        if done.ok:
            pg_row, schema, migration_rows, diff = done.value
        elif ddl:
            pg_row = done.row
        else:
            migration_rows = [done.row]
    if pg_row is not None:
        where.locate(pg_row, where.schema_pieces(artifacts))
        report.rows.append(pg_row)
        report.schema = schema
    if duck_job is not None:
        done = outcomes[id(duck_job)]
        duck, duck_row = done.value if done.ok else (None, done.row)
        report.rows.append(duck_row)
        report.duck = duck
        pg_ok = pg_row.status == "passed"
        report.schema_valid = pg_ok or (pg_row.status == SKIPPED and duck is not None and duck.ok)
        if report.schema is None and report.schema_valid:
            report.schema = duck.schema      # no server: the diagram comes from DuckDB's catalog
    report.rows.extend(migration_rows)
    if models_job is not None:
        done = outcomes[id(models_job)]
        report.rows.extend(done.value if done.ok else [done.row])
    if ddl and pg_row is not None:
        report.rows.extend(_prisma_model_rows(artifacts, schema if pg_row.status == "passed" else None, pg_row))
    if diff is not None:
        report.diff = diff
        if diff.details.get("upgrade_sql"):
            report.implied_migration = {"up": diff.details.get("upgrade_sql", ""),
                                        "down": diff.details.get("downgrade_sql", "")}
            diff.message += (" — no migration in the answer: the migration these changes imply is in the "
                             "Migrations tab")
        report.rows.append(diff)
    for job in code_jobs:
        done = outcomes[id(job)]
        report.rows.extend(done.value if done.ok else [done.row])
    return report


def _models_job(artifacts, pg_done: dict):
    """The answer's SQLAlchemy models against the schema PostgreSQL reflected (``pg_done``, filled by the
    PostgreSQL job before it in the lane), or None without models. Its child process is stopped when
    the check's limit or the total runs out."""
    from agentnb.checks import models
    from agentnb.checks.limits import Job

    blocks = models.model_blocks(artifacts)
    if not blocks:
        return None
    name = models.row_name(blocks)
    child = models.Child()

    def rows() -> list[CheckResult]:
        if "value" not in pg_done:
            return [CheckResult(name, SKIPPED, "nothing to compare the models with: the schema check on "
                                               "PostgreSQL did not finish")]
        pg_row, schema = pg_done["value"][:2]
        if pg_row.status != "passed":
            why = "the schema did not load on PostgreSQL" if pg_row.status == FAILED else pg_row.message
            return [CheckResult(name, SKIPPED, f"nothing to compare the models with: {why}")]
        return models.check_models(artifacts, schema, timeout=models.TIMEOUT, child=child)

    return Job(name, rows, models.TIMEOUT, cancel=child.stop)


def _prisma_model_rows(artifacts, schema, pg_row: CheckResult) -> list[CheckResult]:
    """The answer's Prisma models against the same schema, from what the Prisma schema row parsed (the
    parser ran there, under the checks' limits)."""
    if not artifacts.by_kind("prisma"):
        return []
    from agentnb.checks import prisma

    try:
        rows = prisma.compare_with_schema(artifacts, schema, cached_only=True)
    except Exception as err:          # a bug of ours costs the row, never the report
        return [CheckResult(prisma.MODELS_ROW, FAILED, f"internal error: {type(err).__name__}: {err}")]
    if schema is None:
        why = "the schema did not load on PostgreSQL" if pg_row.status == FAILED else pg_row.message
        for row in rows:
            if row.status == SKIPPED and row.message.startswith("no schema reflected"):
                row.message = f"nothing to compare the models with: {why}"
    return rows


def _extra(check: Callable, artifacts) -> list[CheckResult]:
    rows = check(artifacts)
    return [rows] if isinstance(rows, CheckResult) else list(rows)


def _code_checks(answer_text: str, artifacts, required) -> list[tuple[str, Callable[[], list[CheckResult]]]]:
    """(row name, check) for every check on the answer's code, in display order: OpenAPI (three rows per
    contract), one row per Python and per TypeScript/JavaScript block, secrets, environment variables,
    and the answer format when the agent declares one."""
    from agentnb.checks import answer_format, code, openapi, secrets

    checks: list[tuple[str, Callable[[], list[CheckResult]]]] = []
    for contract in artifacts.by_kind("openapi"):
        checks.append(("OpenAPI contract", partial(openapi.check_openapi, contract, artifacts.examples)))
    for a in artifacts:
        if a.language == "python" and a.kind in ("python", "migration"):
            checks.append((f"Python syntax: {a.filename or f'block {a.index + 1} (python)'}",
                           _one(code.check_python, a)))
    for a in artifacts:
        if a.kind in ("typescript", "javascript"):
            lang = "TypeScript" if a.kind == "typescript" else "JavaScript"
            checks.append((f"{lang} syntax: {a.filename or f'block {a.index + 1} ({a.kind})'}",
                           _one(code.check_typescript, a)))
    checks += _stack_checks(artifacts)
    checks.append(("No hard-coded secrets", _one(secrets.check_secrets, artifacts)))
    checks.append(("Environment variables listed", _one(secrets.check_env, artifacts)))
    if required:
        checks.append(("Answer format", _one(answer_format.check_answer_format, answer_text, artifacts, required)))
    return checks


# the stack's families that run when the answer holds their kind: (kind, row name, public check function)
_STACK_BY_KIND = (("graphql", "GraphQL schema", "check_graphql"), ("proto", "Protocol Buffers", "check_proto"),
                  ("dockerfile", "Dockerfile", "check_dockerfile"), ("compose", "Compose file", "check_compose"),
                  ("prisma", "Prisma schema", "check_prisma"), ("asyncapi", "AsyncAPI document", "check_asyncapi"))


def _stack_checks(artifacts) -> list[tuple[str, Callable[[], list[CheckResult]]]]:
    """GraphQL, gRPC, Docker, Prisma, AsyncAPI, MongoDB and the code's security: each family a check of its
    own, only when the answer holds what it reads (each returns its rows, none when there is nothing to check)."""
    from agentnb.checks.mongodb import mongodb_blocks

    kinds = {a.kind for a in artifacts}
    checks = [(row, partial(_family, function, artifacts)) for kind, row, function in _STACK_BY_KIND
              if kind in kinds]
    if mongodb_blocks(artifacts):         # mongosh blocks, and driver calls in the answer's code
        checks.append(("MongoDB", partial(_family, "check_mongodb", artifacts)))
    if any(a.language == "python" and a.kind in ("python", "migration") for a in artifacts):
        checks.append(("Security of the Python code", partial(_family, "check_security", artifacts)))
    return checks


def _family(function: str, artifacts) -> list[CheckResult]:
    """A public check function's rows, its module imported when the check runs (in its job)."""
    from importlib import import_module

    return _extra(getattr(import_module(_LAZY[function]), function), artifacts)


def _one(check, *args) -> Callable[[], list[CheckResult]]:
    return lambda: [check(*args)]


def _load_duckdb(ddl: str):
    """(the lowered copy, its row)."""
    from agentnb.checks import duckdb as duckschema

    duck = duckschema.load(ddl)
    return duck, duck.check()


def _postgres_checks(artifacts, ddl: str | None, previous_ddl: str | None, done: dict):
    """Schema, migrations and evolution on PostgreSQL: (schema row, reflected schema, migration rows,
    evolution row), also left in ``done["value"]`` for the models after it. A server that cannot be
    reached makes every row a skipped one saying why."""
    from agentnb.checks import postgres

    try:
        done["value"] = _postgres_rows(artifacts, ddl, previous_ddl)
    except postgres.ConnectionFailed as err:
        skipped = CheckResult("Schema on PostgreSQL", SKIPPED, str(err))
        migrations = [CheckResult(f"Migration {p.id} up/down", SKIPPED, str(err))
                      for p in artifacts.migrations if p.up is not None and p.down is not None]
        done["value"] = (skipped if ddl else None), None, migrations, None
    return done["value"]


def _postgres_rows(artifacts, ddl: str | None, previous_ddl: str | None):
    from agentnb.checks import postgres

    row = schema = diff = None
    if ddl:
        row, schema = postgres.check_schema(ddl)
    migration_rows = _check_migrations(artifacts, ddl, previous_ddl)
    if row is not None and row.status == "passed" and previous_ddl and previous_ddl.strip() != ddl.strip():
        has_migration = any(p.up is not None for p in artifacts.migrations)
        diff = postgres.diff_schemas(previous_ddl, ddl, name="Schema changes since the previous answer",
                                     implied=not has_migration, new_schema=schema)
    return row, schema, migration_rows, diff


def _check_migrations(artifacts, ddl: str | None, previous_ddl: str | None) -> list[CheckResult]:
    from agentnb.checks import postgres, where

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
            script = {"up": pair.up, "down": pair.down}.get(row.details.get("phase"))
            if script is not None:
                where.locate(row, [(1, script)])
            elif row.details.get("phase") == "schema" and row.details.get("base") == "this answer's schema":
                where.locate(row, where.schema_pieces(artifacts))
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
