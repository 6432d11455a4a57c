"""`sql:` translation fixtures: input SQL → entities, where (attribute op params/literals),
order, order_by, limit — or the issue codes it must raise. One row per construct."""

from __future__ import annotations

import pytest

from modeling.spec.sql_patterns import TableInfo, translate

PRODUCT = TableInfo(
    "Product",
    "products",
    {c: c for c in ("product_id", "brand_id", "title", "slug", "status", "created_at", "price")}
    | {"attributes": "specs"},
    ("product_id",),
)
VARIANT = TableInfo(
    "Variant",
    "product_variants",
    {c: c for c in ("product_id", "sku", "size", "stock")},
    ("product_id", "sku"),
    "Product",
)
BRAND = TableInfo(
    "Brand", "catalog.brands", {"brand_id": "brand_id", "name": "name"}, ("brand_id",)
)
TABLES = [PRODUCT, VARIANT, BRAND]


def show(sql: str) -> str:
    """A compact, comparable rendering of a translation."""
    r = translate(sql, TABLES)
    if r.issues:
        return "! " + " ".join(i.code for i in r.issues)
    conds = []
    for c in r.where:
        operands = ",".join([f":{p}" for p in c.params] + [repr(v) for v in c.literals])
        op = c.op if c.bounds == (">=", "<=") else f"{c.bounds[0]}{c.op}{c.bounds[1]}"
        op += "[]" if c.listed else ""
        conds.append(f"{c.attribute} {op} {operands}")
    out = f"{'+'.join(r.entities)}: " + " AND ".join(conds)
    if r.order_by:
        out += f" | {r.order_by} {r.order}"
    if r.limit is not None:
        out += f" | limit {r.limit}"
    if r.limit_param is not None:
        out += f" | limit :{r.limit_param}"
    if r.filter:
        out += " | filter " + " AND ".join(f"{c.attribute} {c.op}" for c in r.filter)
    return out


FIXTURES = [
    # bind styles
    ("SELECT * FROM products WHERE product_id = :id", "Product: product_id = :id"),
    ("SELECT * FROM products WHERE product_id = %(pid)s", "Product: product_id = :pid"),
    ("SELECT * FROM products WHERE product_id = $1", "Product: product_id = :product_id"),
    ("SELECT * FROM products WHERE product_id = ?", "Product: product_id = :product_id"),
    ("SELECT * FROM products WHERE :id = product_id", "Product: product_id = :id"),
    ("SELECT * FROM products WHERE product_id = :id::uuid", "Product: product_id = :id"),
    # literals become fixed-value conditions
    ("SELECT * FROM products WHERE status = 'active' AND brand_id = :b",
     "Product: status = 'active' AND brand_id = :b"),
    ("SELECT * FROM products WHERE brand_id = :b AND price > -5", "Product: brand_id = :b AND price > -5"),
    # ranges
    ("SELECT * FROM products WHERE brand_id = :b AND created_at >= :since",
     "Product: brand_id = :b AND created_at >= :since"),
    ("SELECT * FROM products WHERE brand_id = :b AND :since < created_at",
     "Product: brand_id = :b AND created_at > :since"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at BETWEEN :lo AND :hi",
     "Product: brand_id = :b AND created_at between :lo,:hi"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at >= :lo AND created_at <= :hi",
     "Product: brand_id = :b AND created_at between :lo,:hi"),
    ("SELECT * FROM products WHERE brand_id = $1 AND created_at >= $2 AND created_at <= $3",
     "Product: brand_id = :brand_id AND created_at between :created_at_from,:created_at_to"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at BETWEEN $2 AND $3",
     "Product: brand_id = :b AND created_at between :created_at_from,:created_at_to"),
    # LIKE prefix → begins_with
    ("SELECT * FROM products WHERE brand_id = :b AND slug LIKE 'red-%'",
     "Product: brand_id = :b AND slug begins_with 'red-'"),
    ("SELECT * FROM products WHERE brand_id = :b AND slug LIKE :p || '%'",
     "Product: brand_id = :b AND slug begins_with :p"),
    ("SELECT * FROM products WHERE brand_id = :b AND slug LIKE CONCAT(:p, '%')",
     "Product: brand_id = :b AND slug begins_with :p"),
    ("SELECT * FROM products WHERE brand_id = :b AND slug LIKE 'exact'",
     "Product: brand_id = :b AND slug = 'exact'"),
    # order and limit
    ("SELECT * FROM products WHERE brand_id = :b ORDER BY created_at DESC LIMIT 20",
     "Product: brand_id = :b | created_at desc | limit 20"),
    ("SELECT * FROM products WHERE brand_id = :b ORDER BY brand_id, created_at",
     "Product: brand_id = :b | created_at asc"),
    ("SELECT * FROM products WHERE brand_id = :b ORDER BY created_at LIMIT :n",
     "Product: brand_id = :b | created_at asc | limit :n"),
    ("SELECT * FROM products WHERE brand_id = $1 ORDER BY created_at LIMIT $2",
     "Product: brand_id = :brand_id | created_at asc | limit :limit"),
    ("SELECT * FROM products WHERE brand_id = :b ORDER BY created_at LIMIT :limit",
     "Product: brand_id = :b | created_at asc | limit :limit"),
    # half-open and one-sided ranges keep each bound's operator
    ("SELECT * FROM products WHERE brand_id = :b AND created_at >= :a AND created_at < :z",
     "Product: brand_id = :b AND created_at >=between< :a,:z"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at > :a AND created_at <= :z",
     "Product: brand_id = :b AND created_at >between<= :a,:z"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at < :z AND created_at > :a",
     "Product: brand_id = :b AND created_at >between< :a,:z"),
    ("SELECT * FROM products WHERE brand_id = :b AND :a <= created_at AND created_at < :z",
     "Product: brand_id = :b AND created_at >=between< :a,:z"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at >= '2024-01-01' "
     "AND created_at < '2024-02-01'",
     "Product: brand_id = :b AND created_at >=between< '2024-01-01','2024-02-01'"),
    ("SELECT * FROM products WHERE brand_id = $1 AND created_at > $2 AND created_at < $3",
     "Product: brand_id = :brand_id AND created_at >between< :created_at_from,:created_at_to"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at < :z",
     "Product: brand_id = :b AND created_at < :z"),
    # parameters named like SQL keywords
    ("SELECT * FROM products WHERE brand_id = :b AND created_at >= :from AND created_at < :to",
     "Product: brand_id = :b AND created_at >=between< :from,:to"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at BETWEEN :from AND :to",
     "Product: brand_id = :b AND created_at between :from,:to"),
    ("SELECT * FROM products WHERE brand_id = :select AND status = :order "
     "ORDER BY created_at LIMIT :limit",
     "Product: brand_id = :select AND status = :order | created_at asc | limit :limit"),
    ("SELECT * FROM products WHERE brand_id = :b AND status = ':from' AND title::text = :where",
     "! sql-function"),
    # columns mapped to attributes, aliases, schemas
    ("SELECT p.title FROM products AS p WHERE p.brand_id = :b AND p.attributes = :s",
     "Product: brand_id = :b AND specs = :s"),
    ("SELECT * FROM catalog.brands WHERE brand_id = :id", "Brand: brand_id = :id"),
    ("SELECT * FROM brands WHERE brand_id = :id", "Brand: brand_id = :id"),
    # parent ↔ child join on the parent key → item-collection read
    ("SELECT * FROM products p JOIN product_variants v ON v.product_id = p.product_id "
     "WHERE p.product_id = :id", "Product+Variant: product_id = :id"),
    ("SELECT * FROM product_variants v LEFT JOIN products p ON p.product_id = v.product_id "
     "WHERE v.product_id = :id", "Product+Variant: product_id = :id"),
    ("SELECT * FROM products JOIN product_variants USING (product_id) WHERE product_id = :id",
     "Product+Variant: product_id = :id"),
    # errors, by construct
    ("SELECT * FROM products WHERE brand_id = :b OR status = :s", "! sql-or"),
    ("SELECT * FROM products WHERE brand_id = :b AND NOT status = 'x'", "! sql-not"),
    ("SELECT * FROM products WHERE brand_id = :b AND status != 'x'", "! sql-not-equal"),
    ("SELECT * FROM products WHERE brand_id IN (:a, :b)", "Product: brand_id in :a,:b"),
    ("SELECT * FROM products WHERE brand_id IN (:a, :b, :a)", "Product: brand_id in :a,:b"),
    ("SELECT * FROM products WHERE brand_id = ANY(:ids)", "Product: brand_id in[] :ids"),
    ("SELECT * FROM products WHERE brand_id IN :ids", "Product: brand_id in[] :ids"),
    ("SELECT * FROM products WHERE brand_id IN ($1, $2)",
     "Product: brand_id in :brand_id_1,:brand_id_2"),
    ("SELECT * FROM products WHERE status IN ('a', 'b', 'a') AND brand_id = :b",
     "Product: status in 'a','b' AND brand_id = :b"),
    ("SELECT * FROM products WHERE brand_id IN (:a, 'x')", "! sql-mixed-operands"),
    ("SELECT * FROM products WHERE lower(slug) IN (:a, :b)", "! sql-function"),
    ("SELECT * FROM products WHERE brand_id = :b AND slug LIKE '%red'", "! sql-like"),
    ("SELECT * FROM products WHERE brand_id = :b AND slug LIKE 'r%d%'", "! sql-like"),
    ("SELECT * FROM products WHERE brand_id = :b AND slug ILIKE 'r%'", "! sql-like"),
    ("SELECT * FROM products WHERE brand_id = :b AND slug LIKE :p", "! sql-like"),
    ("SELECT * FROM products WHERE brand_id = :b AND title IS NULL",
     "Product: brand_id = :b | filter title is_null"),
    ("SELECT * FROM products WHERE brand_id = :b AND title IS NOT NULL",
     "Product: brand_id = :b | filter title is_not_null"),
    ("SELECT * FROM products WHERE brand_id = :b AND NOT (title IS NULL)",
     "Product: brand_id = :b | filter title is_not_null"),
    ("SELECT * FROM products WHERE brand_id = :b AND NOT title IS NOT NULL",
     "Product: brand_id = :b | filter title is_null"),
    ("SELECT * FROM products WHERE brand_id = :b AND status IS TRUE", "! sql-is-null"),
    ("SELECT * FROM products WHERE brand_id = :b AND lower(title) IS NULL", "! sql-function"),
    ("SELECT * FROM products WHERE lower(slug) = :s", "! sql-function"),
    ("SELECT * FROM products WHERE price * 2 = :s", "! sql-function"),
    ("SELECT * FROM products WHERE brand_id = title", "! sql-condition"),
    ("SELECT * FROM products", "! sql-no-where"),
    ("SELECT * FROM prods WHERE a = 1", "! sql-unknown-table"),
    ("SELECT * FROM products WHERE colour = :c", "! sql-unknown-column"),
    ("SELECT * FROM products p JOIN product_variants v ON v.sku = p.slug WHERE p.product_id = :i",
     "! sql-join"),
    ("SELECT * FROM products p JOIN catalog.brands b ON b.brand_id = p.brand_id "
     "WHERE p.product_id = :i", "! sql-join"),
    ("SELECT * FROM products p, product_variants v WHERE p.product_id = :i", "! sql-join"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at > :a AND created_at > :z",
     "! two-ranges"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at <= :a AND created_at < :z",
     "! two-ranges"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at BETWEEN :a AND :z "
     "AND created_at < :y", "! two-ranges"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at >= :a AND created_at < 5",
     "! sql-mixed-operands"),
    ("SELECT * FROM products WHERE brand_id = :b AND created_at BETWEEN :a AND 5",
     "! sql-mixed-operands"),
    ("SELECT * FROM products WHERE brand_id = :b ORDER BY created_at, title", "! sql-order"),
    ("SELECT * FROM products WHERE brand_id = :b ORDER BY lower(title)", "! sql-order"),
    ("SELECT brand_id, count(*) FROM products WHERE brand_id = :b GROUP BY brand_id",
     "! sql-unsupported sql-unsupported"),
    ("SELECT * FROM products WHERE brand_id = :b OFFSET 10", "! sql-unsupported"),
    ("SELECT * FROM products WHERE brand_id IN (SELECT brand_id FROM catalog.brands)",
     "! sql-unsupported sql-in"),
    ("DELETE FROM products WHERE product_id = :id", "! sql-statement"),
    ("SELECT * FROM products WHERE a = :a; SELECT 1", "! sql-statement"),
    ("SELECT * FROM products WHERE brand_id = = :b", "! sql-syntax"),
    ("SELECT * FROM products WHERE brand_id = 'open", "! sql-syntax"),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "expected"), FIXTURES, ids=[f[1][:40] for f in FIXTURES])
def test_translation(sql: str, expected: str) -> None:
    assert show(sql) == expected


def test_issue_offsets_point_at_the_construct() -> None:
    sql = "SELECT * FROM products\nWHERE brand_id = :b AND lower(slug) = :s"
    (issue,) = translate(sql, TABLES).issues
    assert sql[issue.offset :].startswith("lower(slug)")  # the function, not the line
    sql = "SELECT * FROM products WHERE brand_id = :b AND colour = :c"
    (issue,) = translate(sql, TABLES).issues
    assert sql[issue.offset :].startswith("colour")
    sql = "SELECT * FROM products WHERE brand_id = = :b"
    (issue,) = translate(sql, TABLES).issues
    assert issue.code == "sql-syntax" and 38 <= issue.offset <= 43


def test_condition_offsets_follow_the_sql() -> None:
    sql = "SELECT * FROM products WHERE brand_id = :b AND created_at >= :since"
    result = translate(sql, TABLES)
    assert [sql[c.offset :].split()[0] for c in result.where] == ["brand_id", "created_at"]


@pytest.mark.parametrize(
    ("sql", "at"),
    [
        ("SELECT * FROM products WHERE brand_id = :from AND colour >= :to", "colour"),
        ("SELECT * FROM products WHERE brand_id = :select AND lower(slug) = :order", "lower("),
        ("SELECT * FROM products WHERE brand_id = :limit OR status = :to", "brand_id"),
    ],
)
def test_offsets_after_keyword_parameters_point_at_the_sql_as_written(sql: str, at: str) -> None:
    (issue,) = translate(sql, TABLES).issues
    assert sql[issue.offset :].startswith(at), (issue, sql[issue.offset :])


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM products WHERE brand_id = = :b",
        "SELECT * FROM products WHERE brand_id = ",
        "SELECT * FROM products WHERE brand_id = (:b",
        "SELECT * FROM products WHERE brand_id = :b AND created_at >= AND created_at < :to",
        "SELECT * FROM products WHERE brand_id = 'open",
        'SELECT * FROM "products WHERE brand_id = :b',
    ],
)
def test_syntax_errors_are_in_our_words(sql: str) -> None:
    """Never sqlglot's internal text (`Required keyword: 'expression' missing for <class ...>`)."""
    (issue,) = translate(sql, TABLES).issues
    assert issue.code == "sql-syntax"
    assert "<class" not in issue.message and "Required keyword" not in issue.message
    assert "sqlglot" not in issue.message and "Error tokenizing" not in issue.message
    assert issue.hint and 0 <= issue.offset <= len(sql)


@pytest.mark.parametrize(
    ("sql", "message", "at"),
    [
        ("SELECT * FROM products WHERE brand_id IN (:a, 'x')", "brand_id IN (...)", "'x'"),
        ("SELECT * FROM products WHERE brand_id = :b AND title IS TRUE", "title IS TRUE", "title"),
    ],
)  # fmt: skip
def test_refusals_name_the_column_and_point_at_it(sql: str, message: str, at: str) -> None:
    (issue,) = translate(sql, TABLES).issues
    assert message in issue.message and issue.hint and "%(" not in issue.message
    assert sql[issue.offset :].startswith(at)


INNER_JOIN_CASES = [
    # (join text, warned): an item-collection read keeps a parent without children; SQL does
    # only when the join keeps the parent's side
    ("products p JOIN product_variants v ON v.product_id = p.product_id", True),
    ("products p INNER JOIN product_variants v ON v.product_id = p.product_id", True),
    ("products p LEFT JOIN product_variants v ON v.product_id = p.product_id", False),
    ("products p LEFT OUTER JOIN product_variants v ON v.product_id = p.product_id", False),
    ("products p RIGHT JOIN product_variants v ON v.product_id = p.product_id", True),
    ("products p FULL JOIN product_variants v ON v.product_id = p.product_id", False),
    ("product_variants v LEFT JOIN products p ON p.product_id = v.product_id", True),
    ("product_variants v RIGHT JOIN products p ON p.product_id = v.product_id", False),
    ("products JOIN product_variants USING (product_id)", True),
]


@pytest.mark.parametrize(("join", "warned"), INNER_JOIN_CASES)
def test_a_join_that_drops_a_parent_without_children_is_said(join: str, warned: bool) -> None:
    sql = f"SELECT * FROM {join} WHERE product_id = :id"
    if "USING" not in join:
        sql = sql.replace("WHERE product_id", "WHERE p.product_id")
    r = translate(sql, TABLES)
    assert not r.issues, [i.message for i in r.issues]
    assert r.entities == ("Product", "Variant")
    codes = [w.code for w in r.warnings]
    assert codes == (["sql-inner-join"] if warned else []), (sql, codes)
    if warned:
        # located in the join clause (the joined table, or USING's column)
        assert sql.index(" JOIN ") < r.warnings[0].offset < sql.index(" WHERE "), sql


def test_a_join_read_of_the_children_alone_is_not_warned() -> None:
    # the app joins the parent to filter by it and selects the child's columns: a child read,
    # whose rows are the SQL's rows whether or not the parent has children
    r = translate(
        "SELECT v.* FROM products p JOIN product_variants v ON v.product_id = p.product_id "
        "WHERE p.product_id = :id",
        TABLES,
    )
    assert not r.issues and r.entities == ("Variant",)
    assert r.warnings == []
