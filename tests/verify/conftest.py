"""Hand-built resolved models for the verifier's unit tests (independent of the loader)."""

from __future__ import annotations

import pytest

from modeling.core.ir import (
    AccessPattern,
    Attribute,
    Condition,
    Entity,
    EntityKey,
    EntityLayout,
    Index,
    KeyAttribute,
    KeyValue,
    Layout,
    Model,
    PatternPlan,
    SlotBinding,
    SortKeyCondition,
    TableSettings,
    TypeRef,
)


def attr(name: str, kind: str, **kw: object) -> Attribute:
    return Attribute(name, TypeRef.parse(kind), **kw)  # type: ignore[arg-type]


def catalog() -> Model:
    """The DSL.md example, resolved by hand (the `sql:` pattern written as conditions)."""
    brand = Entity(
        "Brand",
        "brands",
        ("brand_id",),
        (
            attr("brand_id", "string"),
            attr("name", "string"),
            attr("country", "string", required=False),
        ),
    )
    product = Entity(
        "Product",
        "products",
        ("product_id",),
        (
            attr("product_id", "string"),
            attr("brand_id", "string", references="Brand"),
            attr("title", "string"),
            attr("price", "decimal"),
            attr("status", "string", enum=("draft", "active", "archived")),
            attr("created_at", "datetime"),
            attr("tags", "set<string>"),
            attr("details", "map"),
            attr("expires_at", "datetime", required=False),
        ),
    )
    variant = Entity(
        "Variant",
        "product_variants",
        ("product_id", "sku"),
        (
            attr("product_id", "string", references="Product"),
            attr("sku", "string"),
            attr("size", "string"),
            attr("stock", "integer"),
        ),
        parent="Product",
    )
    patterns = (
        AccessPattern("get_product", ("Product",), (Condition("product_id", "="),)),
        AccessPattern(
            "product_with_variants", ("Product", "Variant"), (Condition("product_id", "="),)
        ),
        AccessPattern(
            "products_of_brand_newest_first",
            ("Product",),
            (Condition("brand_id", "="), Condition("created_at", "between", ("since", "until"))),
            order="desc",
        ),
        AccessPattern(
            "active_products_since",
            ("Product",),
            (Condition("status", "=", ("status",)), Condition("created_at", ">=", ("since",))),
        ),
        AccessPattern("variant_by_sku", ("Variant",), (Condition("sku", "="),), unique=True),
    )
    return Model(
        "catalog",
        TableSettings("Catalog", ttl="expires_at"),
        (brand, product, variant),
        patterns,
    )


def all_types() -> Model:
    """One entity per interesting shape: every DSL type, composite keys, a self reference."""
    kinds = [
        "string", "integer", "decimal", "float", "boolean", "date", "datetime", "uuid",
        "binary", "map", "list<string>", "list<map>", "set<string>", "set<integer>",
        "set<decimal>", "set<binary>",
    ]  # fmt: skip
    thing = Entity(
        "Thing",
        "things",
        ("tenant", "thing_id"),
        (
            attr("tenant", "string"),
            attr("thing_id", "integer"),
            *(attr(f"v_{k.replace('<', '_').replace('>', '')}", k) for k in kinds),
            attr("maybe", "string", required=False),
            attr("parent_thing", "integer", required=False),
        ),
    )
    pats = (
        AccessPattern(
            "things_by_tenant_and_date",
            ("Thing",),
            (Condition("tenant", "="), Condition("v_date", "<")),
        ),
        AccessPattern(
            "things_by_name_prefix",
            ("Thing",),
            (Condition("tenant", "="), Condition("v_string", "begins_with")),
            limit=3,
        ),
    )
    return Model("alltypes", TableSettings("AllTypes"), (thing,), pats)


def catalog_layout() -> Layout:
    """A hand-made single-table design for `catalog()` (the compiler is tested elsewhere)."""

    def kv(template: str, *binds: tuple[str, str, str], mode: str = "full") -> KeyValue:
        return KeyValue(template, tuple(SlotBinding(*b) for b in binds), mode)  # type: ignore[arg-type]

    gsi = [
        Index(f"GSI{i}", "gsi", KeyAttribute(f"GSI{i}PK"), KeyAttribute(f"GSI{i}SK"))
        for i in (1, 2, 3)
    ]
    table = Index("table", "table", KeyAttribute("PK"), KeyAttribute("SK"))
    entities = (
        EntityLayout("Brand", "Brand", (EntityKey("table", "BRAND#{brand_id}", "BRAND"),)),
        EntityLayout(
            "Product",
            "Product",
            (
                EntityKey("table", "PRODUCT#{product_id}", "PRODUCT"),
                EntityKey("GSI1", "BRAND#{brand_id}", "PRODUCT#{created_at}#{product_id}"),
                EntityKey("GSI2", "STATUS#{status}", "{created_at}#{product_id}"),
            ),
        ),
        EntityLayout(
            "Variant",
            "Variant",
            (
                EntityKey("table", "PRODUCT#{product_id}", "VARIANT#{sku}"),
                EntityKey("GSI3", "SKU#{sku}", "VARIANT"),
            ),
        ),
    )
    pid = ("product_id", "product_id", "string")
    plans = (
        PatternPlan(
            "get_product", ("Product",), "table", "GetItem", kv("PRODUCT#{product_id}", pid),
            SortKeyCondition("eq", (kv("PRODUCT"),)),
        ),
        PatternPlan(
            "product_with_variants", ("Product", "Variant"), "table", "Query",
            kv("PRODUCT#{product_id}", pid), SortKeyCondition(),
        ),
        PatternPlan(
            "products_of_brand_newest_first", ("Product",), "GSI1", "Query",
            kv("BRAND#{brand_id}", ("brand_id", "brand_id", "string")),
            SortKeyCondition(
                "between",
                (
                    kv("PRODUCT#{created_at}#{product_id}", ("created_at", "since", "datetime"), mode="prefix"),
                    kv("PRODUCT#{created_at}#{product_id}", ("created_at", "until", "datetime"), mode="after"),
                ),
            ),
            scan_forward=False,
        ),
        PatternPlan(
            "active_products_since", ("Product",), "GSI2", "Query",
            kv("STATUS#{status}", ("status", "status", "string")),
            SortKeyCondition("ge", (kv("{created_at}#{product_id}", ("created_at", "since", "datetime"), mode="prefix"),)),
        ),
        PatternPlan(
            "variant_by_sku", ("Variant",), "GSI3", "Query",
            kv("SKU#{sku}", ("sku", "sku", "string")), SortKeyCondition(), unique=True,
        ),
    )  # fmt: skip
    return Layout("catalog", "Catalog", (table, *gsi), entities, plans)


@pytest.fixture
def catalog_layout_fixture() -> Layout:
    return catalog_layout()


@pytest.fixture
def catalog_model() -> Model:
    return catalog()


@pytest.fixture
def all_types_model() -> Model:
    return all_types()
