"""What agentnb adds to a replayed ``--tools`` cell over the Claude Code CLI doing the same loop alone,
and where the time of both goes.

    /work/main/.venv/bin/python bench/bench_tools.py [--iterations 5] [--no-variants]

Procedure (all in a temporary folder, HOME pointing there):

1. record: a local ``agentnb.testing.server.MessagesServer`` serves a scripted loop (Write a schema,
   Write a migration pair, Bash ``ls -R``, then the text) and one tools cell records it through agentnb
   (``Session.ask`` with ``--tools Write,Bash --permission-mode bypassPermissions``, checks on);
2. each round, in a rotating order (a busy machine slows them alike):
   - the cell, replayed (record mode none, no key: the endpoint never forwards; a fresh session and an
     emptied workspace each time);
   - the CLI alone: the bundled CLI through the SDK's ``query()`` with the same tools, served the same
     loop by the local server, no agentnb code, **with Bash in Claude Code's sandbox as in the cell**
     (where the machine has one). The sandbox is Claude Code's own: a user running Claude Code with it
     pays for it too, so this is the baseline the goal is judged on;
   - the CLI alone without the sandbox (the bare CLI), for scale;
   - unless ``--no-variants``: the CLI with agentnb's own options (``engine.build_options``) straight to
     the server (no endpoint, no cell), and with one of them taken out at a time (the launcher, the
     confinement hook, ``--restricted``, the sandbox), or with the teammates defined (as when the agent
     has the Agent tool): which of agentnb's choices costs what;
3. every run is cut at the same points: the SDK spawning the CLI, its first request (at agentnb's
   endpoint or the server), its last answer, its exit (the SDK's close). "after exit" is the cell's
   work after the CLI ended, its checks taken out (they are timed apart: the CLI alone has none).

Printed, in ms: median, min and max of each; the phases side by side with their round-by-round
difference; what agentnb adds (the cell minus its checks, minus the CLI alone of the same round; goal
under 100 ms) with its quartiles; the same over the bare CLI with the sandbox's share; the CPU time of
this process (agentnb's own work: the endpoint, the bookkeeping, the snapshots; the CLI's is not in it).
On a shared 2-core machine differences under ~50 ms are noise: run it several times.
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
    """Timestamps around the loop, the same for a cell and for the CLI alone (no agentnb code changed):
    when the SDK spawns the CLI, each request reaching agentnb's endpoint or the local server and its
    answer's end, the CLI's exit (the SDK's close), and the cell's checks."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.checks = self.checks_cpu = 0.0
        self.spawned = self.closed = None
        self.requests: list[tuple[float, float]] = []      # (arrived, answered), in order
        self.endpoint: list[float] = []

    def install(self):
        from claude_agent_sdk._internal.query import Query
        from claude_agent_sdk._internal.transport.subprocess_cli import SubprocessCLITransport

        from agentnb.session import Session
        from agentnb.testing.server import _Handler
        from agentnb.tools.endpoint import Endpoint

        timers = self
        connect, close, answer, serve, check = (SubprocessCLITransport.connect, Query.close, Endpoint.answer,
                                                _Handler._messages, Session._check)

        async def timed_connect(self):
            timers.spawned = time.perf_counter()
            return await connect(self)

        async def timed_close(self):
            try:
                return await close(self)
            finally:
                timers.closed = time.perf_counter()

        def timed(serve_one, into_endpoint):
            def timed_serve(self, *args):
                started = time.perf_counter()
                try:
                    return serve_one(self, *args)
                finally:
                    ended = time.perf_counter()
                    timers.requests.append((started, ended))
                    if into_endpoint:
                        timers.endpoint.append(ended - started)
            return timed_serve

        def timed_check(self, *args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return check(self, *args, **kwargs)
            finally:
                timers.checks += time.perf_counter() - started
                timers.checks_cpu += time.process_time() - cpu

        SubprocessCLITransport.connect = timed_connect
        Query.close = timed_close
        Endpoint.answer = timed(answer, True)
        _Handler._messages = timed(serve, False)
        Session._check = timed_check

    def phases(self, started: float, ended: float) -> dict[str, float]:
        """The run from ``started`` to ``ended`` cut at the CLI's spawn, its first request, its last
        answer and its exit (checks taken out of what follows)."""
        first, last = self.requests[0][0], self.requests[-1][1]
        return {"before spawn": self.spawned - started, "CLI start": first - self.spawned,
                "loop": last - first, "CLI end": self.closed - last,
                "after exit": ended - self.closed - self.checks}


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


def sandboxed_options(server, workspace: Path):
    """The CLI alone with Bash in Claude Code's sandbox, as agentnb asks for it (a user running Claude
    Code with its sandbox pays for it as well): the like-for-like baseline."""
    import dataclasses

    from agentnb.tools import engine

    return dataclasses.replace(plain_options(server, workspace), sandbox=dict(engine.SANDBOX))


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
    if without == "teammates":         # not a removal: the definitions a cell gives when Agent is a tool
        with_agent = dataclasses.replace(request, tools=["Write", "Bash", "Agent"])
        agents = engine.build_options(with_agent, endpoint, scratch=scratch, asker=None, refused=[],
                                      stderr=lambda line: None).agents
        return dataclasses.replace(options, agents=agents)
    change = {"launcher": {"cli_path": engine.bundled_cli()}, "hook": {"hooks": None},
              "restricted": {"extra_args": {k: v for k, v in options.extra_args.items() if k != "restricted"}},
              "sandbox": {"sandbox": None}}.get(without, {})
    return dataclasses.replace(options, **change)


def baseline(server, workspace: Path, make_options, timers: Timers) -> dict[str, float]:
    """One loop of the bundled CLI through the SDK, served the same answers by the local server: its
    time, split as a cell's is, and this process's CPU (the SDK reading the CLI)."""
    import anyio
    from claude_agent_sdk import query

    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir()
    server.reset()
    server.enqueue(*replies(workspace))
    timers.reset()
    started, cpu = time.perf_counter(), time.process_time()
    options = make_options(server, workspace)

    async def loop():
        async for _ in query(prompt=PROMPT, options=options):
            pass

    anyio.run(loop)
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    if not (workspace / "migrations" / "0001_loans.down.sql").is_file():
        raise RuntimeError("the baseline loop did not run its tools")
    return {"total": ended - started, **timers.phases(started, ended), "CPU": cpu}


def replay(workspace: Path, timers: Timers) -> dict[str, float]:
    """One replayed cell, from a fresh session and an empty workspace: its time, split."""
    from agentnb.session import reset

    shutil.rmtree(workspace, ignore_errors=True)
    reset()
    timers.reset()
    started, cpu = time.perf_counter(), time.process_time()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        r = ask(workspace)
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    if not r.replayed or [c.status for c in r.tool_calls] != ["done"] * 4:
        raise RuntimeError(f"the replay went wrong: {r!r} {[c.status for c in r.tool_calls]}")
    return {"total": ended - started, **timers.phases(started, ended), "checks": timers.checks,
            "CPU": cpu - timers.checks_cpu, "endpoint": sum(timers.endpoint),
            "tools": sum(c.duration_s or 0.0 for c in r.tool_calls)}


PHASES = ("before spawn", "CLI start", "loop", "CLI end", "after exit")
VARIANTS = ("launcher", "hook", "restricted", "sandbox", "teammates")


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.0f} {min(values) * 1000:8.0f} {max(values) * 1000:8.0f}"


def paired(a: list[float], b: list[float]) -> list[float]:
    """Round by round differences in ms (the two ran side by side: the machine's load cancels out)."""
    return sorted((x - y) * 1000 for x, y in zip(a, b))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--no-variants", action="store_true", help="leave out agentnb's options one at a time")
    args = parser.parse_args()

    from agentnb.testing.server import MessagesServer
    from agentnb.tools import permissions

    sandboxed = permissions.sandbox_available()
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
            scratch = root / "scratch"
            scratch.mkdir()
            makers = {"cell": None, "alone": sandboxed_options if sandboxed else plain_options}
            if sandboxed:
                makers["bare"] = plain_options
            if not args.no_variants:
                makers |= {("options", w): (lambda srv, ws, w=w: agentnb_options(srv, ws, scratch, w))
                           for w in (None, *VARIANTS) if w != "sandbox" or sandboxed}
            runs: dict = {name: [] for name in makers}
            for name, make in makers.items():                            # warm-up, discarded
                replay(workspace, timers) if make is None else baseline(server, root / "baseline-ws", make, timers)
            names = list(makers)
            for round_ in range(args.iterations):                      # interleaved, in a rotating order
                for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                    make = makers[name]
                    runs[name].append(replay(workspace, timers) if make is None
                                      else baseline(server, root / "baseline-ws", make, timers))
    report(runs, args.iterations, sandboxed)
    return 0


def report(runs: dict, iterations: int, sandboxed: bool) -> None:
    def col(name, key):
        return [r[key] for r in runs[name]]

    cell = runs["cell"]
    alone_name = "CLI alone, sandboxed" if sandboxed else "CLI alone"
    print(f"replayed --tools cell (4 tool calls, 5 requests) and the CLI alone doing the same loop, "
          f"{iterations} interleaved rounds, ms")
    print(f"  {'':26} {'median':>8} {'min':>8} {'max':>8}")
    print(f"  {'cell':26} {ms(col('cell', 'total'))}")
    print(f"  {'  checks':26} {ms(col('cell', 'checks'))}   (not part of the goal: the CLI alone has none)")
    print(f"  {'  cell without checks':26} {ms([r['total'] - r['checks'] for r in cell])}")
    print(f"  {alone_name:26} {ms(col('alone', 'total'))}   the SDK's query(), same tools"
          + (", Bash in Claude Code's sandbox as in the cell" if sandboxed else " (no sandbox on this machine)"))
    if sandboxed:
        print(f"  {'CLI alone, bare':26} {ms(col('bare', 'total'))}   the same without the sandbox, for scale")

    print("\nwhere the time goes, ms (medians; differences taken round by round)")
    print(f"  {'':16} {'cell':>8} {'alone':>8} {'cell - alone':>14}"
          + (f" {'bare':>8} {'the sandbox':>12}" if sandboxed else ""))
    for key in PHASES:
        diff = paired(col("cell", key), col("alone", key))
        line = (f"  {key:16} {statistics.median(col('cell', key)) * 1000:8.0f} "
                f"{statistics.median(col('alone', key)) * 1000:8.0f} {statistics.median(diff):14.0f}")
        if sandboxed:       # what Claude Code's sandbox costs in each phase: the CLI alone with it, minus without
            line += (f" {statistics.median(col('bare', key)) * 1000:8.0f} "
                     f"{statistics.median(paired(col('alone', key), col('bare', key))):12.0f}")
        print(line)
    print(f"    in the cell's loop: agentnb's endpoint {statistics.median(col('cell', 'endpoint')) * 1000:.0f} ms "
          f"(5 requests), the tool calls {statistics.median(col('cell', 'tools')) * 1000:.0f} ms (as the CLI reports them)")

    added = paired([r["total"] - r["checks"] for r in cell], col("alone", "total"))
    quartiles = statistics.quantiles(added, n=4) if len(added) > 1 else added * 3
    median = statistics.median(added)
    print(f"\nagentnb adds {median:.0f} ms (quartiles {quartiles[0]:.0f} to {quartiles[2]:.0f}) over the CLI alone "
          f"with the same tools{' and the same sandbox' if sandboxed else ''} (the cell minus its checks, paired "
          f"by round; goal under {GOAL_MS:.0f} ms): {'met' if median < GOAL_MS else 'NOT met'}")
    if sandboxed:
        bare = paired([r["total"] - r["checks"] for r in cell], col("bare", "total"))
        sandbox = paired(col("alone", "total"), col("bare", "total"))
        print(f"over the bare CLI (no sandbox): {statistics.median(bare):.0f} ms, of which Claude Code's sandbox "
              f"{statistics.median(sandbox):.0f} ms (the CLI alone with it, minus without; a Claude Code user "
              "with the sandbox pays it too)")
    cpu = paired(col("cell", "CPU"), col("alone", "CPU"))
    print(f"CPU of this process: the cell without its checks {statistics.median(col('cell', 'CPU')) * 1000:.0f} ms, "
          f"the SDK alone {statistics.median(col('alone', 'CPU')) * 1000:.0f} ms: agentnb's own CPU "
          f"{statistics.median(cpu):.0f} ms (min {min(cpu):.0f}, max {max(cpu):.0f})")

    if ("options", None) not in runs:
        return
    full = col(("options", None), "total")
    print("\nthe CLI with agentnb's options, straight to the server (no endpoint, no cell), ms")
    print(f"  {'all of them':28} {statistics.median(full) * 1000:8.0f}   "
          f"{statistics.median(paired(full, col('alone', 'total'))):+6.0f} over the {alone_name}")
    for without in VARIANTS:
        if ("options", without) in runs:
            value = col(("options", without), "total")
            label = ("with the teammates defined" if without == "teammates"       # as when Agent is a tool
                     else f"without the {without}")
            print(f"  {label:28} {statistics.median(value) * 1000:8.0f}   "
                  f"{statistics.median(paired(value, full)):+6.0f}")


if __name__ == "__main__":
    sys.exit(main())
