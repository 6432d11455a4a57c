"""The partition-load arithmetic (`modeling.compile.sharding`) at compile scale: what it
shares inside one compile (template parses, an entity's whole-item size) never leaks into
another model's figures, and sharing changes no load."""

from __future__ import annotations

import dataclasses

from modeling import cost
from modeling.api import check_text
from modeling.compile import compile_model, sharding
from modeling.core import ir

MODEL = """
model: rates
entities:
  Job:
    key: [id]
    writes_per_second: 5000
    attributes:
      id: string
      state: {{type: string, enum: [a, b, c, d, e, f, g, h, i, j]}}
      at: datetime
{body}access_patterns:
  by_state: {{entity: Job, where: {{state: "=", at: ">="}}}}
"""
# a string with max_length >= 64 is estimated at half of it: 2,500 bytes, so the item is
# between 2 KB and 3 KB: 3 WCU a write
BODY = "      body: {type: string, max_length: 5000}\n"


def _compiled(body: str) -> tuple[ir.Model, ir.Layout]:
    result = check_text(MODEL.format(body=body), "rates.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    layout, bag = compile_model(result.model)
    assert layout is not None, [d.format() for d in bag]
    return result.model, layout


def _by_state(model: ir.Model, layout: ir.Layout) -> sharding.PartitionLoad:
    plan = layout.plan("by_state")
    assert plan is not None
    (load,) = [x for x in sharding.partition_loads(model, layout) if x.index == plan.index]
    return load


def test_same_names_other_sizes_give_their_own_figures() -> None:
    """Three compiles in one process, of two models with the same entity, templates and
    rates but another item size. By hand: 10 states, 5,000 writes/s; a small item (1 WCU)
    puts 500 WCU/s on a partition, exactly the 50 % share: 1 shard; the 2-3 KB item (3 WCU)
    puts 1,500: ceil(1500 / 500) = 3 shards. The first model compiled again gives its own."""
    small_model, small = _compiled("")
    big_model, big = _compiled(BODY)
    again_model, again = _compiled("")
    first, other, last = (
        _by_state(small_model, small),
        _by_state(big_model, big),
        _by_state(again_model, again),
    )
    assert (first.wcu_per_write, first.hot_wcu, first.shards) == (1, 500, 1)
    assert (other.wcu_per_write, other.hot_wcu, other.shards) == (3, 1500, 3)
    assert small.plan("by_state").sharded == 0  # type: ignore[union-attr]
    assert big.plan("by_state").sharded == 3  # type: ignore[union-attr]
    assert last == first and again == small


def test_sharing_the_whole_item_size_changes_no_load() -> None:
    """`partition_loads` works an entity's whole-item size out once for all the indexes that
    store the whole item; each load equals `load_of` asked afresh, also when a GSI projects
    only its keys (a smaller entry: the size must not be shared there)."""
    model, layout = _compiled(BODY)
    gsi = next(i for i in layout.indexes if i.kind == "gsi")
    keys_only = dataclasses.replace(
        layout,
        indexes=tuple(
            dataclasses.replace(i, projection="KEYS_ONLY") if i is gsi else i
            for i in layout.indexes
        ),
    )
    for lay in (layout, keys_only):
        entity = model.entity("Job")
        el = lay.entity("Job")
        assert entity is not None and el is not None
        fresh = []
        for ek in el.keys:
            index = lay.index(ek.index)
            assert index is not None
            fresh.append(sharding.load_of(model, lay, entity, index, ek))
        assert list(sharding.partition_loads(model, lay)) == fresh
    shrunk = [x for x in sharding.partition_loads(model, keys_only) if x.index == gsi.name]
    whole = cost.item_bytes(keys_only, model.entity("Job"))  # type: ignore[arg-type]
    assert shrunk[0].wcu_per_write == 1 < -(-whole // cost.WRITE_UNIT)


def test_hot_loads_are_the_hot_ones_of_every_load() -> None:
    """`hot_loads` skips the keys without a rate on them (`has_rate`): it gives exactly the
    loads of `partition_loads` that need shards, for rates on the entity, on a pattern's
    writes, on a pattern's reads, and none; a key it skips is one `load_of` gives one shard."""
    models = [MODEL.format(body=BODY), MODEL.format(body="").replace("5000", "50000")]
    models.append(models[0].replace("    writes_per_second: 5000\n", ""))
    reads = "  by_state: {entity: Job, where: {state: '='}, rate: {reads_per_second: 40000}}\n"
    models.append(models[2].split("access_patterns:")[0] + "access_patterns:\n" + reads)
    writes = reads.replace("reads_per_second", "writes_per_second").replace("40000", "9000")
    models.append(models[2].split("access_patterns:")[0] + "access_patterns:\n" + writes)
    seen_hot: list[bool] = []
    for text in models:
        result = check_text(text, "rates.yaml")
        assert result.model is not None, [d.format() for d in result.diagnostics]
        model = result.model
        layout, bag = compile_model(model)
        assert layout is not None, [d.format() for d in bag]
        every = list(sharding.partition_loads(model, layout))
        hot = list(sharding.hot_loads(model, layout))
        assert hot == [x for x in every if x.hot]
        seen_hot.append(bool(hot))
        for el in layout.entities:
            entity = model.entity(el.entity)
            assert entity is not None
            for ek in el.keys:
                if not sharding.has_rate(model, layout, entity, ek):
                    index = layout.index(ek.index)
                    assert index is not None
                    assert sharding.load_of(model, layout, entity, index, ek).shards == 1
    # hot: the entity's writes (twice), none without a rate, the pattern's reads, its writes
    assert seen_hot == [True, True, False, True, True]
