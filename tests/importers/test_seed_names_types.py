"""The inflector, name helpers and the PostgreSQL → model type mapping."""

from __future__ import annotations

import pytest

from modeling.core.naming import entity_for_table, singular, snake
from modeling.importers._spec import attribute_name
from modeling.pg.catalog import Catalog, CompositeType, Domain, EnumType
from modeling.pg.types import canonical, to_model_type


@pytest.mark.parametrize(
    ("table", "entity"),
    [
        ("order_items", "OrderItem"),
        ("categories", "Category"),
        ("addresses", "Address"),
        ("people", "Person"),
        ("film", "Film"),
        ("boxes", "Box"),
        ("matches", "Match"),
        ("statuses", "Status"),
        ("status", "Status"),
        ("photos", "Photo"),
        ("news", "News"),
        ("staff", "Staff"),
        ("billing_addresses", "BillingAddress"),
        ("BusinessEntity", "BusinessEntity"),
        ("employee_territories", "EmployeeTerritory"),
        ("children", "Child"),
        ("analyses", "Analysis"),
        ("shelves", "Shelf"),
        ("users", "User"),
        # `2fa` is one word: the old splitter cut it into `2` + `fa` (`T2FaCode`)
        ("2fa_codes", "T2faCode"),
    ],
)
def test_entity_names(table: str, entity: str) -> None:
    assert entity_for_table(table) == entity


def test_singularize_leaves_unknown_singulars_alone() -> None:
    assert singular("class") == "class"
    assert singular("analysis") == "analysis"
    assert singular("data") == "data"


def test_snake_and_attribute_names() -> None:
    assert snake("SalesOrderHeader") == "sales_order_header"
    assert attribute_name("order_id") == "order_id"
    assert attribute_name("OrderID") == "order_id"
    assert attribute_name("My Column") == "my_column"


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("integer", "integer"),
        ("int4", "integer"),
        ("BIGSERIAL", "integer"),
        ("smallint", "integer"),
        ("numeric(10,2)", "decimal"),
        ("numeric(10,0)", "integer"),
        ("double precision", "float"),
        ("real", "float"),
        ("character varying(40)", "string"),
        ("VARCHAR (40)", "string"),
        ("char(3)", "string"),
        ("citext", "string"),
        ("extensions.citext", "string"),
        ("uuid", "uuid"),
        ("boolean", "boolean"),
        ("date", "date"),
        ("timestamp(3) without time zone", "datetime"),
        ("timestamp with time zone", "datetime"),
        ("timestamptz", "datetime"),
        ("time without time zone", "string"),
        ("interval day to second", "string"),
        ("jsonb", "map"),
        ("json", "map"),
        ("bytea", "binary"),
        ("text[]", "list<string>"),
        ("integer[][]", "list<list<integer>>"),
        ("int ARRAY", "list<integer>"),
        ("oid[]", "list<integer>"),
        ("vector(3)", "list<float>"),
        ("pg_catalog.int8", "integer"),
    ],
)
def test_builtin_types(text: str, model: str) -> None:
    assert to_model_type(text, Catalog()).type == model


def test_user_types_resolve_through_the_registry() -> None:
    c = Catalog()
    c.enums[("public", "mood")] = EnumType("public", "mood", ["sad", "ok", "happy"])
    c.domains[("public", "year")] = Domain("public", "year", "integer")
    c.domains[("app", "flag")] = Domain("app", "flag", "boolean", not_null=True)
    c.domains[("app", "email")] = Domain("app", "email", "public.citext")
    c.composites[("public", "money_amt")] = CompositeType("public", "money_amt", [("v", "numeric")])
    assert to_model_type("public.mood", c).enum == ("sad", "ok", "happy")
    assert to_model_type("mood", c).type == "string"
    assert to_model_type("public.year", c).type == "integer"
    flag = to_model_type('app."flag"', c)
    assert (flag.type, flag.not_null) == ("boolean", True)
    assert to_model_type("app.email", c).type == "string"
    assert to_model_type("money_amt", c).type == "map"
    arr = to_model_type("mood[]", c)
    assert arr.type == "list<string>" and "happy" in (arr.note or "")


def test_non_data_and_unknown_types_are_flagged() -> None:
    assert to_model_type("tsvector", Catalog()).non_data
    unknown = to_model_type("cube", Catalog())
    assert unknown.type == "string" and "unknown type" in (unknown.note or "")


def test_canonical_keeps_quoted_case() -> None:
    assert str(canonical('"MySchema"."Weird Type"[]')) == "MySchema.Weird Type[]"
    assert str(canonical("Public.Year")) == "public.year"
