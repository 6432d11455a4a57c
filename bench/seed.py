"""Benchmark: seeding each shared DDL file vs sqlglot's bare parse of the same file.

For every file in ../shared/ddl/ it measures, in the same run and process:
  * seed  — `read_ddl` + `catalog_to_spec` + YAML dump (what `model init --from-ddl` does),
  * parse — sqlglot parsing the same statements one by one (our splitter's statements, so both
            see the same input; statements sqlglot rejects still cost their failed attempt),
and prints the median of N runs of each and the ratio seed / parse. A ratio well above 1 means
seeding costs more than merely parsing the file would; below 1, it is cheaper.

    .venv/bin/python bench/seed.py [--runs 5]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    import logging

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" noise
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
