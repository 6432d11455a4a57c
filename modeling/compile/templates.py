"""Key-template text helpers the compiler needs: build derived templates, read pinned ones.

Templates are literal text plus `{attribute}` slots (the `modeling.runtime.keys` grammar). The
compiler only needs the slot sequence and the literal text before the first slot; encoding
and rendering values is `modeling.runtime.keys`' job (see `modeling.compile.query`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

from modeling.compile import key_languages

SEPARATOR = "#"
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# the passes ask for the same templates' slots and prefixes per pattern, per requirement and per
# check: a template's answer is computed once (bounded: a 50,000-table model has ~150,000)
@functools.lru_cache(maxsize=1 << 18)
def slots(template: str) -> tuple[str, ...]:
    """The slot names of `template`, in order."""
    return tuple(m.group(1) for m in _SLOT.finditer(template))


@functools.lru_cache(maxsize=1 << 18)
def literal_prefix(template: str) -> str:
    """The literal text before the first slot (the whole template when it has none)."""
    m = _SLOT.search(template)
    return template if m is None else template[: m.start()]


def prefixes_compatible(a: str, b: str) -> bool:
    """Whether renderings of two templates with literal prefixes `a` and `b` can be equal:
    only when one prefix starts the other (else they differ at a character both fix)."""
    return a.startswith(b) or b.startswith(a)


def compatible_groups(prefixes: Mapping[str, Sequence[int]]) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, sorted, of items whose literal prefixes are compatible.

    `prefixes`: literal prefix -> indexes of the items having it. Each prefix is matched
    against its own prefixes only (at most its length in look-ups), so n templates with
    distinct type prefixes cost O(n) instead of n^2/2 comparisons."""
    pairs: list[tuple[int, int]] = []
    for literal, items in prefixes.items():
        for k in range(len(literal) + 1):
            shorter = prefixes.get(literal[:k])
            if shorter is None:
                continue
            if k == len(literal):
                pairs.extend((a, b) for x, a in enumerate(items) for b in items[x + 1 :])
            else:
                pairs.extend((min(a, b), max(a, b)) for a in shorter for b in items)
    return sorted(pairs)


def is_constant(template: str) -> bool:
    return _SLOT.search(template) is None


def build(prefix: str, slot_names: Sequence[str]) -> str:
    """`PREFIX#{a}#{b}`; just `PREFIX` without slots. Slots are always separated by `#`."""
    return SEPARATOR.join([prefix, *(f"{{{s}}}" for s in slot_names)])


def comparable(a: str, b: str) -> bool:
    """Whether one literal is a prefix of the other (keys starting so may coincide)."""
    return a.startswith(b) or b.startswith(a)


def may_coincide(
    t1: str,
    t2: str,
    kinds1: Mapping[str, str] | None = None,
    kinds2: Mapping[str, str] | None = None,
) -> bool:
    """Can templates t1 and t2 render the same string for some slot values?

    Type-aware when the slot kinds are given (`kinds1`/`kinds2`: attribute -> kind): a
    `{created_at}` datetime (always a digit first) never renders `Join:...`, a string slot
    never renders a bare `#`. A slot of unknown kind renders anything. See
    `modeling.compile.key_languages`.
    """
    return key_languages.may_equal(t1, t2, kinds1, kinds2)
