"""A cursor over sqlglot's PostgreSQL tokens, for the statements sqlglot's parser cannot read.

sqlglot's *tokenizer* is reliable on every statement of a real dump (strings, `$tag$` quotes,
quoted identifiers, `::` casts); its *parser* is not (see ../shared/ddl/SOURCES.md: `oid[]`,
`toc CUBE`, `ON ONLY`, `VIRTUAL`, pg_dump's identity syntax...). So DDL is read from tokens by a
small recursive-descent reader, and original text is always recovered by slicing the source
with token offsets (never by re-joining tokens).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot.dialects.postgres import Postgres
from sqlglot.tokens import Token, TokenType

from modeling.core.errors import InputError
from modeling.pg.catalog import identifier

_TOKENIZER = Postgres().tokenizer_class()

STRING_TYPES = {
    TokenType.STRING,
    TokenType.BIT_STRING,
    TokenType.HEX_STRING,
    TokenType.BYTE_STRING,
    TokenType.NATIONAL_STRING,
    TokenType.RAW_STRING,
    TokenType.HEREDOC_STRING,
    TokenType.UNICODE_STRING,
}
PUNCT = {
    TokenType.L_PAREN,
    TokenType.R_PAREN,
    TokenType.L_BRACKET,
    TokenType.R_BRACKET,
    TokenType.COMMA,
    TokenType.DOT,
    TokenType.SEMICOLON,
    TokenType.DCOLON,
    TokenType.EQ,
    TokenType.STAR,
}


# TokenType members as module constants, and the sets the hot loops test: an Enum member read
# through its class costs a lookup each time, and the reader tests millions of tokens on a
# 50,000-table dump (issue 18 item 5)
_IDENTIFIER = TokenType.IDENTIFIER
_NUMBER = TokenType.NUMBER
_DOT = TokenType.DOT
_COMMA = TokenType.COMMA
_L_PAREN = TokenType.L_PAREN
_OPENS = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET})
_CLOSES = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET})
_NOT_WORDS = frozenset(STRING_TYPES | PUNCT | {TokenType.NUMBER})  # never a word (`is_word`)
_NOT_KEYWORDS = frozenset(STRING_TYPES | {TokenType.IDENTIFIER})  # never a keyword (`_match`)


# a token's text as the upper-case words `Cursor._match` compares (keywords repeat: computed
# once per distinct text, at most _WORDS_MAX of them; the cache is cleared when full)
_WORDS: dict[str, tuple[str, ...]] = {}
_WORDS_MAX = 100_000


def _words(text: str) -> tuple[str, ...]:
    """`text` upper-cased and split on whitespace, remembered in `_WORDS`."""
    if len(_WORDS) >= _WORDS_MAX:
        _WORDS.clear()
    got = _WORDS[text] = tuple(text.upper().split())
    return got


def tokenize(text: str) -> list[Token]:
    """Tokenize one statement; raises sqlglot.errors.TokenError on unreadable input."""
    return list(_TOKENIZER.tokenize(text))


def is_word(tok: Token) -> bool:
    """An identifier or keyword (anything that can name a thing), quoted or not."""
    tt = tok.token_type
    if tt in _NOT_WORDS:
        return False
    if tt is _IDENTIFIER:
        return True
    first = tok.text[:1]
    return first.isalpha() or first == "_"


def name_of(tok: Token) -> str:
    """The folded name a word token denotes (quoted keeps case, unquoted lower-cases), cut to
    the 63 bytes PostgreSQL keeps."""
    if tok.token_type is _IDENTIFIER:
        return identifier(tok.text)
    return identifier(tok.text.lower())


@dataclass
class Cursor:
    """Tokens of one statement plus its source text and first line in the file."""

    toks: list[Token]
    text: str
    line0: int  # file line of the statement's first line
    i: int = 0

    # ------------------------------------------------------------------ looking
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        toks = self.toks
        return toks[j] if j < len(toks) else None

    def at_end(self) -> bool:
        return self.i >= len(self.toks)

    def _match(self, words: tuple[str, ...], k: int = 0) -> int:
        """Tokens consumed if the next tokens spell exactly `words`, else 0. sqlglot lexes
        some phrases as one token (`PRIMARY KEY`, `FOREIGN KEY`), so words are compared after
        splitting each token's text on whitespace, and a match must end on a token boundary."""
        toks = self.toks
        n = len(toks)
        start = j = self.i + k
        pos = 0
        want = len(words)
        while pos < want:
            if j >= n:
                return 0
            tok = toks[j]
            if tok.token_type in _NOT_KEYWORDS:
                return 0
            text = tok.text
            got = _WORDS.get(text)
            if got is None:
                got = _words(text)
            size = len(got)
            if words[pos : pos + size] != got:
                return 0
            pos += size
            j += 1
        return j - start

    def kw(self, *words: str, k: int = 0) -> bool:
        """True when the next tokens are exactly these keywords (case-insensitive, unquoted)."""
        return self._match(words, k) > 0

    def kw_any(self, words: Iterable[str]) -> bool:
        tok = self.peek()
        return (
            tok is not None
            and tok.token_type is not TokenType.IDENTIFIER
            and tok.token_type not in STRING_TYPES
            and (tok.text.upper().split() or [""])[0] in set(words)
        )

    def is_type(self, tt: TokenType, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok is not None and tok.token_type is tt

    def line(self, tok: Token | None = None) -> int:
        t = tok or self.peek() or (self.toks[-1] if self.toks else None)
        return self.line0 + (t.line - 1 if t else 0)

    # ------------------------------------------------------------------ consuming
    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise DDLSyntaxError("unexpected end of statement", self.line())
        self.i += 1
        return tok

    def accept(self, *words: str) -> bool:
        n = self._match(words)
        if n:
            self.i += n
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            got = self.peek()
            raise DDLSyntaxError(
                f"expected {' '.join(words)}, found {got.text if got else 'end of statement'!r}",
                self.line(),
            )

    def accept_type(self, tt: TokenType) -> Token | None:
        if self.is_type(tt):
            return self.next()
        return None

    def expect_type(self, tt: TokenType, what: str) -> Token:
        tok = self.accept_type(tt)
        if tok is None:
            got = self.peek()
            raise DDLSyntaxError(
                f"expected {what}, found {got.text if got else 'end of statement'!r}", self.line()
            )
        return tok

    def word(self, what: str = "a name") -> Token:
        tok = self.peek()
        if tok is None or not is_word(tok):
            raise DDLSyntaxError(
                f"expected {what}, found {tok.text if tok else 'end of statement'!r}", self.line()
            )
        if tok.token_type is TokenType.IDENTIFIER and not tok.text:
            raise DDLSyntaxError('zero-length quoted identifier ("")', self.line())
        self.i += 1
        return tok

    def qualified(self) -> list[Token]:
        """`a`, `a.b`, `a.b.c` → the word tokens."""
        parts = [self.word()]
        toks = self.toks
        while (
            self.i + 1 < len(toks) and toks[self.i].token_type is _DOT and is_word(toks[self.i + 1])
        ):
            self.i += 1
            parts.append(self.word())
        return parts

    def skip_group(self) -> tuple[int, int]:
        """Skip a balanced `( ... )`; returns the token index range inside the parentheses."""
        self.expect_type(_L_PAREN, "(")
        toks = self.toks
        n = len(toks)
        start = j = self.i
        depth = 1
        while depth:
            if j >= n:
                self.i = j
                raise DDLSyntaxError("unexpected end of statement", self.line())
            tt = toks[j].token_type
            j += 1
            if tt in _OPENS:
                depth += 1
            elif tt in _CLOSES:
                depth -= 1
        self.i = j
        return start, j - 1

    def slice_text(self, a: int, b: int) -> str:
        """Source text of tokens [a, b)."""
        if a >= b:
            return ""
        return self.text[self.toks[a].start : self.toks[b - 1].end + 1]

    def until(self, stop: Iterable[str], stop_types: Iterable[TokenType] = ()) -> tuple[int, int]:
        """Advance to the next top-level stop keyword / token type (or the end); returns range."""
        stops = set(stop)
        stypes = set(stop_types) | {TokenType.COMMA, TokenType.R_PAREN}
        toks = self.toks
        n = len(toks)
        start = j = self.i
        depth = 0
        while j < n:
            tok = toks[j]
            tt = tok.token_type
            if depth == 0:
                if tt in stypes:
                    break
                if tt not in _NOT_KEYWORDS:
                    text = tok.text
                    got = _WORDS.get(text)
                    if got is None:
                        got = _words(text)
                    if (got[0] if got else "") in stops:
                        break
            if tt in _OPENS:
                depth += 1
            elif tt in _CLOSES:
                depth -= 1
            j += 1
        self.i = j
        return start, j


def split_top(cur: Cursor, a: int, b: int) -> list[tuple[int, int]]:
    """Split tokens [a, b) at top-level commas."""
    out: list[tuple[int, int]] = []
    depth = 0
    start = a
    toks = cur.toks
    for j in range(a, b):
        tt = toks[j].token_type
        if tt in _OPENS:
            depth += 1
        elif tt in _CLOSES:
            depth -= 1
        elif tt is _COMMA and depth == 0:
            out.append((start, j))
            start = j + 1
    if start < b:
        out.append((start, b))
    return out


class DDLSyntaxError(InputError):
    """A statement we meant to read but could not; carries the file line."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def sub(cur: Cursor, a: int, b: int) -> Cursor:
    """A cursor over tokens [a, b) of `cur` (same source text and line origin)."""
    return Cursor(cur.toks[a:b], cur.text, cur.line0)
