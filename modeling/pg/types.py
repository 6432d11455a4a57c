"""PostgreSQL type text → a canonical type → a model type.

Works on text because both importers have text: the DDL path the tokens as written
(`VARCHAR(40)`, `int4`, `timestamp with time zone`, `public.mpaa_rating`, `text[]`), the live-DB
path `format_type()` output. Canonicalising first means both paths agree by construction, and a
user type (enum, domain, composite) is resolved through the catalog's registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modeling.pg.catalog import Catalog, QName

# alias → canonical builtin name
_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "integer": "integer",
    "serial": "integer",
    "serial4": "integer",
    "smallint": "smallint",
    "int2": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "bigint": "bigint",
    "int8": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "oid": "oid",
    "numeric": "numeric",
    "decimal": "numeric",
    "money": "money",
    "real": "real",
    "float4": "real",
    "double precision": "double precision",
    "float8": "double precision",
    "float": "double precision",
    "bool": "boolean",
    "boolean": "boolean",
    "text": "text",
    "varchar": "varchar",
    "character varying": "varchar",
    "char varying": "varchar",
    "char": "char",
    "character": "char",
    "bpchar": "char",
    "nchar": "char",
    "national character": "char",
    "national character varying": "varchar",
    "name": "name",
    "citext": "citext",
    "uuid": "uuid",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz",
    "time": "time",
    "time without time zone": "time",
    "timetz": "timetz",
    "time with time zone": "timetz",
    "interval": "interval",
    "json": "json",
    "jsonb": "jsonb",
    "hstore": "hstore",
    "bytea": "bytea",
    "tsvector": "tsvector",
    "tsquery": "tsquery",
    "inet": "inet",
    "cidr": "cidr",
    "macaddr": "macaddr",
    "macaddr8": "macaddr8",
    "xml": "xml",
    "bit": "bit",
    "bit varying": "varbit",
    "varbit": "varbit",
    "vector": "vector",
    "halfvec": "vector",
    "geometry": "geometry",
    "geography": "geography",
}
SERIALS = {"serial", "serial4", "smallserial", "serial2", "bigserial", "serial8"}

# canonical builtin → model type
_MODEL = {
    "integer": "integer",
    "smallint": "integer",
    "bigint": "integer",
    "oid": "integer",
    "numeric": "decimal",
    "money": "decimal",
    "real": "float",
    "double precision": "float",
    "boolean": "boolean",
    "text": "string",
    "varchar": "string",
    "char": "string",
    "name": "string",
    "citext": "string",
    "uuid": "uuid",
    "date": "date",
    "timestamp": "datetime",
    "timestamptz": "datetime",
    "time": "string",
    "timetz": "string",
    "interval": "string",
    "json": "map",
    "jsonb": "map",
    "hstore": "map",
    "bytea": "binary",
    "inet": "string",
    "cidr": "string",
    "macaddr": "string",
    "macaddr8": "string",
    "xml": "string",
    "bit": "string",
    "varbit": "string",
    "vector": "list<float>",
    "geometry": "string",
    "geography": "string",
}
# Integer types' ranges (PostgreSQL's documentation, "Numeric Types").
INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
    "oid": (0, 2**32 - 1),
}
# Builtin string types whose default collation is not the database's (pg_type.typcollation):
# `name` compares in "C" (PostgreSQL 12+), as pg_attribute.attcollation of such a column says.
TYPE_COLLATIONS = {"name": ("pg_catalog", "C")}
# Datetimes without a time zone: the model's `timezone: false` (naive values, read back naive).
NAIVE = {"timestamp"}
# Types that hold no row data of their own worth migrating (derived search structures).
NON_DATA = {"tsvector", "tsquery"}
# Mapped, but the mapping loses something the architect should know about.
_LOSSY = {
    "time": "time of day kept as an ISO-8601 string",
    "timetz": "time of day kept as an ISO-8601 string",
    "interval": "interval kept as an ISO-8601 duration string",
    "money": "money kept as decimal; the currency symbol is not stored",
    "xml": "xml kept as a string",
    "geometry": "PostGIS geometry kept as its text form (hex EWKB, as PostgreSQL prints it)",
    "geography": "PostGIS geography kept as its text form (hex EWKB, as PostgreSQL prints it)",
}


@dataclass(frozen=True)
class PgType:
    """A canonical PostgreSQL type: builtin name or `schema.name`, modifiers, array depth."""

    name: str
    args: tuple[str, ...] = ()
    array: int = 0
    user: bool = False  # a qualified user/extension type, not a builtin

    def __str__(self) -> str:
        text = self.name
        if self.args:
            text += "(" + ",".join(self.args) + ")"
        return text + "[]" * self.array


_ARRAY = re.compile(r"(\s*\[\s*\d*\s*\])+\s*$")
_ARRAY_KW = re.compile(r"\s+array(\s*\[\s*\d*\s*\])?\s*$", re.IGNORECASE)


def canonical(text: str, default_schema: str = "public") -> PgType:
    """Canonicalise type text. Unknown names become qualified user types (`public.year`).

    Quoted parts keep their case; everything else folds to lower case, as PostgreSQL does.
    """
    t = text.strip()
    array = 0
    m = _ARRAY.search(t)
    if m:
        array = m.group(0).count("[")
        t = t[: m.start()].strip()
    m2 = _ARRAY_KW.search(t)
    if m2:
        array += 1
        t = t[: m2.start()].strip()
    args: tuple[str, ...] = ()
    # modifiers: `numeric(4,2)`, `timestamp(3) with time zone`, `varchar (40)`
    pm = re.search(r"\(([^()]*)\)", t)
    if pm:
        args = tuple(a.strip() for a in pm.group(1).split(",") if a.strip())
        t = (t[: pm.start()] + " " + t[pm.end() :]).strip()
    parts = _split_qualified(t)
    if len(parts) == 1 and not parts[0][1]:
        word = " ".join(parts[0][0].lower().split())
        if word.startswith("interval "):
            word = "interval"  # interval fields: `interval day to second`
        if word in _ALIASES:
            return PgType(_ALIASES[word], args, array)
        return PgType(f"{default_schema}.{word}", args, array, user=True)
    if len(parts) == 2 and parts[0][0].lower() == "pg_catalog" and not parts[1][1]:
        word = parts[1][0].lower()
        if word in _ALIASES:
            return PgType(_ALIASES[word], args, array)
    folded = [p if quoted else p.lower() for p, quoted in parts]
    if len(folded) == 1:
        folded = [default_schema, *folded]
    return PgType(".".join(folded[-2:]), args, array, user=True)


def _split_qualified(text: str) -> list[tuple[str, bool]]:
    """`public."My Type"` → [("public", False), ("My Type", True)]."""
    out: list[tuple[str, bool]] = []
    for m in re.finditer(r'"((?:[^"]|"")*)"|([^."]+)', text):
        if m.group(1) is not None:
            out.append((m.group(1).replace('""', '"'), True))
        elif m.group(2).strip():
            out.append((m.group(2).strip(), False))
    return out


@dataclass(frozen=True)
class ModelType:
    """What a column becomes: model type text, enum values, whether the type forbids NULL
    (a NOT NULL domain), and notes for the architect (lossy or unknown mappings)."""

    type: str
    enum: tuple[str, ...] | None = None
    not_null: bool = False
    non_data: bool = False
    note: str | None = None
    timezone: bool = True  # False: `timestamp` (without time zone), naive values
    max_length: int | None = None  # `varchar(n)`, `char(n)`: at most n characters
    precision: int | None = None  # `numeric(p,s)`: p significant digits
    scale: int | None = None  # `numeric(p,s)`: s digits after the point
    min: int | None = None  # integer range: `smallint`, `integer`, `bigint`, `numeric(p,0)`
    max: int | None = None
    collation: QName | None = None  # a domain's `COLLATE` (a column's own COLLATE wins)


def to_model_type(text: str, catalog: Catalog, default_schema: str = "public") -> ModelType:
    """Map PostgreSQL type text to the model type, resolving enums, domains, composites."""
    return _map(canonical(text, default_schema), catalog, default_schema, depth=0)


def _map(t: PgType, catalog: Catalog, default_schema: str, depth: int) -> ModelType:
    if t.array:
        inner = _map(PgType(t.name, t.args, 0, t.user), catalog, default_schema, depth)
        if inner.non_data:
            return ModelType("list<string>", non_data=True, note=inner.note)
        # A 2-D array is still a list of lists; enum values of the element are kept as a note.
        item = inner.type
        for _ in range(t.array):
            item = f"list<{item}>"
        note = inner.note
        if inner.enum:
            note = "elements are one of: " + ", ".join(inner.enum)
        return ModelType(item, None, False, False, note, inner.timezone)
    if not t.user:
        if t.name in NON_DATA:
            return ModelType("string", non_data=True, note=f"{t.name} is derived search data")
        model = _MODEL.get(t.name, "string")
        digits = [int(a) for a in t.args if a.lstrip("-").isdigit()]
        if t.name == "numeric" and len(t.args) == 2 and t.args[1] == "0" and len(digits) == 2:
            top = 10 ** digits[0] - 1
            return ModelType(
                "integer",
                note=f"numeric({t.args[0]},0) holds whole numbers",
                min=-top,
                max=top,
            )
        if t.name == "numeric" and digits and len(digits) == len(t.args):
            return ModelType(
                "decimal",
                precision=digits[0],
                scale=digits[1] if len(digits) > 1 else 0,
            )
        if t.name in INTEGER_RANGES:
            low, high = INTEGER_RANGES[t.name]
            return ModelType("integer", min=low, max=high)
        bound = None
        if t.name in ("varchar", "char") and len(t.args) == 1 and t.args[0].isdigit():
            bound = int(t.args[0]) or None
        return ModelType(
            model,
            note=_LOSSY.get(t.name),
            timezone=t.name not in NAIVE,
            max_length=bound,
            collation=TYPE_COLLATIONS.get(t.name),
        )
    schema, _, name = t.name.partition(".")
    found = catalog.lookup_type((schema, name), default_schema)
    if found is not None and depth < 10:
        if found in catalog.enums:
            return ModelType("string", tuple(catalog.enums[found].values))
        if found in catalog.domains:
            d = catalog.domains[found]
            base = _map(canonical(d.base_type, found[0]), catalog, default_schema, depth + 1)
            return ModelType(
                base.type,
                base.enum,
                base.not_null or d.not_null,
                base.non_data,
                base.note,
                base.timezone,
                base.max_length,
                base.precision,
                base.scale,
                base.min,
                base.max,
                d.collation or base.collation,
            )
        if found in catalog.composites:
            return ModelType("map", note=f"composite type {found[0]}.{found[1]} kept as a map")
    # Extension types that live in a schema (`extensions.citext`, `public.vector`).
    if name in _ALIASES and _ALIASES[name] in _MODEL:
        return _map(PgType(_ALIASES[name], t.args, 0), catalog, default_schema, depth + 1)
    if name in NON_DATA:
        return ModelType("string", non_data=True, note=f"{name} is derived search data")
    return ModelType("string", note=f"unknown type {t} mapped to string; review")
