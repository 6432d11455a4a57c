"""`model init` writes `collation:` (issue 14): a column's COLLATE, a domain's, a user-defined
collation resolved through its definition, and the database default as `source.collation`,
from the DDL and from the catalog alike, so the compiler's collation-order check (and
`verify --collation source`) work on a seeded model."""

from __future__ import annotations

import io
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ruamel.yaml import YAML
from seed_pgload import load
from typer.testing import CliRunner

from modeling.api import check_text
from modeling.cli import app
from modeling.compile import compile_model
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.ddl import read_ddl

FIXTURE = Path(__file__).parents[1] / "fixtures" / "ddl" / "collations.sql"
runner = CliRunner()


def _seed(ddl: str) -> tuple[dict[str, Any], list[str]]:
    res = read_ddl(ddl, "t.sql")
    seeded = catalog_to_spec(res.catalog, model_name="m")
    doc = YAML(typ="safe").load(io.StringIO(dump_yaml(seeded.doc)))
    return doc, [d.code for d in seeded.diagnostics]


def _collation_warnings(text: str) -> dict[str, str]:
    """pattern → severity of its collation-order diagnostic, after validate + compile."""
    result = check_text(text, "m.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    layout, diags = compile_model(result.model)
    assert layout is not None and not diags.errors, [d.format() for d in diags.errors]
    return {d.subject or "": d.severity.name.lower() for d in diags if d.code == "collation-order"}


def test_column_domain_and_user_collations_from_ddl() -> None:
    doc, codes = _seed(
        """
        CREATE COLLATION public.phone (provider = icu, locale = 'de-u-co-phonebk');
        CREATE COLLATION ci (provider = icu, deterministic = false, locale = 'und-u-ks-level2');
        CREATE COLLATION public.bytes FROM "C";
        CREATE COLLATION public.posix_copy (lc_collate = 'POSIX', lc_ctype = 'POSIX');
        CREATE DOMAIN code AS text COLLATE "C";
        CREATE DOMAIN short_code AS code;
        CREATE TABLE t (
          id int PRIMARY KEY,
          de text COLLATE "de_DE",
          de_q varchar(9) COLLATE pg_catalog."de_DE" NOT NULL,
          phone text COLLATE public.phone,
          ci text COLLATE ci,
          b text COLLATE bytes,
          px text COLLATE posix_copy,
          dflt text COLLATE pg_catalog."default",
          plain text,
          c code,
          sc short_code,
          own short_code COLLATE "en_US",
          altered text,
          tags text[] COLLATE "C",
          login name,
          login_de name COLLATE "de_DE",
          n int
        );
        ALTER TABLE t ALTER COLUMN altered TYPE varchar(5) COLLATE "POSIX";
        """
    )
    attrs = doc["entities"]["T"]["attributes"]
    got = {a: (v.get("collation") if isinstance(v, dict) else None) for a, v in attrs.items()}
    assert got == {
        "id": None,
        "de": "de_DE",
        "de_q": "de_DE",
        "phone": "phone",
        "ci": "ci",
        "b": "C",  # FROM "C": byte order, whatever the collation is called
        "px": "C",
        "dflt": None,  # the database default: source.collation's business
        "plain": None,
        "c": "C",  # the domain's collation
        "sc": "C",  # a domain over that domain
        "own": "en_US",  # the column's COLLATE wins over the domain's
        "altered": "POSIX",
        "tags": None,  # a list is never a sort key
        "login": "C",  # the `name` type's own collation (pg_type.typcollation)
        "login_de": "de_DE",
        "n": None,
    }
    assert "source" not in doc  # a plain DDL file does not say the database default
    assert codes.count("SEED024") == 1  # the nondeterministic collation, once


@pytest.mark.parametrize(
    ("create", "expected"),
    [
        (
            "CREATE DATABASE d WITH TEMPLATE = template0 ENCODING = 'UTF8' "
            "LOCALE_PROVIDER = libc LOCALE = 'en_US.UTF-8';",
            "en_US.UTF-8",
        ),
        (
            "CREATE DATABASE d WITH TEMPLATE = template0 ENCODING = 'UTF8' "
            "LC_COLLATE = 'sv_SE.UTF-8' LC_CTYPE = 'sv_SE.UTF-8';",
            "sv_SE.UTF-8",
        ),
        (
            "CREATE DATABASE d WITH TEMPLATE = template0 ENCODING = 'UTF8' "
            "LOCALE_PROVIDER = icu LOCALE = 'C' ICU_LOCALE = 'de-DE';",
            "de-DE",
        ),
        (
            "CREATE DATABASE d WITH TEMPLATE = template0 ENCODING = 'UTF8' "
            "LOCALE_PROVIDER = builtin LOCALE = 'C.UTF-8' BUILTIN_LOCALE = 'C.UTF-8';",
            "C.UTF-8",
        ),
        ("CREATE DATABASE d LC_COLLATE 'C' TEMPLATE template0;", "C"),
    ],
)
def test_database_default_from_create_database(create: str, expected: str) -> None:
    doc, _ = _seed(create + "\nCREATE TABLE t (id int PRIMARY KEY, name text);")
    assert doc["source"]["collation"] == expected


def test_compile_warns_on_the_seeded_collations() -> None:
    """The fixture seeded from DDL: a range over a language collation warns, one over C, a
    user collation defined as C, or POSIX does not; the default collation is unknown (info)."""
    res = read_ddl(FIXTURE.read_text(encoding="utf-8"), str(FIXTURE))
    text = dump_yaml(catalog_to_spec(res.catalog, model_name="m").doc)
    assert _collation_warnings(text) == {
        "book_by_author_id_title": "warning",  # de-DE-x-icu
        "m": "info",  # subtitle: no COLLATE, and the file does not say the database default
    }
    # the same schema under a database whose default is known to be byte order: only title
    with_db = "CREATE DATABASE m WITH LOCALE = 'C';\n" + FIXTURE.read_text(encoding="utf-8")
    text = dump_yaml(catalog_to_spec(read_ddl(with_db).catalog, model_name="m").doc)
    assert _collation_warnings(text) == {"book_by_author_id_title": "warning"}


def _init(args: list[str]) -> str:
    res = runner.invoke(app, ["init", *args])
    assert res.exit_code == 0, res.output
    return res.output


def _data(path: Path) -> Any:
    doc = YAML(typ="safe").load(path.read_text())
    doc.pop("description", None)
    doc["source"].pop("ddl", None)
    doc["source"].pop("database", None)
    return doc


def test_pg_dump_of_an_icu_database_and_the_database_give_the_same_collations(
    postgres: Any, tmp_path: Path
) -> None:
    """A database whose default is ICU de-DE: `pg_dump --create --schema-only` of it and the
    live catalog seed the same model, `source.collation: de-DE` included, and the compiler
    then warns on the column that follows the default too."""
    name = f"icu_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C'"
        )
    dsn = postgres.dsn_for(name)
    assert load(dsn, FIXTURE) == []  # every statement ran
    dump = tmp_path / "dump.sql"
    subprocess.run(
        [str(postgres.bindir / "pg_dump"), "--create", "--schema-only", "-f", str(dump), dsn],
        check=True,
        capture_output=True,
    )
    from_dump, from_db = tmp_path / "dump.yaml", tmp_path / "db.yaml"
    _init(["--from-ddl", str(dump), "-o", str(from_dump), "--name", "m"])
    out = _init(["--from-db", dsn, "-o", str(from_db), "--name", "m"])
    assert "SEED024" in out  # the case-insensitive handle, from the catalog too
    dump_doc, db_doc = _data(from_dump), _data(from_db)
    assert dump_doc == db_doc
    assert db_doc["source"]["collation"] == "de-DE"
    book = db_doc["entities"]["Book"]["attributes"]
    assert book["title"]["collation"] == "de-DE-x-icu"
    assert book["shelf"]["collation"] == "C"  # public.bytes, read from pg_collation
    assert book["sku"]["collation"] == "C"  # the domain's, via attcollation
    assert db_doc["entities"]["Author"]["attributes"]["sort_name"]["collation"] == "german_phone"
    assert _collation_warnings(from_db.read_text()) == {
        "book_by_author_id_title": "warning",
        "book_by_author_id_subtitle": "warning",  # the ICU de-DE database default
    }
