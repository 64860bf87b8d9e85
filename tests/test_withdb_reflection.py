"""What ``--with-db`` reads of an existing database and what the conversation keeps of it (issue 11):
a SQLite file's key actions, and ``schema_db()`` after answers that change the database by migrations."""

from __future__ import annotations

import sqlite3

import pytest

import agentnb
from agentnb.errors import AgentnbError
from agentnb.testing.server import text

SHOP = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE orders (id INTEGER PRIMARY KEY,
                     customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE ON UPDATE SET NULL);
CREATE TABLE notes (id INTEGER PRIMARY KEY, order_id INTEGER,
                    CONSTRAINT notes_order FOREIGN KEY (order_id) REFERENCES orders (id) ON UPDATE CASCADE);
"""


@pytest.fixture
def shop(tmp_path):
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(SHOP)
    return path


def test_sqlite_keeps_the_actions_of_a_column_reference(shop):
    existing = agentnb.schema_from(f"sqlite:///{shop}")
    assert "REFERENCES customers (id) ON DELETE CASCADE ON UPDATE SET NULL" in existing.ddl
    assert "REFERENCES orders (id) ON UPDATE CASCADE" in existing.ddl
    [fk] = existing.schema.table("orders").foreign_keys
    assert fk.on_delete == "CASCADE"


def _answer(up: str, down: str) -> str:
    return (f"The migration.\n\n```sql\n-- migrations/0002_phone.up.sql\n{up}\n```\n\n"
            f"```sql\n-- migrations/0002_phone.down.sql\n{down}\n```\n")


def test_schema_db_holds_the_existing_schema_with_the_answers_migration(workdir, api, shop):
    base = agentnb.schema_from(f"sqlite:///{shop}").ddl
    api.enqueue(text(_answer("ALTER TABLE customers ADD COLUMN phone text;",
                             "ALTER TABLE customers DROP COLUMN phone;")))
    agentnb.ask("backend_dev", "Add a phone number.", base_schema=base)
    con = agentnb.schema_db()
    columns = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'customers' "
                          "ORDER BY column_index").fetchall()
    assert columns == [("id",), ("email",), ("phone",)]
    assert {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} == {
        "customers", "orders", "notes"}

    # the next answer's migration starts from there
    api.enqueue(text(_answer("CREATE INDEX customers_phone ON customers (phone);",
                             "DROP INDEX customers_phone;")))
    agentnb.ask("backend_dev", "Index it.")
    con = agentnb.schema_db()
    assert con.execute("SELECT index_name FROM duckdb_indexes()").fetchall() == [("customers_phone",)]


def test_schema_db_holds_the_existing_schema_when_the_answer_changes_nothing(workdir, api, shop):
    base = agentnb.schema_from(f"sqlite:///{shop}").ddl
    api.enqueue(text("Nothing to change: the schema already has what you ask for."))
    agentnb.ask("backend_dev", "Is there an email column?", base_schema=base)
    tables = agentnb.schema_db().execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    assert tables == [("customers",), ("notes",), ("orders",)]


@pytest.mark.postgres
def test_a_migration_that_fails_its_check_is_not_applied(workdir, api, shop):
    base = agentnb.schema_from(f"sqlite:///{shop}").ddl
    api.enqueue(text(_answer("ALTER TABLE clients ADD COLUMN phone text;",
                             "ALTER TABLE clients DROP COLUMN phone;")))
    r = agentnb.ask("backend_dev", "Add a phone number.", base_schema=base)
    assert [c.status for c in r.checks if c.name.startswith("Migration")] == ["failed"]
    con = agentnb.schema_db()
    assert ("phone",) not in con.execute("SELECT column_name FROM duckdb_columns()").fetchall()


def test_without_with_db_a_migration_alone_gives_no_schema_db(workdir, api):
    api.enqueue(text(_answer("CREATE TABLE t (id int);", "DROP TABLE t;")))
    agentnb.ask("backend_dev", "A table.")
    with pytest.raises(AgentnbError, match="No valid schema yet"):
        agentnb.schema_db()
