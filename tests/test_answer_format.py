"""What an agent's answer-format asks every answer to hold."""

import pytest

from agentnb import checks
from agentnb.artifacts import Artifacts, extract
from agentnb.checks import check_answer_format
from agentnb.checks.answer_format import answer_format_keys

BACKEND_FORMAT = ["code", "schema", "examples", "env"]


def fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code.strip()}\n```\n"



def test_answer_format_names_the_missing_parts():
    text = fence("python", "# app/main.py\nx = 1") + "\n| Variable | Description |\n|---|---|\n| `X` | x |\n"
    row = check_answer_format(text, extract(text), BACKEND_FORMAT)
    assert row.status == "failed"
    assert row.message == ("no data schema (SQL DDL, Prisma schema or migration); "
                           "no request examples (curl or HTTPie)")
    assert row.details["missing"] == ["schema", "examples"]


def test_answer_format_tests_openapi_migrations_and_unknown_keys():
    text = fence("python", "# tests/test_x.py\ndef test_x():\n    assert 1") + fence("sql", "-- migrations/0001_a.up.sql\nSELECT 1;")
    arts = extract(text)
    row = check_answer_format(text, arts, ["tests", "migrations", "openapi", "haiku"])
    assert (row.status, row.message) == (
        "failed", "no OpenAPI contract (unknown answer-format key not checked: haiku)")
    row = check_answer_format(text, arts, ["Tests", "migrations"])
    assert (row.status, row.message) == ("passed", "has tests, migrations")
    row = check_answer_format(text, arts, ["haiku"])
    assert (row.status, row.message) == ("skipped", "unknown answer-format key: haiku")


def test_answer_format_accepts_a_single_key():
    text = fence("python", "x = 1")
    assert check_answer_format(text, extract(text), "code").message == "has code"
    report = checks.run(extract(text), answer_text=text, required="examples", sql=False)
    assert report.rows[-1].message == "no request examples (curl or HTTPie)"


def test_answer_format_without_requirements_is_skipped():
    row = check_answer_format("hi", Artifacts(), [])
    assert (row.status, row.message) == ("skipped", "the agent declares no answer format")


def test_answer_format_is_read_in_one_way():
    assert answer_format_keys("code, Schema,,") == ("code", "schema")
    assert answer_format_keys(["code", " env "]) == ("code", "env")
    assert answer_format_keys(None) == answer_format_keys("") == answer_format_keys([]) == ()
    for bad in (5, True, {"code": 1}, ["code", 3]):
        with pytest.raises(ValueError, match="answer-format must be a list of parts or a comma-separated string"):
            answer_format_keys(bad)


def test_a_bad_answer_format_is_a_skipped_row_not_a_traceback():
    text = fence("python", "x = 1")
    row = check_answer_format(text, extract(text), 5)
    assert row.status == "skipped" and row.message.startswith("not checked: answer-format must be a list")
