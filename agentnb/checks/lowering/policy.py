"""What reaches DuckDB at all: the statement kinds that build a schema; every other one is left out
and listed, under a label a reader recognises (COPY, ATTACH, CREATE MACRO...)."""

from __future__ import annotations

import re


def _table(text: str) -> dict[str, tuple[str, str]]:
    """``node type | label | text`` lines as ``{node type: (label, text)}``."""
    rows = (line.split("|", 2) for line in text.strip().splitlines())
    return {node.strip(): (label.strip(), note.strip()) for node, label, note in rows}


# node type | label | the note the row shows
_SKIP_STATEMENTS = _table("""
CreateExtensionStmt        | extension      | CREATE EXTENSION skipped (DuckDB has no PostgreSQL extensions)
CreateFunctionStmt         | function       | function skipped (DuckDB runs no plpgsql)
CreateTrigStmt             | trigger        | trigger skipped (DuckDB has no triggers)
CreateEventTrigStmt        | trigger        | event trigger skipped
DoStmt                     | DO block       | DO block skipped
GrantStmt                  | grant          | GRANT/REVOKE skipped (no roles in DuckDB)
GrantRoleStmt              | grant          | GRANT role skipped
CreateRoleStmt             | role           | CREATE ROLE skipped
AlterRoleStmt              | role           | ALTER ROLE skipped
AlterOwnerStmt             | owner          | ALTER ... OWNER skipped
AlterDefaultPrivilegesStmt | grant          | ALTER DEFAULT PRIVILEGES skipped
CreatePolicyStmt           | policy         | row-level security policy skipped
VariableSetStmt            | SET            | SET skipped
TransactionStmt            | transaction    | transaction control skipped (each statement runs on its own)
SelectStmt                 | query          | query skipped (not DDL)
CreateRangeStmt            | range type     | range type skipped (DuckDB has no range types)
RuleStmt                   | rule           | rule skipped
CreateCastStmt             | cast           | CREATE CAST skipped
CreateOpClassStmt          | operator class | operator class skipped
DefineStmt                 | definition     | CREATE AGGREGATE/OPERATOR skipped
AlterSeqStmt               | sequence       | ALTER SEQUENCE skipped
CreateStatsStmt            | statistics     | CREATE STATISTICS skipped
AlterExtensionStmt         | extension      | ALTER EXTENSION skipped
CreatePublicationStmt      | publication    | publication skipped
ClusterStmt                | cluster        | CLUSTER skipped
VacuumStmt                 | vacuum         | VACUUM/ANALYZE skipped
""")

# Containment: only these statement kinds reach DuckDB, as the lowering writes them; anything else is
# left out and listed. What the answer wrote runs in the kernel's process: COPY, ATTACH, INSTALL,
# CREATE MACRO (which overrides a built-in for the user's later queries), INSERT... never reach it.
_SCHEMA_STATEMENTS = frozenset((
    "CreateStmt", "CreateTableAsStmt", "CreateEnumStmt", "CreateDomainStmt", "CompositeTypeStmt",
    "CreateSeqStmt", "IndexStmt", "ViewStmt", "CommentStmt", "AlterTableStmt", "CreateSchemaStmt",
    "DropStmt"))
_DROPPABLE = frozenset(("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_INDEX", "OBJECT_SEQUENCE",
                        "OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_SCHEMA"))
# node type | label | why it is left out
_LEFT_OUT = _table("""
CopyStmt     | COPY            | it reads or writes files
InsertStmt   | INSERT          | data, not schema
UpdateStmt   | UPDATE          | data, not schema
DeleteStmt   | DELETE          | data, not schema
MergeStmt    | MERGE           | data, not schema
LoadStmt     | LOAD            | it loads a library
CreatedbStmt | CREATE DATABASE | the copy is one database
DropdbStmt   | DROP DATABASE   | the copy is one database
""")
# DuckDB functions that reach outside the database (files, the network, the environment, SQL text):
# DuckDB's enable_external_access=false refuses the file ones anyway; these are named so the row says
# why the statement was left out instead of showing DuckDB's permission error.
_OUTSIDE_FUNCTIONS = frozenset((
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
    "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects",
    "read_text", "read_blob", "glob", "sniff_csv", "parquet_metadata", "parquet_schema", "parquet_file_metadata",
    "parquet_kv_metadata", "read_xlsx", "st_read", "sqlite_scan", "sqlite_attach", "postgres_scan",
    "postgres_attach", "mysql_scan", "delta_scan", "iceberg_scan", "getenv", "query", "query_table",
    "duckdb_secrets", "which_secret", "load_aws_credentials", "pg_read_file", "pg_read_binary_file",
    "pg_ls_dir", "lo_import", "lo_export", "dblink", "dblink_exec"))
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


_LABELS = {"CreateTableAsStmt": "CREATE TABLE AS", "CreateStmt": "CREATE TABLE", "ViewStmt": "CREATE VIEW",
           "IndexStmt": "CREATE INDEX"}
_LEADING_COMMENT = re.compile(r"\s*(--[^\n]*(\n|\Z)|/\*.*?\*/)", re.S)


def _node_label(name: str) -> str:
    """CopyStmt -> COPY, CreateForeignTableStmt -> CREATE FOREIGN TABLE."""
    if name in _LABELS:
        return _LABELS[name]
    if name in _LEFT_OUT:
        return _LEFT_OUT[name][0]
    return _CAMEL.sub(" ", name.removesuffix("Stmt")).upper()


def _words_label(text: str) -> str:
    """What a statement PostgreSQL cannot parse starts with, for the list of what was left out:
    ATTACH, INSTALL, CREATE MACRO, EXPORT DATABASE..."""
    while True:
        comment = _LEADING_COMMENT.match(text)
        if not comment or not comment.group(0):
            break
        text = text[comment.end():]
    words = _WORD.findall(text[:200])
    if not words:
        return "a statement"
    label = words[0].upper()
    if label in ("CREATE", "DROP", "ALTER", "EXPORT", "IMPORT", "SET", "COMMENT") and len(words) > 1:
        second = words[1].upper()
        if label == "CREATE" and second == "OR" and len(words) > 3:
            second = " ".join(w.upper() for w in words[1:4])
        label += " " + second
    return label
