"""The lowerer: the script split and parsed by PostgreSQL's parser, each statement kept (a kind that builds
a schema) or left out, types and function calls lowered wherever they are, then the statements rewritten
and written out in order. Tables are :mod:`.tables`; the messages :mod:`.notes`; the order :mod:`.order`."""

from __future__ import annotations

from agentnb.checks.lowering.notes import _NO_TYPMOD, _SEQ_OPTIONS, _TYPE_MAP, _Notes
from agentnb.checks.lowering.order import _Item, _Ordering
from agentnb.checks.lowering.pgtree import (_is_regclass_cast, _name_of, _names, _pg, _q, _split_at_semicolons,
                                            _walk)
from agentnb.checks.lowering.policy import (_DROPPABLE, _LEFT_OUT, _OUTSIDE_FUNCTIONS, _SCHEMA_STATEMENTS,
                                            _node_label, _words_label)
from agentnb.checks.lowering.result import Lowered
from agentnb.checks.lowering.tables import _TableRules


class _Lowerer(_TableRules, _Ordering, _Notes):
    """One script lowered: ``run()`` gives the :class:`Lowered`."""

    def __init__(self, ddl: str):
        super().__init__(ddl)
        self.pglast, self.ast, self.enums, self.RawStream = _pg()
        self.index_names: set[str] = set()
        self.uses: set[str] = set()       # sequences the current statement's expressions use
        self.called: set[str] = set()     # the functions it calls
        self.path: list[str] | None = None  # the search_path the script set (None: it set none)
        self.mapped_types: dict[str, tuple] = {}
        self.targets: set[int] = set()    # the relations the current statement creates (ids)

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

    def mapped_type(self, text: str) -> tuple:
        """The names and modifiers of type ``text`` as DuckDB takes them, as new nodes: read once per
        text (a 500-table schema maps a type thousands of times)."""
        cached = self.mapped_types.get(text)
        if cached is None:
            new = self.typename(text)
            names = _names(new.names)
            if names[0] == "pg_catalog" and self.deparse(new).startswith("pg_catalog."):
                names = names[1:]         # DuckDB knows json, not pg_catalog.json
            cached = self.mapped_types[text] = (tuple(names), bool(new.typmods))
        names, has_typmods = cached
        String = self.ast.String
        return tuple(String(sval=n) for n in names), self.typename(text).typmods if has_typmods else None

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
            if name == "CreateFunctionStmt" and stmt.funcname:    # a CHECK calling it is left out
                self.user_functions.add(_names(stmt.funcname)[-1].lower())
            if name in ("VariableSetStmt", "SelectStmt"):
                self.search_path_set(stmt)
            if self.skip_statement(name):
                continue
            if name not in _SCHEMA_STATEMENTS or (
                    name == "DropStmt" and stmt.removeType.name not in _DROPPABLE):
                label = _node_label(name)
                if name == "DropStmt":
                    label = "DROP " + stmt.removeType.name.removeprefix("OBJECT_").replace("_", " ")
                why = _LEFT_OUT[name][1] if name in _LEFT_OUT else "not a statement that builds a schema"
                self.left_out(label, why)
                continue
            self.uses = set()
            self.called = set()
            first = len(self.items)
            self.targets = {id(rv) for rv in (getattr(stmt, "relation", None) if name == "CreateStmt" else None,
                                              getattr(stmt, "sequence", None), getattr(stmt, "view", None),
                                              getattr(getattr(stmt, "into", None), "rel", None)) if rv is not None}
            self.generic(stmt)
            outside = self.called & _OUTSIDE_FUNCTIONS
            if outside:
                self.left_out(_node_label(name), f"it calls {', '.join(sorted(outside))} (functions that reach files, "
                              "the network or the environment)")
                continue
            handler = getattr(self, "do_" + name, None)
            try:
                if handler is not None:
                    handler(stmt)
                else:
                    self.items.append(_Item(n, name, node=stmt))
            except RecursionError:      # a message deparses part of the statement: too deep
                del self.items[first:]
                self.tables = {k: v for k, v in self.tables.items() if v in self.items}
                self.left_out(_node_label(name), "nested too deeply to be rewritten")
                continue
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
        """What is lowered wherever it stands: schema public, types, function calls; and what the
        statement needs created first (the types and sequences it names, in ``self.uses``)."""
        ast = self.ast
        ColumnDef, RangeVar, TypeName, FuncCall = ast.ColumnDef, ast.RangeVar, ast.TypeName, ast.FuncCall
        own = set()   # column types: lowered with the column, so the change names it
        for node in _walk(stmt):      # parents come before their children
            cls = type(node)
            if cls is ColumnDef:
                if node.typeName is not None:
                    own.add(id(node.typeName))
            elif cls is RangeVar:
                if node.schemaname == "public":
                    node.schemaname = None
                    self.note_public()
                if node.catalogname:
                    node.catalogname = None
                if node.schemaname is None and self.path is not None and node.relname:
                    node.schemaname = self.on_path(node.relname, id(node) in self.targets)
                node.inh = True       # ONLY (pg_dump writes it everywhere): no inheritance in DuckDB
            elif cls is TypeName:
                if node.names:
                    self.uses.add("type:" + _name_of(node.names[-1]))
                if id(node) not in own:
                    self.lower_type(node, None)
            elif cls is FuncCall:
                fname = _names(node.funcname)
                if fname[-1:] == ["uuid_generate_v4"]:
                    node.funcname = (ast.String(sval="gen_random_uuid"),)
                    self.change("uuid", "uuid_generate_v4() → gen_random_uuid()")
                elif fname[:1] == ["pg_catalog"] and len(fname) == 2:
                    node.funcname = node.funcname[1:]
                # nextval('seq'::regclass): DuckDB has no regclass, drop the cast
                if node.args and any(isinstance(a, ast.TypeCast) and _is_regclass_cast(a) for a in node.args):
                    node.args = tuple(a.arg if isinstance(a, ast.TypeCast) and _is_regclass_cast(a) else a
                                      for a in node.args)
                if fname:
                    self.called.add(fname[-1].lower())
                if fname[-1:] == ["nextval"] and node.args and isinstance(node.args[0], ast.A_Const):
                    self.sequence_used(node.args[0])

    def search_path_set(self, stmt):
        """``SET search_path = a, b`` (or pg_dump's ``set_config('search_path', ...)``): DuckDB has no
        search path, so the later statements' unqualified names are qualified as PostgreSQL resolves them."""
        if type(stmt).__name__ == "VariableSetStmt":
            if (stmt.name or "").lower() != "search_path":
                return
            values = [getattr(getattr(a, "val", None), "sval", None) for a in stmt.args or ()]
            if stmt.kind.name != "VAR_SET_VALUE" or not all(isinstance(v, str) for v in values):
                self.path = None       # SET ... TO DEFAULT, RESET: back to the default
                return
        else:
            try:
                [target] = stmt.targetList
                call = target.val
                if _names(call.funcname)[-1] != "set_config" or call.args[0].val.sval != "search_path":
                    return
                values = [v.strip() for v in call.args[1].val.sval.split(",") if v.strip()]
            except (AttributeError, TypeError, ValueError, IndexError):
                return
        path = [v.strip('"') if v.startswith('"') else v.lower() for v in values]
        path = [v for v in path if v not in ("pg_catalog", "$user", "pg_temp")]
        self.path = path or None
        if path and path != ["public"]:
            self.change("search path", f"search_path {', '.join(path)}: later unqualified names are qualified as "
                        "PostgreSQL resolves them (DuckDB has no search path)")

    def on_path(self, relname: str, creating: bool) -> str | None:
        """The schema an unqualified name means under the script's search path: where a new relation
        goes (the path's first schema), or the first schema on the path holding one of that name."""
        if not creating:
            for space in self.path:
                if (relname if space == "public" else f"{space}.{relname}") in self.tables:
                    return None if space == "public" else space
            return None
        return None if self.path[0] == "public" else self.path[0]

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
            tn.names, tn.typmods = self.mapped_type(_TYPE_MAP[base])
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
        elements, stmt.schemaElts = stmt.schemaElts or (), None
        if not self.public_schema_skipped(stmt.schemaname):
            item = _Item(self.n, "CreateSchemaStmt", node=stmt)
            item.provides = "schema:" + stmt.schemaname
            self.items.append(item)
        if elements:
            self.schema_elements(stmt.schemaname, elements)

    def schema_elements(self, schema, elements):
        """CREATE SCHEMA s CREATE TABLE ... (DuckDB takes no elements): each element becomes a statement
        of its own, in s. PostgreSQL runs them with s first on the search path, so an unqualified name of
        a relation they create (a sibling's REFERENCES) means s's."""
        ast = self.ast
        self.change("schema elements", f"CREATE SCHEMA {schema}: its {len(elements)} element(s) run as "
                    "statements of their own")
        created = {rv.relname for e in elements
                   for rv in (getattr(e, "relation", None), getattr(e, "view", None), getattr(e, "sequence", None))
                   if isinstance(rv, ast.RangeVar) and not isinstance(e, ast.IndexStmt)}
        for elt in elements:
            kind = type(elt).__name__
            if self.skip_statement(kind):
                continue
            if kind not in _SCHEMA_STATEMENTS:
                self.left_out(f"{_node_label(kind)} in CREATE SCHEMA {schema}", "not a statement that builds a schema")
                continue
            for node in _walk(elt):
                if isinstance(node, ast.RangeVar) and node.schemaname is None and node.relname in created:
                    node.schemaname = schema
            handler = getattr(self, "do_" + kind, None)
            if handler is not None:
                handler(elt)
            else:
                self.items.append(_Item(self.n, kind, node=elt))

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
        """Both become a view: the copy runs no query of the answer's (its time and memory are
        the kernel's). A table's columns are then read from the view, which makes way for an empty
        table of those columns (``agentnb.checks.duckdb`` does that part)."""
        name = self.key(stmt.into.rel)
        cols = " (" + ", ".join(_q(_name_of(c)) for c in stmt.into.colNames) + ")" if stmt.into.colNames else ""
        raw = f"CREATE VIEW {self.deparse(stmt.into.rel)}{cols} AS {self.deparse(stmt.query)}"
        if stmt.objtype.name == "OBJECT_MATVIEW":
            self.change("materialized view", f"materialized view {name} created as a view", table=name)
            self.items.append(_Item(self.n, "ViewStmt", name, raw))
        else:
            self.change("table as", f"CREATE TABLE {name} AS created empty, with its query's columns (the "
                        "DuckDB copy runs no query)", table=name)
            self.items.append(_Item(self.n, "CreateTableAsStmt", name, raw))

    def do_CommentStmt(self, stmt):
        objtype = stmt.objtype.name
        obj = stmt.object
        if isinstance(obj, tuple) and len(obj) > 1 and _name_of(obj[0]) == "public":
            stmt.object = obj[1:]
            self.note_public()
        if self.comment_kept(objtype, _names(stmt.object) if objtype == "OBJECT_INDEX" else []):
            self.items.append(_Item(self.n, "CommentStmt", node=stmt))
