"""PostgreSQL DDL lowered for DuckDB: :func:`lower` rewrites what DuckDB rejects and lists every change.

Two paths make the same changes. The fast one (:class:`_FastLowerer`) edits the source text at the
positions in libpg_query's JSON tree; the tree one (:class:`_Lowerer`) rewrites pglast's Python tree
and deparses it, for whatever the fast one does not know. :class:`_BaseLowerer` holds what both do:
the change list and its messages, the table and sequence bookkeeping, and the ordering of statements.
Loading into DuckDB and reading its catalog back is :mod:`agentnb.checks.duckdb`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Lowered", "LoweredStatement", "Lowering", "lower"]

_KIND_ORDER = ["identity", "serial", "cascade", "partial index", "alter table", "deferrable", "exclude",
               "index skipped", "USING gin", "USING gist", "cycle", "trigger", "function", "extension"]


@dataclass
class Lowering:
    """One change made so that DuckDB accepts the DDL (or one statement left out)."""

    kind: str                  # short code: "identity", "cascade", "partial index", "extension", ...
    message: str               # what was changed and why, for a reader
    statement: int             # 1-based position of the source statement
    table: str | None = None
    skipped: bool = False      # the whole statement was left out

    def __str__(self) -> str:
        return f"statement {self.statement}: {self.message}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "statement": self.statement,
                "table": self.table, "skipped": self.skipped}


@dataclass
class LoweredStatement:
    sql: str
    source: int                # 1-based position of the source statement it came from
    kind: str = ""             # node type, e.g. "CreateStmt"
    table: str | None = None


@dataclass
class Lowered:
    statements: list[LoweredStatement] = field(default_factory=list)
    changes: list[Lowering] = field(default_factory=list)
    source_count: int = 0
    # What DuckDB forgets but the PostgreSQL DDL said: put back into the schema read from DuckDB.
    fk_info: dict[tuple[str, tuple[str, ...]], tuple[str | None, str | None]] = field(default_factory=dict)
    index_where: dict[str, str] = field(default_factory=dict)

    @property
    def sql(self) -> str:
        return "".join(s.sql + ";\n" for s in self.statements)

    def kinds(self) -> list[str]:
        """The kinds of change made, each once: the ones that weaken the check most first, then in
        order of first appearance."""
        seen = list(dict.fromkeys(c.kind for c in self.changes))
        return sorted(seen, key=lambda k: (_KIND_ORDER.index(k) if k in _KIND_ORDER else len(_KIND_ORDER),
                                           seen.index(k)))



# --------------------------------------------------------------------------------------------------
# Lowering

_TYPE_MAP = {
    # PostgreSQL type -> (DuckDB type, say it?)
    "jsonb": "json",
    "citext": "varchar",
    "inet": "varchar", "cidr": "varchar", "macaddr": "varchar", "macaddr8": "varchar",
    "money": "numeric(19,2)",
    "tsvector": "varchar", "tsquery": "varchar", "xml": "varchar", "ltree": "varchar",
    "hstore": "varchar", "pg_lsn": "varchar", "txid_snapshot": "varchar",
    "regclass": "varchar", "regproc": "varchar", "regtype": "varchar",
    "point": "varchar", "line": "varchar", "lseg": "varchar", "box": "varchar", "path": "varchar",
    "polygon": "varchar", "circle": "varchar", "geometry": "varchar", "geography": "varchar",
    "int4range": "varchar", "int8range": "varchar", "numrange": "varchar", "tsrange": "varchar",
    "tstzrange": "varchar", "daterange": "varchar", "int4multirange": "varchar",
    "int8multirange": "varchar", "nummultirange": "varchar", "tsmultirange": "varchar",
    "tstzmultirange": "varchar", "datemultirange": "varchar",
}
_SERIALS = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
            "smallserial": "smallint", "serial2": "smallint"}
_NO_TYPMOD = {"timestamp", "timestamptz", "time", "timetz", "interval"}
_ARRAY_UNINDEXABLE_METHODS = {"gin", "gist", "spgist", "brin"}
_SEQ_OPTIONS = {"start", "increment", "minvalue", "maxvalue", "cycle"}
_SKIP_STATEMENTS = {
    "CreateExtensionStmt": ("extension", "CREATE EXTENSION skipped (DuckDB has no PostgreSQL extensions)"),
    "CreateFunctionStmt": ("function", "function skipped (DuckDB runs no plpgsql)"),
    "CreateTrigStmt": ("trigger", "trigger skipped (DuckDB has no triggers)"),
    "CreateEventTrigStmt": ("trigger", "event trigger skipped"),
    "DoStmt": ("DO block", "DO block skipped"),
    "GrantStmt": ("grant", "GRANT/REVOKE skipped (no roles in DuckDB)"),
    "GrantRoleStmt": ("grant", "GRANT role skipped"),
    "CreateRoleStmt": ("role", "CREATE ROLE skipped"),
    "AlterRoleStmt": ("role", "ALTER ROLE skipped"),
    "AlterOwnerStmt": ("owner", "ALTER ... OWNER skipped"),
    "AlterDefaultPrivilegesStmt": ("grant", "ALTER DEFAULT PRIVILEGES skipped"),
    "CreatePolicyStmt": ("policy", "row-level security policy skipped"),
    "VariableSetStmt": ("SET", "SET skipped"),
    "TransactionStmt": ("transaction", "transaction control skipped (each statement runs on its own)"),
    "SelectStmt": ("query", "query skipped (not DDL)"),
    "CreateRangeStmt": ("range type", "range type skipped (DuckDB has no range types)"),
    "RuleStmt": ("rule", "rule skipped"),
    "CreateCastStmt": ("cast", "CREATE CAST skipped"),
    "CreateOpClassStmt": ("operator class", "operator class skipped"),
    "DefineStmt": ("definition", "CREATE AGGREGATE/OPERATOR skipped"),
    "AlterSeqStmt": ("sequence", "ALTER SEQUENCE skipped"),
    "CreateStatsStmt": ("statistics", "CREATE STATISTICS skipped"),
    "AlterExtensionStmt": ("extension", "ALTER EXTENSION skipped"),
    "CreatePublicationStmt": ("publication", "publication skipped"),
    "ClusterStmt": ("cluster", "CLUSTER skipped"),
    "VacuumStmt": ("vacuum", "VACUUM/ANALYZE skipped"),
}
# Containment: only these statement kinds reach DuckDB, as the lowering writes them; anything else is
# left out and listed. What the answer wrote runs in the kernel's process: COPY, ATTACH, INSTALL,
# CREATE MACRO (which overrides a built-in for the user's later queries), INSERT... never reach it.
_SCHEMA_STATEMENTS = frozenset((
    "CreateStmt", "CreateTableAsStmt", "CreateEnumStmt", "CreateDomainStmt", "CompositeTypeStmt",
    "CreateSeqStmt", "IndexStmt", "ViewStmt", "CommentStmt", "AlterTableStmt", "CreateSchemaStmt",
    "DropStmt"))
_DROPPABLE = frozenset(("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_INDEX", "OBJECT_SEQUENCE",
                        "OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_SCHEMA"))
_LEFT_OUT = {   # node type -> (label, why)
    "CopyStmt": ("COPY", "it reads or writes files"),
    "InsertStmt": ("INSERT", "data, not schema"),
    "UpdateStmt": ("UPDATE", "data, not schema"),
    "DeleteStmt": ("DELETE", "data, not schema"),
    "MergeStmt": ("MERGE", "data, not schema"),
    "LoadStmt": ("LOAD", "it loads a library"),
    "CreatedbStmt": ("CREATE DATABASE", "the copy is one database"),
    "DropdbStmt": ("DROP DATABASE", "the copy is one database"),
    "CreateTableAsStmt": ("CREATE TABLE AS", ""),
    "CreateStmt": ("CREATE TABLE", ""), "ViewStmt": ("CREATE VIEW", ""), "IndexStmt": ("CREATE INDEX", ""),
}
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
# Words DuckDB 2.0 reserves (duckdb_keywords(), not 'unreserved') that PostgreSQL lets through unquoted
_DUCKDB_ONLY_KEYWORDS = frozenset(
    "anti asof at by columns describe generated glob grouping_id lambda map pivot pivot_longer "
    "pivot_wider positional qualify semi show struct summarize try_cast tuple unpack unpivot".split())
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NUMBER = re.compile(r"-?[0-9][0-9.eE+-]*\Z")
_FK_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT", "a": None}
_COMMENT_KEPT = {"OBJECT_TABLE", "OBJECT_COLUMN", "OBJECT_VIEW", "OBJECT_INDEX", "OBJECT_SEQUENCE"}
_CONSTR_LABEL_BY_NAME = {"CONSTR_FOREIGN": "FOREIGN KEY", "CONSTR_PRIMARY": "PRIMARY KEY",
                         "CONSTR_UNIQUE": "UNIQUE", "CONSTR_CHECK": "CHECK"}
_ALTER_SKIPPED_BY_NAME = {
    "AT_ChangeOwner": "OWNER TO", "AT_EnableRowSecurity": "ENABLE ROW LEVEL SECURITY",
    "AT_ForceRowSecurity": "FORCE ROW LEVEL SECURITY", "AT_DisableRowSecurity": "DISABLE ROW LEVEL SECURITY",
    "AT_SetStatistics": "SET STATISTICS", "AT_ClusterOn": "CLUSTER ON", "AT_ReplicaIdentity": "REPLICA IDENTITY",
    "AT_SetRelOptions": "SET (...)", "AT_EnableTrig": "ENABLE TRIGGER", "AT_DisableTrig": "DISABLE TRIGGER",
    "AT_SetStorage": "SET STORAGE", "AT_SetCompression": "SET COMPRESSION", "AT_SetLogged": "SET LOGGED",
    "AT_SetUnLogged": "SET UNLOGGED", "AT_ValidateConstraint": "VALIDATE CONSTRAINT",
    "AT_SetOptions": "SET (...)", "AT_SetTableSpace": "SET TABLESPACE"}
# the same keyed by pglast's enums, for the tree path (filled on first use: pglast loads late)
_CONSTR_LABEL: dict = {}
_ALTER_SKIPPED: dict = {}


# --------------------------------------------------------------------------------------------------
# What both paths share

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def _q(name: str) -> str:
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


class _Stmt:
    """A statement on its way out, in either path: what it provides and needs, for the ordering."""

    __slots__ = ("source", "kind", "table", "raw", "provides", "requires", "done")

    def __init__(self, source, kind, table=None, raw=None):
        self.source = source
        self.kind = kind
        self.table = table
        self.raw = raw
        self.provides: str | None = None
        self.requires: set[str] = set()
        self.done = False


class _BaseLowerer:
    """The change list and every message in it, what the script has created so far, and the order
    the statements go out in. A path reads its own tree and writes its own text: ``Item``,
    ``table_requires``, ``foreign_keys``, ``cycle`` and ``render`` are its part of ``emit``."""

    Item = _Stmt

    def __init__(self, ddl: str):
        self.ddl = ddl
        self.out = Lowered()
        self.items: list = []
        self.tables: dict[str, Any] = {}                  # table key -> CREATE TABLE item
        self.col_arrays: dict[str, dict[str, bool]] = {}  # table key -> column -> an array?
        self.skipped_indexes: set[str] = set()
        self.public_noted = False
        self.n = 0
        self.dirty = False      # the tree path: the current statement must be deparsed

    def change(self, kind, message, table=None, skipped=False):
        self.dirty = True
        new = Lowering(kind, message, self.n, table, skipped)
        if new not in self.out.changes[-8:]:    # DEFERRABLE INITIALLY DEFERRED is one change, not two
            self.out.changes.append(new)

    def note_public(self):
        self.dirty = True
        if not self.public_noted:
            self.public_noted = True
            self.change("schema public", "schema public → DuckDB's default schema (main)")

    def skip_statement(self, name: str) -> bool:
        if name not in _SKIP_STATEMENTS:
            return False
        kind, message = _SKIP_STATEMENTS[name]
        self.change(kind, message, skipped=True)
        return True

    def left_out(self, label: str, why: str):
        """A statement that does not reach DuckDB, listed (``LoadResult.check`` names them)."""
        self.change("left out", f"{label} left out: {why}", skipped=True)

    def public_schema_skipped(self, schemaname) -> bool:
        if schemaname != "public":
            return False
        self.change("schema public", "CREATE SCHEMA public skipped (DuckDB's default schema is main)",
                    skipped=True)
        return True

    def comment_kept(self, objtype: str, names: list[str]) -> bool:
        if objtype not in _COMMENT_KEPT:
            self.change("comment", f"COMMENT ON {objtype.removeprefix('OBJECT_')} skipped", skipped=True)
            return False
        if objtype == "OBJECT_INDEX" and names[-1:] and names[-1] in self.skipped_indexes:
            self.change("comment", "COMMENT ON INDEX skipped (index skipped)", skipped=True)
            return False
        return True

    # -- types ----------------------------------------------------------------------------------
    def type_mapped(self, base: str, where: str | None):
        label = f"{base.upper()} → {_TYPE_MAP[base].upper()}"
        if base == "money":
            label = "MONEY → DECIMAL(19,2)"
        self.change(base, label + (f" on {where}" if where else " in an expression"))

    def precision_dropped(self, base: str, where: str | None):
        self.change("precision", f"{base} precision dropped" + (f" on {where}" if where else "")
                    + " (DuckDB's time types take no modifiers)")

    def wide_numeric(self, mods: list, where: str | None) -> str | None:
        """numeric(p, s) beyond DuckDB's 38 digits: the type to write instead (None: it fits)."""
        if not (mods and isinstance(mods[0], int) and mods[0] > 38):
            return None
        scale = mods[1] if len(mods) > 1 and isinstance(mods[1], int) else 0
        self.change("precision", f"numeric({mods[0]},{scale}) → DECIMAL(38,{min(scale, 38)})"
                    + (f" on {where}" if where else "") + " (DuckDB's widest decimal)")
        return f"numeric(38,{min(scale, 38)})"

    # -- tables and columns ---------------------------------------------------------------------
    def inheritance_skipped(self, key: str, partition: bool):
        what = "partition" if partition else "inheriting table"
        self.change("partition", f"{what} {key} skipped (DuckDB has no table inheritance)",
                    table=key, skipped=True)

    def register_table(self, key: str, item):
        item.provides = "table:" + key
        if key in self.tables:   # CREATE TABLE IF NOT EXISTS twice, or a broken script: keep both
            item.provides = None
        else:
            self.tables[key] = item
        self.col_arrays[key] = {}

    def serial(self, key: str, colname: str, base: str, item) -> str:
        """SERIAL: the sequence behind it (created before the table); its name."""
        seq = self.add_sequence(key, colname, (), item)
        self.change("serial", f"{base.upper()} → {_SERIALS[base].upper()} + sequence {seq} on "
                    f"{key}.{colname}", table=key)
        return seq

    def identity(self, key: str, colname: str, options, item) -> str:
        """GENERATED AS IDENTITY: the sequence used instead; its name."""
        seq = self.add_sequence(key, colname, options, item)
        self.change("identity", f"identity dropped on {key}.{colname} (DuckDB has no GENERATED AS "
                    f"IDENTITY; a sequence default used instead: {seq})", table=key)
        return seq

    def add_sequence(self, key, colname, options, item) -> str:
        """``options``: (name, value) pairs of the identity's sequence options."""
        table = key.rsplit(".", 1)[-1]
        schema = key.rsplit(".", 1)[0] + "." if "." in key else ""
        name = f"{table}_{colname}_seq"
        opts = [f"{'START WITH' if defname == 'start' else defname.upper()} {value}"
                for defname, value in options
                if defname in ("start", "increment", "minvalue", "maxvalue") and value is not None
                and _NUMBER.match(str(value))]
        raw = (f"CREATE SEQUENCE IF NOT EXISTS {_q(schema[:-1]) + '.' if schema else ''}{_q(name)}"
               + ("" if not opts else " " + " ".join(opts)))
        seq = self.Item(self.n, "CreateSeqStmt", key, raw)
        seq.provides = "seq:" + name
        item.requires.add("seq:" + name)
        self.items.append(seq)
        return schema + name

    def array_default(self, sval, key: str, where: str) -> str | None:
        """An array default written '{a,b}': DuckDB's '[a,b]' (None: not such a literal)."""
        if not (isinstance(sval, str) and sval.startswith("{") and sval.endswith("}")):
            return None
        self.change("array literal", f"array default '{sval}' → '[{sval[1:-1]}]' on {where} "
                    "(DuckDB list syntax)", table=key)
        return "[" + sval[1:-1] + "]"

    def foreign_key(self, key, where, cols, conname, del_action, upd_action, pk_relname,
                    matchtype) -> tuple[bool, bool]:
        """What the schema read back must say of a foreign key, and what DuckDB ignores on it:
        (ON DELETE/UPDATE actions dropped, MATCH FULL dropped)."""
        actions = [f"{label} {_FK_ACTIONS[code]}" for label, code in
                   (("ON DELETE", del_action), ("ON UPDATE", upd_action)) if _FK_ACTIONS.get(code)]
        self.out.fk_info[(key, cols)] = (conname, _FK_ACTIONS.get(del_action))
        if actions:
            self.change("cascade", f"{' '.join(actions)} ignored on {key}({', '.join(cols)}) "
                        f"→ {pk_relname} (DuckDB enforces NO ACTION only)", table=key)
        match_full = matchtype not in ("s", "\x00", None)
        if match_full:
            self.change("match full", f"MATCH FULL dropped on {where}", table=key)
        return bool(actions), match_full

    # -- indexes and ALTER TABLE ----------------------------------------------------------------
    def array_index_skipped(self, key: str, name: str, columns, method: str) -> bool:
        arrays = self.col_arrays.get(key, {})
        array_cols = [c for c in columns if c and arrays.get(c)]
        if not array_cols:
            return False
        self.skipped_indexes.add(name)
        self.change("index skipped", f"index {name} skipped: DuckDB cannot index array column "
                    f"{key}.{array_cols[0]}" + (f" (USING {method})" if method != "btree" else ""),
                    table=key, skipped=True)
        return True

    def using_dropped(self, key: str, name: str, method: str):
        self.change(f"USING {method}", f"USING {method} dropped on index {name}", table=key)

    def partial_index(self, key: str, name: str, where: str, unique: bool):
        self.out.index_where[name] = where
        extra = " (now unique over all rows)" if unique else ""
        self.change("partial index", f"partial index {name} created without its WHERE {where}" + extra,
                    table=key)

    def alter_skipped(self, key: str, label: str):
        self.change("alter table", f"ALTER TABLE {key} {label} skipped", table=key)

    def folded(self, key: str, what: str):
        self.change("alter table", f"ALTER TABLE {key} {what} folded into CREATE TABLE {key}", table=key)

    # -- ordering and output --------------------------------------------------------------------
    def emit(self):
        """Statements in their original order, except that whatever a statement needs (a referenced
        table, a type, a sequence created further down) is pulled in just before it."""
        for item in self.items:
            if item.kind == "CreateStmt":
                self.table_requires(item)
        providers: dict[str, _Stmt] = {}
        for item in self.items:
            if item.provides and item.provides not in providers:
                providers[item.provides] = item
        visiting: set[int] = set()
        ordered: list[_Stmt] = []
        moved: list[tuple[str, str]] = []

        def visit(item: _Stmt, needed_by: _Stmt | None):
            if item.done:
                return
            visiting.add(id(item))
            if item.kind == "CreateStmt":
                for ref, fk in self.foreign_keys(item):
                    dep = providers.get("table:" + ref)
                    if dep is None or dep is item or dep.done:
                        continue
                    if id(dep) in visiting:
                        self.cycle(item, ref, fk)
                        continue
                    visit(dep, item)
            for req in sorted(item.requires):
                dep = providers.get(req)
                if dep is not None and dep is not item and not dep.done and id(dep) not in visiting:
                    visit(dep, item)
            visiting.discard(id(item))
            item.done = True
            if needed_by is not None and item.source > needed_by.source and item.kind == "CreateStmt":
                moved.append((item.table, needed_by.table or "?"))
            ordered.append(item)

        for item in self.items:
            visit(item, None)
        if moved:
            self.n = 0
            pairs = ", ".join(f"{a} before {b}" for a, b in moved)
            self.change("order", f"tables created in dependency order for DuckDB's foreign keys: {pairs}")
        for item in ordered:
            self.out.statements.append(LoweredStatement(self.render(item), item.source, item.kind, item.table))

    def table_requires(self, item):
        """Add to a CREATE TABLE's ``requires`` the tables its foreign keys reference (and more)."""
        raise NotImplementedError

    def foreign_keys(self, item) -> list:
        """A CREATE TABLE's foreign keys as (referenced table key, key as the path holds it)."""
        raise NotImplementedError

    def cycle(self, item, ref: str, fk):
        """Tables that reference each other: DuckDB cannot create either first."""
        raise NotImplementedError

    def render(self, item) -> str:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------------
# The tree path: pglast's Python tree, rewritten in place and deparsed

_STREAM = None


def _pg():
    import pglast  # imported on first use: keeps `import agentnb` cheap
    from pglast import ast, enums
    return pglast, ast, enums, _stream_class()


def _stream_class():
    """pglast's RawStream, also quoting names DuckDB reserves (a column named ``at``...)."""
    global _STREAM
    if _STREAM is None:
        from pglast.stream import RawStream

        class DuckStream(RawStream):
            def _print_scalar(self, value, is_name, is_symbol):
                if is_name and not is_symbol and isinstance(value, str) \
                        and value.lower() in _DUCKDB_ONLY_KEYWORDS:
                    self.write('"' + value.replace('"', '""') + '"')
                else:
                    super()._print_scalar(value, is_name, is_symbol)

            def __call__(self, node):
                """One node deparsed: RawStream.__call__ without its visitor, which costs more
                than the printing itself (a class built per call, a validated write per node)."""
                _populate_ancestors(node)
                self.print_node(node)
                return self.getvalue()

        _STREAM = DuckStream
    return _STREAM


def _populate_ancestors(root) -> None:
    """What pglast's ``visitors.populate_ancestors`` does for one node, the same chains built
    directly: every node's ``ancestors`` slot, which the printers read."""
    from pglast import ast
    from pglast.visitors import Ancestor

    Node = ast.Node
    assign = object.__setattr__       # the slot needs no validation
    todo = [(Ancestor(), root)]
    while todo:
        anc, value = todo.pop()
        if isinstance(value, tuple):
            for i, sub in enumerate(value):
                sub_anc = Ancestor(anc, value, i)
                if isinstance(sub, Node):
                    todo.append((sub_anc, sub))
                elif isinstance(sub, tuple):
                    todo.extend((Ancestor(sub_anc, sub, j), v) for j, v in enumerate(sub)
                                if isinstance(v, (tuple, Node)))
            continue
        assign(value, "ancestors", anc)
        for member in value.__slots__:
            v = getattr(value, member)
            if isinstance(v, (tuple, Node)):
                todo.append((Ancestor(anc, value, member), v))


def _name_of(node) -> str:
    return node.sval if hasattr(node, "sval") else str(node)


def _names(nodes) -> list[str]:
    return [_name_of(n) for n in (nodes or ())]


_CHILD_SLOTS: dict[type, tuple[str, ...]] = {}


def _child_slots(cls) -> tuple[str, ...]:
    slots = _CHILD_SLOTS.get(cls)
    if slots is None:
        slots = tuple(name for name, info in cls.__slots__.items()
                      if str(getattr(info, "c_type", "*")).endswith("*") and info.c_type != "char*")
        _CHILD_SLOTS[cls] = slots
    return slots


def _walk(node) -> list:
    """Every pglast node under ``node`` (itself included)."""
    _, ast, _, _ = _pg()
    Node = ast.Node
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Node):
            out.append(n)
            for slot in _child_slots(type(n)):
                v = getattr(n, slot)
                if v is not None:
                    stack.append(v)
        elif isinstance(n, (tuple, list)):
            stack.extend(n)
    return out


class _Item(_Stmt):
    """A statement of the tree path: a node deparsed late (folding may still change it) or raw text."""

    __slots__ = ("node", "dirty")

    def __init__(self, source, kind, table=None, raw=None, node=None):
        super().__init__(source, kind, table, raw)
        self.node = node
        self.dirty = True      # False: the original text is valid for DuckDB as it stands


class _Lowerer(_BaseLowerer):
    Item = _Item

    def __init__(self, ddl: str):
        super().__init__(ddl)
        self.pglast, self.ast, self.enums, self.RawStream = _pg()
        self.index_names: set[str] = set()
        self.uses: set[str] = set()       # sequences the current statement's expressions use
        self.outside: set[str] = set()    # functions it calls that reach outside the database

    # -- helpers ------------------------------------------------------------------------------
    def deparse(self, node) -> str:
        return self.RawStream()(node)

    def drop(self, node, attrs: str, key, kind, message, empty=None):
        """Clear the attributes named in ``attrs`` when any is set, and note it once."""
        names = attrs.split()
        if any(getattr(node, a) for a in names):
            for a in names:
                setattr(node, a, empty)
            self.change(kind, message, table=key)

    def nextval(self, seq: str):
        """nextval('seq') as a node: a name never goes through SQL text."""
        ast = self.ast
        return ast.FuncCall(funcname=(ast.String(sval="nextval"),),
                            args=(ast.A_Const(isnull=False, val=ast.String(sval=seq)),),
                            funcformat=self.enums.CoercionForm.COERCE_EXPLICIT_CALL)

    def typename(self, text):
        return self.pglast.parse_sql(f"SELECT CAST(NULL AS {text})")[0].stmt.targetList[0].val.typeName

    @staticmethod
    def key(rv) -> str:
        return f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname

    # -- entry ----------------------------------------------------------------------------------
    def run(self) -> Lowered:
        for n, (stmt, raw, error) in enumerate(self.split(), 1):
            self.n = n
            if stmt is None:
                self.left_out(_words_label(raw), f"PostgreSQL cannot parse it ({error})")
                continue
            name = type(stmt).__name__
            if self.skip_statement(name):
                continue
            if name not in _SCHEMA_STATEMENTS or (
                    name == "DropStmt" and stmt.removeType.name not in _DROPPABLE):
                label, why = _LEFT_OUT.get(name) or (_node_label(name), "")
                if name == "DropStmt":
                    label = "DROP " + stmt.removeType.name.removeprefix("OBJECT_").replace("_", " ")
                self.left_out(label, why or "not a statement that builds a schema")
                continue
            self.dirty = False
            self.uses = set()
            self.outside = set()
            first = len(self.items)
            self.generic(stmt)
            if self.outside:
                label = (_LEFT_OUT.get(name) or (_node_label(name), ""))[0]
                self.left_out(label, f"it calls {', '.join(sorted(self.outside))} (DuckDB functions that "
                              "reach files, the network or the environment)")
                continue
            handler = getattr(self, "do_" + name, None)
            if handler is not None:
                handler(stmt)
            else:
                self.items.append(_Item(n, name, node=stmt))
            for item in self.items[first:]:
                item.requires |= self.uses - {item.provides}
        self.out.source_count = self.n
        self.emit()
        return self.out

    def split(self):
        pglast = self.pglast
        try:
            parsed = pglast.parse_sql(self.ddl)
        except pglast.parser.ParseError:
            parsed = None
        if parsed is not None:
            for raw in parsed:
                end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(self.ddl)
                yield raw.stmt, self.ddl[raw.stmt_location:end].strip(), None
            return
        for piece in _split_at_semicolons(self.ddl):
            if not piece.strip():
                continue
            try:
                parsed = pglast.parse_sql(piece)
            except pglast.parser.ParseError as e:
                yield None, piece.strip(), str(e)
                continue
            for raw in parsed:
                end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(piece)
                yield raw.stmt, piece[raw.stmt_location:end].strip(), None

    # -- everywhere: schema public, types, casts ------------------------------------------------
    def generic(self, stmt):
        ast = self.ast
        own = set()   # column types: lowered with the column, so the change names it
        for node in _walk(stmt):      # parents come before their children
            if isinstance(node, ast.ColumnDef):
                if node.typeName is not None:
                    own.add(id(node.typeName))
            elif isinstance(node, ast.RangeVar):
                if node.schemaname == "public":
                    node.schemaname = None
                    self.note_public()
                if node.catalogname:
                    node.catalogname = None
                    self.dirty = True
            elif isinstance(node, ast.TypeName):
                if id(node) not in own:
                    self.lower_type(node, None)
            elif isinstance(node, ast.FuncCall):
                fname = _names(node.funcname)
                if fname[-1:] == ["uuid_generate_v4"]:
                    node.funcname = (ast.String(sval="gen_random_uuid"),)
                    self.change("uuid", "uuid_generate_v4() → gen_random_uuid()")
                elif fname[:1] == ["pg_catalog"] and len(fname) == 2:
                    node.funcname = node.funcname[1:]
                    self.dirty = True
                # nextval('seq'::regclass): DuckDB has no regclass, drop the cast
                if node.args and any(isinstance(a, ast.TypeCast) and _is_regclass_cast(a) for a in node.args):
                    node.args = tuple(a.arg if isinstance(a, ast.TypeCast) and _is_regclass_cast(a) else a
                                      for a in node.args)
                    self.dirty = True
                if fname and fname[-1].lower() in _OUTSIDE_FUNCTIONS:
                    self.outside.add(fname[-1].lower())
                if fname[-1:] == ["nextval"] and node.args and isinstance(node.args[0], ast.A_Const):
                    self.sequence_used(node.args[0])

    def sequence_used(self, const):
        """nextval('public.s'): DuckDB knows the sequence as s, and it must exist before the
        statement that uses it (pg_dump creates it after the table)."""
        name = getattr(const.val, "sval", None)
        if not isinstance(name, str):
            return
        if name.startswith("public."):
            name = name[len("public."):]
            const.val = self.ast.String(sval=name)
            self.note_public()
        self.uses.add("seq:" + name.rsplit(".", 1)[-1])

    def lower_type(self, tn, where: str | None = None):
        names = _names(tn.names)
        if not names:
            return
        base = names[-1].lower()
        if names[0] == "public" and len(names) > 1:
            tn.names = tn.names[1:]
            self.note_public()
        if base in _TYPE_MAP:
            new = self.typename(_TYPE_MAP[base])
            tn.names, tn.typmods = new.names, new.typmods
            if _names(tn.names)[0] == "pg_catalog" and self.deparse(tn).startswith("pg_catalog."):
                tn.names = tn.names[1:]     # DuckDB knows json, not pg_catalog.json
            self.type_mapped(base, where)
        elif base in _NO_TYPMOD and tn.typmods:
            tn.typmods = None
            self.precision_dropped(base, where)
        elif base == "numeric" and tn.typmods:
            wide = self.wide_numeric([getattr(getattr(m, "val", None), "ival", None) for m in tn.typmods], where)
            if wide is not None:
                tn.typmods = self.typename(wide).typmods

    # -- statements -----------------------------------------------------------------------------
    def do_CreateSchemaStmt(self, stmt):
        if self.public_schema_skipped(stmt.schemaname):
            return
        item = _Item(self.n, "CreateSchemaStmt", node=stmt)
        item.provides = "schema:" + stmt.schemaname
        self.items.append(item)

    def do_CreateEnumStmt(self, stmt):
        names = _names(stmt.typeName)
        if names[0] == "public" and len(names) > 1:
            stmt.typeName = stmt.typeName[1:]
            self.note_public()
        item = _Item(self.n, "CreateEnumStmt", node=stmt)
        item.provides = "type:" + names[-1]
        self.items.append(item)

    def do_CreateDomainStmt(self, stmt):
        name = _names(stmt.domainname)[-1]
        base = self.deparse(stmt.typeName)
        dropped = " and its constraints dropped" if stmt.constraints else ""
        self.change("domain", f"domain {name} → type alias of {base}{dropped}")
        self.new_type("CreateDomainStmt", name, f"CREATE TYPE {_q(name)} AS {base}")

    def do_CompositeTypeStmt(self, stmt):
        name = stmt.typevar.relname
        fields = ", ".join(f"{_q(c.colname)} {self.deparse(c.typeName)}" for c in stmt.coldeflist or ())
        self.change("composite type", f"composite type {name} → STRUCT")
        self.new_type("CompositeTypeStmt", name, f"CREATE TYPE {_q(name)} AS STRUCT({fields})")

    def new_type(self, kind, name, raw):
        item = _Item(self.n, kind, raw=raw)
        item.provides = "type:" + name
        self.items.append(item)

    def do_CreateSeqStmt(self, stmt):
        name = self.key(stmt.sequence)
        kept, dropped = [], []
        for opt in stmt.options or ():
            (kept if opt.defname in _SEQ_OPTIONS else dropped).append(opt)
        if dropped:
            stmt.options = tuple(kept) or None
            self.change("sequence", f"sequence {name}: {', '.join(o.defname.upper() for o in dropped)} "
                        "dropped")
        item = _Item(self.n, "CreateSeqStmt", node=stmt)
        item.provides = "seq:" + stmt.sequence.relname
        self.items.append(item)

    def do_CreateTableAsStmt(self, stmt):
        if stmt.objtype.name == "OBJECT_MATVIEW":
            name = self.key(stmt.into.rel)
            self.change("materialized view", f"materialized view {name} created as a view", table=name)
            raw = f"CREATE VIEW {self.deparse(stmt.into.rel)} AS {self.deparse(stmt.query)}"
            self.items.append(_Item(self.n, "ViewStmt", name, raw))
        else:
            self.items.append(_Item(self.n, "CreateTableAsStmt", node=stmt))

    def do_CommentStmt(self, stmt):
        objtype = stmt.objtype.name
        obj = stmt.object
        if isinstance(obj, tuple) and len(obj) > 1 and _name_of(obj[0]) == "public":
            stmt.object = obj[1:]
            self.note_public()
        if self.comment_kept(objtype, _names(stmt.object) if objtype == "OBJECT_INDEX" else []):
            self.items.append(_Item(self.n, "CommentStmt", node=stmt))

    def do_CreateStmt(self, stmt):
        ast = self.ast
        key = self.key(stmt.relation)
        if stmt.partbound is not None or stmt.inhRelations:
            self.inheritance_skipped(key, stmt.partbound is not None)
            return
        if stmt.relation.relpersistence == "u":
            stmt.relation.relpersistence = "p"
            self.change("unlogged", f"UNLOGGED dropped on {key}", table=key)
        self.drop(stmt, "options", key, "storage", f"storage parameters (WITH ...) dropped on {key}")
        self.drop(stmt, "tablespacename", key, "storage", f"TABLESPACE dropped on {key}")
        if stmt.partspec is not None:
            stmt.partspec = None
            self.change("partition", f"PARTITION BY dropped on {key}", table=key)
        stmt.accessMethod = None
        item = _Item(self.n, "CreateStmt", key, node=stmt)
        self.register_table(key, item)
        elts = []
        for elt in stmt.tableElts or ():
            if isinstance(elt, ast.ColumnDef):
                elts.extend(self.lower_column(key, elt, item))
            elif isinstance(elt, ast.Constraint):
                if self.lower_constraint(key, elt) is not None:
                    elts.append(elt)
            else:
                elts.append(elt)
        stmt.tableElts = tuple(elts)
        self.items.append(item)

    def lower_column(self, key, col, item):
        """Lower one column definition in place; returns it (sequences go in front of the table)."""
        ast, enums = self.ast, self.enums
        CT = enums.ConstrType
        where = f"{key}.{col.colname}"
        tn = col.typeName
        if tn is not None:
            base = _names(tn.names)[-1].lower() if tn.names else ""
            if base in _SERIALS and not tn.arrayBounds:
                col.typeName = self.typename(_SERIALS[base])
                seq = self.serial(key, col.colname, base, item)
                col.constraints = tuple(col.constraints or ()) + (
                    ast.Constraint(contype=CT.CONSTR_DEFAULT, raw_expr=self.nextval(seq)),
                    ast.Constraint(contype=CT.CONSTR_NOTNULL))
            else:
                self.lower_type(tn, where)
            self.col_arrays[key][col.colname] = bool(col.typeName.arrayBounds)
        if col.collClause is not None:
            col.collClause = None
            self.change("collation", f"COLLATE dropped on {where}", table=key)
        col.compression = None
        col.storage_name = None
        cons = []
        has_notnull = any(c.contype == CT.CONSTR_NOTNULL for c in col.constraints or ())
        for c in col.constraints or ():
            if c.contype == CT.CONSTR_IDENTITY:
                options = [(o.defname, getattr(o.arg, "ival", None) or getattr(o.arg, "fval", None))
                           for o in c.options or ()]
                seq = self.identity(key, col.colname, options, item)
                cons.append(ast.Constraint(contype=CT.CONSTR_DEFAULT,
                                           raw_expr=self.nextval(seq)))
                if not has_notnull:
                    cons.append(ast.Constraint(contype=CT.CONSTR_NOTNULL))
                continue
            if self.lower_constraint(key, c, column=col.colname) is not None:
                cons.append(c)
        if col.typeName is not None and col.typeName.arrayBounds:
            for c in cons:
                if c.contype == CT.CONSTR_DEFAULT:
                    const = c.raw_expr.arg if isinstance(c.raw_expr, ast.TypeCast) else c.raw_expr
                    sval = getattr(getattr(const, "val", None), "sval", None)
                    if isinstance(const, ast.A_Const):
                        new = self.array_default(sval, key, where)
                        if new is not None:
                            const.val = ast.String(sval=new)
        col.constraints = tuple(cons) or None
        return [col]

    def lower_constraint(self, key, c, column=None):
        """Lower a column or table constraint in place; None when it must be left out."""
        CT = self.enums.ConstrType
        where = f"{key}.{column}" if column else key
        if c.contype == CT.CONSTR_EXCLUSION:
            self.change("exclude", f"EXCLUDE constraint {c.conname or ''} skipped on {key} (no DuckDB "
                        "equivalent)".replace("  ", " "), table=key)
            return None
        if c.contype in (CT.CONSTR_ATTR_DEFERRABLE, CT.CONSTR_ATTR_DEFERRED):
            self.change("deferrable", f"DEFERRABLE dropped on {where}", table=key)
            return None
        if c.contype in (CT.CONSTR_ATTR_NOT_DEFERRABLE, CT.CONSTR_ATTR_IMMEDIATE):
            return None
        if c.deferrable or c.initdeferred:
            c.deferrable = c.initdeferred = False
            self.change("deferrable", f"DEFERRABLE dropped on {where}", table=key)
        if c.contype == CT.CONSTR_GENERATED and c.generated_kind == "s":
            c.generated_kind = "v"
            self.change("generated", f"stored generated column {where} made virtual (DuckDB computes "
                        "it on read)", table=key)
        if c.skip_validation:
            c.skip_validation = False
            c.initially_valid = True
            self.change("not valid", f"NOT VALID dropped on {where}", table=key)
        self.drop(c, "nulls_not_distinct", key, "nulls not distinct", f"NULLS NOT DISTINCT dropped on {where}",
                  False)
        self.drop(c, "including", key, "include", f"INCLUDE columns dropped on {where}")
        c.options = None
        c.indexspace = None
        if c.contype == CT.CONSTR_FOREIGN:
            cols = tuple(_names(c.fk_attrs)) if c.fk_attrs else ((column,) if column else ())
            actions, match_full = self.foreign_key(key, where, cols, c.conname, c.fk_del_action,
                                                   c.fk_upd_action, c.pktable.relname, c.fk_matchtype)
            if actions:
                for attr in ("fk_del_action", "fk_upd_action"):
                    if _FK_ACTIONS.get(getattr(c, attr)):
                        setattr(c, attr, "a")
            if match_full:
                c.fk_matchtype = "s"
            if c.fk_del_set_cols:
                c.fk_del_set_cols = None
        return c

    def do_IndexStmt(self, stmt):
        key = self.key(stmt.relation)
        name = stmt.idxname
        if not name:
            parts = [p.name or "expr" for p in stmt.indexParams or ()]
            base = f"{stmt.relation.relname}_{'_'.join(parts)}_idx"
            name, i = base, 1
            while name in self.index_names:      # PostgreSQL's rule: events_at_idx, events_at_idx1...
                name, i = f"{base}{i}", i + 1
            stmt.idxname = name
            self.change("index name", f"unnamed index on {key} named {name} (DuckDB needs a name)",
                        table=key)
        self.index_names.add(name)
        method = (stmt.accessMethod or "btree").lower()
        if self.array_index_skipped(key, name, [p.name for p in stmt.indexParams or ()], method):
            return
        if method in _ARRAY_UNINDEXABLE_METHODS and any(p.expr is not None for p in stmt.indexParams or ()):
            expr = next(self.deparse(p.expr) for p in stmt.indexParams if p.expr is not None)
            self.skipped_indexes.add(name)
            self.change("index skipped", f"index {name} skipped: USING {method} on expression {expr} "
                        "has no DuckDB equivalent", table=key, skipped=True)
            return
        if method != "btree":
            stmt.accessMethod = "btree"
            self.using_dropped(key, name, method)
        if stmt.whereClause is not None:
            where = self.deparse(stmt.whereClause)
            stmt.whereClause = None
            self.partial_index(key, name, where, stmt.unique)
        self.drop(stmt, "indexIncludingParams", key, "include", f"INCLUDE columns dropped on index {name}")
        self.drop(stmt, "concurrent", key, "concurrently", f"CONCURRENTLY dropped on index {name}", False)
        self.drop(stmt, "nulls_not_distinct", key, "nulls not distinct",
                  f"NULLS NOT DISTINCT dropped on index {name}", False)
        self.drop(stmt, "options tableSpace", key, "storage", f"storage parameters dropped on index {name}")
        for p in stmt.indexParams or ():
            self.drop(p, "opclass collation", key, "operator class",
                      f"operator class/collation dropped on index {name}")
        item = _Item(self.n, "IndexStmt", key, node=stmt)
        item.requires.add("table:" + key)
        self.items.append(item)

    def do_AlterTableStmt(self, stmt):
        ast, enums = self.ast, self.enums
        AT = enums.AlterTableType
        CT = enums.ConstrType
        if stmt.objtype.name != "OBJECT_TABLE":
            self.items.append(_Item(self.n, "AlterTableStmt", node=stmt))
            return
        key = self.key(stmt.relation)
        target = self.tables.get(key)
        rest = []
        for cmd in stmt.cmds or ():
            sub = cmd.subtype
            subname = sub.name
            if target is None:
                if sub == AT.AT_AddConstraint and cmd.def_.contype in (CT.CONSTR_FOREIGN, CT.CONSTR_CHECK,
                                                                       CT.CONSTR_EXCLUSION):
                    kind = {CT.CONSTR_FOREIGN: "FOREIGN KEY", CT.CONSTR_CHECK: "CHECK"}.get(
                        cmd.def_.contype, "EXCLUDE")
                    self.change("alter table", f"ALTER TABLE {key} ADD {kind} skipped: DuckDB cannot add "
                                f"it to an existing table, and {key} is not created in this script",
                                table=key, skipped=True)
                    continue
                if sub in _ALTER_SKIPPED:
                    self.alter_skipped(key, _ALTER_SKIPPED[sub])
                    continue
                rest.append(cmd)
                continue
            create = target.node
            target.requires |= self.uses      # a folded DEFAULT nextval(...): its sequence first
            if sub == AT.AT_AddConstraint:
                c = self.lower_constraint(key, cmd.def_)
                if c is not None:
                    create.tableElts = tuple(create.tableElts or ()) + (c,)
                    self.folded(key, f"ADD CONSTRAINT {c.conname or _CONSTR_LABEL.get(c.contype, 'constraint')}")
                    self.table_requires(target)
            elif sub == AT.AT_AddColumn:
                self.lower_column(key, cmd.def_, target)
                create.tableElts = tuple(create.tableElts or ()) + (cmd.def_,)
                self.folded(key, f"ADD COLUMN {cmd.def_.colname}")
                self.table_requires(target)
            elif sub in (AT.AT_ColumnDefault, AT.AT_SetNotNull, AT.AT_DropNotNull, AT.AT_AddIdentity,
                         AT.AT_AlterColumnType, AT.AT_DropColumn):
                col = next((e for e in create.tableElts or () if isinstance(e, ast.ColumnDef)
                            and e.colname == cmd.name), None)
                if col is None:
                    rest.append(cmd)
                    continue
                cons = [c for c in col.constraints or ()]
                if sub == AT.AT_ColumnDefault:
                    cons = [c for c in cons if c.contype != CT.CONSTR_DEFAULT]
                    if cmd.def_ is not None:
                        cons.append(ast.Constraint(contype=CT.CONSTR_DEFAULT, raw_expr=cmd.def_))
                elif sub == AT.AT_SetNotNull:
                    cons.append(ast.Constraint(contype=CT.CONSTR_NOTNULL))
                elif sub == AT.AT_DropNotNull:
                    cons = [c for c in cons if c.contype != CT.CONSTR_NOTNULL]
                elif sub == AT.AT_AddIdentity:
                    col.constraints = (cmd.def_,)
                    self.lower_column(key, col, target)
                    cons = list(col.constraints or ())
                    self.table_requires(target)
                elif sub == AT.AT_AlterColumnType:
                    col.typeName = cmd.def_.typeName
                    self.lower_type(col.typeName, f"{key}.{col.colname}")
                elif sub == AT.AT_DropColumn:
                    create.tableElts = tuple(e for e in create.tableElts if e is not col)
                col.constraints = tuple(cons) or None
                self.folded(key, f"{subname.removeprefix('AT_')} {cmd.name}")
            elif sub == AT.AT_DropConstraint:
                before = len(create.tableElts or ())
                create.tableElts = tuple(e for e in create.tableElts or ()
                                         if not (isinstance(e, ast.Constraint) and e.conname == cmd.name))
                if len(create.tableElts) == before:
                    rest.append(cmd)
                else:
                    self.folded(key, f"DROP CONSTRAINT {cmd.name}")
            elif sub in _ALTER_SKIPPED:
                self.alter_skipped(key, _ALTER_SKIPPED[sub])
            else:
                rest.append(cmd)
        if rest:
            stmt.cmds = tuple(rest)
            item = _Item(self.n, "AlterTableStmt", key, node=stmt)
            item.requires.add("table:" + key)
            self.items.append(item)

    # -- its part of the ordering ----------------------------------------------------------------
    def table_requires(self, item):
        """Tables a CREATE TABLE needs first: the ones its foreign keys reference; and its types."""
        for ref, _ in self.foreign_keys(item):
            if ref != item.table:
                item.requires.add("table:" + ref)
        for tn in _walk(item.node):
            if isinstance(tn, self.ast.TypeName) and tn.names:
                item.requires.add("type:" + _names(tn.names)[-1])

    def foreign_keys(self, item) -> list:
        ast, CT = self.ast, self.enums.ConstrType
        fks = []
        for e in item.node.tableElts or ():
            if isinstance(e, ast.Constraint) and e.contype == CT.CONSTR_FOREIGN:
                fks.append(e)
            elif isinstance(e, ast.ColumnDef):
                fks.extend(c for c in e.constraints or () if c.contype == CT.CONSTR_FOREIGN)
        return [(self.key(fk.pktable), fk) for fk in fks]

    def cycle(self, item, ref, fk):
        self.n = item.source
        cols = ", ".join(_names(fk.fk_attrs)) or "?"
        self.change("cycle", f"foreign key {item.table}({cols}) → {ref} dropped: DuckDB "
                    f"creates the referenced table first, and {ref} and {item.table} "
                    "reference each other", table=item.table)
        create = item.node
        elts = []
        for e in create.tableElts or ():
            if e is fk:
                continue
            if isinstance(e, self.ast.ColumnDef) and e.constraints and any(c is fk for c in e.constraints):
                e.constraints = tuple(c for c in e.constraints if c is not fk) or None
            elts.append(e)
        create.tableElts = tuple(elts)

    def render(self, item) -> str:
        return item.raw if item.node is None or not item.dirty else self.deparse(item.node)

def _split_at_semicolons(text: str) -> list[str]:
    """Statements cut at each semicolon outside strings, comments and dollar quotes, by PostgreSQL's
    scanner. (``pglast.split(with_parser=False)`` silently drops a statement whose first word is no
    PostgreSQL keyword: INSTALL, ATTACH...) Past an unterminated string, the rest is one piece."""
    from pglast import parser

    try:
        tokens, rest = parser.scan(text), len(text)
    except parser.ParseError as e:
        rest = e.location if isinstance(e.location, int) and 0 <= e.location < len(text) else 0
        try:
            tokens = parser.scan(text[:rest])
        except parser.ParseError:
            tokens, rest = [], 0
    pieces, start = [], 0
    for tok in tokens:
        if tok.name == "ASCII_59":
            pieces.append(text[start:tok.start])
            start = tok.end + 1
    pieces.append(text[start:rest])
    if rest < len(text):
        pieces.append(text[rest:])
    return [p.strip() for p in pieces if p.strip()]


def _node_label(name: str) -> str:
    """CopyStmt -> COPY, CreateForeignTableStmt -> CREATE FOREIGN TABLE."""
    return _CAMEL.sub(" ", name.removesuffix("Stmt")).upper()


def _words_label(text: str) -> str:
    """What a statement PostgreSQL cannot parse starts with, for the list of what was left out:
    ATTACH, INSTALL, CREATE MACRO, EXPORT DATABASE..."""
    words = _WORD.findall(text[:200])
    if not words:
        return "a statement"
    label = words[0].upper()
    if label in ("CREATE", "DROP", "ALTER", "EXPORT", "IMPORT", "SET", "CREATE", "COMMENT") and len(words) > 1:
        second = words[1].upper()
        if label == "CREATE" and second == "OR" and len(words) > 3:
            second = " ".join(w.upper() for w in words[1:4])
        label += " " + second
    return label


def _init_tables():
    if _CONSTR_LABEL:
        return
    from pglast import enums
    CT, AT = enums.ConstrType, enums.AlterTableType
    _CONSTR_LABEL.update({getattr(CT, name): label for name, label in _CONSTR_LABEL_BY_NAME.items()})
    _ALTER_SKIPPED.update({getattr(AT, name): label for name, label in _ALTER_SKIPPED_BY_NAME.items()
                           if hasattr(AT, name)})


def _is_regclass_cast(node) -> bool:
    return bool(node.typeName and node.typeName.names and _names(node.typeName.names)[-1] == "regclass")


def lower(pg_ddl: str) -> Lowered:
    """Rewrite PostgreSQL DDL into DDL DuckDB accepts, listing every change in ``.changes``.

    Works on PostgreSQL's own parse tree (pglast), rewritten in place and deparsed. A statement
    PostgreSQL cannot parse is passed on as written (and listed), so DuckDB's message reports it on load.
    """
    _init_tables()
    return _Lowerer(pg_ddl).run()
