"""`transformers.py`: SQL row -> DynamoDB item -> row, generated per entity.

The generated module imports only the standard library (plus its sibling `_keys.py`, a copy of
`modeling/runtime/keys.py`, so the slot codec has one source) and ships in a Lambda as is. It writes
low-level AttributeValues directly: each entity gets straight-line code (a class check per
attribute, the conversion inline, a slow validating helper only for unusual values), which is
what makes it several times faster than boto3's TypeSerializer (bench/transform.py).

What it produces (the same items as `modeling.sample.codec`, cross-checked in tests):

    string S · integer/decimal/float N (38 significant digits, 1e-130..9.99e125 checked)
    boolean BOOL · date S `YYYY-MM-DD` · datetime S `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC; naive
    values are taken to BE UTC) · uuid S · binary B · map M (nested JSON) · list<T> L
    set<string|integer|decimal|binary> SS/NS/BS (sorted; empty sets omitted) · NULL omitted

The one exception: a `datetime` attribute named by `table.ttl` is N, whole seconds since
1970-01-01 UTC (sub-second part dropped), because DynamoDB's TTL reads only a Number of epoch
seconds; in a key slot it keeps the key codec's text like every datetime. See `is_epoch_ttl`.

Generated files: `__init__.py` (marks the package: the modules import each other
relatively), `_keys.py` and `transformers.py`.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from modeling.core import ir
from modeling.core.errors import OperationError
from modeling.emit import FileManifest, register
from modeling.emit._python import (
    Imports,
    comment_header,
    format_python,
    identifier,
    indent,
    is_plain_identifier,
    literal,
    pascal_case,
    render,
    snake_case,
)
from modeling.emit._transformers_runtime import RUNTIME
from modeling.runtime import keys

KEYS_SOURCE = Path(keys.__file__)

# Python annotation per scalar kind (names imported by every generated module).
ANNOTATION = {
    "string": "str",
    "integer": "int",
    "decimal": "Decimal",
    "float": "float",
    "boolean": "bool",
    "date": "_dt.date",
    "datetime": "_dt.datetime",
    "uuid": "UUID",
    "binary": "bytes",
    "map": "Any",
}
# Field names that would shadow an annotation inside a class body: use the functional form.
_SHADOWING = frozenset({"str", "int", "float", "bool", "bytes", "list", "frozenset", "Any"})
_SHADOWING |= frozenset({"Decimal", "UUID", "_dt"})
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
PK_LIMIT = 2048
SK_LIMIT = 1024
ITEM_LIMIT = 400 * 1024


def is_epoch_ttl(model: ir.Model, attribute: ir.Attribute) -> bool:
    """Whether `attribute` is stored as N epoch seconds: a `datetime` named by `table.ttl`.

    DynamoDB's TTL only expires items whose TTL attribute is a Number of epoch seconds, so an
    ISO string (how other datetimes are stored) would never expire. An `integer` TTL attribute
    is already N and holds epoch seconds as it is.
    """
    return attribute.name == model.table.ttl and attribute.type.kind == "datetime"


class EmitError(OperationError, ValueError):
    """The layout cannot be turned into code (a compiler bug or an unsupported construct)."""


def annotation(t: ir.TypeRef) -> str:
    """The Python type of an attribute value as rows carry it."""
    if t.kind == "list" and t.item is not None:
        return f"list[{annotation(t.item)}]"
    if t.kind == "set" and t.item is not None:
        return f"frozenset[{annotation(t.item)}]"
    return ANNOTATION.get(t.kind, "Any")


@dataclass(frozen=True)
class EntityNames:
    """The Python names generated for one entity."""

    entity: str
    snake: str
    row_type: str  # the TypedDict
    to_item: str
    from_item: str
    table_key: str
    key_const: str


def entity_names(model: ir.Model) -> dict[str, EntityNames]:
    """Stable, unique Python names per entity (used by the client emitter too)."""
    taken: set[str] = set()
    out: dict[str, EntityNames] = {}
    for entity in model.entities:
        snake = identifier(snake_case(entity.name), taken)
        out[entity.name] = EntityNames(
            entity=entity.name,
            snake=snake,
            row_type=pascal_case(entity.name) + "Row",
            to_item=f"{snake}_to_item",
            from_item=f"{snake}_from_item",
            table_key=f"{snake}_table_key",
            key_const=f"_{snake.upper()}_KEY",
        )
    return out


# =========================================================================== entities


@dataclass
class _Attr:
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


def _attr_code(a: ir.Attribute, i: int, epoch: bool = False) -> _Attr:
    """`epoch`: the datetime is the table's TTL attribute (see `is_epoch_ttl`)."""
    name = literal(a.name)
    raw, text = f"a{i}", f"v{i}"
    kind = a.type.kind
    name_bytes = len(a.name.encode("utf-8"))
    code = _Attr(a, raw, text, [], "")
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


@dataclass
class _Key:
    """One index's key attributes for an entity."""

    index: ir.Index
    names: list[str]  # key attribute names, pk first
    values: list[str]  # AttributeValue expressions
    setup: list[str]  # statements computing the locals the values use
    checks: list[str]
    chars: list[str]
    static: int
    optional: list[str]  # raw locals of optional slot attributes: the key is sparse on them


def _fstring(parts: list[tuple[bool, str]]) -> str:
    """Source of a string built from (is_code, text) parts; constant when there is no code."""
    if not any(is_code for is_code, _ in parts):
        return literal("".join(text for _, text in parts))
    pieces: list[str] = []
    for is_code, text in parts:
        if is_code:
            pieces.append(f"{{{text}}}")
        else:
            pieces.append(
                text.replace("\\", "\\\\")
                .replace("{", "{{")
                .replace("}", "}}")
                .replace('"', '\\"')
                .replace("\n", "\\n")
                .replace("\r", "\\r")
                .replace("\t", "\\t")
            )
    body = "".join(pieces)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in body):
        # rare control characters in literal text: fall back to explicit concatenation
        return " + ".join(text if is_code else literal(text) for is_code, text in parts)
    return f'f"{body}"'


class _EntityEmitter:
    def __init__(
        self, model: ir.Model, layout: ir.Layout, entity: ir.Entity, names: EntityNames
    ) -> None:
        self.model = model
        self.layout = layout
        self.entity = entity
        self.names = names
        el = layout.entity(entity.name)
        if el is None:
            raise EmitError(f"the layout has no keys for entity {entity.name}")
        self.el = el
        self.attrs = {
            a.name: _attr_code(a, i, is_epoch_ttl(model, a))
            for i, a in enumerate(entity.attributes)
        }
        key_names = {ka.name for i in layout.indexes for ka in (i.pk, i.sk) if ka is not None}
        for a in entity.attributes:
            if a.name in key_names or a.name == layout.type_attribute:
                raise EmitError(
                    f"{entity.name}.{a.name}: the attribute has the name of a key attribute "
                    "or of the type attribute; rename it (`column:` keeps the SQL name)"
                )

    # ----------------------------------------------------------------- keys

    def _slot_code(self, slot: str, template: str) -> _Attr:
        code = self.attrs.get(slot)
        if code is None:
            raise EmitError(
                f"{self.entity.name}: key template {template!r} names {{{slot}}}, "
                "which is not an attribute"
            )
        if not code.attribute.type.keyable:
            raise EmitError(
                f"{self.entity.name}: {{{slot}}} in {template!r} has type "
                f"{code.attribute.type}, which has no key encoding"
            )
        return code

    def _key_value(
        self, key_type: str, template: str, kmap: dict[str, str], setup: list[str]
    ) -> tuple[str, str | None, int, bool]:
        """(expression of the AttributeValue payload, local if string, static max bytes, may be
        empty or long)."""
        parsed = keys.parse_template(template)
        if key_type != "S":
            slots = parsed.slots
            if len(slots) != 1 or template != "{" + slots[0] + "}":
                raise EmitError(f"{key_type} key template {template!r} must be one bare slot")
            code = self._slot_code(slots[0], template)
            return code.text, None, 0, False
        parts: list[tuple[bool, str]] = []
        static = 0
        variable = False
        for part in parsed.parts:
            if isinstance(part, keys.Text):
                parts.append((False, part.text))
                static += len(part.text.encode("utf-8"))
            else:
                code = self._slot_code(part.attribute, template)
                kind = code.attribute.type.kind
                if part.attribute not in kmap:
                    local = f"k{list(self.attrs).index(part.attribute)}"
                    if code.slot == code.text:
                        kmap[part.attribute] = code.text
                    else:
                        setup.append(f"{local} = {code.slot}")
                        kmap[part.attribute] = local
                parts.append((True, kmap[part.attribute]))
                if kind in keys.VARIABLE_WIDTH_KINDS:
                    variable = True
                else:
                    static += keys.FIXED_WIDTH[kind]
        return _fstring(parts), "", static, variable

    def keys(self) -> list[_Key]:
        out: list[_Key] = []
        assigned: dict[str, str] = {}  # key attribute name -> template
        kmap: dict[str, str] = {}
        for j, ek in enumerate(self.el.keys):
            index = self.layout.index(ek.index)
            if index is None:
                raise EmitError(f"{self.entity.name}: key on unknown index {ek.index}")
            if index.sk is not None and ek.sk is None:
                continue  # not on this index (as modeling.sample.codec does)
            key = _Key(index, [], [], [], [], [], 0, [])
            pairs = [(index.pk, ek.pk, PK_LIMIT, f"pk{j}")]
            if index.sk is not None and ek.sk is not None:
                pairs.append((index.sk, ek.sk, SK_LIMIT, f"sk{j}"))
            for ka, template, limit, local in pairs:
                for slot in keys.parse_template(template).slots:
                    code = self._slot_code(slot, template)
                    if not code.attribute.required and code.raw not in key.optional:
                        key.optional.append(code.raw)
                if ka.name in assigned:
                    if assigned[ka.name] != template:
                        raise EmitError(
                            f"{self.entity.name}: key attribute {ka.name} gets two templates "
                            f"({assigned[ka.name]!r} and {template!r})"
                        )
                    continue
                assigned[ka.name] = template
                expr, is_string, static, variable = self._key_value(
                    ka.type, template, kmap, key.setup
                )
                tag = ka.type
                if is_string is None:
                    key.names.append(ka.name)
                    key.values.append(f'{{"{tag}": {expr}}}')
                    key.static += len(ka.name.encode("utf-8")) + (21 if tag == "N" else 0)
                    if tag == "B":
                        key.chars.append(f"len({expr})")
                    continue
                key.names.append(ka.name)
                key.static += len(ka.name.encode("utf-8"))
                if not variable:
                    if static > limit:
                        raise EmitError(
                            f"{self.entity.name}: key {template!r} is always {static} bytes, "
                            f"over DynamoDB's {limit}"
                        )
                    key.values.append(f'{{"S": {expr}}}')
                    key.static += static
                    continue
                key.setup.append(f"{local} = {expr}")
                key.checks += [
                    f"if not 0 < len({local}) <= {limit // 4}:",
                    f"    _check_key({local}, {limit}, {literal(ka.name)})",
                ]
                key.values.append(f'{{"S": {local}}}')
                key.chars.append(f"len({local})")
            if index.kind == "table" and key.optional:
                raise EmitError(
                    f"{self.entity.name}: the table key uses optional attributes "
                    f"({', '.join(self._attr_name(r) for r in key.optional)}); every item "
                    "needs a table key: make them required"
                )
            if key.names:
                out.append(key)
        return out

    def _attr_name(self, raw: str) -> str:
        for name, code in self.attrs.items():
            if code.raw == raw:
                return name
        return raw

    # ----------------------------------------------------------------- to_item

    def to_item(self) -> str:
        lines: list[str] = []
        entries = [f"{literal(self.layout.type_attribute)}: {{'S': {literal(self.el.type_value)}}}"]
        static = len(self.layout.type_attribute.encode()) + len(self.el.type_value.encode())
        chars: list[str] = []
        nbytes: list[str] = []
        later: list[str] = []
        for code in self.attrs.values():
            a = code.attribute
            static += code.static
            if a.required:
                lines.append(f"{code.raw} = row[{literal(a.name)}]")
                if a.type.kind in ("map", "list", "set"):
                    lines += [f"if {code.raw} is None:", f"    raise _missing({literal(a.name)})"]
                lines += code.load
                if code.may_vanish:
                    later += [
                        f"if {code.text} is not None:",
                        f"    item[{literal(a.name)}] = {code.av}",
                        f"    n += {code.nbytes}",
                    ]
                else:
                    entries.append(f"{literal(a.name)}: {code.av}")
                    if code.chars:
                        chars.append(code.chars)
                    if code.nbytes:
                        nbytes.append(code.nbytes)
            else:
                lines.append(f"{code.raw} = row.get({literal(a.name)})")
                block = [*code.load]
                if code.may_vanish:
                    block += [
                        f"if {code.text} is not None:",
                        f"    item[{literal(a.name)}] = {code.av}",
                        f"    n += {code.nbytes}",
                    ]
                else:
                    block.append(f"item[{literal(a.name)}] = {code.av}")
                    if code.chars:
                        block.append(f"n += 4 * {code.chars}")
                    if code.nbytes:
                        block.append(f"n += {code.nbytes}")
                later += [f"if {code.raw} is not None:", *indent("\n".join(block), 1).split("\n")]
        for key in self.keys():
            static += key.static
            key_lines = [*key.setup, *key.checks]
            if key.optional:
                cond = " and ".join(f"{r} is not None" for r in key.optional)
                assign = [
                    f"item[{literal(n)}] = {v}" for n, v in zip(key.names, key.values, strict=True)
                ]
                if key.chars:
                    assign.append(f"n += 4 * ({' + '.join(key.chars)})")
                later += [f"if {cond}:", *indent("\n".join(key_lines + assign), 1).split("\n")]
            else:
                lines += key_lines
                entries += [
                    f"{literal(n)}: {v}" for n, v in zip(key.names, key.values, strict=True)
                ]
                chars += key.chars
        lines.append("item: Item = {" + ", ".join(entries) + "}")
        size_terms = ([f"4 * ({' + '.join(chars)})"] if chars else []) + nbytes
        needs_n = bool(size_terms) or any("n += " in line for line in later)
        if needs_n:
            lines.append(f"n = {' + '.join(size_terms) or '0'}")
        lines += later
        room = ITEM_LIMIT - static
        if needs_n:
            lines += [
                f"if n > {room}:",
                f"    _check_size({literal(self.entity.name)}, row, {self.names.key_const}, item)",
            ]
        elif static > ITEM_LIMIT:  # pragma: no cover - 400 KB of fixed-size attributes
            raise EmitError(f"{self.entity.name}: items are always over 400 KB")
        lines.append("return item")
        body = indent("\n".join(lines), 2)
        return render(
            '''
            def $fn(row: Mapping[str, Any]) -> Item:
                """A $entity row as a DynamoDB item (low-level AttributeValues).

                Adds `$type_attribute` and every index key ($indexes); NULL attributes and
                empty sets are omitted, and so is a sparse index key whose slot is NULL.
                Raises TransformError (MissingValue, InvalidValue, InvalidKey, ItemTooLarge).
                """
                try:
            $body
                except TransformError:
                    raise
                except Exception as exc:
                    raise _failure($entity_literal, row, $key_const, exc) from exc
            ''',
            fn=self.names.to_item,
            entity=self.entity.name,
            entity_literal=literal(self.entity.name),
            type_attribute=self.layout.type_attribute,
            indexes=", ".join(k.index for k in self.el.keys) or "none",
            body=body,
            key_const=self.names.key_const,
        )

    # ----------------------------------------------------------------- from_item

    def row_type(self) -> str:
        fields = [
            (a.name, annotation(a.type) + ("" if a.required else " | None"))
            for a in self.entity.attributes
        ]
        doc = f'"""A {self.entity.name} row: what `{self.names.from_item}` returns and `{self.names.to_item}` takes."""'
        if fields and all(is_plain_identifier(n) and n not in _SHADOWING for n, _ in fields):
            body = "\n".join(f"    {n}: {t}" for n, t in fields)
            return f"class {self.names.row_type}(TypedDict):\n    {doc}\n\n{body}\n"
        items = ", ".join(f"{literal(n)}: {t}" for n, t in fields)
        return f"{self.names.row_type} = TypedDict({literal(self.names.row_type)}, {{{items}}})\n"

    def _decode(self, a: ir.Attribute, x: str) -> str:
        kind = a.type.kind
        if is_epoch_ttl(self.model, a):
            return f"_from_epoch({x})"
        simple = {
            "string": f'{x}["S"]',
            "integer": f'int({x}["N"])',
            "decimal": f'Decimal({x}["N"])',
            "float": f'float({x}["N"])',
            "boolean": f'{x}["BOOL"]',
            "date": f'_DATE.fromisoformat({x}["S"])',
            "datetime": f'_DATETIME.fromisoformat({x}["S"])',
            "uuid": f'UUID({x}["S"])',
            "binary": f'bytes({x}["B"])',
            "map": f"_from_json({x})",
        }
        if kind in simple:
            return simple[kind]
        return f"from_attribute_value({literal(str(a.type))}, {x})"

    def from_item(self) -> str:
        entries: list[str] = []
        for a in self.entity.attributes:
            name = literal(a.name)
            if a.required and a.type.kind != "set":
                entries.append(f"{name}: {self._decode(a, f'item[{name}]')}")
            elif a.required:  # an empty set was omitted: it comes back empty
                entries.append(
                    f"{name}: frozenset() if (x := item.get({name})) is None else {self._decode(a, 'x')}"
                )
            else:
                entries.append(
                    f"{name}: None if (x := item.get({name})) is None else {self._decode(a, 'x')}"
                )
        body = "{" + ", ".join(entries) + "}"
        return render(
            '''
            def $fn(item: Mapping[str, Any]) -> $row_type:
                """The $entity row an item holds (absent attributes are NULL; datetimes come back
                aware, in UTC)."""
                try:
                    return $body
                except Exception as exc:
                    raise _decode_failure($entity_literal, item, $key_const, exc) from exc
            ''',
            fn=self.names.from_item,
            row_type=self.names.row_type,
            entity=self.entity.name,
            entity_literal=literal(self.entity.name),
            body=body,
            key_const=self.names.key_const,
        )

    # ----------------------------------------------------------------- table key

    def table_key(self) -> str:
        table = next(i for i in self.layout.indexes if i.kind == "table")
        ek = self.el.key(table.name)
        if ek is None:
            raise EmitError(f"{self.entity.name} has no table key")
        lines: list[str] = []
        entries: list[str] = []
        done: dict[str, str] = {}
        for ka, template in ((table.pk, ek.pk), (table.sk, ek.sk)):
            if ka is None or template is None:
                continue
            parsed = keys.parse_template(template)
            if ka.type != "S":
                slot = parsed.slots[0]
                a = self.entity.attribute(slot)
                assert a is not None
                payload = f"_scalar({literal(a.type.kind)}, row[{literal(slot)}], {literal(slot)})"
                entries.append(f'{literal(ka.name)}: {{"{ka.type}": {payload}}}')
                continue
            parts: list[tuple[bool, str]] = []
            for part in parsed.parts:
                if isinstance(part, keys.Text):
                    parts.append((False, part.text))
                    continue
                a = self.entity.attribute(part.attribute)
                assert a is not None
                if part.attribute not in done:
                    local = f"k{len(done)}"
                    lines.append(
                        f"{local} = _slot({literal(a.type.kind)}, row.get({literal(a.name)}), {literal(a.name)})"
                    )
                    done[part.attribute] = local
                parts.append((True, done[part.attribute]))
            entries.append(f'{literal(ka.name)}: {{"S": {_fstring(parts)}}}')
        lines.append("return {" + ", ".join(entries) + "}")
        return render(
            '''
            def $fn(row: Mapping[str, Any]) -> Item:
                """The table key of a $entity (only its slot attributes are read): for
                GetItem, DeleteItem and update checks."""
                try:
            $body
                except Exception as exc:
                    raise _failure($entity_literal, row, $key_const, exc) from exc
            ''',
            fn=self.names.table_key,
            entity=self.entity.name,
            entity_literal=literal(self.entity.name),
            body=indent("\n".join(lines), 2),
            key_const=self.names.key_const,
        )

    def source(self) -> str:
        key = literal(tuple(self.entity.key))
        return "\n\n".join(
            [
                f"# {'-' * 70} {self.entity.name}",
                self.row_type(),
                f"{self.names.key_const}: Final = {key}",
                self.to_item(),
                self.from_item(),
                self.table_key(),
            ]
        )


# =========================================================================== patterns


def coerce_literal(kind: str, value: str | int | float | bool) -> object:
    """A SQL literal from a `sql:` pattern as a value of the slot's kind."""
    if kind == "datetime" and isinstance(value, str):
        dt = datetime.datetime.fromisoformat(value.replace(" ", "T"))
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=datetime.UTC)
    if kind == "date" and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    if kind == "decimal" and not isinstance(value, bool):
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


@dataclass
class PatternParams:
    """The Python parameters of one access pattern: bind name -> (identifier, annotation)."""

    names: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # model type text, for filters

    def signature(self, only: set[str] | None = None) -> str:
        return ", ".join(
            f"{self.names[p]}: {self.types[p]}" for p in self.names if only is None or p in only
        )


RESERVED_PARAMS = frozenset(
    {"self", "start_key", "page_size", "consistent_read", "item", "row", "request", "response"}
)


def _type_of(model: ir.Model, entities: tuple[str, ...], attribute: str) -> ir.TypeRef:
    for name in entities:
        e = model.entity(name)
        a = e.attribute(attribute) if e else None
        if a is not None:
            return a.type
    return ir.TypeRef("string")


def pattern_params(model: ir.Model, plan: ir.PatternPlan) -> PatternParams:
    """Every bind parameter of the plan, typed from the slots and filter attributes."""
    out = PatternParams()
    taken: set[str] = set()
    kinds: dict[str, str] = {}
    for kv in (plan.pk, *plan.sk.values):
        for b in kv.bindings:
            if b.literal is None:
                kinds.setdefault(b.param, b.type)
    for f in plan.filters:
        t = _type_of(model, plan.entities, f.attribute)
        for p in f.params:
            kinds.setdefault(p, str(t))
    order = [*plan.params, *(p for p in kinds if p not in plan.params)]
    for p in order:
        if p not in kinds or p in out.names:
            continue
        out.names[p] = identifier(p, taken, RESERVED_PARAMS)
        t = ir.TypeRef.parse(kinds[p])
        out.types[p] = annotation(t)
        out.kinds[p] = kinds[p]
    return out


def filter_literals(model: ir.Model, plan: ir.PatternPlan) -> dict[tuple[int, int], object]:
    """Fixed values of `sql:` filter conditions: (filter index, value index) -> value."""
    pattern = model.pattern(plan.pattern)
    out: dict[tuple[int, int], object] = {}
    if pattern is None:
        return out
    for i, (f, c) in enumerate(zip(plan.filters, pattern.filter, strict=False)):
        if c.literals and not c.params:
            t = _type_of(model, plan.entities, f.attribute)
            for j, v in enumerate(c.literals):
                out[(i, j)] = coerce_literal(t.kind, v)
    return out


def _render_key(
    kv: ir.KeyValue, params: PatternParams, lines: list[str], locals_: dict[str, str]
) -> str:
    """Source of the key string a KeyValue renders (see `ir.RenderMode`)."""
    template = keys.parse_template(kv.template)
    bound: dict[str, tuple[bool, str]] = {}
    for b in kv.bindings:
        if b.literal is not None:
            value = coerce_literal(b.type, b.literal)
            bound[b.slot] = (False, keys.encode(b.type, value))
            continue
        if b.param not in params.names:
            raise EmitError(
                f"key {kv.template!r} binds {{{b.slot}}} to unknown parameter {b.param!r}"
            )
        key = f"{b.slot}={b.param}"
        if key not in locals_:
            local = f"k{len(locals_)}"
            lines.append(
                f"{local} = _slot({literal(b.type)}, {params.names[b.param]}, {literal(b.param)})"
            )
            locals_[key] = local
        bound[b.slot] = (True, locals_[key])
    parts: list[tuple[bool, str]] = []
    if kv.mode == "full":
        for part in template.parts:
            if isinstance(part, keys.Text):
                parts.append((False, part.text))
            elif part.attribute in bound:
                parts.append(bound[part.attribute])
            else:
                raise EmitError(f"full key {kv.template!r} has no value for {{{part.attribute}}}")
        return _fstring(parts)
    if kv.mode in ("prefix", "after"):
        for part in template.parts:
            if isinstance(part, keys.Text):
                parts.append((False, part.text))
            elif part.attribute in bound:
                parts.append(bound[part.attribute])
            else:
                break
        if kv.mode == "prefix":
            return _fstring(parts)
        if not any(is_code for is_code, _ in parts):
            return literal(_after("".join(t for _, t in parts)))
        return f"_after({_fstring(parts)})"
    if kv.mode == "open":
        keep = 0
        has_slots = any(isinstance(p, keys.Slot) for p in template.parts)
        for part in template.parts:
            if isinstance(part, keys.Slot):
                if part.attribute not in bound:
                    break
                parts.append(bound[part.attribute])
                keep = len(parts)
            else:
                parts.append((False, part.text))
                if not keep and not has_slots:
                    keep = len(parts)
        if keep == 0:
            return literal(template.literal_prefix())
        return _fstring(parts[:keep])
    raise EmitError(f"unknown render mode {kv.mode!r}")


def _after(prefix: str) -> str:
    text = prefix
    while text:
        last = ord(text[-1])
        if last < 0x10FFFF and not 0xD7FF <= last < 0xE000:
            return text[:-1] + chr(last + 1)
        text = text[:-1]
    raise EmitError(f"no string sorts after every string starting with {prefix!r}")


def key_builder_name(plan: ir.PatternPlan) -> str:
    return f"{identifier(snake_case(plan.pattern))}_key"


def _key_av(
    key_type: str, kv: ir.KeyValue, params: PatternParams, lines: list[str], locals_: dict[str, str]
) -> str:
    if key_type == "S":
        return f'{{"S": {_render_key(kv, params, lines, locals_)}}}'
    if len(kv.bindings) != 1:
        raise EmitError(f"{key_type} key {kv.template!r} must bind exactly one slot")
    b = kv.bindings[0]
    if b.literal is not None:
        value = literal(coerce_literal(b.type, b.literal))
    else:
        value = params.names[b.param]
    return f'{{"{key_type}": _scalar({literal(b.type)}, {value}, {literal(b.param)})}}'


def key_builder(layout: ir.Layout, model: ir.Model, plan: ir.PatternPlan) -> str:
    """`<pattern>_key(params)`: the Key of a GetItem plan, or a Query's `:pk`/`:sk0`/`:sk1`."""
    index = layout.index(plan.index)
    if index is None:
        raise EmitError(f"pattern {plan.pattern}: unknown index {plan.index}")
    params = pattern_params(model, plan)
    used = {b.param for kv in (plan.pk, *plan.sk.values) for b in kv.bindings if b.literal is None}
    lines: list[str] = []
    locals_: dict[str, str] = {}
    entries: list[str] = []
    pk = _key_av(index.pk.type, plan.pk, params, lines, locals_)
    if plan.operation == "GetItem":
        entries.append(f"{literal(index.pk.name)}: {pk}")
        if index.sk is not None:
            if plan.sk.kind != "eq":
                raise EmitError(f"pattern {plan.pattern}: GetItem needs an `eq` sort-key value")
            entries.append(
                f"{literal(index.sk.name)}: {_key_av(index.sk.type, plan.sk.values[0], params, lines, locals_)}"
            )
        what = "the Key of its GetItem"
    else:
        entries.append(f'":pk": {pk}')
        if plan.sk.kind != "none":
            if index.sk is None:
                raise EmitError(
                    f"pattern {plan.pattern}: sort-key condition on {index.name}, which has none"
                )
            for i, kv in enumerate(plan.sk.values):
                entries.append(f'":sk{i}": {_key_av(index.sk.type, kv, params, lines, locals_)}')
        what = "the values of its KeyConditionExpression (`:pk`, `:sk0`, `:sk1`)"
    lines.append("return {" + ", ".join(entries) + "}")
    entity = ", ".join(plan.entities)
    return render(
        '''
        def $fn($signature) -> Item:
            """Pattern `$pattern` on $index: $what."""
            try:
        $body
            except _Bad as exc:
                raise exc.error($entity, None) from None
            except _keys.KeyEncodingError as exc:
                raise InvalidKey($entity, None, str(exc)) from None
        ''',
        fn=key_builder_name(plan),
        signature=params.signature(used),
        pattern=plan.pattern,
        index=plan.index,
        what=what,
        body=indent("\n".join(lines), 2),
        entity=literal(entity),
    )


# =========================================================================== module


MODULE_DOC = '''
"""Rows <-> DynamoDB items for model `$model` (table `$table`); standard library only.

Per entity: `<entity>_to_item(row)` (low-level AttributeValues, every index key, the
`$type_attribute` attribute), `<entity>_from_item(item)` and `<entity>_table_key(row)`; per
access pattern `<pattern>_key(...)`. `to_item(entity, row)` and `from_item(item)` dispatch.

Conversions: string S; integer, decimal, float N (at most 38 significant digits, magnitude
1e-130..9.99e125; NaN and infinities rejected); boolean BOOL; date S `YYYY-MM-DD`; datetime S
`YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC (aware values are converted; NAIVE VALUES ARE TAKEN TO BE
UTC); uuid S; binary B; map M (nested JSON; numbers come back as int or Decimal); list<T> L;
set<T> SS/NS/BS (sorted, duplicates dropped; an empty set is omitted and a required one comes
back as an empty frozenset); NULL -> attribute omitted. Empty strings are kept, except where
they would make a key empty (InvalidKey). Items over 400 KB (names + values, as DynamoDB counts)
raise ItemTooLarge.$ttl

Errors: every failure is a TransformError (MissingValue, InvalidValue, InvalidKey, ItemTooLarge,
UnknownEntity) with `.entity`, `.row_key`, `.reason` and `.attribute`, for dead-lettering.
"""
'''


def _imports() -> Imports:
    imports = Imports()
    imports.add("__future__", "annotations")
    imports.add("datetime as _dt")
    for name in ("Callable", "Iterable", "Mapping"):
        imports.add("collections.abc", name)
    imports.add("decimal", "Decimal")
    for name in ("Any", "Final", "TypedDict"):
        imports.add("typing", name)
    imports.add("uuid", "UUID")
    imports.add(".", "_keys")
    return imports


DECODE_FAILURE = '''
def _decode_failure(
    entity: str, item: Mapping[str, Any], names: tuple[str, ...], exc: Exception
) -> TransformError:
    """The typed error for an item that does not decode as a row of `entity`."""
    key = tuple(item.get(n) for n in names) if isinstance(item, Mapping) else None
    if isinstance(exc, KeyError):
        name = str(exc.args[0]) if exc.args else "?"
        return MissingValue(entity, key, f"the item has no (or a NULL) {name}", name)
    return InvalidValue(entity, key, f"{type(exc).__name__}: {exc}")
'''


def _ttl_note(model: ir.Model) -> str:
    """The module docstring's paragraph on the TTL attribute ("" when no datetime is one)."""
    holders = [e.name for e in model.entities for a in e.attributes if is_epoch_ttl(model, a)]
    if not holders:
        return ""
    return (
        f"\n\nTime to live: `{model.table.ttl}` (datetime, on {', '.join(holders)}) is the "
        "table's TTL attribute,\nso it is N, whole seconds since 1970-01-01 UTC (DynamoDB's TTL "
        "reads only that; the\nsub-second part is dropped, floor), and comes back as an aware "
        "UTC datetime; in a key\nslot it keeps the ISO text, microseconds included. "
        "`ttl_attribute_value(dt)` gives a filter\nvalue for it."
    )


def transformers_source(layout: ir.Layout, model: ir.Model) -> str:
    """The unformatted text of `transformers.py`."""
    names = entity_names(model)
    chunks = [
        comment_header(model),
        render(
            MODULE_DOC,
            model=model.name,
            table=layout.table_name,
            type_attribute=layout.type_attribute,
            ttl=_ttl_note(model),
        ),
        _imports().render(),
        render(RUNTIME, type_attribute=literal(layout.type_attribute)),
        render(DECODE_FAILURE),
    ]
    for entity in model.entities:
        chunks.append(_EntityEmitter(model, layout, entity, names[entity.name]).source())
    chunks.append(_registry(layout, model, names))
    chunks.append(f"# {'-' * 70} access-pattern keys")
    for plan in layout.plans:
        chunks.append(key_builder(layout, model, plan))
    return "\n\n".join(chunks) + "\n"


def _registry(layout: ir.Layout, model: ir.Model, names: dict[str, EntityNames]) -> str:
    by_type = {}
    for el in layout.entities:
        if el.entity in names:
            by_type[el.type_value] = el.entity
    to_items = ", ".join(f"{literal(e)}: {n.to_item}" for e, n in names.items())
    from_items = ", ".join(f"{literal(e)}: {n.from_item}" for e, n in names.items())
    types = ", ".join(f"{literal(t)}: {literal(e)}" for t, e in sorted(by_type.items()))
    return render(
        '''
        # ---------------------------------------------------------------------- dispatch

        TO_ITEM: Final[dict[str, Callable[[Mapping[str, Any]], Item]]] = {$to_items}
        FROM_ITEM: Final[dict[str, Callable[[Mapping[str, Any]], Mapping[str, Any]]]] = {$from_items}
        ENTITY_OF_TYPE: Final[dict[str, str]] = {$types}


        def to_item(entity: str, row: Mapping[str, Any]) -> Item:
            """The item of a row of `entity` (by name)."""
            convert = TO_ITEM.get(entity)
            if convert is None:
                raise UnknownEntity(entity, None, f"no entity {entity!r} in this model")
            return convert(row)


        def entity_of(item: Mapping[str, Any]) -> str | None:
            """The entity an item belongs to, by its type attribute (None when unknown)."""
            value = item.get(TYPE_ATTRIBUTE)
            if not isinstance(value, Mapping):
                return None
            return ENTITY_OF_TYPE.get(value.get("S", ""))


        def from_item(item: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
            """(entity, row) of any item of this table."""
            entity = entity_of(item)
            if entity is None:
                raise UnknownEntity("?", None, f"the item has no known {TYPE_ATTRIBUTE}")
            return entity, FROM_ITEM[entity](item)
        ''',
        to_items=to_items,
        from_items=from_items,
        types=types,
    )


def package_init(model: ir.Model) -> str:
    return comment_header(model) + render(
        '''
        """Generated code for model `$model`: `transformers` (rows <-> items, standard library
        only), `client` (typed access patterns over boto3) and `_keys` (the key codec)."""
        ''',
        model=model.name,
    )


def keys_module(model: ir.Model) -> str:
    """`_keys.py`: modeling/runtime/keys.py verbatim under the generated header (one codec source)."""
    return (
        comment_header(model)
        + "# copied from modeling/runtime/keys.py\n"
        + KEYS_SOURCE.read_text("utf-8")
    )


@register("transformers")
def emit_transformers(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """`__init__.py`, `_keys.py` and `transformers.py`, ruff-formatted."""
    return {
        "__init__.py": format_python(package_init(model)),
        "_keys.py": format_python(keys_module(model)),
        "transformers.py": format_python(transformers_source(layout, model)),
    }
