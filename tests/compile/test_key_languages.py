"""Type-aware collision checks (issue 13, item 4): a template renders only its slots' kinds.

A `datetime` slot always starts with a digit, so `{created_at}` never collides with the literal
`Join:`; two string slots still may. The property tests encode random values into random
templates: whenever `may_equal` / `may_prefix` says "no", no values make them equal / a prefix.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from modeling.compile import compile_model
from modeling.compile.key_languages import may_equal, may_prefix
from modeling.runtime import keys

from .builder import entity, model

MATCH = {"game_id": "string", "created_at": "datetime", "user": "string", "note": "string"}


def _game(sort_key: str) -> list[str]:
    m = model(
        "game",
        [
            entity(
                "Match",
                ["game_id", "created_at"],
                MATCH,
                keys={"table": {"pk": "GAME#{game_id}", "sk": sort_key}},
            ),
            entity(
                "Join",
                ["game_id", "user"],
                {"game_id": "string", "user": "string"},
                keys={"table": {"pk": "GAME#{game_id}", "sk": "Join:{user}"}},
            ),
        ],
        [],
    )
    _layout, bag = compile_model(m)
    return [d.code for d in bag.errors]


def test_a_datetime_slot_does_not_collide_with_a_literal() -> None:
    assert _game("{created_at}") == []  # reported as key-collision before


def test_a_string_slot_still_collides() -> None:
    # note = "Join:x" is Join x's key; and `{note}` lacks Match's key attribute created_at
    assert sorted(_game("{note}")) == ["key-collision", "key-not-identity"]


def test_examples() -> None:
    dt_kinds = {"d": "datetime"}
    assert not may_equal("{d}", "Join:{u}", dt_kinds, {"u": "string"})
    assert not may_equal("{s}", "X#{t}", {"s": "string"}, {"t": "string"})  # no bare # in a string
    assert may_equal("{s}", "X{t}", {"s": "string"}, {"t": "string"})
    assert not may_equal("A#{n}", "A#{d}", {"n": "integer"}, dt_kinds)  # widths differ
    assert may_equal("A#{n}", "A#{m}", {"n": "integer"}, {"m": "integer"})
    assert may_prefix("{b}", "truest", {"b": "boolean"}) and not may_equal(
        "{b}", "truest", {"b": "boolean"}
    )
    assert may_equal("{x}", "anything")  # a slot of unknown kind renders anything


# --------------------------------------------------------------------------- properties

KINDS = keys.KINDS
LITERAL = st.text(alphabet="AJoin:#-T.Z0129af$ xé", min_size=1, max_size=6)


def _value(kind: str) -> st.SearchStrategy[Any]:
    return {
        "string": st.text(max_size=8),
        "integer": st.integers(keys.INTEGER_MIN, keys.INTEGER_MAX),
        "decimal": st.decimals(min_value=-(10**6), max_value=10**6, places=3),
        "float": st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        "boolean": st.booleans(),
        "date": st.dates(),
        "datetime": st.datetimes(),
        "uuid": st.uuids(),
        "binary": st.binary(max_size=6),
    }[kind]


@st.composite
def templates(draw: st.DrawFn, names: str) -> tuple[str, dict[str, str]]:
    """A template of literal runs and slots (never touching), and its slot kinds."""
    parts: list[str] = []
    kinds: dict[str, str] = {}
    slot_next = draw(st.booleans())
    for i in range(draw(st.integers(1, 4))):
        if slot_next:
            name = f"{names}{i}"
            kinds[name] = draw(st.sampled_from(KINDS))
            parts.append("{" + name + "}")
        else:
            parts.append(draw(LITERAL))
        slot_next = not slot_next
    return "".join(parts), kinds


def _render(draw: st.DrawFn, template: str, kinds: dict[str, str]) -> str:
    encoded = {}
    for name, kind in kinds.items():
        value = draw(_value(kind))
        try:
            encoded[name] = keys.encode(kind, value)
        except keys.KeyEncodingError:
            assume(False)
    return keys.parse_template(template).render(encoded)


def _parses(key: str, template: str, kinds: dict[str, str]) -> bool:
    """Whether `key` is a rendering of `template`: parsed by each kind's shape and every slot
    text the canonical encoding of a value."""
    found = keys.parse_template(template).parse(key, kinds)
    if found is None:
        return False
    try:
        for name, text in found.items():
            keys.decode(kinds[name], text)
    except keys.KeyEncodingError:
        return False
    return True


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data(), templates("a"), templates("b"))
def test_no_collision_means_no_equal_keys(data: st.DataObject, t1: Any, t2: Any) -> None:
    (a, ka), (b, kb) = t1, t2
    equal, prefix = may_equal(a, b, ka, kb), may_prefix(a, b, ka, kb)
    assert equal <= prefix  # an equal key is a prefix too
    key_a, key_b = _render(data.draw, a, ka), _render(data.draw, b, kb)
    if not equal:
        assert key_a != key_b
        assert not _parses(key_a, b, kb) and not _parses(key_b, a, ka)
    if not prefix:
        assert not key_b.startswith(key_a)


@SETTINGS
@given(st.data(), templates("a"))
def test_a_rendering_always_may_collide_with_its_template(data: st.DataObject, t: Any) -> None:
    """Completeness on the keys that exist: a key rendered from `a`, taken as a constant
    template (braces cannot occur in encodings of the fixed kinds), may equal `a`."""
    a, ka = t
    key = _render(data.draw, a, ka)
    assume(key and "{" not in key and "}" not in key)
    assert may_equal(key, a, {}, ka)
    assert may_prefix(key[: len(key) // 2] or key, a, {}, ka)


def test_values_of_each_kind_fit_its_language() -> None:
    """Each kind's language holds its encodings, edge values included."""
    samples: dict[str, list[Any]] = {
        "integer": [keys.INTEGER_MIN, 0, keys.INTEGER_MAX],
        "decimal": [Decimal("-1e-130"), Decimal(0), Decimal("9.99e125")],
        "float": [-1.5, 0.0, 1e100],
        "boolean": [True, False],
        "date": [dt.date(1, 1, 1), dt.date(9999, 12, 31)],
        "datetime": [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)],
        "binary": [b"\x00\xff"],
        "string": ["a#b$c", "é\x00"],
    }
    for kind, values in samples.items():
        for v in values:
            assert may_equal(keys.encode(kind, v), "{x}", {}, {"x": kind}), (kind, v)


# --------------------------------------------------------------------------- fast paths (issue 18)
# `may_equal` / `may_prefix` / `may_start_with` answer most questions without automata (literal
# ends, a template against itself, constants) and build the automata in one linear pass. Both
# must give exactly the answers of the automata built as before.

from modeling.compile import key_languages as kl  # noqa: E402

# kinds with a language of their own, and kinds the languages do not know (they render anything)
ANY_KIND = st.sampled_from([*KINDS, "json", ""])
# short literals that meet often: separators, `$` (the escape), digits, hex, `-`, `:` ...
SHORT = st.text(alphabet="A#$-:T.Z019aft", min_size=1, max_size=3)


@st.composite
def related(draw: st.DrawFn) -> tuple[str, dict[str, str], str, dict[str, str]]:
    """Two templates that often share literals, slot names and kinds (so the fast paths and
    the automata both get work): empty literals at either end, one-character literals
    between slots, constants, slots of every kind and of unknown kinds, missing kinds."""

    def one(names: list[str]) -> tuple[str, dict[str, str]]:
        parts: list[str] = []
        kinds: dict[str, str] = {}
        slot_next = draw(st.booleans())
        for _ in range(draw(st.integers(1, 5))):
            if slot_next:
                name = draw(st.sampled_from(names))
                if "{" + name + "}" in "".join(parts):
                    name = f"{name}_{len(parts)}"
                if draw(st.integers(0, 9)):  # sometimes no kind at all: renders anything
                    kinds[name] = draw(ANY_KIND)
                parts.append("{" + name + "}")
            else:
                parts.append(draw(SHORT))
            slot_next = not slot_next
        return "".join(parts), kinds

    names = ["x", "y", "z"]
    t1, k1 = one(names)
    how = draw(st.integers(0, 3))
    if how == 0:
        t2, k2 = t1, dict(k1)  # itself
    elif how == 1:  # itself, each slot's kind redrawn (or dropped)
        t2, k2 = t1, {n: draw(ANY_KIND) for n in k1 if draw(st.booleans())}
    else:
        t2, k2 = one(names)
    return t1, k1, t2, k2


def _automaton_before(template: str, kinds: dict[str, str]) -> kl.Automaton:
    """The automaton as it was built before the linear pass (empty moves, then closures)."""
    kind_of = dict(kinds)
    edges: list[list[tuple[kl.CharSet, int]]] = [[]]
    eps: dict[int, set[int]] = {}

    def new() -> int:
        edges.append([])
        return len(edges) - 1

    def chain(start: int, seq: tuple[kl.CharSet, ...], end: int) -> None:
        at = start
        for i, cs in enumerate(seq):
            nxt = end if i == len(seq) - 1 else new()
            edges[at].append((cs, nxt))
            at = nxt
        if not seq:
            eps.setdefault(start, set()).add(end)

    def closure(state: int) -> set[int]:
        seen, todo = {state}, [state]
        while todo:
            for nxt in eps.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    at = 0
    for part in keys.parse_template(template).parts:
        end = new()
        if isinstance(part, keys.Text):
            chain(at, tuple(kl.CharSet(frozenset(c)) for c in part.text), end)
        else:
            kind = kind_of.get(part.attribute)
            if kind in kl.FIXED:
                for seq in kl.FIXED[kind]:
                    chain(at, seq, end)
            else:
                edges[at].append((kl.REPEATED.get(kind or "", kl.ANY), at))
                eps.setdefault(at, set()).add(end)
        at = end
    closures = {s: closure(s) for s in range(len(edges))}
    flat = tuple(tuple(e for c in sorted(closures[s]) for e in edges[c]) for s in range(len(edges)))
    return kl.Automaton(flat, frozenset(s for s in range(len(edges)) if at in closures[s]))


FAST = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(related())
def test_fast_paths_answer_as_the_automata(pair: Any) -> None:
    t1, k1, t2, k2 = pair
    assert may_equal(t1, t2, k1, k2) == kl.may_equal_by_automata(t1, t2, k1, k2)
    assert may_prefix(t1, t2, k1, k2) == kl.may_prefix_by_automata(t1, t2, k1, k2)
    assert may_equal(t2, t1, k2, k1) == kl.may_equal_by_automata(t2, t1, k2, k1)
    assert may_prefix(t2, t1, k2, k1) == kl.may_prefix_by_automata(t2, t1, k2, k1)


@FAST
@given(related(), st.frozensets(st.sampled_from("A#$-:0129afzT!~é"), max_size=5))
def test_start_and_automaton_as_before(pair: Any, chars: frozenset[str]) -> None:
    t1, k1, _t2, _k2 = pair
    assert kl.automaton(t1, k1) == _automaton_before(t1, k1)
    start = kl.may_start_with(t1, chars, k1)
    assert start == kl.may_start_with_by_automaton(t1, chars, k1)


def test_fast_path_examples() -> None:
    integer, string = {"n": "integer"}, {"n": "string"}
    assert may_equal("A#{n}", "A#{n}", integer, integer)  # itself
    assert not may_equal("A#{n}", "A#{n}", integer, {"n": "datetime"})  # 20 digits vs a date
    assert may_equal("A#{n}", "A#{n}", integer, {"n": "decimal"}) is False  # widths 20 / 42
    assert not may_equal("A#{n}", "B#{n}", string, string)  # prefixes differ
    assert not may_equal("{n}#A", "{n}#B", string, string)  # suffixes differ
    assert not may_equal("{n}#A", "{n}A", string, string)  # the automata: no bare `#` in a string
    assert may_equal("{n}#A", "{n}A")  # the same, any text in the slot
    assert not may_equal("AB", "A") and may_prefix("A", "AB") and not may_prefix("AB", "A")
    assert may_prefix("A#{n}", "A#{n}", string, string)
    assert may_start_with_case("T#{n}", "T") and not may_start_with_case("T#{n}", "0")


def may_start_with_case(template: str, chars: str) -> bool:
    return kl.may_start_with(template, frozenset(chars), {"n": "integer"})
