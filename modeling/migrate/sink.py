"""DynamoDB writes for the migration: batching, retries, a write-rate cap, conditional puts.

- `write(items)`: BatchWriteItem in requests of <= 25 items and <= 16 MB, never two requests on
  one key in a request (a later item for the same key replaces the earlier one, keeping the
  newest `_version`). UnprocessedItems are retried by our own loop with exponential backoff and
  full jitter (sleep uniform(0, min(cap, base * 2^attempt))); throttling and 5xx errors that
  reach us (botocore's standard/adaptive retry mode already retries them at the transport)
  are retried the same way. Gives up after `max_attempts` and raises.
- a token bucket caps the write rate in WCU/s (1 WCU per started KB of each item).
- `put_if_newer(item, identity)`: PutItem with `attribute_not_exists(PK) OR (_version < :v AND
  <identity attributes equal>)`: it never replaces a newer version, nor the item of another
  row (`ItemCollision`, which the runner dead-letters).
- `delete_keys(keys)`: BatchWriteItem DeleteRequests (tombstone purge), retried the same way.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from modeling.core.errors import OperationError
from modeling.core.limits import BATCH_WRITE_BYTES, BATCH_WRITE_ITEMS
from modeling.migrate.versioning import VERSION_ATTRIBUTE

Item = dict[str, Any]

BATCH_ITEMS = BATCH_WRITE_ITEMS
BATCH_BYTES = BATCH_WRITE_BYTES
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "InternalFailure",
        "LimitExceededException",
        "TransactionInProgressException",
    }
)


class SinkError(OperationError, RuntimeError):
    """Writes that still failed after every retry."""


class ItemCollision(OperationError, RuntimeError):
    """A conditional write found the item key held by another row (other identity values).

    The runner catches it per item and writes a dead-letter record; it never reaches the CLI.
    """

    def __init__(self, existing: Mapping[str, Any]) -> None:
        super().__init__("the item key holds another row's item")
        self.existing = dict(existing)


def client_config(concurrency: int, mode: str = "adaptive") -> Any:
    """botocore Config: the given retry mode for transport errors, enough pooled connections."""
    from botocore.config import Config

    retries: Any = {"mode": mode, "max_attempts": 10}
    return Config(
        retries=retries,
        max_pool_connections=max(10, concurrency * 4),
        connect_timeout=10,
        read_timeout=60,
    )


class TokenBucket:
    """A thread-safe token bucket: `take(n)` blocks until n tokens (WCU) are available.

    Capacity is one second of rate, so a burst never exceeds the cap by more than one second's
    worth. A request larger than the capacity waits for a full bucket and then goes through.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(rate)
        self._tokens = float(rate)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def take(self, n: float) -> float:
        """Take n tokens; returns the seconds waited."""
        n = min(float(n), self.capacity)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= n:
                    self._tokens -= n
                    return waited
                wait = (n - self._tokens) / self.rate
            self._sleep(wait)
            waited += wait


def wcu(size: int) -> int:
    """Write capacity units of one item of `size` bytes (1 per started KB)."""
    return max(1, -(-size // 1024))


@dataclass
class SinkStats:
    batches: int = 0
    items_written: int = 0
    retries: int = 0  # retried requests: unprocessed items and retryable errors
    unprocessed: int = 0  # items returned as UnprocessedItems (then retried)
    duplicates: int = 0  # items replaced by a newer one for the same key in one batch
    conditional_writes: int = 0
    conditional_skipped: int = 0  # the table already held the same or a newer version
    wcu: int = 0
    throttled_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


def _version(item: Mapping[str, Any]) -> int:
    v = item.get(VERSION_ATTRIBUTE)
    return int(v["N"]) if isinstance(v, Mapping) and "N" in v else -1


def _same_value(a: Any, b: Any) -> bool:
    """Two AttributeValues are equal (numbers compared as numbers: `1.50` is `1.5`)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping) and "N" in a and "N" in b:
        try:
            return bool(Decimal(a["N"]) == Decimal(b["N"]))
        except ArithmeticError:
            return False
    return bool(a == b)


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return response.get("Error", {}).get("Code")
    return None


def retryable(exc: BaseException) -> bool:
    """Throttling, a 5xx, or a dropped/timed-out connection (a put is idempotent)."""
    if _error_code(exc) in RETRYABLE_CODES:
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return isinstance(status, int) and status >= 500
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - botocore is a dependency
        return False
    return isinstance(exc, BotoConnectionError | HTTPClientError)


class Sink:
    """Writes items to one table; shared by all worker threads (boto3 clients are thread-safe)."""

    def __init__(
        self,
        client: Any,
        table: str,
        key_names: Sequence[str],
        item_size: Callable[[Mapping[str, Any]], int],
        max_wcu: float | None = None,
        max_attempts: int = 12,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        writers: int = 1,
    ) -> None:
        self.client = client
        self.table = table
        self.key_names = tuple(key_names)
        self.item_size = item_size
        self.bucket = TokenBucket(max_wcu, sleep=sleep) if max_wcu else None
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = SinkStats()
        # requests in flight per `write` call: DynamoDB answers a BatchWriteItem in a few ms,
        # so a worker that sent its requests one at a time would leave the table idle while
        # it reads and converts; a shared pool keeps up to `writers` requests in flight
        self.writers = max(1, writers)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        """Stop the write pool (idempotent; a later `write` starts a new one)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.writers, thread_name_prefix="sink")
            return self._pool

    # ------------------------------------------------------------------ helpers

    def key_of(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        """The key attributes' values: each is one top-level S/N/B value whose type the
        table's schema fixes, so the value alone identifies it (called once per item)."""
        names = self.key_names
        if len(names) == 2:
            return (*item[names[0]].values(), *item[names[1]].values())
        return (*item[names[0]].values(),)

    def backoff(self, attempt: int) -> None:
        """Full jitter: uniform(0, min(max_delay, base * 2^attempt))."""
        delay = self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        if delay > 0:
            self.sleep(delay)

    def _charge(self, sized: Iterable[int]) -> None:
        units = sum(wcu(s) for s in sized)
        self.stats.add(wcu=units)
        if self.bucket is not None:
            waited = self.bucket.take(units)
            if waited:
                self.stats.add(throttled_seconds=waited)

    def dedupe(self, items: Iterable[Item]) -> list[Item]:
        """One item per key, keeping the newest `_version` (the later one on a tie)."""
        by_key: dict[tuple[Any, ...], Item] = {}
        dropped = 0
        for item in items:
            k = self.key_of(item)
            old = by_key.get(k)
            if old is not None:
                dropped += 1
                if _version(old) > _version(item):
                    continue
            by_key[k] = item
        if dropped:
            self.stats.add(duplicates=dropped)
        return list(by_key.values())

    def batches(self, items: Sequence[Item]) -> Iterable[list[tuple[Item, int]]]:
        """Requests of <= 25 items and <= 16 MB (each item's size counted once)."""
        batch: list[tuple[Item, int]] = []
        total = 0
        for item in items:
            size = self.item_size(item)
            if batch and (len(batch) >= BATCH_ITEMS or total + size > BATCH_BYTES):
                yield batch
                batch, total = [], 0
            batch.append((item, size))
            total += size
        if batch:
            yield batch

    # ------------------------------------------------------------------ writes

    def write(self, items: Sequence[Item]) -> int:
        """BatchWriteItem every item (deduplicated by key); returns the number written.

        Returns only when every request has finished; raises the first failure.
        """
        if self.writers <= 1:
            batches = list(self.batches(self.dedupe(items)))
            for batch in batches:
                self._send(batch)
            written = sum(len(batch) for batch in batches)
            self.stats.add(items_written=written)
            return written
        finished = threading.Event()
        outcome: list[tuple[int, BaseException | None]] = []

        def done(written: int, error: BaseException | None) -> None:
            outcome.append((written, error))
            finished.set()

        self.write_async(items, done)
        finished.wait()
        written, error = outcome[0]
        if error is not None:
            raise error
        return written

    def write_async(
        self, items: Sequence[Item], done: Callable[[int, BaseException | None], None]
    ) -> None:
        """Queue every item's requests on the write pool and return at once.

        `done(written, error)` runs once, on a pool thread, after the last request finished:
        `error` is the first failure (the other requests still ran), else None. The runner
        checkpoints a chunk from there, so a chunk is never marked done before all its writes.
        """
        batches = list(self.batches(self.dedupe(items)))
        if not batches:
            done(0, None)
            return
        lock = threading.Lock()
        remaining = [len(batches)]
        errors: list[BaseException] = []

        def finished(future: Future[None]) -> None:
            error = future.exception()
            with lock:
                if error is not None:
                    errors.append(error)
                remaining[0] -= 1
                last = remaining[0] == 0
            if not last:
                return
            if errors:
                done(0, errors[0])
                return
            written = sum(len(batch) for batch in batches)
            self.stats.add(items_written=written)
            done(written, None)

        pool = self._executor()
        for batch in batches:
            pool.submit(self._send, batch).add_done_callback(finished)

    def _send(self, batch: list[tuple[Item, int]]) -> None:
        self._charge(size for _, size in batch)
        self._write_batch([item for item, _ in batch])

    def _write_batch(self, items: list[Item]) -> None:
        self._send_requests([{"PutRequest": {"Item": item}} for item in items])

    def delete_keys(self, keys: Sequence[Item]) -> None:
        """BatchWriteItem DeleteRequests for these keys (<= 25 distinct), retried like puts."""
        self._charge([1] * len(keys))
        self._send_requests([{"DeleteRequest": {"Key": key}} for key in keys])

    def _send_requests(self, requests: list[dict[str, Any]]) -> None:
        attempt = 0
        while requests:
            try:
                response = self.client.batch_write_item(RequestItems={self.table: requests})
            except Exception as exc:
                if not retryable(exc) or attempt >= self.max_attempts:
                    raise
                self.stats.add(retries=1)
                self.backoff(attempt)
                attempt += 1
                continue
            self.stats.add(batches=1)
            requests = list(response.get("UnprocessedItems", {}).get(self.table, []))
            if requests:
                if attempt >= self.max_attempts:
                    raise SinkError(
                        f"{len(requests)} items still unprocessed after {attempt} retries"
                    )
                self.stats.add(retries=1, unprocessed=len(requests))
                self.backoff(attempt)
                attempt += 1

    def put_if_newer(self, item: Item, identity: Mapping[str, Any] | None = None) -> bool:
        """PutItem unless the table holds this key with the same or a newer `_version`.

        `identity` ({attribute: AttributeValue}, e.g. the entity type and the row's key
        attributes): the existing item must also carry these values, else the key belongs to
        another row and `ItemCollision` is raised (its item left untouched).
        """
        if VERSION_ATTRIBUTE not in item:
            raise ValueError(f"a conditional write needs {VERSION_ATTRIBUTE}")
        self._charge([self.item_size(item)])
        names = {"#pk": self.key_names[0], "#v": VERSION_ATTRIBUTE}
        values: dict[str, Any] = {":v": item[VERSION_ATTRIBUTE]}
        same = ""
        for i, (name, value) in enumerate(sorted((identity or {}).items())):
            names[f"#i{i}"] = name
            values[f":i{i}"] = value
            same += f" AND #i{i} = :i{i}"
        condition = f"attribute_not_exists(#pk) OR (#v < :v{same})"
        attempt = 0
        while True:
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except Exception as exc:
                code = _error_code(exc)
                if code == "ConditionalCheckFailedException":
                    old = getattr(exc, "response", {}).get("Item")
                    if (
                        identity
                        and isinstance(old, Mapping)
                        and any(not _same_value(old.get(k), v) for k, v in identity.items())
                    ):
                        raise ItemCollision(old) from None
                    self.stats.add(conditional_skipped=1)
                    return False
                if not retryable(exc) or attempt >= self.max_attempts:
                    raise
                self.stats.add(retries=1)
                self.backoff(attempt)
                attempt += 1
                continue
            self.stats.add(conditional_writes=1, items_written=1)
            return True
