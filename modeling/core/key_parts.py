"""Which parts of a key template a plan's key value sends, per render mode (`ir.RenderMode`).

The one home for the rule; `modeling.requests.key_shape` turns these parts into what a
request carries (literal slots encoded, parameter slots as `Param`s), and the compiler's
key-condition check (`modeling.compile.key_conditions`) asks the same parts whether a key
value can be empty, so the plan the compiler calls exact is the request DynamoDB gets.

    key_parts(kv)           KeyParts: the template's Text and Slot parts the mode keeps, and
                            whether the key is the successor of their text (`after`)
    always_empty(kv)        the key value renders as "" for every parameter value
"""

from __future__ import annotations

from dataclasses import dataclass

from modeling.core import ir
from modeling.core.values import coerce
from modeling.runtime import keys

Part = keys.Text | keys.Slot


@dataclass(frozen=True)
class KeyParts:
    """The template parts a key value renders, in order; with `after`, the key is the
    smallest string above every string starting with their text (`keys.after`)."""

    parts: tuple[Part, ...]
    after: bool = False

    @property
    def text(self) -> str:
        """The literal text among the parts (slots left out)."""
        return "".join(p.text for p in self.parts if isinstance(p, keys.Text))

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(p.attribute for p in self.parts if isinstance(p, keys.Slot))


def key_parts(kv: ir.KeyValue) -> KeyParts:
    """The parts of `kv.template` that `kv.mode` keeps.

    full: every part; prefix/after: the parts up to the first unbound slot (literal text
    before it included); open: the parts cut right after the last bound slot before the first
    unbound one (the literal text before the first slot when none is bound). Raises
    `keys.TemplateSyntaxError` for a malformed template and ValueError for an unknown mode.
    """
    template = keys.parse_template(kv.template)
    bound = {b.slot for b in kv.bindings}
    if kv.mode == "full":
        return KeyParts(template.parts)
    kept: list[Part] = []
    if kv.mode in ("prefix", "after"):
        for p in template.parts:
            if isinstance(p, keys.Slot) and p.attribute not in bound:
                break
            kept.append(p)
        return KeyParts(tuple(kept), after=kv.mode == "after")
    if kv.mode == "open":
        if not template.slots:
            return KeyParts(template.parts)
        keep = 0
        for p in template.parts:
            if isinstance(p, keys.Slot):
                if p.attribute not in bound:
                    break
                kept.append(p)
                keep = len(kept)
            else:
                kept.append(p)
        if keep == 0:
            return KeyParts(tuple(p for p in template.parts[:1] if isinstance(p, keys.Text)))
        return KeyParts(tuple(kept[:keep]))
    raise ValueError(f"unknown render mode {kv.mode!r}")


def _literal_text(binding: ir.SlotBinding) -> str | None:
    """The encoded text of a slot fixed to a literal; None when it has no encoding."""
    try:
        return keys.encode(binding.type, coerce(binding.type, binding.literal))
    except (ValueError, TypeError):
        return None


def always_empty(kv: ir.KeyValue, shape: KeyParts | None = None) -> bool:
    """Whether `kv` renders as the empty string whatever the parameters: no literal text and
    no slot but ones fixed to literals that encode as "" (`''` for a string slot).

    A slot filled from a parameter is not counted as empty: a string or binary parameter can
    be "" at run time, but then no item holds that key value either (DynamoDB rejects empty
    key values at write). With `after`, the parts' text must not be empty either: nothing
    sorts above every string. `shape`: `key_parts(kv)`, when the caller has it already.
    """
    if shape is None:
        shape = key_parts(kv)
    if shape.text:
        return False
    bound = {b.slot: b for b in kv.bindings}
    for slot in shape.slots:
        b = bound.get(slot)
        if b is None or b.literal is None or _literal_text(b) != "":
            return False
    return True
