"""SQLAlchemy models against the schema: the answer's models, imported in a contained child process, are
compared with the schema PostgreSQL reflected from the answer's DDL (``report.schema``).

The answer's Python is untrusted: it runs in ``python -I -B`` (no PYTHONPATH, no user site, no .pyc),
with an environment holding only PATH (no key in reach), in a scratch folder of its own, under hard
limits it sets on itself before the answer's first line (memory, CPU seconds, file size, processes;
and where Linux has Landlock: writes only beneath the scratch folder, no exec, no TCP, no signal out)
and a wall-clock timeout here that kills its whole process group. It writes the metadata as JSON; the
comparison is done here in Python, by type family (``int8`` and ``bigint`` are one type; ``integer``
and ``bigint`` are not).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from agentnb.checks import where
from agentnb.checks.limits import kill_group
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.checks.schema import Schema, Table
from agentnb.text import plural

__all__ = ["Child", "check_models", "compare", "differences", "model_blocks", "model_lines", "row_name", "ROW"]

ROW = "Models match the schema"
MEMORY = 1 << 30          # bytes of address space for the child (SQLAlchemy itself takes ~150 MB)
CPU_SECONDS = 10
FILE_SIZE = 4 << 20       # bytes: the JSON it writes, and the most any file it writes may hold
TIMEOUT = 15.0            # wall-clock seconds, sleeping included
_MODELS = re.compile(r"\bDeclarativeBase\b|\bdeclarative_base\s*\(|\bTable\s*\(")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.py$")


def model_blocks(artifacts) -> list:
    """The answer's Python blocks that define SQLAlchemy models."""
    return [a for a in artifacts if a.language == "python" and a.kind in ("python",)
            and "sqlalchemy" in a.code and _MODELS.search(a.code)]


class Child:
    """The child process of one check, so that the checks' time limit can stop it from outside
    (``limits.Job.cancel``): its whole process group is killed."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        if self.proc is not None:
            kill_group(self.proc, wait=False)


def check_models(artifacts, schema: Schema | None, *, timeout: float | None = None,
                 child: Child | None = None) -> list[CheckResult]:
    """One row per model file: passed, or failed listing every difference from ``schema``, each with
    its line in the answer (the model's class or column). No rows when the answer has no models;
    skipped rows when there is no reflected schema to compare with. ``child``: a handle a caller may
    stop the import with (``checks.run`` gives it to the time limits)."""
    blocks = model_blocks(artifacts)
    if not blocks:
        return []
    names = [_place(a) for a in blocks]
    if schema is None:
        return [CheckResult(f"{ROW}: {n}", SKIPPED, "no schema reflected from the answer's DDL to compare with")
                for n in names]
    python = [a for a in artifacts if a.language == "python" and a.kind in ("python", "migration")]
    dumped = _run_child(python, blocks, TIMEOUT if timeout is None else timeout, child or Child())
    if isinstance(dumped, str):
        return [CheckResult(f"{ROW}: {n}", FAILED, dumped) for n in names]
    rows = []
    by_file = {}
    for err in dumped["errors"]:
        by_file.setdefault(err["file"], []).append(err)
    tables = dumped["tables"]
    for a, name, path in zip(blocks, names, dumped["paths"]):
        errors = by_file.get(path, [])
        if errors:
            err = errors[0]
            row = CheckResult(f"{ROW}: {name}", FAILED, f"the models could not be imported: {err['error']}",
                              {"file": name})
            if err.get("line"):
                row.details["line"] = err["line"]
                where.locate(row, [(1, a)])
            rows.append(row)
    if rows:
        return rows
    if not tables:
        return [CheckResult(f"{ROW}: {n}", FAILED, "the models define no table") for n in names]
    undeclared: list[str] = []
    found = differences(tables, schema, undeclared)
    details = {"indexes_not_in_models": undeclared} if undeclared else {}
    if found:
        places = model_lines(blocks)
        found = [_placed(d, places) for d in found]
        first = next((f for f in found if "answer_line" in f), {})
        return [CheckResult(row_name(blocks), FAILED,
                            f"{plural(len(found), 'difference')} between the models and the schema: "
                            + "; ".join(f["text"] for f in found),
                            {"differences": [f["error"] for f in found], "findings": found,
                             **{k: first[k] for k in ("file", "line", "answer_line") if k in first}, **details})]
    return [CheckResult(row_name(blocks), PASSED,
                        f"{plural(len(tables), 'table')}: columns, types, nullability, keys and the indexes the "
                        "models declare match", details)]


def _placed(difference: tuple[str, str, str | None], places: dict) -> dict:
    """A difference with the file and line of its column (else its model) in the answer."""
    text, table, column = difference
    found = places.get((table, column)) or places.get((table, None))
    if found is None:
        return {"text": text, "error": text}
    a, line = found
    answer_line = where.answer_line([(1, a)], line)
    return {"text": f"{text} ({_place(a)} line {line})", "error": text, "file": _place(a), "line": line,
            "answer_line": answer_line}


def model_lines(blocks: list) -> dict[tuple[str, str | None], tuple[object, int]]:
    """Where each model is declared in the answer's blocks, read from their syntax (never run):
    ``(table, None)`` -> (block, line of its class or ``Table(...)``), ``(table, column)`` -> (block, line
    of its ``mapped_column``/``Column``). The first declaration wins."""
    import ast

    found: dict[tuple[str, str | None], tuple[object, int]] = {}

    def column_name(call: ast.Call, default: str | None) -> str | None:
        first = call.args[0] if call.args else None
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else default

    for a in blocks:
        try:
            tree = ast.parse(a.code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue                                   # its syntax row says why
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                table, columns = None, []
                for stmt in node.body:
                    targets = (stmt.targets if isinstance(stmt, ast.Assign) else
                               [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
                    names = [t.id for t in targets if isinstance(t, ast.Name)]
                    value = getattr(stmt, "value", None)
                    if "__tablename__" in names and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        table = value.value
                    elif names and isinstance(value, ast.Call) and _callee(value) in ("mapped_column", "Column"):
                        columns.append((column_name(value, names[0]), stmt.lineno))
                if table is not None:
                    found.setdefault((table, None), (a, node.lineno))
                    for column, line in columns:
                        found.setdefault((table, column), (a, line))
            elif isinstance(node, ast.Call) and _callee(node) == "Table" and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                table = node.args[0].value
                found.setdefault((table, None), (a, node.lineno))
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Call) and _callee(arg) == "Column":
                        column = column_name(arg, None)
                        if column:
                            found.setdefault((table, column), (a, arg.lineno))
    return found


def _callee(call) -> str:
    import ast

    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _place(a) -> str:
    return a.filename or f"block {a.index + 1} (python)"


def row_name(blocks: list) -> str:
    """The row of the model blocks together (a row of each, when one does not import, is named by it)."""
    return f"{ROW}: {', '.join(map(_place, blocks))}"


def _write_files(scratch: str, python: list, blocks: list) -> list[str]:
    """Every Python block in the scratch folder (under its own name when it is a plain relative path,
    so the answer's files import one another); the paths of the model blocks, relative to it."""
    paths = {}
    for i, a in enumerate(python):
        name = (a.filename or "").strip()
        rel = name if _SAFE_PATH.match(name) and ".." not in name.split("/") else f"block_{i}.py"
        if rel in paths.values():
            rel = f"block_{i}.py"
        full = os.path.join(scratch, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(a.code)
        paths[id(a)] = rel
    for rel in paths.values():            # packages: app/models.py imports as app.models
        folder = os.path.dirname(rel)
        while folder:
            init = os.path.join(scratch, folder, "__init__.py")
            if not os.path.exists(init):
                open(init, "w").close()
            folder = os.path.dirname(folder)
    return [paths[id(a)] for a in blocks]


def _run_child(python: list, blocks: list, timeout: float, child: Child) -> dict | str:
    """The child's JSON (with ``paths``: the model blocks' paths), or why there is none."""
    from agentnb.checks import models_child

    with tempfile.TemporaryDirectory(prefix="agentnb-models-") as top:
        scratch = os.path.join(top, "work")
        os.mkdir(scratch)
        paths = _write_files(scratch, python, blocks)
        out = os.path.join(top, "metadata.json")
        limits = f"{MEMORY},{CPU_SECONDS},{FILE_SIZE}"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-I", "-B", models_child.__file__, out, limits, *paths],
                                cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        child.proc = proc
        if child.stopped:                  # stopped while it was starting
            child.stop()
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"the models did not finish importing within {timeout:g} s (stopped)"
        finally:
            kill_group(proc)
        elapsed = time.monotonic() - started
        if child.stopped:
            return f"stopped after {elapsed:.1f} s: the checks' time ran out"
        if proc.returncode != 0:
            why = _signal_reason(proc.returncode)
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            return (f"the models' import stopped {why} after {elapsed:.1f} s"
                    + (f": {tail[0][:500]}" if tail else ""))
        try:
            with open(out, encoding="utf-8") as f:
                data = json.load(f)
            assert isinstance(data.get("tables"), list) and isinstance(data.get("errors"), list)
        except (OSError, ValueError, AssertionError, AttributeError):
            return "the models' import gave no readable metadata"
        data["paths"] = paths
        return data


def _signal_reason(code: int) -> str:
    if code < 0:
        sig = -code
        if sig == signal.SIGXCPU:
            return f"at its CPU limit ({CPU_SECONDS} s)"
        if sig == signal.SIGXFSZ:
            return f"writing past its file size limit ({FILE_SIZE >> 20} MB)"
        return f"by signal {signal.Signals(sig).name}" if sig in signal.Signals._value2member_map_ else f"by signal {sig}"
    return f"with exit code {code} (memory limit: {MEMORY >> 20} MB)"


# --- the comparison, by type family --------------------------------------------------------------

_ALIASES = {
    "int2": "smallint", "smallserial": "smallint", "serial2": "smallint",
    "int": "integer", "int4": "integer", "serial": "integer", "serial4": "integer",
    "int8": "bigint", "bigserial": "bigint", "serial8": "bigint",
    "text": "text", "varchar": "text", "character varying": "text", "char": "text", "character": "text",
    "bpchar": "text", "string": "text", "citext": "text",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp", "datetime": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "time": "time", "time without time zone": "time", "timetz": "timetz", "time with time zone": "timetz",
    "bool": "boolean", "boolean": "boolean",
    "numeric": "numeric", "decimal": "numeric",
    "float": "double precision", "float8": "double precision", "double precision": "double precision",
    "double": "double precision", "real": "real", "float4": "real",
    "uuid": "uuid", "json": "json", "jsonb": "jsonb", "date": "date", "interval": "interval",
    "bytea": "bytea", "largebinary": "bytea",
}


def type_family(spelling: str, enums: dict | None = None) -> str:
    """One name for the spellings PostgreSQL treats as one type: ``INT8`` and ``bigint`` give
    ``bigint``, ``VARCHAR(40)`` and ``text`` give ``text``, ``TEXT[]`` gives ``text[]``, an enum
    gives ``enum <name>``."""
    s = spelling.strip().lower().replace('"', "")
    dims = 0
    while s.endswith("[]"):
        s, dims = s[:-2].strip(), dims + 1
    if s.startswith("array"):            # a type name some spell ARRAY(...)
        dims += 1
        s = s[5:].strip("() ")
    s = re.sub(r"\s*\([^)]*\)", "", s).strip()        # (8, 2), (40), (6): precision is not the family
    s = s.split(".")[-1] if enums is None or s not in enums else s
    base = _ALIASES.get(s)
    if base is None:
        base = f"enum {s}" if enums is not None and s in enums else s
    return base + "[]" * min(dims, 1)


def compare(model_tables: list[dict], schema: Schema, undeclared: list[str] | None = None) -> list[str]:
    """Every difference between the models' tables and the reflected schema, as readable sentences (see
    ``differences``)."""
    return [text for text, _, _ in differences(model_tables, schema, undeclared)]


def differences(model_tables: list[dict], schema: Schema,
                undeclared: list[str] | None = None) -> list[tuple[str, str, str | None]]:
    """Every difference between the child's tables and the reflected schema: (a readable sentence, its
    table, its column or None).
    An index only in the schema is not a difference (many teams keep indexes in migrations only):
    it is appended to ``undeclared`` instead."""
    out: list[tuple[str, str, str | None]] = []
    enums = {name.split(".")[-1]: v for name, v in schema.enums.items()}
    db = {t.name: t for t in schema.tables}
    models = {t["name"]: t for t in model_tables}
    for name in sorted(set(db) - set(models)):
        out.append((f"table {name} is in the schema but has no model", name, None))
    for name in sorted(set(models) - set(db)):
        out.append((f"table {name} has a model but is not in the schema", name, None))
    for name in [n for n in models if n in db]:
        out += _compare_table(models[name], db[name], enums, undeclared if undeclared is not None else [])
    return out


def _compare_table(m: dict, t: Table, enums: dict, undeclared: list[str]) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    pre = f"{t.name}."
    mcols = {c["name"]: c for c in m["columns"]}
    dcols = {c.name: c for c in t.columns}
    for c in t.columns:
        if c.name not in mcols:
            out.append((f"column {pre}{c.name} ({c.type}) is in the schema but not in the model", t.name, None))
    for c in m["columns"]:
        d = dcols.get(c["name"])
        if d is None:
            out.append((f"column {pre}{c['name']} ({c['type']}) is in the model but not in the schema", t.name,
                        c["name"]))
            continue
        mf, df = type_family(c.get("enum") or c["type"], enums), type_family(d.type, enums)
        if c.get("enum") and c["enum"].lower() in enums:
            mf = f"enum {c['enum'].lower()}"
        if mf != df:
            out.append((f"column {pre}{c['name']}: the model's type is {c['type']}, the schema's {d.type}", t.name,
                        c["name"]))
        if c["nullable"] != d.nullable:
            out.append((f"column {pre}{c['name']}: " + ("nullable in the model, NOT NULL in the schema"
                                                         if c["nullable"] else
                                                         "NOT NULL in the model, nullable in the schema"),
                        t.name, c["name"]))
    if sorted(m["primary_key"]) != sorted(t.primary_key):
        out.append((f"table {t.name}: primary key ({', '.join(m['primary_key'])}) in the model, "
                    f"({', '.join(t.primary_key)}) in the schema", t.name, _one(m["primary_key"])))
    mfk = {(tuple(f["columns"]), f["ref_table"], tuple(f["ref_columns"])) for f in m["foreign_keys"]}
    dfk = {(tuple(f.columns), f.ref_table.split(".")[-1], tuple(f.ref_columns)) for f in t.foreign_keys}
    for cols, ref, refcols in sorted(dfk - mfk):
        out.append((f"table {t.name}: foreign key ({', '.join(cols)}) → {ref}({', '.join(refcols)}) is in "
                    "the schema but not in the model", t.name, _one(cols)))
    for cols, ref, refcols in sorted(mfk - dfk):
        out.append((f"table {t.name}: foreign key ({', '.join(cols)}) → {ref}({', '.join(refcols)}) is in "
                    "the model but not in the schema", t.name, _one(cols)))
    # unique: a constraint or a unique index in the model; in the schema a constraint must be declared,
    # while a unique index that is no constraint is an index (kept in migrations only, by many teams)
    munique = {_key(u): u for u in m["unique"]}
    munique.update({_key(i["columns"]): i["columns"] for i in m["indexes"] if i["unique"]})
    dunique = {_key(u): u for u in t.unique}
    dindex_unique = {_key(i.columns): i for i in t.indexes if i.unique and _key(i.columns) not in dunique}
    for k in [k for k in dunique if k not in munique]:
        out.append((f"table {t.name}: unique ({', '.join(dunique[k])}) is in the schema but not in the model",
                    t.name, _one(dunique[k])))
    for k in [k for k in dindex_unique if k not in munique]:
        undeclared.append(_index_text(t.name, dindex_unique[k]))
    dunique.update(dindex_unique)
    for k in [k for k in munique if k not in dunique]:
        out.append((f"table {t.name}: unique ({', '.join(munique[k])}) is in the model but not in the schema",
                    t.name, _one(munique[k])))
    mindex = {_key(i["columns"]): i["columns"] for i in m["indexes"] if not i["unique"]}
    dindex = {_key(i.columns): i for i in t.indexes if not i.unique}
    for k in [k for k in dindex if k not in mindex]:
        undeclared.append(_index_text(t.name, dindex[k]))
    for k in [k for k in mindex if k not in dindex]:
        out.append((f"table {t.name}: index ({', '.join(mindex[k])}) is in the model but not in the schema",
                    t.name, _one(mindex[k])))
    return out


def _one(columns) -> str | None:
    """The column a constraint is about, when it is about one (its line is then the one to show)."""
    columns = list(columns)
    return str(columns[0]) if len(columns) == 1 else None


def _index_text(table: str, ix) -> str:
    where = f" WHERE {ix.where}" if ix.where else ""
    return f"{table}: {'unique ' if ix.unique else ''}index {ix.name} ({', '.join(ix.columns)}){where}"


def _key(columns) -> frozenset:
    """An index's or constraint's columns, expressions spelled alike on both sides (case, spaces,
    parentheses, quotes), order aside."""
    return frozenset(re.sub(r"[\s()\"]", "", str(c)).lower() for c in columns)
