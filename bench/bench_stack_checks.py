"""Cost of the stack's checks (GraphQL, gRPC, Dockerfile, compose, Prisma, security): the code checks of the
design session's four answers without and with them, then each family on a small sample. Prints figures.

    python bench/bench_stack_checks.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
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






def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from agentnb import checks
    from agentnb.artifacts import extract

    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print(f"{'':44s} {'median':>9s} {'min':>9s} {'max':>9s}   (ms, {args.runs} runs)")
    stack = checks._stack_checks
    for path in sorted(ANSWERS.glob("0*.md")):
        text = path.read_text(encoding="utf-8")
        arts = extract(text)
        for label, patched in (("before", lambda artifacts: []), ("after", stack)):
            checks._stack_checks = patched
            try:
                figures = ms_columns(samples(lambda: checks.run(arts, answer_text=text, sql=False), args.runs))
            finally:
                checks._stack_checks = stack
            print(f"  design {path.stem} run(sql=False), {label:6s}            {figures}")
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
