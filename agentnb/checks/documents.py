"""YAML or JSON documents of an answer (an OpenAPI contract, an AsyncAPI document) loaded with bounds,
and where a value of them stands in the text.

The document is untrusted text: its YAML is composed first and its expanded size and depth are measured
before anything is built from it, so an alias bomb or a deeply nested document is refused in
milliseconds with a short message. The composed node graph is kept: it says on which line each value
stands (``line_of``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from agentnb.checks.limits import MAX_DEPTH, MAX_NODES, MAX_TEXT, too_large

__all__ = ["Loaded", "line_of", "load_document", "stringify_keys"]


@dataclass
class Loaded:
    doc: object = None
    error: str | None = None        # why the text does not load, with its line and column when known
    line: int | None = None         # 1-based line of the text the error points at
    node: object = None             # YAML's composed root node (JSON text: composed on demand)


def stringify_keys(node):
    """YAML turns ``200:`` into an int and ``2024-01-01`` into a date; JSON and the validators see text."""
    if isinstance(node, dict):
        return {str(k): stringify_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [stringify_keys(v) for v in node]
    if hasattr(node, "isoformat") and not isinstance(node, (int, float, str, bool)):
        return node.isoformat()
    return node


def load_document(text: str, name: str, language: str = "") -> Loaded:
    """The document, or why it was not loaded (a syntax error with its line and column, or why the text
    was refused). JSON text (``language == "json"`` or text opening with ``{``) is read as JSON."""
    if len(text) > MAX_TEXT:
        return Loaded(error=too_large(name, text))
    if language == "json" or text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except RecursionError:
            return Loaded(error=_too_deep(name))
        except ValueError as exc:
            if language == "json":
                lineno, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
                msg = getattr(exc, "msg", str(exc))
                return Loaded(error=f"{name} line {lineno}, column {col}: {msg}" if lineno else f"{name}: {exc}",
                              line=lineno)
        else:
            refused = _measure(doc, _json_children)
            return Loaded(error=f"{name}: {refused}") if refused else Loaded(doc=doc)
    try:
        import yaml
    except ImportError:
        return Loaded(error="PyYAML is not installed: pip install pyyaml")
    # Compose the node graph first (an alias is a shared node there, so this is cheap), measure it
    # as it would expand, and only then build Python objects from it.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        refused = _measure(node, _yaml_children) if node is not None else None
        if refused:
            return Loaded(error=f"{name}: {refused}")
        return Loaded(doc=loader.construct_document(node) if node is not None else None, node=node)
    except RecursionError:
        return Loaded(error=_too_deep(name))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if "maximum nesting depth" in problem:
            return Loaded(error=_too_deep(name))
        if mark is not None:
            return Loaded(error=f"{name} line {mark.line + 1}, column {mark.column + 1}: {problem}",
                          line=mark.line + 1)
        return Loaded(error=f"{name}: {problem}")
    finally:
        loader.dispose()


def line_of(loaded: Loaded, text: str, path) -> int | None:
    """The 1-based line of ``text`` where the value at ``path`` (keys and indexes from the root) stands,
    else the line of its nearest ancestor that is found. JSON text is composed as YAML for this (its
    size was measured when it loaded); None when even that fails."""
    if loaded.node is None:
        try:
            import yaml

            loaded.node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except Exception:              # noqa: BLE001 - JSON that YAML 1.1 refuses: no line, not an error
            return None
    node = loaded.node
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in path:
        child = _child(node, step)
        if child is None:
            break
        key_node, node = child
        line = (key_node or node).start_mark.line + 1
    return line


def _child(node, step):
    """(key node or None, value node) of ``node`` at ``step``."""
    value = node.value
    if not isinstance(value, list):
        return None
    if value and not isinstance(value[0], tuple):            # a sequence: the step is an index
        index = int(step) if str(step).isdigit() else -1
        return (None, value[index]) if 0 <= index < len(value) else None
    for item in value:
        if isinstance(item, tuple) and getattr(item[0], "value", None) == str(step):
            return item
    return None


def _too_deep(name: str) -> str:
    return f"{name}: nested more than {MAX_DEPTH} levels deep: refused, not checked"


def _yaml_children(node) -> list:
    value = node.value
    if isinstance(value, list):              # a sequence's items, or a mapping's (key, value) pairs
        return [part for item in value for part in (item if isinstance(item, tuple) else (item,))]
    return []


def _json_children(node) -> list:
    if isinstance(node, dict):
        return list(node.values())
    return node if isinstance(node, list) else []


def _measure(root, children) -> str | None:
    """Why a document is refused (too many values once aliases are expanded, too deep, an alias inside
    its own anchor), or None. Each shared node is measured once: a loop, memoised, never expanding."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    entered: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            entered.discard(key)
            if size[key] > MAX_NODES:
                return (f"more than {MAX_NODES:,} values once its aliases are expanded (aliases repeating "
                        "aliases: an alias bomb?): refused, not checked")
            if depth[key] > MAX_DEPTH:
                return f"nested more than {MAX_DEPTH} levels deep: refused, not checked"
            continue
        if key in size:
            continue
        if key in entered:
            return "an alias refers to the node that holds it (a loop): refused, not checked"
        entered.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in children(node) if id(k) not in size)
    return None
