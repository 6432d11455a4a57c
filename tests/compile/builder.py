"""Build `ir.Model` values in tests without the YAML loader (shorthand close to the DSL)."""

from __future__ import annotations

import hashlib
from typing import Any

from modeling.core import ir


def attribute(name: str, spec: str | dict[str, Any]) -> ir.Attribute:
    if isinstance(spec, str):
        return ir.Attribute(name, ir.TypeRef.parse(spec))
    stats = spec.get("stats")
    return ir.Attribute(
        name,
        ir.TypeRef.parse(spec.get("type", "string")),
        required=spec.get("required", True),
        enum=tuple(spec["enum"]) if "enum" in spec else None,
        references=spec.get("references"),
        immutable=spec.get("immutable", False),
        collation=spec.get("collation"),
        stats=ir.ColumnStats(n_distinct=stats) if stats is not None else None,
    )


def entity(
    name: str,
    key: list[str],
    attrs: dict[str, str | dict[str, Any]],
    parent: str | None = None,
    keys: dict[str, dict[str, str]] | None = None,
) -> ir.Entity:
    pinned = tuple(
        ir.PinnedKey(index, k["pk"], k.get("sk")) for index, k in sorted((keys or {}).items())
    )
    return ir.Entity(
        name=name,
        table=name.lower() + "s",
        key=tuple(key),
        attributes=tuple(attribute(n, s) for n, s in attrs.items()),
        parent=parent,
        pinned_keys=pinned,
    )


def pattern(
    name: str,
    entities: str | list[str],
    where: dict[str, str],
    order: str = "asc",
    limit: int | None = None,
    unique: bool = False,
    filter: dict[str, str] | None = None,
    rate: dict[str, float] | None = None,
) -> ir.AccessPattern:
    def conds(d: dict[str, str]) -> tuple[ir.Condition, ...]:
        out = []
        for attr, op in d.items():
            params = (f"{attr}_from", f"{attr}_to") if op == "between" else (attr,)
            out.append(ir.Condition(attr, op, params))
        return tuple(sorted(out, key=lambda c: c.is_range))

    return ir.AccessPattern(
        name=name,
        entities=(entities,) if isinstance(entities, str) else tuple(entities),
        where=conds(where),
        filter=conds(filter or {}),
        order=order,  # type: ignore[arg-type]
        limit=limit,
        unique=unique,
        rate=ir.Rate(**rate) if rate else None,
    )


def model(name: str, entities: list[ir.Entity], patterns: list[ir.AccessPattern]) -> ir.Model:
    return ir.Model(
        name=name,
        table=ir.TableSettings(name=name.title().replace("_", "") + "Table"),
        entities=tuple(entities),
        patterns=tuple(patterns),
        file=f"models/{name}.yaml",
        sha256=hashlib.sha256(name.encode()).hexdigest(),  # stands in for the file's hash
    )
