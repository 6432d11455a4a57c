"""`--help` examples, the CLI reference and shell completion.

Every command has examples; each example is parsed by the real command (so an example naming
a flag that does not exist, or missing a required one, fails here); `--help` and the generated
CLI reference both show them; completion scripts and completions come from the `model` group.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from modeling.cli import app
from modeling.commands.examples import EXAMPLES
from modeling.emit import reference

ROOT = typer.main.get_command(app)


def _leaves(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in group.commands.items():
        if isinstance(getattr(command, "commands", None), dict):
            out += _leaves(command, (*path, name))
        else:
            out.append((*path, name))
    return out


def _command(path: tuple[str, ...]) -> Any:
    command: Any = ROOT
    for name in path:
        command = command.commands[name]
    return command


def test_every_command_has_examples_and_no_example_names_a_missing_command() -> None:
    leaves = set(_leaves(ROOT))
    assert len(leaves) >= 12
    assert leaves - set(EXAMPLES) == set(), "commands without examples"
    assert set(EXAMPLES) - leaves == set(), "examples of commands that do not exist"


@pytest.mark.parametrize(
    ("path", "line"),
    [(path, line) for path, examples in EXAMPLES.items() for _, line in examples],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_each_example_parses(path: tuple[str, ...], line: str) -> None:
    words = shlex.split(line)
    assert words[0] == "model"
    assert tuple(words[1 : 1 + len(path)]) == path, f"{line!r} does not run `{' '.join(path)}`"
    args = words[1 + len(path) :]
    command = _command(path)
    # parse only: make_context checks every flag, value type and required parameter
    ctx = command.make_context(" ".join(path), list(args))
    assert ctx.params  # something was parsed


def test_help_shows_examples() -> None:
    runner = CliRunner()
    for path in (("compile",), ("migrate", "run"), ("verify",)):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "Examples:" in result.output
        for _, line in EXAMPLES[path]:
            assert line.split(" ", 2)[-1][:40] in result.output, (path, line)


def test_cli_reference_shows_examples_and_exit_codes() -> None:
    page = reference.cli_reference(ROOT)
    for path, examples in EXAMPLES.items():
        full = " ".join(("model", *path))
        section = page.split(f"\n## {full} ")[1].split("\n## ")[0]
        assert "Examples:" in section, full
        for what, line in examples:
            assert f"# {what}" in section and line in section, (full, line)
    assert "`130` interrupted" in page and "--install-completion" in page


def test_completion_script_and_completions() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == 0 and "_model_completion" in result.output, (
        result.output,
        repr(result.exception),
        {k: v for k, v in os.environ.items() if "COMPLETE" in k or k == "SHELL"},
    )
    env = {**os.environ, "_MODEL_COMPLETE": "complete_bash", "COMP_WORDS": "model migrate r"}
    env["COMP_CWORD"] = "2"
    done = subprocess.run(
        [sys.executable, "-m", "modeling"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["run"], done.stdout + done.stderr
