"""The Prisma check: Prisma's own parser (npm ``@prisma/prisma-schema-wasm`` under Node) judges each Prisma
schema of an answer, its models are compared with the DDL PostgreSQL reflected, a missing Node or package
skips the rows saying how to enable them, and a hostile schema costs one row."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import agentnb
from agentnb.artifacts import Artifact
from agentnb.checks import node, prisma, run

REPO = Path(__file__).resolve().parents[1]

SCHEMA = """\
generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum LoanStatus {
  ACTIVE
  RETURNED

  @@map("loan_status")
}

model Member {
  id    BigInt  @id @default(autoincrement())
  email String  @unique
  name  String? @db.VarChar(200)
  loans Loan[]

  @@map("members")
}

model Loan {
  id       BigInt     @id @default(autoincrement())
  memberId BigInt     @map("member_id")
  member   Member     @relation(fields: [memberId], references: [id])
  status   LoanStatus @default(ACTIVE)
  dueAt    DateTime   @map("due_at") @db.Timestamptz(6)
  tags     String[]

  @@index([memberId])
  @@map("loans")
}
"""

DDL = """\
CREATE TYPE loan_status AS ENUM ('ACTIVE', 'RETURNED');
CREATE TABLE members (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name varchar(200)
);
CREATE TABLE loans (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES members (id),
    status loan_status NOT NULL DEFAULT 'ACTIVE',
    due_at timestamptz NOT NULL,
    tags text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX loans_member_idx ON loans (member_id);
"""


def _answer(prisma_schema: str, ddl: str | None = None) -> str:
    text = "Here is the data model.\n\n"
    if ddl is not None:
        text += f"```sql\n-- db/schema.sql\n{ddl}```\n\n"
    return text + f"```prisma\n// prisma/schema.prisma\n{prisma_schema}```\n"


def _answer_line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def _rows(text: str, **kwargs):
    return run(agentnb.extract(text), answer_text=text, **kwargs).rows


def _one(rows, prefix: str):
    found = [r for r in rows if r.name.startswith(prefix)]
    assert len(found) == 1, [str(r) for r in rows]
    return found[0]


# --- the package, installed once through the setup command ----------------------------------------------

@pytest.fixture(scope="session")
def prisma_modules(tmp_path_factory) -> Path:
    """A folder holding Prisma's parser: where agentnb looks by default when it is there (CI runs
    `agentnb setup prisma`), else a test cache filled by the same command."""
    if node.find_node() is None:
        pytest.skip("Node.js is not installed: the Prisma check skips its rows (tested below)")
    if node.package_dir(prisma.PACKAGE) is not None:
        from agentnb import settings

        return settings.node_modules_dir()
    folder = tmp_path_factory.mktemp("node-modules")
    env = {**os.environ, "AGENTNB_NODE_MODULES": str(folder), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "agentnb.cli", "setup", "prisma"], capture_output=True, text=True,
                          env=env, timeout=700)
    if done.returncode != 0:
        pytest.skip(f"`agentnb setup prisma` could not install the package (is the npm registry reachable?): "
                    f"{done.stderr.strip()[-300:]}")
    assert f"in {folder}" in done.stdout
    return folder


@pytest.fixture
def parser(prisma_modules, monkeypatch) -> Path:
    monkeypatch.setenv("AGENTNB_NODE_MODULES", str(prisma_modules))
    return prisma_modules


# --- Prisma's verdict -------------------------------------------------------------------------------------

def test_a_correct_schema_passes(parser):
    text = _answer(SCHEMA)
    row = _one(_rows(text, sql=False), "Prisma schema")
    assert row.name == "Prisma schema: prisma/schema.prisma"
    assert row.passed, row.message
    assert row.message.startswith("valid for Prisma's parser: 2 models, 1 enum")
    assert row.details["parser"].startswith("@prisma/prisma-schema-wasm 8.")
    assert row.details["datasource"] == [
        f"line {_answer_line(text, 'url      =')} of the answer: url read from env(\"DATABASE_URL\")"]


def test_a_broken_schema_fails_with_prismas_message_and_the_answers_line(parser):
    broken = SCHEMA.replace("email String  @unique", "email Strin   @unique").replace(
        "references: [id]", "references: [idx]")
    text = _answer(broken)
    row = _one(_rows(text, sql=False), "Prisma schema")
    assert row.failed
    first, second = row.details["errors"][:2]
    assert first["message"] == ('Type "Strin" is neither a built-in type, nor refers to another model, composite '
                                'type, or enum.')
    assert first["answer_line"] == _answer_line(text, "email Strin") == row.details["answer_line"]
    assert row.details["answer_column"] == 9
    assert "The following fields do not exist in the related model: idx" in second["message"]
    assert second["answer_line"] == _answer_line(text, "references: [idx]")
    assert row.message.split("\n")[:2] == [
        f'Prisma: {first["message"]} (and 1 more)',
        f"at line {first['answer_line']}, column 9 of the answer: email Strin   @unique"]
    assert f"- line {second['answer_line']} of the answer: Error validating" in row.message


def test_each_prisma_block_gets_its_own_row(parser):
    text = _answer(SCHEMA) + "\nAnd the change:\n\n```prisma\nmodel Fine {\n  id Int @id\n  loan Loan\n}\n```\n"
    rows = [r for r in _rows(text, sql=False) if r.name.startswith("Prisma schema")]
    assert [(r.name, r.status) for r in rows] == [("Prisma schema: prisma/schema.prisma", "passed"),
                                                  ("Prisma schema: block 2 (prisma)", "failed")]
    assert 'Type "Loan" is neither a built-in type' in rows[1].message


def test_a_literal_url_with_a_password_never_leaves_the_process_nor_shows(parser, tmp_path, monkeypatch):
    password = "Zq8-hunter2-Wx"
    schema = SCHEMA.replace('env("DATABASE_URL")', f'"postgresql://app:{password}@db.internal:5432/app"')
    seen = tmp_path / "stdin.txt"
    real = node.find_node()
    fake = tmp_path / "node"               # node as the check starts it, keeping what it was given
    fake.write_text(f"#!/bin/sh\ntee {seen} | exec {real} \"$@\"\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("AGENTNB_NODE", str(fake))
    text = _answer(schema)
    rows = _rows(text, sql=False)
    row = _one(rows, "Prisma schema")
    assert row.passed, row.message
    url_line = _answer_line(text, "url      =")
    assert row.message.endswith(f'; line {url_line}: url written out with a password (use env("DATABASE_URL"))')
    sent = seen.read_text()
    assert "model Loan" in sent and sent.count("\n") == agentnb.extract(text)[0].code.count("\n")
    assert password not in sent and "db.internal" not in sent
    assert all(password not in str(r.to_dict()) for r in rows)


# --- the models against the DDL ------------------------------------------------------------------------

@pytest.mark.postgres
def test_models_matching_the_ddl_pass(parser):
    rows = _rows(_answer(SCHEMA, DDL))
    if _one(rows, "Schema on PostgreSQL").skipped:
        pytest.skip("no PostgreSQL")
    row = _one(rows, "Prisma models match the schema")
    assert row.name == "Prisma models match the schema: prisma/schema.prisma"
    assert row.passed, row.message
    assert row.message.startswith("2 tables: columns, types, nullability, keys")


@pytest.mark.postgres
def test_every_drift_between_the_models_and_the_ddl_is_listed(parser):
    drifted = (SCHEMA.replace("  name  String? @db.VarChar(200)\n", "  name  String  @db.VarChar(200)\n"
                                                                     "  phone String?\n")
               .replace(' @db.Timestamptz(6)', "")
               .replace("  member   Member     @relation(fields: [memberId], references: [id])\n", "")
               .replace("  loans Loan[]\n", "")
               .replace("  tags     String[]\n", "  tags     Int[]\n")
               .replace('@@map("members")', '@@map("member")'))
    text = _answer(drifted, DDL)
    rows = _rows(text)
    if _one(rows, "Schema on PostgreSQL").skipped:
        pytest.skip("no PostgreSQL")
    assert _one(rows, "Prisma schema").passed
    row = _one(rows, "Prisma models match the schema")
    assert row.failed
    assert row.details["differences"] == [
        "table members is in the schema but has no model",
        "table member has a model but is not in the schema",
        "column loans.due_at: the model's type is timestamp(3), the schema's timestamp with time zone",
        "column loans.tags: the model's type is integer[], the schema's text[]",
        "table loans: foreign key (member_id) → members(id) is in the schema but not in the model",
    ]
    assert row.message.startswith("5 differences between the Prisma models and the schema: table members")
    assert row.details["answer_line"] == _answer_line(text, "model Member {")


@pytest.mark.postgres
def test_column_level_drift_nullability_and_missing_columns(parser):
    drifted = SCHEMA.replace("  name  String? @db.VarChar(200)\n", "  name  String  @db.VarChar(200)\n"
                                                                   "  phone String?\n")
    rows = _rows(_answer(drifted, DDL))
    if _one(rows, "Schema on PostgreSQL").skipped:
        pytest.skip("no PostgreSQL")
    assert _one(rows, "Prisma models match the schema").details["differences"] == [
        "column members.name: NOT NULL in the model, nullable in the schema",
        "column members.phone (text) is in the model but not in the schema",
    ]


def test_implicit_many_to_many_makes_prismas_join_table():
    datamodel = {"enums": [], "indexes": [], "models": [
        {"name": "Tag", "dbName": "tags", "fields": [
            {"name": "id", "kind": "scalar", "type": "Int", "isId": True, "isRequired": True},
            {"name": "posts", "kind": "object", "type": "Post", "isList": True, "relationName": "PostToTag",
             "relationFromFields": []}]},
        {"name": "Post", "fields": [
            {"name": "id", "kind": "scalar", "type": "String", "nativeType": ["Uuid", []], "isId": True,
             "isRequired": True},
            {"name": "tags", "kind": "object", "type": "Tag", "isList": True, "relationName": "PostToTag",
             "relationFromFields": []}]}]}
    join = prisma.prisma_tables(datamodel)[-1]
    assert join["name"] == "_PostToTag"
    assert [(c["name"], c["type"]) for c in join["columns"]] == [("A", "uuid"), ("B", "integer")]
    assert join["foreign_keys"] == [{"columns": ["A"], "ref_table": "Post", "ref_columns": ["id"]},
                                    {"columns": ["B"], "ref_table": "tags", "ref_columns": ["id"]}]


# --- no Node, no package: skipped, saying how to enable it --------------------------------------------

def test_without_node_the_rows_are_skipped_with_the_command_to_run(monkeypatch, tmp_path):
    monkeypatch.delenv("AGENTNB_NODE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))            # no node on it
    row = _one(_rows(_answer(SCHEMA), sql=False), "Prisma schema")
    assert row.skipped
    assert row.message == ("Prisma's parser is not available: Node.js is not installed (no node on PATH): "
                           "install Node.js 20 or later, then run `agentnb setup prisma`")
    monkeypatch.setenv("AGENTNB_NODE", str(tmp_path / "nowhere" / "node"))
    row = _one(_rows(_answer(SCHEMA), sql=False), "Prisma schema")
    assert row.skipped and f"AGENTNB_NODE={tmp_path / 'nowhere' / 'node'} is not an executable" in row.message


def test_without_the_package_the_rows_are_skipped_naming_the_setup_command(monkeypatch, tmp_path):
    if node.find_node() is None:
        pytest.skip("Node.js is not installed (the test above covers it)")
    monkeypatch.setenv("AGENTNB_NODE_MODULES", str(tmp_path))
    rows = _rows(_answer(SCHEMA, DDL))
    row = _one(rows, "Prisma schema")
    assert row.skipped
    assert row.message == (f"Prisma's parser is not available: @prisma/prisma-schema-wasm is not installed in "
                           f"{tmp_path}: run `agentnb setup prisma` (npm install of {node.SETUP['prisma']}; "
                           "AGENTNB_NODE_MODULES picks another folder)")
    compared = [r for r in rows if r.name.startswith("Prisma models")]
    assert all(r.skipped and "agentnb setup prisma" in r.message for r in compared)
    assert not [r for r in rows if r.name.startswith("Prisma") and r.failed]


def test_setup_without_npm_says_what_to_install(tmp_path):
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(REPO), "AGENTNB_NODE_MODULES": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "agentnb.cli", "setup", "prisma"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == ("agentnb: npm is not installed (no npm on PATH): install Node.js 20 or later "
                                   "(it ships npm)")
    assert not (tmp_path / "cache" / "node_modules").exists()


# --- containment ---------------------------------------------------------------------------------------

def test_node_gets_no_key_and_no_agentnb_variable_and_runs_in_a_scratch_folder(parser, monkeypatch, tmp_path):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", "postgresql://u:secretpassword1@h/db")
    monkeypatch.setenv("NODE_OPTIONS", "--require /nonexistent.js")
    nodebin, folder = node.require("prisma")
    out = node.run_script('const fs = require("fs");'
                          'let wrote = "no"; try { fs.writeFileSync("/tmp/agentnb-prisma-probe", "x"); wrote = "yes"; }'
                          ' catch (e) {}'
                          'console.log(JSON.stringify({env: process.env, cwd: process.cwd(), wrote,'
                          ' input: fs.readFileSync(0, "utf8")}))', "données", package=folder)
    import json

    seen = json.loads(out)
    assert sorted(seen["env"]) == ["HOME", "LANG", "NODE_PATH", "PATH", "PWD"]     # PWD: set by sh
    assert seen["env"]["HOME"] == seen["cwd"] and "agentnb-node-" in seen["cwd"]
    assert not os.path.exists(seen["cwd"])              # removed after the run
    assert seen["input"] == "données"
    if node._node_major(nodebin) >= 20:                  # Node's permission model: no write anywhere
        assert seen["wrote"] == "no"


def test_a_schema_that_keeps_the_parser_busy_costs_one_stopped_row(parser, monkeypatch):
    # quadratic in Prisma's validation: tens of thousands of attributes on one field
    hostile = "model A {\n  id Int @id " + "@unique " * 60000 + "\n}\n"
    monkeypatch.setattr(node, "TIMEOUT", 1.0)
    text = _answer(hostile) + "\n```python\nx = 1\n```\n"
    started = time.monotonic()
    rows = _rows(text, sql=False)
    elapsed = time.monotonic() - started
    row = _one(rows, "Prisma schema")
    assert row.failed
    assert row.message.startswith("Prisma's parser did not give a verdict: stopped after 1 s: node did not finish")
    assert _one(rows, "Python syntax").passed                  # the other rows stand
    assert elapsed < 30, elapsed                                # bounded by the limit, not by the parser
    assert not _node_children()


def test_a_schema_that_crashes_the_parser_or_is_too_large_costs_one_row(parser):
    nested = "model A {\n  id Int @id\n  x Int[] @default(" + "[" * 50000 + "]" * 50000 + ")\n}\n"
    row = _one(_rows(_answer(nested), sql=False), "Prisma schema")
    assert row.failed and row.message.startswith("Prisma's parser crashed on this schema: RuntimeError")
    huge = "\n".join(f"model M{i} {{\n  id Int @id\n  name String\n}}" for i in range(12000))
    row = _one(_rows(_answer(huge), sql=False), "Prisma schema")
    assert row.skipped and re.search(r"too large to check \(5\d\d,\d{3} characters; at most 500,000\)", row.message)


def test_memory_and_output_are_bounded(parser):
    _, folder = node.require("prisma")
    with pytest.raises(node.NodeFailed, match=r"at its memory limit \(256 MB\)"):
        node.run_script("const m = new WebAssembly.Memory({initial: 1, maximum: 65536}); for (;;) m.grow(160);",
                        "", package=folder, memory_mb=256)
    with pytest.raises(node.NodeFailed, match=r"printing past its output limit \(1 MB\)"):
        node.run_script('for (;;) process.stdout.write("x".repeat(65536));', "", package=folder,
                        max_output=1 << 20)


def _node_children() -> list[int]:
    """node processes whose parent is this test process (none once a check is over)."""
    me = str(os.getpid())
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")[0]
        except OSError:
            continue
        if fields[1] == me and cmd.endswith(b"node"):
            found.append(int(pid))
    return found


def test_a_prisma_artifact_is_checked_by_the_public_function(parser):
    rows = agentnb.checks.check_prisma([Artifact("prisma", "prisma", "model A {\n  id Int @id\n}\n",
                                                 filename="schema.prisma")])
    assert [(r.name, r.status, r.message) for r in rows] == [
        ("Prisma schema: schema.prisma", "passed", "valid for Prisma's parser: 1 model")]


@pytest.mark.postgres
def test_enums_as_prisma_names_them_and_an_invalid_schema_is_not_compared(parser):
    ddl = DDL.replace("CREATE TYPE loan_status", 'CREATE TYPE "LoanStatus"').replace(
        "status loan_status", 'status "LoanStatus"')
    rows = _rows(_answer(SCHEMA.replace('  @@map("loan_status")\n', ""), ddl))
    if _one(rows, "Schema on PostgreSQL").skipped:
        pytest.skip("no PostgreSQL")
    assert _one(rows, "Prisma models match the schema").passed
    rows = _rows(_answer(SCHEMA.replace("email String ", "email Strin  "), DDL))
    compared = _one(rows, "Prisma models match the schema")
    assert (compared.status, compared.message) == ("skipped", "the Prisma schema did not validate: nothing to compare")


def test_lines_and_columns_after_accents_and_emoji(parser):
    # the parser counts UTF-16 units (an emoji is two): the answer's columns count characters
    text = _answer("model A {\n  id Int @id\n  // prêt 😀\n  ne Strin\n  né Strin\n}\n")
    row = _one(_rows(text, sql=False), "Prisma schema")
    assert [(e["answer_line"], e["column"]) for e in row.details["errors"]] == [
        (_answer_line(text, "ne Strin"), 6), (_answer_line(text, "né Strin"), 6)]
