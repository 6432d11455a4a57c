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


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class _Shape:
    """A parsed template: its parts, slot names, and the literal text before its first slot
    and after its last (the whole text when it has no slot): every rendering starts with
    `prefix` and ends with `suffix`."""

    parts: tuple[keys.Text | keys.Slot, ...]
    slots: tuple[str, ...]
    prefix: str
    suffix: str


@functools.lru_cache(maxsize=1 << 16)
def _shape_of(template: str) -> _Shape:
    parts = keys.parse_template(template).parts
    slots = tuple(p.attribute for p in parts if isinstance(p, keys.Slot))
    if not slots:
        return _Shape(parts, slots, template, template)
    first = next(i for i, p in enumerate(parts) if isinstance(p, keys.Slot))
    last = max(i for i, p in enumerate(parts) if isinstance(p, keys.Slot))
    prefix = "".join(p.text for p in parts[:first] if isinstance(p, keys.Text))
    suffix = "".join(p.text for p in parts[last + 1 :] if isinstance(p, keys.Text))
    return _Shape(parts, slots, prefix, suffix)


def _language(kind: str | None) -> str | None:
    """The language a slot of `kind` renders: the kind when it has one here, None (anything)
    for an unknown kind."""
    return kind if kind in FIXED or kind in REPEATED else None


def _languages(shape: _Shape, kinds: Mapping[str, str] | None) -> tuple[str | None, ...]:
    """Each slot's language, in slot order: all an automaton depends on besides the text."""
    if not kinds:
        return (None,) * len(shape.slots)
    return tuple(_language(kinds.get(s)) for s in shape.slots)


# --------------------------------------------------------------------------- automata

# state -> [(charset, next state)]; state 0 starts.
_Edges = tuple[tuple[tuple[CharSet, int], ...], ...]


@dataclass(frozen=True)
class Automaton:
    edges: _Edges
    accepting: frozenset[int]


def automaton(template: str, kinds: Mapping[str, str] | None = None) -> Automaton:
    """The automaton of every key `template` can render (slot kinds from `kinds`)."""
    return _automaton(template, _languages(_shape_of(template), kinds))


_CHARS: dict[str, CharSet] = {}


def _char(c: str) -> CharSet:
    cs = _CHARS.get(c)
    if cs is None:
        cs = _CHARS[c] = _set(c)
    return cs


@functools.lru_cache(maxsize=4096)
def _automaton(template: str, languages: tuple[str | None, ...]) -> Automaton:
    """Built in one pass, linear in the template's states: state 0, then per part the state
    after it (a "boundary") followed by the inner states of its chains. A slot of a repeated
    kind (string, binary, unknown) loops on its start boundary and may be skipped: the only
    empty moves go from a boundary to the next one, so a boundary takes the edges (and the
    acceptance) of the run of boundaries after it that such slots join, and an inner state
    keeps its own."""
    edges: list[list[tuple[CharSet, int]]] = [[]]
    boundaries = [0]
    skippable: list[bool] = []

    def chain(start: int, seq: tuple[CharSet, ...], end: int) -> None:
        at = start
        last = len(seq) - 1
        for i, cs in enumerate(seq):
            if i == last:
                nxt = end
            else:
                nxt = len(edges)
                edges.append([])
            edges[at].append((cs, nxt))
            at = nxt

    at = 0
    slot = 0
    for part in _shape_of(template).parts:
        end = len(edges)
        edges.append([])
        if isinstance(part, keys.Text):
            chain(at, tuple(_char(c) for c in part.text), end)
            skippable.append(False)
        else:
            language = languages[slot]
            slot += 1
            if language in FIXED:
                for seq in FIXED[language]:
                    chain(at, seq, end)
                skippable.append(False)
            else:
                edges[at].append((REPEATED.get(language or "", ANY), at))
                skippable.append(True)
        boundaries.append(end)
        at = end
    # remove empty moves: boundary i reaches boundaries i..j while parts i..j-1 are skippable
    flat: list[tuple[tuple[CharSet, int], ...]] = [tuple(out) for out in edges]
    accepting = {at}
    run_edges: tuple[tuple[CharSet, int], ...] = flat[at]
    for i in range(len(boundaries) - 2, -1, -1):
        b = boundaries[i]
        if skippable[i]:
            run_edges = flat[b] + run_edges
            if boundaries[i + 1] in accepting:
                accepting.add(b)
        else:
            run_edges = flat[b]
        flat[b] = run_edges
    return Automaton(tuple(flat), frozenset(accepting))


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


def _ends_meet(a: _Shape, b: _Shape) -> bool:
    """Whether renderings of `a` and `b` may be equal as far as their fixed ends tell: each
    starts with its literal prefix and ends with its literal suffix, so one prefix must start
    the other and one suffix end the other. Both constant: only when equal."""
    if not a.slots and not b.slots:
        return a.prefix == b.prefix
    return (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)) and (
        a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    )


def may_equal(
    t1: str,
    t2: str,
    kinds1: Mapping[str, str] | None = None,
    kinds2: Mapping[str, str] | None = None,
) -> bool:
    """Can `t1` and `t2` render the same key (slot kinds from `kinds1`, `kinds2`)?

    Exactly `may_equal_by_automata`'s answer, mostly without automata: two templates whose
    literal ends differ never meet, and a template meets itself under the same slot kinds
    (every language here is non-empty)."""
    a, b = _shape_of(t1), _shape_of(t2)
    if not _ends_meet(a, b):
        return False
    la, lb = _languages(a, kinds1), _languages(b, kinds2)
    if t1 == t2 and la == lb:
        return True
    if not a.slots and not b.slots:
        return False  # two constants meet only when equal (above)
    x, y = _automaton(t1, la), _automaton(t2, lb)
    return _meet(x, y, x.accepting, y.accepting)


def may_prefix(
    t1: str,
    t2: str,
    kinds1: Mapping[str, str] | None = None,
    kinds2: Mapping[str, str] | None = None,
) -> bool:
    """Can a key of `t1` be a prefix of (or equal to) a key of `t2`?

    Exactly `may_prefix_by_automata`'s answer: a key of `t1` starts with its literal prefix
    and one of `t2` with its own, so one prefix must start the other; a template's key is a
    prefix of itself."""
    a, b = _shape_of(t1), _shape_of(t2)
    if not (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)):
        return False
    la, lb = _languages(a, kinds1), _languages(b, kinds2)
    if t1 == t2 and la == lb:
        return True
    if not a.slots and not b.slots:
        return t2.startswith(t1)
    x, y = _automaton(t1, la), _automaton(t2, lb)
    return _meet(x, y, x.accepting, _co_reachable(y))


def may_equal_by_automata(
    t1: str,
    t2: str,
    kinds1: Mapping[str, str] | None = None,
    kinds2: Mapping[str, str] | None = None,
) -> bool:
    """`may_equal` on the product of the two automata alone (the reference of the tests)."""
    a, b = automaton(t1, kinds1), automaton(t2, kinds2)
    return _meet(a, b, a.accepting, b.accepting)


def may_prefix_by_automata(
    t1: str,
    t2: str,
    kinds1: Mapping[str, str] | None = None,
    kinds2: Mapping[str, str] | None = None,
) -> bool:
    """`may_prefix` on the product of the two automata alone (the reference of the tests)."""
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
    first = _shape_of(template).parts[0]
    if isinstance(first, keys.Text):
        return first.text[0] in chars  # never empty; its one first move is this character
    return may_start_with_by_automaton(template, chars, kinds)


def may_start_with_by_automaton(
    template: str, chars: frozenset[str], kinds: Mapping[str, str] | None
) -> bool:
    """`may_start_with` on the automaton alone (the reference of the tests)."""
    a = automaton(template, kinds)
    if 0 in a.accepting:
        return True
    wanted = CharSet(chars)
    return any(cs.meets(wanted) for cs, _next in a.edges[0])
