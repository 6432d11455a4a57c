"""`table.yaml` (CloudFormation) and `create-table.json` (boto3 `create_table` kwargs).

Both are rendered from one intermediate, `TableDefinition`, built once from the Layout IR and
the model's table settings: the two files cannot drift apart because neither is derived from
the other's text. `post-create-table.json` holds what `create_table` cannot set (time to live,
point-in-time recovery) as the kwargs of the two follow-up boto3 calls.

The template is structured data serialised by a small YAML writer (`to_yaml`): CloudFormation
reads YAML 1.1, where `yes`, `on`, `0777` are not strings, so every scalar that could be read
as anything but itself is double-quoted; intrinsic functions use their long form
(`Fn::Sub:`), which needs no custom tags.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from modeling.core import ir, limits
from modeling.core.errors import InputError
from modeling.emit import FileManifest, header, register

MAX_PROJECTED_NON_KEY = 100  # across every index of the table
TABLE_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,255}\Z")
INDEX_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,255}\Z")
STREAM_VIEW_TYPES = {
    "keys_only": "KEYS_ONLY",
    "new_image": "NEW_IMAGE",
    "old_image": "OLD_IMAGE",
    "new_and_old_images": "NEW_AND_OLD_IMAGES",
}
MODEL_TAG = "modeling:model"
TARGET_UTILIZATION = 70  # percent; AWS's console default for DynamoDB auto scaling
AUTOSCALING_HEADROOM = 10  # default maximum capacity = provisioned x this
# The service-linked role Application Auto Scaling uses for DynamoDB (created on first use).
AUTOSCALING_ROLE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
    "dynamodb.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
)


class LayoutError(InputError, ValueError):
    """The layout cannot be deployed as is (the compiler's checks should have said so)."""


# --------------------------------------------------------------------------- intermediate


@dataclass(frozen=True)
class KeyElement:
    attribute: str
    key_type: str  # HASH | RANGE


@dataclass(frozen=True)
class SecondaryIndex:
    name: str
    kind: str  # gsi | lsi
    key_schema: tuple[KeyElement, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableDefinition:
    """Everything both renderings need, already validated against DynamoDB's limits."""

    model: str
    table_name: str
    attribute_definitions: tuple[tuple[str, str], ...]  # (name, S|N|B), sorted by name
    key_schema: tuple[KeyElement, ...]
    gsis: tuple[SecondaryIndex, ...]
    lsis: tuple[SecondaryIndex, ...]
    billing_mode: str  # PAY_PER_REQUEST | PROVISIONED
    read_capacity: int | None
    write_capacity: int | None
    stream_view_type: str | None
    ttl_attribute: str | None
    pitr: bool
    deletion_protection: bool
    tags: tuple[tuple[str, str], ...]  # sorted by key, model tag included
    table_class: str = "STANDARD"  # STANDARD | STANDARD_INFREQUENT_ACCESS


def _key_schema(index: ir.Index) -> tuple[KeyElement, ...]:
    """HASH then RANGE elements: one each, or up to 4 + 4 on an attribute-keyed GSI."""
    return tuple(KeyElement(k.name, "HASH") for k in index.hash_keys) + tuple(
        KeyElement(k.name, "RANGE") for k in index.range_keys
    )


def _attribute_definitions(indexes: tuple[ir.Index, ...]) -> tuple[tuple[str, str], ...]:
    """Exactly the key attributes of the table and every index; one type per name."""
    types: dict[str, str] = {}
    for index in indexes:
        for attr in index.hash_keys + index.range_keys:
            if attr.type not in ("S", "N", "B"):
                raise LayoutError(f"key attribute {attr.name} has type {attr.type}; use S, N or B")
            seen = types.setdefault(attr.name, attr.type)
            if seen != attr.type:
                raise LayoutError(
                    f"key attribute {attr.name} is {seen} in one index and {attr.type} in "
                    f"{index.name}; DynamoDB defines one type per attribute"
                )
    return tuple(sorted(types.items()))


def _secondary(index: ir.Index) -> SecondaryIndex:
    if not INDEX_NAME_RE.match(index.name):
        raise LayoutError(f"index name {index.name!r} is not 3-255 characters of [A-Za-z0-9_.-]")
    non_key: tuple[str, ...] = ()
    if index.projection == "INCLUDE":
        if not index.non_key_attributes:
            raise LayoutError(f"{index.name} projects INCLUDE but names no non-key attribute")
        non_key = tuple(sorted(set(index.non_key_attributes)))
    return SecondaryIndex(index.name, index.kind, _key_schema(index), index.projection, non_key)


def table_definition(layout: ir.Layout, model: ir.Model) -> TableDefinition:
    """Build the intermediate both files are rendered from; LayoutError when undeployable."""
    tables = [i for i in layout.indexes if i.kind == "table"]
    if len(tables) != 1:
        raise LayoutError(f"the layout has {len(tables)} table keys; it needs exactly one")
    table = tables[0]
    if not TABLE_NAME_RE.match(layout.table_name):
        raise LayoutError(
            f"table name {layout.table_name!r} is not 3-255 characters of [A-Za-z0-9_.-]"
        )
    gsis = tuple(_secondary(i) for i in layout.gsis)
    lsis = tuple(_secondary(i) for i in layout.lsis)
    if len(gsis) > limits.MAX_GSIS:
        raise LayoutError(f"{len(gsis)} GSIs; DynamoDB allows {limits.MAX_GSIS} per table")
    if len(lsis) > limits.MAX_LSIS:
        raise LayoutError(f"{len(lsis)} LSIs; DynamoDB allows {limits.MAX_LSIS} per table")
    for index in layout.lsis:
        if table.sk is None:
            raise LayoutError(f"{index.name}: a table without a sort key cannot have an LSI")
        if index.pk != table.pk or index.sk is None:
            raise LayoutError(
                f"{index.name}: an LSI shares the table's partition key ({table.pk.name}) "
                "and has its own sort key"
            )
    names = [i.name for i in (*gsis, *lsis)]
    if len(set(names)) != len(names):
        raise LayoutError(f"index names repeat: {', '.join(sorted(names))}")
    projected = {a for i in (*gsis, *lsis) for a in i.non_key_attributes}
    if len(projected) > MAX_PROJECTED_NON_KEY:
        raise LayoutError(
            f"{len(projected)} distinct projected non-key attributes; DynamoDB allows "
            f"{MAX_PROJECTED_NON_KEY} across all indexes"
        )

    settings = model.table
    provisioned = settings.billing.mode == "provisioned"
    if provisioned and not (settings.billing.read and settings.billing.write):
        raise LayoutError("provisioned billing needs read and write capacity of at least 1")
    stream = None
    if settings.stream is not None:
        if settings.stream not in STREAM_VIEW_TYPES:
            raise LayoutError(f"unknown stream view {settings.stream!r}")
        stream = STREAM_VIEW_TYPES[settings.stream]
    tags = dict(settings.tags)
    tags[MODEL_TAG] = model.name
    return TableDefinition(
        model=model.name,
        table_name=layout.table_name,
        attribute_definitions=_attribute_definitions(layout.indexes),
        key_schema=_key_schema(table),
        gsis=gsis,
        lsis=lsis,
        billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
        read_capacity=settings.billing.read if provisioned else None,
        write_capacity=settings.billing.write if provisioned else None,
        stream_view_type=stream,
        ttl_attribute=settings.ttl,
        pitr=settings.pitr,
        deletion_protection=settings.deletion_protection,
        tags=tuple(sorted(tags.items())),
        table_class=settings.table_class.upper(),
    )


# --------------------------------------------------------------------------- boto3


def _key_schema_json(elements: tuple[KeyElement, ...]) -> list[dict[str, str]]:
    return [{"AttributeName": e.attribute, "KeyType": e.key_type} for e in elements]


def _projection_json(index: SecondaryIndex) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.non_key_attributes:
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return projection


def _table_shape(
    defn: TableDefinition, table_name: Any, throughput: dict[str, Any] | None
) -> dict[str, Any]:
    """Name, keys, billing and indexes: the part create_table and CloudFormation share, so
    the two renderings cannot drift. `throughput` is None for on-demand billing."""
    shape: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in defn.attribute_definitions
        ],
        "KeySchema": _key_schema_json(defn.key_schema),
        "BillingMode": defn.billing_mode,
    }
    if throughput:
        shape["ProvisionedThroughput"] = dict(throughput)
    if defn.gsis:
        gsis = []
        for g in defn.gsis:
            entry: dict[str, Any] = {
                "IndexName": g.name,
                "KeySchema": _key_schema_json(g.key_schema),
                "Projection": _projection_json(g),
            }
            if throughput:
                entry["ProvisionedThroughput"] = dict(throughput)
            gsis.append(entry)
        shape["GlobalSecondaryIndexes"] = gsis
    if defn.lsis:
        shape["LocalSecondaryIndexes"] = [
            {
                "IndexName": i.name,
                "KeySchema": _key_schema_json(i.key_schema),
                "Projection": _projection_json(i),
            }
            for i in defn.lsis
        ]
    return shape


def create_table_kwargs(defn: TableDefinition) -> dict[str, Any]:
    """The boto3 `create_table` keyword arguments (also `aws dynamodb create-table --cli-input-json`)."""
    throughput = None
    if defn.billing_mode == "PROVISIONED":
        throughput = {
            "ReadCapacityUnits": defn.read_capacity,
            "WriteCapacityUnits": defn.write_capacity,
        }
    kwargs = _table_shape(defn, defn.table_name, throughput)
    if defn.stream_view_type:
        kwargs["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": defn.stream_view_type,
        }
    kwargs["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
    kwargs["DeletionProtectionEnabled"] = defn.deletion_protection
    if defn.table_class != "STANDARD":
        kwargs["TableClass"] = defn.table_class
    kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in defn.tags]
    return kwargs


def post_create_calls(defn: TableDefinition) -> dict[str, dict[str, Any]]:
    """boto3 method name → kwargs for the settings `create_table` cannot carry."""
    calls: dict[str, dict[str, Any]] = {
        "update_continuous_backups": {
            "TableName": defn.table_name,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": defn.pitr},
        }
    }
    if defn.ttl_attribute:
        calls["update_time_to_live"] = {
            "TableName": defn.table_name,
            "TimeToLiveSpecification": {"AttributeName": defn.ttl_attribute, "Enabled": True},
        }
    return dict(sorted(calls.items()))


# --------------------------------------------------------------------------- CloudFormation


def _logical_id(name: str, taken: set[str]) -> str:
    """An alphanumeric CloudFormation logical ID from an index name, unique in `taken`."""
    base = "".join(ch for ch in name.title() if ch.isascii() and ch.isalnum()) or "Index"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _parameters(defn: TableDefinition) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": {
            "Type": "String",
            "Default": defn.table_name,
            "Description": "Name of the DynamoDB table",
            "AllowedPattern": "[a-zA-Z0-9_.-]+",
            "MinLength": 3,
            "MaxLength": 255,
        },
        "Environment": {
            "Type": "String",
            "Default": "",
            "Description": "Optional environment name (dev, staging, prod), added as a tag",
        },
        "KmsKeyId": {
            "Type": "String",
            "Default": "",
            "Description": "KMS key (ARN, ID or alias) for encryption at rest; "
            "empty uses the AWS managed key for DynamoDB",
        },
    }
    if defn.billing_mode == "PROVISIONED":
        assert defn.read_capacity and defn.write_capacity
        for kind, value in (("Read", defn.read_capacity), ("Write", defn.write_capacity)):
            params[f"{kind}Capacity"] = {
                "Type": "Number",
                "Default": value,
                "MinValue": 1,
                "Description": f"Provisioned {kind.lower()} capacity units of the table and "
                "of each GSI, and the auto-scaling minimum",
            }
            params[f"Max{kind}Capacity"] = {
                "Type": "Number",
                "Default": value * AUTOSCALING_HEADROOM,
                "MinValue": 1,
                "Description": f"Auto-scaling maximum {kind.lower()} capacity units",
            }
        params["TargetUtilization"] = {
            "Type": "Number",
            "Default": TARGET_UTILIZATION,
            "MinValue": 20,
            "MaxValue": 90,
            "Description": "Auto-scaling target: percent of provisioned capacity consumed",
        }
    return params


def _table_properties(defn: TableDefinition) -> dict[str, Any]:
    provisioned = defn.billing_mode == "PROVISIONED"
    throughput = {
        "ReadCapacityUnits": _ref("ReadCapacity"),
        "WriteCapacityUnits": _ref("WriteCapacity"),
    }
    props = _table_shape(defn, _ref("TableName"), throughput if provisioned else None)
    if defn.stream_view_type:
        props["StreamSpecification"] = {"StreamViewType": defn.stream_view_type}
    if defn.ttl_attribute:
        props["TimeToLiveSpecification"] = {
            "AttributeName": defn.ttl_attribute,
            "Enabled": True,
        }
    props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": defn.pitr}
    props["SSESpecification"] = {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::If": ["HasKmsKey", _ref("KmsKeyId"), _ref("AWS::NoValue")]},
    }
    props["DeletionProtectionEnabled"] = defn.deletion_protection
    if defn.table_class != "STANDARD":
        props["TableClass"] = defn.table_class
    tags: list[Any] = [{"Key": k, "Value": v} for k, v in defn.tags]
    tags.append(
        {
            "Fn::If": [
                "HasEnvironment",
                {"Key": "environment", "Value": _ref("Environment")},
                _ref("AWS::NoValue"),
            ]
        }
    )
    props["Tags"] = tags
    return props


def _autoscaling(defn: TableDefinition) -> dict[str, Any]:
    """A scalable target and a target-tracking policy per dimension of the table and each GSI."""
    resources: dict[str, Any] = {}
    taken = {"Table"}
    scopes: list[tuple[str, Any, str]] = [("Table", {"Fn::Sub": "table/${Table}"}, "table")]
    for g in defn.gsis:
        scopes.append(
            (_logical_id(g.name, taken), {"Fn::Sub": f"table/${{Table}}/index/{g.name}"}, "index")
        )
    for prefix, resource_id, level in scopes:
        for kind in ("Read", "Write"):
            target = f"{prefix}{kind}ScalableTarget"
            resources[target] = {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "dynamodb",
                    "ResourceId": resource_id,
                    "ScalableDimension": f"dynamodb:{level}:{kind}CapacityUnits",
                    "MinCapacity": _ref(f"{kind}Capacity"),
                    "MaxCapacity": _ref(f"Max{kind}Capacity"),
                    "RoleARN": {"Fn::Sub": AUTOSCALING_ROLE},
                },
            }
            resources[f"{prefix}{kind}ScalingPolicy"] = {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": {"Fn::Sub": f"${{AWS::StackName}}-{prefix}-{kind.lower()}"},
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": _ref(target),
                    "TargetTrackingScalingPolicyConfiguration": {
                        "TargetValue": _ref("TargetUtilization"),
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": f"DynamoDB{kind}CapacityUtilization"
                        },
                    },
                },
            }
    return resources


def cloudformation_template(defn: TableDefinition) -> dict[str, Any]:
    """The template as data (insertion order is the output order)."""
    retain = "Retain" if defn.deletion_protection else "Delete"
    resources: dict[str, Any] = {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": retain,
            "UpdateReplacePolicy": retain,
            "Properties": _table_properties(defn),
        }
    }
    if defn.billing_mode == "PROVISIONED":
        resources.update(_autoscaling(defn))
    outputs: dict[str, Any] = {
        "TableName": {
            "Description": "Name of the table",
            "Value": _ref("Table"),
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-TableName"}},
        },
        "TableArn": {
            "Description": "ARN of the table",
            "Value": {"Fn::GetAtt": ["Table", "Arn"]},
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-TableArn"}},
        },
    }
    if defn.stream_view_type:
        outputs["StreamArn"] = {
            "Description": "ARN of the table's stream",
            "Value": {"Fn::GetAtt": ["Table", "StreamArn"]},
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-StreamArn"}},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"DynamoDB single table of model {defn.model}",
        "Parameters": _parameters(defn),
        "Conditions": {
            "HasEnvironment": {"Fn::Not": [{"Fn::Equals": [_ref("Environment"), ""]}]},
            "HasKmsKey": {"Fn::Not": [{"Fn::Equals": [_ref("KmsKeyId"), ""]}]},
        },
        "Resources": resources,
        "Outputs": outputs,
    }


# --------------------------------------------------------------------------- YAML writer

_PLAIN = re.compile(r"[A-Za-z_/$][A-Za-z0-9_./:${}@+-]*\Z")
# Words YAML 1.1 or 1.2 read as booleans or null, in any capitalisation.
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        plain = (
            _PLAIN.match(value)
            and value.lower() not in _YAML_WORDS
            and ": " not in value
            and not value.endswith(":")
        )
        return value if plain else json.dumps(value, ensure_ascii=True)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _yaml_lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            k = _scalar(key)
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{k}:")
                lines.extend(_yaml_lines(item, indent + 2))
            else:
                lines.append(f"{pad}{k}: {_empty_or_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                sub = _yaml_lines(item, indent + 2)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines.extend(sub[1:])
            else:
                lines.append(f"{pad}- {_empty_or_scalar(item)}")
    else:
        raise TypeError("a YAML document here is a mapping or a list")
    return lines


def _empty_or_scalar(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(data: dict[str, Any]) -> str:
    """Block-style YAML of dicts, lists, str, int and bool; keys keep insertion order."""
    return "\n".join(_yaml_lines(data, 0)) + "\n"


# --------------------------------------------------------------------------- emitter


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@register("cloudformation")
def emit_cloudformation(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """table.yaml, create-table.json and post-create-table.json from one TableDefinition."""
    defn = table_definition(layout, model)
    comment = [
        f"# {header(model)}",
        "# The same table as boto3 create_table kwargs: create-table.json; TTL and",
        "# point-in-time recovery, which create_table cannot set: post-create-table.json.",
    ]
    if defn.ttl_attribute:
        comment += [
            f"# TTL reads {defn.ttl_attribute} as a Number of epoch seconds. The generated "
            "transformers write a datetime",
            f"# {defn.ttl_attribute} as whole seconds since 1970-01-01 UTC (sub-second part "
            "dropped); an integer one must hold",
            "# epoch seconds already. Items written by other tools with a String value never "
            "expire.",
        ]
    return {
        "table.yaml": "\n".join(comment) + "\n" + to_yaml(cloudformation_template(defn)),
        "create-table.json": _json(create_table_kwargs(defn)),
        "post-create-table.json": _json(post_create_calls(defn)),
    }
