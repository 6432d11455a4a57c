"""What changed between two compiled designs, and what each change means for a live table.

`classify(old, new)` compares two (model, layout) pairs — the compiled layouts, not the YAML
text: reformatting a model, reordering its entities or rewriting a pattern as `sql:` changes
nothing here — and returns one `Change` per difference, each with the consequence it has for a
table that already holds the old design's items:

- table key schema, table name or LSIs changed: LSIs and the key schema exist only from table
  creation, so the items are copied into a new table (`table-key-changed`, `lsi-*`,
  `table-renamed`);
- a GSI added, removed, or rebuilt (its key schema or projection cannot change in place);
- an entity's table-key template changed: its items move to new keys (`entity-rekeyed`);
- an entity's key on a GSI changed, appeared or went: its items' key attributes are rewritten
  (`entity-index-key-changed`); so are they when the key is written across another number of
  shards (`entity-shards-changed`, `modeling.compile.sharding`);
- a GSI moved between composite keys and the items' own attributes (`gsi-rekeyed`,
  `layout: {gsi_keys}`); a relationship written as copies instead of a GSI, or back
  (`copies-*`, `strategy: lowest_cost`);
- attributes added, removed or re-typed: items rewritten, or refilled from the source when the
  table cannot know the new values (`attribute-*`);
- entities and access patterns added or removed; billing, TTL, stream, point-in-time recovery,
  deletion protection and tags (in-place table settings).

Pure: `modeling.migrate.evolve` turns the changes into the ordered runbook and runs its
runnable steps.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from modeling.core import ir
from modeling.core.errors import InputError

#: Every change kind, with the consequence for a live table (one line each; the docs list it).
CHANGE_KINDS: dict[str, str] = {
    "table-renamed": "the model names another table: a new table, items copied into it",
    "table-key-changed": "the table's key schema changed: a new table, items copied into it",
    "lsi-added": "LSIs exist only from table creation: a new table, items copied into it",
    "lsi-removed": "LSIs exist only from table creation: a new table, items copied into it",
    "lsi-changed": "LSIs exist only from table creation: a new table, items copied into it",
    "gsi-added": "UpdateTable creates the GSI (one per call), then its key attributes are backfilled",
    "gsi-removed": "UpdateTable deletes the GSI once no reader uses it",
    "gsi-changed": "a GSI's key schema or projection cannot change: delete it, create it again, backfill",
    "gsi-rekeyed": "a GSI keyed on other attributes (composite <-> the items' own): the new key "
    "attributes are written first, the GSI rebuilt, the old key attributes removed in clean-up",
    "entity-added": "its rows are migrated from the source",
    "entity-removed": "its items are deleted once no reader uses them",
    "entity-rekeyed": "its table key changed: items copied to new keys, old ones deleted",
    "entity-index-key-changed": "its key attributes on a GSI are rewritten on existing items",
    "entity-shards-changed": "its partition key on a GSI is written across another number of "
    "shards: every item's key moves to its new shard (backfill), then the reads switch",
    "copies-added": "a GSI's relationship is written as copies in the table: a copy is written "
    "for every existing item before the reads switch; the GSI is deleted in clean-up",
    "copies-removed": "the relationship is served by a GSI again: its copies are deleted in "
    "clean-up once NEW's client reads the GSI",
    "copies-changed": "the copies' keys changed: new copies written for every item, the old "
    "ones deleted in clean-up",
    "entity-type-changed": "its type value changed: every item rewritten",
    "attribute-added": "existing items lack it: refilled from the source",
    "attribute-removed": "existing items still hold it: items rewritten without it",
    "attribute-type-changed": "items rewritten in the new type",
    "attribute-constraint-changed": "validation only: existing items are not rewritten",
    "pattern-added": "served once the regenerated client is deployed (and its index is filled)",
    "pattern-removed": "the regenerated client no longer offers it",
    "pattern-changed": "the pattern runs another key condition: deploy the regenerated client",
    "billing-changed": "UpdateTable switches the billing mode or capacity in place",
    "ttl-changed": "UpdateTimeToLive: disable the old attribute, enable the new one",
    "stream-changed": "UpdateTable: a stream's view type changes by disabling and enabling it",
    "pitr-changed": "UpdateContinuousBackups in place",
    "deletion-protection-changed": "UpdateTable in place",
    "tags-changed": "TagResource / UntagResource in place",
    "table-class-changed": "UpdateTable switches the table class in place",
}

#: Kinds that make the table itself a new one (every item copied).
NEW_TABLE_KINDS = frozenset(
    {"table-renamed", "table-key-changed", "lsi-added", "lsi-removed", "lsi-changed"}
)


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new design."""

    kind: str  # a key of CHANGE_KINDS
    subject: str  # what changed: an index, an entity, `Entity.attribute`, a pattern, `table`
    detail: str  # one sentence: old -> new
    entities: tuple[str, ...] = ()  # entities whose items the change touches
    index: str | None = None  # the index concerned (GSI / LSI name)
    old: Any = None
    new: Any = None

    @property
    def consequence(self) -> str:
        return CHANGE_KINDS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "detail": self.detail,
            "consequence": self.consequence,
            "entities": list(self.entities),
            "index": self.index,
            "old": ir.to_jsonable(self.old),
            "new": ir.to_jsonable(self.new),
        }


@dataclass(frozen=True)
class Design:
    """One side of a diff: the model and its compiled layout, and where it came from."""

    model: ir.Model
    layout: ir.Layout
    label: str = ""


@dataclass(frozen=True)
class Evolution:
    old: Design
    new: Design
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def new_table(self) -> bool:
        return any(c.kind in NEW_TABLE_KINDS for c in self.changes)

    def of_kind(self, *kinds: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind in kinds)

    def warnings(self) -> list[str]:
        """Changes that leave a window where something the application does breaks, each
        with what avoids it."""
        out: list[str] = []
        rewritten = {c.subject for c in self.of_kind("entity-index-key-changed")}
        for c in self.of_kind("pattern-changed"):
            if c.old == c.new:
                continue
            hit = sorted(e for e in c.entities if f"{e}.{c.old}" in rewritten)
            if not hit:
                continue
            pins = []
            for e in hit:
                key = self.old.layout.entity(e).key(str(c.old))  # type: ignore[union-attr]
                index = self.old.layout.index(str(c.old))
                if key is None or index is None:
                    continue
                sk = f', sk: "{key.sk}"' if key.sk is not None else ""
                pins.append(
                    f'{e}: keys: {{{index.alias or index.name.lower()}: {{pk: "{key.pk}"{sk}}}}}'
                )
            out.append(
                f"pattern {c.subject} moves from {c.old} to {c.new}, and {c.old}'s keys of "
                f"{', '.join(hit)} are rewritten: between the backfill and the deploy of NEW's "
                "client it answers from neither index (NEW's indexes were assigned afresh: "
                "`--fresh`, or no previous layout kept them). Pinning the old key in NEW may keep it ("
                + "; ".join(pins)
                + "); run `model diff` again: a pin can move other entities' keys"
            )
        if self.of_kind("lsi-added") and not self.new.model.table.exists:
            derived = [d for d in self.new.layout.diagnostics if d.code == "lsi-derived"]
            if derived:
                out.append(
                    "NEW derives LSIs the live table cannot get without a new table and a copy "
                    f"({', '.join(sorted({str(d.subject) for d in derived}))}): declare "
                    "`table: {exists: true}` in NEW to keep GSIs (added in place) instead"
                )
        for c in self.of_kind("entity-shards-changed"):
            reads = sorted(
                p.pattern
                for p in self.new.layout.plans
                if p.index == c.index and c.entities[0] in p.entities
            )
            out.append(
                f"{c.subject}: {c.detail}. Between the deploy of NEW's writers and the end of "
                f"the backfill, OLD's client ({', '.join(reads)}) misses the items NEW's "
                "writers place at their new shard keys, and NEW's client misses the items not yet "
                "moved: run the backfill right after the deploy, then switch the reads"
            )
        for c in self.of_kind("ttl-changed"):
            if c.new is not None:
                out.append(
                    f"TTL on {c.new}: once enabled, DynamoDB deletes (within days) every item "
                    f"whose {c.new} is in the past — existing items included; check their "
                    "values before the update-ttl step"
                )
        for c in self.of_kind("attribute-added"):
            if "required" in c.detail:
                out.append(
                    f"{c.subject} is required in NEW but no existing item holds it: NEW's client "
                    "cannot read those items until the rows are migrated again (or declare it "
                    "`required: false` until then)"
                )
        return out


# --------------------------------------------------------------------------- helpers


def _key_schema(index: ir.Index) -> tuple[tuple[str, str], ...]:
    """Every key attribute in key order (a GSI keyed on attributes has up to 4 + 4)."""
    return tuple((k.name, k.type) for k in (*index.hash_keys, *index.range_keys))


def _rekeyed(a: ir.Index, b: ir.Index) -> bool:
    """Whether a GSI moved between composite keys and the items' own attributes, so its new key
    attributes can be written while the old index still serves (none is shared)."""
    names = {n for n, _ in _key_schema(a)} & {n for n, _ in _key_schema(b)}
    return a.on_attributes != b.on_attributes and not names


def _schema_text(index: ir.Index) -> str:
    return ", ".join(f"{n} {t}" for n, t in _key_schema(index))


def _projection(index: ir.Index) -> tuple[str, tuple[str, ...]]:
    return index.projection, tuple(sorted(index.non_key_attributes))


def _key_text(key: ir.EntityKey | None) -> str:
    if key is None:
        return "none"
    text = key.pk if key.sk is None else f"{key.pk} / {key.sk}"
    if key.sparse:
        text += f" (sparse on {', '.join(key.sparse_on)})"
    return text


def _key_shape(key: ir.EntityKey | None) -> Any:
    """What an entity key writes on an item (not why: `purpose` and `pinned` excluded)."""
    if key is None:
        return None
    return (key.pk, key.sk, key.sparse, key.sparse_on, key.null_fill)


def _attribute_shape(a: ir.Attribute) -> tuple[Any, ...]:
    """What decides how the attribute is stored on an item."""
    return (str(a.type), a.naive)


def _constraints(a: ir.Attribute) -> tuple[Any, ...]:
    return (a.required, a.enum, a.max_length, a.precision, a.scale, a.min, a.max)


def _plan_shape(plan: ir.PatternPlan) -> Any:
    return ir.to_jsonable(
        (
            plan.index,
            plan.operation,
            plan.pk,
            plan.sk,
            plan.scan_forward,
            plan.type_filter,
            plan.sharded,
            plan.copy,
            plan.key_attributes,
        )
    )


def _shards_text(n: int) -> str:
    return f"{n} shards" if n else "one partition (unsharded)"


def _copy_shape(c: ir.CopyItems) -> Any:
    return (c.entity, c.type_value, c.pk, c.sk, c.marker, c.slots, c.ref)


def _billing_text(b: ir.Billing) -> str:
    if b.mode == "on_demand":
        return "on_demand"
    return f"provisioned (read {b.read}, write {b.write})"


# --------------------------------------------------------------------------- classification


def _table_changes(old: Design, new: Design) -> list[Change]:
    out: list[Change] = []
    ot, nt = old.model.table, new.model.table
    if old.layout.table_name != new.layout.table_name:
        out.append(
            Change(
                "table-renamed",
                "table",
                f"table {old.layout.table_name} is now {new.layout.table_name}",
                old=old.layout.table_name,
                new=new.layout.table_name,
            )
        )
    otk, ntk = old.layout.indexes[0], new.layout.indexes[0]
    if _key_schema(otk) != _key_schema(ntk):
        out.append(
            Change(
                "table-key-changed",
                "table",
                f"table key schema {_schema_text(otk)} is now {_schema_text(ntk)}",
                old=_schema_text(otk),
                new=_schema_text(ntk),
            )
        )
    if old.layout.type_attribute != new.layout.type_attribute:
        out.append(
            Change(
                "table-key-changed",
                "table",
                f"type attribute {old.layout.type_attribute} is now {new.layout.type_attribute}",
                old=old.layout.type_attribute,
                new=new.layout.type_attribute,
            )
        )
    if ot.billing != nt.billing:
        out.append(
            Change(
                "billing-changed",
                "table",
                f"billing {_billing_text(ot.billing)} is now {_billing_text(nt.billing)}",
                old=ot.billing,
                new=nt.billing,
            )
        )
    settings = (
        ("ttl-changed", "TTL attribute", ot.ttl, nt.ttl),
        ("stream-changed", "stream", ot.stream, nt.stream),
        ("pitr-changed", "point-in-time recovery", ot.pitr, nt.pitr),
        (
            "deletion-protection-changed",
            "deletion protection",
            ot.deletion_protection,
            nt.deletion_protection,
        ),
    )
    for kind, what, was, now in settings:
        if was != now:
            out.append(
                Change(
                    kind,
                    "table",
                    f"{what} {_off(was)} is now {_off(now)}",
                    old=was,
                    new=now,
                )
            )
    if ot.table_class != nt.table_class:
        out.append(
            Change(
                "table-class-changed",
                "table",
                f"table class {ot.table_class} is now {nt.table_class}",
                old=ot.table_class,
                new=nt.table_class,
            )
        )
    if dict(ot.tags) != dict(nt.tags):
        out.append(
            Change(
                "tags-changed",
                "table",
                f"tags {dict(ot.tags)} are now {dict(nt.tags)}",
                old=dict(ot.tags),
                new=dict(nt.tags),
            )
        )
    return out


def _off(value: Any) -> str:
    if value is None:
        return "off"
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


def _users(layout: ir.Layout, index: str) -> tuple[str, ...]:
    return tuple(sorted(e.entity for e in layout.entities if e.key(index) is not None))


def _index_changes(old: Design, new: Design) -> tuple[list[Change], set[str]]:
    """GSI and LSI changes; also the names of indexes that are new or rebuilt (their entity
    keys are backfilled by the GSI change itself, not reported once more per entity)."""
    out: list[Change] = []
    fresh: set[str] = set()
    for kind in ("gsi", "lsi"):
        was = {i.name: i for i in old.layout.indexes if i.kind == kind}
        now = {i.name: i for i in new.layout.indexes if i.kind == kind}
        for name in sorted(set(now) - set(was), key=_index_order):
            fresh.add(name)
            out.append(
                Change(
                    f"{kind}-added",
                    name,
                    f"{kind.upper()} {name} ({_schema_text(now[name])}) is new",
                    entities=_users(new.layout, name),
                    index=name,
                    new=_schema_text(now[name]),
                )
            )
        for name in sorted(set(was) - set(now), key=_index_order):
            out.append(
                Change(
                    f"{kind}-removed",
                    name,
                    f"{kind.upper()} {name} ({_schema_text(was[name])}) is gone",
                    entities=_users(old.layout, name),
                    index=name,
                    old=_schema_text(was[name]),
                )
            )
        for name in sorted(set(was) & set(now), key=_index_order):
            a, b = was[name], now[name]
            if _key_schema(a) != _key_schema(b) or _projection(a) != _projection(b):
                fresh.add(name)
                what = (
                    f"keys {_schema_text(a)} are now {_schema_text(b)}"
                    if _key_schema(a) != _key_schema(b)
                    else f"projection {a.projection} is now {b.projection}"
                )
                rekeyed = kind == "gsi" and _rekeyed(a, b)
                out.append(
                    Change(
                        "gsi-rekeyed" if rekeyed else f"{kind}-changed",
                        name,
                        f"{kind.upper()} {name}: {what}",
                        entities=_users(new.layout, name),
                        index=name,
                        old=_schema_text(a),
                        new=_schema_text(b),
                    )
                )
    return out, fresh


def _index_order(name: str) -> tuple[int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)


def _entity_changes(old: Design, new: Design, fresh: set[str]) -> list[Change]:
    out: list[Change] = []
    old_names = {e.name for e in old.model.entities}
    new_names = {e.name for e in new.model.entities}
    for name in sorted(new_names - old_names):
        out.append(Change("entity-added", name, f"entity {name} is new", entities=(name,)))
    for name in sorted(old_names - new_names):
        out.append(Change("entity-removed", name, f"entity {name} is gone", entities=(name,)))
    table = new.layout.indexes[0].name
    for name in sorted(old_names & new_names):
        oe, ne = old.layout.entity(name), new.layout.entity(name)
        if oe is None or ne is None:  # pragma: no cover - every entity has a layout
            continue
        if oe.type_value != ne.type_value:
            out.append(
                Change(
                    "entity-type-changed",
                    name,
                    f"{name}: type value {oe.type_value!r} is now {ne.type_value!r}",
                    entities=(name,),
                    old=oe.type_value,
                    new=ne.type_value,
                )
            )
        old_key, new_key = oe.key(old.layout.indexes[0].name), ne.key(table)
        if _key_shape(old_key) != _key_shape(new_key):
            out.append(
                Change(
                    "entity-rekeyed",
                    name,
                    f"{name}: table key {_key_text(old_key)} is now {_key_text(new_key)}",
                    entities=(name,),
                    index="table",
                    old=_key_text(old_key),
                    new=_key_text(new_key),
                )
            )
        gsis = {i.name for i in old.layout.gsis} | {i.name for i in new.layout.gsis}
        for index in sorted(gsis, key=_index_order):
            a, b = oe.key(index), ne.key(index)
            if _key_shape(a) == _key_shape(b):
                was = old.layout.key_shards(name, index)
                now = new.layout.key_shards(name, index)
                if b is not None and was != now and index not in fresh:
                    out.append(
                        Change(
                            "entity-shards-changed",
                            f"{name}.{index}",
                            f"{name}: key on {index} ({_key_text(b)}) written across "
                            f"{_shards_text(was)} is now across {_shards_text(now)}",
                            entities=(name,),
                            index=index,
                            old=was,
                            new=now,
                        )
                    )
                continue
            if index in fresh and b is not None:
                continue  # written by the new / rebuilt GSI's backfill (its change lists it)
            if b is None and new.layout.index(index) is None:
                continue  # the GSI is gone: its removal lists it
            out.append(
                Change(
                    "entity-index-key-changed",
                    f"{name}.{index}",
                    f"{name}: key on {index} {_key_text(a)} is now {_key_text(b)}",
                    entities=(name,),
                    index=index,
                    old=_key_text(a),
                    new=_key_text(b),
                )
            )
        out.extend(_attribute_changes(old.model, new.model, name))
    return out


def _attribute_changes(old: ir.Model, new: ir.Model, name: str) -> list[Change]:
    out: list[Change] = []
    oe, ne = old.entity(name), new.entity(name)
    if oe is None or ne is None:  # pragma: no cover - called for entities on both sides
        return out
    was = {a.name: a for a in oe.attributes}
    now = {a.name: a for a in ne.attributes}
    for attr in [a for a in ne.attributes if a.name not in was]:
        need = "required" if attr.required else "optional"
        out.append(
            Change(
                "attribute-added",
                f"{name}.{attr.name}",
                f"{name}.{attr.name} ({attr.type}, {need}) is new",
                entities=(name,),
                new=str(attr.type),
            )
        )
    for attr in [a for a in oe.attributes if a.name not in now]:
        out.append(
            Change(
                "attribute-removed",
                f"{name}.{attr.name}",
                f"{name}.{attr.name} ({attr.type}) is gone",
                entities=(name,),
                old=str(attr.type),
            )
        )
    ttl_moved = old.table.ttl != new.table.ttl
    for attr in [a for a in ne.attributes if a.name in was]:
        before = was[attr.name]
        stored_before = (*_attribute_shape(before), before.name == old.table.ttl)
        stored_now = (*_attribute_shape(attr), attr.name == new.table.ttl)
        if stored_before != stored_now:
            why = []
            if str(before.type) != str(attr.type):
                why.append(f"type {before.type} is now {attr.type}")
            if before.naive != attr.naive:
                why.append(f"timezone {_off(not before.naive)} is now {_off(not attr.naive)}")
            if ttl_moved and stored_before[-1] != stored_now[-1]:
                why.append(
                    "it is now the TTL attribute (epoch seconds)"
                    if stored_now[-1]
                    else "it is no longer the TTL attribute (stored as text)"
                )
            out.append(
                Change(
                    "attribute-type-changed",
                    f"{name}.{attr.name}",
                    f"{name}.{attr.name}: " + "; ".join(why),
                    entities=(name,),
                    old=str(before.type),
                    new=str(attr.type),
                )
            )
        elif _constraints(before) != _constraints(attr):
            out.append(
                Change(
                    "attribute-constraint-changed",
                    f"{name}.{attr.name}",
                    f"{name}.{attr.name}: required/enum/bounds changed",
                    entities=(),
                )
            )
    return out


def _pattern_changes(old: Design, new: Design) -> list[Change]:
    out: list[Change] = []
    was = {p.pattern: p for p in old.layout.plans}
    now = {p.pattern: p for p in new.layout.plans}
    for name in sorted(set(now) - set(was)):
        p = now[name]
        out.append(
            Change(
                "pattern-added",
                name,
                f"pattern {name} is new ({p.operation} on {p.index})",
                entities=p.entities,
                index=p.index,
            )
        )
    for name in sorted(set(was) - set(now)):
        out.append(
            Change(
                "pattern-removed",
                name,
                f"pattern {name} is gone (it read {was[name].index})",
                entities=was[name].entities,
                index=was[name].index,
            )
        )
    for name in sorted(set(was) & set(now)):
        a, b = was[name], now[name]
        if _plan_shape(a) != _plan_shape(b):
            where = f" (now on {b.index})" if a.index != b.index else ""
            if a.sharded != b.sharded:
                where += f" (reads {_shards_text(b.sharded)}, not {_shards_text(a.sharded)})"
            if b.copy and not a.copy:
                where += f" (reads the copies {b.copy})"
            out.append(
                Change(
                    "pattern-changed",
                    name,
                    f"pattern {name} runs another key condition{where}",
                    entities=b.entities,
                    index=b.index,
                    old=a.index,
                    new=b.index,
                )
            )
    return out


def _copy_changes(old: Design, new: Design) -> list[Change]:
    """Relationships written as copies (`ir.CopyItems`, strategy lowest_cost) that appear,
    go or change their keys."""
    out: list[Change] = []
    was = {c.name: c for c in old.layout.copies}
    now = {c.name: c for c in new.layout.copies}
    for name in sorted(set(now) | set(was), key=_index_order):
        a, b = was.get(name), now.get(name)
        if a is not None and b is not None and _copy_shape(a) == _copy_shape(b):
            continue
        c = b or a
        assert c is not None
        keys = f"{c.pk} / {c.sk}"
        if a is None:
            kind, detail = "copies-added", f"{c.entity}'s {name} is written as copies ({keys})"
        elif b is None:
            kind, detail = "copies-removed", f"{c.entity}'s copies {name} ({keys}) are gone"
        else:
            kind = "copies-changed"
            detail = f"{c.entity}'s copies {name}: {a.pk} / {a.sk} are now {keys}"
        out.append(
            Change(
                kind,
                c.type_value,
                detail,
                entities=(c.entity,),
                index=name,
                old=None if a is None else f"{a.pk} / {a.sk}",
                new=None if b is None else keys,
            )
        )
    return out


def classify(old: Design, new: Design) -> Evolution:
    """Every difference between two compiled designs, in a stable order: the table, its
    indexes, the entities (keys, then attributes), the access patterns."""
    changes = _table_changes(old, new)
    index_changes, fresh = _index_changes(old, new)
    changes += index_changes
    changes += _copy_changes(old, new)
    changes += _entity_changes(old, new, fresh)
    changes += _pattern_changes(old, new)
    return Evolution(old, new, tuple(changes))


def stable_pins(old: Design, new: ir.Model) -> dict[str, dict[str, dict[str, str]]]:
    """Pins that keep OLD's GSI keys where NEW still needs them: {entity: {index alias:
    {pk, sk}}} for each key of OLD on a GSI that one of NEW's patterns still reads (or that
    OLD pinned), unless NEW pins that index of the entity itself. With them the compiler
    places only what is new (new patterns on free slots or new GSIs) instead of assigning
    every index afresh."""
    names = {p.name for p in new.patterns}
    out: dict[str, dict[str, dict[str, str]]] = {}
    for el in old.layout.entities:
        entity = new.entity(el.entity)
        if entity is None:
            continue
        own = {p.index for p in entity.pinned_keys}
        for key in el.keys:
            index = old.layout.index(key.index)
            if index is None or index.kind != "gsi":
                continue
            alias = index.alias or index.name.lower()
            if alias in own or not (key.pinned or names & set(key.purpose)):
                continue
            pin = {"pk": key.pk} if key.sk is None else {"pk": key.pk, "sk": key.sk}
            out.setdefault(el.entity, {})[alias] = pin
    return out


# --------------------------------------------------------------------------- the previous layout

_INDEX_NAME = re.compile(r"table|GSI[1-9][0-9]*|LSI[1-9][0-9]*")


class PreviousLayoutError(InputError, ValueError):
    """A previous layout (`model compile --previous`, the lock in the output directory) that
    cannot be read: the message is located (`file:line:col` for JSON syntax, else `file` and
    the JSON path of the bad value)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


_HINT = (
    "regenerate it (`model compile MODEL --fresh`) or point --previous at the layout.json the "
    "live table was built from"
)


def read_previous(text: str, source: str) -> ir.Layout:
    """A compiled layout.json (as `model compile` writes it) read back as the previous layout
    of a stable assignment; PreviousLayoutError, located, when it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PreviousLayoutError(
            f"{source}:{exc.lineno}:{exc.colno}: not a layout.json: {exc.msg}", _HINT
        ) from None
    if not isinstance(data, dict):
        raise PreviousLayoutError(f"{source}:1:1: not a layout.json: not a JSON object", _HINT)
    missing = [k for k in ("model", "table_name", "indexes", "entities", "plans") if k not in data]
    if missing:
        raise PreviousLayoutError(
            f"{source}: not a layout.json: no {', '.join(missing)}",
            _HINT,
        )
    version = data.get("schema_version", ir.LAYOUT_SCHEMA_VERSION)
    if version != ir.LAYOUT_SCHEMA_VERSION:
        raise PreviousLayoutError(
            f"{source}: schema_version: {version!r}; this version of modeling reads "
            f"{ir.LAYOUT_SCHEMA_VERSION}",
            _HINT,
        )
    where = _shape_problem(data)
    if where is not None:
        raise PreviousLayoutError(f"{source}: {where}", _HINT)
    try:
        layout = ir.from_jsonable(ir.Layout, data)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise PreviousLayoutError(f"{source}: not a layout.json: {exc}", _HINT) from None
    return layout


def _shape_problem(data: dict[str, Any]) -> str | None:
    """The JSON path and what is wrong with the first value a stable assignment relies on
    that has the wrong shape (index names and kinds, key templates, plans' indexes); None
    when all are right."""
    if not isinstance(data["model"], str) or not data["model"]:
        return "model: expected the model's name"
    names: set[str] = set()
    for n, index in enumerate(_items(data, "indexes")):
        if not isinstance(index, dict):
            return f"indexes[{n}]: expected an object"
        name, kind = index.get("name"), index.get("kind")
        if not isinstance(name, str) or not _INDEX_NAME.fullmatch(name):
            return f"indexes[{n}].name: {name!r} is not an index name (table, GSI<n>, LSI<n>)"
        want = "table" if name == "table" else name[:3].lower()
        if kind != want:
            return f"indexes[{n}].kind: {kind!r}; index {name} is a {want}"
        names.add(name)
    if "table" not in names:
        return "indexes: the table's key is missing"
    copies = data.get("copies", [])
    if not isinstance(copies, list):
        return "copies: expected a list"
    for n, copy in enumerate(copies):
        if not isinstance(copy, dict) or not isinstance(copy.get("name"), str):
            return f"copies[{n}]: expected an object with a name"
        if copy.get("key") is not None:
            problem = _key_problem(copy["key"], names | {copy["name"]})
            if problem is not None:
                return f"copies[{n}].key{problem}"
        names.add(copy["name"])
    for n, el in enumerate(_items(data, "entities")):
        if not isinstance(el, dict) or not isinstance(el.get("entity"), str):
            return f"entities[{n}]: expected an object with an entity name"
        if not isinstance(el.get("keys"), list):
            return f"entities[{n}].keys: expected a list"
        for m, key in enumerate(el["keys"]):
            problem = _key_problem(key, names)
            if problem is not None:
                return f"entities[{n}].keys[{m}]{problem}"
    for n, plan in enumerate(_items(data, "plans")):
        if not isinstance(plan, dict) or not isinstance(plan.get("pattern"), str):
            return f"plans[{n}]: expected an object with a pattern name"
        if plan.get("index") not in names:
            return f"plans[{n}].index: {plan.get('index')!r} is none of the layout's indexes"
    return None


def _items(data: dict[str, Any], name: str) -> list[Any]:
    value = data[name]
    return value if isinstance(value, list) else [None]


def _key_problem(key: Any, names: set[str]) -> str | None:
    if not isinstance(key, dict):
        return ": expected an object"
    if key.get("index") not in names:
        return f".index: {key.get('index')!r} is none of the layout's indexes"
    if not isinstance(key.get("pk"), str) or not key["pk"]:
        return ".pk: expected a key template"
    if key.get("sk") is not None and not isinstance(key["sk"], str):
        return ".sk: expected a key template or null"
    return None
