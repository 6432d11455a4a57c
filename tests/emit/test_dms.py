"""dms-table-mappings.json and dms-notes.md.

The JSON is validated against the structure AWS documents for a DynamoDB target (selection
and object-mapping rules, `map-record-to-record`, mapping-parameters with attribute-mappings).
The warnings are checked by simulating what DMS writes: every `${column}` replaced by
PostgreSQL's text for a sample value, compared with the key our codec renders. Exactly the
slots where the two differ must be warned about.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit import dms
from modeling.runtime import keys

from . import layouts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "models").glob("*.yaml"))

_LOCATOR = {
    "type": "object",
    "required": ["schema-name", "table-name"],
    "properties": {
        "schema-name": {"type": "string", "minLength": 1},
        "table-name": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}
_RULE_ID = {"type": "string", "pattern": "^[0-9]+$"}
# The documented shape (AWS DMS user guide: table mapping selection rules, and "Using object
# mapping to migrate data to DynamoDB").
TABLE_MAPPINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rules"],
    "additionalProperties": False,
    "properties": {
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": [
                            "rule-type",
                            "rule-id",
                            "rule-name",
                            "object-locator",
                            "rule-action",
                        ],
                        "additionalProperties": False,
                        "properties": {
                            "rule-type": {"const": "selection"},
                            "rule-id": _RULE_ID,
                            "rule-name": {"type": "string", "minLength": 1},
                            "object-locator": _LOCATOR,
                            "rule-action": {"enum": ["include", "exclude", "explicit"]},
                        },
                    },
                    {
                        "type": "object",
                        "required": [
                            "rule-type",
                            "rule-id",
                            "rule-name",
                            "rule-action",
                            "object-locator",
                            "target-table-name",
                            "mapping-parameters",
                        ],
                        "additionalProperties": False,
                        "properties": {
                            "rule-type": {"const": "object-mapping"},
                            "rule-id": _RULE_ID,
                            "rule-name": {"type": "string", "minLength": 1},
                            "rule-action": {"const": "map-record-to-record"},
                            "object-locator": _LOCATOR,
                            "target-table-name": {"type": "string", "minLength": 3},
                            "mapping-parameters": {
                                "type": "object",
                                "required": ["partition-key-name", "attribute-mappings"],
                                "additionalProperties": False,
                                "properties": {
                                    "partition-key-name": {"type": "string", "minLength": 1},
                                    "sort-key-name": {"type": "string", "minLength": 1},
                                    "exclude-columns": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "uniqueItems": True,
                                    },
                                    "attribute-mappings": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "type": "object",
                                            "required": [
                                                "target-attribute-name",
                                                "attribute-type",
                                                "attribute-sub-type",
                                                "value",
                                            ],
                                            "additionalProperties": False,
                                            "properties": {
                                                "target-attribute-name": {
                                                    "type": "string",
                                                    "minLength": 1,
                                                },
                                                "attribute-type": {"const": "scalar"},
                                                "attribute-sub-type": {
                                                    "enum": ["string", "number", "boolean"]
                                                },
                                                "value": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                ]
            },
        }
    },
}


def _cases() -> list[Any]:
    cases: list[Any] = [pytest.param("small", id="small")]
    cases += [pytest.param(p, id=p.stem) for p in EXAMPLES]
    return cases


def _case(case: str | Path) -> tuple[ir.Layout, ir.Model]:
    if isinstance(case, Path):
        model = load_model(case)
        layout, diags = compile_model(model)
        assert layout is not None, [d.format() for d in diags.errors]
        return layout, model
    return layouts.small_layout(), layouts.small_model()


@pytest.mark.parametrize("case", _cases())
def test_mappings_follow_the_documented_structure(case: str | Path) -> None:
    layout, model = _case(case)
    document = json.loads(dms.emit_dms(layout, model)["dms-table-mappings.json"])
    jsonschema.validate(document, TABLE_MAPPINGS_SCHEMA)
    rules = document["rules"]
    assert len({r["rule-id"] for r in rules}) == len(rules)
    assert len({r["rule-name"] for r in rules}) == len(rules)
    selected = {
        (r["object-locator"]["schema-name"], r["object-locator"]["table-name"])
        for r in rules
        if r["rule-type"] == "selection"
    }
    mapped = [r for r in rules if r["rule-type"] == "object-mapping"]
    assert len(mapped) == len(layout.entities)
    table_key = layout.indexes[0]
    for rule in mapped:
        loc = rule["object-locator"]
        assert (loc["schema-name"], loc["table-name"]) in selected
        assert rule["target-table-name"] == layout.table_name
        params = rule["mapping-parameters"]
        assert params["partition-key-name"] == table_key.pk.name
        assert params.get("sort-key-name") == (table_key.sk.name if table_key.sk else None)
        targets = [m["target-attribute-name"] for m in params["attribute-mappings"]]
        assert len(targets) == len(set(targets))
        assert params["partition-key-name"] in targets


@pytest.mark.parametrize("case", _cases())
def test_every_key_attribute_of_every_index_is_mapped(case: str | Path) -> None:
    layout, model = _case(case)
    document = json.loads(dms.emit_dms(layout, model)["dms-table-mappings.json"])
    by_rule = {
        r["rule-name"]: {
            m["target-attribute-name"]: m["value"]
            for m in r["mapping-parameters"]["attribute-mappings"]
        }
        for r in document["rules"]
        if r["rule-type"] == "object-mapping"
    }
    for el in layout.entities:
        entity = model.entity(el.entity)
        assert entity is not None
        values = by_rule[f"map-{el.entity}"]
        assert values[layout.type_attribute] == el.type_value
        for ek in el.keys:
            index = layout.index(ek.index)
            assert index is not None
            for key_attr, template in ((index.pk, ek.pk), (index.sk, ek.sk)):
                if key_attr is None or template is None:
                    continue
                # the DMS template is ours with each {slot} replaced by ${its column}
                expected = template
                for slot in keys.parse_template(template).slots:
                    a = entity.attribute(slot)
                    expected = expected.replace(
                        f"{{{slot}}}", f"${{{a.column_name if a else slot}}}"
                    )
                assert values[key_attr.name] == expected


def test_renamed_columns_are_excluded_and_mapped_by_attribute_name() -> None:
    document, _ = dms.table_mappings(layouts.small_layout(), layouts.small_model())
    customer = next(r for r in document["rules"] if r.get("rule-name") == "map-Customer")
    params = customer["mapping-parameters"]
    assert params["exclude-columns"] == ["full_name"]
    name = next(m for m in params["attribute-mappings"] if m["target-attribute-name"] == "name")
    assert name["value"] == "${full_name}"
    order = next(r for r in document["rules"] if r.get("rule-name") == "map-Order")
    assert "exclude-columns" not in order["mapping-parameters"]


# --------------------------------------------------------------------------- simulated DMS


def _pg_text(kind: str, value: Any) -> str:
    """PostgreSQL's text output of a column value (what a DMS `${column}` pastes)."""
    if kind == "boolean":
        return "t" if value else "f"
    if kind == "datetime":
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    if kind == "binary":
        return "\\x" + value.hex()
    if kind == "date":
        return value.isoformat()
    return str(value)


SAMPLES: dict[str, list[Any]] = {
    "uuid": [uuid.UUID("3f2b8c1e-0a4d-4e6b-9c7a-1d2e3f4a5b6c"), uuid.UUID(int=0)],
    "date": [dt.date(2024, 1, 15), dt.date(1999, 12, 31)],
    "integer": [7, -3, 0],
    "decimal": [Decimal("12.50"), Decimal("-1")],
    "float": [1.5],
    "boolean": [True, False],
    "datetime": [dt.datetime(2024, 1, 15, 9, 30, tzinfo=dt.UTC)],
    "binary": [b"\x01\xff"],
}
SAFE_STRINGS = ["plain", "Ünïcode-é_1", "a.b/c"]
UNSAFE_STRINGS = ["has space", "a#b", "cost$"]


def _simulate(template: str, slot: str, kind: str, value: Any) -> tuple[str, str]:
    """(what DMS writes, what our codec writes) for `slot` = value, other slots alike."""
    parsed = keys.parse_template(template)
    others = {s: f"<{s}>" for s in parsed.slots if s != slot}
    dms_text = parsed.render({**others, slot: _pg_text(kind, value)})
    return dms_text, parsed.render({**others, slot: keys.encode(kind, value)})


@pytest.mark.parametrize("case", _cases())
def test_warnings_name_exactly_the_slots_dms_would_write_differently(case: str | Path) -> None:
    layout, model = _case(case)
    warned = {
        (w.entity, w.attribute, w.slot)
        for w in dms.dms_warnings(layout, model)
        if w.kind == "encoding"
    }
    checked = 0
    for el in layout.entities:
        entity = model.entity(el.entity)
        assert entity is not None
        for ek in el.keys:
            index = layout.index(ek.index)
            assert index is not None
            for key_attr, template in ((index.pk, ek.pk), (index.sk, ek.sk)):
                if key_attr is None or template is None:
                    continue
                for slot in keys.parse_template(template).slots:
                    a = entity.attribute(slot)
                    assert a is not None
                    kind = a.type.kind
                    is_warned = (el.entity, key_attr.name, slot) in warned
                    if kind == "string":
                        safe, unsafe = SAFE_STRINGS, UNSAFE_STRINGS
                        if a.enum:
                            safe = [v for v in a.enum if keys.encode("string", v) == v]
                            unsafe = [v for v in a.enum if v not in safe]
                    else:
                        safe, unsafe = [], SAMPLES[kind]
                        if kind in ("uuid", "date"):
                            safe, unsafe = SAMPLES[kind], []
                    for value in safe:
                        got, ours = _simulate(template, slot, kind, value)
                        assert got == ours, (el.entity, key_attr.name, slot, value)
                    differs = False
                    for value in unsafe:
                        got, ours = _simulate(template, slot, kind, value)
                        differs |= got != ours
                    assert is_warned == differs, (el.entity, key_attr.name, slot)
                    checked += 1
    assert checked > 0


def test_notes_list_warnings_and_recommend_the_backfill_runner() -> None:
    files = dms.emit_dms(layouts.small_layout(), layouts.small_model())
    notes = files["dms-notes.md"]
    assert notes.startswith("<!-- @generated by modeling ")
    assert "backfill runner" in notes
    rows = [line for line in notes.splitlines() if re.match(r"\| (Customer|Order) \|", line)]
    warnings = [w for w in dms.dms_warnings(layouts.small_layout(), layouts.small_model())]
    assert len(rows) == len([w for w in warnings if w.kind == "encoding"])
    assert "| Order | table | SK | order_no |" in notes
    # the enum status (open/paid/shipped) encodes as itself: no warning for GSI1PK
    assert not any(w.slot == "status" for w in warnings)
    kinds = {w.kind for w in warnings}
    assert {"encoding", "sparse", "not-scalar"} <= kinds


def test_two_entities_on_one_table_get_one_selection_and_a_warning() -> None:
    model = layouts.small_model()
    order = model.entity("Order")
    customer = model.entity("Customer")
    assert order is not None and customer is not None
    shared = ir.Model(
        name=model.name,
        table=model.table,
        entities=(customer, ir.Entity(**{**order.__dict__, "table": "customers"})),
        patterns=(),
    )
    document, warnings = dms.table_mappings(layouts.small_layout(), shared)
    assert sum(r["rule-type"] == "selection" for r in document["rules"]) == 1
    assert any(w.kind == "duplicate-table" for w in warnings)


def test_same_input_same_bytes() -> None:
    first = dms.emit_dms(layouts.small_layout(), layouts.small_model())
    assert first == dms.emit_dms(layouts.small_layout(), layouts.small_model())


def test_a_datetime_ttl_attribute_is_warned_about() -> None:
    """DMS copies a timestamp column as text (S); TTL needs N epoch seconds: never expires."""
    plain = dms.dms_warnings(layouts.small_layout(), layouts.small_model())
    assert not any(w.kind == "ttl" for w in plain)
    model = layouts.small_model(ttl="joined_at")  # Customer.joined_at: datetime
    warnings = [w for w in dms.dms_warnings(layouts.small_layout(), model) if w.kind == "ttl"]
    assert [(w.entity, w.attribute) for w in warnings] == [("Customer", "joined_at")]
    assert "never expire" in warnings[0].message
    notes = dms.emit_dms(layouts.small_layout(), model)["dms-notes.md"]
    assert "- Customer: joined_at is the table's TTL attribute" in notes
    # an integer TTL attribute is copied as a number already: no warning
    integer = layouts.small_model(ttl="order_no")
    assert not any(w.kind == "ttl" for w in dms.dms_warnings(layouts.small_layout(), integer))
