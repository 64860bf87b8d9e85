"""Where the time of a replayed ``--tools`` cell goes: the Claude Code CLI's start, agentnb's endpoint,
the tools themselves, the CLI's own work, the checks, and agentnb's own work around them.

    /work/main/.venv/bin/python bench/bench_tools.py [--iterations 5] [--no-baseline]

Procedure (all in a temporary folder, HOME pointing there):

1. record: a local ``agentnb.testing.server.MessagesServer`` serves a scripted loop (Write a schema,
   Write a migration pair, Bash ``ls``, then the text) and one tools cell records it through agentnb
   (``Session.ask`` with ``--tools Write,Bash --permission-mode bypassPermissions``, checks on);
2. replay it ``--iterations`` times (record mode none, no key: the endpoint never forwards; a fresh
   session and an emptied workspace each time), with timers wrapped around agentnb's steps (no code changed):
   - CLI start: from ``engine.run`` launching the CLI to its first request reaching the endpoint;
   - endpoint: inside ``Endpoint.answer`` (normalise, hash, load the recording, stream it back), summed;
   - tools: each tool call from its ``tool_use`` to its result (the tool really runs again), summed;
   - CLI other: the rest of ``engine.run`` (the CLI's and the SDK's work between requests, its exit);
   - checks: ``Session._check`` (the files and fenced blocks through the usual checks);
   - agentnb other: the rest of the cell (options, workspace snapshots, the file artifacts, the log);
3. unless ``--no-baseline``: the CLI alone, through the SDK's ``query()`` with the same tools against
   the local server serving the same loop (no agentnb endpoint, no confinement hook, no checks), for
   scale: the cell minus checks, minus that, is what agentnb adds to the loop (goal: under 100 ms);
   then the same loop with agentnb's own CLI options (``engine.build_options``, straight to the server,
   no endpoint), and with one of them taken out at a time (the launcher, the confinement hook, the
   teammates, Bash's sandbox, on when the machine has one): which of agentnb's choices costs what. The cells and these loops run interleaved, in a
   rotating order, so that a busy machine slows them alike; on a shared 2-core machine differences under
   ~50 ms are noise.

Medians, min and max over the rounds are printed, in milliseconds; what agentnb adds is taken round by
round (the cell and the CLI alone ran side by side) with its quartiles, and beside it the CPU time of
this process (agentnb's own work: the endpoint, the bookkeeping, the snapshots; the CLI's is not in it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOAL_MS = 100.0
CPU_ALONE: list[float] = []      # this process's CPU seconds in each CLI-alone loop (the SDK reading the CLI)
PROMPT = "Écris le schéma et la migration dans le workspace, puis liste les fichiers."
SCHEMA = "CREATE TABLE members (\n    id bigint PRIMARY KEY,\n    email text NOT NULL UNIQUE\n);\n"
UP = "CREATE TABLE loans (\n    id bigint PRIMARY KEY,\n    member_id bigint NOT NULL REFERENCES members (id)\n);\n"
DOWN = "DROP TABLE loans;\n"


def replies(workspace: Path):
    from agentnb.testing.server import text, tool_use

    return [tool_use("Write", {"file_path": str(workspace / "schema.sql"), "content": SCHEMA}, "Le schéma."),
            tool_use("Write", {"file_path": str(workspace / "migrations/0001_loans.up.sql"), "content": UP}),
            tool_use("Write", {"file_path": str(workspace / "migrations/0001_loans.down.sql"), "content": DOWN}),
            tool_use("Bash", {"command": "ls -R"}),
            text("Fait : schema.sql et la migration 0001_loans.")]


class Timers:
    """Timers wrapped around agentnb's steps for one cell."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.run = self.checks = self.checks_cpu = 0.0
        self.run_started = self.first_request = None
        self.endpoint: list[float] = []

    def install(self):
        from agentnb.session import Session
        from agentnb.tools import cell, engine
        from agentnb.tools.endpoint import Endpoint

        timers = self
        run, answer, check = engine.run, Endpoint.answer, Session._check

        def timed_run(*args, **kwargs):
            timers.run_started = time.perf_counter()
            try:
                return run(*args, **kwargs)
            finally:
                timers.run = time.perf_counter() - timers.run_started

        def timed_answer(self, handler, body):
            started = time.perf_counter()
            if timers.first_request is None:
                timers.first_request = started
            try:
                return answer(self, handler, body)
            finally:
                timers.endpoint.append(time.perf_counter() - started)

        def timed_check(self, *args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return check(self, *args, **kwargs)
            finally:
                timers.checks += time.perf_counter() - started
                timers.checks_cpu += time.process_time() - cpu

        engine.run = timed_run
        Endpoint.answer = timed_answer
        Session._check = timed_check
        assert cell  # the tools cell calls engine.run through the module, so the wrapper is seen


def ask(workspace: Path):
    from agentnb.session import current
    from agentnb.tools.cell import ToolsOptions

    return current().ask("backend-dev", PROMPT, tools=ToolsOptions(
        tools=["Write", "Bash"], permission_mode="bypassPermissions", workspace=str(workspace)))


def plain_options(server, workspace: Path):
    from claude_agent_sdk import ClaudeAgentOptions

    from agentnb.tools.engine import bundled_cli

    return ClaudeAgentOptions(
        tools=["Write", "Bash"], allowed_tools=["Write", "Bash"], permission_mode="acceptEdits",
        model="claude-sonnet-4-5", cwd=str(workspace), setting_sources=[], cli_path=bundled_cli(),
        env={"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "sk-ant-bench-0000",
             "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
             "CLAUDE_CONFIG_DIR": str(workspace.parent / "baseline-config")})


def agentnb_options(server, workspace: Path, scratch: Path, without: str | None):
    """The options a tools cell gives the CLI (engine.build_options), pointed straight at the server."""
    import dataclasses

    from agentnb.session import current
    from agentnb.tools import cell, engine

    session = current()
    agent = session.agent("backend-dev")
    request = engine.ToolsRequest(agent=agent, prompt=PROMPT, model="claude-sonnet-4-5", workspace=workspace,
                                  tools=["Write", "Bash"], permission_mode="bypassPermissions",
                                  teammates=cell.teammates(session, agent), config_dir=scratch / "config")
    endpoint = type("Direct", (), {"url": server.url, "token": "sk-ant-bench-0000"})()
    options = engine.build_options(request, endpoint, scratch=scratch, asker=None, refused=[], stderr=lambda line: None)
    change = {"launcher": {"cli_path": engine.bundled_cli()}, "hook": {"hooks": None},
              "teammates": {"agents": None}, "sandbox": {"sandbox": None}}.get(without, {})
    return dataclasses.replace(options, **change)


def baseline(server, workspace: Path, iterations: int, make_options=plain_options) -> list[float]:
    """The bundled CLI through the SDK, serving the same loop from the local server."""
    import anyio
    from claude_agent_sdk import query

    times = []
    for _ in range(iterations):
        shutil.rmtree(workspace, ignore_errors=True)
        workspace.mkdir()
        server.reset()
        server.enqueue(*replies(workspace))
        options = make_options(server, workspace)

        async def loop():
            async for _ in query(prompt=PROMPT, options=options):
                pass

        started, cpu = time.perf_counter(), time.process_time()
        anyio.run(loop)
        times.append(time.perf_counter() - started)
        if make_options is plain_options:
            CPU_ALONE.append(time.process_time() - cpu)
        if not (workspace / "migrations" / "0001_loans.down.sql").is_file():
            raise RuntimeError("the baseline loop did not run its tools")
    return times


def replay(workspace: Path, timers: Timers) -> dict[str, float]:
    """One replayed cell, from a fresh session and an empty workspace: its time, split."""
    from agentnb.session import reset

    shutil.rmtree(workspace, ignore_errors=True)
    reset()
    timers.reset()
    started, cpu = time.perf_counter(), time.process_time()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        r = ask(workspace)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if not r.replayed or [c.status for c in r.tool_calls] != ["done"] * 4:
        raise RuntimeError(f"the replay went wrong: {r!r} {[c.status for c in r.tool_calls]}")
    start = timers.first_request - timers.run_started
    endpoint = sum(timers.endpoint)
    tools = sum(c.duration_s or 0.0 for c in r.tool_calls)
    return {"cell": total, "CLI start": start, "endpoint": endpoint, "tools": tools,
            "CLI other": timers.run - start - endpoint - tools, "checks": timers.checks,
            "agentnb other": total - timers.run - timers.checks, "CPU, no checks": cpu - timers.checks_cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    from agentnb.testing.server import MessagesServer

    with tempfile.TemporaryDirectory(prefix="agentnb-bench-tools-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        for name in list(os.environ):
            if name.startswith(("ANTHROPIC_", "AGENTNB_")):
                del os.environ[name]
        os.environ.update(HOME=str(root / "home"), AGENTNB_HOME=str(root / "agentnb-home"))
        os.chdir(root)
        workspace = root / "workspace"
        timers = Timers()
        timers.install()
        from agentnb.session import reset

        with MessagesServer() as server:
            os.environ.update(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-bench-0000",
                              AGENTNB_RECORD_MODE="once")
            server.enqueue(*replies(workspace))
            reset()
            recorded = ask(workspace)
            if recorded.replayed or len(recorded.tool_calls) != 4:
                raise RuntimeError(f"the recording run went wrong: {recorded!r}")
            # from here the cell replays (record mode none, no key: its endpoint never forwards); the
            # server stays up only for the CLI-alone loops, which are given its URL explicitly
            del os.environ["ANTHROPIC_API_KEY"]
            os.environ["AGENTNB_RECORD_MODE"] = "none"
            os.environ["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"      # nothing listens: a live call fails
            rows: dict[str, list[float]] = {k: [] for k in (
                "cell", "CLI start", "endpoint", "tools", "CLI other", "checks", "agentnb other", "CPU, no checks")}
            base: list[float] = []
            variants: dict = {w: [] for w in (None, "launcher", "hook", "teammates", "sandbox")}
            scratch = root / "scratch"
            scratch.mkdir()
            makers = [("cell", None)]
            if not args.no_baseline:
                makers += [("alone", plain_options)] + [
                    (w, lambda srv, ws, w=w: agentnb_options(srv, ws, scratch, w)) for w in variants]
                baseline(server, root / "baseline-ws", 1)               # warm-up, discarded
            replay(workspace, timers)                                   # warm-up, discarded
            for round_ in range(args.iterations):                      # interleaved, in a rotating order
                for name, make in makers[round_ % len(makers):] + makers[:round_ % len(makers)]:
                    if name == "cell":
                        for key, value in replay(workspace, timers).items():
                            rows[key].append(value)
                    else:
                        took = baseline(server, root / "baseline-ws", 1, make)[0]
                        (base if name == "alone" else variants[name]).append(took)

    print(f"replayed --tools cell (4 tool calls, 5 requests), {args.iterations} interleaved rounds, ms")
    print(f"  {'':16} {'median':>8} {'min':>8} {'max':>8}")
    for key, values in rows.items():
        print(f"  {key:16} {statistics.median(values) * 1000:8.0f} {min(values) * 1000:8.0f} {max(values) * 1000:8.0f}")
    if base:
        alone = statistics.median(base)
        print(f"  {'CLI alone (SDK)':16} {alone * 1000:8.0f} {min(base) * 1000:8.0f} {max(base) * 1000:8.0f}"
              "   the same loop, no agentnb")
        # paired by round (the cell and the CLI alone ran side by side): the machine's load cancels out
        added = sorted((c - k - b) * 1000 for c, k, b in zip(rows["cell"], rows["checks"], base))
        quartiles = statistics.quantiles(added, n=4) if len(added) > 1 else added * 3
        median = statistics.median(added)
        print(f"agentnb adds {median:.0f} ms to the loop (cell minus checks, minus the CLI alone, paired by round; "
              f"quartiles {quartiles[0]:.0f} to {quartiles[2]:.0f} ms; goal under {GOAL_MS:.0f} ms): "
              f"{'met' if median < GOAL_MS else 'NOT met'}")
        cpu = [(c - a) * 1000 for c, a in zip(rows["CPU, no checks"], CPU_ALONE[1:])]
        print(f"CPU of this process: the cell without its checks {statistics.median(rows['CPU, no checks']) * 1000:.0f} ms, "
              f"the SDK alone {statistics.median(CPU_ALONE[1:]) * 1000:.0f} ms: agentnb's own CPU "
              f"{statistics.median(cpu):.0f} ms (min {min(cpu):.0f}, max {max(cpu):.0f})")
        full = statistics.median(variants[None])
        print("\nthe CLI with agentnb's options, straight to the server (no endpoint), ms")
        print(f"  {'all of them':28} {full * 1000:8.0f}   {(full - alone) * 1000:+6.0f} over the CLI alone")
        for without in ("launcher", "hook", "teammates", "sandbox"):
            value = statistics.median(variants[without])
            print(f"  {'without the ' + without:28} {value * 1000:8.0f}   {(value - full) * 1000:+6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
