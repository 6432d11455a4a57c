"""AWS failures name the service that failed (issue 18): an S3 error (plan download or
upload, export) was reported as "DynamoDB: ..." with DynamoDB's hint (check --endpoint).
Each failure here comes from a real botocore client (moto, or no credentials at all)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modeling.migrate.errors import aws_failure

SHOP = str(Path(__file__).parent / "shop.yaml")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS credentials anywhere botocore looks (env, files, instance metadata)."""
    import os

    for var in list(os.environ):
        if var.startswith("AWS_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, empty: no bucket, no table, no queue, no function."""
    from moto import mock_aws

    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from modeling.cli import app

    return CliRunner().invoke(app, list(args))


def _raised(call: Any) -> Exception:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        call()
    except (BotoCoreError, ClientError) as exc:
        return exc
    raise AssertionError("the call did not fail")


# ------------------------------------------------------------------ the one description


def test_s3_without_credentials_is_an_s3_credentials_error(no_credentials: None) -> None:
    import boto3

    exc = _raised(lambda: boto3.client("s3").list_objects_v2(Bucket="plans"))
    error = aws_failure(exc)
    assert str(error).startswith("S3 (bucket plans): ")
    assert "DynamoDB" not in str(error)
    assert error.hint is not None
    assert "AWS_PROFILE" in error.hint and "--endpoint" not in error.hint


def test_s3_missing_bucket_says_bucket(aws: None) -> None:
    import boto3

    s3 = boto3.client("s3")
    exc = _raised(lambda: s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x"))
    error = aws_failure(exc)
    assert str(error).startswith("S3 (bucket no-such-bucket): ")
    assert "NoSuchBucket" in str(error)
    assert error.hint is not None and "bucket" in error.hint and "region" in error.hint


def test_dynamodb_missing_table_keeps_its_hint(aws: None) -> None:
    import boto3

    exc = _raised(lambda: boto3.client("dynamodb").scan(TableName="Nope"))
    error = aws_failure(exc)
    assert str(error).startswith("DynamoDB (table Nope): ")
    assert error.hint is not None and "--table" in error.hint


def test_sqs_and_lambda_are_named(aws: None) -> None:
    import boto3

    sqs = boto3.client("sqs")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/nope"
    exc = _raised(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"))
    error = aws_failure(exc)
    assert str(error).startswith("SQS (queue "), error
    assert error.hint is not None and "queue" in error.hint

    exc = _raised(lambda: boto3.client("lambda").get_function(FunctionName="nope"))
    error = aws_failure(exc)
    assert str(error).startswith("Lambda (function nope): "), error
    assert error.hint is not None and "region" in error.hint


def test_an_unreachable_dynamodb_endpoint_says_endpoint(no_credentials: None) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    error = aws_failure(_raised(lambda: client.list_tables()))
    assert str(error).startswith("DynamoDB: ")
    assert error.hint is not None and "--endpoint" in error.hint


# ------------------------------------------------------------------ through the CLI


def test_cli_plan_download_without_credentials_blames_s3(
    no_credentials: None, tmp_path: Path
) -> None:
    result = _cli(
        "migrate", "run", SHOP, "--source", "postgresql://nobody@127.0.0.1:9/none",
        "--plan", "s3://plans-bucket/runs/1", "--checkpoint", str(tmp_path / "cp"),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "error: S3 (bucket plans-bucket): Unable to locate credentials" in result.output
    assert "DynamoDB" not in result.output
    assert "AWS_PROFILE" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_cli_plan_download_from_a_missing_bucket_blames_the_bucket(
    aws: None, tmp_path: Path
) -> None:
    result = _cli(
        "migrate", "run", SHOP, "--source", "postgresql://nobody@127.0.0.1:9/none",
        "--plan", "s3://no-such-bucket/runs/1", "--checkpoint", str(tmp_path / "cp"),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "error: S3 (bucket no-such-bucket): " in result.output
    assert "NoSuchBucket" in result.output
    assert "hint: " in result.output and "bucket" in result.output.split("hint: ")[1]
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_cli_missing_dynamodb_table_blames_dynamodb(aws: None) -> None:
    result = _cli("migrate", "tombstones", "purge", SHOP, "--table", "NoSuchTable")
    assert result.exit_code == 2, result.output
    assert "error: DynamoDB (table NoSuchTable): " in result.output
    assert "ResourceNotFoundException" in result.output
    assert "--table" in result.output.split("hint: ")[1]
    assert isinstance(result.exception, SystemExit)
