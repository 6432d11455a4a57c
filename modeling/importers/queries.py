"""Access patterns from the application's workload: `--queries FILE`.

Two input shapes: plain SQL, one statement per line; or a `pg_stat_statements` CSV export (a
header with `query` and `calls`; queries carry `$1` placeholders). Each SELECT is parsed with
sqlglot into the model's pattern form — equality and one range condition on the entity's
attributes, ORDER BY, LIMIT, parent–child joins as item-collection reads — and `calls` over the
observation window becomes `rate`. Everything that cannot be a key-served Query (OR, IN lists,
functions on columns, aggregates, unrelated joins, writes) is listed with the reason.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from modeling.core import inputs, limits
from modeling.core.diagnostics import Diagnostics, Span
from modeling.core.errors import ModelingError
from modeling.core.naming import snake
from modeling.importers._spec import EntityInfo, Pattern, Seeded
from modeling.pg.split import split_statements

DEFAULT_WINDOW_SECONDS = 86400.0
MAX_QUERY_CHARS = 100_000  # one statement; pg_stat_statements truncates far below this
LINES_SHOWN = 5  # lines named per shape of statement in the report and the model's comments
SQL_SHOWN = 300  # characters of a statement quoted in the report
MAX_PAREN_DEPTH = 100  # the parser recurses per level; no key-served read nests this deep
_RANGE_OPS: dict[type[exp.Expression], str] = {
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


@dataclass
class QueryStmt:
    """One statement, standing for every statement of the file of the same shape (the same text
    but for literal values: `WHERE id = 7` and `WHERE id = 8`), which are read once."""

    sql: str  # the first statement of its shape
    line: int
    calls: int | None = None  # summed over the shape's statements that carry a count
    count: int = 1  # statements of this shape in the file
    lines: list[int] = field(default_factory=list)  # where the first few of them start

    def where(self) -> str:
        """`line 7`, or `line 7 and 2,301 more statements like it (lines 9, 12, ...)`."""
        if self.count <= 1:
            return f"line {self.line}"
        more = ", ".join(str(n) for n in self.lines[1:LINES_SHOWN])
        more += ", ..." if self.count > LINES_SHOWN else ""
        return f"line {self.line} and {self.count - 1:,} more like it (lines {more})"


@dataclass
class Unservable:
    line: int
    sql: str
    reason: str
    count: int = 1  # statements of this shape
    lines: list[int] = field(default_factory=list)


@dataclass
class WriteRate:
    """INSERT/UPDATE/DELETE/MERGE statements on one entity: calls summed, as writes per second
    (assumed one row per call: pg_stat_statements counts calls, not rows)."""

    entity: str
    calls: int = 0
    statements: list[int] = field(default_factory=list)  # lines
    kinds: list[str] = field(default_factory=list)
    rate: float | None = None


@dataclass
class Workload:
    patterns: list[Pattern] = field(default_factory=list)
    unservable: list[Unservable] = field(default_factory=list)
    statements: int = 0
    shapes: int = 0  # distinct statements once literals are set aside: each read once
    writes: dict[str, WriteRate] = field(default_factory=dict)  # entity → its write rate


class _NotServable(ModelingError):
    pass


def read_queries(path: Path, diags: Diagnostics) -> list[QueryStmt]:
    """Statements of a plain-SQL or pg_stat_statements CSV file; identical text merged."""
    try:
        data = inputs.read_bytes(path, "queries")
    except inputs.InputFileError as e:
        diags.error("SEED040", str(e), Span(str(path)), hint=e.hint)
        return []
    except OSError as e:
        diags.error("SEED040", f"cannot read {path}: {e}", Span(str(path)))
        return []
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _line_col(data, e.start)
        diags.error(
            "SEED040",
            f"{path} is not UTF-8: byte 0x{data[e.start]:02x} cannot be read",
            Span(str(path), line, col),
            hint="save the file as UTF-8 (iconv -f LATIN1 -t UTF-8, or psql's \\encoding UTF8)",
        )
        return []
    nul = data.find(b"\0")
    if nul >= 0:
        line, col = _line_col(data, nul)
        diags.error(
            "SEED040",
            f"{path} holds a NUL byte: not a text file of SQL (PostgreSQL refuses NUL in a query)",
            Span(str(path), line, col),
            hint="pass the SQL text or the pg_stat_statements CSV, not a binary file",
        )
        return []
    del data  # the text alone from here on (a file of 200 MB was held as bytes and text)
    return parse_queries(text, str(path), diags)


def _line_col(data: bytes, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte `pos`."""
    start = data.rfind(b"\n", 0, pos) + 1
    return data.count(b"\n", 0, pos) + 1, len(data[start:pos].decode("utf-8", "replace")) + 1


# Words that continue a statement on a new line (`FROM ...`, `WHERE ...`, `ORDER BY ...`)
_CONTINUES = re.compile(
    r"(from|where|and|or|not|order|group|having|limit|offset|fetch|join|left|right|inner|full|"
    r"cross|natural|on|using|returning|set|union|except|intersect|lateral|window|for|nulls|"
    r"values|as)\b|[)(,.:+*/|=<>-]",
    re.I,
)


def plain_statements(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each statement of a plain SQL file. Statements ending in `;` are
    split by our splitter (strings, comments, dollar quotes and psql meta-commands understood),
    so one may span lines. Text without a closing `;` is read as one statement per line (a
    log's usual shape) where a line that is indented, inside parentheses, or starts with a
    word that continues a statement (`FROM`, `WHERE`, `ORDER BY`, ...) joins the line above."""
    return list(_plain(text))


def _plain(text: str) -> Iterator[tuple[int, str]]:
    """`plain_statements`, one at a time (a query file of 200 MB is not held twice)."""
    for n, sql in _plain_chunks(text):
        if sql[:1] != "-" or _code(sql).strip():
            yield n, sql.rstrip(";").strip()


def _plain_chunks(text: str) -> Iterator[tuple[int, str]]:
    for st in split_statements(text):
        if st.kind != "sql":
            continue
        if st.terminated:  # the splitter starts a statement at its first code: no comment
            yield st.line, st.text
            continue
        lines = st.text.split("\n")
        chunk: list[str] = []
        start, depth = st.line, 0
        for i, raw in enumerate(lines):
            code = _code(raw)
            if not code.strip():
                if chunk:
                    chunk.append(raw)
                continue
            if chunk and depth <= 0 and raw[:1].strip() and not _CONTINUES.match(raw):
                yield start, "\n".join(chunk)
                chunk = []
            if not chunk:
                start = st.line + i
            chunk.append(raw)
            depth += code.count("(") - code.count(")")
        if chunk:
            yield start, "\n".join(chunk)


def _code(line: str) -> str:
    """A line without its `--` comment (a rough cut: enough to find blank and comment lines
    and to count parentheses)."""
    return line.split("--", 1)[0]


_FIRST_LINE = re.compile(r"\r\n|\r|\n")
_DELIMITERS = (",", "\t", ";")  # CSV, a TSV (`COPY … TO` with HEADER), a spreadsheet's CSV


def _header(text: str) -> tuple[list[str], str]:
    """The names of the first line read as a CSV header, and its delimiter (the one whose
    names hold `query`); [] when it cannot be one."""
    m = _FIRST_LINE.search(text, 0, 65537)
    first = text[: m.start() if m else 65537]
    if not first.strip() or len(first) > 65536:  # no header is that long: plain SQL
        return [], ","
    for delimiter in _DELIMITERS:
        try:
            names = [
                h.strip().strip('"').lower()
                for h in next(csv.reader([first], delimiter=delimiter), [])
            ]
        except csv.Error:  # a quote or a bare CR the csv module refuses: not a header either
            continue
        if "query" in names:
            return names, delimiter
    return [], ","


def parse_queries(text: str, source: str, diags: Diagnostics) -> list[QueryStmt]:
    """The file's statements, one per shape: those that differ only in literal values (and in
    spacing and comments) are merged into the first, their calls summed, their lines kept."""
    text = text.lstrip("\ufeff")
    header, delimiter = _header(text)
    merged: dict[str, QueryStmt] = {}

    def take(sql: str, line: int, calls: int | None = None) -> None:
        # Merge statements of one shape (pg_stat_statements has one row per user and database;
        # a log has the same query with other values): each shape is parsed and reported once.
        key = shape(sql) if len(sql) <= MAX_QUERY_CHARS else f"#{line}"
        m = merged.get(key)
        if m is None:
            merged[key] = QueryStmt(sql, line, calls, lines=[line])
            return
        m.count += 1
        if len(m.lines) < LINES_SHOWN:
            m.lines.append(line)
        if calls is not None:
            m.calls = (m.calls or 0) + calls

    if "query" in header:
        # newline="": csv handles line ends itself (a bare \r inside a field is data)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        line = 1
        try:
            names = [h.strip().lower() for h in next(reader)]
            line = reader.line_num + 1  # a quoted query may span lines: track where each row starts
            for values in reader:
                row = dict(zip(names, values, strict=False))
                q = (row.get("query") or "").strip()
                calls_text = (row.get("calls") or "").strip()
                calls = None
                if calls_text:
                    calls = _calls(calls_text)
                    if calls is None:
                        shown = calls_text if len(calls_text) <= 40 else calls_text[:37] + "..."
                        diags.warning(
                            "SEED041",
                            f"calls is not a count: {shown!r}",
                            Span(source, line, 1),
                            hint="a whole number of calls, at least 0; the row's rate is left out",
                        )
                if q:
                    take(q.rstrip(";").strip(), line, calls)
                line = reader.line_num + 1
        except csv.Error as e:  # an open quote at the end, a field beyond csv's size limit
            diags.error(
                "SEED040",
                f"the CSV cannot be read from line {line} on: {e}",
                Span(source, line, 1),
                hint="export pg_stat_statements again (COPY ... TO ... WITH CSV HEADER)",
            )
    else:
        for n, sql in _plain(text):
            take(sql, n)
    return list(merged.values())


# The tokens `shape` needs to tell apart: a literal (string or number), and what can hide one
# (a quoted identifier, a comment). A literal right after LIKE or LIMIT is part of the shape:
# the pattern depends on its value (a prefix match, the page size); OFFSET's is not.
_SHAPE_TOKEN = re.compile(
    r"""(?P<ident>"(?:[^"]|"")*")"""
    r"""|(?P<literal>'(?:[^']|'')*'|(?<![\w$.])(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)"""
    r"""|(?P<comment>--[^\n]*)""",
    re.I,
)
_KEPT_AFTER = re.compile(r"\b(?:like|ilike|limit)(?:\s|--[^\n]*\n)*$", re.I)
# text whose literals the token pattern above could misread: backslash escapes (E'..'),
# dollar quotes, block comments (they nest). Such a statement is its own shape.
_SHAPE_UNSURE = re.compile(r"\\|/\*|\$(?!\d)")


def _shape_token(m: re.Match[str]) -> str:
    kind = m.lastgroup
    if kind == "comment":
        return " "
    if kind == "literal":
        before = m.string[max(0, m.start() - 200) : m.start()]
        if not _KEPT_AFTER.search(before):
            return "'?'" if m.group(0)[0] == "'" else "0"
    return m.group(0)


def shape(sql: str) -> str:
    """`sql` with its literal values set aside, spacing and comments normalised: two
    statements of one shape become the same pattern (or fail for the same reason)."""
    if _SHAPE_UNSURE.search(sql):
        return sql
    return " ".join(_SHAPE_TOKEN.sub(_shape_token, sql).split())


def _calls(text: str) -> int | None:
    """`calls` of a pg_stat_statements row: a finite count >= 0 (`12`, `1.2e3`), else None."""
    if len(text) > 40:  # int() of thousands of digits is refused (and slow)
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)


def workload_patterns(
    stmts: list[QueryStmt], seeded: Seeded, window_seconds: float = DEFAULT_WINDOW_SECONDS
) -> Workload:
    """Turn statements into patterns against the seeded entities; never raises."""
    w = Workload(statements=sum(q.count for q in stmts), shapes=len(stmts))
    tables = _table_index(seeded)
    for q in stmts:
        try:
            tree = _read(q)
            target = _write_target(tree, tables)
            if target is not None:
                kind, info = target
                wr = w.writes.setdefault(info.name, WriteRate(info.name))
                wr.statements.extend(q.lines or [q.line])
                if kind not in wr.kinds:
                    wr.kinds.append(kind)
                if q.calls is not None:
                    wr.calls += q.calls
                    if window_seconds > 0:
                        rate = wr.calls / window_seconds
                        # beyond RATE_MAX the model would not validate: left out, as for reads
                        wr.rate = rate if rate <= limits.RATE_MAX else None
                continue
            p = _pattern(q, tree, tables, seeded)
        except RecursionError:  # a tree too deep for sqlglot's walk or generator
            w.unservable.append(_unservable(q, "nested too deeply to read"))
            continue
        except _NotServable as e:
            w.unservable.append(_unservable(q, str(e)))
            continue
        if q.calls is not None and window_seconds > 0:
            rate = q.calls / window_seconds
            if rate <= limits.RATE_MAX:  # beyond it the model would not validate
                p.rate = rate
            else:
                p.origins.append(f"rate left out: {q.calls} calls is beyond any table's quota")
        w.patterns.append(p)
    w.patterns = _merge_needs(w.patterns)
    return w


ORIGINS_KEPT = 3  # statement shapes quoted per pattern; the rest are counted


def _merge_needs(patterns: list[Pattern]) -> list[Pattern]:
    """One pattern per read: shapes that select other columns, or page with another LIMIT,
    are the same key condition. Rates are summed; the largest LIMIT is kept (none if one shape
    has none); the first shapes are quoted, the rest counted (a log of 20,000 page sizes made
    20,000 patterns)."""
    by_need: dict[tuple[object, ...], Pattern] = {}
    limits_of: dict[int, set[int | None]] = {}
    extra: dict[int, int] = {}
    out: list[Pattern] = []
    for p in patterns:
        key = (tuple(p.entities), tuple(p.where), p.order, p.order_by)
        m = by_need.get(key)
        if m is None:
            by_need[key] = p
            limits_of[id(p)] = {p.limit}
            out.append(p)
            continue
        limits_of[id(m)].add(p.limit)
        m.limit = None if m.limit is None or p.limit is None else max(m.limit, p.limit)
        if p.rate is not None:
            m.rate = (m.rate or 0) + p.rate
        if len(m.origins) < ORIGINS_KEPT:
            m.origins.extend(p.origins)
        else:
            extra[id(m)] = extra.get(id(m), 0) + 1
    for m in out:
        seen = limits_of[id(m)]
        if len(seen) > 1:
            shown = sorted(n for n in seen if n is not None)
            text = ", ".join(str(n) for n in shown[:5]) + (", ..." if len(shown) > 5 else "")
            text += ", none" if None in seen else ""
            m.origins.append(
                f"LIMIT {text} ({len(seen)} values): "
                + ("no limit kept" if m.limit is None else f"the largest, {m.limit}, kept")
            )
        if extra.get(id(m)):
            m.origins.append(f"and {extra[id(m)]:,} more statement shape(s) of this read")
        if m.rate is not None and m.rate > limits.RATE_MAX:
            m.origins.append(f"rate left out: {m.rate:.3g}/s is beyond any table's quota")
            m.rate = None
    return out


def _unservable(q: QueryStmt, reason: str) -> Unservable:
    sql = (
        q.sql if len(q.sql) <= SQL_SHOWN else f"{q.sql[:SQL_SHOWN]}... ({len(q.sql):,} characters)"
    )
    return Unservable(q.line, sql, reason, q.count, q.lines or [q.line])


_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge)
# pg_stat_statements' `$1,$2` (no space) reads as a dollar-quoted string to sqlglot's tokenizer
_DOLLAR_PARAM = re.compile(r"(?<![\w$])\$(\d+)(?![\w$])")


def _parse(sql: str) -> exp.Expr:
    """One statement as a sqlglot tree; `$N` placeholders read as named parameters `:pN`."""
    return sqlglot.parse_one(_DOLLAR_PARAM.sub(r":p\1", sql), read="postgres")


def _read(q: QueryStmt) -> exp.Expr:
    """The statement's tree, refusing first what would exhaust the parser (huge text, deep
    nesting), for reads and writes alike; _NotServable says why it cannot be read."""
    if len(q.sql) > MAX_QUERY_CHARS:
        raise _NotServable(f"{len(q.sql):,} characters; at most {MAX_QUERY_CHARS:,} are read")
    depth = deepest = 0
    # parentheses inside string literals count too: a cheap upper bound, walked only when
    # there are enough of them to nest too deep
    for c in q.sql if q.sql.count("(") > MAX_PAREN_DEPTH else ():
        if c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth -= 1
    if deepest > MAX_PAREN_DEPTH:
        raise _NotServable(f"nested {deepest} parentheses deep; at most {MAX_PAREN_DEPTH} are read")
    try:
        return _parse(q.sql)
    except ParseError as e:
        pos = e.errors[0] if e.errors else {}
        at = (
            f" near line {pos['line']}, column {pos['col']} of the statement"
            if pos.get("line")
            else ""
        )
        raise _NotServable(f"the statement could not be read{at}") from None
    except TokenError:
        raise _NotServable("the statement could not be read (an unclosed quote?)") from None
    except TypeError:  # sqlglotc (compiled) on some malformed SQL, e.g. `x ?`
        raise _NotServable("the statement could not be read") from None
    except RecursionError:
        raise _NotServable("nested too deeply to read") from None


def _write_target(tree: exp.Expr, tables: dict[str, EntityInfo]) -> tuple[str, EntityInfo] | None:
    """(statement kind, entity) of a write statement on a seeded table; None for anything else
    (a read: `_pattern` says what it is)."""
    if not isinstance(tree, _WRITES):
        return None
    table = tree.this
    if isinstance(table, exp.Schema):  # INSERT INTO t (a, b)
        table = table.this
    if not isinstance(table, exp.Table):
        raise _NotServable(f"a write ({tree.key.upper()}) whose target is not a table")
    info = _resolve_table(table, tables, {})
    return tree.key.upper(), info


def _table_index(seeded: Seeded) -> dict[str, EntityInfo]:
    out: dict[str, EntityInfo] = {}
    for (schema, name), info in seeded.entities.items():
        out[f"{schema}.{name}"] = info
        out.setdefault(name, info)
    return out


def _pattern(
    q: QueryStmt, tree: exp.Expr, tables: dict[str, EntityInfo], seeded: Seeded
) -> Pattern:
    if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge):
        raise _NotServable(f"a write ({tree.key.upper()}), not a read pattern")
    if not isinstance(tree, exp.Select):
        what = {"union": "UNION", "except": "EXCEPT", "intersect": "INTERSECT"}.get(tree.key)
        raise _NotServable(
            f"{what} of SELECTs: one pattern per SELECT" if what else "not a SELECT statement"
        )
    if tree.args.get("with_") or tree.args.get("with"):
        raise _NotServable("WITH (common table expression)")
    for arg, what in (("group", "GROUP BY"), ("having", "HAVING"), ("distinct", "DISTINCT")):
        if tree.args.get(arg):
            raise _NotServable(f"{what} needs a precomputed item or a stream aggregate")
    for agg in tree.find_all(exp.AggFunc):
        raise _NotServable(f"aggregate {agg.key.upper()}() needs a precomputed item")
    if tree.find(exp.Window):
        raise _NotServable("window function")
    from_ = tree.args.get("from_") or tree.args.get("from")
    if from_ is None:
        raise _NotServable("no FROM table: nothing is read")
    if isinstance(from_.this, exp.Subquery):
        raise _NotServable("FROM a subquery: write the pattern on the table it reads")
    if not isinstance(from_.this, exp.Table) or not from_.this.name:
        raise _NotServable("FROM a function or VALUES list, not a table")
    aliases: dict[str, EntityInfo] = {}
    main = _resolve_table(from_.this, tables, aliases)
    entities = [main]
    for join in tree.args.get("joins") or []:
        other = _join(join, main, tables, aliases)
        entities.append(other)
    if len(entities) > 2:
        raise _NotServable("more than one join")
    if len(entities) == 2:
        a, b = entities
        if b.parent == a.name:
            entities = [a, b]
        elif a.parent == b.name:
            entities = [b, a]
    where: list[tuple[str, str]] = []
    where_node = tree.args.get("where")
    conjuncts = _conjuncts(where_node.this) if where_node is not None else []
    for c in conjuncts:
        where.append(_condition(c, aliases, entities))
    if len(entities) == 2:
        where = _collection_where(where, entities)
    eq = [(a, op) for a, op in where if op == "="]
    rng = [(a, op) for a, op in where if op != "="]
    if not eq:
        raise _NotServable("no equality condition on an attribute: this is a scan")
    if len(rng) > 1:
        raise _NotServable(
            f"two range conditions ({', '.join(a for a, _ in rng)}); one Query sorts on one attribute"
        )
    if len({a for a, _ in eq}) != len(eq):
        raise _NotServable("the same attribute is compared twice")
    order = None
    order_by = None
    order_node = tree.args.get("order")
    if order_node is not None:
        keys = order_node.expressions
        if len(keys) > 1:
            raise _NotServable("ORDER BY on several columns; a Query sorts on one attribute")
        ordered = keys[0]
        col = ordered.this
        if not isinstance(col, exp.Column):
            raise _NotServable(f"ORDER BY an expression ({col.sql('postgres')[:60]})")
        attr = _attr(col, aliases, entities)
        desc = bool(ordered.args.get("desc"))
        if rng and attr != rng[0][0]:
            raise _NotServable(f"ORDER BY {attr} differs from the range attribute {rng[0][0]}")
        if not rng and attr not in {a for a, _ in eq}:
            order_by = attr
        order = "desc" if desc else None
    limit = None
    limit_node = tree.args.get("limit")
    if limit_node is not None:
        val = limit_node.expression
        if isinstance(val, exp.Literal) and val.is_int:
            text = str(val.this)
            # a LIMIT beyond a Query's Limit is no limit at all (int() of 5,000 digits raises)
            if (
                len(text) <= len(str(limits.QUERY_LIMIT_MAX))
                and int(text) <= limits.QUERY_LIMIT_MAX
            ):
                limit = int(text)
    ents = [e.name for e in entities]
    name_bits = [a for a, _ in eq] + [a for a, _ in rng]
    if len(ents) == 2:
        name = f"{snake(ents[0])}_with_{snake(ents[1])}"
    else:
        name = f"{snake(ents[0])}_by_{'_'.join(name_bits)}"
    if order_by:
        name += f"_by_{order_by}"
    if order == "desc":
        name += "_desc"
    snippet = " ".join(q.sql.split())
    snippet = snippet if len(snippet) <= 80 else snippet[:77] + "..."
    calls = f", {q.calls} calls" if q.calls is not None else ""
    return Pattern(
        name[:60].rstrip("_"),
        ents,
        where,
        unique=False,
        order=order,
        origins=[f"query {q.where()}{calls}: {snippet}"],
        limit=limit,
        order_by=order_by,
    )


def _resolve_table(
    t: exp.Table, tables: dict[str, EntityInfo], aliases: dict[str, EntityInfo]
) -> EntityInfo:
    name = t.name if t.this.args.get("quoted") else t.name.lower()
    db = t.db if (t.args.get("db") and t.args["db"].args.get("quoted")) else t.db.lower()
    key = f"{db}.{name}" if db else name
    info = tables.get(key)
    if info is None:
        raise _NotServable(f"table {key} is not in the model")
    alias = t.alias_or_name
    aliases[alias if t.alias else name] = info
    aliases[name] = info
    return info


def _join(
    join: exp.Join, main: EntityInfo, tables: dict[str, EntityInfo], aliases: dict[str, EntityInfo]
) -> EntityInfo:
    if not isinstance(join.this, exp.Table):
        raise _NotServable("join to a subquery")
    other = _resolve_table(join.this, tables, aliases)
    if not (other.parent == main.name or main.parent == other.name):
        raise _NotServable(f"join between {main.name} and {other.name} is not parent–child")
    on = join.args.get("on")
    if on is None:
        raise _NotServable("join without ON (a cross product)")
    parent, child = (main, other) if other.parent == main.name else (other, main)
    pairs = set()
    for c in _conjuncts(on):
        if not isinstance(c, exp.EQ) or not all(
            isinstance(x, exp.Column) for x in (c.this, c.expression)
        ):
            raise _NotServable(f"join condition {c.sql('postgres')[:60]} is not column = column")
        pairs.add(tuple(sorted((c.this.name.lower(), c.expression.name.lower()))))
    want = {tuple(sorted((pk, fk))) for pk, fk in zip(parent.key, child.parent_fk, strict=False)}
    if pairs != want:
        raise _NotServable(f"join of {parent.name} and {child.name} is not on the parent's key")
    return other


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    """The terms of `a AND (b AND c)`, left to right; iterative, so 5,000 ANDs are fine."""
    out: list[exp.Expression] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, exp.Paren):
            stack.append(cur.this)
        elif isinstance(cur, exp.And):
            stack.extend((cur.expression, cur.this))
        else:
            out.append(cur)
    return out


def _is_value(node: exp.Expression) -> bool:
    node = node.this if isinstance(node, exp.Cast) else node
    return isinstance(
        node, exp.Literal | exp.Parameter | exp.Placeholder | exp.Null | exp.Boolean
    ) or (isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal))


def _condition(
    c: exp.Expression, aliases: dict[str, EntityInfo], entities: list[EntityInfo]
) -> tuple[str, str]:
    if isinstance(c, exp.Or):
        raise _NotServable("OR: split into one pattern per branch")
    if isinstance(c, exp.Not):
        raise _NotServable("NOT")
    if isinstance(c, exp.In):
        raise _NotServable("IN list: a BatchGetItem or one Query per value")
    if isinstance(c, exp.Is):
        raise _NotServable("IS NULL: use a sparse index")
    if isinstance(c, exp.NEQ):
        raise _NotServable("<> (not equal) cannot be a key condition")
    if isinstance(c, exp.Between):
        if (
            isinstance(c.this, exp.Column)
            and _is_value(c.args["low"])
            and _is_value(c.args["high"])
        ):
            return _attr(c.this, aliases, entities), "between"
        raise _NotServable(f"BETWEEN on {c.this.sql('postgres')[:40]}")
    if isinstance(c, exp.Like):
        if isinstance(c.this, exp.Column):
            pat = c.expression
            if isinstance(pat, exp.Literal) and pat.is_string:
                text = pat.this
                if text.endswith("%") and "%" not in text[:-1] and "_" not in text[:-1]:
                    return _attr(c.this, aliases, entities), "begins_with"
                raise _NotServable(f"LIKE {text!r} is not a prefix match")
            if isinstance(pat, exp.DPipe | exp.Parameter | exp.Placeholder):
                return _attr(c.this, aliases, entities), "begins_with"
        raise _NotServable("LIKE on an expression")
    if isinstance(c, exp.ILike):
        raise _NotServable("ILIKE (case-insensitive) cannot be a key condition")
    if isinstance(c, exp.EQ) or type(c) in _RANGE_OPS:
        op = "=" if isinstance(c, exp.EQ) else _RANGE_OPS[type(c)]
        left, right = c.this, c.expression
        if isinstance(right, exp.Column) and _is_value(left):
            left, right = right, left
            op = _FLIP.get(op, op)
        if isinstance(left, exp.Column) and _is_value(right):
            return _attr(left, aliases, entities), op
        if isinstance(left, exp.Func) or isinstance(right, exp.Func):
            fn = left if isinstance(left, exp.Func) else right
            raise _NotServable(f"function {fn.sql_name()}() on a column: store the computed value")
        raise _NotServable(f"condition {c.sql('postgres')[:60]} is not column-versus-value")
    raise _NotServable(f"condition {c.sql('postgres')[:60]}")


def _attr(col: exp.Column, aliases: dict[str, EntityInfo], entities: list[EntityInfo]) -> str:
    name = col.name if col.this.args.get("quoted") else col.name.lower()
    qualifier = col.table
    candidates = [aliases[qualifier]] if qualifier and qualifier in aliases else entities
    if qualifier and qualifier not in aliases:
        raise _NotServable(f"unknown table or alias {qualifier}")
    for info in candidates:
        if name in info.attrs:
            return info.attrs[name]
    raise _NotServable(
        f"column {name} is not an attribute of {', '.join(e.name for e in candidates)}"
    )


def _collection_where(
    where: list[tuple[str, str]], entities: list[EntityInfo]
) -> list[tuple[str, str]]:
    """A parent–child read is keyed by the parent's key: the child's foreign-key attributes
    name the same values, so they are rewritten to the parent's attribute names."""
    parent, child = entities
    rename = dict(zip(child.parent_fk, parent.key, strict=False))
    out = []
    for a, op in where:
        out.append((rename.get(a, a), op))
    if [a for a, op in out if op == "="] != list(parent.key) and set(a for a, _ in out) != set(
        parent.key
    ):
        raise _NotServable(
            f"a {parent.name}+{child.name} read must select one {parent.name} by its key"
        )
    return out
