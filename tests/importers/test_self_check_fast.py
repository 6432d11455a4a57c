"""`model init`'s self-check without re-reading the text it wrote (issue 18 item 5).

The self-check validates and compiles `plain_data(doc)` instead of parsing the YAML text again.
That is only sound when the data is exactly what the loader reads back from the text: these
tests prove it on hypothesis documents of hostile strings, numbers and nested flow collections
(the documents test_yaml_text.py checks the writer with), on the shared DDL corpus and on the
bench's generated dumps; and they prove the fast self-check reports what the slow one reports,
located, when the seeded model has errors.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from ruamel.yaml.comments import CommentedMap
from seed_corpus import PINNED, shared_ddl_dir
from test_yaml_text import documents

from modeling.commands._self_check import self_check
from modeling.importers._seed import seed
from modeling.importers._spec import catalog_to_spec
from modeling.importers._yaml_text import dump_text, dump_with_data, plain_data
from modeling.pg.ddl import read_ddl
from modeling.spec.loader import load_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from seed import chain_ddl, synthetic_dump


def _same(a: Any, b: Any) -> bool:
    """Equal data, types included (1 is not True, 1.0 is not 1), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(documents())
def test_plain_data_is_what_the_loader_reads_back(doc: CommentedMap) -> None:
    text, data = dump_with_data(doc)
    if text is None:
        assert data is None
        return  # ruamel writes it; seed() then reads the text (no plain data)
    loaded = load_text(text, "m.yaml")
    if loaded.diagnostics.has_errors():
        assert data is None, [d.format() for d in loaded.diagnostics.errors]
    elif data is not None:
        assert _same(data, loaded.data)


@pytest.mark.parametrize(
    "value",
    ["bell\a", "lone \udc80", 10**45, -(10**40)],
    ids=["bel", "surrogate", "long-int", "long-negative-int"],
)
def test_values_the_loader_changes_or_refuses_have_no_plain_data(value: Any) -> None:
    doc = CommentedMap([("model", "m"), ("v", value)])
    assert plain_data(doc) is None
    text = dump_text(doc)
    if text is not None:  # the loader indeed reads something else, or refuses it
        loaded = load_text(text, "m.yaml")
        assert loaded.diagnostics.has_errors() or loaded.data["v"] != value


def _seeded_texts() -> list[tuple[str, str]]:
    corpus = [(name, (shared_ddl_dir() / name).read_text()) for name in sorted(PINNED)]
    return [*corpus, ("chain", chain_ddl(80)), ("dump", synthetic_dump(120))]


@pytest.mark.parametrize("name", [n for n, _ in _seeded_texts()])
def test_seeded_models_have_plain_data_equal_to_their_text(name: str) -> None:
    ddl = dict(_seeded_texts())[name]
    seeded = catalog_to_spec(read_ddl(ddl, name).catalog, model_name="corpus")
    text, data = dump_with_data(seeded.doc)
    assert text is not None
    assert data is not None  # the importers' shapes always take the fast path
    loaded = load_text(text, "m.yaml")
    assert not loaded.diagnostics.has_errors()
    assert _same(data, loaded.data)
    assert self_check(text, "m.yaml", data) == self_check(text, "m.yaml") == []


def test_seed_hands_the_self_check_its_plain_data(tmp_path: Path) -> None:
    ddl = tmp_path / "chain.sql"
    ddl.write_text(chain_ddl(5), encoding="utf-8")
    outcome = seed(ddl=ddl, output=tmp_path / "m.yaml")
    assert outcome.yaml is not None and outcome.data is not None
    assert _same(outcome.data, load_text(outcome.yaml, "m.yaml").data)


def test_errors_found_on_plain_data_are_reported_located_from_the_text() -> None:
    """A seeded model that fails (here: a key naming no attribute, a reference to no entity):
    the fast self-check reports the slow one's errors, with their file:line:col."""
    seeded = catalog_to_spec(read_ddl(chain_ddl(3), "c.sql").catalog, model_name="chain")
    entities = seeded.doc["entities"]
    first = next(iter(entities))
    entities[first]["key"][0] = "nope"
    text = dump_text(seeded.doc)
    assert text is not None
    data = plain_data(seeded.doc)
    assert data is not None
    slow = self_check(text, "m.yaml")
    fast = self_check(text, "m.yaml", data)
    assert slow and fast == slow
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "key: [nope]" in t)
    assert any(e.startswith(f"m.yaml:{line}:") for e in fast), fast
