"""The generated client's writes of entities with relationship copies (`ir.CopyItems`,
`strategy: lowest_cost`): emitted only for layouts that have copies, so every other client is
unchanged.

create / put / update / patch write the main item and its copies in one TransactWriteItems
(the main item carries the condition; a copy whose key changed is deleted in the same
transaction, found from the stored item read just before); delete_<entity> deletes the main
item and its copies together. `batch_write` puts copies beside their items and refuses deletes
of such entities, and `transaction()` refuses them (both need the stored item's copies: use the
entity's own methods). Reads stay correct whatever happens between the read and the write: a
copy whose main item no longer matches it is dropped (`_current`).
"""

from __future__ import annotations

from modeling.core import ir

COPIES_CLIENT_METHODS = '''
# ------------------------------------------------------------------ relationship copies

def _copied_write(self, item: _t.Item, old: Key | None, condition: dict[str, Any]) -> None:
    """Put `item` (under `condition`) and its relationship copies in one transaction; when
    `old` is another key, the item moves there from `old` (deleted under `condition`). The
    stored item's copies that the new item no longer has are deleted with it."""
    entity = _type_of(item) or ""
    copies = _copies_of(entity, item)
    new = _key_of(item)
    before = self._get(old if old is not None else new, True)
    keep = {_key_text(_key_of(c)) for c in copies}
    gone: list[Key] = []
    if before is not None and _type_of(before) == entity:
        gone = [
            _key_of(c) for c in _copies_of(entity, before) if _key_text(_key_of(c)) not in keep
        ]
    table = self.table_name
    actions: list[dict[str, Any]] = []
    if old is not None and _key_text(old) != _key_text(new):
        actions.append({"Delete": {"TableName": table, "Key": old, **condition}})
        actions.append({"Put": {"TableName": table, "Item": item, **_absent(_TABLE_KEY[0])}})
    else:
        actions.append({"Put": {"TableName": table, "Item": item, **condition}})
    actions += [{"Put": {"TableName": table, "Item": c}} for c in copies]
    actions += [{"Delete": {"TableName": table, "Key": k}} for k in gone]
    self.dynamodb.transact_write_items(TransactItems=actions)

def _copied_delete(self, key: Key, condition: dict[str, Any]) -> bool:
    """Delete the item at `key` (under `condition`) and its relationship copies together."""
    before = self._get(key, True)
    if before is None:
        return self._delete(key, condition)
    entity = _type_of(before) or ""
    actions: list[dict[str, Any]] = [
        {"Delete": {"TableName": self.table_name, "Key": key, **condition}}
    ]
    actions += [
        {"Delete": {"TableName": self.table_name, "Key": _key_of(c)}}
        for c in _copies_of(entity, before)
    ]
    try:
        self.dynamodb.transact_write_items(TransactItems=actions)
    except Exception as exc:
        if condition and _conditional_failed(exc):
            raise VersionConflict(f"the item {key!r} has another version or is gone") from exc
        raise
    return True
'''

COPIES_RUNTIME = '''
def _copies_of(entity: str, item: _t.Item) -> list[_t.Item]:
    """The relationship copies of a main item (none for entities without copies)."""
    make = _t.COPIES.get(entity)
    return make(_FROM_ITEM[entity](item), item) if make is not None else []


def _refuse_copies(entity: str, what: str) -> None:
    if entity in _t.COPIES:
        raise ValueError(
            f"{what} of {entity}: its relationship copies must be written with it; use the "
            f"entity's own create/put/update/delete methods"
        )
'''

# (text in the shared write runtime, what it becomes for a layout with copies)
_RUNTIME_EDITS = (
    (
        "        item = self._client._item(entity, row)\n",
        '        _refuse_copies(entity, "a transaction write")\n'
        "        item = self._client._item(entity, row)\n",
    ),
    (
        "        table_key = _TABLE_KEY_OF[entity](key)\n",
        '        _refuse_copies(entity, "a transaction delete")\n'
        "        table_key = _TABLE_KEY_OF[entity](key)\n",
    ),
)
_METHOD_EDITS = (
    (
        "        self.dynamodb.put_item(TableName=self.table_name, Item=item, "
        "**_absent(_TABLE_KEY[0]))\n",
        "        if _type_of(item) in _t.COPIES:\n"
        "            self._copied_write(item, None, _absent(_TABLE_KEY[0]))\n"
        "        else:\n"
        "            self.dynamodb.put_item(TableName=self.table_name, Item=item, "
        "**_absent(_TABLE_KEY[0]))\n",
    ),
    (
        "        self.dynamodb.put_item(TableName=self.table_name, Item=item, **condition)\n",
        "        if _type_of(item) in _t.COPIES:\n"
        "            self._copied_write(item, None, condition)\n"
        "        else:\n"
        "            self.dynamodb.put_item(TableName=self.table_name, Item=item, **condition)\n",
    ),
    (
        '        requests.append({"PutRequest": {"Item": item}})\n',
        '        requests.append({"PutRequest": {"Item": item}})\n'
        '        requests += [{"PutRequest": {"Item": c}} for c in _copies_of(entity, item)]\n',
    ),
    (
        "    for entity, key_row in deletes:\n",
        '    for entity, key_row in deletes:\n        _refuse_copies(entity, "a batch delete")\n',
    ),
)
_REPLACE_EDIT = (
    "            if new == old:\n",
    "            if _type_of(item) in _t.COPIES:\n"
    "                self._copied_write(item, old, guard)\n"
    "            elif new == old:\n",
)


def _edit(text: str, edits: tuple[tuple[str, str], ...]) -> str:
    for old, new in edits:
        if old not in text:
            raise AssertionError(f"client template changed: {old.strip()!r} not found")
        text = text.replace(old, new)
    return text


def copies_runtime(runtime: str) -> str:
    """The write runtime (module level) for a layout with copies."""
    return _edit(runtime, _RUNTIME_EDITS) + "\n\n" + COPIES_RUNTIME.strip("\n")


def copies_methods(methods: str) -> str:
    """The Client's write methods for a layout with copies, and the copy methods."""
    return _edit(methods, _METHOD_EDITS) + "\n\n" + COPIES_CLIENT_METHODS.strip("\n")


def copies_class(text: str) -> str:
    """The Client class template (`_replace`) for a layout with copies."""
    return _edit(text, (_REPLACE_EDIT,))


def copies_entity_methods(layout: ir.Layout, entity: str, text: str) -> str:
    """`delete_<entity>` of an entity with copies deletes them with it."""
    if not layout.copies_of(entity):
        return text
    return _edit(text, (("return self._delete(key,", "return self._copied_delete(key,"),))
