"""The target table: is it there, with the compiled keys and indexes; create it if asked.

One definition of the table: `api.table_requests`, the boto3 kwargs that
`generated/<model>/create-table.json` and `post-create-table.json` hold (built once by the
CloudFormation emitter). `model migrate create-table` and `model migrate run --create-table`
create the table from it; `run` and `validate` check it before reading a row, so a missing
table is one clear error (table, endpoint, the command that creates it), not DynamoDB's
ResourceNotFoundException halfway through a run.

Idempotent: an existing table whose key schema, key attribute types and indexes equal the
definition is fine (`TableStatus.state == "exists"`); one that differs is an error naming each
difference. Billing, streams, tags and TTL are not compared: they can be changed in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modeling import api
from modeling.core import ir
from modeling.migrate.errors import MigrationError

WAIT_SECONDS = 600.0  # creating a table (GSIs included) on AWS takes seconds to minutes
POLL_SECONDS = 1.0


@dataclass
class TableStatus:
    """What `ensure_table` found or did."""

    table: str
    endpoint: str
    state: str  # "exists" (same definition) | "created"
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # follow-up calls the endpoint refused

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "endpoint": self.endpoint,
            "state": self.state,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }

    def message(self) -> str:
        if self.state == "created":
            return f"created table {self.table} at {self.endpoint} ({self.seconds:.1f} s); it is ACTIVE"
        return (
            f"table {self.table} at {self.endpoint} exists with the model's key schema and "
            "indexes; nothing to do"
        )


def endpoint_of(client: Any) -> str:
    """The URL the client sends to (AWS's regional endpoint when none was given)."""
    meta = getattr(client, "meta", None)
    return str(getattr(meta, "endpoint_url", None) or "the default endpoint")


def create_hint(model: ir.Model, table: str, endpoint: str) -> str:
    """The command that creates the table (and the flag that makes `run` do it)."""
    model_file = model.file or "MODEL"
    args = [f"model migrate create-table {model_file}"]
    if not endpoint.startswith("https://dynamodb."):
        args.append(f"--endpoint {endpoint}")
    args.append(f"--table {table}")
    return f"create it with `{' '.join(args)}`, or rerun `migrate run` with --create-table"


def describe(client: Any, table: str) -> dict[str, Any] | None:
    """DescribeTable's `Table`, or None when the table does not exist."""
    try:
        return dict(client.describe_table(TableName=table)["Table"])
    except Exception as exc:
        if _error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", "")) or None
    return None


# --------------------------------------------------------------------------- comparison


def _keys(schema: Sequence[Mapping[str, str]]) -> str:
    return ", ".join(f"{k['AttributeName']} {k['KeyType']}" for k in schema) or "none"


def _projection(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "ALL"
    kind = str(p.get("ProjectionType", "ALL"))
    extra = sorted(p.get("NonKeyAttributes", []))
    return f"{kind} ({', '.join(extra)})" if extra else kind


def differences(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """What differs between the definition (create_table kwargs) and DescribeTable's `Table`,
    one sentence each; [] when the keys, key attribute types and indexes agree."""
    out: list[str] = []
    if list(expected["KeySchema"]) != list(actual.get("KeySchema", [])):
        out.append(
            f"key schema is {_keys(actual.get('KeySchema', []))}; the model needs "
            f"{_keys(expected['KeySchema'])}"
        )
    want_types = {d["AttributeName"]: d["AttributeType"] for d in expected["AttributeDefinitions"]}
    have_types = {
        d["AttributeName"]: d["AttributeType"] for d in actual.get("AttributeDefinitions", [])
    }
    for name, kind in sorted(want_types.items()):
        if name in have_types and have_types[name] != kind:
            out.append(f"key attribute {name} is {have_types[name]}; the model needs {kind}")
    for section, label in (("GlobalSecondaryIndexes", "GSI"), ("LocalSecondaryIndexes", "LSI")):
        want = {i["IndexName"]: i for i in expected.get(section, [])}
        have = {i["IndexName"]: i for i in actual.get(section, []) or []}
        for name in sorted(set(want) - set(have)):
            why = (
                "; an LSI can only be created with its table (create a new table and copy "
                "the items, or compile the model with `table: {exists: true}`)"
                if label == "LSI"
                else ""
            )
            out.append(f"{label} {name} ({_keys(want[name]['KeySchema'])}) is missing{why}")
        for name in sorted(set(have) - set(want)):
            out.append(f"{label} {name} is not in the model")
        for name in sorted(set(want) & set(have)):
            w, h = want[name], have[name]
            if list(w["KeySchema"]) != list(h.get("KeySchema", [])):
                out.append(
                    f"{label} {name} has keys {_keys(h.get('KeySchema', []))}; the model "
                    f"needs {_keys(w['KeySchema'])}"
                )
            if _projection(w.get("Projection")) != _projection(h.get("Projection")):
                out.append(
                    f"{label} {name} projects {_projection(h.get('Projection'))}; the model "
                    f"needs {_projection(w.get('Projection'))}"
                )
    return out


# --------------------------------------------------------------------------- check / create


def _active(table: Mapping[str, Any]) -> bool:
    if table.get("TableStatus") != "ACTIVE":
        return False
    return all(
        g.get("IndexStatus", "ACTIVE") == "ACTIVE"
        for g in table.get("GlobalSecondaryIndexes", []) or []
    )


def wait_active(
    client: Any,
    table: str,
    timeout: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll DescribeTable until the table and every GSI are ACTIVE; MigrationError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        found = describe(client, table)
        if found is not None and _active(found):
            return found
        if time.monotonic() >= deadline:
            state = "missing" if found is None else found.get("TableStatus", "?")
            raise MigrationError(
                f"table {table} at {endpoint_of(client)} is not ACTIVE after {timeout:.0f} s "
                f"(status {state})",
                hint="check the table in the console, then rerun",
            )
        sleep(POLL_SECONDS)


def _mismatch(table: str, endpoint: str, diffs: Sequence[str]) -> MigrationError:
    return MigrationError(
        f"table {table} at {endpoint} exists but differs from the model: " + "; ".join(diffs),
        hint="migrate into a new table (--table NAME), or delete this one and create it "
        "from the model",
    )


def check_table(client: Any, model: ir.Model, layout: ir.Layout, table: str | None = None) -> None:
    """Raise MigrationError when the table is missing (with the command that creates it) or
    its keys or indexes differ from the model's."""
    request, _ = api.table_requests(layout, model, table)
    name = request["TableName"]
    endpoint = endpoint_of(client)
    found = describe(client, name)
    if found is None:
        raise MigrationError(
            f"table {name} does not exist at {endpoint}",
            hint=create_hint(model, name, endpoint),
        )
    diffs = differences(request, found)
    if diffs:
        raise _mismatch(name, endpoint, diffs)


def ensure_table(
    client: Any,
    model: ir.Model,
    layout: ir.Layout,
    table: str | None = None,
    *,
    timeout: float = WAIT_SECONDS,
) -> TableStatus:
    """Create the table from the model's definition unless it exists; wait until ACTIVE.

    An existing table with the same keys and indexes is fine; one that differs raises
    MigrationError naming each difference. After creating it, the follow-up calls
    (`post-create-table.json`: point-in-time recovery, TTL) run; one the endpoint refuses
    (DynamoDB Local has no backups) becomes a note, not a failure.
    """
    request, post = api.table_requests(layout, model, table)
    name = request["TableName"]
    endpoint = endpoint_of(client)
    started = time.monotonic()
    found = describe(client, name)
    if found is not None:
        diffs = differences(request, found)
        if diffs:
            raise _mismatch(name, endpoint, diffs)
        if not _active(found):
            wait_active(client, name, timeout)
        return TableStatus(name, endpoint, "exists", time.monotonic() - started)
    try:
        client.create_table(**request)
    except Exception as exc:
        if _error_code(exc) != "ResourceInUseException":  # created meanwhile by someone else
            raise
    wait_active(client, name, timeout)
    status = TableStatus(name, endpoint, "created")
    for method, kwargs in post.items():
        try:
            getattr(client, method)(**kwargs)
        except Exception as exc:
            code = _error_code(exc) or type(exc).__name__
            status.notes.append(f"{method} was refused ({code}); set it by hand")
    status.seconds = time.monotonic() - started
    return status
