"""Extraction queries: how the migration reads each entity's rows out of PostgreSQL.

Every query is built as a sqlglot tree (postgres dialect) and rendered, never assembled from
strings: identifiers are always quoted (so reserved words, quotes, semicolons, spaces and
unicode in table and column names are inert) and every value is a psycopg named parameter
(`%(name)s`). Parameter names come from the model's attribute names (`[A-Za-z_][A-Za-z0-9_]*`),
never from SQL names. Because psycopg reads `%` as the start of a placeholder, a `%` inside an
identifier is written `%%`: execute every query WITH a parameter mapping, even an empty one.

Per entity (`extraction_queries(model, entity)`):

- keyset pages in key order: `first_page` (no lower bound), `next_page`
  (`WHERE (k1, k2) > (%(after_k1)s, %(after_k2)s)`), and the same two bounded above
  (`(k1, k2) <= (%(until_k1)s, ...)`) for reading one chunk of a parallel plan; `LIMIT %(limit)s`.
  Row comparison and ORDER BY use the same collation, so pages never skip or repeat a row.
- `by_ids`: the rows of a batch of keys (`k = ANY(%(ids)s)`, composite keys through
  `unnest` of one array per key column), arrays cast to the columns' SQL types.
- `count`, `min_key` / `max_key` (ORDER BY ... LIMIT 1: works for every ordered type, uuid
  included, and reads one index entry) and `chunk_boundaries` (every `chunk_rows`-th key,
  to cut the table into equal chunks whatever the key type).

`extract.sql` lists them all, commented per entity, exactly as the API returns them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from modeling.core import ir
from modeling.core.errors import InputError

DIALECT = "postgres"
# The SQL type each model type is read as, for casting bind arrays in `by_ids`. Override per
# attribute (`column_types=`) when the column's real type differs (an enum type, timestamp
# without time zone, ...): `= ANY(text[])` does not compare with a PostgreSQL enum column.
SQL_TYPES: dict[str, str] = {
    "string": "text",
    "integer": "bigint",
    "decimal": "numeric",
    "float": "double precision",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
    "uuid": "uuid",
    "binary": "bytea",
}
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ExtractionError(InputError, ValueError):
    """The entity cannot be extracted as modelled (no key, a key that is not a column type)."""


@dataclass(frozen=True)
class KeyColumn:
    attribute: str
    column: str  # the SQL column, unquoted
    sql_type: str  # as rendered by sqlglot, e.g. `UUID`
    after_param: str
    until_param: str
    ids_param: str


@dataclass(frozen=True)
class ExtractionQueries:
    """The read queries of one entity; rows come back with the model's attribute names."""

    entity: str
    table: str  # quoted, schema-qualified when the entity names a schema
    attributes: tuple[str, ...]  # result columns, in order
    columns: tuple[str, ...]  # the SQL columns they are read from, same order
    key: tuple[KeyColumn, ...]
    first_page: str
    next_page: str
    first_page_until: str
    next_page_until: str
    by_ids: str
    count: str
    min_key: str
    max_key: str
    chunk_boundaries: str

    def page(self, after: bool, until: bool) -> str:
        """The keyset page query with the lower bound `after`, upper bound `until`, or both."""
        if after:
            return self.next_page_until if until else self.next_page
        return self.first_page_until if until else self.first_page

    def page_params(
        self,
        limit: int,
        after: Sequence[Any] | None = None,
        until: Sequence[Any] | None = None,
    ) -> dict[str, Any]:
        """Parameters for `page(after is not None, until is not None)`; keys in key order."""
        params: dict[str, Any] = {"limit": limit}
        for bound, name in ((after, "after_param"), (until, "until_param")):
            if bound is None:
                continue
            if len(bound) != len(self.key):
                raise ValueError(f"{self.entity}: a key has {len(self.key)} values")
            for k, value in zip(self.key, bound, strict=True):
                params[getattr(k, name)] = value
        return params

    def ids_params(self, keys: Sequence[Sequence[Any]]) -> dict[str, Any]:
        """Parameters for `by_ids`: one list per key column (each key in key order)."""
        columns: list[list[Any]] = [[] for _ in self.key]
        for one in keys:
            if len(one) != len(self.key):
                raise ValueError(f"{self.entity}: a key has {len(self.key)} values, got {one!r}")
            for i, value in enumerate(one):
                columns[i].append(value)
        return {k.ids_param: values for k, values in zip(self.key, columns, strict=True)}


# --------------------------------------------------------------------------- building


def _ident(name: str) -> exp.Identifier:
    """A quoted identifier; `%` doubled for psycopg (sqlglot doubles the `"`)."""
    return exp.to_identifier(name.replace("%", "%%"), quoted=True)


def _col(name: str) -> exp.Column:
    return exp.Column(this=_ident(name))


def _ph(name: str) -> exp.Placeholder:
    return exp.Placeholder(this=name)


def _row(items: Sequence[exp.Expression]) -> exp.Expression:
    """A single expression, or a row constructor for several (keyset comparison)."""
    return items[0] if len(items) == 1 else exp.Tuple(expressions=list(items))


# A type name: words (`double precision`, `my_schema.my_enum`), an optional `(n)` / `(p, s)`
# modifier and array brackets. Anything else (quotes, `;`, comments) is refused before parsing.
_TYPE_TEXT = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:[ .][A-Za-z_][A-Za-z0-9_]*)*"
    r"(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?(?:\s*\[\])*\Z"
)


def _sql_type(text: str, where: str) -> exp.DataType:
    """Parse a PostgreSQL type name strictly (sqlglot alone ignores trailing text)."""
    problem = f"{where}: {text!r} is not a PostgreSQL type name"
    if not _TYPE_TEXT.match(text.strip()):
        raise ExtractionError(problem)
    try:
        tree = sqlglot.parse_one(f"SELECT CAST(NULL AS {text.strip()})", read=DIALECT)
    except (ParseError, ValueError) as exc:
        raise ExtractionError(f"{problem}: {exc}") from exc
    if not isinstance(tree, exp.Select) or len(tree.selects) != 1:
        raise ExtractionError(problem)
    cast = tree.selects[0]
    if not isinstance(cast, exp.Cast) or not isinstance(cast.to, exp.DataType):
        raise ExtractionError(problem)
    return cast.to


def _param(prefix: str, attribute: str, index: int) -> str:
    """`after_<attribute>`; positional when an attribute name could not be a placeholder."""
    name = f"{prefix}_{attribute}"
    return name if _PARAM_NAME.match(name) else f"{prefix}_{index + 1}"


def _table(entity: ir.Entity) -> exp.Table:
    return exp.Table(this=_ident(entity.table), db=_ident(entity.schema) if entity.schema else None)


def _render(tree: exp.Expression) -> str:
    return tree.sql(dialect=DIALECT, pretty=True)


def extraction_queries(
    model: ir.Model, entity: str, column_types: Mapping[str, str] | None = None
) -> ExtractionQueries:
    """The read queries of `entity`; `column_types` overrides SQL types by attribute name."""
    ent = model.entity(entity)
    if ent is None:
        raise ExtractionError(f"no entity {entity!r} in model {model.name}")
    if not ent.key:
        raise ExtractionError(f"{entity} has no key; keyset extraction needs one")
    overrides = dict(column_types or {})
    key_attrs: list[ir.Attribute] = []
    for name in ent.key:
        attr = ent.attribute(name)
        if attr is None:
            raise ExtractionError(f"{entity}: key attribute {name!r} is not an attribute")
        key_attrs.append(attr)

    key: list[KeyColumn] = []
    for i, attr in enumerate(key_attrs):
        type_text = overrides.get(attr.name) or SQL_TYPES.get(attr.type.kind)
        if type_text is None or attr.type.item is not None:
            raise ExtractionError(
                f"{entity}: key attribute {attr.name} is {attr.type}; give its SQL type in "
                "column_types"
            )
        sql_type = _sql_type(type_text, f"{entity}.{attr.name}")
        key.append(
            KeyColumn(
                attribute=attr.name,
                column=attr.column_name,
                sql_type=sql_type.sql(dialect=DIALECT),
                after_param=_param("after", attr.name, i),
                until_param=_param("until", attr.name, i),
                ids_param="ids" if len(key_attrs) == 1 else _param("ids", attr.name, i),
            )
        )

    table = _table(ent)
    projections: list[exp.Expression] = []
    for attr in ent.attributes:
        column = _col(attr.column_name)
        projections.append(
            column
            if attr.column_name == attr.name
            else exp.Alias(this=column, alias=_ident(attr.name))
        )
    key_cols = [_col(k.column) for k in key]
    order = [exp.Ordered(this=c.copy()) for c in key_cols]

    def select() -> exp.Select:
        return exp.select(*(p.copy() for p in projections)).from_(table.copy())

    def page(after: bool, until: bool) -> str:
        q = select()
        conditions: list[exp.Expression] = []
        if after:
            conditions.append(
                exp.GT(
                    this=_row([c.copy() for c in key_cols]),
                    expression=_row([_ph(k.after_param) for k in key]),
                )
            )
        if until:
            conditions.append(
                exp.LTE(
                    this=_row([c.copy() for c in key_cols]),
                    expression=_row([_ph(k.until_param) for k in key]),
                )
            )
        if conditions:
            q = q.where(exp.and_(*conditions))
        return _render(q.order_by(*(o.copy() for o in order)).limit(_ph("limit")))

    def cast_array(k: KeyColumn) -> exp.Expression:
        return exp.cast(_ph(k.ids_param), _sql_type(f"{k.sql_type}[]", k.attribute))

    if len(key) == 1:
        by_ids_cond: exp.Expression = exp.EQ(
            this=key_cols[0].copy(), expression=exp.Any(this=exp.Paren(this=cast_array(key[0])))
        )
    else:
        unnest = exp.Unnest(expressions=[cast_array(k) for k in key])
        by_ids_cond = exp.In(
            this=_row([c.copy() for c in key_cols]),
            query=exp.Subquery(this=exp.select(exp.Star()).from_(unnest)),
        )
    by_ids = select().where(by_ids_cond).order_by(*(o.copy() for o in order))

    def key_select(desc: bool) -> str:
        ordered = [exp.Ordered(this=c.copy(), desc=desc, nulls_first=desc) for c in key_cols]
        q = exp.select(*(c.copy() for c in key_cols)).from_(table.copy())
        return _render(q.order_by(*ordered).limit(1))

    rn = exp.Column(this=exp.to_identifier("_row_number", quoted=True))
    numbered = exp.select(
        *(c.copy() for c in key_cols),
        exp.Alias(
            this=exp.Window(
                this=exp.RowNumber(), order=exp.Order(expressions=[o.copy() for o in order])
            ),
            alias=exp.to_identifier("_row_number", quoted=True),
        ),
    ).from_(table.copy())
    boundaries = (
        exp.select(*(c.copy() for c in key_cols))
        .from_(numbered.subquery(exp.to_identifier("numbered", quoted=True)))
        .where(
            exp.EQ(
                # `MOD(...)`, not `%`: psycopg would read a bare `%` as a placeholder
                this=exp.Anonymous(this="MOD", expressions=[rn, _ph("chunk_rows")]),
                expression=exp.Literal.number(0),
            )
        )
        .order_by(*(o.copy() for o in order))
    )

    return ExtractionQueries(
        entity=ent.name,
        table=table.sql(dialect=DIALECT),
        attributes=tuple(a.name for a in ent.attributes),
        columns=tuple(a.column_name for a in ent.attributes),
        key=tuple(key),
        first_page=page(False, False),
        next_page=page(True, False),
        first_page_until=page(False, True),
        next_page_until=page(True, True),
        by_ids=_render(by_ids),
        count=_render(exp.select(exp.Count(this=exp.Star())).from_(table.copy())),
        min_key=key_select(False),
        max_key=key_select(True),
        chunk_boundaries=_render(boundaries),
    )


# --------------------------------------------------------------------------- xmin and quoting

XMIN = "xmin"
XMIN_ALIAS = "__migrate_xmin"


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, quoted; `%` doubled for psycopg's placeholders."""
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


def with_xmin(select_sql: str) -> str:
    """`select_sql` (a `SELECT ...` over one table) that also returns the row's xmin."""
    head, sep, rest = select_sql.partition("SELECT")
    if sep != "SELECT" or head.strip():
        raise ValueError("not a SELECT statement")
    return f"SELECT {XMIN}::text AS {quote_ident(XMIN_ALIAS)}, {rest.lstrip()}"


# Rows whose xmin is in [marker, marker + 2^31) modulo 2^32: every row changed after the marker.
# Rows frozen long ago may also match (their raw xmin is any number): a few extra conditional
# writes, never a missed row.
CHANGED_SINCE = "((xmin::text::bigint - %(marker)s + 4294967296) %% 4294967296) < 2147483648"
