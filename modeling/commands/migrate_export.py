"""`model migrate export MODEL`: the rows as DynamoDB JSON files for ImportTable.

`model migrate export MODEL --source DSN (-o DIR | --s3 s3://bucket/prefix) [--plan DIR]
[--table NAME] [--concurrency N] [--batch-size N] [--chunk-size N] [--file-size-mb N]
[--dead-letter FILE] [--version-column COL] [--transformers DIR] [--bucket-owner ID]
[--start] [--endpoint URL] [--json]`

Writes `data/part-*.json.gz` and `export-manifest.json` (see modeling/migrate/export.py) and
the ImportTable request (`import-table.json`, also printed; `--json` prints the whole report
with it). `--start` sends the request (needs `--s3`); then run
`model migrate run MODEL --catch-up-only MARKER --sweep-orphans` once the table is ACTIVE and
the application's dual writes are on.

Registered onto the `migrate` group that `modeling.commands.migrate` creates (this module
comes after it in `cli.COMMANDS`), like `migrate package`.
Exit codes: 0 ok; 2 invalid input (bad model, unreachable service, a used output place).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from modeling.core.errors import EXIT_OK, check_account_id, check_endpoint, check_table_name


def register(app: typer.Typer) -> None:
    from modeling.commands.migrate_package import _migrate_group

    migrate = _migrate_group(app)

    @migrate.command("export")
    def export(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        source: str = typer.Option(..., "--source", help="libpq DSN of the source database."),
        out: Path | None = typer.Option(  # noqa: B008
            None, "-o", "--out", help="Directory for the files (kept; with --s3 too)."
        ),
        s3_url: str | None = typer.Option(
            None, "--s3", help="Upload the files to s3://bucket/prefix (data under prefix/data/)."
        ),
        plan_dir: Path | None = typer.Option(  # noqa: B008
            None, "--plan", help="A `migrate plan` directory (default: plan into OUT/plan)."
        ),
        table: str | None = typer.Option(
            None, "--table", callback=check_table_name, help="Table name (default: model's)."
        ),
        concurrency: int = typer.Option(
            4, "--concurrency", min=1, help="Reader threads (one PostgreSQL connection each)."
        ),
        batch_size: int = typer.Option(1_000, "--batch-size", min=1, help="Keys per SELECT."),
        chunk_size: int = typer.Option(100_000, "--chunk-size", min=1, help="Keys per chunk."),
        file_size_mb: float = typer.Option(
            128.0,
            "--file-size-mb",
            min=0.001,
            max=5 * 1024 * 1024,  # S3's largest object, 5 TB (inf overflowed int())
            help="Compressed MB per data file.",
        ),
        dead_letter: Path = typer.Option(  # noqa: B008
            Path("dead-letter.jsonl"), "--dead-letter", help="JSONL of rows that failed."
        ),
        version_column: str | None = typer.Option(
            None, "--version-column", help="As for `run`: overrides the model's `version`."
        ),
        transformers_dir: Path | None = typer.Option(  # noqa: B008
            None, "--transformers", help="Compiled output dir (default: generate from MODEL)."
        ),
        bucket_owner: str | None = typer.Option(
            None,
            "--bucket-owner",
            callback=check_account_id,
            help="S3BucketOwner: the bucket's account (12 digits), if another.",
        ),
        start: bool = typer.Option(
            False, "--start", help="Send the ImportTable request (needs --s3)."
        ),
        endpoint: str | None = typer.Option(
            None, "--endpoint", callback=check_endpoint, help="DynamoDB endpoint URL (--start)."
        ),
        as_json: bool = typer.Option(
            False, "--json", help="Print the report and the ImportTable request as JSON."
        ),
    ) -> None:
        """Write the transformed rows as gzip DynamoDB JSON for ImportTable; print the request."""
        from modeling.commands.migrate import (
            _check_version_column,
            _compiled,
            _errors,
            _fail,
            _module,
            dynamodb_client,
        )
        from modeling.migrate import export as ex

        if out is None and s3_url is None:
            raise _fail("give -o DIR or --s3 s3://bucket/prefix", "where the files go")
        if start and s3_url is None:
            raise _fail("--start needs --s3: ImportTable reads the files from S3")
        model, layout = _compiled(model_path)
        _check_version_column(model, version_column)
        options = ex.ExportOptions(
            concurrency=concurrency,
            batch_size=batch_size,
            chunk_size=chunk_size,
            file_bytes=int(file_size_mb * 1024 * 1024),
            dead_letter=dead_letter,
            version_column=version_column,
            progress=not as_json,
        )
        staging = ex.temporary_root() if out is None else None
        root = Path(staging.name) if staging is not None else out
        assert root is not None
        try:
            with _errors():
                upload = None
                bucket, prefix = "BUCKET", "PREFIX"
                if s3_url is not None:
                    bucket, prefix = ex.parse_s3(s3_url)
                    upload = ex.S3Upload(bucket, prefix, keep=out is not None)
                exporter = ex.Exporter(
                    model,
                    layout,
                    source,
                    options,
                    table_name=table,
                    module=_module(layout, model, transformers_dir),
                )
                report = exporter.run(root, plan_dir, upload)
                request, follow = ex.import_request(
                    layout,
                    model,
                    bucket,
                    ex.data_prefix(prefix),
                    table,
                    bucket_owner=bucket_owner,
                    client_token=ex.client_token(report.manifest(), report.table),
                )
                text = json.dumps(request, indent=2, sort_keys=True) + "\n"
                if out is not None:
                    (out / ex.REQUEST).write_text(text, encoding="utf-8")
                started = None
                if start:
                    client = dynamodb_client(endpoint)
                    answer = client.import_table(**request)["ImportTableDescription"]
                    started = {
                        "ImportArn": answer.get("ImportArn"),
                        "ImportStatus": answer.get("ImportStatus"),
                        "TableArn": answer.get("TableArn"),
                    }
        finally:
            if staging is not None:
                staging.cleanup()
        catch_up = (
            f'model migrate run {model_path} --source "$SOURCE_DSN" --catch-up-only '
            f"{report.marker} --sweep-orphans" + (f" --table {table}" if table else "")
        )
        if as_json:
            data = {
                **report.as_dict(),
                "import_request": request,
                "follow_up": follow,
                "catch_up": catch_up,
                "started": started,
            }
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
            raise typer.Exit(EXIT_OK)
        console = Console(highlight=False, soft_wrap=True)
        for name, e in sorted(report.entities.items()):
            console.print(
                f"{name}: read {e.rows_read}, items {e.items}, dead letters {e.dead_letters}"
            )
        console.print(
            f"total: {report.items} items in {len(report.files)} file(s), "
            f"{report.bytes:,} bytes gzip ({report.uncompressed_bytes:,} uncompressed), "
            f"{report.items_per_second:.0f} items/s in {report.seconds:.1f} s; marker "
            f"{report.marker}"
        )
        if report.dead_letters:
            console.print(f"dead letters: {dead_letter}")
        if s3_url is None:
            console.print(
                f"ImportTable request ({out}/{ex.REQUEST}); upload {out}/{ex.DATA}/ to "
                "s3://BUCKET/PREFIX/data/ and set S3Bucket / S3KeyPrefix, or export with --s3:"
            )
        else:
            console.print("ImportTable request:")
        sys.stdout.write(text)
        if started is not None:
            console.print(
                f"import started: {started['ImportArn']} ({started['ImportStatus']}); table "
                f"{started['TableArn']}"
            )
        if follow:
            console.print("after the import, set what ImportTable cannot:")
            sys.stdout.write(json.dumps(follow, indent=2, sort_keys=True) + "\n")
        console.print(f"then bring the table up to date: {catch_up}")
        raise typer.Exit(EXIT_OK)
