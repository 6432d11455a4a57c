"""Key templates and the order-preserving slot codec.

This module imports only the Python standard library: it is copied verbatim into generated
code (transformers, query clients, Lambda handlers), so the same bytes encode a key at
migration time and at query time.

A key template is literal text plus ``{attribute}`` slots, e.g. ``ORDER#{created_at}#{order_id}``.
Each slot value is encoded to text whose UTF-8 byte order (what DynamoDB compares, unsigned)
equals the natural order of the values, and decoded back.

Encodings (``encode(kind, value)``; every encoding is canonical: ``decode`` rejects any other
spelling, so a key has exactly one text):

==========  ==========================================  =====================================
kind        encoded text                                example
==========  ==========================================  =====================================
string      UTF-8 text; every char <= ``$`` (U+0000..   ``a#b c`` -> ``a$23b$20c``
            U+0024, so also ``#``, space and ``$``)
            becomes ``$`` + 2 upper-case hex digits;
            U+10FFFF (a noncharacter) becomes
            U+10FFFF U+10FFFE, so U+10FFFF U+10FFFF
            never occurs (see NULL sentinels).
            Variable width; no bare ``#``; prefixes
            map to prefixes (``begins_with`` works).
integer     value + 10**19, zero-padded to 20 digits.   ``42`` -> ``10000000000000000042``
            Fixed width; range -10**19 .. 9*10**19-1    ``-1`` -> ``09999999999999999999``
            (all of signed and unsigned 64-bit).
decimal     sign digit (``0`` negative, ``1`` zero,     ``12.5`` ->
            ``2`` positive) + 3-digit biased exponent   ``2131`` + ``125`` + 35 ``0``
            (adjusted exponent + 130) + 38-digit
            mantissa (significant digits, zero-padded
            right); negatives complement exponent
            (255 - e) and mantissa digits (9 - d).
            Fixed width 42. Range = DynamoDB numbers:
            <= 38 significant digits, magnitude
            1e-130 .. <1e126. Normalised: ``1.0`` and
            ``1.00`` encode the same, ``-0`` is ``0``;
            ``decode`` returns the normalised Decimal.
float       as decimal, via ``Decimal(repr(x))`` (the   ``0.1`` -> as ``Decimal("0.1")``
            shortest text that round-trips); NaN and
            infinities rejected; ``-0.0`` == ``0.0``.
boolean     ``false`` / ``true`` (f < t).               ``True`` -> ``true``
date        ISO ``YYYY-MM-DD``, years 0001..9999.       ``2024-03-01``
datetime    UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, always ``2024-01-01T00:00:00.000000Z``
            6 fraction digits. Aware values are
            converted to UTC; naive values are taken
            to BE UTC. ``decode`` returns an aware
            datetime in UTC.
uuid        lower-case canonical 8-4-4-4-12 hex; byte   ``12345678-9abc-...``
            order = order of ``uuid.UUID.int``.
binary      lower-case hex of the bytes (base64 would   ``b"\\x01\\xff"`` -> ``01ff``
            break order). Variable width; prefixes map
            to prefixes.
==========  ==========================================  =====================================

Composite keys: fixed-width kinds compose with any literal. The variable-width kinds (string,
binary) sort correctly inside a composite key only when followed by the end of the template or
by the separator ``#``: ``#`` (0x23) sorts below every byte that can start an encoded char
(``$`` = 0x24 and up), so ``ab#...`` < ``abc#...`` and ``ab#...`` < ``ab!...`` (``!`` is encoded
as ``$21``). ``ordering_problems`` reports templates where this does not hold.

NULL sentinels (``encode_null(kind, high)``): a nullable slot that a pattern only orders by
(PostgreSQL returns its NULL rows, sorted as larger than every value by default) is filled with
a sentinel instead of leaving the item out of the index. The sentinel is never an encoding of
that kind nor a prefix of one, and sorts after (``high``) or before (``low``) every encoding:

======================  ===========================  ===================================
kind                    high (after every value)     low (before every value)
======================  ===========================  ===================================
string                  U+10FFFF U+10FFFF            ``!`` (0x21; encoded chars >= ``$``)
every other kind        ``~`` (0x7E; encodings       ``!`` (encodings start with a digit,
                        start with a digit, a hex    a hex digit, ``f`` or ``t``)
                        digit, ``f`` or ``t``)
======================  ===========================  ===================================

``low`` sorts below the empty string or empty bytes only when the slot is followed by text
starting with ``#`` (``!`` < ``#``); ``null_problems`` reports a template where it is not.
Because a sentinel is neither a value's encoding nor a prefix of one, ``=`` and ``begins_with``
(non-empty prefix) conditions on the slot never select it; ranges on the slot would, so the
compiler never fills a slot that a pattern on the same key constrains by a range.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import uuid as _uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "EMPTY_CONDITION_TEXT",
    "FIXED_WIDTH",
    "INTEGER_MAX",
    "INTEGER_MIN",
    "KINDS",
    "NULL_HIGH",
    "NULL_LOW",
    "SEPARATOR",
    "VARIABLE_WIDTH_KINDS",
    "KeyEncodingError",
    "Slot",
    "Template",
    "TemplateSyntaxError",
    "Text",
    "after",
    "condition_text",
    "decode",
    "empty_between",
    "encode",
    "encode_null",
    "encode_value_for_prefix",
    "null_problems",
    "ordering_problems",
    "parse_template",
    "whole_prefix",
]

SEPARATOR = "#"
# Kinds a key slot may hold; the same names as modeling.core.ir.KEYABLE_TYPES.
KINDS = ("string", "integer", "decimal", "float", "boolean", "date", "datetime", "uuid", "binary")
# Kinds whose encoding has variable width: they need SEPARATOR (or the end) after them.
VARIABLE_WIDTH_KINDS = ("string", "binary")
# UTF-8 length of every encoding of the fixed-width kinds (boolean: at most), so key-size
# checks can bound a key without sample values. A string char takes 1-4 bytes (3 when escaped),
# a binary byte 2.
FIXED_WIDTH = {
    "integer": 20,
    "decimal": 42,
    "float": 42,
    "boolean": 5,
    "date": 10,
    "datetime": 27,
    "uuid": 36,
}


class KeyEncodingError(ValueError):
    """A value that has no key encoding (NaN, out of range, wrong type) or a malformed text."""


# =========================================================================== templates


class TemplateSyntaxError(ValueError):
    """Bad template syntax; ``offset`` is the 0-based position in the template text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Text:
    """A literal part of a template."""

    text: str


@dataclass(frozen=True)
class Slot:
    """An ``{attribute}`` part of a template."""

    attribute: str


_SLOT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Template:
    """A parsed key template: literal ``Text`` and ``Slot`` parts, in order."""

    source: str
    parts: tuple[Text | Slot, ...]

    @functools.cached_property
    def slots(self) -> tuple[str, ...]:
        """Attribute names of the slots, in template order (worked out once: a Template is
        immutable and `parse_template` shares it)."""
        return tuple(p.attribute for p in self.parts if isinstance(p, Slot))

    def render(self, encoded: Mapping[str, str]) -> str:
        """The key text, every slot filled with its already-encoded value.

        Raises KeyError naming the slot when a value is missing: a full key needs them all.
        """
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Text):
                out.append(part.text)
            elif part.attribute in encoded:
                out.append(encoded[part.attribute])
            else:
                raise KeyError(
                    f"template {self.source!r} needs a value for slot {{{part.attribute}}}"
                )
        return "".join(out)

    def render_prefix(self, encoded: Mapping[str, str]) -> str:
        """The leading parts up to the first slot without a value.

        Includes the literal text before that slot, so ``A#{x}#{y}`` with only ``x`` gives
        ``A#<x>#``: a ``begins_with`` on it selects exactly the keys with that ``x`` (encoded
        values contain no bare ``#``). With every value present this equals ``render``.
        """
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Text):
                out.append(part.text)
            elif part.attribute in encoded:
                out.append(encoded[part.attribute])
            else:
                break
        return "".join(out)

    def literal_prefix(self) -> str:
        """The literal text before the first slot (the whole text when there is no slot)."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Slot):
                break
            out.append(part.text)
        return "".join(out)

    def parse(self, key: str, kinds: Mapping[str, str] | None = None) -> dict[str, str] | None:
        """Split a rendered key back into its encoded slot values; None if it does not match.

        Without ``kinds`` a slot matches the shortest run of text with no ``#`` that lets the
        rest match, which is exact whenever the literal after each slot starts with ``#``.
        With ``kinds`` (attribute -> kind) each slot matches only its kind's exact shape, which
        also splits templates such as ``{day}-{n}`` whose literals occur inside values.
        """
        shapes = tuple((kinds or {}).get(name, "") for name in self.slots)
        pattern = _template_regex(self, shapes)
        match = pattern.fullmatch(key)
        if match is None:
            return None
        return {name: match.group(f"s{i}") for i, name in enumerate(self.slots)}


# A pure function of the text returning an immutable Template: memoised (a compiler asks for
# each template many times, 150,000 calls for a 5,000-entity model). Bounded, so a long-lived
# process (a worker, an editor's language server) keeps at most this many, ~800 bytes each
# (26 MB at most; a model's few templates in practice). An error is not memoised: it is raised
# again on every call.
@functools.lru_cache(maxsize=32768)
def parse_template(text: str) -> Template:
    """Parse ``PREFIX#{attr}#{other}`` into a Template.

    Raises TemplateSyntaxError (a ValueError carrying the 0-based ``offset``) for an empty
    template, unbalanced braces, an empty or badly named slot, a slot used twice, and two
    slots with no literal text between them (``{a}{b}`` could not be split back).
    """
    if text == "":
        raise TemplateSyntaxError("empty key template; a key needs literal text or a slot", 0)
    parts: list[Text | Slot] = []
    seen: set[str] = set()
    pos = 0
    literal_start = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "}":
            raise TemplateSyntaxError("'}' without a matching '{'", pos)
        if ch != "{":
            pos += 1
            continue
        close = text.find("}", pos + 1)
        nested = text.find("{", pos + 1)
        if close == -1 or (nested != -1 and nested < close):
            raise TemplateSyntaxError("'{' is never closed by '}'", pos)
        name = text[pos + 1 : close]
        if name == "":
            raise TemplateSyntaxError("empty slot '{}'; write {attribute}", pos)
        if not _SLOT_NAME.match(name):
            raise TemplateSyntaxError(
                f"bad slot name {name!r}; a slot names an attribute: letters, digits, '_'",
                pos + 1,
            )
        if name in seen:
            raise TemplateSyntaxError(f"slot {{{name}}} appears twice", pos)
        if literal_start < pos:
            parts.append(Text(text[literal_start:pos]))
        elif parts and isinstance(parts[-1], Slot):
            raise TemplateSyntaxError(
                f"slots {{{parts[-1].attribute}}} and {{{name}}} touch; put literal text such as "
                f"{SEPARATOR!r} between them so the key can be split back",
                pos,
            )
        parts.append(Slot(name))
        seen.add(name)
        pos = close + 1
        literal_start = pos
    if literal_start < len(text):
        parts.append(Text(text[literal_start:]))
    return Template(source=text, parts=tuple(parts))


def ordering_problems(template: Template, kinds: Mapping[str, str]) -> tuple[str, ...]:
    """Why rendered keys of ``template`` might not sort as the tuple of slot values.

    Empty when, for keys from this template, byte order of the key equals the lexicographic
    order of the slot values. A variable-width slot (string, binary) must be the last part or
    be followed by literal text starting with SEPARATOR, which sorts below every encoded byte.
    """
    problems: list[str] = []
    parts = template.parts
    for i, part in enumerate(parts):
        if not isinstance(part, Slot):
            continue
        kind = kinds.get(part.attribute)
        if kind is None:
            problems.append(f"slot {{{part.attribute}}} has no type")
            continue
        if kind not in KINDS:
            problems.append(
                f"slot {{{part.attribute}}} has type {kind!r}, which cannot be in a key"
            )
            continue
        if kind in VARIABLE_WIDTH_KINDS and i + 1 < len(parts):
            after = parts[i + 1]
            if isinstance(after, Text) and not after.text.startswith(SEPARATOR):
                problems.append(
                    f"slot {{{part.attribute}}} ({kind}, variable width) is followed by "
                    f"{after.text[:1]!r}; follow it with {SEPARATOR!r} so shorter values sort first"
                )
    return tuple(problems)


# Exact shape of each kind's encoding, for Template.parse with kinds.
_KIND_REGEX = {
    "string": "(?:[^\\x00-\\x24\U0010ffff]|\\$(?:[01][0-9A-F]|2[0-4])|\U0010ffff\U0010fffe)*",
    "integer": r"[0-9]{20}",
    "decimal": r"[0-2][0-9]{41}",
    "float": r"[0-2][0-9]{41}",
    "boolean": r"false|true",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "datetime": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "binary": r"(?:[0-9a-f]{2})*",
}


@functools.lru_cache(maxsize=1024)
def _template_regex(template: Template, slot_kinds: tuple[str, ...]) -> re.Pattern[str]:
    """The regex matching keys of ``template``; ``slot_kinds[i]`` is slot i's kind or ""."""
    pieces: list[str] = []
    index = 0
    for part in template.parts:
        if isinstance(part, Text):
            pieces.append(re.escape(part.text))
            continue
        shape = _KIND_REGEX.get(slot_kinds[index], r"[^#]*?")
        if slot_kinds[index] in _KIND_REGEX:  # a filled NULL reads back as its sentinel
            high = re.escape(NULL_HIGH.get(slot_kinds[index], _NULL_HIGH_DEFAULT))
            shape = f"(?:{high}|{re.escape(NULL_LOW)}|{shape})"
        pieces.append(f"(?P<s{index}>{shape})")
        index += 1
    return re.compile("".join(pieces), re.DOTALL)


# =========================================================================== codec


def encode(kind: str, value: object) -> str:
    """Encode ``value`` as key text whose UTF-8 byte order equals the natural order.

    Raises KeyEncodingError naming the kind and the value when it has no encoding.
    """
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        raise KeyEncodingError(f"unknown key kind {kind!r}; key slots hold {', '.join(KINDS)}")
    return encoder(value)


def decode(kind: str, text: str) -> object:
    """Invert ``encode``: the (normalised) value. Raises KeyEncodingError on malformed text.

    Only the canonical text of a value is accepted (``encode(kind, decode(kind, t)) == t``), so
    two different key texts never decode to the same value.
    """
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise KeyEncodingError(f"unknown key kind {kind!r}; key slots hold {', '.join(KINDS)}")
    if not isinstance(text, str):
        raise KeyEncodingError(f"cannot decode {kind}: expected str, got {type(text).__name__}")
    try:
        value = decoder(text)
        canonical = encode(kind, value)
    except (KeyEncodingError, ValueError, OverflowError) as exc:
        raise KeyEncodingError(f"malformed {kind} key text {text!r}: {exc}") from None
    if canonical != text:
        raise KeyEncodingError(
            f"malformed {kind} key text {text!r}: the canonical text is {canonical!r}"
        )
    return value


NULL_LOW = "!"
_NULL_HIGH_DEFAULT = "~"
NULL_HIGH = {
    kind: "\U0010ffff\U0010ffff" if kind == "string" else _NULL_HIGH_DEFAULT for kind in KINDS
}


def encode_null(kind: str, high: bool) -> str:
    """The sentinel that stands for NULL in a slot of ``kind``: it sorts after (``high``) or
    before every encoding of the kind, and is neither an encoding nor a prefix of one."""
    if kind not in NULL_HIGH:
        raise KeyEncodingError(f"unknown key kind {kind!r}; key slots hold {', '.join(KINDS)}")
    return NULL_HIGH[kind] if high else NULL_LOW


def null_problems(
    template: Template, kinds: Mapping[str, str], slot: str, high: bool
) -> str | None:
    """Why the NULL sentinel of ``slot`` might not sort where asked, or None.

    The low sentinel sorts below the empty string (empty bytes) only when the slot is followed
    by text starting with SEPARATOR: at the end of the key, the empty value is a prefix of
    every text and sorts first.
    """
    if high or kinds.get(slot) not in VARIABLE_WIDTH_KINDS:
        return None
    parts = template.parts
    for i, part in enumerate(parts):
        if isinstance(part, Slot) and part.attribute == slot:
            after_slot = parts[i + 1] if i + 1 < len(parts) else None
            if isinstance(after_slot, Text) and after_slot.text.startswith(SEPARATOR):
                return None
            return (
                f"slot {{{slot}}} ({kinds[slot]}) ends the key, so an empty value sorts before "
                "the NULL sentinel: NULLs cannot come before every value"
            )
    return None


def encode_value_for_prefix(kind: str, value: object) -> str:
    """Encode a prefix for ``begins_with`` on a string (or binary) slot.

    ``encode(kind, s).startswith(encode_value_for_prefix(kind, p))`` iff ``s.startswith(p)``:
    both encodings map each char (byte) to its own code word and no code word is a prefix of
    another, so encoded prefixes are exactly the encodings of prefixes.
    """
    if kind not in VARIABLE_WIDTH_KINDS:
        raise KeyEncodingError(
            f"begins_with needs a string or binary slot; {kind} slot value {value!r} "
            "has no prefix encoding (use a range condition instead)"
        )
    return encode(kind, value)


def after(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`.

    The exclusive upper bound of a prefix range: `BETWEEN low AND after(prefix)` reads every key
    from `low` on that starts with `prefix`. The last code point is incremented; one that has no
    successor outside the surrogate block (U+D7FF, U+10FFFF) is dropped and the one before it
    incremented instead (still an upper bound of the range, as DynamoDB compares UTF-8 bytes).
    """
    text = prefix
    while text:
        last = ord(text[-1])
        if last < 0x10FFFF and not 0xD7FF <= last < 0xE000:
            return text[:-1] + chr(last + 1)
        text = text[:-1]
    raise KeyEncodingError(f"no string sorts after every string starting with {prefix!r}")


# The stand-in for an empty string in a key condition on a string attribute of a GSI keyed on
# the items' own attributes: DynamoDB refuses "" there (ValidationException), and no stored key
# attribute is "" (DynamoDB refuses that write too) nor "\x00" (PostgreSQL text cannot hold
# U+0000; the transformers refuse it). "\x00" sorts right after "" and before every other
# stored string, so `= "" / < "" / <= ""` still match nothing and `> "" / >= ""` everything.
EMPTY_CONDITION_TEXT = "\x00"


def condition_text(text: str) -> str:
    """`text` as a key-condition value on a string attribute of an attribute-keyed GSI (the
    empty string as EMPTY_CONDITION_TEXT, which selects exactly the same stored values)."""
    return text or EMPTY_CONDITION_TEXT


def whole_prefix(request: dict[str, Any]) -> dict[str, Any]:
    """`request` without its last key condition when that is a ``begins_with`` on a string
    attribute of an attribute-keyed GSI whose prefix was empty (sent as EMPTY_CONDITION_TEXT,
    which no stored value starts with): every string starts with "", so the condition selects
    every item the other conditions do, and DynamoDB takes no empty key-condition value."""
    expression = request.get("KeyConditionExpression", "")
    values = request.get("ExpressionAttributeValues", {})
    match = _LAST_BEGINS_WITH.search(expression)
    if match is None or values.get(match.group(2)) != {"S": EMPTY_CONDITION_TEXT}:
        return request
    names = dict(request.get("ExpressionAttributeNames", {}))
    names.pop(match.group(1), None)
    values = {k: v for k, v in values.items() if k != match.group(2)}
    return {
        **request,
        "KeyConditionExpression": expression[: match.start()],
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


_LAST_BEGINS_WITH = re.compile(r" AND begins_with\((#k[0-9]+), (:sk0)\)$")


def empty_between(low: Mapping[str, object], high: Mapping[str, object]) -> bool:
    """Whether ``BETWEEN low AND high`` on a key matches nothing because ``low`` sorts above
    ``high`` (AttributeValues ``{"S": ...}``, ``{"N": ...}`` or ``{"B": ...}``). DynamoDB
    rejects such a key condition (ValidationException) where SQL returns no rows, as for
    ``> :a AND < :a`` or ``BETWEEN 5 AND 1``. Strings compare as DynamoDB does: code point
    order is UTF-8 byte order."""
    if "N" in low and "N" in high:
        return Decimal(str(low["N"])) > Decimal(str(high["N"]))
    for kind in ("S", "B"):
        if kind in low and kind in high:
            a, b = low[kind], high[kind]
            if isinstance(a, str) and isinstance(b, str):
                return a > b
            if isinstance(a, bytes | bytearray) and isinstance(b, bytes | bytearray):
                return bytes(a) > bytes(b)
    return False


def _fail(kind: str, value: object, why: str) -> KeyEncodingError:
    return KeyEncodingError(f"cannot encode {value!r} as a {kind} key slot: {why}")


# --------------------------------------------------------------------------- string

# Chars up to and including the escape char are escaped, so every encoded char starts with a
# byte >= 0x24 and the separator 0x23 sorts below all of them.
_ESCAPE = "$"
_ESCAPE_TABLE = {c: f"{_ESCAPE}{c:02X}" for c in range(ord(_ESCAPE) + 1)}
_UNESCAPE = re.compile(r"\$([0-9A-F]{2})")
_NEEDS_ESCAPE = re.compile("[\\x00-\\x24\U0010ffff]")
_ESCAPE_TABLE[0x10FFFF] = "\U0010ffff\U0010fffe"


def _encode_string(value: object) -> str:
    if not isinstance(value, str):
        raise _fail("string", value, f"expected str, got {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail("string", value, "it contains a lone surrogate, not valid UTF-8") from None
    if _NEEDS_ESCAPE.search(value) is None:
        return value  # the common case, and 10x faster than translate
    return value.translate(_ESCAPE_TABLE)


def _decode_string(text: str) -> str:
    if "\U0010ffff" in text:
        text = text.replace("\U0010ffff\U0010fffe", "\U0010ffff")
    if _ESCAPE not in text:
        return text
    return _UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


# --------------------------------------------------------------------------- integer

INTEGER_OFFSET = 10**19
_INTEGER_WIDTH = 20
INTEGER_MIN = -INTEGER_OFFSET
INTEGER_MAX = 10**_INTEGER_WIDTH - 1 - INTEGER_OFFSET


def _encode_integer(value: object) -> str:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # DynamoDB hands numbers back as Decimal
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail("integer", value, f"expected int, got {type(value).__name__}")
    if not INTEGER_MIN <= value <= INTEGER_MAX:
        raise _fail("integer", value, f"outside {INTEGER_MIN} .. {INTEGER_MAX}")
    return f"{value + INTEGER_OFFSET:0{_INTEGER_WIDTH}d}"


def _decode_integer(text: str) -> int:
    if not (len(text) == _INTEGER_WIDTH and text.isascii() and text.isdigit()):
        raise ValueError(f"expected {_INTEGER_WIDTH} digits")
    return int(text) - INTEGER_OFFSET


# --------------------------------------------------------------------------- decimal

_MANTISSA_DIGITS = 38  # DynamoDB: up to 38 significant digits
_EXP_MIN = -130  # DynamoDB: magnitude >= 1e-130
_EXP_MAX = 125  # DynamoDB: magnitude < 1e126
_EXP_BIAS = -_EXP_MIN
_EXP_SPAN = _EXP_MAX + _EXP_BIAS  # 255: biased exponent fits in 3 digits
_DECIMAL_WIDTH = 1 + 3 + _MANTISSA_DIGITS
_DECIMAL_ZERO = "1" + "0" * (_DECIMAL_WIDTH - 1)
_COMPLEMENT = str.maketrans("0123456789", "9876543210")


def _as_decimal(kind: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise _fail(kind, value, "expected a number, got bool")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # shortest text that round-trips; keeps order
    else:
        raise _fail(kind, value, f"expected Decimal, int or float, got {type(value).__name__}")
    if not number.is_finite():
        raise _fail(kind, value, "NaN and infinities have no order in a key")
    return number


def _encode_number(kind: str, value: object) -> str:
    number = _as_decimal(kind, value)
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if digits == "":
        return _DECIMAL_ZERO
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    if len(digits) > _MANTISSA_DIGITS:
        raise _fail(
            kind, value, f"more than {_MANTISSA_DIGITS} significant digits (DynamoDB's limit)"
        )
    adjusted = exponent + len(digits) - 1
    if not _EXP_MIN <= adjusted <= _EXP_MAX:
        raise _fail(kind, value, "magnitude outside DynamoDB's 1e-130 .. 9.99e125")
    biased = adjusted + _EXP_BIAS
    mantissa = digits.ljust(_MANTISSA_DIGITS, "0")
    if sign:
        return f"0{_EXP_SPAN - biased:03d}{mantissa.translate(_COMPLEMENT)}"
    return f"2{biased:03d}{mantissa}"


def _decode_number(text: str) -> Decimal:
    if not (len(text) == _DECIMAL_WIDTH and text.isascii() and text.isdigit()):
        raise ValueError(f"expected {_DECIMAL_WIDTH} digits")
    head, biased_text, mantissa = text[0], text[1:4], text[4:]
    if head == "1":
        return Decimal(0)
    if head not in "02":
        raise ValueError("first digit must be 0, 1 or 2")
    negative = head == "0"
    biased = int(biased_text)
    if negative:
        biased = _EXP_SPAN - biased
        mantissa = mantissa.translate(_COMPLEMENT)
    digits = mantissa.rstrip("0")
    if digits == "" or digits[0] == "0":
        raise ValueError("mantissa is not normalised")
    adjusted = biased - _EXP_BIAS
    return Decimal((1 if negative else 0, tuple(map(int, digits)), adjusted - len(digits) + 1))


def _encode_decimal(value: object) -> str:
    return _encode_number("decimal", value)


def _encode_float(value: object) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        value = float(value)  # DynamoDB hands numbers back as Decimal: key the float it stores
    return _encode_number("float", value)


def _decode_float(text: str) -> float:
    return float(_decode_number(text))


# --------------------------------------------------------------------------- boolean


def _encode_boolean(value: object) -> str:
    if not isinstance(value, bool):
        raise _fail("boolean", value, f"expected bool, got {type(value).__name__}")
    return "true" if value else "false"


def _decode_boolean(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError("expected 'true' or 'false'")
    return text == "true"


# --------------------------------------------------------------------------- date / datetime


def _encode_date(value: object) -> str:
    if isinstance(value, _dt.datetime) or not isinstance(value, _dt.date):
        raise _fail("date", value, f"expected datetime.date, got {type(value).__name__}")
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _decode_date(text: str) -> _dt.date:
    return _dt.date.fromisoformat(text)


def _encode_datetime(value: object) -> str:
    if not isinstance(value, _dt.datetime):
        raise _fail("datetime", value, f"expected datetime.datetime, got {type(value).__name__}")
    if value.utcoffset() is not None:
        try:
            value = value.astimezone(_dt.UTC)
        except OverflowError:
            raise _fail("datetime", value, "in UTC it falls outside years 0001..9999") from None
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}Z"
    )


_DATETIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)


def _decode_datetime(text: str) -> _dt.datetime:
    if not _DATETIME_TEXT.fullmatch(text):
        raise ValueError("expected YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return _dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=_dt.UTC)


# --------------------------------------------------------------------------- uuid / binary


def _encode_uuid(value: object) -> str:
    if not isinstance(value, _uuid.UUID):
        raise _fail("uuid", value, f"expected uuid.UUID, got {type(value).__name__}")
    return str(value)


def _decode_uuid(text: str) -> _uuid.UUID:
    return _uuid.UUID(text)


def _encode_binary(value: object) -> str:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise _fail("binary", value, f"expected bytes, got {type(value).__name__}")
    return bytes(value).hex()


def _decode_binary(text: str) -> bytes:
    return bytes.fromhex(text)


_ENCODERS = {
    "string": _encode_string,
    "integer": _encode_integer,
    "decimal": _encode_decimal,
    "float": _encode_float,
    "boolean": _encode_boolean,
    "date": _encode_date,
    "datetime": _encode_datetime,
    "uuid": _encode_uuid,
    "binary": _encode_binary,
}
_DECODERS = {
    "string": _decode_string,
    "integer": _decode_integer,
    "decimal": _decode_number,
    "float": _decode_float,
    "boolean": _decode_boolean,
    "date": _decode_date,
    "datetime": _decode_datetime,
    "uuid": _decode_uuid,
    "binary": _decode_binary,
}
