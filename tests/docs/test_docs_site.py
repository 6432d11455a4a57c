"""The built guide (one strict mkdocs build per session) and the `model docs` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docs_support import ROOT, require
from typer.testing import CliRunner

from modeling.cli import app
from modeling.core.ir import Layout, Model

# resources a page would fetch from the network (links <a href> to other sites are fine)
_EXTERNAL_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*?(?:src|href)=[\"']?(?:https?:)?//",
    re.I,
)
_CSS_REMOTE = re.compile(r"(?:@import|url\()\s*[\"']?(?:https?:)?//", re.I)


def test_every_example_model_is_in_the_guide(
    guide_site: Path, compiled_examples: list[tuple[Model, Layout]]
) -> None:
    index = (guide_site / "models" / "index.html").read_text(encoding="utf-8")
    for model, _ in compiled_examples:
        base = guide_site / "models" / model.name
        for page in ("", "diagrams/", "access-patterns/", "indexes/", "runbook/"):
            assert (base / page / "index.html").is_file(), f"{model.name}/{page}"
        for e in model.entities:
            assert (base / "entities" / e.name / "index.html").is_file()
        assert (base / "diagrams" / "er.svg").is_file()
        assert (base / "diagrams" / "er.dot").is_file()
        assert f'href="{model.name}/"' in index


def test_guide_pages_load_nothing_from_the_network(guide_site: Path) -> None:
    pages = list(guide_site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not _EXTERNAL_RESOURCE.search(html), f"{page}: {_EXTERNAL_RESOURCE.search(html)}"
        assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html
    for css in guide_site.rglob("*.css"):
        assert not _CSS_REMOTE.search(css.read_text(encoding="utf-8")), css


def test_guide_references_are_generated(guide_site: Path) -> None:
    for page in ("language", "cli", "diagnostics", "keys"):
        assert (guide_site / "reference" / page / "index.html").is_file()
    cli = (guide_site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert 'id="model-docs"' in cli and "--serve" in cli
    home = (guide_site / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert "model init --from-ddl" in re.sub(r"<[^>]+>", "", home)  # code is highlighted


def test_model_docs_markdown(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["docs", str(ROOT / "models" / "orders.yaml"), "-o", str(tmp_path), "--markdown"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "index.md").is_file()
    assert (tmp_path / "orders" / "entities" / "LineItem.md").is_file()
    assert (tmp_path / "orders" / "diagrams" / "er.dot").is_file()
    assert not (tmp_path / "orders" / "diagrams" / "er.svg").exists()  # --markdown: no render


def test_model_docs_builds_a_site(tmp_path: Path) -> None:
    require(shutil.which("dot") is not None, "graphviz `dot` not installed")
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["docs", str(ROOT / "models" / "saas.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "saas" / "index.html").read_text(encoding="utf-8")
    assert '<div class="stm-diagram" id="diagram-er">' in page and "<svg" in page


def test_model_docs_rejects_an_invalid_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: bad\nentities:\n  A:\n    key: [id]\n    attributes: {id: strng}\n")
    result = CliRunner().invoke(app, ["docs", str(bad), "-o", str(tmp_path / "site")])
    assert result.exit_code == 2
    assert f"{bad}:5:" in result.output
    assert "no docs built" in result.output
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("args", [[], ["does-not-exist.yaml"]])
def test_model_docs_without_a_model(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["docs", *args, "-o", str(tmp_path / "s")])
    assert result.exit_code == 2


def test_model_docs_json(tmp_path: Path) -> None:
    require(shutil.which("dot") is not None, "graphviz `dot` not installed")
    md = CliRunner().invoke(
        app,
        [
            "docs",
            str(ROOT / "models" / "orders.yaml"),
            "-o",
            str(tmp_path / "md"),
            "--markdown",
            "--json",
        ],
    )
    assert md.exit_code == 0, md.output
    record = json.loads(md.stdout)
    written = [p for p in (tmp_path / "md").rglob("*") if p.is_file()]
    assert record == {
        "files": len(written),
        "html": False,
        "models": ["orders"],
        "output": str(tmp_path / "md"),
    }
    site = CliRunner().invoke(
        app, ["docs", str(ROOT / "models" / "saas.yaml"), "-o", str(tmp_path / "s"), "--json"]
    )
    assert site.exit_code == 0, site.output
    built = json.loads(site.stdout)
    assert built["html"] is True and built["models"] == ["saas"]
    assert (Path(built["output"]) / "saas" / "index.html").is_file()


_BLOCK = "import sys; sys.modules[{name!r}] = None; from modeling.cli import main; main()"


@pytest.mark.parametrize("module", ["mkdocs", "graphviz"])
def test_model_docs_without_the_docs_extra_says_how_to_get_it(module: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _BLOCK.format(name=module),
            "docs",
            str(ROOT / "models" / "orders.yaml"),
            "-o",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"model docs needs {module}" in done.stderr
    assert "pip install 'single-table-modeling[docs]'" in done.stderr


def test_model_docs_without_dot_says_how_to_get_it(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()  # a PATH without `dot` (python is named by its full path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "modeling",
            "docs",
            str(ROOT / "models" / "orders.yaml"),
            "-o",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": str(bare)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "Graphviz" in done.stderr and "apt-get install graphviz" in done.stderr
