"""Prisma schemas of an answer, judged by Prisma's own parser (``@prisma/prisma-schema-wasm`` under Node,
run contained by ``checks.node``), and their models compared with the SQL schema PostgreSQL reflected.

One row per Prisma schema: passed, or failed with each of Prisma's messages and its line in the answer.
When the answer also has DDL, one more row compares Prisma's models (from its datamodel: ``@@map`` and
``@map`` names, scalar and native types, optional fields, ``@id``, ``@unique``, ``@@index``, relations
and implicit many-to-many tables) with the tables, through the comparison the SQLAlchemy models use
(``models.compare``). Without Node or the package the rows are skipped, naming the command that
installs them (``agentnb setup prisma``).

The datasource's ``url``, ``directUrl`` and ``shadowDatabaseUrl`` lines are blanked before the text
leaves the process: a literal URL may hold a password, and the parser (Prisma 7's) no longer reads a URL
from the schema (``prisma.config.ts`` does), while schemas written for Prisma 6 have one.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

from agentnb.artifacts.model import Artifact
from agentnb.checks import node
from agentnb.checks.limits import MAX_TEXT, too_large
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["check_prisma", "compare_with_schema", "ROW", "MODELS_ROW"]

ROW = "Prisma schema"
MODELS_ROW = "Prisma models match the schema"
PACKAGE = "@prisma/prisma-schema-wasm"
_FILE = "schema.prisma"

# lint: every error and warning with its byte span; validate: the verdict (``prisma validate``'s);
# get_datamodel: the models, only for a valid schema. A panic of the parser is caught as an error.
_SCRIPT = r"""
const p = require("@prisma/prisma-schema-wasm");
const text = require("fs").readFileSync(0, "utf8");
const files = [["schema.prisma", text]];
const out = {};
const why = (e) => String((e && e.message) || e);
const crash = (e) => (e && e.name && e.name !== "Error") ? `${e.name}: ${why(e)}` : null;
try { out.diagnostics = JSON.parse(p.lint(JSON.stringify(files))); } catch (e) { out.lint_error = why(e); }
try { p.validate(JSON.stringify({prismaSchema: files, noColor: true})); out.valid = true; }
catch (e) { out.valid = false; out.error = why(e); out.crash = crash(e); }
if (out.valid) {
  try { out.datamodel = JSON.parse(p.get_datamodel(JSON.stringify({prismaSchema: files}))); }
  catch (e) { out.datamodel_error = why(e); }
}
process.stdout.write(JSON.stringify(out));
"""

_URL_LINE = re.compile(r"^(\s*)(url|directUrl|shadowDatabaseUrl)\s*=\s*(.*?)\s*$")
_BLOCK = re.compile(r"^\s*(datasource|generator|model|enum|view|type)\s+\w+\s*\{")
_ENV_CALL = re.compile(r"""^env\(\s*["'][A-Za-z_]\w*["']\s*\)$""")
_URL_PASSWORD = re.compile(r"://[^:/@\s]*:[^@\s]+@")


def _place(a: Artifact) -> str:
    return a.filename or f"block {a.index + 1} (prisma)"


def without_urls(code: str) -> tuple[str, list[tuple[int, str]]]:
    """The schema with its datasource URL lines blanked (lines keep their numbers), and (line, what)
    for each of them."""
    lines = code.split("\n")
    notes: list[str] = []
    inside = False
    for i, line in enumerate(lines):
        block = _BLOCK.match(line)
        if block:
            inside = block.group(1) == "datasource"
        elif inside and line.strip() == "}":
            inside = False
        m = _URL_LINE.match(line) if inside else None
        if m:
            lines[i] = ""
            value = m.group(3)
            if _ENV_CALL.match(value):
                notes.append((i + 1, f"{m.group(2)} read from {value}"))
            else:
                notes.append((i + 1, f"{m.group(2)} written out" + (
                    " with a password (use env(\"DATABASE_URL\"))" if _URL_PASSWORD.search(value) else "")))
    return "\n".join(lines), notes


# --- running the parser, once per text ---------------------------------------------------------------

_parsed: OrderedDict = OrderedDict()
_parsed_lock = threading.Lock()
_KEEP = 8


def _parse(text: str, *, cached_only: bool = False) -> dict | str | None:
    """Prisma's verdict on ``text`` as the script prints it, or why there is none (a string). Kept for
    the answer's comparison row (``run`` validates first, compares once PostgreSQL has reflected the
    DDL). Raises NodeUnavailable when Node or the package is missing; None when ``cached_only`` and the
    text was not parsed."""
    nodebin, folder = node.require("prisma")
    key = (text, nodebin, str(folder))
    with _parsed_lock:
        if key in _parsed:
            return _parsed[key]
    if cached_only:
        return None
    try:
        out = node.run_script(_SCRIPT, text, package=folder, node=nodebin)
        result = json.loads(out)
        if not isinstance(result, dict) or "valid" not in result:
            raise ValueError(out[:200])
        result["version"] = node.package_version(folder)
    except node.NodeFailed as err:
        result = f"Prisma's parser did not give a verdict: {err}"
    except ValueError as err:
        result = f"Prisma's parser gave no readable result: {str(err)[:200]}"
    with _parsed_lock:
        _parsed[key] = result
        while len(_parsed) > _KEEP:
            _parsed.popitem(last=False)
    return result


# --- the schema row ------------------------------------------------------------------------------------

def check_prisma(artifacts: Sequence[Artifact], schema=None) -> list[CheckResult]:
    """One row per Prisma schema of the answer (none when it has none); with ``schema`` (a reflected
    ``checks.schema.Schema``), the models' comparison rows too."""
    rows = [_validate(a) for a in artifacts if a.kind == "prisma"]
    if schema is not None:
        rows += compare_with_schema(artifacts, schema)
    return rows


def _validate(a: Artifact) -> CheckResult:
    name = f"{ROW}: {_place(a)}"
    if len(a.code) > MAX_TEXT:
        return CheckResult(name, SKIPPED, too_large(_place(a), a.code))
    text, notes = without_urls(a.code)
    try:
        result = _parse(text)
    except node.NodeUnavailable as err:
        return CheckResult(name, SKIPPED, f"Prisma's parser is not available: {err}")
    if isinstance(result, str):
        return CheckResult(name, FAILED, result, {"stopped": "stopped after" in result})
    if result.get("crash"):
        return CheckResult(name, FAILED, f"Prisma's parser crashed on this schema: {result['crash'][:300]}",
                           {"crash": result["crash"][:2000]})
    details: dict = {"parser": f"{PACKAGE} {result.get('version') or ''}".strip()}
    if notes:
        details["datasource"] = [f"line {a.line + line - 1} of the answer: {what}" for line, what in notes]
    diagnostics = [d for d in result.get("diagnostics") or [] if isinstance(d, dict)]
    spans = _Spans(a, text)
    found_warnings = [d for d in diagnostics if d.get("is_warning")]
    warnings = [spans.found(d) for d in found_warnings[:50]]
    if warnings:
        details["warnings"] = warnings
    if not result.get("valid"):
        found_errors = [d for d in diagnostics if not d.get("is_warning")]
        errors = [spans.found(d) for d in found_errors[:50]] or _from_message(a, text, str(result.get("error") or ""))
        first, more = errors[0], max(len(found_errors), len(errors)) - 1
        message = f"Prisma: {first['message']}" + (f" (and {more} more)" if more else "")
        row = CheckResult(name, FAILED, message, {**details, "errors": errors})
        if first.get("line"):
            from agentnb.checks import where

            row.details.update(line=first["line"], column=first.get("column"), statement=first.get("source", ""))
            where.locate(row, [(1, a)])
        row.message += "".join(f"\n- line {e['answer_line']} of the answer: {e['message']}"
                               for e in errors[1:4] if e.get("answer_line"))
        return row
    model = result.get("datamodel") or {}
    counts = [plural(len(model.get("models") or []), "model")]
    if model.get("enums"):
        counts.append(plural(len(model["enums"]), "enum"))
    message = f"valid for Prisma's parser: {', '.join(counts)}"
    if warnings:
        message += f"; {plural(len(found_warnings), 'warning')}: {warnings[0]['message']}"
    if notes:
        message += "; the datasource URL is not checked (Prisma 7 reads it from prisma.config.ts)"
        message += "".join(f"; line {a.line + line - 1}: {what}" for line, what in notes if "password" in what)
    return CheckResult(name, PASSED, message, details)


class _Spans:
    """Lines and columns of the parser's spans, which count UTF-16 code units (as JavaScript strings do:
    an emoji is two, an é one)."""

    def __init__(self, a: Artifact, text: str):
        self.a, self.lines = a, text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + _utf16_len(line) + 1)

    def found(self, d: dict) -> dict:
        from bisect import bisect_right

        offset = max(0, int(d.get("start") or 0))
        line = bisect_right(self.starts, offset)
        units = self.lines[line - 1].encode("utf-16-le", "surrogatepass")[:2 * (offset - self.starts[line - 1])]
        column = len(units.decode("utf-16-le", "replace")) + 1
        return {"message": str(d.get("text") or "").strip(), "line": line, "column": column,
                "answer_line": self.a.line + line - 1, "source": self.lines[line - 1].strip()[:200]}


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _from_message(a: Artifact, text: str, error: str) -> list[dict]:
    """Errors read from ``validate``'s text (``error: ...`` then ``-->  schema.prisma:LINE``), when lint
    gave none."""
    try:
        message = json.loads(error).get("message", error)
    except (ValueError, AttributeError):
        message = error
    found = []
    for m in re.finditer(r"error: (.*?)\n\s*-->\s*\S*?:(\d+)", message, re.S):
        line = int(m.group(2))
        source = text.split("\n")[line - 1].strip() if line <= text.count("\n") + 1 else ""
        found.append({"message": " ".join(m.group(1).split()), "line": line, "column": None,
                      "answer_line": a.line + line - 1, "source": source[:200]})
    if not found:
        first = next((ln for ln in message.splitlines() if ln.strip()), message).strip()
        found.append({"message": first[:500] or "the schema is not valid", "line": None, "column": None,
                      "answer_line": None})
    return found


# --- the models against the reflected schema ---------------------------------------------------------

def compare_with_schema(artifacts: Sequence[Artifact], schema, *, cached_only: bool = False) -> list[CheckResult]:
    """One row per Prisma schema with models: every difference between its models and ``schema`` (the
    DDL as PostgreSQL reflected it), or skipped saying why there is nothing to compare. ``cached_only``:
    use only what the schema row already parsed (``run``: the parser ran under the checks' limits)."""
    rows = []
    for a in artifacts:
        if a.kind != "prisma" or len(a.code) > MAX_TEXT:
            continue
        name = f"{MODELS_ROW}: {_place(a)}"
        try:
            result = _parse(without_urls(a.code)[0], cached_only=cached_only)
        except node.NodeUnavailable as err:
            rows.append(CheckResult(name, SKIPPED, f"Prisma's parser is not available: {err}"))
            continue
        if result is None or isinstance(result, str) or result.get("crash"):
            rows.append(CheckResult(name, SKIPPED, "Prisma's parser gave no verdict on the schema (its row says "
                                                   "why): nothing to compare"))
            continue
        if not result.get("valid"):
            rows.append(CheckResult(name, SKIPPED, "the Prisma schema did not validate: nothing to compare"))
            continue
        datamodel = result.get("datamodel") or {}
        if not datamodel.get("models"):
            continue
        if schema is None:
            rows.append(CheckResult(name, SKIPPED, "no schema reflected from the answer's DDL to compare with"))
            continue
        rows.append(_compare(a, name, datamodel, schema))
    return rows


def _compare(a: Artifact, name: str, datamodel: dict, schema) -> CheckResult:
    from agentnb.checks import models

    tables = prisma_tables(datamodel, schema)
    undeclared: list[str] = []
    differences = models.compare(tables, schema, undeclared)
    details: dict = {"indexes_not_in_models": undeclared} if undeclared else {}
    if not differences:
        return CheckResult(name, PASSED, f"{plural(len(tables), 'table')}: columns, types, nullability, keys and "
                                         "the indexes the models declare match", details)
    row = CheckResult(name, FAILED, f"{plural(len(differences), 'difference')} between the Prisma models and "
                                    "the schema: " + "; ".join(differences),
                      {**details, "differences": differences})
    line = next(filter(None, (_model_line(a, datamodel, d) for d in differences)), None)
    if line:
        row.details.update(line=line, answer_line=a.line + line - 1)
    return row


def _model_line(a: Artifact, datamodel: dict, difference: str) -> int | None:
    """The line of the model a difference is about, in the Prisma schema (None for a table it lacks)."""
    m = re.search(r"(?:table|column) ([^\s.:]+)", difference)
    if not m:
        return None
    model = next((x["name"] for x in datamodel.get("models") or [] if (x.get("dbName") or x["name"]) == m.group(1)),
                 None)
    found = re.search(rf"^[ \t]*model\s+{re.escape(model)}\s*\{{", a.code, re.M) if model else None
    return a.code.count("\n", 0, found.start()) + 1 if found else None


# Prisma's types on PostgreSQL, spelled as PostgreSQL reflects them (``models.type_family`` folds aliases)
_SCALAR = {"String": "text", "Boolean": "boolean", "Int": "integer", "BigInt": "bigint",
           "Float": "double precision", "Decimal": "numeric(65,30)", "DateTime": "timestamp(3)", "Json": "jsonb",
           "Bytes": "bytea"}
_NATIVE = {"Text": "text", "Char": "character", "VarChar": "character varying", "Bit": "bit",
           "VarBit": "bit varying", "Uuid": "uuid", "Xml": "xml", "Inet": "inet", "Citext": "citext",
           "Boolean": "boolean", "Integer": "integer", "SmallInt": "smallint", "BigInt": "bigint", "Oid": "oid",
           "Real": "real", "DoublePrecision": "double precision", "Decimal": "numeric", "Money": "money",
           "Date": "date", "Time": "time", "Timetz": "timetz", "Timestamp": "timestamp",
           "Timestamptz": "timestamptz", "Json": "json", "JsonB": "jsonb", "ByteA": "bytea"}


def _type(field: dict, enums: dict) -> tuple[str, str | None]:
    """(the column's type as PostgreSQL would spell it, the enum's name in the database or None)."""
    if field.get("kind") == "enum":
        enum = enums.get(field["type"], field["type"])
        return enum + ("[]" if field.get("isList") else ""), enum
    native = field.get("nativeType")
    if isinstance(native, list) and native and native[0] in _NATIVE:
        args = native[1] if len(native) > 1 and native[1] else []
        spelled = _NATIVE[native[0]] + (f"({','.join(map(str, args))})" if args else "")
    else:
        spelled = _SCALAR.get(field.get("type"), str(field.get("type")).lower())
    return spelled + ("[]" if field.get("isList") else ""), None


def prisma_tables(datamodel: dict, schema=None) -> list[dict]:
    """The tables Prisma's models make, in the shape ``models.compare`` reads (the SQLAlchemy child's):
    names, columns (type, nullable, enum), primary key, foreign keys, unique sets, indexes. A list field's
    nullability is taken from ``schema`` (Prisma has no optional lists; PostgreSQL's arrays may be NULL)."""
    enums = {e["name"]: e.get("dbName") or e["name"] for e in datamodel.get("enums") or []}
    models = {m["name"]: m for m in datamodel.get("models") or []}
    table_of = {n: m.get("dbName") or n for n, m in models.items()}
    column_of = {n: {f["name"]: f.get("dbName") or f["name"] for f in m["fields"]} for n, m in models.items()}
    db = {t.name: t for t in (schema.tables if schema is not None else [])}
    by_model: dict[str, list[dict]] = {}
    for ix in datamodel.get("indexes") or []:
        by_model.setdefault(ix.get("model"), []).append(ix)
    out = []
    for n, m in models.items():
        cols = column_of[n]
        table = {"name": table_of[n], "schema": m.get("schema"), "columns": [], "primary_key": [],
                 "foreign_keys": [], "unique": [], "indexes": []}
        for f in m["fields"]:
            if f.get("kind") == "object":
                if f.get("relationFromFields"):
                    target = f["type"]
                    table["foreign_keys"].append({
                        "columns": [cols.get(x, x) for x in f["relationFromFields"]],
                        "ref_table": table_of.get(target, target),
                        "ref_columns": [column_of.get(target, {}).get(x, x) for x in f.get("relationToFields") or []]})
                continue
            spelled, enum = _type(f, enums)
            nullable = not f.get("isRequired", True)
            if f.get("isList"):
                d = db.get(table_of[n])
                dc = d.column(cols[f["name"]]) if d is not None else None
                nullable = dc.nullable if dc is not None else nullable
            table["columns"].append({"name": cols[f["name"]], "type": spelled, "nullable": nullable, "enum": enum})
        for ix in by_model.get(n, []):
            fields = [cols.get(x.get("name"), x.get("name")) for x in ix.get("fields") or []]
            if ix.get("type") == "id":
                table["primary_key"] = fields
            elif ix.get("type") == "unique":
                table["unique"].append(fields)
            elif ix.get("type") == "normal":
                table["indexes"].append({"name": ix.get("dbName") or ix.get("name"), "columns": fields,
                                         "unique": False})
        out.append(table)
    out += _implicit_many_to_many(models, table_of, column_of)
    return out


def _implicit_many_to_many(models: dict, table_of: dict, column_of: dict) -> list[dict]:
    """The join tables Prisma makes for list-to-list relations: ``_<relation>`` with ``A`` (the model first
    by name) and ``B``, each referencing its model's id."""
    sides: dict[str, list[tuple[str, dict]]] = {}
    for n, m in models.items():
        for f in m["fields"]:
            if f.get("kind") == "object" and f.get("isList") and not f.get("relationFromFields") \
                    and f.get("relationName"):
                sides.setdefault(f["relationName"], []).append((n, f))
    out = []
    for relation, ends in sorted(sides.items()):
        if len(ends) != 2 or not all(f["isList"] for _, f in ends):
            continue
        first, second = sorted(n for n, _ in ends)
        ids = [next((f for f in models[t]["fields"] if f.get("isId")), None) for t in (first, second)]
        if None in ids:               # Prisma refuses such a relation: the schema row says so
            continue
        cols, fks = [], []
        for letter, target, ident in (("A", first, ids[0]), ("B", second, ids[1])):
            cols.append({"name": letter, "type": _type(ident, {})[0], "nullable": False, "enum": None})
            fks.append({"columns": [letter], "ref_table": table_of[target],
                        "ref_columns": [column_of[target][ident["name"]]]})
        out.append({"name": f"_{relation}", "schema": None, "columns": cols, "primary_key": ["A", "B"],
                    "foreign_keys": fks, "unique": [], "indexes": [{"name": None, "columns": ["B"], "unique": False}]})
    return out
