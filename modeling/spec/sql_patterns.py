"""`sql:` access patterns: a SELECT (Postgres dialect) → entities, where, order, limit.

The translation accepts exactly what one DynamoDB Query can do: equality conjuncts, at most
one range conjunct (`<`, `<=`, `>`, `>=`, BETWEEN, `>= AND <=` on one column, LIKE 'prefix%'),
ORDER BY the range (sort) column, LIMIT. A join is accepted only between a parent and its child
on the parent's key (an item-collection read). Everything else becomes an issue naming the
construct, with the character offset inside the SQL so the loader can point at it.

Bind parameters: `:name`, `%(name)s` keep their name; positional `$1` / `?` are named after the
column they are compared with (`{column}_from` / `{column}_to` for the two bounds of a range).
Literals (`status = 'active'`) become fixed-value conditions (`literals`).
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError

from modeling.core import limits
from modeling.core.ir import INCLUSIVE, LOWER_BOUNDS, UPPER_BOUNDS, default_params

Scalar = str | int | float | bool


@dataclass(frozen=True)
class TableInfo:
    """What the translator needs to know about one entity."""

    entity: str
    table: str  # as the model names it, possibly `schema.table`
    columns: dict[str, str]  # SQL column (lower-case) → attribute name
    key: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True)
class SqlCondition:
    attribute: str
    op: str
    params: tuple[str, ...] = ()
    literals: tuple[Scalar, ...] = ()
    offset: int = 0
    bounds: tuple[str, str] = INCLUSIVE  # `between`: each bound's operator (`>`/`>=`, `<`/`<=`)
    listed: bool = False  # `in`: the one parameter holds a list of values (`IN :ids`)
    # the types its values are cast to (`:since::date`), as PostgreSQL names them (`date`,
    # `varchar(2)`): a cast can change the value compared (`checks` matches them to the type)
    casts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SqlIssue:
    code: str
    message: str
    offset: int = 0
    hint: str | None = None


@dataclass
class SqlPattern:
    entities: tuple[str, ...] = ()
    where: list[SqlCondition] = field(default_factory=list)
    order: Literal["asc", "desc"] | None = None
    order_by: str | None = None
    nulls: Literal["first", "last"] | None = None
    limit: int | None = None
    limit_param: str | None = None  # `LIMIT :n`
    filter: list[SqlCondition] = field(default_factory=list)  # `IS [NOT] NULL`
    issues: list[SqlIssue] = field(default_factory=list)
    # served, but with a difference the application must handle (said as warnings)
    warnings: list[SqlIssue] = field(default_factory=list)


_OPS: dict[type[exp.Expression], str] = {
    exp.EQ: "=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
_FLIP = {"=": "=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}


def _offset(node: exp.Expression | None) -> int:
    """Character offset of a node in the SQL text (its first identifier/literal token)."""
    if node is None:
        return 0
    candidates = [node, *node.walk()] if isinstance(node, exp.Expression) else []
    for n in candidates:
        meta = getattr(n, "_meta", None) or {}
        if "start" in meta:
            return int(meta["start"])
    return 0


# `:from`, `:to`, `:order`, `:limit`: sqlglot reads a parameter named like a keyword as the
# keyword. Such parameters are renamed `:from__p` (a suffix the SQL does not contain) before
# parsing; the names are mapped back, and so are offsets into the renamed text.
_KEYWORDS = frozenset(k for k in Postgres.Tokenizer.KEYWORDS if k.isidentifier())
_SKIP_OR_PARAM = re.compile(
    r"'(?:[^']|'')*'?"  # a string literal
    r'|"(?:[^"]|"")*"?'  # a quoted name
    r"|--[^\n]*|/\*.*?(?:\*/|\Z)"  # comments
    r"|\$([A-Za-z_][A-Za-z0-9_]*)?\$.*?(?:\$\1\$|\Z)"  # dollar quoting
    r"|::"  # a cast
    r"|(?<![A-Za-z0-9_]):([A-Za-z_][A-Za-z0-9_]*)",  # a :name parameter
    re.S,
)


@dataclass(frozen=True)
class Renamed:
    """The SQL with keyword-named parameters renamed, and how to map back."""

    text: str
    names: dict[str, str]  # new name -> name as written
    ends: tuple[int, ...]  # offset just past each renamed parameter in `text`
    growth: int  # characters each rename adds

    def offset(self, at: int) -> int:
        """An offset into `text` as an offset into the SQL as written."""
        before = bisect_right(self.ends, at)
        return max(at - self.growth * before, 0)


def rename_keyword_params(sql: str) -> Renamed:
    suffix = "__p"
    while suffix in sql:
        suffix += "p"
    out: list[str] = []
    ends: list[int] = []
    names: dict[str, str] = {}
    last, length = 0, 0
    for m in _SKIP_OR_PARAM.finditer(sql):
        name = m.group(2)
        if name is None or name.upper() not in _KEYWORDS:
            continue
        new = f":{name}{suffix}"
        out += [sql[last : m.start()], new]
        length += m.start() - last + len(new)
        ends.append(length)
        names[name + suffix] = name
        last = m.end()
    out.append(sql[last:])
    return Renamed("".join(out), names, tuple(ends), len(suffix))


def _parse_error_text(description: str, highlight: str) -> str:
    """A parse error in words a model author reads (sqlglot's own text names its classes)."""
    near = f" at {highlight!r}" if highlight.strip() else " at the end"
    expecting = re.match(r"Expecting (.+)", description)
    if expecting:
        return f"SQL does not parse{near}: expected {expecting.group(1).strip()}"
    if "missing for" in description or "Required keyword" in description:
        return f"SQL does not parse{near}: an operand is missing"
    return f"SQL does not parse{near}: unexpected text"


def _line_col_to_offset(sql: str, line: int, col: int) -> int:
    lines = sql.split("\n")
    line = max(1, min(line, len(lines)))
    return sum(len(x) + 1 for x in lines[: line - 1]) + max(0, col - 1)


class _Translator:
    def __init__(self, sql: str, tables: Sequence[TableInfo]):
        self.sql = sql
        self.renamed = rename_keyword_params(sql)
        self.text = self.renamed.text
        self.tables = tables
        self.by_entity = {t.entity: t for t in tables}
        self.result = SqlPattern()
        self.aliases: dict[str, TableInfo] = {}  # alias or table name (lower) → table
        self.order_of_tables: list[TableInfo] = []
        # the table each condition's column (by its offset) and each ORDER BY column belongs to:
        # in a join, a condition names one table's column, not every entity's attribute
        self.column_tables: dict[int, TableInfo] = {}
        self.casts: list[str] = []  # the casts on the operands of the conjunct being read
        self.order_columns: list[tuple[TableInfo, str, exp.Expression]] = []
        # joins that drop a parent without children (INNER, or outer keeping the child side)
        self.parent_dropping_joins: list[exp.Join] = []

    def issue(
        self,
        code: str,
        message: str,
        node: Any = None,
        hint: str | None = None,
        offset: int | None = None,
        warning: bool = False,
    ) -> None:
        """A refusal (`issues`), or with `warning` a difference the pattern is served with."""
        at = _offset(node) if offset is None else offset
        into = self.result.warnings if warning else self.result.issues
        into.append(SqlIssue(code, message, self.renamed.offset(at), hint))

    # ------------------------------------------------------------------ entry
    def run(self) -> SqlPattern:
        try:
            statements = [s for s in sqlglot.parse(self.text, read="postgres") if s is not None]
        except ParseError as exc:
            first = exc.errors[0] if exc.errors else {}
            line, col = int(first.get("line") or 1), int(first.get("col") or 1)
            desc = str(first.get("description") or "").split("\n")[0]
            highlight = str(first.get("highlight") or "")
            at = _line_col_to_offset(self.text, line, col)
            self.issue(
                "sql-syntax",
                _parse_error_text(desc, highlight),
                offset=at - len(highlight) + 1 if highlight else at,
                hint="write one SELECT in the Postgres dialect with :name parameters",
            )
            return self.result
        except TokenError:
            self.issue(
                "sql-syntax",
                "SQL does not tokenize: a string, quoted name or comment is not closed",
                offset=len(self.text),
                hint="check the quotes ('text', \"name\") and comments",
            )
            return self.result
        except TypeError:  # sqlglotc (compiled) on some malformed SQL, e.g. `x ?`
            self.issue(
                "sql-syntax",
                "SQL does not parse (an operator without its operand?)",
                offset=0,
                hint="write one SELECT in the Postgres dialect with :name parameters",
            )
            return self.result
        if len(statements) != 1:
            self.issue(
                "sql-statement",
                f"expected one SELECT statement, found {len(statements)}",
                statements[1] if len(statements) > 1 else None,
                hint="one pattern is one query; split them into several patterns",
            )
            return self.result
        stmt = statements[0]
        if not isinstance(stmt, exp.Select):
            self.issue(
                "sql-statement",
                f"expected a SELECT, found {stmt.key.upper()}",
                stmt,
                hint="access patterns are reads; writes are derived from the entities",
            )
            return self.result
        self._unsupported(stmt)
        if not self._tables(stmt):
            return self.result
        self._columns(stmt)
        where = stmt.args.get("where")
        if where is None:
            self.issue(
                "sql-no-where",
                "SELECT without WHERE would read the whole table (a Scan)",
                stmt,
                hint="add the equality the application filters on, e.g. WHERE customer_id = :customer_id",
            )
        else:
            self._where(where.this)
        self._order(stmt)
        self._limit(stmt)
        self._narrow_to_projection(stmt)
        self._joined_columns(stmt)
        self._parent_without_children()
        return self.result

    def _parent_without_children(self) -> None:
        """An item-collection read returns the parent's item even when it has no child item;
        an INNER join (or an outer join keeping only the child side) returns no row for such a
        parent. The rows it does return are the collection's (parent × children), so the
        pattern is served, and the difference is said where the SQL is written."""
        if self.result.issues or len(self.result.entities) < 2 or not self.parent_dropping_joins:
            return
        parent = self.result.entities[0]
        self.issue(
            "sql-inner-join",
            f"this join returns no row for a parent ({parent}) without children, but the "
            "item-collection Query returns that parent's item alone",
            self.parent_dropping_joins[0],
            hint="use LEFT JOIN if the application wants such a parent, or drop the parent "
            "when its collection holds no child item (the client returns the items, not "
            "joined rows)",
            warning=True,
        )

    def _parents(self) -> set[str]:
        """The entities of this query joined to a child of theirs."""
        return {t.parent for t in self.order_of_tables if t.parent is not None}

    def _joined_columns(self, stmt: exp.Select) -> None:
        """In a join, every condition and ORDER BY column belongs to one table. The pattern's
        conditions name attributes of the entities it reads, so a column of another table (or
        of one joined table only, in an item-collection read) would be applied to the wrong
        item: only the join key, which both sides hold equal, may come from either side."""
        if len(self.order_of_tables) < 2 or self.result.issues:
            return
        read = set(self.result.entities)
        roots = [t for t in self.order_of_tables if not (t.parent and t.parent in self.by_entity)]
        root = min(self.order_of_tables, key=self._depth) if not roots else roots[0]
        shared = set(root.key)
        if len(read) == 1:
            (entity,) = read
            info = self.by_entity[entity]
            if any(t.parent == entity for t in self.order_of_tables):
                child = next(t for t in self.order_of_tables if t.parent == entity)
                self.issue(
                    "sql-join",
                    f"selecting only the columns of {info.table} from its join with {child.table}: "
                    f"PostgreSQL returns each {entity} row once per {child.entity} row (and not "
                    f"at all without one), a Query returns each {entity} item once",
                    stmt.expressions[0] if stmt.expressions else stmt,
                    hint=f"drop the join to read {info.table} alone, or SELECT * to read the "
                    f"{entity} item with its {child.entity} items",
                )
                return
            shared = set(info.key) & shared if info is root else shared
        limit = stmt.args.get("limit")
        if len(read) > 1 and limit is not None:
            self.issue(
                "sql-unsupported",
                "LIMIT on a join counts joined rows (the parent once per child), an "
                "item-collection read counts items (the parent once)",
                limit,
                hint="drop the LIMIT and cut the children in the application, or read the "
                "children with a pattern of their own (SELECT child.* ... LIMIT n)",
            )
        conds = [*self.result.where, *self.result.filter]
        for c in conds:
            table = self.column_tables.get(c.offset)
            if table is None or c.attribute in shared:
                continue
            if len(read) == 1 and table.entity in read:
                continue
            self.issue(
                "sql-join",
                f"the condition on {table.table}.{c.attribute} in a join "
                + (
                    f"filters {table.table} rows, but the pattern reads {', '.join(sorted(read))} "
                    "items"
                    if table.entity not in read
                    else "keeps only the joined rows that match it, while an item-collection "
                    "read keeps every entity's items by their own attribute"
                ),
                offset=c.offset,
                hint="in a join, constrain only the parent key ("
                + ", ".join(root.key)
                + "); read the other table's items with a pattern of their own",
            )
        for table, attribute, item in self.order_columns[:1]:
            if attribute in shared or (len(read) == 1 and table.entity in read):
                continue
            self.issue(
                "sql-order",
                f"ORDER BY {table.table}.{attribute} in a join: "
                + (
                    f"{table.table} is not the table the pattern reads"
                    if table.entity not in read
                    else "an item-collection read returns each entity's items in its own "
                    "sort-key order, not the joined rows in this column's order"
                ),
                item,
                hint="order by a column of the table you select, or read that table's items "
                "with a pattern of their own",
            )

    def _narrow_to_projection(self, stmt: exp.Select) -> None:
        """`SELECT c.* FROM child c JOIN parent p ON … WHERE p.key = :k` reads only children.

        Apps join the parent to filter by it, and select only the child's columns. That is a
        read of the child alone (the join columns are the parent's key, which the child holds
        under the same names), not an item-collection read of both — when every `where` and
        `ORDER BY` attribute is an attribute of the selected table.
        """
        if len(self.result.entities) < 2 or self.result.issues:
            return
        selected: set[str] = set()
        # a join-key column (`o.order_id` beside `l.*`) is held equal by both sides: it does
        # not tell which table is read
        joined = {k for t in self.order_of_tables for k in t.key if t.entity in self._parents()}
        for proj in stmt.expressions:
            if isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star) and proj.table:
                info = self.aliases.get(proj.table.lower())
            elif isinstance(proj, exp.Column) and not isinstance(proj.this, exp.Star):
                resolved = self._resolve_column(proj, report=False)
                if resolved is not None and resolved[1] in joined:
                    continue
                info = resolved[0] if resolved else None
            else:
                return  # `*`, expressions: the query reads every joined table
            if info is None:
                return
            selected.add(info.entity)
        if len(selected) != 1:
            return
        (entity,) = selected
        info = self.by_entity[entity]
        attributes = set(info.columns.values())
        used = {c.attribute for c in self.result.where}
        if self.result.order_by:
            used.add(self.result.order_by)
        if used <= attributes:
            self.result.entities = (entity,)

    # ------------------------------------------------------------------ checks
    def _unsupported(self, stmt: exp.Select) -> None:
        named = {
            "with_": "WITH (common table expressions)",
            "group": "GROUP BY",
            "having": "HAVING",
            "distinct": "DISTINCT",
            "offset": "OFFSET (use the Query's pagination token instead)",
            "windows": "WINDOW",
            "qualify": "QUALIFY",
        }
        for arg, label in named.items():
            node = stmt.args.get(arg)
            if node:
                self.issue(
                    "sql-unsupported",
                    f"{label} has no single-Query equivalent",
                    node if isinstance(node, exp.Expression) else stmt,
                )
        for lock in stmt.args.get("locks") or []:
            self.issue(
                "sql-unsupported",
                f"{lock.sql(dialect='postgres')} locks the rows it reads (SKIP LOCKED / NOWAIT "
                "also change which rows come back); a Query reads without locking",
                lock,
                hint="drop the lock from the pattern and claim the item with a conditional write "
                "(UpdateItem with a ConditionExpression on its version or status) after reading it",
            )
            break
        for node in stmt.find_all(exp.Subquery, exp.Exists):
            self.issue(
                "sql-unsupported",
                "a subquery has no single-Query equivalent",
                node,
                hint="split it into two access patterns",
            )
            break
        for proj in stmt.expressions:
            agg = proj.find(exp.AggFunc)
            if agg is not None:
                self.issue(
                    "sql-unsupported",
                    f"aggregate {agg.sql(dialect='postgres')} has no single-Query equivalent",
                    agg,
                    hint="keep a counter attribute on the parent item, or compute it in the client",
                )
            win = proj.find(exp.Window)
            if win is not None:
                self.issue(
                    "sql-unsupported", "window functions have no single-Query equivalent", win
                )

    def _lookup_table(self, table: exp.Table) -> TableInfo | None:
        name = table.name.lower()
        db = (table.db or "").lower()
        for t in self.tables:
            model_db, _, model_name = t.table.lower().rpartition(".")
            if model_name == name and (not db or not model_db or db == model_db):
                return t
        return None

    def _tables(self, stmt: exp.Select) -> bool:
        from_ = stmt.args.get("from_")
        if from_ is None or not isinstance(from_.this, exp.Table):
            self.issue("sql-statement", "expected FROM <table>", from_ or stmt)
            return False
        base = self._add_table(from_.this)
        if base is None:
            return False
        for join in stmt.args.get("joins") or []:
            if not isinstance(join.this, exp.Table):
                self.issue("sql-join", "a join to a subquery cannot be one Query", join)
                continue
            info = self._add_table(join.this)
            if info is None:
                continue
            self._check_join(join, info)
        family = sorted(self.order_of_tables, key=self._depth)
        self.result.entities = tuple(t.entity for t in family)
        return not any(i.code in ("sql-unknown-table",) for i in self.result.issues)

    def _depth(self, info: TableInfo) -> int:
        depth, cur, seen = 0, info, set()
        while cur.parent and cur.parent in self.by_entity and cur.entity not in seen:
            seen.add(cur.entity)
            cur = self.by_entity[cur.parent]
            depth += 1
        return depth

    def _add_table(self, table: exp.Table) -> TableInfo | None:
        if table.args.get("sample") is not None:
            self.issue(
                "sql-unsupported",
                f"TABLESAMPLE reads a random sample of {table.name}; a Query reads every match",
                table.args["sample"],
                hint="drop TABLESAMPLE, or sample in the application",
            )
        if table.args.get("only"):
            self.issue(
                "sql-unsupported",
                f"ONLY {table.name} leaves out the rows of its child tables (inheritance, "
                "partitions), which the migration copies with the table's own",
                table,
                hint=f"drop ONLY, or map the rows of {table.name} alone to their own entity",
            )
        info = self._lookup_table(table)
        if info is None:
            known = sorted(t.table for t in self.tables)
            close = difflib.get_close_matches(table.name, known, n=1)
            self.issue(
                "sql-unknown-table",
                f"table {table.sql(dialect='postgres')!r} is not the table of any entity",
                table,
                hint=f"did you mean {close[0]!r}?"
                if close
                else "tables of this model: " + ", ".join(known),
            )
            return None
        self.aliases[(table.alias_or_name).lower()] = info
        self.aliases.setdefault(table.name.lower(), info)
        if info not in self.order_of_tables:
            self.order_of_tables.append(info)
        return info

    def _check_join(self, join: exp.Join, child_or_parent: TableInfo) -> None:
        joined = child_or_parent
        others = [t for t in self.order_of_tables if t is not joined]
        related = [t for t in others if t.entity == joined.parent or t.parent == joined.entity]
        kind = (join.args.get("kind") or "").upper()
        if kind == "CROSS" or (not join.args.get("on") and not join.args.get("using")):
            self.issue(
                "sql-join",
                f"{kind or 'a'} join without ON cannot be one Query".strip(),
                join,
                hint="join a child to its parent on the parent's key",
            )
            return
        if not related:
            self.issue(
                "sql-join",
                f"join of {joined.table!r} to a table that is neither its parent nor its child",
                join,
                hint=f"only a parent↔child join on the parent key is one Query; set `parent:` on {joined.entity} if it is owned, or write two patterns",
            )
            return
        other = related[0]
        parent, child = (other, joined) if joined.parent == other.entity else (joined, other)
        side = (join.args.get("side") or "").upper()
        keeps_parent = (
            side == "FULL"
            or (side == "LEFT" and parent is not joined)
            or (side == "RIGHT" and parent is joined)
        )
        if not keeps_parent:
            self.parent_dropping_joins.append(join)
        pairs: set[tuple[str, str]] = set()
        using = join.args.get("using")
        if using:
            for ident in using:
                col = ident.name.lower()
                pairs.add((parent.columns.get(col, col), child.columns.get(col, col)))
        else:
            for cond in _conjuncts(join.args["on"]):
                if (
                    isinstance(cond, exp.EQ)
                    and isinstance(cond.this, exp.Column)
                    and isinstance(cond.expression, exp.Column)
                ):
                    left = self._resolve_column(cond.this, report=True)
                    right = self._resolve_column(cond.expression, report=True)
                    if left and right:
                        (lt, la), (rt, ra) = left, right
                        if lt is parent and rt is child:
                            pairs.add((la, ra))
                        elif lt is child and rt is parent:
                            pairs.add((ra, la))
                        else:
                            self.issue(
                                "sql-join",
                                "join condition does not link the parent to the child",
                                cond,
                            )
                else:
                    self.issue(
                        "sql-join",
                        f"join condition {cond.sql(dialect='postgres')!r} is not an equality of parent and child key columns",
                        cond,
                        hint=f"join on {', '.join(parent.key)}",
                    )
        wanted = {(k, k) for k in parent.key}
        if pairs != wanted and not any(i.code == "sql-join" for i in self.result.issues):
            self.issue(
                "sql-join",
                f"{child.entity} must be joined to {parent.entity} on the parent key ({', '.join(parent.key)})",
                join.args.get("on") or join,
                hint=" AND ".join(f"{child.entity}.{k} = {parent.entity}.{k}" for k in parent.key),
            )

    def _resolve_column(self, col: exp.Column, report: bool = True) -> tuple[TableInfo, str] | None:
        name = col.name.lower()
        qualifier = col.table.lower() if col.table else ""
        if qualifier:
            info = self.aliases.get(qualifier)
            if info is None:
                if report:
                    self.issue(
                        "sql-unknown-table",
                        f"{col.table!r} is not a table or alias of this query",
                        col,
                    )
                return None
            candidates = [info]
        else:
            candidates = self.order_of_tables
        for info in candidates:
            if name in info.columns:
                return info, info.columns[name]
        if report:
            pool = sorted({c for t in candidates for c in t.columns})
            close = difflib.get_close_matches(name, pool, n=1)
            where = (
                candidates[0].table
                if len(candidates) == 1
                else " / ".join(t.table for t in candidates)
            )
            self.issue(
                "sql-unknown-column",
                f"column {col.name!r} is not a column of {where}",
                col,
                hint=f"did you mean {close[0]!r}?" if close else "columns: " + ", ".join(pool),
            )
        return None

    def _columns(self, stmt: exp.Select) -> None:
        for proj in stmt.expressions:
            for col in proj.find_all(exp.Column):
                if isinstance(col.this, exp.Star):
                    if col.table and col.table.lower() not in self.aliases:
                        self.issue(
                            "sql-unknown-table",
                            f"{col.table!r} is not a table or alias of this query",
                            col,
                        )
                    continue
                self._resolve_column(col)

    # ------------------------------------------------------------------ where
    def _operand(self, node: exp.Expression, attribute: str) -> tuple[str, Any] | None:
        while isinstance(node, exp.Cast | exp.Paren):
            if isinstance(node, exp.Cast) and isinstance(node.args.get("to"), exp.DataType):
                self.casts.append(node.args["to"].sql(dialect="postgres").lower())
            node = node.this
        name = self._param_name(node)
        if name is not False:
            return ("param", name)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return ("literal", node.this)
            text = str(node.this)
            try:
                return ("literal", int(text))
            except ValueError:
                return ("literal", float(text))
        if (
            isinstance(node, exp.Neg)
            and isinstance(node.this, exp.Literal)
            and not node.this.is_string
        ):
            value = self._operand(node.this, attribute)
            if value is not None:
                return ("literal", -value[1])
        if isinstance(node, exp.Boolean):
            return ("literal", bool(node.this))
        return None

    def _param_name(self, node: exp.Expression) -> str | Literal[False] | None:
        """The name of a bind parameter (None: positional `?` / `$1`); False: not one."""
        name: str | None
        if isinstance(node, exp.Placeholder):
            if isinstance(node.this, exp.Identifier):
                name = node.this.name
            elif isinstance(node.this, str) and node.this:
                name = node.this
            else:
                return None  # `?`: positional
        elif isinstance(node, exp.Parameter):
            inner = node.this
            if isinstance(inner, exp.Literal) and not inner.is_string:
                return None  # `$1`
            name = inner.name if isinstance(inner, exp.Expression) else str(inner)
        else:
            return False
        return self.renamed.names.get(name, name)

    def _where(self, root: exp.Expression) -> None:
        raw: list[SqlCondition] = []
        for cond in _conjuncts(root):
            self.casts = []
            made = list(self._conjunct(cond))
            if self.casts:
                made = [replace(c, casts=tuple(dict.fromkeys(self.casts))) for c in made]
            raw.extend(made)
        self.result.where = self._merge(raw)

    def _conjunct(self, cond: exp.Expression) -> Iterator[SqlCondition]:
        if isinstance(cond, exp.Or):
            yield from self._fail(
                "sql-or",
                "OR cannot be part of a key condition",
                cond,
                "split the pattern into one pattern per alternative",
            )
            return
        if isinstance(cond, exp.Not):
            inner = _unparen(cond.this)
            if isinstance(inner, exp.Is):
                yield from self._is_null(inner, not inner.args.get("negate"))
                return
            yield from self._fail(
                "sql-not",
                f"NOT ({inner.sql(dialect='postgres')}) cannot be a key condition",
                cond,
                "rewrite it as a positive condition or move it to `filter:`",
            )
            return
        if isinstance(cond, exp.NEQ):
            yield from self._fail(
                "sql-not-equal",
                "`!=` / `<>` cannot be a key condition",
                cond,
                "a Query matches keys equal to or in a range of a value; move it to `filter:`",
            )
            return
        if isinstance(cond, exp.EQ) and isinstance(_unparen(cond.expression), exp.Any):
            yield from self._in(cond, cond.this, [], _unparen(cond.expression).this)
            return
        if isinstance(cond, exp.In):
            yield from self._in(cond, cond.this, list(cond.expressions), cond.args.get("field"))
            return
        if isinstance(cond, exp.Is):
            yield from self._is_null(cond, bool(cond.args.get("negate")))
            return
        if isinstance(cond, exp.ILike):
            yield from self._fail(
                "sql-like",
                "ILIKE (case-insensitive) cannot be a key condition",
                cond,
                "store a lower-cased copy of the attribute and use LIKE 'prefix%' on it",
            )
            return
        if isinstance(cond, exp.Like):
            yield from self._like(cond)
            return
        if isinstance(cond, exp.Between):
            yield from self._between(cond)
            return
        op_type = type(cond)
        if op_type in _OPS:
            yield from self._comparison(cond, _OPS[op_type])
            return
        yield from self._fail(
            "sql-condition",
            f"{cond.sql(dialect='postgres')!r} cannot be a key condition",
            cond,
            "write `column = :param`, a range on one column, BETWEEN or LIKE 'prefix%'",
        )

    def _fail(
        self, code: str, message: str, node: exp.Expression, hint: str
    ) -> Iterator[SqlCondition]:
        self.issue(code, message, node, hint)
        return iter(())

    def _column_side(self, node: exp.Expression) -> tuple[str, int] | None:
        """The attribute of a bare column operand; issues for functions on columns."""
        inner = node
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Column):
            resolved = self._resolve_column(inner)
            offset = self.renamed.offset(_offset(inner))
            if resolved is None:
                return None
            self.column_tables[offset] = resolved[0]
            return resolved[1], offset
        return None

    def _has_column(self, node: exp.Expression) -> exp.Column | None:
        return node.find(exp.Column)

    def _comparison(self, cond: exp.Expression, op: str) -> Iterator[SqlCondition]:
        left, right = cond.this, cond.expression
        lcol, rcol = self._has_column(left), self._has_column(right)
        if lcol is not None and rcol is not None:
            yield from self._fail(
                "sql-condition",
                f"{cond.sql(dialect='postgres')!r} compares two columns",
                cond,
                "a key condition compares one column with a parameter or a literal",
            )
            return
        if lcol is None and rcol is not None:
            left, right, op = right, left, _FLIP[op]
        elif lcol is None:
            yield from self._fail(
                "sql-condition",
                f"{cond.sql(dialect='postgres')!r} does not involve a column",
                cond,
                "remove it",
            )
            return
        if not isinstance(_unparen(left), exp.Column):
            col = self._has_column(left)
            func = _unparen(left)
            label = func.sql_name() if isinstance(func, exp.Func) else "an expression"
            yield from self._fail(
                "sql-function",
                f"{label} on column {col.name if col else '?'!r} cannot be a key condition",
                left,
                "store the computed value as its own attribute and compare that attribute",
            )
            return
        side = self._column_side(left)
        if side is None:
            return
        attribute, offset = side
        operand = self._operand(right, attribute)
        if operand is None:
            yield from self._fail(
                "sql-condition",
                f"the right side of {cond.sql(dialect='postgres')!r} must be a parameter or a literal",
                right,
                "use :name, %(name)s or $1",
            )
            return
        if operand == ("literal", None) or isinstance(_unparen(right), exp.Null):
            yield from self._fail(
                "sql-is-null",
                "comparing with NULL cannot be a key condition",
                cond,
                "key attributes are never null",
            )
            return
        yield self._condition(attribute, op, [operand], offset)

    def _condition(
        self, attribute: str, op: str, operands: list[tuple[str, Any]], offset: int
    ) -> SqlCondition:
        kinds = {k for k, _ in operands}
        if kinds == {"literal"}:
            return SqlCondition(attribute, op, (), tuple(v for _, v in operands), offset)
        if len(kinds) > 1:
            self.issue(
                "sql-mixed-operands",
                f"{attribute}: one bound is a literal and one a parameter",
                offset=offset,
                hint="bind both bounds or write both as literals",
            )
        names: list[str] = []
        for i, (_kind, value) in enumerate(operands):
            if value is None:  # positional
                suffix = ("_from", "_to")[i] if len(operands) == 2 else ""
                names.append(f"{attribute}{suffix}")
            else:
                names.append(str(value))
        return SqlCondition(attribute, op, tuple(names), (), offset)

    def _in(
        self,
        cond: exp.Expression,
        column: exp.Expression,
        items: list[exp.Expression],
        listed: exp.Expression | None,
    ) -> Iterator[SqlCondition]:
        """`col IN (:a, :b)`, `col IN ('x', 'y')`, `col IN :ids`, `col = ANY(:ids)`: one
        Query per value, merged by the client in the SQL's order."""
        name = column.sql(dialect="postgres")
        refuse = (
            f"write `{name} IN (:a, :b)`, `{name} IN :values` or `{name} = ANY(:values)`; "
            "or one pattern with `=`, called once per value"
        )
        if cond.args.get("query") is not None or any(
            isinstance(_unparen(i), exp.Select | exp.Subquery) for i in items
        ):
            yield from self._fail(
                "sql-in", f"{name} IN (SELECT ...) cannot be a key condition", cond, refuse
            )
            return
        if not isinstance(_unparen(column), exp.Column):
            yield from self._fail(
                "sql-function",
                "IN on an expression cannot be a key condition",
                column,
                "store the computed value as its own attribute",
            )
            return
        side = self._column_side(column)
        if side is None:
            return
        attribute, offset = side
        if listed is not None:
            operand = self._operand(_unparen(listed), attribute)
            if operand is None or operand[0] != "param":
                yield from self._fail(
                    "sql-in", f"{name} IN: a list parameter expected", cond, refuse
                )
                return
            param = operand[1] or f"{attribute}_values"
            yield SqlCondition(attribute, "in", (param,), (), offset, listed=True)
            return
        operands = [self._operand(i, attribute) for i in items]
        if not operands or any(o is None for o in operands):
            yield from self._fail(
                "sql-in",
                f"{name} IN (...): every value must be a parameter or a literal",
                cond,
                refuse,
            )
            return
        kinds = {o[0] for o in operands if o is not None}
        if kinds == {"literal"}:
            values = tuple(dict.fromkeys(o[1] for o in operands if o is not None))
            yield SqlCondition(attribute, "in", (), values, offset)
            return
        if len(kinds) > 1:
            yield from self._fail(
                "sql-mixed-operands",
                f"{name} IN (...) mixes literals and parameters",
                cond,
                "bind every value or write every value as a literal",
            )
            return
        names = [
            str(o[1]) if o is not None and o[1] is not None else f"{attribute}_{i + 1}"
            for i, o in enumerate(operands)
        ]
        yield SqlCondition(attribute, "in", tuple(dict.fromkeys(names)), (), offset)

    def _is_null(self, cond: exp.Is, negate: bool) -> Iterator[SqlCondition]:
        """`col IS [NOT] NULL`: a filter the client applies after the key condition (a key
        never holds NULL); `IS NOT TRUE` and friends are refused."""
        if not isinstance(_unparen(cond.expression), exp.Null):
            yield from self._fail(
                "sql-is-null",
                f"{cond.sql(dialect='postgres')!r} cannot be a key condition or a filter",
                cond,
                "compare with `=` (`col = TRUE`) or test `IS NULL` / `IS NOT NULL`",
            )
            return
        if not isinstance(_unparen(cond.this), exp.Column):
            yield from self._fail(
                "sql-function",
                "IS NULL on an expression cannot be a filter",
                cond.this,
                "store the computed value as its own attribute",
            )
            return
        side = self._column_side(cond.this)
        if side is None:
            return
        attribute, offset = side
        op = "is_not_null" if negate else "is_null"
        self.result.filter.append(SqlCondition(attribute, op, (), (), offset))
        return
        yield  # a generator that yields no key condition

    def _between(self, cond: exp.Between) -> Iterator[SqlCondition]:
        if not isinstance(_unparen(cond.this), exp.Column):
            yield from self._fail(
                "sql-function",
                "BETWEEN on an expression cannot be a key condition",
                cond.this,
                "store the computed value as its own attribute",
            )
            return
        side = self._column_side(cond.this)
        if side is None:
            return
        attribute, offset = side
        low = self._operand(cond.args["low"], attribute)
        high = self._operand(cond.args["high"], attribute)
        if low is None or high is None:
            yield from self._fail(
                "sql-condition",
                "BETWEEN bounds must be parameters or literals",
                cond,
                "use BETWEEN :from AND :to",
            )
            return
        if cond.args.get("symmetric"):
            # BETWEEN SYMMETRIC swaps crossed bounds (`5 AND 1` is `1 AND 5`); a key condition
            # is one range in one direction: literals are put in order here, parameters can't be
            numbers = all(
                o[0] == "literal" and isinstance(o[1], int | float) and not isinstance(o[1], bool)
                for o in (low, high)
            )
            if numbers:
                if high[1] < low[1]:
                    low, high = high, low
            else:  # text literals order by the column's type ('10' < '9' as text), not known here
                yield from self._fail(
                    "sql-condition",
                    "BETWEEN SYMMETRIC: which bound is the lower one is known only per call (or "
                    "by the column's type), and a key condition is one range",
                    cond,
                    "write BETWEEN :from AND :to with the lower bound first",
                )
                return
        yield self._condition(attribute, "between", [low, high], offset)

    def _like(self, cond: exp.Like) -> Iterator[SqlCondition]:
        if not isinstance(_unparen(cond.this), exp.Column):
            yield from self._fail(
                "sql-function",
                "LIKE on an expression cannot be a key condition",
                cond.this,
                "store the computed value as its own attribute",
            )
            return
        side = self._column_side(cond.this)
        if side is None:
            return
        attribute, offset = side
        pattern = _unparen(cond.expression)
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            text = str(pattern.this)
            read = like_prefix(text)
            if isinstance(read, str):
                yield from self._fail(
                    "sql-like",
                    f"LIKE {text!r} {read}; only a prefix match ('abc%') can be a key condition",
                    cond,
                    "keep prefix matches only (escape a literal % or _ as \\% or \\_), or move "
                    "the condition to `filter:`",
                )
                return
            body, prefix = read
            yield SqlCondition(attribute, "begins_with" if prefix else "=", (), (body,), offset)
            return
        # :p || '%'  or  CONCAT(:p, '%')
        parts: list[exp.Expression] = []
        if isinstance(pattern, exp.DPipe):
            parts = [pattern.this, pattern.expression]
        elif isinstance(pattern, exp.Concat):
            parts = list(pattern.expressions)
        if len(parts) == 2 and isinstance(parts[1], exp.Literal) and parts[1].this == "%":
            operand = self._operand(parts[0], attribute)
            if operand is not None and operand[0] == "param":
                yield self._condition(attribute, "begins_with", [operand], offset)
                return
        yield from self._fail(
            "sql-like",
            "LIKE with a parameter may hold any wildcard; only a prefix match can be a key condition",
            cond,
            "write LIKE :prefix || '%' so the prefix is explicit",
        )

    def _merge(self, raw: list[SqlCondition]) -> list[SqlCondition]:
        """A lower and an upper bound on one column become one `between` that keeps each
        bound's operator (`>= :a AND < :b` is half-open); other duplicates are issues."""
        by_attr: dict[str, list[SqlCondition]] = {}
        for c in raw:
            by_attr.setdefault(c.attribute, []).append(c)
        out: list[SqlCondition] = []
        for attribute, conds in by_attr.items():
            if len(conds) == 1:
                out.append(conds[0])
                continue
            lows = [c for c in conds if c.op in LOWER_BOUNDS]
            highs = [c for c in conds if c.op in UPPER_BOUNDS]
            if len(conds) == 2 and len(lows) == 1 and len(highs) == 1:
                low, high = lows[0], highs[0]
                bounds = (low.op, high.op)
                if low.params and high.params:
                    params = (*low.params, *high.params)
                    if params[0] == params[1]:  # positional ($2, $3) or one name used twice
                        params = default_params(attribute, "between")
                    out.append(
                        SqlCondition(
                            attribute,
                            "between",
                            params,
                            (),
                            low.offset,
                            bounds,
                            casts=(*low.casts, *high.casts),
                        )
                    )
                elif low.literals and high.literals:
                    out.append(
                        SqlCondition(
                            attribute,
                            "between",
                            (),
                            (*low.literals, *high.literals),
                            low.offset,
                            bounds,
                            casts=(*low.casts, *high.casts),
                        )
                    )
                else:
                    self.issue(
                        "sql-mixed-operands",
                        f"{attribute}: one bound is a literal and one a parameter",
                        offset=high.offset,
                        hint="bind both bounds or write both as literals",
                    )
                continue
            if len(conds) == 2 and any(c.op == "between" for c in conds):
                self.issue(
                    "two-ranges",
                    f"{attribute} has a BETWEEN and another condition",
                    offset=conds[1].offset,
                    hint="write one range: BETWEEN :a AND :b, or `>= :a AND < :b`",
                )
                continue
            if len(conds) == 2 and (len(lows) == 2 or len(highs) == 2):
                self.issue(
                    "two-ranges",
                    f"{attribute} has two {'lower' if lows else 'upper'} bounds "
                    f"({' and '.join(c.op for c in conds)})",
                    offset=conds[1].offset,
                    hint="keep one lower and at most one upper bound (`>= :a AND < :b`)",
                )
                continue
            self.issue(
                "sql-condition",
                f"{attribute} is constrained {len(conds)} times ({', '.join(c.op for c in conds)})",
                offset=conds[1].offset,
                hint="one condition per column",
            )
            out.append(conds[0])
        return out

    # ------------------------------------------------------------------ order / limit
    def _order(self, stmt: exp.Select) -> None:
        order = stmt.args.get("order")
        if order is None:
            return
        equal = {c.attribute for c in self.result.where if c.op == "="}
        remaining: list[tuple[str, bool, exp.Expression]] = []
        for item in order.expressions:
            target = _unparen(item.this)
            if not isinstance(target, exp.Column):
                self.issue(
                    "sql-order",
                    f"ORDER BY {target.sql(dialect='postgres')!r}: only a column can be a sort key",
                    item,
                    hint="store the computed value as its own attribute",
                )
                continue
            resolved = self._resolve_column(target)
            if resolved is None:
                continue
            if resolved[1] in equal:
                continue  # ordering by a column fixed by `=` changes nothing
            remaining.append((resolved[1], bool(item.args.get("desc")), item))
            self.order_columns.append((resolved[0], resolved[1], item))
            nulls_first = item.args.get("nulls_first")
        if len(remaining) > 1:
            self.issue(
                "sql-order",
                "ORDER BY "
                + ", ".join(a for a, _, _ in remaining)
                + ": a Query sorts on one sort-key attribute",
                remaining[1][2],
                hint="order by the range attribute only, or build a composite attribute",
            )
        if remaining:
            attribute, desc, first = remaining[0]
            self.result.order_by = attribute
            self.result.order = "desc" if desc else "asc"
            # sqlglot fills in PostgreSQL's default (NULLS FIRST under DESC) when none is written
            nulls_first = first.args.get("nulls_first")
            if nulls_first is not None and bool(nulls_first) != desc:
                self.result.nulls = "first" if nulls_first else "last"

    def _limit(self, stmt: exp.Select) -> None:
        limit = stmt.args.get("limit")
        if limit is None:
            return
        value = limit.args.get("expression")
        if isinstance(value, exp.Literal) and not value.is_string:
            text = str(value.this)
            if text.isdigit() and len(text) > len(str(limits.QUERY_LIMIT_MAX)):
                n = limits.QUERY_LIMIT_MAX + 1  # int() of thousands of digits raises
            else:
                try:
                    n = int(text)
                except ValueError:
                    n = 0
            if n > limits.QUERY_LIMIT_MAX:
                self.issue(
                    "sql-unsupported",
                    f"LIMIT {text[:30]}{'...' if len(text) > 30 else ''} is larger than "
                    f"DynamoDB's Query Limit ({limits.QUERY_LIMIT_MAX})",
                    limit,
                    hint="drop the LIMIT (the read pages through every match) or use a smaller one",
                )
                return
            if n >= 1:
                self.result.limit = n
                return
            self.issue("sql-unsupported", f"LIMIT {value.this} must be a positive integer", limit)
            return
        name = self._param_name(value) if isinstance(value, exp.Expression) else False
        if name is not False:
            # chosen per call: the client takes it as a parameter (`limit` when positional)
            self.result.limit_param = name or "limit"
            return
        self.issue(
            "sql-unsupported",
            "LIMIT must be a positive integer or a parameter",
            limit,
            hint="write LIMIT 20 or LIMIT :n",
        )


def like_prefix(pattern: str) -> tuple[str, bool] | str:
    """A LIKE pattern as PostgreSQL reads it (backslash escapes, standard strings): (the
    literal text, whether a trailing `%` makes it a prefix match), or why it is neither an
    equality nor a prefix match. `\\x` is `x` (so `\\%`, `\\_` and `\\\\` are literal);
    `%` anywhere but at the end, and `_` anywhere, are wildcards; a pattern ending in a lone
    backslash is an error in PostgreSQL."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 == n:
                return "ends with the escape character \\ (PostgreSQL rejects it)"
            out.append(pattern[i + 1])
            i += 2
            continue
        if ch == "%":
            if pattern[i:].strip("%") == "":  # `abc%` (or `abc%%`): every text starting with abc
                return "".join(out), True
            return f"has {'a leading' if not out else 'an inner'} wildcard %"
        if ch == "_":
            return f"has {'a leading' if not out else 'an inner'} wildcard _ (any one character)"
        out.append(ch)
        i += 1
    return "".join(out), False


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _conjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    node = _unparen(node)
    if isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    else:
        yield node


def translate(sql: str, tables: Sequence[TableInfo]) -> SqlPattern:
    """Translate one `sql:` pattern; never raises for bad SQL (issues carry the problems)."""
    try:
        return _Translator(sql, tables).run()
    except (ParseError, TokenError) as exc:  # pragma: no cover - defensive
        return SqlPattern(issues=[SqlIssue("sql-syntax", f"SQL does not parse: {exc}")])
    except RecursionError:
        return SqlPattern(issues=[SqlIssue("sql-syntax", "SQL is nested too deeply")])
