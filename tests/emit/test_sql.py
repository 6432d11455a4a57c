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
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from modeling.core import ir
from modeling.emit import sql
from modeling.extraction import ExtractionError, extraction_queries

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
