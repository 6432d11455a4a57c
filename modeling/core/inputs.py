"""Reading a file the user named: regular files only, and no more bytes than a cap.

Every input file (a model, DDL, a Workbench export, a query file) is read through `read_bytes`,
so `model validate /dev/zero` or a FIFO is refused at once instead of filling memory or blocking,
and a file larger than its kind's cap is refused with the cap and how to raise it.

The caps are generous for real inputs (a pg_dump of thousands of tables is a few MB) and are
set for every kind at once with the environment variable `MODELING_MAX_INPUT_MB`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final, Literal

from modeling.core.errors import InputError

Kind = Literal["model", "ddl", "workbench", "queries", "layout", "prices"]

MB: Final = 1024 * 1024
CAP_ENV: Final = "MODELING_MAX_INPUT_MB"
DEFAULT_CAPS: Final[dict[str, int]] = {
    "model": 16 * MB,  # a model of 5,000 entities is ~3 MB
    "ddl": 256 * MB,
    "workbench": 64 * MB,
    "queries": 256 * MB,
    "layout": 64 * MB,  # a compiled layout.json (the lock `model compile` keeps stable)
    "prices": 16 * MB,  # the packaged table is 3 KB
}
_WHAT = {
    "model": "a model file",
    "ddl": "a DDL file",
    "workbench": "a Workbench export",
    "queries": "a query file",
    "layout": "a compiled layout.json",
    "prices": "a price table",
}


class InputFileError(InputError):
    """An input file that is not a regular file, or is larger than its cap (exit 2)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def cap_bytes(kind: Kind) -> int:
    """The size cap of `kind`: `MODELING_MAX_INPUT_MB` when set (for every kind), else the
    default; a value that is not a positive number is an InputFileError."""
    raw = os.environ.get(CAP_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_CAPS[kind]
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not (mb > 0 and mb < 1e9):
        raise InputFileError(
            f"{CAP_ENV}={raw!r} is not a size in MB",
            hint=f"set {CAP_ENV} to a positive number of megabytes, e.g. 512",
        )
    return int(mb * MB)


def read_bytes(path: str | Path, kind: Kind) -> bytes:
    """The bytes of `path`; InputFileError when it is not a regular file (a device, a FIFO, a
    directory, a socket) or is larger than the cap; OSError when it cannot be opened."""
    cap = cap_bytes(kind)
    # O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputFileError(
                f"{path} is not a regular file ({_mode_name(st.st_mode)}); "
                f"{_WHAT[kind]} must be one",
                hint="pass a file (copy a stream to a file first)",
            )
        if st.st_size > cap:
            raise too_large(path, kind, st.st_size, cap)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:  # the file grew while being read
        raise too_large(path, kind, len(data), cap)
    return data


def read_text(path: str | Path, kind: Kind) -> str:
    """`read_bytes` decoded as UTF-8 (a BOM is dropped); UnicodeDecodeError as from `decode`."""
    return read_bytes(path, kind).decode("utf-8-sig")


def too_large(path: str | Path, kind: Kind, size: int, cap: int) -> InputFileError:
    return InputFileError(
        f"{path} is {size / MB:.1f} MB; {_WHAT[kind]} is read up to {cap / MB:.0f} MB",
        hint=f"is this the right file? To read it anyway, set {CAP_ENV} to a larger size in MB",
    )


def _mode_name(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"
