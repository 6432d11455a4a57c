"""The importers' self-check: a model `init` or `import` is about to write is loaded and
compiled exactly as `model validate` / `model compile` would, so a model that would fail is
never written silently — the errors are reported (and land in `--report`)."""

from __future__ import annotations

from modeling.api import check_text
from modeling.compile import compile_model


def self_check(text: str, file: str) -> list[str]:
    """The errors `model validate` then `model compile` would report for `text` (empty: ok)."""
    result = check_text(text, file)
    if not result.ok or result.model is None:
        return [d.format() for d in result.diagnostics.errors]
    _, diags = compile_model(result.model)
    return [d.format() for d in diags.errors]
