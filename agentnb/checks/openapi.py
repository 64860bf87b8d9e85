"""OpenAPI checks: the contract is valid, every operation is documented, and the answer's request
examples (curl, HTTPie, raw HTTP lines, located by ``http_examples``) call declared paths and methods.

The contract is untrusted text, loaded with bounds by ``documents.load_document`` (an alias bomb or a
deeply nested document is refused in milliseconds with a short message). Nothing is fetched: external
``$ref``s are reported, not resolved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache

from agentnb.artifacts import Artifact
from agentnb.checks.documents import load_document, stringify_keys
from agentnb.checks.http_examples import LOCAL_HOSTS, example_requests, match_path, url_path
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["check_openapi", "HTTP_METHODS"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _load_contract(a: Artifact) -> tuple[object, str | None]:
    """(document, None) or (None, error message with line and column, or why the text was refused)."""
    loaded = load_document(a.code, a.filename or "the contract", a.language)
    return loaded.doc, loaded.error


def _external_refs(node, found: list[str]) -> list[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            found.append(ref)
        for v in node.values():
            _external_refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _external_refs(v, found)
    return found


@lru_cache(maxsize=32)
def _validate_contract(text: str) -> tuple[str, str, str | None]:
    """(status, message, json_path) for the contract's JSON text; cached: validating takes ~0.1 s."""
    try:
        from openapi_spec_validator import validate
        from openapi_spec_validator.validation.exceptions import ValidatorDetectError
    except ImportError:
        return SKIPPED, "openapi-spec-validator is not installed: pip install 'openapi-spec-validator>=0.7'", None
    spec = json.loads(text)
    try:
        validate(spec)
    except ValidatorDetectError:
        return (FAILED, "no OpenAPI version found: the document needs a top-level `openapi: 3.1.0` "
                        "(or `swagger: \"2.0\"`) field, written as a string", None)
    except Exception as exc:       # the validator's errors are jsonschema errors or referencing errors
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        message = message.split(" does not exist within ", 1)[0] + (
            " does not exist in the document" if " does not exist within " in message else "")
        json_path = getattr(exc, "json_path", None)
        if type(exc).__module__.startswith(("openapi_spec_validator", "jsonschema", "referencing")):
            return FAILED, message, json_path
        return SKIPPED, f"the validator could not check the contract: {type(exc).__name__}: {message}", None
    return PASSED, "", None


def _server_bases(spec: dict) -> list[str]:
    base_path = spec.get("basePath")                  # Swagger 2.0
    bases = [base_path.rstrip("/")] if isinstance(base_path, str) and base_path.strip("/") else []
    for server in spec.get("servers") or []:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url = server["url"]
        for var, spec_var in (server.get("variables") or {}).items():
            if isinstance(spec_var, dict) and "default" in spec_var:
                url = url.replace("{" + str(var) + "}", str(spec_var["default"]))
        path = url_path(url)[0] or ""
        path = path.rstrip("/")
        if path and path not in bases:
            bases.append(path)
    return sorted(bases, key=len, reverse=True)


def _server_hosts(spec: dict) -> set[str]:
    hosts = set()
    for server in spec.get("servers") or []:
        url = server.get("url") if isinstance(server, dict) else None
        m = re.match(r"^[a-z][\w+.-]*://([^/:?#]+)", url or "", re.I)
        if m:
            hosts.add(m.group(1).lower())
    return hosts



def check_openapi(artifact: Artifact, examples: Iterable[Artifact] = ()) -> list[CheckResult]:
    """Three rows: the contract is valid OpenAPI (openapi-spec-validator's message and JSON path when
    not); every operation is documented (summary or description, and responses); every curl/HTTPie
    request example calls a declared path with a declared method. One row when the text doesn't parse."""
    name = artifact.filename or "the contract"
    doc, error = _load_contract(artifact)
    if error:
        return [CheckResult("OpenAPI contract", FAILED, error, {"file": name})]
    if not isinstance(doc, dict):
        return [CheckResult("OpenAPI contract", FAILED,
                            f"{name}: the document is a {type(doc).__name__}, not a mapping with "
                            "`openapi`, `info` and `paths`", {"file": name})]
    spec = stringify_keys(doc)
    operations: list[tuple[str, str, object]] = []
    paths = spec.get("paths")
    for path, item in (paths.items() if isinstance(paths, dict) else ()):
        for method in HTTP_METHODS:
            if isinstance(item, dict) and method in item:
                operations.append((method.upper(), path, item[method]))
    return [_contract_row(spec, name), _documented_row(operations),
            _examples_row(spec, operations, [r for ex in examples for r in example_requests(ex)])]


def _contract_row(spec: dict, name: str) -> CheckResult:
    title, details = "OpenAPI contract", {"file": name}
    version = spec.get("openapi", spec.get("swagger"))
    if version is not None and not isinstance(version, str):
        key = "openapi" if "openapi" in spec else "swagger"
        return CheckResult(title, FAILED, f"{name}: `{key}: {version}` is read as a number, not a version "
                                          f"string: write the full version in quotes (`{key}: \"3.1.0\"`)",
                           {**details, "json_path": f"$.{key}"})
    external = _external_refs(spec, [])
    if external:                                      # resolving them would read files or the network
        return CheckResult(title, SKIPPED,
                           f"{name} refers to files outside the answer ($ref: {external[0]}): not validated",
                           {**details, "external_refs": external})
    try:
        status, message, json_path = _validate_contract(json.dumps(spec, sort_keys=True, default=str))
    except Exception as exc:                                      # never raise on a user's document
        status, message, json_path = SKIPPED, f"the contract could not be checked: {exc}", None
    if status == FAILED and json_path and json_path != "$":
        message = f"{message} (at {json_path})"
    if status == PASSED:
        message = f"{name}: valid OpenAPI {version}"
    if json_path:
        details["json_path"] = json_path
    return CheckResult(title, status, message, details)


def _documented_row(operations: list[tuple[str, str, object]]) -> CheckResult:
    """The agent's standard: each endpoint described in the contract (summary or description, responses)."""
    undocumented = []
    for method, path, op in operations:
        op = op if isinstance(op, dict) else {}
        missing = []
        if not (str(op.get("summary") or "").strip() or str(op.get("description") or "").strip()):
            missing.append("no summary or description")
        if not op.get("responses"):
            missing.append("no responses")
        if missing:
            undocumented.append(f"{method} {path} ({', '.join(missing)})")
    title, details = "OpenAPI operations documented", {"operations": len(operations)}
    if undocumented:
        return CheckResult(title, FAILED, f"{len(undocumented)} of {plural(len(operations), 'operation')} "
                                          "not documented: " + "; ".join(undocumented),
                           {**details, "undocumented": undocumented})
    return CheckResult(title, PASSED,
                       f"{plural(len(operations), 'operation')}, each with a summary or description and "
                       "its responses" if operations else "the contract declares no operation", details)


def _examples_row(spec: dict, operations: list[tuple[str, str, object]],
                  requests: list[tuple[int, str, str, str]]) -> CheckResult:
    """Each request example against the declared paths and methods; requests to another host than the
    servers' (or localhost) are another service's and are left out."""
    title = "Request examples match the contract"
    if not requests:
        return CheckResult(title, SKIPPED, "no curl or HTTPie request examples in this answer")
    declared: dict[str, set[str]] = {}
    for method, path, _ in operations:
        declared.setdefault(path, set()).add(method)
    bases = _server_bases(spec)
    hosts = _server_hosts(spec) | LOCAL_HOSTS
    mismatches, matched, elsewhere = [], 0, []
    for lineno, tool, method, url in requests:
        path, host = url_path(url)
        if path is None:
            continue
        if host is not None and host not in hosts:
            elsewhere.append(url)
            continue
        candidates = [path] + [path[len(b):] or "/" for b in bases if path == b or path.startswith(b + "/")]
        hits = []
        for candidate in candidates:
            hits = match_path(candidate, list(declared))
            if hits:
                path = candidate
                break
        else:
            path = candidates[min(1, len(candidates) - 1)]   # without the servers' base, as the contract
        if not hits:
            mismatches.append(f"{tool} line {lineno}: {method} {path} not in the contract")
        elif not any(method in declared[t] for t in hits):
            allowed = ", ".join(sorted({m for t in hits for m in declared[t]}))
            mismatches.append(f"{tool} line {lineno}: {method} {path} not in the contract "
                              f"({hits[0]} allows {allowed})")
        else:
            matched += 1
    details = {"requests": len(requests), "matched": matched}
    if elsewhere:
        details["other_hosts"] = elsewhere
    if mismatches:
        return CheckResult(title, FAILED, "; ".join(mismatches), {**details, "mismatches": mismatches})
    return CheckResult(title, PASSED, f"{plural(matched, 'request')} "
                                      f"match{'es' if matched == 1 else ''} a declared path and method", details)
