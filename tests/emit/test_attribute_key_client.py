"""The generated client on an index keyed on the items' own attributes (issue 16 item 4).

`layout: {gsi_keys: attributes}` (tests/fixtures/models/attribute_gsis.yaml): hand-picked sales
with negative amounts, ties and numbers whose text order differs from their numeric order are
written through the generated transformers to DynamoDB Local and to PostgreSQL; each pattern
on an attribute-keyed GSI, read two rows a page through the generated client, returns
PostgreSQL's rows in PostgreSQL's order.
"""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core.naming import snake
from modeling.emit.transformers import pattern_params
from modeling.verify import dynamo

from .test_transformers import load_package

FIXTURE = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis.yaml"


# sale_id, store_id, region, amount, quantity, sold_on: negatives (refunds), ties, 9 < 10 < 100
SALES = [
    (1, 7, "eu", "10", 5, "2026-01-02"),
    (2, 7, "eu", "-2.5", 1, "2026-01-02"),
    (3, 7, "eu", "100", 9, "2026-01-01"),
    (4, 7, "eu", "9", 10, "2026-01-02"),
    (5, 7, "eu", "-10", 100, "2026-01-03"),
    (6, 7, "eu", "9", 2, "2026-01-02"),
    (7, 7, "us", "0", 3, "2026-01-02"),
    (8, 8, "eu", "1", 5, "2026-01-02"),
    (9, 7, "eu", "-2.5", -4, "2026-01-02"),
    (10, 7, "eu", "0", 7, "2026-01-04"),
]
QUERIES = [
    # pattern, parameters, the same question in SQL (ties broken by the test, not the SQL)
    (
        "sales_of_store_by_amount",
        {"store_id": 7, "region": "eu", "amount_from": Decimal(-5), "amount_to": Decimal(10)},
        "store_id = 7 AND region = 'eu' AND amount BETWEEN -5 AND 10 ORDER BY amount",
    ),
    (
        "sales_of_store_on_day_over",
        {"store_id": 7, "sold_on": date(2026, 1, 2), "quantity": -5},
        "store_id = 7 AND sold_on = '2026-01-02' AND quantity > -5 ORDER BY quantity",
    ),
    (
        "sales_of_store_since",
        {"store_id": 7, "sold_on": date(2026, 1, 2)},
        "store_id = 7 AND sold_on >= '2026-01-02' ORDER BY sold_on, quantity",
    ),
]


@pytest.mark.e2e
def test_generated_client_pages_like_postgres(
    dynamodb_local: Any, postgres: Any, tmp_path: Path
) -> None:
    """The generated client on DynamoDB Local returns PostgreSQL's rows in PostgreSQL's order
    (numbers numerically, negatives first; ties as a set), two rows a page."""
    m = load_model(FIXTURE)
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    t = load_package(layout, m, tmp_path / "pkg", client=True)
    ddb = dynamodb_local.client()
    table = f"attrkeys_{uuid.uuid4().hex[:8]}"
    dynamo.create_table(ddb, layout, table)
    rows = [
        {
            "sale_id": s,
            "store_id": st,
            "region": r,
            "amount": Decimal(a),
            "quantity": q,
            "sold_on": date.fromisoformat(d),
            "note": None,
        }
        for s, st, r, a, q, d in SALES
    ]
    items = [t.TO_ITEM["Sale"](row) for row in rows]
    assert all(not k.startswith(("GSI2", "GSI3")) for i in items for k in i)
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = importlib.import_module(t.__name__.rsplit(".", 1)[0] + ".client").Client(table, ddb)
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE sales (sale_id int, store_id int, region text, amount numeric, "
            "quantity int, sold_on date)"
        )
        for s, st, r, a, q, d in SALES:
            conn.execute("INSERT INTO sales VALUES (%s, %s, %s, %s, %s, %s)", (s, st, r, a, q, d))
        for pattern, params, sql in QUERIES:
            order = sql.split("ORDER BY ")[1].split(", ")
            expected = conn.execute(
                f"SELECT sale_id, {', '.join(order)} FROM sales WHERE {sql}"
            ).fetchall()
            plan = layout.plan(pattern)
            assert plan is not None and plan.key_attributes, pattern
            names = pattern_params(m, plan).names
            page = getattr(client, snake(pattern) + "_page")
            got: list[Any] = []
            cursor, pages = None, 0
            while True:
                batch, cursor = page(
                    **{names[k]: v for k, v in params.items()}, cursor=cursor, page_size=2
                )
                got += batch
                pages += 1
                if cursor is None:
                    break
            assert len(expected) >= 4 and pages >= 2, pattern
            # the same sort values in the same order; the same rows in each tie group
            assert [tuple(g[c] for c in order) for g in got] == [e[1:] for e in expected]
            assert sorted(g["sale_id"] for g in got) == sorted(e[0] for e in expected), pattern
    # DynamoDB refuses "" in a key condition; the client sends its stand-in and gets SQL's
    # answer (no sale has the region ''), where it used to raise a ValidationException
    batch, cursor = client.sales_of_store_by_amount_page(
        store_id=7, region="", amount_from=Decimal(-5), amount_to=Decimal(10)
    )
    assert (batch, cursor) == ([], None)


def test_an_empty_string_in_a_key_attribute_is_refused_with_the_row(tmp_path: Path) -> None:
    """DynamoDB refuses a whole write whose attribute-index key attribute is an empty string;
    the transformer refuses that row alone (a dead-letter with its reason in a migration)."""
    m = load_model(FIXTURE)
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    t = load_package(layout, m, tmp_path / "pkg")
    row = {"sale_id": 1, "store_id": 7, "region": "eu", "amount": Decimal(1), "quantity": 1}
    row |= {"sold_on": date(2026, 1, 1), "note": None}
    assert t.TO_ITEM["Sale"](row)["region"] == {"S": "eu"}
    with pytest.raises(t.InvalidKey, match="region is a key attribute"):
        t.TO_ITEM["Sale"]({**row, "region": ""})
    store = {"store_id": 7, "name": "", "region": ""}  # Store is not on that index: still refused
    with pytest.raises(t.InvalidKey, match="region"):
        t.TO_ITEM["Store"](store)
    assert t.TO_ITEM["Store"]({**store, "region": "us"})["name"] == {"S": ""}


TEXT = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis_text.yaml"
IST = timezone(timedelta(hours=5, minutes=30))
# venues and titles: separators, escapes, unicode, astral, prefixes, case (byte order: "B" <
# "a"), ties; instants: year 1, year 999, the same instant in two zones (a tie), microseconds
# apart, the last microsecond of year 9999
EVENTS = [
    (1, "hall#1", "ab", datetime(1, 1, 1, tzinfo=UTC), "talk", ""),
    (2, "hall#1", "ab#", datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "talk", "x"),
    (3, "hall#1", "abc", datetime(2026, 1, 1, 12, 0, 0, 1, tzinfo=IST), "demo", ""),
    (4, "hall#1", "aB", datetime(2026, 1, 1, 6, 30, 0, 1, tzinfo=UTC), "talk", "x"),
    (5, "hall#1", "Zebra", datetime(2026, 1, 1, 6, 30, 0, 2, tzinfo=UTC), "talk", "#"),
    (6, "hall#1", "é", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "talk", ""),
    (7, "hall#1", "😀x", datetime(2026, 1, 1, tzinfo=IST), "demo", "a#b"),
    (8, "hall#1", "\U0010ffff", datetime(2026, 1, 1, tzinfo=UTC), "talk", "x"),
    (9, "hall#1", "$", datetime(2026, 1, 1, tzinfo=UTC), "talk", "$"),
    (10, "hall#1", "ab", datetime(1970, 1, 1, tzinfo=UTC), "talk", ""),
    (11, "hall", "ab", datetime(2026, 1, 1, tzinfo=UTC), "talk", ""),
    (12, "hall#1 ", "ab", datetime(2026, 1, 1, tzinfo=UTC), "talk", ""),
    (13, "𝄞", "ab", datetime(2026, 1, 1, tzinfo=UTC), "talk", ""),
]
HOSTS = {1: "ann", 3: "ann", 4: "ann", 6: "ann", 7: "bob", 8: "ann", 10: "ann", 11: "ann"}
LOW, HIGH = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
TEXT_QUERIES = [
    # pattern, parameters, the same question in SQL, its ORDER BY
    ("events_at_venue_between", {"venue": "hall#1", "starts_at_from": LOW, "starts_at_to": HIGH},
     "venue = 'hall#1'", "starts_at"),
    ("events_at_venue_between",
     {"venue": "hall#1", "starts_at_from": datetime(2026, 1, 1, 12, 0, 0, 1, tzinfo=IST),
      "starts_at_to": datetime(2026, 1, 1, 7, 30, 0, 2, tzinfo=timezone(timedelta(hours=1)))},
     "venue = 'hall#1' AND starts_at BETWEEN '2026-01-01 12:00:00.000001+05:30' AND "
     "'2026-01-01 07:30:00.000002+01:00'", "starts_at"),
    ("events_at_venue_between", {"venue": "", "starts_at_from": LOW, "starts_at_to": HIGH},
     "venue = ''", "starts_at"),
    ("events_at_venue_from_title", {"venue": "hall#1", "title": ""}, "venue = 'hall#1'",
     "title"),
    ("events_at_venue_from_title", {"venue": "hall#1", "title": "ab"},
     "venue = 'hall#1' AND title >= 'ab'", "title"),
    ("events_at_venue_titled", {"venue": "hall#1", "title": "ab"},
     "venue = 'hall#1' AND starts_with(title, 'ab')", "title"),
    ("events_at_venue_titled", {"venue": "hall#1", "title": ""},
     "venue = 'hall#1' AND starts_with(title, '')", "title"),
    ("events_at_venue_titled", {"venue": "hall#1", "title": "\U0010ffff"},
     "venue = 'hall#1' AND starts_with(title, U&'\\+10FFFF')", "title"),
    ("events_of_kind_after", {"kind": "talk", "local_at": datetime(999, 12, 31, 23, 59, 59)},
     "kind = 'talk' AND local_at > '0999-12-31 23:59:59'", "local_at DESC"),
    ("events_of_kind_after", {"kind": "", "local_at": datetime(1, 1, 1)},
     "kind = '' AND local_at > '0001-01-01'", "local_at DESC"),
    ("events_of_host_since", {"host": "ann", "starts_at": datetime(1970, 1, 1, tzinfo=UTC)},
     "host = 'ann' AND starts_at >= '1970-01-01 00:00:00+00'", "starts_at"),
    ("events_of_host_since", {"host": "", "starts_at": LOW}, "host = ''", "starts_at"),
    ("events_with_tag", {"tag": "", "starts_at": LOW}, "tag = ''", "starts_at"),
]  # fmt: skip


@pytest.mark.e2e
def test_strings_and_datetimes_page_like_postgres(
    dynamodb_local: Any, postgres: Any, tmp_path: Path
) -> None:
    """Non-empty strings and datetimes as attribute keys (and the empty-string tag GSI, which
    keeps its composite key) on DynamoDB Local give PostgreSQL's rows in `COLLATE "C"` and
    time order, two rows a page; an empty string parameter matches what it matches in SQL."""
    m = load_model(TEXT)
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    t = load_package(layout, m, tmp_path / "pkg", client=True)
    ddb = dynamodb_local.client()
    table = f"attrtext_{uuid.uuid4().hex[:8]}"
    dynamo.create_table(ddb, layout, table)
    rows = [
        {"event_id": i, "venue": v, "title": ti, "starts_at": at,
         "local_at": at.astimezone(UTC).replace(tzinfo=None), "kind": k, "tag": tag,
         "host": HOSTS.get(i)}
        for i, v, ti, at, k, tag in EVENTS
    ]  # fmt: skip
    items = [t.TO_ITEM["Event"](row) for row in rows]
    assert items[2]["starts_at"] == {"S": "2026-01-01T06:30:00.000001Z"}  # UTC, fixed width
    assert items[0]["starts_at"] == {"S": "0001-01-01T00:00:00.000000Z"}
    assert "host" not in items[1]  # NULL: no attribute, so not on the host index (sparse)
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = importlib.import_module(t.__name__.rsplit(".", 1)[0] + ".client").Client(table, ddb)
    columns = ("event_id", "venue", "title", "starts_at", "local_at", "kind", "tag", "host")
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        conn.execute(
            'CREATE TABLE events (event_id int, venue text COLLATE "C", title text COLLATE "C", '
            'starts_at timestamptz, local_at timestamp, kind text, tag text COLLATE "C", '
            'host text COLLATE "C")'
        )
        for r in rows:
            conn.execute(
                "INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                tuple(r[c] for c in columns),
            )
        for pattern, params, sql, order_by in TEXT_QUERIES:
            column = order_by.split()[0]
            expected = conn.execute(
                f"SELECT event_id, {column} FROM events WHERE {sql} ORDER BY {order_by}"
            ).fetchall()
            plan = layout.plan(pattern)
            assert plan is not None
            assert bool(plan.key_attributes) is (pattern != "events_with_tag"), pattern
            if "''" not in sql and "10FFFF" not in sql:
                assert len(expected) >= 3, (pattern, sql)
            names = pattern_params(m, plan).names
            page = getattr(client, snake(pattern) + "_page")
            got: list[Any] = []
            cursor, pages = None, 0
            while True:
                batch, cursor = page(
                    **{names[k]: v for k, v in params.items()}, cursor=cursor, page_size=2
                )
                got += batch
                pages += 1
                if cursor is None:
                    break
            assert [g[column] for g in got] == [e[1] for e in expected], (pattern, params)
            assert sorted(g["event_id"] for g in got) == sorted(e[0] for e in expected), pattern
            assert pages >= 2 or len(expected) <= 2, pattern
    assert sum(1 for e in EVENTS if e[1] == "hall#1") == 10


OVERLOADED = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis_overloaded.yaml"


@pytest.mark.e2e
def test_types_sharing_a_gsi_read_only_their_own_items(
    dynamodb_local: Any, postgres: Any, tmp_path: Path
) -> None:
    """Posts and replies on one attribute-keyed GSI, with the same author, the same instants
    and the same ids: each pattern returns PostgreSQL's rows of its own table, in order, two
    rows a page (the type attribute is in the key condition)."""
    m = load_model(OVERLOADED)
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    plan = layout.plan("posts_of_author")
    assert plan is not None and plan.key_attributes
    t = load_package(layout, m, tmp_path / "pkg", client=True)
    ddb = dynamodb_local.client()
    table = f"attrover_{uuid.uuid4().hex[:8]}"
    dynamo.create_table(ddb, layout, table)
    at = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 2, 3, 5)]
    rows = {
        "Post": [(i, 7, a) for i, a in enumerate(at, 1)] + [(9, 8, at[0])],
        "Reply": [(i, 7, a) for i, a in enumerate(reversed(at), 1)] + [(9, 7, at[1])],
    }
    items = []
    for entity, key in (("Post", "post_id"), ("Reply", "reply_id")):
        for i, author, a in rows[entity]:
            row = {key: i, "author_id": author, "posted_at": a, "body": f"{entity} {i}"}
            items.append(t.TO_ITEM[entity](row))
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = importlib.import_module(t.__name__.rsplit(".", 1)[0] + ".client").Client(table, ddb)
    queries = [
        ("posts_of_author", "posts", "post_id", {"author_id": 7, "posted_at": at[1]},
         "author_id = 7 AND posted_at >= %(lo)s", {"lo": at[1]}),
        ("replies_of_author", "replies", "reply_id",
         {"author_id": 7, "posted_at_from": at[0], "posted_at_to": at[3]},
         "author_id = 7 AND posted_at BETWEEN %(lo)s AND %(hi)s", {"lo": at[0], "hi": at[3]}),
    ]  # fmt: skip
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        for name, key in (("posts", "post_id"), ("replies", "reply_id")):
            conn.execute(f"CREATE TABLE {name} ({key} int, author_id int, posted_at timestamptz)")
        for entity, name in (("Post", "posts"), ("Reply", "replies")):
            for r in rows[entity]:
                conn.execute(f"INSERT INTO {name} VALUES (%s, %s, %s)", r)
        for pattern, sql_table, key, params, where, sql_params in queries:
            expected = conn.execute(
                f"SELECT {key}, posted_at FROM {sql_table} WHERE {where} ORDER BY posted_at",
                sql_params,
            ).fetchall()
            names = pattern_params(m, layout.plan(pattern)).names  # type: ignore[arg-type]
            page = getattr(client, snake(pattern) + "_page")
            got: list[Any] = []
            cursor, pages = None, 0
            while True:
                batch, cursor = page(
                    **{names[k]: v for k, v in params.items()}, cursor=cursor, page_size=2
                )
                got += batch
                pages += 1
                if cursor is None:
                    break
            assert len(expected) >= 4 and pages >= 2, pattern
            assert [g["posted_at"] for g in got] == [e[1] for e in expected], pattern
            assert sorted(g[key] for g in got) == sorted(e[0] for e in expected), pattern
            own = "Post" if key == "post_id" else "Reply"  # the other type has the same ids
            assert [g["body"] for g in got] == [f"{own} {g[key]}" for g in got], pattern


def test_datetimes_outside_the_key_text_are_refused_per_row_and_per_parameter(
    tmp_path: Path,
) -> None:
    """A datetime key attribute is the codec's UTC text, years 0001..9999: an aware value that
    leaves that range in UTC is refused with its row (a dead-letter in a migration) or as a
    bad parameter, never sent; the range's own ends are fine."""
    m = load_model(TEXT)
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    t = load_package(layout, m, tmp_path / "pkg")
    row = {"event_id": 1, "venue": "v", "title": "t", "kind": "talk", "tag": "", "host": None}
    row |= {"starts_at": HIGH, "local_at": datetime(1, 1, 1)}
    item = t.TO_ITEM["Event"](row)
    assert item["starts_at"] == {"S": "9999-12-31T23:59:59.999999Z"}
    assert item["local_at"] == {"S": "0001-01-01T00:00:00.000000Z"}
    late = datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5)))  # 10000 in UTC
    early = datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5)))  # year 0 in UTC
    for bad in (late, early):
        with pytest.raises(t.InvalidValue, match=r"outside years 1\.\.9999"):
            t.TO_ITEM["Event"]({**row, "starts_at": bad})
    key = t.events_at_venue_between_key
    names = pattern_params(m, layout.plan("events_at_venue_between")).names  # type: ignore[arg-type]
    ok = key(**{names["venue"]: "v", names["starts_at_from"]: LOW, names["starts_at_to"]: HIGH})
    assert ok[":sk1"] == {"S": "9999-12-31T23:59:59.999999Z"}
    with pytest.raises(t.InvalidValue, match=r"outside years 1\.\.9999"):
        key(**{names["venue"]: "v", names["starts_at_from"]: LOW, names["starts_at_to"]: late})
