"""The DuckDB copy on forms real schemas use that DuckDB lacks (issue 11): each loads with every table
present, and what was left out is listed with its reason, never dropped silently."""

from __future__ import annotations

import duckdb
import pytest

from agentnb.checks import duckdb as duck


def _changes(result, kind):
    return [c.message for c in result.lowered.changes if c.kind == kind]


def test_a_foreign_key_across_schemas_is_listed_and_kept_in_the_schema():
    result = duck.load("CREATE SCHEMA sales; CREATE SCHEMA ref;\n"
                       "CREATE TABLE ref.countries (code text PRIMARY KEY);\n"
                       "CREATE TABLE sales.customers (id int PRIMARY KEY,\n"
                       "  country text REFERENCES ref.countries (code) ON DELETE CASCADE);\n"
                       "CREATE TABLE notes (id int, country text);\n"
                       "ALTER TABLE ONLY public.notes ADD CONSTRAINT notes_country_fkey FOREIGN KEY (country)\n"
                       "  REFERENCES ref.countries (code);")
    assert result.failures == []
    assert {(t.schema, t.name) for t in result.schema.tables} == {
        ("ref", "countries"), ("sales", "customers"), (None, "notes")}
    [fk] = result.schema.table("customers").foreign_keys
    assert (fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete) == (["country"], "ref.countries", ["code"],
                                                                       "CASCADE")
    assert result.schema.table("notes").foreign_keys[0].name == "notes_country_fkey"
    listed = _changes(result, "cross-schema key")
    assert len(listed) == 2 and "sales.customers(country) → ref.countries" in listed[0]


def test_a_foreign_key_across_schemas_is_drawn():
    from agentnb.render import erd

    result = duck.load("CREATE SCHEMA ref;\nCREATE TABLE ref.countries (code text PRIMARY KEY);\n"
                       "CREATE TABLE customers (id int, country text REFERENCES ref.countries (code));")
    assert 'data-from="customers" data-to="ref.countries"' in erd.svg(result.schema)


def test_a_default_calling_a_function_of_the_script_is_dropped_and_listed():
    result = duck.load("CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;\n"
                       "CREATE TABLE items (id int PRIMARY KEY, code text DEFAULT next_code() NOT NULL,\n"
                       "  made date DEFAULT current_date);\n"
                       "CREATE TABLE lines (item_id int REFERENCES items (id));")
    assert result.failures == [] and {t.name for t in result.schema.tables} == {"items", "lines"}
    assert _changes(result, "default") == ["DEFAULT dropped on items.code: it calls next_code, a function of "
                                           "the script (functions are not copied to DuckDB)"]
    assert result.schema.table("items").column("code").default is None
    assert result.schema.table("items").column("made").default is not None    # the other default stays


def test_a_default_set_later_by_alter_table_calling_a_function_is_dropped_and_listed():
    result = duck.load("CREATE TABLE public.items (id int NOT NULL, code text);\n"
                       "CREATE FUNCTION public.next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;\n"
                       "ALTER TABLE ONLY public.items ALTER COLUMN code SET DEFAULT public.next_code();")
    assert result.failures == [] and result.schema.table("items") is not None
    assert any("DEFAULT dropped on items.code: it calls next_code" in m for m in _changes(result, "default"))


def test_a_generated_column_calling_a_function_of_the_script_becomes_plain():
    result = duck.load("CREATE FUNCTION slug(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;\n"
                       "CREATE TABLE pages (title text, s text GENERATED ALWAYS AS (slug(title)) STORED);")
    assert result.failures == []
    assert [c.name for c in result.schema.table("pages").columns] == ["title", "s"]
    assert any("generation expression dropped (a plain column) on pages.s" in m for m in _changes(result, "generated"))


def test_an_index_on_a_function_of_the_script_is_skipped_and_listed_with_its_comment():
    result = duck.load("CREATE FUNCTION norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;\n"
                       "CREATE TABLE people (id int PRIMARY KEY, name text);\n"
                       "CREATE INDEX people_norm ON public.people USING btree (public.norm(name));\n"
                       "CREATE INDEX people_lower ON people (lower(name));\n"
                       "COMMENT ON INDEX people_norm IS 'search by name';")
    assert result.failures == []
    assert [ix.name for ix in result.schema.table("people").indexes] == ["people_lower"]
    skipped = [c for c in result.lowered.changes if c.kind == "index skipped"]
    assert len(skipped) == 1 and skipped[0].skipped and "index people_norm skipped: it calls norm" in skipped[0].message
    assert any("COMMENT ON INDEX skipped (index skipped)" in m for m in _changes(result, "comment"))


@pytest.mark.parametrize("table, comment_on", [
    ("CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE)", "accounts_email_key"),
    ("CREATE TABLE accounts (id int, a int, b int, UNIQUE (a, b))", "accounts_a_b_key"),
    ("CREATE TABLE accounts (id int PRIMARY KEY)", "accounts_pkey"),
    ("CREATE TABLE accounts (id int);\nALTER TABLE ONLY accounts ADD UNIQUE (id)", "accounts_id_key"),
])
def test_comment_on_the_index_of_an_unnamed_constraint_is_listed(table, comment_on):
    result = duck.load(f"{table};\nCOMMENT ON INDEX {comment_on} IS 'x';")
    assert result.failures == [] and result.schema.table("accounts") is not None
    assert any(f"COMMENT ON INDEX {comment_on} skipped" in m for m in _changes(result, "comment"))


def test_the_implicit_index_name_is_cut_as_postgresql_cuts_it():
    table = "t" * 40
    result = duck.load(f"CREATE TABLE {table} (id int, {'c' * 40} int UNIQUE);\n"
                       f"COMMENT ON INDEX {'t' * 29}_{'c' * 29}_key IS 'x';")
    assert result.failures == [] and any("skipped (the index behind" in m for m in _changes(result, "comment"))


def test_the_constraints_duckdb_keeps_still_hold_after_a_default_is_dropped():
    result = duck.load("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
                       "CREATE TABLE t (id int PRIMARY KEY DEFAULT f(), n int NOT NULL CHECK (n > 0));")
    result.con.execute("INSERT INTO t VALUES (1, 1)")
    with pytest.raises(duckdb.ConstraintException):
        result.con.execute("INSERT INTO t VALUES (1, 2)")
    with pytest.raises(duckdb.ConstraintException):
        result.con.execute("INSERT INTO t VALUES (2, 0)")


def test_set_search_path_puts_tables_of_the_same_name_in_their_schemas():
    result = duck.load("CREATE SCHEMA app; CREATE SCHEMA audit;\n"
                       "SET search_path = app, pg_catalog;\n"
                       "CREATE TABLE users (id int PRIMARY KEY);\n"
                       "SET search_path = audit, app;\n"
                       "CREATE TABLE users (id int PRIMARY KEY, at timestamptz);\n"
                       "CREATE TABLE log (id int, user_id int REFERENCES users (id));\n"
                       "CREATE INDEX log_user ON log (user_id);\n"
                       "SELECT pg_catalog.set_config('search_path', 'public', false);\n"
                       "CREATE TABLE plain (id int);")
    assert result.failures == []
    assert {(t.schema, t.name) for t in result.schema.tables} == {
        ("app", "users"), ("audit", "users"), ("audit", "log"), (None, "plain")}
    assert result.schema.tables[2].foreign_keys[0].ref_table == "users"      # audit's, the first on the path
    assert not any(c.kind == "cross-schema key" for c in result.lowered.changes)
    assert result.con.execute("SELECT schema_name FROM duckdb_indexes()").fetchall() == [("audit",)]
    assert any("search_path audit, app" in c.message for c in result.lowered.changes)


def test_without_set_search_path_names_stay_as_written():
    result = duck.load("CREATE SCHEMA app;\nCREATE TABLE app.users (id int);\nCREATE TABLE users (id int);")
    assert {(t.schema, t.name) for t in result.schema.tables} == {("app", "users"), (None, "users")}
    assert not any(c.kind == "search path" for c in result.lowered.changes)


def test_a_column_of_an_extension_type_loads_as_text_and_is_listed():
    result = duck.load("CREATE EXTENSION IF NOT EXISTS cube;\nCREATE EXTENSION IF NOT EXISTS vector;\n"
                       "CREATE TABLE shapes (id int, box public.cube, corners cube[], embedding vector(3));")
    assert result.failures == []
    assert [(c.name, c.type) for c in result.schema.table("shapes").columns] == [
        ("id", "integer"), ("box", "varchar"), ("corners", "varchar[]"), ("embedding", "varchar")]
    assert [c.message for c in result.lowered.changes if c.kind in ("cube", "vector")] == [
        "CUBE → VARCHAR on shapes.box", "CUBE → VARCHAR on shapes.corners", "VECTOR → VARCHAR on shapes.embedding"]
