"""Hostile SQL in an answer fails its own row, leaves no mark, and the next benign schema still passes.

Judged from outside: files the server would have written (in a folder the server's OS user can
write to, as a control made with the superuser shows), a user's database the test owns, the elapsed
time, and every row's text for the API key of the process.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from agentnb import checks
from agentnb.artifacts import extract
from agentnb.checks import pgscratch, pgserver, postgres

pytestmark = pytest.mark.postgres

KEY = "sk-ant-hostile-test-key-0042"
BENIGN = "CREATE TABLE authors (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);"


@pytest.fixture(scope="module")
def server(shared_postgres):
    try:
        return pgserver.get_server()
    except pgserver.NoPostgresError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def drop_zone():
    """A folder the server's OS user (``postgres`` when the tests run as root) may write into."""
    folder = tempfile.mkdtemp(prefix="agentnb-hostile-", dir="/tmp")
    os.chmod(folder, 0o777)
    try:
        yield Path(folder)
    finally:
        for p in Path(folder).iterdir():
            p.unlink()
        os.rmdir(folder)


@pytest.fixture(autouse=True)
def key_in_the_environment(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)


@pytest.fixture(autouse=True)
def then_a_benign_schema_passes(server):
    yield
    result, schema = postgres.check_schema(BENIGN, server=server)
    assert result.status == "passed", result.to_dict()
    assert result.message == "1 table, 0 foreign keys, 0 indexes"


def failed(ddl: str, server) -> dict:
    result, schema = postgres.check_schema(ddl, server=server)
    row = result.to_dict()
    assert result.status == "failed" and schema is None, row
    assert KEY not in json.dumps(row)
    return row


def test_copy_to_program_runs_no_command(server, drop_zone):
    control, target = drop_zone / "control", drop_zone / "pwned"
    with server.connect(autocommit=True) as conn:       # the server's own rights (a superuser) can
        if conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            conn.execute(f"COPY (SELECT 1) TO PROGRAM 'touch {control}'")
            assert control.exists()
    row = failed(f"CREATE TABLE t (a int);\nCOPY (SELECT 1) TO PROGRAM 'touch {target}';", server)
    assert "pg_execute_server_program" in row["message"] and row["details"]["line"] == 2
    assert not target.exists()


@pytest.mark.parametrize("ddl, words", [
    ("COPY (SELECT 'x') TO '{zone}/copied';", "pg_write_server_files"),
    ("SELECT lo_export(lo_from_bytea(0, 'x'), '{zone}/exported');", "permission denied for function lo_export"),
])
def test_no_file_is_written(ddl, words, server, drop_zone):
    row = failed(ddl.format(zone=drop_zone), server)
    assert words in row["message"]
    assert list(drop_zone.iterdir()) == []


@pytest.mark.parametrize("ddl, words", [
    ("CREATE TABLE t (line text);\nCOPY t FROM '/etc/passwd';", "pg_read_server_files"),
    ("SELECT pg_read_file('/etc/passwd');", "permission denied for function pg_read_file"),
])
def test_no_file_is_read(ddl, words, server):
    row = failed(ddl, server)
    assert words in row["message"] and "root:" not in json.dumps(row)


@pytest.mark.parametrize("ddl, message", [
    ("CREATE EXTENSION dblink;", 'permission denied to create extension "dblink"'),
    ("ALTER SYSTEM SET work_mem = '1GB';", "ALTER SYSTEM changes the server's configuration, which no check may do"),
    ("CREATE FUNCTION stop() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$;\n"
     "CREATE EVENT TRIGGER stop_all ON ddl_command_start EXECUTE FUNCTION stop();",
     'permission denied to create event trigger "stop_all"'),
    ("SET ROLE postgres;", 'permission denied to set role "postgres"'),
])
def test_what_reaches_past_the_database_is_refused(ddl, message, server):
    assert failed(ddl, server)["message"] == message


def test_the_server_environment_holds_no_key(server):
    # the key is in this process's environment; the server was started without it
    row = failed("CREATE TABLE t (line text);\nCOPY t FROM PROGRAM 'env';\nSELECT line::int FROM t;", server)
    assert "pg_execute_server_program" in row["message"]


def test_transaction_control_cannot_end_the_check(server):
    row = failed("CREATE TABLE keep_me (id int);\nSELECT begin atomic FROM (VALUES (1)) v(begin); COMMIT;\n"
                 "DROP TABLE no_such_table;", server)
    assert row["message"] == 'table "no_such_table" does not exist'
    assert [n["statement"] for n in row["details"]["statement_notes"]] == ["COMMIT"]
    result, schema = postgres.check_schema("SELECT 1;", server=server)
    assert schema.tables == []          # keep_me was never committed


def test_the_time_limit_cannot_be_lifted(server, monkeypatch):
    monkeypatch.setattr(pgscratch, "TIME_LIMIT_SECONDS", 2.0)
    for ddl in ("SET statement_timeout = 0;\nSELECT pg_sleep(60);",
                "SELECT set_config('statement_timeout', '0', false);\nDO $$ BEGIN PERFORM pg_sleep(60); END $$;"):
        t0 = time.monotonic()
        row = failed(ddl, server)
        elapsed = time.monotonic() - t0
        assert row["message"] == "time limit: the check's SQL ran past 2 s and was stopped"
        assert row["details"]["line"] == 2
        assert elapsed < 10, elapsed          # the bound, plus a busy machine's margin


def test_a_huge_insert_is_stopped(server, monkeypatch):
    monkeypatch.setattr(pgscratch, "DISK_LIMIT_MB", 64)
    t0 = time.monotonic()
    row = failed("CREATE TABLE big (g int, pad text);\nDO $$ BEGIN FOR i IN 1..1000 LOOP INSERT INTO big SELECT g, "
                 "repeat('x', 500) FROM generate_series(1, 10000) g; END LOOP; END $$;", server)
    assert row["message"] == "size limit: the check's database grew past 64 MB, and its statement was stopped"
    assert time.monotonic() - t0 < pgscratch.TIME_LIMIT_SECONDS + 5
    # one statement spilling to temporary files: the superuser's temp_file_limit
    row = failed("CREATE TABLE big AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 100000000) g;", server)
    assert row["message"].startswith("temporary file size exceeds temp_file_limit")


def test_memory_is_bounded(server):
    with server.connect() as conn:
        if conn.execute("SELECT current_setting('agentnb.cluster', true)").fetchone()[0] != "throwaway":
            pytest.skip("not agentnb's own cluster: its memory limit is the user's business")
    t0 = time.monotonic()
    row = failed("SET work_mem = '2GB';\n"
                 "SELECT count(*) FROM (SELECT g FROM generate_series(1, 400000000) g ORDER BY g DESC) s;", server)
    assert row["message"] == "out of memory" and row["details"]["line"] == 2
    assert time.monotonic() - t0 < pgscratch.TIME_LIMIT_SECONDS


@pytest.fixture
def customers_db(owned_database):
    """A database the test owns, with a customers table, reached by a role that is no superuser."""
    with owned_database("crm", "CREATE TABLE customers (id int PRIMARY KEY, name text);"
                        "INSERT INTO customers VALUES (1, 'Ada');",
                        password="crm-pw", rights="CREATEDB CREATEROLE") as db:
        yield db


def test_the_transaction_escape_cannot_drop_a_users_table(customers_db, monkeypatch):
    import psycopg

    monkeypatch.setenv("AGENTNB_POSTGRES_URL", customers_db.url)
    answer = ("```sql\nSELECT begin atomic FROM (VALUES (1)) v(begin); COMMIT; DROP TABLE customers;\n```\n")
    report = checks.run(extract(answer), answer_text=answer)
    (row,) = [r for r in report.rows if r.name == "Schema on PostgreSQL"]
    assert row.status == "failed" and row.message.startswith('table "customers" does not exist\nat line 2 of the answer')
    with psycopg.connect(customers_db.url) as conn:
        assert conn.execute("SELECT * FROM customers").fetchall() == [(1, "Ada")]
        names = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'agentnb%' UNION ALL "
                             "SELECT datname FROM pg_database WHERE datname LIKE 'agentnb_scratch%' AND "
                             f"pg_has_role('{customers_db.owner}', datdba, 'USAGE')").fetchall()
    assert names == []


def test_an_answer_cannot_change_the_connections_encoding():
    """SET client_encoding = 'SQL_ASCII' made the reflection crash inside SQLAlchemy: it is skipped and
    noted, and the schema is judged as written."""
    from agentnb.checks import postgres

    row, schema = postgres.check_schema("SET client_encoding = 'SQL_ASCII';\nCREATE TABLE t (a text);\n")
    if row.status == "skipped":
        pytest.skip(f"no PostgreSQL: {row.message}")
    assert row.status == "passed", row.message
    assert [t.name for t in schema.tables] == ["t"]
