"""The migration a schema change implies, rendered by Alembic's autogenerate.

The old schema is in the check's database (run there by the caller), the new one is given as reflected
``MetaData``; Alembic compares them and renders the operations both as Python (``op.add_column(...)``)
and as PostgreSQL SQL. Enum types, which autogenerate does not see, are written here. Alembic is
imported on first use.
"""

from __future__ import annotations

import re

__all__ = ["reflect_metadata", "implied_migration"]


def reflect_metadata(sa_connection):
    """The default schema (the check database's ``public``) as SQLAlchemy ``MetaData``, reflected on the
    check's own connection: names come unqualified, as the migration must write them."""
    from sqlalchemy import MetaData
    metadata = MetaData()
    metadata.reflect(sa_connection)
    return metadata


def implied_migration(sa_connection, new_metadata, changes: list[dict]) -> dict:
    """Alembic's autogenerate (database: the old schema, in ``sa_connection``'s default schema;
    metadata: the new), as SQL (``upgrade_sql``, ``downgrade_sql``) and as ops (``alembic_upgrade``...)."""
    import io

    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from agentnb.checks.migration_order import stable

    ctx = MigrationContext.configure(sa_connection, opts={"compare_type": True, "compare_server_default": True})
    up_ops, down_ops = stable(produce_migrations(ctx, new_metadata).upgrade_ops)   # hash-seed free order
    _no_enum_creation(up_ops)
    _no_enum_creation(down_ops)
    enum_sql = _enum_sql(changes)
    result = {
        "alembic_upgrade": render_python_code(up_ops),
        "alembic_downgrade": render_python_code(down_ops),
    }
    for key, ops in (("upgrade_sql", up_ops), ("downgrade_sql", down_ops)):
        buf = io.StringIO()
        offline = MigrationContext.configure(dialect_name="postgresql",
                                             opts={"as_sql": True, "output_buffer": buf})
        operations = Operations(offline)
        for op in ops.ops:
            _invoke(operations, op)
        pre, post = enum_sql[key]
        result[key] = "\n".join(x for x in (*pre, _no_blank_lines(buf.getvalue()), *post) if x)
    return result


def _no_enum_creation(ops) -> None:
    """Enum types are created, changed and dropped by ``_enum_sql``, not inside CREATE TABLE."""
    from alembic.operations import ops as alembic_ops
    from sqlalchemy.dialects.postgresql import ENUM
    for op in ops.ops:
        if isinstance(op, alembic_ops.ModifyTableOps):
            _no_enum_creation(op)
            continue
        columns = list(getattr(op, "columns", None) or [])
        if getattr(op, "column", None) is not None:
            columns.append(op.column)
        for col in columns:
            if isinstance(getattr(col, "type", None), ENUM):
                col.type.create_type = False


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ident(name: str) -> str:
    return ".".join(p if re.fullmatch(r"[a-z_][a-z0-9_$]*", p) else _quote_ident(p) for p in name.split("."))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _enum_sql(changes: list[dict]) -> dict:
    """SQL for enum changes, which Alembic's autogenerate does not see: (before, after) per direction."""
    up_pre: list[str] = []
    up_post: list[str] = []
    down_pre: list[str] = []
    down_post: list[str] = []

    def create(name: str, labels: list[str]) -> str:
        return f"CREATE TYPE {_ident(name)} AS ENUM ({', '.join(_literal(x) for x in labels)});"

    for ch in changes:
        if ch["object"] != "enum":
            continue
        name = ch["name"]
        if ch["change"] == "added":
            labels = ch["text"][ch["text"].index("(") + 1:-1].split(", ")
            up_pre.append(create(name, labels))
            down_post.append(f"DROP TYPE {_ident(name)};")
        elif ch["change"] == "removed":
            labels = ch["text"][ch["text"].index("(") + 1:-1].split(", ")
            up_post.append(f"DROP TYPE {_ident(name)};")
            down_pre.append(create(name, labels))
        else:
            old, new = ch["old"], ch["new"]
            kept = [x for x in new if x in old]
            if kept == old:
                for i, label in enumerate(new):
                    if label in old:
                        continue
                    after = new[i - 1] if i > 0 else None
                    place = f" AFTER {_literal(after)}" if after is not None else (
                        f" BEFORE {_literal(old[0])}" if old else "")
                    up_pre.append(f"ALTER TYPE {_ident(name)} ADD VALUE {_literal(label)}{place};")
                down_pre.append(f"-- PostgreSQL cannot drop values from enum {name}: create a type "
                                "without them, ALTER the columns to it, then drop the old type.")
            else:
                up_pre.append(f"-- enum {name} lost or reordered values: create a new type "
                              f"({', '.join(new)}), ALTER the columns to it, then drop the old type.")
                down_pre.append(f"-- enum {name}: recreate it as ({', '.join(old)}) the same way.")
    return {"upgrade_sql": (up_pre, up_post), "downgrade_sql": (down_pre, down_post)}


def _invoke(operations, op) -> None:
    from alembic.operations import ops as alembic_ops
    if isinstance(op, alembic_ops.ModifyTableOps):
        for sub in op.ops:
            _invoke(operations, sub)
    else:
        operations.invoke(op)


def _no_blank_lines(sql: str) -> str:
    return "\n".join(ln for ln in sql.splitlines() if ln.strip()).strip()
