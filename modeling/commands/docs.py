"""`model docs MODEL... [-o site/] [--serve]`: a browsable mkdocs-material site of models.

Each model gets an overview, one page per entity, the access-pattern matrix, index and
item-collection views, a migration runbook and Graphviz diagrams (`modeling.emit.docs`).
Invalid models are reported like `model validate` does and exit 2; nothing is built then.
`--markdown` writes the pages without building HTML (to drop into another mkdocs site).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import logging
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from modeling.api import expand_paths, validate_files
from modeling.commands._previous import compile_locked
from modeling.commands.validate import render
from modeling.core.diagnostics import Diagnostic
from modeling.core.errors import EXIT_INVALID, EXIT_OK, InputError
from modeling.core.ir import Layout, Model
from modeling.emit import docs as emit_docs


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    """Write `files` (relpath → text) under `root`, LF line ends, UTF-8."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8"))


def build_site(config: dict[str, Any], files: Mapping[str, str], work: Path) -> Path:
    """Build an mkdocs site from generated `files` and `config` in the folder `work`.

    Raises `mkdocs.exceptions.Abort` (strict mode: any warning, e.g. a broken link) or
    `graphviz.ExecutableNotFound`; returns the site directory.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    write_tree(work / "docs", files)
    config_file = work / "mkdocs.yml"
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is YAML
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    cfg = load_config(config_file=str(config_file))
    build(cfg)
    return Path(cfg["site_dir"])


def serve(directory: Path, port: int) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `directory` on 127.0.0.1:`port` (0: any free port) in a daemon thread."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def load_compiled(
    paths: list[Path],
) -> tuple[list[tuple[Model, Layout]], list[Diagnostic]]:
    """Every model compiled, or the diagnostics of those that do not validate or compile."""
    compiled: list[tuple[Model, Layout]] = []
    problems: list[Diagnostic] = []
    for result in validate_files(paths):
        problems.extend(d for d in result.diagnostics.sorted() if d.severity.value == "error")
        if result.model is None or not result.ok:
            continue
        layout, diagnostics = compile_locked(result.model)  # the deployed index names
        if layout is None:
            problems.extend(d for d in diagnostics.sorted() if d.severity.value == "error")
            continue
        compiled.append((result.model, layout))
    return compiled, problems


DOCS_EXTRA_HINT = "pip install 'single-table-modeling[docs]'"


class MissingDocsTool(InputError):
    """A part `model docs` needs is not installed (the docs extra, Graphviz's `dot`)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@contextlib.contextmanager
def _docs_tools() -> Iterator[None]:
    """The docs' optional parts (the `docs` extra, Graphviz's `dot`) as InputErrors that say
    how to get them, instead of an ImportError or ExecutableNotFound traceback."""
    try:
        yield
    except ImportError as exc:
        raise MissingDocsTool(
            f"model docs needs {exc.name or 'a package'} (not installed)",
            hint=f"install the docs extra: {DOCS_EXTRA_HINT}",
        ) from exc
    except Exception as exc:
        if type(exc).__name__ != "ExecutableNotFound":  # graphviz's, imported lazily
            raise
        raise MissingDocsTool(
            "model docs renders diagrams with Graphviz's `dot`, which is not on PATH",
            hint="install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew "
            "install graphviz), or use --markdown to write the pages without rendering",
        ) from exc


def _print_json(where: Path, models: list[str], files: int, html: bool) -> None:
    record = {"output": str(where), "models": models, "files": files, "html": html}
    typer.echo(json.dumps(record, indent=2, sort_keys=True))


def register(app: typer.Typer) -> None:
    @app.command("docs")
    def docs(
        paths: list[Path] = typer.Argument(  # noqa: B008
            ..., help="Model files (or folders of *.yaml).", show_default=False
        ),
        output: Path = typer.Option(  # noqa: B008
            Path("site"), "-o", "--output", help="Directory the site is written to."
        ),
        markdown: bool = typer.Option(
            False, "--markdown", help="Write the markdown pages and diagrams only (no HTML)."
        ),
        do_serve: bool = typer.Option(
            False, "--serve", help="After building, serve the site on 127.0.0.1 until Ctrl-C."
        ),
        port: int = typer.Option(8000, "--port", help="Port for --serve (0: any free port)."),
        as_json: bool = typer.Option(
            False, "--json", help="Print what was written as JSON on stdout."
        ),
    ) -> None:
        """Build browsable docs of models: pages, diagrams, access-pattern matrix, runbook."""
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        files_in = expand_paths(paths)
        if not files_in:
            console.print("no model files found", style="yellow")
            raise typer.Exit(EXIT_INVALID)
        compiled, problems = load_compiled(files_in)
        if problems:
            for d in problems:
                console.print(render(d))
            console.print(f"{len(problems)} error(s); no docs built", style="bold red")
            raise typer.Exit(EXIT_INVALID)
        with _docs_tools():
            files, nav = emit_docs.site_files(compiled, render=not markdown)
        files[emit_docs.STYLESHEET_PATH] = emit_docs.STYLESHEET
        models = [m.name for m, _ in compiled]
        if markdown:
            write_tree(output, files)
            if as_json:
                _print_json(output, models, len(files), html=False)
            else:
                console.print(f"wrote {len(files)} files to {output}")
            raise typer.Exit(EXIT_OK)
        names = ", ".join(models)
        with tempfile.TemporaryDirectory(prefix="model-docs-") as tmp, _docs_tools():
            config = emit_docs.mkdocs_config(f"Model docs: {names}", nav, str(output.resolve()))
            site = build_site(config, files, Path(tmp))
        if as_json:
            _print_json(site, models, len(files), html=True)
        else:
            console.print(f"built {site} ({len(compiled)} model(s))")
        if do_serve:
            server, url = serve(site, port)
            console.print(f"serving {url} (Ctrl-C to stop)")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
            finally:
                server.shutdown()
        raise typer.Exit(EXIT_OK)
