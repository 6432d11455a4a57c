"""`model init` always writes a model `model validate` accepts and `model compile` compiles,
and the file is YAML any parser reads the same (issue 14, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from modeling.api import check_text
from modeling.compile import compile_model
from modeling.importers._seed import seed
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.ddl import read_ddl

HOSTILE = """
CREATE TABLE posts (
  id integer PRIMARY KEY,
  tag_ids integer[] NOT NULL,
  published boolean NOT NULL,
  author_id integer NOT NULL,
  data jsonb,
  ":arr->ow::cast" text
);
CREATE INDEX posts_tags ON posts USING gin (tag_ids);
CREATE INDEX posts_author_tags ON posts (author_id, tag_ids);
CREATE INDEX posts_author_published ON posts (author_id, published);
CREATE INDEX posts_data ON posts (data);
CREATE INDEX posts_ow ON posts (data->'ow');
CREATE INDEX posts_ow_cast ON posts (((data->>'ow')::integer));
CREATE TABLE search_docs (body tsvector);
COMMENT ON TABLE posts IS 'key: value # not a comment';
"""


def _seed(ddl: str) -> tuple[str, dict]:
    s = catalog_to_spec(read_ddl(ddl, "hostile.sql").catalog, model_name="hostile")
    return dump_yaml(s.doc), s.report


def test_hostile_ddl_seeds_a_model_that_validates_and_compiles() -> None:
    text, _ = _seed(HOSTILE)
    pyyaml = yaml.safe_load(text)
    assert pyyaml == YAML(typ="safe").load(text)
    result = check_text(text, "hostile.yaml")
    assert result.ok, [d.format() for d in result.diagnostics]
    assert result.model is not None
    _, diags = compile_model(result.model)
    assert not diags.errors, [d.format() for d in diags.errors]


def test_no_pattern_keys_a_list_map_or_ranges_a_boolean() -> None:
    text, report = _seed(HOSTILE)
    doc = yaml.safe_load(text)
    types = {
        a: (v if isinstance(v, str) else v["type"])
        for a, v in doc["entities"]["Post"]["attributes"].items()
    }
    for name, p in doc["access_patterns"].items():
        for attr, op in p["where"].items():
            assert not types[attr].startswith(("list<", "map")), name
            if types[attr] == "boolean":
                assert op == "=", name
    noted = {n["index"] for n in report["not_turned_into_patterns"]}
    assert {"posts_tags", "posts_author_tags", "posts_data", "posts_ow", "posts_ow_cast"} <= noted


def test_table_without_data_columns_is_a_note_not_an_empty_entity() -> None:
    text, report = _seed(HOSTILE)
    doc = yaml.safe_load(text)
    assert "SearchDoc" not in doc["entities"]
    assert any(t["table"] == "public.search_docs" for t in report["tables_not_seeded"])
    assert "search_docs" in text  # the file says why, as a comment


EXCERPT = """
CREATE TABLE orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL,
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES sales.customers (id)
);
CREATE TABLE lines (order_id integer REFERENCES orders, n integer, PRIMARY KEY (order_id, n));
"""


def test_foreign_key_to_a_table_outside_the_input_is_reported() -> None:
    s = catalog_to_spec(read_ddl(EXCERPT, "excerpt.sql").catalog, model_name="excerpt")
    found = [d for d in s.diagnostics.items if d.code == "SEED031"]
    assert len(found) == 1, [d.format() for d in s.diagnostics.items]
    assert "orders_customer_fk" in found[0].message
    assert "sales.customers" in found[0].message
    assert found[0].span is not None and found[0].span.line == 5
    assert s.report["foreign_keys_outside"] == [
        {
            "table": "public.orders",
            "foreign_key": "orders_customer_fk",
            "columns": ["customer_id"],
            "references": "sales.customers",
            "line": 5,
        }
    ]
    assert "sales.customers, which is not in the input" in dump_yaml(s.doc)


def test_summary_counts_foreign_keys_outside(tmp_path: Path) -> None:
    ddl = tmp_path / "excerpt.sql"
    ddl.write_text(EXCERPT)
    out = seed(ddl=ddl, output=tmp_path / "m.yaml")
    assert any("1 foreign key(s) to tables not in the input" in line for line in out.summary)


BOUNDED = """
CREATE TABLE codes (code varchar(5) PRIMARY KEY, country character(2) NOT NULL, label text);
CREATE TABLE notes (body text PRIMARY KEY);
"""


def _compiled(ddl: str) -> tuple[dict, list[str]]:
    s = catalog_to_spec(read_ddl(ddl, "bounded.sql").catalog, model_name="bounded")
    text = dump_yaml(s.doc)
    result = check_text(text, "bounded.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    _, diags = compile_model(result.model)
    return yaml.safe_load(text), [d.message for d in diags.items if d.code == "key-length-unknown"]


def test_varchar_bound_is_carried_and_quiets_key_length_unknown() -> None:
    doc, unknown = _compiled(BOUNDED)
    attrs = doc["entities"]["Code"]["attributes"]
    assert attrs["code"]["max_length"] == 5
    assert attrs["country"]["max_length"] == 2
    assert attrs["label"] == {"type": "string", "required": False}
    assert not any(m.startswith("Code:") for m in unknown), unknown
    # an unbounded text key still warns
    assert any(m.startswith("Note:") for m in unknown), unknown


def test_a_model_above_the_model_file_cap_is_a_warning_with_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 50,000 tables init writes a 32 MB model, above the 16 MB cap of a model file: the
    self-check (in memory) passes but `model validate` refuses the file, so init says so and
    names the setting. Before, init was silent and validate failed afterwards."""
    from typer.testing import CliRunner

    from modeling.cli import app
    from modeling.core.inputs import CAP_ENV

    ddl = tmp_path / "s.sql"
    ddl.write_text(
        "".join(f"CREATE TABLE t{i} (id bigint PRIMARY KEY, name text);\n" for i in range(30))
    )
    model = tmp_path / "m.yaml"
    monkeypatch.setenv(CAP_ENV, "0.002")  # ~2 KB: smaller than the 30-table model
    result = CliRunner().invoke(app, ["init", "--from-ddl", str(ddl), "-o", str(model)])
    assert result.exit_code == 0, result.output
    assert "[SEED052]" in result.output and f"{CAP_ENV}=1" in result.output, result.output
    code = CliRunner().invoke(app, ["validate", str(model)]).exit_code
    assert code == 2  # what the warning announced
    monkeypatch.setenv(CAP_ENV, "1")
    assert CliRunner().invoke(app, ["validate", str(model)]).exit_code == 0
    result = CliRunner().invoke(app, ["init", "--from-ddl", str(ddl), "-o", str(model)])
    assert result.exit_code == 0 and "SEED052" not in result.output, result.output
