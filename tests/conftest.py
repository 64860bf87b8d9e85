"""Shared fixtures. ``api``: a local Messages API server, the real SDK pointed at it, and a fresh
agentnb session working in its own folder (recordings, session log). ``shared_postgres``: one
PostgreSQL for the whole test session, its tests and the kernels they start (``AGENTNB_POSTGRES_URL``
in the environment they inherit), stopped at the end. ``owned_database``: a user's database on that
server, owned by a role of its own, made and dropped around a test."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_KEY = "sk-ant-test-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True)
def shared_postgres():
    """The URL of the session's PostgreSQL (agentnb's own throwaway cluster, or the one named from
    outside), or None when none can be had (the PostgreSQL tests then skip, saying why)."""
    if os.environ.get("AGENTNB_POSTGRES_URL", "").strip():
        yield os.environ["AGENTNB_POSTGRES_URL"]
        return
    from agentnb.checks import pgserver

    try:
        server = pgserver.get_server()
    except pgserver.NoPostgresError:
        yield None
        return
    os.environ["AGENTNB_POSTGRES_URL"] = server.url
    try:
        yield server.url
    finally:
        os.environ.pop("AGENTNB_POSTGRES_URL", None)
        server.stop()


@dataclass
class OwnedDatabase:
    """A database made for a test, and the roles that reach it (names made unique per use)."""
    name: str
    owner: str
    url: str                                       # the owner's URL, password included
    roles: dict[str, str] = field(default_factory=dict)   # the other roles: short name -> role name
    urls: dict[str, str] = field(default_factory=dict)    # short name -> that role's URL to the database


@pytest.fixture(scope="session")
def owned_database(shared_postgres):
    """Make a user's database, as a user would have it: ``with owned_database("shop", SETUP_SQL,
    password=..., rights="CREATEDB CREATEROLE", others={"clerk": "pw"}) as db:`` creates a login role
    (``rights`` added; a superuser never), a database it owns, the ``others`` login roles (no rights),
    runs ``SETUP_SQL`` in it as the owner, and drops all of it on leaving. Skips when the session has no
    PostgreSQL, or its URL is no superuser's (roles cannot be made)."""
    if shared_postgres is None:
        pytest.skip("no PostgreSQL for this test session")
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(shared_postgres).set(drivername="postgresql")

    def url_for(role: str, password: str, database: str) -> str:
        return admin.set(username=role, password=password, database=database).render_as_string(hide_password=False)

    @contextlib.contextmanager
    def make(prefix: str, setup: str, *, password: str, rights: str = "", others: dict[str, str] | None = None):
        suffix = uuid.uuid4().hex[:8]
        name, owner = f"{prefix}_{suffix}", f"{prefix}_owner_{suffix}"
        roles = {short: f"{prefix}_{short}_{suffix}" for short in others or {}}
        admin_url = admin.render_as_string(hide_password=False)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
                pytest.skip("the session's PostgreSQL URL is not a superuser's: cannot make test roles")
            conn.execute(f"CREATE ROLE {owner} LOGIN PASSWORD '{password}' {rights}")
            for short, role in roles.items():
                conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{others[short]}'")
            conn.execute(f"CREATE DATABASE {name} OWNER {owner}")
        db = OwnedDatabase(name, owner, url_for(owner, password, name), roles,
                           {short: url_for(role, others[short], name) for short, role in roles.items()})
        try:
            with psycopg.connect(db.url, autocommit=True) as conn:
                conn.execute(setup)
            yield db
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                for role in (owner, *roles.values()):
                    conn.execute(f"DROP ROLE IF EXISTS {role}")

    return make


@pytest.fixture(scope="session")
def messages_server():
    from agentnb.testing.server import MessagesServer

    with MessagesServer(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh working folder and environment: no credentials, no agentnb settings from outside (but
    the session's shared PostgreSQL)."""
    for name in list(os.environ):
        if name.startswith(("AGENTNB_", "ANTHROPIC_")) and name != "AGENTNB_POSTGRES_URL":
            monkeypatch.delenv(name)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))   # no ~/.claude/agents, no SDK credential files
    monkeypatch.chdir(tmp_path)
    from agentnb.session import reset

    reset()
    yield tmp_path
    reset()


@pytest.fixture
def api(workdir, messages_server, monkeypatch):
    messages_server.reset() if hasattr(messages_server, "reset") else None
    monkeypatch.setenv("ANTHROPIC_BASE_URL", messages_server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    return messages_server


@pytest.fixture(scope="session", autouse=True)
def _shell_history_in_memory():
    """The tests' IPython shell (a process-wide singleton) keeps its history in memory: its SQLite file
    would otherwise sit under whichever temporary HOME the first test had, gone by the time the shell
    writes to it at exit."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.instance(config=config)
    yield
