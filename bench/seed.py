"""Benchmark: seeding each shared DDL file vs sqlglot's bare parse of the same file.

For every file in ../shared/ddl/ it measures, in the same run and process:
  * seed  — `read_ddl` + `catalog_to_spec` + YAML dump (what `model init --from-ddl` does),
  * parse — sqlglot parsing the same statements one by one (our splitter's statements, so both
            see the same input; statements sqlglot rejects still cost their failed attempt),
and prints the median of N runs of each and the ratio seed / parse. A ratio well above 1 means
seeding costs more than merely parsing the file would; below 1, it is cheaper.

`--chain 5000 20000 50000` seeds instead a synthetic dump of that many tables, each with a
foreign key to the one before (the shape that made seeding superlinear, issue 18), once per
size, and prints read / spec / YAML seconds, microseconds per table and the growth against the
first size (a linear seed keeps the per-table time flat).

    .venv/bin/python bench/seed.py [--runs 5]
    .venv/bin/python bench/seed.py --chain 5000 20000 50000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot
from sqlglot.errors import ErrorLevel

from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.ddl import read_ddl
from modeling.pg.split import split_statements


def shared_ddl() -> Path:
    here = Path(__file__).resolve()
    for base in (here.parents[1].parent, here.parents[1]):
        d = base / "shared" / "ddl"
        if d.is_dir():
            return d
    sys.exit(f"shared DDL corpus not found beside {here.parents[1]}")


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def seed(text: str, name: str) -> str:
    catalog = read_ddl(text, name).catalog
    return dump_yaml(catalog_to_spec(catalog, model_name="bench").doc)


def bare_parse(text: str) -> int:
    ok = 0
    for st in split_statements(text):
        if st.kind != "sql":
            continue
        try:
            sqlglot.parse_one(st.text, read="postgres", error_level=ErrorLevel.IGNORE)
            ok += 1
        except Exception:  # sqlglot raises several types on what it cannot read; we only time it
            pass
    return ok


def chain_ddl(tables: int) -> str:
    """`tables` CREATE TABLEs as pg_dump writes them; each references the one before."""
    out = []
    for i in range(tables):
        cols = ["id bigint NOT NULL", "name text NOT NULL", "created_at timestamp with time zone"]
        if i:
            cols.append("parent_id bigint NOT NULL")
        out.append(f"CREATE TABLE public.t{i} (\n    " + ",\n    ".join(cols) + "\n);\n")
        out.append(f"ALTER TABLE ONLY public.t{i} ADD CONSTRAINT t{i}_pkey PRIMARY KEY (id);\n")
        if i:
            out.append(
                f"ALTER TABLE ONLY public.t{i} ADD CONSTRAINT t{i}_parent_fkey FOREIGN KEY "
                f"(parent_id) REFERENCES public.t{i - 1}(id);\n"
            )
    return "".join(out)


def chain(sizes: list[int]) -> None:
    print(
        f"{'tables':>7} {'MB':>6} {'read s':>8} {'spec s':>8} {'yaml s':>8} {'total s':>8} "
        f"{'us/table':>9} {'vs first':>9}"
    )
    first: float | None = None
    for n in sizes:
        text = chain_ddl(n)
        t0 = time.perf_counter()
        catalog = read_ddl(text, "chain.sql").catalog
        t1 = time.perf_counter()
        seeded = catalog_to_spec(catalog, model_name="bench")
        t2 = time.perf_counter()
        dump_yaml(seeded.doc)
        t3 = time.perf_counter()
        per = (t3 - t0) / n * 1e6
        first = first or per
        print(
            f"{n:>7} {len(text) / 1e6:6.1f} {t1 - t0:8.1f} {t2 - t1:8.1f} {t3 - t2:8.1f} "
            f"{t3 - t0:8.1f} {per:9.0f} {per / first:8.2f}x",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chain", type=int, nargs="+", metavar="TABLES")
    args = ap.parse_args()
    import logging

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" noise
    if args.chain:
        chain(args.chain)
        return
    print(f"{'file':32} {'KB':>6} {'stmts':>6} {'seed ms':>9} {'parse ms':>9} {'seed/parse':>10}")
    for path in sorted(shared_ddl().glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        n = sum(1 for s in split_statements(text) if s.kind == "sql")
        seed(text, path.name)  # warm-up: imports, tokenizer tables
        t_seed = median_seconds(lambda text=text, name=path.name: seed(text, name), args.runs)
        t_parse = median_seconds(lambda text=text: bare_parse(text), args.runs)
        print(
            f"{path.name:32} {len(text) / 1024:6.0f} {n:6d} {t_seed * 1000:9.1f} "
            f"{t_parse * 1000:9.1f} {t_seed / t_parse:10.2f}"
        )


if __name__ == "__main__":
    main()
