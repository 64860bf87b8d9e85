"""The package's shape, as a newcomer reads it: folders that say where a change goes, one job a module,
data and control flowing one way (cell text -> request -> stream -> response -> checks -> display)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "agentnb"
LONG = 500

# What each folder may import (at module level or inside a function): the layers below it. `text`,
# `errors`, `settings` and `redact` are the base; the session log is a store the budget reads and the
# usage table shows; `render` shows responses and check rows; `batch` reads notebooks render wrote.
BASE = {"errors", "settings", "redact", "text"}
MAY_IMPORT = {
    "llm": BASE | {"llm", "sessionlog"},
    "artifacts": BASE | {"artifacts"},
    "checks": BASE | {"checks", "artifacts"},
    "render": BASE | {"render", "checks", "artifacts", "llm", "response", "sessionlog", "catalog"},
    "batch": BASE | {"batch", "render", "llm", "checks", "sessionlog"},
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.parts[0] in ("agents",):
            continue
        parts = [p for p in rel.parts if p != "__init__"]
        found[".".join(["agentnb", *parts])] = path
    return found


def imports(path: Path, module: str, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.If) and top_level_only:   # `if TYPE_CHECKING:` imports do not run
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("agentnb")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("agentnb"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
    known = modules()
    return {name for name in found if name in known}


def test_no_module_is_long_without_saying_why():
    long = []
    for name, path in modules().items():
        lines = path.read_text().count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > LONG and "one job" not in doc.lower():
            long.append(f"{name} ({lines} lines)")
    assert not long, ("over ~500 lines without a docstring saying which one job cannot be cut: "
                      + ", ".join(long))


def test_no_import_cycle_at_module_level():
    graph = {name: imports(path, name, top_level_only=True) - {name} for name, path in modules().items()}

    def parents(name):   # importing a.b.c runs a/__init__ and a/b/__init__ first
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(2, len(parts))}

    for name in graph:
        graph[name] = {d for dep in graph[name] for d in {dep} | parents(dep)} - {name} - parents(name)
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            visit(dep)
        stack.pop()

    for name in sorted(graph):
        visit(name)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_layers_import_only_what_lies_below_them():
    wrong = []
    for name, path in modules().items():
        parts = name.split(".")
        if len(parts) < 3 or parts[1] not in MAY_IMPORT:
            continue
        allowed = MAY_IMPORT[parts[1]]
        for dep in imports(path, name, top_level_only=False):
            target = dep.split(".")[1] if dep.count(".") else ""
            if target and target not in allowed:
                wrong.append(f"{name} imports {dep}")
    assert not wrong, "a layer reaches back up: " + "; ".join(sorted(wrong))


def test_the_core_modules_do_not_import_the_skins():
    skins = {"agentnb.magics", "agentnb.cli"}
    # the package's load_ipython_extension is %load_ext's entry point: it hands over to the magics
    wrong = [f"{name} imports {dep}" for name, path in modules().items() if name not in skins | {"agentnb"}
             for dep in imports(path, name, top_level_only=False) if dep in skins]
    assert not wrong, "; ".join(wrong)
