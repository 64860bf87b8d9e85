"""A replayed design session: what agentnb adds to a notebook run, and what two jobs gain.

    /work/venv/bin/python bench/bench_session.py [REPEAT]

1. ``notebooks/design_session.ipynb`` replayed (record mode none, no network) through papermill, against
   the same notebook with its agentnb cells removed (the parameters, the prose and the plain Python
   cells that do not use an answer are kept): the difference is what agentnb costs. Goal: under 1 s.
   Then the agentnb cells timed one by one in process, to show where that time goes.
2. ``agentnb run`` over four runs of the design session, ``--jobs 2`` against ``--jobs 1``.
   Goal: two jobs at least 1.6x faster.

Each figure is a median over REPEAT runs (default 3), taken in turn. Kernel start is in both sides.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from timing import scratch_folder

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "design_session.ipynb"
AGENTNB_WORDS = ("agentnb", "%%agent", "v1", "v2", "v3", "v4", "schema_db")


def offline_env(home: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ANTHROPIC_"):
            del os.environ[name]
    os.environ["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"     # any live call would fail
    os.environ["AGENTNB_RECORD_MODE"] = "none"
    os.environ["AGENTNB_HOME"] = str(home)


def stripped(folder: Path) -> Path:
    nb = json.loads(NOTEBOOK.read_text())
    keep = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "parameters" not in cell.get("metadata", {}).get("tags", []) \
                and any(word in source for word in AGENTNB_WORDS):
            continue
        keep.append(cell)
    nb["cells"] = keep
    path = folder / "design_session_without_agentnb.ipynb"
    path.write_text(json.dumps(nb))
    return path


def papermill_seconds(path: Path, out: Path) -> float:
    import papermill

    start = time.perf_counter()
    papermill.execute_notebook(str(path), str(out), cwd=str(NOTEBOOK.parent), progress_bar=False,
                               kernel_name="python3")
    return time.perf_counter() - start


def cells_in_process() -> list[tuple[str, float]]:
    """The notebook's code cells run in one IPython shell, each timed."""
    import contextlib
    import io

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    cwd = os.getcwd()
    os.chdir(NOTEBOOK.parent)
    rows = []
    try:
        for cell in json.loads(NOTEBOOK.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                result = shell.run_cell(source)
            rows.append((source.splitlines()[0][:60], time.perf_counter() - start))
            if not result.success:
                raise SystemExit(f"cell failed: {source.splitlines()[0]}: {result.error_in_exec!r}")
    finally:
        os.chdir(cwd)
    return rows


def jobs_seconds(jobs: int, out: Path) -> float:
    from agentnb.batch.execute import run_notebooks

    start = time.perf_counter()
    batch = run_notebooks([NOTEBOOK], grid=[{"record_mode": "none", "agent": "backend-dev"}] * 4, jobs=jobs,
                          out=out)
    elapsed = time.perf_counter() - start
    assert not [r for r in batch.results if r.status != "ok"], "a run failed"
    return elapsed


def main(repeat: int = 3) -> None:
    import nbconvert  # noqa: F401  imported once, outside the timings
    import papermill  # noqa: F401

    folder = scratch_folder("agentnb-bench-session-")
    offline_env(folder / "home")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    bare = stripped(folder)
    papermill_seconds(bare, folder / "warm.ipynb")                  # warm kernel spec, caches
    with_agentnb, without = [], []
    for i in range(repeat):
        with_agentnb.append(papermill_seconds(NOTEBOOK, folder / f"with-{i}.ipynb"))
        without.append(papermill_seconds(bare, folder / f"without-{i}.ipynb"))
    a, b = statistics.median(with_agentnb), statistics.median(without)
    print("\n1. replayed design session through papermill (median of", repeat, "runs)")
    print(f"   with agentnb cells      {a:6.2f} s")
    print(f"   agentnb cells removed   {b:6.2f} s   (the kernel's own cost)")
    verdict = "PASS" if a - b < 1.0 else "MISS"
    print(f"   agentnb adds            {a - b:6.2f} s   goal < 1 s: {verdict}")

    from agentnb.batch.execute import run_notebooks

    def via_run(path, out):
        start = time.perf_counter()
        run_notebooks([path], out=out, jobs=1)
        return time.perf_counter() - start

    ra = statistics.median(via_run(NOTEBOOK, folder / f"run-with-{i}") for i in range(repeat))
    rb = statistics.median(via_run(bare, folder / f"run-without-{i}") for i in range(repeat))
    print("\n   the same through `agentnb run` (HTML export and summary included; PostgreSQL started once by")
    print("   the runner for the batch, on both sides)")
    print(f"   with agentnb cells      {ra:6.2f} s")
    print(f"   agentnb cells removed   {rb:6.2f} s")
    print(f"   agentnb adds            {ra - rb:6.2f} s   goal < 1 s: {'PASS' if ra - rb < 1.0 else 'MISS'}")

    print("\n   where it goes (cells run in one process, first run: imports and server start included)")
    for name, seconds in cells_in_process():
        if seconds >= 0.005:
            print(f"   {seconds * 1000:7.0f} ms  {name}")

    print("\n2. agentnb run, four replayed design sessions")
    one = statistics.median(jobs_seconds(1, folder / f"j1-{i}") for i in range(repeat))
    two = statistics.median(jobs_seconds(2, folder / f"j2-{i}") for i in range(repeat))
    speedup = one / two
    print(f"   --jobs 1   {one:6.2f} s")
    print(f"   --jobs 2   {two:6.2f} s   speed-up x{speedup:.2f}   goal >= 1.6: "
          f"{'PASS' if speedup >= 1.6 else 'MISS'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
