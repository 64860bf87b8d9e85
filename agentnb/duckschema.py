"""PostgreSQL DDL lowered for DuckDB, loaded into it, and read back from DuckDB's own catalog.

DuckDB is the fast, in-process stand-in for PostgreSQL: it catches missing tables, bad references and
broken constraints in milliseconds. It rejects a fair share of ordinary PostgreSQL DDL, though (identity
columns, SERIAL, ON DELETE CASCADE, partial indexes, extensions, triggers, ALTER TABLE ADD CONSTRAINT,
INET, CITEXT...). :func:`lower` rewrites that DDL on PostgreSQL's own parse tree (pglast) and lists every
change it made, so a passing DuckDB load never hides what was not checked::

    result = load(ddl)
    result.failures        # [] when every lowered statement ran
    result.schema          # dbschema.Schema from duckdb_tables()/duckdb_constraints()/...
    result.check()         # CheckResult "Schema on DuckDB"

Nothing here raises for bad SQL: statements PostgreSQL cannot parse or DuckDB refuses are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from agentnb.checkresult import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.dbschema import Column, ForeignKey, Index, Schema, Table

__all__ = ["Failure", "LoadResult", "Lowered", "LoweredStatement", "Lowering", "execute", "load", "lower",
           "read_schema"]

CHECK_NAME = "Schema on DuckDB"
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
    kind: str = ""             # node type, e.g. "CreateStmt"; "raw" when PostgreSQL could not parse it
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


@dataclass
class Failure:
    statement: int             # 1-based position in Lowered.statements
    source: int                # 1-based position of the source statement
    sql: str
    message: str               # DuckDB's exact message
    error: str = ""            # DuckDB's exception class, e.g. "CatalogException"

    def to_dict(self) -> dict:
        return {"statement": self.statement, "source": self.source, "sql": self.sql,
                "message": self.message, "error": self.error}


@dataclass
class LoadResult:
    con: Any                   # duckdb.DuckDBPyConnection
    lowered: Lowered
    failures: list[Failure] = field(default_factory=list)
    schema: Schema = field(default_factory=Schema)

    @property
    def ok(self) -> bool:
        return not self.failures

    def check(self) -> CheckResult:
        lowered = self.lowered
        details: dict = {
            "tables": len(self.schema.tables),
            "statements": len(lowered.statements),
            "lowerings": [c.to_dict() for c in lowered.changes],
            "failures": [f.to_dict() for f in self.failures],
        }
        if not lowered.statements and not self.failures:
            return CheckResult(CHECK_NAME, SKIPPED, "no statement DuckDB could run", details)
        kinds = lowered.kinds()
        summary = f"{len(lowered.changes)} lowering{'s' if len(lowered.changes) != 1 else ''}"
        if kinds:
            shown = ", ".join(kinds[:8]) + ("..." if len(kinds) > 8 else "")
            summary += f" ({shown})"
        if self.failures:
            lines = [f"{len(self.failures)} of {len(lowered.statements)} statements failed in DuckDB "
                     f"({summary}):"]
            for f in self.failures:
                first = " ".join(f.sql.split())[:80]
                lines.append(f"statement {f.source} ({first}): {f.message}")
            return CheckResult(CHECK_NAME, FAILED, "\n".join(lines), details)
        n = len(self.schema.tables)
        message = f"loaded into DuckDB: {n} table{'s' if n != 1 else ''}; {summary}"
        return CheckResult(CHECK_NAME, PASSED, message, details)


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
# Words DuckDB 2.0 reserves (duckdb_keywords(), not 'unreserved') that PostgreSQL lets through unquoted
_DUCKDB_ONLY_KEYWORDS = frozenset(
    "anti asof at by columns describe generated glob grouping_id lambda map pivot pivot_longer "
    "pivot_wider positional qualify semi show struct summarize try_cast tuple unpack unpivot".split())
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_FK_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT", "a": None}
_COMMENT_KEPT = {"OBJECT_TABLE", "OBJECT_COLUMN", "OBJECT_VIEW", "OBJECT_INDEX", "OBJECT_SEQUENCE"}


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

        _STREAM = DuckStream
    return _STREAM


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


class _Item:
    """A statement on its way out: a node deparsed late (folding may still change it) or raw text."""

    __slots__ = ("node", "raw", "source", "kind", "table", "provides", "requires", "done", "dirty")

    def __init__(self, node, source, kind, table=None, raw=None):
        self.node = node
        self.raw = raw
        self.source = source
        self.kind = kind
        self.table = table
        self.provides: str | None = None
        self.requires: set[str] = set()
        self.done = False
        self.dirty = True      # False: the original text is valid for DuckDB as it stands


class _Lowerer:
    def __init__(self, ddl: str):
        self.pglast, self.ast, self.enums, self.RawStream = _pg()
        self.ddl = ddl
        self.out = Lowered()
        self.items: list[_Item] = []
        self.tables: dict[str, _Item] = {}          # table key -> CREATE TABLE item
        self.col_types: dict[str, dict[str, Any]] = {}   # table key -> column -> TypeName
        self.skipped_indexes: set[str] = set()
        self.index_names: set[str] = set()
        self.public_noted = False
        self.n = 0
        self.dirty = False

    # -- helpers ------------------------------------------------------------------------------
    def change(self, kind, message, table=None, skipped=False):
        self.dirty = True
        new = Lowering(kind, message, self.n, table, skipped)
        if new not in self.out.changes[-8:]:    # DEFERRABLE INITIALLY DEFERRED is one change, not two
            self.out.changes.append(new)

    def deparse(self, node) -> str:
        return self.RawStream()(node)

    def expr(self, text):
        return self.pglast.parse_sql(f"SELECT {text}")[0].stmt.targetList[0].val

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
                self.change("unparsed", f"PostgreSQL cannot parse this statement ({error}); passed to "
                            "DuckDB as written")
                self.items.append(_Item(None, n, "raw", raw=raw))
                continue
            name = type(stmt).__name__
            if name in _SKIP_STATEMENTS:
                kind, message = _SKIP_STATEMENTS[name]
                self.change(kind, message, skipped=True)
                continue
            self.dirty = False
            first = len(self.items)
            self.generic(stmt)
            handler = getattr(self, "do_" + name, None)
            if handler is not None:
                handler(stmt)
            else:
                self.items.append(_Item(stmt, n, name))
            if not self.dirty and name in ("IndexStmt", "CommentStmt") and not any(
                    w.lower() in _DUCKDB_ONLY_KEYWORDS for w in _WORD.findall(raw)):
                for item in self.items[first:]:
                    if item.node is stmt:
                        item.dirty = False
                        item.raw = raw
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
        try:
            pieces = pglast.split(self.ddl, with_parser=False)
        except Exception:  # the scanner itself failed (unterminated quote...): one piece
            pieces = [self.ddl]
        for piece in pieces:
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

    def note_public(self):
        self.dirty = True
        if not self.public_noted:
            self.public_noted = True
            self.change("schema public", "schema public → DuckDB's default schema (main)")

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
            label = f"{base.upper()} → {_TYPE_MAP[base].upper()}"
            if base == "money":
                label = "MONEY → DECIMAL(19,2)"
            self.change(base, label + (f" on {where}" if where else " in an expression"))
        elif base in _NO_TYPMOD and tn.typmods:
            tn.typmods = None
            self.change("precision", f"{base} precision dropped" + (f" on {where}" if where else "")
                        + " (DuckDB's time types take no modifiers)")
        elif base == "numeric" and tn.typmods:
            mods = [getattr(getattr(m, "val", None), "ival", None) for m in tn.typmods]
            if mods and isinstance(mods[0], int) and mods[0] > 38:
                scale = mods[1] if len(mods) > 1 and isinstance(mods[1], int) else 0
                tn.typmods = self.typename(f"numeric(38,{min(scale, 38)})").typmods
                self.change("precision", f"numeric({mods[0]},{scale}) → DECIMAL(38,{min(scale, 38)})"
                            + (f" on {where}" if where else "") + " (DuckDB's widest decimal)")

    # -- statements -----------------------------------------------------------------------------
    def do_CreateSchemaStmt(self, stmt):
        if stmt.schemaname == "public":
            self.change("schema public", "CREATE SCHEMA public skipped (DuckDB's default schema is main)",
                        skipped=True)
            return
        item = _Item(stmt, self.n, "CreateSchemaStmt")
        item.provides = "schema:" + stmt.schemaname
        self.items.append(item)

    def do_CreateEnumStmt(self, stmt):
        names = _names(stmt.typeName)
        if names[0] == "public" and len(names) > 1:
            stmt.typeName = stmt.typeName[1:]
            self.note_public()
        item = _Item(stmt, self.n, "CreateEnumStmt")
        item.provides = "type:" + names[-1]
        self.items.append(item)

    def do_CreateDomainStmt(self, stmt):
        name = _names(stmt.domainname)[-1]
        base = self.deparse(stmt.typeName)
        dropped = " and its constraints dropped" if stmt.constraints else ""
        self.change("domain", f"domain {name} → type alias of {base}{dropped}")
        item = _Item(None, self.n, "CreateDomainStmt", raw=f"CREATE TYPE {_q(name)} AS {base}")
        item.provides = "type:" + name
        self.items.append(item)

    def do_CompositeTypeStmt(self, stmt):
        name = stmt.typevar.relname
        fields = ", ".join(f"{_q(c.colname)} {self.deparse(c.typeName)}" for c in stmt.coldeflist or ())
        self.change("composite type", f"composite type {name} → STRUCT")
        item = _Item(None, self.n, "CompositeTypeStmt", raw=f"CREATE TYPE {_q(name)} AS STRUCT({fields})")
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
        item = _Item(stmt, self.n, "CreateSeqStmt")
        item.provides = "seq:" + stmt.sequence.relname
        self.items.append(item)

    def do_CreateTableAsStmt(self, stmt):
        if stmt.objtype.name == "OBJECT_MATVIEW":
            name = self.key(stmt.into.rel)
            self.change("materialized view", f"materialized view {name} created as a view", table=name)
            raw = f"CREATE VIEW {self.deparse(stmt.into.rel)} AS {self.deparse(stmt.query)}"
            self.items.append(_Item(None, self.n, "ViewStmt", table=name, raw=raw))
        else:
            self.items.append(_Item(stmt, self.n, "CreateTableAsStmt"))

    def do_CommentStmt(self, stmt):
        objtype = stmt.objtype.name
        obj = stmt.object
        if isinstance(obj, tuple) and len(obj) > 1 and _name_of(obj[0]) == "public":
            stmt.object = obj[1:]
            self.note_public()
        if objtype not in _COMMENT_KEPT:
            self.change("comment", f"COMMENT ON {objtype.removeprefix('OBJECT_')} skipped", skipped=True)
            return
        if objtype == "OBJECT_INDEX" and _names(stmt.object)[-1:] and \
                _names(stmt.object)[-1] in self.skipped_indexes:
            self.change("comment", "COMMENT ON INDEX skipped (index skipped)", skipped=True)
            return
        self.items.append(_Item(stmt, self.n, "CommentStmt"))

    def do_CreateStmt(self, stmt):
        ast = self.ast
        key = self.key(stmt.relation)
        if stmt.partbound is not None or stmt.inhRelations:
            what = "partition" if stmt.partbound is not None else "inheriting table"
            self.change("partition", f"{what} {key} skipped (DuckDB has no table inheritance)",
                        table=key, skipped=True)
            return
        if stmt.relation.relpersistence == "u":
            stmt.relation.relpersistence = "p"
            self.change("unlogged", f"UNLOGGED dropped on {key}", table=key)
        if stmt.options:
            stmt.options = None
            self.change("storage", f"storage parameters (WITH ...) dropped on {key}", table=key)
        if stmt.tablespacename:
            stmt.tablespacename = None
            self.change("storage", f"TABLESPACE dropped on {key}", table=key)
        if stmt.partspec is not None:
            stmt.partspec = None
            self.change("partition", f"PARTITION BY dropped on {key}", table=key)
        stmt.accessMethod = None
        item = _Item(stmt, self.n, "CreateStmt", table=key)
        item.provides = "table:" + key
        if key in self.tables:   # CREATE TABLE IF NOT EXISTS twice, or a broken script: keep both
            item.provides = None
        else:
            self.tables[key] = item
        self.col_types[key] = {}
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
                seq = self.add_sequence(key, col.colname, None, item)
                col.constraints = tuple(col.constraints or ()) + (
                    ast.Constraint(contype=CT.CONSTR_DEFAULT, raw_expr=self.expr(f"nextval('{seq}')")),
                    ast.Constraint(contype=CT.CONSTR_NOTNULL))
                self.change("serial", f"{base.upper()} → {_SERIALS[base].upper()} + sequence {seq} on "
                            f"{where}", table=key)
            else:
                self.lower_type(tn, where)
            self.col_types[key][col.colname] = col.typeName
        if col.collClause is not None:
            col.collClause = None
            self.change("collation", f"COLLATE dropped on {where}", table=key)
        col.compression = None
        col.storage_name = None
        cons = []
        has_notnull = any(c.contype == CT.CONSTR_NOTNULL for c in col.constraints or ())
        for c in col.constraints or ():
            if c.contype == CT.CONSTR_IDENTITY:
                seq = self.add_sequence(key, col.colname, c.options, item)
                cons.append(ast.Constraint(contype=CT.CONSTR_DEFAULT,
                                           raw_expr=self.expr(f"nextval('{seq}')")))
                if not has_notnull:
                    cons.append(ast.Constraint(contype=CT.CONSTR_NOTNULL))
                self.change("identity", f"identity dropped on {where} (DuckDB has no GENERATED AS "
                            f"IDENTITY; a sequence default used instead: {seq})", table=key)
                continue
            if self.lower_constraint(key, c, column=col.colname) is not None:
                cons.append(c)
        if col.typeName is not None and col.typeName.arrayBounds:
            for c in cons:
                if c.contype == CT.CONSTR_DEFAULT:
                    const = c.raw_expr.arg if isinstance(c.raw_expr, ast.TypeCast) else c.raw_expr
                    sval = getattr(getattr(const, "val", None), "sval", None)
                    if isinstance(const, ast.A_Const) and isinstance(sval, str) and sval.startswith("{") \
                            and sval.endswith("}"):
                        const.val = ast.String(sval="[" + sval[1:-1] + "]")
                        self.change("array literal", f"array default '{sval}' → '[{sval[1:-1]}]' on {where} "
                                    "(DuckDB list syntax)", table=key)
        col.constraints = tuple(cons) or None
        return [col]

    def add_sequence(self, key, colname, options, item) -> str:
        table = key.rsplit(".", 1)[-1]
        schema = key.rsplit(".", 1)[0] + "." if "." in key else ""
        name = f"{table}_{colname}_seq"
        opts = []
        for opt in options or ():
            if opt.defname in ("start", "increment", "minvalue", "maxvalue") and opt.arg is not None:
                value = getattr(opt.arg, "ival", None) or getattr(opt.arg, "fval", None)
                if value is not None:
                    opts.append(f"{'START WITH' if opt.defname == 'start' else opt.defname.upper()}"
                                f" {value}")
        raw = f"CREATE SEQUENCE IF NOT EXISTS {schema}{_q(name)}" + ("" if not opts else " " + " ".join(opts))
        seq = _Item(None, self.n, "CreateSeqStmt", table=key, raw=raw)
        seq.provides = "seq:" + name
        item.requires.add("seq:" + name)
        self.items.append(seq)
        return schema + name

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
        if c.nulls_not_distinct:
            c.nulls_not_distinct = False
            self.change("nulls not distinct", f"NULLS NOT DISTINCT dropped on {where}", table=key)
        if c.including:
            c.including = None
            self.change("include", f"INCLUDE columns dropped on {where}", table=key)
        c.options = None
        c.indexspace = None
        if c.contype == CT.CONSTR_FOREIGN:
            cols = tuple(_names(c.fk_attrs)) if c.fk_attrs else ((column,) if column else ())
            actions = []
            for label, attr in (("ON DELETE", "fk_del_action"), ("ON UPDATE", "fk_upd_action")):
                action = _FK_ACTIONS.get(getattr(c, attr))
                if action:
                    actions.append(f"{label} {action}")
                    setattr(c, attr, "a")
            on_delete = _FK_ACTIONS.get(c.fk_del_action) if not actions else None
            for a in actions:
                if a.startswith("ON DELETE "):
                    on_delete = a.removeprefix("ON DELETE ")
            self.out.fk_info[(key, cols)] = (c.conname, on_delete)
            if actions:
                self.change("cascade", f"{' '.join(actions)} ignored on {key}({', '.join(cols)}) "
                            f"→ {c.pktable.relname} (DuckDB enforces NO ACTION only)", table=key)
            if c.fk_matchtype not in ("s", "\x00", None):
                c.fk_matchtype = "s"
                self.change("match full", f"MATCH FULL dropped on {where}", table=key)
            if c.fk_del_set_cols:
                c.fk_del_set_cols = None
        return c

    def do_IndexStmt(self, stmt):
        ast = self.ast
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
        types = self.col_types.get(key, {})
        array_cols = [p.name for p in stmt.indexParams or () if p.name and p.name in types
                      and types[p.name].arrayBounds]
        if array_cols:
            self.skipped_indexes.add(name)
            self.change("index skipped", f"index {name} skipped: DuckDB cannot index array column "
                        f"{key}.{array_cols[0]}" + (f" (USING {method})" if method != "btree" else ""),
                        table=key, skipped=True)
            return
        if method in _ARRAY_UNINDEXABLE_METHODS and any(p.expr is not None for p in stmt.indexParams or ()):
            expr = next(self.deparse(p.expr) for p in stmt.indexParams if p.expr is not None)
            self.skipped_indexes.add(name)
            self.change("index skipped", f"index {name} skipped: USING {method} on expression {expr} "
                        "has no DuckDB equivalent", table=key, skipped=True)
            return
        if method != "btree":
            stmt.accessMethod = "btree"
            self.change(f"USING {method}", f"USING {method} dropped on index {name}", table=key)
        if stmt.whereClause is not None:
            where = self.deparse(stmt.whereClause)
            self.out.index_where[name] = where
            stmt.whereClause = None
            extra = " (now unique over all rows)" if stmt.unique else ""
            self.change("partial index", f"partial index {name} created without its WHERE {where}"
                        + extra, table=key)
        if stmt.indexIncludingParams:
            stmt.indexIncludingParams = None
            self.change("include", f"INCLUDE columns dropped on index {name}", table=key)
        if stmt.concurrent:
            stmt.concurrent = False
            self.change("concurrently", f"CONCURRENTLY dropped on index {name}", table=key)
        if stmt.nulls_not_distinct:
            stmt.nulls_not_distinct = False
            self.change("nulls not distinct", f"NULLS NOT DISTINCT dropped on index {name}", table=key)
        if stmt.options or stmt.tableSpace:
            stmt.options = None
            stmt.tableSpace = None
            self.change("storage", f"storage parameters dropped on index {name}", table=key)
        for p in stmt.indexParams or ():
            if p.opclass or p.collation:
                p.opclass = None
                p.collation = None
                self.change("operator class", f"operator class/collation dropped on index {name}",
                            table=key)
        item = _Item(stmt, self.n, "IndexStmt", table=key)
        item.requires.add("table:" + key)
        self.items.append(item)
        _ = ast

    def do_AlterTableStmt(self, stmt):
        ast, enums = self.ast, self.enums
        AT = enums.AlterTableType
        CT = enums.ConstrType
        if stmt.objtype.name != "OBJECT_TABLE":
            self.items.append(_Item(stmt, self.n, "AlterTableStmt"))
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
                    self.change("alter table", f"ALTER TABLE {key} {_ALTER_SKIPPED[sub]} skipped", table=key)
                    continue
                rest.append(cmd)
                continue
            create = target.node
            if sub == AT.AT_AddConstraint:
                c = self.lower_constraint(key, cmd.def_)
                if c is not None:
                    create.tableElts = tuple(create.tableElts or ()) + (c,)
                    label = c.conname or _CONSTR_LABEL.get(c.contype, "constraint")
                    self.change("alter table", f"ALTER TABLE {key} ADD CONSTRAINT {label} folded into "
                                f"CREATE TABLE {key}", table=key)
                    self.refresh_requires(target)
            elif sub == AT.AT_AddColumn:
                self.lower_column(key, cmd.def_, target)
                create.tableElts = tuple(create.tableElts or ()) + (cmd.def_,)
                self.change("alter table", f"ALTER TABLE {key} ADD COLUMN {cmd.def_.colname} folded into "
                            f"CREATE TABLE {key}", table=key)
                self.refresh_requires(target)
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
                    self.refresh_requires(target)
                elif sub == AT.AT_AlterColumnType:
                    col.typeName = cmd.def_.typeName
                    self.lower_type(col.typeName, f"{key}.{col.colname}")
                elif sub == AT.AT_DropColumn:
                    create.tableElts = tuple(e for e in create.tableElts if e is not col)
                col.constraints = tuple(cons) or None
                self.change("alter table", f"ALTER TABLE {key} {subname.removeprefix('AT_')} "
                            f"{cmd.name} folded into CREATE TABLE {key}", table=key)
            elif sub == AT.AT_DropConstraint:
                before = len(create.tableElts or ())
                create.tableElts = tuple(e for e in create.tableElts or ()
                                         if not (isinstance(e, ast.Constraint) and e.conname == cmd.name))
                if len(create.tableElts) == before:
                    rest.append(cmd)
                else:
                    self.change("alter table", f"ALTER TABLE {key} DROP CONSTRAINT {cmd.name} folded into "
                                f"CREATE TABLE {key}", table=key)
            elif sub in _ALTER_SKIPPED:
                self.change("alter table", f"ALTER TABLE {key} {_ALTER_SKIPPED[sub]} skipped", table=key)
            else:
                rest.append(cmd)
        if rest:
            stmt.cmds = tuple(rest)
            item = _Item(stmt, self.n, "AlterTableStmt", table=key)
            item.requires.add("table:" + key)
            self.items.append(item)

    def refresh_requires(self, item):
        """Tables a CREATE TABLE needs first: the ones its foreign keys reference."""
        for ref in self.fk_refs(item):
            if ref != item.table:
                item.requires.add("table:" + ref)
        for tn in _walk(item.node):
            if isinstance(tn, self.ast.TypeName) and tn.names:
                item.requires.add("type:" + _names(tn.names)[-1])

    def fk_refs(self, item):
        CT = self.enums.ConstrType
        for c in self.fks(item.node):
            yield self.key(c.pktable)

    def fks(self, create):
        ast, CT = self.ast, self.enums.ConstrType
        for e in create.tableElts or ():
            if isinstance(e, ast.Constraint) and e.contype == CT.CONSTR_FOREIGN:
                yield e
            elif isinstance(e, ast.ColumnDef):
                for c in e.constraints or ():
                    if c.contype == CT.CONSTR_FOREIGN:
                        yield c

    def drop_fk(self, create, fk):
        ast = self.ast
        elts = []
        for e in create.tableElts or ():
            if e is fk:
                continue
            if isinstance(e, ast.ColumnDef) and e.constraints and any(c is fk for c in e.constraints):
                e.constraints = tuple(c for c in e.constraints if c is not fk) or None
            elts.append(e)
        create.tableElts = tuple(elts)

    # -- ordering and output --------------------------------------------------------------------
    def emit(self):
        """Statements in their original order, except that whatever a statement needs (a referenced
        table, a type, a sequence created further down) is pulled in just before it."""
        for item in self.items:
            if item.kind == "CreateStmt":
                self.refresh_requires(item)
        providers: dict[str, _Item] = {}
        for item in self.items:
            if item.provides and item.provides not in providers:
                providers[item.provides] = item
        visiting: set[int] = set()
        ordered: list[_Item] = []
        moved: list[tuple[str, str]] = []

        def visit(item: _Item, needed_by: _Item | None):
            if item.done:
                return
            visiting.add(id(item))
            if item.kind == "CreateStmt":
                for fk in list(self.fks(item.node)):
                    ref = self.key(fk.pktable)
                    dep = providers.get("table:" + ref)
                    if dep is None or dep is item or dep.done:
                        continue
                    if id(dep) in visiting:
                        self.n = item.source
                        cols = ", ".join(_names(fk.fk_attrs)) or "?"
                        self.change("cycle", f"foreign key {item.table}({cols}) → {ref} dropped: DuckDB "
                                    f"creates the referenced table first, and {ref} and {item.table} "
                                    "reference each other", table=item.table)
                        self.drop_fk(item.node, fk)
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
            sql = item.raw if item.node is None or not item.dirty else self.deparse(item.node)
            self.out.statements.append(LoweredStatement(sql, item.source, item.kind, item.table))


_CONSTR_LABEL: dict = {}
_ALTER_SKIPPED: dict = {}


def _init_tables():
    if _CONSTR_LABEL:
        return
    from pglast import enums
    CT, AT = enums.ConstrType, enums.AlterTableType
    _CONSTR_LABEL.update({CT.CONSTR_FOREIGN: "FOREIGN KEY", CT.CONSTR_PRIMARY: "PRIMARY KEY",
                          CT.CONSTR_UNIQUE: "UNIQUE", CT.CONSTR_CHECK: "CHECK"})
    for name, label in [("AT_ChangeOwner", "OWNER TO"), ("AT_EnableRowSecurity", "ENABLE ROW LEVEL SECURITY"),
                        ("AT_ForceRowSecurity", "FORCE ROW LEVEL SECURITY"),
                        ("AT_DisableRowSecurity", "DISABLE ROW LEVEL SECURITY"),
                        ("AT_SetStatistics", "SET STATISTICS"), ("AT_ClusterOn", "CLUSTER ON"),
                        ("AT_ReplicaIdentity", "REPLICA IDENTITY"), ("AT_SetRelOptions", "SET (...)"),
                        ("AT_EnableTrig", "ENABLE TRIGGER"), ("AT_DisableTrig", "DISABLE TRIGGER"),
                        ("AT_SetStorage", "SET STORAGE"), ("AT_SetCompression", "SET COMPRESSION"),
                        ("AT_SetLogged", "SET LOGGED"), ("AT_SetUnLogged", "SET UNLOGGED"),
                        ("AT_ValidateConstraint", "VALIDATE CONSTRAINT"), ("AT_SetOptions", "SET (...)"),
                        ("AT_SetTableSpace", "SET TABLESPACE")]:
        if hasattr(AT, name):
            _ALTER_SKIPPED[getattr(AT, name)] = label


def _is_regclass_cast(node) -> bool:
    return bool(node.typeName and node.typeName.names and _names(node.typeName.names)[-1] == "regclass")


_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def _q(name: str) -> str:
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------------
# The fast path: the same lowering on libpg_query's JSON tree, written back as edits of the source text
#
# Building pglast's Python tree costs ~20x the raw parse, and deparsing it again costs more: for the DDL
# agents usually write (tables, enums, indexes, comments, ALTER TABLE ADD CONSTRAINT, extensions,
# functions and triggers) the changes are made as text edits at the positions the parser reports, and
# untouched text passes through as written. Anything outside what this path knows raises _Unsupported,
# and the whole script goes through _Lowerer instead: both give the same changes and the same schema.


class _Unsupported(Exception):
    pass


def _sval(node) -> str:
    return node["String"]["sval"] if "String" in node else str(node)


def _svals(nodes) -> list[str]:
    return [_sval(n) for n in nodes or ()]


_ALTER_SKIPPED_BY_NAME: dict[str, str] = {}
_CONSTR_LABEL_BY_NAME = {"CONSTR_FOREIGN": "FOREIGN KEY", "CONSTR_PRIMARY": "PRIMARY KEY",
                         "CONSTR_UNIQUE": "UNIQUE", "CONSTR_CHECK": "CHECK"}
_FAST_PASSTHROUGH = {"CONSTR_NULL", "CONSTR_NOTNULL", "CONSTR_DEFAULT", "CONSTR_CHECK", "CONSTR_PRIMARY",
                     "CONSTR_UNIQUE"}


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _FItem:
    """A statement of the fast path: a span of the source text and the edits to make in it."""

    __slots__ = ("start", "end", "raw", "edits", "close", "source", "kind", "table", "provides",
                 "requires", "done", "fk_refs")

    def __init__(self, source, kind, table=None, start=0, end=0, raw=None):
        self.start, self.end, self.raw = start, end, raw
        self.edits: list[tuple[int, int, str]] = []
        self.close = -1                  # CREATE TABLE: where its closing parenthesis is
        self.source, self.kind, self.table = source, kind, table
        self.provides: str | None = None
        self.requires: set[str] = set()
        self.done = False
        self.fk_refs: list[str] = []     # CREATE TABLE: the tables its foreign keys reference


class _FastLowerer:
    def __init__(self, ddl: str):
        self.ddl = ddl
        self.out = Lowered()
        self.items: list[_FItem] = []
        self.tables: dict[str, _FItem] = {}
        self.col_arrays: dict[str, dict[str, bool]] = {}
        self.skipped_indexes: set[str] = set()
        self.public_noted = False
        self.n = 0
        self._tokens = None
        self._starts: list[int] = []
        self._b2c = None
        self.wheres: dict[str, str] = {}       # predicate text -> deparsed, for this script only

    # -- positions and tokens -------------------------------------------------------------------
    def pos(self, byte_offset: int) -> int:
        """libpg_query gives byte offsets; Python strings count characters."""
        if self._b2c is None:
            return byte_offset
        return self._b2c[byte_offset]

    def tokens(self):
        if self._tokens is None:
            from pglast import parser
            self._tokens = [t for t in parser.scan(self.ddl) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
            self._starts = [t.start for t in self._tokens]
        return self._tokens

    def tok_at(self, pos: int) -> int:
        import bisect
        toks = self.tokens()
        i = bisect.bisect_left(self._starts, pos)
        if i >= len(toks) or toks[i].start != pos:
            raise _Unsupported(f"no token at {pos}")
        return i

    def tok_before(self, pos: int) -> int:
        import bisect
        self.tokens()
        return bisect.bisect_left(self._starts, pos) - 1

    def end_before(self, pos: int) -> int:
        """End (exclusive) of the last token that starts before ``pos``."""
        return self.tokens()[self.tok_before(pos)].end + 1

    def loc(self, node) -> int:
        if "location" not in node or node["location"] < 0:
            raise _Unsupported("no location")
        return self.pos(node["location"])

    def names_end(self, start: int, count: int) -> int:
        """End of a dotted name of ``count`` parts starting at ``start``."""
        first = self.tok_at(start)
        i = first + 2 * count - 2
        toks = self.tokens()
        if i >= len(toks) or toks[first].name not in ("IDENT", "UNRESERVED_KEYWORD") and \
                toks[first].kind == "RESERVED_KEYWORD":
            raise _Unsupported("not a name")
        if any(toks[k].name != "ASCII_46" for k in range(first + 1, i, 2)):
            raise _Unsupported("not a dotted name")
        return toks[i].end + 1

    # -- helpers mirroring _Lowerer -------------------------------------------------------------
    def change(self, kind, message, table=None, skipped=False):
        new = Lowering(kind, message, self.n, table, skipped)
        if new not in self.out.changes[-8:]:
            self.out.changes.append(new)

    def note_public(self):
        if not self.public_noted:
            self.public_noted = True
            self.change("schema public", "schema public → DuckDB's default schema (main)")

    def rv_key(self, rv) -> str:
        if rv.get("catalogname"):
            raise _Unsupported("catalog name")
        schema = rv.get("schemaname")
        if schema == "public":
            schema = None
        return f"{schema}.{rv['relname']}" if schema else rv["relname"]

    # -- entry ----------------------------------------------------------------------------------
    def run(self) -> Lowered:
        import json

        from pglast import parser

        tree = json.loads(parser.parse_sql_json(self.ddl))   # ParseError: the caller falls back
        if not self.ddl.isascii():
            b2c = []
            for i, ch in enumerate(self.ddl):
                b2c.extend([i] * len(ch.encode("utf-8")))
            b2c.append(len(self.ddl))
            self._b2c = b2c
        size = len(self.ddl.encode("utf-8")) if self._b2c is not None else len(self.ddl)
        for n, raw in enumerate(tree.get("stmts", ()), 1):
            self.n = n
            start = raw.get("stmt_location", 0)
            end = start + raw["stmt_len"] if raw.get("stmt_len") else size
            start, end = self.pos(start), self.pos(end)
            (name, stmt), = raw["stmt"].items()
            if name in _SKIP_STATEMENTS:
                kind, message = _SKIP_STATEMENTS[name]
                self.change(kind, message, skipped=True)
                continue
            handler = getattr(self, "do_" + name, None)
            if handler is None:
                raise _Unsupported(name)
            handler(stmt, start, end)
        self.out.source_count = self.n
        self.emit()
        return self.out

    def check_names(self, stmt):
        """Names DuckDB reserves need quoting, which only the deparser does: leave those to it."""
        stack = [stmt]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                stack.extend(v.values())
            elif isinstance(v, list):
                stack.extend(v)
            elif isinstance(v, str) and v.lower() in _DUCKDB_ONLY_KEYWORDS:
                raise _Unsupported("DuckDB keyword")

    def new_item(self, start, end, source, kind, table=None) -> _FItem:
        item = _FItem(source, kind, table, start, end)
        return item

    # -- everywhere: schema public, types, casts ------------------------------------------------
    def generic(self, stmt, item, own: set[int]):
        """RangeVars, TypeNames (except column types, in ``own``) and function calls anywhere in
        ``stmt``, as _Lowerer.generic; names DuckDB reserves raise _Unsupported (only the deparser
        quotes them)."""
        keywords = _DUCKDB_ONLY_KEYWORDS
        stack = [stmt]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            v = pop()
            t = type(v)
            if t is dict:
                if "relname" in v and "relpersistence" in v:          # a RangeVar
                    if v.get("catalogname"):
                        raise _Unsupported("catalog name")
                    if v.get("schemaname") == "public":
                        start = self.loc(v)
                        self.names_end(start, 2)
                        item.edits.append((start, self.tokens()[self.tok_at(start) + 2].start, ""))
                        self.note_public()
                elif "typemod" in v and "names" in v:                 # a TypeName
                    if id(v) not in own:
                        self.lower_type_expr(v, item)
                elif "FuncCall" in v:
                    self.func_call(v["FuncCall"], item)
                extend(v.values())
            elif t is list:
                extend(v)
            elif t is str:
                if v.lower() in keywords:
                    raise _Unsupported("DuckDB keyword")

    def func_call(self, fc, item):
        if fc.get("funcformat") == "COERCE_SQL_SYNTAX":   # position(a IN b)...: the deparser rewrites it
            raise _Unsupported("SQL-syntax function")
        fname = _svals(fc.get("funcname"))
        if fname[-1:] == ["uuid_generate_v4"]:
            start = self.loc(fc)
            item.edits.append((start, self.names_end(start, len(fname)), "gen_random_uuid"))
            self.change("uuid", "uuid_generate_v4() → gen_random_uuid()")
        elif fname[:1] == ["pg_catalog"] and len(fname) == 2:
            start = self.loc(fc)
            self.names_end(start, 2)
            item.edits.append((start, self.tokens()[self.tok_at(start) + 2].start, ""))
        for a in fc.get("args") or ():
            cast = a.get("TypeCast")
            if cast and _svals(cast["typeName"].get("names"))[-1:] == ["regclass"]:
                start = self.loc(cast)
                if self.tokens()[self.tok_at(start)].name != "TYPECAST":
                    raise _Unsupported("CAST(... AS regclass)")
                tn = cast["typeName"]
                item.edits.append((start, self.names_end(self.loc(tn), len(tn["names"])), ""))

    def lower_type_expr(self, tn, item):
        """A type inside an expression ('{}'::jsonb): the name is replaced, nothing else."""
        names = _svals(tn.get("names"))
        if not names or tn.get("setof") or tn.get("pct_type"):
            if tn.get("setof") or tn.get("pct_type"):
                raise _Unsupported("setof / %type")
            return
        base = names[-1].lower()
        public = names[0] == "public" and len(names) > 1
        if base in _TYPE_MAP:
            if tn.get("typmods"):
                raise _Unsupported("modifiers on a mapped type")
            start = self.loc(tn)
            if public:
                self.note_public()
            item.edits.append((start, self.names_end(start, len(names)), _TYPE_MAP[base]))
            label = "MONEY → DECIMAL(19,2)" if base == "money" else f"{base.upper()} → {_TYPE_MAP[base].upper()}"
            self.change(base, label + " in an expression")
        elif (base in _NO_TYPMOD or base == "numeric") and tn.get("typmods"):
            raise _Unsupported("type modifiers in an expression")
        elif public:
            start = self.loc(tn)
            item.edits.append((start, self.tokens()[self.tok_at(start) + 2].start, ""))
            self.note_public()

    def column_type(self, tn, item, where, start, end):
        """Lower a column's type, spanning [start, end) in the text; as _Lowerer.lower_type."""
        names = _svals(tn.get("names"))
        if not names:
            return
        if tn.get("setof") or tn.get("pct_type"):
            raise _Unsupported("setof / %type")
        base = names[-1].lower()
        bounds = tn.get("arrayBounds") or ()
        public = names[0] == "public" and len(names) > 1
        if public:
            self.note_public()
        if base in _TYPE_MAP:
            if tn.get("typmods"):
                raise _Unsupported("modifiers on a mapped type")
            item.edits.append((start, self.names_end(start, len(names)), _TYPE_MAP[base]))
            label = f"{base.upper()} → {_TYPE_MAP[base].upper()}"
            if base == "money":
                label = "MONEY → DECIMAL(19,2)"
            self.change(base, label + (f" on {where}" if where else " in an expression"))
            return
        arrays = "[]" * len(bounds)
        if any(_ival(b) != -1 for b in bounds) and (base in _NO_TYPMOD or base == "numeric") \
                and tn.get("typmods"):
            raise _Unsupported("sized array")
        if base in _NO_TYPMOD and tn.get("typmods"):
            item.edits.append((start, end, base + arrays))
            self.change("precision", f"{base} precision dropped" + (f" on {where}" if where else "")
                        + " (DuckDB's time types take no modifiers)")
        elif base == "numeric" and tn.get("typmods"):
            mods = [_ival(m.get("A_Const", {}).get("ival")) for m in tn["typmods"]]
            if mods and isinstance(mods[0], int) and mods[0] > 38:
                scale = mods[1] if len(mods) > 1 and isinstance(mods[1], int) else 0
                item.edits.append((start, end, f"numeric(38,{min(scale, 38)}){arrays}"))
                self.change("precision", f"numeric({mods[0]},{scale}) → DECIMAL(38,{min(scale, 38)})"
                            + (f" on {where}" if where else "") + " (DuckDB's widest decimal)")
            elif public:
                item.edits.append((start, self.tokens()[self.tok_at(start) + 2].start, ""))
        elif public:
            item.edits.append((start, self.tokens()[self.tok_at(start) + 2].start, ""))

    # -- statements -----------------------------------------------------------------------------
    def passthrough(self, stmt, start, end, kind, table=None) -> _FItem:
        item = self.new_item(start, end, self.n, kind, table)
        self.generic(stmt, item, set())
        self.items.append(item)
        return item

    def do_ViewStmt(self, stmt, start, end):
        self.passthrough(stmt, start, end, "ViewStmt")

    def do_DropStmt(self, stmt, start, end):
        self.passthrough(stmt, start, end, "DropStmt")

    def do_InsertStmt(self, stmt, start, end):
        self.passthrough(stmt, start, end, "InsertStmt")

    def do_CreateEnumStmt(self, stmt, start, end):
        names = _svals(stmt.get("typeName"))
        if names[0] == "public" and len(names) > 1:
            raise _Unsupported("public enum")
        item = self.passthrough(stmt, start, end, "CreateEnumStmt")
        item.provides = "type:" + names[-1]

    def do_CreateSchemaStmt(self, stmt, start, end):
        if stmt.get("schemaElts") or stmt.get("authrole"):
            raise _Unsupported("schema elements")
        if stmt.get("schemaname") == "public":
            self.change("schema public", "CREATE SCHEMA public skipped (DuckDB's default schema is main)",
                        skipped=True)
            return
        item = self.passthrough(stmt, start, end, "CreateSchemaStmt")
        item.provides = "schema:" + stmt.get("schemaname", "")

    def do_CreateSeqStmt(self, stmt, start, end):
        if any(o["DefElem"]["defname"] not in _SEQ_OPTIONS for o in stmt.get("options") or ()):
            raise _Unsupported("sequence options")
        item = self.passthrough(stmt, start, end, "CreateSeqStmt")
        item.provides = "seq:" + stmt["sequence"]["relname"]

    def do_CommentStmt(self, stmt, start, end):
        objtype = stmt.get("objtype", "")
        obj = stmt.get("object")
        items = obj.get("List", {}).get("items") if isinstance(obj, dict) else None
        names = _svals(items) if items is not None else []
        if names and names[0] == "public" and len(names) > 1:
            raise _Unsupported("public in COMMENT ON")
        if objtype not in _COMMENT_KEPT:
            self.change("comment", f"COMMENT ON {objtype.removeprefix('OBJECT_')} skipped", skipped=True)
            return
        if objtype == "OBJECT_INDEX" and names[-1:] and names[-1] in self.skipped_indexes:
            self.change("comment", "COMMENT ON INDEX skipped (index skipped)", skipped=True)
            return
        self.passthrough(stmt, start, end, "CommentStmt")

    def do_CreateStmt(self, stmt, start, end):
        rel = stmt["relation"]
        key = self.rv_key(rel)
        elts = stmt.get("tableElts") or ()
        own: set[int] = set()
        for e in elts:
            if "ColumnDef" in e and e["ColumnDef"].get("typeName") is not None:
                own.add(id(e["ColumnDef"]["typeName"]))
        item = self.new_item(start, end, self.n, "CreateStmt", table=key)
        self.generic(stmt, item, own)
        if stmt.get("partbound") is not None or stmt.get("inhRelations"):
            what = "partition" if stmt.get("partbound") is not None else "inheriting table"
            self.change("partition", f"{what} {key} skipped (DuckDB has no table inheritance)",
                        table=key, skipped=True)
            return
        if (rel.get("relpersistence") != "p" or stmt.get("options") or stmt.get("tablespacename")
                or stmt.get("partspec") or stmt.get("accessMethod") or stmt.get("ofTypename")
                or stmt.get("oncommit", "ONCOMMIT_NOOP") != "ONCOMMIT_NOOP"):
            raise _Unsupported("table options")
        item.provides = "table:" + key
        if key in self.tables:
            item.provides = None
        else:
            self.tables[key] = item
        self.col_arrays[key] = {}
        last = self.tok_before(end)
        toks = self.tokens()
        if last < 0 or toks[last].name != "ASCII_41":
            raise _Unsupported("no closing parenthesis")
        item.close = toks[last].start
        starts = []
        for e in elts:
            (kind, node), = e.items()
            if kind not in ("ColumnDef", "Constraint"):
                raise _Unsupported(kind)
            starts.append(self.loc(node))
        for i, e in enumerate(elts):
            (kind, node), = e.items()
            nxt = starts[i + 1] if i + 1 < len(starts) else item.close
            j = self.tok_before(nxt)
            if i + 1 < len(starts):
                if toks[j].name != "ASCII_44":
                    raise _Unsupported("no comma between elements")
                j -= 1
            span = (starts[i], toks[j].end + 1)
            if kind == "ColumnDef":
                self.lower_column(key, node, item, span)
            else:
                self.lower_constraint(key, node, item, span, None)
        self.items.append(item)

    def lower_column(self, key, col, item, span):
        colname = col["colname"]
        where = f"{key}.{colname}"
        if col.get("collClause") or col.get("compression") or col.get("storage_name") \
                or col.get("fdwoptions") or col.get("raw_default") or col.get("identity"):
            raise _Unsupported("column options")
        cons = [c["Constraint"] for c in col.get("constraints") or ()]
        cstarts = [self.loc(c) for c in cons]
        tn = col.get("typeName")
        tail = ""                     # appended after the column's last constraint
        if tn is not None:
            names = _svals(tn.get("names"))
            base = names[-1].lower() if names else ""
            tstart = self.loc(tn)
            tend = self.end_before(cstarts[0]) if cstarts else span[1]
            bounds = tn.get("arrayBounds")
            if base in _SERIALS and not bounds:
                item.edits.append((tstart, tend, _SERIALS[base]))
                seq = self.add_sequence(key, colname, None, item)
                tail = f" DEFAULT nextval('{seq}') NOT NULL"
                self.change("serial", f"{base.upper()} → {_SERIALS[base].upper()} + sequence {seq} on "
                            f"{where}", table=key)
            else:
                self.column_type(tn, item, where, tstart, tend)
            self.col_arrays[key][colname] = bool(bounds)
        has_notnull = any(c["contype"] == "CONSTR_NOTNULL" for c in cons)
        for j, c in enumerate(cons):
            cspan = (cstarts[j], self.end_before(cstarts[j + 1]) if j + 1 < len(cons) else span[1])
            if c["contype"] == "CONSTR_IDENTITY":
                seq = self.add_sequence(key, colname, c.get("options"), item)
                text = f"DEFAULT nextval('{seq}')" + ("" if has_notnull else " NOT NULL")
                item.edits.append((cspan[0], cspan[1], text))
                self.change("identity", f"identity dropped on {where} (DuckDB has no GENERATED AS "
                            f"IDENTITY; a sequence default used instead: {seq})", table=key)
                continue
            self.lower_constraint(key, c, item, cspan, colname)
        if tn is not None and tn.get("arrayBounds"):
            for c in cons:
                if c["contype"] != "CONSTR_DEFAULT":
                    continue
                expr = c.get("raw_expr") or {}
                if "TypeCast" in expr:
                    expr = expr["TypeCast"].get("arg") or {}
                const = expr.get("A_Const")
                sval = (const or {}).get("sval", {}).get("sval") if const else None
                if isinstance(sval, str) and sval.startswith("{") and sval.endswith("}"):
                    at = self.loc(const)
                    i = self.tok_at(at)
                    tok = self.tokens()[i]
                    if tok.name != "SCONST":
                        raise _Unsupported("array literal")
                    new = "[" + sval[1:-1] + "]"
                    item.edits.append((at, tok.end + 1, "'" + new.replace("'", "''") + "'"))
                    self.change("array literal", f"array default '{sval}' → '[{sval[1:-1]}]' on {where} "
                                "(DuckDB list syntax)", table=key)
        if tail:
            item.edits.append((span[1], span[1], tail))

    def add_sequence(self, key, colname, options, item) -> str:
        table = key.rsplit(".", 1)[-1]
        schema = key.rsplit(".", 1)[0] + "." if "." in key else ""
        name = f"{table}_{colname}_seq"
        opts = []
        for o in options or ():
            opt = o["DefElem"]
            if opt["defname"] in ("start", "increment", "minvalue", "maxvalue") and opt.get("arg") is not None:
                arg = opt["arg"]
                value = arg.get("Integer", {}).get("ival") or arg.get("Float", {}).get("fval")
                if value is not None:
                    opts.append(f"{'START WITH' if opt['defname'] == 'start' else opt['defname'].upper()}"
                                f" {value}")
        raw = f"CREATE SEQUENCE IF NOT EXISTS {schema}{_q(name)}" + ("" if not opts else " " + " ".join(opts))
        seq = _FItem(self.n, "CreateSeqStmt", table=key, raw=raw)
        seq.provides = "seq:" + name
        item.requires.add("seq:" + name)
        self.items.append(seq)
        return schema + name

    def lower_constraint(self, key, c, item, span, column):
        """As _Lowerer.lower_constraint, on the constraint's text span; False when left out."""
        ct = c["contype"]
        where = f"{key}.{column}" if column else key
        if ct == "CONSTR_EXCLUSION":
            item.edits.append((span[0], span[1], ""))
            self.change("exclude", f"EXCLUDE constraint {c.get('conname') or ''} skipped on {key} (no DuckDB "
                        "equivalent)".replace("  ", " "), table=key)
            raise _Unsupported("EXCLUDE")     # removing a table element also needs its comma
        if ct in ("CONSTR_ATTR_DEFERRABLE", "CONSTR_ATTR_DEFERRED"):
            item.edits.append((span[0], span[1], ""))
            self.change("deferrable", f"DEFERRABLE dropped on {where}", table=key)
            return False
        if ct in ("CONSTR_ATTR_NOT_DEFERRABLE", "CONSTR_ATTR_IMMEDIATE"):
            item.edits.append((span[0], span[1], ""))
            return False
        if (c.get("skip_validation") or c.get("nulls_not_distinct") or c.get("including")
                or c.get("options") or c.get("indexspace") or c.get("fk_del_set_cols")
                or c.get("indexname") or c.get("access_method") or c.get("where_clause")
                or c.get("is_no_inherit") or c.get("without_overlaps") or c.get("fk_with_period")
                or c.get("pk_with_period") or ("is_enforced" in c and not c["is_enforced"])):
            raise _Unsupported("constraint options")
        if ct == "CONSTR_FOREIGN":
            cols = tuple(_svals(c.get("fk_attrs"))) if c.get("fk_attrs") else ((column,) if column else ())
            actions = []
            for label, attr in (("ON DELETE", "fk_del_action"), ("ON UPDATE", "fk_upd_action")):
                action = _FK_ACTIONS.get(c.get(attr, "a"))
                if action:
                    actions.append(f"{label} {action}")
            on_delete = None
            for a in actions:
                if a.startswith("ON DELETE "):
                    on_delete = a.removeprefix("ON DELETE ")
            deferrable = c.get("deferrable") or c.get("initdeferred")
            if deferrable:
                self.change("deferrable", f"DEFERRABLE dropped on {where}", table=key)
            self.out.fk_info[(key, cols)] = (c.get("conname"), on_delete)
            pk = c["pktable"]
            if actions:
                self.change("cascade", f"{' '.join(actions)} ignored on {key}({', '.join(cols)}) "
                            f"→ {pk['relname']} (DuckDB enforces NO ACTION only)", table=key)
            match = c.get("fk_matchtype", "s")
            if match not in ("s", "\x00", None):
                self.change("match full", f"MATCH FULL dropped on {where}", table=key)
            ref = self.rv_key(pk)
            item.fk_refs.append(ref)
            if actions or deferrable or match not in ("s", "\x00", None):
                item.edits.append((span[0], span[1], self.fk_text(c, column is None)))
            return True
        if c.get("deferrable") or c.get("initdeferred"):
            raise _Unsupported("deferrable constraint")
        if ct not in _FAST_PASSTHROUGH:
            raise _Unsupported(ct)
        return True

    def fk_text(self, c, table_level: bool) -> str:
        pk = c["pktable"]
        ref = (_qi(pk["schemaname"]) + "." if pk.get("schemaname") and pk["schemaname"] != "public" else "") \
            + _qi(pk["relname"])
        text = f"CONSTRAINT {_qi(c['conname'])} " if c.get("conname") else ""
        if table_level:
            text += "FOREIGN KEY (" + ", ".join(_qi(n) for n in _svals(c.get("fk_attrs"))) + ") "
        text += "REFERENCES " + ref
        if c.get("pk_attrs"):
            text += " (" + ", ".join(_qi(n) for n in _svals(c["pk_attrs"])) + ")"
        return text

    def do_IndexStmt(self, stmt, start, end):
        rel = stmt["relation"]
        key = self.rv_key(rel)
        name = stmt.get("idxname")
        if not name or stmt.get("indexIncludingParams") or stmt.get("concurrent") \
                or stmt.get("nulls_not_distinct") or stmt.get("options") or stmt.get("tableSpace"):
            raise _Unsupported("index options")
        params = [p["IndexElem"] for p in stmt.get("indexParams") or ()]
        if any(p.get("opclass") or p.get("collation") or p.get("opclassopts") for p in params):
            raise _Unsupported("operator class")
        method = (stmt.get("accessMethod") or "btree").lower()
        item = self.new_item(start, end, self.n, "IndexStmt", table=key)
        self.generic(stmt, item, set())
        arrays = self.col_arrays.get(key, {})
        array_cols = [p["name"] for p in params if p.get("name") and arrays.get(p["name"])]
        if array_cols:
            self.skipped_indexes.add(name)
            self.change("index skipped", f"index {name} skipped: DuckDB cannot index array column "
                        f"{key}.{array_cols[0]}" + (f" (USING {method})" if method != "btree" else ""),
                        table=key, skipped=True)
            return
        if method in _ARRAY_UNINDEXABLE_METHODS and any(p.get("expr") is not None for p in params):
            raise _Unsupported("expression index USING gin")
        toks = self.tokens()
        first, last = self.tok_before(start) + 1, self.tok_before(end)
        if method != "btree":
            using = next((i for i in range(first, last + 1) if toks[i].name == "USING"), None)
            if using is None:
                raise _Unsupported("USING not found")
            item.edits.append((toks[using].start, toks[using + 1].end + 1, ""))
            self.change(f"USING {method}", f"USING {method} dropped on index {name}", table=key)
        if stmt.get("whereClause") is not None:
            w = next((i for i in range(last, first - 1, -1) if toks[i].name == "WHERE"), None)
            if w is None:
                raise _Unsupported("WHERE not found")
            text = self.ddl[toks[w].end + 1:end].strip()
            where = self.wheres.get(text)
            if where is None:
                where = self.wheres[text] = _deparse_where(text)
            self.out.index_where[name] = where
            item.edits.append((toks[w].start, end, ""))
            extra = " (now unique over all rows)" if stmt.get("unique") else ""
            self.change("partial index", f"partial index {name} created without its WHERE {where}"
                        + extra, table=key)
        item.requires.add("table:" + key)
        self.items.append(item)

    def do_AlterTableStmt(self, stmt, start, end):
        self.check_names(stmt)
        if stmt.get("objtype") != "OBJECT_TABLE" or stmt.get("missing_ok"):
            raise _Unsupported("ALTER of something else")
        key = self.rv_key(stmt["relation"])
        if stmt["relation"].get("schemaname") == "public":
            self.note_public()
        target = self.tables.get(key)
        cmds = [c["AlterTableCmd"] for c in stmt.get("cmds") or ()]
        if len(cmds) != 1:
            raise _Unsupported("several ALTER TABLE commands")
        cmd = cmds[0]
        sub = cmd["subtype"]
        if sub in _ALTER_SKIPPED_BY_NAME:
            self.change("alter table", f"ALTER TABLE {key} {_ALTER_SKIPPED_BY_NAME[sub]} skipped", table=key)
            return
        if sub != "AT_AddConstraint" or target is None:
            raise _Unsupported(sub)
        c = cmd["def"]["Constraint"]
        if c["contype"] not in _CONSTR_LABEL_BY_NAME:
            raise _Unsupported(c["contype"])
        cstart = self.loc(c)
        probe = _FItem(self.n, "AlterTableStmt")
        self.generic(c, probe, set())
        self.lower_constraint(key, c, probe, (cstart, self.end_before(end)), None)
        label = c.get("conname") or _CONSTR_LABEL_BY_NAME[c["contype"]]
        self.change("alter table", f"ALTER TABLE {key} ADD CONSTRAINT {label} folded into "
                    f"CREATE TABLE {key}", table=key)
        text = _apply_edits(self.ddl, cstart, self.end_before(end), probe.edits)
        target.edits.append((target.close, target.close, ", " + text))
        target.fk_refs.extend(probe.fk_refs)

    # -- ordering and output: as _Lowerer.emit -----------------------------------------------------
    def emit(self):
        for item in self.items:
            if item.kind == "CreateStmt":
                for ref in item.fk_refs:
                    if ref != item.table:
                        item.requires.add("table:" + ref)
        providers: dict[str, _FItem] = {}
        for item in self.items:
            if item.provides and item.provides not in providers:
                providers[item.provides] = item
        visiting: set[int] = set()
        ordered: list[_FItem] = []
        moved: list[tuple[str, str]] = []

        def visit(item: _FItem, needed_by: _FItem | None):
            if item.done:
                return
            visiting.add(id(item))
            if item.kind == "CreateStmt":
                for ref in item.fk_refs:
                    dep = providers.get("table:" + ref)
                    if dep is None or dep is item or dep.done:
                        continue
                    if id(dep) in visiting:
                        raise _Unsupported("cycle")
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
            sql = item.raw if item.raw is not None else _apply_edits(self.ddl, item.start, item.end, item.edits)
            self.out.statements.append(LoweredStatement(sql, item.source, item.kind, item.table))


def _ival(node) -> int | None:
    """An Integer node's value (JSON leaves out a zero)."""
    if node is None:
        return None
    if "Integer" in node:
        node = node["Integer"]
    return node.get("ival", 0) if isinstance(node, dict) else None


def _apply_edits(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    """``text[start:end]`` with the edits made. An edit inside an earlier, wider one is dropped (a
    constraint written anew replaces whatever was changed in it); insertions at one point keep their
    order."""
    if not edits:
        return text[start:end].strip()
    out = []
    at = start
    for s, e, new in sorted(edits, key=lambda x: (x[0], x[0] - x[1])):
        if s < at:
            continue
        out.append(text[at:s])
        out.append(new)
        at = e
    out.append(text[at:end])
    return "".join(out).strip()


def _deparse_where(text: str) -> str:
    """An index predicate as _Lowerer writes it (pglast's deparser): the same text either way."""
    import pglast

    stmt = pglast.parse_sql("SELECT 1 WHERE " + text.strip())[0].stmt
    return _stream_class()()(stmt.whereClause)


def _fast_lower(ddl: str) -> Lowered | None:
    if not _ALTER_SKIPPED_BY_NAME:
        for at, label in _ALTER_SKIPPED.items():
            _ALTER_SKIPPED_BY_NAME[at.name] = label
    try:
        return _FastLowerer(ddl).run()
    except _Unsupported:
        return None
    except Exception:       # a parse error, or anything unforeseen: the tree path decides
        return None


def lower(pg_ddl: str) -> Lowered:
    """Rewrite PostgreSQL DDL into DDL DuckDB accepts, listing every change in ``.changes``.

    Works on PostgreSQL's own parse tree. The usual DDL is lowered on libpg_query's JSON tree, by text
    edits at the positions the parser gives (untouched text passes as written); anything else goes
    through pglast's Python tree and its deparser, with the same changes listed. A statement PostgreSQL
    cannot parse is passed on as written (and listed), so DuckDB's message reports it on load.
    """
    _init_tables()
    return _fast_lower(pg_ddl) or _Lowerer(pg_ddl).run()


def _tree_lower(pg_ddl: str) -> Lowered:
    """The lowering on pglast's tree only (the reference the fast path is tested against)."""
    _init_tables()
    return _Lowerer(pg_ddl).run()


# --------------------------------------------------------------------------------------------------
# Loading and reading back

def load(pg_ddl: str, con=None) -> LoadResult:
    """Lower ``pg_ddl``, run it statement by statement in DuckDB, read the schema back.

    ``con`` is a DuckDB connection (a new in-memory one when None). Failing statements are collected
    with DuckDB's exact message in ``.failures``; nothing is raised for bad SQL.
    """
    import duckdb

    lowered = lower(pg_ddl)
    if con is None:
        con = duckdb.connect()
    failures = execute(con, lowered)
    schema = read_schema(con)
    _enrich(schema, lowered)
    return LoadResult(con, lowered, failures, schema)


def execute(con, lowered: Lowered) -> list[Failure]:
    """Run the lowered statements on ``con``; every failing statement with DuckDB's exact message.

    The fast path runs the whole script at once, in one transaction, on one DuckDB thread (on an empty
    schema, DuckDB's task scheduling costs more than it gives: a third of the time for CREATE INDEX);
    the connection's thread count is put back afterwards. When a statement fails, nothing stays and
    the statements run one by one, each on its own, to collect every failure."""
    import duckdb

    if not lowered.statements:
        return []
    threads = None
    try:
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        if threads != 1:
            con.execute("SET threads = 1")
    except duckdb.Error:
        threads = None
    try:
        if _run_in_transaction(con, lowered, duckdb):
            return []
        failures = []
        for i, st in enumerate(lowered.statements, 1):
            try:
                con.execute(st.sql)
            except duckdb.Error as e:
                failures.append(Failure(i, st.source, st.sql, str(e), type(e).__name__))
        return failures
    finally:
        if threads is not None and threads != 1:
            try:
                con.execute(f"SET threads = {int(threads)}")
            except duckdb.Error:
                pass


def _run_in_transaction(con, lowered: Lowered, duckdb) -> bool:
    """The fast path: the whole script in one ``execute``, in one transaction. False, with nothing
    changed, when a statement fails (or the caller's connection is already in a transaction)."""
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.Error:            # the caller's connection is already in a transaction
        return False
    try:
        con.execute(lowered.sql)
        con.execute("COMMIT")
        return True
    except duckdb.Error:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        return False


_CATALOG_FILTER = ("database_name = current_database() AND NOT internal "
                   "AND schema_name NOT IN ('information_schema', 'pg_catalog')")


def read_schema(con) -> Schema:
    """A :class:`dbschema.Schema` from DuckDB's own catalog functions (duckdb-engine reflection
    returns no keys): tables, columns, primary/foreign/unique keys, checks, indexes, enums.

    The rows are sorted here, not with ORDER BY: on a few hundred catalog rows DuckDB's sort costs
    several times the scan."""
    tables: dict[tuple[str, str], Table] = {}
    for _, schema_name, table_name in sorted(con.execute(
            f"SELECT table_oid, schema_name, table_name FROM duckdb_tables() WHERE {_CATALOG_FILTER} "
            "AND NOT temporary").fetchall()):
        tables[(schema_name, table_name)] = Table(table_name, schema=None if schema_name == "main"
                                                  else schema_name)
    enums = _read_enums(con)
    if not tables:
        return Schema(enums=enums)
    # DuckDB spells an enum column's type as ENUM('a', 'b'): give it back its name
    by_labels = {}
    for name, labels in enums.items():
        by_labels.setdefault("ENUM(" + ", ".join("'" + v.replace("'", "''") + "'" for v in labels) + ")",
                             name)
    for schema_name, table_name, _, name, dtype, nullable, default in sorted(con.execute(
            "SELECT schema_name, table_name, column_index, column_name, data_type, is_nullable, "
            f"column_default FROM duckdb_columns() WHERE {_CATALOG_FILTER}").fetchall(),
            key=lambda r: r[:3]):
        t = tables.get((schema_name, table_name))
        if t is not None:
            dtype = by_labels.get(dtype, dtype) if dtype.startswith("ENUM(") else dtype
            t.columns.append(Column(name, _type_text(dtype), bool(nullable), default))
    for schema_name, table_name, _, ctype, cols, text, name, ref_table, ref_cols in sorted(con.execute(
            "SELECT schema_name, table_name, constraint_index, constraint_type, constraint_column_names, "
            "constraint_text, constraint_name, referenced_table, referenced_column_names "
            f"FROM duckdb_constraints() WHERE {_CATALOG_FILTER.replace(' AND NOT internal', '')}"
            ).fetchall(), key=lambda r: r[:3]):
        t = tables.get((schema_name, table_name))
        if t is None:
            continue
        if ctype == "PRIMARY KEY":
            t.primary_key = list(cols)
        elif ctype == "FOREIGN KEY":
            t.foreign_keys.append(ForeignKey(list(cols), ref_table, list(ref_cols or ())))
        elif ctype == "UNIQUE":
            if list(cols) not in t.unique:
                t.unique.append(list(cols))
        elif ctype == "CHECK":
            t.checks.append(text[len("CHECK"):] if text.upper().startswith("CHECK") else text)
    rows = sorted(con.execute(
        "SELECT schema_name, table_name, index_name, is_unique, sql, expressions "
        f"FROM duckdb_indexes() WHERE {_CATALOG_FILTER.replace(' AND NOT internal', '')}").fetchall(),
        key=lambda r: r[:3])
    columns = _index_columns_all([(sql, exprs) for *_, sql, exprs in rows])
    for (schema_name, table_name, name, unique, _, _), cols in zip(rows, columns):
        t = tables.get((schema_name, table_name))
        if t is not None:
            t.indexes.append(Index(name, cols, bool(unique)))
    return Schema(list(tables.values()), enums)


def _read_enums(con) -> dict[str, list[str]]:
    enums = {}
    for schema_name, name, labels in sorted(con.execute(
            "SELECT schema_name, type_name, labels FROM duckdb_types() WHERE logical_type = 'ENUM' "
            f"AND {_CATALOG_FILTER}").fetchall(), key=lambda r: r[:2]):
        enums[name if schema_name == "main" else f"{schema_name}.{name}"] = list(labels or ())
    return enums


def _index_columns_all(indexes: list[tuple[str | None, str | None]]) -> list[list[str]]:
    """``_index_columns`` for every index at once: one raw parse of all their SQL; only an index on
    an expression (which must be deparsed) or SQL pglast cannot parse goes the long way."""
    import json

    from pglast import parser

    sqls = [sql for sql, _ in indexes]
    parsed = None
    if sqls and all(sqls):
        try:
            stmts = json.loads(parser.parse_sql_json(";\n".join(s.rstrip().rstrip(";") for s in sqls)))
            parsed = [st["stmt"].get("IndexStmt") for st in stmts.get("stmts", ())]
        except Exception:
            parsed = None
        if parsed is not None and len(parsed) != len(sqls):
            parsed = None
    out = []
    for i, (sql, exprs) in enumerate(indexes):
        stmt = parsed[i] if parsed is not None else None
        elems = [p.get("IndexElem", {}) for p in (stmt or {}).get("indexParams") or ()]
        if stmt is not None and elems and all(e.get("name") for e in elems):
            out.append([e["name"] for e in elems])
        else:
            out.append(_index_columns(sql, exprs))
    return out


def _type_text(dtype: str) -> str:
    # DuckDB spells built-in types in capitals (INTEGER, VARCHAR[]); user types (enums) as created
    return dtype.lower() if dtype == dtype.upper() else dtype


def _index_columns(sql: str | None, exprs: str | None) -> list[str]:
    if sql:
        try:
            pglast, ast, _, RawStream = _pg()
            stmt = pglast.parse_sql(sql)[0].stmt
            return [p.name if p.name else RawStream()(p.expr) for p in stmt.indexParams or ()]
        except Exception:  # DuckDB-only syntax: fall back on DuckDB's own list text
            pass
    text = (exprs or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [p.strip().strip("'") for p in text.split(",") if p.strip()]


def _enrich(schema: Schema, lowered: Lowered) -> None:
    """Put back what DuckDB discards but the PostgreSQL DDL said: constraint names, ON DELETE
    actions, partial index predicates."""
    for t in schema.tables:
        key = f"{t.schema}.{t.name}" if t.schema else t.name
        for fk in t.foreign_keys:
            info = lowered.fk_info.get((key, tuple(fk.columns)))
            if info:
                fk.name = fk.name or info[0]
                fk.on_delete = fk.on_delete or info[1]
        for ix in t.indexes:
            if ix.name in lowered.index_where:
                ix.where = lowered.index_where[ix.name]
