"""`model diff OLD NEW`: what changes between two designs, and the runbook for a live table.

`model diff OLD NEW [--json] [--fresh] [--old-layout L] [--stable] [--table T] [--new-table T2]`
`model diff OLD NEW --apply [--endpoint URL] [--table T] [--step N ...] [--cleanup]
   [--segments N] [--dead-letter FILE] [--timeout S]`

OLD and NEW are model files or `git:REF:path` (the blob `git show REF:path` prints, from the
repository of the current directory; the path is relative to the repository's root). OLD is
compiled in memory (or its deployed layout is read: `--old-layout`, a layout.json or
`git:REF:path`), and NEW is compiled with OLD's layout as its previous layout, as
`model compile` does with the lock in generated/: index names and key templates NEW still
uses are kept, so adding a pattern is a new GSI and a backfill, not a rebuild. `--fresh`
compiles NEW without it (every index assigned afresh). The layouts are compared
(`modeling.compile.evolution`); the runbook orders the steps (`modeling.migrate.evolve`).
`--apply` runs the runnable steps against the table (all, or the ones `--step` names), in
order; manual steps are listed, clean-up steps (deleting a removed GSI or a removed entity's
items) run only with `--cleanup`. When NEW needs a new table (LSIs, a key schema), `--apply`
builds that path only with `--new-table NAME`. `--stable` also prints the `keys:` pins that
make NEW keep OLD's GSI keys without a previous layout, and whether they reproduce the same
layout.

Exit codes: 0 ok; 1 a step lost items or left some in the old layout; 2 invalid input (a
model that does not compile, an unknown git ref or path, a missing table, a refused call, an
unreadable --old-layout).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from modeling.core import inputs
from modeling.core.errors import (
    EXIT_INVALID,
    EXIT_OK,
    FlagError,
    InputError,
    check_endpoint,
    check_table_name,
    table_name,
)

GIT_PREFIX = "git:"


class GitSourceError(InputError, ValueError):
    """A `git:REF:path` that cannot be read."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def read_git(spec: str, cwd: Path | None = None) -> str:
    """The text of `git:REF:path` (`git show REF:path`); GitSourceError when it cannot be read."""
    ref, sep, path = spec[len(GIT_PREFIX) :].partition(":")
    if not sep or not ref or not path:
        raise GitSourceError(
            f"{spec}: expected git:REF:path",
            hint="for example git:HEAD:models/orders.yaml or git:v1.2:models/orders.yaml",
        )
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            cwd=cwd,
            check=False,
        )
    except FileNotFoundError:
        raise GitSourceError(f"{spec}: git is not installed", hint="install git") from None
    if inside.returncode != 0:
        raise GitSourceError(
            f"{spec}: {Path(cwd or '.').resolve()} is not inside a git repository",
            hint="run model diff from the repository, or give a file path",
        )
    if subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        cwd=cwd,
        check=False,
    ).returncode:
        raise GitSourceError(
            f"{spec}: unknown revision {ref!r}",
            hint="name a branch, tag or commit (`git log --oneline` lists commits)",
        )
    # what the object is before reading it: a tree (a directory) is not a model, and a blob
    # larger than a model's cap is refused like a file (`git show` would read it all)
    check = subprocess.run(
        ["git", "cat-file", "--batch-check"],
        input=f"{ref}:{path}\n".encode(),
        capture_output=True,
        cwd=cwd,
        check=False,
    )
    found = check.stdout.decode("utf-8", "replace").split("\n", 1)[0].split()
    if check.returncode == 0 and len(found) == 3 and found[2].isdigit():
        if found[1] != "blob":
            raise GitSourceError(
                f"{spec}: {path!r} is a {found[1]} in {ref}, not a file",
                hint=f"name a model file; `git ls-tree --name-only {ref} {path}/` lists it",
            )
        if int(found[2]) > inputs.cap_bytes("model"):
            raise inputs.too_large(spec, "model", int(found[2]), inputs.cap_bytes("model"))
    shown = subprocess.run(
        ["git", "show", f"{ref}:{path}"], capture_output=True, cwd=cwd, check=False
    )
    if shown.returncode != 0:
        message = shown.stderr.decode("utf-8", "replace").strip().removeprefix("fatal: ")
        raise GitSourceError(
            f"{spec}: {message or 'git show failed'}",
            hint=f"the path is relative to the repository root; `git ls-tree -r --name-only {ref}` lists it",
        )
    try:
        return shown.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise GitSourceError(
            f"{spec}: the blob is not UTF-8 text", hint="save the model as UTF-8"
        ) from None


def _check_new_table(name: str | None) -> str | None:
    return table_name(name, "--new-table")


def _text(spec: str) -> str:
    if spec.startswith(GIT_PREFIX):
        return read_git(spec)
    return inputs.read_text(spec, "model")


def pinned_text(text: str, pins: dict[str, dict[str, dict[str, str]]]) -> str:
    """The model text with `keys:` pins added to its entities (comments and order kept)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    data = yaml.load(text)
    for entity, keys in pins.items():
        block = data["entities"][entity]
        if block.get("keys") is None:
            block["keys"] = {}
        for alias, pin in keys.items():
            block["keys"][alias] = dict(pin)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def load_design(spec: str, text: str | None = None, previous: Any = None) -> Any:
    """A `Design` (model, layout, label) from a file or git:REF:path (or `text` said to come
    from it), compiled against the `previous` layout when one is given (the stable
    assignment); exit 2 with the diagnostics when it does not compile."""
    from modeling import api
    from modeling.commands.validate import render as render_diagnostic
    from modeling.compile import compile_model
    from modeling.compile.evolution import Design

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if text is not None:
        result = api.check_text(text, spec)
    elif spec.startswith(GIT_PREFIX):
        result = api.check_text(read_git(spec), spec)
    else:
        result = api.check_file(spec)
    if result.model is None or not result.ok:
        for d in result.diagnostics.sorted():
            err.print(render_diagnostic(d))
        raise typer.Exit(EXIT_INVALID)
    layout, diags = compile_model(result.model, previous)
    if layout is None or diags.has_errors():
        for d in diags.sorted():
            err.print(render_diagnostic(d))
        raise typer.Exit(EXIT_INVALID)
    return Design(result.model, layout, spec)


def _same_keys(a: Any, b: Any) -> bool:
    """Whether two layouts write the same keys on the same indexes and plan on them alike."""

    def shape(layout: Any) -> Any:
        return (
            [(i.name, i.kind) for i in layout.indexes],
            [(e.entity, [(k.index, k.pk, k.sk) for k in e.keys]) for e in layout.entities],
            [(p.pattern, p.index) for p in layout.plans],
        )

    return bool(shape(a) == shape(b))


def _human(ev: Any, steps: list[Any], out: Console) -> None:
    out.print(f"model diff {ev.old.label} → {ev.new.label}")
    if not ev.changes:
        out.print("no change to the compiled design: nothing to do")
        return
    out.print(f"\n{len(ev.changes)} change{'' if len(ev.changes) == 1 else 's'}:")
    for c in ev.changes:
        out.print(f"  [{c.kind}] {c.detail}", markup=False)
        out.print(f"      → {c.consequence}", markup=False)
    for w in ev.warnings():
        out.print(f"\nwarning: {w}", markup=False)
    if not steps:
        out.print("\nno step touches the table (deploy the regenerated code)")
        return
    out.print("\nrunbook:")
    for s in steps:
        tags = ["runnable" if s.runnable else "by hand"]
        if s.cleanup:
            tags.append("clean-up")
        if s.items is not None:
            tags.append(f"~{s.items:,} items")
        out.print(f"  {s.number}. {s.what} ({', '.join(tags)})", markup=False)
        out.print(f"     why: {s.why}", markup=False)
        for line in s.command.splitlines():
            out.print(f"     $ {line}", markup=False)


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff(
        old: str = typer.Argument(..., metavar="OLD", help="Model file or git:REF:path."),
        new: str = typer.Argument(..., metavar="NEW", help="Model file or git:REF:path."),
        table: str | None = typer.Option(
            None,
            "--table",
            callback=check_table_name,
            help="The live table (default: OLD's table name).",
        ),
        new_table: str | None = typer.Option(
            None,
            "--new-table",
            callback=_check_new_table,
            help="When NEW needs a new table (key schema, LSIs): its name (default: NEW's "
            "table name, or <table>-v2); --apply builds that path only when it is given.",
        ),
        apply_: bool = typer.Option(False, "--apply", help="Run the runnable steps."),
        endpoint: str | None = typer.Option(
            None, "--endpoint", callback=check_endpoint, help="DynamoDB endpoint URL."
        ),
        steps_: list[int] = typer.Option(  # noqa: B008
            [], "--step", min=1, help="With --apply: run only this step (repeatable)."
        ),
        cleanup: bool = typer.Option(
            False, "--cleanup", help="With --apply: also delete removed GSIs and entities' items."
        ),
        segments: int = typer.Option(
            4, "--segments", min=1, max=1000, help="Parallel Scan segments of the item passes."
        ),
        dead_letter: Path = typer.Option(  # noqa: B008
            Path("evolve-dead-letter.jsonl"),
            "--dead-letter",
            help="JSONL of items that could not be converted.",
        ),
        timeout: float = typer.Option(
            600.0, "--timeout", min=1, help="Seconds to wait for a table or GSI to be ACTIVE."
        ),
        fresh: bool = typer.Option(
            False,
            "--fresh",
            help="Compile NEW without OLD's layout as its previous layout: every index is "
            "assigned afresh (existing GSIs may be renumbered and rebuilt).",
        ),
        old_layout: str | None = typer.Option(
            None,
            "--old-layout",
            metavar="LAYOUT",
            help="OLD's deployed layout.json (or git:REF:path) instead of compiling OLD, e.g. "
            "git:v1:generated/orders/layout.json.",
        ),
        stable: bool = typer.Option(
            False,
            "--stable",
            help="Also print the `keys:` pins that keep OLD's GSI keys in NEW without a "
            "previous layout, and whether they reproduce the same layout.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print changes and steps as JSON."),
    ) -> None:
        """What changed between two designs, the runbook for a live table, and --apply."""
        from modeling.commands.migrate import _errors, dynamodb_client
        from modeling.compile.evolution import NEW_TABLE_KINDS, classify, stable_pins
        from modeling.migrate.errors import MigrationError
        from modeling.migrate.evolve import apply, runbook

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        if not apply_ and (cleanup or steps_):
            # without --apply nothing runs: `model diff OLD NEW --cleanup` printed the runbook
            # and exited 0, as if the removed GSIs and items had been deleted
            raise FlagError(
                f"{'--cleanup' if cleanup else '--step'} only takes effect with --apply",
                hint="add --apply to run the steps (or drop the flag to print the runbook)",
            )
        before = load_design(old)
        if old_layout is not None:
            from modeling.commands._previous import read_source
            from modeling.compile.evolution import Design, PreviousLayoutError, read_previous

            deployed = read_previous(read_source(old_layout), old_layout)
            if deployed.model != before.model.name:
                raise PreviousLayoutError(
                    f"{old_layout}: the layout of model {deployed.model!r}, not of "
                    f"{before.model.name!r}",
                    hint="give the layout.json compiled from OLD",
                )
            before = Design(before.model, deployed, f"{old} ({old_layout})")
        after = load_design(new, previous=None if fresh else before.layout)
        pins: dict[str, Any] = {}
        reproduced = None
        if stable:
            pins = stable_pins(before, after.model)
            if pins:
                pinned = load_design(new, pinned_text(_text(new), pins))
                reproduced = _same_keys(pinned.layout, after.layout)
        ev = classify(before, after)
        steps = runbook(ev, table, new_table)
        # the code deployed from NEW must be compiled as NEW was here
        flag = (
            " --fresh" if fresh else f" --previous {shlex.quote(old_layout)}" if old_layout else ""
        )
        for step in steps:
            if step.action == "deploy-writers" and step.command.startswith("model compile "):
                step.command += flag
        data: dict[str, Any] = {
            "old": ev.old.label,
            "new": ev.new.label,
            "pins": pins,
            "pins_reproduce": reproduced,
            "stable": not fresh,
            "new_table": ev.new_table,
            "changes": [c.as_dict() for c in ev.changes],
            "warnings": ev.warnings(),
            "steps": [s.as_dict() for s in steps],
        }
        out = Console(highlight=False, soft_wrap=True)
        if not apply_:
            if as_json:
                sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            else:
                _human(ev, steps, out)
                if not fresh:
                    out.print(
                        "\nNEW is compiled with OLD's layout as its previous layout (index names "
                        "and key templates NEW still uses are kept; --fresh assigns afresh): "
                        "deploy code compiled the same way, `model compile NEW` with OLD's "
                        "layout.json in its output directory or `--previous`",
                        markup=False,
                    )
                for d in after.layout.diagnostics:
                    if d.code in ("stable-more-gsis", "previous-layout-not-kept"):
                        out.print(f"\n{d.severity}: {d.message} [{d.code}]", markup=False)
                if pins:
                    out.print(
                        "\npins that keep OLD's GSI keys in NEW without a previous layout"
                        + (
                            " (with them NEW compiles to this layout):"
                            if reproduced
                            else " (with them alone NEW compiles to another layout: keep "
                            "OLD's layout.json as the previous layout instead):"
                        )
                    )
                    for entity, keys in pins.items():
                        out.print(f"  {entity}:\n    keys:", markup=False)
                        for alias, pin in keys.items():
                            text = ", ".join(f'{k}: "{v}"' for k, v in pin.items())
                            out.print(f"      {alias}: {{{text}}}", markup=False)
            raise typer.Exit(EXIT_OK)
        if ev.new_table and not new_table:
            raise MigrationError(
                "NEW needs a new table ("
                + "; ".join(c.detail for c in ev.changes if c.kind in NEW_TABLE_KINDS)
                + "): --apply creates it and copies every item only when --new-table names it",
                hint="add --new-table NAME (see the runbook: copy, stop writes, catch-up, "
                "switch), or declare `table: {exists: true}` in NEW to keep GSIs in place",
            )
        if steps_ and not set(steps_) <= {s.number for s in steps}:
            raise MigrationError(
                f"--step {', '.join(map(str, sorted(set(steps_) - {s.number for s in steps})))}: "
                f"the runbook has steps 1-{len(steps)}",
                hint="run `model diff OLD NEW` to see the numbered steps",
            )
        live = table or ev.old.layout.table_name
        client = dynamodb_client(endpoint, segments)
        with _errors():
            results = apply(
                ev,
                steps,
                client,
                live,
                only=steps_,
                cleanup=cleanup,
                segments=segments,
                dead_letter=dead_letter,
                timeout=timeout,
                on_step=None if as_json else lambda s: err.print(f"step {s.number}: {s.what} ..."),
            )
        data["applied"] = [r.as_dict() for r in results]
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        else:
            for r in results:
                out.print(f"step {r.step} ({r.action}): {r.status}: {r.message}", markup=False)
        raise typer.Exit(EXIT_OK)
