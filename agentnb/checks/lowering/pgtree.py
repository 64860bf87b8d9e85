"""pglast access for the lowering: the parser loaded on first use, the deparser (quoting the words
DuckDB reserves), walks over the tree, and the split at semicolons for a script that does not parse."""

from __future__ import annotations

import re

# Words DuckDB 2.0 reserves (duckdb_keywords(), not 'unreserved') that PostgreSQL lets through unquoted
_DUCKDB_ONLY_KEYWORDS = frozenset(
    "anti asof at by columns describe generated glob grouping_id lambda map pivot pivot_longer "
    "pivot_wider positional qualify semi show struct summarize try_cast tuple unpack unpivot".split())

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def _q(name: str) -> str:
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'

_STREAM = None


_PG = None


def _pg():
    """(pglast, pglast.ast, pglast.enums, the deparser class), imported on first use: keeps `import
    agentnb` cheap."""
    global _PG
    if _PG is None:
        import pglast
        from pglast import ast, enums
        _PG = pglast, ast, enums, _stream_class()
    return _PG


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
        for member in _tree_slots(type(value)):
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


_TREE_SLOTS: dict[type, tuple[str, ...]] = {}


def _tree_slots(cls) -> tuple[str, ...]:
    """The slots of ``cls`` that can hold a node or a tuple of them (``A_Const.val`` included, whose C
    type is no pointer): the only ones the ancestors chain goes through; scalars are skipped."""
    slots = _TREE_SLOTS.get(cls)
    if slots is None:
        from pglast import ast

        def holds_nodes(py_type) -> bool:
            types = py_type if isinstance(py_type, tuple) else (py_type,)
            return any(t in (tuple, list) or (isinstance(t, type) and issubclass(t, ast.Node)) for t in types)

        slots = _TREE_SLOTS[cls] = tuple(name for name, info in cls.__slots__.items()
                                          if holds_nodes(getattr(info, "py_type", tuple)))
    return slots


def _walk(node) -> list:
    """Every pglast node under ``node`` (itself included)."""
    Node = _pg()[1].Node
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

def _is_regclass_cast(node) -> bool:
    return bool(node.typeName and node.typeName.names and _names(node.typeName.names)[-1] == "regclass")
