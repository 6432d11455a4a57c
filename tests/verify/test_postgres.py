"""The PostgreSQL oracle: generated DDL, loading, and agreement with the Python oracle."""

from __future__ import annotations

import random
from typing import Any

import psycopg
import pytest

from modeling.core.ir import Model
from modeling.sample import oracle
from modeling.sample import params as param_draw
from modeling.sample.generate import generate
from modeling.verify import postgres as pgv


def test_generated_ddl_has_types_keys_and_foreign_keys(catalog_model: Model) -> None:
    ddl = "\n".join(pgv.create_statements(catalog_model))
    assert 'CREATE TABLE "product_variants"' in ddl
    assert 'PRIMARY KEY ("product_id", "sku")' in ddl
    assert 'FOREIGN KEY ("brand_id") REFERENCES "brands" ("brand_id") DEFERRABLE' in ddl
    assert '"created_at" TIMESTAMPTZ NOT NULL' in ddl
    assert '"expires_at" TIMESTAMPTZ,' in ddl  # optional: nullable
    assert '"tags" TEXT[] NOT NULL' in ddl


def test_select_uses_binds_and_byte_order(catalog_model: Model) -> None:
    p = catalog_model.pattern("products_of_brand_newest_first")
    assert p is not None and p.entities == ("Product",)
    e = catalog_model.entity("Product")
    assert e is not None
    sql, binds = pgv.select_statement(
        catalog_model,
        p,
        e,
        pgv.TableRef(None, "products"),
        {"brand_id": "x'; --", "since": 1, "until": 2},
    )
    assert "x'" not in sql and binds["b0"] == "x'; --"
    assert '"brand_id" COLLATE "C" = %(b0)s' in sql
    assert 'ORDER BY "created_at" DESC' in sql


@pytest.mark.e2e
@pytest.mark.parametrize("fixture", ["catalog_model", "all_types_model"])
def test_postgres_agrees_with_the_python_oracle(
    postgres: Any, fixture: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(fixture)
    data = generate(model)
    rng = random.Random(3)
    non_empty = empty = 0
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        counts = {
            e.name: conn.execute(f'SELECT count(*) FROM "{schema.tables[e.name].name}"').fetchone()[
                0
            ]  # type: ignore[index]
            for e in model.entities
        }
        assert counts == {e.name: len(data.of(e.name)) for e in model.entities}
        for p in model.patterns:
            for params in param_draw.draw(model, p, data, rng, 30):
                expected = oracle.evaluate(model, p, data, params)
                got = pgv.run_pattern(conn, model, schema, p, params)
                for entity, refs in got.items():
                    single = len(p.entities) == 1
                    sub = oracle.Expected(
                        {entity: expected.groups.get(entity, [])},
                        limit=expected.limit if single else None,
                    )
                    assert oracle.compare(sub, refs).ok, (p.name, params, refs)
                if expected.total():
                    non_empty += 1
                else:
                    empty += 1
    assert non_empty > 20 and empty > 3  # both hits and misses were exercised
