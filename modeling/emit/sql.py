"""extract.sql: every extraction query of every entity, as `modeling.extraction` builds them."""

from __future__ import annotations

import re

from modeling.core import ir
from modeling.emit import FileManifest, header, register
from modeling.extraction import extraction_queries

# --------------------------------------------------------------------------- extract.sql


def _comment(text: str) -> str:
    """Comment-safe text: a newline in a hostile name must not end the `--` comment."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def _params(sql: str) -> str:
    names = sorted(set(re.findall(r"(?<!%)%\(([A-Za-z0-9_]+)\)s", sql)))
    return ", ".join(names) if names else "none (pass an empty mapping)"


def extract_sql(model: ir.Model) -> str:
    lines = [
        f"-- {header(model)}",
        "-- Extraction queries, one section per entity (PostgreSQL, psycopg named parameters).",
        "-- Always execute with a parameter mapping, even an empty one: a % inside a quoted",
        "-- name is written %%. Keyset pages: start with the first page, then pass the last",
        "-- row's key as after_*; bound a chunk above with until_* (inclusive).",
    ]
    for ent in sorted(model.entities, key=lambda e: e.name):
        q = extraction_queries(model, ent.name)
        key_text = ", ".join(k.column for k in q.key)
        lines += [
            "",
            f"-- ======== {ent.name}: {_comment(q.table)}, key ({_comment(key_text)})",
        ]
        sections = (
            ("first page", q.first_page),
            ("next page", q.next_page),
            ("first page of a chunk", q.first_page_until),
            ("next page of a chunk", q.next_page_until),
            ("rows of a batch of keys", q.by_ids),
            ("row count", q.count),
            ("smallest key", q.min_key),
            ("largest key", q.max_key),
            ("chunk boundaries (every chunk_rows-th key)", q.chunk_boundaries),
        )
        for title, sql in sections:
            lines += ["", f"-- {ent.name}: {title}; parameters: {_params(sql)}", sql + ";"]
    return "\n".join(lines) + "\n"


@register("sql")
def emit_sql(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """extract.sql: every extraction query of every entity, as the API returns them."""
    del layout  # extraction reads the source tables; the layout does not change them
    return {"extract.sql": extract_sql(model)}
