"""The JSON Schema pass's fast yes/no (`structure._Memo`) agrees with jsonschema (issue 18 item 5).

`schema_problems` asks `_Memo` first and returns no problems when it says valid; only then is
the full jsonschema pass skipped. These tests prove the answer equal to jsonschema's on the
example models, a seeded model, and on hypothesis mutations of them (keys deleted, renamed or
inserted, values replaced by junk of every JSON type), where most answers are "invalid".
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mutations import DATA, JUNK, _mutate, _paths

from modeling.importers._spec import catalog_to_spec
from modeling.importers._yaml_text import dump_with_data
from modeling.pg.ddl import read_ddl
from modeling.spec.schema import model_schema
from modeling.spec.structure import _Memo, schema_problems

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from seed import chain_ddl, synthetic_dump


def _seeded(ddl: str) -> dict[str, Any]:
    _, data = dump_with_data(catalog_to_spec(read_ddl(ddl, "s.sql").catalog, model_name="s").doc)
    assert data is not None
    return data


SAMPLES = [*DATA, _seeded(chain_ddl(4)), _seeded(synthetic_dump(20))]


def _jsonschema_valid(data: Any) -> bool:
    return not any(jsonschema.Draft202012Validator(model_schema()).iter_errors(data))


def _fast_valid(data: Any) -> bool:
    return _Memo(model_schema()).valid(data, model_schema())


def test_the_samples_are_valid_both_ways() -> None:
    for data in SAMPLES:
        assert _jsonschema_valid(data)
        assert _fast_valid(data)
        assert schema_problems(data) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(SAMPLES) - 1),
    picks=st.lists(st.integers(0, 100_000), min_size=1, max_size=3),
    action=st.sampled_from(["delete", "replace", "rename", "insert"]),
    junk=JUNK,
    name=st.sampled_from(["atributes", "entity", "x", "Product", "where", "key", "1", "", "t0"]),
)
def test_the_fast_answer_is_jsonschema_s(
    which: int, picks: list[int], action: str, junk: Any, name: str
) -> None:
    data = copy.deepcopy(SAMPLES[which])
    for pick in picks:
        paths = _paths(data)
        # a fresh copy of the junk each time: the same object inserted into itself is a cycle
        data = _mutate(data, paths[pick % len(paths)], action, copy.deepcopy(junk), name)
    expected = _jsonschema_valid(data)
    assert _fast_valid(data) == expected
    assert (schema_problems(data) == []) == expected


def test_equal_values_of_different_types_are_not_confused() -> None:
    """The memo tells 1, 1.0 and True apart (JSON Schema types them differently)."""
    base = SAMPLES[-2]
    memo = _Memo(model_schema())
    entity = next(iter(base["entities"]))
    for value, ok in [(1, True), (True, False), (1.5, False), ("1", False)]:
        data = copy.deepcopy(base)
        data["entities"][entity]["row_count"] = value
        assert memo.valid(data, model_schema()) == ok == _jsonschema_valid(data), value


def test_string_and_any_of_schemas_answer_as_jsonschema() -> None:
    """The keyword-by-keyword string check and anyOf split (what made a seeded entity cost
    jsonschema calls: names, table names, references) agree with jsonschema on each keyword,
    for strings and for every other JSON type."""
    schemas: list[dict[str, Any]] = [
        {"pattern": "^[a-z]+$"},
        {"type": "string", "pattern": "^[A-Z][a-z]*$", "description": "x"},
        {"type": "string", "minLength": 2, "maxLength": 3},
        {"type": "string", "enum": ["a", "b"]},
        {"enum": ["a", 1]},
        {"const": "a"},
        {"type": "string", "const": "a"},
        {"anyOf": [{"type": "string", "enum": ["x"]}, {"type": "integer"}, {"pattern": "^y"}]},
        {"anyOf": [{"type": "string", "pattern": "^q"}, {"type": "null"}], "title": "t"},
    ]
    values: list[Any] = ["", "a", "ab", "abc", "abcd", "A", "Ab", "x", "y1", "q", "é", 1, 1.0]
    values += [True, None, [], {}, ["a"], {"a": 1}]
    for schema in schemas:
        for value in values:
            root = {"type": "object", "properties": {"v": schema}, "$defs": {}}
            expected = jsonschema.Draft202012Validator(root).is_valid({"v": value})
            assert _Memo(root).valid({"v": value}, root) == expected, (schema, value)
