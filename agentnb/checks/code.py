"""Checks on the code of an answer: OpenAPI contract, Python and TypeScript syntax, secrets, env vars,
and the answer format an agent file declares.

Every check takes artifacts from ``agentnb.artifacts.extract`` and returns ``CheckResult`` rows; none
raises on bad input (a broken block is a failed row, a missing tool a skipped row). Nothing is ever
executed: Python is ``compile()``d, TypeScript parsed with tree-sitter, the contract validated with
openapi-spec-validator. Heavy imports happen inside the functions that need them.

Locations are written as a user finds them: ``app/main.py line 12`` (the line in the file as the
answer writes it, its path comment being line 1), or ``block 3 (python) line 4`` for a block without a
file name (blocks counted from 1 in answer order). Request examples are located by the answer's own
line (``curl line 412``), since an example block has no file.

``run_all(answer, artifacts, required)`` runs them all in display order.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache

from agentnb.artifacts import Artifact, Artifacts
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult

__all__ = [
    "check_openapi", "check_python", "check_typescript", "check_secrets", "check_env",
    "check_answer_format", "run_all", "FORMAT_PARTS",
]

class _Lazy:
    """A regex compiled on first use: the module is imported with the magics, most sessions never
    check code, and compiling these patterns costs ~8 ms."""

    __slots__ = ("_args", "_rx")

    def __init__(self, pattern: str, flags: int = 0):
        self._args, self._rx = (pattern, flags), None

    def __getattr__(self, name: str):
        if self._rx is None:
            self._rx = re.compile(*self._args)
        return getattr(self._rx, name)


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_CODE_KINDS = ("python", "typescript", "javascript")


def _where(a: Artifact, line: int | None = None) -> str:
    """``app/main.py line 12`` or ``block 3 (python) line 4`` (``line`` is 1-based within the code)."""
    place = a.filename or f"block {a.index + 1} ({a.kind})"
    return f"{place} line {line}" if line else place


def _short(value: str, keep: int = 8) -> str:
    """Enough of a secret to find it, never the whole of it (reports and session logs are kept)."""
    return value[:keep] + "…" if len(value) > keep else value[: max(1, len(value) // 3)] + "…"


# --- OpenAPI -------------------------------------------------------------------------------------

def _stringify_keys(node):
    """YAML turns ``200:`` into an int and ``2024-01-01`` into a date; JSON and OpenAPI tools see text."""
    if isinstance(node, dict):
        return {str(k): _stringify_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_stringify_keys(v) for v in node]
    if hasattr(node, "isoformat") and not isinstance(node, (int, float, str, bool)):
        return node.isoformat()
    return node


def _load_contract(a: Artifact) -> tuple[object, str | None]:
    """(document, None) or (None, error message with line and column)."""
    name = a.filename or "the contract"
    text = a.code
    if a.language == "json" or text.lstrip().startswith("{"):
        try:
            return json.loads(text), None
        except ValueError as exc:
            if a.language == "json":
                lineno, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
                msg = getattr(exc, "msg", str(exc))
                return None, f"{name} line {lineno}, column {col}: {msg}" if lineno else f"{name}: {exc}"
    try:
        import yaml
    except ImportError:
        return None, "PyYAML is not installed: pip install pyyaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None:
            return None, f"{name} line {mark.line + 1}, column {mark.column + 1}: {problem}"
        return None, f"{name}: {problem}"


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
        path = _url_path(url)[0] or ""
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


_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1", "host.docker.internal"}


def _url_path(url: str) -> tuple[str | None, str | None]:
    """(path, host) of an example URL; host None for a variable base (``$BASE_URL/x``) or a bare path.
    Path None when nothing usable is left (``$URL`` alone)."""
    url = url.strip().strip("'\"")
    host = None
    m = re.match(r"^(?:\$\{?\w+\}?|\{\{\s*\w+\s*\}\}|<[\w-]+>)(.*)$", url)      # $BASE_URL, {{baseUrl}}
    if m:
        url = m.group(1)
        if not url:
            return None, None
    else:
        m = re.match(r"^(?:[a-z][\w+.-]*://)?([^/?#\s]*)(.*)$", url, re.I)
        if url.startswith(":"):                                   # HTTPie: :3000/loans
            host, url = "localhost", re.sub(r"^:\d*", "", url)
        elif url.startswith("/"):
            pass
        elif m:
            host, url = m.group(1).split("@")[-1].rsplit(":", 1)[0].lower() or None, m.group(2)
    path = re.split(r"[?#]", url, maxsplit=1)[0] or "/"
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path, host


# curl options that take a value (the next argument); the others are flags.
_CURL_ARG_SHORT = set("HdXuoAbceFmwxKrETCYyPQtUz")
_CURL_ARG_LONG = {
    "--header", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii", "--json",
    "--request", "--user", "--output", "--user-agent", "--cookie", "--cookie-jar", "--referer",
    "--cert", "--key", "--cacert", "--capath", "--form", "--form-string", "--max-time",
    "--connect-timeout", "--write-out", "--proxy", "--config", "--range", "--upload-file",
    "--retry", "--retry-delay", "--retry-max-time", "--resolve", "--connect-to", "--oauth2-bearer",
    "--url", "--limit-rate", "--max-filesize", "--interface", "--dns-servers", "--unix-socket",
    "--aws-sigv4", "--variable", "--expand-url", "--expand-data", "--expand-header", "--url-query",
    "--output-dir", "--trace", "--trace-ascii", "--stderr", "--proto", "--proto-redir",
    "--time-cond", "--local-port", "--speed-limit", "--speed-time",
}
_CURL_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii",
              "--json", "-F", "--form", "--form-string"}
_HTTPIE_ARG = {"-a", "--auth", "-A", "--auth-type", "-o", "--output", "--session",
               "--session-read-only", "--verify", "--cert", "--cert-key", "--proxy", "--timeout",
               "-p", "--print", "--pretty", "-s", "--style", "--max-redirects", "--default-scheme",
               "--boundary", "--format-options", "--response-charset", "--response-mime", "-P",
               "--history-print", "--ssl", "--ciphers", "--raw"}
_METHODS_UPPER = {m.upper() for m in _HTTP_METHODS}


def _parse_curl(args: list[str]) -> tuple[str, str] | None:
    method, url, data, head, get = None, None, False, False, False
    i = 0
    while i < len(args):
        tok = args[i]
        if tok.startswith("--"):
            name, eq, value = tok.partition("=")
            if name in _CURL_ARG_LONG:
                if not eq:
                    i += 1
                    value = args[i] if i < len(args) else ""
                if name == "--request":
                    method = value.upper()
                elif name == "--url":
                    url = value
                elif name == "--upload-file":
                    method = method or "PUT"
                if name in _CURL_DATA:
                    data = True
            elif name == "--head":
                head = True
            elif name == "--get":
                get = True
        elif tok.startswith("-") and len(tok) > 1:
            k = 1
            while k < len(tok):
                ch = tok[k]
                if ch == "I":
                    head = True
                elif ch == "G":
                    get = True
                elif ch in _CURL_ARG_SHORT:
                    value = tok[k + 1:]
                    if not value:
                        i += 1
                        value = args[i] if i < len(args) else ""
                    if ch == "X":
                        method = value.upper()
                    elif ch == "T":
                        method = method or "PUT"
                    if "-" + ch in _CURL_DATA:
                        data = True
                    break
                k += 1
        elif url is None:
            url = tok
        i += 1
    if url is None:
        return None
    if method is None:
        method = "HEAD" if head else "GET" if get else "POST" if data else "GET"
    return method, url


def _parse_httpie(args: list[str]) -> tuple[str, str] | None:
    positional, form = [], False
    i = 0
    while i < len(args):
        tok = args[i]
        if tok.startswith("-") and len(tok) > 1 and not positional:
            name = tok.partition("=")[0]
            if name in ("-f", "--form", "--multipart"):
                form = True
            elif name in _HTTPIE_ARG and "=" not in tok:
                i += 1
        elif tok.startswith("-") and len(tok) > 1:
            pass
        else:
            positional.append(tok)
        i += 1
    if not positional:
        return None
    method = None
    if positional[0].upper() in _METHODS_UPPER and positional[0].isupper() and len(positional) > 1:
        method, positional = positional[0], positional[1:]
    url, items = positional[0], positional[1:]
    if method is None:
        has_data = any(re.match(r"^[^=:@]+(?::=|=(?!=)|@)", it) and not re.match(r"^[\w-]+:(?!=)", it)
                       for it in items)
        method = "POST" if has_data or form else "GET"
    return method, url


_SPLIT = {"|", "||", "&&", ";", "(", ")", "&", "$(", "`"}


def _example_requests(a: Artifact) -> list[tuple[int, str, str, str]]:
    """[(answer line, tool, METHOD, url)] for the curl / HTTPie / raw HTTP requests of a block."""
    found: list[tuple[int, str, str, str]] = []
    lines = a.code.split("\n")
    k = 0
    while k < len(lines):
        start = k
        text = lines[k]
        while text.rstrip().endswith("\\") and k + 1 < len(lines):
            k += 1
            text = text.rstrip()[:-1] + " " + lines[k]
        k += 1
        stripped = re.sub(r"^\s*(?:\$|>|PS>|%)\s+", "", text)
        if not stripped.strip() or stripped.lstrip().startswith("#"):
            continue
        lineno = a.line + start
        raw = re.match(r"^\s*(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE)\s+(\S+)(?:\s+HTTP/[\d.]+)?\s*$",
                       stripped)
        if raw:
            found.append((lineno, "http", raw.group(1), raw.group(2)))
            continue
        if not re.search(r"\b(?:curl|https?|xh|xhs)\b", stripped):
            continue
        try:
            lexer = shlex.shlex(stripped, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            tokens = stripped.split()
        commands, current = [], []
        for tok in tokens:
            if tok in _SPLIT or set(tok) <= set("|&;()"):
                commands.append(current)
                current = []
            else:
                current.append(tok)
        commands.append(current)
        for cmd in commands:
            while cmd and re.match(r"^\w+=", cmd[0]) and not cmd[0].startswith(("http", "curl")):
                cmd = cmd[1:]                                     # FOO=bar curl ...
            if not cmd:
                continue
            prog = cmd[0].rsplit("/", 1)[-1]
            if prog == "curl":
                req = _parse_curl(cmd[1:])
                tool = "curl"
            elif prog in ("http", "https", "xh", "xhs"):
                req = _parse_httpie(cmd[1:])
                tool = "HTTPie"
            else:
                continue
            if req:
                found.append((lineno, tool, req[0], req[1]))
    return found


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}/]+\})", template.rstrip("/") or "/")
    rx = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts)
    return re.compile("^" + rx + "/?$")


def _example_segment_is_variable(seg: str) -> bool:
    return bool(re.match(r"^(?:\$\{?\w+\}?|\{\{?\s*\w+\s*\}?\}|<[^>]+>|:\w+)$", seg))


def _match_path(path: str, templates: list[str]) -> list[str]:
    """The templates ``path`` matches; ``$ID``, ``{id}``, ``<id>``, ``:id`` segments match a parameter."""
    matches = []
    segs = path.strip("/").split("/") if path != "/" else []
    for t in templates:
        if _template_regex(t).match(path):
            matches.append(t)
            continue
        tsegs = t.strip("/").split("/") if t.strip("/") else []
        if len(tsegs) == len(segs) and any(_example_segment_is_variable(s) for s in segs) and all(
                s == ts or (ts.startswith("{") and ts.endswith("}"))
                or (_example_segment_is_variable(s) and ts.startswith("{")) for s, ts in zip(segs, tsegs)):
            matches.append(t)
    return matches


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
    spec = _stringify_keys(doc)
    operations: list[tuple[str, str, object]] = []
    paths = spec.get("paths")
    for path, item in (paths.items() if isinstance(paths, dict) else ()):
        for method in _HTTP_METHODS:
            if isinstance(item, dict) and method in item:
                operations.append((method.upper(), path, item[method]))
    return [_contract_row(spec, name), _documented_row(operations),
            _examples_row(spec, operations, [r for ex in examples for r in _example_requests(ex)])]


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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
        return CheckResult(title, FAILED, f"{len(undocumented)} of {_plural(len(operations), 'operation')} "
                                          "not documented: " + "; ".join(undocumented),
                           {**details, "undocumented": undocumented})
    return CheckResult(title, PASSED,
                       f"{_plural(len(operations), 'operation')}, each with a summary or description and "
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
    hosts = _server_hosts(spec) | _LOCAL_HOSTS
    mismatches, matched, elsewhere = [], 0, []
    for lineno, tool, method, url in requests:
        path, host = _url_path(url)
        if path is None:
            continue
        if host is not None and host not in hosts:
            elsewhere.append(url)
            continue
        candidates = [path] + [path[len(b):] or "/" for b in bases if path == b or path.startswith(b + "/")]
        hits = []
        for candidate in candidates:
            hits = _match_path(candidate, list(declared))
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
    return CheckResult(title, PASSED, f"{_plural(matched, 'request')} "
                                      f"match{'es' if matched == 1 else ''} a declared path and method", details)


# --- Python --------------------------------------------------------------------------------------

def check_python(artifact: Artifact) -> CheckResult:
    """``compile()`` the block (never run it); failed with file, line, column and Python's message."""
    name = artifact.filename or f"block {artifact.index + 1} (python)"
    title = f"Python syntax: {name}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            compile(artifact.code, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            where = f"{name} line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
            return CheckResult(title, FAILED, f"{where}: {exc.msg}", {
                "file": name, "line": exc.lineno, "column": exc.offset,
                "answer_line": artifact.line + exc.lineno - 1 if exc.lineno else None,
                "text": (exc.text or "").rstrip("\n"), "error": type(exc).__name__})
        except (ValueError, TypeError) as exc:                      # null bytes
            return CheckResult(title, FAILED, f"{name}: {exc}", {"file": name})
    lines = artifact.code.count("\n") + (0 if artifact.code.endswith("\n") else 1)
    details = {"file": name, "lines": lines}
    if caught:
        details["warnings"] = [f"line {w.lineno}: {w.message}" for w in caught]
    return CheckResult(title, PASSED, f"{lines} lines compile", details)


# --- TypeScript ----------------------------------------------------------------------------------

_NO_TS_PARSER = "no TypeScript parser: install agentnb[typescript] (tree-sitter, tree-sitter-typescript)"


@lru_cache(maxsize=1)
def _ts_languages():
    """(typescript, tsx) tree-sitter languages, or the reason there are none."""
    try:
        import tree_sitter
        import tree_sitter_typescript
    except ImportError:
        return _NO_TS_PARSER
    try:
        return (tree_sitter.Language(tree_sitter_typescript.language_typescript()),
                tree_sitter.Language(tree_sitter_typescript.language_tsx()))
    except Exception as exc:                        # a grammar built for another tree-sitter ABI
        return f"the TypeScript grammar does not load ({exc}): pip install -U tree-sitter tree-sitter-typescript"


def _ts_errors(node, out: list, limit: int = 5) -> None:
    if len(out) >= limit:
        return
    if node.is_missing or node.type == "ERROR":
        out.append(node)
        return
    if node.has_error:
        for child in node.children:
            _ts_errors(child, out, limit)


def check_typescript(artifact: Artifact) -> CheckResult:
    """Parse a TypeScript / JavaScript block with tree-sitter (TSX grammar for .tsx, .jsx and JavaScript,
    which may hold JSX); failed with file, line, column and what the parser could not read."""
    lang_name = "TypeScript" if artifact.kind == "typescript" else "JavaScript"
    name = artifact.filename or f"block {artifact.index + 1} ({artifact.kind})"
    title = f"{lang_name} syntax: {name}"
    languages = _ts_languages()
    if languages is None or isinstance(languages, str):
        return CheckResult(title, SKIPPED, languages or _NO_TS_PARSER)
    import tree_sitter

    ts, tsx = languages
    ext = (artifact.filename or "").rsplit(".", 1)[-1].lower()
    use_tsx = artifact.language in ("tsx", "jsx", "javascript") or ext in ("tsx", "jsx", "js", "mjs", "cjs")
    if ext in ("ts", "mts", "cts"):
        use_tsx = False
    source = artifact.code.encode("utf-8")
    tree = tree_sitter.Parser(tsx if use_tsx else ts).parse(source)
    if not tree.root_node.has_error:
        lines = artifact.code.count("\n") + (0 if artifact.code.endswith("\n") else 1)
        return CheckResult(title, PASSED, f"{lines} lines parse", {"file": name, "lines": lines})
    errors: list = []
    _ts_errors(tree.root_node, errors)
    found = []
    for node in errors:
        line, col = node.start_point[0] + 1, node.start_point[1] + 1
        if node.is_missing:
            what = f"missing `{node.type}`"
        else:
            text = source[node.start_byte:node.end_byte].decode("utf-8", "replace").strip()
            first = text.split("\n", 1)[0]
            what = f"unexpected `{first[:40]}`" if first else "syntax error"
        found.append({"line": line, "column": col, "error": what,
                      "answer_line": artifact.line + line - 1})
    first = found[0] if found else {"line": 1, "column": 1, "error": "syntax error"}
    message = f"{name} line {first['line']}, column {first['column']}: {first['error']}"
    if len(found) > 1:
        message += f" (and {len(found) - 1} more)"
    return CheckResult(title, FAILED, message, {"file": name, "errors": found,
                                                "line": first["line"], "column": first["column"]})


# --- secrets -------------------------------------------------------------------------------------

# (what, substrings that must occur for the pattern to be tried at all, pattern)
_TOKENS = [
    ("AWS access key ID", ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
     _Lazy(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    ("Anthropic API key", ("sk-ant-",), _Lazy(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI-style API key", ("sk-",), _Lazy(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("Stripe secret key", ("k_live_", "k_test_"), _Lazy(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     _Lazy(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("Slack token", ("xox",), _Lazy(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Google API key", ("AIza",), _Lazy(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("private key", ("PRIVATE KEY",), _Lazy(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----")),
]
_JWT = _Lazy(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
_PLACEHOLDER = _Lazy(
    r"x{4,}|X{4,}|\.\.\.|…|\*{3,}|<[^>]*>|\$\{|\{\{|%\(|%s|^\$\w|example|exemple|your[-_ ]?|votre|"
    r"change[-_ ]?me|changeit|placeholder|dummy|fake|redacted|replace|remplacer|todo|fixme|"
    r"not[-_]?a[-_]?real|insert|secret[-_]here|dev[-_]only", re.I)
_SECRET_WORDS = {"password", "passwd", "passphrase", "pwd", "pass", "secret", "secrets", "token",
                 "apikey", "credential", "credentials", "pat"}
_SECRET_PAIRS = {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"),
                 ("signing", "key"), ("auth", "key"), ("encryption", "key"), ("client", "secret"),
                 ("master", "key"), ("session", "key")}
_NOT_SECRET_WORDS = {
    "url", "uri", "urls", "type", "hash", "hashed", "field", "fields", "name", "names", "header",
    "prefix", "length", "len", "min", "max", "expire", "expires", "expiry", "expiration", "ttl",
    "minutes", "seconds", "days", "hours", "algorithm", "alg", "file", "path", "env", "var", "endpoint",
    "count", "limit", "pattern", "regex", "label", "placeholder", "policy", "error", "message", "msg",
    "description", "format", "location", "scheme", "mode", "kind", "version", "scope", "scopes",
    "audience", "issuer", "cookie", "param", "key_name", "id", "ids", "reset", "confirm", "rule",
    "rules", "input", "form", "validator", "strength", "lifetime", "delta", "timeout", "ratelimit",
    "route", "column", "table", "prompt", "hint", "text", "title", "class", "style", "icon", "usage",
}
_TRIVIAL = {"bearer", "basic", "password", "secret", "token", "hs256", "hs384", "hs512", "rs256",
            "es256", "jwt", "utf-8", "utf8", "none", "null", "true", "false", "string", "str",
            "required", "optional", "hidden", "text", "access", "refresh"}
_ASSIGN = _Lazy(
    r"""(?<![\w$])(?P<name>[A-Za-z_$][\w$]*)['"]?[ \t]*(?::[ \t]*[A-Za-z_][\w\[\], .|]*?[ \t]*)?"""
    r"""(?:=(?![=>])|:(?!:)|\?\?=?|\|\|=?)[ \t]*(?P<q>['"`])(?P<val>[^'"`\n]*)(?P=q)""")
_ENV_DEFAULT = _Lazy(
    r"""(?:getenv|environ\.get|env\.get)\(\s*['"](?P<name>\w+)['"]\s*,\s*(?P<q>['"])(?P<val>[^'"\n]*)(?P=q)"""
    r"""|process\.env\.(?P<name2>\w+)\s*(?:\?\?|\|\|)\s*(?P<q2>['"`])(?P<val2>[^'"`\n]*)(?P=q2)""")
_JWT_CALL = _Lazy(r"\bjwt\.(?:encode|decode|sign|verify)\s*\(")
_CONN_URL = _Lazy(r"\b(?P<scheme>[a-z][\w+.-]*)://(?P<user>[^\s:/@'\"`]+):(?P<pw>[^\s@/'\"`]+)@")
_CONFIG_KINDS = ("env", "compose", "dockerfile", "json", "yaml", "openapi", "shell", "example", "other",
                 "graphql", "prisma", "schema", "migration", "query")
_DOC_KINDS = ("example", "shell", "openapi")      # documentation: JWTs shown in examples are fine


def _words(identifier: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", identifier.strip("$"))
    return [w for w in re.split(r"[_\W]+", spaced.lower()) if w]


def _secret_name(identifier: str) -> bool:
    words = _words(identifier)
    if not words or any(w in _NOT_SECRET_WORDS for w in words):
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


def _looks_random(value: str) -> bool:
    if len(value) < 16 or " " in value:
        return False
    counts = {c: value.count(c) for c in set(value)}
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 3.5 and bool(re.search(r"\d", value)) and bool(re.search(r"[A-Za-z]", value))


def _trivial(name: str, value: str) -> bool:
    v = value.strip()
    return (len(v) < 4 or " " in v or v.lower() in _TRIVIAL or v.startswith(("/", "./", "http"))
            or re.fullmatch(r"[A-Z][A-Z0-9_]+", v) is not None                   # an env var's name
            or v.lower().replace("-", "_") == name.lower() or bool(re.fullmatch(r"[\W_]+", v)))


def _is_test_file(a: Artifact) -> bool:
    name = (a.filename or "").lower()
    base = name.rsplit("/", 1)[-1]
    return (base.startswith("test_") or base.endswith(("_test.py", ".test.ts", ".spec.ts", ".test.js",
                                                        ".spec.js", ".test.tsx", ".spec.tsx", "conftest.py"))
            or "/tests/" in "/" + name or "/__tests__/" in "/" + name
            or bool(re.search(r"^\s*def test_\w+\(|^\s*(?:describe|it|test)\(\s*['\"`]", a.code, re.M)))


def _call_second_literal(code: str, start: int) -> re.Match | None:
    """The string literal passed as the second argument of the call whose '(' ends at ``start``."""
    depth, i = 0, start
    while i < len(code):
        ch = code[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return None
            depth -= 1
        elif ch in "'\"`":
            end = code.find(ch, i + 1)
            if end < 0:
                return None
            i = end
        elif ch == "," and depth == 0:
            return re.compile(r"\s*(?P<q>['\"`])(?P<val>[^'\"`\n]*)(?P=q)").match(code, i + 1)
        i += 1
    return None


_COMMENT_LINE = _Lazy(r"^\s*(?:#|//|\*|/\*|--)")
_ENV_LINE = _Lazy(r"^[ \t]*(?:export[ \t]+|ENV[ \t]+|ARG[ \t]+)?([A-Za-z_]\w*)[ \t]*=[ \t]*['\"]?([^'\"\s#]+)", re.M)
_CODE_PLACEHOLDER = _Lazy(r"<[^>]*>|\$\{|\{\{|%\(|%s|\{\w*\}|\.\.\.|…|x{4,}|X{4,}")


def _scan_secrets(a: Artifact) -> list[dict]:
    """Findings of one block, at most one a line: the most specific (a provider key before the
    assignment that holds it). Each pattern runs once over the whole block: per-line loops cost 5x."""
    code = a.code
    in_code = a.kind in _CODE_KINDS or (a.kind == "migration" and a.language in ("python", "typescript",
                                                                                 "javascript"))
    strict = in_code and not _is_test_file(a)
    starts = [0] + [m.end() for m in re.finditer("\n", code)]
    lines = code.split("\n")
    candidates: list[tuple[int, int, str, str]] = []        # (line, priority, what, value)

    def line_of(offset: int) -> int:
        return bisect_right(starts, offset)

    def is_comment(n: int) -> bool:
        return _COMMENT_LINE.match(lines[n - 1]) is not None

    for what, needles, rx in _TOKENS:
        if not any(needle in code for needle in needles):
            continue
        for m in rx.finditer(code):
            if not _PLACEHOLDER.search(m.group(0)):
                candidates.append((line_of(m.start()), 0, what, m.group(0)))
    if a.kind not in _DOC_KINDS and "eyJ" in code:
        for m in _JWT.finditer(code):
            candidates.append((line_of(m.start()), 1, "JWT", m.group(0)))
    if strict:
        for m in _ENV_DEFAULT.finditer(code):
            name = m.group("name") or m.group("name2")
            value = m.group("val") if m.group("name") else m.group("val2")
            n = line_of(m.start())
            if _secret_name(name) and value and not _trivial(name, value) and "${" not in value \
                    and not is_comment(n):
                candidates.append((n, 2, f"default value for {name} written in the code", value))
    for m in _ASSIGN.finditer(code):
        name, value = m.group("name"), m.group("val")
        if not _secret_name(name) or _trivial(name, value) or "${" in value:
            continue
        n = line_of(m.start())
        if strict and not is_comment(n):
            if not _CODE_PLACEHOLDER.search(value):
                candidates.append((n, 3, f"string literal assigned to {name}", value))
        elif _looks_random(value) and not _PLACEHOLDER.search(value):
            candidates.append((n, 3, f"real-looking value for {name}", value))
    if a.kind in ("env", "dockerfile", "shell"):
        for m in _ENV_LINE.finditer(code):
            if _secret_name(m.group(1)) and _looks_random(m.group(2)) and not _PLACEHOLDER.search(m.group(2)):
                candidates.append((line_of(m.start(1)), 4, f"real-looking value for {m.group(1)}", m.group(2)))
    if strict and "://" in code:
        for m in _CONN_URL.finditer(code):
            pw, n = m.group("pw"), line_of(m.start())
            if not re.search(r"[$<{%]|\*{3,}", pw) and not is_comment(n):
                candidates.append((n, 5, f"password in a {m.group('scheme')} connection URL",
                                   f"{m.group('user')}:{pw}"))
    if strict and "jwt." in code:
        for m in _JWT_CALL.finditer(code):
            lit = _call_second_literal(code, m.end())
            if lit and lit.group("val") and "${" not in lit.group("val"):
                candidates.append((line_of(lit.start("val")), 6, "string literal used as the JWT key",
                                   lit.group("val")))
    found: dict[int, dict] = {}
    for n, _, what, value in sorted(candidates, key=lambda c: (c[0], c[1])):
        if n not in found:
            found[n] = {"file": _where(a), "line": n, "what": what, "value": _short(value),
                        "answer_line": a.line + n - 1}
    return list(found.values())


def check_secrets(artifacts: Sequence[Artifact]) -> CheckResult:
    """Hard-coded secrets: provider keys and tokens (AWS, Anthropic, OpenAI, Stripe, GitHub, Slack,
    Google), private keys and JWTs anywhere; in code, string literals given to password / secret / token
    / key names, to ``jwt.encode``/``sign``, as an env var's default, or inside a connection URL.
    Configuration samples (.env blocks, compose, the answer's variable list) may hold placeholders and
    dev defaults; there only provider-shaped keys and random-looking values fail."""
    name = "No hard-coded secrets"
    try:
        findings = [f for a in artifacts for f in _scan_secrets(a)]
        for var in getattr(artifacts, "env", []) or []:
            if var.source == "env block":                 # the block itself was scanned above
                continue
            value = var.example or ""
            what = next((w for w, _, rx in _TOKENS if rx.search(value)), None)
            if what and not _PLACEHOLDER.search(value):
                what = f"{what} as the example of {var.name}"
            elif _secret_name(var.name) and _looks_random(value) and not _PLACEHOLDER.search(value) \
                    and not _CONN_URL.search(value):
                what = f"real-looking example for {var.name}"
            else:
                continue
            findings.append({"file": "variables list", "line": None, "what": what, "value": _short(value)})
    except Exception as exc:                                          # never raise on an answer
        return CheckResult(name, SKIPPED, f"the secrets scan failed: {type(exc).__name__}: {exc}")
    if not artifacts and not findings:
        return CheckResult(name, SKIPPED, "no blocks in this answer")
    if findings:
        parts = [f"{f['file']}{' line ' + str(f['line']) if f['line'] else ''}: {f['what']} "
                 f"(`{f['value']}`)" for f in findings]
        plural = "s" if len(findings) > 1 else ""
        return CheckResult(name, FAILED,
                           f"{len(findings)} hard-coded secret{plural} — read {'them' if plural else 'it'} "
                           f"from environment variables instead: " + "; ".join(parts),
                           {"findings": findings})
    return CheckResult(name, PASSED, f"{len(artifacts)} block{'s' if len(artifacts) != 1 else ''} scanned",
                       {"blocks": len(artifacts)})


# --- environment variables -----------------------------------------------------------------------

_PY_ENV = _Lazy(
    r"""\b(?:os\.)?(?:environ\s*\[\s*|environ\.get\(\s*|environ\.setdefault\(\s*|getenv\(\s*)"""
    r"""['"](?P<name>[A-Za-z_]\w*)['"]""")
_JS_ENV = _Lazy(
    r"""\b(?:process\.env|Bun\.env|import\.meta\.env)(?:\.(?P<a>[A-Za-z_]\w*)|\[\s*['"`](?P<b>[A-Za-z_]\w*)['"`]\s*\])"""
    r"""|\bDeno\.env\.get\(\s*['"`](?P<c>[A-Za-z_]\w*)['"`]""")
_JS_DESTRUCTURE = _Lazy(r"\{(?P<names>[^{}]*)\}\s*=\s*(?:process\.env|Bun\.env|Deno\.env\.toObject\(\))")
_PRISMA_ENV = _Lazy(r"""\benv\(\s*["'](?P<name>[A-Za-z_]\w*)["']\s*\)""")
_COMPOSE_ENV = _Lazy(r"(?<!\$)\$\{(?P<name>[A-Za-z_]\w*)(?:[:?+-][^}]*)?\}")
_STANDARD_VARS = {"NODE_ENV", "HOME", "PATH", "PWD", "USER", "HOSTNAME", "TZ", "CI", "PYTHONPATH",
                  "LANG", "SHELL", "TMPDIR", "TERM"}


def _settings_vars(code: str) -> list[tuple[str, int]]:
    """Env vars of pydantic ``BaseSettings`` classes: PREFIX + FIELD upper-cased, or the field's alias."""
    if "Settings" not in code:                       # ast.walk costs ~1 ms on a 150-line file
        return []
    import ast
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    settings_classes: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases]
        if not any(b.endswith("BaseSettings") or b in settings_classes for b in bases):
            continue
        settings_classes.add(node.name)
        prefix = ""
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "model_config" for t in stmt.targets):
                call = stmt.value
                kws = getattr(call, "keywords", []) or []
                for kw in kws:
                    if kw.arg == "env_prefix" and isinstance(kw.value, ast.Constant):
                        prefix = str(kw.value.value)
                if isinstance(call, ast.Dict):
                    for k, v in zip(call.keys, call.values):
                        if isinstance(k, ast.Constant) and k.value == "env_prefix" and isinstance(v, ast.Constant):
                            prefix = str(v.value)
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
                for inner in stmt.body:
                    if isinstance(inner, ast.Assign) and any(getattr(t, "id", "") == "env_prefix"
                                                             for t in inner.targets) \
                            and isinstance(inner.value, ast.Constant):
                        prefix = str(inner.value.value)
        for stmt in node.body:
            if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                continue
            field = stmt.target.id
            if field.startswith("_") or field == "model_config" or "ClassVar" in ast.unparse(stmt.annotation):
                continue
            env_name = None
            if isinstance(stmt.value, ast.Call) and getattr(stmt.value.func, "id", getattr(stmt.value.func, "attr", "")) == "Field":
                for kw in stmt.value.keywords:
                    if kw.arg in ("alias", "validation_alias", "env") and isinstance(kw.value, ast.Constant) \
                            and isinstance(kw.value.value, str):
                        env_name = kw.value.value
            found.append(((env_name or prefix + field).upper(), stmt.lineno))
    return found


def _env_reads(a: Artifact) -> list[tuple[str, int]]:
    """[(VAR, line in the block)] read by an artifact."""
    reads: list[tuple[str, int]] = []
    code = a.code
    if a.language == "python":
        rx_list = [_PY_ENV]
        reads.extend(_settings_vars(code))
    elif a.kind in ("typescript", "javascript") or a.language in ("typescript", "tsx", "javascript", "jsx"):
        rx_list = [_JS_ENV]
        for m in _JS_DESTRUCTURE.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            for part in m.group("names").split(","):
                var = part.split(":")[0].split("=")[0].strip()
                if re.fullmatch(r"[A-Za-z_]\w*", var):
                    reads.append((var, line))
    elif a.kind == "prisma":
        rx_list = [_PRISMA_ENV]
    elif a.kind == "compose":
        rx_list = [_COMPOSE_ENV]
    else:
        return reads
    for rx in rx_list:
        for m in rx.finditer(code):
            name = next(g for g in m.groups() if g)
            reads.append((name, code.count("\n", 0, m.start()) + 1))
    return reads


def check_env(artifacts: Sequence[Artifact]) -> CheckResult:
    """Every environment variable the code reads (``os.environ``/``getenv``, pydantic ``BaseSettings``
    fields, ``process.env``, ``Deno.env.get``, Prisma ``env()``, ``${X}`` in compose files) is in the
    answer's list of variables (table, bullet list or .env block)."""
    name = "Environment variables listed"
    readers = [a for a in artifacts
               if a.kind in _CODE_KINDS + ("prisma", "compose") or (a.kind == "migration" and a.language == "python")]
    if not readers:
        return CheckResult(name, SKIPPED, "no code in this answer")
    listed = {v.name.upper() for v in (getattr(artifacts, "env", []) or [])}
    missing: dict[str, list[str]] = {}
    matched: set[str] = set()
    standard: set[str] = set()
    locations = []
    try:
        for a in readers:
            for var, line in _env_reads(a):
                if var.upper() in listed:
                    matched.add(var)
                elif var in _STANDARD_VARS:
                    standard.add(var)
                else:
                    where = _where(a, line)
                    missing.setdefault(var, []).append(where)
                    locations.append({"name": var, "file": _where(a), "line": line,
                                      "answer_line": a.line + line - 1})
    except Exception as exc:
        return CheckResult(name, SKIPPED, f"the scan failed: {type(exc).__name__}: {exc}")
    details = {"matched": sorted(matched), "listed": sorted(listed)}
    if standard:
        details["standard"] = sorted(standard)
    if missing:
        details["missing"] = locations
        parts = [f"{var} ({', '.join(places)})" for var, places in missing.items()]
        n = len(missing)
        return CheckResult(name, FAILED,
                           f"{n} variable{'s' if n > 1 else ''} read by the code but not in the answer's list: "
                           + "; ".join(parts), details)
    if not matched:
        return CheckResult(name, PASSED, "the code reads no environment variable", details)
    n = len(matched)
    return CheckResult(name, PASSED,
                       f"{n} variable{'s' if n > 1 else ''} read by the code, all in the answer's list", details)


# --- answer format -------------------------------------------------------------------------------

def _has_tests(arts: Sequence[Artifact]) -> bool:
    return any(a.kind in _CODE_KINDS and re.search(
        r"^\s*(?:async\s+)?def test_\w*\(|\b(?:describe|it|test)\(\s*['\"`]", a.code, re.M) for a in arts)


# key -> (test, what is missing in plain words)
FORMAT_PARTS = {
    "code": (lambda arts: any(a.kind in _CODE_KINDS for a in arts),
             "no code (a Python, TypeScript or JavaScript block)"),
    "schema": (lambda arts: any(a.kind in ("schema", "prisma", "migration") for a in arts),
               "no data schema (SQL DDL, Prisma schema or migration)"),
    "examples": (lambda arts: any(a.kind == "example" for a in arts),
                 "no request examples (curl or HTTPie)"),
    "env": (lambda arts: bool(getattr(arts, "env", None)),
            "no list of environment variables"),
    "openapi": (lambda arts: any(a.kind == "openapi" for a in arts), "no OpenAPI contract"),
    "migrations": (lambda arts: any(a.kind == "migration" for a in arts), "no migrations"),
    "tests": (_has_tests, "no tests (pytest `def test_…` or `describe(`/`it(` blocks)"),
    "dockerfile": (lambda arts: any(a.kind == "dockerfile" for a in arts), "no Dockerfile"),
    "compose": (lambda arts: any(a.kind == "compose" for a in arts), "no docker-compose file"),
    "graphql": (lambda arts: any(a.kind == "graphql" for a in arts), "no GraphQL schema"),
}


def check_answer_format(answer_text: str, artifacts: Sequence[Artifact], required: Iterable[str]) -> CheckResult:
    """The parts an agent file's ``answer-format`` asks for are all in the answer. A reply without any
    fenced block is conversational (a question answered, a choice explained): skipped, not failed."""
    name = "Answer format"
    if isinstance(required, str):
        required = [required]
    keys = [str(k).strip().lower() for k in (required or []) if str(k).strip()]
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


# --- all -----------------------------------------------------------------------------------------

def run_all(answer_text: str, artifacts: Sequence[Artifact], required: Iterable[str] = ()) -> list[CheckResult]:
    """OpenAPI rows, one Python row per Python block, one TypeScript/JavaScript row per block, secrets,
    env vars, and the answer format when the agent declares one (SQL checks live in ``sqlcheck``)."""
    if not isinstance(artifacts, Artifacts):
        artifacts = Artifacts(artifacts)
    rows: list[CheckResult] = []
    for contract in artifacts.by_kind("openapi"):
        rows.extend(check_openapi(contract, artifacts.examples))
    for a in artifacts:
        if a.language == "python" and a.kind in ("python", "migration"):
            rows.append(check_python(a))
    for a in artifacts:
        if a.kind in ("typescript", "javascript"):
            rows.append(check_typescript(a))
    rows.append(check_secrets(artifacts))
    rows.append(check_env(artifacts))
    required = [required] if isinstance(required, str) else list(required or ())
    if required:
        rows.append(check_answer_format(answer_text, artifacts, required))
    return rows
