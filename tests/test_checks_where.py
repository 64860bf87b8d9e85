"""A failing statement is shown where the reader sees it: its line and column in the answer's text."""

from __future__ import annotations

import pytest

from agentnb import checks, extract

ANSWER = """# Proposition

Voici le schéma.

```sql
-- db/schema.sql
CREATE TABLE members (
    id bigint PRIMARY KEY,
    name text NOT NULL
);
```

Et la suite :

```sql
CREATE TABLE loans (
    id bigint PRIMARY KEY,
    member_id bigint REFERENCES membres (id)
);
```
"""


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_postgresql_failure_names_the_line_of_the_answer_and_the_statement():
    report = checks.run(extract(ANSWER), answer_text=ANSWER)
    row = next(r for r in report.rows if r.name == "Schema on PostgreSQL")
    if row.status == "skipped":
        pytest.skip(f"no PostgreSQL: {row.message}")
    assert row.status == "failed" and 'relation "membres" does not exist' in row.message
    # the statement starts on the second block's first line; the server points into it
    assert row.details["answer_line"] >= _line_of(ANSWER, "CREATE TABLE loans")
    assert row.details["answer_line"] <= _line_of(ANSWER, "REFERENCES membres")
    assert f"at line {row.details['answer_line']}" in row.message and "of the answer" in row.message


def test_syntax_failure_names_the_line_of_the_answer():
    answer = "Intro\n\n```sql\nCREATE TABLE t (\n  id int,\n  name text,,\n);\n```\n"
    row = next(r for r in checks.run(extract(answer), answer_text=answer, sql=True).rows
               if r.name.startswith("SQL syntax"))
    assert row.status == "failed"
    assert row.details["answer_line"] == _line_of(answer, "name text,,")
    assert f"at line {row.details['answer_line']}, column" in row.message
