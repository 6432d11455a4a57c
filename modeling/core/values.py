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
    if kind == "boolean" and isinstance(value, str):
        return _boolean(value)
    return value


# PostgreSQL's boolean input (`boolin`): these words, any unique prefix of them, any case,
# surrounding blanks ignored: `flagged = 't'` is `flagged = TRUE`
_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def _boolean(text: str) -> bool | str:
    word = text.strip().lower()
    if word in ("o",):  # `on` or `off`: ambiguous, rejected by PostgreSQL too
        return text
    true = word != "" and any(w.startswith(word) for w in _TRUE_WORDS)
    false = word != "" and any(w.startswith(word) for w in _FALSE_WORDS)
    return true if true != false else text


def literal_problem(kind: str, value: Any) -> str | None:
    """Why a SQL literal compared with a `kind` column has no exact key value (it would not
    read as PostgreSQL reads it), or None. PostgreSQL's special datetime words (`epoch`,
    `now`, `today`, `infinity`) and numbers the column cannot hold are refused here rather
    than guessed."""
    if kind in ("string", "date", "datetime", "uuid", "binary") and not isinstance(value, str):
        return (
            f"{value!r} is not a {kind} literal (PostgreSQL rejects comparing it with the column)"
        )
    try:
        got = coerce(kind, value)
    except (ValueError, ArithmeticError) as exc:
        return f"{value!r} is not a {kind} value as this tool reads it ({exc})"
    if kind == "boolean" and not isinstance(got, bool):
        return f"{value!r} is not a boolean (PostgreSQL reads true/false, t/f, yes/no, on/off, 1/0)"
    if kind == "integer" and (isinstance(got, bool) or not isinstance(got, int)):
        return (
            f"{value!r} is not an integer, and the column is one: PostgreSQL compares it as a "
            "numeric, a key holds integers"
        )
    if kind in ("decimal", "float") and (
        (isinstance(got, decimal.Decimal) and not got.is_finite())
        or (isinstance(got, float) and (got != got or got in (float("inf"), float("-inf"))))
    ):
        return f"{value!r} is not a finite number; a key holds finite numbers only"
    return None


def hashable(value: Any) -> Any:
    """`value` itself when it can be a dict key or set member, else its repr (a list, a dict:
    JSON values read from a row), so rows can be grouped by any value."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def zoneless_instant(value: Any) -> str | None:
    """Why a datetime literal compared with a `timestamptz` column is not one instant: without
    an offset PostgreSQL reads it in the session's TimeZone setting, which the model does not
    know (the key condition would read it as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return None
    return (
        f"{value!r} has no time zone: PostgreSQL reads it in the session's TimeZone (the "
        "application's setting), not necessarily UTC"
    )
