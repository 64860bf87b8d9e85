"""The checks of the shipped design sessions: what running an answer's artifacts costs, cell by cell.

    .venv/bin/python bench/bench_design_checks.py [--runs 5]

Reads the recorded answers of ``data/recordings`` (the lending library and the veterinary clinic), groups
them by conversation, and runs ``agentnb.checks.run`` on each answer in turn, each one against the schema
the conversation had before it, exactly as a replayed notebook does. PostgreSQL is started (and warmed
up) before timing, so the figures are the checks, not a server start. Prints, per cell and per session,
the median over ``--runs`` rounds, and the rows' statuses so that a change in outcome shows beside a
change in time. This is the figure issue 8's "no more than 20% slower" is judged on.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def conversations() -> dict[str, list[dict]]:
    by_domain: dict[str, list[dict]] = collections.defaultdict(list)
    for path in sorted((REPO / "data" / "recordings").glob("*.json")):
        record = json.loads(path.read_text())
        messages = record["request"]["body"]["messages"]
        first = messages[0]["content"]
        first = first[0]["text"] if isinstance(first, list) else first
        domain = first.split("Projet : ", 1)[-1].split("\n", 1)[0]
        by_domain[domain].append({"turns": len(messages), "answer": record["answer"], "file": path.name})
    return {d: sorted(cells, key=lambda c: (c["turns"], c["file"])) for d, cells in sorted(by_domain.items())}


def run_session(cells: list[dict]) -> list[tuple[float, str]]:
    from agentnb.artifacts import extract
    from agentnb import checks

    out = []
    previous = None
    for cell in cells:
        artifacts = extract(cell["answer"])
        t0 = time.perf_counter()
        report = checks.run(artifacts, answer_text=cell["answer"], previous_ddl=previous)
        elapsed = time.perf_counter() - t0
        statuses = collections.Counter(r.status for r in report.rows)
        out.append((elapsed, ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))))
        if artifacts.schema:
            previous = artifacts.schema
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from agentnb.checks import postgres

    postgres.get_server()      # started before timing
    sessions = conversations()
    for cells in sessions.values():   # warm-up round: imports, first connections
        run_session(cells)
    times: dict[str, list[list[float]]] = {d: [] for d in sessions}
    outcome: dict[str, list[str]] = {}
    for _ in range(args.runs):
        for domain, cells in sessions.items():
            result = run_session(cells)
            times[domain].append([t for t, _ in result])
            outcome[domain] = [s for _, s in result]
    grand = []
    for domain, cells in sessions.items():
        print(f"{domain}")
        per_cell = list(zip(*times[domain]))
        for cell, samples, status in zip(cells, per_cell, outcome[domain]):
            print(f"  {cell['turns']} turns  {statistics.median(samples) * 1000:7.1f} ms  {status}")
        totals = [sum(run) for run in times[domain]]
        grand.append(statistics.median(totals))
        print(f"  session: {statistics.median(totals) * 1000:7.1f} ms (median of {args.runs}; "
              f"min {min(totals) * 1000:.1f})")
    print(f"all sessions: {sum(grand) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
