"""The importer's key template: a small adapter over `modeling.runtime.keys`' template parts.

A pinned key in a model is a `keys.Template` (`ORDER#{order_id}`), and `KeyTemplate` holds the
same parts (`keys.Text` and `keys.Slot`); its `text` is what the model loader parses back with
`keys.parse_template`, and a well-formed template is read by `keys.parse_template` itself. Three
things a Workbench import needs and `keys.Template` rightly refuses keep this class apart:

* Workbench writes `${slot}` (ModelSchema values), and aliases and ModelSchema values may repeat
  a slot (`{a}#{a}`), put two side by side or name one as the DSL never would (`{Sharded GSI}`).
  The importer must read such a template to repair it (`key_planning` gives a repeated slot a
  new name and makes every name an attribute name); `keys.parse_template` raises instead.
* `match` reads *sample keys as written*: a slot matches any non-empty text, `#` included (a
  key with more `#` parts than its template keeps the rest in one slot), and a repeated slot
  must match the same text each time. `keys.Template.parse` splits *encoded* keys, whose
  slot values never contain a bare `#`.
* templates are built from observed `#`-separated segments (`from_segments`) and have slots
  renamed (`renamed`) while the importer works out what the slots are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modeling.runtime.keys import SEPARATOR, Slot, TemplateSyntaxError, Text, parse_template

__all__ = ["SEPARATOR", "SLOT_RE", "KeyTemplate", "Slot", "Text"]

SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LENIENT_SLOT = re.compile(r"\$?\{([^{}]*)\}")
_DOLLAR_SLOT = re.compile(r"\$(\{[^{}]*\})")

Part = Text | Slot


@dataclass(frozen=True)
class KeyTemplate:
    """Literal text and `{attribute}` slots, as the DSL writes pinned keys."""

    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        return "".join(
            "{" + p.attribute + "}" if isinstance(p, Slot) else p.text for p in self.parts
        )

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.attribute for p in self.parts if isinstance(p, Slot)))

    @property
    def single_slot(self) -> str | None:
        """The slot when the template is one slot and nothing else (`{AccountID}`)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Slot):
            return self.parts[0].attribute
        return None

    @property
    def leading_text(self) -> str:
        """The literal text the template starts with ("" when it starts with a slot)."""
        return self.parts[0].text if self.parts and isinstance(self.parts[0], Text) else ""

    @property
    def trailing_text(self) -> str:
        """The literal text the template ends with ("" when it ends with a slot)."""
        return self.parts[-1].text if self.parts and isinstance(self.parts[-1], Text) else ""

    def __str__(self) -> str:
        return self.text

    @staticmethod
    def parse(text: str) -> KeyTemplate:
        """`"ITEMS#{item_id}"` → parts; also accepts Workbench-style `${slot}`, and reads what
        the DSL would refuse (a repeated, oddly named or adjacent slot, an empty template)."""
        try:
            return KeyTemplate(parse_template(_DOLLAR_SLOT.sub(r"\1", text)).parts)
        except TemplateSyntaxError:
            pass
        parts: list[Part] = []
        pos = 0
        for m in _LENIENT_SLOT.finditer(text):
            if m.start() > pos:
                parts.append(Text(text[pos : m.start()]))
            parts.append(Slot(m.group(1)))
            pos = m.end()
        if pos < len(text):
            parts.append(Text(text[pos:]))
        return KeyTemplate(tuple(parts))

    @staticmethod
    def from_segments(segments: Sequence[tuple[bool, str]]) -> KeyTemplate:
        """(is_slot, text) segments joined by `#` (the separator every sample key in Workbench
        models uses); adjacent literal text merged, empty text dropped."""
        parts: list[Part] = []
        for n, (is_slot, text) in enumerate(segments):
            if n:
                parts.append(Text(SEPARATOR))
            parts.append(Slot(text) if is_slot else Text(text))
        merged: list[Part] = []
        for p in parts:
            last = merged[-1] if merged else None
            if isinstance(p, Text) and isinstance(last, Text):
                merged[-1] = Text(last.text + p.text)
            else:
                merged.append(p)
        return KeyTemplate(tuple(p for p in merged if isinstance(p, Slot) or p.text))

    def match(self, value: str) -> dict[str, str] | None:
        """Slot values of a sample key under this template, or None when it does not fit."""
        rx = "".join(
            f"(?P<s{n}>.+?)" if isinstance(p, Slot) else re.escape(p.text)
            for n, p in enumerate(self.parts)
        )
        m = re.fullmatch(rx, value, re.DOTALL)
        if m is None:
            return None
        out: dict[str, str] = {}
        for n, p in enumerate(self.parts):
            if isinstance(p, Slot):
                got = m.group(f"s{n}")
                if out.setdefault(p.attribute, got) != got:
                    return None
        return out

    def render(self, values: Mapping[str, str]) -> str:
        return "".join(values[p.attribute] if isinstance(p, Slot) else p.text for p in self.parts)

    def renamed(self, old: str, new: str) -> KeyTemplate:
        return KeyTemplate(
            tuple(
                Slot(new) if isinstance(p, Slot) and p.attribute == old else p for p in self.parts
            )
        )
