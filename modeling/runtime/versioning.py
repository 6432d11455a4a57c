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
- tombstones (below): where the tombstone of a retired item lives, what it holds, and the
  conditions every versioned write uses.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
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


# ----------------------------------------------------------------------------- tombstones
#
# A delete, and the old key of a key change, leave a tombstone: an item of its own, outside
# every access pattern's partitions, recording "the item at table key K is dead as of version
# v". Every writer that could land late respects it: the dual-write repository checks it in
# the same transaction as its put (ConditionCheck), and the migration runner ends its catch-up
# pass by sweeping the tombstones (deleting any item older than its tombstone, which is how a
# backfill write that landed after the delete, or a row whose key changed while the runner
# was down, is cleaned up). `model migrate tombstones purge` removes them after the cutover.
# Tombstones carry no type attribute and no index key, so no query and no GSI sees them.

TOMBSTONE_ATTRIBUTE = "_tombstone"  # on a tombstone item: the entity of the retired row
TOMBSTONE_OF = "_of"  # on a tombstone item: the retired item's table key (an M)
TOMBSTONE_PREFIX = "_tombstone#"  # partition keys of the tombstone shards
TOMBSTONE_SHARDS = 16  # partitions the tombstones are spread over (write throughput)
SORT_KEY_BYTES = 1024
# the condition of every versioned write: nothing there, or an older version
NEWER_CONDITION = "attribute_not_exists(#pk) OR #v < :v"
# the condition retiring an item: absent, unversioned, or older than the retiring version
OLDER_CONDITION = "attribute_not_exists(#pk) OR attribute_not_exists(#v) OR #v < :v"


def tombstone_partitions() -> list[str]:
    """The partition key values of every tombstone shard (a sweep or purge queries each)."""
    return [f"{TOMBSTONE_PREFIX}{shard:02d}" for shard in range(TOMBSTONE_SHARDS)]


def tombstone_key(key: Mapping[str, Any], names: Sequence[str]) -> dict[str, dict[str, str]]:
    """The key of the tombstone of the item at table key `key` (low-level AttributeValues).

    `names`: the table's key attribute names (partition, sort). The sort key is the retired key
    as compact JSON, or `#` + its sha256 when that would exceed DynamoDB's 1024-byte sort key.
    """
    if len(names) != 2:
        raise ValueError(f"tombstones need a table with a sort key, not {tuple(names)}")
    text = json.dumps(
        [key[n] for n in names], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    shard = int(digest[:8], 16) % TOMBSTONE_SHARDS
    sort = text if len(text.encode("utf-8")) <= SORT_KEY_BYTES else "#" + digest
    return {names[0]: {"S": f"{TOMBSTONE_PREFIX}{shard:02d}"}, names[1]: {"S": sort}}


def tombstone_item(
    key: Mapping[str, Any], names: Sequence[str], entity: str, version: int
) -> dict[str, Any]:
    """The tombstone of the item at `key`, retired at `version` by a delete or a key change."""
    return {
        **tombstone_key(key, names),
        TOMBSTONE_ATTRIBUTE: {"S": entity},
        TOMBSTONE_OF: {"M": {n: key[n] for n in names}},
        VERSION_ATTRIBUTE: {"N": str(version)},
    }


def deleted_version(value: Any) -> int:
    """The version a delete retires a row at, from the deleted row's version value: one more
    than it (xmin rows use the deleting transaction's id instead, which is newer already,
    except for a row the delete cascades to that was written after the id was taken: the
    dual-write repository retires that one at one more than its xmin)."""
    return version_number(value) + 1


def row_lock_id(table: str, entity: str, identity: Sequence[Any]) -> int:
    """The PostgreSQL advisory lock (a signed 64-bit id) serializing the writes of one row.

    The dual-write repository takes it (`pg_advisory_xact_lock`) before writing a row, so the
    transaction ids of one row's writes follow their commit order and, under xmin versioning,
    a later write always carries a larger `_version`. Any other writer of the source during
    the migration should take it too (the demo's application does).
    """
    text = "\0".join([table, entity, *(str(v) for v in identity)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big", signed=True)
