"""Key templates and the order-preserving slot codec (modeling/runtime/keys.py).

The central properties, for every kind: decode(encode(x)) == x (normalised), and
x < y  <=>  encode(x) < encode(y) as UTF-8 bytes (what DynamoDB compares), equality included.
One e2e test asks DynamoDB Local itself to sort the encoded keys.
"""

from __future__ import annotations

import ast
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeling.core.ir import KEYABLE_TYPES
from modeling.runtime import keys
from modeling.runtime.keys import (
    INTEGER_MAX,
    INTEGER_MIN,
    SEPARATOR,
    KeyEncodingError,
    Slot,
    Template,
    TemplateSyntaxError,
    Text,
    decode,
    encode,
    encode_value_for_prefix,
    ordering_problems,
    parse_template,
)

UTC = dt.UTC

# --------------------------------------------------------------------------- strategies

# Every code point except lone surrogates (not UTF-8), biased towards the interesting ones:
# the separator, the escape char, chars below them, NUL and astral-plane chars.
_special_chars = st.sampled_from(
    ["#", "$", "\x00", " ", "!", '"', "%", "\x7f", "é", "€", "😀", "\U0010ffff", "\uffff"]
)
_chars = st.one_of(_special_chars, st.characters(exclude_categories=["Cs"]))
strings = st.text(alphabet=_chars, max_size=12)

integers = st.one_of(
    st.integers(INTEGER_MIN, INTEGER_MAX),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-1000, 1000),
    st.sampled_from([INTEGER_MIN, INTEGER_MAX, 0, -1, 1, -(2**63), 2**63 - 1, 2**64 - 1]),
)


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    """Any Decimal DynamoDB can store, often with trailing zeros (1.0 vs 1.00)."""
    sign = draw(st.integers(0, 1))
    digits = draw(st.integers(1, 38))
    coefficient = draw(
        st.one_of(
            st.integers(1, 10**digits - 1),
            st.integers(1, 999).map(lambda c: c * 10 ** draw(st.integers(0, 30))),
            st.sampled_from([1, 10**38 - 1, 10**37, 5]),
        )
    )
    text = str(coefficient)
    if len(text.rstrip("0")) > 38:
        text = text[:38]
    adjusted = draw(st.one_of(st.integers(-130, 125), st.sampled_from([-130, 125, 0, -1])))
    if draw(st.booleans()):  # trailing zeros that normalisation must drop
        text += "0" * draw(st.integers(1, 3))
    return Decimal((sign, tuple(map(int, text)), adjusted - len(text) + 1))


def _in_dynamodb_range(x: float) -> bool:
    return x == 0 or -130 <= Decimal(repr(x)).adjusted() <= 125


floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).filter(_in_dynamodb_range),
    st.floats(-1e6, 1e6, allow_nan=False).filter(_in_dynamodb_range),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.1, 1.5e-130, 1e125, -1e125, 1e-130, 2.0**52 + 1]),
)

datetimes = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2026, 1, 1),
        timezones=st.sampled_from(
            [
                ZoneInfo("Europe/Berlin"),
                ZoneInfo("America/New_York"),
                ZoneInfo("Australia/Lord_Howe"),
            ]
        ),
        allow_imaginary=False,
    ),
)


def _utc_instant(x: dt.datetime) -> dt.datetime | None:
    """The UTC instant of x (naive = UTC), None when it leaves years 1..9999."""
    if x.utcoffset() is None:
        return x.replace(tzinfo=UTC)
    try:
        return x.astimezone(UTC)
    except OverflowError:
        return None


def _natural(kind: str, value: Any) -> Any:
    """The value's natural sort key: the order the encoding must reproduce."""
    if kind == "datetime":
        return _utc_instant(value)  # NOT `<` on datetimes: same-tzinfo compares wall time
    if kind == "uuid":
        return value.int
    if kind in ("decimal", "float"):
        return Decimal(repr(value)) if isinstance(value, float) else value
    return value


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": strings,
    "integer": integers,
    "decimal": decimals(),
    "float": floats,
    "boolean": st.booleans(),
    "date": st.dates(),
    "datetime": datetimes.filter(lambda x: _utc_instant(x) is not None),
    "uuid": st.uuids(),
    "binary": st.binary(max_size=12),
}


def _b(text: str) -> bytes:
    return text.encode("utf-8")


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def test_kinds_match_ir() -> None:
    assert set(keys.KINDS) == set(KEYABLE_TYPES) == set(VALUES)
    assert set(keys.FIXED_WIDTH) | set(keys.VARIABLE_WIDTH_KINDS) == set(keys.KINDS)
    assert not set(keys.FIXED_WIDTH) & set(keys.VARIABLE_WIDTH_KINDS)


def test_keys_imports_only_the_standard_library() -> None:
    """keys.py is copied verbatim into generated code: it must not import the project or deps."""
    import sys

    tree = ast.parse(Path(keys.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add((node.module or "").split(".")[0])
    assert imported, "found no imports at all: the AST walk is broken"
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("kind", keys.KINDS)
def test_round_trip_and_order(kind: str) -> None:
    """For each kind: decode∘encode is the normalised identity and byte order = natural order."""

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(VALUES[kind], VALUES[kind])
    def check(x: Any, y: Any) -> None:
        ex, ey = encode(kind, x), encode(kind, y)
        assert _natural(kind, decode(kind, ex)) == _natural(kind, x)
        assert _cmp(_b(ex), _b(ey)) == _cmp(_natural(kind, x), _natural(kind, y)), (x, y, ex, ey)
        assert SEPARATOR not in ex
        if kind in keys.FIXED_WIDTH:
            width = len(_b(ex))
            assert width == keys.FIXED_WIDTH[kind] or (kind == "boolean" and width == 4)

    check()


@settings(max_examples=300, deadline=None)
@given(strings)
def test_string_round_trip_is_exact(s: str) -> None:
    assert decode("string", encode("string", s)) == s


@settings(max_examples=300, deadline=None)
@given(decimals())
def test_decimal_decodes_to_normalised_value(x: Decimal) -> None:
    back = decode("decimal", encode("decimal", x))
    assert isinstance(back, Decimal)
    assert back == x
    digits = back.as_tuple().digits
    assert back == 0 or digits[-1] != 0, f"{back!r} keeps trailing zeros"


@settings(max_examples=300, deadline=None)
@given(floats)
def test_float_round_trip_is_exact(x: float) -> None:
    back = decode("float", encode("float", x))
    assert isinstance(back, float)
    assert back == x and repr(back) == repr(x if x != 0 else 0.0)


@settings(max_examples=300, deadline=None)
@given(datetimes.filter(lambda x: _utc_instant(x) is not None))
def test_datetime_decodes_to_aware_utc(x: dt.datetime) -> None:
    back = decode("datetime", encode("datetime", x))
    assert isinstance(back, dt.datetime)
    assert back.tzinfo is UTC
    assert back == _utc_instant(x)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["string", "binary"]), st.data())
def test_prefix_encoding_matches_startswith(kind: str, data: st.DataObject) -> None:
    value = data.draw(VALUES[kind])
    prefix = data.draw(st.one_of(st.integers(0, len(value)).map(lambda k: value[:k]), VALUES[kind]))
    encoded_prefix = encode_value_for_prefix(kind, prefix)
    assert encode(kind, value).startswith(encoded_prefix) == value.startswith(prefix)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(keys.KINDS), st.sampled_from(keys.KINDS), st.data())
def test_composite_key_order_is_tuple_order(kx: str, ky: str, data: st.DataObject) -> None:
    """`A#{x}#{y}`: rendered key byte order == lexicographic order of (x, y)."""
    template = parse_template("A#{x}#{y}")
    assert ordering_problems(template, {"x": kx, "y": ky}) == ()
    pairs = [(data.draw(VALUES[kx]), data.draw(VALUES[ky])) for _ in range(2)]
    # share a component often, so the second slot decides
    if data.draw(st.booleans()):
        pairs[1] = (pairs[0][0], pairs[1][1])
    rendered = [_b(template.render({"x": encode(kx, x), "y": encode(ky, y)})) for x, y in pairs]
    natural = [(_natural(kx, x), _natural(ky, y)) for x, y in pairs]
    assert _cmp(rendered[0], rendered[1]) == _cmp(natural[0], natural[1]), (pairs, rendered)


@settings(max_examples=300, deadline=None)
@given(strings, strings, strings, strings)
def test_string_composite_prefix_and_begins_with(a: str, b: str, c: str, d: str) -> None:
    """Shorter strings sort first inside a composite key and begins_with on render_prefix
    selects exactly the keys with that first component."""
    template = parse_template("T#{x}#{y}")
    k1 = template.render({"x": encode("string", a), "y": encode("string", b)})
    k2 = template.render({"x": encode("string", a + c), "y": encode("string", d)})
    if c:
        assert _b(k1) < _b(k2)
    prefix = template.render_prefix({"x": encode("string", a)})
    assert k1.startswith(prefix)
    assert k2.startswith(prefix) == (c == "")


# --------------------------------------------------------------------------- edges


def test_precision_edges_of_decimal() -> None:
    ordered = [
        Decimal("-9.9999999999999999999999999999999999999E+125"),
        Decimal("-1E+125"),
        Decimal("-1.0000000000000000000000000000000000001"),
        Decimal("-1"),
        Decimal("-0.99999999999999999999999999999999999999"),
        Decimal("-1E-130"),
        Decimal("0"),
        Decimal("1E-130"),
        Decimal("1.1E-130"),
        Decimal("0.99999999999999999999999999999999999999"),
        Decimal("1"),
        Decimal("1.0000000000000000000000000000000000001"),
        Decimal("10"),
        Decimal("9.9999999999999999999999999999999999999E+125"),
    ]
    encoded = [_b(encode("decimal", x)) for x in ordered]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(encoded)
    assert all(decode("decimal", e.decode()) == x for e, x in zip(encoded, ordered, strict=True))


def test_decimal_normalisation() -> None:
    assert (
        encode("decimal", Decimal("1.0"))
        == encode("decimal", Decimal("1.00"))
        == encode("decimal", 1)
    )
    assert encode("decimal", Decimal("-0.000")) == encode("decimal", Decimal(0))
    assert str(decode("decimal", encode("decimal", Decimal("12.500")))) == "12.5"
    # fixed width, so a decimal slot composes with any following literal
    widths = {len(encode("decimal", Decimal(x))) for x in ("0", "-1E-130", "1E+125", "3.14")}
    assert widths == {42}


def test_float_zero_and_decimal_agreement() -> None:
    assert encode("float", -0.0) == encode("float", 0.0)
    assert encode("float", 0.1) == encode("decimal", Decimal("0.1"))
    assert encode("float", Decimal("0.1")) == encode("float", 0.1)


def test_integer_edges() -> None:
    assert encode("integer", 0) == "10000000000000000000"
    assert encode("integer", 42) == "10000000000000000042"
    assert encode("integer", -1) == "09999999999999999999"
    assert encode("integer", Decimal("42")) == encode("integer", 42)  # as DynamoDB returns it
    for value in (-(2**63), 2**63 - 1, 2**64 - 1):
        assert decode("integer", encode("integer", value)) == value
    assert {len(encode("integer", v)) for v in (INTEGER_MIN, 0, INTEGER_MAX)} == {20}


def test_datetime_microseconds_and_zones() -> None:
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert encode("datetime", base) == "2024-01-01T00:00:00.000000Z"
    assert _b(encode("datetime", base)) < _b(
        encode("datetime", base + dt.timedelta(microseconds=1))
    )
    # the same instant in three zones, and naive = UTC
    berlin = base.astimezone(ZoneInfo("Europe/Berlin"))
    tokyo = base.astimezone(ZoneInfo("Asia/Tokyo"))
    assert encode("datetime", berlin) == encode("datetime", tokyo) == encode("datetime", base)
    assert encode("datetime", dt.datetime(2024, 1, 1)) == encode("datetime", base)


def test_datetime_dst_fold_orders_by_instant() -> None:
    """Berlin's clocks fall back at 03:00 CEST on 2023-10-29: 02:30 happens twice."""
    tz = ZoneInfo("Europe/Berlin")
    first = dt.datetime(2023, 10, 29, 2, 30, tzinfo=tz, fold=0)  # 00:30Z
    second = dt.datetime(2023, 10, 29, 2, 30, tzinfo=tz, fold=1)  # 01:30Z
    between = dt.datetime(2023, 10, 29, 2, 45, tzinfo=tz, fold=0)  # 00:45Z
    assert encode("datetime", first) == "2023-10-29T00:30:00.000000Z"
    assert encode("datetime", second) == "2023-10-29T01:30:00.000000Z"
    # wall-clock comparison (what `<` does within one tzinfo) says second < between; the
    # instant, and so the key, says otherwise
    assert second < between
    assert _b(encode("datetime", between)) < _b(encode("datetime", second))


def test_string_escapes() -> None:
    assert encode("string", "a#b c$") == "a$23b$20c$24"
    assert encode("string", "\x00") == "$00"
    assert encode("string", "😀") == "😀"
    # "ab" < "ab!" and "ab" < "abc" must survive a following separator
    assert _b(encode("string", "ab") + "#") < _b(encode("string", "ab!") + "#")
    assert _b(encode("string", "ab") + "#z") < _b(encode("string", "ab\x00") + "#")


def test_uuid_and_binary_text() -> None:
    u = uuid.UUID("12345678-9ABC-DEF0-1234-56789ABCDEF0")
    assert encode("uuid", u) == "12345678-9abc-def0-1234-56789abcdef0"
    assert encode("binary", b"\x01\xff") == "01ff"
    assert encode("binary", bytearray(b"\x00")) == "00"
    assert encode("boolean", False) == "false" and encode("boolean", True) == "true"
    assert encode("date", dt.date(1, 1, 1)) == "0001-01-01"


# --------------------------------------------------------------------------- refusals

BAD_VALUES: list[tuple[str, object, str]] = [
    ("integer", INTEGER_MAX + 1, "outside"),
    ("integer", INTEGER_MIN - 1, "outside"),
    ("integer", True, "bool"),
    ("integer", 1.5, "float"),
    ("integer", Decimal("1.5"), "Decimal"),
    ("integer", "1", "str"),
    ("decimal", Decimal("NaN"), "NaN"),
    ("decimal", Decimal("Infinity"), "NaN and infinities"),
    ("decimal", Decimal("1E+126"), "magnitude"),
    ("decimal", Decimal("1E-131"), "magnitude"),
    ("decimal", Decimal("1." + "1" * 38), "38 significant digits"),
    ("decimal", "1.5", "str"),
    ("decimal", False, "bool"),
    ("float", float("nan"), "NaN"),
    ("float", float("inf"), "NaN and infinities"),
    ("float", 1e300, "magnitude"),
    ("float", 5e-324, "magnitude"),
    ("boolean", 1, "int"),
    ("date", dt.datetime(2024, 1, 1), "datetime"),
    ("date", "2024-01-01", "str"),
    ("datetime", dt.date(2024, 1, 1), "date"),
    ("datetime", dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))), "0001..9999"),
    ("datetime", dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "0001"),
    ("uuid", "12345678-9abc-def0-1234-56789abcdef0", "str"),
    ("binary", "00", "str"),
    ("string", b"x", "bytes"),
    ("string", "a\ud800b", "surrogate"),
    ("uuid", None, "NoneType"),
]


@pytest.mark.parametrize(("kind", "value", "why"), BAD_VALUES)
def test_unencodable_values_are_refused(kind: str, value: object, why: str) -> None:
    with pytest.raises(KeyEncodingError) as info:
        encode(kind, value)
    message = str(info.value)
    assert kind in message and why in message
    assert repr(value) in message


def test_unknown_kind() -> None:
    with pytest.raises(KeyEncodingError, match="unknown key kind 'map'"):
        encode("map", {})
    with pytest.raises(KeyEncodingError, match="unknown key kind"):
        decode("list", "x")


MALFORMED: list[tuple[str, str]] = [
    ("string", "a#b"),  # bare separator
    ("string", "a b"),  # space must be escaped
    ("string", "$41"),  # "A" needs no escape: not canonical
    ("string", "$2"),
    ("string", "$2g"),
    ("integer", "42"),
    ("integer", "1000000000000000004x"),
    ("integer", "١٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٤٢"[:20]),  # non-ASCII digits
    ("decimal", "3" + "0" * 41),
    ("decimal", "1" + "0" * 40 + "1"),  # zero with a stray digit
    ("decimal", "2130" + "0" * 38),  # mantissa not normalised
    ("decimal", "2130"),
    ("float", "2130" + "1" * 38),  # 38 digits: not the repr of any float
    ("boolean", "True"),
    ("boolean", "1"),
    ("date", "20240101"),
    ("date", "2024-02-30"),
    ("datetime", "2024-01-01T00:00:00Z"),
    ("datetime", "2024-01-01T00:00:00.000000+00:00"),
    ("uuid", "12345678-9ABC-DEF0-1234-56789ABCDEF0"),
    ("uuid", "{12345678-9abc-def0-1234-56789abcdef0}"),
    ("binary", "0"),
    ("binary", "FF"),
    ("binary", "0 1"),
]


@pytest.mark.parametrize(("kind", "text"), MALFORMED)
def test_malformed_text_is_refused(kind: str, text: str) -> None:
    with pytest.raises(KeyEncodingError, match=f"malformed {kind}"):
        decode(kind, text)


@pytest.mark.parametrize(
    "kind", ["integer", "decimal", "float", "boolean", "date", "datetime", "uuid"]
)
def test_begins_with_only_on_string_and_binary(kind: str) -> None:
    with pytest.raises(
        KeyEncodingError, match=f"begins_with needs a string or binary slot; {kind}"
    ):
        encode_value_for_prefix(kind, 1)


# --------------------------------------------------------------------------- templates


def test_parse_template_parts() -> None:
    t = parse_template("ORDER#{created_at}#{order_id}")
    assert t.parts == (Text("ORDER#"), Slot("created_at"), Text("#"), Slot("order_id"))
    assert t.slots == ("created_at", "order_id")
    assert t.source == "ORDER#{created_at}#{order_id}"
    assert parse_template("PRODUCT").parts == (Text("PRODUCT"),)
    assert parse_template("{id}").parts == (Slot("id"),)
    assert parse_template("{a}#{b}X").parts == (Slot("a"), Text("#"), Slot("b"), Text("X"))


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("", 0, "empty key template"),
        ("A#{x", 2, "never closed"),
        ("A#{x#{y}", 2, "never closed"),
        ("A#x}", 3, "without a matching"),
        ("A#{x}}", 5, "without a matching"),
        ("A#{}", 2, "empty slot"),
        ("{1a}", 1, "bad slot name '1a'"),
        ("A#{a b}", 3, "bad slot name 'a b'"),
        ("A#{a-b}", 3, "bad slot name"),
        ("{a}{b}", 3, "touch"),
        ("P#{a}{b}#", 5, "touch"),
        ("{a}#{a}", 4, "appears twice"),
    ],
)
def test_parse_template_errors_carry_offset(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse_template(text)
    assert isinstance(info.value, ValueError)
    assert info.value.offset == offset
    assert fragment in str(info.value) and f"offset {offset}" in str(info.value)


def test_render_prefix_and_literal_prefix() -> None:
    t = parse_template("A#{x}#{y}#END")
    assert t.render({"x": "1", "y": "2"}) == "A#1#2#END"
    assert t.render_prefix({}) == "A#"
    assert t.render_prefix({"x": "1"}) == "A#1#"
    assert t.render_prefix({"y": "2"}) == "A#"
    assert t.render_prefix({"x": "1", "y": "2"}) == "A#1#2#END"
    assert t.literal_prefix() == "A#"
    assert parse_template("STATIC").literal_prefix() == "STATIC"
    assert parse_template("{x}#A").literal_prefix() == ""
    with pytest.raises(KeyError, match=r"\{y\}"):
        t.render({"x": "1"})


@st.composite
def templates_with_values(draw: st.DrawFn) -> tuple[Template, dict[str, str], dict[str, Any]]:
    """A random template whose slots are separated by literals starting with '#'."""
    n = draw(st.integers(1, 4))
    literal = st.text(alphabet="#ABCXYZ_-:.", max_size=5)
    source = draw(literal)
    kinds: dict[str, str] = {}
    values: dict[str, Any] = {}
    for i in range(n):
        name = f"s{i}"
        kinds[name] = draw(st.sampled_from(keys.KINDS))
        values[name] = draw(VALUES[kinds[name]])
        source += "{" + name + "}"
        if i + 1 < n:
            source += "#" + draw(literal)
    source += draw(st.one_of(st.just(""), literal.map(lambda s: "#" + s)))
    return parse_template(source), kinds, values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates_with_values())
def test_render_parse_round_trip(case: tuple[Template, dict[str, str], dict[str, Any]]) -> None:
    template, kinds, values = case
    encoded = {name: encode(kinds[name], v) for name, v in values.items()}
    key = template.render(encoded)
    assert template.parse(key) == encoded
    assert template.parse(key, kinds) == encoded
    decoded = {name: decode(kinds[name], text) for name, text in encoded.items()}
    assert {n: _natural(kinds[n], v) for n, v in decoded.items()} == {
        n: _natural(kinds[n], v) for n, v in values.items()
    }
    assert template.parse("\x00" + key, kinds) is None  # no encoding holds a raw NUL


def test_parse_with_kinds_splits_literals_inside_values() -> None:
    t = parse_template("{day}-{n}")
    kinds = {"day": "date", "n": "integer"}
    key = t.render({"day": encode("date", dt.date(2024, 5, 6)), "n": encode("integer", 7)})
    assert t.parse(key, kinds) == {"day": "2024-05-06", "n": "10000000000000000007"}
    assert t.parse("2024-05-06-7", kinds) is None  # 7 is not a 20-digit integer
    assert parse_template("A#{x}").parse("B#x") is None


def test_ordering_problems() -> None:
    kinds = {"x": "string", "y": "integer"}
    assert ordering_problems(parse_template("A#{x}#{y}"), kinds) == ()
    assert ordering_problems(parse_template("A#{y}~{x}"), kinds) == ()  # fixed width: any literal
    (problem,) = ordering_problems(parse_template("A#{x}~{y}"), kinds)
    assert "{x}" in problem and "variable width" in problem
    # ... and the hazard is real: "ab" > "abc" once followed by "~"
    t = parse_template("A#{x}~{y}")
    k_ab = t.render({"x": encode("string", "ab"), "y": encode("integer", 0)})
    k_abc = t.render({"x": encode("string", "abc"), "y": encode("integer", 0)})
    assert _b(k_ab) > _b(k_abc)
    assert ordering_problems(parse_template("{x}"), {}) == ("slot {x} has no type",)
    assert "cannot be in a key" in ordering_problems(parse_template("{x}"), {"x": "map"})[0]


# --------------------------------------------------------------------------- DynamoDB itself


def test_dynamodb_local_sorts_encoded_keys_as_natural_order(dynamodb_local: Any) -> None:
    """DynamoDB Local, not our assumption about it, orders the encoded sort keys."""
    import random

    client = dynamodb_local.client()
    table = f"keys_order_{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    rng = random.Random(3)
    samples: dict[str, list[Any]] = {
        "string": [
            "",
            "a",
            "ab",
            "ab!",
            "ab c",
            "ab#",
            "ab$",
            "abc",
            "b",
            "é",
            "😀",
            "\uffff",
            "a\x00",
            "Z",
        ],
        "integer": [INTEGER_MIN, -(2**63), -1000, -1, 0, 1, 7, 10, 2**63 - 1, INTEGER_MAX],
        "decimal": [
            Decimal(s)
            for s in (
                "-1E+125",
                "-10.5",
                "-10.25",
                "-1",
                "-1E-130",
                "0",
                "1E-130",
                "0.5",
                "1",
                "1.5",
                "10",
                "9.99E+125",
            )
        ],
        "float": [-1e100, -2.5, -0.1, 0.0, 1e-100, 0.1, 0.2, 1.0, 3.5e10],
        "boolean": [False, True],
        "date": [
            dt.date(1, 1, 1),
            dt.date(1999, 12, 31),
            dt.date(2024, 2, 29),
            dt.date(9999, 12, 31),
        ],
        "datetime": [
            dt.datetime(2023, 10, 29, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1),
            dt.datetime(2023, 10, 29, 2, 45, tzinfo=ZoneInfo("Europe/Berlin")),
            dt.datetime(2024, 1, 1),
            dt.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
            dt.datetime(2024, 1, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")),
        ],
        "uuid": [uuid.UUID(int=rng.getrandbits(128)) for _ in range(8)] + [uuid.UUID(int=0)],
        "binary": [b"", b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00"],
    }
    try:
        for kind, values in samples.items():
            for i, value in enumerate(values):
                second = ["", "a", "b"][i % 3]
                client.put_item(
                    TableName=table,
                    Item={
                        "pk": {"S": kind},
                        "sk": {"S": f"{encode(kind, value)}#{encode('string', second)}"},
                        "i": {"N": str(i)},
                    },
                )
            items = client.query(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": kind}},
            )["Items"]
            got = [int(item["i"]["N"]) for item in items]
            pairs = [(_natural(kind, v), ["", "a", "b"][i % 3]) for i, v in enumerate(values)]
            expected = sorted(range(len(values)), key=lambda i: pairs[i])
            assert got == expected, kind
    finally:
        client.delete_table(TableName=table)


# --------------------------------------------------------------------------- after(prefix)


@given(st.text(min_size=1, max_size=6), st.text(max_size=6))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_after_bounds_every_string_with_the_prefix(prefix: str, rest: str) -> None:
    """`after(p)` sorts above every string starting with p (as DynamoDB compares: UTF-8 bytes)
    and does not itself start with p, so BETWEEN low AND after(p) reads exactly that range."""
    try:
        bound = keys.after(prefix)
    except keys.KeyEncodingError:
        assert set(prefix) == {"\U0010ffff"}
        return
    assert (prefix + rest).encode() < bound.encode()
    assert not bound.startswith(prefix)
    assert prefix.encode() < bound.encode()


def test_after_skips_the_surrogate_block_and_the_last_code_point() -> None:
    assert keys.after("A#") == "A$"
    assert keys.after("a\U0010ffff") == "b"
    assert keys.after("x\ud7ff") == "y"  # no successor code point below the surrogates
    with pytest.raises(keys.KeyEncodingError):
        keys.after("\U0010ffff\U0010ffff")


# --------------------------------------------------------------------------- NULL sentinels


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(keys.KINDS), st.sampled_from(keys.KINDS), st.booleans(), st.data())
def test_null_sentinel_sorts_after_or_before_every_value(
    kx: str, ky: str, high: bool, data: st.DataObject
) -> None:
    """`A#{x}#{y}` with either slot NULL (filled with its sentinel): byte order == tuple order
    with NULL greater (high) or smaller (low) than every value, as PostgreSQL's NULLS LAST /
    NULLS FIRST. Both slots are followed by `#` or the end; a low variable-width slot at the end
    is what null_problems refuses, so y is only low when it is fixed-width."""
    template = parse_template("A#{x}#{y}")
    y_high = high if ky not in keys.VARIABLE_WIDTH_KINDS else True
    pairs = []
    for _ in range(2):
        x = data.draw(st.one_of(st.none(), VALUES[kx]))
        y = data.draw(st.one_of(st.none(), VALUES[ky]))
        pairs.append((x, y))
    if data.draw(st.booleans()):
        pairs[1] = (pairs[0][0], pairs[1][1])

    def enc(kind: str, v: Any, h: bool) -> str:
        return keys.encode_null(kind, h) if v is None else encode(kind, v)

    def nat(kind: str, v: Any, h: bool) -> tuple[int, Any]:
        return (1 if h else -1, 0) if v is None else (0, _natural(kind, v))

    rendered = [
        _b(template.render({"x": enc(kx, x, high), "y": enc(ky, y, y_high)})) for x, y in pairs
    ]
    natural = [(nat(kx, x, high), nat(ky, y, y_high)) for x, y in pairs]
    assert _cmp(rendered[0], rendered[1]) == _cmp(natural[0], natural[1]), (pairs, rendered)
    assert keys.null_problems(template, {"x": kx, "y": ky}, "x", high) is None
    assert keys.null_problems(template, {"x": kx, "y": ky}, "y", y_high) is None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(keys.KINDS), st.booleans(), st.data())
def test_null_sentinel_is_no_encoding_and_no_prefix(
    kind: str, high: bool, data: st.DataObject
) -> None:
    """`=` and `begins_with` (non-empty prefix) never select the sentinel; it never decodes."""
    sentinel = keys.encode_null(kind, high)
    value = encode(kind, data.draw(VALUES[kind]))
    assert value != sentinel
    assert not value.startswith(sentinel)
    if value:
        assert not sentinel.startswith(value)
    with pytest.raises(KeyEncodingError):
        decode(kind, sentinel)
    assert parse_template("A#{x}").parse("A#" + sentinel, {"x": kind}) == {"x": sentinel}


def test_null_low_at_the_end_of_a_variable_width_key_is_refused() -> None:
    """At the end of a key the empty string sorts before `!`: null_problems says so."""
    kinds = {"x": "string", "d": "date"}
    assert _b("A#" + keys.encode_null("string", False)) > b"A#"  # why it is refused
    assert keys.null_problems(parse_template("A#{x}"), kinds, "x", False) is not None
    assert keys.null_problems(parse_template("A#{x}"), kinds, "x", True) is None
    assert keys.null_problems(parse_template("A#{x}#B"), kinds, "x", False) is None
    assert keys.null_problems(parse_template("A#{d}"), kinds, "d", False) is None


def test_the_last_code_point_is_escaped_so_the_high_string_sentinel_never_occurs() -> None:
    assert encode("string", "\U0010ffff") == "\U0010ffff\U0010fffe"
    assert decode("string", "\U0010ffff\U0010fffe") == "\U0010ffff"
    with pytest.raises(KeyEncodingError):
        decode("string", "\U0010ffff")
    assert _b(encode("string", "\U0010ffff" * 3)) < _b(keys.encode_null("string", True))


def test_parse_template_is_memoised_per_text_and_never_memoises_an_error() -> None:
    """`parse_template` is memoised (a compile asks for each template many times): one text
    gives one Template, another text its own, and a bad template raises on every call."""
    first = parse_template("MEMO#{a}#{b}")
    assert parse_template("MEMO#{a}#{b}") is first
    other = parse_template("MEMO#{b}#{a}")
    assert other.slots == ("b", "a") and first.slots == ("a", "b")
    assert other.parts == (Text("MEMO#"), Slot("b"), Text("#"), Slot("a"))
    for _ in range(2):
        with pytest.raises(TemplateSyntaxError, match="appears twice"):
            parse_template("MEMO#{a}#{a}")
    info = parse_template.cache_info()
    assert info.maxsize is not None  # bounded: a long-lived worker never grows without end
