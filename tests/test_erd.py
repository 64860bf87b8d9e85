"""erd: Mermaid erDiagram and standalone SVG from a dbschema.Schema."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from agentnb.render import erd
from agentnb.checks.schema import Column, ForeignKey, Index, Schema, Table

SVG_NS = "{http://www.w3.org/2000/svg}"


def library() -> Schema:
    authors = Table("authors", [Column("id", "bigint", False), Column("name", "text", False)],
                    primary_key=["id"])
    books = Table("books", [Column("id", "bigint", False), Column("author_id", "bigint", False),
                            Column("tags", "text[]"), Column("price", "numeric(10,2)"),
                            Column("published_at", "timestamp with time zone")],
                  primary_key=["id"], foreign_keys=[ForeignKey(["author_id"], "authors", ["id"],
                                                               on_delete="CASCADE")])
    members = Table("members", [Column("id", "uuid", False), Column("email", "character varying(200)", False)],
                    primary_key=["id"], unique=[["email"]])
    loans = Table("loans", [Column("id", "bigint", False), Column("book_id", "bigint", False),
                            Column("member_id", "uuid", True)],
                  primary_key=["id"],
                  foreign_keys=[ForeignKey(["book_id"], "books", ["id"]),
                                ForeignKey(["member_id"], "members", ["id"], on_delete="SET NULL")])
    profiles = Table("profiles", [Column("member_id", "uuid", False), Column("bio", "text")],
                     primary_key=["member_id"],
                     foreign_keys=[ForeignKey(["member_id"], "members", ["id"])])
    cards = Table("cards", [Column("id", "bigint", False), Column("member_id", "uuid", True)],
                  primary_key=["id"], foreign_keys=[ForeignKey(["member_id"], "members", ["id"])],
                  indexes=[Index("cards_member_key", ["member_id"], unique=True)])
    return Schema([authors, books, members, loans, profiles, cards], {"loan_status": ["a", "b"]})


def test_mermaid_entities_and_columns():
    text = erd.mermaid(library())
    assert text.startswith("erDiagram\n")
    for name in ("authors", "books", "members", "loans", "profiles", "cards"):
        assert re.search(rf"^    {name} {{$", text, re.M)
    assert "        bigint id PK" in text
    assert "        bigint author_id FK" in text
    assert "        varchar email UK" in text
    assert "        text_array tags" in text
    assert "        numeric price" in text
    assert "        timestamptz published_at" in text


def test_mermaid_relationship_cardinality():
    lines = erd.mermaid(library()).splitlines()
    assert '    authors ||..o{ books : "author_id"' in lines          # NOT NULL, many
    assert '    books ||..o{ loans : "book_id"' in lines
    assert '    members |o..o{ loans : "member_id"' in lines          # nullable FK: zero or one parent
    assert '    members ||--o| profiles : "member_id"' in lines       # FK is the PK: one-to-one, identifying
    assert '    members |o..o| cards : "member_id"' in lines          # unique index: one-to-one


def test_mermaid_types_are_safe_for_the_grammar():
    schema = Schema([Table("odd", [Column("x", "timestamp(3) with time zone"), Column("y", "decimal(19,2)[]"),
                                   Column("z", 'struct("a b" integer)'), Column("_weird name", "int"),
                                   Column("pk", "int")])])
    text = erd.mermaid(schema)
    body = [l.strip() for l in text.splitlines()[2:-1]]
    for line in body:
        type_, name = line.split()[:2]
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", type_), line
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name), line
    assert 'int weird_name "_weird name"' in text
    assert "timestamptz x" in text
    assert "int pk_" in text


def test_mermaid_quotes_entity_names_mermaid_would_misread():
    schema = Schema([Table("one_time_codes", [Column("id", "int")]), Table("2fa", [Column("id", "int")])])
    text = erd.mermaid(schema)
    assert '"one_time_codes" {' in text
    assert "t_2fa {" in text


def test_svg_well_formed_one_group_per_table():
    pic = erd.svg(library())
    root = ET.fromstring(pic)
    assert root.tag == SVG_NS + "svg"
    groups = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "table"]
    assert [g.get("data-table") for g in groups] == ["authors", "books", "members", "loans", "profiles",
                                                      "cards"]
    w, h = int(root.get("width")), int(root.get("height"))
    assert root.get("viewBox") == f"0 0 {w} {h}"
    fks = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "fk"]
    assert len(fks) == 5
    assert "<script" not in pic


def test_svg_layout_puts_referenced_tables_left():
    root = ET.fromstring(erd.svg(library()))
    x = {g.get("data-table"): float(g.find(SVG_NS + "rect").get("x"))
         for g in root.iter(SVG_NS + "g") if g.get("class") == "table"}
    assert x["authors"] < x["books"] < x["loans"]
    assert x["members"] < x["profiles"]


def test_svg_deterministic():
    assert erd.svg(library()) == erd.svg(library())


def test_svg_escapes_names():
    schema = Schema([Table("a<b&c", [Column('x"<y>', "text"), Column("id", "int", False)], primary_key=["id"]),
                     Table("child", [Column("p", "int")], foreign_keys=[ForeignKey(["p"], "a<b&c", ["id"])])])
    pic = erd.svg(schema)
    root = ET.fromstring(pic)
    assert "a&lt;b&amp;c" in pic
    texts = [t.text for t in root.iter(SVG_NS + "text")]
    assert "a<b&c" in texts and 'x"<y>' in texts


def tree_of_30() -> Schema:
    """30 tables, each referencing its parent in a binary tree; the root references itself."""
    tables = [Table("t0", [Column("id", "int", False), Column("parent_id", "int")], primary_key=["id"],
                    foreign_keys=[ForeignKey(["parent_id"], "t0", ["id"])])]
    for i in range(1, 30):
        tables.append(Table(f"t{i}", [Column("id", "int", False), Column("up", "int", False)],
                            primary_key=["id"], foreign_keys=[ForeignKey(["up"], f"t{(i - 1) // 2}", ["id"])]))
    return Schema(tables)


def test_svg_30_tables_and_self_reference():
    root = ET.fromstring(erd.svg(tree_of_30()))
    assert len([g for g in root.iter(SVG_NS + "g") if g.get("class") == "table"]) == 30
    assert len([g for g in root.iter(SVG_NS + "g") if g.get("class") == "fk"]) == 30
    assert int(root.get("width")) < 4000 and int(root.get("height")) < 4000


def test_empty_schema():
    assert erd.mermaid(Schema()) == "erDiagram\n"
    ET.fromstring(erd.svg(Schema()))


def test_from_duckdb_catalog():
    from agentnb.checks import duckdb as duckschema
    result = duckschema.load("CREATE TABLE a (id INT PRIMARY KEY); "
                             "CREATE TABLE b (id INT PRIMARY KEY, a_id INT NOT NULL REFERENCES a(id));")
    assert '    a ||..o{ b : "a_id"' in erd.mermaid(result.schema).splitlines()
    ET.fromstring(erd.svg(result.schema))


def design_library():
    """The design session's six-table library schema (members, books, copies, loans, reservations,
    fines), as DuckDB reflects the answer's DDL."""
    from pathlib import Path

    from agentnb.checks import duckdb as duckschema
    from agentnb.response import Response

    answer = Path(__file__).resolve().parents[1] / "data" / "answers" / "design_session" / "02.md"
    return duckschema.load(Response(text=answer.read_text(), agent="a", model="m", usage={}).schema).schema


def connector_segments(pic: str) -> list[list[tuple]]:
    """Each connector's line, as its segments ((x0, y0), (x1, y1))."""
    root = ET.fromstring(pic)
    found = []
    for g in root.iter(SVG_NS + "g"):
        if g.get("class") == "fk":
            points = [tuple(map(float, p.split())) for p in g.find(SVG_NS + "path").get("d")[1:].split(" L")]
            found.append(list(zip(points, points[1:])))
    return found


def shared(a, b, close=2.5) -> bool:
    """Two axis-parallel segments on (nearly) one line that overlap over some length: they read as one."""
    (ax0, ay0), (ax1, ay1) = a
    (bx0, by0), (bx1, by1) = b
    if ay0 == ay1 and by0 == by1 and abs(ay0 - by0) < close:
        lo, hi = max(min(ax0, ax1), min(bx0, bx1)), min(max(ax0, ax1), max(bx0, bx1))
        return hi - lo > 1
    if ax0 == ax1 and bx0 == bx1 and abs(ax0 - bx0) < close:
        lo, hi = max(min(ay0, ay1), min(by0, by1)), min(max(ay0, ay1), max(by0, by1))
        return hi - lo > 1
    return False


def test_no_two_connectors_share_a_segment():
    for schema in (design_library(), library(), tree_of_30()):
        lines = connector_segments(erd.svg(schema))
        assert len(lines) == sum(len(t.foreign_keys) for t in schema.tables)
        for i, one in enumerate(lines):
            for other in lines[i + 1:]:
                assert not any(shared(a, b) for a in one for b in other), (one, other)


def test_the_key_badges_have_a_legend():
    pic = erd.svg(design_library())
    root = ET.fromstring(pic)
    texts = [t.text for t in root.iter(SVG_NS + "text")]
    assert "FU" in texts                                 # fines.loan_id: a foreign key, unique
    legend = " ".join(t.text for t in root.iter(SVG_NS + "text") if t.get("class") == "legend")
    for words in ("PK primary key", "FK foreign key", "UK unique", "FU foreign key, unique"):
        assert words in legend
    assert "PF" not in legend                            # only the badges the diagram shows
