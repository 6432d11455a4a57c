"""`model cost MODEL... [--region R] [--prices FILE] [--json]`: capacity and monthly cost.

Per access pattern: items and bytes per request, read units, reads/s, the on-demand bill and
the share of one partition's throughput. Per index: items, storage, write units (GSI write
amplification included) and the provisioned units it needs. Per model: storage and the
monthly total on-demand vs provisioned. With several models, a side-by-side comparison.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from modeling.api import compile_file
from modeling.commands.validate import render as render_diagnostic
from modeling.core.diagnostics import ModelError
from modeling.core.errors import EXIT_INVALID
from modeling.cost import CostReport, IndexChoice, Prices, estimate, index_strategies
from modeling.emit.cost_report import chosen as _chosen
from modeling.emit.cost_report import money as _money
from modeling.emit.cost_report import num as _num


def _tables(report: CostReport) -> list[Table]:
    patterns = Table(title=f"{report.model}: access patterns ({report.prices.region})")
    for col in ("pattern", "index", "items/req", "bytes/req", "RRU/req", "reads/s", "RRU/s"):
        patterns.add_column(col, justify="left" if col in ("pattern", "index") else "right")
    patterns.add_column("on-demand/month", justify="right")
    patterns.add_column("of a partition", justify="right")
    for p in report.patterns:
        patterns.add_row(
            p.pattern,
            p.index,
            ("≤ " if p.upper_bound and p.items_per_request is not None else "")
            + _num(p.items_per_request),
            _num(p.bytes_per_request, 0),
            _num(p.read_units_per_request),
            _num(p.reads_per_second, 0),
            _num(p.read_units_per_second),
            _money(p.on_demand_monthly),
            "?" if p.partition_share is None else f"{p.partition_share:.1%}",
        )
    indexes = Table(title=f"{report.model}: indexes")
    for col in ("index", "entities", "items", "storage GB", "writes/s", "WCU/s", "RCU/s"):
        indexes.add_column(col, justify="left" if col in ("index", "entities") else "right")
    indexes.add_column("provisioned RCU/WCU", justify="right")
    for i in report.indexes:
        indexes.add_row(
            i.index,
            ", ".join(i.entities),
            _num(i.items, 0),
            _num(None if i.storage_bytes is None else i.storage_bytes / 1024**3, 3),
            _num(i.writes_per_second),
            _num(i.write_units_per_second),
            _num(i.read_units_per_second),
            f"{_num(i.provisioned_rcu, 0)} / {i.provisioned_wcu}",
        )
    return [patterns, indexes]


def _strategy_table(model: str, choices: tuple[IndexChoice, ...]) -> Table:
    table = Table(title=f"{model}: index or duplicated items (strategy: lowest_cost, per month)")
    for col in ("index", "patterns", "GSI", "duplicated items", "chosen"):
        table.add_column(col, justify="right" if col in ("GSI", "duplicated items") else "left")
    for c in choices:
        table.add_row(
            c.index,
            ", ".join(c.patterns),
            _money(c.gsi.total),
            _money(c.duplicate_items.total),
            _chosen(c),
        )
    return table


def _choice_record(c: IndexChoice) -> dict[str, object]:
    record = dataclasses.asdict(c)
    record["gsi"]["total"] = c.gsi.total
    record["duplicate_items"]["total"] = c.duplicate_items.total
    return record


def _totals_table(reports: list[CostReport]) -> Table:
    region = reports[0].prices.region
    table = Table(title=f"monthly cost ({region}, prices of {reports[0].prices.date})")
    table.add_column("")
    for r in reports:
        table.add_column(r.model, justify="right")
    rows = [
        ("storage GB", [_num(r.totals.storage_gb, 3) for r in reports]),
        ("read units/s", [_num(r.totals.read_units_per_second) for r in reports]),
        ("write units/s", [_num(r.totals.write_units_per_second) for r in reports]),
        ("on-demand reads", [_money(r.totals.on_demand_reads) for r in reports]),
        ("on-demand writes", [_money(r.totals.on_demand_writes) for r in reports]),
        ("storage", [_money(r.totals.storage) for r in reports]),
        ("on-demand total", [_money(r.totals.on_demand_total) for r in reports]),
        ("provisioned total", [_money(r.totals.provisioned_total) for r in reports]),
    ]
    for label, cells in rows:
        table.add_row(label, *cells)
    return table


def register(app: typer.Typer) -> None:
    @app.command("cost")
    def cost(
        models: list[Path] = typer.Argument(..., help="Model files.", show_default=False),  # noqa: B008
        region: str = typer.Option("us-east-1", "--region", help="Price region."),
        prices_file: Path | None = typer.Option(  # noqa: B008
            None, "--prices", help="A price table (JSON) instead of the packaged one."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the estimates as JSON."),
    ) -> None:
        """Estimate capacity and monthly cost: per pattern, per index, on-demand vs provisioned."""
        console = Console(highlight=False, soft_wrap=True)
        prices = Prices.load(region, prices_file)
        reports: list[CostReport] = []
        choices: list[tuple[IndexChoice, ...]] = []
        for path in models:
            try:
                model, layout = compile_file(path)
            except ModelError as exc:
                err = Console(stderr=True, highlight=False, soft_wrap=True)
                for d in exc.diagnostics.sorted():
                    err.print(render_diagnostic(d))
                raise typer.Exit(EXIT_INVALID) from None
            reports.append(estimate(model, layout, prices))
            choices.append(index_strategies(model, layout, prices))
        if as_json:
            records = [
                {**r.to_dict(), "strategies": [_choice_record(c) for c in cs]}
                for r, cs in zip(reports, choices, strict=True)
            ]
            typer.echo(json.dumps(records, indent=2, sort_keys=True))
            return
        for report, cs in zip(reports, choices, strict=True):
            for table in _tables(report):
                console.print(table)
            if cs:
                console.print(_strategy_table(report.model, cs))
            for note in report.notes:
                console.print(f"note: {note}")
        console.print(_totals_table(reports))
        console.print(
            f"prices: {reports[0].prices.source}, {reports[0].prices.date}; estimates, not "
            "quotes (no free tier, reserved capacity, backups, streams or transfer)"
        )
        if prices.unverified:
            console.print(
                f"prices not checked against the source for {prices.region}: "
                f"{', '.join(prices.unverified)}"
            )

    del cost
