"""The `model` command. Thin: parses flags, calls the API, turns results into exit codes.

Exit codes: 0 ok, 1 a check failed (stale generated files, a verification mismatch, ...),
2 invalid input (a bad model, DDL that cannot be read, a bad flag).

Each command lives in `modeling/commands/<name>.py` with a `register(app)` function; add the
module to COMMANDS below. This is the one place exceptions become exit codes.
"""

from __future__ import annotations

import importlib
import sys

import typer

from modeling import __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2

COMMANDS = (
    "modeling.commands.validate",
    "modeling.commands.schema",
    "modeling.commands.import_",
    "modeling.commands.init",
    "modeling.commands.docs",
    "modeling.commands.compile",
    "modeling.commands.verify",
    "modeling.commands.migrate",
    "modeling.commands.migrate_package",
    "modeling.commands.migrate_demo",
)

app = typer.Typer(
    name="model",
    help="Model a PostgreSQL application as one DynamoDB table: validate, compile, prove, migrate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"model (single-table-modeling) {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Model a PostgreSQL application as one DynamoDB table."""


for _name in COMMANDS:
    importlib.import_module(_name).register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
