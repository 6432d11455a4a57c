"""Smoke tests of the service fixtures: each proves it talks to the real engine it claims."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError

from modeling.services import (
    DynamoDBLocal,
    PostgresCluster,
    ServiceUnavailable,
    find_dynamodb_local_jar,
)

TESTS = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------------ PostgreSQL


def test_postgres_round_trips_rows_on_version_15_or_later(postgres: PostgresCluster) -> None:
    dsn = postgres.create_database()
    assert dsn != postgres.dsn and dsn.startswith(
        f"postgresql://postgres@127.0.0.1:{postgres.port}/"
    )
    with psycopg.connect(dsn) as conn:
        version = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
        conn.execute("CREATE TABLE brand (id int PRIMARY KEY, name text NOT NULL)")
        conn.cursor().executemany(
            "INSERT INTO brand (id, name) VALUES (%s, %s)",
            [(2, "Bosch"), (1, "Acme"), (3, "Čedok")],
        )
        rows = conn.execute("SELECT id, name FROM brand ORDER BY id").fetchall()
        fsync = conn.execute("SHOW fsync").fetchone()
    assert version >= 150000
    assert rows == [(1, "Acme"), (2, "Bosch"), (3, "Čedok")]
    assert fsync == ("off",)


def test_postgres_databases_are_isolated(postgres: PostgresCluster) -> None:
    a, b = postgres.create_database(), postgres.create_database()
    assert a != b
    with psycopg.connect(a) as conn:
        conn.execute("CREATE TABLE only_in_a (x int)")
    with psycopg.connect(b) as conn:
        found = conn.execute("SELECT to_regclass('only_in_a')").fetchone()
    assert found == (None,)


def test_postgres_named_database_and_listen_address(postgres: PostgresCluster) -> None:
    name = f"named_{uuid.uuid4().hex[:8]}"
    dsn = postgres.create_database(name)
    assert dsn.endswith(f"/{name}")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT current_database(), inet_server_addr()::text").fetchone()
    assert row == (name, "127.0.0.1/32")


def test_postgres_missing_binaries_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("stm-pg-*"))
    cluster = PostgresCluster(bindir=tmp_path)  # an empty dir: no initdb
    with pytest.raises(ServiceUnavailable, match=r"lacks the PostgreSQL server binaries") as err:
        cluster.start()
    assert str(tmp_path) in str(err.value) and "POSTGRES_BINDIR" in str(err.value)
    assert set(Path(tempfile.gettempdir()).glob("stm-pg-*")) == before


# -------------------------------------------------------------------------------- DynamoDB Local


def _two_gsi_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"}
            for a in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": idx,
                "KeySchema": [
                    {"AttributeName": f"{idx}PK", "KeyType": "HASH"},
                    {"AttributeName": f"{idx}SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for idx in ("GSI1", "GSI2")
        ],
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})


def test_dynamodb_local_table_with_two_gsis_serves_queries(dynamodb_local: DynamoDBLocal) -> None:
    client = dynamodb_local.client()
    table = f"t_{uuid.uuid4().hex[:8]}"
    _two_gsi_table(client, table)

    desc = client.describe_table(TableName=table)["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    assert sorted((g["IndexName"], g["IndexStatus"]) for g in desc["GlobalSecondaryIndexes"]) == [
        ("GSI1", "ACTIVE"),
        ("GSI2", "ACTIVE"),
    ]

    item = {
        "PK": {"S": "PRODUCT#p1"},
        "SK": {"S": "VARIANT#v1"},
        "GSI1PK": {"S": "BRAND#acme"},
        "GSI1SK": {"S": "PRODUCT#p1"},
        "GSI2PK": {"S": "SKU#123"},
        "GSI2SK": {"S": "VARIANT#v1"},
        "price": {"N": "9.99"},
    }
    client.put_item(TableName=table, Item=item)
    for idx in ("GSI1", "GSI2"):
        got = client.query(
            TableName=table,
            IndexName=idx,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": f"{idx}PK"},
            ExpressionAttributeValues={":pk": item[f"{idx}PK"]},
        )["Items"]
        assert got == [item], idx

    # The resource API reaches the same database (same dummy identity and region).
    assert (
        dynamodb_local.resource()
        .Table(table)
        .get_item(Key={"PK": "PRODUCT#p1", "SK": "VARIANT#v1"})["Item"]["GSI2PK"]
        == "SKU#123"
    )


def _batch(n: int) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": {"PK": {"S": f"P#{i}"}, "SK": {"S": "A"}}}} for i in range(n)]


def _simple_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
    )


def test_dynamodb_local_is_the_real_thing_where_moto_is_not(
    dynamodb_local: DynamoDBLocal, moto_dynamodb: Any
) -> None:
    """moto accepts a 26-item BatchWriteItem; DynamoDB (and DynamoDB Local) reject it.

    If moto ever starts rejecting it too, pick another discriminator: the point is that the
    e2e fixture is not a permissive fake.
    """
    table = f"t_{uuid.uuid4().hex[:8]}"
    _simple_table(moto_dynamodb, table)
    moto_dynamodb.batch_write_item(RequestItems={table: _batch(26)})
    assert moto_dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 26

    real = dynamodb_local.client()
    _simple_table(real, table)
    with pytest.raises(ClientError) as err:
        real.batch_write_item(RequestItems={table: _batch(26)})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert real.scan(TableName=table, Select="COUNT")["Count"] == 0
    # ... while the limit itself is accepted.
    assert real.batch_write_item(RequestItems={table: _batch(25)})["UnprocessedItems"] == {}
    assert real.scan(TableName=table, Select="COUNT")["Count"] == 25


def test_dynamodb_local_bad_jar_reports_the_jvm_output(tmp_path: Path) -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no java: the failure path under test needs a JVM to fail")
    jar = tmp_path / "DynamoDBLocal.jar"
    jar.write_bytes(b"not a jar")
    (tmp_path / "DynamoDBLocal_lib").mkdir()
    ddb = DynamoDBLocal(jar=jar, startup_timeout=30)
    with pytest.raises(ServiceUnavailable, match=r"exited with code \d+") as err:
        ddb.start()
    assert "jarfile" in str(err.value).lower()  # the JVM's own words are quoted
    assert ddb._proc is None and ddb._tmp is None


def test_missing_jar_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DYNAMODB_LOCAL_JAR", str(tmp_path / "nope.jar"))
    with pytest.raises(ServiceUnavailable, match="DYNAMODB_LOCAL_JAR"):
        find_dynamodb_local_jar()


# ------------------------------------------------------------------------------------------ moto


def test_moto_fixture_is_in_process_and_isolated(moto_dynamodb: Any) -> None:
    assert moto_dynamodb.list_tables()["TableNames"] == []  # fresh per test
    _simple_table(moto_dynamodb, "catalog")
    moto_dynamodb.put_item(TableName="catalog", Item={"PK": {"S": "a"}, "SK": {"S": "b"}})
    got = moto_dynamodb.get_item(TableName="catalog", Key={"PK": {"S": "a"}, "SK": {"S": "b"}})
    assert got["Item"] == {"PK": {"S": "a"}, "SK": {"S": "b"}}
    assert moto_dynamodb.meta.endpoint_url.startswith("https://dynamodb.us-east-1.")


# ------------------------------------------------------------------- the CI=true contract itself


@pytest.mark.parametrize(("ci", "expected"), [("true", "1 error"), ("", "1 skipped")])
def test_unavailable_service_fails_under_ci_and_skips_otherwise(
    tmp_path: Path, ci: str, expected: str
) -> None:
    """Run a tiny suite against our conftest with DynamoDB Local made unfindable."""
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_x.py").write_text(
        textwrap.dedent(
            """
            def test_needs_it(dynamodb_local):
                raise AssertionError("must not run")
            """
        )
    )
    env = {**os.environ, "CI": ci, "DYNAMODB_LOCAL_JAR": str(tmp_path / "missing.jar")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert expected in out, out
    assert "must not run" not in out
    assert "DYNAMODB_LOCAL_JAR" in out  # the reason is shown either way
    assert (proc.returncode != 0) == (ci == "true"), out
