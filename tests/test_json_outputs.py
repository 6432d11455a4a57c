"""`--json` on every command that reports: compile and explain here (validate, verify, docs,
migrate and engines have theirs beside their other tests), and a census: a command with a
`--json` option that no test runs with `--json` fails this file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from modeling.api import compile_file
from modeling.cli import app
from modeling.requests import key_condition

ROOT = Path(__file__).resolve().parents[1]


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_compile_json_lists_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    result = _invoke("compile", str(ROOT / "models" / "saas.yaml"), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    (record,) = report["models"]
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert record["written"] == on_disk and record["unchanged"] == []
    model, layout = compile_file(ROOT / "models" / "saas.yaml")
    assert record["model"] == model.name and record["patterns"] == len(layout.plans)
    assert record["gsis"] == len(layout.gsis)
    assert {d["code"] for d in record["diagnostics"]} == {d.code for d in layout.diagnostics}
    # stale: one file edited, one removed -> ok false, exit 1, named
    first, second = on_disk[0], on_disk[1]
    (out / first).write_text("edited\n")
    (out / second).unlink()
    check = _invoke(
        "compile", str(ROOT / "models" / "saas.yaml"), "-o", str(out), "--check", "--json"
    )
    assert check.exit_code == 1
    stale = json.loads(check.stdout)
    assert stale["ok"] is False
    assert stale["models"][0]["stale"] == [first]
    assert stale["models"][0]["missing"] == [second]


def test_compile_json_on_an_invalid_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: bad\nentities:\n  A:\n    key: [id]\n    attributes: {id: strng}\n")
    good = tmp_path / "saas.yaml"
    shutil.copy(ROOT / "models" / "saas.yaml", good)
    result = _invoke("compile", str(bad), str(good), "-o", str(tmp_path / "g"), "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)  # stdout holds only the JSON
    assert report["ok"] is False
    broken, fine = report["models"]
    assert broken["ok"] is False and broken["path"] == str(bad)
    (error,) = [d for d in broken["diagnostics"] if d["severity"] == "error"]
    assert error["span"]["line"] == 5
    assert fine["ok"] is True and fine["written"]


def test_explain_json_is_the_plan() -> None:
    _, layout = compile_file(ROOT / "models" / "orders.yaml")
    for plan in layout.plans:
        result = _invoke("explain", str(ROOT / "models" / "orders.yaml"), plan.pattern, "--json")
        assert result.exit_code == 0, result.output
        record = json.loads(result.stdout)
        index = layout.index(plan.index)
        assert index is not None
        assert record["pattern"] == plan.pattern and record["index"] == plan.index
        assert record["key_condition"] == key_condition(plan, index)
        assert record["parameters"] == list(plan.params)
        assert record["order"] == ("ascending" if plan.scan_forward else "descending")
        assert record["proof"] == list(plan.proof) and record["proof"]
    missing = _invoke("explain", str(ROOT / "models" / "orders.yaml"), "nope", "--json")
    assert missing.exit_code == 2


def _json_commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if isinstance(getattr(command, "commands", None), dict):
            out += _json_commands(command, (*path, name))
        elif any("--json" in getattr(p, "opts", []) for p in command.params):
            out.append((*path, name))
    return out


def test_every_json_option_is_exercised_by_a_test() -> None:
    commands = _json_commands(typer.main.get_command(app))
    assert len(commands) >= 10, commands
    untested = []
    for path in commands:
        # a test file that names the command's group (for subcommands), and calls the
        # command's own word with --json within the same call (a dozen lines)
        call = re.compile(
            r"[\"']" + re.escape(path[-1]) + r"[\"'][^\n]*(?:\n[^\n]*){0,12}?[\"']--json[\"']"
        )
        found = False
        for test in (ROOT / "tests").rglob("test_*.py"):
            text = test.read_text("utf-8")
            if len(path) > 1 and f'"{path[0]}"' not in text:
                continue
            if call.search(text):
                found = True
                break
        if not found:
            untested.append(" ".join(path))
    assert untested == [], f"--json without a test: {untested}"
