"""Layout → NoSQL Workbench model JSON: one facet per entity, key aliases showing the templates.

The document is built with the file format's dataclasses (`modeling.formats.workbench`, the
same ones the importer reads into) so that export → import → export is stable: facet aliases
are the key templates verbatim (`ORDER#{order_id}`), a `ModelSchema` block (a shape real
exports carry, see HotelReservations.json) repeats every key template per entity type
(`${slot}` syntax) including GSI keys, which facets cannot alias, and two sample items per
entity show real keys, encoded with `modeling.runtime.keys` exactly as the transformers write
them. The second sample item leaves out optional attributes, which is how an importer tells
they are optional.

Workbench has no LSI, TTL or stream fields: LSIs are listed in `ModelSchema.indexes` (marked
`local`), the rest is not part of a Workbench model. No timestamps: the output is reproducible.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from modeling import __version__
from modeling.core import ir
from modeling.emit import FileManifest, register
from modeling.formats.workbench import (
    WbAttribute,
    WbDocument,
    WbFacet,
    WbIndex,
    WbKeySchema,
    WbTable,
    document_to_json,
)
from modeling.runtime import keys, sharding

_WB_TYPES = {
    "string": "S",
    "date": "S",
    "datetime": "S",
    "uuid": "S",
    "integer": "N",
    "decimal": "N",
    "float": "N",
    "boolean": "BOOL",
    "binary": "B",
    "map": "M",
    "list": "L",
}
_SET_TYPES = {"string": "SS", "integer": "NS", "decimal": "NS", "binary": "BS"}
_SCHEMA_NAMES = {
    "S": "String",
    "N": "Number",
    "B": "Binary",
    "BOOL": "Boolean",
    "M": "Map",
    "L": "List",
    "SS": "StringSet",
    "NS": "NumberSet",
    "BS": "BinarySet",
}
SAMPLE_ITEMS = 2


def wb_type(t: ir.TypeRef) -> str:
    """The Workbench (DynamoDB) type an attribute of this model type is stored as."""
    if t.kind == "set":
        assert t.item is not None
        return _SET_TYPES[t.item.kind]
    return _WB_TYPES[t.kind]


def sample_value(t: ir.TypeRef, name: str, n: int) -> Any:
    """The n-th (1-based) sample value of an attribute: deterministic, distinct per item.

    Strings never equal the attribute's name (an importer reads alias parts equal to the data
    as literal text), and decimal and float share samples (Workbench cannot tell them apart).
    """
    kind = t.kind
    if kind == "string":
        return f"{name}-{n}"
    if kind == "integer":
        return n
    if kind in ("decimal", "float"):
        return Decimal(f"{n}.5")
    if kind == "boolean":
        return n % 2 == 1
    if kind == "date":
        return dt.date(2024, 1, n)
    if kind == "datetime":
        return dt.datetime(2024, 1, n, tzinfo=dt.UTC)
    if kind == "uuid":
        return uuid.UUID(int=n)
    if kind == "binary":
        return bytes([n])
    if kind == "map":
        return {"note": f"{name}-{n}"}
    if kind == "list":
        assert t.item is not None
        return [sample_value(t.item, name, n)]
    if kind == "set":
        assert t.item is not None
        return [sample_value(t.item, name, n), sample_value(t.item, name, n + 10)]
    raise ValueError(f"no sample value for type {t}")  # an unknown type must not pass silently


def attribute_value(t: ir.TypeRef, value: Any) -> dict[str, Any]:
    """A Python sample value as DynamoDB JSON, stored the way the transformers store it."""
    kind = t.kind
    if kind == "set":
        assert t.item is not None
        texts = sorted(attribute_value(t.item, v)[wb_type(t.item)] for v in value)
        return {_SET_TYPES[t.item.kind]: texts}
    if kind == "list":
        assert t.item is not None
        return {"L": [attribute_value(t.item, v) for v in value]}
    if kind == "map":
        return {"M": {k: {"S": str(v)} for k, v in sorted(value.items())}}
    if kind == "boolean":
        return {"BOOL": bool(value)}
    if kind == "binary":
        return {"B": base64.b64encode(value).decode("ascii")}
    if kind in ("integer", "decimal", "float"):
        return {"N": str(value)}
    if kind in ("date", "datetime", "uuid"):
        return {"S": keys.encode(kind, value)}
    return {"S": str(value)}


def _key_value(
    template: str, entity: ir.Entity, values: dict[str, Any], fill: dict[str, str]
) -> str | None:
    """The key text for one sample item, or None when a slot's attribute is absent (sparse);
    an absent slot in `fill` (EntityKey.null_fill) is written as the NULL sentinel."""
    parsed = keys.parse_template(template)
    rendered: dict[str, str] = {}
    for slot in parsed.slots:
        attr = entity.attribute(slot)
        if attr is not None and slot not in values and slot in fill:
            rendered[slot] = keys.encode_null(attr.type.kind, fill[slot] == "high")
            continue
        if attr is None or slot not in values:
            return None
        rendered[slot] = keys.encode(attr.type.kind, values[slot])
    return parsed.render(rendered)


def _samples(
    layout: ir.Layout, entity: ir.Entity, el: ir.EntityLayout
) -> tuple[list[dict[str, Any]], list[str]]:
    """Sample items of one entity and the non-key attribute names they use."""
    slots = {s for k in el.keys for t in (k.pk, k.sk) if t for s in keys.parse_template(t).slots}
    items: list[dict[str, Any]] = []
    names: set[str] = {layout.type_attribute}
    for n in range(1, SAMPLE_ITEMS + 1):
        values = {
            a.name: sample_value(a.type, a.name, n)
            for a in entity.attributes
            if a.required or n == 1 or (a.name in slots and a.name in entity.key)
        }
        item: dict[str, Any] = {}
        for k in el.keys:
            index = layout.index(k.index)
            assert index is not None
            if index.on_attributes:  # its key attributes are the item's own attributes
                names.update(a.name for a in index.hash_keys + index.range_keys)
                continue
            fill: dict[str, str] = dict(k.null_fill)
            pk = _key_value(k.pk, entity, values, fill)
            sk = _key_value(k.sk, entity, values, fill) if k.sk and index.sk else None
            if pk is None or (k.sk is not None and index.sk is not None and sk is None):
                continue  # sparse: this item is not in the index
            # (a key pinned without a sort key on an index that has one: written as the layout
            # says, partition key only; the importer reads it back the same way)
            shards = layout.key_shards(entity.name, k.index)
            if shards and index.pk.type == "S":  # a sharded partition: the item's shard slot
                identity = [
                    keys.encode(a.type.kind, values[a.name])
                    for a in (entity.attribute(name) for name in entity.key)
                    if a is not None
                ]
                pk += sharding.shard_suffix(sharding.shard_of(identity, shards))
            item[index.pk.name] = {index.pk.type: pk}
            if index.sk is not None and sk is not None:
                item[index.sk.name] = {index.sk.type: sk}
            if index.kind != "table":
                names.update(a.name for a in (index.pk, index.sk) if a)
        item[layout.type_attribute] = {"S": el.type_value}
        for a in entity.attributes:
            if a.name in values:
                item[a.name] = attribute_value(a.type, values[a.name])
                names.add(a.name)
        items.append(item)
    return items, sorted(names)


def _schema_template(template: str) -> str:
    """`ORDER#{order_id}` in the `${slot}` syntax of ModelSchema value templates."""
    return template.replace("{", "${")


def build_document(layout: ir.Layout, model: ir.Model) -> WbDocument:
    """The Workbench model of a compiled layout, as the importer's dataclasses."""
    table_index = layout.indexes[0]
    key_schema = WbKeySchema(
        WbAttribute(table_index.pk.name, table_index.pk.type),
        WbAttribute(table_index.sk.name, table_index.sk.type) if table_index.sk else None,
    )
    gsis = tuple(
        WbIndex(
            i.name,
            WbKeySchema(
                WbAttribute(i.pk.name, i.pk.type),
                WbAttribute(i.sk.name, i.sk.type) if i.sk else None,
            ),
            i.projection,
            tuple(sorted(i.non_key_attributes)),
        )
        for i in layout.gsis
        if not i.on_attributes  # one partition and one sort key attribute only: left out
    )
    declared: dict[str, str] = {layout.type_attribute: "S"}
    for i in layout.indexes[1:]:
        if i.on_attributes:
            continue
        for a in (i.pk, i.sk):
            if a is not None:
                declared.setdefault(a.name, a.type)
    facets: list[WbFacet] = []
    models: dict[str, Any] = {}
    for entity in model.entities:
        el = layout.entity(entity.name)
        if el is None:
            continue
        for attribute in entity.attributes:
            declared.setdefault(attribute.name, wb_type(attribute.type))
        items, names = _samples(layout, entity, el)
        table_key = el.key(table_index.name)
        assert table_key is not None
        facets.append(
            WbFacet(
                name=entity.name,
                pk_alias=table_key.pk,
                sk_alias=table_key.sk if table_index.sk else None,
                attributes=tuple(names),
                items=tuple(items),
            )
        )
        schema: dict[str, Any] = {layout.type_attribute: {"type": "String"}}
        for attribute in sorted(entity.attributes, key=lambda x: x.name):
            schema[attribute.name] = {"type": _SCHEMA_NAMES[wb_type(attribute.type)]}
        for k in el.keys:
            index = layout.index(k.index)
            assert index is not None
            if index.on_attributes:
                continue
            for attr, template in ((index.pk, k.pk), (index.sk, k.sk)):
                if attr is not None and template is not None:
                    schema[attr.name] = {
                        "type": _SCHEMA_NAMES[attr.type],
                        "value": _schema_template(template),
                    }
        models[el.type_value] = schema
    indexes: dict[str, Any] = {}
    for i in layout.indexes:
        if i.on_attributes:
            continue
        entry: dict[str, Any] = {"hash": i.pk.name} | ({"sort": i.sk.name} if i.sk else {})
        if i.kind != "table":
            entry["projection"] = i.projection
        if i.kind == "lsi":
            entry["local"] = True
        indexes["primary" if i.kind == "table" else i.name] = entry
    billing = model.table.billing
    table = WbTable(
        name=layout.table_name,
        keys=key_schema,
        attributes=tuple(WbAttribute(n, t) for n, t in sorted(declared.items())),
        indexes=gsis,
        facets=tuple(facets),
        billing_mode="PROVISIONED" if billing.mode == "provisioned" else "PAY_PER_REQUEST",
        read_capacity=billing.read if billing.mode == "provisioned" else None,
        write_capacity=billing.write if billing.mode == "provisioned" else None,
        model_schema={"indexes": indexes, "models": models, "queries": {}},
    )
    return WbDocument(
        model_name=model.name,
        tables=(table,),
        version="3.0",
        author=f"modeling {__version__}",
        description=model.description or "",
    )


def export_workbench(layout: ir.Layout, model: ir.Model) -> dict[str, Any]:
    """The NoSQL Workbench model (JSON data) of a compiled layout."""
    return document_to_json(build_document(layout, model))


@register("workbench")
def emit_workbench(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """`workbench.json`: open it in NoSQL Workbench (Data modeler → Import data model)."""
    data = export_workbench(layout, model)
    return {"workbench.json": json.dumps(data, indent=2, ensure_ascii=False) + "\n"}
