"""MongoDB index specifications of an answer, found in its calls (``createIndex``/``create_index``,
``createIndexes``/``create_indexes`` with pymongo's ``IndexModel``, Mongoose's ``schema.index``, the
``createIndexes`` command) and checked against what ``createIndexes`` accepts: key forms (1/-1, "text",
"2dsphere", "2d", "hashed", wildcard ``$**``), options and their combinations, and conflicts between
the indexes an answer gives one collection. One row for all of them (``INDEX_ROW``).
"""

from __future__ import annotations

import re

from agentnb.checks.mongo_literals import (
    Call,
    Name,
    Unreadable,
    is_python,
    located,
    read_arguments,
    read_value,
    shown,
)
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["INDEX_CALL", "INDEX_ROW", "index_row", "index_specs"]

INDEX_ROW = "MongoDB indexes"
INDEX_CALL = re.compile(r"\.(createIndex|ensureIndex|create_index|ensure_index|index|createIndexes|create_indexes)"
                        r"[ \t]*\(")
_RECEIVER = re.compile(r"""(?:db\.(\w+)|\(\s*["']([\w.-]+)["']\s*\)|db\[\s*["']([\w.-]+)["']\s*\]|(\w+))\s*$""")
_CREATE_INDEXES_CMD = re.compile(r"""(["']?)createIndexes\1[ \t]*:[ \t]*["']([\w.-]+)["']""")
_INDEXES_KEY = re.compile(r"""(["']?)indexes\1[ \t]*:""")
_SPECIAL = ("text", "2dsphere", "2d", "hashed")
_PYMONGO = {"ASCENDING": 1, "DESCENDING": -1, "TEXT": "text", "HASHED": "hashed", "GEO2D": "2d",
            "GEOSPHERE": "2dsphere"}
_OPTIONS = {"name", "unique", "sparse", "partialFilterExpression", "expireAfterSeconds", "hidden", "collation",
            "weights", "default_language", "language_override", "textIndexVersion", "2dsphereIndexVersion",
            "bits", "min", "max", "wildcardProjection", "background", "storageEngine", "v", "prepareUnique",
            # the drivers' and the shell's own options of the call, not of the index
            "session", "comment", "commitQuorum", "maxTimeMS", "writeConcern"}
_BOOLEAN_OPTIONS = ("unique", "sparse", "hidden", "background", "prepareUnique")
_TEXT_OPTIONS = ("weights", "default_language", "language_override", "textIndexVersion")
_PARTIAL_OPERATORS = {"$eq", "$exists", "$gt", "$gte", "$lt", "$lte", "$type", "$and", "$or", "$in"}
_MAX_TTL = 2_147_483_647
MAX_CALLS = 500              # index calls read per block


def index_specs(a) -> tuple[list[dict], list[dict]]:
    """(index specifications of block ``a``, calls that could not be read: {file, line, why}). A
    specification: {collection, block, literal, keys, keys_path, options: {name: (value, path)}}."""
    specs, notes = [], []
    python = is_python(a)
    read_until = 0
    for m in INDEX_CALL.finditer(a.code):
        if m.start() < read_until:
            continue
        if len(specs) + len(notes) >= MAX_CALLS:
            notes.append({**located(a, m.start()), "why": f"more than {MAX_CALLS} index calls in one block: "
                                                          "the rest not checked"})
            break
        method = m.group(1)
        receiver = _RECEIVER.search(a.code[max(0, m.start() - 200):m.start()])
        collection = next((g for g in receiver.groups() if g), None) if receiver else None
        if method == "index" and not (collection or "").lower().endswith("schema"):
            continue                                          # Mongoose's schema.index only
        try:
            args, kwargs, literal = read_arguments(a.code, m.end() - 1, python=python)
        except Unreadable as err:
            notes.append({**located(a, err.offset), "why": f"{method}(...) is not a literal agentnb can read ({err})"})
            if err.refused:
                break
            read_until = err.offset
            continue
        read_until = literal.end
        base = {"collection": collection, "block": a, "literal": literal}
        if method in ("createIndexes", "create_indexes"):
            entries = args[0] if args and isinstance(args[0], list) else []
            shared = {k: (v, (1, k)) for k, v in args[1].items()} if len(args) > 1 and isinstance(args[1], dict) else {}
            specs += [{**base, **_entry(entry, (0, i), shared)} for i, entry in enumerate(entries)]
            continue
        options = {k: (v, (1, k)) for k, v in args[1].items()} if len(args) > 1 and isinstance(args[1], dict) else {}
        options.update({k: (v, (k,)) for k, v in kwargs.items() if k != "keys"})
        keys, keys_path = (args[0], (0,)) if args else (kwargs.get("keys"), ("keys",))
        specs.append({**base, "keys": keys, "keys_path": keys_path, "options": options})
    for m in _CREATE_INDEXES_CMD.finditer(a.code):
        k = _INDEXES_KEY.search(a.code, m.end())
        if not k:
            continue
        try:
            literal = read_value(a.code, k.end(), python=python)
        except Unreadable as err:
            notes.append({**located(a, err.offset), "why": f"createIndexes is not a literal agentnb can read ({err})"})
            continue
        for i, entry in enumerate(literal.value if isinstance(literal.value, list) else []):
            specs.append({"collection": m.group(2), "block": a, "literal": literal, **_entry(entry, (i,), {})})
    return specs, notes


def _entry(entry, path: tuple, shared: dict) -> dict:
    """One element of createIndexes: an IndexModel(keys, **options), a {key: ..., name: ...} spec, or (the
    shell's form) a key pattern sharing the call's options."""
    if isinstance(entry, Call) and entry.name.endswith("IndexModel"):
        keys, keys_path = (entry.args[0], path + (0,)) if entry.args else (entry.kwargs.get("keys"), path + ("keys",))
        return {"keys": keys, "keys_path": keys_path,
                "options": {k: (v, path + (k,)) for k, v in entry.kwargs.items() if k != "keys"}}
    if isinstance(entry, dict) and "key" in entry:
        return {"keys": entry["key"], "keys_path": path + ("key",),
                "options": {k: (v, path + (k,)) for k, v in entry.items() if k != "key"}}
    return {"keys": entry, "keys_path": path, "options": dict(shared)}


def _key_pairs(keys, path: tuple) -> tuple[list[tuple[str, object, tuple]], str | None]:
    """[(field, kind, path)] of a key pattern in any of its written forms, or (…, why it is not one)."""
    if isinstance(keys, str):                                            # pymongo: create_index("email")
        return [(keys, 1, path)], None
    if isinstance(keys, dict):
        return [(k, v, path + (k,)) for k, v in keys.items()], None
    if isinstance(keys, list):                                           # pymongo: [("a", ASCENDING), ...]
        pairs = []
        for i, item in enumerate(keys):
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                pairs.append((item[0], item[1], path + (i, 1)))
            elif isinstance(item, str):
                pairs.append((item, 1, path + (i,)))
            else:
                return [], f"the key list's item {i + 1} is not a (field, direction) pair"
        return pairs, None
    if isinstance(keys, Name):
        return [], f"the keys are the variable `{keys.name}`"
    return [], f"the keys are {type(keys).__name__}, not an object of fields"


def _kind(value):
    """1/-1, one of _SPECIAL, or None (unknown); Names and NumberInt(...) resolved."""
    if isinstance(value, Name):
        return _PYMONGO.get(value.name.rsplit(".", 1)[-1])
    if isinstance(value, Call) and value.name.removeprefix("new ") in ("NumberInt", "NumberLong", "Int32") \
            and value.args and isinstance(value.args[0], (int, float)):
        value = value.args[0]
    return value


def index_problems(spec: dict) -> list[tuple[tuple, str]]:
    """What createIndexes would refuse (or silently not do) in one specification: (path, problem)."""
    pairs, why = _key_pairs(spec["keys"], spec["keys_path"])
    if why:
        return [(spec["keys_path"], f"not checked: {why}")]
    if not pairs:
        return [(spec["keys_path"], "an index needs at least one key")]
    out: list[tuple[tuple, str]] = []
    kinds = []
    for field, raw, path in pairs:
        kind = _kind(raw)
        kinds.append(kind)
        if isinstance(raw, Name) and kind is None:
            continue                                              # a variable: nothing to say
        if isinstance(kind, bool) or not isinstance(kind, (int, float, str)):
            out.append((path, f"`{field}: {shown(raw)}` is not an index key type: use 1, -1, \"text\", "
                              "\"2dsphere\", \"2d\" or \"hashed\""))
        elif isinstance(kind, (int, float)) and kind == 0:
            out.append((path, f"`{field}: 0` is not an index direction: use 1 (ascending) or -1 (descending)"))
        elif isinstance(kind, str) and kind not in _SPECIAL:
            hint = " (removed in MongoDB 5.0: use 2d)" if kind == "geoHaystack" else ""
            out.append((path, f"`{field}: \"{kind}\"` is not an index type{hint}: use 1, -1, \"text\", "
                              "\"2dsphere\", \"2d\" or \"hashed\""))
    options = spec["options"]
    value = {k: v for k, (v, _) in options.items()}
    place = {k: p for k, (_, p) in options.items()}
    first = spec["keys_path"]
    fields = [f for f, _, _ in pairs]
    wildcard = [f for f in fields if f == "$**" or f.endswith(".$**")]
    if kinds.count("hashed") > 1:
        out.append((first, "more than one hashed field: an index may hash only one"))
    if "hashed" in kinds and value.get("unique") is True:
        out.append((place["unique"], "a hashed index cannot be unique"))
    if kinds.count("2d") > 1:
        out.append((first, "more than one 2d field: a 2d index has one location field"))
    elif "2d" in kinds and kinds[0] != "2d":
        out.append((first, "the 2d field must come first in a compound index"))
    if "text" in kinds and any(k in ("hashed", "2d", "2dsphere") for k in kinds):
        out.append((first, "a text index cannot be combined with a hashed or geospatial key"))
    if len(wildcard) > 1:
        out.append((first, "more than one wildcard ($**) field in one index"))
    if wildcard:
        for k in ("unique", "expireAfterSeconds"):
            if k in value and value[k] not in (False, None):
                out.append((place[k], f"a wildcard ($**) index cannot have `{k}`"))
        if any(kind in ("hashed", "2d", "2dsphere") for f, kind in zip(fields, kinds) if f in wildcard):
            out.append((first, "a wildcard ($**) field cannot be hashed or geospatial"))
    if "wildcardProjection" in value and "$**" not in fields:
        out.append((place["wildcardProjection"], "`wildcardProjection` needs a `$**` key"))
    for k in _TEXT_OPTIONS:
        if k in value and "text" not in kinds:
            out.append((place[k], f"`{k}` applies to text indexes only"))
    if "sparse" in value and "partialFilterExpression" in value and value["sparse"] is True:
        out.append((place["sparse"], "`sparse` and `partialFilterExpression` cannot be combined"))
    for k in options:
        if k not in _OPTIONS:
            out.append((place[k], f"`{k}` is not an index option MongoDB knows: it refuses the index"))
        elif k in _BOOLEAN_OPTIONS and not isinstance(value[k], bool):
            out.append((place[k], f"`{k}` must be true or false, not {shown(value[k])}"))
    if "name" in value and not isinstance(value["name"], str):
        out.append((place["name"], f"`name` must be a string, not {shown(value['name'])}"))
    out += _ttl_problems(value, place, fields)
    if "partialFilterExpression" in value:
        out += _partial_problems(value["partialFilterExpression"], place["partialFilterExpression"])
    return out


def _ttl_problems(value: dict, place: dict, fields: list[str]) -> list[tuple[tuple, str]]:
    if "expireAfterSeconds" not in value:
        return []
    ttl, path = _kind(value["expireAfterSeconds"]), place["expireAfterSeconds"]
    if isinstance(value["expireAfterSeconds"], Name):
        return []
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl != int(ttl) or not 0 <= ttl <= _MAX_TTL:
        return [(path, f"`expireAfterSeconds` must be a whole number of seconds from 0 to {_MAX_TTL:,}, "
                       f"not {shown(value['expireAfterSeconds'])}")]
    if len(fields) > 1:
        return [(path, "`expireAfterSeconds` on a compound index: a TTL index has a single (date) field; "
                       "MongoDB would not expire documents by it")]
    if fields == ["_id"]:
        return [(path, "a TTL index cannot be on `_id`: index a date field")]
    return []


def _partial_problems(expr, path: tuple) -> list[tuple[tuple, str]]:
    """partialFilterExpression takes equality, $exists: true, $gt/$gte/$lt/$lte, $type, $and, $or, $in."""
    if not isinstance(expr, dict):
        return [(path, "`partialFilterExpression` must be a filter document")]
    out = []
    for key, value in expr.items():
        here = path + (key,)
        if key in ("$and", "$or"):
            for i, sub in enumerate(value if isinstance(value, list) else [value]):
                out += _partial_problems(sub, here + (i,))
        elif key.startswith("$"):
            out.append((here, f"`{key}` is not supported in a partial index filter"))
        elif isinstance(value, dict) and any(str(k).startswith("$") for k in value):
            for op, arg in value.items():
                if op not in _PARTIAL_OPERATORS:
                    out.append((here + (op,), f"`{op}` is not supported in a partial index filter (only equality, "
                                              "$exists: true, $gt, $gte, $lt, $lte, $type, $in, $and, $or)"))
                elif op == "$exists" and arg is not True:
                    out.append((here + (op,), "only `$exists: true` is supported in a partial index filter"))
    return out


def _conflicts(specs: list[dict]) -> list[tuple[dict, tuple, str]]:
    """Between one collection's indexes: a second text index, one name for two key patterns, one key
    pattern with two sets of options."""
    out = []
    by_collection: dict[str, list[dict]] = {}
    for spec in specs:
        if spec["collection"]:
            by_collection.setdefault(spec["collection"], []).append(spec)
    for collection, group in by_collection.items():
        seen_text, names, patterns = None, {}, {}
        for spec in group:
            pairs, why = _key_pairs(spec["keys"], spec["keys_path"])
            if why:
                continue
            pattern = tuple((f, _kind(v) if not isinstance(_kind(v), float) else int(_kind(v))) for f, v, _ in pairs)
            options = {k: repr(v) for k, (v, _) in spec["options"].items() if k not in ("name", "session", "comment")}
            if any(kind == "text" for _, kind in pattern):
                if seen_text is not None and seen_text != pattern:
                    out.append((spec, spec["keys_path"], f"a second text index on `{collection}`: a collection "
                                                         "has at most one"))
                seen_text = pattern
            name = spec["options"].get("name", (None,))[0]
            if isinstance(name, str):
                if name in names and names[name] != pattern:
                    out.append((spec, spec["options"]["name"][1], f"the index name \"{name}\" is given to two "
                                                                   f"different key patterns on `{collection}`"))
                names.setdefault(name, pattern)
            if pattern in patterns and patterns[pattern] != options:
                out.append((spec, spec["keys_path"], f"the same keys are indexed twice on `{collection}` with "
                                                     "different options: MongoDB refuses the second"))
            patterns.setdefault(pattern, options)
    return out


def index_row(specs: list[dict], notes: list[dict]) -> CheckResult:
    """One row for every index specification of the answer."""
    found, unread, checked = [], list(notes), 0
    for spec in specs:
        problems = index_problems(spec)
        skipped = [(p, t) for p, t in problems if t.startswith("not checked: ")]
        checked += not skipped
        for path, text in skipped:
            unread.append({**located(spec["block"], spec["literal"].offset_of(path)),
                           "why": text.removeprefix("not checked: ")})
        for path, text in problems:
            if (path, text) not in skipped:
                found.append({**located(spec["block"], spec["literal"].offset_of(path)),
                              "collection": spec["collection"], "error": text})
    for spec, path, text in _conflicts(specs):
        found.append({**located(spec["block"], spec["literal"].offset_of(path)), "collection": spec["collection"],
                      "error": text})
    collections = sorted({s["collection"] for s in specs if s["collection"]})
    details: dict = {"indexes": len(specs), "collections": collections}
    if unread:
        details["not_checked"] = unread
    if found:
        first = found[0]
        message = f"{first['file']} line {first['line']}: {first['error']}"
        if len(found) > 1:
            message += f" (and {len(found) - 1} more)"
        place = {k: first[k] for k in ("file", "line", "answer_line")}
        return CheckResult(INDEX_ROW, FAILED, message, {**details, **place, "errors": found[:20]})
    if not checked:
        first = unread[0]
        return CheckResult(INDEX_ROW, SKIPPED, f"not checked: {first['file']} line {first['line']}: {first['why']}",
                           details)
    text = f"{plural(checked, 'index specification')} valid"
    if collections:
        text += f" ({', '.join(collections)})"
    if unread:
        text += f"; not checked: {unread[0]['file']} line {unread[0]['line']}: {unread[0]['why']}"
    return CheckResult(INDEX_ROW, PASSED, text, details)

