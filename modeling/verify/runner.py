"""`model verify` end to end: sample rows → items in DynamoDB → every plan vs the oracles.

The caller owns the services: pass a boto3 DynamoDB client (DynamoDB Local, moto, or a real
endpoint) and optionally a psycopg connection to an empty database. The table is created under
a fresh name and deleted afterwards unless `keep_table`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeling.core.ir import IN, Entity, Layout, Model, in_value_param
from modeling.sample import oracle
from modeling.sample import params as param_draw
from modeling.sample.codec import ItemError, from_item, slots
from modeling.sample.fit import fit_to_ddl_file
from modeling.sample.generate import SampleOptions, generate
from modeling.sample.rows import Dataset, Row, RowRef, index_rows, ref_of
from modeling.verify import coverage, dynamo, postgres
from modeling.verify.report import Failure, PatternResult, Report


@dataclass(frozen=True)
class VerifyOptions:
    seed: int = 0
    trials: int = 40  # parameter sets per pattern
    sample: SampleOptions | None = None
    keep_table: bool = False
    table_name: str | None = None


def verify(
    model: Model,
    layout: Layout,
    client: Any,
    *,
    endpoint: str = "",
    pg_conn: Any | None = None,
    source_ddl: Path | None = None,
    options: VerifyOptions | None = None,
) -> Report:
    """Load sample rows, run every plan for many parameter values, compare with the oracles."""
    opts = options or VerifyOptions()
    sample_opts = opts.sample or SampleOptions(seed=opts.seed)
    data = generate(model, sample_opts, keyed_attributes(layout))
    table = opts.table_name or f"{layout.table_name}-verify-{uuid.uuid4().hex[:8]}"
    report = Report(model.name, table, endpoint, opts.seed)
    report.rows = {e.name: len(data.of(e.name)) for e in model.entities}
    if pg_conn is not None:
        # before anything is built from the rows: the same values go to DynamoDB and PostgreSQL
        report.notes.extend(fit_to_ddl_file(model, data, source_ddl))
    items, load = dynamo.build_items(model, layout, data)
    report.load_errors, report.collisions = load.errors, load.collisions
    schema = None
    if pg_conn is not None:
        schema = postgres.prepare(pg_conn, model, data, source_ddl)
        report.postgres = schema.origin
        report.notes.extend(schema.notes)
    dynamo.create_table(client, layout, table)
    try:
        dynamo.write_items(client, table, items, load)
        report.items, report.bytes = load.items, load.bytes
        report.batches, report.retries = load.batches, load.retries
        rng = random.Random(opts.seed)
        by_ref = index_rows(model, data)
        for pattern in model.patterns:
            report.patterns.append(
                _verify_pattern(
                    model,
                    layout,
                    pattern.name,
                    data,
                    by_ref,
                    client,
                    table,
                    pg_conn,
                    schema,
                    rng,
                    opts,
                )
            )
    finally:
        if not opts.keep_table:
            client.delete_table(TableName=table)
    return report


def keyed_attributes(layout: Layout) -> frozenset[tuple[str, str]]:
    """(entity, attribute) pairs that appear in any key template of the layout."""
    out: set[tuple[str, str]] = set()
    for el in layout.entities:
        for k in el.keys:
            for template in (k.pk, k.sk or ""):
                out.update((el.entity, s) for s in slots(template))
    return frozenset(out)


def _verify_pattern(
    model: Model,
    layout: Layout,
    name: str,
    data: Dataset,
    by_ref: dict[RowRef, Row],
    client: Any,
    table: str,
    pg_conn: Any | None,
    schema: postgres.PgSchema | None,
    rng: random.Random,
    opts: VerifyOptions,
) -> PatternResult:
    pattern = model.pattern(name)
    assert pattern is not None
    plan = layout.plan(name)
    result = PatternResult(name)
    if plan is None:
        result.skipped = "the layout has no plan for this pattern"
    else:
        result.index, result.operation = plan.index, plan.operation
        if plan.sharded:
            result.skipped = f"sharded plans ({plan.sharded} shards) are not verified yet"
    if pg_conn is not None:
        result.oracle_skipped = postgres.supported(model, pattern)
    null_slots, order_attribute = coverage.applicable(model, layout, pattern)
    cov = result.coverage
    cov.nullable = sorted(f"{e}.{a}" for e, attrs in null_slots.items() for a in attrs)
    cov.ordered = coverage.ties_possible(model, pattern, order_attribute)
    # a unique pattern answers with at most one row: continuation is no case for it
    cov.paged = (
        plan is not None and not result.skipped and plan.operation == "Query" and not pattern.unique
    )
    trials = param_draw.draw(model, pattern, data, rng, opts.trials)
    for i, params in enumerate(trials):
        expected = oracle.evaluate(model, pattern, data, params)
        item_pages: list[int] = []
        result.trials += 1
        result.non_empty += expected.total() > 0
        result.max_rows = max(result.max_rows, expected.expected_count())
        if pg_conn is not None and schema is not None and result.oracle_skipped is None:
            result.oracle_trials += 1
            failure = _check_postgres(model, pattern, pg_conn, schema, params, expected)
            if failure is not None:
                result.failures.append(failure)
        if plan is None or result.skipped:
            cov.observe(expected, by_ref, null_slots, order_attribute)
            continue
        # Every third trial reads in small pages so continuation is exercised on every pattern.
        page_size = rng.choice((1, 2, 3, 7)) if i % 3 == 1 else None
        failure = _check_dynamodb(
            model, layout, plan, pattern, params, expected, by_ref, client, table, page_size, result,
            item_pages,
        )  # fmt: skip
        if failure is not None:
            result.failures.append(failure)
        cov.observe(
            expected, by_ref, null_slots, order_attribute, item_pages[0] if item_pages else None
        )
    cov.finish(name)
    return result


def _each_value(model: Model, pattern: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameters of each request: one set, or one per distinct value of an `IN` list
    (its key slot bound to `in_value_param`), as the generated client sends them."""
    fan = next((c for c in pattern.where if c.op == IN), None)
    if fan is None:
        return [params]
    t = next((a.type for e in pattern.entities if (a := _attribute(model, e, fan.attribute))), None)
    values = list(oracle.condition_values(fan, t, params))
    if fan.listed and fan.params:
        values = list(values[0])
    distinct = {oracle.sort_value(v): v for v in values}
    each = in_value_param(fan.attribute)
    return [{**params, each: v} for v in distinct.values()]


def _attribute(model: Model, entity: str, name: str) -> Any:
    e = model.entity(entity)
    return e.attribute(name) if e is not None else None


def _merged(pattern: Any, decoded: list[tuple[Entity, Row]]) -> list[tuple[Entity, Row]]:
    """The answers of several requests in the pattern's order, cut to its limit."""
    if pattern.order_by and len(pattern.entities) == 1:
        high = pattern.nulls_high

        def key(pair: tuple[Entity, Row]) -> tuple[int, Any]:
            value = pair[1].get(pattern.order_by)
            return (2 if high else 0, 0) if value is None else (1, oracle.sort_value(value))

        decoded = sorted(decoded, key=key, reverse=pattern.order == "desc")
    return decoded[: pattern.limit] if pattern.limit is not None else decoded


def _check_postgres(
    model: Model,
    pattern: Any,
    conn: Any,
    schema: postgres.PgSchema,
    params: dict[str, Any],
    expected: oracle.Expected,
) -> Failure | None:
    got = postgres.run_pattern(conn, model, schema, pattern, params)
    single = len(pattern.entities) == 1
    for entity, refs in got.items():
        sub = oracle.Expected(
            {entity: expected.groups.get(entity, [])}, limit=expected.limit if single else None
        )
        c = oracle.compare(sub, refs)
        if not c.ok:
            return Failure.of("oracle", params, c, sub.expected_count(), len(refs))
    return None


def _check_dynamodb(
    model: Model,
    layout: Layout,
    plan: Any,
    pattern: Any,
    params: dict[str, Any],
    expected: oracle.Expected,
    by_ref: dict[RowRef, Row],
    client: Any,
    table: str,
    page_size: int | None,
    result: PatternResult,
    item_pages: list[int],
) -> Failure | None:
    try:
        run = dynamo.RunResult()
        request: dict[str, Any] = {}
        for one in _each_value(model, pattern, params):  # `IN`: one request per value
            request = dynamo.build_request(model, layout, plan, pattern, one, table)
            part = dynamo.run(client, layout, plan, request, page_size)
            run.items += part.items
            run.pages += part.pages
            run.item_pages += part.item_pages
            run.requests += part.requests
    except Exception as exc:  # a request DynamoDB rejects is a finding about the layout
        return Failure(
            "dynamodb",
            params,
            error=f"{type(exc).__name__}: {exc}",
            expected=expected.expected_count(),
        )
    result.max_pages = max(result.max_pages, run.pages)
    item_pages.append(run.item_pages)
    if page_size is None:
        result.max_full_pages = max(result.max_full_pages, run.pages)
    refs: list[RowRef] = []
    changed: list[str] = []
    decoded: list[tuple[Entity, Row]] = []
    for item in run.items:
        try:
            decoded.append(from_item(model, layout, item))
        except (ItemError, ValueError, KeyError) as exc:
            changed.append(f"unreadable item: {exc}")
    if len(run.requests) > 1:
        decoded = _merged(pattern, decoded)
    for entity, row in decoded:
        ref = ref_of(entity, row)
        refs.append(ref)
        source = by_ref.get(ref)
        if source is not None and row != source:
            diff = sorted(k for k in row if row[k] != source.get(k))
            changed.append(f"{ref}: {', '.join(diff)}")
    c = oracle.compare(expected, refs)
    if pattern.unique and len(refs) > 1:
        c.count = f"unique pattern returned {len(refs)} items"
    if c.ok and not changed:
        return None
    failure = Failure.of("dynamodb", params, c, expected.expected_count(), len(refs))
    failure.changed = changed
    failure.request = request
    return failure
