"""The direct YAML writer (`_yaml_text`) writes exactly the bytes ruamel's round-trip dumper
writes for the importers' documents (issue 18 item 5: seeding spent most of its time in ruamel).

ruamel stays the reference: `dump_yaml_ruamel` is the old path. Hypothesis builds model-shaped
documents from hostile strings (those of test_yaml_portable.py), numbers, booleans, nested flow
collections and every kind of comment the importers write; both writers must agree byte for
byte, and the direct writer must take the document (not hand it to ruamel) whenever it is of the
importers' shape. The shared DDL corpus and the bench's generated dumps are compared too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from seed_corpus import PINNED, shared_ddl_dir
from test_yaml_portable import hostile

from modeling.importers import _yaml_text
from modeling.importers._spec import _eol_comment, catalog_to_spec, dump_yaml, dump_yaml_ruamel
from modeling.pg.ddl import read_ddl, read_ddl_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from seed import chain_ddl, synthetic_dump

# strings ruamel writes plain, single-quoted or double-quoted for different reasons
TRICKY = [
    ".5", "._", ".inf", ".Inf", ".NaN", "...", "...x", "---", "a.b", "/x", "list<string>",
    "a-b", "x\n", "_", "Yes", "NULL", "true", ".e5", "./", "a>b", "<<", "0", "-1", "1e3",
]  # fmt: skip
texts = st.one_of(hostile, st.sampled_from(TRICKY), st.from_regex(r"[A-Za-z_.][\w.<>/-]{0,8}"))
comments = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\n\r\x85\u2028\u2029"
    ),
    min_size=1,
    max_size=20,
)
scalars = st.one_of(
    texts,
    texts.map(DoubleQuotedScalarString),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


def _flow_seq(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _flow_map(pairs: list[tuple[str, Any]]) -> CommentedMap:
    m = CommentedMap(pairs)
    m.fa.set_flow_style()
    return m


@st.composite
def flow_values(draw: st.DrawFn, depth: int = 0) -> Any:
    kind = draw(st.integers(0, 2 if depth < 2 else 0))
    if kind == 0:
        return draw(scalars)
    if kind == 1:
        return _flow_seq(draw(st.lists(flow_values(depth + 1), max_size=3)))
    return _flow_map(
        draw(
            st.lists(st.tuples(texts, flow_values(depth + 1)), max_size=3, unique_by=lambda p: p[0])
        )
    )


@st.composite
def blocks(draw: st.DrawFn, indent: int = 0) -> CommentedMap:
    m = CommentedMap()
    for key in draw(st.lists(texts, min_size=1, max_size=4, unique=True)):
        kind = draw(st.integers(0, 3 if indent < 4 else 1))
        if kind == 0:
            m[key] = draw(scalars)
        elif kind == 1:
            m[key] = draw(flow_values())
        elif kind == 2:
            m[key] = draw(blocks(indent + 2))
        else:
            m[key] = CommentedMap()  # empty: ruamel writes `{}`
        how = draw(st.integers(0, 3))
        if how == 1:
            _eol_comment(m, key, draw(comments))  # what the importers use
        elif how == 2:
            m.yaml_add_eol_comment(draw(comments), key)  # ruamel's own, aligned to a column
        elif how == 3:
            m.yaml_set_comment_before_after_key(
                key,
                before="\n".join(draw(st.lists(comments, min_size=1, max_size=2))),
                indent=indent,
            )
    return m


@st.composite
def documents(draw: st.DrawFn) -> CommentedMap:
    doc = draw(blocks())
    if draw(st.booleans()):
        doc.yaml_set_start_comment(draw(comments))
    return doc


@settings(max_examples=150, deadline=None)
@given(documents())
def test_the_direct_writer_writes_what_ruamel_writes(doc: CommentedMap) -> None:
    reference = dump_yaml_ruamel(doc)
    direct = _yaml_text.dump_text(doc)
    if direct is not None:
        assert direct == reference
    assert dump_yaml(doc) == reference


def test_the_direct_writer_takes_the_importers_shapes() -> None:
    """Tricky strings, comments, nested flow and numbers do not send it back to ruamel."""
    doc = CommentedMap()
    doc["model"] = "shop"
    doc.yaml_set_start_comment("yaml-language-server: $schema=x")
    attrs = CommentedMap()
    for i, name in enumerate(TRICKY):
        attrs[f"a{i}"] = _flow_map([("type", name), ("n", i), ("r", 0.25), ("ok", True)])
        _eol_comment(attrs, f"a{i}", f"from {name}")
    attrs["s"] = _flow_map([("stats", _flow_map([("null_frac", 1e-7)])), ("e", _flow_seq(TRICKY))])
    attrs.yaml_set_comment_before_after_key("a0", before="not seeded: x", indent=2)
    doc["attributes"] = attrs
    doc["empty"] = CommentedMap()
    text = _yaml_text.dump_text(doc)
    assert text is not None
    assert text == dump_yaml_ruamel(doc)
    assert """  a1: {type: '._', "n": 1, r: 0.25, ok: true} # from ._\n""" in text
    assert "  # not seeded: x\n  a0:" in text


@pytest.mark.parametrize(
    "value",
    [
        None,  # ruamel writes an empty value
        SingleQuotedScalarString("x"),
        "k" * 200,  # a key too long to be simple becomes `? key`
        "x " * 2100,  # a line ruamel would fold
        CommentedSeq(["block", "sequence"]),
    ],
    ids=["none", "single-quoted", "long-key", "folding", "block-seq"],
)
def test_shapes_it_does_not_write_go_to_ruamel(value: Any) -> None:
    doc = CommentedMap()
    if isinstance(value, str) and value.startswith("k"):
        doc[value] = 1
    else:
        doc["v"] = value
    assert _yaml_text.dump_text(doc) is None
    assert dump_yaml(doc) == dump_yaml_ruamel(doc)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_shared_corpus_seeds_to_ruamel_s_bytes(name: str) -> None:
    seeded = catalog_to_spec(read_ddl_file(shared_ddl_dir() / name).catalog, model_name="corpus")
    direct = _yaml_text.dump_text(seeded.doc)
    assert direct is not None
    assert direct == dump_yaml_ruamel(seeded.doc)


@pytest.mark.parametrize("text", [chain_ddl(60), synthetic_dump(120)], ids=["chain", "dump"])
def test_generated_dumps_seed_to_ruamel_s_bytes(text: str) -> None:
    seeded = catalog_to_spec(read_ddl(text, "bench.sql").catalog, model_name="bench")
    seeded.add_write_rates({seeded.doc["entities"].keys().__iter__().__next__(): (1.5, "measured")})
    direct = _yaml_text.dump_text(seeded.doc)
    assert direct is not None
    assert direct == dump_yaml_ruamel(seeded.doc)
