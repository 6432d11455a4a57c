"""Key-template text helpers the compiler needs: build derived templates, read pinned ones.

Templates are literal text plus `{attribute}` slots (the `modeling.runtime.keys` grammar). The
compiler only needs the slot sequence and the literal text before the first slot; encoding
and rendering values is `modeling.runtime.keys`' job (see `modeling.compile.query`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SEPARATOR = "#"
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def slots(template: str) -> tuple[str, ...]:
    """The slot names of `template`, in order."""
    return tuple(m.group(1) for m in _SLOT.finditer(template))


def literal_prefix(template: str) -> str:
    """The literal text before the first slot (the whole template when it has none)."""
    m = _SLOT.search(template)
    return template if m is None else template[: m.start()]


def is_constant(template: str) -> bool:
    return _SLOT.search(template) is None


def build(prefix: str, slot_names: Sequence[str]) -> str:
    """`PREFIX#{a}#{b}`; just `PREFIX` without slots. Slots are always separated by `#`."""
    return SEPARATOR.join([prefix, *(f"{{{s}}}" for s in slot_names)])


def comparable(a: str, b: str) -> bool:
    """Whether one literal is a prefix of the other (keys starting so may coincide)."""
    return a.startswith(b) or b.startswith(a)


def may_coincide(t1: str, t2: str) -> bool:
    """Conservative: can templates t1 and t2 render the same string for some slot values?

    Two constant templates coincide only when equal; a constant and a slotted template when
    the slotted one's literal prefix is a prefix of the constant; two slotted templates when
    their literal prefixes are comparable.
    """
    c1, c2 = is_constant(t1), is_constant(t2)
    if c1 and c2:
        return t1 == t2
    if c1:
        return t1.startswith(literal_prefix(t2))
    if c2:
        return t2.startswith(literal_prefix(t1))
    return comparable(literal_prefix(t1), literal_prefix(t2))
