"""Sample values: their key-comparable text, the attribute types they suggest, and whether a
key part is an attribute's value (as written or in the key codec's encoding).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from modeling.formats.workbench import ATTRIBUTE_TYPES, attribute_kind
from modeling.runtime import keys

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}(:?\d{2}(:?\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def scalar_text(av: Any) -> str | None:
    """The key-comparable text of a scalar attribute value (S, N, B), else None."""
    if isinstance(av, dict) and len(av) == 1:
        kind, v = next(iter(av.items()))
        if kind in ("S", "N", "B"):
            return str(v)
    return None


def same_value(key_text: str, attr_text: str) -> bool:
    """Is a key part the attribute's value, as written or in the key codec's encoding?

    Keys written by this project's transformers encode slots (`42` → `10000000000000000042`,
    `a b` → `a$20b`), so a model exported by `modeling.emit.workbench` is recognised on import.
    """
    if key_text == attr_text:
        return True
    for kind, parse in _PARSERS:
        try:
            if keys.encode(kind, parse(attr_text)) == key_text:
                return True
        except (ValueError, ArithmeticError, TypeError):
            continue
    return False


def _parse_datetime(text: str) -> Any:
    return datetime.fromisoformat(text)


_PARSERS: tuple[tuple[str, Any], ...] = (
    ("string", str),
    ("integer", int),
    ("decimal", Decimal),
    ("datetime", _parse_datetime),
)


def scalar_type(kind: str, values: list[str]) -> tuple[str, str]:
    """DSL type of S/N/B values, and why."""
    if kind == "N":
        if not values:
            return "decimal", "N without sample values: decimal is the safe guess"
        if all(_INTEGER.match(v.strip()) for v in values):
            return "integer", "N, sample values are whole numbers"
        return "decimal", "N, sample values have fractions"
    if kind == "B":
        return "binary", "B"
    if kind == "BOOL":
        return "boolean", "BOOL"
    if values and all(_DATE.match(v) and _valid_date(v) for v in values):
        return "date", "S, sample values are ISO dates"
    if values and all(_DATETIME.match(v) and _valid_date(v) for v in values):
        return "datetime", "S, sample values are ISO date-times"
    if values and all(_UUID.match(v) for v in values):
        return "uuid", "S, sample values are UUIDs"
    return "string", "S"


def _valid_date(v: str) -> bool:
    try:
        datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def value_type(avs: list[Any], declared: str | None) -> tuple[str, str]:
    """DSL type from a declared Workbench type and sample attribute values."""
    kinds = [attribute_kind(av) for av in avs if attribute_kind(av) != "NULL"]
    kind = declared if declared and declared != "NULL" else (kinds[0] if kinds else declared or "S")
    texts = [
        str(next(iter(av.values())))
        for av in avs
        if attribute_kind(av) == kind and kind in ("S", "N")
    ]
    if kind in ("S", "N", "B", "BOOL"):
        return scalar_type(kind, texts)
    if kind == "M":
        return "map", "M"
    if kind in ("SS", "NS", "BS"):
        if kind == "NS":
            nums = [str(x) for av in avs if attribute_kind(av) == "NS" for x in av["NS"]]
            return f"set<{scalar_type('N', nums)[0]}>", kind
        return ("set<string>" if kind == "SS" else "set<binary>"), kind
    if kind == "L":
        elements = [x for av in avs if attribute_kind(av) == "L" for x in av["L"]]
        if not elements:
            return "list<string>", "L without sample elements: element type unknown, guessed string"
        ekinds = {attribute_kind(x) for x in elements if attribute_kind(x) in ATTRIBUTE_TYPES}
        if not ekinds:
            return "list<map>", "L of nested values in no DynamoDB type, guessed map"
        if len(ekinds) > 1:
            return "list<map>", "L with mixed element types (" + ", ".join(
                sorted(ekinds)
            ) + "), guessed map"
        inner, _why = value_type(
            [x for x in elements if attribute_kind(x) in ATTRIBUTE_TYPES], None
        )
        return f"list<{inner}>", f"L of {ekinds.pop()}"
    return "string", "NULL-typed: no value type known, guessed string"


SCHEMA_TYPES = {"String": "S", "Number": "N", "Binary": "B", "Boolean": "BOOL", "Map": "M",
                 "List": "L", "StringSet": "SS", "NumberSet": "NS", "BinarySet": "BS"}  # fmt: skip
