"""`model cost` prices each plan as the generated client sends it (issue 16, item 2).

Every expected figure is worked out by hand below, with its formula. Units: a read unit
covers 4,096 B (eventually consistent reads cost half), a write unit 1,024 B, a Query page at
most 1,048,576 B; the client's sharded page asks each shard for up to 1,000 matches.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from modeling.api import compile_file
from modeling.core import ir
from modeling.cost import Prices, estimate, query_units

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "models"
SHARDED = FIXTURES / "sharded_orders.yaml"
COSTLY = FIXTURES / "costly.yaml"
PROFILES = FIXTURES / "amplification" / "profiles.yaml"


def _with_rates(model: ir.Model, rates: dict[str, float]) -> ir.Model:
    return replace(
        model,
        patterns=tuple(
            replace(p, rate=ir.Rate(reads_per_second=rates[p.name])) if p.name in rates else p
            for p in model.patterns
        ),
    )


def test_query_pages_round_up_each() -> None:
    # 2,621,440 B = 2.5 MB: pages of 1 MB, 1 MB, 0.5 MB; 256 units per full page x 0.5 = 128
    # each, the last 524,288 / 4,096 = 128 units x 0.5 = 64: 320 RRU over 3 Queries
    assert query_units(2_621_440) == (320, 3)
    # a 1-byte read is still half a unit, one Query
    assert query_units(1) == (0.5, 1)


def test_a_sharded_read_costs_a_query_per_shard() -> None:
    """sharded_orders: 2,000,000 orders over 4 statuses, 3 shards on GSI1 (the compiler's N).
    An order item is 193 B on every index (the layout's projection is ALL)."""
    model, layout = compile_file(SHARDED)
    plans = {p.pattern: p for p in layout.plans}
    assert plans["orders_by_status"].sharded == 3 and plans["first_orders_by_status"].sharded == 3
    rates = {"first_orders_by_status": 100.0, "orders_by_status": 20.0}
    r = estimate(_with_rates(model, rates), layout, Prices.load("us-east-1"))
    assert r.item_bytes == {"Order": 193}
    p = {x.pattern: x for x in r.patterns}
    # LIMIT 7 asks every shard for 7: 3 Queries of 7 x 193 = 1,351 B, 0.5 RRU each = 1.5
    first = p["first_orders_by_status"]
    assert (first.items_per_request, first.queries_per_request) == (7, 3)
    assert first.read_units_per_request == 1.5
    assert first.read_units_per_second == 150  # 100/s x 1.5
    # one shard partition serves one Query per read: 100 x 0.5 / 3,000
    assert first.partition_share == pytest.approx(100 * 0.5 / 3000)
    # no limit: 500,000 orders per status, 166,667 per shard; the page asks each shard for
    # 1,000: 1,000 x 193 = 193,000 B = ceil(47.1) = 48 units x 0.5 = 24 RRU per shard, x 3
    page = p["orders_by_status"]
    assert (page.items_per_request, page.bytes_per_request) == (1000, 579_000)
    assert page.read_units_per_request == 72 and page.queries_per_request == 3
    assert page.read_units_per_second == 1440  # 20/s x 72
    assert page.partition_share == pytest.approx(20 * 24 / 3000)  # 0.16 of a shard
    # the same plan unsharded: one Query of the first 1 MB page = 256 units x 0.5 = 128
    unsharded = replace(layout, plans=tuple(replace(q, sharded=0) for q in layout.plans))
    u = {x.pattern: x for x in estimate(model, unsharded, Prices.load()).patterns}
    assert u["first_orders_by_status"].read_units_per_request == 0.5  # one Query, 1,351 B
    assert u["orders_by_status"].read_units_per_request == 128
    assert u["orders_by_status"].paged


def test_pages_per_shard() -> None:
    """LIMIT 6,000 on a sharded plan: each of 3 shards reads 6,000 x 193 = 1,158,000 B, two
    pages: 1,048,576 B (128 RRU) and 109,424 B (ceil(26.7) = 27 units x 0.5 = 13.5 RRU)."""
    model, layout = compile_file(SHARDED)
    plans = tuple(
        replace(p, limit=6000) if p.pattern == "orders_by_status" else p for p in layout.plans
    )
    r = estimate(model, replace(layout, plans=plans), Prices.load())
    (page,) = [x for x in r.patterns if x.pattern == "orders_by_status"]
    assert page.queries_per_request == 6  # 3 shards x 2 pages
    assert page.read_units_per_request == pytest.approx(3 * (128 + 13.5))  # 424.5
    assert page.items_per_request == 6000  # the merged answer stops at the limit


def test_a_sharded_partition_has_headroom_per_shard() -> None:
    """GSI1 ORDER#{status}: 5,000 writes/s x 1 WCU over 4 statuses x 3 shards = 416.7 WCU/s per
    shard (1,250 unsharded: over a partition's 1,000); reads 20/s spread over 4 statuses x
    24 RRU per shard Query = 120 RCU/s per shard. Headroom: 416.7 / 1,000 = 0.417 of a
    partition. The table key ORDER#{order_id}: 5,000 / 2,000,000 = 0.0025 WCU/s."""
    model, layout = compile_file(SHARDED)
    r = estimate(_with_rates(model, {"orders_by_status": 20.0}), layout, Prices.load())
    parts = {(x.index, x.pk): x for x in r.partitions}
    gsi1 = parts[("GSI1", "ORDER#{status}")]
    assert (gsi1.partitions, gsi1.shards) == (4, 3)
    assert gsi1.write_units_per_second == pytest.approx(5000 / 12)
    assert gsi1.read_units_per_second == pytest.approx(120)
    assert gsi1.headroom == pytest.approx(5000 / 12 / 1000)
    table = parts[("table", "ORDER#{order_id}")]
    assert table.shards == 1 and table.write_units_per_second == pytest.approx(0.0025)


def test_types_dropped_by_the_key_condition_are_read_and_billed() -> None:
    """profiles: reading a user's profile sections reads the whole USER# partition (the
    sections' sort key starts with a free slot): 2 sections, 1 user, 50 posts, 200 followers.

    Sizes (unbounded strings 32 B, a datetime 27 B, `_type` 5 B, key slot strings 32 B):
    ProfileSection body 4+32, label 5+32, user_id 7+32, _type 5+14, PK 2+5+32, SK 2+32 = 204;
    User name 4+32, user_id 7+32, _type 5+4, PK 2+5+32, SK 2+10+32 = 167;
    Post created_at 10+27, post_id 7+32, user_id 7+32, _type 5+4, PK 39, SK 2+5+32 = 202;
    Follower follower_id 11+32, user_id 7+32, _type 5+8, PK 39, SK 2+9+32 = 177.
    Read: 2 x 204 + 1 x 167 + 50 x 202 + 200 x 177 = 46,075 B = ceil(11.25) = 12 x 0.5 = 6
    RRU (the sections alone, 408 B, would be 0.5)."""
    model, layout = compile_file(PROFILES)
    r = estimate(model, layout, Prices.load())
    assert r.item_bytes == {"ProfileSection": 204, "User": 167, "Post": 202, "Follower": 177}
    (sections,) = [x for x in r.patterns if x.pattern == "profile_sections"]
    assert sections.items_per_request == 2
    assert sections.bytes_per_request == 46_075
    assert sections.read_units_per_request == 6
    assert "dropped by type" in sections.basis


def test_an_index_projecting_less_than_all_fetches_each_item() -> None:
    """costly with GSI1 KEYS_ONLY: the entry holds the table key (PK 2+9+20, SK 2+8) and its own
    (GSI1PK 6+9+20, GSI1SK 6+8) = 90 B; the client then fetches the 144 B item with
    BatchGetItem: 0.5 (Query) + 0.5 (fetch) = 1 RRU per call, 30/s = 30 RRU/s. Storage on GSI1:
    1,000 x (90 + 100) B; its writes ceil(90 / 1,024) = 1 unit x 10/s."""
    model, layout = compile_file(COSTLY)
    keys_only = replace(
        layout,
        indexes=tuple(
            replace(i, projection="KEYS_ONLY") if i.name == "GSI1" else i for i in layout.indexes
        ),
    )
    r = estimate(model, keys_only, Prices.load())
    (by_name,) = [x for x in r.patterns if x.pattern == "customer_by_name"]
    assert by_name.bytes_per_request == 90
    assert by_name.fetch_units_per_request == 0.5
    assert by_name.read_units_per_request == 1.0
    assert by_name.read_units_per_second == 30
    gsi1 = {i.index: i for i in r.indexes}["GSI1"]
    assert gsi1.storage_bytes == 1000 * 190 and gsi1.write_units_per_second == 10


def test_a_sparse_key_counts_only_the_items_that_carry_it() -> None:
    """costly with GSI1 sparse on `name`, NULL in 25% of rows (pg_stats null_frac 0.25): GSI1
    holds 1,000 x 0.75 = 750 items, 750 x (144 + 100) B, and 10 writes/s x 0.75 = 7.5 WCU/s."""
    model, layout = compile_file(COSTLY)
    customer = model.entity("Customer")
    assert customer is not None
    name = replace(customer.attribute("name"), required=False, stats=ir.ColumnStats(null_frac=0.25))
    attrs = tuple(name if a.name == "name" else a for a in customer.attributes)
    model = replace(
        model,
        entities=tuple(
            replace(e, attributes=attrs) if e.name == "Customer" else e for e in model.entities
        ),
    )
    entities = tuple(
        replace(
            el,
            keys=tuple(
                replace(k, sparse=True, sparse_on=("name",)) if k.index == "GSI1" else k
                for k in el.keys
            ),
        )
        for el in layout.entities
    )
    r = estimate(model, replace(layout, entities=entities), Prices.load())
    gsi1 = {i.index: i for i in r.indexes}["GSI1"]
    # the item: name weighs 0.75 x (4 + 20) = 18 B instead of 24: 138 B
    assert r.item_bytes["Customer"] == 138
    assert gsi1.items == 750
    assert gsi1.storage_bytes == 750 * (138 + 100)
    assert gsi1.write_units_per_second == 7.5


def test_lsi_item_collection_by_hand() -> None:
    """lsi_orders: Customer customer_id 11+40, name 4+32, _type 5+8, PK 2+9+40, SK 2+8 = 161 B;
    Order customer_id 11+40, order_id 8+40, placed_at 9+27, shipped_at 10+27, status 6+7 (the
    longest enum value), total 5+8, _type 5+5, PK 2+9+40, SK 2+6+40, and one sort key per LSI
    (the partition key is the table's PK, stored once): LSI1SK 6+6+24 (a decimal slot), LSI2SK
    and LSI3SK 6+6+27 (datetime slots) = 421 B.
    One customer's collection: 1 x (161 + 100) + 50 orders (5,000,000 / 100,000 customers) x
    (421 + 100) x 4 (the table and 3 LSIs projecting ALL) = 261 + 104,200 = 104,461 B."""
    model, layout = compile_file(FIXTURES / "lsi_orders.yaml")
    r = estimate(model, layout, Prices.load())
    assert r.item_bytes == {"Customer": 161, "Order": 421}
    (collection,) = r.collections
    assert collection.pk == "CUSTOMER#{customer_id}"
    assert collection.bytes_per_value == 104_461
    assert collection.share == pytest.approx(104_461 / (10 * 1024**3))
    lsis = {i.index: i for i in r.indexes if i.index.startswith("LSI")}
    assert {i.provisioned_wcu for i in lsis.values()} == {0}  # the table's capacity


def test_a_table_key_on_a_changing_attribute_moves_in_a_transaction() -> None:
    """costly with Customer's table key pinned as CUSTOMER#{name} (a name can change): the
    item is still 144 B (the 20 B name slot replaces the 20-digit id slot). Moving it is
    `update_customer(row, previous=...)`: a Delete and a Put in one TransactWriteItems, 2 x
    (1 + 1) = 4 units per write: 10/s x 4 = 40, plus Order's 100/s x 1 (its key never moves)
    = 140 WCU/s if keys move; 110 when they do not."""
    model, layout = compile_file(COSTLY)
    entities = tuple(
        replace(
            el,
            keys=tuple(
                replace(k, pk="CUSTOMER#{name}") if k.index == "table" else k for k in el.keys
            ),
        )
        if el.entity == "Customer"
        else el
        for el in layout.entities
    )
    r = estimate(model, replace(layout, entities=entities), Prices.load())
    assert r.item_bytes["Customer"] == 144
    table = {i.index: i for i in r.indexes}["table"]
    assert table.moving_attributes == ("Customer.name",)
    assert table.write_units_per_second == 110
    assert table.moved_write_units_per_second == 140


def test_dropped_types_are_read_in_proportion_to_a_limit() -> None:
    """profile_sections with LIMIT 1: the call reads 1 of the partition's 2 sections, so half
    of the dropped items, in key order: 1 x 204 + (1 x 167 + 50 x 202 + 200 x 177) / 2 =
    204 + 45,667 / 2 = 23,037.5 B = ceil(5.62) = 6 units x 0.5 = 3 RRU."""
    model, layout = compile_file(PROFILES)
    plans = tuple(
        replace(p, limit=1) if p.pattern == "profile_sections" else p for p in layout.plans
    )
    r = estimate(model, replace(layout, plans=plans), Prices.load())
    (sections,) = [x for x in r.patterns if x.pattern == "profile_sections"]
    assert sections.items_per_request == 1
    assert sections.bytes_per_request == 23_037.5
    assert sections.read_units_per_request == 3
