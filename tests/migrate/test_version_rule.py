"""One version rule: the runner, the generated repository and the generated worker Lambda turn
the same version value into the same `_version` number, and all three refuse a bool.

The rule lives in modeling/runtime/versioning.py (standard library only); the generated code
ships it verbatim as `_versioning.py`. These tests run the generated modules themselves, on the
same inputs as the runner, so a copy that drifts fails here.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from generated_pkg import import_generated
from hypothesis import given, settings
from hypothesis import strategies as st

from modeling.api import load_model
from modeling.core import ir
from modeling.migrate.versioning import row_version, version_sources

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "modeling" / "runtime" / "versioning.py"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

MODEL = """\
model: versionrule
source:
  dialect: postgres
entities:
  Order:
    key: [order_id]
    version: revision
    attributes:
      order_id: integer
      revision: integer
access_patterns:
  get_order:
    entity: Order
    where: {order_id: "="}
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ir.Model:
    path = tmp_path_factory.mktemp("rule") / "versionrule.yaml"
    path.write_text(MODEL)
    return load_model(path)


@pytest.fixture(scope="module")
def generated(model: ir.Model, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The generated files and the imported repository and worker modules of `MODEL`."""
    root = tmp_path_factory.mktemp("generated") / "pkg"
    files, repository, worker = import_generated(model, root, "_rule")
    return {"files": files, "repository": repository, "worker": worker}


def _three(model: ir.Model, generated: dict[str, Any], value: Any) -> list[Any]:
    """The version each writer stores for a row of Order whose `revision` is `value`:
    an int, or the exception class it raised."""
    source = version_sources(model, None)["Order"]
    assert source.attribute == "revision"
    repository = generated["repository"].Repository(
        None, None, generated["repository"].Flags(), version_column="revision"
    )
    writers = (
        lambda row: row_version(source, row),
        lambda row: repository._row_version("Order", {**row, "__xmin": "5"}),
        lambda row: generated["worker"].row_version("Order", {**row, "__migrate_xmin": "5"}),
    )
    out: list[Any] = []
    for writer in writers:
        try:
            out.append(writer({"order_id": 1, "revision": value}))
        except (TypeError, ValueError) as exc:
            out.append(type(exc).__name__)
    return out


def _micros(value: dt.datetime) -> int:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return (aware - EPOCH) // dt.timedelta(microseconds=1)


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
naive = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        naive,
        naive.flatmap(lambda d: offsets.map(lambda tz: d.replace(tzinfo=tz))),
        st.text(alphabet="0123456789", min_size=1, max_size=20),
    )
)
def test_runner_repository_and_worker_store_the_same_version(
    model: ir.Model, generated: dict[str, Any], value: Any
) -> None:
    expected = _micros(value) if isinstance(value, dt.datetime) else int(value)
    assert _three(model, generated, value) == [expected] * 3


@settings(max_examples=100, deadline=None)
@given(
    value=st.one_of(
        st.booleans(),
        st.floats(allow_nan=False),
        st.dates(),
        st.text().filter(lambda t: not (t.isascii() and t.isdigit())),
        st.just("²"),  # str.isdigit() says yes, int() says no
        st.just("١٢"),  # Arabic-Indic digits: not the text PostgreSQL prints
        st.binary(),
    )
)
def test_every_writer_refuses_what_is_not_a_version(
    model: ir.Model, generated: dict[str, Any], value: Any
) -> None:
    assert _three(model, generated, value) == ["VersionError"] * 3


def test_a_bool_is_not_version_one(model: ir.Model, generated: dict[str, Any]) -> None:
    # the generated repository used to store True as version 1
    assert _three(model, generated, True) == ["VersionError"] * 3
    assert _three(model, generated, False) == ["VersionError"] * 3
    assert _three(model, generated, 1) == [1, 1, 1]


def test_the_generated_copies_are_the_runtime_module_verbatim(generated: dict[str, Any]) -> None:
    source = RUNTIME.read_text("utf-8")
    for rel in ("_versioning.py", "migration/_versioning.py"):
        text = generated["files"][rel]
        marker = "# copied from modeling/runtime/versioning.py\n"
        assert marker in text, rel
        assert text.split(marker, 1)[1] == source, rel


def test_the_runtime_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(RUNTIME.read_text("utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports in a module copied into generated code"
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "datetime", "collections", "hashlib", "json", "typing"}, (
        imported
    )


def test_tombstone_keys_are_deterministic_sharded_and_within_the_sort_key_limit() -> None:
    from modeling.runtime import versioning as v

    names = ("PK", "SK")
    key = {"PK": {"S": "ORDER#1"}, "SK": {"S": "PAYMENT#2024-01-01T00:00:00.000000Z#x"}}
    first = v.tombstone_key(key, names)
    assert first == v.tombstone_key(dict(reversed(list(key.items()))), names)
    assert first["PK"]["S"] in v.tombstone_partitions()
    assert len(v.tombstone_partitions()) == v.TOMBSTONE_SHARDS
    assert first != v.tombstone_key({**key, "SK": {"S": "PAYMENT#other"}}, names)
    # a retired key near DynamoDB's limits still gets a valid, distinct sort key (a digest)
    long_a = {"PK": {"S": "A" * 2000}, "SK": {"S": "B" * 1000}}
    long_b = {"PK": {"S": "A" * 2000}, "SK": {"S": "B" * 999 + "C"}}
    ka, kb = v.tombstone_key(long_a, names), v.tombstone_key(long_b, names)
    assert len(ka["SK"]["S"].encode()) <= 1024 and ka["SK"]["S"].startswith("#") and ka != kb
    # spread over the shards
    shards = {
        v.tombstone_key({"PK": {"S": f"K#{i}"}, "SK": {"S": "S"}}, names)["PK"]["S"]
        for i in range(200)
    }
    assert len(shards) == v.TOMBSTONE_SHARDS
    item = v.tombstone_item(key, names, "Payment", 7)
    assert item["_of"] == {"M": key} and item["_version"] == {"N": "7"} and "_type" not in item
    assert v.deleted_version(41) == 42
    assert v.row_lock_id("T", "Payment", ["x"]) == v.row_lock_id("T", "Payment", ["x"])
    assert v.row_lock_id("T", "Payment", ["x"]) != v.row_lock_id("T", "Payment", ["y"])
    assert -(2**63) <= v.row_lock_id("T", "E", [1]) < 2**63
