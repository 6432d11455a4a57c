"""The generated files: `transformers.py` (module doc, imports, runtime, entities, dispatch,
pattern keys), `__init__.py` and `_keys.py`; `emit_transformers` registers them."""

from __future__ import annotations

from pathlib import Path

from modeling.core import ir
from modeling.emit import FileManifest, register
from modeling.emit._python import Imports, comment_header, format_python, literal, render
from modeling.emit._transformers_runtime import RUNTIME, runtime_values
from modeling.emit.transformers.common import (
    EntityNames,
    copies_name,
    entity_names,
    is_epoch_ttl,
)
from modeling.emit.transformers.entities import EntityEmitter
from modeling.emit.transformers.patterns import key_builder
from modeling.runtime import keys, sharding

KEYS_SOURCE = Path(keys.__file__)
SHARDING_SOURCE = Path(sharding.__file__)


def is_sharded(layout: ir.Layout) -> bool:
    """Whether a partition of the layout is written across shards (`_sharding.py` ships)."""
    return any(plan.sharded for plan in layout.plans)


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


def _imports(sharded: bool = False) -> Imports:
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
    if sharded:
        imports.add(".", "_sharding")
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
        _imports(is_sharded(layout)).render(),
        render(RUNTIME, **runtime_values(literal(layout.type_attribute))),
        render(DECODE_FAILURE),
    ]
    for entity in model.entities:
        chunks.append(EntityEmitter(model, layout, entity, names[entity.name]).source())
    chunks.append(_registry(layout, model, names))
    if layout.copies:
        chunks.append(_copies_registry(layout, names))
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


def _copies_registry(layout: ir.Layout, names: dict[str, EntityNames]) -> str:
    """`COPIES` and `items_of`: a row's main item and its relationship copies (`ir.CopyItems`),
    what the migration runner, export and the repository write."""
    entities = sorted({c.entity for c in layout.copies})
    copies = ", ".join(f"{literal(e)}: {copies_name(names[e])}" for e in entities)
    types = ", ".join(literal(c.type_value) for c in sorted(layout.copies, key=lambda c: c.name))
    return render(
        '''
        # ---------------------------------------------------------------------- copies

        COPIES: Final[dict[str, Callable[[Mapping[str, Any], Item], list[Item]]]] = {$copies}
        COPY_TYPES: Final[frozenset[str]] = frozenset({$types})


        def items_of(entity: str, row: Mapping[str, Any]) -> list[Item]:
            """The row's main item, then its relationship copies (strategy lowest_cost)."""
            item = to_item(entity, row)
            copies = COPIES.get(entity)
            return [item, *copies(row, item)] if copies is not None else [item]
        ''',
        copies=copies,
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


def sharding_module(model: ir.Model) -> str:
    """`_sharding.py`: modeling/runtime/sharding.py verbatim under the generated header (the
    shard slot the transformers write and the client reads)."""
    return (
        comment_header(model)
        + "# copied from modeling/runtime/sharding.py\n"
        + SHARDING_SOURCE.read_text("utf-8")
    )


@register("transformers")
def emit_transformers(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """`__init__.py`, `_keys.py` and `transformers.py`, ruff-formatted (and `_sharding.py`
    when a partition is sharded)."""
    files = {
        "__init__.py": format_python(package_init(model)),
        "_keys.py": format_python(keys_module(model)),
        "transformers.py": format_python(transformers_source(layout, model)),
    }
    if is_sharded(layout):
        files["_sharding.py"] = format_python(sharding_module(model))
    return files
