"""`model migrate create-table MODEL`: create the table from the compiled definition.

`model migrate create-table MODEL [--endpoint URL] [--table NAME] [--timeout S] [--json]`

The same definition as `generated/<model>/create-table.json` (then `post-create-table.json`:
point-in-time recovery, TTL), created if missing and waited on until it and its GSIs are
ACTIVE. An existing table with the same key schema and indexes is fine (exit 0, it says so);
one whose keys or indexes differ is exit 2 naming each difference. `migrate run
--create-table` does the same before its backfill.

`model migrate tombstones purge MODEL [--endpoint URL] [--table NAME] [--dry-run] [--json]`

Deletes the tombstones the dual-write repository's deletes and key changes left (see
modeling/migrate/tombstones.py). Run it after the cutover (writeToNewDatabase: no backfill or
catch-up will run again); `--dry-run` only counts them.

Registered onto the `migrate` group that `modeling.commands.migrate` creates (this module
comes after it in `cli.COMMANDS`), like `migrate package`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from modeling.core.errors import EXIT_OK, check_endpoint, check_table_name


def register(app: typer.Typer) -> None:
    from modeling.commands.migrate_package import _migrate_group

    migrate = _migrate_group(app)

    @migrate.command("create-table")
    def create_table(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        endpoint: str | None = typer.Option(
            None, "--endpoint", callback=check_endpoint, help="DynamoDB endpoint URL."
        ),
        table: str | None = typer.Option(
            None, "--table", callback=check_table_name, help="Table name (default: model's)."
        ),
        timeout: float = typer.Option(
            600.0, "--timeout", min=1, help="Seconds to wait for the table to become ACTIVE."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Create the table from the model (create-table.json) unless it exists; wait until ACTIVE."""
        from modeling.commands.migrate import _compiled, _errors, dynamodb_client
        from modeling.migrate.table import ensure_table

        model, layout = _compiled(model_path)
        with _errors():
            status = ensure_table(dynamodb_client(endpoint), model, layout, table, timeout=timeout)
        if as_json:
            sys.stdout.write(json.dumps(status.as_dict(), indent=2, sort_keys=True) + "\n")
        else:
            out = Console(highlight=False, soft_wrap=True)
            out.print(status.message())
            for note in status.notes:
                out.print(f"note: {note}")
        raise typer.Exit(EXIT_OK)

    tombstones = typer.Typer(
        help="Tombstones of deleted rows and changed keys (purge after the cutover).",
        no_args_is_help=True,
    )
    migrate.add_typer(tombstones, name="tombstones")

    @tombstones.command("purge")
    def purge(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        endpoint: str | None = typer.Option(
            None, "--endpoint", callback=check_endpoint, help="DynamoDB endpoint URL."
        ),
        table: str | None = typer.Option(
            None, "--table", callback=check_table_name, help="Table name (default: model's)."
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="Count the tombstones only."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Delete every tombstone (after the cutover: writeToNewDatabase, no more catch-up)."""
        from modeling.commands.migrate import _compiled, _errors, dynamodb_client
        from modeling.migrate import tombstones as marks
        from modeling.migrate.runner import table_key_names
        from modeling.migrate.sink import Sink

        _model, layout = _compiled(model_path)
        name = table or layout.table_name
        with _errors():
            client = dynamodb_client(endpoint)
            sink = Sink(client, name, table_key_names(layout), lambda item: 0)
            found = marks.purge(sink, dry_run=dry_run)
        result = {"table": name, "tombstones": found, "deleted": 0 if dry_run else found}
        if as_json:
            sys.stdout.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
        else:
            verb = "found (dry run, nothing deleted)" if dry_run else "deleted"
            Console(highlight=False, soft_wrap=True).print(f"{name}: {found} tombstone(s) {verb}")
        raise typer.Exit(EXIT_OK)
