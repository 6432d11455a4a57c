"""A model's generated code written to a directory and imported: the transformers, the dual-write
repository and the migration stack's worker, as an application and the Lambda import them."""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path
from types import ModuleType

from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit.migration_stack import emit_migration_stack
from modeling.emit.repository import emit_repository
from modeling.emit.transformers import emit_transformers
from modeling.migrate import transformers


def write_and_import(files: dict[str, str], root: Path, prefix: str) -> str:
    """Write generated `files` under `root`, import them as a fresh package; its name."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    transformers._import_package(root, name)
    return name


def import_generated(
    model: ir.Model, root: Path, prefix: str
) -> tuple[dict[str, str], ModuleType, ModuleType]:
    """(files, repository module, worker module) of `model`, written under `root`."""
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    files = {
        **emit_transformers(layout, model),
        **emit_repository(layout, model),
        **emit_migration_stack(layout, model),
    }
    name = write_and_import(files, root, prefix)
    return (
        files,
        importlib.import_module(f"{name}.repository"),
        importlib.import_module(f"{name}.migration.worker"),
    )
