"""Loading valid models: the DSL example normalises to the expected structure, the example
models validate, and YAML → spec → YAML → spec and IR ↔ JSON round trips are lossless."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from spec_helpers import FIXTURES, MODELS

from modeling.api import check_file, check_text, load_model, validate_paths
from modeling.core import ir
from modeling.core.diagnostics import ModelError
from modeling.core.naming import table_for_entity
from modeling.spec.loader import load_text
from modeling.spec.model import ModelSpec

DSL_EXAMPLE = FIXTURES / "dsl_example.yaml"
EXAMPLES = sorted(MODELS.glob("*.yaml"))


def test_dsl_example_is_the_verbatim_block_of_dsl_md() -> None:
    dsl = Path("/work/shared/DSL.md")
    if not dsl.exists():
        pytest.skip("DSL.md is outside this checkout")
    block = dsl.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    assert DSL_EXAMPLE.read_text() == block


def test_dsl_example_normalises_to_the_expected_model() -> None:
    result = check_file(DSL_EXAMPLE)
    # the DDL path of the example does not exist: a warning, not an error
    assert [d.code for d in result.diagnostics] == ["missing-ddl"]
    model = result.model
    assert model is not None
    assert model.name == "catalog"
    assert model.table == ir.TableSettings(
        name="Catalog", ttl="expires_at", stream="new_and_old_images", pitr=True
    )
    assert model.source == ir.Source("postgres", "../ddl/catalog.sql")
    assert [(e.name, e.table, e.key, e.parent) for e in model.entities] == [
        ("Brand", "brands", ("brand_id",), None),
        ("Product", "products", ("product_id",), None),
        ("Variant", "product_variants", ("product_id", "sku"), "Product"),
    ]
    product = model.entity("Product")
    assert product is not None
    types = {a.name: str(a.type) for a in product.attributes}
    assert types["tags"] == "set<string>" and types["details"] == "map"
    status = product.attribute("status")
    assert status is not None and status.enum == ("draft", "active", "archived")
    brand_ref = product.attribute("brand_id")
    assert brand_ref is not None and brand_ref.references == "Brand"
    expires = product.attribute("expires_at")
    assert expires is not None and expires.required is False
    brand = model.entity("Brand")
    assert brand is not None and brand.attribute("country") == ir.Attribute(
        "country", ir.TypeRef("string"), required=False
    )

    def shape(p: ir.AccessPattern) -> tuple[object, ...]:
        where = tuple((c.attribute, c.op, c.params) for c in p.where)
        return (p.name, p.entities, where, p.order, p.order_by, p.unique)

    assert [shape(p) for p in model.patterns] == [
        ("get_product", ("Product",), (("product_id", "=", ("product_id",)),), "asc", None, False),
        (
            "product_with_variants",
            ("Product", "Variant"),
            (("product_id", "=", ("product_id",)),),
            "asc",
            None,
            False,
        ),
        (
            "products_of_brand_newest_first",
            ("Product",),
            (
                ("brand_id", "=", ("brand_id",)),
                ("created_at", "between", ("created_at_from", "created_at_to")),
            ),
            "desc",
            "created_at",
            False,
        ),
        (
            "active_products_since",
            ("Product",),
            (("status", "=", ("status",)), ("created_at", ">=", ("since",))),
            "asc",
            "created_at",
            False,
        ),
        ("variant_by_sku", ("Variant",), (("sku", "=", ("sku",)),), "asc", None, True),
    ]
    sql_pattern = model.pattern("active_products_since")
    assert sql_pattern is not None and sql_pattern.rate == ir.Rate(reads_per_second=50)
    assert sql_pattern.sql is not None and sql_pattern.sql.startswith("SELECT * FROM products")


def test_sql_condition_spans_point_into_the_block_scalar() -> None:
    model = load_model(DSL_EXAMPLE)
    pattern = model.pattern("active_products_since")
    assert pattern is not None
    lines = DSL_EXAMPLE.read_text().splitlines()
    for cond in pattern.where:
        assert cond.span is not None
        assert lines[cond.span.line - 1][cond.span.col - 1 :].startswith(cond.attribute)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_models_validate_cleanly(path: Path) -> None:
    result = check_file(path)
    assert [d.format() for d in result.diagnostics] == []
    assert result.model is not None
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../generated/model.schema.json"


def test_example_models_are_rich() -> None:
    assert {p.stem for p in EXAMPLES} >= {"catalog", "orders", "saas"}
    for path in EXAMPLES:
        model = load_model(path)
        assert sum(p.sql is not None for p in model.patterns) >= 3, path
        assert any(len(p.entities) > 1 for p in model.patterns), path
        assert any(p.unique for p in model.patterns), path
        assert any(p.order == "desc" for p in model.patterns), path
        assert any(p.rate is not None for p in model.patterns), path
        assert any(c.op == "between" for p in model.patterns for c in p.where), path
        assert all(p.equality for p in model.patterns), f"{path}: a pattern without equality"
    catalog = load_model(MODELS / "catalog.yaml")
    assert any(c.op == "begins_with" for p in catalog.patterns for c in p.where)


def test_validate_paths_expands_folders() -> None:
    assert not validate_paths([MODELS]).has_errors()
    bag = validate_paths([MODELS, FIXTURES / "bad" / "two_ranges.yaml"])
    assert [d.code for d in bag.errors] == ["two-ranges"]


def test_load_model_raises_with_every_diagnostic() -> None:
    with pytest.raises(ModelError) as info:
        load_model(FIXTURES / "bad" / "many_semantic_errors.yaml")
    codes = sorted(d.code for d in info.value.diagnostics.errors)
    assert codes == [
        "two-ranges",
        "unknown-attribute",
        "unknown-entity",
        "unknown-entity",
        "unknown-entity",
    ]


def test_missing_file_is_a_diagnostic() -> None:
    result = check_file(FIXTURES / "does-not-exist.yaml")
    assert [d.code for d in result.diagnostics] == ["file-not-found"]


def _dump(data: object) -> str:
    yaml = YAML(typ="rt")
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


@pytest.mark.parametrize("path", [DSL_EXAMPLE, *EXAMPLES], ids=lambda p: p.stem)
def test_yaml_spec_yaml_round_trip(path: Path) -> None:
    """spec → YAML (defaults dropped) → spec gives the same spec and the same resolved model."""
    first = check_file(path)
    assert first.spec is not None and first.model is not None
    data = first.spec.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    text = _dump(data)
    again = check_text(text, str(path))  # same path: `source.ddl` resolves alike
    assert again.spec == first.spec
    assert again.model is not None
    # the file hash differs (the text does), nothing else
    assert replace(again.model, sha256=None) == replace(first.model, sha256=None)
    assert ir.to_json(replace(again.model, sha256=None)) == ir.to_json(
        replace(first.model, sha256=None)
    )


@pytest.mark.parametrize("path", [DSL_EXAMPLE, *EXAMPLES], ids=lambda p: p.stem)
def test_ir_json_round_trip(path: Path) -> None:
    model = load_model(path)
    text = ir.to_json(model)
    assert ir.from_json(ir.Model, text) == model
    assert ir.to_json(ir.from_json(ir.Model, text)) == text


def test_shorthand_and_single_key_forms() -> None:
    text = (
        "model: my-app\nentities:\n  Address:\n    key: address_id\n"
        "    attributes:\n      address_id: string\n      lines: list<string>\n"
        "access_patterns:\n  get:\n    entity: Address\n    where: {address_id: '='}\n"
    )
    model = check_text(text, "m.yaml").model
    assert model is not None
    (entity,) = model.entities
    assert entity.key == ("address_id",) and entity.table == "addresses"
    assert str(entity.attributes[1].type) == "list<string>"
    assert model.table.name == "MyApp"


@pytest.mark.parametrize(
    ("entity", "table"),
    [
        ("Variant", "variants"),
        ("Category", "categories"),
        ("Address", "addresses"),
        ("ProductVariant", "product_variants"),
        ("Box", "boxes"),
        ("Day", "days"),
        ("APIKey", "api_keys"),
    ],
)
def test_default_table_is_snake_case_plural(entity: str, table: str) -> None:
    assert table_for_entity(entity) == table


def test_duplicate_keys_are_all_reported_with_both_lines() -> None:
    text = "model: m\nmodel: n\nentities:\n  A: {}\n  A: {}\n  A: {}\n"
    loaded = load_text(text, "d.yaml")
    assert [(d.span.line if d.span else 0, d.code) for d in loaded.diagnostics] == [
        (2, "duplicate-key"),
        (5, "duplicate-key"),
        (6, "duplicate-key"),
    ]
    assert "first defined at line 4" in loaded.diagnostics.items[1].message


def test_block_scalar_offsets_map_to_file_positions() -> None:
    text = "a:\n  sql: >\n    SELECT *\n    FROM t\n  rate: 1\n"
    loaded = load_text(text, "x.yaml")
    value = loaded.data["a"]["sql"]
    assert value == "SELECT * FROM t\n"
    span = loaded.positions.offset(("a", "sql"), value.index("t\n"))
    assert (span.line, span.col) == (4, 10)
    span = loaded.positions.offset(("a", "sql"), 0)
    assert (span.line, span.col) == (3, 5)


def test_spec_is_strict_about_types() -> None:
    with pytest.raises(ValueError):
        ModelSpec.model_validate(
            {
                "model": "m",
                "entities": {"A": {"key": "a", "attributes": {"a": "string"}}},
                "table": {"pitr": "yes"},
            }
        )
