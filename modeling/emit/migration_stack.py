"""`migration/`: the AWS mode of the backfill (publisher + worker Lambdas and their stack).

Files under `generated/<model>/migration/`:

- `publisher.py`: Lambda handler. Event `{"bucket": B, "prefix": P}` (a plan uploaded by
  `model migrate plan --out s3://B/P`): checks every chunk's sha256 against the manifest and
  sends each chunk's keys to SQS, `IDS_PER_MESSAGE` keys per message, 10 messages per
  SendMessageBatch (failed entries retried); the keys the plan found more than once go in
  messages marked `duplicates`, whose rows the worker dead-letters. The version marker is the
  plan's (`marker` in manifest.json, taken before the keys were listed) and is returned for
  the catch-up pass (`model migrate run --catch-up-only MARKER`). The publisher writes nothing
  to S3: plan objects are write-once.
- `worker.py`: Lambda handler for the SQS event source: per message, the rows of its keys
  (`= ANY`, one query), the generated transformers, `_version` (per entity from the model's
  `version` setting, `MODEL_VERSION_COLUMN` overriding it, else xmin: the rule of
  modeling/runtime/versioning.py, shipped verbatim as `migration/_versioning.py`), one item per
  item key keeping the highest `_version` (as the local runner's sink), rows sharing a source
  key or an item key dead-lettered (never one silently replacing another), BatchWriteItem in
  25s with UnprocessedItems retried (backoff + full jitter); a message that fails is reported in
  `batchItemFailures` (partial batch response) so only it is retried, then dead-lettered by
  the queue's redrive policy. Rows that cannot become items are written as JSONL to
  `s3://<bucket>/dead-letters/` and do not fail the message.
- `stack.yaml`: CloudFormation: S3 bucket for plans, SQS queue + DLQ (redrive), both functions
  (reserved concurrency parameter, default 3; VPC subnets and security groups; psycopg layer),
  the event source mapping with ReportBatchItemFailures, and one IAM role per function whose
  data actions name the table, queue, bucket and secret ARNs (no `*` on a data action).

Deployment package: a zip of `generated/<model>/` as the package `<model>` (handlers
`<model>.migration.publisher.handler` / `.worker.handler`); psycopg comes from the layer.
The DSN comes from Secrets Manager (a plain DSN string, or RDS's JSON secret).
"""

from __future__ import annotations

from modeling.core import ir
from modeling.core.limits import BATCH_WRITE_ITEMS
from modeling.emit import FileManifest, header, register
from modeling.emit._python import comment_header, format_python, literal, render
from modeling.emit.cloudformation import to_yaml
from modeling.emit.repository import loaders_module, versioning_module
from modeling.extraction import XMIN_ALIAS, extraction_queries
from modeling.formats.plan_manifest import MANIFEST_VERSION

RUNTIME = "python3.12"


def package_name(model: ir.Model) -> str:
    """The Python package the deployment zip holds the generated directory as."""
    name = "".join(c if c.isalnum() else "_" for c in model.name)
    return name if name[:1].isalpha() else f"m_{name}"


# --------------------------------------------------------------------------- shared runtime

_COMMON = '''
def _secret_dsn() -> str:
    """The DSN: `DSN` (tests) or the Secrets Manager secret `DSN_SECRET_ARN`."""
    if os.environ.get("DSN"):
        return os.environ["DSN"]
    import boto3

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["DSN_SECRET_ARN"])
    text = secret["SecretString"]
    if text.lstrip().startswith("{"):  # RDS-style JSON secret
        s = json.loads(text)
        return (
            f"host={s['host']} port={s.get('port', 5432)} dbname={s.get('dbname', 'postgres')} "
            f"user={s['username']} password={s['password']}"
        )
    return text


_CONN: Any = None


def _connection() -> Any:
    """One PostgreSQL connection per Lambda container, reopened when it broke."""
    global _CONN
    import psycopg
    from psycopg.rows import dict_row

    if _CONN is None or _CONN.closed:
        from psycopg.adapt import Loader

        from ._loaders import guard_loaders

        _CONN = psycopg.connect(_secret_dsn(), autocommit=True, row_factory=dict_row)
        # a date/time value Python cannot hold (infinity, year 10000) fails its row, not the message
        guard_loaders(_CONN, Loader, psycopg.DataError)
    return _CONN
'''

_PUBLISHER = '''
$header
"""Publisher Lambda for model `$model`: a plan in S3 -> SQS messages of keys (see stack.yaml).

Event: {"bucket": "...", "prefix": "plans/2024-05-01"}. Environment: QUEUE_URL,
IDS_PER_MESSAGE (default 10: ten IDs per message, ten messages per SendMessageBatch).
Reads the plan only (write-once objects); the marker is the plan's, taken when it was made.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from typing import Any

MODEL = $model_literal
MANIFEST_VERSION = $manifest_version
SEND_BATCH = 10  # SendMessageBatch takes at most 10 entries


def _send(sqs: Any, queue_url: str, bodies: list[str]) -> int:
    """SendMessageBatch in 10s; failed entries retried with backoff. Returns calls made."""
    calls = 0
    for start in range(0, len(bodies), SEND_BATCH):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + SEND_BATCH])]
        attempt = 0
        while entries:
            calls += 1
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            failed = {f["Id"] for f in response.get("Failed", [])}
            entries = [e for e in entries if e["Id"] in failed]
            if entries:
                if attempt >= 8:
                    raise RuntimeError(f"SQS refused {len(entries)} messages: {response['Failed']}")
                time.sleep(min(5.0, 0.1 * 2**attempt))
                attempt += 1
    return calls


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    import boto3

    bucket, prefix = event["bucket"], event.get("prefix", "").strip("/")
    per_message = int(os.environ.get("IDS_PER_MESSAGE", "10"))
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    queue_url = os.environ["QUEUE_URL"]

    def key(rel: str) -> str:
        return f"{prefix}/{rel}" if prefix else rel

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key("manifest.json"))["Body"].read())
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        raise ValueError(f"manifest version {manifest.get('manifest_version')!r} is not {MANIFEST_VERSION}: re-plan")
    if manifest.get("model") != MODEL:
        raise ValueError(f"the plan is for model {manifest.get('model')!r}, not {MODEL!r}")
    marker = int(manifest["marker"])  # taken before the plan listed keys: see versioning.py
    messages = calls = 0
    for entity, plan in sorted(manifest["entities"].items()):
        files = [(c, False) for c in plan["chunks"]]
        if plan.get("duplicates"):
            files.append((plan["duplicates"], True))
        for chunk, duplicates in files:
            data = s3.get_object(Bucket=bucket, Key=key(chunk["file"]))["Body"].read()
            if hashlib.sha256(data).hexdigest() != chunk["sha256"]:
                raise ValueError(f"{chunk['file']}: checksum does not match the manifest")
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:]
            bodies = [
                json.dumps({"model": MODEL, "entity": entity, "chunk": chunk["file"], "keys": rows[i : i + per_message], "duplicates": duplicates})
                for i in range(0, len(rows), per_message)
            ]
            calls += _send(sqs, queue_url, bodies)
            messages += len(bodies)
    return {"messages": messages, "send_calls": calls, "marker": marker}
'''

_WORKER = '''
$header
"""Worker Lambda for model `$model`: SQS messages of keys -> rows -> items -> BatchWriteItem.

Environment: TABLE_NAME, DSN_SECRET_ARN (or DSN), DEAD_LETTER_BUCKET (optional),
MODEL_VERSION_COLUMN (optional: overrides VERSIONS for every entity that has that column, `xmin`
forces xmin; set it to what `model migrate run --catch-up-only` gets as --version-column).
Returns a partial batch response: only failed messages are retried by SQS.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from .. import transformers as T
from . import _versioning
from ._loaders import dead_letter_key, unreadable_reason
from ._versioning import VERSION_ATTRIBUTE, version_number

MODEL = $model_literal
BATCH_ITEMS = $batch_items  # BatchWriteItem takes at most this many items
TABLE_KEY = $table_key
# per entity: the rows of a batch of keys, with their xmin (see versioning.py)
BY_IDS: dict[str, str] = $by_ids
XMIN_ALIAS = $xmin_alias
KEY_PARAMS: dict[str, tuple[str, ...]] = $key_params
# per entity: its key attributes (the row's identity) and source table
KEY_ATTRS: dict[str, tuple[str, ...]] = $key_attrs
TABLES: dict[str, str] = $tables
# per entity: the attribute its `_version` comes from (the model's `version`); None: xmin
VERSIONS: dict[str, str | None] = $versions
MAX_ATTEMPTS = 10
$common

def version_attribute(entity: str, row: dict[str, Any]) -> str | None:
    """MODEL_VERSION_COLUMN when the entity has it (`xmin`: none), else the model's setting."""
    override = os.environ.get("MODEL_VERSION_COLUMN", "").strip()
    return _versioning.version_attribute(VERSIONS[entity], override, row)


def row_version(entity: str, row: dict[str, Any]) -> int | None:
    """The row's version (pops the xmin column); None when the version attribute is NULL."""
    xmin = version_number(row.pop(XMIN_ALIAS))
    column = version_attribute(entity, row)
    if column is None:
        return xmin
    value = row.get(column)
    return None if value is None else version_number(value)

def _rows(entity: str, keys: list[list[str]]) -> list[dict[str, Any]]:
    params = {name: [k[i] for k in keys] for i, name in enumerate(KEY_PARAMS[entity])}
    return list(_connection().execute(BY_IDS[entity], params).fetchall())


def _excerpt(value: Any) -> Any:
    """JSON-ready, at most ~200 characters (the same shape as `model migrate run` writes)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        text = value
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    return text if len(text) <= 200 else text[:200] + f"... ({len(text)} chars)"


def _version(item: dict[str, Any]) -> int:
    value = item.get(VERSION_ATTRIBUTE)
    return int(value["N"]) if isinstance(value, dict) and "N" in value else -1


def newest_per_key(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per item key: the highest `_version` (the later one on a tie), as the local
    runner's sink keeps it; never simply the last one."""
    by_key: dict[str, dict[str, Any]] = {}
    for item in items:
        k = json.dumps([item[k] for k in TABLE_KEY], sort_keys=True)
        old = by_key.get(k)
        if old is None or _version(item) >= _version(old):
            by_key[k] = item
    return list(by_key.values())


def _write(ddb: Any, table: str, items: list[dict[str, Any]]) -> int:
    """BatchWriteItem in BATCH_ITEMS (one item per key, the newest); returns the retries."""
    unique = newest_per_key(items)
    retries = 0
    for start in range(0, len(unique), BATCH_ITEMS):
        requests = [{"PutRequest": {"Item": i}} for i in unique[start : start + BATCH_ITEMS]]
        attempt = 0
        while requests:
            response = ddb.batch_write_item(RequestItems={table: requests})
            requests = response.get("UnprocessedItems", {}).get(table, [])
            if requests:
                if attempt >= MAX_ATTEMPTS:
                    raise RuntimeError(f"{len(requests)} items still unprocessed")
                retries += 1
                time.sleep(random.uniform(0, min(5.0, 0.05 * 2**attempt)))
                attempt += 1
    return retries


def _dead_letters(s3: Any, message_id: str, records: list[dict[str, Any]]) -> None:
    bucket = os.environ.get("DEAD_LETTER_BUCKET")
    text = "".join(json.dumps(r, sort_keys=True, default=str) + "\\n" for r in records)
    print(text, end="")  # CloudWatch keeps them in any case
    if bucket and s3 is not None:
        s3.put_object(Bucket=bucket, Key=f"dead-letters/{MODEL}/{message_id}.jsonl", Body=text.encode())


def _identity(entity: str, row: dict[str, Any]) -> str:
    return json.dumps([row.get(k) for k in KEY_ATTRS[entity]], default=str)


def _duplicate(entity: str, row: dict[str, Any], count: int) -> dict[str, Any]:
    return {
        "entity": entity,
        "key": [dead_letter_key(row.get(k)) for k in KEY_ATTRS[entity]],
        "reason": f"DuplicateKey: {count} rows of {TABLES[entity]} share this key; an item holds one row, so none of them is written (make the key unique in the source, or choose another `key:`)",
        "row": {k: _excerpt(v) for k, v in row.items() if v is not None and k != XMIN_ALIAS},
    }


def process(message: dict[str, Any], ddb: Any, s3: Any, message_id: str) -> dict[str, int]:
    entity, keys = message["entity"], message["keys"]
    rows = _rows(entity, keys)
    items: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for row in rows:
        counts[_identity(entity, row)] = counts.get(_identity(entity, row), 0) + 1
    unique = []
    for row in rows:
        count = counts[_identity(entity, row)]
        if count > 1 or message.get("duplicates"):
            dead.append(_duplicate(entity, row, count))
        else:
            unique.append(row)
    by_item_key: dict[str, list[dict[str, Any]]] = {}
    for row in unique:
        try:
            version = row_version(entity, row)
            item = T.to_item(entity, row)
        except (T.TransformError, TypeError) as exc:  # TypeError: also VersionError
            transform = isinstance(exc, T.TransformError)
            dead.append({
                "entity": entity,
                "key": [dead_letter_key(v) for v in ((exc.row_key if transform else None) or ())],
                "reason": (transform and unreadable_reason(row, exc.attribute))
                or f"{type(exc).__name__}: {exc.reason if transform else exc}",
                "row": {k: _excerpt(v) for k, v in row.items() if v is not None},
            })
            continue
        if version is not None:
            item[VERSION_ATTRIBUTE] = {"N": str(version)}
        by_item_key.setdefault(json.dumps([item.get(k) for k in TABLE_KEY], sort_keys=True), []).append(item)
    for key_text, same in by_item_key.items():
        if len(same) == 1:
            items.append(same[0])
            continue
        for item in same:  # two rows, one item key: neither may replace the other
            dead.append({
                "entity": entity,
                "key": [next(iter(item[k].values()), None) if k in item else None for k in KEY_ATTRS[entity]],
                "reason": f"KeyCollision: {len(same)} rows map to the item key {key_text}; none of them is written (the key template must hold the entity's whole key)",
                "row": {},
            })
    retries = _write(ddb, os.environ["TABLE_NAME"], items)
    if dead:
        _dead_letters(s3, message_id, dead)
    return {"rows": len(rows), "items": len(items), "dead_letters": len(dead), "retries": retries}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    global _CONN
    import boto3

    ddb = boto3.client("dynamodb")
    s3 = boto3.client("s3") if os.environ.get("DEAD_LETTER_BUCKET") else None
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            process(json.loads(record["body"]), ddb, s3, record["messageId"])
        except Exception as exc:  # this message only: SQS retries it, then the DLQ takes it
            print(json.dumps({"messageId": record["messageId"], "error": repr(exc)[:500]}))
            if _CONN is not None and getattr(_CONN, "broken", False):
                _CONN = None
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
'''


def _by_ids(model: ir.Model) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    sql: dict[str, str] = {}
    params: dict[str, tuple[str, ...]] = {}
    for e in model.entities:
        q = extraction_queries(model, e.name)
        sql[e.name] = q.by_ids_sql(xmin=True)
        params[e.name] = tuple(k.ids_param for k in q.key)
    return sql, params


def publisher_source(model: ir.Model) -> str:
    return render(
        _PUBLISHER,
        header=comment_header(model).rstrip("\n"),
        model=model.name,
        model_literal=literal(model.name),
        manifest_version=literal(MANIFEST_VERSION),
    )


# relationship copies (`ir.CopyItems`): the worker writes each row's copies beside its item
_WORKER_COPY_EDITS = (
    (
        "            item = T.to_item(entity, row)\n",
        "            item = T.to_item(entity, row)\n"
        "            copies = T.COPIES[entity](row, item) if entity in T.COPIES else []\n",
    ),
    (
        '            item[VERSION_ATTRIBUTE] = {"N": str(version)}\n',
        '            item[VERSION_ATTRIBUTE] = {"N": str(version)}\n'
        "            for copy in copies:\n"
        '                copy[VERSION_ATTRIBUTE] = {"N": str(version)}\n'
        "        copies_of[id(item)] = copies\n",
    ),
    (
        "    by_item_key: dict[str, list[dict[str, Any]]] = {}\n",
        "    by_item_key: dict[str, list[dict[str, Any]]] = {}\n"
        "    copies_of: dict[int, list[dict[str, Any]]] = {}\n",
    ),
    (
        "            items.append(same[0])\n",
        "            items.append(same[0])\n"
        "            items.extend(copies_of[id(same[0])])  # copy keys hold the identity: distinct\n",
    ),
)


def _worker_with_copies(text: str) -> str:
    for old, new in _WORKER_COPY_EDITS:
        if old not in text:
            raise AssertionError(f"worker template changed: {old.strip()!r} not found")
        text = text.replace(old, new)
    return text


def worker_source(layout: ir.Layout, model: ir.Model) -> str:
    table = next(i for i in layout.indexes if i.kind == "table")
    table_key = (table.pk.name,) if table.sk is None else (table.pk.name, table.sk.name)
    by_ids, key_params = _by_ids(model)
    return render(
        _worker_with_copies(_WORKER) if layout.copies else _WORKER,
        header=comment_header(model).rstrip("\n"),
        model=model.name,
        model_literal=literal(model.name),
        table_key=literal(table_key),
        by_ids=repr(by_ids),
        key_params=repr(key_params),
        key_attrs=repr({e.name: tuple(e.key) for e in model.entities}),
        tables=repr({e.name: e.table for e in model.entities}),
        versions=repr({e.name: e.version for e in model.entities}),
        xmin_alias=literal(XMIN_ALIAS),
        batch_items=literal(BATCH_WRITE_ITEMS),
        common=_COMMON,
    )


# --------------------------------------------------------------------------- stack


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _sse() -> dict[str, object]:
    return {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }


def _public_access_block() -> dict[str, bool]:
    return {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def _role(statements: list[dict[str, object]]) -> dict[str, object]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "ManagedPolicyArns": [
                _sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
                )
            ],
            "Policies": [
                {
                    "PolicyName": "data-access",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


# checkov findings the stack keeps on purpose, each with its reason (checkov reads
# `Metadata.checkov.skip`; every other finding is fixed in the template)
_ENV_NOT_SECRET = (
    "the environment holds names, URLs and ARNs only (the DSN is in Secrets Manager); Lambda "
    "encrypts it at rest with an AWS managed key, a customer key would add cost, not secrecy"
)
_SQS_MANAGED_SSE = (
    "encrypted at rest with SQS-managed SSE (SqsManagedSseEnabled); a KMS key would need "
    "kms grants on every producer and consumer for no further protection"
)
_LOG_BUCKET_LOGGING = "the access-log bucket itself: logging it would log its own log writes"


def _skip(*checks: tuple[str, str]) -> dict[str, object]:
    return {"checkov": {"skip": [{"id": i, "comment": c} for i, c in checks]}}


def _function(handler: str, role: str, timeout: int, env: dict[str, object]) -> dict[str, object]:
    return {
        "Type": "AWS::Lambda::Function",
        "Metadata": _skip(("CKV_AWS_173", _ENV_NOT_SECRET)),
        "Properties": {
            "Runtime": RUNTIME,
            "Architectures": [_ref("Architecture")],
            "Handler": handler,
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Code": {"S3Bucket": _ref("CodeBucket"), "S3Key": _ref("CodeKey")},
            "Layers": [_ref("PsycopgLayerArn")],
            "MemorySize": 1024,
            "Timeout": timeout,
            "ReservedConcurrentExecutions": _ref("ReservedConcurrency"),
            "VpcConfig": {
                "SubnetIds": _ref("SubnetIds"),
                "SecurityGroupIds": _ref("SecurityGroupIds"),
            },
            "Environment": {"Variables": env},
            # a failed asynchronous invocation (the publisher's event) is kept, not dropped
            "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["FailedInvocationQueue", "Arn"]}},
        },
    }


def stack_template(layout: ir.Layout, model: ir.Model) -> dict[str, object]:
    pkg = package_name(model)
    table_arn = _sub(
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}"
    )
    bucket_arn = {"Fn::GetAtt": ["PlanBucket", "Arn"]}
    bucket_objects = _sub("${PlanBucket.Arn}/*")
    queue_arn = {"Fn::GetAtt": ["WorkQueue", "Arn"]}
    failed_arn = {"Fn::GetAtt": ["FailedInvocationQueue", "Arn"]}
    secret = _ref("DsnSecretArn")
    worker_timeout = 300
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Migration of model {model.name} into {layout.table_name}: plan bucket, "
        "work queue + DLQ, publisher and worker Lambdas. " + header(model),
        "Parameters": {
            "TableName": {"Type": "String", "Default": layout.table_name, "MinLength": 3},
            "DsnSecretArn": {
                "Type": "String",
                "Description": "Secrets Manager ARN of the source DSN (plain DSN or RDS JSON secret)",
                "AllowedPattern": "arn:aws[a-z-]*:secretsmanager:.+",
            },
            "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
            "SecurityGroupIds": {"Type": "List<AWS::EC2::SecurityGroup::Id>"},
            "ReservedConcurrency": {
                "Type": "Number",
                "Default": 3,
                "MinValue": 1,
                "Description": "Per function: caps the load on PostgreSQL and the table",
            },
            "CodeBucket": {"Type": "String", "Description": "Bucket of the deployment zip"},
            "CodeKey": {"Type": "String", "Description": f"Zip holding the package {pkg}/"},
            "PsycopgLayerArn": {
                "Type": "String",
                "Description": "Lambda layer with psycopg[binary]",
            },
            "Architecture": {
                "Type": "String",
                "Default": "x86_64",
                "AllowedValues": ["x86_64", "arm64"],
                "Description": "Of both functions; the psycopg layer must be built for it "
                "(`model migrate package --arch`)",
            },
            "IdsPerMessage": {"Type": "Number", "Default": 10, "MinValue": 1, "MaxValue": 1000},
            "SqsBatchSize": {"Type": "Number", "Default": 10, "MinValue": 1, "MaxValue": 10},
            "VersionColumn": {
                "Type": "String",
                "Default": "",
                "Description": "Overrides the model's version attribute, as `model migrate run "
                "--version-column` does (`xmin` forces xmin); empty: the model's setting",
            },
        },
        "Resources": {
            "PlanBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "BucketEncryption": _sse(),
                    "PublicAccessBlockConfiguration": _public_access_block(),
                    # a plan object overwritten by mistake keeps its earlier version
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LoggingConfiguration": {
                        "DestinationBucketName": _ref("PlanLogBucket"),
                        "LogFilePrefix": "plan-bucket/",
                    },
                },
            },
            # plan objects are write-once for the functions: the publisher only reads, the
            # worker only adds dead-letter files; `model migrate plan` uploads with If-None-Match
            "PlanBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": _ref("PlanBucket"),
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "PublisherReadsPlansOnly",
                                "Effect": "Deny",
                                "Principal": {"AWS": {"Fn::GetAtt": ["PublisherRole", "Arn"]}},
                                "Action": ["s3:PutObject", "s3:DeleteObject"],
                                "Resource": bucket_objects,
                            },
                            {
                                "Sid": "WorkerAddsDeadLettersOnly",
                                "Effect": "Deny",
                                "Principal": {"AWS": {"Fn::GetAtt": ["WorkerRole", "Arn"]}},
                                "Action": ["s3:PutObject", "s3:DeleteObject"],
                                "NotResource": _sub("${PlanBucket.Arn}/dead-letters/*"),
                            },
                            {
                                "Sid": "TlsOnly",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [bucket_arn, bucket_objects],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            },
                        ],
                    },
                },
            },
            "PlanLogBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Metadata": _skip(("CKV_AWS_18", _LOG_BUCKET_LOGGING)),
                "Properties": {
                    "BucketEncryption": _sse(),
                    "PublicAccessBlockConfiguration": _public_access_block(),
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                },
            },
            "PlanLogBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": _ref("PlanLogBucket"),
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "S3ServerAccessLogs",
                                "Effect": "Allow",
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                                "Action": "s3:PutObject",
                                "Resource": _sub("${PlanLogBucket.Arn}/plan-bucket/*"),
                                "Condition": {
                                    "ArnLike": {"aws:SourceArn": bucket_arn},
                                    "StringEquals": {"aws:SourceAccount": _ref("AWS::AccountId")},
                                },
                            }
                        ],
                    },
                },
            },
            "DeadLetterQueue": {
                "Type": "AWS::SQS::Queue",
                "Metadata": _skip(("CKV_AWS_27", _SQS_MANAGED_SSE)),
                "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
            },
            "FailedInvocationQueue": {
                "Type": "AWS::SQS::Queue",
                "Metadata": _skip(("CKV_AWS_27", _SQS_MANAGED_SSE)),
                "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
            },
            "WorkQueue": {
                "Type": "AWS::SQS::Queue",
                "Metadata": _skip(("CKV_AWS_27", _SQS_MANAGED_SSE)),
                "Properties": {
                    "VisibilityTimeout": worker_timeout * 6,
                    "MessageRetentionPeriod": 1209600,
                    "SqsManagedSseEnabled": True,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
                        "maxReceiveCount": 5,
                    },
                },
            },
            "PublisherRole": _role(
                [
                    # reads the plan, never writes it; the marker is the plan's, so no database
                    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": bucket_objects},
                    {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn},
                    {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue_arn},
                    {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": failed_arn},
                ]
            ),
            "WorkerRole": _role(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["dynamodb:BatchWriteItem", "dynamodb:PutItem"],
                        "Resource": table_arn,
                    },
                    {
                        "Effect": "Allow",
                        "Action": [
                            "sqs:ReceiveMessage",
                            "sqs:DeleteMessage",
                            "sqs:GetQueueAttributes",
                            "sqs:ChangeMessageVisibility",
                        ],
                        "Resource": queue_arn,
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["s3:PutObject"],
                        "Resource": _sub("${PlanBucket.Arn}/dead-letters/*"),
                    },
                    {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": failed_arn},
                    {
                        "Effect": "Allow",
                        "Action": ["secretsmanager:GetSecretValue"],
                        "Resource": secret,
                    },
                ]
            ),
            "PublisherFunction": _function(
                f"{pkg}.migration.publisher.handler",
                "PublisherRole",
                900,
                {"QUEUE_URL": _ref("WorkQueue"), "IDS_PER_MESSAGE": _ref("IdsPerMessage")},
            ),
            "WorkerFunction": _function(
                f"{pkg}.migration.worker.handler",
                "WorkerRole",
                worker_timeout,
                {
                    "TABLE_NAME": _ref("TableName"),
                    "DSN_SECRET_ARN": secret,
                    "DEAD_LETTER_BUCKET": _ref("PlanBucket"),
                    "MODEL_VERSION_COLUMN": _ref("VersionColumn"),
                },
            ),
            "WorkerEventSource": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": queue_arn,
                    "FunctionName": _ref("WorkerFunction"),
                    "BatchSize": _ref("SqsBatchSize"),
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                },
            },
        },
        "Outputs": {
            "PlanBucketName": {"Value": _ref("PlanBucket")},
            "WorkQueueUrl": {"Value": _ref("WorkQueue")},
            "DeadLetterQueueUrl": {"Value": _ref("DeadLetterQueue")},
            "FailedInvocationQueueUrl": {"Value": _ref("FailedInvocationQueue")},
            "PublisherFunctionName": {"Value": _ref("PublisherFunction")},
        },
    }


def stack_yaml(layout: ir.Layout, model: ir.Model) -> str:
    return f"# {header(model)}\n" + to_yaml(stack_template(layout, model))


@register("migration_stack")
def emit_migration_stack(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """`migration/{__init__,publisher,worker,_versioning,_loaders}.py` and `migration/stack.yaml`."""
    init = (
        f"# {header(model)}\n" + '"""AWS mode of the migration: publisher and worker Lambdas."""\n'
    )
    return {
        "migration/__init__.py": init,
        "migration/publisher.py": format_python(publisher_source(model)),
        "migration/worker.py": format_python(worker_source(layout, model)),
        "migration/_versioning.py": format_python(versioning_module(model)),
        "migration/_loaders.py": format_python(loaders_module(model)),
        "migration/stack.yaml": stack_yaml(layout, model),
    }
