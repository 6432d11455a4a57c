"""Benchmark: seeding each DDL file vs sqlglot's bare parse of the same file.

Inputs: every file in ../shared/ddl/; real dumps passed with `--dumps PATH` (files or folders
of .sql: the largest measured so far are Rails structure.sql files such as getlago/lago-api's,
138 tables / 2,700 statements, not kept in this repo for their licences); and a generated
pg_dump-shaped schema of `--tables N` tables (default 600: sequences, keys, foreign keys,
indexes, comments, a partitioned table per 50), so the hundreds-of-tables case is always there.
For every input it measures, in the same run and process:
  * seed  — `read_ddl` + `catalog_to_spec` + YAML dump (what `model init --from-ddl` does),
  * parse — sqlglot parsing the same statements one by one (our splitter's statements, so both
            see the same input; statements sqlglot rejects still cost their failed attempt),
and prints the median of N runs of each and the ratio seed / parse. A ratio well above 1 means
seeding costs more than merely parsing the file would; below 1, it is cheaper.

    .venv/bin/python bench/seed.py [--runs 5] [--tables 600] [--dumps PATH ...]

`--chain 5000 20000 50000` seeds instead a synthetic dump of that many tables, each with a
foreign key to the one before (the shape that made seeding superlinear, issue 18). Per size,
each step runs in its own process (so its peak RSS is its own) and the table gives its wall
seconds, CPU seconds (user + sys) and peak RSS:
  * parse — the baseline: sqlglot parsing the same statements one by one,
  * seed  — read_ddl + catalog_to_spec + YAML (what init does before its self-check), with the
            CPU split read / spec / YAML, CPU microseconds per table and its growth against the
            first size (a linear seed keeps the per-table time flat),
  * init  — the whole `model init --from-ddl FILE -o DIR/model.yaml`, self-check included
            (from 1,000 entities it runs in a forked child beside the YAML text: the CPU
            column sums both processes, the wall shows the overlap on an idle machine);
and the ratios seed / parse, init / parse and init / seed of the same run, of CPU seconds (what
the other processes of a shared machine do not inflate; the wall seconds are printed beside).

    .venv/bin/python bench/seed.py --chain 5000 20000 50000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
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


def synthetic_dump(tables: int) -> str:
    """A pg_dump-shaped schema of `tables` tables, deterministic: what a large Rails or
    Django application's `structure.sql` holds, per table."""
    out = ["SET statement_timeout = 0;", "CREATE TYPE public.state AS ENUM ('new', 'done');"]
    for n in range(tables):
        t = f"t{n:04d}"
        ref = f"t{n // 2:04d}" if n else None
        partitioned = n % 50 == 49
        cols = [
            "    id bigint NOT NULL",
            "    name character varying(255) NOT NULL",
            "    state public.state DEFAULT 'new'::public.state NOT NULL",
            "    amount numeric(12,2)",
            "    payload jsonb",
            "    created_at timestamp(6) without time zone NOT NULL",
            "    deleted_at timestamp(6) without time zone DEFAULT NULL::timestamp without time zone",
        ]
        if ref:
            cols.append(f"    {ref}_id bigint")
        tail = " PARTITION BY RANGE (created_at)" if partitioned else ""
        out.append(f"CREATE TABLE public.{t} (\n" + ",\n".join(cols) + f"\n){tail};")
        out.append(f"COMMENT ON TABLE public.{t} IS 'table {n}';")
        if partitioned:
            for y in (2024, 2025):
                out.append(
                    f"CREATE TABLE public.{t}_{y} PARTITION OF public.{t} "
                    f"FOR VALUES FROM ('{y}-01-01') TO ('{y + 1}-01-01');"
                )
        else:
            out.append(
                f"CREATE SEQUENCE public.{t}_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE "
                "NO MAXVALUE CACHE 1;"
            )
            out.append(f"ALTER SEQUENCE public.{t}_id_seq OWNED BY public.{t}.id;")
            out.append(
                f"ALTER TABLE ONLY public.{t} ALTER COLUMN id SET DEFAULT "
                f"nextval('public.{t}_id_seq'::regclass);"
            )
        pk = "(id, created_at)" if partitioned else "(id)"
        out.append(f"ALTER TABLE ONLY public.{t} ADD CONSTRAINT {t}_pkey PRIMARY KEY {pk};")
        out.append(f"CREATE INDEX index_{t}_on_name ON public.{t} USING btree (name);")
        out.append(
            f"CREATE INDEX index_{t}_on_state_created ON public.{t} (state, created_at DESC);"
        )
        if ref:
            out.append(
                f"ALTER TABLE ONLY public.{t} ADD CONSTRAINT fk_{t}_{ref} FOREIGN KEY ({ref}_id) "
                f"REFERENCES public.{ref}(id);"
            )
    return "\n".join(out) + "\n"


def inputs(tables: int, dumps: list[Path]) -> list[tuple[str, str]]:
    found = sorted(shared_ddl().glob("*.sql"))
    for d in dumps:
        found += sorted(d.glob("*.sql")) if d.is_dir() else [d]
    named = [(p.name, p.read_text(encoding="utf-8")) for p in found]
    if tables > 0:
        named.append((f"synthetic-{tables}-tables.sql", synthetic_dump(tables)))
    return named


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


def _run(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MB) of one child process, and its
    stdout; a failure stops the bench with the child's stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        w0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - w0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{err.read().decode()}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def _child(step: str, path: Path) -> None:
    """One step of `--chain` in this process: prints its CPU split as JSON."""
    import logging

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    text = path.read_text(encoding="utf-8")
    t0 = time.process_time()
    if step == "parse":
        bare_parse(text)
        print(json.dumps({"cpu": time.process_time() - t0}))
        return
    catalog = read_ddl(text, path.name).catalog
    t1 = time.process_time()
    seeded = catalog_to_spec(catalog, model_name="bench")
    t2 = time.process_time()
    dump_yaml(seeded.doc)
    t3 = time.process_time()
    print(json.dumps({"read": t1 - t0, "spec": t2 - t1, "yaml": t3 - t2}))


def chain(sizes: list[int]) -> None:
    """Per size: parse (the baseline), seed and the whole `model init`, each in a child process
    (wall s, CPU s, peak RSS MB), the seed's CPU split and growth, and the ratios."""
    me = str(Path(__file__).resolve())
    print(
        f"{'tables':>7} {'MB':>5} | {'parse wall':>10} {'cpu':>6} {'MB':>6} | {'seed wall':>9} "
        f"{'cpu':>6} {'MB':>6} {'read':>5} {'spec':>5} {'yaml':>5} {'us/tbl':>6} {'growth':>6} | "
        f"{'init wall':>9} {'cpu':>6} {'MB':>6} | {'seed/parse':>10} {'init/parse':>10} "
        f"{'init/seed':>9} (cpu)"
    )
    first: float | None = None
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            ddl = Path(tmp) / f"chain{n}.sql"
            ddl.write_text(chain_ddl(n), encoding="utf-8")
            mb = ddl.stat().st_size / 1e6
            pw, pc, pm, _ = _run([sys.executable, me, "--child", "parse", str(ddl)])
            sw, sc, sm, out = _run([sys.executable, me, "--child", "seed", str(ddl)])
            split = json.loads(out)
            model = Path(tmp) / "out" / "model.yaml"
            init = [sys.executable, "-m", "modeling.cli", "init", "--from-ddl", str(ddl)]
            iw, ic, im, _ = _run([*init, "-o", str(model)])
        per = (split["read"] + split["spec"] + split["yaml"]) / n * 1e6
        first = first or per
        print(
            f"{n:>7} {mb:5.1f} | {pw:10.1f} {pc:6.1f} {pm:6.0f} | {sw:9.1f} {sc:6.1f} {sm:6.0f} "
            f"{split['read']:5.1f} {split['spec']:5.1f} {split['yaml']:5.1f} {per:6.0f} "
            f"{per / first:5.2f}x | {iw:9.1f} {ic:6.1f} {im:6.0f} | {sc / pc:10.2f} "
            f"{ic / pc:10.2f} {ic / sc:9.2f}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tables", type=int, default=600, help="generated schema size (0: none)")
    ap.add_argument("--dumps", type=Path, nargs="*", default=[], help="more .sql files/folders")
    ap.add_argument("--chain", type=int, nargs="+", metavar="TABLES")
    ap.add_argument("--child", nargs=2, metavar=("STEP", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return
    import logging

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" noise
    if args.chain:
        chain(args.chain)
        return
    print(
        f"{'file':36} {'KB':>6} {'stmts':>6} {'tables':>6} {'seed ms':>9} {'parse ms':>9} "
        f"{'seed/parse':>10}"
    )
    for name, text in inputs(args.tables, args.dumps):
        n = sum(1 for s in split_statements(text) if s.kind == "sql")
        tables = len(read_ddl(text, name).catalog.data_tables())  # also the warm-up
        t_seed = median_seconds(lambda text=text, name=name: seed(text, name), args.runs)
        t_parse = median_seconds(lambda text=text: bare_parse(text), args.runs)
        print(
            f"{name[:36]:36} {len(text) / 1024:6.0f} {n:6d} {tables:6d} {t_seed * 1000:9.1f} "
            f"{t_parse * 1000:9.1f} {t_seed / t_parse:10.2f}"
        )


if __name__ == "__main__":
    main()
