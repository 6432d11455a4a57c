"""core.values.coerce: the one rule that turns a pattern's literal or text parameter into a value."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest

from modeling.core import values
from modeling.core.ir import TypeRef
from modeling.sample import oracle


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("datetime", "2024-05-01 10:00:00", datetime.datetime(2024, 5, 1, 10, tzinfo=datetime.UTC)),
        (
            "datetime",
            "2024-05-01T10:00:00+02:00",
            datetime.datetime(2024, 5, 1, 8, tzinfo=datetime.UTC),
        ),
        ("date", "2024-05-01", datetime.date(2024, 5, 1)),
        ("decimal", 1.5, decimal.Decimal("1.5")),
        ("decimal", "10.00", decimal.Decimal("10.00")),
        ("float", 3, 3.0),
        ("integer", "-42", -42),
        (
            "uuid",
            "3f2b8c1e-0a4d-4e6b-9c7a-1d2e3f4a5b6c",
            uuid.UUID(int=0x3F2B8C1E0A4D4E6B9C7A1D2E3F4A5B6C),
        ),
        ("binary", "\\x00ff", b"\x00\xff"),
        ("string", "x", "x"),
        ("boolean", True, True),
        ("integer", None, None),
    ],
)
def test_coerce(kind: str, raw: object, expected: object) -> None:
    got = values.coerce(kind, raw)
    assert got == expected
    assert type(got) is type(expected)


def test_a_bool_is_not_a_decimal_or_float() -> None:
    assert values.coerce("decimal", True) is True
    assert values.coerce("float", False) is False


def test_the_oracle_coerces_through_the_same_rule() -> None:
    for kind, raw in [("binary", "\\x0a"), ("datetime", "2024-01-01"), ("decimal", 2)]:
        assert oracle.coerce(TypeRef(kind), raw) == values.coerce(kind, raw)
    assert oracle.coerce(None, "7") == "7"  # an unknown attribute type: the value as written
