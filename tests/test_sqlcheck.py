"""SQL syntax checks with PostgreSQL's own parser, in process (its speed: bench/bench_code_checks.py)."""

from __future__ import annotations

import json

from agentnb.checks.result import CheckResult
from agentnb.checks.sql import check_syntax, line_col, split_statements

SCRIPT = """\
-- the library
CREATE TYPE loan_status AS ENUM ('open', 'returned');

CREATE TABLE books (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL CHECK (title <> ';'),   -- a ; in a string
    tags text[] NOT NULL DEFAULT '{}'
);
/* a comment; with a semicolon */
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE FUNCTION answer() RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT CASE WHEN true THEN 42 END;
END;
CREATE INDEX books_open_idx ON books (title) WHERE title IS NOT NULL
"""


def test_split_statements_keeps_bodies_strings_and_comments_whole():
    parts = split_statements(SCRIPT)
    assert [line for _, line in parts] == [2, 4, 10, 16, 20]
    assert parts[0][0] == "CREATE TYPE loan_status AS ENUM ('open', 'returned')"
    assert "CHECK (title <> ';')" in parts[1][0]
    assert parts[2][0].startswith("CREATE FUNCTION touch()") and parts[2][0].endswith("$$")
    assert "RETURN NEW;" in parts[2][0]
    assert parts[3][0].endswith("END")                      # BEGIN ATOMIC body kept whole
    assert parts[4][0].startswith("CREATE INDEX")           # no trailing semicolon needed


def test_split_keeps_a_statement_that_does_not_parse():
    # pglast's own scanner split drops "SELEC 1"; ours keeps it so the check can point at it
    assert split_statements("select 1;\nSELEC 1;\n") == [("select 1", 1), ("SELEC 1", 2)]


def test_valid_script_passes():
    result = check_syntax(SCRIPT)
    assert result.status == "passed", result.message
    assert result.message == "5 statements parsed"
    assert check_syntax((SCRIPT + ";\n") * 20).message == "100 statements parsed"


def test_syntax_error_has_postgres_message_line_and_column():
    sql = "CREATE TABLE a (id int);\n\nCREATE TABLE b (\n    id int,\n    name text,,\n    x int\n);\n"
    result = check_syntax(sql)
    assert result.status == "failed"
    assert result.message == 'syntax error at or near ","'
    assert result.details["line"] == 5
    assert result.details["column"] == 15
    assert result.details["statement"] == "CREATE TABLE b ("
    assert result.details["statement_line"] == 3
    json.dumps(result.to_dict())


def test_every_failing_statement_is_listed():
    result = check_syntax("SELEC 1;\nselect 2;\nCREAT TABLE t (id int);")
    assert result.status == "failed"
    assert [e["line"] for e in result.details["errors"]] == [1, 3]
    assert result.details["column"] == 1


def test_unterminated_string_is_reported_where_it_starts():
    result = check_syntax("select 1;\nselect 'abc;\n")
    assert result.status == "failed"
    assert result.message.startswith("unterminated quoted string")
    assert (result.details["line"], result.details["column"]) == (2, 8)


def test_empty_sql_is_skipped():
    assert check_syntax("  -- nothing\n").status == "skipped"


def test_line_col():
    assert line_col("ab\ncd", 0) == (1, 1)
    assert line_col("ab\ncd", 4) == (2, 2)


def test_checkresult_round_trip():
    r = CheckResult("SQL syntax", "failed", "boom", {"line": 3})
    assert CheckResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    assert r.failed and not r.passed
    assert str(r) == "SQL syntax: failed — boom"
