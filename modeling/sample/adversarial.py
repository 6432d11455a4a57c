"""What makes a sample value adversarial: the catalogue of cases, and how to recognise them.

One home for the idea, shared by the generator (which plants these values, `generate.py`) and
by `model verify`'s coverage report (which counts, per access pattern, the answers that held
them). A case is a property of one value of one attribute type:

==========  ==========================================================================
case        values
==========  ==========================================================================
boundary    the ends of the attribute's range and the values around zero: integer min
            and max of the declared column type (else of BIGINT, what the key codec and
            DynamoDB hold), 0, -1; decimals with 38 significant digits (DynamoDB's
            precision), 0 and negatives; floats at DynamoDB's magnitude limits; the
            earliest and latest date / datetime (0001-01-01, 9999-12-31 23:59:59.999999
            UTC); the nil and the max uuid; binary 0x00 and 0xff..; the empty string
            and empty bytes where no key holds the attribute
separator   a string holding the key separator `#` (or `$`, the codec's escape char)
literal     a string holding literal text of the layout's key templates (`ORDER#`,
            `CUSTOMER`), so a naive split of a key would cut it in the wrong place
prefix      (pairwise) two values of one attribute where one is a proper prefix of the
            other (`alp` and `alp#x`): begins_with and the end of a slot must tell them
            apart
unicode     a string with a multi-byte character (2-3 bytes in UTF-8)
astral      a string with a character beyond the BMP (4 bytes in UTF-8, a surrogate pair
            in UTF-16), including U+10FFFF, the codec's own escape for NULL sentinels
collation   (pairwise) two strings whose byte order (DynamoDB, PostgreSQL's "C") differs
            from a linguistic order that ignores case and accents (`B` < `a` in bytes,
            `a` < `B` in `en_US`; `é` after `f` in bytes)
empty       the empty string / empty bytes (never in a key: DynamoDB rejects empty keys)
==========  ==========================================================================

Ties and NULLs are not value cases: they are relations between rows of one answer and are
counted by the coverage report directly.
"""

from __future__ import annotations

import itertools
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from modeling.core.ir import TypeRef
from modeling.runtime import keys

CASES = (
    "boundary",
    "separator",
    "literal",
    "prefix",
    "unicode",
    "astral",
    "collation",
    "empty",
)
# Cases one value carries by itself (the others are pairwise: `prefix`, `collation`).
VALUE_CASES = ("boundary", "separator", "literal", "unicode", "astral", "empty")

# BIGINT: the generated oracle schema's column type, inside the key codec's range.
INT_LO, INT_HI = -(2**63), 2**63 - 1
assert keys.INTEGER_MIN <= INT_LO and INT_HI <= keys.INTEGER_MAX
DECIMAL_BOUNDARIES = (
    Decimal("0"),
    Decimal("-1"),
    Decimal("99999999999999999999999999999999999999"),  # 38 nines: DynamoDB's precision
    Decimal("-12345678901234567890.123456789012345678"),  # 38 significant digits
    Decimal("0.00000000000000000000000000000000000001"),  # 1e-38, tiny but exact
)
FLOAT_BOUNDARIES = (0.0, -1.0, 1e-130, 9.99e125, -9.99e125, 2.0**53 + 2)
DATE_MIN, DATE_MAX = date(1, 1, 1), date(9999, 12, 31)
DATETIME_MIN = datetime(1, 1, 1, tzinfo=UTC)
DATETIME_MAX = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
UUID_MIN, UUID_MAX = uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)

# Strings, by case; a row index is appended to keep them distinct where the value must be.
SEPARATOR_STRINGS = ("#", "a#b", "##", "#end", "x$23", "$")
UNICODE_STRINGS = ("é", "ß", "中文", "Ωmega", "naïve")
ASTRAL_STRINGS = ("𝄞", "😀x", "\U0010ffff", "a\U0001f600b")
# one family whose byte order and linguistic order disagree: case, accents, digits vs letters
COLLATION_STRINGS = ("apple", "Banana", "éclair", "Apple", "eclair", "zebra", "Zebra", "äpfel")
# tails after one stem that byte order and a linguistic collation sort differently
# (`a` < `B` linguistically, `B` < `a` in bytes; `é` after `f` in bytes), the last one a prefix
# relation across the separator
COLLATION_TAILS = ("a", "B", "é", "f", "a#x")


def boundaries(t: TypeRef, bound: Any = None) -> tuple[Any, ...]:
    """The boundary values of type `t`, within `bound` (a fit.IntBound / DecBound of the
    declared column type) when given; `()` for types without an order worth testing."""
    k = t.kind
    if k == "integer":
        lo, hi = (
            (bound.lo, bound.hi)
            if bound is not None and hasattr(bound, "lo")
            else (
                INT_LO,
                INT_HI,
            )
        )
        out = [v for v in (lo, hi, 0, -1) if lo <= v <= hi]
        return tuple(dict.fromkeys(out))
    if k == "decimal":
        if bound is not None and hasattr(bound, "scale"):
            lo, hi = Decimal(bound.lo), Decimal(bound.hi)
            tiny = Decimal(1).scaleb(-bound.scale) if bound.scale else Decimal(1)
            cand = (lo, hi, Decimal(0), -tiny, tiny)
            return tuple(dict.fromkeys(v for v in cand if lo <= v <= hi))
        return DECIMAL_BOUNDARIES
    if k == "float":
        if bound is not None and hasattr(bound, "largest"):  # a `real` column
            return (0.0, -1.0, bound.largest, -bound.largest, bound.smallest)
        return FLOAT_BOUNDARIES
    if k == "date":
        return (DATE_MIN, DATE_MAX)
    if k == "datetime":
        return (DATETIME_MIN, DATETIME_MAX)
    if k == "uuid":
        return (UUID_MIN, UUID_MAX)
    if k == "binary":
        return (b"\x00", b"\xff" * 8)
    return ()


def is_boundary(t: TypeRef, value: Any, bound: Any = None) -> bool:
    """Whether `value` is one of `boundaries(t, bound)`."""
    if value is None or isinstance(value, str):
        return False
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return any(type(value) is type(b) and value == b for b in boundaries(t, bound))


def value_cases(
    t: TypeRef, value: Any, literals: Sequence[str] = (), bound: Any = None
) -> frozenset[str]:
    """The value cases (`VALUE_CASES`) one value of type `t` carries."""
    if value is None:
        return frozenset()
    out: set[str] = set()
    if is_boundary(t, value, bound):
        out.add("boundary")
    if isinstance(value, str):
        if value == "":
            out.add("empty")
        if "#" in value or "$" in value:
            out.add("separator")
        if any(lit and lit in value for lit in literals):
            out.add("literal")
        if not value.isascii():
            if any(ord(c) > 0xFFFF for c in value):
                out.add("astral")
            if any(0x7F < ord(c) <= 0xFFFF for c in value):
                out.add("unicode")
    elif isinstance(value, bytes) and value == b"":
        out.add("empty")
    return frozenset(out)


def linguistic_key(text: str) -> str:
    """An approximation of a linguistic collation (`en_US`, ICU root): accents and case
    ignored at the first level. Enough to tell whether byte order could differ from it."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def collation_sensitive(values: Iterable[Any]) -> bool:
    """Whether some two of these strings sort one way by bytes (code points) and the other
    way by `linguistic_key`, or tie there (`Apple`, `apple`: the collation's own tie-break
    decides): an ORDER BY under a non-C collation may give another order."""
    texts = sorted({v for v in values if isinstance(v, str)})
    ranks = [linguistic_key(v) for v in texts]
    return any(ranks[i] <= ranks[i - 1] for i in range(1, len(ranks)))


def shares_prefix(values: Iterable[Any]) -> bool:
    """Whether one of these strings is a proper prefix of another."""
    texts = sorted({v for v in values if isinstance(v, str)})
    return any(b.startswith(a) for a, b in itertools.pairwise(texts))


def applicable_cases(
    t: TypeRef, enum: Sequence[str] = (), keyed: bool = False, literals: Sequence[str] = ()
) -> tuple[str, ...]:
    """The cases values of an attribute can carry: by type, and for an enum by its values
    (an enum never holds other text, so only the cases of its own members apply)."""
    if t.item is not None:
        return ()
    if t.kind == "string":
        if enum:
            found: set[str] = set()
            for v in enum:
                found |= value_cases(t, v, literals)
            if shares_prefix(enum):
                found.add("prefix")
            if collation_sensitive(enum):
                found.add("collation")
            return tuple(c for c in CASES if c in found and c != "boundary")
        cases = ["separator", "prefix", "unicode", "astral", "collation"]
        if literals:
            cases.append("literal")
        if not keyed:
            cases.append("empty")
        return tuple(c for c in CASES if c in cases)
    if t.kind in ("integer", "decimal", "float", "date", "datetime", "uuid", "binary"):
        return ("boundary",)
    return ()
