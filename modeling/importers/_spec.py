"""Catalog → model spec: a YAML document (ruamel round-trip map) an architect only reviews.

Both importers end here, so the DDL and live-database paths give the same model for the same
schema. Every guess carries a YAML comment saying where it came from (`# guessed from unique
index users_email_key (line 123)`), and everything left out (tsvector and generated columns,
expression and GIN indexes, tables outside the filter) is listed, never silently dropped.
"""

from __future__ import annotations

import copy
import fnmatch
import io
import itertools
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from modeling.core.diagnostics import Diagnostics, Span
from modeling.core.limits import KEYABLE_TYPES, MAX_GSIS
from modeling.core.naming import entity_for_table, pascal, reserved_attribute, snake
from modeling.importers._yaml_text import PLAIN_SAFE, WIDTH, YAML_WORDS, dump_text
from modeling.pg.catalog import Catalog, Column, ForeignKey, QName, Table
from modeling.pg.collations import model_collation
from modeling.pg.types import ModelType, to_model_type
from modeling.spec.model import AttributeSpec
from modeling.spec.schema import schema_text

SCHEMA_FILE = "model.schema.json"
SCHEMA_DEFAULT_REF = "../generated/model.schema.json"  # models/ beside generated/
SCHEMA_LINE = f"yaml-language-server: $schema={SCHEMA_DEFAULT_REF}"


def schema_line(ref: str) -> str:
    """The editor header naming the model language's JSON Schema."""
    return f"yaml-language-server: $schema={ref}"


def schema_reference(output: Path | None) -> tuple[str, Path | None]:
    """Where a seeded or imported model's `$schema` points, and the file to write it to if any.

    A model written to a file points at a schema that exists from there: the nearest
    `generated/model.schema.json` in the file's directory or above it (a project that ran
    `model schema -o generated/model.schema.json`), as a path relative to the file; else a
    `model.schema.json` written beside the model. On stdout the location is unknown: the
    conventional `../generated/model.schema.json` (models/ beside generated/)."""
    if output is None:
        return SCHEMA_DEFAULT_REF, None
    folder = output.parent.resolve()
    for base in (folder, *folder.parents):
        candidate = base / "generated" / SCHEMA_FILE
        if candidate.is_file():
            return Path(os.path.relpath(candidate, folder)).as_posix(), None
    return SCHEMA_FILE, folder / SCHEMA_FILE


def ensure_schema_file(path: Path) -> bool:
    """Write the model language's JSON Schema to `path` unless it is already there, current.
    True when the file was written."""
    text = schema_text()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return True


_PLAIN_ATTRIBUTE = re.compile(r"^[a-z_][a-z0-9_]*$")


def located(kind: str, name: str | None, line: int) -> str:
    """`primary key users_pkey (line 12)` for a DDL object; a catalog object (read from a live
    database, no line) is named by its catalog name alone: `primary key users_pkey`."""
    text = " ".join(p for p in (kind, name) if p)
    return f"{text} (line {line})" if line else text


def attribute_name(column: str) -> str:
    """The attribute for a column: the column name itself when it is a plain lower-case
    identifier, else its snake_case form (the model then records `column:`). A column named
    like an attribute the layout writes itself (`_type`, `_version`) becomes its snake_case
    form too (`type`), so the seeded model compiles."""
    if _PLAIN_ATTRIBUTE.match(column) and not reserved_attribute(column):
        return column
    return snake(column)


@dataclass
class EntityInfo:
    """How a table became an entity; `queries` uses it to resolve SQL names."""

    name: str
    table: Table
    attrs: dict[str, str]  # column → attribute (data columns only)
    types: dict[str, str]  # attribute → model type
    key: list[str]  # attribute names
    parent: str | None = None
    parent_fk: list[str] = field(default_factory=list)  # child attributes that reference parent
    key_origin: str = ""
    pinned_names: set[str] = field(default_factory=set)  # key names a child already relies on


@dataclass
class Seeded:
    doc: CommentedMap
    entities: dict[QName, EntityInfo]
    diagnostics: Diagnostics
    report: dict[str, Any]
    patterns: list[Pattern] = field(default_factory=list)

    def add_patterns(self, extra: list[Pattern], diags: Diagnostics | None = None) -> int:
        """Merge patterns (from the workload): one already suggested gains the rate and the
        provenance; a guess the query refines (same entity and equalities, the query adding its
        own order or range) is replaced by the query's pattern, one pattern per need; new ones
        are appended. Re-renders the document; returns how many were new."""
        by_sig = {p.signature: p for p in self.patterns}
        names = {p.name for p in self.patterns}
        # the guesses a pattern may refine share its entities and equalities (`refines`): looked
        # up, not scanned (thousands of queries x thousands of guesses was quadratic)
        by_need: dict[tuple[Any, ...], list[Pattern]] = {}
        for g in self.patterns:
            by_need.setdefault((tuple(g.entities), g.equalities), []).append(g)
        refined: set[int] = set()  # id() of the guesses replaced, dropped once at the end
        new = 0
        for p in extra:
            p.from_workload = True
            old = by_sig.get(p.signature)
            if old is not None:
                old.rate = (old.rate or 0) + p.rate if p.rate is not None else old.rate
                old.origins.extend(o for o in p.origins if o not in old.origins)
                old.from_workload = True
                continue
            need = by_need.get((tuple(p.entities), p.equalities), [])
            for guess in [g for g in need if id(g) not in refined and p.refines(g)]:
                refined.add(id(guess))
                names.discard(guess.name)
                del by_sig[guess.signature]
                p.origins.append(f"refines the guess {guess.name} ({'; '.join(guess.origins)})")
                self.report.setdefault("guesses_refined_by_queries", []).append(
                    {"guess": guess.name, "by": p.name}
                )
            base, k = p.name, 2
            while p.name in names:
                p.name, k = f"{base}_{k}", k + 1
            names.add(p.name)
            by_sig[p.signature] = p
            self.patterns.append(p)
            new += 1
        if refined:
            self.patterns[:] = [g for g in self.patterns if id(g) not in refined]
        left_out = cap_index_patterns(
            self.patterns,
            diags or self.diagnostics,
            self.report.get("source"),
            required_attributes(self.entities.values()),
        )
        kept = {p.name for p in self.patterns}
        notes = self.report.setdefault("not_turned_into_patterns", [])
        # a guess left out before that a query brought back is no longer left out
        notes[:] = [n for n in notes if n.get("pattern") not in kept] + left_out
        self.doc["access_patterns"] = render_patterns(self.patterns)
        self.report["access_patterns"] = len(self.patterns)
        return new

    def add_write_rates(self, rates: dict[str, tuple[float, str]]) -> None:
        """`writes_per_second` on each entity (entity → (rate, where it came from))."""
        entities = self.doc["entities"]
        for name, (rate, origin) in sorted(rates.items()):
            e = entities.get(name)
            if e is None:
                continue
            e["writes_per_second"] = _round_rate(rate)
            e.yaml_add_eol_comment(origin, "writes_per_second")

    def entity_by_name(self, name: str) -> EntityInfo | None:
        for e in self.entities.values():
            if e.name == name:
                return e
        return None


@dataclass
class Pattern:
    name: str
    entities: list[str]
    where: list[tuple[str, str]]
    unique: bool = False
    order: str | None = None
    origins: list[str] = field(default_factory=list)
    rate: float | None = None
    limit: int | None = None
    order_by: str | None = None
    from_workload: bool = False  # a query the application runs, not a guess from the schema

    @property
    def signature(self) -> tuple[Any, ...]:
        return (tuple(self.entities), tuple(self.where), self.order, self.order_by, self.limit)

    @property
    def equalities(self) -> frozenset[str]:
        return frozenset(a for a, op in self.where if op == "=")

    @property
    def sort_attribute(self) -> str | None:
        """The attribute the result is ordered on: the range attribute, else `order_by`."""
        return next((a for a, op in self.where if op != "="), None) or self.order_by

    def refines(self, guess: Pattern) -> bool:
        """Whether this (workload) pattern serves the need a schema guess stands for: the same
        entities and equalities, and the guess adds no order, limit or range of its own that
        differs (a unique lookup stays: it is a different need)."""
        return (
            not guess.from_workload
            and not guess.unique
            and guess.entities == self.entities
            and guess.equalities == self.equalities
            and guess.order is None
            and guess.order_by is None
            and guess.limit is None
            and guess.sort_attribute in (None, self.sort_attribute)
            and guess.signature != self.signature
        )


def select_tables(
    catalog: Catalog, schemas: list[str] | None, globs: list[str] | None
) -> list[Table]:
    """Tables to seed: partitions folded away, then `--schema` and `--tables` filters
    (a glob matches `name` or `schema.name`)."""
    out = []
    for t in catalog.data_tables():
        if schemas and t.schema not in schemas:
            continue
        if globs and not any(
            fnmatch.fnmatchcase(t.name, g) or fnmatch.fnmatchcase(f"{t.schema}.{t.name}", g)
            for g in globs
        ):
            continue
        out.append(t)
    # by (schema, name): a dump's statement order and a live catalog's are not the same, and
    # the same schema must give the same model whichever way it was read
    return sorted(out, key=lambda t: (t.schema, t.name))


def fold_partition_keys(catalog: Catalog, tables: list[Table]) -> None:
    """Foreign keys declared on partitions (pg_dump writes them per partition, sometimes on only
    some) belong to the parent entity: copy each up once, keeping the first declaration.
    Sub-partitions (a partition that is itself partitioned) count too, at any depth."""
    for t in tables:
        parts: list[Table] = []
        todo, seen = list(t.partitions), {t.qname}
        while todo:
            q = todo.pop(0)
            if q in seen or q not in catalog.tables:
                continue
            seen.add(q)
            parts.append(catalog.tables[q])
            todo.extend(catalog.tables[q].partitions)
        if not parts:
            continue
        have = {(tuple(fk.columns), fk.ref) for fk in t.foreign_keys}
        for part in parts:
            for fk in part.foreign_keys:
                sig = (tuple(fk.columns), fk.ref)
                if sig not in have:
                    have.add(sig)
                    t.foreign_keys.append(
                        ForeignKey(list(fk.columns), fk.ref, list(fk.ref_columns), fk.name, fk.line)
                    )


def _own_foreign_keys(catalog: Catalog) -> Catalog:
    """A copy of `catalog` in which each partitioned table has its own foreign-key list, the
    one thing `fold_partition_keys` changes (a deep copy of the whole catalog was half the
    seeding time of a 50,000-table schema; issue 18)."""
    out = copy.copy(catalog)
    out.tables = dict(catalog.tables)
    for q, t in catalog.tables.items():
        if t.partitions:
            own = copy.copy(t)
            own.foreign_keys = list(t.foreign_keys)
            out.tables[q] = own
    return out


def _entity_names(tables: list[Table]) -> dict[QName, str]:
    """PascalCase singular names; a name shared across schemas gets the schema as a prefix."""
    base = {t.qname: entity_for_table(t.spelling or t.name) for t in tables}
    counts: dict[str, int] = {}
    for n in base.values():
        counts[n] = counts.get(n, 0) + 1
    names: dict[QName, str] = {}
    used: set[str] = set()
    for t in tables:
        n = base[t.qname]
        if counts[n] > 1:
            n = pascal(t.schema) + n
        candidate, k = n, 2
        while candidate in used:
            candidate, k = f"{n}{k}", k + 1
        used.add(candidate)
        names[t.qname] = candidate
    return names


def _is_non_data(col: Column, mt: ModelType) -> str | None:
    if col.generated is not None:
        return f"generated column ({col.generated_kind or 'stored'}): {col.generated}"
    if mt.non_data:
        return f"{col.type}: {mt.note}"
    return None


def _where_text(where: list[tuple[str, str]]) -> CommentedMap:
    m = CommentedMap()
    for a, op in where:
        m[a] = op
    m.fa.set_flow_style()
    return m


def _flow_seq(items: list[str]) -> CommentedSeq:
    s = CommentedSeq(items)
    s.fa.set_flow_style()
    return s


def _align_parent_keys(infos: dict[QName, EntityInfo], diags: Diagnostics, src: str) -> None:
    """A child item carries its parent's key attributes under the same names (the model's
    rule for item collections), but SQL names them differently: `orders.id` is
    `order_lines.order_id`. Rename the parent's key attributes to the children's foreign-key
    names (`order_id`, with `column: id`), the usual single-table idiom; when two children
    disagree or the name is taken, the later child keeps only its `references`."""
    by_name = {i.name: i for i in infos.values()}
    for info in sorted(infos.values(), key=lambda i: i.name):
        if not info.parent:
            continue
        parent = by_name[info.parent]
        if parent.key == info.parent_fk:
            continue
        rename = dict(zip(parent.key, info.parent_fk, strict=False))
        clash = len(parent.key) != len(info.parent_fk) or any(
            new in parent.types and new not in parent.key for new in rename.values()
        )
        if clash or any(old != new and old in parent.pinned_names for old, new in rename.items()):
            diags.info(
                "SEED030",
                f"{info.name}: its foreign key ({', '.join(info.parent_fk)}) names "
                f"{parent.name}'s key ({', '.join(parent.key)}) differently; not made a child",
                Span(src, info.table.line, 1),
                hint=f"rename {parent.name}'s key attributes (keeping `column:`) and add "
                f"`parent: {parent.name}` to make it one item collection",
                subject=info.name,
            )
            info.parent = None
            info.parent_fk = []
            continue
        parent.types = {rename.get(a, a): t for a, t in parent.types.items()}
        parent.attrs = {c: rename.get(a, a) for c, a in parent.attrs.items()}
        parent.key = [rename.get(a, a) for a in parent.key]
        parent.pinned_names.update(parent.key)


def catalog_to_spec(
    catalog: Catalog,
    *,
    model_name: str,
    schemas: list[str] | None = None,
    tables: list[str] | None = None,
    source_ddl: str | None = None,
    source_database: str | None = None,
    description: str | None = None,
    schema_ref: str = SCHEMA_DEFAULT_REF,
) -> Seeded:
    """Build the model document from a catalog. Pure: no I/O; deterministic for one catalog."""
    diags = Diagnostics()
    catalog = _own_foreign_keys(catalog)  # folding partitions must not change the caller's
    src = catalog.source or "<catalog>"
    chosen = select_tables(catalog, [s.lower() for s in schemas] if schemas else None, tables)
    fold_partition_keys(catalog, chosen)
    names = _entity_names(chosen)
    infos: dict[QName, EntityInfo] = {}
    non_data: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []  # tables that cannot become an entity
    fks_outside: list[dict[str, Any]] = []  # foreign keys to tables not in the input

    # column type text -> model type, once per distinct (text, schema): a type maps the same
    # for every column of a catalog that does not change meanwhile (a dump has a few dozen
    # distinct types for thousands of columns; the mapping was a third of this function)
    mapped: dict[tuple[str, str], ModelType] = {}

    def model_type(text: str, schema: str) -> ModelType:
        found = mapped.get((text, schema))
        if found is None:
            found = mapped[text, schema] = to_model_type(text, catalog, schema)
        return found

    # ------------------------------------------------------------ attributes and keys
    for t in chosen:
        attrs: dict[str, str] = {}
        types: dict[str, str] = {}
        for col in t.columns.values():
            mt = model_type(col.type, t.schema)
            why = _is_non_data(col, mt)
            if why is not None:
                non_data.append(
                    {
                        "table": f"{t.schema}.{t.name}",
                        "column": col.name,
                        "reason": why,
                        "line": col.line,
                    }
                )
                continue
            a = attribute_name(col.name)
            while a in types:
                a += "_"
            attrs[col.name] = a
            types[a] = mt.type
        if not attrs:
            # an entity needs attributes: a table of derived columns only is left out, and said
            reason = (
                "no data columns (only " + ", ".join(t.columns) + ")" if t.columns else "no columns"
            )
            dropped.append({"table": f"{t.schema}.{t.name}", "line": t.line, "reason": reason})
            diags.info(
                "SEED023",
                f"table {t.schema}.{t.name} not seeded: {reason}",
                Span(src, t.line, 1),
                hint="add the table by hand if it holds data worth migrating",
                subject=names[t.qname],
            )
            continue
        keyable_columns = {c for c, a in attrs.items() if types[a] in KEYABLE_TYPES}
        key_cols, key_origin = _choose_key(t, keyable_columns.__contains__)
        key = [attrs[c] for c in key_cols if c in attrs]
        if not key:
            # a column a key can hold (not json, an array or a composite), NOT NULL first
            keyable = [c for c in attrs if types[attrs[c]] in KEYABLE_TYPES]
            keyable.sort(key=lambda c: not t.columns[c].not_null)
            if not keyable:
                reason = (
                    "no primary key or unique constraint a key can hold, and no column of a "
                    "type a key can hold (only "
                    + ", ".join(f"{a} {types[a]}" for a in attrs.values())
                    + ")"
                )
                dropped.append({"table": f"{t.schema}.{t.name}", "line": t.line, "reason": reason})
                diags.info(
                    "SEED025",
                    f"table {t.schema}.{t.name} not seeded: {reason}",
                    Span(src, t.line, 1),
                    hint="add the table by hand with a key attribute (e.g. a generated id) if "
                    "it holds data worth migrating",
                    subject=names[t.qname],
                )
                continue
            key = [attrs[keyable[0]]]
            unkeyable_id = _choose_key(t)[0]
            key_origin = (
                "the primary key ("
                + ", ".join(unkeyable_id)
                + ") has a type a key cannot hold: review this key"
                if unkeyable_id
                else "no primary key or unique constraint in the source: review this key"
            )
            diags.warning(
                "SEED020",
                f"table {t.schema}.{t.name}: "
                + (
                    f"its identity ({', '.join(unkeyable_id)}) has a type a key cannot hold"
                    if unkeyable_id
                    else "has no primary key or unique constraint"
                )
                + f"; key guessed as {key}",
                Span(src, t.line, 1),
                hint="declare the real identity in `key:`",
                subject=names[t.qname],
            )
        info = EntityInfo(names[t.qname], t, attrs, types, key, key_origin=key_origin)
        infos[t.qname] = info

    chosen = [t for t in chosen if t.qname in infos]

    # ------------------------------------------------------------ parents (owned 1:N)
    for t in chosen:
        info = infos[t.qname]
        for fk in t.foreign_keys:
            target = infos.get(fk.ref)
            if target is None or fk.ref == t.qname:
                continue
            ref_cols = fk.ref_columns or list(target.table.primary_key)
            if ref_cols != list(target.table.primary_key) or not ref_cols:
                continue
            pk = list(t.primary_key)
            if len(pk) > len(fk.columns) and pk[: len(fk.columns)] == fk.columns:
                info.parent = target.name
                info.parent_fk = [info.attrs[c] for c in fk.columns if c in info.attrs]
                break

    _align_parent_keys(infos, diags, src)

    # ------------------------------------------------------------ entities
    non_data_of: dict[str, list[dict[str, Any]]] = {}  # table → its columns not seeded
    for n in non_data:
        non_data_of.setdefault(n["table"], []).append(n)
    entities = CommentedMap()
    for t in chosen:
        info = infos[t.qname]
        e = CommentedMap()
        e["table"] = t.name
        if t.schema != "public":
            e["schema"] = t.schema
        if t.comment:
            e["description"] = t.comment
        e["key"] = _flow_seq(info.key)
        if info.key_origin:
            _eol_comment(e, "key", info.key_origin)
        if info.parent:
            e["parent"] = info.parent
            _eol_comment(
                e,
                "parent",
                f"key starts with the foreign key ({', '.join(info.parent_fk)}) to {info.parent}",
            )
        if t.row_count is not None and t.row_count >= 0:
            e["row_count"] = t.row_count
        fk_of: dict[str, tuple[str | None, str]] = {}
        for fk in t.foreign_keys:
            target = infos.get(fk.ref)
            where = located("foreign key", fk.name, fk.line)
            ref_text = f"{fk.ref[0]}.{fk.ref[1]}"
            outside = fk.ref not in catalog.tables
            if outside:
                # an excerpt or a schema split over files: the reference is kept as a note
                fks_outside.append(
                    {
                        "table": f"{t.schema}.{t.name}",
                        "foreign_key": fk.name,
                        "columns": list(fk.columns),
                        "references": ref_text,
                        "line": fk.line,
                    }
                )
                diags.warning(
                    "SEED031",
                    f"{t.schema}.{t.name}: {located('foreign key', fk.name, 0)} ({', '.join(fk.columns)}) "
                    f"references {ref_text}, which is not in the input; no `references:` written",
                    Span(src, fk.line, 1),
                    hint=f"seed {ref_text} too (add its DDL) or set `references:` by hand",
                    subject=info.name,
                )
            # `references:` names the target's key: an FK to other (unique) columns is a note
            key_cols = [c for c, a in target.attrs.items() if a in target.key] if target else []
            off_key = (
                target is not None and bool(fk.ref_columns) and set(fk.ref_columns) != set(key_cols)
            )
            for c in fk.columns:
                if c not in fk_of:
                    if off_key:
                        fk_of[c] = (
                            None,
                            f"{where} to {ref_text}({', '.join(fk.ref_columns)}), not its key",
                        )
                        continue
                    fk_of[c] = (
                        target.name if target else None,
                        where
                        if target
                        else f"{where} to {ref_text}, which is "
                        + ("not in the input" if outside else "not seeded"),
                    )
        attrs_map = CommentedMap()
        for col in t.columns.values():
            if col.name not in info.attrs:
                continue
            a = info.attrs[col.name]
            mt = model_type(col.type, t.schema)
            required = col.not_null or mt.not_null or a in info.key
            spec: dict[str, Any] = {"type": mt.type}
            if not required:
                spec["required"] = False
            if mt.enum:
                spec["enum"] = _flow_seq(list(mt.enum))
            if col.min_length and mt.type == "string":  # a CHECK proves it (pg.check_constraints)
                spec["min_length"] = col.min_length
            if mt.max_length is not None and mt.type == "string":
                spec["max_length"] = mt.max_length
            if mt.type == "decimal" and mt.precision is not None:
                spec["precision"] = mt.precision
                spec["scale"] = mt.scale or 0
            if mt.type == "integer" and mt.min is not None and mt.max is not None:
                spec["min"], spec["max"] = mt.min, mt.max
            if not mt.timezone:
                spec["timezone"] = False  # `timestamp`: naive values, read back naive
            collation = (
                model_collation(catalog, col.collation or mt.collation)
                if mt.type == "string" and not mt.enum
                else None
            )
            if collation is not None and collation.name is not None:
                spec["collation"] = collation.name
            if collation is not None and not collation.deterministic:
                diags.warning(
                    "SEED024",
                    f"{t.schema}.{t.name}.{col.name}: {collation.note}: PostgreSQL's `=` on it "
                    "ignores case or accents ('a' = 'A'), a DynamoDB key compares exact bytes",
                    Span(src, col.line, 1),
                    hint="key on a normalised copy (e.g. lower-cased) if a pattern looks it up "
                    "by equality",
                    subject=info.name,
                )
            ref = fk_of.get(col.name)
            if ref is not None and ref[0] is not None:
                spec["references"] = ref[0]
            if a != col.name:
                spec["column"] = col.name
            if col.comment:
                spec["description"] = col.comment
            stats_note = None
            if col.stats:
                st = CommentedMap((k, v) for k, v in sorted(col.stats.items()) if v is not None)
                st.fa.set_flow_style()
                if st and _spec_accepts_stats():
                    spec["stats"] = st
                elif st:
                    stats_note = "pg_stats " + ", ".join(f"{k}={v}" for k, v in st.items())
            if len(spec) == 1:
                attrs_map[a] = mt.type
            else:
                m = CommentedMap(spec)
                m.fa.set_flow_style()
                attrs_map[a] = m
            comment = _column_comment(col, mt, ref)
            if collation is not None and collation.note:
                comment = f"{comment}; {collation.note}" if comment else collation.note
            if stats_note:
                comment = f"{comment}; {stats_note}" if comment else stats_note
            if comment:
                _eol_comment(attrs_map, a, comment)
            if mt.note and "unknown type" in mt.note:
                diags.warning(
                    "SEED021",
                    f"{t.schema}.{t.name}.{col.name}: {mt.note}",
                    Span(src, col.line, 1),
                    hint="set the attribute's type by hand",
                    subject=info.name,
                )
            if a in info.key and mt.type.split("<")[0] not in KEYABLE_TYPES:
                diags.warning(
                    "SEED022",
                    f"{t.schema}.{t.name}: key column {col.name} has type {mt.type}, which cannot be a key",
                    Span(src, col.line, 1),
                    subject=info.name,
                )
        e["attributes"] = attrs_map
        skipped_cols = non_data_of.get(f"{t.schema}.{t.name}", [])
        if skipped_cols:
            text = "not seeded: " + "; ".join(
                f"{n['column']} ({n['reason']})" for n in skipped_cols
            )
            if attrs_map:
                attrs_map.yaml_set_comment_before_after_key(
                    next(iter(attrs_map)), before=text, indent=6
                )
        entities[info.name] = e

    # ------------------------------------------------------------ access patterns
    patterns = _suggest_patterns(chosen, infos, notes)
    notes += cap_index_patterns(patterns, diags, src, required_attributes(infos.values()))

    # ------------------------------------------------------------ document
    doc = CommentedMap()
    doc["model"] = model_name
    doc.yaml_set_start_comment(schema_line(schema_ref))
    origin = catalog.source or "PostgreSQL"
    if "://" not in origin and "=" not in origin:
        origin = origin.replace("\\", "/").rsplit("/", 1)[-1]  # a file: its name, not our path
    doc["description"] = description or f"Seeded from {origin}; review every guess"
    default_table = pascal(model_name)
    if len(default_table) < 3:  # DynamoDB table names are 3–255 characters
        table = CommentedMap()
        table["name"] = f"{default_table}Table"
        doc["table"] = table
    if source_ddl or source_database or catalog.default_collation:
        s = CommentedMap()
        s["dialect"] = "postgres"
        if source_ddl:
            s["ddl"] = source_ddl
        if source_database:
            s["database"] = source_database
        if catalog.default_collation:
            s["collation"] = catalog.default_collation
            if catalog.default_collation_origin:
                _eol_comment(
                    s, "collation", "the database default, from " + catalog.default_collation_origin
                )
        doc["source"] = s
    doc["entities"] = entities
    if dropped:
        doc.yaml_set_comment_before_after_key(
            "entities",
            before="not seeded: "
            + "; ".join(f"{located('', d['table'], d['line'])}: {d['reason']}" for d in dropped),
        )
    doc["access_patterns"] = render_patterns(patterns)

    report: dict[str, Any] = {
        "source": catalog.source,
        "statements": catalog.statements,
        "tables_seeded": len(chosen),
        "entities": {info.name: f"{q[0]}.{q[1]}" for q, info in infos.items()},
        "partitions_folded": sum(len(t.partitions) for t in chosen),
        "non_data_columns": non_data,
        "tables_not_seeded": dropped,
        "foreign_keys_outside": fks_outside,
        "access_patterns": len(patterns),
        "not_turned_into_patterns": notes,
    }
    return Seeded(doc, infos, diags, report, patterns)


def _spec_accepts_stats() -> bool:
    """Whether the model language has an attribute `stats:` key yet; if not, statistics are
    written as comments so the seeded file always loads."""
    return "stats" in AttributeSpec.model_fields


def _choose_key(t: Table, keyable: Callable[[str], bool] = lambda c: True) -> tuple[list[str], str]:
    """The identity: the primary key, else a unique constraint or index on NOT NULL columns;
    only columns `keyable` accepts (a key cannot hold json, arrays or composites)."""
    if t.primary_key and all(keyable(c) for c in t.primary_key):
        label = "primary key" if t.pk_name else "inline primary key"
        return list(t.primary_key), located(label, t.pk_name, t.pk_line)
    why = "no primary key" if not t.primary_key else "the primary key cannot be a key"
    for u in t.uniques:
        if all(t.columns.get(c) and t.columns[c].not_null and keyable(c) for c in u.columns):
            return list(u.columns), f"{why}; guessed from " + located(
                "unique constraint", u.name, u.line
            )
    for ix in t.indexes:
        if ix.unique and ix.where is None and all(c is not None for c in ix.columns):
            cols = [c for c in ix.columns if c is not None]
            if all(t.columns.get(c) and t.columns[c].not_null and keyable(c) for c in cols):
                return cols, f"{why}; guessed from " + located("unique index", ix.name, ix.line)
    return [], ""


def _column_comment(col: Column, mt: ModelType, ref: tuple[str | None, str] | None) -> str | None:
    bits = []
    if col.identity:
        bits.append(f"identity ({col.identity})")
    elif col.serial:
        bits.append("serial")
    if ref is not None:
        bits.append(ref[1])
    if mt.note:
        bits.append(mt.note)
    return "; ".join(bits) or None


def _suggest_patterns(
    tables: list[Table], infos: dict[QName, EntityInfo], notes: list[dict[str, Any]]
) -> list[Pattern]:
    out: list[Pattern] = []
    by_sig: dict[tuple[Any, ...], Pattern] = {}

    def add(p: Pattern) -> None:
        sig = p.signature
        if sig in by_sig:
            old = by_sig[sig]
            old.unique = old.unique or p.unique
            for o in p.origins:
                if o not in old.origins:
                    old.origins.append(o)
            return
        by_sig[sig] = p
        out.append(p)

    by_name = {i.name: i for i in infos.values()}
    for t in tables:
        info = infos[t.qname]
        ent = snake(info.name)

        def keyable(cols: list[str], info: EntityInfo = info) -> bool:
            """Every column seeded, as an attribute a key can hold (not json, an array...)."""
            return all(c in info.attrs and info.types[info.attrs[c]] in KEYABLE_TYPES for c in cols)

        if t.primary_key and keyable(t.primary_key):
            add(
                Pattern(
                    f"get_{ent}",
                    [info.name],
                    [(info.attrs[c], "=") for c in t.primary_key],
                    unique=True,
                    origins=[located("primary key", t.pk_name, t.pk_line)],
                )
            )
        for u in t.uniques:
            if keyable(u.columns):
                cols = [info.attrs[c] for c in u.columns]
                add(
                    Pattern(
                        f"{ent}_by_{'_'.join(cols)}",
                        [info.name],
                        [(c, "=") for c in cols],
                        unique=True,
                        origins=[located("unique constraint", u.name, u.line)],
                    )
                )
        for fk in t.foreign_keys:
            if fk.ref not in infos or not keyable(fk.columns):
                continue
            cols = [info.attrs[c] for c in fk.columns]
            add(
                Pattern(
                    f"{ent}_by_{'_'.join(cols)}",
                    [info.name],
                    [(c, "=") for c in cols],
                    origins=[located("foreign key", fk.name, fk.line)],
                )
            )
        for ix in t.indexes:
            label = located(f"{'unique ' if ix.unique else ''}index", ix.name, ix.line)
            if ix.method not in ("btree", "hash"):
                notes.append(
                    {
                        "entity": info.name,
                        "index": ix.name,
                        "line": ix.line,
                        "reason": f"{ix.method} index: not a key lookup",
                    }
                )
                continue
            if any(c is None for c in ix.columns):
                notes.append(
                    {
                        "entity": info.name,
                        "index": ix.name,
                        "line": ix.line,
                        "reason": "expression index: name the computed value as an attribute",
                    }
                )
                continue
            cols_raw = [c for c in ix.columns if c is not None]
            if not all(c in info.attrs for c in cols_raw):
                notes.append(
                    {
                        "entity": info.name,
                        "index": ix.name,
                        "line": ix.line,
                        "reason": "indexes a column that is not seeded",
                    }
                )
                continue
            cols = [info.attrs[c] for c in cols_raw]
            if ix.method == "hash":
                cols = cols[:1]
            unkeyable = [c for c in cols if info.types[c] not in KEYABLE_TYPES]
            if unkeyable:
                # list and map attributes cannot be key slots, so no pattern can bind them
                notes.append(
                    {
                        "entity": info.name,
                        "index": ix.name,
                        "line": ix.line,
                        "reason": "indexes "
                        + ", ".join(f"{c} ({info.types[c]})" for c in unkeyable)
                        + ", which cannot be part of a key",
                    }
                )
                continue
            if ix.unique or len(cols) == 1 or info.types[cols[-1]] == "boolean":
                # a boolean has two values: a range over it is an equality (or no condition)
                where = [(c, "=") for c in cols]
                order = None
            else:
                where = [(c, "=") for c in cols[:-1]] + [(cols[-1], "between")]
                order = "desc" if ix.descending and ix.descending[len(cols) - 1] else None
            origin = label + (f"; partial: WHERE {ix.where}" if ix.where else "")
            add(
                Pattern(
                    f"{ent}_by_{'_'.join(cols)}",
                    [info.name],
                    where,
                    unique=ix.unique and ix.where is None,
                    order=order,
                    origins=[origin],
                )
            )
        if info.parent:
            parent = by_name[info.parent]
            if parent.key == info.parent_fk:
                add(
                    Pattern(
                        f"{snake(parent.name)}_with_{ent}",
                        [parent.name, info.name],
                        [(a, "=") for a in parent.key],
                        origins=[f"{info.name}'s key starts with {parent.name}'s key"],
                    )
                )
    _unique_names(out)
    return out


def required_attributes(infos: Iterable[EntityInfo]) -> set[tuple[str, str]]:
    """(entity, attribute) of every attribute that is never NULL (NOT NULL or in the key)."""
    return {
        (info.name, attr)
        for info in infos
        for col, attr in info.attrs.items()
        if attr in info.key or (col in info.table.columns and info.table.columns[col].not_null)
    }


def cap_index_patterns(
    patterns: list[Pattern],
    diags: Diagnostics,
    source: str | None,
    required: set[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Keep each entity's patterns beyond its primary-key lookup within MAX_GSIS GSI keys
    (`_key_shapes`), in place.

    Patterns of different entities share a GSI freely, so an entity whose patterns need at
    most MAX_GSIS keys fits on DynamoDB's 20 GSIs; a table with 30 indexes (lemmy's `post`)
    gave a model its own compile refused (21 GSIs). Beyond that, the application's own queries (`--queries`) come first, then unique
    lookups, then the rest in the order the DDL gives them; each one left out is said, with
    its origin, and listed in the report."""
    per_entity: dict[str, list[Pattern]] = {}
    for p in patterns:
        if len(p.entities) == 1 and not any(o.startswith("primary key") for o in p.origins):
            per_entity.setdefault(p.entities[0], []).append(p)
    left: list[Pattern] = []
    for entity, ps in per_entity.items():
        if len(ps) <= MAX_GSIS:
            continue  # (the common case: nothing below runs, the seed path stays linear)
        needed = {a for e, a in required or () if e == entity}
        if _key_shapes(ps, needed) <= MAX_GSIS:
            continue
        ranked = sorted(ps, key=lambda p: (not p.from_workload, not p.unique))  # stable
        kept: list[Pattern] = []
        beyond: list[Pattern] = []
        for p in ranked:
            (kept if _key_shapes([*kept, p], needed) <= MAX_GSIS else beyond).append(p)
        left += beyond
        diags.info(
            "SEED032",
            f"{entity}: {len(ps)} patterns need an index besides the table key; DynamoDB "
            f"allows {MAX_GSIS} GSIs per table, so {len(beyond)} guessed pattern(s) are not "
            "seeded: "
            + ", ".join(f"{p.name} ({'; '.join(p.origins)})" for p in beyond[:10])
            + (f" and {len(beyond) - 10} more" if len(beyond) > 10 else ""),
            Span(source or "<catalog>"),
            hint="keep the lookups the application needs (merge those with one partition key "
            "into a composite sort key, or serve rare ones with a filter); the report lists "
            "every one left out",
            subject=entity,
        )
    if not left:
        return []
    gone = {id(p) for p in left}
    patterns[:] = [p for p in patterns if id(p) not in gone]
    return [
        {
            "entity": p.entities[0],
            "pattern": p.name,
            "origin": "; ".join(p.origins),
            "reason": f"beyond the {MAX_GSIS} GSIs DynamoDB allows per table",
        }
        for p in left
    ]


def _key_shapes(patterns: list[Pattern], required: set[str]) -> int:
    """The GSI keys one entity's patterns need at most: those with the same equalities share a
    partition key, one sort key per attribute they range over or order by, and the patterns
    with none of them share that key only when it is never NULL (a GSI leaves out the items
    without their key). An upper bound: compile also shares keys between patterns whose
    equalities nest (lago's `fees`: 21 patterns counted as 21 keys, compile fits them in 20),
    so such an entity may lose a guess it could have kept; it is said (SEED032)."""
    ranges: dict[frozenset[str], set[str]] = {}
    plain: set[frozenset[str]] = set()  # equality sets some pattern reads with no sort
    for p in patterns:
        sort = p.sort_attribute
        ranges.setdefault(p.equalities, set()).update([sort] if sort else [])
        if not sort:
            plain.add(p.equalities)
    return sum(
        max(1, len(r)) + (1 if eq in plain and r and not (r & required) else 0)
        for eq, r in ranges.items()
    )


def _unique_names(patterns: list[Pattern]) -> None:
    seen: set[str] = set()
    for p in patterns:
        base = snake(p.name)[:60].rstrip("_")
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        p.name = name


def render_patterns(patterns: list[Pattern]) -> CommentedMap:
    out = CommentedMap()
    for p in patterns:
        m = CommentedMap()
        if len(p.entities) == 1:
            m["entity"] = p.entities[0]
        else:
            m["entities"] = _flow_seq(p.entities)
        m["where"] = _where_text(p.where)
        if p.order_by:
            m["order_by"] = p.order_by
        if p.order:
            m["order"] = p.order
        if p.limit is not None:
            m["limit"] = p.limit
        if p.unique:
            m["unique"] = True
        if p.rate is not None:
            r = CommentedMap(reads_per_second=_round_rate(p.rate))
            r.fa.set_flow_style()
            m["rate"] = r
        out[p.name] = m
        if p.origins:
            _eol_comment(out, p.name, "guessed from " + "; ".join(p.origins))
    return out


def _eol_comment(cmap: CommentedMap, key: str, text: str) -> None:
    """`cmap.yaml_add_eol_comment(text, key)` for the key just added, without its cost.

    ruamel looks for a neighbouring comment to align with by walking the mapping's keys on
    every call: quadratic over thousands of patterns or entities. Its choice is reproduced here
    (the output stays byte for byte the same): the comment gets ruamel's default column, the
    `#` one space after the value, when the previous key has a comment or a commented key comes
    before the first key that sorts at or after `key`; else two spaces."""
    items = cmap.ca.items
    previous = next(itertools.islice(reversed(cmap), 1, 2), None)
    aligned = previous is not None and previous in items
    if not aligned and items:
        top = None  # the largest key up to the first commented one, in insertion order
        for k in cmap:
            top = k if top is None or k > top else top
            if k in items:
                aligned = top < key
                break
    comment = text if text.startswith("#") else "# " + text
    if not aligned:
        comment = " " + comment
    cmap._yaml_add_eol_comment([CommentToken(comment, CommentMark(0)), None], key=key)


def _round_rate(rate: float) -> float:
    """Three significant digits: a rate is an estimate, and stable text beats false precision."""
    return float(f"{rate:.3g}")


def _quote_unsafe(node: Any) -> Any:
    """Double-quote every string key and value that is not a plain safe identifier."""
    if isinstance(node, CommentedMap):
        out = CommentedMap()
        for k, v in node.items():
            out[_quote_unsafe(k)] = _quote_unsafe(v)
        node.copy_attributes(out)  # comments (keyed by equal strings), flow style, position
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            node[k] = _quote_unsafe(v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            node[i] = _quote_unsafe(v)
    elif (
        isinstance(node, str)
        and not isinstance(node, DoubleQuotedScalarString)
        and (not PLAIN_SAFE.match(node) or node.lower() in YAML_WORDS)
    ):
        return DoubleQuotedScalarString(node)
    return node


def dump_yaml(doc: CommentedMap) -> str:
    """Serialise deterministically: fixed indentation, no line wrapping, LF, final newline.

    Scalars that are not plain safe identifiers are double-quoted, so PyYAML and ruamel (and
    any YAML 1.2 reader) load the same data. The text is written directly in linear time
    (`_yaml_text`, byte for byte what ruamel writes); a shape it does not handle is left to
    ruamel's round-trip dumper."""
    text = dump_text(doc)
    return text if text is not None else dump_yaml_ruamel(doc)


def dump_yaml_ruamel(doc: CommentedMap) -> str:
    """`dump_yaml` through ruamel's round-trip dumper (the reference the direct writer is
    tested against; slow: ~1 ms per table)."""
    doc = _quote_unsafe(copy.deepcopy(doc))
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = WIDTH
    yaml.preserve_quotes = True
    buf = io.StringIO()
    yaml.dump(doc, buf)
    text = buf.getvalue()
    return text if text.endswith("\n") else text + "\n"
