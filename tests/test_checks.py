"""checks.run on answers by themselves (no notebook): which check runs on what."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentnb import checks
from agentnb.artifacts import Artifact, Artifacts, EnvVar, extract

ANSWERS = Path(__file__).parent / "data" / "answers"


BACKEND_FORMAT = ["code", "schema", "examples", "env"]


def run(text: str, **kwargs):
    return checks.run(extract(text), answer_text=text, **kwargs)


def answer(name: str) -> str:
    return (ANSWERS / name).read_text(encoding="utf-8")


def fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code.strip()}\n```\n"


def code_rows(text: str, required=()):
    """The rows of the checks on code (no PostgreSQL, no DuckDB)."""
    return run(text, required=required, sql=False).rows


# --- the checks on code, on sample answers ------------------------------------------------------------

def test_library_answer_passes_every_check():
    text = answer("library.md")
    rows = code_rows(text, BACKEND_FORMAT)
    assert [(r.name, r.status) for r in rows] == [
        ("OpenAPI contract", "passed"),
        ("OpenAPI operations documented", "passed"),
        ("Request examples match the contract", "passed"),
        ("Python syntax: app/models.py", "passed"),
        ("Python syntax: app/main.py", "passed"),
        ("Security of the Python code (bandit)", "passed"),
        ("No hard-coded secrets", "passed"),
        ("Environment variables listed", "passed"),
        ("Answer format", "passed"),
    ]
    messages = [r.message for r in rows]
    assert messages[0] == "openapi.yaml: valid OpenAPI 3.1.0"
    assert messages[1] == "7 operations, each with a summary or description and its responses"
    assert messages[2] == "6 requests match a declared path and method"
    assert messages[7] == "2 variables read by the code, all in the answer's list"
    assert rows[7].details["matched"] == ["DATABASE_URL", "LOAN_DURATION_DAYS"]


def test_nest_prisma_answer_passes_and_typescript_is_parsed():
    pytest.importorskip("tree_sitter_typescript")
    text = answer("nest_prisma.md")
    rows = code_rows(text, BACKEND_FORMAT)
    statuses = {r.name: r.status for r in rows}
    # Prisma's parser needs Node and `agentnb setup prisma`: passed with them, skipped without (tests/test_prisma.py)
    assert statuses.pop("Prisma schema: prisma/schema.prisma") in ("passed", "skipped")
    assert statuses == {
        "TypeScript syntax: src/loans/loans.service.ts": "passed",
        "TypeScript syntax: src/main.ts": "passed",
        "Dockerfile lint (hadolint): block 6 (dockerfile)": "passed",
        "Dockerfile: block 6 (dockerfile)": "failed",   # no USER: the container runs as root
        "Compose file: docker-compose.yml": "passed",
        "Compose services: docker-compose.yml": "passed",   # its Dockerfile is unnamed: builds not matched
        "No hard-coded secrets": "passed",            # JWT_SECRET=change-me, POSTGRES_PASSWORD: library
        "Environment variables listed": "passed",     # process.env.X and Prisma env("DATABASE_URL")
        "Answer format": "passed",
    }
    by_name = {r.name: r for r in rows}
    assert by_name["Environment variables listed"].details["matched"] == ["DATABASE_URL", "MAX_ACTIVE_LOANS", "PORT"]
    assert by_name["Dockerfile: block 6 (dockerfile)"].message == (
        "block 6 (dockerfile) line 7: the container runs as root: add a USER with an unprivileged account in "
        "the final stage")


def test_conversational_answer_is_skipped_not_failed():
    text = answer("no_code.md")
    arts = extract(text)
    rows = [checks.check_secrets(arts), checks.check_env(arts), checks.check_answer_format(text, arts, BACKEND_FORMAT)]
    assert [(r.name, r.status, r.message) for r in rows] == [
        ("No hard-coded secrets", "skipped", "no blocks in this answer"),
        ("Environment variables listed", "skipped", "no code in this answer"),
        ("Answer format", "skipped", "no artifacts in this answer: a conversational reply"),
    ]


def test_code_checks_leave_out_the_format_row_when_the_agent_declares_none():
    text = fence("python", "# app/x.py\nx = 1")
    assert [r.name for r in code_rows(text)] == [
        "Python syntax: app/x.py", "Security of the Python code (bandit)", "No hard-coded secrets",
        "Environment variables listed"]


def test_run_accepts_a_plain_list_of_artifacts():
    rows = checks.run([Artifact("python", "python", "x = (\n", filename="a.py")], sql=False).rows
    assert rows[0].status == "failed"


def test_checks_never_raise_on_odd_artifacts():
    odd = Artifacts([
        Artifact("python", "python", ""), Artifact("typescript", "typescript", ""),
        Artifact("example", "bash", "curl\ncurl -X\nhttp\ncurl 'unterminated\n"),
        Artifact("compose", "yaml", "${"), Artifact("prisma", "prisma", "env("),
        Artifact("openapi", "json", "{\"openapi\": \"3.1.0\""),
    ], [EnvVar("X", example=None)])
    rows = checks.run(odd, required=["code", "schema"], sql=False).rows
    assert all(r.status in ("passed", "failed", "skipped") for r in rows)


# --- which check runs on what -------------------------------------------------------------------------


def test_a_prisma_migration_has_no_down_and_is_not_failed_for_it():
    text = (ANSWERS / "nest_prisma.md").read_text()
    [row] = [r for r in run(text).rows if r.name.startswith("Migration")]
    assert row.status == "skipped" and "Prisma" in row.message


def test_an_up_without_its_down_fails():
    text = "```sql\n-- migrations/0002_add_phone.up.sql\nALTER TABLE members ADD COLUMN phone text;\n```\n"
    [row] = [r for r in run(text).rows if r.name.startswith("Migration")]
    assert row.status == "failed" and "down migration is missing" in row.message


def test_a_conversational_answer_runs_no_check():
    assert run((ANSWERS / "no_code.md").read_text()).rows == []


def test_fix_prompt_carries_the_exact_errors():
    report = run("```sql\n-- schema.sql\nCREATE TABLE loans (member_id bigint REFERENCES members (id));\n```\n")
    failures = report.failures(fixable_only=True)
    assert failures          # PostgreSQL's (or, with no server, DuckDB's) refusal of the missing table
    prompt = checks.fix_prompt(failures)
    for row in failures:
        assert row.message in prompt
    assert "Fix these errors" in prompt


def test_a_postgres_url_that_cannot_be_reached_gives_rows_not_a_traceback(monkeypatch):
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", "postgresql://someone:secret@127.0.0.1:9/nowhere")
    text = (ANSWERS / "library.md").read_text()
    report = run(text)
    [pg] = [r for r in report.rows if r.name == "Schema on PostgreSQL"]
    assert pg.status == "skipped" and "AGENTNB_POSTGRES_URL" in pg.message and "secret" not in pg.message
    assert [r.status for r in report.rows if r.name.startswith("Migration")] == ["skipped"]
    # no server judged the schema: DuckDB decides, and its failures become fixable
    assert report.schema_valid == (next(r for r in report.rows if r.name == "Schema on DuckDB").status == "passed")


def test_without_postgres_duckdb_failures_are_what_fix_sends_back(monkeypatch):
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", "postgresql://127.0.0.1:9/nowhere")
    report = run("```sql\n-- schema.sql\nCREATE TABLE loans (member_id bigint REFERENCES members (id));\n```\n")
    fixable = report.failures(fixable_only=True)
    assert [r.name for r in fixable] == ["Schema on DuckDB"] and "members" in fixable[0].message
