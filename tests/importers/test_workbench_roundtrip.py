"""Workbench export (Layout → JSON) and its round trip: export → import → export is stable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit import emitters
from modeling.emit.workbench import export_workbench
from modeling.importers.workbench import ImportResult, import_text, import_workbench, render_yaml
from modeling.runtime import keys

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "workbench"
FIXTURES = ROOT / "tests" / "fixtures" / "workbench"


def _compile(model: ir.Model) -> ir.Layout:
    layout, diags = compile_model(model)
    assert layout is not None, [d.format() for d in diags.errors]
    return layout


def _models(result: ImportResult, folder: Path) -> list[ir.Model]:
    assert result.ok, [d.format() for d in result.diagnostics]
    out = []
    for plan in result.plans:
        path = folder / f"{plan.model}.yaml"
        path.write_text(render_yaml(plan), encoding="utf-8")
        out.append(load_model(path))
    return out


def _export(model: ir.Model) -> dict[str, Any]:
    return export_workbench(_compile(model), model)


def _reexport(exported: dict[str, Any], folder: Path) -> dict[str, Any]:
    (model,) = _models(import_text(json.dumps(exported), "exported.json"), folder)
    return _export(model)


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


@pytest.fixture
def shop() -> ir.Model:
    return load_model(FIXTURES / "all_types.yaml")


def test_export_has_a_facet_per_entity_with_template_aliases(shop: ir.Model) -> None:
    layout = _compile(shop)
    data = export_workbench(layout, shop)
    assert data["ModelName"] == "shop" and data["ModelMetadata"]["Version"] == "3.0"
    assert data["ModelMetadata"]["DateCreated"] == ""  # no timestamps: reproducible
    (table,) = data["DataModel"]
    assert table["TableName"] == "Shop"
    assert table["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedCapacitySettings"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 7,
        "WriteCapacityUnits": 3,
    }
    facets = {f["FacetName"]: f for f in table["TableFacets"]}
    assert list(facets) == ["Customer", "Order"]
    assert facets["Order"]["KeyAttributeAlias"] == {
        "PartitionKeyAlias": "CUSTOMER#{customer_id}",
        "SortKeyAlias": "ORDER#{order_no}",
    }
    # GSI templates, which facets cannot alias, are in the ModelSchema block
    order_schema = table["ModelSchema"]["models"]["Order"]
    assert order_schema["GSI1PK"]["value"] == "COUPON#${coupon}"
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["GSI1"]
    declared = [a["AttributeName"] for a in table["NonKeyAttributes"]]
    assert declared == sorted(declared) and len(declared) == len(set(declared))


def test_sample_items_carry_encoded_keys_and_omit_optionals(shop: ir.Model) -> None:
    layout = _compile(shop)
    data = export_workbench(layout, shop)
    order = next(f for f in data["DataModel"][0]["TableFacets"] if f["FacetName"] == "Order")
    first, second = order["TableData"]
    # keys are what the transformers write: slots encoded with modeling.runtime.keys
    assert first["SK"] == {"S": "ORDER#" + keys.encode("integer", 1)}
    assert first["PK"] == {"S": "CUSTOMER#00000000-0000-0000-0000-000000000001"}
    assert first["_type"] == {"S": "Order"}
    # the optional `coupon` (the sparse GSI's slot) is only in the first item, so is GSI1
    assert first["coupon"] == {"S": "coupon-1"} and first["GSI1PK"] == {"S": "COUPON#coupon-1"}
    assert "coupon" not in second and "GSI1PK" not in second
    assert first["sizes"] == {"NS": ["1", "11"]} and first["receipt"] == {"B": "AQ=="}
    assert first["lines"] == {"L": [{"S": "lines-1"}]}


def test_import_of_an_export_recovers_types_keys_and_optionality(
    shop: ir.Model, tmp_path: Path
) -> None:
    (again,) = _models(import_text(json.dumps(_export(shop)), "shop.json"), tmp_path)
    assert [e.name for e in again.entities] == ["Customer", "Order"]
    for entity in shop.entities:
        back = again.entity(entity.name)
        assert back is not None
        assert {(k.index, k.pk, k.sk) for k in back.pinned_keys} == {
            (k.index, k.pk, k.sk) for k in entity.pinned_keys
        }
        for a in entity.attributes:
            got = back.attribute(a.name)
            assert got is not None, a.name
            # Workbench stores float and decimal alike (N): float comes back as decimal
            expected = "decimal" if a.type.kind == "float" else str(a.type)
            assert (str(got.type), got.required) == (expected, a.required), a.name


def test_export_import_export_is_stable_for_a_hand_written_model(
    shop: ir.Model, tmp_path: Path
) -> None:
    first = _export(shop)
    assert _text(_reexport(first, tmp_path)) == _text(first)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/workbench is not present")
@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.glob("*.json")))
def test_export_import_export_is_stable_for_each_shared_export(name: str, tmp_path: Path) -> None:
    for n, model in enumerate(_models(import_workbench(SHARED / name), tmp_path)):
        first = _export(model)
        folder = tmp_path / str(n)
        folder.mkdir()
        assert _text(_reexport(first, folder)) == _text(first), f"{name}: {model.name}"


def test_registered_emitter_writes_workbench_json(shop: ir.Model) -> None:
    layout = _compile(shop)
    manifest = emitters()["workbench"](layout, shop)
    assert list(manifest) == ["workbench.json"]
    assert json.loads(manifest["workbench.json"]) == export_workbench(layout, shop)
    assert manifest == emitters()["workbench"](layout, shop)  # deterministic
