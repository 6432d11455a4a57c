"""`model migrate validate --patterns N`: every access pattern, asked of both stores.

The item diff proves each item is what the transformers make of its row. It cannot see a layout
that answers a pattern wrongly with correct items: a sort key that orders by the wrong
attribute, a sparse index that leaves rows out, a key condition that reads another collection.
This check runs each access pattern for N parameter sets:

- on the target through the generated client (`client.py`, the code the application calls:
  its key builders, key condition, filters, pages, limit, decoding);
- on the source as SQL (`modeling.extraction.pattern_select`, the builder verify's PostgreSQL
  oracle uses): the pattern's conditions over the entity's own table, ordered by the pattern's
  sort attribute with NULLs where PostgreSQL puts them, strings in the column's collation (what
  the application's SQL sees) or in byte order (`collate="C"`, DynamoDB's order);

and compares the answers as rows (entity + key), order included: rows with equal sort values
form a tie group whose inner order is not promised, so it is compared as a set; an item
collection is compared per entity (the order between entities is the sort key's type prefix);
a limit cut through a tie group may take any rows of it (`modeling.sample.oracle.compare`).

Parameter values come from the source data: N random rows of the pattern's entities (a seeded
`setseed`/`random()` sample, so one seed on the same data draws the same values), turned into
parameters by `modeling.sample.params.draw` (the rows' own values for `=`, ranges around
them, prefixes of them, and every seventh set a value that matches nothing).

An answer larger than `max_rows` rows is not compared (counted as `too_large`), so one
parameter of a huge partition cannot make the check unbounded.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from psycopg.rows import dict_row, tuple_row

from modeling.api import PatternMethod, pattern_methods
from modeling.core import ir
from modeling.extraction import extraction_queries, pattern_select, pattern_sql_problem
from modeling.sample import oracle
from modeling.sample import params as param_draw
from modeling.sample.rows import Dataset, RowRef

MAX_DIFFERENCES = 3  # parameter sets whose differences are listed, per pattern
MAX_REFS = 5  # rows listed per kind of difference
MAX_ROWS = 5_000  # rows of one answer compared at most
FETCH = 500


@dataclass
class PatternValidation:
    pattern: str
    entities: list[str]
    index: str = ""
    operation: str = ""
    tried: int = 0  # parameter sets run on both stores
    compared_rows: int = 0  # source rows the answers were compared on
    mismatches: int = 0  # parameter sets whose answers differ
    too_large: int = 0  # parameter sets not compared: more than max_rows rows
    skipped: str | None = None  # why the pattern was not run at all
    differences: list[dict[str, Any]] = field(default_factory=list)  # the first ones

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["ok"] = self.ok
        return data


def _seed_fraction(seed: int, salt: str) -> float:
    """A `setseed` argument in [-1, 1] from the seed and a salt (stable across processes)."""
    return random.Random(f"{seed}:{salt}").uniform(-1.0, 1.0)


def sample_rows(conn: Any, model: ir.Model, entities: Sequence[str], n: int, seed: int) -> Dataset:
    """Up to `n` random source rows of each entity, the same ones for one seed and data."""
    data = Dataset({})
    for name in entities:
        queries = extraction_queries(model, name)
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT setseed(%(s)s)", {"s": _seed_fraction(seed, name)})
            cur.execute(queries.sample_sql(), {"limit": n})
            data.rows[name] = [dict(r) for r in cur.fetchall()]
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    return value


@dataclass
class _Answer:
    groups: list[list[RowRef]]
    rows: int
    complete: bool  # every row the comparison needs was read


def _source_answer(
    conn: Any,
    entity: ir.Entity,
    pattern: ir.AccessPattern,
    params: Mapping[str, Any],
    collate: str | None,
    max_rows: int,
) -> _Answer:
    """The pattern's rows of one entity in PostgreSQL, as tie groups in its order."""
    conditions = (*pattern.where, *pattern.filter)
    values = [oracle.condition_values(c, _type(entity, c.attribute), params) for c in conditions]
    by = oracle.sort_attribute(pattern)
    ordered = by is not None and entity.attribute(by) is not None
    columns = [*entity.key, *([by] if ordered and by is not None else [])]
    sql, binds = pattern_select(
        entity,
        dataclasses.replace(pattern, limit=None),  # read past the limit: ties at the cut
        values,
        order_by=by,
        nulls_first=oracle.nulls_first(pattern),
        collate=collate,
        columns=columns,
    )
    limit = pattern.limit
    groups: list[list[RowRef]] = []
    rows = 0
    last: Any = object()
    with conn.transaction(), conn.cursor(name="validate_pattern", row_factory=tuple_row) as cur:
        cur.execute(sql, binds)
        while True:
            batch = cur.fetchmany(FETCH)
            if not batch:
                return _Answer(groups, rows, True)
            for row in batch:
                values_ = [_plain(v) for v in row]
                ref = RowRef(entity.name, tuple(values_[: len(entity.key)]))
                value = values_[-1] if ordered else None
                if ordered and limit is not None and rows >= limit and value != last:
                    return _Answer(groups, rows, True)  # past the tie group the limit cuts
                if not groups or (ordered and value != last):
                    groups.append([])
                    last = value
                groups[-1].append(ref)
                rows += 1
                if rows >= max_rows:
                    return _Answer(groups, rows, not cur.fetchmany(1))


def _type(entity: ir.Entity, attribute: str) -> ir.TypeRef | None:
    a = entity.attribute(attribute)
    return a.type if a is not None else None


def _target_answer(
    api: Any,
    entities: Sequence[ir.Entity],
    method: PatternMethod,
    params: Mapping[str, Any],
    at_most: int,
) -> list[RowRef]:
    """The rows the generated client returns, in its order (at most `at_most`)."""
    kwargs = {method.args[p]: v for p, v in params.items() if p in method.args}
    by_name = {e.name: e for e in entities}
    single = entities[0].name
    pairs: Any
    if method.iter_method is None:  # GetItem
        row = getattr(api, method.method)(**kwargs)
        pairs = [] if row is None else [(single, row)]
    else:
        found = getattr(api, method.iter_method)(**kwargs)
        pairs = found if method.multi else ((single, r) for r in found)
    out = []
    for name, row in itertools.islice(pairs, at_most):
        e = by_name.get(name)
        key = (
            tuple(row.get(k) for k in e.key)
            if e is not None
            else (json.dumps(row, default=str, sort_keys=True),)
        )
        out.append(RowRef(name, key))
    return out


def _refs(refs: Sequence[RowRef]) -> list[str]:
    shown = [str(r) for r in refs[:MAX_REFS]]
    if len(refs) > MAX_REFS:
        shown.append(f"... {len(refs) - MAX_REFS} more")
    return shown


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(params), default=str))


def validate_patterns(
    model: ir.Model,
    layout: ir.Layout,
    conn: Any,
    api: Any,
    n: int,
    *,
    seed: int = 0,
    collate: str | None = None,
    max_rows: int = MAX_ROWS,
) -> list[PatternValidation]:
    """Every access pattern for `n` parameter sets drawn from the source's rows: the generated
    client (`api`: a `Client` over the target table) against the pattern's SQL on `conn`
    (a psycopg connection to the source, autocommit)."""
    methods = pattern_methods(layout, model)
    needed = sorted({e for p in model.patterns for e in p.entities if model.entity(e)})
    data = sample_rows(conn, model, needed, n, seed)
    out: list[PatternValidation] = []
    for pattern in model.patterns:
        result = PatternValidation(pattern.name, list(pattern.entities))
        out.append(result)
        plan = layout.plan(pattern.name)
        method = methods.get(pattern.name)
        if plan is None or method is None:
            result.skipped = "the layout has no plan for this pattern"
            continue
        result.index, result.operation = plan.index, plan.operation
        problem = pattern_sql_problem(model, pattern)
        if problem is not None:
            result.skipped = f"no SQL for it: {problem}"
            continue
        entities = [e for e in (model.entity(x) for x in pattern.entities) if e is not None]
        rng = random.Random(f"{seed}:{pattern.name}")
        for params in param_draw.draw(model, pattern, data, rng, n):
            _trial(pattern, method, entities, conn, api, params, collate, max_rows, result)
    return out


def _trial(
    pattern: ir.AccessPattern,
    method: PatternMethod,
    entities: Sequence[ir.Entity],
    conn: Any,
    api: Any,
    params: Mapping[str, Any],
    collate: str | None,
    max_rows: int,
    result: PatternValidation,
) -> None:
    expected = oracle.Expected(limit=pattern.limit)
    total = 0
    for entity in entities:
        answer = _source_answer(conn, entity, pattern, params, collate, max_rows)
        if not answer.complete:
            result.too_large += 1
            return
        expected.groups[entity.name] = answer.groups
        total += answer.rows
    result.tried += 1
    result.compared_rows += total
    difference: dict[str, Any] = {"params": _jsonable(params)}
    try:
        got = _target_answer(api, entities, method, params, expected.expected_count() + 50)
    except Exception as exc:  # the client's failure for values the source answers is a finding
        difference["error"] = f"{type(exc).__name__}: {exc}"
        got = None
    if got is not None:
        comparison = oracle.compare(expected, got)
        if comparison.ok:
            return
        difference.update(
            {
                "expected_rows": expected.expected_count(),
                "returned_rows": len(got),
                **({"missing": _refs(comparison.missing)} if comparison.missing else {}),
                **({"extra": _refs(comparison.extra)} if comparison.extra else {}),
                **({"duplicates": _refs(comparison.duplicates)} if comparison.duplicates else {}),
                **({"order": comparison.order[:MAX_REFS]} if comparison.order else {}),
                **({"count": comparison.count} if comparison.count else {}),
            }
        )
    result.mismatches += 1
    if len(result.differences) < MAX_DIFFERENCES:
        result.differences.append(difference)


def client_for(client_module: ModuleType, table: str, dynamodb: Any) -> Any:
    """The generated `Client` over `table`."""
    return client_module.Client(table, dynamodb)
