"""The child side of the models check: run as a script (``python -I -B models_child.py OUT LIMITS FILE...``)
in a scratch folder, never imported by agentnb. It limits itself first (memory, CPU, file size,
processes), then runs the answer's model files and writes the SQLAlchemy metadata they define to OUT
as JSON. The answer's code runs after the limits are set, with no way to raise them back (hard limits).
"""

import json
import os
import resource
import runpy
import sys
import traceback


def _limit(memory: int, cpu: int, fsize: int) -> None:
    for what, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                        (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_NPROC, 0),
                        (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(what, (value, value))
        except (ValueError, OSError):
            pass          # a limit the system does not let us lower: the others and the timeout hold


# Landlock (Linux 5.13+): the answer may write only beneath the scratch folder, execute nothing, open no
# TCP connection, signal no process outside its own. Unprivileged, and irreversible for the process.
_FS_WRITE = (1 << 1) | (1 << 4) | (1 << 5) | sum(1 << b for b in range(6, 13))   # write, remove, make_*
_FS_EXECUTE, _FS_REFER, _FS_TRUNCATE = 1 << 0, 1 << 13, 1 << 14
_NR_CREATE, _NR_ADD_RULE, _NR_RESTRICT = 444, 445, 446     # x86_64 and aarch64 share these numbers


def _landlock(scratch: str) -> bool:
    import ctypes
    import platform
    import struct

    if sys.platform != "linux" or platform.machine() not in ("x86_64", "aarch64"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(_NR_CREATE, None, 0, 1)           # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return False
    handled = _FS_WRITE | _FS_EXECUTE | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    attr = struct.pack("=Q", handled)
    if abi >= 4:
        attr += struct.pack("=Q", 1 | 2)                   # TCP bind and connect: none allowed
    if abi >= 6:
        attr += struct.pack("=Q", 1 | 2)                   # scoped: abstract unix sockets, signals
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = libc.syscall(_NR_CREATE, buf, ctypes.c_size_t(len(attr)), 0)
    if ruleset < 0:
        return False
    try:
        folder = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
        rule = ctypes.create_string_buffer(struct.pack("=Qi", handled & ~_FS_EXECUTE, folder), 12)
        ok = libc.syscall(_NR_ADD_RULE, ruleset, 1, rule, 0) == 0        # LANDLOCK_RULE_PATH_BENEATH
        os.close(folder)
        if not ok or libc.prctl(38, 1, 0, 0, 0) != 0:                    # PR_SET_NO_NEW_PRIVS
            return False
        return libc.syscall(_NR_RESTRICT, ruleset, 0) == 0
    finally:
        os.close(ruleset)


def _type_name(col_type, dialect) -> str:
    try:
        return col_type.compile(dialect=dialect)
    except Exception:
        return type(col_type).__name__


def _columns(cols) -> list:
    return [getattr(c, "name", None) or str(c) for c in cols]


def _table(table, dialect) -> dict:
    from sqlalchemy import UniqueConstraint

    columns = [{"name": c.name, "type": _type_name(c.type, dialect), "nullable": bool(c.nullable),
                "enum": getattr(c.type, "name", None) if type(c.type).__name__ in ("Enum", "ENUM") else None}
               for c in table.columns]
    fks = []
    for fk in table.foreign_key_constraints:
        try:
            ref = fk.referred_table.name
        except Exception:
            ref = fk.elements[0].target_fullname.rsplit(".", 1)[0] if fk.elements else "?"
        fks.append({"columns": list(fk.column_keys), "ref_table": ref.rsplit(".", 1)[-1],
                    "ref_columns": [e.target_fullname.rsplit(".", 1)[-1] for e in fk.elements]})
    unique = [_columns(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    unique += [[c.name] for c in table.columns if c.unique and [c.name] not in unique]
    indexes = []
    for ix in table.indexes:
        exprs = []
        for e in ix.expressions:
            name = getattr(e, "name", None)
            exprs.append(name if name and hasattr(e, "table") else _expr(e, dialect))
        indexes.append({"name": ix.name, "columns": exprs, "unique": bool(ix.unique)})
    indexes += [{"name": None, "columns": [c.name], "unique": bool(c.unique)}
                for c in table.columns if c.index and not any(i["columns"] == [c.name] for i in indexes)]
    return {"name": table.name, "schema": table.schema, "columns": columns,
            "primary_key": [c.name for c in table.primary_key.columns], "foreign_keys": fks,
            "unique": unique, "indexes": indexes}


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    if isinstance(err, MemoryError):
        text = text or "over the memory limit"
    return (f"{type(err).__name__}: {text}" if text else type(err).__name__)[:2000]


def _expr(e, dialect) -> str:
    try:
        return str(e.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except Exception:
        return str(e)


def main() -> None:
    out, limits, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    from sqlalchemy import MetaData
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.dialects.postgresql import pg_catalog  # noqa: F401  (its tables are not the answer's)

    import gc
    ours = {id(o) for o in gc.get_objects() if isinstance(o, MetaData)}
    result = {"errors": [], "tables": []}
    sink = open(out, "w", encoding="utf-8")     # opened before Landlock: the one file outside the scratch
    devnull = os.open(os.devnull, os.O_WRONLY)
    result["landlock"] = _landlock(os.getcwd())
    _limit(*(int(x) for x in limits.split(",")))
    sys.path.insert(0, os.getcwd())       # the answer's files import one another from the scratch folder
    os.dup2(devnull, 1)                   # what the answer prints is not the result
    for path in files:
        try:
            runpy.run_path(path, run_name="__agentnb_models__")
        except BaseException as err:      # SystemExit included: the answer's exit is its row's error
            tb = traceback.extract_tb(err.__traceback__)
            line = next((f.lineno for f in reversed(tb) if f.filename.endswith(path)), None)
            result["errors"].append({"file": path, "line": line,
                                     "error": _describe(err)})
    try:
        dialect = postgresql.dialect()
        seen = set()
        for md in [o for o in gc.get_objects() if isinstance(o, MetaData) and id(o) not in ours]:
            for table in md.tables.values():
                if (table.schema, table.name) not in seen and table.schema != "pg_catalog":
                    seen.add((table.schema, table.name))
                    result["tables"].append(_table(table, dialect))
    except BaseException as err:
        result["errors"].append({"file": None, "line": None, "error": f"{type(err).__name__}: {err}"[:2000]})
    with sink:
        json.dump(result, sink)


if __name__ == "__main__":
    main()
