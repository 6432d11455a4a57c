"""Sample rows: types, relationships, uniqueness, skew, determinism."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from modeling.api import load_model
from modeling.core.ir import Model, TypeRef
from modeling.sample.generate import SampleOptions, generate

PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "decimal": Decimal,
    "float": float,
    "boolean": bool,
    "date": date,
    "datetime": datetime,
    "uuid": uuid.UUID,
    "binary": bytes,
    "map": dict,
    "list": list,
    "set": frozenset,
}


def _check_value(t: TypeRef, v: object) -> None:
    assert isinstance(v, PY_TYPES[t.kind]), (t, v)
    if t.kind == "integer":
        assert not isinstance(v, bool)
    if t.kind == "date":
        assert not isinstance(v, datetime)
    if t.kind == "datetime":
        assert isinstance(v, datetime) and v.utcoffset() is not None
    if t.kind == "set":
        assert isinstance(v, frozenset) and len(v) >= 1
    if t.item is not None:
        assert isinstance(v, list | frozenset)
        for x in v:
            _check_value(t.item, x)


def test_same_seed_same_rows_other_seed_other_rows(catalog_model: Model) -> None:
    a = generate(catalog_model, SampleOptions(seed=7))
    b = generate(catalog_model, SampleOptions(seed=7))
    c = generate(catalog_model, SampleOptions(seed=8))
    assert a.rows == b.rows
    assert a.rows != c.rows


def test_every_value_has_its_declared_type(all_types_model: Model) -> None:
    data = generate(all_types_model)
    entity = all_types_model.entities[0]
    rows = data.of("Thing")
    assert len(rows) >= 10
    for row in rows:
        assert set(row) == set(entity.attribute_names)
        for a in entity.attributes:
            if row[a.name] is None:
                assert not a.required, a.name
            else:
                _check_value(a.type, row[a.name])
    assert any(r["maybe"] is None for r in rows) and any(r["maybe"] is not None for r in rows)
    zones = {r["v_datetime"].utcoffset() for r in rows}
    assert len(zones) > 1, "datetimes should arrive in several time zones"
    scales = {r["v_decimal"].as_tuple().exponent for r in rows}
    assert len(scales) > 1, "decimals of several scales"


def test_keys_and_unique_lookups_are_unique(catalog_model: Model) -> None:
    data = generate(catalog_model)
    for e in catalog_model.entities:
        keys = [tuple(r[k] for k in e.key) for r in data.of(e.name)]
        assert len(keys) == len(set(keys)), e.name
    skus = [r["sku"] for r in data.of("Variant")]
    assert len(skus) == len(set(skus)), "variant_by_sku is unique: sku must be"


def test_references_point_at_existing_rows_and_enums_hold(catalog_model: Model) -> None:
    data = generate(catalog_model)
    brands = {r["brand_id"] for r in data.of("Brand")}
    products = {r["product_id"] for r in data.of("Product")}
    assert data.of("Product") and data.of("Variant")
    assert all(r["brand_id"] in brands for r in data.of("Product"))
    assert all(r["product_id"] in products for r in data.of("Variant"))
    assert {r["status"] for r in data.of("Product")} <= {"draft", "active", "archived"}


def test_parents_are_skewed_and_the_hottest_partition_spans_pages(catalog_model: Model) -> None:
    data = generate(catalog_model)
    per_product = Counter(r["product_id"] for r in data.of("Variant"))
    counts = sorted(per_product.values(), reverse=True)
    assert counts[0] >= 4 * statistics.median(counts)
    sizes: Counter[str] = Counter()
    for r in data.of("Variant"):
        sizes[r["product_id"]] += len(repr(r).encode())
    assert max(sizes.values()) > 1024 * 1024, "one partition must need several 1 MB pages"
    assert sum(len(repr(r).encode()) for rs in data.rows.values() for r in rs) < 12 * 1024 * 1024


def test_key_strings_hold_the_separator_and_astral_characters(catalog_model: Model) -> None:
    ids = [r["product_id"] for r in generate(catalog_model).of("Product")]
    assert any("#" in i for i in ids)
    assert any(any(ord(ch) > 0xFFFF for ch in i) for i in ids)


def test_the_ttl_datetime_holds_whole_seconds_other_datetimes_do_not(catalog_model: Model) -> None:
    """`expires_at` (table.ttl) is stored as N epoch seconds: whole seconds round-trip exactly."""
    assert catalog_model.table.ttl == "expires_at"
    products = generate(catalog_model).of("Product")
    expiries = [r["expires_at"] for r in products if r["expires_at"] is not None]
    assert len(expiries) > 5
    assert all(v.microsecond == 0 for v in expiries)
    assert any(r["created_at"].microsecond for r in products)  # the rule is the TTL's alone


def test_optional_ordering_attribute_is_sometimes_null_and_tied() -> None:
    """The sample puts NULL into a nullable sort-key slot that patterns only order by (a share
    of rows, the same for one seed) and repeats values so tie groups exist."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "null_ordering.yaml"
    model = load_model(fixture)
    options = SampleOptions(seed=4, roots=30, fanout=10)
    orders = generate(model, options).of("Order")
    assert len(orders) >= 200
    dates = [o["order_date"] for o in orders]
    nulls = sum(d is None for d in dates)
    assert 0.03 * len(orders) <= nulls <= 0.25 * len(orders), nulls
    ties = [d for d, n in Counter(d for d in dates if d is not None).items() if n > 1]
    assert ties
    assert generate(model, options).of("Order") == orders
