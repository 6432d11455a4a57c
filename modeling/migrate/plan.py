"""`model migrate plan`: each entity's keys cut into CSV chunks, plus a manifest.

A chunk is the unit of work (a worker's job, a checkpoint, an SQS publish): at most
`chunk_size` keys (default 100,000, small enough for a Lambda's time limit). Keys are streamed
with a server-side cursor in the key's native order (`extraction`'s key listing), so memory
stays flat whatever the table size. CSV columns are the entity's key attributes; values are
written as PostgreSQL prints them (text), which is what the runner binds back
(`= ANY(%(ids)s::type[])` casts text to the key type).

The manifest (`manifest.json`) lists per entity the row count, the key columns and per chunk
its file, row count, first and last key and sha256, so a reader can check a chunk before use.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeling.core import ir
from modeling.extraction import extraction_queries
from modeling.migrate.errors import MigrationError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
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


@dataclass
class Plan:
    model: str
    chunk_size: int
    entities: dict[str, EntityPlan]

    def chunks(self) -> list[Chunk]:
        return [c for e in self.entities.values() for c in e.chunks]

    def to_json(self) -> str:
        data = {
            "manifest_version": MANIFEST_VERSION,
            "model": self.model,
            "chunk_size": self.chunk_size,
            "entities": {
                name: {
                    "key": list(e.key),
                    "count": e.count,
                    "null_keys": e.null_keys,
                    "chunks": [
                        {
                            "file": c.file,
                            "rows": c.rows,
                            "first": list(c.first),
                            "last": list(c.last),
                            "sha256": c.sha256,
                        }
                        for c in e.chunks
                    ],
                }
                for name, e in sorted(self.entities.items())
            },
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str) -> Plan:
        data = json.loads(text)
        if data.get("manifest_version") != MANIFEST_VERSION:
            raise MigrationError(
                f"manifest version {data.get('manifest_version')!r} is not {MANIFEST_VERSION}",
                hint="re-run `model migrate plan`",
            )
        entities: dict[str, EntityPlan] = {}
        for name, e in data["entities"].items():
            chunks = [
                Chunk(name, c["file"], c["rows"], tuple(c["first"]), tuple(c["last"]), c["sha256"])
                for c in e["chunks"]
            ]
            entities[name] = EntityPlan(
                name, tuple(e["key"]), e["count"], chunks, e.get("null_keys", 0)
            )
        return Plan(data["model"], data["chunk_size"], entities)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    """Write `path` so that a crash leaves either the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def plan_entity(
    conn: Any, model: ir.Model, entity: ir.Entity, out: Path, chunk_size: int
) -> EntityPlan:
    """Stream one entity's keys into chunk files under `out/<entity>/`."""
    q = extraction_queries(model, entity.name)
    ep = EntityPlan(entity.name, tuple(k.attribute for k in q.key))
    pending: list[tuple[str, ...]] = []

    def flush() -> None:
        if not pending:
            return
        rel = f"{_safe(entity.name)}/chunk-{len(ep.chunks):06d}.csv"
        data = _csv_text(ep.key, pending).encode("utf-8")
        atomic_write(out / rel, data)
        ep.chunks.append(
            Chunk(
                entity.name,
                rel,
                len(pending),
                pending[0],
                pending[-1],
                hashlib.sha256(data).hexdigest(),
            )
        )
        ep.count += len(pending)
        pending.clear()

    for batch in _stream_keys(conn, q.key_listing_sql()):
        for key in batch:
            if any(v is None for v in key):
                ep.null_keys += 1  # cannot be read back by key: the runner dead-letters it
                continue
            pending.append(key)
            if len(pending) >= chunk_size:
                flush()
    flush()
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


def load_plan(directory: Path, verify: bool = True) -> Plan:
    """Read a manifest; with `verify`, check every chunk file's sha256."""
    path = directory / MANIFEST
    if not path.is_file():
        raise MigrationError(f"{path} does not exist", hint="run `model migrate plan` first")
    plan = Plan.from_json(path.read_text(encoding="utf-8"))
    if verify:
        for c in plan.chunks():
            data = (directory / c.file).read_bytes()
            if hashlib.sha256(data).hexdigest() != c.sha256:
                raise MigrationError(
                    f"{directory / c.file}: checksum does not match the manifest",
                    hint="the plan was changed or truncated; re-run `model migrate plan`",
                )
    return plan


def read_chunk(directory: Path, chunk: Chunk) -> list[tuple[str, ...]]:
    """The keys of one chunk file (header row skipped)."""
    with (directory / chunk.file).open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        return [tuple(r) for r in reader]


def upload_plan(directory: Path, url: str) -> None:
    """Copy a plan directory to `s3://bucket/prefix/` (manifest last)."""
    import boto3

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/")
    s3 = boto3.client("s3")
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    for p in [*files, directory / MANIFEST]:
        rel = p.relative_to(directory).as_posix()
        s3.upload_file(str(p), bucket, f"{prefix}/{rel}" if prefix else rel)


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
            target = directory / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
