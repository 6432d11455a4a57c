"""Findings of bench/real_dumps.py (real pg_dump / schema files of other projects, not in this
repo): each one a minimal DDL excerpt, written here, that seeded a model our own checks or
`verify` rejected."""

from __future__ import annotations

import yaml

from modeling.api import check_text
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.ddl import read_ddl


def _seed(ddl: str) -> tuple[dict, list[str]]:
    text = dump_yaml(catalog_to_spec(read_ddl(ddl, "dump.sql").catalog, model_name="d").doc)
    result = check_text(text, "d.yaml")
    assert result.ok, [d.format() for d in result.diagnostics]
    return yaml.safe_load(text), [d.format() for d in result.diagnostics]


def test_a_foreign_key_to_a_unique_column_that_is_not_the_key_writes_no_references() -> None:
    # danbooru: user_events.login_session_id uuid REFERENCES login_sessions(login_id), whose
    # key is `id bigint`; `references: LoginSession` made verify fill the uuid column with ids
    doc, diags = _seed(
        """
        CREATE TABLE login_sessions (id bigint PRIMARY KEY, login_id uuid NOT NULL UNIQUE);
        CREATE TABLE user_events (
          id bigint PRIMARY KEY,
          login_session_id uuid REFERENCES login_sessions (login_id),
          session_pk bigint REFERENCES login_sessions (id),
          session_any bigint REFERENCES login_sessions
        );
        """
    )
    attrs = doc["entities"]["UserEvent"]["attributes"]
    assert "references" not in attrs["login_session_id"]
    assert attrs["session_pk"]["references"] == "LoginSession"
    assert attrs["session_any"]["references"] == "LoginSession"
    assert not [d for d in diags if "reference-type" in d]
