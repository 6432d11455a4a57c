"""What every part of the transformers emitter shares: generated names, annotations, errors,
and the f-string writer for key text."""

from __future__ import annotations

from dataclasses import dataclass

from modeling.core import ir
from modeling.core.errors import OperationError
from modeling.core.naming import pascal, snake
from modeling.emit._python import identifier, literal

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


# How each model type is stored and read back: (type, DynamoDB form, read back as). The
# model-language reference lists it (`modeling.emit.reference`); tests check it against the
# transformers' actual items.
STORAGE: tuple[tuple[str, str, str], ...] = (
    ("string", "S", "str"),
    ("integer", "N (38 significant digits)", "int"),
    ("decimal", "N (38 significant digits, 1e-130..9.99e125)", "Decimal"),
    ("float", "N (shortest repr)", "float"),
    ("boolean", "BOOL", "bool"),
    ("date", "S `YYYY-MM-DD`", "datetime.date"),
    (
        "datetime",
        "S `YYYY-MM-DDTHH:MM:SS.ffffffZ`: the instant in UTC, fixed width, so text order is "
        "time order (a naive value is taken to be UTC)",
        "aware datetime, in UTC",
    ),
    (
        "datetime, `timezone: false`",
        "S, the same text: the naive wall-clock value written as if it were UTC (an aware "
        "value is converted to UTC first), so keys and order are those of `datetime`",
        "naive datetime: the value the row held",
    ),
    (
        "datetime named by `table.ttl`",
        "N: whole seconds since 1970-01-01 UTC (sub-second part dropped), as DynamoDB's TTL "
        "requires; in a key slot the datetime text",
        "aware datetime in UTC (naive with `timezone: false`)",
    ),
    ("uuid", "S (canonical lower-case text)", "uuid.UUID"),
    ("binary", "B", "bytes"),
    ("map", "M (nested JSON; numbers as N)", "dict (integral numbers int, others Decimal)"),
    ("list<T>", "L of T's form (a NULL element as NULL)", "list"),
    (
        "set<string|integer|decimal|binary>",
        "SS / NS / BS, sorted; an empty set is omitted",
        "frozenset",
    ),
    ("NULL (an optional attribute)", "omitted", "None"),
)

# Field names that would shadow an annotation inside a class body: use the functional form.
SHADOWING = frozenset({"str", "int", "float", "bool", "bytes", "list", "frozenset", "Any"})


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


def copies_name(names: EntityNames) -> str:
    """`<entity>_copies`: the relationship copies of a row (layouts with `ir.CopyItems`)."""
    return f"{names.snake}_copies"


def entity_names(model: ir.Model) -> dict[str, EntityNames]:
    """Stable, unique Python names per entity (used by the client emitter too)."""
    taken: set[str] = set()
    out: dict[str, EntityNames] = {}
    for entity in model.entities:
        name = identifier(snake(entity.name), taken)
        out[entity.name] = EntityNames(
            entity=entity.name,
            snake=name,
            row_type=pascal(entity.name) + "Row",
            to_item=f"{name}_to_item",
            from_item=f"{name}_from_item",
            table_key=f"{name}_table_key",
            key_const=f"_{name.upper()}_KEY",
        )
    return out


def fstring(parts: list[tuple[bool, str]]) -> str:
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
