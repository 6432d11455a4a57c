"""Checks on a derived layout: each a function (Layout, Model) -> Iterator[Diagnostic].

One subject per function; every code has a test that triggers it (tests/compile/test_checks.py).
All checks run and report together; an ERROR stops the emitters.
"""

from __future__ import annotations

from collections.abc import Iterator

from modeling.compile import templates
from modeling.core import ir, limits
from modeling.core.diagnostics import Diagnostic, Severity, Span

LOW_CARDINALITY = 100  # distinct partition-key values below which a key is hot

# Longest encoded width of a slot, in UTF-8 bytes (generous: the codec's fixed widths fit).
# None: unbounded (strings and binary).
SLOT_BYTES: dict[str, int | None] = {
    "integer": 24,
    "decimal": 64,
    "float": 32,
    "boolean": 5,
    "date": 10,
    "datetime": 32,
    "uuid": 36,
    "string": None,
    "binary": None,
}


def _model_span(model: ir.Model, entity: str | None = None) -> Span | None:
    if entity is not None and (e := model.entity(entity)) is not None and e.span is not None:
        return e.span
    return Span(model.file) if model.file else None


def check_index_counts(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """DynamoDB allows at most 20 GSIs and 5 LSIs per table."""
    gsis, lsis = layout.gsis, layout.lsis
    if len(gsis) > limits.MAX_GSIS:
        extra = [
            p.pattern for p in layout.plans if p.index in {g.name for g in gsis[limits.MAX_GSIS :]}
        ]
        yield Diagnostic(
            "too-many-gsis",
            Severity.ERROR,
            f"the patterns need {len(gsis)} GSIs; DynamoDB allows {limits.MAX_GSIS} "
            f"(beyond the limit: {', '.join(extra)})",
            _model_span(model),
            "merge patterns that read one entity by the same partition key (a composite sort "
            "key serves `=` + range), or move rare patterns to a filter",
            model.name,
        )
    if len(lsis) > limits.MAX_LSIS:
        yield Diagnostic(
            "too-many-lsis",
            Severity.ERROR,
            f"the model pins {len(lsis)} LSIs; DynamoDB allows {limits.MAX_LSIS}",
            _model_span(model),
            "use GSIs instead (no 10 GB item-collection limit either)",
            model.name,
        )


def max_template_bytes(template: str, entity: ir.Entity, chars: int = 4) -> tuple[int, list[str]]:
    """(longest known byte length, slots of unbounded length) of a rendered template.

    A string slot with `max_length` counts `chars` bytes a character: 4 is the codec's worst
    case (4 UTF-8 bytes; an escaped char takes 3), 1 the plain ASCII case."""
    total = len(_SLOTLESS(template).encode())
    unbounded = []
    for slot in templates.slots(template):
        attr = entity.attribute(slot)
        width = SLOT_BYTES.get(attr.type.kind) if attr else None
        if width is None and attr is not None and attr.max_length is not None:
            # a binary byte is 2 hex chars
            width = attr.max_length * (chars if attr.type.kind == "string" else 2)
        if width is None:
            unbounded.append(slot)
            if attr is not None and attr.stats is not None and attr.stats.avg_width:
                total += attr.stats.avg_width * 2  # escaping can double `#`s
        else:
            total += width
    return total, unbounded


def _SLOTLESS(template: str) -> str:
    out = template
    for slot in templates.slots(template):
        out = out.replace("{" + slot + "}", "")
    return out


def check_key_lengths(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """Partition keys 1–2048 bytes, sort keys 1–1024 (estimated from slot types).

    Over the limit or possibly empty: an error per key. Unbounded slots (strings, binary):
    one warning per entity naming them, since any long value will be rejected at write.
    """
    for el in layout.entities:
        entity = model.entity(el.entity)
        if entity is None:
            continue
        unbounded_slots: set[str] = set()
        for key in el.keys:
            for part, template, limit in (
                ("partition", key.pk, limits.PARTITION_KEY_BYTES),
                ("sort", key.sk, limits.SORT_KEY_BYTES),
            ):
                if template is None:
                    continue
                size, unbounded = max_template_bytes(template, entity)
                where = f"{el.entity} {part} key {template!r} on {key.index}"
                if size > limit and max_template_bytes(template, entity, 1)[0] <= limit:
                    # over only when bounded strings are all 4-byte characters: a warning
                    yield Diagnostic(
                        "key-may-be-too-long",
                        Severity.WARNING,
                        f"{where} can be {size} bytes when its bounded strings are all "
                        f"multi-byte characters; DynamoDB allows {limit}",
                        _model_span(model, el.entity),
                        "lower `max_length`, shorten the literal text, or validate byte "
                        "lengths in the application",
                        el.entity,
                    )
                elif size > limit:
                    yield Diagnostic(
                        "key-too-long",
                        Severity.ERROR,
                        f"{where} can be {size} bytes; DynamoDB allows {limit}",
                        _model_span(model, el.entity),
                        "shorten the literal text or use fewer/narrower slots",
                        el.entity,
                    )
                elif size == 0 and not unbounded:
                    yield Diagnostic(
                        "key-empty",
                        Severity.ERROR,
                        f"{where} renders as an empty string; key values are never empty",
                        _model_span(model, el.entity),
                        "start the template with literal text",
                        el.entity,
                    )
                unbounded_slots.update(unbounded)
        if unbounded_slots:
            names = ", ".join(sorted(unbounded_slots))
            yield Diagnostic(
                "key-length-unknown",
                Severity.WARNING,
                f"{el.entity}: key slots {names} have no length bound; an item whose partition "
                f"key exceeds {limits.PARTITION_KEY_BYTES} bytes or sort key {limits.SORT_KEY_BYTES} bytes is rejected at write",
                _model_span(model, el.entity),
                "validate lengths in the application (or declare column stats), or key on "
                "bounded attributes",
                el.entity,
            )


def _kinds(model: ir.Model, entity: str) -> dict[str, str]:
    """Slot kinds of an entity's key templates: attribute -> kind."""
    e = model.entity(entity)
    return {a.name: a.type.kind for a in e.attributes} if e else {}


def check_prefix_disjointness(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """No two entity types may be able to produce the same (pk, sk) on any index.

    Type-aware: each slot renders only its kind's encodings (`modeling.compile.key_languages`),
    so a datetime slot (a digit first) does not collide with the literal `Join:`.
    """
    kinds = {e.name: _kinds(model, e.name) for e in model.entities}
    for index in layout.indexes:
        keyed = [(el.entity, k) for el in layout.entities if (k := el.key(index.name)) is not None]
        # only pairs whose partition keys' literal prefixes agree can collide (same pairs, in
        # the same order, as comparing every pair: n^2 for thousands of entities)
        by_prefix: dict[str, list[int]] = {}
        for i, (_, k) in enumerate(keyed):
            by_prefix.setdefault(templates.literal_prefix(k.pk), []).append(i)
        for i, j in templates.compatible_groups(by_prefix):
            (a, ka), (b, kb) = keyed[i], keyed[j]
            kinds_a, kinds_b = kinds.get(a, {}), kinds.get(b, {})
            if not templates.may_coincide(ka.pk, kb.pk, kinds_a, kinds_b):
                continue
            sa, sb = ka.sk or "", kb.sk or ""
            if index.sk is not None and (
                not sa or not sb or not templates.may_coincide(sa, sb, kinds_a, kinds_b)
            ):
                continue
            yield Diagnostic(
                "key-collision",
                Severity.ERROR,
                f"{a} and {b} can produce the same key on {index.name}: "
                f"pk {ka.pk!r} / {kb.pk!r}, sk {ka.sk!r} / {kb.sk!r}",
                _model_span(model, b if kb.pinned else a),
                "start each entity's sort key with a literal prefix of its own "
                f"(e.g. {a.upper()}#... and {b.upper()}#...)",
                f"{a},{b}",
            )


def _low_cardinality(entity: ir.Entity, slots: tuple[str, ...]) -> str | None:
    if not slots:
        return "a constant"
    reasons = []
    for slot in slots:
        attr = entity.attribute(slot)
        if attr is None:
            return None
        if attr.type.kind == "boolean":
            reasons.append(f"{slot} is a boolean (2 values)")
        elif attr.enum is not None:
            reasons.append(f"{slot} is an enum ({len(attr.enum)} values)")
        elif (
            attr.stats is not None
            and attr.stats.n_distinct is not None
            and 0 < attr.stats.n_distinct < LOW_CARDINALITY
        ):
            reasons.append(f"{slot} has about {int(attr.stats.n_distinct)} distinct values")
        else:
            return None
    return " and ".join(reasons)


def check_hot_partitions(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """Low-cardinality partition keys, or a declared rate beyond one partition's throughput."""
    for plan in layout.plans:
        pattern = model.pattern(plan.pattern)
        entity = model.entity(plan.entities[0])
        if pattern is None or entity is None:
            continue
        slots = templates.slots(plan.pk.template)
        reason = _low_cardinality(entity, slots) if slots else None
        if reason is not None:
            yield Diagnostic(
                "hot-partition",
                Severity.WARNING,
                f"pattern {plan.pattern!r}: the partition key {plan.pk.template!r} has few values "
                f"({reason}); all {entity.name} writes with one value land in one partition "
                f"(≤ {limits.PARTITION_WCU} WCU / {limits.PARTITION_RCU} RCU per second)",
                pattern.span,
                "shard writes: add a suffix `#0`..`#N-1` to the partition key and query all N "
                "shards in parallel, or add a high-cardinality attribute to the equality condition",
                plan.pattern,
            )
        rate = pattern.rate
        if rate is not None and (
            (rate.reads_per_second or 0) > limits.PARTITION_RCU
            or (rate.writes_per_second or 0) > limits.PARTITION_WCU
        ):
            yield Diagnostic(
                "hot-partition",
                Severity.WARNING,
                f"pattern {plan.pattern!r} declares {rate.reads_per_second or 0:g} reads/s and "
                f"{rate.writes_per_second or 0:g} writes/s; one partition serves at most "
                f"{limits.PARTITION_RCU} RCU and {limits.PARTITION_WCU} WCU per second",
                pattern.span,
                "if one partition-key value takes most of it, shard that key (suffix #0..#N-1) "
                "or cache the reads (DAX)",
                plan.pattern,
            )


def check_filters(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """Non-key `filter:` conditions are served but cost reads; say so."""
    for plan in layout.plans:
        pattern = model.pattern(plan.pattern)
        written = {(c.attribute, c.op) for c in pattern.filter} if pattern else set()
        for f in plan.filters:
            if (f.attribute, f.op) not in written:
                continue  # a residual range check of the plan itself, not the model's filter
            yield Diagnostic(
                "non-key-filter",
                Severity.INFO,
                f"pattern {plan.pattern!r} filters on {f.attribute} {f.op} outside the key: {f.read_cost}",
                pattern.span if pattern else None,
                "if the filter drops most items, make it an equality condition so it becomes part of a key",
                plan.pattern,
            )


def check_every_pattern_planned(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """No pattern silently unserved: every pattern has a plan (else an error was reported)."""
    planned = {p.pattern for p in layout.plans}
    for pattern in model.patterns:
        if pattern.name not in planned:
            yield Diagnostic(
                "unservable-pattern",
                Severity.ERROR,
                f"pattern {pattern.name!r} has no plan",
                pattern.span,
                "see the other errors for this pattern",
                pattern.name,
            )


def check_plan_bindings(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """Every pk slot of a plan is bound by an equality parameter (else it is no Query)."""
    for plan in layout.plans:
        bound = {b.slot for b in plan.pk.bindings}
        missing = [s for s in templates.slots(plan.pk.template) if s not in bound]
        if missing:
            pattern = model.pattern(plan.pattern)
            yield Diagnostic(
                "unbound-partition",
                Severity.ERROR,
                f"pattern {plan.pattern!r}: partition key {plan.pk.template!r} needs "
                f"{', '.join(missing)}, which the pattern does not bind with `=`",
                pattern.span if pattern else None,
                f'add `{missing[0]}: "="` to the pattern\'s where',
                plan.pattern,
            )


def check_key_shapes(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """An entity key without a sort key on an index that has one would never be indexed.

    DynamoDB writes an item to a GSI only when it carries both key attributes, and rejects a
    table write without the sort key; so a pinned `{pk: ...}` without `sk` is only valid on an
    index where no entity has a sort key (the index is then created without one).
    """
    for entity_layout in layout.entities:
        for key in entity_layout.keys:
            index = layout.index(key.index)
            if index is None or index.sk is None or key.sk is not None:
                continue
            where = "the table" if index.kind == "table" else index.alias or index.name
            yield Diagnostic(
                "missing-sort-key",
                Severity.ERROR,
                f"{entity_layout.entity}: the key pinned on {where} has no sort key, but "
                f"{where} has one ({index.sk.name}): its items would "
                + ("be rejected" if index.kind == "table" else "never appear in the index"),
                _model_span(model, entity_layout.entity),
                f"add `sk:` to the pinned key (e.g. a constant like "
                f'"{entity_layout.type_value.upper()}"), or pin it on an index of its own',
                entity_layout.entity,
            )
