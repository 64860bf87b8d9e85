"""A user's own server through AGENTNB_POSTGRES_URL: the answer's SQL never runs with the URL's rights.

The "user's server" is the test session's cluster, on which the test makes a database ``shop`` holding
a ``customers`` table, owned by a role that is no superuser; it connects as that role, through the URL,
exactly as a user would. Judged from outside: the shop's objects and rows, and what agentnb left on the
server (roles and databases), read with the cluster's superuser.
"""

from __future__ import annotations

import pytest

from agentnb import checks
from agentnb.artifacts import extract
from agentnb.checks import pgserver, postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def admin_url(shared_postgres):
    if shared_postgres is None:
        pytest.skip("no PostgreSQL for the tests")
    server = pgserver.PostgresServer(pgserver._url_from_env(shared_postgres), "url")
    with server.connect(autocommit=True) as conn:
        if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            pytest.skip("the session's PostgreSQL URL is not a superuser's: cannot make test roles")
    return server


@pytest.fixture(scope="module")
def shop(owned_database):
    """A database of the user's, with data, reached by a role that is no superuser (CREATEDB, CREATEROLE),
    and a clerk's role without those rights."""
    with owned_database("shop", "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);"
                        "INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');"
                        "CREATE TYPE tier AS ENUM ('gold', 'silver');",
                        password="shop-pw-s3cret", rights="CREATEDB CREATEROLE",
                        others={"clerk": "clerk-pw-s3cret"}) as db:
        yield db


def shop_state(url: str) -> tuple:
    import psycopg
    with psycopg.connect(url) as conn:
        objects = conn.execute("SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
                               "ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', "
                               "'information_schema', 'pg_toast') ORDER BY 1, 2").fetchall()
        types = conn.execute("SELECT typname FROM pg_type WHERE typtype = 'e' ORDER BY 1").fetchall()
        rows = conn.execute("SELECT * FROM customers ORDER BY id").fetchall()
        extensions = conn.execute("SELECT extname FROM pg_extension ORDER BY 1").fetchall()
    return objects, types, rows, extensions


def agentnb_objects(admin: pgserver.PostgresServer) -> tuple:
    """Every role and database of agentnb's on the server (this process's own sandbox included)."""
    with admin.connect() as conn:
        roles = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'agentnb%' ORDER BY 1").fetchall()
        databases = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'agentnb%' "
                                 "ORDER BY 1").fetchall()
    return roles, databases


def test_checks_on_a_users_server_leave_its_objects_as_they_were(shop, admin_url, monkeypatch):
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", shop.url)
    before, agentnb_before = shop_state(shop.url), agentnb_objects(admin_url)
    result, schema = postgres.check_schema("CREATE EXTENSION pgcrypto;\nCREATE TABLE customers (id uuid "
                                           "DEFAULT gen_random_uuid() PRIMARY KEY);\nCREATE TYPE tier AS ENUM ('x');")
    # the answer found an empty database of its own: its customers and tier are not the user's
    assert result.status == "passed", result.to_dict()
    assert [t.name for t in schema.tables] == ["customers"] and schema.enums == {"tier": ["x"]}
    migration = postgres.check_migration("CREATE TABLE a (id int);", "ALTER TABLE a ADD b int;",
                                         "ALTER TABLE a DROP b;")
    assert migration.status == "passed", migration.to_dict()
    assert shop_state(shop.url) == before
    assert agentnb_objects(admin_url) == agentnb_before


def test_a_role_that_cannot_create_a_sandbox_gets_a_skipped_row_saying_what_to_grant(shop, admin_url,
                                                                                     monkeypatch):
    clerk = shop.roles["clerk"]
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", shop.urls["clerk"])
    result, schema = postgres.check_schema("DROP TABLE customers;")
    assert (result.status, schema) == ("skipped", None)
    assert result.message.startswith(f"AGENTNB_POSTGRES_URL (postgresql://{clerk}:***@")
    assert f"ALTER ROLE {clerk} CREATEDB CREATEROLE;" in result.message
    assert "clerk-pw-s3cret" not in result.message
    assert shop_state(shop.url)[2] == [(1, "Ada"), (2, "Grace")]


@pytest.mark.parametrize("value, problem", [
    ("not-a-url", "it does not parse as a URL"),
    ("mysql://someone:hidden-pw@db.example/app", "its scheme 'mysql' is not PostgreSQL's"),
])
def test_a_variable_that_is_no_postgres_url_gives_skipped_rows(value, problem, monkeypatch):
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", value)
    answer = ("```sql\nCREATE TABLE t (id int PRIMARY KEY);\n```\n\n"
              "```sql\n-- migrations/0002_x.up.sql\nALTER TABLE t ADD x int;\n```\n\n"
              "```sql\n-- migrations/0002_x.down.sql\nALTER TABLE t DROP x;\n```\n")
    report = checks.run(extract(answer), answer_text=answer)
    rows = {r.name: r for r in report.rows if "PostgreSQL" in r.name or r.name.startswith("Migration")}
    assert rows and all(r.status == "skipped" for r in rows.values()), [r.to_dict() for r in rows.values()]
    for row in rows.values():
        assert row.message.startswith("AGENTNB_POSTGRES_URL is not a PostgreSQL URL") and problem in row.message
        assert "hidden-pw" not in row.message
