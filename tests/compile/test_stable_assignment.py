"""Stable index assignment (issue 16, item 6): the compiler keeps a previously compiled layout.

`compile_model(model, previous)` keeps every (entity, index) key of `previous` that still
serves a pattern under its index name and templates; new needs go to existing indexes, then to
new GSIs numbered past every number either layout uses; unused indexes are dropped without
renumbering the others. `model compile` takes the layout.json in its output directory (or
`--previous`) as that previous layout, `--fresh` ignores it.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

import modeling.compile as compiler
from modeling import api
from modeling.cli import app
from modeling.compile import compile_model, derive
from modeling.compile.evolution import Design, classify
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Severity
from modeling.migrate.evolve import runbook
from modeling.sample.generate import SampleOptions
from modeling.verify.runner import VerifyOptions, verify

from .builder import entity, model, pattern

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.stem for p in (ROOT / "models").glob("*.yaml"))


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    return y


def _load(name: str) -> Any:
    return _yaml().load((ROOT / "models" / f"{name}.yaml").read_text("utf-8"))


def _text(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def _model(data: Any) -> ir.Model | None:
    result = api.check_text(_text(data), "new.yaml")
    return result.model if result.model is not None and result.ok else None


def _keys(layout: ir.Layout) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(el.entity, k.index): (k.pk, k.sk) for el in layout.entities for k in el.keys}


def _gsi_numbers(layout: ir.Layout) -> set[int]:
    return {int(i.name[3:]) for i in layout.gsis}


def _evolve(name: str) -> tuple[ir.Model, ir.Layout, ir.Model, str, list[str]]:
    """(OLD model, OLD layout, NEW model, the removed pattern, the added patterns): NEW drops
    one pattern of OLD (one whose removal makes a fresh compile renumber GSIs, when there is
    one) and adds equality patterns until the stable assignment needs a new GSI."""
    old_model = api.load_model(ROOT / "models" / f"{name}.yaml")
    old, _ = compile_model(old_model)
    assert old is not None
    data = _load(name)
    # the removed pattern: the first one (in GSI order) alone on its GSI, else the last one
    alone = [
        p.pattern
        for g in old.gsis
        if len(on := [p for p in old.plans if p.index == g.name]) == 1
        for p in on
    ]
    removed = alone[0] if alone else old.plans[-1].pattern
    del data["access_patterns"][removed]
    added: list[str] = []
    order = sorted(data["entities"], key=lambda e: -len(old.entity(e).keys))  # type: ignore[union-attr]
    for ename in order:
        for attr in data["entities"][ename]["attributes"]:
            name_ = f"evolve_{ename.lower()}_by_{attr}"
            data["access_patterns"][name_] = {"entity": ename, "where": {attr: "="}}
            new_model = _model(data)
            layout = None if new_model is None else compile_model(new_model, old)[0]
            if layout is None:
                del data["access_patterns"][name_]
                continue
            added.append(name_)
            if _gsi_numbers(layout) - _gsi_numbers(old):
                assert new_model is not None
                return old_model, old, new_model, removed, added
    raise AssertionError("no added pattern needed a new GSI")


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_evolved_example_keeps_every_surviving_key(name: str) -> None:
    old_model, old, new_model, removed, added = _evolve(name)
    new, diags = compile_model(new_model, old)
    assert new is not None, [str(d) for d in diags.errors]
    assert "previous-layout-not-kept" not in {d.code for d in diags}
    patterns = {p.name for p in new_model.patterns}
    survivors = {
        (el.entity, k.index): (k.pk, k.sk)
        for el in old.entities
        for k in el.keys
        if k.index == "table" or set(k.purpose) & patterns
    }
    kept = _keys(new)
    for where, templates in survivors.items():
        assert kept.get(where) == templates, f"{where} moved or changed"
    for plan in old.plans:
        if plan.pattern in patterns:
            assert new.plan(plan.pattern).index == plan.index  # type: ignore[union-attr]
    # new GSIs take numbers OLD never used; the others keep theirs
    fresh_gsis = _gsi_numbers(new) - _gsi_numbers(old)
    assert fresh_gsis and min(fresh_gsis) > max(_gsi_numbers(old), default=0)
    # the runbook: the new GSIs and their backfill, no rebuild, no rewrite of a kept key
    ev = classify(Design(old_model, old, "old"), Design(new_model, new, "new"))
    kinds = {c.kind for c in ev.changes}
    assert not kinds & {"gsi-changed", "entity-rekeyed", "table-key-changed", "lsi-added"}
    assert not ev.new_table
    for change in ev.of_kind("entity-index-key-changed"):
        entity_, index = str(change.subject).split(".")
        assert (entity_, index) not in survivors, change.detail
    steps = runbook(ev)
    creates = [s for s in steps if s.action == "create-gsi"]
    assert [s.what.split()[2] for s in creates] == [f"GSI{n}" for n in sorted(fresh_gsis)]
    allowed = {"deploy-writers", "create-gsi", "backfill", "switch-reads", "delete-gsi"}
    assert {s.action for s in steps} <= allowed, [s.action for s in steps]
    assert all(s.cleanup for s in steps if s.action == "delete-gsi")
    assert set(added) <= {c.subject for c in ev.of_kind("pattern-added")}
    assert removed in {c.subject for c in ev.of_kind("pattern-removed")}


def test_orders_new_pattern_is_one_new_gsi_not_a_rebuild(tmp_path: Path) -> None:
    """The case that renumbered before: orders gets `orders_by_currency`; a fresh compile
    moves `orders_by_status_since` off GSI3 and rewrites Order's GSI3 keys. `model compile`
    into a directory holding OLD's layout.json keeps GSI3 and adds GSI4."""
    out = tmp_path / "out"
    old_path = ROOT / "models" / "orders.yaml"
    assert CliRunner().invoke(app, ["compile", str(old_path), "-o", str(out)]).exit_code == 0
    old = json.loads((out / "layout.json").read_text("utf-8"))
    data = _load("orders")
    data["access_patterns"]["orders_by_currency"] = {
        "entity": "Order",
        "where": {"currency": "=", "placed_at": ">="},
    }
    new_path = tmp_path / "orders.yaml"
    new_path.write_text(_text(data), "utf-8")
    result = CliRunner().invoke(app, ["compile", str(new_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"indexes kept from {out / 'layout.json'}" in result.output
    new = json.loads((out / "layout.json").read_text("utf-8"))

    def keys(layout: dict[str, Any]) -> dict[tuple[str, str], tuple[str, Any]]:
        return {(e["entity"], k["index"]): (k["pk"], k["sk"]) for e in layout["entities"] for k in e["keys"]}  # fmt: skip

    before, after = keys(old), keys(new)
    assert {k: after.get(k) for k in before} == before
    assert after[("Order", "GSI4")] == ("ORDER#{currency}", "ORDER#{placed_at}")
    plans = {p["pattern"]: p["index"] for p in new["plans"]}
    assert plans["orders_by_status_since"] == "GSI3" and plans["orders_by_currency"] == "GSI4"
    # the same model against the same previous layout: the same bytes (--check passes)
    check = CliRunner().invoke(app, ["compile", str(new_path), "-o", str(out), "--check"])
    assert check.exit_code == 0, check.output
    # explain follows the same rule
    lock = str(out / "layout.json")
    args = ["explain", str(new_path), "orders_by_status_since", "--json"]
    kept = CliRunner().invoke(app, [*args, "--previous", lock])
    assert kept.exit_code == 0 and json.loads(kept.stdout)["index"] == "GSI3"
    moved = CliRunner().invoke(app, [*args, "--fresh"])
    assert moved.exit_code == 0 and json.loads(moved.stdout)["index"] == "GSI4"
    # --fresh ignores the lock: the fewest GSIs, renumbered
    fresh = CliRunner().invoke(app, ["compile", str(new_path), "-o", str(out), "--fresh", "--check"])  # fmt: skip
    assert fresh.exit_code == 1 and "stale" in fresh.output


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_unchanged_model_compiles_byte_for_byte_as_before(name: str) -> None:
    """The example's committed layout.json as the previous layout changes nothing (CI runs
    `model compile --check models/*.yaml` with generated/ as the lock), and the stable pass
    alone (no shortcut) reproduces the fresh keys."""
    m = api.load_model(ROOT / "models" / f"{name}.yaml")
    fresh, _ = compile_model(m)
    assert fresh is not None
    committed = (ROOT / "generated" / name / "layout.json").read_text("utf-8")
    previous = api.read_previous_layout(committed, f"generated/{name}/layout.json")
    again, _ = compile_model(m, previous)
    assert again is not None and ir.to_json(again) == ir.to_json(fresh)
    stable = derive(m, previous)
    assert {(el.entity, k.index, k.pk, k.sk) for el in stable.entity_layouts for k in el.keys} == {
        (el.entity, k.index, k.pk, k.sk) for el in fresh.entities for k in el.keys
    }


def test_a_stable_compile_is_a_fixed_point() -> None:
    """Compiling against the stable layout itself gives it back (the lock converges)."""
    _old_model, old, new_model, _removed, _added = _evolve("orders")
    first, _ = compile_model(new_model, old)
    assert first is not None
    second, _ = compile_model(new_model, first)
    assert second is not None and ir.to_json(second) == ir.to_json(first)


_PEOPLE = [
    entity(
        "User",
        ["user_id"],
        {
            "user_id": "uuid",
            "email": "string",
            "team": "string",
            "city": "string",
            "age": "integer",
        },
    ),
]
_GET = pattern("get_user", "User", {"user_id": "="}, unique=True)
_BY = {a: pattern(f"user_by_{a}", "User", {a: "="}) for a in ("email", "team", "city")}


def test_a_freed_gsi_number_is_not_reused_in_the_same_step() -> None:
    """The pattern of one GSI goes, another comes: the surviving GSI keeps its number and the
    new one takes a number OLD never used (the freed GSI still exists on the live table until
    the clean-up deletes it); as many GSIs as fresh, so no info."""
    old, _ = compile_model(model("stable", _PEOPLE, [_GET, _BY["email"], _BY["team"]]))
    assert old is not None and [i.name for i in old.gsis] == ["GSI1", "GSI2"]
    on = {p.pattern: p.index for p in old.plans}
    kept = next(p for p, i in on.items() if i == "GSI2")
    new_model = model("stable", _PEOPLE, [_GET, _BY[kept.removeprefix("user_by_")], _BY["city"]])
    fresh, _ = compile_model(new_model)
    assert fresh is not None and [i.name for i in fresh.gsis] == ["GSI1", "GSI2"]
    # a fresh compile reuses GSI1 for another key (a rewrite of a live index)
    assert _keys(fresh)[("User", "GSI1")] != _keys(old)[("User", "GSI1")]
    new, diags = compile_model(new_model, old)
    assert new is not None and [i.name for i in new.gsis] == ["GSI2", "GSI3"]
    assert new.plan(kept).index == "GSI2"  # type: ignore[union-attr]
    assert new.plan("user_by_city").index == "GSI3"  # type: ignore[union-attr]
    assert "stable-more-gsis" not in {d.code for d in diags}


def test_more_gsis_than_fresh_is_an_info_naming_both_counts() -> None:
    """A pattern that a fresh compile merges into an existing GSI's key (a new sort-key slot)
    needs a new GSI when that key is kept: the info names both counts and --fresh."""
    old, _ = compile_model(model("stable", _PEOPLE, [_GET, _BY["email"], _BY["team"]]))
    assert old is not None
    by_age = pattern("users_of_team_by_age", "User", {"team": "=", "age": ">="})
    new_model = model("stable", _PEOPLE, [_GET, _BY["email"], _BY["team"], by_age])
    fresh, _ = compile_model(new_model)
    assert fresh is not None and len(fresh.gsis) == 2
    new, diags = compile_model(new_model, old)
    assert new is not None and len(new.gsis) == 3
    assert _keys(new)[("User", "GSI2")] == _keys(old)[("User", "GSI2")]
    (info,) = [d for d in diags if d.code == "stable-more-gsis"]
    assert info.severity.value == "info"
    assert "needs 3 GSI(s); a fresh assignment would need 2" in info.message
    assert "--fresh" in (info.hint or "")
    assert any(d.code == "stable-more-gsis" for d in new.diagnostics), "kept in layout.json"


# --------------------------------------------------------------------------- hypothesis

_USER = entity(
    "User",
    ["user_id"],
    {"user_id": "uuid", "email": "string", "team": "string", "city": "string", "age": "integer"},
)
_POST = entity(
    "Post",
    ["user_id", "post_id"],
    {"user_id": "uuid", "post_id": "uuid", "topic": "string", "at": "datetime", "likes": "integer"},
    parent="User",
)
_POOL = [
    pattern("get_user", "User", {"user_id": "="}, unique=True),
    pattern("user_by_email", "User", {"email": "="}),
    pattern("users_of_team", "User", {"team": "="}),
    pattern("users_of_team_by_age", "User", {"team": "=", "age": ">="}),
    pattern("users_of_city", "User", {"city": "="}),
    pattern("users_of_city_by_team", "User", {"city": "=", "team": "="}),
    pattern("posts_of_user", "Post", {"user_id": "="}),
    pattern("posts_of_user_since", "Post", {"user_id": "=", "at": ">="}),
    pattern("posts_by_topic", "Post", {"topic": "="}),
    pattern("posts_by_topic_since", "Post", {"topic": "=", "at": ">="}),
    pattern("posts_by_likes", "Post", {"topic": "=", "likes": ">="}),
    pattern("user_with_posts", ["User", "Post"], {"user_id": "="}),
    pattern("user_with_newest_posts", ["User", "Post"], {"user_id": "="}, order="desc", limit=5),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sets(st.integers(0, len(_POOL) - 1), min_size=1),
    st.sets(st.integers(0, len(_POOL) - 1)),
    st.sets(st.integers(0, len(_POOL) - 1)),
)
def test_serving_indexes_never_renumber(first: set[int], add: set[int], drop: set[int]) -> None:
    old_model = model("evolving", [_USER, _POST], [_POOL[i] for i in sorted(first)])
    old, _ = compile_model(old_model)
    if old is None:
        return
    chosen = sorted((first | add) - (drop - add) or first)
    new_model = model("evolving", [_USER, _POST], [_POOL[i] for i in chosen])
    fresh, _ = compile_model(new_model)
    new, diags = compile_model(new_model, old)
    assert (new is None) == (fresh is None)
    if new is None:
        return
    assert "previous-layout-not-kept" not in {d.code for d in diags}
    before, after = _keys(old), _keys(new)
    for plan in old.plans:
        moved = new.plan(plan.pattern)
        if moved is None:
            continue
        assert moved.index == plan.index, f"{plan.pattern} moved {plan.index} -> {moved.index}"
        for e in plan.entities:
            assert after[(e, plan.index)] == before[(e, plan.index)]
    assert after[("User", "table")] == before[("User", "table")]
    new_numbers = _gsi_numbers(new) - _gsi_numbers(old)
    assert all(n > max(_gsi_numbers(old), default=0) for n in new_numbers)
    # an ordered collection still reads its root first (kept and derived keys alike)
    for plan in new.plans:
        if plan.entities == ("User", "Post") and (not plan.scan_forward or plan.limit):
            root, child = after[("User", plan.index)][1], after[("Post", plan.index)][1]
            assert root is not None and child is not None
            first, second = _literal(root), _literal(child)
            assert (first > second) if not plan.scan_forward else (first < second)
    # the stable layout is a fixed point
    again, _ = compile_model(new_model, new)
    assert again is not None and ir.to_json(again) == ir.to_json(new)


def _literal(template: str) -> str:
    return template.split("{", 1)[0]


def test_a_new_member_of_a_kept_collection_still_sorts_after_its_root() -> None:
    """Account's collection of Zebras reads newest first (the root must sort first: Zebra's
    keys got `#`). A new Yak collection under the kept Account key gets `#` too, as a fresh
    compile gives it, although Account's and Zebra's templates are the previous layout's."""
    account = entity("Account", ["account_id"], {"account_id": "uuid"})
    zebra = entity("Zebra", ["account_id", "zebra_id"], {"account_id": "uuid", "zebra_id": "uuid"}, parent="Account")  # fmt: skip
    yak = entity("Yak", ["account_id", "yak_id"], {"account_id": "uuid", "yak_id": "uuid"}, parent="Account")  # fmt: skip
    get = pattern("get_account", "Account", {"account_id": "="}, unique=True)
    zebras = pattern("account_with_zebras", ["Account", "Zebra"], {"account_id": "="}, order="desc", limit=10)  # fmt: skip
    yaks = pattern("account_with_yaks", ["Account", "Yak"], {"account_id": "="}, order="desc", limit=5)  # fmt: skip
    old, _ = compile_model(model("herd", [account, zebra], [get, zebras]))
    assert old is not None
    assert _keys(old)[("Zebra", "table")][1] == "#ZEBRA#{zebra_id}"
    new_model = model("herd", [account, zebra, yak], [get, zebras, yaks])
    assert derive(new_model, old).entity_layouts == derive(new_model).entity_layouts
    new, _ = compile_model(new_model, old)
    assert new is not None and _keys(new)[("Yak", "table")][1] == "#YAK#{yak_id}"


# --------------------------------------------------------------------------- bad previous layouts


def _compile(*args: str) -> Any:
    return CliRunner().invoke(app, ["compile", *args])


@pytest.mark.parametrize(
    ("text", "located"),
    [
        ('{"model": "orders",\n  "indexes": [\n', "layout.json:3:1: not a layout.json"),
        ("[1, 2]", "layout.json:1:1: not a layout.json: not a JSON object"),
        ('{"model": "orders"}', "layout.json: not a layout.json: no table_name, indexes"),
        (
            '{"model": "orders", "table_name": "T", "indexes": [{"name": "GSI0", "kind": "gsi"}], "entities": [], "plans": []}',
            "layout.json: indexes[0].name: 'GSI0' is not an index name",
        ),
        (
            '{"model": "orders", "table_name": "T", "indexes": [{"name": "table", "kind": "table"}], '
            '"entities": [{"entity": "Order", "keys": [{"index": "GSI7", "pk": "X"}]}], "plans": []}',
            "layout.json: entities[0].keys[0].index: 'GSI7' is none of the layout's indexes",
        ),
        (
            '{"model": "orders", "table_name": "T", "schema_version": 9, "indexes": [], "entities": [], "plans": []}',
            "layout.json: schema_version: 9",
        ),
    ],
    ids=["syntax", "not-an-object", "missing", "index-name", "key-index", "version"],
)
def test_a_corrupt_previous_layout_is_a_located_error(
    tmp_path: Path, text: str, located: str
) -> None:
    bad = tmp_path / "layout.json"
    bad.write_text(text, "utf-8")
    model_path = str(ROOT / "models" / "orders.yaml")
    for args in (["--previous", str(bad)], []):  # explicit, and the lock in the output dir
        result = _compile(model_path, "-o", str(tmp_path), "--check", *args)
        assert result.exit_code == 2, result.output
        assert located in result.output and "hint:" in result.output
        assert ("Traceback" not in result.output and result.exception is None) or isinstance(
            result.exception, SystemExit
        )
    # --fresh ignores the corrupt lock
    assert _compile(model_path, "-o", str(tmp_path), "--fresh").exit_code == 0


def test_previous_layout_of_another_model(tmp_path: Path) -> None:
    saas = tmp_path / "saas.json"
    assert _compile(str(ROOT / "models" / "saas.yaml"), "-o", str(tmp_path / "s")).exit_code == 0
    saas.write_text((tmp_path / "s" / "layout.json").read_text("utf-8"), "utf-8")
    orders = str(ROOT / "models" / "orders.yaml")
    explicit = _compile(orders, "-o", str(tmp_path / "o"), "--previous", str(saas))
    assert (
        explicit.exit_code == 2 and "the layout of model 'saas', not of 'orders'" in explicit.output
    )
    # the lock in a reused output directory: a warning, and a fresh compile
    reused = _compile(orders, "-o", str(tmp_path / "s"))
    assert reused.exit_code == 0, reused.output
    assert "previous-layout-ignored" in reused.output
    missing = _compile(orders, "--previous", str(tmp_path / "nope.json"), "-o", str(tmp_path / "o"))
    assert missing.exit_code == 2 and "no such file" in missing.output
    both = _compile(orders, "--previous", str(saas), "--fresh", "-o", str(tmp_path / "o"))
    assert both.exit_code == 2 and "contradict" in both.output


def test_previous_from_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--previous git:REF:path` reads the committed lock (the examples' generated/)."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        app,
        [
            "compile",
            "models/orders.yaml",
            "-o",
            str(tmp_path),
            "--previous",
            "git:HEAD:generated/orders/layout.json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "layout.json").read_text("utf-8") == (
        ROOT / "generated" / "orders" / "layout.json"
    ).read_text("utf-8")


# --------------------------------------------------------------------------- proof on data


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["orders", "saas"])
def test_an_evolved_stable_layout_verifies_on_dynamodb_local(
    name: str, dynamodb_local: Any
) -> None:
    """The stable layout of an evolved example (a pattern removed, patterns added, a new GSI)
    is proven like any layout: every pattern, kept and new, returns exactly the oracle's rows
    on DynamoDB Local."""
    _old_model, old, new_model, _removed, added = _evolve(name)
    layout, _ = compile_model(new_model, old)
    assert layout is not None
    options = VerifyOptions(
        trials=6, sample=SampleOptions(roots=4, fanout=4, hot_partition_bytes=0)
    )
    report = verify(new_model, layout, dynamodb_local.client(), options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns if p.failures]
    verified = {p.pattern for p in report.patterns}
    assert set(added) <= verified


_PEOPLE_YAML = """\
model: stable_people
table: {name: StablePeople, billing: on_demand, pitr: false, deletion_protection: false}
entities:
  Person:
    table: people
    key: [person_id]
    attributes:
      person_id: uuid
      email: string
      team: string
      city: string
access_patterns:
  get_person:
    entity: Person
    where: {person_id: "="}
    unique: true
"""


def _people(*attrs: str) -> str:
    return _PEOPLE_YAML + "".join(
        f'  person_by_{a}:\n    entity: Person\n    where: {{{a}: "="}}\n' for a in attrs
    )


@pytest.mark.e2e
def test_migrate_and_verify_use_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dynamodb_local: Any
) -> None:
    """The commands that work on a table compile against generated/<model>/layout.json too:
    `model migrate create-table` creates the stable layout's GSIs (GSI2, GSI3), not a fresh
    compile's (GSI1, GSI2), and `model verify` proves that layout."""
    monkeypatch.chdir(tmp_path)
    model_path = tmp_path / "people.yaml"
    model_path.write_text(_people("email", "team"), "utf-8")
    assert _compile(str(model_path)).exit_code == 0
    old = json.loads((tmp_path / "generated" / "stable_people" / "layout.json").read_text("utf-8"))
    on = {p["pattern"]: p["index"] for p in old["plans"]}
    kept = next(p for p, i in on.items() if i == "GSI2").removeprefix("person_by_")
    model_path.write_text(_people(kept, "city"), "utf-8")
    assert _compile(str(model_path)).exit_code == 0
    table = "stable-people-" + uuid.uuid4().hex[:8]
    created = CliRunner().invoke(
        app,
        ["migrate", "create-table", str(model_path), "--endpoint", dynamodb_local.endpoint_url, "--table", table],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    described = dynamodb_local.client().describe_table(TableName=table)["Table"]
    assert sorted(g["IndexName"] for g in described["GlobalSecondaryIndexes"]) == ["GSI2", "GSI3"]
    verified = CliRunner().invoke(
        app,
        ["verify", str(model_path), "--endpoint", dynamodb_local.endpoint_url, "--trials", "5", "--json"],
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["ok"]
    assert {p["pattern"]: p["index"] for p in report["patterns"]}["person_by_city"] == "GSI3"


def test_a_stable_layout_that_fails_a_check_falls_back_to_fresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever check refuses the stable layout (here a stand-in that refuses GSI3, which
    only the stable layout has), the fresh layout is used, with a warning naming the check."""
    old, _ = compile_model(model("stable", _PEOPLE, [_GET, _BY["email"], _BY["team"]]))
    assert old is not None
    on = {p.pattern: p.index for p in old.plans}
    kept = next(p for p, i in on.items() if i == "GSI2").removeprefix("user_by_")
    new_model = model("stable", _PEOPLE, [_GET, _BY[kept], _BY["city"]])

    def refuse_gsi3(layout: ir.Layout, _model: ir.Model) -> Any:
        if layout.index("GSI3") is not None:
            yield Diagnostic("too-many-gsis", Severity.ERROR, "GSI3 refused (test)")

    monkeypatch.setattr(compiler, "CHECKS", (*compiler.CHECKS, refuse_gsi3))
    new, diags = compile_model(new_model, old)
    fresh, _ = compile_model(new_model)
    assert new is not None and fresh is not None
    assert ir.to_json(new.indexes) == ir.to_json(fresh.indexes)
    (warning,) = [d for d in diags if d.code == "previous-layout-not-kept"]
    assert warning.severity is Severity.WARNING
    assert "GSI3 refused (test) [too-many-gsis]" in warning.message


def test_an_unread_lsi_is_kept_not_a_new_table() -> None:
    """An LSI cannot be deleted from a live table: removing the only pattern that reads one
    keeps the LSI (and its items' keys) instead of asking for a new table; `--fresh` drops it."""
    path = ROOT / "tests" / "fixtures" / "models" / "lsi_orders.yaml"
    data = _yaml().load(path.read_text("utf-8"))
    old = _model(data)
    assert old is not None
    before, _ = compile_model(old)
    assert before is not None
    lsi = next(p.index for p in before.plans if p.pattern == "orders_of_customer_from_total")
    assert lsi.startswith("LSI")
    del data["access_patterns"]["orders_of_customer_from_total"]
    new = _model(data)
    assert new is not None
    after, _ = compile_model(new, before)
    assert after is not None
    assert [i.name for i in after.indexes] == [i.name for i in before.indexes]
    assert _keys(after) == _keys(before)
    ev = classify(Design(old, before), Design(new, after))
    assert [c.kind for c in ev.changes] == ["pattern-removed"]
    assert not ev.new_table
    assert not any(s.action == "create-table" for s in runbook(ev))
    fresh, _ = compile_model(new)
    assert fresh is not None
    assert (
        len([i for i in fresh.indexes if i.kind == "lsi"])
        == len([i for i in before.indexes if i.kind == "lsi"]) - 1
    )


def test_cost_and_docs_follow_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`model cost` and `model docs` describe the deployed layout: compiled against
    generated/<model>/layout.json as `model compile` is, so a new pattern does not show the
    other patterns on renumbered GSIs (a fresh compile moves orders_by_status_since to GSI4)."""
    monkeypatch.chdir(tmp_path)
    old_path = ROOT / "models" / "orders.yaml"
    assert CliRunner().invoke(app, ["compile", str(old_path)]).exit_code == 0
    assert (tmp_path / "generated" / "orders" / "layout.json").is_file()
    data = _load("orders")
    data["access_patterns"]["orders_by_currency"] = {
        "entity": "Order",
        "where": {"currency": "=", "placed_at": ">="},
    }
    new_path = tmp_path / "orders.yaml"
    new_path.write_text(_text(data), "utf-8")
    cost = CliRunner().invoke(app, ["cost", str(new_path), "--json"])
    assert cost.exit_code == 0, cost.output
    index = {p["pattern"]: p["index"] for p in json.loads(cost.stdout)[0]["patterns"]}
    assert index["orders_by_status_since"] == "GSI3" and index["orders_by_currency"] == "GSI4"
    from modeling.commands.docs import load_compiled

    [(_, layout)], problems = load_compiled([new_path])
    assert problems == []
    assert {p.pattern: p.index for p in layout.plans}["orders_by_status_since"] == "GSI3"
