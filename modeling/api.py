"""What the CLI and tests call: load and validate model files.

`check_file` never raises for bad input: it returns the model (or None) and every diagnostic.
`load_model` is the strict form for later stages: a model, or `ModelError` with all diagnostics.
Stages: read → YAML (positions, duplicate keys) → JSON Schema → pydantic → semantic checks →
normalize; each stage runs only when the previous one found no error, so a problem is
reported by the earliest stage that can see it, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeling.compile import compile_model
from modeling.compile.evolution import read_previous as read_previous_layout
from modeling.core import inputs, ir
from modeling.core.diagnostics import Diagnostics, ModelError, Span
from modeling.emit import emit as emit_files
from modeling.emit.client import PatternMethod, pattern_methods
from modeling.emit.cloudformation import create_table_kwargs, post_create_calls, table_definition
from modeling.emit.migration_stack import RUNTIME as LAMBDA_RUNTIME
from modeling.emit.migration_stack import package_name, stack_template
from modeling.emit.repository import emit_repository
from modeling.emit.transformers import emit_transformers
from modeling.normalize import normalize
from modeling.spec.checks import check
from modeling.spec.loader import Positions, load_text
from modeling.spec.model import ModelSpec
from modeling.spec.structure import validate_structure

MODEL_SUFFIXES = (".yaml", ".yml")


@dataclass
class FileResult:
    """The outcome of validating one file."""

    path: str
    model: ir.Model | None
    spec: ModelSpec | None
    diagnostics: Diagnostics

    @property
    def ok(self) -> bool:
        return not self.diagnostics.has_errors()


def check_text(text: str, file: str, content: bytes | None = None) -> FileResult:
    """Validate model text that claims to come from `file` (used for paths in diagnostics)."""
    if content is None:
        content = text.encode("utf-8")
    loaded = load_text(text, file)
    if loaded.diagnostics.has_errors():
        return FileResult(file, None, None, loaded.diagnostics)
    return check_data(loaded.data, loaded.positions, loaded.diagnostics, file, content)


def check_data(
    data: Any,
    positions: Positions,
    diags: Diagnostics,
    file: str,
    content: bytes | None,
    schema_valid: bool = False,
) -> FileResult:
    """The stages after the YAML: validate model data read from `file` (whose bytes are
    `content`); diagnostics are located through `positions`. `schema_valid`: the caller has
    found no JSON Schema problem in `data` (`structure.schema_problems`); that pass is skipped."""
    spec = validate_structure(data, positions, diags, schema_valid)
    if spec is None or diags.has_errors():
        return FileResult(file, None, spec, diags)
    patterns = check(spec, positions, diags, file)
    if diags.has_errors():
        return FileResult(file, None, spec, diags)
    model = normalize(spec, patterns, positions, file=file, content=content)
    return FileResult(file, model, spec, diags)


def check_file(path: str | Path) -> FileResult:
    """Read and validate one model file."""
    file = str(path)
    try:
        content = inputs.read_bytes(path, "model")
    except inputs.InputFileError as exc:
        diags = Diagnostics()
        diags.error("input-file", str(exc), Span(file), hint=exc.hint)
        return FileResult(file, None, None, diags)
    except OSError as exc:
        diags = Diagnostics()
        diags.error(
            "file-not-found",
            f"cannot read {file}: {exc.strerror or exc}",
            Span(file),
            hint="check the path",
        )
        return FileResult(file, None, None, diags)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        diags = Diagnostics()
        line, col = _byte_position(content, exc.start)
        diags.error(
            "yaml-syntax",
            f"the file is not UTF-8 text: byte 0x{content[exc.start]:02x} ({exc.reason})",
            Span(file, line, col),
            hint="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        )
        return FileResult(file, None, None, diags)
    return check_text(text, file, content)


def _byte_position(content: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of a byte offset (the bytes before it are valid)."""
    line_start = content.rfind(b"\n", 0, offset) + 1
    prefix = content[line_start:offset].decode("utf-8", errors="replace")
    return content.count(b"\n", 0, offset) + 1, len(prefix) + 1


def load_model(path: str | Path) -> ir.Model:
    """The resolved model of one file; raises `ModelError` carrying every diagnostic."""
    result = check_file(path)
    if result.model is None or not result.ok:
        raise ModelError(result.diagnostics)
    return result.model


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; directories become their *.yaml / *.yml files, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.suffix in MODEL_SUFFIXES))
        else:
            out.append(p)
    return out


def validate_files(paths: Iterable[str | Path]) -> list[FileResult]:
    return [check_file(p) for p in expand_paths(paths)]


def validate_paths(paths: Iterable[str | Path]) -> Diagnostics:
    """Every diagnostic of every file (directories expanded)."""
    bag = Diagnostics()
    for result in validate_files(paths):
        bag.extend(result.diagnostics.items)
    return bag


def summarize(model: ir.Model) -> str:
    """One line for a valid model: what it contains."""
    multi = sum(1 for p in model.patterns if len(p.entities) > 1)
    sql = sum(1 for p in model.patterns if p.sql is not None)
    parts = [
        f"{len(model.entities)} entities",
        f"{len(model.patterns)} access patterns",
    ]
    if multi:
        parts.append(f"{multi} item-collection reads")
    if sql:
        parts.append(f"{sql} from SQL")
    return f"{model.name} (table {model.table.name}): " + ", ".join(parts)


def compile_file(path: str | Path) -> tuple[ir.Model, ir.Layout]:
    """Load and compile one model file; `ModelError` with every diagnostic when either fails."""
    model = load_model(path)
    layout, diagnostics = compile_model(model)
    if layout is None:
        raise ModelError(diagnostics)
    return model, layout


def table_requests(
    layout: ir.Layout, model: ir.Model, table_name: str | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The table as `generated/<model>/create-table.json` defines it: (boto3 `create_table`
    kwargs, {method: kwargs} of the follow-up calls of `post-create-table.json`), renamed to
    `table_name` when given. `LayoutError` when the layout cannot be deployed."""
    defn = table_definition(layout, model)
    create = create_table_kwargs(defn)
    post = post_create_calls(defn)
    if table_name is not None:
        create["TableName"] = table_name
        post = {method: {**kwargs, "TableName": table_name} for method, kwargs in post.items()}
    return create, post


__all__ = [
    "LAMBDA_RUNTIME",
    "FileResult",
    "PatternMethod",
    "check_data",
    "check_file",
    "check_text",
    "compile_file",
    "compile_model",
    "emit_files",
    "emit_repository",
    "emit_transformers",
    "expand_paths",
    "load_model",
    "package_name",
    "pattern_methods",
    "read_previous_layout",
    "stack_template",
    "summarize",
    "table_requests",
    "validate_files",
    "validate_paths",
]
