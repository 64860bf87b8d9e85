"""What ``%load_ext agentnb`` adds to an IPython start, next to a bare start (and Jupyter AI's magics).

    /work/venv/bin/python bench/bench_load_ext.py [--runs 15] [--no-importtime]

Goal: ``%load_ext agentnb`` adds under 80 ms to a bare ``ipython -c pass`` (Jupyter AI's
``%load_ext jupyter_ai_magics`` adds ~900 ms on the same machine).

Every variant is a fresh ``python -m IPython -c CODE`` of this interpreter (``sys.executable``), run in
an empty temporary HOME and working directory (so ``~/.claude/agents``, ``./agents`` and the user's
IPython profile play no part: only the agent bundled with agentnb is found), without
``AGENTNB_AGENTS_PATH``. One warm-up round is discarded, then ``--runs`` rounds, each running every
variant once in a rotating order. Printed: median, p90 and min wall time per variant, and what each
extension adds (the median of the per-round differences with the bare start of the same round).

Then, to locate a regression: an in-process split of the load (imports / agent discovery / magic
registration) and the ``-X importtime`` self-times of the modules ``%load_ext agentnb`` imports beyond a
bare start, summed per top-level package.

Jupyter AI is measured only when ``jupyter_ai_magics`` is importable by this interpreter; it is not an
agentnb dependency (``pip install jupyter-ai-magics==2.31.7`` pulls in langchain, aiohttp, numpy and
downgrades ``packaging``: a separate venv is wiser).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

GOAL_MS = 80.0
JAI_VERSION = "2.31.7"

# What the in-process split runs (inside `ipython -c`, so IPython is already up and agentnb not loaded).
SPLIT_CODE = """\
import time, json
t0 = time.perf_counter()
import agentnb, agentnb.magics, agentnb.session
t1 = time.perf_counter()
catalog = agentnb.session.current().catalog
t2 = time.perf_counter()
get_ipython().run_line_magic('load_ext', 'agentnb')
t3 = time.perf_counter()
print('SPLIT', json.dumps([t1 - t0, t2 - t1, t3 - t2, len(catalog.agents), len(catalog.errors)]))
"""


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("AGENTNB_AGENTS_PATH", "PYTHONSTARTUP", "COVERAGE_PROCESS_START", "PYTHONPROFILEIMPORTTIME",
                 "IPYTHONDIR", "JUPYTER_CONFIG_DIR", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["HOME"] = str(home)
    env["USERPROFILE"] = str(home)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _ipython(code: str, env: dict, cwd: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-m", "IPython", "--no-banner", "-c", code],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(code: str, env: dict, cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; the CPU time (user + system) suffers less from a busy machine."""
    cpu = _cpu()
    start = time.perf_counter()
    proc = _ipython(code, env, cwd)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or "Error" in proc.stdout or "Traceback" in proc.stderr:
        raise SystemExit(f"`ipython -c {code!r}` failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, _cpu() - cpu


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * 9 // 10) - 1))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def _check_loads(env: dict, cwd: Path) -> None:
    """The agentnb variant must really register the bundled agent's magic, or the timing means nothing."""
    proc = _ipython("%load_ext agentnb\nprint('MAGIC', get_ipython().find_cell_magic('backend_dev') is not None)",
                    env, cwd)
    if "MAGIC True" not in proc.stdout:
        raise SystemExit(f"%load_ext agentnb did not register %%backend_dev:\n{proc.stdout}\n{proc.stderr}")


def wall_times(runs: int, env: dict, cwd: Path) -> None:
    variants = [("bare IPython", "pass"), ("%load_ext agentnb", "%load_ext agentnb")]
    jai = importlib.util.find_spec("jupyter_ai_magics") is not None
    if jai:
        variants.append(("%load_ext jupyter_ai_magics", "%load_ext jupyter_ai_magics"))
    width = max(len("CPU time (user + system)"), *(len(label) for label, _ in variants))
    wall: dict[str, list[float]] = {code: [] for _, code in variants}
    cpu: dict[str, list[float]] = {code: [] for _, code in variants}
    print(f"`{Path(sys.executable).name} -m IPython -c CODE`, {runs} rounds after 1 warm-up "
          f"(rotating order), HOME={env['HOME']}")
    for round_ in range(runs + 1):
        order = variants[round_ % len(variants):] + variants[:round_ % len(variants)]
        for _, code in order:
            w, c = _timed(code, env, cwd)
            if round_:
                wall[code].append(w)
                cpu[code].append(c)
    added: dict[str, float] = {}
    for title, times in (("wall time", wall), ("CPU time (user + system)", cpu)):
        print(f"  {title:{width}}  {'median':>10} {'p90':>10} {'min':>10}   added (median of per-round differences)")
        base = times["pass"]
        for label, code in variants:
            values = times[code]
            line = f"  {label:{width}}  {_ms(statistics.median(values))} {_ms(_p90(values))} {_ms(min(values))}"
            if code != "pass":
                diffs = [v - b for v, b in zip(values, base)]
                line += f"   +{statistics.median(diffs) * 1000:.0f} ms (p90 +{_p90(diffs) * 1000:.0f} ms)"
                if times is wall:
                    added[code] = statistics.median(diffs)
            print(line)
    ours = added["%load_ext agentnb"] * 1000
    verdict = "met" if ours < GOAL_MS else "MISSED"
    print(f"\n%load_ext agentnb adds {ours:.0f} ms (wall) to a bare IPython start "
          f"(goal: under {GOAL_MS:.0f} ms; Jupyter AI's adds ~900 ms here): goal {verdict}")
    if jai:
        theirs = added["%load_ext jupyter_ai_magics"] * 1000
        print(f"%load_ext jupyter_ai_magics adds {theirs:.0f} ms (wall), {theirs / max(ours, 1):.0f}x agentnb's")
    else:
        print("jupyter_ai_magics is not installed for this interpreter, so it is not measured; to compare, "
              f"`pip install jupyter-ai-magics=={JAI_VERSION}` (into a separate venv: it is no agentnb "
              "dependency) and run this script with that venv's python.")


def split(env: dict, cwd: Path, runs: int = 7) -> None:
    import json

    rows = []
    for _ in range(runs):
        proc = _ipython(SPLIT_CODE, env, cwd)
        line = next((l for l in proc.stdout.splitlines() if l.startswith("SPLIT ")), None)
        if line is None:
            print(f"  (split failed: {proc.stdout[-500:]} {proc.stderr[-500:]})")
            return
        rows.append(json.loads(line[6:]))
    agents, errors = rows[0][3], rows[0][4]
    print(f"\nin-process split of %load_ext agentnb, median of {runs} runs ({agents} agent(s), {errors} bad file(s)):")
    for i, what in enumerate(["import agentnb, agentnb.magics, agentnb.session",
                              "discover agents (search path, parse files)",
                              "%load_ext: register the magics"]):
        print(f"  {what:48} {statistics.median(r[i] for r in rows) * 1000:6.1f} ms")


_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _importtime(code: str, env: dict, cwd: Path) -> dict[str, tuple[int, int]]:
    """module -> (self µs, cumulative µs) from one `-X importtime` run."""
    proc = _ipython(code, env, cwd, "-X", "importtime")
    out = {}
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(4)] = (int(m.group(1)), int(m.group(2)))
    return out


def importtime(env: dict, cwd: Path, runs: int = 5, top: int = 12) -> None:
    bare_modules: set[str] = set()
    per_package: dict[str, list[int]] = defaultdict(list)
    per_module: dict[str, list[int]] = defaultdict(list)
    totals = []
    for _ in range(runs):
        bare_modules |= set(_importtime("pass", env, cwd))
    for _ in range(runs):
        loaded = _importtime("%load_ext agentnb", env, cwd)
        extra = {m: t for m, t in loaded.items() if m not in bare_modules}
        sums: dict[str, int] = defaultdict(int)
        for module, (self_us, _) in extra.items():
            sums[module.split(".")[0]] += self_us
            per_module[module].append(self_us)
        for package, us in sums.items():
            per_package[package].append(us)
        totals.append(sum(sums.values()))
    print(f"\n-X importtime: modules %load_ext agentnb imports beyond a bare IPython start "
          f"(self time summed per top-level package, median of {runs} runs; total "
          f"{statistics.median(totals) / 1000:.1f} ms over {len(per_module)} modules)")
    ranked = sorted(per_package.items(), key=lambda kv: -statistics.median(kv[1] + [0] * (runs - len(kv[1]))))
    for package, values in ranked[:top]:
        modules = sorted((m for m in per_module if m.split(".")[0] == package),
                         key=lambda m: -statistics.median(per_module[m]))
        heavy = ", ".join(f"{m} {statistics.median(per_module[m]) / 1000:.1f}" for m in modules[:3])
        print(f"  {package:28} {statistics.median(values) / 1000:6.1f} ms  ({len(modules)} modules; heaviest: {heavy})")
    if len(ranked) > top:
        rest = sum(statistics.median(v) for _, v in ranked[top:]) / 1000
        print(f"  {len(ranked) - top} other packages       {rest:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed rounds (after one warm-up)")
    parser.add_argument("--no-importtime", action="store_true", help="skip the split and -X importtime part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agentnb-bench-home-") as tmp:
        home = Path(tmp)
        cwd = home / "work"
        cwd.mkdir()
        env = _env(home)
        _check_loads(env, cwd)
        print(f"python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPU(s)")
        wall_times(args.runs, env, cwd)
        if not args.no_importtime:
            split(env, cwd)
            importtime(env, cwd)


if __name__ == "__main__":
    main()
