"""Pass 1: give every entity a type prefix (`OrderItem` -> `ORDER_ITEM`).

Every derived sort key starts with its entity's prefix, so keys of different entity types
never coincide and `begins_with(sk, "VARIANT#")` selects exactly one type. Prefixes are made
unique deterministically (sorted by entity name; a clash gets `_2`, `_3`, ...).
"""

from __future__ import annotations

from dataclasses import replace

from modeling.compile.state import Derivation
from modeling.core import ir, naming


def type_prefix(name: str) -> str:
    """Upper snake case of an entity name: `OrderItem` -> `ORDER_ITEM`, `HTTPLog` -> `HTTP_LOG`."""
    return naming.snake(name).upper() or "ENTITY"


def assign_prefixes(model: ir.Model, state: Derivation) -> Derivation:
    prefixes: dict[str, str] = {}
    taken: set[str] = set()
    for entity in sorted(model.entities, key=lambda e: e.name):
        base = type_prefix(entity.name)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        prefixes[entity.name] = candidate
    return replace(state, prefixes=prefixes)
