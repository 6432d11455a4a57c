"""Diagrams: golden DOT per example model, determinism under reordering, escaping, and the
graph structure checked against the model (edges from `references`/`parent`, collections
from the layout's key templates). SVG is only checked for content, never byte for byte.

UPDATE_GOLDEN=1 rewrites tests/docs/golden/<model>/<diagram>.dot from the current output.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
from pathlib import Path

import pytest
from docs_support import require

from modeling.core.ir import (
    Attribute,
    Entity,
    EntityKey,
    EntityLayout,
    Index,
    KeyAttribute,
    KeyValue,
    Layout,
    Model,
    PatternPlan,
    SortKeyCondition,
    TableSettings,
    TypeRef,
)
from modeling.emit import diagrams as dg

GOLDEN = Path(__file__).parent / "golden"


def _check_golden(path: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
    assert path.exists(), f"missing golden {path}; run with UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs; if intended, rerun with UPDATE_GOLDEN=1"


def test_golden_dot(compiled_examples: list[tuple[Model, Layout]]) -> None:
    seen = set()
    for model, layout in compiled_examples:
        for stem, graph in dg.diagrams(model, layout).items():
            path = GOLDEN / model.name / f"{stem}.dot"
            _check_golden(path, dg.to_dot(graph))
            seen.add(path)
    stale = {p for p in GOLDEN.rglob("*.dot")} - seen
    assert not stale, f"golden files of no current model/diagram: {sorted(stale)}"


def _shuffled(model: Model, layout: Layout, seed: int) -> tuple[Model, Layout]:
    rng = random.Random(seed)

    def shuffle(items: tuple) -> tuple:  # type: ignore[type-arg]
        out = list(items)
        rng.shuffle(out)
        return tuple(out)

    entities = tuple(
        dataclasses.replace(e, attributes=shuffle(e.attributes)) for e in shuffle(model.entities)
    )
    model2 = dataclasses.replace(model, entities=entities, patterns=shuffle(model.patterns))
    layout2 = dataclasses.replace(
        layout,
        entities=tuple(
            dataclasses.replace(el, keys=shuffle(el.keys)) for el in shuffle(layout.entities)
        ),
        plans=shuffle(layout.plans),
    )
    return model2, layout2


def test_same_model_same_dot_in_any_order(compiled_examples: list[tuple[Model, Layout]]) -> None:
    for model, layout in compiled_examples:
        expected = {k: dg.to_dot(g) for k, g in dg.diagrams(model, layout).items()}
        for seed in range(3):
            m2, l2 = _shuffled(model, layout, seed)
            got = {k: dg.to_dot(g) for k, g in dg.diagrams(m2, l2).items()}
            # attribute order is the model's own (it is what the architect wrote): compare
            # the ER diagram with attributes restored, everything else as is
            assert got["key-layout"] == expected["key-layout"]
            assert got["access-patterns"] == expected["access-patterns"]
            m3 = dataclasses.replace(
                m2,
                entities=tuple(
                    dataclasses.replace(e, attributes=model.entity(e.name).attributes)  # type: ignore[union-attr]
                    for e in m2.entities
                ),
            )
            assert dg.to_dot(dg.er_diagram(m3)) == expected["er"]


def test_er_edges_follow_references_and_parents(
    compiled_examples: list[tuple[Model, Layout]],
) -> None:
    for model, _ in compiled_examples:
        graph = dg.er_diagram(model)
        assert {n.id for n in graph.nodes} == {e.name for e in model.entities}
        expected = set()
        for e in model.entities:
            targets = {a.references for a in e.attributes if a.references}
            expected |= {(e.name, t) for t in targets}
            if e.parent:
                expected.add((e.name, e.parent))
        assert set(dg.edge_pairs(graph)) == expected
        for edge in graph.edges:
            attrs = dict(edge.attrs)
            parent = model.entity(edge.tail).parent  # type: ignore[union-attr]
            assert (attrs.get("arrowhead") == "odiamond") == (edge.head == parent)


def _tiny() -> tuple[Model, Layout]:
    """Two entities sharing a partition template on the table, one GSI, a quote-y name."""
    a = Entity(
        "Order",
        "orders",
        ("order_id",),
        (
            Attribute("order_id", TypeRef("string")),
            Attribute("lines", TypeRef("list", TypeRef("map")), description='say "hi" \\ <b>'),
        ),
    )
    b = Entity(
        "Line",
        "order_lines",
        ("order_id", "no"),
        (
            Attribute("order_id", TypeRef("string"), references="Order"),
            Attribute("no", TypeRef("integer")),
        ),
        parent="Order",
    )
    model = Model('t"q', TableSettings("T"), (b, a), ())
    table = Index("table", "table", KeyAttribute("PK"), KeyAttribute("SK"))
    gsi = Index("GSI1", "gsi", KeyAttribute("GSI1PK"), KeyAttribute("GSI1SK"))
    layout = Layout(
        't"q',
        "T",
        (table, gsi),
        (
            EntityLayout(
                "Order",
                "Order",
                (
                    EntityKey("table", "ORDER#{order_id}", "ORDER"),
                    EntityKey("GSI1", "ALL", "ORDER#{order_id}", sparse=True),
                ),
            ),
            EntityLayout("Line", "Line", (EntityKey("table", "ORDER#{order_id}", "LINE#{no}"),)),
        ),
        (
            PatternPlan(
                "order_with_lines",
                ("Order", "Line"),
                "table",
                "Query",
                KeyValue("ORDER#{order_id}"),
                SortKeyCondition(),
            ),
        ),
    )
    return model, layout


def test_collections_group_entities_by_index_and_partition_template() -> None:
    model, layout = _tiny()
    got = [(c.index, c.pk, [m[0] for m in c.members]) for c in dg.collections(layout)]
    # members in sort-key order (LINE#… < ORDER), as a Query on the collection returns them
    assert got == [("table", "ORDER#{order_id}", ["Line", "Order"]), ("GSI1", "ALL", ["Order"])]
    graph = dg.key_layout_diagram(model, layout)
    assert [c.id for c in graph.clusters] == ["table", "GSI1"]
    assert sorted(dg.edge_pairs(graph)) == sorted(
        [
            ("entity Line", "table ORDER#{order_id}"),
            ("entity Order", "table ORDER#{order_id}"),
            ("entity Order", "GSI1 ALL"),
        ]
    )


def test_dot_escaping() -> None:
    assert dg.quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'
    model, _layout = _tiny()
    dot = dg.to_dot(dg.er_diagram(model))
    assert dot.startswith('digraph "t\\"q-er" {\n')
    assert "list&lt;map&gt;" in dot  # HTML-like label: the type's angle brackets escaped
    assert "<list<map>" not in dot
    assert dot.endswith("}\n")


def test_condition_shape() -> None:
    _, layout = _tiny()
    plan = layout.plans[0]
    assert dg.condition_shape(plan) == "PK ="
    get = dataclasses.replace(
        plan, operation="GetItem", sk=SortKeyCondition("eq", (KeyValue("ORDER"),))
    )
    assert dg.condition_shape(get) == "GetItem (PK =, SK =)"


def test_rendered_svg_has_every_name(compiled_examples: list[tuple[Model, Layout]]) -> None:
    require(shutil.which("dot") is not None, "graphviz `dot` not installed")
    model, layout = compiled_examples[0]
    graphs = dg.diagrams(model, layout)
    svg = dg.render_svg(dg.to_dot(graphs["er"]))
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!--" not in svg
    for e in model.entities:
        assert f">{e.name}<" in svg
    svg = dg.render_svg(dg.to_dot(graphs["access-patterns"]))
    for p in model.patterns:
        assert f">{p.name}<" in svg
    model2, _layout2 = _tiny()
    svg = dg.render_svg(dg.to_dot(dg.er_diagram(model2)))
    assert "list&lt;map&gt;" in svg  # escaped text survives rendering


def test_render_missing_dot_binary_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphviz

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(graphviz.ExecutableNotFound):
        dg.render_svg("digraph g { a -> b }")
