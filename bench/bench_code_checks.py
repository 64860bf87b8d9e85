"""Speed of the checks that need no server: SQL syntax (pglast), the checks on code of the library
answer, and how fast hostile inputs are refused. Prints figures; the tests check behaviour only.

    python bench/bench_code_checks.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from timing import ms_columns, samples

REPO = Path(__file__).resolve().parents[1]
ANSWERS = REPO / "tests" / "data" / "answers"

BILLION_LAUGHS = "openapi: 3.1.0\n" + "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]) + "\n"






def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))

    c = time.perf_counter()
    from agentnb import checks
    from agentnb.artifacts import Artifact, Artifacts, extract
    first_import = (time.perf_counter() - c) * 1000

    library = (ANSWERS / "library.md").read_text(encoding="utf-8")
    arts = extract(library)
    no_contract = Artifacts([a for a in arts if a.kind != "openapi"], arts.env)
    fmt = ["code", "schema", "examples", "env"]
    ddl = arts.schema                                   # the library's schema: 5 tables, types, indexes
    contract = Artifact("openapi", "yaml", BILLION_LAUGHS, filename="openapi.yaml")
    deep_python = Artifact("python", "python", "x = " + "-" * 3000 + "1\n", filename="deep.py")

    rows = {
        "check_syntax (library schema)": lambda: checks.check_syntax(ddl),
        "check_syntax (library schema x 20)": lambda: checks.check_syntax((ddl.rstrip().rstrip(";") + ";\n") * 20),
        "run(sql=False), library, no contract": lambda: checks.run(no_contract, answer_text=library,
                                                                   required=fmt, sql=False),
        "run(sql=False), library, whole": lambda: checks.run(arts, answer_text=library, required=fmt, sql=False),
        "check_openapi, billion laughs": lambda: checks.check_openapi(contract),
        "check_python, x = ---...1 (3,000)": lambda: checks.check_python(deep_python),
    }
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); import agentnb.checks "
          f"{first_import:.1f} ms")
    print(f"{'':40s} {'median':>9s} {'min':>9s} {'max':>9s}   (ms, {args.runs} runs)")
    for label, fn in rows.items():
        print(f"  {label:38s} {ms_columns(samples(fn, args.runs))}")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
