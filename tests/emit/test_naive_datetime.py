"""Naive and aware datetimes round-trip as they came (issue 15, item 10).

A PostgreSQL `timestamp` (without time zone) is a `datetime` with `timezone: false`: psycopg
reads a naive value, and the generated transformers and client must give the same naive value
back; a `timestamptz` stays aware (in UTC). The stored text is the same for both, so keys and
order do not change: naive values are written as their wall-clock time in the UTC text.
Before: every datetime came back aware.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from modeling.api import check_text, load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit import reference
from modeling.emit.transformers.common import STORAGE
from modeling.importers._seed import seed
from modeling.runtime import keys
from modeling.spec.schema import model_schema

from .test_transformers import load_package

MODEL = """
model: clocks
table: {ttl: expires_at}
entities:
  Event:
    table: events
    key: [event_id]
    attributes:
      event_id: integer
      at_utc: datetime
      at_local: {type: datetime, timezone: false}
      maybe_local: {type: datetime, timezone: false, required: false}
      seen_local: {type: list<datetime>, timezone: false, required: false}
      seen_utc: {type: list<datetime>, required: false}
      expires_at: {type: datetime, timezone: false, required: false}
  Slot:
    table: slots
    key: [room, starts_at]
    attributes:
      room: string
      starts_at: {type: datetime, timezone: false}
      ends_at: datetime
access_patterns:
  get_event: {entity: Event, where: {event_id: "="}}
  slots_of_room: {entity: Slot, where: {room: "=", starts_at: between}}
"""

DDL = """
CREATE TABLE events (
  event_id bigint PRIMARY KEY,
  at_utc timestamptz NOT NULL,
  at_local timestamp NOT NULL,
  maybe_local timestamp without time zone,
  seen_local timestamp[],
  seen_utc timestamp with time zone[],
  expires_at timestamp(0)
);
CREATE TABLE slots (
  room text NOT NULL,
  starts_at timestamp NOT NULL,
  ends_at timestamptz NOT NULL,
  PRIMARY KEY (room, starts_at)
);
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[ir.Model, ir.Layout, ModuleType]:
    path = tmp_path_factory.mktemp("clocks") / "clocks.yaml"
    path.write_text(MODEL, encoding="utf-8")
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    t = load_package(layout, model, tmp_path_factory.mktemp("gen"), client=True)
    return model, layout, t


def test_the_model_knows_which_datetimes_are_naive(compiled: Any) -> None:
    model, _, _ = compiled
    event = model.entity("Event")
    naive = {a.name for a in event.attributes if a.naive}
    assert naive == {"at_local", "maybe_local", "seen_local", "expires_at"}
    assert event.attribute("at_utc").timezone is True


def test_timezone_on_a_non_datetime_is_a_located_error() -> None:
    text = MODEL.replace("room: string", "room: {type: string, timezone: false}")
    result = check_text(text, "clocks.yaml")
    assert result.model is None
    (d,) = [d for d in result.diagnostics.items if d.code == "timezone-type"]
    line = text.splitlines().index("      room: {type: string, timezone: false}") + 1
    assert (d.span.line, d.span.col) == (line, 28)


def _row(i: int) -> dict[str, Any]:
    local = dt.datetime(2024, 3, 31, 1, 30, 15, 123456) + dt.timedelta(hours=i)
    return {
        "event_id": i,
        "at_utc": dt.datetime(2024, 3, 31, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "at_local": local,
        "maybe_local": None if i % 2 else local.replace(microsecond=0),
        "seen_local": [local, dt.datetime(1999, 12, 31, 23, 59, 59)],
        "seen_utc": [dt.datetime(2020, 1, 1, tzinfo=dt.UTC)],
        "expires_at": dt.datetime(2030, 1, 1, 12, 0, 0),
    }


def test_row_item_row_keeps_naive_naive_and_aware_aware(compiled: Any) -> None:
    _, _, t = compiled
    for i in range(4):
        row = _row(i)
        item = t.TO_ITEM["Event"](row)
        back = t.FROM_ITEM["Event"](item)
        assert back == {k: v for k, v in row.items()}  # aware values compare as instants
        assert back["at_local"].tzinfo is None and back["seen_local"][0].tzinfo is None
        assert back["expires_at"].tzinfo is None
        assert back["at_utc"].tzinfo is not None and back["at_utc"].utcoffset() == dt.timedelta(0)
        assert back["seen_utc"][0].tzinfo is not None
        # the stored text is unchanged: a naive value is its wall-clock time as UTC text
        assert item["at_local"] == {
            "S": keys.encode("datetime", row["at_local"].replace(tzinfo=dt.UTC))
        }
        assert item["at_utc"] == {"S": "2024-03-31T00:30:00.000000Z"}


def test_naive_keys_keep_the_codec_text_and_order(compiled: Any) -> None:
    _, layout, t = compiled
    early, late = dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 1, 10)
    items = [
        t.TO_ITEM["Slot"]({"room": "a", "starts_at": s, "ends_at": s.replace(tzinfo=dt.UTC)})
        for s in (late, early)
    ]
    table = next(i for i in layout.indexes if i.kind == "table")
    sort_keys = [i[table.sk.name]["S"] for i in items]
    assert sorted(sort_keys) == sort_keys[::-1]  # text order is time order
    assert keys.encode("datetime", early) in sort_keys[1]
    back = t.FROM_ITEM["Slot"](items[1])
    assert back["starts_at"] == early and back["starts_at"].tzinfo is None
    assert back["ends_at"].tzinfo is not None


def test_model_init_seeds_timezone_false_from_timestamp(tmp_path: Path) -> None:
    ddl = tmp_path / "clocks.sql"
    ddl.write_text(DDL, encoding="utf-8")
    path = tmp_path / "seeded.yaml"
    outcome = seed(ddl=ddl, output=path)
    assert outcome.yaml is not None, [d.format() for d in outcome.diagnostics.items]
    assert "timezone: false" in outcome.yaml
    path.write_text(outcome.yaml, encoding="utf-8")
    model = load_model(path)
    naive = {(e.name, a.name) for e in model.entities for a in e.attributes if a.naive}
    aware = {
        (e.name, a.name)
        for e in model.entities
        for a in e.attributes
        if a.type.scalar == "datetime" and not a.naive
    }
    event = next(e.name for e in model.entities if e.table == "events")
    slot = next(e.name for e in model.entities if e.table == "slots")
    assert naive == {
        (event, "at_local"),
        (event, "maybe_local"),
        (event, "seen_local"),
        (event, "expires_at"),
        (slot, "starts_at"),
    }
    assert aware == {(event, "at_utc"), (event, "seen_utc"), (slot, "ends_at")}


def test_the_language_reference_says_how_each_type_is_stored() -> None:
    page = reference.language_reference(model_schema())
    section = page[page.index("## Types and how each is stored") :]
    for kind in ir.SCALAR_TYPES:
        assert any(row[0].startswith(kind) for row in STORAGE), kind
        assert f"| {kind} |" in section or f"| {kind}," in section, kind
    assert "<code>timezone: false</code>" in section
    assert "naive datetime" in section


# --------------------------------------------------------------------------- e2e


def test_postgres_row_to_dynamodb_and_back_through_the_client_equals_the_psycopg_row(
    compiled: Any, postgres: Any, dynamodb_local: Any
) -> None:
    import importlib

    import psycopg
    from psycopg.rows import dict_row

    from modeling.verify import dynamo

    _, layout, t = compiled
    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'America/New_York'")  # aware values come back in this zone
        conn.execute(DDL)
        for i in range(3):
            r = _row(i)
            conn.execute(
                "INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [r["event_id"], r["at_utc"], r["at_local"], r["maybe_local"], r["seen_local"],
                 r["seen_utc"], r["expires_at"]],
            )  # fmt: skip
        conn.execute(
            "INSERT INTO slots VALUES ('a', '2024-01-01 09:00:00.5', '2024-01-01 09:00:00+05')"
        )
        with conn.cursor(row_factory=dict_row) as cur:
            events = cur.execute("SELECT * FROM events ORDER BY event_id").fetchall()
            slots = cur.execute("SELECT * FROM slots").fetchall()
    assert events[0]["at_local"].tzinfo is None and events[0]["at_utc"].tzinfo is not None

    client = dynamodb_local.client()
    table = f"Clocks-{uuid.uuid4().hex[:8]}"
    dynamo.create_table(client, layout, table)
    for row in events:
        client.put_item(TableName=table, Item=t.TO_ITEM["Event"](row))
    for row in slots:
        client.put_item(TableName=table, Item=t.TO_ITEM["Slot"](row))

    generated = importlib.import_module(t.__name__.rsplit(".", 1)[0] + ".client")
    api = generated.Client(table, client)
    for row in events:
        got = api.get_event(event_id=row["event_id"], consistent_read=True)
        assert got == row
        for name in ("at_local", "maybe_local", "expires_at"):
            assert (got[name] is None) == (row[name] is None)
            if got[name] is not None:
                assert got[name].tzinfo is None
        assert [v.tzinfo for v in got["seen_local"]] == [None, None]
        assert got["at_utc"].tzinfo is not None
    (slot,) = slots
    found = api.slots_of_room(
        room="a",
        starts_at_from=dt.datetime(2024, 1, 1, 8),
        starts_at_to=dt.datetime(2024, 1, 1, 10),
    )
    assert [dict(r) for r in found] == [slot]
    assert found[0]["starts_at"].tzinfo is None
