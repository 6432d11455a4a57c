"""Constructs of real dumps not in this repo that broke `model init` (issue 14, item 1),
reproduced in tests/fixtures/ddl/ (hand-written; the header of each file names the dump that
exposed the bug)."""

from __future__ import annotations

from pathlib import Path

from modeling.importers._spec import catalog_to_spec
from modeling.pg.catalog import Catalog
from modeling.pg.ddl import read_ddl_file
from modeling.pg.types import to_model_type

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ddl"


def test_clean_preamble_partitions_and_domains() -> None:
    res = read_ddl_file(FIXTURES / "partitions_domains_clean.sql")
    # `ALTER TABLE IF EXISTS` before the table exists is a no-op, not a problem
    assert not [d.format() for d in res.diagnostics if d.code == "SEED001"]
    assert not [s for s in res.catalog.skipped if s.problem]
    # `DEFAULT NULL::timestamp without time zone` no longer drops the table
    assert {t.name for t in res.catalog.data_tables()} == {"customers", "invoices", "events"}
    invoices = res.catalog.tables[("public", "invoices")]
    assert invoices.columns["paid_at"].default == "NULL::timestamp without time zone"
    assert invoices.columns["note"].default == "NULL::character varying"
    seeded = catalog_to_spec(res.catalog, model_name="pd")
    ents = seeded.doc["entities"]
    assert set(ents) == {"Customer", "Invoice", "Event"}
    inv = ents["Invoice"]["attributes"]
    assert inv["currency"] == {"type": "string", "max_length": 3}  # domain NOT NULL: required
    assert dict(inv["tax_rate"]) == {
        "type": "decimal",
        "required": False,
        "precision": 7,
        "scale": 4,
    }
    assert ents["Customer"]["attributes"]["email"]["max_length"] == 254
    # a foreign key declared on a sub-partition (events → events_eu → events_eu_0)
    assert ents["Event"]["attributes"]["customer_id"]["references"] == "Customer"
    assert seeded.report["partitions_folded"] == 5


def test_postgis_types_are_strings_with_a_note() -> None:
    """openstreetmap-website's structure.sql: `public.geometry(Polygon,4326)` was an
    unknown type (SEED021); PostGIS values are kept as their text form, said in a note."""
    for text in ("public.geometry(Polygon,4326)", "geography", "geometry"):
        mt = to_model_type(text, Catalog())
        assert mt.type == "string" and mt.note is not None and "PostGIS" in mt.note
        assert "unknown" not in mt.note


def test_keys_a_dynamodb_key_cannot_hold_and_renames() -> None:
    """PostgREST's fixture schema (see the fixture's header): a guessed key is a column a key
    can hold, an unkeyable table is a note, and renames of constraints and tables are read."""
    res = read_ddl_file(FIXTURES / "keys_and_renames.sql")
    assert not [s for s in res.catalog.skipped if s.problem]  # RENAME CONSTRAINT is read
    projects = res.catalog.tables[("public", "projects")]
    assert [fk.name for fk in projects.foreign_keys] == ["client"]
    assert projects.foreign_keys[0].ref == ("public", "customers")  # followed the table rename
    assert ("public", "clients") not in res.catalog.tables
    seeded = catalog_to_spec(res.catalog, model_name="kr")
    ents = seeded.doc["entities"]
    assert "JsonTable" not in ents  # json only: nothing a key can hold
    assert any(d["table"] == "public.json_table" for d in seeded.report["tables_not_seeded"])
    assert list(ents["FavNumber"]["key"]) == ["person"]  # not the composite
    assert list(ents["Document"]["key"]) == ["code"]  # the unique constraint, not the jsonb
    assert list(ents["Note"]["key"]) == ["title"]  # neither jsonb nor text[]
    assert ents["Project"]["attributes"]["client_id"]["references"] == "Customer"
    # no pattern binds the jsonb primary keys
    for p in seeded.doc["access_patterns"].values():
        assert not set(p["where"]) & {"doc", "body"}, p
    codes = [d.code for d in seeded.diagnostics]
    assert codes.count("SEED025") == 1 and codes.count("SEED020") == 2
    # a created zero-column table is a table without columns (a note), never "never created"
    assert not [d for d in res.diagnostics if d.code == "SEED002"]
    assert {"table": "public.roles", "line": 30, "reason": "no columns"} in seeded.report[
        "tables_not_seeded"
    ]
    assert ents["Grid"]["attributes"]["cells"] == {"type": "list<list<integer>>", "required": False}
