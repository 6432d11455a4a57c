"""Checks on a derived layout: each a function (Layout, Model) -> Iterator[Diagnostic].

One subject per function; every code has a test that triggers it (tests/compile/test_checks.py).
All checks run and report together; an ERROR stops the emitters.
"""

from __future__ import annotations

from collections.abc import Iterator

from modeling.compile import sharding, templates
from modeling.core import ir, limits
from modeling.core.diagnostics import Diagnostic, Severity, Span
from modeling.pg.collations import byte_ordered
from modeling.runtime import keys

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
    slots = templates.slots(template)
    total = len(_SLOTLESS(template, slots).encode())
    unbounded = []
    for slot in slots:
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


def _SLOTLESS(template: str, slots: tuple[str, ...]) -> str:
    out = template
    for slot in slots:
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
        if pattern is None or entity is None or plan.sharded:
            continue  # a sharded partition: `sharded-partition` gives the arithmetic
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


def check_write_rates(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """An entity's `writes_per_second`: each write also writes every GSI its item is keyed on.

    A partition too hot for its key: `check_unsharded_hot_partitions`. On a provisioned table, more write units than the table (or a GSI) provisions: under capacity.
    """
    table_wcu = 0.0
    gsi_wcu: dict[str, float] = {}
    for el in layout.entities:
        entity = model.entity(el.entity)
        if entity is None or not entity.writes_per_second:
            continue
        rate = entity.writes_per_second
        for key in el.keys:
            if key.index == "table":
                table_wcu += rate
            else:
                gsi_wcu[key.index] = gsi_wcu.get(key.index, 0.0) + rate
    billing = model.table.billing
    if billing.mode != "provisioned" or billing.write is None:
        return
    for where, need in [("the table", table_wcu), *sorted(gsi_wcu.items())]:
        if need > billing.write:
            yield Diagnostic(
                "capacity-below-rate",
                Severity.WARNING,
                f"the entities' writes_per_second add up to {need:g} writes/s on {where}; the "
                f"table provisions {billing.write} WCU (1 WCU = one write of up to 1 KB per second)",
                _model_span(model),
                "raise table.billing.provisioned.write, or use billing: on_demand",
                model.name,
            )


def check_unsharded_hot_partitions(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """A partition whose expected load needs shards (`modeling.compile.sharding`, the one home
    of the arithmetic) that the compiler could not shard: the reason and the figures."""
    for load in sharding.hot_loads(model, layout):
        if layout.key_shards(load.entity, load.index):
            continue
        why = load.why_not or "another entity on the same partition template cannot be sharded"
        yield Diagnostic(
            "hot-partition",
            Severity.WARNING,
            f"{load.entity} on {load.index}: the partition key {load.pk!r} needs "
            f"{load.shards} shards ({load.arithmetic()}), but it cannot be sharded: {why}",
            _model_span(model, load.entity),
            "key the index on a higher-cardinality attribute, leave the key to the compiler "
            "(it then shards it), or cache the reads (DAX)",
            load.entity,
        )


def check_number_bounds(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """Declared number bounds against what DynamoDB and the key codec hold: a number keeps 38
    significant digits, and an integer key slot encodes values in the codec's fixed range."""
    for entity in model.entities:
        for a in entity.attributes:
            if a.precision is not None and a.precision > limits.NUMBER_DIGITS:
                yield Diagnostic(
                    "number-too-precise",
                    Severity.WARNING,
                    f"{entity.name}.{a.name} holds up to {a.precision} significant digits; a "
                    f"DynamoDB number keeps {limits.NUMBER_DIGITS}, so such values cannot be "
                    "stored as numbers",
                    a.span or _model_span(model, entity.name),
                    "store the value as a string attribute, or lower the precision",
                    entity.name,
                )
    for el in layout.entities:
        owner = model.entity(el.entity)
        if owner is None:
            continue
        slots = {s for k in el.keys for t in (k.pk, k.sk) if t for s in templates.slots(t)}
        for slot in sorted(slots):
            attr = owner.attribute(slot)
            if attr is None or attr.type.kind != "integer":
                continue
            a = attr
            low, high = keys.INTEGER_MIN, keys.INTEGER_MAX
            if (a.min is not None and a.min < low) or (a.max is not None and a.max > high):
                yield Diagnostic(
                    "key-number-out-of-range",
                    Severity.WARNING,
                    f"{el.entity} key slot {{{slot}}} may hold [{a.min}, {a.max}]; the key codec "
                    f"encodes integers in [{low}, {high}], so rows beyond it cannot become items",
                    a.span or _model_span(model, el.entity),
                    "key on another attribute, or make the slot a string",
                    el.entity,
                )


# Largest UTF-8 size of a scalar value by kind, where it has one (a DynamoDB number: about one
# byte per two significant digits plus one; 38 digits at most).
_NUMBER_BYTES = (limits.NUMBER_DIGITS + 1) // 2 + 1
_VALUE_BYTES = {
    "boolean": 1,
    "date": 10,
    "datetime": 32,
    "uuid": 36,
    "float": _NUMBER_BYTES,
}


def _value_max_bytes(a: ir.Attribute) -> int | None:
    """The most bytes one attribute's value can take in an item; None when unbounded."""
    kind = a.type.kind
    if kind in ("list", "set", "map"):
        return None
    if kind == "string":
        return a.max_length * 4 if a.max_length is not None else None
    if kind == "binary":
        return a.max_length
    if kind == "integer":
        if a.min is None or a.max is None:
            return _NUMBER_BYTES
        digits = len(str(max(abs(a.min), abs(a.max))))
        return (digits + 1) // 2 + 1
    if kind == "decimal":
        return (a.precision + 1) // 2 + 1 if a.precision is not None else _NUMBER_BYTES
    return _VALUE_BYTES.get(kind)


def check_item_sizes(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """An entity whose every attribute is bounded (`max_length`, number bounds, fixed-width
    kinds) has a largest item; over DynamoDB's 400 KB every such row would be refused."""
    indexes = {i.name: i for i in layout.indexes}
    for el in layout.entities:
        entity = model.entity(el.entity)
        if entity is None:
            continue
        total = len(layout.type_attribute) + len(el.type_value.encode())
        bounded = True
        for a in entity.attributes:
            size = _value_max_bytes(a)
            if size is None:
                bounded = False
                break
            total += len(a.name.encode()) + size
        for key in el.keys if bounded else ():
            index = indexes.get(key.index)
            for attr, template in (
                (index.pk if index else None, key.pk),
                (index.sk if index else None, key.sk),
            ):
                if template is None or attr is None:
                    continue
                size, unbounded = max_template_bytes(template, entity)
                if unbounded:
                    bounded = False
                total += len(attr.name.encode()) + size
        if bounded and total > limits.ITEM_BYTES:
            yield Diagnostic(
                "item-may-be-too-large",
                Severity.WARNING,
                f"one {el.entity} item can be {total} bytes (every attribute at its declared "
                f"bound, strings as 4-byte characters); DynamoDB allows {limits.ITEM_BYTES}",
                _model_span(model, el.entity),
                "lower the `max_length` bounds, or move large text to S3 and keep a reference",
                el.entity,
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


def check_lsi_partition_keys(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """A pinned LSI key shares the table's partition key: an LSI is sorted within a table
    partition, so its pk template must be the entity's table pk (a pin with another pk was
    accepted and crashed the DMS emitter)."""
    for el in layout.entities:
        entity = model.entity(el.entity)
        table = el.key("table")
        if entity is None or table is None:
            continue
        for key in el.keys:
            index = layout.index(key.index)
            if index is None or index.kind != "lsi" or key.pk == table.pk:
                continue
            pin = next(
                (p for p in entity.pinned_keys if p.index.lower() == index.name.lower()), None
            )
            yield Diagnostic(
                "lsi-partition-key",
                Severity.ERROR,
                f"{el.entity}: the key pinned on {index.name} has pk {key.pk!r}, but an LSI "
                f"shares the table's partition key, which is {table.pk!r}",
                pin.span
                if pin is not None and pin.span is not None
                else _model_span(model, el.entity),
                f'pin pk: "{table.pk}" on {index.name.lower()} (only its sk is its own), or use '
                "a GSI for another partition key",
                el.entity,
            )


# the encodings of these kinds vary in length; the literal after such a slot must start with a
# character their encoding never holds, or the boundary (and so the row) is ambiguous
_NEVER_IN_ENCODING = {
    "string": lambda c: c <= "#",  # encoded text holds `$XX` escapes and chars above `$`
    "binary": lambda c: c not in "0123456789abcdef",  # lower-case hex
}


def _ambiguous_slots(template: str, kinds: dict[str, str]) -> list[str]:
    """Variable-width slots whose end cannot be told from the rendered key."""
    out = []
    matches = list(templates._SLOT.finditer(template))
    for i, m in enumerate(matches):
        never = _NEVER_IN_ENCODING.get(kinds.get(m.group(1), ""))
        if never is None:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(template)
        after = template[m.end() : end]
        if i + 1 < len(matches) and not after:
            out.append(m.group(1))  # touching slots (the template grammar refuses them too)
        elif after and not never(after[0]):
            out.append(m.group(1))
    return out


def check_identity(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """Every entity's table key is injective on its identity (the `key:` attributes).

    Proof: every key attribute is a slot of the table's pk or sk, and every slot can be read
    back from the rendered key (each kind's encoding is canonical, and a variable-width slot is
    followed by the end of its template or by a literal its encoding never holds). Then two
    rows with different keys get different item keys, and no write can replace another row's
    item. GSIs and LSIs need no proof: an index holds every item even when keys repeat, and a
    Query returns them all (a `unique: true` pattern served by one is checked by the client).
    Source rows sharing a `key:` value are found by `migrate plan` (listed, dead-lettered).
    """
    for el in layout.entities:
        entity = model.entity(el.entity)
        table = next(
            (k for k in el.keys if (i := layout.index(k.index)) and i.kind == "table"), None
        )
        if entity is None or table is None:
            continue
        kinds = _kinds(model, el.entity)
        present = set(templates.slots(table.pk)) | set(templates.slots(table.sk or ""))
        missing = [k for k in entity.key if k not in present]
        where = f"pk {table.pk!r}" + (f", sk {table.sk!r}" if table.sk is not None else "")
        if missing:
            yield Diagnostic(
                "key-not-identity",
                Severity.ERROR,
                f"{el.entity}: its table key ({where}) does not hold the key attribute(s) "
                f"{', '.join(missing)}: rows that differ only there would get one item, and "
                "each write would replace the previous row's item",
                _model_span(model, el.entity),
                "put every `key:` attribute in the table key, e.g. "
                f'sk: "{el.type_value.upper()}#'
                + "#".join(f"{{{k}}}" for k in missing)
                + '" (or declare the key the source really has with `key:`)',
                el.entity,
            )
            continue
        for part, template in (("pk", table.pk), ("sk", table.sk)):
            ambiguous = _ambiguous_slots(template or "", kinds)
            if ambiguous:
                yield Diagnostic(
                    "key-not-identity",
                    Severity.ERROR,
                    f"{el.entity}: in its table {part} {template!r} the end of "
                    f"{', '.join('{' + a + '}' for a in ambiguous)} cannot be told from the "
                    "text after it, so two rows can render the same item key",
                    _model_span(model, el.entity),
                    "follow each string or binary slot with `#` (or end the template there)",
                    el.entity,
                )


def check_mutable_table_keys(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """A pinned table key holding an attribute that can change (`ir.Model.stable`): the item's
    primary key changes with it, which DynamoDB cannot update in place. (Derived table keys
    never hold one; on a GSI a changed value just moves the index entry.)"""
    for el in layout.entities:
        entity = model.entity(el.entity)
        key = el.key("table")
        if entity is None or key is None or not key.pinned:
            continue
        slots = [*templates.slots(key.pk), *templates.slots(key.sk or "")]
        mutable = sorted({s for s in slots if not model.stable(entity, s)})
        if not mutable:
            continue
        names = ", ".join(mutable)
        yield Diagnostic(
            "mutable-table-key",
            Severity.WARNING,
            f"{el.entity}: the pinned table key {key.pk!r} / {key.sk!r} holds {names}, which "
            f"can change; the primary key changes with it, so changing {names} is a delete of "
            "the item and a put under the new key (a transaction, not one UpdateItem), and a "
            "reader holding the old key no longer finds it",
            _model_span(model, el.entity),
            f"declare `immutable: true` on {names} if the value never changes after insert, or "
            "move it to a GSI key (DynamoDB moves a GSI entry by itself) and key the table on "
            "the identity",
            el.entity,
        )


def identity_lookup(model: ir.Model, entity: str) -> ir.AccessPattern | None:
    """The access pattern that finds `entity`'s item from its identity alone: it reads only
    that entity, with an `=` on every `key:` attribute and nothing else (no filter, no range).

    The dual-write repository addresses a row by identity through it once PostgreSQL is no
    longer written and the table key needs attributes beyond the identity. The first such
    pattern by name, so the choice is stable.
    """
    e = model.entity(entity)
    if e is None:
        return None
    for p in sorted(model.patterns, key=lambda p: p.name):
        if p.entities != (entity,) or p.filter or p.limit_param is not None:
            continue
        if all(c.op == "=" and c.literals == () for c in p.where) and sorted(
            c.attribute for c in p.where
        ) == sorted(e.key):
            return p
    return None


def table_key_beyond_identity(layout: ir.Layout, model: ir.Model, entity: str) -> tuple[str, ...]:
    """The attributes an entity's table key is built from besides its identity (template order)."""
    e, el = model.entity(entity), layout.entity(entity)
    key = el.key("table") if el is not None else None
    if e is None or key is None:
        return ()
    out: list[str] = []
    for slot in (*templates.slots(key.pk), *templates.slots(key.sk or "")):
        if slot not in e.key and slot not in out:
            out.append(slot)
    return tuple(out)


def check_identity_addressing(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """An entity whose table key needs attributes beyond its identity, with no access pattern
    that finds it by identity: after the cutover (PostgreSQL no longer written) a get, update or
    delete by identity alone cannot find its item. Said plainly, with the way to get one."""
    for el in layout.entities:
        beyond = table_key_beyond_identity(layout, model, el.entity)
        entity = model.entity(el.entity)
        if not beyond or entity is None or identity_lookup(model, el.entity) is not None:
            continue
        names, ident = ", ".join(beyond), ", ".join(entity.key)
        yield Diagnostic(
            "identity-needs-key-attributes",
            Severity.INFO,
            f"{el.entity}: its table key needs {names} besides its identity ({ident}); the "
            f"repository's get, update and delete by {ident} read them from PostgreSQL while "
            "it is written, and need them passed once only DynamoDB is written "
            "(writeToNewDatabase), since no access pattern finds the item by its identity",
            _model_span(model, el.entity),
            f"add a pattern that reads {el.entity} by {ident} (`where: {{"
            + ", ".join(f'{k}: "="' for k in entity.key)
            + "}`, `unique: true`): its index lets the repository find the item by identity "
            "alone; or pass the key attributes to get/update/delete",
            el.entity,
        )


AMPLIFICATION_WARN = 1.5  # items read per item returned from which dropped types are worth a word
FILTER_AMPLIFICATION_WARN = 2.0  # the same for non-key filters (non-key-filter already informs)


def check_read_amplification(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """A key condition that reads items the plan then drops (other entity types in the
    partition that no sort-key range excludes, non-key filters), with the estimated items read
    per item returned (`ir.ReadEstimate`, also in layout.json for verify to compare). Quiet
    when the estimate is known and small; an unknown estimate over dropped types is reported."""
    for plan in layout.plans:
        est = plan.read_estimate
        pattern = model.pattern(plan.pattern)
        if est is None or pattern is None:
            continue
        if est.dropped:
            if est.factor is not None and est.factor < AMPLIFICATION_WARN:
                continue
        elif est.factor is None or est.factor < FILTER_AMPLIFICATION_WARN:
            continue
        what = []
        if est.dropped:
            what.append(
                f"items of {', '.join(est.dropped)} in the same partition (dropped by type)"
            )
        if est.filters:
            what.append(f"items that fail the filter on {', '.join(est.filters)}")
        if est.factor is None:
            size = "an unknown number of items"
        else:
            size = f"{'at least ' if est.lower_bound else 'about '}{est.factor:g} items"
        yield Diagnostic(
            "read-amplification",
            Severity.WARNING,
            f"pattern {plan.pattern!r} reads {size} per item it returns: its key condition on "
            f"{plan.index} also matches {' and '.join(what)}, and no sort-key range excludes "
            f"them (estimate from: {'; '.join(est.basis)})",
            pattern.span,
            _amplification_hint(est, len(plan.entities) > 1),
            plan.pattern,
        )


def _amplification_hint(est: ir.ReadEstimate, collection: bool) -> str:
    tips = []
    if est.dropped and collection:
        tips.append(
            "make the members' sort-key prefixes sort next to each other, with no other type's "
            "prefix between them (pin sort keys), so one sort-key range reads only the collection"
        )
    elif est.dropped:
        tips.append(
            "give the entity a sort key whose literal prefix no other type in the partition "
            "shares (pin one, or let the compiler derive it), so a begins_with or range reads "
            "only its items"
        )
    if est.filters:
        tips.append("make the filtered attribute an equality condition so it becomes part of a key")
    if est.factor is None:
        tips.append("declare `row_count:` on the entities to get an estimate")
    return "; ".join(tips)


def _string_order(model: ir.Model, plan: ir.PatternPlan) -> tuple[str, ir.Attribute] | None:
    """(how, attribute) when the plan's result order or range compares a string key slot."""
    pattern = model.pattern(plan.pattern)
    entity = model.entity(plan.entities[0])
    if pattern is None or entity is None or len(plan.entities) != 1:
        return None
    rng = pattern.range
    if rng is not None and rng.op == "begins_with":
        return None  # a prefix match is not collation-sensitive (LIKE 'x%' compares bytes)
    if rng is not None:
        name, how = rng.attribute, "compares"
    elif pattern.order_by is not None and pattern.order_by not in {
        c.attribute for c in pattern.equality
    }:
        name, how = pattern.order_by, "orders by"
    else:
        return None
    attr = entity.attribute(name)
    if attr is None or attr.type.kind != "string":
        return None
    return how, attr


def check_enum_order(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """An enum attribute a pattern orders by (or compares with <, >, between) whose values are
    not listed in byte order. A PostgreSQL ENUM type (what the importers write `enum:` for)
    orders by the order its values were declared in, DynamoDB by the bytes of the key text:
    `ORDER BY priority` on (low, medium, high) comes back high, low, medium."""
    for plan in layout.plans:
        found = _string_order(model, plan)
        if found is None or found[1].enum is None:
            continue
        how, attr = found
        declared = list(attr.enum or ())
        if declared == sorted(declared, key=lambda v: v.encode("utf-8")):
            continue
        pattern = model.pattern(plan.pattern)
        yield Diagnostic(
            "enum-order",
            Severity.WARNING,
            f"pattern {plan.pattern!r} {how} the enum {plan.entities[0]}.{attr.name}, whose "
            f"values are listed as {', '.join(declared)}: a PostgreSQL ENUM orders (and "
            "compares) by that declared order, DynamoDB by the key's bytes ("
            + ", ".join(sorted(declared, key=lambda v: v.encode("utf-8")))
            + "), so the rows come back in another order than the SQL's",
            pattern.span if pattern else None,
            "if the column is text (a CHECK constraint), list the values in byte order; for an "
            "ENUM type, key on its position (an integer attribute written with the item) or "
            "order by another attribute",
            plan.pattern,
        )


def check_collation(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """A string key slot a pattern orders by (or compares with <, >, between): DynamoDB orders
    it by UTF-8 bytes, PostgreSQL by the column's collation. A known collation other than
    C/POSIX gets a warning per pattern. An unknown one (no `collation:` on the attribute or
    `source.collation`) gets one info per model listing the patterns, so that models which do
    not say stay quiet unless they order by strings, and then say it once."""
    unknown: list[str] = []
    for plan in layout.plans:
        found = _string_order(model, plan)
        if found is None:
            continue
        how, attr = found
        if attr.enum is not None:
            continue  # the declared order of its values decides: check_enum_order
        if attr.collation is None:
            unknown.append(f"{plan.pattern} ({attr.name})")
            continue
        if byte_ordered(attr.collation):
            continue
        pattern = model.pattern(plan.pattern)
        yield Diagnostic(
            "collation-order",
            Severity.WARNING,
            f"pattern {plan.pattern!r} {how} the string {plan.entities[0]}.{attr.name}, whose "
            f"PostgreSQL collation is {attr.collation!r}; DynamoDB compares sort keys by UTF-8 "
            "bytes, so the order (and a range's bounds) can differ from the SQL it replaces: "
            "'Banana' < 'apple' < 'Éclair' < 'éclair' in bytes, 'apple' < 'Banana' < 'éclair' < "
            "'Éclair' under most natural-language collations",
            pattern.span if pattern else None,
            "if the application accepts byte order, declare `collation: C` on the attribute "
            '(and make the column COLLATE "C", so PostgreSQL agrees); otherwise key on a '
            "normalised copy (e.g. lower-cased, accents stripped) and sort the page in the client",
            plan.pattern,
        )
    if unknown:
        yield Diagnostic(
            "collation-order",
            Severity.INFO,
            f"the source collation is not declared; {len(unknown)} pattern(s) order or compare "
            f"strings in DynamoDB's UTF-8 byte order: {', '.join(unknown)}; PostgreSQL agrees "
            "only under the C/POSIX collation (most databases default to a language collation, "
            "e.g. en_US.UTF-8, where 'apple' < 'Banana')",
            _model_span(model),
            "set `source.collation:` (SELECT datcollate FROM pg_database WHERE datname = "
            "current_database()) or `collation:` on the attribute (a column's COLLATE); `C` "
            "silences this",
            model.name,
        )
