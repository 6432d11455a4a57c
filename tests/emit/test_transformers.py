"""Generated transformers: compiled, imported and run from a temporary package.

What is checked: row -> item -> row is the identity for every type (hypothesis); the items
equal, attribute for attribute, what `modeling.sample.codec` (model verify's codec) builds for
the same rows, also on the example models' sample data; DynamoDB's limits (38 significant
digits, the number range, NaN, 400 KB counted the DynamoDB way, empty and over-long keys) end
in typed errors naming the entity, the row key and the attribute; sparse keys vanish with a
NULL slot; the table's TTL datetime is N epoch seconds (sub-second part truncated; its key slot
keeps the codec's text); pattern key builders produce the same key text as the items; the generated modules
import only the standard library, pass `mypy --strict`, and are emitted byte-identically twice.
"""

from __future__ import annotations

import ast
import calendar
import datetime as dt
import importlib
import itertools
import json
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir, limits
from modeling.emit import emitters
from modeling.emit.client import emit_client
from modeling.emit.transformers import emit_transformers
from modeling.sample import codec as verify_items
from modeling.sample.generate import generate

ROOT = Path(__file__).resolve().parents[2]
_COUNTER = itertools.count()


# --------------------------------------------------------------------------- a model with every type


def attr(name: str, type_: str, required: bool = True) -> ir.Attribute:
    return ir.Attribute(name, ir.TypeRef.parse(type_), required=required)


def _index(name: str, kind: str, pk: str, sk: str | None) -> ir.Index:
    return ir.Index(
        name,
        kind,  # type: ignore[arg-type]
        ir.KeyAttribute(pk),
        ir.KeyAttribute(sk) if sk else None,
        alias=name.lower(),
    )


THING_ATTRIBUTES = (
    attr("thing_id", "uuid"),
    attr("name", "string"),
    attr("code", "string", required=False),
    attr("qty", "integer"),
    attr("price", "decimal"),
    attr("ratio", "float"),
    attr("active", "boolean"),
    attr("born", "date"),
    attr("seen_at", "datetime"),
    attr("blob", "binary", required=False),
    attr("meta", "map", required=False),
    attr("tags", "set<string>"),
    attr("scores", "set<integer>", required=False),
    attr("amounts", "set<decimal>", required=False),
    attr("blobs", "set<binary>", required=False),
    attr("history", "list<datetime>", required=False),
    attr("notes", "list<string>"),
    attr("big", "integer", required=False),
    attr("expires_at", "datetime", required=False),  # the table's TTL: N epoch seconds
)


def kitchen() -> tuple[ir.Model, ir.Layout]:
    """Thing (every type; keys on booleans, dates, datetimes, numbers, binary) and Part."""
    thing = ir.Entity("Thing", "things", ("thing_id",), THING_ATTRIBUTES)
    part = ir.Entity(
        "Part",
        "parts",
        ("thing_id", "part_id"),
        (attr("thing_id", "uuid"), attr("part_id", "string"), attr("weight", "decimal")),
        parent="Thing",
    )
    get_thing = ir.AccessPattern("get_thing", ("Thing",), (ir.Condition("thing_id", "="),))
    model = ir.Model(
        name="kitchen",
        table=ir.TableSettings("Kitchen", ttl="expires_at"),
        entities=(thing, part),
        patterns=(get_thing,),
        file="models/kitchen.yaml",
        sha256="0" * 64,
    )
    layout = ir.Layout(
        model="kitchen",
        table_name="Kitchen",
        indexes=(
            _index("table", "table", "PK", "SK"),
            _index("GSI1", "gsi", "GSI1PK", "GSI1SK"),
            _index("GSI2", "gsi", "GSI2PK", "GSI2SK"),
            _index("GSI3", "gsi", "GSI3PK", "GSI3SK"),
            _index("GSI4", "gsi", "GSI4PK", "GSI4SK"),
        ),
        entities=(
            ir.EntityLayout(
                "Thing",
                "Thing",
                (
                    ir.EntityKey("table", "THING#{thing_id}", "THING"),
                    ir.EntityKey(
                        "GSI1", "CAT#{active}#{born}", "THING#{seen_at}#{qty}#{price}#{ratio}"
                    ),
                    ir.EntityKey("GSI2", "CODE#{code}", "{name}", sparse=True, sparse_on=("code",)),
                    ir.EntityKey("GSI3", "BLOB#{blob}", "THING", sparse=True, sparse_on=("blob",)),
                    ir.EntityKey(
                        "GSI4", "EXPIRY", "{expires_at}", sparse=True, sparse_on=("expires_at",)
                    ),
                ),
            ),
            ir.EntityLayout(
                "Part",
                "Part",
                (ir.EntityKey("table", "THING#{thing_id}", "PART#{part_id}"),),
            ),
        ),
        plans=(
            ir.PatternPlan(
                pattern="get_thing",
                entities=("Thing",),
                index="table",
                operation="GetItem",
                pk=ir.KeyValue(
                    "THING#{thing_id}", (ir.SlotBinding("thing_id", "thing_id", "uuid"),)
                ),
                sk=ir.SortKeyCondition("eq", (ir.KeyValue("THING"),)),
                unique=True,
                params=("thing_id",),
            ),
        ),
    )
    return model, layout


def load_package(
    layout: ir.Layout, model: ir.Model, root: Path, client: bool = False
) -> ModuleType:
    """Write the generated files as a fresh package under `root` and import it."""
    name = f"gen_{model.name.replace('-', '_')}_{next(_COUNTER)}"
    package = root / name
    package.mkdir(parents=True)
    files = emit_transformers(layout, model)
    if client:
        files = {**files, **emit_client(layout, model)}
    for rel, text in files.items():
        (package / rel).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        importlib.import_module(name)
        return importlib.import_module(f"{name}.transformers")
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def t(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    model, layout = kitchen()
    return load_package(layout, model, tmp_path_factory.mktemp("gen"))


# --------------------------------------------------------------------------- strategies

UTC = dt.UTC
text = st.text(max_size=30)
decimals = st.builds(
    lambda m, e: Decimal(m).scaleb(e) if m else Decimal(0),
    st.integers(-(10**38) + 1, 10**38 - 1),
    st.integers(-120, 80),
).filter(lambda d: not d or -130 <= d.adjusted() <= 125)
floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda x: x == 0 or 1e-130 <= abs(x) < 1e125
)
datetimes = st.datetimes(
    min_value=dt.datetime(2, 1, 1),
    max_value=dt.datetime(9998, 12, 31),
    timezones=st.none() | st.just(UTC) | st.timezones(),
)
# the TTL attribute is stored as whole epoch seconds: only whole seconds round-trip exactly
whole_second_datetimes = datetimes.map(lambda d: d.replace(microsecond=0))
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | decimals.filter(lambda d: d == 0 or -38 <= d.adjusted() <= 38)
    | text
)
json_values = st.recursive(
    json_scalars,
    # map keys are attribute names: DynamoDB refuses an empty one (see test_map_limits)
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(text.filter(bool), inner, max_size=4)
    ),
    max_leaves=12,
)


def thing_rows(min_set: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    def opt(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.none() | s

    return st.fixed_dictionaries(
        {
            "thing_id": st.uuids(),
            "name": text.filter(bool),
            "code": opt(text),
            "qty": st.integers(-(10**19), 9 * 10**19 - 1),
            "price": decimals,
            "ratio": floats,
            "active": st.booleans(),
            "born": st.dates(),
            "seen_at": datetimes,
            "blob": opt(st.binary(max_size=20)),
            "meta": opt(st.dictionaries(text.filter(bool), json_values, max_size=4)),
            "tags": st.frozensets(text, min_size=min_set, max_size=4),
            "scores": opt(
                st.frozensets(st.integers(-(10**30), 10**30), min_size=min_set, max_size=4)
            ),
            "amounts": opt(st.frozensets(decimals, min_size=min_set, max_size=4)),
            "blobs": opt(st.frozensets(st.binary(max_size=8), min_size=min_set, max_size=4)),
            "history": opt(st.lists(datetimes, max_size=3)),
            "notes": st.lists(text, max_size=3),
            "big": opt(st.integers(-(10**37), 10**37) | st.just(10**60) | st.just(-(10**125))),
            "expires_at": opt(whole_second_datetimes),
        }
    )


def expected_row(row: dict[str, Any]) -> dict[str, Any]:
    """What from_item must return: datetimes aware in UTC (naive taken as UTC), an empty
    required set as frozenset(), an empty optional set as None (both are omitted)."""

    def utc(value: dt.datetime) -> dt.datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    out = dict(row)
    out["seen_at"] = utc(row["seen_at"])
    if row["expires_at"] is not None:
        out["expires_at"] = utc(row["expires_at"])
    if row["history"] is not None:
        out["history"] = [utc(v) for v in row["history"]]
    for name in ("scores", "amounts", "blobs"):
        if row[name] is not None and not row[name]:
            out[name] = None
    return out


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- round trips


@SETTINGS
@given(row=thing_rows())
def test_round_trip_every_type(t: ModuleType, row: dict[str, Any]) -> None:
    item = t.thing_to_item(row)
    entity, back = t.from_item(item)
    assert entity == "Thing"
    expected = expected_row(row)
    assert back == expected
    # the datetime really is UTC-aware, not just equal
    assert back["seen_at"].tzinfo is not None
    assert back["seen_at"].utcoffset() == dt.timedelta(0)


@SETTINGS
@given(row=thing_rows(min_set=1))
def test_items_equal_verify_codec(t: ModuleType, row: dict[str, Any]) -> None:
    """Byte-identical to model verify's library codec (sets non-empty: verify rejects empty)."""
    model, layout = kitchen()
    entity = model.entity("Thing")
    assert entity is not None
    ours = t.thing_to_item(row)
    theirs = verify_items.to_item(model, layout, entity, row)
    assert _canonical(ours) == _canonical(theirs)


def _canonical(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, default=lambda b: b.hex())


def test_items_equal_verify_codec_on_example_models(tmp_path: Path) -> None:
    """Every example model's sample rows, through both codecs, give equal items."""
    checked = 0
    for path in sorted((ROOT / "models").glob("*.yaml")):
        model = load_model(path)
        layout, _ = compile_model(model)
        assert layout is not None, path
        t = load_package(layout, model, tmp_path)
        data = generate(model)
        for entity in model.entities:
            convert = t.TO_ITEM[entity.name]
            for row in data.of(entity.name):
                if any(isinstance(v, frozenset) and not v for v in row.values()):
                    continue
                try:
                    theirs = verify_items.to_item(model, layout, entity, row)
                except verify_items.ItemError:
                    with pytest.raises(t.TransformError):
                        convert(row)
                    continue
                assert _canonical(convert(row)) == _canonical(theirs), (path.name, entity.name)
                name, back = t.from_item(convert(row))
                assert name == entity.name
                assert back == verify_items.from_item(model, layout, theirs)[1]
                checked += 1
    assert checked > 100


def test_empty_sets_are_omitted_and_come_back(t: ModuleType) -> None:
    row = _thing(tags=frozenset(), scores=frozenset())
    item = t.thing_to_item(row)
    assert "tags" not in item and "scores" not in item
    back = t.thing_from_item(item)
    assert back["tags"] == frozenset()  # required: empty
    assert back["scores"] is None  # optional: NULL and empty look the same
    assert t.thing_to_item({**row, "tags": ["b", "a", "b"]})["tags"] == {"SS": ["a", "b"]}


def test_null_attributes_are_omitted_and_sparse_keys_vanish(t: ModuleType) -> None:
    row = _thing(code=None, blob=None, meta=None)
    item = t.thing_to_item(row)
    for name in ("code", "blob", "meta", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"):
        assert name not in item
    full = t.thing_to_item(_thing(code="c#1", blob=b"\x01\xff"))
    assert full["GSI2PK"] == {"S": "CODE#c$231"}
    assert full["GSI2SK"] == {"S": "widget"}
    assert full["GSI3PK"] == {"S": "BLOB#01ff"}


def test_key_encodings_and_plain_values(t: ModuleType) -> None:
    row = _thing(
        seen_at=dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        qty=-1,
        price=Decimal("12.50"),
        ratio=0.1,
        born=dt.date(999, 1, 2),
    )
    item = t.thing_to_item(row)
    assert item["seen_at"] == {"S": "2024-03-01T10:00:00.000000Z"}
    assert item["price"] == {"N": "12.50"}
    assert item["ratio"] == {"N": "0.1"}
    assert item["born"] == {"S": "0999-01-02"}
    assert item["GSI1PK"] == {"S": "CAT#true#0999-01-02"}
    assert item["GSI1SK"]["S"].startswith("THING#2024-03-01T10:00:00.000000Z#09999999999999999999#")
    assert item["_type"] == {"S": "Thing"}
    assert item["PK"] == {"S": f"THING#{row['thing_id']}"}
    # naive datetimes are taken to be UTC
    naive = t.thing_to_item(_thing(seen_at=dt.datetime(2024, 3, 1, 10, 0)))
    assert naive["seen_at"] == item["seen_at"]


def test_ttl_datetime_is_a_number_of_epoch_seconds(t: ModuleType) -> None:
    """DynamoDB's TTL expires only items whose TTL attribute is N epoch seconds."""
    epoch = calendar.timegm((2030, 6, 1, 12, 0, 0))  # an independent computation
    item = t.thing_to_item(_thing(expires_at=dt.datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC)))
    assert item["expires_at"] == {"N": str(epoch)}
    # the same instant naive (taken as UTC) and in another zone
    for same in (
        dt.datetime(2030, 6, 1, 12, 0, 0),
        dt.datetime(2030, 6, 1, 14, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ):
        assert t.thing_to_item(_thing(expires_at=same))["expires_at"] == {"N": str(epoch)}
    # in a key slot it keeps the key codec's text; other datetimes stay S
    assert item["GSI4SK"] == {"S": "2030-06-01T12:00:00.000000Z"}
    assert item["seen_at"] == {"S": "2024-01-02T03:04:05.000006Z"}
    back = t.thing_from_item(item)["expires_at"]
    assert back == dt.datetime(
        2030, 6, 1, 12, 0, 0, tzinfo=UTC
    ) and back.utcoffset() == dt.timedelta(0)
    # before 1970: negative seconds
    old = t.thing_to_item(_thing(expires_at=dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)))
    assert old["expires_at"] == {"N": "-1"}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (dt.datetime(2030, 6, 1, 12, 0, 0, 999_999, tzinfo=UTC), "12:00:00"),
        (dt.datetime(2030, 6, 1, 12, 0, 0, 1), "12:00:00"),  # naive
        (
            dt.datetime(
                2030,
                6,
                1,
                17,
                30,
                0,
                500_000,
                tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)),
            ),
            "12:00:00",
        ),
        (
            dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
            "23:59:59",
        ),  # floor, not toward 0
    ],
)
def test_ttl_sub_second_part_is_truncated(t: ModuleType, value: dt.datetime, seconds: str) -> None:
    model, layout = kitchen()
    entity = model.entity("Thing")
    assert entity is not None
    row = _thing(expires_at=value)
    item = t.thing_to_item(row)
    whole = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    whole = whole.replace(microsecond=0)
    assert whole.time().isoformat() == seconds
    assert item["expires_at"] == {"N": str(calendar.timegm(whole.timetuple()))}
    assert t.thing_from_item(item)["expires_at"] == whole
    # the key slot is unchanged: the codec's full text, microseconds included
    assert item["GSI4SK"]["S"].endswith(f".{value.microsecond:06d}Z")
    # model verify's codec agrees, also on the decoded row
    theirs = verify_items.to_item(model, layout, entity, row)
    assert _canonical(item) == _canonical(theirs)
    assert verify_items.from_item(model, layout, theirs)[1]["expires_at"] == whole


def test_ttl_filter_values_and_items_written_as_text_still_decode(t: ModuleType) -> None:
    value = dt.datetime(2030, 6, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    assert t.ttl_attribute_value(value) == {"N": str(calendar.timegm((2030, 6, 1, 12, 0, 0)))}
    assert t.ttl_attribute_value(None) is None
    with pytest.raises(t.InvalidValue):
        t.ttl_attribute_value("2030-06-01")
    # an item written before the TTL attribute was a Number (ISO text) still decodes
    item = t.thing_to_item(_thing())
    item["expires_at"] = {"S": "2030-06-01T12:00:00.250000Z"}
    assert t.thing_from_item(item)["expires_at"] == value


def test_pattern_key_builder_matches_the_items_key(t: ModuleType) -> None:
    row = _thing()
    item = t.thing_to_item(row)
    key = t.get_thing_key(row["thing_id"])
    assert key == {"PK": item["PK"], "SK": item["SK"]}
    assert t.thing_table_key(row) == key
    # a uuid given as text is canonicalised the same way at write and query time
    assert t.get_thing_key(str(row["thing_id"]).upper()) == key


# --------------------------------------------------------------------------- limits and errors


@pytest.mark.parametrize(
    ("attribute", "value", "reason"),
    [
        ("price", Decimal("1." + "1" * 38), "39 significant digits"),
        ("price", Decimal("1E+126"), "magnitude range"),
        ("price", Decimal("1E-131"), "magnitude range"),
        ("price", Decimal("NaN"), "not a number"),
        ("price", Decimal("-Infinity"), "not a number"),
        ("ratio", float("nan"), "not a number"),
        ("ratio", float("inf"), "not a number"),
        ("ratio", 5e-324, "magnitude range"),
        ("big", 10**38 + 1, "39 significant digits"),
        ("meta", {"x": [Decimal("1." + "0" * 40 + "1")]}, "significant digits"),
        ("qty", True, "expected int"),
        ("qty", "12", "expected int"),
        ("born", dt.datetime(2024, 1, 1), "expected datetime.date"),
        ("thing_id", "not-a-uuid", "expected a UUID"),
        ("meta", {"x": object()}, "expected a JSON value"),
        ("expires_at", "2030-06-01T00:00:00Z", "expected datetime.datetime"),
        (
            "expires_at",
            dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
            "outside years 1..9999",
        ),
    ],
)
def test_values_dynamodb_cannot_store_are_typed_errors(
    t: ModuleType, attribute: str, value: Any, reason: str
) -> None:
    row = _thing(**{attribute: value})
    with pytest.raises(t.InvalidValue) as info:
        t.thing_to_item(row)
    err = info.value
    assert isinstance(err, t.TransformError) and isinstance(err, ValueError)
    assert err.entity == "Thing"
    assert err.attribute == attribute
    assert reason in err.reason
    key = row["thing_id"] if attribute != "thing_id" else value
    assert err.row_key == (key,)


def test_38_digits_and_the_range_edges_are_accepted(t: ModuleType) -> None:
    for value in (Decimal("9" * 38), Decimal("-1E-130"), Decimal("9.9E+125"), Decimal("0E-200")):
        item = t.thing_to_item(_thing(price=value))
        assert Decimal(item["price"]["N"]) == value
    assert t.thing_to_item(_thing(big=10**125))["big"]["N"] == "1" + "0" * 125


def test_missing_and_null_required_attributes(t: ModuleType) -> None:
    row = _thing()
    del row["name"]
    with pytest.raises(t.MissingValue) as info:
        t.thing_to_item(row)
    assert info.value.attribute == "name" and info.value.row_key == (_ID,)
    with pytest.raises(t.MissingValue) as info:
        t.thing_to_item(_thing(tags=None))
    assert info.value.attribute == "tags"


def test_empty_strings_are_kept_but_never_make_an_empty_key(t: ModuleType) -> None:
    item = t.thing_to_item(_thing(code=""))
    assert item["code"] == {"S": ""}
    assert item["GSI2PK"] == {"S": "CODE#"}
    with pytest.raises(t.InvalidKey) as info:
        t.thing_to_item(_thing(name=""))  # GSI2SK is the bare {name} slot
    assert "GSI2SK" in info.value.reason and "empty" in info.value.reason


def test_over_long_keys_are_rejected(t: ModuleType) -> None:
    t.thing_to_item(_thing(name="é" * 512))  # 1024 bytes: the sort-key limit exactly
    with pytest.raises(t.InvalidKey) as info:
        t.thing_to_item(_thing(name="é" * 512 + "x"))
    assert "1025 bytes" in info.value.reason
    with pytest.raises(t.InvalidKey):
        t.thing_to_item(_thing(code="€" * 700))  # 2100 + 5 bytes of partition key


def test_generated_limits_are_dynamodbs(t: ModuleType) -> None:
    """The stdlib-only module gets DynamoDB's limits from modeling.core.limits (one source)."""
    assert t.ITEM_LIMIT == limits.ITEM_BYTES == 409600
    assert t.PARTITION_KEY_LIMIT == limits.PARTITION_KEY_BYTES == 2048
    assert t.SORT_KEY_LIMIT == limits.SORT_KEY_BYTES == 1024


def test_item_size_limit_is_exact(t: ModuleType) -> None:
    """400 KB counted as DynamoDB does: an item of exactly 409600 bytes passes, +1 fails."""
    base = _thing(notes=["x"])
    size = t.item_size(t.thing_to_item(base))
    filler = "ü" * ((409600 - size) // 2)  # 2 bytes per char in UTF-8
    pad = 409600 - size - 2 * len(filler)
    row = _thing(notes=["x" + filler + "y" * pad])
    item = t.thing_to_item(row)
    assert t.item_size(item) == 409600
    with pytest.raises(t.ItemTooLarge) as info:
        t.thing_to_item(_thing(notes=["xy" + filler + "y" * pad]))
    err = info.value
    assert err.size == 409601 and err.entity == "Thing" and err.row_key == (_ID,)
    assert "409601 bytes" in str(err)


def test_item_size_follows_dynamodbs_rules(t: ModuleType) -> None:
    item = {
        "s": {"S": "héllo"},  # 1 + 6
        "n": {"N": "-0012.3400"},  # 1 + (4 digits -> 2) + 1
        "b": {"B": b"\x00\x01"},  # 1 + 2
        "t": {"BOOL": True},  # 1 + 1
        "l": {"L": [{"S": "ab"}, {"NULL": True}]},  # 1 + 3 + (1 + 2) + (1 + 1)
        "m": {"M": {"k": {"S": "v"}}},  # 1 + 3 + 1 + 1 + 1
        "ss": {"SS": ["a", "bc"]},  # 2 + 3
    }
    assert t.item_size(item) == 7 + 4 + 3 + 2 + 9 + 7 + 5


def _reference_size(value: dict[str, Any]) -> int:
    """DynamoDB's sizing rules, written independently (every string UTF-8 encoded)."""
    ((tag, payload),) = value.items()
    if tag == "S":
        return len(payload.encode("utf-8"))
    if tag == "N":
        digits = payload.lstrip("-").replace(".", "").strip("0")
        return 1 + (len(digits) + 1) // 2
    if tag == "SS":
        return sum(len(v.encode("utf-8")) for v in payload)
    if tag == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + _reference_size(v) for k, v in payload.items())
    raise AssertionError(tag)


_texts = st.text(min_size=0, max_size=12)
_values = st.recursive(
    st.one_of(
        _texts.map(lambda s: {"S": s}),
        st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: {"N": str(d)}),
        st.sets(_texts, min_size=1, max_size=3).map(lambda s: {"SS": sorted(s)}),
    ),
    lambda inner: st.dictionaries(_texts, inner, max_size=3).map(lambda m: {"M": m}),
    max_leaves=6,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(item=st.dictionaries(_texts, _values, max_size=6))
def test_item_size_equals_the_rules_for_any_text(t: ModuleType, item: dict[str, Any]) -> None:
    # the fast path sizes ASCII text by its length; non-ASCII names and values must still
    # count their UTF-8 bytes
    expected = sum(len(k.encode("utf-8")) + _reference_size(v) for k, v in item.items())
    assert t.item_size(item) == expected


def test_errors_on_decode_are_typed(t: ModuleType) -> None:
    item = t.thing_to_item(_thing())
    del item["name"]
    with pytest.raises(t.MissingValue):
        t.thing_from_item(item)
    with pytest.raises(t.UnknownEntity):
        t.from_item({"_type": {"S": "Nope"}})
    with pytest.raises(t.UnknownEntity):
        t.to_item("Nope", {})


# --------------------------------------------------------------------------- the generated code


def test_generated_code_imports_only_the_standard_library() -> None:
    model, layout = kitchen()
    files = emit_transformers(layout, model)
    for rel in ("transformers.py", "_keys.py"):
        tree = ast.parse(files[rel])
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # a sibling: `from . import _keys`
                    assert node.module is None and [a.name for a in node.names] == ["_keys"]
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names, (rel, name)


def test_generated_code_is_deterministic_and_has_the_header() -> None:
    model, layout = kitchen()
    first = emit_transformers(layout, model)
    second = emit_transformers(*reversed(kitchen()))  # type: ignore[arg-type]
    assert first == second
    for text in first.values():
        assert text.startswith("# @generated by modeling ")
        assert "models/kitchen.yaml" in text.splitlines()[0]
        assert text.endswith("\n") and "\r" not in text


def test_registered_as_emitters() -> None:
    registry = emitters()
    assert registry["transformers"] is emit_transformers
    assert registry["client"] is emit_client


def _write(files: dict[str, str], root: Path, name: str) -> Path:
    package = root / name
    package.mkdir()
    for rel, text in files.items():
        (package / rel).write_text(text, encoding="utf-8")
    return package


def test_generated_transformers_and_client_pass_mypy_strict(tmp_path: Path) -> None:
    packages = []
    model, layout = kitchen()
    packages.append(
        _write(
            {**emit_transformers(layout, model), **emit_client(layout, model)}, tmp_path, "kitchen"
        )
    )
    for path in sorted((ROOT / "models").glob("*.yaml")):
        m = load_model(path)
        lay, _ = compile_model(m)
        assert lay is not None
        files = {**emit_transformers(lay, m), **emit_client(lay, m)}
        packages.append(_write(files, tmp_path, m.name.replace("-", "_")))
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            f"--config-file={config}",
            f"--cache-dir={tmp_path / '.mypy_cache'}",
            *[str(p) for p in packages],
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


# --------------------------------------------------------------------------- helpers

_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _thing(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "thing_id": _ID,
        "name": "widget",
        "code": "c1",
        "qty": 3,
        "price": Decimal("9.99"),
        "ratio": 0.5,
        "active": True,
        "born": dt.date(2020, 5, 17),
        "seen_at": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "blob": b"\x00",
        "meta": {"a": 1, "b": [True, None, "x", Decimal("1.5")]},
        "tags": frozenset({"red"}),
        "scores": frozenset({1, 2}),
        "amounts": frozenset({Decimal("0.5")}),
        "blobs": frozenset({b"\x01"}),
        "history": [dt.datetime(2024, 1, 1, tzinfo=UTC)],
        "notes": ["n"],
        "big": None,
        "expires_at": dt.datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC),
    }
    row.update(changes)
    return row


def test_map_values_dynamodb_refuses_are_invalid_for_their_row_only(t: ModuleType) -> None:
    """A jsonb value DynamoDB refuses fails the whole BatchWriteItem holding it (measured on
    DynamoDB Local): its row is refused here instead, with the attribute named."""
    deepest: Any = 1
    for _ in range(t.NESTING_LIMIT):  # 31 maps/lists in the value: DynamoDB's 32 levels
        deepest = [deepest]
    assert t.to_attribute_value("map", {"a": deepest[0]})["M"]["a"]["L"]
    refused = {
        "nests more than 31": {"a": deepest},
        "an empty key": {"a": {"": 1}},
        "a key of 65536 bytes": {"k" * 65_536: 1},
    }
    for reason, value in refused.items():
        with pytest.raises(t.InvalidValue, match=reason):
            t.to_attribute_value("map", value)
        with pytest.raises(t.InvalidValue, match=reason):
            t.to_attribute_value("list<map>", [value])
    assert t.to_attribute_value("map", {"k" * 65_535: 1}) is not None
    # one number per value in a number set: DynamoDB refuses `1.0` beside `1.00` as duplicates
    numbers = t.to_attribute_value("set<decimal>", [Decimal("1.0"), Decimal("1.00"), 1, 0, -0.0])
    assert numbers == {"NS": ["0", "1"]}
