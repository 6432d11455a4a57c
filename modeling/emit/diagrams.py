"""Graphviz diagrams of a model, built as data and serialised to DOT text.

Three diagrams, each a pure function of the resolved model (and the compiled layout):

* `er_diagram`: entities with their attributes; `references` edges from the attribute's row to
  the referenced entity, `parent` edges (1:N ownership) drawn bold with a diamond at the owner;
* `key_layout_diagram`: one cluster per index (table, GSIs, LSIs); inside it one node per item
  collection (items whose partition-key template is the same string share partitions), listing
  each member entity with its sort-key template; entities on the left, linked to every
  collection they are written into, so one sees which entities share which index;
* `access_pattern_map`: every access pattern linked to the index that serves it, the edge
  labelled with the key condition's shape.

Why data first and text last: the golden tests pin the DOT text, so it must not depend on dict
order, set order or the order entities were written in. Builders sort what they emit; the
serialiser sorts attributes and quotes every id and value. SVG is rendered with Graphviz's
`dot` (through the `graphviz` package) only for the docs, never compared byte for byte.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from modeling.core.ir import Attribute, Entity, Layout, Model, PatternPlan

Attrs = tuple[tuple[str, "str | Html"], ...]

HEADER_COLOR = "#3949ab"
CHILD_COLOR = "#00897b"
PALE = "#eef0fb"
FONT = "Helvetica"


@dataclass(frozen=True)
class Html:
    """A Graphviz HTML-like label: written between `<` and `>`, never quoted."""

    text: str


@dataclass(frozen=True)
class Node:
    id: str
    attrs: Attrs = ()


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    attrs: Attrs = ()
    tail_port: str | None = None
    head_port: str | None = None


@dataclass(frozen=True)
class Cluster:
    id: str
    attrs: Attrs = ()
    nodes: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Graph:
    """A directed graph; nodes, clusters and edges are written in the order given."""

    name: str
    attrs: Attrs = ()
    node_defaults: Attrs = ()
    edge_defaults: Attrs = ()
    nodes: tuple[Node, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    edges: tuple[Edge, ...] = field(default_factory=tuple)

    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes] + [n.id for c in self.clusters for n in c.nodes]


# --------------------------------------------------------------------------- serialising


def quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{escaped}"'


def _value(value: str | Html) -> str:
    if isinstance(value, Html):
        return f"<{value.text}>"
    return quote(value)


def _attr_list(attrs: Attrs) -> str:
    if not attrs:
        return ""
    items = sorted(dict(attrs).items())
    return " [" + ", ".join(f"{k}={_value(v)}" for k, v in items) + "]"


def _endpoint(node: str, port: str | None) -> str:
    return quote(node) + (f":{quote(port)}" if port else "")


def to_dot(graph: Graph) -> str:
    """The DOT text of `graph`: deterministic, LF line ends, a final newline."""
    lines = [f"digraph {quote(graph.name)} {{"]
    for key, value in sorted(dict(graph.attrs).items()):
        lines.append(f"  {key}={_value(value)};")
    if graph.node_defaults:
        lines.append(f"  node{_attr_list(graph.node_defaults)};")
    if graph.edge_defaults:
        lines.append(f"  edge{_attr_list(graph.edge_defaults)};")
    for node in graph.nodes:
        lines.append(f"  {quote(node.id)}{_attr_list(node.attrs)};")
    for cluster in graph.clusters:
        lines.append(f"  subgraph {quote('cluster_' + cluster.id)} {{")
        for key, value in sorted(dict(cluster.attrs).items()):
            lines.append(f"    {key}={_value(value)};")
        for node in cluster.nodes:
            lines.append(f"    {quote(node.id)}{_attr_list(node.attrs)};")
        lines.append("  }")
    for edge in graph.edges:
        tail = _endpoint(edge.tail, edge.tail_port)
        head = _endpoint(edge.head, edge.head_port)
        lines.append(f"  {tail} -> {head}{_attr_list(edge.attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def h(text: object) -> str:
    """Text escaped for an HTML-like label (`&`, `<`, `>`, quotes)."""
    return html.escape(str(text), quote=True)


def _dom_id(*parts: str) -> str:
    """An SVG element id (the `id` attribute Graphviz copies into the SVG): [A-Za-z0-9_-]."""
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "_", p) for p in parts)


def _base_attrs(name: str, rankdir: str) -> Attrs:
    return (
        ("bgcolor", "transparent"),
        ("fontname", FONT),
        ("id", _dom_id(name)),
        ("rankdir", rankdir),
        ("nodesep", "0.35"),
        ("ranksep", "0.6"),
    )


# --------------------------------------------------------------------------- ER diagram


def _attribute_row(entity: Entity, a: Attribute) -> str:
    name = h(a.name)
    if a.name in entity.key:
        name = f"<B>{name}</B>"
    if not a.required:
        name += "?"
    marks = []
    if a.name in entity.key:
        marks.append("key")
    if a.references:
        marks.append(f"→ {h(a.references)}")
    mark = f'<FONT COLOR="#5c6bc0">{"  ".join(marks)}</FONT>' if marks else ""
    return (
        f'<TR><TD ALIGN="LEFT" PORT="{h(a.name)}">{name}</TD>'
        f'<TD ALIGN="LEFT"><FONT COLOR="#555555">{h(a.type)}</FONT></TD>'
        f'<TD ALIGN="LEFT">{mark}</TD></TR>'
    )


def _entity_label(entity: Entity) -> Html:
    color = CHILD_COLOR if entity.parent else HEADER_COLOR
    table = f"{entity.schema}.{entity.table}" if entity.schema else entity.table
    rows = [
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">',
        f'<TR><TD COLSPAN="3" BGCOLOR="{color}"><FONT COLOR="white"><B>{h(entity.name)}</B>'
        f"</FONT></TD></TR>",
        f'<TR><TD COLSPAN="3" BGCOLOR="{PALE}"><FONT POINT-SIZE="9">table {h(table)}'
        "</FONT></TD></TR>",
    ]
    rows.extend(_attribute_row(entity, a) for a in entity.attributes)
    rows.append("</TABLE>")
    return Html("".join(rows))


def er_diagram(model: Model) -> Graph:
    """Entities and their relationships: `references` (dashed) and `parent` (bold, diamond)."""
    entities = sorted(model.entities, key=lambda e: e.name)
    names = {e.name for e in entities}
    nodes = tuple(
        Node(e.name, (("id", _dom_id("er", e.name)), ("label", _entity_label(e)))) for e in entities
    )
    edges: list[Edge] = []
    for e in entities:
        parent_drawn = False
        for a in sorted(e.attributes, key=lambda x: x.name):
            if a.references is None or a.references not in names:
                continue
            is_parent = a.references == e.parent
            attrs: Attrs = (("id", _dom_id("er", e.name, a.name, a.references)),)
            if is_parent:
                parent_drawn = True
                attrs += (
                    ("arrowhead", "odiamond"),
                    ("color", CHILD_COLOR),
                    ("label", f"parent ({a.name})"),
                    ("penwidth", "2"),
                )
            else:
                attrs += (("label", a.name), ("style", "dashed"))
            edges.append(Edge(e.name, a.references, attrs, tail_port=a.name))
        if e.parent and e.parent in names and not parent_drawn:
            edges.append(
                Edge(
                    e.name,
                    e.parent,
                    (
                        ("arrowhead", "odiamond"),
                        ("color", CHILD_COLOR),
                        ("id", _dom_id("er", e.name, "parent", e.parent)),
                        ("label", "parent"),
                        ("penwidth", "2"),
                    ),
                )
            )
    return Graph(
        name=f"{model.name}-er",
        attrs=(*_base_attrs(f"{model.name}-er", "TB"), ("ranksep", "0.7")),
        node_defaults=(("fontname", FONT), ("fontsize", "10"), ("shape", "plain")),
        edge_defaults=(("color", "#7986cb"), ("fontname", FONT), ("fontsize", "9")),
        nodes=nodes,
        edges=tuple(edges),
    )


# --------------------------------------------------------------------------- key layout


@dataclass(frozen=True)
class Collection:
    """Items of several entities whose partition keys use one template on one index."""

    index: str
    pk: str
    members: tuple[tuple[str, str | None, bool], ...]  # (entity, sk template, sparse)


def collections(layout: Layout) -> list[Collection]:
    """Every (index, partition-key template) with its member entities, in layout index order."""
    grouped: dict[tuple[str, str], list[tuple[str, str | None, bool]]] = {}
    for el in sorted(layout.entities, key=lambda x: x.entity):
        for key in el.keys:
            grouped.setdefault((key.index, key.pk), []).append((el.entity, key.sk, key.sparse))
    order = {i.name: n for n, i in enumerate(layout.indexes)}
    out = [
        Collection(index, pk, tuple(sorted(members, key=lambda m: (m[1] or "", m[0]))))
        for (index, pk), members in grouped.items()
    ]
    return sorted(out, key=lambda c: (order.get(c.index, len(order)), c.index, c.pk))


def _collection_label(layout: Layout, c: Collection) -> Html:
    index = layout.index(c.index)
    pk_name = index.pk.name if index else "PK"
    sk_name = index.sk.name if index and index.sk else None
    shared = len({m[0] for m in c.members}) > 1
    color = CHILD_COLOR if shared else HEADER_COLOR
    header = f"{h(pk_name)} = <B>{h(c.pk)}</B>"
    on_attributes = index is not None and index.on_attributes
    if on_attributes:  # keyed on the items' own attributes: no template is written
        assert index is not None
        header = "<B>" + h(", ".join(k.name for k in index.hash_keys)) + "</B>"
    rows = [
        '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" COLOR="#c5cae9">',
        f'<TR><TD COLSPAN="2" BGCOLOR="{color}" ALIGN="LEFT"><FONT COLOR="white">'
        f"{header}</FONT></TD></TR>",
    ]
    for entity, sk, sparse in c.members:
        sk_text = f"{h(sk_name)} = {h(sk)}" if sk_name and sk is not None else "(no sort key)"
        if on_attributes:
            assert index is not None
            sk_text = h(", ".join(k.name for k in index.range_keys)) or "(no sort key)"
        if sparse:
            sk_text += ' <FONT COLOR="#9e9e9e">sparse</FONT>'
        rows.append(
            f'<TR><TD ALIGN="LEFT" PORT="{h(entity)}"><B>{h(entity)}</B></TD>'
            f'<TD ALIGN="LEFT">{sk_text}</TD></TR>'
        )
    rows.append("</TABLE>")
    return Html("".join(rows))


def _index_caption(layout: Layout, name: str) -> str:
    index = layout.index(name)
    if index is None:
        return name
    keys = ", ".join(k.name for k in index.hash_keys)
    if index.range_keys:
        keys += " / " + ", ".join(k.name for k in index.range_keys)
    kind = {"table": "table", "gsi": "GSI", "lsi": "LSI"}[index.kind]
    title = "table primary key" if index.kind == "table" else f"{index.name} ({kind})"
    projection = "" if index.kind == "table" else f", projection {index.projection}"
    return f"{title}: {keys}{projection}"


def key_layout_diagram(model: Model, layout: Layout) -> Graph:
    """Item collections per index, and which entities are written into which of them."""
    groups = collections(layout)
    by_index: dict[str, list[Collection]] = {}
    for c in groups:
        by_index.setdefault(c.index, []).append(c)
    index_order = [i.name for i in layout.indexes if i.name in by_index]
    index_order += sorted(n for n in by_index if n not in index_order)
    clusters = []
    for name in index_order:
        nodes = tuple(
            Node(
                f"{c.index} {c.pk}",
                (
                    ("id", _dom_id("kl", c.index, c.pk)),
                    ("label", _collection_label(layout, c)),
                ),
            )
            for c in by_index[name]
        )
        clusters.append(
            Cluster(
                _dom_id(name),
                (
                    ("color", "#9fa8da"),
                    ("fontname", FONT),
                    ("fontsize", "11"),
                    ("label", _index_caption(layout, name)),
                    ("labeljust", "l"),
                    ("style", "rounded"),
                ),
                nodes,
            )
        )
    entity_names = sorted({m[0] for c in groups for m in c.members})
    parents = {e.name: e.parent for e in model.entities}
    entity_nodes = tuple(
        Node(
            f"entity {name}",
            (
                ("color", CHILD_COLOR if parents.get(name) else HEADER_COLOR),
                ("id", _dom_id("kl", "entity", name)),
                ("label", name),
            ),
        )
        for name in entity_names
    )
    edges = tuple(
        Edge(
            f"entity {entity}",
            f"{c.index} {c.pk}",
            (("id", _dom_id("kl", entity, c.index, c.pk)),),
            head_port=entity,
        )
        for c in groups
        for entity in sorted({m[0] for m in c.members})
    )
    return Graph(
        name=f"{model.name}-key-layout",
        attrs=(*_base_attrs(f"{model.name}-key-layout", "LR"), ("ranksep", "1.2")),
        node_defaults=(("fontname", FONT), ("fontsize", "10"), ("shape", "plain")),
        edge_defaults=(("arrowsize", "0.6"), ("color", "#9fa8da")),
        nodes=tuple(
            Node(n.id, (*n.attrs, ("shape", "box"), ("style", "rounded,bold")))
            for n in entity_nodes
        ),
        clusters=tuple(clusters),
        edges=edges,
    )


# --------------------------------------------------------------------------- access patterns

_SK_SHAPES = {
    "none": "",
    "eq": ", SK =",
    "begins_with": ", begins_with(SK)",
    "between": ", SK between",
    "lt": ", SK <",
    "le": ", SK <=",
    "gt": ", SK >",
    "ge": ", SK >=",
}


def condition_shape(plan: PatternPlan) -> str:
    """`PK =` plus the sort-key condition's operator: the shape of the key condition."""
    text = "PK =" + _SK_SHAPES.get(plan.sk.kind, f", SK {plan.sk.kind}")
    if plan.operation == "GetItem":
        text = f"GetItem ({text})"
    if plan.sharded:
        text += f" ×{plan.sharded} shards"
    return text


def access_pattern_map(model: Model, layout: Layout) -> Graph:
    """Access pattern → the index serving it, labelled with the key condition's shape."""
    plans = sorted(layout.plans, key=lambda p: p.pattern)
    used = {p.index for p in plans}
    index_nodes = tuple(
        Node(
            f"index {i.name}",
            (
                ("fillcolor", PALE),
                ("id", _dom_id("ap", "index", i.name)),
                ("label", _index_caption(layout, i.name)),
                ("shape", "cylinder"),
                ("style", "filled"),
            ),
        )
        for i in layout.indexes
        if i.name in used
    )
    pattern_nodes = []
    for p in plans:
        entities = ", ".join(p.entities)
        label = Html(
            f'<B>{h(p.pattern)}</B><BR/><FONT POINT-SIZE="9" COLOR="#555555">{h(entities)}'
            f"{' · unique' if p.unique else ''}</FONT>"
        )
        pattern_nodes.append(
            Node(
                f"pattern {p.pattern}",
                (
                    ("color", CHILD_COLOR if len(p.entities) > 1 else HEADER_COLOR),
                    ("id", _dom_id("ap", "pattern", p.pattern)),
                    ("label", label),
                    ("shape", "box"),
                    ("style", "rounded"),
                ),
            )
        )
    edges = tuple(
        Edge(
            f"pattern {p.pattern}",
            f"index {p.index}",
            (("id", _dom_id("ap", p.pattern, p.index)), ("label", condition_shape(p))),
        )
        for p in plans
    )
    return Graph(
        name=f"{model.name}-access-patterns",
        attrs=(*_base_attrs(f"{model.name}-access-patterns", "LR"), ("ranksep", "1.6")),
        node_defaults=(("fontname", FONT), ("fontsize", "10")),
        edge_defaults=(
            ("arrowsize", "0.6"),
            ("color", "#7986cb"),
            ("fontname", FONT),
            ("fontsize", "8"),
        ),
        nodes=(*pattern_nodes, *index_nodes),
        edges=edges,
    )


# --------------------------------------------------------------------------- all + rendering

DIAGRAMS: tuple[str, ...] = ("er", "key-layout", "access-patterns")


def diagrams(model: Model, layout: Layout) -> dict[str, Graph]:
    """Every diagram of a model by file stem (`er`, `key-layout`, `access-patterns`)."""
    return {
        "er": er_diagram(model),
        "key-layout": key_layout_diagram(model, layout),
        "access-patterns": access_pattern_map(model, layout),
    }


_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.S)
_SIZE = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')


def render_svg(dot: str) -> str:
    """SVG for DOT text, rendered by Graphviz `dot`; ready to inline in an HTML page.

    The XML prolog, DOCTYPE and comments are dropped (they are invalid inside HTML), and the
    fixed size becomes a max-width so a large diagram scales down instead of overflowing.
    Raises `graphviz.ExecutableNotFound` when the `dot` binary is missing.
    """
    import graphviz  # the renderer is needed only for docs, not for DOT text

    svg = graphviz.Source(dot, engine="dot").pipe(format="svg", encoding="utf-8")
    svg = _PROLOG.sub("", svg).strip()
    svg = _SIZE.sub(
        lambda m: (
            f'<svg width="100%" style="max-width:{m.group(1)}pt" data-height="{m.group(2)}pt"'
        ),
        svg,
        count=1,
    )
    lines = [line for line in svg.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def node_labels(graph: Graph) -> Mapping[str, str | Html]:
    """Node id → label (tests and docs look nodes up by id)."""
    out: dict[str, str | Html] = {}
    for node in [*graph.nodes, *(n for c in graph.clusters for n in c.nodes)]:
        out[node.id] = dict(node.attrs).get("label", node.id)
    return out


def edge_pairs(graph: Graph) -> Iterable[tuple[str, str]]:
    return [(e.tail, e.head) for e in graph.edges]
