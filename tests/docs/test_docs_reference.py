"""The guide's generated references cover everything their sources define."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from modeling.cli import app
from modeling.core.codes import REGISTRY
from modeling.emit import reference
from modeling.emit.docs import code, text
from modeling.runtime import keys
from modeling.spec.schema import model_schema


def _objects(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "model", schema
    yield from schema.get("$defs", {}).items()


def test_language_reference_has_every_key_of_every_object() -> None:
    schema = model_schema()
    page = reference.language_reference(schema)
    sections = page.split("\n## ")
    for name, node in _objects(schema):
        section = next(s for s in sections if s.lower().startswith(text(name).lower()))
        for prop, spec in node.get("properties", {}).items():
            assert f"| {code(prop)} |" in section, f"{name}.{prop} missing"
            if "description" in spec:
                assert text(spec["description"]) in section
        for required in node.get("required", []):
            row = next(
                line for line in section.splitlines() if line.startswith(f"| {code(required)} |")
            )
            assert "| yes |" in row


def test_cli_reference_has_every_command_and_option() -> None:
    root = typer.main.get_command(app)
    page = reference.cli_reference(root)
    commands = root.commands  # type: ignore[attr-defined]
    assert commands
    for name, command in commands.items():
        assert f"\n## model {name} {{#model-{name}}}" in page
        section = page.split(f"\n## model {name} ")[1].split("\n## ")[0]
        for param in command.params:
            if param.name == "help":
                continue
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert code(opt) in section, f"{name} {opt}"


def test_diagnostics_reference_has_every_code_with_its_own_anchor() -> None:
    path = Path(__file__).resolve().parents[2] / "docs" / "hooks.py"  # what the site renders
    spec = importlib.util.spec_from_file_location("docs_hooks", path)
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = reference.diagnostics_reference(hooks._diagnostic_groups())
    ids = re.findall(r'<span id="([^"]+)"></span>', page)
    assert sorted(ids) == sorted(REGISTRY), "one anchor per registered code, no other"
    sections = page.split("\n## ")[1:]
    for c, entry in REGISTRY.items():
        assert f'<span id="{c}"></span>{code(c)} | {text(entry.meaning)} |' in page
        (section,) = [s for s in sections if f'<span id="{c}">' in s]
        assert section.startswith(text(entry.group.value)), (c, entry.group)


def test_keys_reference_is_the_module_doc() -> None:
    page = reference.keys_reference(keys.__doc__ or "")
    assert (keys.__doc__ or "").strip().splitlines()[0] in page
