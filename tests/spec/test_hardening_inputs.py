"""Inputs that are not ours: each must load cleanly or fail with located errors, never crash."""

from __future__ import annotations

from modeling.api import check_text


def _errors(text: str) -> list[tuple[int, int, str, str]]:
    result = check_text(text, "m.yaml")
    return [
        (d.span.line if d.span else 0, d.span.col if d.span else 0, d.code, d.message)
        for d in result.diagnostics.sorted()
        if d.severity == "error"
    ]


MINIMAL_BODY = (
    "entities:\n  Thing:\n    key: [thing_id]\n    attributes: {thing_id: string}\n"
    "access_patterns:\n  get_thing: {entity: Thing, where: {thing_id: '='}}\n"
)


def test_short_model_name_without_table_name_is_a_located_error() -> None:
    # `hr` is a valid model name but "Hr" is not a DynamoDB table name (3–255 characters);
    # before, the CloudFormation emitter raised a traceback from `model compile`.
    errors = _errors("model: hr\n" + MINIMAL_BODY)
    assert [(line, col, code) for line, col, code, _ in errors] == [(1, 8, "invalid-name")]
    assert "'Hr'" in errors[0][3] and "3 characters" in errors[0][3]


def test_short_model_name_with_an_explicit_table_name_is_fine() -> None:
    assert _errors("model: hr\ntable: {name: HumanResources}\n" + MINIMAL_BODY) == []
