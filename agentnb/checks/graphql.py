"""GraphQL blocks checked by graphql-core: the answer's SDL blocks built into one schema and validated
(``validate_sdl``, then ``validate_schema``), then every example query, mutation or subscription
validated against that schema. Nothing is executed.

A block is SDL when it defines types (``type``, ``input``, ``schema``, ``extend``...), an operation when
it holds only executable definitions; a block holding both is split the same way. Errors keep
graphql-core's own message and give the line in the file and in the answer. graphql-core is imported on
first use; the parser is bounded by ``MAX_TEXT`` characters and a token budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agentnb.artifacts.model import Artifact
from agentnb.checks.limits import MAX_NODES, MAX_TEXT, too_large
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["check_graphql", "graphql_operations"]

SCHEMA_ROW = "GraphQL schema"
# a block that opens with an operation (after comments): its parse error is not the schema's
_OPERATIONS = re.compile(r"(?:\s|#[^\n]*\n)*(?:query|mutation|subscription|fragment)\b|(?:\s|#[^\n]*\n)*\{")
_MAX_ERRORS = 20


def _place(a: Artifact) -> str:
    return a.filename or f"block {a.index + 1} (graphql)"


def _located(err, owners: dict[int, Artifact], default: Artifact | None = None) -> dict:
    """Where a graphql-core error points: file, line, column and the line in the answer."""
    locations = list(err.locations or [])
    source = err.source
    if source is None and err.nodes:
        loc = getattr(err.nodes[0], "loc", None)
        source = loc.source if loc is not None else None
    artifact = owners.get(id(source), default) if source is not None else default
    out: dict = {"error": err.message}
    if artifact is not None:
        out["file"] = _place(artifact)
    if locations:
        out["line"], out["column"] = locations[0].line, locations[0].column
        if artifact is not None:
            out["answer_line"] = artifact.line + locations[0].line - 1
    return out


def _text(found: dict) -> str:
    where = found.get("file", "GraphQL")
    if "line" in found:
        where += f" line {found['line']}, column {found['column']}"
    return f"{where}: {found['error']}"


def _failed(name: str, found: list[dict], extra: dict | None = None) -> CheckResult:
    message = _text(found[0]) + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
    first = found[0]
    details = {"errors": found[:_MAX_ERRORS], **{k: first[k] for k in ("file", "line", "column", "answer_line")
                                                 if k in first}}
    return CheckResult(name, FAILED, message, {**details, **(extra or {})})


def check_graphql(artifacts: Sequence[Artifact]) -> list[CheckResult]:
    """One row for the schema built from every SDL block, one per block of operations. No GraphQL in
    the answer: no rows."""
    blocks = [a for a in artifacts if a.kind == "graphql"]
    if not blocks:
        return []
    import graphql
    from graphql.language import DocumentNode
    from graphql.validation.validate import validate_sdl

    owners: dict[int, Artifact] = {}
    sdl_defs, operations, rows = [], [], []
    parse_failures: list[dict] = []
    for a in blocks:
        if len(a.code) > MAX_TEXT:
            rows.append(CheckResult(f"GraphQL: {_place(a)}", SKIPPED, too_large(_place(a), a.code),
                                    {"file": _place(a)}))
            continue
        source = graphql.Source(a.code, _place(a))
        owners[id(source)] = a
        try:
            doc = graphql.parse(source, no_location=False, max_tokens=MAX_NODES)
        except (graphql.GraphQLError, RecursionError) as err:
            found = (_located(err, owners, a) if isinstance(err, graphql.GraphQLError)
                     else {"file": _place(a), "error": "nested too deeply for the GraphQL parser"})
            if _OPERATIONS.match(a.code):       # a block of operations: its own row, the schema stands
                rows.append(_failed(f"GraphQL operations: {_place(a)}", [found]))
            else:
                parse_failures.append(found)
            continue
        executable = [d for d in doc.definitions if isinstance(d, graphql.ExecutableDefinitionNode)]
        sdl_defs += [d for d in doc.definitions if not isinstance(d, graphql.ExecutableDefinitionNode)]
        if executable:
            operations.append((a, DocumentNode(definitions=tuple(executable), loc=doc.loc)))

    schema = None
    if sdl_defs or parse_failures:
        schema_errors = list(parse_failures)
        if sdl_defs and not parse_failures:
            document = DocumentNode(definitions=tuple(sdl_defs))
            errors = validate_sdl(document)
            if not errors:
                schema = graphql.build_ast_schema(document, assume_valid_sdl=True)
                errors = graphql.validate_schema(schema)
            schema_errors += [_located(e, owners) for e in errors]
        if schema_errors:
            rows.insert(0, _failed(SCHEMA_ROW, schema_errors))
            schema = None
        else:
            types = [t for n, t in schema.type_map.items() if not n.startswith("__")
                     and n not in graphql.specified_scalar_types]
            roots = [plural(len(r.fields), word, words) for r, word, words in (
                (schema.query_type, "query", "queries"), (schema.mutation_type, "mutation", "mutations"),
                (schema.subscription_type, "subscription", "subscriptions")) if r is not None]
            rows.insert(0, CheckResult(SCHEMA_ROW, PASSED, plural(len(types), "type") + ", "
                                       + ", ".join(roots or ["no root type"]),
                                       {"types": sorted(t.name for t in types),
                                        "operations": _root_fields(schema)}))
    for a, doc in operations:
        name = f"GraphQL operations: {_place(a)}"
        count = len([d for d in doc.definitions if isinstance(d, graphql.OperationDefinitionNode)])
        if schema is None:
            why = ("the schema does not build: fix it first" if sdl_defs or parse_failures
                   else "no GraphQL schema (SDL) in this answer to validate them against")
            rows.append(CheckResult(name, SKIPPED, why, {"file": _place(a)}))
            continue
        errors = graphql.validate(schema, doc, max_errors=_MAX_ERRORS)
        if errors:
            rows.append(_failed(name, [_located(e, owners, a) for e in errors]))
        else:
            rows.append(CheckResult(name, PASSED, f"{plural(count, 'operation')} valid against "
                                                  "the schema", {"file": _place(a)}))
    return rows


def _root_fields(schema) -> list[dict]:
    """The schema's operations (root fields), for the API tab."""
    out = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type),
                       ("subscription", schema.subscription_type)):
        for field_name, field in (root.fields.items() if root is not None else ()):
            out.append({"kind": kind, "name": field_name, "type": str(field.type),
                        "args": {arg: str(f.type) for arg, f in field.args.items()},
                        "description": field.description or ""})
    return out


def graphql_operations(artifacts: Sequence[Artifact]) -> list[dict]:
    """The queries, mutations and subscriptions the answer's SDL declares (kind, name, args, type,
    description), for the API tab; none when the SDL does not build (its check row says why)."""
    import graphql
    from graphql.language import DocumentNode
    from graphql.validation.validate import validate_sdl

    definitions = []
    for a in artifacts:
        if a.kind != "graphql" or len(a.code) > MAX_TEXT:
            continue
        try:
            doc = graphql.parse(graphql.Source(a.code, _place(a)), max_tokens=MAX_NODES)
        except (graphql.GraphQLError, RecursionError):
            continue
        definitions += [d for d in doc.definitions if not isinstance(d, graphql.ExecutableDefinitionNode)]
    document = DocumentNode(definitions=tuple(definitions))
    if not definitions or validate_sdl(document):
        return []
    schema = graphql.build_ast_schema(document, assume_valid_sdl=True)
    return [] if graphql.validate_schema(schema) else _root_fields(schema)
