"""The version rule: which value versions a row, and the integer stored in its `_version`.

Standard library only, no `modeling` imports: the migration runner imports it, and the
generated dual-write repository and worker Lambda ship it verbatim as `_versioning.py`, so the
three writers of `_version` compute the same number from the same row (see
modeling/migrate/versioning.py for why that matters).

- `version_attribute`: a version-column override (`--version-column`, `MODEL_VERSION_COLUMN`)
  wins for every entity that has that attribute, `xmin` forces xmin (None), otherwise the
  model's setting stands.
- `version_number`: an integer as it is; a datetime as microseconds since the Unix epoch
  (a naive datetime is UTC); a string of ASCII digits (PostgreSQL's xmin, read as text) as its
  integer. Anything else, a bool included (True is not version 1), raises `VersionError`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Collection
from typing import Any

VERSION_ATTRIBUTE = "_version"  # the item attribute holding the version number
XMIN = "xmin"  # the override naming PostgreSQL's xmin as the version source
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


class VersionError(TypeError, ValueError):
    """A value that is not a version (a TypeError and a ValueError, for either kind of caller)."""


def version_attribute(
    configured: str | None, override: str | None, attributes: Collection[str]
) -> str | None:
    """The attribute versioning an entity's rows, None for xmin.

    `configured`: the model's setting for the entity (None: xmin); `override`: the flag or
    environment variable (None or empty: none); `attributes`: the entity's attribute names.
    """
    if override == XMIN:
        return None
    if override and override in attributes:
        return override
    return configured


def version_number(value: Any) -> int:
    """A version value (int, datetime, xmin text) as the integer stored in `_version`."""
    if isinstance(value, bool):
        raise VersionError(f"a version cannot be a boolean: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.UTC)
        delta = aware - EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise VersionError(f"not a version value: {value!r}")
