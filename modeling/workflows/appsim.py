"""A concurrent application for any model: random inserts, updates, key changes and deletes
through the generated dual-write repository (phase 1: writeToBothDatabases).

`model migrate demo` and the chaos test (tests/migrate/test_chaos.py, bench/chaos.py) run it
while the backfill and the catch-up pass run, to show that what the application does during a
migration is neither lost nor undone. Each worker thread has its own PostgreSQL connection and
`Repository`; all of them share the DynamoDB client (boto3 clients are thread-safe).

Operations, on rows drawn from a pool of identities read from PostgreSQL at the start:

- insert: a copy of an existing row with a new identity (uuid, integer, string or date(time)
  identity attributes get fresh values; attributes referencing a parent keep theirs);
- update: a non-key attribute set to another row's value (a string gets ` (edited)` when that
  would change nothing);
- key change: an attribute of the table key beyond the identity (`FULL_KEY_ATTRIBUTES` of the
  generated repository: `Payment.created_at`) set to another row's value, so the item moves;
  a model with no such attribute has no key changes (`AppStats.notes` says so);
- delete: by identity; the identity is recorded (`AppStats.deleted`) so the audit can tell a
  resurrected row from an orphan.

A versioned entity (`version:` or `--version-column`) gets its version attribute bumped with
every change (now for a datetime, +1 for an integer), as an application doing that would.
Operations PostgreSQL refuses (a foreign key, a unique constraint, a value for a GENERATED
ALWAYS identity column) are counted as refused; a
row the transformers cannot convert is never written (it would be a dead letter, not an item).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from modeling.core import ir
from modeling.extraction import extraction_queries

OPS = ("insert", "update", "key_change", "delete")
WEIGHTS = (0.25, 0.35, 0.2, 0.2)
POOL = 2_000  # identities per entity read at the start
_INT_LOW, _INT_HIGH = 2**30, 2**31 - 1  # fresh integer identities (fit an `integer` column)


@dataclass
class AppStats:
    ops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPS, 0))
    refused: int = 0  # PostgreSQL refused the operation (foreign key, unique constraint, ...)
    vanished: int = 0  # the row was deleted by another worker first
    errors: list[str] = field(default_factory=list)  # anything else (the run fails)
    deleted: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    def count(self, op: str) -> None:
        with self._lock:
            self.ops[op] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserts": self.ops["insert"],
            "updates": self.ops["update"],
            "key_changes": self.ops["key_change"],
            "deletes": self.ops["delete"],
            "refused": self.refused,
            "vanished": self.vanished,
            "errors": list(self.errors),
            "notes": list(self.notes),
        }


def _fresh(kind: str, value: Any, rng: random.Random) -> Any:
    """A new value for an identity attribute of this kind, or None when we cannot make one."""
    if kind == "uuid":
        return uuid.UUID(int=rng.getrandbits(128), version=4)
    if kind == "integer":
        return rng.randrange(_INT_LOW, _INT_HIGH)
    if kind == "string":
        return f"{value}~{rng.getrandbits(40):010x}" if isinstance(value, str) else None
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=rng.randrange(1, 10**12))
    if kind == "date" and isinstance(value, dt.date):
        return value + dt.timedelta(days=rng.randrange(1, 10**5))
    return None


def _nudge(kind: str, value: Any) -> Any:
    """A value next to `value` (a key change whose donor row had the same value)."""
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(seconds=1)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and kind == "string":
        return value + " (moved)"
    return None


def _newer(value: Any) -> Any:
    """A version value newer than `value`."""
    if isinstance(value, dt.datetime):
        now = dt.datetime.now(dt.UTC)
        now = now if value.tzinfo is not None else now.replace(tzinfo=None)
        return max(now, value + dt.timedelta(microseconds=1))
    if isinstance(value, int) and not isinstance(value, bool):
        return value + 1
    return value


class App:
    """Random application operations through the generated repository (see the docstring)."""

    def __init__(
        self,
        model: ir.Model,
        repository: ModuleType,
        dsn: str,
        client: Any,
        table: str,
        seed: int = 0,
        version_column: str | None = None,
        weights: tuple[float, ...] = WEIGHTS,
    ) -> None:
        self.model = model
        self.repo = repository
        self.dsn = dsn
        self.client = client
        self.table = table
        self.seed = seed
        self.version_column = version_column
        self.weights = weights
        self.stats = AppStats()
        self.pool: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.movable: dict[str, tuple[str, ...]] = dict(repository.FULL_KEY_ATTRIBUTES)
        if not self.movable:
            self.stats.notes.append(
                "no entity's table key has an attribute beyond its identity: no key changes"
            )

    # ------------------------------------------------------------------ setup

    def load_pool(self, size: int = POOL) -> None:
        """Identities of up to `size` rows per entity, drawn at random from PostgreSQL."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row) as conn:
            for e in self.model.entities:
                # extraction's random sample (rows keyed by attribute name); NULL keys left out
                sql = extraction_queries(self.model, e.name).sample_sql()
                rows = conn.execute(sql, {"limit": size}).fetchall()
                self.pool[e.name] = [
                    {k: r[k] for k in e.key}
                    for r in rows
                    if all(r.get(k) is not None for k in e.key)
                ]

    # ------------------------------------------------------------------ run

    def run(self, stop: threading.Event, workers: int = 2, pause: float = 0.0) -> None:
        """Run `workers` threads of random operations until `stop` is set (blocks)."""
        if not self.pool:
            self.load_pool()
        threads = [
            threading.Thread(target=self._worker, args=(stop, i, pause), daemon=True)
            for i in range(max(1, workers))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def start(self, workers: int = 2, pause: float = 0.0) -> Callable[[], AppStats]:
        """Run in the background; returns a function that stops the workers and returns stats."""
        if not self.pool:
            self.load_pool()
        stop = threading.Event()
        runner = threading.Thread(target=self.run, args=(stop, workers, pause), daemon=True)
        runner.start()

        def finish() -> AppStats:
            stop.set()
            runner.join()
            return self.stats

        return finish

    def _worker(self, stop: threading.Event, index: int, pause: float) -> None:
        import psycopg

        rng = random.Random(self.seed * 1_000 + index)
        flags = self.repo.Flags(write_to_both=True)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            repo = self.repo.Repository(
                conn, self.client, flags, table_name=self.table, version_column=self.version_column
            )
            while not stop.is_set():
                self.step(repo, rng)
                if pause:
                    stop.wait(pause)

    def step(self, repo: Any, rng: random.Random) -> str | None:
        """One random operation; the kind done, or None when nothing was done."""
        import psycopg

        op = rng.choices(OPS, self.weights)[0]
        try:
            done = getattr(self, f"_{op}")(repo, rng)
        except psycopg.Error as exc:
            refused = (
                psycopg.errors.IntegrityError,
                psycopg.errors.DataError,
                psycopg.errors.GeneratedAlways,  # an identity column the app may not set
            )
            if isinstance(exc, refused):
                with self._lock:
                    self.stats.refused += 1
                return None
            self._error(op, exc)
            return None
        except Exception as exc:
            self._error(op, exc)
            return None
        if done:
            self.stats.count(op)
            return op
        return None

    def _error(self, op: str, exc: BaseException) -> None:
        with self._lock:
            if len(self.stats.errors) < 20:
                self.stats.errors.append(f"{op}: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ helpers

    def _pick(
        self, rng: random.Random, entities: list[str] | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            names = [
                n for n in (list(self.pool) if entities is None else entities) if self.pool.get(n)
            ]
            if not names:
                return None
            name = rng.choice(names)
            return name, dict(rng.choice(self.pool[name]))

    def _row(self, repo: Any, entity: str, ident: Mapping[str, Any]) -> dict[str, Any] | None:
        row = repo.get(entity, ident)
        if row is None:
            with self._lock:
                self.stats.vanished += 1
        return dict(row) if row is not None else None

    def _convertible(self, entity: str, row: Mapping[str, Any]) -> bool:
        try:
            self.repo.T.to_item(entity, row)
        except self.repo.T.TransformError:
            return False
        return True

    def _bump(self, entity: str, row: Mapping[str, Any], changes: dict[str, Any]) -> None:
        column = self.repo.version_attribute(entity, self.version_column)
        if column and row.get(column) is not None and column not in changes:
            changes[column] = _newer(row[column])

    def _donor(self, repo: Any, entity: str, rng: random.Random) -> dict[str, Any] | None:
        picked = self._pick(rng, [entity])
        return None if picked is None else repo.get(entity, picked[1])

    # ------------------------------------------------------------------ operations

    def _insert(self, repo: Any, rng: random.Random) -> bool:
        picked = self._pick(rng)
        if picked is None:
            return False
        entity, ident = picked
        row = self._row(repo, entity, ident)
        e = self.model.entity(entity)
        if row is None or e is None:
            return False
        for k in e.key:
            attr = e.attribute(k)
            if attr is None or attr.references:
                continue
            value = _fresh(attr.type.kind, row.get(k), rng)
            if value is None:
                return False
            row[k] = value
        if all(row.get(k) == ident.get(k) for k in e.key):
            return False  # every identity attribute references a parent: no new identity
        self._bump(entity, row, {})
        if not self._convertible(entity, row):
            return False
        stored = repo.insert(entity, row)
        with self._lock:
            self.pool[entity].append({k: stored[k] for k in e.key})
        return True

    def _change(
        self,
        repo: Any,
        rng: random.Random,
        attributes: Callable[[ir.Entity], list[str]],
        moving: bool,
    ) -> bool:
        candidates = [e.name for e in self.model.entities if attributes(e)]
        if not candidates:  # e.g. no table key holds more than the identity: nothing moves
            return False
        picked = self._pick(rng, candidates)
        if picked is None:
            return False
        entity, ident = picked
        e = self.model.entity(entity)
        assert e is not None
        name = rng.choice(attributes(e))
        row = self._row(repo, entity, ident)
        donor = self._donor(repo, entity, rng)
        if row is None or donor is None or not self._convertible(entity, row):
            return False
        kind = e.attribute(name).type.kind  # type: ignore[union-attr]
        value, current = donor.get(name), row.get(name)
        if value == current or value is None:
            if moving:
                value = _nudge(kind, current)
            else:
                value = current + " (edited)" if isinstance(current, str) else None
        if value is None or value == current:
            return False
        changes = {name: value}
        self._bump(entity, row, changes)
        if not self._convertible(entity, {**row, **changes}):
            return False
        if repo.update(entity, ident, changes) is None:
            with self._lock:
                self.stats.vanished += 1
            return False
        return True

    def _plain(self, e: ir.Entity) -> list[str]:
        """Attributes an update may change: not the identity, not the table key, not the
        version, scalar."""
        slots = set(self.repo.ENTITIES[e.name]["slots"])
        version = self.repo.version_attribute(e.name, self.version_column)
        return [
            a.name
            for a in e.attributes
            if a.name not in e.key
            and a.name not in slots
            and a.name != version
            and a.type.item is None
            and a.type.kind not in ("map", "set", "list", "binary")
        ]

    def _movable(self, e: ir.Entity) -> list[str]:
        return list(self.movable.get(e.name, ()))

    def _update(self, repo: Any, rng: random.Random) -> bool:
        return self._change(repo, rng, self._plain, moving=False)

    def _key_change(self, repo: Any, rng: random.Random) -> bool:
        return self._change(repo, rng, self._movable, moving=True)

    def _delete(self, repo: Any, rng: random.Random) -> bool:
        picked = self._pick(rng)
        if picked is None:
            return False
        entity, ident = picked
        e = self.model.entity(entity)
        assert e is not None
        row = self._row(repo, entity, ident)
        if row is None or not self._convertible(entity, row):
            return False  # a dead-lettered row stays as the run left it (validate excuses it)
        if not repo.delete(entity, ident):
            with self._lock:
                self.stats.vanished += 1
            return False
        with self._lock:
            self.stats.deleted.setdefault(entity, set()).add(tuple(ident[k] for k in e.key))
            pool = self.pool[entity]
            if ident in pool:
                pool.remove(ident)
        return True
