"""Diagnostics: every problem the tool reports about its input, with a location and a hint.

A `Diagnostic` is a record (code, severity, span, subject, message, hint). Stages collect them in a
`Diagnostics` bag and never raise on bad input; the CLI prints the bag once (human or JSON) and maps
it to an exit code. `ModelError` carries a bag across an API boundary when a stage must stop.

Every code is registered in `modeling.core.codes` (a test scans the source for emission sites).
With `MODELING_STRICT_CODES=1` in the environment (the test suite sets it), creating a diagnostic
whose code is not registered raises AssertionError at once; users never run in that mode, so a
missed code can never cost them a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from modeling.core.codes import REGISTRY
from modeling.core.errors import InputError

STRICT_CODES = "MODELING_STRICT_CODES"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Span:
    """A position in a source file; `line` and `col` are 1-based, as editors show them."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    hint: str | None = None
    subject: str | None = None

    def __post_init__(self) -> None:
        if self.code not in REGISTRY and os.environ.get(STRICT_CODES):
            raise AssertionError(f"diagnostic code {self.code!r} is not in modeling/core/codes.py")

    def sort_key(self) -> tuple[Any, ...]:
        span = self.span or Span("")
        return (span.file, span.line, span.col, self.code, self.message)

    def format(self) -> str:
        where = f"{self.span}: " if self.span else ""
        text = f"{where}{self.severity.value}: {self.message} [{self.code}]"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


@dataclass
class Diagnostics:
    """A bag that collects diagnostics from every stage; nothing is raised for bad input."""

    items: list[Diagnostic] = field(default_factory=list)
    # what `items` holds, for a constant-time duplicate check (a list scan made 100,000 query
    # diagnostics quadratic); rebuilt whenever `items` was replaced or changed behind our back
    _seen: set[Diagnostic] = field(default_factory=set, init=False, repr=False, compare=False)
    _seen_of: tuple[int, int] = field(default=(0, 0), init=False, repr=False, compare=False)

    def add(self, diagnostic: Diagnostic) -> Diagnostic:
        if self._seen_of != (id(self.items), len(self.items)):
            self._seen = set(self.items)
        if diagnostic not in self._seen:
            self.items.append(diagnostic)
            self._seen.add(diagnostic)
        self._seen_of = (id(self.items), len(self.items))
        return diagnostic

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for d in diagnostics:
            self.add(d)

    def error(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        hint: str | None = None,
        subject: str | None = None,
    ) -> Diagnostic:
        return self.add(Diagnostic(code, Severity.ERROR, message, span, hint, subject))

    def warning(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        hint: str | None = None,
        subject: str | None = None,
    ) -> Diagnostic:
        return self.add(Diagnostic(code, Severity.WARNING, message, span, hint, subject))

    def info(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        hint: str | None = None,
        subject: str | None = None,
    ) -> Diagnostic:
        return self.add(Diagnostic(code, Severity.INFO, message, span, hint, subject))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.sorted())

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


class ModelError(InputError):
    """Raised by API functions when the input has errors; carries every diagnostic found."""

    def __init__(self, diagnostics: Diagnostics | Iterable[Diagnostic]):
        bag = (
            diagnostics if isinstance(diagnostics, Diagnostics) else Diagnostics(list(diagnostics))
        )
        self.diagnostics = bag
        super().__init__("\n".join(d.format() for d in bag.sorted()) or "invalid input")


def render_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(d.format() for d in diagnostics)


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2, sort_keys=True)
