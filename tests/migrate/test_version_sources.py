"""Which attribute versions each entity's items: flag > entity `version:` > `source.version` >
xmin, and the runner (`version_sources`), the generated repository and the generated worker
Lambda all apply that one rule (no services needed: the generated code is imported and run)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from generated_pkg import import_generated

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit.migration_stack import stack_template
from modeling.migrate.checkpoint import Checkpoint
from modeling.migrate.errors import MigrationError
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.versioning import (
    pin_versions,
    version_attribute,
    version_number,
    version_sources,
)

MODEL = """\
model: versions
source:
  dialect: postgres
  version: updated_at
entities:
  Customer:
    key: [customer_id]
    attributes:
      customer_id: integer
      email: string
      revision: integer
      updated_at: datetime
  Order:
    key: [order_id]
    version: revision
    attributes:
      order_id: uuid
      customer_id: integer
      revision: integer
      updated_at: datetime
  Note:
    key: [note_id]
    attributes:
      note_id: integer
      body: string
  Audit:
    key: [audit_id]
    version: xmin
    attributes:
      audit_id: integer
      updated_at: datetime
access_patterns:
  get_customer:
    entity: Customer
    where: {customer_id: "="}
"""

# flag → entity → attribute (None: xmin), written out from the documented precedence
EXPECTED: dict[str | None, dict[str, str | None]] = {
    None: {"Customer": "updated_at", "Order": "revision", "Note": None, "Audit": None},
    # the flag wins for every entity that has the column, even over an explicit `xmin`
    "updated_at": {
        "Customer": "updated_at",
        "Order": "updated_at",
        "Note": None,
        "Audit": "updated_at",
    },
    "revision": {"Customer": "revision", "Order": "revision", "Note": None, "Audit": None},
    # `xmin` forces xmin everywhere
    "xmin": {"Customer": None, "Order": None, "Note": None, "Audit": None},
    # a column no entity has changes nothing
    "nowhere": {"Customer": "updated_at", "Order": "revision", "Note": None, "Audit": None},
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ir.Model:
    path = tmp_path_factory.mktemp("versions") / "versions.yaml"
    path.write_text(MODEL)
    return load_model(path)


@pytest.fixture(scope="module")
def generated(model: ir.Model, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The generated repository and worker modules of `MODEL`."""
    _, repository, worker = import_generated(
        model, tmp_path_factory.mktemp("generated") / "pkg", "_versions"
    )
    return repository, worker


@pytest.mark.parametrize("flag", list(EXPECTED), ids=[str(f) for f in EXPECTED])
def test_version_sources_follow_flag_then_entity_then_source_then_xmin(
    model: ir.Model, flag: str | None
) -> None:
    sources = version_sources(model, flag)
    assert {n: s.attribute for n, s in sources.items()} == EXPECTED[flag]
    for name, source in sources.items():
        entity = model.entity(name)
        assert entity is not None
        if source.attribute is None:
            assert source.is_xmin and source.kind == "xmin"
        else:
            attr = entity.attribute(source.attribute)
            assert attr is not None and source.kind == attr.type.kind


def test_the_model_setting_is_resolved_per_entity_in_the_ir(model: ir.Model) -> None:
    assert {e.name: e.version for e in model.entities} == EXPECTED[None]
    assert model.source is not None and model.source.version == "updated_at"


@pytest.mark.parametrize("flag", ["email", "body"])
def test_a_flag_naming_a_non_version_column_is_refused(model: ir.Model, flag: str) -> None:
    with pytest.raises(MigrationError, match="must be an integer or a datetime"):
        version_sources(model, flag)


@pytest.mark.parametrize("flag", list(EXPECTED), ids=[str(f) for f in EXPECTED])
def test_generated_repository_and_worker_choose_what_the_runner_chooses(
    model: ir.Model, generated: tuple[Any, Any], flag: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository, worker = generated
    if flag is None:
        monkeypatch.delenv("MODEL_VERSION_COLUMN", raising=False)
    else:
        monkeypatch.setenv("MODEL_VERSION_COLUMN", flag)
    for entity in model.entities:
        expected = version_attribute(entity, flag)
        assert expected == EXPECTED[flag][entity.name]
        assert repository.version_attribute(entity.name, flag) == expected
        row = {a.name: None for a in entity.attributes}
        assert worker.version_attribute(entity.name, row) == expected


def test_generated_repository_takes_the_override_from_the_environment(
    generated: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    repository, _ = generated
    flags = repository.Flags()
    monkeypatch.setenv("MODEL_VERSION_COLUMN", "revision")
    assert repository.Repository(None, None, flags).version_column == "revision"
    assert repository.Repository(None, None, flags, version_column="xmin").version_column == "xmin"
    monkeypatch.delenv("MODEL_VERSION_COLUMN")
    assert repository.Repository(None, None, flags).version_column is None


def test_generated_worker_row_version_uses_the_entity_source(generated: tuple[Any, Any]) -> None:
    _, worker = generated
    stamp = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    micros = (stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    customer = {"__migrate_xmin": "812", "customer_id": 1, "revision": 4, "updated_at": stamp}
    assert worker.row_version("Customer", customer) == micros == version_number(stamp)
    assert "__migrate_xmin" not in customer  # popped: never becomes an item attribute
    order = {"__migrate_xmin": "813", "order_id": 1, "revision": 4, "updated_at": stamp}
    assert worker.row_version("Order", order) == 4
    assert worker.row_version("Note", {"__migrate_xmin": "814", "note_id": 1}) == 814
    # a naive timestamp (timestamp without time zone) is taken as UTC, as the runner does
    naive = {"__migrate_xmin": "1", "updated_at": stamp.replace(tzinfo=None)}
    assert worker.row_version("Customer", naive) == micros
    with pytest.raises(TypeError):
        worker.version_number("2024-05-06")


def test_stack_passes_the_version_override_to_the_worker(model: ir.Model) -> None:
    layout, _ = compile_model(model)
    assert layout is not None
    template: dict[str, Any] = stack_template(layout, model)
    assert template["Parameters"]["VersionColumn"]["Default"] == ""
    env = template["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["MODEL_VERSION_COLUMN"] == {"Ref": "VersionColumn"}


def test_a_resume_keeps_the_version_sources_it_started_with(
    model: ir.Model, tmp_path: Path
) -> None:
    state: dict[str, Any] = {"marker": 7}
    pin_versions(state, version_sources(model, None))
    assert state["versions"] == {
        "Audit": "xmin",
        "Customer": "updated_at",
        "Note": "xmin",
        "Order": "revision",
    }
    pin_versions(state, version_sources(model, "nowhere"))  # the same sources: accepted
    with pytest.raises(MigrationError, match=r"Customer: updated_at -> xmin.*Order: revision"):
        pin_versions(state, version_sources(model, "xmin"))

    # the runner checks before it reads anything: no database or table is touched here
    layout, _ = compile_model(model)
    assert layout is not None
    Checkpoint(tmp_path / "ckpt").save_run_state(state)
    runner = Runner(
        model, layout, "postgresql://unused", None, tmp_path / "ckpt",
        RunOptions(progress=False, version_column="xmin"),
    )  # fmt: skip
    with pytest.raises(MigrationError, match="other version sources"):
        runner.run()
    assert Checkpoint(tmp_path / "ckpt").run_state() == state  # left as it was
