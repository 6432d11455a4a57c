"""The one naming rule (modeling.core.naming): inflection, PascalCase and snake_case, and every
former copy (DDL importer, Workbench importer, Python emitters, spec defaults) agreeing with it."""

from __future__ import annotations

import json

import pytest

from modeling.api import check_text
from modeling.compile.names import type_prefix
from modeling.core import naming
from modeling.core.naming import (
    entity_for_table,
    keep_entity_name,
    pascal,
    plural,
    singular,
    snake,
    table_for_entity,
    words,
)
from modeling.emit import _python
from modeling.importers._spec import catalog_to_spec
from modeling.importers.workbench import import_text
from modeling.pg.ddl import read_ddl
from modeling.spec import checks

# --------------------------------------------------------------------------- singular / plural


@pytest.mark.parametrize(
    ("plural_form", "singular_form"),
    [
        ("Statuses", "Status"),  # the Workbench importer said "Statuse"
        ("Analyses", "Analysis"),
        ("Categories", "Category"),
        ("Addresses", "Address"),
        ("Status", "Status"),
        ("Address", "Address"),
        ("news", "news"),
        ("series", "series"),
        ("species", "species"),
        ("data", "data"),
        # irregulars the DDL importer handled before the merge
        ("people", "person"),
        ("men", "man"),
        ("children", "child"),
        ("teeth", "tooth"),
        ("mice", "mouse"),
        ("geese", "goose"),
        ("oxen", "ox"),
        ("indices", "index"),
        ("matrices", "matrix"),
        ("criteria", "criterion"),
        ("phenomena", "phenomenon"),
        ("crises", "crisis"),
        ("leaves", "leaf"),
        ("wives", "wife"),
        ("shelves", "shelf"),
        ("quizzes", "quiz"),
        ("movies", "movie"),
        ("caches", "cache"),
        ("databases", "database"),
        ("warehouses", "warehouse"),
        ("lenses", "lens"),
        ("aliases", "alias"),
        ("buses", "bus"),
        # compounds and regular shapes
        ("salespeople", "salesperson"),
        ("boxes", "box"),
        ("matches", "match"),
        ("users", "user"),
        ("ids", "id"),
        ("class", "class"),
        ("menus", "menu"),
        ("campuses", "campus"),
        ("archives", "archive"),  # the old `ves` → `f` fallback said "archif"
        ("objectives", "objective"),
    ],
)
def test_singular(plural_form: str, singular_form: str) -> None:
    assert singular(plural_form) == singular_form


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("STATUSES", "STATUS"),
        ("CATEGORIES", "CATEGORY"),
        ("PEOPLE", "PERSON"),
        ("iPhones", "iPhone"),
    ],
)
def test_singular_keeps_the_words_case(word: str, expected: str) -> None:
    assert singular(word) == expected


ROUND_TRIP_WORDS = [
    "status", "analysis", "category", "address", "person", "child", "man", "woman", "tooth",
    "foot", "mouse", "goose", "ox", "matrix", "vertex", "criterion", "phenomenon", "crisis",
    "thesis", "diagnosis", "quiz", "leaf", "life", "knife", "half", "shelf", "wolf", "movie",
    "cookie", "cache", "database", "response", "house", "warehouse", "invoice", "price",
    "device", "service", "case", "expense", "lens", "alias", "bus", "campus", "virus", "gas",
    "class", "process", "business", "box", "match", "dish", "index", "day", "key", "city",
    "country", "company", "order", "order_item", "user", "product", "variant", "inventory",
    "history", "photo", "menu", "archive", "news", "series", "species", "data", "metadata",
    "staff", "settings", "fish", "sheep",
]  # fmt: skip


@pytest.mark.parametrize("word", ROUND_TRIP_WORDS)
def test_singular_of_plural_is_the_word(word: str) -> None:
    assert singular(plural(word)) == word
    assert singular(plural(word.capitalize())) == word.capitalize()
    assert singular(plural(word.upper())) == word.upper()


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("status", "statuses"),
        ("analysis", "analyses"),  # snake_plural said "analysises"
        ("category", "categories"),
        ("day", "days"),
        ("box", "boxes"),
        ("index", "indexes"),
        ("person", "people"),
        ("child", "children"),  # snake_plural said "childs"
        ("news", "news"),  # snake_plural said "newses"
        ("series", "series"),
        ("leaf", "leaves"),
        ("quiz", "quizzes"),
    ],
)
def test_plural(word: str, expected: str) -> None:
    assert plural(word) == expected


# --------------------------------------------------------------------------- pascal / snake


def test_words() -> None:
    assert words("order_items") == ["order", "items"]
    assert words("BusinessEntity") == ["Business", "Entity"]
    assert words("HTTPLog") == ["HTTP", "Log"]
    assert words("2fa_codes") == ["2fa", "codes"]  # a digit does not end a word
    assert words("GSI1PK") == ["GSI1", "PK"]
    assert words("order-service") == ["order", "service"]
    assert words("__") == []


@pytest.mark.parametrize(
    ("name", "pascal_name", "snake_name"),
    [
        ("order_item", "OrderItem", "order_item"),
        ("OrderItem", "OrderItem", "order_item"),
        ("order-service", "OrderService", "order_service"),
        ("HTTPLog", "HTTPLog", "http_log"),
        ("APIKey", "APIKey", "api_key"),
        ("AddressLine2", "AddressLine2", "address_line2"),
        ("My Column", "MyColumn", "my_column"),
        ("2fa_codes", "T2faCodes", "t2fa_codes"),
        ("", "X", "x"),
        ("--", "X", "x"),
    ],
)
def test_pascal_and_snake(name: str, pascal_name: str, snake_name: str) -> None:
    assert pascal(name) == pascal_name
    assert snake(name) == snake_name


NAMES = ["2fa_codes", "order_items", "HTTPLog", "9", "_x", "a-b c", "ÄÖ", "x2y", "Order_line", ""]


@pytest.mark.parametrize("name", NAMES)
def test_pascal_and_snake_are_identifiers_and_stable(name: str) -> None:
    for made in (pascal(name), snake(name), keep_entity_name(name), entity_for_table(name)):
        assert made.isidentifier() and made[0].isalpha(), made
    assert pascal(pascal(name)) == pascal(name)
    assert snake(snake(name)) == snake(name)
    assert keep_entity_name(keep_entity_name(name)) == keep_entity_name(name)


def test_acronyms_keep_their_case_so_names_stay_apart() -> None:
    # emit/_python's old pascal_case lower-cased words: APIKey and ApiKey both became ApiKey
    assert pascal("APIKey") != pascal("ApiKey")


def test_keep_entity_name_keeps_a_valid_name() -> None:
    assert keep_entity_name("Order_line") == "Order_line"
    assert keep_entity_name("hotel") == "Hotel"
    assert keep_entity_name("order line") == "OrderLine"
    assert keep_entity_name("2fa_codes") == pascal("2fa_codes")


@pytest.mark.parametrize(
    ("entity", "table"),
    [
        ("Variant", "variants"),
        ("OrderItem", "order_items"),
        ("Person", "people"),
        ("Analysis", "analyses"),
        ("News", "news"),
    ],
)
def test_table_for_entity_is_the_inverse_of_entity_for_table(entity: str, table: str) -> None:
    assert table_for_entity(entity) == table
    assert entity_for_table(table) == entity


def test_table_for_entity_splits_acronyms() -> None:
    assert table_for_entity("APIKey") == "api_keys"


# --------------------------------------------------------------------------- one rule everywhere


def test_former_copies_are_gone() -> None:
    """The old names were aliases while the copies were merged; nothing defines them now."""
    assert not hasattr(_python, "pascal_case") and not hasattr(_python, "snake_case")
    assert not hasattr(naming, "pascal_case") and not hasattr(checks, "snake_plural")


def _workbench(table: str, pk: str, facet: str | None = None) -> str:
    data = {
        "ModelName": "m",
        "DataModel": [
            {
                "TableName": table,
                "KeyAttributes": {"PartitionKey": {"AttributeName": "PK", "AttributeType": "S"}},
                "NonKeyAttributes": [{"AttributeName": "name", "AttributeType": "S"}],
                "TableData": [] if facet else [{"PK": {"S": pk}, "name": {"S": "a"}}],
            }
        ],
    }
    if facet:
        data["DataModel"][0]["TableFacets"] = [  # type: ignore[index]
            {
                "FacetName": facet,
                "KeyAttributeAlias": {"PartitionKeyAlias": "PK"},
                "NonKeyAttributes": ["name"],
                "TableData": [{"PK": {"S": pk}, "name": {"S": "a"}}],
            }
        ]
    return json.dumps(data)


def test_2fa_codes_gets_one_name_everywhere() -> None:
    expected = "T2faCodes"
    assert pascal("2fa_codes") == expected
    for text in (_workbench("2fa_codes", "a1"), _workbench("t", "CODE#1", facet="2fa_codes")):
        result = import_text(text, "wb.json")
        assert result.ok, [d.format() for d in result.diagnostics]
        (plan,) = result.plans
        assert [e.name for e in plan.entities] == [expected]
    # the DDL importer singularises the table's last word, with the same rule
    catalog = read_ddl('CREATE TABLE "2fa_codes" (id int PRIMARY KEY);', "t.sql").catalog
    seeded = catalog_to_spec(catalog, model_name="m")
    assert list(seeded.doc["entities"]) == [pascal("2fa_code")] == ["T2faCode"]


def test_workbench_prefix_statuses_is_status() -> None:
    """Sample keys `STATUSES#...` name the entity `Status` and its slot `status_id` (the
    Workbench importer's own `singular` gave `Statuse` / `statuse_id`)."""
    text = _workbench("t", "STATUSES#1")
    data = json.loads(text)
    data["DataModel"][0]["TableData"].append({"PK": {"S": "STATUSES#2"}, "name": {"S": "b"}})
    result = import_text(json.dumps(data), "wb.json")
    assert result.ok, [d.format() for d in result.diagnostics]
    (plan,) = result.plans
    (entity,) = plan.entities
    assert entity.name == "Status"
    assert entity.keys[0].pk.text == "STATUSES#{status_id}"


def test_default_table_of_an_entity_uses_the_inflector() -> None:
    text = "model: shop\nentities:\n  Analysis:\n    key: [id]\n    attributes: {id: string}\n"
    result = check_text(text, "m.yaml")
    assert result.model is not None
    assert result.model.entities[0].table == "analyses"  # was "analysises"


@pytest.mark.parametrize(
    "entity", ["OrderItem", "HTTPLog", "APIKey", "Order_line", "a-B", "X2y", "LineItem2Go", "v"]
)
def test_compile_type_prefix_agrees_with_snake(entity: str) -> None:
    """compile/names.type_prefix is the upper-cased `snake` of the entity name."""
    assert type_prefix(entity) == snake(entity).upper()
