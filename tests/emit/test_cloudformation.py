"""table.yaml / create-table.json / post-create-table.json.

cfn-lint (its Python API) must report 0 errors on every template shape; create-table.json must
be accepted by DynamoDB Local and describe back as generated; the two files must agree.
Golden files for the small layout live in tests/emit/golden/shop (UPDATE_GOLDEN=1 rewrites).
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit import cloudformation as cfn
from modeling.emit import dms, sql

from . import layouts

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "shop"
EXAMPLES = sorted((ROOT / "models").glob("*.yaml"))


def _yaml_load(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def _lint_errors(template: str) -> list[str]:
    matches = lint(template, config=ManualArgs(regions=["us-east-1"]))
    return [str(m) for m in matches if m.rule.severity == "error"]


def _compiled(path: Path) -> tuple[ir.Layout, ir.Model]:
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, [d.format() for d in diags.errors]
    return layout, model


def _all_cases() -> list[Any]:
    cases = [pytest.param(name, id=name) for name in layouts.variants()]
    cases += [pytest.param(p, id=p.stem) for p in EXAMPLES]
    return cases


def _case(case: str | Path) -> tuple[ir.Layout, ir.Model]:
    if isinstance(case, Path):
        return _compiled(case)
    return layouts.variants()[case]


# --------------------------------------------------------------------------- cfn-lint


def test_lint_harness_reports_errors() -> None:
    """The 0-errors assertions below mean something: a broken template does produce errors."""
    layout, model = layouts.variants()["provisioned_autoscaling"]
    text = cfn.emit_cloudformation(layout, model)["table.yaml"]
    broken = text.replace("BillingMode: PROVISIONED", "BillingMode: FREE_TIER", 1)
    broken = broken.replace("KeyType: HASH", "KeyType: PARTITION", 1)
    assert broken != text
    assert len(_lint_errors(broken)) >= 2


@pytest.mark.parametrize("case", _all_cases())
def test_cfn_lint_reports_no_errors(case: str | Path) -> None:
    layout, model = _case(case)
    text = cfn.emit_cloudformation(layout, model)["table.yaml"]
    assert _lint_errors(text) == []


# --------------------------------------------------------------------------- content


def _resources(layout: ir.Layout, model: ir.Model) -> dict[str, Any]:
    return _yaml_load(cfn.emit_cloudformation(layout, model)["table.yaml"])


@pytest.mark.parametrize("case", _all_cases())
def test_attribute_definitions_are_exactly_the_key_attributes(case: str | Path) -> None:
    layout, model = _case(case)
    template = _resources(layout, model)
    props = template["Resources"]["Table"]["Properties"]
    defined = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    keyed = {a.name: a.type for i in layout.indexes for a in (i.pk, i.sk) if a is not None}
    assert defined == keyed
    used = {e["AttributeName"] for e in props["KeySchema"]}
    for section in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for idx in props.get(section, []):
            used |= {e["AttributeName"] for e in idx["KeySchema"]}
    assert used == set(defined)


def test_provisioned_template_scales_table_and_every_gsi() -> None:
    layout, model = layouts.variants()["provisioned_autoscaling"]
    template = _resources(layout, model)
    res = template["Resources"]
    targets = {
        k: v["Properties"]
        for k, v in res.items()
        if v["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
    }
    policies = {
        k: v["Properties"]
        for k, v in res.items()
        if v["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"
    }
    gsis = [i.name for i in layout.gsis]
    assert len(targets) == len(policies) == 2 * (1 + len(gsis))
    resource_ids = sorted(t["ResourceId"]["Fn::Sub"] for t in targets.values())
    expected = ["table/${Table}"] * 2 + [f"table/${{Table}}/index/{g}" for g in gsis for _ in "rw"]
    assert resource_ids == sorted(expected)
    dims = sorted(t["ScalableDimension"] for t in targets.values())
    assert dims == sorted(
        ["dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"]
        + [f"dynamodb:index:{k}CapacityUnits" for _ in gsis for k in ("Read", "Write")]
    )
    for t in targets.values():
        assert t["RoleARN"]["Fn::Sub"].endswith(
            ":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
        )
    metrics = sorted(
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in policies.values()
    )
    assert metrics == sorted(
        ["DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"] * (1 + len(gsis))
    )
    for p in policies.values():
        assert p["PolicyType"] == "TargetTrackingScaling"
        assert p["ScalingTargetId"]["Ref"] in targets
    props = res["Table"]["Properties"]
    assert props["BillingMode"] == "PROVISIONED"
    assert template["Parameters"]["ReadCapacity"]["Default"] == 5
    assert template["Parameters"]["WriteCapacity"]["Default"] == 3
    for g in props["GlobalSecondaryIndexes"]:
        assert g["ProvisionedThroughput"] == {
            "ReadCapacityUnits": {"Ref": "ReadCapacity"},
            "WriteCapacityUnits": {"Ref": "WriteCapacity"},
        }


def test_on_demand_template_has_no_throughput_and_no_scaling() -> None:
    layout, model = layouts.variants()["on_demand_minimal"]
    template = _resources(layout, model)
    assert list(template["Resources"]) == ["Table"]
    props = template["Resources"]["Table"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert all("ProvisionedThroughput" not in g for g in props["GlobalSecondaryIndexes"])
    assert "StreamSpecification" not in props and "TimeToLiveSpecification" not in props
    assert set(template["Outputs"]) == {"TableName", "TableArn"}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert props["DeletionProtectionEnabled"] is False
    assert template["Resources"]["Table"]["DeletionPolicy"] == "Delete"


def test_stream_ttl_lsi_tags_sse_and_outputs() -> None:
    layout, model = layouts.variants()["stream_ttl_lsi"]
    template = _resources(layout, model)
    props = template["Resources"]["Table"]["Properties"]
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["KMSMasterKeyId"] == {
        "Fn::If": ["HasKmsKey", {"Ref": "KmsKeyId"}, {"Ref": "AWS::NoValue"}]
    }
    (lsi,) = props["LocalSecondaryIndexes"]
    assert lsi["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "LSI1SK", "KeyType": "RANGE"},
    ]
    assert lsi["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    plain_tags = [t for t in props["Tags"] if "Key" in t]
    assert plain_tags == [
        {"Key": "cost-center", "Value": "42"},
        {"Key": "modeling:model", "Value": "shop"},
        {"Key": "team", "Value": "orders"},
    ]
    assert template["Outputs"]["StreamArn"]["Value"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert template["Outputs"]["TableArn"]["Value"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert template["Parameters"]["TableName"]["Default"] == "Shop"


def test_include_projection_lists_non_key_attributes() -> None:
    layout, model = layouts.variants()["include_projection"]
    props = _resources(layout, model)["Resources"]["Table"]["Properties"]
    gsi1 = next(g for g in props["GlobalSecondaryIndexes"] if g["IndexName"] == "GSI1")
    assert gsi1["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["_type", "total"],
    }


# --------------------------------------------------------------------------- agreement


def _resolve(value: Any, params: dict[str, Any], conditions: dict[str, bool]) -> Any:
    """Evaluate Ref (to parameter defaults) and Fn::If; drop AWS::NoValue."""
    no_value = object()

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            if set(v) == {"Ref"}:
                return no_value if v["Ref"] == "AWS::NoValue" else params[v["Ref"]]
            if set(v) == {"Fn::If"}:
                cond, yes, no = v["Fn::If"]
                return walk(yes if conditions[cond] else no)
            out = {k: walk(x) for k, x in v.items()}
            return {k: x for k, x in out.items() if x is not no_value}
        if isinstance(v, list):
            return [x for x in (walk(i) for i in v) if x is not no_value]
        return v

    return walk(value)


@pytest.mark.parametrize("case", _all_cases())
def test_template_and_create_table_json_agree(case: str | Path) -> None:
    layout, model = _case(case)
    files = cfn.emit_cloudformation(layout, model)
    template = _yaml_load(files["table.yaml"])
    kwargs = json.loads(files["create-table.json"])
    post = json.loads(files["post-create-table.json"])
    params = {k: v["Default"] for k, v in template["Parameters"].items()}
    props = _resolve(
        template["Resources"]["Table"]["Properties"],
        params,
        {"HasEnvironment": False, "HasKmsKey": False},
    )
    same = [
        "TableName",
        "AttributeDefinitions",
        "KeySchema",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "Tags",
        "DeletionProtectionEnabled",
    ]
    for key in same:
        assert props.get(key) == kwargs.get(key), key
    assert props.get("StreamSpecification", {}).get("StreamViewType") == kwargs.get(
        "StreamSpecification", {}
    ).get("StreamViewType")
    assert kwargs["SSESpecification"]["Enabled"] is props["SSESpecification"]["SSEEnabled"]
    assert (
        post["update_continuous_backups"]["PointInTimeRecoverySpecification"]
        == props["PointInTimeRecoverySpecification"]
    )
    ttl = post.get("update_time_to_live", {}).get("TimeToLiveSpecification")
    assert ttl == props.get("TimeToLiveSpecification")
    # the model's own settings, independently of both renderings
    assert kwargs["TableName"] == layout.table_name
    assert ("StreamSpecification" in kwargs) == (model.table.stream is not None)


# --------------------------------------------------------------------------- YAML writer

HOSTILE_STRINGS = [
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "null",
    "~",
    "0777",
    "1e3",
    "2010-09-09",
    "12:30",
    "",
    " leading space",
    "a: b",
    "ends with colon:",
    "# not a comment",
    "x #y",
    "- dash",
    "[list]",
    "{map}",
    "*alias",
    "&anchor",
    "!tag",
    "'single'",
    '"double"',
    "line\nbreak",
    "tab\there",
    "ünïcödé ✓",
    "\u2028",
    "%percent",
    "@at",
    "`tick`",
    "?q",
    "|pipe",
    ">gt",
    "Fn::Sub",
    "${AWS::StackName}-x",
]


def test_yaml_writer_round_trips_hostile_strings_in_yaml_1_1_and_1_2() -> None:
    yaml11 = pytest.importorskip("yaml")  # PyYAML reads YAML 1.1, like CloudFormation
    data = {
        "strings": HOSTILE_STRINGS,
        "as keys": {s: s for s in HOSTILE_STRINGS if s},
        "scalars": {"t": True, "f": False, "n": 0, "big": 10**12},
        "empty": {"list": [], "map": {}},
        "nested": [[{"a": ["b", {"c": "d"}]}]],
    }
    text = cfn.to_yaml(data)
    assert yaml11.safe_load(text) == data
    assert _yaml_load(text) == data


# --------------------------------------------------------------------------- limits


def test_layout_errors_name_the_problem() -> None:
    layout, model = layouts.variants()["on_demand_minimal"]
    too_many = dataclasses.replace(
        layout,
        indexes=layout.indexes[:1]
        + tuple(layouts.index(f"GSI{n}", "gsi", f"G{n}PK") for n in range(1, 22)),
    )
    with pytest.raises(cfn.LayoutError, match="21 GSIs"):
        cfn.table_definition(too_many, model)
    bad_lsi = dataclasses.replace(
        layout, indexes=(*layout.indexes, layouts.index("LSI1", "lsi", "OTHER", "LSI1SK"))
    )
    with pytest.raises(cfn.LayoutError, match="LSI1: an LSI shares the table's partition key"):
        cfn.table_definition(bad_lsi, model)
    clash = dataclasses.replace(
        layout, indexes=(*layout.indexes, layouts.index("GSI9", "gsi", "PK", pk_type="N"))
    )
    with pytest.raises(cfn.LayoutError, match="PK is S in one index and N in GSI9"):
        cfn.table_definition(clash, model)


# --------------------------------------------------------------------------- determinism


def test_same_input_same_bytes_and_tag_order_does_not_matter() -> None:
    layout, model = layouts.variants()["stream_ttl_lsi"]
    first = cfn.emit_cloudformation(layout, model)
    again = cfn.emit_cloudformation(
        layouts.small_layout(), layouts.small_model(stream="new_and_old_images", ttl="expires_at")
    )
    assert first == again
    shuffled = dataclasses.replace(
        model, table=dataclasses.replace(model.table, tags=tuple(reversed(model.table.tags)))
    )
    assert cfn.emit_cloudformation(layout, shuffled) == first


# --------------------------------------------------------------------------- golden


def _golden_files() -> dict[str, str]:
    layout = layouts.small_layout()
    model = layouts.small_model(stream="new_and_old_images", ttl="expires_at")
    files: dict[str, str] = {}
    files.update(cfn.emit_cloudformation(layout, model))
    files.update(dms.emit_dms(layout, model))
    files.update(sql.emit_sql(layout, model))
    return files


def test_golden_files_for_the_small_layout() -> None:
    files = _golden_files()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.iterdir():
            old.unlink()
        for name, text in files.items():
            (GOLDEN / name).write_text(text, encoding="utf-8", newline="\n")
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in GOLDEN.iterdir()}
    assert sorted(on_disk) == sorted(files), "missing or extra golden files"
    for name, text in files.items():
        assert on_disk[name] == text, f"{name} differs from golden (UPDATE_GOLDEN=1 rewrites)"


# --------------------------------------------------------------------------- DynamoDB Local


def _describe_matches(described: dict[str, Any], kwargs: dict[str, Any]) -> None:
    assert (
        sorted(described["AttributeDefinitions"], key=lambda d: d["AttributeName"])
        == kwargs["AttributeDefinitions"]
    )
    assert described["KeySchema"] == kwargs["KeySchema"]
    for section in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        got = {i["IndexName"]: i for i in described.get(section, [])}
        want = {i["IndexName"]: i for i in kwargs.get(section, [])}
        assert set(got) == set(want), section
        for name, idx in want.items():
            assert got[name]["KeySchema"] == idx["KeySchema"]
            projection = dict(got[name]["Projection"])
            if "NonKeyAttributes" in projection:
                projection["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
            assert projection == idx["Projection"]
            if "ProvisionedThroughput" in idx:
                pt = got[name]["ProvisionedThroughput"]
                assert pt["ReadCapacityUnits"] == idx["ProvisionedThroughput"]["ReadCapacityUnits"]
                assert (
                    pt["WriteCapacityUnits"] == idx["ProvisionedThroughput"]["WriteCapacityUnits"]
                )
    if "ProvisionedThroughput" in kwargs:
        pt = described["ProvisionedThroughput"]
        assert pt["ReadCapacityUnits"] == kwargs["ProvisionedThroughput"]["ReadCapacityUnits"]
        assert pt["WriteCapacityUnits"] == kwargs["ProvisionedThroughput"]["WriteCapacityUnits"]
    else:
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    if "StreamSpecification" in kwargs:
        assert described["StreamSpecification"] == kwargs["StreamSpecification"]
        assert described["LatestStreamArn"]
    else:
        assert not described.get("StreamSpecification", {}).get("StreamEnabled", False)


# DynamoDB Local answers UnknownOperationException to these (AWS-only settings).
LOCAL_UNSUPPORTED = {"update_continuous_backups"}


def _validate(client: Any, method: str, args: dict[str, Any]) -> None:
    """Raise botocore's ParamValidationError when `args` do not fit the operation."""
    from botocore.validate import ParamValidator

    operation = client.meta.method_to_api_mapping[method]
    shape = client.meta.service_model.operation_model(operation).input_shape
    report = ParamValidator().validate(args, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize("case", _all_cases())
def test_create_table_json_is_accepted_by_dynamodb_local(
    case: str | Path, dynamodb_local: Any
) -> None:
    layout, model = _case(case)
    files = cfn.emit_cloudformation(layout, model)
    kwargs = json.loads(files["create-table.json"])
    post = json.loads(files["post-create-table.json"])
    name = f"cfn-{uuid.uuid4().hex[:12]}"
    kwargs["TableName"] = name
    client = dynamodb_local.client()
    _validate(client, "create_table", kwargs)
    client.create_table(**kwargs)
    try:
        client.get_waiter("table_exists").wait(TableName=name)
        _describe_matches(client.describe_table(TableName=name)["Table"], kwargs)
        for method, call in post.items():
            args = {**call, "TableName": name}
            _validate(client, method, args)  # botocore's own request model
            if method in LOCAL_UNSUPPORTED:
                continue
            getattr(client, method)(**args)
        if "update_time_to_live" in post:
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl["AttributeName"] == model.table.ttl
    finally:
        if kwargs.get("DeletionProtectionEnabled"):
            client.update_table(TableName=name, DeletionProtectionEnabled=False)
        client.delete_table(TableName=name)
