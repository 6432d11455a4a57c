"""One attribute's code inside `<entity>_to_item`: how its value is checked, normalised, sized
and written as an AttributeValue, and how it fills a key slot."""

from __future__ import annotations

from dataclasses import dataclass

from modeling.core import ir
from modeling.emit._python import literal
from modeling.emit.transformers.common import EmitError

# Longest value bytes per fixed-size kind (numbers: 38 digits -> 1 + 19 bytes, rounded up).
FIXED_SIZE = {
    "integer": 21,
    "decimal": 21,
    "float": 21,
    "boolean": 1,
    "date": 10,
    "datetime": 27,
    "uuid": 36,
}


@dataclass
class AttrCode:
    """Code for one attribute inside `<entity>_to_item`."""

    attribute: ir.Attribute
    raw: str  # local holding the row's value (normalised in place for str/bytes/bool)
    text: str  # local holding the AttributeValue payload (may equal raw)
    load: list[str]  # statements normalising raw -> text (raw known not None)
    av: str  # the AttributeValue expression
    chars: str | None = None  # runtime char count (x4 bounds UTF-8 bytes)
    nbytes: str | None = None  # runtime exact byte count
    static: int = 0  # fixed bytes (name + fixed-size value)
    may_vanish: bool = False  # an empty set: the AttributeValue expression may be None
    slot: str = ""  # the key-slot encoding expression


def attr_code(a: ir.Attribute, i: int, epoch: bool = False) -> AttrCode:
    """`epoch`: the datetime is the table's TTL attribute (see `is_epoch_ttl`)."""
    name = literal(a.name)
    raw, text = f"a{i}", f"v{i}"
    kind = a.type.kind
    name_bytes = len(a.name.encode("utf-8"))
    code = AttrCode(a, raw, text, [], "")
    fixed = FIXED_SIZE.get(kind)
    code.static = name_bytes + (fixed or 0)
    if kind == "string":
        code.text = raw
        code.load = [f"if {raw}.__class__ is not str:", f"    {raw} = _string({raw}, {name})"]
        code.av = f'{{"S": {raw}}}'
        code.chars = f"len({raw})"
        code.slot = f"_keys._encode_string({raw})"
    elif kind == "integer":
        code.load = [
            f"{text} = str({raw}) if {raw}.__class__ is int and -_N38 < {raw} < _N38 "
            f"else _integer_text({raw}, {name})"
        ]
        code.av = f'{{"N": {text}}}'
        code.slot = f"_keys._encode_integer({raw})"
    elif kind == "decimal":
        # str() equals format(, "f") unless it uses an exponent; NaN/Infinity end in a letter
        code.load = [
            f"{text} = str({raw}) if {raw}.__class__ is Decimal else _decimal_text({raw}, {name})",
            f'if "E" in {text} or len({text}) > 38 or not "0" <= {text}[-1] <= "9":',
            f"    {text} = _decimal_text({raw}, {name})",
        ]
        code.av = f'{{"N": {text}}}'
        code.slot = f"_keys._encode_decimal({raw})"
    elif kind == "float":
        code.load = [
            f"{text} = repr({raw}) if {raw}.__class__ is float else _float_text({raw}, {name})",
            f'if "e" in {text} or "n" in {text}:',
            f"    {text} = _float_text({raw}, {name})",
        ]
        code.av = f'{{"N": {text}}}'
        code.slot = f"_keys._encode_float({raw})"
    elif kind == "boolean":
        code.text = raw
        code.load = [
            f"if {raw} is not True and {raw} is not False:",
            f"    {raw} = _boolean({raw}, {name})",
        ]
        code.av = f'{{"BOOL": {raw}}}'
        code.slot = f'("true" if {raw} else "false")'
    elif kind == "date":
        code.load = [
            f"{text} = {raw}.isoformat() if {raw}.__class__ is _DATE else _date_text({raw}, {name})"
        ]
        code.av = f'{{"S": {text}}}'
        code.slot = text
    elif kind == "datetime" and epoch:
        # N epoch seconds (floor division drops the sub-second part); a key slot of it still
        # takes the codec's ISO text, computed only where a key needs it
        code.static = name_bytes + FIXED_SIZE["integer"]
        code.load = [
            f"if {raw}.__class__ is not _DATETIME:",
            f"    {text} = _epoch_text({raw}, {name})",
            f"elif {raw}.tzinfo is None:",
            f"    {text} = str(({raw} - _EPOCH_NAIVE) // _SECOND)",
            f"elif {raw}.tzinfo is _UTC:",
            f"    {text} = str(({raw} - _EPOCH) // _SECOND)",
            "else:",
            f"    {text} = _epoch_text({raw}, {name})",
        ]
        code.av = f'{{"N": {text}}}'
        code.slot = f"_datetime_text({raw}, {name})"
    elif kind == "datetime":
        # naive (taken as UTC) and UTC-aware values inline; other zones in the helper
        code.load = [
            f"if {raw}.__class__ is not _DATETIME:",
            f"    {text} = _datetime_text({raw}, {name})",
            f"elif {raw}.tzinfo is None:",
            f'    {text} = {raw}.isoformat() + ("Z" if {raw}.microsecond else ".000000Z")',
            f"elif {raw}.tzinfo is _UTC:",
            f'    {text} = {raw}.isoformat()[:-6] + ("Z" if {raw}.microsecond else ".000000Z")',
            "else:",
            f"    {text} = _datetime_text({raw}, {name})",
        ]
        code.av = f'{{"S": {text}}}'
        code.slot = text
    elif kind == "uuid":
        code.load = [
            f"{text} = str({raw}) if {raw}.__class__ is UUID else _uuid_text({raw}, {name})"
        ]
        code.av = f'{{"S": {text}}}'
        code.slot = text
    elif kind == "binary":
        code.text = raw
        code.load = [f"if {raw}.__class__ is not bytes:", f"    {raw} = _binary({raw}, {name})"]
        code.av = f'{{"B": {raw}}}'
        code.nbytes = f"len({raw})"
        code.slot = f"{raw}.hex()"
    elif kind == "map":
        code.load = [f"{text}, s{i} = _json_sized({raw}, {name})"]
        code.av = text
        code.nbytes = f"s{i}"
    elif kind == "list":
        assert a.type.item is not None
        code.load = [f"{text} = _list({literal(str(a.type.item))}, {raw}, {name})"]
        code.av = text
        code.nbytes = f"_av_size({text})"
    elif kind == "set" and a.type.item is not None:
        code.load = [f"{text}, s{i} = _set_sized({literal(a.type.item.kind)}, {raw}, {name})"]
        code.av = text
        code.nbytes = f"s{i}"
        code.may_vanish = True
    else:
        raise EmitError(f"attribute {a.name}: no DynamoDB form for type {a.type}")
    return code
