"""SQL copied from real apps: a join to the parent used only to filter the child."""

from __future__ import annotations

import pytest

from modeling.spec.sql_patterns import TableInfo, translate

TABLES = [
    TableInfo("Account", "accounts", {"accountid": "accountId", "tier": "tier"}, ("accountId",)),
    TableInfo(
        "Contact",
        "contacts",
        {"accountid": "accountId", "contactid": "contactId", "lastseenat": "lastSeenAt"},
        ("accountId", "contactId"),
        parent="Account",
    ),
]
JOIN = 'FROM contacts c JOIN accounts a ON a."accountId" = c."accountId" '


@pytest.mark.parametrize(
    "select", ["SELECT c.*", 'SELECT c."contactId", c."lastSeenAt"', "SELECT c.*, c.contactid"]
)
def test_selecting_only_the_child_reads_only_the_child(select: str) -> None:
    sql = (
        f'{select} {JOIN} WHERE a."accountId" = $1 AND c."lastSeenAt" >= $2 '
        'ORDER BY c."lastSeenAt" DESC'
    )
    result = translate(sql, TABLES)
    assert result.issues == []
    assert result.entities == ("Contact",)
    assert [(c.attribute, c.op) for c in result.where] == [
        ("accountId", "="),
        ("lastSeenAt", ">="),
    ]
    assert result.order == "desc" and result.order_by == "lastSeenAt"


def test_selecting_both_tables_stays_an_item_collection_read() -> None:
    result = translate(f'SELECT * {JOIN} WHERE a."accountId" = :id', TABLES)
    assert result.issues == [] and result.entities == ("Account", "Contact")


def test_a_condition_on_a_parent_only_column_keeps_both_entities() -> None:
    # the child does not hold `tier`: narrowing would silently drop the condition
    sql = f'SELECT c.* {JOIN} WHERE a."accountId" = :id AND a.tier = :tier'
    result = translate(sql, TABLES)
    assert result.entities == ("Account", "Contact")
