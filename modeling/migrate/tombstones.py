"""Tombstones: the marks deletes and key changes leave, swept by the runner, purged after cutover.

The dual-write repository retires an item (a delete, or the old key of a key change) by
deleting it, if older, and putting a tombstone at `tombstone_key(old key)`: `_version` = the
version it was retired at, `_of` = the retired key (modeling/runtime/versioning.py holds the
rule, shared verbatim with the generated code). Its own puts check the tombstone of their key
in the same transaction, so no late or retried write of the repository brings the row back.

The migration's writes cannot all check it (BatchWriteItem has no conditions), so:

- `sweep`: the last step of the catch-up pass. For every tombstone, delete the item at its
  `_of` key when that item is older than the tombstone. This removes a backfill (or catch-up)
  write of a row that was deleted, or whose key changed, after the backfill read it, and the
  old key of a row that changed key while the runner was down (a resumed run sweeps again).
- `purge`: `model migrate tombstones purge` after the cutover (writeToNewDatabase, no more
  backfill or catch-up): deletes every tombstone with BatchWriteItem (`--dry-run` counts).

Tombstones live in `TOMBSTONE_SHARDS` partitions of their own (`_tombstone#00`..), so both
are a Query per shard, never a table scan; they have no type attribute and no index key, so
no access pattern, GSI or `migrate validate` count sees them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from modeling.migrate.sink import Sink, retryable
from modeling.runtime.versioning import (
    OLDER_CONDITION,
    TOMBSTONE_ATTRIBUTE,
    TOMBSTONE_OF,
    VERSION_ATTRIBUTE,
    tombstone_partitions,
)

Item = dict[str, Any]


@dataclass
class SweepStats:
    tombstones: int = 0  # tombstones read
    removed: int = 0  # items older than their tombstone, deleted
    kept: int = 0  # items absent or newer than their tombstone (nothing to do)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def tombstones(client: Any, table: str, key_names: Sequence[str]) -> Iterator[Item]:
    """Every tombstone of the table (one paginated, strongly consistent Query per shard)."""
    for partition in tombstone_partitions():
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": key_names[0]},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ConsistentRead": True,
        }
        while True:
            page = client.query(**kwargs)
            for item in page.get("Items", []):
                if TOMBSTONE_ATTRIBUTE in item:
                    yield item
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last


def _remove_older(sink: Sink, tombstone: Item) -> bool:
    """Delete the item a tombstone retired if it is older than the tombstone; True if deleted."""
    key = tombstone[TOMBSTONE_OF]["M"]
    attempt = 0
    while True:
        try:
            sink.client.delete_item(
                TableName=sink.table,
                Key=key,
                ConditionExpression=f"attribute_exists(#pk) AND ({OLDER_CONDITION})",
                ExpressionAttributeNames={"#pk": sink.key_names[0], "#v": VERSION_ATTRIBUTE},
                ExpressionAttributeValues={":v": tombstone[VERSION_ATTRIBUTE]},
            )
            return True
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            if not retryable(exc) or attempt >= sink.max_attempts:
                raise
            sink.stats.add(retries=1)
            sink.backoff(attempt)
            attempt += 1


def sweep(sink: Sink, concurrency: int = 4) -> SweepStats:
    """Remove every item older than its tombstone (see the module docstring)."""
    stats = SweepStats()
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        batch: list[Item] = []

        def flush() -> None:
            removed = sum(pool.map(lambda t: _remove_older(sink, t), batch))
            stats.removed += removed
            stats.kept += len(batch) - removed
            batch.clear()

        for tombstone in tombstones(sink.client, sink.table, sink.key_names):
            stats.tombstones += 1
            batch.append(tombstone)
            if len(batch) >= 100:
                flush()
        flush()
    return stats


def purge(sink: Sink, dry_run: bool = False) -> int:
    """Delete every tombstone (BatchWriteItem, retried); the number found."""
    found = 0
    keys: list[Item] = []
    names = sink.key_names
    for tombstone in tombstones(sink.client, sink.table, names):
        found += 1
        if dry_run:
            continue
        keys.append({n: tombstone[n] for n in names})
        if len(keys) >= 25:
            sink.delete_keys(keys)
            keys = []
    if keys:
        sink.delete_keys(keys)
    return found
