"""`repository.py`: the generated dual-write data-access layer for the cutover.

The application swaps its PostgreSQL data access for this repository and walks three flags
(docs/runbook.md says when and what to check before each step):

| phase | flags                                          | writes            | reads          |
|-------|------------------------------------------------|-------------------|----------------|
| 0     | none                                           | PostgreSQL        | PostgreSQL     |
| 1     | writeToBothDatabases                           | PostgreSQL, then DynamoDB | PostgreSQL |
| 2     | writeToBothDatabases + readFromNewDatabase     | both              | DynamoDB       |
| 3     | writeToNewDatabase (+ readFromNewDatabase)     | DynamoDB          | DynamoDB       |

`shadowRead` reads both stores, returns the one the phase says, and logs every difference.
PostgreSQL writes run generated parameterized SQL (identifiers quoted here, values always bound
by psycopg) with `RETURNING` the row and its `xmin`; the DynamoDB write is the returned row
through the generated transformers, with `_version` from the entity's version source - the
model's `version` setting (`ir.Entity.version`), overridden by `MODEL_VERSION_COLUMN`, else xmin -
and the condition `attribute_not_exists(PK) OR _version < :v`, the same rule as the migration
backfill, so whichever of the two writes last, the newest version of a row stays. The version
rule itself (which attribute, and the integer stored) is modeling/runtime/versioning.py, shipped
verbatim beside the repository as `_versioning.py` (the worker Lambda ships the same copy).
"""

from __future__ import annotations

from pathlib import Path

from modeling.core import ir
from modeling.emit import FileManifest, register
from modeling.emit._python import comment_header, format_python, literal, render
from modeling.emit.transformers import entity_names
from modeling.extraction import quote_ident
from modeling.runtime import versioning

VERSIONING_SOURCE = Path(versioning.__file__)


def versioning_module(model: ir.Model) -> str:
    """`_versioning.py`: modeling/runtime/versioning.py verbatim under the generated header
    (one version rule for the runner, the repository and the worker Lambda)."""
    return (
        comment_header(model)
        + "# copied from modeling/runtime/versioning.py\n"
        + VERSIONING_SOURCE.read_text("utf-8")
    )


_qi = quote_ident  # a quoted PostgreSQL identifier, `%` doubled for psycopg placeholders


def _param(i: int) -> str:
    return f"%(p{i})s"


def _table(entity: ir.Entity) -> str:
    return f"{_qi(entity.schema)}.{_qi(entity.table)}" if entity.schema else _qi(entity.table)


def _is_json(t: ir.TypeRef) -> bool:
    """Stored as jsonb: maps and collections of maps or collections (scalar lists are arrays)."""
    if t.kind == "map":
        return True
    return t.item is not None and (t.item.kind == "map" or t.item.item is not None)


def entity_sql(entity: ir.Entity) -> dict[str, object]:
    """The SQL and metadata of one entity (parameters `p<i>` follow attribute order)."""
    attrs = entity.attributes
    index = {a.name: i for i, a in enumerate(attrs)}
    returning = ", ".join(
        _qi(a.column_name) if a.column_name == a.name else f"{_qi(a.column_name)} AS {_qi(a.name)}"
        for a in attrs
    )
    returning += ', xmin::text AS "__xmin"'
    table = _table(entity)
    where = " AND ".join(
        f"{_qi(entity.attribute(k).column_name)} = {_param(index[k])}"  # type: ignore[union-attr]
        for k in entity.key
    )
    cols = ", ".join(_qi(a.column_name) for a in attrs)
    values = ", ".join(_param(i) for i in range(len(attrs)))
    non_key = [a for a in attrs if a.name not in entity.key]
    conflict = ", ".join(_qi(entity.attribute(k).column_name) for k in entity.key)  # type: ignore[union-attr]
    updates = ", ".join(f"{_qi(a.column_name)} = EXCLUDED.{_qi(a.column_name)}" for a in non_key)
    upsert = f"INSERT INTO {table} ({cols}) VALUES ({values}) ON CONFLICT ({conflict}) " + (
        f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    )
    return {
        "key": tuple(entity.key),
        "attributes": tuple(a.name for a in attrs),
        "set_clauses": {a.name: f"{_qi(a.column_name)} = {_param(index[a.name])}" for a in non_key},
        "json": tuple(a.name for a in attrs if _is_json(a.type)),
        "sets": tuple(a.name for a in attrs if a.type.kind == "set"),
        "version": entity.version,
        "select": f"SELECT {returning} FROM {table} WHERE {where}",
        "insert": f"INSERT INTO {table} ({cols}) VALUES ({values}) RETURNING {returning}",
        "upsert": f"{upsert} RETURNING {returning}",
        # the SET list goes between these two: concatenated, never substituted into SQL text,
        # so a name holding `{sets}` (quoted identifiers may hold anything) cannot move it
        "update": (f"UPDATE {table} SET ", f" WHERE {where} RETURNING {returning}"),
        "delete": f"DELETE FROM {table} WHERE {where}",
    }


_TEMPLATE = '''
$header
"""Dual-write repository for model `$model` (table `$table`): the cutover from PostgreSQL.

Flags (from the environment, e.g. `MODEL_WRITE_TO_BOTH_DATABASES=1`, or a config mapping with keys):
`writeToBothDatabases`, `readFromNewDatabase`, `writeToNewDatabase`, `shadowRead`.
Phases, in order: none -> writeToBothDatabases -> + readFromNewDatabase -> writeToNewDatabase.
Item versions: per entity, `ENTITIES[e]["version"]` (the model's `version` setting; None =
PostgreSQL's xmin). `version_column=` / `MODEL_VERSION_COLUMN` (env) overrides it for every
entity that has that column (`xmin` forces xmin); it must match `model migrate run
--version-column`. Precedence: argument > env > entity `version:` > `source.version` > xmin.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import _versioning
from . import transformers as T
from ._versioning import VERSION_ATTRIBUTE, version_number

log = logging.getLogger(__name__)

TABLE_NAME = $table_literal
TABLE_KEY = $table_key
FLAG_NAMES = ("writeToBothDatabases", "readFromNewDatabase", "writeToNewDatabase", "shadowRead")
ENTITIES: dict[str, dict[str, Any]] = $entities
TABLE_KEY_OF = {
$table_key_of
}


class ConfigurationError(ValueError):
    """A flag combination that would read data nobody writes."""


@dataclass(frozen=True)
class Flags:
    write_to_both: bool = False
    read_from_new: bool = False
    write_to_new: bool = False
    shadow_read: bool = False

    @staticmethod
    def from_config(config: Mapping[str, Any]) -> Flags:
        unknown = set(config) - set(FLAG_NAMES)
        if unknown:
            raise ConfigurationError(f"unknown flags: {sorted(unknown)}; known: {FLAG_NAMES}")
        flags = Flags(
            bool(config.get("writeToBothDatabases", False)),
            bool(config.get("readFromNewDatabase", False)),
            bool(config.get("writeToNewDatabase", False)),
            bool(config.get("shadowRead", False)),
        )
        flags.check()
        return flags

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Flags:
        env = os.environ if env is None else env

        def on(name: str) -> bool:
            snake = "".join("_" + c if c.isupper() else c.upper() for c in name)
            return env.get(f"MODEL_{snake}", "").strip().lower() in ("1", "true", "yes", "on")

        return Flags.from_config({n: on(n) for n in FLAG_NAMES})

    def check(self) -> None:
        if self.read_from_new and not (self.write_to_both or self.write_to_new):
            raise ConfigurationError(
                "readFromNewDatabase needs writeToBothDatabases (or writeToNewDatabase): "
                "otherwise reads miss every new write"
            )

    @property
    def writes_postgres(self) -> bool:
        return not self.write_to_new

    @property
    def writes_dynamodb(self) -> bool:
        return self.write_to_both or self.write_to_new

    @property
    def reads_dynamodb(self) -> bool:
        return self.read_from_new or self.write_to_new


def version_attribute(entity: str, override: str | None) -> str | None:
    """The attribute versioning `entity`'s rows (None: xmin); the migration's rule."""
    spec = ENTITIES[entity]
    return _versioning.version_attribute(spec["version"], override, spec["attributes"])


class Repository:
    """Reads and writes rows of every entity according to the flags.

    `conn`: a psycopg connection (autocommit, or commit yourself); `dynamodb`: a boto3
    DynamoDB client. Rows are dicts keyed by attribute names, as the transformers take them.
    """

    def __init__(
        self,
        conn: Any,
        dynamodb: Any,
        flags: Flags | None = None,
        table_name: str = TABLE_NAME,
        version_column: str | None = None,
    ) -> None:
        self.conn = conn
        self.dynamodb = dynamodb
        self.flags = flags or Flags.from_env()
        self.flags.check()
        self.table_name = table_name
        self.version_column = version_column or os.environ.get("MODEL_VERSION_COLUMN") or None
        self.shadow_mismatches = 0
        self.dynamodb_write_failures = 0

    # ---------------------------------------------------------------- PostgreSQL

    @staticmethod
    def _params(entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        from psycopg.types.json import Jsonb

        spec = ENTITIES[entity]
        params: dict[str, Any] = {}
        for i, name in enumerate(spec["attributes"]):
            value = row.get(name)
            if value is not None and name in spec["json"]:
                value = Jsonb(value)
            elif value is not None and name in spec["sets"]:
                value = sorted(value)
            params[f"p{i}"] = value
        return params

    def _pg_row(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        from psycopg.rows import dict_row

        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            row = cur.fetchone() if cur.description else None
        return dict(row) if row is not None else None

    def _row_version(self, entity: str, row: dict[str, Any]) -> int:
        xmin = row.pop("__xmin", None)
        column = version_attribute(entity, self.version_column)
        if column and row.get(column) is not None:
            return version_number(row[column])
        return version_number(xmin) if xmin is not None else time.time_ns() // 1000

    # ---------------------------------------------------------------- DynamoDB

    def _key_of(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        return TABLE_KEY_OF[entity](row)

    def _put_item(self, entity: str, row: Mapping[str, Any], version: int) -> bool:
        item = T.to_item(entity, row)
        item[VERSION_ATTRIBUTE] = {"N": str(version)}
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#pk) OR #v < :v",
                ExpressionAttributeNames={"#pk": TABLE_KEY[0], "#v": VERSION_ATTRIBUTE},
                ExpressionAttributeValues={":v": item[VERSION_ATTRIBUTE]},
            )
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False  # the table already holds this or a newer version
            raise
        return True

    def _dual(self, entity: str, row: Mapping[str, Any], version: int) -> None:
        """The DynamoDB half of a dual write; PostgreSQL stays the truth when it fails."""
        try:
            self._put_item(entity, row, version)
        except Exception:
            self.dynamodb_write_failures += 1
            log.exception("dual write to DynamoDB failed for %s %s", entity, self._key_text(entity, row))
            raise

    @staticmethod
    def _key_text(entity: str, row: Mapping[str, Any]) -> str:
        return repr(tuple(row.get(k) for k in ENTITIES[entity]["key"]))

    # ---------------------------------------------------------------- writes

    def put(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """Insert or replace a row (every attribute); returns the row as stored."""
        spec = ENTITIES[entity]
        if self.flags.writes_postgres:
            stored = self._pg_row(spec["upsert"], self._params(entity, row))
            if stored is None:  # DO NOTHING: a key-only entity that already exists
                stored = self._pg_row(spec["select"], self._params(entity, row))
            assert stored is not None
            version = self._row_version(entity, stored)
            if self.flags.writes_dynamodb:
                self._dual(entity, stored, version)
            return stored
        stored = dict(row)
        self._put_item(entity, stored, self._new_version(entity, stored))
        return stored

    def insert(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a new row (PostgreSQL raises on a duplicate key)."""
        spec = ENTITIES[entity]
        if not self.flags.writes_postgres:
            return self.put(entity, row)
        stored = self._pg_row(spec["insert"], self._params(entity, row))
        assert stored is not None
        version = self._row_version(entity, stored)
        if self.flags.writes_dynamodb:
            self._dual(entity, stored, version)
        return stored

    def update(self, entity: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any] | None:
        """Change some attributes of a row; returns the new row, or None when it does not exist."""
        spec = ENTITIES[entity]
        unknown = set(changes) - set(spec["set_clauses"])
        if unknown:
            raise KeyError(f"{entity}: cannot update {sorted(unknown)} (unknown or key attributes)")
        if self.flags.writes_postgres:
            sets = ", ".join(spec["set_clauses"][name] for name in sorted(changes))
            head, tail = spec["update"]
            stored = self._pg_row(head + sets + tail, self._params(entity, {**key, **changes}))
            if stored is None:
                return None
            version = self._row_version(entity, stored)
            if self.flags.writes_dynamodb:
                self._dual(entity, stored, version)
            return stored
        current = self._get_dynamodb(entity, key)
        if current is None:
            return None
        new = {**current, **changes}
        self._put_item(entity, new, self._new_version(entity, new))
        return new

    def delete(self, entity: str, key: Mapping[str, Any]) -> None:
        spec = ENTITIES[entity]
        if self.flags.writes_postgres:
            with self.conn.cursor() as cur:
                cur.execute(spec["delete"], self._params(entity, key))
        if self.flags.writes_dynamodb:
            # the table key may use attributes beyond the entity key: take them from the item
            current = self._get_dynamodb(entity, key)
            row = {**(current or {}), **key}
            try:
                self.dynamodb.delete_item(TableName=self.table_name, Key=self._key_of(entity, row))
            except T.TransformError:
                log.warning("%s %s: no DynamoDB key to delete", entity, self._key_text(entity, row))

    def _new_version(self, entity: str, row: Mapping[str, Any]) -> int:
        """DynamoDB-only writes: the version attribute, else microseconds since the epoch."""
        column = version_attribute(entity, self.version_column)
        if column and row.get(column) is not None:
            return version_number(row[column])
        return time.time_ns() // 1000

    # ---------------------------------------------------------------- reads

    def _get_postgres(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        row = self._pg_row(ENTITIES[entity]["select"], self._params(entity, key))
        if row is not None:
            row.pop("__xmin", None)
        return row

    def _get_dynamodb(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key=self._key_of(entity, key), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        found, row = T.from_item(item)
        return dict(row) if found == entity else None

    def get(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """One row by key, from the store the phase reads (both, compared, in shadow mode)."""
        primary_new = self.flags.reads_dynamodb
        primary = self._get_dynamodb(entity, key) if primary_new else self._get_postgres(entity, key)
        if self.flags.shadow_read and self.flags.writes_postgres and self.flags.writes_dynamodb:
            other = self._get_postgres(entity, key) if primary_new else self._get_dynamodb(entity, key)
            self._compare(entity, key, self._pg_first(primary, other, primary_new))
        return primary

    @staticmethod
    def _pg_first(primary: Any, other: Any, primary_new: bool) -> tuple[Any, Any]:
        return (other, primary) if primary_new else (primary, other)

    def _compare(self, entity: str, key: Mapping[str, Any], rows: tuple[Any, Any]) -> None:
        pg, ddb = rows
        if pg is None and ddb is None:
            return
        if pg is None or ddb is None:
            diff = ["<missing in " + ("PostgreSQL" if pg is None else "DynamoDB") + ">"]
        else:
            a, b = T.to_item(entity, pg), T.to_item(entity, ddb)
            diff = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
        if diff:
            self.shadow_mismatches += 1
            log.warning("shadow read: %s %s differs: %s", entity, dict(key), ", ".join(diff))
'''


def repository_source(layout: ir.Layout, model: ir.Model) -> str:
    names = entity_names(model)
    table = next(i for i in layout.indexes if i.kind == "table")
    table_key = (table.pk.name,) if table.sk is None else (table.pk.name, table.sk.name)
    entities = {e.name: entity_sql(e) for e in model.entities}
    lines = [f"    {literal(e.name)}: T.{names[e.name].table_key}," for e in model.entities]
    return render(
        _TEMPLATE,
        header=comment_header(model).rstrip("\n"),
        model=model.name,
        table=layout.table_name,
        table_literal=literal(layout.table_name),
        table_key=literal(table_key),
        entities=repr(entities),
        table_key_of="\n".join(lines),
    )


@register("repository")
def emit_repository(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """`repository.py` next to the transformers (it imports them) and `_versioning.py`."""
    return {
        "repository.py": format_python(repository_source(layout, model)),
        "_versioning.py": format_python(versioning_module(model)),
    }
