"""The full comparison after a migration with a live application: nothing missing, stale,
orphaned or resurrected.

`migrate validate --full` reads every row and looks its item up (missing, mismatched, stale).
An application that deletes rows and changes key attributes during the migration can also
leave items that no row explains; `audit` finds those with one parallel Scan of the table:

- orphaned: an item of an entity type whose table key is not the key of any current row (the
  old key of a row whose key changed, or a row deleted by something other than the
  application's repository); a relationship copy (`ir.CopyItems`) likewise, against the copy
  keys of the current rows;
- resurrected: such an item whose identity the application deleted (`deleted`, per entity:
  the identities, as tuples of the entity's key attributes), i.e. a delete that was undone.

Tombstones (see `tombstones`) are counted apart, never as orphans.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from modeling.core import ir
from modeling.migrate.runner import Converter, table_key_names
from modeling.migrate.source import EntityReader, Source
from modeling.migrate.validate import ValidationReport, validate
from modeling.migrate.versioning import version_sources
from modeling.runtime.versioning import TOMBSTONE_ATTRIBUTE

MAX_EXAMPLES = 10
PAGE = 1_000


@dataclass
class Audit:
    rows: int = 0  # current rows of every entity
    items: int = 0  # items of an entity type in the table
    checked: int = 0  # rows whose item was compared
    missing: int = 0
    mismatched: int = 0
    stale: int = 0
    orphaned: int = 0
    resurrected: int = 0
    untransformable: int = 0
    tombstones: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    validation: ValidationReport | None = field(default=None, repr=False)  # the --full part

    @property
    def ok(self) -> bool:
        return not (
            self.missing
            or self.mismatched
            or self.stale
            or self.orphaned
            or self.resurrected
            or self.untransformable
        )

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k != "validation"}
        return {**data, "examples": list(self.examples), "ok": self.ok}


def _scan(client: Any, table: str, segments: int) -> Iterator[list[dict[str, Any]]]:
    def segment(n: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table, "Segment": n, "TotalSegments": segments}
        while True:
            page = client.scan(**kwargs)
            out.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=segments) as pool:
        yield from pool.map(segment, range(segments))


def _current_keys(
    model: ir.Model,
    module: ModuleType,
    dsn: str,
    key_names: tuple[str, ...],
    version_column: str | None,
) -> tuple[set[tuple[str, ...]], dict[str, set[tuple[str, ...]]], int]:
    """(table keys of every current row, identities per entity as text, rows)."""
    converter = Converter(module, model)
    versions = version_sources(model, version_column)
    keys: set[tuple[str, ...]] = set()
    identities: dict[str, set[tuple[str, ...]]] = {}
    rows_seen = 0
    with Source(dsn, {}) as source:
        for ent in model.entities:
            reader = EntityReader.build(model, ent.name, versions[ent.name])
            q = reader.queries
            ids = identities.setdefault(ent.name, set())
            after: tuple[Any, ...] | None = None
            while True:
                rows = source.conn.execute(
                    reader.page(after is not None), q.page_params(PAGE, after)
                ).fetchall()
                if not rows:
                    break
                after = tuple(rows[-1][k.attribute] for k in q.key)
                rows_seen += len(rows)
                items, _ = converter.convert(ent.name, [(r, None) for r in rows], copies=True)
                for item in items:
                    keys.add(tuple(str(item[n]) for n in key_names))
                for r in rows:
                    ids.add(tuple(str(r.get(k)) for k in ent.key))
                if len(rows) < PAGE:
                    break
    return keys, identities, rows_seen


def audit(
    model: ir.Model,
    layout: ir.Layout,
    module: ModuleType,
    dsn: str,
    client: Any,
    table: str,
    deleted: Mapping[str, set[tuple[Any, ...]]] | None = None,
    version_column: str | None = None,
    dead_letter: Path | None = None,
    segments: int = 4,
) -> Audit:
    """Every row against its item (`validate --full`) and every item against the rows."""
    result = Audit()
    result.validation = full = validate(
        model,
        layout,
        dsn,
        client,
        None,
        table,
        version_column=version_column,
        dead_letter=dead_letter,
        module=module,
        segments=segments,
    )
    for name, ev in full.entities.items():
        result.checked += ev.checked
        result.missing += ev.missing
        result.mismatched += ev.mismatched - ev.stale
        result.stale += ev.stale
        result.untransformable += ev.untransformable
        for example in ev.examples[: MAX_EXAMPLES - len(result.examples)]:
            result.examples.append({"entity": name, **example})
    key_names = table_key_names(layout)
    keys, identities, result.rows = _current_keys(model, module, dsn, key_names, version_column)
    gone = {
        e: {tuple(str(v) for v in ident) for ident in ids} for e, ids in (deleted or {}).items()
    }
    types = {el.type_value: el.entity for el in layout.entities}
    # relationship copies (`ir.CopyItems`): current when a current row converts to their key
    types.update({c.type_value: c.entity for c in layout.copies})
    for items in _scan(client, table, segments):
        for item in items:
            if TOMBSTONE_ATTRIBUTE in item:
                result.tombstones += 1
                continue
            type_value = item.get(layout.type_attribute, {}).get("S")
            entity = types.get(type_value) if type_value else None
            if entity is None:
                continue
            result.items += 1
            if tuple(str(item[n]) for n in key_names) in keys:
                continue
            try:
                _, row = module.from_item(item)
                ident = tuple(str(row.get(k)) for k in model.entity(entity).key)  # type: ignore[union-attr]
            except Exception:
                ident = ()
            problem = "orphaned"
            if ident and ident in gone.get(entity, set()) and ident not in identities[entity]:
                problem = "resurrected"
            setattr(result, problem, getattr(result, problem) + 1)
            if len(result.examples) < MAX_EXAMPLES:
                result.examples.append(
                    {
                        "entity": entity,
                        "key": [next(iter(item[n].values())) for n in key_names],
                        "problem": problem,
                    }
                )
    return result
