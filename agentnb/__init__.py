"""agentnb: Claude Code sub-agents as Jupyter cell magics.

Importing this package is cheap on purpose (``%load_ext agentnb`` must stay fast): the SDK, DuckDB,
SQLAlchemy and nbformat are imported on first use, by the modules that need them.
"""

from __future__ import annotations

from agentnb.errors import AgentDefinitionError, AgentnbError

__version__ = "0.1.0"
__all__ = [
    "AgentDefinitionError",
    "AgentnbError",
    "agents",
    "ask",
    "extract",
    "load_agent",
    "load_ipython_extension",
    "log",
    "schema_db",
    "schema_from",
    "current_session",
]


def load_agent(path):
    """Load one agent file (Markdown with YAML front matter); raises AgentDefinitionError."""
    from agentnb.agentfile import load_agent as _load

    return _load(path)


def agents() -> dict:
    """The agents found on the search path, by name (bad files: ``current_session().catalog.errors``)."""
    from agentnb.session import current

    return dict(current().catalog.agents)


def ask(agent, prompt: str, *, model=None, thread=None, new=False, max_tokens=None, context=None,
        renderer=None, check=True, fix=0, base_schema=None):
    """Ask an agent (a name or an Agent) and return the Response, its artifacts checked; continues the
    agent's conversation."""
    from agentnb.session import current

    return current().ask(agent, prompt, model=model, thread=thread, new=new, max_tokens=max_tokens,
                         context=context, renderer=renderer, check=check, fix=fix, base_schema=base_schema)


def extract(text: str):
    """The artifacts of an answer's text (``Artifacts``: blocks with their kind, file name and line)."""
    from agentnb.artifacts import extract as _extract

    return _extract(text)


def current_session():
    """The current session: settings, conversations, totals."""
    from agentnb.session import current

    return current()


def log(sql: str | None = None):
    """The session log as a DuckDB relation over the view ``exchanges`` (or the result of ``sql``, which
    may also read the view ``tool_calls``: a tools cell's tool calls)."""
    from agentnb import sessionlog
    from agentnb.session import current

    return sessionlog.query(sql, home=current().settings.resolved_home())


def schema_from(source, *, sample: int = 0):
    """An existing database's schema, read-only from its catalog (rows only with ``sample``): a
    PostgreSQL, DuckDB or SQLite URL, or a .sql file. ``.ddl`` is PostgreSQL DDL, ``.schema`` its tables;
    pass ``base_schema=result.ddl`` to ``ask`` to check later migrations against it."""
    from agentnb.withdb import schema_from as _schema_from

    return _schema_from(source, sample=sample)


def schema_db(agent=None, thread=None):
    """A DuckDB connection holding the latest valid schema of the conversation, for your own SQL: the
    last schema an answer gave that passed its checks, or, in a conversation started from an existing
    database (``--with-db``), that database's schema with the later answers' passing migrations applied.

    It is the database the answer's DDL was loaded into, so it stays locked down as that needs: no file
    or network access (no COPY, ATTACH, read_csv, INSTALL), one thread, a memory limit, and settings
    that cannot be changed. Query it, insert rows into it; to work with files, open a DuckDB
    connection of your own."""
    from agentnb.session import current

    return current().schema_db(agent, thread)


def load_ipython_extension(shell) -> None:
    from agentnb.magics import load_ipython_extension as _load

    _load(shell)
