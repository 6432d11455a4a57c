"""`model verify` end to end: sample rows → items in DynamoDB → every plan vs the oracles.

The caller owns the services: pass a boto3 DynamoDB client (DynamoDB Local, moto, or a real
endpoint) and optionally a psycopg connection to an empty database. The table is created under
a fresh name and deleted afterwards unless `keep_table`. Several models may share one DynamoDB
endpoint (each gets its own table) and one PostgreSQL server (each its own database).

Where the time goes is recorded per phase (`Report.timings`, wall seconds): `generate` (sample
rows and their items), `postgres load`, `table` (CreateTable until ACTIVE), `dynamodb load`
(BatchWriteItem), and `queries`, the trials of every pattern, inside which `python oracle` and
`postgres oracle` are this thread's own work and `dynamodb wait` the time it then still waited
for the DynamoDB answers (Query and GetItem requests go out on a small thread pool while this
thread asks PostgreSQL). `dynamodb busy` sums the requests' own durations over the workers.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeling.core.ir import IN, Entity, Layout, Model, in_value_param
from modeling.requests import shard_requests
from modeling.sample import oracle
from modeling.sample import params as param_draw
from modeling.sample.codec import ItemError, from_item, key_literals, slots
from modeling.sample.fit import ddl_file_bounds, fit_to_ddl_file
from modeling.sample.generate import SampleOptions, generate
from modeling.sample.rows import Dataset, Row, RowRef, index_rows, ref_of
from modeling.verify import coverage, dynamo, postgres
from modeling.verify.report import Failure, PatternResult, Report

DEFAULT_WORKERS = 4  # concurrent DynamoDB requests: DynamoDB Local answers several at once
PAGES_PER_SMALL_PAGE_TRIAL = 5  # a small-page trial reads about this many pages, not hundreds


@dataclass(frozen=True)
class VerifyOptions:
    seed: int = 0
    trials: int = 40  # parameter sets per pattern
    sample: SampleOptions | None = None
    keep_table: bool = False
    table_name: str | None = None
    # the PostgreSQL oracle's collation for strings: "C" (byte order, DynamoDB's; default),
    # "source" (each column's own), or a collation name; see modeling.verify.postgres
    collation: str = postgres.BYTE_ORDER
    workers: int = DEFAULT_WORKERS


class Progress:
    """What `verify` reports while it runs; the command gives it a bar or plain lines."""

    def phase(self, model: str, name: str) -> None:
        """A phase of one model starts (`load`, `queries`, ...)."""

    def patterns(self, model: str, total: int) -> None:
        """`total` patterns are about to run for `model`."""

    def pattern_done(self, model: str, name: str, trials: int) -> None:
        """One pattern finished after `trials` trials."""


def verify(
    model: Model,
    layout: Layout,
    client: Any,
    *,
    endpoint: str = "",
    pg_conn: Any | None = None,
    source_ddl: Path | None = None,
    options: VerifyOptions | None = None,
    progress: Progress | None = None,
) -> Report:
    """Load sample rows, run every plan for many parameter values, compare with the oracles."""
    opts = options or VerifyOptions()
    watch = progress or Progress()
    sample_opts = opts.sample or SampleOptions(seed=opts.seed)
    table = opts.table_name or f"{layout.table_name}-verify-{uuid.uuid4().hex[:8]}"
    report = Report(model.name, table, endpoint, opts.seed)
    report.collation = opts.collation if pg_conn is not None else None
    timer = _Timer(report.timings)
    keyed = keyed_attributes(layout)
    literals = tuple(t for t in key_literals(layout) if t.strip("#"))
    bounds = ddl_file_bounds(model, source_ddl)
    watch.phase(model.name, "generate")
    with timer("generate"):
        data = generate(model, sample_opts, keyed, literals=literals, bounds=bounds)
        report.rows = {e.name: len(data.of(e.name)) for e in model.entities}
        if pg_conn is not None:
            # before anything is built from the rows: the same values go to DynamoDB and SQL
            report.notes.extend(fit_to_ddl_file(model, data, source_ddl))
        items, load = dynamo.build_items(model, layout, data)
    report.load_errors, report.collisions = load.errors, load.collisions
    schema = None
    if pg_conn is not None:
        watch.phase(model.name, "postgres load")
        with timer("postgres load"):
            postgres.check_collation(pg_conn, opts.collation)
            schema = postgres.prepare(pg_conn, model, data, source_ddl)
            # timestamps come back in UTC: 0001-01-01 has no local time west of Greenwich
            pg_conn.execute("SET TimeZone TO 'UTC'")
        report.postgres = schema.origin
        report.notes.extend(schema.notes)
    watch.phase(model.name, "dynamodb load")
    with timer("table"):
        dynamo.create_table(client, layout, table)
    try:
        with ThreadPoolExecutor(max_workers=max(1, opts.workers)) as pool:
            with timer("dynamodb load"):
                dynamo.write_items(client, table, items, load, pool=pool)
            report.items, report.bytes = load.items, load.bytes
            report.batches, report.retries = load.batches, load.retries
            rng = random.Random(opts.seed)
            by_ref = index_rows(model, data)
            lookup = oracle.RowIndex(data)
            context = _Context(
                model, layout, data, by_ref, lookup, client, table, pg_conn, schema, opts,
                pool, timer, literals, bounds, keyed,
            )  # fmt: skip
            watch.phase(model.name, "queries")
            watch.patterns(model.name, len(model.patterns))
            with timer("queries"):
                for pattern in model.patterns:
                    result = _verify_pattern(context, pattern.name, rng)
                    report.patterns.append(result)
                    report.requests += result.requests
                    watch.pattern_done(model.name, pattern.name, result.trials)
    finally:
        if not opts.keep_table:
            client.delete_table(TableName=table)
    return report


class _Timer:
    """Adds the seconds spent in a `with timer(phase)` block to `timings[phase]`."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - start)

    def add(self, phase: str, seconds: float) -> None:
        self.timings[phase] = round(self.timings.get(phase, 0.0) + seconds, 4)


@dataclass
class _Context:
    model: Model
    layout: Layout
    data: Dataset
    by_ref: dict[RowRef, Row]
    lookup: oracle.RowIndex
    client: Any
    table: str
    pg_conn: Any | None
    schema: postgres.PgSchema | None
    opts: VerifyOptions
    pool: ThreadPoolExecutor
    timer: _Timer
    literals: tuple[str, ...]
    bounds: dict[tuple[str, str], Any]
    keyed: frozenset[tuple[str, str]]


def keyed_attributes(layout: Layout) -> frozenset[tuple[str, str]]:
    """(entity, attribute) pairs that appear in any key template of the layout."""
    out: set[tuple[str, str]] = set()
    for el in layout.entities:
        for k in el.keys:
            for template in (k.pk, k.sk or ""):
                out.update((el.entity, s) for s in slots(template))
    return frozenset(out)


def _page_size(rng: random.Random, i: int, expected: oracle.Expected) -> int | None:
    """Every third trial reads in small pages so continuation is exercised on every pattern;
    the page grows with the answer, so a 200-row answer takes a handful of pages, not 200."""
    if i % 3 != 1:
        return None
    small = rng.choice((1, 2, 3, 7))
    return max(small, math.ceil(expected.expected_count() / PAGES_PER_SMALL_PAGE_TRIAL))


def _verify_pattern(ctx: _Context, name: str, rng: random.Random) -> PatternResult:
    model, layout = ctx.model, ctx.layout
    pattern = model.pattern(name)
    assert pattern is not None
    plan = layout.plan(name)
    result = PatternResult(name)
    if plan is None:
        result.skipped = "the layout has no plan for this pattern"
    else:
        result.index, result.operation = plan.index, plan.operation
    if ctx.pg_conn is not None:
        result.oracle_skipped = postgres.supported(model, pattern)
    null_slots, order_attribute = coverage.applicable(model, layout, pattern)
    cov = result.coverage
    cov.nullable = sorted(f"{e}.{a}" for e, attrs in null_slots.items() for a in attrs)
    cov.ordered = coverage.ties_possible(model, pattern, order_attribute)
    # a unique pattern answers with at most one row: continuation is no case for it
    cov.paged = (
        plan is not None and not result.skipped and plan.operation == "Query" and not pattern.unique
    )
    cases = coverage.case_watch(
        model, layout, pattern, ctx.data.rows, ctx.literals, ctx.bounds, ctx.keyed
    )
    cov.case_applies = list(cases.applies)
    cov.cases = dict.fromkeys(cases.applies, 0)
    cov.case_attributes = sorted(
        f"{e}.{a}" for e, attrs in cases.attributes.items() for a, *_ in attrs
    )
    trials = param_draw.draw(model, pattern, ctx.data, rng, ctx.opts.trials)
    # The draw repeats itself (few partitions, the same anchors): a repeated parameter set is
    # the same SQL and, with the same page size, the same request on an unchanging table, so
    # each distinct one is asked once and its answer counted for every trial that drew it.
    keys = [_params_key(p) for p in trials]
    distinct = {k: p for k, p in zip(keys, trials, strict=True)}
    result.distinct = len(distinct)
    ask_dynamodb = plan is not None and not result.skipped
    paged = plan is not None and plan.operation == "Query"
    with ctx.timer("python oracle"):
        expected_of = {
            k: oracle.evaluate(model, pattern, ctx.data, p, ctx.lookup) for k, p in distinct.items()
        }
    futures: dict[tuple[str, int | None], Future[Any]] = {}
    jobs: list[tuple[str, dict[str, Any], tuple[str, int | None] | None]] = []
    for i, (key, params) in enumerate(zip(keys, trials, strict=True)):
        request = None
        if ask_dynamodb:
            page_size = _page_size(rng, i, expected_of[key])
            # GetItem has no pages: its page size changes nothing in the request
            request = (key, page_size if paged else None)
            if request not in futures:
                futures[request] = ctx.pool.submit(
                    _ask_dynamodb, ctx, plan, pattern, params, page_size
                )
        jobs.append((key, params, request))
    # PostgreSQL in this thread (the distinct sets in one pipeline) while the pool talks to
    # DynamoDB
    if ctx.pg_conn is not None and ctx.schema is not None and result.oracle_skipped is None:
        with ctx.timer("postgres oracle"):
            answers = postgres.run_pattern_many(
                ctx.pg_conn, model, ctx.schema, pattern, list(distinct.values()), ctx.opts.collation
            )
            for (key, params), got in zip(distinct.items(), answers, strict=True):
                failure = _check_postgres(ctx, pattern, params, expected_of[key], got)
                if failure is not None:
                    result.failures.append(failure)
        result.oracle_trials = len(trials)
    checked: dict[tuple[str, int | None], _Answer] = {}
    for key, params, request in jobs:
        expected = expected_of[key]
        result.trials += 1
        result.non_empty += expected.total() > 0
        result.max_rows = max(result.max_rows, expected.expected_count())
        cov.observe_cases(cases.cases_of(expected, ctx.by_ref, params))
        if request is None:
            cov.observe(expected, ctx.by_ref, null_slots, order_attribute)
            continue
        answer = checked.get(request)
        if answer is None:
            with ctx.timer("dynamodb wait"):
                answer = checked[request] = futures[request].result()
            ctx.timer.add("dynamodb busy", answer.seconds)
            failure = _check_dynamodb(ctx, pattern, params, expected, answer, result)
            if failure is not None:
                result.failures.append(failure)
        cov.observe(
            expected, ctx.by_ref, null_slots, order_attribute,
            answer.run.item_pages if answer.run is not None else None,
        )  # fmt: skip
    cov.finish(name)
    return result


def _params_key(params: dict[str, Any]) -> str:
    """Equal for parameter sets that make the same request (a datetime in another zone is
    another request: its text differs)."""
    return repr(sorted(params.items()))


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
    ctx: _Context,
    pattern: Any,
    params: dict[str, Any],
    expected: oracle.Expected,
    got: dict[str, list[RowRef]],
) -> Failure | None:
    """PostgreSQL's answer under the chosen collation against the Python oracle's.

    Under a collation other than byte order a difference may be the collation's: the query is
    asked again in byte order, and when that agrees the difference is a `collation` finding
    (the application's own SQL orders or compares strings otherwise than DynamoDB), else an
    `oracle` one (a verifier bug)."""
    assert ctx.schema is not None
    collation = ctx.opts.collation
    failure = _compare_postgres(pattern, params, expected, got)
    if failure is None or collation == postgres.BYTE_ORDER:
        return failure
    in_bytes = postgres.run_pattern(
        ctx.pg_conn, ctx.model, ctx.schema, pattern, params, postgres.BYTE_ORDER
    )
    if _compare_postgres(pattern, params, expected, in_bytes) is None:
        failure.kind = "collation"
    return failure


def _compare_postgres(
    pattern: Any, params: dict[str, Any], expected: oracle.Expected, got: dict[str, list[RowRef]]
) -> Failure | None:
    single = len(pattern.entities) == 1
    for entity, refs in got.items():
        sub = oracle.Expected(
            {entity: expected.groups.get(entity, [])}, limit=expected.limit if single else None
        )
        c = oracle.compare(sub, refs)
        if not c.ok:
            return Failure.of("oracle", params, c, sub.expected_count(), len(refs))
    return None


@dataclass
class _Answer:
    request: dict[str, Any] | None
    run: dynamo.RunResult | None
    error: str | None
    seconds: float


def _ask_dynamodb(
    ctx: _Context, plan: Any, pattern: Any, params: dict[str, Any], page_size: int | None
) -> _Answer:
    """One trial's request and its pages (runs in the pool)."""
    start = time.perf_counter()
    request = None
    try:
        run = dynamo.RunResult(page_size=page_size)
        for one in _each_value(ctx.model, pattern, params):  # `IN`: one request per value
            request = dynamo.build_request(ctx.model, ctx.layout, plan, pattern, one, ctx.table)
            # a sharded partition: one Query per shard, merged below (`_merged`)
            for shard_request in shard_requests(plan, request):
                part = dynamo.run(ctx.client, ctx.layout, plan, shard_request, page_size)
                run.items += part.items
                run.pages += part.pages
                run.item_pages += part.item_pages
                run.requests += part.requests
                run.page_size = part.page_size
    except Exception as exc:  # a request DynamoDB rejects is a finding about the layout
        return _Answer(request, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
    return _Answer(request, run, None, time.perf_counter() - start)


def _check_dynamodb(
    ctx: _Context,
    pattern: Any,
    params: dict[str, Any],
    expected: oracle.Expected,
    answer: _Answer,
    result: PatternResult,
) -> Failure | None:
    if answer.run is None:
        return Failure("dynamodb", params, error=answer.error, expected=expected.expected_count())
    run = answer.run
    result.requests += run.pages
    result.max_pages = max(result.max_pages, run.pages)
    if run.page_size is None:
        result.max_full_pages = max(result.max_full_pages, run.pages)
    refs: list[RowRef] = []
    changed: list[str] = []
    decoded: list[tuple[Entity, Row]] = []
    for item in run.items:
        try:
            decoded.append(from_item(ctx.model, ctx.layout, item))
        except (ItemError, ValueError, KeyError) as exc:
            changed.append(f"unreadable item: {exc}")
    if len(run.requests) > 1:
        decoded = _merged(pattern, decoded)
    for entity, row in decoded:
        ref = ref_of(entity, row)
        refs.append(ref)
        source = ctx.by_ref.get(ref)
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
    failure.request = answer.request
    return failure
