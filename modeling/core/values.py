"""Values of the model's types: a SQL literal or a parameter given as text, as a Python value.

One rule for every reader of a pattern's literals and parameters: the request builder
(`modeling.requests`), the in-memory oracle (`modeling.sample.oracle`) and the generated code's
emitters all coerce through `coerce`.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any


def coerce(kind: str, value: Any) -> Any:
    """`value` (a SQL literal: str/int/float/bool, or a parameter as text) as a `kind` value.

    A naive datetime is read as UTC (the model's datetimes are instants). Values that already
    have the right type, and None, pass through unchanged.
    """
    if value is None:
        return value
    if kind == "datetime" and isinstance(value, str):
        dt = datetime.datetime.fromisoformat(value.replace(" ", "T"))
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=datetime.UTC)
    if kind == "date" and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    if kind == "decimal" and not isinstance(value, decimal.Decimal | bool):
        return decimal.Decimal(str(value))
    if kind == "float" and isinstance(value, int | str) and not isinstance(value, bool):
        return float(value)
    if kind == "integer" and isinstance(value, str):
        return int(value)
    if kind == "uuid" and isinstance(value, str):
        return uuid.UUID(value)
    if kind == "binary" and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("\\x"))
    return value


def hashable(value: Any) -> Any:
    """`value` itself when it can be a dict key or set member, else its repr (a list, a dict:
    JSON values read from a row), so rows can be grouped by any value."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
