"""`model init` end to end, without the CLI: source → catalog → spec (+ workload) → YAML + report.

Kept apart from the command so tests and `bench/seed.py` call exactly what the CLI runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeling.core.diagnostics import Diagnostics, Span
from modeling.importers._spec import Seeded, catalog_to_spec, dump_yaml, schema_reference
from modeling.importers._yaml_text import dump_with_data
from modeling.importers.queries import DEFAULT_WINDOW_SECONDS, read_queries, workload_patterns
from modeling.pg.catalog import Catalog
from modeling.pg.db import database_label, read_db
from modeling.pg.ddl import read_ddl_file


@dataclass
class SeedOutcome:
    yaml: str | None
    report: dict[str, Any]
    diagnostics: Diagnostics
    seeded: Seeded | None = None
    catalog: Catalog | None = None
    summary: list[str] = field(default_factory=list)
    schema_file: Path | None = None  # where the JSON Schema the `$schema` header names must be
    # the plain data `yaml` reads back as (`plain_data`), for the self-check; None: read the text
    data: dict[str, Any] | None = None


def model_name_for(text: str) -> str:
    """A valid model name (`[a-z][a-z0-9_-]*`) from a file stem or database name."""
    name = re.sub(r"[^a-z0-9_-]+", "_", text.lower()).strip("_-")
    if not name or not name[0].isalpha():
        name = "m_" + name
    return name


def seed(
    *,
    ddl: Path | None = None,
    dsn: str | None = None,
    schemas: list[str] | None = None,
    tables: list[str] | None = None,
    output: Path | None = None,
    name: str | None = None,
    queries: Path | None = None,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    with_stats: bool = True,
    before_text: Callable[[Seeded, Diagnostics], object] | None = None,
) -> SeedOutcome:
    """Seed a model. Problems are diagnostics; an ERROR means nothing usable was produced.

    `before_text`, when given, is called with the finished document (and the diagnostics so
    far) before its YAML text is written: `init` starts its self-check there, beside the text."""
    diags = Diagnostics()
    source_ddl = None
    source_database = None
    if ddl is not None:
        res = read_ddl_file(ddl)
        catalog = res.catalog
        diags.extend(res.diagnostics.items)
        base = output.parent if output is not None else Path.cwd()
        source_ddl = Path(os.path.relpath(ddl.resolve(), base.resolve())).as_posix()
        default_name = ddl.stem
    elif dsn is not None:
        catalog, db_diags = read_db(dsn, with_stats=with_stats)
        diags.extend(db_diags.items)
        source_database = database_label(dsn)
        default_name = source_database.rsplit("/", 1)[-1] or "database"
    else:
        diags.error("SEED050", "nothing to seed from", hint="pass --from-ddl FILE or --from-db DSN")
        return SeedOutcome(None, {}, diags)
    if diags.has_errors():
        return SeedOutcome(None, {}, diags, catalog=catalog)
    if not catalog.data_tables():
        problems = [s for s in catalog.skipped if s.problem]
        if ddl is not None and catalog.statements and len(problems) == catalog.statements:
            diags.error(
                "SEED012",
                f"{ddl} does not look like SQL: none of its {catalog.statements} statement(s) could be read",
                Span(str(ddl), problems[0].line, 1),
                hint="pass a PostgreSQL DDL file (pg_dump --schema-only, structure.sql)",
            )
        else:
            diags.error(
                "SEED013",
                f"no tables found in {catalog.source}",
                Span(catalog.source),
                hint="the file or database has no CREATE TABLE; check --schema/--tables",
            )
        return SeedOutcome(None, _report(catalog, None, diags), diags, catalog=catalog)
    schema_ref, schema_file = schema_reference(output)
    seeded = catalog_to_spec(
        catalog,
        model_name=model_name_for(name or default_name),
        schemas=schemas,
        tables=tables,
        source_ddl=source_ddl,
        source_database=source_database,
        schema_ref=schema_ref,
    )
    diags.extend(seeded.diagnostics.items)
    if not seeded.entities:
        diags.error(
            "SEED014",
            "no table matches --schema/--tables",
            Span(catalog.source),
            hint="schemas present: " + ", ".join(sorted({t.schema for t in catalog.data_tables()})),
        )
        return SeedOutcome(None, _report(catalog, seeded, diags), diags, seeded, catalog)
    if queries is not None:
        stmts = read_queries(queries, diags)
        work = workload_patterns(stmts, seeded, window_seconds)
        added = seeded.add_patterns(work.patterns, diags)
        rates: dict[str, tuple[float, str]] = {}
        for wname, wr in work.writes.items():
            if wr.rate is not None:
                rates[wname] = (
                    wr.rate,
                    f"{'+'.join(wr.kinds)}: {wr.calls} calls in {window_seconds:g} s "
                    "(--calls-window; one row per call assumed), query line(s) "
                    + _some_lines(wr.statements),
                )
        seeded.add_write_rates(rates)
        seeded.report["queries"] = {
            "file": str(queries),
            "statements": work.statements,
            "shapes": work.shapes,
            "patterns": len(work.patterns),
            "new_patterns": added,
            "window_seconds": window_seconds,
            "unservable": [
                {
                    "line": u.line,
                    "sql": u.sql,
                    "reason": u.reason,
                    "statements": u.count,
                    "lines": u.lines,
                }
                for u in work.unservable
            ],
            "writes": {
                name: {
                    "statements": wr.kinds,
                    "lines": wr.statements[:QUERY_LINES_REPORTED],
                    "calls": wr.calls,
                    "writes_per_second": wr.rate,
                }
                for name, wr in sorted(work.writes.items())
            },
            "write_rate_assumption": "one row per call; rate = calls / window_seconds",
        }
        for name, wr in sorted(work.writes.items()):
            if wr.rate is None:
                beyond = wr.calls > 0  # counted, but over any table's quota (RATE_MAX)
                diags.info(
                    "SEED043",
                    f"{'/'.join(wr.kinds)} on {name} "
                    + (
                        f"counts {wr.calls} calls in {window_seconds:g} s, beyond any table's "
                        "quota, so no writes_per_second"
                        if beyond
                        else "has no call count, so no writes_per_second"
                    ),
                    Span(str(queries), wr.statements[0], 1),
                    hint="check the calls column and --calls-window"
                    if beyond
                    else "pass a pg_stat_statements CSV (query, calls) to get write rates",
                    subject=name,
                )
        for u in work.unservable:
            like = f" ({u.count - 1:,} more statement(s) like it)" if u.count > 1 else ""
            diags.info(
                "SEED042",
                f"query cannot be a key-served pattern: {u.reason}{like}",
                Span(str(queries), u.line, 1),
            )
    if before_text is not None:
        before_text(seeded, diags)
    text, data = dump_with_data(seeded.doc)  # text None: a shape the direct writer leaves
    if text is None:
        text = dump_yaml(seeded.doc)
    out = SeedOutcome(text, _report(catalog, seeded, diags), diags, seeded, catalog)
    out.summary = _summary(out.report)
    out.schema_file = schema_file
    out.data = data
    return out


QUERY_LINES_REPORTED = 20  # lines of one entity's write statements named in the report
UNSERVABLE_LISTED = 50  # unservable shapes listed in the summary (the report has them all)


def _some_lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:QUERY_LINES_REPORTED])
    return shown + (
        f" and {len(lines) - QUERY_LINES_REPORTED:,} more"
        if len(lines) > QUERY_LINES_REPORTED
        else ""
    )


def _report(catalog: Catalog, seeded: Seeded | None, diags: Diagnostics) -> dict[str, Any]:
    skipped: dict[str, dict[str, Any]] = {}
    for s in catalog.skipped:
        entry = skipped.setdefault(s.kind, {"count": 0, "first_lines": [], "reason": s.reason})
        entry["count"] += 1
        if len(entry["first_lines"]) < 5:
            entry["first_lines"].append(s.line)
    report: dict[str, Any] = (
        dict(seeded.report) if seeded is not None else {"source": catalog.source}
    )
    report["statements"] = catalog.statements
    if catalog.objects:
        report["catalog_objects"] = dict(catalog.objects)
    report["skipped"] = dict(sorted(skipped.items()))
    report["problems"] = [
        {"kind": s.kind, "line": s.line, "reason": s.reason} for s in catalog.skipped if s.problem
    ]
    report["diagnostics"] = [d.to_dict() for d in diags.sorted()]
    return report


def _summary(report: dict[str, Any]) -> list[str]:
    objects = report.get("catalog_objects")
    read = (
        "the catalog (" + ", ".join(f"{n} {kind}" for kind, n in objects.items()) + ")"
        if objects
        else f"{report.get('statements', 0)} DDL statement(s)"
    )
    q = report.get("queries")
    if q:
        read += f" and {q['statements']} quer{'y' if q['statements'] == 1 else 'ies'}"
    lines = [
        f"seeded {report.get('tables_seeded', 0)} table(s) from {read}; "
        f"{report.get('access_patterns', 0)} access pattern(s) suggested",
    ]
    for kind, entry in report.get("skipped", {}).items():
        first = ", ".join(str(n) for n in entry["first_lines"])
        lines.append(f"  skipped {entry['count']:>4} {kind} (first at line {first})")
    for p in report.get("problems", []):
        lines.append(f"  problem at line {p['line']}: {p['kind']}: {p['reason']}")
    nd = report.get("non_data_columns", [])
    if nd:
        lines.append(
            f"  {len(nd)} non-data column(s) not seeded: "
            + ", ".join(f"{c['table']}.{c['column']}" for c in nd)
        )
    outside = report.get("foreign_keys_outside", [])
    if outside:
        lines.append(
            f"  {len(outside)} foreign key(s) to tables not in the input: "
            + ", ".join(
                f"{f['table']}({', '.join(f['columns'])}) -> {f['references']}" for f in outside
            )
        )
    dropped = report.get("tables_not_seeded", [])
    if dropped:
        lines.append(
            f"  {len(dropped)} table(s) not seeded: "
            + ", ".join(f"{d['table']} ({d['reason']})" for d in dropped)
        )
    q = report.get("queries")
    if q:
        lines.append(
            f"  workload: {q['patterns']} pattern(s) and {len(q.get('writes', {}))} write "
            f"rate(s) from {q['statements']} statement(s), "
            f"{sum(u['statements'] for u in q['unservable'])} unservable"
            + (f" ({len(q['unservable'])} shapes)" if q.get("shapes", 0) < q["statements"] else "")
        )
        for name, wr in q.get("writes", {}).items():
            if wr["writes_per_second"] is not None:
                lines.append(
                    f"    {name}: {wr['writes_per_second']:.3g} writes/s "
                    f"({'+'.join(wr['statements'])}, {wr['calls']} calls / {q['window_seconds']:g} s; "
                    "one row per call assumed)"
                )
        for u in q["unservable"][:UNSERVABLE_LISTED]:
            like = f" ({u['statements'] - 1:,} more like it)" if u["statements"] > 1 else ""
            lines.append(f"    line {u['line']}: {u['reason']}{like}")
        if len(q["unservable"]) > UNSERVABLE_LISTED:
            lines.append(
                f"    ... and {len(q['unservable']) - UNSERVABLE_LISTED:,} more "
                "(all in the report and the diagnostics)"
            )
    return lines
