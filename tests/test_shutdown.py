"""Clean shutdown (issue 18): SIGTERM, not only Ctrl-C, stops every engine `model` started
(PostgreSQL, DynamoDB Local) and removes its temporary directories.

The command runs in a subprocess whose TMPDIR is a directory of this test, so every engine it
starts keeps its data directory (and, for DynamoDB Local, its working directory) there: the
processes still running afterwards are found through /proc by that path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeling.core.errors import EXIT_SIGTERM
from modeling.services import ServiceUnavailable, find_dynamodb_local_jar, find_postgres_bindir

REPO = Path(__file__).resolve().parents[1]


def _engines_available() -> None:
    try:
        find_postgres_bindir()
        find_dynamodb_local_jar()
    except ServiceUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes", "on"):
            pytest.fail(f"engines unavailable: {exc}", pytrace=False)
        pytest.skip(f"engines unavailable: {exc}")


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A TMPDIR under /tmp that the `postgres` user may traverse (the server runs as it when
    the tests run as root), so the cluster's directory lands here too."""
    path = Path(tempfile.mkdtemp(prefix="stm-sigterm-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def _processes_using(path: Path) -> dict[int, str]:
    """pid -> command line of every process whose command line or working directory names
    `path` (PostgreSQL: `-D <path>/...`; DynamoDB Local: its cwd)."""
    found: dict[int, str] = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                cwd = ""
        except OSError:
            continue
        if str(path) in cmdline or cwd.startswith(str(path)):
            found[int(entry.name)] = cmdline.strip()
    return found


def _engines_up(tmp: Path) -> bool:
    pg = any((d / "data" / "postmaster.pid").exists() for d in tmp.glob("stm-pg-*"))
    ddb = any(any(d.glob("dynamodb-local-*.log")) for d in tmp.glob("stm-ddb-*"))
    running = _processes_using(tmp)
    has_java = any("DynamoDBLocal" in c for c in running.values())
    has_postgres = any("postgres" in c for c in running.values())
    return pg and ddb and has_java and has_postgres


@pytest.mark.e2e
def test_sigterm_stops_the_engines_and_removes_their_directories(private_tmp: Path) -> None:
    _engines_available()
    env = {**os.environ, "TMPDIR": str(private_tmp), "PYTHONPATH": str(REPO)}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modeling",
            "verify",
            str(REPO / "models" / "orders.yaml"),
            "--postgres",
            "local",
            "--trials",
            "100000",  # far more work than the test waits for: SIGTERM finds it running
        ],
        cwd=str(REPO),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not _engines_up(private_tmp):
            assert proc.poll() is None, proc.communicate()[0].decode()[-2000:]
            assert time.monotonic() < deadline, "the engines did not start in 120 s"
            time.sleep(0.3)
        engines = _processes_using(private_tmp)
        assert engines, "no engine process found"
        assert proc.poll() is None  # still working: the signal interrupts it
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=90)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == EXIT_SIGTERM, output[-2000:]
    assert "Traceback" not in output, output[-2000:]
    # every engine process is gone (PostgreSQL's children exit with the postmaster)
    deadline = time.monotonic() + 20
    while (left := _processes_using(private_tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, left
    assert sorted(p.name for p in private_tmp.iterdir()) == []
