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
What PostgreSQL's foreign key actions do to other rows (cascaded deletes, SET NULL / SET
DEFAULT, ON UPDATE CASCADE, through tables outside the model) is mirrored: the repository reads
the catalog's foreign keys once per instance and follows them (`Repository._effects`).
"""

from __future__ import annotations

from pathlib import Path

from modeling.compile import checks
from modeling.core import ir
from modeling.emit import FileManifest, register
from modeling.emit._python import comment_header, format_python, literal, render
from modeling.emit.client import pattern_methods
from modeling.emit.transformers import entity_names
from modeling.emit.transformers.common import copies_name
from modeling.extraction import quote_ident
from modeling.runtime import keys, loaders, versioning

VERSIONING_SOURCE = Path(versioning.__file__)
LOADERS_SOURCE = Path(loaders.__file__)


def versioning_module(model: ir.Model) -> str:
    """`_versioning.py`: modeling/runtime/versioning.py verbatim under the generated header
    (one version rule for the runner, the repository and the worker Lambda)."""
    return (
        comment_header(model)
        + "# copied from modeling/runtime/versioning.py\n"
        + VERSIONING_SOURCE.read_text("utf-8")
    )


def loaders_module(model: ir.Model) -> str:
    """`_loaders.py`: modeling/runtime/loaders.py verbatim under the generated header (the
    migration's reader, the worker Lambda and the repository load source values alike)."""
    return (
        comment_header(model)
        + "# copied from modeling/runtime/loaders.py\n"
        + LOADERS_SOURCE.read_text("utf-8")
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


def _slots(layout: ir.Layout, entity: ir.Entity) -> tuple[str, ...]:
    """The attributes the entity's table key is built from (template order, each once)."""
    el = layout.entity(entity.name)
    if el is None:
        return tuple(entity.key)
    table_key = el.keys[0]
    out: list[str] = []
    for template in (table_key.pk, table_key.sk):
        for slot in keys.parse_template(template).slots if template else ():
            if slot not in out:
                out.append(slot)
    return tuple(out)


def entity_sql(
    entity: ir.Entity, slots: tuple[str, ...] = (), moved: tuple[str, ...] = ()
) -> dict[str, object]:
    """The SQL and metadata of one entity (parameters `p<i>` follow attribute order).

    `slots`: the attributes its table key is built from; `moved`: those its relationship
    copies' keys are built from (`ir.CopyItems`). `update` also returns the row's values of
    both before the change (`__old_<name>`, read under the row lock), so a change of a key
    attribute is seen and the item (or copy) moved; `delete` returns the deleted row and the id of
    the deleting transaction (`__xid`: the delete's version under xmin).
    """
    attrs = entity.attributes
    index = {a.name: i for i, a in enumerate(attrs)}

    def col(name: str) -> str:
        return entity.attribute(name).column_name  # type: ignore[union-attr]

    def returning_of(prefix: str) -> str:
        return ", ".join(
            f"{prefix}{_qi(a.column_name)}"
            if a.column_name == a.name and not prefix
            else f"{prefix}{_qi(a.column_name)} AS {_qi(a.name)}"
            for a in attrs
        )

    returning = returning_of("") + ', xmin::text AS "__xmin"'
    table = _table(entity)
    where = " AND ".join(f"{_qi(col(k))} = {_param(index[k])}" for k in entity.key)
    where_t = " AND ".join(f'"__t".{_qi(col(k))} = {_param(index[k])}' for k in entity.key)
    cols = ", ".join(_qi(a.column_name) for a in attrs)
    values = ", ".join(_param(i) for i in range(len(attrs)))
    non_key = [a for a in attrs if a.name not in entity.key]
    conflict = ", ".join(_qi(col(k)) for k in entity.key)
    old = [s for s in dict.fromkeys((*slots, *moved)) if s not in entity.key]
    old_select = ", ".join(f"{_qi(col(s))} AS {_qi('__old_' + s)}" for s in old) or '1 AS "__one"'
    old_returning = "".join(f', "__old".{_qi("__old_" + s)}' for s in old)
    # the SET list goes between these two: concatenated, never substituted into SQL text, so
    # a name holding `{sets}` (quoted identifiers may hold anything) cannot move it
    update = (
        f'WITH "__old" AS (SELECT {old_select} FROM {table} WHERE {where} FOR UPDATE) '
        f'UPDATE {table} AS "__t" SET ',
        f' FROM "__old" WHERE {where_t} '
        f'RETURNING {returning_of(chr(34) + "__t" + chr(34) + ".")}, "__t".xmin::text AS "__xmin"'
        f"{old_returning}",
    )
    return {
        "key": tuple(entity.key),
        "relation": (entity.schema or "", entity.table),
        "columns": {a.column_name: a.name for a in attrs},
        "lock": f"SELECT 1 FROM {table} WHERE {where} FOR UPDATE",
        "select_where": f"SELECT {returning} FROM {table} WHERE ",
        "attributes": tuple(a.name for a in attrs),
        "slots": slots,
        "key_from_identity": all(s in entity.key for s in slots),
        "set_clauses": {a.name: f"{_qi(a.column_name)} = {_param(index[a.name])}" for a in non_key},
        "json": tuple(a.name for a in attrs if _is_json(a.type)),
        "sets": tuple(a.name for a in attrs if a.type.kind == "set"),
        "version": entity.version,
        "select": f"SELECT {returning} FROM {table} WHERE {where}",
        # no xmin in an INSERT's RETURNING: PostgreSQL refuses it on a partitioned table
        # ("cannot retrieve a system column in this context"); `_insert` reads it after
        "insert": f"INSERT INTO {table} ({cols}) VALUES ({values}) RETURNING {returning_of('')}",
        "insert_new": f"INSERT INTO {table} ({cols}) VALUES ({values}) ON CONFLICT ({conflict}) "
        f"DO NOTHING RETURNING {returning_of('')}",
        "update": update,
        "delete": f"DELETE FROM {table} WHERE {where} RETURNING {returning}, "
        f'(txid_current() %% 4294967296)::text AS "__xid"',
    }


_TEMPLATE = """
$header
\"\"\"Dual-write repository for model `$model` (table `$table`): the cutover from PostgreSQL.

Flags (from the environment, e.g. `MODEL_WRITE_TO_BOTH_DATABASES=1`, or a config mapping with keys):
`writeToBothDatabases`, `readFromNewDatabase`, `writeToNewDatabase`, `shadowRead`.
Phases, in order: none -> writeToBothDatabases -> + readFromNewDatabase -> writeToNewDatabase.
Item versions: per entity, `ENTITIES[e]["version"]` (the model's `version` setting; None =
PostgreSQL's xmin). `version_column=` / `MODEL_VERSION_COLUMN` (env) overrides it for every
entity that has that column (`xmin` forces xmin); it must match `model migrate run
--version-column`. Precedence: argument > env > entity `version:` > `source.version` > xmin.

Every write to DynamoDB is versioned and never loses to an older one:
- a put checks, in one transaction, the item (`attribute_not_exists(PK) OR _version < :v`) and
  the tombstone of its key (same condition), so a late or retried write of a deleted row, or of
  a row's old key, is refused;
- an update that changes a table-key attribute moves the item: the old item deleted and a
  tombstone left at its key, the new one put, in one TransactWriteItems, all on the version;
- a delete removes the item (only if older than the delete) and leaves a tombstone; the
  migration's catch-up pass sweeps them, `model migrate tombstones purge` removes them after
  the cutover.
PostgreSQL writes of one row are serialized by a transaction-scoped advisory lock taken before
the row is written, so under xmin versioning a later write always has a larger version.
Rows PostgreSQL deletes or changes along with a delete or update (foreign key actions: ON
DELETE CASCADE / SET NULL / SET DEFAULT, ON UPDATE CASCADE / SET NULL / SET DEFAULT, at any
depth, through tables the model does not map too) are found and locked before the write, read
back after it, and their items retired or rewritten after the commit, at the write's own
transaction id (`action_writes` counts them; see "foreign key actions" below).

Addressing rows by identity (`get`, `update`, `delete` take the entity's key attributes): when
the table key is built from the identity alone, directly. Otherwise (FULL_KEY_ATTRIBUTES below)
the repository reads the row's key attributes from PostgreSQL first while PostgreSQL is written
(phases 0-2), or takes them from the mapping you pass; in phase 3 (writeToNewDatabase) it finds
the item through the entity's identity lookup (an access pattern that reads it by identity:
IDENTITY_LOOKUPS below; a GSI read, so eventually consistent: an item written a moment ago
may not be found yet), else it needs them in the mapping and raises KeyRequired without them.
$full_key_doc
\"\"\"

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _versioning
from . import transformers as T
from ._loaders import text_loaders
from ._versioning import (
    NEWER_CONDITION,
    OLDER_CONDITION,
    VERSION_ATTRIBUTE,
    deleted_version,
    row_lock_id,
    tombstone_item,
    tombstone_key,
    version_number,
)

log = logging.getLogger(__name__)

# foreign keys and what PostgreSQL does to the referencing rows: (child schema, child table,
# parent schema, parent table, child columns, parent columns, ON DELETE, ON UPDATE, the columns
# ON DELETE SET NULL / SET DEFAULT (columns) sets - none: all), columns in key order; the copies
# of a partitioned table's constraint on its partitions are left out (conparentid)
_FK_COLUMNS = (
    "ARRAY(SELECT a.attname::text FROM unnest({}) WITH ORDINALITY k(n, i) "
    "JOIN pg_attribute a ON a.attrelid = {} AND a.attnum = k.n ORDER BY k.i)"
)
_FOREIGN_KEYS_SQL = (
    "SELECT cn.nspname, cc.relname, pn.nspname, pc.relname, "
    + _FK_COLUMNS.format("c.conkey", "c.conrelid") + ", "
    + _FK_COLUMNS.format("c.confkey", "c.confrelid") + ", "
    "c.confdeltype::text, c.confupdtype::text, SET_COLUMNS "
    "FROM pg_constraint c JOIN pg_class cc ON cc.oid = c.conrelid "
    "JOIN pg_namespace cn ON cn.oid = cc.relnamespace JOIN pg_class pc ON pc.oid = c.confrelid "
    "JOIN pg_namespace pn ON pn.oid = pc.relnamespace "
    "WHERE c.contype = 'f' AND c.conparentid = 0"
)
# where each entity's table is (its name as the model gives it, resolved on the search path)
_RELATION_SQL = (
    "SELECT u.q, n.nspname, c.relname FROM unnest(%s::text[]) AS u(q) "
    "JOIN pg_class c ON c.oid = to_regclass(u.q) JOIN pg_namespace n ON n.oid = c.relnamespace"
)
_XID_SQL = "SELECT (txid_current() % 4294967296)::text"
_ACTIONS = ("c", "n", "d")  # cascade, set null, set default (a: no action, r: restrict)
_DEFAULT = object()  # a column PostgreSQL sets to its default (its value is read after)


@dataclass(frozen=True)
class _ForeignKey:
    child: tuple[str, str]  # (schema, table), as the catalog names them
    parent: tuple[str, str]
    child_columns: tuple[str, ...]
    parent_columns: tuple[str, ...]
    on_delete: str
    on_update: str
    set_columns: tuple[str, ...]  # ON DELETE SET NULL / SET DEFAULT (columns); () all


@dataclass
class _Effect:
    \"\"\"A row PostgreSQL deletes or changes along with a write through the repository (a
    foreign key action), found and locked before the write.\"\"\"

    relation: tuple[str, str]
    entity: str | None  # None: a table outside the model (followed, never written)
    before: dict[str, Any]  # its columns before the write, with "__xmin"
    deleted: bool = False
    changed: dict[str, Any] = field(default_factory=dict)  # column: new value, or _DEFAULT
    after: list[dict[str, Any]] = field(default_factory=list)  # the entity's row(s) after


class _Retry(Exception):
    \"\"\"A row the write reaches was last written by a transaction newer than this one.\"\"\"


def _ident(name: str) -> str:
    \"\"\"A quoted identifier for SQL run with parameters (`%` doubled).\"\"\"
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


def _newer(xmin: str | None, xid: str) -> bool:
    \"\"\"Whether transaction `xmin` (32 bits, as text) was started after transaction `xid`.\"\"\"
    if xmin is None or not xmin.isdigit():
        return False
    return 0 < (int(xmin) - int(xid)) % 4294967296 < 2147483648


def _differs(new: Any, old: Any) -> bool:
    if new is _DEFAULT:
        return True
    try:
        return bool(new != old)
    except Exception:
        return True


TABLE_NAME = $table_literal
TABLE_KEY = $table_key
FLAG_NAMES = ("writeToBothDatabases", "readFromNewDatabase", "writeToNewDatabase", "shadowRead")
ENTITIES: dict[str, dict[str, Any]] = $entities
TABLE_KEY_OF = {
$table_key_of
}
# relationship copies (strategy lowest_cost): per entity, the function building a row's copies
COPIES_OF: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], list[dict[str, Any]]]] = {$copies_of}
# entities whose table key needs attributes beyond the identity, and which ones
FULL_KEY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    name: tuple(s for s in spec["slots"] if s not in spec["key"])
    for name, spec in ENTITIES.items()
    if not spec["key_from_identity"]
}
# entities found by identity alone in phase 3: (client method, {key attribute: its argument})
IDENTITY_LOOKUPS: dict[str, tuple[str, dict[str, str]]] = $identity_lookups
# access patterns: their entities, and whether their answer is ordered (shadow reads)
PATTERNS: dict[str, dict[str, Any]] = $patterns
_SNAKE = {"".join("_" + c.lower() if c.isupper() else c for c in n).lstrip("_"): n for n in ENTITIES}
SHADOW_LOG_LIMIT = 5  # differences logged per pattern (the counts go on)
_OLD = "__old_"
_RETRIES = 8  # transactions cancelled by a concurrent one (TransactionConflict) are retried
_ROW_LOCK_LIMIT = 1000  # rows a foreign key action reaches that a write locks (advisory locks)


class ConfigurationError(ValueError):
    \"\"\"A flag combination that would read data nobody writes.\"\"\"


class KeyRequired(KeyError):
    \"\"\"The identity alone cannot address this entity's item in this phase.\"\"\"


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
    \"\"\"The attribute versioning `entity`'s rows (None: xmin); the migration's rule.\"\"\"
    spec = ENTITIES[entity]
    return _versioning.version_attribute(spec["version"], override, spec["attributes"])


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def _reasons(exc: BaseException) -> list[str]:
    \"\"\"The cancellation reason codes of a cancelled transaction ('None' for a passed item).\"\"\"
    response = getattr(exc, "response", None)
    reasons = response.get("CancellationReasons", []) if isinstance(response, Mapping) else []
    return [str(r.get("Code", "None")) for r in reasons]


class Repository:
    \"\"\"Reads and writes rows of every entity according to the flags.

    `conn`: a psycopg connection (autocommit, or commit yourself); `dynamodb`: a boto3
    DynamoDB client. Rows are dicts keyed by attribute names, as the transformers take them.
    \"\"\"

    def __init__(
        self,
        conn: Any,
        dynamodb: Any,
        flags: Flags | None = None,
        table_name: str = TABLE_NAME,
        version_column: str | None = None,
        shadow_rate: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.conn = conn
        self.dynamodb = dynamodb
        self.flags = flags or Flags.from_env()
        self.flags.check()
        self.table_name = table_name
        self.version_column = version_column or os.environ.get("MODEL_VERSION_COLUMN") or None
        if shadow_rate is None:
            text = os.environ.get("MODEL_SHADOW_READ_RATE", "").strip()
            try:
                shadow_rate = float(text) if text else 1.0
            except ValueError:
                raise ConfigurationError(f"MODEL_SHADOW_READ_RATE={text!r} is not a number") from None
        if not 0.0 <= shadow_rate <= 1.0:
            raise ConfigurationError(f"shadow_rate must be between 0 and 1, not {shadow_rate}")
        self.shadow_rate = shadow_rate  # the share of reads compared when shadowRead is on
        self._rng = rng or random.Random()
        # per access pattern (`get:<Entity>` for get): reads, compared, mismatches
        self.shadow_stats: dict[str, dict[str, int]] = {}
        self.shadow_mismatches = 0
        self.dynamodb_write_failures = 0
        self.stale_writes = 0  # DynamoDB writes refused because a newer version was there
        self.moves = 0  # items moved to a new table key
        self.tombstones = 0  # tombstones written (deletes and moves)
        # rows PostgreSQL deleted or changed along with a write (foreign key actions) whose
        # items were retired or rewritten
        self.action_writes = 0
        self._fk_map: dict[tuple[str, str], list[_ForeignKey]] | None = None
        self._entity_at: dict[tuple[str, str], str] = {}
        self._relation_of: dict[str, tuple[str, str]] = {}

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

    def _cursor(self, rows: bool = False) -> Any:
        \"\"\"A cursor on `conn` loading inet/cidr as PostgreSQL's text, as the migration's
        reader does (`_loaders`), so an item written here is the item `model migrate run`
        writes; `conn` itself is unchanged. A date Python cannot hold still raises DataError
        in the write's transaction (rolled back). `rows`: rows as dicts.\"\"\"
        from psycopg.adapt import Loader
        from psycopg.rows import dict_row

        cur = self.conn.cursor(row_factory=dict_row) if rows else self.conn.cursor()
        text_loaders(cur, Loader)
        return cur

    def _pg_row(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        with self._cursor(rows=True) as cur:
            cur.execute(sql, params)
            row = cur.fetchone() if cur.description else None
        return dict(row) if row is not None else None

    def _lock(self, entity: str, key: Mapping[str, Any]) -> None:
        \"\"\"Serialize the writes of one row (until the transaction ends): the lock is taken
        before the row is written, so a later write gets a later transaction id (xmin).\"\"\"
        lock_id = row_lock_id(self.table_name, entity, [key.get(k) for k in ENTITIES[entity]["key"]])
        with self._cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%(lock)s)", {"lock": lock_id})

    def _insert(self, entity: str, sql: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        \"\"\"An INSERT (`insert` / `insert_new`), then the new row's xmin read in the same
        transaction (an INSERT cannot return it from a partitioned table).\"\"\"
        row = self._pg_row(sql, params)
        if row is not None:
            again = self._pg_row(ENTITIES[entity]["select"], params)
            row["__xmin"] = again["__xmin"] if again is not None else None
        return row

    def _row_version(self, entity: str, row: dict[str, Any]) -> int:
        xmin = row.pop("__xmin", None)
        column = version_attribute(entity, self.version_column)
        if column and row.get(column) is not None:
            return version_number(row[column])
        return version_number(xmin) if xmin is not None else time.time_ns() // 1000

    @staticmethod
    def _split_old(entity: str, stored: dict[str, Any]) -> dict[str, Any]:
        \"\"\"Pop the `__old_<slot>` columns of an update: the row as it was, for its old key.\"\"\"
        old = {name[len(_OLD) :]: stored.pop(name) for name in [n for n in stored if n.startswith(_OLD)]}
        return {**stored, **old}

    # ---------------------------------------------------------------- DynamoDB

    def _key_of(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        return TABLE_KEY_OF[entity](row)

    def _condition(self, version: int) -> dict[str, Any]:
        return {
            "ExpressionAttributeNames": {"#pk": TABLE_KEY[0], "#v": VERSION_ATTRIBUTE},
            "ExpressionAttributeValues": {":v": {"N": str(version)}},
        }

    def _put_actions(self, item: dict[str, Any], version: int) -> list[dict[str, Any]]:
        \"\"\"Put the item unless it or its key's tombstone holds this or a newer version.\"\"\"
        key = {n: item[n] for n in TABLE_KEY}
        cond = self._condition(version)
        return [
            {"ConditionCheck": {"TableName": self.table_name, "Key": tombstone_key(key, TABLE_KEY), "ConditionExpression": NEWER_CONDITION, **cond}},
            {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": NEWER_CONDITION, **cond}},
        ]

    def _retire_actions(self, entity: str, key: dict[str, Any], version: int) -> list[dict[str, Any]]:
        \"\"\"Delete the item at `key` unless newer, and leave a tombstone there at `version`.\"\"\"
        cond = self._condition(version)
        return [
            {"Delete": {"TableName": self.table_name, "Key": key, "ConditionExpression": OLDER_CONDITION, **cond}},
            {"Put": {"TableName": self.table_name, "Item": tombstone_item(key, TABLE_KEY, entity, version), "ConditionExpression": NEWER_CONDITION, **cond}},
        ]

    def _transact(self, actions: list[dict[str, Any]]) -> bool:
        \"\"\"Run the actions in one transaction: True when applied, False when a condition
        failed (a newer version is there); conflicts with concurrent transactions are retried.\"\"\"
        for attempt in range(_RETRIES):
            try:
                self.dynamodb.transact_write_items(TransactItems=actions)
                return True
            except Exception as exc:
                code = _error_code(exc)
                reasons = _reasons(exc)
                if code == "TransactionCanceledException" and "TransactionConflict" not in reasons:
                    if all(r in ("None", "ConditionalCheckFailed") for r in reasons):
                        return False
                if code not in ("TransactionCanceledException", "TransactionConflictException") or attempt == _RETRIES - 1:
                    raise
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
        return False  # pragma: no cover - the loop returns or raises

    def _write_row(
        self, entity: str, row: Mapping[str, Any], version: int, old: Mapping[str, Any] | None = None
    ) -> bool:
        \"\"\"Put the row's item at `version`; when `old` (the row before) had another table key,
        move it: retire the old key and put the new one in one transaction.\"\"\"
        item = T.to_item(entity, row)
        item[VERSION_ATTRIBUTE] = {"N": str(version)}
        new_key = {n: item[n] for n in TABLE_KEY}
        old_key = self._old_key(entity, old)
        # the row's relationship copies, in the same transaction: put at the version, and a
        # copy whose key changed retired at its old key (tombstone), as for the main item
        copies = self._copies(entity, row, item)
        for copy in copies:
            copy[VERSION_ATTRIBUTE] = {"N": str(version)}
        new_copy_keys = [{n: c[n] for n in TABLE_KEY} for c in copies]
        gone = [k for k in self._copy_keys(entity, old) if k not in new_copy_keys]
        extra = [a for c in copies for a in self._put_actions(c, version)]
        extra += [a for k in gone for a in self._retire_actions(entity, k, version)]
        if old_key is None or old_key == new_key:
            written = self._transact(self._put_actions(item, version) + extra)
            self.stale_writes += not written
            self.tombstones += len(gone) if written else 0
            return written
        self.moves += 1
        if self._transact(self._retire_actions(entity, old_key, version) + self._put_actions(item, version) + extra):
            self.tombstones += 1 + len(gone)
            return True
        # a newer version holds one side: apply each side on its own (each stays versioned)
        self._retire(entity, old_key, version, gone)
        written = self._transact(self._put_actions(item, version) + [a for c in copies for a in self._put_actions(c, version)])
        self.stale_writes += not written
        return written

    @staticmethod
    def _copies(entity: str, row: Mapping[str, Any], item: dict[str, Any]) -> list[dict[str, Any]]:
        \"\"\"The relationship copies of the row whose main item is `item` (none for most entities).\"\"\"
        make = COPIES_OF.get(entity)
        return make(row, item) if make is not None else []

    def _copy_keys(self, entity: str, row: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        \"\"\"The table keys of the copies `row` had (none when it had no complete item).\"\"\"
        if row is None or entity not in COPIES_OF:
            return []
        try:
            return [{n: c[n] for n in TABLE_KEY} for c in self._copies(entity, row, T.to_item(entity, row))]
        except T.TransformError:
            return []

    def _old_key(self, entity: str, old: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if old is None:
            return None
        try:
            return self._key_of(entity, old)
        except T.TransformError:
            return None  # the old row had no complete key: it was never an item

    def _retire(self, entity: str, key: dict[str, Any], version: int, copies: list[dict[str, Any]] | None = None) -> None:
        \"\"\"Delete the item at `key` (and the relationship copies at `copies`) if older than
        `version` and leave a tombstone at each key, in one transaction.\"\"\"
        keys = [key, *(copies or [])]
        if self._transact([a for k in keys for a in self._retire_actions(entity, k, version)]):
            self.tombstones += len(keys)
            return
        # a newer item or tombstone is there: still remove an older item, keep the newest mark
        for k in keys:
            for action in self._retire_actions(entity, k, version):
                if self._transact([action]):
                    self.tombstones += "Put" in action

    def _dual(self, entity: str, row: Mapping[str, Any], version: int, old: Mapping[str, Any] | None = None) -> None:
        \"\"\"The DynamoDB half of a dual write; PostgreSQL stays the truth when it fails.\"\"\"
        try:
            self._write_row(entity, row, version, old)
        except Exception:
            self.dynamodb_write_failures += 1
            log.exception("dual write to DynamoDB failed for %s %s", entity, self._key_text(entity, row))
            raise

    @staticmethod
    def _key_text(entity: str, row: Mapping[str, Any]) -> str:
        return repr(tuple(row.get(k) for k in ENTITIES[entity]["key"]))

    # ---------------------------------------------------------------- writes

    def put(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        \"\"\"Insert or replace a row (every attribute); returns the row as stored.\"\"\"
        spec = ENTITIES[entity]
        if not self.flags.writes_postgres:
            current = self._get_dynamodb(entity, row, missing_ok=True)
            new_row = dict(row)
            self._write_row(entity, new_row, self._new_version(entity, new_row, current), current)
            return new_row
        params = self._params(entity, row)
        names = sorted(spec["set_clauses"])
        old: dict[str, Any] | None = None

        def statement() -> dict[str, Any] | None:
            nonlocal old
            old = None
            stored: dict[str, Any] | None = None
            if names:
                sets = ", ".join(spec["set_clauses"][n] for n in names)
                head, tail = spec["update"]
                stored = self._pg_row(head + sets + tail, params)
                if stored is not None:
                    old = self._split_old(entity, stored)
            if stored is None:
                stored = self._insert(entity, spec["insert_new"], params)
            if stored is None:  # a key-only row that exists, or inserted by another writer
                stored = self._pg_row(spec["select"], params)
            return stored

        changes = {self._column(entity, n): row.get(n) for n in names}
        stored, effects, xid = self._tracked(entity, row, changes, statement)
        assert stored is not None
        version = self._row_version(entity, stored)
        if self.flags.writes_dynamodb:
            self._dual(entity, stored, version, old)
            self._apply_effects(effects, xid)
        return stored

    def insert(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        \"\"\"Insert a new row (PostgreSQL raises on a duplicate key).\"\"\"
        spec = ENTITIES[entity]
        if not self.flags.writes_postgres:
            return self.put(entity, row)
        with self.conn.transaction():
            self._lock(entity, row)
            stored = self._insert(entity, spec["insert"], self._params(entity, row))
        assert stored is not None
        version = self._row_version(entity, stored)
        if self.flags.writes_dynamodb:
            self._dual(entity, stored, version)
        return stored

    def update(self, entity: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any] | None:
        \"\"\"Change some attributes of a row; returns the new row, or None when it does not exist.

        Changing an attribute of the table key moves the item (see the module docstring).
        \"\"\"
        spec = ENTITIES[entity]
        unknown = set(changes) - set(spec["set_clauses"])
        if unknown:
            raise KeyError(f"{entity}: cannot update {sorted(unknown)} (unknown or identity attributes)")
        identity = {k: key[k] for k in spec["key"]}
        if self.flags.writes_postgres:
            if not changes:
                return self.get(entity, identity)
            sets = ", ".join(spec["set_clauses"][name] for name in sorted(changes))
            head, tail = spec["update"]
            params = self._params(entity, {**identity, **changes})
            stored, effects, xid = self._tracked(
                entity,
                identity,
                {self._column(entity, n): v for n, v in changes.items()},
                lambda: self._pg_row(head + sets + tail, params),
            )
            if stored is None:
                return None
            old = self._split_old(entity, stored)
            version = self._row_version(entity, stored)
            if self.flags.writes_dynamodb:
                self._dual(entity, stored, version, old)
                self._apply_effects(effects, xid)
            return stored
        current = self._get_dynamodb(entity, key)
        if current is None:
            return None
        new = {**current, **changes}
        self._write_row(entity, new, self._new_version(entity, new, current), current)
        return new

    def delete(self, entity: str, key: Mapping[str, Any]) -> bool:
        \"\"\"Delete a row by identity; True when it existed. The item is removed only if older
        than the delete, and a tombstone keeps any late or retried write from bringing it back.\"\"\"
        spec = ENTITIES[entity]
        identity = {k: key[k] for k in spec["key"]}
        if self.flags.writes_postgres:
            deleted, effects, _ = self._tracked(
                entity, identity, None, lambda: self._pg_row(spec["delete"], self._params(entity, identity))
            )
            if deleted is None:
                return False
            xid = deleted.pop("__xid")
            if self.flags.writes_dynamodb:
                xmin = deleted.pop("__xmin", None)
                column = version_attribute(entity, self.version_column)
                if column and deleted.get(column) is not None:
                    version = deleted_version(deleted[column])
                else:
                    version = version_number(xid)
                    if xmin is not None:
                        version = max(version, deleted_version(xmin))
                self._dual_delete(entity, deleted, version)
                self._apply_effects(effects, xid)
            return True
        current = self._get_dynamodb(entity, key)
        if current is None:
            return False
        self._retire(
            entity, self._key_of(entity, current), self._delete_version(entity, current), self._copy_keys(entity, current)
        )
        return True

    # ---------------------------------------------------------------- foreign key actions
    #
    # A delete or an update makes PostgreSQL delete or change rows the repository never named:
    # ON DELETE CASCADE / SET NULL / SET NULL (columns) / SET DEFAULT, ON UPDATE CASCADE /
    # SET NULL / SET DEFAULT, at any depth, self-references included, and through tables the
    # model does not map (followed like the others; their rows have no item). Before the write,
    # in its transaction, the repository finds these rows from the catalog's foreign keys and
    # locks them (FOR UPDATE); after the write it reads the changed ones back (their xmin is
    # the write's transaction id). After the commit it retires the deleted rows' items and
    # rewrites the changed rows' items (a changed table key moves the item), all versioned.
    #
    # Versions: every row found must have been last written by a transaction older than the
    # write's own (its id is taken when it locks its row, before it finds the others); a row
    # written meanwhile by a newer one (committed before this transaction locked it) makes the
    # write roll back and run again with a new id, newer than that row's. So every item the
    # write retires or rewrites gets the write's own id as its version: no other transaction
    # can hold that id, and any later writer of these rows waits for the row locks and gets a
    # later one. (Within a transaction of the application's own, which keeps its id across
    # the repository's savepoints, the write is not retried and a row written meanwhile is
    # retired at one more than its xmin.) A row versioned by a column keeps its value (PostgreSQL's
    # action does not change it): its item is rewritten at one more than it.

    @staticmethod
    def _column(entity: str, attribute: str) -> str:
        return next(c for c, a in ENTITIES[entity]["columns"].items() if a == attribute)

    def _foreign_keys(self) -> dict[tuple[str, str], list[_ForeignKey]]:
        \"\"\"The catalog's foreign keys by referenced relation (read once), and where each
        entity's table is.\"\"\"
        if self._fk_map is None:
            fks: dict[tuple[str, str], list[_ForeignKey]] = {}
            set_columns = "ARRAY[]::text[]"
            if getattr(getattr(self.conn, "info", None), "server_version", 0) >= 150000:
                set_columns = _FK_COLUMNS.format("c.confdelsetcols", "c.conrelid")
            names: dict[str, str] = {}
            for name, spec in ENTITIES.items():
                schema, table = spec["relation"]
                quoted = '"' + table.replace('"', '""') + '"'
                names['"' + schema.replace('"', '""') + '".' + quoted if schema else quoted] = name
            with self._cursor() as cur:
                cur.execute(_RELATION_SQL, [list(names)])
                for quoted, schema, table in cur.fetchall():
                    self._entity_at[(schema, table)] = names[quoted]
                    self._relation_of[names[quoted]] = (schema, table)
                cur.execute(_FOREIGN_KEYS_SQL.replace("SET_COLUMNS", set_columns))
                for c_schema, c_table, p_schema, p_table, c_cols, p_cols, on_del, on_upd, sets in cur.fetchall():
                    fk = _ForeignKey(
                        (c_schema, c_table), (p_schema, p_table), tuple(c_cols), tuple(p_cols), on_del, on_upd, tuple(sets or ())
                    )
                    fks.setdefault(fk.parent, []).append(fk)
            self._fk_map = fks
        return self._fk_map

    def _has_actions(self, entity: str, changes: Mapping[str, Any] | None) -> bool:
        \"\"\"Whether deleting a row of `entity` (changes None), or changing these columns of
        it, may make PostgreSQL delete or change other rows.\"\"\"
        fks = self._foreign_keys()
        for fk in fks.get(self._relation_of.get(entity, ("", "")), ()):
            if changes is None and fk.on_delete in _ACTIONS:
                return True
            if changes is not None and fk.on_update in _ACTIONS and any(c in changes for c in fk.parent_columns):
                return True
        return False

    def _relation_rows(
        self, relation: tuple[str, str], columns: list[str], values: list[Any], lock: bool, xmin: str | None = None
    ) -> list[dict[str, Any]]:
        \"\"\"The rows of `relation` whose `columns` hold `values` (columns by name, with
        "__xmin" and a row address), locked FOR UPDATE when `lock`.\"\"\"
        where = [f'"__r".{_ident(c)} IS NULL' if v is None else f'"__r".{_ident(c)} = %s' for c, v in zip(columns, values, strict=True)]
        params = [v for v in values if v is not None]
        if xmin is not None:
            where.append('"__r".xmin::text = %s')
            params.append(xmin)
        query = (
            'SELECT "__r".*, "__r".xmin::text AS "__xmin", "__r".ctid::text AS "__ctid", '
            f'"__r".tableoid::int8 AS "__oid" FROM {_ident(relation[0])}.{_ident(relation[1])} AS "__r" '
            f"WHERE {' AND '.join(where) or 'true'}" + (' FOR UPDATE OF "__r"' if lock else "")
        )
        with self._cursor(rows=True) as cur:
            cur.execute(query, params)
            return [dict(r) for r in cur.fetchall()]

    def _mark(self, relation: tuple[str, str], entity: str | None, row: Mapping[str, Any]) -> tuple[Any, ...]:
        if entity is None:
            return (relation, row.get("__oid"), row.get("__ctid"))
        return (relation, *(row.get(self._column(entity, k)) for k in ENTITIES[entity]["key"]))

    def _effects(
        self, entity: str, identity: Mapping[str, Any], changes: Mapping[str, Any] | None, lock: bool = True
    ) -> list[_Effect]:
        \"\"\"The rows PostgreSQL deletes or changes when the row of `entity` at `identity` is
        deleted (`changes` None) or these columns of it change, any depth; the row itself is
        locked first (an insert referencing it now waits, or is seen), then each row found
        (`lock` False: only read, no row lock, no transaction id taken).\"\"\"
        relation = self._relation_of[entity]
        key_columns = [self._column(entity, k) for k in ENTITIES[entity]["key"]]
        roots = self._relation_rows(relation, key_columns, [identity.get(k) for k in ENTITIES[entity]["key"]], lock=lock)
        if not roots:
            return []
        root = _Effect(relation, entity, roots[0], deleted=changes is None, changed=dict(changes or {}))
        found: dict[tuple[Any, ...], _Effect] = {self._mark(relation, entity, roots[0]): root}
        todo: list[tuple[_Effect, dict[str, Any] | None]] = [(root, None if changes is None else dict(changes))]
        fks = self._foreign_keys()
        while todo:
            node, event = todo.pop()
            for fk in fks.get(node.relation, ()):
                if event is None:
                    action = fk.on_delete
                elif any(p in event and _differs(event[p], node.before.get(p)) for p in fk.parent_columns):
                    action = fk.on_update
                else:
                    continue
                values = [node.before.get(p) for p in fk.parent_columns]
                if action not in _ACTIONS or any(v is None for v in values):
                    continue
                child = self._entity_at.get(fk.child)
                for row in self._relation_rows(fk.child, list(fk.child_columns), values, lock=lock):
                    new: dict[str, Any] | None
                    if action == "c" and event is None:
                        new = None
                    elif action == "c":
                        new = {c: event.get(p, node.before.get(p)) for c, p in zip(fk.child_columns, fk.parent_columns, strict=True)}
                    else:
                        columns = fk.set_columns if event is None and fk.set_columns else fk.child_columns
                        new = {c: None if action == "n" else _DEFAULT for c in columns}
                    mark = self._mark(fk.child, child, row)
                    effect = found.setdefault(mark, _Effect(fk.child, child, row))
                    if effect.deleted:
                        continue
                    if new is None:
                        effect.deleted = True
                        todo.append((effect, None))
                        continue
                    new = {c: v for c, v in new.items() if c not in effect.changed}
                    if new:
                        effect.changed.update(new)
                        todo.append((effect, new))
        return [e for e in found.values() if e is not root]

    def _read_after(self, effect: _Effect, xid: str) -> list[dict[str, Any]]:
        \"\"\"A changed row as the write left it (by its new identity; a key column set to its
        default: by the others and this transaction's id).\"\"\"
        assert effect.entity is not None
        columns, values, unknown = [], [], False
        for k in ENTITIES[effect.entity]["key"]:
            column = self._column(effect.entity, k)
            value = effect.changed.get(column, effect.before.get(column))
            if value is _DEFAULT:
                unknown = True
                continue
            columns.append(column)
            values.append(value)
        return self._relation_rows(effect.relation, columns, values, lock=False, xmin=xid if unknown else None)

    def _tracked(
        self,
        entity: str,
        identity: Mapping[str, Any],
        changes: Mapping[str, Any] | None,
        statement: Callable[[], dict[str, Any] | None],
    ) -> tuple[dict[str, Any] | None, list[_Effect], str]:
        \"\"\"Run `statement` (the write; it returns the row) in a transaction holding the row's
        lock, with the rows PostgreSQL deletes or changes along with it found first and the
        changed ones read after: (its result, those rows, the transaction id or "").\"\"\"
        track = self.flags.writes_dynamodb and self._has_actions(entity, changes)
        last = ""
        for attempt in range(_RETRIES):
            try:
                with self.conn.transaction():
                    self._lock(entity, identity)
                    effects: list[_Effect] = []
                    xid = ""
                    if track:
                        # the rows found first without locks or an id: their repository locks
                        # taken, so a writer of one of them now holds its id from before this
                        # write's (it finishes first) or takes one after this write's commit
                        seen = self._effects(entity, identity, changes, lock=False)
                        locked = self._lock_rows(seen)
                        effects = self._effects(entity, identity, changes)
                        with self._cursor() as cur:
                            cur.execute(_XID_SQL)
                            xid = str(cur.fetchone()[0])
                        newer = any(_newer(e.before.get("__xmin"), xid) for e in effects if e.entity)
                        if locked is not None:
                            newer = newer or any(
                                e.entity and self._mark(e.relation, e.entity, e.before) not in locked for e in effects
                            )
                        if newer and xid != last and attempt < _RETRIES - 1:
                            last = xid
                            raise _Retry
                    result = statement()
                    for effect in effects:
                        if effect.entity is not None and not effect.deleted:
                            effect.after = self._read_after(effect, xid)
                return result, effects, xid
            except _Retry:
                continue
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns

    def _lock_rows(self, effects: list[_Effect]) -> set[tuple[Any, ...]] | None:
        \"\"\"Take the repository's lock of each entity row in `effects` (in one order), as its
        writers do before they write it; the rows locked, or None when there are more than
        _ROW_LOCK_LIMIT (PostgreSQL's lock table is shared and bounded: then the write relies
        on the version check alone).\"\"\"
        rows = [e for e in effects if e.entity is not None]
        if len(rows) > _ROW_LOCK_LIMIT:
            return None
        ids = sorted(
            {
                row_lock_id(self.table_name, e.entity, [e.before.get(self._column(e.entity, k)) for k in ENTITIES[e.entity]["key"]])
                for e in rows
                if e.entity is not None
            }
        )
        if ids:
            with self._cursor() as cur:
                cur.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [ids])
        return {self._mark(e.relation, e.entity, e.before) for e in rows}

    def _attributes(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        \"\"\"A row by columns as the entity's row by attributes.\"\"\"
        return {a: row.get(c) for c, a in ENTITIES[entity]["columns"].items()}

    def _apply_effects(self, effects: list[_Effect], xid: str) -> None:
        \"\"\"After the commit: retire the items of the rows PostgreSQL deleted, rewrite those of
        the rows it changed, at the versions the section above says.\"\"\"
        for effect in effects:
            name = effect.entity
            if name is None:
                continue
            old = self._attributes(name, effect.before)
            column = version_attribute(name, self.version_column)
            if effect.deleted or not effect.after:
                if column and old.get(column) is not None:
                    version = deleted_version(old[column])
                else:
                    version = version_number(xid)
                    if effect.before.get("__xmin") is not None:
                        version = max(version, deleted_version(effect.before["__xmin"]))
                self._dual_delete(name, old, version)
                self.action_writes += 1
                continue
            for after in effect.after:
                row = self._attributes(name, after)
                if column and row.get(column) is not None:
                    version = deleted_version(row[column])
                else:
                    version = version_number(after["__xmin"])
                    if effect.before.get("__xmin") is not None:
                        version = max(version, deleted_version(effect.before["__xmin"]))
                self._dual(name, row, version, old)
                self.action_writes += 1

    def _dual_delete(self, entity: str, row: Mapping[str, Any], version: int) -> None:
        try:
            key = self._old_key(entity, row)
            if key is None:
                log.warning("%s %s: no DynamoDB key to delete", entity, self._key_text(entity, row))
                return
            self._retire(entity, key, version, self._copy_keys(entity, row))
        except Exception:
            self.dynamodb_write_failures += 1
            log.exception("dual delete in DynamoDB failed for %s %s", entity, self._key_text(entity, row))
            raise

    def _new_version(self, entity: str, row: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> int:
        \"\"\"DynamoDB-only writes: the version attribute, else microseconds since the epoch.\"\"\"
        column = version_attribute(entity, self.version_column)
        if column and row.get(column) is not None:
            return version_number(row[column])
        return time.time_ns() // 1000

    def _delete_version(self, entity: str, current: Mapping[str, Any]) -> int:
        column = version_attribute(entity, self.version_column)
        if column and current.get(column) is not None:
            return deleted_version(current[column])
        return time.time_ns() // 1000

    # ---------------------------------------------------------------- addressing

    def table_key(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        \"\"\"The item key of the row with this identity (None: no such row in PostgreSQL).

        From `key` itself when it holds every table-key attribute; else, while PostgreSQL is
        written, from the row's key attributes read there; else KeyRequired.
        \"\"\"
        spec = ENTITIES[entity]
        if all(key.get(s) is not None for s in spec["slots"]):
            return self._key_of(entity, key)
        missing = [s for s in spec["slots"] if key.get(s) is None]
        if not self.flags.writes_postgres and entity in IDENTITY_LOOKUPS:
            found = self._lookup(entity, key)
            return None if found is None else self._key_of(entity, {**found, **key})
        if not self.flags.writes_postgres:
            raise KeyRequired(
                f"{entity}: its table key needs {', '.join(missing)} besides the identity "
                f"({', '.join(spec['key'])}) and PostgreSQL is no longer written "
                "(writeToNewDatabase): pass them in the key, or query by an access pattern"
            )
        row = self._get_postgres(entity, key)
        return None if row is None else self._key_of(entity, {**row, **key})

    def _lookup(self, entity: str, key: Mapping[str, Any]) -> Mapping[str, Any] | None:
        \"\"\"The entity's row found by identity through its lookup pattern (generated client).\"\"\"
        from .client import Client

        method, args = IDENTITY_LOOKUPS[entity]
        missing = [a for a in args if key.get(a) is None]
        if missing:
            raise KeyRequired(f"{entity}: the identity lookup needs {', '.join(missing)}")
        found = getattr(Client(self.table_name, self.dynamodb), method)(
            **{arg: key[attribute] for attribute, arg in args.items()}
        )
        if isinstance(found, list):
            found = found[0] if found else None
        return found

    # ---------------------------------------------------------------- reads

    def _get_postgres(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        row = self._pg_row(ENTITIES[entity]["select"], self._params(entity, key))
        if row is not None:
            row.pop("__xmin", None)
        return row

    def _get_dynamodb(self, entity: str, key: Mapping[str, Any], missing_ok: bool = False) -> dict[str, Any] | None:
        try:
            table_key = self.table_key(entity, key)
        except KeyRequired:
            if missing_ok:
                return None
            raise
        if table_key is None:
            return None
        response = self.dynamodb.get_item(TableName=self.table_name, Key=table_key, ConsistentRead=True)
        item = response.get("Item")
        if item is None:
            return None
        found, row = T.from_item(item)
        if found != entity or any(row.get(k) != key.get(k) for k in ENTITIES[entity]["key"] if k in key):
            return None
        return dict(row)

    def get(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        \"\"\"One row by identity, from the store the phase reads (both, compared, in shadow mode).\"\"\"
        result: dict[str, Any] | None = self.read(
            f"get:{entity}",
            lambda: self._get_dynamodb(entity, key),
            lambda: self._get_postgres(entity, key),
            entity=entity,
        )
        return result

    def read(
        self,
        pattern: str,
        dynamodb: Callable[[], Any],
        postgres: Callable[[], Any],
        entity: str | None = None,
    ) -> Any:
        \"\"\"Any access pattern, from the store the phase reads; in shadow mode (both stores
        written and `shadowRead` on) a sampled share of reads (`shadow_rate`, env
        `MODEL_SHADOW_READ_RATE`, default 1) also reads the other store and compares.

        `dynamodb`: the new read (the generated client's pattern method, e.g.
        `lambda: client.payments_of_account(7)`); `postgres`: the application's existing query.
        Either may return None, a row, a list of rows, a list of `(entity, row)` pairs, a client
        result with one list per entity, or a mapping {entity: rows}. Rows are compared as the
        items the transformers make of them, by identity, and in order when the pattern is
        ordered. Mismatches are counted per pattern (`shadow_stats`) and the first
        SHADOW_LOG_LIMIT differences of each pattern are logged.
        \"\"\"
        primary_new = self.flags.reads_dynamodb
        primary = dynamodb() if primary_new else postgres()
        shadow = self.flags.shadow_read and self.flags.writes_postgres and self.flags.writes_dynamodb
        stats = self.shadow_stats.setdefault(pattern, {"reads": 0, "compared": 0, "mismatches": 0})
        stats["reads"] += 1
        if shadow and (self.shadow_rate >= 1.0 or self._rng.random() < self.shadow_rate):
            other = postgres() if primary_new else dynamodb()
            pg, ddb = (other, primary) if primary_new else (primary, other)
            stats["compared"] += 1
            diff = self._differences(pattern, entity, pg, ddb)
            if diff:
                stats["mismatches"] += 1
                self.shadow_mismatches += 1
                if stats["mismatches"] <= SHADOW_LOG_LIMIT:
                    log.warning("shadow read: %s differs: %s", pattern, "; ".join(diff[:5]))
        return primary

    @staticmethod
    def _rows(pattern: str, entity: str | None, result: Any) -> list[tuple[str, Mapping[str, Any]]]:
        \"\"\"A read's answer as (entity, row) pairs, in answer order.\"\"\"
        names = PATTERNS.get(pattern, {}).get("entities", ())
        default = entity or (names[0] if len(names) == 1 else "")
        if result is None:
            return []
        if hasattr(result, "__dataclass_fields__"):
            result = {name: getattr(result, name) for name in result.__dataclass_fields__}
        if isinstance(result, Mapping):
            grouped = bool(result) and all(
                (k in _SNAKE or k in ENTITIES) and isinstance(v, list | tuple) for k, v in result.items()
            )
            if not grouped:
                return [(default, result)]
            pairs: list[tuple[str, Mapping[str, Any]]] = []
            for name, rows in result.items():
                pairs.extend((str(_SNAKE.get(name) or name), row) for row in rows)
            return pairs
        out: list[tuple[str, Mapping[str, Any]]] = []
        for row in result:
            if isinstance(row, tuple) and len(row) == 2 and isinstance(row[0], str):
                out.append((row[0], row[1]))
            else:
                out.append((default, row))
        return out

    def _differences(self, pattern: str, entity: str | None, pg: Any, ddb: Any) -> list[str]:
        \"\"\"What differs between the two answers (empty: the same).\"\"\"

        def keyed(result: Any) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
            out = []
            for name, row in self._rows(pattern, entity, result):
                item = T.to_item(name, row)
                item.pop(VERSION_ATTRIBUTE, None)
                out.append(((name, *(str(row.get(k)) for k in ENTITIES[name]["key"])), item))
            return out

        a, b = keyed(pg), keyed(ddb)
        da, db = dict(a), dict(b)
        diff = [f"{k} missing in DynamoDB" for k in da if k not in db]
        diff += [f"{k} missing in PostgreSQL" for k in db if k not in da]
        for k in da.keys() & db.keys():
            names = sorted(n for n in set(da[k]) | set(db[k]) if da[k].get(n) != db[k].get(n))
            if names:
                diff.append(f"{k} differs in {', '.join(names)}")
        ordered = PATTERNS.get(pattern, {}).get("ordered", False)
        if not diff and ordered and [k for k, _ in a] != [k for k, _ in b]:
            diff.append("the same rows in another order")
        return sorted(diff)
"""


def repository_source(layout: ir.Layout, model: ir.Model) -> str:
    names = entity_names(model)
    table = next(i for i in layout.indexes if i.kind == "table")
    table_key = (table.pk.name,) if table.sk is None else (table.pk.name, table.sk.name)
    moved = {
        e.name: tuple(
            dict.fromkeys(
                s
                for c in layout.copies_of(e.name)
                for t in (c.pk, c.sk)
                for s in keys.parse_template(t).slots
            )
        )
        for e in model.entities
    }
    entities = {e.name: entity_sql(e, _slots(layout, e), moved[e.name]) for e in model.entities}
    beyond = {e.name: [s for s in _slots(layout, e) if s not in e.key] for e in model.entities}
    methods = pattern_methods(layout, model)
    lookups: dict[str, tuple[str, dict[str, str]]] = {}
    for e in model.entities:
        found = checks.identity_lookup(model, e.name) if beyond[e.name] else None
        if found is not None and found.name in methods:
            method = methods[found.name]
            args = {
                c.attribute: method.args[c.params[0] if c.params else c.attribute]
                for c in found.where
            }
            lookups[e.name] = (method.method, args)
    full_key = [
        f"  {name}: {', '.join(extra)}"
        + (f" (phase 3 finds it by identity through {lookups[name][0]})" if name in lookups else "")
        for name, extra in beyond.items()
        if extra
    ]
    full_key_doc = (
        "Entities whose table key needs more than the identity (attributes needed):\n"
        + "\n".join(full_key)
        if full_key
        else "Every entity's table key is built from its identity alone."
    )
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
        copies_of=", ".join(
            f"{literal(e)}: T.{copies_name(names[e])}"
            for e in sorted({c.entity for c in layout.copies})
        ),
        full_key_doc=full_key_doc,
        identity_lookups=repr(lookups),
        patterns=repr(
            {
                p.name: {"entities": tuple(p.entities), "ordered": bool(p.order_by)}
                for p in sorted(model.patterns, key=lambda p: p.name)
            }
        ),
    )


@register("repository")
def emit_repository(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """`repository.py` next to the transformers (it imports them), `_versioning.py` and
    `_loaders.py`."""
    return {
        "repository.py": format_python(repository_source(layout, model)),
        "_versioning.py": format_python(versioning_module(model)),
        "_loaders.py": format_python(loaders_module(model)),
    }
