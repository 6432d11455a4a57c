"""Extraction queries: how the migration reads each entity's rows out of PostgreSQL.

Every statement is built as a sqlglot tree (postgres dialect) and rendered once, never
assembled from strings or edited as text: identifiers are always quoted (so reserved words,
quotes, semicolons, spaces and unicode in table and column names are inert) and every value is
a psycopg named parameter (`%(name)s`). Parameter names come from the model's attribute names
(`[A-Za-z_][A-Za-z0-9_]*`), never from SQL names. Because psycopg reads `%` as the start of a
placeholder, a `%` inside an identifier is written `%%` and the modulo operator is `MOD(...)`:
execute every statement WITH a parameter mapping, even an empty one.

Per entity (`extraction_queries(model, entity)`), the queries listed in `extract.sql`:

- keyset pages in key order: `first_page` (no lower bound), `next_page`
  (`WHERE (k1, k2) > (%(after_k1)s, %(after_k2)s)`), and the same two bounded above
  (`(k1, k2) <= (%(until_k1)s, ...)`) for reading one chunk of a parallel plan; `LIMIT %(limit)s`.
  Row comparison and ORDER BY use the same collation, so pages never skip or repeat a row.
- `by_ids`: the rows of a batch of keys (`k = ANY(%(ids)s)`, composite keys through
  `unnest` of one array per key column), arrays cast to the columns' SQL types.
- `count`, `min_key` / `max_key` (ORDER BY ... LIMIT 1: works for every ordered type, uuid
  included, and reads one index entry) and `chunk_boundaries` (every `chunk_rows`-th key,
  to cut the table into equal chunks whatever the key type).

and the variants the migration runs (methods of `ExtractionQueries`, see `variants()`):

- `xmin=True` on pages, `by_ids`, `changed_since` and `sample`: the row's xmin as a first
  column `"__migrate_xmin"` (text), the default version source (`modeling.migrate.versioning`);
- `changed_since`: keyset order, rows whose xmin is at or after `%(marker)s` (the catch-up);
- `null_keys`: rows with a NULL key column (they cannot be addressed, so they are reported);
- `sample`: `%(limit)s` random rows (`model migrate validate --sample`);
- `key_listing`: every key as text, in the key's native order (`model migrate plan`);
- `update_by_key`: an UPDATE of one row by its key (`%(k0)s`, `%(k1)s`, ...), the demo's
  concurrent application.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

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


XMIN = "xmin"
XMIN_ALIAS = "__migrate_xmin"
# xids are 32-bit and wrap: a row changed at or after the marker has an xmin in
# [marker, marker + 2^31) modulo 2^32.
XID_SPACE = 2**32
XID_HALF = 2**31
UPDATE_KEY_PARAM = "k"  # update_by_key binds the key as %(k0)s, %(k1)s, ... in key order


@dataclass(frozen=True)
class SetClause:
    """One assignment of `update_by_key` (`column` unquoted, as in the SQL table).

    `op`: `append` (`column || %(param)s`, with `keep` the text is first cut to `keep`
    characters), `increment` (`column + 1`), `advance` (`column + INTERVAL '1 millisecond'`) or
    `rewrite` (`column = column`: a new row version with the same content).
    """

    column: str
    op: str
    param: str | None = None
    keep: int | None = None


@dataclass(frozen=True)
class _Shape:
    """The trees every statement of one entity is built from (copied before each use)."""

    table: exp.Table
    projections: tuple[exp.Expression, ...]
    key_columns: tuple[exp.Column, ...]
    key: tuple[KeyColumn, ...]

    def columns(self) -> list[exp.Column]:
        return [c.copy() for c in self.key_columns]

    def order(self) -> list[exp.Ordered]:
        return [exp.Ordered(this=c) for c in self.columns()]

    def select(self, xmin: bool = False) -> exp.Select:
        head = [_xmin_projection()] if xmin else []
        return exp.select(*head, *(p.copy() for p in self.projections)).from_(self.table.copy())

    def page(self, after: bool, until: bool, xmin: bool = False) -> exp.Select:
        conditions: list[exp.Expression] = []
        if after:
            conditions.append(
                exp.GT(
                    this=_row(self.columns()),
                    expression=_row([_ph(k.after_param) for k in self.key]),
                )
            )
        if until:
            conditions.append(
                exp.LTE(
                    this=_row(self.columns()),
                    expression=_row([_ph(k.until_param) for k in self.key]),
                )
            )
        q = self.select(xmin)
        if conditions:
            q = q.where(exp.and_(*conditions))
        return q.order_by(*self.order()).limit(_ph("limit"))

    def by_ids(self, xmin: bool = False) -> exp.Select:
        def cast_array(k: KeyColumn) -> exp.Expression:
            return exp.cast(_ph(k.ids_param), _sql_type(f"{k.sql_type}[]", k.attribute))

        if len(self.key) == 1:
            cond: exp.Expression = exp.EQ(
                this=self.columns()[0],
                expression=exp.Any(this=exp.Paren(this=cast_array(self.key[0]))),
            )
        else:
            unnest = exp.Unnest(expressions=[cast_array(k) for k in self.key])
            cond = exp.In(
                this=_row(self.columns()),
                query=exp.Subquery(this=exp.select(exp.Star()).from_(unnest)),
            )
        return self.select(xmin).where(cond).order_by(*self.order())

    def count(self) -> exp.Select:
        return exp.select(exp.Count(this=exp.Star())).from_(self.table.copy())

    def key_bound(self, desc: bool) -> exp.Select:
        q = exp.select(*self.columns()).from_(self.table.copy())
        ordered = [exp.Ordered(this=c, desc=desc, nulls_first=desc) for c in self.columns()]
        return q.order_by(*ordered).limit(1)

    def chunk_boundaries(self) -> exp.Select:
        rn = exp.Column(this=exp.to_identifier("_row_number", quoted=True))
        numbered = exp.select(
            *self.columns(),
            exp.Alias(
                this=exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=self.order())),
                alias=exp.to_identifier("_row_number", quoted=True),
            ),
        ).from_(self.table.copy())
        return (
            exp.select(*self.columns())
            .from_(numbered.subquery(exp.to_identifier("numbered", quoted=True)))
            .where(exp.EQ(this=_mod(rn, _ph("chunk_rows")), expression=exp.Literal.number(0)))
            .order_by(*self.order())
        )

    def changed_since(self, xmin: bool = False) -> exp.Select:
        q = self.select(xmin).where(changed_since_condition())
        return q.order_by(*self.order()).limit(_ph("limit"))

    def null_keys(self) -> exp.Select:
        nulls = [exp.Is(this=c, expression=exp.Null()) for c in self.columns()]
        q = self.select().where(exp.or_(*nulls))
        return q.order_by(*self.order()).limit(_ph("limit"))

    def sample(self, xmin: bool = False) -> exp.Select:
        return self.select(xmin).order_by(exp.Rand()).limit(_ph("limit"))

    def key_listing(self) -> exp.Select:
        # Ordered by the table-qualified columns: a bare name in ORDER BY would name the text
        # output column of the same name, and sort the keys as text (1, 10, 2).
        texts = [
            exp.Alias(this=exp.cast(c, "text"), alias=_ident(k.column))
            for c, k in zip(self.columns(), self.key, strict=True)
        ]
        qualified = [
            exp.Column(
                this=_ident(k.column),
                table=self.table.this.copy(),
                db=_copy(self.table.args.get("db")),
            )
            for k in self.key
        ]
        q = exp.select(*texts).from_(self.table.copy())
        return q.order_by(*(exp.Ordered(this=c) for c in qualified))

    def update_by_key(self, sets: Sequence[SetClause]) -> exp.Update:
        if not sets:
            raise ValueError("an UPDATE needs at least one SET clause")
        assignments = [exp.EQ(this=_col(s.column), expression=_set_value(s)) for s in sets]
        where = exp.and_(
            *(
                exp.EQ(this=c, expression=_ph(f"{UPDATE_KEY_PARAM}{i}"))
                for i, c in enumerate(self.columns())
            )
        )
        return exp.Update(
            this=self.table.copy(), expressions=assignments, where=exp.Where(this=where)
        )


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
    shape: _Shape = field(repr=False, compare=False)

    def page(self, after: bool, until: bool) -> str:
        """The keyset page query with the lower bound `after`, upper bound `until`, or both."""
        if after:
            return self.next_page_until if until else self.next_page
        return self.first_page_until if until else self.first_page

    # -- variants: each renders a fresh tree; build once and keep the text (see EntityReader)

    def page_sql(self, after: bool, until: bool = False, *, xmin: bool = False) -> str:
        """`page(after, until)`, with the row's xmin as first column when `xmin`."""
        return _render(self.shape.page(after, until, xmin))

    def by_ids_sql(self, *, xmin: bool = False) -> str:
        """`by_ids`, with the row's xmin as first column when `xmin`."""
        return _render(self.shape.by_ids(xmin))

    def changed_since_sql(self, *, xmin: bool = False) -> str:
        """Rows changed at or after `%(marker)s`, in key order, at most `%(limit)s` (NULL: all)."""
        return _render(self.shape.changed_since(xmin))

    def null_keys_sql(self) -> str:
        """Rows with a NULL key column, in key order, at most `%(limit)s`."""
        return _render(self.shape.null_keys())

    def sample_sql(self, *, xmin: bool = False) -> str:
        """`%(limit)s` rows in random order."""
        return _render(self.shape.sample(xmin))

    def key_listing_sql(self) -> str:
        """Every key as text (what a plan's CSV holds), in the key's native order."""
        return _render(self.shape.key_listing())

    def update_by_key_sql(self, sets: Sequence[SetClause]) -> str:
        """`UPDATE table SET ... WHERE k = %(k0)s AND ...` (key in key order)."""
        # function names in lower case (`left(...)`), as the demo has always written them
        return self.shape.update_by_key(sets).sql(
            dialect=DIALECT, pretty=True, normalize_functions="lower"
        )

    def variants(self) -> dict[str, str]:
        """Every read statement of the entity by name (the `extract.sql` ones and the rest)."""
        out = {
            "first_page": self.first_page,
            "next_page": self.next_page,
            "first_page_until": self.first_page_until,
            "next_page_until": self.next_page_until,
            "by_ids": self.by_ids,
            "count": self.count,
            "min_key": self.min_key,
            "max_key": self.max_key,
            "chunk_boundaries": self.chunk_boundaries,
            "null_keys": self.null_keys_sql(),
            "key_listing": self.key_listing_sql(),
        }
        for xmin in (False, True):
            tag = "_xmin" if xmin else ""
            for after in (False, True):
                for until in (False, True):
                    name = ("next" if after else "first") + "_page" + ("_until" if until else "")
                    if xmin:
                        out[name + tag] = self.page_sql(after, until, xmin=True)
            if xmin:
                out["by_ids" + tag] = self.by_ids_sql(xmin=True)
            out["changed_since" + tag] = self.changed_since_sql(xmin=xmin)
            out["sample" + tag] = self.sample_sql(xmin=xmin)
        return out

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

    def key_params(self, key: Sequence[Any]) -> dict[str, Any]:
        """Parameters binding one key for `update_by_key_sql` (`k0`, `k1`, ...)."""
        if len(key) != len(self.key):
            raise ValueError(f"{self.entity}: a key has {len(self.key)} values, got {key!r}")
        return {f"{UPDATE_KEY_PARAM}{i}": value for i, value in enumerate(key)}


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


def _copy(node: exp.Expression | None) -> exp.Expression | None:
    return node.copy() if node is not None else None


def _mod(this: exp.Expression, by: exp.Expression) -> exp.Expression:
    """`MOD(this, by)`, not `%`: psycopg would read a bare `%` as a placeholder."""
    return exp.Anonymous(this="MOD", expressions=[this, by])


def _xmin_projection() -> exp.Expression:
    """`CAST(xmin AS TEXT) AS "__migrate_xmin"` (xmin is a system column: no user column has
    that name, so it stays unquoted)."""
    return exp.Alias(
        this=exp.cast(exp.column(XMIN), "text"), alias=exp.to_identifier(XMIN_ALIAS, quoted=True)
    )


def changed_since_condition() -> exp.Expression:
    """Rows whose xmin is in [marker, marker + 2^31) modulo 2^32: every row changed after the
    marker (`%(marker)s`). Rows frozen long ago may also match (their raw xmin is any number):
    a few extra conditional writes, never a missed row."""
    xid = exp.cast(exp.cast(exp.column(XMIN), "text"), "bigint")
    distance = exp.Add(
        this=exp.Sub(this=xid, expression=_ph("marker")),
        expression=exp.Literal.number(XID_SPACE),
    )
    return exp.LT(
        this=_mod(distance, exp.Literal.number(XID_SPACE)),
        expression=exp.Literal.number(XID_HALF),
    )


def _set_value(clause: SetClause) -> exp.Expression:
    column = _col(clause.column)
    if clause.op == "append":
        if clause.param is None or not _PARAM_NAME.match(clause.param):
            raise ValueError(f"append to {clause.column!r} needs a parameter name")
        text: exp.Expression = column
        if clause.keep is not None:
            if clause.keep < 0:
                raise ValueError(f"cannot keep {clause.keep} characters")
            text = exp.Left(this=column, expression=exp.Literal.number(clause.keep))
        return exp.DPipe(this=text, expression=_ph(clause.param))
    if clause.op == "increment":
        return exp.Add(this=column, expression=exp.Literal.number(1))
    if clause.op == "advance":
        return exp.Add(
            this=column, expression=exp.Interval(this=exp.Literal.string("1 millisecond"))
        )
    if clause.op == "rewrite":
        return column
    raise ValueError(f"unknown SET operation {clause.op!r}")


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
    except (ParseError, ValueError, TypeError) as exc:  # TypeError: sqlglotc, malformed text
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
    shape = _Shape(
        table=table,
        projections=tuple(projections),
        key_columns=tuple(_col(k.column) for k in key),
        key=tuple(key),
    )
    return ExtractionQueries(
        entity=ent.name,
        table=table.sql(dialect=DIALECT),
        attributes=tuple(a.name for a in ent.attributes),
        columns=tuple(a.column_name for a in ent.attributes),
        key=tuple(key),
        first_page=_render(shape.page(False, False)),
        next_page=_render(shape.page(True, False)),
        first_page_until=_render(shape.page(False, True)),
        next_page_until=_render(shape.page(True, True)),
        by_ids=_render(shape.by_ids()),
        count=_render(shape.count()),
        min_key=_render(shape.key_bound(False)),
        max_key=_render(shape.key_bound(True)),
        chunk_boundaries=_render(shape.chunk_boundaries()),
        shape=shape,
    )


# --------------------------------------------------------------------------- access patterns

_COMPARISONS: dict[str, type[exp.Binary]] = {
    "=": exp.EQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


def pattern_sql_problem(model: ir.Model, pattern: ir.AccessPattern) -> str | None:
    """None when `pattern_select` can ask PostgreSQL the pattern, else why not."""
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None:
            return f"unknown entity {name}"
        for c in (*pattern.where, *pattern.filter):
            a = entity.attribute(c.attribute)
            if c.op == "begins_with" and a is not None and a.type.kind != "string":
                return f"begins_with on a {a.type} attribute has no SQL equivalent here"
    return None


def _text_column(entity: ir.Entity, attribute: str, collate: str | None) -> exp.Expression:
    a = entity.attribute(attribute)
    column: exp.Expression = _col(a.column_name if a is not None else attribute)
    if collate is not None and a is not None and a.type.kind == "string":
        column = exp.Collate(this=column, expression=exp.to_identifier(collate, quoted=True))
    return column


def pattern_select(
    entity: ir.Entity,
    pattern: ir.AccessPattern,
    values: Sequence[Sequence[Any]],
    *,
    order_by: str | None,
    nulls_first: bool,
    table: tuple[str | None, str] | None = None,
    collate: str | None = "C",
    columns: Sequence[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """An access pattern as SQL over one entity's table: (statement, binds `%(b0)s`, ...).

    `values[i]`: the value(s) the i-th condition of `(*where, *filter)` compares with.
    Selects `columns` (attribute names; default the key) ordered by `order_by` (`DESC` when
    the pattern says so, NULLs first or last as `nulls_first` says) then the key, so equal
    sort values come back in a fixed order. `LIMIT` only for a one-entity pattern (an item
    collection's limit counts the items of every entity together). `collate`: the collation
    string columns compare and sort in ("C": byte order, DynamoDB's; None: the column's own,
    what the application's SQL sees). `table`: (schema, name), default the entity's own.
    Used by verify's PostgreSQL oracle and by `model migrate validate --patterns`.
    """
    conditions = (*pattern.where, *pattern.filter)
    binds = pattern_binds(entity, pattern, values)
    names = iter(binds)
    where: list[exp.Expression] = []
    for c, given in zip(conditions, values, strict=True):
        if entity.attribute(c.attribute) is None:
            where.append(exp.false())
            continue
        column = _text_column(entity, c.attribute, collate)
        holders = [_ph(next(names)) for _ in given]
        if c.op in ir.NULL_TESTS:
            test = exp.Is(this=column, expression=exp.Null())
            where.append(test if c.op == "is_null" else exp.Not(this=test))
        elif c.op == ir.IN and c.listed and c.params:  # one list parameter: `= ANY(array)`
            where.append(exp.EQ(this=column, expression=exp.Any(this=holders[0])))
        elif c.op == ir.IN:
            where.append(exp.In(this=column, expressions=holders))
        elif c.op == "between" and c.bounds == ir.INCLUSIVE:
            where.append(exp.Between(this=column, low=holders[0], high=holders[1]))
        elif c.op == "between":  # half-open: each bound with its own operator
            low, high = (
                cast(exp.Expression, _COMPARISONS[op](this=column.copy(), expression=holder))
                for op, holder in zip(c.bounds, holders, strict=True)
            )
            where.append(cast(exp.Expression, exp.and_(low, high)))
        elif c.op == "begins_with":
            where.append(exp.StartsWith(this=column, expression=holders[0]))
        else:
            where.append(
                cast(exp.Expression, _COMPARISONS[c.op](this=column, expression=holders[0]))
            )
    source = (
        _table(entity)
        if table is None
        else exp.Table(this=_ident(table[1]), db=_ident(table[0]) if table[0] else None)
    )
    selected = [_col(_column_of(entity, a)) for a in (columns or entity.key)]
    select = exp.select(*selected).from_(source)
    if where:
        select = select.where(exp.and_(*where))
    order: list[exp.Expression] = []
    if order_by is not None and entity.attribute(order_by) is not None:
        order.append(
            exp.Ordered(
                this=_text_column(entity, order_by, collate),
                desc=pattern.order == "desc",
                nulls_first=nulls_first,
            )
        )
    order += [exp.Ordered(this=_col(_column_of(entity, k))) for k in entity.key]
    select = select.order_by(*order)
    if pattern.limit is not None and len(pattern.entities) == 1:
        select = select.limit(pattern.limit)
    return select.sql(dialect=DIALECT), binds


def pattern_binds(
    entity: ir.Entity, pattern: ir.AccessPattern, values: Sequence[Sequence[Any]]
) -> dict[str, Any]:
    """The binds of `pattern_select` for these values (`b0`, `b1`, ... in condition order; a
    condition on an attribute the entity lacks binds nothing). The statement's text depends
    only on how many values each condition has, so a caller running one pattern with many
    values may build the statement once and take each run's binds from here."""
    conditions = (*pattern.where, *pattern.filter)
    if len(values) != len(conditions):
        raise ValueError(f"{pattern.name}: {len(conditions)} conditions, {len(values)} values")
    binds: dict[str, Any] = {}
    for c, given in zip(conditions, values, strict=True):
        if entity.attribute(c.attribute) is not None:
            for value in given:
                binds[f"b{len(binds)}"] = value
    return binds


def _column_of(entity: ir.Entity, attribute: str) -> str:
    a = entity.attribute(attribute)
    return a.column_name if a is not None else attribute


# --------------------------------------------------------------------------- the marker

MARKER_ALIAS = "marker"


def marker_sql() -> str:
    """The version marker: the oldest transaction id still running now, as a 32-bit xid
    (`pg_snapshot_xmin` is a 64-bit xid8; xmin, which the marker is compared with, is 32-bit)."""
    snapshot = exp.Anonymous(
        this="pg_snapshot_xmin", expressions=[exp.Anonymous(this="pg_current_snapshot")]
    )
    xid = exp.cast(exp.cast(snapshot, "text"), "bigint")
    return _render(
        exp.select(
            exp.Alias(
                this=_mod(xid, exp.Literal.number(XID_SPACE)),
                alias=exp.to_identifier(MARKER_ALIAS, quoted=True),
            )
        )
    )


# --------------------------------------------------------------------------- quoting


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, quoted; `%` doubled for psycopg's placeholders."""
    return _ident(name).sql(dialect=DIALECT)
