r"""Split a PostgreSQL script into statements, the way psql reads it.

sqlglot stops at the first statement it cannot parse, and real dumps hold many it cannot
(dollar-quoted function bodies, psql meta-commands, COPY data). So we split ourselves, with a
small lexer that knows exactly the token kinds that can hide a `;`: quoted strings (standard,
`E'..'` with backslash escapes), quoted identifiers, dollar quotes (`$$`, `$tag$`), `--` and
nested `/* */` comments. psql `\` meta-commands end at the end of their line and are reported,
never parsed; the data block that follows `COPY ... FROM stdin;` is skipped up to its `\.` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_PLAIN = re.compile(r"[^'\"$;/-]*")
_COPY_STDIN = re.compile(r"^\s*COPY\b.*\bFROM\s+STDIN\b", re.IGNORECASE | re.DOTALL)
# inside a statement, the only characters that can start a token hiding a `;` (or be one); the
# lexer jumps from one to the next instead of stepping character by character (issue 18)
_NEXT = re.compile(r"[-/'\"$;]")
_QUOTE_END = re.compile(r"'")
_QUOTE_END_ESCAPED = re.compile(r"[\\']")
_COMMENT_MARK = re.compile(r"/\*|\*/")


@dataclass(frozen=True)
class Statement:
    """One statement: its text without the final `;`, and where it starts (1-based)."""

    text: str
    line: int
    col: int
    kind: str = "sql"  # "sql" | "meta" (a psql backslash command) | "copy_data"
    # False for a last statement the file ends inside (no `;`, or an open quote or comment):
    # psql would not run it, and a file cut short ends this way
    terminated: bool = True


def _line_col(src: str, pos: int, line_starts: list[int]) -> tuple[int, int]:
    import bisect

    i = bisect.bisect_right(line_starts, pos) - 1
    return i + 1, pos - line_starts[i] + 1


def split_statements(src: str) -> list[Statement]:
    """Split `src` into statements; comments are kept inside statements but never split them.

    A statement that holds only comments is dropped. An unterminated string or dollar quote runs
    to the end of the file and is returned as one (unparseable) statement, so the caller can
    report it with its line number instead of losing the rest silently.
    """
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", src)]
    out: list[Statement] = []
    n = len(src)
    i = 0
    start = 0  # start of the current statement (may include leading whitespace/comments)
    has_code = False  # the current statement holds something other than whitespace/comments
    code_start = 0

    def emit(end: int, kind: str = "sql", terminated: bool = True) -> None:
        text = src[code_start:end].strip()
        if text:
            line, col = _line_col(src, code_start, line_starts)
            out.append(Statement(text, line, col, kind, terminated))

    while i < n:
        if has_code:
            m = _NEXT.search(src, i)
            if m is None:
                break
            i = m.start()
        c = src[i]
        if c in " \t\r\n\f":
            i += 1
            continue
        if c == "-" and src.startswith("--", i):
            j = src.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "/" and src.startswith("/*", i):
            depth, j = 1, i + 2
            while depth:
                mark = _COMMENT_MARK.search(src, j)
                if mark is None:
                    j = n
                    break
                depth += 1 if mark.group() == "/*" else -1
                j = mark.end()
            i = j
            continue
        if c == "\\" and not has_code:
            # psql meta-command: runs to the end of the line (`\\` also ends it, rarely used).
            j = src.find("\n", i)
            j = n if j < 0 else j
            code_start = i
            emit(j, "meta")
            i = start = j
            continue
        if not has_code:
            has_code, code_start = True, i
        if c == "'":
            escaped = i > 0 and src[i - 1] in "eE" and (i < 2 or not _is_ident_char(src[i - 2]))
            stop = _QUOTE_END_ESCAPED if escaped else _QUOTE_END
            j = i + 1
            while True:
                end = stop.search(src, j)
                if end is None:
                    j = n
                    break
                j = end.start()
                if src[j] == "\\":
                    j += 2
                    continue
                if j + 1 < n and src[j + 1] == "'":
                    j += 2
                    continue
                break
            i = j + 1
            continue
        if c == '"':
            j = src.find('"', i + 1)
            while j >= 0 and j + 1 < n and src[j + 1] == '"':
                j = src.find('"', j + 2)
            i = (n if j < 0 else j) + 1
            continue
        if c == "$" and (i == 0 or not _is_ident_char(src[i - 1])):
            m = _DOLLAR_TAG.match(src, i)
            if m:
                tag = m.group(0)
                j = src.find(tag, m.end())
                i = n if j < 0 else j + len(tag)
                continue
        if c == ";":
            emit(i)
            stmt_text = src[code_start:i]
            has_code = False
            i += 1
            start = i
            if _COPY_STDIN.match(stmt_text):
                i, start = _skip_copy_data(src, i, line_starts, out)
            continue
        # inside a statement: skip what can neither end it nor open a quote or a comment
        i = _PLAIN.match(src, i + 1).end()  # type: ignore[union-attr]  # `*` always matches
    if has_code:
        emit(n, terminated=False)
    del start
    return out


def _skip_copy_data(
    src: str, i: int, line_starts: list[int], out: list[Statement]
) -> tuple[int, int]:
    """Skip a COPY data block: from the next line up to and including a line `\\.`."""
    nl = src.find("\n", i)
    if nl < 0:
        return len(src), len(src)
    begin = nl + 1
    m = re.compile(r"^\\\.[ \t]*\r?$", re.MULTILINE).search(src, begin)
    end = len(src) if m is None else m.end()
    line, col = _line_col(src, begin, line_starts)
    out.append(Statement(src[begin:end], line, col, "copy_data"))
    return end, end


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"
