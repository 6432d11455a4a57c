"""Make the sample rows fit the column types of the model's source DDL.

Why: the sample generator draws values that stress the DynamoDB codecs (integers up to 10**12
and 2**53+1, long keys with astral characters, decimals of any scale), but a real schema's
columns are narrower (`smallint`, `integer`, `varchar(5)`, `numeric(10,2)`). PostgreSQL refuses
such rows (or rounds decimals, so the two stores would disagree), and `postgres.prepare` then
falls back to tables generated from the model: the real schema is never proven. This module
rewrites the Dataset in place so every value fits its entity's table columns, before anything
(items, SQL rows) is built from it.

The rewrite is a remap of values, per model type kind (integer, decimal, string):

* a value that fits every column it appears in stays as it is;
* a value that does not fit some column is replaced EVERYWHERE it appears (in any attribute of
  that kind), so foreign keys still hold their parent's key and any other equality between
  rows survives; the new value fits the tightest column the old one appears in;
* new values are fresh: not present anywhere in the dataset (for that kind) and never handed
  out twice, so keys and unique attributes stay distinct (the remap is injective);
* everything is decided in dataset order from fixed rules (no randomness), so the same rows in
  give the same rows out.

Handled column types: smallint/integer/bigint/oid (and the serials, which are those types),
varchar(n)/char(n) lengths in characters, numeric(p,s) precision and scale, inet/cidr/macaddr
(string attributes: addresses), and domains over them. Anything else (arrays, enums, floats, text, ...) is left alone, as are attributes with an
`enum` and collection-typed attributes. The DDL is read with the importer's own reader
(`modeling.pg.ddl.read_ddl`); a failure anywhere returns a note and leaves the
data unchanged, and `prepare` falls back as before.
"""

from __future__ import annotations

import decimal
import ipaddress
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from modeling.core import inputs
from modeling.core.ir import Attribute, Entity, Model, TypeRef
from modeling.core.limits import NUMBER_DIGITS
from modeling.pg.ddl import read_ddl
from modeling.pg.types import canonical
from modeling.sample.rows import Dataset

INT_RANGES: dict[str, tuple[int, int]] = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
    "oid": (0, 2**32 - 1),
}
_STRING_TYPES = ("varchar", "char")
# Tags make fresh strings; ASCII first, then precomposed Latin, Greek and Cyrillic letters, so a
# char(1)/varchar(2) column still gets hundreds of distinct values (lengths count characters).
_TAG_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + "".join(
    chr(c)
    for lo, hi in ((0xC0, 0x24F), (0x391, 0x3A9), (0x3B1, 0x3C9), (0x410, 0x44F))
    for c in range(lo, hi + 1)
    if c not in (0xD7, 0xF7, 0x3A2)
)
_MAX_PROBES = 1_000_000
MAX_NOTED = 8  # attributes named in the note
# Plenty of digits for any numeric(p, s) PostgreSQL accepts (p <= 1000) and the sample values.
_CONTEXT = decimal.Context(prec=2100, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


@dataclass(frozen=True)
class IntBound:
    lo: int
    hi: int

    def fits(self, v: int) -> bool:
        return self.lo <= v <= self.hi

    def meet(self, other: IntBound) -> IntBound:
        return IntBound(max(self.lo, other.lo), min(self.hi, other.hi))


@dataclass(frozen=True)
class DecBound:
    """lo <= v <= hi with at most `scale` digits after the point."""

    lo: Decimal
    hi: Decimal
    scale: int

    @property
    def ulp(self) -> Decimal:
        return Decimal(1).scaleb(-self.scale, _CONTEXT)

    def fits(self, v: Decimal) -> bool:
        if not v.is_finite():
            return True  # NaN and infinities: not ours to change
        q = v.quantize(self.ulp, rounding=decimal.ROUND_DOWN, context=_CONTEXT)
        return q == v and self.lo <= v <= self.hi

    def meet(self, other: DecBound) -> DecBound:
        return DecBound(
            max(self.lo, other.lo), min(self.hi, other.hi), min(self.scale, other.scale)
        )


@dataclass(frozen=True)
class StrBound:
    """At most `length` characters; `exact` (char(n)): exactly `length`, no trailing blank.

    PostgreSQL pads a char(n) value with blanks to n characters and returns it padded, so only
    a value of exactly n characters not ending in a blank reads back as it was written.
    """

    length: int
    exact: bool = False

    def fits(self, v: str) -> bool:
        if self.exact:
            return len(v) == self.length and not v.endswith(" ")
        return len(v) <= self.length

    def meet(self, other: StrBound) -> StrBound:
        return StrBound(min(self.length, other.length), self.exact or other.exact)


@dataclass(frozen=True)
class FloatBound:
    """A `real` (float4) column: magnitudes within float4's normal range, else overflow (or a
    silent flush to zero). Only the sample's boundary floats go there; they are clamped."""

    largest: float = 2.0**100  # exact in float4, far from its 3.4e38 overflow
    smallest: float = 2.0**-100  # exact in float4, above its 1.2e-38 normal minimum

    def fits(self, v: float) -> bool:
        return v == 0 or self.smallest <= abs(v) <= self.largest


_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d")
_INTERVAL = re.compile(r"\d{2,}:[0-5]\d:[0-5]\d")


@dataclass(frozen=True)
class AddrBound:
    """A column whose values have a text form of their own holding a `string` attribute:
    `inet`/`cidr`/`macaddr`/`macaddr8` (addresses), `time`/`timetz`/`interval` (times of day
    and durations, which the model keeps as strings). A value must be in the text PostgreSQL
    returns (so the two oracles read back what was written); fresh values come from the
    documentation ranges (2001:db8::/32, 02:00:...) or count seconds."""

    type: str

    def fits(self, v: str) -> bool:
        if self.type.startswith("macaddr"):
            groups = 6 if self.type == "macaddr" else 8
            return re.fullmatch(rf"[0-9a-f]{{2}}(:[0-9a-f]{{2}}){{{groups - 1}}}", v) is not None
        if self.type == "time":
            return _TIME.fullmatch(v) is not None
        if self.type == "timetz":
            return v.endswith("+00") and _TIME.fullmatch(v[:-3]) is not None
        if self.type == "interval":
            return _INTERVAL.fullmatch(v) is not None
        try:
            if self.type == "cidr":
                return "/" in v and str(ipaddress.ip_network(v, strict=True)) == v
            return str(ipaddress.ip_address(v)) == v
        except ValueError:
            return False

    def candidate(self, n: int) -> str:
        if self.type.startswith("macaddr"):
            tail = (6 if self.type == "macaddr" else 8) - 2
            return ":".join(["02", "00", *(f"{b:02x}" for b in n.to_bytes(tail, "big"))])
        if self.type in ("time", "timetz", "interval"):
            seconds = n % 86400 if self.type != "interval" else n
            text = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            return text + "+00" if self.type == "timetz" else text
        host = str(ipaddress.ip_address(0x20010DB8 << 96 | n))
        return f"{host}/128" if self.type == "cidr" else host


_TEXT_FORMS = ("inet", "cidr", "macaddr", "macaddr8", "time", "timetz", "interval")


Bound = IntBound | DecBound | StrBound | FloatBound | AddrBound


# --------------------------------------------------------------------------- column types


def _base_type(type_text: str, catalog: Any, schema: str) -> Any:
    """The canonical PgType of a column, domains resolved to their base type (or None)."""
    t = canonical(type_text, schema)
    for _ in range(8):  # domains over domains, never a loop
        if not t.user or t.array:
            return t
        qname = tuple(t.name.rsplit(".", 1))
        found = catalog.lookup_type((qname[0], qname[1]), schema)
        domain = catalog.domains.get(found) if found is not None else None
        if domain is None:
            return t
        t = canonical(domain.base_type, domain.schema)
    return None


def _int_arg(args: tuple[str, ...], i: int) -> int | None:
    try:
        return int(args[i])
    except (IndexError, ValueError):
        return None


def column_bound(
    kind: str, type_text: str, catalog: Any, schema: str, element: bool = False
) -> Bound | None:
    """What values of model type `kind` a column of `type_text` holds as they are (None: any);
    `element`: what each element of a one-dimensional array column (`inet[]`) holds."""
    t = _base_type(type_text, catalog, schema)
    if t is None or t.user or t.array != (1 if element else 0):
        return None
    name, args = t.name, t.args
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        if kind == "integer":
            return IntBound(lo, hi)
        if kind == "decimal":
            return DecBound(Decimal(lo), Decimal(hi), 0)
        return None
    if name == "numeric":
        p, s = _int_arg(args, 0), _int_arg(args, 1)
        if p is None:
            return None  # unconstrained numeric holds any value as it is
        s = s or 0
        # DynamoDB numbers hold 38 significant digits: Prisma's DECIMAL(65,30) sample values
        # must fit both stores (a 65-digit one was refused by BatchWriteItem, a traceback)
        p = min(p, NUMBER_DIGITS)
        top = Decimal(1).scaleb(p - s, _CONTEXT)  # 10 ** (p - s)
        ulp = Decimal(1).scaleb(-s, _CONTEXT)
        if kind == "decimal":
            most = _CONTEXT.subtract(top, ulp)  # not the default 28-digit context: numeric(40,15)
            return DecBound(_CONTEXT.minus(most), most, s)
        if kind == "integer":
            limit = int(top.to_integral_value(rounding=decimal.ROUND_CEILING)) - 1
            return IntBound(-limit, limit) if limit >= 0 else None
        return None
    if name == "real" and kind == "float":
        return FloatBound()
    if name in _TEXT_FORMS and kind == "string":
        return AddrBound(name)
    if name in _STRING_TYPES and kind == "string":
        n = _int_arg(args, 0)
        if name == "char" and n is None:
            n = 1  # `char` alone is char(1)
        return StrBound(n, exact=name == "char") if n is not None and n > 0 else None
    return None


def _table(catalog: Any, entity: Entity) -> Any:
    schema = entity.schema or "public"
    t = catalog.tables.get((schema, entity.table))
    if t is not None:
        return t
    matches = [
        t
        for (s, n), t in catalog.tables.items()
        if s.lower() == schema.lower() and n.lower() == entity.table.lower()
    ]
    return matches[0] if len(matches) == 1 else None


def _column(table: Any, name: str) -> Any:
    col = table.columns.get(name)
    if col is not None:
        return col
    matches = [c for n, c in table.columns.items() if n.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None


def _remappable(a: Attribute) -> bool:
    if a.enum:
        return False
    if a.type.kind == "list" and a.type.item is not None:  # `inet[]`, `integer[]`: each element
        return a.type.item.item is None and a.type.item.kind in ("integer", "decimal", "string")
    return a.type.item is None and a.type.kind in ("integer", "decimal", "string")


def _kind(a: Attribute) -> str:
    """The value kind a remappable attribute's values (or list elements) have."""
    return a.type.item.kind if a.type.kind == "list" and a.type.item else a.type.kind


def _each(v: Any) -> list[Any]:
    """A value's remappable parts: itself, or a list's elements (NULL elements left out)."""
    if isinstance(v, list):
        return [x for x in v if x is not None]
    return [v]


def column_bounds(model: Model, ddl_text: str) -> dict[tuple[str, str], Bound]:
    """(entity, attribute) → the bound its source column puts on its values."""
    catalog = read_ddl(ddl_text).catalog
    out: dict[tuple[str, str], Bound] = {}
    for e in model.entities:
        table = _table(catalog, e)
        if table is None:
            continue
        for a in e.attributes:
            if not _remappable(a) and a.type != TypeRef("float"):
                continue
            col = _column(table, a.column_name)
            if col is None:
                continue
            element = a.type.kind == "list"
            bound = column_bound(_kind(a), col.type, catalog, table.schema, element)
            if bound is not None:
                out[(e.name, a.name)] = bound
    return out


# --------------------------------------------------------------------------- fresh values


def _tag(n: int) -> str:
    digits = ""
    base = len(_TAG_ALPHABET)
    while True:
        n, r = divmod(n, base)
        digits = _TAG_ALPHABET[r] + digits
        if n == 0:
            return digits


def _int_candidates(v: int, b: IntBound) -> Iterator[int]:
    """v folded into [lo, hi], then the next values up (wrapping)."""
    span = b.hi - b.lo + 1
    start = (v - b.lo) % span
    for i in range(min(span, _MAX_PROBES)):
        yield b.lo + (start + i) % span


def _dec_candidates(v: Decimal, b: DecBound) -> Iterator[Decimal]:
    """v cut to the scale and folded into [lo, hi], then the next steps up (wrapping)."""
    ulp = b.ulp
    q = v.quantize(ulp, rounding=decimal.ROUND_DOWN, context=_CONTEXT)
    span = _CONTEXT.add(_CONTEXT.subtract(b.hi, b.lo), ulp)
    if span <= 0:
        return
    offset = _CONTEXT.remainder(_CONTEXT.subtract(q, b.lo), span)
    if offset < 0:
        offset = _CONTEXT.add(offset, span)
    steps = int(_CONTEXT.divide_int(span, ulp))
    for i in range(min(steps, _MAX_PROBES)):
        o = _CONTEXT.remainder(_CONTEXT.add(offset, _CONTEXT.multiply(ulp, i)), span)
        yield _CONTEXT.add(b.lo, o).quantize(ulp, context=_CONTEXT)


def _str_candidates(v: str, b: StrBound, counter: list[int]) -> Iterator[str]:
    """v cut to the length, then the cut value with a fresh suffix (`k12` → `k1` + `0`...).

    For an exact (char(n)) bound a short v is first filled with `x` up to the length."""
    if b.exact:
        v = v + "x" * max(0, b.length - len(v))
    yield v[: b.length]
    for _ in range(_MAX_PROBES):
        tag = _tag(counter[0])
        counter[0] += 1
        if len(tag) > b.length:
            return
        yield v[: b.length - len(tag)] + tag


class _Remap:
    """The old → new map of one type kind, handing out values never seen in the dataset."""

    def __init__(self, present: set[Any]) -> None:
        self.taken = set(present)
        self.new: dict[Any, Any] = {}
        self.counters: dict[int, list[int]] = {}  # string tags, per length
        self.failed: list[Any] = []

    def assign(self, key: tuple[Any, int | str | None], b: Bound) -> None:
        """A fresh value for `key` (a value, and its char(n) group when split) fitting b."""
        v = key[0]
        if isinstance(b, IntBound):
            candidates: Iterator[Any] = _int_candidates(v, b)
        elif isinstance(b, DecBound):
            candidates = _dec_candidates(v, b)
        elif isinstance(b, StrBound):
            candidates = _str_candidates(v, b, self.counters.setdefault(b.length, [0]))
        elif isinstance(b, AddrBound):
            counter = self.counters.setdefault(-1, [1])
            candidates = (b.candidate(counter[0] + i) for i in range(_MAX_PROBES))
            counter[0] += 1
        else:  # floats are clamped (`_fit_floats`), never remapped
            return
        for c in candidates:
            if c not in self.taken and b.fits(c):
                self.taken.add(c)
                self.new[key] = c
                return
        self.failed.append(v)


# --------------------------------------------------------------------------- the rewrite


def _bounded_values(
    model: Model,
    data: Dataset,
    bounds: dict[tuple[str, str], Bound],
    kinds: dict[tuple[str, str], str],
) -> Iterator[tuple[str, Bound, Any]]:
    """(type kind, column bound, value) of every non-null value in a bounded column, in order."""
    for e in model.entities:
        for a in e.attributes:
            b = bounds.get((e.name, a.name))
            kind = kinds.get((e.name, a.name))
            if b is None or kind is None:
                continue
            for row in data.of(e.name):
                v = row.get(a.name)
                if v is not None:
                    for x in _each(v):
                        yield kind, b, x


def fit_dataset(model: Model, data: Dataset, bounds: dict[tuple[str, str], Bound]) -> list[str]:
    """Remap the values of `data` in place so each fits its bound; notes on what changed."""
    kinds: dict[tuple[str, str], str] = {}
    for e in model.entities:
        for a in e.attributes:
            if _remappable(a):
                kinds[(e.name, a.name)] = _kind(a)
    present: dict[str, set[Any]] = {"integer": set(), "decimal": set(), "string": set()}
    for e in model.entities:
        attrs = [
            (a.name, kinds[(e.name, a.name)]) for a in e.attributes if (e.name, a.name) in kinds
        ]
        for row in data.of(e.name):
            for name, k in attrs:
                v = row.get(name)
                if v is not None:
                    present[k].update(_each(v))
    # every occurrence of a misfit value must fit after the remap: meet the bounds of all of them
    misfits: dict[str, set[Any]] = {k: set() for k in present}
    for kind, b, v in _bounded_values(model, data, bounds, kinds):
        if not b.fits(v):
            misfits[kind].add(v)
    if not any(misfits.values()):
        return []
    # the tightest bound each misfit value must meet, in first-seen (dataset) order
    bounds_of: dict[str, dict[Any, list[Bound]]] = {k: {} for k in present}
    for kind, b, v in _bounded_values(model, data, bounds, kinds):
        if v in misfits[kind]:
            bounds_of[kind].setdefault(v, []).append(b)
    # a value in a char(n) column and in a narrower (or another char(m)) one: no single value
    # fits both, so each char(n) length gets its own fresh value (`_split_group`); equal in
    # the rows before, those columns could not hold equal values in PostgreSQL either
    split: dict[str, set[Any]] = {k: set() for k in present}
    need: dict[str, dict[tuple[Any, int | str | None], Bound]] = {k: {} for k in present}
    for kind, per_value in bounds_of.items():
        for v, bs in per_value.items():
            if not _compatible(bs):
                split[kind].add(v)
            for b in bs:
                key = (v, _split_group(b) if v in split[kind] else None)
                old = need[kind].get(key)
                need[kind][key] = b if old is None else _meet(old, b)
    remaps = {k: _Remap(present[k]) for k in present}
    for kind, wanted in need.items():
        for key, b in wanted.items():
            remaps[kind].assign(key, b)
    notes: list[str] = []
    for kind, r in remaps.items():
        if r.failed:
            notes.append(
                f"fit to source DDL: {len(r.failed)} {kind} value(s) have no free value that fits "
                f"(e.g. {r.failed[0]!r}); left as they are"
            )
    columns: list[str] = []
    total = 0
    for e in model.entities:
        for a in e.attributes:
            attr_kind = kinds.get((e.name, a.name))
            if attr_kind is None:
                continue
            new = remaps[attr_kind].new
            if not new:
                continue
            group = _split_group(bounds.get((e.name, a.name)))
            changed = 0
            for row in data.of(e.name):
                v = row.get(a.name)
                if v is None:
                    continue
                if isinstance(v, list):
                    mapped = [_mapped(x, group, split[attr_kind], new) for x in v]
                    if mapped != v:
                        row[a.name] = mapped
                        changed += 1
                    continue
                fitted = _mapped(v, group, split[attr_kind], new)
                if fitted is not v:
                    row[a.name] = fitted
                    changed += 1
            if changed:
                total += changed
                columns.append(f"{e.name}.{a.name} {changed}")
    if columns:
        shown = ", ".join(columns[:MAX_NOTED]) + (", ..." if len(columns) > MAX_NOTED else "")
        notes.insert(
            0,
            f"fit to source DDL: {total} sample values in {len(columns)} attributes remapped "
            f"to fit the DDL's column types ({shown})",
        )
    return notes


def _fit_floats(model: Model, data: Dataset, bounds: dict[tuple[str, str], Bound]) -> list[str]:
    """Clamp floats a `real` column cannot hold (the boundary values: 9.99e125, 1e-130) to the
    largest / smallest magnitude the bound keeps, sign kept; a note when any changed."""
    changed = 0
    for e in model.entities:
        for a in e.attributes:
            b = bounds.get((e.name, a.name))
            if not isinstance(b, FloatBound):
                continue
            for row in data.of(e.name):
                v = row.get(a.name)
                if isinstance(v, float) and not b.fits(v):
                    row[a.name] = math.copysign(b.largest if abs(v) > b.largest else b.smallest, v)
                    changed += 1
    if not changed:
        return []
    return [f"fit to source DDL: {changed} float value(s) clamped to what a real column holds"]


def _mapped(v: Any, group: int | str | None, split: set[Any], new: dict[Any, Any]) -> Any:
    """v's fresh value in a column of char(n) group `group` (v itself when not remapped)."""
    if v is None:
        return v
    key = (v, group if v in split else None)
    if key not in new and v in split:  # an unbounded column: any of them
        key = next((k for k in new if k[0] == v), key)
    return new.get(key, v)


def _split_group(b: Bound | None) -> int | str | None:
    """The group of a bound whose values no other bound's can be: a char(n) length, or a
    text form (`inet`, `interval`, ...); None for the others."""
    if isinstance(b, StrBound) and b.exact:
        return b.length
    return b.type if isinstance(b, AddrBound) else None


def _compatible(bs: list[Bound]) -> bool:
    """Whether one value can fit every bound: a char(n) value has exactly n characters, so
    another char(m) or a varchar shorter than n cannot hold it too; an interval is no time
    and no address."""
    groups = {_split_group(b) for b in bs} - {None}
    if len(groups) > 1:
        return False
    exact = [b.length for b in bs if isinstance(b, StrBound) and b.exact]
    return not exact or all(b.length >= exact[0] for b in bs if isinstance(b, StrBound))


def _meet(a: Bound, b: Bound) -> Bound:
    if isinstance(a, IntBound) and isinstance(b, IntBound):
        return a.meet(b)
    if isinstance(a, DecBound) and isinstance(b, DecBound):
        return a.meet(b)
    if isinstance(a, StrBound) and isinstance(b, StrBound):
        return a.meet(b)
    if isinstance(a, AddrBound) or isinstance(b, AddrBound):
        return a if isinstance(a, AddrBound) else b  # an address must be one wherever it is
    raise TypeError(f"bounds of different kinds: {a}, {b}")


def fit_to_source(model: Model, data: Dataset, ddl_text: str) -> list[str]:
    """Rewrite `data` in place so its values fit the source DDL's column types; notes.

    Never raises: a DDL that cannot be read (or anything else going wrong) gives a note and
    leaves the data as it was.
    """
    try:
        bounds = column_bounds(model, ddl_text)
    except Exception as exc:  # real-world input: a failure must not stop the run
        return [f"fit to source DDL: could not read the DDL ({type(exc).__name__}: {exc})"]
    snapshot = {k: [dict(r) for r in rows] for k, rows in data.rows.items()}
    try:
        floats = _fit_floats(model, data, bounds)
        return fit_dataset(model, data, bounds) + floats
    except Exception as exc:
        for k, rows in snapshot.items():  # restore the rows in place (callers hold the lists)
            for row, saved in zip(data.rows.get(k, []), rows, strict=False):
                row.clear()
                row.update(saved)
        return [f"fit to source DDL: skipped ({type(exc).__name__}: {exc})"]


def fit_to_ddl_file(model: Model, data: Dataset, path: Path | None) -> list[str]:
    """`fit_to_source` for the model's source DDL file, before anything is built from the rows.

    No file, or one that cannot be read: nothing to fit (the tables are generated from the
    model, and `prepare` reports an unreadable file when it falls back)."""
    if path is None or not path.is_file():
        return []
    try:
        text = inputs.read_text(path, "ddl")
    except (OSError, UnicodeDecodeError, inputs.InputFileError):
        return []
    return fit_to_source(model, data, text)


def ddl_file_bounds(model: Model, path: Path | None) -> dict[tuple[str, str], Bound]:
    """`column_bounds` of the model's source DDL file; empty when there is none or it cannot
    be read (the sample's boundary values then come from the model's types)."""
    if path is None or not path.is_file():
        return {}
    try:
        return column_bounds(model, path.read_text(encoding="utf-8"))
    except Exception:  # real-world input: an unreadable DDL only costs the declared ranges
        return {}
