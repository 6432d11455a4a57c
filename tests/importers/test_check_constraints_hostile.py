"""`min_lengths` on hostile CHECK constraints (issue 18): the condition is read by sqlglot's
parser, not scanned by hand, so quotes, parentheses and comments inside literals, comments in
the condition, casts, nesting, NOT, IN lists and regular expressions are read as PostgreSQL
reads them. A bound is claimed only when the CHECK proves it; anything else proves nothing."""

from __future__ import annotations

import time

import pytest

from modeling.pg.check_constraints import min_lengths
from modeling.pg.ddl import read_ddl


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        # string literals holding what a hand scanner trips on
        ("name <> '' AND note <> ')'", {"name": 1}),
        ("note <> '(' AND name <> ''", {"name": 1}),
        ("note <> 'it''s' AND name <> ''", {"name": 1}),
        ("note <> ' OR x <> ''''' AND name <> ''", {"name": 1}),
        ("note <> '-- AND' AND name <> ''", {"name": 1}),
        ("note <> '/* OR */' AND name <> ''", {"name": 1}),
        ("name <> ')' ", {}),
        ("name <> ''''", {}),  # a quote is not the empty string
        # comments in the condition
        ("length(name) > 0 /* OR name IS NULL */", {"name": 1}),
        ("name <> '' -- OR name IS NULL\n", {"name": 1}),
        ("/* leading */ name <> '' AND /* inner */ code <> ''", {"name": 1, "code": 1}),
        # nesting of AND / OR
        ("name <> '' AND (code <> '' AND (slug <> ''))", {"name": 1, "code": 1, "slug": 1}),
        ("(name <> '' OR code IS NULL) AND slug <> ''", {"slug": 1}),
        ("name <> '' AND code <> '' OR slug <> ''", {}),  # AND binds tighter: an OR at the top
        ("((((name <> ''))))", {"name": 1}),
        # casts, as pg_get_constraintdef writes them
        ("((name)::text <> ''::text)", {"name": 1}),
        ("((name)::character varying(20) <> ''::character varying)", {"name": 1}),
        ("(length((name)::text) >= 2)", {"name": 2}),
        ("name::bytea <> ''::bytea", {}),  # a cast to a non-string type: not read (conservative)
        # length functions and trimming
        ("length(btrim(name)) > 0", {"name": 1}),
        ("char_length(name) >= 1", {"name": 1}),
        ("character_length(trim(both from name)) > 4", {"name": 5}),
        ("length(ltrim(name, 'x')) >= 3", {"name": 3}),
        ("btrim(name) <> ''", {"name": 1}),
        ("0 < length(name)", {"name": 1}),
        ("3 <= char_length(name)", {"name": 3}),
        ("length(name) = 4", {"name": 4}),
        ("length(name) BETWEEN SYMMETRIC 9 AND 2", {"name": 2}),
        ("octet_length(name) > 8", {"name": 1}),
        ("length(name) > 0.5", {}),
        ("length(name) > -1", {}),
        ("length(t.name) > 3", {}),  # qualified: not this CHECK's column for sure
        # NOT of a comparison is the opposite comparison
        ("NOT (name = '')", {"name": 1}),
        ("NOT (length(name) < 3)", {"name": 3}),
        ("NOT (name <> '')", {}),
        ("NOT NOT (name <> '')", {"name": 1}),
        ("NOT (name IN ('', 'a'))", {}),
        # equality and IN lists: the shortest value
        ("code IN ('ab', 'abc')", {"code": 2}),
        ("code IN ('ab', '')", {}),
        ("code IN ('ab', NULL)", {}),
        ("code IN (1, 2)", {}),
        ("code NOT IN ('', 'a')", {}),
        ("(code = ANY (ARRAY['ab'::text, 'xyz'::text]))", {"code": 2}),
        ("code = 'abc '", {"code": 3}),  # char(n) ignores trailing spaces
        ("code = ''", {}),
        # regular expressions: only a pattern that cannot match '' proves non-empty
        ("code ~ '^[A-Z]{2}$'", {"code": 1}),
        ("code ~* '^[a-z0-9_-]+$'", {"code": 1}),
        ("code ~ '^[a-z]*$'", {}),
        ("code ~ 'a|'", {}),
        ("code !~ '^$'", {}),
        ("code ~ '^[[:alpha:]]+$'", {}),  # POSIX classes: not read by Python's re
        ("code ~ '(?=a)'", {}),
        # other literal spellings, and what is not a CHECK at all
        ("name <> $$$$", {"name": 1}),
        ("name <> E''", {"name": 1}),
        ("length(", {}),
        ("name <> 'unterminated", {}),
        ("", {}),
        ("CHECK (name <> '') NOT VALID", {"name": 1}),
        ("CHECK ((name <> ''::text)) NO INHERIT", {"name": 1}),
    ],
)
def test_hostile_checks(check: str, expected: dict[str, int]) -> None:
    assert min_lengths(check) == expected


def test_thousands_of_ands_and_parentheses_are_read_fast() -> None:
    many = " AND ".join(f"c{i} <> ''" for i in range(5_000))
    started = time.process_time()
    assert min_lengths(many) == {f"c{i}": 1 for i in range(5_000)}
    deep = "(" * 3_000 + "name <> ''" + ")" * 3_000
    assert min_lengths(deep) in ({"name": 1}, {})  # too deep for the parser proves nothing
    assert time.process_time() - started < 20  # a hang or a quadratic scan, not a benchmark


def test_a_table_check_with_hostile_text_seeds_the_right_columns() -> None:
    ddl = """
    CREATE TABLE t (
      id int PRIMARY KEY,
      name text CHECK (name <> '' /* ) OR ( */),
      code text,
      note text,
      CONSTRAINT c CHECK (note <> 'a'')--' AND length(code::text) >= 2 AND code ~ '^[a-z]+$')
    );
    """
    cols = read_ddl(ddl, "t.sql").catalog.tables[("public", "t")].columns
    assert (cols["name"].min_length, cols["code"].min_length, cols["note"].min_length) == (
        1,
        2,
        None,
    )
