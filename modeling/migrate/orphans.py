"""Items whose row is gone or has moved: the sweep that ends the catch-up after an import.

After `migrate export` + ImportTable, the table did not exist while the import ran, so the
application's dual writes (and their tombstones) start only after it. The catch-up pass from
the export's marker writes every row inserted or changed since the export, but a row deleted
in that window, or whose table key changed, leaves its imported item behind: nothing points at
it. `sweep_orphans` (`migrate run --catch-up-only MARKER --sweep-orphans`) finds them: a
parallel Scan of the table (typed items only: tombstones have no type attribute) projected to
the table key, the type, the entities' key attributes and `_version`; for each page the rows
of those keys are read from the source (one `= ANY` query per entity, as the runner reads),
converted by the same transformers, and an item is an orphan when

- no source row has its identity (the row was deleted), or
- the row converts to an item at another table key (the row's key changed; its new item was
  written by the catch-up pass). Relationship copies (`ir.CopyItems`) are judged the same way:
  a copy is an orphan when none of its row's items (main item and copies) is at its key.

An orphan is deleted with the condition `_version = <the scanned version>`, so an item a dual
write has rewritten since the scan is left alone. A row that no longer converts (a poison row
the catch-up dead-lettered) keeps its item: validate reports it, the sweep does not guess.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from modeling.core import ir
from modeling.migrate.sink import retryable
from modeling.migrate.source import Source
from modeling.migrate.versioning import VERSION_ATTRIBUTE

Item = dict[str, Any]
SWEEPABLE_KINDS = frozenset({"integer", "string", "uuid", "decimal", "date", "datetime"})


@dataclass
class OrphanStats:
    scanned: int = 0  # typed items read
    removed: int = 0  # orphans deleted
    changed: int = 0  # orphans rewritten since the scan (condition failed): kept

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _payload(value: Any) -> Any:
    if isinstance(value, Mapping) and len(value) == 1:
        return next(iter(value.values()))
    return value


class OrphanSweep:
    def __init__(
        self,
        client: Any,
        table: str,
        model: ir.Model,
        layout: ir.Layout,
        converter: Any,  # runner.Converter (the runner imports this module)
        key_names: Sequence[str],
        open_source: Callable[[], Source],
    ) -> None:
        self.client = client
        self.table = table
        self.layout = layout
        self.converter = converter
        self.key_names = tuple(key_names)
        self.open_source = open_source
        # entities whose key values read back exactly from their item's text (PostgreSQL casts
        # the text of an N, a uuid or an ISO date/time); others are not swept (and counted)
        self.keys = {
            e.name: tuple(e.key)
            for e in model.entities
            if all(
                (a := e.attribute(k)) is not None and a.type.kind in SWEEPABLE_KINDS for k in e.key
            )
        }
        self.by_type = {
            el.type_value: el.entity for el in layout.entities if el.entity in self.keys
        }
        # relationship copies (`ir.CopyItems`) hold their row's identity too: swept alike
        self.by_type.update(
            {c.type_value: c.entity for c in layout.copies if c.entity in self.keys}
        )
        self.unswept = tuple(sorted(e.name for e in model.entities if e.name not in self.keys))
        self.stats = OrphanStats()
        self._lock = threading.Lock()

    def _projection(self) -> tuple[str, dict[str, str]]:
        names = {*self.key_names, self.layout.type_attribute, VERSION_ATTRIBUTE}
        for key in self.keys.values():
            names.update(key)
        aliases = {f"#a{i}": n for i, n in enumerate(sorted(names))}
        return ", ".join(aliases), aliases

    def run(self, segments: int = 4) -> OrphanStats:
        segments = max(1, segments)
        with ThreadPoolExecutor(max_workers=segments) as pool:
            for future in [pool.submit(self._segment, s, segments) for s in range(segments)]:
                future.result()
        return self.stats

    def _segment(self, segment: int, total: int) -> None:
        projection, aliases = self._projection()
        paginator = self.client.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table,
            Segment=segment,
            TotalSegments=total,
            ProjectionExpression=projection,
            ExpressionAttributeNames=aliases,
        )
        source = self.open_source()
        try:
            for page in pages:
                self._page(source, page.get("Items", []))
        finally:
            source.close()

    def _page(self, source: Source, items: Sequence[Item]) -> None:
        by_entity: dict[str, list[Item]] = {}
        for item in items:
            entity = self.by_type.get(str(_payload(item.get(self.layout.type_attribute))))
            if entity is not None:
                by_entity.setdefault(entity, []).append(item)
        scanned = sum(len(v) for v in by_entity.values())
        orphans: list[Item] = []
        for entity, found in by_entity.items():
            key = self.keys[entity]
            idents = list(
                dict.fromkeys(
                    tuple(str(_payload(i.get(k))) for k in key)
                    for i in found
                    if all(k in i for k in key)
                )
            )
            rows = source.rows_by_keys(entity, idents) if idents else []
            at_key: set[str] = set()
            kept: set[tuple[str, ...]] = set()  # rows that no longer convert: items kept
            for row in rows:
                converted, _ = self.converter.convert(entity, [row], copies=True)
                if converted:
                    at_key.update(self._key(item) for item in converted)
                else:
                    kept.add(tuple(str(row[0].get(k)) for k in key))
            for item in found:
                text = tuple(str(_payload(item.get(k))) for k in key)
                if not all(k in item for k in key) or text in kept:
                    continue
                if self._key(item) not in at_key:
                    # not where its row's item is: the row was deleted, or its table key
                    # changed (the catch-up wrote its item at the new key)
                    orphans.append(item)
        removed = changed = 0
        for item in orphans:
            if self._delete(item):
                removed += 1
            else:
                changed += 1
        with self._lock:
            self.stats.scanned += scanned
            self.stats.removed += removed
            self.stats.changed += changed

    def _key(self, item: Mapping[str, Any]) -> str:
        return json.dumps([item.get(n) for n in self.key_names], sort_keys=True, default=str)

    def _delete(self, item: Item) -> bool:
        key = {n: item[n] for n in self.key_names}
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": key}
        if VERSION_ATTRIBUTE in item:
            kwargs["ConditionExpression"] = "#v = :v"
            kwargs["ExpressionAttributeNames"] = {"#v": VERSION_ATTRIBUTE}
            kwargs["ExpressionAttributeValues"] = {":v": item[VERSION_ATTRIBUTE]}
        else:
            kwargs["ConditionExpression"] = "attribute_not_exists(#v)"
            kwargs["ExpressionAttributeNames"] = {"#v": VERSION_ATTRIBUTE}
        for attempt in range(8):
            try:
                self.client.delete_item(**kwargs)
                return True
            except Exception as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                if code == "ConditionalCheckFailedException":
                    return False
                if not retryable(exc) or attempt == 7:
                    raise
        return False  # pragma: no cover - the loop returns or raises
