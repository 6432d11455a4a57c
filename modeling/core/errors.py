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
    │   ItemError, PlanError, MigrationError, ServiceUnavailable, PathError (a file or
    │   directory the command cannot create, read or write), EndpointError
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

import errno
import os
import re
import signal
import urllib.parse
from typing import ClassVar

from modeling.core.limits import TABLE_NAME_RE

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2
EXIT_SIGTERM = 128 + signal.SIGTERM  # ended by SIGTERM after stopping what it started (cli.main)


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


class PathError(InputError):
    """A path the command must read or write cannot be used (exists, not a directory, denied)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


_PATH_HINTS = {
    errno.EEXIST: "a file is in the way of a directory the command writes: choose another path "
    "or remove the file",
    errno.ENOTDIR: "a part of the path is a file where a directory is expected: choose another "
    "path",
    errno.EISDIR: "the path is a directory where a file is expected: name a file",
    errno.EACCES: "choose a place you may write to (or read), or fix its permissions",
    errno.EPERM: "choose a place you may write to (or read), or fix its permissions",
    errno.EROFS: "the file system is read-only: choose another place",
    errno.ENOSPC: "the disk is full: free space or choose another place",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "use a shorter path",
}


def path_error(exc: OSError) -> PathError:
    """The `PathError` for an OSError about a path: names the path and says what to do."""
    paths = [p for p in (exc.filename, exc.filename2) if p is not None]
    where = " -> ".join(os.fsdecode(p) for p in paths) or "a path"
    reason = exc.strerror or type(exc).__name__
    return PathError(
        f"cannot use {where}: {reason}", _PATH_HINTS.get(exc.errno or 0, "check the path")
    )


class EndpointError(InputError):
    """An endpoint URL that is not one (`--endpoint not-a-url`)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def check_endpoint(url: str | None) -> str | None:
    """`url` if it is an http(s) URL with a host (or None); else an EndpointError."""
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(
            f"--endpoint {url!r} is not an http(s) URL",
            hint="for DynamoDB Local: --endpoint http://localhost:8000",
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise EndpointError(f"--endpoint {url!r}: {exc}") from None
    return url


class FlagError(InputError):
    """A flag's value the command cannot use (a table name DynamoDB refuses, an account id
    that is not one); exit 2 before any service is contacted."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def check_table_name(name: str | None) -> str | None:
    """`--table NAME` (a typer callback): see `table_name`."""
    return table_name(name, "--table")


def table_name(name: str | None, flag: str) -> str | None:
    """`name` if DynamoDB can hold it as a table name (or None); else a FlagError naming
    `flag`. Printed into runbooks and sent in requests, so a name like `t; rm -rf ~` never
    gets that far."""
    if name is None or re.fullmatch(TABLE_NAME_RE, name):
        return name
    raise FlagError(
        f"{flag} {name!r} is not a DynamoDB table name",
        hint="3 to 255 letters, digits, `_`, `.` or `-`",
    )


def check_account_id(account: str | None) -> str | None:
    """`account` if it is an AWS account id (12 digits), or None; else a FlagError."""
    if account is None or re.fullmatch(r"[0-9]{12}", account):
        return account
    raise FlagError(
        f"--bucket-owner {account!r} is not an AWS account id (12 digits)",
        hint="the account that owns the bucket, e.g. 123456789012",
    )
