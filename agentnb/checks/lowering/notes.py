"""The change list and every message in it; the PostgreSQL-to-DuckDB maps those messages describe; and
the bookkeeping they need: the tables created so far, the sequences added for SERIAL and identity."""

from __future__ import annotations

import re
from typing import Any

from agentnb.checks.lowering.order import _Item
from agentnb.checks.lowering.policy import _SKIP_STATEMENTS
from agentnb.checks.lowering.pgtree import _names as _names_of
from agentnb.checks.lowering.pgtree import _q
from agentnb.checks.lowering.result import Lowered, Lowering

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
    # types of common extensions (cube, seg, earthdistance, ltree, isn, pgvector): DuckDB has none of them
    "cube": "varchar", "seg": "varchar", "earth": "varchar", "lquery": "varchar", "ltxtquery": "varchar",
    "isbn": "varchar", "isbn13": "varchar", "ean13": "varchar", "upc": "varchar", "ismn": "varchar",
    "ismn13": "varchar", "issn": "varchar", "issn13": "varchar", "vector": "varchar", "halfvec": "varchar",
    "sparsevec": "varchar",
}
_SERIALS = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
            "smallserial": "smallint", "serial2": "smallint"}
_NO_TYPMOD = {"timestamp", "timestamptz", "time", "timetz", "interval"}
_ARRAY_UNINDEXABLE_METHODS = {"gin", "gist", "spgist", "brin"}
_SEQ_OPTIONS = {"start", "increment", "minvalue", "maxvalue", "cycle"}

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
    "AT_SetOptions": "SET (...)", "AT_SetTableSpace": "SET TABLESPACE",
    "AT_AttachPartition": "ATTACH PARTITION", "AT_DetachPartition": "DETACH PARTITION"}
# the same keyed by pglast's enums (filled on first use: pglast loads late)
_CONSTR_LABEL: dict = {}
_ALTER_SKIPPED: dict = {}
_NUMBER = re.compile(r"-?[0-9][0-9.eE+-]*\Z")


class _Notes:
    """The lowerer's part that notes each change (once), and keeps what the script has created so far."""

    def __init__(self, ddl: str):
        self.ddl = ddl
        self.out = Lowered()
        self.items: list = []
        self.tables: dict[str, Any] = {}                  # table key -> CREATE TABLE item
        self.col_arrays: dict[str, dict[str, bool]] = {}  # table key -> column -> an array?
        self.skipped_indexes: set[str] = set()
        self.skipped_tables: set[str] = set()             # partitions and inheriting tables left out
        self.user_functions: set[str] = set()             # functions the script creates (never copied)
        self.constraint_indexes: set[str] = set()         # UNIQUE / PRIMARY KEY constraint names
        self.public_noted = False
        self.n = 0

    def change(self, kind, message, table=None, skipped=False):
        new = Lowering(kind, message, self.n, table, skipped)
        if new not in self.out.changes[-8:]:    # DEFERRABLE INITIALLY DEFERRED is one change, not two
            self.out.changes.append(new)

    def note_public(self):
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
        if objtype == "OBJECT_INDEX" and names[-1:] and names[-1] in self.constraint_indexes:
            # PostgreSQL names the index behind a constraint after it; DuckDB's has no name to comment on
            self.change("comment", f"COMMENT ON INDEX {names[-1]} skipped (the index behind a UNIQUE or "
                        "PRIMARY KEY constraint has no name in DuckDB)", skipped=True)
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
        self.skipped_tables.add(key)
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
        seq = _Item(self.n, "CreateSeqStmt", key, raw)
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

    def calls_user_function(self, key: str, where: str, c, calls: set[str]):
        """A CHECK, DEFAULT or generation expression calling a function of the script: left out (the
        table loads without it)."""
        CT = self.enums.ConstrType
        what = {CT.CONSTR_CHECK: (f"CHECK {c.conname or ''}".rstrip(), "check", "skipped"),
                CT.CONSTR_DEFAULT: ("DEFAULT", "default", "dropped"),
                CT.CONSTR_GENERATED: ("generation expression", "generated", "dropped (a plain column)")}[c.contype]
        self.change(what[1], f"{what[0]} {what[2]} on {where}: it calls {', '.join(sorted(calls))}, a function "
                    "of the script (functions are not copied to DuckDB)", table=key,
                    skipped=c.contype == CT.CONSTR_CHECK)

    def cross_schema_key(self, key: str, cols: tuple, c):
        """A foreign key to a table of another schema: DuckDB refuses it, so the table loads without it;
        the schema read back gets it again (``Lowered.cross_schema_fks``)."""
        ref = self.key(c.pktable)
        self.out.cross_schema_fks.append((key, cols, ref, tuple(_names_of(c.pk_attrs)), c.conname,
                                          _FK_ACTIONS.get(c.fk_del_action)))
        self.change("cross-schema key", f"foreign key {key}({', '.join(cols)}) → {ref} left out of the DuckDB copy "
                    "(DuckDB has no foreign keys across schemas); the diagram keeps it", table=key)

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


def _init_tables():
    if _CONSTR_LABEL:
        return
    from pglast import enums
    CT, AT = enums.ConstrType, enums.AlterTableType
    _CONSTR_LABEL.update({getattr(CT, name): label for name, label in _CONSTR_LABEL_BY_NAME.items()})
    _ALTER_SKIPPED.update({getattr(AT, name): label for name, label in _ALTER_SKIPPED_BY_NAME.items()
                           if hasattr(AT, name)})
