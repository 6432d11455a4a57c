"""Benchmark: `--queries FILE` (an application's workload) vs sqlglot's bare parse of the same file.

Inputs: a generated application log of `--lines N` lines (default 10,000 50,000 100,000) over a
seeded schema of `--tables` tables (parents and item-collection children): SELECT by key, by
foreign key with ORDER BY/LIMIT, by status with a range, LIKE prefixes, parent-child JOINs,
IN lists, aggregates, INSERT/UPDATE/DELETE, some over several lines, each with random literal
values, so most lines repeat a shape (the same statement but for its literals) with other values;
two distinct reads on every table of a `--wide N`-table schema (thousands of patterns against
thousands of guesses); and any SQL file passed with `--sql FILE` (sqlglot's tests/fixtures/optimizer/tpc-ds/tpc-ds.sql
and tpc-h/tpc-h.sql: fetch tobymao/sqlglot; they are not kept in this repo; their `# ...`
directive lines are dropped: each query is there as written and as sqlglot's optimizer outputs it).

For every input, in the same run and process, CPU seconds (`time.process_time`: what the other
processes of a shared machine do not inflate):
  * queries — what `model init --queries` adds to seeding: `seed(ddl, queries=FILE)` minus
              `seed(ddl)` (read, split, shapes, one parse per shape, patterns, report, YAML),
  * parse   — the baseline: sqlglot parsing every statement of the file one by one (our
              splitter's statements, so both see the same input),
and the ratio queries / parse, the microseconds per line and their growth against the first size
(a linear reader keeps the per-line time flat).

    .venv/bin/python bench/queries.py [--lines 10000 50000 100000] [--sql tpc-ds.sql ...]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlglot
from sqlglot.errors import ErrorLevel

from modeling.importers._seed import seed
from modeling.importers.queries import plain_statements


def app_ddl(tables: int) -> str:
    """Even tables are roots keyed by their id; odd ones are their children (item collections)."""
    out = []
    for i in range(tables):
        cols = [
            f"t{i}_id bigint NOT NULL",
            "status text NOT NULL",
            "name text",
            "created_at timestamptz NOT NULL",
            "amount numeric(12,2)",
        ]
        if i:
            cols.insert(0, f"t{i - 1}_id bigint NOT NULL REFERENCES t{i - 1}")
        key = f"t{i - 1}_id, t{i}_id" if i % 2 else f"t{i}_id"
        out.append(f"CREATE TABLE t{i} ({', '.join(cols)}, PRIMARY KEY ({key}));")
    return "\n".join(out) + "\n"


def app_queries(lines: int, tables: int, seed_: int = 1) -> str:
    r = random.Random(seed_)
    out: list[str] = []
    n = 0
    while n < lines:
        i = r.randrange(1, tables)
        v = r.randrange(10**6)
        q = [
            f"SELECT * FROM t{i} WHERE t{i}_id = {v};",
            f"SELECT * FROM t{i} WHERE t{i - 1}_id = {v} ORDER BY created_at DESC LIMIT 20;",
            f"SELECT name, amount FROM t{i} WHERE status = 'S{v % 7}' AND created_at >= "
            f"'2024-01-{1 + v % 28:02d}' ORDER BY created_at LIMIT 50;",
            f"INSERT INTO t{i} (t{i}_id, status, name, created_at) VALUES ({v}, 'new', 'n{v}', now());",
            f"UPDATE t{i} SET status = 'paid', amount = {v / 100} WHERE t{i}_id = {v};",
            f"DELETE FROM t{i} WHERE t{i}_id = {v};",
            f"SELECT p.*, c.* FROM t{i - 1} p\n  JOIN t{i} c ON c.t{i - 1}_id = p.t{i - 1}_id\n"
            f" WHERE p.t{i - 1}_id = {v};",
            f"SELECT * FROM t{i} WHERE status IN ('a', 'b{v % 3}') ORDER BY created_at LIMIT 10;",
            f"SELECT count(*) FROM t{i} WHERE status = 'x{v}';",
            f"SELECT *\n  FROM t{i}\n WHERE name LIKE 'ab{v % 5}%' AND status = 'ok';",
        ][r.randrange(10)]
        out.append(q)
        n += q.count("\n") + 1
    return "\n".join(out) + "\n"


def wide_queries(tables: int) -> str:
    """Two distinct reads per table of a `tables`-table schema: thousands of patterns that each
    refine (or add to) the schema's guesses."""
    out = []
    for i in range(1, tables):
        out.append(f"SELECT * FROM t{i} WHERE t{i - 1}_id = 1 ORDER BY created_at DESC LIMIT 20;")
        out.append(f"SELECT * FROM t{i} WHERE status = 'x' AND created_at > '2024-01-01';")
    return "\n".join(out) + "\n"


def bare_parse(text: str) -> int:
    ok = 0
    for _, sql in plain_statements(text):
        try:
            sqlglot.parse_one(sql, read="postgres", error_level=ErrorLevel.IGNORE)
            ok += 1
        except Exception:  # sqlglot raises several types on what it cannot read; we only time it
            pass
    return ok


def cpu(fn: object) -> tuple[float, object]:
    t0 = time.process_time()
    out = fn()  # type: ignore[operator]
    return time.process_time() - t0, out


def measure(ddl: Path, queries: Path, out: Path) -> dict[str, float]:
    text = queries.read_text(encoding="utf-8", errors="replace")
    seed(ddl=ddl, output=out)  # warm: the first call pays for imports and caches
    base, _ = cpu(lambda: seed(ddl=ddl, output=out))
    total, outcome = cpu(lambda: seed(ddl=ddl, queries=queries, output=out))
    parse, _ = cpu(lambda: bare_parse(text))
    q = outcome.report.get("queries", {})  # type: ignore[attr-defined]
    return {
        "lines": text.count("\n") + 1,
        "statements": q.get("statements", 0),
        "shapes": q.get("shapes", 0),
        "patterns": q.get("patterns", 0),
        "queries": max(total - base, 0.0),
        "parse": parse,
    }


def row(name: str, m: dict[str, float], first_per_line: float | None) -> str:
    per_line = m["queries"] / m["lines"] * 1e6
    growth = f"{per_line / first_per_line:6.2f}x" if first_per_line else "      -"
    return (
        f"{name:<22} {m['lines']:>9,.0f} {m['statements']:>9,.0f} {m['shapes']:>7,.0f} "
        f"{m['patterns']:>6,.0f} {m['queries']:>9.2f} {m['parse']:>8.2f} "
        f"{m['queries'] / m['parse'] if m['parse'] else 0:>6.2f} {per_line:>8.1f} {growth}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=int, nargs="*", default=[10_000, 50_000, 100_000])
    ap.add_argument("--tables", type=int, default=12)
    ap.add_argument("--sql", type=Path, nargs="*", default=[], help="more query files (TPC-DS)")
    ap.add_argument(
        "--wide", type=int, nargs="*", default=[2000], help="schemas of N tables, 2 reads each"
    )
    args = ap.parse_args()
    print(
        f"{'input':<22} {'lines':>9} {'stmts':>9} {'shapes':>7} {'pats':>6} "
        f"{'queries s':>9} {'parse s':>8} {'ratio':>6} {'us/line':>8} growth"
    )
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp:
        work = Path(tmp)
        ddl = work / "app.sql"
        ddl.write_text(app_ddl(args.tables), encoding="utf-8")
        out = work / "model.yaml"
        first: float | None = None
        for n in args.lines:
            q = work / f"q{n}.sql"
            q.write_text(app_queries(n, args.tables), encoding="utf-8")
            m = measure(ddl, q, out)
            print(row(f"app log {n:,}", m, first), flush=True)
            first = first or m["queries"] / m["lines"] * 1e6
        for n in args.wide:
            wide = work / f"wide{n}.sql"
            wide.write_text(app_ddl(n), encoding="utf-8")
            q = work / f"wide{n}-queries.sql"
            q.write_text(wide_queries(n), encoding="utf-8")
            print(row(f"{n:,} tables, 2 reads each"[:22], measure(wide, q, out), None), flush=True)
        for path in args.sql:
            if not path.is_file():
                sys.exit(f"{path}: not a file")
            # sqlglot's fixtures hold `# execute: true` lines (directives of its test runner,
            # not SQL: a statement starting with one fails at once, parsing nothing)
            text = path.read_text(encoding="utf-8", errors="replace")
            clean = work / path.name
            clean.write_text(
                "".join(line for line in text.splitlines(True) if not line.startswith("#")),
                encoding="utf-8",
            )
            print(row(path.name[:22], measure(ddl, clean, out), None), flush=True)
    print(
        "queries: CPU s that --queries adds to seeding; parse: sqlglot alone on the same "
        "statements; growth: us/line against the first size (1.00x = linear)"
    )


if __name__ == "__main__":
    main()
