"""Number bounds carried from DDL and the catalog into the model (issue 14, item 4):
`numeric(p,s)` → `precision`/`scale`, integer types and `numeric(p,0)` → `min`/`max`, and the
compiler checks them (38 significant digits; the key codec's integer range)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from modeling.api import check_text
from modeling.compile import compile_model
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.catalog import Catalog
from modeling.pg.db import read_db
from modeling.pg.ddl import read_ddl
from modeling.pg.types import to_model_type

DDL = """
CREATE DOMAIN money2 AS numeric(12,2);
CREATE TABLE ledger (
    entry_no numeric(25,0) PRIMARY KEY,
    small smallint NOT NULL,
    medium integer NOT NULL,
    large bigint NOT NULL,
    amount numeric(10,2) NOT NULL,
    fee money2,
    whole numeric(9,0),
    huge numeric(50,2),
    loose numeric
);
"""


@pytest.mark.parametrize(
    ("pg", "expected"),
    [
        ("numeric(10,2)", ("decimal", 10, 2, None, None)),
        ("decimal(7)", ("decimal", 7, 0, None, None)),
        ("numeric", ("decimal", None, None, None, None)),
        ("numeric(9,0)", ("integer", None, None, -(10**9 - 1), 10**9 - 1)),
        ("smallint", ("integer", None, None, -32768, 32767)),
        ("int4", ("integer", None, None, -(2**31), 2**31 - 1)),
        ("bigserial", ("integer", None, None, -(2**63), 2**63 - 1)),
        ("money2", ("decimal", 12, 2, None, None)),
    ],
)
def test_model_type_bounds(pg: str, expected: tuple[Any, ...]) -> None:
    cat = read_ddl(DDL, "ledger.sql").catalog
    mt = to_model_type(pg, cat)
    assert (mt.type, mt.precision, mt.scale, mt.min, mt.max) == expected


def _seed(catalog: Catalog) -> dict[str, Any]:
    doc = catalog_to_spec(catalog, model_name="ledger").doc
    return dict(doc["entities"]["Ledger"]["attributes"])


def test_seeded_bounds_validate_and_feed_the_compiler() -> None:
    seeded = catalog_to_spec(read_ddl(DDL, "ledger.sql").catalog, model_name="ledger")
    attrs = seeded.doc["entities"]["Ledger"]["attributes"]
    assert dict(attrs["amount"]) == {"type": "decimal", "precision": 10, "scale": 2}
    assert attrs["small"]["min"] == -32768 and attrs["small"]["max"] == 32767
    assert attrs["entry_no"]["max"] == 10**25 - 1
    assert attrs["loose"] == {"type": "decimal", "required": False}
    result = check_text(dump_yaml(seeded.doc), "ledger.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    _, diags = compile_model(result.model)
    found = {(d.code, d.subject) for d in diags.items}
    # numeric(25,0) as a key slot: beyond the codec's 20-digit integers
    assert ("key-number-out-of-range", "Ledger") in found
    # numeric(50,2): more digits than a DynamoDB number keeps
    huge = [d.message for d in diags.items if d.code == "number-too-precise"]
    assert huge == [
        "Ledger.huge holds up to 50 significant digits; a DynamoDB number keeps 38, so such "
        "values cannot be stored as numbers"
    ]


def test_bigint_key_fits_the_codec() -> None:
    ddl = "CREATE TABLE t (id bigint PRIMARY KEY, v int);"
    result = check_text(
        dump_yaml(catalog_to_spec(read_ddl(ddl, "t.sql").catalog, model_name="t").doc), "t.yaml"
    )
    assert result.ok and result.model is not None
    codes = {d.code for d in compile_model(result.model)[1].items}
    assert not codes & {"key-number-out-of-range", "number-too-precise"}


def test_catalog_gives_the_same_bounds(postgres: Any) -> None:
    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(DDL.encode())
    db_attrs = _seed(read_db(dsn)[0])
    ddl_attrs = _seed(read_ddl(DDL, "ledger.sql").catalog)
    assert db_attrs == ddl_attrs


@pytest.mark.parametrize(
    ("columns", "too_large"),
    [
        # 2 x varchar(60000) at 4 bytes a character: 480,000 bytes > 400 KB
        ("a varchar(60000), b varchar(60000)", True),
        ("a varchar(40000), b varchar(10000), n numeric(38,2), m bigint", False),
        ("a varchar(60000), b text", False),  # unbounded: no claim either way
    ],
)
def test_item_size_uses_the_bounds(columns: str, too_large: bool) -> None:
    ddl = f"CREATE TABLE doc (id bigint PRIMARY KEY, {columns});"
    seeded = catalog_to_spec(read_ddl(ddl, "d.sql").catalog, model_name="docs")
    result = check_text(dump_yaml(seeded.doc), "d.yaml")
    assert result.ok and result.model is not None
    found = [
        d.message for d in compile_model(result.model)[1].items if d.code == "item-may-be-too-large"
    ]
    assert bool(found) == too_large, found
    if too_large:
        assert "one Doc item can be 48" in found[0] and "DynamoDB allows 409600" in found[0]
