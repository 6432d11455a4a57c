"""`model migrate plan`: each entity's keys cut into CSV chunks, plus a manifest.

A chunk is the unit of work (a worker's job, a checkpoint, an SQS publish): at most
`chunk_size` keys (default 100,000, small enough for a Lambda's time limit). Keys are streamed
with a server-side cursor in the key's native order (`extraction`'s key listing), so memory
stays flat whatever the table size. CSV columns are the entity's key attributes; values are
written as PostgreSQL prints them (text), which is what the runner binds back
(`= ANY(%(ids)s::type[])` casts text to the key type).

The manifest (`manifest.json`) lists per entity the row count, the key columns and per chunk
its file, row count, first and last key and sha256, so a reader can check a chunk before use.
Its own sha256 (`Plan.sha256`, over the canonical JSON) is the plan's identity: a checkpoint
records it, and a resume against another plan is refused (`checkpoint.Checkpoint.bind`).

Two more facts are fixed when the plan is made, because the plan is what the run trusts:

- the version marker (`versioning.take_marker`), taken BEFORE the keys are listed: a row
  committed after the listing has an xmin at or after it, so the run's catch-up pass writes
  the rows the plan cannot list (a marker taken when the run starts would miss a row committed
  between plan and run);
- the source key's uniqueness. Keys are listed in key order, so rows sharing a key are
  adjacent: such a key is left out of the chunks and written to `<entity>/duplicates.csv`, and
  the run dead-letters every row of it (an item key holds one row; choosing one would lose the
  others silently).

Each entity's files live in `<safe name>-<8 hex of sha256(name)>/`, so entity names that
differ only in case (or in characters `_safe` replaces) never share a directory, not even on
a case-insensitive disk.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeling.core import ir
from modeling.extraction import extraction_queries
from modeling.formats.plan_manifest import MANIFEST, MANIFEST_VERSION
from modeling.migrate.errors import MigrationError
from modeling.migrate.files import (
    count,
    listed_file,
    malformed,
    parse_json_object,
    read_bytes,
    sha256_text,
)
from modeling.migrate.versioning import take_marker

DUPLICATES = "duplicates.csv"
_REPLAN = "re-run `model migrate plan` (the plan directory was changed, truncated or is damaged)"
DEFAULT_CHUNK_SIZE = 100_000
_FETCH = 10_000  # keys per round trip of the server-side cursor


@dataclass(frozen=True)
class Chunk:
    entity: str
    file: str  # relative to the plan directory
    rows: int
    first: tuple[str, ...]
    last: tuple[str, ...]
    sha256: str

    @property
    def id(self) -> str:
        return self.file


@dataclass
class EntityPlan:
    entity: str
    key: tuple[str, ...]
    count: int = 0
    chunks: list[Chunk] = field(default_factory=list)
    null_keys: int = 0  # rows with a NULL key column: the runner dead-letters them
    # keys held by more than one row (each once, in `duplicates`), and how many rows hold them:
    # the runner dead-letters all those rows
    duplicates: Chunk | None = None
    duplicate_rows: int = 0


def _chunk_json(c: Chunk) -> dict[str, Any]:
    return {
        "file": c.file,
        "rows": c.rows,
        "first": list(c.first),
        "last": list(c.last),
        "sha256": c.sha256,
    }


@dataclass
class Plan:
    model: str
    chunk_size: int
    entities: dict[str, EntityPlan]
    # the version marker taken before the keys were listed (None: a plan of the catch-up only)
    marker: int | None = None

    def chunks(self) -> list[Chunk]:
        return [c for e in self.entities.values() for c in e.chunks]

    @property
    def sha256(self) -> str:
        """The plan's identity: the sha256 of its canonical manifest (chunk hashes included)."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def to_json(self) -> str:
        data = {
            "manifest_version": MANIFEST_VERSION,
            "model": self.model,
            "chunk_size": self.chunk_size,
            "marker": self.marker,
            "entities": {
                name: {
                    "key": list(e.key),
                    "count": e.count,
                    "null_keys": e.null_keys,
                    "duplicate_rows": e.duplicate_rows,
                    "duplicates": _chunk_json(e.duplicates) if e.duplicates else None,
                    "chunks": [_chunk_json(c) for c in e.chunks],
                }
                for name, e in sorted(self.entities.items())
            },
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str, where: str = MANIFEST) -> Plan:
        """Parse a manifest; anything malformed is a MigrationError naming `where` and what."""
        data = parse_json_object(text, where, _REPLAN, "a plan manifest (a JSON object)")
        if data.get("manifest_version") != MANIFEST_VERSION:
            raise MigrationError(
                f"{where}: manifest version {data.get('manifest_version')!r} is not "
                f"{MANIFEST_VERSION}",
                hint="re-run `model migrate plan` with this version of the tool",
            )
        try:
            return _plan_from_data(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise malformed(where, exc, "manifest", _REPLAN) from None


def _text_tuple(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r:.80}")
    return tuple(value)


def _plan_file(value: Any) -> str:
    """A chunk's relative path: never absolute, never `..` (it is joined to the plan dir)."""
    return listed_file(value, "chunk file", "plan")


def _chunk_from(entity: str, c: Any) -> Chunk:
    if not isinstance(c, dict):
        raise ValueError(f"a chunk of {entity} is not an object")
    sha = sha256_text(c["sha256"], "chunk sha256")
    return Chunk(
        entity,
        _plan_file(c["file"]),
        count(c["rows"], "rows"),
        _text_tuple(c["first"]),
        _text_tuple(c["last"]),
        sha,
    )


def _plan_from_data(data: dict[str, Any]) -> Plan:
    entities: dict[str, EntityPlan] = {}
    raw = data["entities"]
    if not isinstance(raw, dict):
        raise ValueError("entities must be an object")
    for name, e in raw.items():
        if not isinstance(e, dict) or not isinstance(e["chunks"], list):
            raise ValueError(f"entity {name!r:.80} must be an object with a list of chunks")
        dup = e.get("duplicates")
        entities[name] = EntityPlan(
            name,
            _text_tuple(e["key"]),
            count(e["count"], "count"),
            [_chunk_from(name, c) for c in e["chunks"]],
            count(e.get("null_keys", 0), "null_keys"),
            _chunk_from(name, dup) if dup is not None else None,
            count(e.get("duplicate_rows", 0), "duplicate_rows"),
        )
        _check_chunk_list(entities[name])
    marker = data.get("marker")
    if marker is not None:
        marker = count(marker, "marker")
    if not isinstance(data["model"], str):
        raise ValueError("model must be a string")
    return Plan(data["model"], count(data["chunk_size"], "chunk_size"), entities, marker)


_CHUNK_NAME = re.compile(r"chunk-(\d{6})\.csv")


def _check_chunk_list(e: EntityPlan) -> None:
    """The chunk entries are the ones `plan_entity` wrote: their rows add up to the entity's
    count, and their files are numbered 0, 1, 2, ... with no gap. A chunk entry dropped or
    edited by hand would otherwise leave its rows unwritten by a run that reports success."""
    rows = sum(c.rows for c in e.chunks)
    if rows != e.count:
        raise ValueError(
            f"entity {e.entity!r:.80} counts {e.count} rows but its chunks list {rows}: "
            "a chunk entry is missing or was edited"
        )
    for i, c in enumerate(e.chunks):
        m = _CHUNK_NAME.fullmatch(c.file.rsplit("/", 1)[-1])
        if m is not None and int(m.group(1)) != i:
            raise ValueError(
                f"entity {e.entity!r:.80}: chunk {i} is {c.file!r:.120}, the plan numbers its "
                f"chunks from 0 without gaps (chunk-{i:06d}.csv): a chunk entry is missing"
            )


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    """Write `path` so that a crash leaves either the old or the new file, never half.

    A failed write that names no file (a full disk: ENOSPC) is a MigrationError naming
    `path`; one that names its file (a directory in the way) reaches the CLI's path errors.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is not None:
            raise
        raise _unwritable(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _unwritable(path: Path, exc: OSError) -> MigrationError:
    return MigrationError(
        f"{path}: cannot write it: {exc.strerror or exc}",
        "free space there (or choose another directory) and run the command again: a run "
        "resumes from its checkpoint, whose files are written whole or not at all",
    )


def _stream_keys(conn: Any, sql: str) -> Iterator[list[tuple[str, ...]]]:
    with conn.transaction(), conn.cursor(name="model_migrate_plan") as cur:
        cur.itersize = _FETCH
        cur.execute(sql, {})
        while True:
            batch = cur.fetchmany(_FETCH)
            if not batch:
                return
            yield [tuple(r) for r in batch]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def entity_directory(name: str) -> str:
    """`<safe name>-<8 hex>`: distinct for distinct names, also on a case-insensitive disk
    (`Cart` and `cart` differ in the hash), and readable."""
    return f"{_safe(name)[:64]}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def plan_entity(
    conn: Any, model: ir.Model, entity: ir.Entity, out: Path, chunk_size: int
) -> EntityPlan:
    """Stream one entity's keys into chunk files under `out/<entity directory>/`.

    Keys come in key order, so rows sharing a key are adjacent: a key is held back until the
    next one differs, and a key seen twice goes to the duplicates file instead of a chunk.
    """
    q = extraction_queries(model, entity.name)
    ep = EntityPlan(entity.name, tuple(k.attribute for k in q.key))
    directory = entity_directory(entity.name)
    pending: list[tuple[str, ...]] = []
    duplicated: list[tuple[str, ...]] = []

    def chunk_of(rel: str, keys: list[tuple[str, ...]]) -> Chunk:
        data = _csv_text(ep.key, keys).encode("utf-8")
        atomic_write(out / rel, data)
        return Chunk(
            entity.name, rel, len(keys), keys[0], keys[-1], hashlib.sha256(data).hexdigest()
        )

    def flush() -> None:
        if not pending:
            return
        ep.chunks.append(chunk_of(f"{directory}/chunk-{len(ep.chunks):06d}.csv", pending))
        ep.count += len(pending)
        pending.clear()

    held: tuple[str, ...] | None = None  # the last key, until the next one differs
    held_rows = 0
    for batch in _stream_keys(conn, q.key_listing_sql()):
        for key in batch:
            if any(v is None for v in key):
                ep.null_keys += 1  # cannot be read back by key: the runner dead-letters it
                continue
            if key == held:
                held_rows += 1
                continue
            if held is not None:
                if held_rows > 1:
                    duplicated.append(held)
                    ep.duplicate_rows += held_rows
                else:
                    pending.append(held)
                    if len(pending) >= chunk_size:
                        flush()
            held, held_rows = key, 1
    if held is not None:
        if held_rows > 1:
            duplicated.append(held)
            ep.duplicate_rows += held_rows
        else:
            pending.append(held)
    flush()
    if duplicated:
        ep.duplicates = chunk_of(f"{directory}/{DUPLICATES}", duplicated)
    return ep


def make_plan(
    dsn: str,
    model: ir.Model,
    out: Path,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    entities: Sequence[str] | None = None,
) -> Plan:
    """Plan every entity (or the named ones) into `out`, writing the manifest last."""
    import psycopg

    if chunk_size < 1:
        raise MigrationError("--chunk-size must be at least 1")
    names = list(entities or [e.name for e in model.entities])
    plan = Plan(model.name, chunk_size, {})
    try:
        # the marker first: every row the listing below cannot see is at or after it
        with psycopg.connect(dsn, autocommit=True) as conn:
            plan.marker = take_marker(conn)
        with psycopg.connect(dsn) as conn:
            for name in names:
                ent = model.entity(name)
                if ent is None:
                    raise MigrationError(f"no entity {name!r} in model {model.name}")
                plan.entities[name] = plan_entity(conn, model, ent, out, chunk_size)
    except psycopg.OperationalError as exc:
        raise MigrationError(f"cannot connect to the source: {exc}", hint="check --source") from exc
    except psycopg.errors.UndefinedTable as exc:
        raise MigrationError(
            f"the source lacks a table of the model: {exc}",
            hint="check the model's table/schema names against the database",
        ) from exc
    atomic_write(out / MANIFEST, plan.to_json().encode("utf-8"))
    return plan


def _read_bytes(path: Path, what: str) -> bytes:
    return read_bytes(path, what, _REPLAN)


def plan_files(plan: Plan) -> list[Chunk]:
    """Every file the manifest lists: the chunks and the duplicates files."""
    extra = [e.duplicates for e in plan.entities.values() if e.duplicates is not None]
    return [*plan.chunks(), *extra]


def load_plan(directory: Path, verify: bool = True) -> Plan:
    """Read a manifest; with `verify`, check every listed file's sha256."""
    path = directory / MANIFEST
    if not path.exists():
        raise MigrationError(f"{path} does not exist", hint="run `model migrate plan` first")
    text = _read_bytes(path, "the manifest").decode("utf-8", errors="replace")
    plan = Plan.from_json(text, str(path))
    if verify:
        for c in plan_files(plan):
            data = _read_bytes(directory / c.file, "a chunk file listed in the manifest")
            if hashlib.sha256(data).hexdigest() != c.sha256:
                raise MigrationError(
                    f"{directory / c.file}: checksum does not match the manifest",
                    hint="the plan was changed or truncated; re-run `model migrate plan`",
                )
    return plan


def read_chunk(directory: Path, chunk: Chunk) -> list[tuple[str, ...]]:
    """The keys of one chunk file (header row skipped); a malformed file is a MigrationError."""
    path = directory / chunk.file
    text = _read_bytes(path, "a chunk file listed in the manifest").decode(
        "utf-8", errors="replace"
    )
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise MigrationError(f"{path}: not a CSV file ({exc})", _REPLAN) from None
    width = len(rows[0]) if rows else 0
    keys = [tuple(r) for r in rows[1:]]
    bad = next((i for i, k in enumerate(keys, 2) if len(k) != width), None)
    if bad is not None or len(keys) != chunk.rows:
        where = (
            f"line {bad} has another number of columns"
            if bad
            else (f"{len(keys)} keys, the manifest says {chunk.rows}")
        )
        raise MigrationError(f"{path}: {where}", _REPLAN)
    return keys


def upload_plan(directory: Path, url: str) -> None:
    """Copy a plan directory to `s3://bucket/prefix/` (manifest last), write-once.

    Every object is put with `If-None-Match: *` (S3's conditional write): a plan already at
    that prefix is never overwritten, so workers that read it mid-run never see another plan's
    chunks. Plan objects are immutable; a new plan goes to a new prefix.
    """
    import boto3
    from botocore.exceptions import ClientError

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/")
    s3 = boto3.client("s3")
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    for p in [*files, directory / MANIFEST]:
        rel = p.relative_to(directory).as_posix()
        key = f"{prefix}/{rel}" if prefix else rel
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=p.read_bytes(), IfNoneMatch="*")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise MigrationError(
                    f"s3://{bucket}/{key} already exists: plans are write-once",
                    hint="upload the new plan to a new prefix (e.g. with today's date)",
                ) from None
            raise


def download_plan(url: str, directory: Path) -> None:
    """Copy a plan from `s3://bucket/prefix/` into `directory`."""
    import boto3

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/")
    s3 = boto3.client("s3")
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix) + 1 :] if prefix else obj["Key"]
            try:
                _plan_file(rel)
            except ValueError:
                raise MigrationError(
                    f"s3://{bucket}/{obj['Key']}: a key that would be written outside {directory}",
                    hint="download plans only from prefixes written by `model migrate plan`",
                ) from None
            target = directory / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
