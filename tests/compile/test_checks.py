"""One model per diagnostic code of the compiler checks, asserting the code is reported."""

from __future__ import annotations

from dataclasses import replace

from modeling.compile import checks, compile_model
from modeling.core import ir
from modeling.core.diagnostics import Severity

from .builder import entity, model, pattern
from .designs import catalog


def codes(m: ir.Model, severity: Severity | None = None) -> list[str]:
    _layout, bag = compile_model(m)
    return [d.code for d in bag.sorted() if severity is None or d.severity is severity]


def test_too_many_gsis() -> None:
    attrs = {f"a{i}": "string" for i in range(22)}
    m = model(
        "wide",
        [entity("Thing", ["id"], {"id": "string", **attrs})],
        [pattern(f"by_a{i}", "Thing", {f"a{i}": "="}) for i in range(22)],
    )
    layout, bag = compile_model(m)
    assert layout is None
    errors = [d for d in bag.errors if d.code == "too-many-gsis"]
    # none sits on the table: a0..a21 may change, and a table key must not
    assert len(errors) == 1 and "22 GSIs" in errors[0].message


def test_too_many_lsis() -> None:
    pins = {f"lsi{i}": {"pk": "THING#{id}", "sk": f"L{i}#{{a}}"} for i in range(1, 7)}
    pins["table"] = {"pk": "THING#{id}", "sk": "THING"}
    m = model("l", [entity("Thing", ["id"], {"id": "string", "a": "integer"}, keys=pins)], [])
    assert "too-many-lsis" in codes(m, Severity.ERROR)


def test_key_too_long() -> None:
    pins = {"table": {"pk": "X" * 3000 + "#{id}", "sk": "THING"}}
    m = model("k", [entity("Thing", ["id"], {"id": "integer"}, keys=pins)], [])
    assert "key-too-long" in codes(m, Severity.ERROR)


def test_key_empty() -> None:
    pins = {"table": {"pk": "T#{id}", "sk": ""}}
    m = model("k", [entity("Thing", ["id"], {"id": "integer"}, keys=pins)], [])
    assert "key-empty" in codes(m, Severity.ERROR)


def test_unbounded_string_slots_warn_once_per_entity() -> None:
    m, _ = catalog()
    warnings = [c for c in codes(m, Severity.WARNING) if c == "key-length-unknown"]
    assert len(warnings) == len(m.entities)  # every catalog entity keys on a string


def test_bounded_slots_do_not_warn() -> None:
    m = model(
        "b", [entity("Thing", ["id"], {"id": "integer"})], [pattern("get", "Thing", {"id": "="})]
    )
    assert "key-length-unknown" not in codes(m)


def test_colliding_pinned_keys() -> None:
    same = {"table": {"pk": "ITEM#{id}", "sk": "ITEM"}}
    m = model(
        "c",
        [
            entity("A", ["id"], {"id": "string"}, keys=same),
            entity("B", ["id"], {"id": "string"}, keys=same),
        ],
        [],
    )
    layout, bag = compile_model(m)
    assert layout is None
    assert [d.code for d in bag.errors] == ["key-collision"]


def test_pinned_keys_with_distinct_sort_prefixes_do_not_collide() -> None:
    m = model(
        "c",
        [
            entity("A", ["id"], {"id": "string"}, keys={"table": {"pk": "ITEM#{id}", "sk": "A"}}),
            entity(
                "B", ["id"], {"id": "string"}, keys={"table": {"pk": "ITEM#{id}", "sk": "B#{id}"}}
            ),
        ],
        [],
    )
    assert "key-collision" not in codes(m)


def test_pinned_keys_are_honoured_verbatim() -> None:
    pins = {
        "table": {"pk": "P#{product_id}", "sk": "META"},
        "gsi1": {"pk": "B#{brand_id}", "sk": "P#{created_at}"},
    }
    base, _ = catalog()
    product = replace(
        base.entity("Product"),  # type: ignore[type-var]
        pinned_keys=tuple(ir.PinnedKey(i, k["pk"], k["sk"]) for i, k in pins.items()),
    )
    m = replace(base, entities=tuple(product if e.name == "Product" else e for e in base.entities))
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    keys = {k.index: k for k in layout.entity("Product").keys}  # type: ignore[union-attr]
    assert (keys["table"].pk, keys["table"].sk, keys["table"].pinned) == (
        "P#{product_id}",
        "META",
        True,
    )
    assert (keys["GSI1"].pk, keys["GSI1"].sk) == ("B#{brand_id}", "P#{created_at}")
    assert layout.plan("products_of_brand_newest_first").index == "GSI1"  # type: ignore[union-attr]


def test_hot_partition_enum_and_rate() -> None:
    m = model(
        "h",
        [
            entity(
                "Job",
                ["id"],
                {
                    "id": "string",
                    "state": {"type": "string", "enum": ["new", "done"]},
                    "at": "datetime",
                    "q": {"type": "string", "stats": 12},
                },
            )
        ],
        [
            pattern("by_state", "Job", {"state": "=", "at": ">="}),
            pattern("get", "Job", {"id": "="}, rate={"reads_per_second": 5000}),
            pattern("by_q", "Job", {"q": "="}),
        ],
    )
    _layout, bag = compile_model(m)
    hot = sorted(d.subject or "" for d in bag.items if d.code == "hot-partition")
    assert hot == ["by_q", "by_state", "get"]


def test_non_key_filter_reported_with_read_cost() -> None:
    m = model(
        "f",
        [entity("Job", ["id"], {"id": "string", "owner": "string", "size": "integer"})],
        [pattern("by_owner_big", "Job", {"owner": "="}, filter={"size": ">"})],
    )
    layout, bag = compile_model(m)
    infos = [d for d in bag.items if d.code == "non-key-filter"]
    assert len(infos) == 1 and "RCU" in infos[0].message
    assert layout is not None and layout.plans[0].filters[0].attribute == "size"


def test_unservable_pattern_error() -> None:
    m = model(
        "u",
        [entity("Job", ["id"], {"id": "string", "a": "integer", "b": "integer"})],
        [pattern("two", "Job", {"a": ">", "b": "<"})],
    )
    layout, bag = compile_model(m)
    assert layout is None and [d.code for d in bag.errors] == ["unservable-pattern"]
    assert bag.errors[0].hint and "filter" in bag.errors[0].hint


def test_every_pattern_planned_and_bindings_checks_catch_broken_layouts() -> None:
    m, _ = catalog()
    layout, _bag = compile_model(m)
    assert layout is not None
    dropped = replace(layout, plans=layout.plans[1:])
    assert [d.code for d in checks.check_every_pattern_planned(dropped, m)] == [
        "unservable-pattern"
    ]
    plan = layout.plans[0]
    unbound = replace(layout, plans=(replace(plan, pk=replace(plan.pk, bindings=())),))
    assert [d.code for d in checks.check_plan_bindings(unbound, m)] == ["unbound-partition"]


def test_pk_only_pinned_gsi_gets_an_index_without_sort_key() -> None:
    m = model(
        "g",
        [
            entity(
                "Txn",
                ["id"],
                {"id": "string", "account": "string"},
                keys={"table": {"pk": "TXN#{id}", "sk": "TXN"}, "gsi1": {"pk": "ACCT#{account}"}},
            )
        ],
        [pattern("txns_of_account", "Txn", {"account": "="})],
    )
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    gsi = layout.index("GSI1")
    assert gsi is not None and gsi.sk is None
    assert layout.plan("txns_of_account").index == "GSI1"  # type: ignore[union-attr]


def test_pk_only_pinned_key_beside_a_sort_key_is_an_error() -> None:
    m = model(
        "g",
        [
            entity("A", ["id"], {"id": "string"}, keys={"table": {"pk": "A#{id}"}}),
            entity("B", ["id"], {"id": "string"}),
        ],
        [pattern("get_b", "B", {"id": "="})],
    )
    layout, bag = compile_model(m)
    assert layout is None
    assert "missing-sort-key" in [d.code for d in bag.errors]
