"""`source.version` and `entities.<E>.version`: how the loader resolves the version attribute
per entity (entity > source > xmin), and what it rejects, located at the offending value.

The exact texts of the rejections live in the malformed-model corpus
(`tests/fixtures/models/bad/version_*.yaml` / `.expected`); here the positions are derived from
the YAML text itself, so a drift in either place shows.
"""

from __future__ import annotations

import json

import pytest

from modeling.api import check_text
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic
from modeling.spec.schema import model_schema

BASE = """\
model: shop
source:
  dialect: postgres
{source_version}entities:
  Customer:
    key: [customer_id]
    attributes:
      customer_id: string
      updated_at: datetime
  Order:
    key: [order_id]
{order_version}    attributes:
      order_id: string
      revision: integer
      updated_at: datetime
  Tag:
    key: [tag_id]
{tag_version}    attributes:
      tag_id: string
      label: string
access_patterns:
  get_order:
    entity: Order
    where: {{order_id: "="}}
"""


def _text(source: str | None = None, order: str | None = None, tag: str | None = None) -> str:
    return BASE.format(
        source_version=f"  version: {source}\n" if source else "",
        order_version=f"    version: {order}\n" if order else "",
        tag_version=f"    version: {tag}\n" if tag else "",
    )


def _versions(text: str) -> dict[str, str | None]:
    result = check_text(text, "shop.yaml")
    assert result.model is not None, [d.format() for d in result.diagnostics]
    return {e.name: e.version for e in result.model.entities}


def _errors(text: str) -> list[Diagnostic]:
    result = check_text(text, "shop.yaml")
    assert result.model is None
    return [d for d in result.diagnostics.sorted() if d.severity == "error"]


def _position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in `text`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in the text")


def _value_position(text: str, key_and_value: str) -> tuple[int, int]:
    """Where the value of the first `key: value` line starts (what the loader points at)."""
    line, col = _position(text, key_and_value)
    return line, col + key_and_value.index(":") + 2


@pytest.mark.parametrize(
    ("source", "order", "tag", "expected"),
    [
        (None, None, None, {"Customer": None, "Order": None, "Tag": None}),
        # the source default reaches every entity that has the attribute; Tag lacks it: xmin
        ("updated_at", None, None, {"Customer": "updated_at", "Order": "updated_at", "Tag": None}),
        # an entity's own setting wins over the source default
        (
            "updated_at",
            "revision",
            None,
            {"Customer": "updated_at", "Order": "revision", "Tag": None},
        ),
        # `version: xmin` opts one entity out of the default
        ("updated_at", "xmin", None, {"Customer": "updated_at", "Order": None, "Tag": None}),
        (None, "revision", None, {"Customer": None, "Order": "revision", "Tag": None}),
        ("xmin", "revision", "xmin", {"Customer": None, "Order": "revision", "Tag": None}),
    ],
)
def test_version_resolves_entity_then_source_then_xmin(
    source: str | None, order: str | None, tag: str | None, expected: dict[str, str | None]
) -> None:
    assert _versions(_text(source, order, tag)) == expected


def test_the_resolved_version_survives_the_ir_json_round_trip() -> None:
    result = check_text(_text("updated_at", "revision"), "shop.yaml")
    assert result.model is not None
    assert result.model.source == ir.Source("postgres", None, "updated_at")
    again = ir.from_json(ir.Model, ir.to_json(result.model))
    assert again == result.model
    assert json.loads(ir.to_json(result.model))["entities"][1]["version"] == "revision"


def test_an_unknown_entity_version_is_located_at_its_value_with_a_did_you_mean() -> None:
    text = _text(order="revison")
    (error,) = _errors(text)
    assert error.code == "version-attribute"
    assert error.span is not None
    assert (error.span.line, error.span.col) == _value_position(text, "version: revison")
    assert error.message == "version attribute 'revison' is not an attribute of entity 'Order'"
    assert error.hint == "did you mean 'revision'?"


def test_a_source_version_no_entity_has_is_an_error_but_one_entity_lacking_it_is_not() -> None:
    text = _text(source="updatd_at")
    (error,) = _errors(text)
    assert error.code == "version-attribute"
    assert error.span is not None
    assert (error.span.line, error.span.col) == _value_position(text, "version: updatd_at")
    assert error.message == "source.version 'updatd_at' is not an attribute of any entity"
    assert error.hint == "did you mean 'updated_at'?"
    # Tag lacks `updated_at`: no diagnostic at all, it silently keeps xmin
    result = check_text(_text(source="updated_at"), "shop.yaml")
    assert list(result.diagnostics) == []


@pytest.mark.parametrize(
    ("declaration", "code", "fragment"),
    [
        ("label: string", "version-type", "has type string"),
        ("label: decimal", "version-type", "has type decimal"),
        ("label: date", "version-type", "has type date"),
        ("label: set<integer>", "version-type", "has type set<integer>"),
        ("label: {type: datetime, required: false}", "optional-version", "`required: false`"),
        ("label: {type: integer, required: false}", "optional-version", "`required: false`"),
    ],
)
def test_an_unusable_version_attribute_is_located_at_the_version_value(
    declaration: str, code: str, fragment: str
) -> None:
    text = _text(tag="label").replace("label: string", declaration)
    (error,) = _errors(text)
    assert error.code == code
    assert fragment in error.message and "'Tag'" in error.message
    assert error.span is not None
    assert (error.span.line, error.span.col) == _value_position(text, "version: label")
    assert error.hint is not None and "writes" in error.hint


@pytest.mark.parametrize("declaration", ["label: integer", "label: datetime"])
def test_integer_and_datetime_versions_are_accepted(declaration: str) -> None:
    text = _text(tag="label").replace("label: string", declaration)
    assert _versions(text)["Tag"] == "label"


def test_an_unusable_inherited_version_points_at_source_version_and_names_the_entity() -> None:
    text = _text(source="updated_at").replace(
        "      updated_at: datetime\n  Order:", "      updated_at: string\n  Order:"
    )
    (error,) = _errors(text)
    assert error.code == "version-type"
    assert error.span is not None
    assert (error.span.line, error.span.col) == _value_position(text, "version: updated_at")
    assert error.message == (
        "source.version 'updated_at' has type string on entity 'Customer'; a version is an "
        "integer or a datetime"
    )
    assert error.hint is not None and "`version: xmin`" in error.hint


def test_a_non_string_version_is_a_structural_error_at_the_value() -> None:
    text = _text(order="5")
    errors = _errors(text)
    assert [e.code for e in errors] == ["wrong-type"]
    assert errors[0].span is not None
    assert (errors[0].span.line, errors[0].span.col) == _value_position(text, "version: 5")


def test_the_schema_offers_version_on_source_and_entities() -> None:
    defs = model_schema()["$defs"]
    for block in ("SourceSpec", "EntitySpec"):
        prop = defs[block]["properties"]["version"]
        assert prop["type"] == "string"
        assert "xmin" in prop["description"]
