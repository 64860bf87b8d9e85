"""Protocol Buffers files of an answer compiled by protoc, in process (grpcio-tools), one row each, plus
their services and messages for the API tab.

The answer's ``.proto`` files are written under their own paths in a scratch folder (a path that leaves
it is refused) so that imports between them resolve: a file imported as ``library/v1/common.proto``
is compiled under that name, its folder becoming an include path. Google's well-known types
(``google/protobuf/*.proto``) come from grpcio-tools. Errors are protoc's own, with the file, line and
column protoc gives and the line in the answer. grpcio-tools is imported on first use; without it the
rows are skipped saying how to install it.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from collections.abc import Sequence

from agentnb.artifacts.model import Artifact
from agentnb.checks.limits import MAX_TEXT, too_large
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["check_proto", "proto_services"]

_IMPORT = re.compile(r"""^\s*import\s+(?:public\s+|weak\s+)?["']([^"']+)["']""", re.M)


def _place(a: Artifact) -> str:
    return a.filename or f"block {a.index + 1} (proto)"


def _safe_path(a: Artifact) -> str:
    """The file's path inside the scratch folder: its own when it stays inside, else a neutral name."""
    name = (a.filename or "").replace("\\", "/").lstrip("./") if a.filename else ""
    normal = posixpath.normpath(name) if name else ""
    if not normal or normal.startswith(("/", "..")) or not normal.endswith(".proto"):
        return f"block_{a.index + 1}.proto"
    return normal


def check_proto(artifacts: Sequence[Artifact]) -> list[CheckResult]:
    blocks = [a for a in artifacts if a.kind == "proto"]
    if not blocks:
        return []
    compiled = _compile_all(blocks)
    if compiled is None:
        return [CheckResult(f"Protocol Buffers: {_place(a)}", SKIPPED,
                            "grpcio-tools is not installed: pip install grpcio-tools") for a in blocks]
    rows = [CheckResult(f"Protocol Buffers: {_place(a)}", SKIPPED, too_large(_place(a), a.code))
            for a in blocks if len(a.code) > MAX_TEXT]
    return rows + [_row(a, outcome, by_name) for a, outcome, by_name in compiled]


def proto_services(artifacts: Sequence[Artifact]) -> list[dict]:
    """The services of the answer's ``.proto`` files that compile, each with its rpcs (name, input and
    output messages, streaming), for the API tab."""
    blocks = [a for a in artifacts if a.kind == "proto"]
    compiled = _compile_all(blocks) if blocks else None
    return [s for _, outcome, _ in compiled or () if not isinstance(outcome, list) for s in outcome[0]]


def _compile_all(blocks: list[Artifact]) -> list[tuple[Artifact, object, dict]] | None:
    """(artifact, its (services, messages) or protoc's errors, the files by compiled name) for each block
    within ``MAX_TEXT``; None without grpcio-tools."""
    try:
        import grpc_tools
        from grpc_tools import _protoc_compiler
    except ImportError:
        return None
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    paths: dict[str, Artifact] = {}
    for a in blocks:
        if len(a.code) <= MAX_TEXT:
            paths.setdefault(_safe_path(a), a)
    # the name each file is compiled under: the shortest way another file imports it, else its path
    imported = {spec for a in paths.values() for spec in _IMPORT.findall(a.code)}
    names, roots = {}, [""]
    for path in paths:
        spec = min((s for s in imported if path == s or path.endswith("/" + s)), key=len, default=None)
        names[path] = spec or path
        root = path[:len(path) - len(spec)] if spec else ""
        if root not in roots:
            roots.append(root)
    out = []
    with tempfile.TemporaryDirectory(prefix="agentnb-protoc-") as scratch:
        for path, a in paths.items():
            target = os.path.join(scratch, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as f:
                f.write(a.code)
        includes = [os.path.join(scratch, r).encode() for r in roots] + [well_known.encode()]
        by_name = {names[p]: a for p, a in paths.items()}
        for path, a in paths.items():
            try:
                outcome = _contents(_protoc_compiler.get_protos(names[path].encode(), includes), names[path])
            except _protoc_compiler.ProtocErrors as err:
                outcome = list(err.errors())
            out.append((a, outcome, by_name))
    return out


def _row(a: Artifact, outcome, by_name: dict) -> CheckResult:
    title = f"Protocol Buffers: {_place(a)}"
    if isinstance(outcome, list):
        found = []
        for e in outcome:
            file = e.filename.decode("utf-8", "replace")
            owner = by_name.get(file)
            line = e.line + 1 if e.line >= 0 else None
            item = {"file": _place(owner) if owner else file, "error": e.message.decode("utf-8", "replace")}
            if line is not None:
                item.update(line=line, column=e.column + 1)
                if owner is not None:
                    item["answer_line"] = owner.line + line - 1
            found.append(item)
        if not found:
            return CheckResult(title, FAILED, f"{_place(a)}: protoc refused the file", {"file": _place(a)})
        first = found[0]
        where = first["file"] + (f" line {first['line']}, column {first['column']}" if "line" in first else "")
        message = f"{where}: {first['error']}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
        return CheckResult(title, FAILED, message, {"errors": found[:20], **{k: first[k] for k in
                           ("file", "line", "column", "answer_line") if k in first}})
    services, messages = outcome
    rpcs = sum(len(s["methods"]) for s in services)
    return CheckResult(title, PASSED, f"compiles: {plural(len(services), 'service')} ({plural(rpcs, 'rpc')}), "
                                      f"{plural(len(messages), 'message')}",
                       {"file": _place(a), "services": services, "messages": messages})


def _contents(protos, name: str) -> tuple[list[dict], list[str]]:
    """The compiled file's services (with their rpcs) and messages, for the API tab. protoc gives the
    generated ``_pb2`` module: its serialized descriptor is read from the source, never run."""
    import ast

    from google.protobuf import descriptor_pb2

    module = name[:-len(".proto")].replace("-", "_") + "_pb2.py"
    for file_name, source in protos:
        if file_name.decode() != module:
            continue
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "AddSerializedFile" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, bytes)):
                fd = descriptor_pb2.FileDescriptorProto.FromString(node.args[0].value)
                break
        else:
            return [], []
        prefix = f"{fd.package}." if fd.package else ""
        services = [{"name": prefix + s.name,
                     "methods": [{"name": m.name, "input": m.input_type.lstrip("."),
                                  "output": m.output_type.lstrip("."),
                                  "client_streaming": m.client_streaming, "server_streaming": m.server_streaming}
                                 for m in s.method]} for s in fd.service]
        return services, [prefix + m.name for m in fd.message_type]
    return [], []
