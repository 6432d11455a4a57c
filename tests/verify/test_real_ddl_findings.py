"""`model verify --postgres local` on real DDL nobody here wrote (bench/real_dumps.py):

- adventureworks: `PersonPhone` (key: person, phone number `varchar(25)`, kind) got two rows
  with one key: two key literals cut to 25 characters became one case value twice, and a
  rename onto them was no longer one-to-one, so the PostgreSQL load failed (exit 2);
- temporal: a value in a `char(64)` column and in a `varchar(16)` one was fitted to "exactly
  16 characters", which char(64) pads and returns changed (oracle mismatch); `timestamp`
  key columns came back naive while the sample rows are aware (three oracle mismatches on
  `get_timer_task`-like patterns).
"""

from __future__ import annotations

import collections
import contextlib
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from modeling.api import load_model
from modeling.core.ir import TypeRef
from modeling.sample.fit import StrBound, column_bounds, fit_to_source
from modeling.sample.generate import SampleOptions, _case_values, generate
from modeling.sample.rows import Dataset

PHONE_MODEL = """
model: phones
entities:
  Phone:
    key: [person_id, number, kind]
    attributes:
      person_id: integer
      number: {type: string, max_length: 5}
      kind: integer
access_patterns:
  phones_by_number:
    entity: Phone
    where: {number: "="}
"""


def test_case_values_cut_to_a_length_are_distinct() -> None:
    literals = ("PRODUCT_MODEL_A", "PRODUCT_MODEL_B", "PRODUCT_MODEL_C")
    values = _case_values(TypeRef("string"), random.Random(1), literals, True, StrBound(5))
    assert values and len(values) == len(set(values)), values
    assert all(len(v) <= 5 for v in values)


def test_keys_stay_unique_when_key_literals_share_a_cut_prefix(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(PHONE_MODEL, encoding="utf-8")
    model = load_model(tmp_path / "m.yaml")
    literals = ("PRODUCT_MODEL_A", "PRODUCT_MODEL_B", "PRODUCT_MODEL_C", "PRODUCT_X")
    bounds = {("Phone", "number"): StrBound(5)}
    for seed in range(8):
        data = generate(
            model, SampleOptions(seed=seed), frozenset(), literals=literals, bounds=bounds
        )
        keys = collections.Counter(
            (r["person_id"], r["number"], r["kind"]) for r in data.of("Phone")
        )
        assert not [k for k, n in keys.items() if n > 1], seed


SPLIT_DDL = """
CREATE TABLE public.runs (run_id char(8) NOT NULL PRIMARY KEY, encoding varchar(3));
CREATE TABLE public.tasks (task_id integer NOT NULL PRIMARY KEY, encoding varchar(3),
    run char(8));
"""

SPLIT_MODEL = """
model: split
source:
  dialect: postgres
  ddl: schema.sql
entities:
  Run:
    table: runs
    key: [run_id]
    attributes:
      run_id: string
      encoding: {type: string, required: false}
  Task:
    table: tasks
    key: [task_id]
    attributes:
      task_id: integer
      encoding: {type: string, required: false}
      run: {type: string, required: false}
"""


def test_a_value_in_a_char_n_column_and_a_narrower_one_fits_both(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(SPLIT_MODEL, encoding="utf-8")
    model = load_model(tmp_path / "m.yaml")
    shared = ["alpha", "beta", "gamma-long"]
    data = Dataset(
        {
            "Run": [{"run_id": v, "encoding": v} for v in shared],
            "Task": [{"task_id": i, "encoding": v, "run": v} for i, v in enumerate(shared)],
        }
    )
    fit_to_source(model, data, SPLIT_DDL)
    bounds = column_bounds(model, SPLIT_DDL)
    for entity in ("Run", "Task"):
        for row in data.of(entity):
            for attr, value in row.items():
                b = bounds.get((entity, attr))
                assert b is None or value is None or b.fits(value), (entity, attr, value)
    runs = [r["run_id"] for r in data.of("Run")]
    assert len(set(runs)) == 3 and all(len(v) == 8 for v in runs)
    # a char(8) reference still names its run: both sides got the char(8) value
    assert [r["run"] for r in data.of("Task")] == runs


TIMER_DDL = """
CREATE TABLE public.timer_tasks (
  shard_id integer NOT NULL,
  visibility_timestamp timestamp NOT NULL,
  task_id bigint NOT NULL,
  PRIMARY KEY (shard_id, visibility_timestamp, task_id)
);
"""

TIMER_MODEL = """
model: timers
source:
  dialect: postgres
  ddl: schema.sql
entities:
  TimerTask:
    table: timer_tasks
    key: [shard_id, visibility_timestamp, task_id]
    attributes:
      shard_id: integer
      visibility_timestamp: {type: datetime, timezone: false}
      task_id: integer
access_patterns:
  get_timer_task:
    entity: TimerTask
    where: {shard_id: "=", visibility_timestamp: "=", task_id: "="}
    unique: true
"""


@contextlib.contextmanager
def _scratch_db(postgres: Any) -> Iterator[Any]:
    import psycopg

    name = f"ts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    dsn = psycopg.conninfo.make_conninfo(postgres.dsn, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'Asia/Tokyo'")  # a server whose default is not UTC
        yield conn


def test_a_naive_timestamp_key_reads_back_as_the_same_instant(
    postgres: Any, tmp_path: Path
) -> None:
    from modeling.verify.postgres import prepare, run_pattern

    (tmp_path / "schema.sql").write_text(TIMER_DDL, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(TIMER_MODEL, encoding="utf-8")
    model = load_model(tmp_path / "m.yaml")
    at = datetime(2022, 12, 14, 15, 19, 33, tzinfo=timezone(timedelta(hours=14)))
    rows = [
        {"shard_id": -1, "visibility_timestamp": at, "task_id": 7},
        {"shard_id": 1, "visibility_timestamp": datetime(1, 1, 1, tzinfo=UTC), "task_id": 8},
    ]
    with _scratch_db(postgres) as conn:
        schema = prepare(conn, model, Dataset({"TimerTask": rows}), tmp_path / "schema.sql")
        assert schema.origin.startswith("source DDL"), schema.notes
        pattern = model.patterns[0]
        for row in rows:
            got = run_pattern(conn, model, schema, pattern, row)["TimerTask"]
            assert [r.key for r in got] == [
                (row["shard_id"], row["visibility_timestamp"], row["task_id"])
            ]


SPECIAL_DDL = """
CREATE TYPE mood AS ENUM ('sad');
ALTER TYPE mood ADD VALUE 'happy';
CREATE TABLE public.shifts (
  shift_id integer PRIMARY KEY,
  starts time NOT NULL,
  ends timetz,
  span interval,
  hosts inet[],
  nets cidr[],
  macs macaddr[] NOT NULL,
  mood mood,
  priorities smallint[],
  amounts numeric(4,2)[]
);
"""

SPECIAL_MODEL = """
model: shifts
source:
  dialect: postgres
  ddl: schema.sql
entities:
  Shift:
    table: shifts
    key: [shift_id]
    attributes:
      shift_id: integer
      starts: string
      ends: {type: string, required: false}
      span: {type: string, required: false}
      hosts: {type: list<string>, required: false}
      nets: {type: list<string>, required: false}
      macs: list<string>
      mood: {type: string, required: false, enum: [sad, happy]}
      priorities: {type: list<integer>, required: false}
      amounts: {type: list<decimal>, required: false}
access_patterns:
  shifts_by_starts:
    entity: Shift
    where: {starts: "="}
"""


def test_time_interval_and_address_arrays_hold_the_sample_rows(
    postgres: Any, tmp_path: Path
) -> None:
    """adventureworks' `shift.starttime time` and lago's `inet[]`: the sample strings were no
    times or addresses, PostgreSQL refused them and verify fell back to generated tables (and
    zync's `integer[]`: elements beyond int4);
    documenso's enum grown by `ALTER TYPE … ADD VALUE` refused a row holding the new value
    in the transaction that added it (UnsafeNewEnumValueUsage)."""
    from modeling.verify.postgres import prepare

    (tmp_path / "schema.sql").write_text(SPECIAL_DDL, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(SPECIAL_MODEL, encoding="utf-8")
    model = load_model(tmp_path / "m.yaml")
    from modeling.sample.fit import ddl_file_bounds, fit_to_ddl_file

    bounds = ddl_file_bounds(model, tmp_path / "schema.sql")
    data = generate(model, SampleOptions(seed=3), frozenset(), bounds=bounds)
    fit_to_ddl_file(model, data, tmp_path / "schema.sql")
    assert any(r.get("mood") == "happy" for r in data.of("Shift"))
    with _scratch_db(postgres) as conn:
        schema = prepare(conn, model, data, tmp_path / "schema.sql")
        assert schema.origin.startswith("source DDL"), schema.notes
        conn.execute("SET TIME ZONE 'UTC'")
        back = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT shift_id, starts::text, ends::text, span::text,"
                " array_to_string(hosts, ','), array_to_string(nets, ','),"
                " array_to_string(macs, ','), priorities, amounts FROM public.shifts"
            )
        }
    for row in data.of("Shift"):
        got = back[row["shift_id"]]
        want = [row.get(a) for a in ("starts", "ends", "span")] + [
            None if row.get(a) is None else ",".join(row[a]) for a in ("hosts", "nets", "macs")
        ]
        want += [row.get("priorities"), row.get("amounts")]
        assert list(got) == want, (got, want)


def test_a_numeric_wider_than_28_digits_has_its_exact_bounds() -> None:
    """lago's `decimal_value numeric(40,15)`: the bound's top, 10^25 - 10^-15, was computed in
    Python's default 28-digit context and rounded up to 10^25, so the boundary sample values
    overflowed the column (NumericValueOutOfRange) and verify fell back to generated tables."""
    from decimal import Decimal

    from modeling.pg.catalog import Catalog
    from modeling.sample.fit import DecBound, column_bound

    b = column_bound("decimal", "numeric(40,15)", Catalog(), "public")
    assert isinstance(b, DecBound)
    # within the column, and within DynamoDB's 38 significant digits (Prisma's DECIMAL(65,30):
    # 65-digit boundary values made BatchWriteItem refuse the load, a traceback)
    top = Decimal("9" * 23 + "." + "9" * 15)
    assert b.hi == top and b.lo == top.copy_negate()
    assert not b.fits(Decimal(10) ** 25) and b.fits(top)
    wide = column_bound("decimal", "numeric(65,30)", Catalog(), "public")
    assert isinstance(wide, DecBound) and len(wide.hi.as_tuple().digits) == 38
