"""`model schema [-o FILE] [--check]`: the JSON Schema of the model language.

Without `-o` the schema goes to stdout. With `-o` the file is written only when its content
changes. `--check` writes nothing and exits 1 when FILE (default generated/model.schema.json)
is missing or differs from a fresh generation — CI runs it to catch a stale schema.
"""

from __future__ import annotations

from pathlib import Path

import typer

from modeling.core.errors import EXIT_FAILURE
from modeling.spec.schema import schema_text

DEFAULT_PATH = Path("generated/model.schema.json")


def register(app: typer.Typer) -> None:
    @app.command("schema")
    def schema(
        output: Path | None = typer.Option(  # noqa: B008
            None, "-o", "--output", help="Write the schema to this file (default: stdout)."
        ),
        check: bool = typer.Option(
            False, "--check", help="Exit 1 if the file is missing or stale; write nothing."
        ),
    ) -> None:
        """Print or write the JSON Schema used by the loader and by editors."""
        text = schema_text()
        if check:
            target = output or DEFAULT_PATH
            current = target.read_text(encoding="utf-8") if target.exists() else None
            if current != text:
                why = "missing" if current is None else "stale"
                typer.echo(f"{target} is {why}; run: model schema -o {target}", err=True)
                raise typer.Exit(EXIT_FAILURE)
            typer.echo(f"{target} is up to date", err=True)
            return
        if output is None:
            typer.echo(text, nl=False)
            return
        if output.exists() and output.read_text(encoding="utf-8") == text:
            typer.echo(f"{output} unchanged", err=True)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(text.encode("utf-8"))
        typer.echo(f"wrote {output}", err=True)
