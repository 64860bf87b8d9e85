"""Bring your own schema: the DDL of an existing database, read from its catalog, never its data.

``schema_from(source)`` takes a PostgreSQL URL (``postgresql://...``), a DuckDB file (``duckdb:///path``
or a ``.duckdb``/``.db`` path), a SQLite file (``sqlite:///path`` or ``.sqlite``/``.sqlite3``) or a ``.sql``
file, and gives the schema as PostgreSQL DDL (what agentnb's checks run) plus the ``Schema`` read from
it. Every database is opened read-only; rows are read only when ``sample`` asks for them. The password
of a URL is registered with ``agentnb.redact`` before anything is opened, so no message, log or prompt
carries it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from agentnb.errors import AgentnbError
from agentnb.redact import redact, register_url
from agentnb.text import quote_ident

__all__ = ["ExistingSchema", "schema_from", "display_source", "migrated_schema"]

TIMEOUT = 60                    # seconds for pg_dump, or one catalog query
MAX_SAMPLE = 1000


@dataclass
class ExistingSchema:
    """An existing database's schema: ``ddl`` (PostgreSQL), ``schema`` (tables, keys, indexes), the
    ``source`` as it may be shown (no password), and ``sample`` rows per table when asked."""

    ddl: str
    schema: object
    source: str
    notes: list[str] = field(default_factory=list)
    sample: dict[str, list[tuple]] = field(default_factory=dict)

    def prompt_block(self) -> dict:
        """The text block attached to the prompt: the DDL, and the sample rows when there are some."""
        n = len(self.schema.tables) if self.schema is not None else 0
        parts = [f"The existing database ({self.source}, {n} table{'s' if n != 1 else ''}). "
                 "Its schema is the starting point: later migrations apply to it.\n\n```sql\n"
                 + self.ddl.strip() + "\n```"]
        for table, rows in self.sample.items():
            if rows:
                body = "\n".join(repr(tuple(r)) for r in rows)
                parts.append(f"Sample rows of {table}:\n```\n{body}\n```")
        return {"type": "text", "text": redact("\n\n".join(parts))}

    def _repr_markdown_(self) -> str:
        n = len(self.schema.tables) if self.schema is not None else 0
        return f"**{self.source}**: {n} table{'s' if n != 1 else ''}\n\n```sql\n{self.ddl.strip()}\n```"


def display_source(source: str) -> str:
    """``source`` with the password of a URL replaced (the form any message may show)."""
    from agentnb.checks.pgserver import hide_password

    return hide_password(source) if "://" in source else source


def _kind(source: str) -> str:
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme.startswith(("postgres", "postgresql")):
        return "postgresql"
    if scheme.startswith("duckdb"):
        return "duckdb"
    if scheme.startswith("sqlite"):
        return "sqlite"
    suffix = Path(source).suffix.lower()
    if suffix == ".sql":
        return "sql"
    if suffix in (".duckdb", ".ddb", ".db"):
        return "duckdb" if suffix != ".db" or not _is_sqlite(source) else "sqlite"
    if suffix in (".sqlite", ".sqlite3"):
        return "sqlite"
    raise AgentnbError(f"--with-db {display_source(source)}: not a PostgreSQL, DuckDB or SQLite URL, nor a .sql, "
                       ".duckdb or .sqlite file.")


def _is_sqlite(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _file_path(source: str) -> Path:
    path = Path(source.split(":///", 1)[1] if ":///" in source else source).expanduser()
    if not path.is_file():
        raise AgentnbError(f"--with-db {display_source(source)}: no such file ({path}).")
    return path


def schema_from(source: str, *, sample: int = 0) -> ExistingSchema:
    """The schema of an existing database (see the module's docstring); ``sample`` rows per table."""
    source = str(source).strip()
    if not source:
        raise AgentnbError("--with-db: give a database URL or a .sql file.")
    register_url(source)
    if not 0 <= sample <= MAX_SAMPLE:
        raise AgentnbError(f"--sample {sample}: a number of rows per table, 0 to {MAX_SAMPLE}.")
    kind = _kind(source)
    notes: list[str] = []
    rows: dict[str, list[tuple]] = {}
    try:
        if kind == "sql":
            ddl = _file_path(source).read_text(encoding="utf-8")
        elif kind == "postgresql":
            ddl, rows = _from_postgres(source, sample, notes)
        elif kind == "duckdb":
            ddl, rows = _from_duckdb(_file_path(source), sample)
        else:
            ddl, rows = _from_sqlite(_file_path(source), sample)
    except AgentnbError:
        raise
    except Exception as exc:       # a driver's error: say which database, never with its password
        raise AgentnbError(redact(f"--with-db {display_source(source)}: could not read the schema "
                                  f"({type(exc).__name__}: {exc}).")) from None
    from agentnb.checks import duckdb as duck

    loaded = duck.load(ddl)
    loaded.con.close()
    return ExistingSchema(ddl, loaded.schema, display_source(source), notes, rows)


def migrated_schema(base_ddl: str, artifacts, rows) -> tuple[str, list[str]]:
    """The schema after an answer that changes an existing database by migrations only: ``base_ddl``
    then the up script of each of the answer's migrations, in order, unless its check failed (or it
    passed from another starting point than the conversation's schema). The DDL, and the ids of the
    migrations applied. (``schema_db()`` of a conversation started with ``--with-db`` holds this.)"""
    by_name = {row.name: row for row in rows}
    parts, applied = [base_ddl.rstrip() + "\n"], []
    for pair in artifacts.migrations:
        if pair.up is None or pair.up.language not in ("sql", ""):
            continue
        row = by_name.get(f"Migration {pair.id} up/down") or by_name.get(f"Migration {pair.id}")
        if row is not None and (row.status == "failed"
                                or row.details.get("base", "previous schema") != "previous schema"):
            continue
        parts.append(f"\n-- migration {pair.id} (up)\n" + pair.up.code.rstrip() + "\n")
        applied.append(str(pair.id))
    return "".join(parts), applied


# --------------------------------------------------------------------------------------------------
# PostgreSQL: pg_dump --schema-only when it is there, else SQLAlchemy's reflection

_DUMP_NOISE = re.compile(r"^(SET |SELECT pg_catalog\.set_config|\\)")


def _strip_dump(text: str) -> str:
    """pg_dump's output without its session settings, psql meta-commands and comment lines."""
    kept = [line for line in text.splitlines()
            if not line.startswith("--") and not _DUMP_NOISE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip() + "\n"


def _pg_dump() -> str | None:
    """The newest pg_dump the machine has (it must be at least the server's version)."""
    from agentnb.checks.pgserver import find_bindirs

    for bindir in find_bindirs():
        path = os.path.join(bindir, "pg_dump")
        if os.access(path, os.X_OK):
            return path
    return shutil.which("pg_dump")


def _from_postgres(url: str, sample: int, notes: list[str]) -> tuple[str, dict]:
    parts = urlsplit(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parts.password:            # by the environment, never on a command line others can read
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    bare = urlunsplit(parts._replace(scheme="postgresql", netloc=netloc))
    dump = _pg_dump()
    if dump:
        done = subprocess.run([dump, "--schema-only", "--no-owner", "--no-privileges", "--no-comments",
                               "--dbname", bare], env=env, capture_output=True, text=True, timeout=TIMEOUT)
        if done.returncode == 0:
            ddl = _strip_dump(done.stdout)
        elif "version mismatch" in done.stderr:     # a server newer than this pg_dump: its catalog, reflected
            notes.append("pg_dump is older than the server: the schema was reflected through SQLAlchemy")
            ddl = None
        else:
            raise AgentnbError(redact(f"--with-db {display_source(url)}: pg_dump failed: "
                                      f"{done.stderr.strip()}"))
    else:
        notes.append("pg_dump not found: the schema was reflected through SQLAlchemy")
        ddl = None
    rows: dict = {}
    if ddl is None or sample:
        import sqlalchemy as sa

        sa_url = sa.engine.make_url(url).set(drivername="postgresql+psycopg")
        engine = sa.create_engine(sa_url, connect_args={"options": "-c default_transaction_read_only=on"})
        try:
            meta = sa.MetaData()
            with engine.connect() as con:
                meta.reflect(con)
                if ddl is None:
                    ddl = _render(meta, engine.dialect)
                rows = _sample(con, meta, sample) if sample else {}
        finally:
            engine.dispose()
    return ddl, rows


# --------------------------------------------------------------------------------------------------
# DuckDB and SQLite: their catalogs, opened read-only

def _from_duckdb(path: Path, sample: int) -> tuple[str, dict]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = [r[0] for r in con.execute("SELECT sql FROM duckdb_sequences() WHERE NOT temporary "
                                           "ORDER BY schema_name, sequence_name").fetchall() if r[0]]
        parts += [r[0] for r in con.execute("SELECT sql FROM duckdb_tables() WHERE NOT temporary "
                                            "ORDER BY schema_name, table_name").fetchall() if r[0]]
        parts += [r[0] for r in con.execute("SELECT sql FROM duckdb_indexes() "
                                            "ORDER BY schema_name, index_name").fetchall() if r[0]]
        ddl = "\n\n".join(p.strip().rstrip(";") + ";" for p in parts) + "\n"
        rows = {}
        if sample:
            for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                             "WHERE NOT temporary ORDER BY 1, 2").fetchall():
                name = table if schema == "main" else f"{schema}.{table}"
                rows[name] = con.execute(f'SELECT * FROM "{schema}"."{table}" LIMIT {int(sample)}').fetchall()
        return ddl, rows
    finally:
        con.close()


def _from_sqlite(path: Path, sample: int) -> tuple[str, dict]:
    import sqlite3

    import sqlalchemy as sa

    engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    try:
        meta = sa.MetaData()
        with engine.connect() as con:
            meta.reflect(con)
            _sqlite_key_actions(con, meta)
            rows = _sample(con, meta, sample) if sample else {}
        from sqlalchemy.dialects import postgresql

        return _render(meta, postgresql.dialect(), generic=True), rows
    finally:
        engine.dispose()


def _sqlite_key_actions(con, meta) -> None:
    """ON DELETE / ON UPDATE of every foreign key, from SQLite's own ``PRAGMA foreign_key_list``:
    SQLAlchemy reads them from the table's text, and only from a table-level FOREIGN KEY clause (a
    column's ``REFERENCES p ON DELETE CASCADE`` came back without its action)."""
    for table in meta.sorted_tables:
        keys: dict[int, dict] = {}
        for row in con.exec_driver_sql(f"PRAGMA foreign_key_list({quote_ident(table.name)})").mappings():
            key = keys.setdefault(row["id"], {"table": row["table"], "from": [], "on_update": row["on_update"],
                                              "on_delete": row["on_delete"]})
            key["from"].append(row["from"])
        for constraint in table.foreign_key_constraints:
            cols = [c.name for c in constraint.columns]
            # the referenced table's name from the key's text: the table itself may be missing
            target = constraint.elements[0].target_fullname.rsplit(".", 1)[0].rsplit(".", 1)[-1] \
                if constraint.elements else ""
            found = next((k for k in keys.values() if k["from"] == cols and k["table"].lower() == target.lower()),
                         None)
            if found is None:
                continue
            for attr, action in (("ondelete", found["on_delete"]), ("onupdate", found["on_update"])):
                if getattr(constraint, attr) is None and action and action.upper() != "NO ACTION":
                    setattr(constraint, attr, action.upper())


def _render(meta, dialect, generic: bool = False) -> str:
    """PostgreSQL DDL for reflected tables; ``generic``: the source's own types (SQLite's DATETIME) are
    replaced by their generic kind, which PostgreSQL spells its way."""
    import sqlalchemy as sa
    from sqlalchemy.schema import CreateIndex, CreateTable

    for table in meta.sorted_tables:
        for column in table.columns:
            try:
                if generic:
                    raise NotImplementedError
                column.type.compile(dialect=dialect)
            except Exception:
                try:
                    column.type = column.type.as_generic()
                except Exception:
                    column.type = sa.Text()
            if column.server_default is not None and "datetime(" in str(getattr(column.server_default, "arg", "")):
                column.server_default = None       # SQLite's datetime('now') has no PostgreSQL spelling
    out = []
    for table in meta.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";")
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            out.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";")
    return "\n\n".join(out) + "\n"


def _sample(con, meta, n: int) -> dict[str, list[tuple]]:
    import sqlalchemy as sa

    return {t.fullname: [tuple(r) for r in con.execute(sa.select(t).limit(n)).fetchall()]
            for t in meta.sorted_tables}
