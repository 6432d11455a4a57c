"""Fixtures for the docs tests: one build of the project's guide per session, served on
127.0.0.1, the compiled example models, and a headless Chromium driver."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_support import CHROMIUM, MODELS, ROOT, Browser, require

from modeling.api import load_model
from modeling.commands.docs import serve
from modeling.compile import compile_model
from modeling.core.ir import Layout, Model


@pytest.fixture(scope="session")
def compiled_examples() -> list[tuple[Model, Layout]]:
    """Every example model, loaded with its repo-relative path and compiled."""
    assert MODELS, "no example models in models/"
    out = []
    cwd = os.getcwd()
    os.chdir(ROOT)  # model.file as in the docs: models/<x>.yaml
    try:
        for path in MODELS:
            model = load_model(path.relative_to(ROOT))
            layout, diagnostics = compile_model(model)
            assert layout is not None, diagnostics.sorted()
            out.append((model, layout))
    finally:
        os.chdir(cwd)
    return out


@pytest.fixture(scope="session")
def guide_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's guide (mkdocs.yml at the repo root), built once, strict."""
    require(shutil.which("dot") is not None, "graphviz `dot` not installed")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    site = tmp_path_factory.mktemp("guide") / "site"
    cfg = load_config(config_file=str(ROOT / "mkdocs.yml"), site_dir=str(site), strict=True)
    build(cfg)
    return site


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    require(os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} not installed")
    return Browser(tmp_path_factory.mktemp("chromium-profile"))


@pytest.fixture(scope="session")
def served_guide(guide_site: Path) -> Iterator[str]:
    """The built guide on http://127.0.0.1:<free port>/ (http.server in a thread)."""
    server, url = serve(guide_site, 0)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
