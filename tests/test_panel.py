"""The panel under an answer, as a reader sees it: the Checks tab grouped by family with counts (HTML and
text, and the metadata ``agentnb run`` reads), the API tab listing REST, GraphQL and gRPC operations."""

from __future__ import annotations

import re

import pytest

from agentnb.checks import CheckReport
from agentnb.checks.result import CheckResult
from agentnb.render import metadata, panel
from agentnb.response import Response


def _response(text: str = "", rows=()) -> Response:
    r = Response(text=text, agent="backend-dev", model="claude-sonnet-5-5", usage={})
    r.check_report = CheckReport(rows=list(rows))
    return r


ROWS = [CheckResult("SQL syntax: db/schema.sql", "passed", "3 statements parsed"),
        CheckResult("Schema on PostgreSQL", "passed", "2 tables"),
        CheckResult("Schema on DuckDB", "skipped", "no DuckDB"),
        CheckResult("OpenAPI contract", "passed", "valid OpenAPI 3.1.0"),
        CheckResult("Request examples match the contract", "failed", "curl line 3: GET /nope not in the contract"),
        CheckResult("Python syntax: app/main.py", "passed", "12 lines compile"),
        CheckResult("No hard-coded secrets", "failed", "app/settings.py line 2: an API key"),
        CheckResult("Environment variables listed", "passed", "2 variables"),
        CheckResult("MongoDB indexes: db/indexes.js", "passed", "2 indexes")]


def _family_headings(html: str) -> list[str]:
    return re.findall(r"<summary style='cursor:pointer;font-weight:600'>(.*?) <span", html)


def test_checks_tab_groups_rows_under_family_headings_with_counts_failed_first():
    html = panel.checks_tab(_response(rows=ROWS))
    headings = _family_headings(html)
    # families with a failure first, then the usual order; a check no table lists gets its first word
    assert headings == ["OpenAPI / HTTP", "Secrets &amp; env", "SQL / PostgreSQL", "DuckDB", "MongoDB", "Code"]
    sections = html.split("<details")[1:]
    openapi = next(s for s in sections if "OpenAPI / HTTP" in s)
    assert "1 passed" in openapi and ">1 failed</span>" in openapi            # the failed count is a red badge
    assert "OpenAPI contract" in openapi and "GET /nope" in openapi and "Schema on" not in openapi
    sql = next(s for s in sections if "SQL / PostgreSQL" in s)
    assert "2 passed" in sql and "failed" not in sql.split("</summary>")[0]
    assert "1 skipped" in next(s for s in sections if ">DuckDB" in s)


def test_checks_text_groups_rows_the_same_way():
    text = panel.panel_text(_response(rows=ROWS))
    lines = text.splitlines()
    assert lines[1] == "checks: 6 passed, 2 failed, 1 skipped"
    headings = [ln.strip() for ln in lines if ln.startswith("  ") and not ln.startswith("    ")]
    assert headings == ["OpenAPI / HTTP (1 passed, 1 failed)", "Secrets & env (1 passed, 1 failed)",
                        "SQL / PostgreSQL (2 passed)", "DuckDB (1 skipped)", "MongoDB (1 passed)", "Code (1 passed)"]
    under_sql = lines[lines.index("  SQL / PostgreSQL (2 passed)") + 1]
    assert under_sql == "    ✅ SQL syntax: db/schema.sql: 3 statements parsed"


def test_a_check_may_name_its_family_and_the_metadata_carries_it():
    rows = [CheckResult("Cache keys", "passed", "ok", {"family": "Redis"}), *ROWS[:2]]
    r = _response(rows=rows)
    assert _family_headings(panel.checks_tab(r)) == ["SQL / PostgreSQL", "Redis"]
    meta = metadata.for_panel(r)
    assert [c["family"] for c in meta["agentnb"]["checks"]] == ["Redis", "SQL / PostgreSQL", "SQL / PostgreSQL"]
    # what agentnb run reads back: the family, and for an output saved before it existed, from the name
    assert [c["family"] for c in metadata.read(meta).checks] == ["Redis", "SQL / PostgreSQL", "SQL / PostgreSQL"]
    old = {"agentnb": {"checks": [{"name": "Migration 0002 up/down", "status": "ok", "message": ""}]}}
    assert metadata.read(old).checks == [{"name": "Migration 0002 up/down", "status": "passed", "message": "",
                                          "family": "Migrations"}]


def test_no_checks_no_headings():
    assert panel.checks_tab(_response(rows=[])).startswith(panel.EMPTY)


THREE = (__import__("pathlib").Path(__file__).parent / "data" / "answers" / "three_protocols.md").read_text()


def _tables(html: str) -> dict[str, list[list[str]]]:
    """Each protocol heading's table rows, as text."""
    out = {}
    for part in html.split("<h4")[1:]:
        heading = re.sub(r"<[^>]+>", "", "<h4" + part.split("</h4>")[0] + "</h4>")
        rows = re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>")[1]) if "<tbody>" in part else []
        out[heading] = [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows]
    return out


def _checked(text: str) -> Response:
    """A response whose checks ran on its artifacts, as a cell's do (the API tab reads what they read)."""
    from agentnb import checks

    r = Response(text=text, agent="backend-dev", model="claude-sonnet-5-5", usage={})
    r.check_report = checks.run(r.artifacts, answer_text=text, sql=False)
    return r


def test_api_tab_lists_rest_graphql_and_grpc_with_the_same_columns():
    html = panel.api_tab(_checked(THREE))
    unchecked = Response(text=THREE, agent="backend-dev", model="claude-sonnet-5-5", usage={})
    assert panel.api_tab(unchecked) == html              # --no-check: the tab reads the artifacts itself
    tables = _tables(html)
    assert list(tables) == ["REST (OpenAPI)", "GraphQL", "gRPC"]
    assert html.count("<th style='text-align:left;vertical-align:top;padding:2px 8px;word-break:normal;"
                      "overflow-wrap:break-word'>operation</th>") == 3
    assert tables["REST (OpenAPI)"] == [["GET /books/{id}", "path id", "200, 404", "One book"]]
    assert tables["GraphQL"] == [["query book", "id: ID!", "Book", "One book by its id"],
                                 ["mutation addBook", "title: String!", "Book!", ""]]
    assert tables["gRPC"] == [["rpc GetBook", "library.v1.GetBookRequest", "library.v1.Book", ""],
                              ["rpc WatchBooks", "library.v1.GetBookRequest", "stream library.v1.Book", ""]]
    assert "service library.v1.LibraryService" in html and "Library 1.0" in html


def test_api_tab_shows_what_builds_and_says_when_nothing_is_there():
    broken = THREE.replace("type Book { id: ID! title: String! }", "type Book { id: Nope }")
    tables = _tables(panel.api_tab(_checked(broken)))
    assert list(tables) == ["REST (OpenAPI)", "gRPC"]          # the SDL does not build: its row says why
    assert panel.api_tab(_response("Just prose.")).startswith(panel.EMPTY)


def test_an_alias_bomb_contract_is_refused_by_the_api_tab_too():
    bomb = "openapi: 3.1.0\n" + "\n".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]"
                                          for i in range(1, 12)).replace("*l0", "x")
    html = panel.api_tab(_response(f"```yaml\n# openapi.yaml\n{bomb}\n```\n"))
    assert "nothing readable" in html and "openapi.yaml" in html


ASYNCAPI = """```yaml
# asyncapi.yaml
asyncapi: 3.0.0
info: {title: Loans events, version: "1.0"}
channels:
  loanDue:
    address: loans.due
    messages:
      LoanDue: {payload: {type: object}}
operations:
  notifyLoanDue:
    action: send
    channel: {$ref: '#/channels/loanDue'}
    summary: A loan is due tomorrow
```
"""


def test_api_tab_lists_asyncapi_operations_beside_the_others():
    pytest.importorskip("agentnb.checks.asyncapi")
    tables = _tables(panel.api_tab(_checked(THREE + ASYNCAPI)))
    assert list(tables) == ["REST (OpenAPI)", "GraphQL", "gRPC", "AsyncAPI"]
    assert tables["AsyncAPI"] == [["send loans.due", "", "LoanDue", "notifyLoanDue · A loan is due tomorrow"]]
