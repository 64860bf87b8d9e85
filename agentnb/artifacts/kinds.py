"""What kind each block is (schema, migration, query, OpenAPI, example, env...), from its language,
its file name and its content."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from agentnb.artifacts.migrations import (
    TOOL_MARKER,
    migration_from_filename,
    title_migration,
)
from agentnb.artifacts.model import Artifact

# --- registry ------------------------------------------------------------------------------------

CUSTOM_KINDS: list[tuple[str, Callable[[Artifact], bool]]] = []


def register_kind(kind: str, detect: Callable[[Artifact], bool]) -> None:
    """Add a kind: ``detect`` sees the artifact (language, code, title, filename set) before the
    built-in rules; the first detector returning True gives the kind."""
    CUSTOM_KINDS.append((kind, detect))


# --- content sniffing ----------------------------------------------------------------------------

_SQL_START = re.compile(
    r"^\s*(?:CREATE|ALTER|DROP|SELECT|INSERT|UPDATE|DELETE|WITH|BEGIN|COMMENT\s+ON|GRANT|TRUNCATE)\b",
    re.I | re.M)
_SQL_TOKEN = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\$(\w*)\$.*?\$\1\$|;", re.S)
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*([A-Za-z]+)", re.S)
_DDL = {"CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE", "TRUNCATE"}
_DML = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "MERGE", "COPY", "VALUES", "EXPLAIN", "TABLE"}

_CURL = re.compile(r"(?:^|[\s;|&($])curl\s", re.M)
_HTTPIE = re.compile(
    r"^[ \t]*(?:\$[ \t]*)?(?:http|https|xh)[ \t]+(?:-{1,2}\w|[A-Z]+[ \t]|:\d|:/|localhost|[\w.-]+[:/])",
                     re.M)
_RAW_HTTP = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) +\S+(?: +HTTP/[\d.]+)?\r?$", re.M)
_SPEC_YAML = re.compile(r"^[\"']?(openapi|swagger|asyncapi)[\"']?[ \t]*:", re.M)
_SPEC_JSON = re.compile(r"\"(openapi|swagger|asyncapi)\"\s*:")
_SPEC_KIND = {"openapi": "openapi", "swagger": "openapi", "asyncapi": "asyncapi"}
# MongoDB: mongosh statements at the start of a line (an application's driver calls are awaited or
# chained from db.collection(...), and stay JavaScript), or a JSON validator or createIndexes command
_MONGOSH = re.compile(r"^[ \t]*(?:db\.(?:createCollection|runCommand|\w+\.createIndex(?:es)?)\(|use[ \t]+\w+[ \t]*;?$)",
                      re.M)
_JS_MODULE = re.compile(r"\brequire\(|^[ \t]*(?:import|export)\b|\bawait\b", re.M)
_MONGO_JSON = re.compile(r"\"\$jsonSchema\"\s*:|\"createIndexes\"\s*:")
_COMPOSE_FILE = re.compile(r"(?:docker-)?compose[\w.-]*\.ya?ml$")
_SERVICES = re.compile(r"^services[ \t]*:[ \t]*(?:#.*)?\r?$", re.M)
ENV_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*?)\r?$")
_DOCKERFILE = re.compile(r"^FROM[ \t]+\S+", re.M)
_PY = re.compile(r"^(?:def |class |import \w|from [\w.]+ import |async def |@\w)", re.M)
_TS = re.compile(r"^(?:import .* from ['\"]|export |interface \w|type \w+ =|const \w+: )", re.M)
_PRISMA = re.compile(r"^(?:datasource|generator|model) \w+ \{", re.M)
_GRAPHQL = re.compile(
    r"^(?:type|input|query|mutation|subscription|schema|extend type|interface)\b[^\n=]*\{", re.M)
_YAML_TOP = re.compile(r"^[\w-]+:(?:[ \t]|\r?$)", re.M)
_SHELL_HINT = re.compile(
    r"^\s*(?:\$ |#!|sudo |docker |npm |npx |pnpm |yarn |pip |uv |psql |export |cd |make "
    r"|alembic |uvicorn |python )",
                         re.M)


# a Protocol Buffers file declares its syntax first
_PROTO = re.compile(r"^\s*syntax\s*=\s*[\"']proto[23][\"']\s*;", re.M)


def guess_language(code: str) -> str:
    head = code.lstrip()
    if not head:
        return "text"
    if _CURL.search(code) or _HTTPIE.search(code):
        return "bash"
    if head[0] in "{[":
        try:
            json.loads(code)
            return "json"
        except RecursionError:                            # deep nesting is JSON's shape
            return "json"
        except ValueError:
            pass
    if _DOCKERFILE.match(head) and re.search(r"^(?:RUN|COPY|CMD|ENTRYPOINT|WORKDIR)\b", code, re.M):
        return "dockerfile"
    if _PRISMA.search(code):
        return "prisma"
    if _PROTO.search(code):
        return "proto"
    if _SQL_START.search(code) and ";" in code:
        return "sql"
    if _PY.search(code):
        return "python"
    if _TS.search(code):
        return "typescript"
    if _GRAPHQL.search(code):
        return "graphql"
    if is_env_lines(code):
        return "dotenv"
    if _SHELL_HINT.search(code):
        return "bash"
    if _YAML_TOP.search(code):
        return "yaml"
    return "text"


def is_env_lines(code: str) -> bool:
    seen = False
    for line in code.split("\n"):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if not ENV_LINE.match(line):
            return False
        seen = True
    return seen


def _sql_statements(code: str) -> list[str]:
    out, start = [], 0
    for m in _SQL_TOKEN.finditer(code):
        if m.group(0) == ";":
            out.append(code[start:m.end()])
            start = m.end()
    if code[start:].strip():
        out.append(code[start:])
    return out


def _sql_kind(code: str) -> str:
    ddl = dml = 0
    for statement in _sql_statements(code):
        m = _FIRST_WORD.match(statement)
        word = m.group(1).upper() if m else ""
        if word in _DDL:
            ddl += 1
        elif word in _DML:
            dml += 1
    return "schema" if ddl and ddl >= dml else "query"


def _spec_kind(code: str, language: str) -> str | None:
    """"openapi" or "asyncapi" when the document's first top-level key among ``openapi``, ``swagger``
    and ``asyncapi`` says so, else None."""
    if language == "json":
        found = _SPEC_JSON.search(code)
        if not found:
            return None
        try:
            data = json.loads(code)
        except (ValueError, RecursionError):             # nested too deeply: the check says so
            return _SPEC_KIND[found.group(1)]            # a broken contract is still a contract
        if not isinstance(data, dict):
            return None
        return next((_SPEC_KIND[k] for k in data if k in _SPEC_KIND), None)
    found = _SPEC_YAML.search(code)
    if not found:
        return None
    try:
        import yaml
    except ImportError:
        return _SPEC_KIND[found.group(1)]
    # Confirm on the event stream, stopping at the first top-level key that says so: loading a
    # whole contract would cost milliseconds, and a contract broken further down is still a contract.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth, is_key = 0, True
    try:
        for event in yaml.parse(code, Loader=loader):
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentStartEvent)):
                continue
            if depth == 0 and not isinstance(event, yaml.MappingStartEvent):
                return None
            if depth == 1:
                if isinstance(event, yaml.MappingEndEvent):
                    return None
                if is_key and isinstance(event, yaml.ScalarEvent) and event.value in _SPEC_KIND:
                    return _SPEC_KIND[event.value]
                is_key = not is_key
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return _SPEC_KIND[found.group(1)]
    return None


def _is_mongodb(code: str, language: str) -> bool:
    if language in ("mongodb", "mongo", "mongosh"):
        return True
    if language == "javascript":
        return bool(_MONGOSH.search(code)) and not _JS_MODULE.search(code)
    return language == "json" and bool(_MONGO_JSON.search(code)) and not _SPEC_JSON.search(code)


# --- classification ------------------------------------------------------------------------------

_SHELLS = {"bash", "console", "text", "", "http", "powershell", "ps1", "cmd"}


def classify(a: Artifact) -> None:
    for kind, detect in CUSTOM_KINDS:
        if detect(a):
            a.kind = kind
            return
    lang, code, fname = a.language, a.code, a.filename or ""
    if _is_mongodb(code, lang):
        a.kind = "mongodb"
        return
    base = fname.rsplit("/", 1)[-1].lower()
    mig = migration_from_filename(fname) if fname else None
    if lang == "sql":
        title_mig = title_migration(a.title)        # (id, direction) from "Migration 0004 (down)"
        marker = TOOL_MARKER.search(code)
        if mig or title_mig or marker:
            a.kind = "migration"
            a.direction = ((mig and mig[1]) or (title_mig and title_mig[1])
                           or (marker and marker.group(1).lower()) or "up")
            a.pair = (mig and mig[0]) or (title_mig and title_mig[0]) or None
            return
        a.kind = _sql_kind(code)
        return
    if (mig and lang in ("python", "typescript", "javascript")) or (
            lang == "python" and re.search(r"^def upgrade\(", code, re.M) and "revision" in code):
        a.kind, a.pair = "migration", (mig[0] if mig else _alembic_revision(code))
        return
    if lang == "dotenv" or base.startswith(".env") or (lang == "ini" and is_env_lines(code)):
        a.kind = "env"
    elif lang in ("python",):
        a.kind = "python"
    elif lang in ("typescript", "tsx"):
        a.kind = "typescript"
    elif lang in ("javascript", "jsx"):
        a.kind = "javascript"
    elif lang == "prisma":
        a.kind = "prisma"
    elif lang == "graphql":
        a.kind = "graphql"
    elif lang in ("proto", "protobuf", "proto3") or base.endswith(".proto"):
        a.kind = "proto"
    elif lang == "dockerfile":
        a.kind = "dockerfile"
    elif lang in ("yaml", "json"):
        spec = _spec_kind(code, lang)
        if spec:
            a.kind = spec
        elif lang == "yaml" and (_SERVICES.search(code) or _COMPOSE_FILE.match(base)):
            a.kind = "compose"
        else:
            a.kind = lang
    elif lang in _SHELLS and (_CURL.search(code) or _HTTPIE.search(code)
                              or (lang == "http" and _RAW_HTTP.search(code))):
        a.kind = "example"
    elif lang in ("bash", "console") and is_env_lines(code) and "=" in code:
        a.kind = "env"
    elif lang in ("bash", "console", "powershell", "ps1", "cmd"):
        a.kind = "shell"
    else:
        a.kind = "other"


def _alembic_revision(code: str) -> str | None:
    m = re.search(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", code, re.M)
    return m.group(1) if m else None
