"""Sample rows fitted to the source DDL's column types (modeling.sample.fit).

Unit: a small DDL (smallint key, int foreign key, varchar(5), numeric(6,2)) and rows that do not
fit it: after the fit every value fits, foreign keys still equal their parent's key, keys stay
distinct, values that fitted are unchanged, and two runs give the same rows.

e2e: real dumps (chinook, northwind) whose narrow columns used to make `prepare` fall back to
generated tables now hold the sample rows: the demo runs on the source DDL and validates clean.
"""

from __future__ import annotations

import contextlib
import copy
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.sample.fit import column_bounds, fit_to_source
from modeling.sample.generate import SampleOptions, generate
from modeling.sample.rows import Dataset

ROOT = Path(__file__).resolve().parents[2]
DDL_DIR = Path("/work/shared/ddl")

DDL = """
CREATE TABLE public.parents (
    parent_id smallint NOT NULL,
    code character varying(5) NOT NULL,
    price numeric(6,2),
    note text,
    CONSTRAINT parents_pkey PRIMARY KEY (parent_id)
);
CREATE TABLE public.children (
    child_id integer NOT NULL,
    parent_id smallint NOT NULL,
    code varchar(5),
    amount numeric(6,2) NOT NULL,
    CONSTRAINT children_pkey PRIMARY KEY (child_id)
);
ALTER TABLE ONLY public.children
    ADD CONSTRAINT children_parent_fkey FOREIGN KEY (parent_id) REFERENCES public.parents(parent_id);
"""

MODEL = """
model: fit-test
source:
  dialect: postgres
  ddl: schema.sql
entities:
  Parent:
    table: parents
    key: [parent_id]
    attributes:
      parent_id: integer
      code: string
      price: {type: decimal, required: false}
      note: {type: string, required: false}
  Child:
    table: children
    key: [child_id]
    parent: Parent
    attributes:
      child_id: integer
      parent_id: {type: integer, references: Parent}
      code: {type: string, required: false}
      amount: decimal
access_patterns:
  children_of_parent:
    entity: Child
    where: {parent_id: "="}
"""

INT2 = (-(2**15), 2**15 - 1)
INT4 = (-(2**31), 2**31 - 1)


@pytest.fixture
def model(tmp_path: Path) -> ir.Model:
    (tmp_path / "schema.sql").write_text(DDL, encoding="utf-8")
    path = tmp_path / "fit.yaml"
    path.write_text(MODEL, encoding="utf-8")
    return load_model(path)


def _dataset() -> Dataset:
    parents = [
        {"parent_id": 7, "code": "ok", "price": Decimal("12.50"), "note": "x" * 500},
        {"parent_id": 10**12, "code": "k1000003", "price": Decimal("1.234"), "note": None},
        {"parent_id": -(10**12), "code": "k1000004", "price": Decimal("987654.5"), "note": "n"},
        {"parent_id": 2**53 + 1, "code": "k10000", "price": None, "note": None},
        {"parent_id": 40000, "code": "𝄞𝄞𝄞𝄞𝄞𝄞", "price": Decimal("-0.005"), "note": None},
        {"parent_id": 32767, "code": "k1000", "price": Decimal("9999.99"), "note": None},
    ]
    children = []
    for i, p in enumerate(parents * 3):
        children.append(
            {
                "child_id": [5, 2**31, -(2**31) - 1, 10**12 + i, 2**53 + 1, i][i % 6] + i * 97,
                "parent_id": p["parent_id"],
                "code": p["code"] if i % 2 else None,  # the same strings as the parents'
                "amount": [Decimal("1.5"), Decimal("0.001"), Decimal("12345678.9")][i % 3],
            }
        )
    return Dataset({"Parent": parents, "Child": children})


def _fits(v: Any, kind: str, bound: tuple[Any, ...]) -> bool:
    if v is None:
        return True
    if kind == "int":
        return bound[0] <= v <= bound[1]
    if kind == "str":
        return len(v) <= bound[0]
    p, s = bound
    return v == v.quantize(Decimal(1).scaleb(-s)) and abs(v) < Decimal(10) ** (p - s)


def test_the_ddl_types_become_bounds(model: ir.Model) -> None:
    bounds = column_bounds(model, DDL)
    assert set(bounds) == {
        ("Parent", "parent_id"),
        ("Parent", "code"),
        ("Parent", "price"),
        ("Child", "child_id"),
        ("Child", "parent_id"),
        ("Child", "code"),
        ("Child", "amount"),
    }  # fmt: skip  (text is unbounded: no entry for Parent.note)


def test_every_value_fits_and_references_keys_and_fitting_values_hold(model: ir.Model) -> None:
    data = _dataset()
    before = copy.deepcopy(data.rows)
    notes = fit_to_source(model, data, DDL)
    assert len(notes) == 1 and "remapped" in notes[0], notes
    parents, children = data.of("Parent"), data.of("Child")

    for p in parents:
        assert _fits(p["parent_id"], "int", INT2)
        assert _fits(p["code"], "str", (5,))
        assert _fits(p["price"], "dec", (6, 2))
    for c in children:
        assert _fits(c["child_id"], "int", INT4)
        assert _fits(c["parent_id"], "int", INT2)
        assert _fits(c["code"], "str", (5,))
        assert _fits(c["amount"], "dec", (6, 2))

    # keys distinct, every child points at a parent, and at the same one as before
    parent_keys = [p["parent_id"] for p in parents]
    assert len(set(parent_keys)) == len(parents)
    assert len({c["child_id"] for c in children}) == len(children)
    old_to_new = {
        b["parent_id"]: p["parent_id"] for b, p in zip(before["Parent"], parents, strict=True)
    }
    for b, c in zip(before["Child"], children, strict=True):
        assert c["parent_id"] == old_to_new[b["parent_id"]]
    # the same string is remapped the same way in both entities (and stays distinct)
    codes = {b["code"]: p["code"] for b, p in zip(before["Parent"], parents, strict=True)}
    assert len(set(codes.values())) == len(codes)
    for b, c in zip(before["Child"], children, strict=True):
        if b["code"] is not None:
            assert c["code"] == codes[b["code"]]

    # values that fitted stay; an unbounded text column is untouched
    assert parents[0] == before["Parent"][0]
    assert parents[5]["parent_id"] == 32767 and parents[5]["price"] == Decimal("9999.99")
    assert parents[5]["code"] == "k1000"
    assert [p["note"] for p in parents] == [p["note"] for p in before["Parent"]]
    assert children[0]["child_id"] == 5 and children[0]["amount"] == Decimal("1.5")


def test_the_fit_is_deterministic(model: ir.Model) -> None:
    a, b = _dataset(), _dataset()
    assert fit_to_source(model, a, DDL) == fit_to_source(model, b, DDL)
    assert a.rows == b.rows


def test_generated_rows_fit_and_keep_their_references(model: ir.Model) -> None:
    data = generate(model, SampleOptions(seed=3, roots=30, fanout=3.0))
    fit_to_source(model, data, DDL)
    keys = {p["parent_id"] for p in data.of("Parent")}
    assert len(keys) == len(data.of("Parent"))
    for p in data.of("Parent"):
        assert _fits(p["parent_id"], "int", INT2) and _fits(p["code"], "str", (5,))
    for c in data.of("Child"):
        assert c["parent_id"] in keys
        assert _fits(c["child_id"], "int", INT4) and _fits(c["amount"], "dec", (6, 2))


def test_a_ddl_without_the_tables_or_unreadable_changes_nothing(model: ir.Model) -> None:
    for ddl in ("", "CREATE TABLE other (x smallint);", "\x00garbage ((( CREATE TABLE"):
        data = _dataset()
        before = copy.deepcopy(data.rows)
        fit_to_source(model, data, ddl)
        assert data.rows == before


def test_a_failure_is_a_note_and_leaves_the_rows(
    model: ir.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modeling.sample import fit

    def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(fit, "column_bounds", broken)
    data = _dataset()
    before = copy.deepcopy(data.rows)
    notes = fit_to_source(model, data, DDL)
    assert data.rows == before and len(notes) == 1 and "boom" in notes[0]


# --------------------------------------------------------------------------- e2e


def _seeded(name: str, tmp_path: Path) -> tuple[ir.Model, ir.Layout]:
    src = DDL_DIR / f"{name}.sql"
    if not src.is_file():
        pytest.skip(f"{src} not present")
    ddl = tmp_path / src.name  # beside the model: a source.ddl may not point outside its directory
    ddl.write_bytes(src.read_bytes())
    out = tmp_path / f"{name}.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "modeling.cli", "init", "--from-ddl", str(ddl), "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.is_file(), result.stdout[-2000:] + result.stderr[-2000:]
    model = load_model(out)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    return model, layout


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["chinook-autoinc-ddl", "northwind-ddl"])
def test_demo_uses_the_source_ddl_of_real_dumps(
    name: str, postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    from modeling.commands.migrate_demo import _client
    from modeling.workflows import demo

    model, layout = _seeded(name, tmp_path)
    options = demo.DemoOptions(rows=600, seed=5, table=f"FitDemo-{uuid.uuid4().hex[:8]}")
    work = tmp_path / "work"
    work.mkdir()
    report = demo.run_demo(
        model,
        layout,
        options,
        admin_dsn=postgres.dsn,
        endpoint=dynamodb_local.endpoint_url,
        client_factory=_client,
        work_dir=work,
    )
    text = "\n".join(report.lines())
    assert "could not hold the sample rows" not in text, text
    assert report.source.startswith("source DDL"), text
    assert any("fit to source DDL" in n for n in report.notes), report.notes
    totals = report.as_dict()["validation"]
    assert report.ok, text
    assert totals["missing"] == totals["mismatched"] == totals["stale"] == 0
    # every row the source holds at the end was checked: the sample, plus what the concurrent
    # application (through the dual-write repository) inserted, less what it deleted
    app = report.app_ops
    assert totals["checked"] == report.rows_total + app["inserts"] - app["deletes"] > 0
    # the application's edits keep within the DDL's varchar(n) too
    assert report.app_updates > 0 and report.app_errors == [], report.app_errors
    assert not app.get("errors"), app.get("errors")


def test_the_application_edit_keeps_within_a_bounded_column(model: ir.Model) -> None:
    from modeling.migrate.versioning import version_sources
    from modeling.workflows import demo

    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    parent = model.entity("Parent")
    assert parent is not None
    version = version_sources(model, None)["Parent"]
    plain = demo.update_statement(model, layout, parent, version)
    assert plain is not None and '"code" = "code" || %(suffix)s' in plain.sql
    bounded = demo.update_statement(model, layout, parent, version, {"code": 40})
    assert bounded is not None and '"code" = left("code", 31) || %(suffix)s' in bounded.sql
    # a column too short for the suffix is not edited: the next free-text one is
    short = demo.update_statement(model, layout, parent, version, {"code": 5})
    assert short is not None and '"note" = "note" || %(suffix)s' in short.sql


@contextlib.contextmanager
def _scratch_db(postgres: Any) -> Iterator[Any]:
    """An autocommit connection to a new, empty database of the test cluster."""
    import psycopg

    name = f"fit_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    dsn = psycopg.conninfo.make_conninfo(postgres.dsn, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


CHAR_DDL = """
CREATE TABLE public.currencies (
    code character(3) NOT NULL,
    name varchar(20),
    CONSTRAINT currencies_pkey PRIMARY KEY (code)
);
CREATE TABLE public.prices (
    price_id integer NOT NULL,
    code char(3) NOT NULL REFERENCES public.currencies(code),
    CONSTRAINT prices_pkey PRIMARY KEY (price_id)
);
"""

CHAR_MODEL = """
model: fit-char
source:
  dialect: postgres
  ddl: schema.sql
entities:
  Currency:
    table: currencies
    key: [code]
    attributes:
      code: string
      name: {type: string, required: false}
  Price:
    table: prices
    key: [price_id]
    attributes:
      price_id: integer
      code: {type: string, references: Currency}
access_patterns:
  prices_in_currency:
    entity: Price
    where: {code: "="}
"""


def test_char_n_values_read_back_from_postgresql_as_written(postgres: Any, tmp_path: Path) -> None:
    """char(n) pads with blanks: a fitted value has exactly n characters, so it reads back as is
    (a short or blank-ended value would come back padded and differ from the DynamoDB item)."""
    from modeling.verify.postgres import prepare

    (tmp_path / "schema.sql").write_text(CHAR_DDL, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(CHAR_MODEL, encoding="utf-8")
    model = load_model(tmp_path / "m.yaml")
    codes = ["EUR", "k1", "ab ", "a", "k1000003", "X", "USD"]
    data = Dataset(
        {
            "Currency": [{"code": c, "name": f"n{i}"} for i, c in enumerate(codes)],
            "Price": [{"price_id": i, "code": codes[i % len(codes)]} for i in range(20)],
        }
    )
    fit_to_source(model, data, CHAR_DDL)
    fitted = [r["code"] for r in data.of("Currency")]
    assert fitted[0] == "EUR" and fitted[-1] == "USD"  # values that fit stay
    assert all(len(c) == 3 and not c.endswith(" ") for c in fitted)
    assert len(set(fitted)) == len(codes)
    assert {r["code"] for r in data.of("Price")} == set(fitted)  # references follow their key

    with _scratch_db(postgres) as conn:
        schema = prepare(conn, model, data, tmp_path / "schema.sql")
        assert schema.origin.startswith("source DDL"), schema.notes
        back = sorted(r[0] for r in conn.execute("SELECT code FROM public.currencies"))
        refs = {r[0] for r in conn.execute("SELECT code FROM public.prices")}
    assert back == sorted(fitted) and refs == set(fitted)


INSTALL_DDL = """
SET client_encoding = latin1;
CREATE TABLE public.grades (
    grade_id integer NOT NULL,
    mark character(1) NOT NULL,
    label varchar(40),
    score integer CONSTRAINT ck_score CHECK (score BETWEEN 1 AND 5),
    CONSTRAINT grades_pkey PRIMARY KEY (grade_id)
);
CREATE TABLE public.reviews (
    review_id integer NOT NULL PRIMARY KEY,
    grade_id integer NOT NULL
);
-- an install script's own data, whose parents come from \\copy files that are not run
INSERT INTO public.reviews (review_id, grade_id) VALUES (1, 999999);
ALTER TABLE public.reviews ADD CONSTRAINT reviews_grade_fkey
    FOREIGN KEY (grade_id) REFERENCES public.grades(grade_id);
"""

INSTALL_MODEL = """
model: fit-install
source:
  dialect: postgres
  ddl: schema.sql
entities:
  Grade:
    table: grades
    key: [grade_id]
    attributes:
      grade_id: integer
      mark: string
      label: {type: string, required: false}
      score: {type: integer, required: false}
access_patterns:
  grade_by_mark:
    entity: Grade
    where: {mark: "="}
"""


def test_an_install_script_holds_the_sample_rows(postgres: Any, tmp_path: Path) -> None:
    """What made real install scripts (AdventureWorks) fall back, each met once: its own INSERT
    data (breaks its later foreign key), `SET client_encoding = latin1` (sample rows hold any
    Unicode), a CHECK the sample rows do not satisfy, and a char(1) key-like column with more
    distinct values than ASCII letters and digits."""
    from modeling.verify.postgres import prepare

    (tmp_path / "schema.sql").write_text(INSTALL_DDL, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(INSTALL_MODEL, encoding="utf-8")
    model = load_model(tmp_path / "m.yaml")
    rows = [
        {"grade_id": i, "mark": f"m{i}", "label": f"東京 {i} 𝄞", "score": 100 + i}
        for i in range(200)
    ]
    data = Dataset({"Grade": rows})
    notes = fit_to_source(model, data, INSTALL_DDL)
    marks = [r["mark"] for r in data.of("Grade")]
    assert len(set(marks)) == 200 and all(len(m) == 1 for m in marks), notes
    assert not any("no free value" in n for n in notes)

    with _scratch_db(postgres) as conn:
        schema = prepare(conn, model, data, tmp_path / "schema.sql")
        assert schema.origin.startswith("source DDL"), schema.notes
        assert any("CHECK constraint" in n and "ck_score" in n for n in schema.notes)
        back = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute("SELECT grade_id, mark, label, score FROM public.grades")
        }
        assert conn.execute("SELECT count(*) FROM public.reviews").fetchone() == (0,)
    assert back == {r["grade_id"]: (r["mark"], r["label"], r["score"]) for r in data.of("Grade")}


@pytest.mark.e2e
def test_the_application_edit_skips_a_string_attribute_of_a_non_character_column(
    postgres: Any, tmp_path: Path
) -> None:
    """GitLab's `personal_access_token_last_used_ips.ip_address` (inet, a string attribute):
    the demo's application appended its suffix to it and PostgreSQL refused every such UPDATE
    (`column "ip_address" is of type inet but expression is of type text`, an application
    error failing the demo). An inet column has no room for the suffix: the text one is edited."""
    import psycopg

    from modeling.migrate.versioning import version_sources
    from modeling.workflows import demo

    path = tmp_path / "ips.yaml"
    path.write_text(
        "model: ips\nsource: {dialect: postgres}\nentities:\n  Ip:\n    table: ips\n"
        "    key: [id]\n    attributes:\n      id: integer\n      address: string\n"
        "      label: {type: string, column: label_text}\n      code: string\n"
        "access_patterns:\n  get_ip:\n    entity: Ip\n    where: {id: '='}\n    unique: true\n",
        encoding="utf-8",
    )
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    dsn = postgres.create_database()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TABLE ips (id bigint PRIMARY KEY, address inet NOT NULL, "
            "label_text text NOT NULL, code varchar(40) NOT NULL)"
        )
        conn.execute("INSERT INTO ips VALUES (1, '10.0.0.1', 'home', 'c')")
    lengths = demo.column_lengths(dsn, model)
    assert lengths == {"Ip": {"address": 0, "code": 40}}
    entity = model.entity("Ip")
    assert entity is not None
    update = demo.update_statement(
        model, layout, entity, version_sources(model, None)["Ip"], lengths["Ip"]
    )
    assert update is not None and '"label_text" = "label_text" || %(suffix)s' in update.sql
    with psycopg.connect(dsn) as conn:  # and PostgreSQL takes it
        conn.execute(update.sql, update.params({"id": 1}))
        assert conn.execute("SELECT address::text, label_text FROM ips").fetchone() == (
            "10.0.0.1/32",
            "home" + demo.APP_SUFFIX,
        )
