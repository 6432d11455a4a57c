"""A key slot shared by a sparse index key and a later unconditional one (real DDL, GitLab's
`namespaces`: a unique (name, parent_id, type) index and one on type alone).

The sparse key's code runs under `if parent_id is not None:` after the unconditional keys; an
encoded slot it defined there must not be read by another key: before the fix every Namespace
row failed with `UnboundLocalError: cannot access local variable 'k3'` (a dead letter each in
`model migrate demo`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.sample import codec

from .test_transformers import load_package

MODEL = """\
model: shared-locals
source: {dialect: postgres}
entities:
  Namespace:
    table: namespaces
    key: [id]
    attributes:
      id: integer
      name: string
      parent_id: {type: integer, required: false}
      type: string
access_patterns:
  by_name_parent_type:
    entity: Namespace
    where: {name: "=", parent_id: "=", type: "="}
    unique: true
  by_type:
    entity: Namespace
    where: {type: "="}
  by_parent_then_name:
    entity: Namespace
    where: {parent_id: "="}
    order_by: name
"""


def _canonical(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True)


@pytest.mark.parametrize("parent_id", [None, 7])
def test_sparse_key_locals_are_not_read_by_other_keys(tmp_path: Path, parent_id: Any) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MODEL, encoding="utf-8")
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    t = load_package(layout, model, tmp_path / "gen")
    entity = model.entity("Namespace")
    assert entity is not None
    row = {"id": 3, "name": "Beta", "parent_id": parent_id, "type": "Group"}
    item = t.TO_ITEM["Namespace"](row)
    # the independent codec of `modeling.sample` (verify's) builds the same item
    assert _canonical(item) == _canonical(codec.to_item(model, layout, entity, row))
    assert t.from_item(item) == ("Namespace", row)
    # the sparse keys vanish with parent_id, the one on type stays
    by_type = [v["S"] for k, v in item.items() if k.endswith("PK") and "Group" in v["S"]]
    assert by_type, item
    assert (parent_id is None) == all("7" not in v.get("S", "") for v in item.values())
