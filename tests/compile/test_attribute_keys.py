"""GSIs keyed on the items' own attributes (`layout: {gsi_keys: attributes}`, issue 16 item 4).

`compile.attribute_keys` keys a derived GSI on the items' own attributes (several HASH/RANGE
elements, numbers as N) where the composite key's exactness proof carries over, and keeps the
composite key with an info diagnostic where it does not. The fixture model is proven on
DynamoDB Local against PostgreSQL by `model verify`, and its template passes cfn-lint.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cfnlint.api import ManualArgs, lint

from modeling import cost, requests
from modeling.api import load_model
from modeling.compile import compile_model
from modeling.compile.attribute_keys import (
    attribute_condition_problem,
    check_attribute_key_conditions,
    check_attribute_key_identity,
)
from modeling.core import ir
from modeling.emit import diagrams, emit
from modeling.emit.docs import indexes_page
from modeling.emit.docs.samples import make_sample
from modeling.sample import codec
from modeling.sample.generate import SampleOptions
from modeling.verify.runner import VerifyOptions, verify

FIXTURE = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis.yaml"


def _compiled(m: ir.Model) -> tuple[ir.Layout, list[Any]]:
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    return layout, list(bag)


def _index_of(layout: ir.Layout, pattern: str) -> ir.Index:
    plan = layout.plan(pattern)
    assert plan is not None
    index = layout.index(plan.index)
    assert index is not None
    return index


@pytest.mark.e2e
def test_attribute_keyed_gsis_verify_against_postgres(dynamodb_local: Any, postgres: Any) -> None:
    m = load_model(FIXTURE)
    layout, _ = _compiled(m)
    assert _index_of(layout, "sales_of_store_by_amount").on_attributes
    options = VerifyOptions(trials=12, sample=SampleOptions(roots=6, fanout=8))
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(m, layout, dynamodb_local.client(), pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    by_name = {p.pattern: p for p in report.patterns}
    assert by_name["sales_of_store_by_amount"].non_empty > 0
    for name in ("sales_of_store_by_amount", "sales_of_store_on_day_over", "sales_of_store_since"):
        p = by_name[name]
        assert _index_of(layout, name).on_attributes, name
        # PostgreSQL answered every trial, some with rows, some over several pages
        assert p.skipped is None and p.oracle_skipped is None, name
        assert p.oracle_trials == p.trials > 0 and p.non_empty > 0, name
    assert (
        max(by_name[n].max_pages for n in ("sales_of_store_by_amount", "sales_of_store_since")) > 1
    )


def _diagnostics(bag: list[Any], code: str) -> dict[str | None, str]:
    return {d.subject: d.message for d in bag if d.code == code}


def test_fixture_keys_one_entity_gsis_on_attributes_and_says_why_not_the_shared_one() -> None:
    layout, bag = _compiled(load_model(FIXTURE))
    by_amount = _index_of(layout, "sales_of_store_by_amount")
    assert [(k.name, k.type) for k in by_amount.pk_attributes] == [
        ("region", "S"),
        ("store_id", "N"),
    ]
    assert [(k.name, k.type) for k in by_amount.sk_attributes] == [("amount", "N")]
    by_day = _index_of(layout, "sales_of_store_since")
    assert by_day is _index_of(layout, "sales_of_store_on_day_over")
    assert [k.name for k in by_day.hash_keys] == ["store_id"]
    assert [(k.name, k.type) for k in by_day.range_keys] == [("sold_on", "S"), ("quantity", "N")]
    shared = _index_of(layout, "stores_by_name")
    assert not shared.on_attributes and shared.pk.name == "GSI1PK"
    kept = _diagnostics(bag, "gsi-kept-composite")
    assert list(kept) == [shared.name]
    assert (
        "(Sale on (region | quantity), Store on (name | -)): one GSI has one key schema"
        in (kept[shared.name])
    )
    assert set(_diagnostics(bag, "gsi-on-attributes")) == {by_amount.name, by_day.name}
    plan = layout.plan("sales_of_store_on_day_over")
    assert plan is not None
    assert [(c.attribute, c.kind) for c in plan.key_attributes] == [
        ("store_id", "eq"),
        ("sold_on", "eq"),
        ("quantity", "gt"),
    ]
    # the composite plan filtered `quantity > :quantity`; DynamoDB refuses a filter on a key
    # attribute, and the key condition now holds it exactly
    assert plan.filters == () and "keyed on attributes" in plan.proof[-1]
    assert plan.read_estimate is None  # the key condition reads only what it returns
    assert ir.from_json(ir.Layout, ir.to_json(layout)) == layout  # layout.json keeps it all
    # the docs site shows the attributes, not the composite templates
    page = indexes_page(load_model(FIXTURE), layout, make_sample(load_model(FIXTURE), layout))
    assert "| partition key | <code>region (S), store_id (N)</code> |" in page
    assert "| sort key | <code>sold_on (S), quantity (N)</code> |" in page
    shown = str(diagrams.diagrams(load_model(FIXTURE), layout))
    assert "GSI3 (GSI): store_id / sold_on, quantity" in shown


def test_default_layout_is_composite() -> None:
    m = load_model(FIXTURE)
    m = replace(m, layout=replace(m.layout, gsi_keys="composite"))
    layout, bag = _compiled(m)
    assert not any(i.on_attributes for i in layout.indexes)
    assert not any(p.key_attributes for p in layout.plans)
    assert not {d.code for d in bag} & {"gsi-on-attributes", "gsi-kept-composite"}
    assert '"GSI2PK"' in emit(layout, m)["transformers.py"]


def test_items_carry_no_synthetic_key_for_attribute_keyed_indexes() -> None:
    m = load_model(FIXTURE)
    layout, _ = _compiled(m)
    files = emit(layout, m)
    attribute_keyed = [i.name for i in layout.gsis if i.on_attributes]
    assert attribute_keyed
    for name in attribute_keyed:
        assert f"{name}PK" not in files["transformers.py"]
        assert f"{name}SK" not in files["transformers.py"]
    assert '"GSI1PK"' in files["transformers.py"]  # the composite one keeps its attributes
    assert "| GSI2 | gsi | region (S), store_id (N) | amount (N) | ALL |" in files["layout.md"]
    # NoSQL Workbench has one partition and one sort key per index: the export leaves them out
    workbench = files["workbench.json"]
    assert '"GSI1"' in workbench
    assert all(f'"{name}"' not in workbench for name in attribute_keyed)
    # the table definition: several HASH / RANGE elements, native attribute types
    create = json.loads(files["create-table.json"])
    types = {d["AttributeName"]: d["AttributeType"] for d in create["AttributeDefinitions"]}
    assert types["amount"] == "N" and types["store_id"] == "N" and types["sold_on"] == "S"
    assert "GSI2PK" not in types and "GSI3SK" not in types
    gsis = {g["IndexName"]: g["KeySchema"] for g in create["GlobalSecondaryIndexes"]}
    assert [(e["AttributeName"], e["KeyType"]) for e in gsis["GSI3"]] == [
        ("store_id", "HASH"),
        ("sold_on", "RANGE"),
        ("quantity", "RANGE"),
    ]
    errors = [
        str(x)
        for x in lint(files["table.yaml"], config=ManualArgs(regions=["us-east-1"]))
        if x.rule.severity == "error"
    ]
    assert errors == []
    # cost: an attribute-keyed index adds no key bytes to the item
    composite = replace(m, layout=replace(m.layout, gsi_keys="composite"))
    plain, _ = _compiled(composite)
    sale = m.entity("Sale")
    assert sale is not None
    assert cost.item_bytes(layout, sale) < cost.item_bytes(plain, sale)


def test_request_is_a_condition_over_several_attributes() -> None:
    m = load_model(FIXTURE)
    layout, _ = _compiled(m)
    plan = layout.plan("sales_of_store_by_amount")
    assert plan is not None
    params = {"store_id": 7, "region": "eu", "amount_from": "-2.5", "amount_to": 10}
    request = requests.build_request(m, layout, plan, params, "T", codec.attribute_av)
    assert (
        request["KeyConditionExpression"] == "#k0 = :k0 AND #k1 = :k1 AND #k2 BETWEEN :sk0 AND :sk1"
    )
    assert request["ExpressionAttributeNames"] == {
        "#k0": "region",
        "#k1": "store_id",
        "#k2": "amount",
    }
    assert request["ExpressionAttributeValues"] == {
        ":k0": {"S": "eu"},
        ":k1": {"N": "7"},
        ":sk0": {"N": "-2.5"},
        ":sk1": {"N": "10"},
    }
    assert requests.key_condition(plan, layout.index(plan.index)) == (
        "region = <:region> AND store_id = <:store_id> AND amount BETWEEN <:amount_from> "
        "AND <:amount_to>"
    )
    # an empty BETWEEN is caught as for composite keys (DynamoDB rejects it)
    params |= {"amount_from": 5, "amount_to": -5}
    assert requests.empty_range(
        requests.build_request(m, layout, plan, params, "T", codec.attribute_av)
    )


BASE = """
model: probe
layout: {gsi_keys: attributes}
entities:
  Item:
    table: items
    key: [item_id]
    attributes:
      item_id: integer
      grp: integer
      n: {type: integer, required: %(required)s}
      label: string
      ratio: float
      code: %(code)s
  Other:
    table: others
    key: [other_id]
    attributes:
      other_id: integer
      code: %(other_code)s
%(other_extra)s
access_patterns:
  get_item: {entity: Item, where: {item_id: "="}}
  get_other: {entity: Other, where: {other_id: "="}}
  probe:
%(pattern)s
"""


@pytest.mark.parametrize(
    ("pattern", "why", "options"),
    [
        ('    {entity: Item, where: {label: "=", n: ">"}}', "a string that can be empty", {}),
        ('    {entity: Item, where: {grp: "=", ratio: ">"}}', "no exact native key type", {}),
        (
            '    {entity: Item, where: {code: "=", n: ">"}}',
            "'code' is N on one entity and S on Other",
            {"other_code": "uuid"},
        ),
        (
            "    sql: SELECT * FROM items WHERE grp = :grp AND n >= :lo AND n < :hi",
            "half-open range on 'n'",
            {},
        ),
        (
            "    sql: SELECT * FROM items WHERE grp IN (:a, :b) ORDER BY n",
            "`in` on partition attribute 'grp'",
            {},
        ),
        (
            "    sql: SELECT * FROM items WHERE grp = :grp ORDER BY n",
            "as a sentinel",
            {"required": "false"},
        ),
        (
            '    {entity: Item, where: {code: "=", item_id: ">"}}',
            "Other also has every key attribute (code, item_id)",
            {"other_extra": "      item_id: integer"},
        ),
    ],
    ids=["empty-string", "float", "type-conflict", "half-open", "in", "null-order", "other-type"],
)
def test_an_index_the_rules_do_not_fit_stays_composite(
    tmp_path: Path, pattern: str, why: str, options: dict[str, str]
) -> None:
    values = {"required": "true", "code": "integer", "other_code": "integer", "pattern": pattern}
    values["other_extra"] = ""
    path = tmp_path / "probe.yaml"
    path.write_text(BASE % (values | options), encoding="utf-8")
    layout, bag = _compiled(load_model(path))
    index = _index_of(layout, "probe")
    assert index.kind == "gsi" and not index.on_attributes
    kept = _diagnostics(bag, "gsi-kept-composite")
    assert why in kept[index.name], kept


def test_an_index_that_fits_is_keyed_on_attributes(tmp_path: Path) -> None:
    """The probe model itself is fine: the refusals above are each one rule."""
    values = {"required": "false", "code": "integer", "other_code": "integer", "other_extra": ""}
    values["pattern"] = '    {entity: Item, where: {grp: "=", n: between}}'
    path = tmp_path / "probe.yaml"
    path.write_text(BASE % values, encoding="utf-8")
    layout, bag = _compiled(load_model(path))
    index = _index_of(layout, "probe")
    assert index.on_attributes, _diagnostics(bag, "gsi-kept-composite")
    # n is optional: items without it leave the index, as the composite key's were (sparse)
    el = layout.entity("Item")
    assert el is not None
    ek = el.key(index.name)
    assert ek is not None and ek.sparse_on == ("n",)


def test_checks_refuse_a_key_condition_dynamodb_rejects() -> None:
    m = load_model(FIXTURE)
    layout, _ = _compiled(m)
    plan = layout.plan("sales_of_store_on_day_over")
    assert plan is not None
    index = layout.index(plan.index)
    assert index is not None
    assert attribute_condition_problem(index, plan.key_attributes) is None
    store, day, qty = plan.key_attributes
    for bad, problem in [
        ((day, qty), "equality on every partition-key attribute"),
        ((store, qty), "sort-key condition 1 is on quantity"),
        ((store, replace(day, kind="ge"), qty), "a range on sold_on before the last"),
    ]:
        assert problem in (attribute_condition_problem(index, bad) or ""), bad
    broken = replace(
        layout,
        plans=tuple(
            replace(p, key_attributes=(day, qty)) if p is plan else p for p in layout.plans
        ),
    )
    found = list(check_attribute_key_conditions(broken, m))
    assert [d.code for d in found] == ["invalid-key-condition"]


TEXT = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis_text.yaml"


def test_non_empty_strings_and_datetimes_are_keyed_on_attributes() -> None:
    """`min_length: 1` strings and datetimes (timestamptz and timestamp) become S attributes;
    a string that may be empty keeps the composite key and says why (issue 16 item 4)."""
    m = load_model(TEXT)
    layout, bag = _compiled(m)
    by = {p: _index_of(layout, p) for p in ("events_at_venue_between", "events_of_kind_after")}
    assert [(k.name, k.type) for k in by["events_at_venue_between"].hash_keys] == [("venue", "S")]
    assert [(k.name, k.type) for k in by["events_at_venue_between"].range_keys] == [
        ("starts_at", "S")
    ]
    assert [k.name for k in by["events_of_kind_after"].range_keys] == ["local_at"]
    title = _index_of(layout, "events_at_venue_from_title")
    assert [(k.name, k.type) for k in title.range_keys] == [("title", "S")]
    tag = _index_of(layout, "events_with_tag")
    assert not tag.on_attributes
    why = _diagnostics(bag, "gsi-kept-composite")[tag.name]
    assert "'tag' is a string that can be empty" in why and "min_length: 1" in why
    create = json.loads(emit(layout, m)["create-table.json"])
    types = {d["AttributeName"]: d["AttributeType"] for d in create["AttributeDefinitions"]}
    assert types["starts_at"] == types["local_at"] == types["title"] == "S"
    assert not _diagnostics(bag, "collation-order")  # `source: {collation: C}`: byte order
    # under a linguistic collation the title order is not PostgreSQL's: said as for composites
    german = replace(
        m,
        entities=tuple(
            replace(e, attributes=tuple(replace(a, collation="de_DE.utf8") for a in e.attributes))
            for e in m.entities
        ),
    )
    _, bag2 = _compiled(german)
    assert "events_at_venue_from_title" in _diagnostics(bag2, "collation-order")
    errors = [
        str(x)
        for x in lint(emit(layout, m)["table.yaml"], config=ManualArgs(regions=["us-east-1"]))
        if x.rule.severity == "error"
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("label", "pattern", "keyed", "why"),
    [
        ("{type: string, min_length: 1}", '{grp: "=", label: ">"}', True, None),
        ("{type: string, min_length: 0}", '{grp: "=", label: ">"}', False, "can be empty"),
        ("{type: string, enum: ['', x]}", '{grp: "=", label: ">"}', False, "enum has the empty"),
        ("{type: string, min_length: 1}", '{grp: "=", label: begins_with}', True, None),
        ("binary", '{label: "=", n: ">"}', False, "'label' is binary"),
        ("{type: datetime, timezone: false}", '{grp: "=", label: "<="}', True, None),
    ],
    ids=["min-length", "min-length-0", "empty-enum", "begins-with", "binary", "timestamp"],
)
def test_which_strings_and_datetimes_are_keyed(
    tmp_path: Path, label: str, pattern: str, keyed: bool, why: str | None
) -> None:
    values = {"required": "true", "code": "integer", "other_code": "integer", "other_extra": ""}
    values["pattern"] = f"    {{entity: Item, where: {pattern}}}"
    path = tmp_path / "probe.yaml"
    path.write_text((BASE % values).replace("label: string", f"label: {label}"), encoding="utf-8")
    layout, bag = _compiled(load_model(path))
    index = _index_of(layout, "probe")
    assert index.on_attributes is keyed, _diagnostics(bag, "gsi-kept-composite")
    if why is not None:
        assert why in _diagnostics(bag, "gsi-kept-composite")[index.name]


def test_an_empty_string_parameter_is_sent_as_its_stand_in() -> None:
    """DynamoDB refuses "" in a key condition; U+0000 selects the same stored values."""
    m = load_model(TEXT)
    layout, _ = _compiled(m)
    plan = layout.plan("events_at_venue_from_title")
    assert plan is not None
    request = requests.build_request(
        m, layout, plan, {"venue": "", "title": ""}, "T", codec.attribute_av
    )
    assert request["ExpressionAttributeValues"] == {":k0": {"S": "\x00"}, ":sk0": {"S": "\x00"}}
    request = requests.build_request(
        m, layout, plan, {"venue": "a", "title": "b"}, "T", codec.attribute_av
    )
    assert request["ExpressionAttributeValues"] == {":k0": {"S": "a"}, ":sk0": {"S": "b"}}
    # an empty begins_with prefix matches every title: the condition is left out
    plan = layout.plan("events_at_venue_titled")
    assert plan is not None
    full = requests.build_request(
        m, layout, plan, {"venue": "a", "title": "b"}, "T", codec.attribute_av
    )
    assert full["KeyConditionExpression"] == "#k0 = :k0 AND begins_with(#k1, :sk0)"
    empty = requests.build_request(
        m, layout, plan, {"venue": "a", "title": ""}, "T", codec.attribute_av
    )
    assert empty["KeyConditionExpression"] == "#k0 = :k0"
    assert empty["ExpressionAttributeNames"] == {"#k0": "venue"}
    assert empty["ExpressionAttributeValues"] == {":k0": {"S": "a"}}


@pytest.mark.e2e
def test_strings_and_datetimes_verify_and_a_mutated_layout_fails(
    dynamodb_local: Any, postgres: Any
) -> None:
    """`model verify` proves the string and datetime attribute keys against PostgreSQL (the
    sample plants unicode, separators, boundary datetimes and ties), and catches a layout
    whose key condition is off by one bound (`>=` sent as `>`)."""
    m = load_model(TEXT)
    layout, _ = _compiled(m)
    options = VerifyOptions(trials=12, sample=SampleOptions(roots=8, fanout=4))
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(m, layout, dynamodb_local.client(), pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    by_name = {p.pattern: p for p in report.patterns}
    for name in ("events_at_venue_between", "events_at_venue_from_title", "events_of_kind_after"):
        assert _index_of(layout, name).on_attributes, name
        p = by_name[name]
        assert p.skipped is None and p.oracle_trials == p.trials > 0 and p.non_empty > 0, name
    plan = layout.plan("events_at_venue_from_title")
    assert plan is not None
    venue, title = plan.key_attributes
    mutated = replace(
        layout,
        plans=tuple(
            replace(p, key_attributes=(venue, replace(title, kind="gt"))) if p is plan else p
            for p in layout.plans
        ),
    )
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        bad = verify(m, mutated, dynamodb_local.client(), pg_conn=conn, options=options)
    assert not bad.ok
    assert [p.pattern for p in bad.patterns if p.failures] == ["events_at_venue_from_title"]


OVERLOADED = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis_overloaded.yaml"


def test_several_entity_types_share_a_gsi_through_the_type_attribute() -> None:
    """Post and Reply key on the same attributes: one GSI keyed on (author_id, _type |
    posted_at); each pattern's key condition names its own type value, and the identity check
    catches a layout whose plan would read the other type."""
    m = load_model(OVERLOADED)
    layout, bag = _compiled(m)
    index = _index_of(layout, "posts_of_author")
    assert index is _index_of(layout, "replies_of_author")
    assert [(k.name, k.type) for k in index.hash_keys] == [("author_id", "N"), ("_type", "S")]
    assert [(k.name, k.type) for k in index.range_keys] == [("posted_at", "S")]
    assert index.name in _diagnostics(bag, "gsi-on-attributes")
    for pattern, type_value in (("posts_of_author", "Post"), ("replies_of_author", "Reply")):
        plan = layout.plan(pattern)
        assert plan is not None
        assert [(c.attribute, c.kind) for c in plan.key_attributes][:2] == [
            ("author_id", "eq"),
            ("_type", "eq"),
        ]
        assert plan.key_attributes[1].values[0].literal == type_value
        assert "the type attribute selects" in plan.proof[-1]
    assert list(check_attribute_key_identity(layout, m)) == []
    plan = layout.plan("posts_of_author")
    assert plan is not None
    author, kind, since = plan.key_attributes
    wrong = replace(kind, values=(replace(kind.values[0], literal="Reply"),))
    broken = replace(
        layout,
        plans=tuple(
            replace(p, key_attributes=(author, wrong, since)) if p is plan else p
            for p in layout.plans
        ),
    )
    found = list(check_attribute_key_identity(broken, m))
    assert [(d.code, d.subject) for d in found] == [("key-collision", "posts_of_author")]
    untyped = replace(
        layout,
        indexes=tuple(
            replace(i, pk_attributes=i.pk_attributes[:1]) if i.name == index.name else i
            for i in layout.indexes
        ),
    )
    found = list(check_attribute_key_identity(untyped, m))
    assert [(d.code, d.subject) for d in found] == [("key-collision", index.name)]
    # a CloudFormation template cfn-lint accepts, with the type attribute defined as S
    files = emit(layout, m)
    create = json.loads(files["create-table.json"])
    types = {d["AttributeName"]: d["AttributeType"] for d in create["AttributeDefinitions"]}
    assert types["_type"] == "S" and types["author_id"] == "N"
    errors = [
        str(x)
        for x in lint(files["table.yaml"], config=ManualArgs(regions=["us-east-1"]))
        if x.rule.severity == "error"
    ]
    assert errors == []


@pytest.mark.e2e
def test_overloaded_gsi_verifies_and_a_plan_reading_the_other_type_fails(
    dynamodb_local: Any, postgres: Any
) -> None:
    m = load_model(OVERLOADED)
    layout, _ = _compiled(m)
    options = VerifyOptions(trials=12, sample=SampleOptions(roots=8, fanout=4))
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(m, layout, dynamodb_local.client(), pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    by_name = {p.pattern: p for p in report.patterns}
    for name in ("posts_of_author", "replies_of_author"):
        p = by_name[name]
        assert p.skipped is None and p.oracle_trials == p.trials > 0 and p.non_empty > 0, name
    plan = layout.plan("posts_of_author")
    assert plan is not None
    author, kind, since = plan.key_attributes
    wrong = replace(kind, values=(replace(kind.values[0], literal="Reply"),))
    mutated = replace(
        layout,
        plans=tuple(
            replace(p, key_attributes=(author, wrong, since)) if p is plan else p
            for p in layout.plans
        ),
    )
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        bad = verify(m, mutated, dynamodb_local.client(), pg_conn=conn, options=options)
    assert [p.pattern for p in bad.patterns if p.failures] == ["posts_of_author"]
