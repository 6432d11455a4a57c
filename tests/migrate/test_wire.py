"""The wire BatchWriteItem path (`modeling.migrate.wire`) and the sink's write pool."""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EndpointConnectionError

from modeling.migrate.sink import Sink, retryable
from modeling.migrate.wire import WireClient, parse_response
from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_SECRET_KEY


def _headers(body: bytes) -> dict[str, str]:
    return {"x-amz-crc32": str(zlib.crc32(body))}


def test_a_2xx_response_is_its_json_body() -> None:
    body = json.dumps({"UnprocessedItems": {"T": [{"PutRequest": {"Item": {}}}]}}).encode()
    assert parse_response(200, _headers(body), body) == {
        "UnprocessedItems": {"T": [{"PutRequest": {"Item": {}}}]}
    }


def test_error_responses_become_botocores_client_error_with_the_service_code() -> None:
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ValidationException",
            "message": "Too many items requested for the BatchWriteItem call",
        }
    ).encode()
    with pytest.raises(ClientError) as bad:
        parse_response(400, _headers(body), body)
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    assert "Too many items" in bad.value.response["Error"]["Message"]
    assert not retryable(bad.value)

    body = json.dumps(
        {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"}
    ).encode()
    with pytest.raises(ClientError) as throttled:
        parse_response(400, _headers(body), body)
    assert throttled.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert retryable(throttled.value)

    # a 5xx without a JSON body (a load balancer's page) is still an error, and retryable
    with pytest.raises(ClientError) as gateway:
        parse_response(502, {}, b"<html>Bad Gateway</html>")
    assert gateway.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert retryable(gateway.value)


def test_a_corrupted_response_is_detected_by_its_crc32_and_retried() -> None:
    body = b'{"UnprocessedItems":{}}'
    with pytest.raises(ClientError) as corrupted:
        parse_response(200, {"x-amz-crc32": str(zlib.crc32(body) ^ 1)}, body)
    assert "CRC32" in corrupted.value.response["Error"]["Message"]
    assert retryable(corrupted.value)


def test_a_dropped_connection_is_retryable_and_a_programming_error_is_not() -> None:
    assert retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert not retryable(ValueError("bug"))
    assert not retryable(
        ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "BatchWriteItem")
    )


class SlowClient:
    """Counts requests in flight; fails the request whose first key is `fail_on`."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.written: list[str] = []
        self.fail_on = fail_on

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((_, requests),) = RequestItems.items()
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(0.02)
        with self.lock:
            self.in_flight -= 1
        first = requests[0]["PutRequest"]["Item"]["PK"]["S"]
        if first == self.fail_on:
            raise ClientError({"Error": {"Code": "ValidationException"}}, "BatchWriteItem")
        with self.lock:
            self.written.extend(r["PutRequest"]["Item"]["PK"]["S"] for r in requests)
        return {"UnprocessedItems": {}}


def _items(n: int) -> list[dict[str, Any]]:
    return [{"PK": {"S": f"k{i:04}"}, "SK": {"S": "X"}, "_version": {"N": "1"}} for i in range(n)]


def test_the_write_pool_keeps_several_requests_in_flight_and_writes_everything() -> None:
    client = SlowClient()
    sink = Sink(client, "T", ("PK", "SK"), lambda item: 10, writers=6)
    try:
        assert sink.write(_items(300)) == 300
    finally:
        sink.close()
    assert sorted(client.written) == [f"k{i:04}" for i in range(300)]
    assert client.peak > 1  # 12 requests of 25, up to 6 at once
    assert client.peak <= 6
    assert sink.stats.batches == 12 and sink.stats.items_written == 300


def test_a_failed_request_in_the_pool_fails_the_write_after_the_others_finish() -> None:
    client = SlowClient(fail_on="k0050")
    sink = Sink(client, "T", ("PK", "SK"), lambda item: 10, writers=4)
    try:
        with pytest.raises(ClientError):
            sink.write(_items(200))
    finally:
        sink.close()
    # the write did not return early: every other request had finished (none left in flight)
    assert client.in_flight == 0
    assert len(client.written) == 200 - 25
    assert sink.stats.items_written == 0  # the caller does not count (or checkpoint) a failed write


# ----------------------------------------------------------------- against DynamoDB Local


@pytest.fixture
def wire_table(dynamodb_local: Any) -> Iterator[tuple[Any, WireClient, str]]:
    client = dynamodb_local.client()
    name = f"Wire{random.randrange(10**9)}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    wire = WireClient(client, Credentials(DYNAMODB_ACCESS_KEY, DYNAMODB_SECRET_KEY))
    yield client, wire, name
    wire.close()
    client.delete_table(TableName=name)


@pytest.mark.e2e
def test_wire_writes_the_same_items_boto3_writes(wire_table: Any) -> None:
    boto, wire, table = wire_table
    item = {
        "SK": {"N": "1"},
        "s": {"S": 'naïve — ünïcødé ✓ "quoted" \\ back\nslash'},
        "n": {"N": "-12345678901234567890.000001"},
        "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "m": {"M": {"nested": {"L": [{"BOOL": True}, {"NULL": True}, {"S": "x"}]}}},
    }
    # the transformers give B/BS values as bytes, like boto3 takes them; the wire client
    # sends them as base64 text (what botocore puts on the wire)
    item["bs"] = {"BS": [b"\x01", b"\x02\x03"]}
    wire_item = {**item, "PK": {"S": "wire"}}
    boto_item = {**item, "PK": {"S": "boto"}}
    assert wire.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": wire_item}}]}) == {
        "UnprocessedItems": {}
    }
    boto.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": boto_item}}]})
    got = {
        pk: boto.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"N": "1"}})["Item"]
        for pk in ("wire", "boto")
    }
    got["wire"].pop("PK")
    got["boto"].pop("PK")
    assert got["wire"] == got["boto"]
    assert Decimal(got["wire"]["n"]["N"]) == Decimal("-12345678901234567890.000001")
    # calls other than batch_write_item go to the wrapped boto3 client
    assert wire.describe_table(TableName=table)["Table"]["TableName"] == table


@pytest.mark.e2e
def test_wire_errors_are_dynamodbs_own(wire_table: Any) -> None:
    _, wire, table = wire_table
    requests = [
        {"PutRequest": {"Item": {"PK": {"S": f"k{i}"}, "SK": {"N": "1"}}}} for i in range(26)
    ]
    with pytest.raises(ClientError) as too_many:
        wire.batch_write_item(RequestItems={table: requests})
    assert too_many.value.response["Error"]["Code"] == "ValidationException"
    assert not retryable(too_many.value)
    with pytest.raises(ClientError) as missing:
        wire.batch_write_item(RequestItems={"NoSuchTable": requests[:1]})
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    wrong_type = {"PutRequest": {"Item": {"PK": {"S": "k"}, "SK": {"S": "not a number"}}}}
    with pytest.raises(ClientError) as mismatch:
        wire.batch_write_item(RequestItems={table: [wrong_type]})
    assert mismatch.value.response["Error"]["Code"] == "ValidationException"
