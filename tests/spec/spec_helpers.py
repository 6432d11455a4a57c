"""Shared paths and helpers for the model-language tests (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path

from modeling.core.diagnostics import Diagnostics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
BAD = FIXTURES / "bad"
REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"


def render_relative(diagnostics: Diagnostics, file: str) -> str:
    """Diagnostics as the CLI prints them, minus the file path (fixtures stay relocatable)."""
    lines = []
    for d in diagnostics.sorted():
        text = d.format()
        prefix = f"{file}:"
        lines.append(text[len(prefix) :] if text.startswith(prefix) else text)
    return "\n".join(lines) + "\n"
