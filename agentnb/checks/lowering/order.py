"""The order lowered statements go out in: the source order, except that whatever a statement needs
(a referenced table, a type, a sequence created further down) is pulled in just before it."""

from __future__ import annotations

from agentnb.checks.lowering.pgtree import _names
from agentnb.checks.lowering.policy import _node_label as _label
from agentnb.checks.lowering.result import LoweredStatement


class _Item:
    """A statement on its way out: its pglast node (deparsed last, as folding may still change it) or
    the text the lowering wrote for it; what it provides and needs, for the ordering."""

    __slots__ = ("source", "kind", "table", "raw", "node", "provides", "requires", "done")

    def __init__(self, source, kind, table=None, raw=None, node=None):
        self.source = source
        self.kind = kind
        self.table = table
        self.raw = raw
        self.node = node
        self.provides: str | None = None
        self.requires: set[str] = set()
        self.done = False


class _Ordering:
    """The lowerer's part that orders and writes out its statements."""

    def emit(self):
        """Statements in their original order, except that whatever a statement needs (a referenced
        table, a type, a sequence created further down) is pulled in just before it."""
        for item in self.items:
            if item.kind == "CreateStmt":
                self.table_requires(item)
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
            try:
                sql = self.render(item)
            except RecursionError:      # pglast's deparser recurses once per level of nesting
                self.n = item.source
                self.left_out(_label(item.kind), "nested too deeply to be rewritten")
                continue
            self.out.statements.append(LoweredStatement(sql, item.source, item.kind, item.table))

    def table_requires(self, item):
        """Tables a CREATE TABLE needs first: the ones its foreign keys reference. (Its types and
        sequences were added as its statement was read: ``_Lowerer.generic``.)"""
        for ref, _ in self.foreign_keys(item):
            if ref != item.table:
                item.requires.add("table:" + ref)

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
        return item.raw if item.node is None else self.deparse(item.node)
