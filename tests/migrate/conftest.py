"""Fixtures of the migration tests: the `shopmig` model compiled, a loaded source database,
a fresh table on DynamoDB Local."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import psycopg
import pytest
import shopdata
from generated_pkg import write_and_import

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.migrate import transformers


@dataclass(frozen=True)
class Shop:
    model: ir.Model
    layout: ir.Layout
    module: ModuleType


@pytest.fixture(scope="session")
def shop() -> Shop:
    model = load_model(shopdata.MODEL)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    return Shop(model, layout, transformers.generate(layout, model))


@pytest.fixture
def make_table(dynamodb_local: Any, shop: Shop) -> Callable[[], str]:
    """A function creating a fresh, empty table with the shop's layout; returns its name."""
    from modeling.verify.dynamo import create_table

    def make() -> str:
        name = f"ShopMig-{uuid.uuid4().hex[:8]}"
        create_table(dynamodb_local.client(), shop.layout, name)
        return name

    return make


@pytest.fixture
def source_db(postgres: Any) -> Callable[[int], tuple[str, dict[str, int]]]:
    """A function loading a fresh database with about `n` shop rows; returns (dsn, counts)."""

    def make(n: int, seed: int = 1) -> tuple[str, dict[str, int]]:
        dsn = postgres.create_database()
        return dsn, shopdata.load(dsn, n, seed)

    return make


@pytest.fixture(scope="session")
def generated_package(shop: Shop, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The shop's generated package (transformers + repository), imported from a temp dir."""
    import importlib

    from modeling.emit.repository import emit_repository
    from modeling.emit.transformers import emit_transformers

    files = {
        **emit_transformers(shop.layout, shop.model),
        **emit_repository(shop.layout, shop.model),
    }
    root = tmp_path_factory.mktemp("generated") / "shopmig_pkg"
    name = write_and_import(files, root, "_shopmig_generated")
    return importlib.import_module(f"{name}.repository")


@dataclass(frozen=True)
class Ledger:
    """The `ledger` model (a Payment's table key holds attributes beyond its identity), its
    generated transformers and dual-write repository (one package, as an application has it)."""

    model: ir.Model
    layout: ir.Layout
    module: ModuleType  # transformers
    repository: ModuleType
    client: ModuleType


@pytest.fixture(scope="session")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    import importlib

    import ledgerdata

    from modeling.emit.client import emit_client
    from modeling.emit.repository import emit_repository
    from modeling.emit.transformers import emit_transformers

    model = load_model(ledgerdata.MODEL)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    files = {
        **emit_transformers(layout, model),
        **emit_repository(layout, model),
        **emit_client(layout, model),
    }
    name = write_and_import(files, tmp_path_factory.mktemp("ledger") / "pkg", "_ledger_generated")
    return Ledger(
        model,
        layout,
        importlib.import_module(f"{name}.transformers"),
        importlib.import_module(f"{name}.repository"),
        importlib.import_module(f"{name}.client"),
    )


@pytest.fixture
def ledger_db(postgres: Any) -> Callable[..., tuple[str, dict[str, int]]]:
    """A function loading a fresh database with `n` ledger payments; returns (dsn, counts)."""
    import ledgerdata

    def make(n: int, seed: int = 1) -> tuple[str, dict[str, int]]:
        dsn = postgres.create_database()
        return dsn, ledgerdata.load(dsn, n, seed)

    return make


@pytest.fixture
def ledger_table(dynamodb_local: Any, ledger: Ledger) -> Callable[[], str]:
    """A function creating a fresh, empty table with the ledger's layout; returns its name."""
    from modeling.verify.dynamo import create_table

    def make() -> str:
        name = f"Ledger-{uuid.uuid4().hex[:8]}"
        create_table(dynamodb_local.client(), ledger.layout, name)
        return name

    return make


@dataclass
class DualWrite:
    """One model set up end to end for a dual-write test: compiled, its DDL run on a fresh
    PostgreSQL database, a fresh DynamoDB Local table with its layout, and (on first use) its
    generated transformers, dual-write repository and client imported as one package."""

    model: ir.Model
    layout: ir.Layout
    dsn: str
    client: Any  # boto3 DynamoDB client on DynamoDB Local
    table: str
    root: Any  # pathlib.Path: where the package is written
    prefix: str
    _repository: ModuleType | None = None

    @property
    def repository(self) -> ModuleType:
        """The generated `repository` module (emitted and imported once)."""
        if self._repository is None:
            import importlib

            from modeling.emit.client import emit_client
            from modeling.emit.repository import emit_repository
            from modeling.emit.transformers import emit_transformers

            files = {
                **emit_transformers(self.layout, self.model),
                **emit_repository(self.layout, self.model),
                **emit_client(self.layout, self.model),
            }
            name = write_and_import(files, self.root, self.prefix)
            self._repository = importlib.import_module(f"{name}.repository")
        return self._repository

    def client_module(self) -> ModuleType:
        """The generated typed client of the same package (its access-pattern methods)."""
        import importlib

        return importlib.import_module(self.repository.__name__.rsplit(".", 1)[0] + ".client")

    def repo(self, conn: Any, **flags: bool) -> Any:
        """A Repository on `conn` writing this test's table; flags by their config names
        (default: writeToBothDatabases)."""
        mod = self.repository
        config = flags or {"writeToBothDatabases": True}
        return mod.Repository(
            conn, self.client, mod.Flags.from_config(config), table_name=self.table
        )

    def differences(self) -> tuple[dict[str, int], str]:
        """PostgreSQL's rows against DynamoDB's items, every row (`model migrate validate
        --full`: missing, mismatched, stale and extra items, versions included): (totals, the
        report's markdown)."""
        from modeling.migrate.validate import validate

        report = validate(self.model, self.layout, self.dsn, self.client, None, self.table)
        return report.totals(), report.markdown()

    def items(self) -> list[dict[str, Any]]:
        """Every item of the table but tombstones (a consistent scan, all pages)."""
        out: list[dict[str, Any]] = []
        pages = self.client.get_paginator("scan").paginate(
            TableName=self.table, ConsistentRead=True
        )
        for page in pages:
            out.extend(i for i in page["Items"] if "_tombstone" not in i)
        return out


@pytest.fixture
def dual_write(postgres: Any, dynamodb_local: Any, tmp_path: Any) -> Callable[..., DualWrite]:
    """A function setting up `model_text` (YAML) with `ddl` (one SQL string or several, run in
    order on a fresh database): see DualWrite. `prefix` names the imported package."""
    from modeling.verify.dynamo import create_table

    made = 0

    def make(model_text: str, ddl: str | list[str], prefix: str = "_dual") -> DualWrite:
        nonlocal made
        made += 1
        folder = tmp_path / f"dual{made}"
        folder.mkdir()
        path = folder / "model.yaml"
        path.write_text(model_text, encoding="utf-8")
        model = load_model(path)
        layout, diags = compile_model(model)
        assert layout is not None, diags.sorted()
        dsn = postgres.create_database()
        with psycopg.connect(dsn) as conn:
            for statement in [ddl] if isinstance(ddl, str) else ddl:
                conn.execute(statement)
        client = dynamodb_local.client()
        table = f"{layout.table_name}-{uuid.uuid4().hex[:8]}"
        create_table(client, layout, table)
        return DualWrite(model, layout, dsn, client, table, folder / "pkg", prefix)

    return make
