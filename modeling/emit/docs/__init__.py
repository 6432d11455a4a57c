"""Browsable docs of one compiled model: markdown pages for mkdocs-material, with diagrams.

    model_pages(model, layout) -> {relpath: text}

Pages (relative to the model's folder in the site), one module each:

    index.md              overview: table settings, counts, ER diagram, entities, patterns, warnings
    diagrams.md           ER, key-layout and access-pattern diagrams (inline SVG + DOT sources)
    access-patterns.md    pattern → index → key condition → example values → SQL equivalent
    indexes.md            every index, who is on it, and sample item collections per partition
    runbook.md            migrating this model: chunks, the three cutover flags, validation
    entities/<Entity>.md  attributes, source table and columns, its key on every index
    diagrams/<d>.dot|svg  the diagram sources and renderings

The package:

    markdown   escaping (`text`, `code`), tables, fences, links, small facts as text
    samples    deterministic sample items and one example request per plan
    sql        the SQL equivalent of a pattern
    overview, entities, patterns, indexes, runbook    one page each
    pages      `model_pages`: every page and diagram file of one model, and `diagrams.md`
    site       several models as one mkdocs site: index page, nav, theme, config, stylesheet

Why markdown and not HTML: mkdocs-material gives navigation, search and styling for free and
the pages stay readable as text. Every value that comes from the model or the sample data is
escaped (`text`, `code`), because a model may legitimately contain `|`, `*` or `<` in
descriptions and sample strings. Example values come from the verifier's deterministic sample
rows (`modeling.sample.generate`) and its row→item codec, and requests and key conditions from
`modeling.requests`, so what the docs show is what `model verify` loads and queries; the same
model gives the same pages byte for byte.
"""

from __future__ import annotations

from modeling.emit.docs.entities import entity_page
from modeling.emit.docs.indexes import (
    ITEMS_PER_PARTITION,
    PARTITIONS_PER_INDEX,
    _partition_groups,
    indexes_page,
)
from modeling.emit.docs.markdown import (
    VALUE_WIDTH,
    WIDE,
    anchor,
    code,
    diagram_block,
    fenced,
    header,
    short,
    table,
    text,
)
from modeling.emit.docs.overview import overview_page
from modeling.emit.docs.pages import diagrams_page, model_pages
from modeling.emit.docs.patterns import access_patterns_page
from modeling.emit.docs.runbook import DEFAULT_CHUNK_SIZE, runbook_page
from modeling.emit.docs.samples import (
    Example,
    Sample,
    av_text,
    example,
    example_keys,
    make_sample,
    param_text,
)
from modeling.emit.docs.site import (
    MARKDOWN_EXTENSIONS,
    STYLESHEET,
    STYLESHEET_PATH,
    mkdocs_config,
    model_nav,
    models_index,
    site_files,
    theme_config,
)
from modeling.emit.docs.sql import equivalent_sql, one_line
from modeling.requests import key_condition

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ITEMS_PER_PARTITION",
    "MARKDOWN_EXTENSIONS",
    "PARTITIONS_PER_INDEX",
    "STYLESHEET",
    "STYLESHEET_PATH",
    "VALUE_WIDTH",
    "WIDE",
    "Example",
    "Sample",
    "_partition_groups",
    "access_patterns_page",
    "anchor",
    "av_text",
    "code",
    "diagram_block",
    "diagrams_page",
    "entity_page",
    "equivalent_sql",
    "example",
    "example_keys",
    "fenced",
    "header",
    "indexes_page",
    "key_condition",
    "make_sample",
    "mkdocs_config",
    "model_nav",
    "model_pages",
    "models_index",
    "one_line",
    "overview_page",
    "param_text",
    "runbook_page",
    "short",
    "site_files",
    "table",
    "text",
    "theme_config",
]
