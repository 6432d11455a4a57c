"""Rows ↔ DynamoDB items (low-level AttributeValues) for a compiled Layout.

Why low-level AttributeValues rather than boto3's resource layer: the resource layer refuses
floats, turns every number into Decimal and sets into Python sets of its own choosing, which
would hide exactly the type mistakes verification must see. Here every DSL type has one
explicit form:

    string S · integer/decimal/float N · boolean BOOL · date S (YYYY-MM-DD)
    datetime S (ISO-8601 UTC, microseconds, `Z`: keys.encode's fixed-width text, order = time)
      except the table's TTL attribute (`table.ttl` naming a datetime): N, whole seconds since
      1970-01-01 UTC, sub-second part dropped, as DynamoDB's TTL reads only a Number of epoch
      seconds; in a key slot it is keys.encode's text like any datetime
    uuid S · binary B · map M · list<T> L · set<string> SS · set<integer|decimal> NS · set<binary> BS
    NULL → attribute omitted

Every index key is rendered from the entity's key template with `keys.encode`d slots; a key
whose slot holds NULL is omitted (a sparse index entry), which is an error only on the table key.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from modeling.core import limits
from modeling.core.errors import InputError
from modeling.core.ir import Entity, EntityKey, Index, Layout, Model, TypeRef
from modeling.runtime import keys, sharding
from modeling.sample.rows import Row

AV = dict[str, Any]
Item = dict[str, AV]

_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ItemError(InputError, ValueError):
    """A row that cannot become a valid item (key too long, NULL in a table key, ...)."""


# --------------------------------------------------------------------------- values


def number_text(value: int | Decimal | float) -> str:
    """A DynamoDB N string: plain digits, no exponent (DynamoDB keeps 38 significant digits)."""
    if isinstance(value, bool):
        raise TypeError("boolean is not a number")
    if isinstance(value, int):
        return str(value)
    d = Decimal(repr(value)) if isinstance(value, float) else value
    text = format(d, "f")
    return text


def datetime_text(value: datetime) -> str:
    """The key codec's text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, UTC): one form across the project."""
    return keys.encode("datetime", value)


def is_epoch_ttl(model: Model, name: str, t: TypeRef) -> bool:
    """Whether attribute `name` of type `t` is the TTL datetime, stored as N epoch seconds."""
    return name == model.table.ttl and t.kind == "datetime"


def epoch_seconds(value: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC (naive = UTC; the sub-second part dropped, floor)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return (aware - _EPOCH) // timedelta(seconds=1)


def attribute_av(model: Model, name: str, t: TypeRef, value: Any) -> AV:
    """Attribute `name`'s (non-key) value as stored: `to_av`, or N epoch seconds for the TTL
    datetime. Also the form of a filter value compared with that attribute."""
    if is_epoch_ttl(model, name, t):
        return {"N": str(epoch_seconds(value))}
    return to_av(t, value)


def attribute_value(model: Model, name: str, t: TypeRef, av: AV) -> Any:
    """The inverse of `attribute_av` (the TTL datetime back as an aware UTC datetime)."""
    if is_epoch_ttl(model, name, t) and "N" in av:
        return _EPOCH + timedelta(seconds=int(Decimal(av["N"])))
    return from_av(t, av)


def to_av(t: TypeRef, value: Any) -> AV:
    """One attribute value of type `t` (never None: NULL attributes are omitted)."""
    k = t.kind
    if k in ("string",):
        return {"S": value}
    if k in ("integer", "decimal", "float"):
        return {"N": number_text(value)}
    if k == "boolean":
        return {"BOOL": bool(value)}
    if k == "date":
        return {"S": value.isoformat()}
    if k == "datetime":
        return {"S": datetime_text(value)}
    if k == "uuid":
        return {"S": str(value)}
    if k == "binary":
        return {"B": bytes(value)}
    if k == "map":
        return json_to_av(value)
    if k == "list":
        assert t.item is not None
        return {"L": [to_av(t.item, v) for v in value]}
    if k == "set":
        assert t.item is not None
        if not value:
            raise ItemError("DynamoDB sets cannot be empty")
        i = t.item.kind
        if i == "string":
            return {"SS": sorted(value)}
        if i == "binary":
            return {"BS": sorted(value)}
        return {"NS": sorted((number_text(v) for v in value), key=Decimal)}
    raise ItemError(f"no DynamoDB form for type {t}")


def json_to_av(value: Any) -> AV:
    """A JSON-like value (a `map` attribute's content) as an AttributeValue."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": number_text(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list | tuple):
        return {"L": [json_to_av(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): json_to_av(v) for k, v in value.items()}}
    raise ItemError(f"map value {value!r} is not JSON-like")


def av_to_json(av: AV) -> Any:
    (tag, v), *_ = av.items()
    if tag == "NULL":
        return None
    if tag == "BOOL":
        return bool(v)
    if tag == "N":
        d = Decimal(v)
        return int(d) if d == d.to_integral_value() and "." not in v and "E" not in v.upper() else d
    if tag == "S":
        return v
    if tag == "L":
        return [av_to_json(x) for x in v]
    if tag == "M":
        return {k: av_to_json(x) for k, x in v.items()}
    raise ItemError(f"unexpected {tag} inside a map")


def from_av(t: TypeRef, av: AV) -> Any:
    """The inverse of `to_av`."""
    k = t.kind
    if "NULL" in av:
        return None
    if k == "string":
        return av["S"]
    if k == "integer":
        return int(av["N"])
    if k == "decimal":
        return Decimal(av["N"])
    if k == "float":
        return float(av["N"])
    if k == "boolean":
        return bool(av["BOOL"])
    if k == "date":
        return date.fromisoformat(av["S"])
    if k == "datetime":
        return datetime.fromisoformat(av["S"]).astimezone(UTC)
    if k == "uuid":
        return uuid.UUID(av["S"])
    if k == "binary":
        return bytes(av["B"])
    if k == "map":
        return av_to_json(av)
    if k == "list":
        assert t.item is not None
        return [from_av(t.item, x) for x in av["L"]]
    if k == "set":
        assert t.item is not None
        tag = next(iter(av))
        return frozenset(from_av(t.item, {tag[0]: x}) for x in av[tag])
    raise ItemError(f"no DynamoDB form for type {t}")


# --------------------------------------------------------------------------- keys


def slots(template: str) -> list[str]:
    """Attribute names in a key template, in order."""
    return _SLOT.findall(template)


def key_literals(layout: Layout) -> tuple[str, ...]:
    """The literal text of every key template of `layout` (`ORDER#`, `#`, `PROFILE`), sorted:
    text that sample strings should contain, so a key that is split naively is cut wrongly."""
    out: set[str] = set()
    for el in layout.entities:
        for k in el.keys:
            for template in (k.pk, k.sk or ""):
                for part in _SLOT.split(template)[::2]:
                    if part:
                        out.add(part)
    return tuple(sorted(out))


def render_key(
    template: str, entity: Entity, row: Row, null_fill: Mapping[str, str] | None = None
) -> str | None:
    """The key string for `row`, or None when a slot is NULL (the item is not on that index).

    A slot in `null_fill` (slot -> "high" | "low", `EntityKey.null_fill`) holding NULL is
    written as the codec's NULL sentinel instead: the item stays on the index.
    """
    encoded: dict[str, str] = {}
    fill = null_fill or {}
    for name in slots(template):
        value = row.get(name)
        a = entity.attribute(name)
        kind = a.type.kind if a is not None else "string"
        if value is None:
            if name not in fill:
                return None
            encoded[name] = keys.encode_null(kind, fill[name] == "high")
            continue
        encoded[name] = keys.encode(kind, value)
    return _parsed(template).render(encoded)


@functools.lru_cache(maxsize=1024)
def _parsed(template: str) -> keys.Template:
    """A template parsed once (every row of an entity renders the same few templates)."""
    return keys.parse_template(template)


def _key_value(
    index_attr_type: str,
    template: str,
    entity: Entity,
    row: Row,
    null_fill: Mapping[str, str] | None = None,
) -> AV | None:
    """A key attribute's value: S from a template, or the bare slot's N/B for typed keys."""
    if index_attr_type == "S":
        text = render_key(template, entity, row, null_fill)
        return None if text is None else {"S": text}
    names = slots(template)
    if len(names) != 1 or template != "{" + names[0] + "}":
        raise ItemError(f"{index_attr_type} key template {template!r} must be one bare slot")
    value = row.get(names[0])
    if value is None:
        return None
    if index_attr_type == "N":
        return {"N": number_text(value)}
    return {"B": bytes(value)}


def key_attributes(layout: Layout, entity: Entity, row: Row) -> Item:
    """Every index key attribute of the row's item (sparse ones omitted)."""
    el = layout.entity(entity.name)
    if el is None:
        raise ItemError(f"the layout has no keys for entity {entity.name}")
    out: Item = {}
    for ek in el.keys:
        index = layout.index(ek.index)
        if index is None:
            raise ItemError(f"{entity.name}: key on unknown index {ek.index}")
        values = _index_values(index, ek, entity, row, layout.key_shards(entity.name, ek.index))
        if values is None:
            if index.kind == "table":
                raise ItemError(f"{entity.name}: table key has a NULL slot in {row!r:.200}")
            continue
        for name, av in values.items():
            if name in out and out[name] != av:
                raise ItemError(
                    f"{entity.name}: key attribute {name} gets two values ({out[name]} and {av})"
                )
            out[name] = av
    return out


def shard_suffix(entity: Entity, row: Row, shards: int) -> str:
    """The suffix of a sharded partition key for `row` (`modeling.runtime.sharding`: a hash of
    the encoded identity)."""
    encoded = []
    for name in entity.key:
        a = entity.attribute(name)
        encoded.append(keys.encode(a.type.kind if a is not None else "string", row.get(name)))
    return sharding.shard_suffix(sharding.shard_of(encoded, shards))


def _index_values(
    index: Index, ek: EntityKey, entity: Entity, row: Row, shards: int = 0
) -> Item | None:
    if index.on_attributes:  # keyed on the item's own attributes: nothing of its own to write
        return None
    fill = dict(ek.null_fill)
    pk = _key_value(index.pk.type, ek.pk, entity, row, fill)
    if pk is None:
        return None
    if shards and "S" in pk:
        pk = {"S": pk["S"] + shard_suffix(entity, row, shards)}
    values: Item = {index.pk.name: pk}
    if index.sk is not None:
        if ek.sk is None:
            return None  # an entity without a sort key template is not on this index
        sk = _key_value(index.sk.type, ek.sk, entity, row, fill)
        if sk is None:
            return None
        values[index.sk.name] = sk
    return values


def to_item(model: Model, layout: Layout, entity: Entity, row: Row) -> Item:
    """The DynamoDB item of `row`: type attribute, every index key, every non-NULL attribute."""
    item: Item = {layout.type_attribute: {"S": _type_value(layout, entity)}}
    for a in entity.attributes:
        value = row.get(a.name)
        if value is not None:
            item[a.name] = attribute_av(model, a.name, a.type, value)
    for name, av in key_attributes(layout, entity, row).items():
        if name in item and item[name] != av:
            raise ItemError(f"{entity.name}: key attribute {name} collides with an attribute")
        item[name] = av
    check_limits(layout, item)
    return item


def copy_items(model: Model, layout: Layout, entity: Entity, row: Row) -> list[Item]:
    """The relationship copies of `row` (`ir.CopyItems`, `strategy: lowest_cost`): per copy,
    the copy's table key, its type value, the attributes it holds and the main item's table
    key under the `ref` names."""
    out: list[Item] = []
    copies = layout.copies_of(entity.name)
    if not copies:
        return out
    table = layout.indexes[0]
    main = key_attributes(layout, entity, row)
    for c in copies:
        item: Item = {layout.type_attribute: {"S": c.type_value}}
        fill = dict(c.key.null_fill) if c.key is not None else {}
        pk = _key_value("S", c.pk, entity, row, fill)
        sk = _key_value("S", c.sk, entity, row, fill)
        if pk is None or sk is None:
            if c.key is not None and c.key.sparse:
                continue  # sparse, as the GSI it replaces: no copy while a slot is NULL
            raise ItemError(f"{entity.name}: copy {c.name} has a NULL slot in {row!r:.200}")
        if c.shards:  # the shard the GSI key had (`modeling.runtime.sharding`)
            pk = {"S": pk["S"] + shard_suffix(entity, row, c.shards)}
        item[table.pk.name] = pk
        if table.sk is not None:
            item[table.sk.name] = sk
        for name in c.slots:
            a = entity.attribute(name)
            value = row.get(name)
            if a is not None and value is not None:
                item[name] = attribute_av(model, name, a.type, value)
        for key_name, ref_name in c.ref:
            item[ref_name] = main[key_name]
        check_limits(layout, item)
        out.append(item)
    return out


def _type_value(layout: Layout, entity: Entity) -> str:
    el = layout.entity(entity.name)
    return el.type_value if el is not None else entity.name


def entity_of(model: Model, layout: Layout, item: Mapping[str, AV]) -> Entity | None:
    """The entity an item belongs to, by its type attribute."""
    tav = item.get(layout.type_attribute)
    if tav is None:
        return None
    for el in layout.entities:
        if el.type_value == tav.get("S"):
            return model.entity(el.entity)
    return None


def from_item(model: Model, layout: Layout, item: Mapping[str, AV]) -> tuple[Entity, Row]:
    """The entity and row an item holds (absent attributes are NULL)."""
    entity = entity_of(model, layout, item)
    if entity is None:
        raise ItemError(f"item has no known {layout.type_attribute}: {dict(item)!r:.200}")
    row: Row = {}
    for a in entity.attributes:
        av = item.get(a.name)
        row[a.name] = None if av is None else attribute_value(model, a.name, a.type, av)
    return entity, row


# --------------------------------------------------------------------------- limits


def av_size(av: AV) -> int:
    """Bytes DynamoDB counts for a value (documented sizing rules, rounded up for numbers)."""
    (tag, v), *_ = av.items()
    if tag == "S":
        return len(v.encode())
    if tag == "N":
        return (len(v.strip("-").replace(".", "")) + 1) // 2 + 1
    if tag == "B":
        return len(v)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(x.encode()) for x in v)
    if tag == "NS":
        return sum(av_size({"N": x}) for x in v)
    if tag == "BS":
        return sum(len(x) for x in v)
    if tag == "L":
        return 3 + sum(1 + av_size(x) for x in v)
    if tag == "M":
        return 3 + sum(len(k.encode()) + 1 + av_size(x) for k, x in v.items())
    raise ItemError(f"unknown AttributeValue tag {tag}")


def item_size(item: Mapping[str, AV]) -> int:
    return sum(len(k.encode()) + av_size(v) for k, v in item.items())


def check_limits(layout: Layout, item: Mapping[str, AV]) -> None:
    """Item ≤ 400 KB, partition keys 1–2048 bytes, sort keys 1–1024 bytes, keys non-empty."""
    size = item_size(item)
    if size > limits.ITEM_BYTES:
        raise ItemError(
            f"item of {size} bytes exceeds DynamoDB's {limits.ITEM_BYTES // 1024} KB limit"
        )
    for index in layout.indexes:
        for ka, limit in (
            (index.pk, limits.PARTITION_KEY_BYTES),
            (index.sk, limits.SORT_KEY_BYTES),
        ):
            if ka is None or ka.name not in item:
                continue
            av = item[ka.name]
            raw = av.get("S", av.get("B"))
            if raw is None:
                continue
            n = len(raw.encode()) if isinstance(raw, str) else len(raw)
            if not 1 <= n <= limit:
                raise ItemError(f"key {ka.name} is {n} bytes; DynamoDB allows 1..{limit}")
