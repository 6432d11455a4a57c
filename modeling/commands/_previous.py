"""The previous layout a command compiles a model against (the lock): one rule for all.

`model compile` keeps what is deployed stable: the layout it wrote last time is an input of
the next compile (`modeling.compile.compile_model(model, previous)`), like a package lock.

- `--fresh`: no previous layout; indexes are assigned afresh (and may be renumbered).
- `--previous PATH` (a layout.json, or `git:REF:path` as `model diff` reads it): that layout.
  Unreadable, or another model's: exit 2, located.
- otherwise the `layout.json` already in the output directory (`generated/<model>/`, or
  `-o DIR`) when there is one. Unreadable: exit 2 (a corrupt lock must not renumber a live
  table's indexes silently; `--fresh` ignores it). Another model's (a reused `-o DIR`): a
  warning, and a fresh compile.
"""

from __future__ import annotations

from pathlib import Path

from modeling.compile import compile_model
from modeling.compile.evolution import PreviousLayoutError, read_previous
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Diagnostics, Severity, Span
from modeling.core.inputs import read_text

LOCK = "layout.json"


def default_directory(model: ir.Model) -> Path:
    """Where `model compile` writes a model by default (`generated/<model>`)."""
    return Path("generated") / model.name


def lock(model: ir.Model) -> tuple[ir.Layout | None, list[Diagnostic]]:
    """The default previous layout (`generated/<model>/layout.json`) for the commands that
    compile a model to work on a table (`migrate`, `verify`): they must use the layout
    `model compile` wrote, or items would be keyed otherwise than the generated code reads."""
    return resolve(model, previous=None, fresh=False, directory=default_directory(model))


def compile_locked(model: ir.Model) -> tuple[ir.Layout | None, Diagnostics]:
    """`model` compiled against its lock (`lock`), as `model compile` wrote it: what the
    commands that read a compiled model (`cost`, `docs`) must show, so their figures and pages
    describe the deployed index names, not a fresh assignment."""
    previous, notes = lock(model)
    layout, diagnostics = compile_model(model, previous)
    diagnostics.extend(notes)
    return layout, diagnostics


def read_source(spec: str) -> str:
    """The text of a layout.json given as a path or `git:REF:path`."""
    from modeling.commands.diff import GIT_PREFIX, read_git

    if spec.startswith(GIT_PREFIX):
        return read_git(spec)
    try:
        return read_text(spec, "layout")
    except FileNotFoundError:
        raise PreviousLayoutError(
            f"{spec}: no such file",
            hint="give the layout.json `model compile` wrote (generated/<model>/layout.json)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PreviousLayoutError(f"{spec}: cannot be read: {exc}") from None


def resolve(
    model: ir.Model, *, previous: str | None, fresh: bool, directory: Path
) -> tuple[ir.Layout | None, list[Diagnostic]]:
    """The previous layout to compile `model` against (None: fresh), and what to say about
    it (a warning when the output directory's layout.json is another model's)."""
    if fresh:
        if previous is not None:
            raise PreviousLayoutError(
                "--fresh and --previous contradict each other", hint="give one of them"
            )
        return None, []
    if previous is not None:
        layout = read_previous(read_source(previous), previous)
        if layout.model != model.name:
            raise PreviousLayoutError(
                f"{previous}: the layout of model {layout.model!r}, not of {model.name!r}",
                hint="give the layout.json compiled from this model, or --fresh",
            )
        return layout, []
    lock = directory / LOCK
    if not lock.is_file():
        return None, []
    layout = read_previous(read_source(str(lock)), str(lock))
    if layout.model != model.name:
        return None, [
            Diagnostic(
                "previous-layout-ignored",
                Severity.WARNING,
                f"{lock} is the layout of model {layout.model!r}, not of {model.name!r}: "
                "ignored, the indexes are assigned afresh",
                Span(str(lock)),
                "write each model to its own directory (`-o`), or give --previous",
                model.name,
            )
        ]
    return layout, []
