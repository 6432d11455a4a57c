"""NoSQL Workbench JSON → model spec (YAML), saying what was guessed.

A Workbench export describes physical tables (key attribute names, sample items, optional
"facets" with key aliases) but not entities, key templates or access patterns. This module
reads an export into plain dataclasses (`WbDocument` and friends: the same shapes a Workbench
*exporter* builds and serialises with `document_to_json`), then infers a model per table:

- entities from facets, else an entity-type attribute (`Type`, `_type`, `__typename`, ...),
  else the constant prefixes of sample keys (`CUST#123` → `Cust`), else one per table;
- key templates from `ModelSchema` value templates, facet aliases (`ITEMS#ItemID`),
  descriptive key attribute names (`Status#Date`) and the sample keys themselves;
- attribute types from declared types and sample values; one suggested pattern per index.

Every guess is recorded (`Guess`) and rendered as a YAML comment; problems with the file are
`Diagnostic`s located at the JSON line:col of the offending value. Nothing here raises on bad
input: `parse_document` / `import_workbench` return diagnostics.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from modeling.core.diagnostics import Diagnostics, Severity, Span
from modeling.runtime import keys

scanstring = json.decoder.scanstring  # type: ignore[attr-defined]  # (missing from typeshed)

SCHEMA_COMMENT = "yaml-language-server: $schema=../generated/model.schema.json"

KEY_TYPES = ("S", "N", "B")
ATTRIBUTE_TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
SEPARATOR = "#"

Item = dict[str, Any]  # one sample item in DynamoDB JSON: {"PK": {"S": "A#1"}, ...}

# =========================================================================== the format


@dataclass(frozen=True)
class WbAttribute:
    """An attribute declaration: `{"AttributeName": ..., "AttributeType": ...}`."""

    name: str
    type: str  # one of ATTRIBUTE_TYPES (KEY_TYPES for key attributes)
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class WbKeySchema:
    partition: WbAttribute
    sort: WbAttribute | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.partition.name,) + ((self.sort.name,) if self.sort else ())


@dataclass(frozen=True)
class WbIndex:
    """A global secondary index (Workbench has no LSI field)."""

    name: str
    keys: WbKeySchema
    projection: str = "ALL"
    projected: tuple[str, ...] = ()  # NonKeyAttributes of an INCLUDE projection
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class WbFacet:
    """A facet: a named view of the table, with key aliases that often read like templates."""

    name: str
    pk_alias: str | None = None
    sk_alias: str | None = None
    attributes: tuple[str, ...] = ()  # the facet's NonKeyAttributes (names only)
    items: tuple[Item, ...] = ()
    span: Span | None = field(default=None, compare=False)
    pk_alias_span: Span | None = field(default=None, compare=False)
    sk_alias_span: Span | None = field(default=None, compare=False)
    item_spans: tuple[Span | None, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class WbTable:
    name: str
    keys: WbKeySchema
    attributes: tuple[WbAttribute, ...] = ()  # NonKeyAttributes, as declared (duplicates kept)
    indexes: tuple[WbIndex, ...] = ()
    facets: tuple[WbFacet, ...] = ()
    items: tuple[Item, ...] = ()  # table-level TableData
    billing_mode: str | None = None  # PROVISIONED | PAY_PER_REQUEST (format 3.0)
    read_capacity: int | None = None
    write_capacity: int | None = None
    capacity_settings: Mapping[str, Any] | None = None  # ProvisionedCapacitySettings, as read
    model_schema: Mapping[str, Any] | None = None  # the `ModelSchema` block some exports add
    span: Span | None = field(default=None, compare=False)
    item_spans: tuple[Span | None, ...] = field(default=(), compare=False)

    def all_items(self) -> list[tuple[Item, Span | None]]:
        """Table-level items, then every facet's items, each with its position."""
        out = list(zip(self.items, _pad(self.item_spans, len(self.items)), strict=True))
        for f in self.facets:
            out += list(zip(f.items, _pad(f.item_spans, len(f.items)), strict=True))
        return out


@dataclass(frozen=True)
class WbDocument:
    model_name: str
    tables: tuple[WbTable, ...]
    version: str = "3.0"
    author: str = ""
    description: str = ""
    date_created: str = ""
    date_modified: str = ""
    file: str = ""


def _pad(spans: tuple[Span | None, ...], n: int) -> tuple[Span | None, ...]:
    return spans + (None,) * (n - len(spans)) if len(spans) < n else spans[:n]


# --------------------------------------------------------------------------- positions


class _Positions:
    """JSON value offsets by path (object keys / list indexes), for line:col diagnostics.

    The standard `json` module keeps no positions, so after `json.loads` succeeds this walks the
    same text once more, recording where each value starts (and which object keys repeat).
    """

    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file
        self.offsets: dict[tuple[Any, ...], int] = {}
        self.duplicates: list[tuple[tuple[Any, ...], int]] = []
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self._decoder = json.JSONDecoder()
        self._ws = re.compile(r"[ \t\n\r]*")
        with contextlib.suppress(RecursionError, ValueError, IndexError):
            self._value(0, ())  # the text already parsed, so this only fails on deep nesting

    def _skip(self, i: int) -> int:
        m = self._ws.match(self.text, i)
        return m.end() if m else i

    def _value(self, i: int, path: tuple[Any, ...]) -> int:
        text = self.text
        i = self._skip(i)
        self.offsets[path] = i
        c = text[i]
        if c == "{":
            i = self._skip(i + 1)
            if text[i] == "}":
                return i + 1
            seen: set[str] = set()
            while True:
                key_at = i
                key, i = scanstring(text, i + 1)
                if key in seen:
                    self.duplicates.append(((*path, key), key_at))
                seen.add(key)
                i = self._skip(i) + 1  # ':'
                i = self._skip(self._value(i, (*path, key)))
                if text[i] == ",":
                    i = self._skip(i + 1)
                    continue
                return i + 1
        if c == "[":
            i = self._skip(i + 1)
            if text[i] == "]":
                return i + 1
            n = 0
            while True:
                i = self._skip(self._value(i, (*path, n)))
                n += 1
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1
        _, end = self._decoder.raw_decode(text, i)
        return int(end)

    def span_at(self, offset: int) -> Span:
        line = bisect_right(self._line_starts, offset)
        return Span(self.file, line, offset - self._line_starts[line - 1] + 1)

    def span(self, path: Sequence[Any]) -> Span:
        """The position of the value at `path`, or of its nearest recorded ancestor."""
        p = tuple(path)
        while p and p not in self.offsets:
            p = p[:-1]
        return self.span_at(self.offsets.get(p, 0))


# --------------------------------------------------------------------------- reading


def _where(path: Sequence[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "the top level"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number"


class _Reader:
    """Checks the shape of an export, recording located errors instead of raising."""

    def __init__(self, pos: _Positions, diags: Diagnostics):
        self.pos = pos
        self.diags = diags

    def error(
        self, path: Sequence[Any], message: str, hint: str, code: str = "workbench-format"
    ) -> None:
        self.diags.error(code, message, self.pos.span(path), hint, subject=_where(path))

    def get(
        self,
        obj: Mapping[str, Any],
        path: tuple[Any, ...],
        key: str,
        kind: type | tuple[type, ...],
        required: bool = True,
        what: str = "",
    ) -> Any:
        """`obj[key]` when it has type `kind`; None (and an error if required) otherwise."""
        if key not in obj:
            if required:
                self.error(
                    path,
                    f"{_where(path)} has no {key!r}" + (f" ({what})" if what else ""),
                    f"a NoSQL Workbench export has {key!r} here; was the file edited by hand?",
                    "workbench-missing",
                )
            return None
        value = obj[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            expected = " or ".join(_type_name(k()) for k in kinds)
            self.error(
                (*path, key),
                f"{_where((*path, key))} is {_type_name(value)}, expected {expected}",
                "fix the value or re-export the model from NoSQL Workbench",
                "workbench-type",
            )
            return None
        return value

    def attribute(
        self, obj: Any, path: tuple[Any, ...], allowed: tuple[str, ...]
    ) -> WbAttribute | None:
        if not isinstance(obj, dict):
            self.error(
                path,
                f"{_where(path)} is {_type_name(obj)}, expected an object",
                'expected {"AttributeName": ..., "AttributeType": ...}',
                "workbench-type",
            )
            return None
        name = self.get(obj, path, "AttributeName", str)
        type_ = self.get(obj, path, "AttributeType", str)
        if name is None or type_ is None:
            return None
        if not name:
            self.error(
                (*path, "AttributeName"),
                "an attribute name is empty",
                "give the attribute a name",
                "workbench-type",
            )
            return None
        if type_ not in allowed:
            self.error(
                (*path, "AttributeType"),
                f"attribute {name!r} has type {type_!r}",
                "use one of " + ", ".join(allowed),
                "workbench-type",
            )
            return None
        return WbAttribute(name, type_, self.pos.span(path))

    def key_schema(self, obj: Any, path: tuple[Any, ...]) -> WbKeySchema | None:
        if not isinstance(obj, dict):
            return None
        pk_raw = self.get(obj, path, "PartitionKey", dict, what="the partition key")
        pk = (
            self.attribute(pk_raw, (*path, "PartitionKey"), KEY_TYPES)
            if pk_raw is not None
            else None
        )
        sk = None
        sk_raw = self.get(obj, path, "SortKey", dict, required=False)
        if sk_raw is not None:
            sk = self.attribute(sk_raw, (*path, "SortKey"), KEY_TYPES)
            if sk is None:
                return None
        if pk is None:
            return None
        if sk is not None and sk.name == pk.name:
            self.error(
                (*path, "SortKey"),
                f"the sort key repeats the partition key {pk.name!r}",
                "a key's two attributes must differ",
            )
            return None
        return WbKeySchema(pk, sk)

    def value(self, av: Any, path: tuple[Any, ...]) -> bool:
        """Check one top-level DynamoDB-JSON attribute value (`{"S": "x"}`, `{"M": {...}}`).

        Only the outer shape is checked: Workbench itself writes maps as
        `{"M": {"M": {"HP": {"N": "50"}}}}` (GamePlayerProfiles.json), so what is nested inside
        an M or L is sample content, not structure this importer relies on.
        """
        if not isinstance(av, dict) or len(av) != 1 or next(iter(av)) not in ATTRIBUTE_TYPES:
            self.error(
                path,
                f"{_where(path)} is not a DynamoDB attribute value",
                'write it as DynamoDB JSON with one type key, e.g. {"S": "text"} or {"N": "1"}',
                "workbench-type",
            )
            return False
        kind, v = next(iter(av.items()))
        if kind in ("S", "B"):
            ok = isinstance(v, str) and (kind == "S" or _is_base64(v))
        elif kind == "N":
            ok = isinstance(v, str | int | float) and not isinstance(v, bool) and _is_number(str(v))
        elif kind == "BOOL":
            ok = isinstance(v, bool)
        elif kind == "NULL":
            ok = v is True
        elif kind == "M":
            ok = isinstance(v, dict)
        elif kind == "L":
            ok = isinstance(v, list)
        else:  # SS NS BS
            ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
            if ok and kind == "NS":
                ok = all(_is_number(x) for x in v)
        if not ok:
            p = (*path, kind)
            self.error(
                p, f"{_where(p)} is not a valid {kind} value", _VALUE_HINTS[kind], "workbench-type"
            )
        return ok

    def items(
        self, raw: Any, path: tuple[Any, ...]
    ) -> tuple[tuple[Item, ...], tuple[Span | None, ...]]:
        items: list[Item] = []
        spans: list[Span | None] = []
        if raw is None:
            return (), ()
        for n, item in enumerate(raw):
            ip = (*path, n)
            if not isinstance(item, dict):
                self.error(
                    ip,
                    f"{_where(ip)} is {_type_name(item)}, expected an item (an object)",
                    "each sample item maps attribute names to DynamoDB JSON values",
                    "workbench-type",
                )
                continue
            if all([self.value(v, (*ip, k)) for k, v in item.items()]):
                items.append(item)
                spans.append(self.pos.span(ip))
        return tuple(items), tuple(spans)


_VALUE_HINTS = {
    "S": "an S value is a JSON string",
    "N": 'an N value is a number written as a string, e.g. {"N": "42.5"}',
    "B": "a B value is a base64 string",
    "BOOL": "a BOOL value is true or false",
    "NULL": 'a NULL value is written {"NULL": true}',
    "M": "an M value is an object of attribute values",
    "L": "an L value is a list of attribute values",
    "SS": "an SS value is a list of strings",
    "NS": 'an NS value is a list of numbers written as strings, e.g. ["1", "2.5"]',
    "BS": "a BS value is a list of base64 strings",
}


def _is_number(text: str) -> bool:
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        return False
    return d.is_finite()


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def parse_document(text: str, file: str) -> tuple[WbDocument | None, Diagnostics]:
    """Read an export's text into a `WbDocument`; every problem becomes a located diagnostic."""
    diags = Diagnostics()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        diags.error(
            "workbench-json",
            f"not valid JSON: {e.msg}",
            Span(file, e.lineno, e.colno),
            "a NoSQL Workbench export is a JSON file (File → Export model in Workbench)",
        )
        return None, diags
    except RecursionError:
        diags.error(
            "workbench-json",
            "JSON nested too deeply to read",
            Span(file),
            "is this a Workbench export?",
        )
        return None, diags
    pos = _Positions(text, file)
    r = _Reader(pos, diags)
    if not isinstance(data, dict) or "DataModel" not in data:
        found = f"{_type_name(data)}" + (
            " with keys " + ", ".join(sorted(map(repr, data))[:6]) if isinstance(data, dict) else ""
        )
        r.error(
            (),
            f"not a NoSQL Workbench export: expected an object with 'DataModel', found {found}",
            "export the model from NoSQL Workbench (Data modeler → Export model); "
            "a CloudFormation template or a create-table JSON is not a Workbench model",
        )
        return None, diags
    for path, offset in pos.duplicates:
        diags.warning(
            "workbench-duplicate-key",
            f"{_where(path)} appears twice in one object; the last one is used",
            pos.span_at(offset),
            "remove one of them",
        )
    meta = r.get(data, (), "ModelMetadata", dict, required=False) or {}
    version = meta.get("Version") if isinstance(meta.get("Version"), str) else ""
    model_name = r.get(data, (), "ModelName", str, required=False) or ""
    tables_raw = r.get(data, (), "DataModel", list)
    if tables_raw is not None and not tables_raw:
        r.error(
            ("DataModel",),
            "the export has no tables ('DataModel' is empty)",
            "add a table in Workbench and export again",
        )
    tables: list[WbTable] = []
    for n, t in enumerate(tables_raw or []):
        table = _read_table(r, t, ("DataModel", n))
        if table is not None:
            tables.append(table)
    names = [t.name for t in tables]
    for n, name in enumerate(names):
        if name in names[:n]:
            r.error(
                ("DataModel", n, "TableName"),
                f"two tables are named {name!r}",
                "table names must be unique",
            )
    if diags.has_errors():
        return None, diags
    doc = WbDocument(
        model_name=model_name or (tables[0].name if tables else "model"),
        tables=tuple(tables),
        version=version or "",
        author=str(meta.get("Author") or ""),
        description=str(meta.get("Description") or ""),
        date_created=str(meta.get("DateCreated") or ""),
        date_modified=str(meta.get("DateLastModified") or ""),
        file=file,
    )
    return doc, diags


def _read_table(r: _Reader, t: Any, path: tuple[Any, ...]) -> WbTable | None:
    if not isinstance(t, dict):
        r.error(
            path,
            f"{_where(path)} is {_type_name(t)}, expected a table (an object)",
            "each DataModel entry is one table",
            "workbench-type",
        )
        return None
    name = r.get(t, path, "TableName", str)
    keys_raw = r.get(t, path, "KeyAttributes", dict, what="the table's key schema")
    keys = r.key_schema(keys_raw, (*path, "KeyAttributes")) if keys_raw is not None else None
    attrs: list[WbAttribute] = []
    for n, a in enumerate(r.get(t, path, "NonKeyAttributes", list, required=False) or []):
        wa = r.attribute(a, (*path, "NonKeyAttributes", n), ATTRIBUTE_TYPES)
        if wa is not None:
            attrs.append(wa)
    indexes: list[WbIndex] = []
    for n, g in enumerate(r.get(t, path, "GlobalSecondaryIndexes", list, required=False) or []):
        gp = (*path, "GlobalSecondaryIndexes", n)
        if not isinstance(g, dict):
            r.error(
                gp,
                f"{_where(gp)} is {_type_name(g)}, expected an index (an object)",
                "each GSI is an object with IndexName and KeyAttributes",
                "workbench-type",
            )
            continue
        iname = r.get(g, gp, "IndexName", str)
        ikeys_raw = r.get(g, gp, "KeyAttributes", dict)
        ikeys = r.key_schema(ikeys_raw, (*gp, "KeyAttributes")) if ikeys_raw is not None else None
        proj = r.get(g, gp, "Projection", dict, required=False) or {}
        ptype = proj.get("ProjectionType", "ALL")
        if ptype not in PROJECTIONS:
            r.error(
                (*gp, "Projection", "ProjectionType"),
                f"index {iname!r} has projection {ptype!r}",
                "use ALL, KEYS_ONLY or INCLUDE",
                "workbench-type",
            )
            continue
        projected = proj.get("NonKeyAttributes") or []
        if not isinstance(projected, list) or not all(isinstance(x, str) for x in projected):
            r.error(
                (*gp, "Projection", "NonKeyAttributes"),
                "projected attributes must be a list of names",
                'e.g. ["Status", "Total"]',
                "workbench-type",
            )
            continue
        if iname is not None and ikeys is not None:
            indexes.append(WbIndex(iname, ikeys, ptype, tuple(projected), r.pos.span(gp)))
    facets: list[WbFacet] = []
    for n, f in enumerate(r.get(t, path, "TableFacets", list, required=False) or []):
        facet = _read_facet(r, f, (*path, "TableFacets", n))
        if facet is not None:
            facets.append(facet)
    items, spans = r.items(r.get(t, path, "TableData", list, required=False), (*path, "TableData"))
    billing = r.get(t, path, "BillingMode", str, required=False)
    if billing is not None and billing not in ("PROVISIONED", "PAY_PER_REQUEST"):
        r.error(
            (*path, "BillingMode"),
            f"unknown BillingMode {billing!r}",
            "use PROVISIONED or PAY_PER_REQUEST",
            "workbench-type",
        )
    read = write = None
    pcs = r.get(t, path, "ProvisionedCapacitySettings", dict, required=False) or {}
    pt = pcs.get("ProvisionedThroughput")
    if isinstance(pt, dict):
        pp = (*path, "ProvisionedCapacitySettings", "ProvisionedThroughput")
        read = r.get(pt, pp, "ReadCapacityUnits", int, required=False)
        write = r.get(pt, pp, "WriteCapacityUnits", int, required=False)
    schema = t.get("ModelSchema") if isinstance(t.get("ModelSchema"), dict) else None
    if name is None or keys is None:
        return None
    return WbTable(
        name=name,
        keys=keys,
        attributes=tuple(attrs),
        indexes=tuple(indexes),
        facets=tuple(facets),
        items=items,
        billing_mode=billing,
        read_capacity=read,
        write_capacity=write,
        capacity_settings=pcs or None,
        model_schema=schema,
        span=r.pos.span(path),
        item_spans=spans,
    )


def _read_facet(r: _Reader, f: Any, path: tuple[Any, ...]) -> WbFacet | None:
    if not isinstance(f, dict):
        r.error(
            path,
            f"{_where(path)} is {_type_name(f)}, expected a facet (an object)",
            "each facet has FacetName and KeyAttributeAlias",
            "workbench-type",
        )
        return None
    name = r.get(f, path, "FacetName", str)
    alias = r.get(f, path, "KeyAttributeAlias", dict, required=False) or {}
    ap = (*path, "KeyAttributeAlias")
    pk_alias = r.get(alias, ap, "PartitionKeyAlias", str, required=False)
    sk_alias = r.get(alias, ap, "SortKeyAlias", str, required=False)
    names = r.get(f, path, "NonKeyAttributes", list, required=False) or []
    if not all(isinstance(x, str) for x in names):
        r.error(
            (*path, "NonKeyAttributes"),
            "a facet's NonKeyAttributes must be a list of names",
            'e.g. ["Type", "Name"]',
            "workbench-type",
        )
        names = []
    items, spans = r.items(r.get(f, path, "TableData", list, required=False), (*path, "TableData"))
    if name is None:
        return None
    return WbFacet(
        name=name,
        pk_alias=pk_alias or None,
        sk_alias=sk_alias or None,
        attributes=tuple(names),
        items=items,
        span=r.pos.span(path),
        pk_alias_span=r.pos.span((*ap, "PartitionKeyAlias")),
        sk_alias_span=r.pos.span((*ap, "SortKeyAlias")),
        item_spans=spans,
    )


def read_document(path: str | Path) -> tuple[WbDocument | None, Diagnostics]:
    """Read an export file; a missing or undecodable file is a diagnostic, not an exception."""
    p = Path(path)
    diags = Diagnostics()
    try:
        raw = p.read_bytes()
    except OSError as e:
        diags.error(
            "workbench-read", f"cannot read {p}: {e.strerror or e}", Span(str(p)), "check the path"
        )
        return None, diags
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        diags.error(
            "workbench-json",
            f"not UTF-8 text (byte 0x{raw[e.start]:02x})",
            Span(str(p), line, col),
            "a Workbench export is UTF-8 JSON",
        )
        return None, diags
    return parse_document(text, str(p))


# --------------------------------------------------------------------------- writing


def document_to_json(doc: WbDocument) -> dict[str, Any]:
    """A `WbDocument` as Workbench export JSON (format 3.0 field names); for the exporter."""

    def attr(a: WbAttribute) -> dict[str, str]:
        return {"AttributeName": a.name, "AttributeType": a.type}

    def keys(k: WbKeySchema) -> dict[str, Any]:
        out: dict[str, Any] = {"PartitionKey": attr(k.partition)}
        if k.sort is not None:
            out["SortKey"] = attr(k.sort)
        return out

    tables = []
    for t in doc.tables:
        table: dict[str, Any] = {
            "TableName": t.name,
            "KeyAttributes": keys(t.keys),
            "NonKeyAttributes": [attr(a) for a in t.attributes],
        }
        if t.facets:
            table["TableFacets"] = [
                {
                    "FacetName": f.name,
                    "KeyAttributeAlias": {
                        k: v
                        for k, v in (
                            ("PartitionKeyAlias", f.pk_alias),
                            ("SortKeyAlias", f.sk_alias),
                        )
                        if v is not None
                    },
                    "TableData": list(f.items),
                    "NonKeyAttributes": list(f.attributes),
                    "DataAccess": {"MySql": {}},
                }
                for f in t.facets
            ]
        if t.indexes:
            table["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": g.name,
                    "KeyAttributes": keys(g.keys),
                    "Projection": {"ProjectionType": g.projection}
                    | (
                        {"NonKeyAttributes": list(g.projected)} if g.projection == "INCLUDE" else {}
                    ),
                }
                for g in t.indexes
            ]
        if t.items:
            table["TableData"] = list(t.items)
        table["DataAccess"] = {"MySql": {}}
        if t.billing_mode:
            table["BillingMode"] = t.billing_mode
        if t.read_capacity is not None and t.write_capacity is not None:
            table["ProvisionedCapacitySettings"] = dict(t.capacity_settings or {}) | {
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": t.read_capacity,
                    "WriteCapacityUnits": t.write_capacity,
                }
            }
        if t.model_schema is not None:
            table["ModelSchema"] = t.model_schema
        tables.append(table)
    return {
        "ModelName": doc.model_name,
        "ModelMetadata": {
            "Author": doc.author,
            "DateCreated": doc.date_created,
            "DateLastModified": doc.date_modified,
            "Description": doc.description,
            "AWSService": "Amazon DynamoDB",
            "Version": doc.version or "3.0",
        },
        "DataModel": tables,
    }


# =========================================================================== key templates

_SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class KeyTemplate:
    """Literal text and `{attribute}` slots, as the DSL writes pinned keys."""

    parts: tuple[tuple[bool, str], ...]  # (is_slot, text)

    @property
    def text(self) -> str:
        return "".join("{" + t + "}" if is_slot else t for is_slot, t in self.parts)

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for is_slot, t in self.parts if is_slot))

    def __str__(self) -> str:
        return self.text

    @staticmethod
    def parse(text: str) -> KeyTemplate:
        """`"ITEMS#{item_id}"` → parts; also accepts Workbench-style `${slot}`."""
        parts: list[tuple[bool, str]] = []
        pos = 0
        for m in re.finditer(r"\$?\{([^{}]*)\}", text):
            if m.start() > pos:
                parts.append((False, text[pos : m.start()]))
            parts.append((True, m.group(1)))
            pos = m.end()
        if pos < len(text):
            parts.append((False, text[pos:]))
        return KeyTemplate(tuple(parts))

    @staticmethod
    def from_segments(segments: Sequence[tuple[bool, str]]) -> KeyTemplate:
        """Segments joined by `#` (the separator every sample key in Workbench models uses)."""
        parts: list[tuple[bool, str]] = []
        for n, (is_slot, text) in enumerate(segments):
            if n:
                parts.append((False, SEPARATOR))
            parts.append((is_slot, text))
        merged: list[tuple[bool, str]] = []
        for p in parts:
            if merged and not p[0] and not merged[-1][0]:
                merged[-1] = (False, merged[-1][1] + p[1])
            else:
                merged.append(p)
        return KeyTemplate(tuple(x for x in merged if x[0] or x[1]))

    def match(self, value: str) -> dict[str, str] | None:
        """Slot values of `value` under this template, or None when it does not fit."""
        rx = "".join(f"(?P<s{n}>.+?)" if s else re.escape(t) for n, (s, t) in enumerate(self.parts))
        m = re.fullmatch(rx, value, re.DOTALL)
        if m is None:
            return None
        out: dict[str, str] = {}
        for n, (is_slot, name) in enumerate(self.parts):
            if is_slot:
                got = m.group(f"s{n}")
                if out.setdefault(name, got) != got:
                    return None
        return out

    def render(self, values: Mapping[str, str]) -> str:
        return "".join(values[t] if is_slot else t for is_slot, t in self.parts)

    def renamed(self, old: str, new: str) -> KeyTemplate:
        return KeyTemplate(tuple((s, new if s and t == old else t) for s, t in self.parts))


# =========================================================================== inference helpers

_UPPER_TAG = re.compile(r"^[A-Z][A-Z_\-]*$")
_WORD = re.compile(r"^[A-Za-z][A-Za-z_\-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}(:?\d{2}(:?\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INTEGER = re.compile(r"^[+-]?\d+$")
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


def _is_generic_key(name: str) -> bool:
    """`PK`, `SK`, `GSI1PK`, ...: overloaded key attributes whose name says nothing."""
    return bool(_GENERIC_KEY.match(_norm(name)))


def _is_type_attr(name: str) -> bool:
    return _norm(name) in _TYPE_ATTRS


def _text(av: Any) -> str | None:
    """The key-comparable text of a scalar attribute value (S, N, B), else None."""
    if isinstance(av, dict) and len(av) == 1:
        kind, v = next(iter(av.items()))
        if kind in ("S", "N", "B"):
            return str(v)
    return None


def _same_value(key_text: str, attr_text: str) -> bool:
    """Is a key part the attribute's value, as written or in the key codec's encoding?

    Keys written by this project's transformers encode slots (`42` → `10000000000000000042`,
    `a b` → `a$20b`), so a model exported by `modeling.emit.workbench` is recognised on import.
    """
    if key_text == attr_text:
        return True
    for kind, parse in _PARSERS:
        try:
            if keys.encode(kind, parse(attr_text)) == key_text:
                return True
        except (ValueError, ArithmeticError, TypeError):
            continue
    return False


def _parse_datetime(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


_PARSERS: tuple[tuple[str, Any], ...] = (
    ("string", str),
    ("integer", int),
    ("decimal", Decimal),
    ("datetime", _parse_datetime),
)


def _kind(av: Any) -> str:
    return next(iter(av)) if isinstance(av, dict) and av else "NULL"


def ident(name: str) -> str:
    """A valid attribute name (`[A-Za-z_][A-Za-z0-9_]*`) for a Workbench name."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "attr"
    return "_" + out if out[0].isdigit() else out


def snake(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", ident(name))
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return re.sub(r"_+", "_", s).strip("_").lower() or "x"


def pascal(name: str) -> str:
    """An entity name: kept when already valid (`Order_line`), else PascalCase words."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        return name[0].upper() + name[1:]
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    out = "".join(w[0].upper() + w[1:] for w in words) or "Entity"
    return "E" + out if out[0].isdigit() else out


def singular(word: str) -> str:
    low = word.lower()
    if low.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-1].isupper() else "y")
    if low.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


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


def _scalar_type(kind: str, values: list[str]) -> tuple[str, str]:
    """DSL type of S/N/B values, and why."""
    if kind == "N":
        if not values:
            return "decimal", "N without sample values: decimal is the safe guess"
        if all(_INTEGER.match(v.strip()) for v in values):
            return "integer", "N, sample values are whole numbers"
        return "decimal", "N, sample values have fractions"
    if kind == "B":
        return "binary", "B"
    if kind == "BOOL":
        return "boolean", "BOOL"
    if values and all(_DATE.match(v) and _valid_date(v) for v in values):
        return "date", "S, sample values are ISO dates"
    if values and all(_DATETIME.match(v) and _valid_date(v) for v in values):
        return "datetime", "S, sample values are ISO date-times"
    if values and all(_UUID.match(v) for v in values):
        return "uuid", "S, sample values are UUIDs"
    return "string", "S"


def _valid_date(v: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def _value_type(avs: list[Any], declared: str | None) -> tuple[str, str]:
    """DSL type from a declared Workbench type and sample attribute values."""
    kinds = [_kind(av) for av in avs if _kind(av) != "NULL"]
    kind = declared if declared and declared != "NULL" else (kinds[0] if kinds else declared or "S")
    texts = [str(next(iter(av.values()))) for av in avs if _kind(av) == kind and kind in ("S", "N")]
    if kind in ("S", "N", "B", "BOOL"):
        return _scalar_type(kind, texts)
    if kind == "M":
        return "map", "M"
    if kind in ("SS", "NS", "BS"):
        if kind == "NS":
            nums = [str(x) for av in avs if _kind(av) == "NS" for x in av["NS"]]
            return f"set<{_scalar_type('N', nums)[0]}>", kind
        return ("set<string>" if kind == "SS" else "set<binary>"), kind
    if kind == "L":
        elements = [x for av in avs if _kind(av) == "L" for x in av["L"]]
        if not elements:
            return "list<string>", "L without sample elements: element type unknown, guessed string"
        ekinds = {_kind(x) for x in elements if _kind(x) in ATTRIBUTE_TYPES}
        if not ekinds:
            return "list<map>", "L of nested values in no DynamoDB type, guessed map"
        if len(ekinds) > 1:
            return "list<map>", "L with mixed element types (" + ", ".join(
                sorted(ekinds)
            ) + "), guessed map"
        inner, _why = _value_type([x for x in elements if _kind(x) in ATTRIBUTE_TYPES], None)
        return f"list<{inner}>", f"L of {ekinds.pop()}"
    return "string", "NULL-typed: no value type known, guessed string"


_SCHEMA_TYPES = {"String": "S", "Number": "N", "Binary": "B", "Boolean": "BOOL", "Map": "M",
                 "List": "L", "StringSet": "SS", "NumberSet": "NS", "BinarySet": "BS"}  # fmt: skip


# =========================================================================== plans


@dataclass
class AttrPlan:
    name: str
    type: str
    required: bool = True
    note: str = ""
    source_name: str | None = None  # the Workbench name when it had to be renamed


@dataclass
class KeyPlan:
    index: str  # table | gsiN
    wb_index: str  # the Workbench index name ("" for the table)
    pk: KeyTemplate
    sk: KeyTemplate | None
    note: str = ""


@dataclass
class EntityPlan:
    name: str
    origin: str
    sample_items: int
    key: list[str]
    keys: list[KeyPlan]
    attributes: dict[str, AttrPlan]
    notes: list[str] = field(default_factory=list)
    unpinned: list[KeyPlan] = field(default_factory=list)  # observed, left to the compiler


@dataclass
class PatternPlan:
    name: str
    entity: str
    index: str
    where: dict[str, str]
    unique: bool = False
    note: str = ""


@dataclass
class TablePlan:
    model: str
    table: str
    description: str
    billing: str | dict[str, Any] | None
    billing_note: str
    entities: list[EntityPlan]
    patterns: list[PatternPlan]
    notes: list[str]
    source: str  # the export file, for comments and the report
    version: str


@dataclass
class _Slot:
    name: str
    why: str
    existing: bool = False  # names an attribute the entity already has
    unnamed: bool = False  # a fallback name; may be renamed after the collection's owner
    kind: str = "S"  # the Workbench key type when the slot is a whole key value


@dataclass
class _Group:
    """A candidate entity before keys and attributes are worked out."""

    name: str
    origin: str
    items: list[tuple[Item, Span | None]] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    declared_types: dict[str, str] = field(default_factory=dict)
    whole_table: bool = False
    facet: WbFacet | None = None
    type_attr: str | None = None
    type_value: str | None = None
    schema_values: dict[str, str] = field(default_factory=dict)  # key attr → "${a}#${b}"
    mentions: set[str] = field(default_factory=set)  # every attribute a declaration names
    reported: set[str] = field(default_factory=set)  # slots whose conflicts were reported
    keys: list[KeyPlan] = field(default_factory=list)
    slots: dict[str, _Slot] = field(default_factory=dict)
    slot_values: dict[str, list[str]] = field(default_factory=dict)
    item_values: list[dict[str, str]] = field(default_factory=list)  # per item: scalar texts
    notes: list[str] = field(default_factory=list)


# =========================================================================== entities


def _key_names(table: WbTable) -> set[str]:
    return set(table.keys.names) | {n for g in table.indexes for n in g.keys.names}


def _find_type_attr(items: list[tuple[Item, Span | None]], skip: set[str]) -> str | None:
    """The attribute naming each item's entity type (`Type`, `_type`, ...), if items carry one."""
    counts: dict[str, int] = {}
    for it, _ in items:
        for name, av in it.items():
            if name not in skip and _is_type_attr(name) and _kind(av) == "S" and av["S"]:
                counts[name] = counts.get(name, 0) + 1
    best = max(counts.items(), key=lambda kv: kv[1], default=None)
    return best[0] if best and best[1] * 2 >= len(items) else None


def _tag(value: str | None, whole: bool = False) -> str | None:
    """`CUST#123` → `CUST`; `#METADATA#1` → `METADATA`; with `whole`, `PROFILE` → `PROFILE`."""
    if value is None:
        return None
    segs = value.split(SEPARATOR)
    if len(segs) >= 2:
        first = segs[0] or (segs[1] if len(segs) > 2 else "")
        return first if _WORD.match(first) else None
    return value if whole and _UPPER_TAG.match(value) and len(value) > 1 else None


def _unique_name(name: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    if name not in taken:
        return name
    n = 2
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"


def _table_entity_name(table: WbTable) -> str:
    name = pascal(table.name)
    return name[: -len("Table")] if name.endswith("Table") and len(name) > 5 else name


def _discover(table: WbTable, diags: Diagnostics) -> list[_Group]:
    """Candidate entities: facets, else entity-type values, else key prefixes, else the table."""
    keys = _key_names(table)
    groups: list[_Group] = []
    if table.facets:
        for f in table.facets:
            g = _Group(
                name=_unique_name(pascal(f.name), [x.name for x in groups]),
                origin=f"facet {f.name!r}",
                items=list(zip(f.items, _pad(f.item_spans, len(f.items)), strict=True)),
                declared=[a for a in f.attributes if a not in keys],
                facet=f,
                mentions=set(f.attributes),
            )
            groups.append(g)
        _assign_to_facets(table, groups, diags)
        for g in groups:  # a facet's constant `Type` attribute is its entity type, not data
            t = _find_type_attr(g.items, keys)
            values = {_text(it.get(t)) for it, _ in g.items} if t else set()
            if t and len(values) == 1 and None not in values:
                g.type_attr, g.type_value = t, values.pop()
        _apply_model_schema(table, groups, groups[0].type_attr or "", keys, diags, create=False)
        return groups
    items = list(zip(table.items, _pad(table.item_spans, len(table.items)), strict=True))
    type_attr = _find_type_attr(items, keys)
    rest = items
    if type_attr is not None:
        by_value: dict[str, _Group] = {}
        rest = []
        for it, sp in items:
            av = it.get(type_attr)
            value = av.get("S") if isinstance(av, dict) else None
            if isinstance(value, str) and value:
                if value not in by_value:
                    by_value[value] = _Group(
                        name=_unique_name(pascal(value), [g.name for g in by_value.values()]),
                        origin=f"attribute {type_attr!r} = {value!r}",
                        type_attr=type_attr,
                        type_value=value,
                    )
                by_value[value].items.append((it, sp))
            else:
                rest.append((it, sp))
        groups = list(by_value.values())
        _apply_model_schema(table, groups, type_attr, keys, diags)
    if rest:
        groups += _prefix_groups(table, rest, [g.name for g in groups])
    if not groups:
        groups = [
            _Group(
                name=_table_entity_name(table),
                origin=f"table {table.name!r} (no facets, no sample items)",
            )
        ]
    if len(groups) == 1 and not table.facets:
        groups[0].whole_table = True
        groups[0].declared = list(
            dict.fromkeys(a.name for a in table.attributes if a.name not in keys)
        )
    return groups


def _prefix_groups(
    table: WbTable, items: list[tuple[Item, Span | None]], taken: list[str]
) -> list[_Group]:
    pk, sk = table.keys.partition.name, table.keys.sort.name if table.keys.sort else None
    sigs: dict[tuple[str | None, str | None], _Group] = {}
    # only overloaded keys (PK/SK) carry entity prefixes; `Status#Date` says what its parts are
    use_pk, use_sk = _is_generic_key(pk), sk is not None and _is_generic_key(sk)
    for it, sp in items:
        pk_tag = _tag(_text(it.get(pk))) if use_pk else None
        sk_tag = _tag(_text(it.get(sk)), whole=True) if sk and use_sk else None
        sig = (pk_tag, sk_tag)
        if sig not in sigs:
            word = sk_tag or pk_tag
            if word is None:
                name, origin = (
                    _table_entity_name(table),
                    f"table {table.name!r} (sample keys have no constant prefix)",
                )
            else:
                name = pascal(singular(word).lower())
                origin = "key prefix " + " / ".join(
                    f"{k}={t}#…" for k, t in ((pk, pk_tag), (sk, sk_tag)) if t is not None
                )
            name = _unique_name(name, taken + [g.name for g in sigs.values()])
            sigs[sig] = _Group(name=name, origin=origin)
        sigs[sig].items.append((it, sp))
    return list(sigs.values())


def _apply_model_schema(
    table: WbTable,
    groups: list[_Group],
    type_attr: str,
    keys: set[str],
    diags: Diagnostics,
    create: bool = True,
) -> None:
    """Use a `ModelSchema` block (some exports carry one): per-type attributes and key templates."""
    models = (table.model_schema or {}).get("models")
    if not isinstance(models, dict):
        return
    by_value = {g.type_value: g for g in groups if g.type_value} | {
        g.facet.name: g for g in groups if g.facet is not None
    }
    for mname, attrs in models.items():
        if not isinstance(attrs, dict):
            continue
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ \-]*", mname):
            diags.info(
                "workbench-schema-placeholder",
                f"ModelSchema model {mname!r} looks like an editor placeholder; skipped",
                table.span,
                None,
                table.name,
            )
            continue
        g = by_value.get(mname)
        if g is None and not create:
            continue
        if g is None:
            g = _Group(
                name=_unique_name(pascal(mname), [x.name for x in groups]),
                origin=f"ModelSchema model {mname!r} (no sample items)",
                type_attr=type_attr,
                type_value=mname,
            )
            groups.append(g)
            by_value[mname] = g
        else:
            g.origin += " and its ModelSchema model"
        g.mentions.update(attrs)
        for a, spec in attrs.items():
            if not isinstance(spec, dict) or a == type_attr:
                continue
            if a in keys:
                if isinstance(spec.get("value"), str) and spec["value"]:
                    g.schema_values[a] = spec["value"]
                continue
            if a not in g.declared:
                g.declared.append(a)
            t = _SCHEMA_TYPES.get(str(spec.get("type")))
            if t:
                g.declared_types[a] = t


def _alias_regex(alias: str | None) -> re.Pattern[str] | None:
    """A facet alias as a matcher: upper-case parts literal, other parts any text."""
    if not alias:
        return None
    parts = alias.split(SEPARATOR)
    if not any(_UPPER_TAG.match(p) for p in parts):
        return None
    return re.compile(
        SEPARATOR.join(re.escape(p) if _UPPER_TAG.match(p) or not p else ".+" for p in parts)
    )


def _assign_to_facets(table: WbTable, groups: list[_Group], diags: Diagnostics) -> None:
    """Table-level sample items (format 2.0) go to the one facet whose aliases they fit."""
    pk, sk = table.keys.partition.name, table.keys.sort.name if table.keys.sort else None
    unassigned = 0
    for it, sp in zip(table.items, _pad(table.item_spans, len(table.items)), strict=True):
        fits = []
        for g in groups:
            assert g.facet is not None
            rx_pk, rx_sk = _alias_regex(g.facet.pk_alias), _alias_regex(g.facet.sk_alias)
            if rx_pk is None and rx_sk is None:
                continue
            ok = (rx_pk is None or rx_pk.fullmatch(_text(it.get(pk)) or "") is not None) and (
                rx_sk is None or sk is None or rx_sk.fullmatch(_text(it.get(sk)) or "") is not None
            )
            if ok:
                fits.append(g)
        if len(fits) == 1:
            fits[0].items.append((it, sp))
        else:
            unassigned += 1
    if unassigned:
        diags.warning(
            "workbench-unassigned-items",
            f"{unassigned} table-level sample item(s) of {table.name!r} fit no single facet; not used",
            table.span,
            "give the facets key aliases with constant parts (e.g. ORDER#OrderId), or move the items into facets",
            table.name,
        )


# =========================================================================== keys


@dataclass
class _KeyCtx:
    table: WbTable
    g: _Group
    attr: WbAttribute
    role: str  # pk | sk
    index: str  # table | gsiN
    rows: list[int]  # indexes into g.items of the items that carry this key attribute
    diags: Diagnostics


def _has_attr(g: _Group, name: str) -> bool:
    return name in g.slots or name in g.declared or any(name in iv for iv in g.item_values)


def _register(g: _Group, name: str, why: str, unnamed: bool = False) -> str:
    if name not in g.slots:
        g.slots[name] = _Slot(name, why, existing=_has_attr(g, name), unnamed=unnamed)
    return name


def _match_attr(ctx: _KeyCtx, col: Sequence[str]) -> str | None:
    """An attribute whose value equals this key part in every sample item (slots first)."""
    g = ctx.g
    if not ctx.rows:
        return None
    names = list(g.slots) + g.declared + [n for iv in g.item_values for n in iv]
    for name in dict.fromkeys(names):
        if all(
            (v := g.item_values[i].get(name)) is not None and _same_value(c, v)
            for i, c in zip(ctx.rows, col, strict=True)
        ):
            return name
    return None


def _from_data(values: list[str], ctx: _KeyCtx, hint: str | None = None) -> list[tuple[bool, str]]:
    """Literal and varying `#`-separated parts of sample keys; slots named as well as we can."""
    g = ctx.g
    segs: list[tuple[bool, str] | None] = []
    why: dict[int, str] = {}
    samples: dict[int, str] = {}
    if values:
        split = [v.split(SEPARATOR) for v in values]
        if all(len(s) == len(split[0]) for s in split):
            cols = [list(c) for c in zip(*split, strict=True)]
        else:
            k = 0
            while (
                all(len(s) > k + 1 for s in split)
                and len({s[k] for s in split}) == 1
                and (split[0][k] == "" or _UPPER_TAG.match(split[0][k]))
            ):
                k += 1
            cols = [[s[i] for s in split] for i in range(k)] + [
                [SEPARATOR.join(s[k:]) for s in split]
            ]
            g.notes.append(
                f"{ctx.attr.name} sample keys have different numbers of '#' parts; the rest after "
                f"{k} constant part(s) is one slot"
            )
        for i, col in enumerate(cols):
            const = len(set(col)) == 1
            if const and (col[0] == "" or _UPPER_TAG.match(col[0])):
                segs.append((False, col[0]))
            elif (m := _match_attr(ctx, col)) is not None:
                segs.append(
                    (True, _register(g, m, f"sample {ctx.attr.name} parts equal attribute {m!r}"))
                )
            elif const and _WORD.match(col[0]) and len(values) >= 2:
                segs.append((False, col[0]))
                g.notes.append(
                    f"{ctx.attr.name} part {col[0]!r} is constant in {len(values)} sample keys: read as literal text"
                )
            else:
                segs.append(None)
                why[i] = f"varying part of sample {ctx.attr.name} values"
                samples[i] = col[0]
    else:
        segs.append(None)
        why[0] = f"no sample {ctx.attr.name} values: the whole key is one slot"
    holes = [i for i, s in enumerate(segs) if s is None]
    fallback = [i for i in holes if not (i > 0 and segs[i - 1] and _WORD.match(segs[i - 1][1]))]  # type: ignore[index]
    out: list[tuple[bool, str]] = []
    for i, seg in enumerate(segs):
        if seg is not None:
            out.append(seg)
            continue
        unnamed = False
        prev = segs[i - 1] if i > 0 else None
        if prev is not None and not prev[0] and _WORD.match(prev[1]):
            name = f"{snake(singular(prev[1]))}_id"
        elif hint and len(fallback) == 1:
            name = hint
        elif ctx.role == "pk" and ctx.index == "table":
            name, unnamed = f"{snake(g.name)}_id", True
        else:
            name = f"{snake(g.name)}_{snake(ctx.attr.name)}"
        if len(fallback) > 1 and i in fallback:
            name = f"{name}_{fallback.index(i) + 1}"
        if name in g.slots or _has_attr(g, name):
            name = _unique_name(name + "_key", list(g.slots))
        text = (
            why[i]
            + (f" (e.g. {samples[i]!r})" if i in samples else "")
            + "; named by guess, rename it"
        )
        out.append((True, _register(g, name, text, unnamed=unnamed)))
    return out


def _align(
    parts: list[str], facet: bool, values: list[str], ctx: _KeyCtx, span: Span | None
) -> list[tuple[bool, str]]:
    """Read an alias (`ITEMS#ItemID`, `Status#Date`) as a template, checked on sample keys."""
    g = ctx.g
    source = f"{'facet alias' if facet else 'key attribute name'} {SEPARATOR.join(parts)!r}"
    fits = [n for n, v in enumerate(values) if len(v.split(SEPARATOR)) == len(parts)]
    if values and not fits:
        if facet or len(parts) > 1:
            ctx.diags.warning(
                "workbench-alias-shape",
                f"{source} of {g.name} has {len(parts)} '#' part(s) but sample key {values[0]!r} has "
                f"{len(values[0].split(SEPARATOR))}; inferred the template from the sample keys",
                span,
                "fix the alias in Workbench, or check the keys: template of the imported model",
                g.name,
            )
        return _from_data(values, ctx, hint=ident(parts[0]) if len(parts) == 1 else None)
    if len(fits) < len(values):  # align on the keys that fit; `_record` reports any that do not
        values = [values[n] for n in fits]
        ctx = _KeyCtx(
            ctx.table, g, ctx.attr, ctx.role, ctx.index, [ctx.rows[n] for n in fits], ctx.diags
        )
    cols: list[list[str] | None] = (
        [list(c) for c in zip(*[v.split(SEPARATOR) for v in values], strict=True)]
        if values
        else [None] * len(parts)
    )
    out: list[tuple[bool, str]] = []
    for p, col in zip(parts, cols, strict=True):
        const = col is not None and len(set(col)) == 1
        if col is not None and const and col[0] == p:
            out.append((False, p))
        elif facet and (p == "" or _UPPER_TAG.match(p)):
            if col is None or const:
                literal = col[0] if col else p
                if literal != p:
                    ctx.diags.warning(
                        "workbench-alias-mismatch",
                        f"{source} of {g.name} says {p!r} but its sample keys say {literal!r}; used {literal!r}",
                        span,
                        "the sample items are what the application writes; fix the alias if they are wrong",
                        g.name,
                    )
                out.append((False, literal))
            else:
                out.append(
                    (
                        True,
                        _register(
                            g, ident(p.lower()), f"{source}: part {p!r} varies in sample keys"
                        ),
                    )
                )
        else:
            name, why = ident(p), source + (f"; renamed from {p!r}" if ident(p) != p else "")
            if (
                col is not None
                and not _has_attr(g, name)
                and (m := _match_attr(ctx, col)) is not None
            ):
                name, why = m, f"{source}: part {p!r} equals attribute {m!r} in the sample items"
            out.append((True, _register(g, name, why)))
    return out


def _key_template(
    ctx: _KeyCtx, alias: str | None, alias_span: Span | None
) -> tuple[KeyTemplate, str]:
    g, attr = ctx.g, ctx.attr
    values = [_text(g.items[i][0][attr.name]) or "" for i in ctx.rows]
    if attr.name in g.schema_values:
        text = g.schema_values[attr.name]
        parts: list[tuple[bool, str]] = []
        for is_slot, name in KeyTemplate.parse(text).parts:
            if is_slot and name == g.type_attr and g.type_value:
                parts.append((False, g.type_value))
            elif is_slot:
                parts.append(
                    (True, _register(g, ident(name), f"slot of ModelSchema value {text!r}"))
                )
            else:
                parts.append((False, name))
        template = KeyTemplate.parse(KeyTemplate(tuple(parts)).text)
        why = f"from ModelSchema value {text!r}"
    elif alias and _SLOT_RE.search(alias):
        template = KeyTemplate(
            tuple(
                (s, _register(g, ident(t), f"slot of facet alias {alias!r}") if s else t)
                for s, t in KeyTemplate.parse(alias).parts
            )
        )
        why = f"from facet alias {alias!r} (a template)"
    else:
        if alias:
            segs = _align(alias.split(SEPARATOR), True, values, ctx, alias_span)
            why = f"from facet alias {alias!r}"
        elif not _is_generic_key(attr.name):
            segs = _align(attr.name.split(SEPARATOR), False, values, ctx, attr.span)
            why = f"from key attribute name {attr.name!r}"
        else:
            segs = _from_data(values, ctx)
            why = "from the sample keys' constant and varying parts"
        template = KeyTemplate.from_segments(segs)
    template = _valid_template(template, ctx)
    if values:
        why += f", checked on {len(values)} sample key(s)"
    _record(ctx, template, values)
    return template, why


def _valid_template(template: KeyTemplate, ctx: _KeyCtx) -> KeyTemplate:
    """A template the loader accepts: not empty, each slot once (a repeat becomes a new slot)."""
    g = ctx.g
    if not template.parts:
        name = _unique_name(f"{snake(g.name)}_{snake(ctx.attr.name)}", list(g.slots))
        why = f"sample {ctx.attr.name} values are empty, which DynamoDB rejects; one slot"
        return KeyTemplate(((True, _register(g, name, why)),))
    seen: set[str] = set()
    parts: list[tuple[bool, str]] = []
    for is_slot, text in template.parts:
        if is_slot and text in seen:
            text = _register(
                g, _unique_name(f"{text}_2", list(g.slots)), f"a second {{{text}}} in one key"
            )
        if is_slot:
            seen.add(text)
        parts.append((is_slot, text))
    return KeyTemplate(tuple(parts))


def _record(ctx: _KeyCtx, template: KeyTemplate, values: list[str]) -> None:
    """Match sample keys against the template: slot values for typing, disagreements reported."""
    g = ctx.g
    if len(template.parts) == 1 and template.parts[0][0]:
        g.slots[template.parts[0][1]].kind = ctx.attr.type
    misfits: list[tuple[str, Span | None]] = []
    conflicts: dict[str, int] = {}
    for i, value in zip(ctx.rows, values, strict=True):
        got = template.match(value)
        if got is None:
            misfits.append((value, g.items[i][1]))
            continue
        for slot, sv in got.items():
            g.slot_values.setdefault(slot, []).append(sv)
            have = g.item_values[i].get(slot)
            if have is None:
                g.item_values[i][slot] = sv
            elif not _same_value(sv, have):
                conflicts[slot] = conflicts.get(slot, 0) + 1
    if misfits:
        ctx.diags.warning(
            "workbench-key-misfit",
            f"{len(misfits)} sample {ctx.attr.name} value(s) of {g.name} do not fit the template "
            f"{template.text!r} (e.g. {misfits[0][0]!r})",
            misfits[0][1],
            "check the sample item, or pin a different template in the model",
            g.name,
        )
    for slot, n in conflicts.items():
        if slot in g.reported:
            continue
        g.reported.add(slot)
        ctx.diags.warning(
            "workbench-slot-conflict",
            f"slot {{{slot}}} of {g.name}'s {ctx.attr.name} template {template.text!r} differs from "
            f"attribute {slot!r} in {n} of {len(values)} sample item(s)",
            ctx.attr.span,
            f"if the key part is not {slot!r}, rename the slot (and add the attribute) in the model",
            g.name,
        )


def _in_index(g: _Group, keys: WbKeySchema) -> tuple[bool, str]:
    """Does the entity project into an index (sparse GSIs hold only items with its keys)?"""
    names = keys.names
    if g.items:
        n = sum(all(k in it for k in names) for it, _ in g.items)
        if n == 0:
            pk_only = sum(keys.partition.name in it for it, _ in g.items)
            if pk_only and keys.sort is not None:
                # a pinned partition-only key on an index with a sort key (as a layout may
                # have): kept, and said, since DynamoDB indexes only items with both
                return True, (
                    f"{pk_only} of {len(g.items)} sample items carry {keys.partition.name} but "
                    f"none {keys.sort.name}: DynamoDB leaves such items out of this index"
                )
            return False, ""
        return True, (
            f"sparse: {n} of {len(g.items)} sample items carry {', '.join(names)}"
            if n < len(g.items)
            else ""
        )
    if g.whole_table:
        return True, ""
    return keys.partition.name in g.mentions, ""


def _plan_keys(table: WbTable, g: _Group, diags: Diagnostics) -> None:
    keynames = _key_names(table)
    g.item_values = [
        {
            n: t
            for n, av in it.items()
            if n not in keynames and n != g.type_attr and (t := _text(av)) is not None
        }
        for it, _ in g.items
    ]
    indexes = [("table", "", table.keys)] + [
        (f"gsi{n}", x.name, x.keys) for n, x in enumerate(table.indexes, 1)
    ]
    for index, wbname, ks in indexes:
        member, sparse = (True, "") if index == "table" else _in_index(g, ks)
        if not member:
            continue
        templates: list[KeyTemplate] = []
        whys: list[str] = []
        for role, attr in (("pk", ks.partition), ("sk", ks.sort)):
            if attr is None or (
                role == "sk" and g.items and not any(attr.name in it for it, _ in g.items)
            ):
                continue
            rows = [i for i, (it, _) in enumerate(g.items) if _text(it.get(attr.name)) is not None]
            alias: str | None = None
            span: Span | None = None
            if index == "table" and g.facet is not None:
                alias = g.facet.pk_alias if role == "pk" else g.facet.sk_alias
                span = g.facet.pk_alias_span if role == "pk" else g.facet.sk_alias_span
                if alias is not None and _is_generic_key(alias) and alias == attr.name:
                    alias = None
            tmpl, why = _key_template(
                _KeyCtx(table, g, attr, role, index, rows, diags), alias, span
            )
            templates.append(tmpl)
            whys.append(f"{role} {why}")
        label = f"Workbench GSI {wbname!r}: " if wbname else ""
        note = label + "; ".join(whys) + (f"; {sparse}" if sparse else "")
        if any(a is not None and a.type != "S" for a in (ks.partition, ks.sort)):
            note += (
                "; the Workbench key is typed "
                + "/".join(a.type for a in (ks.partition, ks.sort) if a)
                + ", model keys are string templates"
            )
        g.keys.append(
            KeyPlan(index, wbname, templates[0], templates[1] if len(templates) > 1 else None, note)
        )


def _rename_owned(table: WbTable, groups: list[_Group]) -> None:
    """Items in another entity's partition take that entity's id slot (`rate` under `hotel_id`).

    An *owner* has a partition key that is one guessed slot and a constant sort key (the
    metadata item of an item collection); an entity whose partition values all occur among an
    owner's shares the owner's slot name, which says what the partition key really is.
    """

    def pk_slot(g: _Group) -> str | None:
        kp = next((k for k in g.keys if k.index == "table"), None)
        if kp is None or len(kp.pk.parts) != 1 or not kp.pk.parts[0][0]:
            return None
        s = kp.pk.parts[0][1]
        return s if g.slots[s].unnamed else None

    def is_owner(g: _Group) -> bool:
        s = pk_slot(g)
        kp = next(k for k in g.keys if k.index == "table")
        return s is not None and (kp.sk is None or set(kp.sk.slots) <= {s})

    owners = [g for g in groups if is_owner(g)]
    for g in groups:
        s = pk_slot(g)
        if s is None or g in owners or not g.slot_values.get(s):
            continue
        for o in owners:
            os = pk_slot(o)
            assert os is not None
            if set(g.slot_values[s]) <= set(o.slot_values.get(os, [])) and os not in g.slots:
                g.keys = [
                    KeyPlan(
                        k.index,
                        k.wb_index,
                        k.pk.renamed(s, os),
                        k.sk.renamed(s, os) if k.sk else None,
                        k.note,
                    )
                    for k in g.keys
                ]
                slot = g.slots.pop(s)
                g.slots[os] = _Slot(
                    os,
                    slot.why
                    + f"; the same values as {o.name}.{os}: the items live in {o.name}'s partition",
                    slot.existing,
                    False,
                    slot.kind,
                )
                g.slot_values[os] = g.slot_values.pop(s)
                for iv in g.item_values:
                    if s in iv:
                        iv[os] = iv.pop(s)
                break


# =========================================================================== attributes, patterns


def _declared_types(table: WbTable, diags: Diagnostics) -> dict[str, str]:
    """Name → declared type (first declaration); repeated declarations are reported."""
    out: dict[str, str] = {}
    seen: dict[str, list[WbAttribute]] = {}
    for a in table.attributes:
        seen.setdefault(a.name, []).append(a)
        out.setdefault(a.name, a.type)
    for name, decls in seen.items():
        if len(decls) < 2:
            continue
        types = sorted({d.type for d in decls})
        detail = (
            f"always as {types[0]}"
            if len(types) == 1
            else f"as {', '.join(types)}; used {decls[0].type} (the first)"
        )
        diags.warning(
            "workbench-duplicate-attribute",
            f"table {table.name!r} declares attribute {name!r} {len(decls)} times in NonKeyAttributes ({detail}); imported once",
            decls[1].span,
            "Workbench repeats an attribute when several facets declare it; remove the repeats to silence this",
            table.name,
        )
    return out


def _plan_attributes(
    table: WbTable, g: _Group, declared: dict[str, str], diags: Diagnostics
) -> EntityPlan:
    keynames = _key_names(table)
    n_items = len(g.items)
    table_key = next(k for k in g.keys if k.index == "table")  # unpinned later, if ever
    key = list(dict.fromkeys(table_key.pk.slots + (table_key.sk.slots if table_key.sk else ())))
    other_slots = [
        s for k in g.keys for s in k.pk.slots + (k.sk.slots if k.sk else ()) if s not in key
    ]
    seen_in_items = [n for it, _ in g.items for n in it if n not in keynames and n != g.type_attr]
    plain = [
        n
        for n in dict.fromkeys(g.declared + seen_in_items)
        if n not in g.slots and n != g.type_attr
    ]
    # Workbench names → valid attribute names, collisions resolved in order
    names: dict[str, str] = {}
    for n in dict.fromkeys(key + other_slots + plain):
        names[n] = _unique_name(ident(n), names.values())
    attrs: dict[str, AttrPlan] = {}
    for n in dict.fromkeys(key + other_slots):
        slot = g.slots[n]
        values = g.slot_values.get(n, [])
        if slot.existing and (n in declared or any(n in it for it, _ in g.items)):
            avs = [it[n] for it, _ in g.items if n in it]
            type_, why = _value_type(avs, g.declared_types.get(n) or declared.get(n))
        else:
            type_, why = _scalar_type(slot.kind if slot.kind in ("N", "B") else "S", values)
        examples = ", ".join(list(dict.fromkeys(values))[:3])
        note = f"key slot, {slot.why}; {why}" + (f"; e.g. {examples}" if examples else "")
        if type_ not in (
            "string",
            "integer",
            "decimal",
            "float",
            "boolean",
            "date",
            "datetime",
            "uuid",
            "binary",
        ):
            diags.warning(
                "workbench-unkeyable-slot",
                f"slot {{{n}}} of {g.name} names attribute {n!r} of type {type_}, which cannot be in a key; typed string",
                table.span,
                "rename the slot in the pinned keys",
                g.name,
            )
            type_ = "string"
        required = True
        if n not in key and n_items:  # an index-only slot may be absent: a sparse index
            present = sum(1 for iv in g.item_values if n in iv)
            if present < n_items:
                required = False
                note += f"; missing in {n_items - present} of {n_items} sample items (sparse index)"
        attrs[names[n]] = AttrPlan(names[n], type_, required, note, n if names[n] != n else None)
    for n in plain:
        avs = [it[n] for it, _ in g.items if n in it]
        decl = g.declared_types.get(n) or declared.get(n)
        type_, why = _value_type(avs, decl)
        if decl is None:
            why += "; not in NonKeyAttributes, seen in sample items"
        kinds = sorted({_kind(av) for av in avs} - {decl or "", "NULL"})
        if decl and kinds:
            why += f"; declared {decl} but sample values are {'/'.join(kinds)}"
        present = sum(1 for it, _ in g.items if n in it and _kind(it[n]) != "NULL")
        required = present == n_items if n_items else True
        if not required:
            why += f"; missing in {n_items - present} of {n_items} sample items"
        attrs[names[n]] = AttrPlan(names[n], type_, required, why, n if names[n] != n else None)
    for a in attrs.values():
        if a.source_name:
            a.note += f"; renamed from {a.source_name!r}"
    renames = {n: names[n] for n in g.slots if n in names and names[n] != n}
    keys = []
    for k in g.keys:
        pk, sk = k.pk, k.sk
        for old, new in renames.items():
            pk = pk.renamed(old, new)
            sk = sk.renamed(old, new) if sk else None
        keys.append(KeyPlan(k.index, k.wb_index, pk, sk, k.note))
    notes = [f"guessed: entity from {g.origin}, {n_items} sample item(s)"]
    if g.type_attr:
        notes.append(
            f"attribute {g.type_attr!r} (the entity type) is left out: the compiler writes its own"
        )
    dropped = sorted(n for n in keynames if any(n in it for it, _ in g.items) and n not in g.slots)
    if dropped:
        notes.append(
            "physical key attributes " + ", ".join(dropped) + " became the key templates below"
        )
    if not key:
        diags.warning(
            "workbench-constant-key",
            f"entity {g.name}'s table key has no varying part ({table_key.pk.text!r}); it holds one item",
            table.span,
            "add the identifying attribute to the key template if there can be several",
            g.name,
        )
    return EntityPlan(
        g.name, g.origin, n_items, [names[n] for n in key], keys, attrs, notes + g.notes
    )


def _may_equal(a: KeyTemplate, b: KeyTemplate) -> bool:
    """Can the two templates render the same text? (No if their literal ends tell them apart.)"""
    if not a.slots and not b.slots:
        return a.text == b.text

    def lead(t: KeyTemplate) -> str:
        return "" if not t.parts or t.parts[0][0] else t.parts[0][1]

    def trail(t: KeyTemplate) -> str:
        return "" if not t.parts or t.parts[-1][0] else t.parts[-1][1]

    la, lb, ta, tb = lead(a), lead(b), trail(a), trail(b)
    return (la.startswith(lb) or lb.startswith(la)) and (ta.endswith(tb) or tb.endswith(ta))


def _unpin_colliding(entities: list[EntityPlan], diags: Diagnostics, table: WbTable) -> None:
    """Drop an observed table key that can equal an earlier entity's: the compiler derives one.

    Workbench designs often tell entity types apart only by a `type` attribute (`H1`/`A` for a
    hotel, `C1`/`A` for a customer); pinned as is, two entities could write the same key, which
    the compiler rightly rejects. The first entity keeps its observed key; later ones lose the
    pin (their slots, identity and patterns stay), and the YAML says so.
    """
    kept: list[tuple[str, KeyPlan]] = []
    for e in entities:
        tk = next((k for k in e.keys if k.index == "table"), None)
        if tk is None:
            continue
        clash = next(
            (
                name
                for name, k in kept
                if _may_equal(k.pk, tk.pk)
                and (k.sk is None or tk.sk is None or _may_equal(k.sk, tk.sk))
            ),
            None,
        )
        if clash is None:
            kept.append((e.name, tk))
            continue
        e.keys = [k for k in e.keys if k.index != "table"]
        e.unpinned.append(tk)  # still what the patterns are suggested from
        shown = tk.pk.text + (f" / {tk.sk.text}" if tk.sk else "")
        e.notes.append(
            f"observed table key {shown} is not pinned: no literal part tells it from {clash}'s, "
            "so the compiler derives this entity's table key"
        )
        diags.warning(
            "workbench-key-unpinned",
            f"{e.name}'s observed table key {shown!r} can equal {clash}'s; left for the compiler to derive",
            table.span,
            "pin a key with a literal prefix of its own (e.g. "
            + f"{e.name.upper()}#...) if the application must keep a given layout",
            e.name,
        )


def _suggest_patterns(
    entities: list[EntityPlan], diags: Diagnostics, table: WbTable
) -> list[PatternPlan]:
    """One Query per index per entity: partition-key equality, a range on the last sort slot."""
    out: list[PatternPlan] = []
    taken: set[str] = set()
    for e in entities:
        for k in [*e.unpinned, *e.keys]:  # unpinned holds at most the table key
            where: dict[str, str] = {s: "=" for s in k.pk.slots}
            if not where:
                diags.info(
                    "workbench-no-pattern",
                    f"no pattern suggested for {e.name} on {k.index}: its partition key {k.pk.text!r} is constant",
                    table.span,
                    "a pattern needs a partition-key equality; add one by hand if the app reads this index",
                    e.name,
                )
                continue
            sk_slots = [s for s in (k.sk.slots if k.sk else ()) if s not in where]
            for s in sk_slots[:-1]:
                where[s] = "="
            if sk_slots:
                where[sk_slots[-1]] = "between"
            base = f"{snake(e.name)}_by_" + "_and_".join(snake(s) for s in k.pk.slots)
            name = base if base not in taken else f"{base}_{k.index}"
            name = _unique_name(name, taken)
            taken.add(name)
            unique = not sk_slots and set(e.key) <= set(where)
            index = "the table" if k.index == "table" else f"{k.index} ({k.wb_index})"
            note = f"guessed: Workbench has no access patterns; one per index ({index})"
            note += ": partition-key equality" + (
                ", range on the last sort-key slot" if sk_slots else ""
            )
            out.append(PatternPlan(name, e.name, k.index, where, unique, note))
    return out


def _billing(table: WbTable) -> tuple[str | dict[str, Any] | None, str]:
    if table.billing_mode == "PAY_PER_REQUEST":
        return "on_demand", "from BillingMode PAY_PER_REQUEST"
    if table.billing_mode == "PROVISIONED" and table.read_capacity and table.write_capacity:
        note = (
            f"from BillingMode PROVISIONED, {table.read_capacity} RCU / {table.write_capacity} WCU"
        )
        if any(k.startswith("AutoScaling") for k in table.capacity_settings or {}):
            note += "; the export's auto-scaling settings are not carried over"
        return {"provisioned": {"read": table.read_capacity, "write": table.write_capacity}}, note
    if table.billing_mode == "PROVISIONED":
        return None, "BillingMode PROVISIONED without capacity: left at the default (on_demand)"
    return None, "no BillingMode in the export: default on_demand"


def plan_table(doc: WbDocument, table: WbTable, model: str, diags: Diagnostics) -> TablePlan:
    """Infer one model (entities, pinned keys, attributes, suggested patterns) from one table."""
    declared = _declared_types(table, diags)
    groups = _discover(table, diags)
    for g in groups:
        _plan_keys(table, g, diags)
    _rename_owned(table, groups)
    entities = [_plan_attributes(table, g, declared, diags) for g in groups]
    _unpin_colliding(entities, diags, table)
    used = {a.source_name or a.name for e in entities for a in e.attributes.values()}
    unused = [
        a
        for a in dict.fromkeys(x.name for x in table.attributes)
        if a not in used and a not in _key_names(table)
    ]
    unused = [
        a
        for a in unused
        if not any(g.type_attr == a for g in groups) and not (table.facets and _is_type_attr(a))
    ]
    if unused:
        diags.warning(
            "workbench-unused-attribute",
            f"table {table.name!r} declares {', '.join(map(repr, unused))} but no entity's facet or sample items use them; not imported",
            table.span,
            "add them to the entity they belong to",
            table.name,
        )
    patterns = _suggest_patterns(entities, diags, table)
    billing, billing_note = _billing(table)
    notes = []
    if table.model_schema is not None and (table.model_schema.get("queries") or {}):
        notes.append("the export's ModelSchema.queries block is not read")
    table_name = dynamo_table_name(table.name)
    if table_name != table.name:
        diags.warning(
            "workbench-table-name",
            f"table name {table.name!r} is not a valid DynamoDB table name; imported as {table_name!r}",
            table.span,
            "DynamoDB table names are 3–255 letters, digits, `_`, `.` and `-`",
            table.name,
        )
    return TablePlan(
        model=model,
        table=table_name,
        description="".join(c for c in doc.description if c.isprintable() or c in "\n\t").strip(),
        billing=billing,
        billing_note=billing_note,
        entities=entities,
        patterns=patterns,
        notes=notes,
        source=Path(doc.file).name if doc.file else "",
        version=doc.version,
    )


def model_names(doc: WbDocument) -> dict[str, str]:
    """Table name → model name: the export's name for one table, else each table's own."""
    if len(doc.tables) == 1:
        return {doc.tables[0].name: slug(doc.model_name or doc.tables[0].name)}
    out: dict[str, str] = {}
    for t in doc.tables:
        out[t.name] = _unique_name(slug(t.name), out.values())
    return out


@dataclass
class ImportResult:
    document: WbDocument | None
    plans: list[TablePlan]
    diagnostics: Diagnostics

    @property
    def ok(self) -> bool:
        return not self.diagnostics.has_errors()


def plan_document(doc: WbDocument, diags: Diagnostics, table: str | None = None) -> list[TablePlan]:
    names = model_names(doc)
    tables = list(doc.tables)
    if table is not None:
        tables = [t for t in doc.tables if t.name == table]
        if not tables:
            diags.error(
                "workbench-table",
                f"the export has no table {table!r}",
                Span(doc.file),
                "its tables: " + ", ".join(t.name for t in doc.tables),
            )
            return []
    return [plan_table(doc, t, names[t.name], diags) for t in tables]


def import_workbench(path: str | Path, table: str | None = None) -> ImportResult:
    """Read a Workbench export and plan one model per table (or the one `table` picks)."""
    doc, diags = read_document(path)
    if doc is None:
        return ImportResult(None, [], diags)
    return ImportResult(doc, plan_document(doc, diags, table), diags)


def import_text(text: str, file: str = "<workbench>", table: str | None = None) -> ImportResult:
    doc, diags = parse_document(text, file)
    if doc is None:
        return ImportResult(None, [], diags)
    return ImportResult(doc, plan_document(doc, diags, table), diags)


# =========================================================================== output


def _flow(data: Mapping[str, Any]) -> CommentedMap:
    m = CommentedMap(data)
    m.fa.set_flow_style()
    return m


def _comment(text: str) -> str:
    """One comment line: whitespace collapsed, unprintable characters escaped (YAML forbids them)."""
    return " ".join("".join(c if c.isprintable() else repr(c)[1:-1] for c in text).split())


def render_yaml(plan: TablePlan) -> str:
    """The model file: the spec as YAML, every guess carried by a comment next to it."""
    root = CommentedMap()
    root["model"] = plan.model
    if plan.description:
        desc = plan.description
        root["description"] = LiteralScalarString(desc + "\n") if "\n" in desc else desc
    table = CommentedMap()
    table["name"] = plan.table
    if plan.billing is not None:
        table["billing"] = (
            plan.billing
            if isinstance(plan.billing, str)
            else _flow({"provisioned": _flow(plan.billing["provisioned"])})
        )
        table.yaml_add_eol_comment(_comment(plan.billing_note), "billing")
    else:
        table.yaml_add_eol_comment(_comment(plan.billing_note), "name")
    root["table"] = table
    entities = CommentedMap()
    for e in plan.entities:
        em = CommentedMap()
        em["key"] = CommentedSeq(e.key)
        em["key"].fa.set_flow_style()
        em.yaml_add_eol_comment("guessed: the slots of the table key", "key")
        keys = CommentedMap()
        for k in e.keys:
            keys[k.index] = _flow({"pk": k.pk.text} | ({"sk": k.sk.text} if k.sk else {}))
            keys.yaml_add_eol_comment(_comment(k.note), k.index)
        if keys:
            em["keys"] = keys
        attrs = CommentedMap()
        for a in e.attributes.values():
            attrs[a.name] = a.type if a.required else _flow({"type": a.type, "required": False})
            if a.note:
                attrs.yaml_add_eol_comment(_comment(a.note), a.name)
        em["attributes"] = attrs
        entities[e.name] = em
        entities.yaml_set_comment_before_after_key(
            e.name, before="\n".join(_comment(n) for n in e.notes), indent=2
        )
    root["entities"] = entities
    if plan.patterns:
        patterns = CommentedMap()
        for p in plan.patterns:
            pm = CommentedMap()
            pm["entity"] = p.entity
            pm["where"] = _flow(p.where)
            if p.unique:
                pm["unique"] = True
            patterns[p.name] = pm
            patterns.yaml_set_comment_before_after_key(p.name, before=_comment(p.note), indent=2)
        root["access_patterns"] = patterns
    header = [
        SCHEMA_COMMENT,
        f"Imported from the NoSQL Workbench export {plan.source or '(text)'}"
        + (f" (format {plan.version})" if plan.version else "")
        + f", table {plan.table!r}, by `model import --from-workbench`.",
        "Workbench has no entities, key templates or access patterns: comments saying 'guessed'",
        "or 'from ...' mark what was inferred, and from what. Review them before compiling.",
        *plan.notes,
    ]
    root.yaml_set_start_comment("\n".join(_comment(line) for line in header))
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = StringIO()
    yaml.dump(root, buf)
    return buf.getvalue()


def plan_report(plan: TablePlan) -> dict[str, Any]:
    """What was guessed, as data (`--report FILE.json`)."""
    return {
        "model": plan.model,
        "table": plan.table,
        "source": plan.source,
        "format_version": plan.version,
        "billing": plan.billing,
        "billing_note": plan.billing_note,
        "entities": [
            {
                "name": e.name,
                "inferred_from": e.origin,
                "sample_items": e.sample_items,
                "key": e.key,
                "keys": {
                    k.index: {
                        "pk": k.pk.text,
                        "sk": k.sk.text if k.sk else None,
                        "workbench_index": k.wb_index or None,
                        "note": k.note,
                    }
                    for k in e.keys
                },
                "attributes": {
                    a.name: {"type": a.type, "required": a.required, "note": a.note}
                    for a in e.attributes.values()
                },
                "notes": e.notes,
            }
            for e in plan.entities
        ],
        "access_patterns": [
            {
                "name": p.name,
                "entity": p.entity,
                "index": p.index,
                "where": p.where,
                "unique": p.unique,
                "note": p.note,
            }
            for p in plan.patterns
        ],
        "notes": plan.notes,
    }


def summary(plan: TablePlan) -> str:
    """A few lines for the terminal: what each entity was inferred from, and its keys."""
    lines = [
        f"{plan.model}: table {plan.table!r}, {len(plan.entities)} entities, {len(plan.patterns)} access patterns guessed"
    ]
    for e in plan.entities:
        keys = "; ".join(
            f"{k.index} pk={k.pk.text!r}" + (f" sk={k.sk.text!r}" if k.sk else "") for k in e.keys
        )
        lines.append(f"  {e.name} (from {e.origin}): {keys}")
    lines.append(f"  billing: {plan.billing_note}")
    return "\n".join(lines)


def diagnostics_json(diags: Iterable[Any]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diags]


__all__ = [
    "ImportResult",
    "KeyTemplate",
    "Severity",
    "TablePlan",
    "WbAttribute",
    "WbDocument",
    "WbFacet",
    "WbIndex",
    "WbKeySchema",
    "WbTable",
    "document_to_json",
    "import_text",
    "import_workbench",
    "parse_document",
    "plan_report",
    "read_document",
    "render_yaml",
    "summary",
]
