"""`model migrate package`: the deployment artifacts of the AWS mode (issue 6, item 4).

The migration stack (`generated/<model>/migration/stack.yaml`, `modeling.emit.migration_stack`)
takes three parameters nothing else produces: `CodeBucket`/`CodeKey` (a zip holding the
generated directory as the package `<package_name(model)>/`, so the handlers
`<pkg>.migration.publisher.handler` / `.worker.handler` import) and `PsycopgLayerArn` (a Lambda
layer with psycopg and its binary libpq for the stack's runtime). This module builds both, and
optionally uploads and publishes them:

- `code.zip`: the same files `model compile` writes (the emitters, in memory), deterministic
  (sorted entries, 1980-01-01 timestamps, 0o644) so the same model gives the same bytes, the same
  content-addressed S3 key, and CloudFormation redeploys only on a real change.
- `psycopg-layer.zip`: `python/` filled by `pip install --platform manylinux…_<arch>
  --only-binary=:all: --python-version 3.12 --implementation cp --target …` with psycopg pinned
  to the version installed here (what the tests ran with). Zipped the same way; pip writes no
  timestamps into what it installs from wheels, so the layer is byte-identical too unless PyPI
  serves different wheels.

Errors a user can fix (a bad S3 URL, an unwritable directory, pip without network, a stack whose
architecture differs from `--arch`) raise `MigrationError` with a hint; the CLI exits 2.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeling.api import LAMBDA_RUNTIME as RUNTIME
from modeling.api import emit_files as emit
from modeling.api import package_name, stack_template
from modeling.core import ir
from modeling.migrate.errors import MigrationError, aws_failure

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can store: no build time leaks in
ZIP_MODE = 0o100644  # regular file, rw-r--r-- (Lambda needs read only, also for .so files)

# Lambda's names for an instruction set, and the manylinux suffix of the wheels for it.
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
LAMBDA_DEFAULT_ARCH = "x86_64"  # a function without `Architectures` runs here

# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): every manylinux up to 2_34 fits.
GLIBC_MAX_MINOR = 34
GLIBC_MIN_MINOR = 17

LAYER_DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # publish_layer_version's ZipFile limit
PIP_TIMEOUT_SECONDS = 900

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")  # S3 refuses bucket names shaped like an IP


# --------------------------------------------------------------------------- deterministic zips


def deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip of `files` ({posix path: content}) whose bytes depend on the contents only.

    Why each fixed field: entries sorted (dict order and os.walk order vary), timestamps the
    zip epoch (mtimes differ per checkout and per build), mode 0o644 and create_system Unix
    (umask and the building OS differ), DEFLATE at a fixed level (zlib is deterministic for
    the same input and level).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            _check_member(name)
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = ZIP_MODE << 16
            archive.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def _check_member(name: str) -> None:
    """Refuse names that would unpack outside the archive's root (a bug, never user input)."""
    parts = name.split("/")
    if not name or name.startswith("/") or ".." in parts or "" in parts or "\\" in name:
        raise ValueError(f"not a relative posix path for a zip member: {name!r}")


def directory_files(root: Path, prefix: str = "") -> dict[str, bytes]:
    """Every regular file under `root` as {prefix + posix relpath: bytes}, without caches.

    `__pycache__` is left out: byte code compiled by this interpreter (3.11 here) is useless
    to Lambda's 3.12 and would make the zip depend on the building Python.
    """
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.relative_to(root).parts:
            continue
        out[prefix + path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- code.zip


def code_files(layout: ir.Layout, model: ir.Model) -> dict[str, bytes]:
    """The generated directory as the package `<pkg>/`: every file `model compile` writes.

    The whole directory, not a hand-picked list: the handlers import `transformers` and
    `_keys` today, and whatever an emitter adds tomorrow is in the zip without editing this.
    Every directory holding Python gets an `__init__.py` so relative imports resolve.
    """
    pkg = package_name(model)
    manifest = emit(layout, model)
    files = {f"{pkg}/{rel}": text.encode("utf-8") for rel, text in manifest.items()}
    packages = {f"{pkg}/{rel}".rsplit("/", 1)[0] for rel in manifest if rel.endswith(".py")}
    for directory in sorted(packages):
        files.setdefault(f"{directory}/__init__.py", b"")
    return files


def code_zip(layout: ir.Layout, model: ir.Model) -> bytes:
    return deterministic_zip(code_files(layout, model))


# --------------------------------------------------------------------------- the psycopg layer


@dataclass(frozen=True)
class LayerSpec:
    """What the layer is built for: the stack's runtime, an architecture, a psycopg version."""

    arch: str = LAMBDA_DEFAULT_ARCH
    runtime: str = RUNTIME
    psycopg_version: str = ""  # "" = the version installed here

    def version(self) -> str:
        return self.psycopg_version or installed_psycopg()

    def python_version(self) -> str:
        """`python3.12` -> `3.12` (pip's --python-version)."""
        match = re.fullmatch(r"python(\d+)\.(\d+)", self.runtime)
        if match is None:
            raise MigrationError(
                f"the stack's runtime {self.runtime!r} is not a CPython runtime",
                "the layer can only be built for pythonX.Y runtimes",
            )
        return f"{match[1]}.{match[2]}"

    def platforms(self) -> list[str]:
        """pip's --platform tags, newest first: pip does not expand manylinux_2_X by itself."""
        machine = ARCHITECTURES[self.arch]
        tags = [
            f"manylinux_2_{minor}_{machine}"
            for minor in range(GLIBC_MAX_MINOR, GLIBC_MIN_MINOR - 1, -1)
        ]
        return [*tags, f"manylinux2014_{machine}"]

    def requirements(self) -> list[str]:
        version = self.version()
        return [f"psycopg=={version}", f"psycopg-binary=={version}"]


def installed_psycopg() -> str:
    """The psycopg version of this environment: the layer ships what the tests ran with."""
    try:
        return importlib.metadata.version("psycopg")
    except importlib.metadata.PackageNotFoundError:
        raise MigrationError(
            "psycopg is not installed in this environment, so there is no version to pin",
            "install the project (`./scripts/setup`), or pass --no-layer / --layer-arn ARN",
        ) from None


def pip_command(spec: LayerSpec, target: Path, python: str | None = None) -> list[str]:
    """The pip invocation that fills `target` with wheels for Lambda, never building sdists."""
    command = [python or sys.executable, "-m", "pip", "install", "--no-compile", "--no-input"]
    for platform in spec.platforms():
        command += ["--platform", platform]
    command += [
        "--only-binary=:all:",
        "--python-version",
        spec.python_version(),
        "--implementation",
        "cp",
        "--target",
        str(target),
        "--disable-pip-version-check",
        *spec.requirements(),
    ]
    return command


_NO_LAYER_HINT = (
    "check network access to the package index (pip's index-url/proxy settings), or pass "
    "--no-layer to skip the layer, or --layer-arn ARN to use a layer published before"
)


def layer_files(spec: LayerSpec, python: str | None = None) -> dict[str, bytes]:
    """The layer's files ({`python/...`: bytes}) installed by pip into a temporary directory."""
    python = python or sys.executable
    _require_pip(python)
    with tempfile.TemporaryDirectory(prefix="psycopg-layer-") as tmp:
        target = Path(tmp) / "python"
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            done = subprocess.run(
                pip_command(spec, target, python),
                capture_output=True,
                text=True,
                env=env,
                timeout=PIP_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise MigrationError(
                f"pip did not finish within {PIP_TIMEOUT_SECONDS} s installing "
                f"{' '.join(spec.requirements())}",
                _NO_LAYER_HINT,
            ) from None
        if done.returncode != 0:
            raise MigrationError(
                f"pip could not install {' '.join(spec.requirements())} for {spec.runtime} "
                f"{spec.arch} (exit {done.returncode}): {_last_error(done.stderr or done.stdout)}",
                _NO_LAYER_HINT,
            )
        files = directory_files(target, "python/")
    check_layer(files, spec)
    return files


def _require_pip(python: str) -> None:
    done = subprocess.run(
        [python, "-m", "pip", "--version"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise MigrationError(
            f"pip is not available in {python}",
            f"`{python} -m ensurepip`, or pass --no-layer / --layer-arn ARN",
        )


def _last_error(output: str) -> str:
    """pip's verdict: its ERROR lines (else the last line), not pages of retries."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return " ".join(errors[-2:] or lines[-1:]) or "no output"


def check_layer(files: Mapping[str, bytes], spec: LayerSpec) -> None:
    """The layer holds psycopg and a psycopg_binary extension for exactly this ABI and arch.

    Catches a pip that silently picked another platform (a wrong `--platform` list, a mirror
    without the wheel), which would otherwise surface as an ImportError inside Lambda.
    """
    abi = "cpython-" + spec.python_version().replace(".", "") + f"-{ARCHITECTURES[spec.arch]}"
    names = list(files)
    if not any(n.startswith("python/psycopg/") for n in names):
        raise MigrationError("the layer has no python/psycopg/", _NO_LAYER_HINT)
    extensions = [n for n in names if n.startswith("python/psycopg_binary/") and n.endswith(".so")]
    if not any(abi in n for n in extensions):
        raise MigrationError(
            f"the layer's psycopg_binary has no {abi}-linux-gnu extension "
            f"(found: {', '.join(extensions) or 'none'})",
            _NO_LAYER_HINT,
        )


def layer_zip(spec: LayerSpec, python: str | None = None) -> bytes:
    return deterministic_zip(layer_files(spec, python))


# --------------------------------------------------------------------------- the stack's arch


def stack_architecture(template: Mapping[str, Any], arch: str) -> dict[str, str]:
    """Check the stack's functions run on `arch`; the parameters that make them do so.

    A function without `Architectures` runs on Lambda's default (x86_64); a literal list must
    name `arch`; a `Ref` to a parameter is satisfied by passing that parameter (returned, so it
    is printed with the other stack parameters), if its AllowedValues admit `arch`.
    """
    parameters: dict[str, Any] = dict(template.get("Parameters", {}))
    needed: dict[str, str] = {}
    resources: dict[str, Any] = dict(template.get("Resources", {}))
    for name, resource in sorted(resources.items()):
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        declared = resource.get("Properties", {}).get("Architectures", [LAMBDA_DEFAULT_ARCH])
        for value in declared:
            if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
                param = value["Ref"]
                allowed = parameters[param].get("AllowedValues")
                if allowed is not None and arch not in allowed:
                    raise MigrationError(
                        f"stack parameter {param} allows {', '.join(allowed)}, not {arch}",
                        f"use --arch {allowed[0]}",
                    )
                needed[param] = arch
            elif value != arch:
                where = (
                    "Lambda's default, the stack sets no Architectures"
                    if "Architectures" not in resource.get("Properties", {})
                    else "its Architectures"
                )
                raise MigrationError(
                    f"the stack runs {name} on {value} ({where}), but --arch {arch} builds a "
                    f"layer for {ARCHITECTURES[arch]}: the functions could not load psycopg",
                    f"use --arch {value}",
                )
    return needed


# --------------------------------------------------------------------------- S3 and Lambda


def parse_s3_url(url: str, flag: str = "--upload") -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> ("bucket", "some/prefix"); MigrationError naming `flag`
    otherwise (a bucket name S3 cannot hold included: an IP address, `..`, 1 or 64 characters,
    capitals)."""
    if not url.startswith("s3://"):
        raise MigrationError(
            f"{flag} {url!r} is not an s3:// URL", "write it as s3://BUCKET/PREFIX"
        )
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IP.fullmatch(bucket):
        raise MigrationError(
            f"{flag} {url!r}: {bucket!r} is not a valid S3 bucket name",
            "bucket names are 3-63 characters: lowercase letters, digits, dots and hyphens",
        )
    return bucket, prefix.strip("/")


def content_key(prefix: str, stem: str, data: bytes) -> str:
    """`prefix/stem-<sha256[:16]>.zip`: a new key exactly when the bytes change."""
    name = f"{stem}-{sha256(data)[:16]}.zip"
    return f"{prefix}/{name}" if prefix else name


def upload(s3: Any, bucket: str, key: str, data: bytes) -> bool:
    """Put `data` at `key` unless an object of the same size is there (keys are hashes).

    Returns whether it uploaded.
    """
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        # 403: allowed to put but not to list the bucket, so a missing key reads as forbidden
        if exc.response.get("Error", {}).get("Code") not in ("403", "404", "NoSuchKey", "NotFound"):
            raise
    else:
        if int(head.get("ContentLength", -1)) == len(data):
            return False
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/zip")
    return True


def publish_layer(
    client: Any,
    name: str,
    spec: LayerSpec,
    *,
    data: bytes | None = None,
    s3_location: tuple[str, str] | None = None,
) -> str:
    """Publish the layer (from S3 when uploaded, else inline) and return its version ARN."""
    if s3_location is not None:
        content: dict[str, Any] = {"S3Bucket": s3_location[0], "S3Key": s3_location[1]}
    elif data is not None and len(data) <= LAYER_DIRECT_UPLOAD_LIMIT:
        content = {"ZipFile": data}
    else:
        raise MigrationError(
            "the layer is too large to publish without S3",
            "add --upload s3://BUCKET/PREFIX so it is published from there",
        )
    response = client.publish_layer_version(
        LayerName=name,
        Description=f"psycopg[binary]=={spec.version()} for {spec.runtime} {spec.arch} "
        "(model migrate package)",
        Content=content,
        CompatibleRuntimes=[spec.runtime],
        CompatibleArchitectures=[spec.arch],
    )
    return str(response["LayerVersionArn"])


# --------------------------------------------------------------------------- the whole command


@dataclass(frozen=True)
class PackageOptions:
    out: Path
    arch: str = LAMBDA_DEFAULT_ARCH
    layer: bool = True
    upload: str | None = None  # s3://bucket/prefix
    publish_layer: str | None = None  # layer name
    layer_arn: str | None = None  # an existing layer instead of building one


@dataclass
class PackageResult:
    package: str
    arch: str
    code_zip: Path
    code_sha256: str
    layer_zip: Path | None = None
    layer_sha256: str | None = None
    psycopg_version: str | None = None
    uploaded: list[str] = field(default_factory=list)  # s3:// URLs written by this run
    parameters: dict[str, str] = field(default_factory=dict)  # the stack's, known so far

    def missing_parameters(self) -> list[str]:
        """Stack parameters this run could not fill (the user supplies them)."""
        return [p for p in ("CodeBucket", "CodeKey", "PsycopgLayerArn") if p not in self.parameters]

    def as_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "arch": self.arch,
            "code_zip": str(self.code_zip),
            "code_sha256": self.code_sha256,
            "layer_zip": str(self.layer_zip) if self.layer_zip else None,
            "layer_sha256": self.layer_sha256,
            "psycopg_version": self.psycopg_version,
            "uploaded": list(self.uploaded),
            "parameters": dict(sorted(self.parameters.items())),
            "missing_parameters": self.missing_parameters(),
        }

    def parameter_overrides(self) -> str:
        """`Key=Value ...` as `aws cloudformation deploy --parameter-overrides` takes them."""
        return " ".join(f"{k}={v}" for k, v in sorted(self.parameters.items()))


def check_options(options: PackageOptions) -> tuple[str, str] | None:
    """Reject contradictory or malformed options before any work; the parsed --upload."""
    if options.arch not in ARCHITECTURES:
        raise MigrationError(
            f"--arch {options.arch!r} is not a Lambda architecture",
            f"use one of {', '.join(ARCHITECTURES)}",
        )
    if options.publish_layer is not None:
        if not options.layer or options.layer_arn:
            raise MigrationError(
                "--publish-layer needs a layer to publish, but --no-layer / --layer-arn skip it",
                "drop --publish-layer, or drop --no-layer / --layer-arn",
            )
        if not re.fullmatch(r"[a-zA-Z0-9_-]{1,140}", options.publish_layer):
            raise MigrationError(
                f"--publish-layer {options.publish_layer!r} is not a valid layer name",
                "letters, digits, hyphens and underscores, at most 140",
            )
    if options.layer_arn is not None and not re.fullmatch(
        r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[a-zA-Z0-9_-]+:\d+", options.layer_arn
    ):
        raise MigrationError(
            f"--layer-arn {options.layer_arn!r} is not a layer version ARN",
            "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION",
        )
    return parse_s3_url(options.upload) if options.upload is not None else None


def write_file(path: Path, data: bytes) -> None:
    """Write `data` atomically (a reader never sees half a zip); MigrationError if we cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as f:
            f.write(data)
        os.chmod(f.name, 0o644)
        os.replace(f.name, path)
    except OSError as exc:
        raise MigrationError(
            f"cannot write {path}: {exc.strerror or exc}",
            "choose a writable directory with --out",
        ) from None


def package(
    layout: ir.Layout,
    model: ir.Model,
    options: PackageOptions,
    *,
    s3: Any = None,
    lambda_client: Any = None,
    python: str | None = None,
) -> PackageResult:
    """Build code.zip (and the layer), upload and publish as asked; the stack parameters.

    `s3` / `lambda_client`: boto3 clients (created from the default session when needed and
    not given). Order: every check that needs no network first, then the zips, then AWS.
    """
    destination = check_options(options)
    needed = stack_architecture(stack_template(layout, model), options.arch)
    spec = LayerSpec(arch=options.arch)

    code = code_zip(layout, model)
    result = PackageResult(
        package=package_name(model),
        arch=options.arch,
        code_zip=options.out / "code.zip",
        code_sha256=sha256(code),
        parameters=dict(needed),
    )
    write_file(result.code_zip, code)

    layer: bytes | None = None
    if options.layer and not options.layer_arn:
        layer = layer_zip(spec, python)
        result.layer_zip = options.out / "psycopg-layer.zip"
        result.layer_sha256 = sha256(layer)
        result.psycopg_version = spec.version()
        write_file(result.layer_zip, layer)
    if options.layer_arn:
        result.parameters["PsycopgLayerArn"] = options.layer_arn

    import boto3

    layer_location: tuple[str, str] | None = None
    if destination is not None:
        bucket, prefix = destination
        with _aws("s3:PutObject on the bucket, in the stack's region"):
            s3 = s3 or boto3.client("s3")
            key = content_key(prefix, "code", code)
            upload(s3, bucket, key, code)
            result.uploaded.append(f"s3://{bucket}/{key}")
            result.parameters.update(CodeBucket=bucket, CodeKey=key)
            if layer is not None:
                layer_key = content_key(prefix, f"psycopg-layer-{options.arch}", layer)
                layer_location = (bucket, layer_key)
                upload(s3, bucket, layer_key, layer)
                result.uploaded.append(f"s3://{bucket}/{layer_key}")
    if options.publish_layer is not None and layer is not None:
        with _aws("lambda:PublishLayerVersion"):
            client = lambda_client or boto3.client("lambda")
            result.parameters["PsycopgLayerArn"] = publish_layer(
                client, options.publish_layer, spec, data=layer, s3_location=layer_location
            )
    return result


@contextlib.contextmanager
def _aws(permission: str) -> Iterator[None]:
    """AWS failures (no credentials, no bucket, access denied) as MigrationError naming the
    service and what it touched (`aws_failure`), with the permission the step needs."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise aws_failure(
            exc, also=f"it needs {permission}; the zips are written to --out either way"
        ) from None


def extract(data: bytes, directory: Path) -> list[str]:
    """Unpack a zip built here into `directory` (tests, and checking a package by hand)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        for name in names:
            _check_member(name)
        archive.extractall(directory)
    return names
