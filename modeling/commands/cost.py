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

from modeling.api import load_model
from modeling.commands._previous import compile_locked
from modeling.commands.validate import render as render_diagnostic
from modeling.compile.strategy import index_strategies
from modeling.core.diagnostics import ModelError
from modeling.core.errors import EXIT_INVALID
from modeling.cost import CostReport, IndexChoice, Prices, estimate, with_gsis
from modeling.emit.cost_report import chosen as _chosen
from modeling.emit.cost_report import money as _money
from modeling.emit.cost_report import num as _num


def _tables(report: CostReport) -> list[Table]:
    patterns = Table(title=f"{report.model}: access patterns ({report.prices.region})")
    for col in ("pattern", "index", "items/req", "bytes/req", "queries/req", "RRU/req"):
        patterns.add_column(col, justify="left" if col in ("pattern", "index") else "right")
    for col in ("reads/s", "RRU/s", "on-demand/month", "of a partition"):
        patterns.add_column(col, justify="right")
    mark = _mark(report, "read_request_units_per_million")
    for p in report.patterns:
        patterns.add_row(
            p.pattern,
            p.index,
            ("≤ " if p.upper_bound and p.items_per_request is not None else "")
            + _num(p.items_per_request),
            _num(p.bytes_per_request, 0),
            f"{p.queries_per_request}" + (f" ({p.shards} shards)" if p.shards > 1 else ""),
            _num(p.read_units_per_request),
            _num(p.reads_per_second, 0),
            _num(p.read_units_per_second),
            _money(p.on_demand_monthly) + mark,
            "?" if p.partition_share is None else f"{p.partition_share:.1%}",
        )
    indexes = Table(title=f"{report.model}: indexes")
    for col in ("index", "entities", "items", "storage GB", "writes/s", "WCU/s"):
        indexes.add_column(col, justify="left" if col in ("index", "entities") else "right")
    for col in ("WCU/s if keys move", "RCU/s", "provisioned RCU/WCU"):
        indexes.add_column(col, justify="right")
    for i in report.indexes:
        indexes.add_row(
            i.index,
            ", ".join(i.entities),
            _num(i.items, 0),
            _num(None if i.storage_bytes is None else i.storage_bytes / 1024**3, 3),
            _num(i.writes_per_second),
            _num(i.write_units_per_second),
            "-" if i.moved_write_units_per_second is None else _num(i.moved_write_units_per_second),
            _num(i.read_units_per_second),
            f"{_num(i.provisioned_rcu, 0)} / {i.provisioned_wcu}",
        )
    partitions = Table(title=f"{report.model}: hottest partition per key (per shard)")
    for col in ("index", "partition key", "values", "shards", "WCU/s", "RCU/s", "of a partition"):
        partitions.add_column(col, justify="left" if col in ("index", "partition key") else "right")
    for q in report.partitions:
        partitions.add_row(
            q.index,
            q.pk,
            _num(q.partitions, 0),
            str(q.shards),
            _num(q.write_units_per_second, 2),
            _num(q.read_units_per_second, 2),
            "?" if q.headroom is None else f"{q.headroom:.1%}",
        )
    items = Table(title=f"{report.model}: items (estimated bytes) and units per write")
    for col in ("entity", "item B", "rows", "writes/s", "per index: bytes / WCU per write"):
        items.add_column(col, justify="left" if col in ("entity",) or "index" in col else "right")
    for e in report.entities:
        items.add_row(
            e.entity,
            _num(e.item_bytes, 0),
            _num(e.rows, 0),
            _num(e.writes_per_second),
            ", ".join(f"{i} {_num(b, 0)} B / {_num(u, 2)}" for i, b, u in e.per_index),
        )
    tables = [items, patterns, indexes, partitions]
    if report.collections:
        collections = Table(title=f"{report.model}: item collections with LSIs (10 GB each)")
        for col in ("partition key", "entities", "bytes per value", "of 10 GB"):
            collections.add_column(col, justify="left" if col != "bytes per value" else "right")
        for c in report.collections:
            collections.add_row(
                c.pk,
                ", ".join(c.entities),
                _num(c.bytes_per_value, 0),
                "?" if c.share is None else f"{c.share:.4%}",
            )
        tables.append(collections)
    return tables


def _mark(report: CostReport, *prices: str) -> str:
    """`*` after a figure resting on a price not checked against its source."""
    return " *" if any(p in report.prices.unverified for p in prices) else ""


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

    def cell(r: CostReport, figure: str) -> str:
        value = getattr(r.totals, figure)
        return _money(value) + (" *" if figure in r.unverified_figures else "")

    rows = [
        ("storage GB", [_num(r.totals.storage_gb, 3) for r in reports]),
        ("read units/s", [_num(r.totals.read_units_per_second) for r in reports]),
        ("write units/s", [_num(r.totals.write_units_per_second) for r in reports]),
    ]
    for label, figure in (
        ("on-demand reads", "on_demand_reads"),
        ("on-demand writes", "on_demand_writes"),
        ("storage", "storage"),
        ("on-demand total", "on_demand_total"),
        ("provisioned reads", "provisioned_reads"),
        ("provisioned writes", "provisioned_writes"),
        ("provisioned total", "provisioned_total"),
    ):
        rows.append((label, [cell(r, figure) for r in reports]))
    if len(reports) == 2:
        a, b = reports
        for label, figure in (
            ("on-demand total", "on_demand_total"),
            ("provisioned total", "provisioned_total"),
        ):
            x, y = getattr(a.totals, figure), getattr(b.totals, figure)
            diff = None if x is None or y is None else y - x
            text = "?" if diff is None else ("+" if diff >= 0 else "-") + _money(abs(diff))
            rows.append((f"{label}: {b.model} - {a.model}", ["", text]))
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
        built: list[tuple[CostReport, CostReport]] = []
        for path in models:
            try:
                model = load_model(path)
                compiled, diagnostics = compile_locked(model)
                if compiled is None:
                    raise ModelError(diagnostics)
                layout = compiled
            except ModelError as exc:
                err = Console(stderr=True, highlight=False, soft_wrap=True)
                for d in exc.diagnostics.sorted():
                    err.print(render_diagnostic(d))
                raise typer.Exit(EXIT_INVALID) from None
            reports.append(estimate(model, layout, prices))
            choices.append(index_strategies(model, layout, prices))
            if layout.copies:
                built.append((reports[-1], estimate(model, with_gsis(layout), prices)))
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
        for copies, gsis in built:
            console.print(
                f"{copies.model}: as built (relationship copies, written as the generated "
                f"client writes them) on-demand {_money(copies.totals.on_demand_total)}/month; "
                f"with the GSIs instead {_money(gsis.totals.on_demand_total)}/month"
            )
        console.print(_totals_table(reports))
        console.print(
            f"prices: {reports[0].prices.source}, {reports[0].prices.date}; estimates, not "
            "quotes (no free tier, reserved capacity, backups, streams or transfer)"
        )
        if prices.unverified:
            console.print(
                f"* rests on a price not checked against the source for {prices.region} "
                f"({', '.join(prices.unverified)}): {prices.unverified_reason or 'unverified'}"
            )

    del cost
