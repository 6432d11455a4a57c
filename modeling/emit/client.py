"""`client.py`: a typed query client, one method per access pattern, over boto3's low-level API.

Generated from the plans in the Layout IR, so what runs is exactly what `model compile` proved:
the KeyConditionExpression on the planned index (values from the transformers' key builders,
so query-time keys are encoded by the same code as write-time keys), ScanIndexForward from the
pattern's order, the entity-type FilterExpression when the plan needs one, non-key filters,
the pattern's limit (counted on matching items: DynamoDB's own `Limit` counts items read
before a filter, so it is only passed when there is no filter), full pagination, GetItem for
unique full-key plans, and decoding through the transformers.

Per pattern `p`: `p(...)` returns everything (a list, a row or None for unique patterns, or a
`PResult` with one list per entity for item-collection reads), `iter_p(...)` streams, and
`p_page(..., cursor=, page_size=)` returns one page and an opaque cursor for the next. Per
entity and for the whole model, the write side of `modeling.emit.client_writes`: create, put,
update (moving an item whose table key changed), delete, patch, batch get, batch write and
transactions, with validation against the model and optimistic locking.

The generated module imports only the standard library and its sibling `transformers`; it
takes any boto3 DynamoDB client (`boto3.client("dynamodb")`), so it does not import boto3.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from modeling.core import ir, limits
from modeling.core.naming import pascal, snake
from modeling.core.values import coerce
from modeling.emit import FileManifest, register
from modeling.emit._python import (
    Imports,
    comment_header,
    format_python,
    identifier,
    indent,
    literal,
    render,
    value_literal,
)
from modeling.emit.client_copies import (
    copies_class,
    copies_entity_methods,
    copies_methods,
    copies_runtime,
)
from modeling.emit.client_writes import (
    WRITES_CLIENT_METHODS,
    WRITES_RUNTIME,
    dispatch_tables,
    entity_write_methods,
)
from modeling.emit.transformers import (
    RESERVED_PARAMS,
    EmitError,
    EntityNames,
    PatternParams,
    entity_names,
    is_epoch_ttl,
    key_builder_name,
    pattern_params,
)
from modeling.requests import PlanError, filter_literals, key_condition_expression
from modeling.runtime import keys as key_codec


def docstring(text: str) -> str:
    """A triple-quoted docstring literal for arbitrary text: control characters (a NUL made the
    generated module unparseable), surrogates and line separators are written as escapes."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').rstrip()
    body = "".join(_escape(c) for c in body)
    if body.endswith('"'):
        body += " "
    return f'"""{body}"""'


def _escape(c: str) -> str:
    if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Zl", "Zp"):
        return c
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def _type_value(layout: ir.Layout, entity: str) -> str:
    el = layout.entity(entity)
    return el.type_value if el is not None else entity


def _key_condition(plan: ir.PatternPlan, index: ir.Index) -> tuple[str, dict[str, str]]:
    try:
        return key_condition_expression(plan, index)
    except PlanError as exc:
        raise EmitError(f"pattern {plan.pattern}: {exc}") from None


def _filter_code(
    model: ir.Model, layout: ir.Layout, plan: ir.PatternPlan, params: PatternParams
) -> tuple[list[str], dict[str, str], list[str]]:
    """(FilterExpression conjuncts, attribute names, statements adding values to `values`)."""
    conjuncts: list[str] = []
    names: dict[str, str] = {}
    lines: list[str] = []
    if plan.type_filter:
        names["#type"] = layout.type_attribute
        holders = []
        for i, t in enumerate(plan.type_filter):
            # the IR's type_filter holds type values (the type attribute's content)
            lines.append(f'values[":type{i}"] = {{"S": {literal(t)}}}')
            holders.append(f":type{i}")
        conjuncts.append(f"#type IN ({', '.join(holders)})")
    fixed = filter_literals(model, plan)
    for i, f in enumerate(plan.filters):
        names[f"#f{i}"] = f.attribute
        type_text = None
        epoch = False  # the table's TTL datetime: stored as N epoch seconds, compared as such
        for name in plan.entities:
            e = model.entity(name)
            a = e.attribute(f.attribute) if e else None
            if a is not None:
                type_text = str(a.type)
                epoch = is_epoch_ttl(model, a)
                break
        type_text = type_text or "string"
        convert = (
            "_t.ttl_attribute_value(" if epoch else f"_t.to_attribute_value({literal(type_text)}, "
        )
        count = 0 if f.op in ir.NULL_TESTS else 2 if f.op == "between" else 1
        for j in range(count):
            if (i, j) in fixed:
                value = f"{convert}{value_literal(fixed[(i, j)])})"
            else:
                p = f.params[j] if j < len(f.params) else f.params[-1]
                value = f"{convert}{params.names[p]}, {literal(p)})"
            lines.append(f'values[":f{i}_{j}"] = _required({value}, {literal(f.attribute)})')
        if f.op == "between":
            conjuncts.append(f"#f{i} BETWEEN :f{i}_0 AND :f{i}_1")
        elif f.op in ir.NULL_TESTS:  # NULL is stored as no attribute
            test = "attribute_not_exists" if f.op == "is_null" else "attribute_exists"
            conjuncts.append(f"{test}(#f{i})")
        elif f.op == "begins_with":
            conjuncts.append(f"begins_with(#f{i}, :f{i}_0)")
        elif f.op in ("=", "<", "<=", ">", ">="):
            conjuncts.append(f"#f{i} {f.op} :f{i}_0")
        else:
            raise EmitError(f"pattern {plan.pattern}: unknown filter operator {f.op!r}")
    return conjuncts, names, lines


class _PatternEmitter:
    def __init__(
        self,
        model: ir.Model,
        layout: ir.Layout,
        plan: ir.PatternPlan,
        names: dict[str, EntityNames],
        taken: set[str],
    ) -> None:
        self.model = model
        self.layout = layout
        self.plan = plan
        self.names = names
        index = layout.index(plan.index)
        if index is None:
            raise EmitError(f"pattern {plan.pattern}: unknown index {plan.index}")
        self.index = index
        self.params = pattern_params(model, plan)
        pattern = model.pattern(plan.pattern)
        # `attr IN (...)`: the key binds one value per Query (`ir.in_value_param`); the public
        # methods take the values instead: one argument each, or one sequence (`IN :ids`)
        self.fan = next((c for c in pattern.where if c.op == ir.IN), None) if pattern else None
        self.fan_args: list[tuple[str, str]] = []
        self.fan_values = ""
        self.sort_key = ""
        taken_args = set(self.params.names.values())
        if self.fan is not None:
            self._fan_out(self.fan, pattern, taken_args)
        # `LIMIT :n`: the most matching items, an argument of the methods that read all pages
        self.limit_arg = (
            identifier(plan.limit_param, taken_args, RESERVED_PARAMS)
            if plan.limit_param is not None
            else None
        )
        base = identifier(snake(plan.pattern))
        self.fn = identifier(base, taken)
        self.iter_fn = identifier(f"iter_{base}", taken)
        self.page_fn = identifier(f"{base}_page", taken)
        self.request_fn = identifier(f"_{base}_request", taken)
        self.result_type = pascal(plan.pattern) + "Result"
        for e in plan.entities:
            if e not in names:
                raise EmitError(f"pattern {plan.pattern} reads unknown entity {e}")
        self.multi = len(plan.entities) > 1
        self.description = (pattern.description or "").strip() if pattern else ""
        # KEYS_ONLY/INCLUDE index entries and relationship copies are completed by BatchGetItem
        self.full_items = index.projection != "ALL" or plan.copy is not None

    def _fan_out(
        self, fan: ir.Condition, pattern: ir.AccessPattern | None, taken: set[str]
    ) -> None:
        each = ir.in_value_param(fan.attribute)
        if each not in self.params.names:
            raise EmitError(f"pattern {self.plan.pattern}: IN on {fan.attribute} binds no key slot")
        element = self.params.types[each]
        if fan.params:
            for p in fan.params:
                arg = identifier(p, taken, RESERVED_PARAMS)
                self.fan_args.append((arg, f"Sequence[{element}]" if fan.listed else element))
            args = [a for a, _ in self.fan_args]
            self.fan_values = args[0] if fan.listed else "(" + ", ".join(args) + ",)"
        else:
            kind = self.params.kinds[each]
            self.fan_values = (
                "(" + ", ".join(value_literal(coerce(kind, v)) for v in fan.literals) + ",)"
            )
        if pattern is not None and pattern.order_by and not self.multi_entities:
            high = pattern.nulls_high
            self.sort_key = (
                f"key=lambda row: _order_key(row.get({literal(pattern.order_by)}), {high}), "
                f"reverse={pattern.order == 'desc'}"
            )

    @property
    def multi_entities(self) -> bool:
        return len(self.plan.entities) > 1

    # ----------------------------------------------------------------- pieces

    def _public(self) -> list[tuple[str, str]]:
        """(argument, annotation) of the methods callers use: the IN values stand for the
        per-Query value."""
        out: list[tuple[str, str]] = []
        each = ir.in_value_param(self.fan.attribute) if self.fan is not None else None
        for p, name in self.params.names.items():
            if p == each:
                out += self.fan_args
            else:
                out.append((name, self.params.types[p]))
        return out

    def _signature(self, limit: bool = False, public: bool = False) -> str:
        if public:
            sig = ", ".join(f"{a}: {t}" for a, t in self._public())
        else:
            sig = self.params.signature()
        if limit and self.limit_arg is not None:
            sig = f"{sig}, {self.limit_arg}: int" if sig else f"{self.limit_arg}: int"
        return f"self, {sig}" if sig else "self"

    def _call_args(self, limit: bool = False, public: bool = False) -> str:
        if public:
            args = [a for a, _ in self._public()]
        else:
            args = [self.params.names[p] for p in self.params.names]
        if limit and self.limit_arg is not None:
            args.append(self.limit_arg)
        return ", ".join(args)

    def _each_args(self) -> str:
        """The request function's arguments inside the per-value loop (`_value`)."""
        assert self.fan is not None
        each = ir.in_value_param(self.fan.attribute)
        return ", ".join("_value" if p == each else n for p, n in self.params.names.items())

    def _row_type(self) -> str:
        if self.multi:
            return "tuple[str, Mapping[str, Any]]"
        return self.names[self.plan.entities[0]].row_type

    def _decode(self, item: str) -> str:
        if self.multi:
            return f"_t.from_item({item})"
        return f"_t.{self.names[self.plan.entities[0]].from_item}({item})"

    def _doc(self, what: str) -> str:
        plan = self.plan
        expression, _ = _key_condition(plan, self.index)
        lines = [f"{what}"]
        if self.description:
            lines += ["", self.description]
        lines += [
            "",
            f"Pattern `{plan.pattern}` ({', '.join(plan.entities)}): {plan.operation} on "
            f"{'the table' if self.index.kind == 'table' else self.index.name}, "
            + (f"key condition `{expression}`" if plan.operation == "Query" else "full key")
            + (
                f", {'ascending' if plan.scan_forward else 'descending'}"
                if plan.operation == "Query"
                else ""
            )
            + (f", at most {plan.limit} items" if plan.limit is not None else "")
            + (f", at most `{self.limit_arg}` items" if self.limit_arg is not None else "")
            + ".",
        ]
        return docstring("\n".join(lines))

    def _shard_args(self, start_keys: bool = False) -> str:
        """The arguments `_query_shards` / `_page_shards` take after the request's: the shard
        count, the sort-key attribute the merge compares, the direction, and for pages the
        key names of an ExclusiveStartKey on the index."""
        sk = self.index.sk.name if self.index.sk is not None else None
        args = f"{self.plan.sharded}, {literal(sk)}, {not self.plan.scan_forward}"
        if not start_keys:
            return args
        names = tuple(n for n in (self.index.pk.name, sk) if n is not None)
        return f"{args}, _TABLE_KEY + {literal(names)}"

    def _query_call(self, limit: str, read_limit: str) -> str:
        """The call yielding the matching items of `request`: one Query loop, or one per shard
        merged."""
        full = str(self.full_items)
        if self.plan.sharded:
            return (
                f"self._query_shards(request, {limit}, {read_limit}, {full}, {self._shard_args()})"
            )
        return f"self._query(request, {limit}, {read_limit}, {full})"

    def request(self) -> str:
        plan = self.plan
        expression, names = _key_condition(plan, self.index)
        conjuncts, fnames, flines = _filter_code(self.model, self.layout, plan, self.params)
        names.update(fnames)
        key_params = {
            b.param for kv in (plan.pk, *plan.sk.values) for b in kv.bindings if b.literal is None
        } | {b.param for c in plan.key_attributes for b in c.values if b.literal is None}
        args = ", ".join(self.params.names[p] for p in self.params.names if p in key_params)
        lines = [f"values = _t.{key_builder_name(plan)}({args})", *flines]
        request = [
            f'"KeyConditionExpression": {literal(expression)}',
            f'"ExpressionAttributeNames": {{{", ".join(f"{literal(k)}: {literal(v)}" for k, v in names.items())}}}',
            '"ExpressionAttributeValues": values',
            f'"ScanIndexForward": {plan.scan_forward}',
        ]
        if self.index.kind != "table":
            request.append(f'"IndexName": {literal(self.index.name)}')
        if conjuncts:
            request.append(f'"FilterExpression": {literal(" AND ".join(conjuncts))}')
        built = "{" + ", ".join(request) + "}"
        last = plan.key_attributes[-1] if plan.key_attributes else None
        if last is not None and last.kind == "begins_with":
            built = f"_keys.whole_prefix({built})"  # an empty prefix is no condition
        lines.append(f"return {built}")
        return render(
            """
            def $fn($signature) -> dict[str, Any]:
            $body
            """,
            fn=self.request_fn,
            signature=self._signature(),
            body=indent("\n".join(lines), 1),
        )

    def _query_limit(self) -> str:
        """The `limit` passed to `_query`: matching items to collect (None = all)."""
        if self.plan.unique:
            return "2"
        if self.limit_arg is not None:
            return self.limit_arg
        return "None" if self.plan.limit is None else str(self.plan.limit)

    def _has_filter(self) -> bool:
        return bool(self.plan.type_filter or self.plan.filters)

    def _read_limit(self) -> str:
        """DynamoDB's `Limit` for the first pages: only safe without a FilterExpression."""
        if self._has_filter():
            return "None"
        return self._query_limit()

    def methods(self) -> str:
        if self.fan is not None:
            if self.plan.operation == "GetItem":
                return self._fan_get()
            return "\n\n".join([self.request(), self._all(), self._fan_iter()])
        if self.plan.operation == "GetItem":
            return self._get_item()
        parts = [self.request(), self._all(), self._iter(), self._page()]
        return "\n\n".join(parts)

    def _fan_what(self) -> str:
        assert self.fan is not None
        merge = (
            "merged in the pattern's order"
            if self.sort_key
            else "one value's answer after the other (the SQL promises no order)"
        )
        return (
            f"One Query per distinct value of {self.fan.attribute} (SQL's IN), the answers {merge}"
            + (", then cut to the limit" if self.plan.limit or self.limit_arg else "")
            + "."
        )

    def _fan_iter(self) -> str:
        kw, stmt = self._consistent()
        star = ", *" if kw else ""
        limit = self._query_limit()
        sort = f"rows.sort({self.sort_key})\n" if self.sort_key else ""
        cut = f"rows[:{limit}]" if limit != "None" else "rows"
        return render(
            """
            def $fn($signature$star$kw) -> Iterator[$row]:
                $doc

                rows: list[$row] = []
                for _value in _distinct($values):
                    request = self.$request($args)
                    $stmt
                    for item in $query:
                        rows.append($decode)
            $sort
                yield from $cut
            """,
            fn=self.iter_fn,
            signature=self._signature(limit=True, public=True),
            star=star,
            kw=kw,
            row=self._row_type(),
            doc=self._doc(self._fan_what()),
            values=self.fan_values,
            request=self.request_fn,
            args=self._each_args(),
            stmt=stmt,
            query=self._query_call(limit, self._read_limit()),
            decode=self._decode("item"),
            sort=indent(sort, 1) if sort else "",
            cut=cut,
        )

    def _fan_get(self) -> str:
        plan = self.plan
        entity = plan.entities[0]
        n = self.names[entity]
        wanted = [_type_value(self.layout, e) for e in plan.entities]
        return render(
            """
            def $fn($signature, *, consistent_read: bool = False) -> list[$row]:
                $doc

                rows: list[$row] = []
                for _value in _distinct($values):
                    item = self._get(_t.$builder($args), consistent_read)
                    if item is not None and _type_of(item) in $wanted:
                        rows.append(_t.$from_item(item))
                return rows
            """,
            fn=self.fn,
            signature=self._signature(public=True),
            row=n.row_type,
            doc=self._doc(
                f"The {entity} of each distinct value of {self.fan.attribute if self.fan else ''} "
                "(SQL's IN), one GetItem per value, in the order of the values."
            ),
            values=self.fan_values,
            builder=key_builder_name(plan),
            args=self._each_args(),
            wanted=literal(tuple(wanted)),
            from_item=n.from_item,
        )

    def _get_item(self) -> str:
        plan = self.plan
        entity = plan.entities[0]
        n = self.names[entity]
        wanted = [_type_value(self.layout, e) for e in plan.entities]
        key_args = self._call_args()
        return render(
            """
            def $fn($signature, *, consistent_read: bool = False) -> $row | None:
                $doc

                item = self._get(_t.$builder($args), consistent_read)
                if item is None or _type_of(item) not in $wanted:
                    return None
                return _t.$from_item(item)
            """,
            fn=self.fn,
            signature=self._signature(),
            row=n.row_type,
            doc=self._doc(f"The {entity} matching the parameters, or None."),
            builder=key_builder_name(plan),
            args=key_args,
            wanted=literal(tuple(wanted)),
            from_item=n.from_item,
        )

    def _consistent(self) -> tuple[str, str]:
        """(keyword parameter, request statement) for consistent reads (not on GSIs)."""
        if self.index.kind == "gsi":
            return "", ""
        return (
            ", consistent_read: bool = False",
            'request["ConsistentRead"] = consistent_read',
        )

    def _all(self) -> str:
        plan = self.plan
        kw, _ = self._consistent()
        public = self._call_args(limit=True, public=True)
        args = [public] if public else []
        if kw:
            args.append("consistent_read=consistent_read")
        call = f"self.{self.iter_fn}({', '.join(args)})"
        if self.multi:
            result = self.result_type
            body = render(
                """
                result = $result()
                for entity, row in $call:
                    getattr(result, _RESULT_FIELDS[entity]).append(row)
                return result
                """,
                result=result,
                call=call,
            )
            returns = result
            what = f"Every match, one list per entity ({', '.join(plan.entities)})."
        elif plan.unique:
            body = render(
                """
                rows = list($call)
                if len(rows) > 1:
                    raise NotUnique($pattern, rows)
                return rows[0] if rows else None
                """,
                call=call,
                pattern=literal(plan.pattern),
            )
            returns = f"{self._row_type()} | None"
            what = "The one match, or None (NotUnique when the data breaks the promise)."
        else:
            body = f"return list({call})\n"
            returns = f"list[{self._row_type()}]"
            what = "Every match, in the pattern's order (all pages are read)."
        star = ", *" if kw else ""
        return render(
            """
            def $fn($signature$star$kw) -> $returns:
                $doc
            $body
            """,
            fn=self.fn,
            signature=self._signature(limit=True, public=True),
            star=star,
            kw=kw,
            returns=returns,
            doc=self._doc(what),
            body=indent(body, 1),
        )

    def _iter(self) -> str:
        kw, stmt = self._consistent()
        star = ", *" if kw else ""
        return render(
            """
            def $fn($signature$star$kw) -> Iterator[$row]:
                $doc

                request = self.$request($args)
                $stmt
                for item in $query:
                    yield $decode
            """,
            fn=self.iter_fn,
            signature=self._signature(limit=True),
            star=star,
            kw=kw,
            row=self._row_type(),
            doc=self._doc(
                f"The matches of all {self.plan.sharded} shards (read in parallel, up to the "
                "limit each), merged in the pattern's order."
                if self.plan.sharded
                else "Stream the matches page by page."
            ),
            request=self.request_fn,
            args=self._call_args(),
            stmt=stmt,
            query=self._query_call(self._query_limit(), self._read_limit()),
            decode=self._decode("item"),
        )

    def _page(self) -> str:
        kw, stmt = self._consistent()
        return render(
            """
            def $fn(
                $signature, *, cursor: str | None = None, page_size: int | None = None$kw
            ) -> tuple[list[$row], str | None]:
                $doc

                request = self.$request($args)
                $stmt
                items, after = $paged
                return [$decode for item in items], after
            """,
            fn=self.page_fn,
            signature=self._signature(),
            kw=kw,
            row=self._row_type(),
            doc=self._doc(
                (
                    f"One page of the merged shards (at most `page_size` matching items, "
                    f"{SHARD_PAGE} when None; one Query per shard, in parallel) and the opaque "
                    "cursor to pass as `cursor` for the next (None after the last page): it "
                    "holds each shard's position, so no item is lost or repeated."
                )
                if self.plan.sharded
                else "One Query page (at most `page_size` items read, before filters) and the "
                "opaque cursor to pass as `cursor` for the next (None on the last page)."
            ),
            request=self.request_fn,
            args=self._call_args(),
            stmt=stmt,
            paged=(
                f"self._page_shards({literal(self.plan.pattern)}, request, cursor, page_size, "
                f"{self.full_items}, {self._read_limit_page()}, {self._shard_args(True)})"
                if self.plan.sharded
                else f"self._page({literal(self.plan.pattern)}, request, cursor, page_size, "
                f"{self.full_items})"
            ),
            decode=self._decode("item"),
        )

    def _read_limit_page(self) -> str:
        """Whether a sharded page may pass its size as DynamoDB's `Limit` (no filter)."""
        return str(not self._has_filter())

    def result_class(self) -> str:
        if not self.multi:
            return ""
        fields = "\n".join(
            f"    {self.names[e].snake}: list[_t.{self.names[e].row_type}] = field(default_factory=list)"
            for e in self.plan.entities
        )
        return (
            f"@dataclass\nclass {self.result_type}:\n"
            f"    {docstring(f'What `{self.fn}` returns: the rows of each entity, in the order read.')}\n\n"
            f"{fields}\n"
        )


def _entity_methods(
    layout: ir.Layout, model: ir.Model, entity: ir.Entity, n: EntityNames, taken: set[str]
) -> str:
    table = next(i for i in layout.indexes if i.kind == "table")
    el = layout.entity(entity.name)
    ek = el.key(table.name) if el is not None else None
    if ek is None:
        raise EmitError(f"{entity.name} has no table key")
    key_names = (table.pk.name,) + ((table.sk.name,) if table.sk is not None else ())
    return entity_write_methods(entity, n, ek, key_names, taken)


CLIENT_RUNTIME = '''
Key = dict[str, dict[str, Any]]
_BATCH_GET: Final = 100  # keys per BatchGetItem
_RETRIES: Final = 8


class NotUnique(LookupError):
    """A `unique` pattern matched more than one item (a GSI does not enforce uniqueness)."""

    def __init__(self, pattern: str, rows: list[Any]) -> None:
        super().__init__(f"pattern {pattern} promises at most one item; {len(rows)} matched")
        self.pattern = pattern
        self.rows = rows


class ItemNotFound(LookupError):
    """An update of an item that does not exist."""


def _type_of(item: Mapping[str, Any]) -> str | None:
    value = item.get(_t.TYPE_ATTRIBUTE)
    return value.get("S") if isinstance(value, Mapping) else None


def _required(value: _t.AttributeValue | None, attribute: str) -> _t.AttributeValue:
    if value is None:
        raise ValueError(f"filter on {attribute}: the value must not be None or an empty set")
    return value


def _empty_range(request: Mapping[str, Any]) -> bool:
    """A sort-key BETWEEN whose lower bound sorts above its upper bound (`> :a AND < :a`,
    `:from` after `:to`) matches nothing, as in SQL; DynamoDB would reject it, so it is not sent."""
    if "BETWEEN" not in request["KeyConditionExpression"]:
        return False
    values = request["ExpressionAttributeValues"]
    return _keys.empty_between(values[":sk0"], values[":sk1"])


def _distinct(values: Iterable[Any]) -> list[Any]:
    """The values of an IN list, each once (SQL returns a row once however often its value
    is listed)."""
    return list(dict.fromkeys(values))


def _order_key(value: Any, nulls_high: bool) -> tuple[int, Any]:
    """Sort key of an ordering value; NULL sorts above (`nulls_high`) or below every value.
    Strings compare by code point, which is DynamoDB's (UTF-8 byte) order."""
    if value is None:
        return (2 if nulls_high else 0, 0)
    return (1, value)


def _error_code(exc: Exception) -> str:
    """The DynamoDB error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            return str(error.get("Code", ""))
    return ""


def _key_text(key: Mapping[str, Any]) -> str:
    return repr(sorted((name, sorted(value.items())) for name, value in key.items()))
'''

CLIENT_CLASS = '''
class Client:
    """Typed access to table `$table` ($model), through a boto3 low-level DynamoDB client.

        client = Client("$table", boto3.client("dynamodb"))
    """

    def __init__(self, table_name: str, dynamodb_client: Any) -> None:
        self.table_name = table_name
        self.dynamodb = dynamodb_client

    # ------------------------------------------------------------------ plumbing

    def _query(
        self, request: dict[str, Any], limit: int | None, read_limit: int | None, full: bool
    ) -> Iterator[_t.Item]:
        """Items of every page (LastEvaluatedKey loop), stopping after `limit` matches."""
        for _entry, item in self._query_entries(request, limit, read_limit, full):
            yield item

    def _query_entries(
        self, request: dict[str, Any], limit: int | None, read_limit: int | None, full: bool
    ) -> Iterator[tuple[_t.Item, _t.Item]]:
        """The one Query loop: every page (LastEvaluatedKey), stopping after `limit` matches,
        each as (entry, item). The entry (the index entry, or a relationship copy) holds the
        key a merge compares and a cursor resumes from; the item is the match (the main item
        when `full`; see `_full_pairs`)."""
        request = {**request, "TableName": self.table_name}
        if read_limit is not None:
            request["Limit"] = read_limit
        if (limit is not None and limit <= 0) or _empty_range(request):
            return
        count = 0
        while True:
            response: dict[str, Any] = self.dynamodb.query(**request)
            entries: list[_t.Item] = response.get("Items", [])
            for pair in self._full_pairs(entries) if full else [(e, e) for e in entries]:
                yield pair
                count += 1
                if limit is not None and count >= limit:
                    return
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def _page(
        self,
        pattern: str,
        request: dict[str, Any],
        cursor: str | None,
        page_size: int | None,
        full: bool,
    ) -> tuple[list[_t.Item], str | None]:
        request = {**request, "TableName": self.table_name}
        start_key = _start_key(pattern, cursor)
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        if page_size is not None:
            request["Limit"] = page_size
        if _empty_range(request):
            return [], None
        response: dict[str, Any] = self.dynamodb.query(**request)
        items: list[_t.Item] = response.get("Items", [])
        if full:
            items = self._fetch_full(items)
        return items, _cursor(pattern, response.get("LastEvaluatedKey"))

    def _get(self, key: Key, consistent_read: bool) -> _t.Item | None:
        response: dict[str, Any] = self.dynamodb.get_item(
            TableName=self.table_name, Key=key, ConsistentRead=consistent_read
        )
        item: _t.Item | None = response.get("Item")
        return item

    def _fetch_full(self, items: list[_t.Item]) -> list[_t.Item]:
        """Whole items for index entries that project less than ALL (BatchGetItem, in order)."""
        return [item for _entry, item in self._full_pairs(items)]

    def _full_pairs(self, entries: list[_t.Item]) -> list[tuple[_t.Item, _t.Item]]:
        """(entry, main item) for each entry, in order (BatchGetItem); an entry whose main item
        is gone$dropped is left out."""
        keys = [$entry_key for entry in entries]
        found = self._items_by_key(keys, False)
        pairs = [(entry, found.get(_key_text(key))) for entry, key in zip(entries, keys, strict=True)]
        return [(entry, item) for entry, item in pairs if $kept]

    def _items_by_key(self, keys: list[Key], consistent_read: bool) -> dict[str, _t.Item]:
        """The items with these table keys, by `_key_text` (BatchGetItem: 100 distinct keys per
        call, as DynamoDB requires; unprocessed keys retried with backoff)."""
        distinct = list({_key_text(k): k for k in keys}.values())
        found: dict[str, _t.Item] = {}
        for start in range(0, len(distinct), _BATCH_GET):
            chunk = distinct[start : start + _BATCH_GET]
            pending: dict[str, Any] = {
                self.table_name: {"Keys": chunk, "ConsistentRead": consistent_read}
            }
            for attempt in range(_RETRIES + 1):
                response: dict[str, Any] = self.dynamodb.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[_key_text({name: item[name] for name in _TABLE_KEY})] = item
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError("BatchGetItem left keys unprocessed after retries")
        return found

    def _replace(
        self, item: _t.Item, old: Key, names: tuple[str, ...], condition: dict[str, Any]
    ) -> None:
        """Put `item` over an existing item (at the expected version, when `condition` says
        one); when the table key changed, delete `old` and put `item` in one transaction,
        refusing to land on another item's key."""
        new = {name: item[name] for name in names}
        expr = "attribute_exists(#pk)"
        if condition:
            expr += " AND (" + condition["ConditionExpression"] + ")"
        guard: dict[str, Any] = {
            "ConditionExpression": expr,
            "ExpressionAttributeNames": {
                "#pk": names[0],
                **condition.get("ExpressionAttributeNames", {}),
            },
        }
        if condition.get("ExpressionAttributeValues"):
            guard["ExpressionAttributeValues"] = condition["ExpressionAttributeValues"]
        try:
            if new == old:
                self.dynamodb.put_item(TableName=self.table_name, Item=item, **guard)
            else:
                self.dynamodb.transact_write_items(
                    TransactItems=[
                        {"Delete": {"TableName": self.table_name, "Key": old, **guard}},
                        {"Put": {"TableName": self.table_name, "Item": item, **_absent(names[0])}},
                    ]
                )
        except Exception as exc:
            if not _conditional_failed(exc):
                raise
            reasons = [
                str(r.get("Code", "None"))
                for r in (getattr(exc, "response", {}) or {}).get("CancellationReasons", [])
            ]
            if len(reasons) == 2 and reasons[0] == "None":
                raise ItemExists(f"moving to {new!r}: another item has that key") from exc
            if condition and self._get(old, True) is not None:
                raise VersionConflict(f"the item {old!r} has another version") from exc
            raise ItemNotFound(f"no item with key {old!r} in {self.table_name}") from exc
'''


SHARD_PAGE = limits.SHARD_PAGE_ITEMS  # matching items of a sharded page without a page_size
SHARD_WORKERS = 16  # threads querying the shards of one request

SHARDED_RUNTIME = """
_SHARD_PAGE: Final = $page  # items of a sharded page when no page_size is given
_SHARD_WORKERS: Final = $workers  # threads querying the shards of one request


def _shard_request(request: dict[str, Any], shard: int) -> dict[str, Any]:
    \"\"\"`request` on one shard: its partition key value with the shard suffix.\"\"\"
    values = dict(request["ExpressionAttributeValues"])
    values[":pk"] = {"S": values[":pk"]["S"] + _sharding.shard_suffix(shard)}
    return {**request, "ExpressionAttributeValues": values}


def _shard_cursor(pattern: str, states: list[Any]) -> str | None:
    \"\"\"The cursor of a sharded page: per shard, the page cursor after its last returned
    item, None (not started) or False (read to its end); None when every shard is done.\"\"\"
    if all(state is False for state in states):
        return None
    text = json.dumps({"p": pattern, "s": states}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _shard_states(pattern: str, cursor: str | None, shards: int) -> list[Any]:
    \"\"\"Each shard's state from a sharded cursor (a fresh start when `cursor` is None).\"\"\"
    if cursor is None:
        return [None] * shards
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode("utf-8"))
        owner, states = data["p"], data["s"]
        if not isinstance(states, list) or len(states) != shards:
            raise ValueError("shards")
        for state in states:
            if state is not None and state is not False:
                _start_key(pattern, state)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise InvalidCursor(f"not a page cursor of this client: {cursor[:40]!r}") from exc
    if owner != pattern:
        raise InvalidCursor(f"a cursor of pattern {owner!r} cannot page {pattern!r}")
    return states
"""

SHARDED_CLIENT_METHODS = """
def _shard_answers(
    self,
    request: dict[str, Any],
    shards: int,
    limit: int | None,
    read_limit: int | None,
    full: bool,
    starts: list[Any] | None = None,
) -> list[list[tuple[_t.Item, _t.Item]]]:
    \"\"\"Each shard's matches (at most `limit`) as (entry, item), one Query loop per shard in
    parallel threads; `starts`: per shard, the ExclusiveStartKey to resume after, or False
    for a shard read to its end (not queried, no items).\"\"\"
    requests: list[dict[str, Any] | None] = []
    for shard in range(shards):
        start = starts[shard] if starts is not None else None
        if start is False:
            requests.append(None)
            continue
        one = _shard_request(request, shard)
        if start is not None:
            one["ExclusiveStartKey"] = start
        requests.append(one)

    def answer(one: dict[str, Any] | None) -> list[tuple[_t.Item, _t.Item]]:
        return [] if one is None else list(self._query_entries(one, limit, read_limit, full))

    with ThreadPoolExecutor(max_workers=min(shards, _SHARD_WORKERS)) as pool:
        return list(pool.map(answer, requests))

def _query_shards(
    self,
    request: dict[str, Any],
    limit: int | None,
    read_limit: int | None,
    full: bool,
    shards: int,
    sort_key: str | None,
    descending: bool,
) -> Iterator[_t.Item]:
    \"\"\"The matches of a sharded partition: every shard's, merged by the entries'
    `sort_key` in the Query's direction (ties: shard order), cut to `limit`.\"\"\"
    if limit is not None and limit <= 0:
        return
    answers = self._shard_answers(request, shards, limit, read_limit, full)
    order = _sharding.merge([[e for e, _ in got] for got in answers], sort_key, descending)
    if limit is not None:
        order = order[:limit]
    for shard, position in order:
        yield answers[shard][position][1]

def _page_shards(
    self,
    pattern: str,
    request: dict[str, Any],
    cursor: str | None,
    page_size: int | None,
    full: bool,
    size_is_limit: bool,
    shards: int,
    sort_key: str | None,
    descending: bool,
    key_names: tuple[str, ...],
) -> tuple[list[_t.Item], str | None]:
    \"\"\"One merged page of a sharded partition and the cursor for the next: each shard
    resumes after the entry of the last of its items a page returned, so none is lost or
    repeated.\"\"\"
    size = page_size if page_size is not None else _SHARD_PAGE
    if size <= 0:
        raise ValueError(f"page_size must be positive, not {size}")
    states = _shard_states(pattern, cursor, shards)
    live = [shard for shard in range(shards) if states[shard] is not False]
    starts = [
        state if state is None or state is False else _start_key(pattern, state)
        for state in states
    ]
    answers = self._shard_answers(
        request, shards, size, size if size_is_limit else None, full, starts
    )
    order = _sharding.merge([[e for e, _ in got] for got in answers], sort_key, descending)
    order = order[:size]
    taken = [0] * shards
    for shard, _position in order:
        taken[shard] += 1
    for shard in live:
        got = answers[shard]
        if taken[shard] == len(got) and len(got) < size:
            states[shard] = False  # read to its end and all of it returned
        elif taken[shard]:
            last = got[taken[shard] - 1][0]
            states[shard] = _cursor(pattern, {name: last[name] for name in key_names})
    return [answers[shard][position][1] for shard, position in order], _shard_cursor(
        pattern, states
    )
"""


def client_source(layout: ir.Layout, model: ir.Model) -> str:
    names = entity_names(model)
    taken: set[str] = {"dynamodb", "table_name"}
    patterns = [_PatternEmitter(model, layout, plan, names, taken) for plan in layout.plans]
    imports = Imports()
    imports.add("__future__", "annotations")
    imports.add("time")
    imports.add("base64")
    imports.add("binascii")
    imports.add("json")
    imports.add("datetime as _dt")
    listed = any(p.fan is not None and p.fan.listed for p in patterns)
    abc = ("Callable", "Iterable", "Iterator", "Mapping", *(("Sequence",) if listed else ()))
    for name in abc:
        imports.add("collections.abc", name)
    imports.add("typing", "Literal")
    imports.add("dataclasses", "dataclass")
    imports.add("dataclasses", "field")
    imports.add("decimal", "Decimal")
    imports.add("typing", "Any")
    imports.add("typing", "Final")
    imports.add("uuid", "UUID")
    imports.add(".", "transformers as _t")
    imports.add(".", "_keys")
    sharded = any(plan.sharded for plan in layout.plans)
    if sharded:
        imports.add(".", "_sharding")
        imports.add("concurrent.futures", "ThreadPoolExecutor")
    row_types = sorted(n.row_type for n in names.values())
    for r in row_types:
        imports.add(".transformers", r)
    table = next(i for i in layout.indexes if i.kind == "table")
    table_key = (table.pk.name,) + ((table.sk.name,) if table.sk is not None else ())
    result_fields = {e: names[e].snake for p in patterns if p.multi for e in p.plan.entities}
    methods: list[str] = []
    for p in patterns:
        methods.append(p.methods())
    for entity in model.entities:
        methods.append(
            copies_entity_methods(
                layout,
                entity.name,
                _entity_methods(layout, model, entity, names[entity.name], taken),
            )
        )
    chunks = [
        comment_header(model),
        render(
            '''
            """Typed access patterns for model `$model` (table `$table`) over boto3's low-level
            DynamoDB client: one method per access pattern, plus put/update/delete per entity.
            Rows are the TypedDicts of `transformers`; keys are built there too."""
            ''',
            model=model.name,
            table=layout.table_name,
        ),
        imports.render(),
        "__all__ = "
        + literal(
            [
                "Client",
                "EntityName",
                "InvalidCursor",
                "ItemExists",
                "ItemNotFound",
                "NotUnique",
                "Transaction",
                "TransactionFailed",
                "ValidationError",
                "VersionConflict",
                *row_types,
                *sorted(p.result_type for p in patterns if p.multi),
            ]
        ),
        render(CLIENT_RUNTIME),
        *(
            [render(SHARDED_RUNTIME, page=str(SHARD_PAGE), workers=str(SHARD_WORKERS))]
            if sharded
            else []
        ),
        copies_runtime(WRITES_RUNTIME.strip("\n")) if layout.copies else WRITES_RUNTIME.strip("\n"),
        dispatch_tables(model, names),
        f"_TABLE_KEY: Final = {literal(table_key)}",
        "_RESULT_FIELDS: Final[dict[str, str]] = {"
        + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in sorted(result_fields.items()))
        + "}",
        *[p.result_class() for p in patterns if p.multi],
        *([_copies_runtime(layout, model)] if layout.copies else []),
        render(
            copies_class(CLIENT_CLASS) if layout.copies else CLIENT_CLASS,
            table=layout.table_name,
            model=model.name,
            entry_key="_main_key(entry)"
            if layout.copies
            else "{name: entry[name] for name in _TABLE_KEY}",
            dropped=" (or no longer matches the copy it was reached by: `_current`)"
            if layout.copies
            else "",
            kept="item is not None and _current(entry, item)"
            if layout.copies
            else "item is not None",
        )
        + "\n    # ------------------------------------------------------------------ patterns\n\n"
        + indent("\n\n".join(methods), 1)
        + "\n\n"
        + indent(
            copies_methods(WRITES_CLIENT_METHODS.strip("\n"))
            if layout.copies
            else WRITES_CLIENT_METHODS.strip("\n"),
            1,
        )
        + ("\n\n" + indent(SHARDED_CLIENT_METHODS.strip("\n"), 1) if sharded else ""),
    ]
    return "\n\n".join(chunks) + "\n"


def _copies_runtime(layout: ir.Layout, model: ir.Model) -> str:
    """`_main_key`: the table key of the item an entry stands for; a relationship copy
    (`strategy: lowest_cost`, by its type value) holds its main item's key under `ref` names.
    `_current` compares what the copy was selected by: its key slots and the attributes it
    holds for filters (everything it holds but the version)."""
    refs = {c.type_value: c.ref for c in layout.copies}
    slots: dict[str, tuple[str, ...]] = {}
    for c in layout.copies:
        entity = model.entity(c.entity)
        version = entity.version if entity is not None else None
        held = {*key_codec.parse_template(c.pk).slots, *key_codec.parse_template(c.sk).slots}
        slots[c.type_value] = tuple(sorted((held | set(c.slots)) - {version}))
    return render(
        '''
        _COPY_REF: Final[dict[str, tuple[tuple[str, str], ...]]] = $refs
        _COPY_SLOTS: Final[dict[str, tuple[str, ...]]] = $slots


        def _main_key(item: _t.Item) -> Key:
            """The table key of the main item `item` stands for (a copy holds it)."""
            ref = _COPY_REF.get(_type_of(item) or "")
            if ref is None:
                return {name: item[name] for name in _TABLE_KEY}
            return {name: item[held] for name, held in ref}


        def _current(entry: _t.Item, item: _t.Item) -> bool:
            """Whether the main item still matches the copy it was reached by (a copy left at
            an old key, or a write in between, is not returned under the wrong key)."""
            slots = _COPY_SLOTS.get(_type_of(entry) or "", ())
            return all(entry.get(name) == item.get(name) for name in slots)
        ''',
        refs="{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in sorted(refs.items())) + "}",
        slots="{"
        + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in sorted(slots.items()))
        + "}",
    )


@dataclass(frozen=True)
class PatternMethod:
    """How the generated `Client` is called for one access pattern."""

    pattern: str
    method: str  # every match (a list, a row or None, a Result), or the GetItem read
    iter_method: str | None  # streams rows, or (entity, row) pairs for a collection; None: GetItem
    args: dict[str, str]  # bind parameter -> keyword argument
    multi: bool  # an item-collection read (several entities)


def pattern_methods(layout: ir.Layout, model: ir.Model) -> dict[str, PatternMethod]:
    """Per pattern, the generated client's method names and arguments (named as
    `client_source` names them: same emitters, same order)."""
    names = entity_names(model)
    taken: set[str] = {"dynamodb", "table_name"}
    out: dict[str, PatternMethod] = {}
    for plan in layout.plans:
        p = _PatternEmitter(model, layout, plan, names, taken)
        out[plan.pattern] = PatternMethod(
            plan.pattern,
            p.fn,
            None if plan.operation == "GetItem" else p.iter_fn,
            dict(p.params.names),
            p.multi,
        )
    return out


@register("client")
def emit_client(layout: ir.Layout, model: ir.Model) -> FileManifest:
    """`client.py`, ruff-formatted (needs the `transformers` emitter's files beside it)."""
    return {"client.py": format_python(client_source(layout, model))}
