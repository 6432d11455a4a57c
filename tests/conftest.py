"""Shared fixtures for the real services and for moto.

- `postgres` (session): a throwaway PostgreSQL 15 cluster; `.dsn`, `.create_database()`,
  `.bindir`, `.port`.
- `dynamodb_local` (session): AWS's DynamoDB Local in memory; `.endpoint_url`, `.client()`,
  `.resource()`.
- `moto_dynamodb` (function): a boto3 DynamoDB client inside `moto.mock_aws()`.

Each session fixture starts its process the first time a test asks for it (tests that don't
ask pay nothing) and stops it at the end of the session. Tests that use them are marked `e2e`
automatically, so `pytest -m "not e2e"` is the fast loop.

When a service cannot start, the test is skipped with the reason, except under `CI=true`,
where it fails: CI must never go green because the real services silently did not run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from modeling.services import (
    DYNAMODB_REGION,
    DynamoDBLocal,
    PostgresCluster,
    ServiceUnavailable,
)

# A diagnostic with a code missing from modeling/core/codes.py raises (see core/diagnostics.py).
os.environ.setdefault("MODELING_STRICT_CODES", "1")

_REAL_SERVICE_FIXTURES = frozenset({"postgres", "dynamodb_local"})

S = TypeVar("S", PostgresCluster, DynamoDBLocal)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _service(name: str, factory: Callable[[], S]) -> Iterator[S]:
    """Start a service for the session; skip (locally) or fail (CI) when it cannot start."""
    service = factory()
    try:
        service.start()
    except ServiceUnavailable as exc:
        reason = f"{name} unavailable: {exc}"
        if _in_ci():
            pytest.fail(f"{reason}\n(CI=true: a missing service is a failure)", pytrace=False)
        pytest.skip(reason)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster shared by the session; use create_database() per test."""
    yield from _service("PostgreSQL", PostgresCluster)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    """DynamoDB Local shared by the session; give each test its own table names."""
    yield from _service("DynamoDB Local", DynamoDBLocal)


@pytest.fixture
def moto_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 DynamoDB client on moto's in-process fake (fast; accepts more than AWS does)."""
    import boto3
    from moto import mock_aws

    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", DYNAMODB_REGION)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=DYNAMODB_REGION)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses a real service `e2e`, so nobody has to remember to."""
    for item in items:
        if _REAL_SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
