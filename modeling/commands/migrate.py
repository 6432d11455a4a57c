"""`model migrate plan|run|validate`: move a PostgreSQL database into the single table.

- `plan MODEL --source DSN [--out DIR|s3://bucket/prefix] [--chunk-size N]`
- `run MODEL --source DSN [--plan DIR] [--endpoint URL] [--create-table] [--concurrency N]
   [--max-wcu N] [--dead-letter FILE] [--checkpoint DIR] [--version-column COL]
   [--catch-up-only MARKER [--sweep-orphans]] [--json]`
- `validate MODEL --source DSN [--endpoint URL] [--sample N | --full [--segments N]]
   [--patterns N [--seed S] [--byte-order]] [--report DIR] [--json]`

`run` and `validate` check the table first: a missing table (or one whose keys or indexes
differ from the model's) is exit 2 with the command that creates it
(`model migrate create-table`, `modeling.commands.migrate_table`).

Exit codes: 0 ok; 1 validation found a difference; 2 invalid input (bad model, unreachable
service, a missing or different table, a plan that does not match the model).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from modeling.core.errors import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    check_endpoint,
    check_table_name,
)

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, hint: str | None = None) -> typer.Exit:
    # the message and hint quote services and user input (a bucket name, a path): never markup
    _err.print(f"[red]error:[/] {escape(message)}")
    if hint:
        _err.print(f"  hint: {escape(hint)}")
    return typer.Exit(EXIT_INVALID)


def _compiled(model_path: Path) -> tuple[Any, Any]:
    """(model, layout), or exit 2 with the diagnostics."""
    from modeling.api import load_model
    from modeling.commands import _previous
    from modeling.commands.validate import render as render_diagnostic
    from modeling.compile import compile_model
    from modeling.core.diagnostics import ModelError

    try:
        model = load_model(model_path)
    except ModelError as exc:
        for d in exc.diagnostics.sorted():
            _err.print(render_diagnostic(d))
        raise typer.Exit(EXIT_INVALID) from None
    previous, notes = _previous.lock(model)  # the layout `model compile` wrote
    layout, diags = compile_model(model, previous)
    for d in notes:
        _err.print(render_diagnostic(d))
    if layout is None or diags.has_errors():
        for d in diags.sorted():
            _err.print(render_diagnostic(d))
        raise typer.Exit(EXIT_INVALID)
    return model, layout


def dynamodb_client(
    endpoint: str | None,
    concurrency: int = 4,
    retry_mode: str = "adaptive",
    *,
    wire: bool = False,
) -> Any:
    """A DynamoDB client for `endpoint` (dummy credentials for a local one) with retries.

    `wire`: BatchWriteItem skips botocore's serializer (see `modeling.migrate.wire`).
    """
    import boto3

    from modeling.migrate.sink import client_config

    session = boto3.session.Session()
    local = bool(endpoint) and ("127.0.0.1" in str(endpoint) or "localhost" in str(endpoint))
    dummy = "dummy" if local and session.get_credentials() is None else None
    client = session.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=session.region_name or "us-east-1",
        aws_access_key_id=dummy,
        aws_secret_access_key=dummy,
        config=client_config(concurrency, retry_mode),
    )
    if not wire:
        return client
    from botocore.credentials import Credentials

    from modeling.migrate.wire import WireClient

    credentials = Credentials(dummy, dummy) if dummy else session.get_credentials()
    return WireClient(client, credentials, max_pool_connections=max(10, concurrency))


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Failures of the services (DynamoDB, S3, SQS, Lambda, PostgreSQL) become exit 2 with
    the failing service's name and a hint fitting it (`modeling.migrate.errors.aws_failure`).
    A MigrationError (bad plan, missing column) reaches `modeling.cli`, which prints it and
    its hint and exits 2, like every ModelingError."""
    from botocore.exceptions import BotoCoreError, ClientError

    from modeling.migrate.errors import aws_failure

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        failure = aws_failure(exc)
        raise _fail(str(failure), failure.hint) from None
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg"):
            raise _fail(f"PostgreSQL: {exc}".strip(), "check --source") from None
        raise


def _check_version_column(model: Any, version_column: str | None) -> None:
    """`--version-column` must name an integer or datetime attribute of some entity (or be
    `xmin`): an unknown name would silently leave every entity on xmin."""
    if version_column is None or version_column == "xmin":
        return
    holders = {e.name: a for e in model.entities for a in e.attributes if a.name == version_column}
    usable = sorted(
        {
            a.name
            for e in model.entities
            for a in e.attributes
            if a.type.kind in ("integer", "datetime") and a.required
        }
    )
    if not holders:
        raise _fail(
            f"--version-column {version_column!r} is not an attribute of any entity of "
            f"{model.name}; every entity would keep xmin",
            "name a required integer or datetime attribute ("
            + (", ".join(usable[:8]) or "the model has none")
            + "), or `xmin`",
        )
    wrong = sorted(
        f"{name}.{a.name} ({a.type})"
        for name, a in holders.items()
        if a.type.kind not in ("integer", "datetime") or not a.required
    )
    if wrong:
        raise _fail(
            f"--version-column {version_column!r} is not a required integer or datetime on "
            + ", ".join(wrong),
            "a version grows with every update and is never NULL: name such an attribute, or "
            "`xmin`",
        )


def _module(layout: Any, model: Any, transformers_dir: Path | None) -> Any:
    from modeling.migrate import transformers

    if transformers_dir is not None:
        return transformers.from_directory(transformers_dir)
    return transformers.generate(layout, model)


def register(app: typer.Typer) -> None:
    migrate = typer.Typer(
        name="migrate",
        help="Backfill PostgreSQL rows into the table: plan chunks, run, validate.",
        no_args_is_help=True,
    )
    app.add_typer(migrate, name="migrate")

    @migrate.command("plan")
    def plan(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        source: str = typer.Option(..., "--source", help="libpq DSN of the source database."),
        out: str = typer.Option("migration-plan", "--out", help="Directory or s3://bucket/prefix."),
        chunk_size: int = typer.Option(100_000, "--chunk-size", min=1, help="Keys per chunk."),
        as_json: bool = typer.Option(False, "--json", help="Print the manifest on stdout."),
    ) -> None:
        """Cut each entity's keys into CSV chunks and write a manifest (counts, ranges, sha256)."""
        from modeling.migrate.plan import make_plan, upload_plan

        model, _ = _compiled(model_path)
        with _errors():
            if out.startswith("s3://"):
                with tempfile.TemporaryDirectory() as tmp:
                    result = make_plan(source, model, Path(tmp), chunk_size)
                    upload_plan(Path(tmp), out)
            else:
                result = make_plan(source, model, Path(out), chunk_size)
        if as_json:
            sys.stdout.write(result.to_json())
        else:
            for name, e in sorted(result.entities.items()):
                _err.print(f"{name}: {e.count} rows in {len(e.chunks)} chunks")
                if e.duplicates is not None:
                    _err.print(
                        f"  warning: {e.duplicates.rows} key(s) of {name} are held by "
                        f"{e.duplicate_rows} rows (the key is not unique in the source): "
                        "`migrate run` dead-letters those rows"
                    )
            _err.print(f"manifest: {out.rstrip('/')}/manifest.json")
        raise typer.Exit(EXIT_OK)

    @migrate.command("run")
    def run(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        source: str = typer.Option(..., "--source", help="libpq DSN of the source database."),
        plan_dir: str | None = typer.Option(
            None, "--plan", help="Plan directory or s3:// URL (default: plan into --checkpoint)."
        ),
        endpoint: str | None = typer.Option(
            None, "--endpoint", callback=check_endpoint, help="DynamoDB endpoint URL."
        ),
        table: str | None = typer.Option(
            None, "--table", callback=check_table_name, help="Table name (default: model's)."
        ),
        concurrency: int = typer.Option(
            4, "--concurrency", min=1, help="Worker threads (one PostgreSQL connection each)."
        ),
        write_concurrency: int | None = typer.Option(
            None,
            "--write-concurrency",
            min=1,
            help="BatchWriteItem requests in flight (default: 4 x --concurrency).",
        ),
        batch_size: int = typer.Option(1_000, "--batch-size", min=1, help="Keys per SELECT."),
        chunk_size: int = typer.Option(100_000, "--chunk-size", min=1, help="Keys per chunk."),
        max_wcu: float | None = typer.Option(None, "--max-wcu", min=1, help="WCU/s cap."),
        dead_letter: Path = typer.Option(  # noqa: B008
            Path("dead-letter.jsonl"), "--dead-letter", help="JSONL of rows that failed."
        ),
        checkpoint: Path = typer.Option(  # noqa: B008
            Path(".migrate-checkpoint"), "--checkpoint", help="Checkpoint directory."
        ),
        version_column: str | None = typer.Option(
            None,
            "--version-column",
            help="Integer/datetime column holding the row version; overrides the model's "
            "`version` for entities having it (`xmin`: always xmin).",
        ),
        transformers_dir: Path | None = typer.Option(  # noqa: B008
            None, "--transformers", help="Compiled output dir (default: generate from MODEL)."
        ),
        no_catch_up: bool = typer.Option(False, "--no-catch-up", help="Skip the catch-up pass."),
        catch_up_only: int | None = typer.Option(
            None,
            "--catch-up-only",
            min=0,
            max=2**32 - 1,  # a 32-bit xid (`marker` in the plan's manifest.json)
            metavar="MARKER",
            help="AWS mode: skip the backfill, run the catch-up pass from this marker "
            "(`marker` in the plan's manifest.json, also returned by the publisher).",
        ),
        sweep_orphans: bool = typer.Option(
            False,
            "--sweep-orphans",
            help="After an import (`migrate export`): end with a Scan that deletes the items "
            "whose row was deleted, or whose key changed, since the export.",
        ),
        create_table: bool = typer.Option(
            False,
            "--create-table",
            help="Create the table from the model (create-table.json) if it does not exist, "
            "and wait until it is ACTIVE.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Backfill: chunks -> workers -> transformers -> BatchWriteItem, checkpointed."""
        from modeling.migrate.plan import download_plan
        from modeling.migrate.runner import Runner, RunOptions
        from modeling.migrate.table import check_table, ensure_table

        if catch_up_only is not None and no_catch_up:
            raise _fail(
                "--catch-up-only skips the backfill and --no-catch-up the catch-up: nothing "
                "would run",
                "drop --no-catch-up (or --catch-up-only to run the backfill)",
            )
        model, layout = _compiled(model_path)
        _check_version_column(model, version_column)
        # a --transformers directory without transformers.py is refused before any connection
        module = _module(layout, model, transformers_dir)
        options = RunOptions(
            concurrency=concurrency,
            write_concurrency=write_concurrency,
            batch_size=batch_size,
            chunk_size=chunk_size,
            max_wcu=max_wcu,
            dead_letter=dead_letter,
            version_column=version_column,
            catch_up=not no_catch_up,
            catch_up_only=catch_up_only,
            sweep_orphans=sweep_orphans,
            progress=not as_json,
        )
        with _errors():
            local_plan: Path | None = None
            if plan_dir and plan_dir.startswith("s3://"):
                # one copy per URL: a resume with another plan's URL downloads it, and the
                # checkpoint (bound to its first plan) refuses it instead of reusing the old copy
                url_id = hashlib.sha256(plan_dir.rstrip("/").encode()).hexdigest()[:12]
                local_plan = checkpoint / "s3-plan" / url_id
                if not (local_plan / "manifest.json").is_file():
                    download_plan(plan_dir, local_plan)
            elif plan_dir:
                local_plan = Path(plan_dir)
            client = dynamodb_client(endpoint, options.writers() + concurrency, wire=True)
            if create_table:  # before the plan: a missing table fails in seconds, not hours
                _err.print(ensure_table(client, model, layout, table).message())
            else:
                check_table(client, model, layout, table)
            runner = Runner(
                model,
                layout,
                source,
                client,
                checkpoint,
                options,
                table_name=table,
                module=module,
            )
            report = runner.run(local_plan)
        if as_json:
            sys.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n")
        else:
            out = Console(highlight=False)
            for name, e in sorted(report.entities.items()):
                out.print(
                    f"{name}: read {e.rows_read}, written {e.items_written}, dead letters "
                    f"{e.dead_letters}, chunks {e.chunks_done} done / {e.chunks_skipped} skipped"
                )
            out.print(
                f"total: rows read {report.rows_read}, items written {report.items_written}, "
                f"retries {report.retries}, dead letters {report.dead_letters}, "
                f"catch-up {report.catch_up_written}/{report.catch_up_rows} rewritten, "
                f"{report.items_per_second:.0f} items/s in {report.seconds:.1f} s"
            )
            if report.tombstones:
                out.print(
                    f"tombstones: {report.tombstones} swept, {report.stale_removed} items of "
                    "deleted rows or old keys removed"
                )
            if sweep_orphans:
                out.print(
                    f"orphans: {report.orphans_scanned} items scanned, {report.orphans_removed} "
                    "items of rows deleted or moved since the export removed"
                    + (
                        f" ({', '.join(report.orphans_unswept)} not swept: key types without "
                        "an exact text form)"
                        if report.orphans_unswept
                        else ""
                    )
                )
            if report.dead_letters:
                out.print(f"dead letters: {dead_letter}")
        raise typer.Exit(EXIT_OK)

    @migrate.command("validate")
    def validate(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        source: str = typer.Option(..., "--source", help="libpq DSN of the source database."),
        endpoint: str | None = typer.Option(
            None, "--endpoint", callback=check_endpoint, help="DynamoDB endpoint URL."
        ),
        table: str | None = typer.Option(
            None, "--table", callback=check_table_name, help="Table name (default: model's)."
        ),
        sample: int = typer.Option(1_000, "--sample", min=1, help="Random rows per entity."),
        full: bool = typer.Option(False, "--full", help="Check every row (overrides --sample)."),
        version_column: str | None = typer.Option(
            None, "--version-column", help="As for `run`: overrides the model's `version`."
        ),
        dead_letter: Path | None = typer.Option(  # noqa: B008
            None, "--dead-letter", help="Rows listed here are excused (reported, not failed)."
        ),
        report_dir: Path | None = typer.Option(  # noqa: B008
            None, "--report", help="Write validation.md and validation.json here."
        ),
        transformers_dir: Path | None = typer.Option(  # noqa: B008
            None,
            "--transformers",
            help="Compiled output dir (default: generate from MODEL); --patterns calls its "
            "client.py.",
        ),
        segments: int = typer.Option(
            8, "--segments", min=1, help="Parallel Scan segments (threads) of --full."
        ),
        patterns: int | None = typer.Option(
            None,
            "--patterns",
            min=1,
            metavar="N",
            help="Also run every access pattern for N parameter sets drawn from the source: "
            "the generated client against the pattern's SQL, order included.",
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the --patterns parameter draw."),
        byte_order: bool = typer.Option(
            False,
            "--byte-order",
            help='--patterns: compare strings in byte order (COLLATE "C", DynamoDB\'s) '
            "instead of the source columns' collation.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the JSON report."),
    ) -> None:
        """Counts per entity and an item-by-item diff (extra items by key with --full), and
        with --patterns every access pattern on both stores; exit 1 on any mismatch."""
        from modeling.migrate import transformers
        from modeling.migrate.table import check_table
        from modeling.migrate.validate import validate as run_validate

        model, layout = _compiled(model_path)
        _check_version_column(model, version_column)
        with _errors():
            # Scan pages on the wire (modeling.migrate.wire): botocore's parsing of every page
            # cost more than the comparison
            client = dynamodb_client(endpoint, concurrency=segments, wire=True)
            check_table(client, model, layout, table)
            if transformers_dir is None:
                module = transformers.generate(layout, model, client=bool(patterns))
            else:
                module = transformers.from_directory(transformers_dir)
            result = run_validate(
                model,
                layout,
                source,
                client,
                sample=None if full else sample,
                table_name=table,
                version_column=version_column,
                dead_letter=dead_letter,
                module=module,
                segments=segments,
                progress=not as_json,
                patterns=patterns,
                seed=seed,
                collate="C" if byte_order else None,
            )
        data = json.dumps(result.as_dict(), indent=2, sort_keys=True, default=str) + "\n"
        if report_dir is not None:
            report_dir.mkdir(parents=True, exist_ok=True)
            (report_dir / "validation.md").write_text(result.markdown(), encoding="utf-8")
            (report_dir / "validation.json").write_text(data, encoding="utf-8")
        sys.stdout.write(data if as_json else result.markdown())
        raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILURE)
