"""`strategy: lowest_cost`: each GSI serving such a pattern against writing its relationship as
extra items in the table (issue 16 item 5).

One home for the arithmetic: the choice is priced by the function `model cost` prints,
`modeling.cost.estimate`. For each candidate GSI (by name), two whole layouts are built: the
current one with the GSI, and the same with that GSI replaced by copies exactly as
`modeling.compile.copies.with_copies` builds them; the copies win when the second's monthly
on-demand total (writes, reads and storage: the generated client's TransactWriteItems with
the copies after a strongly consistent GetItem, the copies' storage, the Query of the copies
and the fetch of each main item) is lower. The choices are made one GSI after another on the
layout the earlier ones left, so the compiled layout's `model cost` total is the lowest total
of the sequence, and each `strategy-choice` shows the two totals compared. Packaged us-east-1
prices (`model cost --region` reprices). Where copies cannot be built (`copies.unbuildable`
says why), the GSI is kept and `strategy-not-built` says so with both figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from modeling.compile.copies import _copies, unbuildable, with_copies
from modeling.compile.state import Derivation
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Severity
from modeling.cost import (
    DUPLICATE_ITEMS,
    GSI,
    IndexChoice,
    OptionCost,
    Prices,
    Totals,
    estimate,
    with_gsis,
)


def _option(totals: Totals) -> OptionCost:
    return OptionCost(
        writes=totals.on_demand_writes,
        storage=totals.storage,
        reads=totals.on_demand_reads,
        write_units_per_second=totals.write_units_per_second,
        storage_gb=totals.storage_gb,
        read_units_per_second=totals.read_units_per_second,
    )


def _unknown(model: ir.Model, layout: ir.Layout, prices: Prices) -> list[str]:
    """Why a layout has no monthly total (a row count or a read figure unknown)."""
    out = [f"{e.name}: no row_count" for e in model.entities if e.row_count is None]
    report = estimate(model, layout, prices)
    out += [
        f"{p.pattern}: read figures unknown"
        for p in report.patterns
        if p.read_units_per_second is None
    ]
    return sorted(out)


def choose(
    model: ir.Model, layout: ir.Layout, prices: Prices
) -> tuple[tuple[IndexChoice, ...], ir.Layout]:
    """The choice for each GSI serving a `strategy: lowest_cost` pattern, and the layout
    those choices build (from `layout` with its copies, if any, turned back into GSIs).

    Each option's figures are the whole table's monthly on-demand figures from `estimate`
    (writes, reads, storage), with the GSI and with its copies: they differ only by what
    that GSI's replacement changes. A GSI that also serves patterns without `lowest_cost` is
    kept (`fewest_indexes`)."""
    wanted = {p.name for p in model.patterns if p.strategy == "lowest_cost"}
    if not wanted:
        return (), layout
    current = with_gsis(layout)
    candidates = [i.name for i in current.indexes if i.kind == "gsi"]
    choices: list[IndexChoice] = []
    for name in candidates:
        plans = [p for p in current.plans if p.index == name]
        asked = tuple(sorted(p.pattern for p in plans if p.pattern in wanted))
        if not asked:
            continue
        entities = tuple(
            e.name
            for e in sorted(model.entities, key=lambda e: e.name)
            if (el := current.entity(e.name)) is not None and el.key(name) is not None
        )
        why_not = unbuildable(current, model, name)
        priced = _copies(current, model, name) is not None
        alternative = with_copies(model, current, [name]) if priced else current
        g = _option(estimate(model, current, prices).totals)
        d = _option(estimate(model, alternative, prices).totals)
        others = sorted(p.pattern for p in plans if p.pattern not in wanted)
        chosen = GSI
        if others:
            reason = f"kept the GSI: it also serves {', '.join(others)} (fewest_indexes)"
        elif not priced:
            reason = f"kept the GSI: its copies cannot be priced ({why_not})"
        elif g.total is None or d.total is None:
            reason = "kept the GSI: " + "; ".join(_unknown(model, alternative, prices))
        elif d.total < g.total:
            chosen = DUPLICATE_ITEMS
            reason = (
                f"the table costs ${d.total:,.2f}/month with duplicated items, "
                f"${g.total:,.2f}/month with the GSI (on-demand, as `model cost` prices it)"
            )
        else:
            reason = (
                f"the table costs ${g.total:,.2f}/month with the GSI, "
                f"${d.total:,.2f}/month with duplicated items (on-demand, as `model cost` "
                "prices it)"
            )
        built = chosen == GSI or why_not is None
        if chosen == DUPLICATE_ITEMS and built:
            current = alternative
        choices.append(
            IndexChoice(
                index=name,
                patterns=asked,
                entities=entities,
                gsi=g,
                duplicate_items=d,
                chosen=chosen,
                reason=reason,
                built=built,
            )
        )
    return tuple(choices), current


def index_strategies(model: ir.Model, layout: ir.Layout, prices: Prices) -> tuple[IndexChoice, ...]:
    """The `strategy: lowest_cost` choices for a compiled layout, as `build_copies` made them;
    `model cost`, `explain` and layout.md show these. `built` says whether the layout holds
    what was chosen (the GSI, or its copies)."""
    has = {c.name for c in layout.copies}
    return tuple(
        replace(c, built=(c.index in has) == (c.chosen == DUPLICATE_ITEMS))
        for c in choose(model, layout, prices)[0]
    )


def build_copies(model: ir.Model, state: Derivation) -> Derivation:
    """The compile pass: GSIs that `choose` finds dearer than their copies are replaced."""
    if not state.indexes or not any(p.strategy == "lowest_cost" for p in model.patterns):
        return state
    layout = ir.Layout(
        model.name, model.table.name, state.indexes, state.entity_layouts, state.plans
    )
    _, built = choose(model, layout, Prices.load())
    if not built.copies:
        return state
    return replace(
        state,
        indexes=built.indexes,
        entity_layouts=built.entities,
        plans=built.plans,
        copies=built.copies,
    )


def check_index_strategy(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    choices = index_strategies(model, layout, Prices.load())
    for choice in choices:
        first = model.pattern(choice.patterns[0])
        span = first.span if first is not None else None
        subject = ", ".join(choice.patterns)
        if choice.chosen == DUPLICATE_ITEMS and not choice.built:
            why = unbuildable(with_gsis(layout), model, choice.index) or "its copy key is ambiguous"
            yield Diagnostic(
                "strategy-not-built",
                Severity.WARNING,
                f"strategy lowest_cost: {choice.index} ({subject}) would be cheaper as "
                f"relationship items written in the table: {choice.reason}; but copies are not "
                f"built here ({why}), so {choice.index} is kept",
                span,
                "`strategy: fewest_indexes` on the pattern keeps the GSI without this warning; "
                "`model explain` and layout.md show both figures",
                subject,
            )
        else:
            built = (
                f" (built: {choice.index} is written as relationship items in the table)"
                if choice.chosen == DUPLICATE_ITEMS
                else ""
            )
            yield Diagnostic(
                "strategy-choice",
                Severity.INFO,
                f"strategy lowest_cost: {choice.index} ({subject}): {choice.reason}{built}",
                span,
                None,
                subject,
            )
