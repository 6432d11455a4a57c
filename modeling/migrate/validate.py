"""`model migrate validate`: counts per entity and an item-by-item diff, as markdown and JSON.

Counts: `SELECT count(*)` per entity against the items of that entity's type, counted by a
parallel Scan (`Segment`/`TotalSegments`, projecting only the type attribute). Diff: for every
row (`--full`, keyset pages) or a random sample (`--sample N` per entity), the item the
transformers make of it (with `_version`) against the item BatchGetItem returns (100 keys per
call, UnprocessedKeys retried with backoff). Numbers are compared as numbers and sets as sets,
because DynamoDB normalises both. Rows listed in a dead-letter file are excused: they are
reported, not counted as missing. Any other difference fails validation (exit 1).
"""

from __future__ import annotations

import json
import random
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
from modeling.migrate.progress import Progress
from modeling.migrate.runner import Converter, DeadLetters, table_key_names
from modeling.migrate.source import EntityReader, Source
from modeling.migrate.versioning import VERSION_ATTRIBUTE, row_version, version_sources

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
    version: str = "xmin"  # where `_version` comes from (the attribute, or xmin)
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count_ok(self) -> bool:
        return self.item_count == self.sql_count - self.excused

    @property
    def ok(self) -> bool:
        return (
            self.count_ok and not self.missing and not self.mismatched and not self.untransformable
        )


@dataclass
class ValidationReport:
    model: str
    table: str
    mode: str
    entities: dict[str, EntityValidation] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entities.values())

    def totals(self) -> dict[str, int]:
        names = ("sql_count", "item_count", "excused", "checked", "missing", "mismatched", "stale")
        return {n: sum(getattr(e, n) for e in self.entities.values()) for n in names}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
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
            " stale | status |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for name, e in sorted(self.entities.items()):
            lines.append(
                f"| {name} | {e.version} | {e.sql_count} | {e.item_count} | {e.excused} | {e.checked} | "
                f"{e.missing} | {e.mismatched} | {e.stale} | {'ok' if e.ok else 'FAIL'} |"
            )
        examples = [(n, x) for n, e in sorted(self.entities.items()) for x in e.examples]
        if examples:
            lines += ["", "## Examples", ""]
            for name, x in examples:
                lines.append(f"- {name} {json.dumps(x, sort_keys=True, default=str)}")
        return "\n".join(lines) + "\n"


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
            page = client.scan(**kwargs)
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
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            identity = json.dumps([record["key"], record.get("row")], sort_keys=True, default=str)
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
) -> ValidationReport:
    """Compare PostgreSQL with the table; `sample=None` checks every row. `progress`: a bar
    on a terminal, else a plain line on stderr every few seconds (`migrate.progress`)."""
    started = time.monotonic()
    table = table_name or layout.table_name
    module = module or transformer_loader.generate(layout, model)
    converter = Converter(module, model)
    versions = version_sources(model, version_column)
    key_names = table_key_names(layout)
    excused_keys = dead_letter_keys(dead_letter)
    report = ValidationReport(model.name, table, "full" if sample is None else f"sample {sample}")
    type_counts = count_types(client, table, layout.type_attribute, segments)
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
            excused = _excused_key_texts(excused_keys.get(ent.name, set()))
            report.entities[ent.name] = ev
            tracker.add(ent.name, ev.sql_count if sample is None else min(sample, ev.sql_count))
            for rows in _rows(source, reader, sample):
                expected: list[dict[str, Any]] = []
                for row, version in rows:
                    items, dead = converter.convert(ent.name, [(row, version)])
                    if dead:
                        key = json.dumps(
                            DeadLetters.record(ent.name, dead[0]["key"], "", None)["key"],
                            default=str,
                        )
                        if key not in excused:
                            ev.untransformable += 1
                            if len(ev.examples) < MAX_EXAMPLES:
                                ev.examples.append(
                                    {"key": dead[0]["key"], "problem": dead[0]["reason"]}
                                )
                        continue
                    expected.extend(items)
                got = batch_get(
                    client, table, [{n: i[n] for n in key_names} for i in expected], key_names
                )
                tracker.advance(ent.name, len(rows), len(expected))
                seen: set[tuple[Any, ...]] = set()
                for item in expected:
                    ev.checked += 1
                    key_text = [item[n].get("S", item[n].get("N")) for n in key_names]
                    if _key(item, key_names) in seen:
                        # another row of this page made the same item key: one of the two
                        # rows cannot be in the table (a key that is not the rows' identity)
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
    report.seconds = time.monotonic() - started
    return report
