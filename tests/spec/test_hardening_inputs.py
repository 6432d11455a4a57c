"""Inputs that are not ours: each must load cleanly or fail with located errors, never crash."""

from __future__ import annotations

from modeling.api import check_text


def _errors(text: str) -> list[tuple[int, int, str, str]]:
    result = check_text(text, "m.yaml")
    return [
        (d.span.line if d.span else 0, d.span.col if d.span else 0, d.code, d.message)
        for d in result.diagnostics.sorted()
        if d.severity == "error"
    ]


MINIMAL_BODY = (
    "entities:\n  Thing:\n    key: [thing_id]\n    attributes: {thing_id: string}\n"
    "access_patterns:\n  get_thing: {entity: Thing, where: {thing_id: '='}}\n"
)


def test_short_model_name_without_table_name_is_a_located_error() -> None:
    # `hr` is a valid model name but "Hr" is not a DynamoDB table name (3–255 characters);
    # before, the CloudFormation emitter raised a traceback from `model compile`.
    errors = _errors("model: hr\n" + MINIMAL_BODY)
    assert [(line, col, code) for line, col, code, _ in errors] == [(1, 8, "invalid-name")]
    assert "'Hr'" in errors[0][3] and "3 characters" in errors[0][3]


def test_short_model_name_with_an_explicit_table_name_is_fine() -> None:
    assert _errors("model: hr\ntable: {name: HumanResources}\n" + MINIMAL_BODY) == []


# --------------------------------------------------------------------------- garbage via the CLI

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from modeling.cli import app  # noqa: E402

BODY_WITH_TYPO = (
    "model: {name}\n"
    "entities:\n"
    "  Thing:\n"
    "    key: [thing_id]\n"
    "    attributes: {{thing_id: string, x: strin}}\n"
    "access_patterns:\n"
    "  get_thing: {{entity: Thing, where: {{thing_id: '='}}}}\n"
)


def _bomb(levels: int = 12) -> str:
    lines = ["model: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append(f"entities: *a{levels - 1}")
    return "\n".join(lines) + "\n"


# name → (file content as bytes, expected first "line:col" of an error, a word of the message)
GARBAGE: dict[str, tuple[bytes, str, str]] = {
    "empty": (b"", "1:1", "missing the required key"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "1:1", "not UTF-8"),
    "list_at_top": (b"- a\n- b\n", "1:1", "not a list"),
    "json": (b'{"model": "jsonmodel", "entities": {}}', "1:36", "empty mapping"),
    "huge_number": (
        b"model: big\ntable: {billing: {provisioned: {read: 5, write: 1e400}}}\n"
        + BODY_WITH_TYPO.format(name="big").split("\n", 1)[1].encode(),
        "2:49",
        "must be an integer",
    ),
    "deep_nesting": (
        b"model: deep\nx: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "2:104",
        "nested too deeply",
    ),
    "alias_bomb": (_bomb().encode(), "", "expands to more than"),
    "tabs": (b"model: tabs\nentities:\n\tThing: {}\n", "3:1", "'\\t'"),
    "bom": (b"\xef\xbb\xbf" + BODY_WITH_TYPO.format(name="bom").encode(), "5:39", "strin"),
    "crlf": (BODY_WITH_TYPO.format(name="crlf").replace("\n", "\r\n").encode(), "5:39", "strin"),
    "latin1": (b"model: latin\ndescription: caf\xe9\nentities: {}\n", "2:17", "byte 0xe9"),
}


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"traceback from {args}: {result.exception!r}"
    )
    return result.exit_code, result.stdout + result.stderr


COMMANDS = {
    "validate": lambda p: ("validate", p),
    "compile": lambda p: ("compile", p, "-o", str(Path(p).parent / "out")),
    "explain": lambda p: ("explain", p, "get_thing"),
    "verify": lambda p: ("verify", p, "--endpoint", "http://127.0.0.1:9"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_garbage_model_file_is_a_located_error_with_exit_2(
    case: str, command: str, tmp_path: Path
) -> None:
    content, position, word = GARBAGE[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(content)
    code, out = _cli(*COMMANDS[command](str(path)))
    assert code == 2, out
    assert word in out, out
    located = re.findall(rf"{re.escape(path.name)}:(\d+):(\d+): error:", out)
    assert located, f"no located error in {out!r}"
    if position:
        assert f"{located[0][0]}:{located[0][1]}" == position, out


def test_alias_bomb_is_bounded_by_a_node_budget() -> None:
    from modeling.spec import loader

    loaded = loader.load_text(_bomb(), "bomb.yaml")
    errors = [d for d in loaded.diagnostics if d.severity == "error"]
    assert len(errors) == 1 and "500,000" in errors[0].message
    assert errors[0].span is not None and errors[0].span.line >= 2


@pytest.mark.parametrize("flow", [True, False])
def test_the_node_budget_counts_only_what_aliases_add(
    monkeypatch: pytest.MonkeyPatch, flow: bool
) -> None:
    """Values written out are bounded by the file's size cap, not by the alias budget: a
    seeded 50,000-table model (~4 million values) loads, while aliases may add at most
    MAX_NODES values. Before, every value counted and a large seeded model failed to load."""
    from modeling.spec import loader

    monkeypatch.setattr(loader, "MAX_NODES", 100)
    items = [f"v{i}" for i in range(300)]
    body = "[" + ", ".join(items) + "]" if flow else "".join(f"\n  - {i}" for i in items)
    plain = loader.load_text(f"model: big\nx: {body}\n", "big.yaml")
    assert not plain.diagnostics.has_errors()
    assert plain.data["x"] == items
    # 11 values written, 10 aliases of a 11-value list add 110 > 100
    aliased = (
        "model: a\nbase: &b [" + ", ".join("x" * 10) + "]\nx: [" + ", ".join(["*b"] * 10) + "]\n"
    )
    errors = [d for d in loader.load_text(aliased, "a.yaml").diagnostics if d.severity == "error"]
    assert len(errors) == 1 and "more than 100 values beyond those written out" in errors[0].message
    # 9 aliases add 99 ≤ 100: fine
    fewer = aliased.replace(", *b]", "]")
    assert not loader.load_text(fewer, "a.yaml").diagnostics.has_errors()


def test_a_few_aliases_still_load(tmp_path: Path) -> None:
    text = (
        "model: aliases\n"
        "x-id: &id {type: string}\n"
        "entities:\n  Thing:\n    key: [thing_id]\n    attributes: {thing_id: *id, other: *id}\n"
        "access_patterns:\n  get_thing: {entity: Thing, where: {thing_id: '='}}\n"
    )
    result = check_text(text, "a.yaml")
    codes = {d.code for d in result.diagnostics}
    # the `x-id` helper key is reported as unknown, but the aliases themselves resolve
    assert "yaml-syntax" not in codes


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_missing_path_and_directory_exit_2(command: str, tmp_path: Path) -> None:
    code, out = _cli(*COMMANDS[command](str(tmp_path / "missing.yaml")))
    assert code == 2 and "missing.yaml" in out, out
    (tmp_path / "adir.yaml").mkdir()
    code, out = _cli(*COMMANDS[command](str(tmp_path / "adir.yaml")))
    assert code == 2, out


@pytest.mark.parametrize("case", ["empty", "binary", "list_at_top", "latin1"])
def test_init_from_garbage_ddl_exits_2(case: str, tmp_path: Path) -> None:
    path = tmp_path / f"{case}.sql"
    path.write_bytes(GARBAGE[case][0])
    code, out = _cli("init", "--from-ddl", str(path), "-o", str(tmp_path / "m.yaml"))
    assert code == 2 and f"{case}.sql" in out, out
    assert not (tmp_path / "m.yaml").exists()


@pytest.mark.parametrize("kind", ["uuid", "date", "datetime", "integer", "decimal"])
def test_begins_with_on_a_slot_without_prefix_codec_is_refused(kind: str) -> None:
    # Found by `model verify`: begins_with on uuid/date/datetime compiled, but the key codec has
    # no prefix encoding for them, so every Query failed at run time.
    text = (
        "model: prefixes\nentities:\n  Thing:\n    key: [thing_id]\n"
        f"    attributes: {{thing_id: string, v: {kind}}}\n"
        "access_patterns:\n  by_v: {entity: Thing, where: {v: begins_with}}\n"
    )
    errors = _errors(text)
    assert [(line, col, code) for line, col, code, _ in errors] == [(7, 33, "operator-type")]


@pytest.mark.parametrize("kind", ["string", "binary"])
def test_begins_with_on_string_and_binary_is_accepted(kind: str) -> None:
    text = (
        "model: prefixes\nentities:\n  Thing:\n    key: [thing_id]\n"
        f"    attributes: {{thing_id: string, v: {kind}}}\n"
        "access_patterns:\n  by_v: {entity: Thing, where: {v: begins_with}}\n"
    )
    assert _errors(text) == []
