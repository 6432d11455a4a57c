"""Models the importers write are YAML that every YAML 1.2 reader loads as the same data.

Property test (issue 14 item 2): strings built from what real identifiers and DDL hold, and
from what YAML gives meaning to (`: `, `#`, `{}`, `[]`, `&`, `*`, `!`, `|`, `>`, quotes, `%`,
`@`, a backtick, leading `-`/`?`, `yes`/`no`/`null`/`~`, numbers, `.inf`, unicode and control
characters), as keys and values of block and flow mappings and sequences shaped like a seeded
model. `dump_yaml`'s text must load with ruamel (what `model validate` uses) and with PyYAML
(a YAML 1.1 reader many tools use) to exactly the data that was dumped.
"""

from __future__ import annotations

import io
from typing import Any

import yaml as pyyaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from modeling.importers._spec import dump_yaml

MEANINGFUL = [
    ": ", ":", "#", " #", "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "'", '"', "%",
    "@", "`", "- ", "-", "?", "\\", "\t", "->", "::", "${", "}}",
]  # fmt: skip
WORDS = [
    "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "Null", "~", "", " ", "0",
    "012", "1e3", "0x1F", "0o17", ".inf", "-.inf", ".nan", "1_000", "12:30:45", "2024-01-01",
    "+1", "-0", "<<", "=", "arr->ow::cast", "id", "created_at", "PK",
]  # fmt: skip
pieces = st.one_of(
    st.sampled_from(MEANINGFUL),
    st.sampled_from(WORDS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
)
hostile = st.lists(pieces, min_size=1, max_size=4).map("".join)


def _flow(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


@st.composite
def documents(draw: st.DrawFn) -> tuple[CommentedMap, Any]:
    """A model-shaped document and the plain data it stands for."""
    doc = CommentedMap()
    plain: dict[str, Any] = {}
    doc["model"] = plain["model"] = draw(hostile)
    entities = CommentedMap()
    plain_entities: dict[str, Any] = {}
    for _ in range(draw(st.integers(1, 3))):
        name = draw(hostile)
        attrs = CommentedMap()
        plain_attrs: dict[str, Any] = {}
        for _ in range(draw(st.integers(1, 4))):
            attr = draw(hostile)
            spec = CommentedMap()
            spec["type"] = "string"
            spec["column"] = draw(hostile)
            spec.fa.set_flow_style()
            attrs[attr] = spec
            plain_attrs[attr] = {"type": "string", "column": spec["column"]}
        key = draw(st.lists(hostile, min_size=1, max_size=2))
        entities[name] = CommentedMap(key=_flow(list(key)), attributes=attrs)
        plain_entities[name] = {"key": list(key), "attributes": plain_attrs}
    doc["entities"] = entities
    plain["entities"] = plain_entities
    where = CommentedMap(
        (draw(hostile), draw(st.sampled_from(["=", "<", "between"]))) for _ in range(2)
    )
    where.fa.set_flow_style()
    doc["access_patterns"] = CommentedMap(p=CommentedMap(where=where))
    plain["access_patterns"] = {"p": {"where": dict(where)}}
    return doc, plain


def _ruamel(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


@settings(max_examples=300, deadline=None)
@given(documents())
def test_every_reader_loads_the_data_that_was_dumped(case: tuple[CommentedMap, Any]) -> None:
    doc, plain = case
    text = dump_yaml(doc)
    assert _ruamel(text) == plain, text
    assert pyyaml.safe_load(text) == plain, text
