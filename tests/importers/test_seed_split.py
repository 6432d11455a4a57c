"""Statement splitting: what can hide a `;`, psql meta-commands and COPY data."""

from __future__ import annotations

from modeling.pg.split import split_statements


def texts(src: str) -> list[str]:
    return [s.text for s in split_statements(src) if s.kind == "sql"]


def test_dollar_quoted_bodies_keep_semicolons() -> None:
    src = (
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n"
        "CREATE FUNCTION g() RETURNS int AS $body$ SELECT 'x;'; $$ not the end $body$;\n"
        "SELECT 1;"
    )
    out = texts(src)
    assert len(out) == 3
    assert out[1].endswith("$body$")
    assert out[2] == "SELECT 1"


def test_strings_identifiers_and_comments_hide_semicolons() -> None:
    src = (
        "INSERT INTO t VALUES ('a;b', 'it''s;', E'back\\';slash');\n"
        'CREATE TABLE "we;ird" (x int); -- trailing; comment\n'
        "/* block; /* nested; */ still; */ SELECT 2;"
    )
    out = texts(src)
    assert out == [
        "INSERT INTO t VALUES ('a;b', 'it''s;', E'back\\';slash')",
        'CREATE TABLE "we;ird" (x int)',
        "SELECT 2",
    ]


def test_lines_are_one_based_and_point_at_the_code() -> None:
    src = "-- header\n\n  CREATE TABLE a (x int);\nSELECT\n 1;"
    sts = split_statements(src)
    assert [(s.line, s.col) for s in sts] == [(3, 3), (4, 1)]


def test_meta_commands_are_separate_and_not_sql() -> None:
    src = "\\c mydb\nCREATE TABLE a (x int);\n\\copy a FROM 'a.csv' WITH CSV\n\\pset null x\nSELECT 1;"
    sts = split_statements(src)
    assert [(s.kind, s.line) for s in sts] == [
        ("meta", 1),
        ("sql", 2),
        ("meta", 3),
        ("meta", 4),
        ("sql", 5),
    ]


def test_copy_from_stdin_data_is_skipped_not_parsed() -> None:
    src = (
        "CREATE TABLE a (x text);\n"
        "COPY public.a (x) FROM stdin;\n"
        "x;y;'unterminated\n"
        "CREATE TABLE not_a_table;\n"
        "\\.\n"
        "CREATE TABLE b (y int);\n"
    )
    sts = split_statements(src)
    kinds = [(s.kind, s.line) for s in sts]
    assert kinds == [("sql", 1), ("sql", 2), ("copy_data", 3), ("sql", 6)]
    assert "not_a_table" in sts[2].text
    assert sts[3].text == "CREATE TABLE b (y int)"


def test_unterminated_quote_runs_to_the_end_as_one_statement() -> None:
    sts = split_statements("SELECT 1;\nSELECT 'oops;\nSELECT 3;")
    assert [s.line for s in sts] == [1, 2]


def test_positional_parameters_are_not_dollar_quotes() -> None:
    assert texts("SELECT $1; SELECT $2;") == ["SELECT $1", "SELECT $2"]


def test_the_lexer_s_jumps_keep_every_token_whole() -> None:
    """The lexer jumps from one `;`-hiding character to the next (issue 18): a lone `-` or
    `/`, `"a""b"` and `'a''b'` doubled quotes, a backslash in a plain string (not an escape),
    a comment inside a statement, nested comments and quotes running to the end of the file."""
    src = (
        "SELECT 1 - 2 / 3, \"a\"\";\"\"b\", 'x''; y', 'c:\\' /* ; /* ; */ ; */ -- ;\n"
        ", $1 ;\n"
        "SELECT e'\\\\'; SELECT 'tail\\"
    )
    sts = split_statements(src)
    assert [(s.text, s.line, s.terminated) for s in sts] == [
        (
            "SELECT 1 - 2 / 3, \"a\"\";\"\"b\", 'x''; y', 'c:\\' /* ; /* ; */ ; */ -- ;\n, $1",
            1,
            True,
        ),
        ("SELECT e'\\\\'", 3, True),
        ("SELECT 'tail\\", 3, False),
    ]
    assert [s.text for s in split_statements("SELECT /* /* ; */ open")] == [
        "SELECT /* /* ; */ open"
    ]
    assert [s.terminated for s in split_statements('SELECT "open ; x')] == [False]
    assert [s.text for s in split_statements("SELECT E'a\\'; b'; SELECT 2")] == [
        "SELECT E'a\\'; b'",
        "SELECT 2",
    ]
