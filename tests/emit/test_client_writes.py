"""The generated client's write side on DynamoDB Local: create, optimistic locking, partial
updates that keep index keys in sync, validation, opaque cursors, batch get and write,
transactions. Each test would fail on the client before it had the capability (put over an
existing item succeeded, a stale update overwrote a newer one, `status='bogus'` was stored,
pages handed back DynamoDB's raw LastEvaluatedKey)."""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.verify import dynamo

from .test_transformers import load_package

pytestmark = pytest.mark.e2e

MODEL = """
model: ledger_app
entities:
  Account:
    table: accounts
    key: [account_id]
    version: revision
    attributes:
      account_id: string
      email: {type: string, max_length: 40}
      plan: {type: string, enum: [free, pro]}
      balance: decimal
      tags: {type: set<string>, required: false}
      history: {type: list<string>, required: false}
      nickname: {type: string, required: false}
      revision: integer
  Note:
    table: notes
    key: [account_id, note_id]
    parent: Account
    attributes:
      account_id: {type: string, references: Account}
      note_id: integer
      status: {type: string, enum: [open, done]}
      title: string
      created_at: datetime
access_patterns:
  get_account: {entity: Account, where: {account_id: "="}}
  accounts_of_plan: {entity: Account, where: {plan: "="}}
  account_by_email: {entity: Account, where: {email: "="}, unique: true}
  notes_of_account: {entity: Note, where: {account_id: "="}}
  notes_by_status: {entity: Note, where: {account_id: "=", status: "="}}
"""


@pytest.fixture
def app(tmp_path: Path, dynamodb_local: Any) -> tuple[Any, ModuleType, Any]:
    path = tmp_path / "ledger_app.yaml"
    path.write_text(MODEL, encoding="utf-8")
    model = load_model(path)
    layout, diagnostics = compile_model(model)
    assert layout is not None, diagnostics.sorted()
    t = load_package(layout, model, tmp_path / "pkg", client=True)
    client_module = importlib.import_module(t.__name__.rsplit(".", 1)[0] + ".client")
    ddb = dynamodb_local.client()
    table = f"writes_{uuid.uuid4().hex[:10]}"
    dynamo.create_table(ddb, layout, table)
    return client_module.Client(table, ddb), client_module, ddb


def _account(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": "a1",
        "email": "ada@example.com",
        "plan": "free",
        "balance": Decimal("10.00"),
        "revision": 1,
    }
    row.update(changes)
    return row


def test_create_fails_when_the_item_exists(app: tuple[Any, ModuleType, Any]) -> None:
    client, m, _ = app
    client.create_account(_account())
    with pytest.raises(m.ItemExists):
        client.create_account(_account(email="other@example.com"))
    assert client.get_account("a1")["email"] == "ada@example.com"  # not overwritten


def test_validation_rejects_what_the_model_forbids(app: tuple[Any, ModuleType, Any]) -> None:
    client, m, ddb = app
    bad = _account(plan="bogus", email="x" * 41, nickname=None, colour="red")
    del bad["balance"]
    with pytest.raises(m.ValidationError) as info:
        client.put_account(bad)
    problems = "\n".join(info.value.problems)
    assert "plan: 'bogus' is not one of free, pro" in problems
    assert "email: 41 long, at most 40 allowed" in problems
    assert "balance: required" in problems
    assert "colour: not an attribute of Account" in problems
    with pytest.raises(m.ValidationError, match="balance"):
        client.put_account(_account(balance="lots"))  # a type the transformer refuses
    assert ddb.scan(TableName=client.table_name)["Items"] == []
    client.create_account(_account())
    with pytest.raises(m.ValidationError, match="bogus"):
        client.patch_account("a1", set={"plan": "bogus"})
    assert client.get_account("a1")["plan"] == "free"


def test_version_check_prevents_a_lost_update(app: tuple[Any, ModuleType, Any]) -> None:
    client, m, _ = app
    client.create_account(_account())
    mine = client.get_account("a1")
    theirs = client.get_account("a1")
    client.update_account({**theirs, "balance": Decimal("99"), "revision": 2}, expected_version=1)
    with pytest.raises(m.VersionConflict):  # my copy is stale: revision 1 is gone
        client.update_account({**mine, "balance": Decimal("5"), "revision": 2}, expected_version=1)
    assert client.get_account("a1")["balance"] == Decimal("99")
    with pytest.raises(m.VersionConflict):
        client.delete_account("a1", expected_version=1)
    assert client.delete_account("a1", expected_version=2) is True


def test_patch_keeps_index_keys_in_sync_and_bumps_the_version(
    app: tuple[Any, ModuleType, Any],
) -> None:
    client, m, _ = app
    client.create_account(_account(tags=frozenset({"vip"}), history=["opened"]))
    assert [a["account_id"] for a in client.accounts_of_plan("free")] == ["a1"]
    row = client.patch_account(
        "a1",
        set={"plan": "pro", "email": "ada@new.example"},
        add={"balance": Decimal("2.50"), "tags": {"beta"}},
        append={"history": ["upgraded"]},
        remove=["nickname"],
    )
    assert row["plan"] == "pro" and row["balance"] == Decimal("12.50")
    assert row["tags"] == frozenset({"vip", "beta"}) and row["history"] == ["opened", "upgraded"]
    assert row["revision"] == 2  # bumped
    # every index moved with the attributes: no stale GSI entry under the old plan or email
    assert client.accounts_of_plan("free") == []
    assert [a["account_id"] for a in client.accounts_of_plan("pro")] == ["a1"]
    assert client.account_by_email("ada@example.com") is None
    assert client.account_by_email("ada@new.example")["revision"] == 2
    with pytest.raises(m.VersionConflict):
        client.patch_account("a1", set={"nickname": "A"}, expected_version=1)
    with pytest.raises(m.ItemNotFound):
        client.patch_account("nope", set={"nickname": "A"})
    with pytest.raises(ValueError, match="table key"):
        client.patch_account("a1", set={"account_id": "a2"})


def test_concurrent_patches_never_lose_an_update(app: tuple[Any, ModuleType, Any]) -> None:
    """Ten threads add 1 to the balance five times each, retrying on VersionConflict: the
    final balance counts every addition (a plain read-modify-write loses some)."""
    client, m, _ = app
    client.create_account(_account(balance=Decimal(0)))
    conflicts = [0]

    def worker() -> None:
        for _ in range(5):
            while True:
                try:
                    client.patch_account("a1", add={"balance": Decimal(1)})
                    break
                except m.VersionConflict:
                    conflicts[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    final = client.get_account("a1", consistent_read=True)
    assert final["balance"] == Decimal(50)
    assert final["revision"] == 51


def test_patch_without_a_version_compares_the_whole_item(
    app: tuple[Any, ModuleType, Any],
) -> None:
    client, m, ddb = app
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    note = {"account_id": "a1", "note_id": 1, "status": "open", "title": "t", "created_at": created}
    client.create_note(note)
    assert [n["note_id"] for n in client.notes_by_status("a1", "open")] == [1]
    done = client.patch_note("a1", 1, set={"status": "done"})
    assert done["status"] == "done"
    assert client.notes_by_status("a1", "open") == []
    assert [n["note_id"] for n in client.notes_by_status("a1", "done")] == [1]
    # someone else changes the title between our read and our write: the write is refused
    real_get = client._get

    def racing_get(key: Any, consistent: bool) -> Any:
        item = real_get(key, consistent)
        other = dict(item)
        other["title"] = {"S": "changed by someone else"}
        ddb.put_item(TableName=client.table_name, Item=other)
        return item

    client._get = racing_get
    with pytest.raises(m.VersionConflict):
        client.patch_note("a1", 1, set={"status": "open"})
    client._get = real_get
    stored = client.notes_of_account("a1")[0]
    assert stored["title"] == "changed by someone else" and stored["status"] == "done"


def test_pages_use_opaque_cursors(app: tuple[Any, ModuleType, Any]) -> None:
    client, m, _ = app
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for i in range(7):
        client.create_note(
            {"account_id": "a1", "note_id": i, "status": "open", "title": f"n{i}"}
            | {"created_at": created}
        )
    seen: list[int] = []
    cursor = None
    for _ in range(20):
        rows, cursor = client.notes_of_account_page("a1", cursor=cursor, page_size=3)
        seen += [r["note_id"] for r in rows]
        if cursor is None:
            break
        assert isinstance(cursor, str) and "{" not in cursor  # not a raw key dict
    assert seen == list(range(7))
    _, first = client.notes_of_account_page("a1", page_size=3)
    with pytest.raises(m.InvalidCursor, match="notes_of_account"):
        client.notes_by_status_page("a1", "open", cursor=first)
    with pytest.raises(m.InvalidCursor):
        client.notes_of_account_page("a1", cursor="not-a-cursor")


def test_batch_write_and_batch_get(app: tuple[Any, ModuleType, Any]) -> None:
    client, m, ddb = app
    accounts = [_account(account_id=f"a{i:03d}", email=f"u{i}@example.com") for i in range(60)]
    assert client.batch_write(puts=[("Account", a) for a in accounts]) == 60
    assert ddb.scan(TableName=client.table_name, Select="COUNT")["Count"] == 60
    wanted = [{"account_id": f"a{i:03d}"} for i in (59, 3, 3, 1000, 17)]
    got = client.batch_get_account(wanted)
    assert [r["account_id"] for r in got] == ["a059", "a003", "a003", "a017"]
    with pytest.raises(ValueError, match="two operations on one item"):
        client.batch_write(
            puts=[("Account", accounts[0])], deletes=[("Account", {"account_id": "a000"})]
        )
    with pytest.raises(m.ValidationError):
        client.batch_write(puts=[("Account", _account(plan="bogus"))])
    deleted = client.batch_write(
        deletes=[("Account", {"account_id": a["account_id"]}) for a in accounts]
    )
    assert deleted == 60
    assert ddb.scan(TableName=client.table_name, Select="COUNT")["Count"] == 0


def test_transactions_across_entities(app: tuple[Any, ModuleType, Any]) -> None:
    client, m, _ = app
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    note = {"account_id": "a1", "note_id": 1, "status": "open", "title": "t", "created_at": created}
    with client.transaction() as tx:
        tx.create("Account", _account())
        tx.create("Note", note)
    assert client.get_account("a1") is not None
    assert len(client.notes_of_account("a1")) == 1
    # the second action fails (the note exists): nothing of the transaction is written
    with pytest.raises(m.TransactionFailed) as info, client.transaction() as tx:
        tx.put("Account", _account(balance=Decimal(1), revision=2), expected_version=1)
        tx.create("Note", note)
    assert info.value.reasons == ["None", "ConditionalCheckFailed"]
    assert client.get_account("a1")["balance"] == Decimal("10.00")
    with client.transaction() as tx:
        tx.delete("Note", {"account_id": "a1", "note_id": 1})
        tx.put("Account", _account(revision=2), expected_version=1)
    assert client.notes_of_account("a1") == []
    assert client.get_account("a1")["revision"] == 2
    with pytest.raises(ValueError, match="twice"):
        client.transaction().delete("Note", {"account_id": "a1", "note_id": 1}).delete(
            "Note", {"account_id": "a1", "note_id": 1}
        )


def test_update_that_moves_onto_another_items_key_is_refused(
    app: tuple[Any, ModuleType, Any],
) -> None:
    client, m, _ = app
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    one = {
        "account_id": "a1",
        "note_id": 1,
        "status": "open",
        "title": "one",
        "created_at": created,
    }
    two = {**one, "note_id": 2, "title": "two"}
    client.create_note(one)
    client.create_note(two)
    with pytest.raises(m.ItemExists):
        client.update_note({**one, "note_id": 2}, previous=one)  # would overwrite `two`
    assert sorted(n["title"] for n in client.notes_of_account("a1")) == ["one", "two"]
