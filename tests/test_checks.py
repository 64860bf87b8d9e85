"""checks.run on answers by themselves (no notebook): which check runs on what."""

from __future__ import annotations

from pathlib import Path

from agentnb import checks
from agentnb.artifacts import extract

ANSWERS = Path(__file__).parent / "data" / "answers"


def run(text: str, **kwargs):
    return checks.run(extract(text), answer_text=text, **kwargs)


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
