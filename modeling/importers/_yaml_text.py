"""The text of a seeded model, written directly: the same bytes ruamel's round-trip dumper
writes for our settings (mapping indent 2, width 4096), in time linear in the document.

ruamel's dumper costs ~1 ms per table of a seeded model and grows with the document (a
representer, a serializer and an emitter per node, tag and resolver look-ups per scalar); a
50,000-table schema spent most of its seeding time there (issue 18). This writer handles the
shape the importers build — block mappings of scalars, flow mappings and flow sequences
(nested flow included), end-of-line comments, comments before a key, a start comment — and
returns None for anything else (block sequences, `None`, other scalar types, comments in other
slots, a line that could reach the width, a key too long or multiline for a simple key), so
`dump_yaml` then uses ruamel itself. Scalar styles are ruamel's choices: an identifier is plain;
other text that `_quote_unsafe` left plain goes through ruamel's own scalar analysis and
resolver (memoised), so a plain scalar that would read back as another type is single-quoted
exactly as ruamel does; double-quoted text is escaped character for character as ruamel's
`write_double_quoted` does. tests/importers/test_yaml_text.py compares both writers byte for
byte on hostile documents and the shared DDL corpus.
"""

from __future__ import annotations

import functools
import io
import re
from collections import OrderedDict
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from modeling.core.errors import ModelingError
from modeling.spec.loader import unusual_characters

WIDTH = 4096  # dump_yaml's `yaml.width`: a line that could reach it is left to ruamel
_SIMPLE_KEY = 128  # ruamel's MAX_SIMPLE_KEY_LENGTH: a longer key is written `? key`
_MARGIN = 64  # room kept below WIDTH for the indicators written around a scalar

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LINE_BREAK = re.compile("[\n\x85\u2028\u2029]")  # what ruamel's analysis calls a line break
# A scalar written plain must read back the same in every YAML 1.2 parser (ruamel's emitter
# writes `:arr->ow::cast` plain in a flow mapping, which PyYAML rejects): only these stay plain,
# every other string is double-quoted (the importers' rule; _spec._quote_unsafe applies it too).
PLAIN_SAFE = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./<>-]*$")
# YAML 1.1 readers turn these into booleans/None
YAML_WORDS = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"])
_STR_TAG = "tag:yaml.org,2002:str"

_ESCAPES = {
    "\0": "0", "\x07": "a", "\x08": "b", "\x09": "t", "\x0a": "n", "\x0b": "v", "\x0c": "f",
    "\x0d": "r", "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L",
    "\u2029": "P",
}  # fmt: skip
# the characters ruamel's write_double_quoted escapes (allow_unicode, as YAML(typ="rt") has)
_NEEDS_ESCAPE = re.compile(
    '["\\\\\x85\u2028\u2029\ufeff]|[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]'
)


class _Unsupported(ModelingError):
    """A shape this writer does not produce byte-identically; ruamel writes the document
    (caught in `dump_text`, never seen by a user)."""


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return "\\" + _ESCAPES[ch]
    if ch <= "\xff":
        return f"\\x{ord(ch):02X}"
    if ch <= "\uffff":
        return f"\\u{ord(ch):04X}"
    return f"\\U{ord(ch):08X}"


def double_quoted(text: str) -> str:
    """`"text"` escaped as ruamel's `write_double_quoted` escapes it (no line folding)."""
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


@functools.lru_cache(maxsize=1)
def _tools() -> tuple[Emitter, VersionedResolver]:
    return Emitter(io.StringIO(), allow_unicode=True), VersionedResolver()


@functools.lru_cache(maxsize=65536)
def _styled(text: str, flow: bool, key: bool) -> str:
    """A plain `str` as ruamel writes it: plain when its analysis allows it in this context and
    it reads back as a string; else single-quoted, or double-quoted (ruamel's choose_scalar_style
    for a scalar of no requested style)."""
    emitter, resolver = _tools()
    analysis = emitter.analyze_scalar(text)
    implicit = resolver.resolve(ScalarNode, text, (True, False)) == _STR_TAG
    plain = analysis.allow_flow_plain if flow else analysis.allow_block_plain
    if implicit and plain and not (key and (analysis.empty or analysis.multiline)):
        return text
    if analysis.allow_double_quoted and ("'" in text or "\n" in text):
        return double_quoted(text)
    if analysis.allow_single_quoted and not (key and analysis.multiline):
        return "'" + text.replace("'", "''") + "'"
    return double_quoted(text)


def _float(value: float) -> str:
    if value != value:
        text = ".nan"
    elif value in (float("inf"), float("-inf")):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value).lower()
    if _tools()[1].resolve(ScalarNode, text, (True, False)) != "tag:yaml.org,2002:float":
        raise _Unsupported(text)
    return text


_PLAIN_STR: dict[tuple[str, bool, bool], str] = {}  # (text, flow, key) → as written


def _str_scalar(value: str, flow: bool, key: bool) -> str:
    if isinstance(value, DoubleQuotedScalarString) or (
        type(value) is str and (not PLAIN_SAFE.match(value) or value.lower() in YAML_WORDS)
    ):
        text = double_quoted(value)  # what _quote_unsafe makes of it
    elif type(value) is not str:
        raise _Unsupported(type(value).__name__)  # other ruamel scalar strings: styles
    elif _IDENTIFIER.fullmatch(value):
        text = value  # plain in every context, reads back as a string
    else:
        text = _styled(value, flow, key)
    if key and (not value or len(value) >= _SIMPLE_KEY or _LINE_BREAK.search(value)):
        raise _Unsupported("not a simple key")  # ruamel writes `? key`
    if len(text) > WIDTH - 2 * _SIMPLE_KEY - _MARGIN:
        raise _Unsupported("a line that may fold")
    return text


def _scalar(value: Any, flow: bool, key: bool) -> str:
    if type(value) is str:  # names, types and operators repeat thousands of times
        cached = _PLAIN_STR.get((value, flow, key))
        if cached is not None:
            return cached
        text = _str_scalar(value, flow, key)
        if len(_PLAIN_STR) < 200_000:
            _PLAIN_STR[(value, flow, key)] = text
        return text
    if isinstance(value, str):
        return _str_scalar(value, flow, key)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and type(value) is int:
        return str(value)
    if isinstance(value, float) and type(value) is float:
        return _float(value)
    raise _Unsupported(type(value).__name__)


def _is_flow(node: Any) -> bool:
    return bool(node.fa.flow_style())


def _flow(node: Any) -> str:
    """A flow mapping or sequence of scalars and flow collections, on one line."""
    if isinstance(node, CommentedMap):
        if not _is_flow(node) and node:
            raise _Unsupported("block mapping inside a flow collection")
        _no_comments(node)
        return (
            "{"
            + ", ".join(f"{_flow_item(k, True)}: {_flow_item(v, False)}" for k, v in node.items())
            + "}"
        )
    if isinstance(node, CommentedSeq):
        if not _is_flow(node) and node:
            raise _Unsupported("block sequence inside a flow collection")
        _no_comments(node)
        if any(isinstance(v, CommentedMap) for v in node):
            raise _Unsupported("mapping in a flow sequence")  # ruamel writes `[a: b]` for one pair
        return "[" + ", ".join(_flow_item(v, False) for v in node) + "]"
    raise _Unsupported(type(node).__name__)


def _flow_item(value: Any, key: bool) -> str:
    if isinstance(value, (CommentedMap, CommentedSeq)):
        if key:
            raise _Unsupported("collection as a key")
        return _flow(value)
    return _scalar(value, True, key)


def _no_comments(node: CommentedMap | CommentedSeq) -> None:
    ca = node.ca
    if ca.comment is not None or ca.end or ca.items or getattr(node, "merge", None):
        raise _Unsupported("comments inside a flow collection")


def _comment_lines(tokens: Any) -> str:
    """Comment lines before a key (or the document), each at its mark's column."""
    out = []
    for t in tokens or ():
        value = t.value
        if not value.startswith("#") or not value.endswith("\n") or "\n" in value[:-1]:
            raise _Unsupported("a comment this writer does not place")
        out.append(" " * t.start_mark.column + value)
    return "".join(out)


def _block(node: CommentedMap, indent: int, out: list[str]) -> None:
    ca = node.ca
    if ca.end or getattr(node, "merge", None) or node.anchor.value is not None:
        raise _Unsupported("end comments, merges or anchors")
    items = ca.items
    pad = " " * indent
    for k, v in node.items():
        eol = None
        slots = items.get(k)
        if slots is not None:
            if slots[0] is not None or slots[3] is not None:
                raise _Unsupported("comment slots 0/3")
            if slots[1]:
                out.append(_comment_lines(slots[1]))
            eol = slots[2]
        line = pad + _scalar(k, False, True) + ":"
        nested = None
        if isinstance(v, CommentedMap) and v and not _is_flow(v):
            nested = v
        elif isinstance(v, (CommentedMap, CommentedSeq)):
            if isinstance(v, CommentedSeq) and v and not _is_flow(v):
                raise _Unsupported("block sequence")
            line += " " + _flow(v)
        elif isinstance(v, (dict, list, tuple, set)) or v is None:
            raise _Unsupported(type(v).__name__)
        else:
            line += " " + _scalar(v, False, False)
        if len(line) > WIDTH - _MARGIN:
            raise _Unsupported("a line that may fold")
        if eol is not None:
            line += _eol(eol, len(line))
        out.append(line + "\n")
        if nested is not None:
            _block(nested, indent + 2, out)


def _eol(token: Any, column: int) -> str:
    """An end-of-line comment as ruamel's write_comment places it: at its mark's column, at
    least one space after the value."""
    value = token.value
    if value.endswith("\n"):
        value = value[:-1]
    if not value.strip() or value.startswith("\n") or "\n" in value:
        raise _Unsupported("an end-of-line comment this writer does not place")
    return " " * max(token.start_mark.column - column, 1) + value


def dump_text(doc: CommentedMap) -> str | None:
    """The YAML text of `doc` (strings quoted by the rule `_quote_unsafe` applies), or None when its
    shape is one this writer leaves to ruamel."""
    try:
        if not isinstance(doc, CommentedMap) or not doc or _is_flow(doc):
            raise _Unsupported("root")
        out: list[str] = []
        start = doc.ca.comment
        if start is not None:
            if start[0] is not None:
                raise _Unsupported("start comment slot 0")
            out.append(_comment_lines(start[1]))
        _block(doc, 0, out)
    except _Unsupported:
        return None
    return "".join(out)


_LOADER_CHANGES = re.compile("[\a\ud800-\udfff]")  # BEL is dropped, a surrogate refused
_MAX_INT_TEXT = 40  # the loader refuses an integer written with more characters


def dump_with_data(doc: CommentedMap) -> tuple[str | None, dict[str, Any] | None]:
    """`dump_text(doc)` and the plain data the spec loader reads back from that text (None when
    not certain: see `plain_data`; also when the text holds characters the readers treat
    differently or refuse, which a comment may carry)."""
    text = dump_text(doc)
    if text is None or unusual_characters(text):
        return text, None
    return text, plain_data(doc)


def plain_data(doc: CommentedMap) -> dict[str, Any] | None:
    """The plain data (dict, list, str, int, float, bool) the spec loader reads back from
    `dump_text(doc)`'s text, built from the document without writing or parsing it; None when
    that is not certain (a value the loader changes or refuses: BEL, a lone surrogate, an
    integer of more than 40 characters; a non-string key; another type), so the caller reads
    the text instead. Only for a document `dump_text` wrote (not one left to ruamel), whose
    text has no unusual characters: `dump_with_data` checks both.
    tests/importers/test_self_check_fast.py proves it equal to the loader's reading."""
    try:
        data = _plain(doc)
    except _Unsupported:
        return None
    return data if isinstance(data, dict) else None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        # a CommentedMap's own items() and a CommentedSeq's iteration go through Python-level
        # views (a third of this walk at 50,000 tables); the underlying OrderedDict / list
        # hold the same entries in the same order (a merged `<<` map is never seeded)
        items = OrderedDict.items(value) if isinstance(value, OrderedDict) else value.items()
        for k, v in items:
            if not isinstance(k, str) or _LOADER_CHANGES.search(k):
                raise _Unsupported("key")
            out[str(k)] = _plain(v)
        return out
    if isinstance(value, list):
        return [_plain(v) for v in list.__iter__(value)]
    if isinstance(value, str):
        if _LOADER_CHANGES.search(value):
            raise _Unsupported("text the loader changes")
        return str(value)
    if isinstance(value, bool):
        return value
    if type(value) is int:
        if len(str(value)) > _MAX_INT_TEXT:
            raise _Unsupported("long integer")
        return value
    if type(value) is float:
        return value
    raise _Unsupported(type(value).__name__)
