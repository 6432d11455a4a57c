"""Pattern suggestion: Workbench has no access patterns, so one Query per index per entity is
suggested: partition-key equality, a range on the last sort-key slot.
"""

from __future__ import annotations

from modeling.core.diagnostics import Diagnostics
from modeling.core.naming import snake
from modeling.formats.workbench import WbTable
from modeling.importers.workbench.names import unique_name
from modeling.importers.workbench.plans import EntityPlan, PatternPlan


def suggest_patterns(
    entities: list[EntityPlan], diags: Diagnostics, table: WbTable
) -> list[PatternPlan]:
    """One Query per index per entity: partition-key equality, a range on the last sort slot."""
    out: list[PatternPlan] = []
    taken: set[str] = set()
    for e in entities:
        for k in [*e.unpinned, *e.keys]:  # unpinned holds at most the table key
            where: dict[str, str] = {s: "=" for s in k.pk.slots}
            if not where:
                diags.info(
                    "workbench-no-pattern",
                    f"no pattern suggested for {e.name} on {k.index}: its partition key {k.pk.text!r} is constant",
                    table.span,
                    "a pattern needs a partition-key equality; add one by hand if the app reads this index",
                    e.name,
                )
                continue
            sk_slots = [s for s in (k.sk.slots if k.sk else ()) if s not in where]
            for s in sk_slots[:-1]:
                where[s] = "="
            if sk_slots:
                where[sk_slots[-1]] = "between"
            base = f"{snake(e.name)}_by_" + "_and_".join(snake(s) for s in k.pk.slots)
            name = base if base not in taken else f"{base}_{k.index}"
            name = unique_name(name, taken)
            taken.add(name)
            unique = not sk_slots and set(e.key) <= set(where)
            index = "the table" if k.index == "table" else f"{k.index} ({k.wb_index})"
            note = f"guessed: Workbench has no access patterns; one per index ({index})"
            note += ": partition-key equality" + (
                ", range on the last sort-key slot" if sk_slots else ""
            )
            out.append(PatternPlan(name, e.name, k.index, where, unique, note))
    return out
