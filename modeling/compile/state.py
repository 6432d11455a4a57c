"""The working state the derivation passes hand to each other (internal to `modeling.compile`).

Each pass is a pure function `(Model, Derivation) -> Derivation`; the final pass builds the
`ir.Layout`. Keeping the intermediate shapes here (requirements, placements) lets every pass
be tested on its own with small fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from modeling.core import ir
from modeling.core.diagnostics import Diagnostic

TABLE = "table"


@dataclass(frozen=True)
class Requirement:
    """What one access pattern demands of one entity's key on the index that serves it.

    `eq` are the attributes bound by equality, `range` the range attribute. A placement
    (pk slots P, sk slots Q) fits when P ⊆ eq, the first |eq - P| sk slots are exactly
    eq - P, and `range` (if any) is the sk slot right after them. `fixed_pk` (item
    collections) forces P: every member of a collection shares one partition template.
    `collection`: the pattern reads the entity by type prefix only (sk slots are free).
    """

    pattern: str
    entity: str
    eq: frozenset[str]
    range: str | None = None
    fixed_pk: tuple[str, ...] | None = None
    owner: str | None = None  # entity whose type prefix names the partition
    collection: bool = False
    # `range` comes from `order_by` alone: the pattern orders by it but does not constrain it,
    # so its NULL rows must come back (placed high or low in key order, `nulls_high`)
    order_only: bool = False
    nulls_high: bool = True


@dataclass(frozen=True)
class Unit:
    """One access pattern's demands, which must all be served by one index."""

    pattern: str
    requirements: tuple[Requirement, ...]
    root: str | None = None  # collection root, for multi-entity reads

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(r.entity for r in self.requirements)


@dataclass(frozen=True)
class Placement:
    """One entity's key on one index: pk slots, sk slots, and the pk's owner prefix."""

    entity: str
    index: str
    owner: str
    pk: tuple[str, ...]
    sk: tuple[str, ...]
    pinned: ir.PinnedKey | None = None  # the architect's template, used verbatim
    patterns: tuple[str, ...] = ()
    # optional slots written as the NULL sentinel instead of leaving the item out: slot -> high
    null_fill: tuple[tuple[str, bool], ...] = ()
    # `pinned` holds the previous layout's templates (`Derivation.previous`), not the model's:
    # used verbatim like a pin, yet a derived key (checked strictly, never reported as pinned)
    inherited: bool = False


@dataclass(frozen=True)
class SearchStats:
    """What the index assignment spent, so tests and benches can see it without timing.

    `lookups` are placement look-ups (what the budget counts), `solves` the `solve()` calls
    behind them (look-ups the cache could not answer). `lower_bound` is the number of indexes
    every assignment needs (a set of patterns that pairwise cannot share an index);
    `exhausted` is True when the improving search stopped at its budget before it had either
    reached that bound or tried every assignment, i.e. the result is not proven minimal.
    """

    lookups: int = 0
    solves: int = 0
    first_fit: int = 0  # indexes (table, LSIs, GSIs) the first-fit assignment uses
    lower_bound: int = 0
    indexes: int = 0  # indexes of the chosen assignment
    searched: bool = False  # the improving search ran
    exhausted: bool = False


@dataclass(frozen=True)
class Derivation:
    prefixes: dict[str, str] = field(default_factory=dict)  # entity -> type prefix
    units: tuple[Unit, ...] = ()
    assignment: dict[str, str] = field(default_factory=dict)  # pattern -> index name
    placements: tuple[Placement, ...] = ()
    index_names: tuple[str, ...] = (TABLE,)  # table, GSI1.., LSI1..
    parent_first: dict[tuple[str, str], str] = field(
        default_factory=dict
    )  # (index, root) -> asc|desc
    indexes: tuple[ir.Index, ...] = ()
    entity_layouts: tuple[ir.EntityLayout, ...] = ()
    plans: tuple[ir.PatternPlan, ...] = ()
    copies: tuple[ir.CopyItems, ...] = ()  # GSIs replaced by relationship copies
    diagnostics: tuple[Diagnostic, ...] = ()
    search: SearchStats = field(default_factory=SearchStats)
    # the previously compiled layout (the lock): the assignment keeps its index names and key
    # templates where they still serve patterns (`modeling.compile.assign`, stable assignment)
    previous: ir.Layout | None = None

    def with_diagnostics(self, *more: Diagnostic) -> Derivation:
        return replace(self, diagnostics=self.diagnostics + tuple(more))

    def placement(self, entity: str, index: str) -> Placement | None:
        for p in self.placements:
            if p.entity == entity and p.index == index:
                return p
        return None
