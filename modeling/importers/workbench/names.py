"""Workbench names → model names: attribute, model and table names, and what a key attribute's
name says (an overloaded `PK`, an entity-type `Type`). Entity, pattern and slot names follow
the project's one naming rule, `modeling.core.naming`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from modeling.core.naming import reserved_attribute
from modeling.formats.workbench import WbTable

UPPER_TAG = re.compile(r"^[A-Z][A-Z_\-]*$")
WORD = re.compile(r"^[A-Za-z][A-Za-z_\-]*$")

_GENERIC_KEY = re.compile(
    r"^(pk|sk|hk|rk|id|key|hash|range|hashkey|rangekey|partitionkey|sortkey|data"
    r"|(gsi|lsi)\d*(pk|sk|hk|rk|hash|range|partitionkey|sortkey)|(pk|sk)\d+)$"
)
# normalised (lower-case, no `_`/`-`) names of attributes that hold an item's entity type
_TYPE_ATTRS = (
    "type", "entitytype", "entity", "typename", "kind", "recordtype", "objecttype",
    "itemtype", "doctype", "et", "edbe", "modeltype", "model",
)  # fmt: skip


def _norm(name: str) -> str:
    return re.sub(r"[_\-\s]", "", name).lower()


def is_generic_key(name: str) -> bool:
    """`PK`, `SK`, `GSI1PK`, ...: overloaded key attributes whose name says nothing."""
    return bool(_GENERIC_KEY.match(_norm(name)))


def is_type_attr(name: str) -> bool:
    """`Type`, `_type`, `__typename`, `EntityType`, ...: an attribute holding the entity type."""
    return _norm(name) in _TYPE_ATTRS


def ident(name: str) -> str:
    """A valid attribute name (`[A-Za-z_][A-Za-z0-9_]*`) for a Workbench name."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "attr"
    out = "_" + out if out[0].isdigit() else out
    # `PK`, `GSI1SK`, ...: names the layout writes itself, which a model attribute may not take
    return out.lower() if reserved_attribute(out) else out


def dynamo_table_name(name: str) -> str:
    """A valid DynamoDB table name (3–255 of `[A-Za-z0-9_.-]`) for a Workbench table name."""
    out = re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-") or "table"
    return (out + "-tb")[: max(3, len(out))] if len(out) < 3 else out[:255]


def slug(name: str) -> str:
    """A model name (`[a-z][a-z0-9_-]*`): `Game-Player-Profiles`, `CartTable` → kebab case."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name)
    s = re.sub(r"[^A-Za-z0-9_]+", "-", s).strip("-_").lower()
    s = re.sub(r"-+", "-", s)
    if not s:
        return "imported"
    return "m-" + s if not s[0].isalpha() else s


def key_names(table: WbTable) -> set[str]:
    """Every key attribute of the table and its indexes."""
    return set(table.keys.names) | {n for g in table.indexes for n in g.keys.names}


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name2`, `name3`, ... when it is taken."""
    taken = set(taken)
    if name not in taken:
        return name
    n = 2
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"
