"""``agentnb run`` figures: four runs of a small notebook, one at a time against two at a time (threads,
and processes for comparison). Goal: two jobs at least 1.6x faster than one.

    /work/venv/bin/python bench/bench_run.py [RUNS] [REPEAT]

Each figure is the median wall time of ``run_notebooks`` over REPEAT batches (default 5, taken
round robin), including
the HTML exports and the summary; nbformat, papermill and nbconvert are imported before timing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from agentnb.batch.execute import run_notebooks
from timing import scratch_folder

CELLS = [
    "n = 0",
    "import json, math\nvalues = [math.sqrt(i) for i in range(10_000)]",
    "print(n, len(values))",
    "from IPython.display import display\n"
    "display({'text/plain': 'x'}, raw=True, metadata={'agentnb': {'usage': {'input_tokens': 10, "
    "'output_tokens': 5}, 'cost_usd': 0.0001, 'replayed': True, 'checks': []}})",
    "assert n >= 0",
]


def make_notebook(folder: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "small.ipynb"
    nbformat.write(nb, path)
    return path


def batch(notebook: Path, out: Path, runs: int, jobs: int, pool: str) -> float:
    start = time.perf_counter()
    result = run_notebooks([notebook], grid=[{"n": i} for i in range(runs)], jobs=jobs, out=out, pool=pool)
    elapsed = time.perf_counter() - start
    assert not result.failed, [r.error for r in result.failed]
    return elapsed


def main(runs: int = 4, repeat: int = 5) -> None:
    import nbconvert  # noqa: F401  (imported once, outside the timings, as in a real batch after the first)

    folder = scratch_folder("agentnb-bench-run-")
    notebook = make_notebook(folder)
    batch(notebook, folder / "warm", 1, 1, "thread")     # warm the caches (kernel spec, bytecode)
    configs = [("jobs 1 (thread)", 1, "thread"), ("jobs 2 (thread)", 2, "thread"),
               ("jobs 2 (process)", 2, "process"), ("jobs 4 (thread)", 4, "thread")]
    times: dict[str, list[float]] = {label: [] for label, _, _ in configs}
    for i in range(repeat):          # round robin, so that load from elsewhere hits every figure alike
        for label, jobs, pool in configs:
            times[label].append(batch(notebook, folder / f"out-{jobs}-{pool}-{i}", runs, jobs, pool))
    figures = {}
    for label, _, _ in configs:
        figures[label] = statistics.median(times[label])
        print(f"{label:<18} {runs} runs: median {figures[label]:.2f} s, best {min(times[label]):.2f} s "
              f"({figures[label] / runs:.2f} s a run; all: {', '.join(f'{t:.2f}' for t in times[label])})")
    one = figures["jobs 1 (thread)"]
    for label in ("jobs 2 (thread)", "jobs 2 (process)", "jobs 4 (thread)"):
        print(f"speed-up {label}: {one / figures[label]:.2f}x")
    speedup = one / figures["jobs 2 (thread)"]
    print(f"goal (jobs 2 >= 1.6x jobs 1): {'met' if speedup >= 1.6 else 'NOT met'} ({speedup:.2f}x)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
