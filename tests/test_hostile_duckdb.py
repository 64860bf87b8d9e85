"""Hostile DDL against the DuckDB copy, judged from outside: files that must not appear, the key that
must not show up, DuckDB's built-ins unchanged, the time bound kept, the other rows intact."""

from __future__ import annotations

import json
import time

import duckdb
import pytest

from agentnb.checks import duckdb as duckschema

BENIGN = "CREATE TABLE authors (id INT PRIMARY KEY, name TEXT NOT NULL);\n"
AFTER = "\nCREATE TABLE books (id INT PRIMARY KEY, author_id INT REFERENCES authors(id));\n"


def _load(hostile: str, **kw):
    """The hostile statement between two benign ones: both benign tables must still load."""
    result = duckschema.load(BENIGN + hostile + AFTER, **kw)
    assert {t.name for t in result.schema.tables} >= {"authors", "books"}, result.check().message
    return result


def _left_out(result) -> list[str]:
    return [c.message for c in result.lowered.changes if c.kind == "left out"]


def _everything_said(result) -> str:
    """Every text the row carries (message and details), as the notebook and summaries see it."""
    row = result.check()
    return row.message + json.dumps(row.to_dict(), default=str)


@pytest.fixture(autouse=True)
def _a_later_benign_schema_still_loads():
    yield
    result = duckschema.load("CREATE TABLE later (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY);")
    assert result.ok and [t.name for t in result.schema.tables] == ["later"]


def test_copy_to_a_file_writes_nothing(tmp_path):
    target = tmp_path / "out.csv"
    result = _load(f"COPY (SELECT 42) TO '{target}';\nCOPY authors TO '{target}' (FORMAT csv);")
    assert not target.exists()
    assert len(_left_out(result)) == 2 and all(m.startswith("COPY left out") for m in _left_out(result))
    assert "left out: COPY" in result.check().message


def test_attach_creates_no_database_file(tmp_path):
    target = tmp_path / "evil.duckdb"
    result = _load(f"ATTACH '{target}' AS evil;\nCREATE TABLE evil.t (x INT);")
    assert not target.exists()
    assert any(m.startswith("ATTACH left out") for m in _left_out(result))
    databases = {name for (name,) in result.con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    assert "evil" not in databases
    # and the connection handed to the user as schema_db() cannot attach it either
    with pytest.raises(duckdb.Error):
        result.con.execute(f"ATTACH '{target}' AS evil")
    assert not target.exists()


def test_export_database_writes_nothing(tmp_path):
    target = tmp_path / "export"
    result = _load(f"EXPORT DATABASE '{target}';")
    assert not target.exists()
    assert any(m.startswith("EXPORT DATABASE left out") for m in _left_out(result))


@pytest.mark.parametrize("reader", ["read_csv('/etc/passwd')", "read_csv_auto('/etc/passwd')",
                                    "read_text('/etc/passwd')", "glob('/root/*')"])
def test_create_table_as_from_files_is_left_out(reader):
    result = _load(f"CREATE TABLE stolen AS SELECT * FROM {reader};")
    assert "stolen" not in {t.name for t in result.schema.tables}
    assert any(m.startswith("CREATE TABLE AS left out") for m in _left_out(result))
    assert "root:" not in _everything_said(result)


def test_the_key_in_the_environment_appears_nowhere(monkeypatch):
    key = "sk-ant-api03-hostile-test-key-0123456789"
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    hostile = ("CREATE TABLE env AS SELECT * FROM read_text('/proc/self/environ');\n"
               "CREATE TABLE env2 AS SELECT content FROM read_blob('/proc/self/environ');\n"
               "CREATE TABLE defaults (x TEXT DEFAULT getenv('ANTHROPIC_API_KEY'));\n"
               "CREATE VIEW v AS SELECT * FROM read_text('/proc/self/environ');\n"
               "CREATE TABLE c (x TEXT CHECK (x <> (SELECT content FROM read_text('/proc/self/environ'))));\n")
    result = _load(hostile)
    assert key not in _everything_said(result)
    assert len(_left_out(result)) == 5
    con = result.con      # what schema_db() hands over
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
        assert key not in str(con.execute(f'SELECT * FROM "{name}"').fetchall())
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM read_text('/proc/self/environ')")
    with pytest.raises(duckdb.Error):
        con.execute("SELECT getenv('ANTHROPIC_API_KEY')")


def test_set_global_cannot_lift_the_limits():
    result = _load("SET GLOBAL memory_limit = '100GB';\nSET threads = 64;\nPRAGMA memory_limit='100GB';")
    assert result.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] != "100.0 GiB"
    assert result.con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    assert any(m.startswith("SET GLOBAL left out") for m in _left_out(result))
    assert any(m.startswith("PRAGMA left out") for m in _left_out(result))
    with pytest.raises(duckdb.Error):       # nor can the user's own SET later
        result.con.execute("SET enable_external_access = true")


def test_a_macro_cannot_override_a_builtin():
    result = _load("CREATE MACRO lower(x) AS 'pwned';\nCREATE OR REPLACE FUNCTION lower(x) AS 'pwned';\n"
                   "CREATE FUNCTION upper(text) RETURNS text LANGUAGE sql AS $$ SELECT 'pwned' $$;")
    assert result.con.execute("SELECT lower('A'), upper('a')").fetchone() == ("a", "A")
    messages = _left_out(result)
    assert any(m.startswith("CREATE MACRO left out") for m in messages)


@pytest.mark.parametrize("statement, label", [
    ("INSTALL httpfs;", "INSTALL"), ("LOAD httpfs;", "LOAD"), ("PRAGMA version;", "PRAGMA"),
    ("INSERT INTO authors VALUES (1, 'x');", "INSERT"), ("CALL pragma_version();", "CALL"),
    ("DROP FUNCTION IF EXISTS lower;", "DROP FUNCTION"),
])
def test_other_statements_are_listed_as_left_out(statement, label):
    result = _load(statement)
    assert any(m.startswith(f"{label} left out") for m in _left_out(result)), _left_out(result)
    assert f"left out: {label}" in result.check().message
    assert result.con.execute("SELECT count(*) FROM authors").fetchone()[0] == 0


def test_no_extension_gets_loaded():
    result = _load("INSTALL httpfs;\nLOAD httpfs;\nCREATE TABLE t (ip INET);")
    with pytest.raises(duckdb.Error):
        result.con.execute("LOAD httpfs")


def test_no_query_of_the_answer_runs():
    import resource

    endless = ("CREATE TABLE forever AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
               "SELECT count(*) AS n FROM r;\n"
               "CREATE TABLE huge AS SELECT repeat('x', 1500000000) AS s, 1 AS one;")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = _load(endless, timeout=60)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.ok and grown_mb < 500, grown_mb
    tables = {t.name: t for t in result.schema.tables}
    assert [c.name for c in tables["forever"].columns] == ["n"]
    assert [(c.name, c.type) for c in tables["huge"].columns] == [("s", "varchar"), ("one", "integer")]
    assert result.con.execute("SELECT count(*) FROM huge").fetchone() == (0,)
    assert any("created empty" in c.message for c in result.lowered.changes)


def test_a_statement_past_the_time_limit_is_cancelled():
    # no lowered statement runs a query; the watchdog stands behind that, tried here directly
    from agentnb.checks.lowering import Lowered, LoweredStatement

    endless = LoweredStatement("CREATE TABLE forever AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL "
                               "SELECT i + 1 FROM r) SELECT count(*) AS n FROM r", 1, "CreateStmt", "forever")
    after = LoweredStatement("CREATE TABLE after (id INT)", 2, "CreateStmt", "after")
    con = duckschema.connect()
    started = time.monotonic()
    failures = duckschema.execute(con, Lowered(statements=[endless, after], source_count=2), timeout=0.5)
    assert time.monotonic() - started < 10          # bound 0.5 s; generous for a loaded machine
    assert [(f.source, f.error) for f in failures] == [(1, "Cancelled")]
    assert "cancelled" in failures[0].message
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'after'").fetchone() == (1,)


def test_a_recursive_view_is_created_not_run():
    view = ("CREATE VIEW forever AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
            "SELECT count(*) AS n FROM r;")
    result = _load(view, timeout=2)
    assert result.ok


def test_an_unparsable_statement_is_not_passed_on_as_written(tmp_path):
    target = tmp_path / "x.csv"
    # PostgreSQL cannot parse it, so it is never given to DuckDB, whose parser could
    result = _load(f"COPY authors TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',') FOO;\n"
                   "CREATE TABLE leak AS SELECT * FROM '/etc/passwd';")
    assert not target.exists()
    assert len(_left_out(result)) == 2
    assert "leak" not in {t.name for t in result.schema.tables}


def test_a_name_that_holds_sql_stays_a_name():
    # a quoted schema name full of SQL, behind a SERIAL (whose sequence the lowering writes itself)
    evil = "a; CREATE MACRO lower(x) AS 'pwned'; --"
    result = _load(f'CREATE SCHEMA "{evil}";\nCREATE TABLE "{evil}".t (id serial PRIMARY KEY);')
    assert result.con.execute("SELECT lower('A')").fetchone() == ("a",)
    assert ("t", evil) in {(t.name, t.schema) for t in result.schema.tables}


def test_duckdbs_settings_do_not_reach_the_row():
    # run, a failing cast would put the setting's value (a path in the home folder) into the message
    result = _load("CREATE TABLE s AS SELECT CAST(current_setting('secret_directory') AS INT) AS x;\n"
                   "CREATE TABLE s2 AS SELECT * FROM duckdb_settings();")
    assert "stored_secrets" not in _everything_said(result)
    assert result.con.execute("SELECT count(*) FROM s2").fetchone() == (0,)
    # a default is stored, not run: the table stays, and the value is still nowhere in the row
    kept = _load("CREATE TABLE notes (n INT DEFAULT CAST(current_setting('secret_directory') AS INT));")
    assert "notes" in {t.name for t in kept.schema.tables}
    assert "stored_secrets" not in _everything_said(kept)


@pytest.mark.parametrize("depth", [300, 5000])
def test_deep_nesting_costs_its_statement_only(depth):
    nested = "abs(" * depth + "1" + ")" * depth
    result = _load(f"CREATE TABLE deep (x int CHECK (x > {nested}));\nCREATE INDEX deep_i ON authors (({nested}));")
    assert "deep" not in {t.name for t in result.schema.tables}
    assert len(_left_out(result)) == 2
