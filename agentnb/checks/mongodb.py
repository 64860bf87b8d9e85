"""MongoDB validators and indexes of an answer checked as a MongoDB server would accept them, without a
server: each ``$jsonSchema`` validator against MongoDB's dialect of JSON Schema (draft 4 with
``bsonType``, without ``$ref``, ``$schema``, ``default``, ``definitions``, ``format``, ``id`` nor the
``integer`` type), and each index specification against MongoDB's key forms and options.

Where they are read: ``mongodb``/``mongosh`` blocks and shell-style JavaScript (``db.createCollection``,
``db.x.createIndex``, ``db.runCommand({collMod|createIndexes ...})``), JSON blocks holding ``$jsonSchema``
or a ``createIndexes`` command, and the driver calls of the answer's JavaScript, TypeScript and Python
(``createIndex``/``create_index``, ``createIndexes``/``create_indexes`` with pymongo's ``IndexModel``,
Mongoose's ``schema.index``, a ``{"$jsonSchema": ...}`` dict). The literals are read by
``mongo_literals`` (JSON, JavaScript object literals, Python dicts; nothing is evaluated): a validator
that is a computed expression is skipped with the reason; a validator held in a variable is followed to
its ``name = {...}`` in the same block.

Rows: one per validator (``MongoDB $jsonSchema: <collection>``), one for the answer's indexes
(``MongoDB indexes``), each problem with the line in the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agentnb.artifacts.model import Artifact
from agentnb.checks.limits import MAX_TEXT, too_large
from agentnb.checks.mongo_indexes import INDEX_CALL, index_row, index_specs
from agentnb.checks.mongo_literals import (
    Literal,
    Name,
    Unreadable,
    block_name,
    is_python,
    located,
    read_value,
)
from agentnb.checks.mongo_schema import BSON_TYPES, schema_problems
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["BSON_TYPES", "check_mongodb", "mongodb_blocks"]

MAX_VALIDATORS = 20          # per block: a real answer has a few
_HOSTS = ("mongodb", "python", "javascript", "typescript", "json")
_VALIDATION_LEVELS = ("off", "strict", "moderate")
_VALIDATION_ACTIONS = ("error", "warn", "errorAndLog")

_JSON_SCHEMA_KEY = re.compile(r"""(["']?)\$jsonSchema\1[ \t]*:""")
_COLLECTION_BEFORE = re.compile(
    r"""(?:createCollection|create_collection|collMod["']?\s*:|getCollection|get_collection|collection)"""
    r"""\s*\(?\s*["']([\w.-]+)["']""")
_SETTING = re.compile(r"""(["']?)(validationLevel|validationAction)\1[ \t]*[:=][ \t]*["'](\w*)["']""")
_MONGO_CODE = re.compile(r"mongo|\bmotor\b", re.I)     # pymongo, motor, mongoose, the Node driver


def mongodb_blocks(artifacts: Sequence[Artifact]) -> list[Artifact]:
    """The blocks that hold a MongoDB validator or index specification to check."""
    return [a for a in artifacts if a.kind == "mongodb" or (a.kind in _HOSTS and (
        "$jsonSchema" in a.code or INDEX_CALL.search(a.code) and _MONGO_CODE.search(a.code)))]


def check_mongodb(artifacts: Sequence[Artifact]) -> list[CheckResult]:
    """One row per ``$jsonSchema`` validator, one for all the index specifications; none when the
    answer has neither."""
    rows: list[CheckResult] = []
    indexes: list[dict] = []
    index_notes: list[dict] = []
    for a in mongodb_blocks(artifacts):
        if len(a.code) > MAX_TEXT:
            rows.append(CheckResult(f"MongoDB: {block_name(a)}", SKIPPED, too_large(block_name(a), a.code),
                                    {"file": block_name(a)}))
            continue
        rows += _validator_rows(a)
        rows += _setting_rows(a)
        found, notes = index_specs(a)
        indexes += found
        index_notes += notes
    if indexes or index_notes:
        rows.append(index_row(indexes, index_notes))
    return rows


def _located_message(found: dict, text: str) -> str:
    return f"{found['file']} line {found['line']}: {text}"


# --- $jsonSchema validators ----------------------------------------------------------------------------

def _validator_rows(a: Artifact) -> list[CheckResult]:
    rows: list[CheckResult] = []
    read_until = 0
    for m in _JSON_SCHEMA_KEY.finditer(a.code):
        if m.start() < read_until:            # inside a validator already read: each text is read once
            continue
        if len(rows) >= MAX_VALIDATORS:
            rows.append(CheckResult(f"MongoDB $jsonSchema: {block_name(a)}", SKIPPED,
                                    f"more than {MAX_VALIDATORS} validators in one block: the rest not checked",
                                    located(a, m.start())))
            break
        collection = _collection_before(a.code, m.start())
        name = f"MongoDB $jsonSchema: {collection or block_name(a)}"
        where = located(a, m.start())
        try:
            literal = read_value(a.code, m.end(), python=is_python(a))
            if isinstance(literal.value, Name):           # schema = {...}; ... {$jsonSchema: schema}
                literal = _assigned(a, literal.value.name) or literal
        except Unreadable as err:
            status = FAILED if a.language == "json" else SKIPPED
            at = located(a, err.offset)
            rows.append(CheckResult(name, status, _located_message(at, f"{'' if status == FAILED else 'not checked: '}"
                                                                       f"the validator is not a literal agentnb "
                                                                       f"can read ({err})"), at))
            if err.refused:
                break
            read_until = err.offset
            continue
        read_until = literal.end
        if isinstance(literal.value, Name):
            rows.append(CheckResult(name, SKIPPED, _located_message(
                where, f"not checked: the validator is the variable `{literal.value.name}`, not defined as a "
                       "literal in this block"), where))
            continue
        problems = schema_problems(literal.value)
        details = {**where, "collection": collection} if collection else dict(where)
        if problems:
            found = []
            for path, text in problems:
                at = located(a, literal.offset_of(path))
                found.append({**at, "path": _dotted(path), "error": text})
            first = found[0]
            message = _located_message(first, f"{first['error']} (at $jsonSchema{first['path']})")
            if len(found) > 1:
                message += f" (and {len(found) - 1} more)"
            rows.append(CheckResult(name, FAILED, message, {**details, **{k: first[k] for k in
                                                                          ("line", "answer_line", "path")},
                                                            "errors": found[:20]}))
        else:
            props = literal.value.get("properties") if isinstance(literal.value, dict) else None
            required = literal.value.get("required") if isinstance(literal.value, dict) else None
            count = len(props) if isinstance(props, dict) else 0
            text = f"valid MongoDB $jsonSchema: {plural(count, 'property', 'properties')}"
            if isinstance(required, list) and required:
                text += f", {len(required)} required"
            rows.append(CheckResult(name, PASSED, text, details))
    return rows


def _collection_before(code: str, offset: int) -> str | None:
    found = None
    for m in _COLLECTION_BEFORE.finditer(code, max(0, offset - 2000), offset):
        found = m.group(1)
    return found


def _assigned(a: Artifact, name: str) -> Literal | None:
    """The literal ``name = {...}`` (``const``/``let``/``var`` or Python) in the same block, if any."""
    m = re.search(rf"^[ \t]*(?:(?:const|let|var)[ \t]+)?{re.escape(name)}[ \t]*(?::[^=\n]*)?=[ \t]*(?=[{{\[])",
                  a.code, re.M)
    return read_value(a.code, m.end(), python=is_python(a)) if m else None


def _dotted(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _setting_rows(a: Artifact) -> list[CheckResult]:
    """validationLevel / validationAction values (createCollection, collMod)."""
    rows = []
    for m in _SETTING.finditer(a.code):
        key, value = m.group(2), m.group(3)
        allowed = _VALIDATION_LEVELS if key == "validationLevel" else _VALIDATION_ACTIONS
        if value not in allowed:
            at = located(a, m.start(2))
            rows.append(CheckResult(f"MongoDB {key}: {_collection_before(a.code, m.start()) or block_name(a)}", FAILED,
                                    _located_message(at, f"{key} \"{value}\" is not one of {', '.join(allowed)}"),
                                    at))
    return rows


