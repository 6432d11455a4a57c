"""GSIs keyed on the items' own attributes (`layout: {gsi_keys: attributes}`, issue 16 item 4).

`compile.attribute_keys` keys a derived GSI on the items' own attributes (several HASH/RANGE
elements, numbers as N) where the composite key's exactness proof carries over, and keeps the
composite key with an info diagnostic where it does not. The fixture model is proven on
DynamoDB Local against PostgreSQL by `model verify`, and its template passes cfn-lint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.sample.generate import SampleOptions
from modeling.verify.runner import VerifyOptions, verify

FIXTURE = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis.yaml"


def _compiled(m: ir.Model) -> tuple[ir.Layout, list[Any]]:
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    return layout, list(bag)


def _index_of(layout: ir.Layout, pattern: str) -> ir.Index:
    plan = layout.plan(pattern)
    assert plan is not None
    index = layout.index(plan.index)
    assert index is not None
    return index


@pytest.mark.e2e
def test_attribute_keyed_gsis_verify_against_postgres(dynamodb_local: Any, postgres: Any) -> None:
    m = load_model(FIXTURE)
    layout, _ = _compiled(m)
    assert _index_of(layout, "sales_of_store_by_amount").on_attributes
    options = VerifyOptions(trials=12, sample=SampleOptions(roots=6, fanout=8))
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(m, layout, dynamodb_local.client(), pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    by_name = {p.pattern: p for p in report.patterns}
    assert by_name["sales_of_store_by_amount"].non_empty > 0
    for name in ("sales_of_store_by_amount", "sales_of_store_on_day_over", "sales_of_store_since"):
        p = by_name[name]
        assert _index_of(layout, name).on_attributes, name
        # PostgreSQL answered every trial, some with rows, some over several pages
        assert p.skipped is None and p.oracle_skipped is None, name
        assert p.oracle_trials == p.trials > 0 and p.non_empty > 0, name
    assert (
        max(by_name[n].max_pages for n in ("sales_of_store_by_amount", "sales_of_store_since")) > 1
    )
