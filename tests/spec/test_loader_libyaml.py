"""Models are composed by libyaml when it reads them exactly as ruamel does (issue 18 item 5:
ruamel's pure-Python scanner made loading a 5,000-entity model take ~37 s).

The reference is ruamel: for every text, `load_text` with the libyaml path must give the same
data (types included), the same diagnostics and the same positions (keys, values, offsets
inside scalars) as with ruamel alone. Hypothesis writes YAML-ish text from pieces YAML gives
meaning to (quotes, escapes, flow brackets, anchors, tags, directives, block scalars, tabs,
comments, duplicate keys) so both acceptance and values are compared; the repository's models
and test YAML are compared too, and a seeded model must actually take the fast path.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeling.spec import loader

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))


def _both(text: str) -> tuple[loader.Loaded, loader.Loaded]:
    fast = loader.load_text(text, "m.yaml")
    saved = loader._compose_libyaml
    try:
        loader._compose_libyaml = lambda _text: None  # type: ignore[assignment]
        slow = loader.load_text(text, "m.yaml")
    finally:
        loader._compose_libyaml = saved
    return fast, slow


def _same(text: str) -> None:
    fast, slow = _both(text)
    assert repr(fast.data) == repr(slow.data), text
    assert [d.format() for d in fast.diagnostics] == [d.format() for d in slow.diagnostics]
    assert fast.positions.keys == slow.positions.keys, text
    assert fast.positions.values == slow.positions.values, text
    for path in slow.positions.scalars:
        for offset in (0, 1, 3):
            assert fast.positions.offset(path, offset) == slow.positions.offset(path, offset)


KEYS = ["a", "b", "model", "'q k'", '"d\\tk"', "<<", "? x", "1", "yes", "~", "[a, b]", "&x k"]
VALUES = [
    "1", "0x1F", "0o17", "1_000", "1e3", ".inf", "-.nan", "yes", "No", "true", "null", "~", "",
    "'it''s'", '"\\u00e9\\x41\\/\\N\\_"', '"a\\\n  b"', "plain text # c", "a:b", "{x: 1, y: [2]}",
    "[1, 'two', \"3\"]", "&anc v", "*anc", "!!str 5", "!!int '7'", "!custom x", "|\n  block\n",
    ">-\n  folded\n  text\n", "2024-01-01", "12:30:45", "- item", "{a", "'open", '"\\q"', "\t1",
    "x\u2028y", "\ufeffz", "é", "multi\n  line", "=", "@at", "`tick", "%pct",
]  # fmt: skip
line = st.tuples(
    st.sampled_from(["", "  ", "    ", "\t"]), st.sampled_from(KEYS), st.sampled_from(VALUES)
).map(lambda t: f"{t[0]}{t[1]}: {t[2]}")
texts = st.one_of(
    st.lists(line, min_size=1, max_size=6).map("\n".join),
    st.tuples(
        st.sampled_from(["", "%YAML 1.2\n---\n", "%YAML 1.1\n---\n", "---\n", "# c\n"]),
        st.lists(line, min_size=1, max_size=6).map("\n".join),
    ).map("".join),
    st.lists(st.sampled_from([*VALUES, *KEYS, ": ", "\n", "  ", "- "]), max_size=8).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_libyaml_and_ruamel_read_every_text_alike(text: str) -> None:
    _same(text)


def _repository_yaml() -> list[str]:
    files = glob.glob(str(ROOT / "models" / "*.yaml"))
    files += glob.glob(str(ROOT / "tests" / "**" / "*.yaml"), recursive=True)
    return sorted(files)


@pytest.mark.parametrize("path", _repository_yaml(), ids=lambda p: Path(p).name)
def test_repository_yaml_reads_alike(path: str) -> None:
    _same(Path(path).read_text(encoding="utf-8", errors="replace"))


def test_a_seeded_model_takes_the_fast_path() -> None:
    from seed import chain_ddl

    from modeling.importers._spec import catalog_to_spec, dump_yaml
    from modeling.pg.ddl import read_ddl

    text = dump_yaml(
        catalog_to_spec(read_ddl(chain_ddl(40), "c.sql").catalog, model_name="bench").doc
    )
    node: Any = loader._compose_libyaml(text)
    assert node is not None
    _same(text)


@pytest.mark.parametrize(
    "text",
    ["a: |\n  x\n", "%YAML 1.1\n---\na: yes\n", "a: !custom x\n", "a:\n", "a: [1\n"],
    ids=["block-scalar", "directive", "tag", "empty", "bad"],
)
def test_what_libyaml_does_not_read_goes_to_ruamel(text: str) -> None:
    assert loader._compose_libyaml(text) is None
    _same(text)
