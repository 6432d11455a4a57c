"""`LIKE :prefix || '%'` (issue 18's adversarial pass): PostgreSQL reads the parameter as a LIKE
pattern, so a value holding %, _ or \\ (Rails' `sanitize_sql_like` output: `50\\%`) matches
other rows than begins_with on the same text. The plan's proof said "exact" without saying so;
it now names the condition under which the key condition is exact."""

from __future__ import annotations

from pathlib import Path

from modeling.api import load_model
from modeling.compile import compile_model

CATALOG = Path(__file__).resolve().parents[2] / "models" / "catalog.yaml"


def test_the_proof_of_a_like_parameter_names_the_values_it_holds_for() -> None:
    layout, bag = compile_model(load_model(CATALOG))
    assert layout is not None, [d.format() for d in bag.errors]
    plan = layout.plan("products_of_brand_by_slug_prefix")
    assert plan is not None and plan.sk.kind == "begins_with"
    (line,) = [p for p in plan.proof if p.startswith("exact for values of :prefix")]
    assert "%, _ or \\" in line and "LIKE" in line
    # a YAML begins_with is DynamoDB's prefix match: nothing to qualify
    for other in layout.plans:
        pattern = load_model(CATALOG).pattern(other.pattern)
        if pattern is not None and pattern.sql is None:
            assert not any(p.startswith("exact for values of") for p in other.proof)
