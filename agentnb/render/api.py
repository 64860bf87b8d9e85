"""What the API tab lists: the operations an answer's API declares, protocol by protocol (REST from its
OpenAPI contract, GraphQL from its SDL, gRPC from its ``.proto`` files), each as a row of the same
columns: ``operation``, ``input``, ``output``, ``description``.

A protocol is one entry of ``PROTOCOLS``: (heading, function of the response returning its sections,
each ``(title, rows)``); another protocol is one more entry and its function. AsyncAPI's channels come
from ``agentnb.checks.asyncapi.asyncapi_operations``.

Nothing here raises for a malformed document: the checks say what is wrong with it, the tab shows what
can be read. Documents are read through the checks' bounded loaders (an alias bomb is refused there).
"""

from __future__ import annotations

from collections.abc import Callable

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
COLUMNS = ["operation", "input", "output", "description"]


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _listing(value) -> list:
    return value if isinstance(value, list) else []


def _ref_name(ref) -> str:
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""


def _load(artifact):
    """The artifact's YAML or JSON document, through the checks' bounded loader (None when refused)."""
    from agentnb.checks.documents import load_document

    return load_document(artifact.code, artifact.filename or "the document", artifact.language).doc


def _from_checks(response, name: str, key: str) -> list | None:
    """What the checks already read of the answer (``details[key]`` of its passed rows named ``name`` or
    ``name: FILE``), or None when no check ran: the tab then reads the artifacts itself."""
    if response.check_report is None:
        return None
    return [item for row in response.checks if row.status == "passed"
            and (row.name == name or row.name.startswith(name + ": ")) for item in row.details.get(key, ())]


def openapi_operations(document: dict) -> list[dict]:
    """Each operation of an OpenAPI document: ``method``, ``path``, ``summary``, ``request`` (parameters
    and bodies) and ``responses`` (status codes)."""
    ops = []
    for path, item in _mapping(document.get("paths")).items():
        item = _mapping(item)
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            request = []
            for p in _listing(item.get("parameters")) + _listing(op.get("parameters")):
                if isinstance(p, dict) and "name" in p:
                    request.append(f"{p.get('in', '?')} {p['name']}")
                elif isinstance(p, dict) and isinstance(p.get("$ref"), str):
                    request.append(_ref_name(p["$ref"]))
            body = _mapping(op.get("requestBody"))
            for media, spec in _mapping(body.get("content")).items():
                ref = _ref_name(_mapping(_mapping(spec).get("schema")).get("$ref"))
                request.append(f"body {media}{(' ' + ref) if ref else ''}")
            if isinstance(body.get("$ref"), str):
                request.append("body " + _ref_name(body["$ref"]))
            summary = op.get("summary") or op.get("description") or ""
            ops.append({"method": method.upper(), "path": str(path), "summary": str(summary),
                        "request": ", ".join(request), "responses": ", ".join(map(str, _mapping(op.get("responses"))))})
    return ops


def rest(response) -> list[tuple[str, list[dict]]]:
    """The answer's OpenAPI contract (its first), titled by its info."""
    artifact = response.artifacts.openapi
    if artifact is None:
        return []
    document = response.openapi          # read once, through the same bounded loader
    if document is None:
        return [(artifact.filename or "OpenAPI contract", [])]
    info = _mapping(document.get("info"))
    title = " ".join(str(info[k]) for k in ("title", "version") if info.get(k)) or artifact.filename or ""
    return [(title, [{"operation": f"{o['method']} {o['path']}", "input": o["request"], "output": o["responses"],
                      "description": o["summary"]} for o in openapi_operations(document)])]


def graphql(response) -> list[tuple[str, list[dict]]]:
    """The queries, mutations and subscriptions of the answer's SDL."""
    if not response.artifacts.by_kind("graphql"):
        return []
    from agentnb.checks.graphql import SCHEMA_ROW, graphql_operations

    operations = _from_checks(response, SCHEMA_ROW, "operations")
    rows = [{"operation": f"{op['kind']} {op['name']}",
             "input": ", ".join(f"{name}: {kind}" for name, kind in op["args"].items()),
             "output": op["type"], "description": op["description"]}
            for op in (graphql_operations(response.artifacts) if operations is None else operations)]
    return [("", rows)] if rows else []


def grpc(response) -> list[tuple[str, list[dict]]]:
    """The services of the answer's ``.proto`` files, one section each, a row an rpc."""
    if not response.artifacts.by_kind("proto"):
        return []
    from agentnb.checks.proto import proto_services

    services = _from_checks(response, "Protocol Buffers", "services")   # protoc ran once, in the checks

    def message(name: str, streaming: bool) -> str:
        return f"stream {name}" if streaming else name

    return [(f"service {s['name']}", [{"operation": f"rpc {m['name']}",
                                       "input": message(m["input"], m["client_streaming"]),
                                       "output": message(m["output"], m["server_streaming"]), "description": ""}
                                      for m in s["methods"]])
            for s in (proto_services(response.artifacts) if services is None else services)]


def asyncapi(response) -> list[tuple[str, list[dict]]]:
    """The operations of the answer's AsyncAPI documents (``agentnb.checks.asyncapi``), one section a
    document: what the application receives is its input, what it sends its output."""
    blocks = response.artifacts.by_kind("asyncapi")
    if not blocks:
        return []
    from agentnb.checks.asyncapi import asyncapi_operations

    out = []
    for artifact in blocks:
        document = _load(artifact)
        rows = []
        for op in asyncapi_operations(document) if isinstance(document, dict) else ():
            messages = ", ".join(map(str, op.get("messages") or []))
            receives = op.get("action") in ("receive", "publish")       # 2.x: clients publish to it
            rows.append({"operation": f"{op.get('action') or '?'} {op.get('channel') or ''}".strip(),
                         "input": messages if receives else "", "output": "" if receives else messages,
                         "description": " · ".join(str(x) for x in (op.get("operation"), op.get("summary")) if x)})
        out.append((artifact.filename or "", rows))
    return out


PROTOCOLS: tuple[tuple[str, Callable], ...] = (
    ("REST (OpenAPI)", rest),
    ("GraphQL", graphql),
    ("gRPC", grpc),
    ("AsyncAPI", asyncapi),
)
