"""DDL that changes what it made: migration histories (Prisma, diesel, Flyway, hand-written
upgrade scripts) concatenated into one file, as `init --from-ddl` users feed them.

Found on real histories (bench/real_dumps.py: documenso's 163 Prisma migrations, lemmy's 342
diesel migrations): dropped tables, indexes and constraints were still seeded (lemmy: 104
entities for 50 tables, one with 84 guessed patterns); a renamed key column lost the primary
key and every foreign key naming it; an enum grown by `ALTER TYPE … ADD VALUE` kept its first
values; `ALTER CONSTRAINT … NOT DEFERRABLE` beside `ALTER COLUMN … SET NOT NULL` lost the
NOT NULL; a table with 30 indexes gave a model our own compile refused (41 GSIs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from modeling.cli import app
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.ddl import read_ddl


def seeded(ddl: str) -> tuple[dict[str, Any], Any]:
    res = read_ddl(ddl, "m.sql")
    s = catalog_to_spec(res.catalog, model_name="m")
    return yaml.safe_load(dump_yaml(s.doc)), res


def test_dropped_tables_indexes_and_constraints_are_not_seeded() -> None:
    doc, _ = seeded(
        """
        CREATE TABLE a (id int PRIMARY KEY, code text, CONSTRAINT a_code_key UNIQUE (code));
        CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id), note text);
        CREATE INDEX b_note_idx ON b (note);
        CREATE TABLE gone (id int PRIMARY KEY, a_id int REFERENCES a);
        CREATE TABLE gone_too (id int PRIMARY KEY);
        DROP TABLE gone, public.gone_too CASCADE;
        DROP INDEX IF EXISTS public.b_note_idx;
        ALTER TABLE a DROP CONSTRAINT a_code_key;
        ALTER TABLE b DROP CONSTRAINT IF EXISTS b_a_id_fkey;
        """
    )
    assert set(doc["entities"]) == {"A", "B"}
    patterns = doc["access_patterns"]
    assert set(patterns) == {"get_a", "get_b"}, patterns
    assert "references" not in doc["entities"]["B"]["attributes"]["a_id"]


def test_pg_dump_clean_drops_ahead_of_the_creates_are_no_ops() -> None:
    doc, res = seeded(
        """
        DROP INDEX IF EXISTS public.t_x;
        ALTER TABLE IF EXISTS ONLY public.t DROP CONSTRAINT IF EXISTS t_pkey;
        DROP TABLE IF EXISTS public.t;
        CREATE TABLE public.t (id int NOT NULL, x text);
        ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
        CREATE INDEX t_x ON public.t (x);
        """
    )
    assert doc["entities"]["T"]["key"] == ["id"]
    assert set(doc["access_patterns"]) == {"get_t", "t_by_x"}
    assert not res.diagnostics.items


def test_a_renamed_key_column_keeps_its_keys_foreign_keys_and_indexes() -> None:
    doc, res = seeded(
        """
        CREATE TABLE a (id int PRIMARY KEY, code text UNIQUE);
        CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id), note text);
        CREATE INDEX b_note ON b (note);
        ALTER TABLE a RENAME COLUMN id TO a_key;
        ALTER TABLE b RENAME a_id TO parent;
        ALTER TABLE b RENAME COLUMN note TO remark;
        """
    )
    a, b = doc["entities"]["A"], doc["entities"]["B"]
    assert a["key"] == ["a_key"]
    assert b["attributes"]["parent"]["references"] == "A"
    patterns = doc["access_patterns"]
    assert patterns["get_a"]["where"] == {"a_key": "="}
    assert patterns["a_by_code"]["unique"] is True
    assert patterns["b_by_remark"]["where"] == {"remark": "="}
    assert not res.diagnostics.items


def test_constraints_keep_the_names_postgresql_gave_them() -> None:
    """An unnamed key is named when it is made (`b_a_id_fkey`); renaming the column or the
    table later does not rename it, so a later DROP CONSTRAINT finds it by that name."""
    doc, _ = seeded(
        """
        CREATE TABLE a (id int PRIMARY KEY);
        CREATE TABLE b (id int, a_id int REFERENCES a, code text UNIQUE, PRIMARY KEY (id));
        ALTER TABLE b RENAME COLUMN a_id TO parent;
        ALTER TABLE b RENAME COLUMN code TO c2;
        ALTER TABLE b RENAME TO c;
        ALTER TABLE c DROP CONSTRAINT b_a_id_fkey, DROP CONSTRAINT b_code_key;
        ALTER TABLE c DROP CONSTRAINT b_pkey;
        """
    )
    c = doc["entities"]["C"]
    assert "references" not in c["attributes"]["parent"]
    assert "c_by_c2" not in doc["access_patterns"]
    assert "get_c" not in doc["access_patterns"]  # no primary key any more: a guessed key


def test_a_dropped_column_takes_its_keys_and_the_foreign_keys_naming_it() -> None:
    doc, _ = seeded(
        """
        CREATE TABLE a (id int PRIMARY KEY, code text, note text, UNIQUE (code, note));
        CREATE TABLE b (id int PRIMARY KEY, a_code text, a_note text,
            FOREIGN KEY (a_code, a_note) REFERENCES a (code, note));
        CREATE INDEX a_note ON a (note);
        ALTER TABLE a DROP COLUMN note CASCADE;
        """
    )
    assert "note" not in doc["entities"]["A"]["attributes"]
    assert set(doc["access_patterns"]) == {"get_a", "get_b"}


def test_one_unreadable_alter_action_never_loses_the_others() -> None:
    doc, res = seeded(
        """
        CREATE TABLE a (id int PRIMARY KEY);
        CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a, note text);
        ALTER TABLE b
            ALTER CONSTRAINT b_a_id_fkey NOT DEFERRABLE,
            ALTER COLUMN note SET NOT NULL,
            VALIDATE CONSTRAINT b_a_id_fkey;
        ALTER TABLE b ALTER COLUMN nope SET NOT NULL, ALTER COLUMN a_id SET NOT NULL;
        """
    )
    attrs = doc["entities"]["B"]["attributes"]
    assert attrs["note"] in ("string", {"type": "string"}), attrs["note"]  # required now
    assert attrs["a_id"].get("required", True) is True
    # the one action that names a column that does not exist is said, with its line
    problems = [d for d in res.diagnostics.items if d.code == "SEED001"]
    assert len(problems) == 1 and "nope" in problems[0].message
    assert problems[0].span.line == 8


def test_enums_grown_renamed_and_swapped_the_prisma_way() -> None:
    doc, res = seeded(
        """
        CREATE TYPE "Mood" AS ENUM ('sad', 'ok');
        ALTER TYPE "Mood" ADD VALUE 'happy' AFTER 'ok';
        ALTER TYPE "Mood" ADD VALUE IF NOT EXISTS 'meh' BEFORE 'sad';
        ALTER TYPE "Mood" ADD VALUE IF NOT EXISTS 'sad';
        ALTER TYPE "Mood" RENAME VALUE 'ok' TO 'fine';
        CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN', 'OLD');
        CREATE TABLE "User" (id int PRIMARY KEY, mood "Mood", role "Role" NOT NULL,
            roles "Role"[]);
        CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN', 'OWNER');
        ALTER TABLE "User" ALTER COLUMN role TYPE "Role_new" USING (role::text::"Role_new"),
            ALTER COLUMN roles TYPE "Role_new"[] USING (roles::text[]::"Role_new"[]);
        ALTER TYPE "Role" RENAME TO "Role_old";
        ALTER TYPE "Role_new" RENAME TO "Role";
        DROP TYPE "Role_old";
        """
    )
    attrs = doc["entities"]["User"]["attributes"]
    assert attrs["mood"]["enum"] == ["meh", "sad", "fine", "happy"]
    assert attrs["role"]["enum"] == ["USER", "ADMIN", "OWNER"]
    assert "unknown type" not in dump_yaml(catalog_to_spec(res.catalog, model_name="m").doc)


def test_drop_type_cascade_drops_its_columns_and_without_cascade_keeps_the_type() -> None:
    doc, _ = seeded(
        """
        CREATE TYPE a AS ENUM ('x');
        CREATE TYPE b AS ENUM ('y');
        CREATE TABLE t (id int PRIMARY KEY, ca a, cb b);
        DROP TYPE a CASCADE;
        DROP TYPE b;
        """
    )
    attrs = doc["entities"]["T"]["attributes"]
    assert "ca" not in attrs
    assert attrs["cb"]["enum"] == ["y"]  # PostgreSQL refuses to drop a type in use


def test_renamed_indexes_and_tables_moved_to_another_schema() -> None:
    doc, _ = seeded(
        """
        CREATE SCHEMA app;
        CREATE TABLE t (id int PRIMARY KEY, x text, y text);
        CREATE INDEX t_x ON t (x);
        CREATE INDEX t_y ON t (y);
        ALTER INDEX t_x RENAME TO t_x_renamed;
        DROP INDEX t_x;
        DROP INDEX t_y;
        ALTER INDEX t_pkey RENAME TO t_identity;
        ALTER TABLE t DROP CONSTRAINT t_identity;
        ALTER TABLE t SET SCHEMA app;
        """
    )
    t = doc["entities"]["T"]
    assert t.get("schema") == "app"
    assert set(doc["access_patterns"]) == {"t_by_x"}


def test_alters_of_a_create_table_as_are_not_reported_again() -> None:
    """`CREATE TABLE t AS SELECT …` has no column list: one warning, and the ALTERs that
    follow (lemmy adds its keys so) are not each reported as a missing column."""
    _, res = seeded(
        """
        CREATE TABLE src (id int PRIMARY KEY);
        CREATE TABLE t AS SELECT id FROM src;
        ALTER TABLE t ALTER COLUMN id SET NOT NULL, ADD PRIMARY KEY (id);
        """
    )
    codes = [(d.code, d.span.line) for d in res.diagnostics.items]
    assert codes == [("SEED001", 3)], codes


def test_an_entity_with_more_patterns_than_gsis_still_compiles(tmp_path: Path) -> None:
    """30 single-column indexes on one table: the seeded model needs at most 20 GSIs; the
    patterns left out are said (SEED032) and listed in the report, the application's own
    queries (--queries) kept first."""
    cols = [f"c{i:02d}" for i in range(30)]
    ddl = tmp_path / "m" / "wide.sql"
    ddl.parent.mkdir()
    ddl.write_text(
        "CREATE TABLE t (id int PRIMARY KEY, u text UNIQUE, "
        + ", ".join(f"{c} int" for c in cols)
        + ");\n"
        + "".join(f"CREATE INDEX t_{c} ON t ({c});\n" for c in cols)
    )
    queries = tmp_path / "q.sql"
    queries.write_text("SELECT * FROM t WHERE c29 = $1;\n")
    model, report = tmp_path / "m" / "model.yaml", tmp_path / "r.json"
    args = ["init", "--from-ddl", ddl, "--queries", queries, "-o", model, "--report", report]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "[SEED032]" in result.output and "would not pass" not in result.output
    doc = yaml.safe_load(model.read_text())
    patterns = doc["access_patterns"]
    off_table = [n for n in patterns if n != "get_t"]
    assert len(off_table) == 20
    assert "t_by_u" in patterns and "t_by_c29" in patterns  # unique first, the query kept
    left = [n for n in json.loads(report.read_text())["not_turned_into_patterns"] if "pattern" in n]
    assert len(left) == 31 - 20  # the guess the query brought back is not listed
    assert "t_by_c29" not in {n["pattern"] for n in left}
    compiled = CliRunner().invoke(app, ["compile", str(model), "-o", str(tmp_path / "out")])
    assert compiled.exit_code == 0, compiled.output


def test_keys_made_from_an_index_and_impossible_length_checks() -> None:
    """`ADD CONSTRAINT … PRIMARY KEY USING INDEX i` (the index built CONCURRENTLY first) was a
    skipped statement and the key a guess; `CHECK (length(c) > 10^26)` seeded a `min_length`
    no DynamoDB item (400 KB) can hold."""
    doc, res = seeded(
        """
        CREATE TABLE p (id int NOT NULL, code text NOT NULL,
            big text CHECK (length(big) > 99999999999999999999999999),
            small text CHECK (length(small) >= 2));
        CREATE UNIQUE INDEX CONCURRENTLY p_id_idx ON p (id);
        ALTER TABLE p ADD CONSTRAINT p_pkey PRIMARY KEY USING INDEX p_id_idx;
        CREATE UNIQUE INDEX p_code_idx ON p (code);
        ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE USING INDEX p_code_idx;
        """
    )
    p = doc["entities"]["P"]
    assert p["key"] == ["id"]
    assert set(doc["access_patterns"]) == {"get_p", "p_by_code"}
    assert doc["access_patterns"]["p_by_code"]["unique"] is True
    assert "min_length" not in p["attributes"]["big"]
    assert p["attributes"]["small"]["min_length"] == 2
    assert not res.diagnostics.items


def test_inherited_columns_and_a_create_if_not_exists_of_an_existing_table() -> None:
    """`INHERITS (base)`: the child was seeded with its own columns only and a guessed key
    on them; `CREATE TABLE IF NOT EXISTS` of a table made before added its columns, which
    PostgreSQL never does."""
    doc, _ = seeded(
        """
        CREATE TABLE base (id int PRIMARY KEY, kind text NOT NULL, note text);
        CREATE TABLE child (extra text, note text NOT NULL) INHERITS (base);
        CREATE TABLE t (id int PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, other int);
        """
    )
    child = doc["entities"]["Child"]
    assert list(child["attributes"]) == ["id", "kind", "note", "extra"]
    assert child["attributes"]["note"] in ("string", {"type": "string"})  # NOT NULL merged
    assert child["key"] == ["id"]
    assert list(doc["entities"]["T"]["attributes"]) == ["id"]


def test_patterns_sharing_a_key_are_not_left_out(tmp_path: Path) -> None:
    """21 index patterns that need 20 GSI keys (`c00 =` and `c00 =, c01 between` share one,
    c01 being NOT NULL) compile as they are; none is left out. With c01 nullable they cannot
    share (the GSI would leave out the rows without c01), and one is."""
    (tmp_path / "m").mkdir()
    for not_null, count in ((True, 22), (False, 21)):  # get_t, t_by_u, 19 columns, (c00, c01)
        cols = [f"c{i:02d} int" + (" NOT NULL" if not_null and i == 1 else "") for i in range(19)]
        ddl = tmp_path / "m" / f"fees_{not_null}.sql"
        ddl.write_text(
            "CREATE TABLE t (id int PRIMARY KEY, u text UNIQUE, "
            + ", ".join(cols)
            + ");\n"
            + "".join(f"CREATE INDEX t_c{i:02d} ON t (c{i:02d});\n" for i in range(19))
            + "CREATE INDEX t_c00_c01 ON t (c00, c01);\n"
        )
        model = tmp_path / "m" / f"model_{not_null}.yaml"
        result = CliRunner().invoke(app, ["init", "--from-ddl", str(ddl), "-o", str(model)])
        assert result.exit_code == 0, result.output
        assert ("[SEED032]" in result.output) is not not_null, result.output
        assert "would not pass" not in result.output, result.output
        patterns = yaml.safe_load(model.read_text())["access_patterns"]
        assert len(patterns) == count
        out = tmp_path / f"out_{not_null}"
        compiled = CliRunner().invoke(app, ["compile", str(model), "-o", str(out)])
        assert compiled.exit_code == 0, compiled.output
