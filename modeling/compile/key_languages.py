"""Which strings a key template can render, given each slot's kind: for collision checks.

Each slot kind's encoding (`modeling.runtime.keys`) is a small regular language: a datetime is
always `DDDD-DD-DDTDD:DD:DD.DDDDDDZ` (it starts with a digit), an integer 20 digits, a uuid
lower-case hex and `-` at fixed places, a string any text without a bare `#` or control
characters (they are escaped as `$XX`), and so on. A template is its literal text and its
slots' languages in order. Two templates can render the same key exactly when their languages
intersect; one can render a prefix of the other's key when its language meets the other's
prefixes. Both questions are answered on the product of two small automata.

The languages here are supersets of the codec's (a date's month is any two digits, a string
char any char above `#`), so "cannot coincide" is a proof and "may coincide" may be a false
alarm only where the codec is narrower than its description here. A slot of unknown kind
renders anything.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass

from modeling.runtime import keys


@dataclass(frozen=True)
class CharSet:
    """A set of characters: `chars`, or (negated) every character but `chars`."""

    chars: frozenset[str]
    negated: bool = False

    def meets(self, other: CharSet) -> bool:
        if self.negated and other.negated:
            return True  # two co-finite sets of an infinite alphabet
        if self.negated:
            return bool(other.chars - self.chars)
        if other.negated:
            return bool(self.chars - other.chars)
        return bool(self.chars & other.chars)


def _set(chars: str) -> CharSet:
    return CharSet(frozenset(chars))


DIGIT = _set(string.digits)
HEX = _set("0123456789abcdef")
# An encoded string char: never a control char, space, `!`, `"` or `#` (escaped as `$XX`).
STRING_CHAR = CharSet(frozenset(chr(c) for c in range(ord(keys.SEPARATOR) + 1)), negated=True)
ANY = CharSet(frozenset(), negated=True)


def _literal(text: str) -> tuple[CharSet, ...]:
    return tuple(_set(c) for c in text)


def _shape(spec: str) -> tuple[CharSet, ...]:
    """`D` a digit, `H` a hex digit, anything else itself."""
    return tuple(DIGIT if c == "D" else HEX if c == "H" else _set(c) for c in spec)


# A kind's language: alternatives of fixed sequences, or (None, char) for `char*`.
FIXED: dict[str, tuple[tuple[CharSet, ...], ...]] = {
    "integer": (_shape("D" * 20),),
    "decimal": ((_set("012"), *_shape("D" * 41)),),
    "float": ((_set("012"), *_shape("D" * 41)),),
    "boolean": (_literal("false"), _literal("true")),
    "date": (_shape("DDDD-DD-DD"),),
    "datetime": (_shape("DDDD-DD-DDTDD:DD:DD.DDDDDDZ"),),
    "uuid": (_shape("HHHHHHHH-HHHH-HHHH-HHHH-HHHHHHHHHHHH"),),
}
REPEATED: dict[str, CharSet] = {"string": STRING_CHAR, "binary": HEX}


# --------------------------------------------------------------------------- automata

# state -> [(charset, next state)]; state 0 starts.
_Edges = tuple[tuple[tuple[CharSet, int], ...], ...]


@dataclass(frozen=True)
class Automaton:
    edges: _Edges
    accepting: frozenset[int]


def automaton(template: str, kinds: Mapping[str, str] | None = None) -> Automaton:
    """The automaton of every key `template` can render (slot kinds from `kinds`)."""
    return _automaton(template, tuple(sorted((kinds or {}).items())))


@functools.lru_cache(maxsize=4096)
def _automaton(template: str, kinds: tuple[tuple[str, str], ...]) -> Automaton:
    kind_of = dict(kinds)
    edges: list[list[tuple[CharSet, int]]] = [[]]
    eps: dict[int, set[int]] = {}

    def new() -> int:
        edges.append([])
        return len(edges) - 1

    def chain(start: int, seq: tuple[CharSet, ...], end: int) -> None:
        at = start
        for i, cs in enumerate(seq):
            nxt = end if i == len(seq) - 1 else new()
            edges[at].append((cs, nxt))
            at = nxt
        if not seq:
            eps.setdefault(start, set()).add(end)

    at = 0
    for part in keys.parse_template(template).parts:
        end = new()
        if isinstance(part, keys.Text):
            chain(at, _literal(part.text), end)
        else:
            kind = kind_of.get(part.attribute)
            if kind in FIXED:
                for seq in FIXED[kind]:
                    chain(at, seq, end)
            else:
                loop = REPEATED.get(kind or "", ANY)
                edges[at].append((loop, at))
                eps.setdefault(at, set()).add(end)
        at = end
    # remove empty moves: a state takes the edges (and the acceptance) of its closure
    closure = {s: _closure(s, eps) for s in range(len(edges))}
    flat = tuple(tuple(e for c in sorted(closure[s]) for e in edges[c]) for s in range(len(edges)))
    return Automaton(flat, frozenset(s for s in range(len(edges)) if at in closure[s]))


def _closure(state: int, eps: Mapping[int, set[int]]) -> set[int]:
    seen, todo = {state}, [state]
    while todo:
        for nxt in eps.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _co_reachable(a: Automaton) -> frozenset[int]:
    """States from which some accepting state is reachable."""
    good = set(a.accepting)
    changed = True
    while changed:
        changed = False
        for s, out in enumerate(a.edges):
            if s not in good and any(t in good for _cs, t in out):
                good.add(s)
                changed = True
    return frozenset(good)


def _meet(a: Automaton, b: Automaton, done_a: frozenset[int], done_b: frozenset[int]) -> bool:
    """Whether a pair (state of a in done_a, state of b in done_b) is reachable in lock step."""
    seen = {(0, 0)}
    todo = [(0, 0)]
    while todo:
        s, t = todo.pop()
        if s in done_a and t in done_b:
            return True
        for cs, s2 in a.edges[s]:
            for ct, t2 in b.edges[t]:
                if (s2, t2) not in seen and cs.meets(ct):
                    seen.add((s2, t2))
                    todo.append((s2, t2))
    return False


def may_equal(
    t1: str,
    t2: str,
    kinds1: Mapping[str, str] | None = None,
    kinds2: Mapping[str, str] | None = None,
) -> bool:
    """Can `t1` and `t2` render the same key (slot kinds from `kinds1`, `kinds2`)?"""
    a, b = automaton(t1, kinds1), automaton(t2, kinds2)
    return _meet(a, b, a.accepting, b.accepting)


def may_prefix(
    t1: str,
    t2: str,
    kinds1: Mapping[str, str] | None = None,
    kinds2: Mapping[str, str] | None = None,
) -> bool:
    """Can a key of `t1` be a prefix of (or equal to) a key of `t2`?"""
    a, b = automaton(t1, kinds1), automaton(t2, kinds2)
    return _meet(a, b, a.accepting, _co_reachable(b))


def first_chars(kind: str | None) -> frozenset[str] | None:
    """The characters an encoding of `kind` can start with, when that is a finite set (a
    datetime, date or integer starts with a digit, a uuid with a hex digit); None for the
    kinds that can start with almost anything (string, binary) or an unknown kind."""
    if kind not in FIXED:
        return None
    out: set[str] = set()
    for seq in FIXED[kind]:
        first = seq[0]
        if first.negated:
            return None
        out |= first.chars
    return frozenset(out)


def may_start_with(template: str, chars: frozenset[str], kinds: Mapping[str, str] | None) -> bool:
    """Can a key `template` renders start with one of `chars` (or be empty)?"""
    a = automaton(template, kinds)
    if 0 in a.accepting:
        return True
    wanted = CharSet(chars)
    return any(cs.meets(wanted) for cs, _next in a.edges[0])
