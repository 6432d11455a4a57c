"""The capacity-and-cost section, as markdown: in layout.md and as the docs site's cost page.

Figures come from `modeling.cost.estimate` at the packaged prices (us-east-1); `model cost`
prints the same numbers for another region or price table.
"""

from __future__ import annotations

from modeling.core import ir
from modeling.cost import CostReport, Prices, estimate


def money(value: float | None) -> str:
    """Dollars, or `?` when the figure is unknown."""
    return "?" if value is None else f"${value:,.2f}"


def num(value: float | None, digits: int = 1) -> str:
    """A figure with `digits` decimals, or `?` when it is unknown."""
    return "?" if value is None else f"{value:,.{digits}f}"


def _bound(upper: bool) -> str:
    return "≤ " if upper else ""


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
        "provisioned capacity sized for 70% utilisation; no free tier. `≤`: a sort-key range "
        "reads part of a partition; the figure counts the whole partition.",
        "",
    ]
    lines += _table(
        ["pattern", "index", "items/request", "read units/request", "reads/s", "on-demand/month"],
        [
            [
                f"`{c.pattern}`",
                c.index,
                _bound(c.upper_bound and c.items_per_request is not None)
                + num(c.items_per_request),
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
        ["index", "items", "storage GB", "writes/s", "write units/s", "provisioned RCU / WCU"],
        [
            [
                i.index,
                num(i.items, 0),
                num(None if i.storage_bytes is None else i.storage_bytes / 1024**3, 3),
                num(i.writes_per_second),
                num(i.write_units_per_second),
                f"{num(i.provisioned_rcu, 0)} / {i.provisioned_wcu}",
            ]
            for i in report.indexes
        ],
    )
    t = report.totals
    lines += [
        "",
        f"Monthly: on-demand {money(t.on_demand_total)} (reads {money(t.on_demand_reads)}, "
        f"writes {money(t.on_demand_writes)}, storage {money(t.storage)}); provisioned "
        f"{money(t.provisioned_total)}.",
    ]
    if report.notes:
        lines += ["", "To sharpen the estimate, declare:", ""]
        lines += [f"- {n}" for n in report.notes]
    lines.append("")
    return lines
