"""Rows as the verifier holds them: one Python value per attribute, shared by every stage.

A row is a plain dict `attribute name -> value` with these Python types, so that the sample
generator, the Python oracle, the item codec and the PostgreSQL loader agree on one form:

    string  -> str            integer -> int          decimal -> Decimal     float -> float
    boolean -> bool           date    -> date         datetime -> aware datetime (UTC)
    uuid    -> uuid.UUID      binary  -> bytes        map -> dict (JSON-like: str/int/bool/None/list/dict)
    list<T> -> list           set<T>  -> frozenset (never empty)
    NULL    -> None (the attribute is present in the dict with value None)

The table's TTL attribute, when a datetime, holds whole seconds (sample.py makes it so): it is
stored as N epoch seconds, so a sub-second part would not survive the round trip.

A row is identified across stores by `RowRef` = (entity name, key values in the entity's key
order); that is what the oracle, DynamoDB and PostgreSQL results are compared on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modeling.core.ir import Entity, Model

Row = dict[str, Any]


@dataclass(frozen=True, order=True)
class RowRef:
    """The identity of one row: entity name and its key values (in `Entity.key` order)."""

    entity: str
    key: tuple[Any, ...]

    def __str__(self) -> str:
        return f"{self.entity}({', '.join(_short(v) for v in self.key)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Dataset:
    """The sample rows of every entity, in generation order (deterministic for one seed)."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def of(self, entity: str) -> list[Row]:
        return self.rows.get(entity, [])

    def total(self) -> int:
        return sum(len(v) for v in self.rows.values())


def ref_of(entity: Entity, row: Row) -> RowRef:
    """The identity of `row` as a row of `entity`."""
    return RowRef(entity.name, tuple(row[k] for k in entity.key))


def index_rows(model: Model, data: Dataset) -> dict[RowRef, Row]:
    """Every row by its identity, to look rows up from query results."""
    out: dict[RowRef, Row] = {}
    for entity in model.entities:
        for row in data.of(entity.name):
            out[ref_of(entity, row)] = row
    return out
