"""Reading the migration's own files back: plan manifests and chunks, checkpoints, exports.

The one home for what every reader of those files needs (an operator may truncate, delete,
edit or half-copy any of them): a file that is missing, not a regular file, unreadable, not
UTF-8, not JSON or not a JSON object, a listed path that would leave its directory, a count
that is not a count, a sha256 that is not one or does not match. Each is a MigrationError
naming the file and what is wrong, with the caller's hint; never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modeling.migrate.errors import MigrationError


@contextlib.contextmanager
def reading(path: Path, what: str, hint: str) -> Iterator[None]:
    """OSErrors while reading `path` as MigrationError (`what`: "the manifest", "a part listed
    in the manifest", for the message)."""
    try:
        yield
    except FileNotFoundError:
        raise MigrationError(f"{path}: {what} does not exist", hint) from None
    except (IsADirectoryError, NotADirectoryError):
        raise MigrationError(f"{path}: {what} is not a regular file", hint) from None
    except OSError as exc:
        raise MigrationError(f"{path}: cannot read {what}: {exc.strerror or exc}", hint) from None


def read_bytes(path: Path, what: str, hint: str) -> bytes:
    """The bytes of `path`; see `reading`."""
    with reading(path, what, hint):
        return path.read_bytes()


def parse_json_object(
    text: str, where: str, hint: str, kind: str = "a JSON object"
) -> dict[str, Any]:
    """`text` as a JSON object; `where` names it in the message, `kind` says what it should
    have been."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise MigrationError(f"{where}: not valid JSON ({exc})", hint) from None
    if not isinstance(data, dict):
        raise MigrationError(f"{where}: not {kind}", hint)
    return data


def read_json_object(path: Path, hint: str, what: str = "the file") -> dict[str, Any]:
    """The JSON object in `path` (UTF-8)."""
    try:
        text = read_bytes(path, what, hint).decode("utf-8")
    except UnicodeDecodeError:
        raise MigrationError(f"{path}: not UTF-8 text", hint) from None
    return parse_json_object(text, str(path), hint)


def listed_file(value: Any, what: str, inside: str) -> str:
    """A file path listed in a manifest, relative to its directory: never absolute, never
    `..`, never empty parts (it is joined to that directory). ValueError otherwise (the
    manifest readers report it as a malformed manifest)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a relative path, got {value!r:.80}")
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{what} {value!r:.80} is not a plain path inside the {inside}")
    return value


def count(value: Any, what: str) -> int:
    """A non-negative integer of a manifest (not a bool, not a string); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r:.80}")
    return value


def sha256_text(value: Any, what: str = "sha256") -> str:
    """A sha256 hex digest of a manifest; ValueError otherwise."""
    if not isinstance(value, str) or len(value) != 64:
        raise ValueError(f"{what} {value!r:.80} is not 64 hex digits")
    try:
        int(value, 16)
    except ValueError:
        raise ValueError(f"{what} {value!r:.80} is not 64 hex digits") from None
    return value.lower()


def check_sha256(path: Path, expected: str, what: str, hint: str) -> None:
    """`path`'s sha256 is `expected`, read 1 MB at a time (a part may be large)."""
    digest = hashlib.sha256()
    with reading(path, what, hint), path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise MigrationError(f"{path}: checksum does not match the manifest", hint)


def malformed(where: str, exc: Exception, what: str, hint: str) -> MigrationError:
    """A manifest whose JSON is fine but whose content is not (`what`: "manifest",
    "export manifest"); `exc` is what the field check raised."""
    detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
    return MigrationError(f"{where}: malformed {what} ({detail})", hint)
