"""How the check pipeline and the diagram grow with the schema (issue 11): pg_dump-style schemas of 10,
50, 200 and 500 tables, each stage timed, and the growth slope of each stage (log-log fit).

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_scale.py [--sizes 10,50,200,500] [--repeat 3]

The schema is what ``pg_dump --schema-only`` writes: tables with columns only, then owned sequences
(``CREATE SEQUENCE``, ``ALTER SEQUENCE ... OWNED BY``, ``ALTER TABLE ONLY ... SET DEFAULT nextval``),
primary keys and foreign keys as ``ALTER TABLE ONLY ... ADD CONSTRAINT``, ``USING btree`` indexes, and
range-partitioned tables attached with ``ALTER TABLE ONLY ... ATTACH PARTITION``; about 1.7 foreign
keys per table. Stages: extract (the answer's Markdown into artifacts), syntax (pglast), DuckDB (lower
and load), PostgreSQL (the schema check on a real server: agentnb's own throwaway one when
AGENTNB_POSTGRES_URL is unset) and diagram (the SVG). Each figure is the best of ``--repeat`` runs
(more for a stage of milliseconds, see ``_best``), each stage timed cold.
Goal at 500 tables: checks (syntax + DuckDB + PostgreSQL) under 3 s, diagram under 0.3 s, every slope
under 1.2.
"""

from __future__ import annotations

import argparse
import math
import random
import time


def generate(n_tables: int, seed: int = 11) -> str:
    """A pg_dump-style schema of ``n_tables`` tables (partitions count), deterministic for a seed."""
    rnd = random.Random(seed)
    tables, plain, body, seqs, keys, indexes, fks, attach = ([] for _ in range(8))
    i = 0
    while len(tables) < n_tables:
        i += 1
        name = f"t{i:03d}_" + rnd.choice(["orders", "items", "users", "events", "notes", "tags", "rates"])
        partitioned = i % 25 == 0 and n_tables - len(tables) >= 3
        near = plain[-40:]         # keys point at ordinary tables, mostly recent ones
        refs = rnd.sample(near, min(len(near), rnd.choice([1, 1, 2, 2, 3]))) if near else []
        cols = ["    id bigint NOT NULL"]
        cols += [f"    {r}_id bigint" + (" NOT NULL" if n % 2 == 0 else "") for n, r in enumerate(refs)]
        cols += ["    name character varying(120) NOT NULL",
                 "    amount numeric(12,2)",
                 "    payload jsonb DEFAULT '{}'::jsonb NOT NULL",
                 "    created_at timestamp with time zone DEFAULT now() NOT NULL"]
        tail = " PARTITION BY RANGE (created_at)" if partitioned else ""
        body.append(f"CREATE TABLE public.{name} (\n" + ",\n".join(cols) + f"\n){tail};\n")
        tables.append(name)
        if not partitioned:
            plain.append(name)
        pk = "(id, created_at)" if partitioned else "(id)"
        seqs.append(f"CREATE SEQUENCE public.{name}_id_seq\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n"
                    f"    NO MAXVALUE\n    CACHE 1;\n\nALTER SEQUENCE public.{name}_id_seq OWNED BY public.{name}.id;\n")
        seqs.append(f"ALTER TABLE ONLY public.{name} ALTER COLUMN id SET DEFAULT "
                    f"nextval('public.{name}_id_seq'::regclass);\n")
        keys.append(f"ALTER TABLE ONLY public.{name}\n    ADD CONSTRAINT {name}_pkey PRIMARY KEY {pk};\n")
        indexes.append(f"CREATE INDEX {name}_created_at_idx ON public.{name} USING btree (created_at);\n")
        for r in refs:
            if not partitioned:
                indexes.append(f"CREATE INDEX {name}_{r}_id_idx ON public.{name} USING btree ({r}_id);\n")
                fks.append(f"ALTER TABLE ONLY public.{name}\n    ADD CONSTRAINT {name}_{r}_id_fkey FOREIGN KEY "
                           f"({r}_id) REFERENCES public.{r}(id);\n")
        if partitioned:
            for year in (2025, 2026):
                part = f"{name}_{year}"
                body.append(f"CREATE TABLE public.{part} (\n" + ",\n".join(cols) + "\n);\n")
                attach.append(f"ALTER TABLE ONLY public.{name} ATTACH PARTITION public.{part} FOR VALUES FROM "
                              f"('{year}-01-01 00:00:00+00') TO ('{year + 1}-01-01 00:00:00+00');\n")
                tables.append(part)
    head = ("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\n\n"
            "SET default_tablespace = '';\n\n")
    return head + "\n".join(body + attach + seqs + keys + indexes + fks)


def _best(fn, repeat: int) -> tuple[float, object]:
    """The best of ``repeat`` runs; a stage that takes milliseconds runs until about half a second is
    spent (at most 50 runs): on a shared machine the best of three such runs is mostly noise, and the
    slope between two noisy figures more so."""
    best, value, spent, runs = math.inf, None, 0.0, 0
    while runs < repeat or (spent < 0.5 and runs < 50):
        t0 = time.perf_counter()
        value = fn()
        took = time.perf_counter() - t0
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best, value


def _slope(xs: list[int], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-6)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,200,500")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    import agentnb
    from agentnb.checks import duckdb as duck
    from agentnb.checks import pgserver, postgres
    from agentnb.checks import sql as sqlcheck
    from agentnb.checks.sql import check_syntax
    from agentnb.render import erd

    try:
        server = pgserver.get_server()
    except pgserver.NoPostgresError as err:
        server = None
        print(f"no PostgreSQL: {err}")
    stages = ["extract", "syntax", "duckdb", "postgres", "diagram"]
    figures: dict[str, list[float]] = {s: [] for s in stages}
    print(f"{'tables':>6} {'FKs':>5} {'KB':>6} " + " ".join(f"{s:>9}" for s in stages) + f" {'checks':>8}")
    for n in sizes:
        ddl = generate(n)
        answer = f"The schema.\n\n```sql\n-- schema.sql\n{ddl}```\n"
        row = {}
        row["extract"], _ = _best(lambda: agentnb.extract(answer), args.repeat)
        # each stage cold: the syntax check keeps its cut of the script for the next check, which a
        # second run of the same stage must not find
        row["syntax"], result = _best(lambda: (sqlcheck.forget(), check_syntax(ddl))[1], args.repeat)
        assert result.status == "passed", result.message

        def load():
            loaded = duck.load(ddl)
            loaded.con.close()
            return loaded

        row["duckdb"], loaded = _best(load, args.repeat)
        assert not loaded.failures, loaded.failures[:3]
        assert len(loaded.schema.tables) == n, (len(loaded.schema.tables), n)
        if server is not None:
            row["postgres"], (pg, schema) = _best(lambda: (sqlcheck.forget(), postgres.check_schema(ddl, server=server))[1],
                                                  args.repeat)
            assert pg.status == "passed", pg.message
        else:
            row["postgres"], schema = 0.0, loaded.schema
        row["diagram"], _ = _best(lambda: erd.svg(schema), args.repeat)
        for s in stages:
            figures[s].append(row[s])
        n_fks = sum(len(t.foreign_keys) for t in schema.tables)
        checks = row["syntax"] + row["duckdb"] + row["postgres"]
        print(f"{n:>6} {n_fks:>5} {len(ddl) // 1024:>6} " + " ".join(f"{row[s]:>8.3f}s" for s in stages)
              + f" {checks:>7.3f}s")
    if len(sizes) > 1:
        print("slope " + " " * 14 + " ".join(f"{_slope(sizes, figures[s]):>9.2f}" for s in stages)
              + "   (log-log least squares over every size)")
        a, b = sizes[-2], sizes[-1]
        print(f"slope {a}->{b}" + " " * (9 - len(f'{a}->{b}')) + " " * 5
              + " ".join(f"{math.log(figures[s][-1] / max(figures[s][-2], 1e-6)) / math.log(b / a):>9.2f}"
                         for s in stages))


if __name__ == "__main__":
    main()
