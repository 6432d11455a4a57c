"""Helpers of the docs tests: paths, the Chromium driver, skip-or-fail for missing tools."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").glob("*.yaml"))
ARTIFACTS = ROOT / "test-artifacts" / "docs"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # every host but the local server fails to resolve: the page must render offline
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def require(ok: bool, reason: str) -> None:
    """Skip locally, fail under CI=true: CI must never pass because a tool was missing."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing tool is a failure)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Browser:
    profile: Path

    def run(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def dump_dom(self, url: str) -> str:
        """The DOM after scripts ran (virtual time lets the page settle)."""
        done = self.run("--virtual-time-budget=5000", "--dump-dom", url)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def screenshot(self, url: str, target: Path, size: str = "1400,2000") -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        done = self.run(
            "--virtual-time-budget=5000", f"--window-size={size}", f"--screenshot={target}", url
        )
        assert done.returncode == 0 and target.exists(), done.stderr[-2000:]
        return target
