"""Collation (issue 13, item 8, compile side): DynamoDB orders sort keys by UTF-8 bytes,
PostgreSQL text by the column's collation. A pattern that orders by (or compares with a range)
a string key slot under a known non-C collation is warned about (`collation-order`); when the
collation is not declared, one info per model lists the patterns, and `C` silences it."""

from __future__ import annotations

from pathlib import Path

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.pg.collations import byte_ordered


def _model(tmp_path: Path, source: str = "", title: str = "string") -> ir.Model:
    path = tmp_path / "forum.yaml"
    path.write_text(
        "model: forum\n" + source + "entities:\n"
        "  Topic:\n"
        "    key: [topic_id]\n"
        "    attributes:\n"
        "      topic_id: string\n"
        "      board: string\n"
        f"      title: {title}\n"
        "      status: {type: string, enum: [open, closed]}\n"
        "access_patterns:\n"
        "  topics_by_title:\n"
        "    sql: SELECT * FROM topics WHERE board = :board ORDER BY title\n"
        "  topics_titled_before:\n"
        "    entity: Topic\n"
        '    where: {board: "=", title: "<"}\n'
        "  topics_by_title_prefix:\n"
        "    entity: Topic\n"
        '    where: {board: "=", title: begins_with}\n'
        "  topics_by_status:\n"
        "    sql: SELECT * FROM topics WHERE board = :board ORDER BY status\n",
        encoding="utf-8",
    )
    return load_model(path)


def _collation(m: ir.Model) -> list[tuple[str, str | None]]:
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    return sorted((d.severity.value, d.subject) for d in bag if d.code == "collation-order")


def test_a_language_collation_warns_per_pattern_that_orders_or_compares_a_string(
    tmp_path: Path,
) -> None:
    m = _model(tmp_path, "source:\n  collation: en_US.utf8\n")
    topic = m.entity("Topic")
    assert topic is not None and topic.attribute("title").collation == "en_US.utf8"  # type: ignore[union-attr]
    # begins_with (LIKE 'x%') and an enum are not collation-sensitive: not listed
    assert _collation(m) == [
        ("warning", "topics_by_title"),
        ("warning", "topics_titled_before"),
    ]
    _layout, bag = compile_model(m)
    message = next(d for d in bag if d.code == "collation-order")
    assert "en_US.utf8" in message.message and "bytes" in message.message
    assert message.hint is not None and 'COLLATE "C"' in message.hint


def test_the_c_collation_is_byte_order_and_an_attribute_overrides_the_source(
    tmp_path: Path,
) -> None:
    assert _collation(_model(tmp_path, "source:\n  collation: C\n")) == []
    title = '{type: string, collation: "C"}'
    assert _collation(_model(tmp_path, "source:\n  collation: en_US.utf8\n", title)) == []
    title = "{type: string, collation: de-x-icu}"
    assert _collation(_model(tmp_path, "source:\n  collation: C\n", title)) == [
        ("warning", "topics_by_title"),
        ("warning", "topics_titled_before"),
    ]


def test_an_undeclared_collation_is_one_info_for_the_model(tmp_path: Path) -> None:
    m = _model(tmp_path)
    assert _collation(m) == [("info", "forum")]
    _layout, bag = compile_model(m)
    info = next(d for d in bag if d.code == "collation-order")
    assert "topics_by_title (title)" in info.message and "topics_titled_before" in info.message
    assert info.hint is not None and "source.collation" in info.hint


def test_byte_order_collations() -> None:
    for name in ("C", "POSIX", '"C"', "ucs_basic", "C.UTF-8", "pg_c_utf8"):
        assert byte_ordered(name), name
    for name in ("en_US.utf8", "und-x-icu", "default", "de_DE"):
        assert not byte_ordered(name), name
