"""Cost of the AsyncAPI and MongoDB checks: the first call in a fresh process (imports jsonschema; on
this machine its optional rfc3987-syntax builds parsers at import), then warm calls on a small document,
then on documents near the 500,000-character bound. Prints figures.

    python bench/bench_event_checks.py [--runs 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from timing import ms_columns, samples

REPO = Path(__file__).resolve().parents[1]
CHAT = """```yaml
asyncapi: 3.0.0
info: {title: Chat, version: 1.0.0}
channels:
  userSignedUp:
    address: user/signedup
    messages:
      UserSignedUp: {$ref: '#/components/messages/UserSignedUp'}
operations:
  onUserSignedUp:
    action: receive
    channel: {$ref: '#/channels/userSignedUp'}
components:
  messages:
    UserSignedUp:
      payload: {type: object, properties: {email: {type: string}}}
      examples: [{payload: {email: ada@example.com}}]
```
"""
SHELL = """```mongosh
db.createCollection("users", {validator: {$jsonSchema: {bsonType: "object", required: ["email"],
  properties: {_id: {bsonType: "objectId"}, email: {bsonType: "string"}}, additionalProperties: false}}});
db.users.createIndex({email: 1}, {unique: true});
db.sessions.createIndex({createdAt: 1}, {expireAfterSeconds: 3600});
```
"""
BIG_ASYNCAPI = ("```yaml\nasyncapi: 3.0.0\ninfo: {title: x, version: '1'}\nchannels:\n"
                + "".join(f"  c{i}:\n    address: a/{i}\n    description: d\n" for i in range(8000)) + "```\n")
BIG_MONGO = "```mongosh\n" + "db.x.createIndex({a: 1, b: -1}, {unique: true});\n" * 9000 + "```\n"
COLD = ("import time, sys\nsys.path.insert(0, %r)\nfrom agentnb import extract\nfrom agentnb.checks.asyncapi import "
        "check_asyncapi\narts = extract(%r)\nt = time.perf_counter()\ncheck_asyncapi(arts)\n"
        "print(time.perf_counter() - t)\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from agentnb.artifacts import extract
    from agentnb.checks.asyncapi import check_asyncapi
    from agentnb.checks.mongodb import check_mongodb

    colds = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", COLD % (str(REPO), CHAT)], capture_output=True, text=True,
                              check=True)
        colds.append(float(done.stdout.strip()))
    print(f"{'ms':<52} {'median':>9} {'min':>9} {'max':>9}")
    print(f"{'AsyncAPI, first call in a fresh process':<52} {ms_columns(colds)}")
    for label, check, text in (("AsyncAPI, small document (3 rows)", check_asyncapi, CHAT),
                               ("MongoDB, mongosh script (validator + 2 indexes)", check_mongodb, SHELL),
                               (f"AsyncAPI, {len(BIG_ASYNCAPI):,} characters", check_asyncapi, BIG_ASYNCAPI),
                               (f"MongoDB, {len(BIG_MONGO):,} characters", check_mongodb, BIG_MONGO)):
        arts = extract(text)
        start = time.perf_counter()
        rows = check(arts)
        assert rows and all(r.status != "failed" for r in rows), [(r.name, r.message) for r in rows]
        runs = args.runs if time.perf_counter() - start < 1 else max(1, args.runs // 2)
        print(f"{label:<52} {ms_columns(samples(lambda: check(arts), runs))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
