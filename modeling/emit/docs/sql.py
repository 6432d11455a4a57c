"""The SQL equivalent of an access pattern: what the application runs on PostgreSQL today."""

from __future__ import annotations

import re

from modeling.core.ir import INCLUSIVE, NULL_TESTS, AccessPattern, Condition, Model


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _sql_condition(c: Condition, column: str) -> str:
    if c.op in NULL_TESTS:
        return f"{column} IS {'NOT ' if c.op == 'is_not_null' else ''}NULL"
    operands = [f":{p}" for p in c.param_names] or [_sql_literal(v) for v in c.literals]
    if c.op == "between" and c.bounds == INCLUSIVE:
        return f"{column} BETWEEN {operands[0]} AND {operands[-1]}"
    if c.op == "between":
        low, high = c.bounds
        return f"{column} {low} {operands[0]} AND {column} {high} {operands[-1]}"
    if c.op == "begins_with":
        return f"{column} LIKE {operands[0]} || '%'"
    return f"{column} {c.op} {operands[0]}"


def _quote_ident(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def equivalent_sql(model: Model, pattern: AccessPattern) -> str:
    """The SQL the application runs today: the pattern's own `sql:`, or one SELECT per entity."""
    if pattern.sql:
        return pattern.sql.strip()
    statements = []
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None:
            continue
        table_name = _quote_ident(entity.table)
        if entity.schema:
            table_name = f"{_quote_ident(entity.schema)}.{table_name}"
        conditions = []
        for c in (*pattern.where, *pattern.filter):
            a = entity.attribute(c.attribute)
            if a is not None:
                conditions.append(_sql_condition(c, _quote_ident(a.column_name)))
        sql = f"SELECT * FROM {table_name}"
        if conditions:
            sql += "\nWHERE " + "\n  AND ".join(conditions)
        order_attr = pattern.order_by or (pattern.range.attribute if pattern.range else None)
        order_col = entity.attribute(order_attr) if order_attr else None
        if order_col is not None:
            sql += f"\nORDER BY {_quote_ident(order_col.column_name)}"
            sql += " DESC" if pattern.order == "desc" else ""
        if pattern.limit:
            sql += f"\nLIMIT {pattern.limit}"
        statements.append(sql + ";")
    return "\n\n".join(statements)


def one_line(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()
