"""`model diff` (issue 16, item 6): each example model against a copy mutated in code — a
pattern that needs a new GSI, a changed pinned table key, an entity added or removed, billing,
TTL and stream changed — lists the right changes and steps, in the right order."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from modeling import api
from modeling.cli import app
from modeling.compile import compile_model
from modeling.compile.evolution import CHANGE_KINDS, Design, Evolution, classify
from modeling.core import ir
from modeling.migrate.evolve import Step, runbook

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.stem for p in (ROOT / "models").glob("*.yaml"))


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    return y


def _load(name: str) -> Any:
    return _yaml().load((ROOT / "models" / f"{name}.yaml").read_text("utf-8"))


def _design(data: Any, label: str) -> Design | None:
    """The compiled design of YAML data; None when it does not compile."""
    buf = io.StringIO()
    _yaml().dump(data, buf)
    result = api.check_text(buf.getvalue(), label)
    if result.model is None or not result.ok:
        return None
    layout, diags = compile_model(result.model)
    if layout is None or diags.has_errors():
        return None
    return Design(result.model, layout, label)


def _old(name: str) -> Design:
    design = _design(_load(name), f"models/{name}.yaml")
    assert design is not None
    return design


def _kinds(ev: Evolution) -> set[str]:
    return {c.kind for c in ev.changes}


def _position(steps: list[Step], action: str, **match: Any) -> int:
    for i, s in enumerate(steps):
        if s.action == action and all(getattr(s, k) == v for k, v in match.items()):
            return i
    raise AssertionError(f"no {action} step {match} in {[s.action for s in steps]}")


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_model_against_itself_has_no_change(name: str) -> None:
    old = _old(name)
    ev = classify(old, _old(name))
    assert ev.changes == () and runbook(ev) == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_pattern_that_needs_a_new_gsi(name: str) -> None:
    """Equality patterns on one entity's attributes are added until the compiler needs one
    more GSI; the diff creates it (one UpdateTable), then backfills, then switches reads."""
    old = _old(name)
    data = _load(name)
    # the table is live: NEW says so, or the compiler may derive an LSI (a new table) instead
    data.setdefault("table", {})["exists"] = True
    added: list[str] = []
    new = None
    # the entity with the most GSI keys first: a new key shape for it needs a new GSI soonest
    order = sorted(
        data["entities"],
        key=lambda e: -len(old.layout.entity(e).keys),  # type: ignore[union-attr]
    )
    for ename in order:
        entity = data["entities"][ename]
        for attr in entity["attributes"]:
            pattern = f"evolve_{ename.lower()}_by_{attr}"
            data["access_patterns"][pattern] = {"entity": ename, "where": {attr: "="}}
            candidate = _design(data, "new.yaml")
            if candidate is None:
                del data["access_patterns"][pattern]
                continue
            added.append(pattern)
            if len(candidate.layout.gsis) > len(old.layout.gsis):
                new = candidate
                break
        if new is not None:
            break
    assert new is not None, "no mutation needed a new GSI"
    ev = classify(old, new)
    fresh = [i.name for i in new.layout.gsis if old.layout.index(i.name) is None]
    assert fresh
    assert [c.index for c in ev.of_kind("gsi-added")] == fresh
    for gsi in ev.of_kind("gsi-added"):
        assert set(gsi.entities) == {e.entity for e in new.layout.entities if e.key(gsi.index)}  # type: ignore[arg-type]
    assert {c.subject for c in ev.of_kind("pattern-added")} == set(added)
    assert not _kinds(ev) & {"table-key-changed", "entity-rekeyed", "lsi-added"}
    steps = runbook(ev)
    creates = [_position(steps, "create-gsi", index=name) for name in fresh]
    assert creates == sorted(creates), "GSIs are created in index order"
    for create, name in zip(creates, fresh, strict=True):
        assert steps[create].runnable
        # one GSI per UpdateTable call
        ((method, request),) = steps[create].calls
        assert method == "update_table"
        (update,) = request["GlobalSecondaryIndexUpdates"]
        assert update["Create"]["IndexName"] == name
        assert {d["AttributeName"] for d in request["AttributeDefinitions"]} == {
            k["AttributeName"] for k in update["Create"]["KeySchema"]
        }
    backfill = _position(steps, "backfill")
    assert _position(steps, "deploy-writers") < creates[0]
    assert creates[-1] < backfill < _position(steps, "switch-reads")
    users = {e for c in ev.of_kind("gsi-added") for e in c.entities}
    assert users & {e.name for e in old.model.entities} <= set(steps[backfill].entities)
    # row counts, when every backfilled entity has one, estimate the items touched
    counts = [new.model.entity(e).row_count for e in steps[backfill].entities]  # type: ignore[union-attr]
    if all(c is not None for c in counts):
        assert steps[backfill].items == sum(c for c in counts if c is not None)
    else:
        assert steps[backfill].items is None


def _pin_candidates(design: Design) -> list[tuple[str, dict[str, str]]]:
    """(entity, a changed table-key pin) for every entity: the sort key's literal renamed."""
    out = []
    for el in design.layout.entities:
        key = el.key("table")
        assert key is not None
        if key.sk is not None:
            out.append((el.entity, {"pk": key.pk, "sk": "V2" + key.sk}))
        out.append((el.entity, {"pk": "V2" + key.pk, **({"sk": key.sk} if key.sk else {})}))
    return out


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_changed_pinned_table_key_is_a_rekey(name: str) -> None:
    old = _old(name)
    for entity, pin in _pin_candidates(old):
        data = _load(name)
        data["entities"][entity].setdefault("keys", {})["table"] = pin
        new = _design(data, "new.yaml")
        if new is None:
            continue
        ev = classify(old, new)
        rekeyed = ev.of_kind("entity-rekeyed")
        assert [c.subject for c in rekeyed] == [entity]
        assert "gsi-added" not in _kinds(ev) and not ev.new_table
        steps = runbook(ev)
        rekey = _position(steps, "rekey", entities=(entity,))
        assert steps[rekey].runnable
        assert _position(steps, "deploy-writers") < rekey
        # the re-keyed entity is not also backfilled in place
        assert all(entity not in s.entities for s in steps if s.action == "backfill")
        return
    pytest.fail("no table-key pin compiled")


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_added_and_a_removed_entity(name: str) -> None:
    old = _old(name)
    data = _load(name)
    data["entities"]["EvolveNote"] = {
        "table": "evolve_notes",
        "key": ["note_id"],
        "attributes": {"note_id": "uuid", "body": "string"},
    }
    data["access_patterns"]["get_evolve_note"] = {
        "entity": "EvolveNote",
        "where": {"note_id": "="},
    }
    # remove an entity nothing else refers to, with the patterns that read it
    referenced = {e.parent for e in old.model.entities} | {
        a.references for e in old.model.entities for a in e.attributes
    }
    new = None
    for victim in [e.name for e in reversed(old.model.entities) if e.name not in referenced]:
        attempt = copy.deepcopy(data)
        del attempt["entities"][victim]
        for plan in old.layout.plans:
            if victim in plan.entities:
                del attempt["access_patterns"][plan.pattern]
        new = _design(attempt, "new.yaml")
        if new is not None:  # (the TTL attribute's only entity cannot go)
            break
    assert new is not None
    ev = classify(old, new)
    assert [c.subject for c in ev.of_kind("entity-added")] == ["EvolveNote"]
    assert [c.subject for c in ev.of_kind("entity-removed")] == [victim]
    assert "get_evolve_note" in {c.subject for c in ev.of_kind("pattern-added")}
    removed = {p.pattern for p in old.layout.plans if victim in p.entities}
    assert removed <= {c.subject for c in ev.of_kind("pattern-removed")}
    steps = runbook(ev)
    source = steps[_position(steps, "migrate-from-source")]
    assert not source.runnable and "EvolveNote" in source.entities
    assert "model migrate run" in source.command
    delete = steps[_position(steps, "delete-items", entities=(victim,))]
    assert (delete.cleanup and delete.runnable and delete is steps[-1]) or all(
        s.cleanup for s in steps[steps.index(delete) :]
    )


def _toggle_settings(data: Any, old: Design) -> None:
    table = data.setdefault("table", {})
    if old.model.table.billing.mode == "on_demand":
        table["billing"] = {"provisioned": {"read": 7, "write": 3}}
    else:
        table["billing"] = "on_demand"
    if old.model.table.stream is None:
        table["stream"] = "keys_only"
    else:
        del table["stream"]
    if old.model.table.ttl is not None:
        del table["ttl"]
    else:
        first = next(iter(data["entities"].values()))
        first["attributes"]["evolve_expires_at"] = {"type": "datetime", "required": False}
        table["ttl"] = "evolve_expires_at"


@pytest.mark.parametrize("name", EXAMPLES)
def test_billing_ttl_and_stream(name: str) -> None:
    old = _old(name)
    data = _load(name)
    _toggle_settings(data, old)
    new = _design(data, "new.yaml")
    assert new is not None
    ev = classify(old, new)
    assert {"billing-changed", "ttl-changed", "stream-changed"} <= _kinds(ev)
    assert not ev.new_table
    steps = runbook(ev)
    billing = steps[_position(steps, "update-billing")]
    assert billing is steps[0], "billing first: GSIs created later take the table's mode"
    ((method, request),) = billing.calls
    assert method == "update_table"
    want = "PAY_PER_REQUEST" if new.model.table.billing.mode == "on_demand" else "PROVISIONED"
    assert request["BillingMode"] == want
    stream = steps[_position(steps, "update-stream")]
    assert [kw["StreamSpecification"]["StreamEnabled"] for _, kw in stream.calls] == (
        [False] if new.model.table.stream is None else [True]
    )
    ttl = _position(steps, "update-ttl")
    # the TTL attribute changes encoding (epoch N <-> text): items are rewritten before
    if "backfill" in [s.action for s in steps]:
        assert _position(steps, "backfill") < ttl
    (_, kwargs), *_ = steps[ttl].calls
    assert kwargs["TimeToLiveSpecification"]["Enabled"] is (old.model.table.ttl is None)


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_table_key_schema_change_is_a_new_table(name: str) -> None:
    """Renaming the table (a key schema or an LSI change has the same consequence): a new
    table, every item copied, nothing done in place."""
    old = _old(name)
    data = _load(name)
    data.setdefault("table", {})["name"] = old.layout.table_name + "V2"
    new = _design(data, "new.yaml")
    assert new is not None
    ev = classify(old, new)
    assert ev.new_table
    steps = runbook(ev)
    assert [s.action for s in steps][:2] == ["create-table", "copy-items"]
    assert steps[0].calls[0][1]["TableName"] == old.layout.table_name + "V2"
    assert set(steps[1].entities) == {e.name for e in old.model.entities}


def test_attribute_changes_are_classified() -> None:
    old = _old("orders")
    data = _load("orders")
    attrs = data["entities"]["Order"]["attributes"]
    del attrs["notes"]
    attrs["gift_message"] = {"type": "string", "required": False}
    attrs["subtotal"] = "float"
    new = _design(data, "new.yaml")
    assert new is not None
    ev = classify(old, new)
    by_kind: dict[str, list[str]] = {}
    for c in ev.changes:
        by_kind.setdefault(c.kind, []).append(c.subject)
    assert by_kind["attribute-removed"] == ["Order.notes"]
    assert by_kind["attribute-added"] == ["Order.gift_message"]
    assert by_kind["attribute-type-changed"] == ["Order.subtotal"]
    steps = runbook(ev)
    assert steps[_position(steps, "backfill")].entities == ("Order",)
    assert "Order.gift_message" in steps[_position(steps, "migrate-from-source")].what


def test_every_change_kind_has_a_consequence() -> None:
    assert all(CHANGE_KINDS.values())


# --------------------------------------------------------------------------- the command


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_diff_json_from_git_against_the_working_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    model = repo / "models" / "saas.yaml"
    shutil.copy(ROOT / "models" / "saas.yaml", model)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1")
    text = model.read_text("utf-8").replace(
        "billing: on_demand", "billing: {provisioned: {read: 5, write: 5}}"
    )
    model.write_text(text, "utf-8")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(
        app, ["diff", "git:HEAD:models/saas.yaml", "models/saas.yaml", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["old"] == "git:HEAD:models/saas.yaml" and data["new"] == "models/saas.yaml"
    assert [c["kind"] for c in data["changes"]] == ["billing-changed"]
    ((step),) = data["steps"]
    assert step["action"] == "update-billing" and step["runnable"] is True
    (call,) = step["calls"]
    assert call["method"] == "update_table"
    assert call["request"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 5,
    }
    # the human report names the change and the exact call
    human = CliRunner().invoke(app, ["diff", "git:HEAD:models/saas.yaml", "models/saas.yaml"])
    assert human.exit_code == 0
    assert "[billing-changed]" in human.stdout and "UpdateTable" in human.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("git:nope:models/saas.yaml", "unknown revision 'nope'"),
        ("git:HEAD:models/missing.yaml", "does not exist"),
        ("git:HEAD", "expected git:REF:path"),
    ],
)
def test_bad_git_sources_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    shutil.copy(ROOT / "models" / "saas.yaml", repo / "models" / "saas.yaml")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["diff", spec, "models/saas.yaml"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert "hint:" in result.output


def test_git_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / "models" / "saas.yaml", tmp_path / "saas.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = CliRunner().invoke(app, ["diff", "git:HEAD:saas.yaml", "saas.yaml"])
    assert result.exit_code == 2
    assert "is not inside a git repository" in result.output


def test_a_model_that_does_not_compile_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: bad\nentities:\n  A:\n    key: [id]\n    attributes: {id: strng}\n")
    result = CliRunner().invoke(app, ["diff", str(ROOT / "models" / "saas.yaml"), str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:5" in result.output


def test_a_pattern_moved_off_a_rewritten_index_is_a_warning() -> None:
    """orders: a new Order pattern takes GSI3, `orders_by_status_since` moves to a new GSI4 and
    GSI3's Order keys are rewritten: the report warns, naming the old key to pin."""
    old = _old("orders")
    data = _load("orders")
    data["access_patterns"]["orders_by_currency"] = {
        "entity": "Order",
        "where": {"currency": "=", "placed_at": ">="},
    }
    new = _design(data, "new.yaml")
    assert new is not None
    ev = classify(old, new)
    moved = [c for c in ev.of_kind("pattern-changed") if c.old != c.new]
    rewritten = {c.subject for c in ev.of_kind("entity-index-key-changed")}
    expected = [c.subject for c in moved if any(f"{e}.{c.old}" in rewritten for e in c.entities)]
    warnings = [w for w in ev.warnings() if w.startswith("pattern ")]
    assert len(warnings) == len(expected) >= 1
    for name, text in zip(expected, warnings, strict=True):
        assert text.startswith(f"pattern {name} moves from")
        change = next(c for c in moved if c.subject == name)
        key = old.layout.entity("Order").key(change.old)  # type: ignore[union-attr,arg-type]
        assert key is not None and f'pk: "{key.pk}"' in text


def test_an_lsi_change_is_a_new_table() -> None:
    """An LSI exists only from table creation: one added to the layout makes the runbook a
    new table and a copy, with no in-place step."""
    old = _old("saas")
    table = old.layout.indexes[0]
    lsi = ir.Index("LSI1", "lsi", table.pk, ir.KeyAttribute("LSI1SK"), alias="lsi1")
    layout = dataclasses.replace(old.layout, indexes=(*old.layout.indexes, lsi))
    new = Design(old.model, layout, "new.yaml")
    ev = classify(old, new)
    assert [(c.kind, c.index) for c in ev.changes] == [("lsi-added", "LSI1")]
    assert ev.new_table
    removed = classify(new, old)
    assert [(c.kind, c.index) for c in removed.changes] == [("lsi-removed", "LSI1")]
    assert removed.new_table


def _orders_with_currency(tmp_path: Path) -> tuple[str, str]:
    data = _load("orders")
    data["access_patterns"]["orders_by_currency"] = {
        "entity": "Order",
        "where": {"currency": "=", "placed_at": ">="},
    }
    new_path = tmp_path / "orders.yaml"
    buf = io.StringIO()
    _yaml().dump(data, buf)
    new_path.write_text(buf.getvalue(), "utf-8")
    return str(ROOT / "models" / "orders.yaml"), str(new_path)


def test_diff_keeps_the_existing_gsi_keys(tmp_path: Path) -> None:
    """NEW is compiled with OLD's layout as its previous layout: only the new GSI and its
    backfill remain. With --fresh the new pattern reshuffles GSI3 (Order's keys rewritten, a
    pattern moved), as every diff did before the stable assignment."""
    old_path, new_path = _orders_with_currency(tmp_path)
    fresh = json.loads(
        CliRunner().invoke(app, ["diff", old_path, new_path, "--fresh", "--json"]).stdout
    )
    assert "entity-index-key-changed" in {c["kind"] for c in fresh["changes"]}
    deploy = next(s for s in fresh["steps"] if s["action"] == "deploy-writers")
    assert deploy["command"] == f"model compile {new_path} --fresh"
    result = CliRunner().invoke(app, ["diff", old_path, new_path, "--json"])
    assert result.exit_code == 0, result.output
    stable = json.loads(result.stdout)
    assert stable["stable"] is True
    assert {c["kind"] for c in stable["changes"]} == {"gsi-added", "pattern-added"}
    assert [s["action"] for s in stable["steps"]] == [
        "deploy-writers",
        "create-gsi",
        "backfill",
        "switch-reads",
    ]
    backfill = next(s for s in stable["steps"] if s["action"] == "backfill")
    assert backfill["entities"] == ["Order"]
    human = CliRunner().invoke(app, ["diff", old_path, new_path])
    assert "previous layout" in human.stdout and "GSI GSI4" in human.stdout


def test_stable_prints_pins_that_reproduce_the_layout(tmp_path: Path) -> None:
    """--stable prints the `keys:` pins of OLD's GSI keys NEW still reads, and says whether
    NEW compiled with them alone (no previous layout) gives the same layout."""
    old_path, new_path = _orders_with_currency(tmp_path)
    result = CliRunner().invoke(app, ["diff", old_path, new_path, "--stable", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    old = _old("orders")
    assert data["pins"]
    for entity, keys in data["pins"].items():
        el = old.layout.entity(entity)
        assert el is not None
        for alias, pin in keys.items():
            key = next(k for k in el.keys if k.index.lower() == alias)
            assert pin == ({"pk": key.pk} if key.sk is None else {"pk": key.pk, "sk": key.sk})
    assert isinstance(data["pins_reproduce"], bool)
    human = CliRunner().invoke(app, ["diff", old_path, new_path, "--stable"])
    assert "pins that keep OLD's GSI keys" in human.stdout


def test_diff_against_the_deployed_layout(tmp_path: Path) -> None:
    """--old-layout: OLD's layout.json as deployed (here, the committed lock), not OLD compiled
    anew; another model's layout is a clear error."""
    old_path, new_path = _orders_with_currency(tmp_path)
    lock = str(ROOT / "generated" / "orders" / "layout.json")
    result = CliRunner().invoke(app, ["diff", old_path, new_path, "--old-layout", lock, "--json"])
    assert result.exit_code == 0, result.output
    assert {c["kind"] for c in json.loads(result.stdout)["changes"]} == {
        "gsi-added",
        "pattern-added",
    }
    deploy = next(s for s in json.loads(result.stdout)["steps"] if s["action"] == "deploy-writers")
    assert deploy["command"] == f"model compile {new_path} --previous {lock}"
    other = str(ROOT / "generated" / "saas" / "layout.json")
    bad = CliRunner().invoke(app, ["diff", old_path, new_path, "--old-layout", other])
    assert bad.exit_code == 2 and "the layout of model 'saas'" in bad.output


def test_an_lsi_derived_for_a_live_table_is_a_new_table_and_a_warning() -> None:
    """saas with its row counts: a new pattern on a user's partition becomes an LSI unless NEW
    says the table exists; the diff calls it a new table and says how to keep GSIs."""
    old = _old("saas")
    data = _load("saas")
    for attr in data["entities"]["User"]["attributes"]:
        data["access_patterns"][f"evolve_user_by_{attr}"] = {
            "entity": "User",
            "where": {"tenant_id": "=", attr: "="} if attr != "tenant_id" else {attr: "="},
        }
        new = _design(data, "new.yaml")
        if new is not None and new.layout.lsis:
            break
        del data["access_patterns"][f"evolve_user_by_{attr}"]
    else:
        pytest.skip("no pattern on saas derives an LSI")
    ev = classify(old, new)
    assert ev.new_table and ev.of_kind("lsi-added")
    assert any("table: {exists: true}" in w for w in ev.warnings())
    data.setdefault("table", {})["exists"] = True
    live = _design(data, "new.yaml")
    assert live is not None and not live.layout.lsis
    ev = classify(old, live)
    assert not ev.new_table and not any("exists: true" in w for w in ev.warnings())
