"""What the stable index assignment costs: compiling against a previous layout.

`compile_model(model, previous)` derives the layout twice (fresh, and keeping `previous`) and
keeps the stable one only when they differ, so its time is a ratio against a plain compile of
the same model, measured in the same run. For each `models/*.yaml`: the median of `--runs`
plain compiles, of compiles against the model's own layout (an unchanged model: the fresh
result stands), and of compiles of an evolved copy (its first pattern removed) against the
original's layout; then the same for bench/compile.py's generated model. Also printed: GSIs
fresh vs stable and how many previous keys the fresh compile would have moved. Timing is
never asserted in tests.

    python bench/stable.py [--runs 5] [--entities 100] [--patterns 250]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from compile import generate  # noqa: E402

from modeling.api import load_model  # noqa: E402
from modeling.compile import compile_model  # noqa: E402
from modeling.core import ir  # noqa: E402


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _keys(layout: ir.Layout) -> set[tuple[str, str, str, str | None]]:
    return {(e.entity, k.index, k.pk, k.sk) for e in layout.entities for k in e.keys}


def measure(name: str, model: ir.Model, runs: int) -> None:
    base, _ = compile_model(model)
    assert base is not None
    evolved = dataclasses.replace(model, patterns=model.patterns[1:])
    plain = _median(lambda: compile_model(model), runs)
    same = _median(lambda: compile_model(model, base), runs)
    evolve = _median(lambda: compile_model(evolved, base), runs)
    fresh, _ = compile_model(evolved)
    stable, _ = compile_model(evolved, base)
    assert fresh is not None and stable is not None
    kept = {(e, i) for e, i, _pk, _sk in _keys(stable)}
    moved = len({k for k in _keys(base) - _keys(fresh) if (k[0], k[1]) in kept})
    print(
        f"{name:>10}: plain {plain * 1000:8.1f} ms | against itself x{same / plain:4.2f} | "
        f"evolved x{evolve / plain:4.2f} | GSIs fresh {len(fresh.gsis)} stable "
        f"{len(stable.gsis)} | keys a fresh compile moves: {moved}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--entities", type=int, default=100)
    parser.add_argument("--patterns", type=int, default=250)
    args = parser.parse_args()
    for path in sorted((ROOT / "models").glob("*.yaml")):
        measure(path.stem, load_model(path), args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(generate(args.entities, args.patterns), "utf-8")
        measure("generated", load_model(path), max(1, args.runs // 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
