"""Hypothesis: mutating valid models (delete keys, change types, rename, insert junk, truncate
text) never raises — the loader always answers with a model or with located diagnostics."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from spec_helpers import FIXTURES, MODELS

from modeling.api import check_text
from modeling.spec.loader import load_text

SOURCES = [FIXTURES / "dsl_example.yaml", *sorted(MODELS.glob("*.yaml"))]
TEXTS = [p.read_text() for p in SOURCES]
DATA = [load_text(t, "m.yaml").data for t in TEXTS]

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["=", "between", "strin", "list<map>", "Product", "SELECT", "{x}", "set<float>"]
    ),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _mutate(data: Any, path: tuple[Any, ...], action: str, junk: Any, name: str) -> Any:
    if not path:
        return junk if action == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = junk
    elif action == "rename" and isinstance(parent, dict):
        parent[name] = parent.pop(last)
    elif action == "insert" and isinstance(parent[last], dict):
        parent[last][name] = junk
    elif action == "insert" and isinstance(parent[last], list):
        parent[last].append(junk)
    return data


def _dump(data: Any) -> str:
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    return buf.getvalue()


def _assert_answers(text: str) -> None:
    result = check_text(text, "mutant.yaml")
    if result.model is None:
        assert result.diagnostics.has_errors()
    for d in result.diagnostics:
        assert d.span is not None and d.span.file == "mutant.yaml"
        assert d.message and d.code


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(DATA) - 1),
    pick=st.integers(0, 10_000),
    action=st.sampled_from(["delete", "replace", "rename", "insert"]),
    junk=JUNK,
    name=st.sampled_from(["atributes", "entity", "x", "Product", "where", "key", "1", ""]),
)
def test_structural_mutations_never_raise(
    which: int, pick: int, action: str, junk: Any, name: str
) -> None:
    data = load_text(TEXTS[which], "m.yaml").data  # a fresh copy
    paths = _paths(data)
    path = paths[pick % len(paths)]
    _assert_answers(_dump(_mutate(data, path, action, junk, name)))


@settings(max_examples=100, deadline=None)
@given(
    which=st.integers(0, len(TEXTS) - 1),
    cut=st.integers(0, 100_000),
    insert=st.text(alphabet=st.sampled_from(list(" \t\n:-{}[]'\"#&*!|>%@`,?")), max_size=6),
)
def test_text_mutations_never_raise(which: int, cut: int, insert: str) -> None:
    text = TEXTS[which]
    at = cut % (len(text) + 1)
    _assert_answers(text[:at])  # truncated
    _assert_answers(text[:at] + insert + text[at:])  # junk inserted
