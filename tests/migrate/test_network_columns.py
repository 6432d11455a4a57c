"""`inet` / `cidr` columns (string attributes, as `model init --from-ddl` maps them): psycopg
loads them as `ipaddress` objects, which the transformers refused, so every row holding one
was a dead letter (GitLab's `personal_access_token_last_used_ips.ip_address` in `model
migrate demo`). The migration's reader loads them as PostgreSQL's text: no dead letter, the
items hold exactly PostgreSQL's output of the value (`10.0.0.1`; `::text` would add `/32`), and validate agrees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.migrate import transformers
from modeling.migrate.plan import make_plan
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate

pytestmark = pytest.mark.e2e

MODEL = """\
model: hosts
table: {name: Hosts}
source: {dialect: postgres}
entities:
  Host:
    table: hosts
    key: [host_id]
    attributes:
      host_id: integer
      address: string
      network: {type: string, required: false}
access_patterns:
  get_host:
    entity: Host
    where: {host_id: "="}
    unique: true
  by_address:
    entity: Host
    where: {address: "="}
"""

VALUES = [
    ("10.0.0.1", "10.0.0.0/8"),
    ("10.1.2.3/24", None),
    ("2001:db8::5", "2001:db8::/32"),
    ("::ffff:1.2.3.4", "192.168.0.0/16"),  # Python < 3.13 prints ::ffff:102:304
    ("fe80::1/64", "::/0"),
]


def test_inet_and_cidr_rows_migrate_as_postgres_text(dual_write: Any, tmp_path: Path) -> None:
    hosts = dual_write(
        MODEL,
        "CREATE TABLE hosts (host_id bigint PRIMARY KEY, address inet NOT NULL, network cidr)",
    )
    model, layout, dsn = hosts.model, hosts.layout, hosts.dsn
    with psycopg.connect(dsn) as conn:
        for i, (address, network) in enumerate(VALUES, 1):
            conn.execute("INSERT INTO hosts VALUES (%s, %s::inet, %s::cidr)", (i, address, network))
        expected = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                "SELECT host_id, format('%s', address), nullif(format('%s', network), '') FROM hosts"
            )
        }
    table, client = hosts.table, hosts.client
    module = transformers.generate(layout, model)
    make_plan(dsn, model, tmp_path / "plan", chunk_size=25)
    dead = tmp_path / "dead.jsonl"
    options = RunOptions(progress=False, dead_letter=dead, batch_size=10)
    report = Runner(model, layout, dsn, client, tmp_path / "ckpt", options, table, module).run(
        tmp_path / "plan"
    )
    assert report.dead_letters == 0, dead.read_text(encoding="utf-8")
    assert report.items_written == len(VALUES)
    items = client.scan(TableName=table)["Items"]
    got = {
        int(i["host_id"]["N"]): (i["address"]["S"], i.get("network", {}).get("S")) for i in items
    }
    assert got == expected
    result = validate(model, layout, dsn, client, None, table, dead_letter=dead, module=module)
    totals = result.totals()
    assert (totals["missing"], totals["mismatched"], totals["extra"]) == (0, 0, 0), (
        result.markdown()
    )
    assert totals["checked"] == len(VALUES)
