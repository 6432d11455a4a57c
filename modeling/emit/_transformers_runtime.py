"""The fixed part of a generated `transformers.py`: errors and the slow, careful paths.

Kept apart from the emitter so the emitter reads as "what is generated per entity" and this
file reads as the Python it pastes in verbatim. The generated per-entity functions handle the
common case inline (a class check, then the conversion) and call these helpers only for
unusual values; the helpers validate everything and raise `_Bad`, which the per-entity
function turns into a typed `TransformError` carrying the entity and the row's key.

Placeholders: `$type_attribute`, and DynamoDB's limits from `modeling.core.limits`
(`runtime_values()` gives them all as source text).
"""

from __future__ import annotations

from modeling.core.limits import (
    ATTRIBUTE_NAME_BYTES,
    ITEM_BYTES,
    NESTED_LEVELS,
    PARTITION_KEY_BYTES,
    SORT_KEY_BYTES,
)


def _bytes_source(n: int) -> str:
    """`400 * 1024` rather than `409600`: the generated code reads like the documentation."""
    return f"{n // 1024} * 1024" if n % 1024 == 0 and n > 4096 else str(n)


def runtime_values(type_attribute: str) -> dict[str, str]:
    """The placeholder values of RUNTIME (`type_attribute` already Python source)."""
    return {
        "type_attribute": type_attribute,
        "item_limit": _bytes_source(ITEM_BYTES),
        "partition_key_limit": _bytes_source(PARTITION_KEY_BYTES),
        "sort_key_limit": _bytes_source(SORT_KEY_BYTES),
        "nesting_limit": str(NESTED_LEVELS - 1),
        "name_limit": _bytes_source(ATTRIBUTE_NAME_BYTES),
    }


RUNTIME = r'''
AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
Row = dict[str, Any]

ITEM_LIMIT: Final = $item_limit  # bytes, counted as DynamoDB does (names + values)
PARTITION_KEY_LIMIT: Final = $partition_key_limit  # bytes of UTF-8
SORT_KEY_LIMIT: Final = $sort_key_limit
# maps/lists an attribute's value may nest (DynamoDB: 32 levels, the item being the first)
NESTING_LIMIT: Final = $nesting_limit
NAME_LIMIT: Final = $name_limit  # bytes of UTF-8 of a map key (an attribute name), at least 1
TYPE_ATTRIBUTE: Final = $type_attribute
_N38: Final = 10**38  # integers below this magnitude have <= 38 digits: valid as they are
_DATE: Final = _dt.date
_DATETIME: Final = _dt.datetime
_UTC: Final = _dt.UTC
_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_EPOCH_NAIVE: Final = _dt.datetime(1970, 1, 1)
_SECOND: Final = _dt.timedelta(seconds=1)


# --------------------------------------------------------------------------- errors


class TransformError(ValueError):
    """A row that cannot become an item, or an item that cannot become a row.

    `entity` names the entity, `row_key` is the row's identity (its key attributes' values in
    the entity's key order; None when not even those could be read), `reason` says what is
    wrong and `attribute` which attribute, when one is to blame. A migration runner catches
    this one class and dead-letters the row.
    """

    def __init__(
        self,
        entity: str,
        row_key: tuple[Any, ...] | None,
        reason: str,
        attribute: str | None = None,
    ) -> None:
        where = entity if row_key is None else f"{entity}{row_key!r}"
        super().__init__(f"{where}: {reason}")
        self.entity = entity
        self.row_key = row_key
        self.reason = reason
        self.attribute = attribute


class MissingValue(TransformError):
    """A required attribute, or a slot of the table key, is NULL or absent."""


class InvalidValue(TransformError):
    """A value of the wrong type, or one DynamoDB cannot store (NaN, > 38 digits, ...)."""


class InvalidKey(TransformError):
    """A key that would be empty or too long, or a slot value without a key encoding."""


class ItemTooLarge(TransformError):
    """The item is over DynamoDB's 400 KB; `size` is its size in bytes."""

    def __init__(
        self, entity: str, row_key: tuple[Any, ...] | None, reason: str, size: int
    ) -> None:
        super().__init__(entity, row_key, reason)
        self.size = size


class UnknownEntity(TransformError):
    """An item whose type attribute names no entity of this model."""


class _Bad(Exception):
    """Raised by the conversion helpers; re-raised by the entity function as `kind`."""

    def __init__(self, kind: type[TransformError], attribute: str | None, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.attribute = attribute
        self.reason = reason

    def error(self, entity: str, row_key: tuple[Any, ...] | None) -> TransformError:
        return self.kind(entity, row_key, self.reason, self.attribute)


def _row_key(row: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...] | None:
    try:
        return tuple(row.get(name) for name in names)
    except Exception:  # not even a mapping: nothing to name the row by
        return None


def _failure(
    entity: str, row: Mapping[str, Any], names: tuple[str, ...], exc: Exception
) -> TransformError:
    """The typed error for an exception raised while building an item."""
    key = _row_key(row, names)
    if isinstance(exc, TransformError):
        return exc
    if isinstance(exc, _Bad):
        return exc.error(entity, key)
    if isinstance(exc, KeyError):
        name = exc.args[0] if exc.args else "?"
        return MissingValue(entity, key, f"the row has no attribute {name!r}", str(name))
    if isinstance(exc, _keys.KeyEncodingError):
        return InvalidKey(entity, key, str(exc))
    return InvalidValue(entity, key, f"{type(exc).__name__}: {exc}")


def _missing(attribute: str) -> _Bad:
    return _Bad(MissingValue, attribute, f"{attribute} is NULL but required")


def _expected(attribute: str, what: str, value: object) -> _Bad:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return _Bad(
        InvalidValue, attribute, f"{attribute}: expected {what}, got {type(value).__name__} {text}"
    )


# --------------------------------------------------------------------------- values


def _string(value: object, attribute: str) -> str:
    if isinstance(value, str):
        return str(value)  # a str subclass (an enum member, say) as a plain str
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "str", value)


def _number_text(number: Decimal, attribute: str) -> str:
    """A finite Decimal within DynamoDB's number limits, as an N string without exponent."""
    if not number.is_finite():
        raise _Bad(InvalidValue, attribute, f"{attribute}: {number} is not a number DynamoDB stores")
    if not number:
        exponent = number.as_tuple().exponent
        return "0" if isinstance(exponent, int) and exponent < -38 else format(number, "f")
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > 38:
        raise _Bad(
            InvalidValue,
            attribute,
            f"{attribute}: {number} has {len(digits)} significant digits; DynamoDB keeps 38",
        )
    if not -130 <= number.adjusted() <= 125:
        raise _Bad(
            InvalidValue,
            attribute,
            f"{attribute}: {number} is outside DynamoDB's magnitude range 1e-130 .. 9.99e125",
        )
    return format(number, "f")


def _integer_text(value: object, attribute: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if -_N38 < value < _N38:
            return str(int(value))
        return _number_text(Decimal(value), attribute)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return _integer_text(int(value), attribute)
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "int", value)


def _float_text(value: object, attribute: str) -> str:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Bad(InvalidValue, attribute, f"{attribute}: {value} is not a number DynamoDB stores")
        return _number_text(Decimal(repr(value)), attribute)
    if isinstance(value, Decimal):
        return _number_text(value, attribute)
    if isinstance(value, int) and not isinstance(value, bool):
        return _integer_text(value, attribute)
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "float", value)


def _decimal_text(value: object, attribute: str) -> str:
    if isinstance(value, Decimal):
        return _number_text(value, attribute)
    return _float_text(value, attribute)


def _boolean(value: object, attribute: str) -> bool:
    if value is True or value is False:
        return value
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "bool", value)


def _date_text(value: object, attribute: str) -> str:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value.isoformat()
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "datetime.date", value)


def _naive_text(value: _dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ`: the key codec's datetime text (always 6 digits)."""
    return value.isoformat() + ("Z" if value.microsecond else ".000000Z")


def _datetime_text(value: object, attribute: str) -> str:
    """ISO-8601 UTC; aware values are converted, naive values are taken to BE UTC."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            offset = value.utcoffset()
            try:
                if offset:
                    value = value - offset
            except OverflowError:
                raise _Bad(
                    InvalidValue, attribute, f"{attribute}: {value} falls outside years 1..9999 in UTC"
                ) from None
            value = value.replace(tzinfo=None)
        return _naive_text(value)
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "datetime.datetime", value)


def _epoch_text(value: object, attribute: str) -> str:
    """Whole seconds since 1970-01-01 UTC, for the table's TTL attribute (DynamoDB's TTL reads
    only a Number of epoch seconds). Naive values are taken to BE UTC, as everywhere; the
    sub-second part is dropped (floor: the datetime's own seconds, also before 1970)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            return str((value - _EPOCH_NAIVE) // _SECOND)
        try:
            value.astimezone(_UTC)  # the same range check as _datetime_text
        except OverflowError:
            raise _Bad(
                InvalidValue, attribute, f"{attribute}: {value} falls outside years 1..9999 in UTC"
            ) from None
        return str((value - _EPOCH) // _SECOND)
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "datetime.datetime", value)


def _from_epoch(value: Mapping[str, Any]) -> _dt.datetime:
    """The TTL attribute back as an aware UTC datetime. An S value (ISO text, as items written
    before the TTL attribute became a Number hold it) is read too, so old items still decode."""
    number = value.get("N")
    if number is None:
        return _dt.datetime.fromisoformat(value["S"])
    return _EPOCH + _dt.timedelta(seconds=int(Decimal(number)))


def _naive(value: Any) -> Any:
    """A decoded datetime of a `timezone: false` attribute (a PostgreSQL `timestamp`) as the
    naive value the row held: the stored UTC text's wall-clock time, without tzinfo. Lists are
    walked; None and naive values stay as they are."""
    if value.__class__ is _DATETIME:
        return value if value.tzinfo is None else value.astimezone(_UTC).replace(tzinfo=None)
    if value.__class__ is list:
        return [_naive(v) for v in value]
    return value


def ttl_attribute_value(value: object, attribute: str = "value") -> AttributeValue | None:
    """A datetime as the table's TTL attribute stores it: {"N": "<epoch seconds>"}, sub-second
    part dropped (None for None). For filter values on that attribute."""
    if value is None:
        return None
    try:
        return {"N": _epoch_text(value, attribute)}
    except _Bad as exc:
        raise exc.error("?", None) from None


def _uuid_text(value: object, attribute: str) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(UUID(value))
        except ValueError:
            raise _expected(attribute, "a UUID", value) from None
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "uuid.UUID", value)


def _binary(value: object, attribute: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if value is None:
        raise _missing(attribute)
    raise _expected(attribute, "bytes", value)


def _json(value: object, attribute: str, depth: int = 0) -> AttributeValue:
    """A JSON-like value (jsonb): dict -> M, list -> L, None -> NULL, numbers -> N, ...

    `depth`: the maps and lists around `value` in the attribute (see `_too_deep`).
    """
    if value is None:
        return {"NULL": True}
    if value is True or value is False:
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        if depth >= NESTING_LIMIT:
            raise _too_deep(attribute)
        return {
            "M": {_name(str(k), attribute): _json(v, attribute, depth + 1) for k, v in value.items()}
        }
    if isinstance(value, list | tuple):
        if depth >= NESTING_LIMIT:
            raise _too_deep(attribute)
        return {"L": [_json(v, attribute, depth + 1) for v in value]}
    if isinstance(value, int):
        return {"N": _integer_text(value, attribute)}
    if isinstance(value, float | Decimal):
        return {"N": _decimal_text(value, attribute)}
    raise _expected(attribute, "a JSON value (dict, list, str, number, bool, None)", value)


def _name(key: str, attribute: str) -> str:
    """A map key as DynamoDB takes it (an attribute name: 1 byte .. NAME_LIMIT of UTF-8)."""
    if key and (len(key) * 4 <= NAME_LIMIT or len(key.encode("utf-8", "surrogatepass")) <= NAME_LIMIT):
        return key
    what = "an empty key" if not key else f"a key of {len(key.encode('utf-8', 'surrogatepass'))} bytes"
    raise _Bad(
        InvalidValue,
        attribute,
        f"{attribute}: a map holds {what}; DynamoDB's attribute names are 1 .. {NAME_LIMIT} bytes",
    )


def _too_deep(attribute: str) -> _Bad:
    """A value nesting more maps/lists than DynamoDB stores: refused for its row (DynamoDB
    would refuse the whole request holding it, every other row of the batch with it)."""
    return _Bad(
        InvalidValue,
        attribute,
        f"{attribute}: nests more than {NESTING_LIMIT} maps/lists; DynamoDB stores "
        f"{NESTING_LIMIT + 1} levels (the item is the first)",
    )


def _json_sized(value: Any, attribute: str, depth: int = 0) -> tuple[AttributeValue, int]:
    """`_json` plus an upper bound of the value's size (strings at 4 bytes a character,
    numbers at 21): one pass, so the 400 KB check costs nothing extra in the common case."""
    cls = value.__class__
    if cls is str:
        return {"S": value}, 4 * len(value)
    if cls is dict:
        if depth >= NESTING_LIMIT:
            raise _too_deep(attribute)
        members: dict[str, AttributeValue] = {}
        total = 3
        for key, member in value.items():
            if key.__class__ is not str:
                key = str(key)
            if not key or len(key) * 4 > NAME_LIMIT:
                key = _name(key, attribute)
            av, size = _json_sized(member, attribute, depth + 1)
            members[key] = av
            total += 4 * len(key) + 1 + size
        return {"M": members}, total
    if cls is Decimal:
        text = str(value)
        if "E" in text or len(text) > 38 or not "0" <= text[-1] <= "9":
            text = _decimal_text(value, attribute)
        return {"N": text}, 21
    if cls is int:
        return {"N": _integer_text(value, attribute)}, 21
    if cls is list:
        if depth >= NESTING_LIMIT:
            raise _too_deep(attribute)
        elements: list[AttributeValue] = []
        total = 3
        for member in value:
            av, size = _json_sized(member, attribute, depth + 1)
            elements.append(av)
            total += 1 + size
        return {"L": elements}, total
    av = _json(value, attribute, depth)
    return av, _av_size(av)


def _set_sized(kind: str, value: Any, attribute: str) -> tuple[AttributeValue | None, int]:
    """`_set` plus an upper bound of its size; a fast path for a collection of str."""
    if kind == "string" and value.__class__ in (list, frozenset, set, tuple):
        strings = set(value)
        total = 0
        for member in strings:
            if member.__class__ is not str:
                break
            total += len(member)
        else:
            return ({"SS": sorted(strings)}, 4 * total) if strings else (None, 0)
    av = _set(kind, value, attribute)
    return av, 0 if av is None else _av_size(av)


_SCALAR_TAG: Final = {
    "string": "S", "integer": "N", "decimal": "N", "float": "N", "boolean": "BOOL",
    "date": "S", "datetime": "S", "uuid": "S", "binary": "B",
}  # fmt: skip


def _scalar(kind: str, value: object, attribute: str) -> Any:
    """The AttributeValue payload of a scalar of `kind`."""
    if kind == "string":
        return _string(value, attribute)
    if kind == "integer":
        return _integer_text(value, attribute)
    if kind == "decimal":
        return _decimal_text(value, attribute)
    if kind == "float":
        return _float_text(value, attribute)
    if kind == "boolean":
        return _boolean(value, attribute)
    if kind == "date":
        return _date_text(value, attribute)
    if kind == "datetime":
        return _datetime_text(value, attribute)
    if kind == "uuid":
        return _uuid_text(value, attribute)
    if kind == "binary":
        return _binary(value, attribute)
    raise _Bad(InvalidValue, attribute, f"{attribute}: unknown type {kind!r}")


def _set(kind: str, value: object, attribute: str) -> AttributeValue | None:
    """SS / NS / BS, sorted and without duplicates; None for an empty set (omitted)."""
    if value is None:
        raise _missing(attribute)
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise _expected(attribute, f"a collection of {kind}", value)
    if kind == "string":
        strings = {_string(v, attribute) for v in value}
        return {"SS": sorted(strings)} if strings else None
    if kind == "binary":
        blobs = {_binary(v, attribute) for v in value}
        return {"BS": sorted(blobs)} if blobs else None
    # one text per number: DynamoDB refuses a set holding `1.0` and `1.00` (or `0` and `-0`)
    # as duplicates, and the whole request with it
    by_value: dict[Decimal, str] = {}
    for text in {_scalar(kind, v, attribute) for v in value}:
        number = Decimal(text)
        kept = by_value.get(number)
        if kept is None or (len(text), text) < (len(kept), kept):
            by_value[number] = text
    return {"NS": [by_value[n] for n in sorted(by_value)]} if by_value else None


def _list(item_type: str, value: object, attribute: str, depth: int = 0) -> AttributeValue:
    """L of `item_type` values (a NULL element stays as {"NULL": True})."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _expected(attribute, f"a list of {item_type}", value)
    if depth >= NESTING_LIMIT:
        raise _too_deep(attribute)
    return {"L": [_to_av(item_type, v, attribute, depth + 1) or {"NULL": True} for v in value]}


def _parse_type(text: str) -> tuple[str, str | None]:
    """`list<set<string>>` -> ("list", "set<string>"); `uuid` -> ("uuid", None)."""
    if text.endswith(">"):
        head, _, rest = text.partition("<")
        return head, rest[:-1]
    return text, None


def to_attribute_value(type_text: str, value: object, attribute: str = "value") -> AttributeValue | None:
    """Any value of a model type (`uuid`, `list<date>`, `set<integer>`, ...) as an
    AttributeValue; None for NULL and for an empty set (DynamoDB omits both).

    The generic, slower path: entity functions inline the common cases. Raises TransformError
    (entity "?") for a value that has no DynamoDB form.
    """
    try:
        return _to_av(type_text, value, attribute)
    except _Bad as exc:
        raise exc.error("?", None) from None


def _to_av(
    type_text: str, value: object, attribute: str, depth: int = 0
) -> AttributeValue | None:
    if value is None:
        return None
    kind, item = _parse_type(type_text)
    if kind == "map":
        return _json(value, attribute, depth)
    if kind == "list" and item is not None:
        return _list(item, value, attribute, depth)
    if kind == "set" and item is not None:
        return _set(item, value, attribute)
    return {_SCALAR_TAG.get(kind, "S"): _scalar(kind, value, attribute)}


# --------------------------------------------------------------------------- sizes and keys


def _slot(kind: str, value: object, attribute: str) -> str:
    """A key-slot value as the key codec encodes it (`_keys`), after the same validation
    and normalisation as the attribute itself, so query-time keys equal write-time keys."""
    if value is None:
        raise _missing(attribute)
    if kind == "string":
        return _keys._encode_string(_string(value, attribute))
    if kind == "integer":
        return _keys._encode_integer(value)
    if kind == "decimal":
        return _keys._encode_decimal(value)
    if kind == "float":
        return _keys._encode_float(value)
    if kind == "boolean":
        return "true" if _boolean(value, attribute) else "false"
    if kind == "date":
        return _date_text(value, attribute)
    if kind == "datetime":
        return _datetime_text(value, attribute)
    if kind == "uuid":
        return _uuid_text(value, attribute)
    if kind == "binary":
        return _binary(value, attribute).hex()
    raise _Bad(InvalidKey, attribute, f"{attribute}: type {kind!r} cannot be in a key")


def _av_size(value: AttributeValue) -> int:
    """Bytes DynamoDB counts for one value (documented sizing rules)."""
    for tag, payload in value.items():
        if tag == "S":
            return len(payload) if payload.isascii() else len(payload.encode("utf-8"))
        if tag == "N":
            return _number_size(payload)
        if tag == "B":
            return len(payload)
        if tag in ("BOOL", "NULL"):
            return 1
        if tag == "SS":
            return sum(len(v.encode("utf-8")) for v in payload)
        if tag == "NS":
            return sum(_number_size(v) for v in payload)
        if tag == "BS":
            return sum(len(v) for v in payload)
        if tag == "L":
            return 3 + sum(1 + _av_size(v) for v in payload)
        if tag == "M":
            return 3 + sum(len(k.encode("utf-8")) + 1 + _av_size(v) for k, v in payload.items())
    return 0


def _number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1 (leading and trailing zeros trimmed)."""
    digits = text.lstrip("-").replace(".", "").strip("0")
    return 1 + (len(digits) + 1) // 2


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """The item's size as DynamoDB counts it: attribute-name bytes plus value bytes.

    Called once per item by the migration's writer (WCU and the 16 MB request limit): the
    common S and N values are sized inline, ASCII text without encoding it.
    """
    total = 0
    for name, value in item.items():
        total += len(name) if name.isascii() else len(name.encode("utf-8"))
        for tag, payload in value.items():
            if tag == "S":
                total += len(payload) if payload.isascii() else len(payload.encode("utf-8"))
            elif tag == "N":
                total += _number_size(payload)
            else:
                total += _av_size(value)
    return total


def _check_size(
    entity: str, row: Mapping[str, Any], names: tuple[str, ...], item: Item
) -> None:
    size = item_size(item)
    if size > ITEM_LIMIT:
        raise ItemTooLarge(
            entity,
            _row_key(row, names),
            f"the item is {size} bytes; DynamoDB's limit is {ITEM_LIMIT} (400 KB)",
            size,
        )


def _check_key(text: str, limit: int, name: str) -> None:
    """Raise when a rendered key is empty or over `limit` UTF-8 bytes."""
    if not text:
        raise _Bad(InvalidKey, None, f"key attribute {name} would be empty; DynamoDB keys need >= 1 byte")
    size = len(text.encode("utf-8"))
    if size > limit:
        raise _Bad(InvalidKey, None, f"key attribute {name} is {size} bytes; DynamoDB allows {limit}")


# --------------------------------------------------------------------------- decoding


def _from_json(value: Mapping[str, Any]) -> Any:
    """The inverse of `_json`: numbers come back as int (integral text) or Decimal."""
    for tag, payload in value.items():
        if tag == "S":
            return payload
        if tag == "N":
            if "." in payload or "e" in payload or "E" in payload:
                return Decimal(payload)
            return int(payload)
        if tag == "BOOL":
            return bool(payload)
        if tag == "NULL":
            return None
        if tag == "M":
            return {k: _from_json(v) for k, v in payload.items()}
        if tag == "L":
            return [_from_json(v) for v in payload]
        if tag == "B":
            return bytes(payload)
        if tag in ("SS", "NS", "BS"):
            return [_from_json({tag[0]: v}) for v in payload]
    raise ValueError(f"empty AttributeValue {value!r}")


def _from_scalar(kind: str, payload: Any) -> Any:
    if kind == "string":
        return payload
    if kind == "integer":
        return int(Decimal(payload))
    if kind == "decimal":
        return Decimal(payload)
    if kind == "float":
        return float(payload)
    if kind == "boolean":
        return bool(payload)
    if kind == "date":
        return _dt.date.fromisoformat(payload)
    if kind == "datetime":
        return _dt.datetime.fromisoformat(payload)
    if kind == "uuid":
        return UUID(payload)
    if kind == "binary":
        return bytes(payload)
    raise ValueError(f"unknown type {kind!r}")


def from_attribute_value(type_text: str, value: Mapping[str, Any] | None) -> Any:
    """The inverse of `to_attribute_value` (None stays None; an absent set is None)."""
    if value is None or "NULL" in value:
        return None
    kind, item = _parse_type(type_text)
    if kind == "map":
        return _from_json(value)
    if kind == "list" and item is not None:
        return [from_attribute_value(item, v) for v in value["L"]]
    if kind == "set" and item is not None:
        for payload in value.values():
            return frozenset(_from_scalar(item, v) for v in payload)
    for payload in value.values():
        return _from_scalar(kind, payload)
    raise ValueError(f"empty AttributeValue {value!r}")
'''
