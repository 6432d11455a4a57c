"""`strategy: lowest_cost`: each GSI serving such a pattern against writing its relationship as
extra items in the table, priced by `modeling.cost.index_strategies` (packaged us-east-1
prices; `model cost --region` reprices). Where the copies are cheaper, `modeling.compile.copies`
builds them in place of the GSI (`strategy-choice`); where it cannot (its `unbuildable` says
why), the GSI is kept and `strategy-not-built` says so with both figures.
"""

from __future__ import annotations

from collections.abc import Iterator

from modeling.compile.copies import unbuildable
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Severity
from modeling.cost import DUPLICATE_ITEMS, Prices, index_strategies, with_gsis


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
