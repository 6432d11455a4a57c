"""Every diagnostic code the model-language loader can emit, with a one-line description.

The docs generate their error reference from `CODES`; tests assert that every code used by the
loader is listed here and that each has at least one malformed-model fixture.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # reading the file
    "file-not-found": "The model file does not exist or cannot be read.",
    "yaml-syntax": "The file is not valid YAML (the position is where the parser gave up).",
    "duplicate-key": "A mapping repeats a key (e.g. two entities or two patterns with one name).",
    "yaml-tag": "A YAML tag or value kind the language does not use (custom tags, timestamps).",
    # structure (JSON Schema / pydantic pass)
    "unknown-key": "A key the language does not define (usually a typo; a close match is hinted).",
    "missing-key": "A required key is absent.",
    "wrong-type": "A value has the wrong shape (e.g. a list where a mapping is expected).",
    "invalid-value": "A value outside the allowed set (an operator, an order, a billing mode).",
    "invalid-name": "A model, entity, attribute, pattern or table name breaks the naming rule.",
    "unknown-type": "An attribute type that is not one of the language's types.",
    # entities
    "unknown-entity": "`references`, `parent`, `entity` or `entities` names an entity the model lacks.",
    "unknown-attribute": "A key, `where`, `filter`, `order_by`, `ttl` or key-template slot names a missing attribute.",
    "optional-key": "A key attribute is declared `required: false`; keys are never null.",
    "unkeyable-type": "A key or key condition uses a type DynamoDB cannot key on (map, list, set).",
    "parent-cycle": "Entities are each other's parents (directly or through a chain).",
    "parent-key": "A child entity lacks an attribute of its parent's key, so it cannot join its collection.",
    "enum-type": "`enum` on an attribute whose type is not string.",
    "pinned-key": "A pinned `keys:` template is malformed or names an unknown index.",
    "too-many-indexes": "Pinned keys name more than 20 GSIs or 5 LSIs.",
    "reference-type": "A `references` attribute's type differs from the referenced entity's key.",
    # access patterns
    "pattern-source": "A pattern has none, or more than one, of `entity`, `entities`, `sql`.",
    "missing-where": "A pattern has no key condition; every Query needs a partition-key equality.",
    "two-ranges": "More than one attribute has a non-equality operator.",
    "unique-range": "`unique: true` together with a range operator (a range can match many items).",
    "unique-collection": "`unique: true` on a pattern that reads several entities.",
    "unrelated-entities": "`entities: [...]` lists entities that are not one parent/child family.",
    "operator-type": "An operator that does not apply to the attribute's type (begins_with on a number).",
    "order-mismatch": "`order_by` names a different attribute than the pattern's range attribute.",
    "ttl-attribute": "`table.ttl` names an attribute that is not a datetime/integer on any entity.",
    "version-attribute": "`version` names an attribute the entity lacks (`source.version`: that no entity has).",
    "version-type": "A `version` attribute that is not an integer or a datetime (a NULL-free, growing value).",
    "optional-version": "A `version` attribute declared `required: false`: a NULL version cannot order writes.",
    "missing-ddl": "`source.ddl` points to a file that does not exist (a warning at validate time).",
    # sql: patterns
    "sql-syntax": "The SQL does not parse (sqlglot's message, located inside the SQL).",
    "sql-statement": "The SQL is not exactly one SELECT statement.",
    "sql-unknown-table": "The SQL reads a table that no entity of the model maps.",
    "sql-unknown-column": "The SQL names a column the table (entity) lacks.",
    "sql-no-where": "A SELECT without WHERE would be a full table scan.",
    "sql-or": "OR in WHERE: a key condition is a conjunction; split the pattern in two.",
    "sql-not": "NOT in WHERE cannot be a key condition.",
    "sql-not-equal": "`!=` / `<>` cannot be a key condition.",
    "sql-in": "IN (...) cannot be one key condition; write one pattern per value or a BatchGet.",
    "sql-like": "LIKE other than a prefix (`'abc%'`, `:p || '%'`) cannot be a key condition.",
    "sql-is-null": "IS [NOT] NULL cannot be a key condition (key attributes are never null).",
    "sql-function": "A function or expression on a column cannot be a key condition.",
    "sql-join": "A join other than parent↔child on the parent key.",
    "sql-condition": "A WHERE conjunct of a shape that cannot be a key condition.",
    "sql-order": "ORDER BY on more than one non-equality column, or on an expression.",
    "sql-unsupported": "A SQL construct with no single-Query equivalent (GROUP BY, OFFSET, subquery, ...).",
    "sql-mixed-operands": "BETWEEN with one literal and one parameter.",
}


def describe(code: str) -> str:
    """The one-line description of `code` (KeyError for an unlisted code, caught by tests)."""
    return CODES[code]
