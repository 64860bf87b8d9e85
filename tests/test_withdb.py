"""Bring your own schema (issue 11): ``--with-db`` and ``agentnb.schema_from`` read an existing
PostgreSQL, DuckDB or SQLite database read-only, attach its DDL to the prompt, make it the base the
answer's schema is compared with, and never let the URL's password out."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from IPython.core.interactiveshell import InteractiveShell

import agentnb
from agentnb.errors import AgentnbError
from agentnb.testing.server import text

PASSWORD = "correct-horse-battery-" + uuid.uuid4().hex[:6]
SHOP = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                     placed_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_customer_idx ON orders (customer_id);
INSERT INTO customers (email) VALUES ('row-only@example.org');
"""


@pytest.fixture(scope="module")
def shop_url(owned_database):
    """A database of the test's own on the session's PostgreSQL, owned by a role with a password."""
    with owned_database("shop", SHOP, password=PASSWORD) as db:
        yield db.url


def test_postgres_schema_read_from_the_catalog_not_the_data(shop_url):
    existing = agentnb.schema_from(shop_url)
    assert sorted(t.name for t in existing.schema.tables) == ["customers", "orders"]
    orders = next(t for t in existing.schema.tables if t.name == "orders")
    assert orders.foreign_keys[0].ref_table == "customers"
    assert "CREATE INDEX orders_customer_idx" in existing.ddl and "row-only@example.org" not in existing.ddl
    assert "search_path" not in existing.ddl and "\nSET " not in existing.ddl and PASSWORD not in existing.source and "***" in existing.source
    sampled = agentnb.schema_from(shop_url, sample=5)
    assert "row-only@example.org" in sampled.prompt_block()["text"]


def test_a_wrong_database_names_it_without_the_password(shop_url):
    wrong = shop_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(AgentnbError) as err:
        agentnb.schema_from(wrong)
    assert "no_such_db" in str(err.value) and PASSWORD not in str(err.value)
    assert agentnb.redact.redact(f"leak {PASSWORD}") == "leak [redacted]"


def test_duckdb_and_sqlite_files(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "app.duckdb"))
    con.execute("CREATE SEQUENCE ids; CREATE TABLE teams (id integer PRIMARY KEY DEFAULT nextval('ids'), "
                "name varchar NOT NULL); CREATE TABLE players (id integer PRIMARY KEY, "
                "team_id integer REFERENCES teams (id)); CREATE INDEX players_team ON players (team_id)")
    con.close()
    existing = agentnb.schema_from(f"duckdb:///{tmp_path / 'app.duckdb'}")
    assert sorted(t.name for t in existing.schema.tables) == ["players", "teams"]
    assert "CREATE SEQUENCE ids" in existing.ddl and "CREATE INDEX players_team" in existing.ddl

    lite = sqlite3.connect(tmp_path / "app.sqlite")
    lite.executescript("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at DATETIME);"
                       "CREATE TABLE tags (note_id INTEGER REFERENCES notes (id), tag TEXT);"
                       "INSERT INTO notes (body) VALUES ('private note');")
    lite.commit()
    lite.close()
    existing = agentnb.schema_from(str(tmp_path / "app.sqlite"))
    assert sorted(t.name for t in existing.schema.tables) == ["notes", "tags"]
    assert "DATETIME" not in existing.ddl and "TIMESTAMP" in existing.ddl      # PostgreSQL's spelling
    assert "private note" not in existing.ddl
    before = (tmp_path / "app.sqlite").read_bytes()
    agentnb.schema_from(f"sqlite:///{tmp_path / 'app.sqlite'}", sample=3)
    assert (tmp_path / "app.sqlite").read_bytes() == before                   # opened read-only


def test_unknown_source_and_missing_file(tmp_path):
    with pytest.raises(AgentnbError, match="not a PostgreSQL, DuckDB or SQLite URL"):
        agentnb.schema_from("mysql://u:p@h/db")
    with pytest.raises(AgentnbError, match="no such file"):
        agentnb.schema_from(str(tmp_path / "gone.sqlite"))


@pytest.mark.postgres
def test_with_db_attaches_the_ddl_and_becomes_the_base_schema(workdir, api, shop_url):
    shell = InteractiveShell.instance()
    shell.run_line_magic("reload_ext", "agentnb")
    answer = ("```sql\n-- schema.sql\n" + agentnb.schema_from(shop_url).ddl
              + "\nALTER TABLE customers ADD COLUMN phone text;\n```\n")
    api.enqueue(text(answer))
    r = shell.run_cell_magic("backend_dev", f"--with-db {shop_url}", "Add a phone number to customers.")
    body = api.message_requests[-1].body
    sent = str(body)
    assert "CREATE TABLE public.orders" in sent and PASSWORD not in sent
    assert "row-only@example.org" not in sent
    [diff] = [c for c in r.checks if c.name.startswith("Schema changes")]
    assert diff.status == "passed" and any("phone" in d for d in diff.details["differences"])
    assert not any("orders" in d for d in diff.details["differences"])
    with pytest.raises(Exception, match="--sample N goes with --with-db"):
        shell.run_cell_magic("backend_dev", "--sample 3", "x")


def test_without_pg_dump_the_catalog_is_reflected(shop_url, monkeypatch):

    from agentnb import withdb

    monkeypatch.setattr(withdb, "_pg_dump", lambda: None)      # a machine without pg_dump
    existing = agentnb.schema_from(shop_url)
    assert existing.notes == ["pg_dump not found: the schema was reflected through SQLAlchemy"]
    assert sorted(t.name for t in existing.schema.tables) == ["customers", "orders"]
    assert "REFERENCES customers" in existing.ddl and "row-only@example.org" not in existing.ddl
