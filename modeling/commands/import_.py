"""`model import --from-workbench FILE [-o models/NAME.yaml | DIR | -] [--table NAME] [--report R.json]`.

Importers write a model *spec* (YAML an architect then edits), never the IR. The command only
picks output paths and writes files; what was guessed is printed as a summary, carried as YAML
comments, and written as JSON with `--report`. Exit 0 when written, 2 on bad input or a refused
write (an existing, different file without `--force`; several tables but one output file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from modeling.commands._self_check import self_check
from modeling.core.diagnostics import Diagnostics, Span
from modeling.core.errors import EXIT_INVALID, EXIT_OK
from modeling.importers import workbench
from modeling.importers._spec import ensure_schema_file, schema_reference

MODEL_SUFFIXES = (".yaml", ".yml")


def targets(
    models: list[str], output: str | None, tables: list[str] | None = None
) -> tuple[dict[str, Path | None], str | None]:
    """Model name → file to write (None: stdout), or an error message.

    No `-o`: `models/<model>.yaml` for each model. `-o X.yaml`: that one file (one model only).
    `-o DIR` (an existing directory, or a path ending in `/`): `DIR/<model>.yaml`. `-o -`: stdout.
    """
    if output == "-" or (output is not None and output.endswith(MODEL_SUFFIXES)):
        if len(models) > 1:
            return {}, (
                f"the export has {len(models)} tables ({', '.join(tables or models)}) but -o names one file; "
                "pick one with --table NAME, or give -o a directory to write one model per table"
            )
        return {models[0]: None if output == "-" else Path(output)}, None
    folder = Path(output) if output is not None else Path("models")
    if folder.exists() and not folder.is_dir():
        return {}, f"{folder} exists and is not a directory; give -o a directory or a .yaml file"
    return {m: folder / f"{m}.yaml" for m in models}, None


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        from_workbench: Path | None = typer.Option(  # noqa: B008
            None,
            "--from-workbench",
            help="A NoSQL Workbench model export (JSON).",
            show_default=False,
        ),
        output: str | None = typer.Option(
            None,
            "-o",
            "--output",
            help="models/NAME.yaml, a directory (one file per table), or - for stdout. "
            "Default: models/<model>.yaml.",
            show_default=False,
        ),
        table: str | None = typer.Option(
            None, "--table", help="Import only this table of a multi-table export."
        ),
        report: Path | None = typer.Option(  # noqa: B008
            None,
            "--report",
            help="Write what was inferred and guessed as JSON.",
            show_default=False,
        ),
        force: bool = typer.Option(False, "--force", help="Overwrite model files that differ."),
    ) -> None:
        """Import a model from another tool, saying what was guessed."""
        from modeling.commands.validate import render

        console = Console(stderr=True, highlight=False, soft_wrap=True)
        if from_workbench is None:
            console.print(
                Text("error: say what to import from, e.g. --from-workbench FILE", style="bold red")
            )
            raise typer.Exit(EXIT_INVALID)
        result = workbench.import_workbench(from_workbench, table)
        diags = result.diagnostics
        paths: dict[str, Path | None] = {}
        texts = {p.model: workbench.render_yaml(p) for p in result.plans}
        schema_files: set[Path] = set()
        if result.ok and result.plans:
            paths, problem = targets(
                [p.model for p in result.plans], output, [p.table for p in result.plans]
            )
            if problem:
                diags.error(
                    "import-output", problem, Span(str(from_workbench)), "see `model import --help`"
                )
            for plan in result.plans:
                if plan.model not in paths:
                    continue
                # the `$schema` header must resolve from where the file is written
                ref, schema_file = schema_reference(paths[plan.model])
                texts[plan.model] = workbench.render_yaml(plan, ref)
                if schema_file is not None:
                    schema_files.add(schema_file)
            for model, path in paths.items():
                if (
                    path is not None
                    and path.exists()
                    and not force
                    and path.read_text(encoding="utf-8") != texts[model]
                ):
                    diags.error(
                        "import-exists",
                        f"{path} exists and differs from the import; not overwritten",
                        Span(str(path)),
                        "pass --force to overwrite it, or -o another path",
                    )
        if not diags.has_errors():
            for plan in result.plans:
                if plan.model not in paths:
                    continue
                path = paths[plan.model]
                errors = self_check(texts[plan.model], str(path or f"{plan.model}.yaml"))
                if errors:
                    diags.warning(
                        "workbench-self-check",
                        f"the imported model {plan.model} would not pass model validate/compile "
                        f"({len(errors)} error(s)); written anyway for you to fix: "
                        + " | ".join(" ".join(e.split()) for e in errors[:5]),
                        Span(str(path or from_workbench)),
                        "fix the listed errors in the model (the design's keys or the guesses)",
                        plan.model,
                    )
        written = _write(texts, paths) if not diags.has_errors() else {}
        if written:
            for schema_file in sorted(schema_files):
                if ensure_schema_file(schema_file):
                    console.print(Text(f"wrote {schema_file} (the models' $schema)", style="green"))
        for d in diags.sorted():
            console.print(render(d))
        if report is not None:
            _write_report(report, result, diags, paths)
        if diags.has_errors():
            raise typer.Exit(EXIT_INVALID)
        for plan in result.plans:
            console.print(workbench.summary(plan))
            console.print(Text(f"  {written.get(plan.model, '')}", style="green"))
        if len(result.plans) > 1:
            console.print(
                f"{len(result.plans)} tables → {len(result.plans)} model files (--table NAME imports one)"
            )
        raise typer.Exit(EXIT_OK)


def _write(texts: dict[str, str], paths: dict[str, Path | None]) -> dict[str, str]:
    """Write each model; an unchanged file is left alone (its mtime too)."""
    out: dict[str, str] = {}
    for model, path in paths.items():
        if path is None:
            typer.echo(texts[model], nl=False)
            out[model] = "written to stdout"
            continue
        if path.exists() and path.read_text(encoding="utf-8") == texts[model]:
            out[model] = f"unchanged {path}"
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(texts[model], encoding="utf-8", newline="\n")
        out[model] = f"wrote {path}"
    return out


def _write_report(
    report: Path, result: workbench.ImportResult, diags: Diagnostics, paths: dict[str, Path | None]
) -> None:
    models: list[dict[str, Any]] = []
    for plan in result.plans:
        entry = workbench.plan_report(plan)
        path = paths.get(plan.model)
        entry["output"] = str(path) if path is not None else ("-" if plan.model in paths else None)
        models.append(entry)
    data = {
        "source": str(result.document.file) if result.document else None,
        "ok": not diags.has_errors(),
        "models": models,
        "diagnostics": [d.to_dict() for d in diags.sorted()],
    }
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
