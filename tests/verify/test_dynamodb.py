"""The DynamoDB side: a correct hand-made layout verifies; broken ones are caught."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from modeling.core.ir import EntityKey, Layout, Model, SortKeyCondition
from modeling.sample.codec import from_item, to_item
from modeling.sample.generate import SampleOptions, generate
from modeling.verify.runner import VerifyOptions, verify

SMALL = VerifyOptions(trials=12, sample=SampleOptions(roots=6, fanout=3, hot_partition_bytes=0))


def _replace_plan(layout: Layout, name: str, **changes: Any) -> Layout:
    plans = tuple(
        dataclasses.replace(p, **changes) if p.pattern == name else p for p in layout.plans
    )
    return dataclasses.replace(layout, plans=plans)


def _replace_key(layout: Layout, entity: str, index: str, **changes: Any) -> Layout:
    ents = []
    for el in layout.entities:
        if el.entity == entity:
            keys: tuple[EntityKey, ...] = tuple(
                dataclasses.replace(k, **changes) if k.index == index else k for k in el.keys
            )
            el = dataclasses.replace(el, keys=keys)
        ents.append(el)
    return dataclasses.replace(layout, entities=tuple(ents))


def test_row_item_row_round_trip(
    all_types_model: Model, catalog_model: Model, catalog_layout_fixture: Layout
) -> None:
    data = generate(catalog_model)
    for e in catalog_model.entities:
        for row in data.of(e.name):
            item = to_item(catalog_model, catalog_layout_fixture, e, row)
            assert item["_type"] == {"S": e.name}
            back_entity, back = from_item(catalog_model, catalog_layout_fixture, item)
            assert back_entity.name == e.name and back == row
    product = data.of("Product")[0]
    item = to_item(catalog_model, catalog_layout_fixture, catalog_model.entities[1], product)
    assert item["price"].keys() == {"N"} and item["tags"].keys() == {"SS"}
    assert item["created_at"]["S"].endswith("Z") and item["details"].keys() == {"M"}
    assert "expires_at" not in item or product["expires_at"] is not None


def test_moto_correct_layout_passes(
    moto_dynamodb: Any, catalog_model: Model, catalog_layout_fixture: Layout
) -> None:
    report = verify(catalog_model, catalog_layout_fixture, moto_dynamodb, options=SMALL)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    assert all(p.trials == 12 and p.non_empty > 0 for p in report.patterns)


def test_moto_wrong_sort_key_condition_is_a_mismatch(
    moto_dynamodb: Any, catalog_model: Model, catalog_layout_fixture: Layout
) -> None:
    plan = catalog_layout_fixture.plan("products_of_brand_newest_first")
    assert plan is not None
    # `since` only: forgets the upper bound of the between.
    broken = _replace_plan(
        catalog_layout_fixture, plan.pattern, sk=SortKeyCondition("ge", plan.sk.values[:1])
    )
    report = verify(catalog_model, broken, moto_dynamodb, options=SMALL)
    assert not report.ok
    bad = {p.pattern: p for p in report.patterns if p.status != "ok"}
    assert set(bad) == {"products_of_brand_newest_first"}
    assert any(f.extra for f in bad["products_of_brand_newest_first"].failures)


@pytest.mark.e2e
def test_dynamodb_local_correct_layout_passes_with_pages(
    dynamodb_local: Any, catalog_model: Model, catalog_layout_fixture: Layout
) -> None:
    report = verify(
        catalog_model,
        catalog_layout_fixture,
        dynamodb_local.client(),
        options=VerifyOptions(trials=25),
    )
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    collection = next(p for p in report.patterns if p.pattern == "product_with_variants")
    assert collection.max_full_pages >= 2, "the hottest partition must span several 1 MB pages"


@pytest.mark.e2e
def test_dynamodb_local_catches_a_dropped_slot_and_a_reversed_order(
    dynamodb_local: Any, catalog_model: Model, catalog_layout_fixture: Layout
) -> None:
    # Variant's sort key drops {sku}: every variant of a product lands on one item.
    dropped = _replace_key(catalog_layout_fixture, "Variant", "table", sk="VARIANT")
    report = verify(catalog_model, dropped, dynamodb_local.client(), options=SMALL)
    assert not report.ok and report.collisions
    statuses = {p.pattern: p.status for p in report.patterns}
    assert statuses["product_with_variants"] == "mismatch"
    # Newest-first read oldest-first.
    reversed_ = _replace_plan(
        catalog_layout_fixture, "products_of_brand_newest_first", scan_forward=True
    )
    report = verify(catalog_model, reversed_, dynamodb_local.client(), options=SMALL)
    bad = [p for p in report.patterns if p.status != "ok"]
    assert [p.pattern for p in bad] == ["products_of_brand_newest_first"]
    assert any(f.order for f in bad[0].failures)


def test_a_repeated_parameter_set_is_asked_once_and_counted_per_trial(
    moto_dynamodb: Any, catalog_model: Model, catalog_layout_fixture: Layout
) -> None:
    """The draw repeats anchors (few partitions): each distinct request goes out once, its
    answer counts for every trial that drew it, so coverage still counts every trial."""
    report = verify(catalog_model, catalog_layout_fixture, moto_dynamodb, options=SMALL)
    assert report.ok
    repeated = [p for p in report.patterns if p.distinct < p.trials]
    assert repeated, "the small sample repeats some parameter sets"
    for p in report.patterns:
        assert 0 < p.distinct <= p.trials and p.coverage.values_tried == p.trials
        if p.operation == "GetItem":  # one request per distinct key, whatever the page size
            assert p.requests == p.distinct, p.pattern
    assert report.requests == sum(p.requests for p in report.patterns)
