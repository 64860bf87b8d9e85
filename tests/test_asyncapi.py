"""AsyncAPI documents: validated against the specification's JSON Schemas (vendored from @asyncapi/specs),
their $refs resolved, their message examples validated against the payloads; hostile documents cost a row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agentnb import checks, extract
from agentnb.checks.answer_format import check_answer_format
from agentnb.checks.asyncapi import SPEC_VERSIONS, asyncapi_operations, check_asyncapi
from child_checks import checks_in_child

REPO = Path(__file__).resolve().parents[1]
CHAT = """\
asyncapi: 3.0.0
info:
  title: Chat
  version: 1.0.0
channels:
  userSignedUp:
    address: user/signedup
    messages:
      UserSignedUp:
        $ref: '#/components/messages/UserSignedUp'
operations:
  onUserSignedUp:
    action: receive
    channel:
      $ref: '#/channels/userSignedUp'
    messages:
      - $ref: '#/channels/userSignedUp/messages/UserSignedUp'
    summary: A user signed up
components:
  messages:
    UserSignedUp:
      payload:
        $ref: '#/components/schemas/User'
      examples:
        - payload: {email: ada@example.com, age: 36}
  schemas:
    User:
      type: object
      required: [email]
      properties:
        email: {type: string}
        age: {type: integer, minimum: 0}
"""
ROOMS_V2 = """\
asyncapi: '2.6.0'
info: {title: Rooms, version: '1.0'}
channels:
  room/{roomId}:
    parameters:
      roomId: {schema: {type: string}}
    publish:
      operationId: sendToRoom
      message:
        oneOf:
          - $ref: '#/components/messages/Text'
          - name: Ping
            payload: {type: object}
    subscribe:
      message: {$ref: '#/components/messages/Text'}
components:
  messages:
    Text:
      name: TextMessage
      payload:
        type: object
        properties: {text: {type: string, maxLength: 20}}
      examples:
        - payload: {text: hello}
"""


def fence(lang: str, code: str, intro: str = "The events:\n\n") -> str:
    return f"{intro}```{lang}\n{code}```\n"


def rows_of(text: str) -> dict:
    return {r.name.split(":")[0]: r for r in check_asyncapi(extract(text))}


def line_in(answer: str, needle: str) -> int:
    return next(i for i, line in enumerate(answer.split("\n"), 1) if needle in line)


def test_a_correct_asyncapi_3_document_passes_its_three_rows_and_lists_its_operations():
    rows = rows_of(fence("yaml", CHAT))
    assert rows["AsyncAPI document"].status == "passed"
    assert rows["AsyncAPI document"].message == \
        "block 1 (asyncapi): valid AsyncAPI 3.0.0: 1 channel, 1 operation, 1 message"
    assert rows["AsyncAPI document"].details["operations"] == [
        {"operation": "onUserSignedUp", "channel": "user/signedup", "action": "receive",
         "messages": ["UserSignedUp"], "summary": "A user signed up"}]
    assert (rows["AsyncAPI references"].status, rows["AsyncAPI references"].message) == \
        ("passed", "4 local $refs resolve")
    assert (rows["AsyncAPI examples"].status, rows["AsyncAPI examples"].message) == \
        ("passed", "1 example valid against its message's schema")


def test_an_asyncapi_2_document_in_json_passes_and_its_publish_and_subscribe_are_listed():
    doc = json.dumps(yaml.safe_load(ROOMS_V2), indent=2) + "\n"
    arts = extract(fence("json", doc))
    assert [a.kind for a in arts] == ["asyncapi"]
    rows = {r.name.split(":")[0]: r for r in check_asyncapi(arts)}
    assert rows["AsyncAPI document"].message == \
        "block 1 (asyncapi): valid AsyncAPI 2.6.0: 1 channel, 2 operations, 2 messages"
    assert asyncapi_operations(yaml.safe_load(ROOMS_V2)) == [
        {"operation": "sendToRoom", "channel": "room/{roomId}", "action": "publish",
         "messages": ["TextMessage", "Ping"], "summary": None},
        {"operation": None, "channel": "room/{roomId}", "action": "subscribe", "messages": ["TextMessage"],
         "summary": None}]
    assert rows["AsyncAPI examples"].status == "passed"


def test_a_wrong_action_fails_with_jsonschemas_message_its_json_path_and_the_line_in_the_answer():
    answer = fence("yaml", CHAT.replace("action: receive", "action: recieve"))
    row = rows_of(answer)["AsyncAPI document"]
    assert row.status == "failed"
    assert row.message == ("block 1 (asyncapi) line 13: 'recieve' is not one of ['send', 'receive'] "
                           "(at $.operations.onUserSignedUp.action)")
    assert row.details["answer_line"] == line_in(answer, "action: recieve")


def test_a_misspelt_field_names_the_field_and_points_at_its_line():
    answer = fence("yaml", ROOMS_V2.replace("    subscribe:", "    subscrbe:"), intro="# Events\n\nSee:\n\n")
    row = rows_of(answer)["AsyncAPI document"]
    assert row.status == "failed"
    assert row.message.endswith("'subscrbe' is not a field of this object (only `x-` extensions may be added) "
                                "(at $.channels['room/{roomId}'])")
    assert row.details["answer_line"] == line_in(answer, "subscrbe:")


def test_a_missing_required_field_is_reported():
    row = rows_of(fence("yaml", CHAT.replace("  version: 1.0.0\n", "")))["AsyncAPI document"]
    assert row.status == "failed" and "'version' is a required property (at $.info)" in row.message


def test_an_example_that_does_not_match_its_payload_fails_with_the_example_and_the_line():
    answer = fence("yaml", CHAT.replace("age: 36", "age: -3"))
    row = rows_of(answer)["AsyncAPI examples"]
    assert row.status == "failed"
    assert row.message == ("block 1 (asyncapi) line 25: message UserSignedUp example 1 payload: -3 is less than "
                           "the minimum of 0 (at $.components.messages.UserSignedUp.examples[0].payload.age)")
    assert row.details["answer_line"] == line_in(answer, "age: -3")
    assert rows_of(answer)["AsyncAPI document"].status == "passed"     # the document itself is valid


def test_an_example_against_a_v2_message_is_checked_too():
    row = rows_of(fence("yaml", ROOMS_V2.replace("text: hello", "text: 42")))["AsyncAPI examples"]
    assert row.status == "failed" and "42 is not of type 'string'" in row.message


def test_a_broken_ref_is_reported_with_its_line_and_the_examples_say_why_they_cannot_be_checked():
    answer = fence("yaml", CHAT.replace("$ref: '#/components/schemas/User'", "$ref: '#/components/schemas/Usr'"))
    rows = rows_of(answer)
    refs = rows["AsyncAPI references"]
    assert refs.status == "failed"
    assert refs.message == ("block 1 (asyncapi) line 23: $ref '#/components/schemas/Usr' points to nothing in "
                            "the document (at $.components.messages.UserSignedUp.payload)")
    assert refs.details["answer_line"] == line_in(answer, "schemas/Usr")
    assert "its schema refers to '#/components/schemas/Usr', which is not in the document" in \
        rows["AsyncAPI examples"].message


def test_a_ref_loop_is_named_as_such_and_costs_no_recursion_error():
    text = CHAT.replace("$ref: '#/components/schemas/User'", "$ref: '#/components/schemas/Loop'") + \
        "    Loop: {$ref: '#/components/schemas/Loop'}\n"
    rows = rows_of(fence("yaml", text))
    assert "is part of a loop of $refs that never reaches a value" in rows["AsyncAPI references"].message
    assert "its schema refers to itself in a loop" in rows["AsyncAPI examples"].message


def test_a_version_written_as_a_number_and_an_unknown_version():
    row = rows_of(fence("yaml", CHAT.replace("asyncapi: 3.0.0", "asyncapi: 2.6")))["AsyncAPI document"]
    assert row.status == "failed" and 'write the full version in quotes (`asyncapi: "3.0.0"`)' in row.message
    row = rows_of(fence("yaml", CHAT.replace("asyncapi: 3.0.0", "asyncapi: 1.9.0")))["AsyncAPI document"]
    assert row.status == "skipped" and "AsyncAPI 1.9.0 is not a version agentnb has the specification of" \
        in row.message


def test_every_vendored_version_loads_and_says_its_own_version():
    for version in SPEC_VERSIONS:
        path = REPO / "agentnb" / "checks" / "specs" / f"asyncapi-{version}.json"
        schema = json.loads(path.read_text())
        assert schema["properties"]["asyncapi"].get("const", schema["properties"]["asyncapi"].get("enum", [None])[0]) \
            == version
    assert "Apache" in (REPO / "agentnb" / "checks" / "specs" / "LICENSE").read_text()


def test_a_pattern_that_could_backtrack_forever_is_not_run_on_the_examples():
    text = CHAT.replace("email: {type: string}", "email: {type: string, pattern: '^(a+)+$'}").replace(
        "ada@example.com", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")
    row = rows_of(fence("yaml", text))["AsyncAPI examples"]
    assert row.status == "passed"
    assert row.message.endswith("not checked: 1 pattern that could take exponential time ('^(a+)+$')")


# --- kinds: an OpenAPI answer stays as it was ------------------------------------------------------------

def test_openapi_and_asyncapi_documents_are_told_apart_by_their_top_level_key():
    openapi = "openapi: 3.1.0\ninfo: {title: x, version: '1'}\nx-asyncapi: 'see events.yaml'\npaths: {}\n"
    assert [a.kind for a in extract(fence("yaml", openapi))] == ["openapi"]
    assert [a.kind for a in extract(fence("yaml", "# note: not openapi\n" + CHAT))] == ["asyncapi"]
    json_async = json.dumps({"asyncapi": "3.0.0", "info": {"title": "openapi", "version": "1"}})
    assert [a.kind for a in extract(fence("json", json_async + "\n"))] == ["asyncapi"]


def test_an_answer_with_an_openapi_contract_and_no_asyncapi_gets_no_new_row():
    answer = (REPO / "data" / "answers" / "design_session" / "03.md").read_text(encoding="utf-8")
    arts = extract(answer)
    assert "openapi" in {a.kind for a in arts} and not {"asyncapi", "mongodb"} & {a.kind for a in arts}
    names = [r.name for r in checks.run(arts, answer_text=answer, sql=False).rows]
    assert "OpenAPI contract" in names
    assert not [n for n in names if n.startswith(("AsyncAPI", "MongoDB"))]


# --- through checks.run, and the answer format ---------------------------------------------------------

def test_the_rows_come_through_checks_run_and_the_answer_format_knows_asyncapi():
    answer = fence("yaml", CHAT)
    report = checks.run(extract(answer), answer_text=answer, sql=False, required=["asyncapi"])
    statuses = {r.name: r.status for r in report.rows}
    assert statuses["AsyncAPI document: block 1 (asyncapi)"] == "passed"
    assert statuses["Answer format"] == "passed"
    missing = check_answer_format("x", extract(fence("python", "x = 1\n")), ["asyncapi"])
    assert (missing.status, missing.message) == ("failed", "no AsyncAPI document")


# --- hostile documents: one row each, nothing expanded --------------------------------------------------

BOMB = "asyncapi: 3.0.0\n" + "\n".join(
    ["l0: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]) + "\n"


@pytest.mark.parametrize("body,expected", [
    (BOMB, "more than 50,000 values once its aliases are expanded"),
    ("asyncapi: 3.0.0\ndeep: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
    ("asyncapi: 3.0.0\ninfo: {title: x, version: '1'}\nchannels:\n"
     + "".join(f"  c{i}:\n    address: a/{i}\n" for i in range(200_000)), "is too large to check"),
])
def test_a_hostile_document_costs_one_row_in_bounded_memory(body, expected):
    out = checks_in_child(fence("yaml", body) + fence("python", "x = 1\n"))
    asyncapi = [row for row in out["rows"] if row[0].startswith("AsyncAPI")]
    assert len(asyncapi) == 1 and asyncapi[0][1] == "failed" and expected in asyncapi[0][2]
    assert len(asyncapi[0][2]) < 160
    assert ["Python syntax: block 2 (python)", "passed"] in [row[:2] for row in out["rows"]]
    assert out["max_rss_mb"] < 600


def test_the_specification_s_own_patterns_cannot_be_made_to_backtrack():
    """Avro's ``namespace`` pattern in the specification backtracks exponentially: 25 characters took
    8.6 s unbounded, 60 would take days. Bounded, the row comes back like any other."""
    doc = ("asyncapi: 2.6.0\ninfo: {title: t, version: '1'}\nchannels:\n  c:\n    publish:\n      message:\n"
           "        schemaFormat: application/vnd.apache.avro;version=1.9.0\n        payload:\n"
           f"          type: record\n          name: X\n          namespace: {'a' * 60}!\n          fields: []\n")
    out = checks_in_child(fence("yaml", doc), timeout=60)
    assert [row[0] for row in out["rows"] if row[0].startswith("AsyncAPI document")]
