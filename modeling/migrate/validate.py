"""`model migrate validate`: counts per entity and an item-by-item diff, as markdown and JSON.

Counts: `SELECT count(*)` per entity against the items of that entity's type, counted by a
parallel Scan (`Segment`/`TotalSegments`, projecting only the type attribute). Diff: for every
row (`--full`, keyset pages) or a random sample (`--sample N` per entity), the item the
transformers make of it (with `_version`) against the item BatchGetItem returns (100 keys per
call, UnprocessedKeys retried with backoff). Numbers are compared as numbers and sets as sets,
because DynamoDB normalises both. Rows listed in a dead-letter file are excused: they are
reported, not counted as missing (a record names its row's key exactly, so it excuses that
row and no other; `--full` counts the excused rows as it meets them in the source, `--sample`
counts the file's distinct rows). Any other difference fails validation (exit 1).
"""

from __future__ import annotations

import base64
import contextlib
import json
import marshal
import random
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType
from typing import Any

from modeling.core import ir
from modeling.core.limits import BATCH_GET_ITEMS
from modeling.migrate import transformers as transformer_loader
from modeling.migrate.errors import MigrationError
from modeling.migrate.patterns import PatternValidation, client_for, validate_patterns
from modeling.migrate.progress import Progress
from modeling.migrate.runner import Converter, DeadLetters, table_key_names
from modeling.migrate.sink import retryable
from modeling.migrate.source import EntityReader, Source, key_as_text
from modeling.migrate.versioning import VERSION_ATTRIBUTE, row_version, version_sources
from modeling.runtime import keys

GET_BATCH = BATCH_GET_ITEMS
MAX_EXAMPLES = 10


@dataclass
class EntityValidation:
    sql_count: int = 0
    item_count: int = 0
    excused: int = 0  # rows in the dead-letter file
    checked: int = 0
    missing: int = 0
    mismatched: int = 0
    stale: int = 0  # mismatched items whose `_version` is older than the row's
    untransformable: int = 0  # rows that fail to convert and are not in the dead-letter file
    extra: int = 0  # items of this type with no source row (found by key: `--full`)
    version: str = "xmin"  # where `_version` comes from (the attribute, or xmin)
    examples: list[dict[str, Any]] = field(default_factory=list)
    extra_keys: list[list[Any]] = field(default_factory=list)  # the first MAX_EXTRA_KEYS
    # relationship copies (`ir.CopyItems`, strategy lowest_cost): each row has one per copy,
    # but a sparse copy only while its slots are not NULL (`expected_copies` then counts them:
    # rows converted by `--full`; rows with the slots in the source for a sample, up to
    # `copy_slack` of which may be excused rows)
    copies_per_row: int = 0
    copy_count: int = 0  # copy items of this entity in the table (by their type values)
    expected_copies: int | None = None
    copy_slack: int = 0

    @property
    def count_ok(self) -> bool:
        rows = self.sql_count - self.excused
        want = self.copies_per_row * rows if self.expected_copies is None else self.expected_copies
        return self.item_count == rows and want - self.copy_slack <= self.copy_count <= want

    @property
    def ok(self) -> bool:
        return (
            self.count_ok
            and not self.missing
            and not self.mismatched
            and not self.untransformable
            and not self.extra
        )


@dataclass
class ValidationReport:
    model: str
    table: str
    mode: str
    entities: dict[str, EntityValidation] = field(default_factory=dict)
    other_items: dict[str, int] = field(default_factory=dict)  # types the model does not have
    segments: int = 0  # parallel Scan segments of the target (`--full`)
    sampled_items: int = 0  # `--sample`: items read from the table and looked up in the source
    patterns: list[PatternValidation] = field(default_factory=list)  # `--patterns N`
    pattern_values: int = 0  # N
    pattern_seed: int = 0
    collation: str = ""  # of the pattern SQL: "source" (the columns' own) or "C"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entities.values()) and all(p.ok for p in self.patterns)

    def totals(self) -> dict[str, int]:
        names = (
            "sql_count",
            "item_count",
            "excused",
            "checked",
            "missing",
            "mismatched",
            "stale",
            "extra",
        )
        return {n: sum(getattr(e, n) for e in self.entities.values()) for n in names}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["patterns"] = [p.as_dict() for p in self.patterns]
        for name, e in self.entities.items():
            data["entities"][name]["ok"] = e.ok
            data["entities"][name]["count_ok"] = e.count_ok
        data["ok"] = self.ok
        data["totals"] = self.totals()
        data["seconds"] = round(self.seconds, 3)
        return data

    def markdown(self) -> str:
        lines = [
            f"# Migration validation: {self.model} → {self.table}",
            "",
            f"Mode: {self.mode}. Result: **{'OK' if self.ok else 'MISMATCH'}**.",
            "",
            "| entity | version | rows (SQL) | items | excused | checked | missing | mismatched |"
            " stale | extra | status |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for name, e in sorted(self.entities.items()):
            lines.append(
                f"| {name} | {e.version} | {e.sql_count} | {e.item_count} | {e.excused} | {e.checked} | "
                f"{e.missing} | {e.mismatched} | {e.stale} | {e.extra} | {'ok' if e.ok else 'FAIL'} |"
            )
        if self.sampled_items:
            lines += [
                "",
                f"Extra items: {self.sampled_items} items read from the table (one Scan "
                "segment) and looked up in the source; `--full` looks up every item.",
            ]
        if self.other_items:
            shown = ", ".join(f"{t or '(none)'}: {n}" for t, n in sorted(self.other_items.items()))
            lines += ["", f"Items of types the model does not have (not compared): {shown}."]
        examples = [(n, x) for n, e in sorted(self.entities.items()) for x in e.examples]
        if examples:
            lines += ["", "## Examples", ""]
            for name, x in examples:
                lines.append(f"- {name} {json.dumps(x, sort_keys=True, default=str)}")
        extras = [(n, e) for n, e in sorted(self.entities.items()) if e.extra]
        if extras:
            lines += ["", "## Extra items (in the table, not in the source)", ""]
            for name, e in extras:
                keys = ", ".join(json.dumps(k, default=str) for k in e.extra_keys)
                more = e.extra - len(e.extra_keys)
                tail = f" and {more} more" if more > 0 else ""
                lines.append(f"- {name}: {e.extra} items: {keys}{tail}")
        if self.patterns:
            lines += self._pattern_lines()
        return "\n".join(lines) + "\n"

    def _pattern_lines(self) -> list[str]:
        lines = [
            "",
            f"## Access patterns ({self.pattern_values} parameter sets each, seed "
            f"{self.pattern_seed}, strings in {self.collation} collation)",
            "",
            "| pattern | index | tried | rows compared | mismatches | too large | status |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for p in self.patterns:
            status = f"skipped: {p.skipped}" if p.skipped else ("ok" if p.ok else "FAIL")
            lines.append(
                f"| {p.pattern} | {p.index or '-'} | {p.tried} | {p.compared_rows} | "
                f"{p.mismatches} | {p.too_large} | {status} |"
            )
        differences = [(p.pattern, d) for p in self.patterns for d in p.differences]
        if differences:
            lines += ["", "### First differences (source SQL vs generated client)", ""]
            for name, d in differences:
                lines.append(f"- {name} {json.dumps(d, sort_keys=True, default=str)}")
        return lines


# --------------------------------------------------------------------------- comparison


def normalise(av: Any) -> Any:
    """An AttributeValue in a form where equal DynamoDB values compare equal."""
    if not isinstance(av, Mapping) or len(av) != 1:
        return av
    ((tag, value),) = av.items()
    if tag == "N":
        try:
            return ("N", Decimal(value).normalize())
        except InvalidOperation:
            return ("N", value)
    if tag == "NS":
        return ("NS", frozenset(Decimal(v).normalize() for v in value))
    if tag in ("SS", "BS"):
        return (tag, frozenset(bytes(v) if tag == "BS" else v for v in value))
    if tag == "B":
        return ("B", bytes(value))
    if tag == "M":
        return ("M", tuple(sorted((k, normalise(v)) for k, v in value.items())))
    if tag == "L":
        return ("L", tuple(normalise(v) for v in value))
    return (tag, value)


def differing_attributes(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    names = set(expected) | set(actual)
    return sorted(n for n in names if normalise(expected.get(n)) != normalise(actual.get(n)))


def _version(item: Mapping[str, Any] | None) -> int | None:
    if not item or VERSION_ATTRIBUTE not in item:
        return None
    return int(item[VERSION_ATTRIBUTE]["N"])


# --------------------------------------------------------------------------- DynamoDB reads


def count_types(client: Any, table: str, type_attribute: str, segments: int = 4) -> dict[str, int]:
    """Items per type value, by a parallel Scan projecting only the type attribute."""

    def segment(n: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        kwargs: dict[str, Any] = {
            "TableName": table,
            "Segment": n,
            "TotalSegments": segments,
            "ProjectionExpression": "#t",
            "ExpressionAttributeNames": {"#t": type_attribute},
        }
        while True:
            page = _scan_page(client, kwargs)
            for item in page.get("Items", []):
                t = item.get(type_attribute, {}).get("S", "")
                counts[t] = counts.get(t, 0) + 1
            if "LastEvaluatedKey" not in page:
                return counts
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    total: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=segments) as pool:
        for counts in pool.map(segment, range(segments)):
            for t, n in counts.items():
                total[t] = total.get(t, 0) + n
    return total


def batch_get(
    client: Any, table: str, keys: Sequence[Mapping[str, Any]], key_names: Sequence[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Items by table key (100 per call, UnprocessedKeys retried with full-jitter backoff)."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    rng = random.Random()
    # BatchGetItem refuses a request naming one key twice ("Provided list of item keys
    # contains duplicates"): two rows that make one item key are a collision the caller reports
    unique = {_key(k, key_names): k for k in keys}
    keys = list(unique.values())
    for start in range(0, len(keys), GET_BATCH):
        request: dict[str, Any] = {
            table: {"Keys": list(keys[start : start + GET_BATCH]), "ConsistentRead": True}
        }
        attempt = 0
        while request:
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                found[_key(item, key_names)] = item
            request = response.get("UnprocessedKeys") or {}
            if request:
                if attempt > 12:
                    raise RuntimeError("BatchGetItem keeps returning UnprocessedKeys")
                time.sleep(rng.uniform(0, min(5.0, 0.05 * 2**attempt)))
                attempt += 1
    return found


def _key(item: Mapping[str, Any], key_names: Sequence[str]) -> tuple[Any, ...]:
    return tuple(normalise(item.get(n)) for n in key_names)


# --------------------------------------------------------------------------- rows


def _rows(
    source: Source, reader: EntityReader, sample: int | None, page: int = 1_000
) -> Iterator[list[tuple[dict[str, Any], int | None]]]:
    q = reader.queries
    if sample is not None:
        rows = source.conn.execute(reader.sample, {"limit": sample}).fetchall()
        yield [(r, row_version(reader.version, r)) for r in rows]
        return
    after: tuple[Any, ...] | None = None
    while True:
        sql = reader.page(after is not None)
        rows = source.conn.execute(sql, q.page_params(page, after)).fetchall()
        if not rows:
            return
        after = tuple(rows[-1][k.attribute] for k in q.key)
        yield [(r, row_version(reader.version, r)) for r in rows]
        if len(rows) < page:
            return


def dead_letter_keys(path: Path | None) -> dict[str, set[str]]:
    """Per entity, the distinct dead-lettered rows (a redone chunk repeats its records)."""
    out: dict[str, set[str]] = {}
    if path is None or not path.is_file():
        return out
    hint = (
        "the dead-letter file is damaged: fix or delete that line (a record is one JSON object "
        "per line with `entity`, `key` and `reason`, as `migrate run` writes them)"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(f"{path}: cannot read the dead-letter file: {exc}", hint) from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise MigrationError(f"{path}:{number}: not valid JSON ({exc})", hint) from None
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("entity"), str)
            or "key" not in record
        ):
            raise MigrationError(
                f"{path}:{number}: not a dead-letter record (an object with entity and key)", hint
            )
        # one identity per dead-lettered row: rows sharing a key (DuplicateKey, NULL) are told apart
        # by their row; any other record of a key is that key's one row, however often it
        # was written (a row met by the backfill and again, changed, by the catch-up)
        reason = str(record.get("reason", ""))
        key = record["key"]
        shared = reason.startswith("DuplicateKey") or (  # a NULL key: every such row shares it
            isinstance(key, list) and any(v is None for v in key)
        )
        row = record.get("row") if shared else None
        identity = json.dumps([record["key"], row], sort_keys=True, default=str)
        out.setdefault(record["entity"], set()).add(identity)
    return out


def _excused_key_texts(identities: set[str]) -> set[str]:
    return {json.dumps(json.loads(i)[0], default=str) for i in identities}


def validate(
    model: ir.Model,
    layout: ir.Layout,
    dsn: str,
    client: Any,
    sample: int | None = 1_000,
    table_name: str | None = None,
    version_column: str | None = None,
    dead_letter: Path | None = None,
    module: ModuleType | None = None,
    segments: int = 4,
    progress: bool = False,
    patterns: int | None = None,
    seed: int = 0,
    collate: str | None = None,
    client_module: ModuleType | None = None,
) -> ValidationReport:
    """Compare PostgreSQL with the table; `sample=None` checks every row. `progress`: a bar
    on a terminal, else a plain line on stderr every few seconds (`migrate.progress`).

    `sample=None` (`--full`) streams both sides: the table by a parallel Scan (`segments`
    threads), the source by a server-side cursor per entity, each item reduced to (table key,
    digest, version) and hash-partitioned by key (`_Spill`: in memory up to PARTITION_ROWS,
    temporary files beyond), so memory stays bounded whatever the table's size; then each
    partition is compared by key, which also finds the extra items (no source row) by key.

    `patterns=N`: beside the item diff, every access pattern for N parameter sets drawn from
    the source (`seed`), through the generated client (`client_module`: the `client.py` of
    the package `module` comes from, else generated with it) against the pattern's SQL
    (`collate`: None for the columns' own collation, "C" for byte order); see
    `modeling.migrate.patterns`.
    """
    started = time.monotonic()
    table = table_name or layout.table_name
    if module is None:
        module = transformer_loader.generate(layout, model, client=bool(patterns))
    converter = Converter(module, model)
    versions = version_sources(model, version_column)
    key_names = table_key_names(layout)
    excused_keys = dead_letter_keys(dead_letter)
    report = ValidationReport(model.name, table, "full" if sample is None else f"sample {sample}")
    type_counts = (
        {} if sample is None else count_types(client, table, layout.type_attribute, segments)
    )
    tracker = Progress("migrate validate", progress)
    with Source(dsn, {}) as source, tracker:
        for ent in model.entities:
            el = layout.entity(ent.name)
            reader = EntityReader.build(model, ent.name, versions[ent.name])
            source.readers[ent.name] = reader
            ev = EntityValidation(
                sql_count=source.count(ent.name),
                item_count=type_counts.get(el.type_value if el else ent.name, 0),
                version=versions[ent.name].attribute or "xmin",
            )
            ev.excused = len(excused_keys.get(ent.name, set()))
            copies = layout.copies_of(ent.name)
            ev.copies_per_row = len(copies)
            ev.copy_count = sum(type_counts.get(c.type_value, 0) for c in copies)
            sparse = [c for c in copies if c.key is not None and c.key.sparse]
            if sparse and sample is not None:
                # a sparse copy exists for the rows whose slots it needs are all present
                dense = len(copies) - len(sparse)
                ev.expected_copies = dense * (ev.sql_count - ev.excused) + sum(
                    source.count_present(ent.name, copy_slots(c, ent)) for c in sparse
                )
                ev.copy_slack = len(sparse) * ev.excused
            elif sparse:
                ev.expected_copies = 0  # counted row by row as the rows convert
            report.entities[ent.name] = ev
            tracker.add(ent.name, ev.sql_count if sample is None else min(sample, ev.sql_count))
        if sample is None:
            report.segments = segments
            _full_diff(
                model, layout, source, client, table, converter, excused_keys, report, tracker
            )
        else:
            for ent in model.entities:
                _sample_diff(
                    ent.name,
                    source,
                    client,
                    table,
                    converter,
                    key_names,
                    _excused_key_texts(excused_keys.get(ent.name, set())),
                    sample,
                    report.entities[ent.name],
                    tracker,
                    ent.key,
                )
            known = {_type_value(layout, e.name) for e in model.entities}
            known |= {c.type_value for c in layout.copies}
            report.other_items = {t: n for t, n in type_counts.items() if t not in known}
            _sample_extras(
                model, layout, source, client, table, module, converter, sample, seed, report
            )
        if patterns:
            client_module = client_module or transformer_loader.client_of(module)
            if client_module is None:
                raise MigrationError(
                    "--patterns needs the generated client beside the transformers "
                    f"({module.__name__}.client not found)",
                    "compile the model with the client emitter (`model compile`), or leave "
                    "out --transformers",
                )
            report.pattern_seed, report.pattern_values = seed, patterns
            report.collation = collate or "source"
            report.patterns = validate_patterns(
                model,
                layout,
                source.conn,
                client_for(client_module, table, client),
                patterns,
                seed=seed,
                collate=collate,
            )
    report.seconds = time.monotonic() - started
    return report


def _type_value(layout: ir.Layout, entity: str) -> str:
    el = layout.entity(entity)
    return el.type_value if el is not None else entity


def _dead_key_text(entity: str, dead: Mapping[str, Any]) -> str:
    return json.dumps(DeadLetters.record(entity, dead["key"], "", None)["key"], default=str)


def _row_key_text(entity: str, key_attributes: Sequence[str], row: Mapping[str, Any]) -> str:
    """A source row's key as the dead-letter file records it (to excuse dead-lettered rows,
    e.g. the second of two rows whose key is not unique)."""
    key = tuple(row.get(k) for k in key_attributes)
    return json.dumps(DeadLetters.record(entity, key, "", None)["key"], default=str)


def _untransformable(ev: EntityValidation, dead: Mapping[str, Any]) -> None:
    ev.untransformable += 1
    if len(ev.examples) < MAX_EXAMPLES:
        ev.examples.append({"key": dead["key"], "problem": dead["reason"]})


def _sample_diff(
    entity: str,
    source: Source,
    client: Any,
    table: str,
    converter: Converter,
    key_names: Sequence[str],
    excused: set[str],
    sample: int,
    ev: EntityValidation,
    tracker: Progress,
    key_attributes: Sequence[str] = (),
) -> None:
    """`--sample N`: N random rows, their items fetched by BatchGetItem and compared."""
    reader = source.readers[entity]
    for rows in _rows(source, reader, sample):
        expected: list[dict[str, Any]] = []
        for row, version in rows:
            if excused and _row_key_text(entity, key_attributes, row) in excused:
                continue  # dead-lettered (e.g. a key that is not unique)
            items, dead = converter.convert(entity, [(row, version)])
            if dead:
                if _dead_key_text(entity, dead[0]) not in excused:
                    _untransformable(ev, dead[0])
                continue
            expected.extend(items)
        got = batch_get(client, table, [{n: i[n] for n in key_names} for i in expected], key_names)
        tracker.advance(entity, len(rows), len(expected))
        seen: set[tuple[Any, ...]] = set()
        for item in expected:
            ev.checked += 1
            key_text = [item[n].get("S", item[n].get("N")) for n in key_names]
            if _key(item, key_names) in seen:
                # another row of this page made the same item key: one of the two rows
                # cannot be in the table (a key that is not the rows' identity)
                ev.mismatched += 1
                if len(ev.examples) < MAX_EXAMPLES:
                    ev.examples.append({"key": key_text, "problem": "key collision"})
                continue
            seen.add(_key(item, key_names))
            actual = got.get(_key(item, key_names))
            if actual is None:
                ev.missing += 1
                if len(ev.examples) < MAX_EXAMPLES:
                    ev.examples.append({"key": key_text, "problem": "missing"})
                continue
            diff = differing_attributes(item, actual)
            if diff:
                ev.mismatched += 1
                ve, va = _version(item), _version(actual)
                stale = ve is not None and va is not None and va < ve
                ev.stale += stale
                if len(ev.examples) < MAX_EXAMPLES:
                    ev.examples.append(
                        {
                            "key": key_text,
                            "problem": "stale" if stale else "mismatched",
                            "attributes": diff,
                        }
                    )


def _sample_extras(
    model: ir.Model,
    layout: ir.Layout,
    source: Source,
    client: Any,
    table: str,
    module: ModuleType,
    converter: Converter,
    sample: int,
    seed: int,
    report: ValidationReport,
) -> None:
    """`--sample N`, the other direction: about N items read from one Scan segment (of as
    many as make a segment about N items; which one is drawn with `seed`), each looked up
    in the source by its row's key. Items with no row are extra, listed by key."""
    entity_of_type = {_type_value(layout, e.name): e for e in model.entities}
    total = sum(e.item_count for e in report.entities.values())
    segments = max(1, min(1_000_000, total // max(1, sample)))
    kwargs: dict[str, Any] = {
        "TableName": table,
        "Segment": random.Random(seed).randrange(segments),
        "TotalSegments": segments,
        "ConsistentRead": True,
    }
    key_names = table_key_names(layout)
    by_entity: dict[str, list[tuple[tuple[str, ...], list[Any]]]] = {}
    read = 0
    while read < sample:
        page = _scan_page(client, kwargs)
        for item in page.get("Items", [])[: sample - read]:
            read += 1
            entity = entity_of_type.get(item.get(layout.type_attribute, {}).get("S", ""))
            if entity is None:
                continue  # another type's item (other_items)
            table_key = _key_values(_record_key(item, key_names))
            try:
                _, row = module.from_item(item)
                row_key = tuple(key_as_text(row[k]) for k in entity.key)
            except Exception:  # an item its own code cannot decode has no row either
                _extra(report.entities[entity.name], table_key)
                continue
            by_entity.setdefault(entity.name, []).append((row_key, table_key))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    for name, found in by_entity.items():
        ev = report.entities[name]
        for start in range(0, len(found), 500):
            batch = found[start : start + 500]
            rows = source.rows_by_keys(name, [k for k, _ in batch])
            items, _ = converter.convert(name, rows)
            # the row must exist and still map to this item's key (else the item is orphaned)
            present = {repr(_key_values(_record_key(i, key_names))) for i in items}
            for _, table_key in batch:
                if repr(table_key) not in present:
                    _extra(ev, table_key)
    report.sampled_items = read


def _extra(ev: EntityValidation, key: list[Any]) -> None:
    ev.extra += 1
    if len(ev.extra_keys) < MAX_EXTRA_KEYS:
        ev.extra_keys.append(key)


# --------------------------------------------------------------------------- --full

MAX_EXTRA_KEYS = 20  # extra items listed by key per entity (all are counted)
PARTITION_ROWS = 50_000  # records per side held in memory at once by the full comparison
SOURCE_PAGE = 2_000  # rows per fetch of the server-side cursor

RecordKey = tuple[Any, ...]  # the table key: ((tag, value), ...), values as str/bytes
# (table key, entity name or type value, digest of the item, `_version`, the row's key as text)
Record = tuple[RecordKey, str, int, int | None, tuple[str, ...]]


def _record_key(item: Mapping[str, Any], key_names: Sequence[str]) -> RecordKey:
    out: list[Any] = []
    for n in key_names:
        av = item.get(n)
        if not isinstance(av, Mapping) or len(av) != 1:
            out.append(None)
            continue
        ((tag, value),) = av.items()
        if tag == "N":
            with contextlib.suppress(InvalidOperation):
                value = str(Decimal(value).normalize())
        elif tag == "B":
            value = _bytes(value)
        out.append((tag, value))
    return tuple(out)


def _canonical(av: Any) -> Any:
    """An AttributeValue as a value whose repr is equal exactly when `normalise` says the
    values are equal (numbers normalised, sets sorted, map keys sorted, binary as bytes)."""
    if not isinstance(av, dict) or len(av) != 1:
        return av
    for tag, value in av.items():
        if tag == "S" or tag == "BOOL" or tag == "NULL":
            return av  # a one-key dict: its repr is already canonical
        if tag == "N":
            try:
                return ("N", str(Decimal(value).normalize()))
            except InvalidOperation:
                return ("N", value)
        if tag == "M":
            return ("M", [(k, _canonical(value[k])) for k in sorted(value)])
        if tag == "L":
            return ("L", [_canonical(v) for v in value])
        if tag == "SS":
            return ("SS", sorted(set(value)))
        if tag == "NS":
            return ("NS", sorted({Decimal(v).normalize() for v in value}))
        if tag == "B":
            return ("B", _bytes(value))
        if tag == "BS":
            return ("BS", sorted({_bytes(v) for v in value}))
    return av


def _bytes(value: Any) -> bytes:
    """`B` as bytes: boto3 gives bytes, the wire's JSON gives base64 text."""
    if isinstance(value, str):
        return base64.b64decode(value)
    return bytes(value)


def item_digest(item: Mapping[str, Any]) -> int:
    """A digest equal for two items exactly when `differing_attributes` finds no difference
    (up to a 64-bit hash collision). Python's own hash: both sides of a comparison are
    digested in one process, and it is the cheapest (this runs for every item, twice)."""
    parts = []
    for name, av in item.items():
        text = av.get("S") if isinstance(av, dict) else None
        # the common case inline: a string is canonical as it is
        parts.append((name, text) if text is not None else (name, "", repr(_canonical(av))))
    parts.sort()
    return hash(tuple(parts))


class _Spill:
    """Records hash-partitioned by table key: a list when one partition holds them all,
    else one temporary file per partition (marshal: fast, and each partition is read back
    on its own, so memory holds one partition at a time). Thread-safe `add`."""

    def __init__(self, partitions: int, directory: Path | None) -> None:
        self.partitions = partitions
        self._lock = threading.Lock()
        self._memory: list[Record] = []
        self._paths: list[Path] = []
        self._files: list[Any] = []
        if partitions > 1:
            assert directory is not None
            self._paths = [directory / f"{i}.bin" for i in range(partitions)]
            self._files = [p.open("wb", buffering=1 << 16) for p in self._paths]

    def add(self, records: Sequence[Record]) -> None:
        with self._lock:
            if self.partitions == 1:
                self._memory.extend(records)
                return
            for r in records:
                marshal.dump(r, self._files[hash(r[0]) % self.partitions])

    def close(self) -> None:
        for f in self._files:
            f.close()

    def read(self, partition: int) -> Iterator[Record]:
        if self.partitions == 1:
            yield from self._memory
            self._memory = []
            return
        with self._paths[partition].open("rb", buffering=1 << 16) as fh:
            while True:
                try:
                    yield marshal.load(fh)
                except EOFError:
                    return


SCAN_ATTEMPTS = 10


def _scan_page(client: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """One Scan page; throttling, a 5xx or a dropped connection retried with full-jitter
    backoff (the wire client does not retry by itself, unlike botocore's)."""
    rng = random.Random()
    for attempt in range(SCAN_ATTEMPTS):
        try:
            page: dict[str, Any] = client.scan(**kwargs)
            return page
        except Exception as exc:
            if not retryable(exc) or attempt == SCAN_ATTEMPTS - 1:
                raise
            time.sleep(rng.uniform(0, min(10.0, 0.1 * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


def _scan_segment(
    client: Any,
    table: str,
    segment: int,
    segments: int,
    key_names: Sequence[str],
    type_attribute: str,
    spill: _Spill,
) -> dict[str, int]:
    """One Scan segment: every item as a record (spilled), and items per type value."""
    counts: dict[str, int] = {}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "Segment": segment,
        "TotalSegments": segments,
        "ConsistentRead": True,
    }
    while True:
        page = _scan_page(client, kwargs)
        records: list[Record] = []
        for item in page.get("Items", []):
            t = item.get(type_attribute, {}).get("S", "")
            counts[t] = counts.get(t, 0) + 1
            key = _record_key(item, key_names)
            records.append((key, t, item_digest(item), _version(item), ()))
        spill.add(records)
        if "LastEvaluatedKey" not in page:
            return counts
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def copy_slots(copy: ir.CopyItems, entity: ir.Entity) -> tuple[str, ...]:
    """The attributes a sparse copy needs (its key's slots that are neither NULL-filled nor
    the identity): without one of them, the row has no such copy."""
    filled = {name for name, _ in copy.key.null_fill} if copy.key is not None else set()
    slots = {*keys.parse_template(copy.pk).slots, *keys.parse_template(copy.sk).slots}
    return tuple(sorted(s for s in slots if s not in filled and s not in entity.key))


def _source_records(
    source: Source,
    entity: ir.Entity,
    converter: Converter,
    key_names: Sequence[str],
    excused: set[str],
    ev: EntityValidation,
    spill: _Spill,
    tracker: Progress,
) -> None:
    """Every row of `entity` (a server-side cursor in key order) as the record of its item."""
    reader = source.readers[entity.name]
    key_attributes = entity.key
    with (
        source.conn.transaction(),
        source.conn.cursor(name=f"validate_{abs(hash(entity.name))}") as cur,
    ):
        cur.itersize = SOURCE_PAGE
        cur.execute(reader.first_page, {"limit": None})  # LIMIT NULL: every row
        while True:
            rows = cur.fetchmany(SOURCE_PAGE)
            if not rows:
                return
            records: list[Record] = []
            for row in rows:
                if excused and _row_key_text(entity.name, key_attributes, row) in excused:
                    ev.excused += 1  # counted here, row by row: exact whatever the file holds
                    continue  # dead-lettered (e.g. a key that is not unique)
                version = row_version(reader.version, row)
                # the main item, then its relationship copies (each checked by key alike)
                items, dead = converter.convert(entity.name, [(row, version)], copies=True)
                if dead:
                    if _dead_key_text(entity.name, dead[0]) not in excused:
                        _untransformable(ev, dead[0])
                    continue
                row_key = tuple(key_as_text(row.get(k)) for k in key_attributes)
                if ev.expected_copies is not None:
                    ev.expected_copies += len(items) - 1
                records.extend(
                    (_record_key(item, key_names), entity.name, item_digest(item), version, row_key)
                    for item in items
                )
            spill.add(records)
            tracker.advance(entity.name, len(rows), len(records))


def _full_diff(
    model: ir.Model,
    layout: ir.Layout,
    source: Source,
    client: Any,
    table: str,
    converter: Converter,
    excused_keys: Mapping[str, set[str]],
    report: ValidationReport,
    tracker: Progress,
) -> None:
    key_names = table_key_names(layout)
    segments = max(1, report.segments)
    # the larger side decides: a table may hold many more items than the source has rows
    # (ItemCount: DynamoDB's estimate, refreshed about every six hours)
    expected_total = sum(e.sql_count for e in report.entities.values())
    item_total = int(client.describe_table(TableName=table)["Table"].get("ItemCount", 0))
    partitions = max(1, -(-max(expected_total, item_total) // PARTITION_ROWS))
    entity_of_type = {_type_value(layout, e.name): e.name for e in model.entities}
    copy_of_type = {c.type_value: c.entity for c in layout.copies}
    mismatches: list[tuple[str, Record, Record]] = []
    with tempfile.TemporaryDirectory(prefix="model-validate-") as tmp:
        src_dir, dst_dir = Path(tmp) / "source", Path(tmp) / "target"
        src_dir.mkdir()
        dst_dir.mkdir()
        expected = _Spill(partitions, src_dir)
        actual = _Spill(partitions, dst_dir)
        with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="scan") as pool:
            scans = [
                pool.submit(
                    _scan_segment,
                    client,
                    table,
                    n,
                    segments,
                    key_names,
                    layout.type_attribute,
                    actual,
                )
                for n in range(segments)
            ]
            try:
                for ent in model.entities:
                    excused = _excused_key_texts(excused_keys.get(ent.name, set()))
                    ev = report.entities[ent.name]
                    ev.excused = 0  # the source rows the file excuses, counted as they come
                    _source_records(
                        source, ent, converter, key_names, excused, ev, expected, tracker
                    )
            finally:
                type_counts: dict[str, int] = {}
                for f in scans:  # re-raises a segment's error (after the others finish)
                    for t, n in f.result().items():
                        type_counts[t] = type_counts.get(t, 0) + n
        expected.close()
        actual.close()
        for t, n in type_counts.items():
            if t in entity_of_type:
                report.entities[entity_of_type[t]].item_count = n
            elif t in copy_of_type:
                report.entities[copy_of_type[t]].copy_count += n
            else:
                report.other_items[t] = n
        # the listed keys and examples are the smallest keys of each kind, whatever order
        # the segments and partitions delivered them in (a deterministic report)
        extras: dict[str, _Smallest] = {n: _Smallest(MAX_EXTRA_KEYS) for n in report.entities}
        found: dict[str, _Smallest] = {n: _Smallest(MAX_EXAMPLES) for n in report.entities}
        for p in range(partitions):
            wanted = {r[0]: r for r in expected.read(p)}
            for got in actual.read(p):
                want = wanted.pop(got[0], None)
                if want is None:
                    name = entity_of_type.get(got[1]) or copy_of_type.get(got[1])
                    if name is None:
                        continue  # another type's item: counted in other_items
                    report.entities[name].extra += 1
                    extras[name].add((got[0], ""), None)
                    continue
                ev = report.entities[want[1]]
                ev.checked += 1
                if want[2] == got[2]:
                    continue
                ev.mismatched += 1
                stale = want[3] is not None and got[3] is not None and got[3] < want[3]
                ev.stale += stale
                found[want[1]].add((want[0], "stale" if stale else "mismatched"), want)
            for want in wanted.values():
                ev = report.entities[want[1]]
                ev.checked += 1
                ev.missing += 1
                found[want[1]].add((want[0], "missing"), want)
        for name, ev in report.entities.items():
            ev.extra_keys = [_key_values(k) for (k, _), _ in extras[name].items()]
            for (key, problem), want in found[name].items():
                if len(ev.examples) >= MAX_EXAMPLES:
                    break
                ev.examples.append({"key": _key_values(key), "problem": problem})
                if problem != "missing":
                    mismatches.append((problem, want, want))
    _explain_mismatches(source, client, table, converter, key_names, mismatches, report)


class _Smallest:
    """The `k` smallest (sort key, value) pairs added (bounded: trimmed as it grows)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self._pairs: list[tuple[Any, Any]] = []

    def add(self, key: Any, value: Any) -> None:
        self._pairs.append((key, value))
        if len(self._pairs) > 4 * self.k + 16:
            self._trim()

    def _trim(self) -> None:
        self._pairs.sort(key=lambda pair: repr(pair[0]))
        del self._pairs[self.k :]

    def items(self) -> list[tuple[Any, Any]]:
        self._trim()
        return list(self._pairs)


def _key_values(key: RecordKey) -> list[Any]:
    return [None if part is None else part[1] for part in key]


def _explain_mismatches(
    source: Source,
    client: Any,
    table: str,
    converter: Converter,
    key_names: Sequence[str],
    mismatches: Sequence[tuple[str, Record, Record]],
    report: ValidationReport,
) -> None:
    """The differing attributes of the listed mismatches: the row read again, the item got
    again (only these few: the full pass kept digests, not items)."""
    for problem, want, _ in mismatches:
        ev = report.entities[want[1]]
        example = next(
            (
                x
                for x in ev.examples
                if x["key"] == _key_values(want[0]) and x["problem"] == problem
            ),
            None,
        )
        if example is None:
            continue
        rows = source.rows_by_keys(want[1], [want[4]])
        items, _ = converter.convert(want[1], rows)
        if not items:
            continue
        key = {n: items[0][n] for n in key_names}
        actual = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if actual is not None:
            example["attributes"] = differing_attributes(items[0], actual)
