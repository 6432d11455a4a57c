"""mkdocs hooks: generate the reference pages and the example-model docs while the site builds.

Generated, never committed: `reference/language.md` (from the JSON Schema), `reference/cli.md`
(from the typer app), `reference/diagnostics.md` (from modeling/core/codes.py), `reference/keys.md`
(from modeling/runtime/keys.py), and `models/` (`model docs` pages of every models/*.yaml). The nav
gets the runbook (when docs/runbook.md exists) and one section per example model.
A model that does not compile fails the build (strict): the docs never show a stale design.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

_GENERATED: dict[str, str] = {}


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _compile_examples(root: Path) -> list[Any]:
    from modeling.api import check_text
    from modeling.compile import compile_model
    from modeling.core.diagnostics import ModelError

    compiled = []
    for path in sorted((root / "models").glob("*.yaml")):
        rel = path.relative_to(root).as_posix()  # paths in the pages: the same on every machine
        content = path.read_bytes()
        result = check_text(content.decode("utf-8"), rel, content)
        if result.model is None or not result.ok:
            raise ModelError(result.diagnostics)
        layout, diagnostics = compile_model(result.model)
        if layout is None:
            raise ModelError(diagnostics)
        compiled.append((result.model, layout))
    return compiled


def _diagnostic_groups() -> dict[str, dict[str, str]]:
    """Every diagnostic code the tool can emit, by stage, from the one registry."""
    from modeling.core.codes import groups

    return groups()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    import typer

    from modeling.cli import app
    from modeling.emit import docs, reference
    from modeling.runtime import keys
    from modeling.spec.schema import model_schema

    root = _root(config)
    compiled = _compile_examples(root)
    files, model_nav = docs.site_files(compiled, prefix="models/")
    files["reference/language.md"] = reference.language_reference(model_schema())
    files["reference/cli.md"] = reference.cli_reference(typer.main.get_command(app))
    files["reference/diagnostics.md"] = reference.diagnostics_reference(_diagnostic_groups())
    files["reference/keys.md"] = reference.keys_reference(keys.__doc__ or "")
    files[docs.STYLESHEET_PATH] = docs.STYLESHEET
    _GENERATED.clear()
    _GENERATED.update(files)

    nav = list(config.nav or [])
    if (Path(config.docs_dir) / "runbook.md").exists():
        nav.insert(3, {"Migration runbook": "runbook.md"})
    nav.append({"Example models": model_nav})
    config.nav = nav
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for rel, content in _GENERATED.items():
        if files.get_file_from_path(rel) is None:
            files.append(File.generated(config, rel, content=content))
    return files
