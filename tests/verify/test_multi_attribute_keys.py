"""Multi-attribute GSI keys (DynamoDB, November 2025): what the tools we ship against accept.

Issue 16, item 4 asks first whether botocore, cfn-lint and DynamoDB Local support a GSI keyed
on up to four partition-key and four sort-key attributes of the item itself. These tests pin
the answers (docs/indexes.md cites them), so an upgrade that changes one fails here:

- botocore 1.44's service model takes any number of KeySchema elements (the docs say "up to 4
  partition and up to 4 sort keys"); it does not check the 4 + 4 limit itself;
- cfn-lint 1.58's schema for `AWS::DynamoDB::Table` lets a GSI KeySchema have several HASH and
  RANGE elements (no maxItems), while table and LSI key schemas keep at most two;
- DynamoDB Local (2026-05-28 build) creates such a GSI (at CreateTable and UpdateTable), sorts
  number attributes as numbers, requires equality on every partition-key attribute and on the
  sort-key attributes left to right with one condition per attribute (so a half-open range
  `>= a AND < b` on one attribute is refused: BETWEEN is inclusive), leaves out items that
  lack any key attribute, and refuses an item whose key attribute is an empty string or of
  another type than declared.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.session import get_session
from botocore.validate import ParamValidator
from cfnlint.api import ManualArgs, lint

GSI = {
    "IndexName": "GSI1",
    "KeySchema": [
        {"AttributeName": "brand", "KeyType": "HASH"},
        {"AttributeName": "region", "KeyType": "HASH"},
        {"AttributeName": "placed", "KeyType": "RANGE"},
        {"AttributeName": "sku", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}
DEFINITIONS = [
    {"AttributeName": n, "AttributeType": t}
    for n, t in (("PK", "S"), ("SK", "S"), ("brand", "S"), ("region", "S"), ("placed", "N"))
] + [{"AttributeName": "sku", "AttributeType": "S"}]
TABLE_KEY = [
    {"AttributeName": "PK", "KeyType": "HASH"},
    {"AttributeName": "SK", "KeyType": "RANGE"},
]
NAMES = {"#b": "brand", "#r": "region", "#p": "placed", "#s": "sku"}


def _request(table: str, gsi: dict[str, Any] = GSI) -> dict[str, Any]:
    return {
        "TableName": table,
        "AttributeDefinitions": DEFINITIONS,
        "KeySchema": TABLE_KEY,
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [gsi],
    }


def test_botocore_takes_several_hash_and_range_elements() -> None:
    model = get_session().get_service_model("dynamodb")
    shape = model.operation_model("CreateTable").input_shape
    report = ParamValidator().validate(_request("Orders"), shape)
    assert not report.has_errors(), report.generate_report()
    assert "max" not in model.shape_for("KeySchema").metadata
    create = model.shape_for("CreateGlobalSecondaryIndexAction")  # UpdateTable's new GSI
    assert "up to 4 partition and up to 4 sort keys" in create.members["KeySchema"].documentation
    # the validator does reject a malformed element, so the check above means something
    bad = _request("Orders", {**GSI, "KeySchema": [{"AttributeName": "brand"}]})
    assert ParamValidator().validate(bad, shape).has_errors()


def _template(key_schema: list[dict[str, str]], section: str = "GlobalSecondaryIndexes") -> str:
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Resources:",
        "  Table:",
        "    Type: AWS::DynamoDB::Table",
        "    Properties:",
        "      BillingMode: PAY_PER_REQUEST",
        "      AttributeDefinitions:",
        *(
            f"        - {{AttributeName: {d['AttributeName']}, AttributeType: {d['AttributeType']}}}"
            for d in DEFINITIONS
        ),
        "      KeySchema:",
        "        - {AttributeName: PK, KeyType: HASH}",
        "        - {AttributeName: SK, KeyType: RANGE}",
        f"      {section}:",
        "        - IndexName: IDX1",
        "          Projection: {ProjectionType: ALL}",
        "          KeySchema:",
        *(
            f"            - {{AttributeName: {e['AttributeName']}, KeyType: {e['KeyType']}}}"
            for e in key_schema
        ),
    ]
    return "\n".join(lines) + "\n"


def _lint_errors(template: str) -> list[str]:
    return [
        str(m)
        for m in lint(template, config=ManualArgs(regions=["us-east-1"]))
        if m.rule.severity == "error"
    ]


def test_cfn_lint_accepts_a_multi_attribute_gsi_but_not_such_an_lsi() -> None:
    assert _lint_errors(_template(GSI["KeySchema"])) == []
    lsi = [{"AttributeName": "PK", "KeyType": "HASH"}, *GSI["KeySchema"][2:]]
    assert _lint_errors(_template(lsi, "LocalSecondaryIndexes")) != []


@pytest.fixture
def orders(dynamodb_local: Any) -> tuple[Any, str]:
    ddb = dynamodb_local.client()
    table = f"multi_{uuid.uuid4().hex[:8]}"
    ddb.create_table(**_request(table))
    rows = [("a", "eu", 10, "x"), ("a", "eu", 9, "y"), ("a", "eu", 100, "z"), ("a", "us", 5, "w")]
    rows += [("b", "eu", 1, "v"), ("a", "eu", 10, "a")]
    for i, (brand, region, placed, sku) in enumerate(rows):
        item = {"PK": {"S": f"P{i}"}, "SK": {"S": "S"}, "brand": {"S": brand}}
        item |= {"region": {"S": region}, "placed": {"N": str(placed)}, "sku": {"S": sku}}
        ddb.put_item(TableName=table, Item=item)
    # lacks one sort-key attribute: not on the index (sparse)
    partial = {"PK": {"S": "P9"}, "SK": {"S": "S"}, "brand": {"S": "a"}, "region": {"S": "eu"}}
    ddb.put_item(TableName=table, Item={**partial, "placed": {"N": "7"}})
    return ddb, table


def _query(ddb: Any, table: str, condition: str, **values: Any) -> list[tuple[int, str]]:
    used = {k: v for k, v in NAMES.items() if k in condition}
    out = []
    start: dict[str, Any] | None = None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression=condition,
            ExpressionAttributeNames=used,
            ExpressionAttributeValues={f":{k}": v for k, v in values.items()},
            Limit=2,
            **extra,
        )
        out += [(int(i["placed"]["N"]), i["sku"]["S"]) for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def test_dynamodb_local_queries_a_multi_attribute_gsi(orders: tuple[Any, str]) -> None:
    ddb, table = orders
    a, eu = {"S": "a"}, {"S": "eu"}
    both = "#b = :b AND #r = :r"
    # numbers sort as numbers (9 < 10 < 100), then sku; across pages of two
    assert _query(ddb, table, both, b=a, r=eu) == [(9, "y"), (10, "a"), (10, "x"), (100, "z")]
    assert _query(ddb, table, f"{both} AND #p > :p", b=a, r=eu, p={"N": "9"}) == [
        (10, "a"),
        (10, "x"),
        (100, "z"),
    ]
    got = _query(
        ddb, table, f"{both} AND #p = :p AND begins_with(#s, :s)", b=a, r=eu, p={"N": "10"},
        s={"S": "x"},
    )  # fmt: skip
    assert got == [(10, "x")]
    got = _query(ddb, table, f"{both} AND #p BETWEEN :lo AND :hi", b=a, r=eu, lo={"N": "9"},
                 hi={"N": "10"})  # fmt: skip
    assert got == [(9, "y"), (10, "a"), (10, "x")]


@pytest.mark.parametrize(
    ("condition", "values", "message"),
    [
        ("#b = :b", {"b": {"S": "a"}}, "must have equality conditions"),
        ("#b = :b AND #r = :r AND #s = :s", {"s": {"S": "x"}}, "must have equality conditions"),
        (
            "#b = :b AND #r = :r AND #p > :p AND #s = :s",
            {"p": {"N": "1"}, "s": {"S": "x"}},
            "must have equality conditions",
        ),
        (
            "#b = :b AND #r = :r AND #p >= :p AND #p < :q",
            {"p": {"N": "1"}, "q": {"N": "9"}},
            "one condition per key",
        ),
    ],
    ids=["one-of-two-pk", "skips-first-sk", "range-before-last", "half-open"],
)
def test_dynamodb_local_refuses_what_the_key_cannot_answer(
    orders: tuple[Any, str], condition: str, values: dict[str, Any], message: str
) -> None:
    ddb, table = orders
    values = {"b": {"S": "a"}, "r": {"S": "eu"}, **values} if ":r" in condition else values
    with pytest.raises(ClientError, match=message):
        _query(ddb, table, condition, **values)


def test_dynamodb_local_refuses_items_a_multi_attribute_key_cannot_hold(
    orders: tuple[Any, str], dynamodb_local: Any
) -> None:
    ddb, table = orders
    item = {"PK": {"S": "Q"}, "SK": {"S": "S"}, "brand": {"S": "a"}, "region": {"S": "eu"}}
    with pytest.raises(ClientError, match="empty string"):
        ddb.put_item(TableName=table, Item={**item, "placed": {"N": "1"}, "sku": {"S": ""}})
    with pytest.raises(ClientError, match="Type mismatch"):
        ddb.put_item(TableName=table, Item={**item, "placed": {"S": "1"}, "sku": {"S": "x"}})
    five = {
        **GSI,
        "KeySchema": [{"AttributeName": n, "KeyType": "HASH"} for n in ("brand", "region", "sku")]
        + [{"AttributeName": n, "KeyType": "HASH"} for n in ("PK", "SK")],
    }
    with pytest.raises(ClientError, match="at most 4 partition keys"):
        dynamodb_local.client().create_table(**_request(f"five_{uuid.uuid4().hex[:8]}", five))
