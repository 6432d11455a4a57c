"""A pattern goes on its entity's own pinned index (issue 13, item 4), not on the first index
that merely fits: there the entity would get a derived key of its own, one more index write per
item (and, with slot-first pinned keys, a key that can collide with the index owner's)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from modeling.api import load_model
from modeling.compile import assign, compile_model, derive
from modeling.core import ir
from modeling.core.key_parts import always_empty
from modeling.importers.workbench import import_workbench, render_yaml
from modeling.runtime import keys

from .builder import entity, model, pattern

WORKBENCH = Path("/work/shared/workbench")


def _ledger() -> ir.Model:
    return model(
        "ledger",
        [
            entity(
                "Ledger",
                ["id"],
                {"id": "string", "owner": "string", "at": "datetime"},
                keys={
                    "table": {"pk": "LEDGER#{id}", "sk": "LEDGER"},
                    "gsi1": {"pk": "OWNER#{owner}", "sk": "LEDGER#{at}"},
                },
            ),
            entity(
                "Entry",
                ["id"],
                {"id": "string", "owner": "string", "at": "datetime"},
                keys={
                    "table": {"pk": "ENTRY#{id}", "sk": "ENTRY"},
                    "gsi2": {"pk": "OWNER#{owner}", "sk": "ENTRY#{at}"},
                },
            ),
        ],
        [
            pattern("ledgers_of_owner", "Ledger", {"owner": "=", "at": ">="}),
            pattern("entries_of_owner", "Entry", {"owner": "=", "at": ">="}),
        ],
    )


def test_a_pattern_uses_its_entitys_pinned_gsi() -> None:
    layout, bag = compile_model(_ledger())
    assert layout is not None, [d.format() for d in bag.errors]
    assert layout.plan("entries_of_owner").index == "GSI2"  # type: ignore[union-attr]
    assert layout.plan("ledgers_of_owner").index == "GSI1"  # type: ignore[union-attr]
    # Entry is written to its own GSI2 only: no derived key on Ledger's GSI1
    entry = layout.entity("Entry")
    assert entry is not None and [k.index for k in entry.keys] == ["table", "GSI2"]
    assert all(k.pinned for k in entry.keys)


def test_the_choice_is_deterministic_and_the_search_stays_minimal() -> None:
    first, again = derive(_ledger()), derive(_ledger())
    assert first.assignment == again.assignment
    assert first.search.indexes == first.search.lower_bound == 3


def _partition_reads(m: ir.Model) -> tuple[ir.Model, dict[str, set[str]]]:
    """`m` plus, for every pinned key with a varying partition key, a pattern that reads one
    partition of it (partition-key equality only), and each pattern's own pinned indexes."""
    extra: list[ir.AccessPattern] = []
    own: dict[str, set[str]] = {}
    for e in m.entities:
        for key in e.pinned_keys:
            slots = keys.parse_template(key.pk).slots
            if not slots:
                continue
            name = f"{e.name.lower()}_by_{key.index}_partition"
            extra.append(
                ir.AccessPattern(name, (e.name,), tuple(ir.Condition(s, "=") for s in slots))
            )
            own[name] = {
                assign.index_name(k.index)
                for k in e.pinned_keys
                if set(keys.parse_template(k.pk).slots) == set(slots)
            }
    return replace(m, patterns=(*m.patterns, *extra)), own


@pytest.mark.skipif(not WORKBENCH.is_dir(), reason="/work/shared/workbench is not present")
def test_shared_workbench_exports_partition_reads_use_their_pinned_index(tmp_path: Path) -> None:
    """Every shared Workbench export, imported with its keys pinned, plus a read of one
    partition of each pinned key: each read lands on the entity's own pinned index, and its
    key condition is one DynamoDB accepts (a slot-first sort key gets no begins_with(SK, ""))."""
    seen = 0
    for path in sorted(WORKBENCH.glob("*.json")):
        result = import_workbench(path)
        assert result.ok, [d.format() for d in result.diagnostics]
        for table in result.plans:
            out = tmp_path / f"{table.model}.yaml"
            out.write_text(render_yaml(table), encoding="utf-8")
            m, own = _partition_reads(load_model(out))
            layout, bag = compile_model(m)
            assert layout is not None, [d.format() for d in bag.errors]
            for name, indexes in own.items():
                plan = layout.plan(name)
                assert plan is not None and plan.index in indexes, (table.model, name)
                for kv in (plan.pk, *plan.sk.values):
                    assert not always_empty(kv), (table.model, name)
                seen += 1
    assert seen >= 8
