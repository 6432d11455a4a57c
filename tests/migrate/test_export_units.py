"""`migrate export` without the services: the ImportTable request against botocore's service
model, ImportTable's item rules, the DynamoDB JSON lines, the file roll, S3 upload (moto)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import validate_parameters

from modeling import api
from modeling.api import load_model, table_requests
from modeling.compile import compile_model
from modeling.migrate import export as ex
from modeling.migrate.errors import MigrationError
from modeling.migrate.sink import Sink

ROOT = Path(__file__).resolve().parents[2]
MODELS = [*sorted((ROOT / "models").glob("*.yaml")), ROOT / "tests" / "migrate" / "shop.yaml"]


def _import_shape() -> Any:
    import botocore.session

    service = botocore.session.get_session().get_service_model("dynamodb")
    return service.operation_model("ImportTable").input_shape


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_the_request_is_valid_for_botocore_and_is_the_compiled_table(path: Path) -> None:
    model = load_model(path)
    layout, _ = compile_model(model)
    assert layout is not None
    request, follow = ex.import_request(
        layout, model, "my-bucket", "exports/x/data/", client_token="t" * 36
    )
    validate_parameters(request, _import_shape())  # raises ParamValidationError on any problem
    create, post = table_requests(layout, model)
    params = request["TableCreationParameters"]
    for key in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode"):
        assert params[key] == create[key]
    assert params.get("GlobalSecondaryIndexes") == create.get("GlobalSecondaryIndexes")
    assert request["InputFormat"] == "DYNAMODB_JSON" and request["InputCompressionType"] == "GZIP"
    assert request["S3BucketSource"] == {"S3Bucket": "my-bucket", "S3KeyPrefix": "exports/x/data/"}
    # what ImportTable cannot set is a follow-up, none of it dropped
    assert follow.get("tag_resource", {}).get("Tags") == create.get("Tags")
    if "DeletionProtectionEnabled" in create:
        assert follow["update_table"]["DeletionProtectionEnabled"] is True
    for method, kwargs in post.items():
        assert follow[method] == kwargs


def test_an_invalid_request_is_refused_with_botocores_report() -> None:
    model = load_model(MODELS[-1])
    layout, _ = compile_model(model)
    assert layout is not None
    request, _ = ex.import_request(layout, model, "b", "p/data/")
    params = {k: v for k, v in request["TableCreationParameters"].items() if k != "KeySchema"}
    bad = {
        **request,
        "S3BucketSource": {"S3Bucket": "b", "S3KeyPrefix": 1},
        "TableCreationParameters": params,
    }
    with pytest.raises(MigrationError) as caught:
        ex.check_request(bad)
    assert "S3BucketSource.S3KeyPrefix" in str(caught.value)
    assert "KeySchema" in str(caught.value)


def test_local_secondary_indexes_cannot_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(MODELS[-1])
    layout, _ = compile_model(model)
    assert layout is not None
    real = api.table_requests

    def with_lsi(*args: Any, **kwargs: Any) -> Any:
        create, post = real(*args, **kwargs)
        lsi = {"IndexName": "LSI1", "KeySchema": [], "Projection": {"ProjectionType": "ALL"}}
        return {**create, "LocalSecondaryIndexes": [lsi]}, post

    monkeypatch.setattr(ex.api, "table_requests", with_lsi)
    with pytest.raises(MigrationError, match=r"LSI1.*GSIs only"):
        ex.import_request(layout, model, "b", "p/data/")


DEFINITION = {
    "AttributeDefinitions": [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
        {"AttributeName": "G1", "AttributeType": "N"},
        {"AttributeName": "G1S", "AttributeType": "B"},
    ],
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "GSI1",
            "KeySchema": [
                {"AttributeName": "G1", "KeyType": "HASH"},
                {"AttributeName": "G1S", "KeyType": "RANGE"},
            ],
        }
    ],
}


def _size(item: Any) -> int:
    return len(json.dumps(item, default=str))


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"PK": {"S": "a"}, "SK": {"S": "b"}}, None),
        ({"PK": {"S": "a"}, "SK": {"S": "b"}, "G1": {"N": "1"}, "G1S": {"B": b"x"}}, None),
        ({"SK": {"S": "b"}}, "table key attribute PK is missing"),
        ({"PK": {"N": "1"}, "SK": {"S": "b"}}, "PK is of type N; the table defines it as S"),
        ({"PK": {"S": ""}, "SK": {"S": "b"}}, "PK is 0 bytes; DynamoDB allows 1 to 2048"),
        ({"PK": {"S": "é" * 1025}, "SK": {"S": "b"}}, "PK is 2050 bytes"),
        (
            {"PK": {"S": "a"}, "SK": {"S": "x" * 1025}},
            "SK is 1025 bytes; DynamoDB allows 1 to 1024",
        ),
        (
            {"PK": {"S": "a"}, "SK": {"S": "b"}, "G1": {"S": "1"}},
            "GSI GSI1 key attribute G1 is of type S",
        ),
        (
            {"PK": {"S": "a"}, "SK": {"S": "b"}, "G1S": {"B": base64.b64encode(b"").decode()}},
            "G1S is 0 bytes",
        ),
        ({"PK": {"S": "a"}, "SK": {"S": "b"}, "big": {"S": "x" * 409_600}}, "ItemTooLarge"),
    ],
)
def test_importtable_item_rules(item: dict[str, Any], problem: str | None) -> None:
    found = ex.import_problem(item, ex.key_slots(DEFINITION), _size)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_a_line_is_the_dynamodb_json_import_format_and_round_trips() -> None:
    item = {
        "PK": {"S": 'C#1|ö🚀\n"x\\'},
        "n": {"N": "-1.50"},
        "b": {"B": b"\x00\xff"},
        "bs": {"BS": [b"a", b"b"]},
        "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"B": b"\x01"}]}}},
        "ss": {"SS": ["x", "y"]},
    }
    line = ex.item_line(item)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "Item": {
            "PK": {"S": 'C#1|ö🚀\n"x\\'},
            "n": {"N": "-1.50"},
            "b": {"B": "AP8="},
            "bs": {"BS": ["YQ==", "Yg=="]},
            "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"B": "AQ=="}]}}},
            "ss": {"SS": ["x", "y"]},
        }
    }
    assert "ö🚀".encode() in line  # UTF-8, not \u escapes
    assert ex.item_from_line(line) == item
    with pytest.raises(ValueError):
        ex.item_from_line(b'{"PK": {"S": "a"}}')


def _write(root: Path, n: int, cap: int, on_close: Any = None) -> ex.PartWriter:
    closed: list[str] = []
    writer = ex.PartWriter(root, cap, on_close or (lambda p, f: closed.append(f.file)))
    for i in range(n):
        # hex digests: about as compressible as real rows (deflate emits output in blocks, so
        # a run of identical text would stay in the compressor far past a tiny cap)
        value = hashlib.sha256(str(i).encode()).hexdigest()[: i % 64]
        writer.write(ex.item_line({"PK": {"S": f"k{i:05d}"}, "v": {"S": value}}))
    writer.close()
    return writer


def test_files_roll_at_the_cap_and_the_bytes_are_deterministic(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", 3_000, 4_096)
    b = _write(tmp_path / "b", 3_000, 4_096)
    assert len(a.files) > 3 and sum(f.items for f in a.files) == 3_000
    assert [f.sha256 for f in a.files] == [f.sha256 for f in b.files]
    for f in a.files[:-1]:
        assert f.bytes >= 4_096
    for f in a.files:
        data = (tmp_path / "a" / f.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256 and len(data) == f.bytes
        assert len(gzip.decompress(data)) == f.uncompressed_bytes
    assert _write(tmp_path / "c", 0, 4_096).files == []  # nothing to write: no empty file


def test_more_files_than_importtable_reads_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ex, "IMPORT_OBJECTS", 2)
    with pytest.raises(MigrationError, match="more than 2 files"):
        _write(tmp_path, 3_000, 64)


def _manifest(root: Path, writer: ex.PartWriter) -> None:
    report = ex.ExportReport("m", "T", 5, "0" * 64, files=writer.files)
    (root / ex.MANIFEST).write_text(json.dumps(report.manifest()))


class _Client:
    def __init__(self) -> None:
        self.requests: list[int] = []
        self.keys: set[str] = set()

    def batch_write_item(self, RequestItems: Any) -> Any:
        (requests,) = RequestItems.values()
        keys = [r["PutRequest"]["Item"]["PK"]["S"] for r in requests]
        assert len(set(keys)) == len(keys)
        self.requests.append(len(requests))
        self.keys.update(keys)
        return {}


def test_the_loader_checks_the_files_and_writes_batches_of_25(tmp_path: Path) -> None:
    writer = _write(tmp_path, 1_000, 8_192)
    _manifest(tmp_path, writer)
    client = _Client()
    loaded = ex.load_export(tmp_path, Sink(client, "T", ("PK",), _size), batch=300)
    assert loaded.items == 1_000 and len(client.keys) == 1_000
    assert max(client.requests) == 25
    # a changed file is refused before any of its items is used
    first = tmp_path / writer.files[0].file
    first.write_bytes(gzip.compress(b'{"Item": {"PK": {"S": "x"}}}\n'))
    with pytest.raises(MigrationError, match="checksum does not match"):
        ex.load_export(tmp_path, Sink(_Client(), "T", ("PK",), _size))
    # a malformed line is named by file and line
    writer.files[0].sha256 = hashlib.sha256(first.read_bytes()).hexdigest()
    first.write_bytes(gzip.compress(b'{"Item": {"PK": {"S": "x"}}}\nnot json\n'))
    writer.files[0].sha256 = hashlib.sha256(first.read_bytes()).hexdigest()
    _manifest(tmp_path, writer)
    with pytest.raises(MigrationError, match=r"part-000000\.json\.gz:2:"):
        ex.load_export(tmp_path, Sink(_Client(), "T", ("PK",), _size))


def test_s3_upload_puts_each_file_and_refuses_a_used_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto import mock_aws

    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bkt")
        upload = ex.S3Upload("bkt", "exp/1", keep=False, client=s3)
        upload.check_empty()
        writer = _write(tmp_path, 500, 2_048, lambda p, f: upload.put(p, f.file))
        listed = s3.list_objects_v2(Bucket="bkt")["Contents"]
        assert sorted(o["Key"] for o in listed) == [f"exp/1/{f.file}" for f in writer.files]
        for f in writer.files:
            body = s3.get_object(Bucket="bkt", Key=f"exp/1/{f.file}")["Body"].read()
            assert hashlib.sha256(body).hexdigest() == f.sha256
            assert not (tmp_path / f.file).exists()  # uploaded, then removed (keep=False)
        with pytest.raises(MigrationError, match="already holds objects"):
            upload.check_empty()
        ex.S3Upload("bkt", "exp/2", keep=False, client=s3).check_empty()  # another prefix: fine


def test_s3_urls() -> None:
    assert ex.parse_s3("s3://bkt/x/y/") == ("bkt", "x/y")
    assert ex.parse_s3("s3://bkt") == ("bkt", "")
    assert ex.data_prefix("x/y") == "x/y/data/" and ex.data_prefix("") == "data/"
    # "b" (one character), capitals, an IP address: names S3 refuses (issue 18)
    for bad in ("b/x", "s3:///x", "s3://b/x", "s3://Bkt/x", "s3://10.0.0.1/x"):
        with pytest.raises(MigrationError):
            ex.parse_s3(bad)


def test_cli_needs_a_destination_and_start_needs_s3(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from modeling.cli import app

    model = str(MODELS[-1])
    nowhere = CliRunner().invoke(app, ["migrate", "export", model, "--source", "postgresql://x"])
    assert nowhere.exit_code == 2 and "give -o DIR or --s3" in nowhere.output
    local = ["migrate", "export", model, "--source", "postgresql://x", "-o", str(tmp_path)]
    start = CliRunner().invoke(app, [*local, "--start"])
    assert start.exit_code == 2 and "--start needs --s3" in start.output


def test_an_output_directory_holding_data_is_refused(tmp_path: Path) -> None:
    model = load_model(MODELS[-1])
    layout, _ = compile_model(model)
    assert layout is not None
    (tmp_path / ex.DATA).mkdir()
    (tmp_path / ex.DATA / "part-000000.json.gz").write_bytes(b"old")
    exporter = ex.Exporter(model, layout, "postgresql://unused", ex.ExportOptions(progress=False))
    with pytest.raises(MigrationError, match="is not empty: an import reads every file"):
        exporter.run(tmp_path)
