"""Compile time of a generated 400-entity / 1,000-pattern model.

Prints the time to build and normalise the model (the baseline, measured in the same run:
YAML text -> `ir.Model` through the real loader) and the compile time, and their ratio.
Timing is never asserted in tests; run `python bench/compile.py [entities] [patterns]`.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from modeling.api import load_model
from modeling.compile import compile_model

TYPES = ["string", "integer", "date", "datetime", "uuid", "decimal"]


def generate(entities: int, patterns: int, seed: int = 7) -> str:
    """A model in the DSL: families of parent/child entities, lookups, ranges, collections."""
    rng = random.Random(seed)
    lines = ["model: bench", "entities:"]
    specs: list[tuple[str, list[str], dict[str, str], str | None]] = []
    for i in range(entities):
        name = f"Entity{i}"
        parent = specs[i - 1] if i % 4 and specs else None
        attrs: dict[str, str] = {}
        key: list[str] = []
        if parent is not None:
            for k in parent[1]:
                attrs[k] = parent[2][k]
                key.append(k)
        own = f"e{i}_id"
        attrs[own] = "string"
        key.append(own)
        for j in range(rng.randint(2, 6)):
            attrs[f"a{i}_{j}"] = rng.choice(TYPES)
        specs.append((name, key, attrs, parent[0] if parent else None))
        lines.append(f"  {name}:")
        lines.append(f"    key: [{', '.join(key)}]")
        if parent is not None:
            lines.append(f"    parent: {parent[0]}")
        lines.append("    attributes:")
        for a, t in attrs.items():
            lines.append(f"      {a}: {t}")
    lines.append("access_patterns:")
    for p in range(patterns):
        name, key, attrs, parent = specs[rng.randrange(len(specs))]
        kind = rng.random()
        lines.append(f"  p{p}:")
        plain = [a for a in attrs if a not in key]
        if kind < 0.15 and parent is not None:
            parent_key = next(s[1] for s in specs if s[0] == parent)
            lines.append(f"    entities: [{parent}, {name}]")
            lines.append("    where: {" + ", ".join(f"{k}: '='" for k in parent_key) + "}")
        elif kind < 0.45:
            lines.append(f"    entity: {name}")
            lines.append("    where: {" + ", ".join(f"{k}: '='" for k in key) + "}")
        else:
            eq = rng.choice(plain)
            rest = [a for a in plain if a != eq] or key
            lines.append(f"    entity: {name}")
            lines.append(f"    where: {{{eq}: '=', {rng.choice(rest)}: '>='}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    entities = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    patterns = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    text = generate(entities, patterns)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(text)
        t0 = time.perf_counter()
        model = load_model(path)
        t1 = time.perf_counter()
        layout, diagnostics = compile_model(model)
        t2 = time.perf_counter()
    load_s, compile_s = t1 - t0, t2 - t1
    print(
        f"model: {len(model.entities)} entities, {len(model.patterns)} patterns ({len(text):,} bytes of YAML)"
    )
    print(f"load + normalise (baseline): {load_s:.3f} s")
    print(
        f"compile (derive + checks):   {compile_s:.3f} s   ratio {compile_s / load_s:.2f}× baseline"
    )
    if layout is None:
        print(
            f"compile errors: {len(diagnostics.errors)} (first: {diagnostics.errors[0].format()})"
        )
    else:
        print(
            f"layout: {len(layout.gsis)} GSIs, {len(layout.plans)} plans, {len(diagnostics.warnings)} warnings"
        )


if __name__ == "__main__":
    main()
