"""Published NoSQL Workbench designs reproduced with their keys pinned (issue 13, item 4).

Each model under tests/fixtures/models/workbench/ pins the keys of one table of a shared AWS
export verbatim (GSI keys with no literal prefix, such as a bare `{TransactionID}` or a
write-sharded `{Sharded_GSI_PK}`), with access patterns the design was made for. They must
compile to the published number of indexes, with every pattern on one of its entity's pinned
indexes and no derived key added; the templates are the ones `model import` reads from the
export's sample items.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modeling.api import load_model
from modeling.cli import app
from modeling.compile import assign, compile_model
from modeling.core import ir
from modeling.importers.workbench import import_workbench, render_yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/models/workbench"
WORKBENCH = Path("/work/shared/workbench")

# fixture -> (export, table, published GSIs). The count is the export's
# `GlobalSecondaryIndexes` length, checked against the export itself when it is present.
PUBLISHED: dict[str, tuple[str, str, int]] = {
    "payment_scheduler": ("BankModel.json", "PaymentScheduler", 1),
    "transaction_history": ("BankModel.json", "TransactionHistory", 2),
    "cart": ("CartModel.json", "CartTable", 1),
    "game_player_profiles": ("GamePlayerProfiles.json", "game-player-profiles", 0),
}


def _load(name: str) -> ir.Model:
    with contextlib.chdir(FIXTURES):
        return load_model(Path(f"{name}.yaml"))


def _templates(m: ir.Model) -> set[tuple[str, str, str | None]]:
    """(index, pk, sk) of every pinned key, attribute names folded as the importer renames."""

    def fold(text: str | None) -> str | None:
        return text.replace("-", "_") if text is not None else None

    return {(k.index, fold(k.pk) or "", fold(k.sk)) for e in m.entities for k in e.pinned_keys}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_a_published_design_compiles_to_its_published_index_count(name: str) -> None:
    _export, _table, gsis = PUBLISHED[name]
    m = _load(name)
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    assert len(layout.gsis) == gsis and not layout.lsis
    for el in layout.entities:
        entity = m.entity(el.entity)
        assert entity is not None
        pinned = {assign.index_name(k.index): k for k in entity.pinned_keys}
        # the published keys, verbatim, and no derived key beside them
        assert {k.index for k in el.keys} == set(pinned), el.entity
        for key in el.keys:
            assert key.pinned and (key.pk, key.sk) == (pinned[key.index].pk, pinned[key.index].sk)
    for plan in layout.plans:
        for name_ in plan.entities:
            entity = m.entity(name_)
            assert entity is not None
            assert plan.index in {assign.index_name(k.index) for k in entity.pinned_keys}


@pytest.mark.skipif(not WORKBENCH.is_dir(), reason="/work/shared/workbench is not present")
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_fixture_pins_what_the_export_publishes(name: str, tmp_path: Path) -> None:
    """The published GSI count is the export's, and `model import` reads the same key
    templates from the export's sample items as the fixture pins."""
    export, table, gsis = PUBLISHED[name]
    data: dict[str, Any] = json.loads((WORKBENCH / export).read_text(encoding="utf-8"))
    tables = {t["TableName"]: t for t in data["DataModel"]}
    assert len(tables[table].get("GlobalSecondaryIndexes", [])) == gsis
    result = import_workbench(WORKBENCH / export, table=table)
    assert result.ok, [d.format() for d in result.diagnostics]
    (plan,) = result.plans
    imported = tmp_path / f"{name}.yaml"
    imported.write_text(render_yaml(plan), encoding="utf-8")
    assert _templates(load_model(imported)) == _templates(_load(name))


def test_the_mutable_status_of_the_cart_key_is_called_out() -> None:
    """AWS's cart keys the table on Status#Date: moving a line between Active, Saved and
    Purchased is a delete + put, kept as published and warned about."""
    layout, bag = compile_model(_load("cart"))
    assert layout is not None
    assert [(d.code, d.subject) for d in bag if d.code == "mutable-table-key"] == [
        ("mutable-table-key", "CartLine")
    ]


def test_the_player_profile_is_one_get_item_and_the_loadout_skips_tasks() -> None:
    layout, _bag = compile_model(_load("game_player_profiles"))
    assert layout is not None
    profile = layout.plan("player_profile")
    assert profile is not None and profile.operation == "GetItem"
    loadout = layout.plan("player_loadout")
    assert loadout is not None and loadout.sk.kind == "between"
    est = loadout.read_estimate
    # Activity and Friends sort between the members' prefixes; Task sorts after: not read
    assert est is not None and set(est.dropped) == {"Activity", "Friends"}
    activities = layout.plan("player_with_activities")
    assert activities is not None and activities.type_filter == ()


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["cart", "game_player_profiles", "transaction_history"])
def test_a_published_design_verifies_on_dynamodb_local(name: str, dynamodb_local: Any) -> None:
    result = CliRunner().invoke(
        app,
        [
            "verify",
            str(FIXTURES / f"{name}.yaml"),
            "--endpoint",
            dynamodb_local.endpoint_url,
            "--trials",
            "8",
            "--json",
        ],
    )
    report = json.loads(result.stdout)
    bad = {p["pattern"]: p["failures"][:1] for p in report["patterns"] if p["status"] != "ok"}
    assert result.exit_code == 0 and report["ok"], bad
    assert {p["pattern"] for p in report["patterns"]} == {p.name for p in _load(name).patterns}
