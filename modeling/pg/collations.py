"""PostgreSQL collations as the model states them: which ones order strings as DynamoDB does,
and what a column's collation (as the DDL or the catalog names it) becomes in a model.

DynamoDB compares sort-key strings by their UTF-8 bytes, which is code-point order. PostgreSQL
agrees under `C`/`POSIX`/`ucs_basic` and the builtin provider's code-point collations
(`pg_c_utf8`, `C.UTF-8`, `pg_unicode_fast`); every libc language locale and every ICU
collation orders otherwise ('apple' < 'Banana'). A user collation (`CREATE COLLATION`) is
resolved through its definition, so `CREATE COLLATION bytes FROM "C"` counts as byte order.
"""

from __future__ import annotations

from dataclasses import dataclass

from modeling.pg.catalog import Catalog, Collation, QName

# Collations (and builtin/libc locales) under which PostgreSQL compares strings as DynamoDB
# does (UTF-8 bytes = code points); compared case-insensitively, quotes stripped.
BYTE_ORDER_COLLATIONS = frozenset(
    {"c", "posix", "ucs_basic", "c.utf8", "c.utf-8", "pg_c_utf8", "pg_unicode_fast"}
)
_CATALOG_SCHEMAS = ("", "pg_catalog")


def byte_ordered(collation: str) -> bool:
    """Whether PostgreSQL's order under `collation` is DynamoDB's byte order of UTF-8."""
    return collation.strip().strip('"').lower() in BYTE_ORDER_COLLATIONS


@dataclass(frozen=True)
class ModelCollation:
    """A column collation for the model: `name` (None: the database default), a note on what
    a user collation is, and whether equality is exact (a nondeterministic ICU collation
    makes 'a' = 'A' true in PostgreSQL, never in a DynamoDB key)."""

    name: str | None
    note: str | None = None
    deterministic: bool = True


def _find(catalog: Catalog, ref: QName) -> Collation | None:
    schema, name = ref
    if ref in catalog.collations:
        return catalog.collations[ref]
    if schema == "":
        for (s, n), c in sorted(catalog.collations.items()):
            if n == name and s != "pg_catalog":
                return c
    return None


def model_collation(catalog: Catalog, ref: QName | None) -> ModelCollation:
    """What the model says for a column whose collation is `ref` ((schema, name); schema ""
    when unqualified). Both importers call this, so the DDL and the live database agree."""
    if ref is None:
        return ModelCollation(None)
    schema, name = ref
    if schema in _CATALOG_SCHEMAS and name.lower() == "default":
        return ModelCollation(None)
    found = _find(catalog, ref)
    if found is None:
        return ModelCollation(name)  # a predefined collation: C, POSIX, en_US.utf8, de-DE-x-icu
    # follow `FROM other` to the definition that says what the order is
    seen: set[QName] = set()
    c: Collation | None = found
    base_name: str | None = None
    while c is not None and c.source is not None and (c.schema, c.name) not in seen:
        seen.add((c.schema, c.name))
        nxt = _find(catalog, c.source)
        if nxt is None:
            base_name = c.source[1]
        c = nxt
    label = (
        found.name
        if found.schema in ("public", *_CATALOG_SCHEMAS)
        else f"{found.schema}.{found.name}"
    )
    deterministic = found.deterministic and (c.deterministic if c is not None else True)
    if c is None:
        what = f'copied from "{base_name}"'
        ordered = base_name is not None and byte_ordered(base_name)
    else:
        what = f"{c.provider} locale {c.locale!r}" if c.locale else f"{c.provider} collation"
        ordered = (
            c.provider in ("libc", "builtin") and c.locale is not None and byte_ordered(c.locale)
        )
    if not deterministic:
        what += ", nondeterministic"
    if ordered and deterministic:
        return ModelCollation("C", f"COLLATE {label}: {what}, byte order")
    return ModelCollation(label, f"COLLATE {label}: {what}", deterministic)


def database_collation(provider: str | None, collate: str | None, locale: str | None) -> str | None:
    """The database default as `source.collation`: the libc LC_COLLATE, else the ICU or builtin
    locale (`provider`: libc | icu | builtin, or pg_database's one-letter code)."""
    kind = {"c": "libc", "i": "icu", "b": "builtin"}.get((provider or "libc").lower(), provider)
    if kind in (None, "libc"):
        return collate or locale
    return locale or collate
