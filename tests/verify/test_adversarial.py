"""The adversarial cases of the sample generator (issue 13, item 2), checked on the rows.

Each test reads the generated rows and asserts the case is there for the attribute the model
says it should be in; none of them uses the generator's own classification to decide."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core.ir import Layout, Model
from modeling.sample.codec import key_literals, to_item
from modeling.sample.fit import column_bounds, fit_to_source
from modeling.sample.generate import SampleOptions, generate, significant_digits
from modeling.sample.oracle import sort_attribute
from modeling.sample.rows import Dataset
from modeling.verify.coverage import ties_possible
from modeling.verify.runner import keyed_attributes

ROOT = Path(__file__).resolve().parents[2]
NULL_ORDERING = ROOT / "tests" / "fixtures" / "models" / "null_ordering.yaml"
MODELS = sorted((ROOT / "models").glob("*.yaml"))


def _compiled(path: Path) -> tuple[Model, Layout]:
    model = load_model(path)
    layout, _ = compile_model(model)
    assert layout is not None
    return model, layout


def _sample(model: Model, layout: Layout, **kw: Any) -> Dataset:
    literals = tuple(t for t in key_literals(layout) if t.strip("#"))
    return generate(model, SampleOptions(**kw), keyed_attributes(layout), literals=literals)


def _tied_partitions(model: Model, data: Dataset, pattern_name: str) -> int:
    """Partitions (rows equal on the pattern's `=` attributes) holding two rows with the same
    non-NULL ordering value."""
    pattern = model.pattern(pattern_name)
    assert pattern is not None
    by = sort_attribute(pattern)
    assert by is not None
    ties = 0
    for name in pattern.entities:
        groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        for r in data.of(name):
            groups[tuple(r.get(c.attribute) for c in pattern.equality)].append(r.get(by))
        for values in groups.values():
            present = [v for v in values if v is not None]
            ties += len(present) > len(set(present))
    return ties


def test_ties_on_non_null_values_in_every_ordering_attribute() -> None:
    # before: no customer ever had two orders on one (non-NULL) date: "no ties seen"
    model, layout = _compiled(NULL_ORDERING)
    data = _sample(model, layout)
    for pattern in model.patterns:
        assert _tied_partitions(model, data, pattern.name) >= 1, pattern.name


@pytest.mark.parametrize("path", MODELS, ids=[m.stem for m in MODELS])
def test_every_example_model_gets_ties_where_its_patterns_order(path: Path) -> None:
    model, layout = _compiled(path)
    data = _sample(model, layout)
    for pattern in model.patterns:
        by = sort_attribute(pattern)
        if by is None or pattern.unique:
            continue
        if not ties_possible(model, pattern, by):
            continue  # the order completes a key or unique set the pattern binds: no tie
        assert _tied_partitions(model, data, pattern.name) >= 1, pattern.name


def test_boundary_values_of_every_ordered_type(all_types_model: Model) -> None:
    data = generate(all_types_model, SampleOptions(seed=0))
    values = defaultdict(set)
    for r in data.of("Thing"):
        for k, v in r.items():
            if v is not None and not isinstance(v, dict | list | frozenset):
                values[k].add(v)
    extremes = {-(2**63), 2**63 - 1}
    assert extremes & values["thing_id"], values["thing_id"]  # a key slot
    assert extremes & values["v_integer"] and {0, -1} & values["v_integer"]
    decimals = values["v_decimal"]
    assert any(significant_digits(d) == 38 for d in decimals), decimals
    assert any(d < 0 for d in decimals) and Decimal(0) in decimals
    assert {date(1, 1, 1), date(9999, 12, 31)} & values["v_date"]
    instants = {v.astimezone(UTC) for v in values["v_datetime"]}
    assert {
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    } & instants
    assert {uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)} & values["v_uuid"]
    assert {b"\x00", b"\xff" * 8} & values["v_binary"]
    assert any(abs(f) >= 1e125 for f in values["v_float"])


def test_strings_hold_separators_literals_unicode_and_astral() -> None:
    model, layout = _compiled(ROOT / "models" / "catalog.yaml")
    keyed = keyed_attributes(layout)
    literals = [t for t in key_literals(layout) if t.strip("#")]
    data = _sample(model, layout)
    for e in model.entities:
        for a in e.attributes:
            if a.type.kind != "string" or a.enum or a.references:
                continue
            values = [v for r in data.of(e.name) if isinstance(v := r.get(a.name), str)]
            if (e.name, a.name) not in keyed or len(values) < 12:
                continue
            where = f"{e.name}.{a.name}"
            assert any("#" in v for v in values), where
            assert any(lit in v for v in values for lit in literals), where
            assert any(any(0x7F < ord(c) <= 0xFFFF for c in v) for v in values), where
            assert any(any(ord(c) > 0xFFFF for c in v) for v in values), where
            assert any(v != w and w.startswith(v) for v in values for w in values), (
                f"{where}: no two values share a prefix"
            )


def test_key_slots_are_never_empty_but_other_strings_may_be() -> None:
    model, layout = _compiled(ROOT / "models" / "catalog.yaml")
    keyed = keyed_attributes(layout)
    data = _sample(model, layout)
    empty_outside_keys = 0
    for e in model.entities:
        for r in data.of(e.name):
            for a in e.attributes:
                if r.get(a.name) == "":
                    assert (e.name, a.name) not in keyed and a.name not in e.key, (e.name, a.name)
                    empty_outside_keys += 1
            to_item(model, layout, e, r)  # every row is a valid item (non-empty keys, limits)
    assert empty_outside_keys > 0


def test_collation_sensitive_strings_share_a_partition_of_a_text_ordering() -> None:
    model, layout = _compiled(ROOT / "models" / "catalog.yaml")
    pattern = model.pattern("active_products_of_category_by_title")
    assert pattern is not None and sort_attribute(pattern) == "title"
    data = _sample(model, layout)
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for r in data.of("Product"):
        if r.get("title") is not None:
            groups[tuple(r.get(c.attribute) for c in pattern.equality)].append(r["title"])

    def inverted(titles: list[str]) -> bool:
        # byte order puts an upper-case letter before a lower-case one that an en_US-like
        # collation sorts first, or an accented letter after plain ones
        by_bytes = sorted(titles)
        by_words = sorted(titles, key=lambda t: (t.casefold().replace("é", "e"), t))
        return by_bytes != by_words

    assert any(inverted(titles) for titles in groups.values())


def test_keys_stay_unique_and_references_resolve() -> None:
    for path in MODELS:
        model, layout = _compiled(path)
        data = _sample(model, layout)
        for e in model.entities:
            keys = [tuple(r[k] for k in e.key) for r in data.of(e.name)]
            assert len(keys) == len(set(keys)), (path.stem, e.name)
        for e in model.entities:
            for a in e.attributes:
                target = model.entity(a.references) if a.references else None
                if target is None or len(target.key) != 1 or target.name == e.name:
                    continue
                known = {r[target.key[0]] for r in data.of(target.name)}
                for r in data.of(e.name):
                    assert r.get(a.name) is None or r[a.name] in known, (e.name, a.name)


def test_declared_column_ranges_give_the_boundaries(tmp_path: Path) -> None:
    ddl = "CREATE TABLE customers (customer_id smallint PRIMARY KEY, name varchar(40));\n"
    ddl += "CREATE TABLE orders (order_id integer PRIMARY KEY, customer_id smallint, "
    ddl += "order_date date, total numeric(6,2));\n"
    model, layout = _compiled(NULL_ORDERING)
    bounds = column_bounds(model, ddl)
    data = generate(model, SampleOptions(), keyed_attributes(layout), bounds=bounds)
    ids = {r["customer_id"] for r in data.of("Customer")}
    # the ends of smallint, not of bigint (values outside it are the DDL fit's to remap)
    assert {-(2**15), 2**15 - 1} & ids and not {-(2**63), 2**63 - 1} & ids
    totals = {r["total"] for r in data.of("Order")}
    assert {Decimal("9999.99"), Decimal("-9999.99")} & totals
    assert not any(significant_digits(t) == 38 for t in totals)


def test_deterministic_and_off_for_readable_samples(catalog_model: Model) -> None:
    a = generate(catalog_model, SampleOptions(seed=3))
    b = generate(catalog_model, SampleOptions(seed=3))
    plain = generate(catalog_model, SampleOptions(seed=3, adversarial=False))
    assert a.rows == b.rows and a.rows != plain.rows
    extremes = {-(2**63), 2**63 - 1, date(1, 1, 1), date(9999, 12, 31)}
    assert not any(
        v in extremes
        for rows in plain.rows.values()
        for r in rows
        for v in r.values()
        if not isinstance(v, dict | list | frozenset)
    )


def test_boundary_floats_fit_a_real_column(tmp_path: Path) -> None:
    # northwind's `discount real`: 9.99e125 overflowed it and the whole source DDL was dropped
    path = tmp_path / "floats.yaml"
    path.write_text(NULL_ORDERING.read_text().replace("total: decimal", "total: float"))
    model = load_model(path)
    ddl = "CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id bigint, "
    ddl += "order_date date, total real);\n"
    data = generate(model, SampleOptions())
    assert any(abs(r["total"]) > 3.4e38 for r in data.of("Order"))  # DynamoDB's extremes
    notes = fit_to_source(model, data, ddl)
    assert any("real column" in n for n in notes), notes
    assert all(abs(r["total"]) <= 3.4e38 for r in data.of("Order"))
    assert any(abs(r["total"]) == 2.0**100 for r in data.of("Order"))  # still an extreme
