"""The `model` command. Thin: parses flags, calls the API, turns results into exit codes.

Exit codes (defined once, in `modeling.core.errors`): 0 ok, 1 a check failed or the operation
failed (stale generated files, a verification mismatch, ...), 2 invalid input (a bad model, DDL
that cannot be read, a bad flag, a service that cannot start).

Each command lives in `modeling/commands/<name>.py` with a `register(app)` function; add the
module to COMMANDS below. This is the one place exceptions become exit codes: a
`ModelingError` that escapes a command ends it with `error: <message>` (and `hint: ...`) on
stderr and the exception's `exit_code`, never a traceback (`_Group.invoke`).
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from typing import Any

import typer
from typer.core import TyperGroup

from modeling import __version__
from modeling.commands.examples import epilog
from modeling.core.errors import EXIT_OK, EXIT_SIGTERM, ModelingError, path_error

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
    "modeling.commands.migrate_table",
    "modeling.commands.migrate_export",
    "modeling.commands.migrate_demo",
    "modeling.commands.engines",
    "modeling.commands.cost",
    "modeling.commands.diff",
)


class _Group(TyperGroup):
    """The root command group: maps a `ModelingError` from any (sub)command to its exit code,
    and gives every command its examples (`modeling/commands/examples.py`) as the help epilog."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_examples(self, ())

    def invoke(self, ctx: Any) -> Any:  # typer's (vendored) click.Context
        try:
            return super().invoke(ctx)
        except ModelingError as exc:
            report(exc)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            # a path the command was given (or derived from one) cannot be created, read or
            # written: the user's to fix, reported like any InputError
            if exc.filename is None:
                raise
            error = path_error(exc)
            report(error)
            raise typer.Exit(error.exit_code) from None


def _add_examples(group: Any, path: tuple[str, ...]) -> None:
    for name, command in getattr(group, "commands", {}).items():
        text = epilog((*path, name))
        if text is not None and not command.epilog:
            command.epilog = text
        _add_examples(command, (*path, name))


def report(exc: ModelingError) -> None:
    """`error: <message>` and, when the exception has one, `  hint: <hint>`, on stderr."""
    message = str(exc).strip() or type(exc).__name__
    typer.echo(f"error: {message}", err=True)
    if exc.hint:
        typer.echo(f"  hint: {exc.hint}", err=True)


app = typer.Typer(
    name="model",
    cls=_Group,
    help="Model a PostgreSQL application as one DynamoDB table: validate, compile, prove, migrate.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
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


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C does: the exception unwinds every `with` block, so
    the engines the command started (PostgreSQL, DynamoDB Local) are stopped and temporary
    directories removed (the default action would kill the process and leave them running).
    A second SIGTERM during that cleanup is ignored; SIGKILL still ends it at once."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(EXIT_SIGTERM)


def main() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app(standalone_mode=True, prog_name="model")
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
