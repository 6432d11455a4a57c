"""Per-pass fixtures, the way sqlglot gives each optimizer pass its own fixture file.

`tests/compile/fixtures/<pass>/*.yaml` each hold a small model (DSL text, loaded by the real
loader), the layout fragment that pass produces, and `why`: one line saying why that fragment
is the right answer. The test runs the pass chain (`modeling.compile.PASSES`) up to the pass
and compares only what that pass adds:

- build_keys: the indexes and every entity's key templates per index (with the optional
  attributes that make a key sparse, whether it is pinned, which patterns it serves);
- build_plans: every pattern's index, operation, partition-key value, sort-key condition
  (kind and rendered values: template, render mode, slot bindings), order, client type filter,
  filters, whether the key condition alone is exact, and the diagnostics the pass adds.

`UPDATE_FIXTURES=1 pytest tests/compile/test_pass_fixtures.py` rewrites the `expected`
sections from the current output (review the diff, and the `why` lines, before committing).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from modeling.api import check_text
from modeling.compile import PASSES
from modeling.compile.entity_keys import build_keys
from modeling.compile.plans import build_plans
from modeling.compile.state import Derivation
from modeling.core import ir

FIXTURES = Path(__file__).parent / "fixtures"
FIELDS = ("why", "model", "expected")


def run_until(
    model: ir.Model, target: Callable[[ir.Model, Derivation], Derivation]
) -> tuple[Derivation, Derivation]:
    """The states before and after `target`, running the passes in their real order."""
    state = Derivation()
    for step in PASSES:
        before = state
        state = step(model, state)
        if step is target:
            return before, state
    raise AssertionError(f"{target.__name__} is not in PASSES")


def _value(v: ir.KeyValue) -> str:
    binds = [
        f"{b.slot}={b.literal!r}" if b.literal is not None else f"{b.slot}=:{b.param}"
        for b in v.bindings
    ]
    return f"{v.template} {v.mode}" + (f" [{', '.join(binds)}]" if binds else "")


def keys_fragment(before: Derivation, after: Derivation) -> dict[str, Any]:
    indexes = {i.name: f"{i.pk.name} / {i.sk.name}" if i.sk else i.pk.name for i in after.indexes}
    entities: dict[str, Any] = {}
    for layout in after.entity_layouts:
        keys: dict[str, Any] = {}
        for k in layout.keys:
            key: dict[str, Any] = {"pk": k.pk, "sk": k.sk}
            if k.sparse_on:
                key["sparse_on"] = list(k.sparse_on)
            if k.pinned:
                key["pinned"] = True
            if k.purpose:
                key["serves"] = list(k.purpose)
            keys[k.index] = key
        entities[layout.entity] = keys
    return {"indexes": indexes, "entities": entities}


def plans_fragment(before: Derivation, after: Derivation) -> dict[str, Any]:
    plans: dict[str, Any] = {}
    for p in after.plans:
        plan: dict[str, Any] = {
            "index": p.index,
            "operation": p.operation,
            "pk": _value(p.pk),
            "sk": p.sk.kind
            if p.sk.kind == "none"
            else {p.sk.kind: [_value(v) for v in p.sk.values]},
            "order": "asc" if p.scan_forward else "desc",
        }
        if p.type_filter:
            plan["type_filter"] = list(p.type_filter)
        if p.filters:
            plan["filters"] = [
                f"{f.attribute} {f.op} {', '.join(':' + x for x in f.params)}" for f in p.filters
            ]
        plan["exact"] = not p.type_filter and not p.filters
        plans[p.pattern] = plan
    added = after.diagnostics[len(before.diagnostics) :]
    out: dict[str, Any] = {"plans": plans}
    if added:
        out["diagnostics"] = [f"{d.severity.value} {d.code} {d.subject}" for d in added]
    return out


PASS_UNDER_TEST: dict[str, tuple[Callable[[ir.Model, Derivation], Derivation], Any]] = {
    "build_keys": (build_keys, keys_fragment),
    "build_plans": (build_plans, plans_fragment),
}


def _cases() -> list[tuple[str, Path]]:
    return [
        (name, path)
        for name in sorted(PASS_UNDER_TEST)
        for path in sorted((FIXTURES / name).glob("*.yaml"))
    ]


class _Literal(str):
    pass


def _dump(doc: dict[str, Any]) -> str:
    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(
        _Literal, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    )
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=10_000, allow_unicode=True)


def test_every_pass_under_test_has_fixture_files() -> None:
    for name in PASS_UNDER_TEST:
        files = sorted((FIXTURES / name).glob("*.yaml"))
        assert len(files) >= 5, f"{name}: {len(files)} fixture files"
        for path in files:
            doc = yaml.safe_load(path.read_text())
            assert list(doc) == list(FIELDS), f"{path}: keys {list(doc)}"
            assert isinstance(doc["why"], str) and doc["why"].strip(), f"{path}: no why"


@pytest.mark.parametrize(
    ("name", "path"), _cases(), ids=lambda v: v if isinstance(v, str) else v.stem
)
def test_pass_fixture(name: str, path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    result = check_text(doc["model"], f"fixtures/{name}/{path.name}")
    assert result.model is not None, [d.format() for d in result.diagnostics.errors]
    target, fragment = PASS_UNDER_TEST[name]
    actual = fragment(*run_until(result.model, target))
    if os.environ.get("UPDATE_FIXTURES") == "1":
        doc["model"] = _Literal(doc["model"])
        doc["expected"] = actual
        path.write_text(_dump(doc))
    assert actual == doc["expected"], (
        f"{path.name}: the pass output differs (UPDATE_FIXTURES=1 rewrites; review the diff)\n"
        + _dump(actual)
    )
