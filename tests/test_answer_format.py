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
                           "no request examples (curl, HTTPie or grpcurl)")
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
    assert report.rows[-1].message == "no request examples (curl, HTTPie or grpcurl)"


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


SDL = "type Book {\n  id: ID!\n  title: String!\n  type: String\n}\n\ntype Query {\n  book(id: ID!): Book\n}"
QUERY = "query Book {\n  book(id: \"1\") {\n    id\n    type\n  }\n}"


def test_a_requested_graphql_schema_must_be_in_the_answer():
    # example operations alone are not a schema: the row fails and says what is missing
    text = fence("python", "# app/main.py\nx = 1") + fence("graphql", QUERY)
    row = check_answer_format(text, extract(text), ["code", "graphql"])
    assert (row.status, row.details["missing"]) == ("failed", ["graphql"])
    assert row.message == "no GraphQL schema (SDL type definitions; example operations alone are not one)"
    text += fence("graphql", "# schema.graphql\n" + SDL)
    row = check_answer_format(text, extract(text), ["code", "graphql"])
    assert (row.status, row.message) == ("passed", "has code, graphql")


def test_the_whole_check_run_holds_an_answer_to_a_requested_graphql_schema():
    text = fence("graphql", QUERY)
    assert checks.run(extract(text), answer_text=text, required="graphql", sql=False).rows[-1].status == "failed"
    text = fence("graphql", SDL) + fence("graphql", QUERY)
    report = checks.run(extract(text), answer_text=text, required="graphql", sql=False)
    assert [(r.name, r.status) for r in report.rows if r.name.startswith(("GraphQL", "Answer"))] == [
        ("GraphQL schema", "passed"), ("GraphQL operations: block 2 (graphql)", "passed"),
        ("Answer format", "passed")]


PROTO_MESSAGES = 'syntax = "proto3";\npackage library.v1;\nmessage Book {\n  int64 id = 1;\n}'
PROTO_SERVICE = PROTO_MESSAGES + "\nservice Books {\n  rpc GetBook (Book) returns (Book);\n}"


def test_proto_asks_for_a_proto_file_and_grpc_for_a_service_in_one():
    messages_only = fence("proto", "// library/v1/common.proto\n" + PROTO_MESSAGES)
    row = check_answer_format(messages_only, extract(messages_only), "proto, grpc")
    assert (row.status, row.details["missing"]) == ("failed", ["grpc"])
    assert row.message == "no gRPC service (a .proto file declaring a `service`)"
    with_service = messages_only + fence("proto", "// library/v1/books.proto\n" + PROTO_SERVICE)
    assert check_answer_format(with_service, extract(with_service), "proto, grpc").message == "has proto, grpc"
    # a gRPC answer's examples are grpcurl commands
    grpcurl = fence("bash", "grpcurl -plaintext -d '{\"id\": 1}' localhost:50051 library.v1.Books/GetBook")
    assert check_answer_format(grpcurl, extract(grpcurl), "examples").status == "passed"
    no_proto = fence("python", "x = 1")
    row = check_answer_format(no_proto, extract(no_proto), ["proto"])
    assert (row.status, row.message) == ("failed", "no Protocol Buffers file (.proto)")


def test_dockerfile_and_compose_are_known_parts():
    text = fence("dockerfile", "# Dockerfile\nFROM python:3.12-slim\nCOPY . /app\nUSER app\nCMD [\"python\", \"app.py\"]")
    row = check_answer_format(text, extract(text), ["dockerfile", "compose"])
    assert (row.status, row.message) == ("failed", "no docker-compose file")
    text += fence("yaml", "# compose.yaml\nservices:\n  api:\n    build: .")
    assert check_answer_format(text, extract(text), ["dockerfile", "compose"]).status == "passed"


def test_a_prisma_schema_is_a_known_part():
    text = fence("sql", "CREATE TABLE members (id bigint PRIMARY KEY);")
    row = check_answer_format(text, extract(text), ["schema", "prisma"])
    assert (row.status, row.message) == ("failed", "no Prisma schema")
    text += fence("prisma", "model Member {\n  id BigInt @id\n  @@map(\"members\")\n}")
    assert check_answer_format(text, extract(text), ["schema", "prisma"]).status == "passed"
