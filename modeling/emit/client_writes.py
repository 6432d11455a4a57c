"""The write side of the generated `client.py`: what an application needs beyond queries.

Per entity `E` (snake `e`):

- `create_e(row)`: a new item; `ItemExists` when its table key is taken;
- `put_e(row)`: create or replace; `update_e(row, previous=None)`: replace an existing item
  (moved in one transaction when its table key changed); `delete_e(key...)`;
  with a version attribute (`version:` / `source.version`), each takes `expected_version=` and
  raises `VersionConflict` when the stored item has another version (optimistic locking);
- `patch_e(key..., set=, remove=, add=, append=)`: a partial update (set attributes, remove
  optional ones, add to a number or a set, append to a list) that recomputes every index key
  from the whole new row, so no GSI key goes stale; it is written only if the stored item is
  unchanged since it was read: by its version (bumped automatically: integers +1, datetimes to
  now) or, without one, by comparing every attribute (`VersionConflict` otherwise);
- `batch_get_e(keys)`: BatchGetItem in chunks of 100 with duplicate keys folded and unprocessed
  keys retried with backoff, rows in the order asked.

For the whole model: `batch_write(puts=, deletes=)` (25 per BatchWriteItem, no two operations
on one key, unprocessed items retried) and `transaction()` (TransactWriteItems across entities,
up to 100 actions, `TransactionFailed` with DynamoDB's reason per action).

Every row written is validated first against the model (unknown attributes, required, enum,
`max_length`, and each value's type through the transformers): `ValidationError` lists every
problem. Query pages take and return opaque cursors (`InvalidCursor` for a cursor of another
pattern or a damaged one) instead of DynamoDB's LastEvaluatedKey.
"""

from __future__ import annotations

from modeling.core import ir
from modeling.emit._python import identifier, literal, render
from modeling.emit.transformers import EmitError, EntityNames, annotation
from modeling.runtime import keys

# versions the client can move forward itself on a patch (others fall back to comparing items)
_BUMPABLE = frozenset({"integer", "decimal", "float", "datetime", "date"})

WRITES_RUNTIME = '''
class ValidationError(ValueError):
    """A row the model does not allow; `problems` lists each, by attribute."""

    def __init__(self, entity: str, problems: list[str]) -> None:
        super().__init__(f"{entity}: " + "; ".join(problems))
        self.entity = entity
        self.problems = problems


class ItemExists(Exception):
    """`create_*` of an item whose table key is already taken."""


class VersionConflict(Exception):
    """The stored item changed since it was read (another version, or other content)."""


class InvalidCursor(ValueError):
    """A page cursor that this pattern did not hand out (another pattern's, or damaged)."""


class TransactionFailed(Exception):
    """DynamoDB cancelled a transaction; `reasons` has its code for each action, in order."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("transaction cancelled: " + ", ".join(reasons))
        self.reasons = reasons


_Rule = tuple[bool, tuple[str, ...] | None, int | None]  # required, enum, max_length
_BATCH_WRITE: Final = 25  # items per BatchWriteItem
_TRANSACTION: Final = 100  # actions per TransactWriteItems


def _problems(entity: str, rules: Mapping[str, _Rule], row: Mapping[str, Any]) -> list[str]:
    out = [f"{name}: not an attribute of {entity}" for name in row if name not in rules]
    for name, (required, enum, max_length) in rules.items():
        value = row.get(name)
        if value is None:
            if required:
                out.append(f"{name}: required")
            continue
        values = list(value) if isinstance(value, (list, frozenset, set, tuple)) else [value]
        for v in values:
            if enum is not None and v not in enum:
                out.append(f"{name}: {v!r} is not one of {', '.join(enum)}")
            if max_length is not None and isinstance(v, (str, bytes)) and len(v) > max_length:
                out.append(f"{name}: {len(v)} long, at most {max_length} allowed")
    return out


def _conditional_failed(exc: Exception) -> bool:
    code = _error_code(exc)
    return code == "ConditionalCheckFailedException" or (
        code == "TransactionCanceledException" and "ConditionalCheckFailed" in str(exc)
    )


def _plain_key(key: Key) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in key.items():
        ((tag, payload),) = value.items()
        if tag == "B":
            payload = base64.b64encode(bytes(payload)).decode("ascii")
        out[name] = [tag, payload]
    return out


def _cursor(pattern: str, key: Key | None) -> str | None:
    """An opaque, URL-safe cursor for the page after `key` (None: no next page)."""
    if not key:
        return None
    text = json.dumps({"p": pattern, "k": _plain_key(key)}, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _start_key(pattern: str, cursor: str | None) -> Key | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode("utf-8"))
        key: Key = {}
        for name, (tag, payload) in data["k"].items():
            if tag not in ("S", "N", "B") or not isinstance(payload, str):
                raise ValueError(tag)
            key[name] = {tag: base64.b64decode(payload) if tag == "B" else payload}
        owner = data["p"]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise InvalidCursor(f"not a page cursor of this client: {cursor[:40]!r}") from exc
    if owner != pattern:
        raise InvalidCursor(f"a cursor of pattern {owner!r} cannot page {pattern!r}")
    return key


def _bumped(type_text: str, value: Any) -> Any:
    """The next version after `value` (patch moves versions forward itself)."""
    if type_text == "datetime":
        now = _dt.datetime.now(_dt.UTC)
        if isinstance(value, _dt.datetime) and value.tzinfo is None:
            now = now.replace(tzinfo=None)
        step = _dt.timedelta(microseconds=1)
        return max(now, value + step) if isinstance(value, _dt.datetime) else now
    if type_text == "date":
        today = _dt.date.today()
        return max(today, value + _dt.timedelta(days=1)) if isinstance(value, _dt.date) else today
    return (value or 0) + 1


class Transaction:
    """Writes across entities that succeed or fail together (TransactWriteItems).

        with client.transaction() as tx:
            tx.create("Order", order)
            tx.delete("Cart", {"cart_id": cart_id})

    Leaving the block commits (nothing is written when it raises); `commit()` does the same.
    Up to 100 actions, never two on one item; `TransactionFailed` says why DynamoDB refused.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._actions: list[dict[str, Any]] = []
        self._keys: list[str] = []

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            self.commit()

    def _add(self, action: dict[str, Any], key: Key) -> Transaction:
        text = _key_text(key)
        if text in self._keys:
            raise ValueError(f"a transaction may not write one item twice: {key!r}")
        if len(self._actions) >= _TRANSACTION:
            raise ValueError(f"a transaction holds at most {_TRANSACTION} actions")
        self._keys.append(text)
        self._actions.append(action)
        return self

    def create(self, entity: EntityName, row: Mapping[str, Any]) -> Transaction:
        """A new item of `entity` (the transaction fails if its key is taken)."""
        item = self._client._item(entity, row)
        condition = _absent(_TABLE_KEY[0])
        put = {"TableName": self._client.table_name, "Item": item, **condition}
        return self._add({"Put": put}, _key_of(item))

    def put(
        self, entity: EntityName, row: Mapping[str, Any], expected_version: Any = None
    ) -> Transaction:
        """Create or replace an item of `entity` (at `expected_version`, when given)."""
        item = self._client._item(entity, row)
        condition = _version_condition(entity, expected_version)
        put = {"TableName": self._client.table_name, "Item": item, **condition}
        return self._add({"Put": put}, _key_of(item))

    def delete(
        self, entity: EntityName, key: Mapping[str, Any], expected_version: Any = None
    ) -> Transaction:
        """Delete the item of `entity` with this key (at `expected_version`, when given)."""
        table_key = _TABLE_KEY_OF[entity](key)
        condition = _version_condition(entity, expected_version)
        delete = {"TableName": self._client.table_name, "Key": table_key, **condition}
        return self._add({"Delete": delete}, table_key)

    def commit(self) -> None:
        if not self._actions:
            return
        try:
            self._client.dynamodb.transact_write_items(TransactItems=self._actions)
        except Exception as exc:
            if _error_code(exc) != "TransactionCanceledException":
                raise
            response = getattr(exc, "response", {}) or {}
            reasons = [str(r.get("Code", "None")) for r in response.get("CancellationReasons", [])]
            raise TransactionFailed(reasons or [str(exc)]) from exc
        finally:
            self._actions, self._keys = [], []


def _absent(name: str) -> dict[str, Any]:
    return {
        "ConditionExpression": "attribute_not_exists(#k)",
        "ExpressionAttributeNames": {"#k": name},
    }


def _key_of(item: Mapping[str, Any]) -> Key:
    return {name: item[name] for name in _TABLE_KEY}


def _version_condition(entity: str, expected: Any) -> dict[str, Any]:
    """`#v = :v` for an expected version (nothing when None); entities without one refuse it."""
    if expected is None:
        return {}
    version = _VERSION.get(entity)
    if version is None:
        raise ValueError(f"{entity} has no version attribute to check expected_version against")
    name, type_text = version
    value = _t.to_attribute_value(type_text, expected, name)
    return {
        "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": name},
        "ExpressionAttributeValues": {":v": value},
    }


def _unchanged(entity: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """A condition true only while the stored item is exactly `item` (optimistic, no version)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts: list[str] = []
    for i, (name, value) in enumerate(sorted(item.items())):
        names[f"#a{i}"] = name
        values[f":a{i}"] = value
        parts.append(f"#a{i} = :a{i}")
    absent = [n for n in sorted(_RULES[entity]) if n not in item]
    for j, name in enumerate(absent):
        names[f"#n{j}"] = name
        parts.append(f"attribute_not_exists(#n{j})")
    return {
        "ConditionExpression": " AND ".join(parts),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
'''

WRITES_CLIENT_METHODS = '''
# ------------------------------------------------------------------ writes

def transaction(self) -> Transaction:
    """Writes across entities that succeed or fail together (see `Transaction`)."""
    return Transaction(self)

def _item(self, entity: str, row: Mapping[str, Any]) -> _t.Item:
    """`row` validated against the model and turned into an item (ValidationError)."""
    problems = _problems(entity, _RULES[entity], row)
    if problems:
        raise ValidationError(entity, problems)
    try:
        return _TO_ITEM[entity](row)
    except _t.TransformError as exc:
        raise ValidationError(entity, [str(exc)]) from exc

def _create(self, item: _t.Item) -> None:
    try:
        self.dynamodb.put_item(TableName=self.table_name, Item=item, **_absent(_TABLE_KEY[0]))
    except Exception as exc:
        if _conditional_failed(exc):
            raise ItemExists(f"an item with key {_key_of(item)!r} exists") from exc
        raise

def _put(self, item: _t.Item, condition: dict[str, Any]) -> None:
    try:
        self.dynamodb.put_item(TableName=self.table_name, Item=item, **condition)
    except Exception as exc:
        if condition and _conditional_failed(exc):
            raise VersionConflict(f"the item {_key_of(item)!r} has another version") from exc
        raise

def _delete(self, key: Key, condition: dict[str, Any]) -> bool:
    try:
        response: dict[str, Any] = self.dynamodb.delete_item(
            TableName=self.table_name, Key=key, ReturnValues="ALL_OLD", **condition
        )
    except Exception as exc:
        if condition and _conditional_failed(exc):
            raise VersionConflict(f"the item {key!r} has another version or is gone") from exc
        raise
    return "Attributes" in response

def _patch(
    self,
    entity: str,
    key: Key,
    set: Mapping[str, Any] | None,
    remove: Iterable[str],
    add: Mapping[str, Any] | None,
    append: Mapping[str, Iterable[Any]] | None,
    expected_version: Any,
) -> _t.Item:
    item = self._get(key, True)
    if item is None or _type_of(item) != entity:
        raise ItemNotFound(f"no {entity} with key {key!r} in {self.table_name}")
    row = dict(_FROM_ITEM[entity](item))
    version = _VERSION.get(entity)
    if expected_version is not None:
        if version is None:
            raise ValueError(f"{entity} has no version attribute to check expected_version against")
        if row.get(version[0]) != expected_version:
            raise VersionConflict(f"{entity} {key!r} is at version {row.get(version[0])!r}")
    touched: list[str] = []
    for name, value in (set or {}).items():
        row[name] = value
        touched.append(name)
    for name in remove:
        row[name] = None
        touched.append(name)
    for name, delta in (add or {}).items():
        current = row.get(name)
        if hasattr(delta, "__iter__") and not isinstance(delta, (str, bytes)):
            row[name] = frozenset(current or ()) | frozenset(delta)  # add to a set
        else:
            row[name] = (current or 0) + delta
        touched.append(name)
    for name, values in (append or {}).items():
        row[name] = [*(row.get(name) or []), *values]
        touched.append(name)
    unknown = [n for n in touched if n not in _RULES[entity]]
    if unknown:
        raise ValidationError(entity, [f"{n}: not an attribute of {entity}" for n in unknown])
    bump = version is not None and version[1] in _BUMPABLE and version[0] not in touched
    if version is not None and bump:
        row[version[0]] = _bumped(version[1], row.get(version[0]))
    new = self._item(entity, row)
    if _key_text(_key_of(new)) != _key_text(key):
        raise ValueError(
            f"this patch changes the table key of {entity} {key!r}: use update with previous="
        )
    if version is not None and bump and version[0] in item:
        condition = {
            "ConditionExpression": "#v = :v",
            "ExpressionAttributeNames": {"#v": version[0]},
            "ExpressionAttributeValues": {":v": item[version[0]]},
        }
    else:
        condition = _unchanged(entity, item)
    self._put(new, condition)
    return new

def _batch_get(
    self, entity: str, keys: Iterable[Mapping[str, Any]], consistent_read: bool
) -> list[_t.Item]:
    wanted = [_TABLE_KEY_OF[entity](k) for k in keys]
    found = self._items_by_key(wanted, consistent_read)
    out: list[_t.Item] = []
    for key in wanted:
        item = found.get(_key_text(key))
        if item is not None and _type_of(item) == entity:
            out.append(item)
    return out

def batch_write(
    self,
    puts: Iterable[tuple[EntityName, Mapping[str, Any]]] = (),
    deletes: Iterable[tuple[EntityName, Mapping[str, Any]]] = (),
) -> int:
    """Put and delete many items (BatchWriteItem, 25 per call, unprocessed items retried with
    backoff); the number of operations. Not atomic, no conditions: see `transaction()`.
    Every row is validated first; two operations on one item are refused (DynamoDB would
    reject the batch)."""
    requests: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for entity, row in puts:
        item = self._item(entity, row)
        requests.append({"PutRequest": {"Item": item}})
        text = _key_text(_key_of(item))
        if text in seen:
            raise ValueError(f"two operations on one item in a batch: {_key_of(item)!r}")
        seen[text] = entity
    for entity, key_row in deletes:
        key = _TABLE_KEY_OF[entity](key_row)
        text = _key_text(key)
        if text in seen:
            raise ValueError(f"two operations on one item in a batch: {key!r}")
        seen[text] = entity
        requests.append({"DeleteRequest": {"Key": key}})
    for start in range(0, len(requests), _BATCH_WRITE):
        pending: dict[str, Any] = {self.table_name: requests[start : start + _BATCH_WRITE]}
        for attempt in range(_RETRIES + 1):
            response: dict[str, Any] = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        else:
            left = sum(len(v) for v in pending.values())
            raise RuntimeError(f"BatchWriteItem left {left} item(s) unprocessed after retries")
    return len(requests)
'''


def entity_write_methods(
    entity: ir.Entity,
    names: EntityNames,
    table_key: ir.EntityKey,
    key_names: tuple[str, ...],
    taken: set[str],
) -> str:
    """create/put/update/delete/patch/batch_get for one entity (methods of `Client`)."""
    slots: list[str] = []
    for template in (table_key.pk, table_key.sk):
        if template is not None:
            for s in keys.parse_template(template).slots:
                if s not in slots:
                    slots.append(s)
    params: list[str] = []
    mapping: list[str] = []
    local: set[str] = set()
    reserved = frozenset({"self", "set", "remove", "add", "append", "expected_version"})
    for s in slots:
        a = entity.attribute(s)
        if a is None:
            raise EmitError(f"{entity.name}: table key slot {{{s}}} is not an attribute")
        py = identifier(s, local, reserved)
        params.append(f"{py}: {annotation(a.type)}")
        mapping.append(f"{literal(s)}: {py}")
    version = entity.attribute(entity.version) if entity.version else None
    if version is not None:
        v_kw = f", expected_version: {annotation(version.type)} | None = None"
        v_doc = (
            f"\n\nWith `expected_version`, only while the stored item's `{version.name}` is "
            "that value (VersionConflict otherwise)."
        )
        v_arg = "expected_version"
    else:
        v_kw, v_doc, v_arg = "", "", "None"
    fn = {
        verb: identifier(f"{verb}_{names.snake}", taken)
        for verb in ("create", "put", "update", "delete", "patch", "batch_get")
    }
    row = f"_t.{names.row_type}"
    return render(
        '''
        def $create(self, row: $row) -> None:
            """Write a new $entity; ItemExists when its table key is taken.

            The row is validated against the model first (ValidationError)."""
            self._create(self._item($name, row))

        def $put(self, row: $row$v_kw) -> None:
            """Write a $entity (create or replace), with every index key computed from `row`.$v_doc"""
            self._put(self._item($name, row), _version_condition($name, $v_arg))

        def $update(self, row: $row, previous: Mapping[str, Any] | None = None$v_kw) -> None:
            """Replace an existing $entity with `row`, recomputing every index key (a full put).

            Pass `previous` (the stored row) when an attribute of the table key may have
            changed: the old item is then deleted and the new one written in one transaction.
            Raises ItemNotFound when there is no such item.$v_doc
            """
            item = self._item($name, row)
            old = _t.$table_key(previous if previous is not None else row)
            self._replace(item, old, $key_names, _version_condition($name, $v_arg))

        def $delete(self, $params$v_kw) -> bool:
            """Delete a $entity by its table key; True when an item was there.$v_doc"""
            key = _t.$table_key({$mapping})
            return self._delete(key, _version_condition($name, $v_arg))

        def $patch(
            self,
            $params,
            *,
            set: Mapping[str, Any] | None = None,
            remove: Iterable[str] = (),
            add: Mapping[str, Any] | None = None,
            append: Mapping[str, Iterable[Any]] | None = None$v_kw,
        ) -> $row:
            """Change some attributes of a $entity and return the new row.

            `set` values, `remove` optional attributes, `add` to a number or a set, `append`
            to a list. Every index key is recomputed from the whole new row, and the item is
            written only if it is unchanged since it was read (VersionConflict otherwise).
            ItemNotFound when there is none; ValueError when the table key would change.$v_doc
            """
            key = _t.$table_key({$mapping})
            item = self._patch($name, key, set, remove, add, append, $v_arg)
            return _t.$from_item(item)

        def $batch_get(
            self, keys: Iterable[Mapping[str, Any]], *, consistent_read: bool = False
        ) -> list[$row]:
            """The $entity rows with these table keys, in the order asked (missing ones left
            out); BatchGetItem, 100 keys per call, unprocessed keys retried."""
            return [_t.$from_item(i) for i in self._batch_get($name, keys, consistent_read)]
        ''',
        name=literal(entity.name),
        entity=entity.name,
        row=row,
        v_kw=v_kw,
        v_doc=v_doc,
        v_arg=v_arg,
        params=", ".join(params),
        mapping=", ".join(mapping),
        table_key=names.table_key,
        to_item=names.to_item,
        from_item=names.from_item,
        key_names=literal(key_names),
        **fn,
    )


def dispatch_tables(model: ir.Model, names: dict[str, EntityNames]) -> str:
    """Per-entity tables the write runtime looks entities up in."""
    rules: list[str] = []
    versions: list[str] = []
    for e in model.entities:
        fields = ", ".join(
            f"{literal(a.name)}: ({a.required}, {literal(a.enum) if a.enum else None}, "
            f"{a.max_length})"
            for a in e.attributes
        )
        rules.append(f"{literal(e.name)}: {{{fields}}}")
        v = e.attribute(e.version) if e.version else None
        if v is not None:
            versions.append(f"{literal(e.name)}: ({literal(v.name)}, {literal(str(v.type))})")
    entity_names = ", ".join(literal(e.name) for e in model.entities)
    to_item = ", ".join(f"{literal(e)}: _t.{n.to_item}" for e, n in names.items())
    from_item = ", ".join(f"{literal(e)}: _t.{n.from_item}" for e, n in names.items())
    table_key = ", ".join(f"{literal(e)}: _t.{n.table_key}" for e, n in names.items())
    return "\n".join(
        [
            f"EntityName = Literal[{entity_names}]",
            f"_RULES: Final[dict[str, dict[str, _Rule]]] = {{{', '.join(rules)}}}",
            f"_VERSION: Final[dict[str, tuple[str, str]]] = {{{', '.join(versions)}}}",
            f"_BUMPABLE: Final = {literal(tuple(sorted(_BUMPABLE)))}",
            "_TO_ITEM: Final[dict[str, Callable[[Mapping[str, Any]], _t.Item]]] = {"
            + to_item
            + "}",
            "_FROM_ITEM: Final[dict[str, Callable[[Mapping[str, Any]], Any]]] = {"
            + from_item
            + "}",
            "_TABLE_KEY_OF: Final[dict[str, Callable[[Mapping[str, Any]], Key]]] = {"
            + table_key
            + "}",
        ]
    )
