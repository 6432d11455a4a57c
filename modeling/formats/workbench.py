"""The NoSQL Workbench model file format: read (with located diagnostics) and written.

A Workbench export (format 2.0 / 3.0) describes physical tables: key attribute names and
types, declared non-key attributes, global secondary indexes, optional "facets" (named views
with key aliases), sample items in DynamoDB JSON and, in some exports, a `ModelSchema` block.
This module holds only the file format: plain dataclasses (`WbDocument` and friends),
`parse_document` / `read_document`, which check the shape and report every problem as a
`Diagnostic` at the JSON line:col of the offending value (nothing here raises on bad input),
and `document_to_json`, which writes a `WbDocument` back (the Workbench exporter,
`modeling.emit.workbench`, builds documents with these dataclasses).

What the data *means* (entities, key templates, access patterns) is the importer's business:
`modeling.importers.workbench`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from modeling.core import inputs
from modeling.core.diagnostics import Diagnostics, Span

__all__ = [
    "ATTRIBUTE_TYPES",
    "KEY_TYPES",
    "PROJECTIONS",
    "Item",
    "WbAttribute",
    "WbDocument",
    "WbFacet",
    "WbIndex",
    "WbKeySchema",
    "WbTable",
    "attribute_kind",
    "document_to_json",
    "parse_document",
    "read_document",
]

scanstring = json.decoder.scanstring  # type: ignore[attr-defined]  # (missing from typeshed)

KEY_TYPES = ("S", "N", "B")
ATTRIBUTE_TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")

Item = dict[str, Any]  # one sample item in DynamoDB JSON: {"PK": {"S": "A#1"}, ...}


def attribute_kind(av: Any) -> str:
    """The type key of a DynamoDB-JSON attribute value (`{"S": "x"}` → `S`); NULL when empty."""
    return next(iter(av)) if isinstance(av, dict) and av else "NULL"


@dataclass(frozen=True)
class WbAttribute:
    """An attribute declaration: `{"AttributeName": ..., "AttributeType": ...}`."""

    name: str
    type: str  # one of ATTRIBUTE_TYPES (KEY_TYPES for key attributes)
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class WbKeySchema:
    """A key: partition attribute and optional sort attribute."""

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

    def spanned_items(self) -> list[tuple[Item, Span | None]]:
        """The facet's items, each with its position."""
        return list(zip(self.items, _pad(self.item_spans, len(self.items)), strict=True))


@dataclass(frozen=True)
class WbTable:
    """One table of the model (a `DataModel` entry)."""

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

    def spanned_items(self) -> list[tuple[Item, Span | None]]:
        """Table-level items (`TableData`), each with its position."""
        return list(zip(self.items, _pad(self.item_spans, len(self.items)), strict=True))

    def all_items(self) -> list[tuple[Item, Span | None]]:
        """Table-level items, then every facet's items, each with its position."""
        out = self.spanned_items()
        for f in self.facets:
            out += f.spanned_items()
        return out


@dataclass(frozen=True)
class WbDocument:
    """A whole export: model metadata and its tables."""

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


def _parse_int(text: str) -> int | Decimal:
    """A JSON integer; one of thousands of digits stays a Decimal (int() refuses it)."""
    return int(text) if len(text) <= 4000 else Decimal(text)


def parse_document(text: str, file: str) -> tuple[WbDocument | None, Diagnostics]:
    """Read an export's text into a `WbDocument`; every problem becomes a located diagnostic."""
    diags = Diagnostics()
    try:
        data = json.loads(text, parse_int=_parse_int)
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
        raw = inputs.read_bytes(p, "workbench")
    except inputs.InputFileError as e:
        diags.error("workbench-read", str(e), Span(str(p)), e.hint)
        return None, diags
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
