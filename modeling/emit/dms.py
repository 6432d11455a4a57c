"""`dms-table-mappings.json`: AWS DMS table mappings for a full load into the single table.

For teams that prefer AWS Database Migration Service to our backfill runner. The format is
DMS's documented one for a DynamoDB target: a `selection` rule per source table, and per entity
an `object-mapping` rule (`map-record-to-record`) naming the target table, its partition and
sort key attributes, and `attribute-mappings` whose `value` templates (`"PRODUCT#${product_id}"`)
build every key attribute of every index the entity appears in, plus the entity-type attribute.
Columns mapped under another attribute name are excluded, so they are not written twice.

What DMS cannot do, and `dms-notes.md` lists per slot: a DMS template pastes the column's raw
text, while our keys encode each slot so that byte order equals natural order (integers
zero-padded with an offset, decimals and floats in a fixed-width sortable form, datetimes as
UTC with 6 fraction digits, binary as hex, and `#`/`$`/spaces escaped inside strings). Where a
slot's encoding differs from the raw text, keys written by DMS do not match what the generated
client queries for: load those entities with the backfill runner (`model migrate`) instead.
Sparse index keys (an optional slot) cannot be left out for NULL rows either, and a datetime
TTL attribute arrives as text (a String), while DynamoDB's TTL needs a Number of epoch seconds
(what the backfill runner writes): those items would never expire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from modeling.core import ir
from modeling.emit import FileManifest, header, register
from modeling.runtime import keys

DEFAULT_SCHEMA = "public"
MAPPINGS_FILE = "dms-table-mappings.json"
NOTES_FILE = "dms-notes.md"

# How a slot kind's encoding relates to PostgreSQL's text output of the column.
#   None    identical (lower-case canonical uuid; ISO date)
#   text    why they differ
RAW_TEXT_DIFFERS: dict[str, str | None] = {
    "uuid": None,
    "date": None,
    "string": 'a character U+0000..U+0024 (space, !, ", #, $ or a control), escaped as $XX',
    "integer": "integers are offset by 10^19 and zero-padded to 20 digits",
    "decimal": "decimals use a fixed-width sortable form (sign, biased exponent, mantissa)",
    "float": "floats use the fixed-width sortable decimal form",
    "boolean": "booleans are written true/false (PostgreSQL's text is t/f)",
    "datetime": "datetimes are UTC with exactly 6 fraction digits and a Z",
    "binary": "binary is lower-case hex without PostgreSQL's \\x prefix",
}
# DMS scalar sub-types (DynamoDB String, Number, Boolean).
SUB_TYPES = {"integer": "number", "decimal": "number", "float": "number", "boolean": "boolean"}


@dataclass(frozen=True)
class DmsWarning:
    """One reason the DMS full load would not write what the backfill runner writes."""

    entity: str
    index: str
    attribute: str  # the target key attribute (PK, GSI1SK, ...), or the source attribute
    slot: str | None  # the template slot, when the reason is a slot
    kind: str  # encoding | sparse | null-sentinel | computed | not-scalar | duplicate-table | ttl | copies
    message: str


def _schema(entity: ir.Entity) -> str:
    return entity.schema or DEFAULT_SCHEMA


def _value_template(
    template: str, entity: ir.Entity, where: tuple[str, str]
) -> tuple[str, list[DmsWarning]]:
    """DMS `${column}` text for a key template, and the slots DMS cannot encode like we do."""
    out: list[str] = []
    warnings: list[DmsWarning] = []
    index, target = where
    for part in keys.parse_template(template).parts:
        if isinstance(part, keys.Text):
            out.append(part.text)
            continue
        attr = entity.attribute(part.attribute)
        if attr is None:
            out.append(f"${{{part.attribute}}}")
            warnings.append(
                DmsWarning(
                    entity.name,
                    index,
                    target,
                    part.attribute,
                    "computed",
                    f"slot {{{part.attribute}}} is not a column of {entity.table}; "
                    "DMS cannot compute it",
                )
            )
            continue
        out.append(f"${{{attr.column_name}}}")
        reason = RAW_TEXT_DIFFERS.get(attr.type.kind, "the type has no key encoding")
        if (
            attr.type.kind == "string"
            and attr.enum is not None
            and all(keys.encode("string", v) == v for v in attr.enum)
        ):
            reason = None  # every allowed value encodes as itself
        elif attr.type.kind == "string":
            reason = f"only values containing {reason}"
        if reason is not None:
            warnings.append(
                DmsWarning(
                    entity.name,
                    index,
                    target,
                    part.attribute,
                    "encoding",
                    f"{target} slot {{{part.attribute}}} ({attr.type}): {reason}",
                )
            )
    return "".join(out), warnings


def _mapping(target: str, value: str, sub_type: str = "string") -> dict[str, str]:
    return {
        "target-attribute-name": target,
        "attribute-type": "scalar",
        "attribute-sub-type": sub_type,
        "value": value,
    }


def _key_sub_type(attr: ir.KeyAttribute) -> str:
    return "number" if attr.type == "N" else "string"


def table_mappings(layout: ir.Layout, model: ir.Model) -> tuple[dict[str, Any], list[DmsWarning]]:
    """The DMS table-mapping document and every warning about it."""
    warnings: list[DmsWarning] = []
    selections: list[tuple[str, str]] = []
    mappings: list[dict[str, Any]] = []
    table_key = next(i for i in layout.indexes if i.kind == "table")
    owners: dict[tuple[str, str], str] = {}
    for el in sorted(layout.entities, key=lambda e: e.entity):
        entity = model.entity(el.entity)
        if entity is None:
            raise ValueError(f"layout entity {el.entity} is not in model {model.name}")
        locator = (_schema(entity), entity.table)
        if locator in owners:
            warnings.append(
                DmsWarning(
                    entity.name,
                    "table",
                    "",
                    None,
                    "duplicate-table",
                    f"{entity.name} and {owners[locator]} both come from {'.'.join(locator)}; "
                    "DMS applies one object mapping per table",
                )
            )
        else:
            owners[locator] = entity.name
            selections.append(locator)

        attribute_mappings: list[dict[str, str]] = []
        for ek in el.keys:
            index = layout.index(ek.index)
            if index is None:
                raise ValueError(f"{el.entity} has a key on unknown index {ek.index}")
            if index.on_attributes:  # keyed on the item's own attributes: no key to render
                warnings.append(
                    DmsWarning(
                        entity.name,
                        index.name,
                        index.pk.name,
                        None,
                        "attribute-key",
                        f"{index.name} is keyed on the items' own attributes "
                        f"({', '.join(k.name for k in index.hash_keys + index.range_keys)}): "
                        "DMS must write them with the index's types (numbers as N), or the "
                        "write fails",
                    )
                )
                continue
            pairs = [(index.pk, ek.pk), (index.sk, ek.sk)]
            for key_attr, template in pairs:
                if key_attr is None or template is None:
                    continue
                value, found = _value_template(template, entity, (index.name, key_attr.name))
                mapped = {m["target-attribute-name"]: m["value"] for m in attribute_mappings}
                if key_attr.name in mapped:
                    # an LSI shares the table's partition key: one attribute, one value
                    if mapped[key_attr.name] != value:
                        raise ValueError(
                            f"{el.entity}: {key_attr.name} is {mapped[key_attr.name]!r} and "
                            f"{value!r} on {index.name}"
                        )
                    continue
                warnings.extend(found)
                attribute_mappings.append(_mapping(key_attr.name, value, _key_sub_type(key_attr)))
            if ek.sparse:
                warnings.append(
                    DmsWarning(
                        entity.name,
                        index.name,
                        index.pk.name,
                        None,
                        "sparse",
                        f"the {index.name} key is sparse on {', '.join(ek.sparse_on)}: DMS "
                        "renders the template even when those columns are NULL",
                    )
                )
            if ek.null_fill:
                filled = ", ".join(slot for slot, _ in ek.null_fill)
                warnings.append(
                    DmsWarning(
                        entity.name,
                        index.name,
                        index.sk.name if index.sk is not None else index.pk.name,
                        None,
                        "null-sentinel",
                        f"the {index.name} key writes a NULL {filled} as the key codec's NULL "
                        "sentinel (so ordering patterns return those rows); DMS renders the "
                        "template with an empty value instead",
                    )
                )
        attribute_mappings.append(_mapping(layout.type_attribute, el.type_value))

        key_names = {m["target-attribute-name"] for m in attribute_mappings}
        excluded: list[str] = []
        for attr in entity.attributes:
            if attr.name in key_names or attr.column_name in key_names:
                # a column named like a key attribute would overwrite the key
                excluded.append(attr.column_name)
            if attr.column_name != attr.name:
                if attr.column_name not in excluded:
                    excluded.append(attr.column_name)
                if attr.name not in key_names:
                    sub = SUB_TYPES.get(attr.type.kind, "string")
                    attribute_mappings.append(_mapping(attr.name, f"${{{attr.column_name}}}", sub))
            if attr.name == model.table.ttl and attr.type.kind == "datetime":
                warnings.append(
                    DmsWarning(
                        entity.name,
                        "",
                        attr.name,
                        None,
                        "ttl",
                        f"{attr.name} is the table's TTL attribute: DMS writes the timestamp as "
                        "text (a String), but TTL needs a Number of epoch seconds, so these "
                        "items would never expire",
                    )
                )
            if attr.type.item is not None or attr.type.kind in ("map", "binary"):
                warnings.append(
                    DmsWarning(
                        entity.name,
                        "",
                        attr.name,
                        None,
                        "not-scalar",
                        f"{attr.name} ({attr.type}) is written by DMS as the column's text, "
                        "not as a DynamoDB map, list, set or binary",
                    )
                )

        params: dict[str, Any] = {"partition-key-name": table_key.pk.name}
        if table_key.sk is not None:
            params["sort-key-name"] = table_key.sk.name
        if excluded:
            params["exclude-columns"] = sorted(set(excluded))
        params["attribute-mappings"] = attribute_mappings
        mappings.append(
            {
                "rule-type": "object-mapping",
                "rule-name": f"map-{entity.name}",
                "rule-action": "map-record-to-record",
                "object-locator": {"schema-name": locator[0], "table-name": locator[1]},
                "target-table-name": layout.table_name,
                "mapping-parameters": params,
            }
        )

    for copy in layout.copies:
        warnings.append(
            DmsWarning(
                copy.entity,
                copy.name,
                layout.type_attribute,
                None,
                "copies",
                f"{copy.entity}'s relationship copies ({copy.name}, strategy lowest_cost) are "
                "extra items per row, which a DMS object mapping cannot write: load with "
                "`model migrate run` or `model migrate export` instead",
            )
        )
    rules: list[dict[str, Any]] = []
    for schema, table in sorted(selections):
        rules.append(
            {
                "rule-type": "selection",
                "rule-name": f"select-{schema}.{table}",
                "object-locator": {"schema-name": schema, "table-name": table},
                "rule-action": "include",
            }
        )
    rules.extend(mappings)
    for n, rule in enumerate(rules, start=1):
        rule["rule-id"] = str(n)
    ordered = [{"rule-type": r["rule-type"], "rule-id": r["rule-id"], **r} for r in rules]
    return {"rules": ordered}, warnings


def dms_warnings(layout: ir.Layout, model: ir.Model) -> list[DmsWarning]:
    """Why a DMS full load of this layout would differ from the backfill runner's."""
    return table_mappings(layout, model)[1]


def _notes(model: ir.Model, warnings: list[DmsWarning]) -> str:
    lines = [
        f"<!-- {header(model)} -->",
        "",
        f"# AWS DMS table mappings for `{model.name}`",
        "",
        f"`{MAPPINGS_FILE}` maps each source table to the single table with DMS object",
        "mapping (`map-record-to-record`). Columns not named in the model are copied as",
        "attributes too (DMS maps every column that is not excluded).",
        "",
    ]
    encoding = [w for w in warnings if w.kind == "encoding"]
    others = [w for w in warnings if w.kind != "encoding"]
    if not warnings:
        lines.append("DMS writes the same keys as the backfill runner for every entity.")
        return "\n".join(lines) + "\n"
    lines += [
        "## Warning: DMS cannot apply the order-preserving slot encoding",
        "",
        "A DMS `value` template pastes each column's raw text. Our keys encode every slot so",
        "that DynamoDB's byte order equals the value's natural order; where the two differ,",
        "items loaded by DMS get keys the generated client never queries for.",
        "**Recommendation: load the entities below with the backfill runner (`model migrate`),",
        "or use DMS only for entities not listed here.**",
        "",
    ]
    if encoding:
        lines += [
            "| entity | index | key attribute | slot | why it differs |",
            "|---|---|---|---|---|",
        ]
        for w in encoding:
            why = w.message.split(": ", 1)[-1].replace("|", "\\|")
            lines.append(f"| {w.entity} | {w.index} | {w.attribute} | {w.slot} | {why} |")
        lines.append("")
    if others:
        lines += ["## Other differences", ""]
        lines += [f"- {w.entity}: {w.message}" for w in others]
    return "\n".join(lines) + "\n"


@register("dms")
def emit_dms(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """dms-table-mappings.json (pure DMS JSON, no header key) and dms-notes.md (warnings)."""
    document, warnings = table_mappings(layout, model)
    return {
        MAPPINGS_FILE: json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        NOTES_FILE: _notes(model, warnings),
    }
