"""Cost of issue 12's checks (GraphQL, gRPC, Dockerfile, compose, Prisma, the code's security, models
against the schema): all the checks on the design session's four answers before and after them, then each
family on a small sample. Prints figures.

    python bench/bench_stack_checks.py [--runs 10]

The four answers (``data/answers/design_session/0*.md``) are checked in order, each against the schema
the conversation had before it, with every check a replayed notebook runs (PostgreSQL and DuckDB
included; the server is started and warmed up before timing). "before" turns issue 12's families off
(``_stack_checks`` and the models' rows give nothing), "after" is the code as it is; the two alternate
run by run, so that the machine's load slows both alike. Then, for "after", each check's own time: the
jobs ``checks.run`` hands to its lanes (the PostgreSQL lane's job is the schema, the migrations and the
comparison with the previous schema together), and the models' comparison, which runs once the schema
is reflected. The lanes run side by side, so the checks' times add up to more than the answer's.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

from timing import ms_columns, samples

REPO = Path(__file__).resolve().parents[1]
ANSWERS = REPO / "data" / "answers" / "design_session"
SAMPLES = {
    "GraphQL (schema + 2 operations)": "```graphql\ntype Book { id: ID! title: String! }\n"
    "type Query { book(id: ID!): Book books: [Book!]! }\n```\n\n```graphql\nquery { books { id title } }\n"
    "query { book(id: 1) { title } }\n```\n",
    "gRPC (.proto, 1 service)": "```proto\n// books.proto\nsyntax = \"proto3\";\nservice Books "
    "{ rpc Get(Req) returns (Book); }\nmessage Req { string id = 1; }\nmessage Book { string id = 1; }\n```\n",
    "Dockerfile (hadolint + own rules)": "```dockerfile\n# Dockerfile\nFROM python:3.12-slim\n"
    "RUN pip install --no-cache-dir fastapi==0.110.0\nUSER app\nCMD [\"python\", \"app.py\"]\n```\n",
    "Compose (spec schema)": "```yaml\n# compose.yaml\nservices:\n  api:\n    build: .\n  db:\n"
    "    image: postgres:16\n```\n",
    # Prisma's parser under Node (after `agentnb setup prisma`; else the row is skipped and costs ~nothing)
    "Prisma (20 models, Node + wasm parser)": "```prisma\n// prisma/schema.prisma\n"
    "datasource db {\n  provider = \"postgresql\"\n}\n" + "".join(
        f"model M{i} {{\n  id Int @id @default(autoincrement())\n  name String @db.VarChar(80)\n"
        f"  at DateTime @default(now())\n  parentId Int?\n" + (f"  parent M{i - 1}? @relation(fields: [parentId], "
        f"references: [id])\n" if i else "") + (f"  children M{i + 1}[]\n" if i < 19 else "") + "}\n"
        for i in range(20)) + "```\n",
}


class CheckTimes:
    """Each check's seconds, by answer and row name, recorded while ``checks.run`` runs (on)."""

    def __init__(self, checks, limits):
        self.checks, self.limits = checks, limits
        self.run_lanes = limits.run_lanes
        self.answer: str | None = None      # the answer being timed; None: not recording
        self.seconds: dict[str, dict[str, list[float]]] = collections.defaultdict(
            lambda: collections.defaultdict(list))
        limits.run_lanes = self._lanes      # the models' check is a job of the PostgreSQL lane: timed there

    def _timed(self, name: str, fn):
        def run():
            start = time.perf_counter()
            try:
                return fn()
            finally:
                if self.answer is not None:
                    self.seconds[self.answer][name].append(time.perf_counter() - start)
        return run

    def _lanes(self, lanes, total=None):
        for lane in lanes:
            for job in lane:
                job.run = self._timed(job.name, job.run)
        return self.run_lanes(lanes, total)


def session_run(checks, answers: list[tuple[str, str, object]], times: CheckTimes | None,
                per_answer: dict[str, list[float]]) -> list[str]:
    """Check the four answers in order, as the conversation would; each answer's seconds into
    ``per_answer``; the rows' statuses per answer, returned."""
    previous, outcome = None, []
    for name, text, artifacts in answers:
        if times is not None:
            times.answer = name
        start = time.perf_counter()
        report = checks.run(artifacts, answer_text=text, previous_ddl=previous,
                            required=("code", "schema", "examples", "env"))
        per_answer[name].append(time.perf_counter() - start)
        if times is not None:
            times.answer = None
        if report.schema_valid and artifacts.schema:
            previous = artifacts.schema
        statuses = collections.Counter(r.status for r in report.rows)
        outcome.append(f"{len(report.rows)} rows: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    return outcome


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from agentnb import checks
    from agentnb.artifacts import extract
    from agentnb.checks import limits, postgres

    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores), {args.runs} runs")
    postgres.get_server()       # started before timing
    answers = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(ANSWERS.glob("0*.md"))]
    answers = [(name, text, extract(text)) for name, text in answers]
    times = CheckTimes(checks, limits)
    stack, models = checks._stack_checks, checks._models_job
    per_mode: dict[str, dict[str, list[float]]] = {m: collections.defaultdict(list) for m in ("before", "after")}
    outcome: dict[str, list[str]] = {}

    def before():
        checks._stack_checks, checks._models_job = (lambda artifacts: []), (lambda *a: None)
        try:
            return session_run(checks, answers, None, per_mode["before"])
        finally:
            checks._stack_checks, checks._models_job = stack, models

    for mode, fn in (("before", before), ("after", lambda: session_run(checks, answers, times, per_mode["after"]))):
        outcome[mode] = fn()                        # warm-up: imports, first connections (not counted)
        per_mode[mode].clear()
    times.seconds.clear()
    for _ in range(args.runs):
        for mode, fn in (("before", before), ("after", lambda: session_run(checks, answers, times,
                                                                          per_mode["after"]))):
            outcome[mode] = fn()

    print(f"\nAll checks per answer (ms: median, min, max){'':14s}rows")
    for i, (name, _, _) in enumerate(answers):
        for mode in ("before", "after"):
            print(f"  design {name} {mode:6s} {ms_columns(per_mode[mode][name])}   {outcome[mode][i]}")
    for mode in ("before", "after"):
        totals = [sum(run) for run in zip(*(per_mode[mode][name] for name, _, _ in answers))]
        print(f"  four answers, {mode:6s} {ms_columns(totals)}")

    print("\nEach check, after (ms: median, min, max)")
    for name, _, _ in answers:
        print(f"  design {name}")
        for check, seconds in times.seconds[name].items():
            print(f"    {check[:58]:58s} {ms_columns(seconds)}")

    print("\nEach family alone, run(sql=False) on a sample (ms: median, min, max)")
    for label, text in SAMPLES.items():
        arts = extract(text)
        print(f"  {label:42s} {ms_columns(samples(lambda: checks.run(arts, answer_text=text, sql=False), args.runs))}")
        if label.startswith("Prisma"):          # the parse is kept per text: the figure above is a cache hit
            from agentnb.checks import prisma

            def cold():
                prisma._parsed.clear()
                checks.run(arts, answer_text=text, sql=False)

            print(f"  {'  the same, parser run each time':42s} {ms_columns(samples(cold, args.runs))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
