"""Source values Python cannot hold: loaded as `Unreadable`, so one row fails, not a batch.

Standard library only, no `modeling` imports: the migration's `Source` uses it, and the
generated worker Lambda ships it verbatim as `migration/_loaders.py`, so both readers of rows
dead-letter the same rows with the same reason.

psycopg loads `date`, `timestamp`, `timestamptz` and `interval` into Python values of a
narrower range: PostgreSQL's `infinity` / `-infinity` and years past 9999 raise DataError
while the rows are fetched, which would fail every row of the batch (the chunk, the run, or an
SQS message). `guard_loaders` wraps psycopg's own loaders of those types on one connection:
a value they refuse becomes an `Unreadable` holding PostgreSQL's text (so does a `json`/`jsonb`
value nested too deeply for Python's JSON reader: a RecursionError, not DataError); the transformers refuse
it for that row (the column is named), and `unreadable_reason` says why. The psycopg classes
are passed in (`Loader`, `DataError`), so this module needs no third-party import.

`dead_letter_key` writes a dead-lettered row's key values: both readers record them alike, and
exactly, so `migrate validate` excuses that row and no other.

It also loads `inet` and `cidr` (`TEXT_TYPES`, `text_loaders`) as PostgreSQL's text of them: the model maps
them to `string` attributes, and psycopg's `ipaddress` objects are neither a str the
transformers take (every such row was a dead letter) nor always PostgreSQL's text
(`::ffff:1.2.3.4` is `::ffff:102:304` in Python before 3.13).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

GUARDED_TYPES = ("date", "timestamp", "timestamptz", "interval", "json", "jsonb")
_SHOWN = 120  # characters of an unreadable value a dead-letter reason quotes
TEXT_TYPES = ("inet", "cidr")  # loaded as PostgreSQL's text (text format)


class Unreadable:
    """A source value psycopg could not load (`text`: as PostgreSQL sent it; `reason`:
    psycopg's message). The row holding it cannot become an item."""

    __slots__ = ("reason", "text")

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason

    def __repr__(self) -> str:
        return repr(self.text)

    def __str__(self) -> str:
        return self.text

    def explain(self, attribute: str) -> str:
        """The dead-letter reason of a row holding this value in `attribute`."""
        shown = self.text
        if len(shown) > _SHOWN:
            shown = f"{shown[:_SHOWN]}... ({len(self.text)} chars)"
        return (
            f"UnreadableValue: {attribute}: the source holds {shown!r}, which Python "
            f"(and so an item) cannot hold ({self.reason}); fix the row, or map the column to "
            "a string attribute"
        )


def unreadable_reason(row: Mapping[str, Any], attribute: str | None) -> str | None:
    """`Unreadable.explain` when the row's `attribute` holds an unreadable value, else None."""
    if attribute is None:
        return None
    value = row.get(attribute)
    return value.explain(attribute) if isinstance(value, Unreadable) else None


def guard_loaders(conn: Any, loader_base: Any, data_error: type[Exception]) -> None:
    """Wrap the loaders of `GUARDED_TYPES` on psycopg connection `conn` (text and binary
    formats): a value the wrapped loader refuses with `data_error` loads as `Unreadable`.
    `loader_base`: `psycopg.adapt.Loader`; `data_error`: `psycopg.DataError`."""
    for name in GUARDED_TYPES:
        info = conn.adapters.types.get(name)
        if info is None:  # pragma: no cover - psycopg registers all of them
            continue
        for fmt in (0, 1):
            inner = conn.adapters.get_loader(info.oid, fmt)
            if inner is not None:
                conn.adapters.register_loader(info.oid, _guarded(loader_base, inner, data_error))
    text_loaders(conn, loader_base)


def text_loaders(conn: Any, loader_base: Any) -> None:
    """Load `TEXT_TYPES` as PostgreSQL's text on `conn` (a psycopg connection or cursor: a
    cursor's loaders are its own). The dual-write repository registers only these on its
    cursors: its items then equal the migration's, while a date Python cannot hold still
    raises inside its transaction (rolled back: neither store gets the row)."""
    for name in TEXT_TYPES:
        info = conn.adapters.types.get(name)
        if info is not None:
            conn.adapters.register_loader(info.oid, _as_text(loader_base))


def _as_text(loader_base: Any) -> type:
    """A text-format loader returning the value as PostgreSQL sent it."""

    def load(self: Any, data: Any) -> Any:
        return bytes(data).decode("utf-8")

    return type("TextOf", (loader_base,), {"format": 0, "load": load})


def _guarded(loader_base: Any, inner: Any, data_error: type[Exception]) -> type:
    """A loader class delegating to `inner` (psycopg's C loaders cannot be subclassed)."""

    def __init__(self: Any, oid: int, context: Any = None) -> None:
        loader_base.__init__(self, oid, context)
        self._inner = inner(oid, context)

    def load(self: Any, data: Any) -> Any:
        try:
            return self._inner.load(data)
        except data_error as exc:
            raw = bytes(data)
            text = raw.decode("utf-8", "replace") if inner.format == 0 else raw.hex()
            return Unreadable(text, str(exc).split(": '", 1)[0])
        except RecursionError:  # json/jsonb nested deeper than Python's JSON reader goes
            raw = bytes(data)
            text = raw.decode("utf-8", "replace").lstrip("\x01")  # jsonb binary: a version byte
            return Unreadable(text, "nested deeper than Python's JSON reader allows")

    return type(
        f"Guarded{inner.__name__}",
        (loader_base,),
        {"format": inner.format, "__init__": __init__, "load": load},
    )


_KEY_SHOWN = 200  # characters of a key value a dead-letter record shows before its digest


def dead_letter_key(value: Any) -> Any:
    """One key value of a dead-letter record, JSON-ready and exact: bytes as `\\x` + hex, a
    long text or binary value as its start, its length and its sha256 (an excerpt of 200
    characters made every 16-byte binary key `<16 bytes>`, and long text keys sharing their
    start the same record), dates and times in ISO form, numbers and text as they are."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if len(data) <= _KEY_SHOWN // 2:
            return "\\x" + data.hex()
        digest = hashlib.sha256(data).hexdigest()[:16]
        return f"\\x{data[:32].hex()}... ({len(data)} bytes, sha256 {digest})"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if len(text) <= _KEY_SHOWN:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{text[:_KEY_SHOWN]}... ({len(text)} chars, sha256 {digest})"
