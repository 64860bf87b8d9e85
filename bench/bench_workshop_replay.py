"""The full replay of the tools workshop (notebooks/workshop/05_tools.ipynb), headless, as CI and
``agentnb run`` do it: papermill in this process, record mode none, no key, a scratch agentnb home.

    /work/main/.venv/bin/python bench/bench_workshop_replay.py [--runs 3]

Each run starts from the notebook as shipped (its workspace rebuilt from scratch: the tools run again
for real, the teammate's consultation included) and executes every cell. Printed: the wall time of each
run, their median, min and max in seconds, and the time of the tools cell alone (from the notebook's
papermill metadata), so that a change in agentnb's per-cell cost shows apart from the kernel's start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "workshop" / "05_tools.ipynb"


def cell_seconds(cell) -> float | None:
    duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
    if isinstance(duration, (int, float)):
        return float(duration)
    meta = cell.get("metadata", {}).get("execution", {})
    try:
        start = dt.datetime.fromisoformat(meta["iopub.execute_input"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(meta["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import nbformat
    import papermill

    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "AGENTNB_")):
            del os.environ[name]
    walls, tools = [], []
    with tempfile.TemporaryDirectory(prefix="agentnb-bench-workshop-") as tmp:
        os.environ.update(AGENTNB_HOME=str(Path(tmp) / "home"), AGENTNB_RECORD_MODE="none",
                          ANTHROPIC_BASE_URL="http://127.0.0.1:9")       # nothing listens: a live call fails
        for n in range(args.runs):
            output = Path(tmp) / f"run{n}.ipynb"
            started = time.perf_counter()
            papermill.execute_notebook(str(NOTEBOOK), str(output), cwd=str(NOTEBOOK.parent), kernel_name="python3",
                                       progress_bar=False, log_output=False)
            walls.append(time.perf_counter() - started)
            nb = nbformat.read(output, as_version=4)
            cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("%%backend_dev --tools"))
            tools.append(cell_seconds(cell))
            print(f"run {n + 1}: {walls[-1]:.2f} s, the tools cell {tools[-1]:.2f} s", flush=True)
    print(f"\nfull replay of {NOTEBOOK.relative_to(REPO)} ({args.runs} runs), s")
    print(f"  {'':16} {'median':>8} {'min':>8} {'max':>8}")
    for label, values in (("notebook", walls), ("tools cell", [t for t in tools if t is not None])):
        print(f"  {label:16} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
