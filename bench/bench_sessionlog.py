"""Session log figures: append latency per row, and query times over 10,000 rows.

    /work/venv/bin/python bench/bench_sessionlog.py [ROWS]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from agentnb import sessionlog
from agentnb.sessionlog import Exchange, append, connect, query, rows, totals
from timing import scratch_folder


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def _time(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(n: int = 10_000) -> None:
    home = scratch_folder("agentnb-bench-")
    prompt = "Summarise the dataframe `sales` by region; explain outliers. " * 8       # ~0.5 kB
    answer = "Region West leads with 41% of revenue; two outliers in March… " * 30     # ~2 kB
    latencies = []
    for i in range(n):
        ex = Exchange(notebook=f"nb{i % 7}.ipynb", agent="analyst", thread="main", model="claude-opus-4-5",
                      prompt=prompt, answer=answer, stop_reason="end_turn", input_tokens=1200,
                      output_tokens=300, cache_read_input_tokens=800, cost_usd=0.0135, latency_s=2.1,
                      ttft_s=0.4, replayed=i % 3 == 0, session=f"s{i % 4}")
        start = time.perf_counter()
        append(ex, home=home)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    size = sum(f.stat().st_size for f in (home / "log").glob("*.jsonl"))
    print(f"append, {n} rows of ~2.5 kB ({size / 1e6:.1f} MB on disk):")
    print(f"  median {_ms(statistics.median(latencies))}, p99 {_ms(latencies[int(n * 0.99)])},"
          f" max {_ms(latencies[-1])}")

    con = connect(home)
    print(f"queries over {n} rows (best of 5):")
    print(f"  connect()                         {_ms(_time(lambda: connect(home)))}")
    print(f"  select count(*)                   {_ms(_time(lambda: con.sql('select count(*) from exchanges').fetchall()))}")
    print(f"  group by notebook, sum(cost)      "
          f"{_ms(_time(lambda: con.sql('select notebook, sum(cost_usd) from exchanges group by all').fetchall()))}")
    print(f"  totals()                          {_ms(_time(lambda: totals(home)))}")
    print(f"  rows(notebook=..., limit=20)      {_ms(_time(lambda: rows(home, notebook='nb3.ipynb', limit=20)))}")
    print(f"  rows(), all rows                  {_ms(_time(lambda: rows(home)))}")
    print(f"  query().fetchall(), all rows      {_ms(_time(lambda: query(home=home).fetchall()))}")

    # months of kernels: the same rows spread over 500 files (one per process run)
    many = scratch_folder("agentnb-bench-many-")
    ex = Exchange(prompt=prompt, answer=answer, input_tokens=1200, cost_usd=0.0135)
    for i in range(n):
        if i % (n // 500 or 1) == 0:
            sessionlog._files.clear()          # what a new process would do: open a file of its own
        append(ex, home=many)
    files = len(list((many / "log").glob("*.jsonl")))
    con = connect(many)
    print(f"same {n} rows in {files} files:")
    print(f"  select count(*)                   {_ms(_time(lambda: con.sql('select count(*) from exchanges').fetchall()))}")
    print(f"  totals()                          {_ms(_time(lambda: totals(many)))}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
