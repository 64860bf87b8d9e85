"""Secrets and environment variables in an answer's code: hard-coded keys, passwords and tokens
(``check_secrets``), and variables the code reads that the answer does not list (``check_env``).

A finding names the place (file and line) and the kind of secret, never the secret's characters:
check rows end up in notebooks, exports and CI summaries.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Sequence

from agentnb.artifacts.model import CODE_KINDS, Artifact
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult

__all__ = ["check_secrets", "check_env"]


def _where(a: Artifact, line: int | None = None) -> str:
    """``app/main.py line 12`` or ``block 3 (python) line 4`` (``line`` is 1-based within the code)."""
    place = a.filename or f"block {a.index + 1} ({a.kind})"
    return f"{place} line {line}" if line else place


# The patterns are compiled at import (~2 ms): the checks' first run imports this module, `%load_ext
# agentnb` never does (tests/test_public_api.py).
# (what, substrings that must occur for the pattern to be tried at all, pattern)
_TOKENS = [
    ("AWS access key ID", ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
     re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    ("Anthropic API key", ("sk-ant-",), re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI-style API key", ("sk-",), re.compile(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("Stripe secret key", ("k_live_", "k_test_"), re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("Slack token", ("xox",), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Google API key", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("private key", ("PRIVATE KEY",), re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----")),
]
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
_PLACEHOLDER = re.compile(
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
_ASSIGN = re.compile(
    r"""(?<![\w$])(?P<name>[A-Za-z_$][\w$]*)['"]?[ \t]*(?::[ \t]*[A-Za-z_][\w\[\], .|]*?[ \t]*)?"""
    r"""(?:=(?![=>])|:(?!:)|\?\?=?|\|\|=?)[ \t]*(?P<q>['"`])(?P<val>[^'"`\n]*)(?P=q)""")
_ENV_DEFAULT = re.compile(
    r"""(?:getenv|environ\.get|env\.get)\(\s*['"](?P<name>\w+)['"]\s*,\s*(?P<q>['"])(?P<val>[^'"\n]*)(?P=q)"""
    r"""|process\.env\.(?P<name2>\w+)\s*(?:\?\?|\|\|)\s*(?P<q2>['"`])(?P<val2>[^'"`\n]*)(?P=q2)""")
_JWT_CALL = re.compile(r"\bjwt\.(?:encode|decode|sign|verify)\s*\(")
_CONN_URL = re.compile(r"\b(?P<scheme>[a-z][\w+.-]*)://(?P<user>[^\s:/@'\"`]+):(?P<pw>[^\s@/'\"`]+)@")
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


_LITERAL = re.compile(r"\s*(?P<q>['\"`])(?P<val>[^'\"`\n]*)(?P=q)")


def _jwt_key_literals(code: str) -> list[re.Match]:
    """The string literals passed as the second argument of ``jwt.encode/decode/sign/verify`` calls,
    found in one pass over the code (brackets on a stack, quoted text on one line skipped), so a block
    full of nested calls costs no more than any other."""
    opening = [m.end() - 1 for m in _JWT_CALL.finditer(code)]      # where each call's '(' is
    if not opening:
        return []
    calls, found = set(opening), []
    stack: list[list] = []                  # per open bracket: [a jwt call's '(', commas seen]
    i, n = opening[0], len(code)
    while i < n:
        ch = code[i]
        if ch in "([{":
            stack.append([i in calls, 0])
        elif ch in ")]}":
            if stack:
                stack.pop()
        elif ch in "'\"`":
            line_end = code.find("\n", i + 1)
            close = code.find(ch, i + 1, n if line_end < 0 else line_end)
            if close >= 0:
                i = close
        elif ch == "," and stack and stack[-1][0]:
            stack[-1][1] += 1
            if stack[-1][1] == 1:
                m = _LITERAL.match(code, i + 1)
                if m:
                    found.append(m)
        i += 1
    return found


_COMMENT_LINE = re.compile(r"^\s*(?:#|//|\*|/\*|--)")
_ENV_LINE = re.compile(r"^[ \t]*(?:export[ \t]+|ENV[ \t]+|ARG[ \t]+)?([A-Za-z_]\w*)[ \t]*=[ \t]*['\"]?([^'\"\s#]+)", re.M)
_CODE_PLACEHOLDER = re.compile(r"<[^>]*>|\$\{|\{\{|%\(|%s|\{\w*\}|\.\.\.|…|x{4,}|X{4,}")


def _scan_secrets(a: Artifact) -> list[dict]:
    """Findings of one block, at most one a line: the most specific (a provider key before the
    assignment that holds it). Each pattern runs once over the whole block: per-line loops cost 5x."""
    code = a.code
    in_code = a.kind in CODE_KINDS or (a.kind == "migration" and a.language in ("python", "typescript",
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
    # a Prisma datasource is config the ORM reads as is: its URL belongs in env("DATABASE_URL")
    if (strict or a.kind == "prisma") and "://" in code:
        for m in _CONN_URL.finditer(code):
            pw, n = m.group("pw"), line_of(m.start())
            if not re.search(r"[$<{%]|\*{3,}", pw) and not is_comment(n):
                candidates.append((n, 5, f"password in a {m.group('scheme')} connection URL",
                                   f"{m.group('user')}:{pw}"))
    if strict and "jwt." in code:
        for lit in _jwt_key_literals(code):
            if lit.group("val") and "${" not in lit.group("val"):
                candidates.append((line_of(lit.start("val")), 6, "string literal used as the JWT key",
                                   lit.group("val")))
    found: dict[int, dict] = {}
    # the place and the kind only: rows reach notebooks, exports and CI summaries, and even a few
    # characters of a real key are too many there
    for n, _, what, _value in sorted(candidates, key=lambda c: (c[0], c[1])):
        if n not in found:
            found[n] = {"file": _where(a), "line": n, "what": what, "answer_line": a.line + n - 1}
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
            findings.append({"file": "variables list", "line": None, "what": what})
    except Exception as exc:                                          # never raise on an answer
        return CheckResult(name, SKIPPED, f"the secrets scan failed: {type(exc).__name__}: {exc}")
    if not artifacts and not findings:
        return CheckResult(name, SKIPPED, "no blocks in this answer")
    if findings:
        parts = [f"{f['file']}{' line ' + str(f['line']) if f['line'] else ''}: {f['what']}" for f in findings]
        plural = "s" if len(findings) > 1 else ""
        return CheckResult(name, FAILED,
                           f"{len(findings)} hard-coded secret{plural} — read {'them' if plural else 'it'} "
                           f"from environment variables instead: " + "; ".join(parts),
                           {"findings": findings})
    return CheckResult(name, PASSED, f"{len(artifacts)} block{'s' if len(artifacts) != 1 else ''} scanned",
                       {"blocks": len(artifacts)})


_PY_ENV = re.compile(
    r"""\b(?:os\.)?(?:environ\s*\[\s*|environ\.get\(\s*|environ\.setdefault\(\s*|getenv\(\s*)"""
    r"""['"](?P<name>[A-Za-z_]\w*)['"]""")
_JS_ENV = re.compile(
    r"""\b(?:process\.env|Bun\.env|import\.meta\.env)(?:\.(?P<a>[A-Za-z_]\w*)|\[\s*['"`](?P<b>[A-Za-z_]\w*)['"`]\s*\])"""
    r"""|\bDeno\.env\.get\(\s*['"`](?P<c>[A-Za-z_]\w*)['"`]""")
_JS_DESTRUCTURE = re.compile(r"\{(?P<names>[^{}]*)\}\s*=\s*(?:process\.env|Bun\.env|Deno\.env\.toObject\(\))")
_PRISMA_ENV = re.compile(r"""\benv\(\s*["'](?P<name>[A-Za-z_]\w*)["']\s*\)""")
_COMPOSE_ENV = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_]\w*)(?:[:?+-][^}]*)?\}")
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
               if a.kind in CODE_KINDS + ("prisma", "compose") or (a.kind == "migration" and a.language == "python")]
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
