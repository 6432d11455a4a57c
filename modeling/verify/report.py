"""The verification report: per pattern ok / mismatch with a readable diff, as text or JSON.

Three kinds of mismatch are kept apart because they mean different things:
`dynamodb`  — the layout (keys, plan, codec) returns the wrong items: a design bug;
`oracle`    — PostgreSQL and the Python oracle disagree on the same rows: a bug in the verifier;
`collation` — PostgreSQL under the source's collation (`--collation`) orders or compares strings
              otherwise than byte order, which DynamoDB and the generated client use: the
              client would answer differently from the SQL it replaces.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from modeling.sample.adversarial import CASES
from modeling.sample.oracle import Comparison
from modeling.verify.coverage import Coverage

SHOW_TRIALS = 3  # failing trials shown per pattern
SHOW_REFS = 5  # rows shown per list in one trial


@dataclass
class Failure:
    """One trial where an answer differed from the oracle."""

    kind: str  # "dynamodb" | "oracle" | "collation"
    params: dict[str, Any]
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    count: str | None = None
    changed: list[str] = field(default_factory=list)  # rows returned with other values
    error: str | None = None
    expected: int = 0
    got: int = 0
    request: dict[str, Any] | None = None

    @staticmethod
    def of(kind: str, params: dict[str, Any], c: Comparison, expected: int, got: int) -> Failure:
        return Failure(
            kind,
            params,
            [str(r) for r in c.missing],
            [str(r) for r in c.extra],
            [str(r) for r in c.duplicates],
            list(c.order),
            c.count,
            expected=expected,
            got=got,
        )


@dataclass
class PatternResult:
    pattern: str
    index: str = ""
    operation: str = ""
    trials: int = 0
    distinct: int = 0  # distinct parameter sets among the trials (each asked once)
    non_empty: int = 0  # trials whose expected answer had rows
    max_rows: int = 0
    max_pages: int = 0
    max_full_pages: int = 0  # most pages one query needed with DynamoDB's own 1 MB pages
    requests: int = 0  # Query pages and GetItem calls sent for this pattern
    failures: list[Failure] = field(default_factory=list)
    oracle_trials: int = 0
    skipped: str | None = None  # why DynamoDB was not asked (no plan, unsupported shape)
    oracle_skipped: str | None = None
    coverage: Coverage = field(default_factory=Coverage)  # what the sample exercised

    @property
    def status(self) -> str:
        if any(f.kind == "dynamodb" for f in self.failures):
            return "mismatch"
        if any(f.kind == "oracle" for f in self.failures):
            return "oracle-mismatch"
        if any(f.kind == "collation" for f in self.failures):
            return "collation-mismatch"
        if self.skipped:
            return "skipped"
        return "ok"


@dataclass
class Report:
    model: str
    table: str
    endpoint: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    items: int = 0
    bytes: int = 0
    batches: int = 0
    retries: int = 0
    load_errors: list[str] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)
    postgres: str | None = None  # where the SQL oracle's schema came from
    collation: str | None = None  # the SQL oracle's collation for strings (None: no PostgreSQL)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (runner doc)
    requests: int = 0  # Query / GetItem requests the trials sent (pages included)
    notes: list[str] = field(default_factory=list)
    patterns: list[PatternResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.load_errors
            and not self.collisions
            and all(p.status in ("ok",) for p in self.patterns)
        )

    @property
    def coverage_warnings(self) -> list[str]:
        """Cases that apply to a pattern but the sample never produced, in pattern order."""
        return [w for p in self.patterns for w in p.coverage.warnings]

    def to_json(self) -> str:
        data = asdict(self)
        data["ok"] = self.ok
        data["coverage_warnings"] = self.coverage_warnings
        for p, result in zip(data["patterns"], self.patterns, strict=True):
            p["status"] = result.status
        return json.dumps(data, indent=2, sort_keys=True, default=_json_default, ensure_ascii=False)


def to_json_many(reports: list[Report]) -> str:
    """The JSON of several models' reports: `{"ok": all ok, "models": [report, ...]}`."""
    data = {"ok": all(r.ok for r in reports), "models": [json.loads(r.to_json()) for r in reports]}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def _covered(count: int, applies: bool) -> str:
    """A coverage count in the table: `-` where the case does not apply, yellow 0 where it
    applies but the sample never produced it."""
    if not applies:
        return "-"
    return str(count) if count else "[yellow]0[/]"


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in value)
    return str(value)


def _fmt_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items()) or "(no parameters)"


def _clip(items: list[str]) -> str:
    more = f" … and {len(items) - SHOW_REFS} more" if len(items) > SHOW_REFS else ""
    return ", ".join(items[:SHOW_REFS]) + more


def render(report: Report, console: Console) -> None:
    """The human report: a summary table, then the diff of each failing pattern."""
    console.print(
        f"[bold]model verify[/] {report.model}: table {report.table} at {report.endpoint}, "
        f"seed {report.seed}"
    )
    rows = ", ".join(f"{k} {v}" for k, v in report.rows.items())
    console.print(
        f"  rows: {rows}; {report.items} items, {report.bytes / 1_048_576:.1f} MB in "
        f"{report.batches} batches ({report.retries} retried)"
    )
    if report.postgres:
        collation = (
            'byte order (COLLATE "C", as DynamoDB)'
            if report.collation == "C"
            else f"collation {report.collation}"
        )
        console.print(f"  PostgreSQL oracle: {report.postgres}; strings in {collation}")
    for note in report.notes:
        console.print(f"  [yellow]note:[/] {note}")
    for err in report.load_errors[:10]:
        console.print(f"  [red]item error:[/] {err}")
    for col in report.collisions[:10]:
        console.print(f"  [red]key collision:[/] {col}")
    table = Table(show_edge=False, header_style="bold")
    for column in (
        "pattern",
        "index",
        "op",
        "trials",
        "with rows",
        "max rows",
        "pages",
        "1 MB pages",
        "NULLs",
        "ties",
        "multi-page",
        "empty",
        "result",
    ):
        table.add_column(column)
    colours = {
        "ok": "green",
        "mismatch": "red",
        "oracle-mismatch": "magenta",
        "collation-mismatch": "red",
        "skipped": "yellow",
    }
    for p in report.patterns:
        c = p.coverage
        table.add_row(
            p.pattern,
            p.index,
            p.operation,
            str(p.trials),
            str(p.non_empty),
            str(p.max_rows),
            str(p.max_pages),
            str(p.max_full_pages),
            _covered(c.with_null, bool(c.nullable)),
            _covered(c.with_ties, c.ordered),
            _covered(c.multi_page, c.paged),
            str(c.empty),
            f"[{colours[p.status]}]{p.status}[/]",
        )
    console.print(table)
    render_cases(report, console)
    for warning in report.coverage_warnings:
        console.print(f"[yellow]coverage warning:[/] {warning}", highlight=False)
    for p in report.patterns:
        if p.skipped:
            console.print(f"[yellow]{p.pattern}[/]: not run on DynamoDB: {p.skipped}")
        if p.oracle_skipped:
            console.print(f"[yellow]{p.pattern}[/]: not run on PostgreSQL: {p.oracle_skipped}")
        for f in p.failures[:SHOW_TRIALS]:
            what = {
                "dynamodb": "DynamoDB ≠ oracle",
                "oracle": "PostgreSQL ≠ Python oracle (verifier bug)",
                "collation": f"PostgreSQL under collation {report.collation} ≠ byte order "
                "(DynamoDB, the generated client)",
            }[f.kind]
            console.print(
                f"[red]{p.pattern}[/] {what} for {_fmt_params(f.params)}", highlight=False
            )
            console.print(f"    expected {f.expected} rows, got {f.got}", highlight=False)
            for label, refs in (
                ("missing", f.missing),
                ("extra", f.extra),
                ("duplicated", f.duplicates),
                ("order", f.order),
                ("changed", f.changed),
            ):
                if refs:
                    console.print(f"    {label}: {_clip(refs)}", highlight=False)
            if f.count:
                console.print(f"    {f.count}", highlight=False)
            if f.error:
                console.print(f"    error: {f.error}", highlight=False)
            if f.request:
                console.print(
                    f"    request: {json.dumps(f.request, default=_json_default, ensure_ascii=False)[:600]}",
                    highlight=False,
                )
        if len(p.failures) > SHOW_TRIALS:
            console.print(f"    … {len(p.failures) - SHOW_TRIALS} more failing trials (see --json)")
    if report.timings:
        console.print(
            "time: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
            + f"; {report.requests} DynamoDB requests",
            highlight=False,
        )
    verdict = "[green]ok[/]" if report.ok else "[red]MISMATCH[/]"
    console.print(f"result: {verdict}")


def render_cases(report: Report, console: Console) -> None:
    """The adversarial cases per pattern: answers that held each (`-`: cannot occur there)."""
    if not any(p.coverage.case_applies for p in report.patterns):
        return
    table = Table(show_edge=False, header_style="bold", title="adversarial cases in answers")
    table.add_column("pattern")
    for case in CASES:
        table.add_column(case)
    for p in report.patterns:
        c = p.coverage
        table.add_row(
            p.pattern,
            *(_covered(c.cases.get(case, 0), case in c.case_applies) for case in CASES),
        )
    console.print(table)
