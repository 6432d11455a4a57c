"""Packaging: the wheel builds with the declared minimum build requirements, carries the
package's data and metadata, and the tool runs as `python -m modeling` as well as `model`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from modeling import __version__

ROOT = Path(__file__).resolve().parents[1]


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "modeling", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert __version__ in out.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "modeling", "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr
    for command in ("validate", "compile", "verify", "migrate", "docs"):
        assert command in helped.stdout


def _minimum(requirement: str) -> str:
    name, _, low = requirement.partition(">=")
    assert low, f"build requirement {requirement!r} has no lower bound to test"
    return f"{name.strip()}=={low.split(',')[0].strip()}"


@pytest.mark.slow
def test_the_wheel_builds_with_the_minimum_build_requirements(tmp_path: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pins = [_minimum(r) for r in project["build-system"]["requires"]]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    installed = subprocess.run(
        [*pip, "install", *pins], capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stderr
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "modeling", source / "modeling", ignore=shutil.ignore_patterns("__pycache__")
    )
    built = subprocess.run(
        [
            *pip,
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("single_table_modeling-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(zf.read(f"{dist_info}/METADATA").decode())
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
    expected_sources = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "modeling").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert expected_sources <= names, sorted(expected_sources - names)[:5]
    assert {"modeling/py.typed", "modeling/__main__.py", "modeling/runtime/keys.py"} <= names
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == project["project"]["requires-python"]
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    assert any(r.startswith("pydantic") for r in metadata.get_all("Requires-Dist", []))
    assert "model = modeling.cli:main" in entry_points
