"""CREATE TABLE lowered for DuckDB: columns, constraints, indexes, and ALTER TABLE folded into the
table it changes (DuckDB cannot add a constraint to an existing table)."""

from __future__ import annotations

from agentnb.checks.lowering.notes import (_ALTER_SKIPPED, _ARRAY_UNINDEXABLE_METHODS, _CONSTR_LABEL, _FK_ACTIONS,
                                            _SERIALS)
from agentnb.checks.lowering.order import _Item
from agentnb.checks.lowering.pgtree import _names, _walk


class _TableRules:
    """The lowerer's rules for tables and what hangs on them."""

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

    def user_calls(self, expr) -> set[str]:
        """The functions of the script that ``expr`` calls (DuckDB gets none of them)."""
        if not self.user_functions or expr is None:
            return set()
        return {_names(n.funcname)[-1].lower() for n in _walk(expr)
                if isinstance(n, self.ast.FuncCall) and n.funcname} & self.user_functions

    def implicit_index_name(self, key, c, column) -> str:
        """The name PostgreSQL gives the index of an unnamed PRIMARY KEY or UNIQUE constraint (a later
        COMMENT ON INDEX may use it)."""
        table = key.rpartition(".")[2]
        if c.contype == self.enums.ConstrType.CONSTR_PRIMARY:
            return _object_name(table, "", "pkey")
        return _object_name(table, "_".join(_names(c.keys) or ([column] if column else [])), "key")

    def lower_constraint(self, key, c, column=None):
        """Lower a column or table constraint in place; None when it must be left out."""
        CT = self.enums.ConstrType
        where = f"{key}.{column}" if column else key
        if c.contype == CT.CONSTR_EXCLUSION:
            self.change("exclude", f"EXCLUDE constraint {c.conname or ''} skipped on {key} (no DuckDB "
                        "equivalent)".replace("  ", " "), table=key)
            return None
        if c.contype in (CT.CONSTR_CHECK, CT.CONSTR_DEFAULT, CT.CONSTR_GENERATED) and self.user_functions:
            calls = self.user_calls(c.raw_expr)
            if calls:
                self.calls_user_function(key, where, c, calls)
                return None
        if c.contype in (CT.CONSTR_UNIQUE, CT.CONSTR_PRIMARY):
            self.constraint_indexes.add(c.conname or self.implicit_index_name(key, c, column))
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
            if (key.rpartition(".")[0] or None) != (c.pktable.schemaname or None):
                self.cross_schema_key(key, cols, c)
                return None
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
        if key in self.skipped_tables:
            self.skipped_indexes.add(name)
            self.change("index skipped", f"index {name} skipped: its table {key} is skipped (DuckDB has no "
                        "table inheritance)", table=key, skipped=True)
            return
        calls = set().union(*(self.user_calls(p.expr) for p in stmt.indexParams or () if p.expr is not None))
        if calls:
            self.skipped_indexes.add(name)
            self.change("index skipped", f"index {name} skipped: it calls {', '.join(sorted(calls))}, a function "
                        "of the script (functions are not copied to DuckDB)", table=key, skipped=True)
            return
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
        if stmt.objtype.name == "OBJECT_INDEX" and stmt.cmds and all(
                cmd.subtype == AT.AT_AttachPartition for cmd in stmt.cmds):
            self.change("partition", f"ALTER INDEX {self.key(stmt.relation)} ATTACH PARTITION skipped (DuckDB "
                        "has no partitions)", skipped=True)
            return
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
                        default = self.lower_constraint(key, ast.Constraint(contype=CT.CONSTR_DEFAULT,
                                                                            raw_expr=cmd.def_), column=cmd.name)
                        if default is not None:
                            cons.append(default)
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


def _object_name(name1: str, name2: str, label: str) -> str:
    """PostgreSQL's makeObjectName: ``name1_name2_label``, the longer name cut until it fits 63 bytes."""
    avail = 63 - len(label.encode()) - 1 - (1 if name2 else 0)
    n1, n2 = len(name1.encode()), len(name2.encode())
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1

    def cut(name: str, n: int) -> str:
        return name.encode()[:n].decode(errors="ignore")

    return cut(name1, n1) + ("_" + cut(name2, n2) if name2 else "") + "_" + label
