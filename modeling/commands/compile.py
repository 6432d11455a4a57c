"""`model compile MODEL... [-o DIR] [--check] [--diff] [--previous P | --fresh]` and
`model explain MODEL PATTERN [--previous P | --fresh]`.

compile: load, derive, check, emit every registered artifact into `generated/<model>/`
(or `-o DIR`; with several models, `DIR/<model>/`). Unchanged files are not rewritten.
`--check` writes nothing and exits 1 when a file is stale, missing or extra; `--diff` also
prints what would change. Invalid model or a failing check: diagnostics, exit 2.

The layout.json already in the output directory is the previous layout (the lock): index
names and key templates that still serve patterns are kept (`modeling.commands._previous`
has the rule; `--previous` names another, `--fresh` ignores it). Same model and same previous
layout, same bytes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modeling.api import load_model
from modeling.commands import _previous
from modeling.commands.validate import render
from modeling.compile import compile_model
from modeling.compile.strategy import index_strategies
from modeling.core import ir
from modeling.core.diagnostics import Diagnostics, ModelError, Severity
from modeling.core.errors import EXIT_FAILURE, EXIT_INVALID
from modeling.cost import IndexChoice, Prices
from modeling.emit import emit, write_manifest
from modeling.emit.cost_report import strategy_line
from modeling.requests import key_condition


def _compile(
    path: Path,
    console: Console,
    record: dict[str, Any] | None = None,
    *,
    previous: str | None = None,
    fresh: bool = False,
    out: Path | None = None,
    several: bool = False,
) -> tuple[ir.Model, ir.Layout, Path, str | None] | None:
    """Load and compile one model against its previous layout (`_previous.resolve`), printing
    its diagnostics (into `record` for --json instead); (model, layout, output directory,
    where the previous layout came from or None), or None when it has errors."""
    try:
        model = load_model(path)
    except ModelError as exc:
        _print(exc.diagnostics, console, record)
        return None
    if out is None:
        target = _previous.default_directory(model)
    else:
        target = out / model.name if several else out
    before, notes = _previous.resolve(model, previous=previous, fresh=fresh, directory=target)
    layout, diagnostics = compile_model(model, before)
    diagnostics.extend(notes)
    _print(diagnostics, console, record)
    source = None if before is None else previous or str(target / _previous.LOCK)
    if record is not None:
        record["previous"] = source
    return (model, layout, target, source) if layout is not None else None


def _print(
    diagnostics: Diagnostics, console: Console, record: dict[str, Any] | None = None
) -> None:
    if record is not None:
        record.setdefault("diagnostics", []).extend(d.to_dict() for d in diagnostics.sorted())
        return
    for d in diagnostics.sorted():
        console.print(render(d))


def register(app: typer.Typer) -> None:
    @app.command("compile")
    def compile_(
        models: list[Path] = typer.Argument(..., help="Model files.", show_default=False),  # noqa: B008
        out: Path | None = typer.Option(  # noqa: B008
            None, "-o", "--out", help="Output directory (default generated/<model>)."
        ),
        check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if stale."),
        diff: bool = typer.Option(False, "--diff", help="Write nothing; show what would change."),
        as_json: bool = typer.Option(
            False, "--json", help="Print a JSON report on stdout (diagnostics and files)."
        ),
        previous: str | None = typer.Option(
            None,
            "--previous",
            metavar="LAYOUT",
            help="The previously compiled layout.json (or git:REF:path) to keep stable: index "
            "names and key templates that still serve patterns are kept, new needs go to "
            "existing indexes or new GSIs. Default: the layout.json in the output directory.",
        ),
        fresh: bool = typer.Option(
            False,
            "--fresh",
            help="Ignore the previous layout: assign every index afresh (fewest GSIs; a live "
            "table may then need GSIs rebuilt, see `model diff`).",
        ),
    ) -> None:
        """Derive the single-table layout and write layout.json, layout.md (and every artifact)."""
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        if previous is not None and len(models) > 1:
            console.print("[red]error:[/] --previous is one model's layout; give one MODEL with it")
            raise typer.Exit(EXIT_INVALID)
        invalid = stale = False
        records: list[dict[str, Any]] = []
        for path in models:
            record: dict[str, Any] | None = None
            if as_json:
                record = {"path": str(path), "diagnostics": []}
                records.append(record)
            compiled = _compile(
                path,
                console,
                record,
                previous=previous,
                fresh=fresh,
                out=out,
                several=len(models) > 1,
            )
            if compiled is None:
                invalid = True
                if record is not None:
                    record["ok"] = False
                continue
            model, layout, target, source = compiled
            result = write_manifest(emit(layout, model), target, check=check, diff=diff)
            if record is not None:
                record.update(
                    model=model.name,
                    output=str(target),
                    gsis=len(layout.gsis),
                    patterns=len(layout.plans),
                    ok=not ((check or diff) and result.out_of_date),
                    written=sorted(result.written),
                    unchanged=sorted(result.unchanged),
                    stale=sorted(result.stale),
                    missing=sorted(result.missing),
                    extra=sorted(result.extra),
                )
                stale = stale or ((check or diff) and result.out_of_date)
                continue
            for text in result.diffs:
                typer.echo(text, nl=False)
            if check or diff:
                for label, rels in (
                    ("stale", result.stale),
                    ("missing", result.missing),
                    ("extra", result.extra),
                ):
                    for rel in rels:
                        console.print(Text(f"{label}: {target / rel}", style="yellow"))
                stale = stale or result.out_of_date
                if not result.out_of_date:
                    console.print(Text(f"up to date: {target}", style="green"))
            else:
                for rel in result.extra:
                    console.print(
                        Text(f"not generated (left alone): {target / rel}", style="yellow")
                    )
                console.print(
                    Text(
                        f"{model.name}: {len(layout.gsis)} GSI(s), {len(layout.plans)} pattern(s) → "
                        f"{target} ({len(result.written)} written, {len(result.unchanged)} unchanged"
                        + (f"; indexes kept from {source})" if source else ")"),
                        style="green",
                    )
                )
        if as_json:
            report = {"ok": not (invalid or stale), "models": records}
            typer.echo(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
        if invalid:
            raise typer.Exit(EXIT_INVALID)
        if stale:
            raise typer.Exit(EXIT_FAILURE)

    @app.command("explain")
    def explain(
        model_path: Path = typer.Argument(  # noqa: B008
            ..., metavar="MODEL", help="Model file.", show_default=False
        ),
        pattern: str = typer.Argument(..., help="Access-pattern name.", show_default=False),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON on stdout."),
        previous: str | None = typer.Option(
            None,
            "--previous",
            metavar="LAYOUT",
            help="The previously compiled layout.json to keep stable (default: "
            "generated/<model>/layout.json, as `model compile`).",
        ),
        fresh: bool = typer.Option(False, "--fresh", help="Ignore the previous layout."),
    ) -> None:
        """Print how one access pattern runs and why its key condition is exact."""
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        compiled = _compile(
            model_path, console, {} if as_json else None, previous=previous, fresh=fresh
        )
        if compiled is None:
            raise typer.Exit(EXIT_INVALID)
        model, layout, _target, _source = compiled
        plan = layout.plan(pattern)
        if plan is None:
            known = ", ".join(p.pattern for p in layout.plans)
            console.print(
                Text(f"error: no pattern {pattern!r} in {model.name} (known: {known})", style="red")
            )
            raise typer.Exit(EXIT_INVALID)
        choice = next(
            (
                c
                for c in index_strategies(model, layout, Prices.load())
                if c.index in (plan.index, plan.copy) and plan.pattern in c.patterns
            ),
            None,
        )
        if as_json:
            typer.echo(
                json.dumps(
                    explain_record(layout, plan, choice),
                    indent=2,
                    sort_keys=True,
                    ensure_ascii=False,
                )
            )
            return
        Console(highlight=False, soft_wrap=True).print(explain_table(layout, plan, choice))

    del compile_, explain


#: the index choices `explain` shows with the plan (LSI instead of GSI, or why not)
LSI_CODES = frozenset({"lsi-derived", "lsi-kept-gsi", "lsi-needs-new-table"})
LSI_NOTE = (
    " (local secondary index: the table's partition key with its own sort key; created only "
    "with the table; 10 GB per item collection)"
)


def explain_record(
    layout: ir.Layout, plan: ir.PatternPlan, choice: IndexChoice | None = None
) -> dict[str, Any]:
    """One plan as `explain --json` prints it: what the table shows, as data."""
    index = layout.index(plan.index)
    return {
        "model": layout.model,
        "pattern": plan.pattern,
        "entities": list(plan.entities),
        "index": plan.index,
        "operation": plan.operation,
        "key_condition": key_condition(plan, index) if index else None,
        "order": "ascending" if plan.scan_forward else "descending",
        "parameters": list(plan.params),
        "type_filter": list(plan.type_filter),
        "limit": plan.limit,
        "pages": plan.pagination,
        "shards": plan.sharded,
        "filters": [
            {"attribute": f.attribute, "op": f.op, "read_cost": f.read_cost} for f in plan.filters
        ],
        "proof": list(plan.proof),
        "diagnostics": [
            dataclasses.asdict(d) for d in layout.diagnostics if d.subject == plan.pattern
        ],
        # strategy: lowest_cost: both monthly figures and the choice (None otherwise)
        "strategy": None
        if choice is None
        else {
            "index": choice.index,
            "gsi": {**dataclasses.asdict(choice.gsi), "total": choice.gsi.total},
            "duplicate_items": {
                **dataclasses.asdict(choice.duplicate_items),
                "total": choice.duplicate_items.total,
            },
            "chosen": choice.chosen,
            "built": choice.built,
            "reason": choice.reason,
        },
    }


def explain_table(
    layout: ir.Layout, plan: ir.PatternPlan, choice: IndexChoice | None = None
) -> Table:
    """One plan as a two-column rich table."""
    index = layout.index(plan.index)
    table = Table(title=f"{layout.model}: {plan.pattern}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("entities", ", ".join(plan.entities)),
        ("index", plan.index + (LSI_NOTE if index is not None and index.kind == "lsi" else "")),
        ("operation", plan.operation),
        ("key condition", key_condition(plan, index) if index else "?"),
        ("order", "ascending" if plan.scan_forward else "descending"),
        ("parameters", ", ".join(f":{p}" for p in plan.params) or "—"),
        ("client type filter", ", ".join(plan.type_filter) or "—"),
        (
            "limit",
            str(plan.limit)
            if plan.limit is not None
            else f":{plan.limit_param}"
            if plan.limit_param is not None
            else "—",
        ),
        ("pages", plan.pagination),
    ]
    if plan.sharded:
        rows.append(("shards", f"{plan.sharded}: one Query per shard, merged by the sort key"))
    rows += [(f"filter {f.attribute} {f.op}", f.read_cost) for f in plan.filters]
    if plan.read_estimate is not None:
        rows.append(("read amplification", plan.read_estimate.summary))
    if choice is not None:
        rows.append(("strategy", strategy_line(choice)))
    rows.append(("why exact", "\n".join(f"• {line}" for line in plan.proof)))
    index_choice = [
        d for d in layout.diagnostics if d.subject == plan.pattern and d.code in LSI_CODES
    ]
    if index_choice:
        rows.append(("index choice", "\n".join(d.message for d in index_choice)))
    notes = [
        d
        for d in layout.diagnostics
        if d.subject == plan.pattern and d.severity != Severity.INFO.value
    ]
    if notes:
        rows.append(("warnings", "\n".join(f"{d.code}: {d.message}" for d in notes)))
    for name, value in rows:
        table.add_row(name, Text(value))
    return table
