"""spec (the YAML language) → `ir.Model` (resolved, frozen).

Runs only on a spec that passed every check: shorthands are expanded (`brand_id: string`),
defaults filled in (table names, table settings), and the patterns' conditions — from `where:`
or translated from `sql:` by `spec.checks` — become `ir.Condition`s, equalities first.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from modeling.core import ir
from modeling.core.naming import pascal, table_for_entity
from modeling.spec.checks import (
    XMIN_VERSION,
    Cond,
    ResolvedPattern,
    attribute_spec,
    key_list,
)
from modeling.spec.loader import Positions
from modeling.spec.model import EntitySpec, ModelSpec, PatternSpec, ProvisionedBilling


def _table(spec: ModelSpec) -> ir.TableSettings:
    t = spec.table
    name = (t.name if t and t.name else None) or pascal(spec.model)
    if t is None:
        return ir.TableSettings(name=name)
    billing = ir.Billing()
    if isinstance(t.billing, ProvisionedBilling):
        billing = ir.Billing("provisioned", t.billing.provisioned.read, t.billing.provisioned.write)
    return ir.TableSettings(
        name=name,
        billing=billing,
        ttl=t.ttl,
        stream=t.stream,
        pitr=t.pitr,
        deletion_protection=t.deletion_protection,
        tags=tuple(sorted(t.tags.items())),
        exists=t.exists,
        table_class=t.table_class,
    )


def version_attribute(e: EntitySpec, spec: ModelSpec) -> str | None:
    """The entity's version attribute: its own `version`, else `source.version` when it has
    that attribute, else None (PostgreSQL's xmin; `version: xmin` says so explicitly)."""
    chosen = e.version
    if chosen is None and spec.source is not None and spec.source.version in e.attributes:
        chosen = spec.source.version
    return None if chosen is None or chosen == XMIN_VERSION else chosen


def _entity(name: str, e: EntitySpec, spec: ModelSpec, pos: Positions) -> ir.Entity:
    base = ("entities", name)
    attributes = []
    for attr, value in e.attributes.items():
        a = attribute_spec(value)
        attributes.append(
            ir.Attribute(
                name=attr,
                type=ir.TypeRef.parse(a.type),
                required=a.required,
                enum=tuple(a.enum) if a.enum is not None else None,
                references=a.references,
                column=a.column,
                max_length=a.max_length,
                min_length=a.min_length,
                precision=a.precision,
                scale=a.scale,
                min=a.min,
                max=a.max,
                stats=(
                    ir.ColumnStats(a.stats.n_distinct, a.stats.avg_width, a.stats.null_frac)
                    if a.stats is not None
                    else None
                ),
                description=a.description,
                span=pos.key((*base, "attributes", attr)),
                timezone=a.timezone is not False,
                immutable=a.immutable,
                collation=a.collation
                or (
                    spec.source.collation
                    if spec.source is not None and ir.TypeRef.parse(a.type).scalar == "string"
                    else None
                ),
            )
        )
    pinned = tuple(
        ir.PinnedKey(index, k.pk, k.sk, span=pos.key((*base, "keys", index)))
        for index, k in (e.keys or {}).items()
    )
    table = e.table or table_for_entity(name)
    schema = e.schema_ or (spec.source.schema_ if spec.source else None)
    if "." in table:
        schema, _, table = table.rpartition(".")
    return ir.Entity(
        name=name,
        table=table,
        key=tuple(key_list(e)),
        attributes=tuple(attributes),
        parent=e.parent,
        description=e.description,
        pinned_keys=pinned,
        schema=schema,
        row_count=e.row_count,
        writes_per_second=e.writes_per_second,
        version=version_attribute(e, spec),
        span=pos.key(base),
    )


def _pattern(
    p: PatternSpec,
    r: ResolvedPattern,
    pos: Positions,
    strategy: Literal["fewest_indexes", "lowest_cost"] | None = None,
) -> ir.AccessPattern:
    def cond(c: object) -> ir.Condition:
        assert isinstance(c, Cond)
        return ir.Condition(
            c.attribute,
            c.op,
            c.params,
            span=c.span,
            literals=c.literals,
            bounds=c.bounds,
            listed=c.listed,
        )

    rate = None
    if p.rate is not None:
        rate = ir.Rate(p.rate.reads_per_second, p.rate.writes_per_second)
    return ir.AccessPattern(
        name=r.name,
        entities=r.entities,
        where=tuple(cond(c) for c in r.where),
        filter=tuple(cond(c) for c in r.filter),
        order=r.order or "asc",
        limit=r.limit,
        unique=p.unique,
        rate=rate,
        sql=p.sql.strip() if p.sql is not None else None,
        description=p.description,
        span=pos.key(("access_patterns", r.name)),
        order_by=r.order_by,
        nulls=r.nulls,
        limit_param=r.limit_param,
        strategy=p.strategy or strategy or "fewest_indexes",
    )


def normalize(
    spec: ModelSpec,
    patterns: dict[str, ResolvedPattern],
    positions: Positions,
    file: str | None = None,
    content: bytes | None = None,
) -> ir.Model:
    """Build the resolved model; `patterns` must hold every pattern of `spec` (no errors)."""
    source = None
    if spec.source is not None:
        source = ir.Source(
            spec.source.dialect, spec.source.ddl, spec.source.version, spec.source.collation
        )
    return ir.Model(
        name=spec.model,
        table=_table(spec),
        entities=tuple(_entity(n, e, spec, positions) for n, e in spec.entities.items()),
        patterns=tuple(
            _pattern(p, patterns[n], positions, spec.strategy)
            for n, p in spec.access_patterns.items()
        ),
        description=spec.description,
        source=source,
        file=file,
        sha256=hashlib.sha256(content).hexdigest() if content is not None else None,
        layout=(
            ir.LayoutOptions(lsi=spec.layout.lsi, gsi_keys=spec.layout.gsi_keys)
            if spec.layout
            else ir.LayoutOptions()
        ),
    )
