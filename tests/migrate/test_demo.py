"""`model migrate demo`: the migration end to end on example models, and its input errors.

The e2e tests run the command as a user does (a subprocess starting its own PostgreSQL 15 and
DynamoDB Local) and check its JSON against itself: every loaded row checked, every item written,
the application's updates rewritten by the catch-up. They request the session's `postgres` and
`dynamodb_local` fixtures so a missing service skips locally and fails under CI=true.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.migrate.versioning import version_sources
from modeling.sample.generate import planned_counts
from modeling.verify.runner import keyed_attributes
from modeling.workflows import demo

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "models").glob("*.yaml"))
ROWS = 3_000
SEED = 11


def _compiled(path: Path) -> tuple[ir.Model, ir.Layout]:
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    return model, layout


def _demo_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "modeling.cli", "migrate", "demo", *args]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


# --------------------------------------------------------------------------- sizing (fast)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("rows", [500, 20_000])
def test_planned_sample_adds_up_to_about_the_requested_rows(path: Path, rows: int) -> None:
    model, _ = _compiled(path)
    options = demo.sample_options(model, rows, seed=3)
    total = sum(planned_counts(model, options).values())
    assert 0.95 * rows <= total <= rows, (options, total)
    assert options.roots >= demo.MIN_ROOTS  # not one giant tree under a single root


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_drawn_sample_is_near_the_request_and_deterministic_for_a_seed(path: Path) -> None:
    model, layout = _compiled(path)
    data, _ = demo.make_sample(model, layout, 4_000, seed=5)
    again, _ = demo.make_sample(model, layout, 4_000, seed=5)
    other, _ = demo.make_sample(model, layout, 4_000, seed=6)
    # orders' Payment draws far fewer rows than planned (one per order): the resize makes up
    assert abs(data.total() - 4_000) <= 0.1 * 4_000, data.total()
    assert all(data.of(e.name) for e in model.entities)
    assert data.rows == again.rows
    assert data.rows != other.rows


def test_a_tiny_request_still_gives_every_entity_rows() -> None:
    model, layout = _compiled(ROOT / "models" / "orders.yaml")
    data, _ = demo.make_sample(model, layout, 1, seed=0)
    assert all(data.of(e.name) for e in model.entities)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_application_never_updates_keys_and_bumps_version_attributes(path: Path) -> None:
    model, layout = _compiled(path)
    versions = version_sources(model, None)
    keyed = keyed_attributes(layout)
    updates = 0
    for entity in model.entities:
        update = demo.update_statement(model, layout, entity, versions[entity.name])
        if update is None:
            continue
        updates += 1
        tree = sqlglot.parse_one(update.sql.replace("%%", "%"), read="postgres")
        assert isinstance(tree, exp.Update), update.sql
        sets = {eq.this.name: eq.expression for eq in tree.expressions}
        assigned = set(sets)
        columns = {a.column_name: a.name for a in entity.attributes}
        for column, value in sets.items():
            name = columns[column]
            assert name not in entity.key, (entity.name, update.sql)
            changed = not (isinstance(value, exp.Column) and value.name == column)  # `c = c`
            assert not changed or (entity.name, name) not in keyed, (entity.name, update.sql)
        where = {c.name for c in tree.args["where"].find_all(exp.Column)}
        assert where == {entity.attribute(k).column_name for k in entity.key}  # type: ignore[union-attr]
        version = versions[entity.name].attribute
        if version is not None:
            column = entity.attribute(version)
            assert column is not None and column.column_name in assigned, update.sql
        assert update.key == tuple(entity.key)
    assert updates == len(model.entities)  # every example entity takes part in the race


def test_a_non_empty_keep_directory_exits_2_before_anything_starts(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "old.txt").write_text("a previous run", encoding="utf-8")
    result = _demo_cli("models/orders.yaml", "--keep", str(keep), timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"--keep {keep} is not an empty directory" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in keep.iterdir()) == ["old.txt"]


def test_a_missing_model_exits_2_naming_the_path() -> None:
    result = _demo_cli("models/no-such-model.yaml", timeout=120)
    assert result.returncode == 2
    assert "models/no-such-model.yaml" in result.stderr
    assert "error" in result.stderr and "Traceback" not in result.stderr


def test_a_broken_model_exits_2_with_file_line_col(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "models" / "orders.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("    key: [customer_id]", "    kee: [customer_id]", 1), "utf-8")
    line = next(i for i, t in enumerate(bad.read_text().splitlines(), 1) if "kee:" in t)
    result = _demo_cli(str(bad), timeout=120)
    assert result.returncode == 2
    assert re.search(rf"{re.escape(str(bad))}:{line}:\d+: error", result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_rows_below_one_is_a_usage_error() -> None:
    result = _demo_cli("models/orders.yaml", "--rows", "0", timeout=120)
    assert result.returncode == 2
    assert "--rows" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- e2e


@pytest.fixture(scope="module")
def orders_run(
    postgres: Any, dynamodb_local: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    keep = tmp_path_factory.mktemp("demo") / "kept"
    result = _demo_cli(
        "models/orders.yaml",
        "--rows",
        str(ROWS),
        "--seed",
        str(SEED),
        "--keep",
        str(keep),
        "--json",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout), keep


@pytest.mark.e2e
@pytest.mark.slow
def test_orders_demo_migrates_every_row_and_validates(
    orders_run: tuple[dict[str, Any], Path],
) -> None:
    report, keep = orders_run
    rows = report["rows_total"]
    app = report["app"]
    assert report["ok"] is True and report["validation"]["ok"] is True
    assert abs(rows - ROWS) <= 0.1 * ROWS
    assert rows == sum(report["rows"].values())
    assert set(report["rows"]) == {
        "Cart", "Customer", "LineItem", "Order", "Payment", "Return", "Shipment"
    }  # fmt: skip
    # the random application inserted, updated, changed keys of and deleted rows through the
    # dual-write repository all through the backfill and catch-up (issue 15, "Done when")
    assert app["errors"] == [] and all(
        app[k] > 0 for k in ("inserts", "updates", "key_changes", "deletes")
    ), app
    now = rows + app["inserts"] - app["deletes"]
    v = report["validation"]
    assert v["sql_count"] == now
    assert v["checked"] == now - report["dead_letters"] == v["item_count"]
    assert v["missing"] == v["mismatched"] == v["stale"] == 0
    audit = report["audit"]
    assert audit["ok"] is True and audit["items"] == v["item_count"]
    assert [audit[k] for k in ("missing", "mismatched", "stale", "orphaned", "resurrected")] == [
        0, 0, 0, 0, 0
    ]  # fmt: skip
    assert audit["tombstones"] >= app["deletes"]  # and one per key change
    run_entities = report["run"]["entities"]
    # rows the application deleted before the backfill read them are not read
    read = {n: e["rows_read"] for n, e in run_entities.items()}
    assert (
        all(read[n] <= report["rows"][n] for n in read)
        and sum(read.values()) >= rows - app["deletes"]
    )
    # the after-read application raced the backfill: each updated row was written stale by the
    # backfill, then rewritten by the catch-up (validation, comparing _version too, found none
    # stale); the catch-up also re-read the random application's rows
    assert report["app_updates"] > 0 and report["app_errors"] == []
    assert report["catch_up"]["rows"] >= report["app_updates"]

    manifest = json.loads((keep / "plan" / "manifest.json").read_text(encoding="utf-8"))
    assert {n: e["count"] for n, e in manifest["entities"].items()} == report["rows"]
    assert "Result: **OK**" in (keep / "validation.md").read_text(encoding="utf-8")
    assert json.loads((keep / "demo.json").read_text(encoding="utf-8")) == report
    assert report["kept"] == str(keep)
    assert len(list((keep / "checkpoint").rglob("*"))) > 0


@pytest.mark.e2e
@pytest.mark.slow
def test_same_seed_gives_the_same_rows_in_another_process(
    orders_run: tuple[dict[str, Any], Path],
    postgres: Any,
    dynamodb_local: Any,
    tmp_path: Path,
) -> None:
    """The CLI's subprocess (its own hash seed) and this process draw the same sample."""
    import uuid

    from modeling.commands.migrate_demo import _client

    cli_report, _ = orders_run
    model, layout = _compiled(ROOT / "models" / "orders.yaml")
    options = demo.DemoOptions(
        rows=ROWS, seed=SEED, app=False, table=f"OrdersDemo-{uuid.uuid4().hex[:8]}"
    )
    report = demo.run_demo(
        model,
        layout,
        options,
        admin_dsn=postgres.dsn,
        endpoint=dynamodb_local.endpoint_url,
        client_factory=_client,
        work_dir=tmp_path,
    )
    assert report.rows == cli_report["rows"]
    assert report.ok and report.as_dict()["validation"]["checked"] == cli_report["rows_total"]
    assert report.app_updates == 0 and report.run["catch_up_rows"] == 0


@pytest.mark.e2e
@pytest.mark.slow
def test_saas_demo_prints_the_short_report(postgres: Any, dynamodb_local: Any) -> None:
    """Another example model (binary and set attributes, TTL, a tenant hierarchy), human output."""
    result = _demo_cli("models/saas.yaml", "--rows", "2000", "--concurrency", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    totals = re.search(
        r"^rows (\d+), items written (\d+), \d+ items/s .* dead letters (\d+)", out, re.M
    )
    assert totals, out
    rows, written, dead = (int(g) for g in totals.groups())
    checked = re.search(r"validation: ok — checked (\d+), missing 0, mismatched 0, stale 0", out)
    app = re.search(r"^application \(concurrent.*\): (\d+) inserts, .* (\d+) deletes", out, re.M)
    assert checked and app, out
    # rows the application deleted before the backfill read them are not written by it
    assert rows - dead - int(app.group(2)) <= written <= rows - dead and 1800 <= rows <= 2000
    assert int(checked.group(1)) == rows - dead + int(app.group(1)) - int(app.group(2)), out
    assert re.search(
        r"audit: ok — missing 0, mismatched 0, stale 0, orphaned 0, resurrected 0", out
    )
    per_entity = [int(n) for n in re.findall(r"^  \w+: (\d+) rows", out, re.M)]
    assert sum(per_entity) == rows and len(per_entity) == 7
    assert out.rstrip().endswith("result: ok")


class _DropOne:
    """A wire client that loses one item of its first BatchWriteItem and reports success."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.dropped: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, **kwargs: Any) -> Any:
        if not self.dropped:
            (table, requests), *_ = kwargs["RequestItems"].items()
            self.dropped.append(requests[0])
            kwargs = {**kwargs, "RequestItems": {table: requests[1:]}}
        return self._client.batch_write_item(**kwargs)


@pytest.mark.e2e
@pytest.mark.slow
def test_a_lost_item_fails_validation_with_exit_1(
    postgres: Any, dynamodb_local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from modeling.cli import app
    from modeling.commands import migrate_demo

    real = migrate_demo._client
    droppers: list[_DropOne] = []

    def client(endpoint: str, pool: int, wire: bool) -> Any:
        made = real(endpoint, pool, wire)
        if not wire:
            return made
        droppers.append(_DropOne(made))
        return droppers[-1]

    monkeypatch.setattr(migrate_demo, "_client", client)
    result = CliRunner().invoke(
        app, ["migrate", "demo", "models/orders.yaml", "--rows", "600", "--no-app", "--json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert len(droppers) == 1 and len(droppers[0].dropped) == 1
    assert report["ok"] is False
    assert report["validation"]["missing"] == 1
    assert report["validation"]["item_count"] == report["rows_total"] - 1
