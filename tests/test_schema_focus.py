"""A schema over 40 tables (issue 11): the Schema tab shows the tables the answer changed and their
neighbours, with the whole diagram one click away; smaller schemas keep their one diagram."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

from agentnb.artifacts import extract
from agentnb.checks.result import PASSED, CheckResult
from agentnb.checks.schema import Column, ForeignKey, Schema, Table
from agentnb.render.panel import schema_tab


def chain(n: int) -> Schema:
    """t01 <- t02 <- ... : each table references the one before."""
    tables = []
    for i in range(1, n + 1):
        fks = [ForeignKey(["prev_id"], f"t{i - 1:02d}", ["id"])] if i > 1 else []
        cols = [Column("id", "bigint", False)] + ([Column("prev_id", "bigint", True)] if fks else [])
        tables.append(Table(f"t{i:02d}", cols, ["id"], fks))
    return Schema(tables)


def response(schema: Schema, changed: list[str], migration: str = "") -> SimpleNamespace:
    diff = CheckResult("Schema changes", PASSED, "", {"changes": [{"table": t} for t in changed]})
    return SimpleNamespace(artifacts=extract(migration), schema_model=schema,
                           check_report=SimpleNamespace(diff=diff))


def diagrams(html: str) -> list[set[str]]:
    """The tables drawn in each diagram image of the tab, in order."""
    return [set(re.findall(r'data-table="([^"]+)"', base64.b64decode(data).decode()))
            for data in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html)]


def test_a_large_schema_shows_the_changed_tables_and_their_neighbours_then_the_whole():
    html = schema_tab(response(chain(60), ["t30"]))
    focus, whole = diagrams(html)
    assert focus == {"t29", "t30", "t31"} and len(whole) == 60
    # the whole one folded: inside <details>, behind its summary
    assert "3 of 60" in html and "<details" in html.split("data:image")[1]
    assert "<summary>The whole diagram (60 tables)</summary>" in html


def test_without_a_diff_the_migration_names_the_tables():
    answer = "```sql\n-- migrations/002_up.sql\nALTER TABLE t10 ADD COLUMN note text;\n```\n"
    html = schema_tab(response(chain(45), [], answer))
    assert diagrams(html)[0] == {"t09", "t10", "t11"}


def test_nothing_changed_in_particular_keeps_the_whole_diagram_folded():
    html = schema_tab(response(chain(45), []))
    assert len(diagrams(html)) == 1 and "<details" in html and "changed none in particular" in html


def test_forty_tables_stay_one_diagram():
    html = schema_tab(response(chain(40), ["t30"]))
    assert [len(d) for d in diagrams(html)] == [40] and "<details" not in html
