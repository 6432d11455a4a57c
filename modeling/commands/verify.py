"""`model verify MODEL... [--endpoint URL] [--postgres DSN|local] [--json]`: proof on data.

Generates sample rows, loads them as items into DynamoDB (a throwaway DynamoDB Local unless
`--endpoint`), runs every access pattern for many parameter values and compares with the
Python oracle and, with `--postgres`, with PostgreSQL. Several models share one DynamoDB Local
(a table each) and one PostgreSQL (a scratch database each): the engines start once. Progress
goes to stderr (a bar on a terminal, plain lines otherwise). Exit 0 all agree, 1 a mismatch,
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
def _dynamodb(endpoint: str | None, workers: int) -> Iterator[tuple[Any, str]]:
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
            config=_pool_config(workers),
        )
        yield client, endpoint
        return
    import boto3

    from modeling.services import DynamoDBLocal

    with DynamoDBLocal() as ddb:
        kwargs = ddb.client_kwargs()
        kwargs["config"] = kwargs["config"].merge(_pool_config(workers))
        yield boto3.client("dynamodb", **kwargs), f"DynamoDB Local {ddb.endpoint_url}"


def _pool_config(workers: int) -> Any:
    """Enough pooled connections for the query workers (botocore keeps 10 by default)."""
    from botocore.config import Config

    return Config(max_pool_connections=max(10, 2 * workers))


@contextlib.contextmanager
def _postgres_server(dsn: str | None) -> Iterator[str | None]:
    """The DSN of the server to use: the given one, a cluster started for this run, or None."""
    if dsn != "local":
        yield dsn
        return
    from modeling.services import PostgresCluster

    with PostgresCluster() as cluster:
        yield cluster.dsn


@contextlib.contextmanager
def _scratch_database(dsn: str | None) -> Iterator[Any]:
    """A connection to a fresh scratch database on `dsn` (dropped afterwards), or None."""
    if not dsn:
        yield None
        return
    import psycopg

    from modeling.services import ScratchDatabase

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
        model_paths: list[Path] = typer.Argument(  # noqa: B008
            ..., metavar="MODEL...", help="The model file(s); several share the engines."
        ),
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
        collation: str = typer.Option(
            "C",
            "--collation",
            help="Collation the PostgreSQL oracle compares and sorts strings in: `C` (byte "
            "order, DynamoDB's; the default), `source` (each column's own collation from the "
            "source DDL, else the database default) or a collation name (`und-x-icu`). Where "
            "it orders otherwise than bytes, the report says so as a collation mismatch.",
        ),
        layout_path: Path | None = typer.Option(  # noqa: B008
            None, "--layout", help="Verify this layout.json instead of compiling the model."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the sample rows and parameters."),
        trials: int = typer.Option(40, "--trials", min=1, help="Parameter sets per pattern."),
        workers: int = typer.Option(
            4, "--workers", min=1, max=32, help="Concurrent DynamoDB requests."
        ),
        keep_table: bool = typer.Option(False, "--keep-table", help="Do not delete the table."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
    ) -> None:
        """Prove the layout on data: load sample rows, run every pattern, compare with oracles."""
        from modeling.api import load_model
        from modeling.commands.validate import render as render_diagnostic
        from modeling.core.diagnostics import ModelError
        from modeling.core.ir import Layout, Model, from_json
        from modeling.verify import report as report_mod
        from modeling.verify.postgres import CollationError
        from modeling.verify.progress import VerifyProgress
        from modeling.verify.runner import VerifyOptions
        from modeling.verify.runner import verify as run_verify

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        if layout_path is not None and len(model_paths) > 1:
            err.print("[red]error:[/] --layout verifies one model; give exactly one MODEL with it")
            raise typer.Exit(EXIT_INVALID)
        jobs: list[tuple[Model, Any, Path | None]] = []
        for model_path in model_paths:
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
                from modeling.commands import _previous
                from modeling.compile import compile_model

                # the layout `model compile` wrote (generated/<model>/layout.json as the lock)
                previous, notes = _previous.lock(model)
                for d in notes:
                    err.print(render_diagnostic(d))
                compiled, diags = compile_model(model, previous)
                if compiled is None or diags.has_errors():
                    for d in diags.sorted():
                        err.print(render_diagnostic(d))
                    raise typer.Exit(EXIT_INVALID)
                layout = compiled
            source_ddl = None
            if model.source is not None and model.source.ddl:
                base = Path(model.file).parent if model.file else Path(".")
                source_ddl = base / model.source.ddl
            jobs.append((model, layout, source_ddl))
        options = VerifyOptions(
            seed=seed, trials=trials, keep_table=keep_table, collation=collation, workers=workers
        )
        results = []
        try:
            with VerifyProgress() as progress:
                if not endpoint:
                    progress.note("starting DynamoDB Local")
                with _dynamodb(endpoint, workers) as (client, where):
                    if postgres == "local":
                        progress.note("starting PostgreSQL")
                    with _postgres_server(postgres) as dsn:
                        for model, layout, source_ddl in jobs:
                            with _scratch_database(dsn) as conn:
                                results.append(
                                    run_verify(
                                        model,
                                        layout,
                                        client,
                                        endpoint=where,
                                        pg_conn=conn,
                                        source_ddl=source_ddl,
                                        options=options,
                                        progress=progress,
                                    )
                                )
        except CollationError as exc:
            err.print(f"[red]error:[/] --collation: {exc}")
            raise typer.Exit(EXIT_INVALID) from None
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
        ok = all(r.ok for r in results)
        if as_json:
            if len(results) == 1:
                sys.stdout.write(results[0].to_json() + "\n")
            else:
                sys.stdout.write(report_mod.to_json_many(results) + "\n")
        else:
            out = Console(stderr=False, soft_wrap=False, width=160)
            for result in results:
                report_mod.render(result, out)
            if len(results) > 1:
                for result in results:
                    verdict = "[green]ok[/]" if result.ok else "[red]MISMATCH[/]"
                    out.print(f"{result.model}: {verdict}")
        raise typer.Exit(EXIT_OK if ok else EXIT_FAILURE)
