"""`model verify` end to end on the example models, and proof that it can fail."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modeling.api import load_model
from modeling.cli import app
from modeling.core.ir import to_json

MODELS = sorted(Path(__file__).resolve().parents[2].joinpath("models").glob("*.yaml"))


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *args])
    return result.exit_code, result.stdout


def test_invalid_model_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\nentities: {}\naccess_patterns: {nope: {entity: Ghost}}\n")
    code, _ = _run(str(bad), "--endpoint", "http://127.0.0.1:9")
    assert code == 2


@pytest.mark.e2e
@pytest.mark.parametrize("model", MODELS, ids=[m.stem for m in MODELS])
def test_example_model_verifies(model: Path, dynamodb_local: Any, postgres: Any) -> None:
    code, out = _run(
        str(model),
        "--endpoint",
        dynamodb_local.endpoint_url,
        "--postgres",
        postgres.dsn,
        "--trials",
        "25",
        "--json",
    )
    report = json.loads(out)
    bad = {p["pattern"]: p["failures"][:1] for p in report["patterns"] if p["status"] != "ok"}
    assert code == 0 and report["ok"], bad
    assert report["postgres"] and all(p["oracle_trials"] == 25 for p in report["patterns"])
    assert all(p["non_empty"] > 0 for p in report["patterns"])


@pytest.mark.e2e
def test_a_layout_with_a_dropped_slot_fails(tmp_path: Path, dynamodb_local: Any) -> None:
    from modeling.compile import compile_model

    model = load_model(MODELS[0])
    layout, _ = compile_model(model)
    assert layout is not None
    # Drop the last slot of the first composite table sort key of an entity with a parent.
    victim = next(
        el
        for el in layout.entities
        if (k := el.key("table")) is not None
        and k.sk is not None
        and k.sk.count("{") >= 1
        and model.entity(el.entity) is not None
        and model.entity(el.entity).parent  # type: ignore[union-attr]
    )
    keys = tuple(
        dataclasses.replace(k, sk=k.sk[: k.sk.rindex("{")].rstrip("#") or "X")
        if k.index == "table" and k.sk
        else k
        for k in victim.keys
    )
    broken = dataclasses.replace(
        layout,
        entities=tuple(
            dataclasses.replace(el, keys=keys) if el.entity == victim.entity else el
            for el in layout.entities
        ),
    )
    path = tmp_path / "layout.json"
    path.write_text(to_json(broken))
    code, out = _run(
        str(MODELS[0]), "--layout", str(path), "--endpoint", dynamodb_local.endpoint_url,
        "--trials", "10", "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert report["collisions"], "rows of one parent now share a table key"


COVERAGE_FIELDS = {"values_tried", "with_null", "with_ties", "multi_page", "empty", "warnings"}
NULL_ORDERING = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "null_ordering.yaml"


@pytest.mark.e2e
def test_coverage_per_pattern_in_json(dynamodb_local: Any) -> None:
    code, out = _run(
        str(MODELS[[m.stem for m in MODELS].index("orders")]),
        "--endpoint", dynamodb_local.endpoint_url, "--trials", "25", "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0, report["coverage_warnings"]
    by_name = {p["pattern"]: p for p in report["patterns"]}
    for p in report["patterns"]:
        cov = p["coverage"]
        assert set(cov) >= COVERAGE_FIELDS, p["pattern"]
        assert cov["values_tried"] == p["trials"] == 25
        for count in ("with_null", "with_ties", "multi_page", "empty"):
            assert 0 <= cov[count] <= cov["values_tried"], (p["pattern"], count)
        assert cov["empty"] == p["trials"] - p["non_empty"]
    newest = by_name["orders_of_customer_newest_first"]["coverage"]
    assert newest["multi_page"] > 0 and newest["with_ties"] > 0
    # a unique lookup by a GetItem cannot page, and never says it should
    assert by_name["get_customer"]["coverage"]["multi_page"] == 0
    assert not by_name["get_customer"]["coverage"]["warnings"]
    assert report["coverage_warnings"] == [
        w for p in report["patterns"] for w in p["coverage"]["warnings"]
    ]


@pytest.mark.e2e
def test_coverage_sees_nulls_in_a_nullable_ordering_attribute(dynamodb_local: Any) -> None:
    code, out = _run(
        str(NULL_ORDERING), "--endpoint", dynamodb_local.endpoint_url, "--trials", "25", "--json"
    )
    report = json.loads(out)
    assert code == 0
    by_name = {p["pattern"]: p["coverage"] for p in report["patterns"]}
    for name in ("orders_desc", "orders_asc", "orders_asc_nulls_first", "orders_desc_nulls_last"):
        assert by_name[name]["nullable"] == ["Order.order_date"], name
        assert 0 < by_name[name]["with_null"] <= by_name[name]["values_tried"], name
        assert not any("NULL" in w for w in by_name[name]["warnings"]), name
        # equal non-NULL dates in one customer's orders (before: "no ties seen")
        assert by_name[name]["with_ties"] > 0, name
        assert not any("ties" in w for w in by_name[name]["warnings"]), name
        assert by_name[name]["cases"]["boundary"] > 0, name  # 0001-01-01, 9999-12-31, ...
    # a condition on order_date excludes NULL rows: no NULL case to cover there
    assert by_name["orders_since"]["nullable"] == [] and by_name["orders_since"]["with_null"] == 0


TEXT_ORDER = """\
model: titles
entities:
  Item:
    table: items
    key: [item_id]
    attributes:
      item_id: integer
      shelf: integer
      title: string
access_patterns:
  items_of_shelf_by_title:
    sql: SELECT * FROM items WHERE shelf = :shelf ORDER BY title
"""


@pytest.mark.e2e
def test_several_models_share_one_dynamodb_local_and_show_progress(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from modeling import services

    starts: list[int] = []
    real_start = services.DynamoDBLocal.start

    def counted(self: services.DynamoDBLocal) -> None:
        starts.append(1)
        real_start(self)

    monkeypatch.setattr(services.DynamoDBLocal, "start", counted)
    monkeypatch.setenv("MODELING_PROGRESS_INTERVAL", "0.05")
    titles = tmp_path / "titles.yaml"
    titles.write_text(TEXT_ORDER)
    try:
        result = CliRunner().invoke(
            app, ["verify", str(NULL_ORDERING), str(titles), "--trials", "3", "--json"]
        )
    except services.ServiceUnavailable as exc:  # pragma: no cover - no Java / jar here
        pytest.skip(str(exc))
    if "DynamoDBLocal.jar" in result.stderr and result.exit_code == 2:
        pytest.skip(result.stderr)
    assert result.exit_code == 0, result.stderr
    assert starts == [1], "one DynamoDB Local for both models"
    report = json.loads(result.stdout)
    assert report["ok"] and [m["model"] for m in report["models"]] == ["nullorders", "titles"]
    assert all(m["timings"]["queries"] >= 0 and m["requests"] > 0 for m in report["models"])
    lines = result.stderr.splitlines()  # not a terminal: plain lines, no bar
    assert lines.count("model verify: starting DynamoDB Local") == 1
    for model in ("nullorders", "titles"):
        assert f"model verify {model}: load into DynamoDB" in lines
        assert any(line.startswith(f"model verify {model}: done, ") for line in lines)


def test_layout_with_several_models_is_refused(tmp_path: Path) -> None:
    code, _ = _run(str(NULL_ORDERING), str(NULL_ORDERING), "--layout", str(tmp_path / "x.json"))
    assert code == 2


@pytest.mark.e2e
def test_collation_of_the_source_is_a_finding_byte_order_is_not(
    tmp_path: Path, dynamodb_local: Any, postgres: Any
) -> None:
    titles = tmp_path / "titles.yaml"
    titles.write_text(TEXT_ORDER)
    common = ("--endpoint", dynamodb_local.endpoint_url, "--postgres", postgres.dsn)
    code, out = _run(str(titles), *common, "--trials", "12", "--json")
    report = json.loads(out)
    assert code == 0 and report["collation"] == "C", report["patterns"][0]["failures"][:1]
    # the same rows asked in an ICU root collation: "apple" < "Banana" there, not in bytes
    code, out = _run(str(titles), *common, "--trials", "12", "--collation", "und-x-icu", "--json")
    report = json.loads(out)
    (pattern,) = report["patterns"]
    assert code == 1 and pattern["status"] == "collation-mismatch"
    assert {f["kind"] for f in pattern["failures"]} == {"collation"}
    code, _ = _run(str(titles), *common, "--trials", "2", "--collation", "no-such-collation")
    assert code == 2
