"""`model migrate run` with injected throttling, as a process the chaos test can kill -9.

    python tests/migrate/chaos_runner.py MODEL --source DSN --endpoint URL --table T
        --checkpoint DIR [--chunk-size N] [--batch-size N] [--concurrency N] [--throttle P]
        [--seed S]

About a share P of BatchWriteItem, PutItem and DeleteItem calls fail with
ProvisionedThroughputExceededException (nothing written) or, for BatchWriteItem, come back
with half their items unprocessed; the runner's own retries must absorb all of it. Prints the
run report as JSON, with `injected`: the failures injected.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.migrate import transformers
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.sink import client_config


class Throttled:
    """A DynamoDB client failing a share of its writes the way a throttled table does."""

    def __init__(self, client: Any, share: float, seed: int) -> None:
        self._client = client
        self._share = share
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in ("batch_write_item", "put_item", "delete_item"):
            return attr

        def call(**kwargs: Any) -> Any:
            with self._lock:
                roll = self._rng.random()
                if roll < self._share:
                    self.injected += 1
            if roll < self._share / 2 or (roll < self._share and name != "batch_write_item"):
                error = {"Code": "ProvisionedThroughputExceededException", "Message": "chaos"}
                raise ClientError({"Error": error}, name)
            if roll < self._share:
                ((table, requests),) = kwargs["RequestItems"].items()
                half = len(requests) // 2
                if half:
                    self._client.batch_write_item(RequestItems={table: requests[:half]})
                return {"UnprocessedItems": {table: requests[half:]}}
            return attr(**kwargs)

        return call


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("model", type=Path)
    p.add_argument("--source", required=True)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--chunk-size", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--throttle", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    model = load_model(args.model)
    layout, _ = compile_model(model)
    assert layout is not None
    client = boto3.client("dynamodb", endpoint_url=args.endpoint, config=client_config(2))
    throttled = Throttled(client, args.throttle, args.seed)
    options = RunOptions(
        progress=False,
        chunk_size=args.chunk_size,
        batch_size=args.batch_size,
        concurrency=args.concurrency,
    )
    runner = Runner(
        model,
        layout,
        args.source,
        throttled,
        args.checkpoint,
        options,
        args.table,
        transformers.generate(layout, model),
    )
    runner.sink.base_delay = 0.002  # keep the run short; the backoff shape is unit-tested
    report = runner.run()
    sys.stdout.write(json.dumps({**report.as_dict(), "injected": throttled.injected}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
