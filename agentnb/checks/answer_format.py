"""The parts an agent file's ``answer-format`` asks every answer to hold (code, schema, examples...),
and the one reading of that field (``answer_format_keys``): a list or a comma-separated string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from agentnb.artifacts.model import CODE_KINDS, Artifact
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult

__all__ = ["FORMAT_PARTS", "answer_format_keys", "check_answer_format"]


def answer_format_keys(value) -> tuple[str, ...]:
    """The parts an ``answer-format`` value names, lower-cased: a list (``[code, schema]``) or a
    comma-separated string (``code, schema``); nothing for None or empty. Anything else (a number, a
    mapping, a list holding one) raises ``ValueError`` with a message for the agent file's author."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, (list, tuple)) or not all(isinstance(p, str) for p in parts):
        raise ValueError(f"answer-format must be a list of parts or a comma-separated string "
                         f"({', '.join(FORMAT_PARTS)}), not {value!r}"[:300])
    return tuple(p.strip().lower() for p in parts if p.strip())


def _has_tests(arts: Sequence[Artifact]) -> bool:
    return any(a.kind in CODE_KINDS and re.search(
        r"^\s*(?:async\s+)?def test_\w*\(|\b(?:describe|it|test)\(\s*['\"`]", a.code, re.M) for a in arts)


# a GraphQL block defining types (not only operations), a .proto file declaring a service
_SDL = re.compile(r"^\s*(?:(?:extend\s+)?(?:type|input|interface|union|enum|scalar)\s+[A-Za-z_]"
                  r"|(?:extend\s+)?schema\s*[{@]|directive\s+@)", re.M)
_SERVICE = re.compile(r"^\s*service\s+\w+\s*\{", re.M)
# a gRPC service's request examples are grpcurl commands (a shell block, not an HTTP example)
_GRPCURL = re.compile(r"(?:^|[\s;|&($])grpcurl\s", re.M)

# key -> (test, what is missing in plain words)
FORMAT_PARTS = {
    "code": (lambda arts: any(a.kind in CODE_KINDS for a in arts),
             "no code (a Python, TypeScript or JavaScript block)"),
    "schema": (lambda arts: any(a.kind in ("schema", "prisma", "migration") for a in arts),
               "no data schema (SQL DDL, Prisma schema or migration)"),
    "examples": (lambda arts: any(a.kind == "example" or (a.kind == "shell" and _GRPCURL.search(a.code))
                                  for a in arts),
                 "no request examples (curl, HTTPie or grpcurl)"),
    "env": (lambda arts: bool(getattr(arts, "env", None)),
            "no list of environment variables"),
    "openapi": (lambda arts: any(a.kind == "openapi" for a in arts), "no OpenAPI contract"),
    "migrations": (lambda arts: any(a.kind == "migration" for a in arts), "no migrations"),
    "tests": (_has_tests, "no tests (pytest `def test_…` or `describe(`/`it(` blocks)"),
    "dockerfile": (lambda arts: any(a.kind == "dockerfile" for a in arts), "no Dockerfile"),
    "compose": (lambda arts: any(a.kind == "compose" for a in arts), "no docker-compose file"),
    "graphql": (lambda arts: any(a.kind == "graphql" and _SDL.search(a.code) for a in arts),
                "no GraphQL schema (SDL type definitions; example operations alone are not one)"),
    "proto": (lambda arts: any(a.kind == "proto" for a in arts), "no Protocol Buffers file (.proto)"),
    "grpc": (lambda arts: any(a.kind == "proto" and _SERVICE.search(a.code) for a in arts),
             "no gRPC service (a .proto file declaring a `service`)"),
    "prisma": (lambda arts: any(a.kind == "prisma" for a in arts), "no Prisma schema"),
    "asyncapi": (lambda arts: any(a.kind == "asyncapi" for a in arts), "no AsyncAPI document"),
    "mongodb": (lambda arts: any(a.kind == "mongodb" for a in arts),
                "no MongoDB validator or index (a mongosh block or a $jsonSchema document)"),
}


def check_answer_format(answer_text: str, artifacts: Sequence[Artifact], required: Iterable[str]) -> CheckResult:
    """The parts an agent file's ``answer-format`` asks for are all in the answer. A reply without any
    fenced block is conversational (a question answered, a choice explained): skipped, not failed."""
    name = "Answer format"
    try:
        keys = list(answer_format_keys(required))
    except ValueError as err:
        return CheckResult(name, SKIPPED, f"not checked: {err}")
    if not keys:
        return CheckResult(name, SKIPPED, "the agent declares no answer format")
    if not artifacts:
        return CheckResult(name, SKIPPED, "no artifacts in this answer: a conversational reply",
                           {"required": keys})
    unknown = [k for k in keys if k not in FORMAT_PARTS]
    known = [k for k in keys if k in FORMAT_PARTS]
    details = {"required": keys}
    if unknown:
        details["unknown"] = unknown
    note = f" (unknown answer-format key{'s' if len(unknown) > 1 else ''} not checked: {', '.join(unknown)})" \
        if unknown else ""
    if not known:
        return CheckResult(name, SKIPPED, f"unknown answer-format key{'s' if len(unknown) > 1 else ''}: "
                           + ", ".join(unknown), details)
    missing = [k for k in known if not FORMAT_PARTS[k][0](artifacts)]
    if missing:
        details["missing"] = missing
        return CheckResult(name, FAILED,
                           "; ".join(FORMAT_PARTS[k][1] for k in missing) + note, details)
    return CheckResult(name, PASSED, "has " + ", ".join(known) + note, details)
