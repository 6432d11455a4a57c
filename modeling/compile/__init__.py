"""The compiler: derive the single-table layout from a model, then check it.

    compile_model(model) -> (Layout | None, Diagnostics)

PASSES are small pure steps `(Model, Derivation) -> Derivation`, one module each, run in
order; CHECKS are functions `(Layout, Model) -> Iterator[Diagnostic]`, one subject each, all
run and reported together. The layout is returned only when no ERROR stands; its warnings
and infos travel inside it as `DiagnosticRecord`s.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence

from modeling.compile import checks
from modeling.compile.assign import assign_indexes
from modeling.compile.attribute_keys import (
    check_attribute_key_conditions,
    check_attribute_key_identity,
    key_on_attributes,
)
from modeling.compile.entity_keys import build_keys
from modeling.compile.key_conditions import check_key_conditions
from modeling.compile.lsis import derive_lsis
from modeling.compile.names import assign_prefixes
from modeling.compile.plans import build_plans
from modeling.compile.requirements import collect_units
from modeling.compile.sharding import shard_partitions
from modeling.compile.state import Derivation
from modeling.compile.strategy import build_copies, check_index_strategy
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Diagnostics, Severity, Span

Pass = Callable[[ir.Model, Derivation], Derivation]
Check = Callable[[ir.Layout, ir.Model], Iterator[Diagnostic]]

PASSES: tuple[Pass, ...] = (
    assign_prefixes,
    collect_units,
    assign_indexes,
    build_keys,
    derive_lsis,
    build_plans,
    shard_partitions,
    build_copies,  # a GSI replaced by copies (strategy: lowest_cost) is gone before
    key_on_attributes,  # the remaining GSIs may be keyed on attributes
)

CHECKS: tuple[Check, ...] = (
    checks.check_every_pattern_planned,
    checks.check_plan_bindings,
    checks.check_index_counts,
    checks.check_key_lengths,
    checks.check_prefix_disjointness,
    checks.check_hot_partitions,
    checks.check_write_rates,
    checks.check_unsharded_hot_partitions,
    checks.check_number_bounds,
    checks.check_item_sizes,
    checks.check_filters,
    checks.check_key_shapes,
    checks.check_lsi_partition_keys,
    checks.check_identity,
    checks.check_mutable_table_keys,
    checks.check_identity_addressing,
    checks.check_read_amplification,
    checks.check_collation,
    checks.check_enum_order,
    check_key_conditions,
    check_attribute_key_conditions,
    check_attribute_key_identity,
    check_index_strategy,
)


def derive(model: ir.Model, previous: ir.Layout | None = None) -> Derivation:
    state = Derivation(previous=previous)
    for step in PASSES:
        state = step(model, state)
    return state


def _record(d: Diagnostic) -> ir.DiagnosticRecord:
    return ir.DiagnosticRecord(
        d.code, d.severity.value, d.message, d.subject, d.hint, str(d.span) if d.span else None
    )


def compile_model(
    model: ir.Model, previous: ir.Layout | None = None
) -> tuple[ir.Layout | None, Diagnostics]:
    """Derive and check the layout; None when any ERROR diagnostic stands.

    `previous`: the layout compiled before (the lock, `generated/<model>/layout.json`). Its
    index names and key templates are kept where they still serve patterns (the stable
    assignment, `modeling.compile.assign.assign_stable`). The rule, so the output stays a
    function of (model, previous layout):

    - when a fresh compile keeps every key of the previous layout anyway (same indexes, same
      templates, same plans' indexes: the model did not change its needs), its result stands,
      byte for byte what a compile without `previous` gives;
    - else the stable layout stands, with an info (`stable-more-gsis`) when it needs more
      GSIs than the fresh one would;
    - when the stable layout fails a check the fresh one passes, the fresh one stands, with a
      warning (`previous-layout-not-kept`) naming the check.
    """
    with _no_cycle_collection():
        return _compile(model, previous)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while compiling (then restored as it was): the
    passes allocate hundreds of thousands of small acyclic objects (freed by reference
    counting), and each collection the allocations trigger walks the whole heap, the loaded
    model included: a quarter of the CPU of a 5,000-entity compile. Output is unchanged."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _compile(model: ir.Model, previous: ir.Layout | None) -> tuple[ir.Layout | None, Diagnostics]:
    fresh = derive(model)
    if previous is None:
        return _checked(model, fresh)
    stable = derive(model, previous)
    if _design(stable) == _design(fresh):
        return _checked(model, fresh)
    extra: list[Diagnostic] = []
    more = _gsi_count(stable) - _gsi_count(fresh)
    if more > 0:
        extra.append(
            Diagnostic(
                "stable-more-gsis",
                Severity.INFO,
                f"keeping the previous layout's indexes needs {_gsi_count(stable)} GSI(s); "
                f"a fresh assignment would need {_gsi_count(fresh)}, but it renumbers or "
                "re-keys indexes a live table already has",
                Span(model.file) if model.file else None,
                "compile with `--fresh` to ignore the previous layout (then `model diff` lists "
                "the GSIs to rebuild), or keep the extra GSI(s)",
                model.name,
            )
        )
    layout, bag = _checked(model, stable, extra)
    if layout is not None:
        return layout, bag
    fallback, _bag = _checked(model, fresh)
    if fallback is None:
        return layout, bag
    first = bag.errors[0]
    return _checked(
        model,
        fresh,
        [
            Diagnostic(
                "previous-layout-not-kept",
                Severity.WARNING,
                "the previous layout's indexes could not be kept: with them, "
                f"{first.message} [{first.code}]; the layout is assigned afresh (indexes may be "
                "renumbered: `model diff` lists what a live table needs)",
                Span(model.file) if model.file else None,
                "check the runbook of `model diff` before deploying, or pin the keys to keep "
                "in the model (`keys:`)",
                model.name,
            )
        ],
    )


def _design(state: Derivation) -> tuple[object, ...]:
    """What a layout writes and where each pattern reads: index names and kinds, every
    entity's key templates, each plan's index (and copy)."""
    return (
        tuple((i.name, i.kind) for i in state.indexes),
        tuple(
            (el.entity, tuple((k.index, k.pk, k.sk) for k in el.keys))
            for el in state.entity_layouts
        ),
        tuple((p.pattern, p.index, p.copy) for p in state.plans),
        tuple((c.name, c.entity, c.pk, c.sk) for c in state.copies),
    )


def _gsi_count(state: Derivation) -> int:
    return sum(i.kind == "gsi" for i in state.indexes)


def _checked(
    model: ir.Model, state: Derivation, extra: Sequence[Diagnostic] = ()
) -> tuple[ir.Layout | None, Diagnostics]:
    """Run the checks on a derivation: the layout (None when an ERROR stands) and every
    diagnostic, the passes', the checks' and `extra`."""
    bag = Diagnostics()
    bag.extend(state.diagnostics)
    bag.extend(extra)
    layout = ir.Layout(
        model=model.name,
        table_name=model.table.name,
        indexes=state.indexes,
        entities=state.entity_layouts,
        plans=state.plans,
        copies=state.copies,
    )
    refused = {d.subject for d in bag.errors}
    for check in CHECKS:
        # a pattern refused by a pass already has its error (with the reason); the
        # "no plan" safety net only speaks for patterns that vanished silently
        bag.extend(
            d
            for d in check(layout, model)
            if not (d.code == "unservable-pattern" and d.subject in refused)
        )
    if bag.has_errors():
        return None, bag
    records = tuple(_record(d) for d in bag.sorted() if d.severity is not Severity.ERROR)
    return ir.Layout(
        model=layout.model,
        table_name=layout.table_name,
        indexes=layout.indexes,
        entities=layout.entities,
        plans=layout.plans,
        diagnostics=records,
        copies=layout.copies,
    ), bag
