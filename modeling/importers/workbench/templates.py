"""Key templates as the importer reads them from Workbench aliases, ModelSchema values and sample keys."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modeling.runtime.keys import SEPARATOR

SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class KeyTemplate:
    """Literal text and `{attribute}` slots, as the DSL writes pinned keys."""

    parts: tuple[tuple[bool, str], ...]  # (is_slot, text)

    @property
    def text(self) -> str:
        return "".join("{" + t + "}" if is_slot else t for is_slot, t in self.parts)

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for is_slot, t in self.parts if is_slot))

    def __str__(self) -> str:
        return self.text

    @staticmethod
    def parse(text: str) -> KeyTemplate:
        """`"ITEMS#{item_id}"` → parts; also accepts Workbench-style `${slot}`."""
        parts: list[tuple[bool, str]] = []
        pos = 0
        for m in re.finditer(r"\$?\{([^{}]*)\}", text):
            if m.start() > pos:
                parts.append((False, text[pos : m.start()]))
            parts.append((True, m.group(1)))
            pos = m.end()
        if pos < len(text):
            parts.append((False, text[pos:]))
        return KeyTemplate(tuple(parts))

    @staticmethod
    def from_segments(segments: Sequence[tuple[bool, str]]) -> KeyTemplate:
        """Segments joined by `#` (the separator every sample key in Workbench models uses)."""
        parts: list[tuple[bool, str]] = []
        for n, (is_slot, text) in enumerate(segments):
            if n:
                parts.append((False, SEPARATOR))
            parts.append((is_slot, text))
        merged: list[tuple[bool, str]] = []
        for p in parts:
            if merged and not p[0] and not merged[-1][0]:
                merged[-1] = (False, merged[-1][1] + p[1])
            else:
                merged.append(p)
        return KeyTemplate(tuple(x for x in merged if x[0] or x[1]))

    def match(self, value: str) -> dict[str, str] | None:
        """Slot values of `value` under this template, or None when it does not fit."""
        rx = "".join(f"(?P<s{n}>.+?)" if s else re.escape(t) for n, (s, t) in enumerate(self.parts))
        m = re.fullmatch(rx, value, re.DOTALL)
        if m is None:
            return None
        out: dict[str, str] = {}
        for n, (is_slot, name) in enumerate(self.parts):
            if is_slot:
                got = m.group(f"s{n}")
                if out.setdefault(name, got) != got:
                    return None
        return out

    def render(self, values: Mapping[str, str]) -> str:
        return "".join(values[t] if is_slot else t for is_slot, t in self.parts)

    def renamed(self, old: str, new: str) -> KeyTemplate:
        return KeyTemplate(tuple((s, new if s and t == old else t) for s, t in self.parts))
