"""`model migrate run`: the local runner (chunks -> workers -> transformers -> BatchWriteItem).

Per chunk a worker (a thread with its own PostgreSQL connection) reads the chunk's keys, fetches
the rows `batch_size` keys at a time (`= ANY`, never one query per key), converts each row with
the generated transformers (adding `_version`), and writes the items through the shared `Sink`
(batches of 25, retries, the WCU cap). Rows that cannot become items go to the dead-letter
JSONL and the run continues. When a chunk is complete, its checkpoint is written; a rerun skips
it. After the last chunk, the catch-up pass (see `versioning`) rewrites, conditionally, every
row changed since the run first started, and then sweeps the tombstones the dual-write
repository left (see `tombstones`), removing any item a delete or a key change retired.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from modeling.core import ir
from modeling.migrate import tombstones
from modeling.migrate import transformers as transformer_loader
from modeling.migrate.checkpoint import Checkpoint
from modeling.migrate.errors import MigrationError
from modeling.migrate.plan import Chunk, EntityPlan, Plan, load_plan, make_plan, read_chunk
from modeling.migrate.progress import Progress
from modeling.migrate.sink import Item, Sink
from modeling.migrate.source import EntityReader, Source
from modeling.migrate.versioning import (
    VERSION_ATTRIBUTE,
    VersionSource,
    pin_versions,
    take_marker,
    version_sources,
)

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
    # this marker (the publisher's `run.json`)
    catch_up_only: int | None = None
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
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def record(entity: str, key: Any, reason: str, row: Mapping[str, Any] | None) -> dict[str, Any]:
        return {
            "entity": entity,
            "key": [_jsonable(v) for v in key] if isinstance(key, tuple | list) else _jsonable(key),
            "reason": reason,
            "row": {k: _jsonable(v) for k, v in (row or {}).items()},
        }

    def write(self, records: Sequence[dict[str, Any]]) -> None:
        if not records or self.path is None:
            return
        text = "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in records)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()


def table_key_names(layout: ir.Layout) -> tuple[str, ...]:
    table = next(i for i in layout.indexes if i.kind == "table")
    return (table.pk.name,) if table.sk is None else (table.pk.name, table.sk.name)


class Converter:
    """Rows -> items with the generated transformers; failures become dead-letter records."""

    def __init__(self, module: ModuleType, model: ir.Model) -> None:
        self.module = module
        self.to_item = module.TO_ITEM
        self.error = module.TransformError
        self.key_attrs = {e.name: e.key for e in model.entities}

    def convert(
        self, entity: str, rows: Sequence[tuple[dict[str, Any], int | None]]
    ) -> tuple[list[Item], list[dict[str, Any]]]:
        to_item = self.to_item[entity]
        items: list[Item] = []
        dead: list[dict[str, Any]] = []
        for row, version in rows:
            try:
                item = to_item(row)
            except self.error as exc:
                key = exc.row_key if exc.row_key is not None else ()
                dead.append(
                    DeadLetters.record(entity, key, f"{type(exc).__name__}: {exc.reason}", row)
                )
                continue
            if version is not None:
                item[VERSION_ATTRIBUTE] = {"N": str(version)}
            items.append(item)
        return items, dead


def _older(a: int, b: int) -> int:
    """The older of two 32-bit xids (modulo arithmetic, as PostgreSQL compares them)."""
    return a if (b - a) % 2**32 < 2**31 else b


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
        self.converter = Converter(self.module, model)
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

    def resolve_marker(self) -> int:
        state = self.checkpoint.run_state()
        pin_versions(state, self.versions)  # a resume must keep each entity's version source
        given = self.options.catch_up_only
        if given is not None:
            # an older marker covers more rows; never move it forward
            marker = given if "marker" not in state else _older(int(state["marker"]), given)
            state.update(marker=marker, model=self.model.name, table=self.table)
            self.checkpoint.save_run_state(state)
            return marker
        if "marker" in state:
            return int(state["marker"])
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            marker = take_marker(conn)
        state.update(marker=marker, model=self.model.name, table=self.table)
        self.checkpoint.save_run_state(state)
        return marker

    # ------------------------------------------------------------------ run

    def run(self, plan_dir: Path | None = None) -> RunReport:
        started = time.monotonic()
        marker = self.resolve_marker()  # before any read: see versioning
        if self.options.catch_up_only is not None and plan_dir is None:
            plan_root = self.checkpoint.directory
            plan = Plan(
                self.model.name,
                0,
                {e.name: EntityPlan(e.name, e.key) for e in self.model.entities},
            )
        else:
            plan, plan_root = self.resolve_plan(plan_dir)
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
        for chunk in plan.chunks():
            if self.checkpoint.is_done(chunk.id) or self.options.catch_up_only is not None:
                report.entities[chunk.entity].chunks_skipped += 1
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
                done_rows = sum(c.rows for c in ep.chunks if self.checkpoint.is_done(c.id))
                progress.add(name, ep.count, done_rows)
            chunks = sum(len(ep.chunks) for ep in plan.entities.values())
            progress.set_chunks(chunks, chunks - len(todo))
            with progress:
                self._backfill(todo, plan_root, sources, report, progress)
                if self.options.catch_up_only is None:
                    self._null_keys(plan, opened[0], report)
                if self.options.catch_up and not self.checkpoint.run_state().get("catch_up_done"):
                    self._catch_up(plan, marker, opened[0], report)
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
                items, bad = self.converter.convert(state.chunk.entity, rows)
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
        self.checkpoint.mark_done(chunk.id, summary)
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
        for name, ep in plan.entities.items():
            if not ep.null_keys:
                continue
            key = self.converter.key_attrs[name]
            rows = source.null_key_rows(name, ep.null_keys + 1_000)
            records = [
                DeadLetters.record(
                    name,
                    tuple(row.get(k) for k in key),
                    "NULL key: " + ", ".join(k for k in key if row.get(k) is None) + " is NULL",
                    row,
                )
                for row in rows
            ]
            self.dead.write(records)
            report.entities[name].dead_letters += len(records)
            report.entities[name].rows_read += len(records)
            total += len(records)
        self.checkpoint.mark_done("null-keys", {"dead_letters": total})

    def _catch_up(self, plan: Plan, marker: int, source: Source, report: RunReport) -> None:
        """Conditionally rewrite every row changed since the marker (see `versioning`), then
        sweep the tombstones (see `tombstones`): deleted rows and old keys stay gone."""
        with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            for entity in plan.entities:
                for rows in source.changed_rows(entity, marker, self.options.batch_size):
                    items, dead = self.converter.convert(entity, rows)
                    self.dead.write(dead)
                    results = list(pool.map(self.sink.put_if_newer, items))
                    report.catch_up_rows += len(rows)
                    report.catch_up_written += sum(results)
                    report.catch_up_skipped += len(results) - sum(results)
        # last: items a backfill or catch-up write brought back after a delete or a key change
        swept = tombstones.sweep(self.sink, self.options.concurrency)
        report.tombstones += swept.tombstones
        report.stale_removed += swept.removed
        state = self.checkpoint.run_state()
        state["catch_up_done"] = True
        self.checkpoint.save_run_state(state)
