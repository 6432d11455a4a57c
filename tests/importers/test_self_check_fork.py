"""`model init` runs its self-check in a forked child for a large model (issue 18 item 5): the
files, the report, the output and the exit code are those of the check run in-process; an
error the check finds in the child is reported as before; a check that raises in the child is
run again in-process (so it behaves as without the child); a child that dies is a clear error;
SIGTERM to `model init` stops the child too."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modeling.cli import app
from modeling.commands import _self_check
from modeling.importers import _seed

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from seed import chain_ddl, shared_ddl

SHARED = sorted(shared_ddl().glob("*.sql"))
pytestmark = pytest.mark.skipif(not _self_check.fork_available(), reason="no fork here")


def _init(tmp: Path, ddl: Path, fork: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One `model init` run in this process, forking for every model (fork) or none."""
    monkeypatch.setattr(_self_check, "FORK_MIN_ENTITIES", 1 if fork else 10**9)
    out = tmp / ("fork" if fork else "serial")
    res = CliRunner().invoke(
        app,
        ["init", "--from-ddl", str(ddl), "-o", str(out / "m.yaml"), "--report", str(out / "r")],
    )
    files = {
        p.name: p.read_bytes().replace(str(out).encode(), b"OUT")
        for p in (sorted(out.iterdir()) if out.exists() else [])
    }
    return {"code": res.exit_code, "output": res.output.replace(str(out), "OUT"), "files": files}


def _chain(tmp: Path, tables: int) -> Path:
    ddl = tmp / "chain.sql"
    ddl.write_text(chain_ddl(tables), encoding="utf-8")
    return ddl


def _count_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    forks: list[int] = []
    real = _self_check.BackgroundCheck.__init__

    def counted(self: Any, *args: Any) -> None:
        forks.append(1)
        real(self, *args)

    monkeypatch.setattr(_self_check.BackgroundCheck, "__init__", counted)
    return forks


@pytest.mark.parametrize("ddl", SHARED, ids=[p.stem for p in SHARED])
def test_the_forked_check_gives_the_serial_result_on_real_dumps(
    ddl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forks = _count_forks(monkeypatch)
    serial = _init(tmp_path, ddl, False, monkeypatch)
    assert not forks
    forked = _init(tmp_path, ddl, True, monkeypatch)
    assert forks or serial["code"] != 0  # a dump seeding no model never starts the check
    assert forked == serial


def test_the_forked_check_gives_the_serial_result_on_a_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ddl = _chain(tmp_path, 60)
    serial = _init(tmp_path, ddl, False, monkeypatch)
    forked = _init(tmp_path, ddl, True, monkeypatch)
    assert serial["code"] == 0 and b"T59:" in serial["files"]["m.yaml"]
    assert forked == serial


def _break_first_entity(monkeypatch: pytest.MonkeyPatch, field: str, value: Any) -> None:
    """Seeding writes a bad value into the first entity (a seeder bug the check must catch)."""
    real = _seed.catalog_to_spec

    def broken(*args: Any, **kwargs: Any) -> Any:
        seeded = real(*args, **kwargs)
        entities = seeded.doc["entities"]
        entities[next(iter(entities))][field] = value
        return seeded

    monkeypatch.setattr(_seed, "catalog_to_spec", broken)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        # the key names no attribute: found by the child (the checks after the schema pass)
        ("key", ["nope"], "nope"),
        # not a count: found by the JSON Schema pass, which the parent runs beside the child
        ("row_count", "many", "row_count"),
    ],
)
def test_an_error_the_check_finds_is_reported_as_in_process(
    field: str, value: Any, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_first_entity(monkeypatch, field, value)
    ddl = _chain(tmp_path, 5)
    serial = _init(tmp_path, ddl, False, monkeypatch)
    forked = _init(tmp_path, ddl, True, monkeypatch)
    assert "SEED051" in serial["output"] and says in serial["output"]
    report = json.loads(serial["files"]["r"])
    assert report["self_check"] and "m.yaml:" in report["self_check"][0]
    assert forked == serial


def _in_child_only(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """`_check_document` does `action` first when it runs in a child of this process."""
    parent, real = os.getpid(), _self_check._check_document

    def patched(*args: Any) -> list[str]:
        if os.getpid() != parent:
            action()
        return real(*args)

    monkeypatch.setattr(_self_check, "_check_document", patched)


def test_a_check_that_raises_in_the_child_runs_again_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> None:
        raise MemoryError("the child ran out")

    ddl = _chain(tmp_path, 8)
    serial = _init(tmp_path, ddl, False, monkeypatch)
    _in_child_only(monkeypatch, boom)
    forked = _init(tmp_path, ddl, True, monkeypatch)
    assert forked == serial and serial["code"] == 0


def test_a_child_that_dies_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _in_child_only(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    forked = _init(tmp_path, _chain(tmp_path, 8), True, monkeypatch)
    assert forked["code"] == 1
    assert "error: the self-check" in forked["output"]
    assert "killed by SIGKILL" in forked["output"]
    assert "Traceback" not in forked["output"]
    assert "m.yaml" not in forked["files"]  # nothing written that was not checked


def test_small_models_are_checked_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_self_check, "FORK_MIN_ENTITIES", 9)
    forks = _count_forks(monkeypatch)
    res = CliRunner().invoke(app, ["init", "--from-ddl", str(_chain(tmp_path, 8))])
    assert res.exit_code == 0 and not forks
    res = CliRunner().invoke(app, ["init", "--from-ddl", str(_chain(tmp_path, 9))])
    assert res.exit_code == 0 and len(forks) == 1


_SLOW_CHILD = """
import os, sys, time
from pathlib import Path
from modeling.commands import _self_check
_self_check.FORK_MIN_ENTITIES = 1
PID_FILE = Path(sys.argv[1])
def slow(*args):
    PID_FILE.write_text(str(os.getpid()))
    time.sleep(60)
_self_check._check_document = slow
sys.argv = ["model", "init", "--from-ddl", sys.argv[2], "-o", sys.argv[3]]
from modeling.cli import main
main()
"""


def test_sigterm_stops_the_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    ddl = _chain(tmp_path, 5)
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_CHILD, encoding="utf-8")
    model = tmp_path / "out" / "m.yaml"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(pid_file), str(ddl), str(model)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        child = int(pid_file.read_text())
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert b"Traceback" not in err
    assert not model.exists()
    with pytest.raises(ProcessLookupError):  # gone, and reaped by its parent
        os.kill(child, 0)


def test_the_check_runs_on_frozen_objects_and_the_parent_unfreezes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector skips the seeded objects while the child checks them (gc.freeze before
    the fork), and the parent's collector sees them again once the check is over."""
    parent = os.getpid()

    def frozen_count(*args: Any) -> list[str]:
        return [f"frozen in the child: {gc.get_freeze_count()}"] if os.getpid() != parent else []

    monkeypatch.setattr(_self_check, "_check_document", frozen_count)
    assert gc.get_freeze_count() == 0
    forked = _init(tmp_path, _chain(tmp_path, 6), True, monkeypatch)
    said = json.loads(forked["files"]["r"])["self_check"]
    assert len(said) == 1 and int(said[0].rsplit(" ", 1)[1]) > 1000, said
    assert gc.get_freeze_count() == 0
