"""The schema diff given the schema check's reflection of the new DDL says what it says without it."""

from __future__ import annotations

import pytest

from agentnb.checks import postgres

pytestmark = pytest.mark.postgres

OLD = "CREATE TABLE c (id bigint PRIMARY KEY, email text NOT NULL);\n"
NEW = OLD + "ALTER TABLE c ADD COLUMN phone text;\nCREATE TABLE o (id bigint PRIMARY KEY, c_id bigint REFERENCES c);\n"


@pytest.fixture(scope="module")
def server():
    try:
        return postgres.get_server()
    except postgres.NoPostgresError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("implied", [True, False])
def test_a_diff_from_the_reflected_new_schema_is_the_same(server, implied):
    row, schema = postgres.check_schema(NEW, server=server)
    assert row.status == "passed"
    alone = postgres.diff_schemas(OLD, NEW, server=server, implied=implied)
    reused = postgres.diff_schemas(OLD, NEW, server=server, implied=implied, new_schema=schema)
    assert reused.status == alone.status == "passed"
    assert reused.details["differences"] == alone.details["differences"] and len(alone.details["differences"]) == 2
    for key in ("upgrade_sql", "downgrade_sql", "upgrade_verified", "downgrade_verified"):
        assert reused.details.get(key) == alone.details.get(key)
    assert ("upgrade_sql" in reused.details) == implied


def test_an_unchanged_schema_needs_no_run_of_the_new_ddl(server):
    _, schema = postgres.check_schema(OLD, server=server)
    row = postgres.diff_schemas(OLD, "this is not SQL;", server=server, new_schema=schema)
    assert row.status == "passed" and row.message == "no differences"
