"""The DynamoDB side of `model verify`: create the table from a Layout, load items, run plans.

Everything goes through the low-level boto3 client so what is sent is exactly what a generated
client would send: the key condition rendered from the plan's templates with `keys.encode`,
`ScanIndexForward` from the plan's order, the entity-type filter and non-key filters as a
FilterExpression, pagination by `LastEvaluatedKey` (1 MB pages, or smaller `Limit` pages to
exercise continuation), the pattern's `limit` applied to matching items (DynamoDB's own `Limit`
counts items *read*, before the filter, so it cannot implement a pattern limit by itself), and
GetItem for plans that say so.

Key values are rendered here from the IR's documented semantics (`ir.RenderMode`), not with the
compiler's own helper, so a bug there is caught rather than repeated.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modeling.core.errors import InputError
from modeling.core.ir import (
    AccessPattern,
    Index,
    KeyValue,
    Layout,
    Model,
    PatternPlan,
    TypeRef,
)
from modeling.runtime import keys
from modeling.sample.codec import AV, Item, ItemError, attribute_av, number_text, to_item
from modeling.sample.oracle import coerce, condition_values
from modeling.sample.rows import Dataset, RowRef, ref_of

BATCH_ITEMS = 25
BATCH_BYTES = 16 * 1024 * 1024
MAX_RETRIES = 8


class PlanError(InputError, ValueError):
    """A plan that cannot be turned into a request (missing parameter, bad template, ...)."""


# --------------------------------------------------------------------------- table


def create_table(client: Any, layout: Layout, table_name: str) -> None:
    """Create `table_name` with the layout's primary key, GSIs and LSIs (on-demand billing)."""
    definitions: dict[str, str] = {}
    for index in layout.indexes:
        for ka in (index.pk, index.sk):
            if ka is not None:
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
    schema = [{"AttributeName": index.pk.name, "KeyType": "HASH"}]
    if index.sk is not None:
        schema.append({"AttributeName": index.sk.name, "KeyType": "RANGE"})
    return schema


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
            except (ItemError, keys.KeyEncodingError, KeyError) as exc:
                result.errors.append(f"{ref}: {exc}")
                continue
            key = _table_key(table, item)
            if key in by_key:
                at, other = by_key[key]
                result.collisions.append(
                    f"{ref} and {other} both map to table key {dict(zip(('pk', 'sk'), key, strict=False))}"
                )
                items[at] = item  # what DynamoDB would keep: the last write wins
                continue
            by_key[key] = (len(items), ref)
            items.append(item)
    return items, result


def _table_key(table: Index, item: Mapping[str, AV]) -> tuple[Any, ...]:
    names = [table.pk.name] + ([table.sk.name] if table.sk else [])
    return tuple(tuple(sorted((k, str(v)) for k, v in item[n].items())) for n in names)


def write_items(client: Any, table_name: str, items: Sequence[Item], result: LoadResult) -> None:
    """BatchWriteItem in chunks of ≤ 25 items and ≤ 16 MB, retrying UnprocessedItems."""
    from modeling.sample.codec import item_size

    chunk: list[Item] = []
    size = 0
    for item in items:
        n = item_size(item)
        if chunk and (len(chunk) == BATCH_ITEMS or size + n > BATCH_BYTES):
            _write_batch(client, table_name, chunk, result)
            chunk, size = [], 0
        chunk.append(item)
        size += n
        result.items += 1
        result.bytes += n
    if chunk:
        _write_batch(client, table_name, chunk, result)


def _write_batch(client: Any, table_name: str, chunk: list[Item], result: LoadResult) -> None:
    requests: dict[str, Any] = {table_name: [{"PutRequest": {"Item": i}} for i in chunk]}
    result.batches += 1
    for attempt in range(MAX_RETRIES + 1):
        response = client.batch_write_item(RequestItems=requests)
        requests = response.get("UnprocessedItems") or {}
        if not requests:
            return
        result.retries += 1
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise RuntimeError(f"BatchWriteItem left items unprocessed after {MAX_RETRIES} retries")


# --------------------------------------------------------------------------- rendering keys


def _values_for(pattern: AccessPattern, model: Model, params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters plus the fixed literals of `sql:` conditions, under the attribute's name."""
    values = dict(params)
    for c in pattern.where:
        if c.literals and not c.params:
            t = _attribute_type(model, pattern, c.attribute)
            fixed = condition_values(c, t, params)
            values.setdefault(c.attribute, fixed[0])
            if len(fixed) == 2:
                values.setdefault(f"{c.attribute}_from", fixed[0])
                values.setdefault(f"{c.attribute}_to", fixed[1])
    return values


def _attribute_type(model: Model, pattern: AccessPattern, attribute: str) -> TypeRef | None:
    for name in pattern.entities:
        e = model.entity(name)
        a = e.attribute(attribute) if e else None
        if a is not None:
            return a.type
    return None


def render(kv: KeyValue, values: Mapping[str, Any], prefix_of: str | None = None) -> str:
    """A key value per `ir.RenderMode`; `prefix_of` names a slot bound to a begins_with prefix."""
    template = keys.parse_template(kv.template)
    encoded: dict[str, str] = {}
    for b in kv.bindings:
        if b.param not in values:
            raise PlanError(
                f"plan binds slot {{{b.slot}}} to parameter {b.param!r}, which has no value"
            )
        value = coerce(TypeRef(b.type), values[b.param])
        if b.slot == prefix_of or (kv.mode == "open" and b.type in keys.VARIABLE_WIDTH_KINDS):
            encoded[b.slot] = keys.encode_value_for_prefix(b.type, value)
        else:
            encoded[b.slot] = keys.encode(b.type, value)
    if kv.mode == "full":
        return template.render(encoded)
    if kv.mode == "prefix":
        return template.render_prefix(encoded)
    if kv.mode == "open":
        return _open(template, encoded)
    if kv.mode == "after":
        return _after(template.render_prefix(encoded))
    raise PlanError(f"unknown render mode {kv.mode!r}")


def _open(template: keys.Template, encoded: Mapping[str, str]) -> str:
    """Literal text and bound slots, cut right after the last bound slot (before its suffix)."""
    out: list[str] = []
    keep = 0
    for part in template.parts:
        if isinstance(part, keys.Slot):
            if part.attribute not in encoded:
                break
            out.append(encoded[part.attribute])
            keep = len(out)
        else:
            out.append(part.text)
            if not keep and not any(isinstance(p, keys.Slot) for p in template.parts):
                keep = len(out)
    if keep == 0:
        return template.literal_prefix()
    return "".join(out[:keep])


def _after(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    text = prefix
    while text:
        last = ord(text[-1])
        if last < 0x10FFFF and not 0xD7FF <= last < 0xE000:
            return text[:-1] + chr(last + 1)
        text = text[:-1]
    raise PlanError(f"no string sorts after every string starting with {prefix!r}")


def _key_av(
    attr_type: str, kv: KeyValue, values: Mapping[str, Any], prefix_of: str | None = None
) -> AV:
    if attr_type == "S":
        return {"S": render(kv, values, prefix_of)}
    if len(kv.bindings) != 1:
        raise PlanError(f"{attr_type} key {kv.template!r} must bind exactly one slot")
    value = values[kv.bindings[0].param]
    return {"N": number_text(value)} if attr_type == "N" else {"B": bytes(value)}


# --------------------------------------------------------------------------- running plans


@dataclass
class RunResult:
    items: list[Item] = field(default_factory=list)
    pages: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)  # first request, for reports


_SK_OPS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def build_request(
    model: Model,
    layout: Layout,
    plan: PatternPlan,
    pattern: AccessPattern,
    params: Mapping[str, Any],
    table_name: str,
) -> dict[str, Any]:
    """The Query (or GetItem) request of one plan for one set of parameter values."""
    values = _values_for(pattern, model, params)
    index = layout.index(plan.index)
    if index is None:
        raise PlanError(f"plan uses unknown index {plan.index}")
    rng = pattern.range
    prefix_of = rng.attribute if rng is not None and rng.op == "begins_with" else None
    names: dict[str, str] = {"#pk": index.pk.name}
    vals: dict[str, AV] = {":pk": _key_av(index.pk.type, plan.pk, values)}
    expression = "#pk = :pk"
    sk = plan.sk
    if sk.kind != "none":
        if index.sk is None:
            raise PlanError(f"plan has a sort-key condition on {index.name}, which has no sort key")
        names["#sk"] = index.sk.name
        rendered = [_key_av(index.sk.type, v, values, prefix_of) for v in sk.values]
        for i, av in enumerate(rendered):
            vals[f":sk{i}"] = av
        if sk.kind == "between":
            expression += " AND #sk BETWEEN :sk0 AND :sk1"
        elif sk.kind == "begins_with":
            expression += " AND begins_with(#sk, :sk0)"
        else:
            expression += f" AND #sk {_SK_OPS[sk.kind]} :sk0"
    if plan.operation == "GetItem":
        key = {index.pk.name: vals[":pk"]}
        if index.sk is not None:
            if sk.kind != "eq":
                raise PlanError("GetItem needs the full key (an `eq` sort-key condition)")
            key[index.sk.name] = vals[":sk0"]
        return {"TableName": table_name, "Key": key}
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": expression,
        "ScanIndexForward": plan.scan_forward,
    }
    if index.kind != "table":
        request["IndexName"] = index.name
    filters: list[str] = []
    if plan.type_filter:
        names["#type"] = layout.type_attribute
        holders = []
        for i, t in enumerate(plan.type_filter):
            vals[f":type{i}"] = {"S": t}
            holders.append(f":type{i}")
        filters.append(f"#type IN ({', '.join(holders)})")
    for i, f in enumerate(plan.filters):
        ftype = _attribute_type(model, pattern, f.attribute) or TypeRef("string")
        names[f"#f{i}"] = f.attribute
        given = [values[p] for p in f.params]
        for j, g in enumerate(given):
            vals[f":f{i}_{j}"] = attribute_av(model, f.attribute, ftype, coerce(ftype, g))
        if f.op == "between":
            filters.append(f"#f{i} BETWEEN :f{i}_0 AND :f{i}_1")
        elif f.op == "begins_with":
            filters.append(f"begins_with(#f{i}, :f{i}_0)")
        else:
            filters.append(f"#f{i} {f.op} :f{i}_0")
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = vals
    return request


def run(
    client: Any,
    layout: Layout,
    plan: PatternPlan,
    request: dict[str, Any],
    page_size: int | None = None,
) -> RunResult:
    """Send the request; follow LastEvaluatedKey until done or the pattern's limit is reached."""
    out = RunResult(requests=[request])
    if "Key" in request:
        response = client.get_item(**request, ConsistentRead=True)
        out.pages = 1
        item = response.get("Item")
        if item is not None and (
            not plan.type_filter or item.get(layout.type_attribute, {}).get("S") in plan.type_filter
        ):
            out.items.append(item)
        return out
    query = dict(request)
    if page_size:
        query["Limit"] = page_size
    while True:
        response = client.query(**query)
        out.pages += 1
        out.items.extend(response.get("Items", []))
        if plan.limit is not None and len(out.items) >= plan.limit:
            del out.items[plan.limit :]
            break
        last = response.get("LastEvaluatedKey")
        if not last:
            break
        query["ExclusiveStartKey"] = last
    index = layout.index(plan.index)
    if index is not None and index.projection != "ALL":
        out.items = _fetch_full(client, layout, request["TableName"], out.items)
    return out


def _fetch_full(client: Any, layout: Layout, table_name: str, items: list[Item]) -> list[Item]:
    """Items read from a KEYS_ONLY/INCLUDE index, completed by GetItem on the table key."""
    table = next(i for i in layout.indexes if i.kind == "table")
    names = [table.pk.name] + ([table.sk.name] if table.sk else [])
    full = []
    for item in items:
        response = client.get_item(TableName=table_name, Key={n: item[n] for n in names})
        full.append(response.get("Item", item))
    return full
