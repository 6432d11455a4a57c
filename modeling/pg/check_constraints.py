"""What a CHECK constraint proves about the length of string columns (`min_length`).

A model attribute with `min_length: 1` is a string that is never empty, which is what lets
`layout: {gsi_keys: attributes}` key a GSI on it (DynamoDB refuses an empty string as a key
attribute value). `model init` seeds it from the schema's CHECK constraints, as written in DDL
(`CHECK (length(name) > 0)`) or as `pg_get_constraintdef` prints them
(`CHECK ((length((name)::text) > 0))`, `CHECK ((name <> ''::text))`).

Only conjunctions of these shapes count (anything else proves nothing, so nothing is seeded):

    col <> ''   col != ''   col > ''   '' <> col   '' < col               -> 1
    f(col) > n   f(col) >= n   f(col) <> 0   n < f(col)   n <= f(col)    -> n + 1 / n / 1
    f(col) BETWEEN n AND m                                                -> n

where f is `length`, `char_length` or `character_length` (characters), `octet_length` (bytes:
proves only non-empty), any of them around `btrim`/`trim`/`ltrim`/`rtrim` of the column
(trimming only removes characters, so the column is at least as long). A CHECK is satisfied
by NULL, so the bound is on the non-NULL values, as `min_length` is.
"""

from __future__ import annotations

import re

from modeling.pg.catalog import Column, Table

_CAST = re.compile(
    r"::\s*(?:character\s+varying|bit\s+varying|double\s+precision|[a-z_][a-z0-9_]*)"
    r"(?:\s*\(\s*\d+\s*\))?(?:\[\])?",
    re.IGNORECASE,
)
_IDENT = r'(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)'
# `(name)` where it is not a function's argument list: pg_get_constraintdef writes `(name)::text`
_PAREN_IDENT = re.compile(rf"(?<![a-z0-9_$\"])\(\s*({_IDENT})\s*\)", re.IGNORECASE)
_LENGTH_FN = r"(length|char_length|character_length|octet_length)"
_TRIM = (
    rf"(?:(?:b|l|r)?trim\s*\(\s*(?:(?:both|leading|trailing)\s+from\s+)?({_IDENT})\s*\)|({_IDENT}))"
)
_EMPTY_CMP = [
    re.compile(rf"^({_IDENT})\s*(<>|!=|>)\s*''$", re.IGNORECASE),
    re.compile(rf"^''\s*(<>|!=|<)\s*({_IDENT})$", re.IGNORECASE),
]
_LEN_CMP = re.compile(rf"^{_LENGTH_FN}\s*\(\s*{_TRIM}\s*\)\s*(>=|>|<>|!=)\s*(\d+)$", re.IGNORECASE)
_LEN_CMP_REV = re.compile(rf"^(\d+)\s*(<=|<)\s*{_LENGTH_FN}\s*\(\s*{_TRIM}\s*\)$", re.IGNORECASE)
_LEN_BETWEEN = re.compile(
    rf"^{_LENGTH_FN}\s*\(\s*{_TRIM}\s*\)\s+between\s+(\d+)\s+and\s+\d+$", re.IGNORECASE
)
_KEYWORDS = {"and", "or", "not", "between", "is", "null", "true", "false", "in", "like"}


def _name(ident: str) -> str | None:
    """A column name as PostgreSQL stores it (unquoted names fold to lower case)."""
    if ident.startswith('"'):
        return ident[1:-1].replace('""', '"')
    low = ident.lower()
    return None if low in _KEYWORDS else low


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    quoted = False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quoted


def _conjuncts(text: str) -> list[str] | None:
    """The top-level AND parts of `text`; None when it has a top-level OR (proves nothing)."""
    parts: list[str] = []
    depth, quoted, start, i = 0, False, 0, 0
    between = False
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch.isalpha() and (i == 0 or not _word_char(text[i - 1])):
            word = re.match(r"[a-z_]+", text[i:], re.IGNORECASE)
            assert word is not None
            w = word.group(0).lower()
            if w == "or":
                return None
            if w == "between":
                between = True
            elif w == "and" and between:
                between = False
            elif w == "and":
                parts.append(text[start:i])
                start = i + 3
            i += len(w)
            continue
        i += 1
    parts.append(text[start:])
    return [_strip_parens(p) for p in parts]


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in '_$"'


def min_lengths(expression: str) -> dict[str, int]:
    """Column -> the fewest characters a CHECK expression proves its non-NULL values have.

    `expression` is the CHECK's condition, with or without the `CHECK` keyword and its
    parentheses (`length(name) > 0`, `CHECK ((name <> ''::text))`)."""
    text = _CAST.sub("", expression.strip())
    while (bare := _PAREN_IDENT.sub(r"\1", text)) != text:
        text = bare
    if text[:5].upper() == "CHECK":
        text = text[5:]
    text = re.sub(r"\s+NO\s+INHERIT\s*$|\s+NOT\s+VALID\s*$", "", text, flags=re.IGNORECASE)
    parts = _conjuncts(_strip_parens(text))
    out: dict[str, int] = {}
    for part in parts or ():
        found = _bound(part)
        if found is None:
            continue
        name, n = found
        if name is not None and n > 0:
            out[name] = max(out.get(name, 0), n)
    return out


def _bound(part: str) -> tuple[str | None, int] | None:
    for i, pattern in enumerate(_EMPTY_CMP):
        m = pattern.match(part)
        if m:
            return _name(m.group(1 if i == 0 else 2)), 1
    m = _LEN_CMP.match(part)
    if m:
        fn, trimmed, plain, op, n = m.groups()
        bound = {">=": int(n), ">": int(n) + 1}.get(op, 1 if int(n) == 0 else 0)
        return _name(trimmed or plain), _chars(fn, bound)
    m = _LEN_CMP_REV.match(part)
    if m:
        n, op, fn, trimmed, plain = m.groups()
        bound = int(n) if op == "<=" else int(n) + 1
        return _name(trimmed or plain), _chars(fn, bound)
    m = _LEN_BETWEEN.match(part)
    if m:
        fn, trimmed, plain, n = m.groups()
        return _name(trimmed or plain), _chars(fn, int(n))
    return None


def _chars(fn: str, bound: int) -> int:
    """A bound on `fn` as a bound on characters: bytes prove only that the value is non-empty."""
    return min(bound, 1) if fn.lower() == "octet_length" else bound


def note_check(t: Table, expression: str, own: Column | None = None) -> None:
    """Record the string length bounds a CHECK constraint proves on `t`'s columns (a column
    constraint's, `own`, on its own column only)."""
    for name, n in min_lengths(expression).items():
        col = own if own is not None else t.columns.get(name)
        if col is not None and col.name == name:
            col.min_length = max(col.min_length or 0, n)
