"""`model migrate package MODEL`: the deployment zips of the AWS mode, uploaded if asked.

`model migrate package MODEL [--out DIR] [--arch x86_64|arm64] [--no-layer | --layer-arn ARN]
[--upload s3://BUCKET/PREFIX] [--publish-layer NAME] [--json]`

Registered onto the `migrate` group that `modeling.commands.migrate` creates (this module
comes after it in `cli.COMMANDS`), so the two files can change independently.
Exit codes: 0 ok; 2 invalid input or a failing step (pip, S3, Lambda), with a hint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from modeling.core.errors import EXIT_OK


def _migrate_group(app: typer.Typer) -> typer.Typer:
    """The `migrate` sub-app registered by `modeling.commands.migrate`."""
    for info in app.registered_groups:
        instance = info.typer_instance
        names = {info.name, getattr(getattr(instance, "info", None), "name", None)}
        if instance is not None and "migrate" in names:
            return instance
    raise RuntimeError(
        "modeling.commands.migrate_package must come after modeling.commands.migrate in COMMANDS"
    )


def register(app: typer.Typer) -> None:
    migrate = _migrate_group(app)

    @migrate.command("package")
    def package(
        model_path: Path = typer.Argument(..., metavar="MODEL", help="The model file."),  # noqa: B008
        out: Path | None = typer.Option(  # noqa: B008
            None,
            "--out",
            help="Directory for code.zip and psycopg-layer.zip (default dist/<model>).",
        ),
        arch: str = typer.Option(
            "x86_64", "--arch", help="Lambda architecture of the layer: x86_64 or arm64."
        ),
        no_layer: bool = typer.Option(False, "--no-layer", help="Do not build the psycopg layer."),
        layer_arn: str | None = typer.Option(
            None, "--layer-arn", help="Use this published psycopg layer instead of building one."
        ),
        upload: str | None = typer.Option(
            None,
            "--upload",
            metavar="s3://BUCKET/PREFIX",
            help="Upload the zips (content-addressed keys: PREFIX/code-<sha256[:16]>.zip).",
        ),
        publish_layer: str | None = typer.Option(
            None, "--publish-layer", metavar="NAME", help="Publish the layer as a layer version."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Build the Lambda code zip and psycopg layer; print the stack's parameters."""
        from modeling.commands.migrate import _compiled, _errors
        from modeling.migrate.package import PackageOptions
        from modeling.migrate.package import package as build

        model, layout = _compiled(model_path)
        options = PackageOptions(
            out=out if out is not None else Path("dist") / model.name,
            arch=arch,
            layer=not no_layer,
            upload=upload,
            publish_layer=publish_layer,
            layer_arn=layer_arn,
        )
        with _errors():
            result = build(layout, model, options)
        if as_json:
            sys.stdout.write(json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n")
            raise typer.Exit(EXIT_OK)
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(
            f"code:  {result.code_zip} (package {result.package}/, sha256 {result.code_sha256})"
        )
        if result.layer_zip is not None:
            err.print(
                f"layer: {result.layer_zip} (psycopg {result.psycopg_version}, {result.arch}, "
                f"sha256 {result.layer_sha256})"
            )
        for url in result.uploaded:
            err.print(f"uploaded: {url}")
        for name in result.missing_parameters():
            err.print(f"[yellow]still needed:[/] {name} ({_how(name)})")
        if result.parameters:
            typer.echo(result.parameter_overrides())  # stdout: `--parameter-overrides $(...)`
        raise typer.Exit(EXIT_OK)

    del package


def _how(parameter: str) -> str:
    if parameter == "PsycopgLayerArn":
        return "--publish-layer NAME, or --layer-arn of a layer published before"
    return "upload code.zip yourself, or pass --upload s3://BUCKET/PREFIX"
