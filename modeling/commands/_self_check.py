"""The importers' self-check: a model `init` or `import` is about to write is loaded and
compiled exactly as `model validate` / `model compile` would, so a model that would fail is
never written silently — the errors are reported (and land in `--report`)."""

from __future__ import annotations

from typing import Any

from modeling.api import FileResult, check_data, check_text
from modeling.compile import compile_model
from modeling.core.diagnostics import Diagnostics
from modeling.spec.loader import Positions


def self_check(text: str, file: str, data: dict[str, Any] | None = None) -> list[str]:
    """The errors `model validate` then `model compile` would report for `text` (empty: ok).

    `data`, when given, is the plain data `text` reads back as (the importers' `plain_data`,
    proven equal to the loader's reading by tests/importers/test_self_check_fast.py): it is
    validated and compiled without reading the text again, which at 50,000 tables saves the
    YAML parse and its position tables (half the check's time, most of its memory). Those
    positions only locate errors, so when there is any, the text itself is checked and its
    located errors are the ones reported."""
    if data is not None:
        fast = check_data(data, Positions(file), Diagnostics(), file, text.encode("utf-8"))
        if not _errors(fast):
            return []
    return _errors(check_text(text, file))


def _errors(result: FileResult) -> list[str]:
    if not result.ok or result.model is None:
        return [d.format() for d in result.diagnostics.errors]
    _, diags = compile_model(result.model)
    return [d.format() for d in diags.errors]
