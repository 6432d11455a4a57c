"""Real PostgreSQL schemas of other projects (not in this repository) through the whole user path.

Run: .venv/bin/python bench/real_dumps.py --dir DIR [--git MIRRORS] [--verify] [--demo]
     [--only NAME ...] [--trials N] [--rows N]

- `--dir DIR`: where the files are (DIR/<name>.sql); they are not committed here (licences),
  SOURCES records where each one comes from (repository, commit, paths) and its sha256.
- `--git MIRRORS`: first write DIR/<name>.sql from bare clones MIRRORS/<owner>+<name>/repo
  (`git show COMMIT:PATH`, the paths of a source concatenated in order).
- per source: `model init --from-ddl` -> `validate` -> `compile`; with `--verify`,
  `verify --postgres local --json` (the DDL on a throwaway PostgreSQL 15 as a non-superuser,
  DynamoDB Local); with `--demo`, `migrate demo --rows N` (plan, run, validate, audit).

Prints one row per source: tables in the DDL, entities and patterns seeded, CPU seconds of
init / validate / compile, their exit codes, error diagnostics in validate and compile, the
verify and demo results (with where PostgreSQL's schema came from), and tracebacks. Exit 1 when
a traceback was seen or a seeded model was rejected by our own validate or compile.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner


@dataclass(frozen=True)
class Source:
    name: str
    repo: str
    commit: str
    paths: tuple[str, ...]
    sha256: str  # of the paths concatenated in order
    note: str = ""
    pattern: str = ""  # instead of paths: every path at COMMIT matching it, in sorted order
    separator: bytes = b""  # between files (b"\n;\n" for migrations run one file at a time)


SOURCES = (
    Source(
        "omdb", "credativ/omdb-postgresql", "f11453034dc68276f1d5f7a77436f534c654b056",
        ("12-kind.sql", "13-schema.sql", "31-primary-keys.sql", "41-foreign-keys.sql"),
        "121599d545482a96df69bfa68ef0a579a00af36d0d71489db41ce3ef176e92c0",
        "keys and foreign keys added by ALTER TABLE in separate files",
    ),
    Source(
        "pagila", "devrimgunduz/pagila", "eddcfc4513dab4239ee1acbdf52beb1f5fcf50ac",
        ("pagila-schema.sql",),
        "071ee940a73c8f4fad2997185788065291607e2c55559e3747959e8275391536",
        "pg_dump: domains, enums, partitions, functions, triggers, views; PostgreSQL 18",
    ),
    Source(
        "supabase", "supabase/postgres", "7db7e1a9e34b9ffb9b0e3372ccf08eb4fa772f4b",
        ("migrations/schema-15.sql",),
        "6443a0611aae53031b648c0c777cc544656380382ca411899fe2c8f87650b316",
        "pg_dump of auth/storage schemas, extensions, event triggers",
    ),
    Source(
        "osm", "openstreetmap/openstreetmap-website", "9da0fa5ecbff8adc5e6e91c7cf22546755a91f77",
        ("db/structure.sql",),
        "daca3633ffcec2cdaab81c139ba9ac6e2ab4ddb738810e2ef04c903aa7e2db00",
        "Rails structure.sql: enums, plpgsql functions, composite keys",
    ),
    Source(
        "danbooru", "danbooru/danbooru", "06587d1f933502ae5d749c967787d44be3938846",
        ("db/structure.sql",),
        "9e3e90d35613c944a844f95b82c7c75f633e25c2198e455f9976aea8b2094ee1",
        "Rails structure.sql: trigram/GIN indexes, functions, views",
    ),
    Source(
        "gisia", "Aionrhine/gisia", "353d84d78361afe27a9b2642a2c3407585cfba7b",
        ("db/structure.sql",),
        "ab6452533ad4c3091d6098d6efd306798cd469a924d63abbc21a7637505aefcf",
        "a GitLab-derived structure.sql (gitlabhq's own is too large to fetch here)",
    ),
    Source(
        "lago", "getlago/lago-api", "1b1c24a6a6c321d7900b05906bf1b20f706c97c2",
        ("db/structure.sql",),
        "fb01cd6db17292846ca604807962524f19894a56f9d4013be7a65d36a8ab4317",
        "Rails structure.sql, 0.5 MB: enums, views, materialized views, functions",
    ),
    Source(
        "musicbrainz", "metabrainz/musicbrainz-server", "11cd769a5935c243a48455bc3a21158179170368",
        tuple(
            f"admin/sql/{f}.sql"
            for f in (
                "CreateCollations", "CreateTypes", "CreateTables", "CreatePrimaryKeys",
                "CreateFKConstraints",
            )
        ),
        "d87fbcb215812a9ae63f069204a9f94c3a0d4f7475c8258471da535288432c4c",
        "hand-written install scripts (psql \\set, BEGIN/COMMIT), 375 tables",
    ),
    Source(
        "adventureworks", "lorint/AdventureWorks-for-Postgres",
        "b37c060c3c3064b501cb479fe1085ed9141c2f66", ("install.sql",),
        "494e35184ab5923bc112a45db518f73c0a7def35efc0726229e6036c7b5a6cee",
        "psql script: five schemas, domains, \\copy of CSVs, DO blocks, views, comments",
    ),
    Source(
        "temporal", "temporalio/temporal", "6805caea59e35d0611ed96be69641b8d86bff11c",
        ("schema/postgresql/v12/temporal/schema.sql", "schema/postgresql/v12/visibility/schema.sql"),
        "f7fa3bf9d8e33365ea7b2df28ec6a3321cb45d25449ee3ce3c00cb2c378a6610",
        "hand-written: generated columns, tsvector, composite keys, bytea blobs",
    ),
    Source(
        "synapse", "matrix-org/synapse", "be65a8ec0195955c15fdb179c9158b187638e39a",
        ("synapse/storage/schema/main/full_schemas/72/full.sql.postgres",),
        "93ee08d4584d15a23b0cc08e903dfed50818f559e4a66642a756cc204fbb8d37",
        "pg_dump-style full schema, ~150 tables mostly without primary keys (unique indexes)",
    ),
    Source(
        "aed", "AfESG/AED-Platform", "059ebe14e1f5346de1f43bddf391ad5431e39d56",
        ("db/structure.sql",),
        "60f6aeced0e685f0d2b8e2ed5f361ee669203afd1eb6cda50d9e0eccca597a00",
        "Rails structure.sql, PostGIS-heavy (geometry columns, spatial views), many schemas",
    ),
    Source(
        "documenso", "documenso/documenso", "75330166cc00b29c14399bc2e391e4b4d8080c00", (),
        "3b43f8ed082c18a595e01364309c129f67046cf3d4fed826636469e580409372",
        "163 Prisma migrations in order: quoted CamelCase, enums altered, renames, drops",
        r"packages/prisma/migrations/[^/]+/migration\.sql", b"\n;\n",
    ),
    Source(
        "lemmy", "LemmyNet/lemmy", "439734dd638a2c06a2f907beab7dcf4646e88f86", (),
        "a7935d0137a3fd6d3ebb95cba3cc024fa16ce133833cb4929336f3bce9632dd4",
        "342 diesel migrations (up.sql) in order: ALTER/RENAME/DROP of tables, types, columns",
        r"migrations/[^/]+/up\.sql", b"\n;\n",
    ),
    Source(
        "chinook", "lerocha/chinook-database", "7f67772503d71ba90f19283c38e93923addb43fa",
        ("ChinookDatabase/DataSources/Chinook_PostgreSql.sql",),
        "e3fde5c1a5b51a2a91429a702c9ca6e69ba56e6c7f5e112724d70c3d03db695e",
        "schema plus 15k INSERT rows (unicode data), DROP/CREATE DATABASE, \\c",
    ),
    Source(
        "postgrest", "PostgREST/postgrest", "4834678902681402a56c490f29947826e7ed5308",
        ("test/spec/fixtures/schema.sql",),
        "83e4a8b02fbe6d791f5c255b5018ab30ff5ed93dbee5c08a3a1de3de531cd9c9",
        "test fixture: many schemas, quoted names with spaces/unicode, same names across schemas",
    ),
    Source(
        "postgrest_big", "PostgREST/postgrest", "4834678902681402a56c490f29947826e7ed5308",
        ("test/io/fixtures/big_schema.sql",),
        "93c5f44dc779c3294147c4ce3ac09e08204787ee6d1268bca04883890a917b01",
        "a large application's pg_dump (PostgREST's load-test fixture)",
    ),
    Source(
        "emanifest", "18F/e-manifest", "b201b7f57296ea282d728e55a89467a04660f3a2",
        ("db/structure.sql",),
        "d2da0fdb32c8b75e1bcc20d3ee0170882393902ca60d70fc1150d5859ae7c172",
        "small Rails structure.sql (jsonb, hstore)",
    ),
    Source(
        "zync", "3scale/zync", "6096e6424084997ff27dd043bd68c990090622f1",
        ("db/structure.sql",),
        "76670ac2690c7a310aab744c4dfdb89212418c41c7f82dd0fcb92e7de59ffa5d",
        "Rails structure.sql: que job queue functions, triggers",
    ),
)  # fmt: skip


@dataclass
class Row:
    name: str
    ddl_tables: int = 0
    entities: int = 0
    patterns: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # CPU seconds per step
    wall: dict[str, float] = field(default_factory=dict)  # wall seconds per step
    exits: dict[str, int | None] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # error diagnostics per step
    verify: str = "-"
    demo: str = "-"
    tracebacks: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        """Our own validate or compile refused the model our own init wrote."""
        return self.exits.get("init") == 0 and (
            any(self.exits.get(s) not in (0, None) for s in ("validate", "compile"))
            or any(self.errors.values())
        )


def fetch(mirrors: Path, out: Path) -> None:
    """DIR/<name>.sql from bare clones at the recorded commit; the sha256 must match."""
    out.mkdir(parents=True, exist_ok=True)
    for s in SOURCES:
        git_dir = mirrors / s.repo.replace("/", "+") / "repo"
        if not git_dir.is_dir():
            print(f"{s.name}: no clone at {git_dir}", file=sys.stderr)
            continue
        paths = s.paths
        if s.pattern:
            listed = subprocess.run(
                ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", s.commit],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.splitlines()
            paths = tuple(sorted(p for p in listed if re.fullmatch(s.pattern, p)))
        text = s.separator.join(
            subprocess.run(
                ["git", f"--git-dir={git_dir}", "show", f"{s.commit}:{p}"],
                check=True,
                capture_output=True,
            ).stdout
            for p in paths
        )
        (out / f"{s.name}.sql").write_bytes(text)


_ERROR_LINE = re.compile(r": error: |^error: ", re.M)


def _invoke(row: Row, step: str, *args: Any) -> tuple[int | None, str]:
    """`model ARGS` in this process: exit code (None on a traceback), output; CPU seconds."""
    from modeling.cli import app

    started, wall = time.process_time(), time.monotonic()
    result = CliRunner().invoke(app, [str(a) for a in args])
    row.seconds[step] = time.process_time() - started
    row.wall[step] = time.monotonic() - wall
    out = result.output
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        row.tracebacks.append(f"{step}: " + "".join(traceback.format_exception(exc))[-1500:])
        row.exits[step] = None
        return None, out
    row.exits[step] = result.exit_code
    row.errors[step] = len(_ERROR_LINE.findall(out))
    return result.exit_code, out


def _verify_summary(code: int | None, out: str) -> str:
    try:
        report = json.loads(out[out.index("{") :])
    except ValueError:
        last = [line for line in out.splitlines() if "error" in line.lower()]
        return f"exit {code}: {(last or ['?'])[0][:120]}"
    bad = [p["pattern"] for p in report["patterns"] if p["status"] != "ok"]
    where = "source DDL" if str(report.get("postgres", "")).startswith("source") else "generated"
    fallback = [n for n in report.get("notes", []) if "could not hold" in n]
    text = "ok" if report["ok"] else f"FAIL ({len(bad)} patterns: {', '.join(bad[:3])})"
    text += f", pg schema: {where}"
    if fallback:
        text += f" ({fallback[0].split('(', 1)[-1].split(');')[0][:100]})"
    return text


def run(row: Row, ddl: Path, work: Path, args: argparse.Namespace) -> None:
    from modeling.pg.ddl import read_ddl

    row.ddl_tables = len(read_ddl(ddl.read_text("utf-8"), str(ddl)).catalog.tables)
    model = work / row.name / "model.yaml"
    model.parent.mkdir(parents=True)
    beside = model.parent / ddl.name  # validate/verify read `source.ddl` below the model's dir
    beside.write_bytes(ddl.read_bytes())
    code, _ = _invoke(row, "init", "init", "--from-ddl", beside, "-o", model)
    if code != 0:
        return
    import yaml

    doc = yaml.safe_load(model.read_text("utf-8"))
    row.entities = len(doc.get("entities") or {})
    row.patterns = len(doc.get("access_patterns") or {})
    if _invoke(row, "validate", "validate", model)[0] != 0:
        return
    if _invoke(row, "compile", "compile", model, "-o", work / row.name / "gen")[0] != 0:
        return
    if args.verify:
        started = time.monotonic()
        code, out = _invoke(
            row, "verify", "verify", model, "--postgres", "local", "--trials", args.trials, "--json"
        )
        row.verify = f"{_verify_summary(code, out)} [{time.monotonic() - started:.0f} s wall]"
    if args.demo:
        started = time.monotonic()
        code, out = _invoke(row, "demo", "migrate", "demo", model, "--rows", args.rows, "--json")
        try:
            report = json.loads(out[out.index("{") :])
            v = report.get("validation", {})
            row.demo = "ok" if report.get("ok") else f"FAIL (exit {code})"
            row.demo += (
                f" rows {report.get('rows_total')} items {report.get('items_written')} dead "
                f"{report.get('dead_letters')} missing {v.get('missing', '?')} mismatched "
                f"{v.get('mismatched', '?')}, source: {str(report.get('source'))[:40]}"
            )
        except ValueError:
            lines = [line for line in out.splitlines() if "error" in line.lower()]
            row.demo = f"exit {code}: {(lines or ['?'])[0][:120]}"
        row.demo += f" [{time.monotonic() - started:.0f} s wall]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="DIR/<name>.sql")
    parser.add_argument("--git", type=Path, help="Bare clones: MIRRORS/<owner>+<name>/repo.")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--verify", action="store_true", help="verify --postgres local")
    parser.add_argument("--demo", action="store_true", help="migrate demo")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--rows", type=int, default=300)
    args = parser.parse_args()
    if args.git:
        fetch(args.git, args.dir)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="real-dumps-") as tmp:
        for s in SOURCES:
            if args.only and s.name not in args.only:
                continue
            ddl = args.dir / f"{s.name}.sql"
            if not ddl.is_file():
                print(f"{s.name}: missing {ddl} (fetch {s.repo}@{s.commit[:12]})", file=sys.stderr)
                continue
            digest = hashlib.sha256(ddl.read_bytes()).hexdigest()
            if digest != s.sha256:
                print(f"{s.name}: sha256 {digest[:12]} is not the recorded {s.sha256[:12]}")
            row = Row(s.name)
            run(row, ddl, Path(tmp), args)
            rows.append(row)
            print(_line(row), flush=True)
    print("--- totals")
    for row in rows:
        print(_line(row))
    for row in rows:
        for text in row.tracebacks:
            print(f"\n--- {row.name}: {text}")
    bad = [r.name for r in rows if r.tracebacks or r.rejected]
    if bad:
        print(f"\ntracebacks or rejected seeded models: {', '.join(bad)}")
    return 1 if bad else 0


def _line(row: Row) -> str:
    steps = ("init", "validate", "compile")
    cpu = "/".join(f"{row.seconds[s]:.1f}" if s in row.seconds else "-" for s in steps)
    wall = "/".join(f"{row.wall[s]:.1f}" if s in row.wall else "-" for s in steps)
    exits = "/".join(str(row.exits.get(s, "-")) for s in steps)
    errors = "/".join(str(row.errors.get(s, "-")) for s in steps[1:])
    return (
        f"{row.name:<12} tables {row.ddl_tables:>4}  entities {row.entities:>4}  "
        f"patterns {row.patterns:>4}  cpu s {cpu:<14} wall s {wall:<14} exits {exits:<7} errors {errors:<5} "
        f"tracebacks {len(row.tracebacks)}  verify {row.verify}  demo {row.demo}"
    )


if __name__ == "__main__":
    sys.exit(main())
