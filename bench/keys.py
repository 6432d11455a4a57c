"""Cost of the key codec relative to the naive text a hand-written transformer would use.

Usage: .venv/bin/python bench/keys.py [N]

For each kind, times `keys.encode` and `keys.decode` over N values and divides by a baseline
measured in the same run on the same values (`str(value)`, the no-order-guarantee spelling).
Ratios, not absolute times, so the numbers compare across machines. Also times rendering a
two-slot key and parsing it back, against an f-string.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modeling.runtime import keys


def _values(kind: str, n: int, rng: random.Random) -> list[Any]:
    makers: dict[str, Callable[[], Any]] = {
        "string": lambda: "".join(rng.choice("abc #$xyzé😀") for _ in range(rng.randint(0, 20))),
        "integer": lambda: rng.randint(-(2**63), 2**63 - 1),
        "decimal": lambda: Decimal(rng.randint(-(10**12), 10**12)).scaleb(rng.randint(-6, 6)),
        "float": lambda: rng.uniform(-1e9, 1e9),
        "boolean": lambda: rng.random() < 0.5,
        "date": lambda: dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 10_000)),
        "datetime": lambda: (
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            + dt.timedelta(microseconds=rng.randint(0, 10**15))
        ),
        "uuid": lambda: uuid.UUID(int=rng.getrandbits(128)),
        "binary": lambda: rng.randbytes(rng.randint(0, 16)),
    }
    return [makers[kind]() for _ in range(n)]


def _best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(n: int = 20_000) -> None:
    rng = random.Random(42)
    print(
        f"{'kind':<10} {'encode/str()':>13} {'decode/str()':>13} {'encode ns':>10} {'decode ns':>10}"
    )
    for kind in keys.KINDS:
        values = _values(kind, n, rng)
        encoded = [keys.encode(kind, v) for v in values]

        def baseline_run(values: list[Any] = values) -> object:
            return [str(v) for v in values]

        def encode_run(kind: str = kind, values: list[Any] = values) -> object:
            return [keys.encode(kind, v) for v in values]

        def decode_run(kind: str = kind, texts: list[str] = encoded) -> object:
            return [keys.decode(kind, t) for t in texts]

        baseline = _best_of(5, baseline_run)
        enc = _best_of(5, encode_run)
        dec = _best_of(5, decode_run)
        print(
            f"{kind:<10} {enc / baseline:>12.1f}x {dec / baseline:>12.1f}x"
            f" {enc / n * 1e9:>10.0f} {dec / n * 1e9:>10.0f}"
        )
    print(f"(N={n}, best of 5; str() of a str is a no-op, so the string ratio is only a floor)")

    template = keys.parse_template("ORDER#{created_at}#{order_id}")
    kinds = {"created_at": "datetime", "order_id": "string"}
    rows = list(zip(_values("datetime", n, rng), _values("string", n, rng), strict=True))
    fstring = _best_of(5, lambda: [f"ORDER#{a.isoformat()}#{b}" for a, b in rows])
    render = _best_of(
        5,
        lambda: [
            template.render(
                {"created_at": keys.encode("datetime", a), "order_id": keys.encode("string", b)}
            )
            for a, b in rows
        ],
    )
    rendered = [
        template.render(
            {"created_at": keys.encode("datetime", a), "order_id": keys.encode("string", b)}
        )
        for a, b in rows
    ]
    parse = _best_of(5, lambda: [template.parse(k, kinds) for k in rendered])
    print(f"{'render':<10} {render / fstring:>12.1f}x  vs f-string")
    print(f"{'parse':<10} {parse / fstring:>12.1f}x  vs f-string")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
