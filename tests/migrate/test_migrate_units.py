"""Fast unit tests of the migration's parts (no services; moto where DynamoDB is needed)."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.migrate import transformers
from modeling.migrate.errors import MigrationError
from modeling.migrate.plan import Chunk, EntityPlan, Plan, load_plan
from modeling.migrate.sink import BATCH_BYTES, Sink, SinkError, TokenBucket, wcu
from modeling.migrate.validate import differing_attributes, normalise
from modeling.migrate.versioning import version_number, version_sources

SHOP = Path(__file__).with_name("shop.yaml")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_token_bucket_caps_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, clock=clock.time, sleep=clock.sleep)
    assert bucket.take(100) == 0  # a full bucket: one second's worth at once
    waited = bucket.take(50)
    assert waited == pytest.approx(0.5)
    for _ in range(10):
        bucket.take(100)
    assert clock.now == pytest.approx(10.5)  # 1,050 units beyond the first 100 at 100/s
    assert bucket.take(10_000) == pytest.approx(1.0)  # larger than capacity: one full bucket


def test_wcu_is_one_per_started_kilobyte() -> None:
    assert [wcu(n) for n in (0, 1, 1024, 1025, 4096, 4097)] == [1, 1, 1, 2, 4, 5]


def _item(pk: str, version: int, size: int = 10) -> dict[str, Any]:
    return {
        "PK": {"S": pk},
        "SK": {"S": "X"},
        "_version": {"N": str(version)},
        "n": {"N": str(size)},
    }


def _size(item: Any) -> int:
    return int(item["n"]["N"])


class ScriptedClient:
    """batch_write_item answers from a script: 'ok', 'half' (half unprocessed) or an error code."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.calls: list[list[Any]] = []
        self.written: list[Any] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.calls.append(requests)
        step = self.script.pop(0) if self.script else "ok"
        if step == "ok":
            self.written.extend(r["PutRequest"]["Item"] for r in requests)
            return {"UnprocessedItems": {}}
        if step == "half":
            half = len(requests) // 2
            self.written.extend(r["PutRequest"]["Item"] for r in requests[:half])
            return {"UnprocessedItems": {table: requests[half:]}}
        raise ClientError({"Error": {"Code": step, "Message": step}}, "BatchWriteItem")


def _sink(client: Any, clock: FakeClock, **kw: Any) -> Sink:
    return Sink(client, "T", ("PK", "SK"), _size, sleep=clock.sleep, rng=random.Random(1), **kw)


def test_batches_hold_at_most_25_items_and_16_mb_and_one_request_per_key() -> None:
    clock = FakeClock()
    client = ScriptedClient([])
    sink = _sink(client, clock)
    items = [_item(f"k{i}", 1) for i in range(60)] + [_item("k5", 9), _item("k7", 0)]
    assert sink.write(items) == 60
    assert [len(c) for c in client.calls] == [25, 25, 10]
    assert sink.stats.duplicates == 2
    written = {i["PK"]["S"]: i["_version"]["N"] for i in client.written}
    assert written["k5"] == "9" and written["k7"] == "1"  # the newest version kept
    big = [_item(f"b{i}", 1, size=6 * 1024 * 1024) for i in range(5)]
    client.calls.clear()
    sink.write(big)
    assert [len(c) for c in client.calls] == [2, 2, 1]
    assert all(sum(_size(r["PutRequest"]["Item"]) for r in c) <= BATCH_BYTES for c in client.calls)


def test_unprocessed_items_and_throttling_are_retried_with_full_jitter() -> None:
    clock = FakeClock()
    script = ["half", "ProvisionedThroughputExceededException", "InternalServerError", "half"]
    client = ScriptedClient(script)
    sink = _sink(client, clock, base_delay=0.1, max_delay=1.0)
    assert sink.write([_item(f"k{i}", 1) for i in range(20)]) == 20
    assert sorted(i["PK"]["S"] for i in client.written) == sorted(f"k{i}" for i in range(20))
    assert sink.stats.retries == 4 and sink.stats.unprocessed == 10 + 5
    assert len(clock.sleeps) == 4
    for attempt, delay in enumerate(clock.sleeps):
        assert 0 <= delay <= min(1.0, 0.1 * 2**attempt)


def test_gives_up_after_max_attempts_and_never_retries_a_validation_error() -> None:
    clock = FakeClock()
    sink = _sink(ScriptedClient(["half"] * 50), clock, max_attempts=3)
    with pytest.raises(SinkError, match="unprocessed after 3 retries"):
        sink.write([_item(f"k{i}", 1) for i in range(16)])
    sink = _sink(ScriptedClient(["ValidationException"]), clock)
    with pytest.raises(ClientError):
        sink.write([_item("a", 1)])
    assert sink.stats.retries == 0


def test_put_if_newer_never_replaces_a_newer_version(moto_dynamodb: Any) -> None:
    client = moto_dynamodb
    client.create_table(
        TableName="T",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    sink = Sink(client, "T", ("PK", "SK"), _size)
    assert sink.put_if_newer(_item("a", 2)) is True
    assert sink.put_if_newer(_item("a", 1)) is False
    assert sink.put_if_newer(_item("a", 2)) is False
    got = client.get_item(TableName="T", Key={"PK": {"S": "a"}, "SK": {"S": "X"}})["Item"]
    assert got["_version"] == {"N": "2"}
    assert sink.put_if_newer(_item("a", 3)) is True
    assert sink.stats.conditional_skipped == 2 and sink.stats.conditional_writes == 2


def test_versions() -> None:
    t = dt.datetime(2024, 1, 1, 0, 0, 1, 5, tzinfo=dt.UTC)
    assert version_number(t) == 1_704_067_201_000_005
    assert version_number(t.replace(tzinfo=None)) == version_number(t)
    assert version_number(
        dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    ) == (1_704_067_200_000_000)
    assert version_number("4294967295") == 4294967295
    with pytest.raises(ValueError):
        version_number(True)
    model = load_model(SHOP)
    sources = version_sources(model, "updated_at")
    assert sources["Customer"].attribute == "updated_at" and sources["Order"].is_xmin
    with pytest.raises(MigrationError, match="integer or a datetime"):
        version_sources(model, "email")


def test_plan_manifest_round_trip_and_checksum(tmp_path: Path) -> None:
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "chunk-000000.csv").write_text("id\n1\n2\n")
    import hashlib

    digest = hashlib.sha256(b"id\n1\n2\n").hexdigest()
    plan = Plan(
        "m",
        2,
        {
            "A": EntityPlan(
                "A", ("id",), 2, [Chunk("A", "A/chunk-000000.csv", 2, ("1",), ("2",), digest)]
            )
        },
    )
    (tmp_path / "manifest.json").write_text(plan.to_json())
    assert load_plan(tmp_path).to_json() == plan.to_json()
    (tmp_path / "A" / "chunk-000000.csv").write_text("id\n1\n3\n")
    with pytest.raises(MigrationError, match="checksum"):
        load_plan(tmp_path)


def test_validate_compares_numbers_and_sets_as_dynamodb_does() -> None:
    assert normalise({"N": "1.50"}) == normalise({"N": "1.5"})
    assert normalise({"SS": ["b", "a"]}) == normalise({"SS": ["a", "b"]})
    assert normalise({"M": {"x": {"N": "10"}}}) == normalise({"M": {"x": {"N": "1E+1"}}})
    assert differing_attributes(
        {"a": {"S": "x"}, "b": {"N": "1"}}, {"a": {"S": "y"}, "c": {"S": ""}}
    ) == ["a", "b", "c"]


def test_cli_reports_an_unreachable_source_without_a_traceback(tmp_path: Path) -> None:
    from modeling.cli import app

    result = CliRunner().invoke(
        app,
        ["migrate", "plan", str(SHOP), "--source", "postgresql://127.0.0.1:1/none?connect_timeout=2",
         "--out", str(tmp_path / "plan")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "cannot connect to the source" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(
        app, ["migrate", "run", str(tmp_path / "missing.yaml"), "--source", "x"]
    )
    assert result.exit_code == 2 and "missing.yaml" in result.output


def test_plan_upload_and_download_through_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    import boto3
    from moto import mock_aws

    from modeling.migrate.plan import download_plan, upload_plan

    src = tmp_path / "src"
    (src / "A").mkdir(parents=True)
    data = b"id\n1\n2\n"
    (src / "A" / "chunk-000000.csv").write_bytes(data)
    chunk = Chunk("A", "A/chunk-000000.csv", 2, ("1",), ("2",), hashlib.sha256(data).hexdigest())
    plan = Plan("m", 2, {"A": EntityPlan("A", ("id",), 2, [chunk])})
    (src / "manifest.json").write_text(plan.to_json())
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="plans-bucket")
        upload_plan(src, "s3://plans-bucket/runs/a/")
        download_plan("s3://plans-bucket/runs/a", tmp_path / "dst")
    assert load_plan(tmp_path / "dst").to_json() == plan.to_json()
    assert (tmp_path / "dst" / "A" / "chunk-000000.csv").read_bytes() == data


def test_generated_transformers_leave_no_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner imports the transformers emitted afresh; their files are gone after import and
    the module still converts rows (run, validate and demo used to leave model-migrate-* behind)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    text = (Path(__file__).parent / "shop.yaml").read_text("utf-8")
    text += f"\n# distinct text, so this test emits afresh: {tmp_path.name}\n"
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    module = transformers.generate(layout, model)
    assert [p.name for p in tmp_path.iterdir()] == ["shop.yaml"]
    assert callable(transformers.entity_function(module, model.entities[0].name))
