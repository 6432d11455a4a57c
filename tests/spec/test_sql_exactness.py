"""An adversarial pass over what a `sql:` pattern means (issue 18, "measured on hostile inputs
that are not in this repo"): SQL as Rails, Django, Prisma and hand-written OLTP code write it,
read the way PostgreSQL 15 reads it. Each row failed before its fix: the translation produced a
pattern whose plan was claimed exact while it returned other rows than the SQL.

- LIKE escapes: PostgreSQL's LIKE takes `\\` as its escape character (`\\%`, `\\_`, `\\\\` are
  literal, `\\b` is `b`); the prefix kept the backslashes, so `LIKE 'ab\\%'` (the text `ab%`)
  became begins_with `ab\\` (Rails' `sanitize_sql_like` writes exactly such patterns).
- BETWEEN SYMMETRIC swaps crossed bounds; it was read as a plain BETWEEN (no rows).
- Joins: a condition names one table's column; `c.name = :n` on the joined parent was applied
  to the child's own `name`, and `o.status = 'x'` in an item-collection read keyed the parent by
  its own status. `SELECT c.* FROM customers c JOIN orders o` returns a customer once per order
  (none without one), but was read as one Customer item. ORDER BY a child column in an
  item-collection read was claimed though the child's sort key orders by its key.
- A join-key column beside the child's columns (`SELECT o.order_id, l.line_no ...`) does not
  make the parent part of the answer: the SQL returns line items only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeling.api import check_file, load_model
from modeling.compile import compile_model
from modeling.core import values
from modeling.emit.client import emit_client
from modeling.requests import render_key
from modeling.spec.sql_patterns import TableInfo, like_prefix, translate

CUSTOMER = TableInfo(
    "Customer",
    "customers",
    {c: c for c in ("customer_id", "name", "status")},
    ("customer_id",),
)
ORDER = TableInfo(
    "Order",
    "orders",
    {c: c for c in ("order_id", "customer_id", "name", "status", "qty", "created_at", "code")},
    ("order_id",),
    "Customer",
)
LINE = TableInfo(
    "Line",
    "order_lines",
    {c: c for c in ("order_id", "line_no", "sku")},
    ("order_id", "line_no"),
    "Order",
)
TABLES = [CUSTOMER, ORDER, LINE]


def _read(sql: str) -> str:
    r = translate(sql, TABLES)
    if r.issues:
        return "! " + " ".join(sorted({i.code for i in r.issues}))
    conds = " AND ".join(
        f"{c.attribute} {c.op} "
        + ",".join([f":{p}" for p in c.params] + [repr(v) for v in c.literals])
        for c in r.where
    )
    order = f" | {r.order_by} {r.order}" if r.order_by else ""
    return f"{'+'.join(r.entities)}: {conds}{order}"


WHERE = "SELECT * FROM orders WHERE customer_id = :c AND "


@pytest.mark.parametrize(
    ("sql", "meaning"),
    [
        # LIKE as PostgreSQL reads it (standard_conforming_strings: the SQL text is as written)
        (WHERE + r"code LIKE 'ab\%'", "Order: customer_id = :c AND code = 'ab%'"),
        (WHERE + r"code LIKE 'ab\%%'", "Order: customer_id = :c AND code begins_with 'ab%'"),
        (WHERE + r"code LIKE 'a\_b%'", "Order: customer_id = :c AND code begins_with 'a_b'"),
        (
            WHERE + r"code LIKE 'ab\\%'",
            f"Order: customer_id = :c AND code begins_with {'ab' + chr(92)!r}",
        ),
        (WHERE + r"code LIKE 'a\b%'", "Order: customer_id = :c AND code begins_with 'ab'"),
        (WHERE + r"code LIKE 'ab%%'", "Order: customer_id = :c AND code begins_with 'ab'"),
        (WHERE + r"code LIKE 'a#b\'", "! sql-like"),  # a lone trailing escape: an error in PG
        (WHERE + r"code LIKE 'ab\\_%'", "! sql-like"),  # `\\` is a backslash, then `_` a wildcard
        (WHERE + r"code LIKE 'a%b%'", "! sql-like"),
        # BETWEEN SYMMETRIC: crossed literal bounds are put in order; parameters can't be
        (WHERE + "qty BETWEEN SYMMETRIC 9 AND 2", "Order: customer_id = :c AND qty between 2,9"),
        (WHERE + "qty BETWEEN SYMMETRIC 2 AND 9", "Order: customer_id = :c AND qty between 2,9"),
        (WHERE + "qty BETWEEN SYMMETRIC :a AND :b", "! sql-condition"),
        (WHERE + "code BETWEEN SYMMETRIC '9' AND '10'", "! sql-condition"),
        # a condition on the joined parent's column is not one on the child's attribute
        (
            "SELECT o.* FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
            "WHERE o.customer_id = :c AND c.name = :n",
            "! sql-join",
        ),
        (
            "SELECT o.* FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
            "WHERE c.customer_id = :c AND c.status = 'vip'",
            "! sql-join",
        ),
        # ... but the join key is the same value on both sides, and the child's own columns are fine
        (
            "SELECT o.* FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
            "WHERE c.customer_id = :c AND o.status = :s ORDER BY o.created_at DESC",
            "Order: customer_id = :c AND status = :s | created_at desc",
        ),
        # an item-collection read: a condition on one side only, or an ORDER BY of one side
        (
            "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
            "WHERE c.customer_id = :c AND o.status = 'open'",
            "! sql-join",
        ),
        (
            "SELECT * FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id "
            "WHERE c.customer_id = :c ORDER BY o.created_at",
            "! sql-order",
        ),
        (
            "SELECT * FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id "
            "WHERE o.customer_id = :c",
            "Customer+Order: customer_id = :c",
        ),
        # LIMIT counts joined rows, not items
        (
            "SELECT * FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id "
            "WHERE c.customer_id = :c LIMIT 5",
            "! sql-unsupported",
        ),
        (
            "SELECT * FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id "
            "WHERE c.customer_id = :c LIMIT :n",
            "! sql-unsupported",
        ),
        # the parent's columns of a join: once per child row, none without one
        (
            "SELECT c.* FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
            "WHERE c.customer_id = :c",
            "! sql-join",
        ),
        # the parent's join-key column beside the child's: the child's rows only
        (
            "SELECT o.order_id, l.line_no, l.sku FROM orders o "
            "JOIN order_lines l ON l.order_id = o.order_id WHERE o.order_id = :id "
            "ORDER BY l.line_no",
            "Line: order_id = :id | line_no asc",
        ),
    ],
)
def test_sql_means_what_postgres_reads(sql: str, meaning: str) -> None:
    assert _read(sql) == meaning


@pytest.mark.parametrize(
    ("pattern", "read"),
    [
        ("abc", ("abc", False)),
        ("abc%", ("abc", True)),
        ("%", ("", True)),
        ("", ("", False)),
        (r"100\%", ("100%", False)),
        (r"C:\\dir\\%", ("C:\\dir\\", True)),
        ("a_c", None),
        ("%abc", None),
        ("a\\", None),
    ],
)
def test_like_prefix_reads_escapes_as_postgres(pattern: str, read: tuple[str, bool] | None) -> None:
    got = like_prefix(pattern)
    assert (got if isinstance(got, tuple) else None) == read


@pytest.mark.parametrize(
    "sql",
    [
        # a job queue's dequeue (good_job, que, Sidekiq-style SQL): the lock is the point
        "SELECT * FROM orders WHERE customer_id = :c ORDER BY created_at LIMIT 1 "
        "FOR UPDATE SKIP LOCKED",
        "SELECT * FROM orders WHERE customer_id = :c FOR SHARE",
        "SELECT * FROM orders WHERE customer_id = :c FOR NO KEY UPDATE NOWAIT",
        # a random sample; the parent table's own rows without its children's
        "SELECT * FROM orders TABLESAMPLE BERNOULLI (5) WHERE customer_id = :c",
        "SELECT * FROM ONLY orders WHERE customer_id = :c",
    ],
)
def test_row_locks_samples_and_only_are_refused(sql: str) -> None:
    """FOR UPDATE / SHARE (and SKIP LOCKED, which changes which rows come back), TABLESAMPLE
    and ONLY were ignored: the pattern was planned as a plain read of every match."""
    assert _read(sql) == "! sql-unsupported"


def _literal_model(tmp_path: Path, condition: str) -> list[str]:
    path = tmp_path / "lits.yaml"
    path.write_text(
        "model: lits\n"
        "source: {dialect: postgres, collation: C}\n"
        "entities:\n"
        "  Order:\n"
        "    table: orders\n"
        "    key: [order_id]\n"
        "    attributes:\n"
        "      order_id: integer\n"
        "      customer_id: integer\n"
        "      qty: integer\n"
        "      flagged: boolean\n"
        "      placed_at: datetime\n"
        "      code: string\n"
        "      amount_f: float\n"
        "access_patterns:\n"
        "  p:\n"
        f"    sql: SELECT * FROM orders WHERE customer_id = :c AND {condition}\n",
        encoding="utf-8",
    )
    result = check_file(path)
    return [d.format() for d in result.diagnostics if d.severity.value == "error"]


@pytest.mark.parametrize(
    ("condition", "error"),
    [
        ("flagged = 't'", None),  # PostgreSQL's boolean input: t, yes, on, 1, ...
        ("flagged = 'Yes'", None),
        ("flagged = TRUE", None),
        ("flagged = 'maybe'", "'maybe' is not a boolean"),
        ("qty >= 2.5", "2.5 is not an integer"),
        ("qty = 3", None),
        ("placed_at >= 'epoch'", "'epoch' is not a datetime value"),
        ("code = 42", "42 is not a string literal"),
        ("amount_f = 'NaN'", "is not a finite number"),
        ("amount_f = 'Infinity'", "is not a finite number"),
    ],
)
def test_literals_are_read_as_postgres_reads_them_or_refused_where_written(
    tmp_path: Path, condition: str, error: str | None
) -> None:
    """`flagged = 't'` is TRUE in PostgreSQL (it failed in compile: "cannot encode 't' as a
    boolean key slot", with no location); a literal no key can hold exactly is an error at
    the literal (file:line:col and a hint), not an unlocated failure while compiling."""
    errors = _literal_model(tmp_path, condition)
    if error is None:
        assert errors == []
        return
    (message,) = errors
    column = 1 + len("    sql: SELECT * FROM orders WHERE customer_id = :c AND ")
    assert message.startswith(f"{tmp_path / 'lits.yaml'}:17:{column}: error:"), message
    assert error in message and "[invalid-value]" in message and "hint:" in message


def test_coerce_reads_postgres_booleans() -> None:
    assert [values.coerce("boolean", w) for w in ("t", " TRUE ", "y", "on", "1", "tr")] == [
        True
    ] * 6
    assert [values.coerce("boolean", w) for w in ("f", "no", "off", "0", "fa")] == [False] * 5
    assert values.coerce("boolean", "o") == "o"  # on or off: PostgreSQL rejects it too


def test_a_boolean_spelled_t_keys_the_items_of_true(tmp_path: Path) -> None:
    assert _literal_model(tmp_path, "flagged = 't' ORDER BY placed_at") == []
    model = load_model(tmp_path / "lits.yaml")
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag.errors]
    plan = layout.plan("p")
    assert plan is not None
    keys = [render_key(kv, {"c": 7}) for kv in (plan.pk, *plan.sk.values)]
    assert any("true" in k for k in keys) and not any("#t#" in k or k.endswith("#t") for k in keys)
    assert "def p(" in emit_client(layout, model)["client.py"]


@pytest.mark.parametrize(
    ("condition", "refused"),
    [
        # reports: `created_at >= $1::date` compares midnight, the client the instant passed
        ("placed_at >= :since::date", True),
        ("placed_at >= '2024-01-01 10:00'::date", True),
        ("code = :c2::varchar(2)", True),  # truncates the value to 2 characters
        ("qty BETWEEN :a::int AND :b::numeric(4,2)", True),  # rounds the upper bound
        # casts that keep every value: the type's own, or a wider one of its family
        ("placed_at >= :since::timestamptz", False),
        ("qty >= :q::bigint", False),
        ("code = :x::text", False),
        ("qty IN (:a::int, :b::smallint)", False),
    ],
)
def test_a_cast_that_changes_the_value_compared_is_refused(
    tmp_path: Path, condition: str, refused: bool
) -> None:
    """The translator stripped every cast: `placed_at >= :since::date` became `placed_at >=
    :since`, exact for the compiler, while PostgreSQL compares the date (midnight)."""
    errors = _literal_model(tmp_path, condition)
    if not refused:
        assert errors == []
        return
    (message,) = [e for e in errors if "the cast to" in e]
    assert "[sql-condition]" in message and "hint:" in message


@pytest.mark.parametrize(
    ("condition", "refused"),
    [
        ("placed_at >= '2024-03-10 12:00'", True),
        ("placed_at >= '2024-03-10'", True),
        ("placed_at >= '2024-03-10 12:00+00'", False),
        ("placed_at >= '2024-03-10T12:00:00-08:00'", False),
    ],
)
def test_a_timestamptz_literal_names_its_zone(
    tmp_path: Path, condition: str, refused: bool
) -> None:
    """`placed_at >= '2024-03-10 12:00'` on a timestamptz is read by PostgreSQL in the
    session's TimeZone; the key condition read it as UTC and was called exact."""
    errors = _literal_model(tmp_path, condition)
    assert bool(errors) == refused, errors
    if refused:
        assert "has no time zone" in errors[0] and "+00" in errors[0]


_LIKE_ALPHABET = "ab\\%_#$ é"


@pytest.mark.e2e
def test_like_prefix_agrees_with_postgres_on_random_patterns(postgres: Any) -> None:
    """Hypothesis draws LIKE patterns over backslashes, wildcards and the key separator, and
    values over the same characters; wherever `like_prefix` accepts a pattern, its reading
    (equality, or a prefix) selects exactly the values PostgreSQL's LIKE selects."""
    conn = psycopg.connect(postgres.create_database(), autocommit=True)
    checked = {"accepted": 0}

    @settings(max_examples=300, deadline=None, database=None)
    @given(
        pattern=st.text(_LIKE_ALPHABET, max_size=6),
        texts=st.lists(st.text(_LIKE_ALPHABET, max_size=6), min_size=1, max_size=12),
    )
    def agree(pattern: str, texts: list[str]) -> None:
        read = like_prefix(pattern)
        if isinstance(read, str):
            return  # refused: a wildcard or a trailing escape
        checked["accepted"] += 1
        body, prefix = read
        rows = conn.execute(
            "SELECT t, t LIKE %s FROM unnest(%s::text[]) AS t", (pattern, texts)
        ).fetchall()
        for text, matched in rows:
            assert matched == (text.startswith(body) if prefix else text == body), (
                pattern,
                text,
            )

    try:
        agree()
    finally:
        conn.close()
    assert checked["accepted"] >= 50, checked
