"""`model migrate package`: the AWS mode's deployment zips.

- code.zip: byte-identical for the same model, entries sorted with fixed time and mode, the
  same files `model compile` writes; importable from the extracted zip in a fresh interpreter;
  its worker and publisher move a plan into the table (moto S3/SQS, the real PostgreSQL and
  DynamoDB Local), exactly as the handlers under test_migrate_aws.py do from the emitters.
- the psycopg layer (e2e: needs the package index): psycopg + psycopg_binary for cp312 and the
  arch, WHEEL tags, deterministic; imported under a real python3.12 when the machine has one.
- S3 upload and publish_layer_version on moto; bad input exits 2 with a message and a hint.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from modeling.cli import app
from modeling.emit import emit
from modeling.emit.migration_stack import RUNTIME, package_name, stack_template
from modeling.migrate import transformers
from modeling.migrate.errors import MigrationError
from modeling.migrate.package import (
    LayerSpec,
    PackageOptions,
    code_files,
    code_zip,
    content_key,
    deterministic_zip,
    extract,
    installed_psycopg,
    layer_zip,
    package,
    parse_s3_url,
    pip_command,
    publish_layer,
    stack_architecture,
)
from modeling.migrate.plan import make_plan, upload_plan
from modeling.migrate.validate import validate
from modeling.verify.dynamo import create_table

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "models" / "catalog.yaml"


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _which_python(version: str) -> str | None:
    """A `pythonX.Y` that really runs (a pyenv shim may exist without the version selected)."""
    candidates = [
        *sorted(map(str, Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}"))),
        shutil.which(f"python{version}"),
    ]
    for candidate in reversed([c for c in candidates if c]):
        done = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


PY312 = _which_python(RUNTIME.removeprefix("python"))


# --------------------------------------------------------------------------- code.zip


def test_code_zip_is_byte_identical_sorted_with_fixed_time_and_mode(shop: Any) -> None:
    first, second = code_zip(shop.layout, shop.model), code_zip(shop.layout, shop.model)
    assert first == second
    infos = zipfile.ZipFile(io.BytesIO(first)).infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    # exactly the files `model compile` writes, under the package name the handlers use
    pkg = package_name(shop.model)
    manifest = emit(shop.layout, shop.model)
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        contents = {n: z.read(n).decode() for n in z.namelist()}
    assert contents == {f"{pkg}/{rel}": text for rel, text in manifest.items()}
    for needed in ("__init__.py", "_keys.py", "transformers.py", "migration/__init__.py",
                   "migration/worker.py", "migration/publisher.py"):  # fmt: skip
        assert f"{pkg}/{needed}" in contents


def test_code_zip_changes_with_the_model_and_so_does_its_key(shop: Any, tmp_path: Path) -> None:
    from modeling.api import load_model
    from modeling.compile import compile_model

    text = shop.model.file and Path(shop.model.file).read_text(encoding="utf-8")
    assert text
    changed = tmp_path / "shop.yaml"
    changed.write_text(text + "\n# a comment changes the input hash in every header\n")
    model = load_model(changed)
    layout, _ = compile_model(model)
    assert layout is not None
    a, b = code_zip(shop.layout, shop.model), code_zip(layout, model)
    assert a != b
    assert content_key("p", "code", a) != content_key("p", "code", b)
    assert content_key("p/q", "code", a).startswith("p/q/code-") and content_key("", "code", a)[
        :5
    ] == ("code-")


def test_missing_init_files_are_added_for_every_python_directory(shop: Any) -> None:
    files = code_files(shop.layout, shop.model)
    pkg = package_name(shop.model)
    python_dirs = {n.rsplit("/", 1)[0] for n in files if n.endswith(".py")}
    assert python_dirs >= {pkg, f"{pkg}/migration"}
    assert all(f"{d}/__init__.py" in files for d in python_dirs)


def test_s3_urls_split_into_bucket_and_prefix() -> None:
    assert parse_s3_url("s3://code-bucket/a/b/") == ("code-bucket", "a/b")
    assert parse_s3_url("s3://code.bucket-1") == ("code.bucket-1", "")
    for bad in ("s3://ab/x", "s3://a..b/x", "s3://-ab/x", "gs://bucket/x"):
        with pytest.raises(MigrationError):
            parse_s3_url(bad)


def test_deterministic_zip_refuses_member_names_escaping_the_root() -> None:
    for bad in ("../x.py", "/abs.py", "a//b.py", "a\\b.py", ""):
        with pytest.raises(ValueError):
            deterministic_zip({bad: b""})
    assert deterministic_zip({"b": b"2", "a": b"1"}) == deterministic_zip({"a": b"1", "b": b"2"})


def test_cli_writes_the_same_bytes_twice_and_the_files_compile_writes(tmp_path: Path) -> None:
    outs = [tmp_path / "one", tmp_path / "two"]
    for out in outs:
        result = _cli("migrate", "package", str(CATALOG), "--out", str(out), "--no-layer", "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["missing_parameters"] == ["CodeBucket", "CodeKey", "PsycopgLayerArn"]
        assert data["layer_zip"] is None and not (out / "psycopg-layer.zip").exists()
    one, two = ((o / "code.zip").read_bytes() for o in outs)
    assert one == two
    extracted = tmp_path / "x"
    extract(one, extracted)
    compiled = tmp_path / "compiled"
    assert _cli("compile", str(CATALOG), "-o", str(compiled)).exit_code == 0
    on_disk = {p.relative_to(compiled).as_posix() for p in compiled.rglob("*") if p.is_file()}
    in_zip = {
        p.relative_to(extracted / "catalog").as_posix()
        for p in (extracted / "catalog").rglob("*")
        if p.is_file()
    }
    assert in_zip == on_disk
    assert all(
        (extracted / "catalog" / rel).read_bytes() == (compiled / rel).read_bytes()
        for rel in on_disk
    )


_IMPORT = """
import json, sys
sys.path.insert(0, sys.argv[1])
pkg = sys.argv[2]
import importlib
worker = importlib.import_module(pkg + ".migration.worker")
publisher = importlib.import_module(pkg + ".migration.publisher")
print(json.dumps({
    "worker": worker.__file__, "publisher": publisher.__file__,
    "callable": [callable(worker.handler), callable(publisher.handler)],
    "psycopg_loaded": "psycopg" in sys.modules,
}))
"""


@pytest.mark.parametrize("interpreter", ["current", RUNTIME])
def test_extracted_code_zip_imports_the_handlers_in_a_fresh_interpreter(
    shop: Any, tmp_path: Path, interpreter: str
) -> None:
    python = sys.executable if interpreter == "current" else PY312
    if python is None:
        pytest.skip(f"no {RUNTIME} interpreter on this machine (the current one was checked)")
    root = tmp_path / "unzipped"
    extract(code_zip(shop.layout, shop.model), root)
    pkg = package_name(shop.model)
    done = subprocess.run(
        [python, "-I", "-c", _IMPORT, str(root), pkg], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["callable"] == [True, True]
    assert out["worker"] == str(root / pkg / "migration" / "worker.py")
    assert out["publisher"] == str(root / pkg / "migration" / "publisher.py")
    assert out["psycopg_loaded"] is False  # psycopg comes from the layer, imported lazily


def _drain(sqs: Any, queue_url: str, worker: Any) -> tuple[int, int]:
    """Feed the queue to the worker as Lambda's event source mapping would."""
    seen = failed = 0
    while got := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"]} for m in got]}
        bad = {f["itemIdentifier"] for f in worker.handler(event, None)["batchItemFailures"]}
        failed += len(bad)
        seen += len(got)
        for m in got:
            if m["MessageId"] not in bad:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return seen, failed


def test_the_zips_handlers_move_a_plan_into_the_table(
    shop: Any, source_db: Any, dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    dsn, counts = source_db(1_500)
    plan = make_plan(dsn, shop.model, tmp_path / "plan", chunk_size=300)
    root = tmp_path / "unzipped"
    extract(code_zip(shop.layout, shop.model), root)
    name = f"_zip_{uuid.uuid4().hex[:8]}"  # the zip's directory, imported under a fresh name
    transformers._import_package(root / package_name(shop.model), name)
    publisher = importlib.import_module(f"{name}.migration.publisher")
    worker = importlib.import_module(f"{name}.migration.worker")
    assert Path(worker.__file__).is_relative_to(root)

    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)  # not mocked
    with mock_aws():
        s3, sqs, ddb = boto3.client("s3"), boto3.client("sqs"), boto3.client("dynamodb")
        table = f"ShopZip-{uuid.uuid4().hex[:8]}"
        create_table(ddb, shop.layout, table)
        s3.create_bucket(Bucket="plans-bucket")
        queue_url = sqs.create_queue(QueueName="work")["QueueUrl"]
        upload_plan(tmp_path / "plan", "s3://plans-bucket/runs/zip")
        for var, value in {"QUEUE_URL": queue_url, "DSN": dsn, "IDS_PER_MESSAGE": "70",
                           "TABLE_NAME": table, "DEAD_LETTER_BUCKET": "plans-bucket"}.items():  # fmt: skip
            monkeypatch.setenv(var, value)

        out = publisher.handler({"bucket": "plans-bucket", "prefix": "runs/zip"}, None)
        expected = sum(math.ceil(c.rows / 70) for c in plan.chunks())
        assert out["messages"] == expected
        assert _drain(sqs, queue_url, worker) == (expected, 0)
        result = validate(shop.model, shop.layout, dsn, ddb, None, table, module=shop.module)
    assert result.ok, result.markdown()
    assert result.totals()["checked"] == sum(counts.values())


# --------------------------------------------------------------------------- the stack's arch


def test_the_emitted_stack_takes_the_architecture_as_a_parameter(shop: Any) -> None:
    template = stack_template(shop.layout, shop.model)
    assert stack_architecture(template, "x86_64") == {"Architecture": "x86_64"}
    assert stack_architecture(template, "arm64") == {"Architecture": "arm64"}


def test_a_stack_without_architectures_runs_on_lambdas_default(shop: Any) -> None:
    template = json.loads(json.dumps(stack_template(shop.layout, shop.model)))
    for resource in template["Resources"].values():
        resource.get("Properties", {}).pop("Architectures", None)
    assert stack_architecture(template, "x86_64") == {}
    with pytest.raises(MigrationError, match=r"runs .* on x86_64 \(Lambda's default") as info:
        stack_architecture(template, "arm64")
    assert info.value.hint == "use --arch x86_64"


def test_architecture_parameter_and_literal_architectures() -> None:
    def fn(arch: Any) -> dict[str, Any]:
        return {"Type": "AWS::Lambda::Function", "Properties": {"Architectures": [arch]}}

    with_param = {
        "Parameters": {"Architecture": {"Type": "String", "AllowedValues": ["x86_64", "arm64"]}},
        "Resources": {"F": fn({"Ref": "Architecture"}), "Q": {"Type": "AWS::SQS::Queue"}},
    }
    assert stack_architecture(with_param, "arm64") == {"Architecture": "arm64"}
    assert stack_architecture(with_param, "x86_64") == {"Architecture": "x86_64"}
    narrow = {**with_param, "Parameters": {"Architecture": {"AllowedValues": ["x86_64"]}}}
    with pytest.raises(MigrationError, match="allows x86_64, not arm64"):
        stack_architecture(narrow, "arm64")
    literal = {"Resources": {"F": fn("arm64")}}
    assert stack_architecture(literal, "arm64") == {}
    with pytest.raises(MigrationError, match="its Architectures"):
        stack_architecture(literal, "x86_64")


# --------------------------------------------------------------------------- layer (unit)


def test_pip_command_targets_lambdas_platform_and_pins_our_psycopg(tmp_path: Path) -> None:
    version = installed_psycopg()
    for arch, machine in (("x86_64", "x86_64"), ("arm64", "aarch64")):
        command = pip_command(LayerSpec(arch=arch), tmp_path)
        platforms = [command[i + 1] for i, a in enumerate(command) if a == "--platform"]
        assert f"manylinux_2_17_{machine}" in platforms and f"manylinux_2_28_{machine}" in platforms
        assert f"manylinux_2_35_{machine}" not in platforms  # Amazon Linux 2023 has glibc 2.34
        assert all(p.endswith(machine) for p in platforms)
        assert command[command.index("--python-version") + 1] == "3.12"
        assert command[command.index("--implementation") + 1] == "cp"
        assert "--only-binary=:all:" in command and str(tmp_path) in command
        assert command[-2:] == [f"psycopg=={version}", f"psycopg-binary=={version}"]


# --------------------------------------------------------------------------- S3 + Lambda (moto)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    from moto import mock_aws

    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="code-bucket")
        yield s3


def test_upload_is_content_addressed_and_skips_an_existing_object(
    shop: Any, aws: Any, tmp_path: Path
) -> None:
    options = PackageOptions(
        out=tmp_path / "out",
        layer=False,
        upload="s3://code-bucket/deploy/shop/",
        layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:psycopg:7",
    )
    result = package(shop.layout, shop.model, options)
    data = (tmp_path / "out" / "code.zip").read_bytes()
    key = f"deploy/shop/code-{result.code_sha256[:16]}.zip"
    assert result.parameters == {
        "Architecture": "x86_64",
        "CodeBucket": "code-bucket",
        "CodeKey": key,
        "PsycopgLayerArn": "arn:aws:lambda:us-east-1:123456789012:layer:psycopg:7",
    }
    assert result.missing_parameters() == []
    assert aws.get_object(Bucket="code-bucket", Key=key)["Body"].read() == data
    first = aws.head_object(Bucket="code-bucket", Key=key)["LastModified"]
    again = package(shop.layout, shop.model, options)
    assert again.parameters == result.parameters
    assert aws.head_object(Bucket="code-bucket", Key=key)["LastModified"] == first
    listed = aws.list_objects_v2(Bucket="code-bucket")["Contents"]
    assert [o["Key"] for o in listed] == [key]


def test_publish_layer_sets_runtime_and_architecture(aws: Any) -> None:
    fake = deterministic_zip({"python/psycopg/__init__.py": b""})
    aws.put_object(Bucket="code-bucket", Key="l.zip", Body=fake)
    client = boto3.client("lambda")
    spec = LayerSpec(arch="arm64")
    from_s3 = publish_layer(client, "psycopg-shop", spec, s3_location=("code-bucket", "l.zip"))
    inline = publish_layer(client, "psycopg-shop", spec, data=fake)
    assert from_s3.endswith(":layer:psycopg-shop:1") and inline.endswith(":layer:psycopg-shop:2")
    got = client.get_layer_version(LayerName="psycopg-shop", VersionNumber=1)
    assert got["CompatibleRuntimes"] == [RUNTIME]
    assert got["CompatibleArchitectures"] == ["arm64"]
    assert installed_psycopg() in got["Description"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["--upload", "http://bucket/x"], "is not an s3:// URL", "s3://BUCKET/PREFIX"),
        (["--upload", "s3://Bad_Bucket/x"], "not a valid S3 bucket name", "lowercase"),
        (["--upload", "s3:///x"], "not a valid S3 bucket name", "3-63"),
        (["--arch", "sparc"], "not a Lambda architecture", "x86_64, arm64"),
        (["--publish-layer", "psy"], "needs a layer to publish", "drop --publish-layer"),
        (["--layer-arn", "psycopg"], "not a layer version ARN", "arn:aws:lambda:"),
    ],
)
def test_bad_options_exit_2_with_a_message_and_a_hint(
    tmp_path: Path, args: list[str], message: str, hint: str
) -> None:
    out = tmp_path / "out"
    result = _cli("migrate", "package", str(CATALOG), "--out", str(out), "--no-layer", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "hint: " in result.stderr and hint in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()  # checked before anything is written


def test_unwritable_out_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = _cli("migrate", "package", str(CATALOG), "--out", str(blocker / "out"), "--no-layer")
    assert result.exit_code == 2
    assert f"cannot write {blocker / 'out' / 'code.zip'}" in result.stderr
    assert "choose a writable directory with --out" in result.stderr


def test_an_invalid_model_exits_2_with_its_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nentities: [\n")
    result = _cli("migrate", "package", str(bad), "--out", str(tmp_path / "o"), "--no-layer")
    assert result.exit_code == 2 and "bad.yaml:" in result.stderr


def test_pip_without_an_index_exits_2_with_the_no_layer_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no network: no config files (their find-links / local indexes), an index nobody serves
    for var in [v for v in os.environ if v.startswith("PIP_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    out = tmp_path / "out"
    result = _cli("migrate", "package", str(CATALOG), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "pip could not install psycopg==" in result.stderr
    assert "--no-layer" in result.stderr and "--layer-arn" in result.stderr
    assert "Traceback" not in result.output
    assert (out / "code.zip").is_file() and not (out / "psycopg-layer.zip").exists()


# --------------------------------------------------------------------------- layer (PyPI)


@pytest.fixture(scope="module")
def layers() -> dict[str, bytes]:
    """Both architectures' layers, built once (pip from the package index)."""
    try:
        return {arch: layer_zip(LayerSpec(arch=arch)) for arch in ("x86_64", "arm64")}
    except MigrationError as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true: the layer must build: {exc} ({exc.hint})")
        pytest.skip(f"no package index: {exc}")


def _wheel_tags(z: zipfile.ZipFile, dist: str) -> list[str]:
    (wheel,) = [n for n in z.namelist() if n.startswith(f"python/{dist}-") and n.endswith("/WHEEL")]
    return [
        line.split(":", 1)[1].strip()
        for line in z.read(wheel).decode().splitlines()
        if line.startswith("Tag:")
    ]


@pytest.mark.e2e
@pytest.mark.parametrize(("arch", "machine"), [("x86_64", "x86_64"), ("arm64", "aarch64")])
def test_layer_holds_psycopg_binary_for_cp312_and_the_arch(
    layers: dict[str, bytes], arch: str, machine: str
) -> None:
    with zipfile.ZipFile(io.BytesIO(layers[arch])) as z:
        names = z.namelist()
        assert names == sorted(names) and all(n.startswith("python/") for n in names)
        assert "python/psycopg/__init__.py" in names
        assert not [n for n in names if "__pycache__" in n]
        version = installed_psycopg()
        assert f"python/psycopg-{version}.dist-info/METADATA" in names
        assert f"python/psycopg_binary-{version}.dist-info/METADATA" in names
        extensions = [n for n in names if n.startswith("python/psycopg_binary/") and ".so" in n]
        assert any(n.endswith(f".cpython-312-{machine}-linux-gnu.so") for n in extensions)
        assert all(f"-{machine}-" in n for n in extensions)
        tags = _wheel_tags(z, "psycopg_binary")
        assert tags and all(t.startswith("cp312-cp312-manylinux") for t in tags)
        assert all(t.endswith(f"_{machine}") for t in tags)
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.e2e
def test_layer_is_byte_identical_when_rebuilt(layers: dict[str, bytes]) -> None:
    # pip installs wheels without timestamps (RECORD holds hashes and sizes), so the same
    # versions give the same layer bytes
    assert layer_zip(LayerSpec(arch="x86_64")) == layers["x86_64"]


@pytest.mark.e2e
def test_layer_imports_the_binary_implementation_under_python312(
    layers: dict[str, bytes], tmp_path: Path
) -> None:
    if PY312 is None:
        pytest.skip(f"no {RUNTIME} interpreter: the cp312/manylinux tag checks are the proof here")
    extract(layers["x86_64"], tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import psycopg, json; "
        "print(json.dumps([psycopg.pq.__impl__, psycopg.__file__, psycopg.__version__]))"
    )
    done = subprocess.run(
        [PY312, "-I", "-c", code, str(tmp_path / "python")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    impl, file, version = json.loads(done.stdout)
    assert impl == "binary"
    assert Path(file).is_relative_to(tmp_path / "python")
    assert version == installed_psycopg()


@pytest.mark.e2e
def test_cli_uploads_both_zips_publishes_the_layer_and_prints_the_parameters(
    aws: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["migrate", "package", str(CATALOG), "--out", str(out), "--upload",
            "s3://code-bucket/releases", "--publish-layer", "psycopg-catalog"]  # fmt: skip
    result = _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    code, layer = (out / "code.zip").read_bytes(), (out / "psycopg-layer.zip").read_bytes()
    params = data["parameters"]
    assert params["Architecture"] == "x86_64"
    assert params["CodeBucket"] == "code-bucket"
    assert params["CodeKey"] == content_key("releases", "code", code)
    assert params["PsycopgLayerArn"].endswith(":layer:psycopg-catalog:1")
    assert data["missing_parameters"] == []
    layer_key = content_key("releases", "psycopg-layer-x86_64", layer)
    assert data["uploaded"] == [
        f"s3://code-bucket/{params['CodeKey']}",
        f"s3://code-bucket/{layer_key}",
    ]
    assert aws.get_object(Bucket="code-bucket", Key=layer_key)["Body"].read() == layer
    got = boto3.client("lambda").get_layer_version(LayerName="psycopg-catalog", VersionNumber=1)
    assert (got["CompatibleRuntimes"], got["CompatibleArchitectures"]) == ([RUNTIME], ["x86_64"])

    plain = _cli(*args)  # human form: the parameters on stdout, one line
    assert plain.exit_code == 0
    assert plain.stdout.strip() == (
        "Architecture=x86_64 "
        f"CodeBucket=code-bucket CodeKey={params['CodeKey']} "
        f"PsycopgLayerArn={params['PsycopgLayerArn'][:-1]}2"
    )


def test_cli_arm64_sets_the_stacks_architecture_parameter(tmp_path: Path) -> None:
    result = _cli(
        "migrate", "package", str(CATALOG), "--out", str(tmp_path), "--no-layer", "--arch", "arm64"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Architecture=arm64"
    assert "still needed: CodeBucket" in result.stderr


def test_an_upload_to_a_missing_bucket_exits_2_and_keeps_the_local_zip(
    aws: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _cli(
        "migrate", "package", str(CATALOG), "--out", str(out), "--no-layer",
        "--upload", "s3://no-such-bucket/p",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "S3 (bucket no-such-bucket)" in result.stderr and "NoSuchBucket" in result.stderr
    assert "hint: check the bucket name" in result.stderr and "s3:PutObject" in result.stderr
    assert "Traceback" not in result.output
    assert (out / "code.zip").is_file()
