"""Load the generated transformers of a model as a Python module.

The runner must convert rows exactly as the generated code the application will use does, so it
imports that code: either from a compiled output directory (`generated/<model>/`) or, by
default, emitted afresh from the model into a temporary package (always in step with the model
file, nothing to forget to recompile).
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from modeling.api import emit_files, emit_repository, emit_transformers
from modeling.core import ir
from modeling.migrate.errors import MigrationError

_LOADED: dict[str, ModuleType] = {}


def _import_package(directory: Path, name: str) -> ModuleType:
    """Import `directory` as package `name` and return its `transformers` submodule."""
    init = directory / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(directory)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - importlib contract
        raise ImportError(f"cannot import {directory}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.transformers")


def from_directory(directory: str | Path) -> ModuleType:
    """The transformers of a compiled output directory (holding `transformers.py`)."""
    path = Path(directory).resolve()
    if not (path / "transformers.py").is_file():
        raise MigrationError(
            f"--transformers {directory}: {path} has no transformers.py",
            hint="name the directory `model compile` wrote (generated/<model>), or run "
            "`model compile` first",
        )
    key = str(path)
    if key not in _LOADED:
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        _LOADED[key] = _import_package(path, f"_migrate_generated_{digest}")
    return _LOADED[key]


def generate(
    layout: ir.Layout, model: ir.Model, repository: bool = False, *, client: bool = False
) -> ModuleType:
    """Emit the transformers of `model` into a temporary package and import them.

    `client`: the package holds the generated query client too (`client_of`).
    `repository`: emit the dual-write repository beside them and return that module instead
    (its `T` is the package's transformers), as an application imports it.
    """
    files = emit_transformers(layout, model)
    if client:
        files.update(emit_files(layout, model, ["client"]))
    if repository:
        files = {**files, **emit_repository(layout, model)}
    digest = hashlib.sha256(
        "\0".join(f"{k}\0{v}" for k, v in sorted(files.items())).encode()
    ).hexdigest()[:16]
    if repository:
        digest = "r" + digest[1:]
    if digest in _LOADED:
        return _LOADED[digest]
    # The generated package imports everything it needs when it is imported, so its files are
    # removed right after: no temporary directory outlives the call, whatever ends the process.
    root = Path(tempfile.mkdtemp(prefix="model-migrate-"))
    try:
        for rel, text in files.items():
            (root / rel).write_text(text, encoding="utf-8")
        module = _import_package(root, f"_migrate_{model.name.replace('-', '_')}_{digest}")
        if client:
            client_of(module)  # imported while its file exists
        if repository:
            module = importlib.import_module(f"{module.__name__.rsplit('.', 1)[0]}.repository")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    _LOADED[digest] = module
    return module


def client_of(module: ModuleType) -> ModuleType | None:
    """The generated query client (`client.py`) of the package `module` (its transformers)
    belongs to; None when the package has none."""
    package = module.__name__.rsplit(".", 1)[0]
    try:
        return importlib.import_module(f"{package}.client")
    except ModuleNotFoundError:
        return None


def entity_function(module: ModuleType, entity: str) -> object:
    """The `to_item` function of one entity (through the generated registry)."""
    registry = module.TO_ITEM
    return registry[entity]
