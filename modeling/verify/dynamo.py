"""The DynamoDB side of `model verify`: create the table from a Layout, load items, run plans.

Everything goes through the low-level boto3 client so what is sent is exactly what a generated
client would send: the key condition rendered from the plan's templates with `keys.encode`,
`ScanIndexForward` from the plan's order, the entity-type filter and non-key filters as a
FilterExpression, pagination by `LastEvaluatedKey` (1 MB pages, or smaller `Limit` pages to
exercise continuation), the pattern's `limit` applied to matching items (DynamoDB's own `Limit`
counts items *read*, before the filter, so it cannot implement a pattern limit by itself), and
GetItem for plans that say so.

Requests come from `modeling.requests` (the one home of key rendering, shared with the docs
and, as decisions, with the generated code); this module sends them and follows the pages.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from modeling import requests
from modeling.core.ir import AccessPattern, CopyItems, Index, Layout, Model, PatternPlan
from modeling.core.limits import BATCH_WRITE_BYTES, BATCH_WRITE_ITEMS
from modeling.requests import PlanError
from modeling.runtime import keys
from modeling.sample.codec import (
    AV,
    Item,
    ItemError,
    attribute_av,
    copy_items,
    item_size,
    to_item,
)
from modeling.sample.rows import Dataset, RowRef, ref_of

__all__ = [
    "LoadResult",
    "RunResult",
    "build_items",
    "build_request",
    "create_table",
    "run",
    "write_items",
]

MAX_RETRIES = 8


# --------------------------------------------------------------------------- table


def create_table(client: Any, layout: Layout, table_name: str) -> None:
    """Create `table_name` with the layout's primary key, GSIs and LSIs (on-demand billing)."""
    definitions: dict[str, str] = {}
    for index in layout.indexes:
        for ka in index.hash_keys + index.range_keys:
            if definitions.get(ka.name, ka.type) != ka.type:
                raise PlanError(f"key attribute {ka.name} has two types")
            definitions[ka.name] = ka.type
    table = next(i for i in layout.indexes if i.kind == "table")
    request: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in sorted(definitions.items())
        ],
        "KeySchema": _key_schema(table),
        "BillingMode": "PAY_PER_REQUEST",
    }
    gsis = [_index_request(i) for i in layout.gsis]
    lsis = [_index_request(i) for i in layout.lsis]
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    client.create_table(**request)
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )


def _key_schema(index: Index) -> list[dict[str, str]]:
    schema = [{"AttributeName": k.name, "KeyType": "HASH"} for k in index.hash_keys]
    return schema + [{"AttributeName": k.name, "KeyType": "RANGE"} for k in index.range_keys]


def _index_request(index: Index) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.projection == "INCLUDE":
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return {"IndexName": index.name, "KeySchema": _key_schema(index), "Projection": projection}


# --------------------------------------------------------------------------- loading


@dataclass
class LoadResult:
    items: int = 0
    bytes: int = 0
    batches: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)  # rows that could not become items
    collisions: list[str] = field(default_factory=list)  # rows that share one table key


def build_items(model: Model, layout: Layout, data: Dataset) -> tuple[list[Item], LoadResult]:
    """Every row as an item; rows whose item fails a limit, or whose key collides, reported."""
    result = LoadResult()
    table = next(i for i in layout.indexes if i.kind == "table")
    by_key: dict[tuple[Any, ...], tuple[int, RowRef]] = {}
    items: list[Item] = []
    for entity in model.entities:
        for row in data.of(entity.name):
            ref = ref_of(entity, row)
            try:
                item = to_item(model, layout, entity, row)
                copies = copy_items(model, layout, entity, row)
            except (ItemError, keys.KeyEncodingError, KeyError) as exc:
                result.errors.append(f"{ref}: {exc}")
                continue
            for one in (item, *copies):
                key = _table_key(table, one)
                if key in by_key:
                    at, other = by_key[key]
                    result.collisions.append(
                        f"{ref} and {other} both map to table key {dict(zip(('pk', 'sk'), key, strict=False))}"
                    )
                    items[at] = one  # what DynamoDB would keep: the last write wins
                    continue
                by_key[key] = (len(items), ref)
                items.append(one)
    return items, result


def _table_key(table: Index, item: Mapping[str, AV]) -> tuple[Any, ...]:
    names = [table.pk.name] + ([table.sk.name] if table.sk else [])
    return tuple(tuple(sorted((k, str(v)) for k, v in item[n].items())) for n in names)


def write_items(
    client: Any,
    table_name: str,
    items: Sequence[Item],
    result: LoadResult,
    pool: Executor | None = None,
) -> None:
    """BatchWriteItem in chunks of ≤ 25 items and ≤ 16 MB, retrying UnprocessedItems; the
    chunks go out concurrently on `pool` when given (a boto3 client is thread-safe)."""
    chunks: list[list[Item]] = []
    chunk: list[Item] = []
    size = 0
    for item in items:
        n = item_size(item)
        if chunk and (len(chunk) == BATCH_WRITE_ITEMS or size + n > BATCH_WRITE_BYTES):
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(item)
        size += n
        result.items += 1
        result.bytes += n
    if chunk:
        chunks.append(chunk)
    result.batches += len(chunks)
    if pool is None:
        retries = [_write_batch(client, table_name, c) for c in chunks]
    else:
        retries = list(pool.map(lambda c: _write_batch(client, table_name, c), chunks))
    result.retries += sum(retries)


def _write_batch(client: Any, table_name: str, chunk: list[Item]) -> int:
    """Write one chunk; the number of retries it took."""
    requests: dict[str, Any] = {table_name: [{"PutRequest": {"Item": i}} for i in chunk]}
    for attempt in range(MAX_RETRIES + 1):
        response = client.batch_write_item(RequestItems=requests)
        requests = response.get("UnprocessedItems") or {}
        if not requests:
            return attempt
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise RuntimeError(f"BatchWriteItem left items unprocessed after {MAX_RETRIES} retries")


# --------------------------------------------------------------------------- running plans


@dataclass
class RunResult:
    items: list[Item] = field(default_factory=list)
    pages: int = 0
    item_pages: int = 0  # pages that carried at least one item of the answer
    requests: list[dict[str, Any]] = field(default_factory=list)  # first request, for reports
    page_size: int | None = None  # the Limit asked per page (None: DynamoDB's 1 MB pages)


def build_request(
    model: Model,
    layout: Layout,
    plan: PatternPlan,
    pattern: AccessPattern,
    params: Mapping[str, Any],
    table_name: str,
) -> dict[str, Any]:
    """The Query (or GetItem) request of one plan for one set of parameter values
    (`modeling.requests.build_request`, non-key values through the reference codec)."""
    if pattern.name != plan.pattern:
        raise PlanError(f"plan {plan.pattern} run with pattern {pattern.name}")
    return requests.build_request(model, layout, plan, params, table_name, attribute_av)


def run(
    client: Any,
    layout: Layout,
    plan: PatternPlan,
    request: dict[str, Any],
    page_size: int | None = None,
) -> RunResult:
    """Send the request; follow LastEvaluatedKey until done or the pattern's limit is reached."""
    out = RunResult(requests=[request], page_size=page_size)
    if "Key" in request:
        response = client.get_item(**request, ConsistentRead=True)
        out.pages = 1
        item = response.get("Item")
        if item is not None and (
            not plan.type_filter or item.get(layout.type_attribute, {}).get("S") in plan.type_filter
        ):
            out.items.append(item)
            out.item_pages = 1
        return out
    if requests.empty_range(request):
        return out  # no key sorts between the bounds: no rows, as in SQL
    query = dict(request)
    if page_size:
        query["Limit"] = page_size
    while True:
        response = client.query(**query)
        out.pages += 1
        page = response.get("Items", [])
        out.items.extend(page)
        out.item_pages += bool(page)
        if plan.limit is not None and len(out.items) >= plan.limit:
            del out.items[plan.limit :]
            break
        last = response.get("LastEvaluatedKey")
        if not last:
            break
        query["ExclusiveStartKey"] = last
    index = layout.index(plan.index)
    copy = layout.copy(plan.copy) if plan.copy is not None else None
    if copy is not None:
        out.items = _fetch_main(client, copy, request["TableName"], out.items)
    elif index is not None and index.projection != "ALL":
        out.items = _fetch_full(client, layout, request["TableName"], out.items)
    return out


def _fetch_main(client: Any, copy: CopyItems, table_name: str, items: list[Item]) -> list[Item]:
    """The main items of relationship copies, by the table key each copy holds (in order)."""
    full = []
    for item in items:
        key = {name: item[ref] for name, ref in copy.ref}
        response = client.get_item(TableName=table_name, Key=key, ConsistentRead=True)
        if "Item" in response:
            full.append(response["Item"])
    return full


def _fetch_full(client: Any, layout: Layout, table_name: str, items: list[Item]) -> list[Item]:
    """Items read from a KEYS_ONLY/INCLUDE index, completed by GetItem on the table key."""
    table = next(i for i in layout.indexes if i.kind == "table")
    names = [table.pk.name] + ([table.sk.name] if table.sk else [])
    full = []
    for item in items:
        response = client.get_item(TableName=table_name, Key={n: item[n] for n in names})
        full.append(response.get("Item", item))
    return full
