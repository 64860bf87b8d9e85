"""Time the schema path on a generated 30-table PostgreSQL schema: lower, load into DuckDB, read the
catalog, Mermaid, SVG.

    /work/venv/bin/python bench/bench_schema.py [--tables 30] [--repeat 20] [--svg out.svg]

Prints the median of each step over the repeats (a fresh DuckDB connection each time) and the total.
"""

from __future__ import annotations

import argparse
import statistics
import time


def generate(n_tables: int = 30) -> str:
    """A typical backend schema: identity keys, enums, JSONB, arrays, partial and GIN indexes,
    cascades, a trigger, ALTER TABLE ADD CONSTRAINT, comments."""
    parts = ["CREATE EXTENSION IF NOT EXISTS citext;",
             "CREATE TYPE status AS ENUM ('draft', 'active', 'archived');",
             "CREATE TYPE priority AS ENUM ('low', 'normal', 'high');",
             "CREATE TABLE accounts (\n  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
             "  email CITEXT NOT NULL UNIQUE,\n  created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);"]
    names = ["accounts"]
    for i in range(1, n_tables):
        name = f"entity_{i:02d}"
        parent = names[(i - 1) // 2]           # a tree: every table references an earlier one
        second = names[i // 3] if i % 4 == 0 and i // 3 != (i - 1) // 2 else None
        cols = [
            "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            f"  {parent}_id BIGINT NOT NULL REFERENCES {parent}(id) ON DELETE CASCADE",
            "  name TEXT NOT NULL CHECK (length(name) > 0)",
            "  status status NOT NULL DEFAULT 'draft'",
            "  tags TEXT[] NOT NULL DEFAULT '{}'",
            "  attributes JSONB NOT NULL DEFAULT '{}'::jsonb",
            "  amount NUMERIC(12,2)",
            "  created_at TIMESTAMPTZ NOT NULL DEFAULT now()",
            "  updated_at TIMESTAMPTZ",
        ]
        if second:
            cols.append(f"  {second}_id BIGINT")
        parts.append(f"CREATE TABLE {name} (\n" + ",\n".join(cols) + "\n);")
        if second:
            parts.append(f"ALTER TABLE {name} ADD CONSTRAINT {name}_{second}_fk FOREIGN KEY ({second}_id) "
                         f"REFERENCES {second}(id) ON DELETE SET NULL;")
        parts.append(f"CREATE INDEX {name}_{parent}_idx ON {name} ({parent}_id);")
        parts.append(f"CREATE INDEX {name}_active_idx ON {name} (created_at) WHERE status = 'active';")
        parts.append(f"CREATE INDEX {name}_attrs_idx ON {name} USING gin (attributes);")
        parts.append(f"COMMENT ON TABLE {name} IS 'Generated table {i}';")
        names.append(name)
    parts.append("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "NEW.updated_at := now(); RETURN NEW; END $$;")
    parts.append("CREATE TRIGGER entity_01_touch BEFORE UPDATE ON entity_01 FOR EACH ROW "
                 "EXECUTE FUNCTION touch();")
    return "\n".join(parts) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--svg", help="write the SVG here")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import duckdb  # noqa: F401  (import costs reported apart: paid once per kernel)
    import pglast  # noqa: F401
    from agentnb.checks import duckdb as duckschema
    from agentnb.render import erd
    import_ms = (time.perf_counter() - t0) * 1000

    ddl = generate(args.tables)
    steps: dict[str, list[float]] = {k: [] for k in ("lower", "load", "catalog", "mermaid", "svg")}
    result = None
    for _ in range(args.repeat + 1):           # the first run warms caches and is discarded
        times = {}
        t = time.perf_counter()
        lowered = duckschema.lower(ddl)
        times["lower"] = time.perf_counter() - t
        con = duckschema.connect()
        t = time.perf_counter()
        failures = duckschema.execute(con, lowered)      # one transaction, one thread (see execute)
        assert not failures, failures
        times["load"] = time.perf_counter() - t
        t = time.perf_counter()
        schema = duckschema.read_schema(con)
        times["catalog"] = time.perf_counter() - t
        t = time.perf_counter()
        erd.mermaid(schema)
        times["mermaid"] = time.perf_counter() - t
        t = time.perf_counter()
        picture = erd.svg(schema)
        times["svg"] = time.perf_counter() - t
        con.close()
        if result is None:
            result = (lowered, schema, picture)
            continue
        for k, v in times.items():
            steps[k].append(v * 1000)
    lowered, schema, picture = result
    print(f"{args.tables} tables, {lowered.source_count} source statements, "
          f"{len(lowered.statements)} lowered, {len(lowered.changes)} lowerings; "
          f"imports {import_ms:.0f} ms (once per kernel)")
    total = 0.0
    for k, v in steps.items():
        med = statistics.median(v)
        total += med
        print(f"  {k:8s} {med:7.2f} ms  (min {min(v):.2f}, max {max(v):.2f})")
    print(f"  {'total':8s} {total:7.2f} ms  (goal: under 150 ms with extraction)")
    full = duckschema.load(ddl)
    print(f"  check: {full.check()}")
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(picture)


if __name__ == "__main__":
    main()
