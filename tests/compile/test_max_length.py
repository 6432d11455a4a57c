"""`max_length` bounds a string key slot: the key-size check uses it (issue 14, item 4)."""

from __future__ import annotations

import pytest

from modeling.api import check_text
from modeling.compile import compile_model

MODEL = """
model: bounded
entities:
  Code:
    key: [code]
    attributes:
      code: {type: string%s}
access_patterns:
  get_code: {entity: Code, where: {code: "="}, unique: true}
"""


def _codes(bound: str) -> set[str]:
    result = check_text(MODEL % bound, "bounded.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    _, diags = compile_model(result.model)
    return {d.code for d in diags.items}


@pytest.mark.parametrize(
    ("bound", "present", "absent"),
    [
        ("", {"key-length-unknown"}, {"key-too-long", "key-may-be-too-long"}),
        (", max_length: 5", set(), {"key-length-unknown", "key-too-long", "key-may-be-too-long"}),
        # 2000 chars fit a 2048-byte partition key in ASCII, not as 4-byte characters
        (", max_length: 2000", {"key-may-be-too-long"}, {"key-too-long", "key-length-unknown"}),
        (", max_length: 3000", {"key-too-long"}, {"key-length-unknown"}),
    ],
)
def test_max_length_bounds_the_key(bound: str, present: set[str], absent: set[str]) -> None:
    codes = _codes(bound)
    assert present <= codes, codes
    assert not (absent & codes), codes


def test_max_length_must_be_positive() -> None:
    assert not check_text(MODEL % ", max_length: 0", "bounded.yaml").ok
