"""Hostile inputs that are not in this repository, through every entry point that reads them.

Run: .venv/bin/python bench/external_corpus.py [--regress DIR] [--sql FILE ...]
     [--naughty blns.json] [--workbench DIR] [--limit N]

- `--regress DIR`: PostgreSQL's regression SQL files (src/test/regress/sql/*.sql): each one as
  `init --from-ddl`, then validate, compile and cost on the model it seeds; and as `--queries`.
- `--sql FILE`: any SQL file (sqlglot's tests/fixtures/identity.sql, tpc-ds.sql, ...): the same,
  and every line of it as a model's `sql:` pattern.
- `--naughty blns.json`: the Big List of Naughty Strings: each string as a description, an enum
  value, a collation, a tag value, an attribute's `column:`, a table name, a quoted DDL
  identifier and comment, and a query line.
- `--validate-only`: stop each chain at validate (no compile, no cost).
- `--workbench DIR`: NoSQL Workbench exports (*.json): `import --from-workbench`, then validate,
  compile and cost.

Prints, per source: inputs, exit codes (0 / 1 / 2), tracebacks (any exception but the exit),
hangs (over 60 s) and the slowest input. Exit 1 when a traceback or a hang was seen.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SHOP_DDL = ROOT / "tests" / "fixtures" / "ddl" / "shop.sql"
HANG_SECONDS = 60
COMPILE = True  # --validate-only: no compile or cost (a quick pass over a large corpus)


@dataclass
class Tally:
    inputs: int = 0
    exits: Counter[int] = field(default_factory=Counter)
    tracebacks: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")

    def line(self, name: str) -> str:
        codes = " ".join(f"exit {c}: {n}" for c, n in sorted(self.exits.items()))
        return (
            f"{name:<28} {self.inputs:>6} runs  {codes:<40} tracebacks {len(self.tracebacks):>3}  "
            f"hangs {len(self.hangs)}  slowest {self.slowest[0]:.1f} s ({self.slowest[1][:60]})"
        )


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang


def invoke(tally: Tally, label: str, *args: Any) -> int | None:
    """Run `model ARGS`; count its exit code, a traceback or a hang."""
    from modeling.cli import app

    tally.inputs += 1
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    started = time.monotonic()
    try:
        result = CliRunner().invoke(app, [str(a) for a in args])
    except _Hang:
        tally.hangs.append(label)
        return None
    finally:
        signal.alarm(0)
    seconds = time.monotonic() - started
    if seconds > tally.slowest[0]:
        tally.slowest = (seconds, label)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tally.tracebacks.append(
            f"{label}: {' '.join(map(str, args))[:200]}\n"
            + "".join(traceback.format_exception(exc))[-1200:]
        )
        return None
    tally.exits[result.exit_code] += 1
    return result.exit_code


def seeded_model_chain(tally: Tally, label: str, model: Path, out: Path) -> None:
    """validate, compile and cost on a model an importer wrote."""
    if invoke(tally, f"{label} validate", "validate", model) == 0 and COMPILE:
        invoke(tally, f"{label} compile", "compile", model, "-o", out)
        invoke(tally, f"{label} cost", "cost", model, "--json")


def sql_files(tally: Tally, files: list[Path], work: Path) -> None:
    for i, path in enumerate(files):
        model = work / f"m{i}.yaml"
        if invoke(tally, path.name, "init", "--from-ddl", path, "-o", model) == 0:
            seeded_model_chain(tally, path.name, model, work / f"out{i}")
        shop = work / f"shop{i}.sql"
        shop.write_bytes(SHOP_DDL.read_bytes())
        queried = work / f"q{i}.yaml"
        code = invoke(
            tally, f"{path.name} queries", "init", "--from-ddl", shop, "--queries", path, "-o",
            queried,
        )  # fmt: skip
        if code == 0:
            invoke(tally, f"{path.name} queries validate", "validate", queried)


_PATTERN_MODEL = """model: shop
entities:
  Order:
    table: orders
    key: [id]
    attributes: {{id: integer, status: string, placed_at: datetime}}
access_patterns:
  p:
    sql: {sql}
"""


def sql_lines(tally: Tally, files: list[Path], work: Path, limit: int = 0) -> None:
    """Every statement line as a `sql:` pattern (one model per line, validated)."""
    for path in files:
        lines = path.read_text("utf-8", "replace").splitlines()
        for number, line in list(enumerate(lines, 1))[: limit or None]:
            if not line.strip() or line.lstrip().startswith("--"):
                continue
            model = work / "p.yaml"
            model.write_text(_PATTERN_MODEL.format(sql=json.dumps(line)), encoding="utf-8")
            invoke(tally, f"{path.name}:{number}", "validate", model)


def _naughty_models(s: str) -> Iterator[tuple[str, str]]:
    """One model holding the string in every free-text slot, and one with it as the table."""
    q = json.dumps(s)
    base = (
        "model: shop\nentities:\n  Order:\n    key: [id]\n    attributes:\n"
        "      id: integer\n{extra}access_patterns:\n  get: {{entity: Order, where: {{id: '='}}}}\n"
    )
    yield (
        "text slots",
        f"description: {q}\ntable: {{tags: {{team: {q}}}}}\n"
        + base.format(
            extra=f"      s: {{type: string, enum: [{q}], collation: {q}, column: {q}, "
            f"description: {q}}}\n"
        ),
    )
    yield (
        "table",
        base.format(extra="").replace("    key: [id]\n", f"    table: {q}\n    key: [id]\n"),
    )


def naughty(tally: Tally, strings: list[str], work: Path) -> None:
    for i, s in enumerate(strings):
        for where, text in _naughty_models(s):
            model = work / "n.yaml"
            model.write_text(text, encoding="utf-8", errors="surrogatepass")
            label = f"#{i} as {where}"
            if invoke(tally, label, "validate", model) == 0 and COMPILE:
                invoke(tally, label, "compile", model, "-o", work / "nout")
        ident = '"' + s.replace('"', '""') + '"'
        literal = "'" + s.replace("'", "''") + "'"
        ddl = work / "n.sql"
        ddl.write_text(
            f'CREATE TABLE {ident} (id bigint PRIMARY KEY, {ident.rstrip(chr(34))}2" text);\n'
            f"COMMENT ON TABLE {ident} IS {literal};\n",
            encoding="utf-8",
            errors="surrogatepass",
        )
        seeded = work / "n_seeded.yaml"
        seeded.unlink(missing_ok=True)
        if invoke(tally, f"#{i} as DDL", "init", "--from-ddl", ddl, "-o", seeded) == 0:
            seeded_model_chain(tally, f"#{i} seeded", seeded, work / "nseed")
        queries = work / "n_queries.sql"
        queries.write_text(s + "\n", encoding="utf-8", errors="surrogatepass")
        shop = work / "shop.sql"
        shop.write_bytes(SHOP_DDL.read_bytes())
        invoke(
            tally, f"#{i} as query", "init", "--from-ddl", shop, "--queries", queries, "-o",
            work / "nq.yaml",
        )  # fmt: skip


def workbench(tally: Tally, files: list[Path], work: Path) -> None:
    for i, path in enumerate(files):
        model = work / f"w{i}.yaml"
        if invoke(tally, path.name, "import", "--from-workbench", path, "-o", model) == 0:
            seeded_model_chain(tally, path.name, model, work / f"wout{i}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regress", type=Path)
    parser.add_argument("--sql", type=Path, nargs="*", default=[])
    parser.add_argument("--naughty", type=Path)
    parser.add_argument("--workbench", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="At most N inputs per source.")
    parser.add_argument("--validate-only", action="store_true", help="No compile or cost.")
    args = parser.parse_args()
    global COMPILE
    COMPILE = not args.validate_only
    cut = slice(None, args.limit or None)
    results: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="external-corpus-") as tmp:
        work = Path(tmp)
        if args.regress:
            results["postgres regress"] = t = Tally()
            sql_files(t, sorted(args.regress.glob("*.sql"))[cut], work)
            print(t.line("postgres regress"), flush=True)
        if args.sql:
            results["sql files"] = t = Tally()
            sql_files(t, args.sql, work)
            print(t.line("sql files"), flush=True)
            results["sql lines as sql:"] = t = Tally()
            sql_lines(t, args.sql, work, args.limit)
            print(t.line("sql lines as sql:"), flush=True)
        if args.naughty:
            results["naughty strings"] = t = Tally()
            naughty(t, json.loads(args.naughty.read_text("utf-8"))[cut], work)
            print(t.line("naughty strings"), flush=True)
        if args.workbench:
            results["workbench exports"] = t = Tally()
            workbench(t, sorted(args.workbench.glob("*.json"))[cut], work)
    print("--- totals")
    for name, tally in results.items():
        print(tally.line(name))
    bad = [(n, x) for n, t in results.items() for x in [*t.tracebacks, *t.hangs]]
    for name, text in bad:
        print(f"\n--- {name}: {text}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
