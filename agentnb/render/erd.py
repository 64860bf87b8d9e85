"""Entity-relationship diagrams of a :class:`dbschema.Schema`: Mermaid source and standalone SVG.

:func:`mermaid` gives an ``erDiagram`` JupyterLab 4.1+ renders itself (``text/vnd.mermaid`` or a
```` ```mermaid ```` fence); :func:`svg` gives a picture that needs no JavaScript, no Graphviz and no
network, so it also survives nbconvert's HTML and GitHub's notebook viewer. Both are deterministic:
the same schema gives the same bytes.

Over 500 lines, one job: drawing a schema. The SVG layout (layers, ports, lanes, free heights) shares
one state that cutting it into modules would only pass around.

Cardinality comes from the foreign keys: nullable FK columns make the parent end "zero or one"
(``|o``), NOT NULL ones "exactly one" (``||``); FK columns that are also a primary key, a UNIQUE
constraint or a (non-partial) unique index make the child end "zero or one" (one-to-one, ``o|``),
otherwise "zero or more" (``o{``).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from agentnb.checks.gcpause import gc_paused
from agentnb.checks.schema import Column, ForeignKey, Schema, Table

__all__ = ["mermaid", "svg"]


# --------------------------------------------------------------------------------------------------
# Shared: types and cardinality

_LONG_TYPES = [
    ("timestamp with time zone", "timestamptz"), ("timestamp without time zone", "timestamp"),
    ("time with time zone", "timetz"), ("time without time zone", "time"),
    ("character varying", "varchar"), ("double precision", "double"), ("bit varying", "varbit"),
    ("character", "char"),
]


def short_type(type_: str) -> str:
    """A compact spelling for display: ``timestamp with time zone`` → ``timestamptz``."""
    t = " ".join((type_ or "").split())
    t = re.sub(r"^(timestamp|time)\s*\(\d+\)", r"\1", t, flags=re.I)
    low = t.lower()
    for long, short in _LONG_TYPES:
        if low.startswith(long):
            t = short + t[len(long):]
            low = t.lower()
    return t


def mermaid_type(type_: str) -> str:
    """A type word Mermaid's erDiagram grammar accepts: letters, digits and underscores, starting with
    a letter. ``numeric(10,2)`` → ``numeric``, ``text[]`` → ``text_array``."""
    t = short_type(type_)
    t = re.sub(r"\([^)]*\)", "", t)                         # numeric(10,2) -> numeric
    t = re.sub(r"\[\d*\]", "_array", t)                     # text[] -> text_array
    t = re.sub(r"[^A-Za-z0-9_]+", "_", t).strip("_")
    t = re.sub(r"_+", "_", t)
    if not t:
        return "unknown"
    return t if t[0].isalpha() else "t_" + t


def _keys(table: Table) -> list[set[str]]:
    """Column sets known unique: the primary key, UNIQUE constraints, full unique indexes."""
    keys = [set(table.primary_key)] if table.primary_key else []
    keys += [set(u) for u in table.unique]
    keys += [set(ix.columns) for ix in table.indexes if ix.unique and not ix.where]
    return keys


def _fk_unique(table: Table, fk: ForeignKey) -> bool:
    cols = set(fk.columns)
    return any(k and k <= cols for k in _keys(table))


def _fk_nullable(table: Table, fk: ForeignKey) -> bool:
    for name in fk.columns:
        col = table.column(name)
        if col is None or col.nullable:
            return True
    return False


def _markers(table: Table, col: Column) -> list[str]:
    marks = []
    if col.name in table.primary_key:
        marks.append("PK")
    if any(col.name in fk.columns for fk in table.foreign_keys):
        marks.append("FK")
    if any(k == {col.name} for k in _keys(table)[1 if table.primary_key else 0:]) and "PK" not in marks:
        marks.append("UK")
    return marks


def _qualified(table: Table) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


def _by_name(schema: Schema) -> dict[str, list[Table]]:
    by_name: dict[str, list[Table]] = {}
    for t in schema.tables:
        by_name.setdefault(t.name, []).append(t)
    return by_name


def _find(by_name: dict[str, list[Table]], name: str, own: Table) -> Table | None:
    """The referenced table: same schema first, then any table of that name (``by_name``: the schema's
    tables by name, in order)."""
    named = by_name.get(name, ())
    if not named and "." in name:          # a key to another schema, qualified: that schema's table
        schema, _, bare = name.rpartition(".")
        return next((t for t in by_name.get(bare, ()) if t.schema == schema), None)
    return next((t for t in named if t.schema == own.schema), named[0] if named else None)


# --------------------------------------------------------------------------------------------------
# Mermaid

# Mermaid 10's lexer matches these words before entity names, without a word boundary
_MERMAID_KEYWORD_PREFIX = re.compile(r"(one|only|zero|many|to|optionally|erdiagram|style|classdef|class"
                                     r"|direction|title|acc)", re.I)
_ALNUM = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _entity_name(name: str, used: dict[str, str]) -> str:
    if name in used:
        return used[name]
    base = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "table"
    if not base[0].isalpha():
        base = "t_" + base
    out = base
    i = 2
    while out in used.values():
        out = f"{base}_{i}"
        i += 1
    if _MERMAID_KEYWORD_PREFIX.match(out):
        out = f'"{out}"'    # quoted entity names: Mermaid 10.x and 11
    used[name] = out
    return out


def _attr_name(name: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "column"
    if not out[0].isalpha():
        out = "c_" + out
    if out.upper() in ("PK", "FK", "UK"):
        out += "_"
    return out


def _comment(text: str) -> str:
    return '"' + text.replace('"', "'").replace("\n", " ") + '"'


def mermaid(schema: Schema) -> str:
    """A Mermaid ``erDiagram`` of ``schema``: typed columns with PK/FK/UK markers, one relationship line
    per foreign key (cardinality from nullability and uniqueness of its columns, labelled with them).

    Types and names are reduced to what Mermaid's grammar accepts (``timestamptz``, ``text_array``,
    ``numeric``); a renamed column keeps its real name in the attribute comment.
    """
    used: dict[str, str] = {}
    lines = ["erDiagram"]
    for t in schema.tables:
        ent = _entity_name(_qualified(t), used)
        if not t.columns:
            lines.append(f"    {ent} {{")
            lines.append("    }")
            continue
        lines.append(f"    {ent} {{")
        for col in t.columns:
            marks = _markers(t, col)
            name = _attr_name(col.name)
            parts = [mermaid_type(col.type), name]
            notes = []
            if marks:
                parts.append(marks[0])        # one key per attribute: Mermaid 10.x's grammar
                notes += marks[1:]
            if name != col.name:
                notes.append(col.name)
            if mermaid_type(col.type) != short_type(col.type):
                notes.append(short_type(col.type))
            if notes:
                parts.append(_comment(", ".join(notes)))
            lines.append("        " + " ".join(parts))
        lines.append("    }")
    by_name = _by_name(schema)
    for t in schema.tables:
        child = _entity_name(_qualified(t), used)
        for fk in t.foreign_keys:
            ref = _find(by_name, fk.ref_table, t)
            parent = _entity_name(_qualified(ref) if ref else fk.ref_table, used)
            left = "|o" if _fk_nullable(t, fk) else "||"
            right = "o|" if _fk_unique(t, fk) else "o{"
            identifying = bool(t.primary_key) and set(fk.columns) <= set(t.primary_key)
            link = "--" if identifying else ".."
            lines.append(f"    {parent} {left}{link}{right} {child} : {_comment(', '.join(fk.columns))}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# SVG

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_SIZE = 12
CHAR_W = 7.25            # advance of a 12px monospace glyph (DejaVu Sans Mono: 7.22)
ROW_H = 20
HEAD_H = 26
PAD = 8
MARK_W = 26
V_GAP = 28
GAP_MIN = 56
LANE = 9
PORT_GAP = 10            # between connectors ending on the same row
MARGIN = 24
HEAD_FILL = "#2f4858"
LINE = "#5b6b78"


@dataclass
class _Box:
    table: Table
    index: int
    width: int = 0
    height: int = 0
    col: int = 0
    x: float = 0
    y: float = 0
    rows: dict = field(default_factory=dict)     # column name -> row index
    tops: list = field(default_factory=list)     # each row's top and height, from the box's top
    ports: dict = field(default_factory=dict)    # (column name, side) -> connectors ending there

    def row_y(self, name: str | None) -> float:
        if name is not None and name in self.rows:
            top, height = self.tops[self.rows[name]]
            return self.y + top + height / 2
        return self.y + HEAD_H / 2

    def size_rows(self) -> None:
        """A row where several connectors end grows, so that each has a port of its own."""
        self.tops, top = [], HEAD_H
        for col in self.table.columns:
            ends = max([len(self.ports.get((col.name, side), ())) for side in (-1, 1)] or [0])
            height = max(ROW_H, ends * PORT_GAP + 6)
            self.tops.append((top, height))
            top += height
        self.height = top if self.table.columns else HEAD_H + ROW_H


def _n(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_w(s: str) -> float:
    return len(s) * CHAR_W


def _measure(box: _Box) -> None:
    t = box.table
    name_w = max([_text_w(c.name) for c in t.columns] or [0])
    type_w = max([_text_w(short_type(c.type)) for c in t.columns] or [0])
    head_w = _text_w(_qualified(t)) * 1.05 + 2 * PAD
    box.width = int(math.ceil(max(140, head_w, PAD + MARK_W + name_w + 18 + type_w + PAD)))
    box.height = HEAD_H + max(1, len(t.columns)) * ROW_H
    box.rows = {c.name: i for i, c in enumerate(t.columns)}
    box.size_rows()


def _layers(schema: Schema, boxes: dict[str, _Box], refs: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from the tables that reference nothing: referenced tables to the left."""
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def walk(key: str) -> int:
        if key in depth:
            return depth[key]
        visiting.add(key)
        d = 0
        for r in refs[key]:
            if r != key and r not in visiting:
                d = max(d, walk(r) + 1)
        visiting.discard(key)
        depth[key] = d
        return d

    for key in boxes:
        walk(key)
    return depth


def _blocker(sorted_ys: list[float], y: float, gap: float) -> float | None:
    """A height of ``sorted_ys`` closer to ``y`` than ``gap`` (None: there is none)."""
    i = bisect_left(sorted_ys, y - gap - 1)
    while i < len(sorted_ys) and sorted_ys[i] <= y + gap + 1:
        if abs(y - sorted_ys[i]) < gap:
            return sorted_ys[i]
        i += 1
    return None


def _first_clear_step(start: float, direction: int, lo: float, hi: float, used: list[float],
                      stubs: list[float], resume: dict) -> int | None:
    """The least step (under 200) at which ``start + direction * step * 7`` lies in [lo, hi], 6 from
    every ``used`` height and 4 from every ``stubs`` one; None when there is none. A blocked height
    jumps every step the same blocker blocks; and as heights are only ever added to ``used``, a step
    once blocked stays blocked: the search from the same start resumes where the last one ended
    (``resume``), so connectors stacked below the boxes cost one step each, not one per earlier one."""
    key = (start, direction, lo, hi)
    step = resume.get(key, 0)
    while step < 200:
        c = start + step * 7 if direction > 0 else start - step * 7
        if not lo <= c <= hi:
            return None
        v = _blocker(used, c, 6)
        gap = 6
        if v is None:
            v, gap = _blocker(stubs, c, 4), 4
            if v is None:
                resume[key] = step
                return step
        # every step until c passes v by gap lies within gap of v (2 * gap > 7): blocked too
        step += max(1, math.floor((v + gap - c if direction > 0 else c - v + gap) / 7))
    resume[key] = step
    return None


def svg(schema: Schema) -> str:
    """A standalone SVG ER diagram: one box per table (name; columns with PK/FK/UK marks and types),
    laid out in layers from the foreign-key graph (referenced tables on the left), with orthogonal
    connectors from each FK column to the referenced column and crow's-foot ends."""
    with gc_paused():
        return _svg(schema)


def _svg(schema: Schema) -> str:
    boxes: dict[str, _Box] = {}
    for i, t in enumerate(schema.tables):
        key = _qualified(t)
        if key in boxes:
            key = f"{key}#{i}"
        box = _Box(t, i)
        _measure(box)
        boxes[key] = box
    keys = list(boxes)
    key_of = {id(b.table): k for k, b in boxes.items()}
    refs: dict[str, list[str]] = {}
    edges = []   # (child key, fk, parent key)
    by_name = _by_name(schema)
    for k, b in boxes.items():
        refs[k] = []
        for fk in b.table.foreign_keys:
            ref = _find(by_name, fk.ref_table, b.table)
            if ref is not None:
                pk = key_of[id(ref)]
                refs[k].append(pk)
                edges.append((k, fk, pk))

    # columns: layers, ordered by the position of what they reference, split when too tall
    depth = _layers(schema, boxes, refs)
    n_layers = max(depth.values(), default=-1) + 1
    cap = max(3, math.ceil(math.sqrt(len(boxes) * 1.2)))
    columns: list[list[str]] = []
    position: dict[str, float] = {}
    by_layer: list[list[str]] = [[] for _ in range(n_layers)]
    for k in keys:
        by_layer[depth[k]].append(k)
    for layer in range(n_layers):
        members = by_layer[layer]

        def weight(k: str) -> tuple:
            ps = [position[r] for r in refs[k] if r in position]
            return (sum(ps) / len(ps) if ps else float(boxes[k].index), boxes[k].index)

        if layer:
            members.sort(key=weight)
        for start in range(0, len(members), cap):
            chunk = members[start:start + cap]
            for j, k in enumerate(chunk):
                position[k] = j + 0.5 * (start // cap)
            columns.append(chunk)
    for ci, col in enumerate(columns):
        for k in col:
            boxes[k].col = ci

    # ports: each connector ends on its own point of a row (edges that met at one point, or ran along one
    # line to it, read as one); the side is the one that faces the other table
    def ends(ck: str, fk: ForeignKey, pk: str) -> tuple[tuple, tuple]:
        child, parent = boxes[ck], boxes[pk]
        ref = fk.ref_columns[0] if fk.ref_columns else (parent.table.primary_key[0] if parent.table.primary_key
                                                        else None)
        own = fk.columns[0] if fk.columns else None
        if parent.col == child.col:
            return (own, 1), (ref, 1)
        return (own, -1 if parent.col < child.col else 1), (ref, 1 if parent.col < child.col else -1)

    for n, (ck, fk, pk) in enumerate(edges):
        for key, port in zip((ck, pk), ends(ck, fk, pk)):
            if port[0] is not None:
                boxes[key].ports.setdefault(port, []).append(n)
    for b in boxes.values():
        b.size_rows()
    for ci, col in enumerate(columns):
        y = MARGIN + 8
        for k in col:
            boxes[k].y = y
            y += boxes[k].height + V_GAP
    port_y: dict[tuple[int, str], float] = {}        # (edge, "child" or "parent") -> its end's height
    port_half: dict[tuple[int, str], float] = {}     # and its marker's half height
    for key, b in boxes.items():
        for (name, side), members in b.ports.items():
            def other(n: int) -> tuple:
                ck, fk, pk = edges[n]
                far = boxes[pk] if ck == key and (name, side) == ends(ck, fk, pk)[0] else boxes[ck]
                return (far.y + far.height / 2, n)
            members.sort(key=other)
            for i, n in enumerate(members):
                ck, fk, pk = edges[n]
                end = "child" if ck == key and (name, side) == ends(ck, fk, pk)[0] else "parent"
                port_y[(n, end)] = b.row_y(name) + (i - (len(members) - 1) / 2) * PORT_GAP
                port_half[(n, end)] = 6 if len(members) == 1 else 4
    n_cols = len(columns)
    col_w = [max(boxes[k].width for k in col) for col in columns]

    # routing: vertical segments in lanes of the gaps (gap g is left of column g; gap n_cols right of
    # the last), long horizontals at a height free of boxes in the columns crossed
    lanes: list[int] = [0] * (n_cols + 1)
    used_y: list[float] = []
    used_sorted: list[float] = []                 # the same heights, sorted: nearby ones by bisection
    stub_y = sorted(set(port_y.values()))          # long horizontals keep off the ports' heights
    bottom = max((b.y + b.height for b in boxes.values()), default=MARGIN)
    routes = []

    def lane(gap: int) -> tuple[int, int]:
        lanes[gap] += 1
        return gap, lanes[gap] - 1

    free_spans: dict[tuple[int, int], list[tuple[float, float]]] = {}   # by column range: boxes never move
    resume: dict = {}                                                   # see _first_clear_step

    def spans_free(c0: int, c1: int) -> tuple[list[tuple[int, float, float]], list[float]]:
        """The free spans of heights across columns c0..c1, top down: (position among the gaps, lowest
        and highest height a line may take), and their lowest heights, for bisection."""
        if (c0, c1) not in free_spans:
            blocked = sorted((boxes[k].y - 8, boxes[k].y + boxes[k].height + 8)
                             for c in range(c0, c1 + 1) for k in columns[c])
            free, top = [], 10.0
            for a, b in blocked:
                if a > top:
                    free.append((top, a))
                top = max(top, b)
            free.append((top, top + 10_000))
            usable = [(i, a + 3, b - 3) for i, (a, b) in enumerate(free) if a + 3 <= b - 3]
            free_spans[c0, c1] = usable, [lo for _, lo, _ in usable]
        return free_spans[c0, c1]

    def nearest_spans(c0: int, c1: int, target: float):
        """The free spans in order of how near the target they come (the upper one first on a tie):
        outwards from the target's place, so a search that stops early never looks at the rest."""
        usable, los = spans_free(c0, c1)
        left, right = bisect_right(los, target) - 1, bisect_right(los, target)

        def entry(j):
            i, lo, hi = usable[j]
            start = min(max(target, lo), hi)
            return (abs(start - target), i, lo, hi, start)

        a = entry(left) if left >= 0 else None
        b = entry(right) if right < len(usable) else None
        while a is not None or b is not None:
            if b is None or (a is not None and a < b):
                yield a
                left -= 1
                a = entry(left) if left >= 0 else None
            else:
                yield b
                right += 1
                b = entry(right) if right < len(usable) else None

    def free_y(c0: int, c1: int, target: float) -> float:
        # the free height nearest the target (the first free span's on a tie): spans in order of how
        # near they could be, stopping once none can be nearer than the best found; within a span, the
        # heights 7 apart from the nearest point, upwards first on a tie
        spans = nearest_spans(c0, c1, target)
        best, best_key = None, None
        for reach, i, lo, hi, start in spans:
            if best_key is not None and reach > best_key[0]:
                break
            up = _first_clear_step(start, 1, lo, hi, used_sorted, stub_y, resume)
            down = _first_clear_step(start, -1, lo, hi, used_sorted, stub_y, resume)
            if up is None and down is None:
                continue
            found = start + up * 7 if down is None or (up is not None and up <= down) else start - down * 7
            key = (abs(found - target), i)
            if best_key is None or key < best_key:
                best, best_key = found, key
        best = best if best is not None else bottom + 12
        used_y.append(best)
        insort(used_sorted, best)
        return best

    for n, (ck, fk, pk) in enumerate(edges):
        child, parent = boxes[ck], boxes[pk]
        yc = port_y.get((n, "child"), child.row_y(None))
        yp = port_y.get((n, "parent"), parent.row_y(None))
        ci, pi = child.col, parent.col
        if pi == ci:
            routes.append((ck, fk, pk, "loop", [lane(ci + 1)], yc, yp, None))
        elif pi < ci:
            if ci - pi == 1:
                routes.append((ck, fk, pk, "left", [lane(ci)], yc, yp, None))
            else:
                yf = free_y(pi + 1, ci - 1, (yc + yp) / 2)
                routes.append((ck, fk, pk, "left", [lane(ci), lane(pi + 1)], yc, yp, yf))
        else:
            if pi - ci == 1:
                routes.append((ck, fk, pk, "right", [lane(pi)], yc, yp, None))
            else:
                yf = free_y(ci + 1, pi - 1, (yc + yp) / 2)
                routes.append((ck, fk, pk, "right", [lane(ci + 1), lane(pi)], yc, yp, yf))

    # a stub from the gap's left column to its lane and one from a lane to the right column, at one
    # height, overlap when the second lane lies left of the first: order those lanes the other way
    lane_order = {(g, i): i for g in range(n_cols + 1) for i in range(lanes[g])}
    stubs = []                                   # (lane, True for a stub from the left column, height)
    for ck, fk, pk, kind, lane_ids, yc, yp, yf in routes:
        first, last = lane_ids[0], lane_ids[-1]
        if kind == "loop":
            stubs += [(first, True, yc), (first, True, yp)]
        elif kind == "left":
            stubs += [(first, False, yc), (last, True, yp)]
        else:
            stubs += [(first, True, yc), (last, False, yp)]
    # stubs into the right column, by gap and by 4-pixel band of height: the clashes of a stub are among
    # its gap's stubs of its own and the neighbouring bands, not among all of them
    into_right: dict[tuple[int, int], list[tuple[int, tuple, float]]] = {}
    for order, (b, to_right, yb) in enumerate(stubs):
        if not to_right:
            into_right.setdefault((b[0], math.floor(yb / 4)), []).append((order, b, yb))

    # the pairs that clash when their lanes are in the wrong order, in the order one scan of every stub
    # meets them: where they are never changes, only the lanes' order, so they are found once
    close = []
    for a, from_left, ya in stubs:
        if not from_left:
            continue
        band = math.floor(ya / 4)
        near = [s for d in (-1, 0, 1) for s in into_right.get((a[0], band + d), ())]
        close += [(a, b) for _, b, yb in sorted(near) if a != b and abs(ya - yb) < 4]

    def first_clash():
        return next(((a, b) for a, b in close if lane_order[b] < lane_order[a]), None)

    for _ in range(4 * len(stubs)):
        clash = first_clash()
        if clash is None:
            break
        a, b = clash
        lane_order[a], lane_order[b] = lane_order[b], lane_order[a]

    # x positions now that lane counts are known
    gap_w = []
    for g in range(n_cols + 1):
        if g in (0, n_cols):
            gap_w.append(MARGIN + (lanes[g] * LANE + 16 if lanes[g] else 0))
        else:
            gap_w.append(max(GAP_MIN, 32 + lanes[g] * LANE))
    col_x, x = [], 0.0
    for ci in range(n_cols):
        x += gap_w[ci]
        col_x.append(x)
        x += col_w[ci]
    width = int(math.ceil(x + gap_w[n_cols])) if n_cols else 2 * MARGIN
    for b in boxes.values():
        b.x = col_x[b.col]

    def lane_x(gap: int, i: int) -> float:
        if gap == n_cols:                         # right margin: lanes start after the last column
            left = col_x[-1] + col_w[-1] + 14
            return left + lane_order[(gap, i)] * LANE
        left = (col_x[gap - 1] + col_w[gap - 1]) if gap > 0 else 0
        right = col_x[gap] if gap < n_cols else left + gap_w[gap]
        mid = (left + right) / 2
        return mid + (lane_order[(gap, i)] - (lanes[gap] - 1) / 2) * LANE

    legend_y = max([bottom] + [y + 14 for y in used_y]) + 20
    legend = _legend(boxes.values(), legend_y) if boxes else ""
    height = int(math.ceil(legend_y + (8 if legend else 0) + MARGIN - 12))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="{FONT_SIZE}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']

    # connectors first: boxes sit on top of any line end
    out.append('<g class="relationships" fill="none" stroke="' + LINE + '" stroke-width="1.3">')
    for n, (ck, fk, pk, kind, lane_ids, yc, yp, yf) in enumerate(routes):
        child, parent = boxes[ck], boxes[pk]
        if kind == "loop":
            x0, x1 = child.x + child.width, parent.x + parent.width
            lx = lane_x(*lane_ids[0])
            pts = [(x0, yc), (lx, yc), (lx, yp), (x1, yp)]
            dc, dp = 1, 1
        else:
            if kind == "left":
                x0, x1, dc, dp = child.x, parent.x + parent.width, -1, 1
            else:
                x0, x1, dc, dp = child.x + child.width, parent.x, 1, -1
            if yf is None:
                lx = lane_x(*lane_ids[0])
                pts = [(x0, yc), (lx, yc), (lx, yp), (x1, yp)]
            else:
                la, lb = lane_x(*lane_ids[0]), lane_x(*lane_ids[1])
                pts = [(x0, yc), (la, yc), (la, yf), (lb, yf), (lb, yp), (x1, yp)]
        title = (f"{_qualified(child.table)}({', '.join(fk.columns)}) → {_qualified(parent.table)}"
                 f"({', '.join(fk.ref_columns)})" + (f" ON DELETE {fk.on_delete}" if fk.on_delete else ""))
        d = "M" + " L".join(f"{_n(px)} {_n(py)}" for px, py in pts)
        out.append(f'<g class="fk" data-from="{_attr(_qualified(child.table))}" '
                   f'data-to="{_attr(_qualified(parent.table))}"><title>{escape(title)}</title>')
        out.append(f'<path d="{d}"/>')
        out.append(_end_marker(x0, yc, dc, many=not _fk_unique(child.table, fk), optional=True,
                               half=port_half.get((n, "child"), 6)))
        out.append(_end_marker(x1, yp, dp, many=False, optional=_fk_nullable(child.table, fk),
                               half=port_half.get((n, "parent"), 6)))
        out.append("</g>")
    out.append("</g>")

    for k in keys:
        out.append(_box_svg(boxes[k]))
    if legend:
        out.append(legend)
    out.append("</svg>")
    return "\n".join(out) + "\n"


MEANING = {"PK": "primary key", "FK": "foreign key", "UK": "unique"}


def _badge(marks: list[str]) -> str:
    """A column's key badge: PK, FK or UK; two keys as their initials ("PF": primary and foreign key)."""
    return marks[0] if len(marks) == 1 else marks[0][0] + marks[1][0]


def _legend(boxes, y: float) -> str:
    """One line under the diagram: what each badge it shows means, and what bold names say."""
    used = {_badge(m): m for b in boxes for c in b.table.columns if (m := _markers(b.table, c))}
    entries = [f"{label} {', '.join(MEANING[m] for m in marks)}" for label, marks in
               sorted(used.items(), key=lambda item: (len(item[1]), ["PK", "FK", "UK"].index(item[1][0]), item[0]))]
    entries.append("bold name: NOT NULL")
    out, x = [], MARGIN
    for entry in entries:
        out.append(f'<text class="legend" x="{_n(x)}" y="{_n(y)}" fill="#4a5568" font-size="11">{escape(entry)}</text>')
        x += _text_w(entry) * 11 / FONT_SIZE + 18
    return "\n".join(out)


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _end_marker(x: float, y: float, d: int, *, many: bool, optional: bool, half: float = 6) -> str:
    """Crow's-foot notation at a box edge; ``d`` is the direction the line leaves the box (+1 right);
    ``half`` is its half height (smaller where ports sit PORT_GAP apart)."""
    parts = []
    if many:
        tip = x + d * 12
        parts.append(f'<path d="M{_n(tip)} {_n(y)} L{_n(x)} {_n(y - half)} M{_n(tip)} {_n(y)} L{_n(x)} {_n(y)} '
                     f'M{_n(tip)} {_n(y)} L{_n(x)} {_n(y + half)}"/>')
        bar_x = x + d * 16
    else:
        parts.append(f'<path d="M{_n(x + d * 7)} {_n(y - half)} L{_n(x + d * 7)} {_n(y + half)}"/>')
        bar_x = x + d * 12
    if optional:
        cx = bar_x + d * 4
        parts.append(f'<circle cx="{_n(cx)}" cy="{_n(y)}" r="{_n(min(4, half))}" fill="#ffffff"/>')
    else:
        parts.append(f'<path d="M{_n(bar_x)} {_n(y - half)} L{_n(bar_x)} {_n(y + half)}"/>')
    return "".join(parts)


def _box_svg(box: _Box) -> str:
    t, x, y, w = box.table, box.x, box.y, box.width
    name = _qualified(t)
    out = [f'<g class="table" id="table-{box.index}" data-table="{_attr(name)}">',
           f'<rect x="{_n(x)}" y="{_n(y)}" width="{w}" height="{box.height}" rx="4" fill="#ffffff" '
           f'stroke="{HEAD_FILL}" stroke-width="1.2"/>',
           f'<path d="M{_n(x)} {_n(y + HEAD_H)} L{_n(x)} {_n(y + 4)} Q{_n(x)} {_n(y)} {_n(x + 4)} {_n(y)} '
           f'L{_n(x + w - 4)} {_n(y)} Q{_n(x + w)} {_n(y)} {_n(x + w)} {_n(y + 4)} L{_n(x + w)} '
           f'{_n(y + HEAD_H)} Z" fill="{HEAD_FILL}"/>',
           f'<text x="{_n(x + PAD)}" y="{_n(y + HEAD_H / 2 + 4.5)}" fill="#ffffff" font-weight="bold">'
           f'{escape(name)}</text>']
    for i, col in enumerate(t.columns):
        top, row_h = box.tops[i]
        ry = y + top
        if i % 2:
            out.append(f'<rect x="{_n(x + 1)}" y="{_n(ry)}" width="{w - 2}" height="{row_h}" fill="#f1f4f6"/>')
        base = ry + row_h / 2 + 4.2
        marks = _markers(t, col)
        if marks:
            color = "#b7791f" if marks[0] == "PK" else ("#2b6cb0" if marks[0] == "FK" else "#6b46c1")
            label = _badge(marks)
            out.append(f'<text x="{_n(x + PAD)}" y="{_n(base)}" fill="{color}" font-size="10" '
                       f'font-weight="bold">{label}</text>')
        weight = ' font-weight="bold"' if not col.nullable else ""
        out.append(f'<text x="{_n(x + PAD + MARK_W)}" y="{_n(base)}" fill="#1a202c"{weight}>'
                   f'{escape(col.name)}</text>')
        out.append(f'<text x="{_n(x + w - PAD)}" y="{_n(base)}" fill="#718096" text-anchor="end">'
                   f'{escape(short_type(col.type))}</text>')
    if not t.columns:
        out.append(f'<text x="{_n(x + PAD)}" y="{_n(y + HEAD_H + 14)}" fill="#a0aec0">(no columns)</text>')
    out.append("</g>")
    return "\n".join(out)
