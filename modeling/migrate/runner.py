"""`model migrate run`: the local runner (chunks -> workers -> transformers -> BatchWriteItem).

Per chunk a worker (a thread with its own PostgreSQL connection) reads the chunk's keys, fetches
the rows `batch_size` keys at a time (`= ANY`, never one query per key), converts each row with
the generated transformers (adding `_version`), and writes the items through the shared `Sink`
(batches of 25, retries, the WCU cap). Rows that cannot become items go to the dead-letter
JSONL and the run continues. When a chunk is complete, its checkpoint is written; a rerun skips
it (only with the same plan: the checkpoint is bound to the plan's sha256). After the last
chunk, the catch-up pass (see `versioning`) rewrites, conditionally, every row changed since
the plan's marker (taken when the plan was made, so rows committed between plan and run are
written too).

No write silently replaces another row's item: rows sharing a source key (listed in the plan's
duplicates, or met twice in one read) and rows whose items share an item key are dead-lettered
with the reason; the catch-up's conditional write also requires the existing item's identity
(entity type and key attributes) to match.

Deletes and key changes made through the dual-write repository leave tombstones; the
catch-up pass ends by sweeping them (see `tombstones`), removing any item a delete or a
key change retired.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from modeling.core import ir
from modeling.core.values import hashable
from modeling.migrate import tombstones
from modeling.migrate import transformers as transformer_loader
from modeling.migrate.checkpoint import Checkpoint
from modeling.migrate.errors import MigrationError
from modeling.migrate.orphans import OrphanSweep
from modeling.migrate.plan import Chunk, EntityPlan, Plan, load_plan, make_plan, read_chunk
from modeling.migrate.progress import Progress
from modeling.migrate.sink import Item, ItemCollision, Sink
from modeling.migrate.source import EntityReader, Source
from modeling.migrate.versioning import (
    VERSION_ATTRIBUTE,
    VersionSource,
    pin_versions,
    take_marker,
    version_sources,
)
from modeling.runtime.loaders import dead_letter_key, unreadable_reason

BatchHook = Callable[[str, list[dict[str, Any]]], None]
_EXCERPT = 200


@dataclass
class RunOptions:
    concurrency: int = 4
    # BatchWriteItem requests in flight (default 4 per worker): writes are cheap to wait on,
    # reads hold a PostgreSQL connection, so the table gets more parallelism than the source
    write_concurrency: int | None = None
    batch_size: int = 1_000
    chunk_size: int = 100_000
    max_wcu: float | None = None
    dead_letter: Path | None = None
    version_column: str | None = None
    catch_up: bool = True
    # AWS mode: skip the backfill (the Lambdas did it) and run only the catch-up pass with
    # this marker (the plan's, in its manifest.json)
    catch_up_only: int | None = None
    # after an import (`migrate export`): end the catch-up by deleting the items whose row was
    # deleted, or whose key changed, since the export (see `orphans`)
    sweep_orphans: bool = False
    progress: bool = True
    retry_mode: str = "adaptive"
    # tests and benchmarks: called with (entity, rows) after a batch is read, before its write
    after_read: BatchHook | None = None

    def writers(self) -> int:
        if self.write_concurrency is not None:
            return max(1, self.write_concurrency)
        return 4 * max(1, self.concurrency)


@dataclass
class EntityReport:
    rows_read: int = 0
    items_written: int = 0
    dead_letters: int = 0
    chunks_done: int = 0
    chunks_skipped: int = 0


@dataclass
class RunReport:
    model: str
    table: str
    entities: dict[str, EntityReport] = field(default_factory=dict)
    retries: int = 0
    unprocessed: int = 0
    duplicates: int = 0
    wcu: int = 0
    throttled_seconds: float = 0.0
    catch_up_rows: int = 0
    catch_up_written: int = 0
    catch_up_skipped: int = 0
    tombstones: int = 0  # tombstones swept at the end of the catch-up pass
    stale_removed: int = 0  # items older than their tombstone (deleted or moved rows) removed
    orphans_scanned: int = 0  # --sweep-orphans: typed items read
    orphans_removed: int = 0  # --sweep-orphans: items of deleted or moved rows removed
    orphans_unswept: list[str] = field(default_factory=list)  # entities it cannot sweep
    marker: int = 0
    seconds: float = 0.0
    dead_letter_file: str | None = None

    @property
    def rows_read(self) -> int:
        return sum(e.rows_read for e in self.entities.values())

    @property
    def items_written(self) -> int:
        return sum(e.items_written for e in self.entities.values())

    @property
    def dead_letters(self) -> int:
        return sum(e.dead_letters for e in self.entities.values())

    @property
    def items_per_second(self) -> float:
        return self.items_written / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            rows_read=self.rows_read,
            items_written=self.items_written,
            dead_letters=self.dead_letters,
            items_per_second=round(self.items_per_second, 1),
            seconds=round(self.seconds, 3),
            throttled_seconds=round(self.throttled_seconds, 3),
        )
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= _EXCERPT else value[:_EXCERPT] + f"... ({len(value)} chars)"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        b = bytes(value)
        return f"<{len(b)} bytes>"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        text = json.dumps(value, default=str)
        return value if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
    if isinstance(value, list | tuple | set | frozenset):
        text = json.dumps([_jsonable(v) for v in value], default=str)
        return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
    return str(value)[:_EXCERPT]


class DeadLetters:
    """Append-only JSONL of rows that could not become items (thread-safe, flushed per chunk)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def record(entity: str, key: Any, reason: str, row: Mapping[str, Any] | None) -> dict[str, Any]:
        return {
            "entity": entity,
            "key": (
                [dead_letter_key(v) for v in key]
                if isinstance(key, tuple | list)
                else dead_letter_key(key)
            ),
            "reason": reason,
            "row": {k: _jsonable(v) for k, v in (row or {}).items()},
        }

    def write(self, records: Sequence[dict[str, Any]]) -> int:
        """Append the records not yet written by this run (the catch-up meets again the rows
        the backfill dead-lettered); returns how many were new."""
        lines = [json.dumps(r, sort_keys=True, default=str) for r in records]
        with self._lock:
            fresh = [line for line in dict.fromkeys(lines) if line not in self._seen]
            self._seen.update(fresh)
            if fresh and self.path is not None:
                try:
                    with self.path.open("a", encoding="utf-8") as fh:
                        fh.write("".join(line + "\n" for line in fresh))
                        fh.flush()
                except OSError as exc:  # a full disk (ENOSPC names no file): say which
                    if exc.filename is not None:
                        raise  # a path in the way: the CLI's path errors name it
                    raise MigrationError(
                        f"{self.path}: cannot append to the dead-letter file: "
                        f"{exc.strerror or exc}",
                        "free space there (or pass another --dead-letter) and run again with "
                        "the same --checkpoint: the chunks not checkpointed yet are redone",
                    ) from None
        return len(fresh)


def table_key_names(layout: ir.Layout) -> tuple[str, ...]:
    table = next(i for i in layout.indexes if i.kind == "table")
    return (table.pk.name,) if table.sk is None else (table.pk.name, table.sk.name)


class Converter:
    """Rows -> items with the generated transformers; failures become dead-letter records."""

    def __init__(
        self, module: ModuleType, model: ir.Model, layout: ir.Layout | None = None
    ) -> None:
        self.module = module
        self.to_item = module.TO_ITEM
        # relationship copies per entity (layouts with `ir.CopyItems`; older modules have none)
        self.copies: dict[str, Any] = getattr(module, "COPIES", {})
        self.error = module.TransformError
        self.key_attrs = {e.name: e.key for e in model.entities}
        self.tables = {e.name: e.table for e in model.entities}
        self.table_key = table_key_names(layout) if layout is not None else ()
        self.type_attribute = layout.type_attribute if layout is not None else None

    def identity(self, entity: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The row's source key (the entity's `key:` values)."""
        return tuple(hashable(row.get(k)) for k in self.key_attrs[entity])

    def item_identity(self, entity: str, item: Item) -> dict[str, Any]:
        """The attributes an item of this row must carry: its type and key attributes."""
        names = [*self.key_attrs[entity]]
        if self.type_attribute:
            names.append(self.type_attribute)
        return {n: item[n] for n in names if n in item}

    def convert_batch(
        self, entity: str, rows: Sequence[tuple[dict[str, Any], int | None]]
    ) -> tuple[list[Item], list[dict[str, Any]]]:
        """`convert`, refusing every write that would replace another row's item.

        Rows sharing a source key (a key that is not unique in the source) and rows whose items
        share an item key are all dead-lettered: an item holds one row, and keeping any one of
        them would drop the others without a word.
        """
        groups: dict[tuple[Any, ...], int] = {}
        for row, _ in rows:
            ident = self.identity(entity, row)
            groups[ident] = groups.get(ident, 0) + 1
        dead: list[dict[str, Any]] = []
        unique: list[tuple[dict[str, Any], int | None]] = []
        table = self.tables[entity]
        for row, version in rows:
            ident = self.identity(entity, row)
            if groups[ident] > 1:
                dead.append(
                    DeadLetters.record(
                        entity,
                        tuple(row.get(k) for k in self.key_attrs[entity]),
                        f"DuplicateKey: {groups[ident]} rows of {table} share this key; an item "
                        "holds one row, so none of them is written (make the key unique in the "
                        "source, or choose another `key:`)",
                        row,
                    )
                )
            else:
                unique.append((row, version))
        converted, bad = self.convert_groups(entity, unique)
        dead.extend(bad)
        if not self.table_key:
            return [item for group in converted for item in group], dead
        by_key: dict[tuple[Any, ...], list[list[Item]]] = {}
        for group in converted:
            k = tuple(json.dumps(group[0].get(n), sort_keys=True) for n in self.table_key)
            by_key.setdefault(k, []).append(group)
        kept: list[Item] = []
        for k, same in by_key.items():
            if len(same) == 1:
                kept.extend(same[0])  # the main item, then its copies (each copy key holds
                continue  # the row's identity: unique in the batch)
            for item in (g[0] for g in same):
                found = self.item_identity(entity, item)
                dead.append(
                    DeadLetters.record(
                        entity,
                        tuple(_av_text(found.get(n)) for n in self.key_attrs[entity]),
                        f"KeyCollision: {len(same)} rows map to the item key "
                        f"{', '.join(k)}; none of them is written (the key template must "
                        "hold the entity's whole key)",
                        {n: _av_text(v) for n, v in found.items()},
                    )
                )
        return kept, dead

    def convert(
        self,
        entity: str,
        rows: Sequence[tuple[dict[str, Any], int | None]],
        copies: bool = False,
    ) -> tuple[list[Item], list[dict[str, Any]]]:
        """The main item of each row that converts (and, with `copies`, its relationship
        copies right after it); dead-letter records for the others."""
        groups, dead = self.convert_groups(entity, rows)
        return [item for group in groups for item in (group if copies else group[:1])], dead

    def convert_groups(
        self, entity: str, rows: Sequence[tuple[dict[str, Any], int | None]]
    ) -> tuple[list[list[Item]], list[dict[str, Any]]]:
        """Per row that converts: its main item, then its relationship copies (`ir.CopyItems`,
        `strategy: lowest_cost`; the generated `COPIES`), all carrying the row's version."""
        to_item = self.to_item[entity]
        make_copies = self.copies.get(entity)
        groups: list[list[Item]] = []
        dead: list[dict[str, Any]] = []
        for row, version in rows:
            try:
                item = to_item(row)
                group = [item, *(make_copies(row, item) if make_copies is not None else [])]
            except self.error as exc:
                key = exc.row_key if exc.row_key is not None else ()
                reason = unreadable_reason(row, exc.attribute)
                dead.append(
                    DeadLetters.record(
                        entity, key, reason or f"{type(exc).__name__}: {exc.reason}", row
                    )
                )
                continue
            if version is not None:
                for one in group:
                    one[VERSION_ATTRIBUTE] = {"N": str(version)}
            groups.append(group)
        return groups, dead


def _av_text(value: Any) -> Any:
    """An AttributeValue's payload ({"N": "5"} -> "5"), for a dead-letter record."""
    if isinstance(value, Mapping) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _older(a: int, b: int) -> int:
    """The older of two 32-bit xids (modulo arithmetic, as PostgreSQL compares them)."""
    return a if (b - a) % 2**32 < 2**31 else b


def null_key_records(
    plan: Plan, source: Source, converter: Converter
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(entity, dead-letter records) of the rows whose key has a NULL column, a page at a
    time: no chunk lists them (they cannot be read back by key, so the catch-up pass cannot
    either). Every such row is read, not only the ones the plan counted: a row committed
    after the plan (or past the plan's count) was neither written, nor dead-lettered, nor
    counted. `run` and `export` both dead-letter them with this reason."""
    for name in plan.entities:
        key = converter.key_attrs[name]
        for rows in source.null_key_rows(name):
            yield (
                name,
                [
                    DeadLetters.record(
                        name,
                        tuple(row.get(k) for k in key),
                        "NULL key: " + ", ".join(k for k in key if row.get(k) is None) + " is NULL",
                        row,
                    )
                    for row in rows
                ],
            )


def duplicate_records(
    plan: Plan, plan_root: Path, source: Source, converter: Converter, batch_size: int
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(entity, dead-letter records) of every row of a key the plan found more than once, a
    batch of keys at a time (an item holds one row: none of them is written)."""
    size = max(1, batch_size)
    for name, ep in plan.entities.items():
        if ep.duplicates is None:
            continue
        keys = read_chunk(plan_root, ep.duplicates)
        table = converter.tables[name]
        for i in range(0, len(keys), size):
            rows = source.rows_by_keys(name, keys[i : i + size])
            counts: dict[tuple[Any, ...], int] = {}
            for row, _ in rows:
                ident = converter.identity(name, row)
                counts[ident] = counts.get(ident, 0) + 1
            yield (
                name,
                [
                    DeadLetters.record(
                        name,
                        tuple(row.get(k) for k in converter.key_attrs[name]),
                        f"DuplicateKey: {counts[converter.identity(name, row)]} rows of "
                        f"{table} share this key (found by `migrate plan`); an item holds one "
                        "row, so none of them is written (make the key unique in the source, "
                        "or choose another `key:`)",
                        row,
                    )
                    for row, _ in rows
                ],
            )


class _ChunkState:
    """Progress of one chunk's batches (they finish in any order, on any worker)."""

    def __init__(self, chunk: Chunk, batches: int) -> None:
        self.chunk = chunk
        self.pending = batches
        self.read = 0
        self.written = 0
        self.dead: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, read: int, written: int, dead: list[dict[str, Any]]) -> bool:
        """Count one finished batch; True for the chunk's last one."""
        with self._lock:
            self.read += read
            self.written += written
            self.dead.extend(dead)
            self.pending -= 1
            return self.pending == 0


class Runner:
    def __init__(
        self,
        model: ir.Model,
        layout: ir.Layout,
        dsn: str,
        client: Any,
        checkpoint_dir: Path,
        options: RunOptions,
        table_name: str | None = None,
        module: ModuleType | None = None,
    ) -> None:
        self.model = model
        self.layout = layout
        self.dsn = dsn
        self.options = options
        self.table = table_name or layout.table_name
        self.module = module or transformer_loader.generate(layout, model)
        self.checkpoint = Checkpoint(checkpoint_dir)
        self.converter = Converter(self.module, model, layout)
        self.sink = Sink(
            client,
            self.table,
            table_key_names(layout),
            self.module.item_size,
            options.max_wcu,
            writers=options.writers(),
        )
        self.versions: dict[str, VersionSource] = version_sources(model, options.version_column)
        self.readers = {
            e.name: EntityReader.build(model, e.name, self.versions[e.name]) for e in model.entities
        }
        self.dead = DeadLetters(options.dead_letter)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ plan and marker

    def resolve_plan(self, plan_dir: Path | None) -> tuple[Plan, Path]:
        """The given plan, or the one planned into the checkpoint directory (reused on resume)."""
        if plan_dir is not None:
            return load_plan(plan_dir), plan_dir
        own = self.checkpoint.directory / "plan"
        if (own / "manifest.json").is_file():
            return load_plan(own), own
        return make_plan(self.dsn, self.model, own, self.options.chunk_size), own

    def resolve_marker(self, plan: Plan) -> int:
        """The catch-up pass's marker: the plan's (taken before its keys were listed), the one
        a resumed run recorded, or `--catch-up-only`'s, whichever is oldest (an older marker
        covers more rows; never move it forward)."""
        state = self.checkpoint.run_state()
        pin_versions(state, self.versions)  # a resume must keep each entity's version source
        candidates = [m for m in (plan.marker, state.get("marker")) if m is not None]
        if self.options.catch_up_only is not None:
            self._check_not_ahead(self.options.catch_up_only)
            candidates.append(self.options.catch_up_only)
        if candidates:
            marker = int(candidates[0])
            for other in candidates[1:]:
                marker = _older(marker, int(other))
        else:  # pragma: no cover - every plan has a marker, catch-up-only gives one
            import psycopg

            with psycopg.connect(self.dsn, autocommit=True) as conn:
                marker = take_marker(conn)
        state.update(marker=marker, model=self.model.name, table=self.table)
        self.checkpoint.save_run_state(state)
        return marker

    def _check_not_ahead(self, given: int) -> None:
        """`--catch-up-only MARKER` must not be ahead of the database's oldest running xid:
        a mistyped marker (an extra digit) made the catch-up pass skip every change since
        the export, and the run reported success."""
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            now = take_marker(conn)
        if given != now and _older(given, now) == now:
            raise MigrationError(
                f"--catch-up-only {given} is ahead of the source database (its oldest running "
                f"transaction id is {now}): the catch-up would skip every change made since",
                hint="pass the `marker` of the export's or the plan's manifest.json (the "
                "export prints it)",
            )

    # ------------------------------------------------------------------ run

    def run(self, plan_dir: Path | None = None) -> RunReport:
        """Backfill, then catch up; one run at a time per checkpoint (`Checkpoint.exclusive`)."""
        with self.checkpoint.exclusive():
            return self._run(plan_dir)

    def _run(self, plan_dir: Path | None) -> RunReport:
        started = time.monotonic()
        # a resume must keep each entity's version source: checked before anything is read
        state = self.checkpoint.run_state()
        pin_versions(state, self.versions)
        self.checkpoint.save_run_state(state)
        if self.options.catch_up_only is not None and plan_dir is None:
            plan_root = self.checkpoint.directory
            plan = Plan(
                self.model.name,
                0,
                {e.name: EntityPlan(e.name, e.key) for e in self.model.entities},
            )
        else:
            # planning takes the marker before it lists keys: see versioning
            plan, plan_root = self.resolve_plan(plan_dir)
            self.checkpoint.bind(plan)  # a checkpoint of another plan is refused
        if plan.model != self.model.name:
            raise MigrationError(
                f"the plan is for model {plan.model!r}, not {self.model.name!r}",
                hint="re-plan with this model",
            )
        marker = self.resolve_marker(plan)
        unknown = sorted(set(plan.entities) - set(self.readers))
        if unknown:
            raise MigrationError(
                f"the plan names entities the model lacks: {', '.join(unknown)}",
                hint="re-plan with this model",
            )
        report = RunReport(self.model.name, self.table, marker=marker)
        report.dead_letter_file = (
            str(self.options.dead_letter) if self.options.dead_letter else None
        )
        for name in plan.entities:
            report.entities[name] = EntityReport()
        todo: list[Chunk] = []
        chunk_ids_done: dict[str, bool] = {}
        for chunk in plan.chunks():
            if self.options.catch_up_only is not None or self.checkpoint.chunk_done(chunk):
                report.entities[chunk.entity].chunks_skipped += 1
                chunk_ids_done[chunk.id] = True
            else:
                todo.append(chunk)

        sources: queue.Queue[Source] = queue.Queue()
        opened: list[Source] = []
        try:
            for _ in range(max(1, self.options.concurrency)):
                s = Source(self.dsn, self.readers)
                opened.append(s)
                sources.put(s)
            # a bar on a terminal; on a non-TTY (`run > log`) a plain line every few seconds
            progress = Progress("migrate run", self.options.progress)
            for name, ep in plan.entities.items():
                done_rows = sum(c.rows for c in ep.chunks if chunk_ids_done.get(c.id, False))
                progress.add(name, ep.count, done_rows)
            chunks = sum(len(ep.chunks) for ep in plan.entities.values())
            progress.set_chunks(chunks, chunks - len(todo))
            with progress:
                self._backfill(todo, plan_root, sources, report, progress)
                if self.options.catch_up_only is None:
                    self._null_keys(plan, opened[0], report)
                    self._duplicates(plan, plan_root, opened[0], report)
                if self.options.catch_up and not self.checkpoint.run_state().get("catch_up_done"):
                    self._catch_up(plan, marker, opened[0], report)
                if self.options.sweep_orphans:
                    sweep = OrphanSweep(
                        self.sink.client,
                        self.table,
                        self.model,
                        self.layout,
                        self.converter,
                        table_key_names(self.layout),
                        lambda: Source(self.dsn, self.readers),
                    )
                    found = sweep.run(max(1, self.options.concurrency))
                    report.orphans_scanned = found.scanned
                    report.orphans_removed = found.removed
                    report.orphans_unswept = list(sweep.unswept)
        finally:
            self.sink.close()
            for s in opened:
                s.close()
        stats = self.sink.stats
        report.retries = stats.retries
        report.unprocessed = stats.unprocessed
        report.duplicates = stats.duplicates
        report.wcu = stats.wcu
        report.throttled_seconds = stats.throttled_seconds
        report.seconds = time.monotonic() - started
        return report

    def _backfill(
        self,
        todo: Sequence[Chunk],
        plan_root: Path,
        sources: queue.Queue[Source],
        report: RunReport,
        progress: Progress,
    ) -> None:
        """Every batch of every chunk on one bounded pool; a chunk's last batch checkpoints it.

        Batches, not chunks, are the tasks, so a few large chunks still use every worker. A
        worker reads and converts a batch, queues its writes on the sink's write pool and goes
        on to the next batch (PostgreSQL reads overlap DynamoDB writes). At most
        `2 * concurrency` batches are read or in flight at once (a slot is held from the read
        until the batch's last write), so only a few batches' items are in memory.
        """
        workers = max(1, self.options.concurrency)
        slots = threading.BoundedSemaphore(2 * workers)
        size = max(1, self.options.batch_size)
        failures: list[BaseException] = []

        def batch_done(
            state: _ChunkState, read: int, dead: list[dict[str, Any]], keys: int
        ) -> Callable[[int, BaseException | None], None]:
            def done(written: int, error: BaseException | None) -> None:
                # runs on a write-pool thread once the batch's last request has finished
                try:
                    if error is not None:
                        failures.append(error)
                        return
                    progress.advance(state.chunk.entity, keys, written)
                    if state.add(read, written, dead):
                        self._finish_chunk(state, report)
                        progress.chunk_done()
                except BaseException as exc:  # a callback must not raise: record and stop
                    failures.append(exc)
                finally:
                    slots.release()

            return done

        def batch_task(state: _ChunkState, keys: list[tuple[str, ...]]) -> None:
            """Read and convert one batch, queue its writes, return: the worker reads the next
            batch while these are in flight (the slot is released when the writes finish)."""
            queued = False
            try:
                if failures:
                    return
                source = sources.get()
                try:
                    rows = source.rows_by_keys(state.chunk.entity, keys)
                finally:
                    sources.put(source)
                if self.options.after_read is not None:
                    self.options.after_read(state.chunk.entity, [r for r, _ in rows])
                items, bad = self.converter.convert_batch(state.chunk.entity, rows)
                self.sink.write_async(items, batch_done(state, len(rows), bad, len(keys)))
                queued = True
            except BaseException as exc:  # stop submitting; re-raised by the submitter
                failures.append(exc)
            finally:
                if not queued:
                    slots.release()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for chunk in todo:
                if failures:
                    break
                keys = read_chunk(plan_root, chunk)
                batches = [keys[i : i + size] for i in range(0, len(keys), size)]
                state = _ChunkState(chunk, len(batches))
                if not batches:
                    self._finish_chunk(state, report)
                    progress.chunk_done()
                for batch in batches:
                    slots.acquire()
                    if failures:
                        slots.release()
                        break
                    pool.submit(batch_task, state, batch)
        # the workers are done; wait for the writes still in flight (each holds a slot)
        for _ in range(2 * workers):
            slots.acquire()
        for _ in range(2 * workers):
            slots.release()
        if failures:
            raise failures[0]

    def _finish_chunk(self, state: _ChunkState, report: RunReport) -> None:
        """Dead letters first, then the checkpoint: a crash between them repeats records only."""
        chunk = state.chunk
        self.dead.write(state.dead)
        summary = {
            "chunk": chunk.id,
            "entity": chunk.entity,
            "rows_read": state.read,
            "items_written": state.written,
            "dead_letters": len(state.dead),
        }
        self.checkpoint.mark_chunk_done(chunk, summary)
        with self._lock:
            e = report.entities[chunk.entity]
            e.rows_read += state.read
            e.items_written += state.written
            e.dead_letters += len(state.dead)
            e.chunks_done += 1

    def _null_keys(self, plan: Plan, source: Source, report: RunReport) -> None:
        """Dead-letter the rows with a NULL key column (once: checkpointed as `null-keys`)."""
        if self.checkpoint.is_done("null-keys"):
            return
        total = 0
        for name, records in null_key_records(plan, source, self.converter):
            self.dead.write(records)
            report.entities[name].dead_letters += len(records)
            report.entities[name].rows_read += len(records)
            total += len(records)
        self.checkpoint.mark_done("null-keys", {"dead_letters": total})

    def _duplicates(self, plan: Plan, plan_root: Path, source: Source, report: RunReport) -> None:
        """Dead-letter every row of a key the plan found more than once (checkpointed once)."""
        if self.checkpoint.is_done("duplicates"):
            return
        total = 0
        for name, records in duplicate_records(
            plan, plan_root, source, self.converter, self.options.batch_size
        ):
            self.dead.write(records)
            report.entities[name].dead_letters += len(records)
            report.entities[name].rows_read += len(records)
            total += len(records)
        self.checkpoint.mark_done("duplicates", {"dead_letters": total})

    def _catch_up(self, plan: Plan, marker: int, source: Source, report: RunReport) -> None:
        """Conditionally rewrite every row changed since the marker (see `versioning`).

        Rows come in key order; the rows of a page's last key are carried to the next page,
        so rows sharing a key are always judged together (`Converter.convert_batch`).
        """

        def put(entity: str, item: Item) -> bool | dict[str, Any]:
            identity = self.converter.item_identity(entity, item)
            try:
                return self.sink.put_if_newer(item, identity)
            except ItemCollision as exc:
                other = {
                    k: _av_text(v)
                    for k, v in self.converter.item_identity(entity, exc.existing).items()
                }
                return DeadLetters.record(
                    entity,
                    tuple(_av_text(identity.get(k)) for k in self.converter.key_attrs[entity]),
                    f"KeyCollision: the item key already holds another row's item ({other}); "
                    "it is left as it is and this row is not written",
                    {k: _av_text(v) for k, v in identity.items()},
                )

        def write(entity: str, changed: list[tuple[dict[str, Any], int | None]]) -> None:
            # every row of the changed keys, not only the changed ones: a row inserted under
            # an existing key is judged with the row that already holds it
            key = self.converter.key_attrs[entity]
            keys = list(dict.fromkeys(tuple(row.get(k) for k in key) for row, _ in changed))
            rows = source.rows_by_keys(entity, keys)
            items, dead = self.converter.convert_batch(entity, rows)
            results = list(pool.map(lambda item: put(entity, item), items))
            dead.extend(r for r in results if isinstance(r, dict))
            fresh = self.dead.write(dead)
            report.catch_up_rows += len(rows)
            report.catch_up_written += sum(1 for r in results if r is True)
            report.catch_up_skipped += sum(1 for r in results if r is False)
            report.entities.setdefault(entity, EntityReport()).dead_letters += fresh

        with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            for entity in plan.entities:
                carry: list[tuple[dict[str, Any], int | None]] = []
                for page in source.changed_rows(entity, marker, self.options.batch_size):
                    rows = carry + page
                    last = self.converter.identity(entity, rows[-1][0])
                    cut = len(rows)
                    while cut > 0 and self.converter.identity(entity, rows[cut - 1][0]) == last:
                        cut -= 1
                    carry = rows[cut:]
                    if cut:
                        write(entity, rows[:cut])
                if carry:
                    write(entity, carry)
        # last: items a backfill or catch-up write brought back after a delete or a key change
        swept = tombstones.sweep(self.sink, self.options.concurrency)
        report.tombstones += swept.tombstones
        report.stale_removed += swept.removed
        state = self.checkpoint.run_state()
        state["catch_up_done"] = True
        self.checkpoint.save_run_state(state)
