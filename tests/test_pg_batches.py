"""Large schemas in few round trips (issue 11): DDL runs in batches, yet a failure is still the
statement's own (message, line, column), and nothing a batch holds can be read by the server as more
statements than PostgreSQL's parser saw."""

from __future__ import annotations

import pytest

from agentnb.checks import postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server():
    try:
        return postgres.get_server()
    except postgres.NoPostgresError as err:
        pytest.skip(str(err))


def tables(n: int) -> str:
    return "".join(f"CREATE TABLE t{i} (id bigint PRIMARY KEY, note text);\n"
                   f"COMMENT ON TABLE t{i} IS 'table {i}; not a statement';\n" for i in range(n))


def test_a_failure_inside_a_batch_is_located_on_its_own_statement(server):
    ddl = tables(150) + "CREATE INDEX t7_bad ON t7 (nope);\n" + tables(300)[len(tables(150)):]
    result, _ = postgres.check_schema(ddl, server=server)
    assert result.status == "failed" and result.message == 'column "nope" does not exist'
    assert result.details["line"] == 301 and result.details["column"] == 28


def test_a_long_script_passes_whole(server):
    result, schema = postgres.check_schema(tables(450), server=server)
    assert result.status == "passed" and len(schema.tables) == 450


def test_a_setting_that_changes_how_text_is_read_ends_batching(server):
    setting = "SET standard_conforming_strings = off;"
    # with standard_conforming_strings off, the server reads 'a\' as an open string and would find a
    # second statement where the parser saw one string: run alone, it stays one statement
    ddl = (f"CREATE TABLE t (a int);\n{setting}\n"
           "CREATE TABLE v (a text DEFAULT 'a\\' || ') ; CREATE TABLE smuggled (a int); --');\n"
           "CREATE TABLE u (a int);\n")
    result, schema = postgres.check_schema(ddl, server=server)
    names = {t.name for t in schema.tables} if schema is not None else set()
    assert "smuggled" not in names and "smuggled" not in str(result.details.get("notes", ""))
