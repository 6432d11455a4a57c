"""`model validate PATH... [--json]`: check model files; 0 when valid, 2 when any has an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from modeling.api import FileResult, summarize, validate_files
from modeling.core.diagnostics import Diagnostic, Severity
from modeling.core.errors import EXIT_INVALID, EXIT_OK

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render(diagnostic: Diagnostic) -> Text:
    """`path:line:col: error: message [code]` + `hint:`; rich Text, so brackets stay literal."""
    text = Text()
    if diagnostic.span:
        text.append(f"{diagnostic.span}: ", style="bold")
    text.append(f"{diagnostic.severity.value}: ", style=_STYLE[diagnostic.severity])
    text.append(diagnostic.message)
    text.append(f" [{diagnostic.code}]", style="dim")
    if diagnostic.hint:
        text.append("\n  hint: ", style="cyan")
        text.append(diagnostic.hint)
    return text


def report(results: list[FileResult]) -> dict[str, Any]:
    """The machine-readable report printed by `--json`."""
    files = []
    for r in results:
        entry: dict[str, Any] = {
            "path": r.path,
            "ok": r.ok,
            "diagnostics": [d.to_dict() for d in r.diagnostics.sorted()],
        }
        if r.model is not None:
            entry["model"] = r.model.name
            entry["entities"] = len(r.model.entities)
            entry["access_patterns"] = len(r.model.patterns)
        files.append(entry)
    return {
        "ok": all(r.ok for r in results),
        "errors": sum(len(r.diagnostics.errors) for r in results),
        "warnings": sum(len(r.diagnostics.warnings) for r in results),
        "files": files,
    }


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(
        paths: list[Path] = typer.Argument(  # noqa: B008
            ..., help="Model files (or folders of *.yaml) to check.", show_default=False
        ),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
    ) -> None:
        """Check model files and report every problem with file:line:col and a hint."""
        results = validate_files(paths)
        if as_json:
            typer.echo(json.dumps(report(results), indent=2, sort_keys=True))
        else:
            console = Console(stderr=True, highlight=False, soft_wrap=True)
            for r in results:
                for d in r.diagnostics.sorted():
                    console.print(render(d))
                if r.model is not None and r.ok:
                    line = Text("ok ", style="green")
                    line.append(f"{r.path}: {summarize(r.model)}")
                    console.print(line)
            if not results:
                console.print(Text("no model files found", style="yellow"))
            errors = sum(len(r.diagnostics.errors) for r in results)
            if errors:
                bad = sum(1 for r in results if not r.ok)
                console.print(
                    Text(f"{errors} error(s) in {bad} of {len(results)} file(s)", style="bold red")
                )
        if not results or any(not r.ok for r in results):
            raise typer.Exit(EXIT_INVALID)
        raise typer.Exit(EXIT_OK)
