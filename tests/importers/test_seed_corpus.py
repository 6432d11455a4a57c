"""The shared DDL corpus: every file seeds, counts match PostgreSQL's own catalog, the seeded
model loads, and `--from-ddl` equals `--from-db` on the loaded database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from seed_corpus import PG15_REJECTS, PINNED, shared_ddl_dir
from seed_pgload import counts, load, preprocess

from modeling.api import check_text
from modeling.compile import compile_model
from modeling.importers._seed import seed
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.catalog import Catalog
from modeling.pg.db import read_db
from modeling.pg.ddl import read_ddl, read_ddl_file

FILES = sorted(PINNED)


def seeder_counts(c: Catalog) -> tuple[int, int, int, int, int]:
    tables = c.data_tables()
    return (
        len(tables),
        sum(len(t.columns) for t in tables),
        sum(1 for t in tables if t.primary_key),
        sum(len(t.foreign_keys) for t in c.tables.values()),
        len(c.enums),
    )


def test_corpus_is_complete() -> None:
    on_disk = {p.name for p in shared_ddl_dir().glob("*.sql")}
    assert on_disk == set(PINNED), "a new corpus file needs pinned counts"


@pytest.mark.parametrize("name", FILES)
def test_seeder_counts_match_pins(name: str) -> None:
    res = read_ddl_file(shared_ddl_dir() / name)
    assert not res.diagnostics.has_errors()
    assert seeder_counts(res.catalog) == PINNED[name]


@pytest.mark.parametrize("name", FILES)
def test_seeded_model_loads(name: str) -> None:
    res = read_ddl_file(shared_ddl_dir() / name)
    seeded = catalog_to_spec(res.catalog, model_name="corpus")
    text = dump_yaml(seeded.doc)
    assert text.startswith("# yaml-language-server: $schema=../generated/model.schema.json\n")
    result = check_text(text, f"{name}.yaml")
    assert result.ok, [d.format() for d in result.diagnostics]
    assert result.model is not None
    assert len(result.model.entities) == PINNED[name][0]
    # Deterministic: seeding twice gives the same bytes.
    again = dump_yaml(
        catalog_to_spec(read_ddl_file(shared_ddl_dir() / name).catalog, model_name="corpus").doc
    )
    assert again == text


@pytest.mark.parametrize("name", FILES)
def test_postgres_agrees_with_pinned_counts(name: str, postgres: Any) -> None:
    dsn = postgres.create_database()
    rejected = set(load(dsn, shared_ddl_dir() / name))
    assert rejected == PG15_REJECTS.get(name, set())
    assert counts(dsn) == PINNED[name]


def _shape(c: Catalog) -> dict[str, Any]:
    """What both paths must agree on: entities, attributes + types + required + enum, keys,
    references, parents — by SQL table. Entity *names* may differ in case only: DDL keeps the
    source spelling of an unquoted name (`BusinessEntity`), which a live catalog has folded."""
    seeded = catalog_to_spec(c, model_name="cmp")
    table_of = {info.name: f"{s}.{t}" for (s, t), info in seeded.entities.items()}
    out: dict[str, Any] = {}
    for (schema, table), info in seeded.entities.items():
        e = seeded.doc["entities"][info.name]
        attrs = {}
        for a, spec in e["attributes"].items():
            if isinstance(spec, str):
                attrs[a] = (spec, True, None, None)
            else:
                enum = tuple(spec["enum"]) if "enum" in spec else None
                ref = spec.get("references")
                attrs[a] = (spec["type"], spec.get("required", True), enum, table_of.get(ref, ref))
        out[f"{schema}.{table}"] = {
            "name": info.name.lower(),
            "key": list(e["key"]),
            "parent": table_of.get(e.get("parent"), e.get("parent")),
            "attributes": attrs,
        }
    return out


@pytest.mark.parametrize("name", FILES)
def test_from_ddl_equals_from_db(name: str, postgres: Any) -> None:
    path = shared_ddl_dir() / name
    dsn = postgres.create_database()
    load(dsn, path)
    db_catalog, diags = read_db(dsn)
    assert not diags.has_errors(), [d.format() for d in diags]
    # Compare with the DDL PostgreSQL actually ran (the same minimal preprocessing).
    ddl_catalog = read_ddl(preprocess(name, path.read_text(encoding="utf-8")), str(path)).catalog
    ddl_shape, db_shape = _shape(ddl_catalog), _shape(db_catalog)
    assert sorted(ddl_shape) == sorted(db_shape)
    for table in ddl_shape:
        assert ddl_shape[table] == db_shape[table], table


def test_pagila_details() -> None:
    """Spot checks of constructs SOURCES.md lists, on the real file."""
    c = read_ddl_file(shared_ddl_dir() / "pagila-schema.sql").catalog
    payment = c.tables[("public", "payment")]
    assert len(payment.partitions) == 55  # ATTACH PARTITION folded into the parent
    film = c.tables[("public", "film")]
    assert film.columns["length_hours"].generated_kind == "virtual"
    assert film.columns["film_id"].serial
    assert c.enums[("public", "mpaa_rating")].values == ["G", "PG", "PG-13", "R", "NC-17"]
    seeded = catalog_to_spec(c, model_name="pagila")
    attrs = seeded.doc["entities"]["Film"]["attributes"]
    assert "length_hours" not in attrs and "fulltext" not in attrs  # reported, not data
    reported = {(n["table"], n["column"]) for n in seeded.report["non_data_columns"]}
    assert {("public.film", "length_hours"), ("public.film", "fulltext")} <= reported
    assert attrs["release_year"]["type"] == "integer"  # domain public.year → integer
    assert (
        seeded.doc["entities"]["Payment"]["attributes"]["customer_id"]["references"] == "Customer"
    )


def test_adventureworks_schemas_and_domains() -> None:
    c = read_ddl_file(shared_ddl_dir() / "adventureworks-install.sql").catalog
    assert {t.schema for t in c.data_tables()} == {
        "person",
        "humanresources",
        "production",
        "purchasing",
        "sales",
    }
    seeded = catalog_to_spec(c, model_name="aw")
    ents = seeded.doc["entities"]
    assert "BusinessEntity" in ents  # source spelling of an unquoted name
    assert ents["BusinessEntity"]["schema"] == "person"
    # `Flag` domain is boolean NOT NULL
    person = ents["Person"]["attributes"]
    assert person["namestyle"]["type"] == "boolean"
    assert person["namestyle"]["description"].startswith("0 = The data in FirstName")
    assert sum(1 for t in c.data_tables() if t.comment) > 50  # COMMENT ON TABLE applied


def test_identity_forms() -> None:
    c = read_ddl_file(shared_ddl_dir() / "identity-pgdump-mini.sql").catalog
    assert c.tables[("public", "names")].columns["id"].identity == "always"
    c2 = read_ddl_file(shared_ddl_dir() / "chinook-autoinc-ddl.sql").catalog
    assert c2.tables[("public", "album")].columns["album_id"].identity == "always"


def test_northwind_references_without_column_list() -> None:
    c = read_ddl_file(shared_ddl_dir() / "northwind-ddl.sql").catalog
    fk = next(f for f in c.tables[("public", "orders")].foreign_keys if f.ref[1] == "customers")
    assert fk.ref_columns == []
    seeded = catalog_to_spec(c, model_name="nw")
    assert seeded.doc["entities"]["Order"]["attributes"]["customer_id"]["references"] == "Customer"
    assert seeded.doc["entities"]["OrderDetail"]["parent"] == "Order"


FIXTURE_DDL = sorted((Path(__file__).parents[1] / "fixtures" / "ddl").glob("*.sql"))


@pytest.mark.parametrize("path", [*(shared_ddl_dir() / n for n in FILES), *FIXTURE_DDL], ids=str)
def test_init_then_validate_and_compile_with_no_errors(path: Path, tmp_path: Path) -> None:
    """Done-when (issue 14): `model init` on every shared DDL file (and every dump fixture),
    then `model validate` and `model compile`: 0 errors."""
    ddl = tmp_path / path.name  # beside the model, where validate reads source.ddl
    ddl.write_bytes(path.read_bytes())
    out = tmp_path / "m.yaml"
    outcome = seed(ddl=ddl, output=out)
    assert outcome.yaml is not None and not outcome.diagnostics.has_errors()
    result = check_text(outcome.yaml, str(out))
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    layout, diags = compile_model(result.model)
    assert layout is not None and not diags.errors, [d.format() for d in diags.errors]
