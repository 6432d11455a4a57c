"""`model verify MODEL [--endpoint URL] [--postgres DSN|local] [--json]`: proof on data.

Generates sample rows, loads them as items into DynamoDB (a throwaway DynamoDB Local unless
`--endpoint`), runs every access pattern for many parameter values and compares with the
Python oracle and, with `--postgres`, with PostgreSQL. Exit 0 all agree, 1 a mismatch,
2 invalid model / layout or a service that cannot be reached.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from modeling.core.errors import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, check_endpoint


@contextlib.contextmanager
def _dynamodb(endpoint: str | None) -> Iterator[tuple[Any, str]]:
    """A DynamoDB client: the given endpoint, or a DynamoDB Local started for this run."""
    if endpoint:
        import boto3

        session = boto3.session.Session()
        local = "127.0.0.1" in endpoint or "localhost" in endpoint
        dummy = "dummy" if local and session.get_credentials() is None else None
        client = session.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=session.region_name or "us-east-1",
            aws_access_key_id=dummy,
            aws_secret_access_key=dummy,
        )
        yield client, endpoint
        return
    from modeling.services import DynamoDBLocal

    with DynamoDBLocal() as ddb:
        yield ddb.client(), f"DynamoDB Local {ddb.endpoint_url}"


@contextlib.contextmanager
def _postgres(dsn: str | None) -> Iterator[Any]:
    """A connection to a fresh scratch database (dropped afterwards), or None."""
    if not dsn:
        yield None
        return
    import psycopg

    from modeling.services import PostgresCluster, ScratchDatabase

    with contextlib.ExitStack() as stack:
        if dsn == "local":
            dsn = stack.enter_context(PostgresCluster()).dsn
        # the model's DDL and rows run as the scratch database's owner, never as a superuser
        scratch = ScratchDatabase(dsn, "model_verify_")
        try:
            with psycopg.connect(scratch.dsn, autocommit=True) as conn:
                yield conn
        finally:
            scratch.drop()


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        endpoint: str | None = typer.Option(
            None,
            "--endpoint",
            callback=check_endpoint,
            help="DynamoDB endpoint URL (default: start DynamoDB Local).",
        ),
        postgres: str | None = typer.Option(
            None,
            "--postgres",
            help="DSN of a PostgreSQL server to use as a second oracle (a scratch database is "
            "created and dropped), or `local` to start a throwaway cluster.",
        ),
        layout_path: Path | None = typer.Option(  # noqa: B008
            None, "--layout", help="Verify this layout.json instead of compiling the model."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the sample rows and parameters."),
        trials: int = typer.Option(40, "--trials", min=1, help="Parameter sets per pattern."),
        keep_table: bool = typer.Option(False, "--keep-table", help="Do not delete the table."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
    ) -> None:
        """Prove the layout on data: load sample rows, run every pattern, compare with oracles."""
        from modeling.api import load_model
        from modeling.commands.validate import render as render_diagnostic
        from modeling.core.diagnostics import ModelError
        from modeling.core.ir import Layout, from_json
        from modeling.verify import report as report_mod
        from modeling.verify.runner import VerifyOptions
        from modeling.verify.runner import verify as run_verify

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        try:
            model = load_model(model_path)
        except ModelError as exc:
            for d in exc.diagnostics.sorted():
                err.print(render_diagnostic(d))
            raise typer.Exit(EXIT_INVALID) from None
        if layout_path is not None:
            try:
                layout = from_json(Layout, layout_path.read_text(encoding="utf-8"))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                err.print(f"[red]error:[/] cannot read layout {layout_path}: {exc}")
                raise typer.Exit(EXIT_INVALID) from None
        else:
            from modeling.compile import compile_model

            compiled, diags = compile_model(model)
            if compiled is None or diags.has_errors():
                for d in diags.sorted():
                    err.print(render_diagnostic(d))
                raise typer.Exit(EXIT_INVALID)
            layout = compiled
        source_ddl = None
        if model.source is not None and model.source.ddl:
            base = Path(model.file).parent if model.file else Path(".")
            source_ddl = base / model.source.ddl
        options = VerifyOptions(seed=seed, trials=trials, keep_table=keep_table)
        try:
            with _dynamodb(endpoint) as (client, where), _postgres(postgres) as conn:
                result = run_verify(
                    model,
                    layout,
                    client,
                    endpoint=where,
                    pg_conn=conn,
                    source_ddl=source_ddl,
                    options=options,
                )
        except Exception as exc:  # services are outside our control: report, don't trace
            name = type(exc).__name__
            if name in ("ServiceUnavailable", "OperationalError", "EndpointConnectionError"):
                err.print(f"[red]error:[/] {exc}")
                raise typer.Exit(EXIT_INVALID) from None
            if type(exc).__module__.startswith("psycopg"):
                # a PostgreSQL server we do not control refused the scratch schema or a query
                err.print(f"[red]error:[/] PostgreSQL oracle: {name}: {exc}")
                raise typer.Exit(EXIT_INVALID) from None
            raise
        if as_json:
            sys.stdout.write(result.to_json() + "\n")
        else:
            report_mod.render(result, Console(stderr=False, soft_wrap=False, width=160))
        raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILURE)
