"""The index assignment's search: it finishes on the example models, and it finds the minimum.

Counters, not timing: `Derivation.search` (a `SearchStats`) says how many placement look-ups
and `solve()` calls the assignment spent and whether the budget cut the search short.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeling.api import load_model
from modeling.compile import assign, derive
from modeling.compile.assign import SEARCH_BUDGET, TABLE, solve
from modeling.compile.names import assign_prefixes
from modeling.compile.requirements import collect_units
from modeling.compile.state import Derivation, Requirement
from modeling.core import ir

from .builder import entity, model, pattern
from .designs import DESIGNS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "models").glob("*.yaml"))


def _examples() -> list[tuple[str, ir.Model]]:
    with contextlib.chdir(ROOT):
        cases = [(p.stem, load_model(p.relative_to(ROOT))) for p in EXAMPLES]
    return cases + [(f"design-{n}", f()[0]) for n, f in sorted(DESIGNS.items())]


@pytest.mark.parametrize(("name", "m"), _examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_example_models_do_not_exhaust_the_search_budget(name: str, m: ir.Model) -> None:
    stats = derive(m).search
    assert not stats.exhausted
    assert stats.lookups < SEARCH_BUDGET, stats
    # the layout's index count is proven minimal: it meets the lower bound
    assert stats.indexes == stats.lower_bound, stats


def test_catalog_first_fit_meets_the_bound_so_no_search_runs() -> None:
    """models/catalog.yaml made ~20,000 solve() calls (the whole budget) before: Product alone
    has six patterns that pairwise share no key shape (get_product by product_id, by slug,
    brand_id + created_at, brand_id + slug prefix, category_id + status + created_at,
    category_id + status + title), so six indexes is the least, which first fit already has."""
    with contextlib.chdir(ROOT):
        m = load_model(Path("models/catalog.yaml"))
    stats = derive(m).search
    assert (stats.first_fit, stats.lower_bound, stats.searched) == (6, 6, False)
    assert stats.solves < 100, stats


def _improvable() -> ir.Model:
    """First fit spends 4 GSIs on these; 3 serve them (found by a random search of models).
    The x's are immutable, so the table key may hold them as well as the identity."""
    fixed = {"type": "string", "immutable": True}
    attrs = {"id0": "string", "x0": fixed, "x1": fixed, "x2": fixed}
    return model(
        "improvable",
        [entity("E0", ["id0"], attrs)],  # type: ignore[arg-type]
        [
            pattern("p0", "E0", {"x0": "=", "id0": "=", "x2": "=", "x1": "begins_with"}, "desc"),
            pattern("p1", "E0", {"x1": "=", "x0": "=", "x2": "=", "id0": ">="}),
            pattern("p2", "E0", {"x0": "=", "x1": "="}),
            pattern("p3", "E0", {"id0": "="}, "desc"),
            pattern("p4", "E0", {"x2": "=", "id0": "<"}),
            pattern("p5", "E0", {"id0": "=", "x1": "<"}),
            pattern("p6", "E0", {"x0": "=", "id0": "=", "x1": "begins_with"}),
        ],
    )


def _set_partitions(items: list[str]) -> Iterator[list[list[str]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _set_partitions(rest):
        yield [[first], *partition]
        for n in range(len(partition)):
            yield [*partition[:n], [first, *partition[n]], *partition[n + 1 :]]


def _brute_force_minimum(m: ir.Model) -> int:
    """Fewest indexes over every grouping of the patterns (single-entity, unpinned models),
    each group on the table or on its own GSI, checked with `solve` alone."""
    state = collect_units(m, assign_prefixes(m, Derivation()))
    reqs = {u.pattern: u.requirements[0] for u in state.units}
    entities = [e.name for e in m.entities]

    def serves(index: str, group: list[str]) -> bool:
        by_entity: dict[str, list[Requirement]] = {}
        for p in group:
            by_entity.setdefault(reqs[p].entity, []).append(reqs[p])
        if index == TABLE:  # every entity needs a table key, even one no pattern reads there
            return all(solve(m, e, TABLE, by_entity.get(e, [])) is not None for e in entities)
        return all(solve(m, e, "GSI1", rs) is not None for e, rs in by_entity.items())

    best = len(reqs) + 1
    for partition in _set_partitions(sorted(reqs)):
        for on_table in [None, *range(len(partition))]:
            gsis = [g for n, g in enumerate(partition) if n != on_table]
            table = partition[on_table] if on_table is not None else []
            if (
                1 + len(gsis) < best
                and serves(TABLE, table)
                and all(serves("GSI1", g) for g in gsis)
            ):
                best = 1 + len(gsis)
    return best


def test_search_improves_on_first_fit_and_reaches_the_brute_force_minimum() -> None:
    m = _improvable()
    state = derive(m)
    stats = state.search
    assert stats.first_fit == 5 and stats.searched and not stats.exhausted
    assert stats.indexes == len(state.index_names) == _brute_force_minimum(m) == 4
    assert stats.solves < stats.lookups  # the memo answers repeated look-ups


def _random_model(rng: random.Random, n: int) -> ir.Model:
    names = ["id", "a", "b", "c"]
    attrs = {"id": "string", "a": "string", "b": "integer", "c": "string"}
    patterns = []
    for p in range(rng.randint(2, 6)):
        eq = rng.sample(names, rng.randint(1, 3))
        where = dict.fromkeys(eq, "=")
        rest = [a for a in names if a not in eq]
        if rest and rng.random() < 0.6:
            where[rng.choice(rest)] = rng.choice([">=", "<", "between", "begins_with"])
        patterns.append(pattern(f"p{p}", "E", where))
    return model(f"random{n}", [entity("E", ["id"], attrs)], patterns)  # type: ignore[arg-type]


def test_search_matches_brute_force_on_random_models() -> None:
    rng = random.Random(6)  # a seed under which first fit is beaten twice in 25 models
    improved = 0
    for n in range(25):
        m = _random_model(rng, n)
        state = derive(m)
        assert not state.search.exhausted
        assert len(state.index_names) == _brute_force_minimum(m), m.patterns
        improved += state.search.first_fit > state.search.indexes
    assert improved >= 1  # the search itself, not only first fit, is under test


def test_a_zero_budget_is_reported_as_exhausted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assign, "SEARCH_BUDGET", 0)
    stats = derive(_improvable()).search
    assert stats.searched and stats.exhausted
    assert stats.indexes == stats.first_fit == 5  # first fit stands, still a valid layout


def test_groups_without_a_common_entity_are_searched_apart() -> None:
    m = _two_families()
    units = sorted(
        collect_units(m, assign_prefixes(m, Derivation())).units, key=lambda u: u.pattern
    )
    groups = [[u.pattern for u in g] for g in assign.components(units)]
    # `page` reads A and C, so it joins A's lookups; B shares no entity with them
    assert groups == [["a_by_x", "a_by_y", "page"], ["b_by_z"]]


def _two_families() -> ir.Model:
    return model(
        "families",
        [
            entity("A", ["a_id"], {"a_id": "string", "x": "string", "y": "string"}),
            entity("C", ["a_id", "c_id"], {"a_id": "string", "c_id": "string"}, parent="A"),
            entity("B", ["b_id"], {"b_id": "string", "z": "string"}),
        ],
        [
            pattern("a_by_x", "A", {"x": "="}),
            pattern("a_by_y", "A", {"y": "="}),
            pattern("page", ["A", "C"], {"a_id": "="}),
            pattern("b_by_z", "B", {"z": "="}),
        ],
    )
