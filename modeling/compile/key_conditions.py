"""Check: every plan's key condition is one DynamoDB accepts.

DynamoDB rejects a Query or GetItem (ValidationException) whose key value is empty, whose key
value does not have the key attribute's type, or that uses `begins_with` on a number sort key.
A plan that would be rejected is not exact, whatever its proof says: it is an error here,
located at the pattern. The parts a key value sends are `modeling.core.key_parts.key_parts`,
the same rule `modeling.requests` builds requests with.

The planner avoids the one shape that used to reach DynamoDB (a pinned sort key that starts
with a slot, read with only the partition key bound: `begins_with(SK, "")`) by planning a
partition-only Query (`modeling.compile.plans`); what stands out here are conditions that no
plan can make valid, such as a fixed `''` compared with a key that is only that slot.
"""

from __future__ import annotations

from collections.abc import Iterator

from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Severity
from modeling.core.key_parts import KeyParts, always_empty, key_parts
from modeling.runtime import keys

# The slot kinds a number or binary key attribute can hold (one bare slot, stored as is).
SCALAR_KINDS: dict[str, tuple[str, ...]] = {
    "N": ("integer", "decimal", "float"),
    "B": ("binary",),
}


_EMPTY_HINTS = {
    "begins_with prefix": "drop the begins_with: a partition-only Query reads the same items; "
    "or pin a sort key that starts with literal text",
    "after": "an upper bound past every key of the entity does not exist without literal text "
    "before the range slot: drop the upper bound (`>=` alone), or pin a sort key that starts "
    "with literal text",
    "sort-key value": "no item has an empty key value, so the condition matches nothing: "
    "compare with a non-empty value, or pin a key that starts with literal text",
}
_EMPTY_HINTS["partition-key value"] = _EMPTY_HINTS["sort-key value"]


def _show(shape: KeyParts) -> str:
    text = "".join(
        p.text if isinstance(p, keys.Text) else "{" + p.attribute + "}" for p in shape.parts
    )
    return f"after({text!r})" if shape.after else repr(text)


def _problem(kv: ir.KeyValue, key_type: str, what: str) -> tuple[str, str] | None:
    """(why DynamoDB rejects the key value, hint), or None when it is valid."""
    try:
        shape = key_parts(kv)
    except ValueError as exc:  # a malformed template or render mode: no request at all
        return f"the {what} {kv.template!r} cannot be rendered: {exc}", "fix the key template"
    if key_type in SCALAR_KINDS:
        kinds = SCALAR_KINDS[key_type]
        binding = {b.slot: b for b in kv.bindings}
        slot = shape.parts[0] if len(shape.parts) == 1 else None
        if (
            shape.after
            or not isinstance(slot, keys.Slot)
            or slot.attribute not in binding
            or binding[slot.attribute].type not in kinds
        ):
            return (
                f"the {what} is {_show(shape)} ({kv.mode}), but the key attribute has type "
                f"{key_type}: a {key_type} key value is one {' or '.join(kinds)} slot, bound",
                f"key the index on one {kinds[0]} attribute, or make the key attribute a string",
            )
        return None
    if always_empty(kv, shape):
        fixed = ", ".join(
            f"{{{b.slot}}} = {b.literal!r}" for b in kv.bindings if b.literal is not None
        )
        return (
            f"the {what} is always empty ({kv.template!r} rendered {kv.mode}"
            + (f", with {fixed}" if fixed else "")
            + "); DynamoDB rejects an empty key value",
            _EMPTY_HINTS["after" if shape.after else what],
        )
    return None


def check_key_conditions(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """No plan sends a key condition DynamoDB rejects (see the module docstring)."""
    for plan in layout.plans:
        index = layout.index(plan.index)
        pattern = model.pattern(plan.pattern)
        if index is None or index.on_attributes:
            continue  # an attribute-keyed index: attribute_keys.check_attribute_key_conditions
        span = pattern.span if pattern else None
        sk = plan.sk
        entries: list[tuple[str, str, ir.KeyValue]] = [
            ("partition-key value", index.pk.type, plan.pk)
        ]
        problems: list[tuple[str, str]] = []
        if sk.kind != "none":
            if index.sk is None:
                problems.append(
                    (
                        f"a sort-key condition ({sk.kind}) on {index.name}, which has no sort key",
                        "drop the sort-key condition",
                    )
                )
            else:
                name = "begins_with prefix" if sk.kind == "begins_with" else "sort-key value"
                entries += [(name, index.sk.type, v) for v in sk.values]
                if sk.kind == "begins_with" and index.sk.type == "N":
                    problems.append(
                        (
                            f"begins_with on {index.sk.name}, a number (N) sort key; "
                            "begins_with applies to strings and binary only",
                            "use a range (BETWEEN) on the number",
                        )
                    )
        for what, key_type, kv in entries:
            found = _problem(kv, key_type, what)
            if found is not None:
                problems.append(found)
        for why, hint in problems:
            yield Diagnostic(
                "invalid-key-condition",
                Severity.ERROR,
                f"pattern {plan.pattern!r}: DynamoDB would reject its {plan.operation} on "
                f"{index.name}: {why}",
                span,
                hint,
                plan.pattern,
            )
