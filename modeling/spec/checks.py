"""Semantic checks of a structurally valid spec, and the uniform view of its access patterns.

Runs only when the JSON Schema and pydantic passes found nothing, so every value has its
declared shape. Each check adds located diagnostics and continues: all problems of a file are
reported at once. `sql:` patterns are translated here (sqlglot) so their conditions are checked
by the same code as structured `where:` blocks.

Decision for `entities: [...]` (item-collection reads): every `where` attribute must be an
attribute of every listed entity (children carry their parent's key attributes, which the
`parent-key` check enforces, so the usual parent-key condition qualifies); a `filter` attribute
must be an attribute of at least one listed entity (items lacking it simply do not match).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path as FsPath
from typing import Any, Literal

from modeling.core import limits, values
from modeling.core.diagnostics import Diagnostics, Span
from modeling.core.ir import (
    IN,
    INCLUSIVE,
    LOWER_BOUNDS,
    NULL_TESTS,
    RANGE_OPERATORS,
    UPPER_BOUNDS,
    TypeRef,
    default_params,
)
from modeling.core.naming import pascal, reserved_attribute, table_for_entity
from modeling.core.values import coerce
from modeling.runtime import keys
from modeling.runtime.keys import parse_template
from modeling.spec.loader import Path, Positions
from modeling.spec.model import AttributeSpec, EntitySpec, ModelSpec, PatternSpec
from modeling.spec.sql_patterns import TableInfo, translate
from modeling.spec.structure import suggest

# begins_with in a key condition needs a slot codec that maps prefixes to prefixes: only the
# variable-width string and binary codecs do (keys.encode_value_for_prefix). A date, datetime
# or uuid prefix compiled but could not be rendered at query time.
_PREFIX_TYPES = ("string", "binary")
_RANGE_TYPES = ("string", "integer", "decimal", "float", "date", "datetime", "uuid", "binary")
# `version: xmin` (entity or source) names PostgreSQL's row xmin, the default version source;
# PostgreSQL reserves the name for the system column, so no table has a column called so.
XMIN_VERSION = "xmin"
_VERSION_TYPES = ("integer", "datetime")


@dataclass(frozen=True)
class Cond:
    """One condition of a pattern, wherever it was written (`where:` or `sql:`)."""

    attribute: str
    op: str
    params: tuple[str, ...]
    literals: tuple[Any, ...]
    span: Span
    bounds: tuple[str, str] = INCLUSIVE  # `between`: the operator of each bound
    listed: bool = False  # `in`: the one parameter is a list of values


@dataclass(frozen=True)
class ResolvedPattern:
    """A pattern with its entities and conditions resolved; input of `normalize`."""

    name: str
    entities: tuple[str, ...]
    where: tuple[Cond, ...]
    filter: tuple[Cond, ...]
    order: Literal["asc", "desc"] | None
    order_by: str | None
    limit: int | None
    nulls: Literal["first", "last"] | None = None
    limit_param: str | None = None  # `LIMIT :n`


# --------------------------------------------------------------------------- helpers


# Default SQL table of an entity (Variant → variants, Person → people): the naming rule's.


def key_list(entity: EntitySpec) -> list[str]:
    return [entity.key] if isinstance(entity.key, str) else list(entity.key)


def attribute_spec(value: str | AttributeSpec) -> AttributeSpec:
    return AttributeSpec(type=value) if isinstance(value, str) else value


def entity_table(name: str, entity: EntitySpec, spec: ModelSpec) -> str:
    table = entity.table or table_for_entity(name)
    schema = entity.schema_ or (spec.source.schema_ if spec.source else None)
    if schema and "." not in table:
        return f"{schema}.{table}"
    return table


def table_infos(spec: ModelSpec) -> list[TableInfo]:
    infos = []
    for name, entity in spec.entities.items():
        columns = {}
        for attr, value in entity.attributes.items():
            column = attribute_spec(value).column or attr
            columns[column.lower()] = attr
        infos.append(
            TableInfo(
                name,
                entity_table(name, entity, spec),
                columns,
                tuple(key_list(entity)),
                entity.parent,
            )
        )
    return infos


def _type(entity: EntitySpec, attr: str) -> TypeRef | None:
    value = entity.attributes.get(attr)
    if value is None:
        return None
    try:
        return TypeRef.parse(attribute_spec(value).type)
    except ValueError:  # pragma: no cover - rejected by the structural pass
        return None


def _slots(template: str) -> tuple[list[str], str | None]:
    """Slot names of a key template, or the grammar's complaint (modeling.runtime.keys owns the grammar)."""
    try:
        return list(parse_template(template).slots), None
    except ValueError as exc:
        return [], str(exc)


def _bound_params(attribute: str, op: str) -> tuple[str, ...]:
    """Parameter names that tell a condition's bounds apart (`<attr>_from` / `<attr>_to`)."""
    if op in LOWER_BOUNDS:
        return (f"{attribute}_from",)
    if op in UPPER_BOUNDS:
        return (f"{attribute}_to",)
    return default_params(attribute, op)


def _apart(where: tuple[Cond, ...], filt: tuple[Cond, ...]) -> tuple[Cond, ...]:
    """`where` conditions on an attribute that `filter` constrains too, named per bound."""
    shared = {c.attribute for c in filt if c.op not in NULL_TESTS}  # a null test takes no value
    names = {p for c in filt for p in c.params}
    out = []
    for c in where:
        if c.attribute in shared:
            params = _bound_params(c.attribute, c.op)
            if not set(params) & names:
                c = replace(c, params=params)
        out.append(c)
    return tuple(out)


# --------------------------------------------------------------------------- checks


ALLOW_DDL_OUTSIDE = "MODELING_ALLOW_DDL_OUTSIDE"


def _inside(target: FsPath, base: FsPath) -> bool:
    """Does `target` (symlinks followed) resolve inside the directory `base`?"""
    return target.resolve().is_relative_to(base.resolve())


def _key_encoding_problem(kind: str, literal: Any, op: str) -> str | None:
    """Why a SQL literal that reads as a value of `kind` (`values.literal_problem` passed it)
    still has no key encoding (a number outside the key codec's range), or None."""
    try:
        value = coerce(kind, literal)
        if op == "begins_with":
            keys.encode_value_for_prefix(kind, value)
        else:
            keys.encode(kind, value)
    except (ValueError, TypeError, ArithmeticError, keys.KeyEncodingError) as exc:
        return str(exc)
    return None


def ddl_allowed(target: FsPath, model_dir: FsPath) -> bool:
    """May a model in `model_dir` name `target` as its source.ddl (see `ddl-outside-model-dir`)?"""
    return any(_inside(target, root) for root in (model_dir, FsPath.cwd())) or bool(
        os.environ.get(ALLOW_DDL_OUTSIDE)
    )


_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def _tag_bad_char(text: str) -> str | None:
    """The first character AWS does not allow in a tag (letters, digits, spaces, `_.:/=+-@`)."""
    for c in text:
        if not (c.isalnum() or c.isspace() or c in _TAG_PUNCTUATION):
            return c
    return None


# Casts that keep every value of a model type unchanged (PostgreSQL's names, as sqlglot writes
# them back): to the type itself, or to a wider one of the same family.
_TEXT_CASTS = frozenset({"text", "varchar", "character varying"})
_INTEGER_CASTS = frozenset({"smallint", "int", "integer", "bigint", "int2", "int4", "int8"})
_NUMBER_CASTS = frozenset({"decimal", "numeric"})
_CASTS_KEEPING: dict[str, frozenset[str]] = {
    "string": _TEXT_CASTS,
    "integer": _INTEGER_CASTS | _NUMBER_CASTS,
    "decimal": _NUMBER_CASTS,
    "float": frozenset({"double precision", "float", "float8"}) | _NUMBER_CASTS,
    "boolean": frozenset({"boolean", "bool"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"timestamptz", "timestamp with time zone", "timestamp"}),
    "uuid": frozenset({"uuid"}) | _TEXT_CASTS,
}


class Checker:
    def __init__(self, spec: ModelSpec, positions: Positions, diags: Diagnostics, file: str):
        self.spec = spec
        self.pos = positions
        self.diags = diags
        self.file = file
        self.entities = spec.entities

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        hint: str | None = None,
        subject: str | None = None,
    ) -> None:
        self.diags.error(code, message, span, hint=hint, subject=subject)

    def run(self) -> dict[str, ResolvedPattern]:
        for name, entity in self.entities.items():
            self.entity(name, entity)
        self.entity_names()
        self.parent_cycles()
        self.pinned_index_counts()
        self.table()
        self.source()
        self.versions()
        resolved: dict[str, ResolvedPattern] = {}
        for name, pattern in self.spec.access_patterns.items():
            r = self.pattern(name, pattern)
            if r is not None:
                resolved[name] = r
        return resolved

    # ------------------------------------------------------------------ entities
    def entity_names(self) -> None:
        """Entity names that differ only in case: each names a docs page (`entities/<E>.md`),
        and on a case-insensitive disk (macOS, Windows) one page silently replaced the other."""
        first: dict[str, str] = {}
        for name in self.entities:
            other = first.setdefault(name.casefold(), name)
            if other != name:
                self.error(
                    "entity-name-case",
                    f"entity {name!r} differs from entity {other!r} only in case",
                    self.pos.key(("entities", name)),
                    hint="rename one of them: each names generated files, which one file on a "
                    "case-insensitive disk (macOS, Windows) would hold",
                )

    def entity(self, name: str, entity: EntitySpec) -> None:
        base: Path = ("entities", name)
        keys = key_list(entity)
        seen: set[str] = set()
        for i, attr in enumerate(keys):
            path: Path = (*base, "key", i) if isinstance(entity.key, list) else (*base, "key")
            if attr in seen:
                self.error(
                    "invalid-value",
                    f"key of entity {name!r} lists {attr!r} twice",
                    self.pos.value(path),
                )
                continue
            seen.add(attr)
            if attr not in entity.attributes:
                self.error(
                    "unknown-attribute",
                    f"key attribute {attr!r} is not an attribute of entity {name!r}",
                    self.pos.value(path),
                    hint=suggest(attr, entity.attributes)
                    or f"add `{attr}: <type>` under attributes",
                )
                continue
            a = attribute_spec(entity.attributes[attr])
            apath: Path = (*base, "attributes", attr)
            if not a.required:
                self.error(
                    "optional-key",
                    f"key attribute {attr!r} of entity {name!r} is declared `required: false`",
                    self.pos.value((*apath, "required")),
                    hint="keys are never null: remove `required: false` or take the attribute out of `key`",
                )
            t = _type(entity, attr)
            if t is not None and not t.keyable:
                self.error(
                    "unkeyable-type",
                    f"key attribute {attr!r} of entity {name!r} has type {t}, which cannot be part of a key",
                    self.pos.value(
                        apath if isinstance(entity.attributes[attr], str) else (*apath, "type")
                    ),
                    hint="key attributes are scalars: string, integer, decimal, date, datetime, uuid, binary, ...",
                )
        for attr, value in entity.attributes.items():
            self.attribute(name, entity, attr, attribute_spec(value))
        if entity.parent is not None:
            ppath: Path = (*base, "parent")
            parent = self.entities.get(entity.parent)
            if entity.parent == name:
                self.error(
                    "parent-cycle",
                    f"entity {name!r} is its own parent",
                    self.pos.value(ppath),
                    hint="remove `parent:`",
                )
            elif parent is None:
                self.error(
                    "unknown-entity",
                    f"parent {entity.parent!r} of entity {name!r} is not an entity of this model",
                    self.pos.value(ppath),
                    hint=suggest(entity.parent, self.entities)
                    or "entities: " + ", ".join(sorted(self.entities)),
                )
            else:
                missing = [k for k in key_list(parent) if k not in entity.attributes]
                if missing:
                    self.error(
                        "parent-key",
                        f"entity {name!r} lacks the key attribute(s) {', '.join(missing)} of its parent {entity.parent!r}",
                        self.pos.value(ppath),
                        hint="a child item carries its parent's key so it can live in the parent's item collection: add "
                        + ", ".join(f"`{m}`" for m in missing),
                    )
        if entity.keys:
            for index, pinned in entity.keys.items():
                for part in ("pk", "sk"):
                    template = getattr(pinned, part)
                    if template is None:
                        continue
                    tpath: Path = (*base, "keys", index, part)
                    slots, problem = _slots(template)
                    if problem:
                        self.error(
                            "pinned-key",
                            f"key template {template!r}: {problem}",
                            self.pos.value(tpath),
                            hint='write literal text and `{attribute}` slots, e.g. "PRODUCT#{product_id}"',
                        )
                        continue
                    for slot in slots:
                        if slot not in entity.attributes:
                            self.error(
                                "unknown-attribute",
                                f"slot {{{slot}}} of key template {template!r} is not an attribute of entity {name!r}",
                                self.pos.value(tpath),
                                hint=suggest(slot, entity.attributes)
                                or "slots name attributes of the entity",
                            )
                        else:
                            t = _type(entity, slot)
                            if t is not None and not t.keyable:
                                self.error(
                                    "unkeyable-type",
                                    f"slot {{{slot}}} has type {t}, which cannot be part of a key",
                                    self.pos.value(tpath),
                                )
                            if (
                                index == "table"
                                and not attribute_spec(entity.attributes[slot]).required
                            ):
                                # compile stopped in an emitter, without a position
                                self.error(
                                    "optional-key",
                                    f"slot {{{slot}}} of the table key {template!r} of entity "
                                    f"{name!r} is declared `required: false`",
                                    self.pos.value(tpath),
                                    hint="every item needs its table key: make the attribute "
                                    "required, or pin it on a GSI (an item without it is then "
                                    "not indexed there)",
                                )

    def attribute(self, entity_name: str, entity: EntitySpec, attr: str, a: AttributeSpec) -> None:
        path: Path = ("entities", entity_name, "attributes", attr)
        if reserved_attribute(attr):
            self.error(
                "reserved-attribute",
                f"attribute {attr!r} of entity {entity_name!r} has the name of an item attribute "
                "the layout writes itself (the key attributes PK, SK, GSI<n>PK/SK, LSI<n>SK, "
                "the entity type _type, the version _version)",
                self.pos.key(path),
                hint=f"rename the attribute and keep the SQL name with `column: {attr}`",
            )
        if a.enum is not None and a.type != "string":
            self.error(
                "enum-type",
                f"`enum` on attribute {attr!r} of type {a.type}; only string attributes take an enum",
                self.pos.key((*path, "enum")),
                hint="change the type to string or drop `enum`",
            )
        if a.timezone is not None and TypeRef.parse(a.type).scalar != "datetime":
            self.error(
                "timezone-type",
                f"`timezone` on attribute {attr!r} of type {a.type}; only datetime attributes "
                "(and lists of them) have a time zone",
                self.pos.key((*path, "timezone")),
                hint="drop `timezone`, or change the type to datetime",
            )
        scalar = TypeRef.parse(a.type).scalar
        if a.collation is not None and scalar != "string":
            self.error(
                "collation-type",
                f"`collation` on attribute {attr!r} of type {a.type}; a collation orders "
                "strings only (and lists or sets of them)",
                self.pos.key((*path, "collation")),
                hint="drop `collation`, or change the type to string",
            )
        for field_name, kinds in (
            ("precision", ("decimal",)),
            ("scale", ("decimal",)),
            ("min", ("integer",)),
            ("max", ("integer",)),
        ):
            if getattr(a, field_name) is not None and scalar not in kinds:
                self.error(
                    "number-bound-type",
                    f"`{field_name}` on attribute {attr!r} of type {a.type}; only "
                    f"{' and '.join(kinds)} attributes take it",
                    self.pos.key((*path, field_name)),
                    hint=f"drop `{field_name}`, or change the type",
                )
        if a.min_length is not None and scalar not in ("string", "binary"):
            self.error(
                "length-bound",
                f"`min_length` on attribute {attr!r} of type {a.type}; only string and binary "
                "attributes take it",
                self.pos.key((*path, "min_length")),
                hint="drop `min_length`, or change the type",
            )
        elif a.min_length is not None and a.max_length is not None and a.min_length > a.max_length:
            self.error(
                "length-bound",
                f"attribute {attr!r}: min_length {a.min_length} is above max_length {a.max_length}",
                self.pos.key((*path, "min_length")),
                hint="no value could be stored; lower `min_length` or raise `max_length`",
            )
        if a.min is not None and a.max is not None and a.min > a.max:
            self.error(
                "number-bound-type",
                f"attribute {attr!r}: min {a.min} is above max {a.max}",
                self.pos.key((*path, "min")),
                hint="swap them",
            )
        if a.references is not None:
            target = self.entities.get(a.references)
            if target is None:
                self.error(
                    "unknown-entity",
                    f"attribute {attr!r} of entity {entity_name!r} references {a.references!r}, which is not an entity of this model",
                    self.pos.value((*path, "references")),
                    hint=suggest(a.references, self.entities)
                    or "entities: " + ", ".join(sorted(self.entities)),
                )
            else:
                tkeys = key_list(target)
                if len(tkeys) == 1 and tkeys[0] in target.attributes:
                    mine, theirs = _type(entity, attr), _type(target, tkeys[0])
                    if mine and theirs and str(mine) != str(theirs):
                        self.diags.warning(
                            "reference-type",
                            f"attribute {attr!r} ({mine}) references {a.references}.{tkeys[0]} ({theirs})",
                            self.pos.value((*path, "references")),
                            hint="declare the same type on both sides",
                        )

    def parent_cycles(self) -> None:
        reported: set[str] = set()
        for start in self.entities:
            chain = [start]
            cur = self.entities[start].parent
            while cur is not None and cur in self.entities and cur not in chain:
                chain.append(cur)
                cur = self.entities[cur].parent
            if cur is None or cur not in chain or (cur == chain[-1] == start and len(chain) == 1):
                continue
            cycle = chain[chain.index(cur) :]
            if len(cycle) < 2 or reported & set(cycle):
                continue
            reported.update(cycle)
            first = min(cycle, key=lambda e: (self.pos.value(("entities", e, "parent")).line, e))
            i = cycle.index(first)
            ordered = cycle[i:] + cycle[:i]
            self.error(
                "parent-cycle",
                "entities form a parent cycle: " + " → ".join([*ordered, ordered[0]]),
                self.pos.value(("entities", first, "parent")),
                hint="ownership is a tree: remove `parent:` from one of them",
            )

    def pinned_index_counts(self) -> None:
        names = {i for e in self.entities.values() for i in (e.keys or {})}
        for kind, limit in (("gsi", limits.MAX_GSIS), ("lsi", limits.MAX_LSIS)):
            used = sorted(n for n in names if n.startswith(kind))
            if len(used) > limit:
                self.error(
                    "too-many-indexes",
                    f"pinned keys use {len(used)} {kind.upper()}s; DynamoDB allows {limit}",
                    Span(self.file, 1, 1),
                    hint="share indexes between entities (overload gsi1 etc.)",
                )

    def table(self) -> None:
        table = self.spec.table
        if table is None or not table.name:
            self.default_table_name()
        if table is not None:
            self.tags(table.tags)
        if table is None or table.ttl is None:
            return
        holders = [
            (n, _type(e, table.ttl)) for n, e in self.entities.items() if table.ttl in e.attributes
        ]
        span = self.pos.value(("table", "ttl"))
        if not holders:
            all_attrs = {a for e in self.entities.values() for a in e.attributes}
            self.error(
                "ttl-attribute",
                f"ttl attribute {table.ttl!r} is not an attribute of any entity",
                span,
                hint=suggest(table.ttl, all_attrs)
                or "name a datetime attribute that holds the expiry",
            )
            return
        for n, t in holders:
            # DynamoDB's TTL reads only a Number of epoch seconds: a datetime is written as one
            # (whole seconds), an integer must hold one; nothing else can expire an item
            if t is not None and str(t) not in ("datetime", "integer"):
                self.error(
                    "ttl-attribute",
                    f"ttl attribute {table.ttl!r} has type {t} on entity {n!r}; expected datetime or integer (epoch seconds)",
                    span,
                    hint="DynamoDB's TTL needs a Number of epoch seconds: make it a datetime "
                    "(stored as whole epoch seconds) or an integer holding epoch seconds",
                )

    def tags(self, tags: dict[str, str]) -> None:
        """AWS's tag rules: CloudFormation refuses the stack otherwise, after the table plan was
        made. A key is 1-128 characters, not starting with `aws:`; a value at most 256; at most
        50 tags; letters, digits, spaces and `_ . : / = + - @` only."""
        if len(tags) > limits.TAGS_PER_RESOURCE:
            self.error(
                "invalid-tag",
                f"{len(tags)} tags; AWS allows {limits.TAGS_PER_RESOURCE} per resource",
                self.pos.key(("table", "tags")),
                hint="merge or drop tags",
            )
        for key, value in tags.items():
            kpath: Path = ("table", "tags", key)
            problem = None
            if not key:
                problem = "is empty"
            elif len(key) > limits.TAG_KEY_CHARS:
                problem = f"is {len(key)} characters long; at most {limits.TAG_KEY_CHARS}"
            elif key.lower().startswith(limits.TAG_RESERVED_PREFIX):
                problem = f"starts with {limits.TAG_RESERVED_PREFIX!r}, which AWS reserves"
            elif (bad := _tag_bad_char(key)) is not None:
                problem = f"contains {bad!r}"
            if problem:
                self.error(
                    "invalid-tag",
                    f"tag key {key!r} {problem}",
                    self.pos.key(kpath),
                    hint="a tag key is 1-128 letters, digits, spaces and `_ . : / = + - @`, "
                    "not starting with `aws:`",
                )
            vproblem = None
            if len(value) > limits.TAG_VALUE_CHARS:
                vproblem = f"is {len(value)} characters long; at most {limits.TAG_VALUE_CHARS}"
            elif (bad := _tag_bad_char(value)) is not None:
                vproblem = f"contains {bad!r}"
            if vproblem:
                self.error(
                    "invalid-tag",
                    f"the value of tag {key!r} {vproblem}",
                    self.pos.value(kpath),
                    hint="a tag value is 0-256 letters, digits, spaces and `_ . : / = + - @`",
                )

    def default_table_name(self) -> None:
        """The default table name is the model name in PascalCase; DynamoDB wants 3–255 chars.

        A short model name (`hr`, `ab`, `a-b`) is valid as a model name but not as a table
        name, so without this the first emitter to build a CreateTable failed with a traceback.
        """

        default = pascal(self.spec.model)
        if len(default) >= 3:
            return
        self.error(
            "invalid-name",
            f"the default table name {default!r} (model name {self.spec.model!r} in PascalCase) "
            "is shorter than the 3 characters DynamoDB requires",
            self.pos.value(("model",)),
            hint=f"name the table: `table: {{name: {default}Table}}`, or use a longer model name",
        )

    def source(self) -> None:
        if self.spec.source is None or self.spec.source.ddl is None:
            return
        base = FsPath(self.file).parent
        target = base / self.spec.source.ddl
        try:
            exists = target.exists()
        except (OSError, ValueError) as exc:  # a name too long for the file system, a loop
            self.error(
                "invalid-value",
                f"source.ddl cannot name a file: {getattr(exc, 'strerror', None) or exc}",
                self.pos.value(("source", "ddl")),
                hint="give the path of the DDL file, relative to the model file",
            )
            return
        if exists and not ddl_allowed(target, base):
            # verify, demo and the drift checks read (and run) this file: a model from elsewhere
            # must not make the tool read /etc/passwd or a file beside it
            self.error(
                "ddl-outside-model-dir",
                f"source.ddl {self.spec.source.ddl!r} resolves outside the model file's directory "
                "and the current directory",
                self.pos.value(("source", "ddl")),
                hint="put the DDL file below the model's directory or run from a directory that "
                f"holds it; to allow it where it is, set {ALLOW_DDL_OUTSIDE}=1",
            )
            return
        if exists and not target.is_file():  # verify and demo read it: a directory, a FIFO
            self.error(
                "invalid-value",
                f"source.ddl {self.spec.source.ddl!r} is not a regular file",
                self.pos.value(("source", "ddl")),
                hint="give the path of the DDL file, relative to the model file",
            )
            return
        if not exists:
            self.diags.warning(
                "missing-ddl",
                f"source.ddl {self.spec.source.ddl!r} does not exist (relative to the model file)",
                self.pos.value(("source", "ddl")),
                hint="import and drift checks need it; validation does not",
            )

    # ------------------------------------------------------------------ versions
    def versions(self) -> None:
        """`source.version` and `entities.<E>.version`: which attribute orders a row's writes.

        The migration keeps, per item, the write with the highest version, so a version must be
        an integer or datetime that is never NULL. `source.version` applies to every entity that
        has the attribute (the others use xmin), so it is an error only when no entity has it,
        or when an entity has it with an unusable type; the entity can then opt out with its
        own `version:`.
        """
        default = self.spec.source.version if self.spec.source is not None else None
        source_span = self.pos.value(("source", "version"))
        holders = [e for e in self.entities.values() if default in e.attributes]
        if default is not None and default != XMIN_VERSION and not holders:
            all_attrs = {a for e in self.entities.values() for a in e.attributes}
            self.error(
                "version-attribute",
                f"source.version {default!r} is not an attribute of any entity",
                source_span,
                hint=suggest(default, all_attrs)
                or "name an integer or datetime attribute that every update changes "
                "(e.g. `updated_at`), or remove `version` to use PostgreSQL's xmin",
            )
        for name, entity in self.entities.items():
            if entity.version is not None:
                span = self.pos.value(("entities", name, "version"))
                if entity.version == XMIN_VERSION:
                    continue
                if entity.version not in entity.attributes:
                    self.error(
                        "version-attribute",
                        f"version attribute {entity.version!r} is not an attribute of entity {name!r}",
                        span,
                        hint=suggest(entity.version, entity.attributes)
                        or f"add `{entity.version}: datetime` under attributes, or write "
                        "`version: xmin` to use PostgreSQL's row xmin",
                    )
                    continue
                self.version_attribute(name, entity, entity.version, span, None)
            elif default is not None and default in entity.attributes:
                self.version_attribute(name, entity, default, source_span, "source.version")

    def version_attribute(
        self, name: str, entity: EntitySpec, attr: str, span: Span, inherited: str | None
    ) -> None:
        """The attribute named as `name`'s version must be a required integer or datetime."""
        what, where = (
            (f"{inherited} {attr!r}", f" on entity {name!r}")
            if inherited
            else (f"version attribute {attr!r} of entity {name!r}", "")
        )
        opt_out = (
            f"; or give entity {name!r} its own `version:` (`version: xmin` for the row xmin)"
            if inherited
            else ""
        )
        t = _type(entity, attr)
        if t is not None and (t.kind not in _VERSION_TYPES or t.item is not None):
            self.error(
                "version-type",
                f"{what} has type {t}{where}; a version is an integer or a datetime",
                span,
                hint="a version orders the writes of one row: a counter bumped by every update "
                "(integer) or a timestamp set by every update (datetime)" + opt_out,
            )
            return
        if not attribute_spec(entity.attributes[attr]).required:
            self.error(
                "optional-version",
                f"{what} is declared `required: false`{where}",
                span,
                hint="a NULL version cannot order writes: make the column NOT NULL and drop "
                "`required: false`" + opt_out,
            )

    # ------------------------------------------------------------------ patterns
    def pattern(self, name: str, p: PatternSpec) -> ResolvedPattern | None:
        base: Path = ("access_patterns", name)
        given = [k for k in ("entity", "entities", "sql") if getattr(p, k) is not None]
        if not given:
            self.error(
                "pattern-source",
                f"pattern {name!r} needs one of `entity`, `entities` or `sql`",
                self.pos.key(base),
                hint='e.g. `entity: Product` with `where: {product_id: "="}`',
            )
            return None
        if len(given) > 1:
            self.error(
                "pattern-source",
                f"pattern {name!r} has both `{given[0]}` and `{given[1]}`; write exactly one",
                self.pos.key((*base, given[1])),
                hint="a `sql:` pattern names its tables in FROM; an `entity:` pattern uses `where:`",
            )
            return None
        if p.sql is not None:
            return self.sql_pattern(name, p)
        entities = [p.entity] if p.entity is not None else list(p.entities or [])
        ok = True
        for i, e in enumerate(entities):
            if e not in self.entities:
                path: Path = (*base, "entity") if p.entity is not None else (*base, "entities", i)
                self.error(
                    "unknown-entity",
                    f"pattern {name!r} reads {e!r}, which is not an entity of this model",
                    self.pos.value(path),
                    hint=suggest(e, self.entities)
                    or "entities: " + ", ".join(sorted(self.entities)),
                )
                ok = False
        if not ok:
            return None
        if len(entities) > 1:
            self.family(name, entities, self.pos.value((*base, "entities")))
        if not p.where:
            self.error(
                "missing-where",
                f"pattern {name!r} has no `where`",
                self.pos.key(base),
                hint='a Query needs at least the partition key by equality, e.g. `where: {customer_id: "="}`',
            )
            return None
        where = self.written_conds(name, "where", p.where)
        filt = self.written_conds(name, "filter", p.filter or {}, where or ())
        if where is None or filt is None:
            return None
        # `where: {x: is_null}` is the conjunct `x IS NULL`: a filter, as in a `sql:` pattern
        filt = (*(c for c in where if c.op in NULL_TESTS), *filt)
        where = tuple(c for c in where if c.op not in NULL_TESTS)
        if not where:
            self.error(
                "missing-where",
                f"pattern {name!r} has only IS [NOT] NULL tests in `where`",
                self.pos.key((*base, "where")),
                hint="a Query needs the partition key by equality, e.g. "
                '`where: {customer_id: "=", shipped_on: is_null}`',
            )
            return None
        if not self.null_tests(name, entities, filt):
            return None
        where = _apart(where, filt)
        if p.order_by is not None:
            self._attributes_exist(
                name,
                entities,
                [Cond(p.order_by, "=", (), (), self.pos.value((*base, "order_by")))],
                every=True,
                what="order_by",
            )
        resolved = self.conditions(name, p, entities, where, filt, p.order, p.order_by, p.limit)
        if resolved is not None and p.nulls is not None:
            if resolved.order_by is None:
                self.error(
                    "nulls-without-order",
                    f"pattern {name!r} says `nulls: {p.nulls}` but orders by no attribute",
                    self.pos.key((*base, "nulls")),
                    hint="add `order_by:` (or a range condition) naming the attribute whose NULLs "
                    "should come first or last, or remove `nulls:`",
                )
                return None
            resolved = replace(resolved, nulls=p.nulls)
        return resolved

    def sql_pattern(self, name: str, p: PatternSpec) -> ResolvedPattern | None:
        base: Path = ("access_patterns", name)
        for k in ("where", "order", "order_by", "limit", "nulls"):
            if getattr(p, k) is not None:
                self.error(
                    "pattern-source",
                    f"pattern {name!r} has `sql:` and `{k}:`; the SQL already says it",
                    self.pos.key((*base, k)),
                    hint=f"remove `{k}:` or write the pattern with `entity:`",
                )
        assert p.sql is not None
        result = translate(p.sql, table_infos(self.spec))
        spath: Path = (*base, "sql")
        for issue in result.issues:
            self.error(
                issue.code,
                f"pattern {name!r}: {issue.message}",
                self.pos.offset(spath, issue.offset),
                hint=issue.hint,
            )
        if result.issues or not result.entities:
            return None
        for issue in result.warnings:
            self.diags.warning(
                issue.code,
                f"pattern {name!r}: {issue.message}",
                self.pos.offset(spath, issue.offset),
                hint=issue.hint,
            )
        for c in result.where:
            self.sql_casts(name, result.entities, c, self.pos.offset(spath, c.offset))
        where = tuple(
            Cond(
                c.attribute,
                c.op,
                c.params,
                c.literals,
                self.pos.offset(spath, c.offset),
                c.bounds,
                c.listed,
            )
            for c in result.where
        )
        if len(result.entities) > 1:
            self.family(name, list(result.entities), self.pos.value(spath))
        filt = self.written_conds(name, "filter", p.filter or {}, where)
        if filt is None:
            return None
        filt = (
            *(
                Cond(c.attribute, c.op, (), (), self.pos.offset(spath, c.offset))
                for c in result.filter
            ),
            *filt,
        )
        if not self.null_tests(name, list(result.entities), filt):
            return None
        resolved = self.conditions(
            name, p, list(result.entities), where, filt, result.order, result.order_by, result.limit
        )
        if resolved is None:
            return None
        return replace(resolved, nulls=result.nulls, limit_param=result.limit_param)

    def sql_casts(self, name: str, entities: Sequence[str], c: Any, span: Span) -> None:
        """A cast in a condition (`placed_at >= :since::date`) compares the cast value: exact
        only when the cast keeps every value of the attribute's type as it is (the type's own
        cast, or a wider one); a cast to another type or a length (`::date` on a datetime,
        `::varchar(2)`, `::numeric(4,2)`, `::int` on a decimal) changes what is compared."""
        owner = next((e for e in entities if c.attribute in self.entities[e].attributes), None)
        t = _type(self.entities[owner], c.attribute) if owner is not None else None
        if t is None:
            return
        kept = _CASTS_KEEPING.get(t.kind, frozenset())
        for cast in c.casts:
            if cast not in kept:
                self.error(
                    "sql-condition",
                    f"pattern {name!r}: the cast to {cast} changes the value compared with "
                    f"{c.attribute} ({t}): PostgreSQL compares the cast value, a key condition "
                    "the value as given",
                    span,
                    hint=f"drop the cast (pass a value of type {t}), or store the value the cast gives "
                    "as its own attribute",
                )
                return

    def null_tests(self, name: str, entities: list[str], filt: Sequence[Cond]) -> bool:
        """`IS NULL` needs an attribute whose NULL is told apart from every value: not a
        set (DynamoDB stores an empty set as no attribute, like NULL)."""
        ok = True
        tested: dict[str, str] = {}
        for c in filt:
            if c.op not in NULL_TESTS:
                continue
            if tested.setdefault(c.attribute, c.op) != c.op:
                self.error(
                    "sql-is-null",
                    f"pattern {name!r}: {c.attribute} IS NULL and {c.attribute} IS NOT NULL "
                    "together match no item, so the pattern returns nothing",
                    c.span,
                    hint="keep one of the two conditions",
                )
                ok = False
            for e in entities:
                t = _type(self.entities[e], c.attribute) if e in self.entities else None
                spec = self.entities[e].attributes.get(c.attribute) if e in self.entities else None
                if spec is not None and attribute_spec(spec).required and c.op == "is_null":
                    self.error(
                        "sql-is-null",
                        f"pattern {name!r}: {e}.{c.attribute} is required (NOT NULL), so "
                        f"{c.attribute} IS NULL is never true and the pattern returns nothing",
                        c.span,
                        hint=f"declare `{c.attribute}: {{type: {t}, required: false}}` if the "
                        "column is nullable, or remove the condition",
                    )
                    ok = False
                if t is not None and t.kind == "set":
                    self.error(
                        "sql-is-null",
                        f"pattern {name!r}: {c.attribute} IS [NOT] NULL on a {t} attribute: "
                        "DynamoDB stores an empty set as no attribute, so NULL and an empty set "
                        "cannot be told apart",
                        c.span,
                        hint="test it in the application, or keep a count attribute beside it",
                    )
                    ok = False
        return ok

    def written_conds(
        self,
        name: str,
        block: Literal["where", "filter"],
        items: dict[str, Any],
        where: Sequence[Cond] = (),
    ) -> tuple[Cond, ...] | None:
        """The conditions of a `where:` / `filter:` block, with their parameter names.

        `[">=", "<"]` is a range with two bounds. An attribute that `where` constrains too
        gets one parameter per bound (`<attr>_from` for > and >=, `<attr>_to` for < and <=),
        so `where: {d: ">="}` + `filter: {d: "<"}` takes two values, never one for both.
        """
        base: Path = ("access_patterns", name, block)
        out: list[Cond] = []
        ok = True
        taken = {p for c in where for p in c.params}
        in_where = {c.attribute for c in where if c.op not in NULL_TESTS}
        for attr, op in items.items():
            span = self.pos.key((*base, attr))
            bounds = INCLUSIVE
            if isinstance(op, list):
                low, high = op
                if low not in LOWER_BOUNDS or high not in UPPER_BOUNDS:
                    self.error(
                        "invalid-value",
                        f"{block} attribute {attr!r} of pattern {name!r}: the bounds {op} are "
                        "not a lower bound then an upper bound",
                        self.pos.value((*base, attr)),
                        hint='write the lower bound first: `[">=", "<"]`, `[">", "<="]`, ...',
                    )
                    ok = False
                    continue
                op, bounds = "between", (low, high)
            if op in NULL_TESTS:
                out.append(Cond(attr, op, (), (), span))
                continue
            params = _bound_params(attr, op) if attr in in_where else default_params(attr, op)
            if taken & set(params):
                params = tuple(f"{p}_{block}" for p in params)
            taken.update(params)
            out.append(Cond(attr, op, params, (), span, bounds))
        return tuple(out) if ok else None

    def family(self, name: str, entities: Sequence[str], span: Span) -> None:
        """Listed entities must be one parent/child tree (they share one item collection)."""
        listed = set(entities)
        roots = []
        for e in entities:
            parent = self.entities[e].parent
            ancestors: set[str] = set()
            while parent is not None and parent in self.entities and parent not in ancestors:
                ancestors.add(parent)
                parent = self.entities[parent].parent
            if not ancestors & listed:
                roots.append(e)
        if len(roots) > 1:
            self.error(
                "unrelated-entities",
                f"pattern {name!r} reads {', '.join(roots)} together, but they are not parent and child",
                span,
                hint="one Query reads one item collection: list a parent and its children (set `parent:` on the children)",
            )

    def _attributes_exist(
        self, name: str, entities: Sequence[str], conds: Sequence[Cond], every: bool, what: str
    ) -> list[Cond]:
        good = []
        for c in conds:
            lacking = [e for e in entities if c.attribute not in self.entities[e].attributes]
            bad = lacking if every else (lacking if len(lacking) == len(entities) else [])
            if bad:
                pool = set(self.entities[bad[0]].attributes)
                owner = (
                    f"entity {bad[0]!r}"
                    if len(bad) == 1
                    else "entities " + ", ".join(repr(b) for b in bad)
                )
                self.error(
                    "unknown-attribute",
                    f"{what} attribute {c.attribute!r} of pattern {name!r} is not an attribute of {owner}",
                    c.span,
                    hint=(
                        "every entity of an item-collection read must have each `where` attribute; move it to `filter:`"
                        if every and len(entities) > 1
                        else suggest(c.attribute, pool)
                    ),
                )
            else:
                good.append(c)
        return good

    def _ttl_filters(self, entities: list[str], filt: tuple[Cond, ...]) -> None:
        """begins_with cannot filter the TTL datetime: it is stored as N (epoch seconds)."""
        ttl = self.spec.table.ttl if self.spec.table is not None else None
        for c in filt:
            if c.op != "begins_with" or c.attribute != ttl:
                continue
            types = [_type(self.entities[e], ttl) for e in entities if e in self.entities]
            if any(t is not None and str(t) == "datetime" for t in types):
                self.error(
                    "operator-type",
                    f"begins_with on {ttl!r}, the table's TTL attribute, which is stored as a "
                    "Number (epoch seconds)",
                    c.span,
                    hint="compare it with <, <=, >, >= or between",
                )

    def conditions(
        self,
        name: str,
        p: PatternSpec,
        entities: list[str],
        where: tuple[Cond, ...],
        filt: tuple[Cond, ...],
        order: Literal["asc", "desc"] | None,
        order_by: str | None,
        limit: int | None,
    ) -> ResolvedPattern | None:
        base: Path = ("access_patterns", name)
        errors_before = len(self.diags.errors)
        good = self._attributes_exist(name, entities, where, every=True, what="where")
        self._attributes_exist(name, entities, filt, every=False, what="filter")
        self._ttl_filters(entities, filt)
        ranges = [c for c in where if c.op in RANGE_OPERATORS]
        lists = [c for c in where if c.op == IN]
        for extra in lists[1:]:
            self.error(
                "sql-in",
                f"pattern {name!r} has IN lists on {lists[0].attribute!r} and "
                f"{extra.attribute!r}; one Query per combination of values is not planned",
                extra.span,
                hint=f"keep one IN list and write {extra.attribute!r} with `=`",
            )
        for extra in ranges[1:]:
            self.error(
                "two-ranges",
                f"pattern {name!r} has range conditions on {ranges[0].attribute!r} and {extra.attribute!r}; a Query has one sort-key condition",
                extra.span,
                hint=f"keep one range and move {extra.attribute!r} to `filter:`",
            )
        for c in good:
            owner = next(e for e in entities if c.attribute in self.entities[e].attributes)
            t = _type(self.entities[owner], c.attribute)
            if t is None:
                continue
            if not t.keyable:
                self.error(
                    "unkeyable-type",
                    f"where attribute {c.attribute!r} has type {t}, which cannot be a key condition",
                    c.span,
                    hint="move it to `filter:`",
                )
            elif c.op == "begins_with" and t.kind not in _PREFIX_TYPES:
                self.error(
                    "operator-type",
                    f"begins_with on {c.attribute!r} of type {t}",
                    c.span,
                    hint="begins_with applies to string and binary attributes; for numbers, "
                    "dates, datetimes and uuids use `between` (a month: its first and last day)",
                )
            elif c.op in RANGE_OPERATORS and c.op != "begins_with" and t.kind not in _RANGE_TYPES:
                self.error(
                    "operator-type",
                    f"range operator {c.op!r} on {c.attribute!r} of type {t}",
                    c.span,
                    hint="booleans only take `=`",
                )
            a = attribute_spec(self.entities[owner].attributes[c.attribute])
            for lit in c.literals:
                problem = values.literal_problem(t.kind, lit)
                hint = f"write the {t} the comparison means as a literal, or bind it as a parameter"
                if problem is None and t.kind == "datetime" and a.timezone is not False:
                    problem = values.zoneless_instant(lit)
                    hint = f"write the offset ('{str(lit).strip()}+00' for UTC), or bind it"
                if problem is not None:
                    self.error("invalid-value", f"pattern {name!r}: {problem}", c.span, hint=hint)
                    continue
                if a.enum is not None and lit not in a.enum:
                    self.error(
                        "invalid-value",
                        f"{lit!r} is not one of the values of {owner}.{c.attribute} ({', '.join(a.enum)})",
                        c.span,
                        hint=suggest(str(lit), a.enum),
                    )
                elif t.keyable and (problem := _key_encoding_problem(t.kind, lit, c.op)):
                    # the request builder encodes it as a key slot: compile stopped there,
                    # without a position (10^23 for an integer)
                    self.error(
                        "invalid-value",
                        f"the literal {lit!r} cannot be a value of {owner}.{c.attribute} "
                        f"({t}): {problem}",
                        c.span,
                        hint=f"write a {t} literal, or bind a parameter",
                    )
        range_attr = ranges[0].attribute if ranges else None
        if order_by is not None and range_attr is not None and order_by != range_attr:
            self.error(
                "order-mismatch",
                f"pattern {name!r} orders by {order_by!r} but its range condition is on {range_attr!r}",
                self.pos.value((*base, "order_by"))
                if p.sql is None
                else self.pos.value((*base, "sql")),
                hint="a Query returns items in sort-key order: order by the range attribute",
            )
        if p.unique and ranges:
            self.error(
                "unique-range",
                f"pattern {name!r} is `unique: true` but has a range condition on {ranges[0].attribute!r}",
                self.pos.value((*base, "unique")),
                hint="a range can match many items: drop `unique` or the range",
            )
        if p.unique and len(entities) > 1:
            self.error(
                "unique-collection",
                f"pattern {name!r} is `unique: true` but reads {len(entities)} entities",
                self.pos.value((*base, "unique")),
                hint="an item-collection read returns several items",
            )
        if len(self.diags.errors) > errors_before:
            return None
        eq = tuple(c for c in where if c.op not in RANGE_OPERATORS)
        rng = tuple(c for c in where if c.op in RANGE_OPERATORS)
        return ResolvedPattern(
            name, tuple(entities), eq + rng, filt, order, order_by or range_attr, limit
        )


def check(
    spec: ModelSpec, positions: Positions, diags: Diagnostics, file: str
) -> dict[str, ResolvedPattern]:
    """Run every semantic check; the resolved patterns (those without errors)."""
    return Checker(spec, positions, diags, file).run()
