"""An enum a pattern orders by (issue 18's adversarial pass): the importers write `enum:` for a
PostgreSQL ENUM type, in the order its values were declared, which is the order PostgreSQL
sorts and compares them in (`ORDER BY priority` on ENUM ('low', 'medium', 'high') gives low,
medium, high). DynamoDB sorts the key text by bytes: high, low, medium. The plan was exact for
the compiler and skipped by the collation check ("an enum is not collation-sensitive")."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeling.api import load_model
from modeling.compile import compile_model


def _enum_order(tmp_path: Path, values: str, pattern: str) -> list[tuple[str, str | None]]:
    path = tmp_path / "tickets.yaml"
    path.write_text(
        "model: tickets\n"
        "source: {dialect: postgres, collation: C}\n"
        "entities:\n"
        "  Ticket:\n"
        "    table: tickets\n"
        "    key: [ticket_id]\n"
        "    attributes:\n"
        "      ticket_id: integer\n"
        "      queue: string\n"
        f"      priority: {{type: string, enum: [{values}]}}\n"
        "access_patterns:\n"
        "  p:\n"
        f"    sql: {pattern}\n",
        encoding="utf-8",
    )
    layout, bag = compile_model(load_model(path))
    assert layout is not None, [d.format() for d in bag.errors]
    return [(d.severity.value, d.subject) for d in bag if d.code == "enum-order"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM tickets WHERE queue = :q ORDER BY priority DESC",
        "SELECT * FROM tickets WHERE queue = :q AND priority >= 'medium' ORDER BY priority",
    ],
)
def test_ordering_by_an_enum_declared_out_of_byte_order_is_a_warning(
    tmp_path: Path, sql: str
) -> None:
    assert _enum_order(tmp_path, "low, medium, high", sql) == [("warning", "p")]


def test_an_enum_in_byte_order_or_only_compared_by_equality_is_silent(tmp_path: Path) -> None:
    ordered = "SELECT * FROM tickets WHERE queue = :q ORDER BY priority"
    assert _enum_order(tmp_path, "high, low, medium", ordered) == []
    equal = "SELECT * FROM tickets WHERE queue = :q AND priority = 'low'"
    assert _enum_order(tmp_path, "low, medium, high", equal) == []
