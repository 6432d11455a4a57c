"""Per entity: `<entity>_to_item` (every index key, the size check), `<entity>_from_item`,
`<entity>_table_key` and the row TypedDict."""

from __future__ import annotations

from dataclasses import dataclass

from modeling.core import ir
from modeling.core.limits import ITEM_BYTES, PARTITION_KEY_BYTES, SORT_KEY_BYTES
from modeling.emit._python import indent, is_plain_identifier, literal, render
from modeling.emit.transformers.attributes import AttrCode, attr_code
from modeling.emit.transformers.common import (
    SHADOWING,
    EmitError,
    EntityNames,
    annotation,
    copies_name,
    fstring,
    is_epoch_ttl,
)
from modeling.runtime import keys, sharding

PK_LIMIT = PARTITION_KEY_BYTES
SK_LIMIT = SORT_KEY_BYTES
ITEM_LIMIT = ITEM_BYTES


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
    filled: bool = False  # a NULL slot is written as the codec's sentinel (computed after loads)


_EMPTY_KEY = (
    "%s is a key attribute of an index keyed on attributes: it cannot be empty (nor U+0000 "
    "alone, which key conditions send for an empty string)"
)


class EntityEmitter:
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
            a.name: attr_code(a, i, is_epoch_ttl(model, a)) for i, a in enumerate(entity.attributes)
        }
        # an index keyed on the items' own attributes writes no key attribute of its own
        key_names = {
            ka.name
            for i in layout.indexes
            if not i.on_attributes
            for ka in (i.pk, i.sk)
            if ka is not None
        }
        for a in entity.attributes:
            if a.name in key_names or a.name == layout.type_attribute:
                raise EmitError(
                    f"{entity.name}.{a.name}: the attribute has the name of a key attribute "
                    "or of the type attribute; rename it (`column:` keeps the SQL name)"
                )

    # ----------------------------------------------------------------- keys

    def _slot_code(self, slot: str, template: str) -> AttrCode:
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
        self,
        key_type: str,
        template: str,
        kmap: dict[str, str],
        setup: list[str],
        fill: dict[str, str] | None = None,
    ) -> tuple[str, str | None, int, bool]:
        """(expression of the AttributeValue payload, local if string, static max bytes, may be
        empty or long)."""
        parsed = keys.parse_template(template)
        if key_type != "S":
            slots = parsed.slots
            if len(slots) != 1 or template != "{" + slots[0] + "}":
                raise EmitError(f"{key_type} key template {template!r} must be one bare slot")
            code = self._slot_code(slots[0], template)
            if slots[0] in (fill or {}):
                raise EmitError(
                    f"{key_type} key template {template!r}: a NULL sentinel needs a string key"
                )
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
                place = (fill or {}).get(part.attribute)
                if place is not None:  # NULL -> the sentinel that sorts high or low
                    name = f"{part.attribute}/{place}"
                    if name not in kmap:
                        local = f"k{list(self.attrs).index(part.attribute)}{place[0]}"
                        sentinel = keys.encode_null(kind, place == "high")
                        setup.append(
                            f"{local} = {code.slot} if {code.raw} is not None else {literal(sentinel)}"
                        )
                        kmap[name] = local
                    parts.append((True, kmap[name]))
                    variable = variable or kind in keys.VARIABLE_WIDTH_KINDS
                    static += keys.FIXED_WIDTH.get(kind, 0)
                    continue
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
        return fstring(parts), "", static, variable

    def _kind(self, name: str) -> str:
        a = self.entity.attribute(name)
        assert a is not None
        return a.type.kind

    def _sharded(self, expr: str, shards: int) -> tuple[str, int]:
        """A sharded partition key: the value plus its shard suffix, a hash of the item's
        encoded identity (`modeling.runtime.sharding`); (expression, most suffix bytes)."""
        identity = ", ".join(
            self._slot_code(a, str(self.entity.key)).slot or self.attrs[a].text
            for a in self.entity.key
        )
        suffix = f"_sharding.shard_suffix(_sharding.shard_of(({identity},), {shards}))"
        return f"{expr} + {suffix}", len(sharding.shard_suffix(shards - 1))

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
            if index.on_attributes:
                continue  # keyed on the item's own attributes, written as attributes
            key = _Key(index, [], [], [], [], [], 0, [])
            fill: dict[str, str] = dict(ek.null_fill)
            key.filled = bool(fill)
            pairs = [(index.pk, ek.pk, PK_LIMIT, f"pk{j}")]
            if index.sk is not None and ek.sk is not None:
                pairs.append((index.sk, ek.sk, SK_LIMIT, f"sk{j}"))
            # a filled key's code runs after the loads, a sparse key's (an optional slot) under
            # its own `if`: locals either defines stay its own (another key must not read them)
            sparse = any(
                not self._slot_code(slot, template).attribute.required and slot not in fill
                for _, template, _, _ in pairs
                for slot in keys.parse_template(template).slots
            )
            key_kmap = dict(kmap) if fill or sparse else kmap
            for ka, template, limit, local in pairs:
                for slot in keys.parse_template(template).slots:
                    code = self._slot_code(slot, template)
                    if (
                        not code.attribute.required
                        and slot not in fill
                        and code.raw not in key.optional
                    ):
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
                    ka.type, template, key_kmap, key.setup, fill
                )
                shards = self.layout.key_shards(self.entity.name, ek.index)
                if shards and ka is index.pk and is_string is not None:
                    expr, extra = self._sharded(expr, shards)
                    static += extra
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
            if key.filled and not key.optional:  # after the loads: the slot is normalised
                later += [*key_lines]
                later += [
                    f"item[{literal(n)}] = {v}" for n, v in zip(key.names, key.values, strict=True)
                ]
                if key.chars:
                    later.append(f"n += 4 * ({' + '.join(key.chars)})")
            elif key.optional:
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
            raise EmitError(f"{self.entity.name}: items are always over {ITEM_LIMIT // 1024} KB")
        # a key attribute of an attribute-keyed GSI (table-wide, whatever index the item is on):
        # DynamoDB refuses the whole write when it is an empty string, so the row is refused here
        native = sorted(
            k.name
            for i in self.layout.indexes
            if i.on_attributes
            for k in i.hash_keys + i.range_keys
            if k.type == "S"
        )
        for name in native:
            if name in self.attrs:
                lines += [
                    f'if item.get({literal(name)}, {{}}).get("S") in ("", _keys.EMPTY_CONDITION_TEXT):',
                    f"    raise _Bad(InvalidKey, None, {literal(_EMPTY_KEY % name)})",
                ]
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
        if fields and all(is_plain_identifier(n) and n not in SHADOWING for n, _ in fields):
            body = "\n".join(f"    {n}: {t}" for n, t in fields)
            return f"class {self.names.row_type}(TypedDict):\n    {doc}\n\n{body}\n"
        items = ", ".join(f"{literal(n)}: {t}" for n, t in fields)
        return f"{self.names.row_type} = TypedDict({literal(self.names.row_type)}, {{{items}}})\n"

    def _decode(self, a: ir.Attribute, x: str) -> str:
        """The row value of AttributeValue `x`; a naive attribute's datetimes lose the UTC
        tzinfo they are decoded with (they were stored as their wall-clock time)."""
        aware = self._decode_aware(a, x)
        return f"_naive({aware})" if a.naive else aware

    def _decode_aware(self, a: ir.Attribute, x: str) -> str:
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
                aware, in UTC, or naive for a `timezone: false` attribute)."""
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
            entries.append(f'{literal(ka.name)}: {{"S": {fstring(parts)}}}')
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

    # ----------------------------------------------------------------- copies

    def copies(self) -> str:
        """`<entity>_copies(row, item)`: the row's relationship copies (`ir.CopyItems`,
        `strategy: lowest_cost`), built beside its main item (`item`, from `to_item`)."""
        table = self.layout.indexes[0]
        blocks: list[str] = []
        for c in self.layout.copies_of(self.entity.name):
            entries = [f"{literal(self.layout.type_attribute)}: {{'S': {literal(c.type_value)}}}"]
            lines: list[str] = []
            fill = dict(c.key.null_fill) if c.key is not None else {}
            for ka, template, limit in ((table.pk, c.pk, PK_LIMIT), (table.sk, c.sk, SK_LIMIT)):
                if ka is None:
                    continue
                parts: list[tuple[bool, str]] = []
                for part in keys.parse_template(template).parts:
                    if isinstance(part, keys.Text):
                        parts.append((False, part.text))
                        continue
                    a = self.entity.attribute(part.attribute)
                    assert a is not None
                    local = f"_v{len(lines)}"
                    kind = literal(a.type.kind)
                    absent = (
                        f"_keys.encode_null({kind}, {fill[a.name] == 'high'})"
                        if a.name in fill
                        else None
                    )
                    lines += [
                        f"if row.get({literal(a.name)}) is None:",
                        f"    {local} = {absent}"
                        if absent
                        else f"    raise _missing({literal(a.name)})",
                        *(["else:"] if absent else []),
                        f"{'    ' if absent else ''}{local} = "
                        f"_keys.encode({kind}, row[{literal(a.name)}])",
                    ]
                    parts.append((True, local))
                local = f"_{ka.name.lower()}{len(blocks)}"
                value = fstring(parts)
                if c.shards and ka is table.pk:  # the shard the GSI key had: same hash, same N
                    identity = ", ".join(
                        f"_keys.encode({literal(self._kind(name))}, row[{literal(name)}])"
                        for name in self.entity.key
                    )
                    value += (
                        f" + _sharding.shard_suffix(_sharding.shard_of(({identity},), {c.shards}))"
                    )
                lines += [
                    f"{local} = {value}",
                    f"_check_key({local}, {limit}, {literal(ka.name)})",
                ]
                entries.append(f'{literal(ka.name)}: {{"S": {local}}}')
            entries += [f"{literal(held)}: item[{literal(name)}]" for name, held in c.ref]
            lines.append("copy: Item = {" + ", ".join(entries) + "}")
            lines += [
                f"for name in {literal(c.slots)}:",
                "    if name in item:",
                "        copy[name] = item[name]",
                "copies.append(copy)",
            ]
            optional = sorted(
                s
                for s in {*keys.parse_template(c.pk).slots, *keys.parse_template(c.sk).slots}
                if s not in fill and s not in self.entity.key
            )
            if c.key is not None and c.key.sparse and optional:
                # sparse, as the GSI it replaces: no copy while one of its slots is NULL
                present = " and ".join(f"row.get({literal(s)}) is not None" for s in optional)
                lines = [f"if {present}:", *("    " + line for line in lines)]
            blocks.append("\n".join(lines))
        body = indent("\n".join(["copies: list[Item] = []", *blocks, "return copies"]), 2)
        names = ", ".join(c.name for c in self.layout.copies_of(self.entity.name))
        return render(
            '''
            def $fn(row: Mapping[str, Any], item: Item) -> list[Item]:
                """The relationship copies of one $entity ($names, strategy lowest_cost): per
                copy its table key, its type value, the identity, key slots and version taken
                from `item` (the row's main item) and the main item's table key."""
                try:
            $body
                except TransformError:
                    raise
                except Exception as exc:
                    raise _failure($entity_literal, row, $key_const, exc) from exc
            ''',
            fn=copies_name(self.names),
            entity=self.entity.name,
            names=names,
            entity_literal=literal(self.entity.name),
            body=body,
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
                *([self.copies()] if self.layout.copies_of(self.entity.name) else []),
            ]
        )
