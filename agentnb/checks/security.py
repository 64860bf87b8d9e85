"""Security of the answer's Python: bandit's findings (rule id, severity, confidence, its own message) and
the common JWT mistakes, each with the line in the file and in the answer. Nothing is run.

bandit runs in process on copies of the blocks in a scratch folder (under neutral names: an answer's
file name never becomes a path), with ``# nosec`` ignored: the answer cannot silence its own findings.
A finding of medium or high severity fails the row; low ones (an ``assert``, ``import subprocess``) are
listed without failing it. bandit is imported on first use; without it the row is skipped saying how to
install it.

JWT, read from the syntax tree: ``jwt.decode`` (PyJWT, python-jose) without
``algorithms=`` (the token's header then picks the algorithm), ``"none"`` among the algorithms, and
signature verification turned off (``verify_signature: False``, ``verify=False``).
"""

from __future__ import annotations

import ast
import os
import tempfile
from collections.abc import Sequence

from agentnb.artifacts.model import Artifact
from agentnb.checks.limits import MAX_TEXT
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["check_security", "check_jwt"]

BANDIT_ROW = "Security of the Python code (bandit)"
JWT_ROW = "JWT handling"
_FAILING = ("MEDIUM", "HIGH")
_JWT_MODULES = ("jwt", "jose.jwt")       # PyJWT and python-jose: the same decode(token, key, algorithms=)


def _python_blocks(artifacts: Sequence[Artifact]) -> list[Artifact]:
    return [a for a in artifacts if a.language == "python" and a.kind in ("python", "migration")
            and len(a.code) <= MAX_TEXT]


def _place(a: Artifact) -> str:
    return a.filename or f"block {a.index + 1} (python)"


def check_security(artifacts: Sequence[Artifact]) -> list[CheckResult]:
    """bandit's row, and the JWT row when the code uses a JWT library."""
    blocks = _python_blocks(artifacts)
    if not blocks:
        return []
    rows = [_bandit(blocks)]
    jwt_row = check_jwt(blocks)
    if jwt_row is not None:
        rows.append(jwt_row)
    return rows


def _bandit(blocks: list[Artifact]) -> CheckResult:
    try:
        from bandit.core import config, manager
    except ImportError:
        return CheckResult(BANDIT_ROW, SKIPPED, "bandit is not installed: pip install bandit")
    findings = []
    with tempfile.TemporaryDirectory(prefix="agentnb-bandit-") as scratch:
        paths = {}
        for i, a in enumerate(blocks):
            path = os.path.join(scratch, f"block_{i}.py")
            with open(path, "w", encoding="utf-8") as f:
                f.write(a.code)
            paths[path] = a
        bandit = manager.BanditManager(config.BanditConfig(), "file", False, quiet=True, ignore_nosec=True)
        bandit.discover_files(list(paths))
        bandit.run_tests()
        for issue in bandit.get_issue_list():
            a = paths.get(os.path.normpath(os.path.join(scratch, os.path.basename(issue.fname))))
            if a is None:
                continue
            findings.append({"file": _place(a), "line": issue.lineno, "answer_line": a.line + issue.lineno - 1,
                             "rule": issue.test_id, "severity": issue.severity.lower(),
                             "confidence": issue.confidence.lower(), "error": issue.text,
                             "test": issue.test})
        broken = [paths[p].filename or _place(paths[p]) for p, _why in bandit.skipped if p in paths]
    findings.sort(key=lambda f: (f["severity"] not in ("high",), f["severity"] != "medium", f["answer_line"]))
    serious = [f for f in findings if f["severity"].upper() in _FAILING]
    details = {"findings": findings[:50], "files": len(blocks)}
    if broken:
        details["not_parsed"] = broken
    if serious:
        first = serious[0]
        message = (f"{first['file']} line {first['line']}: [{first['rule']} {first['severity']}] {first['error']}"
                   + (f" (and {len(serious) - 1} more)" if len(serious) > 1 else ""))
        return CheckResult(BANDIT_ROW, FAILED, message,
                           {**details, **{k: first[k] for k in ("file", "line", "answer_line", "rule")}})
    low = len(findings)
    message = f"{plural(len(blocks), 'Python block')}: no medium or high severity finding"
    if low:
        rules = sorted({f["rule"] for f in findings})
        message += f" ({low} low: {', '.join(rules)})"
    if broken:
        message += f"; not read: {', '.join(broken)} (its syntax row says why)"
    return CheckResult(BANDIT_ROW, PASSED, message, details)


# --- JWT ----------------------------------------------------------------------------------------

def _jwt_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names bound to a JWT module, names bound to a JWT ``decode`` function) in this block."""
    modules, decoders = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _JWT_MODULES:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in _JWT_MODULES:
                    modules.add(alias.asname or alias.name)
                elif node.module in _JWT_MODULES and alias.name == "decode":
                    decoders.add(alias.asname or "decode")
    return modules, decoders


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _literal_strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _jwt_mistakes(call: ast.Call) -> list[str]:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    if any(k.arg is None for k in call.keywords):          # **kwargs: cannot tell
        return []
    out = []
    algorithms = keywords.get("algorithms")
    if algorithms is None and len(call.args) < 3:
        out.append("jwt.decode without algorithms=: the token's own header chooses the algorithm "
                   "(pass the one the server signs with, e.g. algorithms=[\"HS256\"])")
    elif algorithms is not None and any(s.lower() == "none" for s in _literal_strings(algorithms)):
        out.append("jwt.decode accepts the 'none' algorithm: an unsigned token passes")
    options = keywords.get("options")
    if isinstance(options, ast.Dict):
        for key, value in zip(options.keys, options.values):
            if (isinstance(key, ast.Constant) and key.value in ("verify_signature", "verify_exp", "verify_aud")
                    and isinstance(value, ast.Constant) and value.value is False):
                out.append(f"jwt.decode with {key.value}: False: the token is not verified")
    verify = keywords.get("verify")
    if isinstance(verify, ast.Constant) and verify.value is False:
        out.append("jwt.decode with verify=False: the signature is not checked")
    return out


def check_jwt(artifacts: Sequence[Artifact]) -> CheckResult | None:
    """The JWT row, or None when no block imports a JWT library."""
    found, calls, uses = [], 0, False
    for a in _python_blocks(artifacts):
        try:
            tree = ast.parse(a.code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue                                     # the syntax row says why
        modules, decoders = _jwt_names(tree)
        if not (modules or decoders):
            continue
        uses = True
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _dotted(node.func)
            if name is None:
                continue
            is_decode = name in decoders or (name.endswith(".decode") and name.rsplit(".", 1)[0] in modules)
            if not is_decode:
                continue
            calls += 1
            for what in _jwt_mistakes(node):
                found.append({"file": _place(a), "line": node.lineno, "answer_line": a.line + node.lineno - 1,
                              "error": what})
    if not uses:
        return None
    if found:
        first = found[0]
        message = f"{first['file']} line {first['line']}: {first['error']}" + (
            f" (and {len(found) - 1} more)" if len(found) > 1 else "")
        return CheckResult(JWT_ROW, FAILED, message, {"findings": found, **{k: first[k] for k in
                                                                         ("file", "line", "answer_line")}})
    if not calls:
        return CheckResult(JWT_ROW, PASSED, "a JWT library is imported; no token is decoded in this answer")
    return CheckResult(JWT_ROW, PASSED, f"{plural(calls, 'jwt.decode call')}: algorithms "
                                        "pinned, signature verified")
