"""Code blocks of an answer, parsed and never run: Python is ``compile()``d, TypeScript and JavaScript
parsed with tree-sitter. A broken block is a failed row with file, line and column; a missing parser a
skipped row. tree-sitter is imported on first use.

Locations are written as a user finds them: ``app/main.py line 12`` (the line in the file as the answer
writes it, its path comment being line 1), or ``block 3 (python) line 4`` for a block without a file
name (blocks counted from 1 in answer order).

Both parsers are bounded: a block over ``MAX_TEXT`` characters is not parsed, Python's compiler giving up
on deep nesting (``RecursionError``, ``MemoryError``) is this block's failed row, and tree-sitter stops
at ``CHECK_LIMIT`` seconds through its progress callback.
"""

from __future__ import annotations

import time
import warnings
from functools import lru_cache

from agentnb.artifacts import Artifact
from agentnb.checks.limits import CHECK_LIMIT, MAX_TEXT, too_large
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import first_line

__all__ = ["check_python", "check_typescript"]


def check_python(artifact: Artifact) -> CheckResult:
    """``compile()`` the block (never run it); failed with file, line, column and Python's message."""
    name = artifact.filename or f"block {artifact.index + 1} (python)"
    title = f"Python syntax: {name}"
    if len(artifact.code) > MAX_TEXT:
        return CheckResult(title, SKIPPED, too_large(name, artifact.code), {"file": name})
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
        except (RecursionError, MemoryError) as exc:      # CPython itself refuses to compile this
            return CheckResult(title, FAILED, f"{name}: nested too deeply for Python's compiler "
                                              f"({type(exc).__name__})", {"file": name, "error": type(exc).__name__})
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


def _ts_errors(root, limit: int = 5) -> list:
    """The first error nodes in source order (a loop, not recursion: a tree can be deeper than Python's
    stack)."""
    out, stack = [], [root]
    while stack and len(out) < limit:
        node = stack.pop()
        if node.is_missing or node.type == "ERROR":
            out.append(node)
        elif node.has_error:
            stack.extend(reversed(node.children))
    return out


def _parse(parser, source: bytes, seconds: float):
    """tree-sitter's tree of ``source``, or None past ``seconds`` (its progress callback stops it)."""
    give_up = time.monotonic() + seconds
    try:
        return parser.parse(lambda offset, _point: source[offset:offset + 65536],
                            progress_callback=lambda *_: time.monotonic() > give_up)
    except ValueError:                              # "Parsing failed": stopped by the callback
        return None


def check_typescript(artifact: Artifact) -> CheckResult:
    """Parse a TypeScript / JavaScript block with tree-sitter (TSX grammar for .tsx, .jsx and JavaScript,
    which may hold JSX); failed with file, line, column and what the parser could not read."""
    lang_name = "TypeScript" if artifact.kind == "typescript" else "JavaScript"
    name = artifact.filename or f"block {artifact.index + 1} ({artifact.kind})"
    title = f"{lang_name} syntax: {name}"
    if len(artifact.code) > MAX_TEXT:
        return CheckResult(title, SKIPPED, too_large(name, artifact.code), {"file": name})
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
    tree = _parse(tree_sitter.Parser(tsx if use_tsx else ts), source, CHECK_LIMIT)
    if tree is None:
        return CheckResult(title, FAILED, f"{name}: stopped after {CHECK_LIMIT:.0f} s: the parser did not finish",
                           {"file": name, "stopped": True})
    if not tree.root_node.has_error:
        lines = artifact.code.count("\n") + (0 if artifact.code.endswith("\n") else 1)
        return CheckResult(title, PASSED, f"{lines} lines parse", {"file": name, "lines": lines})
    errors = _ts_errors(tree.root_node)
    found = []
    for node in errors:
        line, col = node.start_point[0] + 1, node.start_point[1] + 1
        if node.is_missing:
            what = f"missing `{node.type}`"
        else:
            text = source[node.start_byte:node.end_byte].decode("utf-8", "replace").strip()
            first = first_line(text)
            what = f"unexpected `{first[:40]}`" if first else "syntax error"
        found.append({"line": line, "column": col, "error": what,
                      "answer_line": artifact.line + line - 1})
    first = found[0] if found else {"line": 1, "column": 1, "error": "syntax error"}
    message = f"{name} line {first['line']}, column {first['column']}: {first['error']}"
    if len(found) > 1:
        message += f" (and {len(found) - 1} more)"
    return CheckResult(title, FAILED, message, {"file": name, "errors": found,
                                                "line": first["line"], "column": first["column"]})
