"""Compile time of each example model and of a generated 400-entity / 1,000-pattern model.

Every figure is a ratio against a baseline measured in the same run: loading and normalising
the same model (YAML text -> `ir.Model` through the real loader). For each `models/*.yaml` it
prints the median of `--runs` loads and compiles, their ratio, and what the index assignment
spent (`Derivation.search`: placement look-ups, `solve()` calls, whether the budget cut the
search short); then the same for the generated model (one run: it takes seconds).
Timing is never asserted in tests.

`--seeded 5000 20000 50000` instead seeds a synthetic dump of that many tables with a foreign-key
chain (bench/seed.py's `chain_ddl`, what `model init --from-ddl` writes), then loads and compiles
that model once per size: CPU seconds of load and compile, compile wall seconds, compile / load
(the baseline of the same run), per entity, and the growth against the first size (issue 18: a
5,000-entity seeded model took ~170 s to compile). The model-file cap is raised for the run
(MODELING_MAX_INPUT_MB=256 unless set): the 50,000-table model is ~32 MB.
`--description-mb 1 10` validates a model whose description has that many MB (issue 18: 10 MB
took 43 s); a linear loader keeps the seconds per MB flat.

    python bench/compile.py [entities] [patterns] [--runs 5]
    python bench/compile.py --seeded 5000 20000 50000
    python bench/compile.py --description-mb 1 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from modeling.api import load_model
from modeling.compile import compile_model, derive
from modeling.core import ir

ROOT = Path(__file__).resolve().parents[1]

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


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _search(model: ir.Model) -> str:
    s = derive(model).search
    flag = "EXHAUSTED" if s.exhausted else ("searched" if s.searched else "first fit")
    return f"{s.lookups:>8,} {s.solves:>8,}  {flag}"


HEADER = (
    f"{'model':<10} {'ents':>5} {'pats':>5} {'load ms':>9} {'compile ms':>11} "
    f"{'compile/load':>12} {'GSIs':>5} {'look-ups':>8} {'solves':>8}  search"
)


def examples(runs: int) -> None:
    print(HEADER)
    for path in sorted((ROOT / "models").glob("*.yaml")):
        model = load_model(path)  # warm-up: imports, schema
        layout, _ = compile_model(model)
        t_load = median_seconds(lambda path=path: load_model(path), runs)
        t_compile = median_seconds(lambda model=model: compile_model(model), runs)
        gsis = len(layout.gsis) if layout is not None else "-"
        print(
            f"{path.stem:<10} {len(model.entities):>5} {len(model.patterns):>5} "
            f"{t_load * 1000:>9.1f} {t_compile * 1000:>11.1f} {t_compile / t_load:>11.2f}x "
            f"{gsis:>5} {_search(model)}"
        )


def generated(entities: int, patterns: int) -> None:
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
    gsis = len(layout.gsis) if layout is not None else "-"
    print(
        f"{'bench':<10} {len(model.entities):>5} {len(model.patterns):>5} "
        f"{load_s * 1000:>9.1f} {compile_s * 1000:>11.1f} {compile_s / load_s:>11.2f}x "
        f"{gsis:>5} {_search(model)}"
    )
    print(f"(bench: the generated model, {len(text):,} bytes of YAML, one run)")
    if layout is None:
        print(
            f"compile errors: {len(diagnostics.errors)} (first: {diagnostics.errors[0].format()})"
        )


def seeded(sizes: list[int]) -> None:
    import os
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from seed import chain_ddl

    from modeling.core.inputs import CAP_ENV
    from modeling.importers._spec import catalog_to_spec, dump_yaml
    from modeling.pg.ddl import read_ddl

    # a seeded 50,000-table model is ~32 MB, above the 16 MB default cap of a model file
    os.environ.setdefault(CAP_ENV, "256")
    print(
        f"{'entities':>8} {'patterns':>8} {'MB':>5} {'load cpu s':>10} {'compile cpu s':>13} "
        f"{'compile wall s':>14} {'compile/load':>12} {'ms/entity':>9} {'vs first':>8}"
    )
    first: float | None = None
    for n in sizes:
        doc = catalog_to_spec(read_ddl(chain_ddl(n), "chain.sql").catalog, model_name="bench").doc
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.yaml"
            path.write_text(dump_yaml(doc))
            size = path.stat().st_size / 1e6
            del doc
            c0 = time.process_time()
            model = load_model(path)
            c1, w1 = time.process_time(), time.perf_counter()
            layout, diagnostics = compile_model(model)
            c2, w2 = time.process_time(), time.perf_counter()
        per = (c2 - c0) / n * 1000
        first = first or per
        print(
            f"{len(model.entities):>8} {len(model.patterns):>8} {size:>5.1f} {c1 - c0:>10.1f} "
            f"{c2 - c1:>13.1f} {w2 - w1:>14.1f} {(c2 - c1) / (c1 - c0):>12.2f} {per:>9.2f} "
            f"{per / first:>7.2f}x"
            + ("" if layout is not None else f"  ({len(diagnostics.errors)} errors)"),
            flush=True,
        )


def description(sizes: list[float]) -> None:
    from modeling.api import check_file

    print(f"{'MB':>5} {'validate cpu s':>14} {'s per MB':>9}")
    for mb in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.yaml"
            path.write_text(
                f'model: shop\ndescription: "{"x" * int(mb * 1_000_000)}"\nentities:\n'
                "  Item:\n    key: [item_id]\n    attributes: {item_id: integer}\n"
            )
            c0 = time.process_time()
            result = check_file(path)
            seconds = time.process_time() - c0
        assert result.ok, result.diagnostics.sorted()
        print(f"{mb:>5g} {seconds:>14.2f} {seconds / mb:>9.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("entities", type=int, nargs="?", default=400)
    ap.add_argument("patterns", type=int, nargs="?", default=1000)
    ap.add_argument("--runs", type=int, default=5, help="runs per example model (median)")
    ap.add_argument("--seeded", type=int, nargs="+", metavar="TABLES")
    ap.add_argument("--description-mb", type=float, nargs="+", metavar="MB")
    args = ap.parse_args()
    if args.seeded or args.description_mb:
        if args.seeded:
            seeded(args.seeded)
        if args.description_mb:
            description(args.description_mb)
        return
    examples(args.runs)
    generated(args.entities, args.patterns)
    print(
        f"(example models: median of {args.runs} runs; compile = derive + checks; "
        "load = YAML -> ir.Model, the baseline)"
    )


if __name__ == "__main__":
    main()
