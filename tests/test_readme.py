"""The README's main job runs as written: CI proves what the README promises.

The block between the `readme-main-job` markers is executed with bash from the repository
root, line by line with `set -e`, so a command that stops working fails this test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def main_job() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- readme-main-job:start -->\s*```sh\n(.*?)```\s*<!-- readme-main-job:end -->",
        text,
        re.S,
    )
    assert found, "README.md lost its main-job block"
    return found.group(1)


def test_main_job_block_uses_the_example_models() -> None:
    block = main_job()
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    verbs = [c.split()[1] for c in commands if c.startswith("model ")]
    assert verbs[:2] == ["validate", "compile"]
    assert {"verify", "init", "docs", "explain", "migrate"} <= set(verbs)
    assert any(c.startswith("model migrate demo models/") for c in commands)  # the main job


@pytest.mark.e2e
@pytest.mark.slow
def test_main_job_runs_as_written(tmp_path: Path) -> None:
    venv_bin = Path(sys.executable).parent
    if not (ROOT / ".venv" / "bin" / "activate").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("no .venv: ./scripts/setup did not run")
        pytest.skip("no .venv: run ./scripts/setup")
    env = {**os.environ, "TMPDIR": str(tmp_path), "PATH": f"{venv_bin}:{os.environ['PATH']}"}
    before = {p: p.read_bytes() for p in (ROOT / "generated").rglob("*") if p.is_file()}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", main_job()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    # what the block promises, checked on what it left behind
    assert "result: ok" in result.stdout + result.stderr
    # the migration demo validated every row it loaded (0 missing / mismatched / stale)
    assert re.search(
        r"validation: ok — checked [1-9]\d*, missing 0, mismatched 0, stale 0", result.stdout
    ), result.stdout[-4000:]
    seeded = (tmp_path / "shop.yaml").read_text(encoding="utf-8")
    assert "entities:" in seeded and "OrderLine:" in seeded
    assert (tmp_path / "site" / "index.html").exists()
    after = {p: p.read_bytes() for p in (ROOT / "generated").rglob("*") if p.is_file()}
    assert after == before, "model compile changed generated/: it is out of sync with models/"
