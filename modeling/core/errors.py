"""One root for the package's exceptions, and the exit codes of the `model` command.

Exit codes (the only definitions; commands import them from here):

    ======  ==============  ==========================================================
    code    name            meaning
    ======  ==============  ==========================================================
    0       EXIT_OK         the command did what was asked; every check passed
    1       EXIT_FAILURE    the operation found a difference (stale generated files, a
                            verification or validation mismatch) or ran and failed
    2       EXIT_INVALID    bad input or an unusable setup: a model with errors, a file
                            that cannot be read, a bad flag, a service that cannot start
    ======  ==============  ==========================================================

Exceptions:

    ModelingError            root; `exit_code` 1
    ├── InputError           the input or the setup is wrong; the user must fix it (exit 2)
    │   ModelError (core.diagnostics), DDLSyntaxError, LayoutError, ExtractionError,
    │   ItemError, PlanError, MigrationError, ServiceUnavailable
    └── OperationError       an operation ran and failed (exit 1)
        EmitError (the layout cannot become code), SinkError, PythonFormatError

Every exception class of the package derives from `ModelingError`, keeping its old standard
base (ValueError, RuntimeError, ...) second, so callers that catch those still do. The CLI maps
a `ModelingError` that escapes a command to `exit_code` in one place (`modeling.cli`), printing
`error: <message>` (and `hint: <hint>` when the exception has one), never a traceback.

The stdlib-only modules shipped verbatim into generated code (`modeling.runtime`, the
transformer runtime) keep their own standard-library bases: generated code imports nothing of
this package.
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2


class ModelingError(Exception):
    """The root of every exception this package raises on purpose."""

    exit_code: ClassVar[int] = EXIT_FAILURE
    hint: str | None = None  # what the user should do; subclasses may set it per instance


class InputError(ModelingError):
    """Bad input or an unusable setup: the model, a file, a flag, a service the user must fix."""

    exit_code: ClassVar[int] = EXIT_INVALID


class OperationError(ModelingError):
    """An operation ran and failed (a write that kept failing, a formatter that crashed)."""

    exit_code: ClassVar[int] = EXIT_FAILURE


def exit_code(exc: BaseException) -> int:
    """The exit code for an exception that reached the CLI: its class's, or 1 for any other."""
    return exc.exit_code if isinstance(exc, ModelingError) else EXIT_FAILURE
