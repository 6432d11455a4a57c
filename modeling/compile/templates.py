"""Key-template text helpers the compiler needs: build derived templates, read pinned ones.

Templates are literal text plus `{attribute}` slots (the `modeling.runtime.keys` grammar). The
compiler only needs the slot sequence and the literal text before the first slot; encoding
and rendering values is `modeling.runtime.keys`' job (see `modeling.compile.query`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from modeling.compile import key_languages

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
