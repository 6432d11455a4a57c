"""One root exception, exit codes defined once, and the CLI's single exception -> exit mapping."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modeling
from modeling import cli
from modeling.core import errors
from modeling.core.diagnostics import Diagnostics, ModelError
from modeling.core.errors import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    InputError,
    ModelingError,
    OperationError,
)
from modeling.emit._python import PythonFormatError
from modeling.emit.cloudformation import LayoutError
from modeling.emit.transformers import EmitError
from modeling.extraction import ExtractionError
from modeling.migrate.errors import MigrationError
from modeling.migrate.sink import SinkError
from modeling.pg.tokens import DDLSyntaxError
from modeling.requests import PlanError
from modeling.sample.codec import ItemError
from modeling.services import ServiceUnavailable

PACKAGE = Path(modeling.__file__).resolve().parent

# class -> (exit code, the standard base callers may still catch it by)
EXPECTED: dict[type[Exception], tuple[int, type[Exception]]] = {
    ModelError: (EXIT_INVALID, Exception),
    DDLSyntaxError: (EXIT_INVALID, Exception),
    LayoutError: (EXIT_INVALID, ValueError),
    ExtractionError: (EXIT_INVALID, ValueError),
    ItemError: (EXIT_INVALID, ValueError),
    PlanError: (EXIT_INVALID, ValueError),
    MigrationError: (EXIT_INVALID, RuntimeError),
    ServiceUnavailable: (EXIT_INVALID, RuntimeError),
    EmitError: (EXIT_FAILURE, ValueError),
    SinkError: (EXIT_FAILURE, RuntimeError),
    PythonFormatError: (EXIT_FAILURE, RuntimeError),
}


def test_exit_codes() -> None:
    assert (EXIT_OK, EXIT_FAILURE, EXIT_INVALID) == (0, 1, 2)
    assert ModelingError.exit_code == EXIT_FAILURE
    assert InputError.exit_code == EXIT_INVALID
    assert OperationError.exit_code == EXIT_FAILURE


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_each_exception_has_its_exit_code_and_keeps_its_old_base(cls: type[Exception]) -> None:
    code, base = EXPECTED[cls]
    assert issubclass(cls, ModelingError)
    assert issubclass(cls, base)
    assert cls.exit_code == code  # type: ignore[attr-defined]
    assert issubclass(cls, InputError if code == EXIT_INVALID else OperationError)


def test_exit_code_of_any_exception() -> None:
    assert errors.exit_code(MigrationError("x", "do y")) == EXIT_INVALID
    assert errors.exit_code(SinkError("x")) == EXIT_FAILURE
    assert errors.exit_code(KeyError("x")) == EXIT_FAILURE


def _exception_classes() -> list[tuple[str, str, list[str]]]:
    """(file, class, bases) of every class in the package whose base looks like an exception;
    code inside strings (generated-code templates) is not parsed, so not counted."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b) for b in node.bases]
                if any(re.search(r"(Error|Exception|Unavailable)$", b) for b in bases):
                    found.append((path.relative_to(PACKAGE).as_posix(), node.name, bases))
    return found


def test_every_package_exception_derives_from_the_root() -> None:
    roots = {"ModelingError", "InputError", "OperationError"}
    derived = {name for _, name, _ in _exception_classes()}
    outside = []
    for file, name, bases in _exception_classes():
        if file.startswith("runtime/"):
            continue  # stdlib-only, copied into generated code: no package imports
        if file == "core/errors.py":
            continue
        if not any(b in roots or b in derived for b in bases):
            outside.append(f"{file}: {name}({', '.join(bases)})")
    assert outside == []


def test_exit_constants_are_defined_only_in_core_errors() -> None:
    homes = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id.startswith("EXIT_"):
                    homes.append(f"{path.relative_to(PACKAGE).as_posix()}:{t.id}")
    assert sorted(homes) == [
        "core/errors.py:EXIT_FAILURE",
        "core/errors.py:EXIT_INVALID",
        "core/errors.py:EXIT_OK",
        "core/errors.py:EXIT_SIGTERM",
    ]


@pytest.fixture
def raising() -> Iterator[dict[str, BaseException]]:
    """Adds to the real `model` app a hidden command that raises `raising["exc"]`."""
    what: dict[str, BaseException] = {}

    @cli.app.command("raise-for-test", hidden=True)
    def _raise() -> None:
        raise what["exc"]

    yield what
    cli.app.registered_commands.pop()


@pytest.mark.parametrize(
    ("exc", "code", "lines"),
    [
        (MigrationError("no such column", "add it to the source"), 2, ["error: no such column", "  hint: add it to the source"]),
        (SinkError("writes kept failing"), 1, ["error: writes kept failing"]),
        (DDLSyntaxError("unexpected end of statement", 3), 2, None),
        (ModelError(Diagnostics()), 2, ["error: invalid input"]),
        (ModelingError(), 1, ["error: ModelingError"]),
    ],
    ids=["migration", "sink", "ddl", "model", "root"],
)  # fmt: skip
def test_a_command_raising_a_modeling_error_exits_with_its_code_without_traceback(
    raising: dict[str, BaseException], exc: ModelingError, code: int, lines: list[str] | None
) -> None:
    raising["exc"] = exc
    result = CliRunner().invoke(cli.app, ["raise-for-test"])
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, ModelingError)
    assert "Traceback" not in result.output
    err = result.stderr if result.stderr_bytes is not None else result.output
    if lines is not None:
        assert err.splitlines() == lines
    else:
        assert err.startswith("error: ")


def test_other_exceptions_are_not_swallowed(raising: dict[str, BaseException]) -> None:
    raising["exc"] = KeyError("bug")
    result = CliRunner().invoke(cli.app, ["raise-for-test"])
    assert isinstance(result.exception, KeyError)  # a bug keeps its traceback
