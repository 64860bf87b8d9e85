"""Issue 9: a replayed notebook gives the same outputs byte for byte, whatever the kernel's hash seed.

A conversation whose second answer changes the schema without a migration gets Alembic's implied
migration; Alembic finds dropped tables, columns and foreign keys by set differences, so its order
followed PYTHONHASHSEED. The conversation is recorded once here, then replayed (record mode none) in
fresh interpreters under several hash seeds; every displayed output (data and metadata) must match.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from agentnb.testing.server import text

pytestmark = pytest.mark.postgres

FIRST = """\
Here is the schema.

```sql
CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL, born date, bio text, country text);
CREATE TABLE publishers (id bigint PRIMARY KEY, name text NOT NULL, city text);
CREATE TABLE books (id bigint PRIMARY KEY, title text NOT NULL,
    author_id bigint REFERENCES authors (id), publisher_id bigint REFERENCES publishers (id),
    isbn text, pages int, summary text, cover_url text);
CREATE TABLE members (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, phone text, address text);
CREATE TABLE copies (id bigint PRIMARY KEY, book_id bigint NOT NULL REFERENCES books (id), shelf text);
CREATE TABLE loans (id bigint PRIMARY KEY, copy_id bigint NOT NULL REFERENCES copies (id),
    member_id bigint NOT NULL REFERENCES members (id), due date);
CREATE TABLE reservations (id bigint PRIMARY KEY, book_id bigint NOT NULL REFERENCES books (id),
    member_id bigint NOT NULL REFERENCES members (id));
CREATE TABLE reviews (id bigint PRIMARY KEY, book_id bigint REFERENCES books (id),
    member_id bigint REFERENCES members (id), stars int);
CREATE TABLE tags (id bigint PRIMARY KEY, label text);
CREATE TABLE book_tags (book_id bigint REFERENCES books (id), tag_id bigint REFERENCES tags (id),
    PRIMARY KEY (book_id, tag_id));
```
"""

SECOND = """\
A smaller catalogue: no members, loans, reservations, reviews or tags any more.

```sql
CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE publishers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE books (id bigint PRIMARY KEY, title text NOT NULL, author_id bigint, publisher_id bigint,
    isbn text);
CREATE TABLE copies (id bigint PRIMARY KEY, book_id bigint NOT NULL, shelf text);
```
"""

REPLAY = textwrap.dedent("""\
    import json, sys
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: shown.append([data, metadata or {}])
    shell.run_line_magic("load_ext", "agentnb")
    for prompt in ("A lending library.", "Make it a catalogue only."):
        response = shell.run_cell_magic("backend_dev", "", prompt)
        shown.append([response._repr_mimebundle_()])
        report = response.check_report
        shown.append(["implied", report.implied_migration, report.diff and report.diff.details.get("alembic_upgrade")])
    sys.stdout.write(json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str))
""")


@pytest.fixture(scope="module")
def postgres_url():
    from agentnb.checks import postgres

    try:
        return postgres.get_server().url
    except postgres.NoPostgresError as err:
        pytest.skip(str(err))


def test_a_replay_is_the_same_under_any_hash_seed(api, workdir, postgres_url, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("AGENTNB_POSTGRES_URL", postgres_url)
    api.enqueue(text(FIRST), text(SECOND))
    shell = InteractiveShell.instance()
    shell.run_line_magic("reload_ext", "agentnb")
    shell.run_cell_magic("backend_dev", "", "A lending library.")
    second = shell.run_cell_magic("backend_dev", "", "Make it a catalogue only.")
    implied = second.check_report.implied_migration
    assert implied and "DROP TABLE" in implied["up"], second.checks     # the case this test is about

    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(AGENTNB_RECORD_MODE="none", PYTHONPATH=os.pathsep.join(sys.path))
    outputs = {}
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-c", REPLAY], cwd=workdir, capture_output=True, text=True,
                              env=env | {"PYTHONHASHSEED": seed}, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs[seed] = done.stdout
    shown = json.loads(outputs["1"])
    assert any("DROP TABLE" in json.dumps(item) for item in shown)
    for seed, out in outputs.items():
        assert out == outputs["1"], f"PYTHONHASHSEED={seed} gave other outputs than PYTHONHASHSEED=1"
