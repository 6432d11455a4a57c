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

__all__ = [
    "SEPARATOR",
    "SEPARATORS",
    "SLOT_RE",
    "KeyTemplate",
    "Slot",
    "Text",
    "detect_separator",
    "literal_roles",
    "split_key",
]

# Separators seen in published designs: `#` (most), `:` (AWS's ChatSystem), `|`, `/`, `~`.
SEPARATORS = ("#", ":", "|", "/", "~")
# `TAG<sep>`: a word, then the separator it uses (`USER#`, `User:`, `#METADATA#`)
_TAGGED = re.compile(r"^[#:|/~]?[A-Za-z][A-Za-z0-9_\-]*([#:|/~])")
# An ISO-8601 date/time inside a key: its `:` and `-` are not separators.
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$")
_WORD = re.compile(r"^[A-Za-z][A-Za-z_\-]*$")


def detect_separator(values: Sequence[str]) -> tuple[str, int]:
    """The separator the keys of a design use, and in how many values it follows a tag
    (`USER#1`, `User:UserA`): the most frequent; `#` when none or on a tie."""
    counts = dict.fromkeys(SEPARATORS, 0)
    for v in values:
        m = _TAGGED.match(v)
        if m is not None:
            counts[m.group(1)] += 1
    best = max(SEPARATORS, key=lambda s: (counts[s], s == SEPARATOR))
    return (best, counts[best]) if counts[best] else (SEPARATOR, 0)


def split_key(value: str, sep: str = SEPARATOR) -> list[str]:
    """A key's parts; a date/time inside it stays one part even when the separator is `:`."""
    if sep not in value:
        return [value]
    if sep in ":-" and _DATETIME.search(value):
        masked = _DATETIME.sub(lambda m: m.group(0).replace(sep, "\x00"), value)
        return [p.replace("\x00", sep) for p in masked.split(sep)]
    return value.split(sep)


def _data_like(part: str) -> bool:
    return any(c.isdigit() for c in part) or bool(_UUID.match(part))


def literal_roles(parts: Sequence[str]) -> list[bool]:
    """Which parts of one key are literal text by the single-table convention `TAG#value`:
    the first word is a tag, the part after a tag is its value, and a word after a value is a
    descriptor (`u#123#follower`); a part with digits (or a UUID) is always a value."""
    roles: list[bool] = []
    prev: bool | None = None
    for p in parts:
        if p == "":
            roles.append(True)
            continue
        if _data_like(p) or not _WORD.match(p):
            role = False
        elif prev is None:
            role = True
        else:
            role = not prev
        roles.append(role)
        prev = role
    return roles


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
    def from_segments(segments: Sequence[tuple[bool, str]], sep: str = SEPARATOR) -> KeyTemplate:
        """(is_slot, text) segments joined by the design's separator (`#` in most designs);
        adjacent literal text merged, empty text dropped."""
        parts: list[Part] = []
        for n, (is_slot, text) in enumerate(segments):
            if n:
                parts.append(Text(sep))
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
