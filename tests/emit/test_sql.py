"""Extraction SQL: quoting of hostile names, bind parameters only, and real PostgreSQL runs.

The e2e test creates tables whose schema, table and column names hold quotes, semicolons,
spaces, `%`, unicode and reserved words, fills them, and runs every generated query: keyset
pages (whole table and in chunks) must return every row exactly once in key order, and
batch-by-keys exactly the rows asked for.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from modeling.core import ir
from modeling.emit import sql
from modeling.extraction import (
    XMIN,
    XMIN_ALIAS,
    ExtractionError,
    ExtractionQueries,
    SetClause,
    extraction_queries,
    marker_sql,
)

from . import layouts

SCHEMA = 'sales"; DROP SCHEMA public; --'
ORDER_TABLE = "order"  # a reserved word
LINE_TABLE = "Line Items ✓ 'q' %s"
COLUMNS = {
    "order_id": "select",
    "note": 'semi;colon "quoted"',
    "pct": "100%",
    "label": "Ünï côdé\ttab",
    "amount": "from",
    "tenant": "Tenant ID",
    "code": "co'de",
    "n": "n",
    "at": "at%(evil)s",
}


def hostile_model() -> ir.Model:
    a = layouts.attr
    order = ir.Entity(
        name="Order",
        table=ORDER_TABLE,
        schema=SCHEMA,
        key=("order_id",),
        attributes=(
            a("order_id", "integer", column=COLUMNS["order_id"]),
            a("note", "string", column=COLUMNS["note"]),
            a("pct", "decimal", column=COLUMNS["pct"]),
            a("label", "string", column=COLUMNS["label"]),
        ),
    )
    line = ir.Entity(
        name="Line",
        table=LINE_TABLE,
        schema=None,
        key=("tenant", "code", "n"),
        attributes=(
            a("tenant", "uuid", column=COLUMNS["tenant"]),
            a("code", "string", column=COLUMNS["code"]),
            a("n", "integer"),
            a("amount", "decimal", column=COLUMNS["amount"]),
            a("at", "datetime", column=COLUMNS["at"]),
        ),
    )
    return ir.Model(
        name="hostile",
        table=ir.TableSettings(name="Hostile"),
        entities=(order, line),
        patterns=(),
        file="models/hostile.yaml",
        sha256="1" * 64,
    )


def _all_queries(q: sql.ExtractionQueries) -> dict[str, str]:
    names = (
        "first_page",
        "next_page",
        "first_page_until",
        "next_page_until",
        "by_ids",
        "count",
        "min_key",
        "max_key",
        "chunk_boundaries",
    )
    return {n: getattr(q, n) for n in names}


def _unescape(text: str) -> str:
    return text.replace("%%", "%")


# --------------------------------------------------------------------------- unit


@pytest.mark.parametrize("entity", ["Order", "Line"])
def test_hostile_names_are_quoted_identifiers_and_values_are_only_placeholders(entity: str) -> None:
    model = hostile_model()
    ent = model.entity(entity)
    assert ent is not None
    q = extraction_queries(model, entity)
    expected_columns = {a.column_name for a in ent.attributes}
    for name, text in _all_queries(q).items():
        # psycopg: every % is a placeholder or an escaped %%
        assert re.sub(r"%%|%\([A-Za-z0-9_]+\)s", "", text).count("%") == 0, name
        tree = sqlglot.parse_one(_unescape(text), read="postgres")
        idents = [
            i for i in tree.find_all(exp.Identifier) if not isinstance(i.parent, exp.Placeholder)
        ]
        assert idents and all(i.quoted for i in idents), name
        tables = [(t.db, t.name) for t in tree.find_all(exp.Table)]
        assert tables and all(t == (ent.schema or "", ent.table) for t in tables), name
        cols = {c.name for c in tree.find_all(exp.Column)} - {"_row_number"}
        assert cols <= expected_columns, name
        # no value is inlined: the only literals are LIMIT 1 and MOD(...) = 0
        literals = {lit.this for lit in tree.find_all(exp.Literal)}
        assert literals <= {"0", "1"}, (name, literals)
        assert not any(isinstance(n, exp.Literal) and n.is_string for n in tree.walk()), name
    assert q.attributes == ent.attribute_names
    assert q.columns == tuple(a.column_name for a in ent.attributes)


def test_parameter_names_come_from_attribute_names() -> None:
    q = extraction_queries(hostile_model(), "Line")

    def params(text: str) -> set[str]:
        return set(re.findall(r"(?<!%)%\(([A-Za-z0-9_]+)\)s", text))

    assert params(q.first_page) == {"limit"}
    assert params(q.next_page) == {"after_tenant", "after_code", "after_n", "limit"}
    assert params(q.next_page_until) == {
        "after_tenant",
        "after_code",
        "after_n",
        "until_tenant",
        "until_code",
        "until_n",
        "limit",
    }
    assert params(q.by_ids) == {"ids_tenant", "ids_code", "ids_n"}
    assert params(q.count) == set() and params(q.min_key) == set()
    assert params(q.chunk_boundaries) == {"chunk_rows"}
    single = extraction_queries(hostile_model(), "Order")
    assert params(single.by_ids) == {"ids"}
    assert "ANY(" in single.by_ids.replace("\n", "").replace(" ", "")
    assert "UNNEST(" in q.by_ids


def test_casts_follow_model_types_and_overrides_are_checked() -> None:
    q = extraction_queries(hostile_model(), "Line")
    assert [k.sql_type for k in q.key] == ["UUID", "TEXT", "BIGINT"]
    assert "CAST(%(ids_tenant)s AS UUID[])" in q.by_ids
    typed = extraction_queries(hostile_model(), "Line", column_types={"code": "varchar(12)"})
    assert "CAST(%(ids_code)s AS VARCHAR(12)[])" in typed.by_ids
    enum = extraction_queries(hostile_model(), "Line", column_types={"code": "shop.code_kind"})
    assert "CAST(%(ids_code)s AS shop.code_kind[])" in enum.by_ids
    for bad in ("text[]); DROP TABLE x; --", "text foo", 'a"b', "text -- x", "int(1,2,3)"):
        with pytest.raises(ExtractionError, match="not a PostgreSQL type"):
            extraction_queries(hostile_model(), "Line", column_types={"code": bad})
    with pytest.raises(ExtractionError, match="no entity 'Nope'"):
        extraction_queries(hostile_model(), "Nope")


def test_param_helpers_check_key_arity() -> None:
    q = extraction_queries(hostile_model(), "Line")
    t = uuid.uuid4()
    assert q.page_params(10, after=(t, "a", 1)) == {
        "limit": 10,
        "after_tenant": t,
        "after_code": "a",
        "after_n": 1,
    }
    assert q.ids_params([(t, "a", 1), (t, "b", 2)]) == {
        "ids_tenant": [t, t],
        "ids_code": ["a", "b"],
        "ids_n": [1, 2],
    }
    with pytest.raises(ValueError, match="3 values"):
        q.ids_params([(t, "a")])


def test_extract_sql_is_deterministic_and_comment_safe() -> None:
    model = hostile_model()
    layout = layouts.small_layout()
    first = sql.emit_sql(layout, model)["extract.sql"]
    assert first == sql.emit_sql(layout, model)["extract.sql"]
    for line in first.splitlines():
        if line.startswith("--"):
            assert "\t" not in line  # control characters escaped inside comments
    # every query of every entity appears verbatim
    for ent in model.entities:
        for text in _all_queries(extraction_queries(model, ent.name)).values():
            assert text + ";" in first
    # the statements parse as PostgreSQL (after psycopg's %% → %)
    statements = [s for s in sqlglot.parse(_unescape(first), read="postgres") if s is not None]
    assert len(statements) == 9 * len(model.entities)


# --------------------------------------------------------------------------- e2e


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create(conn: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Create and fill both hostile tables; return their rows (in key order) by attribute."""
    c = COLUMNS
    order_rows = [(i, f"note {i}; \"q\" 'x'", Decimal(i) / 7, f"ü-{i}\n") for i in range(-20, 83)]
    tenants = [uuid.UUID(int=n * 2**120 + n) for n in (3, 1, 2)]
    codes = ["a", "A", "b b", "Z", "é", "#x", "a%b", ""]
    line_rows = []
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for t in tenants:
        for code in codes:
            for n in (-1, 0, 7):
                line_rows.append((t, code, n, Decimal(n) * 3, base + dt.timedelta(minutes=n)))
    with conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {_qi(SCHEMA)}")
        cur.execute(
            f"CREATE TABLE {_qi(SCHEMA)}.{_qi(ORDER_TABLE)} ({_qi(c['order_id'])} integer "
            f"PRIMARY KEY, {_qi(c['note'])} text, {_qi(c['pct'])} numeric, "
            f"{_qi(c['label'])} varchar(40), extra_col text DEFAULT 'not in the model')"
        )
        cur.execute(
            f"CREATE TABLE {_qi(LINE_TABLE)} ({_qi(c['tenant'])} uuid, {_qi(c['code'])} text, "
            f"n int, {_qi(c['amount'])} numeric, {_qi(c['at'])} timestamptz, "
            f"PRIMARY KEY ({_qi(c['tenant'])}, {_qi(c['code'])}, n))"
        )
        cur.executemany(
            f"INSERT INTO {_qi(SCHEMA)}.{_qi(ORDER_TABLE)} VALUES (%s, %s, %s, %s)",
            order_rows,
        )
        cur.executemany(
            f"INSERT INTO {_qi(LINE_TABLE).replace('%', '%%')} VALUES (%s, %s, %s, %s, %s)",
            line_rows,
        )
    conn.commit()
    return order_rows, line_rows


def _run(cur: Any, text: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    cur.execute(text, params)
    return list(cur.fetchall())


def test_generated_sql_runs_on_postgresql(postgres: Any) -> None:
    psycopg = pytest.importorskip("psycopg")
    model = hostile_model()
    dsn = postgres.create_database()
    with psycopg.connect(dsn) as conn:
        order_rows, line_rows = _create(conn)
        with conn.cursor() as cur:
            for ent, rows in (("Order", order_rows), ("Line", line_rows)):
                q = extraction_queries(model, ent)
                width = len(q.key)
                # PostgreSQL's own key order is the reference (text collation differs from Python)
                everything = _run(cur, q.first_page, q.page_params(10_000))
                assert Counter(everything) == Counter(rows)
                assert [d.name for d in cur.description] == list(q.attributes)

                # keyset pages: every row exactly once, in the same order
                pages: list[tuple[Any, ...]] = []
                page = _run(cur, q.first_page, q.page_params(7))
                while page:
                    pages += page
                    page = _run(cur, q.next_page, q.page_params(7, after=page[-1][:width]))
                assert pages == everything

                # counts and key bounds
                assert _run(cur, q.count, {}) == [(len(rows),)]
                assert _run(cur, q.min_key, {}) == [everything[0][:width]]
                assert _run(cur, q.max_key, {}) == [everything[-1][:width]]

                # chunks: boundaries every 9th key, then bounded pages inside each chunk
                bounds = [b for b in _run(cur, q.chunk_boundaries, {"chunk_rows": 9})]
                assert bounds == [r[:width] for r in everything[8::9]]
                chunked: list[tuple[Any, ...]] = []
                lows: list[tuple[Any, ...] | None] = [None, *bounds]
                highs: list[tuple[Any, ...] | None] = [*bounds, None]
                for low, high in zip(lows, highs, strict=True):
                    after = low
                    while True:
                        text = q.page(after is not None, high is not None)
                        got = _run(cur, text, q.page_params(4, after=after, until=high))
                        if not got:
                            break
                        chunked += got
                        after = got[-1][:width]
                assert chunked == everything

                # batch by keys: exactly the rows asked for, plus a key that does not exist
                wanted = everything[::5]
                missing = list(everything[0][:width])
                missing[-1] = 10_000 if isinstance(missing[-1], int) else "no such key"
                keys = [r[:width] for r in wanted] + [tuple(missing)]
                got = _run(cur, q.by_ids, q.ids_params(keys))
                assert got == wanted


# --------------------------------------------------------------------------- variants


def _variant_params(text: str) -> set[str]:
    return set(re.findall(r"(?<!%)%\(([A-Za-z0-9_]+)\)s", text))


def _update(q: ExtractionQueries) -> str:
    """An UPDATE touching every non-key column the ways the demo application does."""
    key_columns = {k.column for k in q.key}
    others = [c for c in q.columns if c not in key_columns]
    return q.update_by_key_sql(
        [
            SetClause(others[0], "rewrite"),
            *(SetClause(c, "append", param="suffix", keep=3) for c in others[1:2]),
        ]
    )


@pytest.mark.parametrize("entity", ["Order", "Line"])
def test_every_variant_is_one_parseable_statement_with_inert_names(entity: str) -> None:
    model = hostile_model()
    ent = model.entity(entity)
    assert ent is not None
    q = extraction_queries(model, entity)
    variants = {**q.variants(), "update_by_key": _update(q), "marker": marker_sql()}
    expected_columns = {a.column_name for a in ent.attributes} | {"_row_number", XMIN}
    for name, text in variants.items():
        # psycopg: every % is a placeholder or an escaped %%
        assert re.sub(r"%%|%\([A-Za-z0-9_]+\)s", "", text).count("%") == 0, name
        statements = sqlglot.parse(_unescape(text), read="postgres")
        assert len(statements) == 1 and statements[0] is not None, name
        tree = statements[0]
        assert isinstance(tree, exp.Update if name == "update_by_key" else exp.Select), name
        if name == "marker":
            continue
        tables = [(t.db, t.name) for t in tree.find_all(exp.Table)]
        assert tables and all(t == (ent.schema or "", ent.table) for t in tables), name
        idents = [
            i
            for i in tree.find_all(exp.Identifier)
            if not isinstance(i.parent, exp.Placeholder) and i.name != XMIN
        ]
        assert idents and all(i.quoted for i in idents), name
        assert {c.name for c in tree.find_all(exp.Column)} <= expected_columns, name
        # no value is inlined beyond the fixed numbers of the statement shapes
        strings = [n for n in tree.walk() if isinstance(n, exp.Literal) and n.is_string]
        assert not strings, (name, strings)
    assert _variant_params(variants["changed_since_xmin"]) == {"marker", "limit"}
    assert _variant_params(variants["null_keys"]) == {"limit"}
    assert _variant_params(variants["sample"]) == {"limit"}
    assert _variant_params(variants["key_listing"]) == set()
    assert _variant_params(variants["update_by_key"]) == {
        "suffix",
        *(f"k{i}" for i in range(len(q.key))),
    }
    for name in ("by_ids_xmin", "first_page_xmin", "changed_since_xmin", "sample_xmin"):
        first = sqlglot.parse_one(_unescape(variants[name]), read="postgres").selects[0]
        assert first.alias == XMIN_ALIAS and first.find(exp.Column).name == XMIN, name
    for name in ("first_page", "by_ids", "changed_since", "sample", "null_keys"):
        tree = sqlglot.parse_one(_unescape(variants[name]), read="postgres")
        assert XMIN_ALIAS not in {s.alias for s in tree.selects}, name


def test_no_module_edits_sql_text() -> None:
    """Statements are built as trees in extraction.py (and pg/): nobody else splits or
    partitions SQL text on a keyword, and the migration (migrate/, workflows/) takes its
    statements whole from extraction instead of gluing quoted identifiers into SQL text.
    (The generated dual-write repository's DML is still composed from quoted names.)"""
    root = Path(__file__).resolve().parents[2] / "modeling"
    keyword = r"""["'](?:\\n)?\s*(?:SELECT|FROM|WHERE|ORDER BY|LIMIT|GROUP BY|UPDATE|SET)\b"""
    splitting = re.compile(rf"\.(?:r?partition|r?split|index|find|replace)\(\s*{keyword}")
    gluing = re.compile(r"(?<!\w)quote_ident\(")
    offenders: list[str] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "extraction.py" or rel.startswith("pg/"):
            continue
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            glued = rel.startswith(("migrate/", "workflows/")) and gluing.search(line)
            if splitting.search(line) or glued:
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
    # the check itself catches what it is meant to catch
    assert splitting.search('head, sep, tail = sql.rpartition("\\nORDER BY")')
    assert splitting.search("head, sep, rest = sql.partition('SELECT')")


def test_migration_variants_run_on_postgresql(postgres: Any) -> None:
    """The variants the migration runs, on the hostile tables: the xmin column is each row's
    xmin, the changed-since condition finds exactly the rows changed after a marker, the key
    listing comes in the key's native order (not the text order of its output), the sample
    and null-key reads run, and the demo's UPDATE changes one row by its key."""
    psycopg = pytest.importorskip("psycopg")
    model = hostile_model()
    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        order_rows, line_rows = _create(conn)
        with conn.cursor() as cur:
            for ent, rows in (("Order", order_rows), ("Line", line_rows)):
                q = extraction_queries(model, ent)
                width = len(q.key)
                everything = _run(cur, q.first_page, q.page_params(10_000))
                assert Counter(everything) == Counter(rows)

                # xmin first, then the same rows as without it
                with_xmin = _run(cur, q.page_sql(False, xmin=True), q.page_params(10_000))
                assert [d.name for d in cur.description] == [XMIN_ALIAS, *q.attributes]
                assert [r[1:] for r in with_xmin] == everything
                assert all(isinstance(r[0], str) and r[0].isdigit() for r in with_xmin)
                after = _run(
                    cur, q.page_sql(True, xmin=True), q.page_params(5, after=everything[0][:width])
                )
                assert [r[1:] for r in after] == everything[1:6]
                keys = [r[:width] for r in everything[::7]]
                by_ids = _run(cur, q.by_ids_sql(xmin=True), q.ids_params(keys))
                assert [r[1:] for r in by_ids] == everything[::7]

                # the key listing: every key as PostgreSQL prints it (for these types, what
                # str() prints), in the key's own order: -20, -19, ... and not "-1", "-10", ...
                listing = _run(cur, q.key_listing_sql(), {})
                assert listing == [tuple(str(v) for v in r[:width]) for r in everything]

                # the marker, then two rows changed after it: the catch-up finds exactly those
                cur.execute(marker_sql(), {})
                (marker,) = cur.fetchone()
                changed = [everything[3][:width], everything[-2][:width]]
                for key in changed:
                    update = q.update_by_key_sql([SetClause(q.columns[-1], "rewrite")])
                    cur.execute(update, q.key_params(key))
                    assert cur.rowcount == 1
                got = _run(cur, q.changed_since_sql(xmin=True), {"marker": marker, "limit": None})
                assert [r[1 : 1 + width] for r in got] == changed
                assert all(int(r[0]) >= marker for r in got)
                assert _run(cur, q.changed_since_sql(), {"marker": marker, "limit": 1}) == [
                    got[0][1:]
                ]

                # the sample: the number asked for, all of them real rows
                sample = _run(cur, q.sample_sql(xmin=True), {"limit": 11})
                assert len(sample) == 11 and {r[1:] for r in sample} <= set(everything)
                # the key columns are a primary key here: no row has a NULL key
                assert _run(cur, q.null_keys_sql(), {"limit": 10}) == []

                # the demo's UPDATE: a suffix appended within a bound, by the full key
                text_column = COLUMNS["note"] if ent == "Order" else COLUMNS["code"]
                if ent == "Line":
                    continue  # its only text column is part of the key
                key = everything[0][:width]
                update = q.update_by_key_sql(
                    [SetClause(text_column, "append", param="suffix", keep=4)]
                )
                cur.execute(update, {**q.key_params(key), "suffix": "!%s'"})
                assert cur.rowcount == 1
                index = q.columns.index(text_column)
                (after_update,) = _run(cur, q.by_ids, q.ids_params([key]))
                assert after_update[index] == everything[0][index][:4] + "!%s'"
