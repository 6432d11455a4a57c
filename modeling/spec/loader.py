"""Read a model file as plain data while remembering where every key and value was written.

ruamel.yaml's round-trip composer gives a node tree with marks; we build plain Python values
(dict/list/str/int/float/bool/None) from it ourselves so that (1) duplicate keys are reported
— all of them, with both positions — instead of silently keeping one, and (2) every later stage
can map a data path such as ("entities", "Brand", "key", 0) back to `file:line:col`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from modeling.core.diagnostics import Diagnostics, Span

try:  # libyaml through PyYAML: a fast parser for the common case (`_compose_libyaml`)
    import yaml as _pyyaml

    if not _pyyaml.__with_libyaml__:
        raise ImportError("PyYAML without libyaml")
    from ruamel.yaml.resolver import VersionedResolver as _Resolver
    from yaml.cyaml import CParser as _LibyamlParser

    class _CParser(_LibyamlParser):
        """libyaml's parser and composer, tags resolved by ruamel's YAML 1.2 resolver."""

        _resolver = _Resolver()
        _kinds: ClassVar[dict[type, type]] = {
            _pyyaml.ScalarNode: ScalarNode,
            _pyyaml.SequenceNode: SequenceNode,
            _pyyaml.MappingNode: MappingNode,
        }

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return str(self._resolver.resolve(self._kinds[kind], value, implicit))

        def descend_resolver(self, parent: Any, index: Any) -> None:
            """No path-dependent resolution (ruamel's composer has none either)."""

        def ascend_resolver(self) -> None:
            """See descend_resolver."""

    # the node classes `_build` takes: ruamel's, and PyYAML's from `_compose_libyaml` (which
    # have the same attributes: tag, value, style, start_mark, end_mark)
    _SCALAR: tuple[type[ScalarNode], ...] = (ScalarNode, _pyyaml.ScalarNode)
    _SEQUENCE: tuple[type[SequenceNode], ...] = (SequenceNode, _pyyaml.SequenceNode)
    _MAPPING: tuple[type[MappingNode], ...] = (MappingNode, _pyyaml.MappingNode)
except ImportError:  # pragma: no cover - PyYAML is a dependency; without libyaml, ruamel reads
    _CParser = None  # type: ignore[assignment,misc]
    _SCALAR, _SEQUENCE, _MAPPING = (ScalarNode,), (SequenceNode,), (MappingNode,)

Path = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"


@dataclass
class Positions:
    """Where each data path was written: the key (for mapping entries) and the value."""

    file: str
    keys: dict[Path, Span] = field(default_factory=dict)
    values: dict[Path, Span] = field(default_factory=dict)
    scalars: dict[Path, ScalarNode] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def key(self, path: Path) -> Span:
        """The span of the key that introduces `path`, falling back to the nearest ancestor."""
        if not self.keys and not self.values:  # data checked without its text (`init`)
            return Span(self.file, 1, 1)
        for p in _prefixes(path):
            if p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
        return Span(self.file, 1, 1)

    def value(self, path: Path) -> Span:
        """The span of the value at `path`, falling back to the nearest ancestor."""
        if not self.keys and not self.values:
            return Span(self.file, 1, 1)
        for p in _prefixes(path):
            if p in self.values:
                return self.values[p]
            if p in self.keys:
                return self.keys[p]
        return Span(self.file, 1, 1)

    def offset(self, path: Path, offset: int) -> Span:
        """The span of character `offset` inside the string scalar at `path`.

        Plain, quoted and block (`|`, `>`) scalars are handled: block and multi-line scalars
        keep one source line per value line (folding turns the newline into a space of the
        same width), so walking the source lines with their indentation removed finds the line.
        """
        node = self.scalars.get(path)
        if node is None:
            return self.value(path)
        start = node.start_mark
        style = node.style
        if style in ("|", ">"):
            first = start.line + 1
            last = max(first, node.end_mark.line)
            content = self.lines[first : last + 1]
            # the block's indentation is the first non-empty line's; it ends at a shallower one
            indents = [len(s) - len(s.lstrip(" ")) for s in content if s.strip()]
            indent = indents[0] if indents else 0
            for i, text in enumerate(content):
                if text.strip() and len(text) - len(text.lstrip(" ")) < indent:
                    content = content[:i]
                    break
            remaining = offset
            for i, text in enumerate(content):
                body = text[indent:] if text.strip() else ""
                if remaining <= len(body) or i == len(content) - 1:
                    return Span(self.file, first + i + 1, indent + min(remaining, len(body)) + 1)
                remaining -= len(body) + 1
            return self.value(path)
        quote = 1 if style in ("'", '"') else 0
        if start.line == node.end_mark.line:
            return Span(self.file, start.line + 1, start.column + quote + offset + 1)
        # a multi-line plain or quoted scalar: the first line starts at the mark's column
        remaining = offset
        for i in range(start.line, node.end_mark.line + 1):
            text = self.lines[i] if i < len(self.lines) else ""
            col0 = start.column + quote if i == start.line else len(text) - len(text.lstrip(" "))
            body = text[col0:].rstrip()
            if remaining <= len(body):
                return Span(self.file, i + 1, col0 + remaining + 1)
            remaining -= len(body) + 1
        return self.value(path)


def _prefixes(path: Path) -> Iterator[Path]:
    for n in range(len(path), -1, -1):
        yield path[:n]


@dataclass
class Loaded:
    """The result of reading one file: data (None when unreadable), positions, diagnostics."""

    data: Any
    positions: Positions
    diagnostics: Diagnostics


def _span(positions: Positions, node: Node) -> Span:
    return Span(positions.file, node.start_mark.line + 1, node.start_mark.column + 1)


_MAX_INT_DIGITS = 40
_SURROGATE = re.compile("[\ud800-\udfff]")


def _scalar(node: ScalarNode, path: Path, positions: Positions, diags: Diagnostics) -> Any:
    """Construct a YAML 1.2 core-schema scalar from its resolved tag."""
    tag = node.tag or ""
    text = node.value.replace("\a", "")  # ruamel marks folds of `>` scalars with BEL
    if (bad := _SURROGATE.search(text)) is not None:
        # only a `"\udc80"` escape makes one: no file can hold it, so every output would fail
        diags.error(
            "yaml-syntax",
            f"the text holds a lone surrogate (U+{ord(bad.group()):04X}), which is not a "
            "character and cannot be written as UTF-8",
            _span(positions, node),
            hint="write the character itself, or a `\\U0001F600`-style escape of a whole "
            "code point",
        )
        return text
    if tag == _TAG + "str":
        return text
    if tag == _TAG + "null":
        return None
    if tag == _TAG + "bool":
        return text.lower() == "true"
    if tag == _TAG + "int":
        if len(text) > _MAX_INT_DIGITS:  # int() refuses thousands of digits; no value needs 40
            diags.error(
                "invalid-value",
                f"a number of {len(text)} digits; no value of a model is that large",
                _span(positions, node),
                hint="write the number you mean (limits and capacities fit in 19 digits)",
            )
            return None
        try:
            clean = text.replace("_", "")
            if clean.lower().startswith(("0o", "-0o", "+0o")):
                return int(clean.replace("0o", "").replace("0O", ""), 8)
            return int(clean, 0) if clean.lower().lstrip("+-").startswith("0x") else int(clean)
        except ValueError:
            return text
    if tag == _TAG + "float":
        low = text.lower().replace("_", "")
        if low in (".inf", "+.inf"):
            return math.inf
        if low == "-.inf":
            return -math.inf
        if low == ".nan":
            return math.nan
        try:
            return float(low)
        except ValueError:
            return text
    diags.error(
        "yaml-tag",
        f"unsupported YAML tag {tag!r}",
        _span(positions, node),
        hint="write a plain string, number, boolean, list or mapping",
    )
    return text


MAX_NODES = 500_000  # values aliases may add beyond those written out


class _Budget:
    """How many nodes `_build` may still produce: the nodes written out in the file plus
    MAX_NODES.

    ruamel composes an alias as a shared node, so a file of a few lines with nested aliases
    ("billion laughs") is small, but expanding it into plain data is exponential in time and
    memory. Counting the nodes built bounds both; the first node past the budget is reported.
    The nodes written out are not capped here (the file's size cap bounds them, and a seeded
    50,000-table model has ~4 million): only what aliases add beyond them.
    """

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.reported = False


def _build(
    node: Node,
    path: Path,
    positions: Positions,
    diags: Diagnostics,
    depth: int = 0,
    budget: _Budget | None = None,
) -> Any:
    budget = budget if budget is not None else _Budget(MAX_NODES + _count_nodes(node))
    budget.left -= 1
    if budget.left < 0:
        if not budget.reported:
            budget.reported = True
            diags.error(
                "yaml-syntax",
                f"the YAML expands to more than {MAX_NODES:,} values beyond those written out "
                "(aliases of aliases?)",
                _span(positions, node),
                hint="write the values out, or use fewer nested `*alias` references",
            )
        return None
    positions.values.setdefault(path, _span(positions, node))
    if depth > 100:
        diags.error("yaml-syntax", "nesting too deep", _span(positions, node))
        return None
    if isinstance(node, _SCALAR):
        positions.scalars[path] = node
        return _scalar(node, path, positions, diags)
    if isinstance(node, _SEQUENCE):
        if node.tag not in (_TAG + "seq", None):
            _scalar_tag_error(node, positions, diags)
        return [
            _build(item, (*path, i), positions, diags, depth + 1, budget)
            for i, item in enumerate(node.value)
        ]
    if isinstance(node, _MAPPING):
        out: dict[str, Any] = {}
        first_seen: dict[str, Span] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged = _build(value_node, path, positions, diags, depth + 1, budget)
                for part in merged if isinstance(merged, list) else [merged]:
                    if isinstance(part, dict):
                        for k, v in part.items():
                            out.setdefault(k, v)
                continue
            if not isinstance(key_node, _SCALAR):
                diags.error(
                    "wrong-type",
                    "a mapping key must be a plain string, not a list or mapping",
                    _span(positions, key_node),
                    hint="remove the `?` complex key or the brackets around the key",
                )
                continue
            raw = _scalar(key_node, path, positions, diags)
            key = raw if isinstance(raw, str) else key_node.value
            key_span = _span(positions, key_node)
            if key in first_seen:
                diags.error(
                    "duplicate-key",
                    f"duplicate key {key!r} (first defined at line {first_seen[key].line})",
                    key_span,
                    hint="YAML keeps only one of them; rename or merge the two definitions",
                    subject=".".join(str(p) for p in (*path, key)),
                )
                continue
            first_seen[key] = key_span
            positions.keys[(*path, key)] = key_span
            out[key] = _build(value_node, (*path, key), positions, diags, depth + 1, budget)
        return out
    return None  # pragma: no cover - ruamel has no other node kinds


def _scalar_tag_error(node: Node, positions: Positions, diags: Diagnostics) -> None:
    diags.error("yaml-tag", f"unsupported YAML tag {node.tag!r}", _span(positions, node))


def load_text(text: str, file: str) -> Loaded:
    """Parse `text` (the content of `file`); never raises for bad input."""
    lines = text.splitlines()
    positions = Positions(file=file, lines=lines)
    diags = Diagnostics()
    yaml = YAML(typ="rt")
    try:
        node = _compose_libyaml(text)
        if node is None:
            node = yaml.compose(
                text
            )  # a str, not a stream: ruamel re-slices a stream per chunk (quadratic)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        hint = None
        if exc.context and exc.context_mark and exc.problem:
            hint = f"{exc.context.strip()} (line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        if "\t" in problem or "\\t" in problem or " tab" in problem:
            hint = "YAML indentation must use spaces, not tabs"
        diags.error("yaml-syntax", problem, span, hint=hint or _syntax_hint(lines, span.line))
        return Loaded(None, positions, diags)
    except YAMLError as exc:
        diags.error("yaml-syntax", str(exc).strip() or "invalid YAML", Span(file, 1, 1))
        return Loaded(None, positions, diags)
    except RecursionError:
        line, col = _deepest_bracket(lines)
        diags.error(
            "yaml-syntax",
            "the YAML is nested too deeply to read",
            Span(file, line, col),
            hint="a model needs a handful of levels; look for runaway `[` or `{`",
        )
        return Loaded(None, positions, diags)
    except ValueError as exc:  # e.g. invalid characters
        diags.error("yaml-syntax", f"cannot read YAML: {exc}", Span(file, 1, 1))
        return Loaded(None, positions, diags)
    except AssertionError as exc:  # ruamel asserts on a `%YAML 1.3` directive: a traceback
        line = next((i + 1 for i, t in enumerate(lines) if t.startswith("%YAML")), 1)
        diags.error(
            "yaml-syntax",
            f"cannot read YAML: {exc}",
            Span(file, line, 1),
            hint="remove the `%YAML` directive (models are YAML 1.2)",
        )
        return Loaded(None, positions, diags)
    if node is None:
        return Loaded({}, positions, diags)
    data = _build(node, (), positions, diags, budget=_Budget(MAX_NODES + _count_nodes(node)))
    return Loaded(data, positions, diags)


def _count_nodes(root: Node) -> int:
    """The distinct nodes of a composed tree (an alias's node counted once)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, _MAPPING):
            for k, v in n.value:
                todo.append(k)
                todo.append(v)
        elif isinstance(n, _SEQUENCE):
            todo.extend(n.value)
    return len(seen)


_CORE_TAGS = frozenset(
    _TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "merge")
)
_DIRECTIVE = re.compile(r"^%", re.MULTILINE)
# where the two readers differ: tabs (ruamel is stricter), YAML 1.1 line breaks (libyaml breaks
# lines at U+0085/U+2028/U+2029), carriage returns, a BOM, control characters, surrogates
_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")


def unusual_characters(text: str) -> bool:
    """Whether `text` holds characters where YAML readers differ or that ruamel refuses
    (control characters, tabs, a BOM, YAML 1.1 line breaks, surrogates)."""
    return _UNUSUAL.search(text) is not None


def _compose_libyaml(text: str) -> Any:
    """The node tree of `text` composed by libyaml (PyYAML's C parser) with ruamel's YAML 1.2
    resolver, or None to let ruamel compose it.

    ruamel's pure-Python scanner spends ~5 ms per entity of a seeded model (a 5,000-entity
    model took ~37 s to load; issue 18); libyaml is ~10x faster. Only the plain, single- and
    double-quoted scalars and the core tags are taken from it, and only without `%` directives,
    tabs or unusual characters: a block scalar, another tag, a directive or any error (bad input: ruamel's message is
    the one users see) goes to ruamel. The nodes have the attributes `_build` and `Positions`
    read (tag, value, style, start and end marks, 0-based)."""
    if _CParser is None or _DIRECTIVE.search(text) or _UNUSUAL.search(text):
        return None
    try:
        node = _CParser(text).get_single_node()
    except Exception:  # any complaint: ruamel reads it and reports in its words
        return None
    if node is None:
        return None
    seen: set[int] = set()
    todo = [node]
    while todo:  # every node once (aliases share nodes)
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n.tag not in _CORE_TAGS:
            return None
        if isinstance(n, _MAPPING):
            for k, v in n.value:
                todo.append(k)
                todo.append(v)
        elif isinstance(n, _SEQUENCE):
            todo.extend(n.value)
        elif n.style not in (None, "", "'", '"') or (not n.style and not n.value):
            return None  # block scalars, empty values: ruamel's folding and positions
    return node


def _deepest_bracket(lines: list[str], limit: int = 100) -> tuple[int, int]:
    """Where flow brackets first nest deeper than `limit` (1:1 when they never do).

    Only a position hint for the nesting error: quotes and comments are not parsed, which at
    worst moves the caret, never hides the error.
    """
    depth = 0
    for i, text in enumerate(lines):
        for j, ch in enumerate(text):
            if ch in "[{":
                depth += 1
                if depth > limit:
                    return i + 1, j + 1
            elif ch in "]}":
                depth = max(0, depth - 1)
    return 1, 1


def _syntax_hint(lines: list[str], line: int) -> str:
    if 1 <= line <= len(lines):
        return f"check the indentation and quoting around: {lines[line - 1].strip()!r}"
    return "check the indentation and quoting near the end of the file"
