"""Pass 2: turn every access pattern into a `Unit` of key requirements, or an error.

A single-entity pattern asks for a key on its entity where the equality attributes bind the
partition key (and possibly leading sort-key slots) and the range attribute is the next sort
key slot. A multi-entity pattern (`entities: [...]`) asks for an item collection: every
member shares one partition template, owned by the members' closest common ancestor.

Patterns that no key can serve are refused here with the reason and what would serve them.
"""

from __future__ import annotations

from dataclasses import replace

from modeling.compile.state import Derivation, Requirement, Unit
from modeling.core import ir, limits
from modeling.core.diagnostics import Diagnostic, Severity


def ancestors(model: ir.Model, name: str) -> list[str]:
    """`name` and its parents up to the root (stops on cycles, which the loader reports)."""
    chain: list[str] = []
    current: str | None = name
    while current is not None and current not in chain:
        chain.append(current)
        entity = model.entity(current)
        current = entity.parent if entity else None
    return chain


def common_ancestor(model: ir.Model, names: tuple[str, ...]) -> str | None:
    """The closest entity that is an ancestor of (or equal to) every name, else None."""
    chains = [ancestors(model, n) for n in names]
    for candidate in chains[0]:
        if all(candidate in c for c in chains[1:]):
            return candidate
    return None


def ordered_slots(model: ir.Model, owner: str, attrs: frozenset[str]) -> tuple[str, ...]:
    """Canonical slot order: the owner's key attributes in key order, then by name."""
    entity = model.entity(owner)
    key = entity.key if entity else ()
    first = [a for a in key if a in attrs]
    return (*first, *sorted(attrs - set(first)))


def _error(code: str, pattern: ir.AccessPattern, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, pattern.span, hint, pattern.name)


def _check_attributes(model: ir.Model, pattern: ir.AccessPattern) -> Diagnostic | None:
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None:
            return _error(
                "unknown-entity",
                pattern,
                f"pattern {pattern.name!r} reads unknown entity {name!r}",
                "declare the entity under `entities:`",
            )
        for cond in pattern.where:
            attr = entity.attribute(cond.attribute)
            if attr is None:
                return _error(
                    "unknown-attribute",
                    pattern,
                    f"pattern {pattern.name!r}: entity {name} has no attribute {cond.attribute!r}",
                    "every entity a pattern reads must carry each `where` attribute",
                )
            if not attr.type.keyable:
                return _error(
                    "unkeyable-type",
                    pattern,
                    f"pattern {pattern.name!r}: {name}.{cond.attribute} is {attr.type}, "
                    "which cannot be part of a key",
                    "move the condition to `filter:` (read cost applies) or key on a scalar attribute",
                )
    return None


def pattern_unit(model: ir.Model, pattern: ir.AccessPattern) -> Unit | Diagnostic:
    """The key requirements of one pattern, or the error that says why none can serve it."""
    if not pattern.entities:
        return _error(
            "unservable-pattern",
            pattern,
            f"pattern {pattern.name!r} names no entity",
            "use `entity:` or `entities:`",
        )
    problem = _check_attributes(model, pattern)
    if problem is not None:
        return problem
    ranges = [c for c in pattern.where if c.is_range]
    if len(ranges) > 1:
        names = ", ".join(c.attribute for c in ranges)
        return _error(
            "unservable-pattern",
            pattern,
            f"pattern {pattern.name!r} has range conditions on {names}; a sort key orders by one",
            f"keep one range (e.g. on {ranges[0].attribute}) and move the others to `filter:`, "
            "or turn all but one into equality conditions",
        )
    eq = frozenset(c.attribute for c in pattern.where if not c.is_range)
    # `order_by` without a range condition still needs that attribute as the next sk slot
    rng = ranges[0].attribute if ranges else pattern.order_by
    if rng is not None and rng in eq:
        rng = None  # ordering by an attribute fixed by `=` is no ordering at all
    if len(pattern.entities) == 1:
        name = pattern.entities[0]
        if not eq and not ranges:
            return _error(
                "unservable-pattern",
                pattern,
                f"pattern {pattern.name!r} has no key condition: it would scan the whole table",
                "add an equality condition on an attribute that partitions the data "
                f"(e.g. a key of {name}), or a range condition to read a constant partition",
            )
        order_only = rng is not None and not ranges
        nulls_high = pattern.nulls_high
        if not eq:  # range only: a constant partition (warned about)
            return Unit(
                pattern.name,
                (
                    Requirement(
                        pattern.name,
                        name,
                        eq,
                        rng,
                        fixed_pk=(),
                        owner=name,
                        order_only=order_only,
                        nulls_high=nulls_high,
                    ),
                ),
            )
        return Unit(
            pattern.name,
            (
                Requirement(
                    pattern.name, name, eq, rng, order_only=order_only, nulls_high=nulls_high
                ),
            ),
        )
    root = common_ancestor(model, pattern.entities)
    if root is None:
        return _error(
            "unservable-pattern",
            pattern,
            f"pattern {pattern.name!r} reads {', '.join(pattern.entities)}, which share no "
            "common parent: they cannot form one item collection",
            "declare `parent:` so the entities form one family, or split the pattern",
        )
    if ranges:
        return _error(
            "unservable-pattern",
            pattern,
            f"pattern {pattern.name!r} reads an item collection with a range on {rng}; "
            "entity types of one collection are ordered by type prefix, not by one attribute",
            "split it: one pattern for the collection, one single-entity pattern with the range",
        )
    if not eq:
        return _error(
            "unservable-pattern",
            pattern,
            f"pattern {pattern.name!r} reads an item collection without an equality condition",
            f"add an equality condition on the key of {root}",
        )
    pk = ordered_slots(model, root, eq)
    reqs = tuple(
        Requirement(pattern.name, name, eq, None, fixed_pk=pk, owner=root, collection=True)
        for name in sorted(set(pattern.entities))
    )
    return Unit(pattern.name, reqs, root=root)


def collect_units(model: ir.Model, state: Derivation) -> Derivation:
    units: list[Unit] = []
    diagnostics: list[Diagnostic] = []
    for pattern in sorted(model.patterns, key=lambda p: p.name):
        result = pattern_unit(model, pattern)
        if isinstance(result, Diagnostic):
            diagnostics.append(result)
        else:
            units.append(result)
            req = result.requirements[0]
            if req.fixed_pk == ():
                diagnostics.append(
                    Diagnostic(
                        "constant-partition",
                        Severity.WARNING,
                        f"pattern {pattern.name!r} has only a range condition: every "
                        f"{req.entity} is written to one constant partition, a hot partition "
                        f"({limits.PARTITION_WCU:,} WCU / {limits.PARTITION_RCU:,} RCU per partition)",
                        pattern.span,
                        "add an equality condition, or shard the partition "
                        "(write to N suffixed partitions and query each)",
                        pattern.name,
                    )
                )
    return replace(state, units=tuple(units), diagnostics=state.diagnostics + tuple(diagnostics))
