"""Shared helpers for emitters that write Python (transformers, client).

Why a module of its own: generated Python must be deterministic and look hand-written, so the
same few rules apply everywhere and live in one place:

* templates hold only layout (`render`): every value arrives already rendered as Python source
  (`literal`), so a template never decides anything;
* imports are collected while the code is built and printed once, sorted (`Imports`);
* names coming from a model (entities, attributes, bind parameters) become safe identifiers
  (`identifier`), and everything else from the model enters the code only as string literals;
* the result is formatted with ruff (`format_python`), isolated from any project config, so
  the bytes do not depend on where `model compile` runs.
"""

from __future__ import annotations

import datetime
import decimal
import keyword
import re
import string
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass, field

from modeling.core import ir
from modeling.core.errors import OperationError
from modeling.emit import header

LINE_LENGTH = 100


class PythonFormatError(OperationError, RuntimeError):
    """ruff is missing or rejected the generated source (a bug in an emitter)."""


def format_python(source: str) -> str:
    """`source` formatted by `ruff format` (isolated settings, line length 100).

    ruff is a runtime dependency (pyproject); it runs as `python -m ruff` from this interpreter
    so the version that formats is the one installed with the tool.
    """
    command = [
        sys.executable,
        "-m",
        "ruff",
        "format",
        "--isolated",
        f"--line-length={LINE_LENGTH}",
        "--target-version=py311",
        "--stdin-filename=generated.py",
        "-",
    ]
    try:
        done = subprocess.run(
            command, input=source, capture_output=True, text=True, encoding="utf-8", check=False
        )
    except OSError as exc:  # pragma: no cover - the interpreter itself is missing
        raise PythonFormatError(f"cannot run {' '.join(command)}: {exc}") from exc
    if done.returncode != 0:
        if "No module named ruff" in done.stderr:
            raise PythonFormatError(
                "ruff is not installed in this environment; it formats generated Python. "
                f"Install it with: {sys.executable} -m pip install ruff"
            )
        raise PythonFormatError(f"ruff could not format the generated source:\n{done.stderr}")
    return done.stdout


def comment_header(model: ir.Model) -> str:
    """The generated-file header as Python comment lines."""
    return f"# {header(model)}\n"


def render(template: str, **values: str) -> str:
    """Fill `$name` placeholders of a dedented template; every value is already source text.

    A multi-line value continues at the column of the line its placeholder is on, so bodies
    and docstrings keep their indentation. A missing value raises (`string.Template`), so a
    template can never silently keep a placeholder.
    """
    text = textwrap.dedent(template).lstrip("\n")
    out: list[str] = []
    for line in text.split("\n"):
        margin = line[: len(line) - len(line.lstrip())]
        local = {
            k: v.replace("\n", "\n" + margin) if margin else v
            for k, v in values.items()
            if "$" + k in line or "${" + k + "}" in line
        }
        filled = string.Template(line).substitute(local)
        out.append("\n".join(part.rstrip() for part in filled.split("\n")))
    return "\n".join(out)


def indent(code: str, level: int) -> str:
    """`code` indented by `level` steps of four spaces (empty lines stay empty)."""
    return textwrap.indent(code, "    " * level, lambda line: bool(line.strip()))


def value_literal(value: object) -> str:
    """Source for a value of a model type (already coerced), in a generated module that
    imports `datetime as _dt`, `Decimal` and `UUID` (clients and transformers do)."""
    if isinstance(value, datetime.datetime):
        return f"_dt.datetime.fromisoformat({literal(value.isoformat())})"
    if isinstance(value, datetime.date):
        return f"_dt.date.fromisoformat({literal(value.isoformat())})"
    if isinstance(value, decimal.Decimal):
        return f"Decimal({literal(str(value))})"
    if isinstance(value, uuid.UUID):
        return f"UUID({literal(str(value))})"
    if isinstance(value, bytes):
        return f"bytes.fromhex({literal(value.hex())})"
    return literal(value)


def literal(value: object) -> str:
    """Python source for a plain value (str, int, float, bool, None, tuples and lists of them).

    repr is deterministic for these types; anything else is a bug in the caller.
    """
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"no Python literal for {value!r}")
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"no Python literal for {type(value).__name__}")


_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]+")

# The project's one naming rule (`modeling.core.naming`), under the names the emitters use.


def identifier(
    name: str, taken: set[str] | None = None, reserved: frozenset[str] = frozenset()
) -> str:
    """A valid, non-keyword Python identifier for `name`, unique within `taken` (updated)."""
    text = _NOT_IDENT.sub("_", name)
    if not text or text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or keyword.issoftkeyword(text) or text in reserved:
        text += "_"
    if taken is not None:
        base, n = text, 2
        while text in taken:
            text = f"{base}_{n}"
            n += 1
        taken.add(text)
    return text


def is_plain_identifier(name: str) -> bool:
    """Whether `name` can be a TypedDict field / keyword argument as it is."""
    return name.isidentifier() and not keyword.iskeyword(name)


@dataclass
class Imports:
    """Imports collected while code is built, printed once in a fixed order.

    Order: `from __future__`, then standard-library modules, then relative imports of the
    generated siblings; each group sorted, names within one `from` sorted.
    """

    modules: set[str] = field(default_factory=set)
    names: dict[str, set[str]] = field(default_factory=dict)

    def add(self, module: str, name: str | None = None) -> None:
        if name is None:
            self.modules.add(module)
        else:
            self.names.setdefault(module, set()).add(name)

    def render(self) -> str:
        future = [m for m in self.names if m == "__future__"]
        relative = sorted(m for m in self.names if m.startswith("."))
        stdlib = sorted(m for m in self.names if m not in future and m not in relative)
        blocks: list[list[str]] = []
        for group in (future, None, relative):
            lines: list[str] = []
            if group is None:
                lines += [f"import {m}" for m in sorted(self.modules)]
                lines += [self._from(m) for m in stdlib]
                lines.sort(key=lambda line: line.split()[1])
            else:
                lines += [self._from(m) for m in group]
            if lines:
                blocks.append(lines)
        return "\n\n".join("\n".join(b) for b in blocks) + "\n"

    def _from(self, module: str) -> str:
        return f"from {module} import {', '.join(sorted(self.names[module]))}"
