"""Readable sample data for the docs: the verifier's rows, with values a person recognises.

`model verify` needs adversarial rows (separators inside strings, astral characters, 12-digit
quantities, negative line numbers) because they break plans. An architect reviewing a design on
the docs site needs the opposite: item collections that look like the application's data. This
module rewrites a generated `Dataset` value by value and keeps everything the layout depends on:

- **equalities and distinctness:** within an attribute, equal values stay equal and distinct
  values stay distinct (ties, partitions and unique keys survive); key and reference attributes
  share one map per type across entities, so a foreign key still names its parent's row;
- **NULLs:** a NULL stays NULL;
- **the model's rules:** enums keep their values, `min_length` and `max_length` are
  respected, a datetime stays aware or naive as it was, a set stays a non-empty set.

Values are chosen from the attribute's name and type (an `email` looks like an address, a
`price` like an amount, a `*_at` like a recent timestamp), deterministically: the same model and
rows give the same docs, byte for byte. When a readable value cannot keep those rules, the
original value is kept.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from modeling.core.errors import ModelingError
from modeling.core.ir import Attribute, Entity, Model, TypeRef
from modeling.sample.rows import Dataset, Row

FIRST = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances",
    "Dennis", "Radia", "Linus", "Katherine", "John", "Hedy", "Tim", "Sophie", "Carlos",
    "Amara", "Yuki", "Priya", "Omar", "Lena", "Mateo",
)  # fmt: skip
LAST = (
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson",
    "Allen", "Ritchie", "Perlman", "Torvalds", "Johnson", "McCarthy", "Lamarr", "Berners-Lee",
    "Wilson", "Garcia", "Okafor", "Tanaka", "Sharma", "Haddad", "Fischer", "Rossi",
)  # fmt: skip
CITIES = (
    "Lisbon", "Toronto", "Nairobi", "Osaka", "Berlin", "Austin", "Melbourne", "Oslo",
    "Seattle", "Lyon", "Pune", "Bogotá",
)  # fmt: skip
COUNTRIES = ("PT", "CA", "KE", "JP", "DE", "US", "AU", "NO", "FR", "IN", "CO", "GB")
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD")
ADJECTIVES = (
    "Classic", "Compact", "Organic", "Wireless", "Vintage", "Everyday", "Deluxe", "Smart",
    "Recycled", "Portable", "Modern", "Handmade",
)  # fmt: skip
NOUNS = (
    "Backpack", "Kettle", "Desk Lamp", "Notebook", "Headphones", "Water Bottle", "Sneakers",
    "Coffee Grinder", "Rain Jacket", "Bookshelf", "Yoga Mat", "Teapot",
)  # fmt: skip
WORDS = (
    "please", "deliver", "after", "noon", "gift", "wrap", "fragile", "leave", "at", "door",
    "thanks", "second", "floor", "call", "on", "arrival",
)  # fmt: skip
COLORS = ("red", "blue", "green", "black", "white", "grey", "navy", "olive")
SIZES = ("XS", "S", "M", "L", "XL")
STREETS = ("Main St", "Oak Ave", "Harbour Rd", "King St", "Elm Way", "Station Rd")
COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
    "Wonka", "Soylent", "Cyberdyne",
)  # fmt: skip

ZONES = ("Europe/Lisbon", "America/Toronto", "Africa/Nairobi", "Asia/Tokyo", "Europe/Berlin")
TAGS = ("new", "sale", "eco", "bestseller", "gift", "limited", "clearance", "featured")
SCOPES = ("read", "write", "admin", "billing", "deploy", "audit")
EVENTS = ("created", "updated", "commented", "assigned", "closed", "reopened")

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def readable(model: Model, data: Dataset, seed: int = 0) -> Dataset:
    """`data` with readable values, keeping equalities, distinctness, NULLs and the model's rules."""
    linked = _linked(model)
    shared: dict[str, _Domain] = {}  # one domain per type for key and reference attributes
    out = Dataset()
    for entity in model.entities:
        maps: dict[str, _Map] = {}
        for a in entity.attributes:
            if a.name in linked and a.type.item is None:
                domain = shared.setdefault(a.type.kind, _Domain(strict=True))
            else:
                domain = _Domain(strict=a.type.kind == "string")
            maps[a.name] = _Map(model, entity, a, seed, domain)
        rows: list[Row] = []
        for row in data.of(entity.name):
            try:
                rows.append({name: _convert(maps, name, value) for name, value in row.items()})
            except _Clash:
                return data
        out.rows[entity.name] = rows
    return out


def _convert(maps: dict[str, _Map], name: str, value: Any) -> Any:
    m = maps.get(name)
    if m is None or value is None:
        return value
    return m.get(value)


def _linked(model: Model) -> set[str]:
    """Attributes whose values name rows: keys, references, and attributes sharing a key's name."""
    names: set[str] = set()
    for entity in model.entities:
        names.update(entity.key)
        for a in entity.attributes:
            if a.references is not None:
                names.add(a.name)
    return names


class _Domain:
    """Values already mapped: per attribute, or shared by every key and reference attribute
    of one type (so a foreign key keeps naming its parent's row). A strict domain never maps
    two values to one (keys, unique strings); a loose one may (two quantities may both be 3)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.done: dict[Any, Any] = {}
        self.used: set[Any] = set()


class _Map:
    """One attribute's values to readable ones, within its domain."""

    def __init__(
        self, model: Model, entity: Entity, attribute: Attribute, seed: int, domain: _Domain
    ) -> None:
        self.attribute = attribute
        self.entity = entity
        self.domain = domain
        self.rng = random.Random(f"{seed}:{model.name}:{entity.name}:{attribute.name}")

    def get(self, value: Any) -> Any:
        d = self.domain
        key = _hashable(value)
        if key in d.done:
            return d.done[key]
        a = self.attribute
        new = value
        for attempt in range(4):
            n = len(d.done) + 1 + attempt * 1000
            made = _value(a.type, a, self.entity, value, n, self.rng)
            if attempt and isinstance(made, str):  # a small vocabulary ran out: number it
                made = f"{made} {len(d.done) + 1}"
            if _valid(a, made) and not (d.strict and _hashable(made) in d.used):
                new = made
                break
        if d.strict and _hashable(new) in d.used:
            raise _Clash  # the original is taken by a readable value: keep the whole dataset
        d.used.add(_hashable(new))
        d.done[key] = new
        return new


class _Clash(ModelingError):
    """A strict domain could not stay injective (caught in `readable`, never escapes)."""


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _hashable(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(_hashable(v) for v in value))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(_hashable(v) for v in value))
    if isinstance(value, datetime):
        return ("dt", value.isoformat())  # aware and naive never compare equal by accident
    return (type(value).__name__, value)


def _valid(a: Attribute, value: Any) -> bool:
    if a.enum is not None and isinstance(value, str) and value not in a.enum:
        return False
    if a.min_length is not None and isinstance(value, str | bytes) and len(value) < a.min_length:
        return False
    if a.max_length is not None and isinstance(value, str | bytes):
        return len(value) <= a.max_length
    return not (isinstance(value, frozenset) and not value)


def _words(name: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", name.lower())) | {name.lower()}


def _value(
    t: TypeRef, a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random
) -> Any:
    k = t.kind
    if k == "list" and isinstance(original, list):
        assert t.item is not None
        item = t.item
        return [_value(item, a, entity, v, n + i, rng) for i, v in enumerate(original)]
    if k == "set" and isinstance(original, frozenset):
        assert t.item is not None
        item = t.item
        made = {_value(item, a, entity, v, n + i, rng) for i, v in enumerate(original)}
        return frozenset(made) if len(made) == len(original) else original
    if a.enum is not None or k in ("boolean", "uuid", "binary"):
        return original
    maker = _MAKERS.get(k)
    return original if maker is None else maker(a, entity, original, n, rng)


def _string(a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random) -> str:
    w = _words(a.name)
    first, last = FIRST[(n - 1) % len(FIRST)], LAST[(n * 7) % len(LAST)]
    if "email" in w:
        return f"{first.lower()}.{last.lower().replace('-', '')}{n}@example.com"
    if "phone" in w:
        return f"+1 555 01{n % 100:02d} {1000 + n * 37 % 9000:04d}"
    if w & {"first", "given"} and "name" in w:
        return first
    if w & {"last", "family", "surname"}:
        return last
    if w & {"url", "website", "homepage", "link"}:
        return f"https://example.com/{entity.name.lower()}/{n}"
    if w & {"city", "town"}:
        return CITIES[n % len(CITIES)]
    if w & {"country", "region"}:
        return COUNTRIES[n % len(COUNTRIES)] if "region" not in w else f"eu-west-{n % 3 + 1}"
    if w & {"timezone", "tz"}:
        return ZONES[n % len(ZONES)]
    if w & {"barcode", "ean", "upc", "gtin"}:
        return f"40{n * 7919 % 10**11:011d}"
    if w & {"tags", "tag", "labels", "label"}:
        return TAGS[n % len(TAGS)] if n <= len(TAGS) else f"{TAGS[n % len(TAGS)]}-{n}"
    if w & {"scopes", "scope", "permissions", "permission"}:
        return SCOPES[n % len(SCOPES)] if n <= len(SCOPES) else f"{SCOPES[n % len(SCOPES)]}:{n}"
    if w & {"type", "kind", "event", "action"}:
        return EVENTS[n % len(EVENTS)]
    if "currency" in w:
        return CURRENCIES[n % len(CURRENCIES)]
    if w & {"color", "colour"}:
        return COLORS[n % len(COLORS)]
    if "size" in w:
        return SIZES[n % len(SIZES)]
    if w & {"address", "street"}:
        return f"{10 + n * 13 % 190} {STREETS[n % len(STREETS)]}, {CITIES[n % len(CITIES)]}"
    if w & {"company", "organization", "organisation", "tenant", "account"} and "id" not in w:
        return COMPANIES[(n - 1) % len(COMPANIES)] + ("" if n <= len(COMPANIES) else f" {n}")
    if "sku" in w or "code" in w:
        return f"{entity.name[:3].upper()}-{1000 + n}"
    if "slug" in w or "path" in w:
        return f"{ADJECTIVES[n % len(ADJECTIVES)]}-{NOUNS[n % len(NOUNS)]}-{n}".lower().replace(
            " ", "-"
        )
    if w & {"title", "product"}:
        return f"{ADJECTIVES[n % len(ADJECTIVES)]} {NOUNS[(n // 3) % len(NOUNS)]}" + (
            "" if n <= len(NOUNS) else f" {n}"
        )
    if "name" in w:
        if entity.name.lower() in ("customer", "user", "person", "member", "employee", "author"):
            return f"{first} {last}"
        return f"{ADJECTIVES[n % len(ADJECTIVES)]} {entity.name} {n}"
    if w & {"notes", "note", "description", "comment", "body", "text", "reason", "message"}:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize() + "."
    if w & {"number", "ref", "reference", "tracking"}:
        return f"{entity.name[:2].upper()}{100000 + n * 7919 % 900000}"
    if "id" in w or a.name.endswith("_id") or a.name in entity.key:
        stem = re.sub(r"_?id$", "", a.name) or entity.name.lower()
        return f"{stem}_{n:04d}"
    return f"{a.name.replace('_', ' ')} {n}"


def _integer(a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random) -> int:
    w = _words(a.name)
    if w & {"quantity", "qty", "count", "units", "on", "hand", "reserved", "stock"}:
        return rng.randint(1, 24)
    if w & {"year"}:
        return rng.randint(1995, 2026)
    if w & {"rating", "stars", "score"}:
        return rng.randint(1, 5)
    if w & {"grams", "weight"}:
        return rng.randint(80, 4000)
    if w & {"no", "line", "position", "rank", "seq", "sequence", "index"}:
        return n
    if "id" in w or a.name.endswith("_id") or a.name in entity.key:
        return 1000 + n
    if w & {"cents", "amount", "price", "total"}:
        return rng.randint(199, 49999)
    return rng.randint(1, 500)


def _decimal(a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random) -> Decimal:
    w = _words(a.name)
    if w & {"rate", "percent", "ratio", "discount"}:
        return Decimal(rng.randint(0, 100)) / 100
    if w & {"weight", "kg"}:
        return Decimal(rng.randint(100, 20000)) / 1000
    return Decimal(rng.randint(199, 49999)) / 100  # an amount: 1.99 .. 499.99


def _float(a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random) -> float:
    w = _words(a.name)
    if w & {"lat", "latitude"}:
        return round(rng.uniform(-60, 60), 4)
    if w & {"lng", "lon", "longitude"}:
        return round(rng.uniform(-170, 170), 4)
    return round(rng.uniform(1, 500), 2)


def _date(a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random) -> date:
    if _words(a.name) & {"birth", "dob", "birthday"}:
        return date(1960, 1, 1) + timedelta(days=rng.randint(0, 45 * 365))
    return START.date() + timedelta(days=rng.randint(0, 700))


def _datetime(a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random) -> datetime:
    at = START + timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 12 * 60))
    at = at.replace(minute=at.minute - at.minute % 5)
    if isinstance(original, datetime) and original.tzinfo is None:
        return at.replace(tzinfo=None)
    return at


def _map(a: Attribute, entity: Entity, original: Any, n: int, rng: random.Random) -> Any:
    if not isinstance(original, dict):
        return original
    if _words(a.name) & {"address", "shipping", "billing"}:
        return {
            "street": f"{10 + n * 13 % 190} {STREETS[n % len(STREETS)]}",
            "city": CITIES[n % len(CITIES)],
            "country": COUNTRIES[n % len(COUNTRIES)],
        }
    return {"color": COLORS[n % len(COLORS)], "size": SIZES[n % len(SIZES)]}


_MAKERS: dict[str, Callable[[Attribute, Entity, Any, int, random.Random], Any]] = {
    "string": _string,
    "integer": _integer,
    "decimal": _decimal,
    "float": _float,
    "date": _date,
    "datetime": _datetime,
    "map": _map,
}
