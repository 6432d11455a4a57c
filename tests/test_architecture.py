"""The package's shape (docs/architecture.md): what import-linter cannot see.

`lint-imports` (scripts/test) checks the layers between packages. These tests check the rest of
the rule: a module's dependencies are visible at its top (no package imports hidden inside
functions, outside the CLI's command modules, which import lazily to keep `model --help` fast),
and the layer contract names every package, so a new package cannot slip past it.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "modeling"
LAZY_ALLOWED = ("modeling/commands/", "modeling/cli.py")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_modeling(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "modeling"
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "modeling" for a in node.names)
    return False


def function_level_imports(source: str, file: str) -> list[str]:
    """`file:line` of every package import inside a function or method body."""
    found = []
    for fn in ast.walk(ast.parse(source)):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for node in ast.walk(fn):
                if _imports_modeling(node):
                    found.append(f"{file}:{node.lineno}")
    return found


def test_the_detector_finds_a_hidden_import() -> None:
    source = "import os\n\ndef f():\n    from modeling.core import ir\n    return ir\n"
    assert function_level_imports(source, "x.py") == ["x.py:4"]
    assert function_level_imports("from modeling.core import ir\n", "x.py") == []
    nested = "class A:\n    def m(self):\n        if True:\n            from . import y\n"
    assert function_level_imports(nested, "x.py") == ["x.py:4"]


def test_no_package_imports_inside_functions() -> None:
    hidden: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(LAZY_ALLOWED):
            continue
        hidden += function_level_imports(path.read_text("utf-8"), rel)
    assert hidden == [], "move these imports to the top of their module:\n" + "\n".join(hidden)


def test_the_layer_contract_names_every_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")
    named = {
        part.strip()
        for layer in layers["layers"]
        for part in layer.replace(":", "|").split("|")
        if part.strip()
    }
    packages = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name != "__init__.py")
    }
    assert packages - named == set(), "add these to the layers contract in pyproject.toml"
    assert named - packages == set(), "the layers contract names packages that do not exist"


def test_runtime_modules_import_only_the_standard_library() -> None:
    """runtime/ is copied verbatim into generated code: a package import there breaks it."""
    for path in sorted((PACKAGE / "runtime").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            assert not _imports_modeling(node), f"{_module_name(path)} imports the package"
