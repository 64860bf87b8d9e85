"""SQLAlchemy models against the schema PostgreSQL reflected: matching models pass, each kind of drift
fails naming it, and hostile model code costs only its row."""

from __future__ import annotations

import time

import pytest

import agentnb
from agentnb.checks import run

pytestmark = pytest.mark.postgres

DDL = """\
CREATE TABLE authors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(200) NOT NULL
);
CREATE TABLE books (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    isbn text NOT NULL UNIQUE,
    author_id bigint NOT NULL REFERENCES authors (id),
    published timestamptz,
    tags text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX books_author_idx ON books (author_id);
"""

MODELS = """\
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    isbn: Mapped[str] = mapped_column(Text, unique=True)
    author_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("authors.id"), index=True)
    published: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text))
"""


def _answer(models: str) -> str:
    return f"```sql\n-- db/schema.sql\n{DDL}```\n\n```python\n# app/models.py\n{models}```\n"


def _row(models: str):
    text = _answer(models)
    report = run(agentnb.extract(text), answer_text=text)
    pg = next(r for r in report.rows if r.name == "Schema on PostgreSQL")
    if pg.skipped:
        pytest.skip(pg.message)
    assert pg.passed, pg.message
    rows = [r for r in report.rows if r.name.startswith("Models match the schema")]
    assert len(rows) == 1, [str(r) for r in report.rows]
    assert rows[0].name == "Models match the schema: app/models.py"
    return rows[0], report


def test_matching_models_pass():
    row, _ = _row(MODELS)
    assert row.passed, row.message
    assert row.message.startswith("2 tables: ")
    assert "indexes_not_in_models" not in row.details


def test_int8_and_bigint_are_one_type():
    row, _ = _row(MODELS.replace("BigInteger, primary_key", "BIGINT, primary_key")
                  .replace("import ARRAY,", "import ARRAY, BIGINT,"))
    assert row.passed, row.message


def test_missing_column_fails_naming_it():
    row, _ = _row(MODELS.replace('    published: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))\n', ""))
    assert row.failed
    assert "column books.published (timestamp with time zone) is in the schema but not in the model" in row.message


def test_nullability_drift_fails_naming_it():
    row, _ = _row(MODELS.replace("name: Mapped[str] = mapped_column(String(200))",
                                 "name: Mapped[str | None] = mapped_column(String(200))"))
    assert row.failed
    assert "column authors.name: nullable in the model, NOT NULL in the schema" in row.message


def test_missing_foreign_key_fails_naming_it():
    row, _ = _row(MODELS.replace('ForeignKey("authors.id"), ', ""))
    assert row.failed
    assert "foreign key (author_id) → authors(id) is in the schema but not in the model" in row.message


def test_type_family_drift_fails():
    row, _ = _row(MODELS.replace("DateTime(timezone=True)", "DateTime()"))
    assert row.failed
    assert "column books.published: the model's type is TIMESTAMP WITHOUT TIME ZONE" in row.message


def test_an_index_only_in_the_schema_passes_listed_in_details():
    row, _ = _row(MODELS.replace(", index=True", ""))
    assert row.passed, row.message
    assert row.details["indexes_not_in_models"] == ["books: index books_author_idx (author_id)"]


def test_a_unique_constraint_only_in_the_schema_still_fails():
    row, _ = _row(MODELS.replace("mapped_column(Text, unique=True)", "mapped_column(Text)"))
    assert row.failed
    assert "unique (isbn) is in the schema but not in the model" in row.message


def test_each_difference_names_the_line_of_its_column_or_model_in_the_answer():
    drifted = MODELS.replace("name: Mapped[str] = mapped_column(String(200))",
                             "name: Mapped[str | None] = mapped_column(String(200))")
    drifted = drifted.replace('    published: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))\n', "")
    row, _ = _row(drifted)
    assert row.failed
    assert row.message.startswith("2 differences between the models and the schema: ")
    nullable = next(f for f in row.details["findings"] if "authors.name" in f["text"])
    assert nullable["file"] == "app/models.py" and nullable["line"] == 15     # its path comment is line 1
    assert _answer(drifted).splitlines()[nullable["answer_line"] - 1].strip() == \
        "name: Mapped[str | None] = mapped_column(String(200))"
    assert "authors.name: nullable in the model, NOT NULL in the schema (app/models.py line 15)" in row.message
    missing = next(f for f in row.details["findings"] if "books.published" in f["text"])
    assert _answer(drifted).splitlines()[missing["answer_line"] - 1].strip() == "class Book(Base):"
    assert row.details["answer_line"] == nullable["answer_line"]           # the row's place: its first


def test_a_table_declared_with_table_has_its_lines_too():
    from agentnb.checks.models import model_lines

    code = ("from sqlalchemy import Column, Integer, MetaData, Table\nmetadata = MetaData()\n"
            "tags = Table(\n    'tags', metadata,\n    Column('id', Integer, primary_key=True),\n)\n")
    [block] = agentnb.extract(f"```python\n# app/tables.py\n{code}```\n")
    places = {key: line for key, (_, line) in model_lines([block]).items()}
    assert places == {("tags", None): 4, ("tags", "id"): 6}


def test_the_models_draw_from_the_checks_total_time(monkeypatch):
    """A total of 3 s (AGENTNB_CHECK_TIMEOUT) stops models that sleep: no separate 15 s of their own."""
    monkeypatch.setenv("AGENTNB_CHECK_TIMEOUT", "3")
    started = time.monotonic()
    row, report = _row(MODELS + "import time\ntime.sleep(60)\n")
    elapsed = time.monotonic() - started
    assert row.failed and "stopped after 3" in row.message, row.message
    assert elapsed < 8


def test_no_models_no_row():
    text = _answer("print('no models here')\n")
    report = run(agentnb.extract(text), answer_text=text)
    assert not [r for r in report.rows if r.name.startswith("Models match")]


HOSTILE = {
    "writes a file": "open({target!r}, 'w').write('pwned')\n",
    "reads the key": "import os\nraise RuntimeError('key=' + os.environ.get('ANTHROPIC_API_KEY', 'none'))\n",
    "sleeps forever": "import time\nwhile True:\n    time.sleep(1)\n",
    "allocates 5 GB": "hog = bytearray(5 * 1024 ** 3)\n",
    "spins the CPU": "while True:\n    pass\n",
}


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_models_cost_only_their_row(attack, tmp_path, monkeypatch):
    key = "sk-ant-api03-models-check-secret-0123456789"
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setattr("agentnb.checks.models.TIMEOUT", 4.0)
    monkeypatch.setattr("agentnb.checks.models.CPU_SECONDS", 3)
    target = tmp_path / "pwned.txt"
    started = time.monotonic()
    row, report = _row(MODELS + HOSTILE[attack].format(target=str(target)))
    elapsed = time.monotonic() - started
    assert row.failed, row.message
    assert not target.exists()
    assert key not in str(row.to_dict()) and key not in str([r.to_dict() for r in report.rows])
    assert elapsed < 20
    assert next(r for r in report.rows if r.name == "Schema on PostgreSQL").passed
    if attack == "reads the key":
        assert "key=none" in row.message


def test_a_file_in_the_scratch_folder_is_allowed():
    row, _ = _row(MODELS + "open('notes.txt', 'w').write('scratch')\n")
    assert row.passed, row.message
