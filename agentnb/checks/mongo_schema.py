"""MongoDB's dialect of JSON Schema (``$jsonSchema``): draft 4 with ``bsonType``, without ``$ref``,
``$schema``, ``default``, ``definitions``, ``format``, ``id`` nor the ``integer`` type, and no unknown
keyword (MongoDB's $jsonSchema reference: Available Keywords, Extensions, Omissions). ``schema_problems``
lists what a server would refuse, or what makes every document fail, with the path of each.
"""

from __future__ import annotations

import re

from agentnb.checks.mongo_literals import Call, shown

__all__ = ["BSON_TYPES", "schema_problems"]

# $type's aliases (MongoDB's BSON types page), "number" included; the deprecated ones still parse
BSON_TYPES = ("double", "string", "object", "array", "binData", "objectId", "bool", "date", "null", "regex",
              "javascript", "int", "timestamp", "long", "decimal", "minKey", "maxKey", "number",
              "undefined", "dbPointer", "symbol", "javascriptWithScope")
_BSON_HINTS = {"integer": "int or long", "boolean": "bool", "objectid": "objectId", "ObjectId": "objectId",
               "float": "double", "datetime": "date", "Date": "date", "timestamp_": "timestamp",
               "decimal128": "decimal", "Decimal128": "decimal", "binary": "binData", "uuid": "binData",
               "int32": "int", "int64": "long", "str": "string", "dict": "object", "list": "array"}
_JSON_TYPES = ("object", "array", "number", "boolean", "string", "null")
_KEYWORDS = {"additionalItems", "additionalProperties", "allOf", "anyOf", "bsonType", "dependencies",
             "description", "enum", "exclusiveMaximum", "exclusiveMinimum", "items", "maximum", "maxItems",
             "maxLength", "maxProperties", "minimum", "minItems", "minLength", "minProperties", "multipleOf",
             "not", "oneOf", "pattern", "patternProperties", "properties", "required", "title", "type",
             "uniqueItems", "encrypt"}
_OMITTED = {"$ref": "references are not supported: write the sub-schema in place",
            "$schema": "MongoDB rejects it: remove it",
            "default": "MongoDB does not support defaults in a validator: set them in the application",
            "definitions": "references are not supported: write the sub-schemas in place",
            "format": "MongoDB does not check formats: use `pattern` (or bsonType \"date\" for dates)",
            "id": "not supported: remove it", "$id": "not supported: remove it",
            "const": "not in draft 4: use `enum` with one value",
            "if": "not in draft 4 (conditionals): use `oneOf`/`anyOf`",
            "examples": "not in draft 4: remove it", "$comment": "not in draft 4: use `description`",
            "contains": "not in draft 4", "propertyNames": "not in draft 4"}


def schema_problems(schema, path: tuple = ()) -> list[tuple[tuple, str]]:
    """What MongoDB would refuse in a (sub-)schema and those under it, or what makes every insert fail:
    (path, problem) each."""
    if not isinstance(schema, dict):
        return [(path, f"a schema must be an object, not {shown(schema)}")]
    out: list[tuple[tuple, str]] = []
    for key, value in schema.items():
        here = path + (key,)
        if key in _OMITTED:
            out.append((here, f"`{key}` is not supported by MongoDB's $jsonSchema: {_OMITTED[key]}"))
        elif key not in _KEYWORDS:
            out.append((here, f"unknown $jsonSchema keyword `{key}`: MongoDB rejects keywords it does not know"))
        else:
            out += _keyword_problems(key, value, here)
    if "type" in schema and "bsonType" in schema:
        out.append((path + ("bsonType",), "`type` and `bsonType` in the same schema: MongoDB accepts only one"))
    for bound, limit in (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum")):
        if schema.get(bound) is True and limit not in schema:
            out.append((path + (bound,), f"`{bound}` without `{limit}`"))
    if schema.get("additionalProperties") is False and isinstance(schema.get("properties"), dict) \
            and not path and "_id" not in schema["properties"]:
        out.append((path + ("additionalProperties",),
                    "`additionalProperties: false` without `_id` in `properties`: every document has an `_id`, "
                    "so MongoDB would reject every insert; add `_id: {bsonType: \"objectId\"}`"))
    required, props = schema.get("required"), schema.get("properties")
    if isinstance(required, list) and schema.get("additionalProperties") is False and isinstance(props, dict):
        for field in required:
            if isinstance(field, str) and field not in props and not schema.get("patternProperties"):
                out.append((path + ("required",), f"`{field}` is required but not in `properties` while "
                                                  "`additionalProperties` is false: no document can match"))
    return out


def _keyword_problems(key: str, value, path: tuple) -> list[tuple[tuple, str]]:
    if key == "type":
        return _type_names(value, path, _JSON_TYPES, "type",
                           extra={"integer": "MongoDB's $jsonSchema has no `integer` type: use "
                                             "`bsonType: \"int\"` (or \"long\")"})
    if key == "bsonType":
        return _type_names(value, path, BSON_TYPES, "bsonType", extra={
            k: f"`{k}` is not a BSON type alias: use \"{v}\"" for k, v in _BSON_HINTS.items()})
    if key == "properties" or key == "patternProperties":
        if not isinstance(value, dict):
            return [(path, f"`{key}` must be an object of schemas, not {shown(value)}")]
        out = []
        for name, sub in value.items():
            if key == "patternProperties":
                try:
                    re.compile(name)
                except re.error as err:
                    out.append((path + (name,), f"the pattern {name!r} is not a valid regular expression ({err})"))
            out += schema_problems(sub, path + (name,))
        return out
    if key in ("allOf", "anyOf", "oneOf"):
        if not isinstance(value, list) or not value:
            return [(path, f"`{key}` must be a non-empty array of schemas")]
        return [p for i, sub in enumerate(value) for p in schema_problems(sub, path + (i,))]
    if key == "not":
        return schema_problems(value, path)
    if key == "items":
        if isinstance(value, list):
            return [p for i, sub in enumerate(value) for p in schema_problems(sub, path + (i,))]
        return schema_problems(value, path)
    if key in ("additionalItems", "additionalProperties"):
        return [] if isinstance(value, bool) else schema_problems(value, path)
    if key == "dependencies":
        if not isinstance(value, dict):
            return [(path, f"`dependencies` must be an object, not {shown(value)}")]
        out = []
        for name, dep in value.items():
            if isinstance(dep, list):
                if not dep or not all(isinstance(d, str) for d in dep):
                    out.append((path + (name,), "a property dependency must be a non-empty array of field names"))
            else:
                out += schema_problems(dep, path + (name,))
        return out
    if key == "required":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            return [(path, f"`required` must be a non-empty array of field names, not {shown(value)}")]
        if len(set(value)) != len(value):
            return [(path, "`required` lists a field twice")]
        return []
    if key == "enum":
        return [] if isinstance(value, list) and value else [(path, "`enum` must be a non-empty array")]
    if key in ("exclusiveMaximum", "exclusiveMinimum"):
        if isinstance(value, bool):
            return []
        return [(path, f"`{key}` is a boolean in draft 4 (MongoDB's dialect): write `{key}: true` beside "
                       f"`{'maximum' if key == 'exclusiveMaximum' else 'minimum'}: {shown(value)}`")]
    if key in ("maximum", "minimum", "multipleOf"):
        number = _number(value)
        if number is None:
            return [(path, f"`{key}` must be a number, not {shown(value)}")]
        return [(path, "`multipleOf` must be greater than 0")] if key == "multipleOf" and number <= 0 else []
    if key in ("maxItems", "minItems", "maxLength", "minLength", "maxProperties", "minProperties"):
        number = _number(value)
        if number is None or number < 0 or number != int(number):
            return [(path, f"`{key}` must be a non-negative integer, not {shown(value)}")]
        return []
    if key == "pattern":
        return [] if isinstance(value, str) else [(path, f"`pattern` must be a string, not {shown(value)}")]
    if key in ("title", "description"):
        return [] if isinstance(value, str) else [(path, f"`{key}` must be a string, not {shown(value)}")]
    if key == "uniqueItems":
        return [] if isinstance(value, bool) else [(path, f"`uniqueItems` must be a boolean, not {shown(value)}")]
    return []


def _number(value) -> float | None:
    if isinstance(value, Call) and value.name.removeprefix("new ") in (
            "NumberInt", "NumberLong", "NumberDecimal", "Int32", "Long", "Double", "Decimal128") and value.args:
        value = value.args[0]
        try:
            value = float(value) if isinstance(value, str) else value
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _type_names(value, path: tuple, allowed: tuple, key: str, extra: dict) -> list[tuple[tuple, str]]:
    names = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        return [(path, f"`{key}` must name at least one type")]
    out = []
    for i, name in enumerate(names):
        here = path + (i,) if isinstance(value, list) else path
        if not isinstance(name, str):
            out.append((here, f"`{key}` must be a type name (a string), not {shown(name)}"))
        elif name not in allowed:
            out.append((here, extra.get(name) or f"`{key}: \"{name}\"` is not one of MongoDB's "
                                                  f"{'JSON types' if key == 'type' else 'BSON type aliases'} "
                                                  f"({', '.join(allowed[:18])})"))
    return out
