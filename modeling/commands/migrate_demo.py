"""`model migrate demo MODEL`: plan → run → validate on throwaway PostgreSQL + DynamoDB Local.

`model migrate demo MODEL [--rows N] [--seed S] [--concurrency N] [--chunk-size N] [--no-app]
[--keep DIR] [--json]`

The main job, runnable from the README on an example model: about N sample rows (default
20,000) loaded into a PostgreSQL 15 cluster started for the run, migrated into a DynamoDB Local
table by the same plan/runner/validate code as `model migrate plan|run|validate` (and the same
wire client as `run`), while the application runs: it updates rows behind the backfill's back
and inserts, updates, changes keys of and deletes rows through the generated dual-write
repository; then the audit (missing, mismatched, stale, orphaned, resurrected). See
`modeling.workflows.demo`.

Registered onto the `migrate` group that `modeling.commands.migrate` creates (this module comes
after it in `cli.COMMANDS`), like `migrate_package`.
Exit codes: 0 validation and audit ok; 1 they found a difference (or the application failed); 2 invalid input or a service that
cannot be started.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from modeling.core.errors import EXIT_FAILURE, EXIT_OK


def _migrate_group(app: typer.Typer) -> typer.Typer:
    """The `migrate` sub-app registered by `modeling.commands.migrate`."""
    for info in app.registered_groups:
        instance = info.typer_instance
        names = {info.name, getattr(getattr(instance, "info", None), "name", None)}
        if instance is not None and "migrate" in names:
            return instance
    raise RuntimeError(
        "modeling.commands.migrate_demo must come after modeling.commands.migrate in COMMANDS"
    )


@contextlib.contextmanager
def _work_dir(keep: Path | None) -> Iterator[Path]:
    """`keep` (created, must be empty), or a temporary directory removed afterwards."""
    if keep is not None:
        from modeling.workflows.demo import check_keep_dir

        check_keep_dir(keep)
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    tmp = Path(tempfile.mkdtemp(prefix="model-migrate-demo-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _client(endpoint: str, pool: int, wire: bool) -> Any:
    from modeling.commands.migrate import dynamodb_client

    return dynamodb_client(endpoint, pool, wire=wire)


def register(app: typer.Typer) -> None:
    migrate = _migrate_group(app)

    @migrate.command("demo")
    def demo(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        rows: int = typer.Option(
            20_000, "--rows", min=1, help="About this many sample rows over all entities."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the sample rows."),
        concurrency: int = typer.Option(
            4, "--concurrency", min=1, help="Runner worker threads (as for `migrate run`)."
        ),
        chunk_size: int = typer.Option(5_000, "--chunk-size", min=1, help="Keys per chunk."),
        no_app: bool = typer.Option(
            False,
            "--no-app",
            help="No concurrent application (updates, inserts, key changes, deletes) during the run.",
        ),
        keep: Path | None = typer.Option(  # noqa: B008
            None,
            "--keep",
            metavar="DIR",
            help="Keep plan, checkpoint, dead letters and reports in DIR (new or empty).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    ) -> None:
        """Plan, run and validate a migration of sample rows on throwaway PostgreSQL + DynamoDB
        Local; exit 1 when validation finds a difference."""
        from modeling.commands.migrate import _compiled, _errors, _fail
        from modeling.services import ServiceUnavailable
        from modeling.workflows.demo import DemoOptions, local_services, run_demo

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        model, layout = _compiled(model_path)
        options = DemoOptions(
            rows=rows,
            seed=seed,
            concurrency=concurrency,
            chunk_size=chunk_size,
            app=not no_app,
            progress=not as_json and err.is_terminal,
        )

        def say(message: str) -> None:
            if not as_json:
                err.print(f"[dim]{message}[/]")

        try:
            with _errors(), _work_dir(keep) as work:
                say("starting PostgreSQL 15 and DynamoDB Local")
                with local_services() as (admin_dsn, endpoint):
                    report = run_demo(
                        model,
                        layout,
                        options,
                        admin_dsn=admin_dsn,
                        endpoint=endpoint,
                        client_factory=_client,
                        work_dir=work,
                        say=say,
                        kept=keep is not None,
                    )
        except ServiceUnavailable as exc:
            raise _fail(
                str(exc), "run ./scripts/setup (PostgreSQL 15, Java, DynamoDB Local)"
            ) from None
        except OSError as exc:
            raise _fail(
                f"{type(exc).__name__}: {exc}", "check --keep and free disk space"
            ) from None
        if as_json:
            sys.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n")
        else:
            out = Console(highlight=False, soft_wrap=True)
            for line in report.lines():
                out.print(line, markup=False)
            out.print(f"result: {'ok' if report.ok else 'MISMATCH'}", markup=False)
        raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILURE)
