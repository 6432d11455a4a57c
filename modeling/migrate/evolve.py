"""`model diff OLD NEW`: the runbook that takes a live table from one design to the next, and
`--apply`: the runnable steps, run against the table.

`runbook(evolution)` orders the steps of `modeling.compile.evolution.classify`'s changes:

1. when the table itself must be new (its key schema, an LSI, its name): create the new table
   from NEW, copy every item into it (each re-derived with NEW's transformers, relationship
   copies included) while the application writes the old one, stop the writes, catch up (the
   same copy, incremental: only what changed is written, what went is deleted), move the
   application; nothing else applies (the new table has the whole new design);
2. otherwise: in-place settings (billing first: a new GSI takes the table's billing mode),
   deploy the code generated from NEW (its writes carry the new keys), write the new key
   attributes of a GSI moving between composite and attribute keys (the old index still
   serves), rebuild changed GSIs, create new GSIs one UpdateTable at a time (DynamoDB creates
   one GSI per call, in sequence), backfill the key attributes and item changes on existing
   items (new shard suffixes included), re-key entities whose table key changed, write the
   relationship copies NEW reads, refill from the source what the table cannot know (new
   entities and attributes), switch reads to the new patterns, then TTL and the clean-up
   (removed GSIs and their key attributes, copies NEW no longer writes, the items of removed
   entities: only with `--cleanup`).

Each step says what, why, the exact API call or `model` command, whether `--apply` runs it, and
the items it touches (from `row_count:` when the model has it).

The item passes reuse the migration's pieces: the generated transformers (OLD's `from_item`
reads an item back into its row, NEW's `to_item` writes it), the `Sink` (batched, retried
writes into a new table), `DeadLetters` (an item that does not convert is recorded with the
reason and the pass goes on) and `table.wait_active`. Scans run in parallel segments. An item
is updated with a condition on the `_version` it was read with, so an application write that
lands meanwhile is never overwritten: the item is read again and re-derived.
"""

from __future__ import annotations

import functools
import json
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modeling import api
from modeling.compile.evolution import NEW_TABLE_KINDS, Change, Design, Evolution
from modeling.core import ir
from modeling.core.errors import OperationError
from modeling.migrate import table as table_ops
from modeling.migrate import transformers as transformer_loader
from modeling.migrate.errors import MigrationError
from modeling.migrate.runner import DeadLetters, table_key_names
from modeling.migrate.sink import Sink, retryable
from modeling.migrate.validate import normalise
from modeling.migrate.versioning import VERSION_ATTRIBUTE

Call = tuple[str, dict[str, Any]]  # (boto3 method, kwargs)
WRITERS_PER_SEGMENT = 4  # item writes in flight per Scan segment (a write waits ~ms on the table)
ATTEMPTS = 8  # re-reads of one item whose version moved while it was being rewritten


class ItemsLost(OperationError, RuntimeError):
    """An item pass ended with items missing or left in the old layout (exit 1)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class Step:
    """One runbook step."""

    action: str
    what: str
    why: str
    command: str  # the exact API call(s) or `model` command, as text
    runnable: bool  # `model diff --apply` runs it
    items: int | None = None  # estimated items touched (None: unknown)
    calls: list[Call] = field(default_factory=list)
    entities: tuple[str, ...] = ()
    index: str | None = None
    cleanup: bool = False  # runs only with --cleanup (deletes what the old design used)
    target: str | None = None  # copy-items: the new table
    # backfill: attributes NEW no longer writes that stay on the items for now (the key
    # attributes of a GSI that still serves until it is rebuilt; removed in clean-up)
    keep: tuple[str, ...] = ()
    types: tuple[str, ...] = ()  # write-copies / delete-copies: the copies' type values
    number: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.number,
            "action": self.action,
            "what": self.what,
            "why": self.why,
            "command": self.command,
            "runnable": self.runnable,
            "cleanup": self.cleanup,
            "items": self.items,
            "entities": list(self.entities),
            "index": self.index,
            "keep": list(self.keep),
            "types": list(self.types),
            "calls": [{"method": m, "request": kw} for m, kw in self.calls],
        }


# --------------------------------------------------------------------------- the runbook


def _api_name(method: str) -> str:
    return "".join(part.capitalize() for part in method.split("_"))


def _delete_gsi_calls(table: str, index: str) -> list[Call]:
    """The one UpdateTable call that deletes GSI `index` (a rebuild and the clean-up both)."""
    return [
        (
            "update_table",
            {"TableName": table, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": index}}]},
        )
    ]


def _call_text(calls: Sequence[Call]) -> str:
    return "\n".join(f"{_api_name(m)} {json.dumps(kw, sort_keys=True)}" for m, kw in calls)


def _items(model: ir.Model, entities: Sequence[str]) -> int | None:
    """Items of these entities (one per row) from their `row_count:`; None when one lacks it."""
    total = 0
    for name in entities:
        entity = model.entity(name)
        if entity is None or entity.row_count is None:
            return None
        total += entity.row_count
    return total


def _label(design: Design) -> str:
    return design.label or design.model.file or design.model.name


def _model_arg(design: Design) -> str:
    """The model as a shell word of the runbook's commands: a path holding `;`, `$(...)` or a
    quote is quoted, so pasting the command runs nothing else (JSON quotes left `$(...)`)."""
    return shlex.quote(_label(design))


def _gsi_definition(create: Mapping[str, Any], name: str) -> dict[str, Any]:
    for g in create.get("GlobalSecondaryIndexes", []):
        if g["IndexName"] == name:
            return dict(g)
    raise KeyError(name)  # pragma: no cover - the layout lists the index


def _attribute_definitions(create: Mapping[str, Any], gsi: Mapping[str, Any]) -> list[Any]:
    names = {k["AttributeName"] for k in gsi["KeySchema"]}
    return [d for d in create["AttributeDefinitions"] if d["AttributeName"] in names]


def _billing_calls(ev: Evolution, table: str, create: Mapping[str, Any]) -> list[Call]:
    new = ev.new.model.table.billing
    if new.mode == "on_demand":
        return [("update_table", {"TableName": table, "BillingMode": "PAY_PER_REQUEST"})]
    throughput = {"ReadCapacityUnits": new.read or 1, "WriteCapacityUnits": new.write or 1}
    request: dict[str, Any] = {
        "TableName": table,
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": throughput,
    }
    # every GSI the table has now needs its own capacity (also those deleted later)
    kept = [i.name for i in ev.old.layout.gsis]
    if kept and ev.old.model.table.billing.mode == "on_demand":
        request["GlobalSecondaryIndexUpdates"] = [
            {"Update": {"IndexName": name, "ProvisionedThroughput": throughput}} for name in kept
        ]
    return [("update_table", request)]


def _stream_calls(ev: Evolution, table: str) -> list[Call]:
    was, now = ev.old.model.table.stream, ev.new.model.table.stream
    calls: list[Call] = []
    if was is not None:  # a view type changes only by disabling the stream first
        calls.append(
            ("update_table", {"TableName": table, "StreamSpecification": {"StreamEnabled": False}})
        )
    if now is not None:
        calls.append(
            (
                "update_table",
                {
                    "TableName": table,
                    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": now.upper()},
                },
            )
        )
    return calls


def _ttl_calls(ev: Evolution, table: str) -> list[Call]:
    was, now = ev.old.model.table.ttl, ev.new.model.table.ttl
    calls: list[Call] = []
    if was is not None:
        calls.append(
            (
                "update_time_to_live",
                {
                    "TableName": table,
                    "TimeToLiveSpecification": {"AttributeName": was, "Enabled": False},
                },
            )
        )
    if now is not None:
        calls.append(
            (
                "update_time_to_live",
                {
                    "TableName": table,
                    "TimeToLiveSpecification": {"AttributeName": now, "Enabled": True},
                },
            )
        )
    return calls


ARN_OF = "arn-of:"  # a call's ResourceArn before --apply reads the table's ARN
TAG_METHODS = ("tag_resource", "untag_resource")
UNSUPPORTED = "UnknownOperationException"  # DynamoDB Local: "Tagging is not currently supported"


def _tag_calls(ev: Evolution, table: str) -> list[Call]:
    was, now = dict(ev.old.model.table.tags), dict(ev.new.model.table.tags)
    arn = f"{ARN_OF}{table}"
    calls: list[Call] = []
    put = {k: v for k, v in sorted(now.items()) if was.get(k) != v}
    if put:
        tags = [{"Key": k, "Value": v} for k, v in put.items()]
        calls.append(("tag_resource", {"ResourceArn": arn, "Tags": tags}))
    gone = sorted(set(was) - set(now))
    if gone:
        calls.append(("untag_resource", {"ResourceArn": arn, "TagKeys": gone}))
    return calls


def _flag_call(change: Change, table: str) -> list[Call]:
    if change.kind == "pitr-changed":
        return [
            (
                "update_continuous_backups",
                {
                    "TableName": table,
                    "PointInTimeRecoverySpecification": {
                        "PointInTimeRecoveryEnabled": bool(change.new)
                    },
                },
            )
        ]
    return [("update_table", {"TableName": table, "DeletionProtectionEnabled": bool(change.new)})]


def _new_table_steps(ev: Evolution, table: str, target: str) -> list[Step]:
    create, _ = api.table_requests(ev.new.layout, ev.new.model, target)
    entities = tuple(e.name for e in ev.new.model.entities if ev.old.model.entity(e.name))
    reasons = "; ".join(c.detail for c in ev.changes if c.kind in NEW_TABLE_KINDS)
    old_arg, new_arg = _model_arg(ev.old), _model_arg(ev.new)
    steps = [
        Step(
            "create-table",
            f"create table {target} from NEW",
            f"{reasons}: a key schema and LSIs exist only from table creation",
            f"model migrate create-table {new_arg} --table {target}",
            True,
            calls=[("create_table", create)],
        ),
        Step(
            "copy-items",
            f"copy every item of {table} into {target}, re-derived with NEW's transformers",
            "the new table starts empty; the old one is the source (a Scan in parallel "
            "segments), so PostgreSQL is not read again; the application keeps writing the "
            "old table meanwhile (the catch-up below takes what it writes)",
            f"model diff {old_arg} {new_arg} --apply --table {table} --new-table {target}",
            True,
            items=_items(ev.old.model, entities),
            entities=entities,
            target=target,
        ),
    ]
    steps += [
        Step(
            "freeze-writes",
            f"stop the application's writes to {table} (maintenance mode, or its writers "
            "paused) until the switch",
            "the copy read each item once while the application kept writing: what it wrote "
            "since is only in the old table",
            f"(by hand) confirm no writer is left: DescribeTable {table} shows no write "
            "activity in CloudWatch's ConsumedWriteCapacityUnits",
            False,
        ),
        Step(
            "catch-up",
            f"copy again what changed in {table} since the copy (an item already in {target} "
            "as derived is skipped; one deleted or moved since is deleted from it)",
            "after this pass the new table holds exactly the old one's items, re-derived",
            f"model diff {old_arg} {new_arg} --apply --table {table} --new-table {target} --step N",
            True,
            items=_items(ev.old.model, entities),
            entities=entities,
            target=target,
        ),
    ]
    added = [c.subject for c in ev.of_kind("entity-added")]
    if added:
        steps.append(
            Step(
                "migrate-from-source",
                f"migrate the rows of {', '.join(added)} into {target}",
                "new entities have no items yet; their rows are in the source database",
                f'model migrate run {new_arg} --source "$SOURCE_DSN" --table {target}',
                False,
                items=_items(ev.new.model, added),
                entities=tuple(added),
            )
        )
    steps.append(
        Step(
            "switch-table",
            f"point the application at {target} (deploy the code generated from NEW) and "
            "resume its writes",
            "every item is in the new table with the new keys",
            f"model compile {new_arg}",
            False,
        )
    )
    steps.append(
        Step(
            "delete-table",
            f"delete {table} once nothing reads or writes it",
            "the old table is no longer used (keep it until the new one is proven)",
            _call_text([("delete_table", {"TableName": table})]),
            False,
            cleanup=True,
        )
    )
    return steps


def runbook(ev: Evolution, table: str | None = None, target: str | None = None) -> list[Step]:
    """The ordered steps from OLD to NEW for `table` (default: OLD's table name); `target`
    names the new table when one is needed (default: NEW's table name, or `<table>-v2`)."""
    table = table or ev.old.layout.table_name
    old, new = ev.old, ev.new
    old_arg, new_arg = _model_arg(old), _model_arg(new)
    if ev.new_table:
        if target is None:
            target = new.layout.table_name
            if target == table:
                target = f"{table}-v2"
        return _numbered(_new_table_steps(ev, table, target))
    create, _ = api.table_requests(new.layout, new.model, table)
    steps: list[Step] = []
    calls: list[Call]

    # 1. in-place settings (billing first: a GSI created after takes the table's mode)
    for change in ev.of_kind("billing-changed"):
        calls = _billing_calls(ev, table, create)
        steps.append(
            Step(
                "update-billing",
                change.detail,
                "billing changes in place (DynamoDB allows a switch of mode once per 24 hours)",
                _call_text(calls),
                True,
                calls=calls,
            )
        )
    for change in ev.of_kind("stream-changed"):
        calls = _stream_calls(ev, table)
        steps.append(
            Step(
                "update-stream",
                change.detail,
                "a stream's view type changes by disabling it and enabling it again (a new "
                "stream ARN: consumers must follow it)",
                _call_text(calls),
                True,
                calls=calls,
            )
        )
    for change in ev.of_kind("table-class-changed"):
        calls = [("update_table", {"TableName": table, "TableClass": str(change.new).upper()})]
        steps.append(
            Step(
                "update-table-class",
                change.detail,
                f"{change.consequence} (DynamoDB allows two class changes per 30 days)",
                _call_text(calls),
                True,
                calls=calls,
            )
        )
    for change in ev.of_kind("pitr-changed", "deletion-protection-changed"):
        calls = _flag_call(change, table)
        steps.append(
            Step(
                change.kind.replace("-changed", ""),
                change.detail,
                change.consequence,
                _call_text(calls),
                True,
                calls=calls,
            )
        )
    for change in ev.of_kind("tags-changed"):
        calls = _tag_calls(ev, table)
        steps.append(
            Step(
                "update-tags",
                change.detail,
                f"{change.consequence} (the table's ARN is DescribeTable's TableArn)",
                _call_text(calls),
                True,
                calls=calls,
            )
        )

    # 2. the code that writes the new layout, before any item is rewritten
    item_kinds = (
        "gsi-added",
        "gsi-changed",
        "gsi-rekeyed",
        "entity-shards-changed",
        "copies-added",
        "copies-changed",
        "entity-rekeyed",
        "entity-index-key-changed",
        "entity-type-changed",
        "attribute-removed",
        "attribute-type-changed",
        "attribute-added",
        "entity-added",
    )
    if ev.of_kind(*item_kinds):
        steps.append(
            Step(
                "deploy-writers",
                "deploy the code generated from NEW (its repository writes the new keys and "
                "attributes); do not call the new access patterns yet",
                "items written after the backfill must already carry the new layout, or the "
                "backfill leaves them behind",
                f"model compile {new_arg}",
                False,
            )
        )

    # 3. GSIs. One keyed on other attributes (composite <-> the items' own) gets its new key
    # attributes while it still serves (the old ones are kept until the clean-up); then rebuilt
    # ones are deleted (same name) and one UpdateTable per new GSI creates it
    keep = _kept_key_attributes(ev)
    rekeyed_gsis = ev.of_kind("gsi-rekeyed")
    prewrite = tuple(
        sorted(
            {
                e
                for c in rekeyed_gsis
                if not _index_of(new, c.index).on_attributes
                for e in c.entities
                if old.model.entity(e) is not None
            }
        )
    )
    if prewrite:
        names = ", ".join(str(c.index) for c in rekeyed_gsis)
        steps.append(
            Step(
                "backfill",
                f"write the new key attributes of {names} on the items of {', '.join(prewrite)}",
                f"{'; '.join(c.detail for c in rekeyed_gsis)}: the new key attributes share no "
                "name with the old ones, so they are written while the old index still serves "
                f"(its key attributes {', '.join(keep)} are kept until the clean-up); the "
                "rebuilt GSI then indexes them as it is created",
                f"model diff {old_arg} {new_arg} --apply --table {table} --step N",
                True,
                items=_items(old.model, prewrite),
                entities=prewrite,
                keep=keep,
            )
        )
    for change in ev.of_kind("gsi-changed", "gsi-rekeyed"):
        calls = _delete_gsi_calls(table, str(change.index))
        steps.append(
            Step(
                "delete-gsi",
                f"delete GSI {change.index} (to create it again)",
                f"{change.detail}: a GSI's key schema and projection cannot change in place; "
                "its patterns are unavailable until it is ACTIVE again",
                _call_text(calls),
                True,
                calls=calls,
                index=change.index,
                entities=change.entities,
            )
        )
    for change in ev.of_kind("gsi-changed", "gsi-rekeyed", "gsi-added"):
        assert change.index is not None
        gsi = _gsi_definition(create, change.index)
        calls = [
            (
                "update_table",
                {
                    "TableName": table,
                    "AttributeDefinitions": _attribute_definitions(create, gsi),
                    "GlobalSecondaryIndexUpdates": [{"Create": gsi}],
                },
            )
        ]
        steps.append(
            Step(
                "create-gsi",
                f"create GSI {change.index} and wait until it is ACTIVE",
                f"{change.detail}; DynamoDB creates one GSI per UpdateTable call, in sequence, "
                "and backfills it from the items that already hold its key attributes",
                _call_text(calls),
                True,
                items=_items(new.model, change.entities),
                calls=calls,
                index=change.index,
                entities=change.entities,
            )
        )

    # 4. item passes: backfill (same table key) and re-key (new table key)
    rekeyed = {c.subject for c in ev.of_kind("entity-rekeyed")}
    reasons: dict[str, list[str]] = {}
    for change in ev.of_kind(
        "gsi-added",
        "gsi-changed",
        "entity-index-key-changed",
        "entity-shards-changed",
        "entity-type-changed",
        "attribute-removed",
        "attribute-type-changed",
    ):
        for entity in change.entities:
            if entity in rekeyed or old.model.entity(entity) is None:
                continue
            why = (
                f"its keys on the new {change.index}"
                if change.kind in ("gsi-added", "gsi-changed")
                else change.detail
            )
            reasons.setdefault(entity, []).append(why)
    if new.model.table.ttl != old.model.table.ttl:
        for name in (old.model.table.ttl, new.model.table.ttl):
            for e in new.model.entities:
                if (
                    name
                    and e.attribute(name)
                    and old.model.entity(e.name)
                    and e.name not in rekeyed
                ):
                    reasons.setdefault(e.name, []).append(f"{name} changes encoding (TTL)")
    if reasons:
        entities = tuple(sorted(reasons))
        steps.append(
            Step(
                "backfill",
                f"rewrite the items of {', '.join(entities)} to the new layout",
                "; ".join(f"{e}: {', '.join(dict.fromkeys(reasons[e]))}" for e in entities)
                + ". Each item is read back with OLD's transformers, re-derived with NEW's and "
                "updated (only the attributes that differ) on the condition that its _version "
                "is still the one read",
                f"model diff {old_arg} {new_arg} --apply --table {table} --step N",
                True,
                items=_items(old.model, entities),
                entities=entities,
                keep=keep,
            )
        )
    for change in ev.of_kind("entity-rekeyed"):
        steps.append(
            Step(
                "rekey",
                f"move the items of {change.subject} to their new table keys",
                f"{change.detail}: each item is written at its new key, then the old one is "
                "deleted on the condition that its _version is unchanged; the pass ends by "
                "counting the items of the type (0 lost) and checking none is left at an old key",
                f"model diff {old_arg} {new_arg} --apply --table {table} --step N",
                True,
                items=_items(old.model, change.entities),
                entities=change.entities,
            )
        )

    # relationship copies of every existing item (after the re-keys: a copy holds its main
    # item's table key), before the reads switch to them
    for change in ev.of_kind("copies-added", "copies-changed"):
        copy = new.layout.copy(str(change.index))
        assert copy is not None
        added = change.kind == "copies-added"
        steps.append(
            Step(
                "write-copies",
                f"write the copies {change.index} of every {copy.entity} item",
                f"{change.detail}: NEW's client reads the copies, so each existing item gets "
                "its copies (read with NEW's transformers; a copy already at a newer _version "
                "is left alone)"
                + (
                    "; then each copy is checked against its main item and one a concurrent "
                    "write moved meanwhile is deleted"
                    if added
                    else "; the old copies stay until the clean-up (OLD's client reads them)"
                ),
                f"model diff {old_arg} {new_arg} --apply --table {table} --step N",
                True,
                items=_items(old.model, change.entities),
                entities=change.entities,
                index=change.index,
                types=(copy.type_value,),
            )
        )

    # copies of items a pass moved or rewrote: they hold the main item's table key and its
    # key slots, so NEW's copies are written again (the stale ones go in the clean-up)
    covered = {e for c in ev.of_kind("copies-added", "copies-changed") for e in c.entities}
    retyped = {e for c in ev.of_kind("attribute-type-changed") for e in c.entities}
    followed: list[ir.CopyItems] = [
        c
        for c in new.layout.copies
        if c.entity in (rekeyed | retyped) - covered and old.layout.copy(c.name) is not None
    ]
    for copy in followed:
        steps.append(
            Step(
                "write-copies",
                f"write the copies {copy.name} of every {copy.entity} item again",
                f"the items of {copy.entity} were moved or rewritten above, and a copy holds "
                "its main item's table key and key slots: NEW's copies are written (a copy "
                "already at a newer _version is left alone); the old ones go in the clean-up",
                f"model diff {old_arg} {new_arg} --apply --table {table} --step N",
                True,
                items=_items(old.model, (copy.entity,)),
                entities=(copy.entity,),
                index=copy.name,
                types=(copy.type_value,),
            )
        )

    # 5. what only the source knows
    fill = [c.subject for c in ev.of_kind("entity-added")]
    fill += [c.subject for c in ev.of_kind("attribute-added")]
    if fill:
        ents = tuple(dict.fromkeys(s.split(".")[0] for s in fill))
        steps.append(
            Step(
                "migrate-from-source",
                f"migrate the rows behind {', '.join(fill)} from the source database",
                "the table cannot know values it never held: new entities and new attributes "
                "come from PostgreSQL (the runner rewrites every entity, conditionally on "
                "_version in its catch-up)",
                f'model migrate run {new_arg} --source "$SOURCE_DSN" --table {table}',
                False,
                items=_items(new.model, ents),
                entities=ents,
            )
        )

    # 6. reads
    reads = ev.of_kind("pattern-added", "pattern-changed")
    if reads:
        names = ", ".join(c.subject for c in reads)
        steps.append(
            Step(
                "switch-reads",
                f"start calling {names} through the generated client",
                "their index holds every item once the steps above are done",
                f'model migrate validate {new_arg} --source "$SOURCE_DSN" --table {table} --patterns',
                False,
                entities=tuple(sorted({e for c in reads for e in c.entities})),
            )
        )

    # 7. TTL after the items carry the new encoding
    for change in ev.of_kind("ttl-changed"):
        calls = _ttl_calls(ev, table)
        steps.append(
            Step(
                "update-ttl",
                change.detail,
                "one TTL attribute per table: disable the old one, enable the new one (each "
                "change can take up to an hour; a second change waits for the first)",
                _call_text(calls),
                True,
                calls=calls,
            )
        )

    # 8. clean-up (only with --cleanup): what nothing reads any more
    for change in ev.of_kind("gsi-removed"):
        calls = _delete_gsi_calls(table, str(change.index))
        steps.append(
            Step(
                "delete-gsi",
                f"delete GSI {change.index}",
                f"{change.detail}; no pattern of NEW reads it (deploy NEW's client first)",
                _call_text(calls),
                True,
                calls=calls,
                index=change.index,
                cleanup=True,
            )
        )
    stripped = sorted(
        {
            e
            for c in (*ev.of_kind("gsi-removed"), *rekeyed_gsis)
            if c.kind == "gsi-removed" or not _index_of(old, c.index).on_attributes
            for e in c.entities
            if new.model.entity(e) is not None and e not in rekeyed
        }
    )
    if stripped:
        gone = ", ".join(
            c.index or ""
            for c in ev.of_kind("gsi-removed", "gsi-rekeyed")
            if c.kind == "gsi-removed" or not _index_of(old, c.index).on_attributes
        )
        steps.append(
            Step(
                "backfill",
                f"remove the key attributes of {gone} from the items of {', '.join(stripped)}",
                "the deleted index's key attributes still sit on the items (storage, and a GSI "
                "created later under the same name would index them); each item is re-derived "
                "with NEW's transformers and updated on the condition that its _version is "
                "unchanged",
                f"model diff {old_arg} {new_arg} --apply --table {table} --cleanup --step N",
                True,
                items=_items(old.model, stripped),
                entities=tuple(stripped),
                cleanup=True,
            )
        )
    for copy in followed:
        steps.append(
            Step(
                "delete-copies",
                f"delete the copies {copy.name} of {copy.entity} that NEW does not write",
                "copies written for the old items (at old main keys or key slots); each copy "
                "is checked against its main item: one NEW derives is kept, any other is "
                "deleted on the condition that its _version is unchanged",
                f"model diff {old_arg} {new_arg} --apply --table {table} --cleanup --step N",
                True,
                items=_items(old.model, (copy.entity,)),
                entities=(copy.entity,),
                index=copy.name,
                types=(copy.type_value,),
                cleanup=True,
            )
        )
    for change in ev.of_kind("copies-removed", "copies-changed"):
        copy = old.layout.copy(str(change.index))
        assert copy is not None
        steps.append(
            Step(
                "delete-copies",
                f"delete the copies {change.index} of {copy.entity} that NEW does not write",
                f"{change.detail}; NEW's client no longer reads them (deploy it first). Each "
                "copy is checked against its main item: one NEW derives is kept, any other is "
                "deleted on the condition that its _version is unchanged",
                f"model diff {old_arg} {new_arg} --apply --table {table} --cleanup --step N",
                True,
                items=_items(old.model, change.entities),
                entities=change.entities,
                index=change.index,
                types=(copy.type_value,),
                cleanup=True,
            )
        )
    for change in ev.of_kind("entity-removed"):
        steps.append(
            Step(
                "delete-items",
                f"delete the items of {change.subject}",
                f"{change.detail}; no pattern of NEW reads them",
                f"model diff {old_arg} {new_arg} --apply --table {table} --cleanup --step N",
                True,
                items=_items(old.model, change.entities),
                entities=change.entities,
                cleanup=True,
            )
        )
    return _numbered(steps)


def _index_of(design: Design, name: str | None) -> ir.Index:
    index = design.layout.index(str(name))
    assert index is not None, name
    return index


def _kept_key_attributes(ev: Evolution) -> tuple[str, ...]:
    """The composite key attributes of GSIs removed or rebuilt on other attributes: they stay on
    the items until the clean-up (the old index serves from them until it is deleted)."""
    out: set[str] = set()
    for c in ev.of_kind("gsi-rekeyed", "gsi-removed"):
        index = _index_of(ev.old, c.index)
        if not index.on_attributes:
            out.update(k.name for k in (*index.hash_keys, *index.range_keys))
    return tuple(sorted(out))


def _numbered(steps: list[Step]) -> list[Step]:
    for n, step in enumerate(steps, 1):
        step.number = n
        step.command = step.command.replace("--step N", f"--step {n}")
    return steps


# --------------------------------------------------------------------------- item passes


@dataclass
class PassReport:
    """What one item pass did, per entity."""

    scanned: dict[str, int] = field(default_factory=dict)  # items read, per entity
    updated: int = 0  # items rewritten in place
    unchanged: int = 0  # already in the new layout
    moved: int = 0  # items written at a new key (old key deleted)
    copied: int = 0  # items written into the new table
    deleted: int = 0  # items of removed entities deleted
    retried: int = 0  # items re-read because the application changed them meanwhile
    vanished: int = 0  # items deleted by the application while the pass ran
    dead_letters: int = 0
    after: dict[str, int] = field(default_factory=dict)  # items per entity after the pass
    stale: int = 0  # items found after the pass that are not in the new layout
    lost: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def add(self, name: str, n: int = 1) -> None:
        with _LOCK:
            setattr(self, name, getattr(self, name) + n)


_LOCK = threading.Lock()


class _Pass:
    """OLD's items of some entities, read back into rows and re-derived with NEW."""

    def __init__(
        self,
        ev: Evolution,
        client: Any,
        table: str,
        entities: Sequence[str],
        dead: DeadLetters,
        segments: int,
        keep: Sequence[str] = (),
    ) -> None:
        self.ev = ev
        self.keep = frozenset(keep)
        self.client = client
        self.table = table
        self.entities = tuple(entities)
        self.dead = dead
        self.segments = max(1, segments)
        self.writers: ThreadPoolExecutor | None = None
        self.old_module = transformer_loader.generate(ev.old.layout, ev.old.model)
        self.new_module = transformer_loader.generate(ev.new.layout, ev.new.model)
        self.old_keys = table_key_names(ev.old.layout)
        self.new_keys = table_key_names(ev.new.layout)
        self.old_type = ev.old.layout.type_attribute
        self.report = PassReport()
        self._dead_keys: set[str] = set()  # items dead-lettered: left as they are, not stale

    # -- reading

    def type_values(self, design: Design, entities: Sequence[str]) -> dict[str, str]:
        out = {}
        for name in entities:
            el = design.layout.entity(name)
            if el is not None:
                out[el.type_value] = name
        return out

    def count(self, design: Design, entities: Sequence[str]) -> dict[str, int]:
        """Items per entity (a Scan that reads only the type attribute)."""
        return self.scan(design, entities, lambda entity, item: None, keys_only=True)

    def scan(
        self,
        design: Design,
        entities: Sequence[str],
        handle: Callable[[str, dict[str, Any]], None],
        table: str | None = None,
        *,
        keys_only: bool = False,
        types: Mapping[str, str] | None = None,
    ) -> dict[str, int]:
        """Every item of `entities` (by `design`'s type values, or the `types` given: type
        value -> the name counted), in parallel segments; returns the count per entity."""
        types = dict(types) if types is not None else self.type_values(design, entities)
        counts: dict[str, int] = {}
        if not types:
            return counts
        values = {f":t{i}": {"S": t} for i, t in enumerate(sorted(types))}
        base = {
            "TableName": table or self.table,
            "TotalSegments": self.segments,
            "ConsistentRead": True,
            "FilterExpression": f"#t IN ({', '.join(values)})",
            "ExpressionAttributeNames": {"#t": design.layout.type_attribute},
            "ExpressionAttributeValues": values,
        }
        if keys_only:
            base["ProjectionExpression"] = "#t"

        def segment(n: int) -> dict[str, int]:
            local: dict[str, int] = {}
            kwargs = {**base, "Segment": n}
            while True:
                page = _retry(lambda: self.client.scan(**kwargs))
                found = [
                    (types[item[design.layout.type_attribute]["S"]], item)
                    for item in page.get("Items", [])
                ]
                for entity, _ in found:
                    local[entity] = local.get(entity, 0) + 1
                if keys_only:
                    pass
                elif len(found) > 1 and self.writers is not None:
                    # a page's items are written by the shared pool, the page waited on
                    # before the next is read (bounded memory); the first error is raised
                    for future in [self.writers.submit(handle, e, i) for e, i in found]:
                        future.result()
                else:
                    for entity, item in found:
                        handle(entity, item)
                if "LastEvaluatedKey" not in page:
                    return local
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        with (
            ThreadPoolExecutor(self.segments) as pool,
            ThreadPoolExecutor(
                WRITERS_PER_SEGMENT * self.segments, thread_name_prefix="evolve"
            ) as writers,
        ):
            self.writers = writers
            try:
                counts = self._merge(pool.map(segment, range(self.segments)))
            finally:
                self.writers = None
        return counts

    @staticmethod
    def _merge(locals_: Iterator[dict[str, int]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for local in locals_:
            for k, v in local.items():
                counts[k] = counts.get(k, 0) + v
        return counts

    # -- converting

    def derive(self, entity: str, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """NEW's item for OLD's `item`, keeping its `_version`; None (dead-lettered) when the
        item does not convert. An item OLD's transformers cannot read may be in NEW's layout
        already (written by NEW's deployed code, or by an earlier run of the step): it is
        read with NEW's."""
        try:
            try:
                row = self.old_module.FROM_ITEM[entity](item)
            except self.old_module.TransformError as first:
                try:
                    row = self.new_module.FROM_ITEM[entity](item)
                except self.new_module.TransformError:
                    raise first from None
            new = dict(self.new_module.TO_ITEM[entity](row))
        except (self.old_module.TransformError, self.new_module.TransformError) as exc:
            key = {k: item.get(k) for k in self.old_keys}
            self.dead.write(
                [
                    DeadLetters.record(
                        entity,
                        [_payload(v) for v in key.values()],
                        f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}",
                        {k: _payload(v) for k, v in item.items()},
                    )
                ]
            )
            self.report.add("dead_letters")
            with _LOCK:
                self._dead_keys.add(_key_text({k: item.get(k) for k in self.old_keys}))
            return None
        if VERSION_ATTRIBUTE in item:
            new[VERSION_ATTRIBUTE] = item[VERSION_ATTRIBUTE]
        return new

    def _version_condition(
        self, item: Mapping[str, Any]
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        names = {"#v": VERSION_ATTRIBUTE, "#pk": self.old_keys[0]}
        if VERSION_ATTRIBUTE in item:
            return "attribute_exists(#pk) AND #v = :v", names, {":v": item[VERSION_ATTRIBUTE]}
        return "attribute_exists(#pk) AND attribute_not_exists(#v)", names, {}

    def reread(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        self.report.add("retried")
        found = _retry(
            lambda: self.client.get_item(TableName=self.table, Key=dict(key), ConsistentRead=True)
        )
        return found.get("Item")

    # -- in place

    def update(self, entity: str, item: dict[str, Any]) -> None:
        """Rewrite one item in place: SET what differs, REMOVE what NEW no longer writes."""
        key = {k: item[k] for k in self.old_keys}
        for _ in range(ATTEMPTS):
            new = self.derive(entity, item)
            if new is None:
                return
            if tuple(new.get(k) for k in self.new_keys) != tuple(key.values()):
                self.move(entity, item, new)
                return
            sets = {
                k: v
                for k, v in new.items()
                if k not in key and normalise(item.get(k)) != normalise(v)
            }
            removes = [k for k in item if k not in new and k not in key and k not in self.keep]
            if not sets and not removes:
                self.report.add("unchanged")
                return
            condition, names, values = self._version_condition(item)
            parts = []
            for i, (name, value) in enumerate(sorted(sets.items())):
                names[f"#s{i}"] = name
                values[f":s{i}"] = value
                parts.append(f"#s{i} = :s{i}")
            expression = ("SET " + ", ".join(parts)) if parts else ""
            gone = []
            for i, name in enumerate(sorted(removes)):
                names[f"#r{i}"] = name
                gone.append(f"#r{i}")
            if gone:
                expression += (" " if expression else "") + "REMOVE " + ", ".join(gone)
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
            }
            if values:
                kwargs["ExpressionAttributeValues"] = values
            if _conditional(functools.partial(self.client.update_item, **kwargs)):
                self.report.add("updated")
                return
            fresh = self.reread(key)  # the application wrote it meanwhile: derive again
            if fresh is None:
                self.report.add("vanished")
                return
            item = fresh
        raise MigrationError(
            f"{entity} item {_key_text(key)} kept changing while it was rewritten ({ATTEMPTS} tries)",
            hint="rerun the step when the application writes less (it resumes: rewritten items are skipped)",
        )

    # -- re-key

    def move(self, entity: str, item: dict[str, Any], new: dict[str, Any] | None = None) -> None:
        """Write the item at its new key, then delete the old key if its version is still
        the one copied (else copy the newer item and try again)."""
        old_key = {k: item[k] for k in self.old_keys}
        for _ in range(ATTEMPTS):
            if new is None:
                new = self.derive(entity, item)
                if new is None:
                    return
            new_key = {k: new[k] for k in self.new_keys}
            if (
                tuple(new_key.values()) == tuple(old_key.values())
                and self.new_keys == self.old_keys
            ):
                self.update(entity, item)  # this item's key did not move
                return
            if not self._put_moved(entity, new):
                return
            condition, names, values = self._version_condition(item)
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "Key": old_key,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
            }
            if values:
                kwargs["ExpressionAttributeValues"] = values
            if _conditional(functools.partial(self.client.delete_item, **kwargs)):
                self.report.add("moved")
                return
            fresh = self.reread(old_key)
            if fresh is None:  # deleted meanwhile (by the application): nothing more to move
                self.report.add("moved")
                return
            item, new = fresh, None
        raise MigrationError(
            f"{entity} item {_key_text(old_key)} kept changing while it was moved ({ATTEMPTS} tries)",
            hint="rerun the step when the application writes less (it resumes)",
        )

    def _put_moved(self, entity: str, new: dict[str, Any]) -> bool:
        """PutItem at the new key unless it holds another row's item (dead-lettered) or the
        same row at a newer version (fine: the application moved it already)."""
        identity = {
            n: new[n]
            for n in (*self.ev.new.model.entity(entity).key, self.ev.new.layout.type_attribute)  # type: ignore[union-attr]
            if n in new
        }
        names = {"#pk": self.new_keys[0]}
        values: dict[str, Any] = {}
        same = []
        for i, (n, v) in enumerate(sorted(identity.items())):
            names[f"#i{i}"] = n
            values[f":i{i}"] = v
            same.append(f"#i{i} = :i{i}")
        condition = "attribute_not_exists(#pk)"
        if VERSION_ATTRIBUTE in new:
            names["#v"] = VERSION_ATTRIBUTE
            values[":v"] = new[VERSION_ATTRIBUTE]
            condition += f" OR (({' AND '.join(same)}) AND (attribute_not_exists(#v) OR #v <= :v))"
        kwargs = {
            "TableName": self.table,
            "Item": new,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if _conditional(lambda: self.client.put_item(**kwargs)):
            return True
        held = _retry(
            lambda: self.client.get_item(
                TableName=self.table, Key={k: new[k] for k in self.new_keys}, ConsistentRead=True
            )
        ).get("Item")
        if held is not None and all(
            normalise(held.get(k)) == normalise(v) for k, v in identity.items()
        ):
            return True  # the same row, newer: already moved
        self.dead.write(
            [
                DeadLetters.record(
                    entity,
                    [_payload(identity.get(k)) for k in self.ev.new.model.entity(entity).key],  # type: ignore[union-attr]
                    "KeyCollision: the new key already holds another row's item "
                    f"({ {k: _payload(v) for k, v in (held or {}).items() if k in identity} }); "
                    "the old item is kept",
                    {k: _payload(v) for k, v in new.items() if k in identity},
                )
            ]
        )
        self.report.add("dead_letters")
        return False

    # -- checks

    def check(
        self, entities: Sequence[str], before: Mapping[str, int], table: str | None = None
    ) -> None:
        """Count the items of `entities` in NEW's layout and re-derive each: every item is
        accounted for (after = before - dead letters - vanished), none at a stale key."""
        design = self.ev.new
        module = self.new_module
        keys = self.new_keys

        def judge(entity: str, item: dict[str, Any]) -> None:
            if _key_text({k: item.get(k) for k in self.old_keys}) in self._dead_keys:
                return  # dead-lettered: left as it was, on purpose
            try:
                again = module.TO_ITEM[entity](module.FROM_ITEM[entity](item))
            except module.TransformError:
                self.report.add("stale")
                return
            names = (*keys, *_index_keys(design.layout))
            if any(normalise(again.get(k)) != normalise(item.get(k)) for k in names):
                self.report.add("stale")

        self.report.after = self.scan(design, entities, judge, table)
        expected = sum(before.get(e, 0) for e in entities)
        found = sum(self.report.after.values())
        self.report.lost = max(
            0, expected - self.report.dead_letters - self.report.vanished - found
        )


def _index_keys(layout: ir.Layout) -> tuple[str, ...]:
    out: list[str] = []
    for index in layout.indexes:
        out.append(index.pk.name)
        if index.sk is not None:
            out.append(index.sk.name)
    return tuple(out)


def _payload(value: Any) -> Any:
    if isinstance(value, Mapping) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _key_text(key: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_payload(v)}" for k, v in key.items())


def _code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return response.get("Error", {}).get("Code")
    return None


def _retry(call: Callable[[], Any], attempts: int = 10) -> Any:
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if not retryable(exc) or attempt == attempts - 1:
                raise
            time.sleep(min(5.0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _conditional(call: Callable[[], Any]) -> bool:
    """True when the conditional write went through, False when its condition failed."""
    try:
        _retry(call)
    except Exception as exc:
        if _code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


# --------------------------------------------------------------------------- apply


@dataclass
class StepResult:
    step: int
    action: str
    status: str  # "done" | "skipped" | "manual"
    message: str
    seconds: float = 0.0
    report: PassReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "action": self.action,
            "status": self.status,
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "report": self.report.as_dict() if self.report else None,
        }


def _gsi_names(described: Mapping[str, Any] | None) -> set[str]:
    return {g["IndexName"] for g in (described or {}).get("GlobalSecondaryIndexes", []) or []}


def _wait_gone(client: Any, table: str, index: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while index in _gsi_names(table_ops.describe(client, table)):
        if time.monotonic() >= deadline:
            raise MigrationError(
                f"GSI {index} of {table} is still being deleted after {timeout:.0f} s",
                hint="rerun the step when DescribeTable no longer lists it",
            )
        time.sleep(table_ops.POLL_SECONDS)


def _stream_of(described: Mapping[str, Any]) -> dict[str, Any]:
    spec = described.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        return {"StreamEnabled": False}
    return {"StreamEnabled": True, "StreamViewType": spec.get("StreamViewType")}


def _ttl_of(client: Any, table: str) -> tuple[bool, str | None]:
    found = client.describe_time_to_live(TableName=table).get("TimeToLiveDescription", {})
    enabled = found.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    return enabled, found.get("AttributeName")


def _settled(client: Any, table: str, method: str, kwargs: Mapping[str, Any]) -> bool:
    """Whether the table already is as this settings call would leave it (a rerun of a
    step, or a stream/TTL that is off already): the call is skipped."""
    described = table_ops.describe(client, table) or {}
    if method in TAG_METHODS:
        try:
            listed = client.list_tags_of_resource(ResourceArn=kwargs["ResourceArn"]).get("Tags", [])
        except Exception as exc:
            if _code(exc) == UNSUPPORTED:
                return False
            raise
        have = {t["Key"]: t["Value"] for t in listed}
        if method == "tag_resource":
            return all(have.get(t["Key"]) == t["Value"] for t in kwargs["Tags"])
        return not set(kwargs["TagKeys"]) & set(have)
    if method == "update_time_to_live":
        want = kwargs["TimeToLiveSpecification"]
        enabled, name = _ttl_of(client, table)
        if want["Enabled"]:
            return enabled and name == want["AttributeName"]
        return not enabled or name != want["AttributeName"]
    gsi_only = "GlobalSecondaryIndexUpdates" in kwargs and "BillingMode" not in kwargs
    if method != "update_table" or gsi_only:
        return False
    if "BillingMode" in kwargs:
        mode = (described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        if mode != kwargs["BillingMode"]:
            return False
        if mode == "PAY_PER_REQUEST":
            return True
        have = described.get("ProvisionedThroughput", {})
        want = kwargs["ProvisionedThroughput"]
        return all(have.get(k) == v for k, v in want.items())
    if "StreamSpecification" in kwargs:
        want = kwargs["StreamSpecification"]
        if not want["StreamEnabled"]:  # the first half of a view-type change
            return not _stream_of(described)["StreamEnabled"]
        return _stream_of(described) == want
    if "TableClass" in kwargs:
        have = (described.get("TableClassSummary") or {}).get("TableClass", "STANDARD")
        return bool(have == kwargs["TableClass"])
    if "DeletionProtectionEnabled" in kwargs:
        return (
            bool(described.get("DeletionProtectionEnabled")) == kwargs["DeletionProtectionEnabled"]
        )
    return False


def _with_arn(client: Any, call: Call) -> Call:
    """The call with the table's ARN in place of `arn-of:<table>` (DescribeTable's TableArn)."""
    method, kwargs = call
    arn = kwargs.get("ResourceArn")
    if not isinstance(arn, str) or not arn.startswith(ARN_OF):
        return call
    described = table_ops.describe(client, arn[len(ARN_OF) :]) or {}
    return method, {**kwargs, "ResourceArn": described.get("TableArn", arn)}


def _run_calls(client: Any, step: Step, table: str, timeout: float) -> str:
    notes: list[str] = []
    step = replace(step, calls=[_with_arn(client, c) for c in step.calls])
    final = step.calls[-1] if step.calls else None
    if final is not None and _settled(client, table, *final):
        return "the table is already so: nothing to do"
    for method, kwargs in step.calls:
        if _settled(client, table, method, kwargs):
            notes.append(f"{_api_name(method)} not needed")
            continue
        updates = kwargs.get("GlobalSecondaryIndexUpdates", [])
        creates = [u["Create"]["IndexName"] for u in updates if "Create" in u]
        deletes = [u["Delete"]["IndexName"] for u in updates if "Delete" in u]
        present = _gsi_names(table_ops.describe(client, table))
        if creates and set(creates) <= present:
            notes.append(f"GSI {', '.join(creates)} exists already")
            table_ops.wait_active(client, table, timeout)
            continue
        if deletes and not set(deletes) & present:
            notes.append(f"GSI {', '.join(deletes)} is gone already")
            continue
        try:
            _retry(functools.partial(getattr(client, method), **kwargs), attempts=3)
        except Exception as exc:
            code = _code(exc)
            if "TableClass" in kwargs and "Nothing to update" in str(exc):
                # DynamoDB Local keeps no table class (DescribeTable shows none)
                notes.append(
                    f"UpdateTable TableClass has no effect at {table_ops.endpoint_of(client)} "
                    f"({exc}): run it by hand against the real table"
                )
                continue
            if code == UNSUPPORTED and method in TAG_METHODS:
                notes.append(
                    f"{_api_name(method)} is not supported at {table_ops.endpoint_of(client)} "
                    f"({exc}): run it by hand against the real table"
                )
                continue
            if code is None or code in ("ResourceNotFoundException",):
                raise
            raise MigrationError(
                f"step {step.number} ({step.action}): {_api_name(method)} was refused: {exc}",
                hint="see the runbook's call; rerun the step when it can run",
            ) from exc
        for name in deletes:
            _wait_gone(client, table, name, timeout)
        table_ops.wait_active(client, table, timeout)
        notes.append(f"{_api_name(method)} done")
    return "; ".join(notes)


def apply(
    ev: Evolution,
    steps: Sequence[Step],
    client: Any,
    table: str,
    *,
    only: Sequence[int] = (),
    cleanup: bool = False,
    segments: int = 4,
    dead_letter: Path | None = None,
    target: str | None = None,
    timeout: float = table_ops.WAIT_SECONDS,
    on_step: Callable[[Step], None] | None = None,
) -> list[StepResult]:
    """Run the runnable steps (all of them, or those numbered in `only`) in order.

    Manual steps are reported, not run; clean-up steps run only with `cleanup`. A step that
    loses an item, or leaves one in the old layout, raises MigrationError after its report.
    """
    if table_ops.describe(client, table) is None:
        raise MigrationError(
            f"table {table} does not exist at {table_ops.endpoint_of(client)}",
            hint="name the live table with --table",
        )
    unknown = sorted(set(only) - {s.number for s in steps})
    if unknown:
        raise MigrationError(
            f"no step {', '.join(map(str, unknown))} in the runbook (it has {len(steps)})",
            hint="run `model diff OLD NEW` to see the numbered steps",
        )
    dead = DeadLetters(dead_letter)
    results: list[StepResult] = []
    for step in steps:
        if only and step.number not in only:
            continue
        if not step.runnable:
            results.append(StepResult(step.number, step.action, "manual", f"by hand: {step.what}"))
            continue
        if step.cleanup and not cleanup:
            results.append(
                StepResult(step.number, step.action, "skipped", "clean-up: rerun with --cleanup")
            )
            continue
        if on_step is not None:
            on_step(step)
        started = time.monotonic()
        result = _apply_step(ev, step, client, table, dead, segments, target, timeout)
        result.seconds = time.monotonic() - started
        results.append(result)
        report = result.report
        if report is not None and (report.lost or report.stale):
            raise ItemsLost(
                f"step {step.number} ({step.action}): {report.lost} items lost, {report.stale} "
                "left in the old layout",
                hint="the application may still write the old layout (deploy NEW's code); "
                "rerun the step: it resumes",
            )
    return results


def _apply_step(
    ev: Evolution,
    step: Step,
    client: Any,
    table: str,
    dead: DeadLetters,
    segments: int,
    target: str | None,
    timeout: float,
) -> StepResult:
    if step.action == "create-table":
        name = step.calls[0][1]["TableName"]
        status = table_ops.ensure_table(client, ev.new.model, ev.new.layout, name, timeout=timeout)
        return StepResult(step.number, step.action, "done", status.message())
    if step.calls:
        return StepResult(
            step.number, step.action, "done", _run_calls(client, step, table, timeout)
        )
    work = _Pass(ev, client, table, step.entities, dead, segments, step.keep)
    if step.action == "write-copies":
        return _write_copies(work, step)
    if step.action == "delete-copies":
        return _delete_copies(work, step)
    if step.action in ("backfill", "rekey"):
        handler = work.update if step.action == "backfill" else work.move
        # counted first: a moved item can be met again by a later segment of the pass
        before = work.count(ev.old, step.entities)
        work.scan(ev.old, step.entities, lambda e, item: handler(e, dict(item)))
        work.report.scanned = before
        work.check(step.entities, before)
        r = work.report
        message = (
            f"{sum(before.values())} items read, {r.updated} updated, {r.moved} moved, "
            f"{r.unchanged} already done, {r.dead_letters} dead letters; after: "
            f"{sum(r.after.values())} items, {r.lost} lost, {r.stale} in the old layout"
        )
        return StepResult(step.number, step.action, "done", message, report=r)
    if step.action in ("copy-items", "catch-up"):
        return _copy_items(ev, step, work, client, target or step.target or table, segments)
    if step.action == "delete-items":
        keys: list[dict[str, Any]] = []
        sink = Sink(client, table, work.old_keys, lambda item: 1, writers=1)
        lock = threading.Lock()

        def remove(entity: str, item: dict[str, Any]) -> None:
            with lock:
                keys.append({k: item[k] for k in work.old_keys})

        work.scan(ev.old, step.entities, remove)
        for i in range(0, len(keys), 25):
            sink.delete_keys(keys[i : i + 25])
        work.report.deleted = len(keys)
        return StepResult(
            step.number, step.action, "done", f"{len(keys)} items deleted", report=work.report
        )
    raise AssertionError(f"no runner for step {step.action}")  # pragma: no cover


def iter_steps(steps: Sequence[Step]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step.as_dict()


# --------------------------------------------------------------------------- new table


def _copy_items(
    ev: Evolution, step: Step, work: _Pass, client: Any, dest: str, segments: int
) -> StepResult:
    """Every item of the step's entities (and NEW's relationship copies of it) written into
    `dest`, re-derived with NEW's transformers. Incremental: `dest`'s items of those types
    are read first, an item already there as derived is not written again, and one the old
    table no longer yields (deleted, or moved by a write since the last pass) is deleted; so
    the same step, run again once the application's writes are stopped, is the catch-up."""
    new_layout = ev.new.layout
    keys = work.new_keys
    types = work.type_values(ev.new, step.entities)
    copy_types = {c.type_value: c.entity for c in new_layout.copies if c.entity in step.entities}
    held: dict[str, str] = {}
    held_keys: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    lock = threading.Lock()

    def have(label: str, item: dict[str, Any]) -> None:
        key = {k: item[k] for k in keys}
        with lock:
            held[_key_text(key)] = _canon(item)
            held_keys[_key_text(key)] = key

    work.scan(ev.new, (), have, dest, types={**types, **copy_types})
    sink = Sink(client, dest, keys, work.new_module.item_size, writers=segments)
    batch: list[dict[str, Any]] = []

    def copy(entity: str, item: dict[str, Any]) -> None:
        new = work.derive(entity, item)
        if new is None:
            return
        out = [new, *(_derived_copies(work, entity, new) or [])]
        todo: list[dict[str, Any]] = []
        with lock:
            for it in out:
                key = _key_text({k: it[k] for k in keys})
                seen.add(key)
                if held.get(key) == _canon(it):
                    work.report.unchanged += 1
                else:
                    batch.append(it)
            if len(batch) >= 500:
                todo = batch[:]
                batch.clear()
        if todo:
            work.report.add("copied", sink.write(todo))

    try:
        before = work.scan(ev.old, step.entities, copy)
        if batch:
            work.report.add("copied", sink.write(batch))
        extra = [held_keys[k] for k in held if k not in seen]
        for i in range(0, len(extra), 25):
            sink.delete_keys(extra[i : i + 25])
        work.report.deleted = len(extra)
    finally:
        sink.close()
    work.report.scanned = before
    work.check(step.entities, before, dest)
    r = work.report
    return StepResult(
        step.number,
        step.action,
        "done",
        f"{sum(before.values())} items read, {r.copied} written into {dest}, {r.unchanged} "
        f"already there, {r.deleted} no longer in {work.table} deleted, {r.dead_letters} dead "
        f"letters; {dest} holds {sum(r.after.values())}, {r.lost} lost",
        report=r,
    )


# --------------------------------------------------------------------------- copies


def _copy_types(ev: Evolution, types: Sequence[str]) -> dict[str, ir.CopyItems]:
    """The copies (NEW's where it has them, else OLD's) of these type values."""
    out: dict[str, ir.CopyItems] = {}
    for layout in (ev.old.layout, ev.new.layout):
        for c in layout.copies:
            if c.type_value in types:
                out[c.type_value] = c
    return out


def _derived_copies(
    work: _Pass, entity: str, item: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    """NEW's copies of a main item already in NEW's layout, each carrying the main item's
    `_version` (as the runner writes them); None when it does not convert."""
    module = work.new_module
    make = getattr(module, "COPIES", {}).get(entity)
    if make is None:
        return []
    try:
        copies = [dict(c) for c in make(module.FROM_ITEM[entity](item), item)]
    except module.TransformError:
        return None
    if VERSION_ATTRIBUTE in item:
        for c in copies:
            c[VERSION_ATTRIBUTE] = item[VERSION_ATTRIBUTE]
    return copies


def _put_copy(work: _Pass, copy: dict[str, Any]) -> bool:
    """PutItem of a copy unless the table holds it at a newer `_version` (a concurrent write
    of NEW's code wrote it already)."""
    kwargs: dict[str, Any] = {"TableName": work.table, "Item": copy}
    if VERSION_ATTRIBUTE in copy:
        kwargs["ConditionExpression"] = "attribute_not_exists(#pk) OR #v <= :v"
        kwargs["ExpressionAttributeNames"] = {"#pk": work.new_keys[0], "#v": VERSION_ATTRIBUTE}
        kwargs["ExpressionAttributeValues"] = {":v": copy[VERSION_ATTRIBUTE]}
    return _conditional(lambda: work.client.put_item(**kwargs))


def _sweep_copies(
    work: _Pass, types: Mapping[str, ir.CopyItems], entities: Sequence[str]
) -> tuple[int, int]:
    """Each copy of `types` judged against its main item: a copy NEW derives from the main
    items of `entities` (one Scan) stays; any other is read against its main item once more
    (GetItem by the table key the copy holds: a write may have moved it since the Scan) and,
    if NEW still does not derive it (its main item gone or moved, or a relationship NEW no
    longer copies), deleted on the condition that its `_version` is unchanged.
    Returns (deleted, kept because the main item does not convert)."""
    counts = {"deleted": 0, "kept": 0}
    lock = threading.Lock()
    keys = work.new_keys
    derived_keys: set[str] = set()

    def want(entity: str, item: dict[str, Any]) -> None:
        found = [
            _key_text({k: c[k] for k in keys}) for c in _derived_copies(work, entity, item) or []
        ]
        with lock:
            derived_keys.update(found)

    work.scan(work.ev.new, entities, want)

    def judge(label: str, item: dict[str, Any]) -> None:
        if _key_text({k: item[k] for k in keys}) in derived_keys:
            return
        c = types[item[work.ev.new.layout.type_attribute]["S"]]
        main_key = {name: item[held] for name, held in c.ref if held in item}
        main = None
        if len(main_key) == len(c.ref):
            main = _retry(
                lambda: work.client.get_item(
                    TableName=work.table, Key=main_key, ConsistentRead=True
                )
            ).get("Item")
        expected: list[dict[str, Any]] = []
        if main is not None:
            derived = _derived_copies(work, c.entity, main)
            if derived is None:  # the main item does not convert: the copy is left alone
                with lock:
                    counts["kept"] += 1
                return
            expected = derived
        here = tuple(normalise(item.get(k)) for k in keys)
        if any(tuple(normalise(e.get(k)) for k in keys) == here for e in expected):
            return
        condition, names, values = work._version_condition(item)
        kwargs: dict[str, Any] = {
            "TableName": work.table,
            "Key": {k: item[k] for k in keys},
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if _conditional(functools.partial(work.client.delete_item, **kwargs)):
            with lock:
                counts["deleted"] += 1

    work.scan(work.ev.new, (), judge, types={t: "copy" for t in types})
    return counts["deleted"], counts["kept"]


def _copy_census(
    work: _Pass, entities: Sequence[str], types: Sequence[str]
) -> tuple[dict[str, int], int, int]:
    """After a copies pass: the main items per entity, the copies NEW derives from them that
    the table lacks or holds otherwise (lost), and the copies it holds that none derives
    (stale)."""
    expected: dict[str, str] = {}
    lock = threading.Lock()
    keys = work.new_keys

    def want(entity: str, item: dict[str, Any]) -> None:
        for c in _derived_copies(work, entity, item) or []:
            if c[work.ev.new.layout.type_attribute]["S"] in types:
                with lock:
                    expected[_key_text({k: c[k] for k in keys})] = _canon(c)

    mains = work.scan(work.ev.new, entities, want)
    held: dict[str, str] = {}

    def have(label: str, item: dict[str, Any]) -> None:
        with lock:
            held[_key_text({k: item[k] for k in keys})] = _canon(item)

    work.scan(work.ev.new, (), have, types={t: "copy" for t in types})
    lost = sum(1 for k, v in expected.items() if held.get(k) != v)
    stale = sum(1 for k in held if k not in expected)
    return mains, lost, stale


def _canon(item: Mapping[str, Any]) -> str:
    return repr(sorted((k, normalise(v)) for k, v in item.items()))


def _write_copies(work: _Pass, step: Step) -> StepResult:
    """Every main item of the step's entities gets NEW's copies; with copies new to the
    design, a sweep then removes those a concurrent write moved; the census checks it."""
    types = _copy_types(work.ev, step.types)

    def write(entity: str, item: dict[str, Any]) -> None:
        copies = _derived_copies(work, entity, item)
        if copies is None:  # NEW's transformers cannot read the main item back
            work.dead.write(
                [
                    DeadLetters.record(
                        entity,
                        [_payload(item.get(k)) for k in work.new_keys],
                        "TransformError: the item does not read back with NEW's transformers; "
                        "its copies are not written",
                        {k: _payload(v) for k, v in item.items()},
                    )
                ]
            )
            work.report.add("dead_letters")
            return
        for copy in copies:
            if copy[work.ev.new.layout.type_attribute]["S"] not in types:
                continue
            work.report.add("copied" if _put_copy(work, copy) else "unchanged")

    before = work.scan(work.ev.new, step.entities, write)
    work.report.scanned = before
    fresh = [t for t in types if work.ev.old.layout.copy(types[t].name) is None]
    if fresh:
        deleted, _ = _sweep_copies(work, {t: types[t] for t in fresh}, step.entities)
        work.report.deleted = deleted
    mains, lost, stale = _copy_census(work, step.entities, tuple(types))
    r = work.report
    r.after, r.lost, r.stale = mains, lost, stale
    return StepResult(
        step.number,
        step.action,
        "done",
        f"{sum(before.values())} items read, {r.copied} copies written, {r.unchanged} already "
        f"newer, {r.deleted} moved meanwhile deleted, {r.dead_letters} dead letters; "
        f"{lost} copies missing, {stale} without their main item",
        report=r,
    )


def _delete_copies(work: _Pass, step: Step) -> StepResult:
    types = _copy_types(work.ev, step.types)
    deleted, kept = _sweep_copies(work, types, step.entities)
    work.report.deleted = deleted
    _, lost, stale = _copy_census(work, step.entities, tuple(types))
    work.report.lost, work.report.stale = lost, stale
    return StepResult(
        step.number,
        step.action,
        "done",
        f"{deleted} copies deleted, {kept} kept (their main item does not convert); "
        f"{lost} copies NEW needs are missing, {stale} left that NEW does not write",
        report=work.report,
    )
