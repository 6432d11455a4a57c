"""`model migrate demo`: the whole migration on an example model, on throwaway services.

Why this exists: the migration is the product's main job, and a README that shows it only as
prose proves nothing. The demo runs the very code `model migrate plan|run|validate` run, on a
PostgreSQL 15 cluster and a DynamoDB Local started for the occasion:

1. sample rows sized to about `rows` in total (the generator `model verify` uses: keys with the
   separator and astral characters, skewed parents, fat rows, every DSL type), deterministic for
   a seed, loaded into the model's SQL tables (its `source.ddl`, else tables generated from the
   model), the way `model verify --postgres` loads them;
2. the table created from the layout; `make_plan` cuts every entity's keys into chunks;
3. the `Runner` backfills them (wire client, write pool, checkpoints, dead letters, catch-up)
   while two concurrent applications run: one updates a few rows in PostgreSQL right after
   the backfill read them (the race the versioned catch-up exists for), the other
   (`workflows.appsim`) inserts, updates, changes keys of and deletes random rows through the
   generated dual-write repository all through the backfill and the catch-up;
4. `migrate.audit` (validate with `sample=None`, plus a scan for items no row explains)
   finds 0 missing, 0 mismatched, 0 stale, 0 orphaned, 0 resurrected, or the demo fails.

The caller owns the services (`local_services()` starts both) and how DynamoDB clients are
built (`ClientFactory`: the CLI passes the one `model migrate run` uses), so tests can run the
demo against the shared fixtures.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from modeling.core import ir
from modeling.extraction import ExtractionQueries, SetClause, extraction_queries
from modeling.migrate import transformers
from modeling.migrate.audit import Audit, audit
from modeling.migrate.errors import MigrationError
from modeling.migrate.plan import make_plan
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.versioning import VersionSource, version_sources
from modeling.runtime.versioning import row_lock_id
from modeling.sample.codec import key_literals
from modeling.sample.fit import fit_to_ddl_file
from modeling.sample.generate import SampleOptions, generate, planned_counts
from modeling.sample.rows import Dataset
from modeling.services import DynamoDBLocal, PostgresCluster, ScratchDatabase
from modeling.verify import postgres
from modeling.verify.dynamo import create_table as create_dynamodb_table
from modeling.verify.runner import keyed_attributes
from modeling.workflows.appsim import App, AppStats

DEFAULT_ROWS = 20_000
DEFAULT_CHUNK_SIZE = 5_000
# Children per parent tried when sizing a sample (see `sample_options`).
FANOUTS = (3.0, 2.5, 2.0, 1.5, 1.0)
MIN_ROOTS = 8
SHORTFALL = 0.95  # below this share of the requested rows, resize once
APP_EVERY = 200  # the application updates every APP_EVERY-th row of each batch read
APP_SUFFIX = " (edited)"

# (endpoint, connection pool size, wire) -> a DynamoDB client
ClientFactory = Callable[[str, int, bool], Any]
Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    rows: int = DEFAULT_ROWS
    seed: int = 0
    concurrency: int = 4
    chunk_size: int = DEFAULT_CHUNK_SIZE
    app: bool = True  # run the concurrent applications during the backfill
    app_workers: int = 2  # threads of random inserts, updates, key changes and deletes
    app_min_ops: int = 40  # the random application runs at least this many operations
    progress: bool = False  # the runner's progress bars (stderr)
    table: str | None = None  # default: the model's table name (the DynamoDB Local is new)


@dataclass
class DemoReport:
    model: str
    table: str
    seed: int
    rows_requested: int
    rows: dict[str, int]  # sample rows loaded per entity
    source: str  # how the SQL tables were made
    run: dict[str, Any]
    validation: dict[str, Any]
    app_updates: int = 0
    app_errors: list[str] = field(default_factory=list)
    app_ops: dict[str, Any] = field(default_factory=dict)  # the random application's counts
    audit: dict[str, Any] = field(default_factory=dict)  # missing ... resurrected
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    kept: str | None = None

    @property
    def ok(self) -> bool:
        return (
            bool(self.validation.get("ok"))
            and bool(self.audit.get("ok", True))
            and not self.app_errors
            and not self.app_ops.get("errors")
        )

    @property
    def rows_total(self) -> int:
        return sum(self.rows.values())

    def as_dict(self) -> dict[str, Any]:
        totals = self.validation.get("totals", {})
        return {
            "ok": self.ok,
            "model": self.model,
            "table": self.table,
            "seed": self.seed,
            "rows_requested": self.rows_requested,
            "rows": dict(sorted(self.rows.items())),
            "rows_total": self.rows_total,
            "source": self.source,
            "items_written": self.run.get("items_written", 0),
            "items_per_second": self.run.get("items_per_second", 0.0),
            "dead_letters": self.run.get("dead_letters", 0),
            "retries": self.run.get("retries", 0),
            "catch_up": {
                "rows": self.run.get("catch_up_rows", 0),
                "written": self.run.get("catch_up_written", 0),
                "skipped": self.run.get("catch_up_skipped", 0),
            },
            "app_updates": self.app_updates,
            "app_errors": self.app_errors,
            "app": self.app_ops,
            "audit": {k: v for k, v in sorted(self.audit.items()) if k != "examples"},
            "validation": {
                "ok": self.ok,
                **{k: totals.get(k, 0) for k in sorted(totals)},
            },
            "seconds": {k: round(v, 3) for k, v in sorted(self.seconds.items())},
            "notes": self.notes,
            "kept": self.kept,
            "run": self.run,
            "validation_report": self.validation,
        }

    def lines(self) -> list[str]:
        """The short human report."""
        d = self.as_dict()
        v = d["validation"]
        run_entities = self.run.get("entities", {})
        out = [f"{self.model} → {self.table} (seed {self.seed}, source: {self.source})"]
        for name, n in sorted(self.rows.items()):
            e = run_entities.get(name, {})
            out.append(
                f"  {name}: {n} rows, {e.get('items_written', 0)} items written, "
                f"{e.get('dead_letters', 0)} dead letters"
            )
        sec = self.seconds
        out.append(
            f"rows {self.rows_total}, items written {d['items_written']}, "
            f"{d['items_per_second']:.0f} items/s ({sec.get('run', 0.0):.1f} s), "
            f"dead letters {d['dead_letters']}, retries {d['retries']}"
        )
        if self.app_updates or self.app_errors:
            out.append(
                f"application: {self.app_updates} rows updated during the backfill; catch-up "
                f"rewrote {d['catch_up']['written']} of {d['catch_up']['rows']} changed rows"
            )
        if self.app_ops:
            a = self.app_ops
            out.append(
                f"application (concurrent, through the dual-write repository): "
                f"{a['inserts']} inserts, {a['updates']} updates, {a['key_changes']} key "
                f"changes, {a['deletes']} deletes ({a['refused']} refused by PostgreSQL)"
            )
        out.append(
            f"validation: {'ok' if self.validation.get('ok') else 'FAILED'} — checked "
            f"{v.get('checked', 0)}, missing {v.get('missing', 0)}, mismatched "
            f"{v.get('mismatched', 0)}, stale {v.get('stale', 0)}, excused {v.get('excused', 0)}"
        )
        if self.audit:
            a = self.audit
            out.append(
                f"audit: {'ok' if a.get('ok') else 'FAILED'} — missing {a['missing']}, "
                f"mismatched {a['mismatched']}, stale {a['stale']}, orphaned {a['orphaned']}, "
                f"resurrected {a['resurrected']} (items {a['items']}, tombstones "
                f"{a['tombstones']})"
            )
        out.extend(f"note: {n}" for n in self.notes)
        out.extend(f"application error: {e}" for e in self.app_errors)
        out.extend(f"application error: {e}" for e in self.app_ops.get("errors", []))
        out.extend(f"note: {n}" for n in self.app_ops.get("notes", []))
        if self.kept:
            out.append(
                f"kept: {self.kept} (plan/, checkpoint/, run.json, validation.md, demo.json)"
            )
        return out


# --------------------------------------------------------------------------- sizing


def _planned_total(model: ir.Model, options: SampleOptions) -> int:
    return sum(planned_counts(model, options).values())


def _largest_roots(model: ir.Model, target: int, fanout: float, seed: int) -> SampleOptions:
    """The most root rows whose planned total stays within `target` (at least one root).

    The planned total never shrinks as `roots` grows, so a binary search finds it.
    """

    def options(roots: int) -> SampleOptions:
        return SampleOptions(seed=seed, roots=roots, fanout=fanout, max_rows=max(1, target))

    lo, hi = 1, max(1, target)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _planned_total(model, options(mid)) <= target:
            lo = mid
        else:
            hi = mid - 1
    return options(lo)


def sample_options(model: ir.Model, rows: int, seed: int = 0) -> SampleOptions:
    """SampleOptions whose planned rows add up to about `rows` over all entities.

    One candidate per fanout (the most roots that fit); the closest total wins among those
    leaving at least MIN_ROOTS roots, so a deep model still gets a spread of partitions.
    Ties go to the larger fanout (bigger item collections).
    """
    candidates = [_largest_roots(model, rows, fanout, seed) for fanout in FANOUTS]
    spread = [c for c in candidates if c.roots >= MIN_ROOTS] or candidates
    return min(spread, key=lambda c: abs(_planned_total(model, c) - rows))


def make_sample(
    model: ir.Model, layout: ir.Layout, rows: int, seed: int = 0
) -> tuple[Dataset, SampleOptions]:
    """About `rows` sample rows over all entities, deterministic for `seed`.

    The generator may draw fewer rows than it planned (a unique attribute set with few possible
    values runs out, e.g. one payment per order); then the sample is planned once more for the
    share that is missing, so the total stays near `rows`.
    """
    keyed = keyed_attributes(layout)
    literals = tuple(t for t in key_literals(layout) if t.strip("#"))  # planted into strings
    opts = sample_options(model, rows, seed)
    data = generate(model, opts, keyed, literals=literals)
    drawn = data.total()
    if 0 < drawn < SHORTFALL * rows:
        bigger = sample_options(model, min(4 * rows, math.ceil(rows * rows / drawn)), seed)
        if bigger != opts:
            retry = generate(model, bigger, keyed, literals=literals)
            if abs(retry.total() - rows) < abs(drawn - rows):
                data, opts = retry, bigger
    return data, opts


# --------------------------------------------------------------------------- source database


def _source_tables(model: ir.Model) -> dict[str, tuple[str | None, str]]:
    return {e.name: (e.schema, e.table) for e in model.entities}


def _shared_tables(model: ir.Model) -> list[str]:
    seen: dict[tuple[str | None, str], list[str]] = {}
    for name, ref in _source_tables(model).items():
        seen.setdefault(ref, []).append(name)
    return [
        f"{', '.join(names)} on {'.'.join(p for p in ref if p)}"
        for ref, names in sorted(seen.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        if len(names) > 1
    ]


def load_source(
    admin_dsn: str, model: ir.Model, data: Dataset, source_ddl: Path | None
) -> tuple[str, str, list[str]]:
    """A fresh database holding `data` in the model's own SQL tables: (dsn, origin, notes).

    The tables must be the ones the migration reads (`schema.table` of each entity), so the
    scratch-schema fallback of `model verify` does not fit: when the source DDL cannot hold the
    sample rows, the demo starts over in another database with tables generated from the model.
    """
    import psycopg

    shared = _shared_tables(model)
    if shared:
        raise MigrationError(
            "the demo loads each entity's sample rows into its own SQL table, but entities "
            f"share one: {'; '.join(shared)}",
            hint="run `model migrate plan/run/validate` against a copy of the real database",
        )
    notes: list[str] = []
    for ddl in (source_ddl, None) if source_ddl is not None else (None,):
        # the source DDL and the rows load as a role that owns the database and nothing more:
        # no superuser (ScratchDatabase)
        scratch = ScratchDatabase(admin_dsn, "model_demo_")
        with psycopg.connect(scratch.dsn, autocommit=True) as conn:
            schema = postgres.prepare(conn, model, data, ddl)
        notes.extend(schema.notes)
        wanted = _source_tables(model)
        got = {n: (r.schema, r.name) for n, r in schema.tables.items()}
        if got == wanted:
            return scratch.dsn, schema.origin, notes
        scratch.drop()
    raise MigrationError(  # pragma: no cover - prepare without DDL uses the model's tables
        "the sample rows could not be loaded into the model's SQL tables",
        hint="; ".join(notes) or None,
    )


def column_lengths(dsn: str, model: ir.Model) -> dict[str, dict[str, int]]:
    """Entity → column → most characters, for the bounded string columns of its table; 0 for
    a column of a string attribute that is not of a character type (`inet`, `cidr`, an enum,
    `macaddr`, ...): text appended to it is not a value of its type (PostgreSQL refuses the
    UPDATE: `column "ip_address" is of type inet but expression is of type text`)."""
    import psycopg

    query = (
        "SELECT table_schema, table_name, column_name, character_maximum_length, "
        "data_type, udt_name FROM information_schema.columns"
    )
    textual = ("text", "character varying", "character")
    with psycopg.connect(dsn) as conn:
        found = {
            (s, t, c): (int(n) if n is not None else None)
            if kind in textual or udt == "citext"
            else 0
            for s, t, c, n, kind, udt in conn.execute(query).fetchall()
        }
    out: dict[str, dict[str, int]] = {}
    for e in model.entities:
        schema = e.schema or "public"
        bounds: dict[str, int] = {}
        for a in e.attributes:
            n = found.get((schema, e.table, a.column_name))
            if n is not None and a.type.kind == "string":
                bounds[a.column_name] = n
        out[e.name] = bounds
    return out


def create_table(client: Any, layout: ir.Layout, name: str) -> None:
    create_dynamodb_table(client, layout, name)


# --------------------------------------------------------------------------- the application


@dataclass(frozen=True)
class _Update:
    sql: str  # binds the key as extraction's key_params, the suffix as %(suffix)s
    key: tuple[str, ...]  # attributes bound, in order
    queries: ExtractionQueries = field(repr=False, compare=False)

    def params(self, row: Mapping[str, Any]) -> dict[str, Any]:
        params = self.queries.key_params([row.get(a) for a in self.key])
        params["suffix"] = APP_SUFFIX
        return params


def update_statement(
    model: ir.Model,
    layout: ir.Layout,
    entity: ir.Entity,
    version: VersionSource,
    lengths: Mapping[str, int] | None = None,
) -> _Update | None:
    """The UPDATE the application runs on one row of `entity`, or None when it has none.

    It changes what a user would see (a free-text string gets a suffix) and, when the entity
    is versioned by an attribute, bumps it as every writer must; the UPDATE itself gives the
    row a new xmin. Attributes in key templates are left alone: a changed key would move the
    item, which is a delete plus a put, not the race this shows. `lengths` (column → most
    characters, from a source DDL's `varchar(n)`): a bounded column keeps within its bound (its
    end gives way to the suffix), and one too short for the suffix is not chosen.
    """
    bounds = dict(lengths or {})
    keyed = {a for e, a in keyed_attributes(layout) if e == entity.name}
    if version.attribute is not None and (
        version.attribute in entity.key or version.attribute in keyed
    ):
        return None
    q = extraction_queries(model, entity.name)
    sets: list[SetClause] = []
    text = next(
        (
            a
            for a in entity.attributes
            if a.type == ir.TypeRef("string")
            and not a.enum
            and not a.references
            and a.name not in entity.key
            and a.name not in keyed
            and a.name != version.attribute
            and bounds.get(a.column_name, len(APP_SUFFIX) + 1) > len(APP_SUFFIX)
        ),
        None,
    )
    if text is not None:
        limit = bounds.get(text.column_name)
        keep = None if limit is None else limit - len(APP_SUFFIX)
        sets.append(SetClause(text.column_name, "append", param="suffix", keep=keep))
    if version.attribute is not None:
        attr = entity.attribute(version.attribute)
        assert attr is not None
        op = "increment" if version.kind == "integer" else "advance"
        sets.append(SetClause(attr.column_name, op))
    if not sets:
        plain = next((a for a in entity.attributes if a.name not in entity.key), None)
        if plain is None:
            return None
        # a new row version (xmin) with the same content
        sets.append(SetClause(plain.column_name, "rewrite"))
    return _Update(q.update_by_key_sql(sets), tuple(k.attribute for k in q.key), q)


class Application:
    """A small application writing to PostgreSQL while the backfill runs.

    Used as the runner's `after_read` hook: right after a worker read a batch, and before that
    batch's items are written, it updates every `every`-th row of the batch. The backfill then
    writes the older version of those rows; only the catch-up pass can put the newer one in
    the table, and full validation proves it did. One connection, one statement at a time; an
    error is recorded, never raised (the backfill must go on).
    """

    def __init__(
        self,
        dsn: str,
        statements: Mapping[str, _Update | None],
        every: int = APP_EVERY,
        max_errors: int = 5,
        table: str = "",
    ) -> None:
        self.dsn = dsn
        self.table = table  # the DynamoDB table: part of the row lock the repository takes
        self.statements = dict(statements)
        self.every = max(1, every)
        self.updated = 0
        self.errors: list[str] = []
        self.max_errors = max_errors
        self._conn: Any = None
        self._lock = threading.Lock()

    def after_read(self, entity: str, rows: list[dict[str, Any]]) -> None:
        update = self.statements.get(entity)
        if update is None:
            return
        for row in rows[:: self.every]:
            params = update.params(row)
            with self._lock:
                if len(self.errors) >= self.max_errors:
                    return
                try:
                    if self._conn is None:
                        import psycopg

                        self._conn = psycopg.connect(self.dsn, autocommit=True)
                    # the dual-write repository's row lock first (runtime/versioning.py), so
                    # the random application's writes of this row and ours keep xmin order
                    lock = row_lock_id(self.table, entity, [row.get(a) for a in update.key])
                    with self._conn.transaction():
                        self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                        cur = self._conn.execute(update.sql, params)
                    self.updated += max(0, cur.rowcount)
                except Exception as exc:  # the application's failure is reported, not raised
                    self.errors.append(f"{entity}: {type(exc).__name__}: {exc}".strip())
                    self._reset()

    def _reset(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._reset()


# --------------------------------------------------------------------------- the demo


@contextlib.contextmanager
def local_services() -> Iterator[tuple[str, str]]:
    """(admin DSN, DynamoDB endpoint) of a throwaway PostgreSQL 15 cluster and DynamoDB Local."""
    with PostgresCluster() as pg, DynamoDBLocal() as ddb:
        yield pg.dsn, ddb.endpoint_url


def check_keep_dir(keep: Path) -> None:
    """A kept directory must be new or empty: an old checkpoint would skip this run's chunks."""
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise MigrationError(
            f"--keep {keep} is not an empty directory",
            hint="name a new directory; a kept checkpoint belongs to the run that made it",
        )


def _write(path: Path, data: Any) -> None:
    text = data if isinstance(data, str) else json.dumps(data, indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")


def run_demo(
    model: ir.Model,
    layout: ir.Layout,
    options: DemoOptions,
    *,
    admin_dsn: str,
    endpoint: str,
    client_factory: ClientFactory,
    work_dir: Path,
    module: ModuleType | None = None,
    say: Say | None = None,
    kept: bool = False,
) -> DemoReport:
    """Sample → PostgreSQL → plan → run (with the application) → full validation.

    `work_dir` receives plan/, checkpoint/, dead-letter.jsonl and the reports (`kept`: the
    caller keeps it, and the report says where).
    """

    def note(message: str) -> None:
        if say is not None:
            say(message)

    if options.rows < 1:
        raise MigrationError("--rows must be at least 1")
    seconds: dict[str, float] = {}
    t = time.monotonic()
    data, _ = make_sample(model, layout, options.rows, options.seed)
    rows = {e.name: len(data.of(e.name)) for e in model.entities}
    seconds["sample"] = time.monotonic() - t
    note(f"sample: {data.total()} rows over {len(rows)} entities (seed {options.seed})")

    t = time.monotonic()
    source_ddl = None
    if model.source is not None and model.source.ddl:
        base = Path(model.file).parent if model.file else Path(".")
        source_ddl = base / model.source.ddl
    fit_notes = fit_to_ddl_file(model, data, source_ddl)
    dsn, origin, notes = load_source(admin_dsn, model, data, source_ddl)
    notes = fit_notes + notes
    del data  # the source database holds the rows now
    seconds["load"] = time.monotonic() - t
    note(f"PostgreSQL: rows loaded ({origin})")

    module = module or transformers.generate(layout, model)
    run_options = RunOptions(
        concurrency=options.concurrency,
        chunk_size=options.chunk_size,
        dead_letter=work_dir / "dead-letter.jsonl",
        progress=options.progress,
    )
    table = options.table or layout.table_name
    plain = client_factory(endpoint, options.concurrency, False)
    create_table(plain, layout, table)

    t = time.monotonic()
    plan_dir = work_dir / "plan"
    plan = make_plan(dsn, model, plan_dir, options.chunk_size)
    seconds["plan"] = time.monotonic() - t
    note(f"plan: {len(plan.chunks())} chunks of at most {options.chunk_size} keys")

    versions = version_sources(model, None)
    app = None
    if options.app:
        lengths = column_lengths(dsn, model)
        app = Application(
            dsn,
            {
                e.name: update_statement(model, layout, e, versions[e.name], lengths.get(e.name))
                for e in model.entities
            },
            table=table,
        )
        run_options.after_read = app.after_read
    writer = client_factory(endpoint, run_options.writers() + options.concurrency, True)
    runner = Runner(model, layout, dsn, writer, work_dir / "checkpoint", run_options, table, module)
    finish: Callable[[], AppStats] | None = None
    app_stats: AppStats | None = None
    if options.app:
        # the random application: inserts, updates, key changes and deletes through the
        # generated repository (phase 1), all through the backfill and the catch-up
        app_client = client_factory(endpoint, options.app_workers + 2, False)
        random_app = App(
            model, transformers.generate(layout, model, repository=True), dsn, app_client,
            table, seed=options.seed,
        )  # fmt: skip
        finish = random_app.start(options.app_workers)
    try:
        run_report = runner.run(plan_dir)
    finally:
        if finish is not None:
            deadline = time.monotonic() + 30
            while random_app.stats.total < options.app_min_ops and time.monotonic() < deadline:
                time.sleep(0.05)
            app_stats = finish()
        if app is not None:
            app.close()
        with contextlib.suppress(Exception):
            writer.close()
    seconds["run"] = run_report.seconds
    note(
        f"run: {run_report.items_written} items written, {run_report.items_per_second:.0f} items/s"
    )

    if app_stats is not None:
        note(f"application: {app_stats.total} operations through the dual-write repository")

    t = time.monotonic()
    checked: Audit = audit(
        model,
        layout,
        module,
        dsn,
        plain,
        table,
        app_stats.deleted if app_stats else None,
        dead_letter=run_options.dead_letter,
    )
    assert checked.validation is not None
    result = checked.validation
    seconds["validate"] = time.monotonic() - t

    report = DemoReport(
        model=model.name,
        table=table,
        seed=options.seed,
        rows_requested=options.rows,
        rows=rows,
        source=origin,
        run=run_report.as_dict(),
        validation=json.loads(json.dumps(result.as_dict(), default=str)),
        app_updates=app.updated if app else 0,
        app_errors=list(app.errors) if app else [],
        app_ops=app_stats.as_dict() if app_stats else {},
        audit=json.loads(json.dumps(checked.as_dict(), default=str)),
        notes=notes,
        seconds=seconds,
        kept=str(work_dir) if kept else None,
    )
    _write(work_dir / "run.json", report.run)
    _write(work_dir / "validation.json", report.validation)
    _write(work_dir / "validation.md", result.markdown())
    _write(work_dir / "demo.json", report.as_dict())
    return report
