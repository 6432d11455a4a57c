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
    keys_text = ", ".join(k.name for k in index.hash_keys)
    if index.range_keys:
        keys_text += " / " + ", ".join(k.name for k in index.range_keys)
    if index.kind == "table":
        return f"table primary key ({keys_text})"
    return f"{index.name} ({index.kind.upper()}: {keys_text})"


def _partition_groups(
    layout: Layout, index: Index, sample: Sample
) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """Sample items on `index` grouped by partition-key value, each sorted by sort key."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    hash_names = [k.name for k in index.hash_keys]
    range_names = [k.name for k in index.range_keys]
    for entity, item in sample.items:
        if any(n not in item for n in hash_names + range_names):
            continue  # sparse: not on this index
        pk = " / ".join(av_text(item[n], 10**6) for n in hash_names)
        groups.setdefault(pk, []).append((entity, item))

    def sk_of(pair: tuple[str, dict[str, Any]]) -> tuple[tuple[int, Any], ...]:
        out = []
        for name in range_names:  # several sort attributes compare left to right
            ((tag, value),) = pair[1][name].items()
            out.append((0, float(value)) if tag == "N" else (1, value))
        return tuple(out)

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
            ("partition key", code(", ".join(f"{k.name} ({k.type})" for k in index.hash_keys))),
            (
                "sort key",
                code(", ".join(f"{k.name} ({k.type})" for k in index.range_keys))
                if index.range_keys
                else "none",
            ),
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
            if index.on_attributes:  # the item's own attributes, no template written
                pk_text = code(", ".join(k.name for k in index.hash_keys))
                sk_text = code(", ".join(k.name for k in index.range_keys))
            else:
                pk_text = code(ek.pk)
                sk_text = code(ek.sk) if ek.sk is not None else ""
            members.append(
                (
                    entity_link(el.entity),
                    pk_text,
                    sk_text,
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
    hash_text = ", ".join(k.name for k in index.hash_keys)
    out = [f"\n{code(hash_text + ' = ' + pk)} — {summary}\n\n"]
    key_names = {k.name for k in index.hash_keys + index.range_keys} | {layout.type_attribute}
    key_names |= {k.pk.name for k in layout.indexes if not k.on_attributes} | {
        k.sk.name for k in layout.indexes if k.sk is not None and not k.on_attributes
    }
    rows = []
    for entity, item in items[:ITEMS_PER_PARTITION]:
        attrs = [
            f"{text(name)}={code(av_text(av, 32))}"
            for name, av in item.items()
            if name not in key_names and _projected(layout, index, name)
        ]
        sk = " / ".join(code(av_text(item[k.name], 10**6)) for k in index.range_keys)
        rows.append((sk, text(entity), " ".join(attrs[:6]) + (" …" if len(attrs) > 6 else "")))
    sort_heading = ", ".join(k.name for k in index.range_keys) or "(no sort key)"
    heading = [sort_heading, layout.type_attribute, "attributes"]
    out.append(table(heading, rows))
    if len(items) > ITEMS_PER_PARTITION:
        out.append(f"\n… and {len(items) - ITEMS_PER_PARTITION} more items in this partition.\n")
    return "".join(out)
