"""Artifact extraction on realistic answers (tests/data/answers/) and on small inline cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentnb import artifacts as art
from agentnb.artifacts import Artifact, Artifacts, EnvVar, MigrationPair, extract, register_kind

ANSWERS = Path(__file__).parent / "data" / "answers"


def load(name: str) -> str:
    return (ANSWERS / name).read_text(encoding="utf-8")


def loaded(name: str) -> tuple[str, Artifacts]:
    """An answer file's text and its artifacts."""
    text = load(name)
    return text, extract(text)


def assert_exact(answer: str, a: Artifact) -> None:
    """``code`` is the answer's text from line ``a.line`` on, byte for byte (less the indentation of
    a fence nested in a list item)."""
    if a.code == "":
        return
    lines = answer.split("\n")
    fence = lines[a.line - 2] if a.line >= 2 else ""
    indent = len(fence) - len(fence.lstrip(" ")) if fence.lstrip().startswith(("```", "~~~")) else 0
    n = a.code.count("\n") + (0 if a.code.endswith("\n") else 1)
    body = [line[indent:] for line in lines[a.line - 1:a.line - 1 + n]]
    expected = "\n".join(body) + ("\n" if a.code.endswith("\n") else "")
    assert a.code == expected
    if not indent:
        assert a.code in answer


# --- library.md: the canonical good answer --------------------------------------------------------

@pytest.fixture(scope="module")
def library():
    return loaded("library.md")


def test_library_kinds_filenames_titles(library):
    _, arts = library
    assert [(a.kind, a.language, a.filename) for a in arts] == [
        ("schema", "sql", "db/schema.sql"),
        ("migration", "sql", "migrations/0002_add_fines.up.sql"),
        ("migration", "sql", "migrations/0002_add_fines.down.sql"),
        ("query", "sql", None),
        ("python", "python", "app/models.py"),
        ("python", "python", "app/main.py"),
        ("openapi", "yaml", "openapi.yaml"),
        ("example", "bash", None),
    ]
    assert [a.index for a in arts] == list(range(8))
    assert arts[0].title == "1. Schéma PostgreSQL"
    assert arts[1].title == "2. Migration 0002 — amendes de retard"
    assert arts[4].title == "Modèles SQLAlchemy"
    assert arts[5].title == "Points d'entrée"
    assert arts[7].title == "6. Exemples"


def test_library_code_is_byte_exact_and_lines(library):
    text, arts = library
    assert arts[0].line == 19
    assert text.split("\n")[18] == "-- db/schema.sql"
    for a in arts:
        assert a.code in text
        assert_exact(text, a)
        assert not a.code.startswith("```")
    # the path comment stays in the code
    assert arts[5].code.startswith("# app/main.py\nimport os\n")


def test_library_views(library):
    _, arts = library
    assert isinstance(arts, list) and len(arts) == 8
    assert arts.schema is not None
    assert arts.schema.count("CREATE TABLE") == 5
    assert "CREATE TYPE loan_status AS ENUM" in arts.schema
    (pair,) = arts.migrations
    assert pair.id == "0002_add_fines"
    assert pair.up.direction == "up" and pair.up.filename.endswith(".up.sql")
    assert pair.down.direction == "down" and "DROP TABLE fines" in pair.down.code
    assert pair.up.pair == pair.down.pair == "0002_add_fines"
    assert arts.openapi is arts[6]
    assert arts.examples == [arts[7]]
    assert [a.filename for a in arts.code] == ["app/models.py", "app/main.py"]
    assert [a.filename for a in arts.files] == [
        "db/schema.sql", "migrations/0002_add_fines.up.sql", "migrations/0002_add_fines.down.sql",
        "app/models.py", "app/main.py", "openapi.yaml"]
    assert arts.file("./app/main.py") is arts[5]
    assert arts.by_kind("query")[0].code.startswith("SELECT m.email")


def test_library_env_from_table(library):
    _, arts = library
    assert [(e.name, e.source) for e in arts.env] == [
        ("DATABASE_URL", "table"), ("LOAN_DURATION_DAYS", "table"),
        ("MAX_ACTIVE_LOANS", "table"), ("LOG_LEVEL", "table")]
    db = arts.env[0]
    assert db.description == "URL SQLAlchemy de la base PostgreSQL"
    assert db.example == "postgresql+psycopg://library:library@localhost:5432/library"
    assert arts.env[1].example == "21"


def test_library_is_coherent(library):
    """What other checks rely on: the Python compiles, the DDL asks for what the brief asks, the
    contract is complete and every curl example hits one of its paths."""
    yaml = pytest.importorskip("yaml")
    _, arts = library
    for a in arts.code:
        compile(a.code, a.filename, "exec")
    ddl = arts.schema
    for needle in ("GENERATED ALWAYS AS IDENTITY", "AS ENUM", "JSONB", "TEXT[]", "ON DELETE CASCADE",
                   "WHERE status = 'active'", "INTERVAL '21 days'", ">= 5"):
        assert needle in ddl
    spec = yaml.safe_load(arts.openapi.code)
    assert spec["openapi"].startswith("3.1")
    ops = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(ops) == 7
    for path, method, op in ops:
        assert op.get("summary") and op.get("description") and op.get("responses"), (path, method)
    patterns = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in spec["paths"]]
    calls = re.findall(r"curl[^\n]*?(?:-X (\w+) )?'?http://localhost:8000(/[^\s?']*)", arts.examples[0].code)
    assert len(calls) == 6
    for method, path in calls:
        template = next((p for rx, p in patterns if rx.match(path)), None)
        assert template, f"{path} is not in the contract"
        assert (method or "GET").lower() in spec["paths"][template]


def test_library_openapi_validates(library):
    validator = pytest.importorskip("openapi_spec_validator")
    yaml = pytest.importorskip("yaml")
    validator.validate(yaml.safe_load(library[1].openapi.code))


@pytest.mark.postgres
def test_library_sql_runs_on_postgres(library):
    """The canonical answer's SQL really runs on PostgreSQL: schema, query, up, down, up again, in a
    transaction that is rolled back."""
    from agentnb.checks import postgres

    try:
        server = postgres.get_server()
    except postgres.NoPostgresError as err:
        pytest.skip(str(err))
    _, arts = library
    with server.connect() as conn:
        try:
            conn.execute("CREATE SCHEMA agentnb_artifacts_test")
            conn.execute("SET LOCAL search_path TO agentnb_artifacts_test")
            conn.execute(arts.schema)
            conn.execute(arts.by_kind("query")[0].code)
            pair = arts.migrations[0]
            for step in (pair.up, pair.down, pair.up):
                conn.execute(step.code)
        finally:
            conn.rollback()


# --- nest_prisma.md ------------------------------------------------------------------------------

def test_nest_prisma_answer():
    text = load("nest_prisma.md")
    arts = extract(text)
    assert [(a.kind, a.language, a.filename) for a in arts] == [
        ("prisma", "prisma", "prisma/schema.prisma"),                  # ```prisma title="..."
        ("migration", "sql", "prisma/migrations/20240501120000_init/migration.sql"),   # ```sql:path
        ("typescript", "typescript", "src/loans/loans.service.ts"),   # **`path`** line before
        ("typescript", "typescript", "src/main.ts"),                   # // path
        ("compose", "yaml", "docker-compose.yml"),                     # `path` : line before
        ("dockerfile", "dockerfile", None),
        ("env", "dotenv", ".env.example"),
        ("example", "console", None),                                  # HTTPie
    ]
    for a in arts:
        assert_exact(text, a)
    (pair,) = arts.migrations
    assert (pair.id, pair.up, pair.down) == ("20240501120000_init", arts[1], None)
    env = {e.name: e for e in arts.env}
    assert list(env) == ["DATABASE_URL", "PORT", "JWT_SECRET", "MAX_ACTIVE_LOANS"]
    assert env["DATABASE_URL"] == EnvVar("DATABASE_URL", "Prisma connection string",
                                         "postgresql://postgres:library@db:5432/library?schema=public",
                                         "env block")
    assert env["PORT"].description == "HTTP port of the API"        # inline comment; the list came later
    assert env["PORT"].example == "3000"
    assert env["JWT_SECRET"].example == "change-me"                 # from `export KEY=...`
    assert env["JWT_SECRET"].description.startswith("secret used to sign")   # blank filled by the list
    assert env["MAX_ACTIVE_LOANS"].source == "list"
    assert env["MAX_ACTIVE_LOANS"].example == "5"                   # "(default: `5`)"
    assert arts.code == [arts[2], arts[3]]


# --- no_code.md ----------------------------------------------------------------------------------

def test_answer_without_code():
    arts = extract(load("no_code.md"))
    assert len(arts) == 0
    assert arts.schema is None and arts.openapi is None
    assert arts.migrations == [] and arts.examples == [] and arts.files == []
    assert arts.env == []              # a comparison table and a prose mention are not variables
    assert arts.to_dict() == {"artifacts": [], "migrations": [], "env": []}


# --- edge_cases.md -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def edge():
    return loaded("edge_cases.md")


def test_edge_nested_and_tilde_fences(edge):
    text, arts = edge
    nested = arts[0]
    assert (nested.kind, nested.language) == ("other", "markdown")
    assert nested.code == "Exemple de réponse :\n\n```sql\nSELECT 1;\n```\n"
    tilde = next(a for a in arts if a.code.startswith("Un bloc tilde"))
    assert tilde.code == "Un bloc tilde qui contient une clôture :\n```\nqui n'en est pas une\n```\n"
    empty = next(a for a in arts if a.code == "")
    assert empty.language == "text" and empty.kind == "other"
    assert empty.line == text.split("\n").index("```text") + 2


def test_edge_migrate_sections_split(edge):
    text, arts = edge
    up, down = arts[1], arts[2]
    assert up.index == down.index == 1
    assert (up.direction, down.direction) == ("up", "down")
    assert up.filename == down.filename == "migrations/0003_add_isbn_index.sql"
    assert up.pair == down.pair == "0003_add_isbn_index"
    assert up.code == "-- +migrate Up\nCREATE INDEX books_title_idx ON books (title);\n\n"
    assert down.code == "-- +migrate Down\nDROP INDEX books_title_idx;\n"
    lines = text.split("\n")
    assert lines[up.line - 1] == "-- +migrate Up" and lines[down.line - 1] == "-- +migrate Down"


def test_edge_migration_pairs(edge):
    _, arts = edge
    pairs = {p.id: p for p in arts.migrations}
    assert list(pairs) == ["0003_add_isbn_index", "0004", "5__add_tags", "7f3a_add_series"]
    assert pairs["0004"].up.title == "Migration 0004 (up)"
    assert pairs["0004"].down.title == "Migration 0004 (down)"
    assert pairs["5__add_tags"].up.filename == "V5__add_tags.sql"          # `path` : line before
    assert pairs["5__add_tags"].down.filename == "U5__add_tags.sql"        # **path** line before
    alembic = pairs["7f3a_add_series"]
    assert alembic.up is alembic.down and alembic.up.language == "python"
    assert alembic.up.direction is None


def test_edge_indented_fences_and_guessed_languages(edge):
    _, arts = edge
    by_code = {a.code.split("\n")[0]: a for a in arts}
    pip = by_code["pip install fastapi uvicorn"]
    assert (pip.kind, pip.language, pip.code) == ("shell", "bash", "pip install fastapi uvicorn\n")
    assert by_code["uvicorn app.main:app --reload"].kind == "shell"
    ts = by_code["/* src/app.ts */"]
    assert (ts.kind, ts.language, ts.filename) == ("typescript", "typescript", "src/app.ts")
    assert by_code["SELECT id, title FROM books WHERE isbn = $1;"].kind == "query"
    assert by_code["def ping() -> str:"].kind == "python"
    oa = by_code['{"openapi": "3.0.3", "info": {"title": "Ping", "version": "1"}, "paths": {}}']
    assert (oa.kind, oa.language) == ("openapi", "json")
    assert by_code["type Query {"].kind == "graphql"
    assert by_code["GET /books/1 HTTP/1.1"].kind == "example"
    ci = by_code["# .github/workflows/ci.yml"]
    assert (ci.kind, ci.filename) == ("yaml", ".github/workflows/ci.yml")
    exports = by_code["export REDIS_URL=redis://localhost:6379/0"]
    assert (exports.kind, exports.language) == ("env", "bash")
    ini = by_code["# clé secrète de l'application"]
    assert (ini.kind, ini.filename, ini.title) == ("env", ".env.example", ".env.example")


def test_edge_unclosed_final_fence(edge):
    text, arts = edge
    last = arts[-1]
    assert (last.kind, last.filename) == ("python", "scripts/seed.py")
    assert last.code == '# scripts/seed.py\nprint("seed")\n'
    assert text.endswith(last.code)
    for a in arts:
        assert_exact(text, a)


def test_edge_env_from_blocks_table_and_list(edge):
    _, arts = edge
    env = {e.name: e for e in arts.env}
    assert list(env) == ["REDIS_URL", "CACHE_TTL", "SECRET_KEY", "SMTP_HOST", "SENTRY_DSN"]
    assert env["REDIS_URL"] == EnvVar("REDIS_URL", "Cache des disponibilités", "redis://localhost:6379/0",
                                      "env block")                     # table filled the description
    assert env["SECRET_KEY"].description == "clé secrète de l'application"
    assert env["SMTP_HOST"] == EnvVar("SMTP_HOST", "Serveur d'envoi des relances", "localhost", "table")
    assert env["CACHE_TTL"].description.startswith("durée de vie du cache")
    assert env["SENTRY_DSN"] == EnvVar("SENTRY_DSN", "DSN Sentry ; laisser vide en local", None, "list")


# --- small cases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("answer, filename, language", [
    ('```python title="app/main.py"\nx = 1\n```\n', "app/main.py", "python"),
    ("```ts filename=src/app.ts\nlet x = 1;\n```\n", "src/app.ts", "typescript"),
    ("```sql:schema.sql\nCREATE TABLE t (id int);\n```\n", "schema.sql", "sql"),
    ("```app/main.py\nx = 1\n```\n", "app/main.py", "python"),
    ("```python app/main.py\nx = 1\n```\n", "app/main.py", "python"),
    ("```sql\n-- migrations/0001.up.sql\nCREATE TABLE t (id int);\n```\n", "migrations/0001.up.sql", "sql"),
    ("```python\n# app/main.py\nx = 1\n```\n", "app/main.py", "python"),
    ("```ts\n// src/app.ts\nlet x = 1;\n```\n", "src/app.ts", "typescript"),
    ("```tsx\n/* src/App.tsx */\nexport {};\n```\n", "src/App.tsx", "tsx"),
    ("```python\n# File: app/main.py\nx = 1\n```\n", "app/main.py", "python"),
    ("```python\n# app/main.py — point d'entrée\nx = 1\n```\n", "app/main.py", "python"),
    ("### app/main.py\n\n```python\nx = 1\n```\n", "app/main.py", "python"),
    ("**app/main.py**\n```python\nx = 1\n```\n", "app/main.py", "python"),
    ("`app/main.py`\n\n```python\nx = 1\n```\n", "app/main.py", "python"),
    ("Fichier `app/main.py` :\n```python\nx = 1\n```\n", "app/main.py", "python"),
    ("**Dockerfile**\n```\nFROM python:3.12\nRUN pip install x\n```\n", "Dockerfile", "dockerfile"),
    ("### Node.js\n\n```js\nlet x = 1;\n```\n", None, "javascript"),
    ("```bash\n#!/usr/bin/env bash\nls\n```\n", None, "bash"),
    ("```python\n# compute the total\nx = 1\n```\n", None, "python"),
    ("Voir `a.py` et `b.py` :\n```python\nx = 1\n```\n", None, "python"),
    ("```yaml\n# syntax: docker/dockerfile:1\nx: 1\n```\n", None, "yaml"),
])
def test_filename_sources(answer, filename, language):
    (a,) = extract(answer)
    assert (a.filename, a.language) == (filename, language)


@pytest.mark.parametrize("answer, kind", [
    ("```sql\nCREATE EXTENSION IF NOT EXISTS pgcrypto;\nCREATE TABLE t (id int);\n"
     "INSERT INTO t VALUES (1);\n```", "schema"),
    ("```sql\nWITH x AS (SELECT 1) SELECT * FROM x;\n```", "query"),
    ("```sql\nUPDATE t SET a = 1;\nDELETE FROM t;\n```", "query"),
    ("```postgresql\nCREATE INDEX CONCURRENTLY i ON t (a);\n```", "schema"),
    ("```sql\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n```", "schema"),
    ("```sql\n-- migrate:up\nCREATE TABLE t (id int);\n```", "migration"),
    ("```sql\n-- up\nCREATE TABLE t (id int);\n```", "schema"),     # a bare "-- up" alone is a comment
    ("```js\nconsole.log(1)\n```", "javascript"),
    ("```jsx\nexport default () => <p/>;\n```", "javascript"),
    ("```yaml\nswagger: '2.0'\ninfo: {}\n```", "openapi"),
    ("```yaml\ninfo:\n  openapi: 3.1.0\n```", "yaml"),
    ('```json\n{"info": {"openapi": "3"}}\n```', "json"),
    ("```yaml\nservices:\n  db:\n    image: postgres\n```", "compose"),
    ("```yaml\n# compose.yaml\nname: x\n```", "compose"),
    ("```sh\nhttp POST :8000/loans copy_id:=1\n```", "example"),
    ("```\ncurl -s https://api.example.com/books\n```", "example"),
    ("```bash\nuvicorn app.main:app\n```", "shell"),
    ("```env\nA_B=1\n```", "env"),
    ("```ini\n[server]\nport = 1\n```", "other"),
    ("```mermaid\ngraph TD; A-->B\n```", "other"),
    ("```gql\nquery { books { id } }\n```", "graphql"),
    ("```docker\nFROM x\n```", "dockerfile"),
    ("```python\n# migrations/0003_add.py\ndef up(): pass\n```", "migration"),
])
def test_kinds(answer, kind):
    (a,) = extract(answer)
    assert a.kind == kind


def test_line_numbers_and_crlf():
    answer = "# T\r\n\r\n```sql\r\nSELECT 1;\r\n```\r\ntext\r\n~~~~ python\r\nx = 1\r\n~~~~\r\n"
    a, b = extract(answer)
    assert (a.line, a.code, a.title, a.kind) == (4, "SELECT 1;\r\n", "T", "query")
    assert (b.line, b.code, b.language) == (8, "x = 1\r\n", "python")


def test_fence_rules():
    # a closing fence must be as long as the opening one and carry no info string
    answer = "````\n```python\nx\n```\n````\n```sql\nSELECT 1;\n```not a close\n```\n"
    a, b = extract(answer)
    assert a.code == "```python\nx\n```\n"
    assert b.code == "SELECT 1;\n```not a close\n"
    # an opening backtick fence cannot have backticks in its info string: that is inline code
    assert extract("```inline``` text\n") == []
    # an unclosed block without a final newline keeps the text as is
    (c,) = extract("intro\n```sql\nSELECT 1;")
    assert c.code == "SELECT 1;" and c.line == 3


def test_title_is_nearest_heading_outside_code():
    answer = "## Setup ##\n\n```python\n# not a heading\nx = 1\n```\n\n```python\ny = 2\n```\n"
    a, b = extract(answer)
    assert a.title == b.title == "Setup"
    assert extract("```sql\nSELECT 1;\n```")[0].title is None


def test_migration_headings_in_french_and_anonymous_down():
    answer = ("### Migration `0007_loans_idx` montante\n```sql\nCREATE INDEX i ON t (a);\n```\n"
              "### Migration `0007_loans_idx` descendante\n```sql\nDROP INDEX i;\n```\n"
              "## Migration (up)\n```sql\nALTER TABLE t ADD b int;\n```\n"
              "## Rollback de la migration\n```sql\nALTER TABLE t DROP b;\n```\n")
    pairs = extract(answer).migrations
    assert [(p.id, p.up.index, p.down.index) for p in pairs] == [("0007_loans_idx", 0, 1), ("#2", 2, 3)]


def test_migration_direction_from_heading_when_the_file_has_none():
    answer = ("## Migration 0009 (down)\n```sql\n-- migrations/0009_tags.sql\nDROP TABLE tags;\n```\n")
    (a,) = extract(answer)
    assert (a.kind, a.direction, a.pair) == ("migration", "down", "0009_tags")


def test_migration_file_and_heading_ids_meet():
    answer = ("```sql\n-- migrations/0002_add_fines.up.sql\nCREATE TABLE f (id int);\n```\n"
              "### Migration 0002 (down)\n```sql\nDROP TABLE f;\n```\n")
    (pair,) = extract(answer).migrations
    assert pair.id == "0002_add_fines" and pair.down.index == 1


def test_env_lists_need_context_for_plain_words():
    answer = ("## Statuts\n\n- `ACTIVE` : le prêt est en cours\n- `IN_LATE`: en retard\n\n"
              "| Name | Description |\n|---|---|\n| `RETURNED` | rendu |\n\n"
              "## Variables d'environnement\n\n- `PORT` : port HTTP (défaut : `8000`)\n")
    env = extract(answer).env
    assert [(e.name, e.example) for e in env] == [("IN_LATE", None), ("PORT", "8000")]


def test_env_table_variants():
    answer = ("| Clé | Rôle | Valeur par défaut | Obligatoire |\n|:--|:--|:--:|--|\n"
              "| `APP_ENV` | environnement | `dev` | oui |\n| **API_KEY** | clé d'API | - | oui |\n"
              "| not_upper | ignorée | x | non |\n\n"
              "Name | Example\n--- | ---\n`TZ_NAME` | `Europe/Paris`\n")
    assert [(e.name, e.description, e.example, e.source) for e in extract(answer).env] == [
        ("APP_ENV", "environnement", "dev", "table"),
        ("API_KEY", "clé d'API", None, "table"),
        ("TZ_NAME", None, "Europe/Paris", "table"),
    ]


def test_env_block_values_and_comments():
    answer = ('```dotenv\n# base\n# (PostgreSQL)\nDATABASE_URL="postgres://x" # inline wins\n\n'
              "A=1\nexport B='two words'\n\n# orphan\n\nC=\n```\n")
    env = extract(answer).env
    assert [(e.name, e.description, e.example) for e in env] == [
        ("DATABASE_URL", "inline wins", "postgres://x"), ("A", None, "1"), ("B", None, "two words"),
        ("C", None, None)]


def test_to_dict_is_json_and_round_trips():
    arts = extract(load("library.md") + "\n" + load("edge_cases.md"))
    data = json.loads(json.dumps(arts.to_dict()))
    assert data["artifacts"][0]["kind"] == "schema"
    assert data["migrations"][0] == {"id": "0002_add_fines", "up": 1, "down": 2}
    assert data["env"][0]["name"] == "DATABASE_URL"
    again = Artifacts.from_dict(data)
    assert list(again) == list(arts) and again.env == arts.env
    assert [p.id for p in again.migrations] == [p.id for p in arts.migrations]
    assert arts[0].to_dict()["code"] == arts[0].code


def test_register_kind(monkeypatch):
    from agentnb.artifacts import kinds

    monkeypatch.setattr(kinds, "CUSTOM_KINDS", [])   # the registry is process-wide: start empty, leave it as found
    register_kind("mermaid", lambda a: a.language == "mermaid")
    (a,) = extract("```mermaid\ngraph TD; A-->B\n```\n")
    assert a.kind == "mermaid"


def test_public_api():
    assert set(art.__all__) == {"Artifact", "Artifacts", "EnvVar", "MigrationPair", "KINDS", "extract",
                                "register_kind"}
    assert MigrationPair("x").up is None


def big_answer() -> str:
    """library.md with 30 more tables in its schema block: about 1,500 lines."""
    tables = "\n".join(
        f"CREATE TABLE t{i} (\n    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
        + ",\n".join(f"    c{j} TEXT NOT NULL DEFAULT ''" for j in range(20))
        + f"\n);\nCREATE INDEX t{i}_c1 ON t{i} (c1) WHERE c2 <> '';\n"
        for i in range(30))
    return load("library.md").replace("-- db/schema.sql\n", "-- db/schema.sql\n" + tables)


def test_a_long_answer_is_taken_apart_whole():
    """1,400 lines and 35 tables (its speed is bench/bench_checks.py's business: extraction included)."""
    answer = big_answer()
    assert len(answer.splitlines()) > 1400
    arts = extract(answer)
    assert arts.schema.count("CREATE TABLE") == 35
