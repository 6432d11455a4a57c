"""Rows/s of the generated transformer vs boto3's TypeSerializer vs a hand-written builder.

Run: .venv/bin/python bench/transform.py [--rows N] [--repeat R]

One realistic entity, `Order` (16 attributes of mixed types: uuid, string, enum, decimal,
integer, float, boolean, date, datetimes, an optional text, a string set and a jsonb map;
table key plus 2 GSIs), rows shaped as psycopg returns them (aware UTC datetimes, Decimal,
UUID, dict for jsonb, list for text[]), some optional attributes NULL. Three builders make
the same low-level item from the same rows, in the same run; each is timed `--repeat` times
and the best time counts (the least disturbed by the machine):

  generated       `order_to_item` from `modeling.emit.transformers` (type checks, NULLs,
                  38-digit and 400 KB checks, keys through the slot codec)
  TypeSerializer  the usual boto3 path: a Python dict with keys computed (modeling.runtime.keys),
                  numbers as Decimal, then `TypeSerializer().serialize` per attribute
  hand-optimal    a builder written by hand for this entity, with the same checks as the
                  generated code, as directly as Python allows
  bare            (reference only) the hand builder without any check

Before timing, every builder's items are compared with the generated ones: the comparison
is between equal outputs. Ends with `vs TypeSerializer: N.Nx` (our speed-up, goal >= 3x)
and `vs hand-optimal: N.Nx` (our time over its time, goal <= 1.2x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from modeling.core import ir
from modeling.emit.transformers import emit_transformers
from modeling.runtime import keys

Item = dict[str, dict[str, Any]]


def attr(name: str, type_: str, required: bool = True) -> ir.Attribute:
    return ir.Attribute(name, ir.TypeRef.parse(type_), required=required)


def order_model() -> tuple[ir.Model, ir.Layout]:
    order = ir.Entity(
        "Order",
        "orders",
        ("order_id",),
        (
            attr("order_id", "uuid"),
            attr("customer_id", "uuid"),
            attr("status", "string"),
            attr("total", "decimal"),
            attr("currency", "string"),
            attr("item_count", "integer"),
            attr("discount", "float", required=False),
            attr("paid", "boolean"),
            attr("placed_at", "datetime"),
            attr("shipped_at", "datetime", required=False),
            attr("delivery_date", "date", required=False),
            attr("notes", "string", required=False),
            attr("coupon", "string", required=False),
            attr("tags", "set<string>"),
            attr("address", "map"),
            attr("external_ref", "string"),
        ),
    )
    model = ir.Model("bench", ir.TableSettings("Bench"), (order,), ())

    def index(name: str, kind: str, pk: str, sk: str) -> ir.Index:
        return ir.Index(name, kind, ir.KeyAttribute(pk), ir.KeyAttribute(sk))  # type: ignore[arg-type]

    layout = ir.Layout(
        model="bench",
        table_name="Bench",
        indexes=(
            index("table", "table", "PK", "SK"),
            index("GSI1", "gsi", "GSI1PK", "GSI1SK"),
            index("GSI2", "gsi", "GSI2PK", "GSI2SK"),
        ),
        entities=(
            ir.EntityLayout(
                "Order",
                "Order",
                (
                    ir.EntityKey("table", "ORDER#{order_id}", "ORDER"),
                    ir.EntityKey("GSI1", "CUSTOMER#{customer_id}", "ORDER#{placed_at}"),
                    ir.EntityKey("GSI2", "STATUS#{status}", "ORDER#{placed_at}#{order_id}"),
                ),
            ),
        ),
        plans=(),
    )
    return model, layout


def rows(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(n):
        placed = base + dt.timedelta(
            seconds=rng.randrange(40_000_000), microseconds=rng.randrange(10**6)
        )
        shipped = placed + dt.timedelta(days=rng.randrange(1, 9)) if rng.random() < 0.7 else None
        out.append(
            {
                "order_id": uuid.UUID(int=rng.getrandbits(128)),
                "customer_id": uuid.UUID(int=rng.getrandbits(128)),
                "status": rng.choice(("pending", "paid", "shipped", "delivered", "cancelled")),
                "total": Decimal(rng.randrange(100, 10_000_000)).scaleb(-2),
                "currency": rng.choice(("EUR", "USD", "GBP")),
                "item_count": rng.randrange(1, 40),
                "discount": rng.choice((None, 0.05, 0.1, 0.15)),
                "paid": rng.random() < 0.8,
                "placed_at": placed,
                "shipped_at": shipped,
                "delivery_date": shipped.date() + dt.timedelta(days=2) if shipped else None,
                "notes": rng.choice((None, None, "leave at the door", "gift wrap, no invoice")),
                "coupon": rng.choice((None, None, None, "SPRING24")),
                "tags": rng.sample(["web", "app", "b2b", "promo", "express"], rng.randrange(1, 4)),
                "address": {
                    "street": f"{rng.randrange(1, 300)} Main Street",
                    "city": rng.choice(("Berlin", "Lyon", "Leeds")),
                    "zip": f"{rng.randrange(10000, 99999)}",
                    "geo": [Decimal("52.52"), Decimal("13.405")],
                },
                "external_ref": f"ext-{i:08d}",
            }
        )
    return out


# --------------------------------------------------------------------------- TypeSerializer path


def serializer_builder() -> Callable[[Mapping[str, Any]], Item]:
    serialize = TypeSerializer().serialize
    enc = keys.encode

    def iso(value: dt.datetime) -> str:
        return enc("datetime", value)

    def build(row: Mapping[str, Any]) -> Item:
        order_id = str(row["order_id"])
        placed = iso(row["placed_at"])
        doc: dict[str, Any] = {
            "_type": "Order",
            "order_id": order_id,
            "customer_id": str(row["customer_id"]),
            "status": row["status"],
            "total": row["total"],
            "currency": row["currency"],
            "item_count": row["item_count"],
            "paid": row["paid"],
            "placed_at": placed,
            "tags": set(row["tags"]),
            "address": row["address"],
            "external_ref": row["external_ref"],
            "PK": f"ORDER#{order_id}",
            "SK": "ORDER",
            "GSI1PK": f"CUSTOMER#{row['customer_id']}",
            "GSI1SK": f"ORDER#{placed}",
            "GSI2PK": f"STATUS#{enc('string', row['status'])}",
            "GSI2SK": f"ORDER#{placed}#{order_id}",
        }
        if row["discount"] is not None:
            doc["discount"] = Decimal(repr(row["discount"]))
        if row["shipped_at"] is not None:
            doc["shipped_at"] = iso(row["shipped_at"])
        if row["delivery_date"] is not None:
            doc["delivery_date"] = row["delivery_date"].isoformat()
        for name in ("notes", "coupon"):
            if row[name] is not None:
                doc[name] = row[name]
        item = {k: serialize(v) for k, v in doc.items()}
        item["tags"]["SS"].sort()  # the serializer keeps set order; sort as ours does
        return item

    return build


# --------------------------------------------------------------------------- by hand

_N38 = 10**38
_DATETIME = dt.datetime
_DATE = dt.date
_UTC = dt.UTC


def _dt_text(v: dt.datetime) -> str:
    if v.tzinfo is not _UTC:
        raise ValueError("the hand builder knows UTC rows only")
    return v.isoformat()[:-6] + ("Z" if v.microsecond else ".000000Z")


def _json(v: Any) -> tuple[dict[str, Any], int]:
    """jsonb -> AttributeValue and an upper bound of its size, in one pass (by hand)."""
    cls = v.__class__
    if cls is str:
        return {"S": v}, 4 * len(v)
    if cls is dict:
        m = {}
        n = 3
        for k, x in v.items():
            av, size = _json(x)
            m[k] = av
            n += 4 * len(k) + 1 + size
        return {"M": m}, n
    if cls is Decimal:
        t = str(v)
        if "E" in t or len(t) > 38 or not "0" <= t[-1] <= "9":
            raise ValueError("a number the hand builder does not handle")
        return {"N": t}, 21
    if cls is list:
        out = []
        n = 3
        for x in v:
            av, size = _json(x)
            out.append(av)
            n += 1 + size
        return {"L": out}, n
    if cls is int:
        if not -_N38 < v < _N38:
            raise ValueError("number DynamoDB cannot store")
        return {"N": str(v)}, 21
    if v is None:
        return {"NULL": True}, 1
    if cls is bool:
        return {"BOOL": v}, 1
    raise ValueError(f"not JSON: {v!r}")


def _size(v: dict[str, Any]) -> int:
    for tag, x in v.items():
        if tag == "S":
            return len(x.encode())
        if tag == "N":
            return 1 + (len(x.lstrip("-").replace(".", "").strip("0")) + 1) // 2
        if tag in ("BOOL", "NULL"):
            return 1
        if tag == "SS":
            return sum(len(s.encode()) for s in x)
        if tag == "L":
            return 3 + sum(1 + _size(e) for e in x)
        if tag == "M":
            return 3 + sum(len(k.encode()) + 1 + _size(e) for k, e in x.items())
    return 0


def hand_builder(check: bool = True) -> Callable[[Mapping[str, Any]], Item]:
    escape = keys._encode_string

    def build(row: Mapping[str, Any]) -> Item:
        oid = row["order_id"]
        cid = row["customer_id"]
        status = row["status"]
        total = row["total"]
        count = row["item_count"]
        placed = row["placed_at"]
        if check:
            if oid.__class__ is not uuid.UUID or cid.__class__ is not uuid.UUID:
                raise ValueError("uuid")
            for s in (status, row["currency"], row["external_ref"]):
                if s.__class__ is not str:
                    raise ValueError("str")
            if total.__class__ is not Decimal or count.__class__ is not int:
                raise ValueError("number")
            if row["paid"] is not True and row["paid"] is not False:
                raise ValueError("bool")
            if placed.__class__ is not _DATETIME:
                raise ValueError("datetime")
        o = str(oid)
        c = str(cid)
        p = _dt_text(placed)
        t = str(total)
        if check and ("E" in t or len(t) > 38 or not "0" <= t[-1] <= "9"):
            raise ValueError("decimal out of range")
        if check and not -_N38 < count < _N38:
            raise ValueError("integer out of range")
        s = escape(status)
        address, n = _json(row["address"])
        tag_set = set(row["tags"])
        if check:
            for tag in tag_set:
                if tag.__class__ is not str:
                    raise ValueError("str")
                n += 4 * len(tag)
        tags = sorted(tag_set)
        item: Item = {
            "_type": {"S": "Order"},
            "order_id": {"S": o},
            "customer_id": {"S": c},
            "status": {"S": status},
            "total": {"N": t},
            "currency": {"S": row["currency"]},
            "item_count": {"N": str(count)},
            "paid": {"BOOL": row["paid"]},
            "placed_at": {"S": p},
            "address": address,
            "external_ref": {"S": row["external_ref"]},
            "PK": {"S": "ORDER#" + o},
            "SK": {"S": "ORDER"},
            "GSI1PK": {"S": "CUSTOMER#" + c},
            "GSI1SK": {"S": "ORDER#" + p},
            "GSI2PK": {"S": "STATUS#" + s},
            "GSI2SK": {"S": f"ORDER#{p}#{o}"},
        }
        n += 4 * (len(status) + len(row["currency"]) + len(row["external_ref"]) + len(s))
        if tags:
            item["tags"] = {"SS": tags}
        d = row["discount"]
        if d is not None:
            r = repr(d)
            if check and ("e" in r or "n" in r):
                raise ValueError("float out of range")
            item["discount"] = {"N": r}
        v = row["shipped_at"]
        if v is not None:
            item["shipped_at"] = {"S": _dt_text(v)}
        v = row["delivery_date"]
        if v is not None:
            if check and v.__class__ is not _DATE:
                raise ValueError("date")
            item["delivery_date"] = {"S": v.isoformat()}
        for name in ("notes", "coupon"):
            v = row[name]
            if v is not None:
                if check and v.__class__ is not str:
                    raise ValueError("str")
                item[name] = {"S": v}
                n += 4 * len(v)
        if check:
            if len(s) > 500:  # GSI2PK: 2048 bytes at most
                raise ValueError("key too long")
            if n > 409_000 and sum(len(k.encode()) + _size(x) for k, x in item.items()) > 409_600:
                raise ValueError("item over 400 KB")
        return item

    return build


# --------------------------------------------------------------------------- timing


def generated_builder(tmp: Path) -> Callable[[Mapping[str, Any]], Item]:
    model, layout = order_model()
    package = tmp / "bench_generated"
    package.mkdir()
    for rel, text in emit_transformers(layout, model).items():
        (package / rel).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(tmp))
    module = importlib.import_module("bench_generated.transformers")
    fn: Callable[[Mapping[str, Any]], Item] = module.order_to_item
    return fn


def best_time(
    build: Callable[[Mapping[str, Any]], Item], data: list[dict[str, Any]], repeat: int
) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for row in data:
            build(row)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    data = rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        generated = generated_builder(Path(tmp))
        builders = {
            "generated": generated,
            "TypeSerializer": serializer_builder(),
            "hand-optimal": hand_builder(check=True),
            "bare (no checks)": hand_builder(check=False),
        }
        reference = [generated(r) for r in data]
        for name, build in builders.items():
            if [build(r) for r in data] != reference:
                print(f"{name} builds different items than the generated code", file=sys.stderr)
                return 1
        # interleave the repetitions' order between builders so drift hits them alike
        times = {name: float("inf") for name in builders}
        for _ in range(args.repeat):
            for name, build in builders.items():
                times[name] = min(times[name], best_time(build, data, 1))
    print(f"{args.rows} Order rows (16 attributes, table key + 2 GSIs), best of {args.repeat}")
    for name, seconds in times.items():
        print(
            f"  {name:<18} {args.rows / seconds:>12,.0f} rows/s  ({seconds * 1e6 / args.rows:.2f} µs/row)"
        )
    print(f"vs TypeSerializer: {times['TypeSerializer'] / times['generated']:.1f}x")
    print(f"vs hand-optimal: {times['generated'] / times['hand-optimal']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
