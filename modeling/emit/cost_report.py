"""The capacity-and-cost section, as markdown: in layout.md and as the docs site's cost page.

Figures come from `modeling.cost.estimate` at the packaged prices (us-east-1); `model cost`
prints the same numbers for another region or price table.
"""

from __future__ import annotations

from modeling.compile.strategy import index_strategies
from modeling.core import ir
from modeling.cost import (
    DUPLICATE_ITEMS,
    CostReport,
    IndexChoice,
    OptionCost,
    Prices,
    estimate,
)


def money(value: float | None) -> str:
    """Dollars, or `?` when the figure is unknown."""
    return "?" if value is None else f"${value:,.2f}"


def num(value: float | None, digits: int = 1) -> str:
    """A figure with `digits` decimals, or `?` when it is unknown."""
    return "?" if value is None else f"{value:,.{digits}f}"


def _bound(upper: bool) -> str:
    return "≤ " if upper else ""


def _option(o: OptionCost) -> str:
    return (
        f"{money(o.total)}/month (writes {money(o.writes)}, storage {money(o.storage)}, "
        f"reads {money(o.reads)})"
    )


def chosen(choice: IndexChoice) -> str:
    """What `strategy: lowest_cost` picked, and whether the layout has it."""
    if choice.chosen == DUPLICATE_ITEMS and choice.built:
        return (
            f"duplicated relationship items (built: {choice.index} is written as copies in "
            "the table)"
        )
    if choice.chosen == DUPLICATE_ITEMS:
        return (
            f"duplicated relationship items (not built for this index: {choice.index} "
            "is kept; see strategy-not-built)"
        )
    if not choice.built:  # repriced (`model cost --region/--prices`): the layout has copies
        return (
            f"the GSI {choice.index} at these prices (not built: the layout was compiled at "
            "the packaged prices and writes copies)"
        )
    return f"the GSI {choice.index}"


def strategy_line(choice: IndexChoice) -> str:
    """Both figures and the choice, on one line (explain, layout.md)."""
    return (
        f"lowest_cost: GSI {_option(choice.gsi)} vs duplicated items "
        f"{_option(choice.duplicate_items)}; chosen: {chosen(choice)}"
    )


def strategy_lines(choices: tuple[IndexChoice, ...], heading: str = "##") -> list[str]:
    """The markdown of `strategy: lowest_cost` comparisons ([] when no pattern asks)."""
    if not choices:
        return []
    lines = [
        f"{heading}# Index or duplicated items (strategy: lowest_cost)",
        "",
        "Per month on-demand, the whole table with the GSI and with duplicated relationship "
        "items instead (the estimate above, on both layouts): a GSI is written on every write "
        "of its entities and stores their projected items; with duplicated items every write "
        "of an entity is one TransactWriteItems of its item and copies (2 units per KB per "
        "item) after a strongly consistent GetItem, and a read fetches each full item by key.",
        "",
    ]
    lines += _table(
        ["index", "patterns", "GSI", "duplicated items", "chosen"],
        [
            [
                c.index,
                ", ".join(f"`{p}`" for p in c.patterns),
                _option(c.gsi),
                _option(c.duplicate_items),
                chosen(c),
            ]
            for c in choices
        ],
    )
    lines += [""]
    return lines


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def cost_lines(model: ir.Model, layout: ir.Layout, heading: str = "##") -> list[str]:
    """The section's markdown lines (headings at `heading` level)."""
    report: CostReport = estimate(model, layout, Prices.load())
    p = report.prices
    lines = [
        f"{heading} Capacity and cost",
        "",
        f"Estimated at the declared rates and row counts, {p.region} prices of {p.date} "
        f"({p.source}); `model cost` gives other regions. Eventually consistent reads; "
        "provisioned capacity sized for 70% utilisation; no free tier. A request is one call "
        "of the pattern's page method: its first 1 MB page, or on a sharded partition one "
        "Query per shard; GetItem/BatchGetItem fetches of full items are included. `≤`: a "
        "sort-key range reads part of a partition; the figure counts the whole partition.",
        "",
    ]
    lines += _table(
        ["entity", "item bytes", "rows", "writes/s", "per index: entry bytes / write units"],
        [
            [
                e.entity,
                num(e.item_bytes, 0),
                num(e.rows, 0),
                num(e.writes_per_second),
                ", ".join(f"{i} {num(b, 0)} B / {num(u, 2)}" for i, b, u in e.per_index),
            ]
            for e in report.entities
        ],
    )
    lines += [""]
    lines += _table(
        [
            "pattern",
            "index",
            "items/request",
            "queries/request",
            "read units/request",
            "reads/s",
            "on-demand/month",
        ],
        [
            [
                f"`{c.pattern}`",
                c.index,
                _bound(c.upper_bound and c.items_per_request is not None)
                + num(c.items_per_request),
                f"{c.queries_per_request}" + (f" ({c.shards} shards)" if c.shards > 1 else ""),
                _bound(c.upper_bound and c.read_units_per_request is not None)
                + num(c.read_units_per_request),
                num(c.reads_per_second, 0),
                _bound(c.upper_bound and bool(c.on_demand_monthly)) + money(c.on_demand_monthly),
            ]
            for c in report.patterns
        ],
    )
    lines += [""]
    lines += _table(
        [
            "index",
            "items",
            "storage GB",
            "writes/s",
            "write units/s",
            "if keys move",
            "provisioned RCU / WCU",
        ],
        [
            [
                i.index,
                num(i.items, 0),
                num(None if i.storage_bytes is None else i.storage_bytes / 1024**3, 3),
                num(i.writes_per_second),
                num(i.write_units_per_second),
                "-"
                if i.moved_write_units_per_second is None
                else num(i.moved_write_units_per_second),
                f"{num(i.provisioned_rcu, 0)} / {i.provisioned_wcu}",
            ]
            for i in report.indexes
        ],
    )
    lines += [""]
    lines += [
        "Hottest partition of each partition key, per shard (writes spread over the distinct "
        "values and the shards; every read queries each shard once), against DynamoDB's "
        "1,000 WCU / 3,000 RCU per partition:",
        "",
    ]
    lines += _table(
        ["index", "partition key", "values", "shards", "WCU/s", "RCU/s", "of a partition"],
        [
            [
                q.index,
                f"`{q.pk}`",
                num(q.partitions, 0),
                str(q.shards),
                num(q.write_units_per_second, 2),
                num(q.read_units_per_second, 2),
                "?" if q.headroom is None else f"{q.headroom:.1%}",
            ]
            for q in report.partitions
        ],
    )
    lines += [""]
    if report.collections:
        lines += [
            "Item collections (a partition value's items with their LSI entries; 10 GB at "
            "most with an LSI):",
            "",
        ]
        lines += _table(
            ["partition key", "entities", "bytes per value", "of 10 GB"],
            [
                [
                    f"`{c.pk}`",
                    ", ".join(c.entities),
                    num(c.bytes_per_value, 0),
                    "?" if c.share is None else f"{c.share:.4%}",
                ]
                for c in report.collections
            ],
        )
        lines += [""]
    lines += strategy_lines(index_strategies(model, layout, report.prices), heading)
    if lines[-1] == "":
        lines.pop()
    t = report.totals
    lines += [
        "",
        f"Monthly: on-demand {money(t.on_demand_total)} (reads {money(t.on_demand_reads)}, "
        f"writes {money(t.on_demand_writes)}, storage {money(t.storage)}); provisioned "
        f"{money(t.provisioned_total)}.",
    ]
    if report.notes:
        lines += ["", "Notes (and what to declare to sharpen the estimate):", ""]
        lines += [f"- {n}" for n in report.notes]
    if report.unverified_figures:
        lines += [
            "",
            f"Not checked against the source for {p.region}: {', '.join(p.unverified)} "
            f"({p.unverified_reason or 'unverified'}); the figures resting on them: "
            f"{', '.join(report.unverified_figures)}.",
        ]
    lines.append("")
    return lines
