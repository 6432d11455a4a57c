"""Names: one rule for turning model, table and column names into Python/DynamoDB names."""

from __future__ import annotations


def pascal_case(name: str) -> str:
    """`catalog` → `Catalog`, `order-service` → `OrderService` (the default table name)."""
    parts = [p for p in name.replace("-", "_").split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or name
