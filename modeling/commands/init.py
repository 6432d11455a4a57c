"""`model init --from-ddl FILE | --from-db DSN [...]`: seed a model from an existing PostgreSQL.

Writes the YAML to `-o` (or stdout), a summary and the diagnostics to stderr, and the full
summary as JSON to `--report`. Exit 0 when a model was written, 2 when the input was unusable.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from modeling.commands import _self_check
from modeling.commands._self_check import BackgroundCheck, self_check
from modeling.core import inputs
from modeling.core.diagnostics import Diagnostics, Span
from modeling.core.errors import EXIT_INVALID, EXIT_OK
from modeling.importers._seed import seed
from modeling.importers._spec import Seeded, ensure_schema_file
from modeling.importers.queries import DEFAULT_WINDOW_SECONDS
from modeling.spec.checks import ALLOW_DDL_OUTSIDE, ddl_allowed
from modeling.spec.structure import schema_problems

# pg_stat_statements' window: at least a second, at most a century (a rate is calls / window;
# 0, a negative or NaN window used to drop every rate without a word, 1e-300 to write 1e305/s)
CALLS_WINDOW_MAX = 100 * 366 * 86400.0


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        from_ddl: Path | None = typer.Option(  # noqa: B008
            None, "--from-ddl", help="A PostgreSQL DDL file (pg_dump --schema-only, structure.sql)."
        ),
        from_db: str | None = typer.Option(
            None, "--from-db", help="A libpq DSN of a live database (postgresql://user@host/db)."
        ),
        schema: list[str] = typer.Option(  # noqa: B008
            [], "--schema", help="Only tables of this schema (repeatable)."
        ),
        tables: list[str] = typer.Option(  # noqa: B008
            [],
            "--tables",
            help="Only tables matching this glob, `name` or `schema.name` (repeatable).",
        ),
        output: Path | None = typer.Option(  # noqa: B008
            None, "-o", "--output", help="Write the model here (default: stdout)."
        ),
        name: str | None = typer.Option(
            None, "--name", help="Model name (default: from the source)."
        ),
        queries: Path | None = typer.Option(  # noqa: B008
            None, "--queries", help="SQL one per line, or a pg_stat_statements CSV (query, calls)."
        ),
        window: float = typer.Option(
            DEFAULT_WINDOW_SECONDS,
            "--calls-window",
            min=1.0,
            max=CALLS_WINDOW_MAX,
            help="Seconds over which pg_stat_statements counted `calls` (rate = calls / window).",
        ),
        report: Path | None = typer.Option(  # noqa: B008
            None, "--report", help="Write a JSON summary here."
        ),
    ) -> None:
        """Seed a model from PostgreSQL DDL or a live database, plus the app's queries."""
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        if (from_ddl is None) == (from_db is None):
            console.print(
                Text(
                    "error: pass exactly one of --from-ddl FILE or --from-db DSN", style="bold red"
                )
            )
            raise typer.Exit(EXIT_INVALID)
        with _fewer_collections():
            _init(console, from_ddl, from_db, schema, tables, output, name, queries, window, report)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run with a young-generation GC threshold of 100,000 allocations (700 by default): init
    allocates millions of long-lived objects (sqlglot trees, the catalog, the spec, the model),
    and the default collects them ~15% of the CPU time at 5,000 tables (bench/seed.py); the
    collector still runs, so cycles (sqlglot's parent links) are freed."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _init(
    console: Console,
    from_ddl: Path | None,
    from_db: str | None,
    schema: list[str],
    tables: list[str],
    output: Path | None,
    name: str | None,
    queries: Path | None,
    window: float,
    report: Path | None,
) -> None:
    with ExitStack() as stack:  # leaving it (an error, Ctrl-C, SIGTERM) stops a running check
        _seed_and_write(
            stack, console, from_ddl, from_db, schema, tables, output, name, queries, window, report
        )


def _seed_and_write(
    stack: ExitStack,
    console: Console,
    from_ddl: Path | None,
    from_db: str | None,
    schema: list[str],
    tables: list[str],
    output: Path | None,
    name: str | None,
    queries: Path | None,
    window: float,
    report: Path | None,
) -> None:
    model_file = str(output or "model.yaml")
    background: list[BackgroundCheck] = []

    def start_check(seeded: Seeded, diags: Diagnostics) -> None:
        """A large model is checked in a child while this process writes its text."""
        if (
            len(seeded.entities) >= _self_check.FORK_MIN_ENTITIES
            and not diags.has_errors()
            and _self_check.fork_available()
        ):
            background.append(stack.enter_context(BackgroundCheck(seeded.doc, model_file)))

    outcome = seed(
        ddl=from_ddl,
        dsn=from_db,
        schemas=schema or None,
        tables=tables or None,
        output=output,
        name=name,
        queries=queries,
        window_seconds=window,
        before_text=start_check,
    )
    if outcome.yaml is not None and not outcome.diagnostics.has_errors():
        # the model must pass validate and compile; if not, say why (never silently)
        errors = [
            e
            for e in _checked(outcome.yaml, model_file, outcome.data, background)
            if "[ddl-outside-model-dir]" not in e  # said below, with the fix
        ]
        outcome.report["self_check"] = errors
        if errors:
            outcome.diagnostics.warning(
                "SEED051",
                f"the seeded model would not pass model validate/compile ({len(errors)} "
                "error(s)); written anyway for you to fix: "
                + " | ".join(" ".join(e.split()) for e in errors[:5]),
                Span(str(output or "-")),
                hint="please report it: init should always write a model that compiles",
            )
        size, cap = len(outcome.yaml.encode("utf-8")), inputs.cap_bytes("model")
        if size > cap:  # the self-check read the text in memory; validate reads the file
            outcome.diagnostics.warning(
                "SEED052",
                f"the model is {size / inputs.MB:.1f} MB; model validate/compile read a model "
                f"file up to {cap / inputs.MB:.0f} MB and will refuse it",
                Span(str(output or "-")),
                hint=f"run them with {inputs.CAP_ENV}={math.ceil(size / inputs.MB)} (or more), "
                "or seed fewer tables with --schema/--tables",
            )
    for d in outcome.diagnostics.sorted():
        style = {"error": "bold red", "warning": "yellow"}.get(d.severity.value, "cyan")
        console.print(Text(d.format(), style=style))
    for line in outcome.summary:
        console.print(Text(line))
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(
            json.dumps(outcome.report, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    if outcome.yaml is None or outcome.diagnostics.has_errors():
        raise typer.Exit(EXIT_INVALID)
    if output is None:
        typer.echo(outcome.yaml, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        if not output.exists() or output.read_text(encoding="utf-8") != outcome.yaml:
            output.write_text(outcome.yaml, encoding="utf-8")
        console.print(Text(f"wrote {output}", style="green"))
        if outcome.schema_file is not None and ensure_schema_file(outcome.schema_file):
            console.print(Text(f"wrote {outcome.schema_file} (the model's $schema)", style="green"))
        if from_ddl is not None and not ddl_allowed(from_ddl, output.parent):
            console.print(
                Text(
                    f"note: source.ddl {from_ddl} is outside {output.parent} and the current "
                    "directory: validate/verify will refuse it [ddl-outside-model-dir]; move "
                    f"the DDL beside the model or set {ALLOW_DDL_OUTSIDE}=1",
                    style="yellow",
                )
            )
    raise typer.Exit(EXIT_OK)


def _checked(
    text: str, file: str, data: dict[str, Any] | None, background: list[BackgroundCheck]
) -> list[str]:
    """`self_check(text, file, data)`: the child's answer when one runs and checked the same
    data (the text's own plain data: `data` is None when the text holds characters its readers
    treat differently, and then only the text itself is checked, here). The child skips the
    JSON Schema pass, run here meanwhile: when it finds a problem, the child's answer is not
    used. A check that raised in the child is run again here, so it raises as it would have
    without the child."""
    if background and data is not None and not schema_problems(data):
        kind, answer = background[0].result()
        if kind == "errors":
            return list(answer)
    elif background:
        background[0].stop()
    return self_check(text, file, data)
