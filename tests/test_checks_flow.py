"""Issue 3's done criteria through the magics: a recorded backend-dev answer renders every tab and
passes every check (PostgreSQL decides, DuckDB holds its lowered copy); a missing table reference and
a hard-coded key each fail with the exact reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

import agentnb
from agentnb.testing.server import text

ANSWERS = Path(__file__).parent / "data" / "answers"
LIBRARY = (ANSWERS / "library.md").read_text()

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_or_skip():
    from agentnb.checks import postgres

    try:
        postgres.get_server()
    except postgres.NoPostgresError as err:
        pytest.skip(str(err))


@pytest.fixture
def ip(workdir, postgres_or_skip, monkeypatch):
    monkeypatch.setenv("AGENTNB_DISPLAY", "static")
    shell = InteractiveShell.instance()
    shell.run_line_magic("reload_ext", "agentnb")
    return shell


class Outputs:
    """What the cell displayed, captured from IPython's display publisher."""

    def __init__(self, shell, monkeypatch):
        self.items = []
        pub = shell.display_pub

        def publish(data, metadata=None, **kwargs):
            self.items.append((data, metadata or {}, kwargs))
        monkeypatch.setattr(pub, "publish", publish)

    def find(self, mime, needle=""):
        return [d for d, m, _ in self.items if mime in d and needle in d[mime]]


def test_good_answer_renders_every_tab_and_passes_every_check(ip, api, monkeypatch):
    shown = Outputs(ip, monkeypatch)
    api.enqueue(text(LIBRARY))
    r = ip.run_cell_magic("backend_dev", "", "A lending library.")
    failed = [c for c in r.checks if c.status != "passed"]
    assert not failed, failed
    names = [c.name for c in r.checks]
    for expected in ("Schema on PostgreSQL", "Schema on DuckDB", "Migration 0002_add_fines up/down",
                     "OpenAPI contract", "Request examples match the contract", "No hard-coded secrets",
                     "Environment variables listed", "Answer format"):
        assert expected in names
    # answer first, then the tabs, then the ER diagram
    *streamed, answer = shown.find("text/markdown", "Voici une proposition")   # stream updates, then final
    assert "Points d'attention" in answer["text/markdown"] and "claude-sonnet-5-5" in answer["text/markdown"]
    [panel] = shown.find("text/html", "Checks")
    for tab in ("Schema", "Migrations", "Code", "API", "Examples", "Checks"):
        assert f">{tab}</summary>" in panel["text/html"] or f">{tab} <span" in panel["text/html"]
    assert "src='data:image/svg+xml;base64," in panel["text/html"] and "/loans/{loan_id}/return" in panel["text/html"]
    [diagram] = shown.find("text/markdown", "```mermaid")
    assert diagram["text/markdown"].startswith("```mermaid\nerDiagram") and "loans" in diagram["text/markdown"]
    assert shown.items.index(next(i for i in shown.items if i[0] is answer)) < \
        shown.items.index(next(i for i in shown.items if i[0] is panel))
    # metadata tools can read from the .ipynb
    meta = next(m for d, m, _ in shown.items if d is panel)["agentnb"]
    assert {c["name"] for c in meta["checks"]} == set(names) and meta["artifacts"]
    # the next cell can use the artifacts and the lowered schema
    assert "CREATE TABLE loans" in r.schema and r.openapi["openapi"].startswith("3.1")
    assert {t.name for t in r.schema_model.tables} >= {"members", "books", "copies", "loans", "reservations"}
    tables = {row[0] for row in agentnb.schema_db().sql(
        "select table_name from duckdb_tables()").fetchall()}
    assert tables >= {"members", "books", "loans"}


def test_missing_table_reference_fails_with_the_servers_message(ip, api):
    api.enqueue(text("## Schéma\n\n```sql\n-- schema.sql\nCREATE TABLE loans (\n  id bigint PRIMARY KEY,\n"
                     "  member_id bigint NOT NULL REFERENCES members (id)\n);\n```\n"))
    r = ip.run_cell_magic("backend_dev", "", "x")
    [pg] = [c for c in r.checks if c.name == "Schema on PostgreSQL"]
    assert pg.status == "failed" and 'relation "members" does not exist' in pg.message
    assert pg.details["line"] == 4
    with pytest.raises(agentnb.AgentnbError, match="No valid schema"):
        agentnb.schema_db()


def test_hard_coded_key_fails_with_file_and_line(ip, api):
    api.enqueue(text((ANSWERS / "bad_secrets.md").read_text()))
    r = ip.run_cell_magic("backend_dev", "", "x")
    [secrets] = [c for c in r.checks if c.name.startswith("No hard-coded secrets") or "secret" in c.name.lower()]
    assert secrets.status == "failed" and ".py" in secrets.message and "line" in secrets.message


def test_fix_sends_the_exact_errors_back_until_checks_pass(ip, api):
    bad = "```sql\n-- schema.sql\nCREATE TABLE loans (id bigint PRIMARY KEY, member_id bigint REFERENCES members (id));\n```\n"
    good = ("```sql\n-- schema.sql\nCREATE TABLE members (id bigint PRIMARY KEY);\n"
            "CREATE TABLE loans (id bigint PRIMARY KEY, member_id bigint REFERENCES members (id));\n```\n")
    api.enqueue(text(bad), text(good))
    r = ip.run_cell_magic("backend_dev", "--fix 2 --no-stream", "schema please")
    assert len(api.message_requests) == 2
    sent = api.message_requests[-1].body["messages"][-1]["content"][-1]["text"]
    assert 'relation "members" does not exist' in sent
    assert [c.status for c in r.checks if c.name == "Schema on PostgreSQL"] == ["passed"]
    assert "--fix round 1" in r.warnings[0]


def test_schema_evolution_shows_the_diff_and_the_implied_migration(ip, api):
    v1 = "```sql\n-- schema.sql\nCREATE TABLE members (id bigint PRIMARY KEY, email text NOT NULL);\n```\n"
    v2 = ("```sql\n-- schema.sql\nCREATE TABLE members (id bigint PRIMARY KEY, email text NOT NULL, "
          "phone text);\nCREATE INDEX members_email_idx ON members (email);\n```\n")
    api.enqueue(text(v1), text(v2))
    ip.run_cell_magic("backend_dev", "", "v1")
    r = ip.run_cell_magic("backend_dev", "", "v2")
    [diff] = [c for c in r.checks if c.name.startswith("Schema changes")]
    assert diff.status == "passed" and any("phone" in d for d in diff.details["differences"])
    assert "phone" in r.check_report.implied_migration["up"]
    assert "phone" in r.check_report.implied_migration["down"]


def test_apply_writes_named_files_and_never_outside(ip, api, workdir):
    api.enqueue(text(LIBRARY))
    ip.run_cell_magic("backend_dev", "--apply out --no-check", "x")
    assert (workdir / "out" / "db" / "schema.sql").read_text().startswith("-- db/schema.sql")
    assert (workdir / "out" / "app" / "main.py").is_file()
    api.enqueue(text("```python\n# ../escape.py\nprint(1)\n```\n"))
    with pytest.raises(agentnb.AgentnbError, match="outside"):
        ip.run_cell_magic("backend_dev", "--apply out --no-check", "y")
    assert not (workdir / "escape.py").exists()


def test_widgets_on_request_under_a_jupyter_server_keep_the_static_fallback(ip, api, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "design.ipynb")
    shown = Outputs(ip, monkeypatch)
    api.enqueue(text(LIBRARY), text(LIBRARY))
    ip.run_cell_magic("backend_dev", "--no-stream", "x")
    [static] = shown.find("text/html", "Checks")      # by default: static tabs, even in JupyterLab
    assert "application/vnd.jupyter.widget-view+json" not in static
    monkeypatch.setenv("AGENTNB_DISPLAY", "widgets")
    shown.items.clear()
    ip.run_cell_magic("backend_dev", "--no-stream --new", "x")
    [panel] = shown.find("text/html", "Checks")
    assert "application/vnd.jupyter.widget-view+json" in panel
    assert panel["text/plain"].startswith("artifacts: ")        # agentnb's summary, not the widget's repr
    for data, meta, _ in shown.items:     # every output: a text/plain form and agentnb metadata
        assert "text/plain" in data and "agentnb" in meta


def test_markdown_keeps_dollars_out_of_mathematics(ip, api, monkeypatch):
    shown = Outputs(ip, monkeypatch)
    api.enqueue(text("Une amende de 0,20 $ par jour et 10 $ au plus.\n\n```bash\necho $HOME\n```\n"))
    r = ip.run_cell_magic("backend_dev", "--no-stream", "x")
    *_, answer = shown.find("text/markdown", "amende")
    dollar = '<span class="mathjax_ignore">&#36;</span>'
    assert f"0,20 {dollar} par jour et 10 {dollar}" in answer["text/markdown"]
    # the code block is HTML: its dollar an entity that MathJax never sees, without the ignore span
    assert "&#36;HOME" in answer["text/markdown"] and "$" not in answer["text/markdown"].split("---")[-1]
    assert "echo $HOME" in r.text and "10 $ au plus" in r.text          # the text itself is untouched


def test_the_panel_opens_on_the_first_tab_with_something_in_it(ip, api, monkeypatch):
    from agentnb.render import panel as panels

    shown = Outputs(ip, monkeypatch)
    api.enqueue(text("```bash\ncurl -X GET http://localhost:8000/books\n```\n"))
    r = ip.run_cell_magic("backend_dev", "--no-stream", "x")
    [panel] = shown.find("text/html", "Checks")
    failed = sum(c.status == "failed" for c in r.checks)
    assert failed                     # a bare curl block misses the answer format: Checks opens, in red
    opened = panel["text/html"].split("<details open")[1].split("</summary>")[0]
    assert ">Checks <span" in opened and f"{failed} failed</span>" in opened
    section = "<details open style='border:"        # a section, not a family of checks inside one
    assert panel["text/html"].count(section) == 1
    r.check_report = None             # nothing failed: the first section with something in it
    opened = panels.panel_html(r).split("<details open")[1].split("</summary>")[0]
    assert opened.endswith(">Examples") and panels.panel_html(r).count(section) == 1


def test_apply_keeps_dot_files_and_expands_home(ip, api, workdir):
    api.enqueue(text("```dotenv\n# ./.env.example\nDATABASE_URL=postgresql://localhost/app\n```\n"
                     "```yaml\n# ./.github/workflows/ci.yml\nname: ci\n```\n"))
    ip.run_cell_magic("backend_dev", "--apply ~/proj --no-check", "x")
    home = Path(workdir / "home")
    assert (home / "proj" / ".env.example").is_file() and (home / "proj" / ".github" / "workflows" / "ci.yml").is_file()


def test_new_and_reset_forget_the_previous_schema(ip, api):
    v1 = "```sql\n-- schema.sql\nCREATE TABLE members (id bigint PRIMARY KEY);\n```\n"
    v2 = "```sql\n-- schema.sql\nCREATE TABLE rooms (id bigint PRIMARY KEY);\n```\n"
    api.enqueue(text(v1), text(v2), text(v2))
    ip.run_cell_magic("backend_dev", "", "v1")
    r = ip.run_cell_magic("backend_dev", "--new", "another project")
    assert not [c for c in r.checks if c.name.startswith("Schema changes")]     # nothing to compare with
    assert {t for (t,) in agentnb.schema_db().sql("select table_name from duckdb_tables()").fetchall()} == {"rooms"}
    ip.run_line_magic("agentnb", "reset")
    with pytest.raises(agentnb.AgentnbError, match="No valid schema"):
        agentnb.schema_db()
