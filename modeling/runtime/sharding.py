"""The shard slot of a write-sharded partition key, and the merge of the shards' answers.

This module imports only the Python standard library: it is copied verbatim into generated
code (`_sharding.py`, beside `_keys.py`) when a layout shards a partition, so the transformers
(writes), the client (reads) and `model verify` compute the same slot.

A partition key value that takes more writes (or reads) than one DynamoDB partition serves is
spread over N shards: the item's partition key gets the suffix ``#<slot>`` (decimal, no
padding), where

    slot = int.from_bytes(sha256(identity).digest()[:8], "big") % N
    identity = "#".join(encoded identity values)          (UTF-8)

The identity values are the entity's `key:` attributes in `key:` order, each encoded by the
key codec (`modeling.runtime.keys.encode`, canonical: one text per value), so the slot is
stable across processes, machines and languages (no per-process hash seed). An encoded value
holds no bare ``#``, so the joined text names one identity. The slot depends on the identity
only: an item never changes shard when its other attributes change.

A read of a sharded partition runs one Query per shard and merges the answers by the index's
sort key (the encoded key text: byte order, the order DynamoDB returns within one shard, so
NULL sentinels and every codec rule carry over). Items with equal sort keys come in shard
order, then in each shard's own order: deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["SHARD_SEPARATOR", "merge", "shard_of", "shard_suffix", "sharded_key"]

SHARD_SEPARATOR = "#"


def shard_of(encoded_identity: Sequence[str], shards: int) -> int:
    """The shard (0..shards-1) of the item whose identity encodes to `encoded_identity`."""
    if shards < 1:
        raise ValueError(f"a sharded key needs at least one shard, not {shards}")
    text = SHARD_SEPARATOR.join(encoded_identity)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


def shard_suffix(shard: int) -> str:
    """The text appended to the partition key value of shard `shard`."""
    return f"{SHARD_SEPARATOR}{shard}"


def sharded_key(key: str, encoded_identity: Sequence[str], shards: int) -> str:
    """The partition key value `key` of an item, with its shard suffix."""
    return key + shard_suffix(shard_of(encoded_identity, shards))


def _sort_value(value: Mapping[str, Any] | None) -> tuple[int, Any]:
    """A sort-key AttributeValue as a comparable value: S by code point (= UTF-8 byte order),
    N as a number, B as bytes; a missing key sorts first."""
    if not value:
        return (0, "")
    if "S" in value:
        return (1, value["S"])
    if "N" in value:
        return (1, Decimal(value["N"]))
    if "B" in value:
        raw = value["B"]
        return (1, bytes(raw))
    return (0, "")


def merge(
    shards: Iterable[Sequence[Mapping[str, Any]]], sort_key: str | None, descending: bool
) -> list[tuple[int, int]]:
    """The merged order of the shards' items, as (shard, position) pairs.

    Each shard's items are in DynamoDB's order for the Query (ascending or `descending` by
    the attribute `sort_key`); the merge keeps that order across shards. Ties (and an index
    without a sort key): shard order, then each shard's own order (Python's sort is stable,
    also with ``reverse=True``).
    """
    entries: list[tuple[tuple[int, Any], int, int]] = []
    for shard, items in enumerate(shards):
        for position, item in enumerate(items):
            value = _sort_value(item.get(sort_key)) if sort_key is not None else (0, "")
            entries.append((value, shard, position))
    entries.sort(key=lambda e: e[0], reverse=descending)
    return [(shard, position) for _, shard, position in entries]
