"""Malformed Workbench files: a located diagnostic (file:line:col, message, hint), exit 2, never
a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modeling.api import check_text
from modeling.cli import app
from modeling.core.diagnostics import Diagnostic
from modeling.importers.workbench import import_text, import_workbench, render_yaml

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "workbench"

KEYS = '{"PartitionKey": {"AttributeName": "PK", "AttributeType": "S"}}'


def _table(extra: str = "", keys: str = KEYS) -> str:
    return (
        '{"ModelName": "m", "DataModel": [{"TableName": "t", "KeyAttributes": '
        + keys
        + extra
        + "}]}"
    )


def _only_error(text: str) -> Diagnostic:
    result = import_text(text, "in.json")
    assert not result.ok and result.plans == []
    errors = result.diagnostics.errors
    assert len(errors) == 1, [d.format() for d in errors]
    (err,) = errors
    assert err.span is not None and err.span.file == "in.json" and err.hint
    return err


def _at(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in `text`."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("", 1, 1),
        ('{\n  "ModelName": "x",\n}', 3, 1),
        ("[1, 2", 1, 6),
        ("{'single': 'quotes'}", 1, 2),
    ],
)
def test_not_json_points_at_the_parse_error(text: str, line: int, col: int) -> None:
    err = _only_error(text)
    assert err.code == "workbench-json"
    assert (err.span.line, err.span.col) == (line, col)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '"a string"',
        '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}',
        '{"TableName": "t", "KeySchema": []}',
    ],
)
def test_json_that_is_not_a_workbench_export(text: str) -> None:
    err = _only_error(text)
    assert err.code == "workbench-format"
    assert "not a NoSQL Workbench export" in err.message
    assert "DataModel" in err.message


def test_missing_fields_point_at_the_object_that_lacks_them() -> None:
    text = '{"ModelName": "m",\n "DataModel": [\n  {"KeyAttributes": ' + KEYS + "}]}"
    err = _only_error(text)
    assert err.code == "workbench-missing" and "'TableName'" in err.message
    assert (err.span.line, err.span.col) == _at(text, '{"KeyAttributes"')  # type: ignore[union-attr]

    no_pk = _only_error(_table(keys='{"SortKey": {"AttributeName": "SK", "AttributeType": "S"}}'))
    assert no_pk.code == "workbench-missing" and "PartitionKey" in no_pk.message


@pytest.mark.parametrize(
    ("extra", "needle", "code", "words"),
    [
        (', "NonKeyAttributes": {"a": 1}', '{"a": 1}', "workbench-type", "expected a list"),
        (
            ', "NonKeyAttributes": [{"AttributeName": "a", "AttributeType": "STR"}]',
            '"STR"',
            "workbench-type",
            "'STR'",
        ),
        (
            ', "TableData": [{"PK": "plain text"}]',
            '"plain text"',
            "workbench-type",
            "not a DynamoDB attribute value",
        ),
        (', "TableData": [{"PK": {"N": "ten"}}]', '"ten"', "workbench-type", "not a valid N value"),
        (', "TableData": [{"PK": {"B": "***"}}]', '"***"', "workbench-type", "not a valid B value"),
        (', "TableData": [7]', "7]", "workbench-type", "expected an item"),
        (
            ', "GlobalSecondaryIndexes": [{"IndexName": "g"}]',
            '{"IndexName"',
            "workbench-missing",
            "'KeyAttributes'",
        ),
        (
            ', "TableFacets": [{"KeyAttributeAlias": {}}]',
            '{"KeyAttributeAlias"',
            "workbench-missing",
            "'FacetName'",
        ),
        (', "BillingMode": "FREE"', '"FREE"', "workbench-type", "BillingMode"),
        (', "BillingMode": 5', "5", "workbench-type", "expected a string"),
    ],
)
def test_wrong_shapes_are_located(extra: str, needle: str, code: str, words: str) -> None:
    text = _table(extra)
    err = _only_error(text)
    assert err.code == code and words in err.message, err.format()
    assert (err.span.line, err.span.col) == _at(text, needle)  # type: ignore[union-attr]


def test_key_attribute_types_are_checked() -> None:
    text = (FIXTURES / "wrong_types.json").read_text()
    result = import_workbench(FIXTURES / "wrong_types.json")
    assert not result.ok
    found = {(d.span.line, d.span.col, d.code) for d in result.diagnostics.errors if d.span}
    # both problems are reported in one run, each where it is
    assert found == {
        (*_at(text, '"STRING"'), "workbench-type"),
        (*_at(text, '"twelve"'), "workbench-type"),
    }


def test_trailing_comma_fixture() -> None:
    result = import_workbench(FIXTURES / "trailing_comma.json")
    (err,) = result.diagnostics.errors
    assert err.code == "workbench-json" and (err.span.line, err.span.col) == (5, 6)  # type: ignore[union-attr]


def test_unreadable_files(tmp_path: Path) -> None:
    missing = import_workbench(tmp_path / "nope.json")
    assert [d.code for d in missing.diagnostics.errors] == ["workbench-read"]
    latin = tmp_path / "latin1.json"
    latin.write_bytes(b'{"ModelName": "caf\xe9"}')
    (err,) = import_workbench(latin).diagnostics.errors
    assert err.code == "workbench-json" and (err.span.line, err.span.col) == (1, 19)  # type: ignore[union-attr]


def test_empty_data_model_and_duplicate_tables() -> None:
    assert _only_error('{"DataModel": []}').code == "workbench-format"
    table = '{"TableName": "t", "KeyAttributes": ' + KEYS + "}"
    err = _only_error('{"DataModel": [' + table + ", " + table + "]}")
    assert "two tables are named 't'" in err.message


def test_duplicate_json_keys_warn_but_import() -> None:
    text = (
        '{"ModelName": "a", "ModelName": "b", "DataModel": [{"TableName": "tab", "KeyAttributes": '
        + KEYS
        + "}]}"
    )
    result = import_text(text, "in.json")
    assert result.ok
    (warn,) = [d for d in result.diagnostics if d.code == "workbench-duplicate-key"]
    assert (warn.span.line, warn.span.col) == (1, 20)  # type: ignore[union-attr]
    assert result.plans[0].model == "b"  # the last one, as JSON parsers do


def test_nested_sample_content_is_not_structure() -> None:
    # Workbench writes maps as {"M": {"M": {...plain...}}}; what is inside an M is not checked
    item = '{"PK": {"S": "a"}, "stats": {"M": {"M": {"HP": {"N": "1"}}}}}'
    result = import_text(_table(', "TableData": [' + item + "]"), "in.json")
    assert result.ok
    assert result.plans[0].entities[0].attributes["stats"].type == "map"


runner = CliRunner()


@pytest.mark.parametrize("name", ["trailing_comma.json", "wrong_types.json"])
def test_cli_exits_2_with_located_errors_and_a_report(name: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    res = runner.invoke(
        app,
        [
            "import",
            "--from-workbench",
            str(FIXTURES / name),
            "-o",
            str(tmp_path / "m.yaml"),
            "--report",
            str(report),
        ],
    )
    assert res.exit_code == 2
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert f"{name}:" in res.output and "error:" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m.yaml").exists()
    data = json.loads(report.read_text())
    assert data["ok"] is False and data["models"] == []
    assert all(d["severity"] == "error" for d in data["diagnostics"])


# --------------------------------------------------------------------------- robustness

SHARED = Path(__file__).resolve().parents[3] / "shared" / "workbench"
_DOCS = (
    [json.loads(p.read_text()) for p in sorted(SHARED.glob("*.json"))] if SHARED.is_dir() else []
)


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for n, v in enumerate(value):
            out += _paths(v, (*path, n))
    return out


def _mutate(doc: object, path: tuple[object, ...], replacement: object, delete: bool) -> object:
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        out = dict(doc)
        if not rest and delete:
            out.pop(head, None)  # type: ignore[call-overload]
        else:
            out[head] = _mutate(doc[head], rest, replacement, delete)  # type: ignore[index]
        return out
    assert isinstance(doc, list)
    out_list = list(doc)
    if not rest and delete:
        del out_list[head]  # type: ignore[call-overload]
    else:
        out_list[head] = _mutate(doc[head], rest, replacement, delete)  # type: ignore[call-overload]
    return out_list


@pytest.mark.skipif(not _DOCS, reason="../shared/workbench is not present")
def test_mutated_exports_never_raise() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=12),
        st.sampled_from(["S", "N", "PK", "A#1", "#", "{x}", "${y}", "ITEMS#ItemID", ""]),
        st.lists(st.text(max_size=4), max_size=3),
        st.dictionaries(
            st.sampled_from(["S", "N", "M", "L", "x"]), st.text(max_size=4), max_size=2
        ),
    )

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        doc = data.draw(st.sampled_from(_DOCS))
        for _ in range(data.draw(st.integers(1, 3))):
            path = data.draw(st.sampled_from(_paths(doc)))
            doc = _mutate(doc, path, data.draw(values), data.draw(st.booleans()) and bool(path))
        result = import_text(json.dumps(doc), "fuzz.json")
        for d in result.diagnostics:
            assert d.span is not None and d.message
        if result.ok:
            for plan in result.plans:
                text = render_yaml(plan)
                loaded = check_text(text, f"models/{plan.model}.yaml")
                assert loaded.ok, [d.format() for d in loaded.diagnostics.errors]

    run()


def test_found_by_fuzzing_control_characters_and_repeated_slots() -> None:
    doc = json.loads((SHARED / "CartModel.json").read_text())
    table = doc["DataModel"][0]
    table["TableName"] = "ca\x1brt"  # not a DynamoDB name, and not printable in YAML
    doc["ModelMetadata"]["Version"] = "\x1b"
    table["KeyAttributes"]["SortKey"]["AttributeName"] = "#"  # `#` names two empty parts
    for item in table["TableData"]:
        item["#"] = item.pop("Status#Date")
    table["GlobalSecondaryIndexes"] = []
    result = import_text(json.dumps(doc), "cart.json")
    assert result.ok
    (plan,) = result.plans
    assert plan.table == "ca-rt"
    assert "workbench-table-name" in [d.code for d in result.diagnostics]
    sk = plan.entities[0].keys[0].sk
    assert sk is not None and len(sk.slots) == len(set(sk.slots)) == 2
    loaded = check_text(render_yaml(plan), f"models/{plan.model}.yaml")
    assert loaded.ok, [d.format() for d in loaded.diagnostics.errors]
