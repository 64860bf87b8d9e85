"""AsyncAPI documents (2.0 to 3.1, YAML or JSON) checked against the AsyncAPI specification's own JSON
Schemas, vendored from the npm package ``@asyncapi/specs`` (agentnb/checks/specs/, refreshed by
data/fetch_asyncapi_specs.py), with the ``jsonschema`` library; then every local ``$ref`` resolved, and
every message example validated against its message's payload (and headers) schema.

Up to three rows per document: the document (jsonschema's message, the JSON path and the line in the
answer), its references (only when it has some) and its examples. The document is loaded with the
bounds of ``documents.load_document``; nothing is fetched: a ``$ref`` to another file is listed, not
followed. ``asyncapi_operations`` lists the channels and operations for the API tab.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from urllib.parse import quote, unquote

from agentnb.artifacts.model import Artifact
from agentnb.checks.documents import Loaded, line_of, load_document, stringify_keys
from agentnb.checks.jsonschema_bounds import bounded_copy, validator_class
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["SPEC_VERSIONS", "asyncapi_operations", "check_asyncapi"]

SPEC_VERSIONS = ("2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.0", "2.6.0", "3.0.0", "3.1.0")
_DOC_URI = "urn:agentnb:asyncapi-document"
_MAX_ERRORS = 20
_MAX_HOPS = 16            # a $ref that points at a $ref...: a loop is reported, not followed forever
# payload schema formats whose examples JSON Schema can check (AsyncAPI Schema is a superset of draft 7)
_JSON_SCHEMA_FORMATS = ("application/vnd.aai.asyncapi", "application/schema+json;version=draft-07",
                        "application/schema+yaml;version=draft-07")


def _place(a: Artifact) -> str:
    return a.filename or f"block {a.index + 1} (asyncapi)"


@lru_cache(maxsize=len(SPEC_VERSIONS))
def _spec_validator(version: str):
    """The specification's validator, with the bounds the answer's own schemas get: the spec has patterns
    that backtrack exponentially too (Avro's ``namespace``: 25 characters took 8.6 s, doubling with each
    one more), and a match in C cannot be stopped."""
    text = resources.files("agentnb.checks").joinpath("specs", f"asyncapi-{version}.json").read_text("utf-8")
    return validator_class()(bounded_copy(json.loads(text))[0])


def check_asyncapi(artifacts: Sequence[Artifact]) -> list[CheckResult]:
    """The rows of every AsyncAPI document of the answer (none when there is none)."""
    rows: list[CheckResult] = []
    for a in artifacts:
        if a.kind == "asyncapi":
            rows += _check_document(a)
    return rows


def _at_line(place: str, found: dict) -> str:
    return f"{place} line {found['line']}" if "line" in found else place


def _more(found: list) -> str:
    return f" (and {len(found) - 1} more)" if len(found) > 1 else ""


class _Located:
    """Where a JSON path of one document stands: its line in the block and in the answer."""

    def __init__(self, a: Artifact, loaded: Loaded):
        self.a, self.loaded = a, loaded

    def __call__(self, path) -> dict:
        line = line_of(self.loaded, self.a.code, list(path))
        return {"line": line, "answer_line": self.a.line + line - 1} if line else {}


def _check_document(a: Artifact) -> list[CheckResult]:
    place = _place(a)
    title = f"AsyncAPI document: {place}"
    loaded = load_document(a.code, place, a.language)
    if loaded.error:
        details = {"file": place}
        if loaded.line:
            details.update(line=loaded.line, answer_line=a.line + loaded.line - 1)
        return [CheckResult(title, FAILED, loaded.error, details)]
    if not isinstance(loaded.doc, dict):
        return [CheckResult(title, FAILED, f"{place}: the document is a {type(loaded.doc).__name__}, not a "
                                           "mapping with `asyncapi`, `info` and `channels`", {"file": place})]
    doc = stringify_keys(loaded.doc)
    locate = _Located(a, loaded)
    return [_document_row(title, place, doc, locate), *_refs_row(place, doc, locate),
            _examples_row(place, doc, locate)]


def _document_row(title: str, place: str, doc: dict, locate: _Located) -> CheckResult:
    details: dict = {"file": place}
    version = doc.get("asyncapi")
    if not isinstance(version, str):
        return CheckResult(title, FAILED, f"{place}: `asyncapi: {version}` is not a version string: write the "
                                          "full version in quotes (`asyncapi: \"3.0.0\"`)",
                           {**details, "json_path": "$.asyncapi", **locate(["asyncapi"])})
    details["version"] = version
    if version not in SPEC_VERSIONS:
        return CheckResult(title, SKIPPED, f"{place}: AsyncAPI {version} is not a version agentnb has the "
                                           f"specification of ({', '.join(SPEC_VERSIONS)}): not validated",
                           details)
    found = []
    for err in sorted(_spec_validator(version).iter_errors(doc), key=lambda e: [str(p) for p in e.path]):
        leaf = _leaf(err)
        path = list(leaf.absolute_path) + _unexpected_key(leaf)
        found.append({"json_path": leaf.json_path, "error": _message(leaf), **locate(path)})
        if len(found) >= _MAX_ERRORS:
            break
    if found:
        first = found[0]
        message = f"{_at_line(place, first)}: {first['error']} (at {first['json_path']}){_more(found)}"
        return CheckResult(title, FAILED, message, {**details, **first, "errors": found})
    operations = asyncapi_operations(doc)
    channels = doc.get("channels") if isinstance(doc.get("channels"), dict) else {}
    messages = _messages(doc)
    summary = ", ".join([plural(len(channels), "channel"), plural(len(operations), "operation"),
                         plural(len(messages), "message")])
    return CheckResult(title, PASSED, f"{place}: valid AsyncAPI {version}: {summary}",
                       {**details, "operations": operations})


def _leaf(err):
    """The error that says what to fix: inside a oneOf/anyOf, the branch the author meant (not the
    ``$ref`` one when the value holds no ``$ref``), down to the deepest error."""
    from jsonschema.exceptions import best_match

    while err.context:
        branches: dict[object, list] = {}
        for sub in err.context:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        instance = err.instance
        meant = [errs for errs in branches.values()
                 if not (isinstance(instance, dict) and "$ref" not in instance
                         and any(e.validator == "required" and "'$ref'" in e.message for e in errs))]
        pool = meant[0] if len(meant) == 1 else [e for errs in (meant or branches.values()) for e in errs]
        best = best_match(pool)
        if best is None or best is err:
            break
        err = best
    return err


def _unexpected_key(err) -> list:
    """[the first key an additionalProperties error is about] (its line is the one to fix), or []."""
    if err.validator != "additionalProperties" or not isinstance(err.instance, dict):
        return []
    schema = err.schema if isinstance(err.schema, dict) else {}
    patterns = list(schema.get("patternProperties") or {})
    extra = [k for k in err.instance if k not in (schema.get("properties") or {})
             and not any(re.search(p, k) for p in patterns)]
    return extra[:1]


def _message(err) -> str:
    """jsonschema's message, with the value it quotes shortened and the AsyncAPI extension regex said
    in words."""
    if err.validator == "additionalProperties" and "does not match any of the regexes: '^x-" in err.message:
        key = err.message.split(" does not match", 1)[0]
        return f"{key} is not a field of this object (only `x-` extensions may be added)"
    message = err.message
    return message if len(message) <= 300 else message[:297] + "..."


# --- references --------------------------------------------------------------------------------------

def _pointer(ref: str) -> list[str] | None:
    """The path of a local ``$ref`` (``#/a/b~1c``), or None for another file's."""
    if not ref.startswith("#"):
        return None
    fragment = unquote(ref[1:])
    if not fragment:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in fragment.lstrip("/").split("/")]


def _at(doc, path):
    """The value at ``path`` (keys, list indexes as text), or _MISSING."""
    node = doc
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


_MISSING = object()
_LOOP = object()                  # a $ref chain that comes back to itself


def _resolve(doc, value, path: list) -> tuple[list, object]:
    """(path, value) once local ``$ref``s are followed; the value is _MISSING when one is broken, _LOOP
    when they go round in a loop."""
    for _ in range(_MAX_HOPS):
        ref = value.get("$ref") if isinstance(value, dict) else None
        target = _pointer(ref) if isinstance(ref, str) else None
        if target is None:
            return path, value
        path, value = target, _at(doc, target)
        if value is _MISSING:
            return path, _MISSING
    return path, _LOOP


def _refs(node, path: list, out: list) -> list:
    """(path of the object holding it, $ref) for every ``$ref`` of the document; iterative."""
    stack = [(node, path)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                out.append((path, node["$ref"]))
            stack.extend((v, path + [k]) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, path + [i]) for i, v in enumerate(node))
    return sorted(out, key=lambda item: [str(p) for p in item[0]])


def _json_path(path) -> str:
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier():
            out += f".{part}"
        else:
            out += f"['{part}']"
    return out


def _refs_row(place: str, doc: dict, locate: _Located) -> list[CheckResult]:
    refs = _refs(doc, [], [])
    if not refs:
        return []
    title = f"AsyncAPI references: {place}"
    broken, external = [], []
    for path, ref in refs:
        target = _pointer(ref)
        if target is None:
            external.append(ref)
        else:
            end = _resolve(doc, {"$ref": ref}, [])[1]
            if end is _MISSING or end is _LOOP:
                # located up to the ones the row keeps: each lookup walks the document
                place_of = locate(path + ["$ref"]) if len(broken) < _MAX_ERRORS else {}
                broken.append({"ref": ref, "json_path": _json_path(path), **place_of,
                               "why": "points to nothing in the document" if end is _MISSING
                               else "is part of a loop of $refs that never reaches a value"})
    details: dict = {"file": place, "refs": len(refs)}
    if external:
        details["external_refs"] = external
    if broken:
        first = broken[0]
        message = (f"{_at_line(place, first)}: $ref {first['ref']!r} {first['why']} "
                   f"(at {first['json_path']}){_more(broken)}")
        return [CheckResult(title, FAILED, message, {**details, **first, "broken": broken[:_MAX_ERRORS]})]
    resolved = len(refs) - len(external)
    message = f"{plural(resolved, 'local $ref')} resolve{'s' if resolved == 1 else ''}"
    if external:
        message += f"; {plural(len(external), 'reference')} to other files not followed ({external[0]})"
    return [CheckResult(title, PASSED, message, details)]


# --- messages and their examples ---------------------------------------------------------------------

def _messages(doc: dict) -> dict[tuple, tuple[str, dict]]:
    """Every message object of the document, once each: {its path: (name, message)}."""
    found: dict[tuple, tuple[str, dict]] = {}

    def add(value, path: list, name: str | None) -> None:
        path, value = _resolve(doc, value, path)
        if isinstance(value, dict) and tuple(path) not in found:
            label = value.get("name") or value.get("messageId") or name or _json_path(path)
            found[tuple(path)] = (str(label), value)

    components = doc.get("components") if isinstance(doc.get("components"), dict) else {}
    channels = doc.get("channels") if isinstance(doc.get("channels"), dict) else {}
    v3 = str(doc.get("asyncapi", "")).startswith("3.")
    for channel_name, channel in channels.items():
        path, channel = _resolve(doc, channel, ["channels", channel_name])
        if not isinstance(channel, dict):
            continue
        if v3:
            for key, message in _items(channel.get("messages")):
                add(message, path + ["messages", key], key)
            continue
        for action in ("publish", "subscribe"):
            op = channel.get(action)
            message = op.get("message") if isinstance(op, dict) else None
            if isinstance(message, dict) and isinstance(message.get("oneOf"), list):
                for i, one in enumerate(message["oneOf"]):
                    add(one, path + [action, "message", "oneOf", i], None)
            elif message is not None:
                add(message, path + [action, "message"], None)
    for key, message in _items(components.get("messages")):
        add(message, ["components", "messages", key], key)
    return found


def _items(value) -> list:
    return list(value.items()) if isinstance(value, dict) else []


def _payload_schema(message: dict, path: list) -> tuple[list | None, str | None]:
    """(path of the payload's JSON Schema, None) or (None, why its examples cannot be checked)."""
    payload = message.get("payload")
    if payload is None:
        return None, "no payload schema"
    schema_format, schema_path = message.get("schemaFormat"), path + ["payload"]
    if isinstance(payload, dict) and "schemaFormat" in payload and "schema" in payload:   # 3.x multi-format
        schema_format, schema_path = payload["schemaFormat"], path + ["payload", "schema"]
    if schema_format is not None and not (isinstance(schema_format, str) and schema_format.replace(" ", "")
                                          .startswith(_JSON_SCHEMA_FORMATS)):
        return None, f"payload schema in {schema_format}"
    return schema_path, None


def _validator(doc: dict, schema_path: list):
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    registry = Registry().with_resource(_DOC_URI, DRAFT7.create_resource(doc))
    fragment = "".join("/" + quote(str(p).replace("~", "~0").replace("/", "~1"), safe="~") for p in schema_path)
    return validator_class()({"$ref": f"{_DOC_URI}#{fragment}"}, registry=registry)


def _examples_row(place: str, doc: dict, locate: _Located) -> CheckResult:
    title = f"AsyncAPI examples: {place}"
    checked, not_checked, failures = 0, [], []
    bounded, risky = bounded_copy(doc)
    for path, (name, message) in _messages(doc).items():
        examples = message.get("examples")
        if not isinstance(examples, list) or not examples:
            continue
        schema_path, why = _payload_schema(message, list(path))
        for i, example in enumerate(examples):
            if not isinstance(example, dict):
                continue
            parts = [("payload", schema_path)] if "payload" in example else []
            if "headers" in example and message.get("headers") is not None:
                parts.append(("headers", list(path) + ["headers"]))
            for part, target in parts:
                where = list(path) + ["examples", i, part]
                if target is None:
                    not_checked.append(f"{name} ({why})")
                    continue
                checked += 1
                failures += _example_errors(bounded, target, example[part], name, part, i, where,
                                            locate if len(failures) < _MAX_ERRORS else _unplaced)
    if risky and checked:
        not_checked.append(f"{plural(len(risky), 'pattern')} that could take exponential time ({risky[0]!r})")
    details: dict = {"file": place, "checked": checked}
    if not_checked:
        details["not_checked"] = not_checked
    if failures:
        first = failures[0]
        message = (f"{_at_line(place, first)}: message {first['message']} example {first['example'] + 1} "
                   f"{first['part']}: {first['error']} (at {first['json_path']}){_more(failures)}")
        return CheckResult(title, FAILED, message, {**details, **first, "errors": failures[:_MAX_ERRORS]})
    if not checked:
        why = f" ({'; '.join(not_checked)})" if not_checked else ""
        return CheckResult(title, SKIPPED, f"no message example to check against its schema{why}", details)
    note = f"; not checked: {', '.join(not_checked)}" if not_checked else ""
    return CheckResult(title, PASSED, f"{plural(checked, 'example')} valid against {'its' if checked == 1 else 'their'}"
                                      f" message's schema{note}", details)


def _unplaced(path) -> dict:
    """No line: past the errors a row keeps, looking each one up would walk the document for nothing."""
    return {}


def _example_errors(doc, target, value, name, part, index, where, locate) -> list[dict]:
    from jsonschema.exceptions import SchemaError
    from referencing.exceptions import Unresolvable

    base = {"message": name, "example": index, "part": part}
    try:
        errors = sorted(_validator(doc, target).iter_errors(value), key=lambda e: [str(p) for p in e.path])
    except Unresolvable as err:
        missing = getattr(err, "ref", None) or str(err)
        missing = "#" + missing if missing.startswith("/") else missing
        return [{**base, "error": f"its schema refers to {missing!r}, which is not in the document",
                 "json_path": _json_path(target), **locate(target)}]
    except RecursionError:
        return [{**base, "error": "its schema refers to itself in a loop", "json_path": _json_path(target),
                 **locate(target)}]
    except SchemaError as err:
        return [{**base, "error": f"its schema is not valid JSON Schema: {err.message}",
                 "json_path": _json_path(target), **locate(target)}]
    out = []
    for err in errors[:_MAX_ERRORS]:
        leaf = _leaf(err)
        path = where + list(leaf.absolute_path)
        out.append({**base, "error": _message(leaf), "json_path": _json_path(path), **locate(path)})
    return out


# --- the API tab -------------------------------------------------------------------------------------

def asyncapi_operations(document) -> list[dict]:
    """The document's operations, for the API tab: ``{"operation", "channel", "action", "messages",
    "summary"}`` each. AsyncAPI 3 (``operations``: action send/receive, the channel's address) and 2
    (each channel's publish/subscribe). A malformed document gives what can be read of it."""
    if not isinstance(document, dict):
        return []
    doc = stringify_keys(document)
    out: list[dict] = []
    names = {path: name for path, (name, _) in _messages(doc).items()}
    if str(doc.get("asyncapi", "")).startswith("3."):
        for op_id, op in _items(doc.get("operations")):
            _, op = _resolve(doc, op, ["operations", op_id])
            if not isinstance(op, dict):
                continue
            channel_path, channel = _resolve(doc, op.get("channel"), [])
            channel = channel if isinstance(channel, dict) else {}
            address = channel.get("address") or (channel_path[-1] if channel_path else None)
            refs = op.get("messages") if isinstance(op.get("messages"), list) else None
            if refs is not None:
                paths = [tuple(_resolve(doc, r, [])[0]) for r in refs]
            else:
                paths = [tuple(_resolve(doc, m, list(channel_path) + ["messages", k])[0])
                         for k, m in _items(channel.get("messages"))]
            out.append({"operation": op_id, "channel": address, "action": op.get("action"),
                        "messages": [names.get(p, p[-1] if p else "?") for p in paths],
                        "summary": op.get("summary") or op.get("description")})
        return out
    for channel_name, channel in _items(doc.get("channels")):
        path, channel = _resolve(doc, channel, ["channels", channel_name])
        for action in ("publish", "subscribe"):
            op = channel.get(action) if isinstance(channel, dict) else None
            if not isinstance(op, dict):
                continue
            prefix = [*path, action, "message"]
            message = op.get("message")
            if isinstance(message, dict) and isinstance(message.get("oneOf"), list):
                found = [_resolve(doc, m, prefix + ["oneOf", i])[0] for i, m in enumerate(message["oneOf"])]
            else:
                found = [_resolve(doc, message, prefix)[0]] if message is not None else []
            messages = [names.get(tuple(p), "?") for p in found]
            out.append({"operation": op.get("operationId"), "channel": channel_name, "action": action,
                        "messages": messages, "summary": op.get("summary") or op.get("description")})
    return out
