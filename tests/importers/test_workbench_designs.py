"""Workbench import on AWS's published designs and the shared exports (issue 14, item 8):
the design's separator, constant descriptors against data slots, warnings for slots read
from one item or from coincidentally equal values, `${a}${b}` templates, and models that
compile with the published number of indexes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modeling.api import check_text
from modeling.cli import app
from modeling.compile import compile_model
from modeling.importers.workbench import ImportResult, import_text, import_workbench, render_yaml
from modeling.importers.workbench.templates import KeyTemplate, detect_separator, split_key

ROOT = Path(__file__).resolve().parents[2]
AWS = ROOT / "tests" / "fixtures" / "workbench" / "aws"
SHARED = ROOT.parent / "shared" / "workbench"
DESIGNS = sorted(AWS.glob("*.json")) + sorted(SHARED.glob("*.json"))


def _keys(result: ImportResult) -> dict[str, dict[str, tuple[str, str | None]]]:
    (plan,) = result.plans
    return {
        e.name: {k.index: (k.pk.text, k.sk.text if k.sk else None) for k in e.keys}
        for e in plan.entities
    }


def _diags(result: ImportResult, code: str) -> list[str]:
    return [d.message for d in result.diagnostics if d.code == code]


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_design_compiles_with_the_published_index_count(path: Path) -> None:
    result = import_workbench(path)
    assert result.ok, [d.format() for d in result.diagnostics]
    tables = json.loads(path.read_text(encoding="utf-8"))["DataModel"]
    assert len(result.plans) == len(tables)
    for plan, table in zip(result.plans, tables, strict=True):
        checked = check_text(render_yaml(plan), f"{plan.model}.yaml")
        assert checked.ok and checked.model is not None, [d.format() for d in checked.diagnostics]
        layout, diags = compile_model(checked.model)
        assert layout is not None and not diags.errors, [d.format() for d in diags.errors]
        published = len(table.get("GlobalSecondaryIndexes") or [])
        assert len(layout.gsis) == published
        if not any(e.unpinned for e in plan.entities):
            # every observed key kept: the layout is the design's own
            for e in plan.entities:
                for k in e.keys:
                    index = next(i.name for i in layout.indexes if i.alias == k.index)
                    got = layout.entity(e.name).key(index)  # type: ignore[union-attr]
                    assert got is not None
                    assert (got.pk, got.sk) == (k.pk.text, k.sk.text if k.sk else None)


def test_chat_system_keys_use_a_colon() -> None:
    """AWS's ChatSystem writes `User:UserA` and `Room:Music`: two entities, not one."""
    result = import_workbench(AWS / "ChatSystemSchema.json")
    keys = _keys(result)
    assert keys["User"]["table"] == ("User:{user_id}", "{user_sk}")
    assert keys["Room"]["table"] == ("Room:{room_id}", "meta")
    (plan,) = result.plans
    assert any("key separator ':'" in n for n in plan.entities[0].notes)
    # a timestamp's `:` is not a separator
    assert split_key("2023-04-01T12:00:00.001Z", ":") == ["2023-04-01T12:00:00.001Z"]
    assert split_key("User:2023-04-01T12:00:00Z:x", ":") == ["User", "2023-04-01T12:00:00Z", "x"]


@pytest.mark.parametrize(
    ("values", "sep"),
    [
        (["User:UserA", "Room:Music", "2023-04-01T12:00:00.001Z"], ":"),
        (["CUST#1", "ORDER#2", "a:b"], "#"),
        (["T|1", "T|2", "X#1"], "|"),
        (["plain", "2024-01-01T00:00:00Z"], "#"),
    ],
)
def test_detect_separator(values: list[str], sep: str) -> None:
    assert detect_separator(values)[0] == sep


def test_social_network_descriptors_are_literal_text() -> None:
    """`u#12345#follower` / `#following` / `#post` are item types, not data: one entity each,
    with the descriptor written as literal text; quoted constant sort keys stay constant."""
    keys = _keys(import_workbench(AWS / "SocialNetworkSchema.json"))
    assert keys["Follower"]["table"] == ("u#{u_id}#follower", "u#{u_id_key}")
    assert keys["Following"]["table"] == ("u#{u_id}#following", "u#{u_id_key}")
    assert keys["Post"]["table"] == ("u#{u_id}#post", "p#{p_id}")
    assert keys["UInfo"]["table"] == ("u#{u_id}", '"info"')
    assert keys["Likecount"]["table"] == ("p#{p_id}#likecount", '"count"')
    slots = {
        s
        for e in keys.values()
        for pk, sk in e.values()
        for t in (pk, sk or "")
        for s in KeyTemplate.parse(t).slots
    }
    assert slots == {"u_id", "u_id_key", "p_id"}  # no descriptor became a slot


def test_recurring_payments_coincidence_and_one_sample_are_warned() -> None:
    result = import_workbench(AWS / "RecurringPaymentsSchema.json")
    keys = _keys(result)
    # SUB#123 equals the account id 123 in the one sample item, but the tag says SUB
    assert keys["Subscription"]["table"] == ("ACC#{acc_id}", "SUB#{sub_id}#SKU#{SKU}")
    (coincidence,) = _diags(result, "workbench-slot-coincidence")
    assert "after 'SUB' equals attribute 'acc_id'" in coincidence
    one = _diags(result, "workbench-one-sample")
    assert any("Subscription's SK" in m and "SUB#123#SKU#999" in m for m in one)


def _export(items: list[dict[str, Any]], model_schema: dict[str, Any] | None = None) -> str:
    table: dict[str, Any] = {
        "TableName": "t",
        "KeyAttributes": {
            "PartitionKey": {"AttributeName": "PK", "AttributeType": "S"},
            "SortKey": {"AttributeName": "SK", "AttributeType": "S"},
        },
        "NonKeyAttributes": [{"AttributeName": "name", "AttributeType": "S"}],
        "TableData": items,
    }
    if model_schema is not None:
        table["ModelSchema"] = model_schema
    return json.dumps(
        {
            "ModelName": "one",
            "ModelMetadata": {"Version": "3.0", "Description": ""},
            "DataModel": [table],
        }
    )


def test_one_sample_item_keeps_its_literals() -> None:
    """With one item nothing varies; `profile` and `meta` are still literal text."""
    text = _export([{"PK": {"S": "u#1001#profile"}, "SK": {"S": "meta"}, "name": {"S": "Ann"}}])
    result = import_text(text, "one.json")
    assert result.ok
    (entity,) = _keys(result).values()
    assert entity["table"] == ("u#{u_id}#profile", "meta")
    assert _diags(result, "workbench-one-sample")
    checked = check_text(render_yaml(result.plans[0]), "one.yaml")
    assert checked.ok and checked.model is not None
    assert not compile_model(checked.model)[1].errors


def test_adjacent_slots_template_imports_validly() -> None:
    """A ModelSchema value `${a}${b}` used to become `{a}{b}`, which the loader rejects."""
    schema = {
        "models": {
            "thing": {
                "type": {"type": "String"},
                "PK": {"type": "String", "value": "${region}${shop}"},
                "SK": {"type": "String", "value": "THING#${thing_id}"},
                "region": {"type": "String"},
                "shop": {"type": "String"},
                "thing_id": {"type": "String"},
            }
        }
    }
    items = [
        {"PK": {"S": "eushop1"}, "SK": {"S": "THING#1"}, "type": {"S": "thing"}},
        {"PK": {"S": "usshop2"}, "SK": {"S": "THING#2"}, "type": {"S": "thing"}},
    ]
    result = import_text(_export(items, schema), "adj.json")
    assert result.ok, [d.format() for d in result.diagnostics]
    keys = _keys(result)
    assert keys["Thing"]["table"][0] == "{region}#{shop}"
    assert _diags(result, "workbench-adjacent-slots")
    checked = check_text(render_yaml(result.plans[0]), "adj.yaml")
    assert checked.ok, [d.format() for d in checked.diagnostics]


def test_cli_self_check_runs_and_the_report_says_ok(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    res = CliRunner().invoke(
        app,
        [
            *("import", "--from-workbench", str(AWS / "ChatSystemSchema.json")),
            *("-o", str(tmp_path / "chat.yaml"), "--report", str(report)),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(report.read_text())
    assert not [d for d in data["diagnostics"] if d["code"] == "workbench-self-check"]
