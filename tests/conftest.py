"""Shared fixtures. ``api``: a local Messages API server, the real SDK pointed at it, and a fresh
agentnb session working in its own folder (recordings, session log). ``shared_postgres``: one
PostgreSQL for the whole test session, its tests and the kernels they start (``AGENTNB_POSTGRES_URL``
in the environment they inherit), stopped at the end."""

from __future__ import annotations

import os
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
