"""`indexes.md`: every index, the entities written into it, and sample item collections."""

from __future__ import annotations

from typing import Any

from modeling.core.ir import Index, Layout, Model
from modeling.emit.docs.markdown import (
    WIDE,
    anchor,
    code,
    entity_link,
    header,
    join_parts,
    pattern_link,
    table,
    text,
)
from modeling.emit.docs.samples import Sample, av_text

PARTITIONS_PER_INDEX = 3
ITEMS_PER_PARTITION = 8


def _index_title(index: Index) -> str:
    keys_text = index.pk.name + (f" / {index.sk.name}" if index.sk else "")
    if index.kind == "table":
        return f"table primary key ({keys_text})"
    return f"{index.name} ({index.kind.upper()}: {keys_text})"


def _partition_groups(
    layout: Layout, index: Index, sample: Sample
) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """Sample items on `index` grouped by partition-key value, each sorted by sort key."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for entity, item in sample.items:
        pk = item.get(index.pk.name)
        if pk is None or (index.sk is not None and index.sk.name not in item):
            continue
        groups.setdefault(av_text(pk, 10**6), []).append((entity, item))
    sk_name = index.sk.name if index.sk else None

    def sk_of(pair: tuple[str, dict[str, Any]]) -> tuple[int, Any]:
        if sk_name is None:
            return (0, "")
        ((tag, value),) = pair[1][sk_name].items()
        return (0, float(value)) if tag == "N" else (1, value)

    for members in groups.values():
        members.sort(key=sk_of)
    # collections with several entity types first, then bigger partitions, then by key
    return sorted(groups.items(), key=lambda kv: (-len({e for e, _ in kv[1]}), -len(kv[1]), kv[0]))


def _projected(layout: Layout, index: Index, name: str) -> bool:
    if index.kind == "table" or index.projection == "ALL":
        return True
    table_index = layout.indexes[0]
    key_names = {table_index.pk.name, index.pk.name, layout.type_attribute}
    key_names |= {k.name for k in (table_index.sk, index.sk) if k is not None}
    if name in key_names:
        return True
    return index.projection == "INCLUDE" and name in index.non_key_attributes


def indexes_page(model: Model, layout: Layout, sample: Sample) -> str:
    """Every index: its key attributes, the entities written into it, and sample collections."""
    out = [WIDE, header(model), "# Indexes and item collections\n"]
    out.append(
        "One section per index. The tables list each entity's key templates on the index; "
        "the sample collections below them group generated sample items by partition key, "
        "sorted by sort key, the way a Query on that partition returns them (NoSQL "
        "Workbench's aggregate view). Partitions holding several entity types come first.\n"
    )
    pattern_by_index: dict[str, list[str]] = {}
    for plan in layout.plans:
        pattern_by_index.setdefault(plan.index, []).append(plan.pattern)
    for index in layout.indexes:
        out.append(f"\n## {text(_index_title(index))} {{#{anchor(index.name)}}}\n")
        facts = [
            (
                "kind",
                text(
                    {
                        "table": "base table",
                        "gsi": "global secondary index",
                        "lsi": "local secondary index",
                    }[index.kind]
                ),
            ),
            ("partition key", code(f"{index.pk.name} ({index.pk.type})")),
            ("sort key", code(f"{index.sk.name} ({index.sk.type})") if index.sk else "none"),
        ]
        if index.kind != "table":
            proj: str = index.projection
            if proj == "INCLUDE":
                proj += ": " + ", ".join(index.non_key_attributes)
            facts.append(("projection", text(proj)))
        served = sorted(pattern_by_index.get(index.name, []))
        facts.append(("serves", ", ".join(pattern_link(p) for p in served) or "no pattern"))
        out.append(table(["", ""], facts))
        members = []
        for el in sorted(layout.entities, key=lambda x: x.entity):
            ek = el.key(index.name)
            if ek is None:
                continue
            members.append(
                (
                    entity_link(el.entity),
                    code(ek.pk),
                    code(ek.sk) if ek.sk is not None else "",
                    ", ".join(code(s) for s in ek.sparse_on) if ek.sparse else "",
                )
            )
        out.append("\n")
        out.append(table(["entity", "partition key", "sort key", "sparse on"], members))
        groups = _partition_groups(layout, index, sample)
        if not groups:
            out.append("\nNo sample item is on this index.\n")
            continue
        out.append(
            f"\n**Sample item collections** ({len(groups)} partitions in the sample; "
            f"the first {min(len(groups), PARTITIONS_PER_INDEX)} shown)\n"
        )
        for pk, items in groups[:PARTITIONS_PER_INDEX]:
            out.append(_partition_table(layout, index, pk, items))
    return "".join(join_parts(out))


def _partition_table(
    layout: Layout, index: Index, pk: str, items: list[tuple[str, dict[str, Any]]]
) -> str:
    counts: dict[str, int] = {}
    for e, _ in items:
        counts[e] = counts.get(e, 0) + 1
    summary = ", ".join(f"{text(e)} ×{n}" for e, n in sorted(counts.items()))
    out = [f"\n{code(index.pk.name + ' = ' + pk)} — {summary}\n\n"]
    key_names = {index.pk.name, layout.type_attribute}
    if index.sk:
        key_names.add(index.sk.name)
    key_names |= {k.pk.name for k in layout.indexes} | {
        k.sk.name for k in layout.indexes if k.sk is not None
    }
    rows = []
    for entity, item in items[:ITEMS_PER_PARTITION]:
        attrs = [
            f"{text(name)}={code(av_text(av, 32))}"
            for name, av in item.items()
            if name not in key_names and _projected(layout, index, name)
        ]
        sk = code(av_text(item[index.sk.name], 10**6)) if index.sk else ""
        rows.append((sk, text(entity), " ".join(attrs[:6]) + (" …" if len(attrs) > 6 else "")))
    heading = [index.sk.name if index.sk else "(no sort key)", layout.type_attribute, "attributes"]
    out.append(table(heading, rows))
    if len(items) > ITEMS_PER_PARTITION:
        out.append(f"\n… and {len(items) - ITEMS_PER_PARTITION} more items in this partition.\n")
    return "".join(out)
