"""What a CHECK constraint proves about the length of string columns (`min_length`).

A model attribute with `min_length: 1` is a string that is never empty, which is what lets
`layout: {gsi_keys: attributes}` key a GSI on it (DynamoDB refuses an empty string as a key
attribute value). `model init` seeds it from the schema's CHECK constraints, as written in DDL
(`CHECK (length(name) > 0)`) or as `pg_get_constraintdef` prints them
(`CHECK ((length((name)::text) > 0))`, `CHECK ((name <> ''::text))`,
`CHECK ((code = ANY (ARRAY['a'::text, 'b'::text])))`).

The condition is parsed by sqlglot (PostgreSQL dialect) and its syntax tree read; only the
top-level conjuncts count (`a AND b`: each; an OR, or anything unknown, proves nothing, so
nothing is seeded). A conjunct proves a bound on column `c` when it is one of:

    s <> ''   s != ''   s > 'any'   s >= 'non-empty'   (either side)          -> 1
    NOT (s = '')   NOT (f(s) < n)  ...  (NOT of a comparison: the opposite one)
    f(s) > n   f(s) >= n   f(s) = n   f(s) <> 0   (either side)               -> n + 1 / n / n / 1
    f(s) BETWEEN n AND m                                                      -> n
    s = 'abc'   s IN ('ab', 'abc')   s = ANY (ARRAY['ab', 'abc'])              -> the shortest
    s ~ 'pattern'   s ~* 'pattern'   (a pattern that cannot match '')          -> 1

where s is the column, possibly cast to a string type (`(c)::text`, `c::varchar(9)`: a cast
only truncates or pads, and char(n)'s padding does not count) or trimmed (`btrim`, `trim`,
`ltrim`, `rtrim`: trimming only removes characters, so the column is at least as long), and f
is `length`, `char_length` or `character_length` (characters) or `octet_length` (bytes: proves
only non-empty). Literals count as written (trailing spaces aside: char(n) ignores them). A
CHECK is satisfied by NULL, so the bound is on the non-NULL values, as `min_length` is.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from modeling.core.limits import ITEM_BYTES
from modeling.pg.catalog import Column, Table

_PREFIX = re.compile(r"^\s*CHECK\b", re.IGNORECASE)
_SUFFIX = re.compile(r"\s+(?:NO\s+INHERIT|NOT\s+VALID)\s*$", re.IGNORECASE)
# the types a string column may be cast to without gaining characters
_STRING_TYPES = frozenset(
    {
        exp.DataType.Type.TEXT,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.CHAR,
        exp.DataType.Type.BPCHAR,
        exp.DataType.Type.NCHAR,
        exp.DataType.Type.NVARCHAR,
        exp.DataType.Type.NAME,
    }
)
_FLIPPED: dict[type[exp.Expr], type[exp.Expr]] = {  # a < b  <=>  b > a
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
    exp.EQ: exp.EQ,
    exp.NEQ: exp.NEQ,
}
_NEGATED: dict[type[exp.Expr], type[exp.Expr]] = {  # NOT (a < b)  <=>  a >= b
    exp.GT: exp.LTE,
    exp.GTE: exp.LT,
    exp.LT: exp.GTE,
    exp.LTE: exp.GT,
    exp.EQ: exp.NEQ,
    exp.NEQ: exp.EQ,
}
# regular expressions whose meaning is the same for PostgreSQL and Python (no classes like
# [[:alpha:]], no (?...) options or lookarounds, no PostgreSQL-only escapes)
_PORTABLE_REGEX = re.compile(r"(?:[A-Za-z0-9_ ^$.*+?{},|()\[\]-]|\\[dDwWsS.^$*+?()\[\]{}|\\/-])*")


def min_lengths(expression: str) -> dict[str, int]:
    """Column -> the fewest characters a CHECK expression proves its non-NULL values have.

    `expression` is the CHECK's condition, with or without the `CHECK` keyword and its
    parentheses (`length(name) > 0`, `CHECK ((name <> ''::text))`)."""
    text = _SUFFIX.sub("", _PREFIX.sub("", expression, count=1))
    lowered = text.lower()
    if "'" not in text and "$" not in text and "length" not in lowered:
        return {}  # every shape above has a string literal or a length function
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except (SqlglotError, RecursionError, ValueError, TypeError):
        return {}  # not an expression sqlglot reads (sqlglotc: TypeError too): nothing proven
    out: dict[str, int] = {}
    for part in _conjuncts(tree):
        found = _bound(part)
        if found is not None and found[1] > 0:
            name, n = found
            out[name] = max(out.get(name, 0), n)
    return out


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _conjuncts(tree: exp.Expr) -> list[exp.Expr]:
    """The top-level AND parts of `tree`, in order (iterative: a hostile CHECK may hold
    thousands of ANDs)."""
    parts: list[exp.Expr] = []
    stack = [tree]
    while stack:
        node = _unparen(stack.pop())
        if isinstance(node, exp.And):
            stack.extend((node.expression, node.this))
        else:
            parts.append(node)
    return parts


def _bound(part: exp.Expr) -> tuple[str, int] | None:
    negated = False
    while isinstance(part, exp.Not):
        negated = not negated
        part = _unparen(part.this)
    if negated:
        kind = _NEGATED.get(type(part))
        if kind is None:
            return None  # NOT IN, NOT ~, NOT BETWEEN ...: prove nothing
        part = kind(this=part.this, expression=part.expression)
    if type(part) in _FLIPPED:
        return _comparison(type(part), _unparen(part.this), _unparen(part.expression))
    if isinstance(part, exp.Between):
        counted = _length_of(_unparen(part.this))
        low, high = _integer(part.args.get("low")), _integer(part.args.get("high"))
        if counted is None or low is None:
            return None
        if part.args.get("symmetric"):  # BETWEEN SYMMETRIC 40 AND 3: from 3
            if high is None:
                return None
            low = min(low, high)
        return counted[0], _chars(counted[1], low)
    if isinstance(part, exp.In) and not part.args.get("query"):
        return _one_of(part.this, part.expressions)
    if isinstance(part, exp.RegexpLike | exp.RegexpILike):
        name = _column(part.this)
        pattern = _string(part.expression)
        if name is None or pattern is None or not _never_matches_empty(pattern):
            return None
        return name, 1
    return None


def _comparison(op: type[exp.Expr], left: exp.Expr, right: exp.Expr) -> tuple[str, int] | None:
    """A bound from `left op right`, the column or its length on either side."""
    if _column(left) is None and _length_of(left) is None:
        left, right, op = right, left, _FLIPPED[op]  # '' < name  ->  name > ''
    name = _column(left)
    if name is not None:
        if op is exp.EQ and isinstance(right, exp.Any):
            listed = _unparen(right.this)
            if isinstance(listed, exp.Array):
                return _one_of(left, listed.expressions)
            return None
        value = _string(right)
        if value is None:
            return None
        if (op is exp.NEQ and value == "") or op is exp.GT or (op is exp.GTE and value):
            return name, 1
        if op is exp.EQ:
            return name, len(value.rstrip(" "))
        return None
    counted = _length_of(left)
    n = _integer(right)
    if counted is None or n is None:
        return None
    bounds: dict[type[exp.Expr], int] = {exp.GTE: n, exp.GT: n + 1, exp.EQ: n}
    bound = bounds.get(op)
    if op is exp.NEQ and n == 0:
        bound = 1
    return None if bound is None else (counted[0], _chars(counted[1], bound))


def _one_of(subject: exp.Expr, values: list[exp.Expr]) -> tuple[str, int] | None:
    """`subject IN (values)`: the shortest listed string, when every value is a string."""
    name = _column(subject)
    texts = [_string(v) for v in values]
    if name is None or not texts or any(t is None for t in texts):
        return None
    return name, min(len(t.rstrip(" ")) for t in texts if t is not None)


def _column(node: exp.Expr) -> str | None:
    """The column a string expression is (at least as long as), as PostgreSQL stores its name
    (unquoted names fold to lower case): `c`, `"C"`, `(c)::text`, `btrim(c)`."""
    node = _unparen(node)
    while True:
        is_string_cast = isinstance(node, exp.Cast) and node.to.this in _STRING_TYPES
        if not (is_string_cast or isinstance(node, exp.Trim)):
            break
        node = _unparen(node.this)
    if not isinstance(node, exp.Column) or node.table:
        return None
    ident = node.this
    if not isinstance(ident, exp.Identifier):
        return None
    return str(ident.this) if ident.quoted else str(ident.this).lower()


def _length_of(node: exp.Expr) -> tuple[str, bool] | None:
    """(column, counts bytes) of `length(s)`, `char_length(s)`, `octet_length(s)`."""
    node = _unparen(node)
    if isinstance(node, exp.Length) and not node.args.get("encoding"):
        name = _column(node.this)
        return None if name is None else (name, False)
    if (
        isinstance(node, exp.Anonymous)
        and str(node.this).lower() == "octet_length"
        and len(node.expressions) == 1
    ):
        name = _column(node.expressions[0])
        return None if name is None else (name, True)
    return None


def _string(node: exp.Expr | None) -> str | None:
    """The text of a string literal (`'x'`, `'x'::text`, `$$x$$`; `E''` only when empty:
    sqlglot keeps its escapes unread)."""
    node = _unparen(node) if node is not None else None
    while isinstance(node, exp.Cast) and node.to.this in _STRING_TYPES:
        node = _unparen(node.this)
    if (isinstance(node, exp.Literal) and node.is_string) or isinstance(node, exp.RawString):
        return str(node.this)
    if isinstance(node, exp.ByteString) and node.this == "":
        return ""
    return None


def _integer(node: exp.Expr | None) -> int | None:
    node = _unparen(node) if node is not None else None
    sign = 1
    if isinstance(node, exp.Neg):
        sign, node = -1, _unparen(node.this)
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return sign * int(str(node.this))
    return None


def _never_matches_empty(pattern: str) -> bool:
    """Whether `c ~ pattern` rules out c = '': a pattern in the syntax PostgreSQL and Python
    share, which Python's `re` does not match in the empty string."""
    if _PORTABLE_REGEX.fullmatch(pattern) is None or any(
        s in pattern for s in ("[:", "[.", "[=", "(?")
    ):
        return False
    try:
        return re.search(pattern, "") is None
    except (re.error, RecursionError, OverflowError):
        return False


def _chars(counts_bytes: bool, bound: int) -> int:
    """A bound on a length as a bound on characters: bytes prove only that it is non-empty."""
    return min(bound, 1) if counts_bytes else bound


def note_check(t: Table, expression: str, own: Column | None = None) -> None:
    """Record the string length bounds a CHECK constraint proves on `t`'s columns (a column
    constraint's, `own`, on its own column only)."""
    for name, n in min_lengths(expression).items():
        if n > ITEM_BYTES:
            # `length(c) > 10^26`: no such value fits a DynamoDB item (nor the sample rows);
            # the column can only be NULL, and the model says nothing it cannot hold
            continue
        col = own if own is not None else t.columns.get(name)
        if col is not None and col.name == name:
            col.min_length = max(col.min_length or 0, n)
