"""`model migrate export`: the bulk path for a new table (DynamoDB's Import from S3).

ImportTable creates a new table (GSIs included) from files in S3 without consuming write
capacity: priced per GB of uncompressed source data, far below BatchWriteItem's write request
units for billions of rows. This module writes those files and the request:

- **Rows**: the same key chunks as `migrate plan` (`plan.make_plan`, or a given plan), read
  with the same `Source` batches as `migrate run` and converted by the same generated
  transformers (`runner.Converter`: item content, `_version`, duplicates and key collisions),
  so an imported item is byte for byte the item the backfill would write. Rows that cannot
  become items go to the dead-letter JSONL with the reason (NULL keys and keys the plan found
  twice too, `runner.null_key_records` / `duplicate_records`), and the report counts them.
- **ImportTable's own rules**, checked per item before it is written (`import_problem`): the
  table's key attributes present with the defined type (S/N/B) and within their sizes, GSI key
  attributes (when present) typed as defined and within their sizes, the item <= 400 KB. A
  failing item is dead-lettered: ImportTable would skip it into CloudWatch Logs, and the table
  would silently lack it.
- **Files**: `data/part-NNNNNN.json.gz`, one `{"Item": {...}}` per line (the DynamoDB JSON
  format `InputFormat: DYNAMODB_JSON` reads; `B`/`BS` values in base64), gzip-compressed,
  rolled when a file reaches `file_bytes` of compressed data. Memory stays bounded: at most
  `2 x concurrency` batches are read or waiting, and the writer streams into one gzip file at a
  time. Output is deterministic for the same rows (ordered writes, gzip mtime 0). Only data
  files live under `data/` (ImportTable imports every object under its key prefix).
- **Manifest** (`export-manifest.json`, beside `data/`): per file its items, bytes, uncompressed
  bytes and sha256; per entity rows read, items and dead letters; the plan's sha256 and its
  version marker. The marker is taken before the keys are listed, so every row changed after
  the export has a version at or after it: `migrate run --catch-up-only MARKER` after the
  import brings the table up to date exactly as after a normal backfill.
- **S3** (`s3://bucket/prefix`): each file is uploaded when it is closed (then removed unless
  an output directory was asked for), the manifest last; the request's `S3KeyPrefix` is
  `prefix/data/`.
- **The request** (`import_request`): `TableCreationParameters` from the compiled table
  definition (`api.table_requests`, the source of create-table.json and CloudFormation), checked
  against botocore's service model. What ImportTable cannot set (tags, deletion protection,
  streams, point-in-time recovery, TTL) is listed as follow-up calls. A model with local
  secondary indexes cannot be imported (ImportTable creates GSIs only): that is an error.

`load_export` is the small loader the tests use on DynamoDB Local (which has no ImportTable):
it checks each file's sha256 and item count against the manifest and writes the items with
BatchWriteItem through the migration's `Sink` (25 items / 16 MB per request, retries).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import os
import queue
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from modeling import api
from modeling.core import ir
from modeling.core.limits import (
    IMPORT_OBJECTS,
    ITEM_BYTES,
    KEY_ATTRIBUTE_TYPES,
    PARTITION_KEY_BYTES,
    SORT_KEY_BYTES,
)
from modeling.migrate import transformers as transformer_loader
from modeling.migrate.errors import MigrationError
from modeling.migrate.files import (
    check_sha256,
    count,
    listed_file,
    malformed,
    read_json_object,
    reading,
    sha256_text,
)
from modeling.migrate.package import parse_s3_url
from modeling.migrate.plan import Plan, atomic_write, load_plan, make_plan, read_chunk
from modeling.migrate.progress import Progress
from modeling.migrate.runner import (
    Converter,
    DeadLetters,
    duplicate_records,
    null_key_records,
)
from modeling.migrate.sink import Item, Sink
from modeling.migrate.source import EntityReader, Source
from modeling.migrate.versioning import VersionSource, version_sources
from modeling.migrate.wire import encode_bytes

EXPORT_VERSION = 1
MANIFEST = "export-manifest.json"
REQUEST = "import-table.json"
DATA = "data"
INPUT_FORMAT = "DYNAMODB_JSON"
COMPRESSION = "GZIP"
DEFAULT_FILE_BYTES = 128 * 1024 * 1024  # compressed bytes per data file
# the keys of create_table's kwargs ImportTable's TableCreationParameters takes
_CREATION_KEYS = (
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "SSESpecification",
    "GlobalSecondaryIndexes",
)


@dataclass
class ExportOptions:
    concurrency: int = 4
    batch_size: int = 1_000
    chunk_size: int = 100_000
    file_bytes: int = DEFAULT_FILE_BYTES
    dead_letter: Path | None = None
    version_column: str | None = None
    progress: bool = True
    compresslevel: int = 6


@dataclass
class DataFile:
    file: str  # relative to the export root: data/part-000000.json.gz
    items: int
    bytes: int  # compressed, as stored
    uncompressed_bytes: int
    sha256: str  # of the stored (compressed) bytes


@dataclass
class EntityExport:
    rows_read: int = 0
    items: int = 0
    dead_letters: int = 0


@dataclass
class ExportReport:
    model: str
    table: str
    marker: int
    plan_sha256: str
    files: list[DataFile] = field(default_factory=list)
    entities: dict[str, EntityExport] = field(default_factory=dict)
    seconds: float = 0.0
    dead_letter_file: str | None = None
    s3: dict[str, str] | None = None  # {"bucket", "prefix"} of the uploaded data

    @property
    def items(self) -> int:
        return sum(f.items for f in self.files)

    @property
    def rows_read(self) -> int:
        return sum(e.rows_read for e in self.entities.values())

    @property
    def dead_letters(self) -> int:
        return sum(e.dead_letters for e in self.entities.values())

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def uncompressed_bytes(self) -> int:
        return sum(f.uncompressed_bytes for f in self.files)

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    def manifest(self) -> dict[str, Any]:
        """The manifest's content (deterministic: no timings)."""
        return {
            "export_version": EXPORT_VERSION,
            "model": self.model,
            "table": self.table,
            "marker": self.marker,
            "plan_sha256": self.plan_sha256,
            "format": INPUT_FORMAT,
            "compression": COMPRESSION,
            "files": [asdict(f) for f in self.files],
            "entities": {n: asdict(e) for n, e in sorted(self.entities.items())},
            "totals": {
                "items": self.items,
                "rows_read": self.rows_read,
                "dead_letters": self.dead_letters,
                "bytes": self.bytes,
                "uncompressed_bytes": self.uncompressed_bytes,
            },
            "s3": self.s3,
        }

    def as_dict(self) -> dict[str, Any]:
        data = self.manifest()
        data.update(
            seconds=round(self.seconds, 3),
            items_per_second=round(self.items_per_second, 1),
            dead_letter_file=self.dead_letter_file,
        )
        return data


# --------------------------------------------------------------------------- ImportTable rules


def _value_bytes(kind: str, payload: Any) -> int:
    if kind == "S":
        return len(str(payload).encode("utf-8"))
    if kind == "B":
        if isinstance(payload, bytes | bytearray | memoryview):
            return len(bytes(payload))
        return len(base64.b64decode(payload))
    return 1  # N: never empty, its size limit is the 38 digits the transformers check


def key_slots(definition: Mapping[str, Any]) -> list[tuple[str, str, str, int, bool]]:
    """(index label, attribute, type, byte limit, required) of every key attribute of the
    table definition: the table's keys are required, a GSI's are checked only when present
    (an item without them is simply not in that index)."""
    types = {d["AttributeName"]: d["AttributeType"] for d in definition["AttributeDefinitions"]}
    out: list[tuple[str, str, str, int, bool]] = []
    sections: list[tuple[str, Sequence[Mapping[str, str]], bool]] = [
        ("table", definition["KeySchema"], True)
    ]
    for g in definition.get("GlobalSecondaryIndexes", []) or []:
        sections.append((f"GSI {g['IndexName']}", g["KeySchema"], False))
    for label, schema, required in sections:
        for k in schema:
            limit = PARTITION_KEY_BYTES if k["KeyType"] == "HASH" else SORT_KEY_BYTES
            name = k["AttributeName"]
            out.append((label, name, types[name], limit, required))
    return out


def import_problem(
    item: Mapping[str, Any],
    slots: Sequence[tuple[str, str, str, int, bool]],
    item_size: Callable[[Mapping[str, Any]], int],
) -> str | None:
    """Why ImportTable would refuse this item (None: it imports): a table key attribute
    missing, a key attribute of another type than defined or of 0 or too many bytes, an item
    over 400 KB."""
    for label, name, kind, limit, required in slots:
        value = item.get(name)
        if value is None:
            if required:
                return f"ImportRefused: the {label} key attribute {name} is missing"
            continue
        if not isinstance(value, Mapping) or len(value) != 1:
            return f"ImportRefused: the {label} key attribute {name} is not one typed value"
        ((tag, payload),) = value.items()
        if tag != kind or tag not in KEY_ATTRIBUTE_TYPES:
            return (
                f"ImportRefused: the {label} key attribute {name} is of type {tag}; the table "
                f"defines it as {kind}"
            )
        size = _value_bytes(tag, payload)
        if size < 1 or size > limit:
            return (
                f"ImportRefused: the {label} key attribute {name} is {size} bytes; DynamoDB "
                f"allows 1 to {limit}"
            )
    size = item_size(item)
    if size > ITEM_BYTES:
        return f"ItemTooLarge: the item is {size} bytes; DynamoDB's limit is {ITEM_BYTES} (400 KB)"
    return None


def item_line(item: Item) -> bytes:
    """One line of the DynamoDB JSON import format: `{"Item": {...}}` and a newline."""
    text = json.dumps(
        {"Item": item}, separators=(",", ":"), ensure_ascii=False, default=encode_bytes
    )
    return text.encode("utf-8") + b"\n"


def item_from_line(line: bytes) -> Item:
    """The inverse of `item_line`: `B`/`BS` values back to bytes (as boto3 sends them)."""
    data = json.loads(line)
    if not isinstance(data, dict) or set(data) != {"Item"} or not isinstance(data["Item"], dict):
        raise ValueError('a line must be one object {"Item": {...}}')
    return {name: _decode(value) for name, value in data["Item"].items()}


def _decode(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"not an attribute value: {value!r:.80}")
    ((tag, payload),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(payload, validate=True)}
    if tag == "BS":
        return {"BS": [base64.b64decode(p, validate=True) for p in payload]}
    if tag == "L":
        return {"L": [_decode(v) for v in payload]}
    if tag == "M":
        return {"M": {k: _decode(v) for k, v in payload.items()}}
    return {tag: payload}


# --------------------------------------------------------------------------- the request


def import_request(
    layout: ir.Layout,
    model: ir.Model,
    bucket: str,
    prefix: str,
    table_name: str | None = None,
    *,
    bucket_owner: str | None = None,
    client_token: str | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(ImportTable kwargs, {call: kwargs} of the follow-ups ImportTable cannot do).

    `prefix` is the data prefix (`.../data/`). The follow-ups are what create-table.json and
    post-create-table.json set beyond `TableCreationParameters`: deletion protection and
    streams (`update_table`), tags (`tag_resource`, its `ResourceArn` is the import's
    `TableArn`), point-in-time recovery, TTL.
    """
    create, post = api.table_requests(layout, model, table_name)
    if create.get("LocalSecondaryIndexes"):
        names = ", ".join(i["IndexName"] for i in create["LocalSecondaryIndexes"])
        raise MigrationError(
            f"the table has local secondary indexes ({names}); ImportTable creates GSIs only, "
            "and an LSI can be added only when a table is created",
            hint="use `model migrate run` (BatchWriteItem) for this model",
        )
    params = {k: create[k] for k in _CREATION_KEYS if k in create}
    source: dict[str, str] = {"S3Bucket": bucket, "S3KeyPrefix": prefix}
    if bucket_owner:
        source["S3BucketOwner"] = bucket_owner
    request: dict[str, Any] = {
        "S3BucketSource": source,
        "InputFormat": INPUT_FORMAT,
        "InputCompressionType": COMPRESSION,
        "TableCreationParameters": params,
    }
    if client_token:
        request["ClientToken"] = client_token
    follow: dict[str, dict[str, Any]] = {}
    update: dict[str, Any] = {
        k: create[k]
        for k in ("DeletionProtectionEnabled", "StreamSpecification", "TableClass")
        if k in create
    }
    if update:
        follow["update_table"] = {"TableName": params["TableName"], **update}
    if create.get("Tags"):
        follow["tag_resource"] = {"ResourceArn": "<TableArn of the import>", "Tags": create["Tags"]}
    follow.update(post)
    check_request(request)
    return request, follow


def check_request(request: Mapping[str, Any]) -> None:
    """Validate an ImportTable request against botocore's service model (the shapes, types,
    lengths and enums the API accepts); MigrationError listing every problem."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("dynamodb")
    shape = model.operation_model("ImportTable").input_shape
    assert shape is not None  # ImportTable has an input
    report = ParamValidator().validate(dict(request), shape)
    if report.has_errors():
        raise MigrationError(
            "the ImportTable request is invalid: " + report.generate_report(),
            hint="check --s3 (bucket and prefix) and the table definition (model compile)",
        )


def client_token(manifest: Mapping[str, Any], table: str) -> str:
    """ImportTable's idempotency token: the same export into the same table starts once."""
    text = json.dumps({"manifest": manifest, "table": table}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:36]


def parse_s3(url: str) -> tuple[str, str]:
    """(bucket, prefix without slashes at either end) of `--s3 s3://bucket/prefix`: a bucket
    name S3 cannot hold is refused here, before the export reads a row (S3 refused it only at
    the upload, and botocore's message about it broke the error printer)."""
    return parse_s3_url(url, "--s3")


def data_prefix(prefix: str) -> str:
    return f"{prefix}/{DATA}/" if prefix else f"{DATA}/"


# --------------------------------------------------------------------------- files


class _Hashing:
    """A binary file that hashes and counts what is written to it (gzip's output).

    A write that fails without naming its file (a full disk: ENOSPC) is a MigrationError
    naming it: before, an OSError traceback.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = path.open("wb")
        self.sha = hashlib.sha256()
        self.size = 0

    def _failed(self, exc: OSError) -> MigrationError:
        return MigrationError(
            f"{self.path}: cannot write the export file: {exc.strerror or exc}",
            "free space there (or export to another directory) and export again",
        )

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        try:
            return self.fh.write(data)
        except OSError as exc:
            raise self._failed(exc) from None

    def flush(self) -> None:
        try:
            self.fh.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def close(self) -> None:
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
        except OSError as exc:
            raise self._failed(exc) from None
        finally:
            with contextlib.suppress(OSError):
                self.fh.close()


class PartWriter:
    """Streams lines into `data/part-NNNNNN.json.gz`, starting a new file at `cap` bytes of
    compressed output; `on_close(path, DataFile)` runs for each finished file."""

    def __init__(
        self,
        root: Path,
        cap: int,
        on_close: Callable[[Path, DataFile], None],
        compresslevel: int = 6,
    ) -> None:
        self.root = root
        self.cap = max(1, cap)
        self.on_close = on_close
        self.level = compresslevel
        self.files: list[DataFile] = []
        self._raw: _Hashing | None = None
        self._gz: gzip.GzipFile | None = None
        self._items = 0
        self._plain = 0
        self._pending = 0  # uncompressed bytes since the last sync flush
        self._rel = ""
        (root / DATA).mkdir(parents=True, exist_ok=True)

    def write(self, line: bytes) -> None:
        if self._gz is None:
            self._open()
        assert self._gz is not None and self._raw is not None
        self._gz.write(line)
        self._items += 1
        self._plain += len(line)
        self._pending += len(line)
        if self._pending >= self.cap:
            # deflate holds its input until a block is full: a sync flush makes the file's
            # size catch up, so a file never runs past the cap by more than one cap of input
            self._gz.flush(zlib.Z_SYNC_FLUSH)
            self._pending = 0
        if self._raw.size >= self.cap:
            self._close()

    def _open(self) -> None:
        if len(self.files) >= IMPORT_OBJECTS:
            raise MigrationError(
                f"the export needs more than {IMPORT_OBJECTS:,} files, ImportTable's limit "
                "of objects per import",
                hint="raise --file-size-mb",
            )
        self._rel = f"{DATA}/part-{len(self.files):06d}.json.gz"
        self._raw = _Hashing(self.root / self._rel)
        # no name and mtime 0 in the gzip header: the same rows give the same bytes
        self._gz = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._raw, compresslevel=self.level, mtime=0
        )
        self._items = 0
        self._plain = 0
        self._pending = 0

    def _close(self) -> None:
        if self._gz is None or self._raw is None:
            return
        self._gz.close()
        self._raw.close()
        done = DataFile(
            self._rel, self._items, self._raw.size, self._plain, self._raw.sha.hexdigest()
        )
        self.files.append(done)
        self._gz, self._raw = None, None
        self.on_close(self.root / done.file, done)

    def close(self) -> None:
        self._close()


class S3Upload:
    """Uploads each finished data file under `prefix/data/` (then the manifest), write-once."""

    def __init__(self, bucket: str, prefix: str, keep: bool, client: Any = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.keep = keep
        self.s3 = client or boto3.client("s3")

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def put(self, path: Path, rel: str) -> None:
        from boto3.s3.transfer import TransferConfig

        # multipart above 64 MB: memory stays at a few parts whatever the file size
        config = TransferConfig(multipart_threshold=64 * 1024**2, max_concurrency=4)
        self.s3.upload_file(str(path), self.bucket, self.key(rel), Config=config)
        if not self.keep:
            path.unlink(missing_ok=True)

    def check_empty(self) -> None:
        """Refuse a prefix that already holds data: ImportTable would import it too."""
        listed = self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix=data_prefix(self.prefix), MaxKeys=1
        )
        if listed.get("KeyCount", 0):
            raise MigrationError(
                f"s3://{self.bucket}/{data_prefix(self.prefix)} already holds objects; "
                "ImportTable imports every object under the prefix",
                hint="export to a new prefix (e.g. with today's date)",
            )


# --------------------------------------------------------------------------- the export


class Exporter:
    """Plan chunks -> Source batches -> Converter -> ImportTable checks -> gzip parts."""

    def __init__(
        self,
        model: ir.Model,
        layout: ir.Layout,
        dsn: str,
        options: ExportOptions,
        table_name: str | None = None,
        module: ModuleType | None = None,
    ) -> None:
        self.model = model
        self.layout = layout
        self.dsn = dsn
        self.options = options
        self.module = module or transformer_loader.generate(layout, model)
        self.converter = Converter(self.module, model, layout)
        self.definition, _ = api.table_requests(layout, model, table_name)
        self.table = str(self.definition["TableName"])
        self.slots = key_slots(self.definition)
        self.versions: dict[str, VersionSource] = version_sources(model, options.version_column)
        self.readers = {
            e.name: EntityReader.build(model, e.name, self.versions[e.name]) for e in model.entities
        }
        self.dead = DeadLetters(options.dead_letter)

    def run(
        self,
        out: Path,
        plan_dir: Path | None = None,
        s3: S3Upload | None = None,
    ) -> ExportReport:
        """Export every row into `out` (`out/data/*.json.gz`, `out/export-manifest.json`)."""
        started = time.monotonic()
        out.mkdir(parents=True, exist_ok=True)
        if (out / DATA).is_dir() and any((out / DATA).iterdir()):
            raise MigrationError(
                f"{out / DATA} is not empty: an import reads every file under it",
                hint="export into a new directory",
            )
        if s3 is not None:
            s3.check_empty()
        if plan_dir is None:
            plan_dir = out / "plan"
            plan = make_plan(self.dsn, self.model, plan_dir, self.options.chunk_size)
        else:
            plan = load_plan(plan_dir)
        if plan.model != self.model.name:
            raise MigrationError(
                f"the plan is for model {plan.model!r}, not {self.model.name!r}",
                hint="re-plan with this model",
            )
        if plan.marker is None:
            raise MigrationError(
                f"{plan_dir}: the plan has no version marker, so no catch-up could follow",
                hint="make the plan with `model migrate plan`",
            )
        report = ExportReport(self.model.name, self.table, plan.marker, plan.sha256)
        report.dead_letter_file = (
            str(self.options.dead_letter) if self.options.dead_letter else None
        )
        if s3 is not None:
            report.s3 = {"bucket": s3.bucket, "prefix": s3.prefix}
        for name in plan.entities:
            if name not in self.readers:
                raise MigrationError(
                    f"the plan names an entity the model lacks: {name}",
                    hint="re-plan with this model",
                )
            report.entities[name] = EntityExport()

        def closed(path: Path, part: DataFile) -> None:
            if s3 is not None:
                s3.put(path, part.file)

        writer = PartWriter(out, self.options.file_bytes, closed, self.options.compresslevel)
        sources: queue.Queue[Source] = queue.Queue()
        opened: list[Source] = []
        try:
            for _ in range(max(1, self.options.concurrency)):
                s = Source(self.dsn, self.readers)
                opened.append(s)
                sources.put(s)
            progress = Progress("migrate export", self.options.progress)
            for name, ep in plan.entities.items():
                progress.add(name, ep.count, 0)
            progress.set_chunks(len(plan.chunks()), 0)
            with progress:
                self._rows(plan, plan_dir, sources, writer, report, progress)
                self._dead_rows(plan, plan_dir, opened[0], report)
            writer.close()
        finally:
            for s in opened:
                s.close()
        report.files = writer.files
        manifest = report.manifest()
        atomic_write(
            out / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        )
        if s3 is not None:
            s3.put(out / MANIFEST, MANIFEST)  # last: a manifest in S3 means the data is there
        report.seconds = time.monotonic() - started
        return report

    def _batches(
        self, plan: Plan, plan_dir: Path, progress: Progress
    ) -> Iterator[tuple[str, list[tuple[str, ...]], bool]]:
        """(entity, keys, last batch of its chunk) in plan order."""
        size = max(1, self.options.batch_size)
        for chunk in plan.chunks():
            keys = read_chunk(plan_dir, chunk)
            if not keys:
                progress.chunk_done()
                continue
            for i in range(0, len(keys), size):
                yield chunk.entity, keys[i : i + size], i + size >= len(keys)

    def _rows(
        self,
        plan: Plan,
        plan_dir: Path,
        sources: queue.Queue[Source],
        writer: PartWriter,
        report: ExportReport,
        progress: Progress,
    ) -> None:
        """Batches are read and converted on a pool and written in plan order: at most
        `2 x concurrency` batches are in memory at once."""
        workers = max(1, self.options.concurrency)

        def task(entity: str, keys: list[tuple[str, ...]]) -> tuple[int, list[bytes], list[Any]]:
            source = sources.get()
            try:
                rows = source.rows_by_keys(entity, keys)
            finally:
                sources.put(source)
            items, dead = self.converter.convert_batch(entity, rows)
            lines: list[bytes] = []
            for item in items:
                problem = import_problem(item, self.slots, self.module.item_size)
                if problem is None:
                    lines.append(item_line(item))
                    continue
                found = self.converter.item_identity(entity, item)
                dead.append(
                    DeadLetters.record(
                        entity,
                        tuple(_payload(found.get(k)) for k in self.converter.key_attrs[entity]),
                        problem,
                        {k: _payload(v) for k, v in found.items()},
                    )
                )
            return len(rows), lines, dead

        window: deque[tuple[str, int, bool, Future[tuple[int, list[bytes], list[Any]]]]] = deque()

        def drain_one() -> None:
            entity, nkeys, last, future = window.popleft()
            read, lines, dead = future.result()
            for line in lines:
                writer.write(line)
            fresh = self.dead.write(dead)
            e = report.entities[entity]
            e.rows_read += read
            e.items += len(lines)
            e.dead_letters += fresh
            progress.advance(entity, nkeys, len(lines))
            if last:
                progress.chunk_done()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for entity, keys, last in self._batches(plan, plan_dir, progress):
                if len(window) >= 2 * workers:
                    drain_one()
                window.append((entity, len(keys), last, pool.submit(task, entity, keys)))
            while window:
                drain_one()

    def _dead_rows(self, plan: Plan, plan_dir: Path, source: Source, report: ExportReport) -> None:
        """The rows no chunk lists: NULL keys and keys held by several rows (dead-lettered as
        `migrate run` does)."""
        found = [
            *null_key_records(plan, source, self.converter),
            *duplicate_records(plan, plan_dir, source, self.converter, self.options.batch_size),
        ]
        for name, records in found:
            self.dead.write(records)
            report.entities[name].rows_read += len(records)
            report.entities[name].dead_letters += len(records)


def _payload(value: Any) -> Any:
    if isinstance(value, Mapping) and len(value) == 1:
        return next(iter(value.values()))
    return value


# --------------------------------------------------------------------------- loading


@dataclass
class LoadReport:
    files: int = 0
    items: int = 0


_REEXPORT = (
    "the export was changed, truncated or copied in part: copy it again whole, or re-run "
    "`model migrate export`"
)


def read_manifest(directory: Path) -> dict[str, Any]:
    """The export manifest of `directory`, its `files` checked (each a `DataFile`: a plain
    relative path, counts, a sha256); a damaged one is a MigrationError naming it."""
    path = directory / MANIFEST
    if not path.exists():
        raise MigrationError(f"{path} does not exist", hint="run `model migrate export`")
    data = read_json_object(path, _REEXPORT, "the export manifest")
    if data.get("export_version") != EXPORT_VERSION:
        raise MigrationError(
            f"{path}: export manifest version {data.get('export_version')!r} is not "
            f"{EXPORT_VERSION}",
            hint="re-export with this version of the tool",
        )
    try:
        data["files"] = _data_files(data["files"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise malformed(str(path), exc, "export manifest", _REEXPORT) from None
    return data


def _data_files(raw: Any) -> list[DataFile]:
    if not isinstance(raw, list):
        raise ValueError("files must be a list")
    files: list[DataFile] = []
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise ValueError(f"file {number} is not an object")
        files.append(
            DataFile(
                listed_file(entry["file"], "a part file", "export"),
                count(entry["items"], "items"),
                count(entry["bytes"], "bytes"),
                count(entry["uncompressed_bytes"], "uncompressed_bytes"),
                sha256_text(entry["sha256"]),
            )
        )
    return files


def export_items(directory: Path, batch: int = 1_000) -> Iterator[list[Item]]:
    """The items of an export, `batch` at a time. Nothing is yielded before the whole export
    is checked: the manifest, and every part listed in it (present, its sha256, gzip, every
    line an item, the item count); a damaged one is a MigrationError naming the file (and
    line), so a loader never writes part of a damaged export."""
    files: list[DataFile] = read_manifest(directory)["files"]
    for entry in files:
        check_sha256(
            directory / entry.file, entry.sha256, "a part listed in the manifest", _REEXPORT
        )
    for entry in files:
        for _ in _part_items(directory, entry, batch):
            pass
    for entry in files:
        yield from _part_items(directory, entry, batch)


def _part_items(directory: Path, entry: DataFile, batch: int) -> Iterator[list[Item]]:
    path = directory / entry.file
    seen = 0
    items: list[Item] = []
    with reading(path, "a part listed in the manifest", _REEXPORT):
        raw = path.open("rb")
    with raw, gzip.GzipFile(fileobj=raw, mode="rb") as lines:
        try:
            for seen, line in enumerate(lines, 1):
                try:
                    items.append(item_from_line(line))
                except (ValueError, TypeError, AttributeError, RecursionError) as exc:
                    what = "nested too deeply" if isinstance(exc, RecursionError) else exc
                    raise MigrationError(f"{path}:{seen}: {what}", _REEXPORT) from None
                if len(items) >= batch:
                    yield items
                    items = []
        except (EOFError, OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise MigrationError(
                f"{path}: not a whole gzip stream (after {seen} lines: {exc})", _REEXPORT
            ) from None
    if items:
        yield items
    if seen != entry.items:
        raise MigrationError(f"{path}: {seen} items, the manifest says {entry.items}", _REEXPORT)


def load_export(directory: Path, sink: Sink, batch: int = 1_000) -> LoadReport:
    """Write an export's items into the sink's table with BatchWriteItem (DynamoDB Local has no
    ImportTable): the local stand-in for the import, once the whole export is checked."""
    report = LoadReport()
    for items in export_items(directory, batch):
        report.items += sink.write(items)
    report.files = len(read_manifest(directory)["files"])
    return report


def temporary_root() -> tempfile.TemporaryDirectory[str]:
    """Where an S3-only export stages each file before its upload."""
    return tempfile.TemporaryDirectory(prefix="model-export-")


__all__ = [
    "DATA",
    "MANIFEST",
    "REQUEST",
    "DataFile",
    "ExportOptions",
    "ExportReport",
    "Exporter",
    "S3Upload",
    "check_request",
    "client_token",
    "data_prefix",
    "export_items",
    "import_problem",
    "import_request",
    "item_line",
    "key_slots",
    "load_export",
    "parse_s3",
]
