"""MongoDB validators and index specifications checked as MongoDB accepts them, without a server: mongosh
blocks, JSON, and the drivers' calls in Python and JavaScript; hostile literals cost a row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentnb import checks, extract
from agentnb.checks.answer_format import check_answer_format
from agentnb.checks.mongodb import check_mongodb
from child_checks import checks_in_child

REPO = Path(__file__).resolve().parents[1]
SHELL = """\
use shop;
db.createCollection("users", {
  validator: {
    $jsonSchema: {
      bsonType: "object",
      required: ["email", "createdAt"],
      properties: {
        _id: { bsonType: "objectId" },
        email: { bsonType: "string", pattern: "^.+@.+$", description: 'the login' },
        age: { bsonType: ["int", "null"], minimum: 0, exclusiveMinimum: false },
        tags: { bsonType: "array", items: { bsonType: "string" }, uniqueItems: true, maxItems: 20 },
        createdAt: { bsonType: "date" },   // set by the API
      },
      additionalProperties: false,
    },
  },
  validationLevel: "strict",
  validationAction: "error",
});
db.users.createIndex({ email: 1 }, { unique: true, name: "email_unique" });
db.sessions.createIndex({ createdAt: 1 }, { expireAfterSeconds: 3600 });
db.articles.createIndex({ title: "text", body: "text" }, { weights: { title: 10 }, default_language: "french" });
db.places.createIndex({ location: "2dsphere", kind: 1 });
db.events.createIndex({ "payload.$**": 1 });
db.orders.createIndex({ customerId: 1, createdAt: -1 },
                      { partialFilterExpression: { status: { $in: ["open", "paid"] } } });
"""
PYMONGO = """\
from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient

db = MongoClient()["shop"]
order_schema = {
    "bsonType": "object",
    "required": ["total"],
    "properties": {"total": {"bsonType": "decimal"}, "lines": {"bsonType": "array"}},
}
db.create_collection("orders", validator={"$jsonSchema": order_schema})
db.orders.create_index([("customer_id", ASCENDING), ("created_at", DESCENDING)], name="by_customer")
db.orders.create_indexes([IndexModel([("sku", ASCENDING)], unique=True, sparse=True)])
"""


def fence(lang: str, code: str, intro: str = "The database:\n\n") -> str:
    return f"{intro}```{lang}\n{code}```\n"


def rows_of(text: str) -> dict:
    return {r.name: r for r in check_mongodb(extract(text))}


def line_in(answer: str, needle: str) -> int:
    return next(i for i, line in enumerate(answer.split("\n"), 1) if needle in line)


def test_a_correct_mongosh_script_passes():
    arts = extract(fence("javascript", SHELL))
    assert [a.kind for a in arts] == ["mongodb"]
    rows = {r.name: r for r in check_mongodb(arts)}
    assert list(rows) == ["MongoDB $jsonSchema: users", "MongoDB indexes"]
    assert rows["MongoDB $jsonSchema: users"].message == "valid MongoDB $jsonSchema: 5 properties, 2 required"
    assert rows["MongoDB indexes"].status == "passed"
    assert rows["MongoDB indexes"].message == \
        "6 index specifications valid (articles, events, orders, places, sessions, users)"


def test_correct_pymongo_calls_pass_the_validator_followed_to_its_variable():
    rows = rows_of(fence("python", PYMONGO))
    assert rows["MongoDB $jsonSchema: orders"].message == "valid MongoDB $jsonSchema: 2 properties, 1 required"
    assert rows["MongoDB indexes"].message == "2 index specifications valid (orders)"


@pytest.mark.parametrize("old,new,message", [
    ('age: { bsonType: ["int", "null"], minimum: 0, exclusiveMinimum: false }', 'age: { type: "integer" }',
     "MongoDB's $jsonSchema has no `integer` type: use `bsonType: \"int\"` (or \"long\") "
     "(at $jsonSchema.properties.age.type)"),
    ('createdAt: { bsonType: "date" }', 'createdAt: { bsonType: "datetime" }',
     '`datetime` is not a BSON type alias: use "date" (at $jsonSchema.properties.createdAt.bsonType)'),
    ('email: { bsonType: "string", pattern: "^.+@.+$", description: \'the login\' }',
     'email: { bsonType: "string", format: "email" }',
     "`format` is not supported by MongoDB's $jsonSchema: MongoDB does not check formats: use `pattern` "
     "(or bsonType \"date\" for dates) (at $jsonSchema.properties.email.format)"),
    ('tags: { bsonType: "array"', 'tags: { bsonType: "array", default: []',
     "`default` is not supported by MongoDB's $jsonSchema: MongoDB does not support defaults in a validator: "
     "set them in the application (at $jsonSchema.properties.tags.default)"),
    ("exclusiveMinimum: false", "exclusiveMinimum: 0",
     "`exclusiveMinimum` is a boolean in draft 4 (MongoDB's dialect): write `exclusiveMinimum: true` beside "
     "`minimum: 0` (at $jsonSchema.properties.age.exclusiveMinimum)"),
    ('uniqueItems: true', 'uniqueItems: true, $ref: "#/definitions/tag"',
     "`$ref` is not supported by MongoDB's $jsonSchema: references are not supported: write the sub-schema in "
     "place (at $jsonSchema.properties.tags.$ref)"),
    ('maxItems: 20', 'maxItem: 20',
     "unknown $jsonSchema keyword `maxItem`: MongoDB rejects keywords it does not know "
     "(at $jsonSchema.properties.tags.maxItem)"),
    ('_id: { bsonType: "objectId" },', '',
     "`additionalProperties: false` without `_id` in `properties`: every document has an `_id`, so MongoDB "
     "would reject every insert; add `_id: {bsonType: \"objectId\"}` (at $jsonSchema.additionalProperties)"),
])
def test_a_validator_mongodb_would_refuse_fails_with_the_reason_and_the_line(old, new, message):
    assert old in SHELL
    answer = fence("javascript", SHELL.replace(old, new))
    row = rows_of(answer)["MongoDB $jsonSchema: users"]
    assert row.status == "failed"
    assert row.message.split(": ", 1)[1] == message
    needle = new.split(",")[-1].strip(" }") if new else "additionalProperties: false"
    assert row.details["answer_line"] == line_in(answer, needle)


@pytest.mark.parametrize("old,new,message", [
    ("{ email: 1 }, { unique: true", '{ email: "hashed" }, { unique: true', "a hashed index cannot be unique"),
    ("{ createdAt: 1 }, { expireAfterSeconds: 3600 }", "{ createdAt: 1, userId: 1 }, { expireAfterSeconds: 3600 }",
     "`expireAfterSeconds` on a compound index: a TTL index has a single (date) field; MongoDB would not expire "
     "documents by it"),
    ("expireAfterSeconds: 3600", "expireAfterSeconds: -1",
     "`expireAfterSeconds` must be a whole number of seconds from 0 to 2,147,483,647, not -1"),
    ('{ location: "2dsphere", kind: 1 }', '{ location: "2dshpere", kind: 1 }',
     '`location: "2dshpere"` is not an index type: use 1, -1, "text", "2dsphere", "2d" or "hashed"'),
    ("{ email: 1 }", "{ email: 0 }", "`email: 0` is not an index direction: use 1 (ascending) or -1 (descending)"),
    ('{ "payload.$**": 1 }', '{ "payload.$**": 1 }, { unique: true }', "a wildcard ($**) index cannot have `unique`"),
    ('{ status: { $in: ["open", "paid"] } }', '{ status: { $ne: "closed" } }',
     "`$ne` is not supported in a partial index filter (only equality, $exists: true, $gt, $gte, $lt, $lte, "
     "$type, $in, $and, $or)"),
    ('{ weights: { title: 10 }, default_language: "french" }', '{ uniqe: true }',
     "`uniqe` is not an index option MongoDB knows: it refuses the index"),
    ("{ unique: true, name",
     "{ unique: true, sparse: true, partialFilterExpression: { email: { $exists: true } }, name",
     "`sparse` and `partialFilterExpression` cannot be combined"),
    ("db.places.createIndex", 'db.articles.createIndex({ summary: "text" });\ndb.places.createIndex',
     "a second text index on `articles`: a collection has at most one"),
])
def test_an_index_mongodb_would_refuse_fails_with_the_reason_and_the_line(old, new, message):
    assert old in SHELL
    answer = fence("mongosh", SHELL.replace(old, new))
    row = rows_of(answer)["MongoDB indexes"]
    assert row.status == "failed"
    assert row.message.split(": ", 1)[1] == message
    first_line = new.split("\n")[0][:40]
    assert row.details["answer_line"] == line_in(answer, first_line)


def test_pymongo_index_mistakes_are_found_in_keyword_arguments():
    answer = fence("python", PYMONGO.replace("unique=True, sparse=True", 'unique="yes"'))
    row = rows_of(answer)["MongoDB indexes"]
    assert row.message == "block 1 (python) line 11: `unique` must be true or false, not 'yes'"
    assert row.details["answer_line"] == line_in(answer, 'unique="yes"')


def test_validation_level_and_a_json_validator():
    row = rows_of(fence("javascript", SHELL.replace('validationLevel: "strict"', 'validationLevel: "strictest"')))
    assert row["MongoDB validationLevel: users"].message == \
        'block 1 (mongodb) line 17: validationLevel "strictest" is not one of off, strict, moderate'
    doc = {"collMod": "users", "validator": {"$jsonSchema": {"bsonType": "object", "properties": {
        "n": {"bsonType": "integer"}}}}}
    answer = fence("json", json.dumps(doc, indent=2) + "\n")
    assert [a.kind for a in extract(answer)] == ["mongodb"]
    row = rows_of(answer)["MongoDB $jsonSchema: users"]
    assert row.status == "failed" and '`integer` is not a BSON type alias: use "int or long"' in row.message


def test_a_computed_validator_is_skipped_with_the_reason_not_guessed():
    code = "const base = require('./base');\nawait db.createCollection('x', {validator: {$jsonSchema: {...base}}});\n"
    arts = extract(fence("javascript", code))
    assert [a.kind for a in arts] == ["javascript"]            # application code: its syntax row stays
    row = rows_of(fence("javascript", code))["MongoDB $jsonSchema: x"]
    assert row.status == "skipped"
    assert row.message == ("block 1 (javascript) line 2: not checked: the validator is not a literal agentnb can "
                           "read (a spread (...) inside an object)")


def test_a_mongoose_schema_index_is_checked():
    code = ("const mongoose = require('mongoose');\nconst userSchema = new mongoose.Schema({ email: String });\n"
            "userSchema.index({ email: 1, name: 'hashed', phone: 'hashed' });\n")
    row = rows_of(fence("javascript", code))["MongoDB indexes"]
    assert row.message == "block 1 (javascript) line 3: more than one hashed field: an index may hash only one"


def test_code_without_a_mongodb_driver_gets_no_mongodb_row():
    code = "from sqlalchemy import Index\nitems = [1, 2]\nitems.index(2)\ndb.session.create_index = None\n"
    assert check_mongodb(extract(fence("python", code))) == []


def test_the_rows_come_through_checks_run_and_the_answer_format_knows_mongodb():
    answer = fence("mongosh", SHELL)
    report = checks.run(extract(answer), answer_text=answer, sql=False, required=["mongodb"])
    statuses = {r.name: r.status for r in report.rows}
    assert statuses["MongoDB indexes"] == "passed" and statuses["Answer format"] == "passed"
    missing = check_answer_format("x", extract(fence("python", "x = 1\n")), ["mongodb"])
    assert missing.status == "failed" and missing.message.startswith("no MongoDB validator or index")


# --- hostile literals -------------------------------------------------------------------------------

@pytest.mark.parametrize("code,expected", [
    ("db.createCollection('x', {validator: {$jsonSchema: " + "{properties: {a: " * 3000 + "{}" + "}}" * 3000
     + "}});\n", "nested more than 64 levels deep: refused, not checked"),
    ("db.x.createIndex({a: 1, $jsonSchema: {$jsonSchema: " * 8000 + "\n",
     "nested more than 64 levels deep: refused, not checked"),
    ("db.x.createIndex({a: 1});\n" * 200_000, "is too large to check"),
])
def test_a_hostile_block_is_refused_in_bounded_time_and_memory(code, expected):
    out = checks_in_child(fence("mongosh", code) + fence("python", "x = 1\n"))
    mongo = [row for row in out["rows"] if row[0].startswith("MongoDB")]
    assert 1 <= len(mongo) <= 2 and all(expected in row[2] for row in mongo)
    assert ["Python syntax: block 2 (python)", "passed"] in [row[:2] for row in out["rows"]]
    assert out["max_rss_mb"] < 600


def test_many_index_calls_are_read_up_to_a_bound_and_say_so():
    rows = rows_of(fence("mongosh", "db.x.createIndex({a: 1}, {unique: true});\n" * 2000))
    assert rows["MongoDB indexes"].message == ("500 index specifications valid (x); not checked: block 1 (mongodb) "
                                               "line 501: more than 500 index calls in one block: the rest not checked")
